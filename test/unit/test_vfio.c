// needs: devices/vfio_cfg.c
/*
 * test_vfio.c - the pure decisions of vfio-pci: address parsing, the
 * capability plan, BAR types, Status and Command merging, and the choice
 * of the fast path for a BAR.
 */
#include <errno.h>
#include <linux/pci_regs.h>
#include <string.h>

#include "../../devices/vfio.h"
#include "memmap.h"
#include "tap.h"

static void test_bdf(void)
{
	static const char *const bad[] = {
	    "",
	    "0000:00:03",
	    "0000:00:03.",
	    "0000:00:03.8",
	    "0000:00:20.0",
	    "0000:0g:03.0",
	    "0000-00:03.0",
	    "0000:00:03.0 ",
	    " 0000:00:03.0",
	    "00000:00:03.0",
	    "0000:000:03.0",
	    "0000:00:3.0",
	    "0000:00:03.00",
	    "+000:00:03.0",
	    "0000:00:03:0",
	    "edu",
	    "03.0",
	    "1:00.0",
	    "01:0.0",
	    "01:00.00",
	    "01:00:0",
	    "01:20.0",
	    "01.00.0",
	    " 1:00.0",
	};
	struct vfio_bdf b;
	char canon[13];

	tap_eq(vfio_parse_bdf("0000:00:03.0", &b, canon), 0, "0000:00:03.0 parses");
	tap_ok(b.domain == 0 && b.bus == 0 && b.dev == 3 && b.fn == 0, "fields 0/0/3/0");
	tap_ok(!strcmp(canon, "0000:00:03.0"), "canonical form kept");
	tap_eq(vfio_parse_bdf("ABCD:Ef:1F.7", &b, canon), 0, "upper and mixed case parse");
	tap_ok(b.domain == 0xabcd && b.bus == 0xef && b.dev == 0x1f && b.fn == 7,
	       "fields abcd/ef/1f/7");
	tap_ok(!strcmp(canon, "abcd:ef:1f.7"), "canonical form is lower case (as sysfs)");
	tap_eq(vfio_parse_bdf(NULL, &b, canon), -EINVAL, "NULL rejected");
	/* What lspci prints (no domain when it is 0): domain 0000. */
	tap_eq(vfio_parse_bdf("01:00.0", &b, canon), 0, "lspci's form 01:00.0 parses");
	tap_ok(b.domain == 0 && b.bus == 1 && b.dev == 0 && b.fn == 0 &&
		       !strcmp(canon, "0000:01:00.0"),
	       "lspci's form 01:00.0 is domain 0000: %s", canon);
	tap_eq(vfio_parse_bdf("Af:1f.7", &b, canon), 0, "lspci's form Af:1f.7 parses");
	tap_ok(!strcmp(canon, "0000:af:1f.7"), "lspci's form canonical: %s", canon);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_eq(vfio_parse_bdf(bad[i], &b, canon), -EINVAL, "'%s' rejected", bad[i]);
}

/* A config space with a capability chain built from (id, off, extra) triples. */
static void put16(uint8_t *c, unsigned off, uint16_t v)
{
	c[off] = (uint8_t)v;
	c[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *c, unsigned off, uint32_t v)
{
	put16(c, off, (uint16_t)v);
	put16(c, off + 2, (uint16_t)(v >> 16));
}

static void test_caps(void)
{
	uint8_t c[256];
	struct vfio_cap caps[VFIO_MAX_CAPS];
	int n;

	memset(c, 0, sizeof(c));
	tap_eq(vfio_caps_scan(c, caps, VFIO_MAX_CAPS), 0, "no Capabilities List bit: no caps");

	/* edu under QEMU 7.2: one MSI capability, 64-bit, not maskable. */
	put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
	c[PCI_CAPABILITY_LIST] = 0x40;
	c[0x40] = PCI_CAP_ID_MSI;
	c[0x41] = 0;
	put16(c, 0x42, PCI_MSI_FLAGS_64BIT);
	n = vfio_caps_scan(c, caps, VFIO_MAX_CAPS);
	tap_eq(n, 1, "edu: one capability");
	tap_ok(caps[0].id == PCI_CAP_ID_MSI && caps[0].off == 0x40 &&
		   caps[0].action == VFIO_CAP_EMULATE,
	       "edu: MSI at 0x40, emulated");
	tap_eq(caps[0].len, 14, "MSI 64-bit, no mask: 14 bytes");
	put16(c, 0x42, PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	tap_eq(vfio_cap_len(c, 0x40), 24, "MSI 64-bit with masks: 24 bytes");
	put16(c, 0x42, PCI_MSI_FLAGS_MASKBIT);
	tap_eq(vfio_cap_len(c, 0x40), 20, "MSI 32-bit with masks: 20 bytes");
	put16(c, 0x42, 0);
	tap_eq(vfio_cap_len(c, 0x40), 10, "MSI 32-bit: 10 bytes");

	/* A PCIe endpoint: PM -> MSI-X -> PCIe v2 -> VPD -> vendor. */
	memset(c, 0, sizeof(c));
	put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
	c[PCI_CAPABILITY_LIST] = 0x40;
	c[0x40] = PCI_CAP_ID_PM, c[0x41] = 0x50;
	c[0x50] = PCI_CAP_ID_MSIX, c[0x51] = 0x60;
	c[0x60] = PCI_CAP_ID_EXP, c[0x61] = 0xa0, c[0x62] = 2;
	c[0xa0] = PCI_CAP_ID_VPD, c[0xa1] = 0xb0;
	c[0xb0] = PCI_CAP_ID_VNDR, c[0xb1] = 0, c[0xb2] = 0x10;
	n = vfio_caps_scan(c, caps, VFIO_MAX_CAPS);
	tap_eq(n, 5, "endpoint: five capabilities");
	tap_ok(caps[0].action == VFIO_CAP_READONLY && caps[0].len == 8, "PM read-only, 8 bytes");
	tap_ok(caps[1].action == VFIO_CAP_EMULATE && caps[1].len == 12, "MSI-X emulated, 12 bytes");
	tap_ok(caps[2].action == VFIO_CAP_READONLY && caps[2].len == 0x32,
	       "PCIe v2 endpoint read-only, 0x32 bytes");
	tap_ok(caps[3].action == VFIO_CAP_HIDE, "VPD hidden");
	tap_ok(caps[4].action == VFIO_CAP_READONLY && caps[4].len == 0x10,
	       "vendor-specific read-only, its own length");
	c[0x62] = 1;
	tap_eq(vfio_cap_len(c, 0x60), 20, "PCIe v1 endpoint: 20 bytes");
	tap_eq(vfio_caps_scan(c, caps, 2), 2, "max respected");

	/* Hostile or broken chains. */
	c[0xb1] = 0x40;
	tap_eq(vfio_caps_scan(c, caps, VFIO_MAX_CAPS), -ELOOP, "loop back to the first: -ELOOP");
	c[0xb1] = 0xb0;
	tap_eq(vfio_caps_scan(c, caps, VFIO_MAX_CAPS), -ELOOP, "self loop: -ELOOP");
	c[0xb1] = 0x20;
	tap_eq(vfio_caps_scan(c, caps, VFIO_MAX_CAPS), -EINVAL, "pointer into the header: -EINVAL");
	c[0xb1] = 0x42;
	tap_eq(vfio_caps_scan(c, caps, VFIO_MAX_CAPS), -EINVAL, "unaligned pointer: -EINVAL");
	c[0xb1] = 0;
	c[0xb0] = 0x42; /* unknown id */
	n = vfio_caps_scan(c, caps, VFIO_MAX_CAPS);
	tap_ok(n == 5 && caps[4].action == VFIO_CAP_HIDE && caps[4].len == 0, "unknown id hidden");
	/* A capability running past 256 bytes is hidden. */
	memset(c, 0, sizeof(c));
	put16(c, PCI_STATUS, PCI_STATUS_CAP_LIST);
	c[PCI_CAPABILITY_LIST] = 0xfc;
	c[0xfc] = PCI_CAP_ID_MSIX;
	n = vfio_caps_scan(c, caps, VFIO_MAX_CAPS);
	tap_ok(n == 1 && caps[0].action == VFIO_CAP_HIDE, "MSI-X at 0xfc (past the end) hidden");
	tap_ok(!strcmp(vfio_cap_name(PCI_CAP_ID_MSIX), "MSI-X"), "cap names");
}

static void test_bars(void)
{
	uint8_t c[256];
	uint64_t sz[6] = {0};
	struct vfio_bar_desc b[6];

	/* edu: BAR0 32-bit memory, 1 MiB, the rest absent. */
	memset(c, 0, sizeof(c));
	sz[0] = 1 << 20;
	tap_eq(vfio_bars_decode(c, sz, b), 0, "edu BARs decode");
	tap_ok(b[0].type == PCI_BAR_MEM32 && b[0].size == (1 << 20) && !b[0].prefetch,
	       "edu BAR0: 32-bit memory, 1 MiB");
	tap_ok(b[1].type == PCI_BAR_UNUSED && b[5].type == PCI_BAR_UNUSED, "edu: others unused");

	/* I/O, 64-bit prefetchable pair, 32-bit. */
	memset(sz, 0, sizeof(sz));
	put32(c, PCI_BASE_ADDRESS_0, 0xc001);
	sz[0] = 32;
	put32(c, PCI_BASE_ADDRESS_1, PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	sz[1] = 1ULL << 33;
	put32(c, PCI_BASE_ADDRESS_3, 0xfe000000);
	sz[3] = 4096;
	tap_eq(vfio_bars_decode(c, sz, b), 0, "mixed BARs decode");
	tap_ok(b[0].type == PCI_BAR_IO && b[0].size == 32, "BAR0 I/O, 32 bytes");
	tap_ok(b[1].type == PCI_BAR_MEM64 && b[1].prefetch && b[1].size == 1ULL << 33,
	       "BAR1 64-bit prefetchable, 8 GiB");
	tap_ok(b[2].type == PCI_BAR_UNUSED && b[2].size == 0, "BAR2 is BAR1's upper half");
	tap_ok(b[3].type == PCI_BAR_MEM32 && b[3].size == 4096, "BAR3 32-bit, 4 KiB");

	sz[3] = 4095;
	tap_eq(vfio_bars_decode(c, sz, b), -EINVAL, "size not a power of two: -EINVAL");
	sz[3] = 4096;
	put32(c, PCI_BASE_ADDRESS_5, PCI_BASE_ADDRESS_MEM_TYPE_64);
	sz[5] = 4096;
	tap_eq(vfio_bars_decode(c, sz, b), -EINVAL, "64-bit BAR in slot 5: -EINVAL");
	sz[5] = 0;
	sz[0] = 2;
	tap_eq(vfio_bars_decode(c, sz, b), -EINVAL, "I/O BAR of 2 bytes: -EINVAL");
}

static void test_status_command(void)
{
	/* Interrupt status and errors from the device, cap list from kvmini. */
	tap_eq(vfio_status_merge(PCI_STATUS_CAP_LIST, PCI_STATUS_INTERRUPT), 0x0018,
	       "INTx status live, cap list emulated");
	tap_eq(vfio_status_merge(0, PCI_STATUS_CAP_LIST), 0, "device's cap list bit not shown");
	tap_eq(vfio_status_merge(PCI_STATUS_REC_MASTER_ABORT, 0), 0, "emulated error bits ignored");
	tap_eq(vfio_status_merge(0, 0xf900 | PCI_STATUS_DEVSEL_MEDIUM), 0xfb00,
	       "device error bits and DEVSEL shown");
	tap_eq(vfio_status_merge(0xffff, 0x0007), 0x0010, "reserved bits 0-2 read 0");

	tap_eq(vfio_command_merge(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, PCI_COMMAND_SERR),
	       0x0106, "memory and bus master from the guest, SERR kept");
	tap_eq(vfio_command_merge(0, 0x0407), 0, "guest turning everything off");
	tap_eq(vfio_command_merge(PCI_COMMAND_INTX_DISABLE | PCI_COMMAND_SPECIAL, 0), 0x0400,
	       "INTx disable passed, special cycles not");
}

static void test_fast_path(void)
{
	const uint64_t pg = 4096;
	struct vfio_area all[1] = {{0, 1 << 20}};
	struct vfio_area two[2] = {{0, 0x2000}, {0x3000, 0xd000}};
	struct vfio_area hole[1] = {{0x2000, 0x100}};
	struct vfio_area hole2[2] = {{0x2000, 0x800}, {0x2800, 8}};

	tap_ok(vfio_fast_path_ok(1 << 20, NULL, 0, NULL, 0, pg), "whole region mmap-able: fast");
	tap_ok(!vfio_fast_path_ok(256, NULL, 0, NULL, 0, pg), "256-byte BAR: trapped");
	tap_ok(vfio_fast_path_ok(1 << 20, all, 1, NULL, 0, pg),
	       "one sparse area covering all: fast");
	tap_ok(!vfio_fast_path_ok(0x10000, two, 2, NULL, 0, pg),
	       "sparse areas with an unexplained hole: trapped");
	tap_ok(vfio_fast_path_ok(0x10000, two, 2, hole, 1, pg),
	       "the hole is the MSI-X page the core traps: fast");
	tap_ok(vfio_fast_path_ok(0x10000, two, 2, hole2, 2, pg), "table and PBA in one page: fast");
	tap_ok(!vfio_fast_path_ok(0x20000, two, 2, hole, 1, pg),
	       "areas end before the BAR: trapped");
	tap_ok(!vfio_fast_path_ok(0x10000, two, 0, NULL, 0, pg),
	       "sparse capability with no areas: trapped");
	/* virtio-rng under QEMU: a 4 KiB BAR holding table and PBA only. */
	struct vfio_area none[1] = {{0, 0}};
	struct vfio_area rng[2] = {{0, 32}, {0x800, 8}};

	tap_ok(vfio_fast_path_ok(0x1000, none, 1, rng, 2, pg),
	       "BAR that is all MSI-X pages: nothing left to map");
	tap_ok(!vfio_fast_path_ok(0x2000, none, 1, rng, 2, pg),
	       "one page beyond the MSI-X page, no area: trapped");
}

static void test_span(void)
{
	unsigned lo = 0, hi = 0;

	/* virtio's PCI cfg window cap at 0xa4, 20 bytes: body 0xa6..0xb8. */
	tap_ok(vfio_span_overlap(0xb4, 4, 0xa6, 18, &lo, &hi) && lo == 0xb4 && hi == 0xb8,
	       "dword read of the window's data register: all four bytes live");
	tap_ok(vfio_span_overlap(0xa4, 4, 0xa6, 18, &lo, &hi) && lo == 0xa6 && hi == 0xa8,
	       "dword over the header: only the two body bytes");
	tap_ok(!vfio_span_overlap(0xa4, 2, 0xa6, 18, &lo, &hi), "ID and next pointer: not live");
	tap_ok(!vfio_span_overlap(0xb8, 4, 0xa6, 18, &lo, &hi), "the next cap: not live");
	tap_ok(vfio_span_overlap(0xb6, 4, 0xa6, 18, &lo, &hi) && lo == 0xb6 && hi == 0xb8,
	       "access running past the end: clipped");
	tap_ok(!vfio_span_overlap(0x10, 0, 0x10, 4, &lo, &hi), "empty access: nothing");
}

/* --vfio-backend: auto prefers iommufd only when all of it is there; an
 * explicit iommufd on a host without it is an error with the reason. */
static void test_backend_choice(void)
{
	enum vfio_backend b;
	const char *why = NULL;

	tap_ok(!vfio_backend_parse("auto", &b) && b == VFIO_BACKEND_AUTO, "parse auto");
	tap_ok(!vfio_backend_parse("container", &b) && b == VFIO_BACKEND_CONTAINER,
	       "parse container");
	tap_ok(!vfio_backend_parse("iommufd", &b) && b == VFIO_BACKEND_IOMMUFD, "parse iommufd");
	tap_eq(vfio_backend_parse("IOMMUFD", &b), -EINVAL, "parse is exact: IOMMUFD refused");
	tap_eq(vfio_backend_parse("", &b), -EINVAL, "parse: empty refused");

	tap_eq(vfio_backend_choose(VFIO_BACKEND_AUTO, true, VFIO_CDEV_OK, &why),
	       VFIO_BACKEND_IOMMUFD, "auto with /dev/iommu and a cdev: iommufd");
	tap_ok(why && strstr(why, "auto:"), "  reason says auto (%s)", why);
	tap_eq(vfio_backend_choose(VFIO_BACKEND_AUTO, false, VFIO_CDEV_OK, &why),
	       VFIO_BACKEND_CONTAINER, "auto without /dev/iommu: container");
	tap_ok(strstr(why, "no /dev/iommu") != NULL, "  reason names /dev/iommu (%s)", why);
	tap_eq(vfio_backend_choose(VFIO_BACKEND_AUTO, true, VFIO_CDEV_NONE, &why),
	       VFIO_BACKEND_CONTAINER, "auto without a cdev: container");
	tap_ok(strstr(why, "CONFIG_VFIO_DEVICE_CDEV") != NULL, "  reason names the option (%s)",
	       why);
	tap_eq(vfio_backend_choose(VFIO_BACKEND_AUTO, true, VFIO_CDEV_NO_NODE, &why),
	       VFIO_BACKEND_CONTAINER, "auto with a cdev but no /dev node: container");
	tap_eq(vfio_backend_choose(VFIO_BACKEND_CONTAINER, true, VFIO_CDEV_OK, &why),
	       VFIO_BACKEND_CONTAINER, "container asked for: container, even with iommufd there");
	tap_eq(vfio_backend_choose(VFIO_BACKEND_IOMMUFD, true, VFIO_CDEV_OK, &why),
	       VFIO_BACKEND_IOMMUFD, "iommufd asked for and there: iommufd");
	tap_eq(vfio_backend_choose(VFIO_BACKEND_IOMMUFD, false, VFIO_CDEV_NONE, &why), -ENODEV,
	       "iommufd asked for, no /dev/iommu: refused");
	tap_ok(strstr(why, "CONFIG_IOMMUFD") != NULL, "  reason names CONFIG_IOMMUFD (%s)", why);
	tap_eq(vfio_backend_choose(VFIO_BACKEND_IOMMUFD, true, VFIO_CDEV_NONE, &why), -ENODEV,
	       "iommufd asked for, no cdev: refused");
	tap_eq(vfio_backend_choose(VFIO_BACKEND_IOMMUFD, true, VFIO_CDEV_NO_NODE, &why), -ENODEV,
	       "iommufd asked for, cdev without a node: refused");
}

/* VT-d registers: bit positions from the VT-d spec, 11.4.2 and 11.4.3. */
static void test_vtd_decode(void)
{
	char buf[400];
	/* SAGAW bit 2 (48-bit, 4-level), MGAW 39 (38 in 21:16), CM bit 7. */
	uint64_t cap = (1ull << 10) | (38ull << 16) | (1ull << 7);

	vfio_vtd_decode(cap, 0, buf, sizeof(buf));
	tap_ok(strstr(buf, "nesting no, pass-through no, dirty tracking no") != NULL,
	       "ecap 0: nothing offered (%s)", buf);
	tap_ok(strstr(buf, "MGAW 39 bits") && strstr(buf, "SAGAW 0x4 (48-bit)") &&
		   strstr(buf, "caching mode yes"),
	       "cap: widths and caching mode");
	vfio_vtd_decode(0, 1ull << 6, buf, sizeof(buf));
	tap_ok(strstr(buf, "pass-through yes") && strstr(buf, "nesting no"), "ecap bit 6: PT");
	vfio_vtd_decode(0, 1ull << 26, buf, sizeof(buf));
	tap_ok(strstr(buf, "nesting yes") && strstr(buf, "pass-through no"), "ecap bit 26: NEST");
	vfio_vtd_decode(0, 1ull << 45, buf, sizeof(buf));
	tap_ok(strstr(buf, "dirty tracking no") != NULL,
	       "ecap SSADS (45) without scalable mode: no dirty tracking");
	vfio_vtd_decode(0, (1ull << 45) | (1ull << 43), buf, sizeof(buf));
	tap_ok(strstr(buf, "dirty tracking yes") && strstr(buf, "scalable mode yes"),
	       "ecap SSADS (45) + SMTS (43): dirty tracking");
	vfio_vtd_decode(0, (1ull << 3) | (1ull << 1), buf, sizeof(buf));
	tap_ok(strstr(buf, "IR yes, QI yes") != NULL, "ecap bits 3, 1: IR, QI");
}

/* Several --vfio: slots and functions on the guest's bus (issue 21). */
static void test_place(void)
{
	struct vfio_bdf b[PCI_MAX_VFIO + 1];
	struct vfio_place at[PCI_MAX_VFIO + 1];
	unsigned dup = 99;

	vfio_parse_bdf("0000:00:03.0", &b[0], NULL);
	vfio_parse_bdf("0000:01:00.0", &b[1], NULL);
	vfio_parse_bdf("0000:01:00.1", &b[2], NULL);
	vfio_parse_bdf("0000:02:00.3", &b[3], NULL);
	tap_eq(vfio_place(b, 4, at, &dup), 0, "four devices, three host slots: placed");
	tap_ok(at[0].slot == PCI_SLOT_VFIO && at[0].fn == 0 && !at[0].multi,
	       "the first keeps slot %d, function 0, single-function (got %u.%u)", PCI_SLOT_VFIO,
	       at[0].slot, at[0].fn);
	tap_ok(at[1].slot == PCI_SLOT_VFIO_N(1) && at[1].fn == 0 && at[1].multi &&
		   at[2].slot == PCI_SLOT_VFIO_N(1) && at[2].fn == 1 && at[2].multi,
	       "01:00.0 and 01:00.1 share the next slot as functions 0 and 1, multi-function "
	       "(got %u.%u, %u.%u)",
	       at[1].slot, at[1].fn, at[2].slot, at[2].fn);
	tap_ok(at[3].slot == PCI_SLOT_VFIO_N(2) && at[3].fn == 0 && !at[3].multi,
	       "02:00.3 alone: a slot of its own, as function 0 (got %u.%u)", at[3].slot,
	       at[3].fn);

	/* Functions 1 and 3 of one slot without its function 0: the lowest
	 * becomes function 0, the other keeps its number. */
	vfio_parse_bdf("0000:05:00.3", &b[0], NULL);
	vfio_parse_bdf("0000:05:00.1", &b[1], NULL);
	tap_eq(vfio_place(b, 2, at, NULL), 0, "05:00.3 and 05:00.1: placed");
	tap_ok(at[0].fn == 3 && at[1].fn == 0 && at[0].slot == at[1].slot && at[0].multi,
	       "the guest sees function 0 (05:00.1) and function 3 (got %u and %u)", at[1].fn,
	       at[0].fn);

	/* The same device twice, even with another function between. */
	vfio_parse_bdf("0000:01:00.0", &b[0], NULL);
	vfio_parse_bdf("0000:01:00.1", &b[1], NULL);
	vfio_parse_bdf("0000:01:00.1", &b[2], NULL);
	tap_ok(vfio_place(b, 3, at, &dup) == -EEXIST && dup == 2,
	       "01:00.1 given twice: -EEXIST, the second one named (index %u)", dup);
	tap_ok(vfio_place(b, 1, at, &dup) == 0, "one device: placed");

	/* Eight distinct slots: 2 and 6 .. 12; a ninth is refused. */
	for (unsigned i = 0; i <= PCI_MAX_VFIO; i++)
		b[i] = (struct vfio_bdf){0, 1, i, 0};
	tap_eq(vfio_place(b, PCI_MAX_VFIO, at, NULL), 0, "eight devices in eight slots: placed");
	tap_ok(at[PCI_MAX_VFIO - 1].slot == 12 && at[1].slot == 6,
	       "the slots run 2, 6 .. 12 (last: %u)", at[PCI_MAX_VFIO - 1].slot);
	tap_eq(vfio_place(b, PCI_MAX_VFIO + 1, at, NULL), -ENOSPC, "a ninth: -ENOSPC");
}

/* Who may share an IOMMU group with an assigned device (issue 21). */
static void test_group_member(void)
{
	tap_ok(vfio_group_member_ok(0, "vfio-pci"), "an endpoint bound to vfio-pci: free");
	tap_ok(vfio_group_member_ok(0x80, ""), "an endpoint with no driver (multi-function bit set): free");
	tap_ok(vfio_group_member_ok(0, NULL), "no driver (NULL): free");
	tap_ok(vfio_group_member_ok(0, "pci-stub"), "pci-stub: free");
	tap_ok(!vfio_group_member_ok(0, "serial"), "an endpoint bound to serial: holds the group");
	tap_ok(!vfio_group_member_ok(0x80, "e1000e"), "a function bound to e1000e: holds the group");
	tap_ok(vfio_group_member_ok(1, "pcieport"), "a bridge (header type 1) with its driver: left alone");
	tap_ok(vfio_group_member_ok(0x81, ""), "a multi-function bridge: left alone");
}

int main(void)
{
	test_place();
	test_group_member();
	test_backend_choice();
	test_vtd_decode();
	test_span();
	test_bdf();
	test_caps();
	test_bars();
	test_status_command();
	test_fast_path();
	return tap_done();
}
