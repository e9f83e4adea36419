/* test_sasl.c: channel binding type choice for SCRAM -PLUS (RFC 5929, RFC 9266, XEP-0440). */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conn-int.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pick_cb),
	    cmocka_unit_test(test_offer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
