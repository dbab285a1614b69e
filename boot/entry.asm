; SPDX-License-Identifier: MIT
;
; entry.asm - the tiny guest's first instructions and its interrupt stubs.
;
; Boot ABI: PVH (Xen's "HVM direct boot", also spoken by QEMU -kernel and by
; kvmini).  The loader finds the entry point in the XEN_ELFNOTE_PHYS32_ENTRY
; note and starts us there in 32-bit protected mode with paging off, flat
; 4 GiB CS/DS/ES/SS, interrupts off, and %ebx = physical address of struct
; hvm_start_info.  Nothing else is promised: no stack, no GDT we may keep,
; no zeroed .bss.  So, still in 32-bit mode: load our GDT, zero .bss, build
; identity page tables for [0, GUEST_MAPPED_TOP) with 2 MiB pages, enable
; PAE + EFER.LME + paging, far-jump to 64-bit code, set the stack and call
; guest_main(start_info_pa).

%include "memmap.inc"

%define XEN_ELFNOTE_PHYS32_ENTRY 18

%define SEL_CODE64 0x08
%define SEL_DATA   0x10
%define SEL_CODE32 0x18

%define PTE_P   0x001
%define PTE_RW  0x002
%define PTE_PWT 0x008
%define PTE_PCD 0x010
%define PTE_PS  0x080

%define NR_PD   (GUEST_MAPPED_TOP >> 30)        ; one page directory per GiB
%define NR_2M   (GUEST_MAPPED_TOP >> 21)
%define UC_2M   (GUEST_UC_FROM >> 21)

%define MSR_EFER 0xc0000080
%define EFER_LME (1 << 8)
%define CR0_PE   (1 << 0)
%define CR0_PG   (1 << 31)
%define CR4_PAE  (1 << 5)

; Our data selector in every data segment register (32- or 64-bit code).
%macro LOAD_DATA_SEGS 0
	mov eax, SEL_DATA
	mov ds, eax
	mov es, eax
	mov ss, eax
	mov fs, eax
	mov gs, eax
%endmacro

extern guest_main
extern irq_dispatch
extern ap_main
extern ap_stacks
extern __bss_start
extern __bss_end

; ---- the PVH note ---------------------------------------------------------
; ELF note: namesz, descsz, type, "Xen\0", desc.  The descriptor is 8 bytes
; like Linux's (QEMU reads a 64-bit value from a 64-bit ELF); the entry is a
; 32-bit physical address, so the upper half is zero.  Keep align=4: QEMU
; rounds the name size up to the PT_NOTE segment's alignment.
section .note.Xen note alloc noexec nowrite align=4
	dd 4
	dd 8
	dd XEN_ELFNOTE_PHYS32_ENTRY
	db "Xen", 0
	dq pvh_start32

; ---- 32-bit entry -----------------------------------------------------------
section .text.boot progbits alloc exec nowrite align=16
bits 32
global pvh_start32
pvh_start32:
	cli
	cld
	mov esi, ebx                    ; keep the start_info address in esi

	lgdt [gdt_ptr]
	jmp SEL_CODE32:.reload          ; our own CS from here on
.reload:
	LOAD_DATA_SEGS
	mov esp, boot_stack_top

	; Zero .bss (the page tables and the stack live there, so first).
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd

	; PML4[0] -> PDPT; PDPT[i] -> PD i (1 GiB each).
	mov eax, pdpt
	or eax, PTE_P | PTE_RW
	mov [pml4], eax
	xor ecx, ecx
