/* Benign test specimen: configuration strings XOR-ed with one key byte
 * (terminator included), decoded at run time; the port is a plain
 * unsigned short.  The program
 * only decodes its own data into a buffer and prints it: no networking,
 * nothing else.  Built by botscope-specimen's tests with
 * i686-w64-mingw32-gcc -O0/-O2 -s; never run.
 *
 * expect: server=irc.xor1-example.net port=5555 channel=#x1chan key=x1key encoding=xor:3d layout=globals
 */
#include <stdio.h>
#include <string.h>

#define E(c, i) ((unsigned char)((c) ^ 0x3d))

/* "irc.xor1-example.net" */
unsigned char enc_server[] = {
    E('i', 0), E('r', 1), E('c', 2), E('.', 3), E('x', 4), E('o', 5),
    E('r', 6), E('1', 7), E('-', 8), E('e', 9), E('x', 10), E('a', 11),
    E('m', 12), E('p', 13), E('l', 14), E('e', 15), E('.', 16), E('n', 17),
    E('e', 18), E('t', 19), E(0, 20),
};
unsigned short port = 5555;
/* "#x1chan" */
unsigned char enc_channel[] = {
    E('#', 0), E('x', 1), E('1', 2), E('c', 3), E('h', 4), E('a', 5),
    E('n', 6), E(0, 7),
};
/* "x1key" */
unsigned char enc_chanpass[] = {
    E('x', 0), E('1', 1), E('k', 2), E('e', 3), E('y', 4), E(0, 5),
};

static void decode(char *out, const unsigned char *in, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = (char)(in[i] ^ 0x3d);
}

int main(void)
{
    char a[64], b[64], c[64];
    decode(a, enc_server, sizeof enc_server);
    decode(b, enc_channel, sizeof enc_channel);
    decode(c, enc_chanpass, sizeof enc_chanpass);
    printf("%s:%u %s %s\n", a, port, b, c);
    return 0;
}
