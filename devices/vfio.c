// SPDX-License-Identifier: MIT
/*
 * vfio.c - a host PCI device handed to the guest through VFIO.
 *
 * The realize flow, one function per stage (see vfio.h):
 *   vfio_attach (the IOMMU backend is chosen here: container or iommufd)
 *   -> vfio_populate -> vfio_vconfig -> vfio_bars -> vfio_dma
 *   -> vfio_irqs, with VFIO_DEVICE_RESET on the way in and out.
 * The guest reaches the device's config space only through the PCI core's
 * emulated copy (struct pci_dev); this file tells the core what the real
 * device looks like and acts on what the guest does to it.
 *
 * One struct vfio_dev per --vfio, in a fixed table (vfio_devs) in the
 * order given, so --stats and --report can list them and the at-exit
 * teardown (registered per device) finds each after die() or a signal.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "memmap.h"
#include "../vmm/trace.h"
#include "../vmm/vm.h"
#include "pci.h"
#include "vfio.h"
#include "vfio_events.h"

#define NREGIONS VFIO_PCI_NUM_REGIONS /* BAR0-5, ROM, config, VGA */
#define NIRQS	 VFIO_PCI_NUM_IRQS    /* INTx, MSI, MSI-X, ERR, REQ */

struct vfio_region {
	struct vfio_region_info info;
	struct vfio_area sparse[16];
	unsigned nsparse;
	bool has_sparse;    /* the kernel gave a sparse-mmap capability */
	bool msix_mappable; /* MSI-X table may be mmapped (we still trap it) */
	void *map;	    /* reservation holding the mmapped areas */
	uint64_t map_size;
};

/* Context of one trapped BAR (or the ROM), the opaque of its handler. */
struct vfio_bar_ctx {
	struct vfio_dev *v;
	unsigned index; /* VFIO region index */
};

enum vfio_irq_mode { IRQ_NONE, IRQ_INTX, IRQ_MSI, IRQ_MSIX };

struct vfio_dev {
	struct vm *vm;
	uint8_t slot, fn; /* where the guest sees it on bus 0 */
	char bdf[13];
	char sysdev[64];
	char name[24];
	bool trap_bars;

	struct vfio_iommu *io;	/* shared by every device of the run */
	struct vfio_link link;	/* this device's part of it */
	bool multi;		/* a function of a multi-function guest slot */
	int fd;		      /* device fd, -1 when closed */
	bool active;	      /* --vfio was given */
	const char *want;     /* --vfio-backend word */
	const char *why;      /* why this backend (trace, --stats, --report) */
	uint64_t attach_us;   /* time spent in the backend's attach */
	uint64_t dma_us;      /* time spent mapping guest RAM */
	uint64_t realized_us; /* process start to "realized" */

	struct vfio_device_info info;
	bool reset_works;
	struct vfio_region reg[NREGIONS];
	struct vfio_irq_info irq[NIRQS];

	uint8_t real[PCI_CFG_SPACE]; /* real config space at realize */
	struct vfio_cap caps[VFIO_MAX_CAPS];
	int ncaps;
	struct vfio_bar_desc bars[6];
	struct vfio_bar_ctx ctx[NREGIONS];

	struct pci_dev pci;
	bool registered;
	uint16_t real_cmd; /* what we last wrote to the device's Command */

	enum vfio_irq_mode mode;
	int intx_fd, intx_resample_fd;
	bool intx_irqfd;
	int msi_fd;
	int msix_fd[PCI_MSIX_MAX_VECTORS];
	unsigned msix_nvec;
	struct vfio_events events; /* REQ and ERR (vfio_events.c) */

	/* Vendor-specific capabilities, whose bytes after the header live in
	 * the device: guest offset, device offset, length (header included). */
	struct {
		uint8_t guest, dev, len;
	} live[VFIO_MAX_CAPS];
	int nlive;

	bool torn_down;
};

static struct vfio_dev vfio_devs[VFIO_MAX_DEVICES];
static unsigned vfio_ndevs;
/* One container or IOAS for all of them (vfio.h). */
static struct vfio_iommu run_io;
/* kvmini check --vfio: attached and released one at a time. */
static struct vfio_dev probe_dev;
static struct vfio_iommu probe_io;

/* Where sysfs lists the PCI devices (test_vfio_probe points it at a tree
 * of its own). */
#ifndef VFIO_SYSFS_PCI
#define VFIO_SYSFS_PCI "/sys/bus/pci/devices"
#endif

/* A device that holds nothing yet: every fd -1, so that a teardown after
 * any stage (the run's, or the probe's after attach) closes and disarms
 * only what was taken.  0 would be stdin. */
static void vfio_dev_blank(struct vfio_dev *v, const char *backend)
{
	memset(v, 0, sizeof(*v));
	v->fd = v->intx_fd = v->intx_resample_fd = v->msi_fd = -1;
	memset(v->msix_fd, 0xff, sizeof(v->msix_fd));
	v->events.req_fd = v->events.err_fd = v->events.stop_fd = -1;
	v->want = backend ? backend : "auto";
	v->link.group = v->link.gi = -1;
}

/* The process start, near enough: constructors run before main().  The
 * time from here to "realized" is the figure that compares backends. */
static struct timespec t_start;
__attribute__((constructor)) static void vfio_clock_start(void)
{
	clock_gettime(CLOCK_MONOTONIC, &t_start);
}

static uint64_t us_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)(t.tv_sec - t0->tv_sec) * 1000000u +
	       (uint64_t)((t.tv_nsec - t0->tv_nsec) / 1000);
}

static const char *const region_names[NREGIONS] = {
    "BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM", "config", "VGA",
};
static const char *const irq_names[NIRQS] = {"INTx", "MSI", "MSI-X", "ERR", "REQ"};
static const char *const mode_names[] = {"none", "INTx", "MSI", "MSI-X"};

/* ---- small helpers ------------------------------------------------------ */

static int cfg_pread(struct vfio_dev *v, void *buf, size_t len, unsigned off)
{
	const struct vfio_region *c = &v->reg[VFIO_PCI_CONFIG_REGION_INDEX];
	ssize_t n = pread(v->fd, buf, len, (off_t)(c->info.offset + off));

	return n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
}

static int cfg_pwrite(struct vfio_dev *v, const void *buf, size_t len, unsigned off)
{
	const struct vfio_region *c = &v->reg[VFIO_PCI_CONFIG_REGION_INDEX];
	ssize_t n = pwrite(v->fd, buf, len, (off_t)(c->info.offset + off));

	return n == (ssize_t)len ? 0 : (n < 0 ? -errno : -EIO);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* VFIO_DEVICE_SET_IRQS with 0..n eventfds (fds NULL: DATA_NONE). */
static int set_irqs(struct vfio_dev *v, unsigned index, uint32_t action, unsigned count,
		    const int32_t *fds)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t) * PCI_MSIX_MAX_VECTORS];
	struct vfio_irq_set *s = (struct vfio_irq_set *)buf;

	if (count > PCI_MSIX_MAX_VECTORS)
		return -EINVAL;
	memset(buf, 0, sizeof(buf));
	s->argsz = (uint32_t)(sizeof(*s) + (fds ? sizeof(int32_t) * count : 0));
	s->flags = action | (fds ? VFIO_IRQ_SET_DATA_EVENTFD : VFIO_IRQ_SET_DATA_NONE);
	s->index = index;
	s->start = 0;
	s->count = count;
	if (fds)
		memcpy(s->data, fds, sizeof(int32_t) * count);
	if (ioctl(v->fd, VFIO_DEVICE_SET_IRQS, s))
		return -errno;
	return 0;
}

static void reset_device(struct vfio_dev *v, const char *when)
{
	if (!v->reset_works) {
		trace(TRACE_VFIO, "reset: %s: device offers no reset (no FLR, PM or bus reset)",
		      when);
		return;
	}
	if (ioctl(v->fd, VFIO_DEVICE_RESET)) {
		/* After the host's request (REQ) the kernel holds the device's
		 * lock for its removal, so vfio-pci's reset can only try and
		 * fail with EAGAIN: not worth a warning, bus master is off. */
		if (errno == EAGAIN && __atomic_load_n(&v->events.req_seen, __ATOMIC_SEQ_CST))
			trace(TRACE_VFIO, "reset: %s: busy (the host is removing the device)", when);
		else
			warn("vfio %s: VFIO_DEVICE_RESET %s: %s", v->bdf, when, strerror(errno));
	} else
		trace(TRACE_VFIO, "reset: %s: VFIO_DEVICE_RESET done", when);
}

/* ---- teardown: every way out ------------------------------------------- */

static int irq_disable(struct vfio_dev *v);

static void vfio_teardown(void *arg)
{
	struct vfio_dev *v = arg;

	if (v->torn_down)
		return;
	v->torn_down = true;
	trace(TRACE_VFIO, "teardown: %s", v->bdf);
	/* Slots over the BAR mmaps and the core's irq routes go first, so
	 * KVM never points at memory we are about to unmap. */
	if (v->registered) {
		pci_unregister(&v->pci);
		v->registered = false;
	}
	/* The REQ/ERR watcher first: nothing may ask the vCPU to stop once
	 * the teardown has begun. */
	vfio_events_stop(&v->events, v->fd);
	if (v->fd >= 0) {
		irq_disable(v);
		/* Stop the device mastering before its DMA mappings vanish. */
		if (v->real_cmd & PCI_COMMAND_MASTER) {
			uint16_t cmd = v->real_cmd & ~PCI_COMMAND_MASTER;

			cfg_pwrite(v, &cmd, 2, PCI_COMMAND);
		}
		reset_device(v, "leaving");
	}
	/* Guest RAM stays in the IOMMU while another device of the run is
	 * attached (it may still DMA); the last one out unmaps it. */
	if (v->io && v->io->dma_mapped && v->fd >= 0 && v->io->users <= 1) {
		int ret = v->io->ops->dma_unmap(v->io, 0, v->io->dma_size);

		if (ret)
			warn("vfio %s: DMA unmap: %s", v->bdf, strerror(-ret));
		else
			trace(TRACE_VFIO, "teardown: DMA unmapped [0, 0x%llx)",
			      (unsigned long long)v->io->dma_size);
		v->io->dma_mapped = false;
	}
	for (int i = 0; i < NREGIONS; i++) {
		if (v->reg[i].map) {
			munmap(v->reg[i].map, v->reg[i].map_size);
			v->reg[i].map = NULL;
		}
	}
	if (v->intx_fd >= 0)
		close(v->intx_fd);
	if (v->intx_resample_fd >= 0)
		close(v->intx_resample_fd);
	if (v->msi_fd >= 0)
		close(v->msi_fd);
	for (unsigned i = 0; i < PCI_MSIX_MAX_VECTORS; i++)
		if (v->msix_fd[i] >= 0)
			close(v->msix_fd[i]);
	v->intx_fd = v->intx_resample_fd = v->msi_fd = -1;
	memset(v->msix_fd, 0xff, sizeof(v->msix_fd));
	/* The backend closes the device fd itself: the container must close
	 * it before the group leaves the container, iommufd must detach the
	 * device through it first. */
	if (v->io && v->io->ops)
		v->io->ops->detach(v->io, &v->link, v->fd);
	else if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	trace(TRACE_VFIO, "teardown: done, %s can be used again", v->bdf);
}

/* ---- stage 1: attach ---------------------------------------------------- */

static int sysfs_read_hex(const char *dir, const char *file, unsigned *out)
{
	char path[PATH_MAX], buf[32];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	*out = (unsigned)strtoul(buf, NULL, 16);
	return 0;
}

/* The device's VFIO cdev: sysfs names it (.../vfio-dev/vfioN/dev, present
 * when the kernel has CONFIG_VFIO_DEVICE_CDEV and vfio-pci holds the
 * device), devtmpfs makes the node. */
static enum vfio_cdev_state cdev_find(const char *sysdev, char *node, size_t len, char *sysname,
				      size_t sysnamelen)
{
	char dir[PATH_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/vfio-dev", sysdev);
	d = opendir(dir);
	if (!d)
		return VFIO_CDEV_NONE;
	node[0] = 0;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vfio", 4)) {
			snprintf(node, len, "/dev/vfio/devices/%.16s", e->d_name);
			snprintf(sysname, sysnamelen, "%.200s/%.16s", dir, e->d_name);
			break;
		}
	}
	closedir(d);
	if (!node[0])
		return VFIO_CDEV_NONE;
	/* Linux 6.1 to 6.5 already name the device vfio-dev/vfioN, with no
	 * character device behind it: only a "dev" attribute means a cdev. */
	snprintf(dir, sizeof(dir), "%.200s/dev", sysname);
	if (access(dir, R_OK))
		return VFIO_CDEV_NONE;
	return stat(node, &st) == 0 && S_ISCHR(st.st_mode) ? VFIO_CDEV_OK : VFIO_CDEV_NO_NODE;
}

/* --vfio-backend: auto takes iommufd when the host has all of it. */
static void vfio_choose_backend(struct vfio_dev *v)
{
	char node[40], sysname[PATH_MAX], devno[32] = "?";
	enum vfio_backend want = VFIO_BACKEND_AUTO;
	enum vfio_cdev_state cdev;
	bool has_iommu = access("/dev/iommu", F_OK) == 0;
	int got;

	vfio_backend_parse(v->want, &want);
	cdev = cdev_find(v->sysdev, node, sizeof(node), sysname, sizeof(sysname));
	got = vfio_backend_choose(want, has_iommu, cdev, &v->why);
	if (got < 0 && has_iommu && cdev == VFIO_CDEV_NO_NODE) {
		char path[PATH_MAX + 8];
		FILE *f;

		snprintf(path, sizeof(path), "%s/dev", sysname);
		f = fopen(path, "re");
		if (f) {
			if (fgets(devno, sizeof(devno), f))
				devno[strcspn(devno, "\n")] = 0;
			fclose(f);
		}
		die(EXIT_VFIO,
		    "vfio %s: --vfio-backend iommufd: %s: %s is missing; mount devtmpfs on /dev, "
		    "or create it: mknod %s c %.*s %s",
		    v->bdf, v->why, node, node, (int)strcspn(devno, ":"), devno,
		    strchr(devno, ':') ? strchr(devno, ':') + 1 : "?");
	}
	if (got < 0)
		die(EXIT_VFIO,
		    "vfio %s: --vfio-backend iommufd: %s; boot a kernel built with "
		    "CONFIG_IOMMUFD=y and CONFIG_VFIO_DEVICE_CDEV=y, or use --vfio-backend "
		    "container",
		    v->bdf, v->why);
	if (cdev != VFIO_CDEV_NONE)
		snprintf(v->link.cdev, sizeof(v->link.cdev), "%s", node);
	/* The first device picks the backend for all: they share it. */
	if (!v->io->ops) {
		vfio_iommu_init(v->io, got == VFIO_BACKEND_IOMMUFD ? &vfio_iommufd_ops
								    : &vfio_container_ops);
	} else if (v->io->ops == &vfio_iommufd_ops && cdev != VFIO_CDEV_OK) {
		die(EXIT_VFIO,
		    "vfio %s: the devices before it attached through iommufd, and this one has no "
		    "VFIO cdev (%s) to join them; give --vfio-backend container",
		    v->bdf, node[0] ? node : "none in sysfs");
	} else if (v->io->ops == &vfio_iommufd_ops || got == VFIO_BACKEND_IOMMUFD) {
		v->why = v->io->ops == &vfio_iommufd_ops ? "shared: the first device's iommufd"
							: "shared: the first device's container";
	}
	trace(TRACE_VFIO, "attach: backend %s (%s)", v->io->ops->name, v->why);
}

void vfio_bdf_or_die(const char *arg, char canon[13])
{
	if (vfio_parse_bdf(arg, NULL, canon))
		die(EXIT_USAGE,
		    "--vfio '%s': not a PCI address; write it as DDDD:BB:DD.F in hex, e.g. "
		    "0000:00:03.0 (lspci -D lists them)",
		    arg);
}

static void vfio_attach(struct vfio_dev *v, const char *arg)
{
	char link[PATH_MAX], drv[PATH_MAX], err[768];
	struct timespec t0;
	const char *name;
	unsigned vendor = 0, device = 0;
	struct stat st;
	ssize_t n;
	int ret;

	vfio_bdf_or_die(arg, v->bdf);
	/* Short enough for BAR names in --stats ("vfio 00:03.0 BAR0"). */
	if (!strncmp(v->bdf, "0000:", 5))
		snprintf(v->name, sizeof(v->name), "vfio %s", v->bdf + 5);
	else
		snprintf(v->name, sizeof(v->name), "vfio %s", v->bdf);
	trace(TRACE_VFIO, "attach: %s", v->bdf);

	snprintf(v->sysdev, sizeof(v->sysdev), "%s/%s", VFIO_SYSFS_PCI, v->bdf);
	if (stat(v->sysdev, &st))
		die(EXIT_VFIO,
		    "vfio %s: no such PCI device (%s does not exist); list the host's devices "
		    "with lspci -D or ls /sys/bus/pci/devices",
		    v->bdf, v->sysdev);
	sysfs_read_hex(v->sysdev, "vendor", &vendor);
	sysfs_read_hex(v->sysdev, "device", &device);

	/* No IOMMU group first: without one, vfio-pci cannot bind at all,
	 * so "bind it to vfio-pci" would send the user the wrong way. */
	snprintf(link, sizeof(link), "%s/iommu_group", v->sysdev);
	if (access(link, F_OK))
		die(EXIT_VFIO,
		    "vfio %s: no IOMMU group: the host IOMMU is off; boot the host kernel with "
		    "intel_iommu=on (AMD: amd_iommu=on) and an IOMMU enabled in firmware or "
		    "QEMU (-device intel-iommu)",
		    v->bdf);

	snprintf(link, sizeof(link), "%s/driver", v->sysdev);
	n = readlink(link, drv, sizeof(drv) - 1);
	if (n < 0) {
		die(EXIT_VFIO,
		    "vfio %s: device %04x:%04x has no driver, it must be bound to vfio-pci: "
		    "modprobe vfio-pci; echo vfio-pci > %s/driver_override; "
		    "echo %s > /sys/bus/pci/drivers_probe",
		    v->bdf, vendor, device, v->sysdev, v->bdf);
	}
	drv[n] = 0;
	name = strrchr(drv, '/');
	name = name ? name + 1 : drv;
	if (strcmp(name, "vfio-pci"))
		die(EXIT_VFIO,
		    "vfio %s: device %04x:%04x is bound to %s, not vfio-pci; rebind it: "
		    "modprobe vfio-pci; echo vfio-pci > %s/driver_override; "
		    "echo %s > %s/driver/unbind; echo %s > /sys/bus/pci/drivers_probe",
		    v->bdf, vendor, device, name, v->sysdev, v->bdf, v->sysdev, v->bdf);
	trace(TRACE_VFIO, "attach: %s is %04x:%04x, bound to vfio-pci", v->bdf, vendor, device);

	vfio_choose_backend(v);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = v->io->ops->attach(v->io, &v->link, v->bdf, v->sysdev, &v->fd, err, sizeof(err));
	if (ret)
		die(EXIT_VFIO, "%s", err);
	v->attach_us = us_since(&t0);
	trace(TRACE_VFIO, "attach: done through the %s backend: %u ioctls, %llu us",
	      v->io->ops->name, v->link.attach_ioctls, (unsigned long long)v->attach_us);
}

/* ---- before any attach: every device and its group --------------------- */

/* The driver bound to the device at sysfs directory dir: its name in buf,
 * "" when none. */
static const char *driver_of(const char *dir, char *buf, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];
	const char *name;
	ssize_t n;

	snprintf(link, sizeof(link), "%s/driver", dir);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0) {
		buf[0] = 0;
		return buf;
	}
	target[n] = 0;
	name = strrchr(target, '/');
	snprintf(buf, len, "%.63s", name ? name + 1 : target);
	return buf;
}

static unsigned header_type_of(const char *dir)
{
	char path[PATH_MAX + 512];
	FILE *f;
	int c = 0;

	snprintf(path, sizeof(path), "%s/config", dir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fseek(f, PCI_HEADER_TYPE, SEEK_SET) == 0)
		c = fgetc(f);
	fclose(f);
	return c < 0 ? 0 : (unsigned)c;
}

/* Problems are gathered, then told one line each: a user with two devices
 * and a group in the way learns all of it from one run. */
static unsigned preflight_problems;
static char preflight_last[768];
__attribute__((format(printf, 1, 2))) static void problem(const char *fmt, ...)
{
	va_list ap;

	/* Each line is printed when the next one comes; the last one is
	 * die()'s, so there is no summary line beyond them. */
	if (preflight_problems) {
		fflush(stdout);
		fprintf(stderr, "kvmini: %s\n", preflight_last);
	}
	va_start(ap, fmt);
	vsnprintf(preflight_last, sizeof(preflight_last), fmt, ap);
	va_end(ap);
	preflight_problems++;
}

void vfio_preflight(const char *const *bdfs, unsigned n)
{
	char told[PCI_MAX_VFIO * 8][13]; /* group members already named */
	unsigned ntold = 0;

	preflight_problems = 0;
	for (unsigned i = 0; i < n; i++) {
		char canon[13], sysdev[PATH_MAX], drv[64], gdir[PATH_MAX + 32];
		unsigned vendor = 0, device = 0;
		struct dirent *e;
		struct stat st;
		DIR *d;

		if (vfio_parse_bdf(bdfs[i], NULL, canon))
			continue; /* main() has said so already */
		snprintf(sysdev, sizeof(sysdev), "%s/%s", VFIO_SYSFS_PCI, canon);
		if (stat(sysdev, &st)) {
			problem("vfio %s: no such PCI device (%s does not exist); list the host's "
				"devices with lspci -D or ls /sys/bus/pci/devices",
				canon, sysdev);
			continue;
		}
		sysfs_read_hex(sysdev, "vendor", &vendor);
		sysfs_read_hex(sysdev, "device", &device);
		snprintf(gdir, sizeof(gdir), "%s/iommu_group/devices", sysdev);
		if (access(gdir, F_OK)) {
			problem("vfio %s: no IOMMU group: the host IOMMU is off; boot the host "
				"kernel with intel_iommu=on (AMD: amd_iommu=on) and an IOMMU enabled "
				"in firmware or QEMU (-device intel-iommu)",
				canon);
			continue;
		}
		/* The same words as vfio_attach() (the probe's path). */
		if (!driver_of(sysdev, drv, sizeof(drv))[0])
			problem("vfio %s: device %04x:%04x has no driver, it must be bound to "
				"vfio-pci: modprobe vfio-pci; echo vfio-pci > %s/driver_override; "
				"echo %s > /sys/bus/pci/drivers_probe",
				canon, vendor, device, sysdev, canon);
		else if (strcmp(drv, "vfio-pci"))
			problem("vfio %s: device %04x:%04x is bound to %s, not vfio-pci; rebind it: "
				"modprobe vfio-pci; echo vfio-pci > %s/driver_override; "
				"echo %s > %s/driver/unbind; echo %s > /sys/bus/pci/drivers_probe",
				canon, vendor, device, drv, sysdev, canon, sysdev, canon);
		/* The group is the unit of ownership: every other member must be
		 * free for it (vfio-pci, pci-stub or no driver); bridges may
		 * keep their driver and are not assigned. */
		d = opendir(gdir);
		while (d && (e = readdir(d))) {
			char mdir[PATH_MAX + 300];
			bool dup = false;

			if (e->d_name[0] == '.' || !strcmp(e->d_name, canon))
				continue;
			snprintf(mdir, sizeof(mdir), "%s/%s", gdir, e->d_name);
			driver_of(mdir, drv, sizeof(drv));
			if (vfio_group_member_ok(header_type_of(mdir), drv))
				continue;
			for (unsigned t = 0; t < ntold; t++)
				dup |= !strcmp(told[t], e->d_name);
			if (dup)
				continue;
			if (ntold < sizeof(told) / sizeof(told[0]))
				snprintf(told[ntold++], sizeof(told[0]), "%.12s", e->d_name);
			problem("vfio %s: its IOMMU group also holds %s, bound to %s: every device "
				"of a group must be bound to vfio-pci or to no driver; unbind it: echo "
				"%s > /sys/bus/pci/devices/%s/driver/unbind (or bind it to vfio-pci "
				"and give it with --vfio too)",
				canon, e->d_name, drv, e->d_name, e->d_name);
		}
		if (d)
			closedir(d);
	}
	if (preflight_problems)
		die(EXIT_VFIO, "%s", preflight_last);
}

/* ---- stage 2: populate -------------------------------------------------- */

/* Walk the capability chain of a region info the kernel returned. */
static void region_caps(struct vfio_region *r, const uint8_t *buf, size_t len)
{
	uint32_t off = r->info.cap_offset;
	unsigned guard = 0;

	while (off && off + sizeof(struct vfio_info_cap_header) <= len && guard++ < 16) {
		const struct vfio_info_cap_header *h = (const void *)(buf + off);

		if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP &&
		    off + sizeof(struct vfio_region_info_cap_sparse_mmap) <= len) {
			const struct vfio_region_info_cap_sparse_mmap *s = (const void *)h;
			uint32_t nr = s->nr_areas;

			r->has_sparse = true;
			for (uint32_t i = 0; i < nr && r->nsparse < 16; i++) {
				size_t a = off + sizeof(*s) + i * sizeof(s->areas[0]);

				if (a + sizeof(s->areas[0]) > len)
					break;
				memcpy(&r->sparse[r->nsparse], buf + a, sizeof(r->sparse[0]));
				/* Each area is mapped MAP_FIXED into a reservation
				 * of the region's size: one past its end is dropped
				 * (that part then traps) rather than trusted. */
				if (r->sparse[r->nsparse].off > r->info.size ||
				    r->sparse[r->nsparse].size >
					r->info.size - r->sparse[r->nsparse].off)
					continue;
				r->nsparse++;
			}
		} else if (h->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
			r->msix_mappable = true;
		}
		off = h->next;
	}
}

static void region_info(struct vfio_dev *v, unsigned index)
{
	struct vfio_region *r = &v->reg[index];
	uint8_t *buf;
	size_t len = sizeof(struct vfio_region_info);

	for (int tries = 0; tries < 2; tries++) {
		buf = calloc(1, len);
		if (!buf)
			die(EXIT_HOST, "out of memory");
		((struct vfio_region_info *)buf)->argsz = (uint32_t)len;
		((struct vfio_region_info *)buf)->index = index;
		if (ioctl(v->fd, VFIO_DEVICE_GET_REGION_INFO, buf)) {
			free(buf);
			/* VGA is optional: the kernel says EINVAL without it. */
			memset(&r->info, 0, sizeof(r->info));
			r->info.index = index;
			return;
		}
		memcpy(&r->info, buf, sizeof(r->info));
		if (r->info.argsz <= len)
			break;
		len = r->info.argsz; /* capabilities did not fit: ask again */
		free(buf);
		buf = NULL;
	}
	if (buf && (r->info.flags & VFIO_REGION_INFO_FLAG_CAPS))
		region_caps(r, buf, len);
	free(buf);
}

static void vfio_populate(struct vfio_dev *v)
{
	v->info.argsz = sizeof(v->info);
	if (ioctl(v->fd, VFIO_DEVICE_GET_INFO, &v->info))
		die_errno(EXIT_VFIO, "vfio %s: VFIO_DEVICE_GET_INFO", v->bdf);
	if (!(v->info.flags & VFIO_DEVICE_FLAGS_PCI))
		die(EXIT_VFIO, "vfio %s: VFIO says this is not a PCI device (flags 0x%x)", v->bdf,
		    v->info.flags);
	if (v->info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX ||
	    v->info.num_irqs <= VFIO_PCI_MSIX_IRQ_INDEX)
		die(EXIT_VFIO, "vfio %s: device reports %u regions and %u irq indexes, too few",
		    v->bdf, v->info.num_regions, v->info.num_irqs);
	v->reset_works = v->info.flags & VFIO_DEVICE_FLAGS_RESET;
	trace(TRACE_VFIO, "populate: PCI device, %u regions, %u irq indexes, reset %s",
	      v->info.num_regions, v->info.num_irqs,
	      v->reset_works ? "supported" : "not supported");

	for (unsigned i = 0; i < NREGIONS && i < v->info.num_regions; i++) {
		struct vfio_region *r = &v->reg[i];

		region_info(v, i);
		if (!r->info.size) {
			trace(TRACE_VFIO, "populate: region %-6s absent", region_names[i]);
			continue;
		}
		trace(TRACE_VFIO,
		      "populate: region %-6s size 0x%llx offset 0x%llx flags 0x%x (%s%s%s)%s%s",
		      region_names[i], (unsigned long long)r->info.size,
		      (unsigned long long)r->info.offset, r->info.flags,
		      r->info.flags & VFIO_REGION_INFO_FLAG_READ ? "read " : "",
		      r->info.flags & VFIO_REGION_INFO_FLAG_WRITE ? "write " : "",
		      r->info.flags & VFIO_REGION_INFO_FLAG_MMAP ? "mmap" : "no-mmap",
		      r->has_sparse ? ", sparse mmap" : "",
		      r->msix_mappable ? ", MSI-X mappable" : "");
		for (unsigned a = 0; a < r->nsparse; a++)
			trace(TRACE_VFIO, "populate:   sparse area [0x%llx, +0x%llx)",
			      (unsigned long long)r->sparse[a].off,
			      (unsigned long long)r->sparse[a].size);
	}
	if (!v->reg[VFIO_PCI_CONFIG_REGION_INDEX].info.size)
		die(EXIT_VFIO, "vfio %s: the device has no config region", v->bdf);

	for (unsigned i = 0; i < NIRQS && i < v->info.num_irqs; i++) {
		struct vfio_irq_info *q = &v->irq[i];

		q->argsz = sizeof(*q);
		q->index = i;
		if (ioctl(v->fd, VFIO_DEVICE_GET_IRQ_INFO, q)) {
			memset(q, 0, sizeof(*q));
			continue;
		}
		trace(TRACE_VFIO, "populate: irq %-5s count %u flags 0x%x (%s%s%s%s)", irq_names[i],
		      q->count, q->flags, q->flags & VFIO_IRQ_INFO_EVENTFD ? "eventfd " : "",
		      q->flags & VFIO_IRQ_INFO_MASKABLE ? "maskable " : "",
		      q->flags & VFIO_IRQ_INFO_AUTOMASKED ? "automasked " : "",
		      q->flags & VFIO_IRQ_INFO_NORESIZE ? "noresize" : "");
	}
}

/* ---- stage 3: vconfig ---------------------------------------------------- */

/* Config hooks.  The core keeps the emulated bytes; these add what only
 * the device knows and pass on what the device must see. */

static void vfio_sync_command(struct vfio_dev *v)
{
	uint16_t guest = (uint16_t)vconfig_get(&v->pci.cfg, PCI_COMMAND, 2);
	uint16_t want = vfio_command_merge(guest, v->real_cmd);

	if (want == v->real_cmd)
		return;
	if (cfg_pwrite(v, &want, 2, PCI_COMMAND)) {
		warn("vfio %s: writing Command 0x%04x to the device failed", v->bdf, want);
		return;
	}
	trace(TRACE_VFIO,
	      "vconfig: device Command 0x%04x -> 0x%04x (io %s, memory %s, "
	      "bus master %s, INTx %s)",
	      v->real_cmd, want, want & PCI_COMMAND_IO ? "on" : "off",
	      want & PCI_COMMAND_MEMORY ? "on" : "off", want & PCI_COMMAND_MASTER ? "on" : "off",
	      want & PCI_COMMAND_INTX_DISABLE ? "disabled" : "enabled");
	v->real_cmd = want;
}

/* Replace the bytes of field [foff, foff+flen) inside a read of
 * [off, off+len) by the same bytes of fval. */
static uint32_t patch(uint32_t val, unsigned off, unsigned len, unsigned foff, unsigned flen,
		      uint32_t fval)
{
	for (unsigned b = 0; b < len; b++) {
		unsigned at = off + b;

		if (at >= foff && at < foff + flen) {
			uint32_t byte = (fval >> (8 * (at - foff))) & 0xff;

			val = (val & ~(0xffu << (8 * b))) | byte << (8 * b);
		}
	}
	return val;
}

/* Bytes [lo, hi) of the guest's config space that are a live capability's
 * body, at device offset dev + (lo - guest); len <= 4. */
static void live_io(struct vfio_dev *v, unsigned off, unsigned len, uint32_t *val, bool write)
{
	for (int i = 0; i < v->nlive; i++) {
		unsigned g = v->live[i].guest, lo, hi, at;
		uint8_t buf[4];

		/* The ID and next pointer (first two bytes) stay kvmini's. */
		if (!vfio_span_overlap(off, len, g + 2, v->live[i].len - 2u, &lo, &hi))
			continue;
		at = v->live[i].dev + (lo - g);
		if (write) {
			for (unsigned b = lo; b < hi; b++)
				buf[b - lo] = (uint8_t)(*val >> (8 * (b - off)));
			if (cfg_pwrite(v, buf, hi - lo, at))
				warn("vfio %s: config write of %u bytes at 0x%x failed", v->bdf,
				     hi - lo, at);
		} else if (!cfg_pread(v, buf, hi - lo, at)) {
			for (unsigned b = lo; b < hi; b++)
				*val = (*val & ~(0xffu << (8 * (b - off)))) |
				       (uint32_t)buf[b - lo] << (8 * (b - off));
		}
	}
}

static void vfio_cfg_read(struct pci_dev *d, unsigned off, unsigned len, uint32_t *val)
{
	struct vfio_dev *v = d->priv;
	uint16_t real;

	live_io(v, off, len, val, false);

	/* Status: a guest polling for INTx or checking errors must see the
	 * device's own bits, which change without any config write. */
	if (off < PCI_STATUS + 2 && off + len > PCI_STATUS) {
		if (cfg_pread(v, &real, 2, PCI_STATUS))
			return;
		*val =
		    patch(*val, off, len, PCI_STATUS, 2,
			  vfio_status_merge((uint16_t)vconfig_get(&d->cfg, PCI_STATUS, 2), real));
	}
}

