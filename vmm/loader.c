/* SPDX-License-Identifier: MIT */
/*
 * loader.c - PVH ELF loading (ELF32 and ELF64).
 *
 * The PVH boot ABI: the image is an ELF whose notes carry
 * XEN_ELFNOTE_PHYS32_ENTRY, a 32-bit physical entry point.  The VMM loads
 * the PT_LOAD segments at their physical addresses, writes struct
 * hvm_start_info, and starts the vCPU there in 32-bit protected mode with
 * paging off and %ebx pointing at the start info.
 *
 * Every field read from the file is checked before it is used: offsets and
 * sizes against the file, addresses against guest RAM and the boot
 * structures, all with overflow-safe arithmetic.
 */
#include "loader.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memmap.h"
#include "trace.h"
#include "vm.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

int loader_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Is [off, off+len) inside a buffer of size bytes? */
static int in_buf(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* Scan one PT_NOTE segment for the PVH entry note. */
static int find_pvh_note(const uint8_t *p, uint64_t len, uint32_t *entry)
{
	uint64_t off = 0;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr n;
		uint64_t name_off, desc_off, next;

		memcpy(&n, p + off, sizeof(n));
		name_off = off + sizeof(n);
		desc_off = name_off + (((uint64_t)n.n_namesz + 3) & ~3ULL);
		next = desc_off + (((uint64_t)n.n_descsz + 3) & ~3ULL);
		if (next > len || next <= off)
			return 0; /* truncated note: stop, not an error by itself */
		if (n.n_type == XEN_ELFNOTE_PHYS32_ENTRY && n.n_namesz == 4 &&
		    !memcmp(p + name_off, "Xen", 4)) {
			if (n.n_descsz == 4) {
				uint32_t v;
				memcpy(&v, p + desc_off, 4);
				*entry = v;
				return 1;
			}
			if (n.n_descsz == 8) {
				uint64_t v;
				memcpy(&v, p + desc_off, 8);
				if (v > 0xffffffffULL)
					return -1;
				*entry = (uint32_t)v;
				return 1;
			}
			return -1;
		}
		off = next;
	}
	return 0;
}

/* ELF32 and ELF64 headers carry the same fields in different widths; the
 * checks below read them through these, widened without sign extension
 * (an Elf32_Addr of 0x80000000 is 2 GiB, never 0xffffffff80000000). */
struct elf_hdr {
	unsigned cls; /* ELFCLASS32 or ELFCLASS64 */
	uint16_t type, machine, phentsize, phnum;
	uint32_t version;
	uint64_t phoff, entry;
};

struct elf_phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static int elf_read_hdr(const uint8_t *buf, size_t size, struct elf_hdr *h, char *err,
			size_t errlen)
{
	if (size < 4 || memcmp(buf, ELFMAG, SELFMAG))
		return loader_err(err, errlen, "not an ELF file, nor a bzImage: give a Linux bzImage, "
					 "a PVH or Multiboot ELF such as vmlinux, or build/guest.elf");
	if (size < EI_NIDENT)
		return loader_err(err, errlen, "truncated ELF header (%zu bytes)", size);
	h->cls = buf[EI_CLASS];
	if (h->cls == ELFCLASS64) {
		Elf64_Ehdr eh;

		if (size < sizeof(eh))
			return loader_err(err, errlen, "truncated ELF header (%zu bytes)", size);
		memcpy(&eh, buf, sizeof(eh));
		*h = (struct elf_hdr){ELFCLASS64, eh.e_type, eh.e_machine, eh.e_phentsize,
				      eh.e_phnum, eh.e_version, eh.e_phoff, eh.e_entry};
	} else if (h->cls == ELFCLASS32) {
		Elf32_Ehdr eh;

		if (size < sizeof(eh))
			return loader_err(err, errlen, "truncated ELF header (%zu bytes)", size);
		memcpy(&eh, buf, sizeof(eh));
		*h = (struct elf_hdr){ELFCLASS32, eh.e_type, eh.e_machine, eh.e_phentsize,
				      eh.e_phnum, eh.e_version, eh.e_phoff, eh.e_entry};
	} else {
		return loader_err(err, errlen, "unknown ELF class %u (neither 32- nor 64-bit)",
				  buf[EI_CLASS]);
	}
	if (buf[EI_DATA] != ELFDATA2LSB)
		return loader_err(err, errlen, "not a little-endian ELF");
	if (buf[EI_VERSION] != EV_CURRENT || h->version != EV_CURRENT)
		return loader_err(err, errlen, "unknown ELF version %u", h->version);
	if (h->type != ET_EXEC)
		return loader_err(err, errlen, "ELF type %u is not an executable (ET_EXEC)", h->type);
	/* An ELF64 is x86-64; an ELF32 is i386 or x32, entered in 32-bit mode
	 * either way. */
	if (h->cls == ELFCLASS64 ? h->machine != EM_X86_64
				 : h->machine != EM_386 && h->machine != EM_X86_64)
		return loader_err(err, errlen, "ELF machine %u is not %s", h->machine,
				  h->cls == ELFCLASS64 ? "x86-64" : "i386 or x86-64");
	if (h->phentsize != (h->cls == ELFCLASS64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		return loader_err(err, errlen, "bad program header size %u", h->phentsize);
	if (h->phnum == 0 || h->phnum == PN_XNUM)
		return loader_err(err, errlen, "no program headers");
	if (!in_buf(h->phoff, (uint64_t)h->phnum * h->phentsize, size))
		return loader_err(err, errlen, "program headers lie outside the file");
	return 0;
}

/* Program header i of an image elf_read_hdr() accepted. */
static void elf_read_phdr(const uint8_t *buf, const struct elf_hdr *h, unsigned i,
			  struct elf_phdr *ph)
{
	const uint8_t *p = buf + h->phoff + (uint64_t)i * h->phentsize;

	if (h->cls == ELFCLASS64) {
		Elf64_Phdr e;

		memcpy(&e, p, sizeof(e));
		*ph = (struct elf_phdr){e.p_type, e.p_offset, e.p_paddr, e.p_filesz, e.p_memsz};
	} else {
		Elf32_Phdr e;

		memcpy(&e, p, sizeof(e));
		*ph = (struct elf_phdr){e.p_type, e.p_offset, e.p_paddr, e.p_filesz, e.p_memsz};
	}
}

int loader_check_range(const char *what, uint64_t start, uint64_t len, char *err, size_t errlen)
{
	/* The legacy hole is reserved in every memory map kvmini gives, and
	 * its ACPI part holds the tables the guest reads: nothing of the
	 * image may land there (QEMU has ROM and VGA memory there). */
	if (start < GUEST_LOAD_ADDR && start + len > LOW_RAM_END) {
		if (start < ACPI_BASE + ACPI_SIZE && start + len > ACPI_BASE)
			return loader_err(err, errlen,
					  "%s at 0x%llx-0x%llx overlaps the ACPI tables at "
					  "0x%lx-0x%lx, reserved in the guest's memory map: "
					  "link it below 0x%lx or at 1 MiB and above",
					  what, (unsigned long long)start,
					  (unsigned long long)(start + len), ACPI_BASE,
					  ACPI_BASE + ACPI_SIZE, LOW_RAM_END);
		return loader_err(err, errlen,
				  "%s at 0x%llx-0x%llx overlaps the legacy hole at "
				  "0x%lx-0x%lx, reserved in the guest's memory map: link it "
				  "below 0x%lx or at 1 MiB and above",
				  what, (unsigned long long)start, (unsigned long long)(start + len),
				  LOW_RAM_END, GUEST_LOAD_ADDR, LOW_RAM_END);
	}
	return 0;
}

/* The first range of used[] that [a, a+len) overlaps, or NULL. */
static const struct gpa_range *range_hit(uint64_t a, uint64_t len, const struct gpa_range *used,
					 unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a < used[i].end && used[i].start < a + len)
			return &used[i];
	return NULL;
}

int boot_block_place(const struct gpa_range *used, unsigned n, uint64_t mem_size,
		     uint64_t *base, char *err, size_t errlen)
{
	uint64_t top = mem_size < (1ULL << 32) ? mem_size : (1ULL << 32);
	uint64_t c = BOOT_BLOCK_LOW, lo = ~0ULL, hi = 0;
	const struct gpa_range *hit;

	for (;;) {
		c = (c + 4095) & ~4095ULL;
		/* Not across or inside the legacy hole: on at 1 MiB. */
		if (c < GUEST_LOAD_ADDR && c + BOOT_BLOCK_SIZE > LOW_RAM_END)
			c = GUEST_LOAD_ADDR;
		if (c > top || BOOT_BLOCK_SIZE > top - c)
			break;
		/* Never the tiny guest's AP trampoline page: it copies its
		 * trampoline there while it may still read the block. */
		if (c < SMP_TRAMPOLINE + SMP_TRAMPOLINE_SIZE && SMP_TRAMPOLINE < c + BOOT_BLOCK_SIZE) {
			c = SMP_TRAMPOLINE + SMP_TRAMPOLINE_SIZE;
			continue;
		}
		hit = range_hit(c, BOOT_BLOCK_SIZE, used, n);
		if (!hit) {
			*base = c;
			return 0;
		}
		c = hit->end; /* ranges end after they start: c grows */
	}
	for (unsigned i = 0; i < n; i++) {
		lo = used[i].start < lo ? used[i].start : lo;
		hi = used[i].end > hi ? used[i].end : hi;
	}
	return loader_err(err, errlen,
			  "no room for kvmini's boot structures (%lu KiB, page-aligned) in RAM at "
			  "0x%lx-0x%lx or 0x%lx-0x%llx: the image and its module fill "
			  "0x%llx-0x%llx; leave %lu KiB free in one of them, or raise --mem",
			  BOOT_BLOCK_SIZE >> 10, BOOT_BLOCK_LOW, LOW_RAM_END, GUEST_LOAD_ADDR,
			  (unsigned long long)top, (unsigned long long)lo, (unsigned long long)hi,
			  BOOT_BLOCK_SIZE >> 10);
}

int image_boot_block(const struct pvh_image *img, uint64_t mod_addr, uint64_t mod_size,
		     uint64_t mem_size, uint64_t *base, char *err, size_t errlen)
{
	struct gpa_range used[LOADER_MAX_SEGS + 1];
	unsigned n = 0;

	for (unsigned i = 0; i < img->nsegs; i++)
		used[n++] = (struct gpa_range){img->seg[i].paddr,
					       img->seg[i].paddr + img->seg[i].memsz};
	if (mod_size)
		used[n++] = (struct gpa_range){mod_addr, mod_addr + mod_size};
	return boot_block_place(used, n, mem_size, base, err, errlen);
}

int elf_load_segs(const uint8_t *buf, size_t size, uint64_t mem_size, struct pvh_image *img,
		  int *have_note, char *err, size_t errlen)
{
	struct elf_hdr eh = {0};
	char what[32];

	memset(img, 0, sizeof(*img));
	if (elf_read_hdr(buf, size, &eh, err, errlen))
		return -1;
	img->elf_class = eh.cls;
	img->e_entry = eh.entry;
	for (unsigned i = 0; i < eh.phnum; i++) {
		struct elf_phdr ph;

		elf_read_phdr(buf, &eh, i, &ph);
		if (ph.type == PT_NOTE && have_note) {
			int r;

			if (!in_buf(ph.offset, ph.filesz, size))
				return loader_err(err, errlen, "note segment %u lies outside the file", i);
			r = find_pvh_note(buf + ph.offset, ph.filesz, &img->entry);
			if (r < 0)
				return loader_err(err, errlen, "malformed PVH entry note");
			*have_note |= r;
			continue;
		}
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (img->nsegs == LOADER_MAX_SEGS)
			return loader_err(err, errlen, "more than %d loadable segments", LOADER_MAX_SEGS);
		if (!in_buf(ph.offset, ph.filesz, size))
			return loader_err(err, errlen, "segment %u: file range 0x%llx+0x%llx lies outside "
						 "the file (truncated image?)",
				    i, (unsigned long long)ph.offset, (unsigned long long)ph.filesz);
		if (ph.filesz > ph.memsz)
			return loader_err(err, errlen, "segment %u: file size larger than memory size", i);
		if (!in_buf(ph.paddr, ph.memsz, mem_size))
			return loader_err(err, errlen, "segment %u at 0x%llx+0x%llx does not fit in %llu MiB "
						 "of RAM: raise --mem",
				    i, (unsigned long long)ph.paddr, (unsigned long long)ph.memsz,
				    (unsigned long long)(mem_size >> 20));
		snprintf(what, sizeof(what), "segment %u", i);
		if (loader_check_range(what, ph.paddr, ph.memsz, err, errlen))
			return -1;
		img->seg[img->nsegs].paddr = ph.paddr;
		img->seg[img->nsegs].filesz = ph.filesz;
		img->seg[img->nsegs].memsz = ph.memsz;
		img->seg[img->nsegs].offset = ph.offset;
		img->nsegs++;
	}
	if (!img->nsegs)
		return loader_err(err, errlen, "no loadable segments");
	return 0;
}

int pvh_parse(const uint8_t *buf, size_t size, uint64_t mem_size, struct pvh_image *img,
	      char *err, size_t errlen)
{
	int have_note = 0;

	if (elf_load_segs(buf, size, mem_size, img, &have_note, err, errlen))
		return -1;
	if (!have_note)
		return loader_err(err, errlen, "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): the "
					 "image cannot be started in 32-bit mode");
	/* The entry must land in something we loaded. */
	if (!elf_entry_loaded(img, img->entry))
		return loader_err(err, errlen, "PVH entry 0x%x is outside every loaded segment",
				  img->entry);
	/* The start info and what it points to go where the segments are
	 * not; a Linux initrd follows, above both (pvh_add_linux). */
	return image_boot_block(img, 0, 0, mem_size, &img->boot_base, err, errlen);
}

bool elf_entry_loaded(const struct pvh_image *img, uint32_t entry)
{
	for (unsigned i = 0; i < img->nsegs; i++)
		if (entry >= img->seg[i].paddr && entry - img->seg[i].paddr < img->seg[i].memsz)
			return true;
	return false;
}

unsigned guest_memmap(uint64_t mem_size, struct hvm_memmap_entry *e, unsigned max)
{
	unsigned n = 0;

	/* Conventional memory, then the legacy VGA/BIOS hole, then the rest of
	 * RAM; the ECAM window is reserved so an OS trusts MCFG. */
	if (n < max)
		e[n++] = (struct hvm_memmap_entry){0, LOW_RAM_END, HVM_MEMMAP_RAM, 0};
	if (n < max)
		e[n++] = (struct hvm_memmap_entry){LOW_RAM_END, GUEST_LOAD_ADDR - LOW_RAM_END,
						   HVM_MEMMAP_RESERVED, 0};
	if (n < max && mem_size > GUEST_LOAD_ADDR)
		e[n++] = (struct hvm_memmap_entry){GUEST_LOAD_ADDR, mem_size - GUEST_LOAD_ADDR,
						   HVM_MEMMAP_RAM, 0};
	if (n < max)
		e[n++] = (struct hvm_memmap_entry){PCI_ECAM_BASE, PCI_ECAM_SIZE,
						   HVM_MEMMAP_RESERVED, 0};
	return n;
}

void loader_copy_segs(struct vm *vm, const uint8_t *buf, const struct pvh_image *img)
{
	for (unsigned i = 0; i < img->nsegs; i++) {
		uint8_t *dst = vm_gpa(vm, img->seg[i].paddr, img->seg[i].memsz);

		/* pvh_parse checked this; a NULL here is a bug, not bad input. */
		if (!dst)
			die(EXIT_HOST, "internal: segment %u escaped the RAM check", i);
		memcpy(dst, buf + img->seg[i].offset, img->seg[i].filesz);
		memset(dst + img->seg[i].filesz, 0, img->seg[i].memsz - img->seg[i].filesz);
		trace(TRACE_BOOT, "segment %u: 0x%llx-0x%llx (%llu bytes from file)", i,
		      (unsigned long long)img->seg[i].paddr,
		      (unsigned long long)(img->seg[i].paddr + img->seg[i].memsz),
		      (unsigned long long)img->seg[i].filesz);
	}
}

void pvh_load(struct vm *vm, const uint8_t *buf, const struct pvh_image *img, const char *cmdline)
{
	struct hvm_start_info *si;
	struct hvm_memmap_entry *mm;
	size_t clen = strlen(cmdline);
	uint8_t *blk = vm_gpa(vm, img->boot_base, BOOT_BLOCK_SIZE);

	if (clen >= PVH_CMDLINE_MAX)
		die(EXIT_USAGE, "--cmdline is %zu bytes; the limit is %lu", clen,
		    PVH_CMDLINE_MAX - 1);
	/* pvh_parse placed the block in RAM; NULL here is a bug. */
	if (!blk)
		die(EXIT_HOST, "internal: the boot block at 0x%llx escaped the RAM check",
		    (unsigned long long)img->boot_base);

	loader_copy_segs(vm, buf, img);
	memset(blk, 0, BOOT_BLOCK_SIZE);
	memcpy(blk + PVH_CMDLINE_OFF, cmdline, clen + 1);
	mm = (struct hvm_memmap_entry *)(blk + PVH_MEMMAP_OFF);
	si = (struct hvm_start_info *)(blk + PVH_START_INFO_OFF);
	*si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = img->boot_base + PVH_CMDLINE_OFF,
		.memmap_paddr = img->boot_base + PVH_MEMMAP_OFF,
		.memmap_entries = guest_memmap(vm->mem_size, mm, 128),
	};
	trace(TRACE_BOOT, "PVH entry 0x%x, start info at 0x%llx, %u memory map entries, "
			  "command line \"%s\"",
	      img->entry, (unsigned long long)(img->boot_base + PVH_START_INFO_OFF),
	      si->memmap_entries, cmdline);
}

