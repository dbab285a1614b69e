// SPDX-License-Identifier: MIT
// needs: vmm/bzimage.c vmm/loader.c vmm/trace.c
/*
 * test_bzimage.c - the Linux boot protocol checks (vmm/bzimage.c) on
 * crafted setup headers, the initrd placement, and the zero page.
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"
#include "tap.h"
#include "../../vmm/bzimage.h"
#include "../../vmm/loader.h"
#include "../../vmm/vm.h"

/* bzimage_load()/pvh_load() want guest RAM; the pure parts under test do not. */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)vm, (void)gpa, (void)len;
	return NULL;
}

#define MEM	    (256UL << 20)
#define SETUP_SECTS 4
#define SETUP_SIZE  ((SETUP_SECTS + 1) * 512)
#define KSIZE	    4096
#define IMG_SIZE    (SETUP_SIZE + KSIZE)

static uint8_t img[IMG_SIZE];

static void put16(size_t off, uint16_t v)
{
	memcpy(img + off, &v, 2);
}

static void put32(size_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}

static void put64(size_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

static uint32_t zp32(const uint8_t *zp, size_t off)
{
	uint32_t v;

	memcpy(&v, zp + off, 4);
	return v;
}

static uint64_t zp64(const uint8_t *zp, size_t off)
{
	uint64_t v;

	memcpy(&v, zp + off, 8);
	return v;
}

/* A well-formed protocol 2.15 header, like a Debian 6.1 kernel's. */
static void good(void)
{
	memset(img, 0, sizeof(img));
	img[0x1f1] = SETUP_SECTS;
	put16(0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	put16(0x206, 0x020f);
	img[0x211] = 0x01;	  /* LOADED_HIGH */
	put32(0x1f4, KSIZE / 16); /* syssize */
	put32(0x214, 0x100000);	  /* code32_start */
	put32(0x22c, 0x7fffffff); /* initrd_addr_max */
	put32(0x230, 0x200000);	  /* kernel_alignment */
	img[0x234] = 1;		  /* relocatable */
	put16(0x236, 0x7f);	  /* xloadflags, XLF_KERNEL_64 among them */
	put32(0x238, 2047);	  /* cmdline_size */
	put64(0x258, 0x1000000);  /* pref_address */
	put32(0x260, 0x400000);	  /* init_size */
	memset(img + SETUP_SIZE, 0x90, KSIZE);
}

static void bad(size_t size, uint64_t mem, const char *want, const char *what)
{
	struct bzimage bz;
	char err[256] = "";
	int r = bzimage_parse(img, size, mem, &bz, err, sizeof(err));

	if (!tap_ok(r < 0 && strstr(err, want), "%s", what))
		tap_diag("got r=%d err='%s', wanted '%s'", r, err, want);
}

int main(void)
{
	struct bzimage bz;
	char err[256];
	uint64_t gpa;
	static uint8_t zp[4096];
	struct hvm_memmap_entry mm[8];
	unsigned nmm;

	good();
	tap_ok(bzimage_detect(img, sizeof(img)), "a crafted bzImage is detected");
	tap_ok(!bzimage_detect(img, 0x205), "a file too short for HdrS is not");
	tap_ok(bzimage_parse(img, sizeof(img), MEM, &bz, err, sizeof(err)) == 0,
	       "the well-formed header parses");
	tap_eq(bz.version, 0x020f, "protocol version");
	tap_eq(bz.kernel_off, SETUP_SIZE, "kernel starts after (setup_sects+1)*512 bytes");
	tap_eq(bz.kernel_size, KSIZE, "kernel size is the rest of the file");
	tap_eq(bz.load_addr, 0x1000000, "loaded at pref_address");
	tap_eq(bz.init_size, 0x400000, "init_size");
	tap_eq(bz.cmdline_max, 2047, "command line limit from cmdline_size");
	tap_eq(bz.initrd_end_max, 0x80000000ULL, "initrd limit is initrd_addr_max + 1");
	tap_eq(bz.hdr_end, 0x26c, "header length from the jump at 0x200");

	/* Truncated files. */
	bad(0x100, MEM, "truncated", "truncated before HdrS");
	bad(0x210, MEM, "truncated", "truncated inside the setup header");
	bad(SETUP_SIZE, MEM, "past the end", "truncated right after the setup code");
	bad(sizeof(img) - 16, MEM, "truncated", "truncated in the kernel (syssize)");
	good();
	put32(0x1f4, 0);
	tap_ok(bzimage_parse(img, sizeof(img), MEM, &bz, err, sizeof(err)) == 0,
	       "syssize 0 (not filled in) is not an error");

	/* Corrupt magic. */
	good();
	memcpy(img + 0x202, "HdrX", 4);
	bad(sizeof(img), MEM, "not a bzImage", "corrupt HdrS magic");
	good();
	put16(0x1fe, 0x1234);
	bad(sizeof(img), MEM, "not a bzImage", "corrupt boot sector signature");

	/* Protocol too old for the 64-bit entry. */
	good();
	put16(0x206, 0x0206);
	bad(sizeof(img), MEM, "too old", "protocol 2.06 is refused");
	good();
	put16(0x206, 0x020b);
	bad(sizeof(img), MEM, "too old", "protocol 2.11 is refused");
	good();
	put16(0x206, 0x020c);
	tap_ok(bzimage_parse(img, sizeof(img), MEM, &bz, err, sizeof(err)) == 0,
	       "protocol 2.12 is accepted");

	/* setup_sects past the file; 0 means 4. */
	good();
	img[0x1f1] = 200;
	bad(sizeof(img), MEM, "past the end", "setup_sects past the end of the file");
	good();
	img[0x1f1] = 0;
	tap_ok(bzimage_parse(img, sizeof(img), MEM, &bz, err, sizeof(err)) == 0 &&
		   bz.kernel_off == 5 * 512,
	       "setup_sects 0 means 4");

	/* Header length that does not fit the setup code. */
	good();
	img[0x200] = 0x00;
	bad(sizeof(img), MEM, "corrupt setup header", "no jump at 0x200");

	/* What the kernel must be able to do. */
	good();
	img[0x211] = 0;
	bad(sizeof(img), MEM, "zImage", "a zImage (not LOADED_HIGH) is refused");
	good();
	put16(0x236, 0x7e);
	bad(sizeof(img), MEM, "64-bit entry", "no XLF_KERNEL_64 is refused");
	good();
	put64(0x258, 0x1001000);
	bad(sizeof(img), MEM, "kernel_alignment", "pref_address not aligned to kernel_alignment");
	good();
	put32(0x230, 0x300000);
	bad(sizeof(img), MEM, "kernel_alignment", "kernel_alignment not a power of two");
	good();
	put64(0x258, 0x80000);
	img[0x234] = 0;
	bad(sizeof(img), MEM, "below 1 MiB", "pref_address below 1 MiB");
	good();
	put32(0x260, 1024);
	bad(sizeof(img), MEM, "init_size", "init_size smaller than the kernel");
	good();
	put64(0x258, 0xffffffffffe00000ULL);
	bad(sizeof(img), MEM, "raise --mem", "pref_address near 2^64 does not wrap");
	good();
	put32(0x260, 0xffffffff);
	bad(sizeof(img), MEM, "raise --mem", "a kernel needing more RAM than there is");
	good();
	bad(sizeof(img), 16UL << 20, "raise --mem", "16 MiB is too little for a kernel at 16 MiB");
	good();
	put32(0x238, 0);
	bad(sizeof(img), MEM, "cmdline_size", "cmdline_size 0 is corrupt");

	/* Command line limits. */
	good();
	bzimage_parse(img, sizeof(img), MEM, &bz, err, sizeof(err));
	tap_ok(bzimage_check_cmdline(&bz, 2047, err, sizeof(err)) == 0,
	       "a 2047-byte command line fits cmdline_size 2047");
	tap_ok(bzimage_check_cmdline(&bz, 2048, err, sizeof(err)) < 0 && strstr(err, "2047"),
	       "a 2048-byte command line is refused, naming the limit");
	put32(0x238, 1u << 20);
	bzimage_parse(img, sizeof(img), MEM, &bz, err, sizeof(err));
	tap_eq(bz.cmdline_max, BZ_CMDLINE_MAX - 1, "a huge cmdline_size is capped at our buffer");

	/* initrd placement. */
	tap_ok(initrd_place(0x1400000, 0x80000000ULL, MEM, 10 << 20, &gpa, err, sizeof(err)) == 0,
	       "a 10 MiB initrd fits in 256 MiB");
	tap_eq(gpa, MEM - (10 << 20), "it goes at the top of RAM");
	tap_ok(initrd_place(0x1400000, 0x80000000ULL, MEM, 10000, &gpa, err, sizeof(err)) == 0 &&
		   (gpa & 0xfff) == 0 && gpa + 10000 <= MEM,
	       "an odd-sized initrd is page aligned and ends in RAM");
	tap_ok(initrd_place(0x1400000, 0x4000000, MEM, 1 << 20, &gpa, err, sizeof(err)) == 0 &&
		   gpa + (1 << 20) <= 0x4000000,
	       "initrd_addr_max is honoured");
	tap_ok(initrd_place(0x1400000, 0x80000000ULL, MEM, 300UL << 20, &gpa, err, sizeof(err)) <
		       0 &&
		   strstr(err, "does not fit"),
	       "an initrd larger than RAM is refused");
	tap_ok(initrd_place(0x5000000, 0x80000000ULL, 96UL << 20, 20UL << 20, &gpa, err,
			    sizeof(err)) < 0,
	       "an initrd that would overlap the kernel is refused");
	tap_ok(initrd_place(0x5000000, 0x1000000, MEM, 4096, &gpa, err, sizeof(err)) < 0,
	       "initrd_addr_max below the kernel's end is refused");
	tap_ok(initrd_place(0x1400000, 0x80000000ULL, MEM, 0, &gpa, err, sizeof(err)) < 0,
	       "an empty initrd is refused");

	/* The zero page. */
	good();
	bzimage_parse(img, sizeof(img), MEM, &bz, err, sizeof(err));
	memset(zp, 0xaa, sizeof(zp));
	bzimage_zero_page(zp, img, &bz, MEM, BZ_CMDLINE, 0xa000000, 12345, 0xe0000);
	tap_ok(!memcmp(zp + 0x202, "HdrS", 4) && zp[0x1f1] == SETUP_SECTS,
	       "the setup header is copied");
	tap_eq(zp[0x210], 0xff, "type_of_loader 0xff");
	tap_ok(zp[0x211] & 1, "LOADED_HIGH kept");
	tap_eq(zp32(zp, 0x228), BZ_CMDLINE, "cmd_line_ptr");
	tap_eq(zp32(zp, 0x218), 0xa000000, "ramdisk_image");
	tap_eq(zp32(zp, 0x21c), 12345, "ramdisk_size");
	tap_eq(zp64(zp, 0x070), 0xe0000, "acpi_rsdp_addr");
	tap_eq(zp[0x000], 0, "outside the header the page is zeroed");
	nmm = guest_memmap(MEM, mm, 8);
	tap_eq(zp[0x1e8], nmm, "e820_entries matches guest_memmap()");
	for (unsigned i = 0; i < nmm; i++) {
		const uint8_t *e = zp + 0x2d0 + 20 * i;

		tap_ok(zp64(e, 0) == mm[i].addr && zp64(e, 8) == mm[i].size &&
			   zp32(e, 16) == mm[i].type,
		       "e820 entry %u: 0x%llx+0x%llx type %u", i, (unsigned long long)mm[i].addr,
		       (unsigned long long)mm[i].size, mm[i].type);
	}

	/* elf_is_linux: a file with a "Linux" note, and garbage. */
	{
		static uint8_t elf[512];
		Elf64_Ehdr *eh = (Elf64_Ehdr *)elf;
		Elf64_Phdr *ph = (Elf64_Phdr *)(elf + 64);
		Elf64_Nhdr *nh = (Elf64_Nhdr *)(elf + 128);

		memcpy(eh->e_ident, ELFMAG, SELFMAG);
		eh->e_ident[EI_CLASS] = ELFCLASS64;
		eh->e_phoff = 64;
		eh->e_phentsize = sizeof(Elf64_Phdr);
		eh->e_phnum = 1;
		ph->p_type = PT_NOTE;
		ph->p_offset = 128;
		ph->p_filesz = sizeof(*nh) + 8 + 4;
		nh->n_namesz = 6;
		nh->n_descsz = 4;
		memcpy(elf + 128 + sizeof(*nh), "Linux", 6);
		tap_ok(elf_is_linux(elf, sizeof(elf)), "an ELF with a Linux note is Linux");
		memcpy(elf + 128 + sizeof(*nh), "Xen\0\0", 6);
		tap_ok(!elf_is_linux(elf, sizeof(elf)), "an ELF with only a Xen note is not");
		ph->p_filesz = 1ULL << 40;
		tap_ok(!elf_is_linux(elf, sizeof(elf)), "a note segment past the file is ignored");
		tap_ok(!elf_is_linux(img, sizeof(img)), "a bzImage is not an ELF");
	}
	/* The same as an ELF32 (a 32-bit vmlinux). */
	{
		static uint8_t elf[512];
		Elf32_Ehdr *eh = (Elf32_Ehdr *)elf;
		Elf32_Phdr *ph = (Elf32_Phdr *)(elf + 64);
		Elf32_Nhdr *nh = (Elf32_Nhdr *)(elf + 128);

		memcpy(eh->e_ident, ELFMAG, SELFMAG);
		eh->e_ident[EI_CLASS] = ELFCLASS32;
		eh->e_phoff = 64;
		eh->e_phentsize = sizeof(Elf32_Phdr);
		eh->e_phnum = 1;
		ph->p_type = PT_NOTE;
		ph->p_offset = 128;
		ph->p_filesz = sizeof(*nh) + 8 + 4;
		nh->n_namesz = 6;
		nh->n_descsz = 4;
		memcpy(elf + 128 + sizeof(*nh), "Linux", 6);
		tap_ok(elf_is_linux(elf, sizeof(elf)), "an ELF32 with a Linux note is Linux");
		eh->e_phentsize = sizeof(Elf64_Phdr);
		tap_ok(!elf_is_linux(elf, sizeof(elf)), "an ELF32 with ELF64-sized headers is not");
		eh->e_phentsize = sizeof(Elf32_Phdr);
		ph->p_filesz = 0xffffffffu;
		tap_ok(!elf_is_linux(elf, sizeof(elf)), "an ELF32 note segment past the file is ignored");
	}
	return tap_done();
}
