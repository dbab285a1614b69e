// SPDX-License-Identifier: MIT
// needs: devices/pci.c devices/pci_host.c vmm/bus.c
/*
 * fuzz_pci.c - the PCI core and the host bridge as a hostile guest drives
 * them: any sequence of 0xcf8/0xcfc port accesses and ECAM accesses at any
 * width and offset, BAR programming, Command toggles, MSI/MSI-X
 * programming and MSI-X table/PBA accesses through the BARs, interrupts
 * raised by the device meanwhile, with --trace pci on or off.
 *
 * Three devices besides the host bridge: "t" has every kind of BAR (I/O,
 * 32-bit, 64-bit prefetchable host-backed with the MSI-X table and PBA in
 * it, ROM), MSI and INTx; "u" is plain; "x" has MSI-X in a trapped BAR,
 * table and PBA in one page.  Other claims on the buses (COM1, a 1 MiB
 * MMIO device in the 32-bit hole) stand for the rest of kvmini.
 *
 * Invariants checked after every access, on top of ASan/UBSan:
 *  - no two ranges on either bus overlap, and each bus is sorted;
 *  - a mapped BAR is on its bus at exactly (addr, size), never over RAM,
 *    the ECAM window or the IOAPIC/LAPIC hole, below 2^52; an I/O BAR
 *    lies in [0x1000, 0x10000); an unmapped BAR has no range left;
 *  - no two KVM memory slots overlap; each one lies inside a mapped,
 *    host-backed BAR at the matching host offset, and never covers the
 *    MSI-X table or PBA pages (those must trap);
 *  - read-only identity registers keep their values.
 */
#include <linux/pci_regs.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../devices/pci.h"
#include "../../vmm/trace.h"
#include "memmap.h"
#include "stubs.h"

#define RAM_SIZE    (64ULL << 20)
#define T_SLOT	    3
#define U_SLOT	    4
#define X_SLOT	    5
#define T_BAR2_SIZE 0x10000
#define T_TABLE	    0x4000
#define T_PBA	    0x8000
#define T_NVEC	    8
#define X_NVEC	    64

static struct pci_dev tdev, udev, xdev;
static int *efds_t;
static uint8_t *t_bar2;
static uint8_t ram_stub[4096];

static void trap_fn(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	(void)opaque, (void)off;
	if (!is_write)
		memset(data, 0x5a, len);
}

static void dummy_fn(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	(void)opaque, (void)off;
	if (!is_write)
		memset(data, 0xff, len);
}

static void setup(void)
{
	uint8_t vbody[6] = {6, 'f', 'u', 'z', 'z', 0};

	for (unsigned s = 0; s < 32; s++) {
		struct pci_dev *d = pci_find(0, s, 0);
		if (d)
			pci_unregister(d);
	}
	memset(&fuzz_vm, 0, sizeof(fuzz_vm));
	bus_init(&fuzz_vm.pio, "pio");
	bus_init(&fuzz_vm.mmio, "mmio");
	/* RAM is never dereferenced by the PCI core: only its extent counts. */
	fuzz_vm.mem = ram_stub;
	fuzz_vm.mem_size = RAM_SIZE;
	fuzz_vm.slots[0] = (struct vm_slot){true, 0, RAM_SIZE, ram_stub, "RAM"};
	bus_register(&fuzz_vm.pio, PORT_COM1, 8, dummy_fn, NULL, "com1");
	bus_register(&fuzz_vm.mmio, 0xd0000000ULL, 0x100000, dummy_fn, NULL, "other");
	pci_host_init(&fuzz_vm);

	if (!t_bar2)
		t_bar2 = aligned_alloc(4096, T_BAR2_SIZE);
	pci_dev_init(&tdev, "t", T_SLOT, 0x1234, 0x5678, 0x028000, 2);
	pci_bar_init(&tdev, 0, PCI_BAR_MEM32, false, 0x1000, trap_fn, NULL, NULL);
	pci_bar_init(&tdev, 1, PCI_BAR_IO, false, 0x20, trap_fn, NULL, NULL);
	pci_bar_init(&tdev, 2, PCI_BAR_MEM64, true, T_BAR2_SIZE, trap_fn, NULL, t_bar2);
	pci_bar_init(&tdev, 4, PCI_BAR_MEM32, true, 0x100, trap_fn, NULL, NULL);
	pci_rom_init(&tdev, 0x10000, trap_fn, NULL);
	pci_intx_init(&tdev, 1);
	pci_cap_add(&tdev, PCI_CAP_ID_VNDR, vbody, sizeof(vbody), NULL);
	pci_msi_init(&tdev, 4, true, true);
	pci_msix_init(&tdev, T_NVEC, 2, T_TABLE, T_PBA);

	pci_dev_init(&udev, "u", U_SLOT, 0x1234, 0x0001, 0xff0000, 0);
	pci_bar_init(&udev, 0, PCI_BAR_MEM32, false, 0x1000, trap_fn, NULL, NULL);
	pci_bar_init(&udev, 5, PCI_BAR_IO, false, 0x100, trap_fn, NULL, NULL);
	pci_intx_init(&udev, 2);
	pci_msi_init(&udev, 1, false, false);

	pci_dev_init(&xdev, "x", X_SLOT, 0x1af4, 0x1041, 0x020000, 1);
	pci_bar_init(&xdev, 0, PCI_BAR_MEM64, false, 0x4000, trap_fn, NULL, NULL);
	pci_msix_init(&xdev, X_NVEC, 0, 0x0, 0x800);

	if (pci_register(&fuzz_vm, &tdev) || pci_register(&fuzz_vm, &udev) ||
	    pci_register(&fuzz_vm, &xdev))
		abort();

	/* Irqfd sources as devices give them (virtio-net: one per vector),
	 * made once and reused: the core attaches and detaches them as the
	 * guest enables and masks, and reads them for the PBA. */
	static int efd_t[T_NVEC + 1], efd_x[4];
	static bool have_efd;
	if (!have_efd) {
		for (unsigned v = 0; v <= T_NVEC; v++)
			efd_t[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		for (unsigned v = 0; v < 4; v++)
			efd_x[v] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		have_efd = true;
	}
	uint64_t drain; /* no signal left over from the last input */
	for (unsigned v = 0; v <= T_NVEC; v++)
		while (read(efd_t[v], &drain, sizeof(drain)) == sizeof(drain))
			;
	for (unsigned v = 0; v < T_NVEC; v++)
		pci_irq_eventfd(&tdev, v, efd_t[v]);
	pci_irq_eventfd(&tdev, PCI_MSI_VECTOR, efd_t[T_NVEC]);
	for (unsigned v = 0; v < 4; v++)
		pci_irq_eventfd(&xdev, v, efd_x[v]);
	efds_t = efd_t;
}

/* A device thread signals vector v's eventfd (as virtio-net's does). */
static void signal_efd(unsigned v)
{
	uint64_t one = 1;

	if (write(efds_t[v % (T_NVEC + 1)], &one, sizeof(one)) < 0)
		abort();
}

static struct pci_dev *devs[3] = {&tdev, &udev, &xdev};
static const uint16_t dev_ids[3][2] = {{0x1234, 0x5678}, {0x1234, 0x0001}, {0x1af4, 0x1041}};

static int ovl(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

static void check_bus(const struct bus *b)
{
	for (size_t i = 0; i < b->n; i++) {
		FUZZ_CHECK(b->r[i].len && b->r[i].base + b->r[i].len > b->r[i].base,
			   "bus range non-empty and not wrapping");
		if (i)
			FUZZ_CHECK(b->r[i - 1].base + b->r[i - 1].len <= b->r[i].base,
				   "bus ranges sorted and disjoint");
	}
}

static const struct bus_range *range_of(const struct bus *b, const void *opaque)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->r[i].opaque == opaque)
			return &b->r[i];
	return NULL;
}

static void check_bar(struct pci_dev *d, struct pci_bar *b)
{
	struct bus *bus = b->type == PCI_BAR_IO ? &fuzz_vm.pio : &fuzz_vm.mmio;
	const struct bus_range *r = range_of(bus, b);

	if (!b->mapped) {
		FUZZ_CHECK(!r, "an unmapped BAR leaves no bus range");
		for (int i = 0; i < 3; i++)
			FUZZ_CHECK(b->slots[i] < 0, "an unmapped BAR keeps no KVM slot");
		return;
	}
	FUZZ_CHECK(r && r->base == b->addr && r->len == b->size, "a mapped BAR is on its bus");
	if (b->type == PCI_BAR_IO) {
		FUZZ_CHECK(b->addr >= 0x1000 && b->addr + b->size <= 0x10000,
			   "I/O BAR inside [0x1000, 0x10000)");
		return;
	}
	FUZZ_CHECK(!ovl(b->addr, b->size, 0, RAM_SIZE), "memory BAR not over RAM");
	FUZZ_CHECK(!ovl(b->addr, b->size, PCI_ECAM_BASE, PCI_ECAM_SIZE), "BAR not over ECAM");
	FUZZ_CHECK(!ovl(b->addr, b->size, IOAPIC_BASE, 0x100000000ULL - IOAPIC_BASE),
		   "BAR not over the IOAPIC/LAPIC hole");
	FUZZ_CHECK(b->addr + b->size <= PCI_BAR_ADDR_LIMIT && b->addr + b->size > b->addr,
		   "BAR below 2^52");
	for (int i = 0; i < 3; i++) {
		if (b->slots[i] < 0)
			continue;
		const struct vm_slot *s = &fuzz_vm.slots[b->slots[i]];
		FUZZ_CHECK(b->slots[i] > 0 && b->slots[i] < VM_MAX_SLOTS && s->used,
			   "a BAR's slot exists");
		FUZZ_CHECK(b->hva && s->gpa >= b->addr && s->gpa + s->size <= b->addr + b->size,
			   "a KVM slot lies inside its host-backed BAR");
		FUZZ_CHECK((uint8_t *)s->hva == (uint8_t *)b->hva + (s->gpa - b->addr),
			   "a KVM slot maps the matching host bytes");
		if (d->msix.present && d->msix.bar == b->index) {
			uint64_t off = s->gpa - b->addr;
			FUZZ_CHECK(!ovl(off, s->size, d->msix.table_off & ~4095ULL,
					16ULL * d->msix.nvec + (d->msix.table_off & 4095)),
				   "MSI-X table pages trap");
			FUZZ_CHECK(
			    !ovl(off, s->size, d->msix.pba_off & ~4095ULL,
				 8ULL * ((d->msix.nvec + 63) / 64) + (d->msix.pba_off & 4095)),
			    "MSI-X PBA pages trap");
		}
	}
}

static void check_all(void)
{
	check_bus(&fuzz_vm.pio);
	check_bus(&fuzz_vm.mmio);
	for (int i = 1; i < VM_MAX_SLOTS; i++) {
		const struct vm_slot *a = &fuzz_vm.slots[i];
		if (!a->used)
			continue;
		FUZZ_CHECK(!ovl(a->gpa, a->size, 0, RAM_SIZE), "no KVM slot over RAM");
		for (int j = i + 1; j < VM_MAX_SLOTS; j++)
			if (fuzz_vm.slots[j].used)
				FUZZ_CHECK(!ovl(a->gpa, a->size, fuzz_vm.slots[j].gpa,
						fuzz_vm.slots[j].size),
					   "KVM slots disjoint");
	}
	for (int k = 0; k < 3; k++) {
		struct pci_dev *d = devs[k];
		for (int n = 0; n < 6; n++)
			if (d->bar[n].type != PCI_BAR_UNUSED)
				check_bar(d, &d->bar[n]);
		if (d->rom.type != PCI_BAR_UNUSED)
			check_bar(d, &d->rom);
		FUZZ_CHECK(pci_cfg_read(d, PCI_VENDOR_ID, 2) == dev_ids[k][0] &&
			       pci_cfg_read(d, PCI_DEVICE_ID, 2) == dev_ids[k][1],
			   "IDs are read-only");
	}
}

/* Slot numbers the guest aims at: mostly ours, sometimes anything. */
static unsigned pick_dev(uint8_t b)
{
	static const uint8_t s[8] = {0, T_SLOT, T_SLOT, U_SLOT, X_SLOT, X_SLOT, 7, 31};
	return (b & 0x80) ? (b & 31) : s[b & 7];
}

static unsigned width(uint8_t b)
{
	static const uint8_t w[8] = {1, 2, 4, 4, 4, 8, 3, 1};
	return w[b & 7];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};

	setup();
	trace_mask = 0;
	while (in.n) {
		uint8_t op = (uint8_t)fuzz_take(&in, 1);
		uint8_t a = (uint8_t)fuzz_take(&in, 1), w = (uint8_t)fuzz_take(&in, 1);
		uint64_t v = 0;
		bool wr = op & 0x80;
		unsigned len = width(w);

		switch (op % 10) {
		case 0: { /* a whole mechanism #1 access: address, then data */
			unsigned reg = (unsigned)fuzz_take(&in, 2) & 0xfff;
			uint32_t addr = 0x80000000u | (pick_dev(a) << 11) | (reg & 0xfc) |
					((reg & 0xf00) << 16);
			v = fuzz_take(&in, 4);
			bus_access(&fuzz_vm.pio, PORT_PCI_CONFIG_ADDR, &addr, 4, true);
			if (len > 4)
				len = 4;
			bus_access(&fuzz_vm.pio, PORT_PCI_CONFIG_DATA + (reg & 3), &v, len, wr);
			break;
		}
		case 1: /* any port access in 0xcf8-0xcff, any value */
			v = fuzz_take(&in, 4);
			bus_access(&fuzz_vm.pio, PORT_PCI_CONFIG_ADDR + (a & 7), &v,
				   len > 4 ? 4 : len, wr);
			break;
		case 2:
		case 3: { /* ECAM, any width 1-8 at any offset */
			uint64_t off = ((uint64_t)pick_dev(a) << 15) | (fuzz_take(&in, 2) & 0x7fff);
			v = fuzz_take(&in, 8);
			if (w & 0x80)
				off = fuzz_take(&in, 3) % PCI_ECAM_SIZE;
			bus_access(&fuzz_vm.mmio, PCI_ECAM_BASE + off, &v, (w >> 3) % 8 + 1, wr);
			break;
		}
		case 4: { /* an access inside (or just past) a BAR */
			struct pci_dev *d = devs[a % 3];
			struct pci_bar *b = (a >> 2) % 7 == 6 ? &d->rom : &d->bar[(a >> 2) % 7];
			uint64_t off = fuzz_take(&in, 3);
			v = fuzz_take(&in, 8);
			if (b->type == PCI_BAR_UNUSED || !b->mapped)
				break;
			off %= b->size + 8;
			if (b->type == PCI_BAR_IO)
				bus_access(&fuzz_vm.pio, b->addr + off, &v, len > 4 ? 4 : len, wr);
			else
				bus_access(&fuzz_vm.mmio, b->addr + off, &v, (w >> 3) % 8 + 1, wr);
			break;
		}
		case 5: /* any MMIO address */
			v = fuzz_take(&in, 8);
			bus_access(&fuzz_vm.mmio, fuzz_take(&in, 8), &v, (w >> 3) % 8 + 1, wr);
			break;
		case 6: /* the device raises an interrupt */
			pci_notify(devs[a % 3], w & 0x80 ? PCI_MSI_VECTOR : w % 70u);
			break;
		case 7:
			if (w & 0x80)
				signal_efd(a);
			else
				pci_intx_set(devs[a % 3], w & 1);
			break;
		case 8:
			trace_mask ^= TRACE_PCI;
			if (trace_mask & TRACE_PCI)
				(void)pci_reg_name(devs[a % 3],
						   (unsigned)fuzz_take(&in, 2) & 0xfff);
			break;
		case 9: { /* the core's own entry points, within their contract:
			   * naturally aligned 1, 2 or 4 bytes inside 4 KiB */
			unsigned l = 1u << (w % 3), reg = (unsigned)fuzz_take(&in, 2) & 0xfff;
			reg &= ~(l - 1);
			v = fuzz_take(&in, 4);
			if (wr)
				pci_cfg_write(devs[a % 3], reg, l, (uint32_t)v);
			else
				(void)pci_cfg_read(devs[a % 3], reg, l);
			break;
		}
		}
		check_all();
	}
	trace_mask = 0;
	return 0;
}
