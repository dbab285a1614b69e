/* SPDX-License-Identifier: MIT */
/*
 * bus.c - address decoding for port I/O and MMIO exits.
 *
 * A sorted array, searched by binary search: a VM has a few dozen ranges
 * at most, and a sorted array keeps the overlap check one comparison with
 * each neighbour.
 */
#include "bus.h"

#include <errno.h>
#include <string.h>

#include "trace.h"

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
}

/* Index of the first range whose base is > addr. */
static size_t bus_upper(const struct bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bus->r[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_handler fn, void *opaque,
		 const char *name)
{
	size_t i;

	if (len == 0 || base + len < base || !fn)
		return -EINVAL;
	if (bus->n == BUS_MAX_RANGES)
		return -ENOSPC;
	i = bus_upper(bus, base);
	/* Previous range must end at or before base; next must start at or
	 * after base+len.  Ends are exclusive, so adjacency is fine. */
	if (i > 0 && bus->r[i - 1].base + bus->r[i - 1].len > base)
		return -EEXIST;
	if (i < bus->n && bus->r[i].base < base + len)
		return -EEXIST;
	memmove(&bus->r[i + 1], &bus->r[i], (bus->n - i) * sizeof(bus->r[0]));
	bus->r[i] = (struct bus_range){
		.base = base, .len = len, .fn = fn, .opaque = opaque, .name = name};
	bus->n++;
	return 0;
}

int bus_unregister(struct bus *bus, uint64_t base, void *opaque)
{
	for (size_t i = 0; i < bus->n; i++) {
		if (bus->r[i].base == base && bus->r[i].opaque == opaque) {
			bus->removed_hits += bus->r[i].hits;
			memmove(&bus->r[i], &bus->r[i + 1], (bus->n - i - 1) * sizeof(bus->r[0]));
			bus->n--;
			return 0;
		}
	}
	return -ENOENT;
}

struct bus_range *bus_find(struct bus *bus, uint64_t addr, uint32_t len)
{
	size_t i = bus_upper(bus, addr);
	struct bus_range *r;

	if (i == 0 || len == 0 || addr + len < addr)
		return NULL;
	r = &bus->r[i - 1];
	if (addr - r->base >= r->len || len > r->len - (addr - r->base))
		return NULL;
	return r;
}

bool bus_access(struct bus *bus, uint64_t addr, void *data, uint32_t len, bool is_write)
{
	struct bus_range *r = bus_find(bus, addr, len);

	if (!r) {
		bus->unclaimed++;
		if (!is_write)
			memset(data, 0xff, len);
		trace(TRACE_IO, "%s %s 0x%llx len %u: unclaimed%s", bus->name,
		      is_write ? "write" : "read", (unsigned long long)addr, len,
		      is_write ? ", dropped" : ", reads all ones");
		return false;
	}
	r->hits++;
	/* Copy what the trace needs first: a handler may move ranges (a
	 * config write that moves a BAR), and r then points at another. */
	const char *name = r->name;
	uint64_t off = addr - r->base;
	r->fn(r->opaque, off, data, len, is_write);
	if (trace_mask & TRACE_IO) {
		uint64_t v = 0;

		memcpy(&v, data, len > 8 ? 8 : len);
		trace_printf(TRACE_IO, "%s %s 0x%llx len %u %s 0x%llx -> %s+0x%llx", bus->name,
			     is_write ? "write" : "read", (unsigned long long)addr, len,
			     is_write ? "value" : "got", (unsigned long long)v, name,
			     (unsigned long long)off);
	}
	return true;
}

int bus_set_string(struct bus *bus, uint64_t base, void *opaque, bus_string_handler sfn)
{
	for (size_t i = 0; i < bus->n; i++) {
		if (bus->r[i].base == base && bus->r[i].opaque == opaque) {
			bus->r[i].sfn = sfn;
			return 0;
		}
	}
	return -ENOENT;
}

bool bus_access_string(struct bus *bus, uint64_t addr, uint8_t *data, size_t avail, uint32_t size,
		       uint32_t count, bool is_write)
{
	struct bus_range *r;

	/* size is 1, 2 or 4 for port I/O; count is what KVM says fits in
	 * its page.  Check both rather than trust them: 64-bit product. */
	if (size == 0 || size > 8 || count == 0 || (uint64_t)size * count > avail)
		return false;
	r = bus_find(bus, addr, size);
	if (!r || !r->sfn) {
		for (uint32_t i = 0; i < count; i++)
			bus_access(bus, addr, data + (size_t)i * size, size, is_write);
		return true;
	}
	r->hits++;
	r->sfn(r->opaque, addr - r->base, data, size, count, is_write);
	trace(TRACE_IO, "%s %s 0x%llx len %u x %u (string) -> %s+0x%llx", bus->name,
	      is_write ? "write" : "read", (unsigned long long)addr, size, count, r->name,
	      (unsigned long long)(addr - r->base));
	return true;
}
