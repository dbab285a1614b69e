// SPDX-License-Identifier: MIT
/*
 * vfio_iommufd.c - the IOMMUFD VFIO backend: /dev/iommu and the device's
 * own cdev (/dev/vfio/devices/vfioN), no container and no group file.
 * See Documentation/userspace-api/iommufd.rst and the "VFIO device cdev"
 * part of Documentation/driver-api/vfio.rst in Linux.
 *
 * attach, in the order the kernel wants:
 *   open /dev/iommu, open the cdev
 *   VFIO_DEVICE_BIND_IOMMUFD       the first ioctl a cdev fd accepts; gives
 *                                  the device's id inside this iommufd
 *   IOMMU_GET_HW_INFO              what the IOMMU is (trace only)
 *   IOMMU_IOAS_ALLOC               an empty I/O address space
 *   VFIO_DEVICE_ATTACH_IOMMUFD_PT  the device's DMA now goes through it (the
 *                                  kernel makes a hardware page table)
 * dma_map is IOMMU_IOAS_MAP with a fixed IOVA; teardown runs it all
 * backwards: IOAS unmap (vfio.c), detach, close the cdev (which unbinds),
 * destroy the IOAS, close /dev/iommu.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../vmm/trace.h"
#include "iommufd_uapi.h"
#include "vfio.h"

/* The device leaves the IOAS; the last one out destroys it and closes
 * /dev/iommu. */
static void iommufd_detach(struct vfio_iommu *io, struct vfio_link *l, int device_fd)
{
	if (l->pt_attached && device_fd >= 0) {
		struct ufd_vfio_detach_pt d = {.argsz = sizeof(d)};

		if (ioctl(device_fd, UFD_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d))
			warn("vfio: VFIO_DEVICE_DETACH_IOMMUFD_PT: %s", strerror(errno));
		else
			trace(TRACE_VFIO, "teardown: device detached from IOAS %u", io->ioas_id);
	}
	l->pt_attached = false;
	/* Closing the cdev unbinds the device from the iommufd (and detaches
	 * it, had the ioctl above failed). */
	if (device_fd >= 0) {
		close(device_fd);
		trace(TRACE_VFIO, "teardown: %s closed (device unbound)", l->cdev);
	}
	if (l->dev_id) {
		l->dev_id = 0;
		if (io->users)
			io->users--;
	}
	if (io->users) {
		trace(TRACE_VFIO, "teardown: IOAS %u kept: %u other device%s still attached",
		      io->ioas_id, io->users, io->users == 1 ? "" : "s");
		return;
	}
	if (io->iommufd >= 0) {
		if (io->ioas_id) {
			struct ufd_destroy d = {.size = sizeof(d), .id = io->ioas_id};

			if (ioctl(io->iommufd, UFD_IOMMU_DESTROY, &d))
				warn("vfio: IOMMU_DESTROY of IOAS %u: %s", io->ioas_id,
				     strerror(errno));
		}
		close(io->iommufd);
		if (io->ioas_id)
			trace(TRACE_VFIO, "teardown: IOAS %u destroyed, /dev/iommu closed",
			      io->ioas_id);
		else
			trace(TRACE_VFIO, "teardown: /dev/iommu closed");
	}
	io->iommufd = -1;
	io->ioas_id = 0;
}

/* IOMMU_GET_HW_INFO, for --trace vfio: the IOMMU type, and for VT-d what
 * its capability registers offer.  Failure is not fatal (it says nothing
 * kvmini needs). */
static void hw_info(struct vfio_iommu *io, struct vfio_link *l)
{
	struct ufd_hw_info_vtd vtd = {0};
	struct ufd_hw_info h = {
	    .size = sizeof(h),
	    .dev_id = l->dev_id,
	    .data_len = sizeof(vtd),
	    .data_uptr = (uint64_t)(uintptr_t)&vtd,
	};
	char what[320];

	if (attach_ioctl(l, io->iommufd, UFD_IOMMU_GET_HW_INFO, &h)) {
		trace(TRACE_VFIO, "attach: IOMMU_GET_HW_INFO: %s", strerror(errno));
		return;
	}
	trace(TRACE_VFIO,
	      "attach: IOMMU_GET_HW_INFO: type %u (%s), %u bytes, capabilities 0x%llx%s, PASID "
	      "width %u",
	      h.out_data_type,
	      h.out_data_type == UFD_HW_INFO_TYPE_INTEL_VTD ? "Intel VT-d"
	      : h.out_data_type == UFD_HW_INFO_TYPE_NONE    ? "none"
							    : "another IOMMU",
	      h.data_len, (unsigned long long)h.out_capabilities,
	      h.out_capabilities & UFD_HW_CAP_DIRTY_TRACKING ? " (dirty tracking)" : "",
	      h.out_max_pasid_log2);
	if (h.out_data_type == UFD_HW_INFO_TYPE_INTEL_VTD && h.data_len >= sizeof(vtd)) {
		vfio_vtd_decode(vtd.cap_reg, vtd.ecap_reg, what, sizeof(what));
		trace(TRACE_VFIO, "attach: VT-d cap 0x%016llx ecap 0x%016llx",
		      (unsigned long long)vtd.cap_reg, (unsigned long long)vtd.ecap_reg);
		trace(TRACE_VFIO, "attach: VT-d offers %s", what);
	}
}

