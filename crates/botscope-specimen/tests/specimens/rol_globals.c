/* Benign test specimen: configuration strings with every byte rotated left
 * by 3 bits, rotated back at run time; the port is a plain unsigned short.  The program
 * only decodes its own data into a buffer and prints it: no networking,
 * nothing else.  Built by botscope-specimen's tests with
 * i686-w64-mingw32-gcc -O0/-O2 -s; never run.
 *
 * expect: server=irc.rol-example.info port=6665 channel=#rolchan key=rolkey encoding=rol:3 layout=globals
 */
#include <stdio.h>
#include <string.h>

#define E(c, i) ((unsigned char)((((c) << 3) | ((c) >> 5)) & 0xff))

/* "irc.rol-example.info" */
unsigned char enc_server[] = {
    E('i', 0), E('r', 1), E('c', 2), E('.', 3), E('r', 4), E('o', 5),
    E('l', 6), E('-', 7), E('e', 8), E('x', 9), E('a', 10), E('m', 11),
    E('p', 12), E('l', 13), E('e', 14), E('.', 15), E('i', 16), E('n', 17),
    E('f', 18), E('o', 19), E(0, 20),
};
unsigned short port = 6665;
/* "#rolchan" */
unsigned char enc_channel[] = {
    E('#', 0), E('r', 1), E('o', 2), E('l', 3), E('c', 4), E('h', 5),
    E('a', 6), E('n', 7), E(0, 8),
};
/* "rolkey" */
unsigned char enc_chanpass[] = {
    E('r', 0), E('o', 1), E('l', 2), E('k', 3), E('e', 4), E('y', 5),
    E(0, 6),
};

static void decode(char *out, const unsigned char *in, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = (char)(((in[i] >> 3) | (in[i] << 5)) & 0xff);
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
