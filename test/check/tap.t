#!/bin/bash
# tap.t - on this host, no guest: `kvmini check --net` says what a run will
# say of its --net (both read it through the same functions: the spec
# parser, then vnet_tap_open()), and every fix line it prints for a tap
# works when pasted into a root shell: after the fix, the same check says
# ok.  Real taps, in a private network namespace (root; else SKIP).  The
# run's own exit 7 needs KVM first: test/nested/scenarios/virtio.sh.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
case $build in /*) ;; *) build=$PWD/$build ;; esac
kvmini=$build/kvmini
n=0
ok() { # COND-STATUS TEXT
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }

# --- usage errors: check and run alike, before anything else ------------
for spec in bogus tap=abcdefghijklmnopqrst tap=t,mac=01:00:00:00:00:01 tap=t,queue=3; do
	c=$("$kvmini" check --net "$spec" 2>&1)
	crc=$?
	r=$("$kvmini" --net "$spec" 2>&1)
	rrc=$?
	[ $crc = 2 ] && [ $rrc = 2 ] && [ "$c" = "$r" ] && [ "$(printf '%s\n' "$c" | wc -l)" = 1 ]
	ok $? "--net $spec: check and the run both exit 2 with the same one line ($c)"
done

if [ "$(id -u)" != 0 ] || ! unshare -n -m true 2>/dev/null; then
	skip "the tap cases need root and unshare -n -m (private network and mount namespaces)"
	echo "1..$n"
	exit 0
fi
if [ ! -c /dev/net/tun ] || ! command -v ip >/dev/null; then
	skip "no /dev/net/tun, or no ip (iproute2) to make taps with"
	echo "1..$n"
	exit 0
fi

# --- the tap cases, in a network namespace of their own -----------------
# The inner shell prints "ok - ..." lines; they are numbered here.
inner=$(unshare -n -m bash -s "$kvmini" 2>&1 <<'EOF'
kvmini=$1
ok() { if [ "$1" = 0 ]; then echo "ok - $2"; else echo "not ok - $2"; fi; }
item() { "$kvmini" check --net "tap=$1" 2>&1 | grep -A1 -- "--net tap=$1:"; }
# Paste the fix line into a root shell with no USER, check again.
fix_then_ok() { # NAME EXPECTED-ITEM-REGEX [CHECK-AS-NAME]
	local name=$1 want=$2 after=${3:-$1} out fix
	out=$(item "$name")
	printf '%s\n' "$out" | sed 's/^/# /'
	printf '%s\n' "$out" | head -1 | grep -Eq "^(missing|not permitted) +--net tap=$name: $want"
	ok $? "--net tap=$name: check says '$want'"
	fix=$(printf '%s\n' "$out" | sed -n 's/^ *fix: //p')
	[ -n "$fix" ]
	ok $? "--net tap=$name: a fix line"
	[ -n "$fix" ] && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "$fix"
	ok $? "--net tap=$name: the fix line runs in a root shell without \$USER"
	out=$(item "$after")
	printf '%s\n' "$out" | sed 's/^/# /'
	printf '%s\n' "$out" | grep -Eq "^ok +--net tap=$after: a tap, up"
	ok $? "--net tap=$after: check says ok after the fix"
}

ip link set lo up
fix_then_ok nosuch 'no such interface'
ip -4 addr show dev nosuch | grep -q 'inet 169.254.100.1/24'
ok $? "the created tap has the address the built-in guest pings (169.254.100.1/24)"

# A second --net (issue 21): the fix line of its tap takes the next subnet,
# the peer the built-in guest pings on that device (169.254.101.1).
out=$("$kvmini" check --net tap=nosuch --net tap=second7 2>&1 | grep -A1 -- "--net tap=second7:")
printf '%s\n' "$out" | sed 's/^/# /'
fix=$(printf '%s\n' "$out" | sed -n 's/^ *fix: //p')
[ -n "$fix" ] && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "$fix"
ip -4 addr show dev second7 2>/dev/null | grep -q 'inet 169.254.101.1/24'
ok $? "a second --net's tap, made by its fix line, has the second subnet's peer (169.254.101.1/24)"

fix_then_ok lo 'the loopback interface, not a tap' kvmtap0

ip tuntap add dev tun7 mode tun
fix_then_ok tun7 'a tun, not a tap' kvmtap1

ip tuntap add dev down7 mode tap
fix_then_ok down7 'down'

ip tuntap add dev mq7 mode tap multi_queue
ip link set mq7 up
fix_then_ok mq7 'refused \(EINVAL\)'

# Held by another process (a tap stays attached while its fd is open).
ip tuntap add dev held7 mode tap
ip link set held7 up
if command -v python3 >/dev/null; then
	python3 -c '
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"held7", 0x1002))  # TUNSETIFF, IFF_TAP|IFF_NO_PI
print("holding", flush=True)
time.sleep(60)' >/tmp/held7.$$ &
	holder=$!
	for i in $(seq 100); do grep -q holding /tmp/held7.$$ && break; sleep 0.1; done
	fix_then_ok held7 "busy: process $holder \(python3\) has it open"
	wait $holder 2>/dev/null
	rm -f /tmp/held7.$$
else
	echo "ok - # SKIP no python3 to hold a tap"
fi

# As another user: /dev/net/tun closed to it, then the tap root's.  A
# private /dev/net (mount namespace) so that the first fix changes no mode
# outside this test.  Each fix makes the next step's check go further.
as_nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$kvmini" check --net tap=mine7 2>&1 |
	grep -A1 -- '--net tap=mine7:'; }
if command -v setpriv >/dev/null && mount -t tmpfs none /dev/net && mknod -m 0600 /dev/net/tun c 10 200; then
	ip tuntap add dev mine7 mode tap user 0
	ip link set mine7 up
	for want in 'cannot open /dev/net/tun: Permission denied' 'not permitted'; do
		out=$(as_nobody)
		printf '%s\n' "$out" | sed 's/^/# /'
		printf '%s\n' "$out" | head -1 | grep -Eq "^not permitted +--net tap=mine7: $want"
		ok $? "--net tap=mine7 as uid 65534: $want"
		fix=$(printf '%s\n' "$out" | sed -n 's/^ *fix: //p')
		[ -n "$fix" ] && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "$fix"
		ok $? "the fix line ($fix) runs in a root shell without \$USER"
	done
	printf '%s\n' "$fix" | grep -q 'mode tap user 65534 '
	ok $? "the tap's fix line makes it uid 65534's"
	out=$(as_nobody)
	printf '%s\n' "$out" | sed 's/^/# /'
	printf '%s\n' "$out" | grep -Eq '^ok +--net tap=mine7: a tap, up'
	ok $? "--net tap=mine7 as uid 65534: ok after the fixes"
else
	echo "ok - # SKIP no setpriv, or no private /dev/net, for the other-user case"
fi
EOF
)
while IFS= read -r line; do
	case $line in
	"ok - "*) n=$((n + 1)); echo "ok $n ${line#ok - }" ;;
	"not ok - "*) n=$((n + 1)); echo "not ok $n ${line#not ok - }" ;;
	*) echo "$line" ;;
	esac
done <<<"$inner"
echo "1..$n"
