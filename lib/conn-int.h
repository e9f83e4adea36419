/* conn-int.h: the seams between the connection core and its transport, TLS and SASL parts. */
#ifndef XU_CONN_INT_H
#define XU_CONN_INT_H

#include "xu-int.h"

/* ---------------------------------------------------------------- net.c */

/* Milliseconds on the monotonic clock. */
int64_t xu_now_ms(void);

struct xu_net_target {
	const char *host; /* name or address to connect to */
	uint16_t port;
	bool direct_tls;
};

/*
 * Resolve and connect, trying SRV targets (or host/port when given) in order, each address of
 * each target, until one answers or the deadline passes. *fd is non-blocking, TCP_NODELAY.
 * *direct_tls says whether the chosen target wants TLS from the first byte.
 * Errors: XU_ERR_NOHOST, XU_ERR_TEMP (refused/unreachable), XU_ERR_TIMEOUT, XU_ERR_NOMEM;
 * the message goes to errbuf.
 */
enum xu_err xu_net_connect(const char *domain_ascii, const char *host, unsigned port,
                           bool want_direct_tls, int64_t deadline, int *fd, bool *direct_tls,
                           char *errbuf, size_t errlen, xu_log_fn *log, void *log_ctx,
                           enum xu_log_level level);

/* ---------------------------------------------------------------- tls.c */

struct xu_tls;

struct xu_tls_params {
	const char *domain;       /* ASCII name the certificate must match (the JID's domain) */
	const char *cafile;       /* NULL: system store */
	const unsigned char *pin; /* 32-byte SHA-256 of the SPKI, or NULL */
	bool insecure;
	bool alpn; /* offer ALPN xmpp-client (direct TLS) */
};

/* Errors: XU_ERR_NOINPUT (cafile), XU_ERR_TLS, XU_ERR_NOMEM; message in errbuf. */
enum xu_err xu_tls_new(int fd, const struct xu_tls_params *p, struct xu_tls **out, char *errbuf,
                       size_t errlen);
void xu_tls_free(struct xu_tls *t);
/* Drive the handshake; *done when finished, otherwise poll for xu_tls_events.
 * Errors: XU_ERR_TLS (certificate or handshake failure, named in errbuf), XU_ERR_TEMP. */
enum xu_err xu_tls_handshake(struct xu_tls *t, bool *done, char *errbuf, size_t errlen);
/* POLLIN or POLLOUT: what the last interrupted call waits for. */
short xu_tls_events(const struct xu_tls *t);
/* Read up to cap bytes; *n == 0 means "would block". Errors: XU_ERR_TEMP (closed/reset). */
enum xu_err xu_tls_read(struct xu_tls *t, void *buf, size_t cap, size_t *n, char *errbuf,
                        size_t errlen);
/* Write; *n may be less than len (0: would block, retry with the same data). */
enum xu_err xu_tls_write(struct xu_tls *t, const void *buf, size_t len, size_t *n, char *errbuf,
                         size_t errlen);
/* Decrypted bytes waiting inside GnuTLS (poll() cannot see them). */
size_t xu_tls_pending(const struct xu_tls *t);
/* Best-effort close_notify, never blocks. */
void xu_tls_bye(struct xu_tls *t);
/* Protocol version in use, e.g. "TLS1.3", and whether it is 1.3. */
const char *xu_tls_version(const struct xu_tls *t);
bool xu_tls_is13(const struct xu_tls *t);
/* Channel binding data of `type` ("tls-exporter", "tls-server-end-point", "tls-unique").
 * *data is malloc'ed. Errors: XU_ERR_TLS (unavailable). */
enum xu_err xu_tls_cb(struct xu_tls *t, const char *type, unsigned char **data, size_t *len);

/* ---------------------------------------------------------------- sasl.c */

struct xu_sasl;

struct xu_sasl_params {
	const char *authcid;                 /* prepared localpart */
	const char *password;                /* as given */
	const char *force;                   /* --mechanism or NULL */
	bool tls;                            /* the stream is encrypted (PLAIN allowed) */
	struct xu_tls *tls_session;          /* for channel binding, or NULL */
	const struct xu_scram_salted *known; /* SCRAM: a remembered salted password, or NULL */
	bool sasl2;                          /* XEP-0388 framing: <authenticate/> and its kin */
	const unsigned char *token;          /* XEP-0484: log in with this FAST token, */
	size_t token_len;
	const char *token_mech; /* with this HT-* mechanism (offered: the caller checked) */
};

/* Choose the strongest mechanism offered in <mechanisms/> (XEP-0388: in <authentication/>; and
 * XEP-0440 channel bindings in `features`) and build the <auth/> (<authenticate/>) element;
 * with a token, its HT-* mechanism (XEP-0484). Errors: XU_ERR_AUTH (nothing usable), XU_ERR_NOMEM,
 * XU_ERR_USAGE (forced mechanism unknown). Message in errbuf. */
