/* SPDX-License-Identifier: MIT */
/*
 * floor.c - the benchmark floor: the least a KVM program can do to run a
 * guest.  Open /dev/kvm, create a VM with one page of RAM and one vCPU,
 * start it in real mode on a hlt (no irqchip, so hlt exits to us), run to
 * that first exit and leave.  Nothing is torn down by hand: exit() closes
 * the fds, as a minimal program would.  kvmini's start-up is measured
 * against this, timed the same way (test/bench/timeit.c).
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

int main(void)
{
	struct kvm_sregs s;
	struct kvm_regs r = {.rip = 0, .rflags = 2};
	struct kvm_run *run;
	uint8_t *mem;
	int kvm, vm, cpu;
	long sz;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		fail("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		fail("KVM_CREATE_VM");
	mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		fail("mmap");
	mem[0] = 0xf4; /* hlt */
	struct kvm_userspace_memory_region slot = {.memory_size = 4096,
						   .userspace_addr = (uintptr_t)mem};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		fail("KVM_SET_USER_MEMORY_REGION");
	cpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (cpu < 0)
		fail("KVM_CREATE_VCPU");
	sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED)
		fail("mmap kvm_run");
	if (ioctl(cpu, KVM_GET_SREGS, &s) < 0)
		fail("KVM_GET_SREGS");
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(cpu, KVM_SET_SREGS, &s) < 0 || ioctl(cpu, KVM_SET_REGS, &r) < 0)
		fail("KVM_SET_*REGS");
	if (ioctl(cpu, KVM_RUN, 0) < 0)
		fail("KVM_RUN");
	if (run->exit_reason != KVM_EXIT_HLT) {
		fprintf(stderr, "floor: first exit %u, not HLT\n", run->exit_reason);
		return 1;
	}
	return 0;
}
