/* test_srv.c: SRV answer parsing and RFC 2782 / XEP-0368 ordering, on libstrophe's raw answers. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define DNS_DIR "tests/vectors/dns/"

/* ---------------------------------------------------------------- helpers */

static unsigned char *ts_read(const char *path, size_t *len)
{
	char *buf = tu_read_file(path, len);

	if (!buf)
		fail_msg("cannot read %s (run from the repository root)", path);
	return (unsigned char *)buf;
}

/* A deterministic rnd: xorshift32, reduced to [0, bound]. */
struct ts_rng {
	uint32_t s;
	unsigned calls;
};

static uint32_t ts_rnd(void *ctx, uint32_t bound)
{
	struct ts_rng *r = ctx;

	r->s ^= r->s << 13;
	r->s ^= r->s >> 17;
	r->s ^= r->s << 5;
	r->calls++;
	return (uint32_t)((uint64_t)r->s * ((uint64_t)bound + 1) >> 32);
}

static uint32_t ts_rnd_zero(void *ctx, uint32_t bound)
{
	(void)ctx;
	(void)bound;
	return 0;
}

static uint32_t ts_rnd_max(void *ctx, uint32_t bound)
{
	(void)ctx;
	return bound;
}

/* A misbehaving source must not push the choice out of the list. */
static uint32_t ts_rnd_huge(void *ctx, uint32_t bound)
{
	(void)ctx;
	(void)bound;
	return UINT32_MAX;
}

/* ---------------------------------------------------------------- libstrophe vectors */

static void test_libstrophe_vectors(void **state)
{
	struct tu_json all;
	const struct tu_json *cases;
	size_t k;

	(void)state;
	if (!tu_json_load(DNS_DIR "libstrophe-srv-cases.json", &all))
		fail_msg("cannot read libstrophe-srv-cases.json as JSON");
	cases = tu_json_get(&all, "cases");
	assert_non_null(cases);
	assert_int_equal(cases->type, TU_JSON_ARR);
	for (k = 0; k < cases->n; k++) {
		const struct tu_json *c = &cases->vals[k];
		const char *file = tu_json_str(c, "file");
		const char *target = tu_json_str(c, "expected_first_target_after_sort");
		char path[256];
		long want_len, want_port, want_count;
		unsigned char *msg;
		size_t len, n;
		struct xu_srv *r;
		bool none;
		const char *why;
		struct ts_rng rng = {2463534242u, 0};

		assert_non_null(file);
		assert_non_null(target);
		assert_true(tu_json_long(c, "len", &want_len));
		assert_true(tu_json_long(c, "expected_port", &want_port));
		assert_true(tu_json_long(c, "expected_record_count", &want_count));
		snprintf(path, sizeof(path), DNS_DIR "%s", file);
		msg = ts_read(path, &len);
		assert_int_equal(len, (size_t)want_len);

		assert_int_equal(xu_srv_parse(msg, len, false, &r, &n, &none, &why), XU_OK);
		if (target[0] == '\0') {
			/*
			 * libstrophe reports empty targets here; both are the root name, which
			 * RFC 2782 defines as "service not available": nothing to connect to.
			 */
			assert_int_equal(n, 0);
			assert_null(r);
			assert_true(none);
		} else {
			assert_int_equal(n, (size_t)want_count);
			assert_false(none);
			xu_srv_order(r, n, ts_rnd, &rng);
			assert_string_equal(r[0].target, target);
			assert_int_equal(r[0].port, want_port);
			for (size_t i = 0; i < n; i++) {
				assert_false(r[i].direct_tls);
				if (i)
					assert_true(r[i - 1].priority <= r[i].priority);
			}
		}
		xu_srv_free(r, n);
		free(msg);
	}
	assert_int_equal(cases->n, 6);
	tu_json_free(&all);
}

