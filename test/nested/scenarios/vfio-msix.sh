# vfio-msix.sh - the vfio MSI-X path end to end: QEMU's modern virtio-net
# (1af4:1041, MSI-X, l1.sh --vnet-dev) handed to the guest with --vfio.
# Runs inside the nested L1 (helpers: test/nested/lib.sh).  init bound the
# device to vfio-pci ($VNET_BDF, group $VNET_GROUP).  The guest sees two
# virtio-net functions: kvmini's own at 00:01.0 and the assigned one at
# 00:02.0, and drives both (guest/virtio_net.c), each with its own MSI-X
# vectors (0x40-0x42 and 0x44-0x46, include/memmap.h).
# vfio-iommufd.sh sources this file on the IOMMUFD kernel, with one more
# expectation for the traced case in $MSIX_EXPECT.
# l1: --vnet-dev --timeout 240

if [ "$VNET_VFIO" != 1 ]; then
	note "virtio-net not usable through VFIO (bdf=${VNET_BDF:-none} group=${VNET_GROUP:-none})"
	check vnet-bound-to-vfio-pci false
	return 0
fi

# --- teardown under signals with live interrupts; the full run below is
# the "next run on the same device" for both ----------------------------
# Start kvmini in the background, wait for a line, send a signal.
sig_case() { # NAME SIGNAL WAIT-ERE KVMINI-ARGS...
	local name=$1 sig=$2 ere=$3 pid i=0
	shift 3
	kvmini "$@" >"/tmp/$name.out" 2>&1 &
	pid=$!
	while ! tr -d '\r' <"/tmp/$name.out" | grep -Eq "$ere" && [ $i -lt 60 ]; do
		sleep 1
		i=$((i + 1))
	done
	check "$name-reached" grep -Eq "$ere" "/tmp/$name.out"
	sleep 2 # well into the run: vectors live, frames in flight
	note "$name: threads $(ls /proc/$pid/task | wc -l), seccomp modes $(cat /proc/$pid/task/*/status 2>/dev/null | awk '/^Seccomp:/ { printf "%s ", $2 }')"
	check "$name-seccomp-every-thread" sh -c "! grep -h '^Seccomp:' /proc/$pid/task/*/status | grep -qv '	2\$'"
	kill -"$sig" "$pid"
	wait "$pid"
	echo "$?" >"/tmp/$name.rc"
	sed "s/^/@@@ NOTE $name | /" "/tmp/$name.out" | grep -v 'kvmini: check' | tail -n 8
}
# SIGTERM with the assigned function's MSI-X vectors live and its DMA
# running (the guest's frame bench on it; --net none: only it is driven).
sig_case term-msix-live TERM '^\[vfio *\] irq: MSI-X on' \
	--vfio "$VNET_BDF" --net none --trace vfio --cmdline bench=100000000
check term-msix-live-exit-143 [ "$(cat /tmp/term-msix-live.rc)" = 143 ]
check term-msix-live-msix-was-on grep -q 'irq: MSI-X on' /tmp/term-msix-live.out
check term-msix-live-teardown grep -q 'teardown: done' /tmp/term-msix-live.out
# SIGINT while kvmini's I/O thread is mid-batch: the guest's bench on
# kvmini's own virtio-net (loopback; the guest names it plain "virtio-net"),
# the assigned function attached.
sig_case int-io-batch INT 'check [0-9]+ passed: virtio-net: rx completions taken by interrupt' \
	--vfio "$VNET_BDF" --net loopback --trace vfio --stats --cmdline bench=100000000
check int-io-batch-exit-130 [ "$(cat /tmp/int-io-batch.rc)" = 130 ]
check int-io-batch-frames-in-flight sh -c "[ \$(awk '/frames transmitted/ { print \$NF }' /tmp/int-io-batch.out) -gt 1000 ]"
check int-io-batch-teardown grep -q 'teardown: done' /tmp/int-io-batch.out

# What must hold for the assigned function, fast path and trapped alike.
a='virtio-net 00:02\.0'
# (Kept in the positional parameters: busybox sh has no arrays.)
set -- "match=check [0-9]+ passed: $a: vendor caps: common, notify" \
	"match=check [0-9]+ passed: $a: PCI cfg window reads what the BAR does" \
	"match=check [0-9]+ passed: $a: FEATURES_OK accepted .*ACCESS_PLATFORM" \
	"match=check [0-9]+ passed: $a: MSI-X enabled with 3 vectors" \
	"match=check [0-9]+ passed: $a: 4000-byte frame round trip" \
	"match=check [0-9]+ passed: $a: MSI-X rx entry masked: frame arrived, no interrupt, Pending bit set" \
	"match=check [0-9]+ passed: $a: MSI-X rx entry unmasked: pending interrupt delivered" \
	"match=check [0-9]+ passed: $a: MSI-X function masked: frame arrived, no interrupt, Pending bit set" \
	"match=check [0-9]+ passed: $a: MSI-X function unmasked: pending interrupt delivered" \
	"match=check [0-9]+ passed: $a: rx completions taken by interrupt \([1-9][0-9]*, MSI-X vector 0x45\)" \
	"match=check [0-9]+ passed: $a: its interrupts came on its own vectors only"
# --- fast path, every vfio stage traced ----------------------------------
case_run vnet-msix checks timeout=120 "$@" \
	'match=^\[vfio *\] populate: irq MSI-X +count [1-9]' \
	'match=^\[vfio *\] vconfig: cap MSI-X at 0x[0-9a-f]+ \(device: 0x[0-9a-f]+\): emulated, [0-9]+ vectors' \
	'match=^\[vfio *\] vconfig: cap 0x09 vendor-specific .*passed through \(live\)' \
	'match=^\[vfio *\] bars: BAR4: mmapped at .*fast path' \
	'match=^\[vfio *\] irq: MSI-X on: [0-9]+ eventfd' \
	'match=^\[vfio *\] irq: MSI-X disabled at the device' \
	'match=^\[vfio *\] teardown: done' ${MSIX_EXPECT:+"$MSIX_EXPECT"} \
	-- kvmini --vfio "$VNET_BDF" --net loopback --trace vfio --stats
# --- every BAR access trapped (pread/pwrite through vfio-pci) --------------
case_run vnet-msix-trap checks timeout=120 "$@" \
	'match=^ +vfio [0-9a-f:.]+ BAR4 +[1-9][0-9]*$' \
	'match=trapped BAR accesses \(pread/pwrite\) +[1-9]' \
	-- kvmini --vfio "$VNET_BDF" --net loopback --vfio-trap-bars --stats
# --- a broken ring on both devices: DEVICE_NEEDS_RESET, the config vector,
# and a reset that gives a working device again -------------------------
case_run vnet-msix-hostile checks timeout=120 \
	"match=check [0-9]+ passed: $a: hostile 'loop' -> DEVICE_NEEDS_RESET" \
	"match=check [0-9]+ passed: $a: config interrupt for NEEDS_RESET" \
	"match=check [0-9]+ passed: $a: frame round trip after the reset" \
	-- kvmini --vfio "$VNET_BDF" --net loopback --cmdline vnet_hostile=loop
# --- QEMU 7.2 refuses FEATURES_OK when ACCESS_PLATFORM is offered and the
# driver leaves it out (virtio 1.2 6.1): the guest's check fails, status 1.
case_run vnet-no-access-platform rc=1 \
	"match=check [0-9]+ FAILED: $a: FEATURES_OK accepted" \
	-- kvmini --vfio "$VNET_BDF" --net loopback --cmdline vnet_noplatform
