/* SPDX-License-Identifier: MIT */
/*
 * pm.h - ACPI fixed hardware, the part a classic (not hardware-reduced)
 * FADT points at: the PM1a event and control blocks, the PM timer and the
 * reset register, on I/O ports.  Writing SLP_EN with the _S5 sleep type to
 * PM1a_CNT powers the guest off (kvmini exits 0); the reset register, or
 * the keyboard controller's pulse-reset command 0xfe on port 0x64, reboots
 * it (kvmini exits EXIT_REBOOT).  vmm/acpi.c describes these ports to the
 * guest; both take the numbers from here.
 *
 *   0x600-0x603  PM1a_EVT_BLK: PM1_STS (2 bytes, write 1 to clear), PM1_EN
 *   0x604-0x605  PM1a_CNT_BLK: SCI_EN (reads 1), SLP_TYP, SLP_EN
 *   0x608-0x60b  PM_TMR_BLK:   3.579545 MHz, 32 bits (FADT TMR_VAL_EXT)
 *   0x60c        RESET_REG:    write PM_RESET_VALUE to reboot
 *   0x064        i8042 command port: 0xfe reboots, reads 0 (nothing there)
 */
#ifndef KVMINI_PM_H
#define KVMINI_PM_H

#include "memmap.h"

#include <stdint.h>

struct vm;

#define PM1A_EVT_BLK   (PM_BASE + 0x0)
#define PM1_EVT_LEN    4
#define PM1A_CNT_BLK   (PM_BASE + 0x4)
#define PM1_CNT_LEN    2
#define PM_TMR_BLK     (PM_BASE + 0x8)
#define PM_TMR_LEN     4
#define PM_RESET_REG   (PM_BASE + 0xc)
#define PM_RESET_VALUE 0x01
#define KBD_CMD_RESET  0xfe

/* The sleep type kvmini's DSDT gives \_S5 (any 3-bit value would do). */
#define PM_SLP_TYP_S5 5

/* PM1_CNT bits (ACPI 6.4, 4.8.3.2.1). */
#define PM1_CNT_SCI_EN	      0x0001
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN	      0x2000

#define PM_TIMER_HZ 3579545ULL

/* What a write of val to PM1a_CNT asks for: PM_ACT_NONE, PM_ACT_POWEROFF
 * (SLP_EN with the S5 type) or PM_ACT_SLEEP (SLP_EN, another type: not
 * offered, ignored). */
enum { PM_ACT_NONE, PM_ACT_POWEROFF, PM_ACT_SLEEP };
int pm1_cnt_action(uint16_t val);

void pm_init(struct vm *vm);

#endif
