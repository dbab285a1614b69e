// SPDX-License-Identifier: MIT
// needs: devices/pci.c devices/pci_host.c vmm/bus.c vmm/trace.c
/*
 * test_pci.c - the PCI core (devices/pci.c) and the host bridge with its
 * two config mechanisms (devices/pci_host.c), driven as the guest drives
 * them: port and MMIO accesses through the real bus tables.  KVM is
 * replaced by the vm_* functions below, which keep a log of every call so
 * the tests can check what would have been asked of KVM, and in which
 * order (a memory slot is removed before its replacement is added).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../devices/pci.h"
#include "../../vmm/trace.h"
#include "../../vmm/vm.h"
#include "memmap.h"
#include "tap.h"

/* ---- a recording stand-in for vmm/kvm.c ----------------------------------- */
enum call_kind { C_SLOT_ADD, C_SLOT_DEL, C_IRQ_LINE, C_ROUTE_SET, C_SIGNAL, C_IRQFD_ON, C_IRQFD_OFF };

struct call {
	enum call_kind kind;
	uint64_t a, b; /* gpa/size, addr/data, gsi/level */
	int n;         /* slot, gsi, fd */
};

static struct call calls[512];
static unsigned ncalls;
static struct vm vm;

static void log_call(enum call_kind k, uint64_t a, uint64_t b, int n)
{
	if (ncalls < sizeof(calls) / sizeof(calls[0]))
		calls[ncalls++] = (struct call){k, a, b, n};
}

static unsigned count(enum call_kind k)
{
	unsigned c = 0;

	for (unsigned i = 0; i < ncalls; i++)
		c += calls[i].kind == k;
	return c;
}

static const struct call *last(enum call_kind k)
{
	for (unsigned i = ncalls; i-- > 0;)
		if (calls[i].kind == k)
			return &calls[i];
	return NULL;
}

static bool range_overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

bool vm_range_overlaps_ram(struct vm *v, uint64_t gpa, uint64_t size)
{
	if (size == 0 || gpa + size < gpa)
		return true;
	for (int i = 0; i < VM_MAX_SLOTS; i++)
		if (v->slots[i].used && range_overlap(gpa, size, v->slots[i].gpa, v->slots[i].size))
			return true;
	return false;
}

int vm_slot_add(struct vm *v, uint64_t gpa, uint64_t size, void *hva, const char *name)
{
	if (!size || ((gpa | size | (uintptr_t)hva) & 4095) || vm_range_overlaps_ram(v, gpa, size))
		return -EINVAL;
	for (int i = 1; i < VM_MAX_SLOTS; i++) {
		if (!v->slots[i].used) {
			v->slots[i] = (struct vm_slot){true, gpa, size, hva, name};
			log_call(C_SLOT_ADD, gpa, size, i);
			return i;
		}
	}
	return -ENOSPC;
}

int vm_slot_del(struct vm *v, int slot)
{
	if (slot <= 0 || slot >= VM_MAX_SLOTS || !v->slots[slot].used)
		return -EINVAL;
	log_call(C_SLOT_DEL, v->slots[slot].gpa, v->slots[slot].size, slot);
	v->slots[slot].used = false;
	return 0;
}

static int line_level[64];

int vm_irq_line(struct vm *v, unsigned gsi, int level)
{
	(void)v;
	log_call(C_IRQ_LINE, gsi, (uint64_t)level, (int)gsi);
	if (gsi < 64)
		line_level[gsi] = level;
	return 0;
}

static uint64_t route_addr[VM_MAX_GSI];
static uint32_t route_data[VM_MAX_GSI];

int vm_msi_route_alloc(struct vm *v)
{
	for (unsigned g = VM_GSI_MSI_FIRST; g < VM_MAX_GSI; g++)
		if (!v->gsi_used[g]) {
			v->gsi_used[g] = true;
			return (int)g;
		}
	return -ENOSPC;
}

int vm_msi_route_set(struct vm *v, unsigned gsi, uint64_t addr, uint32_t data)
{
	if (gsi >= VM_MAX_GSI || !v->gsi_used[gsi])
		return -EINVAL;
	route_addr[gsi] = addr;
	route_data[gsi] = data;
	log_call(C_ROUTE_SET, addr, data, (int)gsi);
	return 0;
}

void vm_msi_route_free(struct vm *v, unsigned gsi)
{
	if (gsi < VM_MAX_GSI)
		v->gsi_used[gsi] = false;
}

int vm_signal_msi(struct vm *v, uint64_t addr, uint32_t data)
{
	(void)v;
	log_call(C_SIGNAL, addr, data, 0);
	return 1;
}

int vm_irqfd(struct vm *v, int fd, unsigned gsi, int resample_fd, bool assign)
{
	(void)v;
	(void)resample_fd;
	log_call(assign ? C_IRQFD_ON : C_IRQFD_OFF, gsi, 0, fd);
	if (assign) { /* what KVM does at assign: a signalled eventfd fires */
		uint64_t c;

		if (read(fd, &c, 8) == 8)
			log_call(C_SIGNAL, route_addr[gsi], route_data[gsi], fd);
	}
	return 0;
}

/* ---- the guest's side: port and MMIO accesses ---------------------------- */
static uint32_t pio_in(uint16_t port, unsigned len)
{
	uint32_t v = 0;

	bus_access(&vm.pio, port, &v, len, false);
	return v;
}

static void pio_out(uint16_t port, unsigned len, uint32_t val)
{
	bus_access(&vm.pio, port, &val, len, true);
}

static uint64_t mmio_rd(uint64_t addr, unsigned len)
{
	uint64_t v = 0;

	bus_access(&vm.mmio, addr, &v, len, false);
	return v;
}

static void mmio_wr(uint64_t addr, unsigned len, uint64_t val)
{
	bus_access(&vm.mmio, addr, &val, len, true);
}

static uint32_t cf8_addr(unsigned dev, unsigned reg)
{
	return 0x80000000u | (dev << 11) | (reg & 0xfc) | ((reg & 0xf00) << 16);
}

/* Mechanism #1 access: reg + len must stay inside one dword. */
static uint32_t cf8_rd(unsigned dev, unsigned reg, unsigned len)
{
	pio_out(0xcf8, 4, cf8_addr(dev, reg));
	return pio_in(0xcfc + (reg & 3), len);
}

static void cf8_wr(unsigned dev, unsigned reg, unsigned len, uint32_t val)
{
	pio_out(0xcf8, 4, cf8_addr(dev, reg));
	pio_out(0xcfc + (reg & 3), len, val);
}

static uint64_t ecam_addr(unsigned dev, unsigned fn, unsigned reg)
{
	return PCI_ECAM_BASE + ((uint64_t)dev << 15) + ((uint64_t)fn << 12) + reg;
}

static uint32_t ecam_rd(unsigned dev, unsigned reg, unsigned len)
{
	return (uint32_t)mmio_rd(ecam_addr(dev, 0, reg), len);
}

static void ecam_wr(unsigned dev, unsigned reg, unsigned len, uint32_t val)
{
	mmio_wr(ecam_addr(dev, 0, reg), len, val);
}

/* ---- test devices ---------------------------------------------------------- */
#define SLOT_T 3 /* the device with everything */
#define SLOT_U 4 /* a plain one, to collide with */
#define SLOT_ABSENT 7

struct trapdev {
	unsigned calls;
	uint64_t off;
	uint32_t len;
	bool is_write;
	uint64_t wrote;
};

static struct trapdev trap_t[7], trap_u;
static struct pci_dev tdev, udev;
static uint8_t *bar2_mem; /* 64 KiB host backing of tdev BAR2 */
static unsigned irq_changed_calls, bus_master_calls;
static bool bus_master_last;

static void trap_fn(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct trapdev *t = opaque;

	t->calls++;
	t->off = off;
	t->len = len;
	t->is_write = is_write;
	if (is_write) {
		t->wrote = 0;
		memcpy(&t->wrote, data, len > 8 ? 8 : len);
	} else {
		memset(data, 0x5a, len);
	}
}

static void t_irq_changed(struct pci_dev *d)
{
	(void)d;
	irq_changed_calls++;
}

static void t_bus_master(struct pci_dev *d, bool on)
{
	(void)d;
	bus_master_calls++;
	bus_master_last = on;
}

static const struct pci_dev_ops t_ops = {.irq_changed = t_irq_changed,
					 .bus_master = t_bus_master};

#define T_BAR2_SIZE 0x10000
#define T_TABLE 0x4000
#define T_PBA 0x8000
#define T_NVEC 4

