/* SPDX-License-Identifier: MIT */
/*
 * bus.h - one address-decoding table per address space (port I/O, MMIO).
 *
 * A device registers a range [base, base+len) with a handler.  Ranges never
 * overlap: bus_register() refuses an overlapping or empty one.  A handler
 * is called with the offset into its range, never the absolute address, so
 * a device does not care where the guest (or a BAR) put it.
 *
 * An access that no range claims fully (nothing there, or it straddles the
 * end of a range) is counted in bus->unclaimed and traced; reads of it
 * return all ones, as on real hardware, and writes are dropped.
 *
 * Only vCPU threads touch a bus, each with the VM's device lock held
 * (vm_pio/vm_mmio, vmm/dispatch.c), handlers included: a handler may
 * register and unregister ranges (a BAR move) without further locking.
 */
#ifndef KVMINI_BUS_H
#define KVMINI_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* data holds len bytes (1, 2, 4 or 8; MMIO may be any length up to 8),
 * little-endian, as KVM gives them.  For a read the handler fills data. */
typedef void (*bus_handler)(void *opaque, uint64_t offset, void *data, uint32_t len,
			    bool is_write);

/* A string access (rep ins/outs): count elements of size bytes each, one
 * after another in data, all to the same offset, handled in one call.
 * Optional: a range without one gets count calls of its bus_handler. */
typedef void (*bus_string_handler)(void *opaque, uint64_t offset, uint8_t *data, uint32_t size,
				   uint32_t count, bool is_write);

struct bus_range {
	uint64_t base, len;
	bus_handler fn;
	bus_string_handler sfn; /* NULL: strings go element by element to fn */
	void *opaque;
	const char *name; /* for --stats and --trace; must outlive the range */
	uint64_t hits;
};

#define BUS_MAX_RANGES 64

struct bus {
	const char *name; /* "pio" or "mmio" */
	struct bus_range r[BUS_MAX_RANGES];
	size_t n;             /* kept sorted by base */
	uint64_t unclaimed;   /* accesses nothing claimed */
	uint64_t removed_hits; /* hits of ranges since unregistered, for --stats */
};

void bus_init(struct bus *bus, const char *name);

/* 0, or -EINVAL (len 0, or base+len wraps), -EEXIST (overlap), -ENOSPC. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_handler fn, void *opaque,
		 const char *name);

/* Remove the range that starts at base and belongs to opaque: 0 or -ENOENT. */
int bus_unregister(struct bus *bus, uint64_t base, void *opaque);

/* Find the range holding [addr, addr+len), or NULL. */
struct bus_range *bus_find(struct bus *bus, uint64_t addr, uint32_t len);

/* Dispatch one access.  Returns true when a range claimed it. */
bool bus_access(struct bus *bus, uint64_t addr, void *data, uint32_t len, bool is_write);

/* Give the range registered at base for opaque a string handler: 0 or -ENOENT. */
int bus_set_string(struct bus *bus, uint64_t base, void *opaque, bus_string_handler sfn);

/* Dispatch one string exit: count elements of size bytes at data, which
 * has room for avail bytes.  size * count must fit in avail (else nothing
 * is done and false returned: the caller stops the VM).  The range's hit
 * count goes up by one: one exit.  Returns true when a range claimed it. */
bool bus_access_string(struct bus *bus, uint64_t addr, uint8_t *data, size_t avail, uint32_t size,
		       uint32_t count, bool is_write);

#endif
