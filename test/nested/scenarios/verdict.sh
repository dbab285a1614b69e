# verdict.sh - issue 19: the verdict a smoke test reads (kvmini's exit
# status, its last lines, the --report file) says what happened, and the
# command line says what is wrong with it.  One L1 boot, many small runs
# of the tiny guest (mostly --net none, the quickest).
# Runs inside the nested L1 (see test/nested/lib.sh for the helpers).

# The guest's status is its own: any nonzero one ends kvmini with 1 (the
# guest-failure code), never with the guest's number, which would read as
# one of kvmini's codes (3 no /dev/kvm, 6 VFIO, 11 the device taken back;
# 0x10b is 11 once cut to a byte).  The number is on the done line.
for st in 3 6 11 0x10b; do
	case $st in 0x10b) dec=267 ;; *) dec=$st ;; esac
	case_run guest-status-$st rc=1 \
		"match=^kvmini: guest done, status $dec \\(0x[0-9a-f]+\\): the guest failed, kvmini exits 1\$" \
		-- kvmini --net none --cmdline status=$st --report /tmp/status-$st.json
done
# ... and in the report: status 1, guest_status the number, the reason says so.
check guest-status-in-the-report grep -q \
	'"status":1,"reason":"the guest reported a failure: its status 267 (0x10b)","guest_status":267' \
	/tmp/status-0x10b.json
check guest-status-3-in-the-report grep -q '"status":1,.*"guest_status":3,' /tmp/status-3.json

# The --report file is opened before anything runs: a path that cannot be
# created is a usage error (one line, exit 2, no guest); a write that fails
# is exit 13 with the error named; "-" is stdout, and then stdout holds the
# JSON alone (the console goes to stderr) and no file named "-" appears.
json() { echo "@@@ JSON $1 $(cat "$2" 2>/dev/null || echo '{}')"; }
cd /tmp
case_run report-uncreatable rc=2 lines=1 "match=^kvmini: --report '/nonexistent/dir/x.json': cannot create it \\(No such file" \
	-- kvmini --net none --report /nonexistent/dir/x.json
case_run report-is-a-directory rc=2 lines=1 "match=^kvmini: --report '/tmp': cannot create it" \
	-- kvmini --net none --report /tmp
case_run report-dev-full rc=13 'match=^kvmini: guest done, status 0$' \
	"match=^kvmini: cannot write the report to '/dev/full': No space left on device \\(without it the status would have been 0" \
	-- kvmini --net none --report /dev/full
case_run check-report-dev-full rc=13 "match=^kvmini: cannot write the report to '/dev/full': No space left" \
	-- kvmini check --net none --report /dev/full
case_run report-stdout rc=0 -- sh -c 'kvmini --net none --report - >/tmp/rs.json 2>/tmp/rs.err'
check report-stdout-is-one-json-line sh -c '[ "$(wc -l </tmp/rs.json)" = 1 ] && grep -q "^{\"kvmini\":.*}$" /tmp/rs.json'
check report-stdout-console-on-stderr grep -q '^kvmini: guest done, status 0$' /tmp/rs.err
check report-stdout-creates-no-file test ! -e /tmp/-
json report-stdout /tmp/rs.json
case_run check-report-stdout rc=any -- sh -c 'kvmini check --net none --report - >/tmp/cs.json 2>/tmp/cs.err'
check check-report-stdout-is-one-json-line sh -c '[ "$(wc -l </tmp/cs.json)" = 1 ] && grep -q "^{\"kvmini\":.*\"mode\":\"check\".*}$" /tmp/cs.json'
check check-report-stdout-items-on-stderr grep -q '^kvmini check: ' /tmp/cs.err
json check-report-stdout /tmp/cs.json
json guest-status-0x10b /tmp/status-0x10b.json
cd /
