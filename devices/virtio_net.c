// SPDX-License-Identifier: MIT
/*
 * virtio_net.c - modern virtio-pci network device (virtio 1.2 sections 4.1
 * and 5.1), host side.
 *
 * BAR0 (64-bit memory, trapped) holds the virtio structures, each on its
 * own page so a driver mapping them separately never shares a page:
 *
 *   0x0000 common configuration   (struct virtio_pci_common_cfg, 0x38 bytes)
 *   0x1000 ISR status             (1 byte; reading clears it)
 *   0x2000 device configuration   (struct virtio_net_config: mac, status, ...)
 *   0x3000 notifications          queue q at 0x3000 + 4*q, 16-bit writes;
 *                                 KVM_IOEVENTFD takes them without an exit
 *
 * BAR2 (64-bit memory) holds the MSI-X table (0x000) and PBA (0x800), served
 * by the PCI core.  MSI-X vector 0 is meant for configuration changes, 1 for
 * rx, 2 for tx, but the driver chooses (msix_config, queue_msix_vector).
 * Without MSI-X: INTA# plus the ISR.
 *
 * Packet flow, transmit: the driver posts a chain on the tx queue and writes
 * the queue index to its notify address; KVM signals kick_fd[TX] (no exit to
 * kvmini); the I/O thread wakes in epoll, pops chains, writes each frame to
 * the tap with writev (virtio header first, as the tap's vnet header), puts
 * the chains on the used ring, and raises the tx vector through its irqfd
 * when EVENT_IDX (or the NO_INTERRUPT flag) says the driver wants one.
 * Receive: the tap fd becomes readable; the I/O thread reads frames with
 * their vnet header, copies each into one or more rx chains (MRG_RXBUF),
 * publishes them and raises the rx vector.
 */
#include "virtio_net.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "memmap.h"
#include "pci.h"
#include "virtq.h"
#include "../vmm/seccomp.h"
#include "../vmm/trace.h"
#include "../vmm/vm.h"

#define VIRTIO_PCI_VENDOR	   0x1af4
#define PCI_CAP_ID_VNDR		   0x09 /* vendor-specific capability */
#define VIRTIO_PCI_ISR_QUEUE	   0x1
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VNET_BAR		   0
#define VNET_BAR_SIZE		   0x4000u
#define VNET_MSIX_BAR		   2
#define VNET_MSIX_BAR_SIZE	   0x1000u
#define OFF_COMMON		   0x0000u
#define OFF_ISR			   0x1000u
#define OFF_DEVICE		   0x2000u
#define OFF_NOTIFY		   0x3000u
#define NOTIFY_MULT		   4u
#define COMMON_LEN		   0x38u
#define DEVICE_LEN		   12u /* mac[6], status, max_virtqueue_pairs, mtu */

enum { RXQ = 0, TXQ = 1, NQUEUES = 2 };
#define NVEC	  3
#define NO_VECTOR VIRTIO_MSI_NO_VECTOR

#define HDR_LEN	   12u		    /* struct virtio_net_hdr_v1: VERSION_1 always has num_buffers */
#define FRAME_MAX  (65536u + 1024u) /* a 64 KiB GSO frame and its headers */
#define RXBUF_SIZE (HDR_LEN + FRAME_MAX)
#define BATCH	   256 /* chains per queue per wakeup, so the vCPU gets the lock back */
#define VNET_MTU   1500

#define F(b) (1ull << (b))
#define BASE_FEATURES                                                                              \
	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |                    \
	 F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC) | \
	 F(VIRTIO_NET_F_MTU))
/* Only with a tap that accepted TUNSETOFFLOAD: the tap does the work. */
#define OFFLOAD_FEATURES                                                                           \
	(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) |           \
	 F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))

enum backend {
	BE_NONE = VNET_BACKEND_NONE,
	BE_TAP = VNET_BACKEND_TAP,
	BE_LOOPBACK = VNET_BACKEND_LOOPBACK
};
static const char *const backend_name[] = {"none", "tap", "loopback"};

struct vnet_qcfg {
	uint16_t size, vector, enable;
	uint64_t desc, driver, device;
};

struct vnet {
	struct pci_dev pci;
	struct vm *vm;
	pthread_mutex_t lock;
	pthread_t thread;
	bool thread_up;
	bool started; /* vnet_start() ran: the guest touched the device */

	enum backend be;
	char ifname[IFNAMSIZ];
	uint8_t mac[6];
	uint16_t qmax; /* queue_size offered at reset (--net ...,queue=N) */
	int tap_fd;
	bool tap_dead;
	unsigned tap_offloads; /* TUN_F_* accepted by the tap at open */

	int epfd, ctl_fd;
	int kick_fd[NQUEUES];
	int irq_fd[NVEC];
	bool irq_fd_ok[NVEC];	 /* pci_irq_eventfd() accepted it */
	int intx_fd, intx_rs_fd; /* INTx as a level irqfd and its resample fd */
	bool intx_ok;
	/* Command's INTx Disable and MSI-X Enable, copied from config space
	 * under lock (irq_modes_sync): config space belongs to the vCPUs and
	 * the VM's device lock, which the I/O thread never takes.  Copied by
	 * the vCPU in the same critical section as it lowers the line
	 * (intx_apply): a line lowered on an earlier view of them would be
	 * the I/O thread's to lower, with a call its allowlist has not. */
	bool intx_off, msix_on;
	bool intx_line; /* we asserted the line and KVM has not lowered it (lock) */
	uint64_t notify_gpa; /* where the ioeventfds sit, 0 = none */
	uint32_t tap_events; /* what epoll watches on the tap now */

	/* Transport state: guarded by lock. */
	uint64_t offered, drv_features, features; /* features: after FEATURES_OK */
	uint32_t dfselect, gfselect;
	uint16_t msix_config, qsel;
	uint8_t status, generation, isr;
	uint16_t link; /* VIRTIO_NET_S_LINK_UP or 0 */
	struct vnet_qcfg qc[NQUEUES];
	struct virtq vq[NQUEUES];
	bool stop;

	/* I/O thread state: guarded by lock too. */
	uint8_t *rxbuf;
	size_t rxlen;
	bool rx_held;	     /* rxbuf holds a frame waiting for rx buffers */
	bool rx_stalled;     /* waiting for the driver to post rx buffers */
	unsigned rx_had;     /* rx chains there were when a frame did not fit */
	size_t rx_had_bytes; /* and the bytes of frame they would have taken */
	bool rx_waited;	     /* the frame in rxbuf waited for buffers (trace) */
	bool tx_blocked;     /* the tap said EAGAIN: wait for EPOLLOUT */
	uint8_t *txbuf;	     /* loopback bounce buffer */
	/* chain: the tx chain being sent; first, more: the rx chains a frame
	 * is copied into.  Apart, because a looped-back frame fills rx chains
	 * while its tx chain is still to be given back. */
	struct virtq_chain chain, first, more;
	uint16_t mrg_head[VIRTQ_MAX_SIZE];
	uint32_t mrg_len[VIRTQ_MAX_SIZE];
	uint64_t drops;

	unsigned index;	   /* which --net: 0 for the first */
	char name[16];	   /* "virtio-net", then "virtio-net1" ...: traces, --stats */
	uint8_t pcicfg_cap; /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
};

/* One per --net, by index (vnet_init); at-exit teardown finds each through
 * the pointer it registered. */
static struct vnet vnets[VNET_MAX];

/* Every trace line names its device: n is in scope wherever one is made. */
#define vtrace(fmt, ...) trace(TRACE_VIRTIO, "%s: " fmt, n->name, ##__VA_ARGS__)

static void stat_add(enum stat_id id, uint64_t n)
{
	__atomic_fetch_add(&stats[id], n, __ATOMIC_RELAXED);
}

/* ---- names for the trace -------------------------------------------------- */
static const struct {
	unsigned bit;
	const char *name;
} feature_names[] = {
    {VIRTIO_NET_F_CSUM, "CSUM"},
    {VIRTIO_NET_F_GUEST_CSUM, "GUEST_CSUM"},
    {VIRTIO_NET_F_MTU, "MTU"},
    {VIRTIO_NET_F_MAC, "MAC"},
    {VIRTIO_NET_F_GUEST_TSO4, "GUEST_TSO4"},
    {VIRTIO_NET_F_GUEST_TSO6, "GUEST_TSO6"},
    {VIRTIO_NET_F_HOST_TSO4, "HOST_TSO4"},
    {VIRTIO_NET_F_HOST_TSO6, "HOST_TSO6"},
    {VIRTIO_NET_F_MRG_RXBUF, "MRG_RXBUF"},
    {VIRTIO_NET_F_STATUS, "STATUS"},
    {VIRTIO_NET_F_CTRL_VQ, "CTRL_VQ"},
    {VIRTIO_NET_F_MQ, "MQ"},
    {VIRTIO_RING_F_INDIRECT_DESC, "RING_INDIRECT_DESC"},
    {VIRTIO_RING_F_EVENT_IDX, "RING_EVENT_IDX"},
    {VIRTIO_F_VERSION_1, "VERSION_1"},
    {VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM"},
    {VIRTIO_F_RING_PACKED, "RING_PACKED"},
    {VIRTIO_F_IN_ORDER, "IN_ORDER"},
    {VIRTIO_F_NOTIFICATION_DATA, "NOTIFICATION_DATA"},
};

static const char *features_str(uint64_t f, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
		if (!(f & F(feature_names[i].bit)))
			continue;
		f &= ~F(feature_names[i].bit);
		n += snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? " " : "",
			      feature_names[i].name);
	}
	for (unsigned b = 0; b < 64; b++)
		if (f & F(b))
			n += snprintf(buf + n, n < size ? size - n : 0, "%sbit%u", n ? " " : "", b);
	if (!n)
		snprintf(buf, size, "(none)");
	return buf;
}

