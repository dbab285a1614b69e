// SPDX-License-Identifier: MIT
// needs: devices/pci.c devices/pci_host.c vmm/bus.c devices/vfio_cfg.c vmm/trace.c
// needs: test/fuzz/stubs.c
/*
 * test_vfio_probe.c - `kvmini check --vfio`'s probe (vfio_probe(): attach,
 * populate, teardown, no VM) leaves alone what it never took: stdin, and
 * the REQ/ERR interrupts it never armed.
 *
 * devices/vfio.c and vfio_events.c are #included with ioctl replaced by a
 * stand-in that plays a vfio-pci device (GET_INFO, the regions, the irq
 * indexes with REQ and ERR offered) and records every SET_IRQS.  sysfs is
 * a tree this test makes (VFIO_SYSFS_PCI): the device, its IOMMU group
 * and its driver link to vfio-pci.  The backend's attach hands out a
 * memfd as the device fd.  The real probe runs against a real device in
 * the nested rig (smoke: check, recipe); here the point is its teardown
 * on the struct exactly as the probe leaves it, with stdin a pipe.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

static int probe_ioctl(int fd, unsigned long req, ...);
#define ioctl(fd, req, ...) probe_ioctl(fd, req, ##__VA_ARGS__)
static char sysfs_root[32];
#define VFIO_SYSFS_PCI sysfs_root
#include "../../devices/vfio.c"
#include "../../devices/vfio_events.c"
#undef ioctl

#include <stdarg.h>

#include "tap.h"
#include "../fuzz/stubs.h"

#define BDF "0000:00:03.0"

static int device_fd = -1;
static unsigned set_irqs_on[NIRQS]; /* SET_IRQS calls by index */

static int probe_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != device_fd || fd < 0) {
		errno = EBADF;
		return -1;
	}
	switch (req) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info *i = arg;
		i->flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
		i->num_regions = VFIO_PCI_NUM_REGIONS;
		i->num_irqs = VFIO_PCI_NUM_IRQS;
		return 0;
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info *r = arg;
		if (r->index != VFIO_PCI_CONFIG_REGION_INDEX && r->index != VFIO_PCI_BAR0_REGION_INDEX) {
			errno = EINVAL;
			return -1;
		}
		r->argsz = sizeof(*r);
		r->flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		r->size = r->index == VFIO_PCI_CONFIG_REGION_INDEX ? 256 : 4096;
		r->offset = (uint64_t)r->index << 20;
		return 0;
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info *q = arg;
		q->flags = VFIO_IRQ_INFO_EVENTFD;
		q->count = q->index == VFIO_PCI_MSIX_IRQ_INDEX ? 0 : 1;
		return 0;
	}
	case VFIO_DEVICE_SET_IRQS: {
		struct vfio_irq_set *s = arg;
		if (s->index < NIRQS)
			set_irqs_on[s->index]++;
		return 0;
	}
	case VFIO_DEVICE_RESET: return 0;
	}
	errno = ENOTTY;
	return -1;
}

/* The backend: attach hands out the "device", detach closes it. */
static int fake_attach(struct vfio_iommu *io, struct vfio_link *l, const char *bdf,
		       const char *sysdev, int *fd, char *err, size_t errlen)
{
	(void)io, (void)bdf, (void)sysdev, (void)err, (void)errlen;
	l->group = 5;
	device_fd = *fd = memfd_create("vfio-probe", MFD_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

static void fake_detach(struct vfio_iommu *io, struct vfio_link *l, int fd)
{
	(void)io, (void)l;
	if (fd >= 0)
		close(fd);
}

const struct vfio_iommu_ops vfio_container_ops = {
	.name = "container", .attach = fake_attach, .detach = fake_detach};
const struct vfio_iommu_ops vfio_iommufd_ops = {
	.name = "iommufd", .attach = fake_attach, .detach = fake_detach};

void vfio_iommu_init(struct vfio_iommu *io, const struct vfio_iommu_ops *ops)
{
	memset(io, 0, sizeof(*io));
	io->ops = ops;
	io->container_fd = io->iommufd = -1;
}

long vfio_path_holder(const char *path, const char *path2)
{
	(void)path, (void)path2;
	return -1;
}

static void put(const char *dir, const char *file, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f))
		abort();
}

/* sysfs as vfio_attach() reads it: the device bound to vfio-pci, in group 5. */
static void make_sysfs(void)
{
	char dev[128];

	snprintf(sysfs_root, sizeof(sysfs_root), "/tmp/kvmini-probe-XXXXXX");
	if (!mkdtemp(sysfs_root))
		abort();
	snprintf(dev, sizeof(dev), "%s/" BDF, sysfs_root);
	if (mkdir(dev, 0755))
		abort();
	put(dev, "vendor", "0x1234\n");
	put(dev, "device", "0x11e8\n");
	snprintf(dev, sizeof(dev), "%s/5", sysfs_root);
	if (mkdir(dev, 0755))
		abort();
	snprintf(dev, sizeof(dev), "%s/" BDF "/iommu_group", sysfs_root);
	if (symlink("../5", dev))
		abort();
	snprintf(dev, sizeof(dev), "%s/" BDF "/driver", sysfs_root);
	if (symlink("../drivers/vfio-pci", dev)) /* only its name is read */
		abort();
}

static void remove_sysfs(void)
{
	char path[160];

	snprintf(path, sizeof(path), "rm -rf '%s'", sysfs_root);
	if (system(path))
		tap_diag("could not remove %s", sysfs_root);
}

int main(void)
{
	char summary[256], got[8] = "";
	int p[2];

	make_sysfs();
	/* stdin: a pipe with a line waiting in it. */
	if (pipe(p) || dup2(p[0], 0) < 0 || write(p[1], "still here\n", 11) != 11)
		abort();
	close(p[0]);

	vfio_probe(BDF, "container", summary, sizeof(summary));
	tap_ok(strstr(summary, "container backend") && strstr(summary, "group 5"),
	       "the probe attached, populated and released the device (%s)", summary);
	tap_ok(fcntl(0, F_GETFD) >= 0, "stdin (fd 0) is still open after the probe");
	tap_ok(read(0, got, 5) == 5 && !memcmp(got, "still", 5),
	       "stdin still reads what was waiting in it");
	tap_eq(set_irqs_on[VFIO_PCI_REQ_IRQ_INDEX], 0,
	       "the probe never touched REQ, which it never armed");
	tap_eq(set_irqs_on[VFIO_PCI_ERR_IRQ_INDEX], 0,
	       "the probe never touched ERR, which it never armed");
	tap_ok(fcntl(device_fd, F_GETFD) < 0 && errno == EBADF, "the device fd was closed");

	remove_sysfs();
	return tap_done();
}
