/* test_sasl2.c: what SASL2 carries besides SASL (lib/sasl2.c): the inline offer (XEP-0388 §2.1,
 * Bind2 XEP-0386 §3.1, FAST XEP-0484 §3.1), its cached form, our <authenticate/> additions and
 * what a <success/> says. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conn-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S2_FEATURES "<features xmlns='http://etherx.jabber.org/streams'>"
#define S2_AUTH "<authentication xmlns='urn:xmpp:sasl:2'>"
#define S2_SCRAM "<mechanism>SCRAM-SHA-1</mechanism><mechanism>SCRAM-SHA-256</mechanism>"
#define S2_END "</authentication></features>"
#define S2_BIND "<bind xmlns='urn:xmpp:bind:0'/>"
#define S2_FAST "<fast xmlns='urn:xmpp:fast:0'>"

/* Prosody 0.12 with mod_sasl2, mod_sasl2_bind2 and mod_sasl2_fast, whitespace included. */
#define S2_PROSODY                                                                                 \
	S2_FEATURES                                                                                \
	"\n  <mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"                                \
	"<mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>SCRAM-SHA-1</mechanism>"                \
	"</mechanisms>\n  " S2_AUTH "\n    <mechanism>SCRAM-SHA-1-PLUS</mechanism>\n"              \
	"    <mechanism>SCRAM-SHA-1</mechanism>\n    <inline>\n      <bind "                       \
	"xmlns='urn:xmpp:bind:0'><inline><feature var='urn:xmpp:carbons:2'/><feature "             \
	"var='urn:xmpp:csi:0'/><feature var='urn:xmpp:sm:3'/></inline></bind>\n      " S2_FAST     \
	"<mechanism>HT-SHA-256-EXPR</mechanism><mechanism>HT-SHA-256-UNIQ"                         \
	"</mechanism><mechanism>HT-SHA-256-ENDP</mechanism><mechanism>HT-SHA-256-NONE"             \
	"</mechanism></fast>\n      <sm xmlns='urn:xmpp:sm:3'/>\n    </inline>\n  "                \
	"</authentication>\n  <sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'>"                   \
	"<channel-binding type='tls-exporter'/><channel-binding "                                  \
	"type='tls-server-end-point'/></sasl-channel-binding>\n</features>"

static const struct {
	const char *what, *xml;
	bool sasl2, bind2;
	const char *fast;    /* o.fast joined with ',' */
	const char *inline_; /* xu_sasl2_inline: "" no SASL2, "-" nothing inline */
} s2_offers[] = {
    {"Prosody: bind2 and all four HT", S2_PROSODY, true, true,
     "HT-SHA-256-EXPR,HT-SHA-256-UNIQ,HT-SHA-256-ENDP,HT-SHA-256-NONE",
     "bind2,HT-SHA-256-EXPR,HT-SHA-256-UNIQ,HT-SHA-256-ENDP,HT-SHA-256-NONE"},
    {"SASL2, no inline", S2_FEATURES S2_AUTH S2_SCRAM S2_END, true, false, "", "-"},
    {"SASL2, empty inline", S2_FEATURES S2_AUTH S2_SCRAM "<inline/>" S2_END, true, false, "", "-"},
    {"bind2 only", S2_FEATURES S2_AUTH S2_SCRAM "<inline>" S2_BIND "</inline>" S2_END, true, true,
     "", "bind2"},
    {"fast only, empty", S2_FEATURES S2_AUTH S2_SCRAM "<inline>" S2_FAST "</fast></inline>" S2_END,
     true, false, "", "-"},
    /* Names we cannot compute are as if not offered: case, spaces, other hashes, SCRAM. */
    {"unknown HT names",
     S2_FEATURES S2_AUTH S2_SCRAM
     "<inline>" S2_FAST "<mechanism>HT-SHA-512-NONE</mechanism>"
     "<mechanism>HT-SHA-256-none</mechanism><mechanism> HT-SHA-256-UNIQ</mechanism>"
     "<mechanism>HT-SHA-256-ENDP </mechanism><mechanism>SCRAM-SHA-1</mechanism>"
     "<mechanism>HT-SHA-256-EXPR-PLUS</mechanism><mechanism/>"
     "<mechanism>HT-SHA-256-NONE</mechanism><other>HT-SHA-256-EXPR</other>"
     "</fast></inline>" S2_END,
     true, false, "HT-SHA-256-NONE", "HT-SHA-256-NONE"},
    /* At most XU_SASL2_MAX_FAST, the first ones, unknown ones not counted. */
    {"more than XU_SASL2_MAX_FAST",
     S2_FEATURES S2_AUTH S2_SCRAM
     "<inline>" S2_BIND S2_FAST "<mechanism>HT-SHA-256-EXPR</mechanism><mechanism>X-1</mechanism>"
     "<mechanism>HT-SHA-256-NONE</mechanism><mechanism>X-2</mechanism>"
     "<mechanism>HT-SHA-256-ENDP</mechanism><mechanism>HT-SHA-256-UNIQ</mechanism>"
     "<mechanism>HT-SHA-256-EXPR</mechanism><mechanism>X-3</mechanism>"
     "<mechanism>HT-SHA-256-NONE</mechanism><mechanism>HT-SHA-256-ENDP</mechanism>"
     "<mechanism>HT-SHA-256-UNIQ</mechanism><mechanism>HT-SHA-256-EXPR</mechanism>"
     "<mechanism>HT-SHA-256-NONE</mechanism></fast></inline>" S2_END,
     true, true,
     "HT-SHA-256-EXPR,HT-SHA-256-NONE,HT-SHA-256-ENDP,HT-SHA-256-UNIQ,HT-SHA-256-EXPR,"
     "HT-SHA-256-NONE,HT-SHA-256-ENDP,HT-SHA-256-UNIQ",
     "bind2,HT-SHA-256-EXPR,HT-SHA-256-NONE,HT-SHA-256-ENDP,HT-SHA-256-UNIQ,HT-SHA-256-EXPR,"
     "HT-SHA-256-NONE,HT-SHA-256-ENDP,HT-SHA-256-UNIQ"},
    /* Bind2 and FAST by their namespaces (old drafts' urn:xmpp:bind2:0 is not ours). */
    {"wrong inline namespaces",
     S2_FEATURES S2_AUTH S2_SCRAM
     "<inline><bind xmlns='urn:xmpp:bind2:0'/><fast "
     "xmlns='urn:xmpp:fast:1'><mechanism>HT-SHA-256-NONE</mechanism></fast></inline>" S2_END,
     true, false, "", "-"},
    /* Inline features belong inside <authentication/>. */
    {"inline outside authentication",
     S2_FEATURES "<inline>" S2_BIND S2_FAST "<mechanism>HT-SHA-256-NONE</mechanism></fast>"
                 "</inline>" S2_AUTH S2_SCRAM S2_END,
     true, false, "", "-"},
    {"no SASL2",
     S2_FEATURES "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                 "<mechanism>SCRAM-SHA-1</mechanism></mechanisms></features>",
     false, false, "", ""},
    {"SASL2 in another namespace",
     S2_FEATURES "<authentication xmlns='urn:xmpp:sasl:1'>" S2_SCRAM "<inline>" S2_BIND
                 "</inline>" S2_END,
     false, false, "", ""},
};

static void s2_join(const struct xu_sasl2_offer *o, char *out, size_t len)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < o->nfast; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", o->fast[i]);
	assert_true(used < len);
}