/* data5 carries pointers inside the targets: check every record, not only the first. */
static void test_compressed_targets(void **state)
{
	size_t len, n;
	unsigned char *msg = ts_read(DNS_DIR "libstrophe-srv-data5.bin", &len);
	struct xu_srv *r;
	bool none;
	const char *why;

	(void)state;
	assert_int_equal(xu_srv_parse(msg, len, true, &r, &n, &none, &why), XU_OK);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].target, "hermes2v6.jabber.org");
	assert_int_equal(r[0].priority, 31);
	assert_int_equal(r[0].weight, 30);
	assert_int_equal(r[0].port, 5222);
	assert_true(r[0].direct_tls);
	assert_string_equal(r[1].target, "hermes2.jabber.org");
	assert_int_equal(r[1].priority, 30);
	xu_srv_free(r, n);
	free(msg);
}

/* Every cut of a valid answer is malformed; with TC set, the complete records survive. */
static void test_truncated(void **state)
{
	size_t len, cut, n;
	unsigned char *msg = ts_read(DNS_DIR "libstrophe-srv-data2.bin", &len);
	struct xu_srv *r;
	bool none;
	const char *why;

	(void)state;
	for (cut = 0; cut < len; cut++) {
		unsigned char *copy = malloc(cut ? cut : 1);

		assert_non_null(copy);
		memcpy(copy, msg, cut);
		assert_int_equal(xu_srv_parse(copy, cut, false, &r, &n, &none, &why), XU_ERR_PROTO);
		assert_null(r);
		assert_int_equal(n, 0);
		assert_true(why[0] != '\0');
		if (cut >= 12) {
			copy[2] |= 0x02; /* TC */
			assert_int_equal(xu_srv_parse(copy, cut, false, &r, &n, &none, &why),
			                 XU_OK);
			/* The first record ends at 0x54, the second at the very end. */
			assert_int_equal(n, cut >= 0x54 ? 1 : 0);
			if (n)
				assert_string_equal(r[0].target, "hermes2.jabber.org");
			xu_srv_free(r, n);
		}
		free(copy);
	}
	free(msg);
}

/* ---------------------------------------------------------------- hand-made answers */

/* QR, RD and RA set: an ordinary answer from a recursive resolver. */
#define TS_RESP 0x8180

struct ts_msg {
	unsigned char b[70000];
	size_t len;
};

static void ts_put(struct ts_msg *m, const void *p, size_t n)
{
	assert_true(m->len + n <= sizeof(m->b));
	memcpy(m->b + m->len, p, n);
	m->len += n;
}

static void ts_u16(struct ts_msg *m, unsigned v)
{
	unsigned char t[2] = {(unsigned char)(v >> 8), (unsigned char)v};

	ts_put(m, t, 2);
}

/* Dotted name, uncompressed ("" = root). */
static void ts_name(struct ts_msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		unsigned char c = (unsigned char)l;

		ts_put(m, &c, 1);
		ts_put(m, name, l);
		name += l + (dot ? 1 : 0);
	}
	ts_put(m, "", 1);
}

/* Header with one question _xmpp-client._tcp.example.test (ends at offset 47). */
static void ts_start(struct ts_msg *m, unsigned flags, unsigned ancount)
{
	m->len = 0;
	ts_u16(m, 0x1234);
	ts_u16(m, flags);
	ts_u16(m, 1);
	ts_u16(m, ancount);
	ts_u16(m, 0);
	ts_u16(m, 0);
	ts_name(m, "_xmpp-client._tcp.example.test");
	ts_u16(m, 33);
	ts_u16(m, 1);
}

/* A record's fixed part, owned by the question name (pointer to offset 12), TTL 300. */
static void ts_rr(struct ts_msg *m, unsigned type, unsigned cls, unsigned rdlen)
{
	ts_u16(m, 0xC00C);
	ts_u16(m, type);
	ts_u16(m, cls);
	ts_u16(m, 0);
	ts_u16(m, 300);
	ts_u16(m, rdlen);
}

/* An SRV answer, target uncompressed. */
static void ts_srv(struct ts_msg *m, unsigned type, unsigned cls, unsigned prio, unsigned weight,
                   unsigned port, const char *target)
{
	struct ts_msg t;

	t.len = 0;
	ts_name(&t, target);
	ts_rr(m, type, cls, 6 + (unsigned)t.len);
	ts_u16(m, prio);
	ts_u16(m, weight);
	ts_u16(m, port);
	ts_put(m, t.b, t.len);
}

/* SRV answer header up to and including priority/weight/port, rdata length given. */
static void ts_srv_head(struct ts_msg *m, unsigned rdlen)
{
	ts_rr(m, 33, 1, rdlen);
	ts_u16(m, 0);
	ts_u16(m, 0);
	ts_u16(m, 5222);
}

/* The hand-made answers' buffer, too large for the stack: a cmocka fixture. */
static int ts_msg_new(void **state)
{
	*state = malloc(sizeof(struct ts_msg));
	return *state ? 0 : -1;
}

static int ts_msg_free(void **state)
{
	free(*state);
	return 0;
}

/* Parse m (no direct TLS), which must succeed: the record count, with *r and *none set. */
static size_t ts_parse_ok(const struct ts_msg *m, struct xu_srv **r, bool *none)
{
	const char *why = NULL;
	size_t n = 0;

	assert_int_equal(xu_srv_parse(m->b, m->len, false, r, &n, none, &why), XU_OK);
	return n;
}

/* A host name of len characters: c, with a dot after every 63 (the last label shorter). */
static void ts_dotted(char *name, size_t len, char c)
{
	size_t i;

	for (i = 0; i < len; i++)
		name[i] = (i % 64 == 63) ? '.' : c;
	name[len] = 0;
}

/* One SRV answer whose target is such a name. */
static void ts_long_target(struct ts_msg *m, size_t len, char c)
{
	char name[400];

	assert_true(len < sizeof(name));
	ts_dotted(name, len, c);
	ts_start(m, TS_RESP, 1);
	ts_srv(m, 33, 1, 0, 0, 5222, name);
}

static void test_dot_target(void **state)
{
	struct ts_msg *m = *state;
	struct xu_srv *r;
	size_t n;
	bool none;

	ts_start(m, TS_RESP, 1);
	ts_srv(m, 33, 1, 0, 0, 0, "");
	assert_int_equal(ts_parse_ok(m, &r, &none), 0);
	assert_null(r);
	assert_true(none);

	/* A "." next to a real target: the real one is used, the service is available. */
	ts_start(m, TS_RESP, 2);
	ts_srv(m, 33, 1, 0, 0, 0, "");
	ts_srv(m, 33, 1, 5, 0, 5223, "xmpp.example.test");
	n = ts_parse_ok(m, &r, &none);
	assert_int_equal(n, 1);
	assert_false(none);
	assert_string_equal(r[0].target, "xmpp.example.test");
	assert_int_equal(r[0].port, 5223);
	xu_srv_free(r, n);

	/* No answers, and NXDOMAIN: no records, but not "not available". */
	ts_start(m, TS_RESP, 0);
	assert_int_equal(ts_parse_ok(m, &r, &none), 0);
	assert_false(none);
	ts_start(m, TS_RESP | 3, 1);
	ts_srv(m, 33, 1, 0, 0, 0, "");
	assert_int_equal(ts_parse_ok(m, &r, &none), 0);
	assert_false(none);
}

/* Other types and classes are skipped; the SRV beside them is kept. */
static void test_other_records(void **state)
{
	struct ts_msg *m = *state;
	struct xu_srv *r;
	size_t n;
	bool none;

	ts_start(m, TS_RESP, 4);
	/* CNAME-shaped record (type 5) with an arbitrary name as rdata. */
	ts_srv(m, 5, 1, 1, 2, 3, "alias.example.test");
	ts_srv(m, 33, 3, 0, 0, 5222, "chaos.example.test"); /* class CH */
	ts_srv(m, 33, 1, 0, 0, 0, "port-zero.example.test");
	ts_srv(m, 33, 1, 7, 9, 5222, "Xmpp_1.Example.test");
	n = ts_parse_ok(m, &r, &none);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].target, "Xmpp_1.Example.test");
	assert_int_equal(r[0].priority, 7);
	assert_int_equal(r[0].weight, 9);
	xu_srv_free(r, n);
}

