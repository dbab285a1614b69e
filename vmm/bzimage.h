/* SPDX-License-Identifier: MIT */
/*
 * bzimage.h - booting a Linux bzImage through the x86 boot protocol
 * (Documentation/arch/x86/boot.rst in the Linux tree), 64-bit entry.
 *
 * kvmini plays the boot loader: it checks the setup header, copies the
 * protected-mode kernel to its preferred address, writes struct boot_params
 * (the "zero page") with an e820 map, the command line and the initrd, and
 * the page tables and GDT; vcpu_setup_linux64() (vmm/vcpu.c) then starts
 * the vCPU in long mode at the 64-bit entry (load address + 0x200) with
 * %rsi pointing at the zero page.  The real-mode setup code never runs:
 * there is no BIOS for it to call.
 *
 * Why the 64-bit entry and not the 32-bit one: it needs nothing the 32-bit
 * entry does not (a GDT and flat segments) except identity page tables, which
 * are 6 pages here, and it is the entry every 64-bit kernel since 3.8 has
 * (XLF_KERNEL_64); the decompressor then skips its own switch to long mode.
 *
 * Low memory used while Linux boots (all of it e820 RAM: Linux copies the
 * zero page and command line early and reuses the rest; the constants live
 * in include/memmap.h with the rest of the guest's map):
 *
 *   0x6000  GDT (null, null, __BOOT_CS 0x10, __BOOT_DS 0x18)
 *   0x7000  struct boot_params (4 KiB)
 *   0x9000  PML4, 0xa000 PDPT, 0xb000-0xefff four PDs: [0, 4 GiB) in 2 MiB pages
 *   0x20000 command line (BZ_CMDLINE_MAX bytes at most)
 *   0xe0000 ACPI tables (vmm/acpi.h), in the e820 reserved BIOS area
 *
 * The parsing and placement functions are pure (bytes in, numbers out) so
 * unit tests feed them crafted headers without KVM.
 */
#ifndef KVMINI_BZIMAGE_H
#define KVMINI_BZIMAGE_H

#include "memmap.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct pvh_image;

/* PVH path: the module list (struct hvm_modlist_entry) for the initrd. */

/* Oldest protocol we boot: 2.12 brought xloadflags, which is how a kernel
 * says it has the 64-bit entry. */
#define BZ_MIN_VERSION 0x020c

/* Default memory for a bzImage when --mem is not given: a Debian kernel
 * needs ~80 MiB just to decompress at 16 MiB, plus its initramfs. */
#define BZ_MEM_DEFAULT (256UL << 20)
/* Default command line when --cmdline is not given (docs/linux-guest.md):
 * the console on COM1 (early messages too), reboot at once on a panic (so
 * kvmini ends with EXIT_REBOOT instead of hanging), and pci=noearly: on a
 * CPU that calls itself AMD family 0xf (QEMU's default models, so every
 * nested run here) Linux otherwise probes all 256 buses twice for an AGP
 * bridge through port 0xcf8, 33,000 exits, most of a boot's. */
#define LINUX_CMDLINE_DEFAULT "console=ttyS0 earlyprintk=ttyS0 panic=-1 pci=noearly"

struct bzimage {
	uint16_t version;	 /* protocol, e.g. 0x020f */
	uint32_t setup_size;	 /* boot sector + setup sectors, bytes */
	uint32_t hdr_end;	 /* end of the setup header in the file */
	uint64_t kernel_off;	 /* protected-mode kernel: file offset ... */
	uint64_t kernel_size;	 /* ... and length */
	uint64_t load_addr;	 /* where it goes: pref_address */
	uint64_t init_size;	 /* RAM it needs from load_addr while it boots */
	uint32_t cmdline_max;	 /* longest command line, NUL excluded */
	uint64_t initrd_end_max; /* the initrd must end at or below this */
};

/* Does buf look like a bzImage (boot sector signature and "HdrS")? */
bool bzimage_detect(const uint8_t *buf, size_t size);

/* Check the setup header for a 64-bit boot into mem_size bytes of RAM.
 * 0 and *bz filled, or -1 with one line in err. */
int bzimage_parse(const uint8_t *buf, size_t size, uint64_t mem_size, struct bzimage *bz, char *err,
		  size_t errlen);

/* Is a command line of len bytes (NUL excluded) within the protocol's and
 * our limit?  0, or -1 with err. */
int bzimage_check_cmdline(const struct bzimage *bz, size_t len, char *err, size_t errlen);

/* Where an initrd of size bytes goes: as high as it can, page aligned,
 * ending at or below end_max and mem_size, starting at or above low (the
 * end of the kernel).  0 and *gpa, or -1 with err. */
int initrd_place(uint64_t low, uint64_t end_max, uint64_t mem_size, uint64_t size, uint64_t *gpa,
		 char *err, size_t errlen);

/* Where a bzImage's (or a PVH vmlinux's) initrd of size bytes goes in
 * mem_size bytes of RAM: initrd_place() with that kernel's bounds.  Pure,
 * so main() can refuse an initrd that cannot fit from its size alone,
 * before reading it, and the loaders put it exactly there.  0 and *gpa,
 * or -1 with err. */
int bzimage_initrd_gpa(const struct bzimage *bz, uint64_t mem_size, uint64_t size, uint64_t *gpa,
		       char *err, size_t errlen);
int pvh_initrd_gpa(const struct pvh_image *img, uint64_t mem_size, uint64_t size, uint64_t *gpa,
		   char *err, size_t errlen);

/* Fill the 4 KiB zero page: the file's setup header, then what the boot
 * loader owns (type_of_loader, command line, initrd, e820 map from
 * guest_memmap(), ACPI RSDP). */
void bzimage_zero_page(uint8_t *zp, const uint8_t *buf, const struct bzimage *bz, uint64_t mem_size,
		       uint64_t cmdline_gpa, uint64_t initrd_gpa, uint64_t initrd_size,
		       uint64_t rsdp_gpa);

/* The 64-bit entry, startup_64: 0x200 past the protected-mode start. */
static inline uint64_t bzimage_entry64(const struct bzimage *bz)
{
	return bz->load_addr + 0x200;
}

/* Load a bzImage that bzimage_parse() accepted for this VM's RAM: kernel,
 * initrd, command line, zero page, and the page tables and GDT its 64-bit
 * entry needs (vcpu_setup_linux64() starts it).  initrd may be NULL.  Dies
 * with EXIT_KERNEL (the initrd does not fit) or EXIT_USAGE (command line
 * too long). */
void bzimage_load(struct vm *vm, const uint8_t *buf, const struct bzimage *bz, const char *cmdline,
		  const uint8_t *initrd, size_t initrd_size, uint64_t rsdp_gpa);

/* For a PVH ELF that is a Linux vmlinux: does it carry a "Linux" ELF note?
 * (kvmini then gives it the Linux defaults.) */
bool elf_is_linux(const uint8_t *buf, size_t size);

/* After pvh_load(): add the RSDP and, when initrd is not NULL, the initrd
 * as module 0 (what Linux's PVH entry takes as its initramfs) to the start
 * info.  Dies with EXIT_KERNEL when the initrd does not fit. */
void pvh_add_linux(struct vm *vm, const struct pvh_image *img, const uint8_t *initrd,
		   size_t initrd_size, uint64_t rsdp_gpa);

#endif