static void vfio_cfg_write(struct pci_dev *d, unsigned off, unsigned len, uint32_t val)
{
	struct vfio_dev *v = d->priv;

	live_io(v, off, len, &val, true);
	if (off < PCI_COMMAND + 2 && off + len > PCI_COMMAND)
		vfio_sync_command(v);
	if (off < PCI_STATUS + 2 && off + len > PCI_STATUS) {
		/* Write-1-to-clear error bits go to the device, which holds
		 * them; a zero elsewhere changes nothing there. */
		uint16_t w1c = (uint16_t)(patch(0, PCI_STATUS, 2, off, len, val) & VFIO_STATUS_W1C);

		if (w1c) {
			cfg_pwrite(v, &w1c, 2, PCI_STATUS);
			trace(TRACE_VFIO, "vconfig: Status error bits 0x%04x cleared on the device",
			      w1c);
		}
	}
}

static void vfio_bus_master(struct pci_dev *d, bool on)
{
	struct vfio_dev *v = d->priv;

	trace(TRACE_VFIO, "vconfig: guest turned bus master %s: passed to the device",
	      on ? "on" : "off");
	vfio_sync_command(v);
}

static void vfio_irq_changed(struct pci_dev *d);

static const struct pci_dev_ops vfio_pci_ops = {
    .cfg_read = vfio_cfg_read,
    .cfg_write = vfio_cfg_write,
    .irq_changed = vfio_irq_changed,
    .bus_master = vfio_bus_master,
};

static void vfio_bar_trap(void *opaque, uint64_t offset, void *data, uint32_t len, bool is_write);

/* Put the next capability at the device's own offset when the core lets
 * us, so a driver that hard-codes offsets still finds it. */
static void cap_place(struct vfio_dev *v, uint8_t off)
{
	if (off >= v->pci.cfg.cap_next)
		v->pci.cfg.cap_next = off;
}

