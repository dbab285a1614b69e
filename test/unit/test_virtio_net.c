// SPDX-License-Identifier: MIT
// needs: devices/pci.c devices/pci_host.c vmm/bus.c devices/virtq.c vmm/trace.c
// needs: test/fuzz/stubs.c
/*
 * test_virtio_net.c - the virtio-net device model (devices/virtio_net.c)
 * driven the way a spec-following driver drives it, one step at a time.
 *
 * virtio_net.c is #included so the test reaches its handlers and runs its
 * I/O thread's work (io_events) on this thread: vnet_init() starts the
 * thread, which is stopped at once, and step() then polls the device's own
 * epoll set with a zero timeout and hands what it found to io_events().
 * Guest RAM is a heap buffer and KVM is replaced by bookkeeping: the fuzz
 * targets' test/fuzz/stubs.c, and their vnet_harness.h for the set-up.
 * The driver side (rings, buffers, the decision to kick) is written here
 * after virtio 1.2 2.7 and Linux's virtio_ring.c: it kicks only when
 * vring_need_event() says so, which is what makes a wrong avail_event a
 * stall.  The "tap" is one end of a datagram socketpair (one read, one
 * frame, as a tap gives): the real tap is exercised in the nested rig.
 */
#include "../../devices/virtio_net.c"

#include <linux/pci_regs.h>
#include <sys/socket.h>

#include "tap.h"
#include "../fuzz/stubs.h"
#include "../fuzz/vnet_harness.h"

/* ---- KVM stand-ins: test/fuzz/stubs.c, but for this one ------------------- */
#define RAM_SIZE (1u << 20)

static unsigned intx_detach; /* vm_irqfd(..., assign=false) on the INTx GSI */

int vm_irqfd(struct vm *vm, int fd, unsigned gsi, int resample_fd, bool assign)
{
	(void)vm, (void)fd;
	if (resample_fd >= 0 && !assign && gsi == vnets[0].pci.intx_gsi)
		intx_detach++;
	return 0;
}

/* ---- the device's I/O thread, one step at a time ---------------------------- */
/* Run the work for whatever the device's fds say now, until nothing is
 * left; returns the number of wake-ups it took (0: nothing happened). */
static unsigned step(struct vnet *n)
{
	unsigned wakeups = 0;

	for (int i = 0; i < 16 && pump(n) > 0; i++)
		wakeups++;
	return wakeups;
}

/* ---- the driver's side ----------------------------------------------------- */
static uint8_t *ram(uint64_t gpa)
{
	return (uint8_t *)fuzz_vm.mem + gpa;
}

static uint16_t rd16(uint64_t gpa)
{
	uint16_t v;
	memcpy(&v, ram(gpa), 2);
	return v;
}

static uint32_t rd32(uint64_t gpa)
{
	uint32_t v;
	memcpy(&v, ram(gpa), 4);
	return v;
}

static void wr16(uint64_t gpa, uint16_t v)
{
	memcpy(ram(gpa), &v, 2);
}

static uint64_t rd(struct vnet *n, unsigned off, unsigned len)
{
	uint64_t v = 0;
	bar0_access(n, off, &v, len, false);
	return v;
}

struct drvq {
	unsigned qi;
	uint16_t size;
	uint64_t desc, avail, used;
	uint16_t avail_idx, pub_idx; /* next slot to fill, last idx published */
	bool event_idx;
};

static struct drvq rxq, txq;

#define RX_RING	 0x10000u
#define TX_RING	 0x20000u
#define BUF_BASE 0x40000u

static void drvq_init(struct drvq *q, unsigned qi, uint16_t size, uint64_t base, bool event_idx)
{
	memset(q, 0, sizeof(*q));
	q->qi = qi;
	q->size = size;
	q->desc = base;
	q->avail = base + 16u * size;
	q->used = (q->avail + 6 + 2u * size + 3) & ~3ull;
	q->event_idx = event_idx;
	memset(ram(base), 0, 0x8000);
}

/* Put a chain of n buffers starting at descriptor head on the avail ring
 * (not yet visible: publish() does that). */
static void add_chain(struct drvq *q, uint16_t head, const uint64_t *addr, const uint32_t *len,
		      unsigned nb, bool writable)
{
	for (unsigned i = 0; i < nb; i++) {
		uint16_t d = (head + i) % q->size;
		struct vring_desc v = {.addr = addr[i],
				       .len = len[i],
				       .flags = (writable ? VRING_DESC_F_WRITE : 0) |
						(i + 1 < nb ? VRING_DESC_F_NEXT : 0),
				       .next = (head + i + 1) % q->size};
		memcpy(ram(q->desc + 16u * d), &v, sizeof(v));
	}
	wr16(q->avail + 4 + 2u * (q->avail_idx % q->size), head);
	q->avail_idx++;
}

/* Make the additions visible and decide, as Linux's
 * virtqueue_kick_prepare() does, whether the device wants a kick. */
static bool publish(struct drvq *q)
{
	uint16_t old = q->pub_idx, new_idx = q->avail_idx;

	__atomic_store_n((uint16_t *)ram(q->avail + 2), new_idx, __ATOMIC_RELEASE);
	q->pub_idx = new_idx;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx)
		return virtq_need_event(rd16(q->used + 4 + 8u * q->size), new_idx, old);
	return !(rd16(q->used) & VRING_USED_F_NO_NOTIFY);
}

static void kick(struct vnet *n, struct drvq *q)
{
	kick_by_trap(n, q->qi); /* writes the eventfd as KVM's ioeventfd does */
}

/* Publish and kick only when the device asked for it; returns whether it did. */
static bool publish_kick(struct vnet *n, struct drvq *q)
{
	bool k = publish(q);
	if (k)
		kick(n, q);
	return k;
}

static uint16_t used_idx(const struct drvq *q)
{
	return rd16(q->used + 2);
}

static uint32_t used_id(const struct drvq *q, uint16_t i)
{
	return rd32(q->used + 4 + 8u * (i % q->size));
}

static uint32_t used_len(const struct drvq *q, uint16_t i)
{
	return rd32(q->used + 8 + 8u * (i % q->size));
}

#define FEAT_BASE                                                                                  \
	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MRG_RXBUF) |                 \
	 F(VIRTIO_RING_F_EVENT_IDX))

/* Reset, features, both queues, DRIVER_OK: virtio 1.2 3.1.1. */
static void handshake(struct vnet *n, uint64_t feat, uint16_t rxsize, uint16_t txsize)
{
	bool ev = feat & F(VIRTIO_RING_F_EVENT_IDX);

	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (unsigned s = 0; s < 2; s++) {
		wr(n, VIRTIO_PCI_COMMON_GFSELECT, 4, s);
		wr(n, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(feat >> (32 * s)));
	}
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	drvq_init(&rxq, RXQ, rxsize, RX_RING, ev);
	drvq_init(&txq, TXQ, txsize, TX_RING, ev);
	struct drvq *qs[2] = {&rxq, &txq};
	for (unsigned i = 0; i < 2; i++) {
		struct drvq *q = qs[i];
		wr(n, VIRTIO_PCI_COMMON_Q_SELECT, 2, q->qi);
		wr(n, VIRTIO_PCI_COMMON_Q_SIZE, 2, q->size);
		wr(n, VIRTIO_PCI_COMMON_Q_DESCLO, 4, (uint32_t)q->desc);
		wr(n, VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0);
		wr(n, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint32_t)q->avail);
		wr(n, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
		wr(n, VIRTIO_PCI_COMMON_Q_USEDLO, 4, (uint32_t)q->used);
		wr(n, VIRTIO_PCI_COMMON_Q_USEDHI, 4, 0);
		wr(n, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	}
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1,
	   VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
	       VIRTIO_CONFIG_S_DRIVER_OK);
	step(n);
}

/* Post rx buffers of len bytes each at descriptors [head, head + count). */
static void post_rx(struct drvq *q, uint16_t head, unsigned count, uint32_t len)
{
	for (unsigned i = 0; i < count; i++) {
		uint64_t a = BUF_BASE + 0x1000u * (uint16_t)(head + i);
		add_chain(q, head + i, &a, &len, 1, true);
	}
}

/* A frame of flen bytes after its 12-byte header, in one buffer at a. */
static uint32_t make_frame(uint64_t a, uint32_t flen, uint8_t fill)
{
	uint8_t *p = ram(a);

	memset(p, 0, HDR_LEN);
	memset(p + HDR_LEN, 0xff, 6);				   /* broadcast */
	memcpy(p + HDR_LEN + 6, (uint8_t[]){2, 0, 0, 0, 0, 1}, 6); /* source */
	p[HDR_LEN + 12] = 0x88, p[HDR_LEN + 13] = 0xb5;		   /* local experimental */
	memset(p + HDR_LEN + 14, fill, flen - 14);
	return HDR_LEN + flen;
}

static void post_tx(struct drvq *q, uint16_t head, uint32_t flen, uint8_t fill)
{
	uint64_t a = 0x90000u;
	uint32_t len = make_frame(a, flen, fill);
	add_chain(q, head, &a, &len, 1, false);
}

static void drain(int fd)
{
	uint64_t c;
	while (read(fd, &c, 8) == 8)
		;
}

static bool signalled(int fd)
{
	uint64_t c;
	return read(fd, &c, 8) == 8;
}

/* ---- defect 1: receive under EVENT_IDX with merged buffers -------------------- */
static void test_rx_resumes_loopback(struct vnet *n)
{
	handshake(n, FEAT_BASE, 8, 8);
	post_rx(&rxq, 0, 2, 1024);
	publish_kick(n, &rxq);
	step(n);
	/* 2512 bytes with the header: three 1 KiB buffers, two posted. */
	post_tx(&txq, 5, 2500, 0xa1);
	publish_kick(n, &txq);
	step(n);
	tap_eq(used_idx(&rxq), 0, "loopback: a frame larger than the posted rx buffers waits");
	tap_eq(used_idx(&txq), 0, "loopback: its tx chain is held back meanwhile");

	post_rx(&rxq, 2, 1, 1024);
	bool k = publish_kick(n, &rxq);
	tap_ok(k, "rx resumes when the driver adds buffers under EVENT_IDX: the spec-following "
		  "driver is asked to kick (loopback)");
	step(n);
	tap_eq(used_idx(&rxq), 3,
	       "rx resumes under EVENT_IDX: the held frame arrives in 3 buffers");
	tap_eq(used_idx(&txq), 1, "rx resumes under EVENT_IDX: its tx chain completes");
	uint16_t nb;
	memcpy(&nb, ram(BUF_BASE + 10), 2);
	tap_eq(nb, 3, "rx resumes under EVENT_IDX: num_buffers 3 in the first header");
	tap_eq(n->status & VIRTIO_CONFIG_S_NEEDS_RESET, 0, "no DEVICE_NEEDS_RESET");
}

static void test_rx_resumes_tap(struct vnet *n)
{
	int sv[2];
	struct epoll_event e = {.events = EPOLLIN, .data.u32 = 100};
	static uint8_t frame[HDR_LEN + 6000];

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		tap_ok(1, "# SKIP no socketpair for a stand-in tap: %s", strerror(errno));
		return;
	}
	/* The device as --net tap= leaves it, over a datagram socket. */
	n->be = BE_TAP;
	n->tap_fd = sv[0];
	n->tap_dead = false;
	n->tap_offloads = 0;
	epoll_ctl(n->epfd, EPOLL_CTL_ADD, n->tap_fd, &e);
	n->tap_events = EPOLLIN;

	handshake(n, FEAT_BASE, 4, 4);
	post_rx(&rxq, 0, 2, 2048);
	publish_kick(n, &rxq);
	step(n);
	/* A 6000-byte frame (as a GSO frame would be, only smaller). */
	memset(frame, 0, sizeof(frame));
	memset(frame + HDR_LEN, 0xff, 6);
	frame[HDR_LEN + 12] = 0x88, frame[HDR_LEN + 13] = 0xb5;
	memset(frame + HDR_LEN + 14, 0x5a, sizeof(frame) - HDR_LEN - 14);
	tap_eq(write(sv[1], frame, sizeof(frame)), (long)sizeof(frame),
	       "tap stand-in: frame queued");
	step(n);
	tap_eq(used_idx(&rxq), 0, "tap: a frame larger than the posted rx buffers is held");

	post_rx(&rxq, 2, 1, 2048);
	bool k = publish_kick(n, &rxq);
	tap_ok(k, "rx resumes when the driver adds buffers under EVENT_IDX: the spec-following "
		  "driver is asked to kick (tap)");
	step(n);
	tap_eq(used_idx(&rxq), 3, "tap: the held frame arrives once enough buffers exist");
	tap_eq(used_len(&rxq, 2), sizeof(frame) - 4096, "tap: the last buffer holds the rest");
	tap_ok(!memcmp(ram(BUF_BASE + 0x2000), frame + 4096, sizeof(frame) - 4096),
	       "tap: frame bytes intact across buffers");

	/* Back to loopback for the other tests. */
	epoll_ctl(n->epfd, EPOLL_CTL_DEL, n->tap_fd, NULL);
	close(sv[0]);
	close(sv[1]);
	n->tap_fd = -1;
	n->tap_events = 0;
	n->be = BE_LOOPBACK;
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
}

/* ---- defect 2: loopback across several rx buffers --------------------------------- */
static void test_loopback_tx_id(struct vnet *n)
{
	handshake(n, FEAT_BASE, 8, 8);
	post_rx(&rxq, 0, 4, 1024);
	publish_kick(n, &rxq);
	step(n);
	post_tx(&txq, 6, 3000, 0xb2);
	publish_kick(n, &txq);
	step(n);
	tap_eq(used_idx(&rxq), 3, "loopback: one frame in three rx buffers");
	tap_eq(used_idx(&txq), 1, "loopback: one tx chain used");
	tap_eq(used_id(&txq, 0), 6,
	       "loopback with merged rx buffers: the tx used id is the posted "
	       "tx head");
	tap_eq(used_len(&txq, 0), 0, "loopback: tx used length 0 (nothing written)");
}

/* ---- defect 3: a kick pending at reset ---------------------------------------------- */
static void test_reset_with_kick_pending(struct vnet *n)
{
	unsigned bad_status = 0, bad_traffic = 0;

	for (unsigned round = 0; round < 20; round++) {
		handshake(n, FEAT_BASE, 8, 8);
		post_rx(&rxq, 0, 1, 2048);
		publish(&rxq);
		post_tx(&txq, 1, 100, (uint8_t)round);
		publish(&txq);
		/* Notify both queues, then reset before the I/O thread ran. */
		kick(n, &rxq);
		kick(n, &txq);
		wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
		step(n);
		uint8_t st = rd(n, VIRTIO_PCI_COMMON_STATUS, 1);
		if (st != 0 && !bad_status++)
			tap_diag("round %u: status reads %#x after reset", round, st);
		/* Initialise again and pass a frame. */
		handshake(n, FEAT_BASE, 8, 8);
		post_rx(&rxq, 0, 1, 2048);
		publish_kick(n, &rxq);
		post_tx(&txq, 2, 100, (uint8_t)round);
		publish_kick(n, &txq);
		step(n);
		st = rd(n, VIRTIO_PCI_COMMON_STATUS, 1);
		if ((used_idx(&rxq) != 1 || used_idx(&txq) != 1 || used_id(&txq, 0) != 2 ||
		     (st & VIRTIO_CONFIG_S_NEEDS_RESET)) &&
		    !bad_traffic++)
			tap_diag("round %u: rx used %u, tx used %u, status %#x", round,
				 used_idx(&rxq), used_idx(&txq), st);
	}
	tap_eq(bad_status, 0, "a reset with a kick pending reads status 0 (20 rounds)");
	tap_eq(bad_traffic, 0,
	       "after a reset with a kick pending the device initialises and "
	       "passes traffic (20 rounds)");
}

/* ---- defect 5: INTx follows "pending and not disabled" ------------------------------ */
static bool status_intr(struct vnet *n)
{
	return pci_cfg_read(&n->pci, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT;
}

static void loop_frame(struct vnet *n, uint16_t txhead)
{
	/* The driver has taken every used rx entry: it asks for an interrupt
	 * at the next one (used_event, 2.7.10). */
	wr16(rxq.avail + 4 + 2u * rxq.size, used_idx(&rxq));
	post_tx(&txq, txhead, 100, 0xc3);
	publish_kick(n, &txq);
	step(n);
}

static void test_intx_follows_pending(struct vnet *n)
{
	const uint32_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

	handshake(n, FEAT_BASE, 8, 8);
	pci_cfg_write(&n->pci, PCI_COMMAND, 2, cmd | PCI_COMMAND_INTX_DISABLE);
	(void)rd(n, OFF_ISR, 1);
	drain(n->intx_fd);
	post_rx(&rxq, 0, 4, 2048);
	publish_kick(n, &rxq);
	step(n);
	loop_frame(n, 0);
	tap_eq(used_idx(&rxq), 1, "INTx: frame delivered with INTx disabled");
	tap_ok(!signalled(n->intx_fd),
	       "INTx disabled: the line stays low with an interrupt pending");
	tap_ok(status_intr(n),
	       "Status.Interrupt follows the pending virtio interrupt on the INTx path (disabled)");
	pci_cfg_write(&n->pci, PCI_COMMAND, 2, cmd);
	tap_ok(signalled(n->intx_fd),
	       "clearing INTx Disable asserts the line for the interrupt already pending");
	tap_eq(rd(n, OFF_ISR, 1), VIRTIO_PCI_ISR_QUEUE, "INTx: the ISR says a queue interrupted");
	tap_ok(!status_intr(n), "Status.Interrupt clears when the ISR read clears the interrupt");
	/* The guest's EOI: KVM lowers the line and signals the resample fd;
	 * nothing is pending, so the line stays low. */
	signal_fd(n->intx_rs_fd);
	step(n);
	tap_ok(!signalled(n->intx_fd), "INTx: after EOI with nothing pending the line stays low");
	loop_frame(n, 1);
	tap_ok(signalled(n->intx_fd), "INTx enabled: the next interrupt asserts the line");
	tap_ok(status_intr(n), "Status.Interrupt set while pending (enabled)");
	unsigned before = intx_detach;
	pci_cfg_write(&n->pci, PCI_COMMAND, 2, cmd | PCI_COMMAND_INTX_DISABLE);
	tap_eq(intx_detach - before, 1, "setting INTx Disable lowers an asserted line at once");
	pci_cfg_write(&n->pci, PCI_COMMAND, 2, cmd);
	tap_ok(signalled(n->intx_fd), "and clearing it again re-asserts it (still pending)");
	(void)rd(n, OFF_ISR, 1);
}

/* ---- the common configuration's access rules --------------------------------------- */
static void test_misaligned_queue_address(struct vnet *n)
{
	char buf[4096] = {0};
	FILE *f = tmpfile();
	int saved = dup(2);

	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	wr(n, VIRTIO_PCI_COMMON_Q_SELECT, 2, RXQ);
	wr(n, VIRTIO_PCI_COMMON_Q_DESCLO, 4, 0x12340000);
	wr(n, VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0);
	wr(n, VIRTIO_PCI_COMMON_Q_USEDLO, 4, 0x56780000);
	if (!f || saved < 0) {
		tap_ok(1, "# SKIP no temp file for the trace");
		return;
	}
	fflush(stderr);
	dup2(fileno(f), 2);
	trace_mask = TRACE_VIRTIO;
	wr(n, VIRTIO_PCI_COMMON_Q_DESCLO + 2, 4, 0xdeadbeef);
	wr(n, VIRTIO_PCI_COMMON_Q_USEDLO + 1, 4, 0xdeadbeef);
	trace_mask = 0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	size_t got = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[got] = 0;
	tap_eq(rd(n, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x12340000,
	       "a misaligned 4-byte write to queue_desc is ignored (low dword)");
	tap_eq(rd(n, VIRTIO_PCI_COMMON_Q_DESCHI, 4), 0,
	       "a misaligned 4-byte write to queue_desc is ignored (high dword)");
	tap_eq(rd(n, VIRTIO_PCI_COMMON_Q_USEDLO, 4), 0x56780000,
	       "a misaligned 4-byte write to queue_device is ignored");
	tap_ok(strstr(buf, "misaligned") != NULL, "a misaligned common config write is traced");
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
		tap_diag("%s", line);
}

/* ---- a frame no ring can hold; queue sizes -------------------------------------------- */
static void test_frame_larger_than_ring(struct vnet *n)
{
	handshake(n, FEAT_BASE, 2, 8);
	post_rx(&rxq, 0, 2, 1024);
	publish_kick(n, &rxq);
	step(n);
	post_tx(&txq, 0, 3000, 0xd4);
	publish_kick(n, &txq);
	step(n);
	tap_eq(used_idx(&txq), 1, "a frame larger than the whole rx ring is dropped: tx completes");
	tap_eq(used_idx(&rxq), 0, "a frame larger than the whole rx ring is dropped: no rx entry");
	post_tx(&txq, 1, 500, 0xd5);
	publish_kick(n, &txq);
	step(n);
	tap_eq(used_idx(&rxq), 1, "the next frame that fits uses the buffers left");
	tap_eq(n->status & VIRTIO_CONFIG_S_NEEDS_RESET, 0, "and the device is fine");

	/* --net ...,queue=N: the maximum offered at reset; larger is refused. */
	n->qmax = 64;
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
	wr(n, VIRTIO_PCI_COMMON_Q_SELECT, 2, RXQ);
	tap_eq(rd(n, VIRTIO_PCI_COMMON_Q_SIZE, 2), 64, "queue=64: queue_size reads 64 after reset");
	handshake(n, FEAT_BASE, 64, 64);
	tap_eq(n->status & VIRTIO_CONFIG_S_NEEDS_RESET, 0, "queues of 64 accepted");
	handshake(n, FEAT_BASE, 128, 64);
	tap_ok(n->status & VIRTIO_CONFIG_S_NEEDS_RESET,
	       "a queue larger than the device's maximum: DEVICE_NEEDS_RESET");
	n->qmax = VIRTQ_MAX_SIZE;
	wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
}

int main(void)
{
	struct vnet *n = &vnets[0];

	/* A bus, the host bridge and the device; the I/O thread started, as
	 * at the guest's first access, then stopped: this thread does its
	 * work from here on. */
	vnet_fresh(n, RAM_SIZE, "loopback");
	drain(n->ctl_fd);

	test_rx_resumes_loopback(n);
	test_rx_resumes_tap(n);
	test_loopback_tx_id(n);
	test_reset_with_kick_pending(n);
	test_intx_follows_pending(n);
	test_misaligned_queue_address(n);
	test_frame_larger_than_ring(n);
	return tap_done();
}
