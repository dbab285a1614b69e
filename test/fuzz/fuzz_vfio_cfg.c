// SPDX-License-Identifier: MIT
// needs: devices/vfio_cfg.c
/*
 * fuzz_vfio_cfg.c - the decisions vfio-pci takes from the assigned
 * device's own config space and the kernel's region facts
 * (devices/vfio_cfg.c): the capability walk, capability lengths, BAR
 * decoding, and the fast-path test.  A device is not to be trusted either:
 * its capability list can loop or point anywhere.
 *
 * Invariants, on top of ASan/UBSan (config space is an exact 256-byte heap
 * buffer):
 *  - the walk ends (no hang), returns at most max entries, each at a
 *    distinct, dword-aligned offset in [0x40, 0xfc], and a known length
 *    never runs past byte 255; an emulated or read-only capability has a
 *    known length;
 *  - decoded BARs: a 64-bit BAR is followed by an unused slot, sizes are
 *    powers of two (I/O >= 4, memory >= 16), none in slot 5 is 64-bit;
 *  - the BDF parser accepts only 12-character strings it can print back.
 */
#include <string.h>

#include "../../devices/vfio.h"
#include "stubs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct vfio_cap caps[VFIO_MAX_CAPS];
	struct vfio_bar_desc bars[6];
	uint64_t region[6];
	uint8_t *cfg = malloc(256);

	if (!cfg)
		abort();
	int max = (int)(fuzz_take(&in, 1) % (VFIO_MAX_CAPS + 1));
	for (int i = 0; i < 6; i++) {
		uint8_t s = (uint8_t)fuzz_take(&in, 1);
		region[i] =
		    s & 0x80 ? (uint64_t)fuzz_take(&in, 8) : (s & 0x40 ? 0 : 1ULL << (s % 64));
	}
	memset(cfg, 0, 256);
	memcpy(cfg, in.p, in.n < 256 ? in.n : 256);

	int n = vfio_caps_scan(cfg, caps, max);
	FUZZ_CHECK(n <= max, "at most max capabilities");
	for (int i = 0; i < n; i++) {
		FUZZ_CHECK(caps[i].off >= 0x40 && caps[i].off <= 0xfc && !(caps[i].off & 3),
			   "capability offset sane");
		FUZZ_CHECK(caps[i].off + caps[i].len <= 256, "capability inside config space");
		if (caps[i].action != VFIO_CAP_HIDE)
			FUZZ_CHECK(caps[i].len >= 2, "a shown capability has a known length");
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(caps[j].off != caps[i].off, "capability offsets distinct");
		(void)vfio_cap_name(caps[i].id);
	}
	for (unsigned off = 0; off < 256; off++)
		FUZZ_CHECK(off + vfio_cap_len(cfg, (uint8_t)off) <= 256, "cap length bounded");

	if (vfio_bars_decode(cfg, region, bars) == 0) {
		for (int i = 0; i < 6; i++) {
			if (bars[i].type == PCI_BAR_UNUSED)
				continue;
			FUZZ_CHECK(bars[i].size && !(bars[i].size & (bars[i].size - 1)),
				   "BAR size a power of two");
			FUZZ_CHECK(bars[i].size >= (bars[i].type == PCI_BAR_IO ? 4u : 16u),
				   "BAR size at least the minimum");
			if (bars[i].type == PCI_BAR_MEM64) {
				FUZZ_CHECK(i < 5 && bars[i + 1].type == PCI_BAR_UNUSED,
					   "64-bit BAR takes the next slot");
				i++;
			}
		}
	}

	/* Sparse areas and holes from the bytes after the config space. */
	struct vfio_area sp[4], ho[2];
	uint64_t page = 4096, bsize = (uint64_t)(cfg[0x10] % 8 + 1) * page;
	for (int i = 0; i < 4; i++)
		sp[i] = (struct vfio_area){(uint64_t)cfg[0x40 + i] * 1024,
					   (uint64_t)cfg[0x44 + i] * 1024};
	for (int i = 0; i < 2; i++)
		ho[i] =
		    (struct vfio_area){(uint64_t)cfg[0x48 + i] * 64, (uint64_t)cfg[0x4a + i] * 64};
	(void)vfio_fast_path_ok(bsize, cfg[0x11] & 1 ? NULL : sp, cfg[0x12] % 5, ho, cfg[0x13] % 3,
				page);

	char s[13], canon[13];
	struct vfio_bdf b;
	memcpy(s, cfg + 0x80, 12);
	s[12] = 0;
	if (vfio_parse_bdf(s, &b, canon) == 0) {
		FUZZ_CHECK((strlen(s) == 12 && !strcasecmp(s, canon)) ||
				   (strlen(s) == 7 && !strncmp(canon, "0000:", 5) &&
				    !strcasecmp(s, canon + 5)),
			   "BDF round-trips (lspci's short form: domain 0000)");
		FUZZ_CHECK(b.dev <= 0x1f && b.fn <= 7, "BDF fields in range");
	}
	free(cfg);
	return 0;
}
