// SPDX-License-Identifier: MIT
/*
 * hostile.c - the tiny guest as a hostile guest, on purpose: `--cmdline
 * hostile` makes it do, one step after another, what a broken or malicious
 * driver could do to kvmini's PCI bus and report port (the virtio-net ring
 * steps are in virtio_net.c, the assigned device's DMA steps in edu.c).
 * Each step is one check line: kvmini is still alive (the check arrives
 * through the report port, so a dead kvmini cannot pass it), what the spec
 * says the device must do was done (writes dropped, all-ones reads, RAM
 * left alone), and the device comes back to its assigned state when the
 * guest puts it back, as a driver's reset would.  Then main.c runs the
 * normal device tests, which start from a reset and check everything
 * again.  docs/hostile-guest.md lists the steps.
 */
#include "guest.h"

#define CFG_COMMAND 0x04
#define CFG_BAR0    0x10
#define CFG_ROM	    0x30
#define CMD_IO	    0x1
#define CMD_MEM	    0x2

/* A function's state as pci_init() left it, to put back after a step. */
struct saved {
	uint16_t vendor, device, cmd;
	uint32_t bar[6], rom;
	uint8_t line;
};

static struct saved saved[32];
static unsigned nsaved;

static void save(const struct pci_func *f, struct saved *s)
{
	s->vendor = pci_read16(f, 0);
	s->device = pci_read16(f, 2);
	s->cmd = pci_read16(f, CFG_COMMAND);
	for (unsigned i = 0; i < 6; i++)
		s->bar[i] = pci_read32(f, CFG_BAR0 + 4 * i);
	s->rom = pci_read32(f, CFG_ROM);
	s->line = pci_read8(f, 0x3c);
}

/* What a driver does to get a function back after it went wrong: decode
 * off, BARs and ROM where firmware put them, MSI and MSI-X off (the
 * device tests enable them again), decode on. */
static void restore(const struct pci_func *f, const struct saved *s)
{
	uint8_t c;

	pci_write16(f, CFG_COMMAND, 0);
	for (unsigned i = 0; i < 6; i++)
		pci_write32(f, CFG_BAR0 + 4 * i, s->bar[i]);
	pci_write32(f, CFG_ROM, s->rom);
	pci_write8(f, 0x3c, s->line);
	if ((c = pci_find_cap(f, PCI_CAP_MSIX, 0)) != 0)
		pci_write16(f, c + 2, 0);
	if ((c = pci_find_cap(f, PCI_CAP_MSI, 0)) != 0)
		pci_write16(f, c + 2, 0);
	pci_write16(f, CFG_COMMAND, s->cmd);
}

/* Back where it was: IDs unchanged (read-only), BARs read back what was
 * restored, and its first memory BAR answers (not the all-ones of an
 * unmapped address). */
static bool recovered(const struct pci_func *f, const struct saved *s)
{
	bool ok = pci_read16(f, 0) == s->vendor && pci_read16(f, 2) == s->device;

	for (unsigned i = 0; i < 6; i++)
		ok = ok && pci_read32(f, CFG_BAR0 + 4 * i) == s->bar[i];
	for (unsigned i = 0; i < 6 && ok; i++)
		if (f->bar[i].type == PCI_BAR_MEM32 || f->bar[i].type == PCI_BAR_MEM64) {
			ok = mmio_read32(f->bar[i].addr) != 0xffffffffu;
			break;
		}
	return ok;
}

static bool all_recovered(void)
{
	bool ok = true;

	for (unsigned i = 0; i < nsaved; i++) {
		restore(pci_at(i), &saved[i]);
		ok = recovered(pci_at(i), &saved[i]) && ok;
	}
	return ok;
}

