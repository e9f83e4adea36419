/* test_jid.c: RFC 7622 JIDs against the consolidated corpus (tests/vectors/jid/) and edge cases. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define JID_CASES "tests/vectors/jid/jid-cases.jsonl"

/*
 * Where the corpus and this implementation disagree on purpose (docs/jid.md). Each entry
 * replaces the source's expectation with ours; a deviation that stops deviating fails too,
 * so the list cannot go stale.
 */
static const struct {
	const char *id;
	bool valid;
	const char *local, *domain, *resource; /* when valid */
	const char *reason;
} tj_deviations[] = {
    {"jxmpp-010", true, "\xCF\x82", "example.com", NULL,
     "RFC 8265 §3.3.2 maps case with toLowerCase, which keeps U+03C2 FINAL SIGMA; jxmpp still "
     "expects RFC 7613 case folding to U+03C3 (RFC 7622 §3.5 notes examples 10 and 11 differ)"},
    {"jxmpp-020", false, NULL, NULL, NULL,
     "an IPv6 zone identifier is not part of the RFC 3986 IP-literal that RFC 7622 §3.2 uses"},
    {"jxmpp-021", false, NULL, NULL, NULL,
     "a label of more than 63 octets: RFC 7622 §3.2 keeps the RFC 1034 length limits"},
    {"slixmpp-012", false, NULL, NULL, NULL,
     "a domainpart of 1023 octets exceeds the 253-octet name limit of RFC 1034, which RFC 7622 "
     "§3.2 says still applies"},
    {"prosody-029", true, "node", "server", "invalid-",
     "embedded NUL: xu_jid_parse() takes a C string, so it sees only \"node@server/invalid-\", "
     "a valid JID; XML (the only source of peer JIDs) cannot carry U+0000"},
    {"libstrophe-009", true, NULL, "l", "calpart@bar.com",
     "libstrophe builds this from separate parts (localpart \"l/calpart\"); as a string, RFC "
     "7622 §3.1 splits at the first '/', leaving domainpart \"l\" and a resourcepart"},
};

struct tj_case {
	const char *id;
	char *input; /* decoded input_hex, NUL-terminated */
	size_t input_len;
	bool valid;
	bool has_parts;
	const char *local, *domain, *resource; /* NULL: absent (JSON null); borrowed */
};

/* One part of the expectation: absent or null is NULL; anything but a string is unreadable. */
static bool tj_part(const struct tu_json *o, const char *key, const char **out, bool *present)
{
	const struct tu_json *v = tu_json_get(o, key);

	*present = v != NULL;
	*out = v && v->type == TU_JSON_STR ? v->str : NULL;
	return !v || v->type == TU_JSON_NULL || v->type == TU_JSON_STR;
}

/* One line of the corpus; c->input is the caller's to free. */
static bool tj_case_from(const struct tu_json *o, struct tj_case *c)
{
	const char *expect = tu_json_str(o, "expect"), *hex = tu_json_str(o, "input_hex");
	bool pl, pd, pr;

	memset(c, 0, sizeof(*c));
	c->id = tu_json_str(o, "id");
	if (!c->id || !expect || !hex)
		return false;
	c->valid = strcmp(expect, "valid") == 0;
	if (!c->valid && strcmp(expect, "invalid") != 0)
		return false;
	c->input = tu_unhex(hex, strlen(hex), &c->input_len);
	if (!c->input || !tj_part(o, "local", &c->local, &pl) ||
	    !tj_part(o, "domain", &c->domain, &pd) || !tj_part(o, "resource", &c->resource, &pr))
		return false;
	c->has_parts = pl && pd && pr;
	return true;
}

static const char *tj_show(const char *s)
{
	return s ? s : "(absent)";
}

