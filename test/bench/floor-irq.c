/* SPDX-License-Identifier: MIT */
/*
 * floor-irq.c - the fair floor: the least a VMM must do for the guest it
 * boots (issue 20).  Open /dev/kvm; create a VM; create the in-kernel
 * irqchip (KVM_CREATE_IRQCHIP: LAPIC, IOAPIC, PIC; every guest interrupt
 * needs it) and the in-kernel PIT (KVM_CREATE_PIT2, flags 0); map 64 MiB
 * of anonymous memory (MAP_NORESERVE, as kvmini maps guest RAM) and
 * register it as slot 0 at guest-physical 0 without touching it; put the
 * guest's code in a second, one-page slot at 0xfffff000, where a vCPU
 * starts (its reset state: CS base 0xffff0000, IP 0xfff0), so RAM stays
 * untouched; create one vCPU, map its kvm_run and KVM_RUN it to its first
 * exit (an OUT to port 0xf4: with an in-kernel LAPIC a HLT no longer
 * exits); then leave.  Nothing is torn down by hand: exit() closes the
 * fds and KVM destroys the VM, as a minimal program would.
 *
 *     floor-irq [MiB]        guest RAM size, default 64 (kvmini's default)
 *
 * Static musl and the host flags, like kvmini and floor.c
 * (test/bench/bench.mk); timed by test/bench/timeit.c.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static void fail(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	uint64_t ram = (argc > 1 ? strtoull(argv[1], NULL, 0) : 64) << 20;
	struct kvm_pit_config pit = {.flags = 0};
	struct kvm_run *run;
	uint8_t *mem, *rom;
	int kvm, vm, cpu;
	long sz;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		fail("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		fail("KVM_CREATE_VM");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		fail("KVM_CREATE_IRQCHIP");
	if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
		fail("KVM_CREATE_PIT2");
	mem = mmap(NULL, ram, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap RAM");
	struct kvm_userspace_memory_region slot0 = {
	    .slot = 0, .guest_phys_addr = 0, .memory_size = ram, .userspace_addr = (uintptr_t)mem};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot0) < 0)
		fail("KVM_SET_USER_MEMORY_REGION (RAM)");
	rom = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rom == MAP_FAILED)
		fail("mmap code page");
	rom[0xff0] = 0xe6; /* out 0xf4, al */
	rom[0xff1] = 0xf4;
	rom[0xff2] = 0xf4; /* hlt, never reached */
	struct kvm_userspace_memory_region slot1 = {.slot = 1,
						    .guest_phys_addr = 0xfffff000,
						    .memory_size = 4096,
						    .userspace_addr = (uintptr_t)rom};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot1) < 0)
		fail("KVM_SET_USER_MEMORY_REGION (code)");
	cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (cpu < 0)
		fail("KVM_CREATE_VCPU");
	sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED)
		fail("mmap kvm_run");
	if (ioctl(cpu, KVM_RUN, 0) < 0)
		fail("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0xf4) {
		fprintf(stderr, "floor-irq: first exit %u, not the OUT to 0xf4\n", run->exit_reason);
		return 1;
	}
	return 0;
}
