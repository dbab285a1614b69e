/* SPDX-License-Identifier: MIT */
/*
 * loader.c - PVH ELF loading.
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

int pvh_parse(const uint8_t *buf, size_t size, uint64_t mem_size, struct pvh_image *img,
	      char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	int have_note = 0;

	memset(img, 0, sizeof(*img));
	if (size < 4 || memcmp(buf, ELFMAG, SELFMAG))
		return loader_err(err, errlen, "not an ELF file, nor a bzImage: give a Linux bzImage, "
					 "a PVH ELF such as vmlinux, or build/guest.elf");
	if (size < sizeof(eh))
		return loader_err(err, errlen, "truncated ELF header (%zu bytes)", size);
	memcpy(&eh, buf, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return loader_err(err, errlen, "not a 64-bit ELF (class %u): kvmini loads ELF64 only",
			    eh.e_ident[EI_CLASS]);
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return loader_err(err, errlen, "not a little-endian ELF");
	if (eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_version != EV_CURRENT)
		return loader_err(err, errlen, "unknown ELF version %u", eh.e_version);
	if (eh.e_type != ET_EXEC)
		return loader_err(err, errlen, "ELF type %u is not an executable (ET_EXEC)", eh.e_type);
	if (eh.e_machine != EM_X86_64)
		return loader_err(err, errlen, "ELF machine %u is not x86-64", eh.e_machine);
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return loader_err(err, errlen, "bad program header size %u", eh.e_phentsize);
	if (eh.e_phnum == 0 || eh.e_phnum == PN_XNUM)
		return loader_err(err, errlen, "no program headers");
	if (!in_buf(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), size))
		return loader_err(err, errlen, "program headers lie outside the file");

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, buf + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE) {
			int r;

			if (!in_buf(ph.p_offset, ph.p_filesz, size))
				return loader_err(err, errlen, "note segment %u lies outside the file", i);
			r = find_pvh_note(buf + ph.p_offset, ph.p_filesz, &img->entry);
			if (r < 0)
				return loader_err(err, errlen, "malformed PVH entry note");
			have_note |= r;
			continue;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (img->nsegs == LOADER_MAX_SEGS)
			return loader_err(err, errlen, "more than %d loadable segments", LOADER_MAX_SEGS);
		if (!in_buf(ph.p_offset, ph.p_filesz, size))
			return loader_err(err, errlen, "segment %u: file range 0x%llx+0x%llx lies outside "
						 "the file (truncated image?)",
				    i, (unsigned long long)ph.p_offset,
				    (unsigned long long)ph.p_filesz);
		if (ph.p_filesz > ph.p_memsz)
			return loader_err(err, errlen, "segment %u: file size larger than memory size", i);
		if (!in_buf(ph.p_paddr, ph.p_memsz, mem_size))
			return loader_err(err, errlen, "segment %u at 0x%llx+0x%llx does not fit in %llu MiB "
						 "of RAM: raise --mem",
				    i, (unsigned long long)ph.p_paddr,
				    (unsigned long long)ph.p_memsz,
				    (unsigned long long)(mem_size >> 20));
		if (ph.p_paddr < PVH_CMDLINE + PVH_CMDLINE_MAX)
			return loader_err(err, errlen, "segment %u at 0x%llx overlaps the boot structures "
						 "below 0x%lx",
				    i, (unsigned long long)ph.p_paddr, PVH_CMDLINE + PVH_CMDLINE_MAX);
		img->seg[img->nsegs].paddr = ph.p_paddr;
		img->seg[img->nsegs].filesz = ph.p_filesz;
		img->seg[img->nsegs].memsz = ph.p_memsz;
		img->seg[img->nsegs].offset = ph.p_offset;
		img->nsegs++;
	}
	if (!img->nsegs)
		return loader_err(err, errlen, "no loadable segments");
	if (!have_note)
		return loader_err(err, errlen, "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): the "
					 "image cannot be started in 32-bit mode");
	/* The entry must land in something we loaded. */
	for (unsigned i = 0; i < img->nsegs; i++)
		if (img->entry >= img->seg[i].paddr &&
		    img->entry - img->seg[i].paddr < img->seg[i].memsz)
			return 0;
	return loader_err(err, errlen, "PVH entry 0x%x is outside every loaded segment", img->entry);
}

unsigned guest_memmap(uint64_t mem_size, struct hvm_memmap_entry *e, unsigned max)
{
	unsigned n = 0;

	/* Conventional memory, then the legacy VGA/BIOS hole, then the rest of
	 * RAM; the ECAM window is reserved so an OS trusts MCFG. */
	if (n < max)
		e[n++] = (struct hvm_memmap_entry){0, 0xa0000, HVM_MEMMAP_RAM, 0};
	if (n < max)
		e[n++] = (struct hvm_memmap_entry){0xa0000, 0x60000, HVM_MEMMAP_RESERVED, 0};
	if (n < max && mem_size > GUEST_LOAD_ADDR)
		e[n++] = (struct hvm_memmap_entry){GUEST_LOAD_ADDR, mem_size - GUEST_LOAD_ADDR,
						   HVM_MEMMAP_RAM, 0};
	if (n < max)
		e[n++] = (struct hvm_memmap_entry){PCI_ECAM_BASE, PCI_ECAM_SIZE,
						   HVM_MEMMAP_RESERVED, 0};
	return n;
}

void pvh_load(struct vm *vm, const uint8_t *buf, const struct pvh_image *img, const char *cmdline)
{
	struct hvm_start_info *si;
	struct hvm_memmap_entry *mm;
	size_t clen = strlen(cmdline);

	if (clen >= PVH_CMDLINE_MAX)
		die(EXIT_USAGE, "--cmdline is %zu bytes; the limit is %lu", clen,
		    PVH_CMDLINE_MAX - 1);

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

	memcpy(vm_gpa(vm, PVH_CMDLINE, clen + 1), cmdline, clen + 1);
	mm = vm_gpa(vm, PVH_MEMMAP, 128 * sizeof(*mm));
	si = vm_gpa(vm, PVH_START_INFO, sizeof(*si));
	*si = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = PVH_CMDLINE,
		.memmap_paddr = PVH_MEMMAP,
		.memmap_entries = guest_memmap(vm->mem_size, mm, 128),
	};
	trace(TRACE_BOOT, "PVH entry 0x%x, start info at 0x%lx, %u memory map entries, "
			  "command line \"%s\"",
	      img->entry, PVH_START_INFO, si->memmap_entries, cmdline);
}

uint8_t *load_file(const char *path, size_t *size, const char *what)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die_errno(EXIT_KERNEL, "cannot open %s '%s'", what, path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		die(EXIT_KERNEL, "%s '%s' is not a regular file", what, path);
	if (st.st_size == 0)
		die(EXIT_KERNEL, "%s '%s' is empty", what, path);
	if ((uint64_t)st.st_size > GUEST_MEM_MAX)
		die(EXIT_KERNEL, "%s '%s' is larger than the largest guest RAM", what, path);
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
