/* SPDX-License-Identifier: MIT */
/*
 * pci.h - PCI for every kvmini device: the emulated config space (vconfig),
 * BARs and their placement on the buses, capabilities, MSI/MSI-X/INTx, and
 * the host bridge with its two config access mechanisms.
 *
 * Every PCI device (host bridge, virtio-net, vfio-pci) embeds a struct
 * pci_dev and registers it with pci_register().  The guest reaches a device
 * only through config accesses (0xcf8/0xcfc or ECAM), which land in
 * pci_cfg_read()/pci_cfg_write(); those apply the standard type-0 header
 * semantics and call the device's hooks for what only the device knows.
 *
 * Contract for devices:
 *  - Fill vendor/device/class and BAR descriptions with the pci_set_*()
 *    and pci_bar_init() helpers, add capabilities with pci_cap_add() (and
 *    pci_msi_init()/pci_msix_init()), then call pci_register().
 *  - A BAR is served either by a trap handler (every access exits to
 *    kvmini and reaches trap(opaque, offset-in-BAR, ...)) or, when hva is
 *    set, by a KVM memory slot over host memory (no exits), except for the
 *    pages holding an MSI-X table/PBA, which always trap into the core.
 *  - The core moves the bus ranges and memory slots itself whenever the
 *    guest rewrites a BAR or toggles decode in Command; no stale or
 *    overlapping mapping remains, and a BAR is never placed over RAM, the
 *    ECAM window or another BAR (it stays unmapped instead, and --trace pci
 *    says so).
 */
#ifndef KVMINI_PCI_H
#define KVMINI_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../vmm/bus.h"

struct vm;
struct pci_dev;

/* Bus 0: devices (slots) 0-31, functions 0-7 each. */
#define PCI_MAX_SLOTS 32
#define PCI_MAX_FNS 8

#define PCI_CFG_SPACE 256       /* conventional header + capabilities */
#define PCI_CFG_SPACE_EXP 4096  /* what ECAM reaches */

/* ---- vconfig: emulated config space bytes and their semantics ---------- */
struct vconfig {
	uint8_t bytes[PCI_CFG_SPACE_EXP];
	uint8_t wmask[PCI_CFG_SPACE_EXP]; /* 1 = guest may write this bit */
	uint8_t w1c[PCI_CFG_SPACE_EXP];   /* 1 = writing 1 clears this bit */
	uint16_t cap_next;                /* where pci_cap_add() puts the next one */
};

/* Raw accessors (no semantics): for devices building their header. */
uint32_t vconfig_get(const struct vconfig *c, unsigned off, unsigned len);
void vconfig_set(struct vconfig *c, unsigned off, unsigned len, uint32_t val);
/* Guest write with wmask/w1c semantics applied; len 1, 2 or 4. */
void vconfig_write(struct vconfig *c, unsigned off, unsigned len, uint32_t val);

/* ---- BARs --------------------------------------------------------------- */
enum pci_bar_type { PCI_BAR_UNUSED = 0, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;
	uint64_t size; /* power of two; I/O >= 4, memory >= 16 */

	/* How it is served (set before pci_register): */
	bus_handler trap; /* required: every trapped access lands here */
	void *opaque;
	void *hva;        /* optional host backing for a fast-path slot */
	bool force_trap;  /* --vfio-trap-bars: never use hva */

	/* State kept by the core: */
	uint64_t addr;   /* address the guest programmed */
	bool mapped;     /* registered on a bus right now */
	int slots[3];    /* KVM slots over hva (-1 = none) */
	char name[24];   /* "virtio-net BAR4", for traces and stats */

	/* Added by the core (set by pci_dev_init/pci_bar_init; devices need
	 * not touch them): */
	struct pci_dev *dev; /* owner, for the bus dispatcher */
	uint8_t index;       /* 0-5, PCI_ROM_INDEX for the ROM */
	bool refused;        /* last mapping attempt at refused_addr failed */
	uint64_t refused_addr; /* (so a retry does not repeat the trace) */
};

#define PCI_ROM_INDEX 6

/* ---- MSI and MSI-X ------------------------------------------------------ */
#define PCI_MSIX_MAX_VECTORS 64

struct pci_msix_vector {
	uint64_t addr;
	uint32_t data;
	bool masked;    /* per-vector mask bit in the table */
	bool pending;   /* PBA bit */
	int gsi;        /* KVM MSI route, -1 when none */
	int eventfd;    /* device's irqfd source, -1 when none */
	bool irqfd_on;  /* eventfd currently attached to gsi */
};

struct pci_msix {
	bool present;
	uint8_t cap;       /* config offset of the capability */
	unsigned nvec;
	int bar;           /* BAR holding table and PBA */
	uint32_t table_off, pba_off;
	struct pci_msix_vector vec[PCI_MSIX_MAX_VECTORS];
};

struct pci_msi {
	bool present;
	uint8_t cap;
	bool is64, maskable;
	unsigned nvec_max; /* 1, 2, 4, ... 32 */
	int gsi;           /* route for vector 0, -1 when none */
	int eventfd;       /* device's irqfd source, -1 when none */
	bool irqfd_on;
};

/* ---- the device --------------------------------------------------------- */
struct pci_dev_ops {
	/* After the core produced *val for a guest read: override what only
	 * the device knows (vfio: live Status bits, passed-through caps). */
	void (*cfg_read)(struct pci_dev *d, unsigned off, unsigned len, uint32_t *val);
	/* After the core applied a guest write to vconfig and acted on it. */
	void (*cfg_write)(struct pci_dev *d, unsigned off, unsigned len, uint32_t val);
	/* The guest changed MSI/MSI-X enable, masks, or a vector's address/
	 * data.  The core has already updated routes and irqfds for the
	 * eventfds the device set; vfio uses this to (re)program the host. */
	void (*irq_changed)(struct pci_dev *d);
	/* Command's bus-master bit changed (vfio passes it to the device). */
	void (*bus_master)(struct pci_dev *d, bool on);
};

struct pci_dev {
	const char *name; /* "host-bridge", "virtio-net", "vfio 0000:00:03.0" */
	uint8_t slot;     /* device number on bus 0 */
	uint8_t fn;       /* function number (pci_dev_init sets 0) */
	struct vconfig cfg;
	struct pci_bar bar[6];
	struct pci_bar rom; /* expansion ROM; type PCI_BAR_MEM32 when present */
	struct pci_msi msi;
	struct pci_msix msix;
	uint8_t intx_pin;   /* 1 = INTA# .. 4, 0 = none */
	unsigned intx_gsi;  /* IOAPIC pin it is routed to */
	bool intx_level;    /* current level, when emulated */
	bool intx_asserted; /* what the IOAPIC line was last set to (core) */
	bool registered;    /* pci_register() succeeded (core) */
	const struct pci_dev_ops *ops;
	void *priv;
	struct vm *vm;
	const char *backend; /* what serves it, for --report: "tap", "container"... */
};

/* Header helpers. */
void pci_dev_init(struct pci_dev *d, const char *name, uint8_t slot, uint16_t vendor,
		  uint16_t device, uint32_t class_code /* 0xCCSSPP */, uint8_t revision);
void pci_set_subsystem(struct pci_dev *d, uint16_t svid, uint16_t sid);
/* Describe BAR n (n+1 is consumed by a 64-bit BAR). */
void pci_bar_init(struct pci_dev *d, int n, enum pci_bar_type type, bool prefetch,
		  uint64_t size, bus_handler trap, void *opaque, void *hva);
void pci_rom_init(struct pci_dev *d, uint64_t size, bus_handler trap, void *opaque);
void pci_intx_init(struct pci_dev *d, uint8_t pin);

/* Append a capability: id, then body (len bytes after the id/next pair),
 * with wmask for the body.  Returns its offset, or 0 when full. */
