/* test_mam.c: the account archive: XEP-0313 query pages with XEP-0059 RSM, results (who may send
 * them, the delay they carry), the <fin/> of a page, and XEP-0359 stanza ids. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ME "juliet@capulet.lit"
#define NS " xmlns='urn:xmpp:mam:2'"
#define FWD_NS " xmlns='urn:xmpp:forward:0'"
#define DELAY "<delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>"
/* Inside <forwarded/> the message names its namespace again (XEP-0297 §3). */
#define INNER                                                                                      \
	"<message xmlns='jabber:client' from='romeo@montague.lit/orchard' "                        \
	"to='juliet@capulet.lit' "                                                                 \
	"type='chat'><body>Hi</body></message>"

static struct xu_jid *tm_me(void)
{
	struct xu_jid *j = NULL;
	const char *why;

	assert_int_equal(xu_jid_parse(ME "/balcony", &j, &why), XU_OK);
	return j;
}

/* ---------------------------------------------------------------- queries */

static void test_query(void **state)
{
	static const struct {
		struct xu_mam_page page;
		const char *xml;
	} cases[] = {
	    {{NULL, "q1", "id-9", NULL, false, 100},
	     "<iq type='set'><query xmlns='urn:xmpp:mam:2' queryid='q1'><set "
	     "xmlns='http://jabber.org/protocol/rsm'><max>100</max><after>id-9</after></set></"
	     "query>"
	     "</iq>"},
	    {{NULL, "q2", NULL, "2026-11-25T10:00:00Z", false, 0},
	     "<iq type='set'><query xmlns='urn:xmpp:mam:2' queryid='q2'><x xmlns='jabber:x:data' "
	     "type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field>"
	     "<field var='start'><value>2026-11-25T10:00:00Z</value></field></x><set "
	     "xmlns='http://jabber.org/protocol/rsm'><max>50</max></set></query></iq>"},
	    {{"room@muc.example", "q3", NULL, NULL, true, 1},
	     "<iq type='set' to='room@muc.example'><query xmlns='urn:xmpp:mam:2' queryid='q3'><set "
	     "xmlns='http://jabber.org/protocol/rsm'><max>1</max><before/></set></query></iq>"},
	    /* An archive id is opaque: whatever it holds is escaped, never markup. */
	    {{NULL, "q'4", "a<b>&'\"", NULL, false, 7},
	     "<iq type='set'><query xmlns='urn:xmpp:mam:2' queryid='q&apos;4'><set "
	     "xmlns='http://jabber.org/protocol/rsm'><max>7</max><after>a&lt;b&gt;&amp;'\"</after>"
	     "</set></query></iq>"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_stanza *iq = NULL;
		char *xml = NULL;
		size_t len;

		assert_int_equal(xu_mam_query(&cases[i].page, &iq), XU_OK);
		assert_int_equal(xu_stanza_to_xml(iq, &xml, &len), XU_OK);
		if (strcmp(xml, cases[i].xml) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, xml, cases[i].xml);
		free(xml);
		xu_stanza_free(iq);
	}
}

/* ---------------------------------------------------------------- results */

static void test_result(void **state)
{
	static const struct {
		const char *name;
		const char *xml;
		const char *id; /* NULL: not a result of ours */
		bool delayed;   /* the item carries the archive's delay */
	} cases[] = {
	    {"no from: our own archive",
	     "<message><result" NS " queryid='q' id='a1'><forwarded" FWD_NS ">" DELAY INNER
	     "</forwarded></result></message>",
	     "a1", true},
	    {"from our bare JID",
	     "<message from='" ME "'><result" NS " queryid='q' id='a2'><forwarded" FWD_NS
	     ">" DELAY INNER "</forwarded></result></message>",
	     "a2", true},
	    {"from our bare JID, other case (prepared comparison)",
	     "<message from='JULIET@capulet.lit'><result" NS
	     " queryid='q' id='a3'><forwarded" FWD_NS ">" INNER "</forwarded></result></message>",
	     "a3", false},
	    {"from a full JID of ours: not the archive",
	     "<message from='" ME "/balcony'><result" NS " queryid='q' id='x'><forwarded" FWD_NS
	     ">" INNER "</forwarded></result></message>",
	     NULL, false},
	    {"from a stranger: forged history",
	     "<message from='mallory@evil.example'><result" NS
	     " queryid='q' id='x'><forwarded" FWD_NS ">" DELAY INNER
	     "</forwarded></result></message>",
	     NULL, false},
	    {"from the server domain: not our archive",
	     "<message from='capulet.lit'><result" NS " queryid='q' id='x'><forwarded" FWD_NS
	     ">" INNER "</forwarded></result></message>",
	     NULL, false},
	    {"from an invalid JID",
	     "<message from='@@'><result" NS " queryid='q' id='x'><forwarded" FWD_NS ">" INNER
	     "</forwarded></result></message>",
	     NULL, false},
	    {"another query",
	     "<message><result" NS " queryid='other' id='x'><forwarded" FWD_NS ">" INNER
	     "</forwarded></result></message>",
	     NULL, false},
	    {"no id",
	     "<message><result" NS " queryid='q'><forwarded" FWD_NS ">" INNER
	     "</forwarded></result></message>",
	     NULL, false},
	    {"old namespace",
	     "<message><result xmlns='urn:xmpp:mam:1' queryid='q' id='x'><forwarded" FWD_NS
	     ">" INNER "</forwarded></result></message>",
	     NULL, false},
	    {"no forwarded message",
	     "<message><result" NS " queryid='q' id='x'><forwarded" FWD_NS ">" DELAY
	     "</forwarded></result></message>",
	     NULL, false},
	    {"forwarded message in the forward namespace",
	     "<message><result" NS " queryid='q' id='x'>"
	     "<forwarded" FWD_NS
	     "><message><body>Hi</body></message></forwarded></result></message>",
	     NULL, false},
	    {"a plain message", INNER, NULL, false},
	};
	struct xu_jid *me = tm_me();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_stanza *msg = tu_parse(cases[i].xml), *item = NULL;
		const char *id = NULL;

		assert_int_equal(xu_mam_result(msg, "q", me, &item, &id), XU_OK);
		if (!cases[i].id) {
			if (item || id)
				fail_msg("%s: taken as a result", cases[i].name);
			xu_stanza_free(msg);
			continue;
		}
		if (!item || !id || strcmp(id, cases[i].id) != 0)
			fail_msg("%s: id %s", cases[i].name, id ? id : "(none)");
		assert_string_equal(xu_stanza_name(item), "message");
		assert_string_equal(xu_stanza_attr(item, "from"), "romeo@montague.lit/orchard");
		assert_string_equal(xu_stanza_child_text(item, "body", NULL), "Hi");
		if (cases[i].delayed) {
			struct xu_record rec;

			assert_int_equal(xu_record_from_stanza(item, 0, &rec), XU_OK);
			assert_true(rec.delayed);
			assert_string_equal(rec.timestamp, "2010-07-10T23:08:25Z");
			xu_record_clear(&rec);
		} else {
			assert_null(xu_stanza_child(item, "delay", XU_NS_DELAY));
		}
		xu_stanza_free(item);
		xu_stanza_free(msg);
	}
	xu_jid_free(me);
}

