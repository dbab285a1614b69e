// SPDX-License-Identifier: MIT
/*
 * virtio_net.c - the tiny guest's virtio-net driver (modern virtio-pci,
 * virtio 1.2 sections 3.1, 4.1, 5.1) and just enough of ARP, IPv4 and ICMP
 * to ping and be pinged.
 *
 * Command line: ip=A.B.C.D (default 169.254.100.2), peer=A.B.C.D (default
 * 169.254.100.1), serve=N (keep answering ARP and echo requests for N
 * seconds after the checks), bench=N (send N frames of 64 and of 1500
 * bytes and print the rate), vnet_hostile=KIND (after the checks, break a
 * ring on purpose - loop, long, oob, far, giant, bigidx, qsize, early,
 * reset, qreset, vector - and check that the device sets DEVICE_NEEDS_RESET
 * or drops the write, and works again after a reset), hostile (every kind,
 * one check line each; see hostile.c).
 *
 * The backend is learnt, not told: when our own ARP request comes back
 * with our own source MAC, the wire is a loopback (kvmini --net loopback,
 * or QEMU with a dgram netdev sending to itself), and the checks become
 * frame round trips instead of a conversation with a peer.
 *
 * Receive completions are taken by MSI-X interrupt: the wait loops sleep
 * in hlt and wake on the rx vector (or the 100 Hz timer, for timeouts).
 */
#include "guest.h"

/* ---- virtio constants (from the spec; the guest has no kernel headers) ---- */
#define VIRTIO_VENDOR 0x1af4
#define CAP_COMMON    1
#define CAP_NOTIFY    2
#define CAP_ISR	      3
#define CAP_DEVICE    4
#define CAP_PCI_CFG   5

#define S_ACK	      1
#define S_DRIVER      2
#define S_DRIVER_OK   4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40
#define S_FAILED      0x80

#define F_CSUM		  0
#define F_MAC		  5
#define F_MRG_RXBUF	  15
#define F_STATUS	  16
#define F_INDIRECT	  28
#define F_EVENT_IDX	  29
#define F_VERSION_1	  32
#define F_ACCESS_PLATFORM 33
#define BIT(b)		  (1ull << (b))

/* struct virtio_pci_common_cfg offsets */
#define C_DFSELECT   0x00
#define C_DF	     0x04
#define C_GFSELECT   0x08
#define C_GF	     0x0c
#define C_MSIX	     0x10
#define C_NUMQ	     0x12
#define C_STATUS     0x14
#define C_GEN	     0x15
#define C_QSELECT    0x16
#define C_QSIZE	     0x18
#define C_QMSIX	     0x1a
#define C_QENABLE    0x1c
#define C_QNOTIFYOFF 0x1e
#define C_QDESC	     0x20
#define C_QDRIVER    0x28
#define C_QDEVICE    0x30
#define NO_VECTOR    0xffff

#define D_NEXT		   1
#define D_WRITE		   2
#define D_INDIRECT	   4
#define AVAIL_NO_INTERRUPT 1
#define USED_NO_NOTIFY	   1

#define HDR_LEN	      12
#define RXBUF	      2048
#define QMAX	      256
#define NET_S_LINK_UP 1

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

struct vq {
	unsigned index, size;
	volatile struct desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
	volatile uint8_t *used;	  /* flags, idx, {id, len}[size], avail_event */
	uint64_t notify;
	uint16_t avail_idx, last_used;
	/* tx: one slot per frame, with its own buffer and indirect table */
	unsigned inflight;
	uint8_t *bufs;
	volatile struct desc *ind;
};

/* One per 1af4:1041 function: kvmini's emulated device in slot 1 and, with
 * --vfio, a real one in slot 2 (PCI_SLOT_VFIO).  vp is the one being
 * driven: the functions below work on it, one device at a time. */
struct vnet {
	struct pci_func *f;
	char name[24];				 /* "virtio-net", or "virtio-net 00:02.0" */
	uint8_t vec_cfg, vec_rx, vec_tx;	 /* its own MSI-X vectors (memmap.h) */
	volatile unsigned cfg_irqs;		 /* config-change interrupts taken */
	volatile unsigned isr_queue, isr_config; /* INTx: ISR bits seen */
	uint64_t common, isr, device, notify_base;
	uint32_t notify_mult;
	uint8_t pcicfg;
	uint64_t features;
	uint8_t mac[6];
	struct vq rx, tx;
	uint32_t ip, peer_ip;
	uint8_t peer_mac[6];
	bool peer_known, loopback, msix;
	uint16_t ip_id;
	/* what the receive path saw */
	unsigned arp_replies, echo_replies, echo_answered, arp_answered, own_arp_seen;
	unsigned echo_seq_seen;
	unsigned lb_frames, lb_bad, lb_bufs_max;
	unsigned rx_frames, tx_frames;
	uint8_t frame[16384]; /* reassembly of merged buffers */
};

#define VNET_MAX 8
static struct vnet vnets[VNET_MAX];
static struct vnet *vp;
static unsigned vnet_count;

static inline void mb(void)
{
	__asm__ volatile("mfence" ::: "memory");
}

static inline bool need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

static uint16_t be16(uint16_t v)
{
	return (uint16_t)(v >> 8 | v << 8);
}
static uint32_t be32(uint32_t v)
{
	return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

/* ---- common config ------------------------------------------------------- */
static uint8_t c_rd8(unsigned o)
{
	return mmio_read8(vp->common + o);
}
static uint16_t c_rd16(unsigned o)
{
	return mmio_read16(vp->common + o);
}
static uint32_t c_rd32(unsigned o)
{
	return mmio_read32(vp->common + o);
}
static void c_wr8(unsigned o, uint8_t v)
{
	mmio_write8(vp->common + o, v);
}
static void c_wr16(unsigned o, uint16_t v)
{
	mmio_write16(vp->common + o, v);
}
static void c_wr32(unsigned o, uint32_t v)
{
	mmio_write32(vp->common + o, v);
}
static void c_wr64(unsigned o, uint64_t v)
{
	/* 4.1.3.1: 64-bit fields as two 32-bit writes, low half first. */
	c_wr32(o, (uint32_t)v);
	c_wr32(o + 4, (uint32_t)(v >> 32));
}

static void set_status(uint8_t bits)
{
	c_wr8(C_STATUS, c_rd8(C_STATUS) | bits);
}

/* Read a BAR register through the VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.9). */
static uint32_t pcicfg_read(unsigned bar, unsigned off, unsigned len)
{
	uint8_t c = vp->pcicfg;
	pci_write8(vp->f, c + 4, (uint8_t)bar);
	pci_write32(vp->f, c + 8, off);
	pci_write32(vp->f, c + 12, len);
	uint32_t v = pci_read32(vp->f, c + 16);
	return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

/* ---- capabilities -------------------------------------------------------- */
static bool find_caps(void)
{
	bool got[6] = {false};
	unsigned bar0 = 6;

	for (uint8_t o = pci_find_cap(vp->f, PCI_CAP_VENDOR, 0); o;
	     o = pci_find_cap(vp->f, PCI_CAP_VENDOR, o)) {
		uint8_t type = pci_read8(vp->f, o + 3), bar = pci_read8(vp->f, o + 4);
		uint32_t off = pci_read32(vp->f, o + 8), len = pci_read32(vp->f, o + 12);
		if (type == CAP_PCI_CFG) {
			vp->pcicfg = o;
			got[type] = true;
			continue;
		}
		if (type < CAP_COMMON || type > CAP_DEVICE || got[type])
			continue; /* 4.1.4: use the first of each type we understand */
		uint8_t *base = bar < 6 ? pci_bar_ptr(vp->f, bar) : NULL;
		if (!base || off + len > vp->f->bar[bar].size) {
			printf("%s: cap type %u: bar %u offset %#x length %#x unusable\n", vp->name,
			       type, bar, off, len);
			continue;
		}
		uint64_t a = (uint64_t)(uintptr_t)base + off;
		printf("%s: cap %u at %#x: bar %u + %#x (%u bytes)\n", vp->name, type, o, bar, off,
		       len);
		switch (type) {
		case CAP_COMMON:
			vp->common = a;
			bar0 = bar;
			break;
		case CAP_NOTIFY:
			vp->notify_base = a;
			vp->notify_mult = pci_read32(vp->f, o + 16);
			break;
		case CAP_ISR: vp->isr = a; break;
		case CAP_DEVICE: vp->device = a; break;
		}
		got[type] = true;
	}
	(void)bar0;
	return got[CAP_COMMON] && got[CAP_NOTIFY] && got[CAP_ISR] && got[CAP_DEVICE];
}

/* ---- queues -------------------------------------------------------------- */
static bool queue_setup(struct vq *q, unsigned index, uint16_t vector)
{
	c_wr16(C_QSELECT, (uint16_t)index);
	unsigned max = c_rd16(C_QSIZE);
	if (max == 0)
		return false;
	q->index = index;
	q->size = max < QMAX ? max : QMAX;
	/* The size we use must be a power of two (2.7). */
	while (q->size & (q->size - 1))
		q->size &= q->size - 1;
	if (!q->desc) {
		q->desc = page_alloc(1);  /* 16 * 256 = one page */
		q->avail = page_alloc(1); /* 6 + 2 * 256 */
		q->used = page_alloc(1);  /* 6 + 8 * 256 */
		if (!q->desc || !q->avail || !q->used)
			return false;
	}
	memset((void *)q->desc, 0, PAGE_SIZE);
	memset((void *)q->avail, 0, PAGE_SIZE);
	memset((void *)q->used, 0, PAGE_SIZE);
	q->avail_idx = q->last_used = 0;
	q->inflight = 0;
	c_wr16(C_QSIZE, (uint16_t)q->size);
	c_wr16(C_QMSIX, vector);
	if (c_rd16(C_QMSIX) != vector)
		return false;
	c_wr64(C_QDESC, virt_to_phys((void *)q->desc));
	c_wr64(C_QDRIVER, virt_to_phys((void *)q->avail));
	c_wr64(C_QDEVICE, virt_to_phys((void *)q->used));
	q->notify = vp->notify_base + (uint64_t)c_rd16(C_QNOTIFYOFF) * vp->notify_mult;
	c_wr16(C_QENABLE, 1);
	return c_rd16(C_QENABLE) == 1;
}

static uint16_t used_idx(struct vq *q)
{
	return *(volatile uint16_t *)(q->used + 2);
}
static void used_elem(struct vq *q, uint16_t i, uint32_t *id, uint32_t *len)
{
	volatile uint32_t *e = (volatile uint32_t *)(q->used + 4 + 8 * (i % q->size));
	*id = e[0];
	*len = e[1];
}
static volatile uint16_t *used_event(struct vq *q)
{
	return &q->avail[2 + q->size];
}
static uint16_t avail_event(struct vq *q)
{
	return *(volatile uint16_t *)(q->used + 4 + 8 * q->size);
}

/* Make entries up to q->avail_idx visible and kick if the device wants it. */
static void publish(struct vq *q, uint16_t old)
{
	barrier(); /* ring entries before idx: x86 keeps stores in order */
	q->avail[1] = q->avail_idx;
	mb(); /* idx visible before we read the device's event (store->load) */
	bool kick;
	if (vp->features & BIT(F_EVENT_IDX))
		kick = need_event(avail_event(q), q->avail_idx, old);
	else
		kick = !(*(volatile uint16_t *)q->used & USED_NO_NOTIFY);
	if (kick)
		mmio_write16(q->notify, (uint16_t)q->index);
}

/* Ask for an interrupt at the next used entry (EVENT_IDX or the flag). */
static void want_irq(struct vq *q, bool on)
{
	if (vp->features & BIT(F_EVENT_IDX))
		*used_event(q) = on ? q->last_used : (uint16_t)(q->last_used - 1);
	else
		q->avail[0] = on ? 0 : AVAIL_NO_INTERRUPT;
	mb();
}

static void rx_post(uint16_t id)
{
	struct vq *q = &vp->rx;
	q->avail[2 + q->avail_idx % q->size] = id;
	q->avail_idx++;
}

static void rx_fill(void)
{
	struct vq *q = &vp->rx;
	for (unsigned i = 0; i < q->size; i++) {
		q->desc[i].addr = virt_to_phys(q->bufs + (uint64_t)i * RXBUF);
		q->desc[i].len = RXBUF;
		q->desc[i].flags = D_WRITE;
		q->desc[i].next = 0;
		rx_post((uint16_t)i);
	}
	publish(q, 0);
}

/* ---- transmit ------------------------------------------------------------ */
static unsigned rx_poll(void);
static void tx_reclaim(void)
{
	struct vq *q = &vp->tx;
	uint16_t u = used_idx(q);
	barrier();
	while (q->last_used != u) {
		q->last_used++;
		q->inflight--;
	}
}

static bool tx_wait_slot(void)
{
	struct vq *q = &vp->tx;
	uint64_t t0 = timer_ticks();

	for (;;) {
		tx_reclaim();
		if (q->inflight < q->size)
			return true;
		if (vp->loopback)
			rx_poll(); /* a loopback's tx waits for our rx buffers */
		/* Full: sleep until the device completes one (tx interrupt). */
		want_irq(q, true);
		tx_reclaim();
		if (q->inflight < q->size)
			break;
		if (timer_ticks() - t0 > 2 * TIMER_HZ) {
			printf("%s: tx ring stuck (%u in flight)\n", vp->name, q->inflight);
			return false;
		}
		irq_wait();
	}
	want_irq(q, false);
	return true;
}

/* Queue one frame (no kick when batch: the caller publishes). */
static bool tx_frame(const void *frame, unsigned len, bool batch)
{
	struct vq *q = &vp->tx;
	if (len > RXBUF - HDR_LEN || !tx_wait_slot())
		return false;
	uint16_t slot = q->avail_idx % q->size;
	uint8_t *buf = q->bufs + (uint64_t)slot * RXBUF;
	memset(buf, 0, HDR_LEN); /* no offloads: flags 0, GSO_NONE */
	memcpy(buf + HDR_LEN, frame, len);
	if (vp->features & BIT(F_INDIRECT)) {
		/* Header and frame as two entries of an indirect table, to
		 * exercise the device's indirect path. */
		volatile struct desc *t = vp->tx.ind + 2 * slot;
		t[0].addr = virt_to_phys(buf);
		t[0].len = HDR_LEN;
		t[0].flags = D_NEXT;
		t[0].next = 1;
		t[1].addr = virt_to_phys(buf + HDR_LEN);
		t[1].len = len;
		t[1].flags = 0;
		t[1].next = 0;
		q->desc[slot].addr = virt_to_phys((void *)t);
		q->desc[slot].len = 2 * sizeof(struct desc);
		q->desc[slot].flags = D_INDIRECT;
	} else {
		q->desc[slot].addr = virt_to_phys(buf);
		q->desc[slot].len = HDR_LEN + len;
		q->desc[slot].flags = 0;
	}
	q->avail[2 + q->avail_idx % q->size] = slot;
	q->avail_idx++;
	q->inflight++;
	vp->tx_frames++;
	if (!batch)
		publish(q, (uint16_t)(q->avail_idx - 1));
	return true;
}

/* ---- a little IPv4 ---------------------------------------------------------- */
static uint16_t csum(const void *p, unsigned len)
{
	const uint8_t *b = p;
	uint32_t s = 0;
	for (unsigned i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return be16((uint16_t)~s);
}

static void put_eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, vp->mac, 6);
	f[12] = (uint8_t)(type >> 8);
	f[13] = (uint8_t)type;
}

static void put32(uint8_t *p, uint32_t v)
{
	v = be32(v);
	memcpy(p, &v, 4);
}
static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return be32(v);
}
static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void send_arp(uint16_t op, const uint8_t *tha, uint32_t tpa, const uint8_t *dst)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t f[60];

	memset(f, 0, sizeof(f));
	put_eth(f, dst ? dst : bcast, 0x0806);
	uint8_t *a = f + 14;
	a[1] = 1;    /* htype Ethernet */
	a[2] = 0x08; /* ptype IPv4 */
	a[4] = 6, a[5] = 4;
	a[7] = (uint8_t)op;
	memcpy(a + 8, vp->mac, 6);
	put32(a + 14, vp->ip);
	if (tha)
		memcpy(a + 18, tha, 6);
	put32(a + 24, tpa);
	tx_frame(f, sizeof(f), false);
}

static void send_icmp(uint8_t type, const uint8_t *dst_mac, uint32_t dst_ip, const uint8_t *rest,
		      unsigned rest_len)
{
	uint8_t f[14 + 20 + 1500];
	if (rest_len > 1480 - 4)
		rest_len = 1480 - 4;
	unsigned ilen = 20 + 4 + rest_len;

	memset(f, 0, 14 + ilen);
	put_eth(f, dst_mac, 0x0800);
	uint8_t *ip = f + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ilen >> 8), ip[3] = (uint8_t)ilen;
	vp->ip_id++;
	ip[4] = (uint8_t)(vp->ip_id >> 8), ip[5] = (uint8_t)vp->ip_id;
	ip[8] = 64;
	ip[9] = 1; /* ICMP */
	put32(ip + 12, vp->ip);
	put32(ip + 16, dst_ip);
	uint16_t c = csum(ip, 20);
	memcpy(ip + 10, &c, 2);
	uint8_t *ic = ip + 20;
	ic[0] = type;
	memcpy(ic + 4, rest, rest_len);
	c = csum(ic, 4 + rest_len);
	memcpy(ic + 2, &c, 2);
	unsigned flen = 14 + ilen;
	tx_frame(f, flen < 60 ? 60 : flen, false);
}

static void send_echo(uint16_t seq)
{
	uint8_t rest[4 + 32];
	rest[0] = 0x4b, rest[1] = 0x56; /* id "KV" */
	rest[2] = (uint8_t)(seq >> 8), rest[3] = (uint8_t)seq;
	for (unsigned i = 4; i < sizeof(rest); i++)
		rest[i] = (uint8_t)i;
	send_icmp(8, vp->peer_mac, vp->peer_ip, rest, sizeof(rest));
}

/* Loopback probe frames: EtherType 0x88b5 (IEEE local experimental). */
static void fill_probe(uint8_t *f, unsigned len, unsigned seed)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	put_eth(f, bcast, 0x88b5);
	f[14] = (uint8_t)(len >> 8), f[15] = (uint8_t)len, f[16] = (uint8_t)seed;
	for (unsigned i = 17; i < len; i++)
		f[i] = (uint8_t)(i * 7 + seed);
}

static void handle_frame(const uint8_t *f, unsigned len, unsigned nbufs)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	if (len < 14)
		return;
	uint16_t type = get16(f + 12);
	bool from_us = !memcmp(f + 6, vp->mac, 6);

	if (type == 0x88b5 && from_us && len >= 17) {
		uint8_t want[4096 + 64];
		unsigned l = get16(f + 14);
		bool good = l == len && l <= sizeof(want);
		if (good) {
			fill_probe(want, l, f[16]);
			good = !memcmp(want, f, l);
		}
		vp->lb_frames++;
		vp->lb_bad += !good;
		if (nbufs > vp->lb_bufs_max)
			vp->lb_bufs_max = nbufs;
		return;
	}
	if (memcmp(f, vp->mac, 6) && memcmp(f, bcast, 6))
		return; /* not for us */
	if (type == 0x0806 && len >= 42) {
		const uint8_t *a = f + 14;
		uint16_t op = get16(a + 6);
		uint32_t spa = get32(a + 14), tpa = get32(a + 24);
		if (from_us && op == 1 && tpa == vp->peer_ip) {
			vp->own_arp_seen++; /* our request came back: a loopback wire */
			return;
		}
		if (op == 2 && spa == vp->peer_ip) {
			memcpy(vp->peer_mac, a + 8, 6);
			vp->peer_known = true;
			vp->arp_replies++;
		} else if (op == 1 && tpa == vp->ip && !from_us) {
			send_arp(2, a + 8, spa, a + 8);
			vp->arp_answered++;
		}
		return;
	}
	if (type == 0x0800 && len >= 14 + 20 + 8) {
		const uint8_t *ip = f + 14;
		unsigned ihl = (ip[0] & 15) * 4, tot = get16(ip + 2);
		if ((ip[0] >> 4) != 4 || ihl < 20 || tot > len - 14 || tot < ihl + 8 || ip[9] != 1)
			return;
		if (get32(ip + 16) != vp->ip)
			return;
		const uint8_t *ic = ip + ihl;
		if (ic[0] == 0 && get32(ip + 12) == vp->peer_ip && ic[4] == 0x4b && ic[5] == 0x56) {
			vp->echo_replies++;
			vp->echo_seq_seen = get16(ic + 6);
		} else if (ic[0] == 8) {
			/* Answer: same id, seq and data, type 0. */
			send_icmp(0, f + 6, get32(ip + 12), ic + 4, tot - ihl - 4);
			vp->echo_answered++;
		}
	}
}

/* Take every completed rx buffer, hand whole frames up, give the buffers
 * back.  Returns the frames seen. */
static unsigned rx_poll(void)
{
	struct vq *q = &vp->rx;
	unsigned frames = 0;
	uint16_t old = q->avail_idx;

	for (;;) {
		uint16_t u = used_idx(q);
		barrier(); /* x86 keeps loads in order: entries after idx */
		if (q->last_used == u)
			break;
		uint32_t id, len;
		used_elem(q, q->last_used, &id, &len);
		if (id >= q->size || len < HDR_LEN || len > RXBUF) {
			printf("%s: bad rx used entry id %u len %u\n", vp->name, id, len);
			q->last_used++;
			continue;
		}
		uint8_t *b = q->bufs + (uint64_t)id * RXBUF;
		unsigned nb = (vp->features & BIT(F_MRG_RXBUF)) ? b[10] | b[11] << 8 : 1;
		if (nb == 0)
			nb = 1;
		/* Merged buffers: the rest of the frame is in the next nb-1
		 * used entries (5.1.6.4); wait for them if not there yet. */
		if ((uint16_t)(u - q->last_used) < nb)
			break;
		unsigned flen = len - HDR_LEN, off = 0;
		const uint8_t *frame = b + HDR_LEN;
		if (nb > 1) {
			memcpy(vp->frame, frame, flen);
			off = flen;
		}
		q->last_used++;
		rx_post((uint16_t)id);
		for (unsigned i = 1; i < nb; i++) {
			used_elem(q, q->last_used, &id, &len);
			q->last_used++;
			if (id < q->size && len <= RXBUF && off + len <= sizeof(vp->frame))
				memcpy(vp->frame + off, q->bufs + (uint64_t)id * RXBUF, len);
			off += len;
			if (id < q->size)
				rx_post((uint16_t)id);
		}
		if (nb > 1) {
			frame = vp->frame;
			flen = off <= sizeof(vp->frame) ? off : 0;
		}
		vp->rx_frames++;
		frames++;
		/* The buffers are back on the ring but the device cannot see
		 * them before the publish below, so the frame is still ours. */
		handle_frame(frame, flen, nb);
	}
	if (q->avail_idx != old)
		publish(q, old);
	want_irq(q, true);
	return frames;
}

/* Sleep until cond() holds (checked after every interrupt) or ms pass. */
static bool wait_for(bool (*cond)(void), uint64_t ms)
{
	uint64_t end = timer_ticks() + (ms * TIMER_HZ + 999) / 1000;
	static bool debug, debug_known;
	unsigned loops = 0;
	if (!debug_known)
		debug = cmdline_has("vnet_debug"), debug_known = true;
	for (;;) {
		if (debug && (loops++ % 50) == 0)
			printf("wait_for: ticks %lu end %lu timer irqs %lu rx irqs %lu tsc %lu\n",
			       timer_ticks(), end, irq_count(GUEST_VEC_TIMER),
			       irq_count(vp->vec_rx), rdtsc());
		rx_poll();
		if (cond())
			return true;
		if (timer_ticks() >= end)
			return false;
		irq_wait(); /* the rx vector or the timer wakes us */
	}
}

static uint16_t echo_want;
static bool got_arp(void)
{
	return vp->peer_known || vp->own_arp_seen;
}
static bool got_echo(void)
{
	return vp->echo_replies && vp->echo_seq_seen == echo_want;
}
static unsigned lb_want;
static bool got_lb(void)
{
	return vp->lb_frames >= lb_want;
}
static bool never(void)
{
	return false;
}

/* ---- interrupts ----------------------------------------------------------- */
static void on_irq(struct irq_frame *fr, void *arg)
{
	(void)fr;
	(void)arg;
	/* Work happens in the wait loops; the interrupt only wakes hlt. */
}

static void on_cfg_irq(struct irq_frame *fr, void *arg)
{
	(void)fr;
	((struct vnet *)arg)->cfg_irqs++;
}

static void on_intx(struct irq_frame *fr, void *arg)
{
	struct vnet *d = arg;
	(void)fr;
	/* Reading the ISR clears it, and the device then lets the line go. */
	uint8_t isr = mmio_read8(d->isr);
	d->isr_queue += isr & 1;
	d->isr_config += (isr >> 1) & 1;
	if (isr & 2)
		d->cfg_irqs++;
}

/* ---- bring-up ------------------------------------------------------------ */
/* The driver's half of feature negotiation (3.1.1 step 5-6): vp->features
 * written, then FEATURES_OK. */
static void write_features(void)
{
	c_wr32(C_GFSELECT, 0);
	c_wr32(C_GF, (uint32_t)vp->features);
	c_wr32(C_GFSELECT, 1);
	c_wr32(C_GF, (uint32_t)(vp->features >> 32));
	set_status(S_FEATURES_OK);
}

/* Reset and negotiate the features already chosen, up to FEATURES_OK and
 * no further: where the hostile steps start misbehaving. */
static void renegotiate(void)
{
	c_wr8(C_STATUS, 0);
	set_status(S_ACK | S_DRIVER);
	write_features();
}

static bool device_setup(bool report)
{
	/* 3.1.1 in order: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK,
	 * queues, DRIVER_OK. */
	c_wr8(C_STATUS, 0);
	bool reset_ok = c_rd8(C_STATUS) == 0;
	set_status(S_ACK);
	set_status(S_DRIVER);
	c_wr32(C_DFSELECT, 0);
	uint64_t offered = c_rd32(C_DF);
	c_wr32(C_DFSELECT, 1);
	offered |= (uint64_t)c_rd32(C_DF) << 32;
	uint64_t want = BIT(F_VERSION_1) | BIT(F_MAC) | BIT(F_STATUS) | BIT(F_MRG_RXBUF) |
			BIT(F_EVENT_IDX) | BIT(F_INDIRECT);
	/* 6.1: a device that offers ACCESS_PLATFORM (QEMU's with
	 * iommu_platform=on) DMAs through the platform's IOMMU, here the one
	 * kvmini programs at IOVA = GPA, so our physical addresses are right;
	 * the driver must accept it, and the device may refuse FEATURES_OK
	 * otherwise.  vnet_noplatform leaves it out, to see what the device
	 * does then. */
	if (!cmdline_has("vnet_noplatform"))
		want |= BIT(F_ACCESS_PLATFORM);
	if (cmdline_has("vnet_noevent"))
		want &= ~BIT(F_EVENT_IDX);
	if (cmdline_has("vnet_nomrg"))
		want &= ~BIT(F_MRG_RXBUF);
	vp->features = offered & want;
	write_features();
	bool fok = c_rd8(C_STATUS) & S_FEATURES_OK;
	if (report) {
		guest_checkf(reset_ok, "%s: reset reads back 0", vp->name);
		guest_checkf(offered & BIT(F_VERSION_1),
			     "%s: device offers VERSION_1 (features %#lx)", vp->name, offered);
		guest_checkf(fok, "%s: FEATURES_OK accepted (using %#lx%s%s%s%s%s)", vp->name,
			     vp->features, vp->features & BIT(F_MRG_RXBUF) ? " MRG_RXBUF" : "",
			     vp->features & BIT(F_EVENT_IDX) ? " EVENT_IDX" : "",
			     vp->features & BIT(F_INDIRECT) ? " INDIRECT" : "",
			     vp->features & BIT(F_STATUS) ? " STATUS" : "",
			     vp->features & BIT(F_ACCESS_PLATFORM) ? " ACCESS_PLATFORM" : "");
	}
	if (!fok) {
		set_status(S_FAILED);
		return false;
	}

	if (vp->msix) {
		c_wr16(C_MSIX, 0);
		if (report)
			guest_checkf(c_rd16(C_MSIX) == 0, "%s: config MSI-X vector 0 accepted",
				     vp->name);
	}
	bool qok = queue_setup(&vp->rx, 0, vp->msix ? 1 : NO_VECTOR) &&
		   queue_setup(&vp->tx, 1, vp->msix ? 2 : NO_VECTOR);
	if (report)
		guest_checkf(qok, "%s: rx and tx queues enabled (sizes %u, %u; %u queues)",
			     vp->name, vp->rx.size, vp->tx.size, c_rd16(C_NUMQ));
	if (!qok) {
		set_status(S_FAILED);
		return false;
	}
	if (!vp->rx.bufs) {
		/* 1 MiB in all, of which a run uses a few buffers: the
		 * device writes an rx buffer before we read it (up to the
		 * used length), tx_frame writes a tx buffer before the
		 * device reads it, so neither needs zeroing. */
		vp->rx.bufs = page_alloc_uninit(QMAX * RXBUF / PAGE_SIZE);
		vp->tx.bufs = page_alloc_uninit(QMAX * RXBUF / PAGE_SIZE);
		vp->tx.ind = page_alloc(QMAX * 2 * sizeof(struct desc) / PAGE_SIZE);
		if (!vp->rx.bufs || !vp->tx.bufs || !vp->tx.ind)
			guest_panic("%s: out of memory for buffers", vp->name);
	}
	set_status(S_DRIVER_OK);
	uint8_t st = c_rd8(C_STATUS);
	bool live = (st & S_DRIVER_OK) && !(st & (S_NEEDS_RESET | S_FAILED));
	if (report)
		guest_checkf(live, "%s: DRIVER_OK (status %#x)", vp->name, st);
	if (!live)
		return false;
	want_irq(&vp->tx, false); /* tx completions are reclaimed lazily */
	rx_fill();
	want_irq(&vp->rx, true);
	return true;
}

static void pci_cfg_window_check(void)
{
	if (!vp->pcicfg) {
		guest_checkf(false, "%s: PCI configuration access capability present", vp->name);
		return;
	}
	/* Find which BAR holds the common config, then read num_queues and
	 * device_feature through the window and through the mapping. */
	unsigned bar = 6;
	for (uint8_t o = pci_find_cap(vp->f, PCI_CAP_VENDOR, 0); o;
	     o = pci_find_cap(vp->f, PCI_CAP_VENDOR, o))
		if (pci_read8(vp->f, o + 3) == CAP_COMMON) {
			bar = pci_read8(vp->f, o + 4);
			uint32_t off = pci_read32(vp->f, o + 8);
			uint32_t nq = pcicfg_read(bar, off + C_NUMQ, 2);
			c_wr32(C_DFSELECT, 1);
			uint32_t df = pcicfg_read(bar, off + C_DF, 4);
			guest_checkf(nq == c_rd16(C_NUMQ) && df == c_rd32(C_DF),
				     "%s: PCI cfg window reads what the BAR does "
				     "(num_queues %u, features hi %#x)",
				     vp->name, nq, df);
			return;
		}
}

static void do_bench(uint64_t n)
{
	static uint8_t f[1514];
	unsigned sizes[2] = {64, 1500};

	for (unsigned s = 0; s < 2; s++) {
		unsigned len = sizes[s];
		fill_probe(f, len, 0);
		unsigned rx0 = vp->rx_frames;
		uint64_t t0 = rdtsc();
		for (uint64_t i = 0; i < n; i++) {
			uint16_t old = vp->tx.avail_idx;
			if (!tx_frame(f, len, true))
				break;
			/* Publish in small batches so the device works meanwhile. */
			if ((i & 15) == 15 || i + 1 == n)
				publish(&vp->tx, (uint16_t)(old - (i & 15)));
			if (vp->loopback)
				rx_poll();
		}
		if (vp->loopback) {
			lb_want = vp->lb_frames + 0; /* frames in flight drain below */
			uint64_t end = timer_ticks() + TIMER_HZ;
			while (vp->rx_frames - rx0 < n && timer_ticks() < end) {
				rx_poll();
				irq_wait();
			}
		}
		uint64_t us = (rdtsc() - t0) / (tsc_per_us() ? tsc_per_us() : 1);
		if (!us)
			us = 1;
		printf("bench: %u-byte frames: %lu sent, %u received, in %lu us: %lu frames/s\n",
		       len, n, vp->rx_frames - rx0, us, n * 1000000 / us);
	}
}

/* MSI-X masking (PCI 3.0 6.8.2.9 and 6.8.2.3): with the rx entry masked,
 * or the whole function, a completion must not interrupt but set the
 * entry's Pending bit; unmasking must then deliver it.  On an assigned
 * device this runs through kvmini's emulated table and PBA, the irqfd it
 * detaches and attaches, and VFIO. */
static void mask_entry(bool on)
{
	pci_msix_set(vp->f, 1, vp->vec_rx, on);
}

static void mask_function_of(struct vnet *n, bool on)
{
	uint8_t c = pci_find_cap(n->f, PCI_CAP_MSIX, 0);
	uint16_t ctl = pci_read16(n->f, c + 2);

	pci_write16(n->f, c + 2, on ? ctl | 0x4000 : ctl & ~0x4000); /* Function Mask */
}

static void mask_function(bool on)
{
	mask_function_of(vp, on);
}

static void msix_mask_round(const char *what, void (*mask)(bool), unsigned seed)
{
	uint8_t f[64];
	uint64_t c0 = irq_count(vp->vec_rx), end, masked_irqs;
	bool arrived, pending, taken, clear;

	mask(true);
	fill_probe(f, sizeof(f), seed);
	lb_want = vp->lb_frames + 1;
	want_irq(&vp->rx, true);
	tx_frame(f, sizeof(f), false);
	/* Poll the used ring (the timer wakes us), not the masked vector. */
	end = timer_ticks() + TIMER_HZ;
	while (used_idx(&vp->rx) == vp->rx.last_used && timer_ticks() < end)
		irq_wait();
	arrived = used_idx(&vp->rx) != vp->rx.last_used;
	/* Time for a stray interrupt to show up: asleep to the next tick,
	 * which also lets the device's thread run on a one-CPU host (a spin
	 * would hold the CPU it needs to misbehave). */
	end = timer_ticks() + 1;
	while (timer_ticks() < end)
		irq_wait();
	masked_irqs = irq_count(vp->vec_rx) - c0;
	pending = pci_msix_pending(vp->f, 1);
	mask(false);
	taken = irq_wait_count(vp->vec_rx, c0 + 1, 1000000);
	clear = !pci_msix_pending(vp->f, 1);
	wait_for(got_lb, 1000);
	guest_checkf(arrived && !masked_irqs && pending,
		     "%s: MSI-X %s masked: frame arrived, no interrupt, Pending bit set "
		     "(arrived %d, irqs %lu, pending %d)",
		     vp->name, what, arrived, masked_irqs, pending);
	guest_checkf(taken && clear,
		     "%s: MSI-X %s unmasked: pending interrupt delivered, Pending clear "
		     "(irqs %lu, pending after %d)",
		     vp->name, what, irq_count(vp->vec_rx) - c0, !clear);
}

static void msix_mask_check(void)
{
	msix_mask_round("rx entry", mask_entry, 7);
	msix_mask_round("function", mask_function, 8);
}

/* One frame out and back (loopback) or one echo (peer): the device works. */
static bool round_trip(unsigned seed)
{
	if (vp->loopback) {
		uint8_t f[64];
		fill_probe(f, sizeof(f), seed);
		lb_want = vp->lb_frames + 1;
		tx_frame(f, sizeof(f), false);
		return wait_for(got_lb, 1000);
	}
	if (vp->peer_known) {
		echo_want = (uint16_t)(100 + seed);
		send_echo(echo_want);
		return wait_for(got_echo, 2000);
	}
	return true; /* nobody to talk to: bring-up is all we can check */
}

/* INTx Disable toggled while frames flow and the INTx line is up (issue
 * 19): the PCI core stores the Command write before the device applies
 * it, and the device's I/O thread, raising an interrupt in between, must
 * not take INTx down itself (the irqfd wiring is the vCPU thread's; on the
 * I/O thread's allowlist that call stopped kvmini, exit 12).  With the
 * guest's interrupts off the ISR is never read and no EOI comes, so the
 * line stays up across the rounds; each round sends frames, waits a
 * different time (to sweep the window) and sets and clears INTx Disable.
 * Afterwards every frame must have come back and the pending interrupt
 * must arrive once interrupts are on.  The device is put back in the mode
 * it was in (MSI-X, or INTx for vnet_intx).  Returns whether all held. */
static bool intx_toggle(unsigned rounds, unsigned *sent, unsigned *back, unsigned *intx)
{
	struct pci_func *f = vp->f;
	int pin = pci_intx_ioapic_pin(f);
	uint8_t fr[64];
	unsigned lb0 = vp->lb_frames, q0 = vp->isr_queue + vp->isr_config;

	*sent = *back = *intx = 0;
	if (pin < 0 || !vp->loopback)
		return false;
	if (vp->msix)
		pci_msix_disable(f);
	irq_set_handler(vp->vec_rx, on_intx, vp);
	ioapic_route((unsigned)pin, vp->vec_rx, IOAPIC_LEVEL);
	pci_intx_disable(f, false);
	irq_disable();
	for (unsigned r = 0; r < rounds; r++) {
		uint16_t old = vp->tx.avail_idx;
		fill_probe(fr, sizeof(fr), 40 + r % 8);
		want_irq(&vp->rx, true);
		want_irq(&vp->tx, true);
		for (unsigned i = 0; i < 4 && vp->tx.inflight + 1 < vp->tx.size; i++)
			*sent += tx_frame(fr, sizeof(fr), true);
		publish(&vp->tx, old);
		udelay(r % 50);
		pci_intx_disable(f, true);
		pci_intx_disable(f, false);
		rx_poll();
		tx_reclaim();
	}
	/* Drain what is still in flight, interrupts still off. */
	uint64_t end = timer_ticks() + TIMER_HZ;
	while (vp->lb_frames - lb0 < *sent && timer_ticks() < end) {
		rx_poll();
		tx_reclaim();
		udelay(100);
	}
	*back = vp->lb_frames - lb0;
	/* The interrupt left pending is delivered once the CPU takes it. */
	end = timer_ticks() + TIMER_HZ;
	while (vp->isr_queue + vp->isr_config == q0 && timer_ticks() < end)
		irq_wait();
	irq_enable();
	*intx = vp->isr_queue + vp->isr_config - q0;
	/* Back to the mode the driver had. */
	if (vp->msix) {
		pci_intx_disable(f, true);
		ioapic_mask((unsigned)pin, true);
		irq_set_handler(vp->vec_rx, on_irq, &vp->rx);
		pci_msix_enable(f);
		pci_msix_set(f, 0, vp->vec_cfg, false);
		pci_msix_set(f, 1, vp->vec_rx, false);
		pci_msix_set(f, 2, vp->vec_tx, false);
	}
	return *back == *sent && *sent > 0 && *intx > 0;
}

/* A hostile driver, one kind of misbehaviour (docs/hostile-guest.md).
 * Most kinds must end in DEVICE_NEEDS_RESET (virtio 1.2 2.1.2) with a
 * config interrupt; "reset", "qreset" and "vector" must not: there the
 * device drops the bad write, or a reset must simply work.  Every kind
 * then resets the device and brings it up as at probe (device_setup, the
 * normal bring-up) and sends a frame.  one: a single check line (the
 * --cmdline hostile run), else the separate checks of vnet_hostile=KIND. */
