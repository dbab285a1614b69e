/* SPDX-License-Identifier: MIT */
/*
 * vcpu.c - start state and the run loop: one switch on the exit reason.
 *
 * Port I/O and MMIO exits go to the bus of their address space; anything
 * else is either expected (an interrupted KVM_RUN) or ends the VM with the
 * reason, RIP and registers.
 */
#include "vcpu.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "memmap.h"
#include "trace.h"
#include "vm.h"

static volatile sig_atomic_t stop_signal;

/* A stop asked for by another thread (vcpu_request_exit): the status and
 * the line to print.  vcpu_tid/running let the asker kick KVM_RUN. */
static int stop_status;
static const char *stop_why;
static pthread_t vcpu_thread;
static bool vcpu_kick_ready, vcpu_running;

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_OSI] = "OSI",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
};

const char *vcpu_exit_name(unsigned reason)
{
	if (reason < sizeof(exit_names) / sizeof(exit_names[0]) && exit_names[reason])
		return exit_names[reason];
	return "other";
}

/* A flat segment over 4 GiB: code (execute/read, accessed) or data
 * (read/write, accessed); 64-bit code has L set, and then D must be clear. */
static struct kvm_segment flat_seg(uint16_t sel, bool code, bool long_mode)
{
	bool code64 = code && long_mode;

	return (struct kvm_segment){
		.limit = 0xffffffff,
		.selector = sel,
		.type = code ? 0xb : 0x3,
		.present = 1,
		.s = 1, /* code/data, not system */
		.db = !code64,
		.l = code64,
		.g = 1, /* 4 KiB granularity: 4 GiB limit */
	};
}

void vcpu_start(struct vm *vm, const struct vcpu_start *st)
{
	struct kvm_sregs s;
	struct kvm_regs r = {.rflags = 0x2 /* bit 1 is always 1; IF clear */,
			     .rip = st->rip,
			     .rax = st->rax,
			     .rbx = st->rbx,
			     .rsi = st->rsi};

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0)
		die_errno(EXIT_HOST, "KVM_GET_SREGS failed");
	/* Both boot protocols want flat segments and a busy TSS; neither
	 * gives the selectors a meaning beyond matching a GDT when there is
	 * one (Linux's boot GDT has code at 0x10, data at 0x18). */
	s.cs = flat_seg(0x10, true, st->long_mode);
	s.ds = s.es = s.fs = s.gs = s.ss = flat_seg(0x18, false, st->long_mode);
	s.tr = (struct kvm_segment){.limit = 0x67, .type = 0xb /* busy TSS */, .present = 1};
	s.ldt = (struct kvm_segment){.type = 0x2, .present = 1, .limit = 0xffff};
	s.gdt.base = st->gdt_base;
	s.gdt.limit = st->gdt_limit;
	s.idt.base = 0;
	s.idt.limit = 0;
	s.cr0 = st->cr0;
	s.cr3 = st->cr3;
	s.cr4 = st->cr4;
	s.efer = st->efer;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &s) < 0)
		die_errno(EXIT_HOST, "KVM_SET_SREGS failed");
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &r) < 0)
		die_errno(EXIT_HOST, "KVM_SET_REGS failed");
}

void vcpu_setup_pvh(struct vm *vm, uint32_t entry, uint32_t start_info)
{
	/* PVH boot ABI: 32-bit protected mode, paging off (CR0.PE=1, PG=0,
	 * CR4=0, EFER=0), %ebx = start info; no GDT or IDT is promised. */
	struct vcpu_start st = {.cr0 = 0x11 /* PE | ET */, .rip = entry, .rbx = start_info};

	vcpu_start(vm, &st);
	trace(TRACE_BOOT, "vCPU 0: 32-bit protected mode, rip=0x%x, rbx=0x%x", entry, start_info);
}

void vcpu_setup_linux64(struct vm *vm, uint64_t entry)
{
	struct vcpu_start st = {
		.long_mode = true,
		.cr0 = 0x80000031, /* PG | NE | ET | PE */
		.cr3 = BZ_PML4,
		.cr4 = 0x20,	/* PAE */
		.efer = 0x500, /* LME | LMA */
		.gdt_base = BZ_GDT,
		.gdt_limit = 4 * 8 - 1, /* null, null, code 0x10, data 0x18 */
		.rip = entry,
		.rsi = BZ_ZERO_PAGE,
	};

	vcpu_start(vm, &st);
	trace(TRACE_BOOT, "vCPU 0: long mode, rip=0x%llx, rsi=0x%lx", (unsigned long long)entry,
	      BZ_ZERO_PAGE);
}

