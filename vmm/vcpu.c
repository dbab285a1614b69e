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
#include <time.h>
#include <sys/ioctl.h>

#include "memmap.h"
#include "seccomp.h"
#include "trace.h"
#include "vm.h"

__thread struct vcpu *vcpu_current;

/* SIGINT/SIGTERM: only vCPU 0's thread (the main thread) takes them. */
static volatile sig_atomic_t stop_signal;

/* How the VM stops: the first request wins (a vCPU's crash, shutdown,
 * reset or the guest's "done", a signal, the VFIO events thread), and
 * every vCPU thread is then kicked out of KVM_RUN.  The lock also orders
 * kicks against threads leaving (a thread is kicked only while in_loop),
 * and the cond tells the APs to start, and teardown that a loop ended. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool go;	/* setup is over: the APs may enter KVM_RUN */
	bool requested; /* read without the lock at the top of each loop */
	int status;
	const char *why; /* printed once every vCPU has stopped; may be NULL */
} stop = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static bool vcpu_kick_ready;

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

	int fd = vm->vcpus[0].fd; /* the boot processor; APs wait for a SIPI */

	if (ioctl(fd, KVM_GET_SREGS, &s) < 0)
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
	if (ioctl(fd, KVM_SET_SREGS, &s) < 0)
		die_errno(EXIT_HOST, "KVM_SET_SREGS failed");
	if (ioctl(fd, KVM_SET_REGS, &r) < 0)
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

void vcpu_dump(struct vcpu *c)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(c->fd, KVM_GET_REGS, &r) < 0 || ioctl(c->fd, KVM_GET_SREGS, &s) < 0) {
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

static unsigned long long vcpu_rip(struct vcpu *c)
{
	struct kvm_regs r;

	return ioctl(c->fd, KVM_GET_REGS, &r) < 0 ? 0 : r.rip;
}

void vcpu_request_stop(struct vm *vm, int sig)
{
	stop_signal = sig;
	/* The signal runs this on vCPU 0's thread.  If it is about to enter
	 * the guest, this makes KVM_RUN return at once; if it is inside, the
	 * signal itself kicks it out (EINTR).  vCPU 0's loop then stops the
	 * others. */
	if (vm && vm->vcpus[0].run)
		__atomic_store_n(&vm->vcpus[0].run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

static void on_kick(int sig)
{
	(void)sig; /* only to make KVM_RUN return with EINTR */
}

void vcpu_kick_init(void)
{
	/* SA_RESTART: KVM_RUN returns EINTR to a signal all the same (KVM
	 * answers -EINTR, which is never restarted), while any other call the
	 * kicked thread is in, such as a write of kvmini's crash line to a slow
	 * terminal, goes on instead of failing and losing the line. */
	struct sigaction sa = {.sa_handler = on_kick, .sa_flags = SA_RESTART};

	if (__atomic_load_n(&vcpu_kick_ready, __ATOMIC_SEQ_CST))
		return;
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL))
		die_errno(EXIT_HOST, "sigaction for the vCPU kick");
	__atomic_store_n(&vcpu_kick_ready, true, __ATOMIC_SEQ_CST);
}

/* Make every vCPU leave KVM_RUN and look at the stop request (lock held).
 * immediate_exit catches one about to enter; the signal one inside.
 * Threads that left their loop are not signalled: they may be gone. */
static void kick_all_locked(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vcpu *c = &vm->vcpus[i];

		if (c->run)
			__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		if (c->in_loop && __atomic_load_n(&vcpu_kick_ready, __ATOMIC_SEQ_CST) &&
		    !pthread_equal(c->thread, pthread_self()))
			pthread_kill(c->thread, VCPU_KICK_SIGNAL);
	}
}

/* Ask the VM to stop with status; true when this was the first request
 * (whose caller then says why, once). */
static bool stop_claim(struct vm *vm, int status, const char *why)
{
	bool first;

	pthread_mutex_lock(&stop.lock);
	first = !stop.requested;
	if (first) {
		stop.status = status;
		stop.why = why;
		__atomic_store_n(&stop.requested, true, __ATOMIC_SEQ_CST);
	}
	stop.go = true; /* APs still waiting to start: start, to stop */
	pthread_cond_broadcast(&stop.cond);
	/* One kick each, at the first request: a vCPU that took it either
	 * left KVM_RUN or will find immediate_exit set, and then sees the
	 * request at the top of its loop.  Kicking again as each vCPU leaves
	 * would only interrupt the others' work (vCPU 0 writing why it
	 * stopped). */
	if (first)
		kick_all_locked(vm);
	pthread_mutex_unlock(&stop.lock);
	return first;
}

