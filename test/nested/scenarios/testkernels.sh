# testkernels.sh - issue 18's conventions of x86 test kernels, held to what
# QEMU does with the same file (test/qemu/smptest.t): the Multiboot command
# line begins with the kernel's path, --debug-exit is QEMU's isa-debug-exit
# (a write of V ends kvmini with (V << 1) | 1), without --debug-exit a
# write to 0xf4 changes nothing, and ACPI S3 is woken by the RTC alarm (or
# refused with status 14).  docs/test-kernels.md.
# l1: --file @BUILD@/test/smptest.elf:/l2/smptest.elf --file @BUILD@/test/mbtest-low.elf:/l2/mbtest-low.elf --file @BUILD@/test/mbmodule.txt:/l2/mbmodule.txt --file @BUILD@/test/s3test.elf:/l2/s3test.elf

# The SMP test kernel with one CPU: its 8 checks pass and its verdict (0)
# ends kvmini with status 1, as QEMU -device isa-debug-exit ends.
case_run smptest-1cpu rc=1 'match=^smptest: command line: /l2/smptest.elf cpus=1$' \
	'match=^smptest: done, 0 failed' 'nomatch=^not ok' \
	'match=^kvmini: guest wrote 0x0 to isa-debug-exit \(--debug-exit\): status 1' \
	-- kvmini --kernel /l2/smptest.elf --debug-exit --cpus 1 --cmdline cpus=1 --net none
# With --cpus 2 and 4: the MADT lists them, the kernel starts each AP with
# INIT-SIPI-SIPI, and all count under one lock; the same verdict as QEMU
# -smp 2 and 4 give (test/qemu/smptest.t).
case_run smptest-2cpus rc=1 'match=^smptest: the MADT lists 2 CPUs' \
	'match=^ok 7 - every AP started' 'match=^smptest: done, 0 failed' 'nomatch=^not ok' \
	-- kvmini --kernel /l2/smptest.elf --debug-exit --cpus 2 --cmdline cpus=2 --net none
case_run smptest-4cpus rc=1 'match=^smptest: the MADT lists 4 CPUs' \
	'match=^ok 7 - every AP started' 'match=^smptest: done, 0 failed' 'nomatch=^not ok' \
	-- kvmini --kernel /l2/smptest.elf --debug-exit --cpus 4 --cmdline cpus=4 --net none
# The report names the guest's choice, not kvmini's table (status 1 is not
# "a check failed" here), and keeps V as guest_status.
case_run smptest-report rc=1 \
	-- kvmini --kernel /l2/smptest.elf --debug-exit --cmdline cpus=1 --net none --report /tmp/st.json
check smptest-report-reason grep -q '"reason":"the guest wrote 0x0 to isa-debug-exit (--debug-exit)' /tmp/st.json
check smptest-report-guest-status grep -q '"guest_status":0,' /tmp/st.json
# A verdict of failure: the MADT lists 1 CPU, the command line says 2;
# the kernel writes 1, kvmini exits 3 (QEMU's status for the same run).
case_run smptest-verdict-failed rc=3 'match=^not ok 5 - ' 'match=^smptest: done, 1 failed' \
	-- kvmini --kernel /l2/smptest.elf --debug-exit --cmdline cpus=2 --net none
# Without --debug-exit, 0xf4 is not kvmini's: the write is ignored and the
# kernel's fallback (a reset through 0xcf9) ends the run: status 10.
case_run smptest-no-debug-exit rc=10 'match=^smptest: done, 0 failed' \
	'match=^smptest: nothing at port 0xf4' 'nomatch=isa-debug-exit \(--debug-exit\)' \
	-- kvmini --kernel /l2/smptest.elf --cmdline cpus=1 --net none
# The embedded guest with --debug-exit: it finds kvmini's report port and
# reports there (never at 0xf4), so its checks and status are unchanged.
case_run tiny-guest-debug-exit checks 'nomatch=isa-debug-exit' -- kvmini --debug-exit

# Issue 19 item 4: the Multiboot test kernel linked at 0x1000-0x3014, where
# the boot block usually sits, with its module on the next page (0x4000):
# the block moves to 0x5000, the kernel's 8 checks pass (QEMU boots the
# same file: test/qemu/multiboot.t).  Before, such a kernel was refused.
case_run multiboot-low rc=10 'match=^mbtest: done, 0 failed' 'nomatch=^not ok' \
	'match=information at 0x5000' 'match=Multiboot module: [0-9]+ bytes at 0x4000' \
	-- kvmini --kernel /l2/mbtest-low.elf --cmdline mbtest=hello --initrd /l2/mbmodule.txt \
	--net none --trace boot

# ACPI S3 (test/multiboot/s3test.asm; QEMU: test/qemu/s3test.t): the kernel
# arms the RTC alarm, writes 0x2400 to PM1a_CNT, and is woken at its FACS
# waking vector in real mode, with WAK_STS and RTC_STS set: status 1.
case_run s3-wake rc=1 timeout=90 'match=^ok 3 - woken from S3 at the FACS waking vector' \
	'match=^s3test: done, 0 failed' 'nomatch=^not ok' \
	'match=vCPU 0: woken from ACPI S3, real mode at 0100:0000' \
	-- kvmini --kernel /l2/s3test.elf --debug-exit --net none --trace boot
# "noalarm": nothing can wake it; kvmini stops with status 14 at once
# instead of hanging.
case_run s3-no-wake rc=14 'match=^kvmini: guest entered ACPI S3 with no wake source armed' \
	'nomatch=^ok 3 - woken' \
	-- kvmini --kernel /l2/s3test.elf --debug-exit --net none --cmdline noalarm
# Several vCPUs: not woken (the APs would need parking), refused with 14.
case_run s3-cpus2 rc=14 'match=^kvmini: guest entered ACPI S3 with several vCPUs' \
	-- kvmini --kernel /l2/s3test.elf --debug-exit --net none --cpus 2