void vcpu_dump(struct vm *vm)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "kvmini: (cannot read vCPU registers: %s)\n", strerror(errno));
		return;
	}
	fprintf(stderr,
		"  rip=%016llx rflags=%016llx\n"
		"  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"  rsi=%016llx rdi=%016llx rsp=%016llx rbp=%016llx\n"
		"  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		"  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n"
		"  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx\n"
		"  cs=%04x (base %llx, l=%u db=%u) ss=%04x idt=%llx/%x gdt=%llx/%x\n",
		r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp, r.r8, r.r9,
		r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, s.cr0, s.cr2, s.cr3, s.cr4, s.efer,
		s.cs.selector, s.cs.base, s.cs.l, s.cs.db, s.ss.selector, s.idt.base, s.idt.limit,
		s.gdt.base, s.gdt.limit);
}

static unsigned long long vcpu_rip(struct vm *vm)
{
	struct kvm_regs r;

	return ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0 ? 0 : r.rip;
}

void vcpu_request_stop(struct vm *vm, int sig)
{
	stop_signal = sig;
	/* If the vCPU is about to enter the guest, this makes KVM_RUN return
	 * at once; if it is inside, the signal itself kicks it out (EINTR). */
	if (vm && vm->run)
		vm->run->immediate_exit = 1;
}

static void on_kick(int sig)
{
	(void)sig; /* only to make KVM_RUN return with EINTR */
}

void vcpu_kick_init(void)
{
	struct sigaction sa = {.sa_handler = on_kick}; /* no SA_RESTART */

	if (vcpu_kick_ready)
		return;
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL))
		die_errno(EXIT_HOST, "sigaction for the vCPU kick");
	vcpu_thread = pthread_self();
	__atomic_store_n(&vcpu_kick_ready, true, __ATOMIC_SEQ_CST);
}

void vcpu_request_exit(struct vm *vm, int status, const char *why)
{
	/* The first request wins; later ones (the host repeats REQ) change
	 * nothing.  One thread asks (the VFIO events thread), so a load and a
	 * store do; why is in place before the status that publishes it. */
	if (__atomic_load_n(&stop_status, __ATOMIC_SEQ_CST))
		return;
	stop_why = why;
	__atomic_store_n(&stop_status, status, __ATOMIC_SEQ_CST);
	__atomic_store_n(&vm->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	/* Inside KVM_RUN the immediate_exit flag is not looked at again:
	 * a signal to the vCPU thread makes it return.  Before vcpu_run
	 * starts, its first look at stop_status sees the request. */
	if (__atomic_load_n(&vcpu_running, __ATOMIC_SEQ_CST) &&
	    __atomic_load_n(&vcpu_kick_ready, __ATOMIC_SEQ_CST))
		pthread_kill(vcpu_thread, VCPU_KICK_SIGNAL);
}

/* Is the instruction ending at linear address end an IN or OUT of this
 * port?  Returns its length (1-3: in/out dx, in/out imm8, with a 0x66
 * prefix), or 0.  Reads through the guest's own page tables. */
static unsigned pio_insn_before(struct vm *vm, uint64_t end, uint16_t port)
{
	struct kvm_translation t = {.linear_address = end - 3};
	uint8_t b[3];
	unsigned len = 0;

	if (end < 3 || ioctl(vm->vcpu_fd, KVM_TRANSLATE, &t) < 0 || !t.valid ||
	    (t.physical_address & 0xfff) > 0xffd)
		return 0; /* do not follow the bytes across a page */
	uint8_t *p = vm_gpa(vm, t.physical_address, 3);
	if (!p)
		return 0;
	memcpy(b, p, 3);
	if (port < 0x100 && b[1] >= 0xe4 && b[1] <= 0xe7 && b[2] == port)
		len = 2; /* in/out al|ax|eax, imm8 */
	else if (b[2] >= 0xec && b[2] <= 0xef)
		len = 1; /* in/out al|ax|eax, dx */
	if (len && b[2 - len] == 0x66)
		len++;
	return len;
}

/* Execute the port access that just exited once more, now that a device
 * in the kernel serves it (the lazily created PIT, kvm.c).  A port exit
 * is completed at the next KVM_RUN; with immediate_exit set that KVM_RUN
 * completes it without running the guest (the KVM API promises this).
 * Upstream KVM leaves RIP on the IN/OUT until then and steps past it at
 * completion; a kernel that stepped past it before exiting (seen with
 * PVM) leaves RIP alone.  Either way RIP ends up just after the
 * instruction, so: complete, then move RIP back to the instruction's
 * start, found by decoding the bytes before it. */
static int vcpu_replay_pio(struct vm *vm)
{
	struct kvm_regs r;
	uint64_t rip0;
	uint16_t port = vm->run->io.port;
	unsigned len;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0)
		return -errno;
	rip0 = r.rip;
	vm->run->immediate_exit = 1;
	if (ioctl(vm->vcpu_fd, KVM_RUN, 0) == 0 || errno != EINTR) {
		vm->run->immediate_exit = 0;
		return -EIO;
	}
	vm->run->immediate_exit = 0;
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0)
		return -errno;
	len = pio_insn_before(vm, r.rip, port);
	if (!len || (r.rip != rip0 && r.rip - len != rip0)) {
		trace(TRACE_BOOT, "port 0x%x access at rip 0x%llx not replayed: cannot decode it",
		      port, (unsigned long long)r.rip);
		return 0;
	}
	trace(TRACE_BOOT, "port 0x%x access at rip 0x%llx replayed (%u-byte instruction)", port,
	      (unsigned long long)(r.rip - len), len);
	r.rip -= len;
	return ioctl(vm->vcpu_fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}

