/* Benign test specimen: the configuration as an INI-style text block
 * (name=value lines), as some bots carried it in a string or resource and
 * parsed it at start-up.  The program only prints the block.  Built by
 * botscope-specimen's tests with i686-w64-mingw32-gcc -O0/-O2 -s; never
 * run.
 *
 * expect: server=irc.ini-example.info port=6669 channel=#inichan key=inikey nick=ini- encoding=plain layout=name_value
 */
#include <stdio.h>

const char settings[] =
    "[bot]\r\n"
    "version=1.2\r\n"
    "server=irc.ini-example.info\r\n"
    "port=6669\r\n"
    "channel=#inichan\r\n"
    "chankey=inikey\r\n"
    "nickprefix=ini-\r\n"
    "reconnect=30\r\n";

int main(void)
{
    fputs(settings, stdout);
    return 0;
}
