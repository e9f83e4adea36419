/* test_stanza.c: stanza trees (lib/stanza.c): building, queries, namespaces, text, escaping and
 * serialisation round trips (XML 1.0 §2.4, §3.3.3; Namespaces in XML 1.0). */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static char *to_xml(const struct xu_stanza *st)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(xu_stanza_to_xml(st, &out, &len), XU_OK);
	assert_int_equal(strlen(out), len);
	return out;
}

static void assert_xml(const struct xu_stanza *st, const char *want)
{
	char *out = to_xml(st);

	if (strcmp(out, want) != 0)
		fail_msg("got  %s\nwant %s", out, want);
	free(out);
}

/* Serialise, parse back, compare; and the second serialisation is byte-identical. */
static void assert_round_trip(const struct xu_stanza *st)
{
	struct xu_stanza **v;
	const char *why = NULL;
	char *s1, *s2;
	size_t n;

	s1 = to_xml(st);
	if (xu_stanza_parse_list(s1, strlen(s1), &v, &n, &why) != XU_OK)
		fail_msg("%s does not parse: %s", s1, why);
	assert_int_equal(n, 1);
	if (!tu_stanza_equal(st, v[0]))
		fail_msg("%s parses to a different tree", s1);
	s2 = to_xml(v[0]);
	assert_string_equal(s1, s2);
	free(s1);
	free(s2);
	xu_stanza_free(v[0]);
	free(v);
}

/* ---------------------------------------------------------------- building and queries */

static void test_build(void **state)
{
	struct xu_stanza *m, *b, *q, *item;
	const char *n, *v;

	m = xu_stanza_new("message", NULL);
	assert_non_null(m);
	assert_string_equal(xu_stanza_name(m), "message");
	assert_string_equal(xu_stanza_ns(m), XU_NS_CLIENT);
	assert_null(xu_stanza_parent(m));
	assert_null(xu_stanza_first(m));
	assert_string_equal(xu_stanza_text(m), "");

	assert_int_equal(xu_stanza_set_attr(m, "to", "juliet@example.com"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(m, "type", "chat"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(m, "id", "1"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(m, "type", "normal"), XU_OK);
	assert_int_equal(xu_stanza_attr_count(m), 3);
	assert_string_equal(xu_stanza_attr(m, "type"), "normal");
	assert_int_equal(xu_stanza_set_attr(m, "to", NULL), XU_OK);
	assert_int_equal(xu_stanza_set_attr(m, "absent", NULL), XU_OK);
	assert_null(xu_stanza_attr(m, "to"));
	assert_int_equal(xu_stanza_attr_count(m), 2);
	xu_stanza_attr_at(m, 0, &n, &v);
	assert_string_equal(n, "type");
	assert_string_equal(v, "normal");
	xu_stanza_attr_at(m, 1, &n, &v);
	assert_string_equal(n, "id");
	xu_stanza_attr_at(m, 2, &n, &v);
	assert_null(n);
	assert_null(v);
	/* The XML namespace in Clark notation is the same attribute as xml:lang. */
	assert_int_equal(xu_stanza_set_attr(m, "{" XU_NS_XML "}lang", "en"), XU_OK);
	assert_string_equal(xu_stanza_attr(m, "xml:lang"), "en");

	b = xu_stanza_add_new(m, "body", NULL);
	assert_non_null(b);
	assert_int_equal(xu_stanza_add_text(b, "Art thou", 8), XU_OK);
	assert_int_equal(xu_stanza_add_text(b, " not Romeo?xyz", 11), XU_OK);
	assert_string_equal(xu_stanza_text(b), "Art thou not Romeo?");
	assert_ptr_equal(xu_stanza_parent(b), m);
	assert_string_equal(xu_stanza_ns(b), XU_NS_CLIENT);

	q = xu_stanza_new("query", "jabber:iq:roster");
	assert_int_equal(xu_stanza_add_child(m, q), XU_OK);
	item = xu_stanza_add_new(q, "item", NULL);
	assert_string_equal(xu_stanza_ns(item), "jabber:iq:roster");

	assert_ptr_equal(xu_stanza_first(m), b);
	assert_ptr_equal(xu_stanza_next(b), q);
	assert_null(xu_stanza_next(q));
	assert_ptr_equal(xu_stanza_child(m, "query", NULL), q);
	assert_ptr_equal(xu_stanza_child(m, NULL, "jabber:iq:roster"), q);
	assert_ptr_equal(xu_stanza_child(m, NULL, NULL), b);
	assert_null(xu_stanza_child(m, "query", XU_NS_CLIENT));
	assert_null(xu_stanza_child(m, "nope", NULL));
	assert_string_equal(xu_stanza_child_text(m, "body", XU_NS_CLIENT), "Art thou not Romeo?");
	assert_string_equal(xu_stanza_child_text(m, "query", NULL), "");
	assert_null(xu_stanza_child_text(m, "subject", NULL));

	assert_xml(m, "<message type='normal' id='1' xml:lang='en'><body>Art thou not "
	              "Romeo?</body><query xmlns='jabber:iq:roster'><item/></query></message>");
	assert_round_trip(m);
	xu_stanza_free(m);
	xu_stanza_free(NULL);
}

static void test_text_nodes(void **state)
{
	struct xu_stanza *b, *i, *e;
	const char *t;

	b = xu_stanza_new("body", NULL);
	assert_int_equal(xu_stanza_add_text(b, "", 0), XU_OK);
	assert_null(xu_stanza_first(b));
	assert_xml(b, "<body/>");
	assert_int_equal(xu_stanza_add_text(b, "a", 1), XU_OK);
	i = xu_stanza_add_new(b, "i", NULL);
	assert_int_equal(xu_stanza_add_text(i, "b", 1), XU_OK);
	assert_int_equal(xu_stanza_add_text(b, "c", 1), XU_OK);
	e = xu_stanza_add_new(b, "br", NULL);
	assert_int_equal(xu_stanza_add_text(b, "d", 1), XU_OK);
	assert_int_equal(xu_stanza_add_text(b, "e", 1), XU_OK);
	/* Direct text only, in order; the pointer stays put until the element changes. */
	t = xu_stanza_text(b);
	assert_string_equal(t, "acde");
	assert_ptr_equal(xu_stanza_text(b), t);
	assert_string_equal(xu_stanza_text(i), "b");
	assert_xml(b, "<body>a<i>b</i>c<br/>de</body>");
	assert_round_trip(b);
	/* Text iteration skips text nodes. */
	assert_ptr_equal(xu_stanza_first(b), i);
	assert_ptr_equal(xu_stanza_next(i), e);
	assert_null(xu_stanza_next(e));
	/* Freeing an attached child detaches it; the text around it becomes one. */
	xu_stanza_free(e);
	assert_xml(b, "<body>a<i>b</i>cde</body>");
	assert_null(xu_stanza_next(i));
	xu_stanza_free(i);
	assert_xml(b, "<body>acde</body>");
	assert_null(xu_stanza_first(b));
	assert_round_trip(b);
	assert_int_equal(xu_stanza_add_text(b, "f", 1), XU_OK);
	assert_string_equal(xu_stanza_text(b), "acdef");
	xu_stanza_free(b);
}

static void test_namespaces(void **state)
{
	struct xu_stanza *iq, *q, *x, *cp;

	iq = xu_stanza_new("iq", NULL);
	q = xu_stanza_add_new(iq, "query", "jabber:iq:roster");
	x = xu_stanza_add_new(q, "x", "jabber:client");
	xu_stanza_add_new(x, "y", "");
	xu_stanza_add_new(q, "item", NULL);
	assert_string_equal(xu_stanza_ns(xu_stanza_first(x)), "");
	assert_xml(iq, "<iq><query xmlns='jabber:iq:roster'><x xmlns='jabber:client'><y "
	               "xmlns=''/></x><item/></query></iq>");
	assert_round_trip(iq);

	/* A copy of an inner element keeps the namespace it had in place. */
	cp = xu_stanza_copy(xu_stanza_child(q, "item", NULL));
	assert_non_null(cp);
	assert_null(xu_stanza_parent(cp));
	assert_string_equal(xu_stanza_ns(cp), "jabber:iq:roster");
	assert_xml(cp, "<item xmlns='jabber:iq:roster'/>");
	xu_stanza_free(cp);
	cp = xu_stanza_copy(iq);
	assert_true(tu_stanza_equal(cp, iq));
	assert_ptr_not_equal(xu_stanza_first(cp), q);
	xu_stanza_free(cp);

	/* The XML namespace's own prefix is always bound; the default one stays put below. */
	cp = xu_stanza_new("m", NULL);
	x = xu_stanza_add_new(cp, "lang", XU_NS_XML);
	xu_stanza_add_new(x, "c", NULL);
	xu_stanza_add_new(xu_stanza_add_new(x, "d", "urn:d"), "e", XU_NS_XML);
	assert_xml(cp, "<m><xml:lang><xml:c/><d xmlns='urn:d'><xml:e/></d></xml:lang></m>");
	assert_round_trip(cp);
	xu_stanza_free(cp);
	cp = xu_stanza_new("m", NULL);
	x = xu_stanza_add_new(cp, "lang", XU_NS_XML);
	xu_stanza_add_new(x, "c", XU_NS_CLIENT);
	assert_xml(cp, "<m><xml:lang><c/></xml:lang></m>");
	assert_round_trip(cp);
	xu_stanza_free(cp);

	/* Relative to another default namespace, and with none. */
	{
		struct xu_buf b;

		xu_buf_init(&b, 0);
		assert_int_equal(xu_stanza_write(q, "jabber:iq:roster", &b), XU_OK);
		assert_string_equal(b.data, "<query><x xmlns='jabber:client'><y "
		                            "xmlns=''/></x><item/></query>");
		xu_buf_reset(&b);
		assert_int_equal(xu_stanza_write(iq, NULL, &b), XU_OK);
		assert_memory_equal(b.data, "<iq xmlns='jabber:client'>", 26);
		xu_buf_free(&b);
	}
	xu_stanza_free(iq);
}

static void test_namespaced_attrs(void **state)
{
	struct xu_stanza *m = xu_stanza_new("message", NULL), *c;

	assert_int_equal(xu_stanza_set_attr(m, "{urn:a}x", "1"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(m, "plain", "2"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(m, "{urn:b}x", "3"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(m, "{urn:a}y", "4"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(m, "{urn:odd'}z", "5"), XU_OK);
	c = xu_stanza_add_new(m, "c", NULL);
	assert_int_equal(xu_stanza_set_attr(c, "{urn:b}x", "6"), XU_OK);
	assert_xml(m, "<message xmlns:ns0='urn:a' ns0:x='1' plain='2' xmlns:ns2='urn:b' ns2:x='3' "
	              "ns0:y='4' xmlns:ns4='urn:odd&apos;' ns4:z='5'><c xmlns:ns0='urn:b' "
	              "ns0:x='6'/></message>");
	assert_round_trip(m);
	xu_stanza_free(m);
}

static void test_add_child_errors(void **state)
{
	struct xu_stanza *a = xu_stanza_new("a", NULL), *b = xu_stanza_new("b", NULL), *c;

	assert_int_equal(xu_stanza_add_child(a, b), XU_OK);
	/* Already attached, or an ancestor: not ours to take. */
	assert_int_equal(xu_stanza_add_child(a, b), XU_ERR_USAGE);
	assert_int_equal(xu_stanza_add_child(b, a), XU_ERR_USAGE);
	assert_int_equal(xu_stanza_add_child(a, a), XU_ERR_USAGE);
	assert_int_equal(xu_stanza_add_child(a, NULL), XU_ERR_USAGE);
	/* No parent: the child is freed all the same (valgrind checks). */
	c = xu_stanza_new("c", NULL);
	assert_int_equal(xu_stanza_add_child(NULL, c), XU_ERR_USAGE);
	assert_null(xu_stanza_add_new(NULL, "x", NULL));
	assert_null(xu_stanza_new(NULL, NULL));
	assert_int_equal(xu_stanza_add_text(NULL, "x", 1), XU_ERR_USAGE);
	assert_int_equal(xu_stanza_set_attr(NULL, "x", "y"), XU_ERR_USAGE);
	assert_null(xu_stanza_copy(NULL));
	assert_string_equal(xu_stanza_text(NULL), "");
	assert_xml(a, "<a><b/></a>");
	xu_stanza_free(a);
}

/* ---------------------------------------------------------------- escaping */

static void test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		bool attr;
		enum xu_err err;
		const char *out;
	} cases[] = {
	    {"plain", 5, false, XU_OK, "plain"},
	    {"a&b<c>d'e\"f", 11, false, XU_OK, "a&amp;b&lt;c&gt;d'e\"f"},
	    {"a&b<c>d'e\"f", 11, true, XU_OK, "a&amp;b&lt;c&gt;d&apos;e&quot;f"},
	    {"]]>", 3, false, XU_OK, "]]&gt;"},
	    {"t\tn\nr\r", 6, false, XU_OK, "t\tn\nr&#13;"},
	    {"t\tn\nr\r", 6, true, XU_OK, "t&#9;n&#10;r&#13;"},
	    {"\xC3\xA9\xF0\x9F\x98\x80", 6, true, XU_OK, "\xC3\xA9\xF0\x9F\x98\x80"},
	    {"", 0, false, XU_OK, ""},
	    {"a\0b", 3, false, XU_ERR_DATA, NULL},
	    {"\x1B[31m", 5, false, XU_ERR_DATA, NULL},
	    {"\xC3\x28", 2, true, XU_ERR_DATA, NULL},
	    {"\xC0\xBC", 2, false, XU_ERR_DATA, NULL},
	    {"\xED\xA0\x80", 3, false, XU_ERR_DATA, NULL},
	    {"\xEF\xBF\xBE", 3, false, XU_ERR_DATA, NULL},
	    {"\xEF\xBF\xBF", 3, true, XU_ERR_DATA, NULL},
	    {"\xF4\x90\x80\x80", 4, false, XU_ERR_DATA, NULL},
	    {"\xE2\x82", 2, false, XU_ERR_DATA, NULL},
	};
	struct xu_buf b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xu_buf_init(&b, 0);
		assert_int_equal(xu_xml_escape(&b, cases[i].in, cases[i].len, cases[i].attr),
		                 cases[i].err);
		if (cases[i].out)
			assert_string_equal(b.data ? b.data : "", cases[i].out);
		xu_buf_free(&b);
	}
	/* A capped buffer reports the cap. */
	xu_buf_init(&b, 4);
	assert_int_equal(xu_xml_escape(&b, "<<", 2, false), XU_ERR_PROTO);
	xu_buf_free(&b);
}

/* Every special character in text and attributes survives the trip. */
static void test_escape_round_trip(void **state)
{
	static const char *const texts[] = {
	    "&<>'\"",
	    "]]>",
	    "a\r\nb\rc\n",
	    "\t lead and trail \t",
	    "&amp; is not &",
	    "\xC2\x85\xE2\x80\xA8\xEF\xBB\xBF\xF4\x8F\xBF\xBD",
	    " ",
	    "&#38;",
	    "\r",
	};
	struct xu_stanza *m;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		m = xu_stanza_new("message", NULL);
		assert_int_equal(xu_stanza_set_attr(m, "a", texts[i]), XU_OK);
		assert_int_equal(xu_stanza_add_text(xu_stanza_add_new(m, "body", NULL), texts[i],
		                                    strlen(texts[i])),
		                 XU_OK);
		assert_round_trip(m);
		xu_stanza_free(m);
	}
}

/* ---------------------------------------------------------------- refusing bad trees */

static void test_write_rejects(void **state)
{
	static const struct {
		const char *name, *ns, *attr, *value, *text;
	} cases[] = {
	    {"", NULL, NULL, NULL, NULL},
	    {"a b", NULL, NULL, NULL, NULL},
	    {"1a", NULL, NULL, NULL, NULL},
	    {"-a", NULL, NULL, NULL, NULL},
	    {"p:a", NULL, NULL, NULL, NULL},
	    {"a>", NULL, NULL, NULL, NULL},
	    {"a\x80", NULL, NULL, NULL, NULL},
	    {"a", "http://www.w3.org/2000/xmlns/", NULL, NULL, NULL},
	    {"a", "bad\x01", NULL, NULL, NULL},
	    {"a", "urn:a b", NULL, NULL, NULL},
	    {"a", "urn:a}b", NULL, NULL, NULL},
	    {"a", "urn:\xC3\xA9", NULL, NULL, NULL},
	    {"a", "urn:%zz", NULL, NULL, NULL},
	    {"a", NULL, "{urn:x}y}z", "x", NULL},
	    {"a", NULL, "{urn:x y}z", "x", NULL},
	    {"a", NULL, "xmlns", "x", NULL},
	    {"a", NULL, "xmlns:p", "x", NULL},
	    {"a", NULL, "b c", "x", NULL},
	    {"a", NULL, "{}b", "x", NULL},
	    {"a", NULL, "{urn:x}", "x", NULL},
	    {"a", NULL, "{urn:x}p:b", "x", NULL},
	    {"a", NULL, "{http://www.w3.org/2000/xmlns/}b", "x", NULL},
	    {"a", NULL, "xml:", "x", NULL},
	    {"a", NULL, "b", "\x1B", NULL},
	    {"a", NULL, "b", "\xFF", NULL},
	    {"a", NULL, NULL, NULL, "nul\x01"},
	    {"a", NULL, NULL, NULL, "\xEF\xBF\xBF"},
	};
	struct xu_stanza *root, *st;
	struct xu_buf b;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		root = xu_stanza_new("ok", NULL);
		st = xu_stanza_add_new(root, cases[i].name, cases[i].ns);
		assert_non_null(st);
		if (cases[i].attr)
			assert_int_equal(xu_stanza_set_attr(st, cases[i].attr, cases[i].value),
			                 XU_OK);
		if (cases[i].text)
			assert_int_equal(
			    xu_stanza_add_text(st, cases[i].text, strlen(cases[i].text)), XU_OK);
		/* Nothing half-written is left behind. */
		xu_buf_init(&b, 0);
		assert_int_equal(xu_buf_adds(&b, "keep"), XU_OK);
		if (xu_stanza_write(root, XU_NS_CLIENT, &b) != XU_ERR_DATA)
			fail_msg("case %zu: written as %s", i, b.data);
		assert_string_equal(b.data, "keep");
		xu_buf_free(&b);
		xu_stanza_free(root);
	}
	assert_int_equal(xu_stanza_write(NULL, XU_NS_CLIENT, &b), XU_ERR_USAGE);
}

/* Names XML allows beyond ASCII come out as they are. */
static void test_write_names(void **state)
{
	static const char *const names[] = {
	    "a",
	    "_a",
	    "a-b.c_d9",
	    "\xC3\xA9l\xC3\xA9ment",
	    "\xE4\xB8\xAD\xE6\x96\x87",
	    "a\xC2\xB7"
	    "b",
	    "\xF0\x90\x80\x80",
	};
	struct xu_stanza *st;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		st = xu_stanza_new(names[i], "urn:x");
		assert_int_equal(xu_stanza_set_attr(st, names[i], "v"), XU_OK);
		assert_round_trip(st);
		xu_stanza_free(st);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_text_nodes),
	    cmocka_unit_test(test_namespaces),
	    cmocka_unit_test(test_namespaced_attrs),
	    cmocka_unit_test(test_add_child_errors),
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_escape_round_trip),
	    cmocka_unit_test(test_write_rejects),
	    cmocka_unit_test(test_write_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
