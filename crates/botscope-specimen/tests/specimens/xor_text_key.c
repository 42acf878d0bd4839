/* Benign test specimen: configuration strings XOR-ed with a 10-character
 * text key that restarts at each string (terminator included); the key is
 * a string in the program, as decoders kept it, and the port is encoded
 * text too.  The program only decodes its own data into a buffer and
 * prints it: no networking, nothing else.  Built by botscope-specimen's
 * tests with i686-w64-mingw32-gcc -O0/-O2 -s; never run.
 *
 * expect: server=irc.strkey-example.net port=6668 channel=#strchan key=strpass encoding=xor:5a71392357783221506d layout=globals
 */
#include <stdio.h>
#include <string.h>

const char xkey[] = "Zq9#Wx2!Pm";
#define KB(i) ((i) % 10 == 0 ? 0x5a : (i) % 10 == 1 ? 0x71 : (i) % 10 == 2 ? 0x39 : (i) % 10 == 3 ? 0x23 : (i) % 10 == 4 ? 0x57 : (i) % 10 == 5 ? 0x78 : (i) % 10 == 6 ? 0x32 : (i) % 10 == 7 ? 0x21 : (i) % 10 == 8 ? 0x50 : 0x6d)
#define E(c, i) ((unsigned char)((c) ^ KB(i)))

/* "irc.strkey-example.net" */
unsigned char enc_server[] = {
    E('i', 0), E('r', 1), E('c', 2), E('.', 3), E('s', 4), E('t', 5),
    E('r', 6), E('k', 7), E('e', 8), E('y', 9), E('-', 10), E('e', 11),
    E('x', 12), E('a', 13), E('m', 14), E('p', 15), E('l', 16), E('e', 17),
    E('.', 18), E('n', 19), E('e', 20), E('t', 21), E(0, 22),
};
/* "6668" */
unsigned char enc_port[] = {
    E('6', 0), E('6', 1), E('6', 2), E('8', 3), E(0, 4),
};
/* "#strchan" */
unsigned char enc_channel[] = {
    E('#', 0), E('s', 1), E('t', 2), E('r', 3), E('c', 4), E('h', 5),
    E('a', 6), E('n', 7), E(0, 8),
};
/* "strpass" */
unsigned char enc_chanpass[] = {
    E('s', 0), E('t', 1), E('r', 2), E('p', 3), E('a', 4), E('s', 5),
    E('s', 6), E(0, 7),
};

static void decode(char *out, const unsigned char *in, size_t n)
{
    size_t i, k = strlen(xkey);
    for (i = 0; i < n; i++)
        out[i] = (char)(in[i] ^ (unsigned char)xkey[i % k]);
}

int main(void)
{
    char a[64], p[16], b[64], c[64];
    decode(a, enc_server, sizeof enc_server);
    decode(p, enc_port, sizeof enc_port);
    decode(b, enc_channel, sizeof enc_channel);
    decode(c, enc_chanpass, sizeof enc_chanpass);
    printf("%s:%s %s %s\n", a, p, b, c);
    return 0;
}
