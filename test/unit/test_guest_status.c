// SPDX-License-Identifier: MIT
// needs: devices/report.c devices/fw_cfg.c vmm/bus.c vmm/host.c test/fuzz/stubs.c
/*
 * test_guest_status.c - a guest's status never poses as one of kvmini's own
 * exit codes.  The guest reports done through the report port (the real
 * devices/report.c on a fake guest RAM, test/fuzz/stubs.c); whatever
 * nonzero number it sends, kvmini's status is 1 (EXIT_GUEST_FAILED) and
 * the number is kept whole for the done line and the report.  Also: every
 * code kvmini documents has its own reason text (vmm/host.c), so a report's
 * "reason" never falls back to the text for an unknown status.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "memmap.h"
#include "tap.h"
#include "../../devices/report.h"
#include "../../vmm/host.h"
#include "../../vmm/trace.h"
#include "../fuzz/stubs.h"

/* The guest's side: a struct guest_report at 0x1000, its message at
 * 0x1100, and the GPA written to the port (guest/report.c does this). */
static char done_line[256]; /* what kvmini printed for it */

static void guest_reports_done(uint32_t status)
{
	struct guest_report r = {.kind = REPORT_DONE, .status = status, .msg_gpa = 0x1100,
				 .msg_len = 4};
	uint32_t gpa = 0x1000;
	FILE *cap = tmpfile();
	int saved = dup(1);

	memcpy((uint8_t *)fuzz_vm.mem + 0x1100, "done", 4);
	memcpy((uint8_t *)fuzz_vm.mem + 0x1000, &r, sizeof(r));
	/* kvmini's stdout goes to a file for the call, to read its line. */
	fflush(stdout);
	if (!cap || saved < 0 || dup2(fileno(cap), 1) < 0)
		abort();
	bus_access(&fuzz_vm.pio, REPORT_PORT, &gpa, 4, true);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(cap);
	if (!fgets(done_line, sizeof(done_line), cap))
		done_line[0] = 0;
	done_line[strcspn(done_line, "\n")] = 0;
	fclose(cap);
}

int main(void)
{
	/* 3: "/dev/kvm missing", 6: "the --vfio device", 11: "the host took
	 * the device back", 0x10b: 11 once cut to a byte, 0x100: 0 once cut
	 * to a byte (a failure that would have read as success). */
	static const uint32_t failing[] = {1, 3, 6, 11, 12, 13, 14, 0x10b, 0x100, 0xffffffff};
	uint32_t gs;

	fuzz_ram_reset(0x2000);
	bus_init(&fuzz_vm.pio, "pio");
	report_init(&fuzz_vm);
	tap_ok(!report_guest_status(&gs), "before the guest reports done, there is no guest status");

	for (size_t i = 0; i < sizeof(failing) / sizeof(failing[0]); i++) {
		fuzz_vm.done = false;
		fuzz_vm.exit_status = -1;
		guest_reports_done(failing[i]);
		tap_ok(fuzz_vm.done && fuzz_vm.exit_status == EXIT_GUEST_FAILED,
		       "the guest reporting status %u (0x%x) ends kvmini with %d, the guest-failure "
		       "code (got done=%d, %d)",
		       failing[i], failing[i], EXIT_GUEST_FAILED, fuzz_vm.done, fuzz_vm.exit_status);
		tap_ok(report_guest_status(&gs) && gs == failing[i],
		       "the guest's own number 0x%x is kept whole for the report (got 0x%x)", failing[i],
		       gs);
		char want[96];

		snprintf(want, sizeof(want), "kvmini: guest done, status %u (0x%x): ", failing[i],
			 failing[i]);
		tap_ok(!strncmp(done_line, want, strlen(want)) && strstr(done_line, "exits 1"),
		       "the done line names the guest's number and kvmini's 1: '%s'", done_line);
	}
	fuzz_vm.done = false;
	guest_reports_done(0);
	tap_ok(fuzz_vm.done && fuzz_vm.exit_status == EXIT_GUEST_OK,
	       "the guest reporting status 0 ends kvmini with 0");
	tap_ok(!strcmp(done_line, "kvmini: guest done, status 0"), "the done line for 0: '%s'",
	       done_line);
	tap_eq(report_exit_code(0), EXIT_GUEST_OK, "report_exit_code(0)");
	tap_eq(report_exit_code(0x10b), EXIT_GUEST_FAILED, "report_exit_code(0x10b)");

	/* The reason for the guest-failure code speaks of the guest, and
	 * every documented code has a text of its own. */
	tap_ok(strstr(exit_status_text(EXIT_GUEST_FAILED), "the guest") != NULL,
	       "status 1's reason is the guest's failure: '%s'", exit_status_text(EXIT_GUEST_FAILED));
	static const int codes[] = {EXIT_GUEST_OK,  EXIT_GUEST_FAILED, EXIT_USAGE,   EXIT_NO_KVM,
				    EXIT_KVM_CAP,   EXIT_KERNEL,       EXIT_VFIO,    EXIT_NET,
				    EXIT_GUEST_CRASH, EXIT_HOST,       EXIT_REBOOT,  EXIT_VFIO_REQ,
				    EXIT_SECCOMP,   EXIT_REPORT,       EXIT_GUEST_UNSUPPORTED,
				    EXIT_SIGINT,    EXIT_SIGTERM};
	const char *unknown = exit_status_text(200);

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		tap_ok(strcmp(exit_status_text(codes[i]), unknown) != 0,
		       "exit status %d has its own reason: '%s'", codes[i], exit_status_text(codes[i]));
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		for (size_t j = i + 1; j < sizeof(codes) / sizeof(codes[0]); j++)
			if (!strcmp(exit_status_text(codes[i]), exit_status_text(codes[j])))
				tap_ok(0, "exit statuses %d and %d share a reason", codes[i], codes[j]);
	return tap_done();
}
