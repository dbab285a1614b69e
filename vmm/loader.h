/* SPDX-License-Identifier: MIT */
/*
 * loader.h - putting a guest image into RAM and describing the machine to
 * it (PVH: struct hvm_start_info with a memory map and command line).
 *
 * The checks are pure functions over a byte buffer, so unit tests feed
 * them malformed files without KVM.
 */
#ifndef KVMINI_LOADER_H
#define KVMINI_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

#define LOADER_MAX_SEGS 16

struct pvh_image {
	uint32_t entry; /* 32-bit physical entry (XEN_ELFNOTE_PHYS32_ENTRY) */
	unsigned elf_class; /* ELFCLASS32 or ELFCLASS64 */
	uint64_t e_entry;   /* the ELF header's entry (Multiboot uses it) */
	unsigned nsegs;
	struct {
		uint64_t paddr, filesz, memsz, offset;
	} seg[LOADER_MAX_SEGS];
	/* Where the boot block goes (include/memmap.h, BOOT_BLOCK_*): set by
	 * pvh_parse and multiboot_parse, clear of every segment and module. */
	uint64_t boot_base;
};

/* Guest-physical [start, end). */
struct gpa_range {
	uint64_t start, end;
};

/* Check an ELF image for a PVH boot into mem_size bytes of RAM.  On
 * success fills *img and returns 0; otherwise returns -1 and writes one
 * line saying what is wrong into err. */
int pvh_parse(const uint8_t *buf, size_t size, uint64_t mem_size, struct pvh_image *img,
	      char *err, size_t errlen);

/* The checks both PVH and Multiboot ELFs get (ELF32 or ELF64): header,
 * program headers in the file, every PT_LOAD's file range in the file and
 * its memory range inside RAM and outside the legacy hole
 * (loader_check_range).  Fills img->seg[] and img->elf_class; when
 * have_note is not NULL, also looks for the PVH note (img->entry,
 * *have_note = 1).  0, or -1 with one line in err. */
int elf_load_segs(const uint8_t *buf, size_t size, uint64_t mem_size, struct pvh_image *img,
		  int *have_note, char *err, size_t errlen);

/* May what ("segment 2", "the module") occupy [start, start+len)?  Not in
 * the legacy hole [LOW_RAM_END, GUEST_LOAD_ADDR), which the memory map
 * reserves and whose ACPI part holds the tables (the message names the
 * ACPI range then).  0, or -1 with one line in err. */
int loader_check_range(const char *what, uint64_t start, uint64_t len, char *err, size_t errlen);

/* Choose the boot block's base (include/memmap.h): the lowest page-aligned
 * address at or above BOOT_BLOCK_LOW where BOOT_BLOCK_SIZE bytes overlap
 * none of used[0..n), below LOW_RAM_END, else from GUEST_LOAD_ADDR up to
 * the end of RAM or 4 GiB.  0 and *base, or -1 with one line in err naming
 * the ranges looked in and the range the image fills. */
int boot_block_place(const struct gpa_range *used, unsigned n, uint64_t mem_size,
		     uint64_t *base, char *err, size_t errlen);
/* The same for an image's segments and a module [mod_addr, +mod_size)
 * (mod_size 0: none). */
int image_boot_block(const struct pvh_image *img, uint64_t mod_addr, uint64_t mod_size,
		     uint64_t mem_size, uint64_t *base, char *err, size_t errlen);
/* Does entry fall inside a segment of img? */
bool elf_entry_loaded(const struct pvh_image *img, uint32_t entry);

/* For the pure checks here and in bzimage.c: write one line into err
 * (printf-style) and return -1, so "return loader_err(...)" ends a check. */
int loader_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* PVH start info, at PVH_START_INFO_OFF in the boot block (Xen's public
 * ABI, arch-x86/hvm/start_info.h; version 1 adds the memory map). */
#define HVM_START_MAGIC 0x336ec578U
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};
struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};
#define HVM_MEMMAP_RAM 1
#define HVM_MEMMAP_RESERVED 2

/* The memory map every guest sees (PVH table, later the e820 map): fills up
 * to max entries and returns how many. */
unsigned guest_memmap(uint64_t mem_size, struct hvm_memmap_entry *e, unsigned max);

/* Copy the segments of an image pvh_parse() accepted for this VM's RAM
 * into guest RAM, write the start info and the command line.  Dies with
 * EXIT_USAGE when the command line is too long. */
void pvh_load(struct vm *vm, const uint8_t *buf, const struct pvh_image *img, const char *cmdline);

/* Copy the checked segments of img into guest RAM, zeroing each one's
 * tail past its file size (.bss). */
void loader_copy_segs(struct vm *vm, const uint8_t *buf, const struct pvh_image *img);

/* Read a whole file (for --kernel); dies with EXIT_KERNEL on error. */
uint8_t *load_file(const char *path, size_t *size, const char *what);
/* The size load_file() will read, with the same checks (and deaths), from
 * the file's metadata alone: a size check can refuse a file before it is
 * read. */
size_t load_file_size(const char *path, const char *what);

#endif
