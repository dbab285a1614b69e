# foundation.sh - issue 2: kvmini boots its embedded guest under KVM in L1,
# reports the guest's checks, and turns bad input into clear exit codes.
# Runs inside the nested L1 (see test/nested/lib.sh for the helpers).
# Also the other small kernels kvmini boots (issue 13): the tiny guest as an
# ELF32, and the Multiboot test kernel (test/multiboot/), which resets
# through 0xcf9.
# l1: --file @BUILD@/guest32.elf:/l2/guest32.elf --file @BUILD@/test/mbtest.elf:/l2/mbtest.elf --file @BUILD@/test/mbtest-aout.bin:/l2/mbtest-aout.bin --file @BUILD@/test/mbmodule.txt:/l2/mbmodule.txt --file @BUILD@/bench/exit.elf:/l2/exit.elf

# The embedded guest with no options: its banner on stdout, every check it
# reports becomes a TAP line, exit status = the guest's status.
case_run default checks 'match=^kvmini tiny guest' -- kvmini

# --stats prints the exit counts at the end.
case_run stats checks 'match=^kvmini: stats' 'match=VM exits: [1-9]' -- kvmini --stats

case_run version lines=1 'match=^kvmini [0-9]' -- kvmini --version
case_run help 'match=--stats' -- kvmini --help

# Bad input: one line saying what is wrong, and the documented exit code
# (vmm/trace.h): 2 usage, 3 no /dev/kvm, 5 bad --kernel.
case_run bad-option rc=2 lines=1 'match=^kvmini: ' -- kvmini --no-such-option
case_run bad-mem-small rc=2 lines=1 'match=^kvmini: ' -- kvmini --mem 1K
case_run bad-mem-large rc=2 lines=1 'match=^kvmini: ' -- kvmini --mem 4G
case_run kernel-missing rc=5 lines=1 'match=^kvmini: ' -- kvmini --kernel /nonexistent
echo 'not an ELF file' >/tmp/notelf
case_run kernel-not-elf rc=5 lines=1 'match=^kvmini: ' -- kvmini --kernel /tmp/notelf
# An ELF without a PVH note: busybox itself.
case_run kernel-no-pvh rc=5 lines=1 'match=^kvmini: ' -- kvmini --kernel /bin/busybox

# The same guest linked as an ELF32 (build/guest32.elf): all its checks,
# told to expect the firmware-like PCI start (docs/pci.md) ...
case_run elf32-pvh checks 'match=^kvmini tiny guest' 'match=^pci: start state: firmware' \
	-- kvmini --kernel /l2/guest32.elf --cmdline pci_start=firmware
# ... and, with --pci-poweron, every function as at power-on.
case_run pci-poweron checks 'match=^pci: start state: power-on' \
	-- kvmini --pci-poweron --cmdline pci_start=poweron

# The Multiboot kernel checks %eax, the memory fields and map, the command
# line and the module, then resets through 0xcf9: exit 10 (EXIT_REBOOT).
case_run multiboot rc=10 'match=^ok 8 - boot loader name given' \
	'match=^mbtest: done, 0 failed' 'nomatch=^not ok' 'match=0xcf9 hard reset' \
	-- kvmini --kernel /l2/mbtest.elf --cmdline "mbtest=hello" --initrd /l2/mbmodule.txt
# The same kernel as a flat binary placed by the a.out-kludge fields.
case_run multiboot-aout rc=10 'match=^mbtest: done, 0 failed' 'nomatch=^not ok' \
	-- kvmini --kernel /l2/mbtest-aout.bin --cmdline "mbtest=hello" --initrd /l2/mbmodule.txt
# A Multiboot header with a bad checksum (magic, flags 0, checksum 0):
# one line, exit 5.
printf '\002\260\255\033\000\000\000\000\000\000\000\000' >/tmp/mbbad
case_run multiboot-bad-checksum rc=5 lines=1 'match=^kvmini: .*bad checksum' \
	-- kvmini --kernel /tmp/mbbad

# Without /dev/kvm (moved away for one case; root ignores file modes).
mv /dev/kvm /dev/kvm.away
case_run no-kvm rc=3 lines=1 'match=^kvmini: ' -- kvmini
mv /dev/kvm.away /dev/kvm

# A guest that triple-faults at once (test/bench/exit.asm, the start-up
# benchmark's image): the VM stops with the reason and RIP, exit 8.
case_run triple-fault rc=8 'match=^kvmini: guest stopped: triple fault \(KVM_EXIT_SHUTDOWN\) at rip 0x' \
	-- kvmini --kernel /l2/exit.elf --net none

# A guest that never touches virtio-net never starts it: no I/O thread, no
# irqfd, no ioeventfds to set up or tear down (issue 12's start-up), even
# though the firmware-like start placed its BARs and turned decoding on.
case_run virtio-waits-for-the-guest rc=8 'nomatch=virtio-net: started on the guest' \
	'match=virtio-net: loopback backend' \
	-- kvmini --kernel /l2/exit.elf --trace virtio
