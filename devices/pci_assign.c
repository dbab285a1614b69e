/* SPDX-License-Identifier: MIT */
/*
 * pci_assign.c - the firmware-like PCI start (see pci_assign.h): plan the
 * placement of every BAR (pci_assign_plan, pure), then program it the way
 * a guest would (pci_assign_all): each BAR register, then Command.
 */
#include "pci_assign.h"

#include <linux/pci_regs.h>
#include <stdlib.h>

#include "memmap.h"
#include "../vmm/trace.h"
#include "../vmm/vm.h"

#define PAGE 4096ULL

struct window {
	uint64_t next, end;
};

static int by_size_desc(const void *a, const void *b)
{
	const struct pci_assign_req *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	/* Equal sizes in bus order, so the result does not depend on qsort. */
	if (x->slot != y->slot)
		return x->slot - y->slot;
	return x->fn != y->fn ? x->fn - y->fn : x->index - y->index;
}

/* Take size bytes aligned to align from w; 0 when it does not fit. */
static uint64_t take(struct window *w, uint64_t size, uint64_t align)
{
	uint64_t a = (w->next + align - 1) & ~(align - 1);

	if (a < w->next || a > w->end || size > w->end - a)
		return 0;
	w->next = a + size;
	return a;
}

unsigned pci_assign_plan(struct pci_assign_req *r, unsigned n)
{
	struct window io = {PCI_IOPORT_BASE, PCI_IOPORT_BASE + PCI_IOPORT_SIZE};
	struct window m32 = {PCI_MMIO32_BASE, PCI_MMIO32_BASE + PCI_MMIO32_SIZE};
	struct window m64 = {PCI_MMIO64_BASE, PCI_MMIO64_BASE + PCI_MMIO64_SIZE};
	unsigned failed = 0;

	/* Largest first: with power-of-two sizes every BAR then starts where
	 * the previous one ended, so natural alignment wastes nothing. */
	qsort(r, n, sizeof(*r), by_size_desc);
	for (unsigned i = 0; i < n; i++) {
		uint64_t sz = r[i].size;

		r[i].addr = 0;
		if (r[i].type == PCI_BAR_IO) {
			r[i].addr = take(&io, sz, sz);
		} else {
			if (sz < PAGE)
				sz = PAGE;
			if (r[i].type == PCI_BAR_MEM64)
				r[i].addr = take(&m64, sz, sz);
			if (!r[i].addr)
				r[i].addr = take(&m32, sz, sz);
		}
		if (!r[i].addr)
			failed++;
	}
	return failed;
}

void pci_assign_all(struct vm *vm)
{
	static struct pci_assign_req r[PCI_MAX_SLOTS * PCI_MAX_FNS * 6];
	unsigned n = 0;

	(void)vm;
	for (struct pci_dev *d = pci_next(NULL); d; d = pci_next(d))
		for (unsigned b = 0; b < 6; b++)
			if (d->bar[b].type != PCI_BAR_UNUSED && d->bar[b].size)
				r[n++] = (struct pci_assign_req){d->slot, (uint8_t)b, d->bar[b].type,
								 d->bar[b].size, 0, d->fn};
	pci_assign_plan(r, n);
	/* What follows is kvmini's own doing, not the guest's: a device that
	 * starts at the guest's first access (virtio-net) must not take
	 * these writes for it (pci.h). */
	pci_firmware_start = true;

	/* BAR registers first, decode still off, then Command per function:
	 * the order a firmware (and a careful OS) uses. */
	for (unsigned i = 0; i < n; i++) {
		struct pci_dev *d = pci_find(0, r[i].slot, r[i].fn);
		unsigned off = PCI_BASE_ADDRESS_0 + 4u * r[i].index;

		/* Out of aperture space (many or large assigned BARs): a clear
		 * error before the guest starts, not a device it cannot use. */
		if (!r[i].addr)
			die(EXIT_VFIO,
			    "pci: 00:%02x.%x %s BAR%u (%llu KiB) does not fit the %s aperture "
			    "(%llu KiB for every device's BARs): assign fewer or smaller devices",
			    r[i].slot, r[i].fn, d->name, r[i].index,
			    (unsigned long long)(r[i].size >> 10),
			    r[i].type == PCI_BAR_IO ? "I/O" : "memory",
			    (unsigned long long)((r[i].type == PCI_BAR_IO ? PCI_IOPORT_SIZE
				: PCI_MMIO32_SIZE + (r[i].type == PCI_BAR_MEM64 ? PCI_MMIO64_SIZE : 0)) >> 10));
		pci_cfg_write(d, off, 4, (uint32_t)r[i].addr);
		if (r[i].type == PCI_BAR_MEM64)
			pci_cfg_write(d, off + 4, 4, (uint32_t)(r[i].addr >> 32));
		trace(TRACE_PCI, "firmware-like start: 00:%02x.%x %s BAR%u at 0x%llx", r[i].slot,
		      r[i].fn, d->name, r[i].index, (unsigned long long)r[i].addr);
	}
	for (struct pci_dev *d = pci_next(NULL); d; d = pci_next(d)) {
		uint16_t cmd = 0, bad = 0;

		for (unsigned i = 0; i < n; i++) {
			uint16_t bit =
			    r[i].type == PCI_BAR_IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;

			if (r[i].slot != d->slot || r[i].fn != d->fn)
				continue;
			cmd |= bit;
			if (!r[i].addr)
				bad |= bit; /* a BAR at 0 must not decode */
		}
		cmd &= ~bad;
		if (!cmd)
			continue;
		pci_cfg_write(d, PCI_COMMAND, 2, pci_cfg_read(d, PCI_COMMAND, 2) | cmd);
		trace(TRACE_PCI, "firmware-like start: 00:%02x.%x %s Command |= %s%s", d->slot, d->fn,
		      d->name,
		      cmd & PCI_COMMAND_IO ? "I/O " : "", cmd & PCI_COMMAND_MEMORY ? "memory" : "");
	}
	pci_firmware_start = false;
}
