/* test_roster.c: roster results and requests (RFC 6121 §2), subscription presences (§3), the
 * blocklist (XEP-0191), and the strict JSON reader the import uses (RFC 8259). */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static char *tr_xml(const struct xu_stanza *st)
{
	char *xml = NULL;
	size_t len;

	assert_int_equal(xu_stanza_to_xml(st, &xml, &len), XU_OK);
	return xml;
}

/* ---------------------------------------------------------------- parsing */

static void test_parse(void **state)
{
	struct xu_stanza *iq = tu_parse(
	    "<iq type='result'><query xmlns='jabber:iq:roster' ver='7'>"
	    "<item jid='Romeo@Example.NET' name='Romeo' subscription='both'><group>Friends</group>"
	    "<group>Amis</group><group>Friends</group><group></group></item>"
	    "<item jid='mercutio@example.com' subscription='from' ask='subscribe'/>"
	    "<item jid='benvolio@example.net' subscription='weird' approved='true'/>"
	    "<item jid='nurse@example.com/kitchen'/>" /* a full JID: the server's mistake */
	    "<item jid='@@'/>"                        /* not a JID */
	    "<item/>"
	    "<item jid='romeo@example.net' name='second'/>" /* listed twice: first wins */
	    "<other jid='x@example.com'/>"
	    "</query></iq>");
	struct xu_roster *r = NULL;
	const struct xu_roster_item *it;

	(void)state;
	assert_int_equal(xu_roster_parse(iq, &r), XU_OK);
	assert_int_equal(r->n, 3);
	assert_string_equal(r->items[0].jid, "benvolio@example.net");
	assert_string_equal(r->items[1].jid, "mercutio@example.com");
	assert_string_equal(r->items[2].jid, "romeo@example.net");
	it = xu_roster_find(r, "romeo@example.net");
	assert_non_null(it);
	assert_string_equal(it->name, "Romeo");
	assert_string_equal(it->subscription, "both");
	assert_false(it->ask);
	assert_int_equal(it->ngroups, 2);
	assert_string_equal(it->groups[0], "Amis"); /* sorted, each once, empty dropped */
	assert_string_equal(it->groups[1], "Friends");
	it = xu_roster_find(r, "mercutio@example.com");
	assert_true(it->ask);
	assert_null(it->name);
	assert_string_equal(it->subscription, "from");
	it = xu_roster_find(r, "benvolio@example.net");
	assert_string_equal(it->subscription, "none");
	assert_true(it->approved);
	assert_null(xu_roster_find(r, "nurse@example.com"));
	xu_roster_free(r);
	xu_stanza_free(iq);

	/* No query at all: an empty roster, not an error. */
	iq = tu_parse("<iq type='result'/>");
	assert_int_equal(xu_roster_parse(iq, &r), XU_OK);
	assert_int_equal(r->n, 0);
	assert_null(xu_roster_find(r, "a@b"));
	xu_roster_free(r);
	xu_stanza_free(iq);
}

/* ---------------------------------------------------------------- output */

static void test_format(void **state)
{
	char *groups[] = {"A,B", "Tab\there"};
	struct xu_roster_item it = {
	    "juliet@example.com", "J\u202e\x1b", "to", true, false, groups, 2, 2};
	struct xu_roster_item bare = {"nurse@example.com", NULL, "none", false, true, NULL, 0, 0};
	const struct {
		const struct xu_roster_item *it;
		bool json;
		const char *want;
	} cases[] = {
	    {&it, false, "juliet@example.com\tJ\\u{202E}\\x1b\tto\tsubscribe\tA,B,Tab\\there\n"},
	    {&it, true,
	     "{\"jid\":\"juliet@example.com\",\"name\":\"J\\u202e\\u001b\",\"subscription\":\"to\","
	     "\"ask\":true,\"approved\":false,\"groups\":[\"A,B\",\"Tab\\there\"]}\n"},
	    {&bare, false, "nurse@example.com\t\tnone\t\t\n"},
	    {&bare, true,
	     "{\"jid\":\"nurse@example.com\",\"name\":null,\"subscription\":\"none\",\"ask\":false,"
	     "\"approved\":true,\"groups\":[]}\n"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out = NULL;
		size_t len = 0;

		assert_int_equal(xu_roster_item_format(cases[i].it,
		                                       cases[i].json ? XU_REC_JSON : XU_REC_TEXT,
		                                       &out, &len),
		                 XU_OK);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu:\n got  %s want %s", i, out, cases[i].want);
		assert_int_equal(len, strlen(out));
		free(out);
	}
}

/* ---------------------------------------------------------------- requests */

static void test_requests(void **state)
{
	char *groups[] = {"A", "B"};
	struct xu_roster_item it = {
	    "juliet@example.com", "Juliet", NULL, false, false, groups, 2, 2};
	struct xu_roster_item bad = {
	    "juliet@example.com", "bell\a", NULL, false, false, NULL, 0, 0};
	char *badg[] = {"ok", "\x01"};
	struct xu_roster_item badgroup = {
	    "juliet@example.com", NULL, NULL, false, false, badg, 2, 2};
	struct xu_stanza *st = NULL;
	char *xml;

	(void)state;
	assert_int_equal(xu_roster_set_iq(&it, false, &st), XU_OK);
	xml = tr_xml(st);
	assert_string_equal(xml, "<iq type='set'><query xmlns='jabber:iq:roster'><item "
	                         "jid='juliet@example.com' name='Juliet'><group>A</group><group>B"
	                         "</group></item></query></iq>");
	free(xml);
	xu_stanza_free(st);
	assert_int_equal(xu_roster_set_iq(&it, true, &st), XU_OK);
	xml = tr_xml(st);
	assert_string_equal(xml, "<iq type='set'><query xmlns='jabber:iq:roster'><item "
	                         "jid='juliet@example.com' subscription='remove'/></query></iq>");
	free(xml);
	xu_stanza_free(st);
	assert_int_equal(xu_roster_set_iq(&bad, false, &st), XU_ERR_DATA);
	assert_null(st);
	assert_int_equal(xu_roster_set_iq(&badgroup, false, &st), XU_ERR_DATA);
	assert_null(st);

	assert_int_equal(xu_subscription_new("romeo@example.net", "subscribed", &st), XU_OK);
	xml = tr_xml(st);
	assert_string_equal(xml, "<presence to='romeo@example.net' type='subscribed'/>");
	free(xml);
	xu_stanza_free(st);
	assert_int_equal(xu_subscription_new("romeo@example.net", "probe", &st), XU_ERR_USAGE);
	assert_null(st);

	assert_int_equal(xu_block_iq(true, "romeo@example.net", &st), XU_OK);
	xml = tr_xml(st);
	assert_string_equal(xml, "<iq type='set'><block xmlns='urn:xmpp:blocking'><item "
	                         "jid='romeo@example.net'/></block></iq>");
	free(xml);
	xu_stanza_free(st);
}

static void test_blocklist(void **state)
{
	struct xu_stanza *iq =
	    tu_parse("<iq type='result'><blocklist xmlns='urn:xmpp:blocking'>"
	             "<item jid='romeo@example.net'/><item jid=''/><item/>"
	             "<other jid='x'/><item jid='example.org'/></blocklist></iq>");
	char **jids = NULL;
	size_t n = 0, i;

	(void)state;
	assert_int_equal(xu_blocklist_parse(iq, &jids, &n), XU_OK);
	assert_int_equal(n, 2);
	assert_string_equal(jids[0], "romeo@example.net");
	assert_string_equal(jids[1], "example.org");
	for (i = 0; i < n; i++)
		free(jids[i]);
	free(jids);
	xu_stanza_free(iq);
}

/* ---------------------------------------------------------------- JSON */

static void test_json(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		size_t used; /* bytes taken, when ok */
	} cases[] = {
	    {"{\"a\":1}", true, 7},
	    {" [1, -2.5e+3, 0, true, false, null, \"x\"] \n{", true, 42},
	    {"\"\\u00e9\\ud83d\\ude00\\n\\/\"", true, 24},
	    {"{}", true, 2},
	    {"[]", true, 2},
	    {"", false, 0},
	    {"{", false, 0},
	    {"[1,]", false, 0},
	    {"{\"a\" 1}", false, 0},
	    {"{1:2}", false, 0},
	    {"01", true, 1}, /* a value "0"; the caller sees what is left */
	    {"-", false, 0},
	    {"1.", false, 0},
	    {"1e", false, 0},
	    {"tru", false, 0},
	    {"\"a", false, 0},
	    {"\"\\x\"", false, 0},
	    {"\"\\u12\"", false, 0},
	    {"\"\\ud83d\"", false, 0},      /* lone high surrogate */
	    {"\"\\ude00\"", false, 0},      /* lone low surrogate */
	    {"\"\\u0000\"", false, 0},      /* NUL: strings are C strings */
	    {"\"a\tb\"", false, 0},         /* raw control */
	    {"\"\xc0\xaf\"", false, 0},     /* overlong */
	    {"\"\xed\xa0\x80\"", false, 0}, /* encoded surrogate */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xu_json v;
		const char *why = NULL;
		size_t used = 0;
		enum xu_err err = xu_json_parse(cases[i].in, strlen(cases[i].in), &used, &v, &why);

		if ((err == XU_OK) != cases[i].ok)
			fail_msg("case %zu (%s): %s", i, cases[i].in, why ? why : "accepted");
		if (err) {
			assert_int_equal(err, XU_ERR_DATA);
			assert_non_null(why);
			continue;
		}
		assert_int_equal(used, cases[i].used);
		xu_json_free(&v);
	}
}

static void test_json_values(void **state)
{
	const char *in = "{\"jid\":\"a@b\",\"groups\":[\"x\",\"\\u00e9\\ud83d\\ude00\"],\"n\":null,"
	                 "\"jid\":\"second\"}";
	struct xu_json v;
	const struct xu_json *g;
	const char *why;
	size_t used;

	(void)state;
	assert_int_equal(xu_json_parse(in, strlen(in), &used, &v, &why), XU_OK);
	assert_int_equal(v.type, XU_JSON_OBJECT);
	assert_int_equal(v.n, 4);
	assert_string_equal(xu_json_get(&v, "jid")->str, "a@b"); /* the first of a name */
	g = xu_json_get(&v, "groups");
	assert_int_equal(g->type, XU_JSON_ARRAY);
	assert_int_equal(g->n, 2);
	assert_string_equal(g->items[1].str, "\xc3\xa9\xf0\x9f\x98\x80");
	assert_int_equal(xu_json_get(&v, "n")->type, XU_JSON_NULL);
	assert_null(xu_json_get(&v, "missing"));
	assert_null(xu_json_get(g, "jid"));
	xu_json_free(&v);
}

/* Depth is bounded: 64 levels are fine, 65 are refused (no recursion without end). */
static void test_json_depth(void **state)
{
	char deep[200];
	struct xu_json v;
	const char *why;
	size_t used;

	(void)state;
	memset(deep, '[', 64);
	memset(deep + 64, ']', 64);
	assert_int_equal(xu_json_parse(deep, 128, &used, &v, &why), XU_OK);
	xu_json_free(&v);
	memset(deep, '[', 65);
	memset(deep + 65, ']', 65);
	assert_int_equal(xu_json_parse(deep, 130, &used, &v, &why), XU_ERR_DATA);
}

/* The roster cache the shell completions read: one bare JID per line, mode 0600. */
static void test_cache_store(void **state)
{
	struct xu_stanza *iq =
	    tu_parse("<iq type='result'><query xmlns='jabber:iq:roster'>"
	             "<item jid='Carol@Example.org'/><item jid='bob@example.org'/>"
	             "</query></iq>");
	char dir[] = "/tmp/xu-test-roster-XXXXXX", path[200], text[200], why[200];
	struct xu_roster *r = NULL;
	struct stat st;
	FILE *f;
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(xu_roster_parse(iq, &r), XU_OK);
	assert_int_equal(xu_roster_cache_store(dir, "alice@example.org", r, why, sizeof(why)),
	                 XU_OK);
	snprintf(path, sizeof(path), "%s/roster.alice@example.org", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_string_equal(text, "bob@example.org\ncarol@example.org\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Replaced whole: an empty roster empties it. */
	assert_int_equal(xu_roster_cache_store(dir, "alice@example.org", NULL, why, sizeof(why)),
	                 XU_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(xu_roster_cache_store(NULL, "alice@example.org", r, why, sizeof(why)),
	                 XU_OK);
	assert_int_equal(xu_roster_cache_store(dir, "a/b@example.org", r, why, sizeof(why)),
	                 XU_ERR_USAGE);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	xu_roster_free(r);
	xu_stanza_free(iq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),      cmocka_unit_test(test_format),
	    cmocka_unit_test(test_requests),   cmocka_unit_test(test_blocklist),
	    cmocka_unit_test(test_json),       cmocka_unit_test(test_json_values),
	    cmocka_unit_test(test_json_depth), cmocka_unit_test(test_cache_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
