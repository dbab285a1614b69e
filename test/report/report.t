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
# No /dev/kvm: a private mount namespace with an empty /dev (root only).
nokvm=
if unshare -m true 2>/dev/null; then
	nokvm=check-no-kvm
fi
{
	run check
	run check-no-tap --net tap=kvmnosuchtap
	if [ -n "$nokvm" ]; then
		echo "@@@ BEGIN $nokvm: kvmini check (empty /dev)"
		unshare -m sh -c 'mount -t tmpfs none /dev && "$1" check --report "$2"' sh \
			"$build/kvmini" "$tmp/$nokvm.json" 2>&1
		echo "@@@ END $nokvm rc=$? ms=0"
		echo "@@@ JSON $nokvm $(cat "$tmp/$nokvm.json" 2>/dev/null || echo '{}')"
	fi
} >"$tmp/log"
out=$(/usr/bin/python3 test/report/check_reports.py docs/report.schema.json "$tmp/log" check check-no-tap $nokvm)
n=0
while IFS= read -r line; do
	case $line in
	"ok - "*) n=$((n + 1)); echo "ok $n ${line#ok - }" ;;
	"not ok - "*) n=$((n + 1)); echo "not ok $n ${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done <<<"$out"
# A run gets to the tap after KVM: without a usable /dev/kvm here, both
# the run and the check end with 3 (the nested smoke scenario has the 7).
n=$((n + 1))
want=7
[ -r /dev/kvm ] && [ -w /dev/kvm ] || want=3
if grep -q "\"status\":$want" "$tmp/check-no-tap.json" &&
	grep -q '"text":"--net tap=kvmnosuchtap: no such interface","fix":"ip tuntap add dev kvmnosuchtap mode tap' "$tmp/check-no-tap.json"; then
	echo "ok $n - a missing tap: its item and fix in the report, status $want"
else
	echo "not ok $n - a missing tap: its item and fix in the report, status $want"
fi
n=$((n + 1))
if [ -z "$nokvm" ]; then
	echo "ok $n # SKIP no /dev/kvm case: unshare -m not permitted here (needs root)"
elif grep -q '"status":3,"reason":"[^"]*/dev/kvm' "$tmp/$nokvm.json"; then
	echo "ok $n - without /dev/kvm: status 3, and the reason names /dev/kvm"
else
	echo "not ok $n - without /dev/kvm: status 3, and the reason names /dev/kvm"
fi
# A run that stops at setup (a --kernel that is not there: status 5, before
# KVM is opened on any host) still leaves a report: the status, its line as
# the reason, the host; valid against the schema.
"$build/kvmini" --kernel /nonexistent --report "$tmp/setup.json" 2>"$tmp/setup.err"
rc=$?
n=$((n + 1))
if /usr/bin/python3 - docs/report.schema.json "$tmp/setup.json" "$rc" "$tmp/setup.err" <<'PY'
import json, sys, jsonschema
r = json.load(open(sys.argv[2]))
jsonschema.validate(r, json.load(open(sys.argv[1])))
line = open(sys.argv[4]).read().strip()
assert r["mode"] == "run" and r["status"] == int(sys.argv[3]) == 5, r["status"]
assert line == "kvmini: " + r["reason"], (line, r["reason"])
assert r["guest_status"] is None and r["devices"] == []
PY
then
	echo "ok $n - a run that stops at setup (status 5) leaves a valid report with its line as the reason"
else
	echo "not ok $n - a run that stops at setup (status 5) leaves a valid report with its line as the reason"
fi
echo "1..$n"
