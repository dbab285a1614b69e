// SPDX-License-Identifier: MIT
/*
 * pci.c - bus 0 enumeration, BAR sizing and placement, capabilities, and
 * the MSI/MSI-X helpers device tests use.
 *
 * Both configuration mechanisms are implemented and cross-checked:
 *  - mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): a dword address written
 *    to 0xcf8 selects bus/device/function/register, the data comes through
 *    0xcfc-0xcff at any width.  Two port accesses (two VM exits) per
 *    config access, and only the first 256 bytes of config space.
 *  - ECAM (PCIe base spec, 7.2.2): config space mapped in memory, 4 KiB per
 *    function, one MMIO access (one VM exit) per config access.
 * Where the ECAM window is comes from the host bridge: kvmini's bridge
 * (KVMINI_HB_VENDOR:KVMINI_HB_DEVICE) has it at PCI_ECAM_BASE; QEMU's q35
 * MCH (8086:29c0) has it wherever its PCIEXBAR register says.  Anything
 * else: mechanism #1 alone.
 *
 * Enumeration sizes every BAR (decode off, write all ones, read the mask,
 * restore), then places all of them at once from the apertures in
 * include/memmap.h, largest first so natural alignment wastes nothing,
 * and only then turns decoding on.  Firmware's placement (SeaBIOS under
 * QEMU, kvmini's own firmware-like start) is first checked, then
 * deliberately replaced: the point is to exercise the sizing and
 * relocation paths of whatever emulates the devices.
 */
#include "guest.h"

#define CFG_VENDOR 0x00
#define CFG_COMMAND 0x04
#define CFG_STATUS 0x06
#define CFG_REVISION 0x08
#define CFG_HEADER 0x0e
#define CFG_BAR0 0x10
#define CFG_SUBSYS 0x2c
#define CFG_ROM 0x30
#define CFG_ROM_BRIDGE 0x38
#define CFG_CAP_PTR 0x34
#define CFG_INT_LINE 0x3c
#define CFG_INT_PIN 0x3d

#define CMD_IO 0x0001
#define CMD_MEM 0x0002
#define CMD_MASTER 0x0004
#define CMD_INTX_DISABLE 0x0400
#define STATUS_CAP_LIST 0x0010

#define BAR_IO 0x1
#define BAR_MEM_TYPE 0x6
#define BAR_MEM_64 0x4
#define BAR_PREFETCH 0x8
#define ROM_ENABLE 0x1
#define ROM_ADDR_MASK 0xfffff800u

#define Q35_MCH_VENDOR 0x8086
#define Q35_MCH_DEVICE 0x29c0
#define Q35_PCIEXBAR 0x60

#define PCI_MAX_FUNCS 64

enum mech { MECH_CF8, MECH_ECAM };
static const char *const mech_name[] = { "mechanism #1", "ECAM" };

static struct pci_func funcs[PCI_MAX_FUNCS];
static unsigned nfuncs;
static uint64_t ecam_base; /* 0: none known */
static enum mech drv_mech = MECH_CF8;
static uint64_t accesses[2]; /* config accesses made, by mechanism */

/* ---- raw config access ----------------------------------------------------- */
static uint32_t bdf_addr(uint8_t bus, uint8_t dev, uint8_t fn)
{
	return (uint32_t)bus << 16 | (uint32_t)(dev & 31) << 11 | (uint32_t)(fn & 7) << 8;
}

/* The 0xcf8 address and the 0xcfc data access must not be split by an
 * interrupt handler doing its own config access. */
static uint64_t irq_save(void)
{
	uint64_t flags;

	__asm__ volatile("pushf; pop %0; cli" : "=r"(flags)::"memory");
	return flags;
}

static void irq_restore(uint64_t flags)
{
	if (flags & 0x200)
		irq_enable();
}

static uint32_t cfg_read(enum mech m, uint8_t bus, uint8_t dev, uint8_t fn, unsigned off,
			 unsigned len)
{
	uint32_t v;

	accesses[m]++;
	if (m == MECH_ECAM) {
		uint64_t a = ecam_base + ((uint64_t)bdf_addr(bus, dev, fn) << 4) + (off & 0xfff);

		return len == 1 ? mmio_read8(a) : len == 2 ? mmio_read16(a) : mmio_read32(a);
	}
	uint64_t flags = irq_save();

	outl(PORT_PCI_CONFIG_ADDR, 0x80000000u | bdf_addr(bus, dev, fn) | (off & 0xfc));
	if (len == 1)
		v = inb(PORT_PCI_CONFIG_DATA + (off & 3));
	else if (len == 2)
		v = inw(PORT_PCI_CONFIG_DATA + (off & 2));
	else
		v = inl(PORT_PCI_CONFIG_DATA);
	irq_restore(flags);
	return v;
}

static void cfg_write(enum mech m, uint8_t bus, uint8_t dev, uint8_t fn, unsigned off,
		      unsigned len, uint32_t v)
{
	accesses[m]++;
	if (m == MECH_ECAM) {
		uint64_t a = ecam_base + ((uint64_t)bdf_addr(bus, dev, fn) << 4) + (off & 0xfff);

		if (len == 1)
			mmio_write8(a, (uint8_t)v);
		else if (len == 2)
			mmio_write16(a, (uint16_t)v);
		else
			mmio_write32(a, v);
		return;
	}
	uint64_t flags = irq_save();

	outl(PORT_PCI_CONFIG_ADDR, 0x80000000u | bdf_addr(bus, dev, fn) | (off & 0xfc));
	if (len == 1)
		outb(PORT_PCI_CONFIG_DATA + (off & 3), (uint8_t)v);
	else if (len == 2)
		outw(PORT_PCI_CONFIG_DATA + (off & 2), (uint16_t)v);
	else
		outl(PORT_PCI_CONFIG_DATA, v);
	irq_restore(flags);
}

/* ---- the driver-facing accessors ---------------------------------------- */
#define F(f) (f)->bus, (f)->dev, (f)->fn
uint8_t pci_read8(const struct pci_func *f, unsigned off) { return (uint8_t)cfg_read(drv_mech, F(f), off, 1); }
uint16_t pci_read16(const struct pci_func *f, unsigned off) { return (uint16_t)cfg_read(drv_mech, F(f), off & ~1u, 2); }
uint32_t pci_read32(const struct pci_func *f, unsigned off) { return cfg_read(drv_mech, F(f), off & ~3u, 4); }
void pci_write8(const struct pci_func *f, unsigned off, uint8_t v) { cfg_write(drv_mech, F(f), off, 1, v); }
void pci_write16(const struct pci_func *f, unsigned off, uint16_t v) { cfg_write(drv_mech, F(f), off & ~1u, 2, v); }
void pci_write32(const struct pci_func *f, unsigned off, uint32_t v) { cfg_write(drv_mech, F(f), off & ~3u, 4, v); }

