// SPDX-License-Identifier: MIT
/*
 * test_virtq.c - the split virtqueue code (devices/virtq.c) on rings laid
 * out in a plain buffer standing in for guest RAM: normal and indirect
 * chains, index wrap-around, EVENT_IDX arithmetic, and hostile rings.
 * Prints TAP.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "../../devices/virtq.h"

#define RAM_SIZE 0x10000u
#define DESC	 0x1000u
#define AVAIL	 0x2000u
#define USED	 0x3000u
#define QSIZE	 8u

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static unsigned ntest, nfail;

static void ok(int cond, const char *what)
{
	ntest++;
	if (!cond)
		nfail++;
	printf("%s %u - %s\n", cond ? "ok" : "not ok", ntest, what);
}

/* The same contract as vm_gpa(): wholly inside RAM, no wrap-around. */
static void *xlate(void *opaque, uint64_t gpa, uint64_t len)
{
	(void)opaque;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return NULL;
	return ram + gpa;
}

/* ---- a minimal driver side -------------------------------------------- */
static struct vring_desc *desc(unsigned i)
{
	return (struct vring_desc *)(ram + DESC) + i;
}
static uint16_t *avail_idx(void)
{
	return (uint16_t *)(ram + AVAIL + 2);
}
static uint16_t *avail_flags(void)
{
	return (uint16_t *)(ram + AVAIL);
}
static uint16_t *avail_ring(unsigned i)
{
	return (uint16_t *)(ram + AVAIL + 4) + i;
}
static uint16_t *used_event(void)
{
	return avail_ring(QSIZE);
}
static uint16_t *used_idx(void)
{
	return (uint16_t *)(ram + USED + 2);
}
static uint16_t *used_flags(void)
{
	return (uint16_t *)(ram + USED);
}
static struct vring_used_elem *used_elem(unsigned i)
{
	return (struct vring_used_elem *)(ram + USED + 4) + i;
}
static uint16_t *avail_event(void)
{
	return (uint16_t *)used_elem(QSIZE);
}

static void set_desc(struct vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static void make_avail(uint16_t head)
{
	*avail_ring(*avail_idx() % QSIZE) = head;
	(*avail_idx())++;
}

static struct virtq q;
static struct virtq_chain ch;

static void fresh(int event_idx, int indirect)
{
	memset(ram, 0, sizeof(ram));
	int r = virtq_setup(&q, QSIZE, DESC, AVAIL, USED, event_idx, indirect, xlate, NULL);
	if (r)
		printf("# setup failed: %s\n", q.err);
}

/* Make one hostile chain available and check pop refuses it for the reason. */
static void expect_broken(const char *why, const char *needle)
{
	int r = virtq_pop(&q, &ch);
	char name[160];
	snprintf(name, sizeof(name), "hostile: %s", why);
	ok(r == -EINVAL && q.err && strstr(q.err, needle), name);
	if (q.err)
		printf("#   err: %s\n", q.err);
}

int main(void)
{
	printf("1..46\n");

	/* EVENT_IDX arithmetic (2.7.10). */
	ok(virtq_need_event(0, 1, 0), "need_event: event at old -> notify");
	ok(!virtq_need_event(1, 1, 0), "need_event: event at new -> no notify");
	ok(virtq_need_event(0xffff, 0, 0xfffe), "need_event: crossing 0xffff->0 wraps");
	ok(!virtq_need_event(5, 10, 6), "need_event: event already passed -> no notify");
	ok(virtq_need_event(7, 10, 6), "need_event: event inside (old,new] window");

	/* Setup validation. */
	ok(virtq_setup(&q, 0, DESC, AVAIL, USED, 0, 0, xlate, NULL) == -EINVAL,
	   "setup: size 0 refused");
	ok(virtq_setup(&q, 6, DESC, AVAIL, USED, 0, 0, xlate, NULL) == -EINVAL &&
	       strstr(q.err, "power of two"),
	   "setup: size 6 (not a power of two) refused");
	ok(virtq_setup(&q, 512, DESC, AVAIL, USED, 0, 0, xlate, NULL) == -EINVAL,
	   "setup: size 512 (above max) refused");
	ok(virtq_setup(&q, 8, DESC + 8, AVAIL, USED, 0, 0, xlate, NULL) == -EINVAL &&
	       strstr(q.err, "misaligned"),
	   "setup: misaligned descriptor table refused");
	ok(virtq_setup(&q, 8, RAM_SIZE - 64, AVAIL, USED, 0, 0, xlate, NULL) == -EINVAL &&
	       strstr(q.err, "outside RAM"),
	   "setup: descriptor table straddling the end of RAM refused");
	ok(virtq_setup(&q, 8, DESC, AVAIL, 0xfffffffffffffff0ull, 0, 0, xlate, NULL) == -EINVAL,
	   "setup: device area whose end wraps refused");

	/* A normal chain: header + frame readable, then one writable. */
	fresh(0, 0);
	set_desc(desc(0), 0x4000, 12, VRING_DESC_F_NEXT, 1);
	set_desc(desc(1), 0x4100, 100, VRING_DESC_F_NEXT, 2);
	set_desc(desc(2), 0x5000, 64, VRING_DESC_F_WRITE, 0);
	ok(virtq_pop(&q, &ch) == 0, "empty ring pops nothing");
	make_avail(0);
	ok(virtq_pop(&q, &ch) == 1 && ch.head == 0 && ch.nout == 2 && ch.nin == 1 &&
	       ch.out_len == 112 && ch.in_len == 64 && ch.iov[1].base == ram + 0x4100,
	   "normal chain: 2 readable + 1 writable, lengths and host pointers");
	virtq_push(&q, ch.head, 64);
	ok(*used_idx() == 0, "push alone does not publish");
	ok(virtq_publish(&q) && *used_idx() == 1 && used_elem(0)->id == 0 &&
	       used_elem(0)->len == 64,
	   "publish: entry and idx visible, interrupt wanted");
	make_avail(0);
	ok(virtq_pop(&q, &ch) == 1, "second pop");
	virtq_push(&q, ch.head, 0);
	*avail_flags() = VRING_AVAIL_F_NO_INTERRUPT;
	ok(!virtq_publish(&q) && *used_idx() == 2, "NO_INTERRUPT suppresses the interrupt");
	virtq_kicks_off(&q);
	ok(*used_flags() == VRING_USED_F_NO_NOTIFY, "kicks off: NO_NOTIFY set");
	ok(!virtq_kicks_on(&q) && *used_flags() == 0, "kicks on: flag cleared, nothing pending");

	/* Copy helpers across a header split over descriptors. */
	memcpy(ram + 0x4000, "0123456789ab", 12);
	memset(ram + 0x4100, 'x', 100);
	make_avail(0);
	virtq_pop(&q, &ch);
	char buf[16] = {0};
	ok(virtq_copy_from_out(&ch, 10, buf, 4) == 4 && !memcmp(buf, "abxx", 4),
	   "copy_from_out skips and crosses buffers");
	ok(virtq_copy_to_in(&ch, 60, "hello", 5) == 4 && !memcmp(ram + 0x5000 + 60, "hell", 4),
	   "copy_to_in stops at the end of the writable space");
	virtq_unpop(&q, 1);
	ok(virtq_pop(&q, &ch) == 1 && ch.head == 0, "unpop gives the chain back");

	/* EVENT_IDX both ways. */
	fresh(1, 0);
	set_desc(desc(0), 0x4000, 10, 0, 0);
	*avail_event() = 0x55;
	fresh(1, 0);
	set_desc(desc(0), 0x4000, 10, 0, 0);
	ok(*avail_event() == 0, "setup asks for the first kick (avail_event 0)");
	*used_event() = 0;
	make_avail(0);
	virtq_pop(&q, &ch);
	virtq_push(&q, ch.head, 0);
	ok(virtq_publish(&q), "EVENT_IDX: used_event 0, idx 0->1 notifies");
	*used_event() = 3;
	int notes = 0;
	for (int i = 0; i < 4; i++) {
		make_avail(0);
		virtq_pop(&q, &ch);
		virtq_push(&q, ch.head, 0);
		notes += virtq_publish(&q);
	}
	ok(notes == 1, "EVENT_IDX: used_event 3 notifies once over idx 1->5");
	ok(!virtq_kicks_on(&q) && *avail_event() == 5, "kicks on writes avail_event = last_avail");
	/* Chains seen but given back (a frame that did not fit): the next
	 * addition must still be announced by a spec-following driver. */
	make_avail(0);
	make_avail(0);
	virtq_pop(&q, &ch);
	virtq_pop(&q, &ch);
	virtq_unpop(&q, 2);
	ok(virtq_kicks_on(&q) && *avail_event() == 7,
	   "kicks on with chains left unpopped: avail_event = the avail idx seen (7)");
	ok(virtq_need_event(*avail_event(), 8, 7),
	   "the driver's next addition (idx 7->8) is asked to kick");

	/* Wrap-around of the 16-bit indices: 70000 round trips. */
	fresh(0, 0);
	set_desc(desc(3), 0x4000, 10, 0, 0);
	int bad = 0;
	for (unsigned i = 0; i < 70000; i++) {
		make_avail(3);
		if (virtq_pop(&q, &ch) != 1 || ch.head != 3)
			bad++;
		virtq_push(&q, ch.head, i & 0xff);
		virtq_publish(&q);
	}
	ok(!bad && *used_idx() == (uint16_t)70000 && q.last_avail == (uint16_t)70000 &&
	       used_elem((70000 - 1) % QSIZE)->len == (69999 & 0xff),
	   "indices wrap past 0xffff correctly");

	/* Indirect tables. */
	fresh(0, 1);
	struct vring_desc *t = (struct vring_desc *)(ram + 0x6000);
	set_desc(&t[0], 0x4000, 12, VRING_DESC_F_NEXT, 1);
	set_desc(&t[1], 0x4100, 200, VRING_DESC_F_NEXT, 2);
	set_desc(&t[2], 0x5000, 1500, VRING_DESC_F_WRITE, 0);
	set_desc(desc(5), 0x6000, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	make_avail(5);
	ok(virtq_pop(&q, &ch) == 1 && ch.indirect && ch.head == 5 && ch.nout == 2 && ch.nin == 1 &&
	       ch.in_len == 1500,
	   "indirect table of 3 descriptors");

	/* Hostile rings: each leaves the queue broken with a reason. */
	fresh(0, 0);
	set_desc(desc(0), 0x4000, 10, VRING_DESC_F_NEXT, 1);
	set_desc(desc(1), 0x4000, 10, VRING_DESC_F_NEXT, 0);
	make_avail(0);
	expect_broken("descriptor loop", "loops");
	ok(virtq_pop(&q, &ch) == -EINVAL && virtq_avail_count(&q) == -EINVAL,
	   "a broken queue stays broken");

	fresh(0, 0);
	for (unsigned i = 0; i < QSIZE; i++)
		set_desc(desc(i), 0x4000, 10, VRING_DESC_F_NEXT, (i + 1) % QSIZE);
	make_avail(2);
	expect_broken("chain longer than the queue", "longer");

	fresh(0, 0);
	set_desc(desc(0), 0x4000, 10, VRING_DESC_F_NEXT, 9);
	make_avail(0);
	expect_broken("next beyond the table", "beyond");

	fresh(0, 0);
	make_avail(8);
	expect_broken("head index >= queue size", "names descriptor");

	fresh(0, 0);
	set_desc(desc(0), RAM_SIZE - 8, 16, 0, 0);
	make_avail(0);
	expect_broken("buffer straddling the end of RAM", "outside RAM");

	fresh(0, 0);
	set_desc(desc(0), 0xffffffffffffff00ull, 0x200, 0, 0);
	make_avail(0);
	expect_broken("buffer whose address + length overflows", "outside RAM");

	fresh(0, 0);
	set_desc(desc(0), 0x4000, 10, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(desc(1), 0x4000, 10, 0, 0);
	make_avail(0);
	expect_broken("readable after writable", "readable buffer after");

	fresh(0, 0);
	*avail_idx() = QSIZE + 1;
	expect_broken("avail idx jumps by more than the queue size", "jumped");

	fresh(0, 0);
	set_desc(desc(0), 0x6000, 16, VRING_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_broken("indirect without the feature", "not negotiated");

	fresh(0, 1);
	t = (struct vring_desc *)(ram + 0x6000);
	set_desc(&t[0], 0x7000, 16, VRING_DESC_F_INDIRECT, 0);
	set_desc(desc(0), 0x6000, 16, VRING_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_broken("indirect table inside an indirect table", "inside an indirect");

	fresh(0, 1);
	set_desc(desc(0), 0x6000, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	make_avail(0);
	expect_broken("INDIRECT together with NEXT", "both INDIRECT and NEXT");

	fresh(0, 1);
	set_desc(desc(0), 0x6000, 20, VRING_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_broken("indirect length not a multiple of 16", "indirect table length");

	fresh(0, 1);
	set_desc(desc(0), RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_broken("indirect table straddling the end of RAM", "outside RAM");

	fresh(0, 1);
	t = (struct vring_desc *)(ram + 0x6000);
	set_desc(&t[0], 0x4000, 10, VRING_DESC_F_NEXT, 1);
	set_desc(&t[1], 0x4000, 10, VRING_DESC_F_NEXT, 0);
	set_desc(desc(0), 0x6000, 32, VRING_DESC_F_INDIRECT, 0);
	make_avail(0);
	expect_broken("loop inside an indirect table", "loops");

	/* Reset clears a broken queue. */
	virtq_reset(&q);
	ok(!q.err && !q.ready && virtq_pop(&q, &ch) == 0, "reset clears the broken state");

	return nfail ? 1 : 0;
}
