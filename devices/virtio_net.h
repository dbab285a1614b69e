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

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memmap.h"

struct vm;
struct vnet;

/* Devices of one kvmini: one per --net. */
#define VNET_MAX PCI_MAX_NET

/* --net SPEC, parsed: vnet_init() and `kvmini check` read it alike. */
enum vnet_backend { VNET_BACKEND_NONE, VNET_BACKEND_TAP, VNET_BACKEND_LOOPBACK };
struct vnet_spec {
	enum vnet_backend backend;
	char ifname[IFNAMSIZ]; /* tap= */
	uint8_t mac[6];
	bool mac_set;  /* mac= given (else vnet_init() makes each --net's its own) */
	uint16_t qmax; /* queue= */
};
/* 0, or EXIT_USAGE with the one-line message in err. */
int vnet_spec_parse(const char *spec, struct vnet_spec *out, char *err, size_t len);

/* Open tap name exactly as a run does (never creating it: a name that is
 * no interface is an error, as is one that is not a tap, a tap held by
 * another process or another user's, one that is down): 0 with *fd (and
 * the TUN_F_* offloads it accepts), else EXIT_NET with what is wrong in
 * e->what and in e->fix a command line that a root shell takes to fix it
 * ("" when there is none; a tap it creates takes --net number index's
 * address, 169.254.(100+index).1/24).  vnet_init() dies with both; `kvmini check`
 * prints them as an item and closes the fd. */
struct vnet_tap_err {
	bool denied; /* a permission (EACCES, EPERM) rather than something missing */
	char what[160];
	char fix[400];
};
int vnet_tap_open(const char *name, unsigned index, int *fd, unsigned *offloads,
		  struct vnet_tap_err *e);

/* Parse spec (die(EXIT_USAGE) on bad syntax), open the backend
 * (die(EXIT_NET) with the remedy when it cannot be) and register the PCI
 * device at slot (function 0); its I/O thread starts at the guest's first
 * access.  index (0 .. VNET_MAX-1) picks the instance, its name
 * ("virtio-net", "virtio-net1", ...) and its default MAC (02:6b:76:6d:00:
 * 01 + index).  Registers its own teardown with vm_at_exit().  Call after
 * pci_host_init(), before the vCPU runs. */
struct vnet *vnet_init(struct vm *vm, const char *spec, unsigned index, uint8_t slot);

#endif
