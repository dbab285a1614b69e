// SPDX-License-Identifier: MIT
// needs: devices/pci_assign.c devices/pci.c devices/pci_host.c vmm/bus.c vmm/trace.c
/*
 * test_pci_assign.c - the firmware-like PCI start (devices/pci_assign.c):
 * the placement plan on its own (apertures, alignment, no overlaps, 64-bit
 * BARs above 4 GiB and below when the 64-bit aperture is full), then the
 * whole start on two devices through the real PCI core, with KVM replaced
 * by the vm_* stand-ins below: every BAR register holds its address,
 * Command has I/O and memory decoding but not bus mastering, and a BAR
 * backed by host memory (the way a VFIO BAR's mmap is) got its KVM slot
 * at the assigned address.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>

#include "../../devices/pci_assign.h"
#include "../../vmm/trace.h"
#include "../../vmm/vm.h"
#include "memmap.h"
#include "tap.h"

/* ---- KVM stand-ins ------------------------------------------------------- */
static struct vm vm;

bool vm_range_overlaps_ram(struct vm *v, uint64_t gpa, uint64_t size)
{
	for (int i = 0; i < VM_MAX_SLOTS; i++)
		if (v->slots[i].used && gpa < v->slots[i].gpa + v->slots[i].size &&
		    v->slots[i].gpa < gpa + size)
			return true;
	return false;
}

int vm_slot_add(struct vm *v, uint64_t gpa, uint64_t size, void *hva, const char *name)
{
	if (!size || ((gpa | size | (uintptr_t)hva) & 4095) || vm_range_overlaps_ram(v, gpa, size))
		return -EINVAL;
	for (int i = 1; i < VM_MAX_SLOTS; i++)
		if (!v->slots[i].used) {
			v->slots[i] = (struct vm_slot){true, gpa, size, hva, name};
			return i;
		}
	return -ENOSPC;
}

int vm_slot_del(struct vm *v, int slot)
{
	v->slots[slot].used = false;
	return 0;
}

int vm_irq_line(struct vm *v, unsigned gsi, int level)
{
	(void)v, (void)gsi, (void)level;
	return 0;
}

int vm_msi_route_alloc(struct vm *v)
{
	(void)v;
	return -ENOSPC;
}

int vm_msi_route_set(struct vm *v, unsigned gsi, uint64_t addr, uint32_t data)
{
	(void)v, (void)gsi, (void)addr, (void)data;
	return -EINVAL;
}

void vm_msi_route_free(struct vm *v, unsigned gsi)
{
	(void)v, (void)gsi;
}

int vm_signal_msi(struct vm *v, uint64_t addr, uint32_t data)
{
	(void)v, (void)addr, (void)data;
	return 1;
}

int vm_irqfd(struct vm *v, int fd, unsigned gsi, int resample_fd, bool assign)
{
	(void)v, (void)fd, (void)gsi, (void)resample_fd, (void)assign;
	return 0;
}

static void trap_fn(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	(void)opaque, (void)off, (void)is_write;
	if (!is_write)
		memset(data, 0x5a, len);
}

/* ---- the plan ------------------------------------------------------------- */
static bool overlap(const struct pci_assign_req *a, const struct pci_assign_req *b)
{
	uint64_t as = a->type == PCI_BAR_IO || a->size >= 4096 ? a->size : 4096;
	uint64_t bs = b->type == PCI_BAR_IO || b->size >= 4096 ? b->size : 4096;

	return (a->type == PCI_BAR_IO) == (b->type == PCI_BAR_IO) && a->addr < b->addr + bs &&
	       b->addr < a->addr + as;
}

static bool in(uint64_t a, uint64_t s, uint64_t base, uint64_t size)
{
	return a >= base && a + s <= base + size;
}

/* The plan reorders its input: look a BAR up by slot and index. */
static const struct pci_assign_req *find(const struct pci_assign_req *r, unsigned n, unsigned slot,
					 unsigned index)
{
	for (unsigned i = 0; i < n; i++)
		if (r[i].slot == slot && r[i].index == index)
			return &r[i];
	return r;
}

