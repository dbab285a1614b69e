/* SPDX-License-Identifier: MIT */
/*
 * guest.h - the tiny guest's library: everything a device test in the guest
 * needs, and nothing more.
 *
 * The guest runs in 64-bit long mode, with [0, GUEST_MAPPED_TOP)
 * identity-mapped (virtual address == physical address), so a pointer to a
 * buffer is also its DMA address.  Memory from 3 GiB up (PCI apertures,
 * IOAPIC, LAPIC) is mapped uncached.  No libc: the functions below are all
 * there is.  Everything runs on the BSP except what smp.c hands the APs
 * (the application processors): they take interrupts and run smp.c's
 * work, but never print or report; the BSP does that for them.
 *
 * Order of use (guest_main does it): console_init(), mem_init(),
 * irq_init(), timer_start(), pci_init(); device tests after that.
 *
 * Device tests (virtio-net, edu) are separate files that define
 *   void vnet_test(struct pci_func *f);
 *   void edu_test(struct pci_func *f);
 * main.c calls each only when its device was found on the bus and the file
 * is linked in (they are weak references), and it calls guest_done() after
 * them: a test reports its checks with guest_check() and returns.
 */
#ifndef KVMINI_GUEST_H
#define KVMINI_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memmap.h"

#define GUEST_NAME "kvmini tiny guest"
#define GUEST_VERSION "0.1"

#define PAGE_SIZE 4096UL
#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((__typeof__(x))(a)-1))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define noreturn_fn __attribute__((noreturn))

/* ---- port I/O and MMIO --------------------------------------------------
 * The "memory" clobbers keep the compiler from moving ordinary memory
 * accesses (say, filling a DMA buffer) across a device access.  x86 keeps
 * uncached MMIO in program order, so no fence instruction is needed. */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port) : "memory"); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port) : "memory"); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port) : "memory"); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

#define barrier() __asm__ volatile("" ::: "memory")

