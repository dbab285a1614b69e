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
# stdout.  BENCH="a b" runs only those scenarios.  The startup scenario
# also runs directly on /dev/kvm where that runs kvmini (test/bench/direct.sh);
# every row of its tables names its host (L1 or direct).
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
# The start-up rows again, directly on this machine's /dev/kvm, where it
# runs kvmini (test/bench/direct.sh says why when it does not).
case " ${list[*]} " in
*/startup.sh\ *)
	log=$out/startup-direct.log
	echo "== make bench: startup directly on /dev/kvm (console in $log)"
	"$root/test/bench/direct.sh" "$log"
	case $? in
	0)
		sed -n 's/.*@@@ BENCH \(.*\)/\1/p' "$log" | sed "s/^/startup-direct /" | tee -a "$results"
		sed -n 's/.*@@@ TABLE \(.*\)/\1/p' "$log" | tee "$out/startup-direct.md"
		if awk -v scenario=startup-direct -f "$here/tap.awk" "$log" | grep '^not ok'; then
			fail=1
		fi
		;;
	3) ;;
	*) fail=1 ;;
	esac
	;;
esac
echo "== make bench: results in $results"
exit $fail
