# startup.sh - exec-to-exit time and peak RSS of kvmini against a floor and
# a peer, all in this one L1 boot (issue 12; docs/benchmarks.md).
# l1: --mem 2G --timeout 3000 --tree @BUILD@/bench/tree
# l1-prep: test/bench/prep.sh
#
# Cases (each timed by /bench/timeit: fork, exec, wait4; output to /dev/null):
#   floor             a bare KVM program: VM, one page, one vCPU, first exit
#   kvmini-exit       kvmini, the exit-at-once PVH image, default devices
#   kvmini-exit-nonet the same with --net none
#   qemu-microvm-exit QEMU -accel kvm -M microvm, the same image
#   qemu-q35-exit     QEMU -accel kvm -M q35, the same image
#   kvmini-full       kvmini's embedded guest, its whole run
#   qemu-q35-full     the embedded guest under QEMU q35 (virtio-net, edu)
#   kvmini-linux      Linux (bzImage + busybox initramfs) to init, then reboot
#   qemu-microvm-linux the same kernel and initramfs under QEMU microvm
# Rounds are interleaved (round r runs every case in turn, N times each)
# so a slow spell of the machine hits all cases alike.  BENCH_ROUNDS and
# BENCH_RUNS / BENCH_SLOW_RUNS (cases over a second) change the counts.
rounds=${BENCH_ROUNDS:-3}
runs=${BENCH_RUNS:-10}
slow_runs=${BENCH_SLOW_RUNS:-2}
Q=/usr/bin/qemu-system-x86_64
qemu_ok=0
[ -x $Q ] && [ "$L1_KVM" = 1 ] && qemu_ok=1
linux_ok=0
[ -s /l2/vmlinuz ] && [ -s /l2/initrd.cpio ] && linux_ok=1
L2_CMDLINE="console=ttyS0 panic=-1 loglevel=1 pci=noearly l2.reboot=1"

# One run of a case; timeit prints "microseconds maxrss-KiB status".  Each
# run is bounded by timeit itself (TIMEIT_LIMIT; a hang shows as status 137
# and is named in a note, instead of stopping the whole bench).
export TIMEIT_LIMIT=300
run_case() {
	case $1 in
	floor) /bench/timeit /bench/floor ;;
	kvmini-exit) /bench/timeit kvmini --kernel /bench/exit.elf ;;
	kvmini-exit-nonet) /bench/timeit kvmini --kernel /bench/exit.elf --net none ;;
	qemu-microvm-exit)
		/bench/timeit $Q -L /usr/share/qemu -accel kvm -M microvm -m 64M -nodefaults \
			-no-reboot -display none -kernel /bench/exit.elf ;;
	qemu-q35-exit)
		/bench/timeit $Q -L /usr/share/qemu -accel kvm -M q35 -m 64M -nodefaults \
			-no-reboot -display none -kernel /bench/exit.elf ;;
	kvmini-full) /bench/timeit kvmini ;;
	qemu-q35-full)
		/bench/timeit $Q -L /usr/share/qemu -accel kvm -M q35 -m 64M -nodefaults \
			-no-reboot -display none -serial stdio -kernel /bench/guest.elf \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
			-netdev dgram,id=n0,local.type=unix,local.path=/tmp/w,remote.type=unix,remote.path=/tmp/w \
			-device virtio-net-pci,netdev=n0,disable-legacy=on,romfile= ;;
	kvmini-linux)
		/bench/timeit kvmini --kernel /l2/vmlinuz --initrd /l2/initrd.cpio --net none \
			--cmdline "$L2_CMDLINE" ;;
	qemu-microvm-linux)
		/bench/timeit $Q -L /usr/share/qemu -accel kvm -M microvm -m 256M -nodefaults \
			-no-reboot -display none -serial stdio -kernel /l2/vmlinuz \
			-initrd /l2/initrd.cpio -append "$L2_CMDLINE" ;;
	esac
}

cases="floor kvmini-exit kvmini-exit-nonet kvmini-full"
[ $qemu_ok = 1 ] && cases="$cases qemu-microvm-exit qemu-q35-exit qemu-q35-full"
[ $linux_ok = 1 ] && cases="$cases kvmini-linux"
[ $linux_ok = 1 ] && [ $qemu_ok = 1 ] && cases="$cases qemu-microvm-linux"
[ $qemu_ok = 1 ] || note "SKIP QEMU cases: no $Q in L1 or no KVM (test/bench/prep.sh)"
[ $linux_ok = 1 ] || note "SKIP Linux cases: no /l2 kernel (test/nested/linux-l2.sh)"
# The embedded guest as a file, for QEMU (prep.sh copies build/guest.elf).
[ -s /bench/guest.elf ] || note "no /bench/guest.elf: qemu-q35-full runs nothing useful"

