// SPDX-License-Identifier: MIT
/*
 * main.c - the tiny guest's program: say hello, check the ground it stands
 * on, enumerate PCI, hand each known device to its test, report, stop.
 *
 * The order is the dependency order: the console first (everything prints),
 * then the report channel (everything reports), then memory (the start info
 * must be copied before any allocation), interrupts, the timer, the bus.
 */
#include "guest.h"

_Static_assert(GUEST_LOAD_ADDR == 0x100000, "boot/memmap.inc and linker/guest.ld say 1 MiB");
_Static_assert(GUEST_MAPPED_TOP == 0x200000000UL, "boot/memmap.inc maps 8 GiB");
_Static_assert(PCI_MMIO32_BASE == 0xc0000000UL, "boot/memmap.inc: uncached from 3 GiB");
_Static_assert(sizeof(struct guest_report) == 24, "report layout is ABI");

void guest_main(uint64_t start_info_pa);

static void check_memory(void)
{
	uint64_t ram = mem_ram_size(), top = 0;
	bool image_in_ram = false, sorted = true;

	printf("memory map (%u entries), RAM %lu MiB:\n", mem_region_count(), ram >> 20);
	for (unsigned i = 0; i < mem_region_count(); i++) {
		const struct mem_region *r = mem_region_at(i);

		printf("  %#012lx-%#012lx %s\n", r->addr, r->addr + r->size - 1,
		       r->type == MEM_RAM ? "RAM" : r->type == 2 ? "reserved" : "other");
		if (r->type == MEM_RAM && r->addr <= mem_image_start() && r->addr + r->size >= mem_image_end())
			image_in_ram = true;
		if (r->type == MEM_RAM && r->addr + r->size > top)
			top = r->addr + r->size;
		if (i && r->addr < mem_region_at(i - 1)->addr + mem_region_at(i - 1)->size)
			sorted = false;
	}
	guest_check("memory map present", mem_region_count() > 0);
	/* kvmini's --mem sets where RAM ends (the legacy hole below 1 MiB is
	 * not RAM, so the total is a little less); other machines may put RAM
	 * above 4 GiB, which must still be inside what we map. */
	guest_checkf(top >= GUEST_MEM_MIN && ram <= top &&
			     top <= (report_is_kvmini() ? GUEST_MEM_MAX : GUEST_MAPPED_TOP),
		     "RAM ends at a plausible address (%lu KiB, %lu KiB in all)", top >> 10, ram >> 10);
	guest_check("image lies in RAM", image_in_ram);
	guest_check("memory map sorted, no overlaps", sorted);

	/* The allocator: contiguous, zeroed, distinct, reusable. */
	uint64_t before = page_free_bytes();
	uint8_t *a = page_alloc(4), *b = page_alloc(1);
	bool ok = a && b && !((uintptr_t)a & (PAGE_SIZE - 1)) && (uint64_t)(uintptr_t)a >= mem_image_end() &&
		  (b >= a + 4 * PAGE_SIZE || b + PAGE_SIZE <= a);

	for (size_t i = 0; ok && i < 4 * PAGE_SIZE; i++)
		ok = a[i] == 0;
	if (ok) {
		memset(a, 0xa5, 4 * PAGE_SIZE);
		ok = a[4 * PAGE_SIZE - 1] == 0xa5 && b[0] == 0;
	}
	page_free(a, 4);
	page_free(b, 1);
	guest_checkf(ok && page_free_bytes() == before, "page allocator (%lu KiB free)",
		     page_free_bytes() >> 10);
}

/* Memory types as a PC's firmware leaves them: MTRRs on, write-back by
 * default (IA32_MTRR_DEF_TYPE bit 11, type 6).  Off, the architecture
 * makes all memory uncacheable, which a host that honours the guest's
 * types (shadow paging, a non-snooping assigned device) turns into every
 * store going to memory.  Checked last, so the numbers of the checks
 * before it stay as the documentation quotes them. */
static void check_memory_types(void)
{
	uint32_t r[4];
	uint64_t def = 0;

	cpuid(1, r);
	if (r[3] & (1u << 12))
		def = rdmsr(0x2ff);
	guest_checkf(!(r[3] & (1u << 12)) || ((def & (1u << 11)) && (def & 0xff) == 6),
		     "MTRRs on, RAM write-back by default (IA32_MTRR_DEF_TYPE %#lx)", def);
}