bool pci_has_ecam(void) { return ecam_base != 0; }
unsigned pci_count(void) { return nfuncs; }
struct pci_func *pci_at(unsigned i) { return i < nfuncs ? &funcs[i] : NULL; }

struct pci_func *pci_find(uint16_t vendor, uint16_t device)
{
	for (unsigned i = 0; i < nfuncs; i++)
		if (funcs[i].vendor == vendor && funcs[i].device == device)
			return &funcs[i];
	return NULL;
}

/* ---- names ------------------------------------------------------------------- */
const char *pci_cap_name(uint8_t id)
{
	switch (id) {
	case 0x01: return "power management";
	case 0x05: return "MSI";
	case 0x09: return "vendor-specific";
	case 0x0d: return "bridge subsystem ID";
	case 0x10: return "PCIe";
	case 0x11: return "MSI-X";
	case 0x12: return "SATA";
	case 0x13: return "advanced features";
	default: return "unknown";
	}
}

static const char *func_name(const struct pci_func *f)
{
	static const struct {
		uint16_t vendor, device;
		const char *name;
	} known[] = {
		{ KVMINI_HB_VENDOR, KVMINI_HB_DEVICE, "host bridge (kvmini / generic PCIe)" },
		{ 0x8086, 0x29c0, "host bridge (Q35 MCH)" },
		{ 0x8086, 0x2918, "ISA bridge (ICH9 LPC)" },
		{ 0x8086, 0x2922, "SATA AHCI (ICH9)" },
		{ 0x8086, 0x2930, "SMBus (ICH9)" },
		{ 0x1af4, 0x1041, "virtio-net" },
		{ 0x1af4, 0x1000, "virtio-net (transitional)" },
		{ 0x1234, 0x11e8, "edu (QEMU educational device)" },
		{ 0x1234, 0x1111, "VGA (QEMU std)" },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(known); i++)
		if (known[i].vendor == f->vendor && known[i].device == f->device)
			return known[i].name;
	switch (f->class_code << 8 | f->subclass) {
	case 0x0600: return "host bridge";
	case 0x0601: return "ISA bridge";
	case 0x0604: return "PCI bridge";
	case 0x0200: return "Ethernet controller";
	case 0x0300: return "VGA controller";
	default: return "device";
	}
}

static void print_size(uint64_t size)
{
	if (size >= (1UL << 30) && !(size & ((1UL << 30) - 1)))
		printf("%lu GiB", size >> 30);
	else if (size >= (1UL << 20) && !(size & ((1UL << 20) - 1)))
		printf("%lu MiB", size >> 20);
	else if (size >= 1024 && !(size & 1023))
		printf("%lu KiB", size >> 10);
	else
		printf("%lu B", size);
}

/* ---- discovery ------------------------------------------------------------ */
struct found {
	uint8_t dev, fn;
	uint32_t id;
};

/* Walk bus 0 the usual way: function 0 of each device, functions 1-7 only
 * when function 0's header type has the multifunction bit.  Returns how
 * many functions were found; also records the first absent device. */
static unsigned scan(enum mech m, struct found *out, unsigned max, int *absent_dev)
{
	unsigned n = 0;

	*absent_dev = -1;
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint32_t id = cfg_read(m, 0, dev, 0, CFG_VENDOR, 4);

		if ((id & 0xffff) == 0xffff) {
			if (*absent_dev < 0)
				*absent_dev = dev;
			continue;
		}
		uint8_t nfn = (cfg_read(m, 0, dev, 0, CFG_HEADER, 1) & 0x80) ? 8 : 1;

		for (uint8_t fn = 0; fn < nfn; fn++) {
			if (fn)
				id = cfg_read(m, 0, dev, fn, CFG_VENDOR, 4);
			if ((id & 0xffff) == 0xffff)
				continue;
			if (n < max)
				out[n] = (struct found){ dev, fn, id };
			n++;
		}
	}
	return n;
}

/* Find the ECAM window from the host bridge (read with mechanism #1). */
static void ecam_find(void)
{
	uint32_t id = cfg_read(MECH_CF8, 0, 0, 0, CFG_VENDOR, 4);
	uint16_t vendor = id & 0xffff, device = id >> 16;

	if (vendor == KVMINI_HB_VENDOR && device == KVMINI_HB_DEVICE) {
		ecam_base = PCI_ECAM_BASE;
		printf("pci: kvmini host bridge: ECAM at %#lx (from include/memmap.h)\n", ecam_base);
		return;
	}
	if (vendor == Q35_MCH_VENDOR && device == Q35_MCH_DEVICE) {
		/* Q35 MCH datasheet, PCIEXBAR: bit 0 enable, bits 2:1 length
		 * (0: 256 MiB, 1: 128 MiB, 2: 64 MiB), base in bits 35:26. */
		uint64_t bar = cfg_read(MECH_CF8, 0, 0, 0, Q35_PCIEXBAR, 4) |
			       (uint64_t)cfg_read(MECH_CF8, 0, 0, 0, Q35_PCIEXBAR + 4, 4) << 32;
		unsigned len = (bar >> 1) & 3;
		uint64_t mask = len == 0 ? 0xff0000000UL : len == 1 ? 0xff8000000UL : 0xffc000000UL;

		if ((bar & 1) && len != 3 && (bar & mask) && (bar & mask) < GUEST_MAPPED_TOP) {
			ecam_base = bar & mask;
			printf("pci: Q35 MCH: PCIEXBAR %#lx, ECAM at %#lx\n", bar, ecam_base);
		} else {
			printf("pci: Q35 MCH: PCIEXBAR %#lx not usable, mechanism #1 only\n", bar);
		}
		return;
	}
	printf("pci: host bridge %04x:%04x: no known ECAM window, mechanism #1 only\n", vendor,
	       device);
}

/* ---- BARs ------------------------------------------------------------------- */
static bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

static unsigned bar_count(const struct pci_func *f)
{
	return f->header_type == 0 ? 6 : f->header_type == 1 ? 2 : 0;
}

/* Size BAR i (decode must be off).  Returns how many BAR registers it
 * took (2 for a 64-bit BAR), and sets *bad when the device answered
 * something no BAR can be (size not a power of two, type bits changed). */
