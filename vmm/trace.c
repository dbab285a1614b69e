/* SPDX-License-Identifier: MIT */
/* trace.c - --trace output, --stats counters, die()/warn(). */
#include "trace.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned trace_mask;
uint64_t stats[STAT_MAX];

const char *const stat_names[STAT_MAX] = {
	[STAT_PCI_CF8_ADDR] = "pci: 0xcf8 address register accesses",
	[STAT_PCI_CF8_DATA] = "pci: config accesses via mechanism #1 (0xcfc)",
	[STAT_PCI_ECAM] = "pci: config accesses via ECAM",
	[STAT_PCI_ABSENT] = "pci: config accesses to absent functions",
	[STAT_VIRTIO_KICKS] = "virtio: kicks (ioeventfd)",
	[STAT_VIRTIO_IRQS] = "virtio: interrupts sent",
	[STAT_VIRTIO_TX] = "virtio: frames transmitted",
	[STAT_VIRTIO_RX] = "virtio: frames received",
	[STAT_VFIO_BAR_TRAP] = "vfio: trapped BAR accesses (pread/pwrite)",
	[STAT_VFIO_IRQS] = "vfio: device interrupts",
	[STAT_VFIO_REQ] = "vfio: host requests for the device (REQ)",
	[STAT_VFIO_ERR] = "vfio: device errors reported by the host (ERR, AER)",
};

static const struct {
	const char *name;
	unsigned bit;
} trace_cats[] = {
	{"io", TRACE_IO},         {"pci", TRACE_PCI},   {"virtio", TRACE_VIRTIO},
	{"vfio", TRACE_VFIO},     {"exit", TRACE_EXIT}, {"boot", TRACE_BOOT},
};

static const char *trace_cat_name(unsigned cat)
{
	for (size_t i = 0; i < sizeof(trace_cats) / sizeof(trace_cats[0]); i++)
		if (trace_cats[i].bit == cat)
			return trace_cats[i].name;
	return "?";
}

unsigned trace_parse(const char *spec, const char **bad)
{
	static char word[32];
	unsigned mask = 0;
	const char *p = spec;

	while (*p) {
		size_t n = strcspn(p, ",");
		bool found = false;

		if (n == 3 && !strncmp(p, "all", 3)) {
			mask |= ~0u;
			found = true;
		}
		for (size_t i = 0; !found && i < sizeof(trace_cats) / sizeof(trace_cats[0]); i++) {
			if (strlen(trace_cats[i].name) == n && !strncmp(p, trace_cats[i].name, n)) {
				mask |= trace_cats[i].bit;
				found = true;
			}
		}
		if (!found) {
			snprintf(word, sizeof(word), "%.*s", (int)(n < 31 ? n : 31), p);
			*bad = word;
			return 0;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!mask)
		*bad = "";
	return mask;
}

/* Traces go to stderr so that stdout keeps the guest's console clean. */
void trace_printf(unsigned cat, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "[%-6s] %s\n", trace_cat_name(cat), buf);
}

void (*die_hook)(int code, const char *msg);

/* Print "kvmini: PREFIX MESSAGE[: SUFFIX]"; the message (with its suffix)
 * is left in buf for die()'s hook. */
static void vmsg(char *buf, size_t len, const char *prefix, const char *fmt, va_list ap,
		 const char *suffix)
{
	size_t n;

	vsnprintf(buf, len, fmt, ap);
	n = strlen(buf);
	if (suffix)
		snprintf(buf + n, len - n, ": %s", suffix);
	fflush(stdout);
	fprintf(stderr, "kvmini: %s%s\n", prefix, buf);
}

static __attribute__((noreturn)) void die_exit(int code, const char *msg)
{
	void (*hook)(int, const char *) = die_hook;

	die_hook = NULL; /* once: a die() inside the hook exits plainly */
	if (hook)
		hook(code, msg);
	exit(code); /* the atexit handler in main.c tears the VM down */
}

void die(int code, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vmsg(buf, sizeof(buf), "", fmt, ap, NULL);
	va_end(ap);
	die_exit(code, buf);
}

void die_errno(int code, const char *fmt, ...)
{
	int err = errno;
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vmsg(buf, sizeof(buf), "", fmt, ap, strerror(err));
	va_end(ap);
	die_exit(code, buf);
}

void warn(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vmsg(buf, sizeof(buf), "warning: ", fmt, ap, NULL);
	va_end(ap);
}
