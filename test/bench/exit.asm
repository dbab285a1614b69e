; SPDX-License-Identifier: MIT
;
; exit.asm - the benchmark's guest that exits at once: a PVH ELF whose first
; instructions load an empty IDT and execute ud2.  With no IDT the #UD
; becomes a double fault and then a triple fault, which every VMM sees as
; its first exit (kvmini: KVM_EXIT_SHUTDOWN; QEMU -no-reboot: it quits).
; No VMM-specific port is touched, so kvmini and QEMU run the very same
; file, and the only work each does is its own start-up and teardown.

%define XEN_ELFNOTE_PHYS32_ENTRY 18

section .note.Xen note alloc noexec nowrite align=4
	dd 4
	dd 8
	dd XEN_ELFNOTE_PHYS32_ENTRY
	db "Xen", 0
	dq start32

section .text progbits alloc exec nowrite align=16
bits 32
global start32
start32:
	lidt [idt_empty]
	ud2
	align 8
idt_empty:
	dw 0
	dd 0
