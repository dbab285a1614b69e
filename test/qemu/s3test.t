#!/bin/bash
# s3test.t - the S3 test kernel (test/multiboot/s3test.asm) under QEMU's
# own machine (qemu-system-x86_64 -kernel, TCG): it suspends to ACPI S3
# with the RTC alarm armed, QEMU wakes it at the FACS waking vector, and
# its verdict goes through isa-debug-exit (status 1 when every check
# passed).  kvmini must agree: test/nested/scenarios/testkernels.sh,
# case s3-wake.
#
# Env: S3TEST (default build/test/s3test.elf), QEMU_TIMEOUT (default 90 s).
tmo=${QEMU_TIMEOUT:-90}
. "$(dirname "$0")/lib.sh"
kernel=${S3TEST:-$build/test/s3test.elf}
log=$build/qemu/s3test.log
if [ ! -r "$kernel" ]; then
	emit not-ok "$kernel exists (run make)"
	echo "1..$n"
	exit 1
fi
: >"$log"
boot_kernel s3test -device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$kernel"
emit_checks "under QEMU: "
nchecks=${#check_what[@]}
[ $nchecks = 6 ] && emit ok "the kernel printed its 6 checks" ||
	emit not-ok "the kernel printed its 6 checks (saw $nchecks)"
[ "$done_line" = "s3test: done, 0 failed" ] && emit ok "done, 0 failed" ||
	emit not-ok "done, 0 failed (got '${done_line:-nothing}')"
[ $rc = 1 ] && emit ok "QEMU exited 1 through isa-debug-exit" ||
	emit not-ok "QEMU exited 1 through isa-debug-exit (status $rc)"
finish "console"
