/* SPDX-License-Identifier: MIT */
/*
 * report.h - the guest-to-kvmini report port (protocol in memmap.h).
 *
 * Each check the guest reports is printed as
 *   kvmini: check N passed: NAME      or   kvmini: check N FAILED: NAME
 * and kept for the summary and the --report JSON file.  A REPORT_DONE
 * ends the VM with the guest's status.
 */
#ifndef KVMINI_REPORT_H
#define KVMINI_REPORT_H

#include <stdio.h>

struct vm;

void report_init(struct vm *vm);
/* Number of checks reported, and how many failed. */
unsigned report_count(unsigned *failed);
/* The checks as a JSON array (for --report). */
void report_json_checks(FILE *f);

#endif
