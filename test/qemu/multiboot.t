#!/bin/bash
# multiboot.t - the Multiboot test kernel (test/multiboot/mbtest.asm) under
# QEMU's own Multiboot loader (qemu-system-x86_64 -kernel, no KVM): an
# independent loader that must agree with kvmini's (vmm/multiboot.c) on
# what the kernel checks.  The kernel prints "ok N - ..." lines on COM1,
# "mbtest: done, F failed", then resets through 0xcf9; with -no-reboot
# QEMU then exits 0.  kvmini boots the same file in
# test/nested/scenarios/foundation.sh (where the reset gives exit 10).
#
# Env: MBTEST (default build/test/mbtest.elf), QEMU_TIMEOUT (default 60 s).
set -uo pipefail

cd "$(dirname "$0")/../.."
build=${BUILD:-build}
kernel=${MBTEST:-$build/test/mbtest.elf}
module=test/multiboot/module.txt
tmo=${QEMU_TIMEOUT:-60}
log=$build/qemu/multiboot.log
mkdir -p "$build/qemu"

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "1..0 # SKIP qemu-system-x86_64 is not installed (make deps)"
	exit 0
fi
if [ ! -r "$kernel" ]; then
	echo "1..1"
	echo "not ok 1 - $kernel exists (run make)"
	exit 1
fi

qemu=(qemu-system-x86_64 -M q35 -accel tcg -m 128M -nographic -nic none -no-reboot
	-kernel "$kernel" -append "mbtest=hello" -initrd "$module")
echo "# ${qemu[*]}" >"$log"
timeout -k 5 "$tmo" "${qemu[@]}" </dev/null >>"$log" 2>&1
rc=$?

n=0
fail=0
emit() {
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
nchecks=0
done_line=
while IFS= read -r line; do
	line=${line//$'\r'/}
	# SeaBIOS's banner shares the line with the kernel's first output.
	line=${line##*Booting from ROM..}
	if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ (.*)$ ]]; then
		nchecks=$((nchecks + 1))
		[ -z "${BASH_REMATCH[1]}" ] && emit ok "Multiboot kernel under QEMU: ${BASH_REMATCH[2]}" ||
			emit not-ok "Multiboot kernel under QEMU: ${BASH_REMATCH[2]}"
	elif [[ $line =~ ^mbtest:\ done ]]; then
		done_line=$line
	fi
done < <(tail -n +2 "$log")

[ $nchecks = 8 ] && emit ok "Multiboot kernel under QEMU printed its 8 checks" ||
	emit not-ok "Multiboot kernel under QEMU printed its 8 checks (saw $nchecks)"
[ "$done_line" = "mbtest: done, 0 failed" ] && emit ok "Multiboot kernel reported done, 0 failed" ||
	emit not-ok "Multiboot kernel reported done, 0 failed (got '${done_line:-nothing}')"
# -no-reboot: the 0xcf9 reset ends QEMU with status 0; a timeout is 124.
[ $rc = 0 ] && emit ok "QEMU exited 0 after the kernel's 0xcf9 reset" ||
	emit not-ok "QEMU exited 0 after the kernel's 0xcf9 reset (status $rc)"

if [ $fail = 1 ]; then
	echo "# console of the failed run (last 30 lines of $log):"
	tail -n 30 "$log" | sed 's/\r//g; s/^/#   | /'
fi
echo "1..$n"
exit $fail
