// SPDX-License-Identifier: MIT
// needs: devices/pm.c devices/pci_host.c devices/pci.c vmm/bus.c vmm/trace.c
/*
 * test_pm_reset.c - the reset control register at 0xcf9 (devices/pm.c),
 * reached the way a guest reaches it: a byte OUT to port 0xcf9, which lies
 * inside the PCI mechanism #1 ports that pci_host.c owns and hands over.
 * A write with RST_CPU (bit 2) ends the run with EXIT_REBOOT; other bits
 * are kept and read back; wider accesses there stay the address
 * register's business.
 */
#include <string.h>

#include "../../devices/pci.h"
#include "../../devices/pm.h"
#include "../../vmm/trace.h"
#include "../../vmm/vm.h"
#include "tap.h"

/* KVM and the console are not part of this. */
void serial_flush(void)
{
}
bool vm_range_overlaps_ram(struct vm *v, uint64_t gpa, uint64_t size)
{
	(void)v, (void)gpa, (void)size;
	return false;
}
int vm_slot_add(struct vm *v, uint64_t gpa, uint64_t size, void *hva, const char *name)
{
	(void)v, (void)gpa, (void)size, (void)hva, (void)name;
	return -1;
}
int vm_slot_del(struct vm *v, int slot)
{
	(void)v, (void)slot;
	return 0;
}
int vm_irq_line(struct vm *v, unsigned gsi, int level)
{
	(void)v, (void)gsi, (void)level;
	return 0;
}
int vm_msi_route_alloc(struct vm *v)
{
	(void)v;
	return -1;
}
int vm_msi_route_set(struct vm *v, unsigned gsi, uint64_t addr, uint32_t data)
{
	(void)v, (void)gsi, (void)addr, (void)data;
	return -1;
}
void vm_msi_route_free(struct vm *v, unsigned gsi)
{
	(void)v, (void)gsi;
}
int vm_signal_msi(struct vm *v, uint64_t addr, uint32_t data)
{
	(void)v, (void)addr, (void)data;
	return 1;
}
int vm_irqfd(struct vm *v, int fd, unsigned gsi, int resample_fd, bool assign)
{
	(void)v, (void)fd, (void)gsi, (void)resample_fd, (void)assign;
	return 0;
}

static struct vm vm;

static uint32_t in(uint16_t port, unsigned len)
{
	uint32_t v = 0;

	bus_access(&vm.pio, port, &v, len, false);
	return v;
}

static void out(uint16_t port, unsigned len, uint32_t v)
{
	bus_access(&vm.pio, port, &v, len, true);
}

int main(void)
{
	tap_ok(rst_cnt_action(0x06) && !strcmp(rst_cnt_action(0x06), "hard reset") &&
		   !strcmp(rst_cnt_action(0x04), "soft reset") &&
		   !strcmp(rst_cnt_action(0x0e), "full reset") && !rst_cnt_action(0x02) &&
		   !rst_cnt_action(0x0a) && !rst_cnt_action(0xf1),
	       "RST_CPU (bit 2) asks for a reset; SYS_RST and FULL_RST pick its kind");

	bus_init(&vm.pio, "pio");
	bus_init(&vm.mmio, "mmio");
	pm_init(&vm);
	pci_host_init(&vm);
	pci_host_claim_cf9(pm_rst_cnt_io, NULL);

	out(0xcf8, 4, 0x80000000u);
	out(0xcf9, 1, 0x0a); /* SYS_RST | FULL_RST, no RST_CPU */
	tap_ok(!vm.done, "a write without RST_CPU does not reset");
	tap_eq(in(0xcf9, 1), 0x0a, "SYS_RST and FULL_RST read back");
	tap_eq(in(0xcf8, 4), 0x80000000u, "the address register is untouched by 0xcf9");
	out(0xcf8, 2, 0x0404);
	tap_ok(!vm.done, "a word write at 0xcf8 (covering 0xcf9) is not a reset");
	out(0xcf9, 1, 0xf1);
	tap_eq(in(0xcf9, 1), 0, "reserved bits are not stored");
	out(0xcf9, 1, 0x06);
	tap_ok(vm.done && vm.exit_status == EXIT_REBOOT,
	       "SYS_RST then RST_CPU: the run ends with EXIT_REBOOT (10)");
	return tap_done();
}