static void test_offer(void **state)
{
	static const char *const all[] = {"HT-SHA-256-NONE", "HT-SHA-256-UNIQ", "HT-SHA-256-ENDP",
	                                  "HT-SHA-256-EXPR"};
	struct xu_sasl2_offer o;
	char got[512];
	size_t i, k;

	(void)state;
	/* One struct for all cases: nothing may stay behind from the one before. */
	memset(&o, 0xA5, sizeof(o));
	for (i = 0; i < sizeof(s2_offers) / sizeof(s2_offers[0]); i++) {
		struct xu_stanza *f = tu_parse(s2_offers[i].xml);

		if (xu_sasl2_offer(f, &o) != s2_offers[i].sasl2)
			fail_msg("%s: SASL2 %s", s2_offers[i].what,
			         s2_offers[i].sasl2 ? "not seen" : "seen");
		assert_true(o.nfast <= XU_SASL2_MAX_FAST);
		s2_join(&o, got, sizeof(got));
		if (o.bind2 != s2_offers[i].bind2 || strcmp(got, s2_offers[i].fast) != 0)
			fail_msg("%s: bind2 %d, fast '%s'", s2_offers[i].what, o.bind2, got);
		for (k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			if (xu_sasl2_offers_fast(&o, all[k]) !=
			    (strstr(s2_offers[i].fast, all[k]) != NULL))
				fail_msg("%s: offers_fast(%s) wrong", s2_offers[i].what, all[k]);
		assert_false(xu_sasl2_offers_fast(&o, "HT-SHA-512-NONE"));
		assert_false(xu_sasl2_offers_fast(&o, ""));
		xu_stanza_free(f);
	}
}

/* The cached string, and that a buffer one byte short is refused without being overrun. */
static void test_inline(void **state)
{
	char buf[600];
	size_t i, len, want, big;

	(void)state;
	for (i = 0; i < sizeof(s2_offers) / sizeof(s2_offers[0]); i++) {
		struct xu_stanza *f = tu_parse(s2_offers[i].xml);

		assert_true(xu_sasl2_inline(f, buf, 512));
		if (strcmp(buf, s2_offers[i].inline_) != 0)
			fail_msg("%s: '%s', want '%s'", s2_offers[i].what, buf,
			         s2_offers[i].inline_);
		want = strlen(s2_offers[i].inline_);
		for (len = 0; len < want + 8; len++) {
			bool fits = len > want && len >= 2;

			memset(buf, 'Z', sizeof(buf));
			if (xu_sasl2_inline(f, buf, len) != fits)
				fail_msg("%s: len %zu: %s", s2_offers[i].what, len,
				         fits ? "refused" : "accepted");
			assert_true(buf[len] == 'Z');
			if (len >= 2)
				assert_true(memchr(buf, '\0', len) != NULL);
			if (fits)
				assert_string_equal(buf, s2_offers[i].inline_);
		}
		xu_stanza_free(f);
	}
	/* The biggest offer there can be (bind2 and XU_SASL2_MAX_FAST names) overflows the cache's
	 * 128 bytes: refused, not cut. */
	for (i = 0, big = 0; i < sizeof(s2_offers) / sizeof(s2_offers[0]); i++) {
		struct xu_stanza *f = tu_parse(s2_offers[i].xml);

		big += strlen(s2_offers[i].inline_) >= 128;
		assert_true(xu_sasl2_inline(f, buf, 128) == (strlen(s2_offers[i].inline_) < 128));
		xu_stanza_free(f);
	}
	assert_true(big > 0);
}

/* Features rebuilt from the cache (xu_sasl_offer_features + xu_sasl2_inline_add) say what the
 * server's said: the same SASL offer, the same inline string, the same xu_sasl2_offer. */
static void test_inline_round_trip(void **state)
{
	char mechs[256], cbs[128], inl[512], m2[256], c2[128], i2[512], f1[512], f2[512];
	struct xu_sasl2_offer o1, o2;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(s2_offers) / sizeof(s2_offers[0]); i++) {
		struct xu_stanza *f = tu_parse(s2_offers[i].xml), *g;

		if (!s2_offers[i].sasl2) {
			xu_stanza_free(f);
			continue;
		}
		assert_true(xu_sasl_offer(f, mechs, sizeof(mechs), cbs, sizeof(cbs)));
		assert_true(xu_sasl2_inline(f, inl, sizeof(inl)));
		assert_true(xu_sasl2_offer(f, &o1));
		g = xu_sasl_offer_features(mechs, cbs, true);
		assert_non_null(g);
		assert_int_equal(xu_sasl2_inline_add(g, inl), XU_OK);
		assert_true(xu_sasl_offer(g, m2, sizeof(m2), c2, sizeof(c2)));
		assert_true(xu_sasl2_inline(g, i2, sizeof(i2)));
		if (strcmp(m2, mechs) != 0 || strcmp(c2, cbs) != 0 || strcmp(i2, inl) != 0)
			fail_msg("%s: '%s' '%s' '%s' came back as '%s' '%s' '%s'",
			         s2_offers[i].what, mechs, cbs, inl, m2, c2, i2);
		assert_true(xu_sasl2_offer(g, &o2));
		s2_join(&o1, f1, sizeof(f1));
		s2_join(&o2, f2, sizeof(f2));
		assert_int_equal(o1.bind2, o2.bind2);
		assert_string_equal(f1, f2);
		xu_stanza_free(f);
		xu_stanza_free(g);
	}
}

/* xu_sasl2_inline_add takes what the cache file says, which may be damaged: unknown items,
 * empty items and overlong ones are dropped; what comes back is only what we can use. */