static bool tj_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Parse, check against the expectation, and check idempotence of the prepared form. */
static bool tj_run(const char *id, const char *input, bool valid, bool has_parts, const char *local,
                   const char *domain, const char *resource)
{
	struct xu_jid *j = NULL, *again = NULL;
	const char *why = NULL;
	enum xu_err err;
	bool ok = true;

	err = xu_jid_parse(input, &j, &why);
	if (valid != (err == XU_OK)) {
		print_message("%s: %s expected %s, got err %d (%s)\n", id, input,
		              valid ? "valid" : "invalid", (int)err, why ? why : "-");
		xu_jid_free(j);
		return false;
	}
	if (!valid) {
		if (err != XU_ERR_DATA || j || !why) {
			print_message("%s: bad failure shape (err %d)\n", id, (int)err);
			ok = false;
		}
		return ok;
	}
	if (has_parts &&
	    (!tj_streq(xu_jid_local(j), local) || !tj_streq(xu_jid_domain(j), domain) ||
	     !tj_streq(xu_jid_resource(j), resource))) {
		print_message("%s: parts %s | %s | %s, expected %s | %s | %s\n", id,
		              tj_show(xu_jid_local(j)), tj_show(xu_jid_domain(j)),
		              tj_show(xu_jid_resource(j)), tj_show(local), tj_show(domain),
		              tj_show(resource));
		ok = false;
	}
	/* Idempotence (mellium's fuzz property): the prepared form parses to itself. */
	if (xu_jid_parse(xu_jid_full(j), &again, &why) != XU_OK || !xu_jid_equal(j, again) ||
	    strcmp(xu_jid_full(j), xu_jid_full(again)) != 0 ||
	    strcmp(xu_jid_domain_ascii(j), xu_jid_domain_ascii(again)) != 0) {
		print_message("%s: not idempotent: %s\n", id, xu_jid_full(j));
		ok = false;
	}
	xu_jid_free(again);
	xu_jid_free(j);
	return ok;
}

/* Every case of the consolidated corpus; deviations listed above with their reason. */
static void test_jid_corpus(void **state)
{
	struct tu_json all;
	size_t k, i, total = 0, bad = 0, ndev = 0;
	struct tj_case c;
	bool deviated;

	(void)state;
	if (!tu_json_load_lines(JID_CASES, &all))
		fail_msg("cannot read %s (run from the repository root)", JID_CASES);
	for (k = 0; k < all.n; k++) {
		if (!tj_case_from(&all.vals[k], &c))
			fail_msg("unreadable corpus line %zu", k + 1);
		total++;
		deviated = false;
		for (i = 0; i < sizeof(tj_deviations) / sizeof(tj_deviations[0]); i++) {
			if (strcmp(tj_deviations[i].id, c.id) != 0)
				continue;
			deviated = true;
			ndev++;
			/* the deviation must really contradict the source */
			if (tj_deviations[i].valid == c.valid &&
			    (!c.valid || !c.has_parts ||
			     (tj_streq(tj_deviations[i].local, c.local) &&
			      tj_streq(tj_deviations[i].domain, c.domain) &&
			      tj_streq(tj_deviations[i].resource, c.resource)))) {
				print_message("%s: listed as deviation but agrees with source\n",
				              c.id);
				bad++;
			}
			if (!tj_run(c.id, c.input, tj_deviations[i].valid, tj_deviations[i].valid,
			            tj_deviations[i].local, tj_deviations[i].domain,
			            tj_deviations[i].resource))
				bad++;
		}
		if (!deviated) {
			/* input_hex is authoritative; a C string cannot hold NUL */
			assert_int_equal(strlen(c.input), c.input_len);
			if (!tj_run(c.id, c.input, c.valid, c.has_parts, c.local, c.domain,
			            c.resource))
				bad++;
		}
		free(c.input);
	}
	tu_json_free(&all);
	assert_int_equal(total, 182);
	assert_int_equal(ndev, sizeof(tj_deviations) / sizeof(tj_deviations[0]));
	assert_int_equal(bad, 0);
}

