/* test_escape.c: output escaping against the terminal-injection vectors, and JSON per RFC 8259. */
#include "xu-int.h"

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
	char *p;
	size_t len;
};

static size_t te_utf8(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Strict UTF-8 decode of one character; 0 when invalid. */
static size_t te_dec(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		c = s[0] & 0x1F;
		min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		c = s[0] & 0x0F;
		min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static int te_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A strict RFC 8259 §7 string parser: *pp points at the opening quote; raw controls, bad
 * escapes and lone surrogates are errors (false). Output is UTF-8 in out (malloc'ed).
 */
static bool te_json_string(const char **pp, struct te_str *out)
{
	const char *p = *pp;
	size_t cap = strlen(p) + 1, n = 0;
	char *o;

	if (*p != '"')
		return false;
	o = malloc(cap);
	assert_non_null(o);
	for (p++; *p != '"'; p++) {
		uint32_t cp;
		int k;

		if (*p == '\0' || (unsigned char)*p < 0x20)
			goto bad;
		if (*p != '\\') {
			o[n++] = *p;
			continue;
		}
		p++;
		switch (*p) {
		case '"':
		case '\\':
		case '/':
			o[n++] = *p;
			break;
		case 'b':
			o[n++] = '\b';
			break;
		case 'f':
			o[n++] = '\f';
			break;
		case 'n':
			o[n++] = '\n';
			break;
		case 'r':
			o[n++] = '\r';
			break;
		case 't':
			o[n++] = '\t';
			break;
		case 'u':
			cp = 0;
			for (k = 1; k <= 4; k++) {
				if (te_hex(p[k]) < 0)
					goto bad;
				cp = cp << 4 | (uint32_t)te_hex(p[k]);
			}
			p += 4;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				goto bad;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				uint32_t lo = 0;

				if (p[1] != '\\' || p[2] != 'u')
					goto bad;
				for (k = 3; k <= 6; k++) {
					if (te_hex(p[k]) < 0)
						goto bad;
					lo = lo << 4 | (uint32_t)te_hex(p[k]);
				}
				if (lo < 0xDC00 || lo > 0xDFFF)
					goto bad;
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			}
			n += te_utf8(cp, o + n);
			break;
		default:
			goto bad;
		}
	}
	o[n] = '\0';
	out->p = o;
	out->len = n;
	*pp = p + 1;
	return true;
bad:
	free(o);
	return false;
}

/* The fields of one terminal case. */
struct te_case {
	struct te_str id, field, input, terminal, line;
};

static void te_case_free(struct te_case *c)
{
	free(c->id.p);
	free(c->field.p);
	free(c->input.p);
	free(c->terminal.p);
	free(c->line.p);
}

static void te_skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

/* One flat JSON object whose values are strings, true, false or null. */
static void te_parse_case(const char *line, struct te_case *c)
{
	const char *p = line;

	memset(c, 0, sizeof(*c));
	te_skip_ws(&p);
	assert_int_equal(*p, '{');
	p++;
	for (;;) {
		struct te_str key, val = {NULL, 0};
		struct te_str *dst = NULL;

		te_skip_ws(&p);
		assert_true(te_json_string(&p, &key));
		te_skip_ws(&p);
		assert_int_equal(*p, ':');
		p++;
		te_skip_ws(&p);
		if (*p == '"') {
			assert_true(te_json_string(&p, &val));
		} else if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0) {
			p += 4;
		} else {
			assert_int_equal(strncmp(p, "false", 5), 0);
			p += 5;
		}
		if (strcmp(key.p, "id") == 0)
			dst = &c->id;
		else if (strcmp(key.p, "field") == 0)
			dst = &c->field;
		else if (strcmp(key.p, "input") == 0)
			dst = &c->input;
		else if (strcmp(key.p, "expected_terminal") == 0)
			dst = &c->terminal;
		else if (strcmp(key.p, "expected_line") == 0)
			dst = &c->line;
		if (dst) {
			assert_non_null(val.p);
			assert_null(dst->p);
			*dst = val;
		} else {
			free(val.p);
		}
		free(key.p);
		te_skip_ws(&p);
		if (*p == '}')
			break;
		assert_int_equal(*p, ',');
		p++;
	}
	assert_non_null(c->id.p);
	assert_non_null(c->field.p);
	assert_non_null(c->input.p);
	assert_non_null(c->terminal.p);
	assert_non_null(c->line.p);
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

/* ---------------------------------------------------------------- the vectors */

static void test_terminal_vectors(void **state)
{
	FILE *f = fopen(TERM_CASES, "r");
	char *line = NULL;
	size_t cap = 0, cases = 0, bodies = 0, idents = 0;

	(void)state;
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		struct te_case c;

		te_parse_case(line, &c);
		if (strcmp(c.field.p, "body") == 0) {
			te_expect(&c.input, XU_ESC_TERMINAL, c.terminal.p, c.id.p);
			te_expect(&c.input, XU_ESC_LINE, c.line.p, c.id.p);
			bodies++;
		} else if (strcmp(c.field.p, "nick") == 0 ||
		           strcmp(c.field.p, "roster-name") == 0) {
			te_expect(&c.input, XU_ESC_IDENT, c.terminal.p, c.id.p);
			te_expect(&c.input, XU_ESC_IDENT, c.line.p, c.id.p);
			idents++;
		} else {
			/* status, subject, error-text: one-line fields, printed in line mode. */
			assert_true(strcmp(c.field.p, "status") == 0 ||
			            strcmp(c.field.p, "subject") == 0 ||
			            strcmp(c.field.p, "error-text") == 0);
			te_expect(&c.input, XU_ESC_LINE, c.terminal.p, c.id.p);
			te_expect(&c.input, XU_ESC_LINE, c.line.p, c.id.p);
			idents++;
		}
		te_case_free(&c);
		cases++;
	}
	free(line);
	fclose(f);
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
		struct te_str in = {(char *)r->in, r->len ? r->len : strlen(r->in)};
		char id[16];

		snprintf(id, sizeof(id), "row %zu", i);
		te_expect(&in, XU_ESC_LINE, r->line, id);
		te_expect(&in, XU_ESC_TERMINAL, r->terminal, id);
		te_expect(&in, XU_ESC_IDENT, r->ident, id);
	}
}

/* ---------------------------------------------------------------- properties */

/* Undo xu_escape; TERMINAL's indent after LF is removed. False on a malformed escape. */
static bool te_unescape(const char *s, size_t len, enum xu_esc_mode mode, struct te_str *out)
{
	size_t i = 0, n = 0;
	char *o = malloc(len + 1);

	assert_non_null(o);
	while (i < len) {
		if (s[i] == '\n') {
			if (mode != XU_ESC_TERMINAL || len - i < 5 || memcmp(s + i + 1, "    ", 4))
				goto bad;
			o[n++] = '\n';
			i += 5;
			continue;
		}
		if (s[i] != '\\') {
			o[n++] = s[i++];
			continue;
		}
		if (i + 1 >= len)
			goto bad;
		switch (s[i + 1]) {
		case '\\':
			o[n++] = '\\';
			i += 2;
			break;
		case 'n':
			o[n++] = '\n';
			i += 2;
			break;
		case 'r':
			o[n++] = '\r';
			i += 2;
			break;
		case 't':
			o[n++] = '\t';
			i += 2;
			break;
		case 'x':
			if (i + 3 >= len || te_hex(s[i + 2]) < 0 || te_hex(s[i + 3]) < 0)
				goto bad;
			o[n++] = (char)(te_hex(s[i + 2]) << 4 | te_hex(s[i + 3]));
			i += 4;
			break;
		case 'u': {
			uint32_t cp = 0;

			if (i + 2 >= len || s[i + 2] != '{')
				goto bad;
			for (i += 3; i < len && s[i] != '}'; i++) {
				if (te_hex(s[i]) < 0)
					goto bad;
				cp = cp << 4 | (uint32_t)te_hex(s[i]);
			}
			if (i >= len)
				goto bad;
			i++;
			n += te_utf8(cp, o + n);
			break;
		}
		default:
			goto bad;
		}
	}
	o[n] = '\0';
	out->p = o;
	out->len = n;
	return true;
bad:
	free(o);
	return false;
}