struct ts_bad {
	const char *name;
	void (*build)(struct ts_msg *m);
	const char *why; /* part of the message expected */
};

static void tb_short(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 0);
	m->len = 11;
}

static void tb_query(struct ts_msg *m)
{
	ts_start(m, 0x0100, 1);
	ts_srv(m, 33, 1, 0, 0, 5222, "a.example.test");
}

static void tb_opcode(struct ts_msg *m)
{
	ts_start(m, TS_RESP | 0x2000, 1); /* opcode 4, NOTIFY */
	ts_srv(m, 33, 1, 0, 0, 5222, "a.example.test");
}

/* Owner name is a pointer to itself. */
static void tb_self_loop(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_u16(m, 0xC000 | (unsigned)m->len);
}

/* Two pointers pointing at each other, in the SRV target. */
static void tb_mutual_loop(struct ts_msg *m)
{
	size_t at;

	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6 + 4);
	at = m->len;
	ts_u16(m, 0xC000 | (unsigned)(at + 2));
	ts_u16(m, 0xC000 | (unsigned)at);
}

/* A label followed by a pointer back to that label: a backwards loop. */
static void tb_label_loop(struct ts_msg *m)
{
	size_t at;

	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6 + 4);
	at = m->len;
	ts_put(m, "\001a", 2);
	ts_u16(m, 0xC000 | (unsigned)at);
}

static void tb_ptr_out_of_range(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6 + 2);
	ts_u16(m, 0xC000 | 0x3FFF);
}

static void tb_ptr_forward(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6 + 2);
	ts_u16(m, 0xC000 | (unsigned)(m->len + 2));
	ts_put(m, "\001a", 3);
}

static void tb_ptr_header(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6 + 2);
	ts_u16(m, 0xC004);
}

static void tb_ptr_cut(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6 + 1);
	ts_put(m, "\xC0", 1);
}

static void tb_reserved_label(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6 + 3);
	ts_put(m, "\x41xx", 3); /* 01 prefix: the obsolete extended label type */
}

/* 5 x 63-octet labels: 321 octets on the wire, over 255. */
static void tb_long_name(struct ts_msg *m)
{
	ts_long_target(m, 5 * 64 - 1, 'a');
}

/* 4 x 63-octet labels: 257 octets, just over the limit. */
static void tb_long_name_257(struct ts_msg *m)
{
	ts_long_target(m, 4 * 64 - 1, 'b');
}

/* 63+63+63+62 octet labels: 256 octets with the root, one over. */
static void tb_long_name_256(struct ts_msg *m)
{
	ts_long_target(m, 254, 'd');
}

/* Each pointer points at the one before it: strictly backwards, but 70 hops. */
static void tb_ptr_chain(struct ts_msg *m)
{
	size_t first;
	unsigned i;

	/* A TXT record holds the chain; the SRV target points at its last link. */
	ts_start(m, TS_RESP, 2);
	ts_rr(m, 16, 1, 1 + 70 * 2);
	first = m->len;
	ts_put(m, "", 1);
	for (i = 0; i < 70; i++)
		ts_u16(m, 0xC000 | (unsigned)(first + (i ? 1 + 2 * (i - 1) : 0)));
	ts_srv_head(m, 6 + 2);
	ts_u16(m, 0xC000 | (unsigned)(first + 1 + 2 * 69));
}

static void tb_bad_byte(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_srv(m, 33, 1, 0, 0, 5222, "evil host.example.test");
}

static void tb_nul_byte(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6 + 5);
	ts_put(m, "\003a\000b", 5);
}

static void tb_rdata_long(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6 + 4);
	ts_put(m, "\001a\000", 3);
	ts_put(m, "x", 1);
}

static void tb_rdata_short(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6 + 2);
	ts_put(m, "\001a\000", 3);
}

static void tb_rdata_tiny(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 1);
	ts_srv_head(m, 6);
}

static void tb_count_lies(struct ts_msg *m)
{
	ts_start(m, TS_RESP, 3);
	ts_srv(m, 33, 1, 0, 0, 5222, "a.example.test");
}

static void tb_too_many(struct ts_msg *m)
{
	unsigned i;

	ts_start(m, TS_RESP, 257);
	for (i = 0; i < 257; i++)
		ts_srv(m, 33, 1, 0, 0, 5222, "a.example.test");
}

static const struct ts_bad ts_bads[] = {
    {"shorter than header", tb_short, "shorter than its header"},
    {"a query, not a response", tb_query, "not a response"},
    {"opcode NOTIFY", tb_opcode, "standard query"},
    {"pointer to itself", tb_self_loop, "point back"},
    {"two pointers in a loop", tb_mutual_loop, "point back"},
    {"label then pointer back to it", tb_label_loop, "point back"},
    {"pointer past the end", tb_ptr_out_of_range, "point back"},
    {"pointer forward", tb_ptr_forward, "point back"},
    {"pointer into the header", tb_ptr_header, "point back"},
    {"pointer cut in half", tb_ptr_cut, "past the end"},
    {"reserved label type", tb_reserved_label, "reserved label"},
    {"name over 255 octets", tb_long_name, "255 octets"},
    {"name of 257 octets", tb_long_name_257, "255 octets"},
    {"name of 256 octets", tb_long_name_256, "255 octets"},
    {"pointer chain of 70 hops", tb_ptr_chain, "too many compression"},
    {"space in target", tb_bad_byte, "not a host name"},
    {"NUL in target", tb_nul_byte, "not a host name"},
    {"rdata longer than target", tb_rdata_long, "does not fill"},
    {"rdata shorter than target", tb_rdata_short, "does not fill"},
    {"rdata without target", tb_rdata_tiny, "too short"},
    {"answer count larger than answers", tb_count_lies, "truncated"},
    {"257 records", tb_too_many, "too many SRV"},
};

static void test_malformed(void **state)
{
	struct ts_msg *m = *state;
	size_t i;

	for (i = 0; i < sizeof(ts_bads) / sizeof(ts_bads[0]); i++) {
		struct xu_srv *r = (struct xu_srv *)m;
		size_t n = 99;
		bool none = true;
		const char *why = NULL;
		enum xu_err err;

		ts_bads[i].build(m);
		err = xu_srv_parse(m->b, m->len, false, &r, &n, &none, &why);
		if (err != XU_ERR_PROTO)
			print_error("case '%s': got %d\n", ts_bads[i].name, err);
		assert_int_equal(err, XU_ERR_PROTO);
		assert_null(r);
		assert_int_equal(n, 0);
		assert_false(none);
		assert_non_null(why);
		if (!strstr(why, ts_bads[i].why))
			print_error("case '%s': why '%s'\n", ts_bads[i].name, why);
		assert_non_null(strstr(why, ts_bads[i].why));
	}
}

/* The limits themselves are accepted: 253-character name, 256 records. */
static void test_limits_ok(void **state)
{
	struct ts_msg *m = *state;
	char name[300];
	struct xu_srv *r;
	size_t n, i;
	bool none;

	/* 63+1+63+1+63+1+61 = 253 characters, 255 octets on the wire. */
	ts_dotted(name, 253, 'c');
	ts_start(m, TS_RESP, 1);
	ts_srv(m, 33, 1, 0, 0, 5222, name);
	n = ts_parse_ok(m, &r, &none);
	assert_int_equal(n, 1);
	assert_string_equal(r[0].target, name);
	xu_srv_free(r, n);

	ts_start(m, TS_RESP, 256);
	for (i = 0; i < 256; i++)
		ts_srv(m, 33, 1, (unsigned)(255 - i), (unsigned)i, 5222, "a.example.test");
	n = ts_parse_ok(m, &r, &none);
	assert_int_equal(n, 256);
	xu_srv_order(r, n, ts_rnd_zero, NULL);
	for (i = 0; i < n; i++)
		assert_int_equal(r[i].priority, i);
	xu_srv_free(r, n);
}