static unsigned bar_size(enum mech m, struct pci_func *f, unsigned i, bool *bad)
{
	unsigned off = CFG_BAR0 + 4 * i;
	uint32_t orig = cfg_read(m, F(f), off, 4);
	struct pci_bar_info *b = &f->bar[i];

	cfg_write(m, F(f), off, 4, 0xffffffffu);
	uint32_t mask = cfg_read(m, F(f), off, 4);

	cfg_write(m, F(f), off, 4, orig);
	if (mask == 0)
		return 1; /* not implemented */

	if (orig & BAR_IO) {
		uint32_t m32 = mask & ~3u;

		/* 16-bit I/O decoders may return zeros in the upper half. */
		if (!(m32 & 0xffff0000u))
			m32 |= 0xffff0000u;
		b->type = PCI_BAR_IO;
		b->size = (uint32_t)(~m32 + 1);
		if ((mask & 1) != 1 || !is_pow2(b->size))
			*bad = true;
		return 1;
	}
	b->prefetch = orig & BAR_PREFETCH;
	if ((orig & BAR_MEM_TYPE) == BAR_MEM_64 && i < bar_count(f) - 1) {
		uint32_t ohi = cfg_read(m, F(f), off + 4, 4);

		cfg_write(m, F(f), off + 4, 4, 0xffffffffu);
		uint32_t mhi = cfg_read(m, F(f), off + 4, 4);

		cfg_write(m, F(f), off + 4, 4, ohi);
		uint64_t m64 = (uint64_t)mhi << 32 | (mask & ~0xfu);

		b->type = PCI_BAR_MEM64;
		b->is64 = true;
		b->size = ~m64 + 1;
		if ((mask & 0xf) != (orig & 0xf) || !is_pow2(b->size) || b->size < 16)
			*bad = true;
		return 2;
	}
	b->type = PCI_BAR_MEM32;
	b->size = (uint32_t)(~(mask & ~0xfu) + 1);
	if ((mask & 0xf) != (orig & 0xf) || (orig & BAR_MEM_TYPE) || !is_pow2(b->size) ||
	    b->size < 16)
		*bad = true;
	return 1;
}

static unsigned rom_off(const struct pci_func *f)
{
	return f->header_type == 1 ? CFG_ROM_BRIDGE : CFG_ROM;
}

static void rom_size(enum mech m, struct pci_func *f, bool *bad)
{
	unsigned off = rom_off(f);
	uint32_t orig = cfg_read(m, F(f), off, 4);

	/* Address bits only: the enable bit stays off while sizing. */
	cfg_write(m, F(f), off, 4, ROM_ADDR_MASK);
	uint32_t mask = cfg_read(m, F(f), off, 4) & ROM_ADDR_MASK;

	cfg_write(m, F(f), off, 4, orig);
	if (!mask)
		return;
	f->rom.type = PCI_BAR_MEM32;
	f->rom.size = (uint32_t)(~mask + 1);
	if (!is_pow2(f->rom.size))
		*bad = true;
}

/* ---- the state functions start in ------------------------------------------
 * On a PC the firmware assigns every BAR and turns decoding on before the
 * OS runs: SeaBIOS under QEMU, kvmini itself by default (docs/pci.md).
 * kvmini --pci-poweron leaves every function as at power-on instead.  The
 * command line says which one a test run expects (pci_start=firmware or
 * pci_start=poweron); without it the guest goes by what Command reads.
 * Everything is read before sizing touches a register. */
struct start_snap {
	uint16_t cmd;
	uint32_t bar[6];
	uint8_t line, pin;
};
static struct start_snap snap[PCI_MAX_FUNCS];

static bool is_chipset(const struct pci_func *f)
{
	return f->class_code == 0x06 && f->subclass <= 0x01;
}

static uint64_t snap_bar_addr(const struct start_snap *s, unsigned b)
{
	if (s->bar[b] & BAR_IO)
		return s->bar[b] & ~3u;
	if ((s->bar[b] & BAR_MEM_TYPE) == BAR_MEM_64 && b < 5)
		return (uint64_t)s->bar[b + 1] << 32 | (s->bar[b] & ~0xfu);
	return s->bar[b] & ~0xfu;
}

/* Vector Control of MSI-X entry 0, read at the address firmware gave the
 * table's BAR: reset leaves every vector masked (PCI 3.0 6.8.2.9), so a
 * decoding BAR reads bit 0 set; one that does not decode reads all ones. */
static int msix_answers(enum mech m, const struct pci_func *f, const struct start_snap *s)
{
	unsigned cap = cfg_read(m, F(f), CFG_CAP_PTR, 1) & 0xfc;

	for (unsigned hops = 0; cap && hops < 48; hops++) {
		if ((cfg_read(m, F(f), cap, 1)) == PCI_CAP_MSIX) {
			uint32_t t = cfg_read(m, F(f), cap + 4, 4);
			uint64_t a = snap_bar_addr(s, t & 7) + (t & ~7u) + 12;

			if ((t & 7) > 5 || a >= GUEST_MAPPED_TOP || a < PAGE_SIZE)
				return -1; /* cannot look there */
			uint32_t v = mmio_read32((uintptr_t)a);

			return v != 0xffffffffu && (v & 1);
		}
		cap = cfg_read(m, F(f), cap + 1, 1) & 0xfc;
	}
	return -1;
}

static bool start_firmware; /* the state this run checks */
static int msix_fw_ok = -1; /* -1: no MSI-X table seen */

static void start_snapshot(enum mech m)
{
	char opt[16] = "";
	bool any_decode = false;

	for (unsigned i = 0; i < nfuncs; i++) {
		struct pci_func *f = &funcs[i];
		struct start_snap *s = &snap[i];

		if (f->header_type != 0 || is_chipset(f))
			continue;
		s->cmd = (uint16_t)cfg_read(m, F(f), CFG_COMMAND, 2);
		for (unsigned b = 0; b < 6; b++)
			s->bar[b] = cfg_read(m, F(f), CFG_BAR0 + 4 * b, 4);
		s->line = (uint8_t)cfg_read(m, F(f), CFG_INT_LINE, 1);
		s->pin = (uint8_t)cfg_read(m, F(f), CFG_INT_PIN, 1);
		any_decode |= (s->cmd & (CMD_IO | CMD_MEM)) != 0;
	}
	if (cmdline_get("pci_start", opt, sizeof(opt)))
		start_firmware = !strcmp(opt, "firmware");
	else
		start_firmware = any_decode;
	printf("pci: start state: %s (%s)\n", start_firmware ? "firmware-assigned" : "power-on",
	       opt[0] ? "pci_start= on the command line" : "from what Command reads");
	if (!start_firmware)
		return;
	for (unsigned i = 0; i < nfuncs; i++) {
		struct pci_func *f = &funcs[i];

		if (f->header_type != 0 || is_chipset(f) || !(snap[i].cmd & CMD_MEM))
			continue;
		int r = msix_answers(m, f, &snap[i]);

		/* edu (QEMU's teaching device, what kvmini's VFIO tests
		 * assign): its identification register at BAR0 + 0. */
		if (r && f->vendor == 0x1234 && f->device == 0x11e8) {
			uint64_t a = snap_bar_addr(&snap[i], 0);

			if (a >= PAGE_SIZE && a < GUEST_MAPPED_TOP)
				r = mmio_read32((uintptr_t)a) == 0x010000edu;
		}
		if (r >= 0)
			msix_fw_ok = (msix_fw_ok != 0) && r;
		if (r == 0)
			printf("# %02x:%02x.%x does not answer at its assigned address\n", F(f));
	}
}

