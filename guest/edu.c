/* SPDX-License-Identifier: MIT */
/*
 * edu.c - the guest's test of QEMU's educational PCI device (1234:11e8),
 * handed to it by kvmini's --vfio.  Register map from QEMU's
 * docs/specs/edu.txt (BAR0, 1 MiB):
 *
 *   0x00 RO  identification, 0xRRrr00ed (QEMU 7.2: 0x010000ed)
 *   0x04 RW  liveness: reads back the bitwise inverse of what was written
 *   0x08 RW  factorial: write n, read n! once status bit 0 clears
 *   0x20 RW  status: bit 0 computing (RO), bit 7 raise irq after factorial
 *   0x24 RO  interrupt status
 *   0x60 WO  raise interrupt: value ORed into interrupt status
 *   0x64 WO  acknowledge: value cleared from interrupt status
 *   0x80 RW  DMA source, 0x88 destination, 0x90 count,
 *   0x98 RW  DMA command: bit 0 start (clears when done), bit 1 direction
 *            (0 RAM -> device, 1 device -> RAM), bit 2 raise irq 0x100 at end
 *   0x40000  the device's 4 KiB DMA buffer, in DMA address space
 *
 * Registers below 0x80 take 32-bit accesses only; everything here uses
 * 32-bit accesses (addresses stay below 4 GiB), which also keeps each
 * trapped access one pread/pwrite on the host.
 *
 * The interrupt is MSI when enabled, else INTx (level, until acknowledged).
 */
#include "guest.h"

#define EDU_ID	       0x00
#define EDU_LIVE       0x04
#define EDU_FACT       0x08
#define EDU_STATUS     0x20
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE  0x60
#define EDU_IRQ_ACK    0x64
#define EDU_DMA_SRC    0x80
#define EDU_DMA_DST    0x88
#define EDU_DMA_CNT    0x90
#define EDU_DMA_CMD    0x98

#define EDU_ID_QEMU72	     0x010000edu
#define EDU_STATUS_COMPUTING 0x01
#define EDU_DMA_RUN	     0x1
#define EDU_DMA_TO_RAM	     0x2
#define EDU_DMA_IRQ	     0x4
#define EDU_IRQ_DMA	     0x100
#define EDU_DMA_BUF	     0x40000
/* QEMU 7.2 aborts on a transfer that ends exactly at the buffer's end
 * (off-by-one in its range check): stay well inside the 4 KiB. */
#define EDU_DMA_LEN 2048

#define PCI_STATUS_REG 0x06
#define PCI_STATUS_IRQ 0x0008

/* The device under test: edu_test() runs once per edu function, one
 * after the other.  The first keeps the plain name "edu" (the scenarios
 * match on it); others are named by address and take their own vectors
 * (GUEST_VEC_EDU_MSI/INTX + 2 per device), so interrupts are never
 * confused between them. */
static uint64_t bar0;
static char en[24] = "edu";
static uint8_t vec_msi = GUEST_VEC_EDU_MSI, vec_intx = GUEST_VEC_EDU_INTX;
static unsigned edu_count;
static volatile uint32_t last_irq_status;
static volatile uint64_t acks;

static uint32_t edu_rd(unsigned off)
{
	return mmio_read32(bar0 + off);
}

static void edu_wr(unsigned off, uint32_t v)
{
	mmio_write32(bar0 + off, v);
}

/* Both vectors: read what the device says, acknowledge exactly that, so
 * INTx drops before the EOI that irq.c sends after we return. */
static void edu_irq(struct irq_frame *fr, void *arg)
{
	uint32_t st = edu_rd(EDU_IRQ_STATUS);

	(void)fr;
	(void)arg;
	last_irq_status = st;
	if (st)
		edu_wr(EDU_IRQ_ACK, st);
	acks++;
}

static uint64_t us_since(uint64_t tsc0)
{
	uint64_t per = tsc_per_us();

	return per ? (rdtsc() - tsc0) / per : 0;
}

