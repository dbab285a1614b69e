#!/bin/bash
# linux-l2.sh - prepare the L2 Linux guest for the nested "linux" scenarios:
# the same Debian kernel the L1 runs (a bzImage) and a busybox initramfs
# whose /init checks kvmini's machine from inside Linux.
#
#   test/nested/linux-l2.sh [OUTDIR]     (default: $BUILD/nested/linux-l2)
#
# Writes OUTDIR/vmlinuz, OUTDIR/vmlinux (the same kernel uncompressed, for
# the PVH path) and OUTDIR/initrd.cpio; the scenarios' "# l1:" lines put
# them into the L1 initramfs with --file.  Takes under a second once
# the kernel is cached (test/nested/kernel.sh).
#
# The L2 /init speaks kvmini's report format ("kvmini: check N passed: X",
# "kvmini: guest done, status S") so lib.sh's `checks` expectation turns
# its findings into TAP lines, exactly as for the embedded guest.  What it
# checks is chosen on the kernel command line:
#   l2.ids=VVVV:DDDD:CCCCCC,...  the PCI functions expected, exactly
#   l2.mac=02:..                 virtio-net: bind, MAC, link up, ping
#   l2.ping=ADDR                 the address to ping (the L1 tap)
#   l2.mac2=02:.. l2.ping2=ADDR  a second virtio-net (another --net): bind,
#                                MAC, 169.254.101.2/24, ping ADDR through it
#   l2.edu=N                     read the BAR0 ID register of every edu via
#                                devmem; there must be N of them
#   l2.rxbytes=N                 virtio-net receive-heavy run: listen on TCP
#                                port 5001 for N bytes (L1 sends them through
#                                the tap in large GSO frames); a transfer that
#                                makes no progress for 20 s is a stall
#   l2.cpus=N                    N CPUs online; with l2.mac, virtio-net's
#                                MSI-X vectors moved onto CPUs N-1, N-2, ...
#                                and the ping's rx interrupts taken on the
#                                CPU input.0 was moved to, and nowhere else
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
out=${1:-$build/nested/linux-l2}

kdir=$("$here/kernel.sh")
kver=$(ls "$kdir/lib/modules")
moddir=$kdir/lib/modules/$kver

rd=$out/root
rm -rf "$rd"
mkdir -p "$rd"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$rd/bin/busybox"
ln -s busybox "$rd/bin/sh" # for rdinit=/bin/sh (the console input case)
cp "$kdir/boot/vmlinuz-$kver" "$out/vmlinuz"

# virtio-pci and virtio-net with their dependencies, in load order.
order=()
declare -A placed=()
place() {
	local rel=$1 dep
	[ -z "${placed[$rel]:-}" ] || return 0
	placed[$rel]=1
	for dep in $(grep -m1 "^$rel:" "$moddir/modules.dep" | cut -d: -f2); do
		place "$dep"
	done
	case $rel in
	*.xz) xz -dc "$moddir/$rel" ;;
	*.zst) zstd -qdc "$moddir/$rel" ;;
	*) cat "$moddir/$rel" ;;
	esac >"$rd/lib/modules/$(basename "${rel%.xz}" .zst)"
	order+=("$(basename "${rel%.xz}" .zst)")
}
for m in virtio_pci virtio_net; do
	place "$(grep -m1 -E "/$m\.ko(\.(xz|zst))?:" "$moddir/modules.dep" | cut -d: -f1)"
done
printf '%s\n' "${order[@]}" >"$rd/lib/modules/order"

cat >"$rd/init" <<'EOF'
#!/bin/busybox sh
# L2 /init (built by test/nested/linux-l2.sh): check kvmini's machine as
# Linux sees it, report in kvmini's check format, power off through ACPI.
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/null >/dev/console 2>&1
echo "kvmini-l2: init started, L2 uptime $(cut -d' ' -f1 /proc/uptime) s"
echo "kvmini-l2: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource), date $(date -u '+%Y-%m-%d %H:%M')"

# l2.reboot=1: reboot at once (kvmini must exit with EXIT_REBOOT, 10).
if grep -q 'l2.reboot=1' /proc/cmdline; then
	echo "kvmini-l2: rebooting"
	reboot -f
fi

n=0 fails=0
check() { # check DESCRIPTION CMD...
	n=$((n + 1))
	if "$@" >/tmp/out 2>&1; then
		echo "kvmini: check $n passed: $desc"
	else
		echo "kvmini: check $n FAILED: $desc"
		sed 's/^/kvmini-l2:   /' /tmp/out | head -n 20
		fails=$((fails + 1))
	fi
}
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | head -n1; }

