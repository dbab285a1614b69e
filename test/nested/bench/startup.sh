# startup.sh - exec-to-exit time and peak RSS of kvmini against a floor and
# a peer, all in this one L1 boot (issue 12; docs/benchmarks.md).
# l1: --mem 2G --timeout 3000 --tree @BUILD@/bench/tree
# l1-prep: test/bench/prep.sh
#
# Cases (each timed by /bench/timeit: fork, exec, wait4; output to /dev/null):
#   floor             a bare KVM program: VM, one page, one vCPU, first exit
#   floor-irq         the fair floor: floor + in-kernel irqchip and PIT + 64 MiB
#                     of guest RAM registered, untouched (test/bench/floor-irq.c)
#   kvmini-exit       kvmini, the exit-at-once PVH image, default devices
#   kvmini-exit-nonet the same with --net none
#   qemu-microvm-exit QEMU -accel kvm -M microvm, the same image
#   qemu-q35-exit     QEMU -accel kvm -M q35, the same image
#   kvmini-full       kvmini's embedded guest, its whole run
#   qemu-q35-full     the embedded guest under QEMU q35 (virtio-net, edu)
#   kvmini-linux      Linux (bzImage + busybox initramfs) to init, then reboot
#   qemu-microvm-linux the same kernel and initramfs under QEMU microvm
#   kvmini-base-*     the same kvmini cases with the kvmini that
#                     BENCH_BASELINE named to prep.sh (before/after, one boot)
# The same script runs directly on a host whose /dev/kvm runs kvmini
# (test/bench/direct.sh sets BENCH_DIR, L2_DIR, KVMINI, BENCH_HOST).
# Rounds are interleaved (round r runs every case in turn, N times each)
# so a slow spell of the machine hits all cases alike.  BENCH_ROUNDS and
# BENCH_RUNS / BENCH_SLOW_RUNS (cases over a second) change the counts.
B=${BENCH_DIR:-/bench}
L2=${L2_DIR:-/l2}
K=${KVMINI:-kvmini}
host=${BENCH_HOST:-L1}
T=${BENCH_TMP:-/tmp}
rounds=${BENCH_ROUNDS:-3}
runs=${BENCH_RUNS:-10}
slow_runs=${BENCH_SLOW_RUNS:-2}
Q=/usr/bin/qemu-system-x86_64
qemu_ok=0
[ -x $Q ] && [ "$L1_KVM" = 1 ] && qemu_ok=1
linux_ok=0
[ -s $L2/vmlinuz ] && [ -s $L2/initrd.cpio ] && linux_ok=1
base_ok=0
[ -x $B/kvmini-base ] && base_ok=1
L2_CMDLINE="console=ttyS0 panic=-1 loglevel=1 pci=noearly l2.reboot=1"

# One run of a case; timeit prints "microseconds maxrss-KiB status".  Each
# run is bounded by timeit itself (TIMEIT_LIMIT; a hang shows as status 137
# and is named in a note, instead of stopping the whole bench).
export TIMEIT_LIMIT=300
run_case() {
	case $1 in
	floor) $B/timeit $B/floor ;;
	floor-irq) $B/timeit $B/floor-irq ;;
	kvmini-exit) $B/timeit $K --kernel $B/exit.elf ;;
	kvmini-exit-nonet) $B/timeit $K --kernel $B/exit.elf --net none ;;
	kvmini-base-exit) $B/timeit $B/kvmini-base --kernel $B/exit.elf ;;
	kvmini-base-full) $B/timeit $B/kvmini-base ;;
	kvmini-base-linux)
		$B/timeit $B/kvmini-base --kernel $L2/vmlinuz --initrd $L2/initrd.cpio --net none \
			--cmdline "$L2_CMDLINE" ;;
	qemu-microvm-exit)
		$B/timeit $Q -L /usr/share/qemu -accel kvm -M microvm -m 64M -nodefaults \
			-no-reboot -display none -kernel $B/exit.elf ;;
	qemu-q35-exit)
		$B/timeit $Q -L /usr/share/qemu -accel kvm -M q35 -m 64M -nodefaults \
			-no-reboot -display none -kernel $B/exit.elf ;;
	kvmini-full) $B/timeit $K ;;
	qemu-q35-full)
		$B/timeit $Q -L /usr/share/qemu -accel kvm -M q35 -m 64M -nodefaults \
			-no-reboot -display none -serial stdio -kernel $B/guest.elf \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
			-netdev dgram,id=n0,local.type=unix,local.path=/tmp/w,remote.type=unix,remote.path=/tmp/w \
			-device virtio-net-pci,netdev=n0,disable-legacy=on,romfile= ;;
	kvmini-linux)
		$B/timeit $K --kernel $L2/vmlinuz --initrd $L2/initrd.cpio --net none \
			--cmdline "$L2_CMDLINE" ;;
	qemu-microvm-linux)
		$B/timeit $Q -L /usr/share/qemu -accel kvm -M microvm -m 256M -nodefaults \
			-no-reboot -display none -serial stdio -kernel $L2/vmlinuz \
			-initrd $L2/initrd.cpio -append "$L2_CMDLINE" ;;
	esac
}

