/* SPDX-License-Identifier: MIT */
/*
 * iommufd_uapi.h - the part of the kernel's IOMMUFD and VFIO cdev uAPI that
 * kvmini uses, written from the documented interface of Linux 6.12:
 * Documentation/userspace-api/iommufd.rst, include/uapi/linux/iommufd.h and
 * the cdev section of include/uapi/linux/vfio.h (VFIO_BASE + 18..20).
 *
 * Why a header of our own: the build machine's linux-libc-dev (6.1) has no
 * iommufd.h and no cdev ioctls, and a newer one would define the VFIO
 * structs in <linux/vfio.h>, which kvmini includes too.  So every name here
 * carries the prefix ufd_/UFD_ and never collides; each says which kernel
 * name it stands for.  test/unit/test_iommufd_abi.c checks every size,
 * offset and ioctl number against the values the uAPI documents.
 *
 * The ABI rules that matter (iommufd.h, "General ioctl format"): each
 * struct starts with its own size (size or argsz), which the kernel uses to
 * tell versions apart; space beyond what it understands must be zero
 * (E2BIG otherwise); 64-bit fields are 8-byte aligned on every arch.
 */
#ifndef KVMINI_IOMMUFD_UAPI_H
#define KVMINI_IOMMUFD_UAPI_H

#include <linux/ioctl.h>
#include <stdint.h>

/* IOMMUFD_TYPE and VFIO_TYPE are the same character. */
#define UFD_TYPE ';'

/* ---- /dev/iommu (iommufd.h) --------------------------------------------- */
#define UFD_CMD_BASE 0x80
/* IOMMU_DESTROY: destroy any object (an IOAS here) by id. */
struct ufd_destroy { /* struct iommu_destroy */
	uint32_t size;
	uint32_t id;
};
#define UFD_IOMMU_DESTROY _IO(UFD_TYPE, UFD_CMD_BASE + 0)

/* IOMMU_IOAS_ALLOC: a new, empty I/O address space. */
struct ufd_ioas_alloc { /* struct iommu_ioas_alloc */
	uint32_t size;
	uint32_t flags; /* must be 0 */
	uint32_t out_ioas_id;
};
#define UFD_IOMMU_IOAS_ALLOC _IO(UFD_TYPE, UFD_CMD_BASE + 1)

/* IOMMU_IOAS_IOVA_RANGES: the IOVAs an IOAS may map, narrowed by every
 * attached device (the reserved MSI window, the IOMMU's address width). */
struct ufd_iova_range { /* struct iommu_iova_range */
	uint64_t start;
	uint64_t last; /* inclusive */
};
struct ufd_ioas_iova_ranges { /* struct iommu_ioas_iova_ranges */
	uint32_t size;
	uint32_t ioas_id;
	uint32_t num_iovas; /* in: array length; out: ranges there are */
	uint32_t reserved;
	uint64_t allowed_iovas; /* user pointer to struct ufd_iova_range[] */
	uint64_t out_iova_alignment;
};
#define UFD_IOMMU_IOAS_IOVA_RANGES _IO(UFD_TYPE, UFD_CMD_BASE + 4)

/* IOMMU_IOAS_MAP: pin user memory and map it at an IOVA. */
enum {
	UFD_IOAS_MAP_FIXED_IOVA = 1 << 0, /* IOMMU_IOAS_MAP_FIXED_IOVA */
	UFD_IOAS_MAP_WRITEABLE = 1 << 1,  /* IOMMU_IOAS_MAP_WRITEABLE */
	UFD_IOAS_MAP_READABLE = 1 << 2,	  /* IOMMU_IOAS_MAP_READABLE */
};
struct ufd_ioas_map { /* struct iommu_ioas_map */
	uint32_t size;
	uint32_t flags;
	uint32_t ioas_id;
	uint32_t reserved;
	uint64_t user_va;
	uint64_t length;
	uint64_t iova; /* in with FIXED_IOVA, else out */
};
#define UFD_IOMMU_IOAS_MAP _IO(UFD_TYPE, UFD_CMD_BASE + 5)

/* IOMMU_IOAS_UNMAP: iova/length must cover whole earlier maps; 0..U64_MAX
 * unmaps everything.  length comes back as the bytes unmapped. */
struct ufd_ioas_unmap { /* struct iommu_ioas_unmap */
	uint32_t size;
	uint32_t ioas_id;
	uint64_t iova;
	uint64_t length;
};
#define UFD_IOMMU_IOAS_UNMAP _IO(UFD_TYPE, UFD_CMD_BASE + 6)

/* IOMMU_GET_HW_INFO: what the IOMMU behind a bound device is and offers. */
enum {
	UFD_HW_INFO_TYPE_NONE = 0,	/* IOMMU_HW_INFO_TYPE_NONE */
	UFD_HW_INFO_TYPE_INTEL_VTD = 1, /* IOMMU_HW_INFO_TYPE_INTEL_VTD */
};
enum {
	UFD_HW_CAP_DIRTY_TRACKING = 1 << 0, /* IOMMU_HW_CAP_DIRTY_TRACKING */
};
struct ufd_hw_info { /* struct iommu_hw_info */
	uint32_t size;
	uint32_t flags; /* must be 0 */
	uint32_t dev_id;
	uint32_t data_len;  /* in: buffer length; out: what the kernel has */
	uint64_t data_uptr; /* user pointer to the type's data */
	uint32_t out_data_type;
	uint8_t out_max_pasid_log2; /* 0: no PASID support */
	uint8_t reserved[3];
	uint64_t out_capabilities;
};
#define UFD_IOMMU_GET_HW_INFO _IO(UFD_TYPE, UFD_CMD_BASE + 10)

/* The data for UFD_HW_INFO_TYPE_INTEL_VTD: the raw Capability and
 * Extended Capability registers (VT-d spec 11.4.2 and 11.4.3). */
struct ufd_hw_info_vtd { /* struct iommu_hw_info_vtd */
	uint32_t flags;
	uint32_t reserved;
	uint64_t cap_reg;
	uint64_t ecap_reg;
};

/* ---- the VFIO device cdev, /dev/vfio/devices/vfioN (vfio.h) --------------
 * A cdev fd can do nothing before VFIO_DEVICE_BIND_IOMMUFD; closing it
 * unbinds.  VFIO_BASE is 100. */
#define UFD_VFIO_BASE 100

struct ufd_vfio_bind { /* struct vfio_device_bind_iommufd */
	uint32_t argsz;
	uint32_t flags; /* must be 0 */
	int32_t iommufd;
	uint32_t out_devid;
};
#define UFD_VFIO_DEVICE_BIND_IOMMUFD _IO(UFD_TYPE, UFD_VFIO_BASE + 18)

/* pt_id: in, an IOAS (or HWPT) id; out, the HWPT the kernel attached. */
struct ufd_vfio_attach_pt { /* struct vfio_device_attach_iommufd_pt */
	uint32_t argsz;
	uint32_t flags; /* 0 */
	uint32_t pt_id;
};
#define UFD_VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(UFD_TYPE, UFD_VFIO_BASE + 19)

struct ufd_vfio_detach_pt { /* struct vfio_device_detach_iommufd_pt */
	uint32_t argsz;
	uint32_t flags; /* 0 */
};
#define UFD_VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(UFD_TYPE, UFD_VFIO_BASE + 20)

#endif
