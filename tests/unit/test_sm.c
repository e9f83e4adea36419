/* test_sm.c: XEP-0198 §4 ack arithmetic (lib/sm.c): counts modulo 2^32, and every h a server may
 * not send (tests/vectors/xml cases j02-j05, j07). */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static uint64_t ack_ok(uint64_t sent, uint64_t confirmed, const char *h)
{
	const char *why = NULL;
	uint64_t now = UINT64_MAX;

	assert_int_equal(xu_sm_ack(sent, confirmed, h, &now, &why), XU_OK);
	return now;
}

static void ack_bad(uint64_t sent, uint64_t confirmed, const char *h)
{
	const char *why = NULL;
	uint64_t now = 7;

	if (xu_sm_ack(sent, confirmed, h, &now, &why) != XU_ERR_PROTO)
		fail_msg("h='%s' after %llu sent accepted", h ? h : "(none)",
		         (unsigned long long)sent);
	assert_non_null(why);
	assert_int_equal(now, 7);
}

static void test_counts(void **state)
{
	(void)state;
	assert_int_equal(ack_ok(3, 0, "0"), 0);
	assert_int_equal(ack_ok(3, 0, "2"), 2);
	assert_int_equal(ack_ok(3, 2, "3"), 3);
	assert_int_equal(ack_ok(3, 3, "3"), 3);
	ack_bad(3, 0, "4");
	ack_bad(3, 0, "1000"); /* j02 */
	ack_bad(3, 2, "1");    /* backwards */
}

/* j07: the 2^32nd stanza is h=0 again. */
static void test_wraparound(void **state)
{
	const uint64_t wrap = (uint64_t)UINT32_MAX + 1;

	(void)state;
	assert_int_equal(ack_ok(UINT32_MAX, UINT32_MAX - 5, "4294967295"), UINT32_MAX);
	assert_int_equal(ack_ok(wrap, UINT32_MAX, "0"), wrap);
	assert_int_equal(ack_ok(wrap + 10, UINT32_MAX, "4"), wrap + 4);
	assert_int_equal(ack_ok(wrap + 10, wrap + 4, "10"), wrap + 10);
	ack_bad(wrap + 10, wrap + 4, "3");
	ack_bad(wrap + 10, wrap + 4, "11");
	ack_bad(wrap + 10, wrap + 4, "4294967295");
	/* A stream past 2^33 stanzas still compares modulo 2^32. */
	assert_int_equal(ack_ok(3 * wrap + 2, 3 * wrap - 1, "1"), 3 * wrap + 1);
}

static void test_not_unsigned_int(void **state)
{
	static const char *const bad[] = {
	    "-1", "4294967296", "abc", "", " 1", "+1", "1 ", "0x1", "18446744073709551616", "1e3"};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ack_bad(5, 0, bad[i]);
	ack_bad(5, 0, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_wraparound),
	    cmocka_unit_test(test_not_unsigned_int),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
