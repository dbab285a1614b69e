// SPDX-License-Identifier: MIT
// needs: vmm/multiboot.c vmm/loader.c vmm/trace.c
/*
 * test_multiboot.c - the Multiboot v1 checks (vmm/multiboot.c) on crafted
 * images: an ELF32 kernel and an a.out-kludge kernel that are accepted,
 * and every way a header can be wrong, each refused with its own reason
 * (main turns that into one line and exit 5, before anything is loaded).
 * Prints TAP.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap.h"
#include "../../vmm/cli.h"
#include "../../vmm/multiboot.h"
#include "../../vmm/vcpu.h"
#include "../../vmm/vm.h"
#include "tap.h"

/* Guest RAM for multiboot_load, and the vCPU state it sets. */
static uint8_t *ram;
static uint64_t ram_size;
static struct vcpu_start last_start;

void *vm_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)vm;
	if (!ram || gpa > ram_size || len > ram_size - gpa)
		return NULL;
	return ram + gpa;
}

void vcpu_start(struct vm *vm, const struct vcpu_start *st)
{
	(void)vm;
	last_start = *st;
}

/* TAP through tap.h, which counts the plan itself. */
#define ok(cond, what) tap_ok((cond), "%s", (what))

#define MEM  (64UL << 20)
#define LOAD 0x100000UL

/* An ELF32 kernel: header, one PT_LOAD, then the Multiboot header at the
 * start of the loaded bytes, then code. */
struct elfk {
	Elf32_Ehdr eh;
	Elf32_Phdr ph;
	uint32_t mb[3];
	uint8_t code[64];
} __attribute__((packed));

static void mb_sum(void *mb, uint32_t flags)
{
	uint32_t h[3] = {MB_HEADER_MAGIC, flags, -(MB_HEADER_MAGIC + flags)};

	memcpy(mb, h, sizeof(h));
}

static struct elfk good_elf(void)
{
	struct elfk k;

	memset(&k, 0, sizeof(k));
	memcpy(k.eh.e_ident, ELFMAG, SELFMAG);
	k.eh.e_ident[EI_CLASS] = ELFCLASS32;
	k.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	k.eh.e_ident[EI_VERSION] = EV_CURRENT;
	k.eh.e_type = ET_EXEC;
	k.eh.e_machine = EM_386;
	k.eh.e_version = EV_CURRENT;
	k.eh.e_entry = LOAD + 12;
	k.eh.e_phoff = offsetof(struct elfk, ph);
	k.eh.e_phentsize = sizeof(Elf32_Phdr);
	k.eh.e_phnum = 1;
	k.ph = (Elf32_Phdr){.p_type = PT_LOAD,
			    .p_offset = offsetof(struct elfk, mb),
			    .p_paddr = LOAD,
			    .p_vaddr = LOAD,
			    .p_filesz = 12 + 64,
			    .p_memsz = 8192};
	mb_sum(&k.mb, MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO);
	return k;
}

/* An a.out-kludge kernel (a flat binary): 16 bytes of code, the header
 * with its address fields at file offset 16, more code. */
struct aoutk {
	uint8_t pre[16];
	uint32_t mb[3];
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
	uint8_t code[92];
} __attribute__((packed));

static struct aoutk good_aout(void)
{
	struct aoutk k;

	memset(&k, 0x90, sizeof(k));
	mb_sum(&k.mb, MB_FLAG_MEMINFO | MB_FLAG_AOUT_KLUDGE);
	k.load_addr = 0x200000;
	k.header_addr = 0x200000 + 16;
	k.load_end_addr = 0x200000 + sizeof(k);
	k.bss_end_addr = 0x200000 + 0x3000;
	k.entry_addr = 0x200000 + 64;
	return k;
}

static int parse(const void *buf, size_t size, uint64_t mod, struct multiboot_image *mi, char *err)
{
	return multiboot_parse(buf, size, MEM, mod, mi, err, 256);
}

static void bad(const void *buf, size_t size, uint64_t mod, const char *want, const char *what)
{
	struct multiboot_image mi;
	char err[256] = "";
	int r = parse(buf, size, mod, &mi, err);

	ok(r < 0 && strstr(err, want) && !strchr(err, '\n'), what);
	if (r == 0 || !strstr(err, want))
		printf("#   got r=%d err='%s', wanted '%s'\n", r, err, want);
}

int main(void)
{
	struct multiboot_image mi;
	char err[256];
	struct elfk e = good_elf();
	struct aoutk a = good_aout();

	ok(multiboot_detect((void *)&e, sizeof(e)) && parse(&e, sizeof(e), 0, &mi, err) == 0 &&
	       !mi.aout && mi.entry == LOAD + 12 && mi.segs.nsegs == 1 &&
	       mi.segs.seg[0].paddr == LOAD && mi.segs.seg[0].memsz == 8192 &&
	       mi.kernel_end == LOAD + 8192 && mi.mod_addr == 0,
	   "an ELF32 Multiboot kernel is accepted: entry from e_entry, its segment");
	ok(parse(&e, sizeof(e), 5000, &mi, err) == 0 && mi.mod_addr == LOAD + 8192 &&
	       !(mi.mod_addr & 4095),
	   "the module goes on the first page after the kernel");
	e.ph.p_memsz = 8193;
	ok(parse(&e, sizeof(e), 5000, &mi, err) == 0 && mi.mod_addr == LOAD + 12288,
	   "a kernel ending mid-page: the module is still page-aligned");
	ok(multiboot_detect((void *)&a, sizeof(a)) && parse(&a, sizeof(a), 0, &mi, err) == 0 &&
	       mi.aout && mi.entry == 0x200000 + 64 && mi.segs.nsegs == 1 &&
	       mi.segs.seg[0].paddr == 0x200000 && mi.segs.seg[0].offset == 0 &&
	       mi.segs.seg[0].filesz == sizeof(a) && mi.segs.seg[0].memsz == 0x3000,
	   "an a.out-kludge kernel is accepted: load, bss and entry from the header");
	a.load_end_addr = 0;
	a.bss_end_addr = 0;
	ok(parse(&a, sizeof(a), 0, &mi, err) == 0 && mi.segs.seg[0].filesz == sizeof(a) &&
	       mi.segs.seg[0].memsz == sizeof(a),
	   "a.out kludge: load_end_addr 0 loads the whole file, bss_end_addr 0 adds none");

	ok(!multiboot_detect((const uint8_t *)"\x7f"
					      "ELF and nothing else",
			     20),
	   "an image without the magic is not taken for Multiboot");

	e = good_elf(), e.mb[2] ^= 1;
	bad(&e, sizeof(e), 0, "bad checksum", "bad checksum refused");
	{
		size_t big = MB_SEARCH_LEN + 4096;
		uint8_t *b = calloc(1, big);

		mb_sum(b + MB_SEARCH_LEN + 64, MB_FLAG_MEMINFO);
		ok(multiboot_detect(b, big), "a whole header past 8 KiB is noticed");
		bad(b, big, 0, "past the first 8 KiB", "header past 8 KiB refused with the reason");
		memcpy(b + MB_SEARCH_LEN - 4, "\x02\xb0\xad\x1b", 4);
		bad(b, MB_SEARCH_LEN, 0, "cut off", "magic in the last 4 bytes: header cut off");
		free(b);
	}
	e = good_elf(), mb_sum(&e.mb, MB_FLAG_MEMINFO | MB_FLAG_VIDEO);
	bad(&e, sizeof(e), 0, "video mode", "video mode request refused (no framebuffer)");
	e = good_elf(), mb_sum(&e.mb, MB_FLAG_MEMINFO | 0x8);
	bad(&e, sizeof(e), 0, "flag bits 0x0008", "unknown requirement bit 3 refused");
	e = good_elf(), mb_sum(&e.mb, MB_FLAG_MEMINFO | 0x40000000);
	ok(parse(&e, sizeof(e), 0, &mi, err) == 0, "unknown optional bits (16-31) are ignored");
	e = good_elf(), e.ph.p_paddr = MEM - 4096;
	bad(&e, sizeof(e), 0, "does not fit", "ELF segment past the end of RAM refused");
	e = good_elf(), e.ph.p_paddr = 0x8000, e.eh.e_entry = 0x800c;
	ok(parse(&e, sizeof(e), 0, &mi, err) == 0 && mi.segs.boot_base == BOOT_BLOCK_LOW &&
		   BOOT_BLOCK_LOW + BOOT_BLOCK_SIZE <= 0x8000,
	   "ELF segment at 0x8000 accepted (QEMU boots it), the boot block below it");
	e = good_elf(), e.ph.p_paddr = 0x1000, e.eh.e_entry = 0x100c;
	ok(parse(&e, sizeof(e), 5000, &mi, err) == 0 && mi.mod_addr == 0x3000 &&
		   mi.segs.boot_base == 0x5000,
	   "ELF segment at 0x1000 (the usual boot block) and a module after it: the "
	   "block moves past both, to 0x5000");
	e = good_elf(), e.ph.p_paddr = 0x1000, e.eh.e_entry = 0x100c;
	ok(parse(&e, sizeof(e), 1 << 20, &mi, err) == 0 && mi.mod_addr == LOAD &&
		   mi.segs.boot_base == 0x3000,
	   "a low kernel whose module does not fit below 640 KiB: the module at 1 MiB");
	e = good_elf(), e.ph.p_paddr = ACPI_BASE, e.eh.e_entry = ACPI_BASE + 12;
	bad(&e, sizeof(e), 0, "overlaps the ACPI tables at 0xe0000-0xf0000",
	    "ELF segment over the ACPI tables refused, naming both ranges");
	e = good_elf(), e.eh.e_entry = 0x50000;
	bad(&e, sizeof(e), 0, "entry 0x50000 is outside", "ELF entry outside the segments");
	e = good_elf(), e.ph.p_filesz = 4096;
	bad(&e, sizeof(e), 0, "outside the file", "ELF segment data past the end of the file");

	a = good_aout(), mb_sum(&a.mb, MB_FLAG_MEMINFO);
	bad(&a, sizeof(a), 0, "not an ELF", "flat image without flag 16 refused");
	a = good_aout(), a.load_addr = MEM - 4096, a.header_addr = MEM - 4096 + 16,
	a.load_end_addr = 0, a.bss_end_addr = MEM + 4096, a.entry_addr = MEM - 4000;
	bad(&a, sizeof(a), 0, "does not fit in 64 MiB of RAM", "a.out kludge: bss past the end of RAM");
	a = good_aout(), a.load_addr = 0x1000, a.header_addr = 0x1010, a.load_end_addr = 0,
	a.bss_end_addr = 0x5000, a.entry_addr = 0x1040;
	ok(parse(&a, sizeof(a), 0, &mi, err) == 0 && mi.segs.boot_base == 0x5000,
	   "a.out kludge: load at 0x1000 accepted, the boot block after its bss");
	a = good_aout(), a.load_addr = 0xc0000, a.header_addr = 0xc0010, a.load_end_addr = 0,
	a.bss_end_addr = 0, a.entry_addr = 0xc0040;
	bad(&a, sizeof(a), 0, "the Multiboot image at 0xc0000-0xc008c overlaps the legacy hole",
	    "a.out kludge: load in the legacy hole refused");
	a = good_aout(), a.header_addr = 0x200000 + 64;
	bad(&a, sizeof(a), 0, "do not match",
	    "a.out kludge: header_addr inconsistent with the file");
	a = good_aout(), a.load_end_addr = 0x200000 + 0x10000;
	bad(&a, sizeof(a), 0, "load_end_addr", "a.out kludge: load_end_addr past the file");
	a = good_aout(), a.bss_end_addr = 0x200000 + 8;
	bad(&a, sizeof(a), 0, "bss_end_addr", "a.out kludge: bss_end_addr below the loaded end");
	a = good_aout(), a.entry_addr = 0x100000;
	bad(&a, sizeof(a), 0, "entry_addr", "a.out kludge: entry outside the image");

	e = good_elf();
	bad(&e, sizeof(e), MEM, "--initrd module", "a module larger than the RAM left refused");

	/* Loaded into RAM: a kernel at 0x1000-0x3000 (over the usual boot
	 * block) keeps its bytes, and every pointer in the information
	 * structure leads into the block, clear of the kernel and module. */
	{
		static const char mod[] = "KVMINI-MB-MODULE";
		struct multiboot_info *mbi;
		struct multiboot_mod *mm;
		uint64_t b;

		ram_size = MEM;
		ram = calloc(1, ram_size);
		e = good_elf(), e.ph.p_paddr = 0x1000, e.eh.e_entry = 0x100c;
		ok(parse(&e, sizeof(e), sizeof(mod), &mi, err) == 0, "low kernel parsed for loading");
		static struct vm tvm;

		tvm.mem_size = MEM;
		multiboot_load(&tvm, (const uint8_t *)&e, &mi, "/k.elf a=b", "mod.txt",
			       (const uint8_t *)mod, sizeof(mod));
		b = mi.segs.boot_base;
		mbi = (struct multiboot_info *)(ram + last_start.rbx);
		mm = (struct multiboot_mod *)(ram + mbi->mods_addr);
		ok(last_start.rbx == b + MB_INFO_OFF && b >= 0x4000 &&
			   !memcmp(ram + 0x1000, e.mb, 12 + 64),
		   "multiboot_load: EBX at the moved block, the kernel's bytes intact");
		ok(!strcmp((char *)ram + mbi->cmdline, "/k.elf a=b") &&
			   mbi->cmdline >= b && mbi->cmdline < b + BOOT_BLOCK_SIZE &&
			   mbi->mmap_addr >= b && mbi->mmap_addr < b + BOOT_BLOCK_SIZE &&
			   mbi->mods_addr >= b && mbi->mods_addr < b + BOOT_BLOCK_SIZE &&
			   !strcmp((char *)ram + mbi->boot_loader_name, "kvmini " KVMINI_VERSION) &&
			   mbi->mods_count == 1 && mm->mod_start == mi.mod_addr &&
			   !memcmp(ram + mm->mod_start, mod, sizeof(mod)) &&
			   !strcmp((char *)ram + mm->string, "mod.txt"),
		   "multiboot_load: command line, map, module list and name all in the block, "
		   "the module intact after the kernel");
		free(ram);
		ram = NULL;
	}

	/* The command line: the --kernel path as given, a space, --cmdline
	 * (QEMU's "%s %s"), so the first word is the program name. */
	{
		static char out[MB_CMDLINE_MAX], big[MB_CMDLINE_MAX + 8];

		tap_ok(multiboot_cmdline(out, sizeof(out), "/l2/smptest.elf", "cpus=2 verbose",
					 err, sizeof(err)) == 0 &&
			       !strcmp(out, "/l2/smptest.elf cpus=2 verbose"),
		       "Multiboot command line: the kernel's path, a space, the arguments");
		tap_ok(multiboot_cmdline(out, sizeof(out), "build/test/mbtest.elf", "", err,
					 sizeof(err)) == 0 &&
			       !strcmp(out, "build/test/mbtest.elf "),
		       "empty --cmdline: the path and a space, as QEMU passes it");
		memset(big, 'a', MB_CMDLINE_MAX - 6); /* 5 + 1 + 4090 = 4096 bytes */
		big[MB_CMDLINE_MAX - 6] = 0;
		tap_ok(multiboot_cmdline(out, sizeof(out), "k.elf", big, err, sizeof(err)) < 0 &&
			       strstr(err, "limit is 4095") && strstr(err, "--kernel path"),
		       "a path and arguments longer than 4095 bytes refused, saying why");
		big[MB_CMDLINE_MAX - 7] = 0; /* 5 + 1 + 4089 = 4095 bytes: fits */
		tap_ok(multiboot_cmdline(out, sizeof(out), "k.elf", big, err, sizeof(err)) == 0 &&
			       strlen(out) == 4095,
		       "a command line just under the limit fits");
	}

	return tap_done();
}
