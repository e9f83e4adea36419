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
		const char *want;
	} cases[] = {
	    {NULL, 0,
	     "<presence to='ops@conference.example.org/bot'><x "
	     "xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>"},
	    {"s<&>'", -1,
	     "<presence to='ops@conference.example.org/bot'><x "
	     "xmlns='http://jabber.org/protocol/muc'><password>s&lt;&amp;&gt;'</password></x>"
	     "</presence>"},
	    {NULL, 25,
	     "<presence to='ops@conference.example.org/bot'><x "
	     "xmlns='http://jabber.org/protocol/muc'><history maxstanzas='25'/></x></presence>"},
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

		assert_int_equal(xu_muc_join_new(occ, cases[i].password, cases[i].history, &p),
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
		assert_int_equal(xu_muc_join_new(occ, "bell\a", 0, &p), XU_ERR_DATA);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_join_presence),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_hints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
