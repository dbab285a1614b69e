/* SPDX-License-Identifier: MIT */
/*
 * main.c - kvmini: parse the command line, build the machine, run it, and
 * release everything on every way out.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "acpi.h"
#include "bzimage.h"
#include "check.h"
#include "host.h"
#include "cli.h"
#include "loader.h"
#include "lzk.h"
#include "memmap.h"
#include "multiboot.h"
#include "phase.h"
#include "seccomp.h"
#include "trace.h"
#include "vcpu.h"
#include "vm.h"
#include "../devices/debug_exit.h"
#include "../devices/pci.h"
#include "../devices/pci_assign.h"
#include "../devices/pm.h"
#include "../devices/report.h"
#include "../devices/rtc.h"
#include "../devices/serial.h"
#include "../devices/vfio.h"
#include "../devices/virtio_net.h"

/* The embedded guest: build/guest.elf stripped, packed (vmm/lzk.h) and
 * turned into an object by objcopy; unpacked here, once. */
extern const uint8_t _binary_guest_lzk_start[], _binary_guest_lzk_end[];

static const uint8_t *embedded_guest(size_t *size)
{
	size_t in = _binary_guest_lzk_end - _binary_guest_lzk_start;
	size_t n = lzk_size(_binary_guest_lzk_start, in);
	uint8_t *p = n ? malloc(n) : NULL;

	if (!p || lzk_unpack(_binary_guest_lzk_start, in, p, n))
		die(EXIT_HOST, "internal: the embedded guest does not unpack");
	*size = n;
	return p;
}

static struct vm vm;
static bool stats_on_exit;

/* Runs on exit() from anywhere, die() included: release the devices (VFIO
 * reset, DMA unmapped, fds closed) so the next run finds them free.  The
 * phases come last, so that they include the teardown (--stats). */
static void teardown(void)
{
	serial_flush();
	vm_destroy(&vm);
	if (stats_on_exit)
		phase_print(stderr);
}

static void on_signal(int sig)
{
	vcpu_request_stop(&vm, sig);
}

/* SIGINT/SIGTERM are blocked while devices start their threads (which
 * inherit the mask, so only the vCPU thread ever takes them), then
 * unblocked for the run. */
static void signals_setup(sigset_t *set)
{
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: KVM_RUN returns */

	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigprocmask(SIG_BLOCK, set, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* /proc/self/status for --stats' peak RSS, opened before the vCPU thread
 * confines itself (its allowlist has no open) and read at the end. */
static int status_fd = -1;

/* The width of --stats' name column: the longest name of any row, so
 * that every count starts in the same column (device names such as "pit
 * port 0x61 (until first use)" are longer than the exit reasons). */
static int stats_width(struct vm *m)
{
	struct bus *buses[] = {&m->pio, &m->mmio};
	size_t w = strlen("(since moved/removed)");

	for (size_t i = 0; i < sizeof(m->exits) / sizeof(m->exits[0]); i++)
		if (m->exits[i] && strlen(vcpu_exit_name(i)) > w)
			w = strlen(vcpu_exit_name(i));
	for (size_t b = 0; b < 2; b++)
		for (size_t i = 0; i < buses[b]->n; i++)
			if (strlen(buses[b]->r[i].name) > w)
				w = strlen(buses[b]->r[i].name);
	for (int i = 0; i < STAT_MAX; i++)
		if (strlen(stat_names[i]) > w)
			w = strlen(stat_names[i]);
	return (int)w;
}

static void print_stats(struct vm *m)
{
	uint64_t total = 0;
	struct bus *buses[] = {&m->pio, &m->mmio};
	int w = stats_width(m);

	for (size_t i = 0; i < sizeof(m->exits) / sizeof(m->exits[0]); i++)
		total += m->exits[i];
	fprintf(stderr, "kvmini: stats\n  VM exits: %llu\n", (unsigned long long)total);
	for (size_t i = 0; i < sizeof(m->exits) / sizeof(m->exits[0]); i++)
		if (m->exits[i])
			fprintf(stderr, "    %-*s %llu\n", w, vcpu_exit_name(i),
				(unsigned long long)m->exits[i]);
	if (m->ncpus > 1) {
		fprintf(stderr, "  VM exits by vCPU:\n");
		for (unsigned c = 0; c < m->ncpus; c++) {
			uint64_t n = 0;
			char name[16];

			for (size_t i = 0; i < VM_EXIT_REASONS; i++)
				n += m->vcpus[c].exits[i];
			snprintf(name, sizeof(name), "vCPU %u", c);
			fprintf(stderr, "    %-*s %llu", w, name, (unsigned long long)n);
			for (size_t i = 0; i < VM_EXIT_REASONS; i++)
				if (m->vcpus[c].exits[i])
					fprintf(stderr, " %s %llu", vcpu_exit_name(i),
						(unsigned long long)m->vcpus[c].exits[i]);
			fputc('\n', stderr);
		}
	}
	for (size_t b = 0; b < 2; b++) {
		fprintf(stderr, "  %s exits by device:\n", buses[b]->name);
		for (size_t i = 0; i < buses[b]->n; i++)
			fprintf(stderr, "    %-*s %llu\n", w, buses[b]->r[i].name,
				(unsigned long long)buses[b]->r[i].hits);
		if (buses[b]->removed_hits)
			fprintf(stderr, "    %-*s %llu\n", w, "(since moved/removed)",
				(unsigned long long)buses[b]->removed_hits);
		fprintf(stderr, "    %-*s %llu\n", w, "(unclaimed)",
			(unsigned long long)buses[b]->unclaimed);
	}
	/* Peak RSS (VmHWM: this image's own, where getrusage's maxrss also
	 * counts the process before exec) includes the guest RAM the guest
	 * touched; mincore tells that part apart. */
	long long hwm = -1, guest = (long long)(vm_ram_resident(m) >> 10);
	char buf[4096], *at;
	ssize_t got = status_fd >= 0 ? pread(status_fd, buf, sizeof(buf) - 1, 0) : -1;

	if (got > 0) {
		buf[got] = '\0';
		at = strstr(buf, "\nVmHWM:");
		if (at)
			sscanf(at + 1, "VmHWM: %lld", &hwm);
	}
	fprintf(stderr, "  memory: peak RSS %lld KiB, guest RAM resident %lld KiB, kvmini's own %lld KiB\n",
		hwm, guest, hwm - guest);
	fprintf(stderr, "  counters:\n");
	for (int i = 0; i < STAT_MAX; i++)
		fprintf(stderr, "    %-*s %llu\n", w, stat_names[i], (unsigned long long)stats[i]);
	vfio_print_stats(stderr, w);
}

#ifdef KVMINI_TEST_FORBIDDEN_SYSCALL
/* Test builds only (build/test/kvmini-forbidden*, test/test.mk; never the
 * shipped binary): right after the vCPU thread confines itself, one call
 * its allowlist refuses, to see the filter stop kvmini (test_seccomp,
 * test/nested/scenarios/confinement.sh).  Each is harmless if it goes
 * through (--no-seccomp). */
static int test_thread(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 0);
	return 0;
}

static void test_forbidden_call(int which)
{
	static uint8_t page[4096] __attribute__((aligned(4096)));
	static uint8_t stack[16384] __attribute__((aligned(16)));

	switch (which) {
	case 1: syscall(SYS_uname, NULL); break; /* no thread may */
	case 2: /* what a device model must not do: create a file */
		open("/tmp/kvmini-forbidden-creat", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		break;
	case 3: mprotect(page, sizeof(page), PROT_READ | PROT_WRITE | PROT_EXEC); break;
	case 4:
		mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
		break;
	case 5: /* a thread (pthread_create's sharing) in a new network namespace */
		clone(test_thread, stack + sizeof(stack),
		      CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
			  CLONE_SYSVSEM | CLONE_NEWNET,
		      NULL);
		break;
	}
}
#endif

/* A setup step that took a second or more says so when it ends, so that
 * a start that sat silent shows where its time went: the VFIO DMA map
 * pins all guest RAM (about 0.5 s per 64 MiB in the nested rig), a big
 * --mem takes long to register, a big --initrd to read. */
#define STEP_NOTE_MS 1000.0
static struct {
	const char *what;
	double t0;
} step;

static void step_begin(const char *what)
{
	step.what = what;
	step.t0 = phase_now_ms();
}

static void step_end(void)
{
	double ms = phase_now_ms() - step.t0;

	if (ms >= STEP_NOTE_MS) {
		fflush(stdout);
		fprintf(stderr, "kvmini: %s took %.1f s\n", step.what, ms / 1e3);
	}
}

/* The --report file: docs/report.md describes it field by field, and
 * docs/report.schema.json is the contract a test holds real reports to. */
static void write_report(FILE *f, const char *path, struct vm *m, const struct host_facts *h,
			 int status, double setup_ms, double run_ms)
{
	unsigned failed, n = report_count(&failed);
	bool first = true;
	uint32_t gs;
	bool guest_done = report_guest_status(&gs);
	char reason[128];

	/* The guest's own number is in guest_status and in the reason, never
	 * in status (devices/report.h). */
	uint32_t dv;

	if (status == EXIT_GUEST_FAILED && guest_done) {
		snprintf(reason, sizeof(reason), "the guest reported a failure: its status %u (0x%x)",
			 gs, gs);
	} else if (debug_exit_value(&dv) && status == debug_exit_status(dv)) {
		/* --debug-exit: the guest chose the status; the table of
		 * kvmini's own codes does not apply (docs/test-kernels.md). */
		snprintf(reason, sizeof(reason),
			 "the guest wrote 0x%x to isa-debug-exit (--debug-exit): status (V << 1) | 1",
			 dv);
		guest_done = true;
		gs = dv;
	} else
		snprintf(reason, sizeof(reason), "%s", exit_status_text(status));
	fprintf(f, "{\"kvmini\":\"%s\",\"report\":%d,\"mode\":\"run\",\"status\":%d,\"reason\":",
		KVMINI_VERSION, REPORT_FORMAT, status);
	json_string(f, reason);
	if (guest_done)
		fprintf(f, ",\"guest_status\":%u", gs);
	else
		fprintf(f, ",\"guest_status\":null");
	fprintf(f, ",\"host\":");
	host_facts_json(f, h);
	fprintf(f, ",\"timings_ms\":{\"setup\":%.1f,\"run\":%.1f},\"devices\":", setup_ms, run_ms);
	pci_json_devices(f);
	fprintf(f, ",\"events\":[],\"checks_total\":%u,\"checks_failed\":%u,\"checks\":", n,
		failed);
	report_json_checks(f);
	fprintf(f, ",\"exits\":{");
	for (size_t i = 0; i < sizeof(m->exits) / sizeof(m->exits[0]); i++) {
		if (!m->exits[i])
			continue;
		fprintf(f, "%s\"%s\":%llu", first ? "" : ",", vcpu_exit_name(i),
			(unsigned long long)m->exits[i]);
		first = false;
	}
	fprintf(f, "},\"counters\":{");
	for (int i = 0; i < STAT_MAX; i++)
		fprintf(f, "%s\"%s\":%llu", i ? "," : "", stat_names[i],
			(unsigned long long)stats[i]);
	fprintf(f, "}");
	vfio_report_json(f);
	fprintf(f, "}\n");
	report_file_close(f, path, status);
}

/* The --report of a run that stopped during setup (a die() before the
 * guest starts: die_hook): status and reason (the one line printed), the
 * host facts; no devices, checks, exits or counters, and no run time.  Only the main thread, still unconfined, writes
 * it: other threads that might die meanwhile are not allowed to. */
static struct {
	FILE *f;
	const char *path;
} setup_report;

static void report_setup_failure(int code, const char *msg)
{
	struct host_facts h;
	FILE *f = setup_report.f;

	if (!f || syscall(SYS_gettid) != getpid())
		return;
	host_facts_read(&h);
	fprintf(f, "{\"kvmini\":\"%s\",\"report\":%d,\"mode\":\"run\",\"status\":%d,\"reason\":",
		KVMINI_VERSION, REPORT_FORMAT, code);
	json_string(f, msg);
	fprintf(f, ",\"guest_status\":null,\"host\":");
	host_facts_json(f, &h);
	fprintf(f,
		",\"timings_ms\":{\"setup\":%.1f,\"run\":0},\"devices\":[],\"events\":[],"
		"\"checks_total\":0,\"checks_failed\":0,\"checks\":[],\"exits\":{},\"counters\":{}}\n",
		phase_now_ms() - phase_at(PH_START));
	report_file_close(f, setup_report.path, code);
}

/* Every --vfio: a PCI address, none given twice, and where each goes on
 * the guest's bus.  Bad input is the user's to fix before anything is
 * opened (exit 2). */
static void vfio_args(const struct config *c, struct vfio_place *place)
{
	struct vfio_bdf b[PCI_MAX_VFIO];
	unsigned dup = 0;

	for (unsigned i = 0; i < c->nvfio; i++) {
		char canon[13];

		vfio_bdf_or_die(c->vfios[i], canon);
		vfio_parse_bdf(canon, &b[i], NULL);
	}
	if (vfio_place(b, c->nvfio, place, &dup) == -EEXIST)
		die(EXIT_USAGE,
		    "--vfio %s given twice: a device can be assigned once; drop the second one",
		    c->vfios[dup]);
}

int main(int argc, char **argv)
{
	struct config cfg;
	const uint8_t *image, *initrd = NULL;
	size_t image_size, initrd_size = 0;
	struct pvh_image pvh;
	struct bzimage bz;
	struct multiboot_image mb;
	char err[256], mb_cmdline[MB_CMDLINE_MAX];
	struct vnet_spec net_spec;
	uint64_t rsdp;
	bool bzimage = false, linux_guest = false, multiboot = false;
	sigset_t sigs;
	struct host_facts host;
	int status;
	struct vfio_place place[PCI_MAX_VFIO];

	phase_mark(PH_START);
	cli_parse(argc, argv, &cfg);
	/* The report first: a path that cannot be created is the user's to
	 * fix before anything runs, and no confined thread opens files. */
	if (cfg.report)
		cfg.report_file = report_file_open(cfg.report);
	/* A run that ends at setup (usage, KVM, the kernel image, a device)
	 * still leaves a report that says so; check writes its own. */
	if (cfg.report && !cfg.check) {
		setup_report.f = cfg.report_file;
		setup_report.path = cfg.report;
		die_hook = report_setup_failure;
	}
	/* Then every --net spec's and --vfio address's syntax, for the run
	 * and `kvmini check` alike: a usage error is one before anything
	 * else is looked at.  A tap named twice would be opened twice (the
	 * second open is refused, or two devices share one wire), a device
	 * given twice assigned twice: refused here. */
	for (unsigned i = 0; i < cfg.nnet; i++) {
		if (vnet_spec_parse(cfg.nets[i], &net_spec, err, sizeof(err)))
			die(EXIT_USAGE, "%s", err);
		for (unsigned j = 0; j < i && net_spec.backend == VNET_BACKEND_TAP; j++) {
			struct vnet_spec o;

			if (!vnet_spec_parse(cfg.nets[j], &o, err, sizeof(err)) &&
			    o.backend == VNET_BACKEND_TAP && !strcmp(o.ifname, net_spec.ifname))
				die(EXIT_USAGE,
				    "--net tap=%s given twice: each --net needs a tap of its own "
				    "(e.g. --net tap=tap0 --net tap=tap1)",
				    net_spec.ifname);
		}
	}
	vfio_args(&cfg, place);
	if (cfg.check) {
		status = check_run(&cfg);
		if (status != CHECK_RUN_SETUP)
			return status;
		/* check's child: the run's setup below, up to the guest. */
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signals_setup(&sigs);
	/* Before any thread starts: each confines itself (vmm/seccomp.h). */
	seccomp_enabled = !cfg.no_seccomp;
	seccomp_check();
	phase_mark(PH_PARSE);

	/* The guest image first: a bad --kernel is the user's to fix and
	 * should not wait for (or disturb) KVM and devices. */
	if (cfg.kernel) {
		step_begin("reading --kernel");
		image = load_file(cfg.kernel, &image_size, "kernel");
		step_end();
		bzimage = bzimage_detect(image, image_size);
		/* Multiboot before PVH, as QEMU decides for -kernel. */
		multiboot = !bzimage && multiboot_detect(image, image_size);
		linux_guest = bzimage || elf_is_linux(image, image_size);
	} else {
		image = embedded_guest(&image_size);
	}
	if (cfg.initrd) {
		if (!linux_guest && !multiboot)
			die(EXIT_USAGE, "--initrd needs a Linux kernel (a bzImage, or a vmlinux with "
					"a PVH note) or a Multiboot kernel in --kernel");
		initrd_size = load_file_size(cfg.initrd, "initrd");
	}
	/* Linux wants more room and a console; the embedded guest keeps its
	 * 64 MiB and empty command line. */
	if (linux_guest && !cfg.mem_set)
		cfg.mem_size = BZ_MEM_DEFAULT;
	if (linux_guest && !cfg.cmdline_set)
		cfg.cmdline = LINUX_CMDLINE_DEFAULT;
	/* Check the image against the RAM it will get once, here, before
	 * opening KVM, so a bad --kernel is reported as such on any machine;
	 * the loaders take what the check found. */
	if (bzimage    ? bzimage_parse(image, image_size, cfg.mem_size, &bz, err, sizeof(err))
	    : multiboot ? multiboot_parse(image, image_size, cfg.mem_size, initrd_size, &mb, err,
					  sizeof(err))
			: pvh_parse(image, image_size, cfg.mem_size, &pvh, err, sizeof(err)))
		die(EXIT_KERNEL, "kernel image '%s': %s", cfg.kernel ? cfg.kernel : "(embedded)",
		    err);
	if (multiboot && multiboot_cmdline(mb_cmdline, sizeof(mb_cmdline), cfg.kernel, cfg.cmdline,
					   err, sizeof(err)))
		die(EXIT_USAGE, "%s", err);
	/* A Linux initrd is placed from its size alone (multiboot_parse took
	 * the module's size above), so one that cannot fit is refused before
	 * it is read: a big file takes seconds to read in a nested VM. */
	if (cfg.initrd && !multiboot) {
		uint64_t gpa;

		if (bzimage ? bzimage_initrd_gpa(&bz, cfg.mem_size, initrd_size, &gpa, err, sizeof(err))
			    : pvh_initrd_gpa(&pvh, cfg.mem_size, initrd_size, &gpa, err, sizeof(err)))
			die(EXIT_KERNEL, "--initrd: %s", err);
	}
	if (cfg.initrd) {
		size_t got;

		step_begin("reading --initrd");
		initrd = load_file(cfg.initrd, &got, "initrd");
		step_end();
		if (got != initrd_size)
			die(EXIT_KERNEL, "--initrd '%s' changed size while kvmini read it", cfg.initrd);
	}

	/* Init order: the VM (RAM, irqchip, vCPU) first, since every device
	 * needs it; then the legacy ports; then the PCI host bridge, which
	 * the PCI devices plug into; every virtio-net next (slot 1, then 3,
	 * 4, 5), then the assigned devices (slot 2, then 6 ...: memmap.h),
	 * whose one DMA map covers all of RAM.  Their sysfs entries and IOMMU
	 * groups are checked before any of them is attached.  What
	 * only a guest that uses a device needs waits for its first access
	 * (docs/benchmarks.md): the in-kernel PIT (vm_create traps its
	 * ports), the serial reader thread, virtio-net's I/O thread. */
	phase_mark(PH_IMAGE);
	step_begin("creating the VM and its RAM");
	vm_create(&vm, cfg.mem_size, cfg.cpus);
	step_end();
	stats_on_exit = cfg.stats;
	atexit(teardown);
	phase_mark(PH_VM);
	vfio_preflight(cfg.vfios, cfg.nvfio);
	serial_init(&vm);
	pm_init(&vm);
	rtc_init(&vm);
	report_init(&vm);
	if (cfg.debug_exit)
		debug_exit_init(&vm);
	pci_host_init(&vm);
	pci_host_claim_cf9(pm_rst_cnt_io, NULL); /* reset control inside 0xcf8-0xcff */
	for (unsigned i = 0; i < cfg.nnet; i++)
		vnet_init(&vm, cfg.nets[i], i, PCI_SLOT_NET_N(i));
	if (cfg.nvfio) {
		/* The DMA map pins every page of guest RAM (once for all). */
		step_begin("attaching --vfio (the DMA map pins all guest RAM)");
		for (unsigned i = 0; i < cfg.nvfio; i++)
			vfio_init(&vm, cfg.vfios[i], &place[i], cfg.vfio_trap_bars,
				  cfg.vfio_backend);
		step_end();
	}
	/* Last of the devices: every function is on the bus, so the
	 * firmware-like start can place them all (pci_assign.h). */
	if (!cfg.pci_poweron)
		pci_assign_all(&vm);

	phase_mark(PH_DEVICES);
	/* ACPI tables for every guest (the embedded one ignores them). */
	rsdp = acpi_setup(&vm);
	if (bzimage) {
		bzimage_load(&vm, image, &bz, cfg.cmdline, initrd, initrd_size, rsdp);
		vcpu_setup_linux64(&vm, bzimage_entry64(&bz));
	} else if (multiboot) {
		multiboot_load(&vm, image, &mb, mb_cmdline, cfg.initrd, initrd, initrd_size);
	} else {
		pvh_load(&vm, image, &pvh, cfg.cmdline);
		pvh_add_linux(&vm, &pvh, initrd, initrd_size, rsdp);
		vcpu_setup_pvh(&vm, pvh.entry, pvh.boot_base + PVH_START_INFO_OFF);
	}

	/* The report's host facts are read now, while kvmini may still look
	 * around (/proc, /sys, /dev/kvm): the allowlist below has no room
	 * for that, and they describe the host the run started on. */
	phase_mark(PH_LOAD);
	if (cfg.report)
		host_facts_read(&host);
	/* kvmini check's child (check.h): the run would start its vCPU
	 * threads and the guest now; the at-exit teardown releases what the
	 * setup took. */
	if (cfg.check)
		exit(0);
	/* From here other threads run, confined: a die() no longer writes
	 * the short report (that would need calls their lists lack). */
	die_hook = NULL;
	/* vCPUs 1..N-1 get their threads now, with the machine complete:
	 * each confines itself and waits for vcpu_run_all() (vcpu.h). */
	vcpu_threads_start(&vm);
	/* What the end of the run reads is opened now (the --report file
	 * was, before anything ran): the vCPU thread's allowlist has no
	 * open (docs/confinement.md). */
	if (cfg.stats)
		status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	/* Setup is over: from here the vCPU loop, the report and the
	 * teardown run under the vCPU thread's allowlist. */
	seccomp_confine(SECCOMP_VCPU);
#ifdef KVMINI_TEST_FORBIDDEN_SYSCALL
	test_forbidden_call(KVMINI_TEST_FORBIDDEN_SYSCALL);
#endif
	sigprocmask(SIG_UNBLOCK, &sigs, NULL);
	phase_mark(PH_CONFINE);
	status = vcpu_run_all(&vm);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	phase_mark(PH_RUN);

	serial_flush();
	if (cfg.stats)
		print_stats(&vm);
	if (cfg.report)
		write_report(cfg.report_file, cfg.report, &vm, &host, status,
			     phase_at(PH_CONFINE) - phase_at(PH_START),
			     phase_now_ms() - phase_at(PH_CONFINE));
	phase_mark(PH_REPORT);
	return status; /* teardown() runs from atexit */
}
