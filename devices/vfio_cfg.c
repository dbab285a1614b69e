// SPDX-License-Identifier: MIT
/*
 * vfio_cfg.c - the decisions of vfio-pci that need no kernel: parsing the
 * device address, planning the capability list, BAR types, the live Status
 * bits, the Command bits handed to the device, and whether a BAR can take
 * the fast path.  Kept apart from vfio.c so unit tests can link it alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <linux/pci_regs.h>
#include <stdio.h>
#include <string.h>

#include "memmap.h"

#include "vfio.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n hex digits at s, nothing else. */
static int hexfield(const char *s, unsigned n, unsigned *out)
{
	unsigned v = 0;

	for (unsigned i = 0; i < n; i++) {
		int h = hexval(s[i]);

		if (h < 0)
			return -EINVAL;
		v = v << 4 | (unsigned)h;
	}
	*out = v;
	return 0;
}

int vfio_parse_bdf(const char *s, struct vfio_bdf *out, char canon[13])
{
	struct vfio_bdf b = {.domain = 0};

	/* The full form sysfs uses, or lspci's BB:DD.F, which is domain 0000
	 * (lspci leaves the domain out only when it is 0).  Nothing shorter:
	 * "03.0" would leave room for guessing which bus is meant. */
	if (s && strlen(s) == 7) {
		if (s[2] != ':' || s[5] != '.' || hexfield(s, 2, &b.bus) ||
		    hexfield(s + 3, 2, &b.dev) || hexfield(s + 6, 1, &b.fn))
			return -EINVAL;
	} else if (!s || strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.' ||
		   hexfield(s, 4, &b.domain) || hexfield(s + 5, 2, &b.bus) ||
		   hexfield(s + 8, 2, &b.dev) || hexfield(s + 11, 1, &b.fn)) {
		return -EINVAL;
	}
	if (b.dev > 0x1f || b.fn > 7)
		return -EINVAL;
	if (out)
		*out = b;
	if (canon)
		snprintf(canon, 13, "%04x:%02x:%02x.%x", b.domain, b.bus, b.dev, b.fn);
	return 0;
}

const char *vfio_cap_name(uint8_t id)
{
	switch (id) {
	case PCI_CAP_ID_PM: return "power management";
	case PCI_CAP_ID_VPD: return "VPD";
	case PCI_CAP_ID_MSI: return "MSI";
	case PCI_CAP_ID_VNDR: return "vendor-specific";
	case PCI_CAP_ID_SSVID: return "bridge subsystem ID";
	case PCI_CAP_ID_EXP: return "PCI Express";
	case PCI_CAP_ID_MSIX: return "MSI-X";
	case PCI_CAP_ID_AF: return "advanced features";
	default: return "unknown";
	}
}

unsigned vfio_cap_len(const uint8_t *cfg, uint8_t off)
{
	unsigned len;

	if (off < PCI_STD_HEADER_SIZEOF || off > 0xfc)
		return 0;
	switch (cfg[off]) {
	case PCI_CAP_ID_PM: len = PCI_PM_SIZEOF; break;
	case PCI_CAP_ID_MSI: {
		uint16_t flags = cfg[off + 2] | cfg[off + 3] << 8;

		/* id/next, flags, address (4 or 8), data, then with
		 * per-vector masking: reserved, mask bits, pending bits. */
		len = 4 + ((flags & PCI_MSI_FLAGS_64BIT) ? 8 : 4) + 2;
		if (flags & PCI_MSI_FLAGS_MASKBIT)
			len += 2 + 4 + 4;
		break;
	}
	case PCI_CAP_ID_VNDR:
		/* The byte after id/next holds the length (PCI 3.0, 6.8.x). */
		len = cfg[off + 2] < 3 ? 3 : cfg[off + 2];
		break;
	case PCI_CAP_ID_SSVID: len = 8; break;
	case PCI_CAP_ID_EXP:
		len = (cfg[off + 2] & PCI_EXP_FLAGS_VERS) >= 2 ? PCI_CAP_EXP_ENDPOINT_SIZEOF_V2
							       : PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
		break;
	case PCI_CAP_ID_MSIX: len = PCI_CAP_MSIX_SIZEOF; break;
	case PCI_CAP_ID_AF: len = PCI_CAP_AF_SIZEOF; break;
	case PCI_CAP_ID_VPD: len = PCI_CAP_VPD_SIZEOF; break;
	default: return 0; /* unknown layout */
	}
	if (off + len > 256)
		return 0;
	return len;
}

static enum vfio_cap_action cap_action(uint8_t id, unsigned len)
{
	if (len == 0)
		return VFIO_CAP_HIDE;
	switch (id) {
	case PCI_CAP_ID_MSI:
	case PCI_CAP_ID_MSIX: return VFIO_CAP_EMULATE;
	case PCI_CAP_ID_PM:   /* the guest sees D0 and cannot leave it */
	case PCI_CAP_ID_EXP:  /* link and device facts; control writes dropped */
	case PCI_CAP_ID_VNDR: /* drivers read their own layout here */
	case PCI_CAP_ID_SSVID:
	case PCI_CAP_ID_AF: return VFIO_CAP_READONLY;
	default:
		/* VPD needs an address/data handshake with the device, the
		 * rest are rare or bridge-only: show nothing rather than a
		 * register that lies. */
		return VFIO_CAP_HIDE;
	}
}

int vfio_caps_scan(const uint8_t *cfg, struct vfio_cap *caps, int max)
{
	uint8_t seen[256 / 8] = {0};
	uint16_t status = cfg[PCI_STATUS] | cfg[PCI_STATUS + 1] << 8;
	unsigned off;
	int n = 0;

	if (!(status & PCI_STATUS_CAP_LIST))
		return 0;
	off = cfg[PCI_CAPABILITY_LIST];
	while (off) {
		/* The two low bits of a pointer are reserved (PCI 3.0, 6.7):
		 * a device that sets them is broken, not to be guessed at. */
		if (off & 3 || off < PCI_STD_HEADER_SIZEOF || off > 0xfc)
			return -EINVAL;
		if (seen[off / 8] & (1u << (off % 8)))
			return -ELOOP;
		seen[off / 8] |= (uint8_t)(1u << (off % 8));
		if (n < max) {
			unsigned len = vfio_cap_len(cfg, (uint8_t)off);

			caps[n].id = cfg[off];
			caps[n].off = (uint8_t)off;
			caps[n].len = (uint8_t)len;
			caps[n].action = cap_action(cfg[off], len);
			n++;
		}
		off = cfg[off + 1];
	}
	return n;
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int vfio_bars_decode(const uint8_t *cfg, const uint64_t region_size[6],
		     struct vfio_bar_desc bars[6])
{
	memset(bars, 0, 6 * sizeof(*bars));
	for (int i = 0; i < 6; i++) {
		unsigned o = PCI_BASE_ADDRESS_0 + 4 * i;
		uint32_t v =
		    cfg[o] | cfg[o + 1] << 8 | cfg[o + 2] << 16 | (uint32_t)cfg[o + 3] << 24;
		uint64_t size = region_size[i];

		if (!size)
			continue;
		if (!is_pow2(size))
			return -EINVAL;
		bars[i].size = size;
		if (v & PCI_BASE_ADDRESS_SPACE_IO) {
			if (size < 4)
				return -EINVAL;
			bars[i].type = PCI_BAR_IO;
			continue;
		}
		if (size < 16)
			return -EINVAL;
		bars[i].prefetch = v & PCI_BASE_ADDRESS_MEM_PREFETCH;
		if ((v & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64) {
			if (i == 5)
				return -EINVAL;
			bars[i].type = PCI_BAR_MEM64;
			i++; /* the upper half is part of this BAR */
			bars[i].type = PCI_BAR_UNUSED;
			bars[i].size = 0;
		} else {
			/* Type 01 ("below 1 MiB") is obsolete: any 32-bit
			 * address is as good for it. */
			bars[i].type = PCI_BAR_MEM32;
		}
	}
	return 0;
}

uint16_t vfio_status_merge(uint16_t emulated, uint16_t real)
{
	/* Bits 0-2 reserved, 3 interrupt status, 4 capabilities list, 5 66 MHz,
	 * 7 fast back-to-back, 8 and 11-15 errors, 9-10 DEVSEL timing. */
	const uint16_t live = PCI_STATUS_INTERRUPT | PCI_STATUS_66MHZ | PCI_STATUS_FAST_BACK |
			      PCI_STATUS_DEVSEL_MASK | VFIO_STATUS_W1C;

	return (uint16_t)((real & live) | (emulated & PCI_STATUS_CAP_LIST));
}

bool vfio_span_overlap(unsigned off, unsigned len, unsigned foff, unsigned flen, unsigned *lo,
		       unsigned *hi)
{
	unsigned a = off > foff ? off : foff;
	unsigned b = off + len < foff + flen ? off + len : foff + flen;

	if (a >= b)
		return false;
	*lo = a;
	*hi = b;
	return true;
}

uint16_t vfio_command_merge(uint16_t guest, uint16_t real)
{
	const uint16_t mask =
	    PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE;

	return (uint16_t)((real & ~mask) | (guest & mask));
}

static bool in_any(uint64_t p, uint64_t page, const struct vfio_area *a, unsigned n, uint64_t *end)
{
	for (unsigned i = 0; i < n; i++) {
		if (p >= a[i].off && p + page <= a[i].off + a[i].size) {
			*end = a[i].off + a[i].size;
			return true;
		}
	}
	return false;
}

bool vfio_fast_path_ok(uint64_t size, const struct vfio_area *sparse, unsigned nsparse,
		       const struct vfio_area *holes, unsigned nholes, uint64_t page)
{
	uint64_t p = 0;

	/* A memory slot is made of whole pages. */
	if (size < page || size % page)
		return false;
	if (!sparse)
		return true;
	while (p < size) {
		uint64_t end;
		bool hole = false;

		for (unsigned i = 0; i < nholes; i++) {
			uint64_t hs = holes[i].off & ~(page - 1);
			uint64_t he = (holes[i].off + holes[i].size + page - 1) & ~(page - 1);

			if (holes[i].size && p >= hs && p < he) {
				p = he;
				hole = true;
				break;
			}
		}
		if (hole)
			continue;
		if (!in_any(p, page, sparse, nsparse, &end))
			return false;
		end &= ~(page - 1);
		p = end > p ? end : p + page;
	}
	return true;
}

int vfio_backend_parse(const char *s, enum vfio_backend *out)
{
	static const char *const names[] = {
	    [VFIO_BACKEND_AUTO] = "auto",
	    [VFIO_BACKEND_CONTAINER] = "container",
	    [VFIO_BACKEND_IOMMUFD] = "iommufd",
	};

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (s && !strcmp(s, names[i])) {
			*out = (enum vfio_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}

int vfio_backend_choose(enum vfio_backend want, bool has_dev_iommu, enum vfio_cdev_state cdev,
			const char **why)
{
	switch (want) {
	case VFIO_BACKEND_CONTAINER:
		*why = "asked for with --vfio-backend container";
		return VFIO_BACKEND_CONTAINER;
	case VFIO_BACKEND_IOMMUFD:
		if (!has_dev_iommu) {
			*why = "no /dev/iommu (the kernel lacks CONFIG_IOMMUFD)";
			return -ENODEV;
		}
		if (cdev == VFIO_CDEV_NONE) {
			*why = "the device has no VFIO cdev (the kernel lacks "
			       "CONFIG_VFIO_DEVICE_CDEV)";
			return -ENODEV;
		}
		if (cdev == VFIO_CDEV_NO_NODE) {
			*why = "the device's VFIO cdev has no node under /dev/vfio/devices";
			return -ENODEV;
		}
		*why = "asked for with --vfio-backend iommufd";
		return VFIO_BACKEND_IOMMUFD;
	case VFIO_BACKEND_AUTO: break;
	}
	/* auto: the newer interface whenever the host offers all of it. */
	if (!has_dev_iommu)
		*why = "auto: no /dev/iommu (kernel without CONFIG_IOMMUFD)";
	else if (cdev == VFIO_CDEV_NONE)
		*why = "auto: /dev/iommu, but no VFIO cdev for the device (kernel without "
		       "CONFIG_VFIO_DEVICE_CDEV)";
	else if (cdev == VFIO_CDEV_NO_NODE)
		*why = "auto: /dev/iommu, but the device's cdev has no /dev/vfio/devices node";
	else {
		*why = "auto: /dev/iommu and the device's cdev are there";
		return VFIO_BACKEND_IOMMUFD;
	}
	return VFIO_BACKEND_CONTAINER;
}

/* VT-d 11.4.2 Capability Register: CM bit 7, SAGAW 12:8 (bit n: a 2+n
 * level table, 39/48/57-bit), MGAW 21:16 (width - 1).
 * VT-d 11.4.3 Extended Capability Register: QI 1, IR 3, PT 6 (pass-through
 * translation type), SC 7, NEST 26 (nested translation), SMTS 43 (scalable
 * mode), SSADS 45 (accessed/dirty bits in second-stage tables: what
 * dirty tracking of DMA needs, with scalable mode), SSTS 46, FSTS 47. */
int vfio_vtd_decode(uint64_t cap, uint64_t ecap, char *buf, size_t len)
{
#define BIT(r, n) (((r) >> (n)) & 1)
	static const char *const levels[5] = {"", "39-bit", "48-bit", "57-bit", ""};
	unsigned sagaw = (unsigned)(cap >> 8) & 0x1f;
	char widths[32] = "";
	size_t used = 0;

	for (unsigned n = 1; n < 4; n++)
		if (sagaw & (1u << n))
			used += (size_t)snprintf(widths + used, sizeof(widths) - used, "%s%s",
						 used ? "/" : "", levels[n]);
	return snprintf(
	    buf, len,
	    "nesting %s, pass-through %s, dirty tracking %s; MGAW %u bits, SAGAW "
	    "0x%x (%s), caching mode %s, scalable mode %s, first-stage %s, "
	    "second-stage %s, IR %s, QI %s, snoop control %s",
	    BIT(ecap, 26) ? "yes" : "no", BIT(ecap, 6) ? "yes" : "no",
	    BIT(ecap, 45) && BIT(ecap, 43) ? "yes" : "no", (unsigned)((cap >> 16) & 0x3f) + 1,
	    sagaw, used ? widths : "none", BIT(cap, 7) ? "yes" : "no", BIT(ecap, 43) ? "yes" : "no",
	    BIT(ecap, 47) ? "yes" : "no", BIT(ecap, 46) ? "yes" : "no", BIT(ecap, 3) ? "yes" : "no",
	    BIT(ecap, 1) ? "yes" : "no", BIT(ecap, 7) ? "yes" : "no");
#undef BIT
}

int vfio_errf(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* ---- several devices: guest placement, group members ------------------- */

int vfio_place(const struct vfio_bdf *b, unsigned n, struct vfio_place *out, unsigned *dup)
{
	unsigned host_slot[PCI_MAX_VFIO]; /* for each device: its guest slot index k */
	unsigned nslots = 0;

	if (n > PCI_MAX_VFIO)
		return -ENOSPC;
	for (unsigned i = 0; i < n; i++) {
		host_slot[i] = nslots;
		for (unsigned j = 0; j < i; j++) {
			bool same_slot = b[j].domain == b[i].domain && b[j].bus == b[i].bus &&
					 b[j].dev == b[i].dev;

			if (same_slot && b[j].fn == b[i].fn) {
				if (dup)
					*dup = i;
				return -EEXIST;
			}
			if (same_slot && host_slot[i] == nslots)
				host_slot[i] = host_slot[j];
		}
		if (host_slot[i] == nslots)
			nslots++;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned members = 0, lowest = 8;
		bool has_fn0 = false;

		for (unsigned j = 0; j < n; j++) {
			if (host_slot[j] != host_slot[i])
				continue;
			members++;
			has_fn0 |= b[j].fn == 0;
			if (b[j].fn < lowest)
				lowest = b[j].fn;
		}
		out[i].slot = (uint8_t)PCI_SLOT_VFIO_N(host_slot[i]);
		out[i].fn = (uint8_t)(!has_fn0 && b[i].fn == lowest ? 0 : b[i].fn);
		out[i].multi = members > 1;
	}
	return 0;
}

bool vfio_group_member_ok(unsigned header_type, const char *driver)
{
	if ((header_type & 0x7f) != 0) /* a bridge: not assigned, may stay driven */
		return true;
	return !driver || !*driver || !strcmp(driver, "vfio-pci") || !strcmp(driver, "pci-stub");
}
