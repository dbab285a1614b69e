#!/bin/bash
# bench.sh - `make bench`: run the benchmark scenarios in the nested L1
# (one boot each) and collect their figures.
#
# A benchmark scenario is test/nested/bench/NAME.sh, written like a test
# scenario (test/nested/lib.sh), that reports figures with
#     bench NAME VALUE UNIT
# Figures under TCG are emulated and noisy: report counts and ratios, or
# medians of several runs, never a single absolute time.  Results go to
# build/bench/results.txt (one "scenario name value unit" per line) and to
# stdout.  BENCH="a b" runs only those scenarios.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
out=$build/bench
mkdir -p "$out"
results=$out/results.txt
: >"$results"

if [ -n "${BENCH:-}" ]; then
	list=()
	for b in $BENCH; do list+=("$here/bench/${b%.sh}.sh"); done
else
	list=("$here"/bench/*.sh)
fi

fail=0
for sc in "${list[@]}"; do
	name=$(basename "$sc" .sh)
	log=$out/$name.log
	echo "== make bench: $name (console in $log)"
	"$here/l1.sh" "$sc" "$log" --timeout "${L1_TIMEOUT:-600}" || fail=1
	# The cases must have worked for the figures to mean anything.
	if awk -v scenario="$name" -f "$here/tap.awk" "$log" | grep '^not ok'; then
		fail=1
	fi
	sed -n 's/\r//; s/.*@@@ BENCH \(.*\)/\1/p' "$log" | sed "s/^/$name /" | tee -a "$results"
	# A scenario may print a markdown table ("@@@ TABLE | ... |"): kept
	# as build/bench/NAME.md for docs/benchmarks.md.
	if grep -q '@@@ TABLE ' "$log"; then
		sed -n 's/\r//; s/.*@@@ TABLE \(.*\)/\1/p' "$log" | tee "$out/$name.md"
	fi
done
echo "== make bench: results in $results"
exit $fail
