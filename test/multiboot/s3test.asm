; SPDX-License-Identifier: MIT
;
; s3test.asm - a Multiboot ELF32 test kernel that suspends to ACPI S3 and
; has the RTC alarm wake it, the way the public x86 KVM suites test S3
; (docs/test-kernels.md):
;
;   - find the FADT and the FACS (RSDP in the EBDA or 0xe0000-0xfffff,
;     then the XSDT or RSDT), copy a real-mode resume stub to 0x1000 and
;     put that address in the FACS waking vector;
;   - set RTC_EN in PM1_EN, wait for the RTC's update-in-progress bit to
;     rise and fall (the start of a second), set the alarm to "any second"
;     (0xc0 in each alarm byte) and AIE in register B;
;   - write SLP_TYP=1 (QEMU's S3) | SLP_EN (0x2400) to PM1a_CNT.
;
; With "noalarm" on its command line it leaves AIE clear, so that nothing
; can wake it: kvmini then stops with status 14 (the test of that refusal).
;
; Woken, the CPU starts in real mode at the vector; the stub enters
; protected mode and the checks go on: WAK_STS and RTC_STS set in PM1_STS,
; RAM outside the image kept.  It prints "ok N - what" lines on COM1, then
; "s3test: done, F failed", and gives its verdict through isa-debug-exit at
; 0xf4 (0 passed: the VMM exits 1; 1 failed: 3).  If the S3 write returns
; (the VMM ignored it) that is a failure.  Where nothing listens at 0xf4 it
; resets through 0xcf9.
;
; What must outlive the sleep lives at STATE, in the resume page: QEMU
; wakes a machine by resetting it and loads the kernel image anew.
;
; Run by test/qemu/s3test.t and test/nested/scenarios/testkernels.sh.

%define KNAME         "s3test"
%define RESUME        0x1000            ; the waking vector
%define KEPT_MAGIC    0x53335333        ; "3S3S"

; Everything that must outlive S3 lives in the resume page, outside the
; image: QEMU reloads the kernel image when it resets the machine to wake
; it (only the RAM outside it is kept), kvmini keeps all of RAM.
%define STATE         (RESUME + 0x800)
%define ntest         STATE + 0
%define nfail         STATE + 4
%define facs          STATE + 8
%define pm1a_evt      STATE + 12
%define pm1a_cnt      STATE + 16
%define kept          STATE + 20
%define t0            STATE + 24
%define tables_ok     STATE + 32
%define sts           STATE + 36

%include "lib.inc"

bits 32
section .text
	MB_HEADER 0x00000003              ; page-aligned modules, memory info

global mb_start
mb_start:
	cli
	mov esp, stack_top
	mov [boot_ebx], ebx
	lgdt [gdt_desc]
	jmp SEL_CODE:.flat
.flat:	call load_segs
	; The command line first: the loader's structures may lie in the
	; page the resume stub is about to take (kvmini's do, at 0x1000).
	call want_noalarm
	setc byte [no_alarm]
	mov edi, STATE
	xor eax, eax
	mov ecx, 64
	rep stosb
	mov esi, banner
	call puts

	; 1. the FADT and the FACS
	call find_fadt
	mov esi, t_tables
	call check
	cmp byte [tables_ok], 0
	je finish

	; the resume stub at RESUME, its address in the FACS
	mov esi, resume_stub
	mov edi, RESUME
	mov ecx, resume_stub_end - resume_stub
	rep movsb
	mov eax, [facs]
	mov dword [eax + 12], RESUME

	; RTC_EN in PM1_EN (the word after PM1_STS)
	mov edx, [pm1a_evt]
	add edx, 2
	mov ax, 0x400
	out dx, ax

	; 2. the update-in-progress bit rises, then falls: a second starts
	call wait_uip
	mov esi, t_uip
	call check

	mov al, 0x0c                    ; read C: clear old flags
	call rtc_in
	mov al, 0x01
	mov ah, 0xc0
	call rtc_out                    ; seconds alarm: any
	mov al, 0x03
	mov ah, 0xc0
	call rtc_out                    ; minutes alarm: any
	mov al, 0x05
	mov ah, 0xc0
	call rtc_out                    ; hours alarm: any
	cmp byte [no_alarm], 0          ; "noalarm": leave AIE clear, so
	jne .sleep                      ; nothing can wake us
	mov al, 0x0b
	call rtc_in
	or al, 0x20                     ; AIE
	mov ah, al
	mov al, 0x0b
	call rtc_out
.sleep:

	mov esi, sleeping
	call puts
	mov dword [kept], KEPT_MAGIC
	mov edx, [pm1a_cnt]
	mov ax, 0x2400                  ; SLP_TYP 1 (S3) | SLP_EN
	out dx, ax
	; Still here: the sleep was ignored.
	xor al, al
	mov esi, t_woke
	call check
	jmp finish

; The stub jumps here in protected mode after the wake.
resumed:
	call load_segs
	mov esp, stack_top
	mov al, 1
	mov esi, t_woke
	call check

	; 4-5. WAK_STS and RTC_STS in PM1_STS, then cleared by writing them
	mov edx, [pm1a_evt]
	in ax, dx
	mov [sts], ax
	mov ax, 0x8400
	out dx, ax
	test word [sts], 0x8000
	setnz al
	mov esi, t_wak
	call check
	test word [sts], 0x0400
	setnz al
	mov esi, t_rtc
	call check

	; 6. RAM kept what it held
	cmp dword [kept], KEPT_MAGIC
	sete al
	mov esi, t_kept
	call check

finish:
	call report_done
	jmp debug_exit

; CF = 1 when the command line holds "noalarm".
want_noalarm:
	mov ebx, [boot_ebx]
	test dword [ebx], 4             ; MBI flags: cmdline
	jz .no
	mov esi, [ebx + 16]
.l:	cmp byte [esi], 0
	je .no
	mov eax, esi
	mov edi, noalarm
	mov ecx, noalarm_len
	repe cmpsb
	je .yes
	lea esi, [eax + 1]
	jmp .l
.yes:	stc
	ret
.no:	clc
	ret

; al = 1 when UIP was seen set and then clear within about 2^34 TSC
; ticks (several seconds).
wait_uip:
	rdtsc
	mov [t0], eax
	mov [t0 + 4], edx
.rise:	call timed_out
	jc .no
	mov al, 0x0a
	call rtc_in
	test al, 0x80
	jz .rise
.fall:	call timed_out
	jc .no
	mov al, 0x0a
	call rtc_in
	test al, 0x80
	jnz .fall
	mov al, 1
	ret
.no:	xor eax, eax
	ret

timed_out:                              ; CF = 1 after 2^34 ticks since t0
	rdtsc
	sub eax, [t0]
	sbb edx, [t0 + 4]
	cmp edx, 4
	cmc
	ret

rtc_in:                                 ; al = register; returns al
	out 0x70, al
	in al, 0x71
	ret

rtc_out:                                ; al = register, ah = value
	out 0x70, al
	mov al, ah
	out 0x71, al
	ret

; tables_ok, facs, pm1a_evt, pm1a_cnt from the FADT.
find_fadt:
	mov eax, 'FACP'
	call find_sdt
	test eax, eax
	jz .r
	mov ecx, [eax + 36]             ; FIRMWARE_CTRL
	test ecx, ecx
	jnz .f
	mov ecx, [eax + 132]            ; X_FIRMWARE_CTRL (low half)
.f:	test ecx, ecx
	jz .r
	cmp dword [ecx], 'FACS'
	jne .r
	mov [facs], ecx
	mov ecx, [eax + 56]
	mov [pm1a_evt], ecx
	mov ecx, [eax + 64]
	mov [pm1a_cnt], ecx
	test ecx, ecx
	jz .r
	mov byte [tables_ok], 1
.r:	mov al, [tables_ok]
	ret

ACPI_TABLES

; ---- the resume stub, copied to RESUME ----------------------------------
; Real mode at CS:IP = (RESUME >> 4):0.
	REALMODE_TO_PM_STUB resume_stub, RESUME, resumed

	LIB_ROUTINES

section .rodata
	FLAT_GDT
banner:		db "s3test: Multiboot ACPI S3 test kernel", 10, 0
sleeping:	db "s3test: suspending to S3, the RTC alarm to wake us", 10, 0
t_tables:	db "the FADT and the FACS are found", 0
t_uip:		db "the RTC's update-in-progress bit rises and falls", 0
t_woke:		db "woken from S3 at the FACS waking vector, in real mode", 0
t_wak:		db "PM1_STS has WAK_STS", 0
t_rtc:		db "PM1_STS has RTC_STS: the RTC alarm woke it", 0
t_kept:		db "RAM kept what it held across S3", 0

noalarm:	db "noalarm"
noalarm_len	equ $ - noalarm

section .data
boot_ebx:	dd 0
no_alarm:	db 0

section .bss
alignb 16
stack:		resb 4096
stack_top:
