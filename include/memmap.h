/* SPDX-License-Identifier: MIT */
/*
 * memmap.h - the guest's physical world, shared by kvmini and the tiny guest.
 *
 * Everything both sides must agree on lives here and only here: where RAM
 * is, where the boot structures go, the PCI apertures, the I/O ports and
 * the report protocol.  Both the VMM (hosted C) and the guest (freestanding
 * C, and nasm through boot/memmap.inc) include it, so it uses only plain
 * integer constants and fixed-size types.
 *
 * Guest physical address space
 *
 *   0x0000_0000 +---------------------------+
 *               | unused (real-mode IVT)    |
 *   0x0000_1000 +---------------------------+ BOOT_BLOCK_LOW: the boot block
 *               | PVH: start info, memmap,  | (PVH_*, MB_*), 16 KiB, here
 *               |  command line, modlist;   | unless the image or a module
 *               | Multiboot: info, name,    | lies here; then at the first
 *               |  mmap, command line, mods | free page-aligned 16 KiB
 *   0x0000_5000 +---------------------------+ (boot_block_place)
 *   0x0000_6000 +---------------------------+ BZ_GDT        (bzImage boot only:
 *   0x0000_7000 +---------------------------+ BZ_ZERO_PAGE   Linux reuses these
 *   0x0000_9000 +---------------------------+ BZ_PML4,       pages once it
 *               | page tables, [0, 4 GiB)   | BZ_PDPT, BZ_PD has copied them)
 *   0x0000_f000 +---------------------------+
 *               | free low memory           |
 *   0x0001_0000 +---------------------------+ SMP_TRAMPOLINE (tiny guest:
 *               | AP start-up code, 4 KiB   |  SIPI vector 0x10; no boot
 *   0x0001_1000 +---------------------------+  structure may go here)
 *               | free low memory           |
 *   0x0002_0000 +---------------------------+ BZ_CMDLINE (bzImage command line)
 *               | free low memory           |
 *   0x000a_0000 +---------------------------+ LOW_RAM_END: legacy VGA/BIOS
 *               |                           |  hole (reserved; no segment)
 *   0x000e_0000 +---------------------------+ ACPI_BASE: RSDP and tables
 *   0x000f_0000 +---------------------------+
 *   0x0010_0000 +---------------------------+ GUEST_LOAD_ADDR (1 MiB)
 *               | guest image (ELF PT_LOADs;|  a PVH or Multiboot image may
 *               |  or below 0xa0000 too)    |  also load low, see above)
 *               | Multiboot module (--initrd|  on the first page after
 *               |   ), page-aligned         |  the kernel's end)
 *               | guest heap / DMA pages    |
 *   mem_size    +---------------------------+ end of RAM (--mem)
 *               | (nothing: reads as 0xff)  |
 *   0xc000_0000 +---------------------------+ PCI_MMIO32_BASE
 *               | 32-bit PCI BAR aperture   |
 *   0xe000_0000 +---------------------------+ PCI_ECAM_BASE
 *               | ECAM, bus 0 (1 MiB)       |
 *   0xe010_0000 +---------------------------+
 *               | (nothing)                 |
 *   0xfec0_0000 +---------------------------+ IOAPIC (in-kernel irqchip)
 *   0xfee0_0000 +---------------------------+ LAPIC / MSI address window
 *   0x1_0000_0000 +-------------------------+ PCI_MMIO64_BASE (4 GiB)
 *               | 64-bit PCI BAR aperture   |
 *   0x2_0000_0000 +-------------------------+ end of what the guest maps
 *
 * I/O ports
 *
 *   0x0020-0x0021, 0x00a0-0x00a1   PICs (in-kernel irqchip)
 *   0x0040-0x0043                  PIT  (in-kernel)
 *   0x0064                         keyboard controller: 0xfe resets (pm.c)
 *   0x0070-0x0071                  CMOS RTC: clock, alarm (S3 wake) (rtc.c)
 *   0x00f4-0x00f7                  isa-debug-exit (QEMU; kvmini --debug-exit)
 *   0x03f8-0x03ff                  COM1, 16550A (kvmini: devices/serial.c)
 *   0x0600-0x060f                  ACPI PM1a event/control (S5, S3), timer, reset
 *   0x0510-0x0513                  report port (kvmini: devices/report.c); at
 *                                  other widths QEMU's fw_cfg (devices/fw_cfg.c)
 *   0x0cf8-0x0cff                  PCI configuration mechanism #1
 *   0xc000-0xffff                  PCI I/O BAR aperture (PCI_IOPORT_*)
 */
#ifndef KVMINI_MEMMAP_H
#define KVMINI_MEMMAP_H

/* ---- RAM and boot structures ------------------------------------------ */
#define LOW_RAM_END 0xa0000UL      /* conventional memory: [0, 640 KiB) */
#define GUEST_LOAD_ADDR 0x100000UL /* 1 MiB: the legacy hole ends here */

/*
 * The boot block: what kvmini writes for a PVH or Multiboot kernel (start
 * info or information structure, memory map, command line, module list),
 * BOOT_BLOCK_SIZE bytes at offsets fixed below, at a base chosen for each
 * image (vmm/loader.c boot_block_place()), as QEMU puts its own where the
 * image is not: the lowest page-aligned address at or above BOOT_BLOCK_LOW
 * where no segment and no module lies, in conventional memory (below
 * LOW_RAM_END; never the SMP_TRAMPOLINE page), else in RAM from
 * GUEST_LOAD_ADDR up (below 4 GiB).  An
 * image that leaves no such room is refused (exit 5).  For a kernel loaded
 * at 1 MiB, every kernel so far, the base is BOOT_BLOCK_LOW, and the
 * addresses are the PVH_* and MB_* ones below.  Page 0 (the real-mode IVT
 * and the BIOS data area) is never used.
 */
#define BOOT_BLOCK_LOW 0x1000UL
#define BOOT_BLOCK_SIZE 0x4000UL

/* PVH boot: offsets in the block, and the addresses at BOOT_BLOCK_LOW. */
#define PVH_START_INFO_OFF 0x0000UL /* struct hvm_start_info, %ebx at entry */
#define PVH_MEMMAP_OFF 0x1000UL     /* memory map table, up to 128 entries */
#define PVH_CMDLINE_OFF 0x2000UL    /* NUL-terminated command line */
#define PVH_MODLIST_OFF 0x3000UL    /* struct hvm_modlist_entry[] (the initrd) */
#define PVH_CMDLINE_MAX 4096UL      /* bytes, including the NUL */
#define PVH_START_INFO (BOOT_BLOCK_LOW + PVH_START_INFO_OFF)
#define PVH_MEMMAP (BOOT_BLOCK_LOW + PVH_MEMMAP_OFF)
#define PVH_CMDLINE (BOOT_BLOCK_LOW + PVH_CMDLINE_OFF)
#define PVH_MODLIST (BOOT_BLOCK_LOW + PVH_MODLIST_OFF)

/* Multiboot v1 boot (vmm/multiboot.c): the information structure and what
 * it points to, in the same block (a kernel boots one way only).  The
 * --initrd module goes on the first 4 KiB boundary after the kernel's
 * last segment (at 1 MiB if that would cross the legacy hole). */
#define MB_INFO_OFF 0x0000UL        /* struct multiboot_info, %ebx at entry */
#define MB_LOADER_NAME_OFF 0x0800UL /* "kvmini 0.1.0" */
#define MB_MMAP_OFF 0x1000UL        /* memory map entries (20 + 4 bytes each) */
#define MB_CMDLINE_OFF 0x2000UL     /* the --kernel path, a space, --cmdline */
#define MB_MODS_OFF 0x3000UL        /* struct multiboot_mod[1] */
#define MB_MOD_STRING_OFF 0x3100UL  /* the module's string: the --initrd path */
#define MB_CMDLINE_MAX 4096UL       /* bytes, including the NUL */
#define MB_MOD_STRING_MAX 0xf00UL
#define MB_INFO (BOOT_BLOCK_LOW + MB_INFO_OFF)
#define MB_LOADER_NAME (BOOT_BLOCK_LOW + MB_LOADER_NAME_OFF)
#define MB_MMAP (BOOT_BLOCK_LOW + MB_MMAP_OFF)
#define MB_CMDLINE (BOOT_BLOCK_LOW + MB_CMDLINE_OFF)
#define MB_MODS (BOOT_BLOCK_LOW + MB_MODS_OFF)
#define MB_MOD_STRING (BOOT_BLOCK_LOW + MB_MOD_STRING_OFF)

/* Linux bzImage boot (vmm/bzimage.c): where kvmini puts what the 64-bit
 * boot protocol entry needs.  All of it is RAM Linux may reuse.  Fixed:
 * a bzImage's kernel loads at or above 1 MiB (pref_address, checked) and
 * its initrd above the kernel, so nothing of the image can lie here. */
#define BZ_GDT 0x6000UL
#define BZ_ZERO_PAGE 0x7000UL /* struct boot_params */
#define BZ_PML4 0x9000UL
#define BZ_PDPT 0xa000UL
#define BZ_PD 0xb000UL /* four pages: [0, 4 GiB) in 2 MiB pages */
#define BZ_CMDLINE 0x20000UL
#define BZ_CMDLINE_MAX 4096UL /* our buffer, NUL included */

/* The tiny guest's AP start-up page (guest/smp.c, boot/entry.asm): a
 * Startup IPI starts an AP in real mode at CS:IP = (vector << 8):0, so the
 * page must be 4 KiB-aligned below 1 MiB.  The guest copies its real-mode
 * trampoline here after it has read the boot structures, but kvmini keeps
 * every boot structure out of this page anyway, so that nothing the guest
 * may still want is ever overwritten. */
#define SMP_TRAMPOLINE 0x10000UL
#define SMP_TRAMPOLINE_SIZE 0x1000UL

/* ACPI tables (vmm/acpi.c), in the reserved BIOS area where an OS looks
 * for the RSDP when it is not told.  The whole legacy hole [LOW_RAM_END,
 * GUEST_LOAD_ADDR) is reserved in the guest's memory map: a kernel segment
 * there is refused (naming the ACPI range when it is that part). */
#define ACPI_BASE 0xe0000UL
#define ACPI_SIZE 0x10000UL /* room we allow ourselves; the tables take ~4 KiB */
#define ACPI_SCI_IRQ 9

#define GUEST_MEM_DEFAULT (64UL << 20) /* --mem default: 64 MiB */
/* The least RAM the embedded guest passes its checks in (found in the
 * nested rig: 2 MiB panics "out of memory for buffers"; 3 MiB passes
 * with loopback, with edu and a tap, and with hostile): its image ends
 * near 1.25 MiB and each virtio-net function takes 1 MiB of buffers.
 * Linux and other kernels may need more; their loaders say so. */
#define GUEST_MEM_MIN (3UL << 20)
#define GUEST_MEM_MAX (3UL << 30)      /* RAM must end below the PCI hole */

/* ---- PCI apertures ---------------------------------------------------- */
#define PCI_MMIO32_BASE 0xc0000000UL
#define PCI_MMIO32_SIZE 0x20000000UL /* 512 MiB */
#define PCI_ECAM_BASE 0xe0000000UL
#define PCI_ECAM_SIZE 0x100000UL /* bus 0 only: 32 dev * 8 fn * 4 KiB */
#define PCI_MMIO64_BASE 0x100000000UL
#define PCI_MMIO64_SIZE 0x100000000UL /* 4 GiB */
#define PCI_IOPORT_BASE 0xc000UL
#define PCI_IOPORT_SIZE 0x4000UL

#define GUEST_MAPPED_TOP 0x200000000UL /* the guest identity-maps [0, 8 GiB) */

#define IOAPIC_BASE 0xfec00000UL
#define LAPIC_BASE 0xfee00000UL

/* ---- PCI slots on bus 0, in a fixed order ------------------------------ */
#define PCI_SLOT_HOST_BRIDGE 0
#define PCI_SLOT_VIRTIO_NET 1 /* the first --net */
#define PCI_SLOT_VFIO 2       /* the first --vfio (its host slot's functions) */

/* Several of each (issue 21): --net up to PCI_MAX_NET times, --vfio up to
 * PCI_MAX_VFIO.  The first of each keeps the slot above; the others
 * follow: --net i (from 0) at PCI_SLOT_NET_N(i) = 1, 3, 4, 5, and the k-th
 * host slot among the --vfio devices at PCI_SLOT_VFIO_N(k) = 2, 6 .. 12
 * (functions of one host slot share a guest slot: docs/pci.md). */
#define PCI_MAX_NET 4
#define PCI_MAX_VFIO 8
#define PCI_SLOT_NET_N(i) ((i) ? 2 + (i) : PCI_SLOT_VIRTIO_NET)
#define PCI_SLOT_VFIO_N(k) ((k) ? 5 + (k) : PCI_SLOT_VFIO)

/* The tap behind --net i has its host end at 169.254.(100+i).1 in the
 * nested rig and the docs; the tiny guest takes 169.254.(100+i).2 on the
 * virtio-net in PCI_SLOT_NET_N(i) and pings the .1 (guest/virtio_net.c). */
#define GUEST_NET_SUBNET(i) (0xa9fe6400u + ((unsigned)(i) << 8)) /* 169.254.(100+i).0 */

/*
 * Host bridge identity.  1b36:0008 is the ID Red Hat assigned to QEMU's
 * generic PCIe host bridge: operating systems (and lspci) know it as a
 * plain virtual bridge with no chipset registers, so nothing will try to
 * program an Intel chipset that is not there.  The guest uses it to know it
 * is on kvmini's bus, where ECAM is at PCI_ECAM_BASE.
 */
#define KVMINI_HB_VENDOR 0x1b36
#define KVMINI_HB_DEVICE 0x0008

/* ---- I/O ports -------------------------------------------------------- */
#define PORT_COM1 0x3f8
#define PORT_KBD_CMD 0x64
#define PORT_RTC_INDEX 0x70
#define PORT_RTC_DATA 0x71
#define PM_BASE 0x600 /* ACPI PM block; registers in devices/pm.h */
#define PM_LEN 0x10
#define PORT_QEMU_DEBUG_EXIT 0xf4
#define PORT_PCI_CONFIG_ADDR 0xcf8
#define PORT_PCI_CONFIG_DATA 0xcfc

/*
 * Report port: the guest tells kvmini what it checked.
 *
 * A 32-bit IN from REPORT_PORT returns REPORT_MAGIC, so the guest can tell
 * kvmini from a machine without the port (which reads all ones).  A 32-bit
 * OUT to REPORT_PORT carries the guest-physical address of a struct
 * guest_report; kvmini checks that the whole struct and its message lie in
 * guest RAM before reading them.  Any other access is ignored and counted.
 */
#define REPORT_PORT 0x510
#define REPORT_PORT_LEN 4
#define REPORT_MAGIC 0x494d564bU /* "KVMI" little-endian */

#define REPORT_CHECK 1 /* id = check number, status 0 passed, 1 failed */
#define REPORT_DONE 2  /* status = exit status for kvmini */
#define REPORT_MSG_MAX 256

struct guest_report {
	unsigned int kind;
	unsigned int id;
	unsigned int status;
	unsigned int msg_len; /* bytes at msg_gpa, no NUL needed */
	unsigned long long msg_gpa;
};

/* ---- interrupt vectors used by the tiny guest ------------------------- */
#define GUEST_VEC_TIMER 0x20    /* PIT through the IOAPIC */
#define GUEST_VEC_VNET_CFG 0x40 /* virtio-net MSI-X vector 0 */
#define GUEST_VEC_VNET_RX 0x41
#define GUEST_VEC_VNET_TX 0x42
/* A second virtio-net function (another --net, or one assigned with --vfio
 * that is a virtio-net too): its own MSI-X vectors. */
#define GUEST_VEC_VNET2_CFG 0x44
#define GUEST_VEC_VNET2_RX 0x45
#define GUEST_VEC_VNET2_TX 0x46
/* The third and later (up to 8 in all): cfg, rx, tx at 0x60 + 4 * (i - 2)
 * + 0, 1, 2, i counting virtio-net functions from 0 in bus order. */
#define GUEST_VEC_VNET_N(i) (0x60 + 4 * ((i) - 2))
/* edu k (from 0, in bus order): MSI at GUEST_VEC_EDU_MSI + 2k, INTx at
 * GUEST_VEC_EDU_INTX + 2k, up to 8 of them (0x50-0x5f). */
#define GUEST_VEC_EDU_MSI 0x50
#define GUEST_VEC_EDU_INTX 0x51
/* Several CPUs (guest/smp.c): each AP's own LAPIC timer, an IPI and its
 * answer, and the wake-up a sleeping CPU gets when there is news for it.
 * (A device's MSI aimed at an AP keeps the device's own vector.) */
#define GUEST_VEC_LAPIC_TIMER 0x60
#define GUEST_VEC_IPI 0x61
#define GUEST_VEC_IPI_REPLY 0x62
#define GUEST_VEC_WAKE 0x63
#define GUEST_VEC_SPURIOUS 0xff

/* The ACPI PM block at PM_BASE (devices/pm.c serves it, the FADT in
 * vmm/acpi.c describes it). */
#define PM1A_EVT_BLK   (PM_BASE + 0x0)
#define PM1_EVT_LEN    4
#define PM1A_CNT_BLK   (PM_BASE + 0x4)
#define PM1_CNT_LEN    2
#define PM_TMR_BLK     (PM_BASE + 0x8)
#define PM_TMR_LEN     4
#define PM_RESET_REG   (PM_BASE + 0xc)
#define PM_RESET_VALUE 0x01
#define KBD_CMD_RESET  0xfe /* to PORT_KBD_CMD: pulse the reset line */

/* The sleep types kvmini's DSDT gives \_S3 and \_S5.  S3 is 1, QEMU's
 * value, which test kernels written for QEMU write without reading \_S3;
 * S5 is any other 3-bit value. */
#define PM_SLP_TYP_S3 1
#define PM_SLP_TYP_S5 5

/* PM1_STS and PM1_EN bits (ACPI 6.4, 4.8.3.1): the RTC alarm is the one
 * wake source (devices/pm.c), WAK_STS says the machine woke from a sleep. */
#define PM1_STS_WAK 0x8000
#define PM1_STS_RTC 0x0400
#define PM1_EN_RTC  0x0400

/* The FACS inside the ACPI region (vmm/acpi.c), and the 32-bit waking
 * vector in it (ACPI 6.4, 5.2.10): where a guest resumes from S3, in real
 * mode at CS = vector >> 4, IP = vector & 0xf. */
#define ACPI_FACS_OFF 0x1c0
#define FACS_WAKING_VECTOR 12

/* PM1_CNT bits (ACPI 6.4, 4.8.3.2.1). */
#define PM1_CNT_SCI_EN	      0x0001
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN	      0x2000


/* INTx routing: pin 1-4 of slot s goes to IOAPIC input
 * PCI_INTX_GSI_BASE + ((s + pin - 1) & 3), the classic swizzle
 * (devices/pci.c pci_intx_gsi(), the DSDT's _PRT in vmm/acpi.c). */
#define PCI_INTX_GSI_BASE 16

#endif
