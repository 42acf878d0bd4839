; More decoder forms for botscope's shellcode finder, -D FORM=n:
; 1: lodsb / xor al, KEY / stosb with `mov ecx, LEN` and `loop`;
; 2: sub byte [esi], KEY with `mov ecx, LEN`, `dec ecx; jnz`;
; 3: cascading XOR, backwards: each byte XORed with the (still encoded)
;    byte before it, `push LEN-1; pop ecx`, `loop` (byte 0 is left as is);
; 4: add dword [esi], KEY with `mov ecx, LEN/4`, `loop`.
; The encoded body is appended after the stub. Test data: never executed.
bits 32
%if FORM == 1
    mov ecx, LEN
    jmp short getpc
got:
    pop esi
    mov edi, esi
dec1:
    lodsb
    xor al, KEY
    stosb
    loop dec1
    jmp short body
getpc:
    call got
body:
%elif FORM == 2
    call here
here:
    pop esi
    add esi, body - here
    mov ecx, LEN
dec2:
    sub byte [esi], KEY
    inc esi
    dec ecx
    jnz dec2
body:
%elif FORM == 3
    jmp short getpc
got:
    pop edi
    push LEN - 1
    pop ecx
dec3:
    mov al, [edi + ecx - 1]
    xor [edi + ecx], al
    loop dec3
    jmp short body
getpc:
    call got
body:
%elif FORM == 4
    fldz
start:
    fnstenv [esp - 0xc]
    pop esi                     ; esi = address of fldz
    add esi, body - $$
    mov ecx, LEN / 4
dec4:
    add dword [esi], KEY
    add esi, 4
    loop dec4
body:
%else
%error "FORM must be 1..4"
%endif
