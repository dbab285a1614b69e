// SPDX-License-Identifier: MIT
// needs: vmm/dispatch.c vmm/bus.c test/fuzz/stubs.c
/*
 * tsan_vcpu_stop.c - how the VM stops with several vCPUs (vmm/vcpu.c, the
 * real code, #included with its ioctl replaced), under ThreadSanitizer.
 *
 * The stand-in for KVM_RUN behaves as KVM's does for what the stop logic
 * relies on: it returns EINTR at once when immediate_exit is set, and an
 * idle vCPU (an AP waiting for a SIPI, or a halted CPU) sleeps in it until
 * a signal arrives, then returns EINTR.  A scripted vCPU returns an exit
 * instead (a triple fault, or a port write that tells the VM it is done).
 * Each case runs in a child process (the stop state is kvmini's, one per
 * run) and must end, with the right status and one line, within a few
 * seconds: a vCPU left in KVM_RUN would hang it.
 *
 *   - a triple fault on vCPU 0 with 3 idle APs: status 8, one line;
 *   - a triple fault on AP 2 while vCPU 0 and the rest are idle: status 8,
 *     the line names vCPU 2, printed once;
 *   - the guest says it is done, on AP 5 of 8: its status;
 *   - another thread asks the VM to stop (the VFIO REQ path) with 32
 *     idle vCPUs: status 11 and its line;
 *   - SIGTERM to kvmini (taken by vCPU 0's thread) with 4 idle vCPUs: 143;
 *   - a triple fault on vCPU 0 while its stderr is a full pipe (a slow
 *     terminal): the line still comes out whole.
 */
#include <sys/ioctl.h>

static int fake_ioctl(int fd, unsigned long req, ...);
#define ioctl(fd, req, ...) fake_ioctl(fd, req, ##__VA_ARGS__)
#include "../../vmm/vcpu.c"
#undef ioctl

#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../fuzz/stubs.h"
#include "../unit/tap.h"

const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "halt_on_error=1:exitcode=66";
}

#define FD_BASE	 100
#define DONE_PORT 0x99

/* What each vCPU's KVM_RUN does: sleep until kicked, or return an exit
 * after some number of runs. */
enum script { IDLE, CRASH_AT_ONCE, DONE_AT_ONCE };
static enum script script[VM_MAX_VCPUS];
static struct kvm_run runs[VM_MAX_VCPUS];

static void done_port(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	(void)opaque, (void)off, (void)data, (void)len, (void)is_write;
	fuzz_vm.done = true;
	fuzz_vm.exit_status = 0;
}

static int fake_run(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	sigset_t kick, old, wait;

	/* As KVM: immediate_exit is looked at on entry, with the kick held
	 * off, and the wait lets it in atomically (no lost wake-up). */
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	sigaddset(&kick, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &kick, &old);
	if (__atomic_load_n(&run->immediate_exit, __ATOMIC_SEQ_CST)) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		errno = EINTR;
		return -1;
	}
	switch (script[c->id]) {
	case CRASH_AT_ONCE:
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		script[c->id] = IDLE;
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case DONE_AT_ONCE:
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		script[c->id] = IDLE;
		run->exit_reason = KVM_EXIT_IO;
		run->io.direction = KVM_EXIT_IO_OUT;
		run->io.size = 1;
		run->io.port = DONE_PORT;
		run->io.count = 1;
		run->io.data_offset = sizeof(struct kvm_run);
		return 0;
	case IDLE:
		break;
	}
	wait = old;
	sigdelset(&wait, VCPU_KICK_SIGNAL);
	if (c->id == 0)
		sigdelset(&wait, SIGTERM);
	sigsuspend(&wait);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = EINTR;
	return -1;
}

static int fake_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < FD_BASE || fd >= FD_BASE + VM_MAX_VCPUS) {
		errno = EBADF;
		return -1;
	}
	switch (req) {
	case KVM_RUN: return fake_run(&fuzz_vm.vcpus[fd - FD_BASE]);
	case KVM_GET_REGS: memset(arg, 0, sizeof(struct kvm_regs)); return 0;
	case KVM_GET_SREGS: memset(arg, 0, sizeof(struct kvm_sregs)); return 0;
	default: errno = ENOTTY; return -1;
	}
}

static void on_term(int sig)
{
	vcpu_request_stop(&fuzz_vm, sig);
}

static void *vfio_req(void *arg)
{
	(void)arg;
	usleep(50000);
	vcpu_request_exit(&fuzz_vm, EXIT_VFIO_REQ, "the host asked for the device back");
	return NULL;
}

static void *send_term(void *arg)
{
	usleep(50000);
	pthread_kill(*(pthread_t *)arg, SIGTERM);
	return NULL;
}

/* A machine of n vCPUs over fake RAM, as vm_create() leaves it. */
static void machine(unsigned n)
{
	fuzz_ram_reset(0x10000);
	pthread_mutex_init(&fuzz_vm.lock, NULL);
	bus_init(&fuzz_vm.pio, "pio");
	bus_init(&fuzz_vm.mmio, "mmio");
	if (bus_register(&fuzz_vm.pio, DONE_PORT, 1, done_port, NULL, "done"))
		abort();
	fuzz_vm.ncpus = n;
	fuzz_vm.run_size = sizeof(struct kvm_run) + 4096;
	for (unsigned i = 0; i < VM_MAX_VCPUS; i++) {
		fuzz_vm.vcpus[i] = (struct vcpu){.vm = &fuzz_vm, .id = i, .fd = FD_BASE + (int)i};
		fuzz_vm.vcpus[i].run = i < n ? calloc(1, fuzz_vm.run_size) : NULL;
		script[i] = IDLE;
	}
	(void)runs;
}