cases="floor floor-irq kvmini-exit kvmini-exit-nonet kvmini-full"
[ $base_ok = 1 ] && cases="$cases kvmini-base-exit kvmini-base-full"
[ $qemu_ok = 1 ] && cases="$cases qemu-microvm-exit qemu-q35-exit qemu-q35-full"
[ $linux_ok = 1 ] && cases="$cases kvmini-linux"
[ $linux_ok = 1 ] && [ $base_ok = 1 ] && cases="$cases kvmini-base-linux"
[ $linux_ok = 1 ] && [ $qemu_ok = 1 ] && cases="$cases qemu-microvm-linux"
[ $qemu_ok = 1 ] || note "SKIP QEMU cases: no $Q in L1 or no KVM (test/bench/prep.sh)"
[ $linux_ok = 1 ] || note "SKIP Linux cases: no /l2 kernel (test/nested/linux-l2.sh)"
# The embedded guest as a file, for QEMU (prep.sh copies build/guest.elf).
[ -s $B/guest.elf ] || note "no /bench/guest.elf: qemu-q35-full runs nothing useful"

# Each case once first, with its output, so a broken case fails the bench
# instead of timing an error path.
case_run floor-works -- $B/floor
case_run floor-irq-works -- $B/floor-irq
case_run kvmini-exit-crashes rc=8 'match=triple fault' -- $K --kernel $B/exit.elf
case_run kvmini-full-works checks -- $K
if [ $qemu_ok = 1 ]; then
	case_run qemu-microvm-exit-works -- $Q -L /usr/share/qemu -accel kvm -M microvm -m 64M \
		-nodefaults -no-reboot -display none -kernel $B/exit.elf
fi
if [ $linux_ok = 1 ]; then
	case_run kvmini-linux-boots rc=10 timeout=300 'match=kvmini-l2: init started' \
		-- $K --kernel $L2/vmlinuz --initrd $L2/initrd.cpio --net none --cmdline "$L2_CMDLINE"
fi

: >$T/samples
r=1
while [ $r -le "$rounds" ]; do
	i=1
	while [ $i -le "$runs" ]; do
		for c in $cases; do
			case $c in
			*-linux | *-full) [ $i -le "$slow_runs" ] || continue ;;
			esac
			res=$(run_case $c)
			# 137: timeit killed a hung run (or something else did).
			case $res in
			*" 137" | "") note "TIMEOUT or kill in round $r run $i: $c ($res)" ;;
			esac
			echo "$r $c $res" >>$T/samples
		done
		i=$((i + 1))
	done
	note "round $r of $rounds done"
	r=$((r + 1))
done
sed 's/^/@@@ NOTE sample /' $T/samples

