/* Benign test specimen: sdbot-style globals with the server given as a
 * dotted IPv4 address (documentation range) and a non-default port.  The
 * program only prints its own data.  Built by the tests, never run.
 *
 * expect: server=192.0.2.44 port=7000 channel=#ipchan key=ip-key encoding=plain layout=globals
 */
#include <stdio.h>

char server[] = "192.0.2.44";
int port = 7000;
char channel[] = "#ipchan";
char chanpass[] = "ip-key";
char nickconst[] = "ip|";
int maxlogins = 2;

int main(void)
{
    printf("%s:%d %s %s %s %d\n", server, port, channel, chanpass, nickconst, maxlogins);
    return 0;
}