/* ---------------------------------------------------------------- ordering */

static void ts_set(struct xu_srv *r, const char *t, unsigned prio, unsigned w, bool tls)
{
	r->target = strdup(t);
	assert_non_null(r->target);
	r->port = 5222;
	r->priority = (uint16_t)prio;
	r->weight = (uint16_t)w;
	r->direct_tls = tls;
}

static void ts_clear(struct xu_srv *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].target);
}

static void test_priority_order(void **state)
{
	struct xu_srv r[6];
	const char *want[] = {"p1", "p5a", "p5b", "p10", "p20", "p65535"};

	(void)state;
	ts_set(&r[0], "p20", 20, 0, false);
	ts_set(&r[1], "p5a", 5, 0, false);
	ts_set(&r[2], "p65535", 65535, 0, false);
	ts_set(&r[3], "p10", 10, 0, false);
	ts_set(&r[4], "p5b", 5, 0, false);
	ts_set(&r[5], "p1", 1, 0, false);
	/* All weights 0: within a priority the order is kept (stable). */
	xu_srv_order(r, 6, ts_rnd_zero, NULL);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(r[i].target, want[i]);
	ts_clear(r, 6);
}

/* With the draw fixed, RFC 2782's running-sum rule picks predictably. */
static void test_weight_rule(void **state)
{
	struct xu_srv r[3];

	(void)state;
	/* Listed w10, w0, w30: weight 0 moves to the front. Draw 0 -> the weight-0 record. */
	ts_set(&r[0], "w10", 1, 10, false);
	ts_set(&r[1], "w0", 1, 0, false);
	ts_set(&r[2], "w30", 1, 30, false);
	xu_srv_order(r, 3, ts_rnd_zero, NULL);
	assert_string_equal(r[0].target, "w0");
	assert_string_equal(r[1].target, "w10");
	assert_string_equal(r[2].target, "w30");
	/* Draw = sum: the last record with weight goes first, then again the last. */
	xu_srv_order(r, 3, ts_rnd_max, NULL);
	assert_string_equal(r[0].target, "w30");
	assert_string_equal(r[1].target, "w10");
	assert_string_equal(r[2].target, "w0");
	/* Out of range is taken as the sum: now listed w0, w30, w10, so w10 comes first. */
	xu_srv_order(r, 3, ts_rnd_huge, NULL);
	assert_string_equal(r[0].target, "w10");
	assert_string_equal(r[1].target, "w30");
	assert_string_equal(r[2].target, "w0");
	ts_clear(r, 3);
}

/* In how many of `runs` orderings of two records, weights w0 and w1 in that order, the second
 * one comes out first. */
static unsigned ts_second_first(unsigned w0, unsigned w1, struct ts_rng *rng, unsigned runs)
{
	unsigned n = 0, i;

	for (i = 0; i < runs; i++) {
		struct xu_srv r[2];

		ts_set(&r[0], "listed-first", 0, w0, false);
		ts_set(&r[1], "listed-second", 0, w1, false);
		xu_srv_order(r, 2, ts_rnd, rng);
		if (strcmp(r[0].target, "listed-second") == 0)
			n++;
		ts_clear(r, 2);
	}
	return n;
}

/* RFC 2782: a weight-0 record is chosen first with probability 1/(sum+1). */
static void test_weight_distribution(void **state)
{
	struct ts_rng rng = {0x9E3779B9u, 0};
	unsigned first_zero, first_w30, runs = 11000;

	(void)state;
	/* Weight 10 listed first, so the weight-0 rule has to act. Expected 1000 (1/11); the
	 * seeded generator is deterministic, the band is 4 sigma. */
	first_zero = ts_second_first(10, 0, &rng, runs);
	assert_true(first_zero >= 870 && first_zero <= 1130);
	/* 10 vs 30: the first is picked when the draw is in [0, 10]: 11/41, the second 30/41. */
	first_w30 = ts_second_first(10, 30, &rng, runs);
	assert_true(runs - first_w30 >= 2770 && runs - first_w30 <= 3130);
}