static void setup(void)
{
	uint8_t vbody[6] = {6, 'k', 'v', 'm', 'i', 0}; /* length byte, then data */

	memset(&vm, 0, sizeof(vm));
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	vm.mem_size = 64 << 20;
	vm.slots[0] = (struct vm_slot){true, 0, vm.mem_size, NULL, "RAM"};
	pci_host_init(&vm);

	bar2_mem = aligned_alloc(4096, T_BAR2_SIZE);
	memset(bar2_mem, 0, T_BAR2_SIZE);

	pci_dev_init(&tdev, "testdev", SLOT_T, 0x1234, 0x5678, 0x028000, 0x02);
	pci_set_subsystem(&tdev, 0xaaaa, 0xbbbb);
	pci_bar_init(&tdev, 0, PCI_BAR_MEM32, false, 0x1000, trap_fn, &trap_t[0], NULL);
	pci_bar_init(&tdev, 1, PCI_BAR_IO, false, 0x20, trap_fn, &trap_t[1], NULL);
	pci_bar_init(&tdev, 2, PCI_BAR_MEM64, true, T_BAR2_SIZE, trap_fn, &trap_t[2], bar2_mem);
	pci_bar_init(&tdev, 4, PCI_BAR_MEM32, true, 0x100, trap_fn, &trap_t[4], NULL);
	pci_rom_init(&tdev, 0x10000, trap_fn, &trap_t[6]);
	pci_intx_init(&tdev, 1);
	pci_cap_add(&tdev, PCI_CAP_ID_VNDR, vbody, sizeof(vbody), NULL);
	pci_msi_init(&tdev, 4, true, true);
	pci_msix_init(&tdev, T_NVEC, 2, T_TABLE, T_PBA);
	tdev.ops = &t_ops;

	pci_dev_init(&udev, "plain", SLOT_U, 0x1234, 0x0001, 0xff0000, 0);
	pci_bar_init(&udev, 0, PCI_BAR_MEM32, false, 0x1000, trap_fn, &trap_u, NULL);
}

/* ---- the tests --------------------------------------------------------------- */
static void test_register(void)
{
	tap_eq(pci_register(&vm, &tdev), 0, "testdev registered at slot %d", SLOT_T);
	tap_eq(pci_register(&vm, &udev), 0, "plain registered at slot %d", SLOT_U);
	struct pci_dev again = udev;
	tap_eq(pci_register(&vm, &again), -EBUSY, "a second device at a taken slot is refused");
	tap_ok(bus_find(&vm.pio, 0xcf8, 4) && bus_find(&vm.pio, 0xcfc, 4),
	       "ports 0xcf8-0xcff claimed");
	tap_ok(bus_find(&vm.mmio, PCI_ECAM_BASE, 4) &&
		       bus_find(&vm.mmio, PCI_ECAM_BASE + PCI_ECAM_SIZE - 4, 4),
	       "ECAM window claimed");
}

static void test_host_bridge(void)
{
	tap_eq(cf8_rd(0, PCI_VENDOR_ID, 2), KVMINI_HB_VENDOR, "cf8: host bridge vendor");
	tap_eq(cf8_rd(0, PCI_DEVICE_ID, 2), KVMINI_HB_DEVICE, "cf8: host bridge device");
	tap_eq(ecam_rd(0, PCI_CLASS_REVISION, 4) >> 8, 0x060000, "ecam: host bridge class 06/00/00");
	tap_eq(ecam_rd(0, PCI_HEADER_TYPE, 1), 0, "ecam: host bridge header type 0");
	tap_eq(cf8_rd(0, PCI_INTERRUPT_PIN, 1), 0, "host bridge has no interrupt pin");
	tap_eq(cf8_rd(0, PCI_CAPABILITY_LIST, 1), 0, "host bridge has no capabilities");
}

/* Every width at every alignment, both mechanisms, over a whole function:
 * compared with the bytes read one at a time. */
static void test_widths(void)
{
	static const unsigned devs[] = {0, SLOT_T, SLOT_U, SLOT_ABSENT};
	unsigned bad_cf8 = 0, bad_ecam = 0, bad_wide = 0, n = 0;

	for (unsigned di = 0; di < 4; di++) {
		unsigned dev = devs[di];
		uint8_t bytes[PCI_CFG_SPACE_EXP + 8];

		for (unsigned r = 0; r < PCI_CFG_SPACE_EXP; r++)
			bytes[r] = (uint8_t)ecam_rd(dev, r, 1);
		for (unsigned r = 0; r < PCI_CFG_SPACE_EXP; r++) {
			for (unsigned len = 1; len <= 4; len *= 2) {
				uint32_t want = 0;

				if (r + len > PCI_CFG_SPACE_EXP)
					continue;
				for (unsigned i = 0; i < len; i++)
					want |= (uint32_t)bytes[r + i] << (8 * i);
				n++;
				if (ecam_rd(dev, r, len) != want)
					bad_ecam++;
				/* The data window is 4 bytes: reg+len must fit. */
				if ((r & 3) + len <= 4 && cf8_rd(dev, r, len) != want)
					bad_cf8++;
			}
			/* ECAM qwords at every alignment within the function. */
			if (r + 8 <= PCI_CFG_SPACE_EXP) {
				uint64_t want = 0;

				for (unsigned i = 0; i < 8; i++)
					want |= (uint64_t)bytes[r + i] << (8 * i);
				if (mmio_rd(ecam_addr(dev, 0, r), 8) != want)
					bad_wide++;
			}
		}
	}
	tap_eq(bad_ecam, 0, "ECAM: %u reads of width 1/2/4 at every offset match the bytes", n);
	tap_eq(bad_cf8, 0, "mechanism #1 (with extended register bits): every width and offset "
			   "inside the data window matches ECAM");
	tap_eq(bad_wide, 0, "ECAM 8-byte reads at every alignment match the bytes");
	tap_eq(ecam_rd(SLOT_T, 0, 4), 0x56781234u, "IDs through ECAM");
	tap_eq(cf8_rd(SLOT_T, 2, 2), 0x5678, "device ID through 0xcfe");
	tap_eq(cf8_rd(SLOT_T, 0x0b, 1), 0x02, "class byte through 0xcff");
	tap_eq(cf8_rd(SLOT_T, 0x09, 2), 0x8000, "word at an odd offset (0xcfd) reads prog-if/subclass");
	tap_eq(mmio_rd(ecam_addr(SLOT_T, 0, 0xfff), 2), 0xff00,
	       "ECAM word crossing into the next function: last byte of 3.0, first of absent 3.1");
}

static void test_read_only(void)
{
	static const struct {
		unsigned off, len;
		const char *name;
	} ro[] = {
		{PCI_VENDOR_ID, 2, "vendor"},	 {PCI_DEVICE_ID, 2, "device"},
		{PCI_REVISION_ID, 1, "revision"}, {PCI_CLASS_PROG, 1, "prog-if"},
		{PCI_CLASS_DEVICE, 2, "class"},	 {PCI_HEADER_TYPE, 1, "header type"},
		{PCI_BIST, 1, "BIST"},		 {PCI_SUBSYSTEM_VENDOR_ID, 2, "subsystem vendor"},
		{PCI_SUBSYSTEM_ID, 2, "subsystem"}, {PCI_CAPABILITY_LIST, 1, "cap pointer"},
		{PCI_INTERRUPT_PIN, 1, "interrupt pin"}, {PCI_CARDBUS_CIS, 4, "CardBus CIS"},
		{PCI_MIN_GNT, 1, "Min_Gnt"},	 {PCI_MAX_LAT, 1, "Max_Lat"},
	};

	for (unsigned i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		uint32_t before = ecam_rd(SLOT_T, ro[i].off, ro[i].len);

		ecam_wr(SLOT_T, ro[i].off, ro[i].len, 0xffffffff);
		cf8_wr(SLOT_T, ro[i].off, ro[i].len, 0);
		tap_eq(ecam_rd(SLOT_T, ro[i].off, ro[i].len), before, "%s is read-only", ro[i].name);
	}
	ecam_wr(SLOT_T, PCI_CACHE_LINE_SIZE, 1, 0x10);
	tap_eq(cf8_rd(SLOT_T, PCI_CACHE_LINE_SIZE, 1), 0x10, "cache line size is writable");
	ecam_wr(SLOT_T, PCI_INTERRUPT_LINE, 1, 0x0b);
	tap_eq(cf8_rd(SLOT_T, PCI_INTERRUPT_LINE, 1), 0x0b, "interrupt line is writable");
	cf8_wr(SLOT_T, PCI_INTERRUPT_LINE, 1, tdev.intx_gsi);

	/* Writes to the vendor cap body (no wmask) are dropped too. */
	uint8_t cap = (uint8_t)ecam_rd(SLOT_T, PCI_CAPABILITY_LIST, 1);
	uint32_t before = ecam_rd(SLOT_T, cap, 4);
	ecam_wr(SLOT_T, cap, 4, 0);
	tap_eq(ecam_rd(SLOT_T, cap, 4), before, "capability header and body are read-only");
}

