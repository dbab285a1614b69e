/* SPDX-License-Identifier: MIT */
/*
 * vfio.h - hand a real PCI device to the guest through VFIO.
 *
 * vfio_init() follows the realize flow of a full VMM, one function and one
 * "--trace vfio" step per stage:
 *
 *   1 attach     sysfs checks, IOMMU backend (container + group), device fd
 *   2 populate   device, region and irq info from the kernel
 *   3 vconfig    the guest's view of config space, built on the real one
 *   4 bars       mmap for the fast path, pread/pwrite for the trapped path
 *   5 dma        all guest RAM in the IOMMU at IOVA = GPA
 *   6 irqs       INTx (irqfd + resample), MSI, MSI-X (irqfds)
 *   7 reset      VFIO_DEVICE_RESET on the way in and on the way out
 *
 * Ordering: call vfio_init() after guest RAM exists and after the PCI host
 * bridge, before the vCPU first runs.  It registers its teardown with
 * vm_at_exit(), so every way out (guest done, die(), SIGINT, SIGTERM)
 * disables interrupts, unmaps DMA and BARs and closes every fd.  Every
 * error dies with EXIT_VFIO (EXIT_USAGE for a malformed address) and one
 * line naming the cause and the remedy.
 *
 * The pure helpers below (devices/vfio_cfg.c) carry the decisions that need
 * no kernel: address parsing, the capability plan, BAR types, Status bits,
 * the fast-path choice.  test/unit/test_vfio.c exercises them.
 */
#ifndef KVMINI_VFIO_H
#define KVMINI_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pci.h"

struct vm;

void vfio_init(struct vm *vm, const char *bdf, bool trap_bars);
/* Attach (stages 1-2) and release bdf without a VM, for `kvmini check`;
 * dies with EXIT_VFIO on failure, else a one-line summary in summary. */
void vfio_probe(const char *bdf, char *summary, size_t len);

/* ---- IOMMU backend ------------------------------------------------------
 * The legacy container/group backend (vfio_container.c) sits behind this
 * table so that an IOMMUFD backend (/dev/iommu + the device cdev) can take
 * its place without touching the realize flow.  Each function returns 0 or
 * -errno; attach() writes a one-line cause and remedy into err on failure
 * and releases whatever it took before returning. */
struct vfio_iommu;

struct vfio_iommu_ops {
	const char *name;
	/* Make the device at bdf (sysfs directory sysdev) usable: on success
	 * *device_fd is the VFIO device fd. */
	int (*attach)(struct vfio_iommu *io, const char *bdf, const char *sysdev, int *device_fd,
		      char *err, size_t errlen);
	/* Undo attach (after every DMA mapping is gone).  Idempotent. */
	void (*detach)(struct vfio_iommu *io);
	/* Map host [hva, hva+size) at IOVA iova, readable and writable by the
	 * device.  Page aligned. */
	int (*dma_map)(struct vfio_iommu *io, uint64_t iova, uint64_t size, void *hva);
	int (*dma_unmap)(struct vfio_iommu *io, uint64_t iova, uint64_t size);
};

struct vfio_iommu {
	const struct vfio_iommu_ops *ops;
	/* container/group backend state */
	int container_fd;   /* /dev/vfio/vfio, -1 when closed */
	int group_fd;	    /* /dev/vfio/N, -1 when closed */
	int group;	    /* N, -1 when unknown */
	unsigned long type; /* VFIO_TYPE1v2_IOMMU or VFIO_TYPE1_IOMMU */
	bool container_set;
};

extern const struct vfio_iommu_ops vfio_container_ops;
/* Initialise io for ops: every fd closed. */
void vfio_iommu_init(struct vfio_iommu *io, const struct vfio_iommu_ops *ops);

/* ---- pure helpers (vfio_cfg.c) ------------------------------------------ */
struct vfio_bdf {
	unsigned domain, bus, dev, fn;
};

/* Strictly "DDDD:BB:DD.F" in hex (device <= 0x1f, function <= 7); upper
 * or lower case.  0, or -EINVAL.  canon (13 bytes) gets the lower-case
 * form sysfs uses. */
int vfio_parse_bdf(const char *s, struct vfio_bdf *out, char canon[13]);

/* What kvmini does with one capability of the real device. */
enum vfio_cap_action {
	VFIO_CAP_EMULATE,  /* MSI, MSI-X: the PCI core emulates it */
	VFIO_CAP_READONLY, /* copied as it is, guest writes dropped */
	VFIO_CAP_HIDE,	   /* left out of the guest's list */
};

struct vfio_cap {
	uint8_t id, off, len;
	enum vfio_cap_action action;
};

#define VFIO_MAX_CAPS 48

/* Walk the standard capability list of a 256-byte config space.  Returns
 * the number of entries written to caps (at most max), or -ELOOP when the
 * list loops, -EINVAL when a pointer leaves the capability area or is
 * unaligned.  A config space without the Capabilities List bit gives 0. */
int vfio_caps_scan(const uint8_t *cfg, struct vfio_cap *caps, int max);
/* Length in bytes of the capability at off (from its id and flags). */
unsigned vfio_cap_len(const uint8_t *cfg, uint8_t off);
const char *vfio_cap_name(uint8_t id);

/* One BAR as the guest should see it. */
struct vfio_bar_desc {
	enum pci_bar_type type;
	bool prefetch;
	uint64_t size;
};

/* Types from the real BAR bits (cfg 0x10-0x27), sizes from the region
 * sizes the kernel reported.  A 64-bit BAR consumes the next slot, which
 * comes back PCI_BAR_UNUSED.  Returns 0, or -EINVAL when a size is not a
 * power of two or a 64-bit BAR sits in slot 5. */
int vfio_bars_decode(const uint8_t *cfg, const uint64_t region_size[6],
		     struct vfio_bar_desc bars[6]);

/* Status as the guest sees it: the device's live bits (interrupt status,
 * 66 MHz, fast back-to-back, DEVSEL, every error bit) with kvmini's
 * Capabilities List bit, which depends on what kvmini shows. */
uint16_t vfio_status_merge(uint16_t emulated, uint16_t real);
#define VFIO_STATUS_W1C 0xf900 /* error bits, write 1 to clear */

/* The part of an access [off, off+len) that falls in [foff, foff+flen):
 * true and *lo <= at < *hi when they overlap.  Used to forward a guest's
 * config access to a capability the device holds live (vendor-specific). */
bool vfio_span_overlap(unsigned off, unsigned len, unsigned foff, unsigned flen, unsigned *lo,
		       unsigned *hi);

/* The Command value to write to the device: the guest's I/O, memory,
 * bus-master and INTx-disable bits on top of the device's other bits. */
uint16_t vfio_command_merge(uint16_t guest, uint16_t real);

/* May a BAR of size bytes be served through a memory slot over the
 * region's mmap?  sparse/nsparse are the kernel's mmap-able areas (NULL,0
 * when the whole region may be mapped); holes/nholes are ranges the PCI
 * core traps itself whatever we say (the MSI-X table and PBA pages).  True
 * when the BAR is at least a page and every page outside the holes lies in
 * an mmap-able area. */
struct vfio_area {
	uint64_t off, size;
};
bool vfio_fast_path_ok(uint64_t size, const struct vfio_area *sparse, unsigned nsparse,
		       const struct vfio_area *holes, unsigned nholes, uint64_t page);

#endif