static int vcpu_crash(struct vm *vm, const char *what)
{
	fflush(stdout);
	fprintf(stderr, "kvmini: guest stopped: %s at rip 0x%llx\n", what, vcpu_rip(vm));
	vcpu_dump(vm);
	return EXIT_GUEST_CRASH;
}

int vcpu_run(struct vm *vm)
{
	struct kvm_run *run = vm->run;

	__atomic_store_n(&vcpu_running, true, __ATOMIC_SEQ_CST);
	for (;;) {
		int st = __atomic_load_n(&stop_status, __ATOMIC_SEQ_CST);

		if (st) {
			fflush(stdout);
			fprintf(stderr, "kvmini: %s\n", stop_why);
			return st;
		}
		if (stop_signal) {
			fflush(stdout);
			fprintf(stderr, "kvmini: stopped by %s\n",
				stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
			return stop_signal == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM;
		}
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				continue;
			}
			die_errno(EXIT_HOST, "KVM_RUN failed");
		}
		if (run->exit_reason < sizeof(vm->exits) / sizeof(vm->exits[0]))
			vm->exits[run->exit_reason]++;
		trace(TRACE_EXIT, "exit %s", vcpu_exit_name(run->exit_reason));

		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;
			bool out = run->io.direction == KVM_EXIT_IO_OUT;

			if (run->io.data_offset >= vm->run_size)
				return vcpu_crash(vm, "port I/O data outside kvm_run");
			/* A string instruction (rep outs/ins) may arrive as
			 * count accesses of size bytes each, in one exit: the
			 * bus hands them to the device in one call, within
			 * the kvm_run area.  (KVM batches rep ins this way;
			 * its emulator exits once per element of rep outs.) */
			if (run->io.count == 1)
				bus_access(&vm->pio, run->io.port, data, run->io.size, out);
			else if (!bus_access_string(&vm->pio, run->io.port, data,
						    vm->run_size - run->io.data_offset,
						    run->io.size, run->io.count, out))
				return vcpu_crash(vm, "string port I/O larger than kvm_run");
			if (vm->pio_replay) {
				vm->pio_replay = false;
				if (vcpu_replay_pio(vm) < 0)
					die_errno(EXIT_HOST, "cannot replay a port access for the new PIT");
			}
			break;
		}
		case KVM_EXIT_MMIO:
			bus_access(&vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
				   run->mmio.is_write);
			break;
		case KVM_EXIT_INTR:
			break; /* a signal; the top of the loop looks at it */
		case KVM_EXIT_HLT:
			/* With the in-kernel LAPIC, HLT only exits when nothing
			 * can ever wake the vCPU. */
			return vcpu_crash(vm, "HLT with no way to wake up");
		case KVM_EXIT_SHUTDOWN:
			return vcpu_crash(vm, "triple fault (KVM_EXIT_SHUTDOWN)");
		case KVM_EXIT_FAIL_ENTRY: {
			char why[96];

			snprintf(why, sizeof(why), "VM entry failed, hardware reason 0x%llx",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return vcpu_crash(vm, why);
		}
		case KVM_EXIT_INTERNAL_ERROR: {
			char why[96];

			snprintf(why, sizeof(why), "KVM internal error, suberror %u",
				 run->internal.suberror);
			return vcpu_crash(vm, why);
		}
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
				fflush(stdout);
				fprintf(stderr, "kvmini: guest powered off\n");
				return EXIT_GUEST_OK;
			}
			if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
				fflush(stdout);
				fprintf(stderr, "kvmini: guest asked for a reboot\n");
				return EXIT_REBOOT;
			}
			return vcpu_crash(vm, "unexpected system event");
		default: {
			char why[64];

			snprintf(why, sizeof(why), "unhandled exit %s (%u)",
				 vcpu_exit_name(run->exit_reason), run->exit_reason);
			return vcpu_crash(vm, why);
		}
		}
		if (vm->done)
			return vm->exit_status;
	}
}
