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
	io->iommufd = -1;
	for (unsigned i = 0; i < VFIO_MAX_GROUPS; i++)
		io->groups[i].fd = -1;
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
 * other than vfio-pci (unbound devices, pci-stub and bridges do not count:
 * vfio_group_member_ok()). */
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
		unsigned hdr = 0;
		FILE *f;

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
		/* The header type is byte 0x0e of config space. */
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices/%s/config", group,
			 e->d_name);
		f = fopen(path, "re");
		if (f) {
			if (fseek(f, 0x0e, SEEK_SET) == 0)
				hdr = (unsigned)fgetc(f) & 0xff;
			fclose(f);
		}
		if (vfio_group_member_ok(hdr, name))
			continue;
		used += (size_t)snprintf(out + used, used < outlen ? outlen - used : 0, "%s%s (%s)",
					 used ? ", " : "", e->d_name, name);
		if (used >= outlen)
			break;
	}
	closedir(d);
}

/* The last device of a group closes it; the last group closes the
 * container. */
static void container_detach(struct vfio_iommu *io, struct vfio_link *l, int device_fd)
{
	/* The device fd first: the group cannot leave the container while a
	 * device of it is open (the kernel says EBUSY). */
	if (device_fd >= 0)
		close(device_fd);
	if (l->gi >= 0) {
		__typeof__(io->groups[0]) *g = &io->groups[l->gi];

		if (g->users)
			g->users--;
		if (!g->users && g->fd >= 0) {
			if (g->set)
				ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER);
			close(g->fd);
			trace(TRACE_VFIO, "teardown: IOMMU group %d released", g->num);
			g->fd = -1;
			g->set = false;
		} else if (g->users) {
			trace(TRACE_VFIO, "teardown: IOMMU group %d kept: %u other device%s of it still attached",
			      g->num, g->users, g->users == 1 ? "" : "s");
		}
		l->gi = -1;
		if (io->users)
			io->users--;
	}
	for (unsigned i = 0; i < io->ngroups; i++)
		if (io->groups[i].fd >= 0)
			return; /* the container stays for the groups still in it */
	if (io->container_fd >= 0) {
		close(io->container_fd);
		trace(TRACE_VFIO, "teardown: container closed");
	}
	io->container_fd = -1;
	io->iommu_set = false;
	io->ngroups = 0;
}

/* /dev/vfio/vfio, opened by the first device; the next ones join it. */
static int container_open(struct vfio_iommu *io, struct vfio_link *l, const char *bdf,
			  char *err, size_t errlen)
{
	int v;

	if (io->container_fd >= 0) {
		l->joined = true;
		trace(TRACE_VFIO, "attach: container /dev/vfio/vfio already open: %s joins it",
		      bdf);
		return 0;
	}
	io->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (io->container_fd < 0) {
		int ret = -errno;

		return vfio_errf(err, errlen, ret, "vfio %s: cannot open /dev/vfio/vfio: %s; %s", bdf,
				 strerror(-ret),
				 ret == -ENOENT
				     ? "load the driver: modprobe vfio-pci"
				     : "run kvmini as root (or give this user the VFIO devices)");
	}
	v = attach_ioctl(l, io->container_fd, VFIO_GET_API_VERSION);
	if (v != VFIO_API_VERSION)
		return vfio_errf(err, errlen, -EPROTO,
				 "vfio %s: kernel VFIO API version %d, kvmini speaks %d: use a kernel "
				 "with the standard VFIO API",
				 bdf, v, VFIO_API_VERSION);
	/* v2 fixes the unmap semantics of v1 (no partial unmaps); take it
	 * when the kernel offers it, as every current VMM does. */
	if (attach_ioctl(l, io->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) > 0)
		io->type = VFIO_TYPE1v2_IOMMU;
	else if (attach_ioctl(l, io->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU) > 0)
		io->type = VFIO_TYPE1_IOMMU;
	else
		return vfio_errf(err, errlen, -ENODEV,
				 "vfio %s: the kernel offers no type1 IOMMU driver for VFIO; load "
				 "it: modprobe vfio_iommu_type1",
				 bdf);
	trace(TRACE_VFIO, "attach: container /dev/vfio/vfio, API %d, %s offered", v,
	      io->type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1 (no v2)");
	return 0;
}

/* The device's group in the container: opened, checked and added by its
 * first device; another device of it finds it there (a group is the unit
 * of ownership: it attaches once). */
static int group_join(struct vfio_iommu *io, struct vfio_link *l, const char *bdf, char *err,
		      size_t errlen)
{
	struct vfio_group_status status = {.argsz = sizeof(status)};
	char path[64];
	int ret;

	for (unsigned i = 0; i < io->ngroups; i++) {
		if (io->groups[i].num == l->group && io->groups[i].fd >= 0) {
			l->gi = (int)i;
			l->group_shared = true;
			io->groups[i].users++;
			trace(TRACE_VFIO,
			      "attach: group %d already in the container (another device of it is "
			      "attached): %s attaches through it, no new group ioctls",
			      l->group, bdf);
			return 0;
		}
	}
	if (io->ngroups == VFIO_MAX_GROUPS)
		return vfio_errf(err, errlen, -ENOSPC, "vfio %s: more than %d IOMMU groups", bdf,
				 VFIO_MAX_GROUPS);
	__typeof__(io->groups[0]) *g = &io->groups[io->ngroups];

	snprintf(path, sizeof(path), "/dev/vfio/%d", l->group);
	g->num = l->group;
	g->fd = open(path, O_RDWR | O_CLOEXEC);
	g->set = false;
	g->users = 0;
	if (g->fd < 0) {
		ret = -errno;
		if (ret == -EBUSY) {
			long pid = vfio_path_holder(path, l->cdev[0] ? l->cdev : NULL);
			char who[48] = "";

			if (pid > 0)
				snprintf(who, sizeof(who), " (pid %ld)", pid);
			return vfio_errf(err, errlen, ret,
					 "vfio %s: device in use by another process%s (another "
					 "kvmini?): IOMMU group %d%s is open elsewhere; stop that "
					 "process first",
					 bdf, who, l->group, l->cdev[0] ? " or the device's cdev" : "");
		}
		return vfio_errf(err, errlen, ret,
				 "vfio %s: cannot open %s: %s; is the device bound to vfio-pci and "
				 "are you root?",
				 bdf, path, strerror(-ret));
	}
	/* From here the group is in the table: a failure below closes it
	 * through container_detach(). */
	io->ngroups++;
	l->gi = (int)(g - io->groups);
	g->users = 1;
	if (attach_ioctl(l, g->fd, VFIO_GROUP_GET_STATUS, &status)) {
		ret = -errno;
		return vfio_errf(err, errlen, ret, "vfio %s: VFIO_GROUP_GET_STATUS: %s", bdf,
				 strerror(-ret));
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		char who[512];

		group_blockers(l->group, who, sizeof(who));
		return vfio_errf(err, errlen, -EPERM,
				 "vfio %s: IOMMU group %d is not viable: %s; bind every device of "
				 "/sys/kernel/iommu_groups/%d/devices to vfio-pci (or unbind it)",
				 bdf, l->group, who[0] ? who : "another device has a host driver",
				 l->group);
	}
	trace(TRACE_VFIO, "attach: group %d opened, viable", l->group);

	if (attach_ioctl(l, g->fd, VFIO_GROUP_SET_CONTAINER, &io->container_fd)) {
		ret = -errno;
		return vfio_errf(err, errlen, ret, "vfio %s: VFIO_GROUP_SET_CONTAINER: %s", bdf,
				 strerror(-ret));
	}
	g->set = true;
	/* The IOMMU model is set once, after the first group joined; later
	 * groups share it, and the kernel replays the container's mappings
	 * into their IOMMU domain (so RAM is mapped once for all). */
	if (!io->iommu_set) {
		if (attach_ioctl(l, io->container_fd, VFIO_SET_IOMMU, io->type)) {
			ret = -errno;
			return vfio_errf(err, errlen, ret,
					 "vfio %s: VFIO_SET_IOMMU: %s; the IOMMU may not support "
					 "this device",
					 bdf, strerror(-ret));
		}
		io->iommu_set = true;
		trace(TRACE_VFIO, "attach: container set, IOMMU %s",
		      io->type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1");
	} else {
		trace(TRACE_VFIO, "attach: group %d joined the container (IOMMU %s already set)",
		      l->group, io->type == VFIO_TYPE1v2_IOMMU ? "type1v2" : "type1");
	}
	return 0;
}

static int container_attach(struct vfio_iommu *io, struct vfio_link *l, const char *bdf,
			    const char *sysdev, int *device_fd, char *err, size_t errlen)
{
	int ret, fd;

	ret = group_of(sysdev, &l->group);
	if (ret)
		return vfio_errf(
		    err, errlen, ret,
		    "vfio %s: no IOMMU group (the host IOMMU is off); boot the host kernel "
		    "with intel_iommu=on (AMD: amd_iommu=on) and an IOMMU enabled in "
		    "firmware or QEMU (-device intel-iommu)",
		    bdf);
	trace(TRACE_VFIO, "attach: %s is in IOMMU group %d", bdf, l->group);

	ret = container_open(io, l, bdf, err, errlen);
	if (!ret) {
		io->users++; /* counted now: container_detach() undoes it with the group */
		ret = group_join(io, l, bdf, err, errlen);
		if (ret && l->gi < 0)
			io->users--;
	}
	if (ret)
		goto out;

	fd = attach_ioctl(l, io->groups[l->gi].fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
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
	container_detach(io, l, -1);
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
