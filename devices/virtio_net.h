/* SPDX-License-Identifier: MIT */
/*
 * virtio_net.h - a modern virtio-pci network device (virtio 1.2, 1af4:1041)
 * at PCI_SLOT_VIRTIO_NET, backed by a tap, a loopback, or nothing.
 *
 * --net SPEC:
 *   tap=NAME[,mac=02:xx:xx:xx:xx:xx]  frames to and from tap NAME
 *   loopback[,mac=...]                every transmitted frame comes back on rx
 *   none[,mac=...]                    no backend: link down, frames dropped
 *
 * Threads: the vCPU thread reaches the device through its BAR (common,
 * ISR, device config, and notify writes that KVM did not take as an
 * ioeventfd) and its config space; an I/O thread does all queue work.  One
 * mutex per device orders the two; the vCPU thread never waits on the
 * network, only on that mutex, which the I/O thread holds for one bounded
 * batch at most.
 */
#ifndef KVMINI_VIRTIO_NET_H
#define KVMINI_VIRTIO_NET_H

#include <stdint.h>

struct vm;
struct vnet;

/* Devices of one kvmini: one per --net. */
#define VNET_MAX 4

/* Parse spec (die(EXIT_USAGE) on bad syntax), open the backend
 * (die(EXIT_NET) with the remedy when it cannot be) and register the PCI
 * device at slot (function 0); its I/O thread starts at the guest's first
 * access.  index (0 .. VNET_MAX-1) picks the instance, its name
 * ("virtio-net", "virtio-net1", ...) and its default MAC (02:6b:76:6d:00:
 * 01 + index).  Registers its own teardown with vm_at_exit().  Call after
 * pci_host_init(), before the vCPU runs. */
struct vnet *vnet_init(struct vm *vm, const char *spec, unsigned index, uint8_t slot);

#endif
