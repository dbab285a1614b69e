/* SPDX-License-Identifier: MIT */
/*
 * vm.h - the virtual machine: KVM handles, guest RAM, memory slots,
 * interrupt routing, and the teardown list.  Everything a device needs
 * from KVM goes through here, so devices never call KVM ioctls by hand.
 *
 * Ordering: vm_create() first; devices register before vcpu_run_all(); the
 * at-exit list runs in reverse order of registration on every way out
 * (normal return, die(), SIGINT/SIGTERM), so a device registered after
 * another is released before it.
 */
#ifndef KVMINI_VM_H
#define KVMINI_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"

#define VM_MAX_SLOTS 32
#define VM_MAX_VCPUS 32  /* --cpus: APIC IDs 0..31, xAPIC MADT entries suffice */
#define VM_EXIT_REASONS 64 /* exit counters kept per KVM_EXIT_* reason */
#define VM_MAX_GSI 256   /* routing table size we manage */
#define VM_GSI_MSI_FIRST 24 /* GSIs 0-23 are the IOAPIC pins */

struct vm_slot {
	bool used;
	uint64_t gpa, size;
	void *hva;
	const char *name;
};

struct vm_atexit {
	void (*fn)(void *);
	void *arg;
};

struct vm;

/* One vCPU: its KVM fd and kvm_run area, the thread that runs it, and what
 * it counted.  vCPU 0 is the boot processor and runs on kvmini's main
 * thread; the others (the APs) each get a thread of their own, and wait in
 * KVM_RUN, inside the kernel, until the guest's INIT-SIPI-SIPI. */
struct vcpu {
	struct vm *vm;
	unsigned id; /* KVM's vcpu id = the initial APIC ID */
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_up;	      /* an AP thread was created (joined at the end) */
	bool in_loop;	      /* between the start and the end of its run loop */
	bool pio_replay;      /* run this port exit again, in the kernel (kvm.c) */
	bool s3_resume;	      /* woken from ACPI S3: restart in real mode ... */
	uint32_t s3_vector;   /* ... at this waking vector (devices/pm.c) */
	uint64_t exits[VM_EXIT_REASONS]; /* by KVM_EXIT_* reason; this thread's own */
};

/* The vCPU whose exit the calling thread handles now (NULL elsewhere):
 * what a device or the PIT trap needs of "the CPU that did this". */
extern __thread struct vcpu *vcpu_current;

struct vm {
	int kvm_fd, vm_fd;
	size_t run_size;

	unsigned ncpus;		     /* --cpus */
	struct vcpu vcpus[VM_MAX_VCPUS];

	/* The device lock: every trapped exit that reaches a device model
	 * (the bus tables, and what the handlers touch) is handled under it,
	 * one vCPU at a time.  Threads other than vCPUs never take it; see
	 * docs/architecture.md, "Locking". */
	pthread_mutex_t lock;

	uint8_t *mem;      /* guest RAM, [0, mem_size) at gpa 0 */
	uint64_t mem_size;

	struct vm_slot slots[VM_MAX_SLOTS]; /* slot 0 is RAM */

	struct bus pio, mmio;

	/* GSI routing: the whole table is handed to KVM on every change. */
	struct kvm_irq_routing_entry routes[VM_MAX_GSI];
	bool gsi_used[VM_MAX_GSI];
	unsigned nroutes;

	struct vm_atexit atexit[32];
	unsigned natexit;

	/* The in-kernel PIT: created at the guest's first access to its
	 * ports (vm_create leaves a trap there); the vCPU that trapped runs
	 * the access again, now in the kernel (struct vcpu, pio_replay). */
	bool pit_created;
	bool routes_committed; /* vm->routes handed to KVM (kvm.c: lazily) */

	/* Guest finished: set by the report device or a power-off (under
	 * the device lock, which is where the vCPU loops read it). */
	bool done;
	int exit_status;

	/* By KVM_EXIT_* reason, all vCPUs together: summed from each vCPU's
	 * own counters when the run ends, for --stats and --report. */
	uint64_t exits[VM_EXIT_REASONS];
};

