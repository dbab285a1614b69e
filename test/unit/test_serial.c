// SPDX-License-Identifier: MIT
// needs: devices/serial.c vmm/bus.c vmm/trace.c vmm/seccomp.c
/*
 * test_serial.c - COM1's string path (devices/serial.c, bus_access_string
 * in vmm/bus.c): a burst of bytes written to THR by one string exit
 * (rep outsb) reaches stdout whole and in order and counts one exit; the
 * byte-at-a-time path Linux's 8250 driver uses still works, one exit per
 * byte; string accesses to other registers act as that many single ones;
 * a string exit that would run past the kvm_run area is refused and
 * touches nothing.  The test captures kvmini's stdout in a temporary file.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../devices/serial.h"
#include "../../vmm/vm.h"
#include "memmap.h"
#include "tap.h"

/* serial.c raises IRQ 4 through the VM: record it instead of KVM. */
static int irq_level = -1;
int vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
	(void)vm;
	(void)gsi;
	irq_level = level;
	return 0;
}

static struct vm vm;
static FILE *cap;
static int saved_stdout;

/* Everything the UART writes from here to capture_end() lands in cap. */
static void capture_begin(void)
{
	fflush(stdout);
	cap = tmpfile();
	saved_stdout = dup(STDOUT_FILENO);
	dup2(fileno(cap), STDOUT_FILENO);
}

static size_t capture_end(char *buf, size_t size)
{
	size_t n;

	serial_flush();
	fflush(stdout);
	dup2(saved_stdout, STDOUT_FILENO);
	close(saved_stdout);
	rewind(cap);
	n = fread(buf, 1, size - 1, cap);
	buf[n] = 0;
	fclose(cap);
	return n;
}

static uint64_t serial_hits(void)
{
	struct bus_range *r = bus_find(&vm.pio, PORT_COM1, 1);

	return r ? r->hits : ~0ull;
}

static void out1(unsigned reg, uint8_t v)
{
	bus_access(&vm.pio, PORT_COM1 + reg, &v, 1, true);
}

static uint8_t in1(unsigned reg)
{
	uint8_t v = 0;

	bus_access(&vm.pio, PORT_COM1 + reg, &v, 1, false);
	return v;
}

int main(void)
{
	char got[256];
	uint8_t buf[64];
	uint64_t h;
	int devnull = open("/dev/null", O_RDONLY);

	/* The reader thread reads stdin: give it nothing to read. */
	dup2(devnull, STDIN_FILENO);
	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	serial_init(&vm);
	out1(2, 0x07); /* FCR: FIFO on, as the tiny guest does */

	/* A FIFO's worth (16 bytes) in one string exit. */
	capture_begin();
	h = serial_hits();
	memcpy(buf, "0123456789abcde\n", 16);
	bool claimed = bus_access_string(&vm.pio, PORT_COM1, buf, sizeof(buf), 1, 16, true);
	capture_end(got, sizeof(got));
	tap_ok(claimed, "string write of 16 bytes to THR is claimed");
	tap_ok(!strcmp(got, "0123456789abcde\n"), "the 16 bytes come out whole and in order");
	tap_eq(serial_hits() - h, 1, "the burst counts one exit");

	/* Several bursts, as console_write sends a long line. */
	capture_begin();
	h = serial_hits();
	memcpy(buf, "the quick brown fox jumps over the lazy dog\n", 44);
	for (unsigned off = 0; off < 44; off += 16)
		bus_access_string(&vm.pio, PORT_COM1, buf + off, sizeof(buf) - off, 1,
				  44 - off < 16 ? 44 - off : 16, true);
	capture_end(got, sizeof(got));
	tap_ok(!strcmp(got, "the quick brown fox jumps over the lazy dog\n"),
	       "a 44-byte line in three bursts comes out in order");
	tap_eq(serial_hits() - h, 3, "three bursts, three exits");

	/* Linux's 8250 driver: one outb per byte, LSR polled in between. */
	capture_begin();
	h = serial_hits();
	for (const char *p = "linux\n"; *p; p++) {
		if (!(in1(5) & 0x20))
			break;
		out1(0, (uint8_t)*p);
	}
	capture_end(got, sizeof(got));
	tap_ok(!strcmp(got, "linux\n"), "bytes written one at a time still come out in order");
	tap_eq(serial_hits() - h, 12, "one exit per byte and per LSR read");

	/* rep insb from LSR: each element is a read of LSR. */
	memset(buf, 0, sizeof(buf));
	tap_ok(bus_access_string(&vm.pio, PORT_COM1 + 5, buf, sizeof(buf), 1, 4, false),
	       "string read of LSR is claimed");
	tap_ok(buf[0] == 0x60 && buf[1] == 0x60 && buf[2] == 0x60 && buf[3] == 0x60,
	       "each element reads LSR: THRE|TEMT (0x60)");

	/* A burst to offset 0 with DLAB set loads the divisor: no output. */
	capture_begin();
	out1(3, 0x80);
	memcpy(buf, "\x01\x02\x03", 3);
	bus_access_string(&vm.pio, PORT_COM1, buf, sizeof(buf), 1, 3, true);
	uint8_t dll = in1(0);
	out1(3, 0x03);
	capture_end(got, sizeof(got));
	tap_eq(dll, 3, "with DLAB, a string write loads DLL (last byte wins)");
	tap_ok(got[0] == 0, "and prints nothing");

	/* Loopback mode (MCR bit 4): the burst does not reach stdout. */
	capture_begin();
	out1(4, 0x10);
	bus_access_string(&vm.pio, PORT_COM1, (uint8_t *)"loop", 4, 1, 4, true);
	out1(4, 0x03);
	capture_end(got, sizeof(got));
	tap_ok(got[0] == 0, "in loopback mode a burst is not transmitted");

	/* KVM's kvm_run page bounds the data: a count past it is refused. */
	capture_begin();
	h = serial_hits();
	memcpy(buf, "XXXXXXXXXXXXXXXX", 16);
	bool r1 = bus_access_string(&vm.pio, PORT_COM1, buf, 8, 1, 16, true);
	bool r2 = bus_access_string(&vm.pio, PORT_COM1, buf, 4096, 4, 0xffffffffu, true);
	bool r3 = bus_access_string(&vm.pio, PORT_COM1, buf, 4096, 1, 0, true);
	capture_end(got, sizeof(got));
	tap_ok(!r1, "16 bytes with room for 8: refused");
	tap_ok(!r2, "size x count past 2^32 with room for 4096: refused");
	tap_ok(!r3, "count 0: refused");
	tap_ok(got[0] == 0 && serial_hits() == h,
	       "a refused string exit prints and counts nothing");

	/* Word-sized string access: the UART has byte registers only. */
	memset(buf, 0, sizeof(buf));
	bus_access_string(&vm.pio, PORT_COM1 + 5, buf, sizeof(buf), 2, 2, false);
	tap_ok(buf[0] == 0xff && buf[3] == 0xff, "a word-sized string read reads all ones");

	/* A string exit to a port nothing claims is counted as unclaimed. */
	h = vm.pio.unclaimed;
	bus_access_string(&vm.pio, 0x500, buf, sizeof(buf), 1, 3, false);
	tap_eq(vm.pio.unclaimed - h, 3, "an unclaimed string read counts each element");
	return tap_done();
}
