#!/bin/bash
# crosscheck.t - boot the tiny guest directly under QEMU's own q35 machine,
# without kvmini and without nesting, and turn what it says into TAP.
#
# QEMU boots build/guest.elf through its PVH note.  There is no report port
# there, so the guest prints its checks itself on COM1 as
#     ok N - NAME   /   not ok N - NAME
# then "guest: done, status S", and writes S to isa-debug-exit (port 0xf4),
# which makes QEMU exit with (S << 1) | 1.  QEMU's own devices are there
# for the guest to cross-check its drivers against: its host bridge, an edu
# device and a modern-only virtio-net-pci whose wire is a unix datagram
# socket looping back to itself (no host network at all: what the guest
# sends comes back to it).
#
# Env: GUEST (default build/guest.elf), QEMU_TIMEOUT (default 60 s),
# BUILD (default build), XC_NAME (log name and TAP prefix; elf32.t runs this
# with the ELF32 link), XC_SMP (CPUs, default 1; smp.t runs this with 4),
# XC_APPEND (more guest command line).  The console log is kept in
# $BUILD/qemu/.
set -uo pipefail

cd "$(dirname "$0")/../.."
build=${BUILD:-build}
guest=${GUEST:-$build/guest.elf}
tmo=${QEMU_TIMEOUT:-60}
xc=${XC_NAME:-crosscheck}
log=$build/qemu/$xc.log
what=${XC_WHAT:-guest}
mkdir -p "$build/qemu"

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "1..0 # SKIP qemu-system-x86_64 is not installed (make deps)"
	exit 0
fi
if [ ! -r "$guest" ]; then
	echo "1..1"
	echo "not ok 1 - $guest exists (run make)"
	exit 1
fi

sockdir=$(mktemp -d /tmp/kvmini-xc.XXXXXX)
trap 'rm -rf "$sockdir"' EXIT
wire=$sockdir/wire

qemu=(qemu-system-x86_64 -M q35 -accel "tcg${XC_TCG_OPTS:-}" -smp "${XC_SMP:-1}" -m 128M -nographic -nic none -no-reboot
	-kernel "$guest" -append "pci_start=firmware${XC_APPEND:+ $XC_APPEND}"
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	-device edu
	-netdev "dgram,id=net0,local.type=unix,local.path=$wire,remote.type=unix,remote.path=$wire"
	-device virtio-net-pci,netdev=net0,disable-legacy=on,romfile=)

echo "# qemu: booting $guest under QEMU (TCG, timeout ${tmo}s); console in $log" >&2
t0=$(date +%s)
echo "# ${qemu[*]}" >"$log"
timeout -k 5 "$tmo" "${qemu[@]}" </dev/null >>"$log" 2>&1
rc=$?
echo "# qemu: exit status $rc after $(($(date +%s) - t0)) s" >&2

# Parse: the guest's own TAP-like lines, renumbered, and the done line.
n=0
fail=0
emit() { # ok|not-ok description
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
nchecks=0
status=
while IFS= read -r line; do
	line=${line//$'\r'/}
	if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ (.*)$ ]]; then
		nchecks=$((nchecks + 1))
		if [ -z "${BASH_REMATCH[1]}" ]; then
			emit ok "$what under QEMU: ${BASH_REMATCH[2]}"
		else
			emit not-ok "$what under QEMU: ${BASH_REMATCH[2]}"
		fi
	elif [[ $line =~ guest:\ done,\ status\ ([0-9]+) ]]; then
		status=${BASH_REMATCH[1]}
	fi
done < <(tail -n +2 "$log")

[ $nchecks -gt 0 ] && emit ok "$what under QEMU printed $nchecks checks" ||
	emit not-ok "$what under QEMU printed checks (none seen)"
# With several CPUs the guest must have seen them all and made its SMP
# checks (guest/smp.c): four of its own, one for virtio-net's MSI-X and one
# for edu's MSI aimed at an AP.  Whether they passed is in the lines above.
smp=${XC_SMP:-1}
if [ "$smp" -gt 1 ]; then
	nsmp=$(tr -d '\r' <"$log" | grep -cE '^(not )?ok [0-9]+ - smp: ')
	# grep on the file itself: under pipefail, "tr | grep -q" fails whenever
	# grep has matched and gone before tr writes the rest (SIGPIPE).  The
	# console's CR sits at the end of a line, after what the pattern needs.
	if grep -q "^smp: $smp CPUs in the MADT" "$log" && [ "$nsmp" = 6 ]; then
		emit ok "$what under QEMU found $smp CPUs in the MADT and made 6 SMP checks"
	else
		emit not-ok "$what under QEMU found $smp CPUs in the MADT and made 6 SMP checks (made $nsmp)"
	fi
fi
if [ -n "$status" ]; then
	emit ok "$what under QEMU reported done (status $status)"
	want=$(((status << 1) | 1))
	if [ "$rc" = "$want" ]; then
		emit ok "QEMU exit status $rc = (status << 1) | 1 (isa-debug-exit)"
	else
		emit not-ok "QEMU exit status $rc, expected $want from isa-debug-exit"
	fi
	[ "$status" = 0 ] && emit ok "guest status is 0" || emit not-ok "guest status is 0 (got $status)"
else
	[ "$rc" = 124 ] || [ "$rc" = 137 ] && why="timed out after ${tmo}s" || why="QEMU exit status $rc"
	emit not-ok "$what under QEMU reported done ($why)"
fi

if [ $fail = 1 ]; then
	echo "# console of the failed run (last 40 lines of $log):"
	tail -n 40 "$log" | sed 's/\r//g; s/^/#   | /'
fi
echo "1..$n"
exit $fail