# --- PCI: exactly the functions expected, with the right IDs and class.
ids=$(arg l2.ids)
pci_list() {
	for d in /sys/bus/pci/devices/*; do
		[ -e "$d/vendor" ] || continue
		v=$(cat "$d/vendor") dv=$(cat "$d/device") c=$(cat "$d/class")
		echo "${v#0x}:${dv#0x}:${c#0x}"
	done | sort
}
pci_expect() {
	want=$(echo "$ids" | tr ',' '\n' | sort)
	got=$(pci_list)
	echo "expected: $(echo $want)"
	echo "found:    $(echo $got)"
	[ "$want" = "$got" ]
}
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/vendor" ] && echo "kvmini-l2: pci ${d##*/} $(cat $d/vendor):$(cat $d/device) class $(cat $d/class)"
done
[ -z "$ids" ] || desc="PCI functions are exactly $ids" check pci_expect

# --- CPUs: every one the MADT lists brought up by Linux (INIT-SIPI-SIPI).
cpus=$(arg l2.cpus)
if [ "${cpus:-1}" -gt 1 ]; then
	online() {
		echo "online: $(cat /sys/devices/system/cpu/online), present: $(cat /sys/devices/system/cpu/present)"
		[ "$(cat /sys/devices/system/cpu/online)" = "0-$((cpus - 1))" ]
	}
	desc="$cpus CPUs online (/sys/devices/system/cpu/online reads 0-$((cpus - 1)))" check online
fi

# --- dmesg: ECAM from MCFG, ACPI host bridge, no BAR or PCI trouble.
dmesg >/tmp/dmesg
desc="MMCONFIG window from MCFG at 0xe0000000 for bus 00" \
	check grep -E "MMCONFIG for .*bus 00-00.* at \[mem 0xe0000000-0xe00fffff\]" /tmp/dmesg
desc="the PCI root bridge came from ACPI (PNP0A08)" check grep -E "ACPI: PCI Root Bridge \[PCI0\]" /tmp/dmesg
nopci() { ! grep -iE "BAR [0-9]+.*(conflict|failed|no space)|can't claim|address conflict|pci.*(error|fail)|MMCONFIG.*not reserved" /tmp/dmesg; }
desc="no BAR conflicts or PCI errors in dmesg" check nopci

