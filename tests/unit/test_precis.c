/* test_precis.c: PRECIS UsernameCaseMapped / OpaqueString (RFC 8265) against precis_i18n tables. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PRECIS_DIR "tests/vectors/precis/"

/* One of the oracle's tables, whole (tu_next_line splits it), or a failed test. */
static char *tp_read(const char *name)
{
	char *text = tu_read_file(name, NULL);

	if (!text)
		fail_msg("cannot read %s (run from the repository root)", name);
	return text;
}

typedef enum xu_err (*tp_profile_fn)(const char *, size_t, char **, const char **);

/*
 * Check one profile on one input against the oracle's verdict: "-" refused, "=" accepted
 * unchanged, otherwise the hex of the expected output. Returns true when it agrees.
 */
static bool tp_check(tp_profile_fn fn, const char *name, const char *in, size_t len,
                     const char *expect)
{
	char *want, *out = NULL;
	const char *why = NULL;
	enum xu_err err;
	bool ok;
	size_t wn;

	err = fn(in, len, &out, &why);
	if (strcmp(expect, "-") == 0) {
		ok = err == XU_ERR_DATA && out == NULL && why != NULL;
	} else if (strcmp(expect, "=") == 0) {
		ok = err == XU_OK && out && strlen(out) == len && memcmp(out, in, len) == 0;
	} else {
		want = tu_unhex(expect, strlen(expect), &wn);
		assert_non_null(want);
		ok = err == XU_OK && out && strcmp(out, want) == 0;
		free(want);
	}
	if (!ok) {
		size_t i;

		print_message("%s mismatch: input", name);
		for (i = 0; i < len; i++)
			print_message(" %02x", (unsigned char)in[i]);
		print_message(": expected %s, got err %d (%s) out %s\n", expect, (int)err,
		              why ? why : "-", out ? out : "(null)");
	}
	free(out);
	return ok;
}

/* Every code point on its own, in both profiles: the derived property table (RFC 8264 §9),
 * width and case mapping and NFC of single characters. */
static void test_precis_codepoints(void **state)
{
	char *text = tp_read(PRECIS_DIR "codepoints.txt"), *cursor = text, *line;
	char u[256], o[256], s[8];
	unsigned first, last, cp;
	size_t bad = 0, checked = 0, n;

	(void)state;
	for (line = tu_next_line(&cursor); line; line = tu_next_line(&cursor)) {
		assert_int_equal(sscanf(line, "%x %x %255s %255s", &first, &last, u, o), 4);
		assert_true(first <= last && last <= 0x10FFFF);
		for (cp = first; cp <= last; cp++) {
			n = tu_utf8_put(cp, s);
			if (!tp_check(xu_precis_username, "UsernameCaseMapped", s, n, u))
				bad++;
			if (!tp_check(xu_precis_opaque, "OpaqueString", s, n, o))
				bad++;
			checked++;
		}
	}
	free(text);
	/* every code point except the 2048 surrogates */
	assert_int_equal(checked, 0x110000 - 0x800);
	assert_int_equal(bad, 0);
}

/* Hand-picked strings: context rules (RFC 5892 A), bidi rule, final sigma, spaces, NFC. */
static void test_precis_strings(void **state)
{
	char *text = tp_read(PRECIS_DIR "strings.txt"), *cursor = text, *line, *in;
	char hex[512], u[256], o[256];
	size_t bad = 0, checked = 0, n;

	(void)state;
	for (line = tu_next_line(&cursor); line; line = tu_next_line(&cursor)) {
		assert_int_equal(sscanf(line, "%511s %255s %255s", hex, u, o), 3);
		in = tu_unhex(hex, strlen(hex), &n);
		assert_non_null(in);
		if (!tp_check(xu_precis_username, "UsernameCaseMapped", in, n, u))
			bad++;
		if (!tp_check(xu_precis_opaque, "OpaqueString", in, n, o))
			bad++;
		free(in);
		checked++;
	}
	free(text);
	assert_true(checked > 50);
	assert_int_equal(bad, 0);
}

/* Inputs the oracle cannot express: bytes that are not UTF-8, embedded NUL, lengths. */
static void test_precis_bytes(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		enum xu_err err;
	} cases[] = {
	    {"", 0, XU_ERR_DATA},
	    {"\xC3", 1, XU_ERR_DATA},             /* truncated sequence */
	    {"\xC0\xAF", 2, XU_ERR_DATA},         /* overlong '/' */
	    {"\xED\xA0\x80", 3, XU_ERR_DATA},     /* surrogate */
	    {"\xF4\x90\x80\x80", 4, XU_ERR_DATA}, /* above U+10FFFF */
	    {"\xFF", 1, XU_ERR_DATA},
	    {"a\0b", 3, XU_ERR_DATA}, /* NUL is a control */
	    {"abc", 3, XU_OK},
	};
	size_t i;
	char *out;
	const char *why;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out = NULL;
		why = NULL;
		assert_int_equal(xu_precis_username(cases[i].in, cases[i].len, &out, &why),
		                 cases[i].err);
		assert_true(cases[i].err ? out == NULL && why != NULL : out != NULL);
		free(out);
		out = NULL;
		assert_int_equal(xu_precis_opaque(cases[i].in, cases[i].len, &out, &why),
		                 cases[i].err);
		free(out);
	}
}

/* Long inputs are prepared whole (no silent truncation) and mapped strings shrink. */
static void test_precis_long(void **state)
{
	size_t n = 3 * 2000, i;
	char *in = malloc(n + 1), *out = NULL;
	const char *why = NULL;

	(void)state;
	assert_non_null(in);
	for (i = 0; i < n; i += 3)
		memcpy(in + i, "\xEF\xBC\xA1", 3); /* FULLWIDTH LATIN CAPITAL LETTER A */
	in[n] = '\0';
	assert_int_equal(xu_precis_username(in, n, &out, &why), XU_OK);
	assert_int_equal(strlen(out), 2000);
	assert_true(out[0] == 'a' && out[1999] == 'a');
	free(out);
	out = NULL;
	/* OpaqueString does no width mapping */
	assert_int_equal(xu_precis_opaque(in, n, &out, &why), XU_OK);
	assert_int_equal(strlen(out), n);
	free(out);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_precis_codepoints),
	    cmocka_unit_test(test_precis_strings),
	    cmocka_unit_test(test_precis_bytes),
	    cmocka_unit_test(test_precis_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