.pdpt_loop:
	mov eax, ecx
	shl eax, 12
	add eax, pds
	or eax, PTE_P | PTE_RW
	mov [pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, NR_PD
	jb .pdpt_loop

	; Every PD entry maps 2 MiB; entry j maps j << 21 (a 64-bit address:
	; the high dword is j >> 11).  From PCI_MMIO32_BASE up everything is
	; device memory (apertures, ECAM, IOAPIC, LAPIC, 64-bit aperture), so
	; it is mapped uncached (PCD|PWT) to keep device accesses in order.
	xor ecx, ecx
.pd_loop:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P | PTE_RW | PTE_PS
	cmp ecx, UC_2M
	jb .cached
	or eax, PTE_PCD | PTE_PWT
.cached:
	mov edx, ecx
	shr edx, 11
	mov [pds + ecx * 8], eax
	mov [pds + ecx * 8 + 4], edx
	inc ecx
	cmp ecx, NR_2M
	jb .pd_loop

	mov ebp, long_entry
	; fall through

; Long mode: PAE, CR3, EFER.LME, then paging (SDM vol. 3, 10.8.5), then
; on to the 64-bit code at ebp.  The BSP comes here from above, each AP
; from ap_start32: one road, on the one set of page tables.
to_long_mode:
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_PE
	mov cr0, eax
	jmp SEL_CODE64:long_mode

; ---- an AP, from the trampoline ---------------------------------------------
; The real-mode trampoline (below) gets an AP into 32-bit protected mode on
; our GDT and jumps here; from here on it takes the BSP's road to long mode,
; on the page tables the BSP built (CR3 is shared: one identity map).
global ap_start32
ap_start32:
	LOAD_DATA_SEGS
	mov ebp, ap_long_entry
	jmp to_long_mode

bits 64
; Both roads land here: our data segments, then the code ebp named (a
; 32-bit move: the upper halves of the registers are undefined coming
; out of 32-bit mode).
long_mode:
	LOAD_DATA_SEGS
	mov eax, ebp
	jmp rax

; Which stack: the AP reads its own APIC ID from its local APIC (xAPIC
; mode, enabled, after INIT) and takes ap_stacks[id], which guest/smp.c
; filled before the Startup IPI.  No slot, no start: halt.
ap_long_entry:
	mov rax, LAPIC_BASE + 0x20      ; LAPIC ID register, bits 31:24
	mov ebx, [rax]
	shr ebx, 24
	mov rsp, [ap_stacks + rbx * 8]
	test rsp, rsp
	jz .halt
	xor ebp, ebp
	mov edi, ebx                    ; ap_main(apic_id)
	call ap_main
.halt:
	cli
	hlt
	jmp .halt

long_entry:
	mov rsp, boot_stack_top
	xor ebp, ebp
	mov edi, esi                    ; guest_main(start_info_pa)
	call guest_main
.halt:
	cli
	hlt
	jmp .halt

; ---- interrupt stubs --------------------------------------------------------
; One stub per vector.  The CPU pushes an error code for vectors 8, 10-14,
; 17, 21, 29 and 30 (SDM vol. 3, table 6-1); the other stubs push a zero so
; every frame has the same shape (struct irq_frame in guest/guest.h).
section .text
%macro ISR 1
isr_%1:
%if !((%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30))
	push qword 0
%endif
	push qword %1
	jmp isr_common
%endmacro

%assign i 0
%rep 256
	ISR i
%assign i i + 1
%endrep

; 5 CPU words + error + vector + 15 registers = 22 words: RSP stays 16-byte
; aligned at the call, as the ABI wants.
isr_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	cld
	call irq_dispatch
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16                     ; vector and error code
	iretq

section .rodata
align 8
global isr_table
isr_table:
%assign i 0
%rep 256
	dq isr_ %+ i
%assign i i + 1
%endrep

; ---- the AP trampoline ------------------------------------------------------
; A Startup IPI with vector V starts an AP in real mode at V000:0000
; (SDM vol. 3, 9.4.4).  guest/smp.c copies these bytes to SMP_TRAMPOLINE
; (include/memmap.h) and sends vector SMP_TRAMPOLINE >> 12.  The code does
; as little as it can in real mode: load our GDT (its pointer is inside the
; blob, addressed through CS), set CR0.PE, and far-jump to ap_start32 in the
; image, where 32-bit code takes over.  Nothing in it depends on where the
; blob sits except the CS-relative pointer, so offsets are from its start.
global ap_tramp, ap_tramp_end, ap_tramp_phys
ap_tramp_phys equ SMP_TRAMPOLINE
bits 16
ap_tramp:
	cli
	cld
	o32 lgdt [cs:ap_tramp_gdtr - ap_tramp]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword SEL_CODE32:ap_start32
align 4
ap_tramp_gdtr:
	dw gdt_end - gdt - 1
	dd gdt
ap_tramp_end:
bits 64

; GDT: null, 64-bit code, data, 32-bit code (for the trip through 32-bit
; mode before paging is on).
align 16
gdt:
	dq 0
	dq 0x00af9a000000ffff           ; 0x08: code, L=1, P, DPL 0
	dq 0x00cf92000000ffff           ; 0x10: data, 4 GiB, writable
	dq 0x00cf9a000000ffff           ; 0x18: code, 32-bit, 4 GiB
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt

; ---- page tables and boot stack (zeroed above, so in .bss) ---------------
section .bss
alignb 4096
pml4:	resb 4096
pdpt:	resb 4096
pds:	resb 4096 * NR_PD
global boot_stack_top
boot_stack:
	resb 32768
boot_stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