static void hostile(const char *kind, bool one)
{
	struct vq *q = &vp->tx;
	uint16_t slot = q->avail_idx % q->size;
	bool want_nr = true, pre_ok = true;
	const char *what = kind;

	printf("%s: hostile test '%s'\n", vp->name, kind);
	vp->cfg_irqs = 0;
	if (!strcmp(kind, "loop")) {
		what = "a descriptor whose next is itself";
		q->desc[slot].addr = virt_to_phys(q->bufs);
		q->desc[slot].len = 64;
		q->desc[slot].flags = D_NEXT;
		q->desc[slot].next = slot; /* points at itself */
	} else if (!strcmp(kind, "long")) {
		what = "a chain longer than the ring (every descriptor chained, wrapping)";
		for (unsigned i = 0; i < q->size; i++) {
			q->desc[i].addr = virt_to_phys(q->bufs);
			q->desc[i].len = 64;
			q->desc[i].flags = D_NEXT;
			q->desc[i].next = (uint16_t)((i + 1) % q->size);
		}
	} else if (!strcmp(kind, "oob")) {
		uint64_t top = 0;
		what = "a buffer straddling the end of RAM";
		for (unsigned i = 0; i < mem_region_count(); i++) {
			const struct mem_region *r = mem_region_at(i);
			if (r->type == MEM_RAM && r->addr + r->size > top)
				top = r->addr + r->size;
		}
		q->desc[slot].addr = top - 16; /* straddles the end of RAM */
		q->desc[slot].len = 4096;
		q->desc[slot].flags = 0;
	} else if (!strcmp(kind, "far")) {
		what = "a buffer at 2^52, far outside RAM";
		q->desc[slot].addr = 1ull << 52;
		q->desc[slot].len = 64;
		q->desc[slot].flags = 0;
	} else if (!strcmp(kind, "giant")) {
		what = "a 4 GiB - 1 buffer length";
		q->desc[slot].addr = virt_to_phys(q->bufs);
		q->desc[slot].len = 0xffffffffu;
		q->desc[slot].flags = 0;
	} else if (!strcmp(kind, "bigidx")) {
		what = "the avail index jumped past the ring";
		q->avail_idx += q->size + 5; /* more than the ring holds */
		q->avail[1] = q->avail_idx;
		mb();
		/* Kick whatever EVENT_IDX says: a hostile driver does. */
		mmio_write16(q->notify, (uint16_t)q->index);
		goto wait;
	} else if (!strcmp(kind, "early")) {
		what = "a kick before DRIVER_OK, of a queue not enabled";
		renegotiate();
		mmio_write16(q->notify, (uint16_t)q->index);
		goto wait;
	} else if (!strcmp(kind, "reset")) {
		/* Frames in flight, kicked, and the device reset at once: the
		 * reset must stick (status 0, no NEEDS_RESET from the old kick
		 * read late by the I/O thread) and a bring-up must work. */
		uint8_t f[64];
		what = "a device reset with frames in flight";
		want_nr = false;
		fill_probe(f, sizeof(f), 11);
		uint16_t old = q->avail_idx;
		for (unsigned i = 0; i < 8 && q->inflight < q->size; i++)
			tx_frame(f, sizeof(f), true);
		publish(q, old);
		c_wr8(C_STATUS, 0);
		mdelay(20); /* time for the I/O thread to see the kick */
		pre_ok = c_rd8(C_STATUS) == 0;
		goto recover;
	} else if (!strcmp(kind, "qreset")) {
		/* virtio 1.x has no queue disable: queue_enable 0, and size or
		 * ring addresses written while enabled, must be dropped. */
		what = "queue_enable 0, queue size and ring address writes on a live queue";
		want_nr = false;
		c_wr16(C_QSELECT, (uint16_t)q->index);
		c_wr16(C_QENABLE, 0);
		c_wr16(C_QSIZE, 7);
		c_wr64(C_QDESC, 1ull << 52);
		pre_ok = c_rd16(C_QENABLE) == 1 && c_rd16(C_QSIZE) == q->size &&
			 round_trip(12);
		goto recover;
	} else if (!strcmp(kind, "intx")) {
		static char buf[160];
		unsigned sent, back, intx;
		want_nr = false;
		pre_ok = intx_toggle(200, &sent, &back, &intx);
		snprintf(buf, sizeof(buf),
			 "INTx Disable set and cleared 200 times under traffic, line up "
			 "(%u frames sent, %u back, %u INTx after)",
			 sent, back, intx);
		what = buf;
		goto recover;
	} else if (!strcmp(kind, "vector")) {
		/* 4.1.4.3.2: a vector the device cannot use reads NO_VECTOR. */
		what = "MSI-X vectors out of range (queue 0x4000, config 0x99)";
		want_nr = false;
		c_wr16(C_QSELECT, (uint16_t)q->index);
		c_wr16(C_QMSIX, 0x4000);
		pre_ok = c_rd16(C_QMSIX) == NO_VECTOR;
		c_wr16(C_MSIX, 0x99);
		pre_ok = pre_ok && c_rd16(C_MSIX) == NO_VECTOR;
		goto recover;
	}
	if (!strcmp(kind, "qsize")) {
		what = "queue size 100 (not a power of two)";
		/* Re-setup with a queue size that is not a power of two. */
		renegotiate();
		c_wr16(C_QSELECT, 0);
		c_wr16(C_QSIZE, 100);
		c_wr16(C_QENABLE, 1);
		goto wait;
	}
	q->avail[2 + q->avail_idx % q->size] = slot;
	q->avail_idx++;
	publish(q, (uint16_t)(q->avail_idx - 1));
wait:;
	uint64_t end = timer_ticks() + TIMER_HZ;
	while (!(c_rd8(C_STATUS) & S_NEEDS_RESET) && timer_ticks() < end)
		irq_wait();
recover:;
	uint8_t st = c_rd8(C_STATUS);
	bool nr = st & S_NEEDS_RESET;
	/* The config interrupt comes only to a driver that had DRIVER_OK. */
	bool irq_ok = !want_nr || !vp->msix || vp->cfg_irqs > 0 || !strcmp(kind, "qsize") ||
		      !strcmp(kind, "early");
	if (!one) {
		guest_checkf(nr == want_nr && pre_ok, "%s: hostile '%s' -> %s (status %#x)",
			     vp->name, kind, want_nr ? "DEVICE_NEEDS_RESET" : "dropped, no NEEDS_RESET",
			     st);
		if (want_nr && strcmp(kind, "qsize"))
			guest_checkf(irq_ok, "%s: config interrupt for NEEDS_RESET (%u)", vp->name,
				     vp->cfg_irqs);
	}
	/* Recover: a reset and a fresh bring-up must give a working device. */
	bool ok = device_setup(false);
	bool rt = ok && round_trip(9);
	if (!one) {
		guest_checkf(ok, "%s: reset after NEEDS_RESET gives a working device", vp->name);
		if (ok && (vp->loopback || vp->peer_known))
			guest_checkf(rt, "%s: %s after the reset", vp->name,
				     vp->loopback ? "frame round trip" : "echo reply");
		return;
	}
	guest_checkf(nr == want_nr && pre_ok && irq_ok && ok && rt,
		     "hostile: %s: %s: %s (status %#x%s), a reset and bring-up give a working "
		     "device (%s)",
		     vp->name, what,
		     want_nr ? "DEVICE_NEEDS_RESET" : "dropped or harmless, no NEEDS_RESET", st,
		     want_nr && vp->cfg_irqs ? ", config interrupt" : "",
		     vp->loopback ? "frame round trip" : vp->peer_known ? "echo" : "bring-up");
}

/* Issue 10: notify both queues and reset at once, before the device's I/O
 * thread has read the kicks.  The fresh device must read status 0 (Linux's
 * vp_reset() waits for it) and initialise and pass a frame as usual. */