static const char *status_str(uint8_t s, char *buf, size_t size)
{
	snprintf(buf, size, "0x%02x%s%s%s%s%s%s", s, s & VIRTIO_CONFIG_S_ACKNOWLEDGE ? " ACK" : "",
		 s & VIRTIO_CONFIG_S_DRIVER ? " DRIVER" : "",
		 s & VIRTIO_CONFIG_S_FEATURES_OK ? " FEATURES_OK" : "",
		 s & VIRTIO_CONFIG_S_DRIVER_OK ? " DRIVER_OK" : "",
		 s & VIRTIO_CONFIG_S_NEEDS_RESET ? " NEEDS_RESET" : "",
		 s & VIRTIO_CONFIG_S_FAILED ? " FAILED" : "");
	return buf;
}

static const char *qname(unsigned q)
{
	return q == RXQ ? "rx" : q == TXQ ? "tx" : "?";
}

/* ---- guest memory --------------------------------------------------------- */
static void *xlate(void *opaque, uint64_t gpa, uint64_t len)
{
	struct vnet *n = opaque;
	return vm_gpa(n->vm, gpa, len);
}

/* ---- interrupts (lock held) ------------------------------------------------ */
static bool signal_fd(int fd)
{
	uint64_t one = 1;
	return write(fd, &one, sizeof(one)) == sizeof(one);
}

static bool intx_disabled(struct vnet *n)
{
	return n->intx_off; /* Command bit 10 (PCI 3.0 6.2.2) */
}

/* After every config write (vCPU, device lock held, lock held): what the
 * I/O thread needs of the interrupt modes.  Reading config space itself
 * from the I/O thread raced with the vCPUs' writes to it (found by
 * test/tsan/tsan_devices.c). */
static void irq_modes_sync(struct vnet *n)
{
	n->intx_off = vconfig_get(&n->pci.cfg, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE;
	n->msix_on = pci_msix_enabled(&n->pci);
}
/*
 * INTx (PCI 3.0 6.2.2, Command bit 10): the line is up while an interrupt
 * is pending (a set ISR) and INTx is on (neither INTx Disable nor MSI-X).
 *
 * Raising is the I/O thread's as well as the vCPU thread's: it signals the
 * level irqfd, a write to an eventfd.  Lowering early, when the guest turns
 * INTx off, is the vCPU thread's alone: it detaches and re-attaches the
 * irqfd (KVM_IRQFD), which makes KVM drop the line at once, and the irqfd
 * wiring belongs to the thread that owns config space (the I/O thread's
 * allowlist has no KVM_IRQFD, docs/confinement.md).  The I/O thread sees
 * "off" only through intx_off and msix_on, which the vCPU thread sets
 * under the lock in the same critical section as it lowers the line, so
 * the two never disagree.  When the ISR read clears the interrupt, the line is left to
 * KVM, which lowers it at the guest's EOI and tells us through the
 * resample fd (the ISR is read in the handler, before that EOI, so the
 * guest cannot tell the two apart).
 */

/* Assert the line if an interrupt is pending and INTx is on (lock held;
 * both threads). */
static void intx_update(struct vnet *n)
{
	if (n->intx_ok && n->isr && !n->intx_off && !n->msix_on && !n->intx_line &&
	    signal_fd(n->intx_fd)) {
		n->intx_line = true;
		stat_add(STAT_VIRTIO_IRQS, 1);
	}
}

/* The guest wrote Command or the MSI-X capability: take over the new
 * INTx Disable and MSI-X enable, lower the line at once if INTx went off,
 * raise it if INTx came back with an interrupt pending (lock held; the
 * vCPU thread only). */
static void intx_apply(struct vnet *n)
{
	irq_modes_sync(n);
	if ((n->intx_off || n->msix_on) && n->intx_line) {
		vm_irqfd(n->vm, n->intx_fd, n->pci.intx_gsi, n->intx_rs_fd, false);
		n->intx_ok = vm_irqfd(n->vm, n->intx_fd, n->pci.intx_gsi, n->intx_rs_fd, true) == 0;
		n->intx_line = false;
		vtrace("INTx %s: line lowered", intx_disabled(n) ? "disabled" : "replaced by MSI-X");
		if (!n->intx_ok)
			warn("virtio-net: INTx irqfd lost on GSI %u: without MSI-X the device "
			     "cannot interrupt",
			     n->pci.intx_gsi);
	}
	intx_update(n);
}

static void raise_vector(struct vnet *n, uint16_t vector, uint8_t isr_bit)
{
	if (n->msix_on) {
		/* 4.1.4.3: NO_VECTOR means this source does not interrupt. */
		if (vector == NO_VECTOR || vector >= NVEC)
			return;
		/* Always an eventfd, never pci_notify(): this runs on the I/O
		 * thread and the PCI core is the vCPU thread's.  The core keeps
		 * the irqfd attached only while the vector is unmasked; a
		 * signal meanwhile stays in the eventfd and fires on unmask. */
		if (n->irq_fd_ok[vector] && signal_fd(n->irq_fd[vector]))
			stat_add(STAT_VIRTIO_IRQS, 1);
		return;
	}
	/* INTx: the ISR says why (4.1.4.5); pending while it is set, with
	 * INTx Disable or without. */
	n->isr |= isr_bit;
	intx_update(n);
}

static void config_changed(struct vnet *n)
{
	n->generation++;
	raise_vector(n, n->msix_config, VIRTIO_PCI_ISR_CONFIG);
}

static void queue_interrupt(struct vnet *n, unsigned q)
{
	raise_vector(n, n->qc[q].vector, VIRTIO_PCI_ISR_QUEUE);
}

/* The device cannot go on until the driver resets it (2.1.2). */
static void needs_reset(struct vnet *n, const char *why)
{
	if (n->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	vtrace("DEVICE_NEEDS_RESET: %s", why);
	n->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (n->status & VIRTIO_CONFIG_S_DRIVER_OK)
		config_changed(n);
}

static bool live(const struct vnet *n)
{
	return (n->status & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET |
			     VIRTIO_CONFIG_S_FAILED)) == VIRTIO_CONFIG_S_DRIVER_OK;
}

static void wake_thread(struct vnet *n)
{
	uint64_t one = 1;
	if (write(n->ctl_fd, &one, sizeof(one)) < 0)
		vtrace("cannot wake the I/O thread: %s", strerror(errno));
}

/* ---- the tap ------------------------------------------------------------- */
static void tap_set_offload(struct vnet *n, uint64_t features)
{
	unsigned off = 0;

	if (n->be != BE_TAP || n->tap_dead || !n->tap_offloads)
		return;
	/* TUNSETOFFLOAD says what the *reader* (our guest) accepts. */
	if (features & F(VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (features & F(VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (features & F(VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
	}
	if (ioctl(n->tap_fd, TUNSETOFFLOAD, off) < 0)
		vtrace("TUNSETOFFLOAD %#x: %s", off, strerror(errno));
	else
		vtrace("tap %s offloads %#x", n->ifname, off);
}

static void tap_gone(struct vnet *n, int err)
{
	if (n->tap_dead)
		return;
	n->tap_dead = true;
	warn("tap %s failed (%s): link down, the VM goes on without network", n->ifname,
	     strerror(err));
	vtrace("tap %s gone: %s; link down", n->ifname, strerror(err));
	epoll_ctl(n->epfd, EPOLL_CTL_DEL, n->tap_fd, NULL);
	close(n->tap_fd);
	n->tap_fd = -1;
	n->tap_events = 0;
	n->rx_held = false;
	n->tx_blocked = false;
	n->link = 0;
	if (n->features & F(VIRTIO_NET_F_STATUS) && live(n))
		config_changed(n);
}

/* The commands that make tap name as a run wants it: a tap (the user's own
 * when kvmini does not run as root), the address the built-in guest pings
 * on --net number index (its peer, 169.254.(100+index).1, include/memmap.h
 * GUEST_NET_SUBNET, with the prefix that puts the guest's .2 on the link;
 * each --net its own subnet), up.  Written for a root shell on a stock
 * Debian (iproute2); a numeric uid, since $USER may be unset there. */
static void tap_create_line(const char *name, unsigned index, char *out, size_t len)
{
	char user[24] = "";

	if (geteuid())
		snprintf(user, sizeof(user), " user %u", (unsigned)geteuid());
	snprintf(out, len,
		 "ip tuntap add dev %s mode tap%s && ip addr add 169.254.%u.1/24"
		 " dev %s && ip link set %s up",
		 name, user, 100 + index % PCI_MAX_NET, name, name);
}

/* A tap name no interface has yet, for when name is taken by something
 * that is not a tap. */
static void tap_free_name(char out[IFNAMSIZ])
{
	for (unsigned i = 0; i < 100; i++) {
		snprintf(out, IFNAMSIZ, "kvmtap%u", i);
		if (!if_nametoindex(out))
			return;
	}
}

/* What interface name is, asked the way that holds in any network
 * namespace (sysfs shows the one it was mounted in): tun's ethtool driver
 * info says "tun", with bus "tap" or "tun". */
enum iface_kind { IFACE_NONE, IFACE_TAP, IFACE_TUN, IFACE_LOOPBACK, IFACE_OTHER };

static enum iface_kind iface_kind(int sock, const char *name, short *flags)
{
	struct ethtool_drvinfo di = {.cmd = ETHTOOL_GDRVINFO};
	struct ifreq ifr;

	*flags = 0;
	if (!if_nametoindex(name))
		return IFACE_NONE;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr) == 0)
		*flags = ifr.ifr_flags;
	if (*flags & IFF_LOOPBACK)
		return IFACE_LOOPBACK;
	ifr.ifr_data = (void *)&di;
	if (ioctl(sock, SIOCETHTOOL, &ifr) || strcmp(di.driver, "tun"))
		return IFACE_OTHER;
	return strcmp(di.bus_info, "tap") ? IFACE_TUN : IFACE_TAP;
}

/* The process that has tap name attached, from /proc/PID/fdinfo's "iff:"
 * line (tun prints it for an attached fd): its pid and comm, or -1. */
static long tap_holder(const char *name, char *comm, size_t len)
{
	char path[300], line[64], want[IFNAMSIZ + 8];
	DIR *proc = opendir("/proc"), *fds;
	struct dirent *p, *f;
	long found = -1;

	snprintf(want, sizeof(want), "iff:\t%s\n", name);
	while (proc && found < 0 && (p = readdir(proc))) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9' || atol(p->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/fdinfo", p->d_name);
		fds = opendir(path);
		while (fds && found < 0 && (f = readdir(fds))) {
			FILE *in;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%.16s/fdinfo/%.16s", p->d_name, f->d_name);
			in = fopen(path, "re");
			while (in && fgets(line, sizeof(line), in))
				if (!strcmp(line, want))
					found = atol(p->d_name);
			if (in)
				fclose(in);
		}
		if (fds)
			closedir(fds);
	}
	if (proc)
		closedir(proc);
	comm[0] = 0;
	if (found >= 0) {
		FILE *in;

		snprintf(path, sizeof(path), "/proc/%ld/comm", found);
		in = fopen(path, "re");
		if (in && fgets(comm, (int)len, in))
			comm[strcspn(comm, "\n")] = 0;
		if (in)
			fclose(in);
	}
	return found;
}

__attribute__((format(printf, 4, 5))) static int tap_err(struct vnet_tap_err *e, bool denied,
							 const char *fix, const char *fmt, ...)
{
	va_list ap;

	e->denied = denied;
	va_start(ap, fmt);
	vsnprintf(e->what, sizeof(e->what), fmt, ap);
	va_end(ap);
	snprintf(e->fix, sizeof(e->fix), "%s", fix ? fix : "");
	return EXIT_NET;
}

/* Why TUNSETIFF refused an existing interface (err), as what and fix. */
static int tap_refused(const char *name, unsigned index, int err, struct vnet_tap_err *e)
{
	char fix[sizeof(e->fix)], create[240], comm[32];
	long pid;

	tap_create_line(name, index, create, sizeof(create));
	switch (err) {
	case EBUSY:
		pid = tap_holder(name, comm, sizeof(comm));
		if (pid < 0)
			return tap_err(e, false, NULL, "busy: another process has it open");
		snprintf(fix, sizeof(fix), "kill %ld  # %s, which holds %s", pid, comm, name);
		return tap_err(e, false, fix, "busy: process %ld (%s) has it open", pid, comm);
	case EPERM:
		snprintf(fix, sizeof(fix), "ip link delete %s && %s", name, create);
		return tap_err(e, true, fix, "not permitted: the tap belongs to another user");
	case EINVAL:
		snprintf(fix, sizeof(fix), "ip link delete %s && %s", name, create);
		return tap_err(e, false, fix,
			       "refused (EINVAL): a tap with other flags (multi_queue, or a tun)");
	}
	return tap_err(e, false, NULL, "TUNSETIFF: %s", strerror(err));
}

int vnet_tap_open(const char *name, unsigned index, int *fdp, unsigned *offloads,
		  struct vnet_tap_err *e)
{
	char fix[sizeof(e->fix)], create[240], other[IFNAMSIZ];
	struct ifreq ifr;
	unsigned feat = 0;
	int hdr = HDR_LEN, fd, sock, ret = 0;
	enum iface_kind kind;
	short flags;

	*fdp = -1;
	*offloads = 0;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
			return tap_err(e, false, "modprobe tun", "no /dev/net/tun");
		if (errno == EACCES || errno == EPERM)
			return tap_err(e, true, "chmod 0666 /dev/net/tun",
				       "cannot open /dev/net/tun: %s", strerror(errno));
		return tap_err(e, false, NULL, "cannot open /dev/net/tun: %s", strerror(errno));
	}
	if (ioctl(fd, TUNGETFEATURES, &feat) == 0 && !(feat & IFF_VNET_HDR)) {
		close(fd);
		return tap_err(e, false, NULL, "this kernel's tun lacks IFF_VNET_HDR");
	}

	/* TUNSETIFF makes the interface when there is none: a run must not
	 * (it would run the whole guest on a tap nobody set up), so ask
	 * first what name is. */
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		close(fd);
		return tap_err(e, false, NULL, "socket: %s", strerror(errno));
	}
	tap_create_line(name, index, create, sizeof(create));
	tap_free_name(other);
	kind = iface_kind(sock, name, &flags);
	switch (kind) {
	case IFACE_NONE:
		ret = tap_err(e, false, create, "no such interface");
		break;
	case IFACE_LOOPBACK:
	case IFACE_OTHER:
	case IFACE_TUN:
		tap_create_line(other, index, fix, sizeof(fix));
		snprintf(fix + strlen(fix), sizeof(fix) - strlen(fix), "  # then --net tap=%s",
			 other);
		ret = tap_err(e, false, fix, "%s, not a tap",
			      flags & IFF_LOOPBACK ? "the loopback interface"
			      : kind == IFACE_TUN  ? "a tun"
						   : "an interface");
		break;
	case IFACE_TAP: break;
	}
	if (ret)
		goto out;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = tap_refused(name, index, errno, e);
		goto out;
	}
	/* A tap that is down takes no frames (writes fail with EIO). */
	if (!(flags & IFF_UP)) {
		snprintf(fix, sizeof(fix), "ip link set %s up", name);
		ret = tap_err(e, false, fix, "down");
		goto out;
	}
	/* VERSION_1: the header is always 12 bytes (with num_buffers). */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		ret = tap_err(e, false, NULL, "TUNSETVNETHDRSZ %d: %s", hdr, strerror(errno));
		goto out;
	}
	/* Offer offloads only when the tap will honour them. */
	if (ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0)
		*offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	if (ioctl(fd, TUNSETOFFLOAD, 0) < 0)
		*offloads = 0;
