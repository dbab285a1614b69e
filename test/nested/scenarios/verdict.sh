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
