/* srv.c: DNS SRV: parse, order, look up (RFC 1035 §4.1, RFC 2782, RFC 6120 §3.2, XEP-0368). */
#include "xu-int.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/*
 * A DNS message is at most 65535 bytes, so a hostile answer could hold ~3400 SRV records;
 * no real service publishes more than a handful. Capping keeps ordering (quadratic) cheap.
 */
#define SRV_MAX_RECORDS 256
/* RFC 1035 §3.1: 255 octets on the wire, so at most 253 characters in dotted form. */
#define SRV_MAX_WIRE 255
#define SRV_MAX_TEXT 254
/* Any real name needs a few pointers at most; a long chain is an attack on our time. */
#define SRV_MAX_HOPS 64
#define SRV_HEADER 12
#define SRV_TYPE_SRV 33
#define SRV_CLASS_IN 1
/* Resolver answers larger than this are truncated by the resolver itself. */
#define SRV_ANSWER_MAX 8192
#define SRV_DEFAULT_TIMEOUT_MS 10000

/* Identity-compared so that a cut-off message with the TC bit set can stop quietly. */
static const char srv_truncated[] = "DNS message truncated";

static unsigned srv_u16(const unsigned char *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

static bool srv_host_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/*
 * Read the (possibly compressed) name at *off and move *off past the part stored in place.
 * With text set, write it in dotted form without the trailing dot ("" for the root) and
 * refuse any byte that cannot be part of a host name, since the text is later handed to
 * getaddrinfo and printed. Every pointer must point before the start of the run it was
 * found in, so the walk strictly descends through the message and cannot loop.
 */
static enum xu_err srv_name(const unsigned char *msg, size_t len, size_t *off, char *text,
                            const char **why)
{
	size_t pos = *off, limit = *off, end = 0, wire = 0, tlen = 0;
	unsigned hops = 0;
	bool jumped = false;

	for (;;) {
		unsigned c;

		if (pos >= len) {
			*why = srv_truncated;
			return XU_ERR_PROTO;
		}
		c = msg[pos];
		if ((c & 0xC0) == 0xC0) {
			size_t target;

			if (pos + 1 >= len) {
				*why = srv_truncated;
				return XU_ERR_PROTO;
			}
			target = ((size_t)(c & 0x3F) << 8) | msg[pos + 1];
			if (!jumped) {
				end = pos + 2;
				jumped = true;
			}
			if (target < SRV_HEADER || target >= limit) {
				*why =
				    "DNS compression pointer does not point back into the message";
				return XU_ERR_PROTO;
			}
			if (++hops > SRV_MAX_HOPS) {
				*why = "DNS name has too many compression pointers";
				return XU_ERR_PROTO;
			}
			limit = target;
			pos = target;
			continue;
		}
		if (c & 0xC0) {
			*why = "DNS name uses a reserved label type";
			return XU_ERR_PROTO;
		}
		if (c == 0) {
			if (!jumped)
				end = pos + 1;
			break;
		}
		/* c <= 63 here: the two top bits are clear. */
		if (c > len - pos - 1) {
			*why = srv_truncated;
			return XU_ERR_PROTO;
		}
		wire += 1 + c;
		if (wire + 1 > SRV_MAX_WIRE) {
			*why = "DNS name longer than 255 octets";
			return XU_ERR_PROTO;
		}
		if (text) {
			size_t i;

			if (tlen)
				text[tlen++] = '.';
			for (i = 0; i < c; i++) {
				unsigned char b = msg[pos + 1 + i];

				if (!srv_host_byte(b)) {
					*why = "SRV target is not a host name";
					return XU_ERR_PROTO;
				}
				text[tlen++] = (char)b;
			}
		}
		pos += 1 + c;
	}
	if (text)
		text[tlen] = '\0';
	*off = end;
	return XU_OK;
}

void xu_srv_free(struct xu_srv *r, size_t n)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < n; i++)
		free(r[i].target);
	free(r);
}

/* Fixed part of a resource record after its owner name (RFC 1035 §4.1.3). */
struct srv_rr {
	unsigned type;
	unsigned cls;
	size_t rdata;
	size_t rdlen;
};

static enum xu_err srv_rr_head(const unsigned char *msg, size_t len, size_t *off, struct srv_rr *rr,
                               const char **why)
{
	enum xu_err err = srv_name(msg, len, off, NULL, why);

	if (err)
		return err;
	if (len - *off < 10) {
		*why = srv_truncated;
		return XU_ERR_PROTO;
	}
	rr->type = srv_u16(msg + *off);
	rr->cls = srv_u16(msg + *off + 2);
	rr->rdlen = srv_u16(msg + *off + 8);
	rr->rdata = *off + 10;
	if (rr->rdlen > len - rr->rdata) {
		*why = srv_truncated;
		return XU_ERR_PROTO;
	}
	*off = rr->rdata + rr->rdlen;
	return XU_OK;
}

/* RFC 2782 RDATA: priority, weight, port, uncompressed-by-spec (but tolerated) target. */
static enum xu_err srv_rdata(const unsigned char *msg, size_t len, const struct srv_rr *rr,
                             struct xu_srv *rec, char *text, const char **why)
{
	size_t off = rr->rdata + 6;
	enum xu_err err;

	if (rr->rdlen < 7) {
		*why = "SRV record too short";
		return XU_ERR_PROTO;
	}
	rec->priority = (uint16_t)srv_u16(msg + rr->rdata);
	rec->weight = (uint16_t)srv_u16(msg + rr->rdata + 2);
	rec->port = (uint16_t)srv_u16(msg + rr->rdata + 4);
	err = srv_name(msg, len, &off, text, why);
	if (err) {
		/* The record's own length was in bounds: a short name is malformed, not cut off. */
		if (*why == srv_truncated)
			*why = "SRV target runs past the end of the message";
		return err;
	}
	if (off != rr->rdata + rr->rdlen) {
		*why = "SRV target does not fill its record";
		return XU_ERR_PROTO;
	}
	return XU_OK;
}

enum xu_err xu_srv_parse(const unsigned char *msg, size_t len, bool direct_tls, struct xu_srv **out,
                         size_t *n, bool *none, const char **why)
{
	struct xu_srv *recs = NULL;
	size_t nrec = 0, off = SRV_HEADER, dots = 0, i;
	unsigned flags, qd, an;
	bool tc;
	enum xu_err err = XU_OK;
	char text[SRV_MAX_TEXT];

	*out = NULL;
	*n = 0;
	*none = false;
	*why = "";
	if (!msg || len < SRV_HEADER) {
		*why = "DNS message shorter than its header";
		return XU_ERR_PROTO;
	}
	flags = srv_u16(msg + 2);
	qd = srv_u16(msg + 4);
	an = srv_u16(msg + 6);
	tc = (flags & 0x0200) != 0;
	if (!(flags & 0x8000)) {
		*why = "DNS message is not a response";
		return XU_ERR_PROTO;
	}
	if (((flags >> 11) & 0xF) != 0) {
		*why = "DNS message is not a standard query response";
		return XU_ERR_PROTO;
	}
	/* NXDOMAIN, SERVFAIL...: a well-formed "no records". */
	if ((flags & 0xF) != 0)
		return XU_OK;

	for (i = 0; i < qd; i++) {
		err = srv_name(msg, len, &off, NULL, why);
		if (!err && len - off < 4) {
			*why = srv_truncated;
			err = XU_ERR_PROTO;
		}
		if (err)
			goto out;
		off += 4;
	}
	for (i = 0; i < an; i++) {
		struct srv_rr rr;
		struct xu_srv rec;

		err = srv_rr_head(msg, len, &off, &rr, why);
		if (err)
			goto out;
		if (rr.type != SRV_TYPE_SRV || rr.cls != SRV_CLASS_IN)
			continue;
		err = srv_rdata(msg, len, &rr, &rec, text, why);
		if (err)
			goto out;
		if (!text[0]) {
			dots++;
			continue;
		}
		/* Port 0 cannot be connected to; such a record says nothing usable. */
		if (rec.port == 0)
			continue;
		if (nrec == SRV_MAX_RECORDS) {
			*why = "too many SRV records";
			err = XU_ERR_PROTO;
			goto out;
		}
		if (!recs) {
			recs = calloc(SRV_MAX_RECORDS, sizeof(*recs));
			if (!recs) {
				err = XU_ERR_NOMEM;
				goto out;
			}
		}
		rec.direct_tls = direct_tls;
		rec.target = strdup(text);
		if (!rec.target) {
			err = XU_ERR_NOMEM;
			goto out;
		}
		recs[nrec++] = rec;
	}
out:
	/* A truncated answer (TC) keeps the complete records before the cut. */
	if (err == XU_ERR_PROTO && tc && *why == srv_truncated)
		err = XU_OK;
	if (err) {
		xu_srv_free(recs, nrec);
		return err;
	}
	/*
	 * RFC 2782: "." means the service is decidedly not available. A "." mixed with real
	 * targets is contradictory; the real ones are kept and the "." ones can never be
	 * connected to, so they are dropped.
	 */
	if (nrec == 0) {
		free(recs);
		*none = dots > 0;
		*why = "";
		return XU_OK;
	}
	*out = recs;
	*n = nrec;
	*why = "";
	return XU_OK;
}

/* Priority ascending; on equal priority direct TLS first (XEP-0368 allows a preference). */
static bool srv_before(const struct xu_srv *a, const struct xu_srv *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority;
	return a->direct_tls && !b->direct_tls;
}

/* Move r[from] to r[to] (to <= from), shifting the ones between up: keeps them in order. */
static void srv_move(struct xu_srv *r, size_t from, size_t to)
{
	struct xu_srv t = r[from];

	memmove(r + to + 1, r + to, (from - to) * sizeof(*r));
	r[to] = t;
}

/* RFC 2782 "Usage rules": weighted random selection within one priority group [lo, hi). */
static void srv_weighted(struct xu_srv *r, size_t lo, size_t hi,
                         uint32_t (*rnd)(void *ctx, uint32_t bound), void *ctx)
{
	size_t k, i, z = lo;

	/* Weight-0 records go to the front, so they are picked only when the draw is 0. */
	for (i = lo; i < hi; i++) {
		if (r[i].weight == 0) {
			srv_move(r, i, z);
			z++;
		}
	}
	for (k = lo; k + 1 < hi; k++) {
		uint32_t sum = 0, run = 0, x;

		for (i = k; i < hi; i++)
			sum += r[i].weight;
		if (sum == 0)
			return;
		x = rnd ? rnd(ctx, sum) : 0;
		if (x > sum)
			x = sum;
		for (i = k; i < hi; i++) {
			run += r[i].weight;
			if (run >= x)
				break;
		}
		srv_move(r, i, k);
	}
}

void xu_srv_order(struct xu_srv *r, size_t n, uint32_t (*rnd)(void *ctx, uint32_t bound), void *ctx)
{
	size_t i, j;

	if (!r || n < 2)
		return;
	/* Insertion sort: stable, and n is capped by the parser. */
	for (i = 1; i < n; i++) {
		j = i;
		while (j > 0 && srv_before(&r[i], &r[j - 1]))
			j--;
		if (j != i)
			srv_move(r, i, j);
	}
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n; j++) {
			if (r[j].priority != r[i].priority || r[j].direct_tls != r[i].direct_tls)
				break;
		}
		srv_weighted(r, i, j, rnd, ctx);
	}
}

/* Uniform in [0, bound] from GnuTLS, by rejection to avoid modulo bias. */
static uint32_t srv_gnutls_rnd(void *ctx, uint32_t bound)
{
	uint32_t v, range, lim;

	(void)ctx;
	for (;;) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, &v, sizeof(v)) < 0)
			return 0;
		if (bound == UINT32_MAX)
			return v;
		range = bound + 1;
		lim = UINT32_MAX - UINT32_MAX % range;
		if (v < lim)
			return v % range;
	}
}

/*
 * Names that must never reach a DNS server: localhost (RFC 6761 §6.3), IP literals (which
 * getaddrinfo would take as addresses, including inet_aton's "127.1"), and anything that is
 * not a host name at all. ':' and '[' fail the character check, so IPv6 literals stop there.
 */
static bool srv_no_query(const char *domain)
{
	size_t len = strlen(domain), i, label = 0;
	struct in_addr a4;
	char name[254];

	if (len > 0 && domain[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof(name))
		return true;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)domain[i];

		if (c == '.') {
			if (label == 0)
				return true;
			label = 0;
		} else if (!srv_host_byte(c) || ++label > 63) {
			return true;
		}
		name[i] = (char)c;
	}
	if (label == 0)
		return true;
	name[len] = '\0';
	if (strcasecmp(name, "localhost") == 0)
		return true;
	if (len > 10 && strcasecmp(name + len - 10, ".localhost") == 0)
		return true;
	return inet_aton(name, &a4) != 0;
}

static int64_t srv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One query through the thread-safe resolver. The resolver counts time in whole seconds and
 * tries each name server in turn, so the per-server timeout is the remaining budget shared
 * by the servers (at least one second: the resolver cannot do less). TC answers are kept
 * rather than retried over TCP, whose connect the resolver does not bound.
 */
static enum xu_err srv_query(const char *name, bool direct_tls, int64_t deadline, unsigned left,
                             struct xu_srv **out, size_t *n, bool *none)
{
	struct __res_state st;
	unsigned char *ans;
	int alen;
	int64_t budget = deadline - srv_now_ms();
	long secs;
	const char *why;
	enum xu_err err;

	*out = NULL;
	*n = 0;
	*none = false;
	if (budget <= 0)
		return XU_OK;
	ans = malloc(SRV_ANSWER_MAX);
	if (!ans)
		return XU_ERR_NOMEM;
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st) != 0) {
		free(ans);
		return XU_OK;
	}
	secs = (long)(budget / left / 1000);
	if (st.nscount > 1)
		secs /= st.nscount;
	if (secs < 1)
		secs = 1;
	st.retrans = (int)(secs > 30 ? 30 : secs);
	st.retry = 1;
	st.options |= RES_IGNTC | RES_USE_EDNS0;
	alen = res_nquery(&st, name, ns_c_in, ns_t_srv, ans, SRV_ANSWER_MAX);
	res_nclose(&st);
	if (alen <= 0) {
		free(ans);
		return XU_OK;
	}
	/* Like res_query, res_nquery may report the full length of an answer it cut. */
	if (alen > SRV_ANSWER_MAX)
		alen = SRV_ANSWER_MAX;
	err = xu_srv_parse(ans, (size_t)alen, direct_tls, out, n, none, &why);
	free(ans);
	/* A malformed answer is a DNS failure like any other: no records. */
	if (err == XU_ERR_PROTO)
		err = XU_OK;
	return err;
}

enum xu_err xu_srv_lookup(const char *domain, unsigned timeout_ms, struct xu_srv **out, size_t *n,
                          bool *none)
{
	struct xu_srv *tls = NULL, *plain = NULL, *all;
	size_t ntls = 0, nplain = 0;
	bool tls_none = false, plain_none = false;
	char name[300];
	int64_t deadline;
	enum xu_err err;

	*out = NULL;
	*n = 0;
	*none = false;
	if (!domain || srv_no_query(domain))
		return XU_OK;
	if (timeout_ms == 0)
		timeout_ms = SRV_DEFAULT_TIMEOUT_MS;
	deadline = srv_now_ms() + timeout_ms;

	/* RFC 6120's record first: if time runs out, STARTTLS records are the ones to have. */
	snprintf(name, sizeof(name), "_xmpp-client._tcp.%s", domain);
	err = srv_query(name, false, deadline, 2, &plain, &nplain, &plain_none);
	if (err)
		return err;
	snprintf(name, sizeof(name), "_xmpps-client._tcp.%s", domain);
	err = srv_query(name, true, deadline, 1, &tls, &ntls, &tls_none);
	if (err) {
		xu_srv_free(plain, nplain);
		return err;
	}
	/*
	 * XEP-0368 §3: both sets are one RFC 2782 set. A "." in either says SRV is in use for
	 * the domain, so no A/AAAA fallback (XEP-0368 §5) when nothing usable is left.
	 */
	if (ntls + nplain == 0) {
		*none = tls_none || plain_none;
		return XU_OK;
	}
	if (ntls == 0) {
		all = plain;
	} else if (nplain == 0) {
		all = tls;
	} else {
		all = realloc(tls, (ntls + nplain) * sizeof(*all));
		if (!all) {
			xu_srv_free(tls, ntls);
			xu_srv_free(plain, nplain);
			return XU_ERR_NOMEM;
		}
		memcpy(all + ntls, plain, nplain * sizeof(*all));
		free(plain);
	}
	xu_srv_order(all, ntls + nplain, srv_gnutls_rnd, NULL);
	*out = all;
	*n = ntls + nplain;
	return XU_OK;
}
