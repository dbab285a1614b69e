/* SPDX-License-Identifier: MIT */
/* vcpu.h - the vCPU's start state and its run loop. */
#ifndef KVMINI_VCPU_H
#define KVMINI_VCPU_H

#include <stdint.h>

struct vm;

/* PVH start state: 32-bit protected mode, flat segments, paging off,
 * %ebx = start_info, at entry. */
void vcpu_setup_pvh(struct vm *vm, uint32_t entry, uint32_t start_info);

/* Run until the guest is done (report port, power-off), crashes, or a
 * signal asks us to stop.  Returns kvmini's exit status. */
int vcpu_run(struct vm *vm);

/* Called from the SIGINT/SIGTERM handler: make KVM_RUN return. */
void vcpu_request_stop(struct vm *vm, int sig);

/* Print registers to stderr (for crashes and unhandled exits). */
void vcpu_dump(struct vm *vm);

/* Name of a KVM_EXIT_* reason, for --stats and errors. */
const char *vcpu_exit_name(unsigned reason);

#endif
