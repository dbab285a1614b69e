# lib.sh - helpers for scenarios running inside the nested L1 (busybox sh).
#
# A scenario is a shell script sourced by the L1 init after this file.
# Boots are expensive (TCG), so one scenario runs many cases in one boot.
# Each helper prints "@@@ " marker lines that test/nested/tap.awk turns
# into TAP on the host:
#
#   case_run NAME [EXPECT...] -- CMD [ARGS...]
#       Runs CMD with its output on the console, bounded by a timeout, and
#       brackets it with "@@@ BEGIN NAME" / "@@@ END NAME rc=N ms=T".
#       EXPECT words (each becomes one or more TAP lines):
#         rc=N          exit status must be N (default: 0)
#         rc=any        no check on the exit status
#         checks        every "kvmini: check N passed|FAILED: X" line is a
#                       TAP line; none at all, or no "guest done", fails
#         match=ERE     some output line matches ERE (awk syntax)
#         nomatch=ERE   no output line matches ERE
#         lines=N       exactly N output lines (kernel log lines excluded)
#         timeout=S     stop CMD (TERM, then KILL 5 s later) after S
#                       seconds (default 60); a case that hits it fails
#   check NAME CMD [ARGS...]   one TAP line: ok when CMD exits 0
#   note TEXT                  a TAP comment
#   bench NAME VALUE UNIT      a benchmark figure (make bench collects it)
#   uptime_ms                  prints milliseconds since L1 boot
#   hold OUT ERE CMD...        CMD in the background until its output
#                              matches ERE; pid in $held
#
# Environment set by init: L1_KVM (1/0), EDU_BDF, EDU_GROUP, EDU_VFIO (1/0),
# EDU_CDEV (vfioN or empty), VNET_BDF, VNET_GROUP, VNET_VFIO, VNET_CDEV
# (l1.sh --vnet-dev), L1_IOMMUFD (1/0: /dev/iommu exists),
# TAP (tap0, or empty), TAP_ADDR, TAP_PREFIX, KVMINI (/bin/kvmini),
# L1_ACCEL (tcg/kvm), L1_IOMMU (1/0), L1_SCENARIO.
# Case names: no spaces.

uptime_ms() {
	local up s c
	read -r up _ </proc/uptime
	s=${up%.*}
	c=${up#*.}
	c=${c#0}
	echo $((s * 1000 + c * 10))
}

case_run() {
	local name=$1 t=60 rc_want=0 t0 rc ms
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $1 in
		rc=*) rc_want=${1#rc=} ;;
		checks) echo "@@@ EXPECT $name checks" ;;
		match=*) echo "@@@ EXPECT $name match ${1#match=}" ;;
		nomatch=*) echo "@@@ EXPECT $name nomatch ${1#nomatch=}" ;;
		lines=*) echo "@@@ EXPECT $name lines ${1#lines=}" ;;
		timeout=*) t=${1#timeout=} ;;
		*) echo "@@@ EXPECT $name bad-expectation $1" ;;
		esac
		shift
	done
	[ "$1" = -- ] && shift
	[ "$rc_want" = any ] || echo "@@@ EXPECT $name rc $rc_want"
	echo "@@@ BEGIN $name: $*"
	t0=$(uptime_ms)
	timeout -k 5 "$t" "$@" </dev/null 2>&1
	rc=$?
	ms=$(($(uptime_ms) - t0))
	[ $ms -ge $((t * 1000)) ] && echo "@@@ TIMEOUT $name after ${t}s"
	echo "@@@ END $name rc=$rc ms=$ms"
	return 0
}

check() {
	local name=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then
		echo "@@@ CHECK ok $name"
	else
		echo "@@@ CHECK fail $name"
		sed 's/^/@@@ NOTE   /' /tmp/check.out
	fi
}

note() {
	echo "@@@ NOTE $*"
}

bench() {
	echo "@@@ BENCH $1 $2 $3"
}

# hold OUTFILE WAIT_ERE CMD [ARGS...]: start CMD in the background with its
# output in OUTFILE and wait (120 s at most) until a line matches WAIT_ERE;
# its pid is left in $held.  For the in-use and signal tests.
hold() {
	local out=$1 want=$2 i=0
	shift 2
	"$@" >"$out" 2>&1 &
	held=$!
	while ! grep -qE "$want" "$out" && [ $i -lt 120 ]; do
		sleep 1
		i=$((i + 1))
	done
}
