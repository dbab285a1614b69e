#!/bin/bash
# multiboot.t - the Multiboot test kernel (test/multiboot/mbtest.asm), as
# an ELF32 and as a flat binary with the a.out-kludge fields, under QEMU's
# own Multiboot loader (qemu-system-x86_64 -kernel, no KVM): an
# independent loader that must agree with kvmini's (vmm/multiboot.c) on
# what the kernel checks (also linked at 0x1000, build/test/mbtest-low.elf).
# The kernel prints "ok N - ..." lines on COM1,
# "mbtest: done, F failed", then resets through 0xcf9; with -no-reboot
# QEMU then exits 0.  kvmini boots the same file in
# test/nested/scenarios/foundation.sh (where the reset gives exit 10).
#
# Env: MBTEST (default build/test/mbtest.elf), QEMU_TIMEOUT (default 60 s).
set -uo pipefail

cd "$(dirname "$0")/../.."
build=${BUILD:-build}
kernel=${MBTEST:-$build/test/mbtest.elf}
aout=$build/test/mbtest-aout.bin
module=test/multiboot/module.txt
tmo=${QEMU_TIMEOUT:-60}
log=$build/qemu/multiboot.log
mkdir -p "$build/qemu"

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "1..0 # SKIP qemu-system-x86_64 is not installed (make deps)"
	exit 0
fi
n=0
fail=0
emit() {
	n=$((n + 1))
	if [ "$1" = ok ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

# run_one KERNEL WHAT: boot it, turn its lines into TAP.
run_one() {
	local kernel=$1 what=$2 rc nchecks=0 done_line= line
	local qemu=(qemu-system-x86_64 -M q35 -accel tcg -m 128M -nographic -nic none -no-reboot
		-kernel "$kernel" -append "mbtest=hello" -initrd "$module")
	if [ ! -r "$kernel" ]; then
		emit not-ok "$kernel exists (run make)"
		return
	fi
	echo "# ${qemu[*]}" >>"$log"
	timeout -k 5 "$tmo" "${qemu[@]}" </dev/null >"$log.one" 2>&1
	rc=$?
	cat "$log.one" >>"$log"
	while IFS= read -r line; do
		line=${line//$'\r'/}
		# SeaBIOS's banner shares the line with the kernel's first output.
		line=${line##*Booting from ROM..}
		if [[ $line =~ ^(not\ )?ok\ [0-9]+\ -\ (.*)$ ]]; then
			nchecks=$((nchecks + 1))
			[ -z "${BASH_REMATCH[1]}" ] && emit ok "$what under QEMU: ${BASH_REMATCH[2]}" ||
				emit not-ok "$what under QEMU: ${BASH_REMATCH[2]}"
		elif [[ $line =~ ^mbtest:\ done ]]; then
			done_line=$line
		fi
	done <"$log.one"
	rm -f "$log.one"
	[ $nchecks = 8 ] && emit ok "$what under QEMU printed its 8 checks" ||
		emit not-ok "$what under QEMU printed its 8 checks (saw $nchecks)"
	[ "$done_line" = "mbtest: done, 0 failed" ] && emit ok "$what reported done, 0 failed" ||
		emit not-ok "$what reported done, 0 failed (got '${done_line:-nothing}')"
	# -no-reboot: the 0xcf9 reset ends QEMU with status 0; a timeout is 124.
	[ $rc = 0 ] && emit ok "QEMU exited 0 after the $what's 0xcf9 reset" ||
		emit not-ok "QEMU exited 0 after the $what's 0xcf9 reset (status $rc)"
}

: >"$log"
run_one "$kernel" "Multiboot ELF kernel"
run_one "$aout" "Multiboot a.out-kludge kernel"
# Linked at 0x1000, where loaders like to put their own structures: QEMU
# puts its after the kernel; kvmini moves its boot block (testkernels.sh).
run_one "$build/test/mbtest-low.elf" "Multiboot ELF kernel at 0x1000"

if [ $fail = 1 ]; then
	echo "# console of the failed run (last 30 lines of $log):"
	tail -n 30 "$log" | sed 's/\r//g; s/^/#   | /'
fi
echo "1..$n"
exit $fail