static void vfio_vconfig(struct vfio_dev *v)
{
	struct pci_dev *d = &v->pci;
	const uint8_t *c = v->real;
	uint64_t sizes[6];
	uint32_t class_code;
	unsigned cfgsize = (unsigned)v->reg[VFIO_PCI_CONFIG_REGION_INDEX].info.size;
	uint8_t pin;
	int ret;

	if (cfgsize > PCI_CFG_SPACE)
		cfgsize = PCI_CFG_SPACE; /* extended capabilities are hidden */
	memset(v->real, 0xff, sizeof(v->real));
	if (cfg_pread(v, v->real, cfgsize, 0))
		die(EXIT_VFIO, "vfio %s: cannot read the config space through VFIO", v->bdf);
	if ((c[PCI_HEADER_TYPE] & 0x7f) != PCI_HEADER_TYPE_NORMAL)
		die(EXIT_VFIO,
		    "vfio %s: header type 0x%02x: kvmini assigns endpoints only, not bridges",
		    v->bdf, c[PCI_HEADER_TYPE]);
	v->real_cmd = rd16(c + PCI_COMMAND);

	/* Identity passes through: the guest's driver binds on these. */
	class_code = c[PCI_CLASS_PROG] | c[PCI_CLASS_DEVICE] << 8 | c[PCI_CLASS_DEVICE + 1] << 16;
	pci_dev_init(d, v->name, v->slot, rd16(c + PCI_VENDOR_ID), rd16(c + PCI_DEVICE_ID),
		     class_code, c[PCI_REVISION_ID]);
	d->fn = v->fn;
	pci_set_subsystem(d, rd16(c + PCI_SUBSYSTEM_VENDOR_ID), rd16(c + PCI_SUBSYSTEM_ID));
	d->ops = &vfio_pci_ops;
	d->priv = v;
	/* A function of a guest slot that holds several: the multi-function
	 * bit in Header Type (PCI 3.0 6.2.1), as on the host, so that the
	 * guest scans functions 1-7 of the slot. */
	if (v->multi)
		vconfig_set(&d->cfg, PCI_HEADER_TYPE, 1,
			    PCI_HEADER_TYPE_NORMAL | 0x80);
	d->backend = v->io && v->io->ops ? v->io->ops->name : "vfio"; /* no ops: a harness */
	trace(TRACE_VFIO,
	      "vconfig: %04x:%04x class %06x rev %02x subsystem %04x:%04x (from the device)",
	      rd16(c + PCI_VENDOR_ID), rd16(c + PCI_DEVICE_ID), class_code, c[PCI_REVISION_ID],
	      rd16(c + PCI_SUBSYSTEM_VENDOR_ID), rd16(c + PCI_SUBSYSTEM_ID));
	/* Min_Gnt/Max_Lat: read-only facts about the device. */
	vconfig_set(&d->cfg, PCI_MIN_GNT, 1, c[PCI_MIN_GNT]);
	vconfig_set(&d->cfg, PCI_MAX_LAT, 1, c[PCI_MAX_LAT]);

	/* BARs: type bits from the device, sizes from VFIO (the kernel sized
	 * them at probe; sizing the real BAR again would race its driver),
	 * addresses from the guest. */
	for (int i = 0; i < 6; i++)
		sizes[i] = v->reg[i].info.size;
	if (vfio_bars_decode(c, sizes, v->bars))
		die(EXIT_VFIO,
		    "vfio %s: the BARs do not make sense (size not a power of two, or a "
		    "64-bit BAR in slot 5)",
		    v->bdf);
	for (int i = 0; i < 6; i++) {
		const struct vfio_bar_desc *b = &v->bars[i];

		if (b->type == PCI_BAR_UNUSED)
			continue;
		/* What the core can place: I/O up to 64 KiB (x86 port space),
		 * 32-bit memory up to 2 GiB.  Anything else stays hidden. */
		if ((b->type == PCI_BAR_IO && b->size > 0x10000) ||
		    (b->type == PCI_BAR_MEM32 && b->size > (1ULL << 31))) {
			trace(TRACE_VFIO,
			      "vconfig: BAR%d of 0x%llx bytes does not fit kvmini's "
			      "apertures: hidden",
			      i, (unsigned long long)b->size);
			v->bars[i].type = PCI_BAR_UNUSED;
			continue;
		}
		v->ctx[i].v = v;
		v->ctx[i].index = (unsigned)i;
		/* hva is filled in by vfio_bars() once mapped. */
		pci_bar_init(d, i, b->type, b->prefetch, b->size, vfio_bar_trap, &v->ctx[i], NULL);
		trace(TRACE_VFIO, "vconfig: BAR%d %s%s, 0x%llx bytes", i,
		      b->type == PCI_BAR_IO	 ? "I/O"
		      : b->type == PCI_BAR_MEM64 ? "64-bit memory"
						 : "32-bit memory",
		      b->prefetch ? " prefetchable" : "", (unsigned long long)b->size);
	}
	if (v->reg[VFIO_PCI_ROM_REGION_INDEX].info.size) {
		uint64_t sz = v->reg[VFIO_PCI_ROM_REGION_INDEX].info.size;

		if ((sz & (sz - 1)) || sz < 2048 || sz > (1ULL << 31)) {
			/* PCI 3.0 6.2.5.2: a ROM BAR decodes at least 2 KiB. */
			trace(TRACE_VFIO,
			      "vconfig: ROM of 0x%llx bytes is not a power of two "
			      "in [2 KiB, 2 GiB]: hidden",
			      (unsigned long long)sz);
		} else {
			v->ctx[VFIO_PCI_ROM_REGION_INDEX].v = v;
			v->ctx[VFIO_PCI_ROM_REGION_INDEX].index = VFIO_PCI_ROM_REGION_INDEX;
			pci_rom_init(d, sz, vfio_bar_trap, &v->ctx[VFIO_PCI_ROM_REGION_INDEX]);
			trace(TRACE_VFIO, "vconfig: ROM BAR, 0x%llx bytes, read through VFIO",
			      (unsigned long long)sz);
		}
	}
	if (v->reg[VFIO_PCI_VGA_REGION_INDEX].info.size)
		trace(TRACE_VFIO, "vconfig: VGA region hidden (no legacy VGA ranges in kvmini)");

	/* INTx: the pin is the device's; the line is kvmini's routing. */
	pin = c[PCI_INTERRUPT_PIN];
	if (pin > 4 || !v->irq[VFIO_PCI_INTX_IRQ_INDEX].count)
		pin = 0;
	if (pin)
		pci_intx_init(d, pin);
	trace(TRACE_VFIO, "vconfig: interrupt pin %s",
	      pin ? "INTA#..INTD# from the device" : "none");

	/* Capabilities: MSI and MSI-X emulated by the core, a few passed
	 * read-only, the rest hidden (docs/vfio.md has the table). */
	ret = vfio_caps_scan(c, v->caps, VFIO_MAX_CAPS);
	if (ret < 0) {
		trace(TRACE_VFIO, "vconfig: capability list broken (%s): all capabilities hidden",
		      strerror(-ret));
		ret = 0;
	}
	v->ncaps = ret;
	for (int i = 0; i < v->ncaps; i++) {
		const struct vfio_cap *cap = &v->caps[i];
		uint8_t got = 0;

		if (cap->action == VFIO_CAP_HIDE) {
			trace(TRACE_VFIO, "vconfig: cap 0x%02x %s at 0x%02x: hidden", cap->id,
			      vfio_cap_name(cap->id), cap->off);
			continue;
		}
		cap_place(v, cap->off);
		if (cap->id == PCI_CAP_ID_MSI) {
			uint16_t fl = rd16(c + cap->off + PCI_MSI_FLAGS);

			if (!v->irq[VFIO_PCI_MSI_IRQ_INDEX].count) {
				trace(TRACE_VFIO, "vconfig: MSI cap without VFIO MSI: hidden");
				continue;
			}
			/* One vector: VFIO would need every vector's eventfd up
			 * front and the guests we run use one.  The device's own
			 * capabilities may leave no room below 0x100 for it
			 * (found by fuzz_vfio_msix): got stays 0, hidden below. */
			if (pci_msi_init(d, 1, fl & PCI_MSI_FLAGS_64BIT,
					 fl & PCI_MSI_FLAGS_MASKBIT)) {
				got = d->msi.cap;
				trace(TRACE_VFIO,
				      "vconfig: cap MSI at 0x%02x (device: 0x%02x): emulated, "
				      "%s, %smaskable, 1 vector",
				      got, cap->off, fl & PCI_MSI_FLAGS_64BIT ? "64-bit" : "32-bit",
				      fl & PCI_MSI_FLAGS_MASKBIT ? "" : "not ");
			}
		} else if (cap->id == PCI_CAP_ID_MSIX) {
			uint16_t fl = rd16(c + cap->off + PCI_MSIX_FLAGS);
			uint32_t tbl = rd32(c + cap->off + PCI_MSIX_TABLE);
			uint32_t pba = rd32(c + cap->off + PCI_MSIX_PBA);
			unsigned nvec = (fl & PCI_MSIX_FLAGS_QSIZE) + 1u;
			int bir = (int)(tbl & PCI_MSIX_TABLE_BIR);

			if (!v->irq[VFIO_PCI_MSIX_IRQ_INDEX].count || bir > 5 ||
			    (int)(pba & PCI_MSIX_PBA_BIR) != bir ||
			    v->bars[bir].type == PCI_BAR_UNUSED ||
			    v->bars[bir].type == PCI_BAR_IO) {
				trace(TRACE_VFIO,
				      "vconfig: MSI-X cap unusable (no VFIO MSI-X, or table "
				      "and PBA in different or missing BARs): hidden");
				continue;
			}
			if (nvec > PCI_MSIX_MAX_VECTORS) {
				trace(TRACE_VFIO, "vconfig: MSI-X: %u vectors, kvmini offers %u",
				      nvec, PCI_MSIX_MAX_VECTORS);
				nvec = PCI_MSIX_MAX_VECTORS;
			}
			/* A device is not trusted either: a table or PBA past
			 * its BAR's end, or the two overlapping, would make
			 * pci_register() refuse the whole device (found by
			 * fuzz_vfio_msix).  Hide MSI-X instead; MSI or INTx
			 * still work. */
			uint64_t tof = tbl & ~PCI_MSIX_TABLE_BIR, pof = pba & ~PCI_MSIX_PBA_BIR;
			uint64_t tl = 16ull * nvec, pl = (nvec + 63) / 64 * 8ull;
			if (tof + tl > v->bars[bir].size || pof + pl > v->bars[bir].size ||
			    (tof < pof + pl && pof < tof + tl)) {
				trace(TRACE_VFIO,
				      "vconfig: MSI-X table (+0x%llx) or PBA (+0x%llx) outside "
				      "BAR%d's 0x%llx bytes, or overlapping: hidden",
				      (unsigned long long)tof, (unsigned long long)pof, bir,
				      (unsigned long long)v->bars[bir].size);
				continue;
			}
			/* No room below 0x100 for it: got stays 0, hidden below. */
			if (pci_msix_init(d, nvec, bir, tbl & ~PCI_MSIX_TABLE_BIR,
					  pba & ~PCI_MSIX_PBA_BIR)) {
				v->msix_nvec = nvec;
				got = d->msix.cap;
				trace(TRACE_VFIO,
				      "vconfig: cap MSI-X at 0x%02x (device: 0x%02x): emulated, "
				      "%u vectors, table BAR%d+0x%x, PBA BAR%d+0x%x",
				      got, cap->off, nvec, bir, tbl & ~PCI_MSIX_TABLE_BIR, bir,
				      pba & ~PCI_MSIX_PBA_BIR);
			}
		} else {
			static const uint8_t zero[256];

			got = pci_cap_add(d, cap->id, c + cap->off + 2, cap->len - 2u, zero);
			/* A vendor-specific capability can be a register of the
			 * device, not a fact about it: virtio's PCI configuration
			 * access capability (virtio 1.2 4.1.4.9) is a window whose
			 * bar/offset/length the driver writes and whose data
			 * register reads the BAR.  So its body is read from and
			 * written to the device at each access (VFIO passes
			 * vendor-specific capabilities raw); a copy would make
			 * the window read 0.  Found by the vfio-msix scenario. */
			if (got && cap->id == PCI_CAP_ID_VNDR) {
				v->live[v->nlive].guest = got;
				v->live[v->nlive].dev = cap->off;
				v->live[v->nlive].len = (uint8_t)cap->len;
				v->nlive++;
			}
			trace(TRACE_VFIO,
			      "vconfig: cap 0x%02x %s at 0x%02x (device: 0x%02x): %s, %u bytes",
			      cap->id, vfio_cap_name(cap->id), got, cap->off,
			      cap->id == PCI_CAP_ID_VNDR ? "passed through (live)"
							 : "read-only copy",
			      cap->len);
		}
		if (!got)
			trace(TRACE_VFIO, "vconfig: no room for cap 0x%02x: hidden", cap->id);
	}
	trace(TRACE_VFIO, "vconfig: Status read live from the device (interrupt and error bits); "
			  "Command decode and bus master passed to the device; "
			  "extended config space hidden");
}

/* ---- stage 4: BARs ------------------------------------------------------- */

static void vfio_bar_trap(void *opaque, uint64_t offset, void *data, uint32_t len, bool is_write)
{
	struct vfio_bar_ctx *x = opaque;
	struct vfio_dev *v = x->v;
	const struct vfio_region *r = &v->reg[x->index];
	ssize_t n;

	stats[STAT_VFIO_BAR_TRAP]++;
	if (len > 8 || offset >= r->info.size || len > r->info.size - offset) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write) {
		if (x->index == VFIO_PCI_ROM_REGION_INDEX)
			return; /* ROM is read-only */
		n = pwrite(v->fd, data, len, (off_t)(r->info.offset + offset));
	} else {
		n = pread(v->fd, data, len, (off_t)(r->info.offset + offset));
	}
	if (n != (ssize_t)len && !is_write)
		memset(data, 0xff, len);
	if (trace_mask & TRACE_VFIO) {
		uint64_t val = 0;

		memcpy(&val, data, len);
		trace(TRACE_VFIO, "bars: %s trap %s +0x%llx/%u %s 0x%llx%s", region_names[x->index],
		      is_write ? "write" : "read", (unsigned long long)offset, len,
		      is_write ? "<-" : "->", (unsigned long long)val,
		      n == (ssize_t)len ? "" : " (device refused)");
	}
}

/* Do the MSI-X pages cover the whole BAR (so no slot is left to add)?
 * The same walk as the fast-path check, with no mmap-able area at all:
 * it succeeds only when every page is a hole. */
static bool holes_fill(uint64_t size, const struct vfio_area *holes, unsigned nholes, uint64_t page)
{
	static const struct vfio_area none = {0, 0};

	return nholes && vfio_fast_path_ok(size, &none, 1, holes, nholes, page);
}

