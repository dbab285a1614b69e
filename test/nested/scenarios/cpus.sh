# cpus.sh - issue 18, the host side of --cpus N: vCPU threads, the APs held
# in the kernel until the guest's INIT-SIPI-SIPI whatever the boot format,
# per-vCPU --stats, and every way out (a crash, a reset, SIGTERM, SIGINT,
# the VFIO REQ) stopping every vCPU and releasing the assigned device.
# The guest's own SMP checks (APs brought up, IPIs, MSIs on an AP) are
# smp.sh's; here the tiny guest runs with nosmp, so that the APs stay idle
# and each must show 0 exits.
# l1: --file @BUILD@/guest32.elf:/l2/guest32.elf --file @BUILD@/test/mbtest.elf:/l2/mbtest.elf --file @BUILD@/test/mbmodule.txt:/l2/mbmodule.txt --file @BUILD@/bench/exit.elf:/l2/exit.elf

# Bad counts: one line, exit 2, before /dev/kvm is opened.
case_run cpus-bad-zero rc=2 lines=1 'match=^kvmini: --cpus 0: ' -- kvmini --cpus 0
case_run cpus-bad-33 rc=2 lines=1 'match=^kvmini: --cpus 33 is too many' -- kvmini --cpus 33
case_run cpus-bad-word rc=2 lines=1 "match=^kvmini: --cpus 'two' is not a number" -- kvmini --cpus two
case_run cpus-bad-sign rc=2 lines=1 "match=^kvmini: --cpus '-1' is not a number" -- kvmini --cpus -1

# The tiny guest (PVH, ELF64) with 2, 4 and 8 vCPUs: every check passes on
# vCPU 0, and the APs, never sent a SIPI (nosmp), never left the kernel (0
# exits).
for n in 2 4 8; do
	last=$((n - 1))
	case_run "cpus-$n-tiny-guest" checks timeout=120 'match=^  VM exits by vCPU:' \
		"match=^    vCPU 0 +[1-9][0-9]* " "match=^    vCPU $last +0\$" \
		"match=^kvmini: check [0-9]+ passed" \
		-- kvmini --cpus "$n" --stats --cmdline nosmp
done

# The same image as a PVH ELF32, and the Multiboot test kernel (its
# checks, then a reset through 0xcf9: exit 10), with 4 vCPUs: the APs wait
# for a SIPI whatever the boot format.
case_run cpus-4-elf32-pvh checks timeout=120 "match=^    vCPU 3 +0\$" \
	-- kvmini --cpus 4 --stats --kernel /l2/guest32.elf --cmdline "pci_start=firmware nosmp"
case_run cpus-4-multiboot rc=10 timeout=120 'match=^mbtest: done, 0 failed' 'nomatch=^not ok' \
	"match=^    vCPU 3 +0\$" 'match=0xcf9 hard reset' \
	-- kvmini --cpus 4 --stats --kernel /l2/mbtest.elf --cmdline "mbtest=hello" \
	--initrd /l2/mbmodule.txt
# --trace boot says the APs wait, and that their TSCs share vCPU 0's offset.
case_run cpus-4-trace-boot checks timeout=120 'match=vCPUs 1-3 wait for INIT-SIPI-SIPI' \
	'match=TSC: ' 'match=4 CPUs in the MADT' -- kvmini --cpus 4 --trace boot

# A crash on vCPU 0 with three APs in the kernel: one line naming the vCPU,
# exit 8, and kvmini ends (the APs are kicked out of KVM_RUN).
case_run cpus-4-triple-fault rc=8 timeout=60 \
	'match=^kvmini: guest stopped: triple fault \(KVM_EXIT_SHUTDOWN\) at rip 0x[0-9a-f]+ \(vCPU 0\)' \
	-- kvmini --cpus 4 --kernel /l2/exit.elf --net none

# Every thread of a running kvmini --cpus 4 under its seccomp filter, and
# SIGTERM, SIGINT and the VFIO REQ stopping all four vCPUs with the device
# released.  They need edu (its hold keeps the guest running).
if [ "${EDU_VFIO:-0}" = 1 ]; then
	hold /tmp/c4.out "edu: holding" kvmini --cpus 4 --vfio "$EDU_BDF" --trace vfio \
		--cmdline edu_hold=120
	holder=$held
	threads=$(ls "/proc/$holder/task" 2>/dev/null | wc -l)
	note "kvmini --cpus 4 threads: $threads; seccomp modes: $(cat /proc/"$holder"/task/*/status 2>/dev/null | awk '/^Seccomp:/ { printf "%s ", $2 }')"
	check cpus-4-threads [ "$threads" -ge 4 ]
	check cpus-4-seccomp-every-thread sh -c "! grep -h '^Seccomp:' /proc/$holder/task/*/status | grep -qv '	2\$'"
	kill -TERM "$holder"
	wait "$holder"
	rc=$?
	sed 's/^/@@@ NOTE c4 | /' /tmp/c4.out | grep -v '^@@@ NOTE c4 | kvmini: check' | tail -n 6
	check cpus-4-sigterm-exit-143 [ "$rc" = 143 ]
	check cpus-4-sigterm-teardown-ran grep -q "teardown: done" /tmp/c4.out

	hold /tmp/c4i.out "edu: holding.*DMA running" kvmini --cpus 4 --vfio "$EDU_BDF" \
		--trace vfio --cmdline "edu_hold=120 edu_hold_dma"
	kill -INT "$held"
	wait "$held"
	rc=$?
	check cpus-4-sigint-exit-130 [ "$rc" = 130 ]
	check cpus-4-sigint-teardown-ran grep -q "teardown: done" /tmp/c4i.out
	case_run cpus-4-after-signals checks timeout=120 -- kvmini --cpus 4 --vfio "$EDU_BDF"

	# The host asks for the device back while 4 vCPUs run.
	hold /tmp/c4r.out "edu: holding.*DMA running" kvmini --cpus 4 --vfio "$EDU_BDF" \
		--trace vfio --cmdline "edu_hold=120 edu_hold_dma"
	holder=$held
	echo 1 >"/sys/bus/pci/devices/$EDU_BDF/remove"
	wait "$holder"
	rc=$?
	sed 's/^/@@@ NOTE c4r | /' /tmp/c4r.out | grep -v '^@@@ NOTE c4r | kvmini: check' | tail -n 6
	check cpus-4-req-exit-11 [ "$rc" = 11 ]
	check cpus-4-req-teardown-ran grep -q "teardown: done" /tmp/c4r.out
	echo 1 >/sys/bus/pci/rescan
	i=0
	while [ ! -e "/sys/bus/pci/devices/$EDU_BDF" ] && [ $i -lt 20 ]; do
		sleep 1
		i=$((i + 1))
	done
	[ -e "/sys/bus/pci/devices/$EDU_BDF/driver" ] ||
		echo "$EDU_BDF" >/sys/bus/pci/drivers/vfio-pci/bind 2>/dev/null
	case_run cpus-4-after-req checks timeout=120 -- kvmini --cpus 4 --vfio "$EDU_BDF"
else
	note "no edu bound to vfio-pci in L1: the --cpus stop paths with a device are not run"
fi
