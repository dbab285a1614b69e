// SPDX-License-Identifier: MIT
// needs: vmm/acpi.c devices/pm.c devices/rtc.c vmm/trace.c
/*
 * test_acpi.c - the ACPI tables (vmm/acpi.c): every checksum, the RSDP's
 * two, the pointers between tables, MADT and MCFG against memmap.h, FADT
 * against devices/pm.h, and the DSDT's AML (package lengths, _PRT routing
 * against the PCI swizzle, _S5).  Also the PM1a_CNT decoding of pm.c.
 */
#include <string.h>

#include "memmap.h"
#include "tap.h"
#include "../../devices/pci.h"
#include "../../devices/pm.h"
#include "../../vmm/acpi.h"
#include "../../vmm/vm.h"

/* Stubs for what acpi_setup() and pm_init() use; not exercised here. */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)vm, (void)gpa, (void)len;
	return NULL;
}
int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_handler fn, void *opaque,
		 const char *name)
{
	(void)bus, (void)base, (void)len, (void)fn, (void)opaque, (void)name;
	return 0;
}
void serial_flush(void)
{
}

#define BASE 0xe0000UL
static uint8_t region[ACPI_SIZE];

static uint8_t *at(uint64_t gpa)
{
	return region + (gpa - BASE);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static unsigned sum(const uint8_t *p, size_t n)
{
	unsigned s = 0;

	while (n--)
		s += *p++;
	return s & 0xff;
}

static void table_ok(uint64_t gpa, const char *sig)
{
	uint8_t *t = at(gpa);
	uint32_t len = rd32(t + 4);

	tap_ok(!memcmp(t, sig, 4), "%s: signature", sig);
	tap_ok(len >= 36 && gpa - BASE + len <= sizeof(region), "%s: length %u fits", sig, len);
	tap_eq(sum(t, len), 0, "%s: checksum", sig);
	tap_ok(!memcmp(t + 10, "KVMINI", 6), "%s: OEM ID", sig);
}

/* AML PkgLength (ACPI 6.4, 20.2.4): value and how many bytes it took. */
static unsigned pkglen(const uint8_t *p, unsigned *bytes)
{
	unsigned n = p[0] >> 6, v;

	if (!n) {
		*bytes = 1;
		return p[0] & 0x3f;
	}
	v = p[0] & 0x0f;
	for (unsigned i = 1; i <= n; i++)
		v |= (unsigned)p[i] << (4 + 8 * (i - 1));
	*bytes = n + 1;
	return v;
}

/* An AML integer: ZeroOp, OneOp, or a byte/word/dword prefix. */
static uint64_t aml_int(const uint8_t **pp)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

	switch (p[0]) {
	case 0x00: *pp = p + 1; return 0;
	case 0x01: *pp = p + 1; return 1;
	case 0x0a:
		v = p[1];
		*pp = p + 2;
		return v;
	case 0x0b:
		v = rd16(p + 1);
		*pp = p + 3;
		return v;
	case 0x0c:
		v = rd32(p + 1);
		*pp = p + 5;
		return v;
	case 0x0e:
		v = rd64(p + 1);
		*pp = p + 9;
		return v;
	}
	*pp = p + 1;
	return ~0ULL;
}

