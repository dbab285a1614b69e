/* SPDX-License-Identifier: MIT */
/*
 * fw_cfg.h - the few items of QEMU's firmware configuration device that
 * x86 test kernels read, through its legacy I/O interface (QEMU's
 * docs/specs/fw_cfg.rst): a 16-bit write of an item's key to port 0x510
 * selects it, and each 8-bit read of port 0x511 returns its next byte
 * (0 past its end).  Test kernels written for QEMU take the CPU count
 * (FW_CFG_NB_CPUS) and the RAM size (FW_CFG_RAM_SIZE) from here; without
 * it they read all ones: 65535 CPUs to wait for.
 *
 * The ports are the report port's (memmap.h): the report protocol uses
 * only 32-bit accesses at 0x510, fw_cfg only a 16-bit write at 0x510 and
 * 8-bit reads at 0x511, so report.c hands these two kinds over here.
 *
 * Items: SIGNATURE "QEMU", ID 1 (the traditional interface only, no DMA),
 * RAM_SIZE (--mem), NB_CPUS and MAX_CPUS (--cpus); any other key has no
 * data.  No write channel.  Called under the VM's device lock.
 */
#ifndef KVMINI_FW_CFG_H
#define KVMINI_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FW_CFG_PORT_SEL	 0x510
#define FW_CFG_PORT_DATA 0x511

struct vm;

/* Item key's bytes for this machine into out (8 bytes of room): returns
 * their number, 0 for a key without data.  Pure, for the unit tests. */
size_t fw_cfg_item(uint16_t key, uint64_t ram_size, unsigned ncpus, uint8_t out[8]);

/* Remember what the items say of the VM (its RAM and vCPUs). */
void fw_cfg_init(struct vm *vm);

/* An access at offset off of the port block at 0x510 that fw_cfg takes:
 * a 16-bit write at 0 (select) or an 8-bit read at 1 (data)?  If so,
 * fw_cfg_io() does it. */
bool fw_cfg_claims(uint64_t off, uint32_t len, bool is_write);
void fw_cfg_io(uint64_t off, void *data, uint32_t len, bool is_write);

#endif
