// SPDX-License-Identifier: MIT
/*
 * virtq.c - split virtqueue, device side.  See virtq.h for the contract.
 *
 * Ring layout (virtio 1.2 2.7), little-endian, which x86 hosts are:
 *   descriptor table  16 * size bytes, 16-aligned: addr u64, len u32, flags u16, next u16
 *   driver area       6 + 2 * size, 2-aligned:     flags, idx, ring[size], used_event
 *   device area       6 + 8 * size, 4-aligned:     flags, idx, {id u32, len u32}[size], avail_event
 *
 * Memory ordering: the driver runs on another CPU.  We read avail->idx with
 * acquire semantics before the ring entries it covers, write used entries
 * before used->idx (release), and put a full fence between publishing an
 * index and reading the other side's event index (store->load ordering is
 * the one x86 does not give for free).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "virtq.h"

#define AVAIL_FLAGS 0
#define AVAIL_IDX   2
#define AVAIL_RING  4
#define USED_FLAGS  0
#define USED_IDX    2
#define USED_RING   4

__attribute__((format(printf, 2, 3))) static int fail(struct virtq *q, const char *fmt, ...)
{
	va_list ap;

	if (q->err)
		return -EINVAL; /* keep the first reason */
	va_start(ap, fmt);
	vsnprintf(q->errbuf, sizeof(q->errbuf), fmt, ap);
	va_end(ap);
	q->err = q->errbuf;
	return -EINVAL;
}

static inline uint16_t ld16(volatile uint8_t *p)
{
	return __atomic_load_n((volatile uint16_t *)p, __ATOMIC_RELAXED);
}

static inline void st16(volatile uint8_t *p, uint16_t v)
{
	__atomic_store_n((volatile uint16_t *)p, v, __ATOMIC_RELAXED);
}

