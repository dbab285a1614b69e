/* SPDX-License-Identifier: MIT */
/*
 * pm.h - ACPI fixed hardware, the part a classic (not hardware-reduced)
 * FADT points at: the PM1a event and control blocks, the PM timer and the
 * reset register, on I/O ports.  Writing SLP_EN with the _S5 sleep type to
 * PM1a_CNT powers the guest off (kvmini exits 0); with the _S3 type it
 * suspends the guest until the RTC alarm wakes it (or kvmini stops with
 * EXIT_UNSUPPORTED when no alarm is armed); the reset register, or
 * the keyboard controller's pulse-reset command 0xfe on port 0x64, reboots
 * it (kvmini exits EXIT_REBOOT).  vmm/acpi.c describes these ports to the
 * guest; both take the numbers from here.
 *
 *   0x600-0x603  PM1a_EVT_BLK: PM1_STS (2 bytes, write 1 to clear: WAK_STS,
 *                RTC_STS), PM1_EN (RTC_EN arms the S3 wake)
 *   0x604-0x605  PM1a_CNT_BLK: SCI_EN (reads 1), SLP_TYP, SLP_EN
 *   0x608-0x60b  PM_TMR_BLK:   3.579545 MHz, 32 bits (FADT TMR_VAL_EXT)
 *   0x60c        RESET_REG:    write PM_RESET_VALUE to reboot
 *   0x064        i8042 command port: 0xfe reboots, reads 0 (nothing there)
 *   0xcf9        reset control (RST_CNT, byte access only; the port sits in
 *                the PCI mechanism #1 range: pci_host.c forwards it here)
 */
#ifndef KVMINI_PM_H
#define KVMINI_PM_H

#include "memmap.h"

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* The register layout (PM1a_EVT, PM1a_CNT, PM_TMR, the reset register, the
 * S5 sleep type) is part of the machine's map: include/memmap.h. */

#define PM_TIMER_HZ 3579545ULL

/* What a write of val to PM1a_CNT asks for: PM_ACT_NONE, PM_ACT_POWEROFF
 * (SLP_EN with the S5 type), PM_ACT_S3 (SLP_EN with the S3 type: suspend,
 * woken by the RTC alarm; see pm.c) or PM_ACT_SLEEP (SLP_EN, another
 * type: not offered, ignored). */
enum { PM_ACT_NONE, PM_ACT_POWEROFF, PM_ACT_SLEEP, PM_ACT_S3 };
int pm1_cnt_action(uint16_t val);

/* Reset control register at 0xcf9 (Intel ICH/PCH RST_CNT, as QEMU's q35
 * offers it): bit 1 SYS_RST picks a hard reset over a soft one, bit 2
 * RST_CPU starts the reset, bit 3 FULL_RST asks for a power cycle.  A write
 * with RST_CPU set reboots the guest (kvmini exits EXIT_REBOOT); the other
 * bits are stored and read back. */
#define PORT_RST_CNT	  0xcf9
#define RST_CNT_SYS_RST	  0x02
#define RST_CNT_RST_CPU	  0x04
#define RST_CNT_FULL_RST  0x08
/* What a write of val to RST_CNT asks for: 0 none, else a string naming
 * the kind of reset, for the exit line. */
const char *rst_cnt_action(uint8_t val);
/* The register itself, a bus handler for byte accesses (main.c hands it
 * to pci_host_claim_cf9(), as the port lies inside 0xcf8-0xcff). */
void pm_rst_cnt_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write);

void pm_init(struct vm *vm);

#endif
