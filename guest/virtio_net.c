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
 * ring on purpose - loop, oob, bigidx, qsize - and check that the device
 * sets DEVICE_NEEDS_RESET and works again after a reset).
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

#define F_CSUM	    0
#define F_MAC	    5
#define F_MRG_RXBUF 15
#define F_STATUS    16
#define F_INDIRECT  28
#define F_EVENT_IDX 29
#define F_VERSION_1 32
#define BIT(b)	    (1ull << (b))

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

static struct {
	struct pci_func *f;
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
} vn;

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
	return mmio_read8(vn.common + o);
}
static uint16_t c_rd16(unsigned o)
{
	return mmio_read16(vn.common + o);
}
static uint32_t c_rd32(unsigned o)
{
	return mmio_read32(vn.common + o);
}
static void c_wr8(unsigned o, uint8_t v)
{
	mmio_write8(vn.common + o, v);
}
static void c_wr16(unsigned o, uint16_t v)
{
	mmio_write16(vn.common + o, v);
}
static void c_wr32(unsigned o, uint32_t v)
{
	mmio_write32(vn.common + o, v);
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
	uint8_t c = vn.pcicfg;
	pci_write8(vn.f, c + 4, (uint8_t)bar);
	pci_write32(vn.f, c + 8, off);
	pci_write32(vn.f, c + 12, len);
	uint32_t v = pci_read32(vn.f, c + 16);
	return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

/* ---- capabilities -------------------------------------------------------- */
static bool find_caps(void)
{
	bool got[6] = {false};
	unsigned bar0 = 6;

	for (uint8_t o = pci_find_cap(vn.f, PCI_CAP_VENDOR, 0); o;
	     o = pci_find_cap(vn.f, PCI_CAP_VENDOR, o)) {
		uint8_t type = pci_read8(vn.f, o + 3), bar = pci_read8(vn.f, o + 4);
		uint32_t off = pci_read32(vn.f, o + 8), len = pci_read32(vn.f, o + 12);
		if (type == CAP_PCI_CFG) {
			vn.pcicfg = o;
			got[type] = true;
			continue;
		}
		if (type < CAP_COMMON || type > CAP_DEVICE || got[type])
			continue; /* 4.1.4: use the first of each type we understand */
		uint8_t *base = bar < 6 ? pci_bar_ptr(vn.f, bar) : NULL;
		if (!base || off + len > vn.f->bar[bar].size) {
			printf("virtio-net: cap type %u: bar %u offset %#x length %#x unusable\n",
			       type, bar, off, len);
			continue;
		}
		uint64_t a = (uint64_t)(uintptr_t)base + off;
		printf("virtio-net: cap %u at %#x: bar %u + %#x (%u bytes)\n", type, o, bar, off,
		       len);
		switch (type) {
		case CAP_COMMON:
			vn.common = a;
			bar0 = bar;
			break;
		case CAP_NOTIFY:
			vn.notify_base = a;
			vn.notify_mult = pci_read32(vn.f, o + 16);
			break;
		case CAP_ISR: vn.isr = a; break;
		case CAP_DEVICE: vn.device = a; break;
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
	q->notify = vn.notify_base + (uint64_t)c_rd16(C_QNOTIFYOFF) * vn.notify_mult;
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
	if (vn.features & BIT(F_EVENT_IDX))
		kick = need_event(avail_event(q), q->avail_idx, old);
	else
		kick = !(*(volatile uint16_t *)q->used & USED_NO_NOTIFY);
	if (kick)
		mmio_write16(q->notify, (uint16_t)q->index);
}

/* Ask for an interrupt at the next used entry (EVENT_IDX or the flag). */
static void want_irq(struct vq *q, bool on)
{
	if (vn.features & BIT(F_EVENT_IDX))
		*used_event(q) = on ? q->last_used : (uint16_t)(q->last_used - 1);
	else
		q->avail[0] = on ? 0 : AVAIL_NO_INTERRUPT;
	mb();
}

static void rx_post(uint16_t id)
{
	struct vq *q = &vn.rx;
	q->avail[2 + q->avail_idx % q->size] = id;
	q->avail_idx++;
}

static void rx_fill(void)
{
	struct vq *q = &vn.rx;
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
	struct vq *q = &vn.tx;
	uint16_t u = used_idx(q);
	barrier();
	while (q->last_used != u) {
		q->last_used++;
		q->inflight--;
	}
}

static bool tx_wait_slot(void)
{
	struct vq *q = &vn.tx;
	uint64_t t0 = timer_ticks();

	for (;;) {
		tx_reclaim();
		if (q->inflight < q->size)
			return true;
		if (vn.loopback)
			rx_poll(); /* a loopback's tx waits for our rx buffers */
		/* Full: sleep until the device completes one (tx interrupt). */
		want_irq(q, true);
		tx_reclaim();
		if (q->inflight < q->size)
			break;
		if (timer_ticks() - t0 > 2 * TIMER_HZ) {
			printf("virtio-net: tx ring stuck (%u in flight)\n", q->inflight);
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
	struct vq *q = &vn.tx;
	if (len > RXBUF - HDR_LEN || !tx_wait_slot())
		return false;
	uint16_t slot = q->avail_idx % q->size;
	uint8_t *buf = q->bufs + (uint64_t)slot * RXBUF;
	memset(buf, 0, HDR_LEN); /* no offloads: flags 0, GSO_NONE */
	memcpy(buf + HDR_LEN, frame, len);
	if (vn.features & BIT(F_INDIRECT)) {
		/* Header and frame as two entries of an indirect table, to
		 * exercise the device's indirect path. */
		volatile struct desc *t = vn.tx.ind + 2 * slot;
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
	vn.tx_frames++;
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
	memcpy(f + 6, vn.mac, 6);
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
	memcpy(a + 8, vn.mac, 6);
	put32(a + 14, vn.ip);
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
	vn.ip_id++;
	ip[4] = (uint8_t)(vn.ip_id >> 8), ip[5] = (uint8_t)vn.ip_id;
	ip[8] = 64;
	ip[9] = 1; /* ICMP */
	put32(ip + 12, vn.ip);
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
	send_icmp(8, vn.peer_mac, vn.peer_ip, rest, sizeof(rest));
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
	bool from_us = !memcmp(f + 6, vn.mac, 6);

	if (type == 0x88b5 && from_us && len >= 17) {
		uint8_t want[4096 + 64];
		unsigned l = get16(f + 14);
		bool good = l == len && l <= sizeof(want);
		if (good) {
			fill_probe(want, l, f[16]);
			good = !memcmp(want, f, l);
		}
		vn.lb_frames++;
		vn.lb_bad += !good;
		if (nbufs > vn.lb_bufs_max)
			vn.lb_bufs_max = nbufs;
		return;
	}
	if (memcmp(f, vn.mac, 6) && memcmp(f, bcast, 6))
		return; /* not for us */
	if (type == 0x0806 && len >= 42) {
		const uint8_t *a = f + 14;
		uint16_t op = get16(a + 6);
		uint32_t spa = get32(a + 14), tpa = get32(a + 24);
		if (from_us && op == 1 && tpa == vn.peer_ip) {
			vn.own_arp_seen++; /* our request came back: a loopback wire */
			return;
		}
		if (op == 2 && spa == vn.peer_ip) {
			memcpy(vn.peer_mac, a + 8, 6);
			vn.peer_known = true;
			vn.arp_replies++;
		} else if (op == 1 && tpa == vn.ip && !from_us) {
			send_arp(2, a + 8, spa, a + 8);
			vn.arp_answered++;
		}
		return;
	}
	if (type == 0x0800 && len >= 14 + 20 + 8) {
		const uint8_t *ip = f + 14;
		unsigned ihl = (ip[0] & 15) * 4, tot = get16(ip + 2);
		if ((ip[0] >> 4) != 4 || ihl < 20 || tot > len - 14 || tot < ihl + 8 || ip[9] != 1)
			return;
		if (get32(ip + 16) != vn.ip)
			return;
		const uint8_t *ic = ip + ihl;
		if (ic[0] == 0 && get32(ip + 12) == vn.peer_ip && ic[4] == 0x4b && ic[5] == 0x56) {
			vn.echo_replies++;
			vn.echo_seq_seen = get16(ic + 6);
		} else if (ic[0] == 8) {
			/* Answer: same id, seq and data, type 0. */
			send_icmp(0, f + 6, get32(ip + 12), ic + 4, tot - ihl - 4);
			vn.echo_answered++;
		}
	}
}

/* Take every completed rx buffer, hand whole frames up, give the buffers
 * back.  Returns the frames seen. */
static unsigned rx_poll(void)
{
	struct vq *q = &vn.rx;
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
			printf("virtio-net: bad rx used entry id %u len %u\n", id, len);
			q->last_used++;
			continue;
		}
		uint8_t *b = q->bufs + (uint64_t)id * RXBUF;
		unsigned nb = (vn.features & BIT(F_MRG_RXBUF)) ? b[10] | b[11] << 8 : 1;
		if (nb == 0)
			nb = 1;
		/* Merged buffers: the rest of the frame is in the next nb-1
		 * used entries (5.1.6.4); wait for them if not there yet. */
		if ((uint16_t)(u - q->last_used) < nb)
			break;
		unsigned flen = len - HDR_LEN, off = 0;
		const uint8_t *frame = b + HDR_LEN;
		if (nb > 1) {
			memcpy(vn.frame, frame, flen);
			off = flen;
		}
		q->last_used++;
		rx_post((uint16_t)id);
		for (unsigned i = 1; i < nb; i++) {
			used_elem(q, q->last_used, &id, &len);
			q->last_used++;
			if (id < q->size && len <= RXBUF && off + len <= sizeof(vn.frame))
				memcpy(vn.frame + off, q->bufs + (uint64_t)id * RXBUF, len);
			off += len;
			if (id < q->size)
				rx_post((uint16_t)id);
		}
		if (nb > 1) {
			frame = vn.frame;
			flen = off <= sizeof(vn.frame) ? off : 0;
		}
		vn.rx_frames++;
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
			       irq_count(GUEST_VEC_VNET_RX), rdtsc());
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
	return vn.peer_known || vn.own_arp_seen;
}
static bool got_echo(void)
{
	return vn.echo_replies && vn.echo_seq_seen == echo_want;
}
static unsigned lb_want;
static bool got_lb(void)
{
	return vn.lb_frames >= lb_want;
}
static bool never(void)
{
	return false;
}

/* ---- interrupts ----------------------------------------------------------- */
static volatile unsigned cfg_irqs;
static void on_irq(struct irq_frame *fr, void *arg)
{
	(void)fr;
	/* Work happens in the wait loops; the interrupt only wakes hlt. */
	if (!arg)
		cfg_irqs++;
}

static volatile unsigned isr_queue, isr_config;
static void on_intx(struct irq_frame *fr, void *arg)
{
	(void)fr;
	(void)arg;
	/* Reading the ISR clears it, and the device then lets the line go. */
	uint8_t isr = mmio_read8(vn.isr);
	isr_queue += isr & 1;
	isr_config += (isr >> 1) & 1;
	if (isr & 2)
		cfg_irqs++;
}

/* ---- bring-up ------------------------------------------------------------ */
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
	if (cmdline_has("vnet_noevent"))
		want &= ~BIT(F_EVENT_IDX);
	if (cmdline_has("vnet_nomrg"))
		want &= ~BIT(F_MRG_RXBUF);
	vn.features = offered & want;
	c_wr32(C_GFSELECT, 0);
	c_wr32(C_GF, (uint32_t)vn.features);
	c_wr32(C_GFSELECT, 1);
	c_wr32(C_GF, (uint32_t)(vn.features >> 32));
	set_status(S_FEATURES_OK);
	bool fok = c_rd8(C_STATUS) & S_FEATURES_OK;
	if (report) {
		guest_check("virtio-net: reset reads back 0", reset_ok);
		guest_checkf(offered & BIT(F_VERSION_1),
			     "virtio-net: device offers VERSION_1 (features %#lx)", offered);
		guest_checkf(fok, "virtio-net: FEATURES_OK accepted (using %#lx%s%s%s%s)",
			     vn.features, vn.features & BIT(F_MRG_RXBUF) ? " MRG_RXBUF" : "",
			     vn.features & BIT(F_EVENT_IDX) ? " EVENT_IDX" : "",
			     vn.features & BIT(F_INDIRECT) ? " INDIRECT" : "",
			     vn.features & BIT(F_STATUS) ? " STATUS" : "");
	}
	if (!fok) {
		set_status(S_FAILED);
		return false;
	}

	if (vn.msix) {
		c_wr16(C_MSIX, 0);
		if (report)
			guest_check("virtio-net: config MSI-X vector 0 accepted",
				    c_rd16(C_MSIX) == 0);
	}
	bool qok = queue_setup(&vn.rx, 0, vn.msix ? 1 : NO_VECTOR) &&
		   queue_setup(&vn.tx, 1, vn.msix ? 2 : NO_VECTOR);
	if (report)
		guest_checkf(qok, "virtio-net: rx and tx queues enabled (sizes %u, %u; %u queues)",
			     vn.rx.size, vn.tx.size, c_rd16(C_NUMQ));
	if (!qok) {
		set_status(S_FAILED);
		return false;
	}
	if (!vn.rx.bufs) {
		vn.rx.bufs = page_alloc(QMAX * RXBUF / PAGE_SIZE);
		vn.tx.bufs = page_alloc(QMAX * RXBUF / PAGE_SIZE);
		vn.tx.ind = page_alloc(QMAX * 2 * sizeof(struct desc) / PAGE_SIZE);
		if (!vn.rx.bufs || !vn.tx.bufs || !vn.tx.ind)
			guest_panic("virtio-net: out of memory for buffers");
	}
	set_status(S_DRIVER_OK);
	uint8_t st = c_rd8(C_STATUS);
	bool live = (st & S_DRIVER_OK) && !(st & (S_NEEDS_RESET | S_FAILED));
	if (report)
		guest_checkf(live, "virtio-net: DRIVER_OK (status %#x)", st);
	if (!live)
		return false;
	want_irq(&vn.tx, false); /* tx completions are reclaimed lazily */
	rx_fill();
	want_irq(&vn.rx, true);
	return true;
}

static void pci_cfg_window_check(void)
{
	if (!vn.pcicfg) {
		guest_check("virtio-net: PCI configuration access capability present", false);
		return;
	}
	/* Find which BAR holds the common config, then read num_queues and
	 * device_feature through the window and through the mapping. */
	unsigned bar = 6;
	for (uint8_t o = pci_find_cap(vn.f, PCI_CAP_VENDOR, 0); o;
	     o = pci_find_cap(vn.f, PCI_CAP_VENDOR, o))
		if (pci_read8(vn.f, o + 3) == CAP_COMMON) {
			bar = pci_read8(vn.f, o + 4);
			uint32_t off = pci_read32(vn.f, o + 8);
			uint32_t nq = pcicfg_read(bar, off + C_NUMQ, 2);
			c_wr32(C_DFSELECT, 1);
			uint32_t df = pcicfg_read(bar, off + C_DF, 4);
			guest_checkf(nq == c_rd16(C_NUMQ) && df == c_rd32(C_DF),
				     "virtio-net: PCI cfg window reads what the BAR does "
				     "(num_queues %u, features hi %#x)",
				     nq, df);
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
		unsigned rx0 = vn.rx_frames;
		uint64_t t0 = rdtsc();
		for (uint64_t i = 0; i < n; i++) {
			uint16_t old = vn.tx.avail_idx;
			if (!tx_frame(f, len, true))
				break;
			/* Publish in small batches so the device works meanwhile. */
			if ((i & 15) == 15 || i + 1 == n)
				publish(&vn.tx, (uint16_t)(old - (i & 15)));
			if (vn.loopback)
				rx_poll();
		}
		if (vn.loopback) {
			lb_want = vn.lb_frames + 0; /* frames in flight drain below */
			uint64_t end = timer_ticks() + TIMER_HZ;
			while (vn.rx_frames - rx0 < n && timer_ticks() < end) {
				rx_poll();
				irq_wait();
			}
		}
		uint64_t us = (rdtsc() - t0) / (tsc_per_us() ? tsc_per_us() : 1);
		if (!us)
			us = 1;
		printf("bench: %u-byte frames: %lu sent, %u received, in %lu us: %lu frames/s\n",
		       len, n, vn.rx_frames - rx0, us, n * 1000000 / us);
	}
}

static void hostile(const char *kind)
{
	struct vq *q = &vn.tx;
	uint16_t slot = q->avail_idx % q->size;

	printf("virtio-net: hostile test '%s'\n", kind);
	cfg_irqs = 0;
	if (!strcmp(kind, "loop")) {
		q->desc[slot].addr = virt_to_phys(q->bufs);
		q->desc[slot].len = 64;
		q->desc[slot].flags = D_NEXT;
		q->desc[slot].next = slot; /* points at itself */
	} else if (!strcmp(kind, "oob")) {
		uint64_t top = 0;
		for (unsigned i = 0; i < mem_region_count(); i++) {
			const struct mem_region *r = mem_region_at(i);
			if (r->type == MEM_RAM && r->addr + r->size > top)
				top = r->addr + r->size;
		}
		q->desc[slot].addr = top - 16; /* straddles the end of RAM */
		q->desc[slot].len = 4096;
		q->desc[slot].flags = 0;
	} else if (!strcmp(kind, "bigidx")) {
		q->avail_idx += q->size + 5; /* more than the ring holds */
		q->avail[1] = q->avail_idx;
		mb();
		/* Kick whatever EVENT_IDX says: a hostile driver does. */
		mmio_write16(q->notify, (uint16_t)q->index);
		goto wait;
	}
	if (!strcmp(kind, "qsize")) {
		/* Re-setup with a queue size that is not a power of two. */
		c_wr8(C_STATUS, 0);
		set_status(S_ACK | S_DRIVER);
		c_wr32(C_GFSELECT, 0);
		c_wr32(C_GF, (uint32_t)vn.features);
		c_wr32(C_GFSELECT, 1);
		c_wr32(C_GF, (uint32_t)(vn.features >> 32));
		set_status(S_FEATURES_OK);
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
	uint8_t st = c_rd8(C_STATUS);
	guest_checkf(st & S_NEEDS_RESET,
		     "virtio-net: hostile '%s' -> DEVICE_NEEDS_RESET (status %#x)", kind, st);
	if (strcmp(kind, "qsize"))
		guest_checkf(!vn.msix || cfg_irqs > 0,
			     "virtio-net: config interrupt for NEEDS_RESET (%u)", cfg_irqs);
	/* Recover: a reset and a fresh bring-up must give a working device. */
	bool ok = device_setup(false);
	guest_check("virtio-net: reset after NEEDS_RESET gives a working device", ok);
	if (ok && vn.loopback) {
		uint8_t f[64];
		fill_probe(f, sizeof(f), 9);
		lb_want = vn.lb_frames + 1;
		tx_frame(f, sizeof(f), false);
		guest_check("virtio-net: frame round trip after the reset", wait_for(got_lb, 1000));
	} else if (ok && vn.peer_known) {
		echo_want = 100;
		send_echo(100);
		guest_check("virtio-net: echo reply after the reset", wait_for(got_echo, 2000));
	}
}

void vnet_test(struct pci_func *f)
{
	char opt[64];

	memset(&vn, 0, sizeof(vn));
	vn.f = f;
	vn.ip = 0xa9fe6402; /* 169.254.100.2 */
	vn.peer_ip = 0xa9fe6401;
	if (cmdline_get("ip", opt, sizeof(opt)) && !parse_ipv4(opt, &vn.ip))
		printf("virtio-net: ip=%s is not an IPv4 address, using the default\n", opt);
	if (cmdline_get("peer", opt, sizeof(opt)) && !parse_ipv4(opt, &vn.peer_ip))
		printf("virtio-net: peer=%s is not an IPv4 address, using the default\n", opt);

	printf("virtio-net: %02x:%02x.%x rev %u subsystem %04x:%04x\n", f->bus, f->dev, f->fn,
	       f->revision, f->subsys_vendor, f->subsys_device);
	/* 4.1.2.1: a modern (rev >= 1) device's subsystem IDs may name the
	 * environment (QEMU puts 1af4:1100 there), so only kvmini's is pinned. */
	guest_checkf(
	    f->revision >= 1 && f->class_code == 2 &&
		(!report_is_kvmini() || (f->subsys_vendor == 0x1af4 && f->subsys_device == 1)),
	    "virtio-net: modern ID 1af4:1041 rev %u, class %02x%02x, subsystem %04x:%04x",
	    f->revision, f->class_code, f->subclass, f->subsys_vendor, f->subsys_device);
	bool caps = find_caps();
	guest_checkf(caps && vn.pcicfg,
		     "virtio-net: vendor caps: common, notify (x%u), ISR, device, PCI cfg",
		     vn.notify_mult);
	if (!caps)
		return;
	pci_set_bus_master(f, true); /* the device DMAs the rings */

	/* MSI-X: vector 0 config, 1 rx, 2 tx (memmap.h). */
	vn.msix =
	    !cmdline_has("vnet_intx") && pci_msix_table_size(f) >= 3 && pci_msix_enable(f) == 0;
	if (vn.msix) {
		irq_set_handler(GUEST_VEC_VNET_CFG, on_irq, NULL);
		irq_set_handler(GUEST_VEC_VNET_RX, on_irq, &vn.rx);
		irq_set_handler(GUEST_VEC_VNET_TX, on_irq, &vn.tx);
		pci_msix_set(f, 0, GUEST_VEC_VNET_CFG, false);
		pci_msix_set(f, 1, GUEST_VEC_VNET_RX, false);
		pci_msix_set(f, 2, GUEST_VEC_VNET_TX, false);
	}
	if (cmdline_has("vnet_intx")) {
		/* The fallback: INTA# through the IOAPIC, level-triggered, and
		 * the ISR saying why (4.1.4.5). */
		int pin = pci_intx_ioapic_pin(f);
		guest_checkf(pin >= 0, "virtio-net: INTx routed to IOAPIC pin %d", pin);
		if (pin < 0)
			return;
		irq_set_handler(GUEST_VEC_VNET_RX, on_intx, NULL);
		pci_intx_disable(f, false);
		ioapic_route((unsigned)pin, GUEST_VEC_VNET_RX, IOAPIC_LEVEL);
	} else {
		guest_check("virtio-net: MSI-X enabled with 3 vectors", vn.msix);
	}

	c_wr8(C_STATUS, 0);
	pci_cfg_window_check();
	if (!device_setup(true))
		return;

	for (int i = 0; i < 6; i++)
		vn.mac[i] = mmio_read8(vn.device + i);
	uint16_t link = (vn.features & BIT(F_STATUS)) ? mmio_read16(vn.device + 6) : NET_S_LINK_UP;
	printf("virtio-net: mac %02x:%02x:%02x:%02x:%02x:%02x, link %s, ip %u.%u.%u.%u, peer "
	       "%u.%u.%u.%u\n",
	       vn.mac[0], vn.mac[1], vn.mac[2], vn.mac[3], vn.mac[4], vn.mac[5],
	       link & NET_S_LINK_UP ? "up" : "down", vn.ip >> 24, vn.ip >> 16 & 255,
	       vn.ip >> 8 & 255, vn.ip & 255, vn.peer_ip >> 24, vn.peer_ip >> 16 & 255,
	       vn.peer_ip >> 8 & 255, vn.peer_ip & 255);
	guest_check("virtio-net: MAC is unicast and not zero",
		    !(vn.mac[0] & 1) &&
			(vn.mac[0] | vn.mac[1] | vn.mac[2] | vn.mac[3] | vn.mac[4] | vn.mac[5]));
	if (!(link & NET_S_LINK_UP)) {
		printf("ok - virtio-net: link down (--net none?): no traffic checks # SKIP\n");
		return;
	}

	/* ARP for the peer; our own request coming back means a loopback. */
	uint64_t irq0 = irq_count(GUEST_VEC_VNET_RX);
	bool arp = false;
	for (int i = 0; i < 3 && !arp; i++) {
		send_arp(1, NULL, vn.peer_ip, NULL);
		arp = wait_for(got_arp, 1000);
	}
	vn.loopback = vn.own_arp_seen && !vn.peer_known;
	printf("virtio-net: wire is %s\n",
	       vn.loopback ? "a loopback (our ARP came back)" : "a link to the peer");
	guest_checkf(arp, "virtio-net: %s",
		     vn.loopback ? "own ARP request came back (loopback)"
				 : "ARP reply from the peer");
	if (!arp)
		return;

	if (vn.loopback) {
		static uint8_t f2[4096];
		unsigned sizes[] = {60, 1514, 4000};
		for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
			unsigned len = sizes[i];
			if (len > RXBUF - HDR_LEN && !(vn.features & BIT(F_MRG_RXBUF)))
				continue;
			fill_probe(f2, len, i);
			lb_want = vn.lb_frames + 1;
			if (len > RXBUF - HDR_LEN) {
				/* Bigger than one tx buffer: a two-descriptor chain. */
				struct vq *q = &vn.tx;
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
				guest_checkf(
				    ok && !vn.lb_bad && vn.lb_bufs_max >= 2,
				    "virtio-net: %u-byte frame round trip, %u merged rx buffers",
				    len, vn.lb_bufs_max);
				continue;
			}
			tx_frame(f2, len, false);
			guest_checkf(wait_for(got_lb, 1000) && !vn.lb_bad,
				     "virtio-net: %u-byte frame came back intact", len);
		}
	} else {
		printf("virtio-net: peer mac %02x:%02x:%02x:%02x:%02x:%02x\n", vn.peer_mac[0],
		       vn.peer_mac[1], vn.peer_mac[2], vn.peer_mac[3], vn.peer_mac[4],
		       vn.peer_mac[5]);
		unsigned got = 0;
		for (uint16_t seq = 1; seq <= 3; seq++) {
			echo_want = seq;
			send_echo(seq);
			got += wait_for(got_echo, 1000);
		}
		guest_checkf(got == 3, "virtio-net: ICMP echo replies from the peer (%u of 3)",
			     got);
	}
	if (cmdline_has("vnet_intx"))
		guest_checkf(isr_queue > 0, "virtio-net: INTx taken with the ISR queue bit (%u)",
			     isr_queue);
	guest_checkf(irq_count(GUEST_VEC_VNET_RX) > irq0,
		     "virtio-net: rx completions taken by interrupt (%lu)",
		     irq_count(GUEST_VEC_VNET_RX) - irq0);

	uint64_t n = cmdline_u64("bench", 0);
	if (n)
		do_bench(n);

	uint64_t serve = cmdline_u64("serve", 0);
	if (serve) {
		printf("virtio-net: answering ARP and ping at %u.%u.%u.%u for %lu s\n", vn.ip >> 24,
		       vn.ip >> 16 & 255, vn.ip >> 8 & 255, vn.ip & 255, serve);
		wait_for(never, serve * 1000);
		/* Not a check: whether anyone pinged is the peer's to say. */
		printf("virtio-net: served %u ARP requests and %u echo requests\n", vn.arp_answered,
		       vn.echo_answered);
	}

	if (cmdline_get("vnet_hostile", opt, sizeof(opt)))
		hostile(opt);

	uint8_t st = c_rd8(C_STATUS);
	guest_checkf(!(st & S_NEEDS_RESET),
		     "virtio-net: no DEVICE_NEEDS_RESET at the end (status %#x)", st);
	printf("virtio-net: %u frames sent, %u received; irqs rx %lu tx %lu config %lu\n",
	       vn.tx_frames, vn.rx_frames, irq_count(GUEST_VEC_VNET_RX),
	       irq_count(GUEST_VEC_VNET_TX), irq_count(GUEST_VEC_VNET_CFG));
}