static void test_command_status(void)
{
	uint32_t wm = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
		      PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE;

	ecam_wr(SLOT_U, PCI_COMMAND, 2, 0xffff);
	tap_eq(ecam_rd(SLOT_U, PCI_COMMAND, 2), wm, "Command: only the implemented bits stick");
	ecam_wr(SLOT_U, PCI_COMMAND, 2, 0);
	tap_eq(ecam_rd(SLOT_U, PCI_COMMAND, 2), 0, "Command cleared");

	tap_ok(ecam_rd(SLOT_T, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
	       "Status: capabilities-list bit set when caps exist");
	tap_ok(!(ecam_rd(SLOT_U, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST),
	       "Status: capabilities-list bit clear without caps");
	ecam_wr(SLOT_T, PCI_STATUS, 2, 0xffff);
	tap_ok(ecam_rd(SLOT_T, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
	       "Status: writing ones does not clear the capabilities-list bit");

	/* W1C: as a device (vfio) would set them, then the guest clears. */
	vconfig_set(&tdev.cfg, PCI_STATUS, 2,
		    PCI_STATUS_CAP_LIST | PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_DETECTED_PARITY);
	ecam_wr(SLOT_T, PCI_STATUS, 2, 0);
	tap_eq(ecam_rd(SLOT_T, PCI_STATUS, 2),
	       PCI_STATUS_CAP_LIST | PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_DETECTED_PARITY,
	       "Status: writing zeros leaves error bits set");
	cf8_wr(SLOT_T, PCI_STATUS, 2, PCI_STATUS_REC_MASTER_ABORT);
	tap_eq(ecam_rd(SLOT_T, PCI_STATUS, 2), PCI_STATUS_CAP_LIST | PCI_STATUS_DETECTED_PARITY,
	       "Status: writing 1 clears just that error bit (W1C)");
	cf8_wr(SLOT_T, PCI_STATUS + 1, 1, PCI_STATUS_DETECTED_PARITY >> 8);
	tap_eq(ecam_rd(SLOT_T, PCI_STATUS, 2), PCI_STATUS_CAP_LIST,
	       "Status: a byte write to the upper half clears too");

	/* Writing Command through a dword write at 0x04 must not clear
	 * Status bits unless the guest writes ones there. */
	vconfig_set(&tdev.cfg, PCI_STATUS, 2, PCI_STATUS_CAP_LIST | PCI_STATUS_SIG_TARGET_ABORT);
	ecam_wr(SLOT_T, PCI_COMMAND, 4, 0);
	tap_eq(ecam_rd(SLOT_T, PCI_STATUS, 2), PCI_STATUS_CAP_LIST | PCI_STATUS_SIG_TARGET_ABORT,
	       "dword write to Command with zeros in Status keeps Status");
	vconfig_set(&tdev.cfg, PCI_STATUS, 2, PCI_STATUS_CAP_LIST);

	bus_master_calls = 0;
	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	tap_ok(bus_master_calls == 1 && bus_master_last, "bus master on reported to the device");
	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
	tap_eq(bus_master_calls, 1, "rewriting the same Command does not report again");
	ecam_wr(SLOT_T, PCI_COMMAND, 2, 0);
	tap_ok(bus_master_calls == 2 && !bus_master_last, "bus master off reported");
}

static void test_sizing(void)
{
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	tap_eq(ecam_rd(SLOT_T, PCI_BASE_ADDRESS_0, 4), 0xfffff000u, "32-bit memory BAR 4 KiB sizing");
	cf8_wr(SLOT_T, PCI_BASE_ADDRESS_1, 4, 0xffffffff);
	tap_eq(cf8_rd(SLOT_T, PCI_BASE_ADDRESS_1, 4), 0xffffffe1u,
	       "I/O BAR 32 bytes sizing keeps the I/O bit");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_2, 4, 0xffffffff);
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	tap_eq(ecam_rd(SLOT_T, PCI_BASE_ADDRESS_2, 4), 0xffff000cu,
	       "64-bit prefetchable BAR low half: size mask with type bits 64/prefetch");
	tap_eq(ecam_rd(SLOT_T, PCI_BASE_ADDRESS_3, 4), 0xffffffffu,
	       "64-bit BAR high half: all ones (size below 4 GiB)");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_4, 4, 0xffffffff);
	tap_eq(ecam_rd(SLOT_T, PCI_BASE_ADDRESS_4, 4), 0xffffff08u,
	       "32-bit prefetchable 256-byte BAR sizing");
	tap_eq(ecam_rd(SLOT_T, PCI_BASE_ADDRESS_5, 4), 0, "BAR5 unused: reads 0");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_5, 4, 0xffffffff);
	tap_eq(ecam_rd(SLOT_T, PCI_BASE_ADDRESS_5, 4), 0, "BAR5 unused: sizing reads 0 too");
	ecam_wr(SLOT_T, PCI_ROM_ADDRESS, 4, PCI_ROM_ADDRESS_MASK);
	tap_eq(ecam_rd(SLOT_T, PCI_ROM_ADDRESS, 4), 0xffff0000u, "ROM BAR 64 KiB sizing (0xfffff800)");
	ecam_wr(SLOT_T, PCI_ROM_ADDRESS, 4, 0xffffffff);
	tap_eq(ecam_rd(SLOT_T, PCI_ROM_ADDRESS, 4), 0xffff0001u,
	       "ROM BAR sizing with all ones keeps the enable bit");
	/* Byte-wise sizing of BAR0 through the data window. */
	for (unsigned i = 0; i < 4; i++)
		cf8_wr(SLOT_T, PCI_BASE_ADDRESS_0 + i, 1, 0);
	for (unsigned i = 0; i < 4; i++)
		cf8_wr(SLOT_T, PCI_BASE_ADDRESS_0 + i, 1, 0xff);
	tap_eq(cf8_rd(SLOT_T, PCI_BASE_ADDRESS_0, 4), 0xfffff000u, "BAR0 sized byte by byte");
	for (unsigned r = PCI_BASE_ADDRESS_0; r <= PCI_ROM_ADDRESS; r += 4)
		ecam_wr(SLOT_T, r, 4, 0);
	tap_eq(ecam_rd(SLOT_T, PCI_BASE_ADDRESS_2, 4), 0x0c, "BAR2 back to 0, type bits intact");
}

static bool mapped_at(struct bus *b, uint64_t addr, const char *name)
{
	struct bus_range *r = bus_find(b, addr, 1);

	return r && r->base == addr && (!name || !strcmp(r->name, name));
}

