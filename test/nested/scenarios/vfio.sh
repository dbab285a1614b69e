# vfio.sh - issue 5: QEMU's edu device handed to the guest with --vfio.
# Runs inside the nested L1 (helpers: test/nested/lib.sh).  The edu device
# was bound to vfio-pci by init ($EDU_BDF, group $EDU_GROUP).
# l1: --timeout 420 --bridge-dev

N=${VFIO_BENCH_N:-10000} # BAR0 reads for the fast/trapped figures

if [ "$EDU_VFIO" != 1 ]; then
	note "edu not usable through VFIO (bdf=${EDU_BDF:-none} group=${EDU_GROUP:-none})"
	check edu-bound-to-vfio-pci false
	return 0
fi

# Run kvmini with its output also kept in /tmp/NAME.out, for the figures
# (a script, not a function: case_run runs it under timeout).
cat >/tmp/kept <<'EOF'
#!/bin/sh
name=$1
shift
kvmini "$@" >"/tmp/$name.out" 2>&1
rc=$?
cat "/tmp/$name.out"
exit $rc
EOF
chmod +x /tmp/kept

# Field from kvmini's --stats and the guest's bench line.
# (The guest's console lines end in CR LF: strip the CR.)
field() { tr -d '\r' <"/tmp/$1.out" | awk "$2"; }
bar0_exits() { field "$1" '$1 == "vfio" && $3 == "BAR0" { print $4 }'; }
total_exits() { field "$1" '/VM exits:/ { print $3 }'; }
bench_us() { field "$1" '/^edu: bench:/ { print $7 }'; }
best_us() { field "$1" '/^edu: bench-best:/ { print $6 }'; }
traps() { field "$1" '/trapped BAR accesses/ { print $NF }'; }

# --- the device in the guest, fast path, with every realize stage traced --
case_run edu checks timeout=120 \
	'match=^\[vfio *\] attach: .* bound to vfio-pci' \
	'match=^\[vfio *\] attach: group [0-9]+ opened, viable' \
	'match=^\[vfio *\] populate: region BAR0 +size 0x100000' \
	'match=^\[vfio *\] populate: irq MSI +count 1' \
	'match=^\[vfio *\] vconfig: cap MSI at 0x40 \(device: 0x40\): emulated' \
	'match=^\[vfio *\] bars: BAR0: mmapped at .*fast path' \
	'match=^\[vfio *\] dma: guest RAM .* mapped at IOVA = GPA' \
	'match=^\[vfio *\] irq: INTx on' \
	'match=^\[vfio *\] irq: MSI on' \
	'match=^\[vfio *\] irq: REQ .* on: eventfd watched by the vfio events thread' \
	'match=^\[vfio *\] teardown: done' \
	'match=^ +vfio [0-9a-f:.]+ BAR0 +0$' \
	'match=^\[vfio *\] attach: backend container \(auto: no /dev/iommu' \
	'match=^  vfio [0-9a-f:.]+: backend container \(auto: no /dev/iommu' \
	-- /tmp/kept edu --vfio "$EDU_BDF" --net loopback --trace vfio --stats \
	--cmdline pci_start=firmware

# --- issue 11: the hostile guest (docs/hostile-guest.md), edu assigned --
# Each step is a check line (so a TAP line): kvmini alive after it, the
# device in the spec's error state or the write dropped, then recovered.
case_run hostile checks timeout=240 \
	'match=check [0-9]+ passed: hostile: [0-9]+ wild config writes' \
	'match=check [0-9]+ passed: hostile: 00:02.0 BAR0 \(1024 KiB\) over RAM' \
	'match=check [0-9]+ passed: hostile: 00:01.0 BAR0 .* over another device' \
	'match=check [0-9]+ passed: hostile: virtio-net: a device reset with frames in flight' \
	'match=check [0-9]+ passed: hostile: edu: DMA from and to' \
	'match=check [0-9]+ passed: edu: DMA round trip intact' \
	-- kvmini --vfio "$EDU_BDF" --net loopback --cmdline hostile

# --- the same with every BAR access trapped -----------------------------
case_run edu-trap checks timeout=120 \
	'match=^ +vfio [0-9a-f:.]+ BAR0 +[1-9][0-9]*$' \
	'match=trapped BAR accesses \(pread/pwrite\) +[1-9]' \
	-- /tmp/kept edu-trap --vfio "$EDU_BDF" --net loopback --vfio-trap-bars --stats

