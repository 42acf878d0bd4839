; Rolling-XOR decoder: the key byte grows by STEP after every byte.
; call/pop GetPC (`call $+5; pop esi`), end pointer by `lea`, and the
; `inc esi; cmp esi, edi; jne` loop form.
; Test data for botscope's shellcode finder: never executed.
; nasm -f bin -D KEY=0x5a -D STEP=7 -D LEN=200 stub_xor_rolling.asm
bits 32
    call here
here:
    pop esi
    add esi, body - here
    lea edi, [esi + LEN]
    mov al, KEY
decode:
    xor [esi], al
    add al, STEP
    inc esi
    cmp esi, edi
    jne decode
body:
