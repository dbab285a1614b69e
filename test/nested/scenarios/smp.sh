# smp.sh - issue 18, the guest side of --cpus N.  The tiny guest finds the
# CPUs in kvmini's MADT, starts every AP itself (INIT-SIPI-SIPI through its
# LAPIC, a real-mode trampoline at SMP_TRAMPOLINE) and checks, one line
# each (guest/smp.c): each AP reports its APIC ID, takes its own LAPIC
# timer interrupts, receives an IPI and answers it; all CPUs increment one
# counter under a lock without losing an update; virtio-net's rx MSI-X and
# (with --vfio) edu's MSI, aimed at an AP, are taken there.  With 1, 2, 4
# and 8 vCPUs, without and with edu.  Then a Linux L2 on 4 vCPUs: all four
# online, virtio-net's MSI-X vectors moved over the CPUs and taken there,
# ping through the tap, a clean poweroff.
# The host side of --cpus (bad counts, stop paths, seccomp) is cpus.sh's.
# l1: --timeout 900 --file @BUILD@/nested/linux-l2/vmlinuz:/l2/vmlinuz --file @BUILD@/nested/linux-l2/initrd.cpio:/l2/initrd.cpio
# l1-prep: test/nested/linux-l2.sh

# smp_case NAME N [EXPECT...] -- CMD...: case_run with the lines the guest
# must print for N CPUs.  With one CPU: no SMP check at all (the usual
# check count); with more, each of the four checks, and virtio-net's MSI-X
# taken on the last AP.
smp_case() {
	local name=$1 n=$2 a=$(($2 - 1)) p='^kvmini: check [0-9]+ passed: smp: '
	shift 2
	if [ "$n" = 1 ]; then
		case_run "$name" checks timeout=120 \
			'match=^smp: 1 CPU in the MADT \(APIC ID 0\): no APs to start' \
			'nomatch=^kvmini: check [0-9]+ [A-Za-z]+: smp: ' "$@"
	else
		case_run "$name" checks timeout=120 \
			"match=^smp: $n CPUs in the MADT \(APIC IDs 0( [0-9]+)*\); starting $a AP" \
			"match=${p}$a of $a APs started \(INIT-SIPI-SIPI\), each reports its MADT APIC ID" \
			"match=${p}each AP takes interrupts from its own LAPIC timer \($a of $a" \
			"match=${p}each AP received an IPI and answered the BSP with one \($a of $a" \
			"match=${p}$n CPUs x [0-9]+ locked increments of one counter" \
			"match=${p}virtio-net rx MSI-X aimed at APIC ID $a is taken there" "$@"
	fi
}

for n in 1 2 4 8; do
	smp_case "smp-$n" "$n" -- kvmini --cpus "$n" --net loopback
done

# The same with edu assigned: its MSI aimed at the first AP (APIC ID 1).
if [ "$EDU_VFIO" = 1 ]; then
	for n in 1 2 4 8; do
		if [ "$n" = 1 ]; then
			smp_case "smp-$n-vfio" 1 'match=passed: edu: MSI taken' -- \
				kvmini --cpus 1 --vfio "$EDU_BDF" --net loopback
		else
			smp_case "smp-$n-vfio" "$n" \
				'match=^kvmini: check [0-9]+ passed: smp: edu MSI aimed at APIC ID 1 is taken there' \
				-- kvmini --cpus "$n" --vfio "$EDU_BDF" --net loopback
		fi
	done
else
	note "edu not usable through VFIO in L1: the --vfio cases fail"
	check edu-bound-to-vfio-pci false
fi

# Linux on 4 vCPUs: Linux starts the APs itself, then virtio-net's vectors
# are moved over them (linux-l2.sh, l2.cpus) and the ping's rx interrupts
# must arrive on the CPU input.0 was moved to.  Nested Linux under TCG with
# four vCPUs on L1's one CPU: 400 s at most.
MAC=02:6b:76:6d:00:42
L2CMD="console=ttyS0 panic=-1 loglevel=4 pci=noearly"
if [ -z "$TAP" ]; then
	note "no tap in L1: the Linux case fails"
	check tap-in-l1 false
elif [ ! -r /l2/vmlinuz ] || [ ! -r /l2/initrd.cpio ]; then
	check l2-files-present false
else
	case_run linux-cpus-4 checks timeout=400 'match=kvmini: guest powered off' \
		'match=^kvmini: check [0-9]+ passed: 4 CPUs online' \
		"match=^kvmini: check [0-9]+ passed: virtio-net's MSI-X vectors spread over CPUs 3 and down" \
		'match=^kvmini: check [0-9]+ passed: ping ' \
		'match=^kvmini: check [0-9]+ passed: the ping.s rx interrupts \(input.0, irq [0-9]+\) were taken on CPU [1-3] only' \
		-- kvmini --kernel /l2/vmlinuz --initrd /l2/initrd.cpio --cpus 4 \
		--net "tap=$TAP,mac=$MAC" \
		--cmdline "$L2CMD l2.mac=$MAC l2.ping=$TAP_ADDR l2.cpus=4"
fi
