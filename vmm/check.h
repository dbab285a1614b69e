/* SPDX-License-Identifier: MIT */
/* check.h - `kvmini check`: what this host offers kvmini (see check.c). */
#ifndef KVMINI_CHECK_H
#define KVMINI_CHECK_H

#include "cli.h"

/* Print one line per item, write cfg->report when given, and return the
 * exit status: the one a run with cfg's options would end its setup with
 * (0 when it would start the guest).  That verdict comes from the run's
 * own code: check_run() forks, and in the child returns CHECK_RUN_SETUP,
 * on which main() goes on through the run's setup (kernel image, KVM,
 * devices) and exits 0 where the guest would start, or dies as the run
 * would.  The items around it explain, each with a fix.  Starts no guest,
 * changes nothing on the host. */
#define CHECK_RUN_SETUP (-1)
int check_run(const struct config *cfg);

#endif