static void test_plan(void)
{
	struct pci_assign_req r[] = {
	    {1, 0, PCI_BAR_MEM64, 0x4000, 0, 0},	  {1, 2, PCI_BAR_MEM64, 0x1000, 0, 0},
	    {2, 0, PCI_BAR_MEM32, 0x100000, 0, 0},	  {2, 1, PCI_BAR_IO, 0x20, 0, 0},
	    {3, 0, PCI_BAR_MEM32, 0x100, 0, 0},	  {3, 1, PCI_BAR_IO, 0x100, 0, 0},
	    {3, 2, PCI_BAR_MEM64, 0x10000000, 0, 0},
	};
	unsigned n = sizeof(r) / sizeof(r[0]), bad = 0;

	tap_ok(pci_assign_plan(r, n) == 0, "plan: every BAR of a small machine fits");
	for (unsigned i = 0; i < n; i++) {
		uint64_t align = r[i].type == PCI_BAR_IO || r[i].size >= 4096 ? r[i].size : 4096;
		bool ok = r[i].addr && !(r[i].addr & (align - 1));

		if (r[i].type == PCI_BAR_IO)
			ok &= in(r[i].addr, r[i].size, PCI_IOPORT_BASE, PCI_IOPORT_SIZE);
		else if (r[i].type == PCI_BAR_MEM64)
			ok &= in(r[i].addr, r[i].size, PCI_MMIO64_BASE, PCI_MMIO64_SIZE);
		else
			ok &= in(r[i].addr, r[i].size, PCI_MMIO32_BASE, PCI_MMIO32_SIZE);
		for (unsigned j = 0; j < i; j++)
			ok &= !overlap(&r[i], &r[j]);
		if (!ok) {
			bad++;
			tap_diag("slot %u BAR%u type %d size %#llx at %#llx", r[i].slot, r[i].index,
				 r[i].type, (unsigned long long)r[i].size,
				 (unsigned long long)r[i].addr);
		}
	}
	tap_ok(bad == 0, "plan: naturally aligned (memory to a page at least), in the right "
			 "aperture (64-bit above 4 GiB), no overlaps");

	/* Two 64-bit BARs of 4 GiB and 256 MiB: the first fills the 64-bit
	 * aperture, the second falls back below 4 GiB; a 32-bit BAR larger
	 * than the 32-bit aperture does not fit at all. */
	struct pci_assign_req big[] = {
	    {1, 0, PCI_BAR_MEM64, PCI_MMIO64_SIZE, 0, 0},
	    {1, 2, PCI_BAR_MEM64, 0x10000000, 0, 0},
	    {2, 0, PCI_BAR_MEM32, PCI_MMIO32_SIZE * 2, 0, 0},
	};
	unsigned failed = pci_assign_plan(big, 3);

	const struct pci_assign_req *huge = find(big, 3, 1, 0), *b256 = find(big, 3, 1, 2),
				    *m32 = find(big, 3, 2, 0);

	tap_ok(failed == 1 && huge->addr == PCI_MMIO64_BASE &&
		   in(b256->addr, b256->size, PCI_MMIO32_BASE, PCI_MMIO32_SIZE) && m32->addr == 0,
	       "plan: a 64-bit BAR the 64-bit aperture cannot hold goes below 4 GiB; one that fits "
	       "nowhere stays at 0");
	struct pci_assign_req io[] = {{1, 0, PCI_BAR_IO, 0x4000, 0, 0}, {2, 0, PCI_BAR_IO, 4, 0, 0}};

	tap_ok(pci_assign_plan(io, 2) == 1 && io[0].addr == PCI_IOPORT_BASE && io[1].addr == 0,
	       "plan: the I/O aperture full, the next I/O BAR stays unassigned");

	/* Eight assigned devices with a 1 GiB 64-bit BAR each (issue 21):
	 * the 64-bit aperture holds four, the 32-bit one none, four are left
	 * out: pci_assign_all() stops kvmini before the guest starts. */
	struct pci_assign_req many[8];
	unsigned placed64 = 0;

	for (unsigned i = 0; i < 8; i++)
		many[i] = (struct pci_assign_req){(uint8_t)(i ? 5 + i : 2), 0, PCI_BAR_MEM64,
						  1ull << 30, 0, 0};
	failed = pci_assign_plan(many, 8);
	for (unsigned i = 0; i < 8; i++)
		placed64 += in(many[i].addr, many[i].size, PCI_MMIO64_BASE, PCI_MMIO64_SIZE);
	tap_ok(failed == 4 && placed64 == 4,
	       "plan: eight 1 GiB BARs exhaust the apertures: four placed above 4 GiB, four left out "
	       "(%u failed)", failed);
}

