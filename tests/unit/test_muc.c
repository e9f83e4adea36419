/* test_muc.c: chat-room stanzas (XEP-0045): the join presence, status codes, what error
 * conditions mean in a room. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_join_presence(void **state)
{
	static const struct {
		const char *password;
		int history;
		const char *since;
		const char *want;
	} cases[] = {
	    {NULL, 0, NULL,
	     "<presence to='ops@conference.example.org/bot'><x "
	     "xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>"},
	    {"s<&>'", -1, NULL,
	     "<presence to='ops@conference.example.org/bot'><x "
	     "xmlns='http://jabber.org/protocol/muc'><password>s&lt;&amp;&gt;'</password></x>"
	     "</presence>"},
	    {NULL, 25, NULL,
	     "<presence to='ops@conference.example.org/bot'><x "
	     "xmlns='http://jabber.org/protocol/muc'><history maxstanzas='25'/></x></presence>"},
	    {NULL, -1, "2026-11-25T10:00:00Z",
	     "<presence to='ops@conference.example.org/bot'><x "
	     "xmlns='http://jabber.org/protocol/muc'><history since='2026-11-25T10:00:00Z'/></x>"
	     "</presence>"},
	};
	struct xu_jid *occ = NULL;
	const char *why;
	size_t i;

	(void)state;
	assert_int_equal(xu_jid_parse("ops@conference.example.org/bot", &occ, &why), XU_OK);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_stanza *p = NULL;
		char *xml = NULL;
		size_t len;

		assert_int_equal(
		    xu_muc_join_new(occ, cases[i].password, cases[i].history, cases[i].since, &p),
		    XU_OK);
		assert_int_equal(xu_stanza_to_xml(p, &xml, &len), XU_OK);
		if (strcmp(xml, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, xml, cases[i].want);
		free(xml);
		xu_stanza_free(p);
	}
	{
		struct xu_stanza *p = NULL;

		/* A password XML cannot carry is refused, not sent half-way. */
		assert_int_equal(xu_muc_join_new(occ, "bell\a", 0, NULL, &p), XU_ERR_DATA);
		assert_null(p);
	}
	xu_jid_free(occ);
}

static void test_status(void **state)
{
	struct xu_stanza *p =
	    tu_parse("<presence from='ops@conference.example.org/bot'><x "
	             "xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' "
	             "role='moderator'/>"
	             "<status code='110'/><status code='201'/></x><x xmlns='urn:example'><status "
	             "code='303'/></x></presence>");

	(void)state;
	assert_true(xu_muc_has_status(p, "110"));
	assert_true(xu_muc_has_status(p, "201"));
	assert_false(xu_muc_has_status(p, "303")); /* not in muc#user */
	assert_false(xu_muc_has_status(p, "11"));
	xu_stanza_free(p);
}

static void test_hints(void **state)
{
	(void)state;
	assert_string_equal(xu_muc_error_hint("registration-required"), "members only");
	assert_string_equal(xu_muc_error_hint("conflict"), "nickname in use");
	assert_string_equal(xu_muc_error_hint("not-authorized"), "password required or wrong");
	assert_null(xu_muc_error_hint("undefined-condition"));
	assert_null(xu_muc_error_hint(""));
}

/* ---------------------------------------------------------------- forms and discovery */

static void test_form(void **state)
{
	struct xu_stanza *x = tu_parse(
	    "<x xmlns='jabber:x:data' type='form'><field var='FORM_TYPE' type='hidden'><value>"
	    "http://jabber.org/protocol/muc#roomconfig</value></field><field "
	    "var='muc#roomconfig_roomname' type='text-single' label='Name'><value>Ops</value>"
	    "</field><field var='muc#roomconfig_roomadmins' type='jid-multi'><value>a@b</value>"
	    "<value>c@d</value></field><field type='fixed'><value>note</value></field><title>t"
	    "</title></x>");
	static const char *const vars[] = {"muc#roomconfig_roomname", "x"};
	static const char *const vals[] = {"New <&>", "1"};
	struct xu_form *f = NULL;
	const struct xu_form_field *fl;
	struct xu_stanza *sub = NULL;
	char *xml = NULL;
	size_t len;

	(void)state;
	assert_int_equal(xu_form_parse(x, &f), XU_OK);
	assert_int_equal(f->n, 4);
	fl = xu_form_get(f, "muc#roomconfig_roomname");
	assert_non_null(fl);
	assert_string_equal(fl->label, "Name");
	assert_int_equal(fl->nvalues, 1);
	assert_string_equal(fl->values[0], "Ops");
	assert_int_equal(xu_form_get(f, "muc#roomconfig_roomadmins")->nvalues, 2);
	assert_null(xu_form_get(f, "missing"));
	assert_null(f->fields[3].var);
	xu_form_free(f);
	xu_stanza_free(x);
	x = tu_parse("<x xmlns='urn:example'/>");
	assert_int_equal(xu_form_parse(x, &f), XU_ERR_DATA);
	assert_int_equal(xu_form_parse(NULL, &f), XU_ERR_DATA);
	xu_stanza_free(x);

	assert_int_equal(xu_form_submit_new("urn:t", vars, vals, 2, &sub), XU_OK);
	assert_int_equal(xu_stanza_to_xml(sub, &xml, &len), XU_OK);
	assert_string_equal(xml, "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'>"
	                         "<value>urn:t</value></field><field var='muc#roomconfig_roomname'>"
	                         "<value>New &lt;&amp;&gt;</value></field><field var='x'><value>1"
	                         "</value></field></x>");
	free(xml);
	xu_stanza_free(sub);
	{
		static const char *const bad[] = {"\x01"};

		assert_int_equal(xu_form_submit_new(NULL, vars, bad, 1, &sub), XU_ERR_DATA);
		assert_null(sub);
	}
}

