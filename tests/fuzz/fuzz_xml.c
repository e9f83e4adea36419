/* fuzz_xml.c: libFuzzer target for the XMPP stream parser and stanza serialisation (RFC 6120 §4,
 * §11): the same events however the bytes are chunked, round trips, xu_stanza_parse_list. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_run {
	size_t opens, stanzas, closes;
	uint64_t digest;
	const struct xu_xml_limits *lim;
};

static void fuzz_digest(struct fuzz_run *r, char kind, const char *s, size_t n)
{
	size_t i;

	r->digest = (r->digest ^ (unsigned char)kind) * 0x100000001b3ULL;
	for (i = 0; i < n; i++)
		r->digest = (r->digest ^ (unsigned char)s[i]) * 0x100000001b3ULL;
}

/*
 * A parsed stanza must serialise, parse back to an equal tree and serialise to the same
 * bytes. The reparse gets room to spare: standalone, an element may need namespace
 * declarations its ancestors carried before (more bytes, more attributes).
 */
static void fuzz_round_trip(const struct xu_stanza *st, const struct xu_xml_limits *lim)
{
	struct xu_xml_limits big = {SIZE_MAX / 2, lim->max_depth, lim->max_attrs * 2 + 2};
	struct xu_stanza *back = NULL, *cp;
	char *s1 = NULL, *s2 = NULL;
	size_t n1, n2;
	enum xu_err err;

	err = xu_stanza_to_xml(st, &s1, &n1);
	if (err == XU_ERR_NOMEM)
		return;
	if (err != XU_OK)
		abort();
	err = tu_stanza_reparse(s1, n1, &big, &back);
	if (err == XU_ERR_NOMEM)
		goto out;
	if (err != XU_OK || !tu_stanza_equal(st, back))
		abort();
	if (xu_stanza_to_xml(back, &s2, &n2) == XU_OK && (n1 != n2 || memcmp(s1, s2, n1) != 0))
		abort();
	cp = xu_stanza_copy(st);
	if (cp && !tu_stanza_equal(st, cp))
		abort();
	xu_stanza_free(cp);
out:
	xu_stanza_free(back);
	free(s1);
	free(s2);
}

static enum xu_err fuzz_open(void *ctx, const struct xu_stanza *hdr)
{
	struct fuzz_run *r = ctx;

	r->opens++;
	fuzz_digest(r, 'O', xu_stanza_name(hdr), strlen(xu_stanza_name(hdr)));
	return XU_OK;
}

static enum xu_err fuzz_stanza(void *ctx, struct xu_stanza *st)
{
	struct fuzz_run *r = ctx;
	char *s;
	size_t n;

	r->stanzas++;
	if (xu_stanza_to_xml(st, &s, &n) == XU_OK) {
		fuzz_digest(r, 'S', s, n);
		free(s);
	}
	fuzz_round_trip(st, r->lim);
	xu_stanza_free(st);
	return XU_OK;
}

static enum xu_err fuzz_close(void *ctx)
{
	struct fuzz_run *r = ctx;

	r->closes++;
	fuzz_digest(r, 'C', "", 0);
	return XU_OK;
}

/* The next chunk length: 1 to 2^k bytes, k from the schedule (xorshift, seeded by the input),
 * so runs of single bytes and large pieces both occur. */
static size_t fuzz_chunk(uint32_t *seed, size_t left)
{
	size_t len;

	*seed ^= *seed << 13;
	*seed ^= *seed >> 17;
	*seed ^= *seed << 5;
	len = 1 + ((*seed >> 4) & ((1u << (*seed & 0xF)) - 1));
	return len < left ? len : left;
}

/* Feed the stream (after the fixed header unless raw): whole when seed is 0, else in chunks of
 * random length; returns the parser's verdict and fills *r. */
static enum xu_err fuzz_stream(const char *p, size_t n, uint32_t seed, bool raw,
                               const struct xu_xml_limits *lim, struct fuzz_run *r,
                               const char **cond)
{
	struct xu_xml_handlers h = {0};
	struct xu_xml *x;
	enum xu_err err;
	size_t off = 0, len;

	memset(r, 0, sizeof(*r));
	r->lim = lim;
	h.ctx = r;
	h.open = fuzz_open;
	h.stanza = fuzz_stanza;
	h.close = fuzz_close;
	if (xu_xml_new(&h, lim, &x) != XU_OK)
		return XU_ERR_NOMEM;
	err = raw ? XU_OK : xu_xml_feed(x, TU_STREAM_HDR, strlen(TU_STREAM_HDR));
	while (!err && off < n) {
		len = seed ? fuzz_chunk(&seed, n - off) : n;
		err = xu_xml_feed(x, p + off, len);
		off += len;
	}
	*cond = xu_xml_condition(x);
	if (err == XU_ERR_PROTO) {
		/* A failure names its condition and sticks. */
		if (!*cond || !*xu_xml_errmsg(x) || xu_xml_feed(x, "<a/>", 4) != XU_ERR_PROTO)
			abort();
	} else if (err == XU_OK && *cond) {
		abort();
	}
	xu_xml_free(x);
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct xu_xml_limits small = {2048, 6, 6};
	static const struct xu_xml_limits dflt = {256 * 1024, 64, 64};
	const struct xu_xml_limits *lim;
	struct fuzz_run whole, split;
	struct xu_stanza **v = NULL;
	const char *p, *why = NULL, *c1, *c2;
	size_t n, i, count = 0;
	uint32_t seed;
	enum xu_err e1, e2;
	bool raw;

	if (size < 1 || size > 1024 * 1024)
		return 0;
	/* First byte: limits (bit 7), no fixed header (bit 6: the prolog, BOM and XML
	 * declaration get fuzzed too) and the seed of the chunk lengths (bits 0-5). */
	lim = data[0] & 0x80 ? &small : &dflt;
	raw = data[0] & 0x40;
	p = (const char *)data + 1;
	n = size - 1;
	seed = 0x9E3779B9u ^ (uint32_t)(data[0] & 0x3F) ^ (uint32_t)n << 8;

	e1 = fuzz_stream(p, n, 0, raw, lim, &whole, &c1);
	e2 = fuzz_stream(p, n, seed, raw, lim, &split, &c2);
	if (e1 == XU_ERR_NOMEM || e2 == XU_ERR_NOMEM)
		return 0;
	/* However the bytes arrive: the same events and the same verdict. */
	if (e1 != e2 || whole.opens != split.opens || whole.stanzas != split.stanzas ||
	    whole.closes != split.closes || whole.digest != split.digest ||
	    (c1 != c2 && (!c1 || !c2 || strcmp(c1, c2) != 0)))
		abort();

	if (xu_stanza_parse_list(p, n, &v, &count, &why) == XU_OK) {
		for (i = 0; i < count; i++) {
			fuzz_round_trip(v[i], &dflt);
			xu_stanza_free(v[i]);
		}
		free(v);
	} else if (v || count || !why) {
		abort();
	}
	return 0;
}
