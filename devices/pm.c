/* SPDX-License-Identifier: MIT */
/*
 * pm.c - ACPI fixed hardware on I/O ports (see pm.h): the PM1a event and
 * control registers, the PM timer and the reset register, plus the
 * keyboard controller's reset command.
 *
 * Only the vCPU thread touches this device.  kvmini never raises the SCI.
 * PM1_STS holds WAK_STS and RTC_STS after a wake from S3 (write 1 to
 * clear); PM1_EN's RTC_EN arms the RTC alarm as the S3 wake source, the
 * other enable bits are only stored.
 *
 * ACPI S3 (suspend to RAM, SLP_TYP PM_SLP_TYP_S3 with SLP_EN): RAM stays,
 * the CPU's context is lost.  With the RTC alarm armed (AIE in RTC
 * register B and RTC_EN here) kvmini waits, on the vCPU thread, for the
 * alarm's second (Ctrl-C and the other stops still end the wait), sets
 * WAK_STS and RTC_STS and the RTC's AF flag, and restarts the vCPU in real
 * mode at the FACS waking vector (vcpu.c).  Without an armed alarm nothing
 * could ever wake the guest, and without a waking vector it could not
 * resume: kvmini stops with one line and EXIT_GUEST_UNSUPPORTED instead of
 * waiting for ever.
 */
#include "pm.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "memmap.h"
#include "rtc.h"
#include "serial.h"
#include "../vmm/trace.h"
#include "../vmm/vm.h"

static struct pm {
	struct vm *vm;
	uint16_t sts; /* PM1_STS: WAK_STS, RTC_STS after an S3 wake */
	uint16_t en;  /* PM1_EN */
	uint16_t cnt; /* PM1_CNT, SLP_EN never stored */
	uint8_t rst_cnt; /* 0xcf9: SYS_RST and FULL_RST as last written */
} pm;

int pm1_cnt_action(uint16_t val)
{
	if (!(val & PM1_CNT_SLP_EN))
		return PM_ACT_NONE;
	if (((val >> PM1_CNT_SLP_TYP_SHIFT) & 7) == PM_SLP_TYP_S5)
		return PM_ACT_POWEROFF;
	if (((val >> PM1_CNT_SLP_TYP_SHIFT) & 7) == PM_SLP_TYP_S3)
		return PM_ACT_S3;
	return PM_ACT_SLEEP;
}

static void pm_end(struct pm *p, int status, const char *what)
{
	serial_flush();
	fprintf(stderr, "kvmini: %s\n", what);
	p->vm->exit_status = status;
	p->vm->done = true; /* vcpu_run() returns after this exit */
}

/* Wait on the vCPU's thread until the wall clock reaches second when;
 * false when a stop (signal, VFIO request) came first: both set the
 * vCPU's immediate_exit and kick its thread out of poll. */
static bool pm_sleep_until(struct vcpu *c, time_t when)
{
	struct timespec now;

	for (;;) {
		long ms;

		if (__atomic_load_n(&c->run->immediate_exit, __ATOMIC_SEQ_CST))
			return false;
		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec >= when)
			return true;
		ms = (long)(when - now.tv_sec) * 1000 - now.tv_nsec / 1000000;
		poll(NULL, 0, ms > 100 ? 100 : ms < 1 ? 1 : (int)ms);
	}
}

static void pm_s3(struct pm *p)
{
	struct timespec now;
	time_t when;
	uint32_t vector = 0;
	const uint8_t *v = vm_gpa(p->vm, ACPI_BASE + ACPI_FACS_OFF + FACS_WAKING_VECTOR, 4);
	struct vcpu *c = vcpu_current;

	clock_gettime(CLOCK_REALTIME, &now);
	if (!(p->en & PM1_EN_RTC) || !rtc_wake_armed(now.tv_sec, &when)) {
		pm_end(p, EXIT_GUEST_UNSUPPORTED,
		       "guest entered ACPI S3 with no wake source armed (kvmini's is the RTC "
		       "alarm: AIE in RTC register B and RTC_EN in PM1_EN); it could never "
		       "wake, so kvmini stops");
		return;
	}
	if (v)
		memcpy(&vector, v, 4);
	if (!vector || vector > 0xfffff) {
		pm_end(p, EXIT_GUEST_UNSUPPORTED,
		       "guest entered ACPI S3 without a real-mode waking vector in the FACS; it "
		       "could not resume, so kvmini stops");
		return;
	}
	/* Several vCPUs would all have to be parked and the APs brought
	 * back through INIT-SIPI on the wake: not done, so not offered. */
	if (p->vm->ncpus > 1 || !c || !c->run) {
		pm_end(p, EXIT_GUEST_UNSUPPORTED,
		       "guest entered ACPI S3 with several vCPUs; kvmini wakes a guest from S3 "
		       "with --cpus 1 only, so it stops");
		return;
	}
	trace(TRACE_IO, "pm: ACPI S3: asleep until the RTC alarm, %lld s from now",
	      (long long)(when - now.tv_sec));
	if (!pm_sleep_until(c, when))
		return; /* the vCPU loop sees the stop */
	p->sts |= PM1_STS_WAK | PM1_STS_RTC;
	rtc_alarm_fired();
	c->s3_vector = vector;
	c->s3_resume = true;
	trace(TRACE_IO, "pm: ACPI S3: the RTC alarm woke the guest; resuming at 0x%x", vector);
}

/* The ACPI PM timer: a free-running 3.579545 MHz counter, 32 bits wide
 * (FADT TMR_VAL_EXT).  Derived from the host's monotonic clock. */
static uint32_t pm_timer(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(((unsigned __int128)ts.tv_sec * 1000000000ULL + ts.tv_nsec) *
			  PM_TIMER_HZ / 1000000000ULL);
}

static void pm_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct pm *p = opaque;
	uint32_t v = 0;
	uint64_t port = PM_BASE + off;

	if (is_write)
		memcpy(&v, data, len > 4 ? 4 : len);
	if (port == PM1A_EVT_BLK || port == PM1A_EVT_BLK + 2) {
		/* PM1_STS (write 1 to clear) and PM1_EN, as words; a dword
		 * access covers both. */
		if (is_write) {
			if (port == PM1A_EVT_BLK + 2) {
				p->en = (uint16_t)v;
			} else {
				p->sts &= (uint16_t)~v;
				if (len == 4)
					p->en = (uint16_t)(v >> 16);
			}
		} else {
			v = port == PM1A_EVT_BLK ? (uint32_t)p->en << 16 | p->sts : p->en;
		}
	} else if (port == PM1A_CNT_BLK) {
		if (is_write) {
			switch (pm1_cnt_action((uint16_t)v)) {
			case PM_ACT_POWEROFF:
				pm_end(p, EXIT_GUEST_OK, "guest powered off (ACPI S5)");
				return;
			case PM_ACT_S3:
				pm_s3(p);
				if (p->vm->done)
					return;
				break;
			case PM_ACT_SLEEP:
				trace(TRACE_IO, "pm: sleep type %u requested, not offered: ignored",
				      (v >> PM1_CNT_SLP_TYP_SHIFT) & 7);
				break;
			}
			p->cnt = (uint16_t)(v & ~PM1_CNT_SLP_EN);
		}
		/* SCI_EN reads 1: the hardware is always in ACPI mode. */
		v = p->cnt | PM1_CNT_SCI_EN;
	} else if (port == PM_TMR_BLK) {
		v = is_write ? 0 : pm_timer();
	} else if (port == PM_RESET_REG) {
		if (is_write && (v & 0xff) == PM_RESET_VALUE) {
			pm_end(p, EXIT_REBOOT, "guest asked for a reboot (ACPI reset register)");
			return;
		}
		v = 0;
	} else {
		v = 0xffffffff; /* gaps in the block */
	}
	if (!is_write)
		memcpy(data, &v, len > 4 ? 4 : len);
}

/* Port 0x64: only the pulse-reset command means anything here.  Reads say
 * "input buffer empty" so a driver waiting to send a command never spins. */
static void kbd_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct pm *p = opaque;

	(void)off;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (((uint8_t *)data)[0] == KBD_CMD_RESET)
		pm_end(p, EXIT_REBOOT, "guest asked for a reboot (keyboard controller reset)");
}

const char *rst_cnt_action(uint8_t val)
{
	if (!(val & RST_CNT_RST_CPU))
		return NULL;
	if (val & RST_CNT_FULL_RST)
		return "full reset";
	return val & RST_CNT_SYS_RST ? "hard reset" : "soft reset";
}

/* 0xcf9, a byte (pci_host.c hands over only those). */
void pm_rst_cnt_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct pm *p = &pm;
	uint8_t v = *(uint8_t *)data;
	const char *what;
	char msg[80];

	(void)opaque, (void)off, (void)len;
	if (!is_write) {
		*(uint8_t *)data = p->rst_cnt;
		return;
	}
	/* A machine reboots the same way whatever kind of reset it was asked
	 * for; the kind only goes into the line that says why kvmini ends. */
	what = rst_cnt_action(v);
	if (what) {
		snprintf(msg, sizeof(msg), "guest asked for a reboot (0xcf9 %s)", what);
		pm_end(p, EXIT_REBOOT, msg);
		return;
	}
	p->rst_cnt = v & (RST_CNT_SYS_RST | RST_CNT_FULL_RST);
}

void pm_init(struct vm *vm)
{
	memset(&pm, 0, sizeof(pm));
	pm.vm = vm;
	if (bus_register(&vm->pio, PM_BASE, PM_LEN, pm_io, &pm, "acpi-pm") < 0)
		die(EXIT_HOST, "internal: cannot place the ACPI PM block at 0x%x", PM_BASE);
	if (bus_register(&vm->pio, PORT_KBD_CMD, 1, kbd_io, &pm, "kbd-reset") < 0)
		die(EXIT_HOST, "internal: cannot place port 0x%x", PORT_KBD_CMD);
}