# --- virtio-net: driver, MAC, link, ping.
mac=$(arg l2.mac)
if [ -n "$mac" ]; then
	while read -r m; do insmod "/lib/modules/$m" || echo "kvmini-l2: insmod $m failed"; done </lib/modules/order
	vnet_bound() {
		for d in /sys/bus/pci/devices/*; do
			[ "$(cat $d/vendor)" = 0x1af4 ] || continue
			ls -l "$d/driver"
			[ "$(basename "$(readlink "$d/driver")")" = virtio-pci ] && return 0
		done
		return 1
	}
	desc="virtio-pci driver bound to the virtio-net function" check vnet_bound
	ifc=
	for i in 1 2 3 4 5 6 7 8 9 10; do
		for f in /sys/class/net/*; do
			[ "$(cat $f/address 2>/dev/null)" = "$mac" ] && ifc=${f##*/}
		done
		[ -n "$ifc" ] && break
		sleep 1
	done
	has_mac() { ls /sys/class/net; cat /sys/class/net/*/address; [ -n "$ifc" ]; }
	desc="a network interface has kvmini's MAC $mac" check has_mac
	up() {
		ip link set "$ifc" up && ip addr add 169.254.100.2/24 dev "$ifc" || return 1
		for i in 1 2 3 4 5; do
			grep -q 1 "/sys/class/net/$ifc/carrier" 2>/dev/null && return 0
			sleep 1
		done
		return 1
	}
	desc="interface $ifc up with carrier" check up

	# l2.cpus: virtio-net's MSI-X vectors (config, input.0, output.0), one
	# per CPU from the last down.  Linux rewrites each MSI-X entry's
	# destination, and kvmini must deliver there.  Linux moves an MSI when
	# it next fires, so one ping first lets the moves happen; then each
	# vector's effective CPU must be the one asked for, and the ping check
	# below shows where input.0 is taken.
	irq_of() { awk -v n="$1" '$NF ~ n { sub(":", "", $1); print $1; exit }' /proc/interrupts; }
	if [ "${cpus:-1}" -gt 1 ]; then
		moved=
		c=$((cpus - 1))
		for irq in $(awk '$NF ~ /^virtio[0-9]+-(config|input|output)/ { sub(":", "", $1); print $1 }' /proc/interrupts); do
			echo $c >/proc/irq/$irq/smp_affinity_list && moved="$moved $irq:$c"
			c=$((c > 1 ? c - 1 : cpus - 1))
		done
		ping -c 1 -W 3 "$(arg l2.ping)" >/dev/null 2>&1
		spread() {
			local m irq cpu eff count=0 bad=0
			for m in $moved; do
				irq=${m%:*} cpu=${m#*:}
				eff=$(cat /proc/irq/$irq/effective_affinity_list)
				echo "irq $irq ($(awk -v i="$irq:" '$1 == i { print $NF }' /proc/interrupts)): asked CPU $cpu, effective $eff"
				[ "$eff" = "$cpu" ] || bad=1
				count=$((count + 1))
			done
			[ $count -ge 3 ] && [ $bad = 0 ]
		}
		desc="virtio-net's MSI-X vectors spread over CPUs $((cpus - 1)) and down (smp_affinity_list)" check spread
		cat /proc/interrupts >/tmp/irq0
	fi
	peer=$(arg l2.ping)
	desc="ping $peer (the L1 tap) through virtio-net" check ping -c 3 -W 3 "$peer"
	if [ "${cpus:-1}" -gt 1 ]; then
		irq=$(irq_of 'input\\.0$')
		want=$(cat /proc/irq/$irq/effective_affinity_list 2>/dev/null)
		taken_there() {
			local a b
			b=$(awk -v i="$irq:" '$1 == i' /tmp/irq0)
			a=$(awk -v i="$irq:" '$1 == i' /proc/interrupts)
			echo "before: $b"
			echo "after:  $a"
			[ -n "$irq" ] && [ -n "$a" ] || return 1
			# Fields 2 .. cpus+1 are the counts on CPUs 0 .. cpus-1.
			echo "$b
$a" | awk -v want="$want" -v n="$cpus" '
				NR == 1 { for (k = 0; k < n; k++) b[k] = $(k + 2) }
				NR == 2 { for (k = 0; k < n; k++) {
					d = $(k + 2) - b[k]
					if ((k == want && d <= 0) || (k != want && d != 0)) bad = 1 }
				}
				END { exit bad }'
		}
		desc="the ping's rx interrupts (input.0, irq $irq) were taken on CPU $want only" check taken_there
	fi

	# A second --net (issue 21): its own function, MAC, link and tap.
	mac2=$(arg l2.mac2)
	if [ -n "$mac2" ]; then
		ifc2=
		for i in 1 2 3 4 5 6 7 8 9 10; do
			for f in /sys/class/net/*; do
				[ "$(cat $f/address 2>/dev/null)" = "$mac2" ] && ifc2=${f##*/}
			done
			[ -n "$ifc2" ] && break
			sleep 1
		done
		vnets() {
			n=0
			for d in /sys/bus/pci/devices/*; do
				[ "$(cat $d/vendor):$(cat $d/device)" = 0x1af4:0x1041 ] || continue
				[ "$(basename "$(readlink "$d/driver")")" = virtio-pci ] && n=$((n + 1))
			done
			echo "$n virtio-net functions bound to virtio-pci"
			[ $n = 2 ]
		}
		desc="two virtio-net functions, both bound to virtio-pci" check vnets
		has_mac2() { ls /sys/class/net; [ -n "$ifc2" ] && [ "$ifc2" != "$ifc" ]; }
		desc="a second interface has the second MAC $mac2" check has_mac2
		up2() {
			ip link set "$ifc2" up && ip addr add 169.254.101.2/24 dev "$ifc2" || return 1
			for i in 1 2 3 4 5; do
				grep -q 1 "/sys/class/net/$ifc2/carrier" 2>/dev/null && return 0
				sleep 1
			done
			return 1
		}
		desc="interface $ifc2 up with carrier" check up2
		peer2=$(arg l2.ping2)
		desc="ping $peer2 (the second L1 tap) through the second virtio-net" \
			check ping -c 3 -W 3 -I "$ifc2" "$peer2"
	fi

	# Receive-heavy: many large frames into a (small) ring, the case where
	# a frame waits for rx buffers and the driver's refill must wake it.
	rxbytes=$(arg l2.rxbytes)
	if [ -n "$rxbytes" ]; then
		feat=$(cat /sys/bus/virtio/devices/virtio*/features 2>/dev/null | head -n1)
		bit() { [ "$(echo "$feat" | cut -c$(($1 + 1)))" = 1 ]; }
		offloads() { echo "virtio features $feat"; bit 7 && bit 15 && bit 29; }
		desc="virtio-net negotiated GUEST_TSO4, MRG_RXBUF and EVENT_IDX" check offloads
		rxheavy() {
			st=/sys/class/net/$ifc/statistics
			p0=$(cat $st/rx_packets) b0=$(cat $st/rx_bytes)
			: >/tmp/rx
			# busybox nc shuts its sending side at EOF on stdin, and the
			# sender's nc then stops: give ours a stdin that stays open
			# and silent (a fifo held by a sleeping writer).
			mkfifo /tmp/quiet
			sleep 600 >/tmp/quiet &
			quiet=$!
			nc -l -p 5001 </tmp/quiet >/tmp/rx &
			ncpid=$!
			echo "kvmini-l2: rx-heavy: listening on port 5001 for $rxbytes bytes" >/dev/console
			t=0 last=0 idle=0 got=0
			# 60 s for the sender to connect, then 20 s without progress is a stall.
			while [ $t -lt 180 ]; do
				got=$(wc -c </tmp/rx)
				[ "$got" -ge "$rxbytes" ] && break
				if [ "$got" -gt "$last" ]; then idle=0; else idle=$((idle + 1)); fi
				last=$got
				[ "$got" -gt 0 ] && [ $idle -ge 20 ] && break
				[ "$got" = 0 ] && [ $t -ge 60 ] && break
				sleep 1
				t=$((t + 1))
			done
			kill $ncpid $quiet 2>/dev/null
			pk=$(($(cat $st/rx_packets) - p0)) by=$(($(cat $st/rx_bytes) - b0))
			echo "kvmini-l2: rx-heavy: $got of $rxbytes bytes in about $t s; $ifc took $pk frames, $by bytes ($((by / (pk > 0 ? pk : 1))) bytes a frame)" >/dev/console
			if [ "$got" -lt "$rxbytes" ]; then
				echo "stalled at $got of $rxbytes bytes (no progress for $idle s)"
				grep -E "^ *$ifc:" /proc/net/dev
				grep -E "^Tcp:" /proc/net/snmp
				dmesg | tail -n 8
				return 1
			fi
			# Large frames arrived (GSO through the tap), not 1500-byte ones.
			[ $((pk * 1514)) -lt "$by" ] || { echo "$pk frames for $by bytes: no frame above 1514 bytes on average"; return 1; }
		}
		desc="receive-heavy TCP run ($rxbytes bytes in large frames) completes without stalling" check rxheavy
	fi