# Each case once first, with its output, so a broken case fails the bench
# instead of timing an error path.
case_run floor-works -- /bench/floor
case_run kvmini-exit-crashes rc=8 'match=triple fault' -- kvmini --kernel /bench/exit.elf
case_run kvmini-full-works checks -- kvmini
if [ $qemu_ok = 1 ]; then
	case_run qemu-microvm-exit-works -- $Q -L /usr/share/qemu -accel kvm -M microvm -m 64M \
		-nodefaults -no-reboot -display none -kernel /bench/exit.elf
fi
if [ $linux_ok = 1 ]; then
	case_run kvmini-linux-boots rc=10 timeout=300 'match=kvmini-l2: init started' \
		-- kvmini --kernel /l2/vmlinuz --initrd /l2/initrd.cpio --net none --cmdline "$L2_CMDLINE"
fi

: >/tmp/samples
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
			echo "$r $c $res" >>/tmp/samples
		done
		i=$((i + 1))
	done
	note "round $r of $rounds done"
	r=$((r + 1))
done
sed 's/^/@@@ NOTE sample /' /tmp/samples

# Per case: median/min/max over all runs, the per-round medians, the
# median peak RSS; ratios of medians against the floor and against QEMU.
sort -k2,2 -k1,1n -k3,3n /tmp/samples | awk -v order="$cases" '
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
	print "| case | runs | median ms | min ms | max ms | round medians ms | x floor | x QEMU microvm | peak RSS KiB |"
	print "|---|---|---|---|---|---|---|---|---|"
	for (x = 1; x <= k; x++) {
		c = cs[x]
		peer = c ~ /linux/ ? "qemu-microvm-linux" : c ~ /exit/ ? "qemu-microvm-exit" : ""
		rq = (peer != "" && M[peer] > 0) ? sprintf("%.2f", M[c] / M[peer]) : "-"
		if (killed[c]) note = note sprintf(" %s: %d run(s) killed or hung, left out.", c, killed[c])
		printf "| %s | %d | %.1f | %.1f | %.1f | %s | %.2f | %s | %d |\n", c, n[c], M[c], MIN[c], MAX[c], RS[c], M[c] / M["floor"], rq, RSS[c]
	}
	if (note != "") print "\nNote:" note
}' | sed 's/^/@@@ TABLE /'

# Where kvmini's start-up goes: every syscall with its duration, once.
if [ -x /usr/bin/strace ]; then
	note "strace -f -r -T kvmini --kernel /bench/exit.elf (default devices):"
	/usr/bin/strace -f -r -T kvmini --kernel /bench/exit.elf 2>&1 >/dev/null | sed 's/^/@@@ NOTE strace /'
	note "strace -f -r -T /bench/floor:"
	/usr/bin/strace -f -r -T /bench/floor 2>&1 >/dev/null | sed 's/^/@@@ NOTE strace /'
fi
note "THP: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
# Memory: kvmini's peak RSS less the guest RAM the guest touched (--stats).
for how in "exit --kernel /bench/exit.elf" "exit-nonet --kernel /bench/exit.elf --net none" \
	"full" "full-nonet --net none"; do
	set -- $how
	name=$1
	shift
	kvmini "$@" --stats 2>&1 | sed -n 's/^ *memory: peak RSS \([0-9]*\) KiB, guest RAM resident \([0-9]*\) KiB, kvmini.s own \(-*[0-9]*\) KiB/\1 \2 \3/p' |
		while read -r peak guest own; do
			bench "kvmini_${name}_peak_rss" "$peak" KiB
			bench "kvmini_${name}_guest_ram" "$guest" KiB
			bench "kvmini_${name}_own_rss" "$own" KiB
		done
done
kvmini --stats >/tmp/full.out 2>&1
sed -n 's/^ *VM exits: *\([0-9][0-9]*\).*/\1/p' /tmp/full.out | head -n1 | while read -r e; do
	bench kvmini_vm_exits "$e" exits
done
sed -n 's/^ *serial  *\([0-9][0-9]*\)$/\1/p' /tmp/full.out | head -n1 | while read -r e; do
	bench kvmini_serial_exits "$e" exits
done