uint8_t pci_cap_add(struct pci_dev *d, uint8_t id, const void *body, unsigned len,
		    const void *body_wmask);

/* Add the MSI / MSI-X capability and their emulation.  false: no room
 * left for it below 0x100 (an assigned device's own capabilities can use
 * the space up); the device is then left without it, as it was. */
bool pci_msi_init(struct pci_dev *d, unsigned nvec_max, bool is64, bool maskable);
bool pci_msix_init(struct pci_dev *d, unsigned nvec, int bar, uint32_t table_off,
		   uint32_t pba_off);

/* Plug the device into the bus (slot must be free): 0 or -errno. */
int pci_register(struct vm *vm, struct pci_dev *d);
/* Unmap its BARs and irq routes (at teardown). */
void pci_unregister(struct pci_dev *d);

/* ---- interrupts from the device --------------------------------------- */
/* Raise MSI-X vector / MSI (whichever is enabled), else INTx.  Honours
 * masks: a masked vector becomes pending and fires on unmask. */
void pci_notify(struct pci_dev *d, unsigned vector);
void pci_intx_set(struct pci_dev *d, bool level);
/* Give the core an eventfd that raises MSI-X vector v (or MSI when v is
 * PCI_MSI_VECTOR) through KVM_IRQFD, following the guest's masks. */
#define PCI_MSI_VECTOR (~0u)
int pci_irq_eventfd(struct pci_dev *d, unsigned v, int fd);
bool pci_msix_enabled(const struct pci_dev *d);
bool pci_msi_enabled(const struct pci_dev *d);

/* ---- config accesses from the guest ------------------------------------ */
/* off+len within PCI_CFG_SPACE_EXP; len 1, 2 or 4, naturally aligned. */
uint32_t pci_cfg_read(struct pci_dev *d, unsigned off, unsigned len);
void pci_cfg_write(struct pci_dev *d, unsigned off, unsigned len, uint32_t val);

/* The host bridge at 00:00.0, mechanism #1 at 0xcf8 and ECAM. */
void pci_host_init(struct vm *vm);
/* Byte accesses to 0xcf9 (inside mechanism #1's ports) go to fn instead:
 * the chipset's reset control register lives there (devices/pm.c). */
void pci_host_claim_cf9(bus_handler fn, void *opaque);
struct pci_dev *pci_find(unsigned bus, unsigned dev, unsigned fn);
/* The registered function after prev in bus order (slot, then function);
 * the first one when prev is NULL; NULL after the last. */
struct pci_dev *pci_next(const struct pci_dev *prev);

/* Register names for traces: "BAR0", "Command", "MSI-X ctrl", ... */
const char *pci_reg_name(const struct pci_dev *d, unsigned off);

/* ---- additions (after the first contract) ------------------------------ */
/* INTx routing, fixed at pci_register(): the swizzle include/memmap.h
 * gives with PCI_INTX_GSI_BASE. */
unsigned pci_intx_gsi(uint8_t slot, uint8_t pin);

/* Highest address (exclusive) a memory BAR may occupy: x86-64's largest
 * architectural physical address width is 52 bits. */
#define PCI_BAR_ADDR_LIMIT (1ULL << 52)

/* For pci_host.c: what a config access caused ("BAR0 moved to ...") is
 * gathered between pci_trace_begin() and pci_trace_end() and printed on
 * the access's own --trace pci line; outside such a bracket the core
 * traces each effect on a line of its own. */
void pci_trace_begin(void);
const char *pci_trace_end(void);
/* The registered devices as the --report "devices" array: slot, name,
 * IDs, backend, and each BAR with its path (mmap or trapped). */
void pci_json_devices(FILE *f);

/* True while kvmini itself writes config space before the guest runs (the
 * firmware-like start, pci_assign.c): a device that wakes at the guest's
 * first access (virtio-net) must not count these as the guest's. */
extern bool pci_firmware_start;

#endif
