; Byte-XOR decoder, jmp/call/pop GetPC, counter by `xor ecx,ecx; mov cx,
; LEN`, `loop`, then a jump into the decoded body (the form of many
; 2003-2004 worm stubs). The encoded body follows the stub.
; Test data for botscope's shellcode finder: never executed.
; nasm -f bin -D KEY=0x99 -D LEN=200 stub_xor8_jmpcall.asm
bits 32
    xor ecx, ecx
    mov cx, LEN
    jmp short getpc
got:
    pop esi
decode:
    xor byte [esi], KEY
    inc esi
    loop decode
    jmp short body
getpc:
    call got
body:
