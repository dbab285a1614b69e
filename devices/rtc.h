/* SPDX-License-Identifier: MIT */
/*
 * rtc.h - the CMOS real-time clock at ports 0x70/0x71 (MC146818), just
 * enough for an OS to read the date once at boot.
 *
 * Without it Linux reads 0xff from the RTC, takes "update in progress" for
 * ever set and polls it thousands of times (about half of a Debian
 * kernel's VM exits during boot) before giving up on the wall clock.
 */
#ifndef KVMINI_RTC_H
#define KVMINI_RTC_H

#include "memmap.h"

#include <stdint.h>
#include <time.h>

struct vm;


/* The value of CMOS register reg at time t (UTC), with the NVRAM bytes
 * nvram[128] for what is not a clock register.  Pure, for the tests. */
uint8_t rtc_reg(unsigned reg, time_t t, const uint8_t *nvram);

void rtc_init(struct vm *vm);

#endif
