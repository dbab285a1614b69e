/* SPDX-License-Identifier: MIT */
/*
 * vnet_harness.h - what fuzz_vnet.c, fuzz_vnet_seq.c and
 * test/unit/test_virtio_net.c share: each
 * #include devices/virtio_net.c, stop its I/O thread at once and run the
 * thread's loop body on the fuzzer's thread, so every run is deterministic.
 * Include after virtio_net.c.
 */
#ifndef KVMINI_FUZZ_VNET_HARNESS_H
#define KVMINI_FUZZ_VNET_HARNESS_H

static void stop_thread(struct vnet *n)
{
	pthread_mutex_lock(&n->lock);
	n->stop = true;
	pthread_mutex_unlock(&n->lock);
	wake_thread(n);
	pthread_join(n->thread, NULL);
	n->thread_up = false;
	n->stop = false;
}

/* One wake-up of the I/O thread: what its fds say now, handed to the
 * thread's own loop body (io_events), so the harness runs the real code.
 * Returns the number of fds that were ready (0: nothing happened). */
static int pump(struct vnet *n)
{
	struct epoll_event ev[8];

	pthread_mutex_lock(&n->lock);
	int ne = epoll_wait(n->epfd, ev, 8, 0);
	if (ne > 0)
		io_events(n, ev, ne);
	pthread_mutex_unlock(&n->lock);
	return ne;
}

static void wr(struct vnet *n, unsigned off, unsigned len, uint64_t v)
{
	bar0_access(n, off, &v, len, true);
}

/* A fresh bus, host bridge and device over RAM of ram bytes. */
static void vnet_fresh(struct vnet *n, size_t ram, const char *spec)
{
	static bool up;

	if (up)
		vnet_teardown(n); /* closes its fds, unplugs it */
	for (unsigned s = 0; s < 32; s++) {
		struct pci_dev *d = pci_find(0, s, 0);
		if (d)
			pci_unregister(d);
	}
	fuzz_ram_reset(ram);
	bus_init(&fuzz_vm.pio, "pio");
	bus_init(&fuzz_vm.mmio, "mmio");
	pci_host_init(&fuzz_vm);
	vnet_init(&fuzz_vm, spec, 0, PCI_SLOT_VIRTIO_NET);
	vnet_start(n); /* what the guest's first access does */
	stop_thread(n);
	up = true;
}

#endif
