// SPDX-License-Identifier: MIT
// needs: vmm/loader.c vmm/cli.c vmm/trace.c
/*
 * test_loader.c - the PVH ELF checks (vmm/loader.c) on crafted images,
 * well-formed and malformed, and the --mem size parser.  Prints TAP.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"
#include "../../vmm/cli.h"
#include "../../vmm/loader.h"
#include "../../vmm/vm.h"
#include "tap.h"

/* loader.c's pvh_load() wants vm_gpa(); the checks under test do not. */
void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)vm, (void)gpa, (void)len;
	return NULL;
}

/* TAP through tap.h, which counts the plan itself. */
#define ok(cond, what) tap_ok((cond), "%s", (what))

#define MEM (64UL << 20)
#define LOAD 0x100000UL

/* A minimal PVH ELF: header, two program headers (LOAD, NOTE), a note and
 * 64 bytes of "code". */
struct img {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint32_t entry;
	uint8_t code[64];
} __attribute__((packed));

static struct img good(void)
{
	struct img m;

	memset(&m, 0, sizeof(m));
	memcpy(m.eh.e_ident, ELFMAG, SELFMAG);
	m.eh.e_ident[EI_CLASS] = ELFCLASS64;
	m.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m.eh.e_ident[EI_VERSION] = EV_CURRENT;
	m.eh.e_type = ET_EXEC;
	m.eh.e_machine = EM_X86_64;
	m.eh.e_version = EV_CURRENT;
	m.eh.e_phoff = offsetof(struct img, ph);
	m.eh.e_phentsize = sizeof(Elf64_Phdr);
	m.eh.e_phnum = 2;
	m.ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
			       .p_offset = offsetof(struct img, code),
			       .p_paddr = LOAD,
			       .p_filesz = 64,
			       .p_memsz = 4096};
	m.ph[1] = (Elf64_Phdr){.p_type = PT_NOTE,
			       .p_offset = offsetof(struct img, nh),
			       .p_filesz = sizeof(Elf64_Nhdr) + 8};
	m.nh = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = 18};
	memcpy(m.name, "Xen", 4);
	m.entry = LOAD + 16;
	return m;
}

/* The same image as an ELF32 (i386), with a 4-byte entry note. */
struct img32 {
	Elf32_Ehdr eh;
	Elf32_Phdr ph[2];
	Elf32_Nhdr nh;
	char name[4];
	uint32_t entry;
	uint8_t code[64];
} __attribute__((packed));

static struct img32 good32(void)
{
	struct img32 m;

	memset(&m, 0, sizeof(m));
	memcpy(m.eh.e_ident, ELFMAG, SELFMAG);
	m.eh.e_ident[EI_CLASS] = ELFCLASS32;
	m.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m.eh.e_ident[EI_VERSION] = EV_CURRENT;
	m.eh.e_type = ET_EXEC;
	m.eh.e_machine = EM_386;
	m.eh.e_version = EV_CURRENT;
	m.eh.e_phoff = offsetof(struct img32, ph);
	m.eh.e_phentsize = sizeof(Elf32_Phdr);
	m.eh.e_phnum = 2;
	m.ph[0] = (Elf32_Phdr){.p_type = PT_LOAD,
			       .p_offset = offsetof(struct img32, code),
			       .p_paddr = LOAD,
			       .p_filesz = 64,
			       .p_memsz = 4096};
	m.ph[1] = (Elf32_Phdr){.p_type = PT_NOTE,
			       .p_offset = offsetof(struct img32, nh),
			       .p_filesz = sizeof(Elf32_Nhdr) + 8};
	m.nh = (Elf32_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = 18};
	memcpy(m.name, "Xen", 4);
	m.entry = LOAD + 16;
	return m;
}

/* An ELF64 whose note carries an 8-byte entry (as Linux's does). */
struct img8 {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	char name[4];
	uint64_t entry;
	uint8_t code[64];
} __attribute__((packed));

static int parse(const void *buf, size_t size, struct pvh_image *pi, char *err)
{
	return pvh_parse(buf, size, MEM, pi, err, 256);
}

/* Expect a rejection whose message contains want. */
static void bad(const struct img *m, size_t size, const char *want, const char *what)
{
	struct pvh_image pi;
	char err[256] = "";
	int r = parse(m, size, &pi, err);

	ok(r < 0 && strstr(err, want), what);
	if (r == 0 || !strstr(err, want))
		printf("#   got r=%d err='%s', wanted '%s'\n", r, err, want);
}

int main(void)
{
	struct pvh_image pi;
	char err[256];
	struct img m = good();

	ok(parse(&m, sizeof(m), &pi, err) == 0 && pi.entry == LOAD + 16 && pi.nsegs == 1 &&
		   pi.seg[0].paddr == LOAD && pi.seg[0].memsz == 4096,
	   "a well-formed PVH ELF is accepted, entry and segment found");

	bad(&m, 3, "not an ELF", "3-byte file is not an ELF");
	bad(&m, 40, "truncated ELF header", "truncated header");
	m = good(), m.eh.e_ident[0] = 'M';
	bad(&m, sizeof(m), "not an ELF", "bad magic");
	m = good(), m.eh.e_ident[EI_CLASS] = 3;
	bad(&m, sizeof(m), "unknown ELF class 3", "ELF class neither 32 nor 64 refused");
	m = good(), m.eh.e_ident[EI_DATA] = ELFDATA2MSB;
	bad(&m, sizeof(m), "little-endian", "big-endian refused");
	m = good(), m.eh.e_version = 7;
	bad(&m, sizeof(m), "version", "unknown ELF version");
	m = good(), m.eh.e_type = ET_DYN;
	bad(&m, sizeof(m), "ET_EXEC", "shared object refused");
	m = good(), m.eh.e_machine = EM_AARCH64;
	bad(&m, sizeof(m), "x86-64", "wrong machine");
	m = good(), m.eh.e_phentsize = 10;
	bad(&m, sizeof(m), "program header size", "bad phentsize");
	m = good(), m.eh.e_phnum = 0;
	bad(&m, sizeof(m), "no program headers", "no program headers");
	m = good(), m.eh.e_phoff = sizeof(m) - 8;
	bad(&m, sizeof(m), "outside the file", "program headers past the end");
	m = good(), m.eh.e_phoff = ~0ULL - 8;
	bad(&m, sizeof(m), "outside the file", "program header offset wraps");
	m = good(), m.eh.e_phnum = 0xfffe;
	bad(&m, sizeof(m), "outside the file", "huge phnum");
	m = good(), m.ph[0].p_filesz = 4096;
	bad(&m, sizeof(m), "outside the file", "segment data past the end (truncated image)");
	m = good(), m.ph[0].p_offset = ~0ULL;
	bad(&m, sizeof(m), "outside the file", "segment offset wraps");
	m = good(), m.ph[0].p_filesz = 64, m.ph[0].p_memsz = 32;
	bad(&m, sizeof(m), "larger than memory size", "filesz > memsz");
	m = good(), m.ph[0].p_paddr = MEM - 2048;
	bad(&m, sizeof(m), "does not fit", "segment straddles the end of RAM");
	m = good(), m.ph[0].p_paddr = ~0ULL - 100;
	bad(&m, sizeof(m), "does not fit", "segment address wraps");
	m = good(), m.ph[0].p_memsz = ~0ULL;
	bad(&m, sizeof(m), "does not fit", "segment size wraps");
	/* Where the boot block goes: where no segment is (issue 19 item 4). */
	{
		struct pvh_image pb;
		char eb[256] = "";

		m = good();
		ok(parse(&m, sizeof(m), &pb, eb) == 0 && pb.boot_base == BOOT_BLOCK_LOW &&
			   BOOT_BLOCK_LOW + PVH_START_INFO_OFF == PVH_START_INFO,
		   "an image at 1 MiB: the boot block at BOOT_BLOCK_LOW, start info at 0x1000");
		m = good(), m.ph[0].p_paddr = 0x2000, m.entry = 0x2010;
		ok(parse(&m, sizeof(m), &pb, eb) == 0 && pb.boot_base == 0x3000,
		   "a segment at 0x2000 (over the start info's usual page) is accepted; the "
		   "boot block moves past it, to 0x3000");
		m = good(), m.ph[0].p_paddr = 0x4000, m.entry = 0x4010;
		ok(parse(&m, sizeof(m), &pb, eb) == 0 && pb.boot_base == 0x5000 &&
			   (pb.boot_base >= 0x5000 || pb.boot_base + BOOT_BLOCK_SIZE <= 0x4000),
		   "a segment at 0x4000 (the usual PVH module list) is accepted; the boot "
		   "block (0x5000) and the segment do not overlap");
		if (pb.boot_base != 0x5000)
			printf("#   boot_base 0x%llx (%s)\n", (unsigned long long)pb.boot_base, eb);
		m = good(), m.ph[0].p_paddr = ACPI_BASE, m.entry = ACPI_BASE + 16;
		bad(&m, sizeof(m), "overlaps the ACPI tables at 0xe0000-0xf0000",
		    "a segment at 0xe0000 (the ACPI tables) is refused, naming both ranges");
		m = good(), m.ph[0].p_paddr = ACPI_BASE + ACPI_SIZE - 16, m.entry = ACPI_BASE + ACPI_SIZE;
		bad(&m, sizeof(m), "segment 0 at 0xefff0-0xf0ff0 overlaps the ACPI tables",
		    "a segment reaching into the ACPI tables from below is refused");
		m = good(), m.ph[0].p_paddr = 0xb8000, m.entry = 0xb8010;
		bad(&m, sizeof(m), "overlaps the legacy hole at 0xa0000-0x100000",
		    "a segment in the VGA hole is refused");
		m = good(), m.ph[0].p_paddr = 0x9f800, m.entry = 0x9f810;
		bad(&m, sizeof(m), "legacy hole", "a segment straddling 640 KiB is refused");
	}
	{
		/* The placement itself, on ranges. */
		struct gpa_range u[3];
		uint64_t base = 0;
		char eb[256] = "";

		u[0] = (struct gpa_range){0x1000, 0x9c000};
		ok(boot_block_place(u, 1, MEM, &base, eb, sizeof(eb)) == 0 && base == 0x9c000,
		   "exactly 16 KiB left below 640 KiB: the boot block takes it");
		u[0] = (struct gpa_range){0x1000, 0x9d000};
		ok(boot_block_place(u, 1, MEM, &base, eb, sizeof(eb)) == 0 && base == LOAD,
		   "less than 16 KiB left below 640 KiB: the block goes to 1 MiB, never "
		   "across the hole");
		u[1] = (struct gpa_range){LOAD, LOAD + 0x10001};
		ok(boot_block_place(u, 2, MEM, &base, eb, sizeof(eb)) == 0 &&
			   base == LOAD + 0x11000,
		   "low memory full and an image at 1 MiB: the block on the first page after it");
		u[0] = (struct gpa_range){0, LOW_RAM_END};
		u[1] = (struct gpa_range){LOAD, MEM - 0x3000};
		ok(boot_block_place(u, 2, MEM, &base, eb, sizeof(eb)) < 0 &&
			   strstr(eb, "no room for kvmini's boot structures") &&
			   strstr(eb, "0x1000-0xa0000") && strstr(eb, "0x100000-0x4000000") &&
			   strstr(eb, "fill 0x0-0x3ffd000") && !strchr(eb, '\n'),
		   "an image that leaves no 16 KiB anywhere is refused, naming where the block "
		   "may go and what the image fills");
		if (!strstr(eb, "fill 0x0-0x3ffd000"))
			printf("#   got '%s'\n", eb);
		u[1] = (struct gpa_range){LOAD, MEM - 0x4000};
		ok(boot_block_place(u, 2, MEM, &base, eb, sizeof(eb)) == 0 && base == MEM - 0x4000,
		   "the last 16 KiB of RAM will do");
		u[0] = (struct gpa_range){0x1000, 0xe000};
		ok(boot_block_place(u, 1, MEM, &base, eb, sizeof(eb)) == 0 &&
			   base == SMP_TRAMPOLINE + SMP_TRAMPOLINE_SIZE,
		   "the block never takes the tiny guest's AP trampoline page (0x10000)");
		u[0] = (struct gpa_range){0x3000, 0x3001};
		u[1] = (struct gpa_range){0x8000, 0x9000};
		u[2] = (struct gpa_range){0x4000, 0x5000};
		ok(boot_block_place(u, 3, MEM, &base, eb, sizeof(eb)) == 0 && base == 0x9000,
		   "ranges in any order: the first 16 KiB hole at or above 0x1000 (0x9000)");
	}
	m = good(), m.ph[1].p_type = PT_NULL;
	bad(&m, sizeof(m), "no PVH entry note", "no note");
	m = good(), m.nh.n_type = 1;
	bad(&m, sizeof(m), "no PVH entry note", "note of another type");
	m = good(), m.nh.n_descsz = 2;
	bad(&m, sizeof(m), "malformed PVH entry note", "note with a 2-byte descriptor");
	m = good(), m.nh.n_descsz = 0x7ffffff0;
	bad(&m, sizeof(m), "no PVH entry note", "note whose size runs past the segment");
	m = good(), m.entry = 0x50000;
	bad(&m, sizeof(m), "outside every loaded segment", "entry outside the segments");
	m = good(), m.ph[1].p_offset = sizeof(m) + 4;
	bad(&m, sizeof(m), "outside the file", "note segment outside the file");

	/* ELF32: the same checks, 32-bit fields widened without sign
	 * extension. */
	{
		struct img32 m32 = good32();
		struct pvh_image p32;
		char e32[256] = "";

		ok(parse(&m32, sizeof(m32), &p32, e32) == 0 && p32.entry == LOAD + 16 &&
			   p32.nsegs == 1 && p32.seg[0].paddr == LOAD && p32.seg[0].memsz == 4096 &&
			   p32.elf_class == ELFCLASS32,
		   "a well-formed ELF32 PVH image is accepted, entry and segment found");
		m32.ph[0].p_paddr = 0x80000000u;
		ok(parse(&m32, sizeof(m32), &p32, e32) < 0 && strstr(e32, "at 0x80000000+") &&
			   !strstr(e32, "ffffffff"),
		   "ELF32 p_paddr 0x80000000 is 2 GiB (not sign-extended) and refused past RAM");
		if (!strstr(e32, "at 0x80000000+"))
			printf("#   got '%s'\n", e32);
		m32 = good32(), m32.eh.e_machine = EM_AARCH64;
		ok(parse(&m32, sizeof(m32), &p32, e32) < 0 && strstr(e32, "i386"),
		   "ELF32 of another machine refused");
		m32 = good32(), m32.eh.e_phentsize = sizeof(Elf64_Phdr);
		ok(parse(&m32, sizeof(m32), &p32, e32) < 0 && strstr(e32, "program header size"),
		   "ELF32 with ELF64-sized program headers refused");
		m32 = good32(), m32.ph[0].p_filesz = 4096;
		ok(parse(&m32, sizeof(m32), &p32, e32) < 0 && strstr(e32, "outside the file"),
		   "ELF32 segment data past the end refused");
		m32 = good32(), m32.ph[0].p_memsz = 0xffffffffu;
		ok(parse(&m32, sizeof(m32), &p32, e32) < 0 && strstr(e32, "does not fit"),
		   "ELF32 segment of 4 GiB refused");
		m32 = good32(), m32.entry = 0x50000;
		ok(parse(&m32, sizeof(m32), &p32, e32) < 0 &&
			   strstr(e32, "outside every loaded segment"),
		   "ELF32 entry outside the segments refused");
		m32 = good32(), m32.nh.n_type = 1;
		ok(parse(&m32, sizeof(m32), &p32, e32) < 0 && strstr(e32, "no PVH entry note"),
		   "ELF32 without the PVH note refused");
	}
	{
		struct img8 m8;
		struct img mm = good();
		struct pvh_image p8;
		char e8[256] = "";

		memcpy(&m8, &mm, offsetof(struct img8, entry));
		m8.eh.e_phoff = offsetof(struct img8, ph);
		m8.ph[0].p_offset = offsetof(struct img8, code);
		m8.ph[1].p_offset = offsetof(struct img8, nh);
		m8.ph[1].p_filesz = sizeof(Elf64_Nhdr) + 12;
		m8.nh.n_descsz = 8;
		m8.entry = LOAD + 32;
		ok(parse(&m8, sizeof(m8), &p8, e8) == 0 && p8.entry == LOAD + 32,
		   "an 8-byte note entry is read whole");
		m8.entry = 0x100000000ULL + LOAD;
		ok(parse(&m8, sizeof(m8), &p8, e8) < 0 && strstr(e8, "malformed PVH entry note"),
		   "an 8-byte note entry above 4 GiB refused");
	}

	ok(cli_parse_size("64M") == 64UL << 20 && cli_parse_size("2G") == 2UL << 30 &&
		   cli_parse_size("512") == 512UL << 20 && cli_parse_size("4096K") == 4UL << 20 &&
		   cli_parse_size("1GiB") == 1UL << 30,
	   "sizes with and without suffixes");
	ok(!cli_parse_size("") && !cli_parse_size("-1") && !cli_parse_size("12X") &&
		   !cli_parse_size("M") && !cli_parse_size("99999999999999999999G") &&
		   !cli_parse_size("17179869184G"),
	   "malformed and overflowing sizes are refused");
	/* strtoull skips leading blanks and takes a sign after them: a size
	 * must start with a digit.  Found by fuzz_cli. */
	ok(!cli_parse_size(" 64M") && !cli_parse_size("\t1G") && !cli_parse_size(" +5") &&
		   !cli_parse_size("\v5K"),
	   "a size with leading blanks or a sign after them is refused");

	struct hvm_memmap_entry e[8];
	unsigned n = guest_memmap(MEM, e, 8);
	ok(n == 4 && e[0].addr == 0 && e[0].type == HVM_MEMMAP_RAM && e[2].addr == LOAD &&
		   e[2].addr + e[2].size == MEM && e[3].addr == PCI_ECAM_BASE &&
		   e[3].type == HVM_MEMMAP_RESERVED,
	   "memory map: low RAM, legacy hole, RAM to the end, ECAM reserved");

	return tap_done();
}