/* After sizing: sizes known, the snapshot holds what the guest found. */
static void start_check(void)
{
	bool on_kvmini = funcs[0].vendor == KVMINI_HB_VENDOR && funcs[0].device == KVMINI_HB_DEVICE;
	bool placed = true, cmd_ok = true, line_ok = true, off_ok = true;

	for (unsigned i = 0; i < nfuncs; i++) {
		struct pci_func *f = &funcs[i];
		const struct start_snap *s = &snap[i];
		uint16_t want = 0;

		if (f->header_type != 0 || is_chipset(f))
			continue;
		for (unsigned b = 0; b < 6; b++) {
			const struct pci_bar_info *bi = &f->bar[b];
			uint64_t a = snap_bar_addr(s, b);

			if (bi->type == PCI_BAR_NONE || !bi->size)
				continue;
			want |= bi->type == PCI_BAR_IO ? CMD_IO : CMD_MEM;
			if (!start_firmware) {
				if (a)
					off_ok = false;
				continue;
			}
			bool bad = !a || (a & (bi->size - 1));

			/* kvmini's apertures (include/memmap.h, its _CRS): 64-bit
			 * BARs above 4 GiB, 32-bit ones below. */
			if (on_kvmini && bi->type == PCI_BAR_IO)
				bad |= a < PCI_IOPORT_BASE || a + bi->size > PCI_IOPORT_BASE + PCI_IOPORT_SIZE;
			else if (on_kvmini && bi->type == PCI_BAR_MEM64)
				bad |= a < PCI_MMIO64_BASE || a + bi->size > PCI_MMIO64_BASE + PCI_MMIO64_SIZE;
			else if (on_kvmini)
				bad |= a < PCI_MMIO32_BASE || a + bi->size > PCI_MMIO32_BASE + PCI_MMIO32_SIZE;
			/* No overlap with any BAR of the same kind seen so far. */
			for (unsigned j = 0; j <= i; j++) {
				for (unsigned c = 0; c < 6; c++) {
					const struct pci_bar_info *o = &funcs[j].bar[c];
					uint64_t oa = snap_bar_addr(&snap[j], c);

					if ((j == i && c >= b) || funcs[j].header_type != 0 ||
					    is_chipset(&funcs[j]) || o->type == PCI_BAR_NONE || !o->size ||
					    (o->type == PCI_BAR_IO) != (bi->type == PCI_BAR_IO))
						continue;
					if (a < oa + o->size && oa < a + bi->size)
						bad = true;
				}
			}
			if (bad) {
				printf("# %02x:%02x.%x BAR%u at %#lx (%lu bytes): not a proper assignment\n", F(f), b, a,
				       bi->size);
				placed = false;
			}
		}
		if (!start_firmware) {
			if (s->cmd & (CMD_IO | CMD_MEM | CMD_MASTER))
				off_ok = false;
			continue;
		}
		/* SeaBIOS turns both decodes on everywhere, and its own AHCI
		 * driver leaves bus mastering on: only kvmini promises exactly
		 * what it assigned and no bus mastering. */
		if ((s->cmd & want) != want ||
		    (on_kvmini && ((s->cmd & (CMD_IO | CMD_MEM)) != want || (s->cmd & CMD_MASTER)))) {
			printf("# %02x:%02x.%x Command %#x, expected decode %#x%s\n", F(f), s->cmd, want,
			       on_kvmini ? " and no bus master" : "");
			cmd_ok = false;
		}
		if (s->pin && (s->line == 0 || s->line == 0xff))
			line_ok = false;
	}
	if (!start_firmware) {
		guest_check("pci: power-on start: decoding off and no BAR assigned", off_ok);
		return;
	}
	guest_check("pci: firmware start: every BAR assigned, naturally aligned, no overlaps", placed);
	guest_check("pci: firmware start: decoding on for each BAR kind present (kvmini: that only, no bus master)", cmd_ok);
	guest_check("pci: firmware start: Interrupt Line written where there is a pin", line_ok);
	if (msix_fw_ok >= 0)
		guest_check("pci: firmware start: MSI-X tables (and edu's ID) answer at the assigned addresses",
			    msix_fw_ok);
}

/* One BAR (or ROM) waiting for an address. */
struct want {
	struct pci_func *f;
	int bar; /* 0-5, 6 = ROM */
	uint64_t size, align;
	int aperture; /* 0 io, 1 mmio32, 2 mmio64 */
};

static struct {
	uint64_t base, size;
	const char *name;
} apertures[3] = {
	{ PCI_IOPORT_BASE, PCI_IOPORT_SIZE, "I/O" },
	{ PCI_MMIO32_BASE, PCI_MMIO32_SIZE, "32-bit memory" },
	{ PCI_MMIO64_BASE, PCI_MMIO64_SIZE, "64-bit memory" },
};

/* Place every BAR: largest first, each aligned to its own size (and memory
 * to at least a page, so a VMM can back each BAR with its own memory slot
 * or host mapping).  Returns false if something did not fit. */
