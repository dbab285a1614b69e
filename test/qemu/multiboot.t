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
tmo=${QEMU_TIMEOUT:-60}
. "$(dirname "$0")/lib.sh"
kernel=${MBTEST:-$build/test/mbtest.elf}
aout=$build/test/mbtest-aout.bin
module=test/multiboot/module.txt
log=$build/qemu/multiboot.log

# run_one KERNEL WHAT: boot it, turn its lines into TAP.
run_one() {
	local kernel=$1 what=$2 nchecks
	if [ ! -r "$kernel" ]; then
		emit not-ok "$kernel exists (run make)"
		return
	fi
	boot_kernel mbtest -kernel "$kernel" -append "mbtest=hello" -initrd "$module"
	emit_checks "$what under QEMU: "
	nchecks=${#check_what[@]}
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

finish "console of the failed run"