static void vfio_bars(struct vfio_dev *v)
{
	long page = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < 6; i++) {
		struct vfio_region *r = &v->reg[i];
		struct pci_bar *bar = &v->pci.bar[i];
		struct vfio_area holes[2];
		unsigned nholes = 0;
		void *res;

		if (v->bars[i].type == PCI_BAR_UNUSED)
			continue;
		bar->force_trap = v->trap_bars;
		if (v->bars[i].type == PCI_BAR_IO) {
			trace(TRACE_VFIO, "bars: BAR%d I/O: trapped (pread/pwrite)", i);
			continue;
		}
		if (!(r->info.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
			trace(TRACE_VFIO, "bars: BAR%d: VFIO allows no mmap: trapped", i);
			continue;
		}
		/* The MSI-X table and PBA pages are the core's to trap. */
		if (v->pci.msix.present && v->pci.msix.bar == i) {
			holes[nholes++] =
			    (struct vfio_area){v->pci.msix.table_off, v->pci.msix.nvec * 16u};
			holes[nholes++] = (struct vfio_area){v->pci.msix.pba_off,
							     (v->pci.msix.nvec + 63) / 64 * 8u};
		}
		if (!vfio_fast_path_ok(r->info.size, r->has_sparse ? r->sparse : NULL, r->nsparse,
				       holes, nholes, (uint64_t)page)) {
			trace(TRACE_VFIO,
			      "bars: BAR%d: smaller than a page or holes in the mmap-able "
			      "areas: trapped",
			      i);
			continue;
		}
		/* Reserve the whole BAR, then map the device's areas into it;
		 * what is left (MSI-X pages without mmap) stays PROT_NONE and is
		 * never put in a memory slot. */
		res = mmap(NULL, r->info.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (res == MAP_FAILED)
			die_errno(EXIT_HOST, "vfio %s: reserving %s", v->bdf, region_names[i]);
		r->map = res;
		r->map_size = r->info.size;
		if (r->has_sparse) {
			for (unsigned a = 0; a < r->nsparse; a++) {
				if (!r->sparse[a].size)
					continue;
				if (mmap((uint8_t *)res + r->sparse[a].off, r->sparse[a].size,
					 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, v->fd,
					 (off_t)(r->info.offset + r->sparse[a].off)) == MAP_FAILED)
					die_errno(EXIT_VFIO, "vfio %s: mmap of %s area %u", v->bdf,
						  region_names[i], a);
			}
		} else if (mmap(res, r->info.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				v->fd, (off_t)r->info.offset) == MAP_FAILED) {
			die_errno(EXIT_VFIO, "vfio %s: mmap of %s", v->bdf, region_names[i]);
		}
		bar->hva = res;
		trace(TRACE_VFIO, "bars: BAR%d: mmapped at %p, %s", i, res,
		      v->trap_bars ? "but --vfio-trap-bars: trapped (pread/pwrite)"
		      : holes_fill(r->info.size, holes, nholes, (uint64_t)page)
			  ? "but the MSI-X table and PBA pages fill it: trapped by the PCI core"
		      : nholes ? "fast path (KVM memory slots around the MSI-X pages, which trap)"
			       : "fast path (KVM memory slot at the guest's address)");
	}
}

/* ---- stage 5: DMA -------------------------------------------------------- */

static void vfio_dma(struct vfio_dev *v)
{
	struct vm *vm = v->vm;
	struct timespec t0;
	int ret;

	/* IOVA = GPA: the guest programs its own physical addresses into the
	 * device, the IOMMU translates them to kvmini's RAM mapping. */
	/* One container or IOAS serves every device: RAM is pinned and
	 * mapped by the first; the others see it through the same IOMMU
	 * mappings (type1 replays them into a group that joins later). */
	if (v->io->dma_mapped) {
		trace(TRACE_VFIO,
		      "dma: guest RAM [0, 0x%llx) already mapped in the shared %s (by %s): not "
		      "pinned or mapped again",
		      (unsigned long long)v->io->dma_size,
		      v->io->ops == &vfio_iommufd_ops ? "IOAS" : "container", v->io->dma_bdf);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = v->io->ops->dma_map(v->io, 0, vm->mem_size, vm->mem);
	if (ret)
		die(EXIT_VFIO, "vfio %s: %s of %llu MiB guest RAM: %s%s", v->bdf,
		    v->io->ops->map_ioctl, (unsigned long long)(vm->mem_size >> 20),
		    strerror(-ret),
		    ret == -ENOMEM ? "; raise the locked-memory limit (ulimit -l) or run as root"
				   : "");
	v->io->dma_mapped = true;
	v->io->dma_size = vm->mem_size;
	v->io->dma_maps++;
	snprintf(v->io->dma_bdf, sizeof(v->io->dma_bdf), "%s", v->bdf);
	v->dma_us = us_since(&t0);
	trace(TRACE_VFIO, "dma: guest RAM [0, 0x%llx) mapped at IOVA = GPA (%s, %llu us)",
	      (unsigned long long)vm->mem_size, v->io->ops->map_ioctl,
	      (unsigned long long)v->dma_us);
}

/* ---- stage 6: interrupts ------------------------------------------------ */

static int intx_off(struct vfio_dev *v)
{
	int ret = set_irqs(v, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL);

	if (v->intx_irqfd) {
		vm_irqfd(v->vm, v->intx_fd, v->pci.intx_gsi, v->intx_resample_fd, false);
		v->intx_irqfd = false;
	}
	return ret;
}

static int intx_on(struct vfio_dev *v)
{
	int ret;

	/* Level-triggered through KVM: the device's eventfd raises the line,
	 * the guest's EOI signals the resample fd, which VFIO takes as
	 * "unmask" (the kernel masked INTx when it fired), all without a
	 * trip through kvmini. */
	ret = vm_irqfd(v->vm, v->intx_fd, v->pci.intx_gsi, v->intx_resample_fd, true);
	if (ret)
		return ret;
	v->intx_irqfd = true;
	ret = set_irqs(v, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 1, &v->intx_fd);
	if (!ret)
		ret = set_irqs(v, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_UNMASK, 1,
			       &v->intx_resample_fd);
	if (ret)
		intx_off(v);
	return ret;
}

/* 0, or -errno when VFIO refused: then the mode stays as it was, because
 * the device may still be using it. */
static int irq_disable(struct vfio_dev *v)
{
	int ret = 0;

	switch (v->mode) {
	case IRQ_INTX: ret = intx_off(v); break;
	case IRQ_MSI:
		ret = set_irqs(v, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL);
		break;
	case IRQ_MSIX:
		ret = set_irqs(v, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 0, NULL);
		break;
	case IRQ_NONE: break;
	}
	if (ret) {
		warn("vfio %s: disabling %s at the device: %s", v->bdf, mode_names[v->mode],
		     strerror(-ret));
		return ret;
	}
	if (v->mode != IRQ_NONE)
		trace(TRACE_VFIO, "irq: %s disabled at the device", mode_names[v->mode]);
	v->mode = IRQ_NONE;
	return 0;
}

static void irq_mode_set(struct vfio_dev *v, enum vfio_irq_mode want)
{
	int ret = 0;

	if (want == v->mode)
		return;
	/* The old mode goes first: the device must never have two
	 * interrupt mechanisms live at once (PCI 3.0, 6.8.1.3).  If VFIO
	 * refuses to turn it off, the new one is not turned on (found by
	 * fuzz_vfio_msix: MSI-X stayed live at the device beside INTx). */
	if (irq_disable(v))
		return;
	switch (want) {
	case IRQ_INTX: ret = intx_on(v); break;
	case IRQ_MSI:
		ret =
		    set_irqs(v, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER, 1, &v->msi_fd);
		break;
	case IRQ_MSIX:
		ret = set_irqs(v, VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_SET_ACTION_TRIGGER,
			       v->msix_nvec, v->msix_fd);
		break;
	case IRQ_NONE: break;
	}
	if (ret) {
		warn("vfio %s: enabling %s at the device: %s", v->bdf, mode_names[want],
		     strerror(-ret));
		return;
	}
	v->mode = want;
	if (want == IRQ_INTX)
		trace(TRACE_VFIO, "irq: INTx on: eventfd -> irqfd GSI %u, resample -> VFIO unmask",
		      v->pci.intx_gsi);
	else if (want != IRQ_NONE)
		trace(TRACE_VFIO, "irq: %s on: %u eventfd(s) -> KVM irqfd (routes from the guest)",
		      mode_names[want], want == IRQ_MSIX ? v->msix_nvec : 1u);
}

static enum vfio_irq_mode irq_wanted(struct vfio_dev *v)
{
	if (v->pci.msix.present && pci_msix_enabled(&v->pci))
		return IRQ_MSIX;
	if (v->pci.msi.present && pci_msi_enabled(&v->pci))
		return IRQ_MSI;
	if (v->pci.intx_pin)
		return IRQ_INTX;
	return IRQ_NONE;
}

/* The guest changed MSI/MSI-X enable, masks or a message.  The core has
 * already pointed the routes and irqfds of our eventfds at the guest's
 * messages and follows the masks; here only the mode at the device can
 * change. */
static void vfio_irq_changed(struct pci_dev *d)
{
	irq_mode_set(d->priv, irq_wanted(d->priv));
}

static int new_eventfd(struct vfio_dev *v)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		die_errno(EXIT_HOST, "vfio %s: eventfd", v->bdf);
	return fd;
}

static void vfio_irqs(struct vfio_dev *v)
{
	struct pci_dev *d = &v->pci;
	int ret;

	if (d->intx_pin) {
		v->intx_fd = new_eventfd(v);
		v->intx_resample_fd = new_eventfd(v);
	}
	if (d->msi.present) {
		v->msi_fd = new_eventfd(v);
		if (pci_irq_eventfd(d, PCI_MSI_VECTOR, v->msi_fd))
			die(EXIT_VFIO, "vfio %s: the PCI core refused the MSI eventfd", v->bdf);
	}
	for (unsigned i = 0; d->msix.present && i < v->msix_nvec; i++) {
		v->msix_fd[i] = new_eventfd(v);
		if (pci_irq_eventfd(d, i, v->msix_fd[i]))
			die(EXIT_VFIO, "vfio %s: the PCI core refused MSI-X eventfd %u", v->bdf, i);
	}
	/* Like a device out of reset: INTx until the guest enables MSI. */
	irq_mode_set(v, irq_wanted(v));
	/* The host's side: REQ (give the device back) and ERR (AER). */
	ret = vfio_events_start(&v->events, v->vm, v->fd, v->bdf, &v->irq[VFIO_PCI_ERR_IRQ_INDEX],
				&v->irq[VFIO_PCI_REQ_IRQ_INDEX]);
	if (ret)
		die(EXIT_HOST, "vfio %s: cannot watch the host's requests: %s", v->bdf,
		    strerror(-ret));
}

/* ---- the realize flow ---------------------------------------------------- */

void vfio_init(struct vm *vm, const char *bdf, const struct vfio_place *at, bool trap_bars,
	       const char *backend)
{
	struct vfio_dev *v;
	int ret;

	if (vfio_ndevs >= VFIO_MAX_DEVICES)
		die(EXIT_USAGE, "--vfio: at most %d devices", VFIO_MAX_DEVICES);
	v = &vfio_devs[vfio_ndevs++];
	vfio_dev_blank(v, backend);
	v->io = &run_io;
	v->vm = vm;
	v->slot = at->slot;
	v->fn = at->fn;
	v->multi = at->multi;
	v->trap_bars = trap_bars;
	v->active = true;
	/* Registered first, so that a die() in any stage below releases
	 * whatever the earlier stages took. */
	vm_at_exit(vm, vfio_teardown, v);

	vfio_attach(v, bdf);
	vfio_populate(v);
	reset_device(v, "attaching");
	vfio_vconfig(v);
	vfio_bars(v);
	ret = pci_register(vm, &v->pci);
	if (ret)
		die(EXIT_VFIO, "vfio %s: cannot plug it into 00:%02x.%x: %s", v->bdf, v->slot,
		    v->fn, strerror(-ret));
	v->registered = true;
	vfio_dma(v);
	vfio_irqs(v);
	v->realized_us = us_since(&t_start);
	trace(TRACE_VFIO, "realized %s at 00:%02x.%x through %s, %llu us after kvmini started",
	      v->bdf, v->slot, v->fn, v->io->ops->name, (unsigned long long)v->realized_us);
}

void vfio_print_stats(FILE *f, int width)
{
	unsigned groups = 0;

	for (unsigned i = 0; i < vfio_ndevs; i++) {
		const struct vfio_dev *v = &vfio_devs[i];

		if (!v->active || !v->io || !v->io->ops)
			continue;
		groups += v->link.group >= 0 && !v->link.group_shared;
		fprintf(f, "  vfio %s: backend %s (%s)\n", v->bdf, v->io->ops->name, v->why);
		fprintf(f, "    %-*s 00:%02x.%x\n", width, "guest slot", v->slot, v->fn);
		fprintf(f, "    %-*s %u\n", width, "attach ioctls", v->link.attach_ioctls);
		fprintf(f, "    %-*s %llu\n", width, "attach us", (unsigned long long)v->attach_us);
		fprintf(f, "    %-*s %llu\n", width, "dma map us", (unsigned long long)v->dma_us);
		fprintf(f, "    %-*s %llu\n", width, "start to realized us",
			(unsigned long long)v->realized_us);
	}
	/* Several devices share one container or IOAS: say how often guest
	 * RAM was pinned and mapped for them (once is the point). */
	if (vfio_ndevs > 1 && run_io.ops == &vfio_iommufd_ops)
		fprintf(f, "  vfio: %u devices in one IOAS, guest RAM mapped %u time%s\n", vfio_ndevs,
			run_io.dma_maps, run_io.dma_maps == 1 ? "" : "s");
	else if (vfio_ndevs > 1 && run_io.ops)
		fprintf(f,
			"  vfio: %u devices in one container (%u IOMMU group%s), guest RAM mapped %u "
			"time%s\n",
			vfio_ndevs, groups, groups == 1 ? "" : "s", run_io.dma_maps,
			run_io.dma_maps == 1 ? "" : "s");
}

/* One device's object: the first one's is the report's "vfio" (format 1),
 * every one's is an item of "vfio_devices". */
static void device_json(FILE *f, const struct vfio_dev *v)
{
	/* The fields a format-1 "vfio" always had come first, in their
	 * order (readers match on it); issue 21's follow.  The reasons are
	 * kvmini's own fixed strings: no escaping needed. */
	fprintf(f,
		"{\"bdf\":\"%s\",\"backend_requested\":\"%s\",\"backend\":\"%s\","
		"\"backend_reason\":\"%s\",\"attach_ioctls\":%u,\"attach_us\":%llu,"
		"\"dma_map_us\":%llu,\"realized_us\":%llu,\"slot\":\"00:%02x.%x\",\"group\":%d,"
		"\"group_shared\":%s,\"joined\":%s}",
		v->bdf, v->want, v->io->ops->name, v->why, v->link.attach_ioctls,
		(unsigned long long)v->attach_us, (unsigned long long)v->dma_us,
		(unsigned long long)v->realized_us, v->slot, v->fn, v->link.group,
		v->link.group_shared ? "true" : "false", v->link.joined ? "true" : "false");
}

void vfio_report_json(FILE *f)
{
	bool first = true;

	if (!vfio_ndevs || !vfio_devs[0].active || !vfio_devs[0].io || !vfio_devs[0].io->ops)
		return;
	fputs(",\"vfio\":", f);
	device_json(f, &vfio_devs[0]);
	fputs(",\"vfio_devices\":[", f);
	for (unsigned i = 0; i < vfio_ndevs; i++) {
		if (!vfio_devs[i].io || !vfio_devs[i].io->ops)
			continue;
		if (!first)
			fputc(',', f);
		device_json(f, &vfio_devs[i]);
		first = false;
	}
	fprintf(f, "],\"vfio_dma_maps\":%u", run_io.dma_maps);
}

/* `kvmini check --vfio`: the first two stages and the teardown, with no VM
 * (so no BARs, DMA or interrupts): the device is really attached through
 * the same code a run uses, then released.  Dies like vfio_init() on the
 * first failure.  summary gets "container backend, group 5, 9 regions, 5
 * irq indexes". */
void vfio_probe(const char *bdf, const char *backend, char *summary, size_t len)
{
	struct vfio_dev *v = &probe_dev;
	char group[32] = "";

	vfio_dev_blank(v, backend);
	/* Each probe alone: its own container or IOAS, released with it. */
	memset(&probe_io, 0, sizeof(probe_io));
	v->io = &probe_io;
	vfio_attach(v, bdf);
	vfio_populate(v);
	/* The cdev path never opens the group, so it has no number to say. */
	if (v->link.group >= 0)
		snprintf(group, sizeof(group), ", group %d", v->link.group);
	snprintf(summary, len, "%s backend (%s)%s, %u regions, %u irq indexes, reset %s",
		 v->io->ops->name, v->why, group, v->info.num_regions, v->info.num_irqs,
		 v->reset_works ? "supported" : "not supported");
	vfio_teardown(v);
}