static bool place_all(void)
{
	static struct want w[PCI_MAX_FUNCS * 7];
	unsigned n = 0;
	uint64_t next[3];
	bool ok = true;

	for (unsigned i = 0; i < nfuncs; i++) {
		struct pci_func *f = &funcs[i];

		for (unsigned b = 0; b < 7; b++) {
			struct pci_bar_info *bi = b < 6 ? &f->bar[b] : &f->rom;

			if (bi->type == PCI_BAR_NONE || !bi->size)
				continue;
			w[n].f = f;
			w[n].bar = (int)b;
			w[n].size = bi->size;
			w[n].aperture = bi->type == PCI_BAR_IO ? 0 : bi->type == PCI_BAR_MEM64 ? 2 : 1;
			w[n].align = w[n].aperture && bi->size < PAGE_SIZE ? PAGE_SIZE : bi->size;
			n++;
		}
	}
	/* Insertion sort, largest alignment first. */
	for (unsigned i = 1; i < n; i++) {
		struct want t = w[i];
		unsigned j = i;

		while (j && w[j - 1].align < t.align) {
			w[j] = w[j - 1];
			j--;
		}
		w[j] = t;
	}
	/* kvmini keeps RAM below 3 GiB, but QEMU puts RAM beyond 3 GiB at
	 * 4 GiB, right where PCI_MMIO64_BASE is: start the 64-bit aperture
	 * above the highest RAM then, still inside what the guest maps. */
	uint64_t top = 0;

	for (unsigned i = 0; i < mem_region_count(); i++) {
		const struct mem_region *r = mem_region_at(i);

		if (r->type == MEM_RAM && r->addr + r->size > top)
			top = r->addr + r->size;
	}
	if (top > apertures[2].base) {
		apertures[2].base = ALIGN_UP(top, 1UL << 30);
		apertures[2].size = apertures[2].base < GUEST_MAPPED_TOP ? GUEST_MAPPED_TOP - apertures[2].base : 0;
		printf("pci: RAM reaches %#lx: 64-bit BARs go to %#lx instead\n", top, apertures[2].base);
	}
	for (unsigned a = 0; a < 3; a++)
		next[a] = apertures[a].base;
	for (unsigned i = 0; i < n; i++) {
		int a = w[i].aperture;
		uint64_t addr = ALIGN_UP(next[a], w[i].align);
		struct pci_bar_info *bi = w[i].bar < 6 ? &w[i].f->bar[w[i].bar] : &w[i].f->rom;

		if (addr + w[i].size > apertures[a].base + apertures[a].size || addr + w[i].size < addr) {
			printf("pci: %02x:%02x.%x BAR%d (%lu bytes) does not fit the %s aperture\n",
			       w[i].f->bus, w[i].f->dev, w[i].f->fn, w[i].bar, w[i].size,
			       apertures[a].name);
			ok = false;
			continue;
		}
		bi->addr = addr;
		next[a] = addr + w[i].size;
	}
	return ok;
}

/* Write the placed addresses (decode is still off). */
static void program_bars(enum mech m, struct pci_func *f)
{
	for (unsigned b = 0; b < bar_count(f); b++) {
		struct pci_bar_info *bi = &f->bar[b];
		unsigned off = CFG_BAR0 + 4 * b;

		if (bi->type == PCI_BAR_NONE || !bi->addr)
			continue;
		cfg_write(m, F(f), off, 4, (uint32_t)bi->addr);
		if (bi->is64)
			cfg_write(m, F(f), off + 4, 4, (uint32_t)(bi->addr >> 32));
	}
	/* The ROM gets its address but stays disabled: nothing here runs
	 * option ROMs, and an enabled ROM may share the decoder with a BAR. */
	if (f->rom.addr)
		cfg_write(m, F(f), rom_off(f), 4, (uint32_t)f->rom.addr);
}

/* Read back what the device holds now: the placement check. */
static bool bars_read_back(enum mech m, struct pci_func *f)
{
	bool ok = true;

	for (unsigned b = 0; b < bar_count(f); b++) {
		struct pci_bar_info *bi = &f->bar[b];
		unsigned off = CFG_BAR0 + 4 * b;

		if (bi->type == PCI_BAR_NONE || !bi->size)
			continue;
		uint64_t v = cfg_read(m, F(f), off, 4);

		if (bi->is64)
			v |= (uint64_t)cfg_read(m, F(f), off + 4, 4) << 32;
		v &= bi->type == PCI_BAR_IO ? ~3UL : ~0xfUL;
		if (bi->type == PCI_BAR_IO)
			v &= 0xffffffffUL;
		if (!bi->addr || v != bi->addr || (bi->addr & (bi->size - 1))) {
			printf("# %02x:%02x.%x BAR%u reads %#lx, placed at %#lx\n", F(f), b, v, bi->addr);
			ok = false;
		}
	}
	if (f->rom.size) {
		uint32_t v = cfg_read(m, F(f), rom_off(f), 4);

		if ((v & ROM_ADDR_MASK) != f->rom.addr || !f->rom.addr) {
			printf("# %02x:%02x.%x ROM reads %#x, placed at %#lx\n", F(f), v, f->rom.addr);
			ok = false;
		}
	}
	return ok;
}

/* ---- capabilities ------------------------------------------------------------- */
/* Walk the list: pointers must be >= 0x40 (past the header), dword-aligned
 * (the low two bits are reserved and we hold devices to zero there) and
 * never revisit an entry. */
static bool caps_walk(enum mech m, struct pci_func *f)
{
	uint8_t seen[256 / 4 / 8] = { 0 };

	f->ncaps = 0;
	if (!(cfg_read(m, F(f), CFG_STATUS, 2) & STATUS_CAP_LIST))
		return true;
	uint8_t p = (uint8_t)cfg_read(m, F(f), f->header_type == 2 ? 0x14 : CFG_CAP_PTR, 1);

	while (p) {
		if (p < 0x40 || (p & 3)) {
			printf("# %02x:%02x.%x capability pointer %#x is bad\n", F(f), p);
			return false;
		}
		if (seen[p / 32] & (1u << (p / 4 % 8))) {
			printf("# %02x:%02x.%x capability list loops back to %#x\n", F(f), p);
			return false;
		}
		seen[p / 32] |= 1u << (p / 4 % 8);
		uint16_t hdr = (uint16_t)cfg_read(m, F(f), p, 2);

		if (f->ncaps < PCI_MAX_CAPS) {
			f->cap_id[f->ncaps] = hdr & 0xff;
			f->cap_off[f->ncaps] = p;
			f->ncaps++;
		}
		p = hdr >> 8;
	}
	return true;
}

uint8_t pci_find_cap(const struct pci_func *f, uint8_t id, uint8_t after)
{
	unsigned i = 0;

	if (after) {
		while (i < f->ncaps && f->cap_off[i] != after)
			i++;
		i++;
	}
	for (; i < f->ncaps; i++)
		if (f->cap_id[i] == id)
			return f->cap_off[i];
	return 0;
}