void vcpu_request_exit(struct vm *vm, int status, const char *why)
{
	/* The first request wins; later ones (the host repeats REQ) change
	 * nothing.  why is printed when every vCPU has stopped. */
	stop_claim(vm, status, why);
}

/* Is the instruction ending at linear address end an IN or OUT of this
 * port?  Returns its length (1-3: in/out dx, in/out imm8, with a 0x66
 * prefix), or 0.  Reads through the guest's own page tables. */
static unsigned pio_insn_before(struct vcpu *c, uint64_t end, uint16_t port)
{
	struct kvm_translation t = {.linear_address = end - 3};
	uint8_t b[3];
	unsigned len = 0;

	if (end < 3 || ioctl(c->fd, KVM_TRANSLATE, &t) < 0 || !t.valid ||
	    (t.physical_address & 0xfff) > 0xffd)
		return 0; /* do not follow the bytes across a page */
	uint8_t *p = vm_gpa(c->vm, t.physical_address, 3);
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

/* Complete the exit KVM_RUN last returned (a port access the guest is
 * waiting on) without running the guest: a KVM_RUN with immediate_exit set
 * does exactly that and returns EINTR (KVM API, immediate_exit).  The flag
 * is written atomically, as every other thread that stops a vCPU writes
 * it.  0, or -1 when KVM did not answer so. */
static int vcpu_complete_exit(struct vcpu *c)
{
	int rc = 0;

	__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (ioctl(c->fd, KVM_RUN, 0) == 0 || errno != EINTR)
		rc = -1;
	__atomic_store_n(&c->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
	return rc;
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
static int vcpu_replay_pio(struct vcpu *c)
{
	struct kvm_regs r;
	uint64_t rip0;
	uint16_t port = c->run->io.port;
	unsigned len;

	if (ioctl(c->fd, KVM_GET_REGS, &r) < 0)
		return -errno;
	rip0 = r.rip;
	if (vcpu_complete_exit(c) < 0)
		return -EIO;
	if (ioctl(c->fd, KVM_GET_REGS, &r) < 0)
		return -errno;
	len = pio_insn_before(c, r.rip, port);
	if (!len || (r.rip != rip0 && r.rip - len != rip0)) {
		trace(TRACE_BOOT, "port 0x%x access at rip 0x%llx not replayed: cannot decode it",
		      port, (unsigned long long)r.rip);
		return 0;
	}
	trace(TRACE_BOOT, "port 0x%x access at rip 0x%llx replayed (%u-byte instruction)", port,
	      (unsigned long long)(r.rip - len), len);
	r.rip -= len;
	return ioctl(c->fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}

/* Wake from ACPI S3 (devices/pm.c): the CPU comes back as after a reset,
 * in real mode, and starts at the FACS waking vector: CS = vector >> 4,
 * IP = vector & 0xf (ACPI 6.4, 5.2.10).  First the port write that put
 * the guest to sleep is completed (a KVM_RUN with immediate_exit, as in
 * vcpu_replay_pio), so that completing it later cannot step past the new
 * RIP.  CR0 is ET alone, caches on: a cache-disabled CPU is slow for no
 * purpose under nested KVM.  The LAPIC and the rest of the machine keep
 * their state, as RAM does. */
static int vcpu_s3_resume(struct vcpu *c, uint32_t vector)
{
	struct kvm_sregs s;
	struct kvm_regs r = {.rflags = 0x2, .rip = vector & 0xf};
	struct kvm_segment seg = {.limit = 0xffff, .type = 0x3, .present = 1, .s = 1};

	if (vcpu_complete_exit(c) < 0) {
		errno = EIO;
		return -1;
	}
	if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return -1;
	s.ds = s.es = s.fs = s.gs = s.ss = seg;
	s.cs = seg;
	s.cs.type = 0xb; /* code, execute/read, accessed */
	s.cs.selector = (uint16_t)(vector >> 4);
	s.cs.base = (uint64_t)(vector >> 4) << 4;
	s.tr = (struct kvm_segment){.limit = 0xffff, .type = 0xb, .present = 1};
	s.ldt = (struct kvm_segment){.limit = 0xffff, .type = 0x2, .present = 1};
	s.gdt.base = 0;
	s.gdt.limit = 0xffff;
	s.idt.base = 0;
	s.idt.limit = 0x3ff;
	s.cr0 = 0x10;
	s.cr2 = s.cr3 = s.cr4 = 0;
	s.efer = 0;
	if (ioctl(c->fd, KVM_SET_SREGS, &s) < 0 || ioctl(c->fd, KVM_SET_REGS, &r) < 0)
		return -1;
	trace(TRACE_BOOT, "vCPU %u: woken from ACPI S3, real mode at %04x:%04x", c->id,
	      vector >> 4, vector & 0xf);
	return 0;
}

/* The vCPU stops the VM with status; the first to do so says why (with
 * registers for a crash), so one line, not one per vCPU, tells the story. */
static int vcpu_crash(struct vcpu *c, const char *what)
{
	if (stop_claim(c->vm, EXIT_GUEST_CRASH, NULL)) {
		fflush(stdout);
		if (c->vm->ncpus > 1)
			fprintf(stderr, "kvmini: guest stopped: %s at rip 0x%llx (vCPU %u)\n", what,
				vcpu_rip(c), c->id);
		else
			fprintf(stderr, "kvmini: guest stopped: %s at rip 0x%llx\n", what,
				vcpu_rip(c));
		vcpu_dump(c);
	}
	return EXIT_GUEST_CRASH;
}

static int vcpu_end(struct vcpu *c, int status, const char *line)
{
	if (stop_claim(c->vm, status, NULL)) {
		fflush(stdout);
		fprintf(stderr, "kvmini: %s\n", line);
	}
	return status;
}

/* One vCPU's run loop: one switch on the exit reason.  Returns when the
 * VM stops, for whatever reason and on whichever vCPU. */
static int vcpu_loop(struct vcpu *c)
{
	struct vm *vm = c->vm;
	struct kvm_run *run = c->run;
	bool done = false;

	vcpu_current = c;
	for (;;) {
		if (__atomic_load_n(&stop.requested, __ATOMIC_SEQ_CST)) {
			pthread_mutex_lock(&stop.lock);
			int st = stop.status;
			pthread_mutex_unlock(&stop.lock);
			return st;
		}
		if (c->id == 0 && stop_signal)
			return vcpu_end(c, stop_signal == SIGINT ? EXIT_SIGINT : EXIT_SIGTERM,
					stop_signal == SIGINT ? "stopped by SIGINT"
							      : "stopped by SIGTERM");
		if (ioctl(c->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* Atomic: another thread may be setting it to stop
				 * this vCPU; the stop request, published before,
				 * is looked at next, so clearing it loses nothing. */
				__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				continue;
			}
			char why[96];

			snprintf(why, sizeof(why), "KVM_RUN failed on vCPU %u: %s", c->id,
				 strerror(errno));
			return vcpu_end(c, EXIT_HOST, why);
		}
		if (run->exit_reason < VM_EXIT_REASONS)
			c->exits[run->exit_reason]++;
		if (vm->ncpus > 1)
			trace(TRACE_EXIT, "vCPU %u: exit %s", c->id, vcpu_exit_name(run->exit_reason));
		else
			trace(TRACE_EXIT, "exit %s", vcpu_exit_name(run->exit_reason));

		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *data = (uint8_t *)run + run->io.data_offset;

			if (run->io.data_offset >= vm->run_size)
				return vcpu_crash(c, "port I/O data outside kvm_run");
			if (!vm_pio(vm, run->io.port, data, vm->run_size - run->io.data_offset,
				    run->io.size, run->io.count, run->io.direction == KVM_EXIT_IO_OUT,
				    &done))
				return vcpu_crash(c, "string port I/O larger than kvm_run");
			if (c->pio_replay) {
				c->pio_replay = false;
				if (vcpu_replay_pio(c) < 0)
					return vcpu_end(c, EXIT_HOST,
							"cannot replay a port access for the new PIT");
			}
			if (c->s3_resume) {
				c->s3_resume = false;
				if (vcpu_s3_resume(c, c->s3_vector) < 0)
					return vcpu_end(c, EXIT_HOST,
							"cannot restart the vCPU at the S3 waking vector");
			}
			break;
		}
		case KVM_EXIT_MMIO:
			vm_mmio(vm, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
				run->mmio.is_write, &done);
			break;
		case KVM_EXIT_INTR:
			break; /* a signal; the top of the loop looks at it */
		case KVM_EXIT_HLT:
			/* With the in-kernel LAPIC, HLT only exits when nothing
			 * can ever wake the vCPU. */
			return vcpu_crash(c, "HLT with no way to wake up");
		case KVM_EXIT_SHUTDOWN:
			return vcpu_crash(c, "triple fault (KVM_EXIT_SHUTDOWN)");
		case KVM_EXIT_FAIL_ENTRY: {
			char why[96];

			snprintf(why, sizeof(why), "VM entry failed, hardware reason 0x%llx",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return vcpu_crash(c, why);
		}
		case KVM_EXIT_INTERNAL_ERROR: {
			char why[96];

			snprintf(why, sizeof(why), "KVM internal error, suberror %u",
				 run->internal.suberror);
			return vcpu_crash(c, why);
		}
		case KVM_EXIT_SYSTEM_EVENT:
			if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN)
				return vcpu_end(c, EXIT_GUEST_OK, "guest powered off");
			if (run->system_event.type == KVM_SYSTEM_EVENT_RESET)
				return vcpu_end(c, EXIT_REBOOT, "guest asked for a reboot");
			return vcpu_crash(c, "unexpected system event");
		default: {
			char why[64];

			snprintf(why, sizeof(why), "unhandled exit %s (%u)",
				 vcpu_exit_name(run->exit_reason), run->exit_reason);
			return vcpu_crash(c, why);
		}
		}
		if (done) {
			pthread_mutex_lock(&vm->lock);
			int st = vm->exit_status;
			pthread_mutex_unlock(&vm->lock);
			stop_claim(vm, st, NULL); /* the device said why */
			return st;
		}
	}
}

/* The loop ended: say so (teardown may wait for it), and stop the VM. */
static void vcpu_left(struct vcpu *c, int status)
{
	stop_claim(c->vm, status, NULL);
	pthread_mutex_lock(&stop.lock);
	c->in_loop = false;
	pthread_cond_broadcast(&stop.cond);
	pthread_mutex_unlock(&stop.lock);
}

static void *ap_thread(void *arg)
{
	struct vcpu *c = arg;
	sigset_t kick;

	/* Created with every signal blocked: take only the kick (and SIGSYS,
	 * which seccomp_confine lets through).  SIGINT/SIGTERM stay with
	 * vCPU 0. */
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	seccomp_confine(SECCOMP_VCPU);
	pthread_mutex_lock(&stop.lock);
	while (!stop.go)
		pthread_cond_wait(&stop.cond, &stop.lock);
	pthread_mutex_unlock(&stop.lock);
	vcpu_left(c, vcpu_loop(c));
	return NULL;
}

void vcpu_threads_start(struct vm *vm)
{
	sigset_t all, old;
	pthread_attr_t attr;

	vm->vcpus[0].thread = pthread_self();
	/* One vCPU: nothing to start and no one to kick (the VFIO events
	 * thread installs the kick itself), so the start-up stays as it was. */
	if (vm->ncpus < 2)
		return;
	vcpu_kick_init();
	/* A small stack: the loop and the device handlers use little (the
	 * largest frames are a few hundred bytes). */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 << 10);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	/* Under the stop lock: a stop request (the VFIO events thread) may
	 * come meanwhile, and kicks read c->thread. */
	pthread_mutex_lock(&stop.lock);
	for (unsigned i = 1; i < vm->ncpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		int err = pthread_create(&c->thread, &attr, ap_thread, c);

		if (err) {
			pthread_mutex_unlock(&stop.lock);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			errno = err;
			die_errno(EXIT_HOST, "cannot start the thread of vCPU %u", i);
		}
		c->in_loop = true; /* until it leaves: teardown waits for it */
		c->thread_up = true;
	}
	pthread_mutex_unlock(&stop.lock);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

int vcpu_run_all(struct vm *vm)
{
	struct vcpu *bsp = &vm->vcpus[0];
	int status;

	pthread_mutex_lock(&stop.lock);
	bsp->in_loop = true;
	stop.go = true;
	pthread_cond_broadcast(&stop.cond);
	pthread_mutex_unlock(&stop.lock);
	vcpu_left(bsp, vcpu_loop(bsp));
	for (unsigned i = 1; i < vm->ncpus; i++) {
		struct vcpu *c = &vm->vcpus[i];

		if (c->thread_up && !pthread_join(c->thread, NULL))
			c->thread_up = false;
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		for (unsigned r = 0; r < VM_EXIT_REASONS; r++)
			vm->exits[r] += vm->vcpus[i].exits[r];
	pthread_mutex_lock(&stop.lock);
	status = stop.status;
	if (stop.why) {
		fflush(stdout);
		fprintf(stderr, "kvmini: %s\n", stop.why);
	}
	pthread_mutex_unlock(&stop.lock);
	return status;
}

bool vcpu_stop_all(struct vm *vm)
{
	struct timespec until;
	bool others = false;

	if (vm->ncpus < 2)
		return true; /* no other vCPU thread */
	stop_claim(vm, EXIT_HOST, NULL);
	/* Wait (a second at most) until no other vCPU is in its loop.  One
	 * that cannot leave (blocked on the device lock that a dying thread
	 * holds) is left to the process exit. */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	pthread_mutex_lock(&stop.lock);
	for (;;) {
		others = false;
		for (unsigned i = 0; i < vm->ncpus; i++)
			if (vm->vcpus[i].in_loop && !pthread_equal(vm->vcpus[i].thread, pthread_self()))
				others = true;
		if (!others || pthread_cond_timedwait(&stop.cond, &stop.lock, &until))
			break;
	}
	pthread_mutex_unlock(&stop.lock);
	if (others)
		warn("a vCPU did not stop within a second; the process exit releases it");
	return !others;
}
