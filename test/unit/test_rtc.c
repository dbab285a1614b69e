// SPDX-License-Identifier: MIT
// needs: devices/rtc.c vmm/trace.c
/*
 * test_rtc.c - the CMOS clock registers (devices/rtc.c): BCD time from a
 * known instant, the status registers an OS polls, NVRAM pass-through.
 */
#include <string.h>

#include "tap.h"
#include "../../devices/rtc.h"
#include "../../vmm/vm.h"

int bus_register(struct bus *bus, uint64_t base, uint64_t len, bus_handler fn, void *opaque,
		 const char *name)
{
	(void)bus, (void)base, (void)len, (void)fn, (void)opaque, (void)name;
	return 0;
}

int main(void)
{
	const time_t t = 1795450879; /* 2026-11-23 16:21:19 UTC, a Monday */
	uint8_t nv[128];

	memset(nv, 0x5a, sizeof(nv));
	tap_eq(rtc_reg(0x00, t, nv), 0x19, "seconds in BCD");
	tap_eq(rtc_reg(0x02, t, nv), 0x21, "minutes");
	tap_eq(rtc_reg(0x04, t, nv), 0x16, "hours, 24-hour mode");
	tap_eq(rtc_reg(0x06, t, nv), 0x02, "day of week (Sunday = 1)");
	tap_eq(rtc_reg(0x07, t, nv), 0x23, "day of month");
	tap_eq(rtc_reg(0x08, t, nv), 0x11, "month");
	tap_eq(rtc_reg(0x09, t, nv), 0x26, "year");
	tap_eq(rtc_reg(0x32, t, nv), 0x20, "century");
	tap_eq(rtc_reg(0x0a, t, nv) & 0x80, 0, "register A: never update-in-progress");
	tap_eq(rtc_reg(0x0b, t, nv), 0x02, "register B: 24-hour, BCD, no interrupts");
	tap_eq(rtc_reg(0x0d, t, nv), 0x80, "register D: valid RAM and time");
	tap_eq(rtc_reg(0x0d | 0x80, t, nv), 0x80, "the NMI-mask bit of the index is ignored");
	tap_eq(rtc_reg(0x10, t, nv), 0x5a, "other bytes are NVRAM");
	return tap_done();
}
