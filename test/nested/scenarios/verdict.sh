# verdict.sh - issue 19: the verdict a smoke test reads (kvmini's exit
# status, its last lines, the --report file) says what happened, and the
# command line says what is wrong with it.  One L1 boot, many small runs
# of the tiny guest (mostly --net none, the quickest).
# Runs inside the nested L1 (see test/nested/lib.sh for the helpers).
# l1: --file @BUILD@/bench/exit.elf:/l2/exit.elf --file @BUILD@/test/smptest.elf:/l2/smptest.elf

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

# Command-line friction.  QEMU's spellings: the option typed is named (not
# the program's name, as argv[optind-1] did), with kvmini's own.
case_run qemu-kernel rc=2 lines=1 "match=^kvmini: unknown option '-kernel' \\(QEMU's spelling\\): kvmini's is --kernel\$" \
	-- kvmini -kernel /bin/busybox
case_run qemu-append rc=2 lines=1 "match=^kvmini: unknown option '-append' \\(QEMU's spelling\\): kvmini's is --cmdline\$" \
	-- kvmini --net none -append console=ttyS0
case_run qemu-m rc=2 lines=1 "match=^kvmini: unknown option '-m' \\(QEMU's spelling\\): kvmini's is --mem\$" \
	-- kvmini -m 64
case_run qemu-nographic rc=2 lines=1 "match=^kvmini: unknown option '-nographic' \\(QEMU's\\): kvmini has no display" \
	-- kvmini -nographic
case_run subcommand-typo rc=2 lines=1 "match=^kvmini: unknown subcommand 'chek' \\(did you mean check\\?\\)\$" \
	-- kvmini chek
# lspci's form of an address (no domain) is domain 0000.
case_run vfio-lspci-form rc=0 "match=^\\[vfio  \\] attach: $EDU_BDF\$" 'match=^kvmini: guest done, status 0$' \
	-- kvmini --vfio "${EDU_BDF#0000:}" --net none --trace vfio

# Output.  The run's first line is the guest's banner, not a blank line.
case_run first-line rc=0 -- sh -c 'kvmini --net none >/tmp/first.out 2>&1; rc=$?; cat /tmp/first.out; exit $rc'
check first-line-is-the-banner sh -c 'head -n1 /tmp/first.out | grep -q "^kvmini tiny guest "'
# With --net none the guest says why it skips the traffic checks in a line
# like its others, not a TAP line among the check lines.
check net-none-no-tap-line sh -c '! grep -q "^ok - " /tmp/first.out && grep -q "^virtio-net: link down (--net none?): no traffic checks$" /tmp/first.out'
# --stats: every count in one column, the long device names included
# ("pit port 0x61 (until first use)": a guest that never touches the PIT,
# test/bench/exit.asm; the vfio rows with edu).
case_run stats-columns rc=8 'match=^    pit port 0x61 \(until first use\) +0$' \
	'match=^    vfio: device errors reported by the host \(ERR, AER\) +0$' 'match=^    attach ioctls +[0-9]+$' \
	-- sh -c 'kvmini --kernel /l2/exit.elf --vfio "$EDU_BDF" --net none --stats >/tmp/stats.out 2>&1; rc=$?; cat /tmp/stats.out; exit $rc'
check stats-every-count-in-one-column awk '
	/^kvmini: stats/ { on = 1; next }
	on && /^    [^ ].* [0-9]+$/ {
		match($0, /[0-9]+$/)
		if (col == "") col = RSTART
		if (RSTART != col) { print "misaligned: " $0; bad = 1 }
		n++
	}
	END { if (n < 20) { print "only " n " rows"; bad = 1 }; exit bad }' /tmp/stats.out

# --mem's documented minimum boots the built-in guest (2M did not: "out
# of memory for buffers"), and less is refused before anything starts.
case_run mem-minimum-boots checks rc=0 -- kvmini --mem 3M
case_run mem-below-minimum rc=2 lines=1 "match=^kvmini: --mem 2M is too small: at least 3M" -- kvmini --mem 2M

# A setup step that takes long says so: the DMA map of 512 MiB of guest
# RAM (seconds in the rig), then the guest stops at once.
case_run slow-step-said rc=8 \
	'match=^kvmini: attaching --vfio \(the DMA map pins all guest RAM\) took [0-9]+\.[0-9] s$' \
	-- kvmini --kernel /l2/exit.elf --vfio "$EDU_BDF" --net none --mem 512M

# A run that stops at setup still leaves its report: here the --vfio device
# does not exist (status 6); verdict.post reads it.
case_run report-on-setup-failure rc=6 'match=^kvmini: vfio 0000:7f:1f\.7: no such PCI device' \
	-- kvmini --vfio 0000:7f:1f.7 --net none --report /tmp/setup.json
json report-on-setup-failure /tmp/setup.json

# --debug-exit: the guest picks the status, (V << 1) | 1; the report's
# reason says so instead of kvmini's meaning of that number (1 would read
# "the guest reported a failure"; smptest's 0 is its pass).
case_run debug-exit-report rc=1 -- kvmini --kernel /l2/smptest.elf --debug-exit --cpus 1 \
	--cmdline cpus=1 --net none --report /tmp/dx.json
check debug-exit-reason-is-the-guests grep -q \
	'"status":1,"reason":"the guest wrote 0x0 to isa-debug-exit (--debug-exit): status (V << 1) | 1","guest_status":0' /tmp/dx.json
