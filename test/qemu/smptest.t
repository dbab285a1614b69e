#!/bin/bash
# smptest.t - the SMP test kernel (test/multiboot/smptest.asm) under QEMU's
# own machine (qemu-system-x86_64 -kernel, TCG, no KVM) with 1, 2 and 4
# CPUs: QEMU is the independent machine whose verdict kvmini's must match
# (test/nested/scenarios/testkernels.sh runs the same file under kvmini).
# The kernel reads its program name and cpus=N from the Multiboot command
# line, counts the CPUs in the MADT, starts the APs with INIT-SIPI-SIPI,
# and gives its verdict through isa-debug-exit at 0xf4 (iosize=4): QEMU
# exits (V << 1) | 1, 1 when every check passed.  One run with a wrong
# cpus=N shows the verdict goes the other way too (status 3).
#
# Env: SMPTEST (default build/test/smptest.elf), QEMU_TIMEOUT (default 90 s).
tmo=${QEMU_TIMEOUT:-90}
. "$(dirname "$0")/lib.sh"
kernel=${SMPTEST:-$build/test/smptest.elf}
log=$build/qemu/smptest.log

# run_one SMP CPUS_ARG WANT_RC WANT_FAILED: boot it, turn its lines into TAP.
run_one() {
	local smp=$1 arg=$2 want_rc=$3 want_failed=$4 nchecks
	local what="-smp $smp, cpus=$arg"
	if [ ! -r "$kernel" ]; then
		emit not-ok "$kernel exists (run make)"
		return
	fi
	boot_kernel smptest -smp "$smp" -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-kernel "$kernel" -append "cpus=$arg"
	[ "$want_failed" = 0 ] && emit_checks "$what: "
	nchecks=${#check_what[@]}
	[ $nchecks = 8 ] && emit ok "$what: the kernel printed its 8 checks" ||
		emit not-ok "$what: the kernel printed its 8 checks (saw $nchecks)"
	[ "$done_line" = "smptest: done, $want_failed failed" ] &&
		emit ok "$what: done, $want_failed failed" ||
		emit not-ok "$what: done, $want_failed failed (got '${done_line:-nothing}')"
	[ $rc = "$want_rc" ] && emit ok "$what: QEMU exited $want_rc through isa-debug-exit" ||
		emit not-ok "$what: QEMU exited $want_rc through isa-debug-exit (status $rc)"
}

: >"$log"
run_one 1 1 1 0
run_one 2 2 1 0
run_one 4 4 1 0
# The MADT says 2, the command line 3: one check fails, verdict 1, status 3.
run_one 2 3 3 1

finish "console of the failed run"
