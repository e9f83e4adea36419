/* conn.c: the non-blocking connection core (RFC 6120 §4-§7, XEP-0198, XEP-0199) and the
 * blocking helpers built on it: negotiation, sending with confirmation, closing. */
#include "conn-int.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum conn_state {
	CONN_NEW,
	CONN_TLS,      /* TLS handshake (direct TLS or after <proceed/>) */
	CONN_STREAM,   /* our header is out; waiting for the server's header and features */
	CONN_STARTTLS, /* waiting for <proceed/> */
	CONN_SASL,     /* waiting for a challenge or the outcome */
	CONN_RESUME,   /* XEP-0198 <resume/> in flight */
	CONN_BIND,     /* bind, session and SM enable in flight */
	CONN_READY,
	CONN_CLOSING, /* our </stream:stream> is out */
	CONN_CLOSED,
	CONN_FAILED,
};

/* A stanza we sent, kept until it is confirmed, and a while after so that a late error
 * bounce can still be matched to its recipient. */
struct conn_track {
	char *id;
	char *to;
	uint64_t seq; /* 1-based position among the stanzas counted since READY */
};

/* Confirmed entries kept for late error matching; unconfirmed ones are never dropped. */
#define CONN_TRACK_KEEP 1024
#define CONN_READ_CHUNK 16384
/* The server closes its stream promptly after ours; this bounds a server that does not. */
#define CONN_CLOSE_WAIT_MS 3000
#define CONN_MAX_STANZA_CAP (16u * 1024 * 1024)
/* Received stanzas held for the caller; past this the connection stops reading (TCP pushes
 * back on the server) so memory stays bounded however fast messages come. */
#define CONN_QUEUE_MAX 256
/* True while the queue may take more: not full, or a blocking helper waits for an answer that
 * is behind what fills it (it grows at most by what arrives during that wait). */
#define CONN_CAN_READ(c) ((c)->qlen < CONN_QUEUE_MAX || (c)->blocking)
#define XU_NS_RECEIPTS "urn:xmpp:receipts"
#define XU_NS_CARBONS "urn:xmpp:carbons:2"

/* A counted stanza we sent, kept (on resumable streams) until the server acknowledges it, so
 * that a resumed session can send it again (XEP-0198 §5). */
struct conn_unacked {
	uint64_t seq;
	char *xml;
	bool tracked; /* one of xu_conn_send's (not an answer of the library's own) */
};

/* A received stanza waiting for xu_conn_next, with its place in the stream. */
struct conn_queued {
	struct xu_stanza *st;
	uint64_t n; /* 1-based count among the stanzas received since <enabled/> */
};

struct xu_conn {
	/* options */
	struct xu_jid *jid;
	char *password;
	char *host;
	unsigned port;
	bool want_direct_tls;
	char *cafile;
	unsigned char pin[32];
	bool has_pin;
	bool insecure;
	bool allow_plaintext;
	bool pipeline; /* xu_conn_opts.pipeline, off once resuming or resending */
	char *cache_dir;
	char *cache_account; /* the cache key: JID and where it connects */
	struct xu_cache cache;
	bool cache_dirty;
	char *resource;
	char *mechanism;
	unsigned timeout_ms;
	xu_log_fn *log;
	void *log_ctx;
	enum xu_log_level log_level;

	/* transport */
	int fd;
	struct xu_tls *tls;
	bool tls_active;
	bool direct_tls;
	struct xu_xml *xml;
	struct xu_buf out;
	bool eof;

	enum conn_state state;
	int64_t deadline;
	enum xu_err err;
	char errmsg[512];

	/* negotiation */
	struct xu_sasl *sasl;
	bool authenticated;
	bool starttls_sent; /* with our first header, before the features */
	bool early;         /* pipeline: bind sent behind the restart, stanzas may follow */
	bool sm_stale;      /* early <enable/> from the cache, but the server dropped XEP-0198 */
	bool sasl_early;    /* <auth/> went with the header, chosen from the cached SASL offer */
	bool sasl_aborting; /* ... which the features contradicted: <abort/> is out */
	struct xu_stanza *auth_features; /* the real offer, for the <auth/> after the abort */
	bool sasl2;                      /* authenticating with XEP-0388 */
	bool fast_used;                  /* ... with the cached FAST token (XEP-0484) */
	bool fresh_login;       /* the token was refused, or the offer changed under an early SASL2
	                         * <authenticate/>: xu_conn_open connects once more, from the server's
	                         * features */
	const char *fast_asked; /* the mechanism of the token we asked for */
	bool bound2;            /* bound by Bind2 (XEP-0386) with the authentication */
	bool proceed_seen;
	char *bind_id;
	char *session_id;
	struct xu_jid *bound;
	bool sm_requested;
	bool sm_enabled;
	bool resumable;            /* ask for a resumable session */
	char *sm_id;               /* the server's resumption id (enabled resume='true') */
	char *resume_id;           /* the session to resume instead of binding */
	struct xu_stanza *offered; /* the features after authentication (xu_conn_feature) */
	bool resumed;
	bool resend;       /* resend_unacked: carry our unconfirmed stanzas to a new session */
	size_t resend_due; /* carried copies to send once the new session is ready */
	uint64_t resent;   /* of ours, sent again by xu_conn_open (resumed or new session) */
	size_t max_out;    /* XEP-0478: what the server accepts, 0 unknown */

	/* confirmation */
	uint64_t seq;          /* stanzas sent since READY */
	uint64_t confirmed;    /* of those, how many the server confirmed */
	uint64_t flush_target; /* what the running flush waits for */
	uint64_t sm_in;        /* stanzas received since <enabled/> */
	bool r_sent;           /* an <r/> is outstanding */
	char *ping_id;
	uint64_t ping_covers;
	struct conn_track *track;
	size_t ntrack;
	size_t track_cap;
	struct conn_unacked *unacked; /* resumable streams: copies until acknowledged */
	size_t nunacked;
	size_t unacked_cap;
	unsigned refused;
	char refusal[512];      /* the first refusal (what a flush reports) */
	char last_refusal[512]; /* the latest */
	bool server_closed;

	/* long-lived use */
	unsigned keepalive_ms;
	bool queue_stanzas;
	bool answer_receipts;
	int64_t last_rx;        /* when the server last sent anything */
	int64_t probe_deadline; /* a liveness probe is out and must be answered by then; 0: none */
	struct conn_queued *queue; /* ring of qcap; qlen from qhead */
	size_t qcap;
	size_t qhead;
	size_t qlen;
	bool blocking;              /* inside conn_wait */
	char *iq_wait_id;           /* xu_conn_iq waits for the answer to this */
	char *iq_wait_to;           /* sent to this JID (NULL: the account's server) */
	struct xu_stanza *iq_reply; /* and keeps it here */
	bool ack_stale; /* our last <a/> left out stanzas the caller has not handled yet */
	bool holding;   /* the caller holds the stanza numbered held_n (not handled yet) */
	uint64_t held_n;
};

/* ---------------------------------------------------------------- errors and logging */