static void edu_basic(void)
{
	uint32_t id = edu_rd(EDU_ID), fact;
	bool done;

	printf("%s: ID register 0x%08x\n", en, id);
	guest_checkf(id == EDU_ID_QEMU72, "%s: ID register reads 0x%08x (want 0x010000ed)", en, id);

	edu_wr(EDU_LIVE, 0x12345678);
	guest_checkf(edu_rd(EDU_LIVE) == ~0x12345678u, "%s: liveness register inverts 0x12345678", en);
	edu_wr(EDU_LIVE, 0);
	guest_checkf(edu_rd(EDU_LIVE) == 0xffffffffu, "%s: liveness register inverts 0", en);

	edu_wr(EDU_FACT, 10);
	done = wait_mmio32(bar0 + EDU_STATUS, EDU_STATUS_COMPUTING, 0, 2000000);
	fact = edu_rd(EDU_FACT);
	printf("%s: 10! = %u\n", en, fact);
	guest_checkf(done && fact == 3628800, "%s: factorial 10! = %u (want 3628800)", en, fact);
}

/* N reads of the ID register: the figure for fast path vs trapped BARs.
 * Done in ten rounds: the whole time, and the fastest round times ten,
 * which leaves out rounds slowed by the host (nested, the CPUs shared). */
#define EDU_BENCH_ROUNDS 10

static void edu_bench(uint64_t n)
{
	uint64_t t0, us, best = ~0ull, bad = 0, done = 0;

	t0 = rdtsc();
	for (unsigned r = 0; r < EDU_BENCH_ROUNDS; r++) {
		uint64_t m = r == EDU_BENCH_ROUNDS - 1 ? n - done : n / EDU_BENCH_ROUNDS;
		uint64_t t1 = rdtsc(), rus;

		for (uint64_t i = 0; i < m; i++)
			if (edu_rd(EDU_ID) != EDU_ID_QEMU72)
				bad++;
		rus = us_since(t1);
		done += m;
		if (m == n / EDU_BENCH_ROUNDS && rus < best)
			best = rus;
	}
	us = us_since(t0);
	printf("%s: bench: %lu BAR0 reads in %lu us (%lu ns per read)\n", en, n, us,
	       n ? us * 1000 / n : 0);
	if (n >= EDU_BENCH_ROUNDS)
		printf("%s: bench-best: %lu reads in %lu us (fastest of %u rounds of %lu, times "
		       "%u)\n", en,
		       n, best * EDU_BENCH_ROUNDS, EDU_BENCH_ROUNDS, n / EDU_BENCH_ROUNDS,
		       EDU_BENCH_ROUNDS);
	guest_checkf(bad == 0, "%s: bench: %lu BAR0 reads all returned the ID", en, n);
}

/* One DMA transfer; wait for the command's run bit (and the interrupt
 * when one was asked for).  Each takes about 100 ms of edu's timer. */
static bool edu_dma(uint32_t src, uint32_t dst, uint32_t cmd, uint8_t vec)
{
	uint64_t before = irq_count(vec);
	bool ok;

	edu_wr(EDU_DMA_SRC, src);
	edu_wr(EDU_DMA_SRC + 4, 0);
	edu_wr(EDU_DMA_DST, dst);
	edu_wr(EDU_DMA_DST + 4, 0);
	edu_wr(EDU_DMA_CNT, EDU_DMA_LEN);
	edu_wr(EDU_DMA_CNT + 4, 0);
	edu_wr(EDU_DMA_CMD, cmd | EDU_DMA_RUN);
	ok = wait_mmio32(bar0 + EDU_DMA_CMD, EDU_DMA_RUN, 0, 3000000);
	if (ok && (cmd & EDU_DMA_IRQ))
		ok = irq_wait_count(vec, before + 1, 2000000);
	return ok;
}

static void edu_msi(struct pci_func *f)
{
	uint8_t *src, *dst;
	uint64_t c0;
	bool ok;

	irq_set_handler(vec_msi, edu_irq, NULL);
	pci_set_bus_master(f, true); /* MSI writes are bus-master cycles */
	if (!guest_checkf(pci_msi_enable(f, vec_msi) == 0, "%s: MSI capability enabled", en))
		return;

	c0 = irq_count(vec_msi);
	edu_wr(EDU_IRQ_RAISE, 0x1);
	ok = irq_wait_count(vec_msi, c0 + 1, 1000000);
	guest_checkf(ok && last_irq_status == 0x1,
		     "%s: MSI taken on vector 0x%x after raising irq 0x1 (status 0x%x)", en,
		     vec_msi, last_irq_status);
	guest_checkf(edu_rd(EDU_IRQ_STATUS) == 0, "%s: interrupt status clear after acknowledge", en);

	/* DMA round trip: guest RAM -> device buffer -> other guest RAM,
	 * the device using guest physical addresses (IOVA = GPA). */
	src = page_alloc(1);
	dst = page_alloc(1);
	if (!guest_checkf(src && dst, "%s: DMA pages allocated", en))
		return;
	for (unsigned i = 0; i < EDU_DMA_LEN; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	memset(dst, 0, EDU_DMA_LEN);
	c0 = irq_count(vec_msi);
	ok = edu_dma((uint32_t)virt_to_phys(src), EDU_DMA_BUF, EDU_DMA_IRQ, vec_msi);
	guest_checkf(ok, "%s: DMA %u bytes guest RAM 0x%lx -> device done, MSI taken", en, EDU_DMA_LEN,
		     virt_to_phys(src));
	ok = edu_dma(EDU_DMA_BUF, (uint32_t)virt_to_phys(dst), EDU_DMA_TO_RAM | EDU_DMA_IRQ,
		     vec_msi);
	guest_checkf(ok, "%s: DMA %u bytes device -> guest RAM 0x%lx done, MSI taken", en, EDU_DMA_LEN,
		     virt_to_phys(dst));
	guest_checkf(memcmp(src, dst, EDU_DMA_LEN) == 0, "%s: DMA round trip intact (device used guest physical addresses)", en);
	guest_checkf(irq_count(vec_msi) - c0 == 2 && last_irq_status == EDU_IRQ_DMA,
		     "%s: two DMA completion MSIs (status 0x%x)", en, last_irq_status);
	page_free(src, 1);
	page_free(dst, 1);
	pci_msi_disable(f);
}

static uint16_t cfg_status(struct pci_func *f)
{
	return pci_read16(f, PCI_STATUS_REG);
}

static void edu_intx(struct pci_func *f)
{
	int pin = pci_intx_ioapic_pin(f);
	unsigned line = pin < 0 ? 0 : (unsigned)pin, rounds = 4, taken = 0;
	uint64_t ticks0, tsc0, msi0, c0, elapsed_us, expect;
	uint16_t st;

	/* Under kvmini, Interrupt Line holds the IOAPIC input; under QEMU's
	 * q35 the chipset's routing decides (pci_intx_ioapic_pin knows both). */
	if (!guest_checkf(pin >= 16 && line < ioapic_pins(),
			  "%s: INTx pin %u routed to IOAPIC line %d (Interrupt Line %u)", en,
			  f->irq_pin, pin, f->irq_line))
		return;
	irq_set_handler(vec_intx, edu_irq, NULL);
	/* MSI off, INTx on: the device falls back to its pin (PCI 3.0 6.8.1.3). */
	pci_msi_disable(f);
	pci_intx_disable(f, false);
	ioapic_route(line, vec_intx, IOAPIC_LEVEL | IOAPIC_MASKED);

	ticks0 = timer_ticks();
	tsc0 = rdtsc();
	msi0 = irq_count(vec_msi);

	/* With the IOAPIC pin masked, the asserted line shows only in the
	 * device's Status register, which kvmini reads live from the device. */
	edu_wr(EDU_IRQ_RAISE, 0x2);
	udelay(1000);
	st = cfg_status(f);
	guest_checkf(st & PCI_STATUS_IRQ,
		     "%s: Status.Interrupt set while INTx is asserted (Status 0x%04x)", en, st);
	c0 = irq_count(vec_intx);
	ioapic_mask(line, false);
	if (irq_wait_count(vec_intx, c0 + 1, 1000000))
		taken++;
	guest_checkf(taken == 1 && last_irq_status == 0x2,
		     "%s: INTx taken on line %u, vector 0x%x, on unmask (status 0x%x)", en, line,
		     vec_intx, last_irq_status);
	st = cfg_status(f);
	guest_checkf(!(st & PCI_STATUS_IRQ),
		     "%s: Status.Interrupt clear after acknowledge (Status 0x%04x)", en, st);

	/* Again: each one needs the level to be resampled at EOI and VFIO
	 * to unmask the host line, or only the first would arrive. */
	for (unsigned i = 1; i < rounds; i++) {
		c0 = irq_count(vec_intx);
		edu_wr(EDU_IRQ_RAISE, 0x4);
		if (irq_wait_count(vec_intx, c0 + 1, 1000000))
			taken++;
	}
	guest_checkf(taken == rounds, "%s: %u of %u INTx interrupts taken (EOI unmasks)", en, taken,
		     rounds);
	guest_checkf(irq_count(vec_msi) == msi0, "%s: no MSI while MSI is off", en);

	/* If the device's line were wired to the timer's input, the tick
	 * count would jump by the INTx interrupts. */
	elapsed_us = us_since(tsc0);
	expect = elapsed_us / (1000000 / TIMER_HZ);
	guest_checkf(timer_ticks() - ticks0 <= expect + 2,
		     "%s: timer ticks did not jump during INTx (%lu ticks in %lu us)", en,
		     timer_ticks() - ticks0, elapsed_us);
	ioapic_mask(line, true);
	pci_intx_disable(f, true);
}

/* edu has no reset (no FLR, no PM): a run stopped in the middle (kvmini
 * killed by a signal) leaves it as it was, a DMA perhaps still running and
 * its interrupt status set.  Start from a known state, as a driver does at
 * probe: let a transfer finish, acknowledge what is pending. */
static void edu_quiesce(void)
{
	uint32_t st;

	if (!wait_mmio32(bar0 + EDU_DMA_CMD, EDU_DMA_RUN, 0, 3000000))
		printf("%s: a DMA transfer is still running\n", en);
	st = edu_rd(EDU_IRQ_STATUS);
	if (st) {
		printf("%s: stale interrupt status 0x%x from an earlier run, acknowledged\n", en, st);
		edu_wr(EDU_IRQ_ACK, st);
	}
}

static void edu_hostile(struct pci_func *f);

void edu_test(struct pci_func *f)
{
	uint64_t n;

	/* A second edu: its own name and vectors (see above). */
	if (edu_count) {
		snprintf(en, sizeof(en), "edu %02x:%02x.%x", f->bus, f->dev, f->fn);
		vec_msi = (uint8_t)(GUEST_VEC_EDU_MSI + 2 * edu_count);
		vec_intx = (uint8_t)(GUEST_VEC_EDU_INTX + 2 * edu_count);
	}
	edu_count++;
	printf("%s: testing %02x:%02x.%x\n", en, f->bus, f->dev, f->fn);
	bar0 = (uint64_t)(uintptr_t)pci_bar_ptr(f, 0);
	if (!guest_checkf(bar0 && f->bar[0].size >= 0x100000,
			  "%s: BAR0 is memory of at least 1 MiB (at 0x%lx)", en, bar0))
		return;
	edu_quiesce();
	n = cmdline_u64("edu_bench", 0);
	/* edu_bench_only: the bench and nothing that polls the device (the
	 * factorial, DMA and interrupt waits poll a varying number of times),
	 * so the host's exit counts differ between runs by the N reads alone. */
	if (cmdline_has("edu_bench_only")) {
		if (n)
			edu_bench(n);
		return;
	}
	edu_basic();
	if (n)
		edu_bench(n);
	edu_msi(f);
	edu_intx(f);
	if (cmdline_has("hostile") && report_is_kvmini())
		edu_hostile(f);
	printf("%s: %lu interrupts acknowledged\n", en, (uint64_t)acks);
	/* edu_hold=S keeps the device busy S seconds more: the host's tests
	 * start a second kvmini on it, or stop this one with SIGTERM.  With
	 * edu_hold_dma it runs DMA transfers (device -> guest RAM) back to
	 * back meanwhile, so a signal or the host's request for the device
	 * lands in the middle of one. */
	n = cmdline_u64("edu_hold", 0);
	if (n && cmdline_has("edu_hold_dma")) {
		uint8_t *buf = page_alloc(1);
		uint64_t t0 = rdtsc(), k = 0;

		pci_set_bus_master(f, true);
		printf("%s: holding the device for %lu s, DMA running\n", en, n);
		while (buf && us_since(t0) < n * 1000000 &&
		       edu_dma(EDU_DMA_BUF, (uint32_t)virt_to_phys(buf), EDU_DMA_TO_RAM, 0))
			k++;
		printf("%s: %lu DMA transfers while holding\n", en, k);
	} else if (n) {
		printf("%s: holding the device for %lu s\n", en, n);
		mdelay(n * 1000);
	}
}

/* --cmdline hostile: DMA from and to guest-physical addresses that are not
 * RAM.  kvmini maps only guest RAM in the IOMMU (IOVA = GPA), so the
 * host's IOMMU must block both: the device sees a fault (QEMU's edu
 * ignores it and completes), guest RAM and kvmini are untouched.  The
 * device side stays inside edu's buffer: QEMU 7.2's edu stops the whole
 * machine on a device-side range error (hw_error), which is not ours to
 * test.  Then the normal checks run again on the same device. */
static void edu_hostile(struct pci_func *f)
{
	static const uint32_t outside[2] = {0x80000000u, PCI_MMIO32_BASE - 0x10000u};
	uint8_t *canary = page_alloc(1);
	bool done = true, intact = true;

	if (!canary)
		return;
	memset(canary, 0x3c, EDU_DMA_LEN);
	for (unsigned i = 0; i < 2; i++) {
		done = edu_dma(outside[i], EDU_DMA_BUF, 0, 0) && done;
		done = edu_dma(EDU_DMA_BUF, outside[i], EDU_DMA_TO_RAM, 0) && done;
	}
	for (unsigned i = 0; i < EDU_DMA_LEN; i++)
		intact = intact && canary[i] == 0x3c;
	page_free(canary, 1);
	guest_checkf(done && intact,
		     "hostile: edu: DMA from and to 0x%x and 0x%x (not RAM, not in the IOMMU): "
		     "transfers end, guest RAM untouched; normal checks follow",
		     outside[0], outside[1]);
	edu_quiesce();
	edu_basic();
	edu_msi(f);
}

/* Any other assigned device: what can be said without knowing it.  main.c
 * calls this for the function in kvmini's vfio slot when it is not edu. */
void vfio_other_test(struct pci_func *f)
{
	printf("vfio: %02x:%02x.%x %04x:%04x, no driver in the tiny guest\n", f->bus, f->dev, f->fn,
	       f->vendor, f->device);
	for (unsigned i = 0; i < 6; i++) {
		const struct pci_bar_info *b = &f->bar[i];

		if (b->type == PCI_BAR_NONE || !b->addr)
			continue;
		if (b->type == PCI_BAR_IO) {
			printf("vfio: BAR%u I/O 0x%lx: first dword 0x%08x\n", i, b->addr,
			       inl((uint16_t)b->addr));
		} else {
			printf("vfio: BAR%u memory 0x%lx: first dword 0x%08x\n", i, b->addr,
			       mmio_read32(b->addr));
		}
		guest_checkf(true, "vfio: BAR%u of %04x:%04x read", i, f->vendor, f->device);
	}
}

/* For smp.c: raise the interrupt of edu function f (any of them, not only
 * the last one tested) with status bits; the handler set on vector reads
 * and acknowledges f's status on whichever CPU takes it. */
static uint64_t raised_bar0;

static void edu_raised_irq(struct irq_frame *fr, void *arg)
{
	uint32_t st = mmio_read32(raised_bar0 + EDU_IRQ_STATUS);

	(void)fr;
	(void)arg;
	if (st)
		mmio_write32(raised_bar0 + EDU_IRQ_ACK, st);
}

bool edu_raise_irq(const struct pci_func *f, uint8_t vector, uint32_t bits)
{
	uint8_t *b = pci_bar_ptr(f, 0);

	if (!b || f->bar[0].size < 0x100000)
		return false;
	raised_bar0 = (uint64_t)(uintptr_t)b;
	irq_set_handler(vector, edu_raised_irq, NULL);
	mmio_write32(raised_bar0 + EDU_IRQ_RAISE, bits);
	return true;
}
