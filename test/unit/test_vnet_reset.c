// SPDX-License-Identifier: MIT
// needs: devices/pci.c devices/pci_host.c vmm/bus.c devices/virtq.c test/fuzz/stubs.c
/*
 * test_vnet_reset.c - virtio-net's device reset against the I/O thread's
 * pending work (devices/virtio_net.c, loopback backend).  A driver may kick
 * a queue and reset the device at once (Linux's remove path, a hostile
 * guest); KVM signals the kick's ioeventfd at the write, and the I/O thread
 * may read it only after the reset.  The reset device must not take that
 * old kick for a kick before DRIVER_OK (DEVICE_NEEDS_RESET), and a fresh
 * bring-up must work.  Found by fuzz_vnet_seq and the hostile guest mode.
 *
 * Like the fuzz targets, it includes virtio_net.c, stops its I/O thread
 * and runs the thread's loop body itself, so the order is the bad one every
 * time; guest RAM and KVM are test/fuzz/stubs.c's.
 */
#include "../../devices/virtio_net.c"

#include "../fuzz/stubs.h"
#include "../fuzz/vnet_harness.h"
#include "tap.h"

#define RAM 0x10000u

static void bring_up(struct vnet *n)
{
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	wr(n, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(n, VIRTIO_PCI_COMMON_GF, 4, 1); /* VERSION_1 */
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < NQUEUES; q++) {
		wr(n, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
		wr(n, VIRTIO_PCI_COMMON_Q_SIZE, 2, 8);
		wr(n, VIRTIO_PCI_COMMON_Q_DESCLO, 8, 0x1000u * q);
		wr(n, VIRTIO_PCI_COMMON_Q_AVAILLO, 8, 0x1000u * q + 0x200);
		wr(n, VIRTIO_PCI_COMMON_Q_USEDLO, 8, 0x1000u * q + 0x400);
		wr(n, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	}
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
	       VIRTIO_CONFIG_S_DRIVER_OK);
}

int main(void)
{
	struct vnet *n = &vnets[0];

	vnet_fresh(n, RAM, "loopback");
	bring_up(n);
	tap_ok(n->status == 0xf, "bring-up reaches DRIVER_OK (status %#x)", n->status);

	/* Kick both queues, reset before the I/O thread runs, then let it. */
	kick_by_trap(n, RXQ);
	kick_by_trap(n, TXQ);
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	pump(n);
	tap_ok(n->status == 0,
	       "a kick sent before a reset is not held against the reset device "
	       "(status %#x after the I/O thread ran)",
	       n->status);

	bring_up(n);
	pump(n);
	tap_ok(n->status == 0xf, "the next bring-up works (status %#x)", n->status);

	/* A kick after the reset, before the queues are set up, still is a
	 * broken driver (the rule the old kick must not trip). */
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	kick_by_trap(n, TXQ);
	pump(n);
	tap_ok(n->status & VIRTIO_CONFIG_S_NEEDS_RESET,
	       "a kick after the reset, of a queue not enabled, sets NEEDS_RESET (status %#x)",
	       n->status);
	vnet_teardown(n);
	return tap_done();
}
