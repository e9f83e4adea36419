/* test_presence.c: contacts' presence: reading one presence (RFC 6121 §4.7, XEP-0115 caps node),
 * the latest presence of each resource (RFC 6121 §4.4.2, §4.5.3), XEP-0012 last activity, and
 * the records of xmpp-presence in text, JSON and XML. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define CAPS_C(node)                                                                               \
	"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='" node "' ver='x'/>"

static struct xu_jid *tp_jid(const char *s)
{
	struct xu_jid *j = NULL;
	const char *why;

	if (xu_jid_parse(s, &j, &why) != XU_OK)
		fail_msg("bad JID %s", s);
	return j;
}

static void tp_str_eq(size_t i, const char *what, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
		fail_msg("case %zu: %s is %s, want %s", i, what, got ? got : "NULL",
		         want ? want : "NULL");
}

/* ---------------------------------------------------------------- one presence */

static void test_info(void **state)
{
	static const struct {
		const char *xml;
		enum xu_err err;
		bool available;
		const char *show, *status, *node;
		int priority;
	} cases[] = {
	    {"<presence "
	     "from='a@b/c'><show>dnd</show><status>busy</status><priority>5</priority>" CAPS_C(
	         "https://n.example") "</presence>",
	     XU_OK, true, "dnd", "busy", "https://n.example", 5},
	    {"<presence from='a@b/c'/>", XU_OK, true, NULL, NULL, NULL, 0},
	    {"<presence from='a@b' type='unavailable'><status>bye</status></presence>", XU_OK,
	     false, NULL, "bye", NULL, 0},
	    /* RFC 6121 §4.7.2.3: out of range or not a number counts as absent. */
	    {"<presence from='a@b/c'><priority>300</priority></presence>", XU_OK, true, NULL, NULL,
	     NULL, 0},
	    {"<presence from='a@b/c'><priority> -7 </priority></presence>", XU_OK, true, NULL, NULL,
	     NULL, -7},
	    /* A caps element without a node, or another namespace's <c/>, names none. */
	    {"<presence from='a@b/c'><c xmlns='http://jabber.org/protocol/caps' "
	     "node=''/></presence>",
	     XU_OK, true, NULL, NULL, NULL, 0},
	    {"<presence from='a@b/c'><c xmlns='urn:other' node='x'/></presence>", XU_OK, true, NULL,
	     NULL, NULL, 0},
	    {"<presence from='a@b' type='subscribe'/>", XU_ERR_DATA, false, NULL, NULL, NULL, 0},
	    {"<presence from='a@b' type='error'/>", XU_ERR_DATA, false, NULL, NULL, NULL, 0},
	    {"<message from='a@b'/>", XU_ERR_DATA, false, NULL, NULL, NULL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_stanza *st = tu_parse(cases[i].xml);
		struct xu_presence_info info;
		enum xu_err err = xu_presence_info_from(st, &info);

		if (err != cases[i].err)
			fail_msg("case %zu: error %d, want %d", i, err, cases[i].err);
		if (!err) {
			assert_true(info.available == cases[i].available);
			tp_str_eq(i, "show", info.show, cases[i].show);
			tp_str_eq(i, "status", info.status, cases[i].status);
			tp_str_eq(i, "node", info.caps_node, cases[i].node);
			assert_int_equal(info.priority, cases[i].priority);
			assert_int_equal(info.last_seen, -1);
			assert_ptr_equal(info.stanza, st);
		}
		xu_stanza_free(st);
	}
}

/* ---------------------------------------------------------------- the presences heard */

static void test_presences(void **state)
{
	static const struct {
		const char *name;
		const char *seq[5]; /* presences in arrival order */
		const char *ask;
		const char *want;   /* available full JIDs, space-separated, in order */
		const char *status; /* of the unavailable record when none is available */
	} cases[] = {
	    {"two resources",
	     {"<presence from='bob@x/a'/>", "<presence from='bob@x/b'/>"},
	     "bob@x",
	     "bob@x/a bob@x/b",
	     NULL},
	    {"a full JID asks for that resource only",
	     {"<presence from='bob@x/a'/>", "<presence from='bob@x/b'/>"},
	     "bob@x/b",
	     "bob@x/b",
	     NULL},
	    {"JIDs compare prepared", {"<presence from='Bob@X/a'/>"}, "bob@x", "bob@x/a", NULL},
	    {"a resource leaves",
	     {"<presence from='bob@x/a'/>", "<presence from='bob@x/b'/>",
	      "<presence from='bob@x/a' type='unavailable'><status>bye</status></presence>"},
	     "bob@x",
	     "bob@x/b",
	     NULL},
	    {"unavailable from the bare JID ends every resource",
	     {"<presence from='bob@x/a'/>", "<presence from='bob@x/b'/>",
	      "<presence from='bob@x' type='unavailable'><status>gone</status></presence>"},
	     "bob@x",
	     "",
	     "gone"},
	    {"the latest presence of a resource counts",
	     {"<presence from='bob@x/a'><show>away</show></presence>",
	      "<presence from='bob@x/a' type='unavailable'/>", "<presence from='bob@x/a'/>"},
	     "bob@x",
	     "bob@x/a",
	     NULL},
	    {"other contacts, types and bad JIDs change nothing",
	     {"<presence from='carol@x/a'/>", "<presence from='bob@x/a' type='subscribe'/>",
	      "<presence from='bob@@x/a'/>", "<presence/>",
	      "<presence from='bob@x/a' type='probe'/>"},
	     "bob@x",
	     "",
	     NULL},
	    {"never heard of", {NULL}, "bob@x", "", NULL},
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_presences *ps = NULL;
		struct xu_presence_info infos[5], gone;
		struct xu_jid *ask = tp_jid(cases[i].ask);
		char got[512] = "";
		size_t n;

		assert_int_equal(xu_presences_new(&ps), XU_OK);
		for (k = 0; k < 5 && cases[i].seq[k]; k++) {
			struct xu_stanza *st = tu_parse(cases[i].seq[k]);

			assert_int_equal(xu_presences_add(ps, st), XU_OK);
			xu_stanza_free(st); /* kept as a copy */
		}
		n = xu_presences_available(ps, ask, infos, 5);
		for (k = 0; k < n && k < 5; k++) {
			assert_true(infos[k].available);
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "",
			         infos[k].jid);
		}
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: available '%s', want '%s'", cases[i].name, got,
			         cases[i].want);
		if (n == 0) {
			xu_presences_unavailable(ps, ask, &gone);
			assert_false(gone.available);
			assert_string_equal(gone.jid, cases[i].ask);
			assert_int_equal(gone.last_seen, -1);
			tp_str_eq(i, "status", gone.status, cases[i].status);
		}
		xu_jid_free(ask);
		xu_presences_free(ps);
	}
	xu_presences_free(NULL);
}

