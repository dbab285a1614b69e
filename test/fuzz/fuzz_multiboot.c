// SPDX-License-Identifier: MIT
// needs: vmm/multiboot.c vmm/loader.c
/*
 * fuzz_multiboot.c - the Multiboot v1 loader (vmm/multiboot.c) on any file
 * the user names with --kernel, with a module of a size taken from the
 * input: multiboot_parse(), then, when it accepts the image,
 * multiboot_load() into guest RAM, exactly as kvmini does.
 *
 * Invariants, on top of ASan/UBSan (the file, the module and RAM are heap
 * buffers of their exact sizes):
 *  - an accepted image has 1..LOADER_MAX_SEGS segments, each with
 *    filesz <= memsz, its file bytes inside the file, its memory inside
 *    RAM at or above 1 MiB, and the entry inside a segment;
 *  - the module, when there is one, lies in RAM, page-aligned, after the
 *    kernel;
 *  - a refused image says why, on one line;
 *  - multiboot_load() of an accepted image never dies (die() aborts here).
 */
#include <string.h>

#include "../../vmm/multiboot.h"
#include "../../vmm/vcpu.h"
#include "memmap.h"
#include "stubs.h"

#define RAM_SIZE (4u << 20)

/* The start state is KVM's business; here it is only recorded. */
static struct vcpu_start last_start;
void vcpu_start(struct vm *vm, const struct vcpu_start *st)
{
	(void)vm;
	last_start = *st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ram_ready;
	struct multiboot_image img;
	char err[256] = "";
	/*
	 * The first two bytes pick the module's size (0: no module), up to
	 * 4 MiB.  The module's bytes are filled once: it is the last mod_size
	 * bytes of one buffer of the largest size, so a read past its end is
	 * still a read past a heap block (ASan), and no run spends its time
	 * allocating and filling megabytes.
	 */
	static uint8_t *mods;
	const size_t mod_max = (size_t)0xffff * 64;
	size_t mod_size = size >= 2 ? (size_t)(data[0] | data[1] << 8) * 64 : 0;
	uint8_t *buf = malloc(size ? size : 1);

	if (!mods) {
		mods = malloc(mod_max);
		if (!mods)
			abort();
		memset(mods, 0xab, mod_max);
	}
	uint8_t *mod = mods + mod_max - mod_size;
	if (!buf)
		abort();
	memcpy(buf, data, size);
	if (!ram_ready) {
		fuzz_ram_reset(RAM_SIZE);
		ram_ready = true;
	}
	if (multiboot_parse(buf, size, fuzz_vm.mem_size, mod_size, &img, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0] && !strchr(err, '\n'), "a refusal says why, on one line");
		goto out;
	}
	FUZZ_CHECK(img.segs.nsegs >= 1 && img.segs.nsegs <= LOADER_MAX_SEGS, "segment count");
	bool entry_in = false;
	for (unsigned i = 0; i < img.segs.nsegs; i++) {
		FUZZ_CHECK(img.segs.seg[i].filesz <= img.segs.seg[i].memsz, "filesz <= memsz");
		FUZZ_CHECK(img.segs.seg[i].offset <= size &&
			       img.segs.seg[i].filesz <= size - img.segs.seg[i].offset,
			   "segment inside the file");
		FUZZ_CHECK(img.segs.seg[i].paddr < fuzz_vm.mem_size &&
			       img.segs.seg[i].memsz <= fuzz_vm.mem_size - img.segs.seg[i].paddr &&
			       (img.segs.seg[i].paddr >= GUEST_LOAD_ADDR ||
				img.segs.seg[i].paddr + img.segs.seg[i].memsz <= LOW_RAM_END),
			   "segment inside RAM, outside the legacy hole");
		FUZZ_CHECK(img.segs.boot_base >= img.segs.seg[i].paddr + img.segs.seg[i].memsz ||
			       img.segs.boot_base + BOOT_BLOCK_SIZE <= img.segs.seg[i].paddr,
			   "boot block clear of the segment");
		if (img.entry >= img.segs.seg[i].paddr &&
		    img.entry - img.segs.seg[i].paddr < img.segs.seg[i].memsz)
			entry_in = true;
	}
	FUZZ_CHECK(entry_in, "entry inside a loaded segment");
	if (mod_size) {
		FUZZ_CHECK(!(img.mod_addr & 4095) && img.mod_addr >= img.kernel_end &&
			       img.mod_addr + mod_size <= fuzz_vm.mem_size &&
			       (img.mod_addr >= GUEST_LOAD_ADDR ||
				img.mod_addr + mod_size <= LOW_RAM_END),
			   "module page-aligned, after the kernel, in RAM, outside the hole");
		FUZZ_CHECK(img.segs.boot_base >= img.mod_addr + mod_size ||
			       img.segs.boot_base + BOOT_BLOCK_SIZE <= img.mod_addr,
			   "boot block clear of the module");
	}
	FUZZ_CHECK(!(img.segs.boot_base & 4095) && img.segs.boot_base >= BOOT_BLOCK_LOW &&
		       img.segs.boot_base + BOOT_BLOCK_SIZE <= fuzz_vm.mem_size &&
		       (img.segs.boot_base >= GUEST_LOAD_ADDR ||
			img.segs.boot_base + BOOT_BLOCK_SIZE <= LOW_RAM_END),
		   "boot block page-aligned, in RAM, outside page 0 and the legacy hole");
	multiboot_load(&fuzz_vm, buf, &img, "mbtest=hello", "module", mod_size ? mod : NULL,
		       mod_size);
	FUZZ_CHECK(last_start.rax == MB_BOOT_MAGIC &&
		       last_start.rbx == img.segs.boot_base + MB_INFO_OFF &&
		       last_start.rip == img.entry,
		   "entry state: EAX magic, EBX the information structure");
out:
	free(buf);
	return 0;
}