out:
	close(sock);
	if (ret)
		close(fd);
	else
		*fdp = fd;
	return ret;
}

static int tap_open(struct vnet *n)
{
	struct vnet_tap_err e;
	int fd, code = vnet_tap_open(n->ifname, n->index, &fd, &n->tap_offloads, &e);

	if (code)
		die(code, "--net tap=%s: %s%s%s", n->ifname, e.what, e.fix[0] ? "; fix: " : "",
		    e.fix);
	return fd;
}

/* ---- spec parsing -------------------------------------------------------- */
static bool parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	unsigned v[6];
	char buf[32], tail;

	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	if (sscanf(buf, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = v[i];
	/* A multicast source address would be refused by every peer. */
	return !(mac[0] & 1);
}

int vnet_spec_parse(const char *spec, struct vnet_spec *out, char *err, size_t len)
{
	/* Locally administered, unicast: 02:6b:76:6d:00:01 ("kvm"). */
	static const uint8_t def_mac[6] = {0x02, 0x6b, 0x76, 0x6d, 0x00, 0x01};
	const char *p = spec, *end;

	memset(out, 0, sizeof(*out));
	memcpy(out->mac, def_mac, 6);
	out->qmax = VIRTQ_MAX_SIZE;
	if (!spec || !*spec)
		spec = p = "loopback";
	end = p + strcspn(p, ",");
	if ((size_t)(end - p) == 4 && !strncmp(p, "none", 4)) {
		out->backend = VNET_BACKEND_NONE;
	} else if ((size_t)(end - p) == 8 && !strncmp(p, "loopback", 8)) {
		out->backend = VNET_BACKEND_LOOPBACK;
	} else if (!strncmp(p, "tap=", 4)) {
		size_t l = end - p - 4;
		if (l == 0 || l >= IFNAMSIZ) {
			snprintf(err, len, "--net %s: the tap name must be 1 to %d characters", spec,
				 IFNAMSIZ - 1);
			return EXIT_USAGE;
		}
		memcpy(out->ifname, p + 4, l);
		out->ifname[l] = 0;
		out->backend = VNET_BACKEND_TAP;
	} else {
		snprintf(err, len, "--net %s: expected tap=NAME[,mac=..], loopback or none", spec);
		return EXIT_USAGE;
	}
	while (*end == ',') {
		p = end + 1;
		end = p + strcspn(p, ",");
		if (!strncmp(p, "mac=", 4)) {
			out->mac_set = true;
			if (!parse_mac(p + 4, end - p - 4, out->mac)) {
				snprintf(err, len,
					 "--net %s: mac= wants a unicast address like "
					 "02:00:00:00:00:01",
					 spec);
				return EXIT_USAGE;
			}
		} else if (!strncmp(p, "queue=", 6)) {
			char *e;
			unsigned long v = strtoul(p + 6, &e, 10);
			if (e != end || e == p + 6 || v < 2 || v > VIRTQ_MAX_SIZE || (v & (v - 1))) {
				snprintf(err, len,
					 "--net %s: queue= wants a power of two from 2 to %d "
					 "(entries per ring)",
					 spec, VIRTQ_MAX_SIZE);
				return EXIT_USAGE;
			}
			out->qmax = (uint16_t)v;
		} else {
			snprintf(err, len, "--net %s: unknown option '%.*s' (mac= or queue=)", spec,
				 (int)(end - p), p);
			return EXIT_USAGE;
		}
	}
	return 0;
}

static void parse_spec(struct vnet *n, const char *spec)
{
	struct vnet_spec s;
	char err[300];
	int code = vnet_spec_parse(spec, &s, err, sizeof(err));

	if (code)
		die(code, "%s", err);
	n->be = (enum backend)s.backend;
	memcpy(n->ifname, s.ifname, sizeof(n->ifname));
	memcpy(n->mac, s.mac, 6);
	if (!s.mac_set)
		n->mac[5] = (uint8_t)(n->mac[5] + n->index); /* each --net its own */
	n->qmax = s.qmax;
}

/* ---- the device state machine (lock held) --------------------------------- */
static void queue_cfg_reset(struct vnet_qcfg *qc, uint16_t qmax)
{
	memset(qc, 0, sizeof(*qc));
	qc->size = qmax;
	qc->vector = NO_VECTOR;
}

/* 2.4.1: after a reset every queue and register is back to its initial
 * value.  The I/O thread only touches queues with the lock held, so once we
 * hold it no queue is in use and clearing them is safe. */
static void device_reset(struct vnet *n)
{
	n->status = 0;
	n->dfselect = n->gfselect = 0;
	n->drv_features = n->features = 0;
	n->msix_config = NO_VECTOR;
	n->qsel = 0;
	for (unsigned q = 0; q < NQUEUES; q++) {
		queue_cfg_reset(&n->qc[q], n->qmax);
		virtq_reset(&n->vq[q]);
	}
	n->isr = 0; /* an asserted INTx line drops at the next EOI */
	n->rx_held = n->rx_stalled = n->tx_blocked = false;
	n->rx_had = 0;
	n->rx_waited = false;
	/* A notify written before the reset may still sit in a kick eventfd
	 * (KVM signals it during the guest's write; the I/O thread reads it
	 * under this lock, later).  It belongs to the old device: read after
	 * the reset it would look like a kick for a queue never enabled and
	 * set DEVICE_NEEDS_RESET on the fresh device, which Linux's vp_reset
	 * then waits on forever.  Discard it. */
	for (unsigned q = 0; q < NQUEUES; q++) {
		uint64_t cnt;
		if (n->kick_fd[q] >= 0 && read(n->kick_fd[q], &cnt, sizeof(cnt)) == sizeof(cnt))
			vtrace("reset: %s kick pending from before the reset discarded", qname(q));
	}
	tap_set_offload(n, 0);
}

static bool features_acceptable(struct vnet *n, uint64_t f, const char **why)
{
	if (f & ~n->offered) {
		*why = "driver accepted features that were not offered";
		return false;
	}
	/* A modern-only device: 6.1 "a device MAY fail to operate further if
	 * VIRTIO_F_VERSION_1 is not accepted". */
	if (!(f & F(VIRTIO_F_VERSION_1))) {
		*why = "VERSION_1 not accepted (this device has no legacy interface)";
		return false;
	}
	/* 5.1.3.1 dependencies. */
	if ((f & (F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))) &&
	    !(f & F(VIRTIO_NET_F_GUEST_CSUM))) {
		*why = "GUEST_TSO without GUEST_CSUM";
		return false;
	}
	if ((f & (F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6))) &&
	    !(f & F(VIRTIO_NET_F_CSUM))) {
		*why = "HOST_TSO without CSUM";
		return false;
	}
	return true;
}

