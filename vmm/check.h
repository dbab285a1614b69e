/* SPDX-License-Identifier: MIT */
/* check.h - `kvmini check`: what this host offers kvmini (see check.c). */
#ifndef KVMINI_CHECK_H
#define KVMINI_CHECK_H

#include "cli.h"

/* Print one line per item, write cfg->report when given, and return the
 * exit status: 0 when everything a run with cfg's options needs is there,
 * else EXIT_NO_KVM, EXIT_KVM_CAP, EXIT_VFIO or EXIT_NET for the first
 * item missing.  Starts no guest, changes nothing on the host. */
int check_run(const struct config *cfg);

#endif