/* Decisions where sources disagree (docs/jid.md), stated as cases of their own. */
static void test_jid_decisions(void **state)
{
	static const struct {
		const char *in;
		bool valid;
		const char *local, *domain, *resource;
	} cases[] = {
	    /* RFC 7622 erratum 4560: OpaqueString allows a leading space */
	    {"juliet@example.com/ foo", true, "juliet", "example.com", " foo"},
	    {"juliet@example.com/foo ", true, "juliet", "example.com", "foo "},
	    /* RFC 8265: toLowerCase, final sigma kept; capital sigma alone is not final */
	    {"\xCF\x82@example.com", true, "\xCF\x82", "example.com", NULL},
	    {"\xCE\xA3@example.com", true, "\xCF\x83", "example.com", NULL},
	    {"\xCE\xA3\xCE\x91\xCE\xA3@example.com", true, "\xCF\x83\xCE\xB1\xCF\x82",
	     "example.com", NULL},
	    /* trailing dot stripped before anything else, once */
	    {"example.com.", true, NULL, "example.com", NULL},
	    {"user@example.com./r", true, "user", "example.com", "r"},
	    {"example.com..", false, NULL, NULL, NULL},
	    {".", false, NULL, NULL, NULL},
	    {"example.com\xE3\x80\x82", false, NULL, NULL, NULL}, /* only U+002E is stripped */
	    {"a\xE3\x80\x82"
	     "b",
	     true, NULL, "a.b", NULL}, /* UTS #46 maps U+3002 */
	    /* IP literals */
	    {"[127.0.0.1]", false, NULL, NULL, NULL},
	    {"127.0.0.1", true, NULL, "127.0.0.1", NULL},
	    {"[::1]", true, NULL, "[::1]", NULL},
	    {"[0:0::1]", true, NULL, "[::1]", NULL},
	    {"[2001:DB8::1]", true, NULL, "[2001:db8::1]", NULL},
	    {"[::ffff:192.0.2.1]", true, NULL, "[::ffff:192.0.2.1]", NULL},
	    {"::1", false, NULL, NULL, NULL},
	    {"[fe80::1%25eth0]", false, NULL, NULL, NULL},
	    {"[]", false, NULL, NULL, NULL},
	    {"[v1.x]", false, NULL, NULL, NULL}, /* IPvFuture is not accepted */
	    /* DNS limits: labels of 63 octets */
	    {"user@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", true,
	     "user", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", NULL},
	    {"user@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com", false,
	     NULL, NULL, NULL},
	    /* IDNA: A-labels become U-labels, case and width mapped */
	    {"user@XN--BCHER-KVA.ch", true, "user",
	     "b\xC3\xBC"
	     "cher.ch",
	     NULL},
	    {"user@B\xC3\x9C"
	     "CHER.CH",
	     true, "user",
	     "b\xC3\xBC"
	     "cher.ch",
	     NULL},
	    {"\xEF\xBC\xA1@\xEF\xBC\xA5xample.com", true, "a", "example.com", NULL},
	    {"fa\xC3\x9F@fa\xC3\x9F.de", true, "fa\xC3\x9F", "fa\xC3\x9F.de", NULL},
	    {"user@xn--abc.com", false, NULL, NULL, NULL},
	    {"user@a_b.com", false, NULL, NULL, NULL},
	    {"user@ex ample.com", false, NULL, NULL, NULL},
	    {"user@\xE2\x98\x83.com", false, NULL, NULL, NULL}, /* symbols are not IDNA2008 */
	    /* RFC 7622 §3.3.1 checked after width mapping */
	    {"a\xEF\xBC\x9C"
	     "b@example.com",
	     false, NULL, NULL, NULL}, /* U+FF1C -> '<' */
	    {"a\xEF\xBC\x8F"
	     "b@example.com",
	     false, NULL, NULL, NULL}, /* U+FF0F -> '/' */
	    {"a\xEF\xBC\xA0"
	     "b@example.com",
	     false, NULL, NULL, NULL}, /* U+FF20 -> '@' */
	    /* resourceparts keep case, width and symbols; spaces mapped to U+0020 */
	    {"a@b/\xEF\xBC\xA1\xE2\x99\x9A", true, "a", "b", "\xEF\xBC\xA1\xE2\x99\x9A"},
	    {"a@b/x\xC2\xA0y", true, "a", "b", "x y"},
	    {"a@b/e\xCC\x81", true, "a", "b", "\xC3\xA9"},
	    {"a@b/\xEF\xB7\x90", false, NULL, NULL, NULL}, /* noncharacter */
	    /* structure */
	    {"a@b/c/d@e", true, "a", "b", "c/d@e"},
	    {"a/b@c", true, NULL, "a", "b@c"},
	    {"\xC3", false, NULL, NULL, NULL},
	};
	size_t i, bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!tj_run(cases[i].in, cases[i].in, cases[i].valid, true, cases[i].local,
		            cases[i].domain, cases[i].resource))
			bad++;
	assert_int_equal(bad, 0);
}

static char *tj_repeat(const char *unit, size_t count, const char *prefix, const char *suffix)
{
	size_t ul = strlen(unit), pl = strlen(prefix), sl = strlen(suffix), i;
	char *s = malloc(pl + ul * count + sl + 1);

	assert_non_null(s);
	memcpy(s, prefix, pl);
	for (i = 0; i < count; i++)
		memcpy(s + pl + i * ul, unit, ul);
	memcpy(s + pl + ul * count, suffix, sl + 1);
	return s;
}

/* 1..1023 octets per part, counted after preparation. */
static void test_jid_boundaries(void **state)
{
	static const struct {
		const char *unit, *prefix, *suffix;
		size_t count;
		bool valid;
		size_t part_len; /* of the part under test when valid */
		int part;        /* 0 local, 1 domain, 2 resource */
	} cases[] = {
	    {"a", "", "@example.com", 1023, true, 1023, 0},
	    {"a", "", "@example.com", 1024, false, 0, 0},
	    /* fullwidth A (3 octets) maps to 'a': the limit applies after mapping */
	    {"\xEF\xBC\xA1", "", "@example.com", 1023, true, 1023, 0},
	    {"\xEF\xBC\xA1", "", "@example.com", 1024, false, 0, 0},
	    {"r", "user@example.com/", "", 1023, true, 1023, 2},
	    {"r", "user@example.com/", "", 1024, false, 0, 2},
	    /* e + COMBINING ACUTE (3 octets) composes to U+00E9 (2 octets) */
	    {"e\xCC\x81", "example.com/x", "", 511, true, 1023, 2},
	    {"e\xCC\x81", "example.com/xx", "", 511, false, 0, 2},
	    /* 126 labels "a." plus "b": 253 octets, the RFC 1034 maximum */
	    {"a.", "user@", "b", 126, true, 253, 1},
	    {"a.", "user@", "bc", 126, false, 0, 1},
	    {"a.", "user@", "b/r", 511, false, 0, 1},
	};
	size_t i;
	char *s;
	struct xu_jid *j;
	const char *why, *part;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = tj_repeat(cases[i].unit, cases[i].count, cases[i].prefix, cases[i].suffix);
		j = NULL;
		why = NULL;
		if (cases[i].valid) {
			assert_int_equal(xu_jid_parse(s, &j, &why), XU_OK);
			part = cases[i].part == 0   ? xu_jid_local(j)
			       : cases[i].part == 1 ? xu_jid_domain(j)
			                            : xu_jid_resource(j);
			assert_non_null(part);
			assert_int_equal(strlen(part), cases[i].part_len);
		} else {
			assert_int_equal(xu_jid_parse(s, &j, &why), XU_ERR_DATA);
			assert_null(j);
			assert_non_null(why);
		}
		xu_jid_free(j);
		free(s);
	}
	/* oversized input is refused before any preparation */
	s = tj_repeat("a", 20000, "", "@example.com");
	assert_int_equal(xu_jid_parse(s, &j, &why), XU_ERR_DATA);
	free(s);
}

