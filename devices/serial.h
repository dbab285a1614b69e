/* SPDX-License-Identifier: MIT */
/* serial.h - COM1, a 16550A whose output is kvmini's stdout. */
#ifndef KVMINI_SERIAL_H
#define KVMINI_SERIAL_H

struct vm;

void serial_init(struct vm *vm);
/* Flush what the guest wrote without a final newline (at exit). */
void serial_flush(void);

#endif
