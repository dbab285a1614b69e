/* SPDX-License-Identifier: MIT */
/*
 * host.h - facts about the machine kvmini runs on, read without changing
 * anything: the kernel, whether this machine is itself a guest, the KVM
 * module and its nesting, the IOMMU and its groups, the device nodes.
 *
 * `kvmini check` (check.c) turns them into its item lines, and every
 * --report file carries them as its "host" object (docs/report.md).
 */
#ifndef KVMINI_HOST_H
#define KVMINI_HOST_H

#include <stdbool.h>
#include <stdio.h>

/* The --report format's version ("report" in the JSON): raised when a
 * field changes meaning or goes away, not when one is added. */
#define REPORT_FORMAT 1

struct host_facts {
	char kernel[65];       /* uname -r */
	bool cpu_guest;	       /* CPUID.1:ECX[31], "running under a hypervisor" */
	char hv_vendor[13];    /* CPUID 0x40000000 signature, "" when none */
	const char *virt_ext;  /* "vmx", "svm", or NULL: what nesting would need */
	char kvm_module[24];   /* loaded vendor module: kvm_intel, kvm_amd, ... or "" */
	char nested[8];	       /* its "nested" parameter (Y/N/1/0), "" when it has none */
	int kvm_errno;	       /* 0 when /dev/kvm opened read-write, else errno */
	int kvm_api;	       /* KVM_GET_API_VERSION, -1 when not opened */
	unsigned iommu_units;  /* entries in /sys/class/iommu */
	char iommu_unit[32];   /* the first of them, e.g. dmar0 */
	char iommu_type[16];   /* default domain type of the groups: DMA, DMA-FQ, identity */
	unsigned iommu_groups; /* entries in /sys/kernel/iommu_groups */
	unsigned vfio_devices; /* PCI devices bound to vfio-pci */
	int vfio_errno;	       /* /dev/vfio/vfio: 0 usable, else errno */
	int iommufd_errno;     /* /dev/iommu: 0 usable, else errno */
	int tun_errno;	       /* /dev/net/tun: 0 usable, else errno */
};

/* Gather everything above.  Opens (and closes) device nodes, reads sysfs
 * and CPUID; creates nothing. */
void host_facts_read(struct host_facts *h);

/* "Intel VT-d", "AMD-Vi", "virtio-iommu" from a unit name, else the name. */
const char *host_iommu_kind(const char *unit);

/* The --report destination, opened before anything runs (so that the
 * confined threads never need to open a file, and a path that cannot be
 * created is a usage error, not a lost report at the end).  "-" is
 * standard output: then fd 1 is pointed at standard error for everything
 * else kvmini prints (the guest's console, check lines), so that stdout
 * carries the one JSON object and nothing else.  Dies with EXIT_USAGE. */
FILE *report_file_open(const char *path);

/* Flush and close the report (written in full by the caller); a write or
 * close that failed (ENOSPC, /dev/full, a closed pipe) dies with
 * EXIT_REPORT, naming the error and the status the run would have had. */
void report_file_close(FILE *f, const char *path, int status);

/* The facts as one JSON object (the report's "host"). */
void host_facts_json(FILE *f, const struct host_facts *h);

/* What an exit status means (the table in README and kvmini(1)), for the
 * report's "reason" of a run that ended without a message of its own. */
const char *exit_status_text(int status);

/* A JSON string with the characters JSON requires escaped. */
void json_string(FILE *f, const char *s);

#endif
