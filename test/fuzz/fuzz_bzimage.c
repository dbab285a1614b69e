// SPDX-License-Identifier: MIT
// needs: vmm/bzimage.c vmm/loader.c
/*
 * fuzz_bzimage.c - the bzImage parser and what kvmini derives from an
 * accepted image (vmm/bzimage.c): bzimage_detect(), bzimage_parse(), the
 * command line and initrd checks, the zero page, and elf_is_linux() on the
 * same bytes.  The first 12 input bytes choose the RAM size, the initrd
 * size and the command line length; the rest is the file.
 *
 * Invariants, on top of ASan/UBSan (file and zero page are exact-size heap
 * buffers):
 *  - an accepted image: setup header inside the setup area, setup area
 *    inside the file, the kernel is the rest of the file, it fits in
 *    init_size, and [load_addr, load_addr + init_size) lies in RAM above
 *    1 MiB;
 *  - a placed initrd is page aligned, above the kernel's end, and ends at or
 *    below both RAM's end and the kernel's initrd limit;
 *  - an accepted command line is at most cmdline_max < BZ_CMDLINE_MAX bytes;
 *  - a refusal says why.
 */
#include <string.h>

#include "../../vmm/bzimage.h"
#include "memmap.h"
#include "stubs.h"

#define ZP_BYTES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct bzimage bz;
	char err[256] = "";

	uint64_t mem_size = (fuzz_take(&in, 4) & 0xffffff) << 8; /* up to 4 GiB */
	uint64_t initrd_size = fuzz_take(&in, 6);
	size_t clen = (size_t)fuzz_take(&in, 2);
	uint8_t *buf = malloc(in.n ? in.n : 1);
	if (!buf)
		abort();
	memcpy(buf, in.p, in.n);
	size = in.n;

	(void)elf_is_linux(buf, size);
	bool detected = bzimage_detect(buf, size);
	if (bzimage_parse(buf, size, mem_size, &bz, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0], "a refusal says why");
		free(buf);
		return 0;
	}
	FUZZ_CHECK(detected, "an accepted image is detected as a bzImage");
	FUZZ_CHECK(bz.hdr_end <= bz.setup_size && bz.setup_size < size, "setup inside the file");
	FUZZ_CHECK(bz.kernel_off == bz.setup_size && bz.kernel_off + bz.kernel_size == size,
		   "kernel is the rest of the file");
	FUZZ_CHECK(bz.kernel_size <= bz.init_size, "kernel fits in init_size");
	FUZZ_CHECK(bz.load_addr >= GUEST_LOAD_ADDR && bz.load_addr < mem_size &&
		       bz.init_size <= mem_size - bz.load_addr,
		   "kernel's RAM inside guest RAM");
	FUZZ_CHECK(bz.cmdline_max >= 1 && bz.cmdline_max < BZ_CMDLINE_MAX, "cmdline_max bounded");
	err[0] = 0;
	if (bzimage_check_cmdline(&bz, clen, err, sizeof(err)) == 0)
		FUZZ_CHECK(clen <= bz.cmdline_max, "accepted command line fits");
	else
		FUZZ_CHECK(err[0], "a refusal says why");

	uint64_t low = bz.load_addr + bz.init_size, gpa = 0;
	err[0] = 0;
	if (initrd_place(low, bz.initrd_end_max, mem_size, initrd_size, &gpa, err, sizeof(err)) ==
	    0) {
		FUZZ_CHECK(!(gpa & 4095) && gpa >= low, "initrd aligned, above the kernel");
		FUZZ_CHECK(initrd_size && gpa + initrd_size >= gpa &&
			       gpa + initrd_size <= mem_size &&
			       gpa + initrd_size <= bz.initrd_end_max,
			   "initrd inside RAM and below the kernel's limit");
	} else {
		FUZZ_CHECK(err[0], "a refusal says why");
	}

	uint8_t *zp = malloc(ZP_BYTES);
	if (!zp)
		abort();
	bzimage_zero_page(zp, buf, &bz, mem_size, BZ_CMDLINE, gpa, initrd_size, 0xe0000);
	free(zp);
	free(buf);
	return 0;
}
