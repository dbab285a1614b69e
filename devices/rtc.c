/* SPDX-License-Identifier: MIT */
/*
 * rtc.c - a read-only MC146818 CMOS clock (see rtc.h).
 *
 * The time registers give the host's UTC time in BCD, 24-hour mode
 * (register B = 0x02), never "update in progress" (register A bit 7 clear)
 * and always valid (register D bit 7).  Writes to the clock registers are
 * ignored: the guest cannot set the host's clock, and nothing here ticks on
 * its own.  No alarm or periodic interrupt is ever raised, which is why the
 * FADT says "no CMOS RTC" and Linux binds no rtc_cmos driver: this is only
 * for the boot-time wall clock read.  The other bytes are plain NVRAM.
 * Only the vCPU thread touches it.
 */
#include "rtc.h"

#include <string.h>

#include "../vmm/trace.h"
#include "../vmm/vm.h"

static struct rtc {
	uint8_t index;
	uint8_t nvram[128];
} rtc;

static uint8_t bcd(unsigned v)
{
	return (uint8_t)((v / 10) << 4 | (v % 10));
}

uint8_t rtc_reg(unsigned reg, time_t t, const uint8_t *nvram)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	switch (reg & 0x7f) {
	case 0x00: return bcd(tm.tm_sec > 59 ? 59 : tm.tm_sec);
	case 0x02: return bcd(tm.tm_min);
	case 0x04: return bcd(tm.tm_hour);
	case 0x06: return bcd(tm.tm_wday + 1); /* 1 = Sunday */
	case 0x07: return bcd(tm.tm_mday);
	case 0x08: return bcd(tm.tm_mon + 1);
	case 0x09: return bcd(tm.tm_year % 100);
	case 0x32: return bcd((tm.tm_year + 1900) / 100); /* century (FADT: 0) */
	case 0x01:
	case 0x03:
	case 0x05: return 0;	/* alarms */
	case 0x0a: return 0x26; /* 32.768 kHz time base, 1024 Hz rate; UIP clear */
	case 0x0b: return 0x02; /* 24-hour, BCD, no interrupts */
	case 0x0c: return 0x00; /* no interrupt flags */
	case 0x0d: return 0x80; /* VRT: the battery and the time are good */
	default: return nvram[reg & 0x7f];
	}
}

static void rtc_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct rtc *r = opaque;
	uint8_t *v = data;

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
		*v = rtc_reg(r->index, time(NULL), r->nvram);
		return;
	}
	if (r->index > 0x0d && r->index != 0x32)
		r->nvram[r->index] = *v;
}

void rtc_init(struct vm *vm)
{
	memset(&rtc, 0, sizeof(rtc));
	if (bus_register(&vm->pio, PORT_RTC_INDEX, 2, rtc_io, &rtc, "cmos-rtc") < 0)
		die(EXIT_HOST, "internal: cannot place the CMOS RTC at 0x%x", PORT_RTC_INDEX);
}