static void reset_with_kicks_pending(unsigned rounds)
{
	unsigned zero = 0, trips = 0;
	uint8_t f[64], st = 0;

	for (unsigned r = 0; r < rounds; r++) {
		mmio_write16(vp->rx.notify, (uint16_t)vp->rx.index);
		mmio_write16(vp->tx.notify, (uint16_t)vp->tx.index);
		c_wr8(C_STATUS, 0);
		/* Let the I/O thread run (it takes the kicks, if any are left):
		 * sleeping to the next timer tick gives up the host CPU, which
		 * is what it needs, where a spin would keep it on a one-CPU
		 * host; a longer wait proves nothing more. */
		uint64_t end = timer_ticks() + 1;
		while (timer_ticks() < end)
			irq_wait();
		st = c_rd8(C_STATUS);
		zero += st == 0;
		if (!device_setup(false))
			continue;
		fill_probe(f, sizeof(f), 20 + r);
		lb_want = vp->lb_frames + 1;
		tx_frame(f, sizeof(f), false);
		trips += wait_for(got_lb, 1000);
	}
	guest_checkf(zero == rounds,
		     "%s: reset with kicks pending reads status 0 (%u of %u; last %#x)", vp->name,
		     zero, rounds, st);
	guest_checkf(trips == rounds,
		     "%s: after each such reset it initialises and passes a frame (%u of %u)",
		     vp->name, trips, rounds);
}

static void vnet_drive(struct pci_func *f);

/* Drive one more virtio-net.  The devices driven before it keep their rx
 * queues filled, and their taps may still bring a frame (the host's own
 * IPv6 or ARP traffic): their functions are masked while this one runs,
 * so that an interrupt on their vectors can only be one of this device's
 * going astray (vnet_drive's last checks).  What they get meanwhile stays
 * pending and is delivered when they are unmasked. */
void vnet_test(struct pci_func *f)
{
	unsigned before = vnet_count;

	for (unsigned i = 0; i < before; i++)
		mask_function_of(&vnets[i], true);
	vnet_drive(f);
	for (unsigned i = 0; i < before; i++)
		mask_function_of(&vnets[i], false);
}

static void vnet_drive(struct pci_func *f)
{
	char opt[64];

	/* Each function gets its own state and its own three vectors, so
	 * two devices' interrupts are never confused (memmap.h). */
	static const uint8_t vecs[2][3] = {
	    {GUEST_VEC_VNET_CFG, GUEST_VEC_VNET_RX, GUEST_VEC_VNET_TX},
	    {GUEST_VEC_VNET2_CFG, GUEST_VEC_VNET2_RX, GUEST_VEC_VNET2_TX},
	};
	/* kvmini's --net i sits in PCI_SLOT_NET_N(i): which one is this? */
	int net_i = -1;

	for (unsigned i = 0; report_is_kvmini() && f->bus == 0 && i < PCI_MAX_NET; i++)
		if (f->dev == PCI_SLOT_NET_N(i) && f->fn == 0)
			net_i = (int)i;
	if (vnet_count == VNET_MAX) {
		printf("virtio-net: %02x:%02x.%x: more than %u devices, not driven\n", f->bus,
		       f->dev, f->fn, VNET_MAX);
		return;
	}
	vp = &vnets[vnet_count];
	memset(vp, 0, sizeof(*vp));
	vp->f = f;
	if (vnet_count < 2) {
		vp->vec_cfg = vecs[vnet_count][0];
		vp->vec_rx = vecs[vnet_count][1];
		vp->vec_tx = vecs[vnet_count][2];
	} else {
		vp->vec_cfg = (uint8_t)GUEST_VEC_VNET_N(vnet_count);
		vp->vec_rx = (uint8_t)(GUEST_VEC_VNET_N(vnet_count) + 1);
		vp->vec_tx = (uint8_t)(GUEST_VEC_VNET_N(vnet_count) + 2);
	}
	vnet_count++;
	/* kvmini's own devices keep kvmini's names ("virtio-net" for the
	 * first: the other scenarios match on it, then "virtio-net1" ...);
	 * any other function is named by its address. */
	if (net_i > 0)
		snprintf(vp->name, sizeof(vp->name), "virtio-net%d", net_i);
	else if (report_is_kvmini() && net_i < 0)
		snprintf(vp->name, sizeof(vp->name), "virtio-net %02x:%02x.%x", f->bus, f->dev,
			 f->fn);
	else
		snprintf(vp->name, sizeof(vp->name), "virtio-net");
	/* --net i's tap peer is 169.254.(100+i).1 (memmap.h); we are .2. */
	vp->ip = GUEST_NET_SUBNET(net_i > 0 ? net_i : 0) + 2;
	vp->peer_ip = GUEST_NET_SUBNET(net_i > 0 ? net_i : 0) + 1;
	if (net_i <= 0 && cmdline_get("ip", opt, sizeof(opt)) && !parse_ipv4(opt, &vp->ip))
		printf("%s: ip=%s is not an IPv4 address, using the default\n", vp->name, opt);
	if (net_i <= 0 && cmdline_get("peer", opt, sizeof(opt)) && !parse_ipv4(opt, &vp->peer_ip))
		printf("%s: peer=%s is not an IPv4 address, using the default\n", vp->name, opt);

	printf("%s: %02x:%02x.%x rev %u subsystem %04x:%04x\n", vp->name, f->bus, f->dev, f->fn,
	       f->revision, f->subsys_vendor, f->subsys_device);
	/* 4.1.2.1: a modern (rev >= 1) device's subsystem IDs may name the
	 * environment (QEMU puts 1af4:1100 there), so only kvmini's is pinned. */
	guest_checkf(f->revision >= 1 && f->class_code == 2 &&
			 (!report_is_kvmini() || net_i < 0 ||
			  (f->subsys_vendor == 0x1af4 && f->subsys_device == 1)),
		     "%s: modern ID 1af4:1041 rev %u, class %02x%02x, subsystem %04x:%04x",
		     vp->name, f->revision, f->class_code, f->subclass, f->subsys_vendor,
		     f->subsys_device);
	uint64_t others0 = 0;
	for (struct vnet *o = vnets; o < vp; o++)
		others0 += irq_count(o->vec_cfg) + irq_count(o->vec_rx) + irq_count(o->vec_tx);
	bool caps = find_caps();
	guest_checkf(caps && vp->pcicfg,
		     "%s: vendor caps: common, notify (x%u), ISR, device, PCI cfg", vp->name,
		     vp->notify_mult);
	if (!caps)
		return;
	pci_set_bus_master(f, true); /* the device DMAs the rings */

	/* MSI-X: vector 0 config, 1 rx, 2 tx (memmap.h). */
	vp->msix =
	    !cmdline_has("vnet_intx") && pci_msix_table_size(f) >= 3 && pci_msix_enable(f) == 0;
	if (vp->msix) {
		irq_set_handler(vp->vec_cfg, on_cfg_irq, vp);
		irq_set_handler(vp->vec_rx, on_irq, &vp->rx);
		irq_set_handler(vp->vec_tx, on_irq, &vp->tx);
		pci_msix_set(f, 0, vp->vec_cfg, false);
		pci_msix_set(f, 1, vp->vec_rx, false);
		pci_msix_set(f, 2, vp->vec_tx, false);
	}
	if (cmdline_has("vnet_intx")) {
		/* The fallback: INTA# through the IOAPIC, level-triggered, and
		 * the ISR saying why (4.1.4.5). */
		int pin = pci_intx_ioapic_pin(f);
		guest_checkf(pin >= 0, "%s: INTx routed to IOAPIC pin %d", vp->name, pin);
		if (pin < 0)
			return;
		irq_set_handler(vp->vec_rx, on_intx, vp);
		pci_intx_disable(f, false);
		ioapic_route((unsigned)pin, vp->vec_rx, IOAPIC_LEVEL);
	} else {
		guest_checkf(vp->msix, "%s: MSI-X enabled with 3 vectors", vp->name);
	}

	c_wr8(C_STATUS, 0);
	pci_cfg_window_check();
	if (!device_setup(true))
		return;
	phase_end("virtio-net: probe, setup");

	for (int i = 0; i < 6; i++)
		vp->mac[i] = mmio_read8(vp->device + i);
	uint16_t link =
	    (vp->features & BIT(F_STATUS)) ? mmio_read16(vp->device + 6) : NET_S_LINK_UP;
	printf("%s: mac %02x:%02x:%02x:%02x:%02x:%02x, link %s, ip %u.%u.%u.%u, peer "
	       "%u.%u.%u.%u\n",
	       vp->name, vp->mac[0], vp->mac[1], vp->mac[2], vp->mac[3], vp->mac[4], vp->mac[5],
	       link & NET_S_LINK_UP ? "up" : "down", vp->ip >> 24, vp->ip >> 16 & 255,
	       vp->ip >> 8 & 255, vp->ip & 255, vp->peer_ip >> 24, vp->peer_ip >> 16 & 255,
	       vp->peer_ip >> 8 & 255, vp->peer_ip & 255);
	guest_checkf(!(vp->mac[0] & 1) && (vp->mac[0] | vp->mac[1] | vp->mac[2] | vp->mac[3] |
					   vp->mac[4] | vp->mac[5]),
		     "%s: MAC is unicast and not zero", vp->name);
	if (!(link & NET_S_LINK_UP)) {
		printf("%s: link down (--net none?): no traffic checks\n", vp->name);
		return;
	}

	/* ARP for the peer; our own request coming back means a loopback. */
	uint64_t irq0 = irq_count(vp->vec_rx);
	bool arp = false;
	for (int i = 0; i < 3 && !arp; i++) {
		send_arp(1, NULL, vp->peer_ip, NULL);
		arp = wait_for(got_arp, 1000);
	}
	vp->loopback = vp->own_arp_seen && !vp->peer_known;
	printf("%s: wire is %s\n", vp->name,
	       vp->loopback ? "a loopback (our ARP came back)" : "a link to the peer");
	guest_checkf(arp, "%s: %s", vp->name,
		     vp->loopback ? "own ARP request came back (loopback)"
				  : "ARP reply from the peer");
	if (!arp)
		return;
	phase_end("virtio-net: ARP");

	if (vp->loopback) {
		static uint8_t f2[4096];
		unsigned sizes[] = {60, 1514, 4000};
		for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
			unsigned len = sizes[i];
			if (len > RXBUF - HDR_LEN && !(vp->features & BIT(F_MRG_RXBUF)))
				continue;
			fill_probe(f2, len, i);
			lb_want = vp->lb_frames + 1;
			if (len > RXBUF - HDR_LEN) {
				/* Bigger than one tx buffer: a two-descriptor chain. */
				struct vq *q = &vp->tx;
				if (!tx_wait_slot() || q->inflight + 1 >= q->size)
					continue;
				uint16_t s0 = q->avail_idx % q->size;
				uint8_t *buf = q->bufs + (uint64_t)s0 * RXBUF;
				memset(buf, 0, HDR_LEN);
				q->desc[s0].addr = virt_to_phys(buf);
				q->desc[s0].len = HDR_LEN;
				q->desc[s0].flags = D_NEXT;
				q->desc[s0].next = (uint16_t)((s0 + 1) % q->size);
				volatile struct desc *d1 = &q->desc[(s0 + 1) % q->size];
				d1->addr = virt_to_phys(f2);
				d1->len = len;
				d1->flags = 0;
				q->avail[2 + q->avail_idx % q->size] = s0;
				q->avail_idx++;
				q->inflight += 1;
				publish(q, (uint16_t)(q->avail_idx - 1));
				/* Keep the second descriptor's slot out of use: wait. */
				bool ok = wait_for(got_lb, 1000);
				tx_reclaim();
				guest_checkf(ok && !vp->lb_bad && vp->lb_bufs_max >= 2,
					     "%s: %u-byte frame round trip, %u merged rx buffers",
					     vp->name, len, vp->lb_bufs_max);
				continue;
			}
			tx_frame(f2, len, false);
			guest_checkf(wait_for(got_lb, 1000) && !vp->lb_bad,
				     "%s: %u-byte frame came back intact", vp->name, len);
		}
	} else {
		printf("%s: peer mac %02x:%02x:%02x:%02x:%02x:%02x\n", vp->name, vp->peer_mac[0],
		       vp->peer_mac[1], vp->peer_mac[2], vp->peer_mac[3], vp->peer_mac[4],
		       vp->peer_mac[5]);
		unsigned got = 0;
		for (uint16_t seq = 1; seq <= 3; seq++) {
			echo_want = seq;
			send_echo(seq);
			got += wait_for(got_echo, 1000);
		}
		guest_checkf(got == 3, "%s: ICMP echo replies from the peer (%u of 3)", vp->name,
			     got);
	}
	phase_end("virtio-net: frames");
	if (vp->loopback)
		reset_with_kicks_pending(10);
	if (vp->msix && vp->loopback && !cmdline_has("vnet_nomask"))
		msix_mask_check();
	phase_end("virtio-net: reset, MSI-X mask");
	if (cmdline_has("vnet_intx"))
		guest_checkf(vp->isr_queue > 0, "%s: INTx taken with the ISR queue bit (%u)",
			     vp->name, vp->isr_queue);
	guest_checkf(irq_count(vp->vec_rx) > irq0,
		     "%s: rx completions taken by interrupt (%lu, %s vector %#x)", vp->name,
		     irq_count(vp->vec_rx) - irq0, vp->msix ? "MSI-X" : "INTx", vp->vec_rx);

	uint64_t n = cmdline_u64("bench", 0);
	if (n)
		do_bench(n);

	uint64_t serve = cmdline_u64("serve", 0);
	if (serve) {
		printf("%s: answering ARP and ping at %u.%u.%u.%u for %lu s\n", vp->name,
		       vp->ip >> 24, vp->ip >> 16 & 255, vp->ip >> 8 & 255, vp->ip & 255, serve);
		wait_for(never, serve * 1000);
		/* Not a check: whether anyone pinged is the peer's to say. */
		printf("%s: served %u ARP requests and %u echo requests\n", vp->name,
		       vp->arp_answered, vp->echo_answered);
	}

	if (cmdline_get("vnet_hostile", opt, sizeof(opt)))
		hostile(opt, false);
	/* --cmdline hostile: every kind, one check line each. */
	if (cmdline_has("hostile")) {
		static const char *const kinds[] = {"loop",  "long",  "oob",   "far",
						    "giant", "bigidx", "qsize", "early",
						    "reset", "qreset", "vector", "intx"};
		for (unsigned i = 0; i < ARRAY_SIZE(kinds); i++)
			hostile(kinds[i], true);
	}

	/* The devices driven before this one sit idle meanwhile: none of
	 * this device's interrupts may have landed on their vectors. */
	uint64_t others = 0;
	for (struct vnet *o = vnets; o < vp; o++)
		others += irq_count(o->vec_cfg) + irq_count(o->vec_rx) + irq_count(o->vec_tx);
	if (vp != vnets)
		guest_checkf(others == others0,
			     "%s: its interrupts came on its own vectors only (%lu on the others')",
			     vp->name, others - others0);

	uint8_t st = c_rd8(C_STATUS);
	guest_checkf(!(st & S_NEEDS_RESET), "%s: no DEVICE_NEEDS_RESET at the end (status %#x)",
		     vp->name, st);
	printf("%s: %u frames sent, %u received; irqs rx %lu tx %lu config %lu\n", vp->name,
	       vp->tx_frames, vp->rx_frames, irq_count(vp->vec_rx), irq_count(vp->vec_tx),
	       irq_count(vp->vec_cfg));
}

/* ---- for smp.c: a device whose interrupt can be aimed at another CPU ---- */
struct pci_func *vnet_loopback_msix(unsigned *rx_entry, uint8_t *rx_vector)
{
	for (unsigned i = 0; i < vnet_count; i++) {
		struct vnet *d = &vnets[i];

		if (d->msix && d->loopback) {
			*rx_entry = 1; /* vector 0 config, 1 rx, 2 tx */
			*rx_vector = d->vec_rx;
			return d->f;
		}
	}
	return NULL;
}

bool vnet_probe_frame(void)
{
	uint8_t f[64];

	for (unsigned i = 0; i < vnet_count; i++) {
		if (!vnets[i].msix || !vnets[i].loopback)
			continue;
		vp = &vnets[i];
		fill_probe(f, sizeof(f), 30);
		lb_want = vp->lb_frames + 1;
		want_irq(&vp->rx, true);
		tx_frame(f, sizeof(f), false);
		return wait_for(got_lb, 1000);
	}
	return false;
}