/* ---- config space: every register, every width, wild values ------------- */
static void raw_cf8_write(const struct pci_func *f, unsigned off, unsigned len, uint32_t v)
{
	outl(PORT_PCI_CONFIG_ADDR, 0x80000000u | (uint32_t)f->bus << 16 | (uint32_t)f->dev << 11 |
				       (uint32_t)f->fn << 8 | (off & 0xfc));
	if (len == 1)
		outb(PORT_PCI_CONFIG_DATA + (off & 3), (uint8_t)v);
	else if (len == 2)
		outw(PORT_PCI_CONFIG_DATA + (off & 3), (uint16_t)v);
	else
		outl(PORT_PCI_CONFIG_DATA + (off & 3), v);
}

static uint64_t ecam(const struct pci_func *f, unsigned off)
{
	return PCI_ECAM_BASE +
	       ((uint64_t)f->bus << 20 | (uint64_t)f->dev << 15 | (uint64_t)f->fn << 12 | off);
}

static void wild_config(void)
{
	static const uint32_t vals[2] = {0xffffffffu, 0xa5a5a5a5u};
	uint64_t writes = 0, reads = 0;
	bool ids = true;

	for (unsigned i = 0; i < nsaved; i++) {
		const struct pci_func *f = pci_at(i);

		/* Mechanism #1, widths 1, 2, 4 at every offset (unaligned
		 * too: a 2-byte access at 0xcfd, a 4-byte one at 0xcfe). */
		for (unsigned len = 1; len <= 4; len *= 2)
			for (unsigned off = 0; off < 256; off++)
				for (unsigned v = 0; v < 2; v++) {
					raw_cf8_write(f, off, len, vals[v] ^ off * 0x01010101u);
					writes++;
				}
		/* ECAM, widths 1 to 8, the extended space included. */
		if (pci_has_ecam())
			for (unsigned off = 0; off < 0x1000; off += 8) {
				mmio_write64(ecam(f, off), ~0ull);
				mmio_write8(ecam(f, off + 3), 0x5a);
				(void)mmio_read64(ecam(f, off));
				(void)mmio_read16(ecam(f, off + 5));
				writes += 2, reads += 2;
			}
		ids = ids && pci_read16(f, 0) == saved[i].vendor &&
		      pci_read16(f, 2) == saved[i].device;
	}
	/* Addresses with the enable bit clear, absent buses and functions. */
	for (unsigned b = 0; b < 4; b++) {
		outl(PORT_PCI_CONFIG_ADDR, 0x80000000u | (b + 1) << 16 | 31 << 11 | 7 << 8);
		outl(PORT_PCI_CONFIG_DATA, 0);
		ids = ids && inl(PORT_PCI_CONFIG_DATA) == 0xffffffffu;
		outl(PORT_PCI_CONFIG_ADDR, 0x7ffffffcu);
		outl(PORT_PCI_CONFIG_DATA, ~0u);
		writes += 2, reads++;
	}
	outl(PORT_PCI_CONFIG_ADDR, 0);
	bool rec = all_recovered();
	guest_checkf(ids && rec,
		     "hostile: %lu wild config writes (widths 1-8, every register of %u "
		     "functions, absent ones): IDs read-only, absent reads all-ones, all recover",
		     writes, nsaved);
	(void)reads;
}

/* ---- BARs over things that are not theirs ------------------------------ */
static unsigned first_mem_bar(const struct pci_func *f)
{
	for (unsigned i = 0; i < 6; i++)
		if ((f->bar[i].type == PCI_BAR_MEM32 || f->bar[i].type == PCI_BAR_MEM64) &&
		    f->bar[i].addr)
			return i;
	return 6;
}

static void bar_place(const struct pci_func *f, unsigned b, uint64_t addr, uint16_t cmd)
{
	pci_write16(f, CFG_COMMAND, 0);
	pci_write32(f, CFG_BAR0 + 4 * b, (uint32_t)addr);
	if (f->bar[b].is64)
		pci_write32(f, CFG_BAR0 + 4 * b + 4, (uint32_t)(addr >> 32));
	pci_write16(f, CFG_COMMAND, cmd | CMD_MEM);
}

