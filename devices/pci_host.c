/* SPDX-License-Identifier: MIT */
/*
 * pci_host.c - the host bridge at 00:00.0 and the two ways the guest
 * reaches config space: Configuration Mechanism #1 (ports 0xcf8/0xcfc,
 * PCI 3.0 3.2.2.3.2) and PCIe ECAM (an MMIO window, PCIe 4.0 7.2.2).
 *
 * Both decode an access into (bus, device, function, register, width) and
 * call cfg_access(), so they cannot disagree: the same vconfig answers.
 * Every piece handed to the core is naturally aligned and 1, 2 or 4 bytes;
 * anything else is split into bytes here (see docs/pci.md).
 */
#include <linux/pci_regs.h>
#include <stdio.h>
#include <string.h>

#include "../vmm/trace.h"
#include "../vmm/vm.h"
#include "memmap.h"
#include "pci.h"

/* 0xcf8 layout: enable (31), reserved (30:28), AMD extended register
 * bits 11:8 (27:24), bus (23:16), device (15:11), function (10:8),
 * register bits 7:2 (7:2).  Reserved bits and 1:0 read back as 0. */
#define CF8_ENABLE 0x80000000u
#define CF8_KEEP 0x8ffffffcu

static struct pci_dev host_bridge;
static uint32_t cf8;
static bus_handler rst_cnt_fn; /* 0xcf9, see pci_host_claim_cf9() */
static void *rst_cnt_opaque;

void pci_host_claim_cf9(bus_handler fn, void *opaque)
{
	rst_cnt_fn = fn;
	rst_cnt_opaque = opaque;
}

static const char *width_ch(bool is_write)
{
	return is_write ? "w" : "r";
}

/* One config access of 1, 2 or 4 bytes, naturally aligned, inside one
 * function's 4 KiB.  mech names the way in, for the trace. */
static void cfg_access(const char *mech, unsigned bus, unsigned dev, unsigned fn, unsigned reg,
		       unsigned len, uint32_t *val, bool is_write)
{
	struct pci_dev *d = pci_find(bus, dev, fn);
	int digits = (int)len * 2;

	if (!d) {
		stats[STAT_PCI_ABSENT]++;
		if (!is_write)
			*val = len == 4 ? ~0u : (1u << (8 * len)) - 1;
		trace(TRACE_PCI, "%-4s %02x:%02x.%x %03x %-17s %s%u %s 0x%0*x  (no such function: %s)",
		      mech, bus, dev, fn, reg, "-", width_ch(is_write), len, is_write ? "<-" : "->",
		      digits, *val, is_write ? "dropped" : "all ones");
		return;
	}
	if (!(trace_mask & TRACE_PCI)) {
		if (is_write)
			pci_cfg_write(d, reg, len, *val);
		else
			*val = pci_cfg_read(d, reg, len);
		return;
	}
	pci_trace_begin();
	if (is_write)
		pci_cfg_write(d, reg, len, *val);
	else
		*val = pci_cfg_read(d, reg, len);
	const char *fx = pci_trace_end();
	trace_printf(TRACE_PCI, "%-4s %02x:%02x.%x %03x %-17s %s%u %s 0x%0*x%s%s", mech, bus, dev,
		     fn, reg, pci_reg_name(d, reg), width_ch(is_write), len,
		     is_write ? "<-" : "->", digits, *val, *fx ? "  : " : "", fx);
}

/* A guest access of any length at reg inside one function: as one piece
 * when naturally aligned, as two dwords for an aligned qword, else byte
 * by byte. */
static void cfg_split(const char *mech, unsigned dev, unsigned fn, unsigned reg, uint8_t *data,
		      uint32_t len, bool is_write)
{
	uint32_t v = 0;

	if ((len == 1 || len == 2 || len == 4) && !(reg & (len - 1))) {
		if (is_write)
			memcpy(&v, data, len);
		cfg_access(mech, 0, dev, fn, reg, len, &v, is_write);
		if (!is_write)
			memcpy(data, &v, len);
		return;
	}
	if (len == 8 && !(reg & 7)) {
		cfg_split(mech, dev, fn, reg, data, 4, is_write);
		cfg_split(mech, dev, fn, reg + 4, data + 4, 4, is_write);
		return;
	}
	for (uint32_t i = 0; i < len; i++)
		cfg_split(mech, dev, fn, reg + i, data + i, 1, is_write);
}

/* ---- mechanism #1: 0xcf8-0xcff, one bus range of 8 ports ------------------ */
static void conf1_access(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	uint32_t v = 0;

	(void)opaque;
	if (off < 4) {
		stats[STAT_PCI_CF8_ADDR]++;
		if (off == 0 && len == 4) {
			if (is_write) {
				memcpy(&v, data, 4);
				cf8 = v & CF8_KEEP;
			} else {
				memcpy(data, &cf8, 4);
			}
			return;
		}
		/* A byte at 0xcf9 is the chipset's reset control register
		 * (devices/pm.c), which shares these ports on every Intel PC. */
		if (off == 1 && len == 1 && rst_cnt_fn) {
			rst_cnt_fn(rst_cnt_opaque, 0, data, 1, is_write);
			return;
		}
		/* The address register answers 32-bit accesses only (PCI 3.0
		 * 3.2.2.3.2); narrower ones go to whatever else decodes
		 * these ports on a real chipset: here nothing. */
		if (!is_write)
			memset(data, 0xff, len);
		trace(TRACE_PCI, "cf8  %s%u at 0x%llx: the address register is 32-bit only, %s",
		      width_ch(is_write), len, (unsigned long long)(PORT_PCI_CONFIG_ADDR + off),
		      is_write ? "ignored" : "reads all ones");
		return;
	}
	stats[STAT_PCI_CF8_DATA]++;
	if (off + len > 8 || !(cf8 & CF8_ENABLE)) {
		if (!is_write)
			memset(data, 0xff, len);
		trace(TRACE_PCI, "cfc  %s%u at 0x%llx: %s, %s", width_ch(is_write), len,
		      (unsigned long long)(PORT_PCI_CONFIG_ADDR + off),
		      off + len > 8 ? "crosses the end of the window" : "0xcf8 enable bit clear",
		      is_write ? "ignored" : "reads all ones");
		return;
	}
	unsigned bus = (cf8 >> 16) & 0xff, dev = (cf8 >> 11) & 0x1f, fn = (cf8 >> 8) & 7;
	unsigned reg = (cf8 & 0xfc) | ((cf8 >> 16) & 0xf00);

	reg += (unsigned)(off - 4);
	if (bus != 0) { /* only bus 0 exists */
		uint32_t ones = ~0u;

		cfg_access("cf8", bus, dev, fn, reg, len, &ones, is_write);
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	cfg_split("cf8", dev, fn, reg, data, len, is_write);
}

/* ---- ECAM: 4 KiB per function, bus 0 ---------------------------------------- */
static void ecam_access(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	uint8_t *p = data;

	(void)opaque;
	stats[STAT_PCI_ECAM]++;
	/* An access that crosses into the next function is split at the
	 * boundary; each part decodes its own B:D.F. */
	while (len) {
		uint32_t room = 4096 - (uint32_t)(off & 0xfff);
		uint32_t n = len < room ? len : room;

		cfg_split("ecam", (unsigned)(off >> 15) & 0x1f, (unsigned)(off >> 12) & 7,
			  (unsigned)off & 0xfff, p, n, is_write);
		off += n;
		p += n;
		len -= n;
	}
}

void pci_host_init(struct vm *vm)
{
	int ret;

	/* The host bridge: no BARs, no interrupts; it exists so that the
	 * guest finds a bridge at 00:00.0 as on every PC, and its IDs tell
	 * the guest that ECAM is at PCI_ECAM_BASE (memmap.h says why these
	 * IDs). */
	pci_dev_init(&host_bridge, "host-bridge", PCI_SLOT_HOST_BRIDGE, KVMINI_HB_VENDOR,
		     KVMINI_HB_DEVICE, 0x060000, 0);
	ret = pci_register(vm, &host_bridge);
	if (ret < 0)
		die(EXIT_HOST, "pci: cannot register the host bridge (%d)", ret);

	ret = bus_register(&vm->pio, PORT_PCI_CONFIG_ADDR, 8, conf1_access, NULL, "pci-conf1");
	if (ret < 0)
		die(EXIT_HOST, "pci: cannot claim ports 0xcf8-0xcff (%d)", ret);
	ret = bus_register(&vm->mmio, PCI_ECAM_BASE, PCI_ECAM_SIZE, ecam_access, NULL, "pci-ecam");
	if (ret < 0)
		die(EXIT_HOST, "pci: cannot claim the ECAM window at 0x%lx (%d)", PCI_ECAM_BASE,
		    ret);
	trace(TRACE_PCI, "host bridge %04x:%04x at 00:00.0; mechanism #1 at 0xcf8, ECAM at 0x%lx",
	      KVMINI_HB_VENDOR, KVMINI_HB_DEVICE, PCI_ECAM_BASE);
}
