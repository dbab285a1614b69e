# confinement.sh - issue 19: what the seccomp allowlists stop, in L1 with
# real KVM (docs/confinement.md), and the mutation check of the hostile
# guest's BAR step (docs/hostile-guest.md).
# l1: --timeout 420 --file @BUILD@/test/kvmini-forbidden:/l2/kvmini-forbidden --file @BUILD@/test/kvmini-forbidden-creat:/l2/kvmini-forbidden-creat --file @BUILD@/test/kvmini-forbidden-mprotect-exec:/l2/kvmini-forbidden-mprotect-exec --file @BUILD@/test/kvmini-forbidden-mmap-exec:/l2/kvmini-forbidden-mmap-exec --file @BUILD@/test/kvmini-forbidden-clone-newnet:/l2/kvmini-forbidden-clone-newnet --file @BUILD@/test/kvmini-no-bar-refusals:/l2/kvmini-no-bar-refusals

# kvmini built with one call the vCPU thread's allowlist refuses, made
# right after it confines itself (vmm/main.c, test_forbidden_call): each
# stops kvmini with exit 12 and the line naming the call.  The last four
# are what code running a guest-facing device model must not be able to
# do: create a file, make memory executable, start a thread in a new
# network namespace.
for c in uname:63:uname creat:2:open mprotect-exec:10:mprotect mmap-exec:9:mmap \
	clone-newnet:56:clone; do
	name=${c%%:*} rest=${c#*:}
	bin=/l2/kvmini-forbidden-$name
	[ "$name" = uname ] && bin=/l2/kvmini-forbidden
	case_run "seccomp-stops-$name" rc=12 lines=1 \
		"match=^kvmini: seccomp: the vcpu thread made a forbidden system call ${rest%%:*} \\(${rest#*:}\\); stopping" \
		-- "$bin" --net none
done
# The same build with the filters off makes the call and runs to the end.
case_run seccomp-off-runs checks -- /l2/kvmini-forbidden --net none --no-seccomp
check seccomp-stops-creat-created-nothing [ ! -e /tmp/kvmini-forbidden-creat ]

# Hostile step 3, mutated: without the PCI core's refusals (a BAR over RAM,
# ECAM, the LAPIC, the IOAPIC), the BAR parked over the LAPIC or the IOAPIC
# answers as the device on the page past what KVM decodes, and the step
# must say so.  (The normal binary passes the same run: virtio.sh, hostile.)
case_run hostile-without-bar-refusals rc=any \
	'match=check [0-9]+ FAILED: hostile: 00:01\.0 BAR0 .* over the LAPIC' \
	'match=check [0-9]+ FAILED: hostile: 00:01\.0 BAR0 .* over the IOAPIC' \
	-- /l2/kvmini-no-bar-refusals --net loopback --cmdline hostile
