// SPDX-License-Identifier: MIT
// needs: devices/pm.c devices/rtc.c devices/pci_host.c devices/pci.c vmm/bus.c vmm/trace.c
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
__thread struct vcpu *vcpu_current; /* no vCPU: S3 is refused (test_acpi, guests) */
void *vm_gpa(struct vm *v, uint64_t gpa, uint64_t len)
{
	(void)v, (void)gpa, (void)len;
	return NULL;
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

	/* ACPI S3 with nothing armed to wake the guest: a clean stop with
	 * status 14, never a wait for ever.  PM1_STS reads 0 before any wake,
	 * PM1_EN keeps RTC_EN. */
	vm.done = false, vm.exit_status = 0;
	out(PM1A_EVT_BLK + 2, 2, PM1_EN_RTC);
	tap_eq(in(PM1A_EVT_BLK + 2, 2), PM1_EN_RTC, "PM1_EN keeps RTC_EN");
	tap_eq(in(PM1A_EVT_BLK, 2), 0, "PM1_STS reads 0 before any wake");
	out(PM1A_CNT_BLK, 2, PM1_CNT_SLP_EN | 2 << PM1_CNT_SLP_TYP_SHIFT);
	tap_ok(!vm.done, "a sleep type the DSDT does not offer (2) is ignored");
	out(PM1A_CNT_BLK, 2, 0x2400);
	tap_ok(vm.done && vm.exit_status == EXIT_GUEST_UNSUPPORTED && EXIT_GUEST_UNSUPPORTED == 14,
	       "S3 (0x2400) with RTC_EN but no RTC alarm armed ends the run with status 14");
	vm.done = false, vm.exit_status = 0;
	out(PM1A_EVT_BLK + 2, 2, 0);
	out(PM1A_CNT_BLK, 2, 0x2400);
	tap_ok(vm.done && vm.exit_status == 14, "S3 without RTC_EN: status 14 too");
	return tap_done();
}