static void test_inline_add(void **state)
{
	static const struct {
		const char *list, *want;
	} cases[] = {
	    {"-", "-"},
	    {"bind2", "bind2"},
	    {"HT-SHA-256-NONE,bind2", "bind2,HT-SHA-256-NONE"},
	    {",,bind2,,", "bind2"},
	    {"bind2,x,HT-FOO,HT-SHA-256-UNIQ,bind3,HT-SHA-256-UNIQ", "bind2,HT-SHA-256-UNIQ,"
	                                                             "HT-SHA-256-UNIQ"},
	    {"HT-SHA-256-EXPRHT-SHA-256-EXPRHT-SHA-256-EXPRHT-SHA-256-EXPRHT-SHA-256-EXPR,"
	     "HT-SHA-256-ENDP",
	     "HT-SHA-256-ENDP"},
	    {"bind2bind2bind2bind2bind2bind2bind2bind2bind2bind2bind2bind2bind2bind2,bind2",
	     "bind2"},
	};
	char out[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_stanza *g = xu_sasl_offer_features("SCRAM-SHA-1", "-", true);

		assert_non_null(g);
		assert_int_equal(xu_sasl2_inline_add(g, cases[i].list), XU_OK);
		assert_true(xu_sasl2_inline(g, out, sizeof(out)));
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("'%s' came back as '%s', want '%s'", cases[i].list, out,
			         cases[i].want);
		xu_stanza_free(g);
	}
	/* Features without SASL2 have nowhere to put it. */
	{
		struct xu_stanza *g = xu_sasl_offer_features("SCRAM-SHA-1", "-", false);

		assert_non_null(g);
		assert_int_not_equal(xu_sasl2_inline_add(g, "bind2"), XU_OK);
		assert_true(xu_sasl2_inline(g, out, sizeof(out)));
		assert_string_equal(out, "");
		xu_stanza_free(g);
	}
}

/* XEP-0388 §2.2 user-agent, XEP-0386 §3.2 bind/tag, XEP-0484 §3.3 request-token and fast:
 * each present exactly when asked for, in that order, with what was asked. */
static void test_request(void **state)
{
	static const char agent[] = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
	static const char tag[] = "xmpp-send <&'\">";
	unsigned bits;

	(void)state;
	for (bits = 0; bits < 16; bits++) {
		struct xu_sasl2_request r = {bits & 1 ? agent : NULL, bits & 2 ? tag : NULL,
		                             bits & 4 ? "HT-SHA-256-EXPR" : NULL, (bits & 8) != 0};
		struct xu_stanza *a = xu_stanza_new("authenticate", XU_NS_SASL2), *back, *el;
		size_t len, n = 0;
		char *xml = NULL;

		assert_non_null(a);
		assert_int_equal(xu_stanza_set_attr(a, "mechanism", "SCRAM-SHA-256"), XU_OK);
		assert_int_equal(xu_sasl2_request(a, &r), XU_OK);
		assert_int_equal(xu_stanza_to_xml(a, &xml, &len), XU_OK);
		back = tu_parse(xml);
		el = xu_stanza_child(back, "user-agent", XU_NS_SASL2);
		assert_true(!el == !(bits & 1));
		if (el) {
			assert_string_equal(xu_stanza_attr(el, "id"), agent);
			assert_string_equal(xu_stanza_child_text(el, "software", XU_NS_SASL2),
			                    "xmpp-utils");
		}
		el = xu_stanza_child(back, "bind", XU_NS_BIND2);
		assert_true(!el == !(bits & 2));
		if (el)
			assert_string_equal(xu_stanza_child_text(el, "tag", XU_NS_BIND2), tag);
		el = xu_stanza_child(back, "request-token", XU_NS_FAST);
		assert_true(!el == !(bits & 4));
		if (el)
			assert_string_equal(xu_stanza_attr(el, "mechanism"), "HT-SHA-256-EXPR");
		el = xu_stanza_child(back, "fast", XU_NS_FAST);
		assert_true(!el == !(bits & 8));
		if (el)
			assert_null(xu_stanza_first(el));
		for (el = xu_stanza_first(back); el; el = xu_stanza_next(el))
			n++;
		assert_int_equal(n, ((bits & 1) != 0) + ((bits & 2) != 0) + ((bits & 4) != 0) +
		                        ((bits & 8) != 0));
		if (bits == 15)
			assert_string_equal(
			    xml,
			    "<authenticate xmlns='urn:xmpp:sasl:2' mechanism='SCRAM-SHA-256'>"
			    "<user-agent id='6ba7b810-9dad-41d1-80b4-00c04fd430c8'><software>"
			    "xmpp-utils</software></user-agent><bind xmlns='urn:xmpp:bind:0'><tag>"
			    "xmpp-send &lt;&amp;'\"&gt;</tag></bind><request-token "
			    "xmlns='urn:xmpp:fast:0' mechanism='HT-SHA-256-EXPR'/><fast "
			    "xmlns='urn:xmpp:fast:0'/></authenticate>");
		if (bits == 0)
			assert_string_equal(xml, "<authenticate xmlns='urn:xmpp:sasl:2' "
			                         "mechanism='SCRAM-SHA-256'/>");
		free(xml);
		xu_stanza_free(back);
		xu_stanza_free(a);
	}
}

