; Dword-XOR decoder, x87 GetPC (`fldz; fnstenv [esp-0xc]; pop ebx`),
; counter by `push N; pop ecx`, `sub ebx,-4; dec ecx; jnz`, falling into
; the decoded body.
; Test data for botscope's shellcode finder: never executed.
; nasm -f bin -D KEY=0x11223344 -D DWORDS=50 stub_xor32_fnstenv.asm
bits 32
start:
    fldz
    fnstenv [esp-0xc]
    pop ebx                     ; ebx = address of fldz
    push byte DWORDS
    pop ecx
    add ebx, body - start
decode:
    xor dword [ebx], KEY
    sub ebx, -4
    dec ecx
    jnz decode
body:
