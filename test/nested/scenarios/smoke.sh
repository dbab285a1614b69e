# smoke.sh - issue 14: kvmini check, the README's smoke-test recipe, the
# --report contract and the tour, in one L1 boot.  The recipe and the
# tour's commands come out of README.md and docs/tour.md (smoke-prep.sh);
# each report is printed as one "@@@ JSON NAME {...}" line, and the host
# validates it against docs/report.schema.json and against what was
# printed (scenarios/smoke.post, run by nested.t after this boot).
# l1: --timeout 420 --file @BUILD@/nested/recipe.sh:/bin/recipe --file @BUILD@/nested/tour.sh:/bin/tour
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