# --- figures: N reads of BAR0, fast path against trapped ----------------
# edu_bench_only skips the tests that poll the device, so the trapped runs
# with and without the N reads differ by those reads alone.
case_run bench-fast checks timeout=180 -- /tmp/kept bench-fast --vfio "$EDU_BDF" --stats \
	--cmdline "edu_bench=$N edu_bench_only"
case_run bench-trap0 checks timeout=180 -- /tmp/kept bench-trap0 --vfio "$EDU_BDF" --stats \
	--vfio-trap-bars --cmdline "edu_bench_only"
case_run bench-trap checks timeout=300 -- /tmp/kept bench-trap --vfio "$EDU_BDF" --stats \
	--vfio-trap-bars --cmdline "edu_bench=$N edu_bench_only"
fast_x=$(bar0_exits bench-fast)
trap0_x=$(bar0_exits bench-trap0)
trap_x=$(bar0_exits bench-trap)
fast_us=$(bench_us bench-fast)
trap_us=$(bench_us bench-trap)
note "fast path: $N BAR0 reads: ${fast_x:-?} BAR0 exits, ${fast_us:-?} us; total VM exits $(total_exits bench-fast)"
note "trapped:   $N BAR0 reads: $((${trap_x:-0} - ${trap0_x:-0})) BAR0 exits more than without the reads (${trap_x:-?} - ${trap0_x:-?}), ${trap_us:-?} us; total VM exits $(total_exits bench-trap)"
bench vfio_fast_bar0_exits_per_${N}_reads "${fast_x:-nan}" exits
bench vfio_trap_bar0_exits_per_${N}_reads "$((${trap_x:-0} - ${trap0_x:-0}))" exits
bench vfio_fast_us_per_${N}_reads "${fast_us:-nan}" us
bench vfio_trap_us_per_${N}_reads "${trap_us:-nan}" us
fast_best=$(best_us bench-fast)
trap_best=$(best_us bench-trap)
note "fastest round x10: fast path ${fast_best:-?} us, trapped ${trap_best:-?} us"
if [ -n "$fast_us" ] && [ -n "$trap_us" ] && [ "$fast_us" -gt 0 ]; then
	note "trapped/fast time ratio: $((trap_us / fast_us)) (x100: $((trap_us * 100 / fast_us)))"
	bench vfio_trap_fast_time_ratio "$((trap_us / fast_us))" x
fi
if [ -n "$fast_best" ] && [ -n "$trap_best" ] && [ "$fast_best" -gt 0 ]; then
	note "trapped/fast time ratio, fastest rounds: $((trap_best / fast_best))"
	bench vfio_trap_fast_time_ratio_best "$((trap_best / fast_best))" x
fi
check fast-path-no-exits-for-$N-reads [ "${fast_x:-x}" = 0 ]
d=$((${trap_x:-0} - ${trap0_x:-0}))
# One exit per read, exactly: the two runs differ by the reads alone.
check trapped-one-exit-per-read [ "$d" = "$N" ]
t1=$(traps bench-trap)
t0=$(traps bench-trap0)
check trapped-counter-counts-reads [ "$((${t1:-0} - ${t0:-0}))" -ge "$N" ]

# --- errors: each one line, the right exit code ------------------------
case_run bad-address rc=2 lines=1 'match=^kvmini: --vfio .02\.0.: not a PCI address' \
	-- kvmini --vfio 02.0
case_run bad-address-junk rc=2 lines=1 'match=^kvmini: --vfio .*not a PCI address' \
	-- kvmini --vfio "${EDU_BDF}x"
case_run no-such-device rc=6 lines=1 'match=^kvmini: vfio 0000:7f:1f\.7: no such PCI device' \
	-- kvmini --vfio 0000:7f:1f.7
# The host bridge: in an IOMMU group, but no driver of ours.
case_run not-vfio-host-bridge rc=6 lines=1 \
	'match=^kvmini: vfio 0000:00:00\.0: .*(has no driver|is bound to).*echo vfio-pci > /sys/bus/pci/devices/0000:00:00\.0/driver_override' \
	-- kvmini --vfio 0000:00:00.0
# This kernel (Debian's) has no IOMMUFD: asking for it names what is missing
# (vfio-iommufd.sh runs the backend on a kernel that has it).
case_run iommufd-missing rc=6 lines=1 \
	"match=^kvmini: vfio $EDU_BDF: --vfio-backend iommufd: no /dev/iommu .*CONFIG_IOMMUFD=y and CONFIG_VFIO_DEVICE_CDEV=y, or use --vfio-backend container" \
	-- kvmini --vfio "$EDU_BDF" --vfio-backend iommufd