static void status_write(struct vnet *n, uint8_t v)
{
	char b1[80], b2[80];

	if (v == 0) {
		vtrace("status %s -> 0: reset", status_str(n->status, b1, sizeof(b1)));
		device_reset(n);
		return;
	}
	/* The driver never clears bits (2.1.2) except by reset, and never
	 * sets NEEDS_RESET, which is the device's. */
	if (n->status & ~v & ~VIRTIO_CONFIG_S_NEEDS_RESET)
		vtrace("status write %#04x would clear bits of %#04x: ignored", v, n->status);
	uint8_t add = v & ~n->status & ~VIRTIO_CONFIG_S_NEEDS_RESET;
	uint8_t old = n->status;
	n->status |= add;

	if (add & VIRTIO_CONFIG_S_FEATURES_OK) {
		const char *why;
		if (!(n->status & VIRTIO_CONFIG_S_DRIVER)) {
			why = "FEATURES_OK before DRIVER";
			n->status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
			vtrace("FEATURES_OK refused: %s", why);
		} else if (!features_acceptable(n, n->drv_features, &why)) {
			/* 3.1.1: leaving FEATURES_OK clear tells the driver. */
			n->status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
			vtrace("FEATURES_OK refused: %s (driver: %s)", why,
			       features_str(n->drv_features, b1, sizeof(b1)));
		} else {
			n->features = n->drv_features;
			vtrace("features negotiated: %s",
			       features_str(n->features, b2, sizeof(b2)));
			tap_set_offload(n, n->features);
		}
	}
	if (add & VIRTIO_CONFIG_S_DRIVER_OK) {
		if (!(n->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			needs_reset(n, "DRIVER_OK without FEATURES_OK");
		} else {
			vtrace("DRIVER_OK: rx %s (size %u, vector %u), tx %s (size %u, vector %u), "
			       "msix %s",
			       n->vq[RXQ].ready ? "ready" : "off", n->qc[RXQ].size,
			       n->qc[RXQ].vector, n->vq[TXQ].ready ? "ready" : "off",
			       n->qc[TXQ].size, n->qc[TXQ].vector,
			       n->msix_on ? "on" : "off");
			wake_thread(n);
		}
	}
	if (add & VIRTIO_CONFIG_S_FAILED)
		vtrace("driver set FAILED: it gave up on the device");
	if (n->status != old)
		vtrace("status %s -> %s", status_str(old, b1, sizeof(b1)),
		       status_str(n->status, b2, sizeof(b2)));
}

static void queue_enable(struct vnet *n, unsigned q)
{
	struct vnet_qcfg *qc = &n->qc[q];
	char why[160];

	if (!(n->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		needs_reset(n, "queue enabled before FEATURES_OK");
		return;
	}
	qc->enable = 1;
	/* 4.1.4.3: queue_size starts at the device's maximum; the driver may
	 * only lower it. */
	if (qc->size > n->qmax) {
		snprintf(why, sizeof(why), "%s queue: size %u above the device's maximum %u",
			 qname(q), qc->size, n->qmax);
		needs_reset(n, why);
		return;
	}
	int r = virtq_setup(&n->vq[q], qc->size, qc->desc, qc->driver, qc->device,
			    n->features & F(VIRTIO_RING_F_EVENT_IDX),
			    n->features & F(VIRTIO_RING_F_INDIRECT_DESC), xlate, n);
	if (r) {
		snprintf(why, sizeof(why), "%s queue: %s", qname(q), n->vq[q].err);
		needs_reset(n, why);
		return;
	}
	vtrace("%s queue enabled: size %u desc %#llx driver %#llx device %#llx vector %u", qname(q),
	       qc->size, (unsigned long long)qc->desc, (unsigned long long)qc->driver,
	       (unsigned long long)qc->device, qc->vector);
}

static uint16_t vector_check(uint16_t v)
{
	/* 4.1.4.3.2: a vector the device cannot use reads back NO_VECTOR. */
	return v < NVEC ? v : NO_VECTOR;
}

/* ---- BAR0 registers (vCPU thread) ----------------------------------------- */
static void common_image(struct vnet *n, uint8_t img[COMMON_LEN])
{
	struct virtio_pci_common_cfg c;

	memset(&c, 0, sizeof(c));
	c.device_feature_select = n->dfselect;
	c.device_feature = n->dfselect < 2 ? (uint32_t)(n->offered >> (32 * n->dfselect)) : 0;
	c.guest_feature_select = n->gfselect;
	c.guest_feature = n->gfselect < 2 ? (uint32_t)(n->drv_features >> (32 * n->gfselect)) : 0;
	c.msix_config = n->msix_config;
	c.num_queues = NQUEUES;
	c.device_status = n->status;
	c.config_generation = n->generation;
	c.queue_select = n->qsel;
	if (n->qsel < NQUEUES) {
		struct vnet_qcfg *qc = &n->qc[n->qsel];
		c.queue_size = qc->size;
		c.queue_msix_vector = qc->vector;
		c.queue_enable = qc->enable;
		c.queue_notify_off = n->qsel;
		c.queue_desc_lo = (uint32_t)qc->desc;
		c.queue_desc_hi = (uint32_t)(qc->desc >> 32);
		c.queue_avail_lo = (uint32_t)qc->driver;
		c.queue_avail_hi = (uint32_t)(qc->driver >> 32);
		c.queue_used_lo = (uint32_t)qc->device;
		c.queue_used_hi = (uint32_t)(qc->device >> 32);
	}
	/* queue_size 0 for a queue that does not exist (4.1.4.3). */
	memcpy(img, &c, COMMON_LEN);
}

static void set_half(uint64_t *v, unsigned off, unsigned len, uint64_t val)
{
	if (len == 8)
		*v = val;
	else if (off & 4)
		*v = (*v & 0xffffffffull) | (val << 32);
	else
		*v = (*v & ~0xffffffffull) | (uint32_t)val;
}

static void common_write(struct vnet *n, unsigned off, unsigned len, uint64_t val)
{
	struct vnet_qcfg *qc = n->qsel < NQUEUES ? &n->qc[n->qsel] : NULL;

#define IS(o, l) (off == (o) && len == (l))
	if (IS(VIRTIO_PCI_COMMON_DFSELECT, 4)) {
		n->dfselect = val;
	} else if (IS(VIRTIO_PCI_COMMON_GFSELECT, 4)) {
		n->gfselect = val;
	} else if (IS(VIRTIO_PCI_COMMON_GF, 4)) {
		if (!(n->status & VIRTIO_CONFIG_S_DRIVER) ||
		    (n->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			vtrace("driver_feature write outside DRIVER..FEATURES_OK: ignored");
		} else if (n->gfselect < 2) {
			unsigned sh = 32 * n->gfselect;
			n->drv_features = (n->drv_features & ~(0xffffffffull << sh)) | (val << sh);
		}
	} else if (IS(VIRTIO_PCI_COMMON_MSIX, 2)) {
		n->msix_config = vector_check(val);
		vtrace("config vector %u", n->msix_config);
	} else if (IS(VIRTIO_PCI_COMMON_STATUS, 1)) {
		status_write(n, val);
	} else if (IS(VIRTIO_PCI_COMMON_Q_SELECT, 2)) {
		n->qsel = val;
	} else if (!qc) {
		vtrace("queue register %#x written with queue_select %u (no such queue): ignored",
		       off, n->qsel);
	} else if (qc->enable && off >= VIRTIO_PCI_COMMON_Q_SIZE &&
		   off != VIRTIO_PCI_COMMON_Q_ENABLE && off != VIRTIO_PCI_COMMON_Q_MSIX) {
		vtrace("%s queue register %#x written while enabled: ignored", qname(n->qsel), off);
	} else if (IS(VIRTIO_PCI_COMMON_Q_SIZE, 2)) {
		qc->size = val; /* checked when enabled */
	} else if (IS(VIRTIO_PCI_COMMON_Q_MSIX, 2)) {
		qc->vector = vector_check(val);
		vtrace("%s queue vector %u", qname(n->qsel), qc->vector);
	} else if (IS(VIRTIO_PCI_COMMON_Q_ENABLE, 2)) {
		if (val == 1 && !qc->enable)
			queue_enable(n, n->qsel);
		else if (val != 1)
			vtrace("queue_enable %llu for %s: ignored (only 1 is allowed)",
			       (unsigned long long)val, qname(n->qsel));
	} else if (off >= VIRTIO_PCI_COMMON_Q_DESCLO && off < VIRTIO_PCI_COMMON_Q_USEDHI + 4 &&
		   (off & (len - 1))) {
		/* 4.1.3.1: the driver accesses a field with its own width at its
		 * own offset (64-bit fields as two 32-bit halves, or whole). */
		vtrace("%s queue address write %#x/%u = %#llx misaligned: ignored", qname(n->qsel),
		       off, len, (unsigned long long)val);
	} else if ((off & ~7u) == VIRTIO_PCI_COMMON_Q_DESCLO && (len == 4 || IS(off & ~7u, 8))) {
		set_half(&qc->desc, off, len, val);
	} else if ((off & ~7u) == VIRTIO_PCI_COMMON_Q_AVAILLO && (len == 4 || IS(off & ~7u, 8))) {
		set_half(&qc->driver, off, len, val);
	} else if ((off & ~7u) == VIRTIO_PCI_COMMON_Q_USEDLO && (len == 4 || IS(off & ~7u, 8))) {
		set_half(&qc->device, off, len, val);
	} else {
		vtrace("common cfg write %#x/%u = %#llx: read-only or wrong width, ignored", off,
		       len, (unsigned long long)val);
	}
#undef IS
}

static void kick_by_trap(struct vnet *n, unsigned q)
{
	/* KVM took no ioeventfd for this write (odd width, or none wired):
	 * hand it to the I/O thread the same way. */
	if (q < NQUEUES) {
		uint64_t one = 1;
		if (write(n->kick_fd[q], &one, sizeof(one)) < 0)
			vtrace("kick: %s", strerror(errno));
	} else {
		vtrace("notify for queue %u: no such queue", q);
	}
}

static void vnet_start(struct vnet *n);

static void bar0_access(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct vnet *n = opaque;
	uint64_t val = 0;

	vnet_start(n);
	if (is_write)
		memcpy(&val, data, len > 8 ? 8 : len);
	else
		memset(data, 0, len);
	if (len > 8)
		return;

	pthread_mutex_lock(&n->lock);
	if (off + len <= OFF_COMMON + COMMON_LEN) { /* OFF_COMMON is 0 */
		unsigned o = off - OFF_COMMON;
		if (is_write) {
			common_write(n, o, len, val);
		} else {
			uint8_t img[COMMON_LEN];
			common_image(n, img);
			memcpy(data, img + o, len);
		}
	} else if (off == OFF_ISR) {
		if (!is_write) {
			/* 4.1.4.5.1: reading the ISR clears it and de-asserts INTx. */
			*(uint8_t *)data = n->isr;
			n->isr = 0; /* the line drops at EOI (resample irqfd) */
		}
	} else if (off >= OFF_DEVICE && off + len <= OFF_DEVICE + DEVICE_LEN) {
		if (!is_write) {
			struct virtio_net_config c;
			memset(&c, 0, sizeof(c));
			memcpy(c.mac, n->mac, 6);
			c.status = n->link;
			c.max_virtqueue_pairs = 1;
			c.mtu = VNET_MTU;
			memcpy(data, (uint8_t *)&c + (off - OFF_DEVICE), len);
		} else {
			vtrace("device config write at %#llx ignored (read-only in virtio 1)",
			       (unsigned long long)(off - OFF_DEVICE));
		}
	} else if (off >= OFF_NOTIFY && off < OFF_NOTIFY + NOTIFY_MULT * NQUEUES) {
		if (is_write)
			kick_by_trap(n, (off - OFF_NOTIFY) / NOTIFY_MULT);
	} else {
		vtrace("BAR0 %s at %#llx/%u: nothing there", is_write ? "write" : "read",
		       (unsigned long long)off, len);
	}
	pthread_mutex_unlock(&n->lock);
}

static void msix_bar_access(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct vnet *n = opaque;

	/* The PCI core serves the table and PBA; anything else reads 0. */
	vnet_start(n);
	if (!is_write)
		memset(data, 0, len);
	vtrace("MSI-X BAR %s at %#llx/%u outside table and PBA", is_write ? "write" : "read",
	       (unsigned long long)off, len);
}

/* ---- config space hooks (vCPU thread) -------------------------------------- */
/* 4.1.4.9: the window in VIRTIO_PCI_CAP_PCI_CFG reaches the BAR through
 * config space (for firmware without the BAR mapped). */
static bool pcicfg_target(struct vnet *n, unsigned *off, unsigned *len)
{
	struct vconfig *c = &n->pci.cfg;
	unsigned bar = vconfig_get(c, n->pcicfg_cap + 4, 1);
	*off = vconfig_get(c, n->pcicfg_cap + 8, 4);
	*len = vconfig_get(c, n->pcicfg_cap + 12, 4);
	if (bar != VNET_BAR || (*len != 1 && *len != 2 && *len != 4) || *off % *len ||
	    *off >= VNET_BAR_SIZE) {
		/* length 0 is the window at rest (a config dump reads it). */
		if (*len)
			vtrace("PCI_CFG window: bar %u offset %#x length %u: not a valid access",
			       bar, *off, *len);
		return false;
	}
	return true;
}

static bool hits_reg(unsigned off, unsigned len, unsigned reg, unsigned rlen)
{
	return off < reg + rlen && reg < off + len;
}

static bool overlaps_data(const struct vnet *n, unsigned off, unsigned len)
{
	unsigned d = n->pcicfg_cap + 16u;
	return n->pcicfg_cap && off < d + 4 && off + len > d;
}

static void notify_rewire(struct vnet *n);

static void vnet_cfg_write(struct pci_dev *d, unsigned off, unsigned len, uint32_t val)
{
	struct vnet *n = d->priv;
	unsigned o, l;

	if (!pci_firmware_start)
		vnet_start(n);
	/* Before the guest's first access (the firmware-like start placing
	 * BARs and turning decode on) there is nothing to wire yet:
	 * vnet_start() wires the notify addresses where the BAR is then. */
	if (!n->started) {
		pthread_mutex_lock(&n->lock);
		irq_modes_sync(n);
		pthread_mutex_unlock(&n->lock);
		return;
	}
	(void)val;
	if (overlaps_data(n, off, len) && pcicfg_target(n, &o, &l)) {
		uint32_t v = vconfig_get(&d->cfg, n->pcicfg_cap + 16, l);
		bar0_access(n, o, &v, l, true);
	}
	/* A BAR move or a decode toggle moves the notify addresses. */
	notify_rewire(n);
	/* INTx Disable or MSI-X enable may have changed: the line follows. */
	pthread_mutex_lock(&n->lock);
	if (hits_reg(off, len, PCI_COMMAND, 2) ||
	    (n->pci.msix.present && hits_reg(off, len, n->pci.msix.cap, 4)))
		intx_apply(n);
	else
		irq_modes_sync(n);
	pthread_mutex_unlock(&n->lock);
}

static void vnet_cfg_read(struct pci_dev *d, unsigned off, unsigned len, uint32_t *val)
{
	struct vnet *n = d->priv;
	unsigned o, l;

	if (!pci_firmware_start)
		vnet_start(n);
	if (overlaps_data(n, off, len) && pcicfg_target(n, &o, &l)) {
		uint32_t v = 0;
		bar0_access(n, o, &v, l, false);
		vconfig_set(&d->cfg, n->pcicfg_cap + 16, 4, v);
		*val = vconfig_get(&d->cfg, off, len);
	}
	/* Status.Interrupt (PCI 3.0 6.2.3) shows the INTx pending state, the
	 * ISR, whatever INTx Disable says. */
	if (hits_reg(off, len, PCI_STATUS, 1)) {
		unsigned sh = 8 * (PCI_STATUS - off);
		uint32_t bit = (uint32_t)PCI_STATUS_INTERRUPT << sh;
		*val = __atomic_load_n(&n->isr, __ATOMIC_RELAXED) ? *val | bit : *val & ~bit;
	}
}

static const struct pci_dev_ops vnet_ops = {
    .cfg_read = vnet_cfg_read,
    .cfg_write = vnet_cfg_write,
};

/* Keep one ioeventfd per queue on the notify address of the BAR as it is
 * mapped now (vCPU thread: config writes are the only way it moves). */
static void notify_rewire(struct vnet *n)
{
	struct pci_bar *b = &n->pci.bar[VNET_BAR];
	uint64_t want = b->mapped ? b->addr + OFF_NOTIFY : 0;

	if (want == n->notify_gpa)
		return;
	if (n->notify_gpa) {
		for (unsigned q = 0; q < NQUEUES; q++)
			vm_ioeventfd(n->vm, n->notify_gpa + NOTIFY_MULT * q, 2, n->kick_fd[q],
				     false, false);
		vtrace("ioeventfds removed from %#llx", (unsigned long long)n->notify_gpa);
	}
	n->notify_gpa = 0;
	if (!want)
		return;
	for (unsigned q = 0; q < NQUEUES; q++) {
		int r = vm_ioeventfd(n->vm, want + NOTIFY_MULT * q, 2, n->kick_fd[q], false, true);
		if (r < 0) {
			/* Still correct, only slower: the trap handler kicks. */
			vtrace("ioeventfd for %s at %#llx: %s (kicks will exit)", qname(q),
			       (unsigned long long)(want + NOTIFY_MULT * q), strerror(-r));
			while (q--)
				vm_ioeventfd(n->vm, want + NOTIFY_MULT * q, 2, n->kick_fd[q], false,
					     false);
			return;
		}
	}
	n->notify_gpa = want;
	vtrace("ioeventfds: rx kick at %#llx, tx kick at %#llx", (unsigned long long)want,
	       (unsigned long long)(want + NOTIFY_MULT));
}

/* ---- I/O thread: receive (lock held) -------------------------------------- */
static void fix_rx_header(struct vnet *n, uint8_t *hdr, uint16_t nbufs)
{
	struct virtio_net_hdr_v1 *h = (struct virtio_net_hdr_v1 *)hdr;

	/* 5.1.6.4.1: no flags or GSO the driver did not negotiate. */
	if (!(n->features & F(VIRTIO_NET_F_GUEST_CSUM)))
		h->flags = 0;
	if (!(n->features & (F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))))
		h->gso_type = VIRTIO_NET_HDR_GSO_NONE, h->gso_size = 0;
	h->num_buffers = nbufs;
}

/* Put one frame (buf: 12-byte header + frame, len bytes in all) on the rx
 * queue.  0 done (or dropped), -EAGAIN no room (nothing consumed), -EINVAL
 * the ring is broken. */
static int rx_deliver(struct vnet *n, uint8_t *buf, size_t len)
{
	struct virtq *q = &n->vq[RXQ];
	bool mrg = n->features & F(VIRTIO_NET_F_MRG_RXBUF);
	unsigned nb = 0;
	size_t done = 0;
	char why[160];

	if (!q->ready) {
		n->drops++;
		vtrace("rx: %zu-byte frame dropped: rx queue not enabled", len - HDR_LEN);
		return 0;
	}
	while (done < len) {
		struct virtq_chain *c = nb ? &n->more : &n->first;
		int r = virtq_pop(q, c);
		if (r < 0) {
			snprintf(why, sizeof(why), "rx queue: %s", q->err);
			needs_reset(n, why);
			return -EINVAL;
		}
		if (r == 0) {
			virtq_unpop(q, nb);
			n->rx_had = nb;
			n->rx_had_bytes = done;
			return -EAGAIN;
		}
		if (c->in_len == 0) {
			needs_reset(n, "rx queue: chain with no writable buffer");
			return -EINVAL;
		}
		if (!mrg && c->in_len < len) {
			/* 5.1.6.3.1 says the driver must not; drop the frame and
			 * give the buffer back empty rather than truncate. */
			vtrace("rx: buffer of %llu bytes for a %zu-byte frame: dropped",
			       (unsigned long long)c->in_len, len);
			virtq_push(q, c->head, 0);
			n->drops++;
			return 0;
		}
		size_t chunk = len - done < c->in_len ? len - done : c->in_len;
		virtq_copy_to_in(c, 0, buf + done, chunk);
		n->mrg_head[nb] = c->head;
		n->mrg_len[nb] = chunk;
		nb++;
		done += chunk;
		if (nb >= q->size && done < len) {
			/* Every buffer of the ring is not enough: waiting for more
			 * would wedge rx for good.  Drop this frame and leave the
			 * buffers for the next one. */
			vtrace("rx: %zu-byte frame does not fit in all %u rx buffers: dropped",
			       len - HDR_LEN, nb);
			virtq_unpop(q, nb);
			n->drops++;
			return 0;
		}
	}
	/* num_buffers lives in the first buffer's header (5.1.6.4). */
	uint8_t hdr[HDR_LEN];
	memcpy(hdr, buf, HDR_LEN);
	fix_rx_header(n, hdr, nb);
	virtq_copy_to_in(&n->first, 0, hdr, HDR_LEN);
	for (unsigned i = 0; i < nb; i++)
		virtq_push(q, n->mrg_head[i], n->mrg_len[i]);
	stat_add(STAT_VIRTIO_RX, 1);
	if (trace_mask & TRACE_VIRTIO) {
		const uint8_t *e = buf + HDR_LEN;
		vtrace("rx %zu bytes in %u buffer%s: %02x:%02x:%02x:%02x:%02x:%02x <- "
		       "%02x:%02x:%02x:%02x:%02x:%02x type %04x",
		       len - HDR_LEN, nb, nb == 1 ? "" : "s", e[0], e[1], e[2], e[3], e[4], e[5],
		       e[6], e[7], e[8], e[9], e[10], e[11],
		       len >= HDR_LEN + 14 ? e[12] << 8 | e[13] : 0);
	}
	return 0;
}

static void flush(struct vnet *n, unsigned q)
{
	if (virtq_publish(&n->vq[q]))
		queue_interrupt(n, q);
}

static void rx_stall(struct vnet *n, size_t len)
{
	/* Out of rx buffers: ask for a kick when the driver posts more (with
	 * EVENT_IDX at the avail index seen now: the buffers the frame found
	 * and gave back are already behind it).  If more arrived meanwhile
	 * than the frame found, the driver may have decided not to kick
	 * before it saw our request: the caller retries.  Each retry needs
	 * strictly more buffers, so this ends. */
	virtq_kicks_on(&n->vq[RXQ]);
	int avail = virtq_avail_count(&n->vq[RXQ]);
	n->rx_stalled = !(avail > 0 && (unsigned)avail > n->rx_had);
	if (n->rx_stalled && !n->rx_waited)
		vtrace("rx: %zu-byte frame waits for rx buffers (the %u posted take %zu bytes of "
		       "it); next addition kicks",
		       len - HDR_LEN, n->rx_had, n->rx_had_bytes);
	n->rx_waited |= n->rx_stalled;
}

static void rx_from_tap(struct vnet *n)
{
	if (n->be != BE_TAP || n->tap_dead)
		return;
	for (int budget = BATCH; budget > 0; budget--) {
		if (!n->rx_held) {
			ssize_t r = read(n->tap_fd, n->rxbuf, RXBUF_SIZE);
			if (r < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				if (errno == EIO || errno == ENOBUFS) {
					vtrace("tap read: %s", strerror(errno));
					break;
				}
				tap_gone(n, errno);
				return;
			}
			if (r == 0)
				break;
			if ((size_t)r < HDR_LEN + 14) {
				vtrace("tap: runt read of %zd bytes dropped", r);
				continue;
			}
			n->rxlen = r;
			n->rx_held = true;
		}
		if (!live(n)) {
			n->rx_held = n->rx_waited = false; /* no driver: the wire drops it */
			n->drops++;
			continue;
		}
		int r = rx_deliver(n, n->rxbuf, n->rxlen);
		if (r == -EAGAIN) {
			rx_stall(n, n->rxlen);
			if (n->rx_stalled)
				break;
			continue;
		}
		if (r < 0)
			break;
		n->rx_held = false;
		if (n->rx_waited)
			vtrace("rx: the waiting frame went out");
		n->rx_waited = false;
	}
	flush(n, RXQ);
}

/* ---- I/O thread: transmit (lock held) -------------------------------------- */
/* 0 sent (or dropped), -EAGAIN try again later (chain not consumed). */
static int tx_one(struct vnet *n, struct virtq_chain *c)
{
	struct virtio_net_hdr_v1 h;
	size_t flen = c->out_len - HDR_LEN;

	if (c->out_len < HDR_LEN + 14 || c->out_len > HDR_LEN + FRAME_MAX) {
		vtrace("tx: chain of %llu bytes is not header + frame: dropped",
		       (unsigned long long)c->out_len);
		n->drops++;
		return 0;
	}
	virtq_copy_from_out(c, 0, &h, HDR_LEN);
	/* Only offloads the driver negotiated reach the tap (5.1.6.2.1). */
	if (!(n->features & F(VIRTIO_NET_F_CSUM)))
		h.flags = 0;
	if (!(n->features & (F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6))))
		h.gso_type = VIRTIO_NET_HDR_GSO_NONE, h.gso_size = 0;
	h.num_buffers = 0;

	if (trace_mask & TRACE_VIRTIO) {
		uint8_t e[14];
		virtq_copy_from_out(c, HDR_LEN, e, 14);
		vtrace("tx %zu bytes in %u buffer%s%s: %02x:%02x:%02x:%02x:%02x:%02x -> "
		       "%02x:%02x:%02x:%02x:%02x:%02x type %04x",
		       flen, c->nout, c->nout == 1 ? "" : "s", c->indirect ? " (indirect)" : "",
		       e[6], e[7], e[8], e[9], e[10], e[11], e[0], e[1], e[2], e[3], e[4], e[5],
		       e[12] << 8 | e[13]);
	}

	switch (n->be) {
	case BE_NONE: n->drops++; return 0;
	case BE_LOOPBACK: {
		memcpy(n->txbuf, &h, HDR_LEN);
		virtq_copy_from_out(c, HDR_LEN, n->txbuf + HDR_LEN, flen);
		for (;;) {
			int r = rx_deliver(n, n->txbuf, HDR_LEN + flen);
			if (r != -EAGAIN) {
				if (n->rx_waited)
					vtrace("rx: the waiting frame went out");
				n->rx_waited = false;
				return 0;
			}
			/* Back-pressure: the frame stays on tx until rx has
			 * room, as a wire would hold it; an rx kick resumes us. */
			rx_stall(n, HDR_LEN + flen);
			if (n->rx_stalled)
				return -EAGAIN;
		}
	}
	case BE_TAP: {
		struct iovec iov[VIRTQ_MAX_IOV + 1];
		unsigned ni = 0;
		uint64_t skip = HDR_LEN;

		if (n->tap_dead) {
			n->drops++;
			return 0;
		}
		iov[ni].iov_base = &h;
		iov[ni++].iov_len = HDR_LEN;
		for (unsigned i = 0; i < c->nout; i++) {
			if (skip >= c->iov[i].len) {
				skip -= c->iov[i].len;
				continue;
			}
			iov[ni].iov_base = (uint8_t *)c->iov[i].base + skip;
			iov[ni++].iov_len = c->iov[i].len - skip;
			skip = 0;
		}
		ssize_t r = writev(n->tap_fd, iov, ni);
		if (r >= 0)
			return 0;
		if (errno == EAGAIN)
			return -EAGAIN;
		if (errno == EBADFD || errno == ENODEV || errno == ENXIO) {
			tap_gone(n, errno);
		} else {
			/* EIO (interface down), EINVAL (bad GSO header): this
			 * frame is lost, the next may pass. */
			vtrace("tap write of %zu bytes: %s: dropped", flen, strerror(errno));
		}
		n->drops++;
		return 0;
	}
	}
	return 0;
}

static void tx_process(struct vnet *n)
{
	struct virtq *q = &n->vq[TXQ];
	char why[160];

	if (!q->ready || n->tx_blocked)
		return;
	if (n->be == BE_LOOPBACK && n->rx_stalled)
		return;
	for (;;) {
		int budget = BATCH, r = 0;
		virtq_kicks_off(q);
		while (budget-- > 0 && (r = virtq_pop(q, &n->chain)) > 0) {
			if (tx_one(n, &n->chain) == -EAGAIN) {
				virtq_unpop(q, 1);
				if (n->be == BE_TAP)
					n->tx_blocked = true;
				r = 0;
				break;
			}
			virtq_push(q, n->chain.head, 0);
			stat_add(STAT_VIRTIO_TX, 1);
		}
		flush(n, TXQ);
		if (n->be == BE_LOOPBACK)
			flush(n, RXQ);
		if (r < 0) {
			snprintf(why, sizeof(why), "tx queue: %s", q->err);
			needs_reset(n, why);
			return;
		}
		if (n->tx_blocked || (n->be == BE_LOOPBACK && n->rx_stalled))
			return; /* resumed by EPOLLOUT / an rx kick */
		if (budget >= 0 && !virtq_kicks_on(q))
			return;
		/* More arrived, or the batch ran out: go again, but let the
		 * vCPU thread in between batches. */
		pthread_mutex_unlock(&n->lock);
		pthread_mutex_lock(&n->lock);
		if (!live(n) || !q->ready)
			return;
	}
}

/* ---- I/O thread main loop --------------------------------------------------- */
static void tap_watch(struct vnet *n)
{
	uint32_t ev = 0;

	if (n->be != BE_TAP || n->tap_dead)
		return;
	/* Stop reading while the frame we hold has nowhere to go, so epoll
	 * does not spin; an rx kick lets us in again. */
	if (!(n->rx_held && live(n)))
		ev |= EPOLLIN;
	if (n->tx_blocked)
		ev |= EPOLLOUT;
	if (ev == n->tap_events)
		return;
	struct epoll_event e = {.events = ev, .data.u32 = 100};
	if (epoll_ctl(n->epfd, EPOLL_CTL_MOD, n->tap_fd, &e) == 0)
		n->tap_events = ev;
}

static void early_kick(struct vnet *n, unsigned q)
{
	char why[96];

	/* Before DRIVER_OK the device must not use the rings (3.1.1).  A kick
	 * for a queue the driver has enabled is harmless (the buffers are
	 * taken at DRIVER_OK); one for a queue never set up is a broken
	 * driver. */
	if (n->status & VIRTIO_CONFIG_S_DRIVER_OK)
		return;
	if (n->qc[q].enable) {
		vtrace("%s kick before DRIVER_OK: deferred until DRIVER_OK", qname(q));
		return;
	}
	snprintf(why, sizeof(why), "%s kick before DRIVER_OK on a queue not enabled", qname(q));
	needs_reset(n, why);
}

/* One wake-up's work, for the events epoll reported (lock held).  Kept
 * apart from the loop so the unit test can run it on its own thread, one
 * step at a time (test/unit/test_virtio_net.c). */
static void io_events(struct vnet *n, const struct epoll_event *ev, int ne)
{
	bool kicked[NQUEUES] = {false, false};

	for (int i = 0; i < ne; i++) {
		uint32_t id = ev[i].data.u32;
		uint64_t cnt;
		if (id < NQUEUES) {
			if (read(n->kick_fd[id], &cnt, sizeof(cnt)) == sizeof(cnt)) {
				stat_add(STAT_VIRTIO_KICKS, cnt);
				kicked[id] = true;
			}
		} else if (id == 101) {
			/* INTx EOI'd: KVM lowered the line; still pending?
			 * then assert it again. */
			if (read(n->intx_rs_fd, &cnt, sizeof(cnt)) == sizeof(cnt)) {
				n->intx_line = false;
				intx_update(n);
			}
		} else if (id == 99) {
			if (read(n->ctl_fd, &cnt, sizeof(cnt)) < 0)
				(void)0;
		} else if (id == 100) {
			if (ev[i].events & (EPOLLERR | EPOLLHUP)) {
				tap_gone(n, EBADFD);
			} else if (ev[i].events & EPOLLOUT) {
				n->tx_blocked = false;
			}
		}
	}
	for (unsigned q = 0; q < NQUEUES; q++) {
		if (kicked[q]) {
			early_kick(n, q);
			if (live(n))
				vtrace("%s kick", qname(q));
		}
	}
	if (kicked[RXQ])
		n->rx_stalled = false;
	if (live(n)) {
		rx_from_tap(n);
		tx_process(n);
	} else {
		rx_from_tap(n); /* not live: reads and drops */
	}
	tap_watch(n);
}

static void *io_thread(void *arg)
{
	struct vnet *n = arg;
	struct epoll_event ev[8];

	/* Its setup was done by vnet_init before the thread started. */
	seccomp_confine(SECCOMP_IO);
	for (;;) {
		int ne = epoll_wait(n->epfd, ev, 8, -1);
		if (ne < 0 && errno != EINTR) {
			warn("virtio-net: epoll_wait: %s; the device stops", strerror(errno));
			return NULL;
		}
		pthread_mutex_lock(&n->lock);
		if (n->stop) {
			pthread_mutex_unlock(&n->lock);
			return NULL;
		}
		io_events(n, ev, ne);
		pthread_mutex_unlock(&n->lock);
	}
}

/* What only a driver needs: the frame buffers, the INTx irqfd (its
 * resampler costs KVM an SRCU grace period), the epoll set and the I/O
 * thread.  Started at the guest's first access to the device, config space
 * or a BAR, which comes before anything that can use them (a driver reads
 * the IDs, sizes and enables the BARs, then writes the status), so a guest
 * that never looks at the NIC does not pay for them at start or exit.
 * This runs on the vCPU thread, where SIGINT/SIGTERM are unblocked: the
 * I/O thread is created with every signal blocked, so they still go to
 * the vCPU thread and make KVM_RUN return. */
static void vnet_start(struct vnet *n)
{
	struct vm *vm = n->vm;
	struct pci_dev *d = &n->pci;
	sigset_t all, old;
	int r;

	if (n->started)
		return;
	n->started = true;
	irq_modes_sync(n); /* the I/O thread is not there yet */
	n->rxbuf = malloc(RXBUF_SIZE);
	n->txbuf = malloc(RXBUF_SIZE);
	if (!n->rxbuf || !n->txbuf)
		die(EXIT_HOST, "virtio-net: out of memory");
	r = vm_irqfd(vm, n->intx_fd, d->intx_gsi, n->intx_rs_fd, true);
	n->intx_ok = r == 0;
	if (r)
		warn("virtio-net: no INTx irqfd on GSI %u (%s): without MSI-X the device cannot "
		     "interrupt",
		     d->intx_gsi, strerror(-r));

	n->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (n->epfd < 0)
		die_errno(EXIT_HOST, "virtio-net: epoll_create1");
	struct epoll_event e = {.events = EPOLLIN};
	for (unsigned q = 0; q < NQUEUES; q++) {
		e.data.u32 = q;
		epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->kick_fd[q], &e);
	}
	e.data.u32 = 99;
	epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->ctl_fd, &e);
	e.data.u32 = 101;
	epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->intx_rs_fd, &e);
	if (n->tap_fd >= 0) {
		e.data.u32 = 100;
		if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->tap_fd, &e) < 0)
			die_errno(EXIT_HOST, "virtio-net: epoll on the tap");
		n->tap_events = EPOLLIN;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&n->thread, NULL, io_thread, n);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		die(EXIT_HOST, "virtio-net: cannot start the I/O thread: %s", strerror(r));
	n->thread_up = true;
	vtrace("started on the guest's first access: I/O thread, INTx irqfd");
	/* The firmware-like start may have placed the BAR already. */
	notify_rewire(n);
}

/* ---- setup and teardown ------------------------------------------------------ */
static void vnet_teardown(void *arg)
{
	struct vnet *n = arg;

	if (n->thread_up) {
		pthread_mutex_lock(&n->lock);
		n->stop = true;
		pthread_mutex_unlock(&n->lock);
		wake_thread(n);
		pthread_join(n->thread, NULL);
		n->thread_up = false;
	}
	if (n->notify_gpa)
		for (unsigned q = 0; q < NQUEUES; q++)
			vm_ioeventfd(n->vm, n->notify_gpa + NOTIFY_MULT * q, 2, n->kick_fd[q],
				     false, false);
	n->notify_gpa = 0;
	/* Drops the MSI-X irqfds and routes and unmaps the BARs. */
	pci_unregister(&n->pci);
	if (n->intx_ok)
		vm_irqfd(n->vm, n->intx_fd, n->pci.intx_gsi, n->intx_rs_fd, false);
	n->intx_ok = false;
	if (n->tap_fd >= 0)
		close(n->tap_fd);
	n->tap_fd = -1;
	for (unsigned q = 0; q < NQUEUES; q++)
		if (n->kick_fd[q] >= 0)
			close(n->kick_fd[q]), n->kick_fd[q] = -1;
	for (unsigned v = 0; v < NVEC; v++)
		if (n->irq_fd[v] >= 0)
			close(n->irq_fd[v]), n->irq_fd[v] = -1;
	if (n->intx_fd >= 0)
		close(n->intx_fd), n->intx_fd = -1;
	if (n->intx_rs_fd >= 0)
		close(n->intx_rs_fd), n->intx_rs_fd = -1;
	if (n->epfd >= 0)
		close(n->epfd), n->epfd = -1;
	if (n->ctl_fd >= 0)
		close(n->ctl_fd), n->ctl_fd = -1;
	free(n->rxbuf);
	free(n->txbuf);
	n->rxbuf = n->txbuf = NULL;
	if (n->drops)
		vtrace("%llu frames dropped", (unsigned long long)n->drops);
}