static int iommufd_attach(struct vfio_iommu *io, struct vfio_link *l, const char *bdf,
			  const char *sysdev, int *device_fd, char *err, size_t errlen)
{
	struct ufd_vfio_bind bind = {.argsz = sizeof(bind)};
	struct ufd_ioas_alloc alloc = {.size = sizeof(alloc)};
	struct ufd_vfio_attach_pt at = {.argsz = sizeof(at)};
	int ret, fd = -1;

	(void)sysdev;
	if (io->iommufd >= 0) {
		l->joined = true;
		trace(TRACE_VFIO, "attach: /dev/iommu already open (IOAS %u): %s joins it",
		      io->ioas_id, bdf);
	} else {
		io->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (io->iommufd < 0) {
			ret = -errno;
			vfio_errf(err, errlen, ret, "vfio %s: cannot open /dev/iommu: %s; %s", bdf,
				  strerror(-ret),
				  ret == -ENOENT ? "boot a kernel with CONFIG_IOMMUFD=y, or "
						   "--vfio-backend container"
						 : "run kvmini as root (or give this user /dev/iommu)");
			goto out;
		}
	}
	fd = open(l->cdev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		vfio_errf(
		    err, errlen, ret,
		    "vfio %s: cannot open %s: %s; is the device bound to vfio-pci and are you "
		    "root?",
		    bdf, l->cdev, strerror(-ret));
		goto out;
	}
	trace(TRACE_VFIO, "attach: /dev/iommu and %s opened", l->cdev);

	/* The kernel refuses a second opener of the cdev (EINVAL: only the
	 * group path may share a device) and a cdev whose group is held
	 * through the container path (EBUSY). */
	bind.iommufd = io->iommufd;
	if (attach_ioctl(l, fd, UFD_VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		char group[PATH_MAX], link[PATH_MAX];
		long pid;
		ssize_t n;

		ret = -errno;
		snprintf(link, sizeof(link), "%s/iommu_group", sysdev);
		n = readlink(link, group, sizeof(group) - 1);
		group[n > 0 ? n : 0] = 0;
		snprintf(link, sizeof(link), "/dev/vfio/%s",
			 strrchr(group, '/') ? strrchr(group, '/') + 1 : "none");
		pid = vfio_path_holder(l->cdev, link);
		if (pid > 0 || ret == -EBUSY) {
			char who[48] = "";

			if (pid > 0)
				snprintf(who, sizeof(who), " (pid %ld)", pid);
			vfio_errf(err, errlen, ret,
				  "vfio %s: device in use by another process%s (another kvmini?): "
				  "VFIO_DEVICE_BIND_IOMMUFD: %s; stop that process first",
				  bdf, who, strerror(-ret));
		} else {
			vfio_errf(err, errlen, ret, "vfio %s: VFIO_DEVICE_BIND_IOMMUFD: %s", bdf,
				  strerror(-ret));
		}
		goto out;
	}
	l->dev_id = bind.out_devid;
	io->users++; /* bound: iommufd_detach() undoes it */
	trace(TRACE_VFIO, "attach: VFIO_DEVICE_BIND_IOMMUFD: device id %u", l->dev_id);

	hw_info(io, l);

	/* One IOAS for every device: what is mapped in it is seen by all. */
	if (!io->ioas_id) {
		if (attach_ioctl(l, io->iommufd, UFD_IOMMU_IOAS_ALLOC, &alloc)) {
			ret = -errno;
			vfio_errf(err, errlen, ret, "vfio %s: IOMMU_IOAS_ALLOC: %s", bdf,
				  strerror(-ret));
			goto out;
		}
		io->ioas_id = alloc.out_ioas_id;
	}

	at.pt_id = io->ioas_id;
	if (attach_ioctl(l, fd, UFD_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at)) {
		ret = -errno;
		vfio_errf(
		    err, errlen, ret,
		    "vfio %s: VFIO_DEVICE_ATTACH_IOMMUFD_PT to IOAS %u: %s; the IOMMU may not "
		    "support this device",
		    bdf, io->ioas_id, strerror(-ret));
		goto out;
	}
	l->pt_attached = true;
	l->hwpt_id = at.pt_id;
	trace(TRACE_VFIO, "attach: IOAS %u %s, device attached (hardware page table %u)",
	      io->ioas_id, l->joined ? "shared with the devices before it" : "allocated",
	      l->hwpt_id);
	*device_fd = fd;
	trace(TRACE_VFIO, "attach: device fd %d (the cdev)", fd);
	return 0;

out:
	iommufd_detach(io, l, fd);
	return ret;
}

/* Say which IOVAs the IOAS accepts (the reserved MSI window and the
 * IOMMU's address width cut into them): the reason behind most refused
 * maps. */
static void iova_ranges(struct vfio_iommu *io)
{
	struct ufd_iova_range r[8];
	struct ufd_ioas_iova_ranges q = {
	    .size = sizeof(q),
	    .ioas_id = io->ioas_id,
	    .num_iovas = 8,
	    .allowed_iovas = (uint64_t)(uintptr_t)r,
	};

	if (ioctl(io->iommufd, UFD_IOMMU_IOAS_IOVA_RANGES, &q))
		return;
	for (uint32_t i = 0; i < q.num_iovas && i < 8; i++)
		trace(TRACE_VFIO, "dma: IOAS %u accepts IOVA [0x%llx, 0x%llx]", io->ioas_id,
		      (unsigned long long)r[i].start, (unsigned long long)r[i].last);
}

static int iommufd_dma_map(struct vfio_iommu *io, uint64_t iova, uint64_t size, void *hva)
{
	struct ufd_ioas_map m = {
	    .size = sizeof(m),
	    .flags = UFD_IOAS_MAP_FIXED_IOVA | UFD_IOAS_MAP_READABLE | UFD_IOAS_MAP_WRITEABLE,
	    .ioas_id = io->ioas_id,
	    .user_va = (uint64_t)(uintptr_t)hva,
	    .length = size,
	    .iova = iova,
	};
	int ret;

	if (!ioctl(io->iommufd, UFD_IOMMU_IOAS_MAP, &m))
		return 0;
	ret = -errno;
	iova_ranges(io);
	return ret;
}

static int iommufd_dma_unmap(struct vfio_iommu *io, uint64_t iova, uint64_t size)
{
	struct ufd_ioas_unmap u = {
	    .size = sizeof(u),
	    .ioas_id = io->ioas_id,
	    .iova = iova,
	    .length = size,
	};

	if (io->iommufd < 0)
		return -EBADF;
	if (ioctl(io->iommufd, UFD_IOMMU_IOAS_UNMAP, &u))
		return -errno;
	return 0;
}

const struct vfio_iommu_ops vfio_iommufd_ops = {
    .name = "iommufd",
    .map_ioctl = "IOMMU_IOAS_MAP",
    .attach = iommufd_attach,
    .detach = iommufd_detach,
    .dma_map = iommufd_dma_map,
    .dma_unmap = iommufd_dma_unmap,
};