# edu itself, unbound from vfio-pci, then bound back.
echo "$EDU_BDF" >/sys/bus/pci/drivers/vfio-pci/unbind
case_run not-vfio-edu-unbound rc=6 lines=1 \
	"match=^kvmini: vfio $EDU_BDF: device 1234:11e8 has no driver.*echo vfio-pci > /sys/bus/pci/devices/$EDU_BDF/driver_override; echo $EDU_BDF > /sys/bus/pci/drivers_probe" \
	-- kvmini --vfio "$EDU_BDF"
echo "$EDU_BDF" >/sys/bus/pci/drivers/vfio-pci/bind
check edu-bound-again [ "$(basename "$(readlink "/sys/bus/pci/devices/$EDU_BDF/driver")")" = vfio-pci ]

# A kvmini holding the device, a second one asking for it, then SIGTERM
# to the first in the middle of its run, and a clean run after that.
hold /tmp/holder.out "edu: holding" kvmini --vfio "$EDU_BDF" --trace vfio --cmdline edu_hold=120
holder=$held
check holder-running grep -q "edu: holding" /tmp/holder.out
# Confinement (docs/confinement.md): every thread of a running kvmini is
# under its seccomp filter (mode 2), and there are several of them.
threads=$(ls "/proc/$holder/task" 2>/dev/null | wc -l)
note "kvmini threads: $threads; seccomp modes: $(cat /proc/"$holder"/task/*/status 2>/dev/null | awk '/^Seccomp:/ { printf "%s ", $2 }')"
check seccomp-mode-2-every-thread sh -c "[ $threads -ge 2 ] && ! grep -h '^Seccomp:' /proc/$holder/task/*/status | grep -qv '	2\$'"
case_run in-use rc=6 lines=1 \
	'match=^kvmini: vfio .*: device in use by another process \(pid [0-9]+\) \(another kvmini\?\)' \
	-- kvmini --vfio "$EDU_BDF"
kill -TERM "$holder"
wait "$holder"
holder_rc=$?
sed 's/^/@@@ NOTE holder | /' /tmp/holder.out | grep -v '^@@@ NOTE holder | kvmini: check' | tail -n 12
check sigterm-exit-143 [ "$holder_rc" = 143 ]
check sigterm-teardown-ran grep -q "teardown: done" /tmp/holder.out
case_run after-sigterm checks timeout=120 -- kvmini --vfio "$EDU_BDF" --net loopback

# The same with SIGINT (Ctrl-C), this time in the middle of a DMA transfer
# (edu_hold_dma: the guest runs them back to back, about 100 ms each).
hold /tmp/holder2.out "edu: holding.*DMA running" \
	kvmini --vfio "$EDU_BDF" --trace vfio --cmdline "edu_hold=120 edu_hold_dma"
holder=$held
kill -INT "$holder"
wait "$holder"
holder_rc=$?
check sigint-during-dma [ "$(tr -d '\r' </tmp/holder2.out | grep -c 'DMA running$')" = 1 ]
check sigint-exit-130 [ "$holder_rc" = 130 ]
check sigint-teardown-ran grep -q "teardown: done" /tmp/holder2.out
case_run after-sigint checks timeout=120 -- kvmini --vfio "$EDU_BDF" --net loopback

# The host asks for the device back (VFIO REQ) while the guest runs DMA:
# kvmini stops the guest, releases the device and exits 11 with one line,
# and the host's removal returns within seconds (without the answer it
# would wait for the whole hold: the kernel repeats the request every 10 s
# and waits for the fds to close).  Then rescan, rebind, run again.
hold /tmp/req.out "edu: holding.*DMA running" \
	kvmini --vfio "$EDU_BDF" --trace vfio --report /tmp/req.json --cmdline "edu_hold=120 edu_hold_dma"
holder=$held
t0=$(uptime_ms)
echo 1 >"/sys/bus/pci/devices/$EDU_BDF/remove"
remove_ms=$(($(uptime_ms) - t0))
wait "$holder"
holder_rc=$?
sed 's/^/@@@ NOTE req | /' /tmp/req.out | grep -v '^@@@ NOTE req | kvmini: check' | tail -n 14
note "host removal of $EDU_BDF with kvmini running: $remove_ms ms"
bench vfio_req_host_removal_ms "$remove_ms" ms
check req-exit-11 [ "$holder_rc" = 11 ]
check req-one-line grep -q "^kvmini: the host asked for the assigned device $EDU_BDF back (VFIO request): guest stopped, device released" /tmp/req.out
check req-teardown-ran grep -q "teardown: done" /tmp/req.out
check req-removal-within-seconds [ "$remove_ms" -lt 8000 ]
check req-device-gone [ ! -e "/sys/bus/pci/devices/$EDU_BDF" ]
check req-in-report grep -q '"status":11,.*"vfio: host requests for the device (REQ)":[1-9]' /tmp/req.json
echo 1 >/sys/bus/pci/rescan
i=0
while [ ! -e "/sys/bus/pci/devices/$EDU_BDF" ] && [ $i -lt 20 ]; do
	sleep 1
	i=$((i + 1))
