// SPDX-License-Identifier: MIT
/*
 * report.c - telling the host what the guest checked (include/memmap.h,
 * "Report port").
 *
 * kvmini answers a 32-bit IN from REPORT_PORT with REPORT_MAGIC; anything
 * else (QEMU, where nothing decodes the port, reads all ones) means we are
 * on our own: then the checks are printed as TAP on the console and the
 * exit status goes to QEMU's isa-debug-exit device, which makes QEMU exit
 * with (status << 1) | 1.
 */
#include "guest.h"

static bool on_kvmini;
static unsigned nchecks, nfailed;

/* The report travels by address: it must sit in guest RAM below 4 GiB (a
 * 32-bit OUT carries the address), which the image always does. */
static struct guest_report rep;
static char rep_msg[REPORT_MSG_MAX];

void report_init(void)
{
	on_kvmini = inl(REPORT_PORT) == REPORT_MAGIC;
}

bool report_is_kvmini(void) { return on_kvmini; }
unsigned guest_failures(void) { return nfailed; }

static void report_send(unsigned kind, unsigned id, unsigned status, const char *msg)
{
	size_t n = strnlen(msg, sizeof(rep_msg));

	memcpy(rep_msg, msg, n);
	rep.kind = kind;
	rep.id = id;
	rep.status = status;
	rep.msg_len = (unsigned)n;
	rep.msg_gpa = virt_to_phys(rep_msg);
	outl(REPORT_PORT, (uint32_t)virt_to_phys(&rep));
}

bool guest_check(const char *name, bool passed)
{
	nchecks++;
	if (!passed)
		nfailed++;
	if (on_kvmini)
		report_send(REPORT_CHECK, nchecks, passed ? 0 : 1, name);
	else
		printf("%sok %u - %s\n", passed ? "" : "not ", nchecks, name);
	return passed;
}

bool guest_checkf(bool passed, const char *fmt, ...)
{
	char name[REPORT_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	return guest_check(name, passed);
}

void guest_done(int status)
{
	irq_disable();
	if (!on_kvmini)
		printf("1..%u\n", nchecks);
	printf("guest: %u checks, %u failed\n", nchecks, nfailed);
	printf("guest: done, status %d\n", status);
	if (on_kvmini)
		report_send(REPORT_DONE, 0, (unsigned)status, "done");
	else
		outb(PORT_QEMU_DEBUG_EXIT, (uint8_t)status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_panic(const char *fmt, ...)
{
	char msg[REPORT_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("guest: PANIC: %s\n", msg);
	guest_checkf(false, "no panic (%s)", msg);
	guest_done(1);
}
