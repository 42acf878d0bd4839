/* Benign test specimen: an agobot/phatbot-style configuration -- a table
 * of name/value pairs (si_server, si_port, si_mainchan, si_chanpass ...)
 * with every value as text.  The program only prints the table.  Built by
 * the tests, never run.
 *
 * expect: server=irc.ago-example.biz port=6668 channel=#agochan key=agopass nick=ago| encoding=plain layout=name_value
 */
#include <stdio.h>

struct cvar {
    const char *name;
    const char *value;
    const char *desc;
};

struct cvar cvars[] = {
    {"bot_version", "Agobot3 0.2.1", "Bot version"},
    {"bot_filename", "syscfg32.exe", "Destination file name"},
    {"bot_id", "ago-b1", "Bot ID"},
    {"si_chanpass", "agopass", "The channel password"},
    {"si_mainchan", "#agochan", "The main channel"},
    {"si_nickprefix", "ago|", "The nickname prefix"},
    {"si_port", "6668", "Server port"},
    {"si_server", "irc.ago-example.biz", "The irc server"},
    {"si_servpass", "", "The server password"},
    {"si_usessl", "false", "Use SSL"},
    {"do_speedtest", "false", "Speed test on start"},
};

int main(void)
{
    unsigned i;
    for (i = 0; i < sizeof cvars / sizeof cvars[0]; i++)
        printf("%s = %s (%s)\n", cvars[i].name, cvars[i].value, cvars[i].desc);
    return 0;
}