static void test_disco(void **state)
{
	struct xu_stanza *r = tu_parse(
	    "<iq type='result'><query xmlns='http://jabber.org/protocol/disco#info'><identity "
	    "category='conference' type='text' name='Ops'/><identity category='x'/><feature "
	    "var='muc_persistent'/><feature/><feature var='http://jabber.org/protocol/muc'/><x "
	    "xmlns='jabber:x:data' type='result'><field var='muc#roominfo_occupants'><value>3"
	    "</value></field></x></query></iq>");
	struct xu_disco_info *d = NULL;
	struct xu_disco_item *items = NULL;
	const char *last = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(xu_disco_info_parse(r, &d), XU_OK);
	assert_int_equal(d->nids, 2);
	assert_string_equal(d->ids[0].name, "Ops");
	assert_string_equal(d->ids[1].name, "");
	assert_int_equal(d->nfeatures, 2);
	assert_true(xu_disco_has_feature(d, "muc_persistent"));
	assert_false(xu_disco_has_feature(d, "muc_open"));
	assert_string_equal(xu_form_get(d->form, "muc#roominfo_occupants")->values[0], "3");
	xu_disco_info_free(d);
	xu_stanza_free(r);

	r = tu_parse("<iq type='result'><query xmlns='http://jabber.org/protocol/disco#items'>"
	             "<item jid='a@muc' name='A'/><item name='no jid'/><item jid='b@muc'/><set "
	             "xmlns='http://jabber.org/protocol/rsm'><last>b@muc</last><count>9</count>"
	             "</set></query></iq>");
	assert_int_equal(xu_disco_items_parse(r, &items, &n, &last), XU_OK);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].name, "A");
	assert_string_equal(items[1].jid, "b@muc");
	assert_string_equal(items[1].name, "");
	assert_string_equal(last, "b@muc");
	xu_disco_items_free(items, n);
	xu_stanza_free(r);

	r = tu_parse("<iq type='result'/>");
	assert_int_equal(xu_disco_info_parse(r, &d), XU_ERR_PROTO);
	assert_int_equal(xu_disco_items_parse(r, &items, &n, &last), XU_ERR_PROTO);
	xu_stanza_free(r);
}

/* ---------------------------------------------------------------- administration requests */

static void test_admin(void **state)
{
	struct xu_jid *room = NULL;
	struct xu_stanza *st = NULL;
	const char *why;
	char *xml = NULL;
	size_t len;

	(void)state;
	assert_int_equal(xu_jid_parse("ops@muc.example", &room, &why), XU_OK);
	assert_int_equal(xu_muc_admin_iq(room, "bob", NULL, "none", NULL, "bye", &st), XU_OK);
	assert_int_equal(xu_stanza_to_xml(st, &xml, &len), XU_OK);
	assert_string_equal(xml, "<iq type='set' to='ops@muc.example'><query "
	                         "xmlns='http://jabber.org/protocol/muc#admin'><item nick='bob' "
	                         "role='none'><reason>bye</reason></item></query></iq>");
	free(xml);
	xu_stanza_free(st);
	assert_int_equal(xu_muc_admin_iq(room, NULL, "b@x", NULL, "outcast", "\x02", &st),
	                 XU_ERR_DATA);
	assert_null(st);
	assert_int_equal(xu_muc_destroy_iq(room, NULL, &st), XU_OK);
	assert_int_equal(xu_stanza_to_xml(st, &xml, &len), XU_OK);
	assert_string_equal(xml, "<iq type='set' to='ops@muc.example'><query "
	                         "xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query>"
	                         "</iq>");
	free(xml);
	xu_stanza_free(st);
	assert_int_equal(xu_muc_invite_new(room, "c@x", "hi", true, &st), XU_OK);
	assert_int_equal(xu_stanza_to_xml(st, &xml, &len), XU_OK);
	assert_string_equal(xml, "<message to='c@x'><x xmlns='jabber:x:conference' "
	                         "jid='ops@muc.example' reason='hi'/></message>");
	free(xml);
	xu_stanza_free(st);
	assert_int_equal(xu_muc_invite_new(room, "c@x", NULL, false, &st), XU_OK);
	assert_int_equal(xu_stanza_to_xml(st, &xml, &len), XU_OK);
	assert_string_equal(xml, "<message to='ops@muc.example'><x "
	                         "xmlns='http://jabber.org/protocol/muc#user'><invite to='c@x'/>"
	                         "</x></message>");
	free(xml);
	xu_stanza_free(st);
	xu_jid_free(room);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_join_presence), cmocka_unit_test(test_status),
	    cmocka_unit_test(test_hints),         cmocka_unit_test(test_form),
	    cmocka_unit_test(test_disco),         cmocka_unit_test(test_admin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
