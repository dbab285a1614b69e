// SPDX-License-Identifier: MIT
// needs: devices/debug_exit.c vmm/bus.c vmm/trace.c
/*
 * test_debug_exit.c - QEMU's isa-debug-exit as --debug-exit offers it
 * (devices/debug_exit.c), reached through the port bus as a guest reaches
 * it: a write of V of any width anywhere in 0xf4-0xf7 ends the run with
 * status (V << 1) | 1 (8 bits), reads give 0; without --debug-exit nothing
 * claims the port and a write changes nothing.
 */
#include <string.h>

#include "memmap.h"
#include "../../devices/debug_exit.h"
#include "../../vmm/trace.h"
#include "../../vmm/vm.h"
#include "tap.h"

void serial_flush(void)
{
}

static struct vm vm;

static void fresh(bool with_device)
{
	memset(&vm, 0, sizeof(vm));
	bus_init(&vm.pio, "pio");
	if (with_device)
		debug_exit_init(&vm);
}

/* Write v with len bytes to port, on a fresh machine with the device. */
static void write_port(unsigned port, uint32_t v, uint32_t len)
{
	fresh(true);
	bus_access(&vm.pio, port, &v, len, true);
}

int main(void)
{
	uint32_t v;

	tap_eq(debug_exit_status(0), 1, "V = 0 gives status 1 (the test kernels' pass)");
	tap_eq(debug_exit_status(1), 3, "V = 1 gives status 3");
	tap_eq(debug_exit_status(0x7f), 0xff, "V = 0x7f gives 255");
	tap_eq(debug_exit_status(0x80), 1, "V = 0x80 gives 1: (V << 1) | 1 cut to 8 bits, as QEMU's exit()");
	tap_eq(debug_exit_status(0xffffffffu), 0xff, "V = 0xffffffff gives 255");

	tap_ok(!debug_exit_value(&v), "no value before the guest writes one");
	write_port(PORT_QEMU_DEBUG_EXIT, 0, 1);
	tap_ok(vm.done && vm.exit_status == 1, "a byte write of 0 to 0xf4 ends the run with status 1");
	tap_ok(debug_exit_value(&v) && v == 0, "the value written is kept for --report's reason");
	write_port(PORT_QEMU_DEBUG_EXIT, 2, 2);
	tap_ok(vm.done && vm.exit_status == 5, "a word write of 2 to 0xf4 ends it with status 5");
	write_port(PORT_QEMU_DEBUG_EXIT, 0x103, 4);
	tap_ok(vm.done && vm.exit_status == 7, "a dword write of 0x103 ends it with status 7");
	write_port(PORT_QEMU_DEBUG_EXIT + 3, 1, 1);
	tap_ok(vm.done && vm.exit_status == 3, "a byte write to 0xf7 (iosize=4) ends it too");

	fresh(true);
	v = 0xdeadbeef;
	tap_ok(bus_access(&vm.pio, PORT_QEMU_DEBUG_EXIT, &v, 4, false) && v == 0 && !vm.done,
	       "a read of 0xf4 gives 0 and the run goes on");
	v = 1;
	tap_ok(!bus_access(&vm.pio, PORT_QEMU_DEBUG_EXIT + 4, &v, 1, true) && !vm.done,
	       "0xf8 is not part of the device");

	fresh(false);
	v = 1;
	tap_ok(!bus_access(&vm.pio, PORT_QEMU_DEBUG_EXIT, &v, 1, true) && !vm.done &&
		       vm.exit_status == 0 && vm.pio.unclaimed == 1,
	       "without --debug-exit a write to 0xf4 is unclaimed and ignored");
	return tap_done();
}