static void test_relocation(void)
{
	unsigned mark;

	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, 0xc0000000);
	tap_ok(!tdev.bar[0].mapped && !bus_find(&vm.mmio, 0xc0000000, 4),
	       "BAR0 programmed with memory decode off: not mapped");
	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	tap_ok(tdev.bar[0].mapped && mapped_at(&vm.mmio, 0xc0000000, "testdev BAR0"),
	       "memory decode on: BAR0 on the MMIO bus at 0xc0000000");
	trap_t[0].calls = 0;
	tap_eq(mmio_rd(0xc0000010, 4), 0x5a5a5a5a, "BAR0 read reaches the device's trap");
	tap_ok(trap_t[0].calls == 1 && trap_t[0].off == 0x10 && !trap_t[0].is_write,
	       "trap saw offset 0x10 inside the BAR, not the address");
	mmio_wr(0xc0000ff8, 8, 0x1122334455667788ULL);
	tap_ok(trap_t[0].off == 0xff8 && trap_t[0].len == 8 &&
		       trap_t[0].wrote == 0x1122334455667788ULL,
	       "8-byte write at the BAR's end reaches the trap whole");

	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, 0xc0001000);
	tap_ok(!bus_find(&vm.mmio, 0xc0000000, 4) && mapped_at(&vm.mmio, 0xc0001000, NULL),
	       "BAR0 moved: gone from 0xc0000000, present at 0xc0001000");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0 + 2, 2, 0xc010);
	tap_ok(!bus_find(&vm.mmio, 0xc0001000, 4) && mapped_at(&vm.mmio, 0xc0101000, NULL),
	       "BAR0 moved by a word write to its upper half");

	/* Sizing while decode is on: the pattern is never mapped. */
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	tap_ok(!tdev.bar[0].mapped && !bus_find(&vm.mmio, 0xfffff000, 4) &&
		       !bus_find(&vm.mmio, 0xc0101000, 4),
	       "sizing BAR0 with decode on: unmapped, pattern not mapped");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, 0xc0101000);
	tap_ok(mapped_at(&vm.mmio, 0xc0101000, NULL), "restored after sizing: mapped again");

	ecam_wr(SLOT_T, PCI_COMMAND, 2, 0);
	tap_ok(!tdev.bar[0].mapped && !bus_find(&vm.mmio, 0xc0101000, 4),
	       "memory decode off: BAR0 removed from the bus");
	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	tap_ok(mapped_at(&vm.mmio, 0xc0101000, NULL), "memory decode on again: BAR0 back");

	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, 0);
	tap_ok(!tdev.bar[0].mapped, "BAR at address 0 is never mapped");

	/* I/O BAR. */
	cf8_wr(SLOT_T, PCI_BASE_ADDRESS_1, 4, 0xc100);
	tap_ok(!bus_find(&vm.pio, 0xc100, 1), "I/O BAR with I/O decode off: not mapped");
	cf8_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
	tap_ok(mapped_at(&vm.pio, 0xc100, "testdev BAR1"), "I/O decode on: BAR1 at port 0xc100");
	trap_t[1].calls = 0;
	pio_out(0xc11e, 2, 0xbeef);
	tap_ok(trap_t[1].calls == 1 && trap_t[1].off == 0x1e && trap_t[1].wrote == 0xbeef,
	       "port write reaches BAR1's trap at offset 0x1e");
	cf8_wr(SLOT_T, PCI_BASE_ADDRESS_1, 4, 0x10);
	tap_ok(!tdev.bar[1].mapped && !bus_find(&vm.pio, 0x10, 1),
	       "I/O BAR moved into the legacy ISA ports: refused");
	cf8_wr(SLOT_T, PCI_BASE_ADDRESS_1, 4, 0xffe0);
	tap_ok(tdev.bar[1].mapped, "I/O BAR ending exactly at 0x10000: mapped");
	cf8_wr(SLOT_T, PCI_BASE_ADDRESS_1, 4, 0x1ffe0);
	tap_ok(!tdev.bar[1].mapped, "I/O BAR past 0xffff (32-bit I/O decoder): refused");
	cf8_wr(SLOT_T, PCI_BASE_ADDRESS_1, 4, 0xcf0);
	tap_ok(!tdev.bar[1].mapped && mapped_at(&vm.pio, 0xcf8, "pci-conf1"),
	       "I/O BAR over 0xcf8: refused, mechanism #1 intact");
	cf8_wr(SLOT_T, PCI_BASE_ADDRESS_1, 4, 0xc100);
	cf8_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	tap_ok(!bus_find(&vm.pio, 0xc100, 1), "I/O decode off: BAR1 gone");

	/* 64-bit BAR with host backing: slots around the MSI-X pages. */
	mark = ncalls;
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_2, 4, 0);
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_3, 4, 1);
	tap_ok(tdev.bar[2].mapped && tdev.bar[2].addr == 0x100000000ULL &&
		       mapped_at(&vm.mmio, 0x100000000ULL, "testdev BAR2"),
	       "64-bit BAR2 at 0x1_0000_0000 after writing both halves");
	unsigned adds = 0;
	uint64_t covered = 0;
	bool hole_ok = true;
	for (unsigned i = mark; i < ncalls; i++) {
		if (calls[i].kind != C_SLOT_ADD)
			continue;
		adds++;
		covered += calls[i].b;
		if (range_overlap(calls[i].a, calls[i].b, 0x100000000ULL + T_TABLE, 4096) ||
		    range_overlap(calls[i].a, calls[i].b, 0x100000000ULL + T_PBA, 4096))
			hole_ok = false;
	}
	tap_ok(adds == 3 && covered == T_BAR2_SIZE - 2 * 4096 && hole_ok,
	       "three KVM slots cover the BAR except the MSI-X table and PBA pages");
	trap_t[2].calls = 0;
	mmio_rd(0x100000000ULL + T_TABLE + 0x100, 4);
	tap_ok(trap_t[2].calls == 1 && trap_t[2].off == T_TABLE + 0x100,
	       "an access in the table page but past the table reaches the device's trap");

	mark = ncalls;
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_3, 4, 0);
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_2, 4, 0xc0200000);
	/* The low-half write at hi=0 passes through 0x0 (refused), then to
	 * 0xc0200000; every old slot must go before any new one comes. */
	int first_add = -1, last_del = -1;
	unsigned dels = 0;
	for (unsigned i = mark; i < ncalls; i++) {
		if (calls[i].kind == C_SLOT_DEL) {
			last_del = (int)i;
			dels++;
		}
		if (calls[i].kind == C_SLOT_ADD && first_add < 0)
			first_add = (int)i;
	}
	tap_ok(dels == 3 && first_add > last_del, "move: 3 old slots removed before the new ones");
	tap_ok(!bus_find(&vm.mmio, 0x100000000ULL, 4) && mapped_at(&vm.mmio, 0xc0200000, NULL),
	       "BAR2 moved below 4 GiB");

	/* Force-trap: no slots at all. */
	ecam_wr(SLOT_T, PCI_COMMAND, 2, 0);
	tdev.bar[2].force_trap = true;
	mark = ncalls;
	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	tap_ok(tdev.bar[2].mapped && last(C_SLOT_ADD) &&
		       (unsigned)(last(C_SLOT_ADD) - calls) < mark,
	       "force_trap: BAR mapped without KVM slots");
	trap_t[2].calls = 0;
	mmio_rd(0xc0200010, 4);
	tap_eq(trap_t[2].calls, 1, "force_trap: accesses trap");
	tdev.bar[2].force_trap = false;

	/* ROM BAR. */
	ecam_wr(SLOT_T, PCI_ROM_ADDRESS, 4, 0xc0300000);
	tap_ok(!tdev.rom.mapped, "ROM with enable bit clear: not mapped");
	ecam_wr(SLOT_T, PCI_ROM_ADDRESS, 4, 0xc0300001);
	tap_ok(tdev.rom.mapped && mapped_at(&vm.mmio, 0xc0300000, "testdev ROM"),
	       "ROM enable bit + memory decode: mapped");
	trap_t[6].calls = 0;
	mmio_rd(0xc0300004, 4);
	tap_ok(trap_t[6].calls == 1 && trap_t[6].off == 4, "ROM read reaches its trap");
	ecam_wr(SLOT_T, PCI_COMMAND, 2, 0);
	tap_ok(!tdev.rom.mapped, "memory decode off: ROM unmapped");
	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ecam_wr(SLOT_T, PCI_ROM_ADDRESS, 4, 0xc0300000);
	tap_ok(!tdev.rom.mapped, "ROM enable bit cleared: unmapped");
}

