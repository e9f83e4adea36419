/* The floor of one xmpp-send run, built by bench/compare.py: a process that loads the same
 * libraries as xmpp-send (libxml2, GnuTLS, libidn2, popt), initialises each the way a client
 * must (GnuTLS credentials with the system trust store, the XML parser, one IDNA lookup, the
 * option parser) and exits. Its wall time, CPU and peak RSS are what linking and loading cost.
 * With one argument, a PEM file, it loads that as the only trust anchor instead (what
 * `xmpp-send --cafile` does). */
#include <gnutls/gnutls.h>
#include <idn2.h>
#include <libxml/parser.h>
#include <popt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct poptOption opts[] = {POPT_AUTOHELP POPT_TABLEEND};
	poptContext pc = poptGetContext("floor", argc, (const char **)argv, opts, 0);
	gnutls_certificate_credentials_t cred;
	uint8_t *ascii = NULL;
	int n;

	while (poptGetNextOpt(pc) > 0)
		;
	xmlInitParser();
	if (idn2_lookup_u8((const uint8_t *)"localhost", &ascii, IDN2_NONTRANSITIONAL) != IDN2_OK)
		return 70;
	idn2_free(ascii);
	if (gnutls_global_init() < 0 || gnutls_certificate_allocate_credentials(&cred) < 0)
		return 70;
	if (poptPeekArg(pc))
		n = gnutls_certificate_set_x509_trust_file(cred, poptPeekArg(pc),
		                                           GNUTLS_X509_FMT_PEM);
	else
		n = gnutls_certificate_set_x509_system_trust(cred);
	if (n <= 0) {
		fprintf(stderr, "floor: no trust anchor loaded: %s\n", gnutls_strerror(n));
		return 70;
	}
	gnutls_certificate_free_credentials(cred);
	poptFreeContext(pc);
	gnutls_global_deinit();
	xmlCleanupParser();
	return 0;
}