static void test_jid_equal(void **state)
{
	static const struct {
		const char *a, *b;
		bool equal, bare_equal;
	} cases[] = {
	    {"Juliet@Example.COM/foo", "juliet@example.com/foo", true, true},
	    {"juliet@example.com/Foo", "juliet@example.com/foo", false, true},
	    {"juliet@example.com", "juliet@example.com/foo", false, true},
	    {"example.com", "juliet@example.com", false, false},
	    {"\xCE\xA3@example.com", "\xCF\x83@example.com", true, true},
	    {"\xCF\x82@example.com", "\xCF\x83@example.com", false, false},
	    {"fussball@example.com",
	     "fu\xC3\x9F"
	     "ball@example.com",
	     false, false},
	    {"user@xn--bcher-kva.ch",
	     "user@B\xC3\xBC"
	     "cher.ch.",
	     true, true},
	    {"[::1]", "[0::0:1]", true, true},
	    {"a@b/x\xE2\x80\x83y", "a@b/x y", true, true}, /* EM SPACE */
	};
	size_t i;
	struct xu_jid *a, *b;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(xu_jid_parse(cases[i].a, &a, NULL), XU_OK);
		assert_int_equal(xu_jid_parse(cases[i].b, &b, NULL), XU_OK);
		assert_int_equal(xu_jid_equal(a, b), cases[i].equal);
		assert_int_equal(xu_jid_equal(b, a), cases[i].equal);
		assert_int_equal(xu_jid_bare_equal(a, b), cases[i].bare_equal);
		assert_true(xu_jid_equal(a, a));
		assert_false(xu_jid_equal(a, NULL));
		xu_jid_free(a);
		xu_jid_free(b);
	}
	assert_true(xu_jid_equal(NULL, NULL));
}

static void test_jid_copies(void **state)
{
	static const struct {
		const char *in, *full, *bare, *ascii;
	} cases[] = {
	    {"Juliet@B\xC3\xBC"
	     "cher.ch/Balcony",
	     "juliet@b\xC3\xBC"
	     "cher.ch/Balcony",
	     "juliet@b\xC3\xBC"
	     "cher.ch",
	     "xn--bcher-kva.ch"},
	    {"example.com/r@x", "example.com/r@x", "example.com", "example.com"},
	    {"user@[2001:db8::1]", "user@[2001:db8::1]", "user@[2001:db8::1]", "[2001:db8::1]"},
	    {"n@h", "n@h", "n@h", "h"},
	};
	size_t i;
	struct xu_jid *j, *d, *b, *bb;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(xu_jid_parse(cases[i].in, &j, NULL), XU_OK);
		assert_string_equal(xu_jid_full(j), cases[i].full);
		assert_string_equal(xu_jid_bare(j), cases[i].bare);
		assert_string_equal(xu_jid_domain_ascii(j), cases[i].ascii);
		assert_int_equal(xu_jid_dup(j, &d), XU_OK);
		assert_true(d != j);
		assert_true(xu_jid_equal(j, d));
		assert_string_equal(xu_jid_full(d), cases[i].full);
		assert_string_equal(xu_jid_domain_ascii(d), cases[i].ascii);
		assert_int_equal(xu_jid_to_bare(j, &b), XU_OK);
		assert_null(xu_jid_resource(b));
		assert_string_equal(xu_jid_full(b), cases[i].bare);
		assert_string_equal(xu_jid_bare(b), cases[i].bare);
		assert_true(xu_jid_bare_equal(j, b));
		assert_int_equal(xu_jid_equal(j, b), xu_jid_resource(j) == NULL);
		assert_int_equal(xu_jid_to_bare(b, &bb), XU_OK);
		assert_true(xu_jid_equal(b, bb));
		xu_jid_free(bb);
		xu_jid_free(b);
		xu_jid_free(d);
		xu_jid_free(j);
	}
	assert_null(xu_jid_local(NULL));
	assert_null(xu_jid_full(NULL));
	xu_jid_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_jid_corpus),     cmocka_unit_test(test_jid_decisions),
	    cmocka_unit_test(test_jid_boundaries), cmocka_unit_test(test_jid_equal),
	    cmocka_unit_test(test_jid_copies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
