// SPDX-License-Identifier: MIT
/*
 * irq.c - interrupts: the IDT, the local APIC, the IOAPIC, the legacy PICs
 * (silenced), the PIT as a periodic timer, and delays.
 *
 * Delivery path for everything after boot: device -> IOAPIC pin or MSI ->
 * LAPIC -> IDT vector -> isr stub (boot/entry.asm) -> irq_dispatch() ->
 * handler -> EOI.  The 8259 PICs are remapped away from the exception
 * vectors and masked, and LAPIC LINT0 (their ExtINT path) is masked, so
 * the PIT's IRQ 0 arrives once, through the IOAPIC only.
 *
 * Several CPUs (guest/smp.c): every CPU loads the same IDT and sets up its
 * own LAPIC (irq_init_ap); the PICs, the IOAPIC and the PIT are the BSP's.
 * Each CPU's GS base points at its own struct cpu_local, whose first word
 * is its index (cpu_index()), so a handler knows where it runs without an
 * APIC register read; interrupts are counted per vector (all CPUs, with
 * atomic adds) and per CPU and vector.
 */
#include "guest.h"

/* ---- IDT ------------------------------------------------------------------ */
struct idt_entry {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type; /* 0x8e: present, DPL 0, 64-bit interrupt gate */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t isr_table[256]; /* boot/entry.asm */

static struct idt_entry idt[256] __attribute__((aligned(16)));
static struct {
	irq_handler fn;
	void *arg;
} handlers[256];
static volatile uint64_t counts[256];
static volatile uint32_t cpu_counts[GUEST_MAX_CPUS][256];
static volatile uint64_t unexpected;
static volatile bool in_exception;

/* What GS points at, one per CPU: cpu_index() reads the first word. */
static struct cpu_local {
	uint32_t index;
} cpu_local[GUEST_MAX_CPUS];

#define MSR_GS_BASE 0xc0000101

static void cpu_local_set(unsigned index)
{
	cpu_local[index].index = index;
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)&cpu_local[index]);
}

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM no FPU", "#DF double fault",
	"coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection",
};

static uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static void exception(struct irq_frame *f)
{
	const char *name = exc_names[f->vector] ? exc_names[f->vector] : "reserved";

	/* An AP leaves the reporting to the BSP (smp.c): only one CPU may
	 * talk to the console and the report port. */
	if (cpu_index())
		smp_ap_exception(f->vector, f->error, f->rip);
	if (in_exception) {
		/* Faulting while reporting a fault: nothing sane is left. */
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	in_exception = true;
	printf("\nguest: CPU exception %lu (%s), error code %#lx\n", f->vector, name, f->error);
	printf("  rip %016lx  cs %04lx  rflags %016lx  cr2 %016lx\n", f->rip, f->cs, f->rflags,
	       read_cr2());
	printf("  rsp %016lx  ss %04lx\n", f->rsp, f->ss);
	printf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	printf("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
	printf("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", f->r9, f->r10, f->r11, f->r12);
	printf("  r13 %016lx  r14 %016lx  r15 %016lx\n", f->r13, f->r14, f->r15);
	guest_checkf(false, "no CPU exception (got vector %lu, %s, at rip %#lx)", f->vector, name,
		     f->rip);
	guest_done(1);
}

/* Called by the stubs in boot/entry.asm with interrupts off. */
void irq_dispatch(struct irq_frame *f);
void irq_dispatch(struct irq_frame *f)
{
	uint8_t v = (uint8_t)f->vector;

	__atomic_fetch_add(&counts[v], 1, __ATOMIC_RELAXED);
	cpu_counts[cpu_index()][v]++; /* only this CPU writes its row */
	if (v < 32)
		exception(f);
	/* A spurious LAPIC interrupt sets no in-service bit: no EOI (SDM vol. 3,
	 * 11.9). */
	if (v == GUEST_VEC_SPURIOUS)
		return;
	if (handlers[v].fn) {
		handlers[v].fn(f, handlers[v].arg);
	} else {
		if (__atomic_fetch_add(&unexpected, 1, __ATOMIC_RELAXED) < 8 && !cpu_index())
			printf("guest: unexpected interrupt, vector %#x\n", v);
	}
	lapic_eoi();
}

void irq_set_handler(uint8_t vector, irq_handler fn, void *arg)
{
	uint64_t flags;

	/* Handler and argument change together, with no interrupt between. */
	__asm__ volatile("pushf; pop %0; cli" : "=r"(flags)::"memory");
	handlers[vector].fn = fn;
	handlers[vector].arg = arg;
	if (flags & 0x200)
		irq_enable();
}

uint64_t irq_count(uint8_t vector) { return counts[vector]; }
uint64_t irq_count_on(unsigned cpu, uint8_t vector)
{
	return cpu < GUEST_MAX_CPUS ? cpu_counts[cpu][vector] : 0;
}
uint64_t irq_unexpected(void) { return unexpected; }

/* ---- legacy PICs ---------------------------------------------------------- */
static void pic_silence(void)
{
	/* Re-initialise both 8259s (ICW1-ICW4) with their vectors at 0x30-0x3f,
	 * clear of the exception vectors (a spurious IRQ 7 must not look like
	 * a double fault), then mask every line. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x30);
	outb(0xa1, 0x38);
	outb(0x21, 0x04); /* slave on IRQ 2 */
	outb(0xa1, 0x02);
	outb(0x21, 0x01); /* 8086 mode */
	outb(0xa1, 0x01);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

/* ---- local APIC ------------------------------------------------------------ */
#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_X2APIC (1u << 10)
#define LAPIC_ID 0x020
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_BUSY (1u << 12)
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_ERROR 0x370
#define LVT_MASKED (1u << 16)
#define SVR_ENABLE (1u << 8)

static void lapic_write(unsigned reg, uint32_t v) { mmio_write32(LAPIC_BASE + reg, v); }
static uint32_t lapic_read(unsigned reg) { return mmio_read32(LAPIC_BASE + reg); }

uint32_t lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }
void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }

static void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	/* Leaving x2APIC mode straight for xAPIC mode is an invalid
	 * transition (#GP, SDM vol. 3, 11.12.5): go through disabled. */
	if (base & APIC_BASE_X2APIC)
		wrmsr(MSR_APIC_BASE, base & ~(uint64_t)(APIC_BASE_X2APIC | APIC_BASE_ENABLE));
	/* Globally enabled, in xAPIC mode, at the address memmap.h says. */
	wrmsr(MSR_APIC_BASE, (LAPIC_BASE & ~0xfffUL) | (base & 0x100) | APIC_BASE_ENABLE);
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_TIMER, LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LVT_MASKED);
	lapic_write(LAPIC_SVR, SVR_ENABLE | GUEST_VEC_SPURIOUS);
}

/* MSI message format: SDM vol. 3, 11.11.1-11.11.2 (fixed delivery,
 * physical destination, edge). */
uint64_t msi_addr(void) { return msi_addr_to(lapic_id()); }
uint64_t msi_addr_to(uint32_t apic_id) { return 0xfee00000UL | ((uint64_t)(apic_id & 0xff) << 12); }

uint32_t lapic_read_reg(unsigned reg) { return lapic_read(reg); }
void lapic_write_reg(unsigned reg, uint32_t v) { lapic_write(reg, v); }

bool lapic_send_ipi(uint32_t apic_id, uint32_t icr)
{
	uint64_t flags;
	bool idle;

	/* The two ICR halves must not be split by a handler that sends an
	 * IPI of its own, so interrupts are off across both. */
	__asm__ volatile("pushf; pop %0; cli" : "=r"(flags)::"memory");
	lapic_write(LAPIC_ICR_HI, apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr);
	/* Delivery status: KVM and QEMU clear it at once; bounded anyway. */
	uint64_t end = rdtsc() + 1000 * tsc_per_us();
	while (!(idle = !(lapic_read(LAPIC_ICR_LO) & ICR_BUSY)) && (int64_t)(rdtsc() - end) < 0)
		cpu_relax();
	if (flags & 0x200)
		irq_enable();
	return idle;
}
uint32_t msi_data(uint8_t vector) { return vector; }

/* ---- IOAPIC ---------------------------------------------------------------- */
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_VER 0x01
#define IOREDTBL(pin) (0x10 + 2 * (pin))

static uint32_t ioapic_read(unsigned reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WIN);
}

static void ioapic_write(unsigned reg, uint32_t v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_REGSEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
}

unsigned ioapic_pins(void) { return ((ioapic_read(IOAPIC_VER) >> 16) & 0xff) + 1; }

uint64_t ioapic_read_entry(unsigned pin)
{
	return ioapic_read(IOREDTBL(pin)) | (uint64_t)ioapic_read(IOREDTBL(pin) + 1) << 32;
}

void ioapic_route(unsigned pin, uint8_t vector, unsigned flags)
{
	uint32_t lo = vector; /* fixed delivery, physical destination */

	if (flags & IOAPIC_LOW)
		lo |= 1u << 13;
	if (flags & IOAPIC_LEVEL)
		lo |= 1u << 15;
	if (flags & IOAPIC_MASKED)
		lo |= 1u << 16;
	/* Mask first, so the pin never fires half-programmed. */
	ioapic_write(IOREDTBL(pin), 1u << 16);
	ioapic_write(IOREDTBL(pin) + 1, lapic_id() << 24);
	ioapic_write(IOREDTBL(pin), lo);
}

void ioapic_mask(unsigned pin, bool masked)
{
	uint32_t lo = ioapic_read(IOREDTBL(pin));

	ioapic_write(IOREDTBL(pin), masked ? lo | (1u << 16) : lo & ~(1u << 16));
}

void irq_init(void)
{
	struct idt_ptr p = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	for (unsigned i = 0; i < 256; i++) {
		uint64_t a = isr_table[i];

		idt[i] = (struct idt_entry){
			.off_lo = (uint16_t)a,
			.sel = 0x08, /* SEL_CODE64 in boot/entry.asm */
			.type = 0x8e,
			.off_mid = (uint16_t)(a >> 16),
			.off_hi = (uint32_t)(a >> 32),
		};
	}
	cpu_local_set(0);
	__asm__ volatile("lidt %0" ::"m"(p));
	pic_silence();
	lapic_init();
	/* Every IOAPIC pin masked until someone routes it. */
	for (unsigned pin = 0; pin < ioapic_pins(); pin++)
		ioapic_write(IOREDTBL(pin), 1u << 16);
}

void irq_init_ap(unsigned index)
{
	struct idt_ptr p = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

	cpu_local_set(index);
	__asm__ volatile("lidt %0" ::"m"(p));
	lapic_init();
}

/* ---- PIT timer and delays ----------------------------------------------- */
#define PIT_HZ 1193182u
#define PIT_CH0 0x40
#define PIT_CMD 0x43

static volatile uint64_t ticks;
static uint64_t tsc_us = 2000; /* guess (2 GHz) until measured */
static const char *tsc_source = "a guess";

static void timer_irq(struct irq_frame *f, void *arg)
{
	(void)f;
	(void)arg;
	ticks++;
}

uint64_t timer_ticks(void) { return ticks; }
uint64_t tsc_per_us(void) { return tsc_us; }
const char *tsc_rate_source(void) { return tsc_source; }

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + us * tsc_us;

	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}

void mdelay(uint64_t ms) { udelay(ms * 1000); }

bool wait_mmio32(uint64_t addr, uint32_t mask, uint32_t want, uint64_t timeout_us)
{
	uint64_t end = rdtsc() + timeout_us * tsc_us;

	for (;;) {
		if ((mmio_read32(addr) & mask) == want)
			return true;
		if ((int64_t)(rdtsc() - end) >= 0)
			return false;
		cpu_relax();
	}
}

bool irq_wait_count(uint8_t vector, uint64_t count, uint64_t timeout_us)
{
	uint64_t end = rdtsc() + timeout_us * tsc_us;

	/* hlt sleeps until the next interrupt; the timer guarantees one at
	 * least every 1/TIMER_HZ s, so the timeout is honoured. */
	while (counts[vector] < count) {
		if ((int64_t)(rdtsc() - end) >= 0)
			return false;
		irq_wait();
	}
	return true;
}

static bool wait_ticks(uint64_t target, uint64_t max_tsc)
{
	uint64_t start = rdtsc();

	while (ticks < target) {
		if (rdtsc() - start > max_tsc)
			return false;
		cpu_relax();
	}
	return true;
}

/*
 * The TSC rate from KVM's paravirtual clock, when the hypervisor is KVM
 * (CPUID 0x40000000 says "KVMKVMKVM", 0x40000001 EAX bit 3 offers the
 * clock at MSR 0x4b564d01): KVM fills a pvclock_vcpu_time_info whose
 * multiplier and shift turn TSC ticks into nanoseconds, so the rate is
 * known without waiting on the PIT (Linux takes it from there too).  The
 * clock is switched off again at once, so KVM writes that page no more.
 * 0 when there is no such clock (QEMU without KVM, other hypervisors).
 */
struct pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed, aligned(32)));

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define KVM_FEATURE_CLOCKSOURCE2 3

static uint64_t kvmclock_tsc_khz(void)
{
	static volatile struct pvclock pv;
	uint32_t r[4];

	cpuid(1, r);
	if (!(r[2] & (1u << 31))) /* no hypervisor */
		return 0;
	cpuid(0x40000000, r);
	if (r[1] != 0x4b4d564b || r[2] != 0x564b4d56 || r[3] != 0x4d || r[0] < 0x40000001)
		return 0;
	cpuid(0x40000001, r);
	if (!(r[0] & (1u << KVM_FEATURE_CLOCKSOURCE2)))
		return 0;
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, virt_to_phys((const void *)&pv) | 1);
	uint32_t mul = 0;
	int8_t shift = 0;
	for (int tries = 0; tries < 100; tries++) {
		uint32_t v = pv.version;
		barrier();
		mul = pv.tsc_to_system_mul;
		shift = pv.tsc_shift;
		barrier();
		if (!(v & 1) && v == pv.version && mul)
			break;
	}
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);
	if (!mul)
		return 0;
	/* ns = (tsc << shift) * mul >> 32, so kHz = 10^6 * 2^32 / mul >> shift. */
	uint64_t khz = (1000000ULL << 32) / mul;
	return shift < 0 ? khz << -shift : khz >> shift;
}

void timer_start(void)
{
	uint16_t div = (PIT_HZ + TIMER_HZ / 2) / TIMER_HZ;
	uint64_t khz = kvmclock_tsc_khz();

	irq_set_handler(GUEST_VEC_TIMER, timer_irq, NULL);
	/* Channel 0, lobyte/hibyte, mode 2 (rate generator), binary. */
	outb(PIT_CMD, 0x34);
	outb(PIT_CH0, div & 0xff);
	outb(PIT_CH0, div >> 8);
	/* ISA IRQ 0 reaches IOAPIC pin 2 on PC-compatible machines (the
	 * interrupt source override every PC's MADT carries; QEMU wires it
	 * so), but pin 0 under KVM's default GSI routing.  Route both to the
	 * timer vector, edge, active high: only one of them is ever driven. */
	ioapic_route(2, GUEST_VEC_TIMER, 0);
	ioapic_route(0, GUEST_VEC_TIMER, 0);
	irq_enable();

	if (khz >= 1000) {
		tsc_us = khz / 1000;
		tsc_source = "kvmclock";
		return;
	}
	/* Otherwise measure the TSC against 5 ticks (50 ms) for udelay().
	 * Bounded by ~4e9 cycles in case the timer never ticks. */
	if (wait_ticks(ticks + 1, 4000000000UL)) {
		uint64_t t0 = ticks, c0 = rdtsc();

		if (wait_ticks(t0 + 5, 4000000000UL)) {
			uint64_t us = (ticks - t0) * 1000000 / TIMER_HZ;
			uint64_t per = (rdtsc() - c0) / us;

			if (per) {
				tsc_us = per;
				tsc_source = "PIT";
			}
		}
	}
}
