/* SPDX-License-Identifier: MIT */
/*
 * rtc.c - an MC146818 CMOS clock (see rtc.h).
 *
 * The time registers give the host's UTC time in BCD, 24-hour mode; the
 * guest cannot set the host's clock, so writes to them are ignored.
 * Register A's UIP bit follows the host clock: set in the last RTC_UIP_NS
 * of each second, as a real part sets it before and during its update, so
 * a guest that waits for the update to start and end (the usual way to
 * time an alarm) sees both.  Register B keeps AIE (the alarm interrupt
 * enable) and reads 24-hour BCD otherwise; the alarm bytes (1, 3, 5) are
 * stored.  No interrupt is ever raised on IRQ 8: the alarm is a wake
 * source for ACPI S3 only (devices/pm.c asks rtc_wake_armed() when the
 * guest sleeps, and rtc_alarm_fired() when it wakes), which is why the
 * FADT still says "no CMOS RTC" and Linux binds no rtc_cmos driver.
 * Register C (flags) reads what the last wake set, and reading clears it.
 * The other bytes are plain NVRAM.  Only the vCPU thread touches it.
 */
#include "rtc.h"

#include <string.h>

#include "../vmm/trace.h"
#include "../vmm/vm.h"

static struct rtc {
	uint8_t index;
	uint8_t regs[128];
} rtc;

static uint8_t bcd(unsigned v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

uint8_t rtc_reg(unsigned reg, const struct timespec *t, const uint8_t *regs)
{
	struct tm tm;

	gmtime_r(&t->tv_sec, &tm);
	switch (reg & 0x7f) {
	case 0x00: return bcd(tm.tm_sec > 59 ? 59 : tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1); /* 1 = Sunday */
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case 0x32: return bcd((tm.tm_year + 1900) / 100); /* century (FADT: 0) */
	case RTC_REG_A:	/* 32.768 kHz time base, 1024 Hz rate */
		return 0x26 | (t->tv_nsec >= 1000000000L - RTC_UIP_NS ? RTC_A_UIP : 0);
	case RTC_REG_B: return RTC_B_24H | (regs[RTC_REG_B] & RTC_B_AIE);
	case RTC_REG_D: return 0x80; /* VRT: the battery and the time are good */
	default: return regs[reg & 0x7f]; /* alarms, register C, NVRAM */
	}
}

/* Does alarm byte a match the clock's value v (BCD)? */
static bool alarm_match(uint8_t a, unsigned v)
{
	return (a & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE || a == bcd(v);
}

bool rtc_alarm_next(const uint8_t *regs, time_t now, time_t *when)
{
	/* At most a day ahead: hours, minutes and seconds repeat daily. */
	for (time_t t = now + 1; t <= now + 86400; t++) {
		struct tm tm;

		gmtime_r(&t, &tm);
		if (alarm_match(regs[RTC_SECONDS_ALARM], tm.tm_sec > 59 ? 59 : tm.tm_sec) &&
		    alarm_match(regs[RTC_MINUTES_ALARM], tm.tm_min) &&
		    alarm_match(regs[RTC_HOURS_ALARM], tm.tm_hour)) {
			*when = t;
			return true;
		}
	}
	return false;
}

bool rtc_wake_armed(time_t now, time_t *when)
{
	return (rtc.regs[RTC_REG_B] & RTC_B_AIE) && rtc_alarm_next(rtc.regs, now, when);
}

void rtc_alarm_fired(void)
{
	rtc.regs[RTC_REG_C] = RTC_C_IRQF | RTC_C_AF;
}

static void rtc_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct rtc *r = opaque;
	uint8_t *v = data;
	struct timespec ts;

	if (len != 1) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (off == 0) {
		/* Bit 7 of the index port masks NMIs on a PC: nothing to do. */
		if (is_write)
			r->index = *v & 0x7f;
		else
			*v = r->index;
		return;
	}
	if (!is_write) {
		clock_gettime(CLOCK_REALTIME, &ts);
		*v = rtc_reg(r->index, &ts, r->regs);
		if (r->index == RTC_REG_C)
			r->regs[RTC_REG_C] = 0; /* the flags clear when read */
		return;
	}
	switch (r->index) {
	case RTC_SECONDS_ALARM:
	case RTC_MINUTES_ALARM:
	case RTC_HOURS_ALARM: r->regs[r->index] = *v; break;
	case RTC_REG_B: r->regs[RTC_REG_B] = *v & RTC_B_AIE; break;
	case RTC_REG_A:
	case RTC_REG_C:
	case RTC_REG_D:
	case 0x32: break; /* read-only here */
	default:
		if (r->index > RTC_REG_D)
			r->regs[r->index] = *v; /* NVRAM; below 0x0a: the clock */
	}
}

void rtc_init(struct vm *vm)
{
	memset(&rtc, 0, sizeof(rtc));
	if (bus_register(&vm->pio, PORT_RTC_INDEX, 2, rtc_io, &rtc, "cmos-rtc") < 0)
		die(EXIT_HOST, "internal: cannot place the CMOS RTC at 0x%x", PORT_RTC_INDEX);
}