enum target { T_RAM, T_OTHER, T_ECAM, T_LAPIC, T_IOAPIC, T_MAX };
static const char *const target_names[T_MAX] = {"RAM", "another device's BAR", "ECAM",
						"the LAPIC", "the IOAPIC"};

static uint64_t ram_top(void)
{
	uint64_t top = 0;

	for (unsigned i = 0; i < mem_region_count(); i++) {
		const struct mem_region *m = mem_region_at(i);
		if (m->type == MEM_RAM && m->addr + m->size > top)
			top = m->addr + m->size;
	}
	return top;
}

/*
 * KVM decodes RAM, the LAPIC's page and the IOAPIC's window before kvmini
 * sees an access, so reading where they are tells nothing about whether
 * kvmini mapped the BAR over them.  What tells is a page of the parked BAR
 * that KVM does not decode (past the LAPIC's or IOAPIC's page, past RAM's
 * end): there a BAR kvmini wrongly mapped answers as the device, and one
 * it refused reads all ones.  The witness is the first such page, from
 * offset from on, where the device at its own address answers something
 * other than all ones (*dev); 0 when there is none (a BAR of one page, or
 * a device that reads all ones there too, like edu).
 */
static uint64_t witness(const struct pci_func *f, unsigned b, uint64_t from, uint32_t *dev)
{
	uint64_t size = f->bar[b].size;

	for (uint64_t off = from; off && off < size && off < from + 16 * 4096; off += 4096) {
		*dev = mmio_read32(f->bar[b].addr + off);
		if (*dev != 0xffffffffu)
			return off;
	}
	return 0;
}

static void bar_over(unsigned fi, enum target t)
{
	const struct pci_func *f = pci_at(fi), *other = NULL;
	unsigned b = first_mem_bar(f), ob = 6;
	uint64_t size = f->bar[b].size, addr = 0, top = ram_top(), wit = 0, past = 0;
	uint32_t before = 0, after = 0, dev = 0, parked = ~0u;
	bool held, unmapped = true;
	char seen[64] = "";

	for (unsigned i = 0; i < nsaved && !other; i++)
		if (i != fi && (ob = first_mem_bar(pci_at(i))) < 6)
			other = pci_at(i);
	switch (t) {
	case T_RAM:
		/* Never 0, which means "not decoded": the guest's code at
		 * 1 MiB, or for a large BAR its first aligned place in RAM;
		 * else (a BAR larger than the RAM above it) straddling RAM's
		 * end, where the part past the end is KVM's to leave alone. */
		addr = (GUEST_LOAD_ADDR + size - 1) & ~(size - 1);
		if (addr + size > top)
			addr = top & ~(size - 1);
		if (!addr) {
			printf("hostile: %02x:%02x.%x BAR%u (%lu KiB): no room over RAM, step skipped\n",
			       f->bus, f->dev, f->fn, b, size >> 10);
			return;
		}
		if (addr + size > top)
			past = top - addr;
		break;
	case T_OTHER:
		if (!other)
			return;
		addr = other->bar[ob].addr & ~(size - 1);
		break;
	case T_ECAM: addr = PCI_ECAM_BASE; break;
	case T_LAPIC:
		addr = LAPIC_BASE & ~(size - 1);
		past = LAPIC_BASE + 0x1000 - addr;
		break;
	case T_IOAPIC:
		addr = IOAPIC_BASE & ~(size - 1);
		past = IOAPIC_BASE + 0x1000 - addr;
		break;
	case T_MAX: return;
	}
	wit = witness(f, b, past, &dev);
	/* What lives there answers the same before and after: the BAR must
	 * not be mapped over it. */
	switch (t) {
	case T_RAM: before = *(volatile uint32_t *)addr; break;
	case T_OTHER: before = mmio_read32(other->bar[ob].addr); break;
	case T_ECAM: before = mmio_read32(PCI_ECAM_BASE); break;
	case T_LAPIC: before = lapic_id(); break;
	case T_IOAPIC: before = ioapic_pins(); break;
	case T_MAX: break;
	}
	uint64_t ticks = timer_ticks();
	bar_place(f, b, addr, saved[fi].cmd);
	if (wit) {
		parked = mmio_read32(addr + wit);
		unmapped = parked == 0xffffffffu;
		snprintf(seen, sizeof(seen), ", +%#lx reads %#x (the device's %#x): not mapped", wit,
			 parked, dev);
	}
	switch (t) {
	case T_RAM: after = *(volatile uint32_t *)addr; break;
	case T_OTHER: after = mmio_read32(other->bar[ob].addr); break;
	case T_ECAM: after = mmio_read32(PCI_ECAM_BASE); break;
	case T_LAPIC:
		after = lapic_id();
		/* and its timer still interrupts us */
		held = irq_wait_count(GUEST_VEC_TIMER, irq_count(GUEST_VEC_TIMER) + 2, 1000000);
		if (!held || timer_ticks() == ticks)
			after = ~before;
		break;
	case T_IOAPIC: after = ioapic_pins(); break;
	case T_MAX: break;
	}
	held = after == before;
	restore(f, &saved[fi]);
	guest_checkf(held && unmapped && recovered(f, &saved[fi]),
		     "hostile: %02x:%02x.%x BAR%u (%lu KiB) over %s at %#lx: that still answers "
		     "(%#x)%s, device recovers",
		     f->bus, f->dev, f->fn, b, size >> 10, target_names[t], addr, after, seen);
}

