/* SPDX-License-Identifier: MIT */
/*
 * trace.h - --trace categories, --stats counters, and the error helpers.
 *
 * Two tiers of errors: die() is for setup and the command line, where the
 * user can act on the message and kvmini cannot go on; it prints one line
 * "kvmini: <what is wrong>" and exits with a documented code (below), after
 * the at-exit teardown has released every device.  Reusable code returns
 * -errno and unwinds with goto; the caller decides whether to die().
 */
#ifndef KVMINI_TRACE_H
#define KVMINI_TRACE_H

#include <stdbool.h>
#include <stdint.h>

/* Exit codes: the README documents them.  0 and 1 come from the guest:
 * any nonzero status it reports is 1, never its own number (report.h). */
enum {
	EXIT_GUEST_OK = 0,     /* guest reported status 0 */
	EXIT_GUEST_FAILED = 1, /* guest reported any other status */
	EXIT_USAGE = 2,        /* bad command line */
	EXIT_NO_KVM = 3,       /* /dev/kvm missing or not permitted */
	EXIT_KVM_CAP = 4,      /* KVM too old or lacks a capability */
	EXIT_KERNEL = 5,       /* --kernel/--initrd unreadable or malformed */
	EXIT_VFIO = 6,         /* --vfio device cannot be attached */
	EXIT_NET = 7,          /* --net backend cannot be opened */
	EXIT_GUEST_CRASH = 8,  /* triple fault, unhandled exit, hostile guest stop */
	EXIT_HOST = 9,         /* host resource failure (memory, threads, fds) */
	EXIT_REBOOT = 10,      /* guest asked for a reboot */
	EXIT_VFIO_REQ = 11,    /* the host asked for the assigned device back */
	EXIT_SECCOMP = 12,     /* a thread made a system call outside its allowlist */
	EXIT_REPORT = 13,      /* the --report file could not be written */
	EXIT_GUEST_UNSUPPORTED = 14, /* the guest asked for what kvmini does not offer */
	EXIT_SIGINT = 130,     /* interrupted (128 + SIGINT) */
	EXIT_SIGTERM = 143,    /* terminated (128 + SIGTERM) */
};

enum {
	TRACE_IO = 1u << 0,     /* every port/MMIO exit and its device */
	TRACE_PCI = 1u << 1,    /* config accesses, decoded; BAR moves */
	TRACE_VIRTIO = 1u << 2, /* handshake, features, queues, packets */
	TRACE_VFIO = 1u << 3,   /* the realize flow, BAR paths, irqs, DMA */
	TRACE_EXIT = 1u << 4,   /* every KVM_RUN exit */
	TRACE_BOOT = 1u << 5,   /* loader: segments, start state */
};

extern unsigned trace_mask;

/* Parse "io,pci" / "all"; returns the mask, or 0 and sets *bad to the word. */
unsigned trace_parse(const char *spec, const char **bad);

void trace_printf(unsigned cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define trace(cat, ...)                                                                            \
	do {                                                                                       \
		if (trace_mask & (cat))                                                            \
			trace_printf((cat), __VA_ARGS__);                                          \
	} while (0)

/* Named counters for --stats (beyond exits and per-device hits). */
enum stat_id {
	STAT_PCI_CF8_ADDR,  /* writes/reads of the 0xcf8 address register */
	STAT_PCI_CF8_DATA,  /* config accesses through 0xcfc-0xcff */
	STAT_PCI_ECAM,      /* config accesses through the ECAM window */
	STAT_PCI_ABSENT,    /* config accesses to absent functions */
	STAT_VIRTIO_KICKS,  /* notifications seen by the device (ioeventfd) */
	STAT_VIRTIO_IRQS,   /* interrupts sent by the device */
	STAT_VIRTIO_TX,     /* frames transmitted */
	STAT_VIRTIO_RX,     /* frames received */
	STAT_VFIO_BAR_TRAP, /* BAR accesses forwarded by pread/pwrite */
	STAT_VFIO_IRQS,     /* device interrupts */
	STAT_VFIO_REQ,      /* host requests for the device back (VFIO REQ irq) */
	STAT_VFIO_ERR,      /* errors the host reported (VFIO ERR irq, AER) */
	STAT_MAX
};
extern uint64_t stats[STAT_MAX];
extern const char *const stat_names[STAT_MAX];

__attribute__((noreturn, format(printf, 2, 3))) void die(int code, const char *fmt, ...);
/* die() with ": strerror(errno)" appended */
__attribute__((noreturn, format(printf, 2, 3))) void die_errno(int code, const char *fmt, ...);
/* Called by die() and die_errno(), once, with the exit code and the
 * message (without "kvmini: ") just before exit(): main.c sets it while it
 * sets the machine up, to write a short --report for a run that ends
 * there.  NULL otherwise. */
extern void (*die_hook)(int code, const char *msg);
/* A message that is not fatal: "kvmini: warning: ..." on stderr. */
__attribute__((format(printf, 1, 2))) void warn(const char *fmt, ...);

#endif