fi

# --- edu: BAR0's ID register through the resource, read the way a simple
# kernel would: no driver, nobody writes "enable".  It answers because
# kvmini assigned the BAR and turned memory decoding on before Linux
# started (the firmware-like start, docs/pci.md); Linux keeps that
# assignment since it lies inside the host bridge's _CRS windows.
want_edu=$(arg l2.edu)
if [ -n "$want_edu" ]; then
	edu_id() {
		n=0 good=0
		for d in /sys/bus/pci/devices/*; do
			[ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] || continue
			bar=$(head -n1 "$d/resource" | cut -d' ' -f1)
			v=$(devmem "$bar" 32)
			echo "edu ${d##*/} BAR0 at $bar reads $v (enable: $(cat $d/enable))"
			n=$((n + 1))
			[ "$(printf '0x%08x' "$v")" = 0x010000ed ] && good=$((good + 1))
		done
		[ $n = 0 ] && echo "no edu function"
		[ $n = "$want_edu" ] && [ $good = $n ]
	}
	if [ "$want_edu" = 1 ]; then
		desc="edu BAR0 ID register reads 0x010000ed, the device never enabled" check edu_id
	else
		desc="$want_edu edu functions, each BAR0 ID register reads 0x010000ed" check edu_id
	fi
fi

if grep -q 'l2.dmesg=1' /proc/cmdline; then
	dmesg | sed 's/^/kvmini-l2: dmesg /'
fi
echo "kvmini: guest done, status $([ $fails = 0 ] && echo 0 || echo 1)"
echo "kvmini-l2: powering off"
poweroff -f
EOF
chmod +x "$rd/init"

# The same kernel as an uncompressed ELF vmlinux (it carries the PVH entry
# note, CONFIG_PVH=y), for the PVH path: the decompressor's payload,
# found by its magic, as extract-vmlinux does.
vmlinux_from() {
	local off
	off=$(perl -0777 -e 'local $/; open(my $f, "<", $ARGV[0]) or exit 1; my $d = <$f>;
		print index($d, pack("H*", $ARGV[1]));' "$1" "$2")
	[ "$off" -ge 0 ] 2>/dev/null || return 1
	tail -c +$((off + 1)) "$1" | $3 2>/dev/null >"$out/vmlinux.tmp" || true
	[ "$(head -c 4 "$out/vmlinux.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]
}
if vmlinux_from "$out/vmlinuz" fd377a585a00 "xz -dc --single-stream" ||
	vmlinux_from "$out/vmlinuz" 28b52ffd "zstd -dcq" ||
	vmlinux_from "$out/vmlinuz" 1f8b0800 "gzip -dc"; then
	mv "$out/vmlinux.tmp" "$out/vmlinux"
else
	rm -f "$out/vmlinux.tmp"
	echo "# linux-l2: could not extract vmlinux from the bzImage (PVH case will skip)" >&2
	: >"$out/vmlinux"
fi
(cd "$rd" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out/initrd.cpio"
echo "# linux-l2: $kver, initramfs $(($(stat -c %s "$out/initrd.cpio") / 1024)) KiB in $out" >&2
