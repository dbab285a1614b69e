; SPDX-License-Identifier: MIT
;
; smptest.asm - a Multiboot ELF32 test kernel written the way the public
; x86 KVM test suites write theirs, so that kvmini and QEMU can be held to
; the same verdict (docs/test-kernels.md):
;
;   - its program name is the first word of the Multiboot command line
;     (GRUB and QEMU pass "PATH ARGS"), and it reads its arguments after
;     it: cpus=N, the number of CPUs the run was given;
;   - it counts the CPUs in the ACPI MADT (RSDP found in the EBDA or at
;     0xe0000-0xfffff, then the XSDT or RSDT), and starts every AP with
;     INIT-SIPI-SIPI through its local APIC into a real-mode trampoline
;     below 1 MiB; each AP checks in with its APIC ID and every CPU adds
;     to a shared counter under a spinlock;
;   - the trampoline is copied to 0x8000 (TRAMPOLINE, SIPI vector 0x08)
;     at run time, as the public suites do: a kernel segment there would
;     make QEMU's loader copy the whole span from 0x8000 to the kernel's
;     end, the 640 KiB-1 MiB hole and its option ROM included;
;   - it prints "ok N - what" / "not ok N - what" on COM1, then
;     "smptest: done, F failed", and gives its verdict through QEMU's
;     isa-debug-exit at port 0xf4, as a 4-byte write: 0 when every check
;     passed (the VMM exits 1), 1 otherwise (the VMM exits 3).  Where
;     nothing listens at 0xf4 (kvmini without --debug-exit) it then resets
;     through 0xcf9 (kvmini exits 10).
;
; Run by test/qemu/smptest.t (QEMU -smp 1/2/4, -device isa-debug-exit)
; and test/nested/scenarios/testkernels.sh (kvmini --debug-exit).

%define KNAME         "smptest"
%define LAPIC         0xfee00000
%define LAPIC_ID      0x20
%define LAPIC_SVR     0xf0
%define LAPIC_ICR_LO  0x300
%define LAPIC_ICR_HI  0x310
%define MAX_CPUS      32
%define ITER          2000              ; counter increments per CPU
%define TRAMPOLINE    0x8000            ; SIPI vector 0x08

%include "lib.inc"

bits 32
section .text
	MB_HEADER 0x00000003              ; page-aligned modules, memory info

global mb_start
mb_start:
	cli
	mov esp, bsp_stack_top
	mov [boot_eax], eax
	mov [boot_ebx], ebx
	lgdt [gdt_desc]
	jmp SEL_CODE:.flat
.flat:	call load_segs
	mov esi, banner
	call puts

	; 1. the magic in %eax
	cmp dword [boot_eax], BOOT_MAGIC
	sete al
	mov esi, t_eax
	call check

	; 2-3. the command line: program name first, then the arguments
	call read_cmdline
	mov al, [name_ok]
	mov esi, t_name
	call check
	mov al, [cpus_arg_ok]
	mov esi, t_args
	call check

	; 4-5. the CPUs the MADT lists, against cpus=N
	call read_madt
	mov esi, madt_is
	call puts
	mov eax, [ncpus]
	call putdec
	mov esi, madt_is2
	call puts
	mov eax, [bsp_id]
	call putdec
	mov esi, nl
	call puts
	mov al, [madt_ok]
	mov esi, t_madt
	call check
	mov eax, [ncpus]
	cmp eax, [cpus_arg]
	sete al
	mov esi, t_count
	call check

	; 6. the trampoline copied below 1 MiB
	call copy_trampoline
	mov esi, t_tramp
	call check

	; 7. every AP started: INIT-SIPI-SIPI, each checks in once with an
	;    APIC ID the MADT lists
	call start_aps
	call check_aps
	mov esi, t_aps
	call check

	; 8. all CPUs counted under a lock without losing an update
	call count_under_lock
	mov esi, t_count_lock
	call check

	call report_done
	jmp debug_exit

; ---- the command line -------------------------------------------------
; name_ok = 1 when the first word ends in "smptest.elf"; cpus_arg = N of
; the first "cpus=N" after the first word (cpus_arg_ok = 1 when there is
; one).
read_cmdline:
	mov ebx, [boot_ebx]
	test dword [ebx + MBI_FLAGS], 4
	jz .r
	mov esi, cmd_is
	call puts
	mov esi, [ebx + MBI_CMDLINE]
	call puts
	mov esi, nl
	call puts
	mov esi, [ebx + MBI_CMDLINE]
	mov edi, esi                    ; find the end of the first word
.w:	mov al, [edi]
	test al, al
	jz .wend
	cmp al, ' '
	je .wend
	inc edi
	jmp .w
.wend:	mov ecx, edi                    ; [esi, edi) is the first word
	sub ecx, esi
	cmp ecx, want_name_len
	jb .args
	push esi
	push edi
	sub edi, want_name_len
	mov esi, want_name
	mov ecx, want_name_len
	repe cmpsb
	pop edi
	pop esi
	jne .args
	mov byte [name_ok], 1
.args:	mov esi, edi                    ; after the first word: find "cpus="
.find:	cmp byte [esi], 0
	je .r
	mov eax, esi
	mov edi, want_cpus
	mov ecx, want_cpus_len
	repe cmpsb                      ; esi ends after "cpus=" on a match
	je .num
	lea esi, [eax + 1]
	jmp .find
.num:	xor eax, eax                    ; esi after "cpus="
	xor ecx, ecx
.dig:	mov cl, [esi]
	sub cl, '0'
	cmp cl, 9
	ja .dend
	imul eax, eax, 10
	add eax, ecx
	inc esi
	jmp .dig
.dend:	mov [cpus_arg], eax
	test eax, eax
	setnz byte [cpus_arg_ok]
.r:	ret

; ---- ACPI: RSDP, then the XSDT or RSDT, then the MADT ------------------
; Fills ncpus, cpu_ids[], bsp_id, madt_ok.
read_madt:
	mov eax, [LAPIC + LAPIC_ID]
	shr eax, 24
	mov [bsp_id], eax
	mov eax, 'APIC'
	call find_sdt
	test eax, eax
	jz .r
	mov ecx, [eax + 4]
	lea edi, [eax + ecx]            ; end of the MADT
	lea esi, [eax + 44]
	xor ebx, ebx                    ; BSP seen
.ent:	lea eax, [esi + 2]
	cmp eax, edi
	ja .done
	movzx ecx, byte [esi + 1]
	cmp ecx, 2
	jb .done                        ; a zero-length entry: stop
	cmp byte [esi], 0               ; processor local APIC
	jne .skip
	test dword [esi + 4], 1         ; enabled
	jz .skip
	movzx eax, byte [esi + 3]
	mov edx, [ncpus]
	cmp edx, MAX_CPUS
	jae .skip
	mov [cpu_ids + edx * 4], eax
	inc dword [ncpus]
	cmp eax, [bsp_id]
	jne .skip
	mov ebx, 1
.skip:	add esi, ecx
	jmp .ent
.done:	cmp dword [ncpus], 0
	je .r
	mov [madt_ok], bl
.r:	ret

ACPI_TABLES

; ---- the trampoline ---------------------------------------------------
; Copy it to TRAMPOLINE; al = 1 when the copy reads back (RAM there).
copy_trampoline:
	mov esi, ap_trampoline
	mov edi, TRAMPOLINE
	mov ecx, ap_trampoline_end - ap_trampoline
	rep movsb
	mov esi, ap_trampoline
	mov edi, TRAMPOLINE
	mov ecx, ap_trampoline_end - ap_trampoline
	repe cmpsb
	sete al
	ret

; ---- starting the APs --------------------------------------------------
start_aps:
	mov dword [LAPIC + LAPIC_SVR], 0x1ff ; software-enable, spurious 0xff
	xor esi, esi
.next:	cmp esi, [ncpus]
	jae .wait
	mov ebx, [cpu_ids + esi * 4]
	inc esi
	cmp ebx, [bsp_id]
	je .next
	shl ebx, 24
	mov eax, 0x00004500             ; INIT, level assert
	call send_ipi
	mov ecx, 10000000               ; ~10 ms and more
	call delay
	mov eax, 0x00004600 | (TRAMPOLINE >> 12) ; STARTUP
	call send_ipi
	mov ecx, 1000000
	call delay
	mov eax, 0x00004600 | (TRAMPOLINE >> 12)
	call send_ipi
	jmp .next
.wait:	; until every AP has checked in and counted, or about 2^34 TSC
	; ticks (seconds; TCG and nested KVM are slow to schedule vCPUs)
	rdtsc
	mov [t0], eax
	mov [t0 + 4], edx
.w:	mov eax, [ncpus]
	dec eax
	cmp [ap_done], eax
	jae .r
	pause
	rdtsc
	sub eax, [t0]
	sbb edx, [t0 + 4]
	cmp edx, 4
	jb .w
.r:	ret

; ICR: destination ebx (already << 24), command eax; waits until sent.
send_ipi:
	mov [LAPIC + LAPIC_ICR_HI], ebx
	mov [LAPIC + LAPIC_ICR_LO], eax
.busy:	pause
	test dword [LAPIC + LAPIC_ICR_LO], 0x1000 ; delivery status
	jnz .busy
	ret

