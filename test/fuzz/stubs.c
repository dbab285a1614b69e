// SPDX-License-Identifier: MIT
/*
 * stubs.c - the KVM side of vmm/vm.h for the fuzz targets: guest RAM is a
 * heap buffer, memory slots are bookkeeping only, interrupts go nowhere.
 * The checks mirror vmm/kvm.c so the code under test sees the same refusals
 * it would see for real.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stubs.h"
#include "../../vmm/seccomp.h"
#include "../../vmm/trace.h"

struct vm fuzz_vm;

void fuzz_ram_reset(size_t size)
{
	free(fuzz_vm.mem);
	memset(&fuzz_vm, 0, sizeof(fuzz_vm));
	fuzz_vm.mem = calloc(1, size ? size : 1);
	if (!fuzz_vm.mem)
		abort();
	fuzz_vm.mem_size = size;
	fuzz_vm.slots[0] = (struct vm_slot){true, 0, size, fuzz_vm.mem, "RAM"};
}

int fuzz_in_ram(const void *p, uint64_t len)
{
	const uint8_t *b = (const uint8_t *)fuzz_vm.mem, *q = p;

	return q >= b && (uint64_t)(q - b) <= fuzz_vm.mem_size &&
	       len <= fuzz_vm.mem_size - (uint64_t)(q - b);
}

/* No vCPU thread here: a guest's S3 is refused (devices/pm.c).  Weak: a
 * harness that builds vmm/vcpu.c in brings its own. */
__attribute__((weak)) __thread struct vcpu *vcpu_current;

void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	if (gpa >= vm->mem_size || len > vm->mem_size - gpa)
		return NULL;
	return (uint8_t *)vm->mem + gpa;
}

static int overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

bool vm_range_overlaps_ram(struct vm *vm, uint64_t gpa, uint64_t size)
{
	if (size == 0 || gpa + size < gpa)
		return true;
	for (int i = 0; i < VM_MAX_SLOTS; i++)
		if (vm->slots[i].used && overlap(gpa, size, vm->slots[i].gpa, vm->slots[i].size))
			return true;
	return false;
}

int vm_slot_add(struct vm *vm, uint64_t gpa, uint64_t size, void *hva, const char *name)
{
	if (!size || ((gpa | size | (uintptr_t)hva) & 4095) || vm_range_overlaps_ram(vm, gpa, size))
		return -EINVAL;
	for (int i = 1; i < VM_MAX_SLOTS; i++)
		if (!vm->slots[i].used) {
			vm->slots[i] = (struct vm_slot){true, gpa, size, hva, name};
			return i;
		}
	return -ENOSPC;
}

int vm_slot_del(struct vm *vm, int slot)
{
	if (slot <= 0 || slot >= VM_MAX_SLOTS || !vm->slots[slot].used)
		return -EINVAL;
	vm->slots[slot].used = false;
	return 0;
}

int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	(void)vm, (void)gsi, (void)level;
	return 0;
}

int vm_msi_route_alloc(struct vm *vm)
{
	for (unsigned g = VM_GSI_MSI_FIRST; g < VM_MAX_GSI; g++)
		if (!vm->gsi_used[g]) {
			vm->gsi_used[g] = true;
			return (int)g;
		}
	return -ENOSPC;
}

int vm_msi_route_set(struct vm *vm, unsigned gsi, uint64_t addr, uint32_t data)
{
	(void)addr, (void)data;
	return gsi < VM_MAX_GSI && vm->gsi_used[gsi] ? 0 : -EINVAL;
}

void vm_msi_route_free(struct vm *vm, unsigned gsi)
{
	if (gsi < VM_MAX_GSI)
		vm->gsi_used[gsi] = false;
}

int vm_signal_msi(struct vm *vm, uint64_t addr, uint32_t data)
{
	(void)vm, (void)addr, (void)data;
	return 1;
}

/* Weak: test_virtio_net brings one that counts INTx detaches. */
__attribute__((weak)) int vm_irqfd(struct vm *vm, int fd, unsigned gsi, int resample_fd,
				   bool assign)
{
	(void)vm, (void)fd, (void)gsi, (void)resample_fd, (void)assign;
	return 0;
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int fd, bool pio, bool assign)
{
	(void)vm, (void)addr, (void)len, (void)fd, (void)pio, (void)assign;
	return 0;
}

void vm_at_exit(struct vm *vm, void (*fn)(void *), void *arg)
{
	(void)vm, (void)fn, (void)arg;
}

__attribute__((weak)) void serial_flush(void)
{
}

/* ---- vmm/trace.c stand-ins: format everything (the formatting is code
 * under test too), print nothing, and treat die() as a finding: no guest
 * action may make kvmini exit.  Weak, so a target that tests the real
 * vmm/trace.c (fuzz_cli: die() is the expected answer to bad input there)
 * brings its own. */
#define WEAK __attribute__((weak))
WEAK unsigned trace_mask;
WEAK uint64_t stats[STAT_MAX];
WEAK const char *const stat_names[STAT_MAX];
static char fmt_sink[1024];

WEAK void trace_printf(unsigned cat, const char *fmt, ...)
{
	va_list ap;

	(void)cat;
	va_start(ap, fmt);
	vsnprintf(fmt_sink, sizeof(fmt_sink), fmt, ap);
	va_end(ap);
}

WEAK void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fmt_sink, sizeof(fmt_sink), fmt, ap);
	va_end(ap);
}

WEAK void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nfuzz: die(%d) reached\n", code);
	abort();
}

WEAK void die_errno(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nfuzz: die_errno(%d) reached\n", code);
	abort();
}

/* The fuzz targets run the device code in one thread, unconfined. */
void seccomp_confine(enum seccomp_thread t)
{
	(void)t;
}