static inline void st32(volatile uint8_t *p, uint32_t v)
{
	__atomic_store_n((volatile uint32_t *)p, v, __ATOMIC_RELAXED);
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

int virtq_setup(struct virtq *q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
		bool event_idx, bool indirect, virtq_xlate_fn xlate, void *opaque)
{
	virtq_reset(q);
	q->size = size;
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	q->event_idx = event_idx;
	q->indirect = indirect;
	q->xlate = xlate;
	q->opaque = opaque;

	/* 2.7: "Queue Size value is always a power of 2" for split rings. */
	if (size == 0 || size > VIRTQ_MAX_SIZE || (size & (size - 1)))
		return fail(q, "queue size %u is not a power of two in [1, %u]", size,
			    VIRTQ_MAX_SIZE);
	/* 2.7 table: alignment of each part. */
	if ((desc & 15) || (avail & 1) || (used & 3))
		return fail(q, "misaligned ring: desc %#llx avail %#llx used %#llx",
			    (unsigned long long)desc, (unsigned long long)avail,
			    (unsigned long long)used);
	q->desc = xlate(opaque, desc, 16ull * size);
	q->avail = xlate(opaque, avail, 6ull + 2ull * size);
	q->used = xlate(opaque, used, 6ull + 8ull * size);
	if (!q->desc)
		return fail(q, "descriptor table %#llx+%u outside RAM", (unsigned long long)desc,
			    16u * size);
	if (!q->avail)
		return fail(q, "driver area %#llx+%u outside RAM", (unsigned long long)avail,
			    6u + 2u * size);
	if (!q->used)
		return fail(q, "device area %#llx+%u outside RAM", (unsigned long long)used,
			    6u + 8u * size);
	/* Indices start at 0 (2.7.13); the device area is ours, so start it
	 * clean rather than trust the driver to have zeroed it, and ask for the
	 * first kick (avail_event 0). */
	st16(q->used + USED_FLAGS, 0);
	st16(q->used + USED_IDX, 0);
	if (event_idx)
		st16(q->used + USED_RING + 8u * size, 0);
	q->ready = true;
	return 0;
}

int virtq_avail_count(struct virtq *q)
{
	if (q->err)
		return -EINVAL;
	if (!q->ready)
		return 0;
	/* Acquire: ring entries below idx are visible once idx is. */
	uint16_t idx =
	    __atomic_load_n((volatile uint16_t *)(q->avail + AVAIL_IDX), __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - q->last_avail);
	if (n > q->size)
		return fail(q, "avail idx jumped from %u to %u (queue size %u)", q->last_avail, idx,
			    q->size);
	return n;
}

/* Read one descriptor exactly once into *d. */
static void read_desc(volatile const uint8_t *table, unsigned i, struct vring_desc *d)
{
	memcpy(d, (const void *)(uintptr_t)(table + 16u * i), sizeof(*d));
	/* The compiler must not re-read the guest's copy instead of ours. */
	__asm__ volatile("" ::: "memory");
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	int avail = virtq_avail_count(q);
	if (avail <= 0)
		return avail;

	uint16_t head = ld16(q->avail + AVAIL_RING + 2u * (q->last_avail % q->size));
	if (head >= q->size)
		return fail(q, "avail ring slot %u names descriptor %u, queue size %u",
			    q->last_avail % q->size, head, q->size);

	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	c->indirect = false;

	volatile const uint8_t *table = q->desc;
	unsigned tsize = q->size, idx = head, count = 0;
	for (;;) {
		struct vring_desc d;

		if (idx >= tsize)
			return fail(q, "chain from head %u: next %u beyond a table of %u", head,
				    idx, tsize);
		/* A chain can visit each descriptor of its table at most once:
		 * more steps than that means a loop (2.7.5.1: no loops). */
		if (++count > tsize)
			return fail(q, "chain from head %u loops or is longer than its table (%u)",
				    head, tsize);
		read_desc(table, idx, &d);

		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!q->indirect)
				return fail(q,
					    "head %u: indirect descriptor, feature not negotiated",
					    head);
			if (c->indirect)
				return fail(q, "head %u: indirect table inside an indirect table",
					    head);
			/* 2.7.5.3.1: not both INDIRECT and NEXT; a whole number of
			 * descriptors. */
			if (d.flags & VRING_DESC_F_NEXT)
				return fail(q, "head %u: descriptor with both INDIRECT and NEXT",
					    head);
			if (count != 1 || c->nout + c->nin)
				return fail(
				    q, "head %u: indirect descriptor not alone in its chain", head);
			if (d.len == 0 || d.len % 16 || d.len / 16 > VIRTQ_MAX_INDIRECT)
				return fail(q,
					    "head %u: indirect table length %u (must be 16..%u, "
					    "multiple of 16)",
					    head, d.len, 16 * VIRTQ_MAX_INDIRECT);
			table = q->xlate(q->opaque, d.addr, d.len);
			if (!table)
				return fail(q, "head %u: indirect table %#llx+%u outside RAM", head,
					    (unsigned long long)d.addr, d.len);
			c->indirect = true;
			tsize = d.len / 16;
			idx = 0;
			count = 0;
			continue;
		}

		void *p = NULL;
		if (d.len) {
			p = q->xlate(q->opaque, d.addr, d.len);
			if (!p)
				return fail(q, "head %u: buffer %#llx+%u outside RAM", head,
					    (unsigned long long)d.addr, d.len);
		}
		unsigned n = c->nout + c->nin;
		if (n >= VIRTQ_MAX_IOV)
			return fail(q, "head %u: more than %u buffers", head, VIRTQ_MAX_IOV);
		if (d.flags & VRING_DESC_F_WRITE) {
			c->nin++;
			c->in_len += d.len;
		} else {
			/* 2.7.4.2: device-readable before device-writable. */
			if (c->nin)
				return fail(q, "head %u: readable buffer after a writable one",
					    head);
			c->nout++;
			c->out_len += d.len;
		}
		c->iov[n].base = p;
		c->iov[n].len = d.len;

		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	q->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *q, uint16_t n)
{
	q->last_avail -= n;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	if (q->err || !q->ready)
		return;
	volatile uint8_t *e = q->used + USED_RING + 8u * (q->used_idx % q->size);
	st32(e, head);
	st32(e + 4, len);
	q->used_idx++;
}

bool virtq_publish(struct virtq *q)
{
	if (q->err || !q->ready || q->used_idx == q->pub_idx)
		return false;
	uint16_t old = q->pub_idx;
	/* Release: the entries are in place before the driver sees idx. */
	__atomic_store_n((volatile uint16_t *)(q->used + USED_IDX), q->used_idx, __ATOMIC_RELEASE);
	q->pub_idx = q->used_idx;
	/* Store idx, then load the driver's event: needs a full fence. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		uint16_t ev = ld16(q->avail + AVAIL_RING + 2u * q->size); /* used_event */
		return virtq_need_event(ev, q->pub_idx, old);
	}
	return !(ld16(q->avail + AVAIL_FLAGS) & VRING_AVAIL_F_NO_INTERRUPT);
}

void virtq_kicks_off(struct virtq *q)
{
	if (q->err || !q->ready)
		return;
	/* With EVENT_IDX, an avail_event left behind already suppresses kicks
	 * (the driver only kicks when its idx crosses it). */
	if (!q->event_idx)
		st16(q->used + USED_FLAGS, VRING_USED_F_NO_NOTIFY);
}

bool virtq_kicks_on(struct virtq *q)
{
	if (q->err || !q->ready)
		return false;
	if (q->event_idx) {
		/* avail_event = the avail index we have seen, not last_avail:
		 * chains we saw but left (unpopped: a frame that did not fit)
		 * are already behind the driver's idx, and a driver following
		 * vring_need_event() kicks only when its idx crosses
		 * avail_event, so an older value would never be crossed and
		 * its next addition would go unannounced (QEMU does the same). */
		uint16_t seen =
		    __atomic_load_n((volatile uint16_t *)(q->avail + AVAIL_IDX), __ATOMIC_ACQUIRE);
		st16(q->used + USED_RING + 8u * q->size, seen); /* avail_event */
	} else
		st16(q->used + USED_FLAGS, 0);
	/* Our write must be visible before we look again at avail->idx, or a
	 * driver that added a chain meanwhile and saw the old value would not
	 * kick, and we would sleep with work pending. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_avail_count(q) != 0;
}

/* Copy up to len bytes between buf and buffers [first, first + n) of a
 * chain, starting skip bytes into them; to_chain picks the direction.
 * The buffers were checked against guest RAM when the chain was popped. */
static uint64_t virtq_copy(const struct virtq_chain *c, unsigned first, unsigned n, uint64_t skip,
			   uint8_t *buf, uint64_t len, bool to_chain)
{
	uint64_t done = 0;

	for (unsigned i = first; i < first + n && done < len; i++) {
		uint64_t l = c->iov[i].len, m;
		uint8_t *base = c->iov[i].base;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		m = l - skip;
		if (m > len - done)
			m = len - done;
		if (to_chain)
			memcpy(base + skip, buf + done, m);
		else
			memcpy(buf + done, base + skip, m);
		done += m;
		skip = 0;
	}
	return done;
}

uint64_t virtq_copy_from_out(const struct virtq_chain *c, uint64_t skip, void *dst, uint64_t len)
{
	return virtq_copy(c, 0, c->nout, skip, dst, len, false);
}

uint64_t virtq_copy_to_in(const struct virtq_chain *c, uint64_t skip, const void *src, uint64_t len)
{
	/* The source is only read: the cast lets one walker serve both ways. */
	return virtq_copy(c, c->nout, c->nin, skip, (uint8_t *)src, len, true);
}