enum xu_err xu_sasl_start(const struct xu_sasl_params *p, const struct xu_stanza *features,
                          struct xu_sasl **out, struct xu_stanza **auth, char *errbuf,
                          size_t errlen);
/* Answer a <challenge/>: *reply is the <response/> to send. */
enum xu_err xu_sasl_challenge(struct xu_sasl *s, const struct xu_stanza *challenge,
                              struct xu_stanza **reply, char *errbuf, size_t errlen);
/* Check a <success/> (the server signature for SCRAM). Errors: XU_ERR_PROTO, XU_ERR_AUTH. */
enum xu_err xu_sasl_success(struct xu_sasl *s, const struct xu_stanza *success, char *errbuf,
                            size_t errlen);
/* The channel binding type for a -PLUS mechanism on a TLS 1.3 (is13) or 1.2 session, given the
 * types the server lists (XEP-0440; ncb 0: none listed); forced: the user named the mechanism,
 * so without a list use the version's standard type even on 1.3. NULL: none usable. */
const char *xu_sasl_pick_cb(bool is13, bool forced, const char *const *cbs, size_t ncb);
/* What the server offers for SASL, canonical: mechanisms "A,B,C" in its order (SASL2's when it
 * offers SASL2), channel-binding types "x,y" ("-": no XEP-0440 list). False when there is none
 * or it does not fit. */
bool xu_sasl_offer(const struct xu_stanza *features, char *mechs, size_t mlen, char *cbs,
                   size_t clen);
/* Features holding just that offer (the cache's), for xu_sasl_start; sasl2: as SASL2's
 * <authentication/>. NULL: out of memory. */
struct xu_stanza *xu_sasl_offer_features(const char *mechs, const char *cbs, bool sasl2);
/* XEP-0484 HT-SHA-256-*: true when mech is one we can use, with *cb_type the channel binding
 * it needs (NULL for -NONE). */
bool xu_sasl_ht(const char *mech, const char **cb_type);
/* The mechanism in use, e.g. "SCRAM-SHA-1-PLUS". */
const char *xu_sasl_mechanism(const struct xu_sasl *s);
/* SCRAM, after the client-final: the salted password used (see xu_scram_salted). */
bool xu_sasl_salted(const struct xu_sasl *s, struct xu_scram_salted *out, bool *reused);
void xu_sasl_free(struct xu_sasl *s);

/* ---------------------------------------------------------------- sasl2.c (XEP-0388, 0386, 0484)
 */

#define XU_SASL2_MAX_FAST 8

/* What <authentication xmlns='urn:xmpp:sasl:2'/> offers inline (pointers into the features). */
struct xu_sasl2_offer {
	bool bind2;                          /* XEP-0386 */
	const char *fast[XU_SASL2_MAX_FAST]; /* XEP-0484 HT-* mechanisms we can use */
	size_t nfast;
};

/* False when the features offer no SASL2. */
bool xu_sasl2_offer(const struct xu_stanza *features, struct xu_sasl2_offer *o);
bool xu_sasl2_offers_fast(const struct xu_sasl2_offer *o, const char *mech);
/* That offer as the cache keeps it: "bind2,HT-SHA-256-EXPR,..." ("-": nothing inline, "": no
 * SASL2). False when it does not fit in len. */
bool xu_sasl2_inline(const struct xu_stanza *features, char *out, size_t len);
/* Put that list back, as <inline/>, into the <authentication/> of features built by
 * xu_sasl_offer_features. Errors: XU_ERR_NOMEM. */
enum xu_err xu_sasl2_inline_add(struct xu_stanza *features, const char *list);

/* What we add to <authenticate/>; NULL / false leave a part out. */
struct xu_sasl2_request {
	const char *agent;      /* <user-agent id=''/>: the id FAST tokens are issued to */
	const char *bind_tag;   /* Bind2: the server makes the resource from this tag */
	const char *token_mech; /* <request-token mechanism=''/> */
	bool fast;              /* <fast/>: the mechanism is the token's */
};

/* Errors: XU_ERR_NOMEM. */
enum xu_err xu_sasl2_request(struct xu_stanza *authenticate, const struct xu_sasl2_request *r);

/* What a <success xmlns='urn:xmpp:sasl:2'/> says (pointers into it; NULL when absent). */
struct xu_sasl2_outcome {
	const char *authzid;                 /* <authorization-identifier/> */
	bool bound;                          /* Bind2 <bound/> */
	const struct xu_stanza *bind_failed; /* Bind2 <failed/> */
	const char *token, *expiry;          /* FAST <token/> */
};

void xu_sasl2_outcome(const struct xu_stanza *success, struct xu_sasl2_outcome *o);

/* ---------------------------------------------------------------- service.c */

/* The answer to an IQ get/set nobody asked us (ping, disco#info, version, roster push from
 * `me` itself, else service-unavailable); *reply NULL for results and errors.
 * Errors: XU_ERR_NOMEM. */
enum xu_err xu_service_answer(const struct xu_stanza *iq, const struct xu_jid *me,
                              struct xu_stanza **reply);

#endif