/* The KVM capabilities vm_create() requires, with what each is for; the
 * same table drives `kvmini check` (vmm/check.c). */
struct vm_cap {
	int cap;
	const char *name, *why;
};
extern const struct vm_cap vm_caps[];
extern const size_t vm_ncaps;

/* Open /dev/kvm, check the API and every capability we use, create the VM,
 * its RAM (mem_size bytes), the in-kernel irqchip, and ncpus vCPUs (1 to
 * VM_MAX_VCPUS; CPUID topology per vCPU, TSCs in step).  The in-kernel PIT
 * follows at the guest's first access to ports 0x40-0x43 or 0x61 (see
 * kvm.c).  Dies with EXIT_NO_KVM / EXIT_KVM_CAP / EXIT_HOST, and with
 * EXIT_HOST when this KVM allows fewer vCPUs than ncpus (before creating
 * anything). */
void vm_create(struct vm *vm, uint64_t mem_size, unsigned ncpus);

/* Trapped accesses from a vCPU thread, under the device lock: port I/O
 * (count elements of size bytes at data, which has room for avail bytes;
 * count 1 is a plain in/out) and MMIO.  *done says whether the guest is
 * done (report port, power-off), read under the same lock.  vm_pio
 * returns false when the string does not fit in avail (nothing done). */
bool vm_pio(struct vm *vm, uint16_t port, uint8_t *data, size_t avail, uint32_t size,
	    uint32_t count, bool out, bool *done);
void vm_mmio(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len, bool is_write,
	     bool *done);

/* Bytes of guest RAM resident in kvmini now (mincore): what the guest
 * (or a loader) touched, for --stats to tell kvmini's own memory apart. */
uint64_t vm_ram_resident(struct vm *vm);

/* The host pointer for guest range [gpa, gpa+len) when it lies wholly in
 * RAM, else NULL.  Every guest-supplied address goes through this. */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len);

/* Install host memory [hva, hva+size) at guest [gpa, gpa+size) as a KVM
 * memory slot.  Returns the slot index, or -EINVAL (unaligned, overlaps
 * RAM or another slot), -ENOSPC, or -errno from KVM. */
int vm_slot_add(struct vm *vm, uint64_t gpa, uint64_t size, void *hva, const char *name);
/* Remove a slot added by vm_slot_add(): 0 or -errno. */
int vm_slot_del(struct vm *vm, int slot);

/* Does [gpa, gpa+size) overlap RAM or any memory slot? */
bool vm_range_overlaps_ram(struct vm *vm, uint64_t gpa, uint64_t size);

/* Level of an IOAPIC/PIC line (KVM_IRQ_LINE). */
int vm_irq_line(struct vm *vm, unsigned gsi, int level);

/* MSI routes: allocate a GSI (>= VM_GSI_MSI_FIRST), point it at an MSI
 * address/data pair, free it.  Each change rewrites KVM's table. */
int vm_msi_route_alloc(struct vm *vm);
int vm_msi_route_set(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data);
void vm_msi_route_free(struct vm *vm, unsigned gsi);
/* Inject one MSI directly (KVM_SIGNAL_MSI). */
int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data);

/* KVM_IRQFD: eventfd fd raises gsi.  resample_fd >= 0 makes it level-
 * triggered (INTx): KVM signals resample_fd at EOI.  assign=false removes. */
int vm_irqfd(struct vm *vm, int fd, unsigned gsi, int resample_fd, bool assign);

/* KVM_IOEVENTFD: a guest write of len bytes to addr signals fd without an
 * exit.  pio selects port space.  assign=false removes. */
int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int fd, bool pio, bool assign);

/* Run fn(arg) at teardown, in reverse order of registration. */
void vm_at_exit(struct vm *vm, void (*fn)(void *), void *arg);
/* Run the teardown list once (idempotent), then close the VM. */
void vm_destroy(struct vm *vm);

#endif
