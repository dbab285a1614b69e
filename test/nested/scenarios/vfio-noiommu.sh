# vfio-noiommu.sh - issue 5: --vfio on a host without an IOMMU.
# The L1 boots without intel-iommu, so edu has no IOMMU group and cannot be
# bound to vfio-pci (Debian kernels have no VFIO_NOIOMMU): kvmini must say
# so in one line and exit 6, pointing at intel_iommu=on.
# l1: --no-iommu --timeout 180

if [ -z "$EDU_BDF" ]; then
	note "no edu device in L1"
	check edu-present false
	return 0
fi
check no-iommu-group [ ! -e "/sys/bus/pci/devices/$EDU_BDF/iommu_group" ]
case_run no-iommu-group rc=6 lines=1 \
	"match=^kvmini: vfio $EDU_BDF: no IOMMU group: .*intel_iommu=on" \
	-- kvmini --vfio "$EDU_BDF"
