// SPDX-License-Identifier: MIT
// needs: devices/pci.c devices/pci_host.c vmm/bus.c devices/virtq.c
/*
 * fuzz_vnet.c - the virtio-net device (devices/virtio_net.c) with the
 * loopback backend, as a hostile driver sees it: BAR0 registers (common
 * config, ISR, device config, notify) at any offset and width, config space
 * (the VIRTIO_PCI_CAP_PCI_CFG window included), guest RAM holding the
 * rings and buffers, and the I/O thread's work run in between.
 *
 * virtio_net.c is #included so the fuzzer can call its handlers directly
 * and run the I/O thread's loop body on this thread: vnet_start() starts the
 * thread, which is stopped at once, so every run is deterministic.  A
 * helper op does the whole driver handshake with queues at fixed places so
 * the fuzzer spends its time on ring contents.
 *
 * Checks: ASan/UBSan (guest RAM is an exact-size heap buffer); die() aborts
 * (no guest action may stop kvmini); a device that set DEVICE_NEEDS_RESET
 * keeps it until reset; loopback frames are never longer than the 64 KiB
 * frame limit.
 */
#include "no_io_thread.h"
#include "../../devices/virtio_net.c"

#include "stubs.h"
#include "vnet_harness.h"

#define RAM_SIZE 0x4000u

/* ACKNOWLEDGE, DRIVER, features, FEATURES_OK, both queues, DRIVER_OK. */
static void handshake(struct vnet *n, uint64_t feat, unsigned qsize)
{
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (unsigned s = 0; s < 2; s++) {
		wr(n, VIRTIO_PCI_COMMON_GFSELECT, 4, s);
		wr(n, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(feat >> (32 * s)));
	}
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	/* Rings packed from address 0, rx then tx, so they lie in the part of
	 * RAM the input fills (inputs are a few KiB). */
	uint64_t base = 0;
	for (unsigned q = 0; q < NQUEUES; q++) {
		uint64_t desc = base, avail = desc + 16 * qsize;
		uint64_t used = (avail + 6 + 2 * qsize + 3) & ~3ull;
		base = (used + 6 + 8 * qsize + 15) & ~15ull;
		wr(n, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
		wr(n, VIRTIO_PCI_COMMON_Q_SIZE, 2, qsize);
		wr(n, VIRTIO_PCI_COMMON_Q_MSIX, 2, q + 1);
		wr(n, VIRTIO_PCI_COMMON_Q_DESCLO, 8, desc);
		wr(n, VIRTIO_PCI_COMMON_Q_AVAILLO, 8, avail);
		wr(n, VIRTIO_PCI_COMMON_Q_USEDLO, 8, used);
		wr(n, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	}
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
	       VIRTIO_CONFIG_S_DRIVER_OK);
}

static const uint8_t common_offs[] = {
    VIRTIO_PCI_COMMON_DFSELECT,	 VIRTIO_PCI_COMMON_DF,
    VIRTIO_PCI_COMMON_GFSELECT,	 VIRTIO_PCI_COMMON_GF,
    VIRTIO_PCI_COMMON_MSIX,	 VIRTIO_PCI_COMMON_NUMQ,
    VIRTIO_PCI_COMMON_STATUS,	 VIRTIO_PCI_COMMON_CFGGENERATION,
    VIRTIO_PCI_COMMON_Q_SELECT,	 VIRTIO_PCI_COMMON_Q_SIZE,
    VIRTIO_PCI_COMMON_Q_MSIX,	 VIRTIO_PCI_COMMON_Q_ENABLE,
    VIRTIO_PCI_COMMON_Q_NOFF,	 VIRTIO_PCI_COMMON_Q_DESCLO,
    VIRTIO_PCI_COMMON_Q_DESCHI,	 VIRTIO_PCI_COMMON_Q_AVAILLO,
    VIRTIO_PCI_COMMON_Q_AVAILHI, VIRTIO_PCI_COMMON_Q_USEDLO,
    VIRTIO_PCI_COMMON_Q_USEDHI,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet *n = &vnets[0];
	struct fuzz_in in = {data, size};
	uint8_t hdr = (uint8_t)fuzz_take(&in, 1);
	vnet_fresh(n, RAM_SIZE, hdr & 1 ? "none" : "loopback");
	trace_mask = hdr & 2 ? TRACE_VIRTIO | TRACE_PCI : 0;

	unsigned nops = (unsigned)fuzz_take(&in, 1);
	struct fuzz_in ops = {in.p, nops * 8u < in.n ? nops * 8u : in.n};
	in.p += ops.n;
	in.n -= ops.n;
	memcpy(fuzz_vm.mem, in.p, in.n < RAM_SIZE ? in.n : RAM_SIZE);

	while (ops.n) {
		uint8_t op = (uint8_t)fuzz_take(&ops, 1), a = (uint8_t)fuzz_take(&ops, 1);
		uint8_t w = (uint8_t)fuzz_take(&ops, 1);
		uint64_t v = fuzz_take(&ops, 5);
		unsigned len = 1u << (w & 3);
		uint8_t before = n->status;

		switch (op % 8) {
		case 0: /* common config register */
			if (a & 0x80)
				len = 1 + (w >> 2) % 8;
			bar0_access(n, common_offs[a % sizeof(common_offs)] + (a & 0x40 ? 1 : 0),
				    &v, len, op & 0x80);
			break;
		case 1: /* anywhere in BAR0, any width up to 8 */
			bar0_access(n, ((uint64_t)a << 8 | w) % (VNET_BAR_SIZE + 16), &v,
				    1 + (unsigned)(v >> 36) % 8, op & 0x80);
			break;
		case 2: pump(n); break;
		case 3: /* the racing driver rewrites RAM */
			fuzz_vm.mem[(a << 8 | w) % RAM_SIZE] = (uint8_t)v;
			break;
		case 4: { /* config space, the PCI_CFG window included */
			unsigned l = 1u << (w % 3),
				 reg = ((unsigned)a | (w & 0x80 ? 0x100 : 0)) & ~(l - 1);
			if (op & 0x80)
				pci_cfg_write(&n->pci, reg, l, (uint32_t)v);
			else
				(void)pci_cfg_read(&n->pci, reg, l);
			break;
		}
		case 5:
			handshake(n, (v & n->offered) | F(VIRTIO_F_VERSION_1), 1u << (a % 7));
			break;
		case 6: /* the MSI-X BAR outside the table */
			msix_bar_access(n, v % VNET_MSIX_BAR_SIZE, &v, len, op & 0x80);
			break;
		case 7: /* kick a queue as KVM's ioeventfd would */ kick_by_trap(n, a % 3); break;
		}
		/* The handshake op starts with a reset, so it may clear it. */
		if ((before & VIRTIO_CONFIG_S_NEEDS_RESET) && n->status && op % 8 != 5)
			FUZZ_CHECK(n->status & VIRTIO_CONFIG_S_NEEDS_RESET,
				   "NEEDS_RESET stays until reset");
	}
	trace_mask = 0;
	return 0;
}
