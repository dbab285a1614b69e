# confinement.sh - issue 19: what the seccomp allowlists stop, in L1 with
# real KVM (docs/confinement.md), and the mutation check of the hostile
# guest's BAR step (docs/hostile-guest.md).
# l1: --timeout 420 --file @BUILD@/test/kvmini-no-bar-refusals:/l2/kvmini-no-bar-refusals

# Hostile step 3, mutated: without the PCI core's refusals (a BAR over RAM,
# ECAM, the LAPIC, the IOAPIC), the BAR parked over the LAPIC or the IOAPIC
# answers as the device on the page past what KVM decodes, and the step
# must say so.  (The normal binary passes the same run: virtio.sh, hostile.)
case_run hostile-without-bar-refusals rc=any \
	'match=check [0-9]+ FAILED: hostile: 00:01\.0 BAR0 .* over the LAPIC' \
	'match=check [0-9]+ FAILED: hostile: 00:01\.0 BAR0 .* over the IOAPIC' \
	-- /l2/kvmini-no-bar-refusals --net loopback --cmdline hostile
