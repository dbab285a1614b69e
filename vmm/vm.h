/* SPDX-License-Identifier: MIT */
/*
 * vm.h - the virtual machine: KVM handles, guest RAM, memory slots,
 * interrupt routing, and the teardown list.  Everything a device needs
 * from KVM goes through here, so devices never call KVM ioctls by hand.
 *
 * Ordering: vm_create() first; devices register before vcpu_run(); the
 * at-exit list runs in reverse order of registration on every way out
 * (normal return, die(), SIGINT/SIGTERM), so a device registered after
 * another is released before it.
 */
#ifndef KVMINI_VM_H
#define KVMINI_VM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"

#define VM_MAX_SLOTS 32
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

struct vm {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;

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
	 * ports (vm_create leaves a trap there).  pio_replay asks the vCPU
	 * loop to run the trapped port access again, now in the kernel. */
	bool pit_created;
	bool pio_replay;

	/* Guest finished: set by the report device or a power-off. */
	bool done;
	int exit_status;

	uint64_t exits[64]; /* by KVM_EXIT_* reason, for --stats */
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
 * its RAM (mem_size bytes), the in-kernel irqchip, and one vCPU.  The
 * in-kernel PIT follows at the guest's first access to ports 0x40-0x43 or
 * 0x61 (see kvm.c).  Dies with EXIT_NO_KVM / EXIT_KVM_CAP / EXIT_HOST. */
void vm_create(struct vm *vm, uint64_t mem_size);

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