static int efd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		die_errno(EXIT_HOST, "virtio-net: eventfd");
	return fd;
}

static void add_caps(struct vnet *n)
{
	struct pci_dev *d = &n->pci;
	/* Bodies start after cap_vndr/cap_next: cap_len, cfg_type, bar, id,
	 * padding[2], offset, length (virtio_pci_cap, 4.1.4). */
	struct {
		uint8_t cap_len, cfg_type, bar, id, pad[2];
		uint32_t offset, length;
		uint32_t extra; /* notify_off_multiplier, or pci_cfg_data */
	} __attribute__((packed)) body;
	uint8_t wmask[sizeof(body)];

	static const struct {
		uint8_t type;
		uint32_t off, len;
	} caps[] = {
	    {VIRTIO_PCI_CAP_COMMON_CFG, OFF_COMMON, COMMON_LEN},
	    {VIRTIO_PCI_CAP_NOTIFY_CFG, OFF_NOTIFY, NOTIFY_MULT * NQUEUES},
	    {VIRTIO_PCI_CAP_ISR_CFG, OFF_ISR, 1},
	    {VIRTIO_PCI_CAP_DEVICE_CFG, OFF_DEVICE, DEVICE_LEN},
	};
	memset(wmask, 0, sizeof(wmask));
	for (unsigned i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		bool notify = caps[i].type == VIRTIO_PCI_CAP_NOTIFY_CFG;
		memset(&body, 0, sizeof(body));
		body.cap_len =
		    notify ? sizeof(struct virtio_pci_notify_cap) : sizeof(struct virtio_pci_cap);
		body.cfg_type = caps[i].type;
		body.bar = VNET_BAR;
		body.offset = caps[i].off;
		body.length = caps[i].len;
		body.extra = NOTIFY_MULT;
		if (!pci_cap_add(d, PCI_CAP_ID_VNDR, &body, body.cap_len - 2, wmask))
			die(EXIT_HOST, "virtio-net: no room for capabilities");
	}
	/* The config access window: bar, offset, length and data writable. */
	memset(&body, 0, sizeof(body));
	body.cap_len = sizeof(struct virtio_pci_cfg_cap);
	body.cfg_type = VIRTIO_PCI_CAP_PCI_CFG;
	memset(wmask, 0, sizeof(wmask));
	wmask[2] = 0xff;		    /* bar */
	memset(wmask + 6, 0xff, 4 + 4 + 4); /* offset, length, data */
	n->pcicfg_cap = pci_cap_add(d, PCI_CAP_ID_VNDR, &body, body.cap_len - 2, wmask);
	if (!n->pcicfg_cap)
		die(EXIT_HOST, "virtio-net: no room for capabilities");
}

