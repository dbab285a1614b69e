/* SPDX-License-Identifier: MIT */
/*
 * seccomp.c - one allowlist per kvmini thread, written with the kernel's
 * BPF macros (linux/filter.h, linux/seccomp.h).
 *
 * Two tables say everything: the system calls each thread may make, and
 * the ioctl requests each may issue.  To let a thread do one more thing,
 * add a row (docs/confinement.md says why each row is there).
 *
 * A call outside the list traps (SECCOMP_RET_TRAP): the kernel sends SIGSYS
 * to the thread that made it, and the handler below writes one line naming
 * the call and ends the process with EXIT_SECCOMP.  SECCOMP_RET_KILL_PROCESS
 * would leave only an audit record that a user running kvmini in a terminal
 * or CI rarely sees, and a "Bad system call" status 159 that says nothing
 * about which call.  The handler does not run kvmini's teardown: it may
 * interrupt any code holding any lock.  Exiting closes every fd, and the
 * kernel's own release of the VFIO device and container then disables its
 * interrupts, clears bus mastering, resets it where it can and unmaps and
 * unpins all DMA (docs/confinement.md).
 *
 * A wrong audit architecture (an i386 call from a 64-bit process), or an
 * x32 call (the x86-64 architecture with __X32_SYSCALL_BIT in the number),
 * kills outright: the numbers would not mean what the tables say.
 */
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "trace.h"
#include "iommufd_uapi.h"

bool seccomp_enabled = true;

/* x32 system calls come with the x86-64 audit architecture and this bit in
 * the number (__X32_SYSCALL_BIT, asm/unistd.h; musl's headers lack it). */
#define X32_SYSCALL_BIT 0x40000000u

/* Which threads a row is for. */
#define V   (1u << SECCOMP_VCPU)
#define I   (1u << SECCOMP_IO)
#define S   (1u << SECCOMP_SERIAL)
#define E   (1u << SECCOMP_VFIO_EVENTS)
#define ALL (V | I | S | E)

static const char *const thread_names[SECCOMP_NTHREADS] = {
    [SECCOMP_VCPU] = "vcpu",
    [SECCOMP_IO] = "virtio-net I/O",
    [SECCOMP_SERIAL] = "serial input",
    [SECCOMP_VFIO_EVENTS] = "vfio events",
};

/* System calls by thread.  ioctl is here too; its requests are below. */
static const struct {
	long nr;
	unsigned threads;
} syscalls[] = {
    /* Every thread: output (trace, warnings, the seccomp message itself),
     * locks, signal return, and the two ways a thread ends (musl unmaps a
     * detached thread's stack on its way out). */
    {SYS_write, ALL},
    {SYS_writev, ALL}, /* musl's stdio writes with writev (the trace line of seccomp_confine too) */
    {SYS_futex, ALL},
    {SYS_rt_sigreturn, ALL},
    {SYS_rt_sigprocmask, ALL}, /* musl blocks signals around thread exit */
    {SYS_exit, ALL},
    {SYS_exit_group, ALL},
    {SYS_munmap, ALL},
    {SYS_madvise, ALL},		    /* musl's malloc gives pages back */
    {SYS_read, ALL},		    /* eventfds, the tap, stdin */
    {SYS_ioctl, ALL},		    /* requests filtered below */
    {SYS_clock_gettime, V}, /* ACPI PM timer, RTC (musl's time() too), when not vDSO */
    /* The vCPU thread: guest exits, BAR and config traps, teardown. */
    {SYS_pread64, V}, /* vfio config space and trapped BARs */
    {SYS_pwrite64, V},
    {SYS_mmap, V}, /* malloc; never PROT_EXEC: argument rules below */
    {SYS_brk, V},
    {SYS_close, V | I}, /* teardown; the I/O thread drops a dead tap */
    /* No open or openat: what the end of the run writes or reads (the
     * --report file, --stats' /proc/self/status) is opened before the
     * vCPU thread confines itself (main.c). */
    {SYS_mincore, V}, /* --stats: how much guest RAM is resident, at the end */
    {SYS_lseek, V},   /* exit(): stdio gives a FILE read from its position back */
    {SYS_epoll_ctl, V | I}, /* tap readiness (I/O), device reset (vCPU) */
    {SYS_poll, V | E}, /* MSI-X Pending bit: is a masked vector's eventfd set? */
    /* The vCPU thread starts virtio-net's I/O thread and the serial
     * reader at the guest's first use of them (lazy start, issue 12):
     * their epoll set, the thread's stack and guard page, and clone,
     * which the program lets through only with the flags of a thread. */
    {SYS_epoll_create1, V},
    {SYS_mprotect, V}, /* the guard page; never PROT_EXEC */
    {SYS_clone, V},    /* only THREAD_CLONE_FLAGS: argument rules below */
    {SYS_prctl, V},   /* only PR_SET_NO_NEW_PRIVS, as the new thread confines itself */
    {SYS_seccomp, V}, /* ... adding its own filter, which can only narrow */
    /* The virtio-net I/O thread. */
    {SYS_epoll_wait, I}, /* musl's epoll_wait: epoll_pwait, epoll_wait on ENOSYS */
    {SYS_epoll_pwait, I},
    /* The VFIO REQ/ERR watcher: waits (poll), then kicks the vCPU thread;
     * a vCPU that stops the VM kicks the others (musl's pthread_kill). */
    {SYS_tkill, V | E},
};

/* ioctl requests by thread.  i386-style sign extension of the request by
 * libc makes only the low 32 bits meaningful (the kernel takes an
 * unsigned int), so only those are compared. */
#define IOCTL(r, t)                                                                                \
	{                                                                                          \
		(uint32_t)(r), #r, t                                                               \
	}
static const struct {
	uint32_t req;
	const char *name;
	unsigned threads;
} ioctls[] = {
    IOCTL(KVM_RUN, V),
    IOCTL(KVM_GET_REGS, V),		  /* crash dump, RIP in messages */
    IOCTL(KVM_GET_SREGS, V),		  /* crash dump */
    IOCTL(KVM_SET_SREGS, V),		  /* real mode at the S3 waking vector (pm.c) */
    IOCTL(KVM_SET_USER_MEMORY_REGION, V), /* BAR moves, teardown */
    IOCTL(KVM_SET_GSI_ROUTING, V),	  /* MSI/MSI-X messages */
    IOCTL(KVM_IRQFD, V),
    IOCTL(KVM_IOEVENTFD, V),
    IOCTL(KVM_IRQ_LINE, V | S), /* INTx of the core, COM1's IRQ 4 */
    IOCTL(KVM_SIGNAL_MSI, V),
    IOCTL(VFIO_DEVICE_SET_IRQS, V), /* mode changes, teardown */
    IOCTL(VFIO_DEVICE_RESET, V),
    IOCTL(VFIO_IOMMU_UNMAP_DMA, V), /* teardown (container backend) */
    IOCTL(VFIO_GROUP_UNSET_CONTAINER, V),
    IOCTL(UFD_VFIO_DEVICE_DETACH_IOMMUFD_PT, V), /* teardown (iommufd backend) */
    IOCTL(UFD_IOMMU_IOAS_UNMAP, V),
    IOCTL(UFD_IOMMU_DESTROY, V),
    IOCTL(TUNSETOFFLOAD, V), /* the guest's offload features */
    IOCTL(TIOCGWINSZ, V | I | E), /* musl's stdout: line-buffered on a tty? */
    /* The guest's first PIT access creates the PIT (kvm.c), and the port
     * access that found it missing is replayed (vcpu.c). */
    IOCTL(KVM_CREATE_PIT2, V),
    IOCTL(KVM_TRANSLATE, V),
    IOCTL(KVM_SET_REGS, V),
};

/* The exact clone flags of a new thread: musl's pthread_create
 * (src/thread/pthread_create.c, musl 1.2.x; 0x7d0f00).  Anything else is
 * refused: a process (no CLONE_THREAD), or a thread in new namespaces
 * (CLONE_NEWNET and the rest) or with other sharing.  test_seccomp starts
 * a real thread under the vCPU program, so a libc passing other flags
 * fails there, not in a run. */
#define THREAD_CLONE_FLAGS                                                                         \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |        \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED)

/* Calls allowed only with one argument of a given form (the call's rows
 * above say which threads).  The argument is a 64-bit value:
 *   ARG_LOW_EQ  its low 32 bits equal k
 *   ARG_EQ      it equals k (both halves)
 *   ARG_CLEAR   none of the bits of k is set (in the low 32 bits, where
 *               the kernel reads an int's flags) */
enum argform { ARG_LOW_EQ, ARG_EQ, ARG_CLEAR };
static const struct {
	long nr;
	unsigned arg;
	enum argform form;
	uint32_t k;
} argrules[] = {
    {SYS_clone, 0, ARG_EQ, THREAD_CLONE_FLAGS},	/* a thread like every other */
    {SYS_prctl, 0, ARG_LOW_EQ, PR_SET_NO_NEW_PRIVS}, /* nothing else of prctl */
    {SYS_mmap, 2, ARG_CLEAR, PROT_EXEC},		/* no memory made executable */
    {SYS_mprotect, 2, ARG_CLEAR, PROT_EXEC},
};
#define NARGRULES (sizeof(argrules) / sizeof(argrules[0]))