static bool te_bidi(uint32_t cp)
{
	return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

/* What must never come out raw, whatever went in. */
static void te_check_safe(const char *s, size_t len, enum xu_esc_mode mode)
{
	size_t i = 0, l;
	uint32_t cp;

	while (i < len) {
		l = te_dec((const unsigned char *)s + i, len - i, &cp);
		assert_true(l > 0); /* the output is always valid UTF-8 */
		if (cp < 0x20) {
			assert_int_equal(mode, XU_ESC_TERMINAL);
			assert_true(cp == '\n' || cp == '\t');
		}
		assert_false(cp >= 0x7F && cp <= 0x9F);
		assert_false(te_bidi(cp));
		if (mode == XU_ESC_IDENT)
			assert_false((cp >= 0x200B && cp <= 0x200D) || cp == 0xFEFF || cp == 0xAD);
		i += l;
	}
}

static void te_roundtrip(const char *in, size_t len)
{
	static const enum xu_esc_mode modes[] = {XU_ESC_LINE, XU_ESC_TERMINAL, XU_ESC_IDENT};

	for (size_t m = 0; m < 3; m++) {
		char *out = NULL;
		struct te_str back = {NULL, 0};

		assert_int_equal(xu_escape(in, len, modes[m], &out), XU_OK);
		te_check_safe(out, strlen(out), modes[m]);
		assert_true(te_unescape(out, strlen(out), modes[m], &back));
		assert_int_equal(back.len, len);
		assert_memory_equal(back.p, in, len);
		free(back.p);
		free(out);
	}
}

/* Every code point, every byte value, and every vector: safe output that decodes back. */
static void test_escape_properties(void **state)
{
	size_t cap = 0x110000 * 4 + 512, n = 0, i;
	char *all = malloc(cap);
	FILE *f;
	char *line = NULL;
	size_t lcap = 0;

	(void)state;
	assert_non_null(all);
	for (uint32_t cp = 0; cp < 0x110000; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		n += te_utf8(cp, all + n);
	}
	for (i = 0; i < 256; i++)
		all[n++] = (char)i;
	te_roundtrip(all, n);

	for (i = 0; i < sizeof(te_rows) / sizeof(te_rows[0]); i++)
		te_roundtrip(te_rows[i].in,
		             te_rows[i].len ? te_rows[i].len : strlen(te_rows[i].in));
	f = fopen(TERM_CASES, "r");
	assert_non_null(f);
	while (getline(&line, &lcap, f) > 0) {
		struct te_case c;

		te_parse_case(line, &c);
		te_roundtrip(c.input.p, c.input.len);
		te_case_free(&c);
	}
	free(line);
	fclose(f);
	free(all);
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

/* A strict JSON parser reads the output back as the input (valid UTF-8 in). */
static void te_json_back(const char *in, size_t len)
{
	char *out = NULL, *quoted;
	const char *p;
	struct te_str back = {NULL, 0};
	size_t olen, i = 0, l;
	uint32_t cp;

	assert_int_equal(xu_json_escape(in, len, &out), XU_OK);
	olen = strlen(out);
	while (i < olen) {
		l = te_dec((const unsigned char *)out + i, olen - i, &cp);
		assert_true(l > 0);
		assert_true(cp >= 0x20);
		assert_false(cp >= 0x7F && cp <= 0x9F);
		assert_false(te_bidi(cp));
		i += l;
	}
	quoted = malloc(olen + 3);
	assert_non_null(quoted);
	quoted[0] = '"';
	memcpy(quoted + 1, out, olen);
	quoted[olen + 1] = '"';
	quoted[olen + 2] = '\0';
	p = quoted;
	assert_true(te_json_string(&p, &back));
	assert_int_equal(*p, '\0');
	assert_int_equal(back.len, len);
	assert_memory_equal(back.p, in, len);
	free(back.p);
	free(quoted);
	free(out);
}

static void test_json_parse_back(void **state)
{
	size_t n = 0, i;
	char *all = malloc(0x110000 * 4);
	FILE *f;
	char *line = NULL;
	size_t lcap = 0;

	(void)state;
	assert_non_null(all);
	for (uint32_t cp = 0; cp < 0x110000; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		n += te_utf8(cp, all + n);
	}
	te_json_back(all, n);
	free(all);
	for (i = 0; i < sizeof(te_json_rows) / sizeof(te_json_rows[0]); i++) {
		const char *in = te_json_rows[i].in;
		size_t len = te_json_rows[i].len ? te_json_rows[i].len : strlen(in);
		size_t j = 0, l;
		uint32_t cp;

		/* Only the valid UTF-8 rows come back unchanged. */
		while (j < len) {
			l = te_dec((const unsigned char *)in + j, len - j, &cp);
			if (!l)
				break;
			j += l;
		}
		if (j == len)
			te_json_back(in, len);
	}
	f = fopen(TERM_CASES, "r");
	assert_non_null(f);
	while (getline(&line, &lcap, f) > 0) {
		struct te_case c;

		te_parse_case(line, &c);
		te_json_back(c.input.p, c.input.len);
		te_case_free(&c);
	}
	free(line);
	fclose(f);
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
