/* SPDX-License-Identifier: MIT */
/* cli.h - the command line.  Bad input dies with EXIT_USAGE and one line. */
#ifndef KVMINI_CLI_H
#define KVMINI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "memmap.h"

#define KVMINI_VERSION "0.1.0"

struct config {
	const char *kernel;  /* NULL: the embedded guest */
	const char *initrd;
	const char *cmdline;
	uint64_t mem_size;
	unsigned cpus;	     /* --cpus: 1 (default) to CLI_CPUS_MAX */
	const char *net;     /* the first --net: "loopback", "none", "tap=NAME[,mac=..]" */
	const char *vfio;    /* the first --vfio: DDDD:BB:DD.F, or NULL */
	/* Every --net and --vfio, in the order given (net[0] == net, vfio[0]
	 * == vfio); at most PCI_MAX_NET and PCI_MAX_VFIO (memmap.h). */
	const char *nets[PCI_MAX_NET];
	unsigned nnet;
	const char *vfios[PCI_MAX_VFIO];
	unsigned nvfio;
	bool vfio_trap_bars;
	const char *vfio_backend; /* "auto" (default), "container", "iommufd" */
	bool vfio_backend_set;
	bool pci_poweron;    /* --pci-poweron: skip the firmware-like PCI start */
	bool stats;
	const char *report;  /* --report FILE, "-" for stdout */
	FILE *report_file;   /* opened by main() before anything runs */
	bool check;          /* `kvmini check [options]` (vmm/check.c) */
	bool no_seccomp;     /* --no-seccomp: threads run unconfined */
	bool debug_exit;     /* --debug-exit: QEMU's isa-debug-exit at 0xf4 */
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
