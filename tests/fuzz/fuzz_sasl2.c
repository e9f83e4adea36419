/* fuzz_sasl2.c: libFuzzer target for what a SASL2 server sends (XEP-0388 features with Bind2,
 * XEP-0386, and FAST, XEP-0484, inline; <success/>, <failure/>): the offer stays in bounds, its
 * cached string rebuilds features that give the same string, a success's parts are its own and
 * go back out intact, and an HT-SHA-256-NONE login accepts exactly the server's proof. */
#include "testutil.h"

#include "conn-int.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* XEP-0484 §3.4's example token; corpus/fuzz_sasl2/success-* carry its Responder HMAC. */
static const char fuzz_token[] = "WXZzciBwYmFmdmZnZiBqdmd1IGp2eXFhcmZmIG9uZXhhcmZmIGhmLg";

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

/* What the cache file takes for a SASL2 line (lib/cache.c cache_names). */
static bool fuzz_cacheable(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                          "0123456789-_,") == n;
}

static void fuzz_offer(const struct xu_stanza *st)
{
	struct xu_sasl2_offer o;
	bool sasl2 = xu_sasl2_offer(st, &o);
	const char *cb;
	size_t i;

	fuzz_check(sasl2 == (xu_stanza_child(st, "authentication", XU_NS_SASL2) != NULL));
	fuzz_check(o.nfast <= XU_SASL2_MAX_FAST);
	fuzz_check(sasl2 || (!o.bind2 && o.nfast == 0));
	for (i = 0; i < o.nfast; i++)
		fuzz_check(xu_sasl_ht(o.fast[i], &cb) && xu_sasl2_offers_fast(&o, o.fast[i]));
}

/* The cached form fits the cache's field or is refused whole; features rebuilt from it (and
 * from the SASL offer) give back the same strings. */
static void fuzz_inline(const struct xu_stanza *st)
{
	char inl[sizeof(((struct xu_cache *)0)->sasl2)], big[512], again[512];
	char mechs[256], cbs[128], m2[256], c2[128];
	struct xu_stanza *f;
	bool ok = xu_sasl2_inline(st, inl, sizeof(inl));
	size_t n;
	enum xu_err err;

	/* bind2 and XU_SASL2_MAX_FAST names of 15 bytes always fit in 512. */
	fuzz_check(xu_sasl2_inline(st, big, sizeof(big)));
	n = strlen(big);
	fuzz_check(ok == (n < sizeof(inl)));
	fuzz_check(!ok || strcmp(inl, big) == 0);
	fuzz_check(n < 2 || !xu_sasl2_inline(st, again, n));
	if (n == 0) {
		fuzz_check(!xu_stanza_child(st, "authentication", XU_NS_SASL2));
		return;
	}
	fuzz_check(fuzz_cacheable(big));
	if (!xu_sasl_offer(st, mechs, sizeof(mechs), cbs, sizeof(cbs))) {
		memcpy(mechs, "SCRAM-SHA-1", sizeof("SCRAM-SHA-1"));
		memcpy(cbs, "-", 2);
	}
	f = xu_sasl_offer_features(mechs, cbs, true);
	fuzz_check(f != NULL); /* every offer xu_sasl_offer takes can be rebuilt */
	err = xu_sasl2_inline_add(f, big);
	fuzz_check(err == XU_OK || err == XU_ERR_NOMEM);
	if (!err) {
		fuzz_check(xu_sasl2_inline(f, again, sizeof(again)) && strcmp(again, big) == 0);
		fuzz_check(xu_sasl_offer(f, m2, sizeof(m2), c2, sizeof(c2)));
		fuzz_check(strcmp(m2, mechs) == 0 && strcmp(c2, cbs) == 0);
	}
	xu_stanza_free(f);
}

/* A success's parts are its own; sent back out in a request (as if the server's strings were
 * ours) they serialise and parse back to the same tree. */
static void fuzz_outcome(const struct xu_stanza *st)
{
	const struct xu_stanza *tok = xu_stanza_child(st, "token", XU_NS_FAST);
	struct xu_stanza *a, **back = NULL;
	struct xu_sasl2_outcome o;
	struct xu_sasl2_request r;
	const char *why = NULL;
	char *xml = NULL;
	size_t len = 0, n = 0, i;
	enum xu_err err;

	xu_sasl2_outcome(st, &o);
	fuzz_check(o.bound == (xu_stanza_child(st, "bound", XU_NS_BIND2) != NULL));
	fuzz_check(o.bind_failed == xu_stanza_child(st, "failed", XU_NS_BIND2));
	fuzz_check(o.authzid == xu_stanza_child_text(st, "authorization-identifier", NULL));
	fuzz_check(tok ? o.token == xu_stanza_attr(tok, "token") &&
	                     o.expiry == xu_stanza_attr(tok, "expiry")
	               : !o.token && !o.expiry);
	a = xu_stanza_new("authenticate", XU_NS_SASL2);
	if (!a)
		return;
	r.agent = o.authzid;
	r.bind_tag = o.token;
	r.token_mech = o.expiry;
	r.fast = o.bound;
	err = xu_sasl2_request(a, &r);
	if (!err)
		err = xu_stanza_to_xml(a, &xml, &len);
	if (!err)
		err = xu_stanza_parse_list(xml, len, &back, &n, &why);
	fuzz_check(err == XU_OK || err == XU_ERR_NOMEM);
	fuzz_check(err || (n == 1 && tu_stanza_equal(a, back[0])));
	for (i = 0; i < n; i++)
		xu_stanza_free(back[i]);
	free(back);
	free(xml);
	xu_stanza_free(a);
}

/* The server's proof of an HT-SHA-256-NONE login (XEP-0484 §3.2): accepted exactly when
 * <additional-data/> decodes to HMAC-SHA-256(token, "Responder"), computed here. */
static void fuzz_ht_success(const struct xu_stanza *st)
{
	static struct xu_sasl *s;
	static unsigned char want[32];
	const struct xu_stanza *ad = xu_stanza_child(st, "additional-data", NULL);
	gnutls_datum_t in, raw = {NULL, 0};
	bool proof = false;
	char errbuf[200];
	enum xu_err err;

	if (!s) {
		struct xu_stanza *f =
		    tu_parse("<features xmlns='http://etherx.jabber.org/streams'/>");
		struct xu_stanza *auth = NULL;
		struct xu_sasl_params p;

		memset(&p, 0, sizeof(p));
		p.authcid = "juliet";
		p.password = "";
		p.sasl2 = true;
		p.token = (const unsigned char *)fuzz_token;
		p.token_len = strlen(fuzz_token);
		p.token_mech = "HT-SHA-256-NONE";
		fuzz_check(xu_sasl_start(&p, f, &s, &auth, errbuf, sizeof(errbuf)) == XU_OK);
		fuzz_check(gnutls_hmac_fast(GNUTLS_MAC_SHA256, fuzz_token, strlen(fuzz_token),
		                            "Responder", 9, want) == 0);
		xu_stanza_free(auth);
		xu_stanza_free(f);
	}
	if (ad && *xu_stanza_text(ad)) {
		in.data = (unsigned char *)xu_stanza_text(ad);
		in.size = (unsigned)strlen(xu_stanza_text(ad));
		if (gnutls_base64_decode2(&in, &raw) == 0) {
			proof = raw.size == 32 && memcmp(raw.data, want, 32) == 0;
			gnutls_free(raw.data);
		}
	}
	errbuf[0] = '\0';
	err = xu_sasl_success(s, st, errbuf, sizeof(errbuf));
	fuzz_check(err == XU_OK || err == XU_ERR_AUTH || err == XU_ERR_PROTO ||
	           err == XU_ERR_NOMEM);
	fuzz_check(err == XU_ERR_NOMEM || (err == XU_OK) == proof);
	fuzz_check(err == XU_OK || errbuf[0]);
}

/* Choosing from hostile SASL2 (or SASL) features: a mechanism offered there, or a refusal. */
static void fuzz_start(const struct xu_stanza *st)
{
	struct xu_sasl2_offer o;
	struct xu_sasl_params p;
	struct xu_sasl *s = NULL;
	struct xu_stanza *auth = NULL, *list, *m;
	char errbuf[200];
	enum xu_err err;
	bool found = false;

	memset(&p, 0, sizeof(p));
	p.authcid = "juliet";
	p.password = "r0m30myr0m30";
	p.tls = true;
	p.sasl2 = xu_sasl2_offer(st, &o);
	err = xu_sasl_start(&p, st, &s, &auth, errbuf, sizeof(errbuf));
	fuzz_check(err == XU_OK || err == XU_ERR_AUTH || err == XU_ERR_NOMEM);
	fuzz_check(!err == (s != NULL) && !err == (auth != NULL));
	if (!err) {
		list = p.sasl2 ? xu_stanza_child(st, "authentication", XU_NS_SASL2)
		               : xu_stanza_child(st, "mechanisms", XU_NS_SASL);
		for (m = list ? xu_stanza_first(list) : NULL; m; m = xu_stanza_next(m))
			found = found || (strcmp(xu_stanza_name(m), "mechanism") == 0 &&
			                  strcmp(xu_stanza_text(m), xu_sasl_mechanism(s)) == 0);
		fuzz_check(found &&
		           strcmp(xu_stanza_name(auth), p.sasl2 ? "authenticate" : "auth") == 0);
	}
	xu_stanza_free(auth);
	xu_sasl_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xu_stanza **list = NULL;
	const char *why = NULL;
	size_t n = 0, i;

	if (xu_stanza_parse_list((const char *)data, size, &list, &n, &why) != XU_OK)
		return 0;
	for (i = 0; i < n; i++) {
		fuzz_offer(list[i]);
		fuzz_inline(list[i]);
		fuzz_outcome(list[i]);
		fuzz_ht_success(list[i]);
		fuzz_start(list[i]);
		xu_stanza_free(list[i]);
	}
	free(list);
	return 0;
}