/* ---- listing ------------------------------------------------------------------ */
static void print_func(const struct pci_func *f)
{
	printf("%02x:%02x.%x %02x%02x: %04x:%04x %s (rev %02x)%s\n", F(f), f->class_code,
	       f->subclass, f->vendor, f->device, func_name(f), f->revision,
	       f->multifunction ? " [multifunction]" : "");
	if (f->header_type != 0)
		printf("        header type %u (bridge: buses behind it are not scanned)\n",
		       f->header_type);
	for (unsigned b = 0; b < 7; b++) {
		const struct pci_bar_info *bi = b < 6 ? &f->bar[b] : &f->rom;

		if (bi->type == PCI_BAR_NONE || !bi->size)
			continue;
		if (b < 6)
			printf("        BAR%u: ", b);
		else
			printf("        ROM:  ");
		printf("%s%s, ", bi->type == PCI_BAR_IO ? "I/O" : bi->is64 ? "mem64" : "mem32",
		       bi->prefetch ? " prefetchable" : "");
		print_size(bi->size);
		if (bi->addr)
			printf(" at %#lx%s\n", bi->addr, b == 6 ? " (disabled)" : "");
		else
			printf(", not placed\n");
	}
	if (f->ncaps) {
		printf("        caps:");
		for (unsigned i = 0; i < f->ncaps; i++)
			printf("%s %#x %s", i ? "," : "", f->cap_off[i], pci_cap_name(f->cap_id[i]));
		printf("\n");
	}
	if (f->irq_pin)
		printf("        interrupt: pin %c, line %u\n", 'A' + f->irq_pin - 1, f->irq_line);
}

/* ---- the whole enumeration ---------------------------------------------- */
/* Every byte and word of the header read at its own width agrees with the
 * dword read covering it: checks the data window's offset decoding. */
static bool widths_agree(enum mech m, const struct pci_func *f)
{
	for (unsigned off = 0; off < 0x40; off += 4) {
		uint32_t d = cfg_read(m, F(f), off, 4);

		for (unsigned i = 0; i < 4; i++)
			if (cfg_read(m, F(f), off + i, 1) != ((d >> (8 * i)) & 0xff))
				return false;
		for (unsigned i = 0; i < 4; i += 2)
			if (cfg_read(m, F(f), off + i, 2) != ((d >> (8 * i)) & 0xffff))
				return false;
	}
	return true;
}

/* Registers that may legitimately differ between two reads: none in the
 * header except Status's interrupt bit, which a device may toggle. */
static bool spaces_agree(const struct pci_func *f, unsigned *dwords)
{
	bool ok = true;

	for (unsigned off = 0; off < 256; off += 4) {
		uint32_t a = cfg_read(MECH_CF8, F(f), off, 4);
		uint32_t b = cfg_read(MECH_ECAM, F(f), off, 4);

		if (off == CFG_COMMAND) {
			a &= ~(0x0008u << 16);
			b &= ~(0x0008u << 16);
		}
		(*dwords)++;
		if (a != b) {
			printf("# %02x:%02x.%x offset %#x: mechanism #1 %08x, ECAM %08x\n", F(f), off, a, b);
			ok = false;
		}
	}
	return ok;
}

