/* fuzz_jid.c: libFuzzer target for JID parsing and PRECIS preparation (RFC 7622, RFC 8265). */
#include "xu-int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A prepared string must prepare to itself (RFC 8264 §7 idempotence). */
static void fuzz_precis_idempotent(enum xu_err (*fn)(const char *, size_t, char **, const char **),
                                   const char *s, size_t n)
{
	char *out = NULL, *again = NULL;
	const char *why = NULL;
	enum xu_err err;

	err = fn(s, n, &out, &why);
	if (err == XU_ERR_NOMEM)
		return;
	if (err != XU_OK) {
		if (err != XU_ERR_DATA || out || !why)
			abort();
		return;
	}
	if (fn(out, strlen(out), &again, &why) != XU_OK || strcmp(out, again) != 0)
		abort();
	free(again);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xu_jid *j = NULL, *again = NULL, *bare = NULL, *dup = NULL;
	const char *why = NULL;
	char *s;
	enum xu_err err;

	if (size > 65536)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	fuzz_precis_idempotent(xu_precis_username, s, size);
	fuzz_precis_idempotent(xu_precis_opaque, s, size);

	err = xu_jid_parse(s, &j, &why);
	if (err != XU_OK) {
		if ((err != XU_ERR_DATA && err != XU_ERR_NOMEM) || j || !why)
			abort();
		goto out;
	}
	/* parse(full(parse(s))) == parse(s), octet for octet */
	if (xu_jid_parse(xu_jid_full(j), &again, &why) != XU_OK)
		abort();
	if (!xu_jid_equal(j, again) || strcmp(xu_jid_full(j), xu_jid_full(again)) != 0 ||
	    strcmp(xu_jid_domain_ascii(j), xu_jid_domain_ascii(again)) != 0)
		abort();
	if (strlen(xu_jid_domain(j)) > 1023 || strlen(xu_jid_domain_ascii(j)) > 253)
		abort();
	if ((xu_jid_local(j) && strlen(xu_jid_local(j)) > 1023) ||
	    (xu_jid_resource(j) && strlen(xu_jid_resource(j)) > 1023))
		abort();
	if (xu_jid_to_bare(j, &bare) == XU_OK) {
		if (!xu_jid_bare_equal(j, bare) || xu_jid_resource(bare) ||
		    strcmp(xu_jid_full(bare), xu_jid_bare(j)) != 0)
			abort();
	}
	if (xu_jid_dup(j, &dup) == XU_OK && !xu_jid_equal(j, dup))
		abort();
out:
	xu_jid_free(dup);
	xu_jid_free(bare);
	xu_jid_free(again);
	xu_jid_free(j);
	free(s);
	return 0;
}