; Spin ecx TSC ticks.
delay:
	push ebx
	rdtsc
	mov ebx, eax
.l:	pause
	rdtsc
	sub eax, ebx
	cmp eax, ecx
	jb .l
	pop ebx
	ret

; al = 1 when ap_slot == ncpus - 1 and each AP's ID is in the MADT, is not
; the BSP's, and appears once.
check_aps:
	xor eax, eax
	mov ecx, [ncpus]
	dec ecx
	cmp [ap_slot], ecx
	jne .no
	xor esi, esi                    ; AP index
.ap:	cmp esi, [ap_slot]
	jae .yes
	mov edx, [ap_ids + esi * 4]
	cmp edx, [bsp_id]
	je .no
	xor edi, edi                    ; in the MADT?
.m:	cmp edi, [ncpus]
	jae .no
	cmp [cpu_ids + edi * 4], edx
	je .uniq
	inc edi
	jmp .m
.uniq:	xor edi, edi                    ; not seen at an earlier index
.u:	cmp edi, esi
	jae .ok
	cmp [ap_ids + edi * 4], edx
	je .no
	inc edi
	jmp .u
.ok:	inc esi
	jmp .ap
.yes:	mov al, 1
.no:	ret

; The BSP's share, then the total: ITER per CPU that started.
count_under_lock:
	call add_under_lock
	mov eax, [ap_done]
	inc eax
	imul eax, eax, ITER
	cmp [counter], eax
	sete al
	ret

add_under_lock:
	mov ecx, ITER
.l:	mov eax, 1
	xchg eax, [slock]
	test eax, eax
	jz .got
	pause
	jmp .l
.got:	mov edx, [counter]              ; a plain read-modify-write: only
	inc edx                         ; the lock keeps it whole
	mov [counter], edx
	mov dword [slock], 0
	dec ecx
	jnz .l
	ret

; An AP, in 32-bit protected mode from the trampoline.
ap_entry32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov ebx, [LAPIC + LAPIC_ID]
	shr ebx, 24
	mov ecx, 1
	lock xadd [ap_slot], ecx        ; ecx = this AP's index
	cmp ecx, MAX_CPUS - 1
	jae .halt
	mov [ap_ids + ecx * 4], ebx
	lea esp, [ecx + 1]
	shl esp, 10
	add esp, ap_stacks              ; 1 KiB each
	call add_under_lock
	lock inc dword [ap_done]
.halt:	cli
	hlt
	jmp .halt

; ---- the AP trampoline, copied to TRAMPOLINE -----------------------------
; A SIPI with vector 0x08 starts an AP in real mode at CS=0x0800, IP=0;
; the stub takes it to ap_entry32 in protected mode.
	REALMODE_TO_PM_STUB ap_trampoline, TRAMPOLINE, ap_entry32

; ---- output ------------------------------------------------------------
	LIB_ROUTINES

section .rodata
	FLAT_GDT
banner:		db "smptest: Multiboot SMP test kernel", 10, 0
cmd_is:		db "smptest: command line: ", 0
madt_is:	db "smptest: the MADT lists ", 0
madt_is2:	db " CPUs; the BSP's APIC ID is ", 0
t_eax:		db "eax holds the Multiboot magic 0x2badb002", 0
t_name:		db "the command line begins with the program name (.../smptest.elf)", 0
t_args:		db "the arguments after it give cpus=N", 0
t_madt:		db "the MADT lists the enabled CPUs, the BSP among them", 0
t_count:	db "the MADT's CPU count equals cpus=N", 0
t_tramp:	db "the AP trampoline is copied to 0x8000 (RAM below 1 MiB)", 0
t_aps:		db "every AP started by INIT-SIPI-SIPI checked in once with its APIC ID", 0
t_count_lock:	db "every CPU added to a shared counter under a lock, no update lost", 0
want_name:	db "smptest.elf"
want_name_len	equ $ - want_name
want_cpus:	db "cpus="
want_cpus_len	equ $ - want_cpus

section .data
align 4
ntest:		dd 0
nfail:		dd 0
boot_eax:	dd 0
boot_ebx:	dd 0
slock:		dd 0
counter:	dd 0
ap_slot:	dd 0
ap_done:	dd 0
ncpus:		dd 0
bsp_id:		dd 0
cpus_arg:	dd 0
t0:		dq 0
name_ok:	db 0
cpus_arg_ok:	db 0
madt_ok:	db 0

section .bss
alignb 16
cpu_ids:	resd MAX_CPUS
ap_ids:		resd MAX_CPUS
ap_stacks:	resb 1024 * MAX_CPUS
bsp_stack:	resb 4096
bsp_stack_top:

