/* Benign test specimen: configuration strings under a rolling XOR: byte i
 * of each string (terminator included) is XOR-ed with 0x41 + i; the port
 * is a plain int.  The program
 * only decodes its own data into a buffer and prints it: no networking,
 * nothing else.  Built by botscope-specimen's tests with
 * i686-w64-mingw32-gcc -O0/-O2 -s; never run.
 *
 * expect: server=irc.roll-example.net port=6666 channel=#rollchan key=rollkey encoding=rolling_xor:41 layout=globals
 */
#include <stdio.h>
#include <string.h>

#define E(c, i) ((unsigned char)((c) ^ ((0x41 + (i)) & 0xff)))

/* "irc.roll-example.net" */
unsigned char enc_server[] = {
    E('i', 0), E('r', 1), E('c', 2), E('.', 3), E('r', 4), E('o', 5),
    E('l', 6), E('l', 7), E('-', 8), E('e', 9), E('x', 10), E('a', 11),
    E('m', 12), E('p', 13), E('l', 14), E('e', 15), E('.', 16), E('n', 17),
    E('e', 18), E('t', 19), E(0, 20),
};
int port = 6666;
/* "#rollchan" */
unsigned char enc_channel[] = {
    E('#', 0), E('r', 1), E('o', 2), E('l', 3), E('l', 4), E('c', 5),
    E('h', 6), E('a', 7), E('n', 8), E(0, 9),
};
/* "rollkey" */
unsigned char enc_chanpass[] = {
    E('r', 0), E('o', 1), E('l', 2), E('l', 3), E('k', 4), E('e', 5),
    E('y', 6), E(0, 7),
};

static void decode(char *out, const unsigned char *in, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = (char)(in[i] ^ ((0x41 + i) & 0xff));
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