/* ---------------------------------------------------------------- last activity */

static void test_last_query(void **state)
{
	struct xu_jid *to = tp_jid("bob@x/phone");
	struct xu_stanza *iq = NULL;
	char *xml = NULL;
	size_t len;

	(void)state;
	assert_int_equal(xu_last_query(to, &iq), XU_OK);
	assert_int_equal(xu_stanza_to_xml(iq, &xml, &len), XU_OK);
	/* XEP-0012 §4: to the bare JID, so that the server answers for the contact. */
	assert_string_equal(xml, "<iq type='get' to='bob@x'><query xmlns='jabber:iq:last'/></iq>");
	free(xml);
	xu_stanza_free(iq);
	xu_jid_free(to);
}

static void test_last_parse(void **state)
{
	static const struct {
		const char *xml;
		enum xu_err err;
		uint64_t seconds;
		const char *status;
		const char *why;
	} cases[] = {
	    /* XEP-0012 example 4 */
	    {"<iq type='result' from='juliet@capulet.com'><query xmlns='jabber:iq:last' "
	     "seconds='903'>Heading Home</query></iq>",
	     XU_OK, 903, "Heading Home", NULL},
	    {"<iq type='result'><query xmlns='jabber:iq:last' seconds='0'/></iq>", XU_OK, 0, NULL,
	     NULL},
	    {"<iq type='result'><query xmlns='jabber:iq:last' seconds='-5'/></iq>", XU_ERR_PROTO, 0,
	     NULL, NULL},
	    {"<iq type='result'><query xmlns='jabber:iq:last' seconds='12a'/></iq>", XU_ERR_PROTO,
	     0, NULL, NULL},
	    {"<iq type='result'><query xmlns='jabber:iq:last' seconds=''/></iq>", XU_ERR_PROTO, 0,
	     NULL, NULL},
	    {"<iq type='result'><query xmlns='jabber:iq:last' "
	     "seconds='99999999999999999999999'/></iq>",
	     XU_ERR_PROTO, 0, NULL, NULL},
	    {"<iq type='result'><query xmlns='jabber:iq:last'/></iq>", XU_ERR_PROTO, 0, NULL, NULL},
	    {"<iq type='result'><query xmlns='jabber:iq:version' seconds='1'/></iq>", XU_ERR_PROTO,
	     0, NULL, NULL},
	    {"<iq type='result'/>", XU_ERR_PROTO, 0, NULL, NULL},
	    {"<iq type='error'><error type='auth'><subscription-required "
	     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
	     XU_ERR_REFUSED, 0, NULL, "subscription-required"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_stanza *st = tu_parse(cases[i].xml);
		const char *status = NULL;
		uint64_t seconds = 1;
		char why[64] = "";
		enum xu_err err = xu_last_parse(st, &seconds, &status, why, sizeof(why));

		if (err != cases[i].err)
			fail_msg("case %zu: error %d, want %d", i, err, cases[i].err);
		if (!err)
			assert_true(seconds == cases[i].seconds);
		else
			assert_true(why[0] != '\0');
		tp_str_eq(i, "status", status, cases[i].status);
		if (cases[i].why)
			assert_string_equal(why, cases[i].why);
		xu_stanza_free(st);
	}
}

/* ---------------------------------------------------------------- records */

static void test_format(void **state)
{
	static const struct {
		const char *xml; /* NULL: a contact never heard from */
		const char *jid;
		int64_t last_seen;
		const char *status; /* from last activity, when the presence has none */
		enum xu_rec_format fmt;
		const char *want;
	} cases[] = {
	    {"<presence "
	     "from='bob@x/a'><show>dnd</show><status>busy</status><priority>5</priority>" CAPS_C(
	         "https://n.example") "</presence>",
	     NULL, -1, NULL, XU_REC_TEXT, "bob@x/a available dnd 5 https://n.example: busy\n"},
	    {"<presence from='bob@x/a'/>", NULL, -1, NULL, XU_REC_TEXT,
	     "bob@x/a available - 0 -\n"},
	    {"<presence from='bob@x/a'><status>a&#10;b\xe2\x80\xae</status></presence>", NULL, -1,
	     NULL, XU_REC_TEXT, "bob@x/a available - 0 -: a\\nb\\u{202E}\n"},
	    {"<presence from='bob@x/a'><show>dnd</show><status>a&#10;\"b</status><priority>-3</"
	     "priority>" CAPS_C("n") "</presence>",
	     NULL, -1, NULL, XU_REC_JSON,
	     "{\"jid\":\"bob@x/a\",\"available\":true,\"show\":\"dnd\",\"status\":\"a\\n\\\"b\","
	     "\"priority\":-3,\"node\":\"n\",\"last_seen\":null}\n"},
	    {NULL, "carol@x", 1764000000, "Heading Home", XU_REC_TEXT,
	     "carol@x unavailable 2025-11-24T16:00:00Z: Heading Home\n"},
	    {NULL, "carol@x", -1, NULL, XU_REC_TEXT, "carol@x unavailable -\n"},
	    {NULL, "carol@x", 0, NULL, XU_REC_JSON,
	     "{\"jid\":\"carol@x\",\"available\":false,\"show\":null,\"status\":null,"
	     "\"priority\":null,\"node\":null,\"last_seen\":\"1970-01-01T00:00:00Z\"}\n"},
	    {"<presence from='bob@x/a'><status>a&#10;b</status></presence>", NULL, -1, NULL,
	     XU_REC_XML, "<presence from='bob@x/a'><status>a&#10;b</status></presence>\n"},
	    {NULL, "carol@x", 1764000000, "gone", XU_REC_XML,
	     "<presence from='carol@x' type='unavailable'><status>gone</status><delay "
	     "xmlns='urn:xmpp:delay' stamp='2025-11-24T16:00:00Z'/></presence>\n"},
	    {"<presence from='carol@x' type='unavailable'/>", "carol@x", -1, NULL, XU_REC_XML,
	     "<presence from='carol@x' type='unavailable'/>\n"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_stanza *st = cases[i].xml ? tu_parse(cases[i].xml) : NULL;
		struct xu_presence_info info;
		char *out = NULL;
		size_t len = 0;

		memset(&info, 0, sizeof(info));
		if (st)
			assert_int_equal(xu_presence_info_from(st, &info), XU_OK);
		if (cases[i].jid) {
			info.jid = cases[i].jid;
			info.available = false;
		}
		info.last_seen = cases[i].last_seen;
		if (!info.status)
			info.status = cases[i].status;
		assert_int_equal(xu_presence_format(&info, cases[i].fmt, &out, &len), XU_OK);
		assert_int_equal(len, strlen(out));
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s want %s", i, out, cases[i].want);
		free(out);
		xu_stanza_free(st);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_info),       cmocka_unit_test(test_presences),
	    cmocka_unit_test(test_last_query), cmocka_unit_test(test_last_parse),
	    cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