/* The message's own delay (it was delayed before it was archived) wins; no second one. */
static void test_result_keeps_own_delay(void **state)
{
	struct xu_jid *me = tm_me();
	struct xu_stanza *msg, *item = NULL, *c;
	const char *id = NULL;
	int delays = 0;

	(void)state;
	msg =
	    tu_parse("<message><result" NS " queryid='q' id='a'><forwarded" FWD_NS ">" DELAY
	             "<message xmlns='jabber:client' from='romeo@montague.lit' type='chat'><body>x"
	             "</body><delay "
	             "xmlns='urn:xmpp:delay' stamp='2001-01-01T00:00:00Z'/></message></forwarded>"
	             "</result></message>");
	assert_int_equal(xu_mam_result(msg, "q", me, &item, &id), XU_OK);
	assert_non_null(item);
	for (c = xu_stanza_first(item); c; c = xu_stanza_next(c))
		delays += strcmp(xu_stanza_name(c), "delay") == 0;
	assert_int_equal(delays, 1);
	assert_string_equal(xu_stanza_attr(xu_stanza_child(item, "delay", XU_NS_DELAY), "stamp"),
	                    "2001-01-01T00:00:00Z");
	xu_stanza_free(item);
	xu_stanza_free(msg);
	xu_jid_free(me);
}

/* ---------------------------------------------------------------- the end of a page */

