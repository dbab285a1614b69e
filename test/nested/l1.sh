#!/bin/bash
# l1.sh - boot the nested L1 once and run one scenario in it.
#
#   test/nested/l1.sh SCENARIO LOGFILE [options]
#
# SCENARIO is a shell script run inside L1 by test/nested/init after
# test/nested/lib.sh (see there for case_run, check, note, bench).  The
# whole L1 console goes to LOGFILE; test/nested/tap.awk turns it into TAP.
# Exit status: QEMU's (0 after the L1 powers itself off), 124 on timeout.
#
# Options (a scenario may also carry them in a line "# l1: OPTIONS", where
# @BUILD@ stands for the build directory; a line "# l1-prep: COMMAND" runs
# COMMAND on the host from the repo root first):
#   --no-iommu        no intel-iommu: every vfio bind fails (error tests)
#   --kernel K        debian (default): Debian's kernel with modules (no
#                     IOMMUFD); iommufd: the kernel test/nested/kernel-iommufd.sh
#                     builds once (IOMMUFD, VFIO cdev; everything built in)
#   --timeout S       bound the whole QEMU run (default 300 s, TCG is slow)
#   --mem SIZE        L1 memory (default 1G)
#   --stream          also copy the console to stdout as it comes
#   --interactive     the console's input is this terminal (make shell): no
#                     timeout, QEMU's stdin left alone (Ctrl-A x quits QEMU)
#   --dmesg           append the full kernel log to the console at the end
#   --file SRC:DEST   put another file into the initramfs (repeatable)
#   --tree DIR        copy DIR's contents into the initramfs root (repeatable)
#   --bridge-dev      add a PCIe-to-PCI bridge with two edus behind it
#                     (slots 1 and 2 of its bus): with the bridge, one
#                     IOMMU group of three (issue 21: bridges in a group)
#   --vnet-dev        add QEMU's modern virtio-net (1af4:1041, MSI-X) behind
#                     the IOMMU (iommu_platform=on), its wire a unix dgram
#                     socket sending to itself (nothing leaves the machine);
#                     init binds it to vfio-pci ($VNET_BDF, see init)
#
# Environment: L1_ACCEL=tcg|kvm (default: kvm when /dev/kvm is usable and
# the CPU shows vmx or svm, else tcg),
# KVMINI (default build/kvmini), L1_MODULES (extra modules to load),
# BENCH_* (passed on to the scenario: a benchmark's round and run counts),
# KVMINI_CACHE (kernel cache, default /var/cache/kvmini), BUILD (build).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac

usage() {
	sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
}
[ $# -ge 2 ] || usage
scenario=$1
logfile=$2
shift 2
[ -r "$scenario" ] || { echo "l1.sh: cannot read scenario $scenario" >&2; exit 2; }

iommu=1 timeout_s=300 mem=1G stream=0 dmesg=0 vnet_dev=0 bridge_dev=0 interactive=0 kernel=debian
files=()
trees=()
# Options from the scenario's "# l1:" line come first; the command line wins.
# @BUILD@ in that line stands for the build directory.
read -ra sc_opts <<<"$(sed -n 's/^# l1: *//p' "$scenario" | head -n1 | sed "s|@BUILD@|$build|g")"
set -- "${sc_opts[@]}" "$@"
while [ $# -gt 0 ]; do
	case $1 in
	--no-iommu) iommu=0 ;;
	--timeout) timeout_s=$2; shift ;;
	--mem) mem=$2; shift ;;
	--stream) stream=1 ;;
	--interactive) interactive=1 stream=1 ;;
	--dmesg) dmesg=1 ;;
	--file) files+=("$2"); shift ;;
	--tree) trees+=("$2"); shift ;;
	--vnet-dev) vnet_dev=1 ;;
	--bridge-dev) bridge_dev=1 ;;
	--kernel) kernel=$2; shift ;;
	*) echo "l1.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

log() { echo "# l1: $*" >&2; }

# A scenario's "# l1-prep: COMMAND" runs on the host, from the repo root,
# before the initramfs is built: it makes the files its --file options name
# (the Linux scenarios build their L2 kernel and initramfs this way).
prep=$(sed -n 's/^# l1-prep: *//p' "$scenario" | head -n1)
if [ -n "$prep" ]; then
	t0=$(date +%s)
	(cd "$root" && BUILD="$build" $prep) >&2 || {
		echo "l1.sh: scenario preparation failed: $prep" >&2
		exit 3
	}
	log "prep: $prep ($(($(date +%s) - t0)) s)"
fi
name=$(basename "$scenario" .sh)
work=$build/nested/$name
mkdir -p "$work" "$(dirname "$logfile")"

# --- the kernel (cached outside the repo) -------------------------------
t0=$(date +%s)
case $kernel in
debian)
	kdir=$("$here/kernel.sh")
	kver=$(ls "$kdir/lib/modules")
	vmlinuz=$kdir/boot/vmlinuz-$kver
	moddir=$kdir/lib/modules/$kver
	;;
iommufd)
	# Everything built in: no modules to pack (moddir stays empty).
	kdir=$("$here/kernel-iommufd.sh")
	kver="$(cat "$kdir/source") (IOMMUFD, $(basename "$kdir"))"
	vmlinuz=$kdir/bzImage
	moddir=
	;;
*) echo "l1.sh: --kernel $kernel: use debian or iommufd" >&2; exit 2 ;;
esac
log "kernel $kver ($(($(date +%s) - t0)) s)"

# --- the initramfs ------------------------------------------------------
# Rebuilt every boot (under a second): kvmini and the scenario change.
t0=$(date +%s)
rd=$work/root
rm -rf "$rd"
mkdir -p "$rd"/{bin,dev,etc,proc,sys,tmp,lib/modules,lib/kvmini}
cp /bin/busybox "$rd/bin/busybox"
ln -s busybox "$rd/bin/sh"
cp "$here/init" "$rd/init"
cp "$here/lib.sh" "$rd/lib/kvmini/lib.sh"
cp "$scenario" "$rd/scenario.sh"
# Every scenario too, so that one can source another's cases
# (/lib/kvmini/scenarios/NAME.sh).
mkdir -p "$rd/lib/kvmini/scenarios"
cp "$here"/scenarios/*.sh "$rd/lib/kvmini/scenarios/"
chmod +x "$rd/init"

kvmini=${KVMINI:-$build/kvmini}
if [ -x "$kvmini" ]; then
	cp "$kvmini" "$rd/bin/kvmini"
else
	log "warning: no $kvmini (run make first): scenarios will fail"
fi
for t in "${trees[@]}"; do
	cp -a "$t/." "$rd/"
done
for f in "${files[@]}"; do
	dest=$rd/${f#*:}
	mkdir -p "$(dirname "$dest")"
	cp "${f%%:*}" "$dest"
done

# Modules and everything they need, dependencies first, from modules.dep.
# kvm-amd needs ccp, kvm needs irqbypass; vfio_virqfd is still separate in 6.1.
modules=(irqbypass kvm kvm-amd kvm-intel vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core
	vfio-pci tun ${L1_MODULES:-})
declare -A placed=()
order=()
modpath() { # name -> path relative to moddir; '-' and '_' are the same
	local n=${1//[-_]/[-_]}
	grep -m1 -E "(^|/)${n}\.ko(\.(xz|zst|gz))?:" "$moddir/modules.dep" | cut -d: -f1 || true
}
place() { # relpath: place its dependencies, then itself
	local rel=$1 dep base
	[ -z "${placed[$rel]:-}" ] || return 0
	placed[$rel]=1
	for dep in $(grep -m1 "^$rel:" "$moddir/modules.dep" | cut -d: -f2); do
		place "$dep"
	done
	base=$(basename "$rel")
	base=${base%.xz}
	base=${base%.zst}
	base=${base%.gz}
	case $rel in
	*.xz) xz -dc "$moddir/$rel" ;;
	*.zst) zstd -qdc "$moddir/$rel" ;;
	*.gz) gzip -dc "$moddir/$rel" ;;
	*) cat "$moddir/$rel" ;;
	esac >"$rd/lib/modules/$base"
	order+=("${base%.ko}")
}
[ -n "$moddir" ] || modules=()
for m in "${modules[@]}"; do
	rel=$(modpath "$m")
	if [ -z "$rel" ]; then
		# Built into this kernel, or not there at all.
		grep -qE "/${m//[-_]/[-_]}\.ko$" "$moddir/modules.builtin" ||
			log "warning: module $m not found in $kver"
		continue
	fi
	place "$rel"
done
printf '%s\n' "${order[@]}" | sed '/^$/d' >"$rd/lib/modules/order"

accel=${L1_ACCEL:-}
if [ -z "$accel" ]; then
	# KVM for L1 only when this CPU shows VMX or SVM: L1 must run KVM
	# itself, so it needs the virtualisation extension passed down.  A
	# machine can have a working /dev/kvm whose CPU flags lack both (seen
	# here: a guest whose hypervisor offers KVM but hides SVM); QEMU's
	# -cpu host then fails to start (MSR 0x10a), and TCG is the way.
	if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
		grep -qwE 'vmx|svm' /proc/cpuinfo; then
		accel=kvm
	else
		accel=tcg
	fi
fi
cat >"$rd/etc/l1.conf" <<EOF
export L1_SCENARIO=$name L1_ACCEL=$accel L1_IOMMU=$iommu L1_DMESG=$dmesg
EOF
# A benchmark's counts (BENCH_ROUNDS, BENCH_RUNS, ...: test/nested/bench/*.sh)
# reach the scenario in L1 as they were set here.
for v in $(compgen -e | grep '^BENCH_[A-Z_]*$'); do
	printf 'export %s=%q\n' "$v" "${!v}" >>"$rd/etc/l1.conf"
done

initrd=$work/initrd.cpio
(cd "$rd" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$initrd"
log "initramfs: ${#order[@]} modules, $(($(stat -c %s "$initrd") / 1024)) KiB ($(($(date +%s) - t0)) s)"

# --- boot ---------------------------------------------------------------
if [ "$accel" = kvm ]; then
	qaccel=(-accel kvm -cpu host)
else
	qaccel=(-accel tcg -cpu max)
fi
# no_timer_check: under TCG on a loaded machine the kernel's check that
# the timer interrupt arrives through the (remapped) IO-APIC can miss its
# window and panic the boot ("timer doesn't work through Interrupt-remapped
# IO-APIC", seen here at load 6.7); the timer itself works.
append="console=ttyS0 panic=-1 loglevel=4 mitigations=off edd=off no_timer_check rdinit=/init"
# Issue 21: more than one device.  A second edu in a slot of its own would
# be the plain case; here the second and third sit in one multi-function
# slot (0x10, functions 0 and 1) with a PCI serial port as function 2, so
# one L1 has two edus in two slots, two in one slot, and an IOMMU group
# that holds a device with a host driver (the serial port's: 8250_pci).
qdev=(-device edu
	-device edu,addr=0x10.0,multifunction=on -device edu,addr=0x10.1
	-device pci-serial,addr=0x10.2)
if [ "$iommu" = 1 ]; then
	qdev=(-device intel-iommu "${qdev[@]}")
	append="$append intel_iommu=on"
fi
if [ "$bridge_dev" = 1 ]; then
	# Conventional PCI behind a bridge: the IOMMU sees the bridge's
	# requester ID for both edus, so the three share one group.
	qdev+=(-device pcie-pci-bridge,id=br1,addr=0x11
		-device edu,bus=br1,addr=1 -device edu,bus=br1,addr=2)
fi
if [ "$vnet_dev" = 1 ]; then
	# A second PCI device with MSI-X for --vfio (edu has MSI only).  The
	# dgram netdev loops back to itself, as in test/qemu/crosscheck.t:
	# every frame the device sends comes back to its own rx queue.
	# iommu_platform=on makes the device DMA through the vIOMMU (and so
	# through kvmini's IOVA = GPA mapping); it then offers
	# VIRTIO_F_ACCESS_PLATFORM.  No option ROM: nothing boots from it.
	wire=$work/wire
	rm -f "$wire"
	qdev+=(-netdev "dgram,id=vnet0,local.type=unix,local.path=$wire,remote.type=unix,remote.path=$wire"
		-device "virtio-net-pci,netdev=vnet0,disable-legacy=on,iommu_platform=on,romfile=")
fi
qemu=(qemu-system-x86_64 "${qaccel[@]}" -machine q35 -m "$mem" -smp 1 "${qdev[@]}"
	-nic none -nographic -no-reboot -kernel "$vmlinuz" -initrd "$initrd" -append "$append")
echo "# ${qemu[*]}" >"$logfile"
log "booting L1 ($accel, iommu=$iommu, scenario $name, timeout ${timeout_s}s); console in $logfile"
t0=$(date +%s)
rc=0
if [ "$interactive" = 1 ]; then
	"${qemu[@]}" 2>&1 | tee -a "$logfile" || rc=${PIPESTATUS[0]}
elif [ "$stream" = 1 ]; then
	timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee -a "$logfile" || rc=${PIPESTATUS[0]}
else
	timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >>"$logfile" 2>&1 || rc=$?
fi
log "L1 finished: status $rc after $(($(date +%s) - t0)) s"
exit "$rc"
