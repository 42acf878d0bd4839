/* Benign test specimen for the de-obfuscation stage: C&C strings that
 * are encoded at build time, never in the program as plain text.  The
 * test (tests/deobf_record.rs) passes them as macros: CC_B64 from
 * coreutils' `base64`, CC_HEX from `od`, CC_ROT13 from `tr`, CC_XOR the
 * bytes of a host XOR-ed with the text key CC_KEY (restarting at the
 * string, terminator included), which the program keeps as its decoder
 * would.  The program only decodes the XOR string into a buffer and
 * prints the strings: no networking, nothing else.  Built with
 * i686-w64-mingw32-gcc -O0/-O2 -s; never run.
 */
#include <stdio.h>
#include <string.h>

const char b64_server[] = CC_B64;
const char hex_url[] = CC_HEX;
const char rot_url[] = CC_ROT13;
const char xkey[] = CC_KEY;
const unsigned char xor_server[] = { CC_XOR };

static void decode(char *out, const unsigned char *in, size_t n)
{
    size_t i, k = strlen(xkey);
    for (i = 0; i < n; i++)
        out[i] = (char)(in[i] ^ (unsigned char)xkey[i % k]);
}

int main(void)
{
    char host[64];
    decode(host, xor_server, sizeof xor_server);
    printf("%s %s %s %s\n", b64_server, hex_url, rot_url, host);
    return 0;
}
