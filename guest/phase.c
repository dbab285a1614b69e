// SPDX-License-Identifier: MIT
/*
 * phase.c - where the guest's time goes: a TSC stamp at the end of each
 * group of checks, printed at the end when the command line says
 * "phases" (make bench does; docs/benchmarks.md).  Stamping is one rdtsc,
 * which runs without an exit, so a run without "phases" pays nothing
 * measurable; the lines are printed only on request because under KVM
 * every console byte is an exit.
 *
 * The first stamp is taken at the top of guest_main.  Under KVM a vCPU's
 * TSC starts at 0 when it is created, so that first figure is the time
 * from KVM_CREATE_VCPU to the guest's C code: the VMM's loading, and the
 * boot code's page tables and mode switches.
 */
#include "guest.h"

#define PHASE_MAX 24

static struct {
	const char *name;
	uint64_t tsc;
} stamps[PHASE_MAX];
static unsigned nstamps;

void phase_end(const char *name)
{
	if (nstamps < PHASE_MAX)
		stamps[nstamps++] = (typeof(stamps[0])){name, rdtsc()};
}

void phase_print(void)
{
	uint64_t per = tsc_per_us(), prev = 0;

	if (!nstamps || !cmdline_has("phases"))
		return;
	for (unsigned i = 0; i < nstamps; i++) {
		printf("guest phase: %-28s %8lu us\n", stamps[i].name, (stamps[i].tsc - prev) / per);
		prev = stamps[i].tsc;
	}
	printf("guest phase: %-28s %8lu us (TSC %lu MHz, %s)\n", "total, from vCPU creation",
	       stamps[nstamps - 1].tsc / per, per, tsc_rate_source());
}
