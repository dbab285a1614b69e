/* SPDX-License-Identifier: MIT */
/*
 * multiboot.h - booting a Multiboot (version 1, spec 0.6.96) kernel: the
 * header in the image's first 8 KiB, its ELF32/ELF64 segments or a.out-
 * kludge addresses, and the information structure handed over in %ebx.
 *
 * As for PVH, the checks are a pure function over the file's bytes
 * (multiboot_parse), run by main before KVM is opened; the loader
 * (multiboot_load) only copies what the checks accepted.
 */
#ifndef KVMINI_MULTIBOOT_H
#define KVMINI_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loader.h"

struct vm;

#define MB_HEADER_MAGIC 0x1badb002U /* in the image (spec 3.1.2) */
#define MB_BOOT_MAGIC	0x2badb002U /* in %eax at entry (spec 3.2) */
#define MB_SEARCH_LEN	8192	    /* the header must start in here */

/* Header flags (spec 3.1.2).  Bits 0-15 are requirements: a loader that
 * cannot honour one must refuse the image; 16-31 are optional features. */
#define MB_FLAG_PAGE_ALIGN  0x00000001U /* modules on 4 KiB boundaries */
#define MB_FLAG_MEMINFO	    0x00000002U /* mem_* and the memory map */
#define MB_FLAG_VIDEO	    0x00000004U /* a video mode: no framebuffer here */
#define MB_FLAG_AOUT_KLUDGE 0x00010000U /* load by the header's addresses */

/* Information structure flags (spec 3.3): which fields kvmini fills. */
#define MBI_FLAG_MEM	     0x001
#define MBI_FLAG_CMDLINE     0x004
#define MBI_FLAG_MODS	     0x008
#define MBI_FLAG_MMAP	     0x040
#define MBI_FLAG_LOADER_NAME 0x200

struct multiboot_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name, apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
};

struct multiboot_mod {
	uint32_t mod_start, mod_end, string, reserved;
};

/* One memory map entry; size counts the bytes after itself (20). */
struct multiboot_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

struct multiboot_image {
	uint32_t header_off; /* where the header starts in the file */
	uint32_t flags;	     /* the header's flags */
	uint32_t entry;
	bool aout;	       /* loaded by the a.out-kludge fields, not ELF */
	uint64_t kernel_end;   /* first byte past everything loaded */
	uint64_t mod_addr;     /* where the --initrd module goes (0: none) */
	struct pvh_image segs; /* what to copy (entry unused there) */
};

/* Is there a Multiboot header to act on: the magic at a 4-byte-aligned
 * offset in the first 8 KiB, or a whole header (checksum right) later in
 * the file, which multiboot_parse() then refuses with the reason. */
bool multiboot_detect(const uint8_t *buf, size_t size);

/* Check a Multiboot image for mem_size bytes of RAM and a module of
 * mod_size bytes (0: no --initrd).  0 and *img filled, or -1 with one line
 * in err; nothing is loaded either way. */
int multiboot_parse(const uint8_t *buf, size_t size, uint64_t mem_size, uint64_t mod_size,
		    struct multiboot_image *img, char *err, size_t errlen);

/* The command line a Multiboot kernel gets: the kernel's file name as
 * given to --kernel, a space, then --cmdline (as QEMU's -kernel/-append
 * builds it: "%s %s", so an empty --cmdline leaves the trailing space;
 * GRUB passes the path and the arguments the same way).  Kernels take the
 * first word as their program name.  0, or -1 with one line in err when
 * the whole does not fit in MB_CMDLINE_MAX bytes with its NUL. */
int multiboot_cmdline(char *out, size_t outlen, const char *kernel_path, const char *args,
		      char *err, size_t errlen);

/* Load what multiboot_parse() accepted: the segments, the information
 * structure (memory fields and map, command line, boot loader name, the
 * module), and start the vCPU at the entry as spec 3.2 says.  Dies with
 * EXIT_USAGE when the command line is too long. */
void multiboot_load(struct vm *vm, const uint8_t *buf, const struct multiboot_image *img,
		    const char *cmdline, const char *mod_name, const uint8_t *mod, size_t mod_size);

#endif