/* What load_file() and load_file_size() ask of a file's metadata. */
static void file_size_check(const struct stat *st, const char *path, const char *what)
{
	if (!S_ISREG(st->st_mode))
		die(EXIT_KERNEL, "%s '%s' is not a regular file", what, path);
	if (st->st_size == 0)
		die(EXIT_KERNEL, "%s '%s' is empty", what, path);
	if ((uint64_t)st->st_size > GUEST_MEM_MAX)
		die(EXIT_KERNEL, "%s '%s' is larger than the largest guest RAM", what, path);
}

size_t load_file_size(const char *path, const char *what)
{
	struct stat st;

	if (stat(path, &st) < 0)
		die_errno(EXIT_KERNEL, "cannot open %s '%s'", what, path);
	file_size_check(&st, path, what);
	return st.st_size;
}

uint8_t *load_file(const char *path, size_t *size, const char *what)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die_errno(EXIT_KERNEL, "cannot open %s '%s'", what, path);
	if (fstat(fd, &st) < 0)
		st.st_mode = 0;
	file_size_check(&st, path, what);
	buf = malloc(st.st_size);
	if (!buf)
		die(EXIT_HOST, "out of memory reading %s", path);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die_errno(EXIT_KERNEL, "cannot read %s '%s'", what, path);
		got += r;
	}
	close(fd);
	*size = got;
	return buf;
}