/* ---- the whole start through the core ------------------------------------ */
static struct pci_dev d1, d2;

static uint32_t cfg(struct pci_dev *d, unsigned off, unsigned len)
{
	return pci_cfg_read(d, off, len);
}

static void test_start(void)
{
	void *hva = aligned_alloc(4096, 0x10000);

	memset(&vm, 0, sizeof(vm));
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	vm.mem_size = 64 << 20;
	vm.slots[0] = (struct vm_slot){true, 0, vm.mem_size, NULL, "RAM"};
	pci_host_init(&vm);

	pci_dev_init(&d1, "one", 1, 0x1234, 0x0001, 0x020000, 0);
	pci_bar_init(&d1, 0, PCI_BAR_MEM64, false, 0x4000, trap_fn, NULL, NULL);
	pci_bar_init(&d1, 2, PCI_BAR_IO, false, 0x20, trap_fn, NULL, NULL);
	pci_intx_init(&d1, 1);
	pci_dev_init(&d2, "two", 2, 0x1234, 0x0002, 0x00ff00, 0);
	/* Host memory behind the BAR, as vfio does for an mmap-able region. */
	pci_bar_init(&d2, 0, PCI_BAR_MEM32, false, 0x10000, trap_fn, NULL, hva);
	pci_bar_init(&d2, 1, PCI_BAR_MEM32, false, 0x100, trap_fn, NULL, NULL);
	if (pci_register(&vm, &d1) || pci_register(&vm, &d2)) {
		tap_ok(0, "register two test devices");
		return;
	}
	tap_ok(cfg(&d1, PCI_COMMAND, 2) == 0 && (cfg(&d1, PCI_BASE_ADDRESS_0, 4) & ~0xfu) == 0,
	       "before the start: decoding off, BARs at 0 (the power-on state)");

	pci_assign_all(&vm);

	uint64_t b0 = (uint64_t)cfg(&d1, PCI_BASE_ADDRESS_0 + 4, 4) << 32 |
		      (cfg(&d1, PCI_BASE_ADDRESS_0, 4) & ~0xfu);
	uint32_t io = cfg(&d1, PCI_BASE_ADDRESS_2, 4) & ~3u;
	uint32_t m0 = cfg(&d2, PCI_BASE_ADDRESS_0, 4) & ~0xfu;
	uint32_t m1 = cfg(&d2, PCI_BASE_ADDRESS_1, 4) & ~0xfu;

	tap_ok(in(b0, 0x4000, PCI_MMIO64_BASE, PCI_MMIO64_SIZE) && !(b0 & 0x3fff),
	       "64-bit BAR assigned above 4 GiB, aligned (0x%llx)", (unsigned long long)b0);
	tap_ok(in(io, 0x20, PCI_IOPORT_BASE, PCI_IOPORT_SIZE) && !(io & 0x1f),
	       "I/O BAR assigned in the I/O aperture (0x%x)", io);
	tap_ok(in(m0, 0x10000, PCI_MMIO32_BASE, PCI_MMIO32_SIZE) &&
		   in(m1, 0x1000, PCI_MMIO32_BASE, PCI_MMIO32_SIZE) && !(m0 & 0xffff) &&
		   !(m1 & 0xfff) && (m1 >= m0 + 0x10000 || m1 + 0x1000 <= m0),
	       "32-bit BARs below 4 GiB, aligned, apart (0x%x, 0x%x)", m0, m1);
	tap_ok(cfg(&d1, PCI_COMMAND, 2) == (PCI_COMMAND_IO | PCI_COMMAND_MEMORY) &&
		   cfg(&d2, PCI_COMMAND, 2) == PCI_COMMAND_MEMORY,
	       "Command: decoding for the kinds of BAR present, no bus mastering");
	tap_ok(cfg(&d1, PCI_INTERRUPT_LINE, 1) == pci_intx_gsi(1, 1), "Interrupt Line written");

	bool slot = false;

	for (int i = 1; i < VM_MAX_SLOTS; i++)
		if (vm.slots[i].used && vm.slots[i].gpa == m0 && vm.slots[i].hva == hva)
			slot = true;
	tap_ok(slot, "the host-backed BAR has its KVM slot at the assigned address");
	uint32_t v = 0;

	bus_access(&vm.mmio, b0 + 8, &v, 4, false);
	tap_ok(v == 0x5a5a5a5a, "a trapped BAR answers at its assigned address");

	/* A guest that re-enumerates may still move it. */
	pci_cfg_write(&d2, PCI_COMMAND, 2, 0);
	pci_cfg_write(&d2, PCI_BASE_ADDRESS_0, 4, PCI_MMIO32_BASE + 0x100000);
	pci_cfg_write(&d2, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	slot = false;
	for (int i = 1; i < VM_MAX_SLOTS; i++)
		if (vm.slots[i].used && vm.slots[i].hva == hva)
			slot = vm.slots[i].gpa == PCI_MMIO32_BASE + 0x100000;
	tap_ok(slot, "a guest moves the assigned BAR: the slot follows");
	free(hva);
}

/* Functions of one slot (issue 21): addressed by (slot, function), walked
 * in bus order, each (slot, function) taken once. */
static struct pci_dev f0, f1, f1b, f9;

static void test_functions(void)
{
	pci_dev_init(&f1, "fn1", 9, 0x1234, 0x11e8, 0x00ff00, 0);
	f1.fn = 1;
	pci_dev_init(&f0, "fn0", 9, 0x1234, 0x11e8, 0x00ff00, 0);
	pci_dev_init(&f1b, "fn1 again", 9, 0x1234, 0x11e8, 0x00ff00, 0);
	f1b.fn = 1;
	pci_dev_init(&f9, "fn8", 9, 0x1234, 0x11e8, 0x00ff00, 0);
	f9.fn = 8;
	tap_eq(pci_register(&vm, &f1), 0, "00:09.1 registered before its function 0");
	tap_eq(pci_register(&vm, &f0), 0, "00:09.0 registered");
	tap_eq(pci_register(&vm, &f1b), -EBUSY, "00:09.1 a second time: -EBUSY");
	tap_eq(pci_register(&vm, &f9), -EINVAL, "function 8: -EINVAL");
	tap_ok(pci_find(0, 9, 0) == &f0 && pci_find(0, 9, 1) == &f1 && !pci_find(0, 9, 2) &&
		   !pci_find(0, 9, 8),
	       "pci_find() tells the functions of slot 9 apart");
	const struct pci_dev *d, *prev = NULL;
	bool ordered = true, seen0 = false, seen1 = false;

	for (d = pci_next(NULL); d; prev = d, d = pci_next(d)) {
		if (prev && prev->slot * 8 + prev->fn >= d->slot * 8 + d->fn)
			ordered = false;
		seen0 |= d == &f0;
		seen1 |= d == &f1 && prev == &f0;
	}
	tap_ok(ordered && seen0 && seen1, "pci_next() walks bus order: 00:09.0, then 00:09.1");
	pci_unregister(&f1);
	tap_ok(!pci_find(0, 9, 1) && pci_find(0, 9, 0) == &f0, "00:09.1 unplugged, 00:09.0 stays");
	pci_unregister(&f0);
}

int main(void)
{
	test_plan();
	test_start();
	test_functions();
	return tap_done();
}
