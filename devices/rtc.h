/* SPDX-License-Identifier: MIT */
/*
 * rtc.h - the CMOS real-time clock at ports 0x70/0x71 (MC146818): the
 * date an OS reads at boot, the update cycle it waits for, and the alarm
 * that wakes a guest from ACPI S3 (devices/pm.c).
 *
 * Without it Linux reads 0xff from the RTC, takes "update in progress" for
 * ever set and polls it thousands of times (about half of a Debian
 * kernel's VM exits during boot) before giving up on the wall clock.
 */
#ifndef KVMINI_RTC_H
#define KVMINI_RTC_H

#include "memmap.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct vm;

#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS_ALARM	  0x05
#define RTC_REG_A	  0x0a
#define RTC_REG_B	  0x0b
#define RTC_REG_C	  0x0c
#define RTC_REG_D	  0x0d
#define RTC_A_UIP	  0x80 /* update in progress */
#define RTC_B_AIE	  0x20 /* alarm interrupt enable: the S3 wake source */
#define RTC_B_24H	  0x02
#define RTC_C_IRQF	  0x80
#define RTC_C_AF	  0x20
#define RTC_ALARM_DONT_CARE 0xc0 /* an alarm byte with both top bits set */
/* UIP reads 1 for the 244 us before each second's update and the update
 * cycle itself (at most 1984 us): the window a guest polls for. */
#define RTC_UIP_NS 2228000L

/* The value of CMOS register reg at time t (UTC, nanoseconds for UIP),
 * with the stored bytes regs[128] (NVRAM, the alarm bytes, register B's
 * AIE bit, register C's flags) for what is not computed.  Pure. */
uint8_t rtc_reg(unsigned reg, const struct timespec *t, const uint8_t *regs);

/* The first whole second after now when the alarm bytes in regs[] match
 * the clock (hours, minutes, seconds in BCD; a byte >= 0xc0 matches any
 * value), within a day.  false when no second matches (an alarm byte out
 * of range).  Pure. */
bool rtc_alarm_next(const uint8_t *regs, time_t now, time_t *when);

/* Is the alarm armed as a wake source (register B's AIE)?  When it is,
 * *when is the next second it fires (rtc_alarm_next). */
bool rtc_wake_armed(time_t now, time_t *when);
/* The alarm fired (the S3 wake): register C reads AF | IRQF once. */
void rtc_alarm_fired(void);

void rtc_init(struct vm *vm);

#endif