# Per case: median/min/max over all runs, the per-round medians, the
# median peak RSS; ratios of medians against the floor and against QEMU.
sort -k2,2 -k1,1n -k3,3n $T/samples | awk -v order="$cases" -v host="$host" '
function med(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
$5 == 137 || NF < 5 { killed[$2]++; next }
{ c = $2; n[c]++; t[c, n[c]] = $3 / 1000; m[c, n[c]] = $4; rn[c, $1]++; rt[c, $1, rn[c, $1]] = $3 / 1000 }
END {
	k = split(order, cs, " ")
	for (x = 1; x <= k; x++) {
		c = cs[x]; split("", a); split("", b)
		for (i = 1; i <= n[c]; i++) { a[i] = t[c, i]; b[i] = m[c, i] }
		mn = a[1]; mx = a[1]
		for (i = 1; i <= n[c]; i++) { if (a[i] < mn) mn = a[i]; if (a[i] > mx) mx = a[i] }
		M[c] = med(a, n[c]); MIN[c] = mn; MAX[c] = mx; RSS[c] = med(b, n[c])
		rs = ""
		for (r = 1; r <= 3; r++) if (rn[c, r]) {
			split("", d); for (i = 1; i <= rn[c, r]; i++) d[i] = rt[c, r, i]
			rs = rs (rs == "" ? "" : ", ") sprintf("%.1f", med(d, rn[c, r]))
		}
		RS[c] = rs
	}
	print "| host | case | runs | median ms | min ms | max ms | round medians ms | x floor | x floor-irq | x QEMU microvm | peak RSS KiB |"
	print "|---|---|---|---|---|---|---|---|---|---|---|"
	for (x = 1; x <= k; x++) {
		c = cs[x]
		peer = c ~ /linux/ ? "qemu-microvm-linux" : c ~ /exit/ ? "qemu-microvm-exit" : ""
		rq = (peer != "" && M[peer] > 0) ? sprintf("%.2f", M[c] / M[peer]) : "-"
		if (killed[c]) note = note sprintf(" %s: %d run(s) killed or hung, left out.", c, killed[c])
		fi = M["floor-irq"] > 0 ? sprintf("%.2f", M[c] / M["floor-irq"]) : "-"
		# Minimums too: a bimodal case shows in min against median.
		fim = MIN["floor-irq"] > 0 ? sprintf(" (min %.2f)", MIN[c] / MIN["floor-irq"]) : ""
		printf "| %s | %s | %d | %.1f | %.1f | %.1f | %s | %.2f | %s%s | %s | %d |\n", host, c, n[c], M[c], MIN[c], MAX[c], RS[c], M[c] / M["floor"], fi, fim, rq, RSS[c]
	}
	# (busybox awk: no conditional expressions among printf arguments)
	if (M["kvmini-base-exit"] > 0) {
		lx = ""
		if (M["kvmini-base-linux"] > 0)
			lx = sprintf(", Linux %.2fx (min %.2fx)", M["kvmini-linux"] / M["kvmini-base-linux"], MIN["kvmini-linux"] / MIN["kvmini-base-linux"])
		printf "\nThis tree against the baseline, same boot: exit image %.2fx (min %.2fx), full run %.2fx (min %.2fx)%s.\n", M["kvmini-exit"] / M["kvmini-base-exit"], MIN["kvmini-exit"] / MIN["kvmini-base-exit"], M["kvmini-full"] / M["kvmini-base-full"], MIN["kvmini-full"] / MIN["kvmini-base-full"], lx
	}
	if (note != "") print "\nNote:" note
}' | sed 's/^/@@@ TABLE /'

# Where kvmini's start-up goes: every syscall with its duration, once.
if [ -x /usr/bin/strace ]; then
	note "strace -f -r -T kvmini --kernel $B/exit.elf (default devices):"
	/usr/bin/strace -f -r -T $K --kernel $B/exit.elf 2>&1 >/dev/null | sed 's/^/@@@ NOTE strace /'
	note "strace -f -r -T $B/floor-irq:"
	/usr/bin/strace -f -r -T $B/floor-irq 2>&1 >/dev/null | sed 's/^/@@@ NOTE strace /'
fi
note "THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
# Memory: kvmini's peak RSS less the guest RAM the guest touched (--stats).
hows="$K:exit --kernel $B/exit.elf|$K:exit-nonet --kernel $B/exit.elf --net none|$K:full|$K:full-nonet --net none"
[ $base_ok = 1 ] && hows="$hows|$B/kvmini-base:base_full|$B/kvmini-base:base_exit --kernel $B/exit.elf"
echo "$hows" | tr '|' '\n' | while IFS=: read -r bin how; do
	set -- $how
	name=$1
	shift
	# stdin from /dev/null: kvmini's console reads it, and here it is
	# the list this loop reads.
	$bin "$@" --stats </dev/null 2>&1 | sed -n 's/^ *memory: peak RSS \([0-9]*\) KiB, guest RAM resident \([0-9]*\) KiB, kvmini.s own \(-*[0-9]*\) KiB/\1 \2 \3/p' |
		while read -r peak guest own; do
			bench "kvmini_${name}_peak_rss" "$peak" KiB
			bench "kvmini_${name}_guest_ram" "$guest" KiB
			bench "kvmini_${name}_own_rss" "$own" KiB
		done
done
for who in kvmini base; do
	bin=$K pre=kvmini
	[ $who = base ] && { [ $base_ok = 1 ] || continue; bin=$B/kvmini-base pre=kvmini_base; }
	$bin --stats >$T/full.out 2>&1
	sed -n 's/^ *VM exits: *\([0-9][0-9]*\).*/\1/p' $T/full.out | head -n1 | while read -r e; do
		bench ${pre}_vm_exits "$e" exits
	done
	sed -n 's/^ *serial  *\([0-9][0-9]*\)$/\1/p' $T/full.out | head -n1 | while read -r e; do
		bench ${pre}_serial_exits "$e" exits
	done
done

# Where the time goes, phase by phase (docs/benchmarks.md): kvmini's own
# phases (--stats, from main() to the last close) and the tiny guest's
# (--cmdline phases: TSC stamps around each group of checks), medians of
# BENCH_PHASE_RUNS runs; the exit image shows kvmini's start and teardown
# alone.  Linux: kvmini's phases and the L2 uptime at /init against QEMU
# microvm's, same kernel, initramfs and command line.
pruns=${BENCH_PHASE_RUNS:-5}
phase_runs() { # NAME CMD...: run CMD pruns times, keep its phase lines
	local name=$1 i=1
	shift
	while [ $i -le "$pruns" ]; do
		timeout -k 5 300 "$@" </dev/null 2>&1 | sed -n "s/^  phase \(.*[^ ]\)  *\([0-9.][0-9.]*\)\$/$name|kvmini: \1|\2/p
			s/^guest phase: \(.*[^ ]\)  *\([0-9][0-9]*\) us.*/$name|guest: \1|\2/p
			s/^kvmini-l2: init started, L2 uptime \([0-9.]*\) s/$name|guest: Linux uptime at \/init|\1/p"
		i=$((i + 1))
	done
}
: >$T/phases
phase_runs exit $K --kernel $B/exit.elf --stats >>$T/phases
phase_runs full $K --stats --cmdline phases >>$T/phases
if [ $linux_ok = 1 ]; then
	pruns=${BENCH_LINUX_PHASE_RUNS:-2} phase_runs linux $K --kernel $L2/vmlinuz \
		--initrd $L2/initrd.cpio --net none --stats --cmdline "$L2_CMDLINE" >>$T/phases
	[ $qemu_ok = 1 ] && pruns=${BENCH_LINUX_PHASE_RUNS:-2} phase_runs microvm \
		$Q -L /usr/share/qemu -accel kvm -M microvm -m 256M -nodefaults -no-reboot \
		-display none -serial stdio -kernel $L2/vmlinuz -initrd $L2/initrd.cpio \
		-append "$L2_CMDLINE" >>$T/phases
fi
sed 's/^/@@@ NOTE phase-sample /' $T/phases
awk -F'|' -v host="$host" '
function med(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
{ k = $1 "|" $2; if (!(k in n)) order[++no] = k; n[k]++; v[k, n[k]] = $3 }
END {
	print ""
	print "| host | run | phase | runs | median | min | max | unit |"
	print "|---|---|---|---|---|---|---|---|"
	for (o = 1; o <= no; o++) {
		k = order[o]; split(k, p, "|"); split("", a)
		mn = mx = v[k, 1]
		for (i = 1; i <= n[k]; i++) { a[i] = v[k, i] + 0; if (a[i] < mn) mn = a[i]; if (a[i] > mx) mx = a[i] }
		unit = p[2] ~ /^kvmini/ ? "ms" : p[2] ~ /uptime/ ? "s" : "us"
		printf "| %s | %s | %s | %d | %s | %s | %s | %s |\n", host, p[1], p[2], n[k], med(a, n[k]), mn, mx, unit
	}
}' $T/phases | sed 's/^/@@@ TABLE /'