/* ---- the report port: pointers outside RAM ------------------------------ */
static void report_garbage(void)
{
	static struct guest_report r;
	static char msg[8] = "hostile";
	uint64_t top = ram_top();

	outl(REPORT_PORT, 0xfffffff0u);	      /* the struct outside RAM */
	outl(REPORT_PORT, (uint32_t)top - 8); /* straddling RAM's end */
	r = (struct guest_report){REPORT_CHECK, 9999, 1, 8, 0xfffff00000000000ull};
	outl(REPORT_PORT, (uint32_t)virt_to_phys(&r)); /* message outside RAM */
	r.msg_len = 0xffffffffu, r.msg_gpa = virt_to_phys(msg);
	outl(REPORT_PORT, (uint32_t)virt_to_phys(&r)); /* giant length */
	r.msg_len = 8, r.msg_gpa = top - 4;
	outl(REPORT_PORT, (uint32_t)virt_to_phys(&r)); /* message straddling */
	r.kind = 77, r.msg_gpa = virt_to_phys(msg);
	outl(REPORT_PORT, (uint32_t)virt_to_phys(&r)); /* unknown kind */
	outw(REPORT_PORT, 0x1234);		       /* not a 32-bit access */
	uint8_t b = inb(REPORT_PORT);
	/* None of these may stop the run or count as a check, and the port
	 * still answers. */
	guest_checkf(b == 0xff && inl(REPORT_PORT) == REPORT_MAGIC,
		     "hostile: report struct and message outside RAM, straddling its end, a "
		     "giant length, an unknown kind, odd widths: all ignored (byte read %#x)",
		     b);
}

void hostile_pci(void)
{
	printf("hostile: misbehaving on purpose (docs/hostile-guest.md)\n");
	nsaved = pci_count() < 32 ? pci_count() : 32;
	for (unsigned i = 0; i < nsaved; i++)
		save(pci_at(i), &saved[i]);
	report_garbage();
	wild_config();
	for (unsigned i = 0; i < nsaved; i++) {
		if (first_mem_bar(pci_at(i)) == 6)
			continue;
		for (enum target t = T_RAM; t < T_MAX; t++)
			bar_over(i, t);
	}
	guest_check("hostile: PCI steps done, no unexpected interrupts", irq_unexpected() == 0);
}
