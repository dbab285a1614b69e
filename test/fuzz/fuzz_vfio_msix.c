// SPDX-License-Identifier: MIT
// needs: devices/pci.c devices/pci_host.c vmm/bus.c devices/vfio_cfg.c devices/vfio_container.c
// needs: devices/vfio_iommufd.c
/*
 * fuzz_vfio_msix.c - the assigned device's MSI-X, as kvmini presents it:
 * devices/vfio.c builds the emulated config space from the device's own
 * (which the fuzzer writes: MSI-X table and PBA anywhere in any BAR, any
 * vector count, MSI and INTx beside), maps its BARs around the trapped
 * table and PBA pages, and then the guest drives it: config writes of any
 * width (MSI-X enable, function mask, MSI, Command), BARs placed anywhere,
 * MMIO to the table, the PBA and their neighbours, and the device firing
 * its vectors (its eventfds signalled) while masked or not.
 *
 * vfio.c is #included; the VFIO device is a memfd whose layout is the
 * regions' (config space at 0, BARk at (k+1) MiB), so pread, pwrite and
 * mmap work on it for real.  ioctl is fuzz_ioctl: it takes SET_IRQS and
 * RESET and keeps what the "device" has enabled.
 *
 * Checks (besides ASan/UBSan; die() aborts): at most one interrupt
 * mechanism (INTx, MSI, MSI-X) is live at the device at any time (PCI 3.0
 * 6.8.1.3), even when VFIO refuses a change (found here: a refused MSI-X
 * disable was taken as done and INTx turned on beside it), and it is the
 * one the guest's config asks for; no KVM slot
 * covers a page of the MSI-X table or PBA (they must trap); PBA bits past
 * the last vector read 0, and a vector's bit reads as its pending state;
 * a table entry reads back what was written to it (dword writes); and a
 * device whose MSI-X layout does not fit its BAR still plugs in (found
 * here: pci_register refused it, and kvmini would die at start).
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

static int fuzz_ioctl(int fd, unsigned long req, ...);
#define ioctl(fd, req, ...) fuzz_ioctl(fd, req, ##__VA_ARGS__)
#include "../../devices/vfio.c"

/* The REQ/ERR watcher is a thread of its own (vfio_events.c), not part of
 * what this target drives: the device here offers neither index. */
int vfio_events_start(struct vfio_events *e, struct vm *vm, int devfd, const char *bdf,
		      const struct vfio_irq_info *err, const struct vfio_irq_info *req)
{
	(void)e, (void)vm, (void)devfd, (void)bdf, (void)err, (void)req;
	return 0;
}

void vfio_events_stop(struct vfio_events *e, int devfd)
{
	(void)e, (void)devfd;
}
#undef ioctl

#include <poll.h>
#include <stdarg.h>

#include "stubs.h"

#define RAM_SIZE 0x4000u
#define MB	 0x100000u

static int dev_on[3];	   /* triggers enabled at the "device": INTx, MSI, MSI-X */
static bool fuzz_bad_irqs; /* make the next SET_IRQS fail */
static bool refused;	   /* one did fail in this input */

static int fuzz_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	(void)fd;
	if (req == VFIO_DEVICE_SET_IRQS) {
		struct vfio_irq_set *s = arg;
		if (fuzz_bad_irqs) {
			fuzz_bad_irqs = false;
			refused = true;
			errno = EINVAL;
			return -1;
		}
		if (s->index <= VFIO_PCI_MSIX_IRQ_INDEX &&
		    (s->flags & VFIO_IRQ_SET_ACTION_TRIGGER)) {
			if (s->count)
				for (unsigned i = 0; i <= VFIO_PCI_MSIX_IRQ_INDEX; i++)
					FUZZ_CHECK(
					    i == s->index || !dev_on[i],
					    "one interrupt mechanism at a time at the device");
			dev_on[s->index] = (int)s->count;
		}
		return 0;
	}
	if (req == VFIO_DEVICE_RESET) {
		memset(dev_on, 0, sizeof(dev_on));
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

/* Pending as PCI 3.0 6.8.2.10 has it: latched, or signalled by the device
 * while the vector's irqfd is detached (masked). */
static bool pending(const struct pci_msix_vector *e)
{
	struct pollfd p = {.fd = e->eventfd, .events = POLLIN};

	return e->pending || (e->eventfd >= 0 && !e->irqfd_on && poll(&p, 1, 0) == 1);
}

static void cfg(struct pci_dev *d, unsigned off, unsigned len, uint32_t v, bool w, uint32_t *out)
{
	if (w)
		pci_cfg_write(d, off, len, v);
	else
		*out = pci_cfg_read(d, off, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfio_dev *v = &vfio_devs[0];
	struct fuzz_in in = {data, size};
	static bool up;
	uint8_t c[256];

	if (up)
		vfio_teardown(v);
	for (unsigned s = 0; s < 32; s++) {
		struct pci_dev *d = pci_find(0, s, 0);
		if (d)
			pci_unregister(d);
	}
	up = false;
	fuzz_ram_reset(RAM_SIZE);
	bus_init(&fuzz_vm.pio, "pio");
	bus_init(&fuzz_vm.mmio, "mmio");
	pci_host_init(&fuzz_vm);
	memset(dev_on, 0, sizeof(dev_on));
	refused = fuzz_bad_irqs = false;

	/* The device: header flags, BAR sizes, then its config space. */
	uint8_t flags = (uint8_t)fuzz_take(&in, 1);
	uint64_t sizes[6];
	for (int i = 0; i < 6; i++) {
		uint8_t s = (uint8_t)fuzz_take(&in, 1);
		sizes[i] = s & 0x80 ? 0 : 1ull << (4 + s % 17); /* 16 B .. 1 MiB */
	}
	memset(c, 0, sizeof(c));
	for (unsigned i = 0; i < sizeof(c) && in.n; i++)
		c[i] = (uint8_t)fuzz_take(&in, 1);
	c[PCI_HEADER_TYPE] = 0;
	c[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	struct vfio_bar_desc bd[6];
	if (vfio_bars_decode(c, sizes, bd))
		return -1; /* kvmini refuses such a device at start (die): not this target's */

	memset(v, 0, sizeof(*v));
	v->vm = &fuzz_vm;
	v->slot = PCI_SLOT_VFIO;
	v->fd = v->intx_fd = v->intx_resample_fd = v->msi_fd = -1;
	memset(v->msix_fd, 0xff, sizeof(v->msix_fd));
	strcpy(v->bdf, "0000:00:00.0");
	strcpy(v->name, "vfio-fuzz");
	v->trap_bars = flags & 1;
	v->fd = memfd_create("vfio-fuzz", MFD_CLOEXEC);
	if (v->fd < 0 || ftruncate(v->fd, 7 * MB) || pwrite(v->fd, c, 256, 0) != 256)
		abort();
	up = true;
	for (int i = 0; i < 6; i++) {
		v->reg[i].info.size = sizes[i];
		v->reg[i].info.offset = (uint64_t)(i + 1) * MB;
		v->reg[i].info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				       (flags & 2 ? 0 : VFIO_REGION_INFO_FLAG_MMAP);
	}
	v->reg[VFIO_PCI_CONFIG_REGION_INDEX].info.size = 256;
	v->irq[VFIO_PCI_INTX_IRQ_INDEX].count = flags & 4 ? 0 : 1;
	v->irq[VFIO_PCI_MSI_IRQ_INDEX].count = flags & 8 ? 0 : 1;
	v->irq[VFIO_PCI_MSIX_IRQ_INDEX].count = flags & 16 ? 0 : 64;
	v->reset_works = true;

	vfio_vconfig(v);
	vfio_bars(v);
	if (pci_register(&fuzz_vm, &v->pci))
		abort();
	v->registered = true;
	vfio_irqs(v);

	struct pci_dev *d = &v->pci;
	struct pci_msix *mx = &d->msix;
	while (in.n) {
		uint8_t op = (uint8_t)fuzz_take(&in, 1), a = (uint8_t)fuzz_take(&in, 1);
		uint32_t val = (uint32_t)fuzz_take(&in, 4), out = 0;
		unsigned len = 1u << (a >> 6) % 3;

		switch (op % 8) {
		case 0: /* any config register, any width */
			cfg(d, (a | (op & 0x80 ? 0 : 0)) & ~(len - 1), len, val, op & 0x40, &out);
			break;
		case 1: /* the MSI-X or MSI control word */
			if (mx->present && op & 0x80)
				cfg(d, mx->cap + 2, 2, val, true, &out);
			else if (d->msi.present)
				cfg(d, d->msi.cap + 2, 2, val, true, &out);
			break;
		case 2: { /* place a BAR (high bits from val) and enable decode */
			unsigned b = a % 6;
			uint64_t addr = PCI_MMIO32_BASE + ((uint64_t)val << 4) % (256 * MB);
			cfg(d, PCI_BASE_ADDRESS_0 + 4 * b, 4, (uint32_t)addr, true, &out);
			cfg(d, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, true, &out);
			break;
		}
		case 3:
		case 4: { /* MMIO into the MSI-X BAR: the table, the PBA, around them */
			if (!mx->present)
				break;
			struct pci_bar *bar = &d->bar[mx->bar];
			if (!bar->mapped)
				break;
			uint64_t base = op % 8 == 3 ? mx->table_off : mx->pba_off;
			uint64_t off = (base + (uint64_t)(int8_t)a * 4) % bar->size;
			uint64_t v64 = val | (uint64_t)fuzz_take(&in, 4) << 32;
			unsigned l = op & 0x80 ? 8 : op & 0x20 ? 1 + a % 8 : 4;
			bool w = op & 0x40;
			bus_access(&fuzz_vm.mmio, bar->addr + off, &v64, l, w);
			/* A dword written into a table entry reads back, but for
			 * the address's two low bits (0) and Vector Control (its
			 * bits besides the mask are reserved).  The entry's place
			 * counts from the table, which may start at any 8-byte
			 * offset (the long run's one finding: this check's fault,
			 * not kvmini's; seed table_at_8.bin). */
			if (w && l == 4 && op % 8 == 3 && off >= mx->table_off &&
			    off < mx->table_off + 16u * mx->nvec && (off & 3) == 0 &&
			    ((off - mx->table_off) & 15) != 12) {
				uint64_t back = 0;
				bus_access(&fuzz_vm.mmio, bar->addr + off, &back, 4, false);
				uint32_t want = ((off - mx->table_off) & 15) == 0
						    ? val & ~3u
						    : val; /* address */
				FUZZ_CHECK((uint32_t)back == want,
					   "an MSI-X table dword reads back");
			}
			/* PBA qwords: no bit past the last vector; each bit is the
			 * vector's pending state. */
			if (!w && l == 8 && op % 8 == 4 && off >= mx->pba_off && !(off & 7) &&
			    off < mx->pba_off + (mx->nvec + 63) / 64 * 8u) {
				unsigned first = (unsigned)(off - mx->pba_off) * 8;
				for (unsigned b = 0; b < 64; b++) {
					bool bit = v64 >> b & 1;
					FUZZ_CHECK(first + b < mx->nvec || !bit,
						   "no PBA bit past the last vector");
					if (first + b < mx->nvec)
						FUZZ_CHECK(
						    bit == pending(&mx->vec[first + b]),
						    "a PBA bit is its vector's pending state");
				}
			}
			break;
		}
		case 5: /* the device fires a vector */
			if (mx->present && v->msix_fd[a % 64] >= 0) {
				uint64_t one = 1;
				if (write(v->msix_fd[a % 64], &one, 8) != 8)
					abort();
			} else if (v->msi_fd >= 0) {
				uint64_t one = 1;
				if (write(v->msi_fd, &one, 8) != 8)
					abort();
			}
			break;
		case 6: /* VFIO refuses the next interrupt change */ fuzz_bad_irqs = true; break;
		case 7: /* the core's notify path, as the I/O side would use it */
			if (mx->present)
				pci_notify(d, a % 64);
			break;
		}
		fuzz_bad_irqs = op % 8 == 6 && fuzz_bad_irqs;

		/* What is live at the device follows the guest's config, unless
		 * VFIO refused a change (then it may lag: never two at once). */
		enum vfio_irq_mode want = irq_wanted(v);
		FUZZ_CHECK(refused || v->mode == want,
			   "the device's interrupt mode is the one the guest asks for");
		unsigned live_n = !!dev_on[0] + !!dev_on[1] + !!dev_on[2];
		FUZZ_CHECK(live_n <= 1, "at most one mechanism live at the device");
		/* No KVM slot over a table or PBA page. */
		if (mx->present && d->bar[mx->bar].mapped) {
			uint64_t b = d->bar[mx->bar].addr;
			uint64_t t0 = (b + mx->table_off) & ~4095ull,
				 t1 = (b + mx->table_off + 16u * mx->nvec + 4095) & ~4095ull;
			uint64_t p0 = (b + mx->pba_off) & ~4095ull,
				 p1 = (b + mx->pba_off + (mx->nvec + 63) / 64 * 8u + 4095) &
				      ~4095ull;
			for (int s = 1; s < VM_MAX_SLOTS; s++) {
				struct vm_slot *sl = &fuzz_vm.slots[s];
				if (!sl->used)
					continue;
				FUZZ_CHECK(sl->gpa >= t1 || sl->gpa + sl->size <= t0,
					   "no KVM slot over the MSI-X table");
				FUZZ_CHECK(sl->gpa >= p1 || sl->gpa + sl->size <= p0,
					   "no KVM slot over the PBA");
			}
		}
	}
	return 0;
}
