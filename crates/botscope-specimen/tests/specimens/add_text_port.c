/* Benign test specimen: configuration strings stored with 0x17 added to
 * every byte (terminator included) and subtracted at run time; the port
 * is encoded text too.  The program
 * only decodes its own data into a buffer and prints it: no networking,
 * nothing else.  Built by botscope-specimen's tests with
 * i686-w64-mingw32-gcc -O0/-O2 -s; never run.
 *
 * expect: server=irc.add-example.org port=7002 channel=#addchan key=addkey encoding=add:17 layout=globals
 */
#include <stdio.h>
#include <string.h>

#define E(c, i) ((unsigned char)((c) + 0x17))

/* "irc.add-example.org" */
unsigned char enc_server[] = {
    E('i', 0), E('r', 1), E('c', 2), E('.', 3), E('a', 4), E('d', 5),
    E('d', 6), E('-', 7), E('e', 8), E('x', 9), E('a', 10), E('m', 11),
    E('p', 12), E('l', 13), E('e', 14), E('.', 15), E('o', 16), E('r', 17),
    E('g', 18), E(0, 19),
};
/* "7002" */
unsigned char enc_port[] = {
    E('7', 0), E('0', 1), E('0', 2), E('2', 3), E(0, 4),
};
/* "#addchan" */
unsigned char enc_channel[] = {
    E('#', 0), E('a', 1), E('d', 2), E('d', 3), E('c', 4), E('h', 5),
    E('a', 6), E('n', 7), E(0, 8),
};
/* "addkey" */
unsigned char enc_chanpass[] = {
    E('a', 0), E('d', 1), E('d', 2), E('k', 3), E('e', 4), E('y', 5),
    E(0, 6),
};

static void decode(char *out, const unsigned char *in, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        out[i] = (char)(in[i] - 0x17);
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
