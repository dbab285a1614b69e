// SPDX-License-Identifier: MIT
// needs: vmm/bus.c vmm/trace.c
/*
 * test_bus.c - the address-decoding table (vmm/bus.c) against its
 * contract in vmm/bus.h: empty, wrapping and overlapping ranges are
 * refused, adjacent ones accepted; handlers see offsets, never absolute
 * addresses; an access nothing claims fully is counted, reads all ones
 * and reaches no handler; unregistering keeps the hit count for --stats.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../vmm/bus.h"
#include "../../vmm/trace.h"
#include "tap.h"

/* What a handler saw last, per fake device. */
struct dev {
	unsigned calls;
	uint64_t offset;
	uint32_t len;
	bool is_write;
	uint64_t wrote;
	uint64_t read_value; /* what a read returns */
};

static void dev_io(void *opaque, uint64_t offset, void *data, uint32_t len, bool is_write)
{
	struct dev *d = opaque;

	d->calls++;
	d->offset = offset;
	d->len = len;
	d->is_write = is_write;
	if (is_write) {
		d->wrote = 0;
		memcpy(&d->wrote, data, len > 8 ? 8 : len);
	} else {
		memcpy(data, &d->read_value, len > 8 ? 8 : len);
	}
}

static struct bus bus;

static int sorted(const struct bus *b)
{
	for (size_t i = 1; i < b->n; i++)
		if (b->r[i - 1].base >= b->r[i].base)
			return 0;
	return 1;
}

static void test_register(void)
{
	struct dev a = {0}, b = {0}, c = {0}, x = {0};

	bus_init(&bus, "pio");
	tap_ok(bus.n == 0 && bus.unclaimed == 0 && !strcmp(bus.name, "pio"),
	       "bus_init: empty table with its name");

	tap_eq(bus_register(&bus, 0x100, 0, dev_io, &x, "zero"), -EINVAL, "zero length refused");
	tap_eq(bus_register(&bus, UINT64_MAX, 2, dev_io, &x, "wrap"), -EINVAL,
	       "range that wraps past 2^64 refused");
	tap_eq(bus_register(&bus, UINT64_MAX - 0xf, 0x100, dev_io, &x, "wrap2"), -EINVAL,
	       "long range that wraps refused");

	tap_eq(bus_register(&bus, 0x100, 8, dev_io, &a, "a"), 0, "a [0x100,0x108) registered");
	tap_eq(bus_register(&bus, 0x108, 8, dev_io, &b, "b"), 0,
	       "b [0x108,0x110) adjacent above a: accepted");
	tap_eq(bus_register(&bus, 0xf8, 8, dev_io, &c, "c"), 0,
	       "c [0xf8,0x100) adjacent below a: accepted");

	tap_eq(bus_register(&bus, 0x100, 8, dev_io, &x, "same"), -EEXIST, "same range twice refused");
	tap_eq(bus_register(&bus, 0x104, 8, dev_io, &x, "ab"), -EEXIST,
	       "range across a and b refused");
	tap_eq(bus_register(&bus, 0x102, 1, dev_io, &x, "in"), -EEXIST, "range inside a refused");
	tap_eq(bus_register(&bus, 0x0, 0x1000, dev_io, &x, "all"), -EEXIST,
	       "range covering everything refused");
	tap_eq(bus_register(&bus, 0xf0, 0x9, dev_io, &x, "tail"), -EEXIST,
	       "range ending one byte into c refused");
	tap_eq(bus_register(&bus, 0x10f, 4, dev_io, &x, "head"), -EEXIST,
	       "range starting on b's last byte refused");
	tap_eq(bus.n, 3, "refusals left the table unchanged (3 ranges)");
	tap_ok(sorted(&bus), "table is kept sorted by base");
}

static void test_access(void)
{
	struct dev *a = bus.r[1].opaque, *b = bus.r[2].opaque;
	uint32_t v32;
	uint64_t v64;
	uint8_t buf[8];

	v32 = 0x12345678;
	tap_ok(bus_access(&bus, 0x104, &v32, 4, true), "write inside a is claimed");
	tap_ok(a->calls == 1 && a->is_write && a->len == 4 && a->wrote == 0x12345678,
	       "a's handler got the write, its length and data");
	tap_eq(a->offset, 4, "a's handler got the offset 4, not the address 0x104");

	b->read_value = 0xaabbccdd;
	v32 = 0;
	tap_ok(bus_access(&bus, 0x108, &v32, 2, false), "read at b's base is claimed");
	tap_eq(b->offset, 0, "b's handler got offset 0");
	tap_eq(v32, 0xccdd, "a 2-byte read returns the handler's 2 bytes");
	tap_eq(bus.r[1].hits, 1, "a counted one hit");
	tap_eq(bus.r[2].hits, 1, "b counted one hit");

	/* Nothing there. */
	v32 = 0;
	tap_ok(!bus_access(&bus, 0x200, &v32, 4, false), "read of an empty port is unclaimed");
	tap_eq(v32, 0xffffffff, "and returns all ones");
	v32 = 0;
	tap_ok(!bus_access(&bus, 0x200, &v32, 4, true), "write to an empty port is unclaimed");
	tap_eq(bus.unclaimed, 2, "both unclaimed accesses were counted");

	/* Straddling: no device gets a partial access. */
	a->calls = b->calls = 0;
	v32 = 0;
	tap_ok(!bus_access(&bus, 0x10e, &v32, 4, false), "read straddling b's end is unclaimed");
	tap_eq(v32, 0xffffffff, "and returns all ones");
	tap_ok(!bus_access(&bus, 0x106, &v32, 4, true), "write across a and b is unclaimed");
	tap_ok(a->calls == 0 && b->calls == 0, "no handler saw the straddling accesses");
	tap_eq(bus.unclaimed, 4, "they were counted");

	/* Edges of bus_find. */
	tap_ok(bus_find(&bus, 0x10f, 1) == &bus.r[2], "last byte of b is found");
	tap_ok(bus_find(&bus, 0x110, 1) == NULL, "first byte after b is not");
	tap_ok(bus_find(&bus, 0x100, 0) == NULL, "a zero-length lookup finds nothing");
	tap_ok(bus_find(&bus, 0x50, 1) == NULL, "below every range finds nothing");
	tap_ok(bus_find(&bus, UINT64_MAX - 1, 4) == NULL, "lookup that wraps finds nothing");

	/* An 8-byte MMIO-style access. */
	a->read_value = 0x1122334455667788ULL;
	memset(buf, 0, sizeof(buf));
	tap_ok(bus_access(&bus, 0x100, buf, 8, false), "8-byte read covering a is claimed");
	memcpy(&v64, buf, 8);
	tap_eq(v64, 0x1122334455667788ULL, "and returns all 8 bytes");
}

