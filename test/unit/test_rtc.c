// SPDX-License-Identifier: MIT
// needs: devices/rtc.c vmm/trace.c
/*
 * test_rtc.c - the CMOS clock registers (devices/rtc.c): BCD time from a
 * known instant, the status registers an OS polls (UIP in the last 2.2 ms
 * of a second), NVRAM pass-through, and the alarm that wakes a guest from
 * S3: the next second that matches, "don't care" bytes included.
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
	const struct timespec t = {1795450879, 0}; /* 2026-11-23 16:21:19 UTC, a Monday */
	const struct timespec late = {1795450879, 999000000}, early = {1795450879, 997000000};
	uint8_t nv[128];
	time_t when = 0;

	memset(nv, 0x5a, sizeof(nv));
	tap_eq(rtc_reg(0x00, &t, nv), 0x19, "seconds in BCD");
	tap_eq(rtc_reg(0x02, &t, nv), 0x21, "minutes");
	tap_eq(rtc_reg(0x04, &t, nv), 0x16, "hours, 24-hour mode");
	tap_eq(rtc_reg(0x06, &t, nv), 0x02, "day of week (Sunday = 1)");
	tap_eq(rtc_reg(0x07, &t, nv), 0x23, "day of month");
	tap_eq(rtc_reg(0x08, &t, nv), 0x11, "month");
	tap_eq(rtc_reg(0x09, &t, nv), 0x26, "year");
	tap_eq(rtc_reg(0x32, &t, nv), 0x20, "century");
	tap_eq(rtc_reg(RTC_REG_A, &t, nv) & RTC_A_UIP, 0,
	       "register A: no update in progress at the start of a second");
	tap_eq(rtc_reg(RTC_REG_A, &early, nv) & RTC_A_UIP, 0, "... nor 3 ms before the next");
	tap_eq(rtc_reg(RTC_REG_A, &late, nv) & RTC_A_UIP, RTC_A_UIP,
	       "... but 1 ms before it, as before and during a real part's update");
	tap_eq(rtc_reg(RTC_REG_B, &t, nv), RTC_B_24H | (0x5a & RTC_B_AIE),
	       "register B: 24-hour BCD, with the stored AIE bit only");
	tap_eq(rtc_reg(RTC_REG_D, &t, nv), 0x80, "register D: valid RAM and time");
	tap_eq(rtc_reg(RTC_REG_D | 0x80, &t, nv), 0x80, "the NMI-mask bit of the index is ignored");
	tap_eq(rtc_reg(0x10, &t, nv), 0x5a, "other bytes are NVRAM");

	nv[RTC_SECONDS_ALARM] = nv[RTC_MINUTES_ALARM] = nv[RTC_HOURS_ALARM] = RTC_ALARM_DONT_CARE;
	tap_ok(rtc_alarm_next(nv, t.tv_sec, &when) && when == t.tv_sec + 1,
	       "alarm with every byte \"don't care\": the next second");
	nv[RTC_SECONDS_ALARM] = 0x30;
	tap_ok(rtc_alarm_next(nv, t.tv_sec, &when) && when == t.tv_sec + 11,
	       "alarm at second 30 of any minute: 11 s after 16:21:19");
	nv[RTC_SECONDS_ALARM] = 0x00, nv[RTC_MINUTES_ALARM] = 0x00, nv[RTC_HOURS_ALARM] = 0x16;
	tap_ok(rtc_alarm_next(nv, t.tv_sec, &when) && when == t.tv_sec - 21 * 60 - 19 + 86400,
	       "alarm at 16:00:00, already past: tomorrow");
	nv[RTC_HOURS_ALARM] = 0x25;
	tap_ok(!rtc_alarm_next(nv, t.tv_sec, &when), "an alarm hour of 25 never matches");
	return tap_done();
}