static void conn_log(struct xu_conn *c, enum xu_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void conn_log(struct xu_conn *c, enum xu_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!c->log || level > c->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->log(c->log_ctx, level, msg);
}

/* Record the first failure; the connection is unusable afterwards. */
static enum xu_err conn_fail(struct xu_conn *c, enum xu_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum xu_err conn_fail(struct xu_conn *c, enum xu_err err, const char *fmt, ...)
{
	char msg[sizeof(c->errmsg)];
	va_list ap;

	if (c->err)
		return c->err;
	/* Format aside first: callers often pass c->errmsg itself as the argument. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(c->errmsg, msg, sizeof(msg));
	c->err = err;
	c->state = CONN_FAILED;
	return err;
}

const char *xu_conn_errmsg(const struct xu_conn *c)
{
	if (c->err)
		return c->errmsg;
	if (c->refused)
		return c->refusal;
	return "no error";
}

/* The XML trace, with SASL payloads (which carry or derive from the password) redacted. */
static void conn_trace(struct xu_conn *c, const char *dir, const struct xu_stanza *st)
{
	struct xu_stanza *copy = NULL;
	char *xml = NULL;
	size_t len;

	if (!c->log || c->log_level < XU_LOG_DEBUG)
		return;
	if ((strcmp(xu_stanza_ns(st), XU_NS_SASL) == 0 && *xu_stanza_text(st)) ||
	    strcmp(xu_stanza_ns(st), XU_NS_SASL2) == 0) {
		/* XEP-0388 elements carry payloads, and FAST tokens, in children: all go. */
		copy = xu_stanza_new(xu_stanza_name(st), xu_stanza_ns(st));
		if (copy) {
			size_t i;
			const char *n, *v;

			for (i = 0; i < xu_stanza_attr_count(st); i++) {
				xu_stanza_attr_at(st, i, &n, &v);
				xu_stanza_set_attr(copy, n, v);
			}
			xu_stanza_add_text(copy, "[redacted]", 10);
		}
		st = copy;
	}
	if (st && xu_stanza_to_xml(st, &xml, &len) == XU_OK)
		conn_log(c, XU_LOG_DEBUG, "%s %s", dir, xml);
	free(xml);
	xu_stanza_free(copy);
}

/* ---------------------------------------------------------------- output */

static const char *conn_waiting_for(const struct xu_conn *c);

/* The transport failed: say so, and during negotiation at which step (the reader of a one-line
 * error should not need -v to tell a cut during authentication from one during binding). */
static enum xu_err conn_lost(struct xu_conn *c, enum xu_err err, const char *what)
{
	char msg[sizeof(c->errmsg)];

	snprintf(msg, sizeof(msg), "%s", what); /* what may be c->errmsg itself */
	if (c->state < CONN_READY && c->state != CONN_TLS)
		return conn_fail(c, err, "%s (while waiting for %s)", msg, conn_waiting_for(c));
	return conn_fail(c, err, "%s", msg);
}

static enum xu_err conn_pump(struct xu_conn *c)
{
	size_t n;
	ssize_t w;
	enum xu_err err;

	while (c->out.len > 0) {
		if (c->tls_active) {
			err = xu_tls_write(c->tls, c->out.data, c->out.len, &n, c->errmsg,
			                   sizeof(c->errmsg));
			if (err)
				return conn_lost(c, err, c->errmsg);
		} else {
			w = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				w = 0;
			if (w < 0) {
				char what[300];

				snprintf(what, sizeof(what), "connection lost: %s",
				         strerror(errno));
				return conn_lost(c, XU_ERR_TEMP, what);
			}
			n = (size_t)w;
		}
		if (n == 0)
			break;
		xu_buf_consume(&c->out, n);
	}
	return XU_OK;
}

static enum xu_err conn_write_raw(struct xu_conn *c, const char *s)
{
	if (xu_buf_adds(&c->out, s) != XU_OK)
		return conn_fail(c, XU_ERR_NOMEM, "out of memory");
	conn_log(c, XU_LOG_DEBUG, "SEND %s", s);
	return XU_OK;
}

static enum xu_err conn_write(struct xu_conn *c, const struct xu_stanza *st)
{
	size_t before = c->out.len;
	enum xu_err err;

	err = xu_stanza_write(st, XU_NS_CLIENT, &c->out);
	if (err)
		return conn_fail(c, err, "cannot serialise a stanza: %s", xu_err_str(err));
	if (c->max_out && c->out.len - before > c->max_out) {
		c->out.len = before;
		c->out.data[before] = '\0';
		return conn_fail(c, XU_ERR_DATA,
		                 "stanza of %zu bytes exceeds the server's limit of %zu bytes",
		                 c->out.len - before, c->max_out);
	}
	conn_trace(c, "SEND", st);
	return XU_OK;
}

static enum xu_err conn_track_add(struct xu_conn *c, const struct xu_stanza *st);

/* Keep a copy of a counted stanza until the server acknowledges it (resumable streams). */
static enum xu_err conn_keep_unacked(struct xu_conn *c, const char *xml, size_t len, bool tracked)
{
	struct conn_unacked *u;

	if (xu_array_room((void **)&c->unacked, &c->unacked_cap, c->nunacked, sizeof(*u), 16))
		return XU_ERR_NOMEM;
	u = &c->unacked[c->nunacked];
	u->seq = c->seq;
	u->tracked = tracked;
	u->xml = strndup(xml, len);
	if (!u->xml)
		return XU_ERR_NOMEM;
	c->nunacked++;
	return XU_OK;
}

static void conn_drop_unacked(struct xu_conn *c, uint64_t upto)
{
	size_t drop = 0, i;

	while (drop < c->nunacked && c->unacked[drop].seq <= upto)
		drop++;
	if (!drop)
		return;
	for (i = 0; i < drop; i++)
		free(c->unacked[i].xml);
	memmove(c->unacked, c->unacked + drop, (c->nunacked - drop) * sizeof(*c->unacked));
	c->nunacked -= drop;
}

/* Write a stanza the server counts in its h (XEP-0198 §4): number it and, on a resumable
 * stream, keep a copy until acknowledged (with resend_unacked, a copy of each of ours on any
 * stream). Stanzas of xu_conn_send (`tracked`) are numbered even without stream management,
 * for the ping that confirms them. */
static enum xu_err conn_write_counted(struct xu_conn *c, const struct xu_stanza *st, bool tracked)
{
	size_t before = c->out.len;
	enum xu_err err = XU_OK;

	if (!tracked && !c->sm_enabled)
		return conn_write(c, st);
	c->seq++;
	if (tracked)
		err = conn_track_add(c, st);
	if (!err)
		err = conn_write(c, st);
	else
		err = conn_fail(c, err, "out of memory");
	if (!err && (c->sm_id || (tracked && c->resend)) &&
	    conn_keep_unacked(c, c->out.data + before, c->out.len - before, tracked))
		err = conn_fail(c, XU_ERR_NOMEM, "out of memory");
	if (err)
		c->seq--;
	return err;
}

static enum xu_err conn_send_header(struct xu_conn *c)
{
	char hdr[1200];

	/* RFC 6120 §4.7.1: 'from' only once the stream is encrypted. */
	snprintf(hdr, sizeof(hdr),
	         "<?xml version='1.0'?><stream:stream to='%s'%s%s%s version='1.0' "
	         "xml:lang='en' xmlns='jabber:client' "
	         "xmlns:stream='http://etherx.jabber.org/streams'>",
	         xu_jid_domain(c->jid), c->tls_active ? " from='" : "",
	         c->tls_active ? xu_jid_bare(c->jid) : "", c->tls_active ? "'" : "");
	c->state = CONN_STREAM;
	return conn_write_raw(c, hdr);
}

/* ---------------------------------------------------------------- tracking and confirmation */

static bool conn_is_stanza(const struct xu_stanza *st)
{
	const char *n = xu_stanza_name(st);

	return strcmp(xu_stanza_ns(st), XU_NS_CLIENT) == 0 &&
	       (strcmp(n, "message") == 0 || strcmp(n, "presence") == 0 || strcmp(n, "iq") == 0);
}

static void conn_track_drop_old(struct xu_conn *c)
{
	size_t drop = 0, i;

	while (drop < c->ntrack && c->ntrack - drop > CONN_TRACK_KEEP &&
	       c->track[drop].seq <= c->confirmed)
		drop++;
	if (!drop)
		return;
	for (i = 0; i < drop; i++) {
		free(c->track[i].id);
		free(c->track[i].to);
	}
	memmove(c->track, c->track + drop, (c->ntrack - drop) * sizeof(*c->track));
	c->ntrack -= drop;
}

static enum xu_err conn_track_add(struct xu_conn *c, const struct xu_stanza *st)
{
	struct conn_track *t;
	const char *id = xu_stanza_attr(st, "id"), *to = xu_stanza_attr(st, "to");

	conn_track_drop_old(c);
	if (xu_array_room((void **)&c->track, &c->track_cap, c->ntrack, sizeof(*t), 64))
		return XU_ERR_NOMEM;
	t = &c->track[c->ntrack];
	t->id = id ? strdup(id) : NULL;
	t->to = strdup(to ? to : xu_jid_domain(c->jid));
	t->seq = c->seq;
	if ((id && !t->id) || !t->to) {
		free(t->id);
		free(t->to);
		return XU_ERR_NOMEM;
	}
	c->ntrack++;
	return XU_OK;
}

static const struct conn_track *conn_track_find(const struct xu_conn *c, const char *id)
{
	size_t i;

	if (!id)
		return NULL;
	for (i = c->ntrack; i-- > 0;)
		if (c->track[i].id && strcmp(c->track[i].id, id) == 0)
			return &c->track[i];
	return NULL;
}

static void conn_refusal(struct xu_conn *c, const struct conn_track *t, const struct xu_stanza *st)
{
	char why[400];
	char *to = NULL;

	xu_error_describe(xu_stanza_child(st, "error", NULL), XU_NS_STANZAS, why, sizeof(why));
	if (xu_escape(t->to, strlen(t->to), XU_ESC_LINE, &to) != XU_OK)
		to = NULL;
	conn_log(c, XU_LOG_INFO, "refused: %s to %s: %s", xu_stanza_name(st), to ? to : "?", why);
	snprintf(c->last_refusal, sizeof(c->last_refusal), "%s to %s refused: %s",
	         xu_stanza_name(st), to ? to : "?", why);
	if (c->refused++ == 0)
		snprintf(c->refusal, sizeof(c->refusal), "%s", c->last_refusal);
	free(to);
}

/* XEP-0198 §4: h counts modulo 2^32 and never goes backwards or past what we sent (sm.c). */
static enum xu_err conn_handle_ack(struct xu_conn *c, const struct xu_stanza *a)
{
	const char *hs = xu_stanza_attr(a, "h"), *why = NULL;

	if (xu_sm_ack(c->seq, c->confirmed, hs, &c->confirmed, &why) != XU_OK)
		return conn_fail(c, XU_ERR_PROTO,
		                 "server sent an invalid ack h='%s' after %llu stanzas: %s",
		                 hs ? hs : "", (unsigned long long)c->seq, why);
	c->r_sent = false;
	conn_drop_unacked(c, c->confirmed);
	return XU_OK;
}

/* ---------------------------------------------------------------- negotiation */

static enum xu_err conn_start_tls(struct xu_conn *c)
{
	struct xu_tls_params p;
	enum xu_err err;

	memset(&p, 0, sizeof(p));
	p.domain = xu_jid_domain_ascii(c->jid);
	p.cafile = c->cafile;
	p.pin = c->has_pin ? c->pin : NULL;
	p.insecure = c->insecure;
	p.alpn = c->direct_tls;
	err = xu_tls_new(c->fd, &p, &c->tls, c->errmsg, sizeof(c->errmsg));
	if (err)
		return conn_fail(c, err, "%s", c->errmsg);
	c->tls_active = true;
	c->state = CONN_TLS;
	conn_log(c, XU_LOG_INFO, "TLS handshake with %s", p.domain);
	return XU_OK;
}

static enum xu_err conn_auth_early(struct xu_conn *c);

static enum xu_err conn_do_handshake(struct xu_conn *c)
{
	bool done;
	enum xu_err err;

	err = xu_tls_handshake(c->tls, &done, c->errmsg, sizeof(c->errmsg));
	if (err)
		return conn_fail(c, err, "%s", c->errmsg);
	if (!done)
		return XU_OK;
	conn_log(c, XU_LOG_INFO, "TLS established (%s)%s", xu_tls_version(c->tls),
	         c->insecure && !c->has_pin ? ", certificate NOT verified (--insecure)" : "");
	err = xu_xml_restart(c->xml);
	if (err)
		return conn_fail(c, err, "out of memory");
	err = conn_send_header(c);
	return err ? err : conn_auth_early(c);
}

static enum xu_err conn_new_iq(struct xu_conn *c, const char *type, const char *child,
                               const char *ns, struct xu_stanza **iq, char **id)
{
	struct xu_stanza *st;
	enum xu_err err;

	err = xu_random_id(9, id);
	if (err)
		return err;
	st = xu_stanza_new("iq", XU_NS_CLIENT);
	if (!st || xu_stanza_set_attr(st, "type", type) || xu_stanza_set_attr(st, "id", *id) ||
	    (child && !xu_stanza_add_new(st, child, ns))) {
		xu_stanza_free(st);
		free(*id);
		*id = NULL;
		return XU_ERR_NOMEM;
	}
	*iq = st;
	return XU_OK;
}

static enum xu_err conn_maybe_ready(struct xu_conn *c);

/* XEP-0478: what the server accepts from us, from the features after authentication. */
static void conn_limits(struct xu_conn *c, const struct xu_stanza *features)
{
	const struct xu_stanza *limits = xu_stanza_child(features, "limits", XU_NS_LIMITS);
	const char *mb = limits ? xu_stanza_child_text(limits, "max-bytes", NULL) : NULL;
	unsigned long v = mb ? strtoul(mb, NULL, 10) : 0;

	if (v < 1024)
		return;
	c->max_out = v;
	/* What the server accepts bounds what it will send us too, in practice; never below our
	 * default, never beyond a sane cap. */
	if (v > 256 * 1024)
		xu_xml_set_max_stanza(c->xml, v < CONN_MAX_STANZA_CAP ? v : CONN_MAX_STANZA_CAP);
}

static void conn_save_cache(struct xu_conn *c)
{
	char why[300];

	if (!c->cache_dirty)
		return;
	if (xu_cache_store(c->cache_dir, c->cache_account, &c->cache, why, sizeof(why)))
		conn_log(c, XU_LOG_INFO, "not cached: %s", why);
	c->cache_dirty = false;
}

/* The cache follows what the server offers now. */
static void conn_note_sm(struct xu_conn *c, const struct xu_stanza *features)
{
	int sm = xu_stanza_child(features, "sm", XU_NS_SM) != NULL;

	if (c->cache.sm != sm) {
		c->cache.sm = sm;
		c->cache_dirty = true;
	}
}

static enum xu_err conn_send_bind(struct xu_conn *c)
{
	struct xu_stanza *iq = NULL, *bind;
	const char *res = c->resource ? c->resource : xu_jid_resource(c->jid);
	enum xu_err err;

	err = conn_new_iq(c, "set", "bind", XU_NS_BIND, &iq, &c->bind_id);
	if (err)
		return conn_fail(c, err, "out of memory");
	bind = xu_stanza_first(iq);
	if (res && *res) {
		struct xu_stanza *r = xu_stanza_add_new(bind, "resource", NULL);

		if (!r || xu_stanza_add_text(r, res, strlen(res))) {
			xu_stanza_free(iq);
			return conn_fail(c, XU_ERR_NOMEM, "out of memory");
		}
	}
	err = conn_write(c, iq);
	xu_stanza_free(iq);
	return err;
}

/* RFC 3921 sessions: only when the server marks them required (RFC 6121 Appendix E). */
static enum xu_err conn_session(struct xu_conn *c, const struct xu_stanza *features)
{
	const struct xu_stanza *sess = xu_stanza_child(features, "session", XU_NS_SESSION);
	struct xu_stanza *iq = NULL;
	enum xu_err err;

	if (!sess || xu_stanza_child(sess, "optional", NULL))
		return XU_OK;
	err = conn_new_iq(c, "set", "session", XU_NS_SESSION, &iq, &c->session_id);
	if (err)
		return conn_fail(c, err, "out of memory");
	err = conn_write(c, iq);
	xu_stanza_free(iq);
	return err;
}

/* What every set of features after authentication tells: limits, stream management (for the
 * cache), and binding, which must be there (RFC 6120 §7). */
static enum xu_err conn_post_auth(struct xu_conn *c, const struct xu_stanza *features)
{
	conn_limits(c, features);
	conn_note_sm(c, features);
	if (!xu_stanza_child(features, "bind", XU_NS_BIND))
		return conn_fail(c, XU_ERR_PROTO, "server offers no resource binding");
	return XU_OK;
}

/* XEP-0198 <enable/>, asking for resumption when we want it. */
static enum xu_err conn_send_enable(struct xu_conn *c)
{
	enum xu_err err =
	    conn_write_raw(c, c->resumable ? "<enable xmlns='" XU_NS_SM "' resume='true'/>"
	                                   : "<enable xmlns='" XU_NS_SM "'/>");

	c->sm_requested = !err;
	return err;
}

/* Enable XEP-0198 when the features offer it. */
static enum xu_err conn_enable_sm(struct xu_conn *c, const struct xu_stanza *features)
{
	if (!xu_stanza_child(features, "sm", XU_NS_SM))
		return XU_OK;
	return conn_send_enable(c);
}

/* After authentication: XEP-0478 limits, then bind, session and SM enable in one flight:
 * the server handles them in order (RFC 6120 §10.1), so nothing is gained by waiting. */
static enum xu_err conn_bind(struct xu_conn *c, const struct xu_stanza *features)
{
	enum xu_err err = conn_post_auth(c, features);

	if (err)
		return err;
	err = conn_send_bind(c);
	if (!err)
		err = conn_session(c, features);
	if (!err)
		err = conn_enable_sm(c, features);
	if (err)
		return err;
	conn_log(c, XU_LOG_INFO, "binding a resource%s%s",
	         c->session_id ? ", starting a session" : "",
	         c->sm_requested ? ", enabling stream management" : "");
	c->state = CONN_BIND;
	/* Pipelined, but the cache could not tell what the server offers: the features said it;
	 * stanzas may follow at once. */
	c->early = c->pipeline;
	return XU_OK;
}

/* Bound with the authentication (Bind2): what is left is the features' limits and stream
 * management (its own <enable/>: inline enabling needs more than Prosody 0.12 has). */
static enum xu_err conn_bound2(struct xu_conn *c, const struct xu_stanza *features)
{
	enum xu_err err;

	conn_limits(c, features);
	conn_note_sm(c, features);
	err = conn_session(c, features);
	if (!err)
		err = conn_enable_sm(c, features);
	if (err)
		return err;
	c->state = CONN_BIND;
	c->early = c->pipeline;
	return conn_maybe_ready(c);
}

static enum xu_err conn_request_confirmation(struct xu_conn *c);

/* Our <enable/> will not be granted (<failed/>, or pipelined to a server that no longer offers
 * stream management, which may just ignore it): pings confirm, including what an <r/> sent
 * meanwhile asked for. */
static enum xu_err conn_sm_refused(struct xu_conn *c, const char *why)
{
	c->sm_requested = false;
	conn_log(c, XU_LOG_INFO, "no stream management (%s): confirming with pings", why);
	if (!c->r_sent)
		return XU_OK;
	c->r_sent = false;
	return conn_request_confirmation(c);
}

/* Pipelined: binding cannot depend on the features to come (every server offers it after
 * authentication, RFC 6120 §7), so it goes out behind the restart header, with stream
 * management when the server offered it last time (the cache; without one, the features
 * decide, as on the first contact). */
static enum xu_err conn_bind_early(struct xu_conn *c)
{
	enum xu_err err = conn_send_bind(c);

	if (!err && c->cache.sm == 1)
		err = conn_send_enable(c);
	c->early = !err;
	if (!err)
		conn_log(c, XU_LOG_INFO, "binding a resource%s (pipelined)",
		         c->sm_requested ? ", enabling stream management" : "");
	return err;
}

/* Pipelined (xu_conn_opts.pipeline): the bind request (and <enable/>, by the cache) went out
 * behind the restart header, before these features; check them now. A session the server
 * requires goes out late (what was sent before it may bounce, and says so). */
static enum xu_err conn_bind_checked(struct xu_conn *c, const struct xu_stanza *features)
{
	enum xu_err err = conn_post_auth(c, features);

	if (err)
		return err;
	if (c->sm_requested && c->cache.sm != 1) {
		c->sm_stale = true;
		conn_save_cache(c);
		err = conn_sm_refused(c, "the server no longer offers it");
		if (err)
			return err;
	}
	err = conn_session(c, features);
	if (err)
		return err;
	c->state = CONN_BIND;
	return conn_maybe_ready(c);
}

/* XEP-0484: a cached token this connection can use: no mechanism forced, not expired (a
 * minute's margin), its channel binding available (tls-exporter needs TLS 1.3, tls-unique
 * 1.2). */
static bool conn_fast_ready(const struct xu_conn *c)
{
	const struct xu_cache *k = &c->cache;
	const char *cb;

	if (!k->fast_mech[0] || !k->agent[0] || c->mechanism ||
	    k->fast_expiry_ms < (int64_t)time(NULL) * 1000 + 60000 ||
	    !xu_sasl_ht(k->fast_mech, &cb))
		return false;
	if (!cb)
		return true;
	if (!c->tls_active)
		return false;
	if (strcmp(cb, "tls-exporter") == 0)
		return xu_tls_is13(c->tls);
	return strcmp(cb, "tls-unique") != 0 || !xu_tls_is13(c->tls);
}

/* The cached token, unmasked into tok, when it can be used here and its mechanism is still
 * offered. Its length, or 0. */
static size_t conn_fast_token(struct xu_conn *c, const struct xu_sasl2_offer *o,
                              unsigned char tok[XU_CACHE_TOKEN_MAX])
{
	const struct xu_cache *k = &c->cache;

	if (!conn_fast_ready(c) || !xu_sasl2_offers_fast(o, k->fast_mech))
		return 0;
	memcpy(tok, k->fast_token, k->fast_len);
	if (xu_cache_mask_token(tok, k->fast_len, c->password, k->agent) != XU_OK)
		return 0;
	return k->fast_len;
}

/* The HT-* mechanism to ask a token for: bound to this TLS session where the server can
 * (tls-exporter on 1.3, tls-unique on 1.2, or the certificate), else -NONE. */
static const char *conn_fast_pick(const struct xu_conn *c, const struct xu_sasl2_offer *o)
{
	const char *const pref[] = {xu_tls_is13(c->tls) ? "HT-SHA-256-EXPR" : "HT-SHA-256-UNIQ",
	                            "HT-SHA-256-ENDP", "HT-SHA-256-NONE"};
	size_t i;

	for (i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
		if (xu_sasl2_offers_fast(o, pref[i]))
			return pref[i];
	return NULL;
}

/* XEP-0388: the SASL2 parts of <authenticate/>. With the cache: a stable user-agent id and a
 * FAST token asked for (or used); Bind2 when the server offers it, we bind a new session and
 * no resource was asked for (Bind2 lets the server choose it). */
static enum xu_err conn_sasl2_request(struct xu_conn *c, const struct xu_sasl2_offer *o,
                                      struct xu_stanza *auth)
{
	struct xu_sasl2_request r;
	const char *res = c->resource ? c->resource : xu_jid_resource(c->jid);

	memset(&r, 0, sizeof(r));
	if (c->cache_dir && !c->cache.agent[0] && xu_cache_new_agent(c->cache.agent) == XU_OK)
		c->cache_dirty = true;
	if (c->cache_dir && c->cache.agent[0]) {
		r.agent = c->cache.agent;
		r.fast = c->fast_used;
		/* A token used is renewed by the server when it is due; else ask for one. */
		r.token_mech = c->fast_used || c->mechanism ? NULL : conn_fast_pick(c, o);
		c->fast_asked = r.token_mech;
	}
	if (o->bind2 && !c->resume_id && !(res && *res))
		r.bind_tag = "xmpp-utils";
	if (xu_sasl2_request(auth, &r) != XU_OK)
		return conn_fail(c, XU_ERR_NOMEM, "out of memory");
	return XU_OK;
}

static enum xu_err conn_authenticate(struct xu_conn *c, const struct xu_stanza *features)
{
	struct xu_sasl_params p;
	struct xu_scram_salted known;
	struct xu_sasl2_offer o;
	struct xu_stanza *auth = NULL;
	unsigned char tok[XU_CACHE_TOKEN_MAX];
	enum xu_err err;

	c->sasl2 = xu_sasl2_offer(features, &o);
	if (!c->sasl2 && !xu_stanza_child(features, "mechanisms", XU_NS_SASL))
		return conn_fail(c, XU_ERR_PROTO, "server offers no SASL authentication");
	memset(&p, 0, sizeof(p));
	p.authcid = xu_jid_local(c->jid);
	p.password = c->password;
	p.force = c->mechanism;
	p.tls = c->tls_active;
	p.tls_session = c->tls_active ? c->tls : NULL;
	p.sasl2 = c->sasl2;
	/* The salted password of the last login (the cache): no PBKDF2 while the salt holds. */
	known = c->cache.scram;
	if (c->cache.has_scram && xu_cache_mask(&known, c->password) == XU_OK)
		p.known = &known;
	if (c->sasl2 && c->cache_dir && (p.token_len = conn_fast_token(c, &o, tok)) > 0) {
		p.token = tok;
		p.token_mech = c->cache.fast_mech;
	}
	err = xu_sasl_start(&p, features, &c->sasl, &auth, c->errmsg, sizeof(c->errmsg));
	gnutls_memset(&known, 0, sizeof(known));
	gnutls_memset(tok, 0, sizeof(tok));
	if (err)
		return conn_fail(c, err, "%s", c->errmsg);
	c->fast_used = p.token != NULL;
	if (c->sasl2)
		err = conn_sasl2_request(c, &o, auth);
	if (err) {
		xu_stanza_free(auth);
		return err;
	}
	conn_log(c, XU_LOG_INFO, "authenticating as %s with %s%s", xu_jid_bare(c->jid),
	         xu_sasl_mechanism(c->sasl), c->sasl2 ? " (SASL2)" : "");
	err = conn_write(c, auth);
	xu_stanza_free(auth);
	c->state = CONN_SASL;
	return err;
}

/* resend_unacked: a new session takes over the copies of our stanzas the old one left
 * unconfirmed, numbered again from 1, to be sent once it is ready (conn_maybe_ready); their
 * tracking entries (ids, recipients) go with them. The rest is forgotten. */
static void conn_carry_unconfirmed(struct xu_conn *c)
{
	size_t i, k = 0, t = 0;

	for (i = 0; i < c->nunacked; i++) {
		if (c->unacked[i].tracked && c->unacked[i].seq > c->confirmed) {
			c->unacked[k] = c->unacked[i];
			c->unacked[k].seq = k + 1;
			k++;
		} else {
			free(c->unacked[i].xml);
		}
	}
	c->nunacked = k;
	for (i = 0; i < c->ntrack; i++) {
		if (c->track[i].seq > c->confirmed) {
			c->track[t] = c->track[i];
			c->track[t].seq = t + 1;
			t++;
		} else {
			free(c->track[i].id);
			free(c->track[i].to);
		}
	}
	c->ntrack = t;
	c->seq = c->confirmed = 0;
	c->resend_due = k;
}

/* The session we tried to resume is gone: what it had not acknowledged is lost with it (the
 * server bounces or stores it; with resend_unacked ours are carried to the new session), and
 * numbering starts again on a new session. */
static void conn_resume_forget(struct xu_conn *c, const char *why)
{
	size_t i;

	conn_log(c, XU_LOG_INFO, "cannot resume the session (%s): starting a new one", why);
	free(c->resume_id);
	c->resume_id = NULL;
	xu_jid_free(c->bound);
	c->bound = NULL;
	c->sm_in = 0;
	if (c->resend) {
		conn_carry_unconfirmed(c);
		return;
	}
	c->seq = c->confirmed = 0;
	conn_drop_unacked(c, UINT64_MAX);
	for (i = 0; i < c->ntrack; i++) {
		free(c->track[i].id);
		free(c->track[i].to);
	}
	c->ntrack = 0;
}

/* XEP-0198 §5: after authentication, ask for the old session instead of binding. */
static enum xu_err conn_resume(struct xu_conn *c, const struct xu_stanza *f)
{
	struct xu_stanza *r;
	char h[16];
	enum xu_err err;

	if (!xu_stanza_child(f, "sm", XU_NS_SM)) {
		conn_resume_forget(c, "the server no longer offers stream management");
		return conn_bind(c, f);
	}
	/* h: what we handled of the old session's stanzas (sm_in carried over, modulo 2^32). */
	snprintf(h, sizeof(h), "%u", (uint32_t)c->sm_in);
	r = xu_stanza_new("resume", XU_NS_SM);
	if (!r || xu_stanza_set_attr(r, "h", h) || xu_stanza_set_attr(r, "previd", c->resume_id)) {
		xu_stanza_free(r);
		return conn_fail(c, XU_ERR_NOMEM, "out of memory");
	}
	err = conn_write(c, r);
	xu_stanza_free(r);
	conn_log(c, XU_LOG_INFO, "resuming the previous session");
	c->state = CONN_RESUME;
	return err;
}

/* <resumed h previd/>: the server has what it acknowledges; send the rest again. */
static enum xu_err conn_resumed(struct xu_conn *c, const struct xu_stanza *st)
{
	const char *previd = xu_stanza_attr(st, "previd");
	enum xu_err err;
	size_t i;

	if (!previd || strcmp(previd, c->resume_id) != 0)
		return conn_fail(c, XU_ERR_PROTO, "server resumed a session we did not ask for");
	err = conn_handle_ack(c, st);
	if (err)
		return err;
	for (i = 0; i < c->nunacked; i++) {
		if (xu_buf_adds(&c->out, c->unacked[i].xml) != XU_OK)
			return conn_fail(c, XU_ERR_NOMEM, "out of memory");
		if (c->unacked[i].tracked)
			c->resent++;
	}
	c->sm_id = c->resume_id;
	c->resume_id = NULL;
	c->sm_enabled = true;
	c->resumed = true;
	c->state = CONN_READY;
	conn_log(c, XU_LOG_INFO, "session resumed as %s (%zu stanza(s) sent again)",
	         xu_jid_full(c->bound), c->nunacked);
	return XU_OK;
}

/* The cache follows the SASL offer (over TLS: what a plaintext stream offers may differ).
 * True when it differs from what the cache held. */
static bool conn_note_offer(struct xu_conn *c, const struct xu_stanza *f)
{
	char mechs[sizeof(c->cache.mechs)], cbs[sizeof(c->cache.cbs)];
	char sasl2[sizeof(c->cache.sasl2)];

	if (!xu_sasl_offer(f, mechs, sizeof(mechs), cbs, sizeof(cbs)) ||
	    !xu_sasl2_inline(f, sasl2, sizeof(sasl2)))
		mechs[0] = cbs[0] = sasl2[0] = '\0';
	if (strcmp(mechs, c->cache.mechs) == 0 && strcmp(cbs, c->cache.cbs) == 0 &&
	    strcmp(sasl2, c->cache.sasl2) == 0)
		return false;
	memcpy(c->cache.mechs, mechs, sizeof(mechs));
	memcpy(c->cache.cbs, cbs, sizeof(cbs));
	memcpy(c->cache.sasl2, sasl2, sizeof(sasl2));
	c->cache_dirty = true;
	return true;
}

/* Pipelined: with the cached SASL offer, the <auth/> (SASL2: <authenticate/>, with the Bind2
 * and FAST parts the server offered) goes out with the stream header after the TLS handshake.
 * Only SCRAM or a FAST token: a server answers PLAIN at once, which an <abort/> could not
 * undo. */
static enum xu_err conn_auth_early(struct xu_conn *c)
{
	bool sasl2 = c->cache.sasl2[0] != '\0';
	struct xu_stanza *f;
	enum xu_err err;

	if (!c->pipeline || !c->cache.mechs[0] || !c->cache.cbs[0])
		return XU_OK;
	if (!(sasl2 && conn_fast_ready(c)) &&
	    (!strstr(c->cache.mechs, "SCRAM-") ||
	     (c->mechanism && strncasecmp(c->mechanism, "SCRAM-", 6) != 0)))
		return XU_OK;
	f = xu_sasl_offer_features(c->cache.mechs, c->cache.cbs, sasl2);
	if (!f || (sasl2 && xu_sasl2_inline_add(f, c->cache.sasl2) != XU_OK)) {
		xu_stanza_free(f);
		return conn_fail(c, XU_ERR_NOMEM, "out of memory");
	}
	err = conn_authenticate(c, f);
	xu_stanza_free(f);
	if (err)
		return err;
	c->sasl_early = true;
	c->state = CONN_STREAM; /* the features come first */
	return XU_OK;
}

/* The features arrived behind our early <auth/>: the same offer as cached means the same
 * choice (xu_sasl_start decides from the offer alone, XEP-0474 checks it): carry on. Else
 * abort that exchange (RFC 6120 §6.4.4) and start one from what the server offers now. */
static enum xu_err conn_check_early_auth(struct xu_conn *c, const struct xu_stanza *f)
{
	struct xu_sasl2_offer o;

	c->sasl_early = false;
	c->state = CONN_SASL;
	if (!conn_note_offer(c, f))
		return XU_OK;
	conn_save_cache(c);
	/* A token still offered is all a FAST login needs. */
	if (c->fast_used && xu_sasl2_offer(f, &o) && xu_sasl2_offers_fast(&o, c->cache.fast_mech))
		return XU_OK;
	if (c->sasl2) {
		/* No <abort/> of SASL2 to count on (the server may not even offer it now): a
		 * new connection starts from the server's features. */
		c->fresh_login = true;
		return conn_fail(c, XU_ERR_AUTH, "the server's SASL offer changed since the cache");
	}
	conn_log(c, XU_LOG_INFO, "the server's SASL offer changed since the cache: starting over");
	xu_stanza_free(c->auth_features);
	c->auth_features = xu_stanza_copy(f);
	if (!c->auth_features)
		return conn_fail(c, XU_ERR_NOMEM, "out of memory");
	c->sasl_aborting = true;
	return conn_write_raw(c, "<abort xmlns='" XU_NS_SASL "'/>");
}

/* While aborting: the answers to the early <auth/> are dropped until the <failure><aborted/>
 * that answers the <abort/>; then authentication starts over. */
static enum xu_err conn_sasl_aborting(struct xu_conn *c, const struct xu_stanza *st)
{
	if (strcmp(xu_stanza_name(st), "failure") != 0 ||
	    !xu_stanza_child(st, "aborted", XU_NS_SASL))
		return strcmp(xu_stanza_name(st), "success") == 0
		           ? conn_fail(c, XU_ERR_PROTO,
		                       "server reported success for an aborted login")
		           : XU_OK;
	c->sasl_aborting = false;
	xu_sasl_free(c->sasl);
	c->sasl = NULL;
	return conn_authenticate(c, c->auth_features);
}

static enum xu_err conn_features(struct xu_conn *c, const struct xu_stanza *f)
{
	if (!c->tls_active) {
		if (xu_stanza_child(f, "starttls", XU_NS_TLS)) {
			enum xu_err err = XU_OK;

			if (!c->starttls_sent)
				err = conn_write_raw(c, "<starttls xmlns='" XU_NS_TLS "'/>");
			c->state = CONN_STARTTLS;
			conn_log(c, XU_LOG_INFO, "starting TLS (STARTTLS)");
			return err;
		}
		if (!c->allow_plaintext)
			return conn_fail(c, XU_ERR_TLS,
			                 "server does not offer STARTTLS: refusing an unencrypted "
			                 "connection (--allow-plaintext to accept)");
		if (!c->authenticated)
			conn_log(c, XU_LOG_WARN,
			         "warning: continuing WITHOUT encryption (--allow-plaintext)");
	}
	if (c->sasl_early)
		return conn_check_early_auth(c, f);
	if (!c->authenticated && c->tls_active)
		conn_note_offer(c, f);
	if (!c->authenticated)
		return conn_authenticate(c, f);
	xu_stanza_free(c->offered);
	c->offered = xu_stanza_copy(f);
	if (!c->offered)
		return conn_fail(c, XU_ERR_NOMEM, "out of memory");
	if (c->resume_id)
		return conn_resume(c, f);
	if (c->bound2)
		return conn_bound2(c, f);
	if (c->early)
		return conn_bind_checked(c, f);
	return conn_bind(c, f);
}

/* A login that ran PBKDF2 leaves its salted password in the cache, masked. */
static void conn_remember_salted(struct xu_conn *c)
{
	struct xu_scram_salted salted;
	bool reused;

	if (!xu_sasl_salted(c->sasl, &salted, &reused))
		return;
	if (reused) {
		conn_log(c, XU_LOG_INFO, "SCRAM key from the cache (no PBKDF2)");
		gnutls_memset(&salted, 0, sizeof(salted));
		return;
	}
	if (xu_cache_mask(&salted, c->password) == XU_OK) {
		c->cache.scram = salted;
		c->cache.has_scram = true;
		c->cache_dirty = true;
	}
	gnutls_memset(&salted, 0, sizeof(salted));
}

static bool conn_salted_reused(const struct xu_conn *c)
{
	bool reused = false;

	return c->sasl && xu_sasl_salted(c->sasl, NULL, &reused) && reused;
}

/* Refused with the remembered salted password: a wrong password, or (rarely: servers salt each
 * new password afresh) a password changed under the same salt. Retrying on this stream is no
 * cure (Prosody 0.12 fails a second SCRAM-PLUS exchange), so the key is forgotten and the next
 * run derives it again. */
static void conn_forget_salted(struct xu_conn *c)
{
	c->cache.has_scram = false;
	gnutls_memset(&c->cache.scram, 0, sizeof(c->cache.scram));
	c->cache_dirty = true;
	conn_save_cache(c);
}

/* XEP-0484: a new token (masked) for the next login. */
static void conn_keep_token(struct xu_conn *c, const struct xu_sasl2_outcome *o)
{
	const char *mech = c->fast_used ? c->cache.fast_mech : NULL;
	size_t n = o->token ? strlen(o->token) : 0;
	int64_t expiry;

	if (!n || !c->cache_dir || !c->cache.agent[0])
		return;
	if (!mech)
		mech = c->fast_asked;
	if (!mech || n > XU_CACHE_TOKEN_MAX || strlen(mech) >= sizeof(c->cache.fast_mech) ||
	    !o->expiry || !xu_utc_parse(o->expiry, &expiry))
		return;
	memmove(c->cache.fast_mech, mech, strlen(mech) + 1);
	memcpy(c->cache.fast_token, o->token, n);
	c->cache.fast_len = n;
	c->cache.fast_expiry_ms = expiry;
	if (xu_cache_mask_token(c->cache.fast_token, n, c->password, c->cache.agent) != XU_OK)
		c->cache.fast_mech[0] = '\0';
	c->cache_dirty = true;
}

/* XEP-0388 success: no stream restart. The JID is the authorization identifier; with Bind2
 * it carries the resource the server bound. The features follow (conn_features). */
static enum xu_err conn_sasl2_success(struct xu_conn *c, const struct xu_stanza *st)
{
	struct xu_sasl2_outcome o;
	const char *why = NULL;
	char msg[400];

	xu_sasl2_outcome(st, &o);
	conn_keep_token(c, &o);
	if (o.bind_failed) {
		xu_error_describe(o.bind_failed, XU_NS_STANZAS, msg, sizeof(msg));
		return conn_fail(c, XU_ERR_REFUSED, "resource binding refused: %s", msg);
	}
	if (o.bound) {
		if (!o.authzid || xu_jid_parse(o.authzid, &c->bound, &why) != XU_OK ||
		    !xu_jid_resource(c->bound) || !xu_jid_bare_equal(c->bound, c->jid))
			return conn_fail(c, XU_ERR_PROTO, "server bound an invalid JID%s%s",
			                 why ? ": " : "", why ? why : "");
		conn_log(c, XU_LOG_INFO, "bound to %s (Bind2)", xu_jid_full(c->bound));
		c->bound2 = true;
	}
	c->state = CONN_STREAM;
	return XU_OK;
}

static enum xu_err conn_sasl_step(struct xu_conn *c, const struct xu_stanza *st)
{
	const char *name = xu_stanza_name(st);
	struct xu_stanza *reply = NULL;
	enum xu_err err;
	char why[400];

	if (c->sasl_aborting)
		return conn_sasl_aborting(c, st);
	if (strcmp(name, "challenge") == 0) {
		err = xu_sasl_challenge(c->sasl, st, &reply, c->errmsg, sizeof(c->errmsg));
		if (err)
			return conn_fail(c, err, "%s", c->errmsg);
		err = conn_write(c, reply);
		xu_stanza_free(reply);
		return err;
	}
	if (strcmp(name, "success") == 0) {
		err = xu_sasl_success(c->sasl, st, c->errmsg, sizeof(c->errmsg));
		if (err)
			return conn_fail(c, err, "%s", c->errmsg);
		conn_remember_salted(c);
		c->authenticated = true;
		conn_log(c, XU_LOG_INFO, "authenticated");
		if (c->sasl2)
			return conn_sasl2_success(c, st);
		err = xu_xml_restart(c->xml);
		if (err)
			return conn_fail(c, err, "out of memory");
		err = conn_send_header(c);
		if (!err && c->pipeline && c->cache.sm >= 0)
			err = conn_bind_early(c);
		return err;
	}
	if (strcmp(name, "failure") == 0) {
		bool reused = conn_salted_reused(c);

		if (reused)
			conn_forget_salted(c);
		xu_error_describe(st, XU_NS_SASL, why, sizeof(why));
		if (c->fast_used) {
			/* Expired or revoked early, or the server lost it: the password still
			 * works. */
			c->cache.fast_mech[0] = '\0';
			c->cache_dirty = true;
			conn_save_cache(c);
			c->fresh_login = true;
			return conn_fail(c, XU_ERR_AUTH, "the cached FAST token was refused: %s",
			                 why);
		}
		return conn_fail(c, XU_ERR_AUTH, "authentication failed: %s%s", why,
		                 reused ? " (with the cached SCRAM key, now dropped)" : "");
	}
	if (c->sasl2 && strcmp(name, "continue") == 0)
		return conn_fail(c, XU_ERR_AUTH,
		                 "the server asks for more than the password (SASL2 <continue/>)");
	return conn_fail(c, XU_ERR_PROTO, "unexpected <%s/> during authentication", name);
}

/* The answer to our bind or session request. */
static bool conn_is_negotiation_iq(const struct xu_conn *c, const struct xu_stanza *st)
{
	const char *id = xu_stanza_attr(st, "id");

	return strcmp(xu_stanza_name(st), "iq") == 0 &&
	       strcmp(xu_stanza_ns(st), XU_NS_CLIENT) == 0 && id &&
	       ((c->bind_id && strcmp(id, c->bind_id) == 0) ||
	        (c->session_id && strcmp(id, c->session_id) == 0));
}

static enum xu_err conn_bind_result(struct xu_conn *c, struct xu_stanza *st)
{
	const char *type = xu_stanza_attr(st, "type");
	const char *id = xu_stanza_attr(st, "id");
	char why[400];

	if (!type || !id)
		return XU_OK;
	if (c->bind_id && strcmp(id, c->bind_id) == 0) {
		const char *j;
		const char *jwhy = NULL;

		if (strcmp(type, "result") != 0) {
			xu_error_describe(xu_stanza_child(st, "error", NULL), XU_NS_STANZAS, why,
			                  sizeof(why));
			return conn_fail(c, XU_ERR_REFUSED, "resource binding refused: %s", why);
		}
		j = xu_stanza_child_text(xu_stanza_child(st, "bind", XU_NS_BIND), "jid", NULL);
		if (!j || xu_jid_parse(j, &c->bound, &jwhy) != XU_OK ||
		    !xu_jid_resource(c->bound) || !xu_jid_bare_equal(c->bound, c->jid))
			return conn_fail(c, XU_ERR_PROTO, "server bound an invalid JID%s%s",
			                 jwhy ? ": " : "", jwhy ? jwhy : "");
		free(c->bind_id);
		c->bind_id = NULL;
		conn_log(c, XU_LOG_INFO, "bound to %s", xu_jid_full(c->bound));
	} else if (c->session_id && strcmp(id, c->session_id) == 0) {
		if (strcmp(type, "result") != 0) {
			xu_error_describe(xu_stanza_child(st, "error", NULL), XU_NS_STANZAS, why,
			                  sizeof(why));
			return conn_fail(c, XU_ERR_REFUSED, "session refused: %s", why);
		}
		free(c->session_id);
		c->session_id = NULL;
	}
	return XU_OK;
}

/* Bound (and SM answered): ready. A new session that took over unconfirmed stanzas sends them
 * first, with their original ids, as the first stanzas it counts. */
static enum xu_err conn_maybe_ready(struct xu_conn *c)
{
	size_t i;

	if (c->state != CONN_BIND || !c->bound || c->bind_id || c->session_id || c->sm_requested)
		return XU_OK;
	c->state = CONN_READY;
	conn_save_cache(c);
	conn_log(c, XU_LOG_INFO, "ready (%s)",
	         c->sm_enabled ? "stream management enabled"
	                       : "no stream management: confirming with pings");
	for (i = 0; i < c->resend_due; i++)
		if (xu_buf_adds(&c->out, c->unacked[i].xml) != XU_OK)
			return conn_fail(c, XU_ERR_NOMEM, "out of memory");
	if (c->resend_due)
		conn_log(c, XU_LOG_INFO, "sent %zu unconfirmed stanza(s) again on the new session",
		         c->resend_due);
	c->seq += c->resend_due;
	c->resent += c->resend_due;
	c->resend_due = 0;
	return XU_OK;
}

/* ---------------------------------------------------------------- incoming stanzas */

/* Answer IQs nobody asked us about; service.c decides what (RFC 6120 §8.2.3). */
static enum xu_err conn_answer_iq(struct xu_conn *c, const struct xu_stanza *iq)
{
	struct xu_stanza *r = NULL;
	enum xu_err err;

	err = xu_service_answer(iq, c->jid, &r);
	if (err)
		return conn_fail(c, err, "out of memory");
	if (!r)
		return XU_OK;
	err = conn_write_counted(c, r, false);
	xu_stanza_free(r);
	return err;
}

/* XEP-0184 §5.1: acknowledge a receipt request on a message we will hand on. */
static enum xu_err conn_receipt(struct xu_conn *c, const struct xu_stanza *m)
{
	const char *id = xu_stanza_attr(m, "id"), *from = xu_stanza_attr(m, "from");
	const char *type = xu_stanza_attr(m, "type");
	struct xu_stanza *r, *rec;
	char *rid = NULL;
	enum xu_err err;

	if (!c->answer_receipts || !id || !from || !xu_stanza_child(m, "request", XU_NS_RECEIPTS) ||
	    (type && (strcmp(type, "groupchat") == 0 || strcmp(type, "error") == 0)))
		return XU_OK;
	err = xu_random_id(12, &rid);
	if (err)
		return conn_fail(c, err, "out of memory");
	r = xu_stanza_new("message", XU_NS_CLIENT);
	rec = r ? xu_stanza_add_new(r, "received", XU_NS_RECEIPTS) : NULL;
	if (!rec || xu_stanza_set_attr(r, "to", from) || xu_stanza_set_attr(r, "id", rid) ||
	    xu_stanza_set_attr(rec, "id", id)) {
		free(rid);
		xu_stanza_free(r);
		return conn_fail(c, XU_ERR_NOMEM, "out of memory");
	}
	free(rid);
	err = conn_write_counted(c, r, false);
	xu_stanza_free(r);
	return err;
}

/* XEP-0280 §11: a carbon is genuine only from our own bare JID; anything else is spoofing. */
static bool conn_foreign_carbon(const struct xu_conn *c, const struct xu_stanza *m)
{
	const char *from = xu_stanza_attr(m, "from");
	struct xu_stanza *ch;
	struct xu_jid *j = NULL;
	const char *why;
	bool own;

	for (ch = xu_stanza_first(m); ch; ch = xu_stanza_next(ch))
		if (strcmp(xu_stanza_ns(ch), XU_NS_CARBONS) == 0)
			break;
	if (!ch)
		return false;
	if (!from || xu_jid_parse(from, &j, &why) != XU_OK)
		return true;
	own = !xu_jid_resource(j) && xu_jid_bare_equal(j, c->jid);
	xu_jid_free(j);
	return !own;
}

/* Keep a received stanza for xu_conn_next. Reading stops at CONN_QUEUE_MAX, so the ring
 * holds at most that plus the stanzas of one read chunk. */
static enum xu_err conn_enqueue(struct xu_conn *c, struct xu_stanza **stp)
{
	if (!c->queue_stanzas)
		return XU_OK;
	if (c->qlen == c->qcap) {
		size_t cap = c->qcap ? c->qcap * 2 : 64, i;
		struct conn_queued *q = malloc(cap * sizeof(*q));

		if (!q)
			return conn_fail(c, XU_ERR_NOMEM, "out of memory");
		for (i = 0; i < c->qlen; i++)
			q[i] = c->queue[(c->qhead + i) % c->qcap];
		free(c->queue);
		c->queue = q;
		c->qcap = cap;
		c->qhead = 0;
	}
	c->queue[(c->qhead + c->qlen) % c->qcap].st = *stp;
	c->queue[(c->qhead + c->qlen) % c->qcap].n = c->sm_in;
	c->qlen++;
	*stp = NULL;
	return XU_OK;
}

/* XEP-0198 h: stanzas handled, in stream order. A stanza still queued for the caller is not
 * handled yet, and nor is anything after it: acknowledging it would let the server forget a
 * message we never passed on (it is redelivered, offline, if we go away now). */
static uint64_t conn_handled(const struct xu_conn *c)
{
	if (c->holding)
		return c->held_n - 1;
	return c->qlen ? c->queue[c->qhead].n - 1 : c->sm_in;
}

static enum xu_err conn_send_ack(struct xu_conn *c);

void xu_conn_handled(struct xu_conn *c)
{
	c->holding = false;
	if (c->qlen == 0 && c->ack_stale && c->sm_enabled && c->state == CONN_READY) {
		/* The server asked while these were in our hands and got a lower h: catch up now,
		 * so it does not redeliver them if the stream dies before it asks again. */
		conn_send_ack(c);
	}
}

enum xu_err xu_conn_next(struct xu_conn *c, struct xu_stanza **st)
{
	*st = NULL;
	xu_conn_handled(c);
	if (c->qlen == 0)
		return c->err;
	*st = c->queue[c->qhead].st;
	c->holding = true;
	c->held_n = c->queue[c->qhead].n;
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
	return XU_OK;
}

/*
 * RFC 6120 §10.1, §8.1.2.1: the answer to an IQ comes from the entity it was sent to. One sent
 * without 'to' (or to our own bare JID) is answered by the server for the account: no 'from',
 * our bare JID, our bound full JID or our domain. A reply from anyone else with the right id is
 * spoofed (or a stray): it is not the answer.
 */
static bool conn_iq_reply_from_ok(const struct xu_conn *c, const char *from)
{
	struct xu_jid *f = NULL, *t = NULL;
	const char *why;
	bool ok;

	if (from && xu_jid_parse(from, &f, &why) != XU_OK)
		return false;
	if (c->iq_wait_to && xu_jid_parse(c->iq_wait_to, &t, &why) != XU_OK) {
		xu_jid_free(f);
		return false;
	}
	if (t && !(xu_jid_bare_equal(t, c->jid) && !xu_jid_resource(t)))
		ok = f && xu_jid_equal(f, t);
	else if (!f)
		ok = true;
	else if (xu_jid_bare_equal(f, c->jid))
		ok = !xu_jid_resource(f) || (c->bound && xu_jid_equal(f, c->bound));
	else
		ok = !xu_jid_local(f) && !xu_jid_resource(f) &&
		     strcmp(xu_jid_domain(f), xu_jid_domain(c->jid)) == 0;
	xu_jid_free(f);
	xu_jid_free(t);
	if (!ok)
		conn_log((struct xu_conn *)c, XU_LOG_INFO,
		         "ignored an IQ reply from another sender than the request's addressee");
	return ok;
}

static enum xu_err conn_ready_stanza(struct xu_conn *c, struct xu_stanza **stp)
{
	struct xu_stanza *st = *stp;
	const char *type = xu_stanza_attr(st, "type");
	const char *id = xu_stanza_attr(st, "id");
	const char *name = xu_stanza_name(st);
	const struct conn_track *t;
	enum xu_err err;

	if (c->sm_enabled)
		c->sm_in++;
	if (strcmp(name, "iq") == 0 && c->ping_id && id && strcmp(id, c->ping_id) == 0 && type &&
	    (strcmp(type, "result") == 0 || strcmp(type, "error") == 0)) {
		/* Either answer proves the server read everything before the ping. */
		if (c->ping_covers > c->confirmed)
			c->confirmed = c->ping_covers;
		conn_drop_unacked(c, c->confirmed);
		free(c->ping_id);
		c->ping_id = NULL;
		return XU_OK;
	}
	if (strcmp(name, "iq") == 0 && c->iq_wait_id && id && strcmp(id, c->iq_wait_id) == 0 &&
	    type && (strcmp(type, "result") == 0 || strcmp(type, "error") == 0) &&
	    conn_iq_reply_from_ok(c, xu_stanza_attr(st, "from"))) {
		xu_stanza_free(c->iq_reply);
		c->iq_reply = *stp;
		*stp = NULL;
		return XU_OK;
	}
	if (type && strcmp(type, "error") == 0) {
		t = conn_track_find(c, id);
		if (t) {
			conn_refusal(c, t, st);
			return XU_OK;
		}
	}
	if (strcmp(name, "iq") == 0)
		return conn_answer_iq(c, st);
	if (strcmp(name, "message") == 0) {
		if (conn_foreign_carbon(c, st)) {
			conn_log(c, XU_LOG_INFO,
			         "dropped a carbon that did not come from the account");
			return XU_OK;
		}
		err = conn_receipt(c, st);
		if (err)
			return err;
	}
	return conn_enqueue(c, stp);
}

static enum xu_err conn_stream_error(struct xu_conn *c, const struct xu_stanza *st)
{
	char why[400];
	struct xu_stanza *ch;
	enum xu_err err = XU_ERR_PROTO;
	const char *cond = NULL;

	xu_error_describe(st, XU_NS_STREAM_ERRORS, why, sizeof(why));
	for (ch = xu_stanza_first(st); ch; ch = xu_stanza_next(ch))
		if (strcmp(xu_stanza_ns(ch), XU_NS_STREAM_ERRORS) == 0 &&
		    strcmp(xu_stanza_name(ch), "text") != 0)
			cond = xu_stanza_name(ch);
	if (cond) {
		if (!strcmp(cond, "system-shutdown") || !strcmp(cond, "reset") ||
		    !strcmp(cond, "connection-timeout") || !strcmp(cond, "resource-constraint") ||
		    !strcmp(cond, "internal-server-error") ||
		    !strcmp(cond, "remote-connection-failed"))
			err = XU_ERR_TEMP;
		else if (!strcmp(cond, "host-unknown") || !strcmp(cond, "host-gone"))
			err = XU_ERR_NOHOST;
		else if (!strcmp(cond, "not-authorized") || !strcmp(cond, "policy-violation"))
			err = XU_ERR_AUTH;
		else if (!strcmp(cond, "conflict"))
			err =
			    XU_ERR_REFUSED; /* another session took our resource: do not fight it */
	}
	/* A server that no longer has stream management may close the stream on the <enable/>
	 * a stale cache made us pipeline: the cache is corrected, and a new connection (which
	 * does not pipeline) succeeds. */
	if (c->sm_stale && cond && strcmp(cond, "unsupported-stanza-type") == 0)
		return conn_fail(c, XU_ERR_TEMP,
		                 "server closed the stream with an error: %s (after a stream "
		                 "management request the cache suggested; cache corrected)",
		                 why);
	/* see-other-host is reported, not followed: following it would let a hostile server
	 * redirect us, and the certificate must match the original domain anyway. */
	return conn_fail(c, err, "server closed the stream with an error: %s", why);
}

/* The parser's stanza handler: route each top-level element by state. */
static enum xu_err conn_on_stanza(void *ctx, struct xu_stanza *st)
{
	struct xu_conn *c = ctx;
	const char *ns = xu_stanza_ns(st);
	const char *name = xu_stanza_name(st);
	enum xu_err err = XU_OK;

	conn_trace(c, "RECV", st);
	if (c->proceed_seen) {
		/* Bytes after <proceed/> before the handshake: STARTTLS injection. */
		err = conn_fail(c, XU_ERR_PROTO, "server sent data after <proceed/>");
		goto out;
	}
	if (strcmp(ns, XU_NS_STREAMS) == 0 && strcmp(name, "error") == 0) {
		err = conn_stream_error(c, st);
		goto out;
	}
	switch (c->state) {
	case CONN_STREAM:
		if (strcmp(ns, XU_NS_STREAMS) == 0 && strcmp(name, "features") == 0)
			err = conn_features(c, st);
		else
			err =
			    conn_fail(c, XU_ERR_PROTO, "expected stream features, got <%s/>", name);
		break;
	case CONN_STARTTLS:
		if (strcmp(ns, XU_NS_TLS) == 0 && strcmp(name, "proceed") == 0)
			c->proceed_seen = true;
		else
			err = conn_fail(c, XU_ERR_TLS, "server refused STARTTLS (<%s/>)", name);
		break;
	case CONN_SASL:
		if (strcmp(ns, c->sasl2 ? XU_NS_SASL2 : XU_NS_SASL) == 0)
			err = conn_sasl_step(c, st);
		else
			err = conn_fail(c, XU_ERR_PROTO, "unexpected <%s/> during authentication",
			                name);
		break;
	case CONN_RESUME:
		if (strcmp(ns, XU_NS_SM) == 0 && strcmp(name, "resumed") == 0) {
			err = conn_resumed(c, st);
		} else if (strcmp(ns, XU_NS_SM) == 0 && strcmp(name, "failed") == 0) {
			char why[400];

			xu_error_describe(st, XU_NS_STANZAS, why, sizeof(why));
			conn_resume_forget(c, why);
			err = conn_bind(c, c->offered);
		} else {
			err = conn_fail(c, XU_ERR_PROTO,
			                "unexpected <%s/> while resuming the session", name);
		}
		break;
	case CONN_BIND:
		if (strcmp(ns, XU_NS_SM) == 0 && strcmp(name, "enabled") == 0) {
			const char *id = xu_stanza_attr(st, "id"),
			           *res = xu_stanza_attr(st, "resume");

			c->sm_requested = false;
			c->sm_enabled = true;
			if (c->resumable && id && *id && res &&
			    (strcmp(res, "true") == 0 || strcmp(res, "1") == 0)) {
				c->sm_id = strdup(id);
				if (!c->sm_id)
					err = conn_fail(c, XU_ERR_NOMEM, "out of memory");
			}
		} else if (strcmp(ns, XU_NS_SM) == 0 && strcmp(name, "failed") == 0) {
			if (c->sm_requested)
				err = conn_sm_refused(c, "refused");
		} else if (conn_is_negotiation_iq(c, st)) {
			err = conn_bind_result(c, st);
		} else if (c->bound && conn_is_stanza(st)) {
			/* Bound already: the server may route to us before its <enabled/> (XEP-0198
			 * counts only after it), and answers to what we pipelined come here too. */
			err = conn_ready_stanza(c, &st);
		}
		if (!err)
			err = conn_maybe_ready(c);
		break;
	case CONN_READY:
	case CONN_CLOSING:
		if (strcmp(ns, XU_NS_SM) == 0 && strcmp(name, "a") == 0) {
			err = conn_handle_ack(c, st);
		} else if (strcmp(ns, XU_NS_SM) == 0 && strcmp(name, "r") == 0 && c->sm_enabled) {
			err = conn_send_ack(c);
		} else if (conn_is_stanza(st)) {
			err = conn_ready_stanza(c, &st);
		}
		break;
	default:
		err = conn_fail(c, XU_ERR_PROTO, "unexpected <%s/>", name);
		break;
	}
out:
	xu_stanza_free(st);
	return err;
}

static enum xu_err conn_on_open(void *ctx, const struct xu_stanza *header)
{
	struct xu_conn *c = ctx;
	const char *v = xu_stanza_attr(header, "version");

	conn_log(c, XU_LOG_DEBUG, "RECV <stream:stream id='%s' version='%s'>",
	         xu_stanza_attr(header, "id") ? xu_stanza_attr(header, "id") : "", v ? v : "");
	if (!v || strtoul(v, NULL, 10) < 1)
		return conn_fail(c, XU_ERR_PROTO, "server does not speak XMPP 1.0 (version '%s')",
		                 v ? v : "");
	return XU_OK;
}

static enum xu_err conn_on_close(void *ctx)
{
	struct xu_conn *c = ctx;

	conn_log(c, XU_LOG_DEBUG, "RECV </stream:stream>");
	c->server_closed = true;
	if (c->state != CONN_CLOSING)
		return conn_fail(c, XU_ERR_TEMP, "server closed the stream");
	return XU_OK;
}

/* ---------------------------------------------------------------- the non-blocking core */

static enum xu_err conn_read(struct xu_conn *c)
{
	char buf[CONN_READ_CHUNK];
	size_t n = 0;
	ssize_t r;
	enum xu_err err;
	int rounds = 0;

#ifdef TCP_QUICKACK
	/* The kernel re-enables delayed ACKs after a while; against a server that leaves Nagle on
	 * (Prosody 0.12) every delayed ACK stalls the next exchange by ~40 ms. */
	{
		int one = 1;

		setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	}
#endif
	/* Bounded rounds so one chatty server cannot starve the caller's loop; a full queue
	 * stops reading altogether until the caller catches up. */
	while (rounds++ < 16 && !c->err && !c->proceed_seen && CONN_CAN_READ(c)) {
		if (c->tls_active) {
			err =
			    xu_tls_read(c->tls, buf, sizeof(buf), &n, c->errmsg, sizeof(c->errmsg));
			if (err) {
				c->eof = true;
				if (c->state == CONN_CLOSING)
					return XU_OK;
				return conn_lost(c, err, c->errmsg);
			}
		} else {
			r = recv(c->fd, buf, sizeof(buf), 0);
			if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
				r = 0;
			else if (r == 0) {
				c->eof = true;
				if (c->state == CONN_CLOSING)
					return XU_OK;
				return conn_lost(c, XU_ERR_TEMP,
				                 "the server closed the connection");
			} else if (r < 0) {
				char what[300];

				c->eof = true;
				snprintf(what, sizeof(what), "connection lost: %s",
				         strerror(errno));
				return conn_lost(c, XU_ERR_TEMP, what);
			}
			n = (size_t)r;
		}
		if (n == 0)
			break;
		/* Anything from the server proves it alive: no probe needed for a while. */
		c->last_rx = xu_now_ms();
		c->probe_deadline = 0;
		err = xu_xml_feed(c->xml, buf, n);
		if (err && !c->err) {
			/* The parser failed on its own: tell the server why (RFC 6120 §4.9). */
			char se[200];

			snprintf(se, sizeof(se),
			         "<stream:error><%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
			         "</stream:error></stream:stream>",
			         xu_xml_condition(c->xml) ? xu_xml_condition(c->xml)
			                                  : "not-well-formed");
			conn_write_raw(c, se);
			conn_pump(c);
			return conn_fail(c, err == XU_ERR_NOMEM ? err : XU_ERR_PROTO,
			                 "invalid XML from the server: %s", xu_xml_errmsg(c->xml));
		}
		if (err)
			return c->err;
		if (c->tls_active && xu_tls_pending(c->tls) == 0 && n < sizeof(buf))
			break;
	}
	return c->err;
}

/* Ask the server to confirm what we sent: an XEP-0198 <r/>, or without stream management
 * an XEP-0199 ping covering everything sent so far. Nothing while one is outstanding. */
static enum xu_err conn_request_confirmation(struct xu_conn *c)
{
	struct xu_stanza *ping;
	enum xu_err err;

	if (c->sm_enabled || c->sm_requested) {
		if (c->r_sent)
			return XU_OK;
		c->r_sent = true;
		return conn_write_raw(c, "<r xmlns='urn:xmpp:sm:3'/>");
	}
	if (c->ping_id)
		return XU_OK;
	err = conn_new_iq(c, "get", "ping", XU_NS_PING, &ping, &c->ping_id);
	if (err)
		return conn_fail(c, err, "out of memory");
	xu_stanza_set_attr(ping, "to", xu_jid_domain(c->jid));
	c->ping_covers = c->seq;
	err = conn_write(c, ping);
	xu_stanza_free(ping);
	return err;
}

/* Tell the server how many of its stanzas we handled (XEP-0198 §4; also unrequested). */
static enum xu_err conn_send_ack(struct xu_conn *c)
{
	char a[64];

	/* h counts modulo 2^32 (XEP-0198 §5). */
	snprintf(a, sizeof(a), "<a xmlns='urn:xmpp:sm:3' h='%u'/>", (uint32_t)conn_handled(c));
	/* Stanzas still queued or in the caller's hands are left out: ack them once handled. */
	c->ack_stale = c->qlen > 0 || c->holding;
	return conn_write_raw(c, a);
}

/* Liveness for long-lived connections: probe after keepalive_ms of silence, give up when
 * the probe is not answered within timeout_ms. */
static enum xu_err conn_timers(struct xu_conn *c)
{
	int64_t now = xu_now_ms();
	enum xu_err err;

	if (c->state != CONN_READY || !c->keepalive_ms)
		return XU_OK;
	if (c->probe_deadline) {
		if (now < c->probe_deadline)
			return XU_OK;
		return conn_fail(c, XU_ERR_TEMP,
		                 "connection lost: no answer from the server for %u s",
		                 (unsigned)((now - c->last_rx) / 1000));
	}
	if (now - c->last_rx < (int64_t)c->keepalive_ms)
		return XU_OK;
	err = conn_request_confirmation(c);
	c->probe_deadline = now + c->timeout_ms;
	return err;
}

enum xu_err xu_conn_dispatch(struct xu_conn *c, short revents)
{
	enum xu_err err;

	if (c->err)
		return c->err;
	err = conn_timers(c);
	if (err)
		return err;
	if (c->state == CONN_TLS) {
		err = conn_do_handshake(c);
		if (err)
			return err;
	} else if (CONN_CAN_READ(c) && (revents & (POLLIN | POLLHUP | POLLERR) ||
	                                (c->tls_active && xu_tls_pending(c->tls)))) {
		err = conn_read(c);
		if (err)
			return err;
		if (c->proceed_seen) {
			c->proceed_seen = false;
			err = conn_start_tls(c);
			if (!err)
				err = conn_do_handshake(c);
			if (err)
				return err;
		}
	}
	return conn_pump(c);
}

int xu_conn_fd(const struct xu_conn *c)
{
	return c->fd;
}

short xu_conn_events(const struct xu_conn *c)
{
	if (c->fd < 0)
		return 0;
	if (c->state == CONN_TLS)
		return xu_tls_events(c->tls);
	return (short)((CONN_CAN_READ(c) ? POLLIN : 0) | (c->out.len ? POLLOUT : 0));
}

int xu_conn_timeout_ms(const struct xu_conn *c)
{
	int64_t at, left;

	if (c->tls_active && c->state != CONN_TLS && CONN_CAN_READ(c) && xu_tls_pending(c->tls))
		return 0;
	if (c->state != CONN_READY || !c->keepalive_ms)
		return -1;
	at = c->probe_deadline ? c->probe_deadline : c->last_rx + c->keepalive_ms;
	left = at - xu_now_ms();
	if (left <= 0)
		return 0;
	return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* ---------------------------------------------------------------- blocking helpers */

static const char *conn_waiting_for(const struct xu_conn *c)
{
	switch (c->state) {
	case CONN_TLS:
		return "the TLS handshake";
	case CONN_STREAM:
		return "the server's stream features";
	case CONN_STARTTLS:
		return "STARTTLS";
	case CONN_SASL:
		return "authentication";
	case CONN_RESUME:
		return "the session to resume";
	case CONN_BIND:
		return "resource binding";
	case CONN_READY:
		return "the server to confirm delivery";
	case CONN_CLOSING:
		return "the server to close the stream";
	default:
		return "the server";
	}
}

/* What a wait is for: one of the helpers' own conditions, or the caller's. */
struct conn_until {
	bool (*own)(const struct xu_conn *c);
	xu_conn_until_fn *caller;
	void *ctx;
	const char *what; /* for the timeout message; NULL: by state */
};

static bool conn_until_done(struct xu_conn *c, const struct conn_until *u)
{
	return u->caller ? u->caller(c, u->ctx) : u->own(c);
}

/* poll() + dispatch until the condition holds, an error, or the deadline. The helpers' own
 * waits read on past a full queue (their answer may be behind it); a caller's condition takes
 * the stanzas itself, so the queue bound holds. */
static enum xu_err conn_wait_until(struct xu_conn *c, const struct conn_until *u)
{
	struct pollfd pfd;
	int64_t left;
	int r, t;

	c->blocking = u->caller == NULL;
	while (!conn_until_done(c, u) && !c->err) {
		left = c->deadline - xu_now_ms();
		if (left <= 0) {
			conn_fail(c, XU_ERR_TIMEOUT, "timed out after %u s waiting for %s",
			          (c->timeout_ms + 999) / 1000,
			          u->what ? u->what : conn_waiting_for(c));
			break;
		}
		t = xu_conn_timeout_ms(c);
		pfd.fd = c->fd;
		pfd.events = xu_conn_events(c);
		pfd.revents = 0;
		if (t == 0) {
			r = 1;
			pfd.revents = POLLIN;
		} else {
			if (t < 0 || t > left)
				t = left > 60000 ? 60000 : (int)left;
			r = poll(&pfd, 1, t);
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			conn_fail(c, XU_ERR_IO, "poll: %s", strerror(errno));
			break;
		}
		xu_conn_dispatch(c, r > 0 ? pfd.revents : 0);
	}
	c->blocking = false;
	return c->err;
}

static enum xu_err conn_wait(struct xu_conn *c, bool (*done)(const struct xu_conn *c))
{
	struct conn_until u = {done, NULL, NULL, NULL};

	return conn_wait_until(c, &u);
}

enum xu_err xu_conn_wait(struct xu_conn *c, xu_conn_until_fn *until, void *ctx, const char *what)
{
	struct conn_until u = {NULL, until, ctx, what};

	if (c->err)
		return c->err;
	if (c->state != CONN_READY)
		return conn_fail(c, XU_ERR_TEMP, "not connected");
	return conn_wait_until(c, &u);
}

/* Stanzas may go out: ready, or pipelined behind the bind request. */
static bool conn_can_send(const struct xu_conn *c)
{
	return c->state == CONN_READY || (c->early && c->state < CONN_READY);
}

/* Confirmed up to what was sent when the flush began: answers we send meanwhile (pings,
 * disco) are counted by the server too, but need not hold the flush up. */
static bool conn_is_confirmed(const struct xu_conn *c)
{
	return c->confirmed >= c->flush_target;
}

static bool conn_is_closed(const struct xu_conn *c)
{
	return c->server_closed || c->eof;
}

static void conn_set_deadline(struct xu_conn *c, unsigned ms)
{
	c->deadline = xu_now_ms() + (ms ? ms : 30000);
}

void xu_conn_set_timeout(struct xu_conn *c, unsigned ms)
{
	c->timeout_ms = ms ? ms : 30000;
	conn_set_deadline(c, c->timeout_ms);
}

static const struct xu_xml_handlers conn_handlers_proto = {
    NULL,
    conn_on_open,
    conn_on_stanza,
    conn_on_close,
};

/* The cache is per account and per place it connects to (two servers may share a JID). */
static enum xu_err conn_load_cache(struct xu_conn *c)
{
	struct xu_buf b;

	c->cache.sm = -1;
	if (!c->cache_dir)
		return XU_OK;
	xu_buf_init(&b, 0);
	if (xu_buf_addf(&b, "%s %s %u %s", xu_jid_bare(c->jid), c->host ? c->host : "-", c->port,
	                c->want_direct_tls ? "tls" : "starttls") ||
	    xu_buf_take(&b, &c->cache_account, NULL)) {
		xu_buf_free(&b);
		return XU_ERR_NOMEM;
	}
	xu_cache_load(c->cache_dir, c->cache_account, &c->cache);
	return XU_OK;
}

/* After a refused FAST token: back to a new connection, as before xu_conn_open. Only what
 * negotiation up to authentication sets is undone. */
static void conn_reset(struct xu_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	xu_tls_free(c->tls);
	c->tls = NULL;
	c->tls_active = c->direct_tls = c->eof = false;
	xu_buf_wipe_free(&c->out);
	xu_buf_init(&c->out, 0);
	xu_sasl_free(c->sasl);
	c->sasl = NULL;
	xu_stanza_free(c->auth_features);
	c->auth_features = NULL;
	c->starttls_sent = c->sasl_early = c->sasl_aborting = c->proceed_seen = false;
	c->sasl2 = c->fast_used = c->fresh_login = c->bound2 = false;
	c->fast_asked = NULL;
	c->err = XU_OK;
	c->errmsg[0] = '\0';
	c->state = CONN_NEW;
}

static enum xu_err conn_open_once(struct xu_conn *c)
{
	struct xu_xml_handlers h = conn_handlers_proto;
	enum xu_err err;

	h.ctx = c;
	xu_xml_free(c->xml);
	c->xml = NULL;
	err = xu_xml_new(&h, NULL, &c->xml);
	if (err)
		return conn_fail(c, err, "out of memory");
	err = xu_net_connect(xu_jid_domain_ascii(c->jid), c->host, c->port, c->want_direct_tls,
	                     c->deadline, &c->fd, &c->direct_tls, c->errmsg, sizeof(c->errmsg),
	                     c->log, c->log_ctx, c->log_level);
	if (err)
		return conn_fail(c, err, "%s", c->errmsg);
	if (c->insecure && !c->has_pin)
		conn_log(c, XU_LOG_WARN,
		         "warning: --insecure: the server's certificate is NOT verified");
	if (c->direct_tls) {
		err = conn_start_tls(c);
		if (!err)
			err = conn_do_handshake(c);
	} else {
		err = conn_send_header(c);
		/* Without --allow-plaintext the features cannot change what we send next: STARTTLS
		 * goes with the header (a server without it fails either way). */
		if (!err && !c->allow_plaintext) {
			err = conn_write_raw(c, "<starttls xmlns='" XU_NS_TLS "'/>");
			c->starttls_sent = true;
		}
		if (!err)
			err = conn_pump(c);
	}
	if (err)
		return err;
	return conn_wait(c, conn_can_send);
}

enum xu_err xu_conn_open(struct xu_conn *c)
{
	enum xu_err err;

	if (c->state != CONN_NEW)
		return conn_fail(c, XU_ERR_USAGE, "connection already opened");
	if (conn_load_cache(c))
		return conn_fail(c, XU_ERR_NOMEM, "out of memory");
	err = conn_open_once(c);
	if (err != XU_ERR_AUTH || !c->fresh_login)
		return err;
	conn_log(c, XU_LOG_INFO, "%s; logging in again with the password", c->errmsg);
	conn_reset(c);
	return conn_open_once(c);
}

enum xu_err xu_conn_send(struct xu_conn *c, struct xu_stanza *st)
{
	enum xu_err err;

	if (c->err) {
		xu_stanza_free(st);
		return c->err;
	}
	if (!conn_can_send(c)) {
		xu_stanza_free(st);
		return conn_fail(c, XU_ERR_TEMP, "not connected");
	}
	err = conn_write_counted(c, st, true);
	xu_stanza_free(st);
	if (err)
		return err;
	return conn_pump(c);
}

enum xu_err xu_conn_flush(struct xu_conn *c)
{
	enum xu_err err;

	if (c->err)
		return c->err;
	if (!conn_can_send(c))
		return conn_fail(c, XU_ERR_TEMP, "not connected");
	c->flush_target = c->seq;
	if (!conn_is_confirmed(c)) {
		err = conn_request_confirmation(c);
		if (err)
			return err;
		err = conn_pump(c);
		if (err)
			return err;
	}
	err = conn_wait(c, conn_is_confirmed);
	if (err)
		return err;
	conn_log(c, XU_LOG_INFO, "server confirmed %llu stanza(s)%s",
	         (unsigned long long)c->confirmed, c->sm_enabled ? " (XEP-0198)" : " (ping)");
	if (c->refused)
		return XU_ERR_REFUSED;
	return XU_OK;
}

static bool conn_has_iq_reply(const struct xu_conn *c)
{
	return c->iq_reply != NULL;
}

enum xu_err xu_conn_iq(struct xu_conn *c, struct xu_stanza *iq, struct xu_stanza **reply)
{
	enum xu_err err;
	char *id = NULL;

	*reply = NULL;
	if (!xu_stanza_attr(iq, "id")) {
		err = xu_random_id(9, &id);
		if (!err)
			err = xu_stanza_set_attr(iq, "id", id);
		free(id);
		if (err) {
			xu_stanza_free(iq);
			return conn_fail(c, err, "out of memory");
		}
	}
	free(c->iq_wait_id);
	free(c->iq_wait_to);
	c->iq_wait_id = strdup(xu_stanza_attr(iq, "id"));
	c->iq_wait_to = xu_stanza_attr(iq, "to") ? strdup(xu_stanza_attr(iq, "to")) : NULL;
	if (!c->iq_wait_id || (xu_stanza_attr(iq, "to") && !c->iq_wait_to)) {
		xu_stanza_free(iq);
		return conn_fail(c, XU_ERR_NOMEM, "out of memory");
	}
	xu_stanza_free(c->iq_reply);
	c->iq_reply = NULL;
	err = xu_conn_send(c, iq);
	if (!err)
		err = conn_wait(c, conn_has_iq_reply);
	free(c->iq_wait_id);
	c->iq_wait_id = NULL;
	free(c->iq_wait_to);
	c->iq_wait_to = NULL;
	if (err)
		return err;
	*reply = c->iq_reply;
	c->iq_reply = NULL;
	return XU_OK;
}

enum xu_err xu_conn_close(struct xu_conn *c)
{
	bool was_ready = c->state == CONN_READY;
	enum xu_err err;

	if (c->fd >= 0 && was_ready) {
		c->state = CONN_CLOSING;
		/* Tell the server exactly what we handled: what is still queued, it keeps and
		 * redelivers. */
		if (c->sm_enabled)
			conn_send_ack(c);
		if (conn_write_raw(c, "</stream:stream>") == XU_OK && conn_pump(c) == XU_OK) {
			int64_t limit = xu_now_ms() + CONN_CLOSE_WAIT_MS;

			if (limit < c->deadline)
				c->deadline = limit;
			conn_wait(c, conn_is_closed);
		}
		if (c->tls_active && !c->err)
			xu_tls_bye(c->tls);
		if (c->err) {
			/* Everything was confirmed before we said goodbye: a slow or rude goodbye
			 * loses nothing, so it is logged, not reported. */
			conn_log(c, XU_LOG_INFO, "while closing: %s", c->errmsg);
			if (c->confirmed >= c->seq) {
				c->err = XU_OK;
				c->errmsg[0] = '\0';
			}
		}
		conn_log(c, XU_LOG_INFO, "disconnected");
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	err = c->refused ? XU_ERR_REFUSED : c->err;
	c->state = err ? CONN_FAILED : CONN_CLOSED;
	return err;
}

unsigned xu_conn_refused(const struct xu_conn *c, const char **last)
{
	if (last)
		*last = c->refused ? c->last_refusal : NULL;
	return c->refused;
}

uint64_t xu_conn_sent(const struct xu_conn *c)
{
	return c->seq;
}

uint64_t xu_conn_confirmed(const struct xu_conn *c)
{
	return c->confirmed;
}

uint64_t xu_conn_unconfirmed(const struct xu_conn *c)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < c->ntrack; i++)
		if (c->track[i].seq > c->confirmed)
			n++;
	return n;
}

uint64_t xu_conn_resent(const struct xu_conn *c)
{
	return c->resent;
}

const struct xu_jid *xu_conn_jid(const struct xu_conn *c)
{
	return c->bound;
}

bool xu_conn_feature(const struct xu_conn *c, const char *name, const char *ns)
{
	return xu_stanza_child(c->offered, name, ns) != NULL;
}

bool xu_conn_resumed(const struct xu_conn *c)
{
	return c->resumed;
}

enum xu_err xu_conn_resume_from(struct xu_conn *c, struct xu_conn *old)
{
	char **id;

	if (c->state != CONN_NEW)
		return conn_fail(c, XU_ERR_USAGE, "connection already opened");
	/* A reconnection takes the careful path: what it resumes or resends goes first (so a
	 * pipelining connection never has a session to resume or stanzas to resend). */
	c->pipeline = false;
	if (!old)
		return XU_OK;
	/* The session of a granted resumption, or the one a failed attempt was to resume. */
	id = old->sm_id ? &old->sm_id : &old->resume_id;
	if (*id && old->bound) {
		c->resume_id = *id;
		*id = NULL;
		c->sm_in = conn_handled(old);
		c->bound = old->bound;
		old->bound = NULL;
	} else if (!c->resend) {
		return XU_OK; /* nothing resumable: xu_conn_open starts a new session */
	}
	c->seq = old->seq;
	c->confirmed = old->confirmed;
	c->track = old->track;
	c->ntrack = old->ntrack;
	c->track_cap = old->track_cap;
	old->track = NULL;
	old->ntrack = old->track_cap = 0;
	c->unacked = old->unacked;
	c->nunacked = old->nunacked;
	c->unacked_cap = old->unacked_cap;
	c->resend_due = old->resend_due;
	old->unacked = NULL;
	old->nunacked = old->unacked_cap = 0;
	if (!c->resume_id)
		conn_carry_unconfirmed(c);
	return XU_OK;
}

/* ---------------------------------------------------------------- life cycle */

/* "sha256:BASE64" -> 32 bytes. */
static bool conn_parse_pin(const char *pin, unsigned char out[32])
{
	gnutls_datum_t in, dec = {NULL, 0};
	bool ok;

	if (strncmp(pin, "sha256:", 7) != 0)
		return false;
	in.data = (unsigned char *)pin + 7;
	in.size = (unsigned)strlen(pin + 7);
	if (in.size == 0 || gnutls_base64_decode2(&in, &dec) < 0)
		return false;
	ok = dec.size == 32;
	if (ok)
		memcpy(out, dec.data, 32);
	gnutls_free(dec.data);
	return ok;
}

static char *conn_strdup(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

enum xu_err xu_conn_new(const struct xu_conn_opts *o, struct xu_conn **out)
{
	struct xu_conn *c;
	const char *why = NULL;
	bool oom = false;
	enum xu_err err;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return XU_ERR_NOMEM;
	c->fd = -1;
	xu_buf_init(&c->out, 0);
	if (!o->jid) {
		err = conn_fail(c, XU_ERR_USAGE, "no account JID given");
		goto out;
	}
	err = xu_jid_parse(o->jid, &c->jid, &why);
	if (err) {
		conn_fail(c, err, "invalid account JID: %s", why ? why : xu_err_str(err));
		goto out;
	}
	if (!xu_jid_local(c->jid)) {
		err = conn_fail(c, XU_ERR_DATA, "account JID %s has no localpart",
		                xu_jid_full(c->jid));
		goto out;
	}
	if (o->pin && !conn_parse_pin(o->pin, c->pin)) {
		err = conn_fail(c, XU_ERR_USAGE, "invalid --pin (want sha256:BASE64 of 32 bytes)");
		goto out;
	}
	if (o->port > 65535) {
		err = conn_fail(c, XU_ERR_USAGE, "invalid port %u", o->port);
		goto out;
	}
	c->has_pin = o->pin != NULL;
	c->password = conn_strdup(o->password ? o->password : "", &oom);
	c->host = conn_strdup(o->host, &oom);
	c->cafile = conn_strdup(o->cafile, &oom);
	c->resource = conn_strdup(o->resource, &oom);
	c->mechanism = conn_strdup(o->mechanism, &oom);
	c->cache_dir = conn_strdup(o->cache_dir, &oom);
	if (oom) {
		err = conn_fail(c, XU_ERR_NOMEM, "out of memory");
		goto out;
	}
	c->port = o->port;
	c->want_direct_tls = o->direct_tls;
	c->insecure = o->insecure;
	c->allow_plaintext = o->allow_plaintext;
	c->log = o->log;
	c->log_ctx = o->log_ctx;
	c->log_level = o->log_level;
	c->keepalive_ms = o->keepalive_ms;
	c->queue_stanzas = o->queue_stanzas;
	c->answer_receipts = o->answer_receipts;
	c->resumable = o->resumable;
	c->resend = o->resend_unacked;
	c->pipeline = o->pipeline;
	c->last_rx = xu_now_ms();
	xu_conn_set_timeout(c, o->timeout_ms);
	*out = c;
	return XU_OK;
out:
	/* Hand the object back anyway so the caller can read the message. */
	*out = c;
	return err;
}

void xu_conn_free(struct xu_conn *c)
{
	size_t i;

	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	xu_tls_free(c->tls);
	xu_xml_free(c->xml);
	xu_sasl_free(c->sasl);
	xu_buf_wipe_free(&c->out);
	xu_jid_free(c->jid);
	xu_jid_free(c->bound);
	xu_secret_free(c->password);
	free(c->host);
	free(c->cafile);
	free(c->resource);
	free(c->mechanism);
	free(c->cache_dir);
	free(c->cache_account);
	free(c->bind_id);
	free(c->session_id);
	free(c->ping_id);
	free(c->iq_wait_id);
	free(c->iq_wait_to);
	xu_stanza_free(c->iq_reply);
	for (i = 0; i < c->ntrack; i++) {
		free(c->track[i].id);
		free(c->track[i].to);
	}
	free(c->track);
	conn_drop_unacked(c, UINT64_MAX);
	free(c->unacked);
	free(c->sm_id);
	free(c->resume_id);
	xu_stanza_free(c->offered);
	xu_stanza_free(c->auth_features);
	gnutls_memset(&c->cache, 0, sizeof(c->cache));
	for (i = 0; i < c->qlen; i++)
		xu_stanza_free(c->queue[(c->qhead + i) % c->qcap].st);
	free(c->queue);
	free(c);
}