#define NSYSCALLS (sizeof(syscalls) / sizeof(syscalls[0]))
#define NIOCTLS	  (sizeof(ioctls) / sizeof(ioctls[0]))

static const char *const syscall_names[] = {
#include "syscall_names.h"
};

const char *seccomp_syscall_name(long nr)
{
	if (nr >= 0 && (size_t)nr < sizeof(syscall_names) / sizeof(syscall_names[0]))
		return syscall_names[nr];
	return NULL;
}

const char *seccomp_thread_name(enum seccomp_thread t)
{
	return t < SECCOMP_NTHREADS ? thread_names[t] : "?";
}

/* The rows a thread's program allows.  A thread inherits the filter of the
 * thread that creates it and then adds its own, and the kernel applies
 * both: the I/O and serial threads are created by the vCPU thread after it
 * confined itself (at the guest's first use), so the vCPU thread's program
 * must also allow what they call; their own programs then narrow them to
 * their rows.  The VFIO events thread starts during setup, before any
 * filter, and needs no such room. */
static unsigned thread_rows(enum seccomp_thread t)
{
	if (t == SECCOMP_VCPU)
		return V | I | S;
	return 1u << t;
}

unsigned seccomp_nsyscalls(enum seccomp_thread t)
{
	unsigned n = 0;

	for (size_t i = 0; i < NSYSCALLS; i++)
		n += !!(syscalls[i].threads & thread_rows(t));
	return n;
}

unsigned seccomp_nioctls(enum seccomp_thread t)
{
	unsigned n = 0;

	for (size_t i = 0; i < NIOCTLS; i++)
		n += !!(ioctls[i].threads & thread_rows(t));
	return n;
}

static bool has_argrule(long nr)
{
	for (size_t r = 0; r < NARGRULES; r++)
		if (argrules[r].nr == nr)
			return true;
	return false;
}

static bool allowed_row(long nr, unsigned bits)
{
	for (size_t i = 0; i < NSYSCALLS; i++)
		if (syscalls[i].nr == nr && (syscalls[i].threads & bits))
			return true;
	return false;
}

/*
 * The program:
 *   arch != x86_64          -> kill the process
 *   x32 number (bit 30 set) -> kill the process
 *   nr == ioctl: request in the thread's list -> allow, else trap
 *   nr with an argument rule: the argument has its form -> allow, else trap
 *     (clone only with THREAD_CLONE_FLAGS, prctl only PR_SET_NO_NEW_PRIVS,
 *     mmap and mprotect never PROT_EXEC)
 *   nr in the thread's list -> allow
 *   anything else           -> trap
 * Every test is "jeq K, 0, 1; ret ALLOW", so no jump is ever longer than
 * the ioctl block (8-bit offsets in classic BPF).
 */
int seccomp_build(enum seccomp_thread t, struct sock_filter *prog, size_t max)
{
	unsigned bit = thread_rows(t), nio = seccomp_nioctls(t);
	size_t n = 0;

#define EMIT(insn)                                                                                 \
	do {                                                                                       \
		if (n >= max)                                                                      \
			return -E2BIG;                                                             \
		prog[n++] = (struct sock_filter)insn;                                              \
	} while (0)
#define LD(field) EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field)))

	if (t >= SECCOMP_NTHREADS || 2 * nio + 2 > 255)
		return -E2BIG;
	LD(arch);
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	LD(nr);
	EMIT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 1));
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	/* ioctl: skip the block (request loads, tests, final trap) otherwise. */
	EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, (uint8_t)(2 * nio + 2)));
	LD(args[1]); /* the low half (little-endian) */
	for (size_t i = 0; i < NIOCTLS; i++) {
		if (!(ioctls[i].threads & bit))
			continue;
		EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ioctls[i].req, 0, 1));
		EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	}
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
	for (size_t r = 0; r < NARGRULES; r++) {
		unsigned lo = offsetof(struct seccomp_data, args[0]) + 8 * argrules[r].arg;

		if (!allowed_row(argrules[r].nr, bit))
			continue;
		/* Another call: past the block, with the number still in A.
		 * This call: allow when the argument has the form, else trap. */
		EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)argrules[r].nr, 0,
			      argrules[r].form == ARG_EQ ? 6 : 4));
		EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo));
		switch (argrules[r].form) {
		case ARG_LOW_EQ:
			EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, argrules[r].k, 0, 1));
			break;
		case ARG_CLEAR:
			EMIT(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, argrules[r].k, 1, 0));
			break;
		case ARG_EQ:
			EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, argrules[r].k, 0, 3));
			EMIT(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, lo + 4));
			EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));
			break;
		}
		EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
		EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
	}
	for (size_t i = 0; i < NSYSCALLS; i++) {
		if (!(syscalls[i].threads & bit) || syscalls[i].nr == SYS_ioctl ||
		    has_argrule(syscalls[i].nr))
			continue;
		EMIT(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)syscalls[i].nr, 0, 1));
		EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
	}
	EMIT(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
#undef LD
#undef EMIT
	return (int)n;
}