done
# vfio-pci takes it back by itself (new_id is still set); bind if not.
[ -e "/sys/bus/pci/devices/$EDU_BDF/driver" ] ||
	echo "$EDU_BDF" >/sys/bus/pci/drivers/vfio-pci/bind 2>/dev/null
check req-rescan-bound-to-vfio-pci [ "$(basename "$(readlink "/sys/bus/pci/devices/$EDU_BDF/driver")")" = vfio-pci ]
case_run after-req checks timeout=120 -- kvmini --vfio "$EDU_BDF" --net loopback

# --- issue 21: several devices ------------------------------------------
# l1.sh gives L1 three edus: $EDU_BDF in a slot of its own, and functions 0
# and 1 of slot 0x10 with a PCI serial port (8250_pci, a host driver) as
# function 2 of that slot, all three in one IOMMU group.
set -- $EDU_ALL
EDU2=${2:-none}
EDU3=${3:-none}
SER=${EDU2%.*}.2
drv_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
note "edus: $EDU_ALL; $SER is bound to '$(drv_of "$SER")'; group of $EDU2:" \
	"$(ls "/sys/bus/pci/devices/$EDU2/iommu_group/devices" 2>/dev/null | tr '\n' ' ')"
check three-edus [ "$EDU3" != none ]
# A group is the unit of ownership: the serial port holds it, so neither
# edu of that slot can be assigned, and nothing is attached (not even the
# device before it on the command line).  One line, exit 6.
case_run group-held rc=6 lines=1 \
	"match=^kvmini: vfio $EDU2: its IOMMU group also holds $SER, bound to serial: .*unbind" \
	-- kvmini --vfio "$EDU2"
case_run group-held-nothing-attached rc=6 nomatch=attach: \
	"match=^kvmini: vfio $EDU2: its IOMMU group also holds $SER" \
	-- kvmini --vfio "$EDU_BDF" --vfio "$EDU2" --trace vfio
# Bad input: one line, exit 2, before anything is opened.
case_run same-bdf-twice rc=2 lines=1 "match=^kvmini: --vfio $EDU_BDF given twice" \
	-- kvmini --vfio "$EDU_BDF" --vfio "$EDU_BDF"
case_run nine-vfio rc=2 lines=1 'match=^kvmini: --vfio .*: at most 8 assigned devices' \
	-- kvmini --vfio 0000:00:01.0 --vfio 0000:00:02.0 --vfio 0000:00:03.0 --vfio 0000:00:04.0 \
	--vfio 0000:00:05.0 --vfio 0000:00:06.0 --vfio 0000:00:07.0 --vfio 0000:00:08.0 \
	--vfio 0000:00:09.0
case_run five-net rc=2 lines=1 'match=^kvmini: --net loopback: at most 4 network devices' \
	-- kvmini --net none --net none --net none --net none --net loopback
# The serial port let go (no driver): the group is free.
echo "$SER" >"/sys/bus/pci/devices/$SER/driver/unbind" 2>/dev/null
check serial-unbound [ -z "$(drv_of "$SER")" ]
# Two edus in two slots, two virtio-nets on two taps: every check on all
# four functions, one container, guest RAM mapped once.
case_run two-edu-two-net checks timeout=300 \
	'match=check [0-9]+ passed: edu: ID register reads 0x010000ed' \
	'match=check [0-9]+ passed: edu 00:06\.0: ID register reads 0x010000ed' \
	'match=check [0-9]+ passed: edu 00:06\.0: DMA round trip intact' \
	'match=check [0-9]+ passed: edu 00:06\.0: 4 of 4 INTx interrupts taken' \
	'match=check [0-9]+ passed: virtio-net: ICMP echo replies from the peer \(3 of 3\)' \
	'match=check [0-9]+ passed: virtio-net1: ICMP echo replies from the peer \(3 of 3\)' \
	"match=^\[vfio *\] realized $EDU_BDF at 00:02\.0" \
	"match=^\[vfio *\] realized $EDU2 at 00:06\.0" \
	"match=^\[vfio *\] attach: container /dev/vfio/vfio already open: $EDU2 joins it" \
	'match=^\[vfio *\] dma: guest RAM .* already mapped in the shared container' \
	'match=^  vfio: 2 devices in one container \(2 IOMMU groups\), guest RAM mapped 1 time$' \
	'match=^\[vfio *\] teardown: IOMMU group [0-9]+ released' \
	'match=^\[vfio *\] teardown: container closed' \
	-- kvmini --vfio "$EDU_BDF" --vfio "$EDU2" --net "tap=$TAP" --net "tap=$TAP1" \
	--trace vfio --stats
# Functions 0 and 1 of one host slot: functions 0 and 1 of one guest slot,
# the multi-function bit set; one group, attached through once.
case_run multifunction checks timeout=300 \
	'match=check [0-9]+ passed: edu: ID register reads 0x010000ed' \
	'match=check [0-9]+ passed: edu 00:02\.1: ID register reads 0x010000ed' \
	'match=check [0-9]+ passed: edu 00:02\.1: DMA round trip intact' \
	"match=^\[vfio *\] realized $EDU3 at 00:02\.1" \
	'match=^\[vfio *\] attach: group [0-9]+ already in the container' \
	'match=^  vfio: 2 devices in one container \(1 IOMMU group\), guest RAM mapped 1 time$' \
	-- kvmini --vfio "$EDU2" --vfio "$EDU3" --trace vfio --stats
# Only function 1: the guest gets it as function 0 (it scans a slot only
# when function 0 answers).
case_run function1-alone checks timeout=180 \
	'match=check [0-9]+ passed: edu: ID register reads 0x010000ed' \
	"match=^\[vfio *\] realized $EDU3 at 00:02\.0" \
	-- kvmini --vfio "$EDU3" --trace vfio
# SIGTERM in the middle of a run with both: every device released, in
# reverse order, and the next run attaches both again.
hold /tmp/holder3.out "edu: holding" \
	kvmini --vfio "$EDU_BDF" --vfio "$EDU2" --trace vfio --cmdline edu_hold=120
holder=$held
kill -TERM "$holder"
wait "$holder"
holder_rc=$?
check two-sigterm-exit-143 [ "$holder_rc" = 143 ]
check two-sigterm-both-released sh -c "[ \$(grep -c 'teardown: done' /tmp/holder3.out) = 2 ]"
check two-sigterm-reverse-order sh -c "grep 'teardown: done' /tmp/holder3.out | head -n1 | grep -q '$EDU2'"
case_run two-after-sigterm checks timeout=300 -- kvmini --vfio "$EDU_BDF" --vfio "$EDU2"

# A PCIe-to-PCI bridge with two edus behind it (l1.sh --bridge-dev): the
# IOMMU sees the bridge's requester ID for both, so bridge and edus are
# one group.  The bridge may keep its host driver and is never assigned;
# the two edus, given together, attach through the group once.
BR_EDUS=
for d in $EDU_ALL; do
	case $d in 0000:00:*) ;; *) BR_EDUS="$BR_EDUS $d" ;; esac
done
set -- $BR_EDUS
BR1=${1:-none}
BR2=${2:-none}
g=$(readlink "/sys/bus/pci/devices/$BR1/iommu_group" 2>/dev/null)
note "behind the bridge: $BR1 $BR2; their group: $(ls "/sys/bus/pci/devices/$BR1/iommu_group/devices" 2>/dev/null | while read -r m; do printf '%s (%s) ' "$m" "$(drv_of "$m")"; done)"
bridge_in_group() {
	for m in $(ls "/sys/bus/pci/devices/$BR1/iommu_group/devices"); do
		[ "$(head -c 4 "/sys/bus/pci/devices/$m/class")" = 0x06 ] && return 0
	done
	return 1
}
check bridge-shares-the-edus-group bridge_in_group
case_run behind-bridge checks timeout=300 \
	'match=check [0-9]+ passed: edu: ID register reads 0x010000ed' \
	'match=check [0-9]+ passed: edu 00:06\.0: ID register reads 0x010000ed' \
	"match=^\[vfio *\] realized $BR2 at 00:06\.0" \
	'match=^\[vfio *\] attach: group [0-9]+ already in the container' \
	'match=^  vfio: 2 devices in one container \(1 IOMMU group\), guest RAM mapped 1 time$' \
	-- kvmini --vfio "$BR1" --vfio "$BR2" --trace vfio --stats
