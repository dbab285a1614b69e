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
 *    RAM and outside the legacy hole, the entry inside a segment, and the
 *    boot block in RAM clear of every segment;
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
		FUZZ_CHECK(img.seg[i].paddr >= GUEST_LOAD_ADDR ||
			       img.seg[i].paddr + img.seg[i].memsz <= LOW_RAM_END,
			   "segment outside the legacy hole (ACPI tables included)");
		FUZZ_CHECK(img.boot_base >= img.seg[i].paddr + img.seg[i].memsz ||
			       img.boot_base + BOOT_BLOCK_SIZE <= img.seg[i].paddr,
			   "boot block clear of the segment");
		if (img.entry >= img.seg[i].paddr &&
		    img.entry - img.seg[i].paddr < img.seg[i].memsz)
			entry_in = true;
	}
	FUZZ_CHECK(entry_in, "entry inside a loaded segment");
	FUZZ_CHECK(!(img.boot_base & 4095) && img.boot_base >= BOOT_BLOCK_LOW &&
		       img.boot_base + BOOT_BLOCK_SIZE <= fuzz_vm.mem_size &&
		       (img.boot_base >= GUEST_LOAD_ADDR ||
			img.boot_base + BOOT_BLOCK_SIZE <= LOW_RAM_END),
		   "boot block page-aligned, in RAM, outside page 0 and the legacy hole");
	pvh_load(&fuzz_vm, buf, &img, "console=ttyS0");
	free(buf);
	return 0;
}