static void test_order_deterministic(void **state)
{
	struct xu_srv a[5], b[5];
	const char *names[] = {"a", "b", "c", "d", "e"};
	const unsigned w[] = {5, 0, 60, 20, 15};
	struct ts_rng r1 = {12345, 0}, r2 = {12345, 0};

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		ts_set(&a[i], names[i], 3, w[i], false);
		ts_set(&b[i], names[i], 3, w[i], false);
	}
	xu_srv_order(a, 5, ts_rnd, &r1);
	xu_srv_order(b, 5, ts_rnd, &r2);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(a[i].target, b[i].target);
	/* One draw per choice that is still open: 4 for 5 records. */
	assert_int_equal(r1.calls, 4);
	ts_clear(a, 5);
	ts_clear(b, 5);
}

/* XEP-0368: one set; equal priority prefers direct TLS; priority still rules. */
static void test_merge(void **state)
{
	struct xu_srv r[5];
	struct ts_rng rng = {777, 0};

	(void)state;
	/* Either list may come first: the result is the same. */
	for (int pass = 0; pass < 2; pass++) {
		size_t t = pass ? 0 : 3, p = pass ? 2 : 0;

		ts_set(&r[t], "tls-p10", 10, 50, true);
		ts_set(&r[t + 1], "tls-p20", 20, 0, true);
		ts_set(&r[p], "plain-p5", 5, 0, false);
		ts_set(&r[p + 1], "plain-p10", 10, 50, false);
		ts_set(&r[p + 2], "plain-p20", 20, 100, false);
		xu_srv_order(r, 5, ts_rnd, &rng);
		assert_string_equal(r[0].target, "plain-p5");
		assert_string_equal(r[1].target, "tls-p10");
		assert_true(r[1].direct_tls);
		assert_string_equal(r[2].target, "plain-p10");
		assert_false(r[2].direct_tls);
		assert_string_equal(r[3].target, "tls-p20");
		assert_string_equal(r[4].target, "plain-p20");
		ts_clear(r, 5);
	}
}

/* ---------------------------------------------------------------- lookup */

/* Names that must never be queried come back empty at once (no DNS in unit tests). */
static void test_lookup_no_query(void **state)
{
	static const char *const names[] = {
	    "localhost", "LocalHost.", "xmpp.localhost", "127.0.0.1", "10.0.0.1.", "127.1",
	    "[::1]",     "::1",        "fe80::1%lo",     "",          ".",         "a..b",
	    "-x y",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct xu_srv *r = (struct xu_srv *)names;
		size_t n = 7;
		bool none = true;

		assert_int_equal(xu_srv_lookup(names[i], 1000, &r, &n, &none), XU_OK);
		assert_null(r);
		assert_int_equal(n, 0);
		assert_false(none);
	}
	xu_srv_free(NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_libstrophe_vectors),
	    cmocka_unit_test(test_compressed_targets),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test_setup_teardown(test_dot_target, ts_msg_new, ts_msg_free),
	    cmocka_unit_test_setup_teardown(test_other_records, ts_msg_new, ts_msg_free),
	    cmocka_unit_test_setup_teardown(test_malformed, ts_msg_new, ts_msg_free),
	    cmocka_unit_test_setup_teardown(test_limits_ok, ts_msg_new, ts_msg_free),
	    cmocka_unit_test(test_priority_order),
	    cmocka_unit_test(test_weight_rule),
	    cmocka_unit_test(test_weight_distribution),
	    cmocka_unit_test(test_order_deterministic),
	    cmocka_unit_test(test_merge),
	    cmocka_unit_test(test_lookup_no_query),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
