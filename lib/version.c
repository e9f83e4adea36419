/* version.c: the versions of the libraries a command runs with (not the ones it was built
 * against: a bug report needs what is loaded). */
#include "xu-int.h"

#include <gnutls/gnutls.h>
#include <idn2.h>
#include <libxml/globals.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistring/version.h>

void xu_versions(char *buf, size_t len)
{
	/* libxml2 says "21004" for 2.10.4. */
	long x = strtol(xmlParserVersion ? xmlParserVersion : "0", NULL, 10);

	/* libunistring: (major << 16) + (minor << 8) + subminor. */
	int u = _libunistring_version;

	snprintf(buf, len, "GnuTLS %s, libxml2 %ld.%ld.%ld, libidn2 %s, libunistring %d.%d.%d",
	         gnutls_check_version(NULL), x / 10000, x / 100 % 100, x % 100,
	         idn2_check_version(NULL), u >> 16, (u >> 8) & 0xff, u & 0xff);
}