struct vnet *vnet_init(struct vm *vm, const char *spec, unsigned index, uint8_t slot)
{
	struct vnet *n;
	char b[200];

	if (index >= VNET_MAX)
		die(EXIT_USAGE, "--net: at most %d network devices", VNET_MAX);
	n = &vnets[index];
	memset(n, 0, sizeof(*n));
	n->vm = vm;
	n->index = index;
	if (index)
		snprintf(n->name, sizeof(n->name), "virtio-net%u", index);
	else
		snprintf(n->name, sizeof(n->name), "virtio-net");
	n->tap_fd = n->epfd = n->ctl_fd = n->intx_fd = n->intx_rs_fd = -1;
	for (unsigned q = 0; q < NQUEUES; q++)
		n->kick_fd[q] = -1;
	for (unsigned v = 0; v < NVEC; v++)
		n->irq_fd[v] = -1;
	parse_spec(n, spec);
	pthread_mutex_init(&n->lock, NULL);

	n->offered = BASE_FEATURES;
	n->link = VIRTIO_NET_S_LINK_UP;
	if (n->be == BE_TAP) {
		n->tap_fd = tap_open(n);
		if (n->tap_offloads)
			n->offered |= OFFLOAD_FEATURES;
	} else if (n->be == BE_NONE) {
		n->link = 0;
	}
	vm_at_exit(vm, vnet_teardown, n);

