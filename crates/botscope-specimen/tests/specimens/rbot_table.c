/* Benign test specimen: an rbot-style server table -- an array of structs
 * holding pointers to the strings and the port as an unsigned short; two
 * servers, the first one is the primary.  The program only prints the
 * table.  Built by the tests, never run.
 *
 * expect: server=irc.rb-example.org port=6667 server2=backup.rb-example.info port2=7777 channel=#rbchan key=rbpass encoding=plain layout=pointer_table
 */
#include <stdio.h>

typedef struct {
    const char *host;
    unsigned short port;
    const char *chan;
    const char *chanpass;
    const char *servpass;
    int ssl;
} SERVER;

SERVER servers[] = {
    {"irc.rb-example.org", 6667, "#rbchan", "rbpass", "", 0},
    {"backup.rb-example.info", 7777, "#rbchan", "rbpass", "", 0},
};

const char *version = "rBot v0.3.3";
const char *autostart = "Software\\Microsoft\\Windows\\CurrentVersion\\Run";
const char *exename = "svchosts.exe";
int maxthreads = 64;

int main(void)
{
    unsigned i;
    for (i = 0; i < sizeof servers / sizeof servers[0]; i++)
        printf("%s:%u %s %s %s %d\n", servers[i].host, servers[i].port, servers[i].chan,
               servers[i].chanpass, servers[i].servpass, servers[i].ssl);
    printf("%s %s %s %d\n", version, autostart, exename, maxthreads);
    return 0;
}
