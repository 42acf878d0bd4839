; Decoder stub shapes seen in 2003-2006 worm and bot exploits, as the
; Nepenthes and mwcollect honeypots catalogued them (each names the
; instruction sequence, written here from that description). Pick one with
; -D FORM=n; LEN is the body length in bytes, KEY the byte key (forms 1-6)
; or the dword key (7-9). The encoded body is appended after the stub.
; Test data for botscope's shellcode finder: never executed.
bits 32
%if FORM == 1
; rbot: jmp/jmp/call back, pop ebx, xor [ebx+disp] with mov cx, loop.
    jmp short j1
j0: jmp short got
j1: call j0
got:
    pop ebx
    xor ecx, ecx
    mov cx, LEN
dec1:
    xor byte [ebx + body - got], KEY
    inc ebx
    loop dec1
body:
%elif FORM == 2
; bielefeld: pop edx; dec edx; xor [edx+ecx] decoding backwards, loop,
; then jmp over the call into the body.
    jmp short getpc
got:
    pop edx
    dec edx
    xor ecx, ecx
    mov cx, LEN
dec2:
    xor byte [edx + ecx], KEY
    loop dec2
    jmp short body
getpc:
    call got
body:
%elif FORM == 3
; kaltenborn: call back to a pop ebp, jmp forward over the call, mov eax,
; ebp; add eax, disp; xor [eax]; inc eax; loop.
    jmp short j1
got:
    pop ebp
    jmp short go
j1: call got
ret_to:
go:
    mov eax, ebp
    add eax, body - ret_to
    xor ecx, ecx
    mov cx, LEN
dec3:
    xor byte [eax], KEY
    inc eax
    loop dec3
body:
%elif FORM == 4
; schauenburg: mov esi, [esp] instead of pop, add cl, then ret into the
; decoded body.
    jmp short getpc
got:
    mov esi, [esp]
    xor ecx, ecx
    add cl, LEN
dec4:
    xor byte [esi], KEY
    inc esi
    loop dec4
    ret
getpc:
    call got
body:
%elif FORM == 5
; leimbach: pop ebx; dec ebx; mov cl; xor [ebx+ecx] backwards; loop.
    jmp short getpc
got:
    pop ebx
    dec ebx
    xor ecx, ecx
    mov cl, LEN
dec5:
    xor byte [ebx + ecx], KEY
    loop dec5
    jmp short body
getpc:
    call got
body:
%elif FORM == 6
; lichtenfels: the stack moved below the stub (lea esp, [eax-0x3ff];
; and esp, -4; mov ebp, esp), then xor [eax]; inc eax; loop.
    jmp short j1
j0: jmp short got
j1: call j0
got:
    pop eax
    add eax, body - got
    lea esp, [eax - 0x3ff]
    and esp, -4
    mov ebp, esp
    xor ecx, ecx
    mov cx, LEN
dec6:
    xor byte [eax], KEY
    inc eax
    loop dec6
body:
%elif FORM == 7
; adenau: dword key, counter by sub ecx, -N; sub esi, -4; loop.
    jmp short getpc
got:
    pop esi
    xor ecx, ecx
    sub ecx, -(LEN / 4)
dec7:
    xor dword [esi], KEY
    sub esi, -4
    loop dec7
    jmp short body
getpc:
    call got
body:
%elif FORM == 8
; Metasploit PexEnvSub: sub ecx, -N; fldz; fnstenv [esp-0xc]; pop ebx;
; xor [ebx+disp]; sub ebx, -4; loop.
start:
    xor ecx, ecx
    sub ecx, -(LEN / 4)
fpu:
    fldz
    fnstenv [esp - 0xc]
    pop ebx
dec8:
    xor dword [ebx + body - fpu], KEY
    sub ebx, -4
    loop dec8
body:
%elif FORM == 9
; Metasploit Pex: sub ecx, ecx; sub ecx, -N; call $+4 (runs as inc eax);
; pop esi; xor [esi+disp]; sub esi, -4; loop.
    sub ecx, ecx
    sub ecx, -(LEN / 4)
    db 0xe8, 0xff, 0xff, 0xff, 0xff
ret_to:
    db 0xc0                     ; ff c0: inc eax
    pop esi
dec9:
    xor dword [esi + body - ret_to], KEY
    sub esi, -4
    loop dec9
body:
%else
%error "FORM must be 1..9"
%endif
