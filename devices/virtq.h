/* SPDX-License-Identifier: MIT */
/*
 * virtq.h - the device side of a split virtqueue (virtio 1.2 section 2.7),
 * as pure logic: no KVM, no threads, no I/O.  Guest memory is reached only
 * through a translate callback that returns a host pointer for a guest range
 * lying wholly in RAM (vm_gpa() in kvmini, a plain buffer in the unit
 * tests), so every address and length the guest hands us is checked before
 * it is touched.
 *
 * The guest is hostile.  Anything malformed - a ring outside RAM, a chain
 * that loops or is longer than the queue, an indirect table inside an
 * indirect table, an available index that jumps by more than the queue
 * size - makes the call return -EINVAL and leaves q->err saying why; the
 * queue is then "broken" and every later call fails the same way until
 * virtq_reset().  The caller turns that into DEVICE_NEEDS_RESET.
 *
 * Every field the guest can change under us is read exactly once
 * (descriptors are copied to the stack before being checked), so a guest
 * racing with the device cannot make a checked value differ from a used one.
 *
 * Not thread-safe: the caller serialises all calls on one queue.
 */
#ifndef KVMINI_VIRTQ_H
#define KVMINI_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#define VIRTQ_MAX_SIZE	   256 /* largest queue we offer (queue_size) */
#define VIRTQ_MAX_INDIRECT 256 /* entries in one indirect table */
/* A chain never has more than this many buffers: a direct chain is bounded
 * by the queue size, an indirect one by VIRTQ_MAX_INDIRECT. */
#define VIRTQ_MAX_IOV 256

/* Host pointer for guest [gpa, gpa+len) when it is wholly in RAM, else
 * NULL.  len may be 0 (the pointer is then only compared, never used). */
typedef void *(*virtq_xlate_fn)(void *opaque, uint64_t gpa, uint64_t len);

struct virtq_iov {
	void *base;
	uint32_t len;
};

/* One available buffer chain, as popped: readable (out) buffers first,
 * then writable (in) ones, in chain order. */
struct virtq_chain {
	uint16_t head;		  /* descriptor index to give back in the used ring */
	unsigned nout, nin;	  /* iov[0..nout) readable, iov[nout..nout+nin) writable */
	uint64_t out_len, in_len; /* byte totals (64-bit: cannot overflow) */
	bool indirect;
	struct virtq_iov iov[VIRTQ_MAX_IOV];
};

struct virtq {
	/* Set by virtq_setup(). */
	uint16_t size;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx, indirect; /* VIRTIO_RING_F_EVENT_IDX / _INDIRECT_DESC negotiated */
	virtq_xlate_fn xlate;
	void *opaque;

	/* Host views of the rings, checked once at setup (RAM does not move). */
	volatile uint8_t *desc, *avail, *used;

	/* Device state. */
	uint16_t last_avail; /* next avail ring slot to consume */
	uint16_t used_idx;   /* our copy of used->idx, including unpublished */
	uint16_t pub_idx;    /* used->idx as last published */
	bool ready;	     /* set up and usable */
	const char *err;     /* why the queue is broken, or NULL */
	char errbuf[120];
};

/* The EVENT_IDX test (virtio 1.2 2.7.10): should moving an index from old to
 * new_idx notify, given the other side asked to hear at event?  Equivalent
 * to "event lies in [old, new_idx)" in 16-bit wrapping arithmetic. */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Back to the initial state (not ready, no error). */
void virtq_reset(struct virtq *q);

/* Check and map a queue the driver enabled: size a power of two in
 * [1, VIRTQ_MAX_SIZE], each ring aligned (16/2/4) and wholly in RAM.
 * 0, or -EINVAL with q->err set (the queue is then broken). */
int virtq_setup(struct virtq *q, uint16_t size, uint64_t desc, uint64_t avail, uint64_t used,
		bool event_idx, bool indirect, virtq_xlate_fn xlate, void *opaque);

/* Number of chains the driver has made available and we have not popped,
 * or -EINVAL when its index jumped by more than the queue size. */
int virtq_avail_count(struct virtq *q);

/* Take the next available chain: 1 and *c filled, 0 when none, -EINVAL
 * when the ring is malformed (q->err says why). */
int virtq_pop(struct virtq *q, struct virtq_chain *c);

/* Give back the last n popped chains, not yet pushed (no room for them
 * downstream); they will be popped again. */
void virtq_unpop(struct virtq *q, uint16_t n);

/* Record that chain head is done, having written len bytes.  Not visible to
 * the driver until virtq_publish(). */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);

/* Make every pushed entry visible: the entries are written before the
 * index (release ordering).  Returns true when the driver should get an
 * interrupt (EVENT_IDX or the NO_INTERRUPT flag decides). */
bool virtq_publish(struct virtq *q);

/* Driver -> device kick suppression.  virtq_kicks_off() while draining;
 * virtq_kicks_on() when about to sleep: it asks for a kick at the driver's
 * next addition (with EVENT_IDX, avail_event = the avail index seen now,
 * even when chains below it were left unpopped), and returns true when
 * chains are available that we have not popped (drain again, or decide
 * they are not enough, rather than sleep blindly). */
void virtq_kicks_off(struct virtq *q);
bool virtq_kicks_on(struct virtq *q);

/* Copy helpers over a chain's buffers.  They return the bytes copied. */
uint64_t virtq_copy_from_out(const struct virtq_chain *c, uint64_t skip, void *dst, uint64_t len);
uint64_t virtq_copy_to_in(const struct virtq_chain *c, uint64_t skip, const void *src,
			  uint64_t len);

#endif