void pci_init(void)
{
	static struct found cf8_found[PCI_MAX_FUNCS], ecam_found[PCI_MAX_FUNCS];
	char opt[16] = "";
	int absent1, absent2;

	printf("pci: enumerating bus 0\n");
	ecam_find();
	cmdline_get("pci", opt, sizeof(opt));
	if (!strcmp(opt, "cf8") && ecam_base) {
		printf("pci: pci=cf8 on the command line: ECAM known but not used\n");
		ecam_base = 0;
	}

	/* The same scan through each mechanism, timed: the cost of a config
	 * access is the cost of its VM exits (two for mechanism #1). */
	uint64_t a0 = accesses[MECH_CF8], t0 = rdtsc();
	unsigned n1 = scan(MECH_CF8, cf8_found, PCI_MAX_FUNCS, &absent1);
	uint64_t t1 = rdtsc() - t0;

	printf("pci: mechanism #1 scan: %u functions, %lu config accesses (%lu port I/O), %lu us\n",
	       n1, accesses[MECH_CF8] - a0, 2 * (accesses[MECH_CF8] - a0), t1 / tsc_per_us());
	guest_checkf(n1 > 0 && n1 <= PCI_MAX_FUNCS, "pci: mechanism #1 finds %u functions on bus 0", n1);

	enum mech m = MECH_CF8;

	if (ecam_base) {
		uint64_t e0 = accesses[MECH_ECAM];

		t0 = rdtsc();
		unsigned n2 = scan(MECH_ECAM, ecam_found, PCI_MAX_FUNCS, &absent2);
		uint64_t t2 = rdtsc() - t0;
		bool same = n1 == n2 && absent1 == absent2;

		printf("pci: ECAM scan: %u functions, %lu config accesses (%lu MMIO), %lu us\n", n2,
		       accesses[MECH_ECAM] - e0, accesses[MECH_ECAM] - e0, t2 / tsc_per_us());
		for (unsigned i = 0; same && i < n1 && i < PCI_MAX_FUNCS; i++)
			same = cf8_found[i].dev == ecam_found[i].dev && cf8_found[i].fn == ecam_found[i].fn &&
			       cf8_found[i].id == ecam_found[i].id;
		guest_check("pci: ECAM finds the same functions and IDs as mechanism #1", same);
		m = MECH_ECAM;
	} else {
		printf("# pci: %s: mechanism #1 only, no cross-check\n",
		       !strcmp(opt, "cf8") ? "ECAM not used (pci=cf8)" : "no ECAM window here");
	}
	drv_mech = m;

	/* Absent device: every width reads all ones, through each mechanism. */
	if (absent1 >= 0) {
		bool ones = cfg_read(MECH_CF8, 0, (uint8_t)absent1, 0, 0, 4) == 0xffffffffu &&
			    cfg_read(MECH_CF8, 0, (uint8_t)absent1, 0, 2, 2) == 0xffff &&
			    cfg_read(MECH_CF8, 0, (uint8_t)absent1, 0, 0x3d, 1) == 0xff;
		if (ecam_base)
			ones = ones && cfg_read(MECH_ECAM, 0, (uint8_t)absent1, 0, 0, 4) == 0xffffffffu &&
			       cfg_read(MECH_ECAM, 0, (uint8_t)absent1, 0, 0x3d, 1) == 0xff;
		guest_checkf(ones, "pci: absent device 00:%02x.0 reads all ones", absent1);
	}

	/* The address register is a plain dword register (PCI 3.0, 3.2.2.3.2). */
	outl(PORT_PCI_CONFIG_ADDR, 0x80001234u & ~3u);
	guest_check("pci: 0xcf8 reads back the address written", inl(PORT_PCI_CONFIG_ADDR) == 0x80001234u);
	outl(PORT_PCI_CONFIG_ADDR, 0);

	/* Headers. */
	nfuncs = n1 < PCI_MAX_FUNCS ? n1 : PCI_MAX_FUNCS;
	for (unsigned i = 0; i < nfuncs; i++) {
		struct pci_func *f = &funcs[i];
		uint32_t cls;

		memset(f, 0, sizeof(*f));
		f->bus = 0;
		f->dev = cf8_found[i].dev;
		f->fn = cf8_found[i].fn;
		f->vendor = cf8_found[i].id & 0xffff;
		f->device = cf8_found[i].id >> 16;
		cls = cfg_read(m, F(f), CFG_REVISION, 4);
		f->revision = cls & 0xff;
		f->prog_if = (cls >> 8) & 0xff;
		f->subclass = (cls >> 16) & 0xff;
		f->class_code = cls >> 24;
		uint8_t ht = (uint8_t)cfg_read(m, F(f), CFG_HEADER, 1);

		f->header_type = ht & 0x7f;
		f->multifunction = ht & 0x80;
		if (f->header_type == 0) {
			uint32_t ss = cfg_read(m, F(f), CFG_SUBSYS, 4);

			f->subsys_vendor = ss & 0xffff;
			f->subsys_device = ss >> 16;
		}
		f->irq_line = (uint8_t)cfg_read(m, F(f), CFG_INT_LINE, 1);
		f->irq_pin = (uint8_t)cfg_read(m, F(f), CFG_INT_PIN, 1);
	}

	/* Host bridge. */
	const struct pci_func *hb = nfuncs ? &funcs[0] : NULL;

	guest_check("pci: host bridge at 00:00.0 with class 06/00",
		    hb && hb->dev == 0 && hb->fn == 0 && hb->class_code == 0x06 && hb->subclass == 0x00);
	if (hb) {
		/* Vendor and device IDs are read-only: a write must not stick. */
		uint32_t id = cfg_read(m, F(hb), CFG_VENDOR, 4);

		cfg_write(m, F(hb), CFG_VENDOR, 4, 0x12345678u);
		guest_check("pci: host bridge IDs are read-only", cfg_read(m, F(hb), CFG_VENDOR, 4) == id);
	}

	/* The two mechanisms see the same config space, at every width. */
	bool agree = true, widths = true;
	unsigned dwords = 0;

	for (unsigned i = 0; i < nfuncs; i++) {
		if (ecam_base && !spaces_agree(&funcs[i], &dwords))
			agree = false;
		if (!widths_agree(MECH_CF8, &funcs[i]) || (ecam_base && !widths_agree(MECH_ECAM, &funcs[i]))) {
			printf("# %02x:%02x.%x byte/word reads disagree with dword reads\n", F(&funcs[i]));
			widths = false;
		}
	}
	if (ecam_base)
		guest_checkf(agree, "pci: mechanism #1 and ECAM agree on all %u config dwords", dwords);
	guest_check("pci: byte, word and dword reads agree across every header", widths);

	/* From here on one mechanism does the work: count it on its own. */
	uint64_t work0 = accesses[m];

	t0 = rdtsc();

	/* What firmware (or power-on) left, before anything is touched. */
	start_snapshot(m);

	/* Size every BAR with decode off. */
	bool sized = true;

	for (unsigned i = 0; i < nfuncs; i++) {
		struct pci_func *f = &funcs[i];
		bool bad = false;

		if (f->header_type > 1)
			continue;
		/* The chipset's own bridges keep decoding: under QEMU the ISA
		 * bridge carries the console's ports. */
		bool chipset = f->class_code == 0x06 && f->subclass <= 0x01;
		uint16_t cmd = (uint16_t)cfg_read(m, F(f), CFG_COMMAND, 2);

		if (!chipset)
			cfg_write(m, F(f), CFG_COMMAND, 2, cmd & ~(CMD_IO | CMD_MEM));
		for (unsigned b = 0; b < bar_count(f);)
			b += bar_size(m, f, b, &bad);
		rom_size(m, f, &bad);
		if (bad) {
			printf("# %02x:%02x.%x has a BAR whose size mask is not a power of two or whose type bits changed\n",
			       F(f));
			sized = false;
		}
	}
	guest_check("pci: every BAR sizes to a power of two with its type bits intact", sized);
	start_check();

	/* Place them all, program, enable decode and bus mastering. */
	bool placed = place_all(), readback = true, cmd_ok = true;

	for (unsigned i = 0; i < nfuncs; i++) {
		struct pci_func *f = &funcs[i];
		uint16_t want = 0;

		if (f->header_type > 1)
			continue;
		program_bars(m, f);
		for (unsigned b = 0; b < bar_count(f); b++) {
			if (f->bar[b].type == PCI_BAR_IO && f->bar[b].addr)
				want |= CMD_IO;
			else if (f->bar[b].type != PCI_BAR_NONE && f->bar[b].addr)
				want |= CMD_MEM;
		}
		if (!want)
			continue; /* nothing to decode: leave Command alone */
		if (f->header_type == 0)
			want |= CMD_MASTER;
		uint16_t cmd = (uint16_t)cfg_read(m, F(f), CFG_COMMAND, 2);

		cfg_write(m, F(f), CFG_COMMAND, 2, cmd | want);
		if ((cfg_read(m, F(f), CFG_COMMAND, 2) & want) != want) {
			printf("# %02x:%02x.%x Command did not take %#x\n", F(f), want);
			cmd_ok = false;
		}
		if (!bars_read_back(m, f))
			readback = false;
	}
	guest_check("pci: every BAR placed in its aperture, naturally aligned, and reads back", placed && readback);
	guest_check("pci: Command takes memory/I/O decode and bus master", cmd_ok);

	/* Capabilities. */
	bool caps = true;

	for (unsigned i = 0; i < nfuncs; i++) {
		funcs[i].caps_ok = caps_walk(m, &funcs[i]);
		caps = caps && funcs[i].caps_ok;
	}
	guest_check("pci: capability lists valid (no loops, pointers in range and aligned)", caps);

	uint64_t work = accesses[m] - work0;

	t1 = rdtsc() - t0;
	printf("pci: sizing, placing, enabling and capability walk: %lu config accesses through %s"
	       " (%lu VM exits), %lu us\n",
	       work, mech_name[m], m == MECH_CF8 ? 2 * work : work, t1 / tsc_per_us());
	printf("pci: bus 0 (config through %s):\n", mech_name[m]);
	for (unsigned i = 0; i < nfuncs; i++)
		print_func(&funcs[i]);
	printf("pci: %lu config accesses by mechanism #1 (%lu port I/O), %lu by ECAM\n",
	       accesses[MECH_CF8], 2 * accesses[MECH_CF8], accesses[MECH_ECAM]);
}

/* ---- helpers for device tests --------------------------------------------- */
void *pci_bar_ptr(const struct pci_func *f, unsigned bar)
{
	if (bar >= 6 || !f->bar[bar].addr || f->bar[bar].type == PCI_BAR_IO ||
	    f->bar[bar].type == PCI_BAR_NONE)
		return NULL;
	return (void *)(uintptr_t)f->bar[bar].addr;
}

