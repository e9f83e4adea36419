/* test_escape.c: output escaping against the terminal-injection vectors, and JSON per RFC 8259. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define TERM_CASES "tests/vectors/terminal/terminal-cases.jsonl"

/* ---------------------------------------------------------------- helpers */

/* A byte string that may hold NULs. */
struct te_str {
	const char *p;
	size_t len;
};

/* The fields of one terminal case, borrowed from the parsed file. */
struct te_case {
	const char *id, *field, *terminal, *line;
	struct te_str input;
};

/* The terminal cases, one JSON object a line. */
static void te_load_cases(struct tu_json *all)
{
	if (!tu_json_load_lines(TERM_CASES, all))
		fail_msg("cannot read %s (run from the repository root)", TERM_CASES);
	assert_int_equal(all->n, 32);
}

static void te_case_at(const struct tu_json *all, size_t i, struct te_case *c)
{
	const struct tu_json *o = &all->vals[i], *in = tu_json_get(o, "input");

	c->id = tu_json_str(o, "id");
	c->field = tu_json_str(o, "field");
	c->terminal = tu_json_str(o, "expected_terminal");
	c->line = tu_json_str(o, "expected_line");
	if (!c->id || !c->field || !c->terminal || !c->line || !in || in->type != TU_JSON_STR)
		fail_msg("%s line %zu: a field is missing or not a string", TERM_CASES, i + 1);
	c->input.p = in->str;
	c->input.len = in->len;
}

static void te_expect(const struct te_str *in, enum xu_esc_mode mode, const char *want,
                      const char *id)
{
	char *out = NULL;

	assert_int_equal(xu_escape(in->p, in->len, mode, &out), XU_OK);
	assert_non_null(out);
	if (strcmp(out, want) != 0)
		print_error("case %s, mode %d:\n got  '%s'\n want '%s'\n", id, (int)mode, out,
		            want);
	assert_string_equal(out, want);
	free(out);
}

/* Every Unicode scalar value in order, as UTF-8, with room for `extra` more bytes. */
static char *te_all_scalars(size_t extra, size_t *len)
{
	char *all = malloc(0x110000 * 4 + extra);
	size_t n = 0;

	assert_non_null(all);
	for (uint32_t cp = 0; cp < 0x110000; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		n += tu_utf8_put(cp, all + n);
	}
	*len = n;
	return all;
}

/* ---------------------------------------------------------------- the vectors */

static void test_terminal_vectors(void **state)
{
	struct tu_json all;
	size_t i, cases = 0, bodies = 0, idents = 0;

	(void)state;
	te_load_cases(&all);
	for (i = 0; i < all.n; i++) {
		struct te_case c;

		te_case_at(&all, i, &c);
		if (strcmp(c.field, "body") == 0) {
			te_expect(&c.input, XU_ESC_TERMINAL, c.terminal, c.id);
			te_expect(&c.input, XU_ESC_LINE, c.line, c.id);
			bodies++;
		} else if (strcmp(c.field, "nick") == 0 || strcmp(c.field, "roster-name") == 0) {
			te_expect(&c.input, XU_ESC_IDENT, c.terminal, c.id);
			te_expect(&c.input, XU_ESC_IDENT, c.line, c.id);
			idents++;
		} else {
			/* status, subject, error-text: one-line fields, printed in line mode. */
			assert_true(strcmp(c.field, "status") == 0 ||
			            strcmp(c.field, "subject") == 0 ||
			            strcmp(c.field, "error-text") == 0);
			te_expect(&c.input, XU_ESC_LINE, c.terminal, c.id);
			te_expect(&c.input, XU_ESC_LINE, c.line, c.id);
			idents++;
		}
		cases++;
	}
	tu_json_free(&all);
	assert_int_equal(cases, 32);
	assert_int_equal(bodies, 24);
	assert_int_equal(idents, 8);
}

/* ---------------------------------------------------------------- hand-made cases */

struct te_row {
	const char *in;
	size_t len; /* 0: strlen */
	const char *line;
	const char *terminal;
	const char *ident;
};

static const struct te_row te_rows[] = {
    {"", 0, "", "", ""},
    {"plain ASCII ~!@#$%^&*()", 0, "plain ASCII ~!@#$%^&*()", "plain ASCII ~!@#$%^&*()",
     "plain ASCII ~!@#$%^&*()"},
    {"a\\b", 0, "a\\\\b", "a\\\\b", "a\\\\b"},
    {"a\r\nb", 0, "a\\r\\nb", "a\\r\n    b", "a\\r\\nb"},
    {"end\n", 0, "end\\n", "end\n    ", "end\\n"},
    {"\t\x01\x1f\x7f", 0, "\\t\\x01\\x1f\\x7f", "\t\\x01\\x1f\\x7f", "\\t\\x01\\x1f\\x7f"},
    {"nul\0x", 5, "nul\\x00x", "nul\\x00x", "nul\\x00x"},
    /* C1 boundaries; U+00A0 is an ordinary character */
    {"\xc2\x80\xc2\x9f\xc2\xa0", 0, "\\u{80}\\u{9F}\xc2\xa0", "\\u{80}\\u{9F}\xc2\xa0",
     "\\u{80}\\u{9F}\xc2\xa0"},
    /* U+061C ALM, U+200E LRM, U+200F RLM, U+202A LRE, U+2066 LRI */
    {"\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f\xe2\x80\xaa\xe2\x81\xa6", 0,
     "\\u{61C}\\u{200E}\\u{200F}\\u{202A}\\u{2066}", "\\u{61C}\\u{200E}\\u{200F}\\u{202A}\\u{2066}",
     "\\u{61C}\\u{200E}\\u{200F}\\u{202A}\\u{2066}"},
    /* zero-width and default-ignorables: kept in text, escaped in identifiers */
    {"a\xe2\x80\x8b"
     "b\xc2\xad"
     "c\xef\xbb\xbf"
     "d\xe1\xa0\x8e"
     "e\xe2\x81\xa0"
     "f\xe2\x81\xa4",
     0,
     "a\xe2\x80\x8b"
     "b\xc2\xad"
     "c\xef\xbb\xbf"
     "d\xe1\xa0\x8e"
     "e\xe2\x81\xa0"
     "f\xe2\x81\xa4",
     "a\xe2\x80\x8b"
     "b\xc2\xad"
     "c\xef\xbb\xbf"
     "d\xe1\xa0\x8e"
     "e\xe2\x81\xa0"
     "f\xe2\x81\xa4",
     "a\\u{200B}b\\u{AD}c\\u{FEFF}d\\u{180E}e\\u{2060}f\\u{2064}"},
    /* Hangul filler: an invisible "name" */
    {"\xe3\x85\xa4", 0, "\xe3\x85\xa4", "\xe3\x85\xa4", "\\u{3164}"},
    /* emoji with VS16 and a combining mark stay, even in identifiers */
    {"\xe2\x9d\xa4\xef\xb8\x8f e\xcc\x81", 0, "\xe2\x9d\xa4\xef\xb8\x8f e\xcc\x81",
     "\xe2\x9d\xa4\xef\xb8\x8f e\xcc\x81", "\xe2\x9d\xa4\xef\xb8\x8f e\xcc\x81"},
    /* the extremes of Unicode, non-characters included, pass */
    {"\xf4\x8f\xbf\xbf\xef\xbf\xbe", 0, "\xf4\x8f\xbf\xbf\xef\xbf\xbe",
     "\xf4\x8f\xbf\xbf\xef\xbf\xbe", "\xf4\x8f\xbf\xbf\xef\xbf\xbe"},
    /* invalid UTF-8: lone continuation, overlong, surrogate, past U+10FFFF, cut short */
    {"\x80|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xf5|\xff|\xe2\x82", 0,
     "\\x80|\\xc0\\xaf|\\xed\\xa0\\x80|\\xf4\\x90\\x80\\x80|\\xf5|\\xff|\\xe2\\x82",
     "\\x80|\\xc0\\xaf|\\xed\\xa0\\x80|\\xf4\\x90\\x80\\x80|\\xf5|\\xff|\\xe2\\x82",
     "\\x80|\\xc0\\xaf|\\xed\\xa0\\x80|\\xf4\\x90\\x80\\x80|\\xf5|\\xff|\\xe2\\x82"},
    /* a valid character right after an invalid lead byte is kept */
    {"\xe2\xc3\xa9", 0, "\\xe2\xc3\xa9", "\\xe2\xc3\xa9", "\\xe2\xc3\xa9"},
    /* raw C1 byte 0x9B (8-bit CSI) outside UTF-8 */
    {"\x9b"
     "31m",
     0, "\\x9b31m", "\\x9b31m", "\\x9b31m"},
};

static void test_escape_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(te_rows) / sizeof(te_rows[0]); i++) {
		const struct te_row *r = &te_rows[i];
		struct te_str in = {r->in, r->len ? r->len : strlen(r->in)};
		char id[16];

		snprintf(id, sizeof(id), "row %zu", i);
		te_expect(&in, XU_ESC_LINE, r->line, id);
		te_expect(&in, XU_ESC_TERMINAL, r->terminal, id);
		te_expect(&in, XU_ESC_IDENT, r->ident, id);
	}
}

/* ---------------------------------------------------------------- properties */

/* Safe output that decodes back, in every mode (the checks are shared with fuzz_escape). */
static void te_roundtrip(const char *in, size_t len, const char *label)
{
	static const enum xu_esc_mode modes[] = {XU_ESC_LINE, XU_ESC_TERMINAL, XU_ESC_IDENT};
	const char *why;

	for (size_t m = 0; m < 3; m++) {
		char *out = NULL;

		assert_int_equal(xu_escape(in, len, modes[m], &out), XU_OK);
		why = tu_escape_problem(in, len, modes[m], out);
		if (why)
			fail_msg("%s, mode %d: %s", label, (int)modes[m], why);
		free(out);
	}
}

