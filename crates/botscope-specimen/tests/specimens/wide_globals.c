/* Benign test specimen: the configuration kept as wide-character
 * (UTF-16LE) strings, port as an int.  The program only prints its own
 * data.  Built by the tests, never run.
 *
 * expect: server=irc.wide-example.org port=6669 channel=#widechan key=wkey99 encoding=utf16 layout=globals
 */
#include <stdio.h>
#include <wchar.h>

wchar_t server[] = L"irc.wide-example.org";
int port = 6669;
wchar_t channel[] = L"#widechan";
wchar_t chanpass[] = L"wkey99";
wchar_t nickprefix[] = L"w|";
int maxclones = 5;

int main(void)
{
    wprintf(L"%ls:%d %ls %ls %ls %d\n", server, port, channel, chanpass, nickprefix, maxclones);
    return 0;
}
