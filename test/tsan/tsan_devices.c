// SPDX-License-Identifier: MIT
// needs: vmm/dispatch.c vmm/bus.c devices/pci.c devices/pci_host.c devices/pci_assign.c
// needs: devices/virtio_net.c devices/virtq.c devices/vfio_cfg.c devices/vfio_container.c
// needs: devices/vfio_iommufd.c devices/serial.c devices/pm.c devices/rtc.c devices/report.c
// needs: devices/fw_cfg.c
// needs: test/fuzz/stubs.c
/*
 * tsan_devices.c - the device models under several vCPUs at once, built
 * with -fsanitize=thread (test/tsan/tsan.mk).  THREADS threads play vCPUs:
 * each sends a stream of trapped accesses through the real dispatch path
 * (vm_pio/vm_mmio, vmm/dispatch.c, the device lock) to every device a
 * guest can race on: 0xcf8/0xcfc and ECAM config accesses to the host
 * bridge, virtio-net and the assigned device (its vconfig, MSI and MSI-X
 * capabilities), BAR moves and decode toggles, virtio-net's common config,
 * ISR, device config and notify registers (with its I/O thread running on
 * the loopback backend), the assigned device's trapped MSI-X table and PBA,
 * the UART's registers (its reader thread filling the receive FIFO from
 * stdin, a pipe fed meanwhile), the PM block and the CMOS RTC.  Meanwhile the I/O
 * thread serves the queues the guest set up (frames sent on tx come back
 * on rx through the loopback backend) and raises interrupts while the
 * vCPUs switch MSI-X, its function mask and INTx Disable under it.
 *
 * A data race is a ThreadSanitizer report, which ends the run with status
 * 66 (halt_on_error, exitcode: __tsan_default_options below): prove then
 * sees the test fail.  At the end, what must hold whatever the order of the
 * accesses: the bus tables sorted and without overlaps, every function's
 * vendor ID still readable through both config mechanisms.
 *
 * The assigned device is faked as in fuzz_vfio_msix.c: devices/vfio.c is
 * #included, the "device" is a memfd laid out as its regions, and ioctl
 * takes SET_IRQS and RESET.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

static int fake_ioctl(int fd, unsigned long req, ...);
#define ioctl(fd, req, ...) fake_ioctl(fd, req, ##__VA_ARGS__)
#include "../../devices/vfio.c"

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

#include <stdarg.h>

#include "../../devices/pci_assign.h"
#include "../../devices/pm.h"
#include "../../devices/report.h"
#include "../../devices/rtc.h"
#include "../../devices/serial.h"
#include "../../devices/virtio_net.h"
#include "../fuzz/stubs.h"
#include "../unit/tap.h"

#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#define THREADS	   4
#define ROUNDS	   12000
#define RAM_SIZE   (4u << 20)
#define MB	   0x100000u
#define QSIZE	   256u
#define RXQ	   0x100000u /* rx queue: descriptors, avail +0x1000, used +0x2000 */
#define TXQ	   0x110000u /* tx queue, likewise */
#define RXBUFS	   0x200000u /* QSIZE receive buffers of 2 KiB */
#define TXFRAME	   0x300000u /* one 12-byte header + 60-byte frame, sent again and again */

const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "halt_on_error=1:exitcode=66:second_deadlock_stack=1";
}

static int fake_ioctl(int fd, unsigned long req, ...)
{
	(void)fd;
	if (req == VFIO_DEVICE_SET_IRQS || req == VFIO_DEVICE_RESET)
		return 0;
	errno = ENOTTY;
	return -1;
}

/* An edu-like function: BAR0 1 MiB (mmapped), BAR2 16 KiB holding an
 * 8-vector MSI-X table at 0 and its PBA at 0x800, MSI at 0x40, MSI-X at
 * 0x50, INTx pin A. */
static void fake_vfio(void)
{
	struct vfio_dev *v = &vfio_devs[0];
	uint8_t c[256] = {0};

	c[0] = 0x34, c[1] = 0x12, c[2] = 0xe8, c[3] = 0x11;
	c[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	c[PCI_CLASS_DEVICE] = 0xff;
	c[PCI_BASE_ADDRESS_0] = 0;
	c[PCI_BASE_ADDRESS_2] = 0;
	c[PCI_INTERRUPT_PIN] = 1;
	c[PCI_CAPABILITY_LIST] = 0x40;
	c[0x40] = PCI_CAP_ID_MSI, c[0x41] = 0x50, c[0x42] = 0x80; /* 64-bit */
	c[0x50] = PCI_CAP_ID_MSIX, c[0x51] = 0, c[0x52] = 7;	 /* 8 vectors */
	c[0x54] = 2;						 /* table: BAR2 + 0 */
	c[0x58] = 2, c[0x59] = 0x08;				 /* PBA: BAR2 + 0x800 */

	memset(v, 0, sizeof(*v));
	v->vm = &fuzz_vm;
	v->slot = PCI_SLOT_VFIO;
	v->fd = v->intx_fd = v->intx_resample_fd = v->msi_fd = -1;
	memset(v->msix_fd, 0xff, sizeof(v->msix_fd));
	strcpy(v->bdf, "0000:00:00.0");
	strcpy(v->name, "vfio-tsan");
	v->fd = memfd_create("vfio-tsan", MFD_CLOEXEC);
	if (v->fd < 0 || ftruncate(v->fd, 7 * MB) || pwrite(v->fd, c, 256, 0) != 256)
		abort();
	for (int i = 0; i < 6; i++) {
		v->reg[i].info.size = i == 0 ? MB : i == 2 ? 0x4000 : 0;
		v->reg[i].info.offset = (uint64_t)(i + 1) * MB;
		v->reg[i].info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
				       VFIO_REGION_INFO_FLAG_MMAP;
	}
	v->reg[VFIO_PCI_CONFIG_REGION_INDEX].info.size = 256;
	v->irq[VFIO_PCI_INTX_IRQ_INDEX].count = 1;
	v->irq[VFIO_PCI_MSI_IRQ_INDEX].count = 1;
	v->irq[VFIO_PCI_MSIX_IRQ_INDEX].count = 8;
	v->reset_works = true;
	vfio_vconfig(v);
	vfio_bars(v);
	if (pci_register(&fuzz_vm, &v->pci))
		abort();
	v->registered = true;
	vfio_irqs(v);
}

/* Where the firmware-like start put each function's BARs, read before the
 * threads start (they may move them; an access that then misses is simply
 * unclaimed). */
static uint64_t vnet_bar0, vnet_msix_bar, vfio_msix_bar;
static unsigned vnet_msix_cap;

/* The guest's side of the queues, written before the I/O thread exists
 * (it starts at the handshake, after this): every descriptor and avail
 * slot is final, so during the run the "guest" only moves the avail
 * indexes, atomically, as a guest CPU would.  The rings' contents are
 * guest memory that the guest and the I/O thread share by the virtio
 * protocol, not host state: TSan is kept to the host's own structures. */
static void rings_prefill(void)
{
	uint8_t *m = fuzz_vm.mem;

	for (unsigned i = 0; i < QSIZE; i++) {
		struct vring_desc rx = {.addr = RXBUFS + 2048ull * i, .len = 2048,
					.flags = VRING_DESC_F_WRITE};
		struct vring_desc tx = {.addr = TXFRAME, .len = 72};

		memcpy(m + RXQ + 16 * i, &rx, 16);
		memcpy(m + TXQ + 16 * i, &tx, 16);
		memcpy(m + RXQ + 0x1000 + 4 + 2 * i, &(uint16_t){(uint16_t)i}, 2);
		memcpy(m + TXQ + 0x1000 + 4 + 2 * i, &(uint16_t){(uint16_t)i}, 2);
	}
	memset(m + TXFRAME + 12, 0xff, 6); /* broadcast */
	m[TXFRAME + 24] = 0x08, m[TXFRAME + 25] = 0x06;
}

static uint16_t *avail_idx(unsigned q)
{
	return (uint16_t *)(fuzz_vm.mem + (q ? TXQ : RXQ) + 0x1000 + 2);
}

static uint16_t used_idx(unsigned q)
{
	return __atomic_load_n((uint16_t *)(fuzz_vm.mem + (q ? TXQ : RXQ) + 0x2000 + 2),
			       __ATOMIC_ACQUIRE);
}

/* Offer one more buffer on queue q unless half the ring is outstanding. */
static void offer(unsigned q)
{
	uint16_t a = __atomic_load_n(avail_idx(q), __ATOMIC_RELAXED);

	if ((uint16_t)(a - used_idx(q)) < QSIZE / 2)
		__atomic_compare_exchange_n(avail_idx(q), &a, (uint16_t)(a + 1), false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

static void pio(uint16_t port, uint32_t len, uint32_t *v, bool out)
{
	bool done;

	vm_pio(&fuzz_vm, port, (uint8_t *)v, 4, len, 1, out, &done);
}

static void mmio(uint64_t addr, uint32_t len, uint64_t *v, bool w)
{
	bool done;

	vm_mmio(&fuzz_vm, addr, (uint8_t *)v, len, w, &done);
}

static uint32_t cf8(unsigned slot, unsigned reg)
{
	return 0x80000000u | slot << 11 | (reg & 0xfc);
}

static void queue_setup(unsigned q)
{
	uint64_t v = q, a = q ? TXQ : RXQ;

	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_Q_SELECT, 2, &v, true);
	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_Q_DESCLO, 8, &a, true);
	a += 0x1000;
	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_Q_AVAILLO, 8, &a, true);
	a += 0x1000;
	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_Q_USEDLO, 8, &a, true);
	v = 1;
	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_Q_ENABLE, 2, &v, true);
}