static void test_refusals(void)
{
	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, 0x00100000);
	tap_ok(!tdev.bar[0].mapped && !bus_find(&vm.mmio, 0x100000, 1),
	       "BAR moved over RAM: not mapped");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, (uint32_t)PCI_ECAM_BASE + 0x8000);
	tap_ok(!tdev.bar[0].mapped && mapped_at(&vm.mmio, PCI_ECAM_BASE, "pci-ecam"),
	       "BAR moved over the ECAM window: not mapped, ECAM intact");
	tap_eq(ecam_rd(SLOT_T, 0, 2), 0x1234, "ECAM still answers");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, (uint32_t)IOAPIC_BASE);
	tap_ok(!tdev.bar[0].mapped, "BAR over the IOAPIC: not mapped");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, (uint32_t)LAPIC_BASE);
	tap_ok(!tdev.bar[0].mapped, "BAR over the LAPIC: not mapped");

	/* 64-bit BAR over RAM (hi 0) and then over another BAR's slots. */
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_2, 4, 0x00200000);
	tap_ok(!tdev.bar[2].mapped, "64-bit BAR over RAM: not mapped");

	/* Two BARs at one address: the second is refused, and gets its
	 * place as soon as the first moves away. */
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, 0xc0400000);
	tap_ok(tdev.bar[0].mapped, "testdev BAR0 at 0xc0400000");
	ecam_wr(SLOT_U, PCI_BASE_ADDRESS_0, 4, 0xc0400000);
	ecam_wr(SLOT_U, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	tap_ok(!udev.bar[0].mapped && mapped_at(&vm.mmio, 0xc0400000, "testdev BAR0"),
	       "plain BAR0 over testdev BAR0: refused, testdev keeps its place");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_0, 4, 0xc0500000);
	tap_ok(udev.bar[0].mapped && mapped_at(&vm.mmio, 0xc0400000, "plain BAR0"),
	       "testdev BAR0 moved away: plain BAR0 mapped at once (retry)");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_4, 4, 0xc0400800);
	tap_ok(!tdev.bar[4].mapped, "256-byte BAR4 inside plain BAR0: refused");
	ecam_wr(SLOT_U, PCI_COMMAND, 2, 0);
	tap_ok(tdev.bar[4].mapped && mapped_at(&vm.mmio, 0xc0400800, "testdev BAR4"),
	       "plain decode off: testdev BAR4 gets 0xc0400800 (retry)");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_4, 4, 0);

	/* Memory BAR over another memory BAR that has slots. */
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_2, 4, 0xc0600000);
	tap_ok(tdev.bar[2].mapped, "BAR2 at 0xc0600000 with slots");
	ecam_wr(SLOT_U, PCI_BASE_ADDRESS_0, 4, 0xc0601000);
	ecam_wr(SLOT_U, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	tap_ok(!udev.bar[0].mapped, "BAR over another BAR's KVM slot: refused");
	ecam_wr(SLOT_U, PCI_COMMAND, 2, 0);

	/* High limits. */
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_3, 4, 0xfff00000);
	tap_ok(!tdev.bar[2].mapped, "64-bit BAR beyond 52 bits of address: not mapped");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_3, 4, 0);

	/* No slot ever overlapped RAM. */
	bool ok = true;
	for (unsigned i = 0; i < ncalls; i++)
		if (calls[i].kind == C_SLOT_ADD && calls[i].a < vm.mem_size)
			ok = false;
	tap_ok(ok, "no KVM slot was ever added inside RAM");
	ok = true;
	for (size_t i = 0; i < vm.mmio.n; i++)
		if (vm.mmio.r[i].base < vm.mem_size)
			ok = false;
	tap_ok(ok, "nothing on the MMIO bus inside RAM");
}

/* Run fn with --trace pci on, into buf. */
static void traced(void (*fn)(void), char *buf, size_t size)
{
	FILE *f = tmpfile();
	int saved = dup(2);
	size_t n;

	buf[0] = '\0';
	if (!f || saved < 0) {
		fn();
		return;
	}
	fflush(stderr);
	dup2(fileno(f), 2);
	trace_mask = TRACE_PCI;
	fn();
	trace_mask = 0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
}

static void bar2_hi_zero(void)
{
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_3, 4, 0);
}

/*
 * A 64-bit BAR is one 64-bit register: only both dwords holding their
 * sizing pattern make it a sizing pattern.  A low dword with every
 * writable bit set is otherwise an address like any other, e.g. the last
 * 64 KiB below 8 GiB, where a top-down allocator puts a 64 KiB BAR first.
 */
static void test_bar64_every_address(void)
{
	char buf[4096];

	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_2, 4, 0xc0600000);
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_3, 4, 1);
	tap_ok(mapped_at(&vm.mmio, 0x1c0600000ULL, "testdev BAR2"),
	       "64-bit BAR moved by its high dword to 0x1_c0600000");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_2, 4, 0xffff0000);
	tap_ok(tdev.bar[2].mapped && mapped_at(&vm.mmio, 0x1ffff0000ULL, "testdev BAR2"),
	       "a 64-bit BAR at 0x1_ffff0000 (low dword all ones) is mapped");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_3, 4, 2);
	tap_ok(mapped_at(&vm.mmio, 0x2ffff0000ULL, "testdev BAR2") &&
		       !bus_find(&vm.mmio, 0x1ffff0000ULL, 4),
	       "a 64-bit BAR moves from 0x1_ffff0000 to 0x2_ffff0000 by its high dword");
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_3, 4, 0xffffffff);
	tap_ok(!tdev.bar[2].mapped, "both dwords all ones (sizing) with decode on: not mapped");
	tap_eq(ecam_rd(SLOT_T, PCI_BASE_ADDRESS_2, 4), 0xffff000cu, "sizing still reads the size");
	/* High dword back to 0: 0xffff0000 lies in the IOAPIC/LAPIC area. */
	traced(bar2_hi_zero, buf, sizeof(buf));
	tap_ok(!tdev.bar[2].mapped, "64-bit BAR at 0xffff0000 (below 4 GiB): refused");
	tap_ok(strstr(buf, "BAR2 not mapped at 0xffff0000: overlaps the IOAPIC/LAPIC area") != NULL,
	       "the refusal of a 64-bit BAR is visible in --trace pci");
	tap_diag("%s", buf);
	ecam_wr(SLOT_T, PCI_BASE_ADDRESS_2, 4, 0xc0600000);
	tap_ok(mapped_at(&vm.mmio, 0xc0600000, "testdev BAR2"), "BAR2 back at 0xc0600000");
}

static void test_caps(void)
{
	unsigned p = ecam_rd(SLOT_T, PCI_CAPABILITY_LIST, 1), n = 0;
	uint8_t ids[8];
	bool sane = true;

	while (p && n < 8) {
		if (p < 0x40 || p > 0xfc || (p & 3))
			sane = false;
		ids[n++] = (uint8_t)ecam_rd(SLOT_T, p, 1);
		p = ecam_rd(SLOT_T, p + 1, 1);
	}
	tap_ok(sane && n == 3 && ids[0] == PCI_CAP_ID_VNDR && ids[1] == PCI_CAP_ID_MSI &&
		       ids[2] == PCI_CAP_ID_MSIX,
	       "capability chain: vendor -> MSI -> MSI-X, dword aligned, in range, ends");
	tap_eq(ecam_rd(SLOT_T, tdev.msix.cap + PCI_MSIX_FLAGS, 2), T_NVEC - 1,
	       "MSI-X table size field");
	tap_eq(ecam_rd(SLOT_T, tdev.msix.cap + PCI_MSIX_TABLE, 4), T_TABLE | 2, "MSI-X table BIR/offset");
	tap_eq(ecam_rd(SLOT_T, tdev.msix.cap + PCI_MSIX_PBA, 4), T_PBA | 2, "MSI-X PBA BIR/offset");
	tap_eq(ecam_rd(SLOT_T, tdev.msi.cap + PCI_MSI_FLAGS, 2),
	       (2 << 1) | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT,
	       "MSI control: 4 vectors capable, 64-bit, maskable");
	tap_ok(!strcmp(pci_reg_name(&tdev, tdev.msix.cap + 2), "MSI-X ctrl") &&
		       !strcmp(pci_reg_name(&tdev, tdev.msi.cap + PCI_MSI_DATA_64), "MSI data") &&
		       !strcmp(pci_reg_name(&tdev, 0x14), "BAR1") &&
		       !strcmp(pci_reg_name(&tdev, 0x1c), "BAR2 hi") &&
		       !strcmp(pci_reg_name(&tdev, 0x05), "Command") &&
		       !strcmp(pci_reg_name(&tdev, 0x200), "ext 0x200"),
	       "register names for the trace");

	/* A builder that runs out of room says so. */
	struct pci_dev full;
	uint8_t big[180] = {0};
	pci_dev_init(&full, "full", 9, 1, 1, 0, 0);
	tap_ok(pci_cap_add(&full, PCI_CAP_ID_VNDR, big, sizeof(big), NULL) == 0x40 &&
		       pci_cap_add(&full, PCI_CAP_ID_VNDR, big, 20, NULL) == 0,
	       "pci_cap_add returns 0 when the 256-byte space is full");

	/* A hostile chain (as vfio could present) does not hang the namer. */
	full.cfg.bytes[PCI_CAPABILITY_LIST] = 0x40;
	full.cfg.bytes[0x41] = 0x40; /* loop */
	tap_ok(pci_reg_name(&full, 0xf0) != NULL, "register namer survives a capability loop");
}

static uint64_t table(unsigned v, unsigned field)
{
	return tdev.bar[2].addr + T_TABLE + 16 * v + field;
}

