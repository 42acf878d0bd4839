/* Benign test specimen for the de-obfuscation stage: a C&C host built on
 * the stack one character at a time (volatile, so every store stays a
 * `mov byte [esp/ebp+d], imm8` at any optimisation level), as bots kept
 * strings out of their string tables.  The program only prints it: no
 * networking.  Built with i686-w64-mingw32-gcc -O0/-O2 -s; never run.
 */
#include <stdio.h>

int main(void)
{
    volatile char h[32];
    char out[32];
    int i;
    h[0] = 'i'; h[1] = 'r'; h[2] = 'c'; h[3] = '.'; h[4] = 's';
    h[5] = 't'; h[6] = 'a'; h[7] = 'c'; h[8] = 'k'; h[9] = 'c';
    h[10] = 'c'; h[11] = '.'; h[12] = 'e'; h[13] = 'x'; h[14] = 'a';
    h[15] = 'm'; h[16] = 'p'; h[17] = 'l'; h[18] = 'e'; h[19] = '.';
    h[20] = 'n'; h[21] = 'e'; h[22] = 't'; h[23] = 0;
    for (i = 0; i < 24; i++)
        out[i] = h[i];
    puts(out);
    return 0;
}
