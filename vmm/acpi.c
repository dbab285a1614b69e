/* SPDX-License-Identifier: MIT */
/*
 * acpi.c - ACPI table generation (ACPI 6.4 chapter 5), including a small
 * hand-rolled AML encoder for the DSDT (chapter 20).
 *
 * The numbers all come from include/memmap.h (apertures, ECAM, IOAPIC,
 * LAPIC), devices/pci.h (the INTx swizzle) and devices/pm.h (the PM
 * ports), so the tables cannot drift from what kvmini actually emulates.
 */
#include "acpi.h"

#include <string.h>

#include "memmap.h"
#include "trace.h"
#include "vm.h"

#define OEM_ID	  "KVMINI"   /* 6 bytes */
#define OEM_TABLE "KVMINI  " /* 8 bytes */
#define CREATOR	  "KVMI"

/* ---- little-endian stores and the common table header ---------------- */
static void st16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void st32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void st64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* System description table header (5.2.6): 36 bytes. */
static void hdr(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	st32(t + 4, len);
	t[8] = rev;
	t[9] = 0; /* checksum, set by finish() */
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE, 8);
	st32(t + 24, 1); /* OEM revision */
	memcpy(t + 28, CREATOR, 4);
	st32(t + 32, 1); /* creator revision */
}

static void finish(uint8_t *t)
{
	uint32_t len;

	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = (uint8_t)-sum8(t, len);
}

/* Generic Address Structure (5.2.3.2): 12 bytes. */
static void gas(uint8_t *p, uint8_t space, uint8_t bits, uint8_t access, uint64_t addr)
{
	p[0] = space; /* 0 system memory, 1 system I/O */
	p[1] = bits;
	p[2] = 0;      /* bit offset */
	p[3] = access; /* 1 byte, 2 word, 3 dword, 4 qword */
	st64(p + 4, addr);
}
#define GAS_IO 1

/* ---- AML (chapter 20) ------------------------------------------------ */
struct aml {
	uint8_t *b;
	size_t n, cap;
	int overflow;
};

static void aml_byte(struct aml *a, uint8_t v)
{
	if (a->n < a->cap)
		a->b[a->n] = v;
	else
		a->overflow = 1;
	a->n++;
}

static void aml_le(struct aml *a, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* An integer constant in its shortest encoding (20.2.3). */
static void aml_int(struct aml *a, uint64_t v)
{
	if (v == 0) {
		aml_byte(a, 0x00); /* ZeroOp */
	} else if (v == 1) {
		aml_byte(a, 0x01); /* OneOp */
	} else if (v <= 0xff) {
		aml_byte(a, 0x0a);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, 0x0b);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, 0x0c);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, 0x0e);
		aml_le(a, v, 8);
	}
}

/* A 4-character name segment; shorter names are padded with '_'. */
static void aml_seg(struct aml *a, const char *s)
{
	for (int i = 0; i < 4; i++)
		aml_byte(a, *s ? (uint8_t)*s++ : '_');
}

/* Name(NAME, ...): the value follows. */
static void aml_name(struct aml *a, const char *s)
{
	aml_byte(a, 0x08); /* NameOp */
	aml_seg(a, s);
}

/* EISA ID compression ("PNP0A08" -> 0x080ad041), as ASL's EisaId(). */
static uint32_t eisa_id(const char *id)
{
	static const char hex[] = "0123456789ABCDEF";
	uint32_t v = 0;

	v |= (uint32_t)((id[0] - 0x40) << 2 | (id[1] - 0x40) >> 3);
	v |= (uint32_t)(((id[1] - 0x40) & 7) << 5 | (id[2] - 0x40)) << 8;
	for (int i = 0; i < 4; i++) {
		uint32_t d = (uint32_t)(strchr(hex, id[3 + i]) - hex);

		v |= d << (i % 2 ? 16 + 8 * (i / 2) : 20 + 8 * (i / 2));
	}
	return v;
}

/* Open something with a PkgLength (Scope, Device, Package, Buffer): room
 * for the longest encoding is kept and closed up by aml_close(). */
static size_t aml_open(struct aml *a)
{
	size_t at = a->n;

	aml_le(a, 0, 4);
	return at;
}

static void aml_close(struct aml *a, size_t at)
{
	size_t body = a->n - at - 4, len, k;

	/* PkgLength counts its own bytes (20.2.4): 1 byte up to 63, then
	 * 2, 3, 4 bytes with the low nibble first. */
	if (body + 1 < 0x40)
		k = 1;
	else if (body + 2 < 0x1000)
		k = 2;
	else if (body + 3 < 0x100000)
		k = 3;
	else
		k = 4;
	len = body + k;
	if (a->overflow || a->n > a->cap)
		return;
	memmove(a->b + at + k, a->b + at + 4, body);
	if (k == 1) {
		a->b[at] = (uint8_t)len;
	} else {
		a->b[at] = (uint8_t)((k - 1) << 6 | (len & 0xf));
		for (size_t i = 1; i < k; i++)
			a->b[at + i] = (uint8_t)(len >> (4 + 8 * (i - 1)));
	}
	a->n -= 4 - k;
}

/* Resource descriptors (6.4).  Address space descriptors: "producer",
 * fixed min and max, positive decode (general flags 0x0c). */
static void res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	aml_byte(a, 0x88); /* Word Address Space Descriptor */
	aml_le(a, 13, 2);
	aml_byte(a, 2); /* bus number range */
	aml_byte(a, 0x0c);
	aml_byte(a, 0);
	aml_le(a, 0, 2); /* granularity */
	aml_le(a, min, 2);
	aml_le(a, max, 2);
	aml_le(a, 0, 2); /* translation */
	aml_le(a, max - min + 1, 2);
}

static void res_io(struct aml *a, uint16_t base, uint8_t len)
{
	aml_byte(a, 0x47); /* I/O port descriptor, 16-bit decode */
	aml_byte(a, 1);
	aml_le(a, base, 2);
	aml_le(a, base, 2);
	aml_byte(a, 1);
	aml_byte(a, len);
}

/* Word, DWord and QWord Address Space Descriptors (ACPI 6.x, 6.4.3.5.1-3)
 * share one layout: tag, length, resource type, general flags (0x0c: the
 * min and max addresses are fixed), type-specific flags, then granularity,
 * min, max, translation offset and length, each width bytes wide. */
enum { RES_MEM = 0, RES_IO = 1 };

static void res_addr_space(struct aml *a, unsigned width, uint8_t rtype, uint8_t tflags,
			   uint64_t min, uint64_t len)
{
	static const uint8_t tag[9] = {[2] = 0x88, [4] = 0x87, [8] = 0x8a};

	aml_byte(a, tag[width]);
	aml_le(a, 3 + 5 * width, 2);
	aml_byte(a, rtype);
	aml_byte(a, 0x0c);
	aml_byte(a, tflags);
	aml_le(a, 0, width);
	aml_le(a, min, width);
	aml_le(a, min + len - 1, width);
	aml_le(a, 0, width);
	aml_le(a, len, width);
}

static void res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
	aml_byte(a, 0x86); /* Memory32Fixed */
	aml_le(a, 9, 2);
	aml_byte(a, 1); /* read/write */
	aml_le(a, base, 4);
	aml_le(a, len, 4);
}

/* Name(_CRS, ResourceTemplate(){ ... }): the caller writes descriptors
 * between crs_open() and crs_close(). */
static size_t crs_open(struct aml *a, size_t *size_at)
{
	size_t at;

	aml_name(a, "_CRS");
	aml_byte(a, 0x11); /* BufferOp */
	at = aml_open(a);
	aml_byte(a, 0x0b); /* BufferSize as a word, patched at close */
	*size_at = a->n;
	aml_le(a, 0, 2);
	return at;
}

static void crs_close(struct aml *a, size_t at, size_t size_at)
{
	size_t size;

	aml_byte(a, 0x79); /* End Tag; checksum 0 means "not checked" */
	aml_byte(a, 0);
	size = a->n - size_at - 2;
	if (!a->overflow && a->n <= a->cap)
		st16(a->b + size_at, (uint16_t)size);
	aml_close(a, at);
}

/* The swizzle devices/pci.h documents for pci_intx_gsi(); spelled out
 * here so the tables build (and are unit-tested) without the PCI core. */
static unsigned acpi_intx_gsi(unsigned slot, unsigned pin)
{
	return PCI_INTX_GSI_BASE + ((slot + pin - 1) & 3);
}

static void dsdt_body(struct aml *a)
{
	size_t sb, dev, pkg, crs, crs_size;

	/* Scope(\_SB) */
	aml_byte(a, 0x10);
	sb = aml_open(a);
	aml_byte(a, '\\');
	aml_seg(a, "_SB_");

	/* Device(PCI0): the host bridge, PCI Express flavour (PNP0A08, so Linux
	 * takes its ECAM from MCFG) with the conventional PNP0A03 as _CID. */
	aml_byte(a, 0x5b);
	aml_byte(a, 0x82); /* DeviceOp */
	dev = aml_open(a);
	aml_seg(a, "PCI0");
	aml_name(a, "_HID");
	aml_byte(a, 0x0c);
	aml_le(a, eisa_id("PNP0A08"), 4);
	aml_name(a, "_CID");
	aml_byte(a, 0x0c);
	aml_le(a, eisa_id("PNP0A03"), 4);
	aml_name(a, "_SEG");
	aml_int(a, 0);
	aml_name(a, "_BBN");
	aml_int(a, 0);
	aml_name(a, "_UID");
	aml_int(a, 0);

	/* What the bridge decodes: bus 0, the config ports, and the three
	 * BAR apertures.  Legacy ports (COM1, PM, PIC) are not behind it. */
	crs = crs_open(a, &crs_size);
	res_word_bus(a, 0, 0);
	res_io(a, PORT_PCI_CONFIG_ADDR, 8);
	/* I/O: EntireRange (ISA and non-ISA); memory: read/write, not cacheable. */
	res_addr_space(a, 2, RES_IO, 3, PCI_IOPORT_BASE, PCI_IOPORT_SIZE);
	res_addr_space(a, 4, RES_MEM, 1, PCI_MMIO32_BASE, PCI_MMIO32_SIZE);
	res_addr_space(a, 8, RES_MEM, 1, PCI_MMIO64_BASE, PCI_MMIO64_SIZE);
	crs_close(a, crs, crs_size);

	/* _PRT: INTA-INTD of every slot to IOAPIC inputs (source 0 means a
	 * GSI, level-triggered, active-low), following pci_intx_gsi(). */
	aml_name(a, "_PRT");
	aml_byte(a, 0x12); /* PackageOp */
	pkg = aml_open(a);
	aml_byte(a, 32 * 4);
	for (unsigned slot = 0; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			size_t e;

			aml_byte(a, 0x12);
			e = aml_open(a);
			aml_byte(a, 4);
			aml_int(a, (uint64_t)slot << 16 | 0xffff); /* any function */
			aml_int(a, pin);			   /* 0 = INTA */
			aml_int(a, 0);
			aml_int(a, acpi_intx_gsi(slot, pin + 1));
			aml_close(a, e);
		}
	}
	aml_close(a, pkg);
	aml_close(a, dev);

	/* Device(MRES): motherboard resources, so the ECAM window is also
	 * reserved in the namespace (Linux checks this before trusting MCFG). */
	aml_byte(a, 0x5b);
	aml_byte(a, 0x82);
	dev = aml_open(a);
	aml_seg(a, "MRES");
	aml_name(a, "_HID");
	aml_byte(a, 0x0c);
	aml_le(a, eisa_id("PNP0C02"), 4);
	aml_name(a, "_UID");
	aml_int(a, 1);
	crs = crs_open(a, &crs_size);
	res_mem32_fixed(a, PCI_ECAM_BASE, PCI_ECAM_SIZE);
	res_io(a, PM_BASE, PM_LEN);
	crs_close(a, crs, crs_size);
	aml_close(a, dev);
	aml_close(a, sb);

	/* Name(\_S3, Package(){SLP_TYPa, SLP_TYPb, 0, 0}): suspend to RAM,
	 * woken by the RTC alarm (devices/pm.c); and \_S5, soft off (7.4.2). */
	aml_name(a, "_S3_");
	aml_byte(a, 0x12);
	pkg = aml_open(a);
	aml_byte(a, 4);
	aml_int(a, PM_SLP_TYP_S3);
	aml_int(a, PM_SLP_TYP_S3);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_close(a, pkg);
	aml_name(a, "_S5_");
	aml_byte(a, 0x12);
	pkg = aml_open(a);
	aml_byte(a, 4);
	aml_int(a, PM_SLP_TYP_S5);
	aml_int(a, PM_SLP_TYP_S5);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_close(a, pkg);
}

/* ---- the tables -------------------------------------------------------- */
#define FADT_LEN 276 /* ACPI 6.0 and later */
#define FACS_LEN 64
#define MCFG_LEN (44 + 16)

static size_t build_fadt(uint8_t *t, uint64_t facs, uint64_t dsdt)
{
	memset(t, 0, FADT_LEN);
	hdr(t, "FACP", FADT_LEN, 6);
	st32(t + 36, (uint32_t)facs);
	st32(t + 40, (uint32_t)dsdt);
	t[45] = 0; /* preferred PM profile: unspecified */
	st16(t + 46, ACPI_SCI_IRQ);
	st32(t + 48, 0); /* SMI_CMD 0: always in ACPI mode */
	st32(t + 56, PM1A_EVT_BLK);
	st32(t + 64, PM1A_CNT_BLK);
	st32(t + 76, PM_TMR_BLK);
	t[88] = PM1_EVT_LEN;
	t[89] = PM1_CNT_LEN;
	t[91] = PM_TMR_LEN;
	st16(t + 96, 101);  /* C2 latency > 100: no C2 */
	st16(t + 98, 1001); /* C3 latency > 1000: no C3 */
	/* IA-PC boot architecture flags (5.2.9.3): legacy devices (COM1)
	 * exist; no i8042, no VGA, no ASPM control, no CMOS RTC. */
	st16(t + 109, 0x0001 | 0x0004 | 0x0010 | 0x0020);
	/* Flags (5.2.9 table 5.10): WBINVD, PROC_C1, PWR_BUTTON and
	 * SLP_BUTTON (none fixed), TMR_VAL_EXT, RESET_REG_SUP.  FIX_RTC is
	 * clear: RTC_STS and RTC_EN are in PM1 (the S3 wake, pm.c). */
	st32(t + 112, 1u << 0 | 1u << 2 | 1u << 4 | 1u << 5 | 1u << 10);
	gas(t + 116, GAS_IO, 8, 1, PM_RESET_REG);
	t[128] = PM_RESET_VALUE;
	t[131] = 0; /* FADT minor version */
	st64(t + 132, facs);
	st64(t + 140, dsdt);
	gas(t + 148, GAS_IO, PM1_EVT_LEN * 8, 2, PM1A_EVT_BLK);
	gas(t + 172, GAS_IO, PM1_CNT_LEN * 8, 2, PM1A_CNT_BLK);
	gas(t + 208, GAS_IO, PM_TMR_LEN * 8, 3, PM_TMR_BLK);
	memcpy(t + 268, "KVMINI\0\0", 8); /* hypervisor vendor identity */
	finish(t);
	return FADT_LEN;
}

static size_t build_facs(uint8_t *t)
{
	memset(t, 0, FACS_LEN);
	memcpy(t, "FACS", 4);
	st32(t + 4, FACS_LEN);
	t[32] = 2; /* version; no checksum in the FACS */
	return FACS_LEN;
}

/* The MADT's room: header and local APIC address (44), one Processor
 * Local APIC entry (8) per CPU, the I/O APIC (12), two interrupt source
 * overrides (10 each) and the LAPIC NMI entry (6).  APIC IDs stay below
 * 255 up to VM_MAX_VCPUS (32), so no Processor Local x2APIC entries
 * (type 9, needed from APIC ID 255 on) are written. */
#define MADT_LEN(n) (44 + 8 * (n) + 12 + 10 + 10 + 6)

static size_t build_madt(uint8_t *t, unsigned ncpus)
{
	size_t n = 44;

	memset(t, 0, MADT_LEN(ncpus));
	st32(t + 36, LAPIC_BASE);
	st32(t + 40, 1); /* PCAT_COMPAT: there are 8259s (the OS masks them) */
	/* Processor Local APIC: ACPI processor UID = APIC ID = KVM's vcpu
	 * id, enabled.  Listed in APIC ID order, the boot processor first. */
	for (unsigned i = 0; i < ncpus; i++) {
		t[n] = 0, t[n + 1] = 8, t[n + 2] = (uint8_t)i, t[n + 3] = (uint8_t)i;
		st32(t + n + 4, 1);
		n += 8;
	}
	/* I/O APIC: ID 0, at IOAPIC_BASE, GSIs from 0 (KVM's has 24 pins).
	 * Its ID may equal a local APIC's: they are separate name spaces
	 * (the IOAPIC's ID only matters on the old APIC bus). */
	t[n] = 1, t[n + 1] = 12, t[n + 2] = 0, t[n + 3] = 0;
	st32(t + n + 4, IOAPIC_BASE), st32(t + n + 8, 0);
	n += 12;
	/* Interrupt source overrides: ISA IRQ0 (the PIT) arrives on GSI 2,
	 * as kvm's routing puts it; the SCI is level, active high. */
	t[n] = 2, t[n + 1] = 10, t[n + 2] = 0, t[n + 3] = 0, st32(t + n + 4, 2), st16(t + n + 8, 0);
	n += 10;
	t[n] = 2, t[n + 1] = 10, t[n + 2] = 0, t[n + 3] = ACPI_SCI_IRQ;
	st32(t + n + 4, ACPI_SCI_IRQ), st16(t + n + 8, 0x000d);
	n += 10;
	/* Local APIC NMI: LINT1 of every processor (UID 0xff), as on a PC. */
	t[n] = 4, t[n + 1] = 6, t[n + 2] = 0xff, st16(t + n + 3, 0), t[n + 5] = 1;
	n += 6;
	hdr(t, "APIC", (uint32_t)n, 4);
	finish(t);
	return n;
}

static size_t build_mcfg(uint8_t *t)
{
	memset(t, 0, MCFG_LEN);
	hdr(t, "MCFG", MCFG_LEN, 1);
	/* 8 reserved bytes, then one allocation: base, segment, buses. */
	st64(t + 44, PCI_ECAM_BASE);
	st16(t + 52, 0);
	t[54] = 0;
	t[55] = (uint8_t)(PCI_ECAM_SIZE / (32 * 8 * 4096) - 1); /* last bus: 0 */
	finish(t);
	return MCFG_LEN;
}

static size_t build_xsdt(uint8_t *t, const uint64_t *ptr, unsigned n)
{
	size_t len = 36 + 8 * n;

	hdr(t, "XSDT", (uint32_t)len, 1);
	for (unsigned i = 0; i < n; i++)
		st64(t + 36 + 8 * i, ptr[i]);
	finish(t);
	return len;
}

static void build_rsdp(uint8_t *t, uint64_t xsdt)
{
	memset(t, 0, 36);
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = 2;	 /* revision 2: ACPI 2.0+, has the XSDT */
	st32(t + 16, 0); /* no RSDT: every OS that reads v2 uses the XSDT */
	st32(t + 20, 36);
	st64(t + 24, xsdt);
	t[8] = (uint8_t)-sum8(t, 20);  /* ACPI 1.0 checksum: first 20 bytes */
	t[32] = (uint8_t)-sum8(t, 36); /* extended checksum: all 36 */
}

int acpi_build(uint8_t *region, size_t len, uint64_t gpa, unsigned ncpus,
	       struct acpi_layout *lay)
{
	size_t off;
	struct aml a;
	uint64_t tables[3];

	/* Fixed small tables first, the DSDT (variable) last. */
	/* The DSDT's header too: the AML writer's room is what is left. */
	if (len < 0x400 + 36 || ncpus < 1 || MADT_LEN(ncpus) > 0x400 - 0x240)
		return -1;
	memset(region, 0, len);
	memset(lay, 0, sizeof(*lay));
	lay->rsdp = gpa;
	lay->xsdt = gpa + 0x40;
	lay->fadt = gpa + 0x80;
	lay->facs = gpa + ACPI_FACS_OFF; /* 64-byte aligned (5.2.10) */
	lay->mcfg = gpa + 0x200;
	lay->madt = gpa + 0x240; /* up to 0x400: 55 CPUs' worth of room */
	lay->dsdt = gpa + 0x400;

	a = (struct aml){.b = region + 0x400 + 36, .cap = len - 0x400 - 36};
	dsdt_body(&a);
	if (a.overflow || a.n > a.cap)
		return -1;
	hdr(region + 0x400, "DSDT", (uint32_t)(36 + a.n), 2); /* rev 2: 64-bit integers */
	finish(region + 0x400);
	off = 0x400 + 36 + a.n;

	build_fadt(region + 0x80, lay->facs, lay->dsdt);
	build_facs(region + ACPI_FACS_OFF);
	build_mcfg(region + 0x200);
	build_madt(region + 0x240, ncpus);
	tables[0] = lay->fadt;
	tables[1] = lay->madt;
	tables[2] = lay->mcfg;
	build_xsdt(region + 0x40, tables, 3);
	build_rsdp(region, lay->xsdt);
	lay->used = off; /* what the tables occupy: never past len */
	return 0;
}

uint64_t acpi_setup(struct vm *vm)
{
	uint8_t *region = vm_gpa(vm, ACPI_BASE, ACPI_SIZE);
	struct acpi_layout lay;

	if (!region || acpi_build(region, ACPI_SIZE, ACPI_BASE, vm->ncpus, &lay) < 0)
		die(EXIT_HOST, "internal: the ACPI tables do not fit at 0x%lx", ACPI_BASE);
	trace(TRACE_BOOT,
	      "ACPI: RSDP 0x%llx, XSDT 0x%llx, FADT 0x%llx, MADT 0x%llx, "
	      "MCFG 0x%llx, DSDT 0x%llx (%zu bytes in all); %u CPUs in the MADT",
	      (unsigned long long)lay.rsdp, (unsigned long long)lay.xsdt,
	      (unsigned long long)lay.fadt, (unsigned long long)lay.madt,
	      (unsigned long long)lay.mcfg, (unsigned long long)lay.dsdt, lay.used, vm->ncpus);
	return lay.rsdp;
}