/* Every code point, every byte value, and every vector: safe output that decodes back. */
static void test_escape_properties(void **state)
{
	struct tu_json all;
	size_t n, i;
	char *s = te_all_scalars(256, &n), id[16];

	(void)state;
	for (i = 0; i < 256; i++)
		s[n++] = (char)i;
	te_roundtrip(s, n, "every scalar value and byte");
	free(s);

	for (i = 0; i < sizeof(te_rows) / sizeof(te_rows[0]); i++) {
		snprintf(id, sizeof(id), "row %zu", i);
		te_roundtrip(te_rows[i].in, te_rows[i].len ? te_rows[i].len : strlen(te_rows[i].in),
		             id);
	}
	te_load_cases(&all);
	for (i = 0; i < all.n; i++) {
		struct te_case c;

		te_case_at(&all, i, &c);
		te_roundtrip(c.input.p, c.input.len, c.id);
	}
	tu_json_free(&all);
}

static void test_escape_args(void **state)
{
	char *out = NULL;

	(void)state;

	assert_int_equal(xu_escape(NULL, 0, XU_ESC_LINE, &out), XU_OK);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(xu_escape(NULL, 3, XU_ESC_LINE, &out), XU_ERR_USAGE);
	assert_null(out);
	assert_int_equal(xu_json_escape(NULL, 0, &out), XU_OK);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(xu_json_escape(NULL, 1, &out), XU_ERR_USAGE);
	assert_null(out);
}

/* ---------------------------------------------------------------- JSON (RFC 8259 §7) */

struct te_json_row {
	const char *in;
	size_t len;
	const char *want;
};

/* Written by hand from RFC 8259 §7: quotation mark, reverse solidus and U+0000-U+001F must
 * be escaped; the two-character forms where they exist, \u00XX otherwise. */
static const struct te_json_row te_json_rows[] = {
    {"", 0, ""},
    {"hello", 0, "hello"},
    {"say \"hi\"", 0, "say \\\"hi\\\""},
    {"C:\\tmp", 0, "C:\\\\tmp"},
    {"a/b", 0, "a/b"},
    {"\b\f\n\r\t", 0, "\\b\\f\\n\\r\\t"},
    {"\0\x01\x1b\x1f", 4, "\\u0000\\u0001\\u001b\\u001f"},
    {" ~", 0, " ~"},
    /* beyond the RFC's minimum, for safe printing: DEL, C1, bidi, line separators */
    {"\x7f\xc2\x80\xc2\x9b\xc2\x9f", 0, "\\u007f\\u0080\\u009b\\u009f"},
    {"\xe2\x80\xae\xe2\x81\xa6\xd8\x9c\xe2\x80\xa8\xe2\x80\xa9", 0,
     "\\u202e\\u2066\\u061c\\u2028\\u2029"},
    /* other non-ASCII stays UTF-8 */
    {"caf\xc3\xa9 \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9 \xc2\xa0", 0,
     "caf\xc3\xa9 \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9 \xc2\xa0"},
    /* invalid UTF-8: one U+FFFD per byte */
    {"a\xff"
     "b",
     0,
     "a\xef\xbf\xbd"
     "b"},
    {"\xc0\xaf", 0, "\xef\xbf\xbd\xef\xbf\xbd"},
    {"\xed\xa0\x80", 0, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
    {"x\xe2\x82", 0, "x\xef\xbf\xbd\xef\xbf\xbd"},
};

static void test_json_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(te_json_rows) / sizeof(te_json_rows[0]); i++) {
		const struct te_json_row *r = &te_json_rows[i];
		size_t len = r->len ? r->len : strlen(r->in);
		char *out = NULL;

		assert_int_equal(xu_json_escape(r->in, len, &out), XU_OK);
		if (strcmp(out, r->want) != 0)
			print_error("json row %zu: got '%s'\n", i, out);
		assert_string_equal(out, r->want);
		free(out);
	}
}

/* Safe output that a strict JSON parser reads back as the input (when that is valid UTF-8). */
static void te_json_back(const char *in, size_t len, const char *label)
{
	char *out = NULL;
	const char *why;

	assert_int_equal(xu_json_escape(in, len, &out), XU_OK);
	why = tu_json_escape_problem(in, len, out);
	if (why)
		fail_msg("%s: %s", label, why);
	free(out);
}

static void test_json_parse_back(void **state)
{
	struct tu_json all;
	size_t n, i;
	char *s = te_all_scalars(0, &n), id[16];

	(void)state;
	te_json_back(s, n, "every scalar value");
	free(s);
	for (i = 0; i < sizeof(te_json_rows) / sizeof(te_json_rows[0]); i++) {
		snprintf(id, sizeof(id), "json row %zu", i);
		te_json_back(te_json_rows[i].in,
		             te_json_rows[i].len ? te_json_rows[i].len : strlen(te_json_rows[i].in),
		             id);
	}
	te_load_cases(&all);
	for (i = 0; i < all.n; i++) {
		struct te_case c;

		te_case_at(&all, i, &c);
		te_json_back(c.input.p, c.input.len, c.id);
	}
	tu_json_free(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_terminal_vectors),  cmocka_unit_test(test_escape_table),
	    cmocka_unit_test(test_escape_properties), cmocka_unit_test(test_escape_args),
	    cmocka_unit_test(test_json_table),        cmocka_unit_test(test_json_parse_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
