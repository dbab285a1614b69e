/* SPDX-License-Identifier: MIT */
/*
 * debug_exit.h - QEMU's isa-debug-exit, opt-in with --debug-exit.
 *
 * Test kernels written for QEMU end with a write to I/O port 0xf4, where
 * QEMU runs `-device isa-debug-exit,iobase=0xf4,iosize=4`: a write of V,
 * of any width, anywhere in 0xf4-0xf7, ends the VM with status
 * (V << 1) | 1 (the low 8 bits, as a process status goes).  It is the one
 * case where the guest, not kvmini, picks kvmini's exit status, which is
 * why it is off unless asked for: without --debug-exit the port is
 * unclaimed and a write to it is ignored (and counted, see --stats).
 * Reads return 0, as QEMU's do.
 */
#ifndef KVMINI_DEBUG_EXIT_H
#define KVMINI_DEBUG_EXIT_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

#define DEBUG_EXIT_LEN 4 /* iosize=4: ports 0xf4-0xf7 */

/* The status a write of value ends kvmini with: (V << 1) | 1, cut to the
 * 8 bits a process status has (what QEMU's exit() leaves too). */
int debug_exit_status(uint32_t value);

/* Did the guest end the run through the port?  Then *value is what it
 * wrote (for the --report reason and guest_status). */
bool debug_exit_value(uint32_t *value);

/* Claim ports PORT_QEMU_DEBUG_EXIT..+DEBUG_EXIT_LEN-1. */
void debug_exit_init(struct vm *vm);

#endif
