# virtio.sh - virtio-net figures: the guest sends N frames of 64 and of
# 1500 bytes (guest command line bench=N) over the loopback and the tap
# backends.  Reported: frames per second as the guest measures them (TCG:
# noisy, compare only with each other), and VM exits to kvmini per frame,
# from --stats, less those of a run without the benchmark: with kicks on
# an ioeventfd and interrupts through irqfds this should be ~0.
N=${VNET_BENCH_N:-2000}

exits() { sed -n 's/^ *VM exits: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n1; }
counter() { sed -n "s/^ *virtio: $2 *\([0-9][0-9]*\)\$/\1/p" "$1" | head -n1; }
bar0() { sed -n 's/^ *virtio-net BAR0 *\([0-9][0-9]*\)$/\1/p' "$1" | head -n1; }

run() { # backend label
	kvmini --net "$1" --stats >/tmp/vb.base 2>&1
	case_run "vnet-bench-$2" checks 'match=^bench: 1500-byte' timeout=300 \
		-- kvmini --net "$1" --stats --cmdline "bench=$N"
	kvmini --net "$1" --stats --cmdline "bench=$N" >/tmp/vb.run 2>&1
	grep '^bench:' /tmp/vb.run | while read -r _ size _ _ _ _ _ _ _ _ rate _; do
		bench "vnet_${2}_${size%-byte}_fps" "$rate" frames/s
	done
	e0=$(exits /tmp/vb.base)
	e1=$(exits /tmp/vb.run)
	k=$(counter /tmp/vb.run 'kicks (ioeventfd)')
	i=$(counter /tmp/vb.run 'interrupts sent')
	tx=$(counter /tmp/vb.run 'frames transmitted')
	b0=$(bar0 /tmp/vb.base)
	b1=$(bar0 /tmp/vb.run)
	note "$2: exits base $e0, with bench $e1 (virtio-net BAR0: $b0, $b1); kicks $k irqs $i tx $tx for 2x$N frames"
	if [ -n "$e0" ] && [ -n "$e1" ] && [ -n "$b0" ] && [ -n "$b1" ]; then
		# All exits (the bench's own console lines included) and those
		# of the device's BAR: what a kick or a completion would cost.
		bench "vnet_${2}_exits_per_1000_frames" $(((e1 - e0) * 1000 / (2 * N))) exits
		bench "vnet_${2}_bar_exits_per_1000_frames" $(((b1 - b0) * 1000 / (2 * N))) exits
		bench "vnet_${2}_kicks_per_1000_frames" $((k * 1000 / (2 * N))) kicks
		bench "vnet_${2}_irqs_per_1000_frames" $((i * 1000 / (2 * N))) irqs
	fi
}

run loopback loopback
if [ -n "$TAP" ]; then
	run "tap=$TAP" tap
else
	note "no tap in L1: tap figures skipped"
fi
