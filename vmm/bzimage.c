/* SPDX-License-Identifier: MIT */
/*
 * bzimage.c - the Linux x86 boot protocol, 64-bit entry (see bzimage.h).
 *
 * A bzImage is: a 512-byte boot sector and setup_sects more sectors of
 * real-mode setup code (whose first bytes, from 0x1f1, are the setup
 * header), then the protected-mode kernel (the decompressor and its
 * compressed payload).  Only the protected-mode part is loaded; the setup
 * header is copied into the zero page, where the kernel reads it back.
 * Every header field is checked against the file and guest RAM first.
 */
#include "bzimage.h"

#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "loader.h"
#include "memmap.h"
#include "trace.h"
#include "vm.h"

/* Setup header fields: offsets in the file and in the zero page alike
 * (boot.rst, "THE REAL-MODE KERNEL HEADER"). */
#define HDR_SETUP_SECTS	     0x1f1
#define HDR_SYSSIZE	     0x1f4 /* protected-mode size, 16-byte units */
#define HDR_BOOT_FLAG	     0x1fe
#define HDR_JUMP	     0x200 /* a 2-byte jmp whose offset ends the header */
#define HDR_MAGIC	     0x202
#define HDR_VERSION	     0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS	     0x211
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21c
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE	     0x234
#define HDR_XLOADFLAGS	     0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE	     0x260
#define HDR_END_MAX	     0x26c /* end of the header as of protocol 2.15 */

#define LOADED_HIGH   0x01
#define KEEP_SEGMENTS 0x40
#define XLF_KERNEL_64 0x01

/* struct boot_params fields outside the header (asm/bootparam.h). */
#define ZP_ACPI_RSDP_ADDR    0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE  0x0c4
#define ZP_EXT_CMD_LINE_PTR  0x0c8
#define ZP_E820_ENTRIES	     0x1e8
#define ZP_E820_TABLE	     0x2d0
#define ZP_E820_MAX	     128
#define ZP_SIZE		     4096

static uint16_t get16(const uint8_t *p, size_t off)
{
	return (uint16_t)(p[off] | p[off + 1] << 8);
}

static uint32_t get32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint64_t get64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

bool bzimage_detect(const uint8_t *buf, size_t size)
{
	return size >= HDR_MAGIC + 4 && get16(buf, HDR_BOOT_FLAG) == 0xaa55 &&
	       !memcmp(buf + HDR_MAGIC, "HdrS", 4);
}

