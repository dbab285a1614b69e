/* SPDX-License-Identifier: MIT */
/*
 * phase.h - where kvmini's own time goes, from main() to the last close:
 * each phase_mark(P) ends phase P at that moment (CLOCK_MONOTONIC).
 * --stats prints the phases once the teardown is over (docs/benchmarks.md:
 * make bench reads them to say where a regression sits).
 */
#ifndef KVMINI_PHASE_H
#define KVMINI_PHASE_H

#include <stdio.h>

enum phase {
	PH_START,	   /* main() entered: the zero point */
	PH_PARSE,	   /* command line, signals, seccomp probe */
	PH_IMAGE,	   /* kernel/initrd read (or the guest unpacked), parsed */
	PH_VM,		   /* /dev/kvm, VM, RAM slot, irqchip, vCPU */
	PH_DEVICES,	   /* serial ... vfio, firmware-like PCI start */
	PH_LOAD,	   /* ACPI tables, the image into RAM, registers */
	PH_CONFINE,	   /* host facts for --report, seccomp filters */
	PH_RUN,		   /* the vCPU loop, to the guest's verdict */
	PH_REPORT,	   /* console flushed, --stats, --report written */
	PH_TD_DEVICES,	   /* teardown: the devices' own (threads, VFIO release) */
	PH_TD_VCPU,	   /* teardown: kvm_run unmapped, vCPU fd closed */
	PH_TD_VM,	   /* teardown: VM fd closed (KVM destroys the VM here) */
	PH_TD_RAM,	   /* teardown: /dev/kvm closed, guest RAM unmapped */
	PH_MAX
};

void phase_mark(enum phase p);
/* The clock the marks use, in milliseconds; and when phase p ended (0 if
 * never marked).  Everything in kvmini that times itself reads these. */
double phase_now_ms(void);
double phase_at(enum phase p);
/* One line per phase with its milliseconds, then the total; phases never
 * reached are left out. */
void phase_print(FILE *f);

#endif
