/* test_sasl.c: channel binding type choice for SCRAM -PLUS (RFC 5929, RFC 9266, XEP-0440); the
 * cached SASL offer; XEP-0484 HT-SHA-256-* token logins over SASL2 (XEP-0388). */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conn-int.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *ts_none[] = {NULL};
static const char *ts_all[] = {"tls-server-end-point", "tls-exporter", "tls-unique"};
static const char *ts_unique[] = {"tls-unique"};
static const char *ts_exporter[] = {"tls-exporter"};
static const char *ts_other[] = {"x-foo"};

static const struct {
	const char *what;
	bool is13, forced;
	const char *const *cbs;
	size_t ncb;
	const char *want; /* NULL: no usable type */
} ts_cases[] = {
    /* No XEP-0440 list: the version's standard type, but on 1.3 only when forced (ejabberd
     * 23.01 offers -PLUS on 1.3 and binds to tls-unique, which 1.3 does not define). */
    {"1.2, no list", false, false, ts_none, 0, "tls-unique"},
    {"1.2, no list, forced", false, true, ts_none, 0, "tls-unique"},
    {"1.3, no list", true, false, ts_none, 0, NULL},
    {"1.3, no list, forced", true, true, ts_none, 0, "tls-exporter"},
    /* A list: only what it names. */
    {"1.3, all", true, false, ts_all, 3, "tls-exporter"},
    {"1.2, all", false, false, ts_all, 3, "tls-server-end-point"},
    {"1.3, only tls-unique", true, false, ts_unique, 1, NULL},
    {"1.3, only tls-unique, forced", true, true, ts_unique, 1, NULL},
    {"1.2, only tls-unique", false, false, ts_unique, 1, "tls-unique"},
    {"1.2, only tls-exporter", false, false, ts_exporter, 1, NULL},
    {"1.3, only tls-exporter", true, false, ts_exporter, 1, "tls-exporter"},
    {"1.3, unknown type", true, true, ts_other, 1, NULL},
};

static void test_pick_cb(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ts_cases) / sizeof(ts_cases[0]); i++) {
		const char *got = xu_sasl_pick_cb(ts_cases[i].is13, ts_cases[i].forced,
		                                  ts_cases[i].cbs, ts_cases[i].ncb);

		if (!ts_cases[i].want ? got != NULL : !got || strcmp(got, ts_cases[i].want) != 0)
			fail_msg("%s: got %s, want %s", ts_cases[i].what, got ? got : "(none)",
			         ts_cases[i].want ? ts_cases[i].want : "(none)");
	}
}

/* The SASL offer as the cache keeps it: canonical strings, and features rebuilt from them that
 * give the same strings (so an early <auth/> is chosen from exactly what the server offered). */
static void test_offer(void **state)
{
	static const struct {
		const char *xml, *mechs, *cbs;
	} ok[] = {
	    {"<features xmlns='http://etherx.jabber.org/streams'><mechanisms "
	     "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism>"
	     "<mechanism>PLAIN</mechanism></mechanisms></features>",
	     "SCRAM-SHA-1,PLAIN", "-"},
	    {"<features xmlns='http://etherx.jabber.org/streams'><mechanisms "
	     "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256-PLUS</mechanism>"
	     "</mechanisms><sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding "
	     "type='tls-exporter'/><channel-binding type='tls-server-end-point'/>"
	     "</sasl-channel-binding></features>",
	     "SCRAM-SHA-256-PLUS", "tls-exporter,tls-server-end-point"},
	    {"<features xmlns='http://etherx.jabber.org/streams'><mechanisms "
	     "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>X</mechanism></mechanisms>"
	     "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'/></features>",
	     "X", ""},
	};
	static const char *const bad[] = {
	    "<features xmlns='http://etherx.jabber.org/streams'/>",
	    "<features xmlns='http://etherx.jabber.org/streams'><mechanisms "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></features>",
	    "<features xmlns='http://etherx.jabber.org/streams'><mechanisms "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>A,B</mechanism></mechanisms>"
	    "</features>",
	    "<features xmlns='http://etherx.jabber.org/streams'><mechanisms "
	    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>A B</mechanism></mechanisms>"
	    "</features>",
	};
	char mechs[256], cbs[128], m2[256], c2[128], tiny[4];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct xu_stanza *f = tu_parse(ok[i].xml), *g;

		assert_non_null(f);
		assert_true(xu_sasl_offer(f, mechs, sizeof(mechs), cbs, sizeof(cbs)));
		assert_string_equal(mechs, ok[i].mechs);
		assert_string_equal(cbs, ok[i].cbs);
		g = xu_sasl_offer_features(mechs, cbs, false);
		assert_non_null(g);
		assert_true(xu_sasl_offer(g, m2, sizeof(m2), c2, sizeof(c2)));
		assert_string_equal(m2, mechs);
		assert_string_equal(c2, cbs);
		assert_false(xu_sasl_offer(f, tiny, sizeof(tiny), cbs, sizeof(cbs)) &&
		             strlen(mechs) >= 4);
		xu_stanza_free(f);
		xu_stanza_free(g);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xu_stanza *f = tu_parse(bad[i]);

		assert_non_null(f);
		if (xu_sasl_offer(f, mechs, sizeof(mechs), cbs, sizeof(cbs)))
			fail_msg("accepted offer %zu: %s", i, mechs);
		xu_stanza_free(f);
	}
}

/* XEP-0484 §3.2: which HT-* we know, with the channel binding each needs. */
static void test_ht_names(void **state)
{
	static const struct {
		const char *mech, *cb; /* cb "": not ours */
	} cases[] = {
	    {"HT-SHA-256-NONE", NULL},
	    {"HT-SHA-256-UNIQ", "tls-unique"},
	    {"HT-SHA-256-ENDP", "tls-server-end-point"},
	    {"HT-SHA-256-EXPR", "tls-exporter"},
	    {"HT-SHA-256-none", ""},
	    {"ht-sha-256-expr", ""},
	    {"HT-SHA-512-NONE", ""},
	    {"HT-SHA3-256-NONE", ""},
	    {"HT-SHA-256-NONE ", ""},
	    {"HT-SHA-256-EXPR-PLUS", ""},
	    {"HT-SHA-256", ""},
	    {"SCRAM-SHA-256", ""},
	    {"", ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *cb = "untouched";
		bool known = xu_sasl_ht(cases[i].mech, &cb);

		if (known != (!cases[i].cb || cases[i].cb[0]))
			fail_msg("'%s': %s", cases[i].mech, known ? "known" : "unknown");
		if (known && (!cases[i].cb ? cb != NULL : !cb || strcmp(cb, cases[i].cb) != 0))
			fail_msg("'%s': channel binding %s", cases[i].mech, cb ? cb : "(none)");
	}
}

#define HT_FEATURES                                                                                \
	"<features xmlns='http://etherx.jabber.org/streams'><authentication "                      \
	"xmlns='urn:xmpp:sasl:2'><mechanism>SCRAM-SHA-256</mechanism><inline><fast "               \
	"xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism><mechanism>HT-SHA-256-EXPR" \
	"</mechanism></fast></inline></authentication></features>"

/* A token as a server hands it out (XEP-0484 §3.4 example): the HMAC key is its bytes. */
static const char ht_token[] = "WXZzciBwYmFmdmZnZiBqdmd1IGp2eXFhcmZmIG9uZXhhcmZmIGhmLg";

/* HMAC-SHA-256(token, label), computed here without lib/. */
static void ht_hmac(const char *label, unsigned char out[32])
{
	assert_int_equal(gnutls_hmac_fast(GNUTLS_MAC_SHA256, ht_token, strlen(ht_token), label,
	                                  strlen(label), out),
	                 0);
}

/* An XEP-0388 <authenticate mechanism=mech/>: its initial response, decoded into raw. */
static void sasl2_initial(const struct xu_stanza *auth, const char *mech, gnutls_datum_t *raw)
{
	const struct xu_stanza *ir = xu_stanza_child(auth, "initial-response", XU_NS_SASL2);
	gnutls_datum_t b64;

	assert_string_equal(xu_stanza_name(auth), "authenticate");
	assert_string_equal(xu_stanza_ns(auth), XU_NS_SASL2);
	assert_string_equal(xu_stanza_attr(auth, "mechanism"), mech);
	assert_non_null(ir);
	b64.data = (unsigned char *)xu_stanza_text(ir);
	b64.size = (unsigned)strlen(xu_stanza_text(ir));
	assert_int_equal(gnutls_base64_decode2(&b64, raw), 0);
}

static void ht_params(struct xu_sasl_params *p, const char *authcid, const char *mech)
{
	memset(p, 0, sizeof(*p));
	p->authcid = authcid;
	p->password = "not this";
	p->tls = true;
	p->sasl2 = true;
	p->token = (const unsigned char *)ht_token;
	p->token_len = strlen(ht_token);
	p->token_mech = mech;
}

/* base64 of len bytes, malloc'ed. */
static char *ht_b64(const unsigned char *data, size_t len)
{
	gnutls_datum_t in = {(unsigned char *)data, (unsigned)len}, out = {NULL, 0};
	char *s;

	assert_int_equal(gnutls_base64_encode2(&in, &out), 0);
	s = malloc(out.size + 1);
	assert_non_null(s);
	memcpy(s, out.data, out.size);
	s[out.size] = '\0';
	gnutls_free(out.data);
	return s;
}

/* The <authenticate/> for authcid: its initial response must be authcid NUL
 * HMAC(token, "Initiator"). Returns the SASL state for the outcome. */
static struct xu_sasl *ht_start(const char *authcid, const struct xu_stanza *features)
{
	struct xu_sasl_params p;
	struct xu_sasl *s = NULL;
	struct xu_stanza *auth = NULL;
	unsigned char want[32];
	gnutls_datum_t raw = {NULL, 0};
	size_t alen = strlen(authcid);
	char errbuf[200] = "";

	ht_params(&p, authcid, "HT-SHA-256-NONE");
	if (xu_sasl_start(&p, features, &s, &auth, errbuf, sizeof(errbuf)) != XU_OK)
		fail_msg("xu_sasl_start: %s", errbuf);
	assert_string_equal(xu_sasl_mechanism(s), "HT-SHA-256-NONE");
	sasl2_initial(auth, "HT-SHA-256-NONE", &raw);
	ht_hmac("Initiator", want);
	assert_int_equal(raw.size, alen + 1 + 32);
	assert_memory_equal(raw.data, authcid, alen);
	assert_int_equal(raw.data[alen], 0);
	assert_memory_equal(raw.data + alen + 1, want, 32);
	gnutls_free(raw.data);
	xu_stanza_free(auth);
	return s;
}

/* XEP-0484 §3.2 with HT-SHA-256-NONE: our proof, then the server's (§3.4): only
 * HMAC(token, "Responder") in <additional-data/> is accepted. */
static void test_ht_none(void **state)
{
	struct xu_stanza *f = tu_parse(HT_FEATURES), *ch, *reply = NULL;
	unsigned char resp[32], init[32];
	char *good, *flipped, *init64, *shortb64, xml[600], errbuf[200];
	struct xu_sasl *s;
	size_t i;

	(void)state;
	s = ht_start("juliet", f);
	ht_hmac("Responder", resp);
	ht_hmac("Initiator", init);
	good = ht_b64(resp, sizeof(resp));
	resp[17] ^= 0x01;
	flipped = ht_b64(resp, sizeof(resp));
	resp[17] ^= 0x01;
	init64 = ht_b64(init, sizeof(init)); /* our own proof reflected */
	shortb64 = ht_b64(resp, 31);
	{
		const struct {
			const char *data; /* NULL: no <additional-data/> */
			enum xu_err want;
		} cases[] = {
		    {good, XU_OK},           {flipped, XU_ERR_AUTH},
		    {NULL, XU_ERR_AUTH},     {"", XU_ERR_AUTH},
		    {"=", XU_ERR_AUTH},      {init64, XU_ERR_AUTH},
		    {shortb64, XU_ERR_AUTH}, {"!!not base64!!", XU_ERR_PROTO},
		};

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct xu_stanza *ok;
			enum xu_err err;

			if (cases[i].data)
				snprintf(
				    xml, sizeof(xml),
				    "<success xmlns='urn:xmpp:sasl:2'><additional-data>%s"
				    "</additional-data><authorization-identifier>juliet@example.org"
				    "</authorization-identifier></success>",
				    cases[i].data);
			else
				snprintf(
				    xml, sizeof(xml),
				    "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>"
				    "juliet@example.org</authorization-identifier></success>");
			ok = tu_parse(xml);
			errbuf[0] = '\0';
			err = xu_sasl_success(s, ok, errbuf, sizeof(errbuf));
			if (err != cases[i].want)
				fail_msg("case %zu ('%s'): %d, want %d (%s)", i,
				         cases[i].data ? cases[i].data : "none", err, cases[i].want,
				         errbuf);
			if (err)
				assert_true(errbuf[0] != '\0');
			xu_stanza_free(ok);
		}
	}
	/* The proof is the text of <additional-data/>, not of <success/> (that is SASL1's). */
	snprintf(xml, sizeof(xml), "<success xmlns='urn:xmpp:sasl:2'>%s</success>", good);
	ch = tu_parse(xml);
	assert_int_equal(xu_sasl_success(s, ch, errbuf, sizeof(errbuf)), XU_ERR_AUTH);
	xu_stanza_free(ch);
	/* One step: a challenge after it is a protocol error, not a second proof. */
	ch = tu_parse("<challenge xmlns='urn:xmpp:sasl:2'>cj1meWtvK2QybGJiRmdPTlJ2OXFreGRhd0w="
	              "</challenge>");
	assert_int_equal(xu_sasl_challenge(s, ch, &reply, errbuf, sizeof(errbuf)), XU_ERR_PROTO);
	assert_null(reply);
	xu_stanza_free(ch);
	xu_sasl_free(s);
	free(good);
	free(flipped);
	free(init64);
	free(shortb64);
	xu_stanza_free(f);
	/* A long authcid is framed whole (test_ht_refused: or refused, never cut); with a token
	 * the mechanism is the token's, whatever the features list. */
	{
		char name[400];

		memset(name, 'a', sizeof(name) - 1);
		name[sizeof(name) - 1] = '\0';
		f = tu_parse("<features xmlns='http://etherx.jabber.org/streams'/>");
		s = ht_start(name, f);
		xu_sasl_free(s);
		xu_stanza_free(f);
	}
}

