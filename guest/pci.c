// SPDX-License-Identifier: MIT
/* pci.c - placeholder until enumeration lands (next commit). */
#include "guest.h"

void pci_init(void) { printf("pci: enumeration not written yet\n"); }
struct pci_func *pci_find(uint16_t vendor, uint16_t device)
{
	(void)vendor;
	(void)device;
	return NULL;
}