	/* PCI identity (4.1.2): modern ID 0x1040 + device type 1, revision 1;
	 * subsystem device = the virtio device ID too. */
	struct pci_dev *d = &n->pci;
	pci_dev_init(d, n->name, slot, VIRTIO_PCI_VENDOR,
		     0x1040 + VIRTIO_ID_NET, 0x020000, 1);
	pci_set_subsystem(d, VIRTIO_PCI_VENDOR, VIRTIO_ID_NET);
	d->ops = &vnet_ops;
	d->priv = n;
	d->backend = backend_name[n->be];
	pci_bar_init(d, VNET_BAR, PCI_BAR_MEM64, false, VNET_BAR_SIZE, bar0_access, n, NULL);
	pci_bar_init(d, VNET_MSIX_BAR, PCI_BAR_MEM64, false, VNET_MSIX_BAR_SIZE, msix_bar_access, n,
		     NULL);
	pci_intx_init(d, 1);
	add_caps(n);
	if (!pci_msix_init(d, NVEC, VNET_MSIX_BAR, 0, 0x800))
		die(EXIT_HOST, "internal: virtio-net: no room for the MSI-X capability");
	for (unsigned q = 0; q < NQUEUES; q++) {
		queue_cfg_reset(&n->qc[q], n->qmax);
		n->kick_fd[q] = efd();
	}
	n->msix_config = NO_VECTOR;
	int r = pci_register(vm, d);
	if (r)
		die(EXIT_HOST, "%s: cannot plug into slot %d: %s", n->name, slot, strerror(-r));
	for (unsigned v = 0; v < NVEC; v++) {
		n->irq_fd[v] = efd();
		r = pci_irq_eventfd(d, v, n->irq_fd[v]);
		n->irq_fd_ok[v] = r == 0;
		if (r)
			vtrace("MSI-X vector %u: no irqfd (%s), interrupts go through the core", v,
			       strerror(-r));
	}

	n->intx_fd = efd();
	n->intx_rs_fd = efd();
	n->ctl_fd = efd();
	/* The rest (INTx irqfd, epoll, I/O thread, frame buffers) waits for
	 * the guest's first access: vnet_start(). */

	vtrace("%s backend%s%s, mac %02x:%02x:%02x:%02x:%02x:%02x, queues of %u, offers %s",
	       backend_name[n->be], n->be == BE_TAP ? " " : "", n->be == BE_TAP ? n->ifname : "",
	       n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->qmax,
	       features_str(n->offered, b, sizeof(b)));
	return n;
}
