/* SPDX-License-Identifier: MIT */
/*
 * fw_cfg.c - QEMU's fw_cfg, legacy I/O, read-only, five items (fw_cfg.h).
 */
#include "fw_cfg.h"

#include <string.h>

#include "../vmm/trace.h"
#include "../vmm/vm.h"

/* Keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID	 0x01
#define FW_CFG_RAM_SIZE	 0x03
#define FW_CFG_NB_CPUS	 0x05
#define FW_CFG_MAX_CPUS	 0x0f
#define FW_CFG_ID_TRAD	 0x01 /* the traditional (I/O) interface */

static struct {
	uint64_t ram_size;
	unsigned ncpus;
	uint16_t key;	 /* selected */
	uint32_t offset; /* next byte of it */
} fw = {.ncpus = 1};

size_t fw_cfg_item(uint16_t key, uint64_t ram_size, unsigned ncpus, uint8_t out[8])
{
	uint32_t id = FW_CFG_ID_TRAD;
	uint16_t n = (uint16_t)ncpus;

	/* Little-endian, as QEMU stores the numeric items. */
	switch (key) {
	case FW_CFG_SIGNATURE: memcpy(out, "QEMU", 4); return 4;
	case FW_CFG_ID: memcpy(out, &id, 4); return 4;
	case FW_CFG_RAM_SIZE: memcpy(out, &ram_size, 8); return 8;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS: memcpy(out, &n, 2); return 2;
	default: return 0;
	}
}

void fw_cfg_init(struct vm *vm)
{
	fw.ram_size = vm->mem_size;
	fw.ncpus = vm->ncpus ? vm->ncpus : 1;
	fw.key = 0;
	fw.offset = 0;
}

bool fw_cfg_claims(uint64_t off, uint32_t len, bool is_write)
{
	return (off == FW_CFG_PORT_SEL - FW_CFG_PORT_SEL && len == 2 && is_write) ||
	       (off == FW_CFG_PORT_DATA - FW_CFG_PORT_SEL && len == 1 && !is_write);
}

void fw_cfg_io(uint64_t off, void *data, uint32_t len, bool is_write)
{
	uint8_t item[8];
	size_t n;

	if (!fw_cfg_claims(off, len, is_write))
		return;
	if (is_write) {
		memcpy(&fw.key, data, 2);
		fw.offset = 0;
		trace(TRACE_IO, "fw_cfg: key 0x%x selected", fw.key);
		return;
	}
	n = fw_cfg_item(fw.key, fw.ram_size, fw.ncpus, item);
	*(uint8_t *)data = fw.offset < n ? item[fw.offset] : 0;
	if (fw.offset < UINT32_MAX)
		fw.offset++;
}
