/* SPDX-License-Identifier: MIT */
/*
 * multiboot.c - Multiboot version 1 (spec 0.6.96): the format of most
 * teaching kernels, which qemu-system-x86_64 -kernel and GRUB boot.
 *
 * The stages, each a function below:
 *   mb_find_header  the magic at a 4-byte boundary in the first 8 KiB
 *                   (spec 3.1.1), then flags and checksum (3.1.2);
 *   mb_check_flags  requirement bits 0-15 kvmini cannot honour refuse the
 *                   image (a video mode: there is no framebuffer);
 *   mb_aout / ELF   where the image goes: the header's address fields
 *                   when flag 16 is set, else the ELF program headers
 *                   with the same checks a PVH ELF gets (loader.c);
 *   mb_place        the --initrd module on the first page after the
 *                   kernel, so flag 0 (page alignment) always holds, and
 *                   the boot block where neither is (loader.c);
 *   multiboot_load  segments, the information structure (3.3), and the
 *                   vCPU in 32-bit protected mode with paging off,
 *                   %eax = 0x2badb002 and %ebx = the structure (3.2).
 * Where the structure and the module go: include/memmap.h (MB_*).
 */
#include "multiboot.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "memmap.h"
#include "trace.h"
#include "vcpu.h"
#include "vm.h"

#define MB_HDR_LEN   12 /* magic, flags, checksum */
#define MB_AOUT_LEN  20 /* header_addr .. entry_addr */
#define MB_KNOWN_REQ (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_VIDEO)

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static bool mb_header_ok(const uint8_t *buf, size_t size, size_t off)
{
	return off + MB_HDR_LEN <= size && rd32(buf + off) == MB_HEADER_MAGIC &&
	       (uint32_t)(rd32(buf + off) + rd32(buf + off + 4) + rd32(buf + off + 8)) == 0;
}

/* First offset below limit where the magic sits on a 4-byte boundary, or
 * (size_t)-1. */
static size_t mb_find_magic(const uint8_t *buf, size_t size, size_t limit)
{
	for (size_t off = 0; off + 4 <= size && off < limit; off += 4)
		if (rd32(buf + off) == MB_HEADER_MAGIC)
			return off;
	return (size_t)-1;
}

bool multiboot_detect(const uint8_t *buf, size_t size)
{
	if (mb_find_magic(buf, size, MB_SEARCH_LEN) != (size_t)-1)
		return true;
	for (size_t off = MB_SEARCH_LEN; off + MB_HDR_LEN <= size; off += 4)
		if (mb_header_ok(buf, size, off))
			return true;
	return false;
}

static int mb_find_header(const uint8_t *buf, size_t size, struct multiboot_image *img, char *err,
			  size_t errlen)
{
	size_t off = mb_find_magic(buf, size, MB_SEARCH_LEN);

	if (off == (size_t)-1) {
		for (off = MB_SEARCH_LEN; off + MB_HDR_LEN <= size; off += 4)
			if (mb_header_ok(buf, size, off))
				return loader_err(err, errlen,
						  "Multiboot header at offset 0x%zx, past the "
						  "first 8 KiB where the spec lets a loader look: "
						  "move it to the start of the image",
						  off);
		return loader_err(err, errlen, "no Multiboot header in the first 8 KiB");
	}
	if (off + MB_HDR_LEN > size)
		return loader_err(err, errlen,
				  "Multiboot header at 0x%zx is cut off by the end of "
				  "the file",
				  off);
	if (!mb_header_ok(buf, size, off))
		return loader_err(err, errlen,
				  "Multiboot header at 0x%zx: bad checksum (magic + "
				  "flags + checksum must be 0 mod 2^32)",
				  off);
	img->header_off = (uint32_t)off;
	img->flags = rd32(buf + off + 4);
	return 0;
}

static int mb_check_flags(uint32_t flags, char *err, size_t errlen)
{
	if (flags & MB_FLAG_VIDEO)
		return loader_err(err, errlen,
				  "the Multiboot header asks for a video mode (flag 2): "
				  "kvmini has no framebuffer, only the serial console; "
				  "clear the flag");
	if (flags & 0xffffU & ~MB_KNOWN_REQ)
		return loader_err(err, errlen,
				  "the Multiboot header requires features kvmini cannot "
				  "honour (flag bits 0x%04x of 0-15)",
				  flags & 0xffffU & ~MB_KNOWN_REQ);
	return 0;
}

/* Flag 16: the header says where the file goes (spec 3.1.3).  The file
 * offset of load_addr follows from where the header sits in the file. */
static int mb_aout(const uint8_t *buf, size_t size, uint64_t mem_size, struct multiboot_image *img,
		   char *err, size_t errlen)
{
	uint32_t off = img->header_off;
	uint32_t hdr, load, load_end, bss_end, entry;
	uint64_t foff, filesz, memsz;

	if ((uint64_t)off + MB_HDR_LEN + MB_AOUT_LEN > size)
		return loader_err(err, errlen,
				  "Multiboot header cut off by the end of the file "
				  "before its address fields");
	hdr = rd32(buf + off + 12);
	load = rd32(buf + off + 16);
	load_end = rd32(buf + off + 20);
	bss_end = rd32(buf + off + 24);
	entry = rd32(buf + off + 28);
	if (load > hdr || hdr - load > off)
		return loader_err(err, errlen,
				  "Multiboot load_addr 0x%x and header_addr 0x%x do not "
				  "match where the header sits in the file (offset 0x%x)",
				  load, hdr, off);
	foff = off - (hdr - load);
	if (load_end == 0) {
		filesz = size - foff;
	} else {
		if (load_end < load || load_end - load > size - foff)
			return loader_err(err, errlen,
					  "Multiboot load_end_addr 0x%x lies outside the "
					  "file (load_addr 0x%x, %zu bytes)",
					  load_end, load, size);
		filesz = load_end - load;
	}
	memsz = filesz;
	if (bss_end) {
		if (bss_end < load + filesz)
			return loader_err(err, errlen,
					  "Multiboot bss_end_addr 0x%x is below the end of "
					  "the loaded image",
					  bss_end);
		memsz = bss_end - (uint64_t)load;
	}
	if (memsz == 0)
		return loader_err(err, errlen, "Multiboot image loads nothing");
	if (load + memsz > mem_size)
		return loader_err(err, errlen,
				  "Multiboot image at 0x%x+0x%llx does not fit in %llu MiB "
				  "of RAM: raise --mem",
				  load, (unsigned long long)memsz,
				  (unsigned long long)(mem_size >> 20));
	if (loader_check_range("the Multiboot image", load, memsz, err, errlen))
		return -1;
	if (entry < load || entry - (uint64_t)load >= memsz)
		return loader_err(err, errlen, "Multiboot entry_addr 0x%x is outside the image",
				  entry);
	img->aout = true;
	img->entry = entry;
	img->segs.nsegs = 1;
	img->segs.seg[0].paddr = load;
	img->segs.seg[0].offset = foff;
	img->segs.seg[0].filesz = filesz;
	img->segs.seg[0].memsz = memsz;
	return 0;
}

static int mb_elf(const uint8_t *buf, size_t size, uint64_t mem_size, struct multiboot_image *img,
		  char *err, size_t errlen)
{
	if (size < SELFMAG || memcmp(buf, ELFMAG, SELFMAG))
		return loader_err(err, errlen,
				  "Multiboot image is not an ELF and its header has no "
				  "address fields (flag 16): kvmini cannot tell where it goes");
	if (elf_load_segs(buf, size, mem_size, &img->segs, NULL, err, errlen))
		return -1;
	if (img->segs.e_entry > 0xffffffffULL || !elf_entry_loaded(&img->segs, img->segs.e_entry))
		return loader_err(err, errlen,
				  "Multiboot ELF entry 0x%llx is outside every loaded "
				  "segment",
				  (unsigned long long)img->segs.e_entry);
	img->entry = (uint32_t)img->segs.e_entry;
	return 0;
}

/* The module on the first page after the kernel (flag 0 asks for 4 KiB
 * alignment; kvmini always gives it), or at 1 MiB when a kernel that lies
 * below 640 KiB leaves too little room there for it; then the boot block
 * where neither is. */
static int mb_place(struct multiboot_image *img, uint64_t mem_size, uint64_t mod_size,
		    char *err, size_t errlen)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < img->segs.nsegs; i++)
		if (img->segs.seg[i].paddr + img->segs.seg[i].memsz > end)
			end = img->segs.seg[i].paddr + img->segs.seg[i].memsz;
	img->kernel_end = end;
	if (mod_size) {
		img->mod_addr = (end + 4095) & ~4095ULL;
		if (img->mod_addr < GUEST_LOAD_ADDR && mod_size > LOW_RAM_END - img->mod_addr)
			img->mod_addr = GUEST_LOAD_ADDR;
		if (img->mod_addr > mem_size || mod_size > mem_size - img->mod_addr)
			return loader_err(err, errlen,
					  "--initrd module (%llu bytes) does not fit in RAM "
					  "after the kernel (which ends at 0x%llx): raise --mem",
					  (unsigned long long)mod_size, (unsigned long long)end);
	}
	return image_boot_block(&img->segs, img->mod_addr, mod_size, mem_size,
				&img->segs.boot_base, err, errlen);
}

int multiboot_parse(const uint8_t *buf, size_t size, uint64_t mem_size, uint64_t mod_size,
		    struct multiboot_image *img, char *err, size_t errlen)
{
	memset(img, 0, sizeof(*img));
	if (mb_find_header(buf, size, img, err, errlen) || mb_check_flags(img->flags, err, errlen))
		return -1;
	if (img->flags & MB_FLAG_AOUT_KLUDGE ? mb_aout(buf, size, mem_size, img, err, errlen)
					     : mb_elf(buf, size, mem_size, img, err, errlen))
		return -1;
	return mb_place(img, mem_size, mod_size, err, errlen);
}

int multiboot_cmdline(char *out, size_t outlen, const char *kernel_path, const char *args,
		      char *err, size_t errlen)
{
	size_t plen = strlen(kernel_path), alen = strlen(args);
	size_t max = outlen < MB_CMDLINE_MAX ? outlen : MB_CMDLINE_MAX;

	if (plen + 1 + alen >= max)
		return loader_err(err, errlen,
				  "the Multiboot command line (the --kernel path, a space, "
				  "then --cmdline) is %zu bytes; the limit is %zu",
				  plen + 1 + alen, max - 1);
	memcpy(out, kernel_path, plen);
	out[plen] = ' ';
	memcpy(out + plen + 1, args, alen + 1);
	return 0;
}

void multiboot_load(struct vm *vm, const uint8_t *buf, const struct multiboot_image *img,
		    const char *cmdline, const char *mod_name, const uint8_t *mod, size_t mod_size)
{
	struct hvm_memmap_entry map[16];
	struct multiboot_mmap *mm;
	struct multiboot_info *mbi;
	unsigned n = guest_memmap(vm->mem_size, map, 16);
	size_t clen = strlen(cmdline);
	static const char name[] = "kvmini " KVMINI_VERSION;
	uint64_t base = img->segs.boot_base;
	uint8_t *blk = vm_gpa(vm, base, BOOT_BLOCK_SIZE);

	if (clen >= MB_CMDLINE_MAX)
		die(EXIT_USAGE, "--cmdline is %zu bytes; the limit is %lu", clen,
		    MB_CMDLINE_MAX - 1);
	/* multiboot_parse placed the block in RAM; NULL here is a bug. */
	if (!blk)
		die(EXIT_HOST, "internal: Multiboot structures outside RAM");
	loader_copy_segs(vm, buf, &img->segs);

	memset(blk, 0, BOOT_BLOCK_SIZE);
	mbi = (struct multiboot_info *)(blk + MB_INFO_OFF);
	mm = (struct multiboot_mmap *)(blk + MB_MMAP_OFF);
	/* mem_lower: KiB of RAM from 0 (640); mem_upper: KiB of RAM from
	 * 1 MiB up to the first hole, here the end of RAM. */
	mbi->mem_lower = LOW_RAM_END / 1024;
	mbi->mem_upper = (uint32_t)((vm->mem_size - GUEST_LOAD_ADDR) / 1024);
	for (unsigned i = 0; i < n; i++)
		mm[i] = (struct multiboot_mmap){20, map[i].addr, map[i].size, map[i].type};
	mbi->mmap_addr = (uint32_t)(base + MB_MMAP_OFF);
	mbi->mmap_length = n * sizeof(*mm);
	memcpy(blk + MB_CMDLINE_OFF, cmdline, clen + 1);
	mbi->cmdline = (uint32_t)(base + MB_CMDLINE_OFF);
	memcpy(blk + MB_LOADER_NAME_OFF, name, sizeof(name));
	mbi->boot_loader_name = (uint32_t)(base + MB_LOADER_NAME_OFF);
	mbi->flags =
	    MBI_FLAG_MEM | MBI_FLAG_MMAP | MBI_FLAG_CMDLINE | MBI_FLAG_LOADER_NAME | MBI_FLAG_MODS;
	mbi->mods_addr = (uint32_t)(base + MB_MODS_OFF);
	if (mod && mod_size) {
		struct multiboot_mod *m = (struct multiboot_mod *)(blk + MB_MODS_OFF);
		size_t nlen = strlen(mod_name);

		if (nlen >= MB_MOD_STRING_MAX)
			die(EXIT_USAGE, "--initrd path is %zu bytes; the limit is %lu", nlen,
			    MB_MOD_STRING_MAX - 1);
		memcpy(vm_gpa(vm, img->mod_addr, mod_size), mod, mod_size);
		memcpy(blk + MB_MOD_STRING_OFF, mod_name, nlen + 1);
		*m = (struct multiboot_mod){(uint32_t)img->mod_addr,
					    (uint32_t)(img->mod_addr + mod_size),
					    (uint32_t)(base + MB_MOD_STRING_OFF), 0};
		mbi->mods_count = 1;
		trace(TRACE_BOOT, "Multiboot module: %zu bytes at 0x%llx", mod_size,
		      (unsigned long long)img->mod_addr);
	}
	trace(TRACE_BOOT,
	      "Multiboot %s kernel, entry 0x%x, information at 0x%llx, %u memory map "
	      "entries, command line \"%s\"",
	      img->aout ? "a.out-kludge" : "ELF", img->entry,
	      (unsigned long long)(base + MB_INFO_OFF), n, cmdline);

	/* Spec 3.2: protected mode, paging off, flat 4 GiB segments, A20 on,
	 * interrupts off; GDTR and IDTR are the kernel's business. */
	struct vcpu_start st = {
	    .cr0 = 0x11, /* PE | ET */
	    .rip = img->entry,
	    .rax = MB_BOOT_MAGIC,
	    .rbx = base + MB_INFO_OFF,
	};
	vcpu_start(vm, &st);
	trace(TRACE_BOOT, "vCPU 0: 32-bit protected mode, rip=0x%x, eax=0x%x, ebx=0x%llx",
	      img->entry, MB_BOOT_MAGIC, (unsigned long long)(base + MB_INFO_OFF));
}