static void test_fin(void **state)
{
	static const struct {
		const char *xml;
		enum xu_err err;
		bool complete;
		const char *last; /* or the condition for errors */
	} cases[] = {
	    {"<iq type='result'><fin" NS " complete='true'><set "
	     "xmlns='http://jabber.org/protocol/rsm'><first>a</first><last>z</last></set></fin></"
	     "iq>",
	     XU_OK, true, "z"},
	    {"<iq type='result'><fin" NS " complete='1'/></iq>", XU_OK, true, NULL},
	    {"<iq type='result'><fin" NS
	     "><set xmlns='http://jabber.org/protocol/rsm'><last>k</last>"
	     "</set></fin></iq>",
	     XU_OK, false, "k"},
	    {"<iq type='result'><fin" NS " complete='false'><set "
	     "xmlns='http://jabber.org/protocol/rsm'><last/></set></fin></iq>",
	     XU_OK, false, NULL},
	    {"<iq type='result'><fin" NS " complete='yes'/></iq>", XU_OK, false, NULL},
	    /* RSM in another namespace is no RSM. */
	    {"<iq type='result'><fin" NS
	     "><set xmlns='urn:example'><last>k</last></set></fin></iq>",
	     XU_OK, false, NULL},
	    {"<iq type='error'><error type='cancel'><item-not-found "
	     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text "
	     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>gone</text></error></iq>",
	     XU_ERR_REFUSED, false, "item-not-found"},
	    {"<iq type='error'/>", XU_ERR_REFUSED, false, "undefined-condition"},
	    {"<iq type='result'/>", XU_ERR_PROTO, false, NULL},
	    {"<iq type='result'><fin xmlns='urn:xmpp:mam:1' complete='true'/></iq>", XU_ERR_PROTO,
	     false, NULL},
	    {"<iq><fin" NS " complete='true'/></iq>", XU_ERR_PROTO, false, NULL},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_stanza *r = tu_parse(cases[i].xml);
		const char *last = (const char *)1;
		bool complete = true;
		char why[128] = "";
		enum xu_err err = xu_mam_fin(r, &complete, &last, why, sizeof(why));

		if (err != cases[i].err)
			fail_msg("case %zu: error %d, want %d", i, (int)err, (int)cases[i].err);
		assert_int_equal(complete, cases[i].complete);
		if (err == XU_ERR_REFUSED) {
			assert_string_equal(why, cases[i].last);
		} else if (err == XU_OK) {
			if (cases[i].last)
				assert_string_equal(last, cases[i].last);
			else
				assert_null(last);
		} else {
			assert_true(why[0] != '\0');
		}
		xu_stanza_free(r);
	}
}

/* ---------------------------------------------------------------- stanza ids */

static void test_stanza_id(void **state)
{
	static const struct {
		const char *xml;
		const char *id;
	} cases[] = {
	    {"<message><stanza-id xmlns='urn:xmpp:sid:0' by='" ME "' id='s1'/></message>", "s1"},
	    {"<message><stanza-id xmlns='urn:xmpp:sid:0' by='room@muc.capulet.lit' id='r'/>"
	     "<stanza-id xmlns='urn:xmpp:sid:0' by='" ME "' id='s2'/></message>",
	     "s2"},
	    /* by a full JID: no archive assigns that, so it is no id of ours */
	    {"<message><stanza-id xmlns='urn:xmpp:sid:0' by='" ME "/balcony' id='x'/></message>",
	     NULL},
	    {"<message><stanza-id xmlns='urn:xmpp:sid:1' by='" ME "' id='x'/></message>", NULL},
	    {"<message><stanza-id xmlns='urn:xmpp:sid:0' by='" ME "' id=''/></message>", NULL},
	    {"<message><stanza-id xmlns='urn:xmpp:sid:0' id='x'/></message>", NULL},
	    {"<message><stanza-id xmlns='urn:xmpp:sid:0' by='@bad' id='x'/></message>", NULL},
	    {"<message><origin-id xmlns='urn:xmpp:sid:0' id='x'/></message>", NULL},
	    {"<message/>", NULL},
	};
	struct xu_jid *me = tm_me();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_stanza *m = tu_parse(cases[i].xml);
		const char *id = xu_stanza_id_by(m, me);

		if (cases[i].id)
			assert_string_equal(id, cases[i].id);
		else if (id)
			fail_msg("case %zu: id %s", i, id);
		xu_stanza_free(m);
	}
	xu_jid_free(me);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_query),
	    cmocka_unit_test(test_result),
	    cmocka_unit_test(test_result_keeps_own_delay),
	    cmocka_unit_test(test_fin),
	    cmocka_unit_test(test_stanza_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
