// SPDX-License-Identifier: MIT
// needs: devices/fw_cfg.c devices/report.c vmm/bus.c vmm/host.c test/fuzz/stubs.c
/*
 * test_fw_cfg.c - what a test kernel written for QEMU reads from fw_cfg
 * under kvmini: the CPU count (--cpus), the RAM size (--mem), the
 * signature, through the ports it shares with the report protocol (the
 * real devices/report.c on the bus, test/fuzz/stubs.c for the VM), and
 * that the report protocol's own 32-bit accesses are untouched.
 */
#include <string.h>

#include "memmap.h"
#include "tap.h"
#include "../../devices/fw_cfg.h"
#include "../../devices/report.h"
#include "../fuzz/stubs.h"

/* What lib/x86/fwcfg.c in the public x86 test kernels does: an outw of
 * the key to 0x510, then one inb of 0x511 per byte. */
static uint64_t fwcfg_get(uint16_t key, int bytes)
{
	uint64_t r = 0;

	bus_access(&fuzz_vm.pio, FW_CFG_PORT_SEL, &key, 2, true);
	for (int i = 0; i < bytes; i++) {
		uint8_t b = 0x5a;

		bus_access(&fuzz_vm.pio, FW_CFG_PORT_DATA, &b, 1, false);
		r |= (uint64_t)b << (8 * i);
	}
	return r;
}

int main(void)
{
	uint8_t out[8];
	uint32_t v;

	tap_eq(fw_cfg_item(0x05, 64 << 20, 4, out), 2, "NB_CPUS: 2 bytes");
	tap_eq(out[0] | out[1] << 8, 4, "NB_CPUS: --cpus 4");
	tap_eq(fw_cfg_item(0x03, 3ull << 30, 1, out), 8, "RAM_SIZE: 8 bytes");
	tap_ok(!memcmp(out, &(uint64_t){3ull << 30}, 8), "RAM_SIZE: --mem 3G, little-endian");
	tap_eq(fw_cfg_item(0x19, 64 << 20, 1, out), 0, "FILE_DIR: no data");

	for (unsigned ncpus = 1; ncpus <= 32; ncpus *= 2) {
		fuzz_ram_reset(0x2000);
		bus_init(&fuzz_vm.pio, "pio");
		fuzz_vm.ncpus = ncpus;
		fuzz_vm.mem_size = 0x2000;
		report_init(&fuzz_vm);
		tap_eq(fwcfg_get(0x05, 2), ncpus, "through the ports: NB_CPUS is %u", ncpus);
		tap_eq(fwcfg_get(0x0f, 2), ncpus, "through the ports: MAX_CPUS is %u", ncpus);
	}
	tap_eq(fwcfg_get(0x03, 8), 0x2000, "through the ports: RAM_SIZE is the RAM");
	tap_eq(fwcfg_get(0x00, 4), 0x554d4551, "through the ports: the signature reads QEMU");
	tap_eq(fwcfg_get(0x01, 4), 1, "through the ports: ID says the I/O interface, no DMA");
	tap_eq(fwcfg_get(0x05, 4), 32, "reads past an item's end give 0");
	tap_eq(fwcfg_get(0x1234, 2), 0, "an unknown key reads 0");
	v = 0;
	bus_access(&fuzz_vm.pio, REPORT_PORT, &v, 4, false);
	tap_eq(v, REPORT_MAGIC, "a 32-bit read of 0x510 is still the report port's magic");
	fwcfg_get(0x05, 0);
	v = 0;
	bus_access(&fuzz_vm.pio, FW_CFG_PORT_DATA, &v, 2, false);
	tap_eq(v & 0xffff, 0xffff, "a 16-bit read of 0x511 is neither's: all ones");
	return tap_done();
}
