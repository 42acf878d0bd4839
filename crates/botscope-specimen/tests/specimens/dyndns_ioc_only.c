/* Benign test specimen with no IRC configuration at all, only a host name
 * under a dynamic-DNS provider's zone in an update URL, and an ordinary
 * web host.  The program only prints its strings.  Built by the tests,
 * never run.
 *
 * expect: no config; C&C-like IOC update.tier2-example.dyndns.org (dynamic-dns)
 */
#include <stdio.h>

const char update_url[] = "http://update.tier2-example.dyndns.org/files/patch.exe";
const char help_url[] = "http://www.example.com/help.html";

int main(void)
{
    printf("%s\n%s\n", update_url, help_url);
    return 0;
}
