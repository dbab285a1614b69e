// SPDX-License-Identifier: MIT
// needs: devices/pci.c devices/pci_host.c vmm/bus.c devices/virtq.c
/*
 * fuzz_vnet_seq.c - the order of things, against the virtio-net I/O
 * thread's state: device resets, status writes, feature writes, queue
 * set-up, enable and "disable", vector changes, kicks and the I/O thread's
 * work, in any order, by a driver whose rings are otherwise well formed
 * (fuzz_vnet does malformed rings; this one does sequences).
 *
 * The harness keeps a shadow of what the driver posted: per queue, which
 * descriptor heads are out with the device.  Checks (besides ASan/UBSan
 * and die() aborting):
 *   - the device hands back only heads that are out with it, each once,
 *     and never more than were posted;
 *   - an rx completion is no longer than the buffer;
 *   - while the device is not live (no DRIVER_OK, or NEEDS_RESET or
 *     FAILED), the I/O thread writes nothing to guest RAM;
 *   - a reset leaves status 0, every queue disabled and not ready;
 *   - DEVICE_NEEDS_RESET, once set, stays until a reset, and a kick sent
 *     before a reset does not set it on the reset device (found here: the
 *     I/O thread read the old kick after the reset and called the fresh
 *     device's queues "kicked before DRIVER_OK").
 */
#include "no_io_thread.h"
#include "../../devices/virtio_net.c"

#include "stubs.h"
#include "vnet_harness.h"

#define RAM_SIZE  0x10000u
#define QBASE(q)  (0x1000u * (q)) /* desc +0, avail +0x200, used +0x400 */
#define BUF(q, h) (0x4000u + 0x6000u * (q) + 0x800u * (h))
#define BUFLEN	  0x800u
#define SLOTS	  8

struct shadow {
	unsigned size;	    /* as the driver set it */
	uint16_t avail_idx; /* driver's */
	uint16_t used_seen; /* used idx consumed */
	bool out[SLOTS];    /* head is with the device */
	unsigned nout;
};
static struct shadow sh[NQUEUES];
static bool kicked; /* a kick since the last reset */

static uint16_t ld16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, fuzz_vm.mem + gpa, 2);
	return v;
}

static void st16(uint64_t gpa, uint16_t v)
{
	memcpy(fuzz_vm.mem + gpa, &v, 2);
}

static void shadow_reset(void)
{
	memset(sh, 0, sizeof(sh));
	for (unsigned q = 0; q < NQUEUES; q++)
		sh[q].size = SLOTS;
}

/* Set the queue up as a driver does; the size is the fuzzer's, mostly 8. */
static void queue_setup(struct vnet *n, unsigned q, unsigned size, uint16_t vec)
{
	wr(n, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	wr(n, VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
	wr(n, VIRTIO_PCI_COMMON_Q_MSIX, 2, vec);
	wr(n, VIRTIO_PCI_COMMON_Q_DESCLO, 8, QBASE(q));
	wr(n, VIRTIO_PCI_COMMON_Q_AVAILLO, 8, QBASE(q) + 0x200);
	wr(n, VIRTIO_PCI_COMMON_Q_USEDLO, 8, QBASE(q) + 0x400);
	if (!n->qc[q].enable) { /* a driver's view of the queue starts afresh */
		sh[q] = (struct shadow){.size = size};
		memset(fuzz_vm.mem + QBASE(q), 0, 0x1000);
	}
}

/* Post head h (one descriptor) on queue q: rx writable, tx a frame. */
static void post(unsigned q, unsigned h, unsigned len)
{
	struct shadow *s = &sh[q];
	uint8_t *d = fuzz_vm.mem + QBASE(q) + 16 * h;
	uint64_t addr = BUF(q, h);
	uint32_t l = q == RXQ ? BUFLEN : 12 + 14 + len % (BUFLEN - 26);
	uint16_t flags = q == RXQ ? 2 : 0, next = 0;

	if (!s->size || s->size > SLOTS || h >= s->size || s->out[h])
		return;
	memcpy(d, &addr, 8);
	memcpy(d + 8, &l, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
	if (q == TXQ) /* a virtio-net header of zeros, then a frame */
		memset(fuzz_vm.mem + addr, (uint8_t)len, l), memset(fuzz_vm.mem + addr, 0, 12);
	st16(QBASE(q) + 0x200 + 4 + 2 * (s->avail_idx % s->size), (uint16_t)h);
	s->avail_idx++;
	st16(QBASE(q) + 0x200 + 2, s->avail_idx);
	s->out[h] = true;
	s->nout++;
}

/* Take what the device put in the used ring, checking each entry. */
static void reap(struct vnet *n)
{
	for (unsigned q = 0; q < NQUEUES; q++) {
		struct shadow *s = &sh[q];
		uint16_t used = ld16(QBASE(q) + 0x400 + 2);

		if (!s->size || s->size > SLOTS)
			continue;
		FUZZ_CHECK((uint16_t)(used - s->used_seen) <= s->nout,
			   "the device returns no more buffers than were posted");
		for (; s->used_seen != used; s->used_seen++) {
			uint64_t e = QBASE(q) + 0x400 + 4 + 8 * (s->used_seen % s->size);
			uint32_t id, len;

			memcpy(&id, fuzz_vm.mem + e, 4);
			memcpy(&len, fuzz_vm.mem + e + 4, 4);
			FUZZ_CHECK(id < s->size && s->out[id],
				   "a used head was out with the device, and is returned once");
			FUZZ_CHECK(q != RXQ || len <= BUFLEN, "an rx completion fits its buffer");
			s->out[id] = false;
			s->nout--;
		}
	}
	(void)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet *n = &vnets[0];
	struct fuzz_in in = {data, size};
	static uint8_t *before;

	if (!before)
		before = malloc(RAM_SIZE);
	vnet_fresh(n, RAM_SIZE, "loopback");
	shadow_reset();
	kicked = false;
	trace_mask = fuzz_take(&in, 1) & 1 ? TRACE_VIRTIO : 0;

	while (in.n) {
		uint8_t op = (uint8_t)fuzz_take(&in, 1), a = (uint8_t)fuzz_take(&in, 1);
		unsigned q = a & 1;
		uint8_t st0 = n->status;

		unsigned sel = (op & 0x7f) % 12; /* bit 7: the odd variant */
		uint8_t stv = op & 0x80 ? a : (uint8_t)(n->status | (1u << (a % 4) & 0xf) | 1);
		bool reset = sel == 0 || (sel == 1 && stv == 0);

		switch (reset ? 0 : sel) {
		case 0: /* device reset (a status write of 0 is one too) */
			wr(n, VIRTIO_PCI_COMMON_STATUS, 1, 0);
			FUZZ_CHECK(n->status == 0 && !n->qc[0].enable && !n->qc[1].enable &&
				       !n->vq[0].ready && !n->vq[1].ready,
				   "a reset leaves status 0 and every queue off");
			shadow_reset();
			kicked = false;
			memset(fuzz_vm.mem, 0, 0x2000); /* the driver's rings start afresh */
			break;
		case 1: /* status bits: the next step, or any bits */
			wr(n, VIRTIO_PCI_COMMON_STATUS, 1, stv);
			break;
		case 2: /* features: VERSION_1 plus some of what is offered, or anything */
			for (unsigned s = 0; s < 2; s++) {
				uint64_t f =
				    op & 0x80
					? (uint64_t)a << 24 | a
					: (n->offered & ((uint64_t)a * 0x0101010101010101ull)) |
					      F(VIRTIO_F_VERSION_1);
				wr(n, VIRTIO_PCI_COMMON_GFSELECT, 4, s);
				wr(n, VIRTIO_PCI_COMMON_GF, 4, (uint32_t)(f >> (32 * s)));
			}
			break;
		case 3: /* queue set-up */
			queue_setup(n, q, op & 0x80 ? 1u << ((a >> 1) % 5) : SLOTS,
				    (uint16_t)(a >> 4 == 15 ? 0xffff : a >> 4));
			break;
		case 4: /* queue_enable: 1, 0 (no disable in virtio 1.x), or junk */
			wr(n, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
			wr(n, VIRTIO_PCI_COMMON_Q_ENABLE, 2, op & 0x80 ? a >> 1 : 1);
			break;
		case 5: post(q, (a >> 1) % SLOTS, (unsigned)fuzz_take(&in, 2)); break;
		case 6: /* kick: either queue, or one that does not exist */
			kick_by_trap(n, a % 3);
			kicked = true;
			break;
		case 7:
		case 8: { /* the I/O thread: nothing may change RAM unless live */
			bool was_live = live(n);
			memcpy(before, fuzz_vm.mem, RAM_SIZE);
			pump(n);
			FUZZ_CHECK(was_live || !memcmp(before, fuzz_vm.mem, RAM_SIZE),
				   "the I/O thread leaves RAM alone while the device is not live");
			/* Not live, the thread can only fault a kick; one from
			 * before the last reset was for rings that are gone. */
			FUZZ_CHECK(was_live || kicked || (st0 & VIRTIO_CONFIG_S_NEEDS_RESET) ||
				       !(n->status & VIRTIO_CONFIG_S_NEEDS_RESET),
				   "a kick from before a reset is not held against the device");
			reap(n);
			break;
		}
		case 9: /* vectors: config or queue, in range or not */
			wr(n, op & 0x80 ? VIRTIO_PCI_COMMON_MSIX : VIRTIO_PCI_COMMON_Q_MSIX, 2,
			   a & 0x80 ? 0xff00u | a : a % 4);
			break;
		case 10: /* queue_select out of range, then queue registers */
			wr(n, VIRTIO_PCI_COMMON_Q_SELECT, 2, 2 + a);
			wr(n, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
			wr(n, VIRTIO_PCI_COMMON_Q_SIZE, 2, a);
			break;
		case 11: { /* read the whole common config, as a driver polling */
			uint64_t v;
			for (unsigned o = 0; o < COMMON_LEN; o += 2)
				bar0_access(n, o, &v, 2, false);
			break;
		}
		}
		if ((st0 & VIRTIO_CONFIG_S_NEEDS_RESET) && !reset)
			FUZZ_CHECK(n->status & VIRTIO_CONFIG_S_NEEDS_RESET,
				   "NEEDS_RESET stays until reset");
	}
	trace_mask = 0;
	return 0;
}
