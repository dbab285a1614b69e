/* SPDX-License-Identifier: MIT */
/*
 * report.h - the guest-to-kvmini report port (protocol in memmap.h).
 *
 * Each check the guest reports is printed as
 *   kvmini: check N passed: NAME      or   kvmini: check N FAILED: NAME
 * and kept for the summary and the --report JSON file.  A REPORT_DONE
 * ends the VM: status 0 with kvmini's exit 0, any other with exit 1
 * (EXIT_GUEST_FAILED), never with the guest's own number, which could
 * read as one of kvmini's codes; the number is printed on the done line
 *   kvmini: guest done, status 3 (0x3): the guest failed, kvmini exits 1
 * and kept for the report (report_guest_status).
 */
#ifndef KVMINI_REPORT_H
#define KVMINI_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct vm;

void report_init(struct vm *vm);
/* kvmini's exit status for a guest that reported done with this status:
 * EXIT_GUEST_OK for 0, EXIT_GUEST_FAILED for anything else. */
int report_exit_code(uint32_t guest_status);
/* Did the guest report done?  Its status (32 bits, as sent) in *status. */
bool report_guest_status(uint32_t *status);
/* Number of checks reported, and how many failed. */
unsigned report_count(unsigned *failed);
/* The checks as a JSON array (for --report). */
void report_json_checks(FILE *f);

#endif
