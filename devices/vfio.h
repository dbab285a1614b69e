/* SPDX-License-Identifier: MIT */
/*
 * vfio.h - hand a real PCI device to the guest through VFIO.
 *
 * vfio_init() follows the realize flow of a full VMM, one function and one
 * "--trace vfio" step per stage:
 *
 *   1 attach     sysfs checks, IOMMU backend (container + group, or
 *                IOMMUFD + the device cdev), device fd
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
#include <stdio.h>

#include "pci.h"

struct vm;

/* Devices of one kvmini: one per --vfio. */
#define VFIO_MAX_DEVICES PCI_MAX_VFIO

/* Where a device goes on the guest's bus 0 (vfio_place()). */
struct vfio_place {
	uint8_t slot, fn;
	bool multi; /* its guest slot holds several functions */
};

/* Realize the device at bdf and plug it in where at says.  backend:
 * "auto", "container" or "iommufd" (--vfio-backend; the CLI has checked
 * the word).  Called once per device, in the order given; every device
 * shares the first one's container or IOAS.  A device that fails dies
 * (EXIT_VFIO), and the teardown releases those attached before it. */
void vfio_init(struct vm *vm, const char *bdf, const struct vfio_place *at, bool trap_bars,
	       const char *backend);
/* Before anything is attached, every device of the command line: its
 * sysfs entry, its IOMMU group, its driver, and every other member of its
 * group (bound to vfio-pci or pci-stub, or to no driver; bridges are left
 * alone, never assigned).  Prints one line per problem and dies with
 * EXIT_VFIO when there is any. */
void vfio_preflight(const char *const *bdfs, unsigned n);
/* What --stats and --report say about the devices: the backend, why it was
 * chosen, the attach ioctls and the time to "realized".  Nothing when no
 * device was asked for.  Rows' names are padded to width (--stats' one
 * name column). */
void vfio_print_stats(FILE *f, int width);
void vfio_report_json(FILE *f);
/* The --vfio address arg in the form sysfs uses (canon, 13 bytes), or
 * die(EXIT_USAGE) with the line that says how to write it.  main() calls
 * it before anything else, for the run and `kvmini check` alike. */
void vfio_bdf_or_die(const char *arg, char canon[13]);
/* Attach (stages 1-2) through backend (as vfio_init) and release bdf
 * without a VM, for `kvmini check`; dies with EXIT_VFIO on failure, else a
 * one-line summary in summary. */
void vfio_probe(const char *bdf, const char *backend, char *summary, size_t len);

/* ---- IOMMU backend ------------------------------------------------------
 * Two backends sit behind this table, and everything after attach (regions,
 * irqs, vconfig, BARs, reset) is theirs in common:
 *   container  /dev/vfio/vfio + each device's group /dev/vfio/N, type1
 *              (vfio_container.c)
 *   iommufd    /dev/iommu + the device cdev /dev/vfio/devices/vfioN, an IOAS
 *              (vfio_iommufd.c)
 * One struct vfio_iommu serves every device of a run: one container (the
 * groups join it) or one IOAS (the devices attach to it), so guest RAM is
 * pinned and mapped for DMA once.  Each device keeps what is its own in a
 * struct vfio_link.  A group is the unit of ownership: devices of one
 * group attach through it once (the second finds it open).  Each function
 * returns 0 or -errno; attach() writes a one-line cause and remedy into
 * err on failure and releases whatever it took before returning. */
struct vfio_iommu;

/* One device's part of the backend. */
struct vfio_link {
	unsigned attach_ioctls; /* ioctls its attach() made (a figure in --stats) */
	bool joined;		/* the container/IOAS was already there: it joined it */
	/* container: its group (shared with the other devices of the group) */
	int group; /* N, -1 when unknown */
	int gi;	   /* index in io->groups, -1 when none */
	bool group_shared; /* the group was already attached by another device */
	/* iommufd */
	char cdev[40];	 /* /dev/vfio/devices/vfioN */
	uint32_t dev_id; /* from VFIO_DEVICE_BIND_IOMMUFD */
	uint32_t hwpt_id; /* the page table the kernel attached */
	bool pt_attached;
};

struct vfio_iommu_ops {
	const char *name;
	const char *map_ioctl; /* the kernel's name for dma_map, for messages */
	/* Make the device at bdf (sysfs directory sysdev) usable: on success
	 * *device_fd is the VFIO device fd.  Opens the container/IOAS on the
	 * first device, joins it on the next ones. */
	int (*attach)(struct vfio_iommu *io, struct vfio_link *l, const char *bdf,
		      const char *sysdev, int *device_fd, char *err, size_t errlen);
	/* Close device_fd (when >= 0) and undo attach, in the order the
	 * backend needs; the last device out closes the container/IOAS
	 * (after every DMA mapping is gone).  Idempotent. */
	void (*detach)(struct vfio_iommu *io, struct vfio_link *l, int device_fd);
	/* Map host [hva, hva+size) at IOVA iova, readable and writable by the
	 * devices.  Page aligned. */
	int (*dma_map)(struct vfio_iommu *io, uint64_t iova, uint64_t size, void *hva);
	int (*dma_unmap)(struct vfio_iommu *io, uint64_t iova, uint64_t size);
};

#define VFIO_MAX_GROUPS 8

struct vfio_iommu {
	const struct vfio_iommu_ops *ops;
	unsigned users; /* devices attached through it now */
	/* container/group backend state */
	int container_fd;   /* /dev/vfio/vfio, -1 when closed */
	unsigned long type; /* VFIO_TYPE1v2_IOMMU or VFIO_TYPE1_IOMMU */
	bool iommu_set;	    /* VFIO_SET_IOMMU done (after the first group joined) */
	struct {
		int num, fd;	/* /dev/vfio/N and its fd (-1 once closed) */
		unsigned users; /* devices attached through it */
		bool set;	/* VFIO_GROUP_SET_CONTAINER done */
	} groups[VFIO_MAX_GROUPS];
	unsigned ngroups;
	/* iommufd backend state */
	int iommufd;	  /* /dev/iommu, -1 when closed */
	uint32_t ioas_id; /* 0: none (the kernel never hands out id 0) */
	/* Guest RAM in the IOMMU: mapped by the first device, unmapped by the
	 * last one out; dma_maps counts the map calls (1 for any number of
	 * devices: --stats shows it). */
	bool dma_mapped;
	uint64_t dma_size;
	unsigned dma_maps;
	char dma_bdf[13]; /* the device that mapped it */
};

/* A backend's error line: printf into err, return ret (a -errno). */
int vfio_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* ioctl() inside a backend's attach, counted in the device's link. */
#define attach_ioctl(l, ...) ((l)->attach_ioctls++, ioctl(__VA_ARGS__))

extern const struct vfio_iommu_ops vfio_container_ops;
extern const struct vfio_iommu_ops vfio_iommufd_ops;
/* Initialise io for ops: every fd closed, no device. */
void vfio_iommu_init(struct vfio_iommu *io, const struct vfio_iommu_ops *ops);
/* The pid of another process holding path open (or path2, when not
 * NULL), or -1: only to make an "in use" error useful.  Walks
 * /proc/<pid>/fd, which root can read. */
long vfio_path_holder(const char *path, const char *path2);

/* ---- pure helpers (vfio_cfg.c) ------------------------------------------ */
struct vfio_bdf {
	unsigned domain, bus, dev, fn;
};

/* Guest placement of n distinct host devices (parsed, in --vfio order):
 * functions of one host slot share a guest slot, the k-th host slot going
 * to PCI_SLOT_VFIO_N(k); each keeps its host function number, except that
 * a slot whose function 0 is not assigned gives its lowest function the
 * number 0 (a guest scans a slot only when function 0 answers).  Returns
 * 0; -EEXIST when a device is given twice (*dup: the index of the second
 * one); -ENOSPC beyond PCI_MAX_VFIO. */
int vfio_place(const struct vfio_bdf *b, unsigned n, struct vfio_place *out, unsigned *dup);

/* May a device with this Header Type (config byte 0x0e) and host driver
 * (NULL or "" for none) share an IOMMU group with devices kvmini assigns?
 * vfio-pci, pci-stub, no driver: yes; a bridge (header type 1 or 2): yes,
 * whatever drives it, and it is not assigned; anything else holds the
 * group (Linux's vfio group viability rule). */
bool vfio_group_member_ok(unsigned header_type, const char *driver);

/* Strictly "DDDD:BB:DD.F" in hex (device <= 0x1f, function <= 7), or
 * lspci's "BB:DD.F" for domain 0000; upper or lower case.  0, or -EINVAL.
 * canon (13 bytes) gets the full lower-case form sysfs uses. */
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

/* --vfio-backend and the choice "auto" makes.  cdev is what the host has
 * for the device: none (no .../vfio-dev in sysfs: the kernel lacks
 * CONFIG_VFIO_DEVICE_CDEV), sysfs only (no /dev node), or both. */
enum vfio_backend { VFIO_BACKEND_AUTO, VFIO_BACKEND_CONTAINER, VFIO_BACKEND_IOMMUFD };
enum vfio_cdev_state { VFIO_CDEV_NONE, VFIO_CDEV_NO_NODE, VFIO_CDEV_OK };
/* "auto", "container", "iommufd": 0, else -EINVAL. */
int vfio_backend_parse(const char *s, enum vfio_backend *out);
/* The backend to use (CONTAINER or IOMMUFD) and why, in words for the
 * trace, --stats and --report; or -ENODEV when iommufd was asked for and
 * the host lacks it, with why (the start of the error line). */
int vfio_backend_choose(enum vfio_backend want, bool has_dev_iommu, enum vfio_cdev_state cdev,
			const char **why);

/* The Intel VT-d Capability and Extended Capability registers (VT-d spec
 * 11.4.2, 11.4.3) in words: the address widths, and whether nesting,
 * pass-through and second-stage dirty tracking are offered.  Returns what
 * snprintf would. */
int vfio_vtd_decode(uint64_t cap, uint64_t ecap, char *buf, size_t len);

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