static void cmd_bits(const struct pci_func *f, uint16_t bits, bool on)
{
	uint16_t cmd = pci_read16(f, CFG_COMMAND);

	pci_write16(f, CFG_COMMAND, on ? cmd | bits : cmd & ~bits);
}

void pci_set_bus_master(const struct pci_func *f, bool on) { cmd_bits(f, CMD_MASTER, on); }
void pci_intx_disable(const struct pci_func *f, bool disable) { cmd_bits(f, CMD_INTX_DISABLE, disable); }

/* MSI capability layout (PCI 3.0, 6.8.1): control at +2 (bit 0 enable,
 * bits 6:4 vectors enabled, bit 7 64-bit), address at +4, then either data
 * at +8 or upper address at +8 and data at +12. */
int pci_msi_enable(const struct pci_func *f, uint8_t vector)
{
	return pci_msi_enable_to(f, vector, lapic_id());
}

int pci_msi_enable_to(const struct pci_func *f, uint8_t vector, uint32_t apic_id)
{
	uint8_t c = pci_find_cap(f, PCI_CAP_MSI, 0);
	uint64_t addr = msi_addr_to(apic_id);

	if (!c)
		return -1;
	uint16_t ctrl = pci_read16(f, c + 2);
	bool is64 = ctrl & 0x80;

	pci_write16(f, c + 2, ctrl & ~0x71u); /* off, one vector */
	pci_write32(f, c + 4, (uint32_t)addr);
	if (is64) {
		pci_write32(f, c + 8, (uint32_t)(addr >> 32));
		pci_write16(f, c + 12, (uint16_t)msi_data(vector));
	} else {
		pci_write16(f, c + 8, (uint16_t)msi_data(vector));
	}
	pci_intx_disable(f, true);
	pci_write16(f, c + 2, (ctrl & ~0x70u) | 1);
	return 0;
}

void pci_msi_disable(const struct pci_func *f)
{
	uint8_t c = pci_find_cap(f, PCI_CAP_MSI, 0);

	if (c)
		pci_write16(f, c + 2, pci_read16(f, c + 2) & ~1u);
}

/* MSI-X (PCI 3.0, 6.8.2): control at +2 (bits 10:0 table size - 1, bit 14
 * function mask, bit 15 enable), table offset|BIR at +4, PBA offset|BIR
 * at +8.  Table entries are 16 bytes: address low, high, data, control
 * (bit 0 masked). */
#define MSIX_ENABLE 0x8000
#define MSIX_FMASK 0x4000

int pci_msix_table_size(const struct pci_func *f)
{
	uint8_t c = pci_find_cap(f, PCI_CAP_MSIX, 0);

	return c ? (pci_read16(f, c + 2) & 0x7ff) + 1 : -1;
}

static uint64_t msix_region(const struct pci_func *f, unsigned reg_off)
{
	uint8_t c = pci_find_cap(f, PCI_CAP_MSIX, 0);

	if (!c)
		return 0;
	uint32_t v = pci_read32(f, c + reg_off);
	uint8_t *bar = pci_bar_ptr(f, v & 7);

	return bar ? (uint64_t)(uintptr_t)bar + (v & ~7u) : 0;
}

int pci_msix_enable(const struct pci_func *f)
{
	uint8_t c = pci_find_cap(f, PCI_CAP_MSIX, 0);
	uint64_t table = msix_region(f, 4);
	int n = pci_msix_table_size(f);

	if (!c || !table)
		return -1;
	/* Enable under the function mask, mask each entry, then lift the
	 * function mask: no vector can fire with a half-written entry. */
	uint16_t ctrl = pci_read16(f, c + 2);

	pci_write16(f, c + 2, ctrl | MSIX_ENABLE | MSIX_FMASK);
	for (int i = 0; i < n; i++)
		mmio_write32(table + 16 * i + 12, mmio_read32(table + 16 * i + 12) | 1);
	pci_intx_disable(f, true);
	pci_write16(f, c + 2, (ctrl | MSIX_ENABLE) & ~MSIX_FMASK);
	return 0;
}

int pci_msix_set(const struct pci_func *f, unsigned entry, uint8_t vector, bool masked)
{
	return pci_msix_set_to(f, entry, vector, lapic_id(), masked);
}

int pci_msix_set_to(const struct pci_func *f, unsigned entry, uint8_t vector, uint32_t apic_id,
		    bool masked)
{
	uint64_t table = msix_region(f, 4);
	uint64_t addr = msi_addr_to(apic_id);
	int n = pci_msix_table_size(f);

	if (!table || (int)entry >= n)
		return -1;
	uint64_t e = table + 16 * entry;

	mmio_write32(e + 12, mmio_read32(e + 12) | 1); /* mask while rewriting */
	mmio_write32(e + 0, (uint32_t)addr);
	mmio_write32(e + 4, (uint32_t)(addr >> 32));
	mmio_write32(e + 8, msi_data(vector));
	if (!masked)
		mmio_write32(e + 12, mmio_read32(e + 12) & ~1u);
	return 0;
}

void pci_msix_disable(const struct pci_func *f)
{
	uint8_t c = pci_find_cap(f, PCI_CAP_MSIX, 0);

	if (c)
		pci_write16(f, c + 2, pci_read16(f, c + 2) & ~MSIX_ENABLE);
}

bool pci_msix_pending(const struct pci_func *f, unsigned entry)
{
	uint64_t pba = msix_region(f, 8);

	if (!pba || (int)entry >= pci_msix_table_size(f))
		return false;
	/* Dword reads: every implementation must take them. */
	return mmio_read32(pba + 4 * (entry / 32)) >> (entry % 32) & 1;
}

int pci_intx_ioapic_pin(const struct pci_func *f)
{
	if (!f->irq_pin)
		return -1;
	/* kvmini's firmware role: Interrupt Line holds the IOAPIC input
	 * (devices/pci.h, PCI_INTX_GSI_BASE + swizzle). */
	if (funcs[0].vendor == KVMINI_HB_VENDOR && funcs[0].device == KVMINI_HB_DEVICE &&
	    f->irq_line < ioapic_pins())
		return f->irq_line;
	/* QEMU's Q35: INTA-D of slots below 25 go to PIRQ E-H rotated by slot
	 * (the ICH9 LPC's reset routing, matching QEMU's ACPI _PRT), and with
	 * the IOAPIC in use PIRQ A-H are IOAPIC inputs 16-23.  Slots 25-31
	 * follow chipset registers we do not read. */
	if (funcs[0].vendor == Q35_MCH_VENDOR && funcs[0].device == Q35_MCH_DEVICE && f->dev < 25)
		return 16 + 4 + (f->dev + f->irq_pin - 1) % 4;
	return -1; /* elsewhere only ACPI's _PRT would say */
}