/* The child: one run, its status as the exit code. */
static int child(int which)
{
	pthread_t t, self = pthread_self();
	struct sigaction sa = {.sa_handler = on_term};
	sigset_t term;

	switch (which) {
	case 0: machine(4); script[0] = CRASH_AT_ONCE; break;
	case 1: machine(4); script[2] = CRASH_AT_ONCE; break;
	case 2: machine(8); script[5] = DONE_AT_ONCE; break;
	case 3:
		machine(32);
		pthread_create(&t, NULL, vfio_req, NULL);
		break;
	case 4:
		machine(4);
		sigaction(SIGTERM, &sa, NULL);
		pthread_create(&t, NULL, send_term, &self);
		break;
	case 5: {
		/* stderr a full pipe, as a slow terminal is: vCPU 0's crash
		 * line blocks in write() while the APs leave their loops. */
		char junk[4096];

		memset(junk, '.', sizeof(junk));
		fcntl(2, F_SETFL, O_NONBLOCK);
		while (write(2, junk, sizeof(junk)) > 0)
			;
		fcntl(2, F_SETFL, 0);
		machine(4);
		script[0] = CRASH_AT_ONCE;
		break;
	}
	}
	/* As main() has it: SIGTERM blocked while the APs' threads start. */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, NULL);
	vcpu_threads_start(&fuzz_vm);
	sigprocmask(SIG_UNBLOCK, &term, NULL);
	int st = vcpu_run_all(&fuzz_vm);
	for (unsigned i = 1; i < fuzz_vm.ncpus; i++)
		if (fuzz_vm.vcpus[i].thread_up || fuzz_vm.vcpus[i].in_loop)
			return 99; /* an AP not joined */
	if (which == 3 || which == 4)
		pthread_join(t, NULL);
	return st;
}

/* Run case which in a child, its stderr into err (without the dots case 5
 * fills the pipe with), read after delay_us; a hang is killed. */
static int run_case(int which, char *err, size_t len, unsigned delay_us)
{
	int fd[2], st;
	pid_t pid;
	ssize_t n, got = 0;
	char buf[4096];

	if (pipe(fd))
		abort();
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], 2);
		close(fd[0]);
		alarm(20);
		_exit(child(which));
	}
	close(fd[1]);
	usleep(delay_us);
	while ((n = read(fd[0], buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != '.' && (size_t)got < len - 1)
				err[got++] = buf[i];
	err[got] = 0;
	close(fd[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static unsigned count(const char *s, const char *what)
{
	unsigned n = 0;

	for (const char *p = s; (p = strstr(p, what)); p++)
		n++;
	return n;
}

int main(void)
{
	char err[8192];
	int st;

	setvbuf(stdout, NULL, _IONBF, 0);
	st = run_case(0, err, sizeof(err), 0);
	tap_eq(st, EXIT_GUEST_CRASH, "4 vCPUs, a triple fault on vCPU 0: exit 8, every AP joined");
	tap_ok(count(err, "guest stopped: triple fault") == 1 && strstr(err, "(vCPU 0)"),
	       "one line, naming vCPU 0");

	st = run_case(1, err, sizeof(err), 0);
	tap_eq(st, EXIT_GUEST_CRASH, "4 vCPUs, a triple fault on AP 2: exit 8, vCPU 0 kicked out");
	tap_ok(count(err, "guest stopped: triple fault") == 1 && strstr(err, "(vCPU 2)"),
	       "one line, naming vCPU 2");

	st = run_case(2, err, sizeof(err), 0);
	tap_eq(st, 0, "8 vCPUs, AP 5 says the guest is done: its status, every vCPU stopped");

	st = run_case(3, err, sizeof(err), 0);
	tap_eq(st, EXIT_VFIO_REQ, "32 idle vCPUs, another thread stops the VM: its status (11)");
	tap_eq(count(err, "kvmini: the host asked for the device back"), 1, "and its line, once");

	st = run_case(4, err, sizeof(err), 0);
	tap_eq(st, EXIT_SIGTERM, "4 idle vCPUs, SIGTERM: exit 143");
	tap_eq(count(err, "kvmini: stopped by SIGTERM"), 1, "one line");

	/* Found in the nested rig: the line went missing now and then, the
	 * register dump after it intact.  The APs, leaving their loops, kicked
	 * vCPU 0 again while its write to the (slow, emulated) console was
	 * blocked, and the write failed with EINTR. */
	st = run_case(5, err, sizeof(err), 300000);
	tap_eq(st, EXIT_GUEST_CRASH, "a triple fault on vCPU 0 with stderr blocked: exit 8");
	tap_ok(count(err, "guest stopped: triple fault") == 1 && strstr(err, "(vCPU 0)"),
	       "the line is there all the same (the APs leaving do not interrupt its write)");
	if (tap_failed)
		tap_diag("last stderr: %s", err);
	return tap_done();
}
