/* SPDX-License-Identifier: MIT */
/*
 * acpi.h - the ACPI tables kvmini gives a guest, so that an OS finds the
 * interrupt controllers, the PCI host bridge (ECAM, apertures, INTx
 * routing) and the way to power off without guessing.
 *
 * They live in the BIOS area at ACPI_BASE (e820 reserved), the RSDP first
 * and 16-byte aligned, where Linux's legacy scan of 0xe0000-0xfffff finds it
 * even when the boot loader does not pass its address (kvmini passes it in
 * boot_params.acpi_rsdp_addr and in the PVH start info's rsdp_paddr).
 *
 *   RSDP (v2) -> XSDT -> FADT -> FACS, DSDT (AML: \_SB.PCI0, \_SB.MRES, \_S5)
 *                     -> MADT (a LAPIC per CPU, IOAPIC, IRQ0->GSI2, IRQ9 level/high)
 *                     -> MCFG (ECAM at PCI_ECAM_BASE, segment 0, bus 0)
 *
 * acpi_build() is pure (bytes in a buffer) so the unit tests check every
 * table's checksum and fields without a VM.
 */
#ifndef KVMINI_ACPI_H
#define KVMINI_ACPI_H

#include "memmap.h"

#include <stddef.h>
#include <stdint.h>

struct vm;


/* Where acpi_build() put each table (guest physical), for tests and traces. */
struct acpi_layout {
	uint64_t rsdp, xsdt, fadt, facs, madt, mcfg, dsdt;
	size_t used; /* bytes of the region used */
};

/* Build every table into region (len bytes that the guest sees at gpa),
 * with ncpus processors (APIC IDs 0..ncpus-1) in the MADT.  Returns 0, or
 * -1 when len is too small or ncpus is 0 or more than the MADT has room
 * for (55). */
int acpi_build(uint8_t *region, size_t len, uint64_t gpa, unsigned ncpus,
	       struct acpi_layout *lay);

/* Write the tables into guest RAM at ACPI_BASE; returns the RSDP's address. */
uint64_t acpi_setup(struct vm *vm);

#endif
