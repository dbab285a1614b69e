/* SPDX-License-Identifier: MIT */
/*
 * phase.c - kvmini's own phases (phase.h).  A mark is one clock_gettime
 * (vDSO, no system call), so the marks are always taken; only --stats
 * prints them.
 */
#include "phase.h"

#include <time.h>

static const char *const names[PH_MAX] = {
    [PH_PARSE] = "parse",
    [PH_IMAGE] = "image",
    [PH_VM] = "vm_create",
    [PH_DEVICES] = "devices",
    [PH_LOAD] = "load",
    [PH_CONFINE] = "confine",
    [PH_RUN] = "run",
    [PH_REPORT] = "report",
    [PH_TD_DEVICES] = "teardown: devices",
    [PH_TD_VCPU] = "teardown: vCPU fd",
    [PH_TD_VM] = "teardown: VM fd",
    [PH_TD_RAM] = "teardown: RAM, /dev/kvm",
};
static double at[PH_MAX];

double phase_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

void phase_mark(enum phase p)
{
	at[p] = phase_now_ms();
}

double phase_at(enum phase p)
{
	return at[p];
}

void phase_print(FILE *f)
{
	double prev = at[PH_START], last = prev;

	if (!prev)
		return;
	fprintf(f, "kvmini: phases (ms from main)\n");
	for (int p = PH_START + 1; p < PH_MAX; p++) {
		if (!at[p])
			continue;
		fprintf(f, "  phase %-26s %9.3f\n", names[p], at[p] - prev);
		prev = last = at[p];
	}
	fprintf(f, "  phase %-26s %9.3f\n", "total", last - at[PH_START]);
}
