; SPDX-License-Identifier: MIT
;
; mbtest.asm - a small Multiboot (v1, spec 0.6.96) kernel of the test
; suite's own, the kind a student writes: an ELF32 linked at 1 MiB.  It
; checks what the loader handed it (spec 3.2 machine state, 3.3 the
; information structure), prints one TAP-like line per check on COM1,
;     ok N - what          /   not ok N - what
; then "mbtest: done, F failed" and resets the machine through the reset
; control register at 0xcf9 (hard reset: SYS_RST, then RST_CPU).  Under
; kvmini that ends the run with the reboot status (10); under QEMU with
; -no-reboot, QEMU exits 0.  The same binary runs under both loaders
; (test/qemu/multiboot.t, test/nested/scenarios/foundation.sh).
;
;
; Built twice (test/test.mk): as an ELF32 (nasm -f elf32, linked by
; mbtest.ld), and with -DAOUT as a flat binary whose header carries the
; a.out-kludge address fields (flag 16), the other way a loader learns where
; the image goes.
;
; What the test runs pass: --cmdline / -append containing "mbtest=hello",
; and one module (--initrd / -initrd) whose file starts with MOD_MAGIC.

%ifdef AOUT
%define MB_FLAGS      0x00010003        ; + flag 16: the address fields below
%else
%define MB_FLAGS      0x00000003        ; page-aligned modules, memory info
%endif
%define KNAME         "mbtest"
%include "lib.inc"

; multiboot_info offsets (spec 3.3) beyond lib.inc's
%define MBI_MEM_LOWER    4
%define MBI_MEM_UPPER    8
%define MBI_MODS_COUNT   20
%define MBI_MODS_ADDR    24
%define MBI_MMAP_LENGTH  44
%define MBI_MMAP_ADDR    48
%define MBI_LOADER_NAME  64

bits 32
%ifdef AOUT
	org 0x100000
section .text
image_start:
%else
section .text
%endif
	MB_HEADER MB_FLAGS
%ifdef AOUT
	dd mb_header                    ; header_addr
	dd image_start                  ; load_addr
	dd load_end                     ; load_end_addr: the file ends here
	dd kernel_end                   ; bss_end_addr
	dd mb_start                     ; entry_addr
%endif

global mb_start
mb_start:
	cli
	mov esp, stack_top
	mov [boot_eax], eax
	mov [boot_ebx], ebx
	mov esi, banner
	call puts

	; 1. the magic in %eax
	cmp dword [boot_eax], BOOT_MAGIC
	sete al
	mov esi, t_eax
	call check

	; 2. protected mode, paging off (spec 3.2)
	mov eax, cr0
	and eax, 0x80000001
	cmp eax, 1
	sete al
	mov esi, t_cr0
	call check

	; 3. .bss zeroed (memsz past filesz)
	cmp dword [bss_probe], 0
	sete al
	mov esi, t_bss
	call check

	mov ebx, [boot_ebx]
	; 4. memory fields: flag 0; low memory up to 640 KiB (kvmini gives
	;    all 640, QEMU 639 under its EBDA); some upper memory
	xor eax, eax
	test dword [ebx + MBI_FLAGS], 1
	jz .c4
	cmp dword [ebx + MBI_MEM_LOWER], 600
	jb .c4
	cmp dword [ebx + MBI_MEM_LOWER], 640
	ja .c4
	cmp dword [ebx + MBI_MEM_UPPER], 1024
	jb .c4
	mov al, 1
.c4:	mov esi, t_mem
	call check

	; 5. memory map: flag 6; RAM at 0 of at least 600 KiB, RAM at 1 MiB
	;    that ends no higher than mem_upper says, no entry of size < 20
	call check_mmap
	mov esi, t_mmap
	call check

	; 6. command line: flag 2, contains "mbtest=hello"
	xor eax, eax
	test dword [ebx + MBI_FLAGS], 4
	jz .c6
	mov edi, [ebx + MBI_CMDLINE]
	mov esi, want_cmd
	call strstr
.c6:	mov esi, t_cmd
	call check

	; 7. one module, page-aligned, after the kernel, starting with MOD_MAGIC
	call check_module
	mov esi, t_mod
	call check

	; 8. a boot loader name (flag 9), printed for the log
	xor eax, eax
	test dword [ebx + MBI_FLAGS], 0x200
	jz .c8
	mov esi, loader_is
	call puts
	mov esi, [ebx + MBI_LOADER_NAME]
	call puts
	mov esi, nl
	call puts
	mov al, 1
.c8:	mov esi, t_name
	call check

	call report_done
	jmp reset

; al = 1 when RAM at 0 (>= 600 KiB) and at 1 MiB (<= mem_upper KiB) are
; both in the map and every entry has size >= 20.
check_mmap:
	push ebx
	xor ecx, ecx                    ; bit 0: low RAM seen, bit 1: high RAM
	test dword [ebx + MBI_FLAGS], 0x40
	jz .no
	mov esi, [ebx + MBI_MMAP_ADDR]
	mov edi, esi
	add edi, [ebx + MBI_MMAP_LENGTH]
	mov edx, [ebx + MBI_MEM_UPPER]
	shl edx, 10                     ; bytes of upper memory
.next:	cmp esi, edi
	jae .end
	cmp dword [esi], 20
	jb .no
	cmp dword [esi + 20], 1         ; type: RAM
	jne .skip
	cmp dword [esi + 8], 0          ; base high half
	jne .skip
	mov eax, [esi + 4]
	test eax, eax
	jnz .hi
	cmp dword [esi + 12], 600 * 1024
	jb .skip
	or ecx, 1
	jmp .skip
.hi:	cmp eax, 0x100000
	jne .skip
	cmp dword [esi + 16], 0         ; length high half
	jne .no
	mov eax, [esi + 12]
	test eax, eax
	jz .skip
	cmp eax, edx
	ja .no
	or ecx, 2
.skip:	add esi, [esi]
	add esi, 4
	jmp .next
.end:	cmp ecx, 3
	jne .no
	mov eax, 1
	pop ebx
	ret
.no:	xor eax, eax
	pop ebx
	ret

check_module:
	xor eax, eax
	test dword [ebx + MBI_FLAGS], 8
	jz .out
	cmp dword [ebx + MBI_MODS_COUNT], 1
	jne .out
	mov edx, [ebx + MBI_MODS_ADDR]
	mov edi, [edx]                  ; mod_start
	test edi, 0xfff
	jnz .out
	cmp edi, kernel_end
	jb .out
	mov ecx, [edx + 4]              ; mod_end
	sub ecx, edi
	cmp ecx, mod_magic_len
	jb .out
	mov esi, mod_magic
	mov ecx, mod_magic_len
	repe cmpsb
	jne .out
	mov al, 1
.out:	ret

; al = 1 when the NUL-terminated string at edi contains the one at esi.
strstr:
	push ebx
.outer:	xor ecx, ecx
.inner:	mov bl, [esi + ecx]
	test bl, bl
	jz .found
	cmp bl, [edi + ecx]
	jne .adv
	inc ecx
	jmp .inner
.adv:	cmp byte [edi], 0
	je .none
	inc edi
	jmp .outer
.found:	mov eax, 1
	pop ebx
	ret
.none:	xor eax, eax
	pop ebx
	ret

LIB_ROUTINES

section .rodata
banner:		db "mbtest: Multiboot test kernel", 10, 0
t_eax:		db "eax holds the Multiboot magic 0x2badb002", 0
t_cr0:		db "protected mode with paging off", 0
t_bss:		db ".bss is zeroed", 0
t_mem:		db "mem_lower is 600-640 KiB and mem_upper at least 1 MiB", 0
t_mmap:		db "memory map has RAM at 0 and at 1 MiB, within mem_upper", 0
t_cmd:		db "command line contains mbtest=hello", 0
t_mod:		db "one page-aligned module after the kernel, with its contents", 0
t_name:		db "boot loader name given", 0
want_cmd:	db "mbtest=hello", 0
mod_magic:	db "KVMINI-MB-MODULE"
mod_magic_len	equ $ - mod_magic
loader_is:	db "mbtest: boot loader: ", 0

section .data
ntest:		dd 0
nfail:		dd 0
boot_eax:	dd 0
boot_ebx:	dd 0
load_end:

section .bss
alignb 16
bss_probe:	resd 1
stack:		resb 4096
stack_top:
kernel_end:
