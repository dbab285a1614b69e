/* SPDX-License-Identifier: MIT */
/* cli.h - the command line.  Bad input dies with EXIT_USAGE and one line. */
#ifndef KVMINI_CLI_H
#define KVMINI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define KVMINI_VERSION "0.1.0"

struct config {
	const char *kernel;  /* NULL: the embedded guest */
	const char *initrd;
	const char *cmdline;
	uint64_t mem_size;
	unsigned cpus;	     /* --cpus: 1 (default) to CLI_CPUS_MAX */
	const char *net;     /* "loopback", "none", "tap=NAME[,mac=..]" */
	const char *vfio;    /* DDDD:BB:DD.F or NULL */
	bool vfio_trap_bars;
	const char *vfio_backend; /* "auto" (default), "container", "iommufd" */
	bool vfio_backend_set;
	bool pci_poweron;    /* --pci-poweron: skip the firmware-like PCI start */
	bool stats;
	const char *report;  /* --report FILE, "-" for stdout */
	FILE *report_file;   /* opened by main() before anything runs */
	bool check;          /* `kvmini check [options]` (vmm/check.c) */
	bool no_seccomp;     /* --no-seccomp: threads run unconfined */
	bool mem_set, cmdline_set; /* given on the command line (else the
				      defaults depend on the kernel: main.c) */
};

void cli_parse(int argc, char **argv, struct config *cfg);

/* --cpus' range: VM_MAX_VCPUS (vm.h) is the same number. */
#define CLI_CPUS_MAX 32

/* "4" -> 4; "0" -> 0; anything not 1-3 decimal digits ("", "-1", " 2",
 * "0x4", "4k", "1000") -> -1.  The range is cli_parse()'s to check. */
int cli_parse_cpus(const char *s);

/* "64M", "2G", "512" (MiB), "1048576K": bytes, or 0 when malformed. */
uint64_t cli_parse_size(const char *s);

#endif
