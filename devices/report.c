/* SPDX-License-Identifier: MIT */
/*
 * report.c - the report port: how the guest tells kvmini what it checked.
 *
 * The guest hands over the guest-physical address of a struct guest_report.
 * That address, the struct's length and the message it points to all come
 * from the guest, so each is checked against guest RAM before use, and the
 * message is copied out and made printable before it reaches a terminal.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "memmap.h"
#include "../vmm/trace.h"
#include "../vmm/vm.h"
#include "fw_cfg.h"
#include "serial.h"

#define REPORT_MAX_CHECKS 512

static struct {
	struct vm *vm;
	unsigned n, failed, bad;
	bool done;             /* the guest reported done ... */
	uint32_t guest_status; /* ... with this status, all 32 bits of it */
	struct {
		unsigned id;
		bool passed;
		char *name;
	} c[REPORT_MAX_CHECKS];
} rep;

int report_exit_code(uint32_t guest_status)
{
	/* The guest's number is its own: passed through, 3 would read as
	 * "no /dev/kvm", 6 as a VFIO fault, 0x10b (as a byte) as 11.  One
	 * code says "the guest failed"; the number goes to the done line
	 * and the report. */
	return guest_status ? EXIT_GUEST_FAILED : EXIT_GUEST_OK;
}

bool report_guest_status(uint32_t *status)
{
	*status = rep.guest_status;
	return rep.done;
}

unsigned report_count(unsigned *failed)
{
	*failed = rep.failed;
	return rep.n;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void report_json_checks(FILE *f)
{
	fputc('[', f);
	for (unsigned i = 0; i < rep.n; i++) {
		fprintf(f, "%s{\"id\":%u,\"passed\":%s,\"name\":", i ? "," : "", rep.c[i].id,
			rep.c[i].passed ? "true" : "false");
		json_str(f, rep.c[i].name);
		fputc('}', f);
	}
	fputc(']', f);
}

static void report_bad(const char *why, uint64_t gpa)
{
	rep.bad++;
	/* Say it once or twice, not a million times for a looping guest. */
	if (rep.bad <= 3)
		warn("guest sent a bad report (%s, gpa 0x%llx); ignored", why,
		     (unsigned long long)gpa);
}

static void report_handle(uint32_t gpa)
{
	struct guest_report r;
	const void *p = vm_gpa(rep.vm, gpa, sizeof(r));
	char msg[REPORT_MSG_MAX + 1];

	if (!p)
		return report_bad("struct outside RAM", gpa);
	memcpy(&r, p, sizeof(r)); /* one copy: the guest may change it meanwhile */
	if (r.msg_len > REPORT_MSG_MAX)
		return report_bad("message too long", gpa);
	p = vm_gpa(rep.vm, r.msg_gpa, r.msg_len);
	if (!p && r.msg_len)
		return report_bad("message outside RAM", r.msg_gpa);
	memcpy(msg, p ? p : "", r.msg_len);
	msg[r.msg_len] = 0;
	for (unsigned i = 0; i < r.msg_len; i++)
		if (msg[i] < 0x20 || msg[i] > 0x7e)
			msg[i] = '?';

	switch (r.kind) {
	case REPORT_CHECK:
		serial_flush();
		printf("kvmini: check %u %s: %s\n", r.id, r.status ? "FAILED" : "passed", msg);
		fflush(stdout);
		if (rep.n < REPORT_MAX_CHECKS) {
			rep.c[rep.n].id = r.id;
			rep.c[rep.n].passed = !r.status;
			rep.c[rep.n].name = strdup(msg);
			if (!rep.c[rep.n].name)
				die(EXIT_HOST, "out of memory");
			rep.n++;
		}
		if (r.status)
			rep.failed++;
		break;
	case REPORT_DONE:
		serial_flush();
		rep.done = true;
		rep.guest_status = r.status;
		rep.vm->done = true;
		rep.vm->exit_status = report_exit_code(r.status);
		if (r.status)
			printf("kvmini: guest done, status %u (0x%x): the guest failed, kvmini exits %d\n",
			       r.status, r.status, rep.vm->exit_status);
		else
			printf("kvmini: guest done, status 0\n");
		fflush(stdout);
		break;
	default:
		report_bad("unknown kind", gpa);
	}
}

static void report_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	(void)opaque;
	/* QEMU's fw_cfg shares these ports, at other widths (fw_cfg.h). */
	if (fw_cfg_claims(off, len, is_write))
		return fw_cfg_io(off, data, len, is_write);
	if (off != 0 || len != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		return report_bad("access not a 32-bit access at the port", off);
	}
	if (!is_write) {
		uint32_t magic = REPORT_MAGIC;

		memcpy(data, &magic, 4);
		return;
	}
	uint32_t gpa;
	memcpy(&gpa, data, 4);
	report_handle(gpa);
}

void report_init(struct vm *vm)
{
	fw_cfg_init(vm);
	rep.vm = vm;
	if (bus_register(&vm->pio, REPORT_PORT, REPORT_PORT_LEN, report_io, NULL, "report") < 0)
		die(EXIT_HOST, "internal: cannot place the report port at 0x%x", REPORT_PORT);
}
