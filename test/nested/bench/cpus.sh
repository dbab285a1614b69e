# cpus.sh - what each extra vCPU costs (issue 18; docs/benchmarks.md):
# exec-to-exit time and peak RSS of kvmini --cpus N with the image that
# stops at once (test/bench/exit.asm: creation, the APs' threads, their
# stop and teardown, no guest work), and the embedded guest's whole run
# (its checks on vCPU 0, the APs idle in the kernel: nosmp, or the guest
# would start them and run its SMP checks), for N = 1 to 32.
# l1: --mem 2G --timeout 3000 --tree @BUILD@/bench/tree
# l1-prep: test/bench/prep.sh
#
# Rounds are interleaved (round r runs every N in turn) so a slow spell of
# the machine hits every N alike.  BENCH_ROUNDS, BENCH_RUNS change counts.
# Figures: the median per N, and the cost of one more vCPU as the
# least-squares slope of those medians over N (ms per vCPU).  Peak RSS is
# given per N; its median moved by about 2 MiB between N (500 to 2,764 KiB),
# far more than a vCPU adds, so no per-vCPU figure is drawn from it.
rounds=${BENCH_ROUNDS:-3}
runs=${BENCH_RUNS:-5}
counts="1 2 4 8 16 32"
export TIMEIT_LIMIT=300

case_run cpus-exit-works rc=8 'match=triple fault' -- kvmini --kernel /bench/exit.elf --cpus 4
case_run cpus-full-works checks -- kvmini --cpus 4 --cmdline nosmp

: >/tmp/samples
r=1
while [ $r -le "$rounds" ]; do
	i=1
	while [ $i -le "$runs" ]; do
		for n in $counts; do
			echo "$r exit $n $(/bench/timeit kvmini --kernel /bench/exit.elf --net none --cpus $n)" >>/tmp/samples
		done
		for n in 1 4; do
			echo "$r full $n $(/bench/timeit kvmini --cpus $n --cmdline nosmp)" >>/tmp/samples
		done
		i=$((i + 1))
	done
	note "round $r of $rounds done"
	r=$((r + 1))
done
sed 's/^/@@@ NOTE sample /' /tmp/samples

# Per (image, N): median time, min, max, median peak RSS; then the slope.
awk '
function med(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
NF < 6 || $6 == 137 { next }
{ k = $2 " " $3; n[k]++; t[k, n[k]] = $4 / 1000; m[k, n[k]] = $5; keys[k] = 1 }
END {
	for (k in keys) {
		split("", a); split("", b)
		for (i = 1; i <= n[k]; i++) { a[i] = t[k, i]; b[i] = m[k, i] }
		mn = a[1]; mx = a[1]
		for (i = 1; i <= n[k]; i++) { if (a[i] < mn) mn = a[i]; if (a[i] > mx) mx = a[i] }
		split(k, kk, " ")
		M = med(a, n[k]); R = med(b, n[k])
		printf "@@@ TABLE | %s | %d | %d | %.1f | %.1f | %.1f | %d |\n", kk[1], kk[2], n[k], M, mn, mx, R
		printf "@@@ BENCH cpus_%s_%d_ms %.1f ms\n", kk[1], kk[2], M
		printf "@@@ BENCH cpus_%s_%d_peak_rss %d KiB\n", kk[1], kk[2], R
		if (kk[1] == "exit") { sx += kk[2]; sy += M; sxx += kk[2] * kk[2]; sxy += kk[2] * M; np++ }
	}
	if (np > 1) {
		slope = (np * sxy - sx * sy) / (np * sxx - sx * sx)
		printf "@@@ BENCH cpus_exit_ms_per_vcpu %.2f ms\n", slope
	}
}' /tmp/samples | sort