/* What a driver does once (virtio 1.2 3.1.1), before the vCPUs race:
 * status, VERSION_1, both queues, DRIVER_OK, MSI-X on; the rx ring full. */
static void vnet_handshake(void)
{
	uint64_t v = 0;

	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_STATUS, 1, &v, true);
	v = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_STATUS, 1, &v, true);
	v = 1;
	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_GFSELECT, 4, &v, true);
	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_GF, 4, &v, true); /* VERSION_1 */
	v = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_STATUS, 1, &v, true);
	queue_setup(0);
	queue_setup(1);
	v |= VIRTIO_CONFIG_S_DRIVER_OK;
	mmio(vnet_bar0 + VIRTIO_PCI_COMMON_STATUS, 1, &v, true);
	__atomic_store_n(avail_idx(0), (uint16_t)(QSIZE / 2), __ATOMIC_RELEASE);
}

/* Config registers worth racing on; BARs and the command register move
 * mappings, MSI/MSI-X control words change interrupt modes. */
static const uint8_t regs[] = {PCI_COMMAND, PCI_STATUS, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_2,
			       PCI_INTERRUPT_LINE, 0x40, 0x42, 0x44, 0x4c, 0x50, 0x52, 0x54, 0x3c};

static void *vcpu(void *arg)
{
	uint64_t s = 0x9e3779b97f4a7c15ull * (1 + (uintptr_t)arg);

	for (int i = 0; i < ROUNDS; i++) {
		uint32_t r = rnd(&s), v = rnd(&s), op = r % 20, slot = (r >> 4) % 4;
		uint32_t reg = regs[(r >> 8) % sizeof(regs)], len = 1u << ((r >> 12) % 3);
		uint64_t v64 = v;
		bool w = r & (1u << 16);

		switch (op) {
		case 0: /* mechanism #1: address, then data, racing with others */
			v = cf8(slot, reg);
			pio(PORT_PCI_CONFIG_ADDR, 4, &v, true);
			v = rnd(&s);
			/* Keep decoding on (bits 0-2) most of the time. */
			if (reg == PCI_COMMAND)
				v |= r & (1u << 17) ? 0x7 : 0;
			pio(PORT_PCI_CONFIG_DATA + (reg & 3 & (4 - len)), len, &v, w);
			break;
		case 1: /* ECAM */
			mmio(PCI_ECAM_BASE + (slot << 15) + (reg & ~(len - 1)), len, &v64, w);
			break;
		case 2: /* a BAR moved, sized and put back */
			v = cf8(2, PCI_BASE_ADDRESS_2);
			pio(PORT_PCI_CONFIG_ADDR, 4, &v, true);
			v = r & 1 ? 0xffffffffu : (uint32_t)vfio_msix_bar;
			pio(PORT_PCI_CONFIG_DATA, 4, &v, true);
			break;
		case 3: /* virtio-net common config: feature select, queue select, sizes */
			mmio(vnet_bar0 + (v % 0x38 & ~(len - 1)), len, &v64, w && (v % 0x38) != 0x14);
			break;
		case 4: /* the device status: driver handshake steps and resets */
			v64 = (uint8_t[]){0, 1, 3, 0x0b, 0x0f}[r % 5];
			mmio(vnet_bar0 + 0x14, 1, &v64, true);
			break;
		case 5: /* a queue: select, place (where the rings are), enable */
			queue_setup(r & 1);
			break;
		case 6: /* ISR (read clears), device config, notify */
			mmio(vnet_bar0 + 0x1000, 1, &v64, false);
			mmio(vnet_bar0 + 0x2000 + v % 12, 1, &v64, false);
			v64 = r & 1;
			mmio(vnet_bar0 + 0x3000 + 4 * (r & 1), 2, &v64, true);
			break;
		case 7: /* virtio-net's MSI-X table */
			mmio(vnet_msix_bar + (v % 48 & ~3u), 4, &v64, w);
			break;
		case 8: /* the assigned device's trapped MSI-X table and PBA */
			mmio(vfio_msix_bar + (v % 0x880 & ~3u), 4, &v64, w);
			break;
		case 9: { /* the UART: reads anywhere (the receive buffer, which the
			   * serial reader thread fills from stdin meanwhile),
			   * writes but to THR and MCR (no output, no loopback) */
			unsigned reg = (r >> 20) % 8;

			v &= 0x0f;
			pio(PORT_COM1 + reg, 1, &v, w && reg != 0 && reg != 4);
			break;
		}
		case 10: /* the PM block (no sleep, no reset) and the PM timer */
			pio(PM1A_EVT_BLK + 2, 2, &v, w);
			pio(PM_TMR_BLK, 4, &v, false);
			break;
		case 11: /* the CMOS RTC: index, then data */
			v %= 0x40;
			pio(PORT_RTC_INDEX, 1, &v, true);
			pio(PORT_RTC_DATA, 1, &v, false);
			break;
		case 12: /* the guest sends: a frame offered, the tx notify written */
		case 13:
		case 16:
		case 17:
			offer(1);
			offer(0);
			v64 = 1;
			mmio(vnet_bar0 + 0x3000 + 4, 2, &v64, true);
			break;
		case 14: /* interrupt modes under the I/O thread's feet: MSI-X
			  * enable and function mask, INTx Disable */
		case 18:
		case 19:
			v = cf8(PCI_SLOT_VIRTIO_NET, vnet_msix_cap);
			pio(PORT_PCI_CONFIG_ADDR, 4, &v, true);
			v = (r & 2 ? PCI_MSIX_FLAGS_ENABLE : 0) | (r & 4 ? PCI_MSIX_FLAGS_MASKALL : 0);
			pio(PORT_PCI_CONFIG_DATA + 2, 2, &v, true);
			v = cf8(PCI_SLOT_VIRTIO_NET, PCI_COMMAND);
			pio(PORT_PCI_CONFIG_ADDR, 4, &v, true);
			v = 0x6 | (r & 8 ? PCI_COMMAND_INTX_DISABLE : 0);
			pio(PORT_PCI_CONFIG_DATA, 2, &v, true);
			break;
		case 15: /* vectors: the config and the queues' MSI-X vector */
			v64 = r & 3;
			mmio(vnet_bar0 + VIRTIO_PCI_COMMON_MSIX, 2, &v64, true);
			v64 = (r >> 2) & 1;
			mmio(vnet_bar0 + VIRTIO_PCI_COMMON_Q_SELECT, 2, &v64, true);
			v64 = (r >> 3) & 3;
			mmio(vnet_bar0 + VIRTIO_PCI_COMMON_Q_MSIX, 2, &v64, true);
			break;
		}
	}
	return NULL;
}

/* The host side of COM1: kvmini's stdin is a pipe, fed while the vCPUs
 * run; the serial reader thread (started at the first UART access) takes
 * it into the receive FIFO, which the vCPUs read. */
static int stdin_w = -1;

static void *typist(void *arg)
{
	char line[64];

	(void)arg;
	memset(line, 'k', sizeof(line));
	for (int i = 0; i < 64; i++) {
		if (write(stdin_w, line, sizeof(line)) != (ssize_t)sizeof(line))
			break;
		usleep(1000);
	}
	close(stdin_w); /* EOF: the reader thread ends */
	return NULL;
}

static bool bus_sane(const struct bus *b)
{
	for (size_t i = 1; i < b->n; i++)
		if (b->r[i - 1].base + b->r[i - 1].len > b->r[i].base)
			return false;
	return true;
}

int main(void)
{
	pthread_t t[THREADS];
	struct pci_dev *d;

	fuzz_ram_reset(RAM_SIZE);
	rings_prefill();
	pthread_mutex_init(&fuzz_vm.lock, NULL);
	bus_init(&fuzz_vm.pio, "pio");
	bus_init(&fuzz_vm.mmio, "mmio");
	serial_init(&fuzz_vm);
	pm_init(&fuzz_vm);
	rtc_init(&fuzz_vm);
	report_init(&fuzz_vm);
	pci_host_init(&fuzz_vm);
	vnet_init(&fuzz_vm, "loopback", 0, PCI_SLOT_VIRTIO_NET);
	fake_vfio();
	pci_assign_all(&fuzz_vm);

	d = pci_find(0, PCI_SLOT_VIRTIO_NET, 0);
	vnet_bar0 = d->bar[0].addr;
	vnet_msix_bar = d->bar[2].addr;
	vnet_msix_cap = d->msix.cap;
	vfio_msix_bar = vfio_devs[0].pci.bar[2].addr;
	tap_ok(vnet_bar0 && vnet_msix_bar && vfio_msix_bar,
	       "the firmware-like start placed virtio-net's BAR0 (0x%llx) and MSI-X BAR, and the "
	       "assigned device's (0x%llx)",
	       (unsigned long long)vnet_bar0, (unsigned long long)vfio_msix_bar);

	vnet_handshake();
	for (int i = 0; i < 64; i++) {
		offer(1);
		uint64_t one = 1;
		mmio(vnet_bar0 + 0x3000 + 4, 2, &one, true);
	}
	uint16_t sent0 = used_idx(1);
	int in[2];
	pthread_t ty;

	if (pipe(in) || dup2(in[0], STDIN_FILENO) < 0)
		abort();
	close(in[0]);
	stdin_w = in[1];
	if (pthread_create(&ty, NULL, typist, NULL))
		abort();

	for (uintptr_t i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, vcpu, (void *)i))
			abort();
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_join(ty, NULL);
	tap_ok(1, "%d threads x %d trapped accesses through vm_pio/vm_mmio, the I/O thread "
		  "running: no data race (ThreadSanitizer)",
	       THREADS, ROUNDS);
	tap_diag("the I/O thread used %u tx buffers before the race and %u in all, %u rx",
		 sent0, used_idx(1), used_idx(0));

	tap_ok(bus_sane(&fuzz_vm.pio) && bus_sane(&fuzz_vm.mmio),
	       "both bus tables still sorted, no overlapping ranges");
	for (unsigned slot = 0; slot < 3; slot++) {
		uint32_t a = cf8(slot, 0), id1 = 0, id2 = 0;
		uint64_t e = 0;

		pio(PORT_PCI_CONFIG_ADDR, 4, &a, true);
		pio(PORT_PCI_CONFIG_DATA, 4, &id1, false);
		mmio(PCI_ECAM_BASE + (slot << 15), 4, &e, false);
		id2 = (uint32_t)e;
		tap_ok(id1 == id2 && (id1 & 0xffff) != 0xffff,
		       "00:%02x.0: the vendor/device ID reads 0x%08x through 0xcfc and ECAM", slot,
		       id1);
	}
	return tap_done();
}
