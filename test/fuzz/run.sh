#!/bin/sh
# test/fuzz/run.sh NAME SECONDS [RUNS] - one long run of build/fuzz/fuzz_NAME
# (make fuzz calls it, FUZZ_JOBS of them at once).  It stops after SECONDS
# or RUNS executions, whichever comes first (RUNS 0: no cap), keeps the
# growing corpus in $BUILD/fuzz/NAME/corpus, the whole log in
# $BUILD/fuzz/NAME/log, and prints one summary line:
#   == fuzz NAME: ok, 10000000 runs in 812 s (12315/s), cov 684, corpus 1597
# or "FAILED, ..." naming the input libFuzzer kept.  Exit 1 on a failure.
set -u
t=$1 secs=$2 runs=${3:-0}
BUILD=${BUILD:-build}
dir=$BUILD/fuzz/$t
mkdir -p "$dir/corpus"
rm -f "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*
seeds=$(ls -d test/fuzz/corpus/$t 2>/dev/null)
lim=-1 cap=""
[ "$runs" -gt 0 ] && lim=$runs cap=" or $runs runs"
echo "== fuzz $t: up to $secs s$cap (log $dir/log)"
t0=$(date +%s)
"$BUILD/fuzz/fuzz_$t" -max_total_time="$secs" -runs="$lim" \
	-print_final_stats=1 -timeout=10 -use_value_profile=1 \
	-artifact_prefix="$dir/" "$dir/corpus" $seeds </dev/null >"$dir/log" 2>&1
rc=$?
el=$(($(date +%s) - t0))
bad=$(ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* 2>/dev/null | head -1)
if [ $rc -ne 0 ] || [ -n "$bad" ]; then
	echo "== fuzz $t: FAILED (exit $rc) after $el s, input ${bad:-none kept}, see $dir/log"
	grep -E 'ERROR|invariant|SUMMARY|runtime error' "$dir/log" | head -5 | sed 's/^/   /'
	exit 1
fi
n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
rate=$((n / (el > 0 ? el : 1)))
last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|NEW|REDUCE|pulse)' "$dir/log" | tail -1)
cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
echo "== fuzz $t: ok, $n runs in $el s ($rate/s), cov $cov, corpus $corp"