static void test_high_mmio(void)
{
	struct bus mmio;
	struct dev d = {0};
	uint32_t v = 7;

	bus_init(&mmio, "mmio");
	tap_eq(bus_register(&mmio, 0x100000000ULL, 0x1000, dev_io, &d, "hi"), 0,
	       "MMIO range above 4 GiB registered");
	tap_ok(bus_access(&mmio, 0x100000ffcULL, &v, 4, true) && d.offset == 0xffc,
	       "access at its last dword gets offset 0xffc");
	tap_ok(!bus_access(&mmio, 0xffffffffULL, &v, 4, true), "access just below it is unclaimed");
}

static void test_unregister(void)
{
	struct dev *a = bus.r[1].opaque, other = {0};
	uint64_t a_hits = bus.r[1].hits;
	uint32_t v = 0;

	tap_eq(bus_unregister(&bus, 0x100, &other), -ENOENT,
	       "unregister with the wrong owner is refused");
	tap_eq(bus_unregister(&bus, 0x101, a), -ENOENT, "unregister of a non-base address is refused");
	tap_eq(bus_unregister(&bus, 0x100, a), 0, "a unregistered");
	tap_eq(bus.n, 2, "two ranges left");
	tap_ok(sorted(&bus) && bus.r[0].base == 0xf8 && bus.r[1].base == 0x108,
	       "the rest stay sorted");
	tap_eq(bus.removed_hits, a_hits, "a's hits kept in removed_hits");
	a->calls = 0;
	tap_ok(!bus_access(&bus, 0x100, &v, 4, false) && a->calls == 0,
	       "a's old range is now unclaimed");
	tap_eq(bus_unregister(&bus, 0x100, a), -ENOENT, "a second unregister is refused");
	tap_eq(bus_register(&bus, 0x100, 8, dev_io, a, "a"), 0, "the freed range can be taken again");
}

static void test_full(void)
{
	struct bus full;
	struct dev d = {0};
	int ok = 1;

	bus_init(&full, "mmio");
	/* Registered from the top down, so every insert shifts the array. */
	for (unsigned i = BUS_MAX_RANGES; i > 0; i--)
		ok &= bus_register(&full, 0x1000 * i, 0x10, dev_io, &d, "r") == 0;
	tap_ok(ok, "%d ranges registered", BUS_MAX_RANGES);
	tap_ok(sorted(&full), "kept sorted when inserted in reverse");
	tap_eq(bus_register(&full, 0x10, 0x10, dev_io, &d, "more"), -ENOSPC,
	       "one more is refused with -ENOSPC");
	tap_ok(bus_find(&full, 0x1000 * 17 + 3, 1) == &full.r[16], "lookup in a full table");
}

/* A handler that moves ranges while it runs, as a config write that moves
 * a BAR does (the ECAM handler re-registers the BAR): here it registers a
 * range below its own, which shifts the sorted table under it. */
static struct bus mover_bus;
static struct dev moved_dev;

static void mover_io(void *opaque, uint64_t offset, void *data, uint32_t len, bool is_write)
{
	dev_io(opaque, offset, data, len, is_write);
	bus_register(&mover_bus, 0x1000, 0x100, dev_io, &moved_dev, "newcomer");
}

static void test_trace_names_handler(void)
{
	static struct dev mover;
	char buf[1024] = {0};
	FILE *f = tmpfile();
	int saved = dup(2);
	uint32_t v = 7;

	if (!f || saved < 0) {
		tap_ok(1, "# SKIP no temp file for the trace");
		return;
	}
	bus_init(&mover_bus, "mmio");
	bus_register(&mover_bus, 0x8000, 0x100, mover_io, &mover, "mover");
	fflush(stderr);
	dup2(fileno(f), 2);
	trace_mask = TRACE_IO;
	bus_access(&mover_bus, 0x8010, &v, 4, true);
	trace_mask = 0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	tap_ok(mover.calls == 1, "the moving handler ran once");
	tap_ok(strstr(buf, "-> mover+0x10") != NULL,
	       "--trace io names the range that handled the access, though it moved ranges");
	tap_diag("%s", buf);
}

int main(void)
{
	test_register();
	test_access();
	test_high_mmio();
	test_unregister();
	test_full();
	test_trace_names_handler();
	return tap_done();
}
