/* Benign test specimen: configuration strings XOR-ed with a 4-byte key
 * that restarts at each string (terminator included), decoded at run time;
 * the port is a plain int.  The program
 * only decodes its own data into a buffer and prints it: no networking,
 * nothing else.  Built by botscope-specimen's tests with
 * i686-w64-mingw32-gcc -O0/-O2 -s; never run.
 *
 * expect: server=irc.xor4-example.com port=6670 channel=#x4chan key=x4pass encoding=xor:5ac3178e layout=globals
 */
#include <stdio.h>
#include <string.h>

#define K(i) ((i) % 4 == 0 ? 0x5a : (i) % 4 == 1 ? 0xc3 : (i) % 4 == 2 ? 0x17 : 0x8e)
#define E(c, i) ((unsigned char)((c) ^ K(i)))

/* "irc.xor4-example.com" */
unsigned char enc_server[] = {
    E('i', 0), E('r', 1), E('c', 2), E('.', 3), E('x', 4), E('o', 5),
    E('r', 6), E('4', 7), E('-', 8), E('e', 9), E('x', 10), E('a', 11),
    E('m', 12), E('p', 13), E('l', 14), E('e', 15), E('.', 16), E('c', 17),
    E('o', 18), E('m', 19), E(0, 20),
};
int port = 6670;
/* "#x4chan" */
unsigned char enc_channel[] = {
    E('#', 0), E('x', 1), E('4', 2), E('c', 3), E('h', 4), E('a', 5),
    E('n', 6), E(0, 7),
};
/* "x4pass" */
unsigned char enc_chanpass[] = {
    E('x', 0), E('4', 1), E('p', 2), E('a', 3), E('s', 4), E('s', 5),
    E(0, 6),
};
/* "x4|" */
unsigned char enc_nick[] = {
    E('x', 0), E('4', 1), E('|', 2), E(0, 3),
};

static void decode(char *out, const unsigned char *in, size_t n)
{
    static const unsigned char key[4] = {0x5a, 0xc3, 0x17, 0x8e};
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = (char)(in[i] ^ key[i % 4]);
}

int main(void)
{
    char a[64], b[64], c[64], d[64];
    decode(a, enc_server, sizeof enc_server);
    decode(b, enc_channel, sizeof enc_channel);
    decode(c, enc_chanpass, sizeof enc_chanpass);
    decode(d, enc_nick, sizeof enc_nick);
    printf("%s:%d %s %s %s\n", a, port, b, c, d);
    return 0;
}
