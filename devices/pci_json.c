/* SPDX-License-Identifier: MIT */
/*
 * pci_json.c - the PCI devices as the --report "devices" array
 * (docs/report.md, docs/report.schema.json).
 *
 * Read at the end of a run, after the guest placed the BARs: each BAR has
 * its guest address and whether it was placed, and its path: "mmap" when
 * the device gave host memory for a KVM memory slot (no exits; the MSI-X
 * pages still trap), "trapped" when every access exits to kvmini.
 */
#include <linux/pci_regs.h>

#include "pci.h"

static const char *const bar_types[] = {"unused", "io", "mem32", "mem64"};

static void json_bar(FILE *f, const struct pci_bar *b, const char *which, bool first)
{
	fprintf(f,
		"%s{\"bar\":\"%s\",\"type\":\"%s\",\"size\":%llu,\"path\":\"%s\",\"mapped\":%s,"
		"\"addr\":%llu}",
		first ? "" : ",", which, bar_types[b->type], (unsigned long long)b->size,
		b->hva && !b->force_trap ? "mmap" : "trapped", b->mapped ? "true" : "false",
		(unsigned long long)b->addr);
}

void pci_json_devices(FILE *f)
{
	bool first = true;

	fputc('[', f);
	for (const struct pci_dev *d = pci_next(NULL); d; d = pci_next(d)) {
		bool bfirst = true;
		char which[8];

		fprintf(f,
			"%s{\"slot\":\"00:%02x.%x\",\"name\":\"%s\",\"vendor\":\"%04x\","
			"\"device\":\"%04x\",\"backend\":\"%s\",\"bars\":[",
			first ? "" : ",", d->slot, d->fn, d->name, vconfig_get(&d->cfg, PCI_VENDOR_ID, 2),
			vconfig_get(&d->cfg, PCI_DEVICE_ID, 2),
			d->backend ? d->backend : "emulated");
		for (int i = 0; i < 6; i++) {
			if (d->bar[i].type == PCI_BAR_UNUSED)
				continue;
			snprintf(which, sizeof(which), "BAR%d", i);
			json_bar(f, &d->bar[i], which, bfirst);
			bfirst = false;
		}
		if (d->rom.type != PCI_BAR_UNUSED)
			json_bar(f, &d->rom, "ROM", bfirst);
		fputs("]}", f);
		first = false;
	}
	fputc(']', f);
}
