// SPDX-License-Identifier: MIT
// needs: vmm/loader.c
/*
 * fuzz_pvh.c - the PVH ELF loader (vmm/loader.c) on any file the user
 * names with --kernel: pvh_parse(), then, when it accepts the image,
 * pvh_load() into guest RAM, exactly as kvmini does.
 *
 * Invariants, on top of ASan/UBSan (the file and RAM are heap buffers of
 * their exact sizes):
 *  - an accepted image has 1..LOADER_MAX_SEGS segments, each with
 *    filesz <= memsz, its file bytes inside the file, its memory inside
 *    RAM and above the boot structures, and the entry inside a segment;
 *  - a refused image says why (a non-empty message);
 *  - pvh_load() of an accepted image never dies (die() aborts here).
 */
#include <string.h>

#include "../../vmm/loader.h"
#include "memmap.h"
#include "stubs.h"

#define RAM_SIZE (4u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ram_ready;
	struct pvh_image img;
	char err[256] = "";

	/* A copy of exactly size bytes, so a read past the file is caught. */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	if (!ram_ready) { /* reused: 4 MiB per input would be slow */
		fuzz_ram_reset(RAM_SIZE);
		ram_ready = true;
	}
	if (pvh_parse(buf, size, fuzz_vm.mem_size, &img, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0], "a refusal says why");
		free(buf);
		return 0;
	}
	FUZZ_CHECK(img.nsegs >= 1 && img.nsegs <= LOADER_MAX_SEGS, "segment count");
	bool entry_in = false;
	for (unsigned i = 0; i < img.nsegs; i++) {
		FUZZ_CHECK(img.seg[i].filesz <= img.seg[i].memsz, "filesz <= memsz");
		FUZZ_CHECK(img.seg[i].offset <= size &&
			       img.seg[i].filesz <= size - img.seg[i].offset,
			   "segment inside the file");
		FUZZ_CHECK(img.seg[i].paddr < fuzz_vm.mem_size &&
			       img.seg[i].memsz <= fuzz_vm.mem_size - img.seg[i].paddr,
			   "segment inside RAM");
		FUZZ_CHECK(img.seg[i].paddr >= PVH_CMDLINE + PVH_CMDLINE_MAX,
			   "segment above the boot structures");
		if (img.entry >= img.seg[i].paddr &&
		    img.entry - img.seg[i].paddr < img.seg[i].memsz)
			entry_in = true;
	}
	FUZZ_CHECK(entry_in, "entry inside a loaded segment");
	pvh_load(&fuzz_vm, buf, &img, "console=ttyS0");
	free(buf);
	return 0;
}