static void test_msix(void)
{
	unsigned ctrl = tdev.msix.cap + PCI_MSIX_FLAGS;
	int efd = eventfd(0, EFD_NONBLOCK);
	uint64_t one = 1;

	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	tap_ok(tdev.bar[2].mapped, "BAR2 (MSI-X) mapped at 0x%llx",
	       (unsigned long long)tdev.bar[2].addr);
	tap_eq(mmio_rd(table(0, 12), 4), 1, "vector control at reset: masked");
	for (unsigned v = 0; v < T_NVEC; v++) {
		mmio_wr(table(v, 0), 8, 0xfee00000ULL + 0x1000 * v);
		mmio_wr(table(v, 8), 4, 0x40 + v);
	}
	tap_eq(mmio_rd(table(2, 0), 4), 0xfee02000u, "table address reads back");
	tap_eq(mmio_rd(table(2, 8), 4), 0x42, "table data reads back");
	tap_eq(mmio_rd(table(3, 0), 8), 0xfee03000ULL, "table qword read");
	mmio_wr(table(1, 0), 4, 0xfee01003);
	tap_eq(mmio_rd(table(1, 0), 4), 0xfee01000u, "address bits 1:0 read as 0");
	mmio_wr(table(1, 12), 4, 0xffffffff);
	tap_eq(mmio_rd(table(1, 12), 4), 1, "reserved control bits read 0");
	tap_eq(mmio_rd(tdev.bar[2].addr + T_PBA, 8), 0, "PBA empty");

	unsigned sig = count(C_SIGNAL);
	pci_notify(&tdev, 0);
	tap_ok(count(C_SIGNAL) == sig && !tdev.msix.vec[0].pending,
	       "MSI-X disabled, INTx used: no MSI (pin asserted instead)");
	pci_intx_set(&tdev, false);

	irq_changed_calls = 0;
	ecam_wr(SLOT_T, ctrl, 2, PCI_MSIX_FLAGS_ENABLE);
	tap_ok(pci_msix_enabled(&tdev) && irq_changed_calls == 1, "MSI-X enabled, device told");
	pci_notify(&tdev, 0);
	tap_ok(count(C_SIGNAL) == sig && tdev.msix.vec[0].pending,
	       "notify on a masked vector: not sent, pending");
	tap_eq(mmio_rd(tdev.bar[2].addr + T_PBA, 8), 1, "PBA bit 0 set");
	mmio_wr(tdev.bar[2].addr + T_PBA, 8, 0);
	tap_eq(mmio_rd(tdev.bar[2].addr + T_PBA, 8), 1, "PBA is read-only");
	mmio_wr(table(0, 12), 4, 0);
	tap_ok(count(C_SIGNAL) == sig + 1 && last(C_SIGNAL)->a == 0xfee00000 &&
		       last(C_SIGNAL)->b == 0x40 && !tdev.msix.vec[0].pending,
	       "unmask: pending interrupt delivered with the vector's address/data");
	tap_eq(mmio_rd(tdev.bar[2].addr + T_PBA, 8), 0, "PBA bit 0 clear");
	pci_notify(&tdev, 0);
	tap_ok(count(C_SIGNAL) == sig + 2, "unmasked vector: sent at once");

	/* Function mask. */
	ecam_wr(SLOT_T, ctrl, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pci_notify(&tdev, 0);
	tap_ok(count(C_SIGNAL) == sig + 2 && tdev.msix.vec[0].pending,
	       "function mask: held pending");
	ecam_wr(SLOT_T, ctrl, 2, PCI_MSIX_FLAGS_ENABLE);
	tap_ok(count(C_SIGNAL) == sig + 3 && !tdev.msix.vec[0].pending,
	       "function mask cleared: delivered");

	/* Out of range. */
	pci_notify(&tdev, T_NVEC);
	pci_notify(&tdev, 1000000);
	tap_ok(count(C_SIGNAL) == sig + 3, "notify of a vector beyond the table: dropped");
	tap_eq(pci_irq_eventfd(&tdev, T_NVEC, efd), -EINVAL,
	       "eventfd for a vector beyond the table refused");

	/* Accesses straddling the table end: dropped / all ones. */
	uint64_t tend = tdev.bar[2].addr + T_TABLE + 16 * T_NVEC;
	trap_t[2].calls = 0;
	tap_eq(mmio_rd(tend - 4, 8), 0xffffffffffffffffULL, "read straddling the table end: all ones");
	mmio_wr(tend - 4, 8, 0);
	tap_ok(trap_t[2].calls == 0 && mmio_rd(table(T_NVEC - 1, 12), 4) == 1,
	       "write straddling the table end: dropped");

	/* eventfd-backed vector 2: irqfd follows the mask. */
	unsigned on = count(C_IRQFD_ON);
	tap_eq(pci_irq_eventfd(&tdev, 2, efd), 0, "eventfd given for vector 2");
	tap_eq(count(C_IRQFD_ON), on, "vector 2 masked: no irqfd yet");
	mmio_wr(table(2, 12), 4, 0);
	const struct call *r = last(C_ROUTE_SET);
	tap_ok(count(C_IRQFD_ON) == on + 1 && r && r->a == 0xfee02000 && r->b == 0x42 &&
		       tdev.msix.vec[2].irqfd_on,
	       "unmask: route set to the vector's address/data, irqfd attached");
	mmio_wr(table(2, 12), 4, 1);
	tap_ok(count(C_IRQFD_OFF) >= 1 && !tdev.msix.vec[2].irqfd_on, "mask: irqfd detached");
	tap_ok(write(efd, &one, 8) == 8, "device signals the eventfd while masked");
	tap_eq(mmio_rd(tdev.bar[2].addr + T_PBA, 8), 1 << 2, "PBA shows vector 2 pending");
	sig = count(C_SIGNAL);
	mmio_wr(table(2, 12), 4, 0);
	tap_ok(count(C_SIGNAL) == sig + 1 && tdev.msix.vec[2].irqfd_on,
	       "unmask: irqfd re-attached and the pending signal fires");
	mmio_wr(table(2, 8), 4, 0x77);
	tap_ok(last(C_ROUTE_SET)->b == 0x77, "data changed while live: route updated");
	irq_changed_calls = 0;
	mmio_wr(table(2, 8), 4, 0x77);
	mmio_wr(table(2, 12), 4, 0);
	tap_eq(irq_changed_calls, 0, "rewriting the same values does not tell the device");
	ecam_wr(SLOT_T, ctrl, 2, 0);
	tap_ok(!tdev.msix.vec[2].irqfd_on, "MSI-X disabled: irqfd detached");
	pci_irq_eventfd(&tdev, 2, -1);
	close(efd);
}

static void test_msi(void)
{
	unsigned c = tdev.msi.cap;
	unsigned sig;

	ecam_wr(SLOT_T, c + PCI_MSI_ADDRESS_LO, 4, 0xfee0000f);
	tap_eq(ecam_rd(SLOT_T, c + PCI_MSI_ADDRESS_LO, 4), 0xfee0000cu, "MSI address bits 1:0 RO");
	ecam_wr(SLOT_T, c + PCI_MSI_ADDRESS_HI, 4, 0);
	ecam_wr(SLOT_T, c + PCI_MSI_DATA_64, 4, 0xffff0050);
	tap_eq(ecam_rd(SLOT_T, c + PCI_MSI_DATA_64, 4), 0x50, "MSI data is 16 bits");
	ecam_wr(SLOT_T, c + PCI_MSI_ADDRESS_LO, 4, 0xfee00000);
	irq_changed_calls = 0;
	ecam_wr(SLOT_T, c + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	tap_ok(pci_msi_enabled(&tdev) && irq_changed_calls == 1, "MSI enabled, device told");
	sig = count(C_SIGNAL);
	pci_notify(&tdev, 0);
	tap_ok(count(C_SIGNAL) == sig + 1 && last(C_SIGNAL)->a == 0xfee00000 &&
		       last(C_SIGNAL)->b == 0x50,
	       "MSI sent with its address and data");
	ecam_wr(SLOT_T, c + PCI_MSI_MASK_64, 4, 1);
	pci_notify(&tdev, 0);
	tap_ok(count(C_SIGNAL) == sig + 1 && (ecam_rd(SLOT_T, c + PCI_MSI_PENDING_64, 4) & 1),
	       "masked MSI: not sent, pending bit set");
	ecam_wr(SLOT_T, c + PCI_MSI_PENDING_64, 4, 0);
	tap_ok(ecam_rd(SLOT_T, c + PCI_MSI_PENDING_64, 4) & 1, "pending bits are read-only");
	ecam_wr(SLOT_T, c + PCI_MSI_MASK_64, 4, 0);
	tap_ok(count(C_SIGNAL) == sig + 2 && !(ecam_rd(SLOT_T, c + PCI_MSI_PENDING_64, 4) & 1),
	       "unmask: pending MSI delivered");
	ecam_wr(SLOT_T, c + PCI_MSI_MASK_64, 4, 0xffffffff);
	tap_eq(ecam_rd(SLOT_T, c + PCI_MSI_MASK_64, 4), 0xf, "only 4 mask bits exist");
	ecam_wr(SLOT_T, c + PCI_MSI_MASK_64, 4, 0);
	ecam_wr(SLOT_T, c + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4));
	pci_notify(&tdev, 3);
	tap_eq(last(C_SIGNAL)->b, 0x53, "4 vectors enabled: vector 3 in the data's low bits");
	pci_notify(&tdev, 7);
	tap_eq(last(C_SIGNAL)->b, 0x53, "vector beyond the granted ones wraps to the granted range");

	int efd = eventfd(0, EFD_NONBLOCK);
	tap_eq(pci_irq_eventfd(&tdev, PCI_MSI_VECTOR, efd), 0, "MSI eventfd given");
	tap_ok(tdev.msi.irqfd_on && route_addr[tdev.msi.gsi] == 0xfee00000,
	       "MSI enabled: irqfd attached to a route with the MSI message");
	ecam_wr(SLOT_T, c + PCI_MSI_FLAGS, 2, 0);
	tap_ok(!tdev.msi.irqfd_on && !pci_msi_enabled(&tdev), "MSI disabled: irqfd detached");
	pci_irq_eventfd(&tdev, PCI_MSI_VECTOR, -1);
	close(efd);
}

/* A 32-bit MSI without masking, on a device of its own. */
static void test_msi32(void)
{
	static struct pci_dev m;
	unsigned c, sig;

	pci_dev_init(&m, "msi32", 5, 0x1234, 0x0032, 0xff0000, 0);
	pci_msi_init(&m, 1, false, false);
	tap_eq(pci_register(&vm, &m), 0, "msi32 registered at slot 5");
	c = m.msi.cap;
	tap_ok(c == 0x40 && ecam_rd(5, PCI_CAPABILITY_LIST, 1) == 0x40 &&
		       ecam_rd(5, c, 2) == PCI_CAP_ID_MSI,
	       "MSI capability first in the list, next pointer 0");
	tap_eq(ecam_rd(5, c + PCI_MSI_FLAGS, 2), 0, "MSI control: 1 vector, 32-bit, no masking");
	tap_eq(ecam_rd(5, PCI_INTERRUPT_LINE, 1), 0xff, "no pin: Interrupt Line 0xff");
	ecam_wr(5, c + PCI_MSI_ADDRESS_LO, 4, 0xfee01000);
	ecam_wr(5, c + PCI_MSI_DATA_32, 2, 0x61);
	ecam_wr(5, c + PCI_MSI_DATA_32 + 2, 2, 0xffff);
	tap_eq(ecam_rd(5, c + PCI_MSI_DATA_32, 4), 0x61, "nothing writable after the 32-bit data");
	ecam_wr(5, c + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
	tap_eq(ecam_rd(5, c + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE, 1, "MSI enabled");
	sig = count(C_SIGNAL);
	pci_notify(&m, 0);
	pci_notify(&m, 5);
	tap_ok(count(C_SIGNAL) == sig + 2 && last(C_SIGNAL)->a == 0xfee01000 &&
		       last(C_SIGNAL)->b == 0x61,
	       "1 vector: every notify sends the one message, whatever MME says");
	unsigned lines = count(C_IRQ_LINE);
	pci_intx_set(&m, true);
	tap_eq(count(C_IRQ_LINE), lines, "no pin: INTx never reaches KVM");
	pci_unregister(&m);
	tap_eq(ecam_rd(5, 0, 4), 0xffffffffu, "msi32 unregistered");
}

static void test_intx(void)
{
	unsigned gsi = PCI_INTX_GSI_BASE + ((SLOT_T + 1 - 1) & 3);

	tap_eq(tdev.intx_gsi, gsi, "INTA# of slot %d swizzled to GSI %u", SLOT_T, gsi);
	tap_eq(ecam_rd(SLOT_T, PCI_INTERRUPT_LINE, 1), gsi, "Interrupt Line holds the GSI");
	tap_eq(ecam_rd(SLOT_T, PCI_INTERRUPT_PIN, 1), 1, "Interrupt Pin is INTA#");
	tap_eq(pci_intx_gsi(1, 1), 17, "swizzle: slot 1 INTA -> 17");
	tap_eq(pci_intx_gsi(2, 4), 17, "swizzle: slot 2 INTD -> 17");

	pci_intx_set(&tdev, true);
	tap_ok(line_level[gsi] == 1 && (ecam_rd(SLOT_T, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT),
	       "INTx raised: line high, Status.Interrupt set");
	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	tap_ok(line_level[gsi] == 0 && (ecam_rd(SLOT_T, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT),
	       "INTx disable: line low, Status.Interrupt still shows the device's state");
	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	tap_eq(line_level[gsi], 1, "INTx enabled again: line high");
	ecam_wr(SLOT_T, tdev.msi.cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
	tap_eq(line_level[gsi], 0, "MSI enabled: INTx line released");
	ecam_wr(SLOT_T, tdev.msi.cap + PCI_MSI_FLAGS, 2, 0);
	tap_eq(line_level[gsi], 1, "MSI disabled: INTx line back");
	pci_intx_set(&tdev, false);
	tap_ok(line_level[gsi] == 0 && !(ecam_rd(SLOT_T, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT),
	       "INTx lowered");
	unsigned n = count(C_IRQ_LINE);
	pci_intx_set(&tdev, false);
	tap_eq(count(C_IRQ_LINE), n, "no redundant KVM_IRQ_LINE calls");
}

static void test_bounds_absent(void)
{
	uint64_t absent = stats[STAT_PCI_ABSENT];

	tap_eq(ecam_rd(SLOT_T, 0x100, 4), 0, "extended space reads 0 for our devices");
	ecam_wr(SLOT_T, 0x100, 4, 0xffffffff);
	ecam_wr(SLOT_T, 0xffc, 4, 0xffffffff);
	tap_ok(ecam_rd(SLOT_T, 0x100, 4) == 0 && ecam_rd(SLOT_T, 0xffc, 4) == 0,
	       "writes to extended space dropped");
	tap_eq(cf8_rd(SLOT_T, 0x100, 4), 0, "extended space through 0xcf8 bits 27:24");
	tap_eq(pci_cfg_read(&tdev, 0xffe, 4), 0xffffffffu, "core: read past the end is all ones");
	tap_eq(pci_cfg_read(&tdev, 0x5000, 1), 0xff, "core: read far past the end is all ones");
	pci_cfg_write(&tdev, 0xfff, 4, 0);
	pci_cfg_write(&tdev, 0x40000, 4, 0);
	tap_eq(pci_cfg_read(&tdev, 0, 3), 0xffffff, "core: a 3-byte access is refused (all ones)");
	tap_eq(pci_cfg_read(&tdev, 1, 2), 0x7812, "core: unaligned access served byte-wise");
	tap_eq(vconfig_get(&tdev.cfg, 4094, 4), 0xffffffffu, "vconfig_get past the end: all ones");

	tap_eq(ecam_rd(SLOT_ABSENT, 0, 4), 0xffffffffu, "absent device: all ones (ECAM)");
	tap_eq(cf8_rd(SLOT_ABSENT, 0, 2), 0xffff, "absent device: all ones (0xcf8)");
	tap_eq(mmio_rd(ecam_addr(SLOT_T, 1, 0), 4), 0xffffffffu, "function 1 of a present device: absent");
	mmio_wr(ecam_addr(SLOT_ABSENT, 0, 4), 2, 7);
	tap_eq(ecam_rd(SLOT_ABSENT, 4, 2), 0xffff, "write to an absent device dropped");
	pio_out(0xcf8, 4, 0x80000000u | (1u << 16));
	tap_eq(pio_in(0xcfc, 4), 0xffffffffu, "bus 1 through 0xcf8: all ones");
	pio_out(0xcfc, 4, 0);
	tap_ok(stats[STAT_PCI_ABSENT] > absent, "absent accesses counted (%llu)",
	       (unsigned long long)(stats[STAT_PCI_ABSENT] - absent));
	tap_eq(mmio_rd(PCI_ECAM_BASE + PCI_ECAM_SIZE - 4, 4), 0xffffffffu,
	       "last dword of the ECAM window (31:7.4095): all ones");
	tap_eq(mmio_rd(PCI_ECAM_BASE + PCI_ECAM_SIZE - 2, 4), 0xffffffffu,
	       "read straddling the end of the ECAM window: all ones");
}

static void test_cf8_hostile(void)
{
	uint64_t a0 = stats[STAT_PCI_CF8_ADDR], d0 = stats[STAT_PCI_CF8_DATA];
	uint32_t good = cf8_addr(SLOT_T, 0);

	pio_out(0xcf8, 4, good);
	tap_eq(pio_in(0xcf8, 4), good, "0xcf8 reads back what was written");
	pio_out(0xcf8, 4, 0xffffffff);
	tap_eq(pio_in(0xcf8, 4), 0x8ffffffcu, "0xcf8: reserved bits 30:28 and 1:0 read 0");
	pio_out(0xcf8, 4, good);
	for (unsigned p = 0xcf8; p < 0xcfc; p++) {
		pio_out((uint16_t)p, 1, 0);
		if (p < 0xcfb)
			pio_out((uint16_t)p, 2, 0);
	}
	tap_eq(pio_in(0xcf8, 4), good, "byte and word writes to 0xcf8-0xcfb ignored");
	tap_eq(pio_in(0xcf9, 1), 0xff, "byte read of 0xcf9 returns 0xff");
	tap_eq(pio_in(0xcfa, 2), 0xffff, "word read of 0xcfa returns 0xffff");
	pio_out(0xcfa, 4, 0);
	tap_eq(pio_in(0xcf8, 4), good, "dword straddling address and data ports ignored");
	tap_eq(pio_in(0xcfa, 4), 0xffffffffu, "dword read straddling them: all ones");
	tap_eq(pio_in(0xcfd, 4), 0xffffffffu, "dword read straddling the end of the data window");
	tap_eq(pio_in(0xcfc, 2), 0x1234, "data window still works after all that");
	pio_out(0xcf8, 4, good & ~0x80000000u);
	tap_eq(pio_in(0xcfc, 4), 0xffffffffu, "enable bit clear: data reads all ones");
	pio_out(0xcfc + 0, 2, 0);
	tap_eq(ecam_rd(SLOT_T, 0, 2), 0x1234, "enable bit clear: data write reaches nothing");
	tap_ok(stats[STAT_PCI_CF8_ADDR] > a0 && stats[STAT_PCI_CF8_DATA] > d0,
	       "mechanism #1 counters move");

	uint64_t e0 = stats[STAT_PCI_ECAM];
	ecam_rd(0, 0, 4);
	tap_eq(stats[STAT_PCI_ECAM] - e0, 1, "one ECAM access counts once");
	a0 = stats[STAT_PCI_CF8_ADDR], d0 = stats[STAT_PCI_CF8_DATA];
	cf8_rd(0, 0, 4);
	tap_ok(stats[STAT_PCI_CF8_ADDR] - a0 == 1 && stats[STAT_PCI_CF8_DATA] - d0 == 1,
	       "one mechanism #1 access costs two port accesses");
}

/* The teaching view: run a few accesses with --trace pci and read it. */
static void test_trace(void)
{
	char buf[8192] = {0};
	FILE *f = tmpfile();
	int saved = dup(2);
	ssize_t n;

	if (!f || saved < 0) {
		tap_ok(1, "# SKIP no temp file for the trace");
		return;
	}
	fflush(stderr);
	dup2(fileno(f), 2);
	trace_mask = TRACE_PCI;
	ecam_wr(SLOT_U, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
	ecam_rd(SLOT_U, PCI_BASE_ADDRESS_0, 4);
	cf8_wr(SLOT_U, PCI_BASE_ADDRESS_0, 4, 0xc0700000);
	cf8_wr(SLOT_U, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ecam_wr(SLOT_U, PCI_BASE_ADDRESS_0, 4, 0xc0701000);
	ecam_wr(SLOT_U, PCI_BASE_ADDRESS_0, 4, 0x1000);
	ecam_rd(SLOT_ABSENT, 0, 2);
	pio_out(0xcf9, 1, 6);
	ecam_wr(SLOT_U, PCI_COMMAND, 2, 0);
	trace_mask = 0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = '\0';
	tap_ok(strstr(buf, "BAR0 sized: 4 KiB 32-bit memory") != NULL, "trace: BAR0 sized");
	tap_ok(strstr(buf, "ecam 00:04.0 010 BAR0 ") != NULL, "trace: mechanism, B:D.F, register");
	tap_ok(strstr(buf, "memory decode on") && strstr(buf, "BAR0 mapped at 0xc0700000"),
	       "trace: decode on and the BAR mapped");
	tap_ok(strstr(buf, "BAR0 moved from 0xc0700000 to 0xc0701000") != NULL, "trace: BAR moved");
	tap_ok(strstr(buf, "not mapped at 0x1000: overlaps RAM") != NULL, "trace: refusal reason");
	tap_ok(strstr(buf, "no such function") != NULL, "trace: absent function");
	tap_ok(strstr(buf, "32-bit only") != NULL, "trace: odd-width 0xcf8 access");
	/* Show the reader what it looks like. */
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		tap_diag("%s", line);
}

static void test_unregister(void)
{
	unsigned dels = count(C_SLOT_DEL);

	ecam_wr(SLOT_T, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	bool had = tdev.bar[2].mapped;
	pci_unregister(&tdev);
	tap_ok(had && !tdev.bar[2].mapped && count(C_SLOT_DEL) > dels &&
		       !bus_find(&vm.mmio, tdev.bar[2].addr, 4),
	       "unregister: BARs and slots gone");
	tap_eq(ecam_rd(SLOT_T, 0, 4), 0xffffffffu, "unregistered slot reads as absent");
	bool slots_left = false;
	for (int i = 1; i < VM_MAX_SLOTS; i++)
		slots_left |= vm.slots[i].used;
	tap_ok(!slots_left, "no KVM slot left behind");
}

/* A device whose own capabilities leave no room below 0x100 for the MSI or
 * MSI-X capability kvmini emulates (an assigned device's layout is the
 * device's; found by fuzz_vfio_msix): the capability is refused, the device
 * is left without it and otherwise as it was, and kvmini goes on. */
static void test_msi_no_room(void)
{
	static struct pci_dev f, g;

	pci_dev_init(&f, "full", 6, 0x1234, 0x00f0, 0xff0000, 0);
	f.cfg.cap_next = 0xf0; /* as if the device's own capabilities used the rest */
	tap_ok(!pci_msi_init(&f, 1, true, true),
	       "a 64-bit maskable MSI (24 bytes) at 0xf0: refused, no room below 0x100");
	tap_ok(!f.msi.present && f.msi.cap == 0 && f.cfg.bytes[PCI_CAPABILITY_LIST] == 0 &&
		       !(f.cfg.bytes[PCI_STATUS] & PCI_STATUS_CAP_LIST),
	       "and the device has no MSI and no capability list");
	tap_ok(pci_msix_init(&f, 4, 0, 0, 0x800) && f.msix.present && f.msix.cap == 0xf0,
	       "MSI-X (12 bytes) still fits at 0xf0");

	pci_dev_init(&g, "full2", 7, 0x1234, 0x00f1, 0xff0000, 0);
	g.cfg.cap_next = 0xf8;
	tap_ok(!pci_msix_init(&g, 4, 0, 0, 0x800) && !g.msix.present && g.msix.cap == 0,
	       "MSI-X at 0xf8: refused, no MSI-X");
	tap_ok(!pci_msi_init(&g, 1, false, false) && !g.msi.present,
	       "a 32-bit MSI (10 bytes) at 0xf8: refused too");
}

int main(void)
{
	setup();
	test_register();
	test_host_bridge();
	test_widths();
	test_read_only();
	test_command_status();
	test_sizing();
	test_relocation();
	test_refusals();
	test_bar64_every_address();
	test_caps();
	test_msix();
	test_msi();
	test_msi32();
	test_msi_no_room();
	test_intx();
	test_bounds_absent();
	test_cf8_hostile();
	test_trace();
	test_unregister();
	return tap_done();
}
