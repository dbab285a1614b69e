// SPDX-License-Identifier: MIT
// needs: devices/virtq.c
/*
 * fuzz_virtq.c - devices/virtq.c against a hostile driver.
 *
 * Input: a 12-byte header (queue size, features, ring addresses), an op
 * script, then the initial guest RAM (descriptors, rings, indirect tables).
 * Ops pop chains, copy through them, push, publish, toggle kick
 * suppression, unpop, and let the "driver" rewrite RAM between calls as a
 * racing guest would.
 *
 * Invariants checked on top of ASan/UBSan:
 *  - every buffer of a popped chain lies wholly inside guest RAM;
 *  - a chain has at most VIRTQ_MAX_IOV buffers, readable ones first, and
 *    its byte totals are the sums of its buffers; its head is < size;
 *  - a queue that reported an error stays broken (every later call fails);
 *  - the copy helpers never copy more than asked or than the chain holds.
 */
#include <stdio.h>
#include <string.h>

#include "../../devices/virtq.h"
#include "stubs.h"

#define RAM_SIZE 0x4000u

static void *xlate(void *opaque, uint64_t gpa, uint64_t len)
{
	return vm_gpa(opaque, gpa, len);
}

static uint8_t scratch[1 << 17];

static void check_chain(const struct virtq *q, const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;

	FUZZ_CHECK(c->head < q->size, "popped head below queue size");
	FUZZ_CHECK(c->nout + c->nin <= VIRTQ_MAX_IOV, "chain within VIRTQ_MAX_IOV buffers");
	for (unsigned i = 0; i < c->nout + c->nin; i++) {
		if (c->iov[i].len)
			FUZZ_CHECK(fuzz_in_ram(c->iov[i].base, c->iov[i].len),
				   "chain buffer wholly inside guest RAM");
		if (i < c->nout)
			out += c->iov[i].len;
		else
			in += c->iov[i].len;
	}
	FUZZ_CHECK(out == c->out_len && in == c->in_len, "chain byte totals match its buffers");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq q;
	static struct virtq_chain c;
	struct fuzz_in in = {data, size};
	uint16_t pending[VIRTQ_MAX_SIZE];
	unsigned npending = 0;

	fuzz_ram_reset(RAM_SIZE);
	uint8_t szb = (uint8_t)fuzz_take(&in, 1);
	uint8_t feat = (uint8_t)fuzz_take(&in, 1);
	/* Mostly valid sizes (powers of two up to 256), sometimes anything. */
	uint16_t qsize = (szb & 0x80) ? (uint16_t)fuzz_take(&in, 2) : (uint16_t)(1u << (szb % 9));
	uint64_t ring[3];
	for (int i = 0; i < 3; i++)
		ring[i] = (feat & 0x80) ? fuzz_take(&in, 8) : fuzz_take(&in, 2) % RAM_SIZE;
	/* Sometimes flush each ring against the end of RAM, where reading one
	 * entry too far is an ASan report rather than a silent stray read. */
	if (feat & 0x40 && qsize && qsize <= VIRTQ_MAX_SIZE) {
		ring[0] = RAM_SIZE - 16u * qsize;
		ring[1] = (ring[0] - (6u + 2u * qsize)) & ~1ull;
		ring[2] = (ring[1] - (6u + 8u * qsize)) & ~3ull;
	}
	unsigned nops = (unsigned)fuzz_take(&in, 1);
	struct fuzz_in ops = {in.p, nops * 4u < in.n ? nops * 4u : in.n};
	in.p += ops.n;
	in.n -= ops.n;
	/* The rest fills RAM from its start, or (with 0x20) up to its end,
	 * since inputs are shorter than RAM and the flushed rings sit there. */
	size_t nram = in.n < RAM_SIZE ? in.n : RAM_SIZE;
	memcpy(fuzz_vm.mem + (feat & 0x20 ? RAM_SIZE - nram : 0), in.p, nram);

	bool broken = virtq_setup(&q, qsize, ring[0], ring[1], ring[2], feat & 1, feat & 2, xlate,
				  &fuzz_vm) < 0;
	if (broken)
		FUZZ_CHECK(q.err != NULL, "a failed setup says why");

	while (ops.n) {
		uint8_t op = (uint8_t)fuzz_take(&ops, 1);
		uint32_t arg = (uint32_t)fuzz_take(&ops, 3);
		int r;

		switch (op % 8) {
		case 0: /* pop, copy through, push */
		case 1:
			r = virtq_pop(&q, &c);
			if (broken)
				FUZZ_CHECK(r < 0, "a broken queue stays broken");
			if (r < 0) {
				FUZZ_CHECK(q.err != NULL, "an error says why");
				broken = true;
				break;
			}
			if (r == 0)
				break;
			check_chain(&q, &c);
			uint64_t skip = arg & 0xfff, want = (arg >> 12) & 0xfff;
			uint64_t got = virtq_copy_from_out(&c, skip, scratch, want);
			FUZZ_CHECK(got <= want && got <= c.out_len, "copy_from_out bounded");
			got = virtq_copy_to_in(&c, skip, scratch, want);
			FUZZ_CHECK(got <= want && got <= c.in_len, "copy_to_in bounded");
			if (op & 0x80) { /* keep it for a later unpop */
				if (npending < VIRTQ_MAX_SIZE)
					pending[npending++] = c.head;
			} else {
				virtq_push(&q, c.head, (uint32_t)got);
			}
			break;
		case 2: (void)virtq_publish(&q); break;
		case 3: virtq_kicks_off(&q); break;
		case 4: r = virtq_kicks_on(&q); break;
		case 5: /* give back the chains held back (never pushed) */
			virtq_unpop(&q, (uint16_t)npending);
			npending = 0;
			break;
		case 6: /* the racing driver rewrites a byte of RAM */
			fuzz_vm.mem[arg % RAM_SIZE] = (uint8_t)(arg >> 16);
			break;
		case 7:
			r = virtq_avail_count(&q);
			if (broken)
				FUZZ_CHECK(r < 0, "a broken queue stays broken");
			FUZZ_CHECK(r <= (int)q.size, "avail count at most the queue size");
			if (r < 0)
				broken = true;
			break;
		}
	}
	return 0;
}
