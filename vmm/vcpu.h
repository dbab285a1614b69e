/* SPDX-License-Identifier: MIT */
/*
 * vcpu.h - the vCPUs' start state, their threads and the run loop.
 *
 * vCPU 0, the boot processor, runs on kvmini's main thread and is the one
 * the loaders start.  vCPUs 1..N-1 (--cpus N) each run on a thread of
 * their own, created by vcpu_threads_start() before the main thread
 * confines itself; each confines itself (the vCPU allowlist) and waits
 * until vcpu_run_all() says go, then sits in KVM_RUN, inside the kernel,
 * until the guest sends it INIT-SIPI-SIPI.  Whatever stops one vCPU
 * (shutdown, reset, crash, the guest's "done", Ctrl-C, SIGTERM, the VFIO
 * REQ) stops them all: the first request gives the status, and every vCPU
 * thread is kicked out of KVM_RUN (VCPU_KICK_SIGNAL).
 */
#ifndef KVMINI_VCPU_H
#define KVMINI_VCPU_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

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

/* Start the threads of vCPUs 1..N-1 (none for --cpus 1): each confines
 * itself and waits for vcpu_run_all().  Call on the main thread, after the
 * devices' setup and before seccomp_confine(); dies with EXIT_HOST. */
void vcpu_threads_start(struct vm *vm);

/* Run vCPU 0 on this thread and let the others go, until the guest is
 * done (report port, power-off), a vCPU crashes, or a signal or another
 * thread asks to stop; then every vCPU thread has stopped and been
 * joined.  Returns kvmini's exit status: the first stop's. */
int vcpu_run_all(struct vm *vm);

/* Called from the SIGINT/SIGTERM handler (on vCPU 0's thread): make
 * KVM_RUN return; vCPU 0's loop then stops the others. */
void vcpu_request_stop(struct vm *vm, int sig);

/* Another thread asks the VM to stop: vcpu_run_all() prints "kvmini: WHY"
 * and returns status.  vcpu_kick_init() installs the VCPU_KICK_SIGNAL
 * handler that pulls KVM_RUN out (vcpu_threads_start() calls it when there
 * are APs, the VFIO events thread when it starts). */
#define VCPU_KICK_SIGNAL SIGUSR1
void vcpu_kick_init(void);
void vcpu_request_exit(struct vm *vm, int status, const char *why);

/* At teardown, on whatever thread exits: stop every other vCPU and wait
 * (a second at most) until they have left their loops.  False if one did
 * not, whose kvm_run area must then stay mapped. */
bool vcpu_stop_all(struct vm *vm);

/* Print a vCPU's registers to stderr (for crashes and unhandled exits). */
void vcpu_dump(struct vcpu *c);

/* Name of a KVM_EXIT_* reason, for --stats and errors. */
const char *vcpu_exit_name(unsigned reason);

#endif
