#!/bin/bash
# initrd.t - on this host, no guest: a Linux --initrd that cannot fit in
# the guest's RAM is refused from its size alone, before kvmini reads it
# (reading a large file takes seconds in a nested VM, and a refusal should
# not wait for it).  The proof: kvmini runs with less address space than
# the file's size, so reading it would fail ("out of memory", exit 9); the
# refusal must come first (exit 5, the one line naming the sizes).  Needs a
# Linux kernel: the Debian one test/nested/kernel.sh keeps for the L1.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
kvmini=$build/kvmini
echo "1..3"
if ! kdir=$(test/nested/kernel.sh 2>/dev/null) || ! vmlinuz=$(ls "$kdir"/boot/vmlinuz-* 2>/dev/null | head -n1) ||
	[ -z "$vmlinuz" ]; then
	for i in 1 2 3; do echo "ok $i # SKIP no Linux kernel here (test/nested/kernel.sh could not fetch one)"; done
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
truncate -s 300M "$tmp/big-initrd" # sparse: nothing is written
out=$(ulimit -v 131072; "$kvmini" --kernel "$vmlinuz" --initrd "$tmp/big-initrd" --mem 96M 2>&1)
rc=$?
[ $rc = 5 ] && echo "ok 1 - a 300 MiB initrd with --mem 96M: exit 5" ||
	echo "not ok 1 - a 300 MiB initrd with --mem 96M: exit 5 (got $rc)"
printf '%s\n' "$out" | grep -q '^kvmini: --initrd: the initrd (307200 KiB) does not fit in RAM' &&
	echo "ok 2 - refused before it is read, naming its size" ||
	echo "not ok 2 - refused before it is read, naming its size"
[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && echo "ok 3 - one line" ||
	{ echo "not ok 3 - one line"; printf '# %s\n' "$out"; }
