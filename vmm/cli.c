/* SPDX-License-Identifier: MIT */
/* cli.c - option parsing.  Every error names the option and the fix. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memmap.h"
#include "trace.h"

static const char usage[] =
	"Usage: kvmini [options]\n"
	"       kvmini check [options]\n"
	"Boot a tiny guest (or a Linux, PVH or Multiboot kernel) on KVM with a\n"
	"virtio-net device and, optionally, a host PCI device assigned through VFIO.\n"
	"\"kvmini check\" starts no guest: it tells what this host offers kvmini,\n"
	"one line per item (ok, missing, not permitted, info) with a fix for each\n"
	"one missing, then builds what a run with the same options would (kernel\n"
	"image, VM, devices) up to the guest's start, and releases it.\n"
	"\n"
	"  --kernel FILE      boot FILE instead of the embedded guest: a Linux\n"
	"                     bzImage, a PVH ELF32/ELF64 (vmlinux, build/guest.elf)\n"
	"                     or a Multiboot v1 kernel\n"
	"  --initrd FILE      initramfs for a Linux --kernel, or a Multiboot module\n"
	"  --cmdline STRING   guest command line (default: empty; for Linux\n"
	"                     \"console=ttyS0 earlyprintk=ttyS0 panic=-1 pci=noearly\")\n"
	"  --mem SIZE         guest RAM, e.g. 64M (default; 256M for Linux), 2G;\n"
	"                     3M to 3G\n"
	"  --cpus N           vCPUs, 1 (default) to 32: APIC IDs 0 to N-1, vCPU 0\n"
	"                     boots, the others wait for the guest's INIT-SIPI-SIPI\n"
	"  --net SPEC         virtio-net backend: loopback (default), none,\n"
	"                     tap=NAME[,mac=02:xx:xx:xx:xx:xx][,queue=N];\n"
	"                     repeat for more devices (up to 4)\n"
	"  --vfio BDF         assign host PCI device DDDD:BB:DD.F (bound to vfio-pci);\n"
	"                     lspci's BB:DD.F means domain 0000; repeat for more\n"
	"                     devices (up to 8)\n"
	"  --vfio-trap-bars   trap every BAR access of the assigned device (slow path)\n"
	"  --vfio-backend B   how VFIO reaches the IOMMU: auto (default: iommufd when\n"
	"                     /dev/iommu and the device's cdev exist), container,\n"
	"                     iommufd\n"
	"  --pci-poweron      leave PCI functions as at power-on (BARs unassigned,\n"
	"                     decoding off) instead of assigning them as firmware does\n"
	"  --trace LIST       explain what happens, on stderr, one line per step:\n"
	"                     a comma list of io, pci, virtio, vfio, exit, boot or all\n"
	"  --stats            print VM exits by reason, by device and by vCPU at exit\n"
	"  --report FILE      write a JSON report (status and its reason, host,\n"
	"                     devices, timings, checks, exits) to FILE; - for\n"
	"                     stdout (everything else then goes to stderr)\n"
	"  --no-seccomp       do not confine kvmini's threads (for debugging)\n"
	"  --debug-exit       QEMU's isa-debug-exit at port 0xf4: a guest write of V\n"
	"                     ends kvmini with status (V << 1) | 1\n"
	"  -h, --help         print this text and exit\n"
	"  -V, --version      print the version and exit\n"
	"\n"
	"Exit status: 0 the guest reported success, 1 the guest reported a failure\n"
	"(any nonzero status: its number is on the done line and in the report);\n"
	"2 usage, 3 no /dev/kvm, 4 KVM too old, 5 bad kernel image, 6 VFIO,\n"
	"7 network backend, 8 guest crashed, 9 host resources, 10 guest reboot,\n"
	"11 the host took the VFIO device back, 12 forbidden system call (seccomp),\n"
	"13 the --report file could not be written, 14 the guest asked for what\n"
	"kvmini does not offer (S3 with no wake source), 130 SIGINT, 143 SIGTERM.\n"
	"kvmini check: 0 ready, else the code the run with the same options\n"
	"would end with, before its guest starts.\n";

enum { OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_NET, OPT_VFIO,
       OPT_VFIO_TRAP, OPT_TRACE, OPT_STATS, OPT_REPORT, OPT_VFIO_BACKEND,
       OPT_PCI_POWERON, OPT_NO_SECCOMP, OPT_CPUS, OPT_DEBUG_EXIT };

static const struct option options[] = {
	{"kernel", required_argument, NULL, OPT_KERNEL},
	{"initrd", required_argument, NULL, OPT_INITRD},
	{"cmdline", required_argument, NULL, OPT_CMDLINE},
	{"mem", required_argument, NULL, OPT_MEM},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"net", required_argument, NULL, OPT_NET},
	{"vfio", required_argument, NULL, OPT_VFIO},
	{"vfio-trap-bars", no_argument, NULL, OPT_VFIO_TRAP},
	{"vfio-backend", required_argument, NULL, OPT_VFIO_BACKEND},
	{"pci-poweron", no_argument, NULL, OPT_PCI_POWERON},
	{"trace", required_argument, NULL, OPT_TRACE},
	{"stats", no_argument, NULL, OPT_STATS},
	{"report", required_argument, NULL, OPT_REPORT},
	{"no-seccomp", no_argument, NULL, OPT_NO_SECCOMP},
	{"debug-exit", no_argument, NULL, OPT_DEBUG_EXIT},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* QEMU's spellings of what kvmini also does, so that a user coming from
 * QEMU is told kvmini's name rather than "unknown option"; and a few QEMU
 * options kvmini has no use for, with why. */
static const struct {
	const char *qemu, *kvmini, *why;
} qemu_spellings[] = {
	{"-kernel", "--kernel", NULL},
	{"-initrd", "--initrd", NULL},
	{"-append", "--cmdline", NULL},
	{"-m", "--mem", NULL},
	{"-smp", "--cpus", NULL},
	{"-nographic", NULL, "kvmini has no display: the guest's serial console is always on "
			     "stdout; leave it out"},
	{"-serial", NULL, "the guest's serial console (COM1) is always on stdout; leave it out"},
	{"-enable-kvm", NULL, "kvmini always runs on KVM; leave it out"},
	{"-accel", NULL, "kvmini always runs on KVM; leave it out"},
	{"-netdev", NULL, "kvmini's virtio-net backend is --net (loopback, none, tap=NAME)"},
	{"-nic", NULL, "kvmini's virtio-net backend is --net (loopback, none, tap=NAME)"},
	{"-device", NULL, "kvmini's devices are fixed: --vfio BDF assigns a host device "
			  "(QEMU's vfio-pci,host=BDF), --net SPEC backs virtio-net"},
};

/* Edit distance, for "did you mean": small words only. */
static unsigned edit_distance(const char *a, const char *b)
{
	unsigned d[33], la = strlen(a), lb = strlen(b);

	if (la > 32 || lb > 32)
		return 99;
	for (unsigned j = 0; j <= lb; j++)
		d[j] = j;
	for (unsigned i = 1; i <= la; i++) {
		unsigned diag = d[0];

		d[0] = i;
		for (unsigned j = 1; j <= lb; j++) {
			unsigned up = d[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			d[j] = best;
			diag = up;
		}
	}
	return d[lb];
}

/* The long option that "name" (up to '=' or its end) names: exact, else a
 * unique prefix, as getopt_long takes it; NULL otherwise, with *ambiguous
 * set when several start with it. */
static const struct option *long_option(const char *name, bool *ambiguous)
{
	size_t n = strcspn(name, "=");
	const struct option *hit = NULL;

	*ambiguous = false;
	for (const struct option *o = options; o->name; o++) {
		if (strncmp(o->name, name, n))
			continue;
		if (strlen(o->name) == n)
			return o;
		if (hit)
			*ambiguous = true;
		hit = o;
	}
	return *ambiguous ? NULL : hit;
}

/* The closest long option to "word" (no dashes), or NULL when none is close. */
static const char *closest_option(const char *word)
{
	const char *best = NULL;
	size_t n = strcspn(word, "=");
	unsigned bd = n > 4 ? 3 : 2; /* at most two edits away, one for short words */
	char w[33];

	if (n > 32)
		return NULL;
	memcpy(w, word, n);
	w[n] = 0;
	for (const struct option *o = options; o->name; o++) {
		unsigned d = edit_distance(w, o->name);

		if (d < bd) {
			bd = d;
			best = o->name;
		}
	}
	return best;
}

/* A word with one dash: kvmini's only short options are -h and -V, so it
 * is QEMU's spelling, or a long option with a dash missing, or unknown.
 * Name what the user typed and what kvmini calls it. */
__attribute__((noreturn)) static void unknown_single_dash(const char *arg)
{
	const char *near;

	for (size_t i = 0; i < sizeof(qemu_spellings) / sizeof(qemu_spellings[0]); i++) {
		if (strcmp(arg, qemu_spellings[i].qemu))
			continue;
		if (qemu_spellings[i].kvmini)
			die(EXIT_USAGE, "unknown option '%s' (QEMU's spelling): kvmini's is %s",
			    arg, qemu_spellings[i].kvmini);
		die(EXIT_USAGE, "unknown option '%s' (QEMU's): %s", arg, qemu_spellings[i].why);
	}
	near = closest_option(arg + 1);
	if (near)
		die(EXIT_USAGE, "unknown option '%s': kvmini's options start with --: did you "
				"mean --%s?",
		    arg, near);
	die(EXIT_USAGE, "unknown option '%s': see kvmini --help", arg);
}

/* Before getopt: find the words with one dash, which getopt would read
 * as clusters of short options and blame on the wrong word.  The values
 * of options that take one are skipped, whatever they look like
 * (--cmdline -x). */
static void scan_single_dash(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			return;
		if (a[0] != '-' || !a[1])
			continue; /* an operand; "-" alone too */
		if (a[1] == '-') {
			bool amb;
			const struct option *o = long_option(a + 2, &amb);

			if (o && o->has_arg == required_argument && !strchr(a, '='))
				i++;
			continue;
		}
		if (strspn(a + 1, "hV") != strlen(a + 1))
			unknown_single_dash(a);
	}
}

/* A word that is not an option: the first one may be a mistyped
 * subcommand, or a kernel given without --kernel. */
__attribute__((noreturn)) static void unexpected_operand(const char *arg, bool first, bool check)
{
	if (!first || check)
		die(EXIT_USAGE, "unexpected argument '%s': options start with --, see kvmini --help",
		    arg);
	if (edit_distance(arg, "check") <= 2)
		die(EXIT_USAGE, "unknown subcommand '%s' (did you mean check?)", arg);
	if (access(arg, F_OK) == 0)
		die(EXIT_USAGE, "unknown subcommand '%s' (the only one is check): to boot it, "
				"give --kernel %s",
		    arg, arg);
	die(EXIT_USAGE, "unknown subcommand '%s': the only one is check; options start with --, "
			"see kvmini --help",
	    arg);
}

uint64_t cli_parse_size(const char *s)
{
	char *end;
	unsigned long long v;
	unsigned shift = 20; /* a bare number is MiB, as with QEMU's -m */

	/* A digit first: strtoull would skip blanks and take a sign. */
	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return 0;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return 0;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end)
		return 0;
	if (v > (~0ULL >> shift))
		return 0;
	return (uint64_t)v << shift;
}

int cli_parse_cpus(const char *s)
{
	unsigned long v = 0;

	/* Digits only: no sign, blanks, hex or suffix; at most 3 of them. */
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9' || p - s >= 3)
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	return *s ? (int)v : -1;
}

void cli_parse(int argc, char **argv, struct config *cfg)
{
	const char *bad, *first;
	int c;

	*cfg = (struct config){.cmdline = "", .mem_size = GUEST_MEM_DEFAULT, .net = "loopback",
			       .vfio_backend = "auto", .cpus = 1};
	/* "kvmini check ...": the same options, read after the word. */
	if (argc > 1 && !strcmp(argv[1], "check")) {
		cfg->check = true;
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	first = argc > 1 ? argv[1] : NULL;
	scan_single_dash(argc, argv);
	opterr = 0; /* our own messages, one line each */
	while ((c = getopt_long(argc, argv, ":hV", options, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL: cfg->kernel = optarg; break;
		case OPT_INITRD: cfg->initrd = optarg; break;
		case OPT_CMDLINE: cfg->cmdline = optarg; cfg->cmdline_set = true; break;
		case OPT_MEM:
			cfg->mem_size = cli_parse_size(optarg);
			if (!cfg->mem_size)
				die(EXIT_USAGE, "--mem '%s' is not a size: try --mem 64M or --mem 1G",
				    optarg);
			if (cfg->mem_size < GUEST_MEM_MIN)
				die(EXIT_USAGE, "--mem %s is too small: at least %luM (what the "
						"built-in guest needs)",
				    optarg, GUEST_MEM_MIN >> 20);
			if (cfg->mem_size > GUEST_MEM_MAX)
				die(EXIT_USAGE, "--mem %s is too large: at most %luM (RAM must end "
						"below the PCI hole at 3G)",
				    optarg, GUEST_MEM_MAX >> 20);
			if (cfg->mem_size & ((1UL << 20) - 1))
				die(EXIT_USAGE, "--mem %s is not a whole number of MiB", optarg);
			cfg->mem_set = true;
			break;
		case OPT_CPUS: {
			int n = cli_parse_cpus(optarg);

			if (n < 0)
				die(EXIT_USAGE, "--cpus '%s' is not a number: try --cpus 4", optarg);
			if (n < 1)
				die(EXIT_USAGE, "--cpus %s: a VM needs at least 1 vCPU", optarg);
			if (n > CLI_CPUS_MAX)
				die(EXIT_USAGE, "--cpus %s is too many: kvmini gives a guest at most %d "
						"vCPUs",
				    optarg, CLI_CPUS_MAX);
			cfg->cpus = (unsigned)n;
			break;
		}
		case OPT_NET:
			if (cfg->nnet == PCI_MAX_NET)
				die(EXIT_USAGE, "--net %s: at most %d network devices (--net given %d "
						"times already)",
				    optarg, PCI_MAX_NET, PCI_MAX_NET);
			cfg->nets[cfg->nnet++] = optarg;
			cfg->net = cfg->nets[0];
			break;
		case OPT_VFIO:
			if (cfg->nvfio == PCI_MAX_VFIO)
				die(EXIT_USAGE, "--vfio %s: at most %d assigned devices (--vfio given %d "
						"times already)",
				    optarg, PCI_MAX_VFIO, PCI_MAX_VFIO);
			cfg->vfios[cfg->nvfio++] = optarg;
			cfg->vfio = cfg->vfios[0];
			break;
		case OPT_VFIO_TRAP: cfg->vfio_trap_bars = true; break;
		case OPT_VFIO_BACKEND:
			if (strcmp(optarg, "auto") && strcmp(optarg, "container") &&
			    strcmp(optarg, "iommufd"))
				die(EXIT_USAGE, "--vfio-backend '%s': use auto, container or iommufd",
				    optarg);
			cfg->vfio_backend = optarg;
			cfg->vfio_backend_set = true;
			break;
		case OPT_PCI_POWERON: cfg->pci_poweron = true; break;
		case OPT_TRACE:
			trace_mask |= trace_parse(optarg, &bad);
			if (!trace_mask)
				die(EXIT_USAGE, "--trace: unknown category '%s': use a comma list of "
						"io,pci,virtio,vfio,exit,boot or all",
				    bad);
			break;
		case OPT_STATS: cfg->stats = true; break;
		case OPT_REPORT: cfg->report = optarg; break;
		case OPT_NO_SECCOMP: cfg->no_seccomp = true; break;
		case OPT_DEBUG_EXIT: cfg->debug_exit = true; break;
		case 'h': fputs(usage, stdout); exit(0);
		case 'V': printf("kvmini %s\n", KVMINI_VERSION); exit(0);
		case ':':
			die(EXIT_USAGE, "option '%s' needs a value: see kvmini --help",
			    argv[optind - 1]);
		default: {
			/* Only long options get here (scan_single_dash took
			 * the rest), and getopt_long has moved past them. */
			const char *arg = argv[optind - 1], *near = NULL;
			bool amb = false;

			if (!strncmp(arg, "--", 2) && !long_option(arg + 2, &amb) && !amb)
				near = closest_option(arg + 2);
			if (amb)
				die(EXIT_USAGE, "option '%s' is the start of several: write it out, see "
						"kvmini --help",
				    arg);
			if (near)
				die(EXIT_USAGE, "unknown option '%s': did you mean --%s?", arg, near);
			die(EXIT_USAGE, "unknown option '%s': see kvmini --help", arg);
		}
		}
	}
	if (!cfg->nnet)
		cfg->nets[cfg->nnet++] = cfg->net; /* the default, loopback */
	if (optind < argc)
		unexpected_operand(argv[optind], argv[optind] == first, cfg->check);
	if (cfg->vfio_trap_bars && !cfg->vfio)
		die(EXIT_USAGE, "--vfio-trap-bars needs --vfio BDF");
	if (cfg->vfio_backend_set && !cfg->vfio)
		die(EXIT_USAGE, "--vfio-backend needs --vfio BDF");
	if (cfg->initrd && !cfg->kernel)
		die(EXIT_USAGE, "--initrd needs a Linux kernel: give --kernel FILE too");
}