static void check_timer(void)
{
	timer_start();
	uint64_t t0 = timer_ticks();

	/* Two more ticks (20 ms), slept for: the timer keeps ticking.  The
	 * 2 s bound is the TSC's, so a dead timer fails instead of hanging. */
	bool ok = irq_wait_count(GUEST_VEC_TIMER, irq_count(GUEST_VEC_TIMER) + 2, 2000000);

	printf("timer: %lu ticks so far, TSC %lu MHz (%s)\n", timer_ticks(), tsc_per_us(),
	       tsc_rate_source());
	guest_checkf(ok && timer_ticks() > t0, "PIT timer interrupt taken (%lu ticks)", timer_ticks());
	guest_check("no unexpected interrupts", irq_unexpected() == 0);
}

void guest_main(uint64_t start_info_pa)
{
	char opt[64];

	phase_end("to guest_main (boot)");
	console_init();
	report_init();
	mem_init(start_info_pa);
	printf("%s %s: image %#lx-%#lx, start info at %#lx, on %s\n", GUEST_NAME, GUEST_VERSION,
	       mem_image_start(), mem_image_end(), start_info_pa,
	       report_is_kvmini() ? "kvmini" : "another VMM (no report port)");
	printf("command line: \"%s\"\n", cmdline());

	check_memory();
	phase_end("console, memory");
	irq_init();
	check_timer();
	phase_end("interrupts, timer");
	/* The APs, once the TSC is calibrated (every wait is bounded by it)
	 * and before the devices, so that their MSIs can be aimed at an AP. */
	smp_init();
	phase_end("smp");

	/* fault=pf / fault=ud: take a CPU exception on purpose, to see the
	 * failure path end to end (the exception report, status 1). */
	if (cmdline_get("fault", opt, sizeof(opt))) {
		if (!strcmp(opt, "ud"))
			__asm__ volatile("ud2");
		else
			(void)*(volatile uint64_t *)GUEST_MAPPED_TOP; /* not mapped */
	}

	pci_init();
	phase_end("pci");
	/* hostile: misbehave on purpose first (hostile.c), then the device
	 * tests below start each device from a reset and check it all. */
	if (cmdline_has("hostile") && report_is_kvmini()) {
		hostile_pci();
		phase_end("hostile pci");
	}

	/* Device tests: only for devices on the bus, and only when their
	 * test is linked in (weak references resolve to NULL otherwise). */
	struct pci_func *f;

	/* Every virtio-net function: kvmini's own (slot 1, then 3, 4, 5 with
	 * several --net) and any assigned with --vfio that is one too. */
	for (unsigned i = 0; i < pci_count(); i++) {
		f = pci_at(i);
		if (f->vendor != 0x1af4 || f->device != 0x1041)
			continue;
		if (vnet_test) {
			vnet_test(f);
			phase_end("virtio-net: the rest");
		} else {
			printf("# virtio-net at %02x:%02x.%x: no test in this build\n", f->bus, f->dev, f->fn);
		}
	}
	/* Every edu function (several --vfio), each checked in full. */
	for (unsigned i = 0; i < pci_count(); i++) {
		f = pci_at(i);
		if (f->vendor != 0x1234 || f->device != 0x11e8)
			continue;
		if (edu_test) {
			edu_test(f);
			phase_end("edu");
		} else {
			printf("# edu at %02x:%02x.%x: no test in this build\n", f->bus, f->dev, f->fn);
		}
	}
	/* Some other device in one of kvmini's assigned-device slots: what we
	 * can check without knowing it is enumeration and a first read of
	 * each BAR. */
	for (unsigned i = 0; report_is_kvmini() && vfio_other_test && i < pci_count(); i++) {
		f = pci_at(i);
		bool vfio_slot = f->dev == PCI_SLOT_VFIO ||
				 (f->dev >= PCI_SLOT_VFIO_N(1) && f->dev <= PCI_SLOT_VFIO_N(PCI_MAX_VFIO - 1));

		if (f->bus != 0 || !vfio_slot || (f->vendor == 0x1234 && f->device == 0x11e8) ||
		    (f->vendor == 0x1af4 && f->device == 0x1041 && vnet_test))
			continue;
		vfio_other_test(f);
	}

	smp_device_checks();
	check_memory_types();
	guest_check("no unexpected interrupts at the end", irq_unexpected() == 0);
	phase_print();
	/* status=N: end with status N whatever happened, to test the host's
	 * exit path. */
	if (cmdline_get("status", opt, sizeof(opt)))
		guest_done((int)strtou64(opt, NULL));
	guest_done(guest_failures() ? 1 : 0);
}
