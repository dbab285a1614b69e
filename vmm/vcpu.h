/* SPDX-License-Identifier: MIT */
/* vcpu.h - the vCPU's start state and its run loop. */
#ifndef KVMINI_VCPU_H
#define KVMINI_VCPU_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

/* A start state: control registers, GDT, entry and the one or two
 * registers a boot protocol passes; vcpu_start() adds flat code/data
 * segments (64-bit code when long_mode), a busy TSS and interrupts off. */
struct vcpu_start {
	bool long_mode;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	uint64_t rip, rax, rbx, rsi;
};
void vcpu_start(struct vm *vm, const struct vcpu_start *st);

/* PVH start state: 32-bit protected mode, flat segments, paging off,
 * %ebx = start_info, at entry. */
void vcpu_setup_pvh(struct vm *vm, uint32_t entry, uint32_t start_info);

/* Linux's 64-bit boot protocol entry: long mode over the identity map and
 * GDT bzimage_load() wrote (BZ_PML4, BZ_GDT), %rsi = BZ_ZERO_PAGE. */
void vcpu_setup_linux64(struct vm *vm, uint64_t entry);

/* Run until the guest is done (report port, power-off), crashes, or a
 * signal asks us to stop.  Returns kvmini's exit status. */
int vcpu_run(struct vm *vm);

/* Called from the SIGINT/SIGTERM handler: make KVM_RUN return. */
void vcpu_request_stop(struct vm *vm, int sig);

/* Another thread asks the VM to stop: vcpu_run() prints "kvmini: WHY" and
 * returns status.  vcpu_kick_init() must have run on the vCPU thread (it
 * installs the VCPU_KICK_SIGNAL handler that pulls KVM_RUN out). */
#define VCPU_KICK_SIGNAL SIGUSR1
void vcpu_kick_init(void);
void vcpu_request_exit(struct vm *vm, int status, const char *why);

/* Print registers to stderr (for crashes and unhandled exits). */
void vcpu_dump(struct vm *vm);

/* Name of a KVM_EXIT_* reason, for --stats and errors. */
const char *vcpu_exit_name(unsigned reason);

#endif
