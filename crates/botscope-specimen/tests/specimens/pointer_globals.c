/* Benign test specimen: the configuration as pointer globals -- a list
 * of server names (the bot tries them in turn), the port as an int, the
 * channel and its key as pointers to string literals in .rdata.  The
 * program only prints its own data.  Built by botscope-specimen's tests
 * with i686-w64-mingw32-gcc -O0/-O2 -s; never run.  In definition order
 * (-O0) the pointers read as a table row; reversed (-O2) they do not.
 *
 * expect: server=irc.list-example.net port=6667 server2=backup.list-example.org port2=6667 channel=#listchan key=listkey encoding=plain layout=pointer_table|globals
 */
#include <stdio.h>

const char *servers[] = {"irc.list-example.net", "backup.list-example.org"};
int port = 6667;
const char *channel = "#listchan";
const char *chankey = "listkey";
int maxlogins = 3;

int main(void)
{
    unsigned i;
    for (i = 0; i < sizeof servers / sizeof servers[0]; i++)
        printf("%s:%d\n", servers[i], port);
    printf("%s %s %d\n", channel, chankey, maxlogins);
    return 0;
}
