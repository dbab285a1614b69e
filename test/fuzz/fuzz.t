#!/bin/bash
# fuzz.t - every libFuzzer target in test/fuzz/ for a short, fixed number of
# executions (FUZZ_RUNS, default 3000) from its seeds, as TAP: one line per
# target.  Part of `make test` so the targets keep building and running; the
# long runs are `make fuzz FUZZ_S=N` (docs/fuzzing.md).  Fixed seed, fresh
# scratch corpus: a run replays the same inputs every time.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
runs=${FUZZ_RUNS:-3000}
names=$(ls test/fuzz/fuzz_*.c | sed 's,.*/fuzz_,,; s,\.c$,,')

cc=$(command -v clang-14 || command -v clang)
rt=$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null | head -1)
if [ -z "$cc" ] || [ -z "$rt" ]; then
	echo "1..0 # SKIP no clang or libFuzzer runtime (make deps installs clang-14, libclang-rt-14-dev)"
	exit 0
fi

echo "1..$(echo $names | wc -w)"
# One make for all of them (-k: a target that does not build fails alone).
make --no-print-directory -s -k fuzz-build >$BUILD/fuzz-build.log 2>&1
n=0
for t in $names; do
	n=$((n + 1))
	bin=$BUILD/fuzz/fuzz_$t
	scratch=$BUILD/fuzz/smoke/$t
	log=$BUILD/fuzz/smoke/$t.log
	mkdir -p "$BUILD/fuzz/smoke"
	rm -rf "$scratch" && mkdir -p "$scratch"
	if [ ! -x "$bin" ] || grep -q "fuzz_$t\] Error" $BUILD/fuzz-build.log; then
		echo "not ok $n - fuzz $t: build failed (make fuzz-build says why)"
		grep -E "error|Error" $BUILD/fuzz-build.log | sed 's/^/# /' | head -10
		continue
	fi
	seeds=$(ls -d test/fuzz/corpus/$t 2>/dev/null)
	t0=$(date +%s%N)
	"$bin" -runs="$runs" -seed=1 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$scratch/" \
		"$scratch" $seeds </dev/null >"$log" 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)
	if [ $rc -eq 0 ] && [ -n "$done_line" ]; then
		cov=$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
		echo "ok $n - fuzz $t: $runs runs from $(echo $seeds | xargs -r ls | wc -l) seeds, cov $cov, $((ms / 1000)).$((ms % 1000 / 100)) s"
	else
		echo "not ok $n - fuzz $t: exit $rc after $runs runs (input in $scratch/)"
		grep -E 'ERROR|invariant|SUMMARY|die\(|runtime error' "$log" | head -5 | sed 's/^/# /'
	fi
done
