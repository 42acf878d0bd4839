/* Benign test specimen: configuration strings under a chained XOR --
 * each stored byte is the plain byte XOR-ed with the previous stored byte,
 * the first with 0x6d (terminator included) -- decoded at run time; the
 * port is a plain int.  The program only decodes its own data into a
 * buffer and prints it: no networking, nothing else.  Built by
 * botscope-specimen's tests with i686-w64-mingw32-gcc -O0/-O2 -s; never
 * run.  (The arrays were computed from the strings in their comments.)
 *
 * expect: server=irc.chain-example.org port=6697 channel=#chainchan key=chainkey encoding=chained_xor:6d layout=globals
 */
#include <stdio.h>
#include <string.h>

/* "irc.chain-example.org", chained from 0x6d */
unsigned char enc_server[] = {
    0x04, 0x76, 0x15, 0x3b, 0x58, 0x30, 0x51, 0x38,
    0x56, 0x7b, 0x1e, 0x66, 0x07, 0x6a, 0x1a, 0x76,
    0x13, 0x3d, 0x52, 0x20, 0x47, 0x47,
};
int port = 6697;
/* "#chainchan", chained from 0x6d */
unsigned char enc_channel[] = {
    0x4e, 0x2d, 0x45, 0x24, 0x4d, 0x23, 0x40, 0x28,
    0x49, 0x27, 0x27,
};
/* "chainkey", chained from 0x6d */
unsigned char enc_chanpass[] = {
    0x0e, 0x66, 0x07, 0x6e, 0x00, 0x6b, 0x0e, 0x77,
    0x77,
};

static void decode(char *out, const unsigned char *in, size_t n)
{
    unsigned char prev = 0x6d;
    size_t i;
    for (i = 0; i < n; i++) {
        out[i] = (char)(in[i] ^ prev);
        prev = in[i];
    }
}

int main(void)
{
    char a[64], b[64], c[64];
    decode(a, enc_server, sizeof enc_server);
    decode(b, enc_channel, sizeof enc_channel);
    decode(c, enc_chanpass, sizeof enc_chanpass);
    printf("%s:%d %s %s\n", a, port, b, c);
    return 0;
}
