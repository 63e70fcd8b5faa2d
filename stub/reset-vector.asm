; igvmkit reset-vector boot stub: a 64 KiB ROM for `qemu-system-x86_64 -bios` (QEMU without IGVM support).
;
; The CPU leaves reset in real mode at 0xFFFFFFF0 (CS base 0xFFFF0000). The stub loads its GDT from the ROM,
; enters 32-bit protected mode on its own flat segments (selectors 0xF0 code, 0xF8 data), then puts the CPU into
; the IGVM file's native VP context, read from the parameter block at ROM offset 0xF000 (filled in by
; src/run/polyfill.ts): CR4, CR3, EFER, CR0, data segments, general registers, RFLAGS.IF/DF, and a far jump
; to CS:RIP through the GDT at ROM offset 0xF100, where the generator put the context's code and data descriptors.
; 32-bit protected mode, and long mode when the guest's page tables identity-map the ROM (the generator checks):
; after CR0.PG the stub keeps executing from 0xFFFFxxxx through the guest's tables, enters 64-bit mode with the
; context's code selector and jumps to RIP. No stack use: nothing is written to guest RAM.
;
; Assemble: nasm -f bin -o reset-vector.bin reset-vector.asm   (scripts/assemble-stub.mjs)

ROM_BASE   equ 0xFFFF0000
BLK        equ 0xF000            ; parameter block offset
GDT        equ 0xF100            ; GDT offset (32 entries)
STUB_CODE  equ 0xF0              ; flat 32-bit code selector of the stub
STUB_DATA  equ 0xF8              ; flat data selector of the stub

; parameter block fields (offsets from BLK)
P_MAGIC    equ 0x00              ; "IGVMRUN1"
P_CR0      equ 0x08
P_CR3      equ 0x0C
P_CR4      equ 0x10
P_EFER_LO  equ 0x14
P_EFER_HI  equ 0x18
P_EAX      equ 0x1C
P_EBX      equ 0x20
P_ECX      equ 0x24
P_EDX      equ 0x28
P_ESI      equ 0x2C
P_EDI      equ 0x30
P_EBP      equ 0x34
P_ESP      equ 0x38
P_EFLAGS   equ 0x3C
P_DATA_SEL equ 0x40
P_FAR_EIP  equ 0x44              ; m16:32 far pointer: EIP then CS
P_FAR_CS   equ 0x48
P_MODE     equ 0x4C              ; 0 = 32-bit protected mode, 1 = long mode
P_FAR64    equ 0x50              ; m16:32 far pointer to lm64 with the context's (64-bit) code selector
; long mode: full 64-bit values
P_RAX64    equ 0x60
P_RBX64    equ 0x68
P_RCX64    equ 0x70
P_RDX64    equ 0x78
P_RSI64    equ 0x80
P_RDI64    equ 0x88
P_RBP64    equ 0x90
P_RSP64    equ 0x98
P_R8       equ 0xA0              ; r8..r15 at 0xA0..0xD8
P_RIP64    equ 0xE0

%define A(x) (ROM_BASE + BLK + x)

        bits 32
        org 0
pm32:
        mov ax, STUB_DATA
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov eax, [A(P_CR4)]
        mov cr4, eax
        mov eax, [A(P_CR3)]
        mov cr3, eax
        mov ecx, 0xC0000080      ; IA32_EFER
        mov eax, [A(P_EFER_LO)]
        mov edx, [A(P_EFER_HI)]
        wrmsr
        mov eax, [A(P_CR0)]
        or eax, 1                ; stay in protected mode
        mov cr0, eax             ; with PG and EFER.LME: long mode (compatibility mode) from here on
        cmp byte [A(P_MODE)], 1
        jne .pm
        jmp far [A(P_FAR64)]     ; into lm64 with the context's 64-bit code selector
.pm:
        ; RFLAGS: the bits a boot protocol cares about (IF, DF); IF=0 and DF=0 already
        test dword [A(P_EFLAGS)], 0x400
        jz .no_df
        std
.no_df:
        ; data segments from the context's data descriptor (everything below is read through CS, flat base 0)
        mov ax, [cs:A(P_DATA_SEL)]
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov esp, [cs:A(P_ESP)]
        mov eax, [cs:A(P_EAX)]
        mov ebx, [cs:A(P_EBX)]
        mov ecx, [cs:A(P_ECX)]
        mov edx, [cs:A(P_EDX)]
        mov esi, [cs:A(P_ESI)]
        mov edi, [cs:A(P_EDI)]
        mov ebp, [cs:A(P_EBP)]
        test dword [cs:A(P_EFLAGS)], 0x200
        jz .jump
        sti                      ; takes effect after the jump
.jump:
        jmp far [cs:A(P_FAR_EIP)]

        bits 64
lm64:
        mov ax, [rel block + P_DATA_SEL]
        mov ds, ax
        mov es, ax
        mov fs, ax
        mov gs, ax
        mov ss, ax
        mov rsp, [rel block + P_RSP64]
        mov rax, [rel block + P_RAX64]
        mov rbx, [rel block + P_RBX64]
        mov rcx, [rel block + P_RCX64]
        mov rdx, [rel block + P_RDX64]
        mov rsi, [rel block + P_RSI64]
        mov rdi, [rel block + P_RDI64]
        mov rbp, [rel block + P_RBP64]
        mov r8, [rel block + P_R8]
        mov r9, [rel block + P_R8 + 8]
        mov r10, [rel block + P_R8 + 16]
        mov r11, [rel block + P_R8 + 24]
        mov r12, [rel block + P_R8 + 32]
        mov r13, [rel block + P_R8 + 40]
        mov r14, [rel block + P_R8 + 48]
        mov r15, [rel block + P_R8 + 56]
        test dword [rel block + P_EFLAGS], 0x400
        jz .no_df64
        std
.no_df64:
        test dword [rel block + P_EFLAGS], 0x200
        jz .jump64
        sti
.jump64:
        jmp [rel block + P_RIP64]
        bits 32

        times BLK - ($ - $$) db 0
block:
        db "IGVMRUN1"
        times P_FAR64 - ($ - block) db 0
        dd ROM_BASE + lm64       ; P_FAR64: offset of lm64; the generator writes the selector after it
        dw 0
        times 0xF0 - ($ - block) db 0
gdt_desc:                        ; at BLK + 0xF0: limit, base of the ROM GDT
        dw 32 * 8 - 1
        dd ROM_BASE + GDT
        times GDT - ($ - $$) db 0
gdt:
        times 30 dq 0            ; entries 0..29: the context's descriptors, filled in by the generator
        dq 0x00CF9B000000FFFF    ; 0xF0: stub code, flat 32-bit
        dq 0x00CF93000000FFFF    ; 0xF8: stub data, flat

        times 0xFF00 - ($ - $$) db 0
        bits 16
entry16:
        cli
        cld
        o32 lgdt [cs:BLK + 0xF0]
        mov eax, cr0
        or al, 1
        mov cr0, eax
        jmp dword STUB_CODE:(ROM_BASE + pm32)

        times 0xFFF0 - ($ - $$) db 0
reset:                           ; 0xFFFFFFF0
        jmp entry16
        times 0x10000 - ($ - $$) db 0
