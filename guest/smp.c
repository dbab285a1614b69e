// SPDX-License-Identifier: MIT
/*
 * smp.c - several CPUs: find them in the ACPI MADT, start every AP
 * (application processor) with INIT-SIPI-SIPI, and check what a
 * multiprocessor guest relies on, one report line each:
 *
 *   1. every AP starts and reports the APIC ID the MADT gives it;
 *   2. every AP takes interrupts from its own LAPIC timer;
 *   3. every AP receives an IPI from the BSP and answers it with one;
 *   4. all CPUs increment one counter under a spinlock, and no update is
 *      lost (ncpus x smp_count increments, the total exact);
 *   5. (smp_device_checks, after the device tests) virtio-net's rx MSI-X
 *      entry and edu's MSI, aimed at an AP's APIC ID, are taken on that AP
 *      and nowhere else.
 *
 * With one CPU in the MADT nothing is checked and nothing is started: the
 * guest only prints what it found, so a one-CPU run costs a table walk.
 *
 * Who talks: only the BSP prints and reports.  APs write their findings
 * into their struct cpu and wake the BSP with an IPI; a CPU exception on
 * an AP is recorded there too (smp_ap_exception) and stops that AP.
 *
 * Waiting: every wait is bounded by the TSC (calibrated against the PIT by
 * timer_start()), and every waiter sleeps in hlt, never spins: on a nested
 * host all vCPUs may share one physical CPU, where a spinning waiter takes
 * the time the CPU it waits for needs.  The BSP wakes at least with every
 * PIT tick; an AP is woken by the IPI that posts its work.
 *
 * Start-up (SDM vol. 3, 9.4.4.1, "typical AP initialisation"): the
 * real-mode trampoline from boot/entry.asm goes to SMP_TRAMPOLINE (a page
 * include/memmap.h reserves below 1 MiB), each AP gets a stack in
 * ap_stacks[] by APIC ID, then INIT to every AP, 10 ms, a Startup IPI,
 * 200 us, a second one (a CPU that already left wait-for-SIPI ignores it).
 * The AP goes real -> protected -> long mode on the BSP's page tables and
 * calls ap_main(apic_id).
 *
 * Command line: smp_count=N (increments per CPU, default 100000),
 * smp_timeout=MS (bound of each wait for the APs, default 5000),
 * smp_nolock (the increments without the lock: check 4 must then fail,
 * which shows that it can), nosmp (leave the APs waiting for their SIPI,
 * as a one-CPU guest would: for tests of the host's side alone).
 */
#include "guest.h"

#define AP_STACK_PAGES 4

/* ICR low word (SDM vol. 3, 11.6.1). */
#define ICR_FIXED 0x000u
#define ICR_INIT 0x500u
#define ICR_STARTUP 0x600u
#define ICR_ASSERT 0x4000u

/* LAPIC timer registers (SDM vol. 3, 11.5.4). */
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3e0
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)
#define TIMER_DIV_16 0x3
#define TIMER_COUNT 100000 /* 1.6 ms at KVM's and QEMU's 1 GHz APIC clock */
#define TIMER_WANT 3	   /* interrupts each AP must see */

struct cpu {
	uint32_t apic_id; /* from the MADT */
	void *stack;
	/* Written by the AP, read by the BSP. */
	volatile uint32_t started;
	volatile uint32_t apic_id_seen; /* its own LAPIC ID register */
	volatile uint32_t timer_done;
	volatile uint32_t work_done; /* the last work_seq it finished */
	volatile uint32_t faulted;
	volatile uint64_t fault_vector, fault_error, fault_rip;
};

static struct cpu cpus[GUEST_MAX_CPUS];
static unsigned ncpus = 1; /* CPUs we run: the BSP first, then the APs */
static unsigned nup = 1;   /* of those, running (the BSP and started APs) */
static uint32_t bsp_apic;

/* Stack tops by APIC ID, for the AP's first instructions in long mode
 * (boot/entry.asm, ap_long_entry). */
uint64_t ap_stacks[256];

extern const uint8_t ap_tramp[], ap_tramp_end[], ap_tramp_phys[]; /* boot/entry.asm */
void ap_main(uint32_t apic_id);

unsigned smp_cpu_count(void) { return ncpus; }

/* ---- ACPI: the RSDP, the XSDT or RSDT, the MADT ---------------------------
 * ACPI 6.4: 5.2.5 (RSDP), 5.2.7-8 (RSDT/XSDT), 5.2.12 (MADT).  Whatever
 * the tables say is checked before use: lengths bounded, checksums right,
 * every address inside what the guest maps. */
static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static bool sum_ok(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s == 0;
}

static const uint8_t *rsdp_at(uint64_t a)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)a;

	if (!a || a > GUEST_MAPPED_TOP - 36 || memcmp(p, "RSD PTR ", 8) || !sum_ok(p, 20))
		return NULL;
	/* Revision 2 and later: a 36-byte structure with its own checksum. */
	if (p[15] >= 2 && (rd32(p + 20) < 36 || rd32(p + 20) > 4096 || !sum_ok(p, 36)))
		return NULL;
	return p;
}

static const uint8_t *rsdp_find(void)
{
	const uint8_t *p = rsdp_at(mem_rsdp());

	/* Not given (kvmini's PVH start info leaves it 0): search the BIOS
	 * area, on 16-byte boundaries, where kvmini (ACPI_BASE) and SeaBIOS
	 * both put it. */
	for (uint64_t a = 0xe0000; !p && a < 0x100000; a += 16)
		p = rsdp_at(a);
	return p;
}

static const uint8_t *table_at(uint64_t a, const char *sig)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)a;

	if (!a || a > GUEST_MAPPED_TOP - 0x10000 || memcmp(p, sig, 4))
		return NULL;
	uint32_t len = rd32(p + 4);
	return len >= 36 && len <= 0x10000 && sum_ok(p, len) ? p : NULL;
}

static const uint8_t *acpi_find(const char *sig)
{
	const uint8_t *rsdp = rsdp_find(), *root;
	unsigned esz;

	if (!rsdp)
		return NULL;
	if (rsdp[15] >= 2 && rd64(rsdp + 24)) {
		root = table_at(rd64(rsdp + 24), "XSDT");
		esz = 8;
	} else {
		root = table_at(rd32(rsdp + 16), "RSDT");
		esz = 4;
	}
	if (!root)
		return NULL;
	for (uint32_t off = 36; off + esz <= rd32(root + 4); off += esz) {
		const uint8_t *t = table_at(esz == 8 ? rd64(root + off) : rd32(root + off), sig);

		if (t)
			return t;
	}
	return NULL;
}

/* Every enabled processor in the MADT: Processor Local APIC entries (type
 * 0) and Processor Local x2APIC entries (type 9).  The BSP is whichever
 * one we run on; an xAPIC guest cannot address IDs above 254, so those
 * are counted but not started. */
static void madt_read(void)
{
	const uint8_t *m = acpi_find("APIC");
	unsigned listed = 0, skipped = 0;
	bool bsp_listed = false, bad = false;
	char ids[GUEST_MAX_CPUS * 4 + 16];
	size_t n = 0;

	bsp_apic = lapic_id();
	cpus[0].apic_id = bsp_apic;
	if (!m) {
		printf("smp: no ACPI MADT found: running on the BSP only\n");
		return;
	}
	uint32_t len = rd32(m + 4);

	ids[0] = '\0';
	for (uint32_t off = 44, l; off + 2 <= len; off += l) {
		uint8_t type = m[off];
		uint32_t id, flags;

		l = m[off + 1];
		if (l < 2 || off + l > len) {
			bad = true;
			break;
		}
		if (type == 0 && l >= 8)
			id = m[off + 3], flags = rd32(m + off + 4);
		else if (type == 9 && l >= 16)
			id = rd32(m + off + 4), flags = rd32(m + off + 8);
		else
			continue;
		if (!(flags & 1)) /* not enabled (online-capable: hot-plug) */
			continue;
		listed++;
		if (n < sizeof(ids) - 12)
			n += (size_t)snprintf(ids + n, sizeof(ids) - n, " %u", id);
		if (id == bsp_apic) {
			bsp_listed = true;
			continue;
		}
		bool dup = false;
		for (unsigned i = 0; i < ncpus; i++)
			dup |= cpus[i].apic_id == id;
		if (dup || id > 254 || ncpus == GUEST_MAX_CPUS) {
			skipped++;
			continue;
		}
		cpus[ncpus++].apic_id = id;
	}
	printf("smp: %u CPU%s in the MADT (APIC ID%s%s)%s%s", listed, listed == 1 ? "" : "s",
	       listed == 1 ? "" : "s", ids, bsp_listed ? "" : ", the BSP not among them",
	       bad ? ", a malformed entry ended the list" : "");
	if (skipped)
		printf(", %u not started (duplicate, above 254 or beyond %u)", skipped, GUEST_MAX_CPUS);
	if (ncpus > 1)
		printf("; starting %u AP%s\n", ncpus - 1, ncpus == 2 ? "" : "s");
	else
		printf(": no APs to start\n");
}

/* ---- waiting ------------------------------------------------------------ */
/* Sleep until cond(arg) holds or us microseconds pass.  cli, test, sti;hlt:
 * a wake-up between the test and the hlt still ends the hlt. */
static bool wait_until(bool (*cond)(uintptr_t), uintptr_t arg, uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_per_us();

	for (;;) {
		irq_disable();
		if (cond(arg)) {
			irq_enable();
			return true;
		}
		if ((int64_t)(rdtsc() - end) >= 0) {
			irq_enable();
			return false;
		}
		irq_wait();
	}
}

static uint64_t timeout_us(void) { return cmdline_u64("smp_timeout", 5000) * 1000; }

static bool all_started(uintptr_t a)
{
	(void)a;
	for (unsigned i = 1; i < ncpus; i++)
		if (!cpus[i].started)
			return false;
	return true;
}

static bool all_timers_done(uintptr_t a)
{
	(void)a;
	for (unsigned i = 1; i < ncpus; i++)
		if (cpus[i].started && !cpus[i].timer_done && !cpus[i].faulted)
			return false;
	return true;
}

static void noop_irq(struct irq_frame *f, void *arg)
{
	(void)f;
	(void)arg;
}

static void wake_bsp(void) { lapic_send_ipi(bsp_apic, ICR_FIXED | GUEST_VEC_WAKE); }

/* ---- work the BSP posts to every AP --------------------------------------
 * One piece at a time: work_fn, then work_seq bumped, then a wake-up IPI
 * to each AP; each AP runs it, stores work_seq in work_done, wakes the BSP. */
static void (*volatile work_fn)(unsigned cpu);
static volatile uint32_t work_seq;

static bool work_all_done(uintptr_t seq)
{
	for (unsigned i = 1; i < ncpus; i++)
		if (cpus[i].started && !cpus[i].faulted && cpus[i].work_done != seq)
			return false;
	return true;
}

static bool run_everywhere(void (*fn)(unsigned cpu))
{
	work_fn = fn;
	uint32_t seq = __atomic_add_fetch(&work_seq, 1, __ATOMIC_RELEASE);

	for (unsigned i = 1; i < ncpus; i++)
		if (cpus[i].started)
			lapic_send_ipi(cpus[i].apic_id, ICR_FIXED | GUEST_VEC_WAKE);
	fn(0);
	return wait_until(work_all_done, seq, timeout_us());
}

/* ---- the AP's side -------------------------------------------------------- */
static bool timer_seen(uintptr_t cpu) { return irq_count_on((unsigned)cpu, GUEST_VEC_LAPIC_TIMER) >= TIMER_WANT; }

/* Its own LAPIC timer, periodic, until TIMER_WANT interrupts (bounded). */
static void ap_timer(unsigned me)
{
	lapic_write_reg(LAPIC_TIMER_DIV, TIMER_DIV_16);
	lapic_write_reg(LAPIC_LVT_TIMER, GUEST_VEC_LAPIC_TIMER | LVT_PERIODIC);
	lapic_write_reg(LAPIC_TIMER_INIT, TIMER_COUNT);
	wait_until(timer_seen, me, 1000000);
	lapic_write_reg(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write_reg(LAPIC_TIMER_INIT, 0);
}

void ap_main(uint32_t apic_id)
{
	unsigned me = 0;

	for (unsigned i = 1; i < ncpus && !me; i++)
		if (cpus[i].apic_id == apic_id)
			me = i;
	if (!me) /* not one we started: entry.asm found a stack, so it cannot be */
		for (;;)
			__asm__ volatile("cli; hlt");
	struct cpu *c = &cpus[me];

	irq_init_ap(me);
	c->apic_id_seen = lapic_id();
	__atomic_store_n(&c->started, 1, __ATOMIC_RELEASE);
	wake_bsp();

	ap_timer(me);
	__atomic_store_n(&c->timer_done, 1, __ATOMIC_RELEASE);
	wake_bsp();

	/* Idle until work is posted; interrupts (IPIs, MSIs) are taken here. */
	uint32_t done = 0;
	for (;;) {
		irq_disable();
		uint32_t seq = __atomic_load_n(&work_seq, __ATOMIC_ACQUIRE);

		if (seq == done) {
			irq_wait();
			continue;
		}
		irq_enable();
		work_fn(me);
		done = seq;
		__atomic_store_n(&c->work_done, seq, __ATOMIC_RELEASE);
		wake_bsp();
	}
}

void smp_ap_exception(uint64_t vector, uint64_t error, uint64_t rip)
{
	struct cpu *c = &cpus[cpu_index() < GUEST_MAX_CPUS ? cpu_index() : 0];

	c->fault_vector = vector;
	c->fault_error = error;
	c->fault_rip = rip;
	__atomic_store_n(&c->faulted, 1, __ATOMIC_RELEASE);
	wake_bsp();
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* ---- start-up ------------------------------------------------------------- */
static bool tramp_page_ok(const char **why)
{
	uint64_t lo = SMP_TRAMPOLINE, hi = SMP_TRAMPOLINE + SMP_TRAMPOLINE_SIZE;
	bool in_ram = false;

	if ((uintptr_t)ap_tramp_phys != SMP_TRAMPOLINE || ap_tramp_end - ap_tramp > (long)SMP_TRAMPOLINE_SIZE) {
		*why = "boot/memmap.inc and include/memmap.h disagree on SMP_TRAMPOLINE";
		return false;
	}
	for (unsigned i = 0; i < mem_region_count(); i++) {
		const struct mem_region *r = mem_region_at(i);

		if (r->type == MEM_RAM && r->addr <= lo && r->addr + r->size >= hi)
			in_ram = true;
	}
	if (!in_ram || hi > mem_image_start()) {
		*why = "the trampoline page is not free RAM below the image";
		return false;
	}
	return true;
}

static void start_aps(void)
{
	uint64_t t0 = rdtsc();
	const char *why = NULL;

	if (!tramp_page_ok(&why)) {
		guest_checkf(false, "smp: AP trampoline at %#lx (%s)", SMP_TRAMPOLINE, why);
		return;
	}
	memcpy((void *)SMP_TRAMPOLINE, ap_tramp, (size_t)(ap_tramp_end - ap_tramp));
	for (unsigned i = 1; i < ncpus; i++) {
		cpus[i].stack = page_alloc(AP_STACK_PAGES);
		if (!cpus[i].stack)
			guest_panic("smp: no memory for AP stacks");
		ap_stacks[cpus[i].apic_id] = (uint64_t)(uintptr_t)cpus[i].stack + AP_STACK_PAGES * PAGE_SIZE;
	}
	/* The stacks and the trampoline are in memory before any AP looks. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	for (unsigned i = 1; i < ncpus; i++)
		lapic_send_ipi(cpus[i].apic_id, ICR_INIT | ICR_ASSERT);
	mdelay(10);
	for (unsigned sipi = 0; sipi < 2; sipi++) {
		for (unsigned i = 1; i < ncpus; i++)
			if (!cpus[i].started)
				lapic_send_ipi(cpus[i].apic_id,
					       ICR_STARTUP | ICR_ASSERT | (SMP_TRAMPOLINE >> 12));
		if (!sipi)
			udelay(200);
	}
	wait_until(all_started, 0, timeout_us());
	for (unsigned i = 1; i < ncpus; i++)
		nup += cpus[i].started;
	printf("smp: %u of %u APs running after %lu us\n", nup - 1, ncpus - 1,
	       (rdtsc() - t0) / tsc_per_us());
}

/* ---- the checks ------------------------------------------------------------ */
/* "1 2 3" or "1 2 (3: not started)": the APs and what went wrong. */
static void ap_list(char *buf, size_t size, bool (*good)(unsigned), unsigned *ngood)
{
	size_t n = 0;

	*ngood = 0;
	buf[0] = '\0';
	for (unsigned i = 1; i < ncpus && n + 40 < size; i++) {
		struct cpu *c = &cpus[i];
		bool g = good(i);

		*ngood += g;
		if (g)
			n += (size_t)snprintf(buf + n, size - n, " %u", c->apic_id);
		else if (c->faulted)
			n += (size_t)snprintf(buf + n, size - n, " (%u: exception %lu at %#lx)",
					      c->apic_id, c->fault_vector, c->fault_rip);
		else if (!c->started)
			n += (size_t)snprintf(buf + n, size - n, " (%u: not started)", c->apic_id);
		else
			n += (size_t)snprintf(buf + n, size - n, " (%u: no)", c->apic_id);
	}
}

static bool id_ok(unsigned i)
{
	return cpus[i].started && !cpus[i].faulted && cpus[i].apic_id_seen == cpus[i].apic_id;
}

static bool timer_ok(unsigned i)
{
	return id_ok(i) && irq_count_on(i, GUEST_VEC_LAPIC_TIMER) >= TIMER_WANT;
}

/* IPI and answer: the AP's handler answers the BSP at once. */
static volatile uint32_t answered_by;
static bool ipi_answered[GUEST_MAX_CPUS];

static void on_ipi(struct irq_frame *f, void *arg)
{
	(void)f;
	(void)arg;
	answered_by = cpu_index();
	lapic_send_ipi(bsp_apic, ICR_FIXED | GUEST_VEC_IPI_REPLY);
}

static bool reply_count_above(uintptr_t n) { return irq_count_on(0, GUEST_VEC_IPI_REPLY) > n; }

static bool ipi_ok(unsigned i) { return id_ok(i) && ipi_answered[i]; }

static void check_ipis(void)
{
	char list[GUEST_MAX_CPUS * 40];
	unsigned good;

	for (unsigned i = 1; i < ncpus; i++) {
		if (!id_ok(i))
			continue;
		uint64_t before = irq_count_on(0, GUEST_VEC_IPI_REPLY);
		uint64_t got0 = irq_count_on(i, GUEST_VEC_IPI);

		answered_by = 0;
		lapic_send_ipi(cpus[i].apic_id, ICR_FIXED | GUEST_VEC_IPI);
		ipi_answered[i] = wait_until(reply_count_above, before, timeout_us()) &&
				  answered_by == i && irq_count_on(i, GUEST_VEC_IPI) == got0 + 1;
	}
	ap_list(list, sizeof(list), ipi_ok, &good);
	guest_checkf(good == ncpus - 1 && irq_count_on(0, GUEST_VEC_IPI) == 0,
		     "smp: each AP received an IPI and answered the BSP with one (%u of %u:%s)",
		     good, ncpus - 1, list);
}

/* The shared counter: a test-and-set spinlock around a plain (not atomic)
 * read-modify-write, so a lock that does not exclude loses updates. */
static volatile uint32_t count_lock;
static volatile uint64_t counter;
static volatile uint64_t count_contended;
static volatile uint32_t count_arrived;
static uint64_t count_each, count_deadline;
static bool count_nolock;
static volatile bool count_timed_out;

static bool count_lock_take(void)
{
	unsigned spins = 0;

	while (__atomic_exchange_n(&count_lock, 1, __ATOMIC_ACQUIRE)) {
		spins++;
		while (count_lock) {
			if ((int64_t)(rdtsc() - count_deadline) >= 0)
				return false;
			cpu_relax();
		}
	}
	if (spins)
		__atomic_fetch_add(&count_contended, 1, __ATOMIC_RELAXED);
	return true;
}

static void count_work(unsigned cpu)
{
	(void)cpu;
	/* Start together, or the CPUs may take turns and never contend: a
	 * short spin, as every CPU is awake by now (bounded all the same). */
	__atomic_fetch_add(&count_arrived, 1, __ATOMIC_ACQ_REL);
	while (count_arrived < nup && (int64_t)(rdtsc() - count_deadline) < 0)
		cpu_relax();
	for (uint64_t i = 0; i < count_each; i++) {
		if (count_nolock) { /* smp_nolock: see the check fail */
			counter = counter + 1;
			continue;
		}
		if (!count_lock_take()) {
			count_timed_out = true;
			return;
		}
		counter = counter + 1;
		__atomic_store_n(&count_lock, 0, __ATOMIC_RELEASE);
	}
}

static void check_counter(void)
{
	count_each = cmdline_u64("smp_count", 100000);
	count_nolock = cmdline_has("smp_nolock");
	count_deadline = rdtsc() + timeout_us() * 4 * tsc_per_us();
	counter = 0;
	uint64_t t0 = rdtsc();
	bool done = run_everywhere(count_work);
	uint64_t us = (rdtsc() - t0) / tsc_per_us();
	uint64_t want = count_each * nup;

	printf("smp: counter: %u CPUs x %lu increments in %lu us, lock contended %lu times\n", nup,
	       count_each, us, count_contended);
	guest_checkf(done && !count_timed_out && counter == want,
		     "smp: %u CPUs x %lu locked increments of one counter: total %lu, want %lu%s", nup,
		     count_each, counter, want, done && !count_timed_out ? "" : " (timed out)");
}

void smp_init(void)
{
	char list[GUEST_MAX_CPUS * 40];
	unsigned good;

	madt_read();
	if (ncpus > 1 && cmdline_has("nosmp")) {
		printf("smp: nosmp: the APs are left waiting for a Startup IPI\n");
		ncpus = 1;
	}
	if (ncpus < 2)
		return;
	irq_set_handler(GUEST_VEC_WAKE, noop_irq, NULL);
	irq_set_handler(GUEST_VEC_LAPIC_TIMER, noop_irq, NULL);
	irq_set_handler(GUEST_VEC_IPI, on_ipi, NULL);
	irq_set_handler(GUEST_VEC_IPI_REPLY, noop_irq, NULL);
	start_aps();
	ap_list(list, sizeof(list), id_ok, &good);
	guest_checkf(good == ncpus - 1,
		     "smp: %u of %u APs started (INIT-SIPI-SIPI), each reports its MADT APIC ID:%s",
		     good, ncpus - 1, list);
	if (!good)
		return;

	wait_until(all_timers_done, 0, timeout_us());
	ap_list(list, sizeof(list), timer_ok, &good);
	guest_checkf(good == ncpus - 1 && irq_count_on(0, GUEST_VEC_LAPIC_TIMER) == 0,
		     "smp: each AP takes interrupts from its own LAPIC timer (%u of %u:%s)", good,
		     ncpus - 1, list);
	check_ipis();
	check_counter();
}

/* ---- device interrupts aimed at an AP ---------------------------------------- */
static struct {
	unsigned cpu;
	uint8_t vector;
	uint64_t before;
} aim;

static bool aim_taken(uintptr_t a)
{
	(void)a;
	return irq_count_on(aim.cpu, aim.vector) > aim.before;
}

/* The last AP that passed the start-up check, or the first: both ends. */
static unsigned pick_ap(bool last)
{
	unsigned pick = 0;

	for (unsigned i = 1; i < ncpus; i++)
		if (id_ok(i) && (last || !pick))
			pick = i;
	return pick;
}

void smp_device_checks(void)
{
	struct pci_func *f;
	unsigned entry;
	uint8_t vec;

	if (ncpus < 2)
		return;
	/* virtio-net: its rx MSI-X entry aimed at the last AP, one frame. */
	if (vnet_loopback_msix && vnet_probe_frame && (f = vnet_loopback_msix(&entry, &vec))) {
		unsigned ap = pick_ap(true);
		uint64_t bsp0 = irq_count_on(0, vec);

		aim.cpu = ap, aim.vector = vec, aim.before = irq_count_on(ap, vec);
		bool set = ap && pci_msix_set_to(f, entry, vec, cpus[ap].apic_id, false) == 0;
		bool back = set && vnet_probe_frame();
		bool taken = back && wait_until(aim_taken, 0, 1000000);
		uint64_t on_bsp = irq_count_on(0, vec) - bsp0;

		pci_msix_set(f, entry, vec, false); /* back to the BSP */
		guest_checkf(taken && !on_bsp,
			     "smp: virtio-net rx MSI-X aimed at APIC ID %u is taken there "
			     "(frame back %d, %lu there, %lu on the BSP)",
			     cpus[ap].apic_id, back, irq_count_on(ap, vec) - aim.before, on_bsp);
	}
	/* edu (the assigned device): its MSI aimed at the first AP. */
	f = pci_find(0x1234, 0x11e8);
	if (f && edu_raise_irq && pci_find_cap(f, PCI_CAP_MSI, 0)) {
		unsigned ap = pick_ap(false);
		uint64_t bsp0 = irq_count_on(0, GUEST_VEC_EDU_MSI);

		aim.cpu = ap, aim.vector = GUEST_VEC_EDU_MSI;
		aim.before = irq_count_on(ap, GUEST_VEC_EDU_MSI);
		bool set = ap && pci_msi_enable_to(f, GUEST_VEC_EDU_MSI, cpus[ap].apic_id) == 0;
		bool raised = set && edu_raise_irq(f, GUEST_VEC_EDU_MSI, 0x1);
		bool taken = raised && wait_until(aim_taken, 0, 1000000);
		uint64_t on_bsp = irq_count_on(0, GUEST_VEC_EDU_MSI) - bsp0;

		pci_msi_disable(f);
		guest_checkf(taken && !on_bsp,
			     "smp: edu MSI aimed at APIC ID %u is taken there (%lu there, %lu on the BSP)",
			     cpus[ap].apic_id, irq_count_on(ap, GUEST_VEC_EDU_MSI) - aim.before, on_bsp);
	}
}
