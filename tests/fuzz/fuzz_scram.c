/* fuzz_scram.c: libFuzzer target: SCRAM client on server-first/-final (RFC 5802 §7, XEP-0474). */
#include "xu-int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NONCE "fyko+d2lbbFgONRv9qkxdawL"
#define FUZZ_MAX_ITER 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Skip inputs asking for many PBKDF2 rounds: legal up to 10,000,000 and only slow. */
static int fuzz_too_slow(const char *m, size_t len)
{
	size_t i, k;

	for (i = 0; i + 1 < len; i++) {
		unsigned long n = 0;

		if (m[i] != 'i' || m[i + 1] != '=' || (i > 0 && m[i - 1] != ','))
			continue;
		for (k = i + 2; k < len && m[k] >= '0' && m[k] <= '9'; k++) {
			n = n * 10 + (unsigned long)(m[k] - '0');
			if (n > FUZZ_MAX_ITER)
				return 1;
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const mechs[] = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1"};
	static const char *const cbs[] = {"tls-server-end-point", "tls-exporter"};
	static const unsigned char cb[] = "0123456789abcdef0123456789abcdef";
	struct xu_scram_params p;
	struct xu_scram *s = NULL;
	const char *first, *final;
	char *out = NULL;
	size_t len, flen, rest;

	if (size < 1)
		return 0;
	/* The first byte is the length of server-first; the rest is server-final. */
	rest = size - 1;
	flen = data[0] < rest ? data[0] : rest;
	first = (const char *)data + 1;
	final = first + flen;
	if (fuzz_too_slow(first, flen))
		return 0;

	memset(&p, 0, sizeof(p));
	p.hash = XU_SCRAM_SHA256;
	p.authcid = "us=er,x";
	p.password = "pencil";
	p.nonce = FUZZ_NONCE;
	p.cb_type = "tls-exporter";
	p.cb_data = cb;
	p.cb_len = sizeof(cb) - 1;
	p.offered_mechs = mechs;
	p.n_offered_mechs = 3;
	p.offered_cbs = cbs;
	p.n_offered_cbs = 2;
	if (xu_scram_new(&p, &s) != XU_OK)
		abort();
	if (xu_scram_client_first(s, &out, &len) != XU_OK)
		abort();
	free(out);
	out = NULL;
	if (xu_scram_client_final(s, first, flen, &out, &len) == XU_OK) {
		if (!out || strlen(out) != len)
			abort();
		(void)xu_scram_verify(s, final, rest - flen);
	} else if (out) {
		abort();
	}
	if (!xu_scram_errmsg(s))
		abort();
	free(out);
	xu_scram_free(s);
	return 0;
}
