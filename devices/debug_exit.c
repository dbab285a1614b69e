/* SPDX-License-Identifier: MIT */
/*
 * debug_exit.c - the isa-debug-exit port (see debug_exit.h).
 *
 * The value is what the access carries: a byte write of 1 is V = 1, a
 * dword write of 0x102 is V = 0x102 (status 0x205, so the shell sees 5).
 * Only the vCPU thread touches it.
 */
#include "debug_exit.h"

#include <stdio.h>
#include <string.h>

#include "memmap.h"
#include "serial.h"
#include "../vmm/trace.h"
#include "../vmm/vm.h"

/* What the guest wrote, once it did (under the device lock, like the
 * write itself; read after every vCPU has stopped). */
static bool written;
static uint32_t written_value;

bool debug_exit_value(uint32_t *value)
{
	*value = written_value;
	return written;
}

int debug_exit_status(uint32_t value)
{
	return (int)((value << 1 | 1) & 0xff);
}

static void debug_exit_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct vm *vm = opaque;
	uint32_t v = 0;
	int st;

	(void)off;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	memcpy(&v, data, len > 4 ? 4 : len);
	st = debug_exit_status(v);
	if (!written) {
		written = true;
		written_value = v;
	}
	serial_flush();
	fflush(stdout);
	fprintf(stderr, "kvmini: guest wrote 0x%x to isa-debug-exit (--debug-exit): status %d\n",
		v, st);
	vm->exit_status = st;
	vm->done = true; /* vcpu_run() returns after this exit */
}

void debug_exit_init(struct vm *vm)
{
	if (bus_register(&vm->pio, PORT_QEMU_DEBUG_EXIT, DEBUG_EXIT_LEN, debug_exit_io, vm,
			 "isa-debug-exit") < 0)
		die(EXIT_HOST, "internal: cannot place isa-debug-exit at 0x%x",
		    PORT_QEMU_DEBUG_EXIT);
}
