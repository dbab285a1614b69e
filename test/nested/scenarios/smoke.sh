# smoke.sh - issue 14: kvmini check, the README's smoke-test recipe, the
# --report contract and the tour, in one L1 boot.  The recipe and the
# tour's commands come out of README.md and docs/tour.md (smoke-prep.sh);
# each report is printed as one "@@@ JSON NAME {...}" line, and the host
# validates it against docs/report.schema.json and against what was
# printed (scenarios/smoke.post, run by nested.t after this boot).
# l1: --timeout 420 --file @BUILD@/nested/recipe.sh:/bin/recipe --file @BUILD@/nested/tour.sh:/bin/tour --file @BUILD@/test/errno-inject:/bin/errno-inject
# l1-prep: test/nested/smoke-prep.sh

json() { echo "@@@ JSON $1 $(cat "$2" 2>/dev/null || echo '{}')"; }
chmod +x /bin/recipe /bin/tour

# kvmini check with the defaults: KVM in L1, the IOMMU, edu's group.
case_run check rc=0 'match=^ok +/dev/kvm: opened read-write' \
	'match=^ok +IOMMU: Intel VT-d active' 'match=^ok +vfio-pci [0-9a-f:.]+: group [0-9]+ viable' \
	'match=^info +this machine is a guest' 'match=^kvmini check: ready' \
	-- kvmini check --report /tmp/check.json
json check /tmp/check.json

# A tap that is not there: status 7, the fix line, the report says why.
case_run check-no-tap rc=7 'match=^missing +--net tap=tap9: no such interface' \
	'match=^ +fix: ip tuntap add dev tap9 mode tap && ip addr add 169.254.100.1/24 dev tap9 && ip link set tap9 up$' \
	'match=^kvmini check: NOT READY, exit 7' \
	-- kvmini check --net tap=tap9 --report /tmp/check-no-tap.json
json check-no-tap /tmp/check-no-tap.json

# The host bridge as --vfio: bound to no vfio-pci, status 6 and how to bind it.
case_run check-not-vfio rc=6 'match=^missing +--vfio 0000:00:00\.0: bound to' \
	'match=fix: modprobe vfio-pci; echo vfio-pci > /sys/bus/pci/devices/0000:00:00.0/driver_override' \
	-- kvmini check --vfio 0000:00:00.0

# check and the run end alike, with the same code and words: the check's
# verdict is the run's own setup, up to where the guest would start.
# KVM refusing what real hosts sometimes refuse (errno-inject answers
# one ioctl with an errno): KVM_CREATE_VM with EBUSY (VT-x held by another
# hypervisor), KVM_CREATE_IRQCHIP with EINVAL.
case_run check-create-vm-busy rc=3 \
	'match=^missing +the run: KVM cannot create a VM here .*KVM_CREATE_VM: Resource busy$' \
	'match=^kvmini check: NOT READY, exit 3: KVM cannot create a VM here' \
	-- errno-inject 0xae01 16 kvmini check
case_run create-vm-busy rc=3 lines=1 'match=^kvmini: KVM cannot create a VM here .*KVM_CREATE_VM: Resource busy$' \
	-- errno-inject 0xae01 16 kvmini
case_run check-irqchip-refused rc=4 'match=^missing +the run: KVM_CREATE_IRQCHIP failed' \
	'match=^kvmini check: NOT READY, exit 4' -- errno-inject 0xae60 22 kvmini check
case_run irqchip-refused rc=4 lines=1 'match=^kvmini: KVM_CREATE_IRQCHIP failed' \
	-- errno-inject 0xae60 22 kvmini
# A kernel image that is not there: 5 from both, before KVM is asked.
case_run check-kernel-missing rc=5 "match=^missing +the run: cannot open kernel '/nonexistent'" \
	'match=^kvmini check: NOT READY, exit 5' -- kvmini check --kernel /nonexistent
case_run kernel-missing rc=5 lines=1 "match=^kvmini: cannot open kernel '/nonexistent'" \
	-- kvmini --kernel /nonexistent
# --vfio-backend iommufd on a kernel without IOMMUFD (Debian's): /dev/iommu
# is what the run needs, the container node is not; 6 from both.
case_run check-iommufd-missing rc=6 \
	'match=^missing +/dev/iommu \(IOMMUFD\): No such file or directory$' \
	'nomatch=^missing +/dev/vfio/vfio .*[^)]$' 'match=^missing +the run: vfio [0-9a-f:.]+: --vfio-backend iommufd' \
	'match=^kvmini check: NOT READY, exit 6' \
	-- kvmini check --vfio "$EDU_BDF" --vfio-backend iommufd
case_run iommufd-missing rc=6 'match=^kvmini: vfio [0-9a-f:.]+: --vfio-backend iommufd' \
	-- kvmini --vfio "$EDU_BDF" --vfio-backend iommufd

# The recipe, as the README has it, with edu and the tap: the check
# attaches and releases edu for real, then the full run.
cd /tmp
case_run recipe checks rc=0 'match=^ok +--vfio [0-9a-f:.]+: attached and released \(container backend' \
	'match=^smoke: passed' timeout=150 \
	-- env BDF="$EDU_BDF" NET="tap=$TAP" /bin/recipe
json recipe-check /tmp/check.json
json recipe-run /tmp/run.json

# The tour's command, traced (the host compares with docs/tour.md).
case_run tour checks timeout=150 -- sh /bin/tour

# A fix line pasted into L1's shell as check prints it: edu taken off
# vfio-pci, check says so (6) with the line that binds it back; after that
# line, check attaches it and says ready.
echo "$EDU_BDF" >"/sys/bus/pci/devices/$EDU_BDF/driver/unbind"
case_run check-edu-unbound rc=6 'match=^missing +--vfio [0-9a-f:.]+: bound to no driver, not vfio-pci' \
	'match=^ +fix: modprobe vfio-pci; echo vfio-pci > /sys/bus/pci/devices/[0-9a-f:.]+/driver_override; ' \
	-- kvmini check --vfio "$EDU_BDF"
fix=$(kvmini check --vfio "$EDU_BDF" 2>&1 | sed -n 's/^ *fix: //p' | grep driver_override | grep -F "$EDU_BDF" | head -1)
note "pasting: $fix"
sh -c "$fix" >/dev/null 2>&1
case_run check-edu-fixed rc=0 'match=^ok +--vfio [0-9a-f:.]+: attached and released' \
	'match=^kvmini check: ready' -- kvmini check --vfio "$EDU_BDF"