/* Without a TLS session there is nothing to bind to: the channel-bound HT-* (and names we do
 * not know, and an authcid too long to frame) are refused with XU_ERR_AUTH, nothing built. */
static void test_ht_refused(void **state)
{
	static const char *const mechs[] = {"HT-SHA-256-EXPR", "HT-SHA-256-UNIQ", "HT-SHA-256-ENDP",
	                                    "HT-SHA-512-NONE", "SCRAM-SHA-256"};
	struct xu_stanza *f = tu_parse(HT_FEATURES);
	struct xu_sasl_params p;
	char errbuf[200], longname[1024];
	size_t i;

	(void)state;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	for (i = 0; i <= sizeof(mechs) / sizeof(mechs[0]); i++) {
		struct xu_sasl *s = NULL;
		struct xu_stanza *auth = NULL;
		enum xu_err err;

		if (i < sizeof(mechs) / sizeof(mechs[0]))
			ht_params(&p, "juliet", mechs[i]);
		else
			ht_params(&p, longname, "HT-SHA-256-NONE");
		errbuf[0] = '\0';
		err = xu_sasl_start(&p, f, &s, &auth, errbuf, sizeof(errbuf));
		if (err != XU_ERR_AUTH)
			fail_msg("%s: %d, want XU_ERR_AUTH", p.token_mech, err);
		assert_null(s);
		assert_null(auth);
		assert_non_null(strstr(errbuf, p.token_mech));
	}
	xu_stanza_free(f);
}

/* Without a token the same SASL2 features give SCRAM from <authentication/>, framed as
 * <authenticate><initial-response/>; a <success/> before our proof is refused. */
static void test_sasl2_scram_start(void **state)
{
	struct xu_stanza *f = tu_parse(HT_FEATURES), *auth = NULL, *ok;
	struct xu_sasl_params p;
	struct xu_sasl *s = NULL;
	gnutls_datum_t raw = {NULL, 0};
	char errbuf[200] = "";

	(void)state;
	memset(&p, 0, sizeof(p));
	p.authcid = "juliet";
	p.password = "r0m30myr0m30";
	p.sasl2 = true;
	assert_int_equal(xu_sasl_start(&p, f, &s, &auth, errbuf, sizeof(errbuf)), XU_OK);
	assert_string_equal(xu_sasl_mechanism(s), "SCRAM-SHA-256");
	sasl2_initial(auth, "SCRAM-SHA-256", &raw);
	assert_true(raw.size > 14 && memcmp(raw.data, "n,,n=juliet,r=", 14) == 0);
	gnutls_free(raw.data);
	ok = tu_parse("<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>"
	              "juliet@example.org</authorization-identifier></success>");
	assert_int_equal(xu_sasl_success(s, ok, errbuf, sizeof(errbuf)), XU_ERR_AUTH);
	assert_non_null(strstr(errbuf, "before authentication"));
	xu_stanza_free(ok);
	xu_stanza_free(auth);
	xu_sasl_free(s);
	xu_stanza_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pick_cb),    cmocka_unit_test(test_offer),
	    cmocka_unit_test(test_ht_names),   cmocka_unit_test(test_ht_none),
	    cmocka_unit_test(test_ht_refused), cmocka_unit_test(test_sasl2_scram_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