static const uint8_t *find(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

int main(void)
{
	struct acpi_layout lay;
	uint8_t *r, *x, *f, *m, *c, *d;
	uint32_t dlen;

	tap_ok(acpi_build(region, sizeof(region), BASE, 1, &lay) == 0, "tables build in 64 KiB");
	tap_ok(lay.used < 8192, "and take %zu bytes", lay.used);

	/* RSDP: both checksums, revision 2, the XSDT. */
	r = at(lay.rsdp);
	tap_eq(lay.rsdp, BASE, "RSDP at the start of the BIOS area");
	tap_eq(lay.rsdp & 15, 0, "RSDP 16-byte aligned (legacy scan)");
	tap_ok(!memcmp(r, "RSD PTR ", 8), "RSDP: signature");
	tap_eq(sum(r, 20), 0, "RSDP: ACPI 1.0 checksum over 20 bytes");
	tap_eq(sum(r, 36), 0, "RSDP: extended checksum over 36 bytes");
	tap_eq(r[15], 2, "RSDP: revision 2");
	tap_eq(rd32(r + 20), 36, "RSDP: length 36");
	tap_eq(rd64(r + 24), lay.xsdt, "RSDP: XSDT address");

	table_ok(lay.xsdt, "XSDT");
	table_ok(lay.fadt, "FACP");
	table_ok(lay.madt, "APIC");
	table_ok(lay.mcfg, "MCFG");
	table_ok(lay.dsdt, "DSDT");

	x = at(lay.xsdt);
	tap_eq(rd32(x + 4), 36 + 3 * 8, "XSDT: three entries");
	tap_eq(rd64(x + 36), lay.fadt, "XSDT[0] is the FADT");
	tap_eq(rd64(x + 44), lay.madt, "XSDT[1] is the MADT");
	tap_eq(rd64(x + 52), lay.mcfg, "XSDT[2] is the MCFG");

	/* FADT: classic (not hardware-reduced), PM blocks from pm.h. */
	f = at(lay.fadt);
	tap_eq(rd32(f + 4), 276, "FADT: ACPI 6 length");
	tap_eq(rd32(f + 40), lay.dsdt, "FADT: DSDT");
	tap_eq(rd64(f + 140), lay.dsdt, "FADT: X_DSDT");
	tap_eq(rd32(f + 36), lay.facs, "FADT: FACS");
	tap_eq(lay.facs & 63, 0, "FACS 64-byte aligned");
	tap_ok(!memcmp(at(lay.facs), "FACS", 4) && rd32(at(lay.facs) + 4) == 64, "FACS: header");
	tap_eq(rd16(f + 46), ACPI_SCI_IRQ, "FADT: SCI on IRQ 9");
	tap_eq(rd32(f + 48), 0, "FADT: no SMI_CMD (always in ACPI mode)");
	tap_eq(rd32(f + 56), PM1A_EVT_BLK, "FADT: PM1a_EVT_BLK");
	tap_eq(rd32(f + 64), PM1A_CNT_BLK, "FADT: PM1a_CNT_BLK");
	tap_eq(rd32(f + 76), PM_TMR_BLK, "FADT: PM_TMR_BLK");
	tap_ok(f[88] == PM1_EVT_LEN && f[89] == PM1_CNT_LEN && f[91] == PM_TMR_LEN,
	       "FADT: block lengths");
	tap_eq(rd64(f + 148 + 4), PM1A_EVT_BLK, "FADT: X_PM1a_EVT_BLK");
	tap_eq(rd64(f + 172 + 4), PM1A_CNT_BLK, "FADT: X_PM1a_CNT_BLK");
	tap_eq(rd32(f + 112) & (1u << 20), 0, "FADT: not HW_REDUCED_ACPI");
	tap_ok(rd32(f + 112) & (1u << 10), "FADT: RESET_REG_SUP");
	tap_eq(rd32(f + 112) & (1u << 8), 0, "FADT: FIX_RTC clear: RTC_STS/RTC_EN in PM1 (the S3 wake)");
	tap_eq(rd32(at(lay.facs) + FACS_WAKING_VECTOR), 0, "FACS: waking vector 0 until the guest sets it");
	tap_ok(f[116] == 1 && rd64(f + 120) == PM_RESET_REG && f[128] == PM_RESET_VALUE,
	       "FADT: reset register is the PM block's");
	tap_eq(rd16(f + 109) & 2, 0, "FADT: no 8042");

	/* MADT: what memmap.h says. */
	m = at(lay.madt);
	tap_eq(rd32(m + 36), LAPIC_BASE, "MADT: local APIC address");
	{
		uint32_t len = rd32(m + 4);
		int lapic = 0, ioapic = 0, iso0 = 0, iso9 = 0;

		for (uint32_t o = 44; o + 2 <= len && m[o + 1]; o += m[o + 1]) {
			uint8_t *e = m + o;

			if (e[0] == 0 && e[1] == 8)
				lapic = e[3] == 0 && (rd32(e + 4) & 1);
			if (e[0] == 1 && e[1] == 12)
				ioapic = rd32(e + 4) == IOAPIC_BASE && rd32(e + 8) == 0;
			if (e[0] == 2 && e[1] == 10 && e[3] == 0)
				iso0 = rd32(e + 4) == 2;
			if (e[0] == 2 && e[1] == 10 && e[3] == 9)
				iso9 = rd32(e + 4) == 9 && rd16(e + 8) == 0x0d;
		}
		tap_ok(lapic, "MADT: CPU 0's local APIC, enabled");
		tap_ok(ioapic, "MADT: IOAPIC at IOAPIC_BASE, GSI base 0");
		tap_ok(iso0, "MADT: override IRQ0 -> GSI 2");
		tap_ok(iso9, "MADT: SCI IRQ 9 level, active high");
	}

	/* MCFG: the ECAM window of memmap.h. */
	c = at(lay.mcfg);
	tap_eq(rd32(c + 4), 60, "MCFG: one allocation");
	tap_eq(rd64(c + 44), PCI_ECAM_BASE, "MCFG: base is PCI_ECAM_BASE");
	tap_eq(rd16(c + 52), 0, "MCFG: segment 0");
	tap_ok(c[54] == 0 && c[55] == 0, "MCFG: buses 0-0");
	tap_eq((uint64_t)(c[55] - c[54] + 1) << 20, PCI_ECAM_SIZE,
	       "MCFG: bus range covers PCI_ECAM_SIZE");

	/* DSDT: Scope(\_SB) covers all but \_S3 and \_S5, whose package ends
	 * the table. */
	d = at(lay.dsdt);
	dlen = rd32(d + 4);
	{
		unsigned nb, v = pkglen(d + 37, &nb);
		const uint8_t *s3 = d + 37 + v, *s5, *p;

		tap_eq(d[36], 0x10, "DSDT: starts with Scope");
		tap_ok(v > 63 && nb == 2, "DSDT: a two-byte PkgLength (%u)", v);
		tap_ok(!memcmp(d + 37 + nb, "\\_SB_", 5), "DSDT: Scope(\\_SB)");
		tap_ok(s3 < d + dlen && !memcmp(s3, "\x08_S3_\x12", 6),
		       "DSDT: \\_S3 after the scope");
		v = pkglen(s3 + 6, &nb);
		p = s3 + 6 + nb + 1;
		tap_ok(s3[6 + nb] == 4 && aml_int(&p) == PM_SLP_TYP_S3 &&
			   aml_int(&p) == PM_SLP_TYP_S3 && PM_SLP_TYP_S3 == 1,
		       "DSDT: \\_S3 sleep type is PM_SLP_TYP_S3, QEMU's 1");
		s5 = s3 + 6 + v;
		tap_ok(s5 < d + dlen && !memcmp(s5, "\x08_S5_\x12", 6),
		       "DSDT: \\_S5 after \\_S3");
		v = pkglen(s5 + 6, &nb);
		tap_eq(s5 + 6 + v - d, dlen, "DSDT: \\_S5 package ends the table");
		p = s5 + 6 + nb + 1;
		tap_ok(s5[6 + nb] == 4 && aml_int(&p) == PM_SLP_TYP_S5 &&
			   aml_int(&p) == PM_SLP_TYP_S5,
		       "DSDT: \\_S5 sleep type is PM_SLP_TYP_S5");
	}
	tap_ok(find(d, dlen, "PCI0", 4) != NULL, "DSDT: Device(PCI0)");
	tap_ok(find(d, dlen, "\x08_HID\x0c\x41\xd0\x0a\x08", 10) != NULL, "DSDT: _HID PNP0A08");
	tap_ok(find(d, dlen, "\x08_CID\x0c\x41\xd0\x0a\x03", 10) != NULL, "DSDT: _CID PNP0A03");
	tap_ok(find(d, dlen, "\x08_SEG\x00", 6) && find(d, dlen, "\x08_BBN\x00", 6) &&
		   find(d, dlen, "\x08_UID\x00", 6),
	       "DSDT: _SEG, _BBN, _UID 0");
	{
		uint8_t q[8], w[4];
		uint64_t v = PCI_MMIO64_BASE;
		uint32_t v32 = PCI_MMIO32_BASE;

		memcpy(q, &v, 8);
		memcpy(w, &v32, 4);
		tap_ok(find(d, dlen, "\x8a\x2b\x00\x00\x0c", 5) && find(d, dlen, q, 8),
		       "DSDT: _CRS QWord memory from PCI_MMIO64_BASE");
		tap_ok(find(d, dlen, "\x87\x17\x00\x00\x0c", 5) && find(d, dlen, w, 4),
		       "DSDT: _CRS DWord memory from PCI_MMIO32_BASE");
		tap_ok(find(d, dlen, "\x47\x01\xf8\x0c\xf8\x0c\x01\x08", 8) != NULL,
		       "DSDT: _CRS I/O 0xcf8-0xcff");
		tap_ok(find(d, dlen, "\x88\x0d\x00\x02\x0c\x00\x00\x00\x00\x00\x00\x00", 12) !=
			   NULL,
		       "DSDT: _CRS bus range 0-0");
		tap_ok(find(d, dlen, "\x08_HID\x0c\x41\xd0\x0c\x02", 10) != NULL,
		       "DSDT: PNP0C02 motherboard resources (ECAM reserved)");
	}

	/* _PRT: 128 entries, each {slot<<16|0xffff, pin, 0, GSI} by the swizzle. */
	{
		const uint8_t *p = find(d, dlen, "\x08_PRT\x12", 6);
		unsigned nb, bad = 0, n;

		tap_ok(p != NULL, "DSDT: _PRT package");
		if (p) {
			p += 6;
			pkglen(p, &nb);
			p += nb;
			n = *p++;
			tap_eq(n, 128, "_PRT: 32 slots x 4 pins");
			for (unsigned i = 0; i < n; i++) {
				uint64_t addr, pin, src, gsi;
				unsigned slot = i / 4, want;

				if (*p++ != 0x12) {
					bad++;
					break;
				}
				pkglen(p, &nb);
				p += nb;
				if (*p++ != 4)
					bad++;
				addr = aml_int(&p);
				pin = aml_int(&p);
				src = aml_int(&p);
				gsi = aml_int(&p);
				want = PCI_INTX_GSI_BASE + ((slot + (unsigned)pin) & 3);
				if (addr != ((uint64_t)slot << 16 | 0xffff) || pin != i % 4 ||
				    src || gsi != want)
					bad++;
			}
			tap_eq(bad, 0, "_PRT: every entry follows pin 16 + ((slot + pin - 1) & 3)");
		}
	}

	tap_ok(acpi_build(region, 0x800, BASE, 1, &lay) < 0, "a 2 KiB region is too small: refused");

	/* PM1a_CNT writes. */
	tap_eq(pm1_cnt_action(PM1_CNT_SLP_EN | PM_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT),
	       PM_ACT_POWEROFF, "SLP_EN with the S5 type powers off");
	tap_eq(pm1_cnt_action(PM_SLP_TYP_S5 << PM1_CNT_SLP_TYP_SHIFT), PM_ACT_NONE,
	       "the S5 type without SLP_EN does nothing yet");
	tap_eq(pm1_cnt_action(PM1_CNT_SLP_EN | PM_SLP_TYP_S3 << PM1_CNT_SLP_TYP_SHIFT), PM_ACT_S3,
	       "SLP_EN with the S3 type (0x2400, as test kernels write it) is a suspend");
	tap_eq(pm1_cnt_action(0x2400), PM_ACT_S3, "0x2400 is S3");
	tap_eq(pm1_cnt_action(PM1_CNT_SLP_EN | 2 << PM1_CNT_SLP_TYP_SHIFT), PM_ACT_SLEEP,
	       "SLP_EN with another type is a sleep request, not power-off");
	tap_eq(pm1_cnt_action(PM1_CNT_SCI_EN), PM_ACT_NONE, "SCI_EN alone does nothing");
	/* A region that holds the fixed tables but not the DSDT's header:
	 * refused, nothing written past len.  Found by fuzz_acpi (the AML
	 * writer's room was len - 0x400 - 36, which wrapped). */
	memset(region, 0x5a, sizeof(region));
	tap_ok(acpi_build(region, 0x410, BASE, 1, &lay) < 0, "a 0x410-byte region is refused");
	tap_ok(region[0x410] == 0x5a && region[0x500] == 0x5a,
	       "and nothing is written past its end");

	/* --cpus N: one enabled Processor Local APIC entry per CPU, UID =
	 * APIC ID = 0..N-1 in order, no x2APIC entries below APIC ID 255,
	 * and the rest of the MADT as for one CPU. */
	{
		static const unsigned counts[] = {1, 2, 3, 4, 8, 16, 32};

		for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
			unsigned want = counts[k], nlapic = 0, inorder = 1, x2 = 0, ioapic = 0;

			tap_ok(acpi_build(region, sizeof(region), BASE, want, &lay) == 0,
			       "MADT for %u CPUs: tables build", want);
			m = at(lay.madt);
			uint32_t len = rd32(m + 4);
			for (uint32_t o = 44; o + 2 <= len && m[o + 1]; o += m[o + 1]) {
				uint8_t *e = m + o;

				if (e[0] == 0 && e[1] == 8) {
					inorder &= e[2] == nlapic && e[3] == nlapic && (rd32(e + 4) & 1);
					nlapic++;
				}
				x2 += e[0] == 9;
				ioapic += e[0] == 1;
			}
			tap_eq(len, 44 + 8 * want + 12 + 10 + 10 + 6,
			       "MADT for %u CPUs: its length", want);
			tap_eq(sum(m, len), 0, "MADT for %u CPUs: checksum", want);
			tap_eq(nlapic, want, "MADT for %u CPUs: %u local APIC entries", want, want);
			tap_ok(inorder, "MADT for %u CPUs: UID = APIC ID = 0..%u, enabled", want,
			       want - 1);
			tap_ok(!x2 && ioapic == 1, "MADT for %u CPUs: no x2APIC entries, one IOAPIC",
			       want);
			tap_ok(lay.madt + len <= lay.dsdt && lay.mcfg + 60 <= lay.madt,
			       "MADT for %u CPUs: does not run into the DSDT or MCFG", want);
			table_ok(lay.mcfg, "MCFG");
		}
		tap_ok(acpi_build(region, sizeof(region), BASE, 0, &lay) < 0,
		       "MADT for 0 CPUs: refused");
		tap_ok(acpi_build(region, sizeof(region), BASE, 56, &lay) < 0,
		       "MADT for 56 CPUs: more than its room, refused");
	}

	return tap_done();
}
