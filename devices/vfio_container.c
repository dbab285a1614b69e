// SPDX-License-Identifier: MIT
/*
 * vfio_container.c - the legacy VFIO IOMMU backend: a container
 * (/dev/vfio/vfio) holding the device's IOMMU group (/dev/vfio/N) with the
 * type1 IOMMU driver.  See Documentation/driver-api/vfio.rst in Linux for
 * the sequence; vfio_iommufd.c is the other backend behind the same
 * struct vfio_iommu_ops.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../vmm/trace.h"
#include "vfio.h"

void vfio_iommu_init(struct vfio_iommu *io, const struct vfio_iommu_ops *ops)
{
	memset(io, 0, sizeof(*io));
	io->ops = ops;
	io->container_fd = -1;
	io->group_fd = -1;
	io->group = -1;
	io->iommufd = -1;
}

/* The group number is the name of the directory iommu_group points at. */
static int group_of(const char *sysdev, int *group)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *base;
	char *end;
	long g;

	snprintf(link, sizeof(link), "%s/iommu_group", sysdev);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	errno = 0;
	g = strtol(base, &end, 10);
	if (errno || *end || end == base || g < 0 || g > INT_MAX)
		return -EINVAL;
	*group = (int)g;
	return 0;
}

long vfio_path_holder(const char *want, const char *want2)
{
	char path[PATH_MAX], target[64];
	DIR *proc = opendir("/proc");
	struct dirent *p;
	long found = -1;

	if (!proc)
		return -1;
	while (found < 0 && (p = readdir(proc))) {
		DIR *fds;
		struct dirent *f;
		long pid = strtol(p->d_name, NULL, 10);

		if (pid <= 0 || pid == (long)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((f = readdir(fds))) {
			ssize_t n;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/fd/%s", pid, f->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n <= 0)
				continue;
			target[n] = 0;
			if (!strcmp(target, want) || (want2 && !strcmp(target, want2))) {
				found = pid;
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

/* The devices of group N that keep it from being viable: bound to a driver
 * other than vfio-pci (unbound devices and pci-stub do not count). */
static void group_blockers(int group, char *out, size_t outlen)
{
	char path[PATH_MAX], drv[PATH_MAX];
	DIR *d;
	struct dirent *e;
	size_t used = 0;

	out[0] = 0;
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices", group);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		ssize_t n;
		const char *name;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices/%s/driver", group,
			 e->d_name);
		n = readlink(path, drv, sizeof(drv) - 1);
		if (n <= 0)
			continue;
		drv[n] = 0;
		name = strrchr(drv, '/');
		name = name ? name + 1 : drv;
		if (!strcmp(name, "vfio-pci") || !strcmp(name, "pci-stub"))
			continue;
		used += (size_t)snprintf(out + used, used < outlen ? outlen - used : 0, "%s%s (%s)",
					 used ? ", " : "", e->d_name, name);
		if (used >= outlen)
			break;
	}
	closedir(d);
}

static void container_detach(struct vfio_iommu *io, int device_fd)
{
	/* The device fd first: the group cannot leave the container while a
	 * device of it is open (the kernel says EBUSY). */
	if (device_fd >= 0)
		close(device_fd);
	if (io->group_fd >= 0) {
		if (io->container_set)
			ioctl(io->group_fd, VFIO_GROUP_UNSET_CONTAINER);
		close(io->group_fd);
		trace(TRACE_VFIO, "teardown: IOMMU group %d released", io->group);
	}
	if (io->container_fd >= 0)
		close(io->container_fd);
	io->group_fd = io->container_fd = -1;
	io->container_set = false;
}

static int container_attach(struct vfio_iommu *io, const char *bdf, const char *sysdev,
			    int *device_fd, char *err, size_t errlen)
{
	struct vfio_group_status status = {.argsz = sizeof(status)};
	char path[64];
	int ret, v, fd;

	ret = group_of(sysdev, &io->group);
	if (ret)
		return vfio_errf(
		    err, errlen, ret,
		    "vfio %s: no IOMMU group (the host IOMMU is off); boot the host kernel "
		    "with intel_iommu=on (AMD: amd_iommu=on) and an IOMMU enabled in "
		    "firmware or QEMU (-device intel-iommu)",
		    bdf);
	trace(TRACE_VFIO, "attach: %s is in IOMMU group %d", bdf, io->group);

	io->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (io->container_fd < 0) {
		ret = -errno;
		vfio_errf(err, errlen, ret, "vfio %s: cannot open /dev/vfio/vfio: %s; %s", bdf,
			  strerror(-ret),
			  ret == -ENOENT
			      ? "load the driver: modprobe vfio-pci"
			      : "run kvmini as root (or give this user the VFIO devices)");
		goto out;
	}
	v = attach_ioctl(io, io->container_fd, VFIO_GET_API_VERSION);
	if (v != VFIO_API_VERSION) {
		ret =
		    vfio_errf(err, errlen, -EPROTO,
			      "vfio %s: kernel VFIO API version %d, kvmini speaks %d: use a kernel "
			      "with the standard VFIO API",
			      bdf, v, VFIO_API_VERSION);
		goto out;
	}
	/* v2 fixes the unmap semantics of v1 (no partial unmaps); take it
	 * when the kernel offers it, as every current VMM does. */
	if (attach_ioctl(io, io->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0) {
		io->type = VFIO_TYPE1v2_IOMMU;
	} else if (attach_ioctl(io, io->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0) {
		io->type = VFIO_TYPE1_IOMMU;
	} else {
		ret =
		    vfio_errf(err, errlen, -ENODEV,
			      "vfio %s: the kernel offers no type1 IOMMU driver for VFIO; load it: "
			      "modprobe vfio_iommu_type1",
			      bdf);
		goto out;
	}
	trace(TRACE_VFIO, "attach: container /dev/vfio/vfio, API %d, %s offered", v,
	      io->type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1 (no v2)");

	snprintf(path, sizeof(path), "/dev/vfio/%d", io->group);
	io->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (io->group_fd < 0) {
		ret = -errno;
		if (ret == -EBUSY) {
			long pid = vfio_path_holder(path, io->cdev[0] ? io->cdev : NULL);
			char who[48] = "";

			if (pid > 0)
				snprintf(who, sizeof(who), " (pid %ld)", pid);
			vfio_errf(err, errlen, ret,
				  "vfio %s: device in use by another process%s (another kvmini?): "
				  "IOMMU group %d%s is open elsewhere; stop that process first",
				  bdf, who, io->group, io->cdev[0] ? " or the device's cdev" : "");
		} else {
			vfio_errf(
			    err, errlen, ret,
			    "vfio %s: cannot open %s: %s; is the device bound to vfio-pci and "
			    "are you root?",
			    bdf, path, strerror(-ret));
		}
		goto out;
	}
	if (attach_ioctl(io, io->group_fd, VFIO_GROUP_GET_STATUS, &status)) {
		ret = -errno;
		vfio_errf(err, errlen, ret, "vfio %s: VFIO_GROUP_GET_STATUS: %s", bdf,
			  strerror(-ret));
		goto out;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		char who[512];

		group_blockers(io->group, who, sizeof(who));
		ret = vfio_errf(err, errlen, -EPERM,
				"vfio %s: IOMMU group %d is not viable: %s; bind every device of "
				"/sys/kernel/iommu_groups/%d/devices to vfio-pci (or unbind it)",
				bdf, io->group, who[0] ? who : "another device has a host driver",
				io->group);
		goto out;
	}
	trace(TRACE_VFIO, "attach: group %d opened, viable", io->group);

	if (attach_ioctl(io, io->group_fd, VFIO_GROUP_SET_CONTAINER, &io->container_fd)) {
		ret = -errno;
		vfio_errf(err, errlen, ret, "vfio %s: VFIO_GROUP_SET_CONTAINER: %s", bdf,
			  strerror(-ret));
		goto out;
	}
	io->container_set = true;
	if (attach_ioctl(io, io->container_fd, VFIO_SET_IOMMU, io->type)) {
		ret = -errno;
		vfio_errf(err, errlen, ret,
			  "vfio %s: VFIO_SET_IOMMU: %s; the IOMMU may not support this device", bdf,
			  strerror(-ret));
		goto out;
	}
	trace(TRACE_VFIO, "attach: container set, IOMMU %s",
	      io->type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1");

	fd = attach_ioctl(io, io->group_fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fd < 0) {
		ret = -errno;
		vfio_errf(err, errlen, ret, "vfio %s: VFIO_GROUP_GET_DEVICE_FD: %s%s", bdf,
			  strerror(-ret),
			  ret == -EBUSY ? " (device in use by another process (another kvmini?))"
					: "");
		goto out;
	}
	*device_fd = fd;
	trace(TRACE_VFIO, "attach: device fd %d", fd);
	return 0;

out:
	container_detach(io, -1);
	return ret;
}

static int container_dma_map(struct vfio_iommu *io, uint64_t iova, uint64_t size, void *hva)
{
	struct vfio_iommu_type1_dma_map map = {
	    .argsz = sizeof(map),
	    .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	    .vaddr = (uint64_t)(uintptr_t)hva,
	    .iova = iova,
	    .size = size,
	};

	if (ioctl(io->container_fd, VFIO_IOMMU_MAP_DMA, &map))
		return -errno;
	return 0;
}

static int container_dma_unmap(struct vfio_iommu *io, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
	    .argsz = sizeof(unmap),
	    .iova = iova,
	    .size = size,
	};

	if (io->container_fd < 0)
		return -EBADF;
	if (ioctl(io->container_fd, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return 0;
}

const struct vfio_iommu_ops vfio_container_ops = {
    .name = "container",
    .map_ioctl = "VFIO_IOMMU_MAP_DMA",
    .attach = container_attach,
    .detach = container_detach,
    .dma_map = container_dma_map,
    .dma_unmap = container_dma_unmap,
};
