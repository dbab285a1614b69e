/*
 * test_iommufd_abi.c - kvmini's own IOMMUFD / VFIO cdev uAPI header
 * (include/iommufd_uapi.h) against the values the kernel documents.
 *
 * Every number below is a literal read from the uAPI of Linux 6.12
 * (include/uapi/linux/iommufd.h and vfio.h; the layout rules are in
 * Documentation/userspace-api/iommufd.rst): a struct size or field offset
 * that drifts, or an ioctl number typed wrong, would make the kernel read
 * garbage or answer ENOTTY.  _IO(';', nr) is (0x3b << 8) | nr: no size or
 * direction bits, which is how iommufd and the VFIO cdev number theirs.
 */
#include <stddef.h>

#include "iommufd_uapi.h"
#include "tap.h"

#define SIZE(type, want) tap_eq(sizeof(struct type), want, "sizeof(struct " #type ") == " #want)
#define OFF(type, field, want)                                                                     \
	tap_eq(offsetof(struct type, field), want, #type "." #field " at offset " #want)
#define IOCTL(name, want) tap_eq(name, want, #name " == " #want)

int main(void)
{
	/* /dev/iommu: ioctl numbers, IOMMUFD_CMD_BASE 0x80 and up. */
	IOCTL(UFD_IOMMU_DESTROY, 0x3b80);
	IOCTL(UFD_IOMMU_IOAS_ALLOC, 0x3b81);
	IOCTL(UFD_IOMMU_IOAS_IOVA_RANGES, 0x3b84);
	IOCTL(UFD_IOMMU_IOAS_MAP, 0x3b85);
	IOCTL(UFD_IOMMU_IOAS_UNMAP, 0x3b86);
	IOCTL(UFD_IOMMU_GET_HW_INFO, 0x3b8a);

	/* VFIO cdev: VFIO_BASE (100) + 18, 19, 20. */
	IOCTL(UFD_VFIO_DEVICE_BIND_IOMMUFD, 0x3b76);
	IOCTL(UFD_VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3b77);
	IOCTL(UFD_VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3b78);

	/* struct iommu_destroy */
	SIZE(ufd_destroy, 8);
	OFF(ufd_destroy, size, 0);
	OFF(ufd_destroy, id, 4);

	/* struct iommu_ioas_alloc */
	SIZE(ufd_ioas_alloc, 12);
	OFF(ufd_ioas_alloc, size, 0);
	OFF(ufd_ioas_alloc, flags, 4);
	OFF(ufd_ioas_alloc, out_ioas_id, 8);

	/* struct iommu_iova_range, struct iommu_ioas_iova_ranges */
	SIZE(ufd_iova_range, 16);
	OFF(ufd_iova_range, start, 0);
	OFF(ufd_iova_range, last, 8);
	SIZE(ufd_ioas_iova_ranges, 32);
	OFF(ufd_ioas_iova_ranges, size, 0);
	OFF(ufd_ioas_iova_ranges, ioas_id, 4);
	OFF(ufd_ioas_iova_ranges, num_iovas, 8);
	OFF(ufd_ioas_iova_ranges, reserved, 12);
	OFF(ufd_ioas_iova_ranges, allowed_iovas, 16);
	OFF(ufd_ioas_iova_ranges, out_iova_alignment, 24);

	/* struct iommu_ioas_map and its flags */
	SIZE(ufd_ioas_map, 40);
	OFF(ufd_ioas_map, size, 0);
	OFF(ufd_ioas_map, flags, 4);
	OFF(ufd_ioas_map, ioas_id, 8);
	OFF(ufd_ioas_map, reserved, 12);
	OFF(ufd_ioas_map, user_va, 16);
	OFF(ufd_ioas_map, length, 24);
	OFF(ufd_ioas_map, iova, 32);
	tap_eq(UFD_IOAS_MAP_FIXED_IOVA, 1, "IOMMU_IOAS_MAP_FIXED_IOVA == 1");
	tap_eq(UFD_IOAS_MAP_WRITEABLE, 2, "IOMMU_IOAS_MAP_WRITEABLE == 2");
	tap_eq(UFD_IOAS_MAP_READABLE, 4, "IOMMU_IOAS_MAP_READABLE == 4");

	/* struct iommu_ioas_unmap */
	SIZE(ufd_ioas_unmap, 24);
	OFF(ufd_ioas_unmap, size, 0);
	OFF(ufd_ioas_unmap, ioas_id, 4);
	OFF(ufd_ioas_unmap, iova, 8);
	OFF(ufd_ioas_unmap, length, 16);

	/* struct iommu_hw_info, its types and capabilities */
	SIZE(ufd_hw_info, 40);
	OFF(ufd_hw_info, size, 0);
	OFF(ufd_hw_info, flags, 4);
	OFF(ufd_hw_info, dev_id, 8);
	OFF(ufd_hw_info, data_len, 12);
	OFF(ufd_hw_info, data_uptr, 16);
	OFF(ufd_hw_info, out_data_type, 24);
	OFF(ufd_hw_info, out_max_pasid_log2, 28);
	OFF(ufd_hw_info, reserved, 29);
	OFF(ufd_hw_info, out_capabilities, 32);
	tap_eq(UFD_HW_INFO_TYPE_NONE, 0, "IOMMU_HW_INFO_TYPE_NONE == 0");
	tap_eq(UFD_HW_INFO_TYPE_INTEL_VTD, 1, "IOMMU_HW_INFO_TYPE_INTEL_VTD == 1");
	tap_eq(UFD_HW_CAP_DIRTY_TRACKING, 1, "IOMMU_HW_CAP_DIRTY_TRACKING == 1");

	/* struct iommu_hw_info_vtd */
	SIZE(ufd_hw_info_vtd, 24);
	OFF(ufd_hw_info_vtd, flags, 0);
	OFF(ufd_hw_info_vtd, reserved, 4);
	OFF(ufd_hw_info_vtd, cap_reg, 8);
	OFF(ufd_hw_info_vtd, ecap_reg, 16);

	/* struct vfio_device_bind_iommufd */
	SIZE(ufd_vfio_bind, 16);
	OFF(ufd_vfio_bind, argsz, 0);
	OFF(ufd_vfio_bind, flags, 4);
	OFF(ufd_vfio_bind, iommufd, 8);
	OFF(ufd_vfio_bind, out_devid, 12);

	/* struct vfio_device_attach_iommufd_pt (6.12: no pasid field yet) */
	SIZE(ufd_vfio_attach_pt, 12);
	OFF(ufd_vfio_attach_pt, argsz, 0);
	OFF(ufd_vfio_attach_pt, flags, 4);
	OFF(ufd_vfio_attach_pt, pt_id, 8);

	/* struct vfio_device_detach_iommufd_pt */
	SIZE(ufd_vfio_detach_pt, 8);
	OFF(ufd_vfio_detach_pt, argsz, 0);
	OFF(ufd_vfio_detach_pt, flags, 4);

	return tap_done();
}
