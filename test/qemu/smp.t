#!/bin/bash
# smp.t - the tiny guest under QEMU's own q35 with four CPUs (-smp 4, TCG
# with one host thread per vCPU, so that the CPUs really run at once), with
# every check crosscheck.t makes plus guest/smp.c's: each AP started by
# INIT-SIPI-SIPI from the MADT's APIC IDs, its own LAPIC timer, an IPI and
# its answer, a shared counter under a lock, virtio-net's and edu's MSIs
# aimed at an AP.  An independent machine agreeing with what
# test/nested/scenarios/smp.sh sees under kvmini --cpus.
cd "$(dirname "$0")/../.." || exit 1
build=${BUILD:-build}
XC_SMP=4 XC_TCG_OPTS=,thread=multi XC_NAME=smp XC_WHAT="guest on 4 CPUs" \
	exec test/qemu/crosscheck.t