static inline uint8_t mmio_read8(uint64_t a) { barrier(); uint8_t v = *(volatile uint8_t *)a; barrier(); return v; }
static inline uint16_t mmio_read16(uint64_t a) { barrier(); uint16_t v = *(volatile uint16_t *)a; barrier(); return v; }
static inline uint32_t mmio_read32(uint64_t a) { barrier(); uint32_t v = *(volatile uint32_t *)a; barrier(); return v; }
static inline uint64_t mmio_read64(uint64_t a) { barrier(); uint64_t v = *(volatile uint64_t *)a; barrier(); return v; }
static inline void mmio_write8(uint64_t a, uint8_t v) { barrier(); *(volatile uint8_t *)a = v; barrier(); }
static inline void mmio_write16(uint64_t a, uint16_t v) { barrier(); *(volatile uint16_t *)a = v; barrier(); }
static inline void mmio_write32(uint64_t a, uint32_t v) { barrier(); *(volatile uint32_t *)a = v; barrier(); }
static inline void mmio_write64(uint64_t a, uint64_t v) { barrier(); *(volatile uint64_t *)a = v; barrier(); }

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void cpuid(uint32_t leaf, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
/* sti;hlt as one unit: an interrupt arriving between them still wakes us
 * (sti's one-instruction shadow), so a wait loop cannot miss its wakeup. */
static inline void irq_wait(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

/* ---- string and memory (lib.c) ------------------------------------------ */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* Parse an unsigned number (decimal, or hex with 0x); *end past it. */
uint64_t strtou64(const char *s, const char **end);
/* "169.254.0.1" -> 0xa9fe0001 (host order); false if malformed. */
bool parse_ipv4(const char *s, uint32_t *ip);

/* ---- console (console.c): COM1, polled 16550 ---------------------------- */
void console_init(void);
void console_putc(char c);
void console_write(const char *s, size_t n);
/* printf subset: %d %i %u %x %X %o %s %c %p %%, length l/ll/z, flags - 0 #,
 * field width (number or *), precision for %s. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
/* Hex dump of n bytes at p, 16 a line, labelled with addresses. */
void hexdump(const void *p, size_t n);

/* ---- report (report.c): checks and the end ----------------------------- *
 * Under kvmini (the report port answers REPORT_MAGIC) each check goes to
 * kvmini, which prints it; elsewhere (QEMU) the guest prints TAP lines
 * itself ("ok N - name") and exits through isa-debug-exit at 0xf4. */
void report_init(void);
bool report_is_kvmini(void);
/* Report one check; returns passed so it can be used in conditions. */
bool guest_check(const char *name, bool passed);
/* Same, with a printf-formatted name. */
bool guest_checkf(bool passed, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Failures so far. */
unsigned guest_failures(void);
/* Print "guest: done, status S", hand S to the host, stop for good. */
void guest_done(int status) noreturn_fn;
/* Fatal error: print the message, report a failed check, done(1). */
void guest_panic(const char *fmt, ...) noreturn_fn __attribute__((format(printf, 1, 2)));

/* ---- boot info and memory (mem.c) --------------------------------------- */
struct hvm_start_info; /* PVH boot ABI, see mem.c */

struct mem_region {
	uint64_t addr, size;
	uint32_t type; /* 1 = RAM, 2 = reserved, ... (E820 numbering) */
};
#define MEM_RAM 1

void mem_init(uint64_t start_info_pa);
/* Memory map entries as the loader gave them. */
unsigned mem_region_count(void);
const struct mem_region *mem_region_at(unsigned i);
/* Bytes of RAM (type 1) in the map. */
uint64_t mem_ram_size(void);
/* Where the image was loaded: [image_start, image_end). */
uint64_t mem_image_start(void);
uint64_t mem_image_end(void);

/* Physically contiguous, zeroed, page-aligned pages from free RAM above the
 * image; identity-mapped, so the pointer is the DMA address.  NULL when out
 * of memory.  page_free() returns them (a simple free list by run length). */
void *page_alloc(size_t npages);
/* The same without the zeroing, for data buffers that are always written
 * before they are read (frame buffers): a page never used is then never
 * touched, which on a host that faults guest RAM in lazily (every KVM
 * host) costs neither a fault nor resident memory. */
void *page_alloc_uninit(size_t npages);
void page_free(void *p, size_t npages);
uint64_t page_free_bytes(void);
static inline uint64_t virt_to_phys(const void *p) { return (uint64_t)(uintptr_t)p; }

/* ---- command line (mem.c) ----------------------------------------------- *
 * Space-separated words "key=value" or "key".  cmdline_get() copies the
 * value of key (empty for a bare key) and returns true when key is there. */
const char *cmdline(void);
bool cmdline_get(const char *key, char *buf, size_t size);
bool cmdline_has(const char *key);
uint64_t cmdline_u64(const char *key, uint64_t def);

/* ---- interrupts (irq.c) ------------------------------------------------- */
struct irq_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};
typedef void (*irq_handler)(struct irq_frame *f, void *arg);

/* IDT for all 256 vectors.  Exceptions (0-31) print vector, error code,
 * RIP, CR2 and registers, report a failed check and stop.  Vectors >= 32
 * call the handler set here (or count as unexpected) and then EOI the
 * LAPIC, so a level-triggered handler must quiet its device before
 * returning. */
void irq_init(void);
void irq_set_handler(uint8_t vector, irq_handler fn, void *arg);
/* How many times a vector was taken. */
uint64_t irq_count(uint8_t vector);
uint64_t irq_unexpected(void);

/* Local APIC (xAPIC at LAPIC_BASE), enabled by irq_init(). */
uint32_t lapic_id(void);
void lapic_eoi(void);
uint32_t lapic_read_reg(unsigned reg);
void lapic_write_reg(unsigned reg, uint32_t v);
/* Send an IPI: ICR high = apic_id << 24, ICR low = icr (vector, delivery
 * mode, level...).  False if the delivery status stayed busy for 1 ms. */
bool lapic_send_ipi(uint32_t apic_id, uint32_t icr);
/* MSI address/data that deliver vector to this CPU, or to the CPU with
 * APIC ID apic_id (fixed, physical destination, edge). */
uint64_t msi_addr(void);
uint64_t msi_addr_to(uint32_t apic_id);
uint32_t msi_data(uint8_t vector);

/* ---- CPUs ---------------------------------------------------------------
 * Each CPU's index (0 = the BSP, then the APs in MADT order), from its GS
 * base: set by irq_init() on the BSP and irq_init_ap() on an AP. */
#define GUEST_MAX_CPUS 32
static inline unsigned cpu_index(void)
{
	uint32_t i;

	__asm__ volatile("movl %%gs:0, %0" : "=r"(i));
	return i;
}
/* An AP's part of irq_init(): this CPU's index, the IDT, its LAPIC. */
void irq_init_ap(unsigned index);
/* Interrupts of vector taken on CPU index cpu. */
uint64_t irq_count_on(unsigned cpu, uint8_t vector);
/* A CPU exception on an AP: smp.c records it for the BSP to report, and
 * the AP stops. */
void smp_ap_exception(uint64_t vector, uint64_t error, uint64_t rip) noreturn_fn;

/* smp.c: find the CPUs in the ACPI MADT and, with more than one, start
 * the APs and check them (APIC IDs, LAPIC timers, IPIs, a shared counter).
 * After the device tests, smp_device_checks() aims each device's MSI at an
 * AP.  With one CPU both only print what they found. */
void smp_init(void);
void smp_device_checks(void);
unsigned smp_cpu_count(void);

/* IOAPIC at IOAPIC_BASE.  flags: IOAPIC_LEVEL (else edge), IOAPIC_LOW
 * (active low, else high), IOAPIC_MASKED. */
#define IOAPIC_LEVEL 1u
#define IOAPIC_LOW 2u
#define IOAPIC_MASKED 4u
unsigned ioapic_pins(void);
void ioapic_route(unsigned pin, uint8_t vector, unsigned flags);
void ioapic_mask(unsigned pin, bool masked);
uint64_t ioapic_read_entry(unsigned pin);

/* PIT channel 0, periodic at TIMER_HZ, on GUEST_VEC_TIMER through the
 * IOAPIC.  timer_ticks() counts its interrupts.  Interrupts stay enabled
 * from timer_start() on. */
#define TIMER_HZ 100
void timer_start(void);
uint64_t timer_ticks(void);
/* ---- phases (phase.c): where the time goes ------------------------------ *
 * phase_end(NAME) stamps the TSC at the end of the group of checks NAME;
 * phase_print() prints each group's time when the command line has
 * "phases" (make bench). */
void phase_end(const char *name);
void phase_print(void);

/* TSC ticks per microsecond: from KVM's clock, else measured against the
 * timer (a guess before timer_start); tsc_rate_source() says which. */
uint64_t tsc_per_us(void);
const char *tsc_rate_source(void);
void udelay(uint64_t us);
void mdelay(uint64_t ms);
/* Spin until (mmio_read32(addr) & mask) == want, at most timeout_us;
 * true if it got there. */
bool wait_mmio32(uint64_t addr, uint32_t mask, uint32_t want, uint64_t timeout_us);
/* Sleep (sti; hlt) until irq_count(vector) >= count, at most timeout_us;
 * true if it got there.  Leaves interrupts enabled. */
bool irq_wait_count(uint8_t vector, uint64_t count, uint64_t timeout_us);

/* ---- PCI (pci.c) -------------------------------------------------------- */
enum pci_bar_kind { PCI_BAR_NONE = 0, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar_info {
	uint64_t addr;  /* as assigned (0 when none) */
	uint64_t size;
	uint8_t type;   /* enum pci_bar_kind; the upper half of a 64-bit BAR is NONE */
	bool prefetch;
	bool is64;
};

#define PCI_MAX_CAPS 16
struct pci_func {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_device;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t header_type; /* low 7 bits */
	bool multifunction;
	struct pci_bar_info bar[6];
	struct pci_bar_info rom;
	uint8_t irq_line, irq_pin; /* pin 1 = INTA# .. 4, 0 = none */
	/* Capabilities in list order (IDs and offsets). */
	uint8_t ncaps;
	uint8_t cap_id[PCI_MAX_CAPS];
	uint8_t cap_off[PCI_MAX_CAPS];
	bool caps_ok; /* list walked without loop or bad pointer */
};

#define PCI_CAP_PM 0x01
#define PCI_CAP_MSI 0x05
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_PCIE 0x10
#define PCI_CAP_MSIX 0x11

/* Enumerate bus 0 (both mechanisms, cross-checked), assign BARs, enable
 * decoding, print the listing and report the checks. */
void pci_init(void);
bool pci_has_ecam(void);
unsigned pci_count(void);
struct pci_func *pci_at(unsigned i);
struct pci_func *pci_find(uint16_t vendor, uint16_t device);

/* Config access for drivers (ECAM when found, else mechanism #1). */
uint8_t pci_read8(const struct pci_func *f, unsigned off);
uint16_t pci_read16(const struct pci_func *f, unsigned off);
uint32_t pci_read32(const struct pci_func *f, unsigned off);
void pci_write8(const struct pci_func *f, unsigned off, uint8_t v);
void pci_write16(const struct pci_func *f, unsigned off, uint16_t v);
void pci_write32(const struct pci_func *f, unsigned off, uint32_t v);

/* Offset of the first capability with this ID after offset "after" (0 =
 * from the start of the list), or 0 if none.  Iterate vendor caps with
 * for (o = pci_find_cap(f, 9, 0); o; o = pci_find_cap(f, 9, o)). */
uint8_t pci_find_cap(const struct pci_func *f, uint8_t id, uint8_t after);
const char *pci_cap_name(uint8_t id);

/* Memory BAR as a pointer (identity-mapped), NULL if not a memory BAR. */
void *pci_bar_ptr(const struct pci_func *f, unsigned bar);
/* Command register bits. */
void pci_set_bus_master(const struct pci_func *f, bool on);
void pci_intx_disable(const struct pci_func *f, bool disable);

/* MSI: one vector, to this CPU.  Returns 0, or -1 without the capability. */
int pci_msi_enable(const struct pci_func *f, uint8_t vector);
void pci_msi_disable(const struct pci_func *f);
/* MSI-X: table entries programmed through the BAR mapping.  enable turns
 * MSI-X on (and INTx off) with every entry masked and the function mask
 * clear; then pci_msix_set() programs an entry to deliver vector to this
 * CPU and unmasks it unless masked is true. */
int pci_msix_table_size(const struct pci_func *f); /* entries, -1 if none */
int pci_msix_enable(const struct pci_func *f);     /* 0 ok, -1 no cap/BAR */
int pci_msix_set(const struct pci_func *f, unsigned entry, uint8_t vector, bool masked);
void pci_msix_disable(const struct pci_func *f);
bool pci_msix_pending(const struct pci_func *f, unsigned entry);
/* IOAPIC input of the function's INTx pin, or -1 when not known.  On
 * kvmini, Interrupt Line holds it (PCI_INTX_GSI_BASE + swizzle, see
 * devices/pci.h); on QEMU's q35 the ICH9's reset routing gives it for
 * slots 0-24; elsewhere it would take ACPI's _PRT, which we do not read.  kvmini drives the line high while INTx is asserted, so route it
 * with ioapic_route(pin, vector, IOAPIC_LEVEL): level, active high. */
int pci_intx_ioapic_pin(const struct pci_func *f);

/* MSI on a given CPU (smp.c): as pci_msi_enable() and pci_msix_set(), with
 * the destination APIC ID given. */
int pci_msi_enable_to(const struct pci_func *f, uint8_t vector, uint32_t apic_id);
int pci_msix_set_to(const struct pci_func *f, unsigned entry, uint8_t vector, uint32_t apic_id,
		    bool masked);

/* ---- device tests (other files, optional) ------------------------------ */
void vnet_test(struct pci_func *f) __attribute__((weak));
void edu_test(struct pci_func *f) __attribute__((weak));
/* Any device in kvmini's vfio slot that is not edu (guest/edu.c). */
void vfio_other_test(struct pci_func *f) __attribute__((weak));
/* --cmdline hostile: the PCI and report-port steps (hostile.c). */
void hostile_pci(void);
/* For smp.c (virtio_net.c): the first driven virtio-net function whose
 * frames loop back and whose interrupts are MSI-X, with its rx entry and
 * vector (NULL if none); vnet_probe_frame() sends one frame through it and
 * waits (bounded) until it is back. */
struct pci_func *vnet_loopback_msix(unsigned *rx_entry, uint8_t *rx_vector) __attribute__((weak));
bool vnet_probe_frame(void) __attribute__((weak));
/* For smp.c (edu.c): raise edu function f's interrupt (status bits), with a
 * handler on vector that acknowledges it wherever it is taken; false when
 * f's BAR0 is not mapped. */
bool edu_raise_irq(const struct pci_func *f, uint8_t vector, uint32_t bits) __attribute__((weak));

/* ---- ACPI (mem.c keeps what the loader said) ----------------------------- */
/* The RSDP's address from the PVH start info, 0 if the loader gave none. */
uint64_t mem_rsdp(void);

#endif
