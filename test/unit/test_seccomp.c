// SPDX-License-Identifier: MIT
// needs: vmm/seccomp.c vmm/trace.c
/*
 * test_seccomp.c - the per-thread allowlists (vmm/seccomp.c).
 *
 * First the programs themselves, run by a small classic-BPF interpreter
 * against crafted struct seccomp_data: what each thread may and may not
 * call, ioctl requests by thread, a foreign architecture.  Then the real
 * thing in forked children: a confined child that makes a forbidden call
 * is stopped with exit status 12 and the one-line message naming it (among
 * them what a device model on the vCPU thread must not do: create a file,
 * make memory executable, start a thread in a new network namespace); an
 * allowed call goes through, and so does pthread_create under the vCPU
 * thread's program (its clone flags are the only ones allowed).  Last, where /dev/kvm is usable, the test
 * build of kvmini (build/test/kvmini-forbidden: one uname() right after the
 * vCPU thread confines itself) must stop the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>

/* musl's pthread_create (vmm/seccomp.c, THREAD_CLONE_FLAGS). */
#define THREAD_FLAGS                                                                               \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |        \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED)

#include "tap.h"
#include "../../vmm/seccomp.h"
#include "../../vmm/trace.h"

/* The subset of classic BPF the builder emits; anything else fails. */
static uint32_t run_bpf(const struct sock_filter *p, int n, const struct seccomp_data *d)
{
	uint32_t a = 0;

	for (int pc = 0; pc < n; pc++) {
		const struct sock_filter *f = &p[pc];

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (f->k + 4 > sizeof(*d))
				return 0xdead;
			memcpy(&a, (const uint8_t *)d + f->k, 4);
			break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += a == f->k ? f->jt : f->jf; break;
		case BPF_JMP | BPF_JSET | BPF_K: pc += (a & f->k) ? f->jt : f->jf; break;
		case BPF_RET | BPF_K: return f->k;
		default: return 0xbad;
		}
	}
	return 0xfa11; /* fell off the end */
}

static uint32_t verdict3(enum seccomp_thread t, long nr, uint64_t arg0, uint64_t arg1,
			 uint64_t arg2, uint32_t arch)
{
	struct sock_filter prog[SECCOMP_PROG_MAX];
	struct seccomp_data d = {.nr = (int)nr, .arch = arch};
	int n = seccomp_build(t, prog, SECCOMP_PROG_MAX);

	d.args[0] = arg0;
	d.args[1] = arg1;
	d.args[2] = arg2;
	return n < 0 ? 0xe2b : run_bpf(prog, n, &d) & SECCOMP_RET_ACTION_FULL;
}

static uint32_t verdict2(enum seccomp_thread t, long nr, uint64_t arg0, uint64_t arg1,
			 uint32_t arch)
{
	return verdict3(t, nr, arg0, arg1, 0, arch);
}

static uint32_t verdict(enum seccomp_thread t, long nr, uint64_t arg1, uint32_t arch)
{
	return verdict2(t, nr, 0, arg1, arch);
}

#define ALLOW  SECCOMP_RET_ALLOW
#define TRAP   SECCOMP_RET_TRAP
#define X86_64 AUDIT_ARCH_X86_64

/* Run fn in a child with stderr on a pipe: its status and what it wrote. */
static int child(void (*fn)(void), char *out, size_t len)
{
	int p[2], st = -1;
	ssize_t n, got = 0;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		fn();
		_exit(99);
	}
	close(p[1]);
	while ((n = read(p[0], out + got, len - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return st;
}

static void forbidden_uname(void)
{
	seccomp_confine(SECCOMP_IO);
	syscall(SYS_uname, NULL);
}

static void forbidden_ioctl(void)
{
	seccomp_confine(SECCOMP_SERIAL);
	ioctl(-1, KVM_RUN, 0); /* KVM_RUN is the vCPU thread's alone */
}

static void allowed_write(void)
{
	seccomp_confine(SECCOMP_VCPU);
	if (write(STDERR_FILENO, "still here\n", 11) == 11)
		_exit(0);
	_exit(1);
}

/* What a device model running on the vCPU thread must not be able to do,
 * each in a child confined under the vCPU thread's program (issue 19). */
static void forbidden_creat(void)
{
	seccomp_confine(SECCOMP_VCPU);
	open("/tmp/kvmini-test-seccomp-creat", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
}

static uint8_t page[4096] __attribute__((aligned(4096)));

static void forbidden_mprotect_exec(void)
{
	seccomp_confine(SECCOMP_VCPU);
	mprotect(page, sizeof(page), PROT_READ | PROT_WRITE | PROT_EXEC);
}

static void forbidden_mmap_exec(void)
{
	seccomp_confine(SECCOMP_VCPU);
	mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static int thread_fn(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 0);
	return 0;
}

static void forbidden_clone_newnet(void)
{
	static uint8_t stack[16384] __attribute__((aligned(16)));

	seccomp_confine(SECCOMP_VCPU);
	/* A thread like pthread_create's (without its TLS) in a new network
	 * namespace; without the filter it would start and exit at once. */
	clone(thread_fn, stack + sizeof(stack),
	      CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
		  CLONE_NEWNET,
	      NULL);
}

static void *noop(void *arg)
{
	return arg;
}

/* What the vCPU thread does when the guest first touches virtio-net or
 * COM1: start a thread (malloc, mmap, mprotect of the guard page, clone
 * with libc's own flags), which confines itself further. */
static void allowed_pthread_create(void)
{
	pthread_t th;

	seccomp_confine(SECCOMP_VCPU);
	if (pthread_create(&th, NULL, noop, NULL) || pthread_join(th, NULL))
		_exit(1);
	if (write(STDERR_FILENO, "thread ran\n", 11) == 11)
		_exit(0);
	_exit(1);
}

/* Run build/test/kvmini-forbidden (beside this binary) on the tiny guest. */
static void forbidden_kvmini(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;
	int null = open("/dev/null", O_RDWR);

	if (n <= 0 || null < 0)
		_exit(98);
	path[n] = '\0';
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "kvmini-forbidden");
	dup2(null, STDIN_FILENO);
	dup2(null, STDOUT_FILENO); /* the guest's console */
	execl(path, path, "--net", "none", (char *)NULL);
	_exit(97);
}

int main(void)
{
	char out[512], msg[256];
	int st;

	/* Every thread: the calls its loop lives on. */
	for (int t = 0; t < SECCOMP_NTHREADS; t++) {
		const char *name = seccomp_thread_name(t);
		struct sock_filter prog[SECCOMP_PROG_MAX];
		int n = seccomp_build(t, prog, SECCOMP_PROG_MAX);

		tap_ok(n > 0 && n < SECCOMP_PROG_MAX, "%s: program builds (%d instructions)", name,
		       n);
		tap_eq(verdict(t, SYS_write, 0, X86_64), ALLOW, "%s: write allowed", name);
		tap_eq(verdict(t, SYS_exit_group, 0, X86_64), ALLOW, "%s: exit_group allowed",
		       name);
		tap_eq(verdict(t, SYS_futex, 0, X86_64), ALLOW, "%s: futex allowed", name);
		tap_eq(verdict(t, SYS_execve, 0, X86_64), TRAP, "%s: execve traps", name);
		tap_eq(verdict(t, SYS_socket, 0, X86_64), TRAP, "%s: socket traps", name);
		tap_eq(verdict(t, SYS_openat, 0, X86_64), TRAP,
		       "%s: openat traps (the report and /proc are opened before)", name);
		tap_eq(verdict(t, SYS_open, 0, X86_64), TRAP, "%s: open traps", name);
		tap_eq(verdict3(t, SYS_mmap, 0, 4096, PROT_READ | PROT_EXEC, X86_64), TRAP,
		       "%s: mmap with PROT_EXEC traps", name);
		tap_eq(verdict3(t, SYS_mprotect, 0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
				X86_64),
		       TRAP, "%s: mprotect with PROT_EXEC traps", name);
		tap_eq(verdict2(t, SYS_clone, THREAD_FLAGS | CLONE_NEWNET, 0, X86_64), TRAP,
		       "%s: clone of a thread in a new network namespace traps", name);
		tap_eq(verdict(t, SYS_ioctl, KVM_CREATE_VM, X86_64), TRAP,
		       "%s: ioctl KVM_CREATE_VM traps", name);
		tap_eq(verdict(t, SYS_ioctl, VFIO_IOMMU_MAP_DMA, X86_64), TRAP,
		       "%s: ioctl VFIO_IOMMU_MAP_DMA traps (mapping is setup's)", name);
		tap_eq(verdict(t, SYS_write, 0, AUDIT_ARCH_I386), SECCOMP_RET_KILL_PROCESS,
		       "%s: an i386 call kills whatever its number", name);
		tap_eq(verdict(t, SYS_write | 0x40000000 /* x32 */, 0, X86_64),
		       SECCOMP_RET_KILL_PROCESS, "%s: an x32 call kills", name);
		tap_diag("%s thread: %u system calls, %u ioctl requests", name,
			 seccomp_nsyscalls(t), seccomp_nioctls(t));
	}
	/* ioctl requests by thread. */
	tap_eq(verdict(SECCOMP_VCPU, SYS_ioctl, KVM_RUN, X86_64), ALLOW, "vcpu: KVM_RUN");
	tap_eq(verdict(SECCOMP_IO, SYS_ioctl, KVM_RUN, X86_64), TRAP, "I/O: no KVM_RUN");
	tap_eq(verdict(SECCOMP_VFIO_EVENTS, SYS_ioctl, KVM_RUN, X86_64), TRAP,
	       "vfio events: no KVM_RUN");
	tap_eq(verdict(SECCOMP_SERIAL, SYS_ioctl, KVM_IRQ_LINE, X86_64), ALLOW,
	       "serial: KVM_IRQ_LINE (COM1's IRQ 4)");
	tap_eq(verdict(SECCOMP_IO, SYS_ioctl, KVM_IRQ_LINE, X86_64), TRAP,
	       "I/O: no KVM_IRQ_LINE (it raises interrupts through eventfds)");
	tap_eq(verdict(SECCOMP_IO, SYS_ioctl, KVM_IRQFD, X86_64), TRAP,
	       "I/O: no KVM_IRQFD (the irqfd wiring is the vCPU thread's)");
	tap_eq(verdict(SECCOMP_VCPU, SYS_ioctl, VFIO_DEVICE_RESET, X86_64), ALLOW,
	       "vcpu: VFIO_DEVICE_RESET (teardown)");
	tap_eq(verdict(SECCOMP_IO, SYS_ioctl, VFIO_DEVICE_RESET, X86_64), TRAP,
	       "I/O: no VFIO_DEVICE_RESET");
	/* musl passes the request as an int, sign-extended: _IOR requests
	 * (bit 31) arrive with the upper half all ones. */
	tap_eq(verdict(SECCOMP_VCPU, SYS_ioctl, 0xffffffff00000000ull | (uint32_t)KVM_GET_REGS,
		       X86_64),
	       ALLOW, "vcpu: KVM_GET_REGS sign-extended by libc still matches");
	tap_eq(verdict(SECCOMP_VCPU, SYS_ioctl, KVM_RUN + 1, X86_64), TRAP,
	       "vcpu: a neighbour of KVM_RUN traps");
	/* The vCPU thread starts the I/O and serial threads at the guest's
	 * first use of them: a thread, never a process. */
	tap_eq(verdict2(SECCOMP_VCPU, SYS_clone, SIGCHLD, 0, X86_64), TRAP,
	       "vcpu: no new process (clone without CLONE_THREAD) after setup");
	tap_eq(verdict2(SECCOMP_VCPU, SYS_clone, THREAD_FLAGS, 0, X86_64), ALLOW,
	       "vcpu: a new thread (musl's pthread_create flags) for a lazily started device");
	tap_eq(verdict2(SECCOMP_VCPU, SYS_clone, CLONE_VM | CLONE_THREAD | CLONE_SIGHAND, 0, X86_64),
	       TRAP, "vcpu: a thread with other flags than pthread_create's traps");
	tap_eq(verdict2(SECCOMP_VCPU, SYS_clone, THREAD_FLAGS | 1ull << 32, 0, X86_64), TRAP,
	       "vcpu: pthread_create's flags with a bit in the upper half trap");
	tap_eq(verdict2(SECCOMP_IO, SYS_clone, THREAD_FLAGS, 0, X86_64), TRAP,
	       "io: no new threads at all");
	tap_eq(verdict3(SECCOMP_VCPU, SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, X86_64), ALLOW,
	       "vcpu: mmap of read-write memory (malloc)");
	tap_eq(verdict3(SECCOMP_IO, SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, X86_64), TRAP,
	       "io: no mmap at all (its loop allocates nothing)");
	tap_eq(verdict3(SECCOMP_VCPU, SYS_mprotect, 0, 4096, PROT_NONE, X86_64), ALLOW,
	       "vcpu: mprotect PROT_NONE (a new thread's guard page)");
	tap_eq(verdict2(SECCOMP_VCPU, SYS_prctl, PR_SET_NO_NEW_PRIVS, 0, X86_64), ALLOW,
	       "vcpu: prctl PR_SET_NO_NEW_PRIVS (a new thread confining itself)");
	tap_eq(verdict2(SECCOMP_VCPU, SYS_prctl, PR_SET_DUMPABLE, 0, X86_64), TRAP,
	       "vcpu: any other prctl traps");
	tap_eq(verdict2(SECCOMP_VCPU, SYS_ioctl, 0, KVM_CREATE_PIT2, X86_64), ALLOW,
	       "vcpu: KVM_CREATE_PIT2, the one KVM_CREATE_* (the PIT at its first use)");
	tap_eq(verdict2(SECCOMP_VCPU, SYS_ioctl, 0, KVM_CREATE_IRQCHIP, X86_64), TRAP,
	       "vcpu: KVM_CREATE_IRQCHIP traps");
	tap_eq(verdict2(SECCOMP_VCPU, SYS_ioctl, 0, KVM_CREATE_VCPU, X86_64), TRAP,
	       "vcpu: KVM_CREATE_VCPU traps");
	tap_eq(verdict(SECCOMP_VCPU, SYS_epoll_wait, 0, X86_64), ALLOW,
	       "vcpu: the I/O thread's own calls, which it inherits the vCPU filter for");

	/* The message. */
	seccomp_message(msg, sizeof(msg), "vcpu", SYS_ioctl, 0xffffffffc008ae67ul);
	tap_ok(!strcmp(msg, "kvmini: seccomp: the vcpu thread made a forbidden system call 16 "
			    "(ioctl request 0xc008ae67); stopping (run with --no-seccomp to "
			    "debug)\n"),
	       "message names the call and the ioctl request: %s", msg);
	seccomp_message(msg, sizeof(msg), "vcpu", 100000, 0);
	tap_ok(strstr(msg, "100000 (unknown)") != NULL, "an unknown number is said so");
	seccomp_message(msg, 40, "vcpu", SYS_uname, 0);
	tap_eq(strlen(msg), 39, "a short buffer truncates, NUL-terminated");
	tap_ok(!strcmp(seccomp_syscall_name(SYS_pwrite64), "pwrite64"), "names from the headers");

	/* The kernel's side, in forked children. */
	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
		printf("ok %u - # SKIP this kernel has no seccomp (%s)\n", ++tap_n,
		       strerror(errno));
		return tap_done();
	}
	seccomp_check(); /* the SIGSYS handler, inherited by every child */
	st = child(forbidden_uname, out, sizeof(out));
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == EXIT_SECCOMP,
	       "a forbidden call stops the process with status %d (status 0x%x)", EXIT_SECCOMP, st);
	tap_ok(!strcmp(out, "kvmini: seccomp: the virtio-net I/O thread made a forbidden system "
			    "call 63 (uname); stopping (run with --no-seccomp to debug)\n"),
	       "...with one line naming it: %s", out);
	st = child(forbidden_ioctl, out, sizeof(out));
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == EXIT_SECCOMP && strstr(out, "(ioctl request "),
	       "an ioctl outside the thread's requests is stopped too: %s", out);
	static const struct {
		void (*fn)(void);
		const char *what, *line;
	} forbidden[] = {
	    {forbidden_creat, "open(O_CREAT) of a new file", "system call 2 (open)"},
	    {forbidden_mprotect_exec, "mprotect(PROT_EXEC)", "system call 10 (mprotect)"},
	    {forbidden_mmap_exec, "mmap(PROT_EXEC)", "system call 9 (mmap)"},
	    {forbidden_clone_newnet, "a thread in a new network namespace (clone CLONE_NEWNET)",
	     "system call 56 (clone)"},
	};
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		st = child(forbidden[i].fn, out, sizeof(out));
		tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == EXIT_SECCOMP &&
			   strstr(out, "the vcpu thread made a forbidden ") &&
			   strstr(out, forbidden[i].line),
		       "vcpu thread: %s is stopped (status 0x%x): %s", forbidden[i].what, st, out);
	}
	unlink("/tmp/kvmini-test-seccomp-creat");
	st = child(allowed_pthread_create, out, sizeof(out));
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && !strcmp(out, "thread ran\n"),
	       "vcpu thread: pthread_create's clone flags are the ones allowed (status 0x%x)", st);
	st = child(allowed_write, out, sizeof(out));
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && !strcmp(out, "still here\n"),
	       "an allowed call goes through (status 0x%x)", st);

	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("ok %u - # SKIP kvmini-forbidden needs /dev/kvm (%s)\n", ++tap_n,
		       strerror(errno));
		return tap_done();
	}
	st = child(forbidden_kvmini, out, sizeof(out));
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == EXIT_SECCOMP,
	       "kvmini's test build: the forbidden call stops it with status %d (status 0x%x)",
	       EXIT_SECCOMP, st);
	tap_ok(strstr(out, "kvmini: seccomp: the vcpu thread made a forbidden system call 63 "
			   "(uname); stopping (run with --no-seccomp to debug)\n") != NULL,
	       "...with the line naming it");
	if (!strstr(out, "forbidden system call 63"))
		tap_diag("its stderr: %s", out);
	return tap_done();
}
