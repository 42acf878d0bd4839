/* Benign test specimen: an IRC bot configuration kept the way sdbot 0.5
 * (2003-2004) kept it -- separate global char arrays and the port as a
 * 4-byte int, all in .data.  The program only prints its own data: no
 * networking, nothing else.  Built by botscope-specimen's tests with
 * i686-w64-mingw32-gcc -O0/-O2 -s; never run.
 *
 * expect: server=irc.sdnet-example.net port=6667 channel=#sdtest key=sdkey42 encoding=plain layout=globals
 */
#include <stdio.h>

char botid[] = "sd05";
char server[] = "irc.sdnet-example.net";
int port = 6667;
char serverpass[] = "";
char channel[] = "#sdtest";
char chanpass[] = "sdkey42";
char filename[] = "wuaumon.exe";
char valuename[] = "Windows Update Monitor";
char nickconst[] = "sd-";
int maxlogins = 3;
int reconnect_delay = 30;
/* Not part of the config: another name the program mentions. */
const char homepage[] = "http://www.example.com/about.html";

int main(void)
{
    printf("%s %s:%d %s %s %s\n", botid, server, port, serverpass, channel, chanpass);
    printf("%s %s %s %d %d %s\n", filename, valuename, nickconst, maxlogins, reconnect_delay, homepage);
    return 0;
}
