/* SPDX-License-Identifier: MIT */
/*
 * pci_assign.h - the firmware-like PCI start: before the guest runs,
 * kvmini does for every function on bus 0 what SeaBIOS or OVMF do on a PC
 * (PCI Firmware Specification 3.3, "configured by firmware"): it sizes
 * every BAR, assigns each one an address inside its aperture
 * (include/memmap.h, the same windows the ACPI _CRS of PCI0 describes),
 * and turns on I/O and memory decoding, not bus mastering.  The Interrupt
 * Line is already written by pci_register().  A guest that re-enumerates
 * and moves BARs still can: this only writes what a guest could write.
 * --pci-poweron skips it and leaves every function as at power-on.
 */
#ifndef KVMINI_PCI_ASSIGN_H
#define KVMINI_PCI_ASSIGN_H

#include <stdbool.h>
#include <stdint.h>

#include "pci.h"

struct vm;

/* One BAR to place (the plan is pure, for unit tests). */
struct pci_assign_req {
	uint8_t slot, index;	/* device number, BAR 0-5 */
	enum pci_bar_type type; /* PCI_BAR_IO, _MEM32 or _MEM64 */
	uint64_t size;		/* power of two */
	uint64_t addr;		/* out: assigned address, 0 = did not fit */
	uint8_t fn;		/* function number */
};

/* Place n BARs: largest first in each aperture, naturally aligned, memory
 * BARs at least a 4 KiB page each (so a KVM slot can back one alone);
 * 64-bit BARs in the 64-bit aperture above 4 GiB, or below 4 GiB when that
 * one is full; 32-bit BARs below 4 GiB, I/O in the I/O aperture.  Returns
 * how many did not fit (left at addr 0).  Reorders r. */
unsigned pci_assign_plan(struct pci_assign_req *r, unsigned n);

/* Assign every BAR of every registered function and enable decoding, by
 * config writes through the core (so mappings, KVM slots of an assigned
 * device included, follow as for a guest's writes).  Call after the last
 * pci_register() and before the vCPU runs. */
void pci_assign_all(struct vm *vm);

#endif