int bzimage_parse(const uint8_t *buf, size_t size, uint64_t mem_size, struct bzimage *bz, char *err,
		  size_t errlen)
{
	unsigned sects;
	uint32_t align, cmdline_size;

	memset(bz, 0, sizeof(*bz));
	if (size < HDR_MAGIC + 4)
		return loader_err(err, errlen,
			    "bzImage truncated: %zu bytes, the setup header alone "
			    "needs %d",
			    size, HDR_MAGIC + 4);
	if (get16(buf, HDR_BOOT_FLAG) != 0xaa55 || memcmp(buf + HDR_MAGIC, "HdrS", 4))
		return loader_err(err, errlen,
			    "not a bzImage: no boot sector signature or \"HdrS\" magic");
	if (size < HDR_END_MAX)
		return loader_err(err, errlen,
			    "bzImage truncated: %zu bytes, shorter than its setup "
			    "header",
			    size);
	bz->version = get16(buf, HDR_VERSION);
	if (bz->version < BZ_MIN_VERSION)
		return loader_err(err, errlen,
			    "boot protocol %u.%02u is too old: kvmini needs %u.%02u "
			    "(Linux 3.8 or later) for the 64-bit entry",
			    bz->version >> 8, bz->version & 0xff, BZ_MIN_VERSION >> 8,
			    BZ_MIN_VERSION & 0xff);

	/* setup_sects 0 means 4, for ancient images (boot.rst). */
	sects = buf[HDR_SETUP_SECTS] ? buf[HDR_SETUP_SECTS] : 4;
	bz->setup_size = (sects + 1) * 512;
	if (bz->setup_size >= size)
		return loader_err(err, errlen,
			    "setup_sects %u puts the kernel at byte %u, past the end of "
			    "the %zu-byte file (truncated or corrupt bzImage)",
			    sects, bz->setup_size, size);
	bz->hdr_end = HDR_JUMP + 2 + buf[HDR_JUMP + 1];
	if (buf[HDR_JUMP] != 0xeb || bz->hdr_end < HDR_MAGIC + 4 || bz->hdr_end > bz->setup_size)
		return loader_err(err, errlen,
			    "corrupt setup header: its length (jump at 0x200) is wrong");
	if (bz->hdr_end > HDR_END_MAX)
		bz->hdr_end = HDR_END_MAX; /* newer fields we do not know stay zero */

	if (!(buf[HDR_LOADFLAGS] & LOADED_HIGH))
		return loader_err(err, errlen, "a zImage (loaded low) is not supported: give a bzImage");
	if (!(get16(buf, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		return loader_err(err, errlen,
			    "the kernel has no 64-bit entry (XLF_KERNEL_64): kvmini "
			    "boots 64-bit kernels only");

	bz->kernel_off = bz->setup_size;
	bz->kernel_size = size - bz->setup_size;
	/* syssize says how long the protected-mode part is: a file cut
	 * short in the compressed payload is caught here, not by a
	 * decompressor halting in the guest. */
	if ((uint64_t)get32(buf, HDR_SYSSIZE) * 16 > bz->kernel_size)
		return loader_err(err, errlen,
			    "bzImage truncated: the header says the kernel is %llu "
			    "bytes, the file holds %llu",
			    (unsigned long long)get32(buf, HDR_SYSSIZE) * 16,
			    (unsigned long long)bz->kernel_size);
	bz->load_addr = get64(buf, HDR_PREF_ADDRESS);
	bz->init_size = get32(buf, HDR_INIT_SIZE);
	align = get32(buf, HDR_KERNEL_ALIGNMENT);
	if (buf[HDR_RELOCATABLE] &&
	    (align == 0 || (align & (align - 1)) || (bz->load_addr & (align - 1))))
		return loader_err(err, errlen,
			    "corrupt setup header: kernel_alignment 0x%x does not fit "
			    "pref_address 0x%llx",
			    align, (unsigned long long)bz->load_addr);
	if (bz->load_addr < GUEST_LOAD_ADDR)
		return loader_err(err, errlen, "corrupt setup header: pref_address 0x%llx is below 1 MiB",
			    (unsigned long long)bz->load_addr);
	if (bz->init_size < bz->kernel_size)
		return loader_err(err, errlen,
			    "corrupt setup header: init_size 0x%llx is smaller than "
			    "the %llu-byte kernel",
			    (unsigned long long)bz->init_size, (unsigned long long)bz->kernel_size);
	if (bz->load_addr >= mem_size || bz->init_size > mem_size - bz->load_addr)
		return loader_err(
		    err, errlen,
		    "the kernel needs RAM up to %llu MiB (loaded at 0x%llx, "
		    "init_size %llu MiB) but the guest has %llu MiB: raise --mem",
		    (unsigned long long)((bz->load_addr + bz->init_size + (1 << 20) - 1) >> 20),
		    (unsigned long long)bz->load_addr, (unsigned long long)(bz->init_size >> 20),
		    (unsigned long long)(mem_size >> 20));

	cmdline_size = get32(buf, HDR_CMDLINE_SIZE);
	if (cmdline_size == 0)
		return loader_err(err, errlen, "corrupt setup header: cmdline_size is 0");
	bz->cmdline_max = cmdline_size < BZ_CMDLINE_MAX - 1 ? cmdline_size : BZ_CMDLINE_MAX - 1;
	/* initrd_addr_max is the address of the initrd's last byte. */
	bz->initrd_end_max = (uint64_t)get32(buf, HDR_INITRD_ADDR_MAX) + 1;
	return 0;
}

int bzimage_check_cmdline(const struct bzimage *bz, size_t len, char *err, size_t errlen)
{
	if (len > bz->cmdline_max)
		return loader_err(err, errlen, "--cmdline is %zu bytes; this kernel takes at most %u",
			    len, bz->cmdline_max);
	return 0;
}

int initrd_place(uint64_t low, uint64_t end_max, uint64_t mem_size, uint64_t size, uint64_t *gpa,
		 char *err, size_t errlen)
{
	uint64_t top = end_max < mem_size ? end_max : mem_size;

	if (size == 0)
		return loader_err(err, errlen, "the initrd is empty");
	if (top < low || size > top - low || ((top - size) & ~0xfffULL) < low)
		return loader_err(err, errlen,
			    "the initrd (%llu KiB) does not fit in RAM between the "
			    "kernel's end (%llu MiB) and %llu MiB: raise --mem or use a "
			    "smaller initrd",
			    (unsigned long long)(size >> 10), (unsigned long long)(low >> 20),
			    (unsigned long long)(top >> 20));
	/* Page aligned, as high as it goes: the kernel keeps it out of the
	 * way of its own decompression and early allocations. */
	*gpa = (top - size) & ~0xfffULL;
	return 0;
}

int bzimage_initrd_gpa(const struct bzimage *bz, uint64_t mem_size, uint64_t size, uint64_t *gpa,
		       char *err, size_t errlen)
{
	return initrd_place(bz->load_addr + bz->init_size, bz->initrd_end_max, mem_size, size, gpa,
			    err, errlen);
}

int pvh_initrd_gpa(const struct pvh_image *img, uint64_t mem_size, uint64_t size, uint64_t *gpa,
		   char *err, size_t errlen)
{
	/* Above the kernel and the boot block, as high as it goes. */
	uint64_t kend = img->boot_base + BOOT_BLOCK_SIZE;

	for (unsigned i = 0; i < img->nsegs; i++)
		if (img->seg[i].paddr + img->seg[i].memsz > kend)
			kend = img->seg[i].paddr + img->seg[i].memsz;
	if (kend < GUEST_LOAD_ADDR)
		kend = GUEST_LOAD_ADDR;
	return initrd_place(kend, mem_size, mem_size, size, gpa, err, errlen);
}

void bzimage_zero_page(uint8_t *zp, const uint8_t *buf, const struct bzimage *bz, uint64_t mem_size,
		       uint64_t cmdline_gpa, uint64_t initrd_gpa, uint64_t initrd_size,
		       uint64_t rsdp_gpa)
{
	struct hvm_memmap_entry mm[ZP_E820_MAX];
	unsigned n = guest_memmap(mem_size, mm, ZP_E820_MAX);

	memset(zp, 0, ZP_SIZE);
	memcpy(zp + HDR_SETUP_SECTS, buf + HDR_SETUP_SECTS, bz->hdr_end - HDR_SETUP_SECTS);

	/* What the boot loader owns (boot.rst, "details of header fields"). */
	zp[HDR_TYPE_OF_LOADER] = 0xff; /* undefined loader: no ID assigned to kvmini */
	zp[HDR_LOADFLAGS] = (zp[HDR_LOADFLAGS] & ~KEEP_SEGMENTS) | LOADED_HIGH;
	put32(zp, HDR_CMD_LINE_PTR, (uint32_t)cmdline_gpa);
	put32(zp, ZP_EXT_CMD_LINE_PTR, (uint32_t)(cmdline_gpa >> 32));
	put32(zp, HDR_RAMDISK_IMAGE, (uint32_t)initrd_gpa);
	put32(zp, HDR_RAMDISK_SIZE, (uint32_t)initrd_size);
	put32(zp, ZP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd_gpa >> 32));
	put32(zp, ZP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_size >> 32));
	put64(zp, ZP_ACPI_RSDP_ADDR, rsdp_gpa);

	/* e820 entries are packed 20-byte records: addr, size, type. */
	zp[ZP_E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = zp + ZP_E820_TABLE + i * 20;

		put64(e, 0, mm[i].addr);
		put64(e, 8, mm[i].size);
		put32(e, 16, mm[i].type); /* HVM_MEMMAP_* use the e820 numbers */
	}
}

/* Identity map [0, 4 GiB) with 2 MiB pages, and a GDT with the selectors
 * the boot protocol names: __BOOT_CS 0x10 and __BOOT_DS 0x18. */
static void bzimage_page_tables(struct vm *vm)
{
	uint64_t *pml4 = vm_gpa(vm, BZ_PML4, 4096);
	uint64_t *pdpt = vm_gpa(vm, BZ_PDPT, 4096);
	uint64_t *pd = vm_gpa(vm, BZ_PD, 4 * 4096);
	uint64_t *gdt = vm_gpa(vm, BZ_GDT, 4 * 8);

	if (!pml4 || !pdpt || !pd || !gdt)
		die(EXIT_HOST, "internal: boot page tables outside RAM");
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BZ_PDPT | 0x3; /* present, writable */
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (BZ_PD + i * 4096) | 0x3;
	for (unsigned i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83; /* present, writable, 2 MiB page */
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffULL; /* 64-bit code, execute/read, accessed */
	gdt[3] = 0x00cf93000000ffffULL; /* flat data, read/write, accessed */
}

void bzimage_load(struct vm *vm, const uint8_t *buf, const struct bzimage *bz, const char *cmdline,
		  const uint8_t *initrd, size_t initrd_size, uint64_t rsdp_gpa)
{
	char err[256];
	size_t clen = strlen(cmdline);
	uint64_t initrd_gpa = 0;
	uint8_t *dst;

	if (bzimage_check_cmdline(bz, clen, err, sizeof(err)) < 0)
		die(EXIT_USAGE, "%s", err);
	if (initrd && bzimage_initrd_gpa(bz, vm->mem_size, initrd_size, &initrd_gpa, err,
					 sizeof(err)) < 0)
		die(EXIT_KERNEL, "--initrd: %s", err);

	/* bzimage_parse checked that [load_addr, +init_size) is RAM. */
	dst = vm_gpa(vm, bz->load_addr, bz->init_size);
	if (!dst)
		die(EXIT_HOST, "internal: kernel escaped the RAM check");
	memcpy(dst, buf + bz->kernel_off, bz->kernel_size);
	if (initrd)
		memcpy(vm_gpa(vm, initrd_gpa, initrd_size), initrd, initrd_size);
	memcpy(vm_gpa(vm, BZ_CMDLINE, clen + 1), cmdline, clen + 1);
	bzimage_zero_page(vm_gpa(vm, BZ_ZERO_PAGE, ZP_SIZE), buf, bz, vm->mem_size, BZ_CMDLINE,
			  initrd_gpa, initrd_size, rsdp_gpa);
	bzimage_page_tables(vm);

	trace(TRACE_BOOT,
	      "bzImage protocol %u.%02u: %llu-byte kernel at 0x%llx (init_size %llu "
	      "MiB), 64-bit entry 0x%llx, zero page 0x%lx",
	      bz->version >> 8, bz->version & 0xff, (unsigned long long)bz->kernel_size,
	      (unsigned long long)bz->load_addr, (unsigned long long)(bz->init_size >> 20),
	      (unsigned long long)bzimage_entry64(bz), BZ_ZERO_PAGE);
	if (initrd)
		trace(TRACE_BOOT, "initrd: %zu bytes at 0x%llx", initrd_size,
		      (unsigned long long)initrd_gpa);
	trace(TRACE_BOOT, "command line \"%s\"", cmdline);
}

bool elf_is_linux(const uint8_t *buf, size_t size)
{
	bool is64;
	uint64_t phoff;
	unsigned phnum, phsz;

	/* ELF64 or ELF32 (a 32-bit vmlinux with the PVH note boots too): the
	 * program headers differ in width, the notes do not. */
	if (size < sizeof(Elf64_Ehdr) || memcmp(buf, ELFMAG, SELFMAG))
		return false;
	is64 = buf[EI_CLASS] == ELFCLASS64;
	if (is64) {
		Elf64_Ehdr eh;

		memcpy(&eh, buf, sizeof(eh));
		phoff = eh.e_phoff, phnum = eh.e_phnum, phsz = eh.e_phentsize;
	} else if (buf[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;

		memcpy(&eh, buf, sizeof(eh));
		phoff = eh.e_phoff, phnum = eh.e_phnum, phsz = eh.e_phentsize;
	} else {
		return false;
	}
	if (phsz != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) || phoff > size ||
	    (uint64_t)phnum * phsz > size - phoff)
		return false;
	for (unsigned i = 0; i < phnum; i++) {
		uint64_t p_type, p_offset, p_filesz, off = 0;

		if (is64) {
			Elf64_Phdr ph;

			memcpy(&ph, buf + phoff + (uint64_t)i * phsz, sizeof(ph));
			p_type = ph.p_type, p_offset = ph.p_offset, p_filesz = ph.p_filesz;
		} else {
			Elf32_Phdr ph;

			memcpy(&ph, buf + phoff + (uint64_t)i * phsz, sizeof(ph));
			p_type = ph.p_type, p_offset = ph.p_offset, p_filesz = ph.p_filesz;
		}
		if (p_type != PT_NOTE || p_offset > size || p_filesz > size - p_offset)
			continue;
		while (p_filesz - off >= sizeof(Elf64_Nhdr)) {
			Elf64_Nhdr n;
			uint64_t name = off + sizeof(n), next;

			memcpy(&n, buf + p_offset + off, sizeof(n));
			next = name + (((uint64_t)n.n_namesz + 3) & ~3ULL) +
			       (((uint64_t)n.n_descsz + 3) & ~3ULL);
			if (next > p_filesz)
				break;
			if (n.n_namesz == 6 && !memcmp(buf + p_offset + name, "Linux", 6))
				return true;
			off = next;
		}
	}
	return false;
}

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

void pvh_add_linux(struct vm *vm, const struct pvh_image *img, const uint8_t *initrd,
		   size_t initrd_size, uint64_t rsdp_gpa)
{
	struct hvm_start_info *si = vm_gpa(vm, img->boot_base + PVH_START_INFO_OFF, sizeof(*si));
	struct hvm_modlist_entry *mod;
	uint64_t gpa;
	char err[256];

	if (!si)
		die(EXIT_HOST, "internal: start info outside RAM");
	si->rsdp_paddr = rsdp_gpa;
	if (!initrd)
		return;
	if (pvh_initrd_gpa(img, vm->mem_size, initrd_size, &gpa, err, sizeof(err)) < 0)
		die(EXIT_KERNEL, "--initrd: %s", err);
	memcpy(vm_gpa(vm, gpa, initrd_size), initrd, initrd_size);
	mod = vm_gpa(vm, img->boot_base + PVH_MODLIST_OFF, sizeof(*mod));
	*mod = (struct hvm_modlist_entry){.paddr = gpa, .size = initrd_size};
	si->nr_modules = 1;
	si->modlist_paddr = img->boot_base + PVH_MODLIST_OFF;
	trace(TRACE_BOOT, "initrd: %zu bytes at 0x%llx (PVH module 0)", initrd_size,
	      (unsigned long long)gpa);
}
