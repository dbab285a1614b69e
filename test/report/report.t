#!/bin/bash
# report.t - on this host, no guest: `kvmini check --report` writes a
# report that docs/report.schema.json accepts and that agrees with the
# lines it printed, with and without a missing tap (status 7).  Runs
# without /dev/kvm too (the check then says so, status 3).
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
if ! /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; then
	echo "1..0 # SKIP /usr/bin/python3 has no jsonschema (make deps)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The same layout as an L1 console log (test/report/console.py).
run() { # NAME ARGS...
	local name=$1 rc
	shift
	echo "@@@ BEGIN $name: kvmini check $*"
	"$build/kvmini" check "$@" --report "$tmp/$name.json" 2>&1
	rc=$?
	echo "@@@ END $name rc=$rc ms=0"
	echo "@@@ JSON $name $(cat "$tmp/$name.json" 2>/dev/null || echo '{}')"
}
{
	run check
	run check-no-tap --net tap=kvmini-no-such-tap
} >"$tmp/log"
out=$(/usr/bin/python3 test/report/check_reports.py docs/report.schema.json "$tmp/log" check check-no-tap)
n=0
while IFS= read -r line; do
	case $line in
	"ok - "*) n=$((n + 1)); echo "ok $n ${line#ok - }" ;;
	"not ok - "*) n=$((n + 1)); echo "not ok $n ${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done <<<"$out"
n=$((n + 1))
if grep -q '"status":7' "$tmp/check-no-tap.json"; then
	echo "ok $n - a missing tap gives status 7 in the report"
else
	echo "not ok $n - a missing tap gives status 7 in the report"
fi
echo "1..$n"