/* XEP-0388 §2.6.1 success with XEP-0386 §3.3 <bound/> or <failed/> and XEP-0484 §3.4 <token/>. */
static void test_outcome(void **state)
{
	static const struct {
		const char *what, *xml;
		const char *authzid;
		bool bound, failed;
		const char *token, *expiry;
	} cases[] = {
	    {"Prosody: bound and a token",
	     "<success xmlns='urn:xmpp:sasl:2'><additional-data>dj1tc0pXSW1CRzJDbTgzWm1lRFJmeTBpOE"
	     "xvRTQ9</additional-data><authorization-identifier>juliet@example.org/balcony.f4c1"
	     "</authorization-identifier><bound xmlns='urn:xmpp:bind:0'><metadata "
	     "xmlns='urn:xmpp:mam:2'><start id='1' timestamp='2024-01-01T00:00:00Z'/></metadata>"
	     "</bound><token xmlns='urn:xmpp:fast:0' expiry='2026-01-06T11:45:33Z' "
	     "token='WXZzciBwYmFmdmZnZiBqdmd1IGp2eXFhcmZmIG9uZXhhcmZmIGhmLg'/></success>",
	     "juliet@example.org/balcony.f4c1", true, false,
	     "WXZzciBwYmFmdmZnZiBqdmd1IGp2eXFhcmZmIG9uZXhhcmZmIGhmLg", "2026-01-06T11:45:33Z"},
	    {"the JID only",
	     "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>juliet@example.org"
	     "</authorization-identifier></success>",
	     "juliet@example.org", false, false, NULL, NULL},
	    {"bind failed",
	     "<success xmlns='urn:xmpp:sasl:2'><authorization-identifier>juliet@example.org"
	     "</authorization-identifier><failed xmlns='urn:xmpp:bind:0'><conflict "
	     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed></success>",
	     "juliet@example.org", false, true, NULL, NULL},
	    {"token without expiry",
	     "<success xmlns='urn:xmpp:sasl:2'><token xmlns='urn:xmpp:fast:0' token='abc'/>"
	     "</success>",
	     NULL, false, false, "abc", NULL},
	    {"token element without token",
	     "<success xmlns='urn:xmpp:sasl:2'><token xmlns='urn:xmpp:fast:0' expiry='x'/>"
	     "</success>",
	     NULL, false, false, NULL, "x"},
	    {"other namespaces",
	     "<success xmlns='urn:xmpp:sasl:2'><bound xmlns='urn:xmpp:bind2:0'/><failed/>"
	     "<token xmlns='urn:xmpp:fast:1' token='abc' expiry='2026-01-06T11:45:33Z'/>"
	     "<token token='def'/></success>",
	     NULL, false, false, NULL, NULL},
	    {"empty", "<success xmlns='urn:xmpp:sasl:2'/>", NULL, false, false, NULL, NULL},
	    {"a failure",
	     "<failure xmlns='urn:xmpp:sasl:2'><not-authorized "
	     "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><text>bad</text></failure>",
	     NULL, false, false, NULL, NULL},
	};
	struct xu_sasl2_outcome o;
	size_t i;

	(void)state;
	memset(&o, 0xA5, sizeof(o));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static const char *const part[3] = {"authorization-identifier", "token", "expiry"};
		struct xu_stanza *st = tu_parse(cases[i].xml);
		const char *want[3], *got[3];
		size_t k;

		xu_sasl2_outcome(st, &o);
		want[0] = cases[i].authzid;
		want[1] = cases[i].token;
		want[2] = cases[i].expiry;
		got[0] = o.authzid;
		got[1] = o.token;
		got[2] = o.expiry;
		for (k = 0; k < 3; k++)
			if (!want[k] ? got[k] != NULL : !got[k] || strcmp(got[k], want[k]) != 0)
				fail_msg("%s: %s is '%s', want '%s'", cases[i].what, part[k],
				         got[k] ? got[k] : "(none)", want[k] ? want[k] : "(none)");
		if (o.bound != cases[i].bound || !o.bind_failed != !cases[i].failed)
			fail_msg("%s: bound %d, failed %d", cases[i].what, o.bound,
			         o.bind_failed != NULL);
		if (o.bind_failed) {
			assert_string_equal(xu_stanza_name(o.bind_failed), "failed");
			assert_string_equal(xu_error_condition(o.bind_failed, XU_NS_STANZAS),
			                    "conflict");
		}
		xu_stanza_free(st);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offer),
	    cmocka_unit_test(test_inline),
	    cmocka_unit_test(test_inline_round_trip),
	    cmocka_unit_test(test_inline_add),
	    cmocka_unit_test(test_request),
	    cmocka_unit_test(test_outcome),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