/* ---- the message: no stdio, no locks, one write(2) ---------------------- */

static size_t put_str(char *buf, size_t len, size_t at, const char *s)
{
	while (*s && at + 1 < len)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t len, size_t at, unsigned long v, unsigned base)
{
	char tmp[24];
	int i = 0;

	do {
		tmp[i++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (base == 16)
		at = put_str(buf, len, at, "0x");
	while (i > 0 && at + 1 < len)
		buf[at++] = tmp[--i];
	return at;
}

size_t seccomp_message(char *buf, size_t len, const char *thread, long nr, unsigned long arg1)
{
	const char *name = seccomp_syscall_name(nr);
	size_t at = 0;

	if (!len)
		return 0;
	at = put_str(buf, len, at, "kvmini: seccomp: the ");
	at = put_str(buf, len, at, thread);
	at = put_str(buf, len, at, " thread made a forbidden system call ");
	at = put_num(buf, len, at, (unsigned long)nr, 10);
	at = put_str(buf, len, at, " (");
	at = put_str(buf, len, at, name ? name : "unknown");
	if (nr == SYS_ioctl) {
		at = put_str(buf, len, at, " request ");
		at = put_num(buf, len, at, arg1 & 0xffffffffu, 16);
	}
	at = put_str(buf, len, at, "); stopping (run with --no-seccomp to debug)\n");
	buf[at] = '\0';
	return at;
}

static __thread const char *my_thread = "?";

static void on_sigsys(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;
	char msg[256];
	size_t n;

	(void)sig;
	n = seccomp_message(msg, sizeof(msg), my_thread, si->si_syscall,
			    (unsigned long)uc->uc_mcontext.gregs[REG_RSI]);
	if (write(STDERR_FILENO, msg, n) < 0)
		(void)0;
	_exit(EXIT_SECCOMP);
}

void seccomp_check(void)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};

	if (!seccomp_enabled)
		return;
	/* PR_GET_SECCOMP answers EINVAL when the kernel has no seccomp. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0)
		die(EXIT_HOST, "this kernel offers no seccomp (%s); run with --no-seccomp",
		    strerror(errno));
	/* The SIGSYS handler is the process's, installed once here, before
	 * any thread: a thread started lazily by the confined vCPU thread
	 * may not call sigaction. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL))
		die_errno(EXIT_HOST, "seccomp: sigaction for SIGSYS");
}

void seccomp_confine(enum seccomp_thread t)
{
	struct sock_filter prog[SECCOMP_PROG_MAX];
	struct sock_fprog fp;
	int n;

	if (!seccomp_enabled)
		return;
	my_thread = seccomp_thread_name(t);
	n = seccomp_build(t, prog, SECCOMP_PROG_MAX);
	if (n < 0)
		goto fail;
	/* Threads started with every signal blocked (the lazy ones) must
	 * still take SIGSYS, or a forbidden call would kill kvmini without
	 * the line that names it. */
	sigset_t sys;
	sigemptyset(&sys);
	sigaddset(&sys, SIGSYS);
	pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		goto fail;
	fp.len = (unsigned short)n;
	fp.filter = prog;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fp))
		goto fail;
	trace(TRACE_BOOT, "seccomp: %s thread confined: %u system calls, %u ioctl requests",
	      my_thread, seccomp_nsyscalls(t), seccomp_nioctls(t));
	return;
fail:
	/* Other threads may run already: end here rather than go on
	 * unconfined, and let the kernel release what is open. */
	fprintf(stderr,
		"kvmini: seccomp: cannot confine the %s thread: %s; run with --no-seccomp\n",
		my_thread, n < 0 ? "filter too long" : strerror(errno));
	_exit(EXIT_HOST);
}
