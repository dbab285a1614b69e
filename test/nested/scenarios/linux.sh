# linux.sh - issue 6: boot the Debian kernel the L1 runs as an L2 under
# kvmini (bzImage, initramfs from test/nested/linux-l2.sh) and let Linux
# judge kvmini's machine: ACPI, ECAM, PCI, virtio-net, edu, power-off.
# l1: --timeout 1200 --file build/nested/linux-l2/vmlinuz:/l2/vmlinuz --file build/nested/linux-l2/initrd.cpio:/l2/initrd.cpio
#
# The L2 files are made on the host by test/nested/linux-l2.sh before the
# L1 boots.  Nested Linux under TCG is slow: each boot gets 300 s.

K="--kernel /l2/vmlinuz --initrd /l2/initrd.cpio"
HB=1b36:0008:060000
L2CMD="console=ttyS0 panic=-1 loglevel=4"

# A wrapper that notes (on L1's clock) when the first line of L2's init
# appears, and keeps kvmini's exit status.
cat >/tmp/l2run <<'EOS'
#!/bin/sh
. /lib/kvmini/lib.sh
t0=$(uptime_ms)
rm -f /tmp/l2rc
{ "$@"; echo $? >/tmp/l2rc; } 2>&1 | while IFS= read -r l; do
	echo "$l"
	case $l in
	*"kvmini-l2: init started"*)
		echo "l2-timing: first init line $(($(uptime_ms) - t0)) ms after kvmini started"
		echo "$(($(uptime_ms) - t0))" >/tmp/l2ms ;;
	esac
done
exit "$(cat /tmp/l2rc)"
EOS
chmod +x /tmp/l2run

if [ ! -r /l2/vmlinuz ]; then
	note "no /l2/vmlinuz: run test/nested/linux-l2.sh on the host first"
fi

# The machine with nothing but the host bridge: Linux boots to init, finds
# ACPI and ECAM, and powers off through ACPI S5 (status 0).
case_run linux-boot checks timeout=300 'match=kvmini: guest powered off' \
	-- /tmp/l2run kvmini $K --net none --stats --cmdline "$L2CMD l2.ids=$HB"
[ -r /tmp/l2ms ] && bench linux-boot-to-init "$(cat /tmp/l2ms)" ms
