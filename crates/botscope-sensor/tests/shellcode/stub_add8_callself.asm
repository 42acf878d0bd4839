; ADD-byte decoder with the `call $+4` GetPC (e8 ff ff ff ff: the call
; lands on its own last byte, which runs as `inc edx` with the next),
; counter by `xor ecx,ecx; sub ecx,-LEN`, `dec ecx; jnz`.
; Test data for botscope's shellcode finder: never executed.
; nasm -f bin -D KEY=0x33 -D LEN=200 stub_add8_callself.asm
bits 32
    xor ecx, ecx
    sub ecx, -LEN
    db 0xe8, 0xff, 0xff, 0xff, 0xff
ret_to:
    db 0xc2                     ; ff c2: inc edx
    pop esi                     ; esi = ret_to
    add esi, body - ret_to
decode:
    add byte [esi], KEY
    inc esi
    dec ecx
    jnz decode
body:
