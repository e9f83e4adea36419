/* xu-int.h: declarations shared inside lib/ and reachable from the unit tests, not public. */
#ifndef XU_INT_H
#define XU_INT_H

#include "xu.h"

#include <stdarg.h>

/* ---------------------------------------------------------------- buf.c */

/* A growable byte buffer with a hard cap (max 0: no cap). Always NUL-terminated. */
struct xu_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void xu_buf_init(struct xu_buf *b, size_t max);
/* Errors: XU_ERR_NOMEM, XU_ERR_PROTO when the cap would be exceeded. */
enum xu_err xu_buf_add(struct xu_buf *b, const void *p, size_t n);
enum xu_err xu_buf_adds(struct xu_buf *b, const char *s);
/* Make room for n more bytes (and the NUL) so they can be written at data + len directly.
 * Errors: XU_ERR_NOMEM, XU_ERR_PROTO (cap). */
enum xu_err xu_buf_reserve(struct xu_buf *b, size_t n);
enum xu_err xu_buf_addf(struct xu_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes. */
void xu_buf_consume(struct xu_buf *b, size_t n);
void xu_buf_reset(struct xu_buf *b);
/* Hand the data over (malloc'ed, NUL-terminated; never NULL on XU_OK) and reset. */
enum xu_err xu_buf_take(struct xu_buf *b, char **out, size_t *len);
/* Free the storage; wipe first when it held secrets. */
void xu_buf_free(struct xu_buf *b);
void xu_buf_wipe_free(struct xu_buf *b);

/* Append s escaped for the terminal (escape.c); s JSON-quoted, or null when NULL (escape.c);
 * a stanza on one safe line (stanza.c). Errors: XU_ERR_NOMEM, XU_ERR_DATA (stanza). */
enum xu_err xu_buf_add_escaped(struct xu_buf *b, const char *s, enum xu_esc_mode mode);
enum xu_err xu_buf_add_json(struct xu_buf *b, const char *s);
enum xu_err xu_buf_add_stanza_line(struct xu_buf *b, const struct xu_stanza *st);
/* Text output on a terminal (XU_REC_TEXT_COLOR): text (NULL: none) escaped with mode, between
 * the ECMA-48 SGR sequence s and a reset when color is true. Escaped values cannot hold ESC,
 * so only our sequences reach the terminal. */
enum xu_sgr { XU_SGR_RESET, XU_SGR_BOLD, XU_SGR_DIM, XU_SGR_GREEN, XU_SGR_YELLOW };
enum xu_err xu_buf_add_colored(struct xu_buf *b, bool color, enum xu_sgr s, const char *text,
                               enum xu_esc_mode mode);

/* Wipe and free a NUL-terminated secret. */
void xu_secret_free(char *s);

/* ---------------------------------------------------------------- precis.c (RFC 8264/8265) */

/* PRECIS UsernameCaseMapped (RFC 8265 §3.3) and OpaqueString (§4.2) of `in` (UTF-8, len bytes).
 * *out is malloc'ed and NUL-terminated. Errors: XU_ERR_DATA (*why), XU_ERR_NOMEM. */
enum xu_err xu_precis_username(const char *in, size_t len, char **out, const char **why);
enum xu_err xu_precis_opaque(const char *in, size_t len, char **out, const char **why);

/* ---------------------------------------------------------------- xml.c (RFC 6120 §4, §11) */

struct xu_xml;

struct xu_xml_limits {
	size_t max_stanza;  /* bytes of one top-level element, tags included (default 256 KiB) */
	unsigned max_depth; /* element nesting below the stream element (default 64) */
	unsigned max_attrs; /* attributes plus namespace declarations per element (default 64) */
};

struct xu_xml_handlers {
	void *ctx;
	/* The stream header, as an element named "stream" in XU_NS_STREAMS with its attributes
	 * (borrowed for the call). */
	enum xu_err (*open)(void *ctx, const struct xu_stanza *header);
	/* A complete top-level element; ownership passes to the handler. */
	enum xu_err (*stanza)(void *ctx, struct xu_stanza *st);
	/* </stream:stream> */
	enum xu_err (*close)(void *ctx);
};

/* limits NULL: defaults. Errors: XU_ERR_NOMEM. */
enum xu_err xu_xml_new(const struct xu_xml_handlers *h, const struct xu_xml_limits *limits,
                       struct xu_xml **out);
void xu_xml_free(struct xu_xml *x);
/* Feed bytes as they come off the wire. A handler's error stops the feed and is returned.
 * Errors: XU_ERR_PROTO (not well-formed, restricted XML, a limit: see xu_xml_condition),
 * XU_ERR_NOMEM, or a handler's error. Once failed, every later feed fails the same way. */
enum xu_err xu_xml_feed(struct xu_xml *x, const char *data, size_t len);
/* Forget everything and expect a new stream header (after STARTTLS and SASL). */
enum xu_err xu_xml_restart(struct xu_xml *x);
/* Change the stanza size cap (XEP-0478 <max-bytes/>). */
void xu_xml_set_max_stanza(struct xu_xml *x, size_t max);
/* After a failure: the RFC 6120 §4.9.3 condition to send ("not-well-formed", "restricted-xml",
 * "policy-violation", "invalid-namespace", "bad-format", "unsupported-encoding"...), and a
 * one-line message. NULL / "" when there was none. */
const char *xu_xml_condition(const struct xu_xml *x);
const char *xu_xml_errmsg(const struct xu_xml *x);

/* stanza.c: write `st` as XML into b, relative to default namespace `default_ns`. */
enum xu_err xu_stanza_write(const struct xu_stanza *st, const char *default_ns, struct xu_buf *b);
/* XML-escape text (for_attr: also quotes) into b. */
enum xu_err xu_xml_escape(struct xu_buf *b, const char *s, size_t len, bool for_attr);

/* ---------------------------------------------------------------- scram.c (RFC 5802, 7677) */

enum xu_scram_hash {
	XU_SCRAM_SHA1,
	XU_SCRAM_SHA256,
	XU_SCRAM_SHA512,
};

struct xu_scram;

/* Hi(password, salt, i) of RFC 5802 §2.2 with what it was made from: remembered (the cache) so
 * that the next login with the same salt and count skips PBKDF2. */
#define XU_SCRAM_MAX_SALT 64
struct xu_scram_salted {
	enum xu_scram_hash hash;
	unsigned iterations;
	unsigned char salt[XU_SCRAM_MAX_SALT];
	size_t salt_len;
	unsigned char key[64]; /* the hash's length of it */
};

struct xu_scram_params {
	enum xu_scram_hash hash;
	const char *authcid;  /* the prepared localpart */
	const char *password; /* UTF-8 as given; prepared with OpaqueString inside */
	/* Channel binding: cb_type set -> gs2 "p=type"; otherwise server_plus true -> "y" (we
	 * could bind but the server offers no -PLUS) and false -> "n". */
	const char *cb_type; /* "tls-exporter", "tls-server-end-point", "tls-unique" or NULL */
	const unsigned char *cb_data;
	size_t cb_len;
	bool server_plus;
	/* XEP-0474: what the server offered, to verify the h= attribute of server-first.
	 * NULL lists: not checked. */
	const char *const *offered_mechs;
	size_t n_offered_mechs;
	const char *const *offered_cbs;
	size_t n_offered_cbs;
	const char *nonce; /* client nonce for tests; NULL = random */
	/* Used instead of PBKDF2 when server-first names its hash, salt and count; NULL: none. */
	const struct xu_scram_salted *known;
};

/* Errors: XU_ERR_DATA (password not preparable), XU_ERR_NOMEM. */
enum xu_err xu_scram_new(const struct xu_scram_params *p, struct xu_scram **out);
void xu_scram_free(struct xu_scram *s); /* wipes keys */
/* Raw (not base64) messages, malloc'ed. Errors: XU_ERR_NOMEM, XU_ERR_INTERNAL (order). */
enum xu_err xu_scram_client_first(struct xu_scram *s, char **out, size_t *len);
/* Errors: XU_ERR_PROTO (bad server-first: nonce, salt, iterations, m=, downgrade), XU_ERR_NOMEM. */
enum xu_err xu_scram_client_final(struct xu_scram *s, const char *server_first, size_t len,
                                  char **out, size_t *outlen);
/* Check v= of server-final. Errors: XU_ERR_AUTH (e=...), XU_ERR_PROTO (missing/wrong v=). */
enum xu_err xu_scram_verify(struct xu_scram *s, const char *server_final, size_t len);
const char *xu_scram_errmsg(const struct xu_scram *s);
/* After the client-final: the salted password it used into *out (unless NULL; false before,
 * or when the salt was too long to remember); *reused: it was params.known. */
bool xu_scram_salted(const struct xu_scram *s, struct xu_scram_salted *out, bool *reused);
/* The largest iteration count accepted in server-first: a hostile server must not make the
 * client spin for hours (10,000,000 PBKDF2 rounds take a few seconds). */
#define XU_SCRAM_MAX_ITERATIONS 10000000u
/* As xu_scram_client_final, with extra client-final attributes (RFC 5802 §7 "extensions",
 * "a=value" pairs joined by ',', e.g. XEP-0474's example "x=..."; NULL: none), sent before p=
 * and so covered by the proof. Errors: as xu_scram_client_final, XU_ERR_USAGE (malformed ext). */
enum xu_err xu_scram_client_final_ext(struct xu_scram *s, const char *server_first, size_t len,
                                      const char *ext, char **out, size_t *outlen);
/* Hi() of RFC 5802 §2.2 (PBKDF2 with HMAC-hash, RFC 8018), out_len bytes, without the cap above.
 * Errors: XU_ERR_USAGE (iterations 0), XU_ERR_INTERNAL. */
enum xu_err xu_scram_hi(enum xu_scram_hash hash, const void *pw, size_t pw_len, const void *salt,
                        size_t salt_len, unsigned iterations, void *out, size_t out_len);

/* ---------------------------------------------------------------- cache.c */

#define XU_CACHE_TOKEN_MAX 192
/* The longest SASL mechanism or channel-binding name kept (RFC 4422 §3.1 allows 20). */
#define XU_SASL_NAME_MAX 63

/* What a server offered an account last time ($XDG_CACHE_HOME/xmpp-utils), as hints. */
struct xu_cache {
	bool known; /* loaded from a file written for this account */
	int sm;     /* XEP-0198 after authentication: 1 offered, 0 not, -1 unknown */
	bool has_scram;
	struct xu_scram_salted scram; /* masked with the password (xu_cache_mask) */
	char mechs[256];              /* the SASL offer (xu_sasl_offer), "" unknown */
	char cbs[128];
	char sasl2[128];    /* SASL2 (XEP-0388) and what inline (xu_sasl2_inline), "" not offered */
	char agent[40];     /* XEP-0388 user-agent id (a UUID), "" none yet */
	char fast_mech[32]; /* XEP-0484: the token's mechanism, "" no token */
	int64_t fast_expiry_ms; /* when the server said it expires (Unix ms) */
	unsigned char fast_token[XU_CACHE_TOKEN_MAX]; /* masked (xu_cache_mask_token) */
	size_t fast_len;
};

/* Mask (or unmask: the same operation) a salted password with the password it came from, so
 * that the file alone is worth no more than a guess checked by PBKDF2 (the key XORed with
 * HMAC-SHA-512(password, what it was salted with)). Errors: XU_ERR_INTERNAL. */
enum xu_err xu_cache_mask(struct xu_scram_salted *s, const char *password);
/* The same for a FAST token, whose mask also depends on the user-agent id it was issued to:
 * the file alone does not log in. Errors: XU_ERR_INTERNAL. */
enum xu_err xu_cache_mask_token(unsigned char *token, size_t len, const char *password,
                                const char *agent);
/* A fresh user-agent id (an RFC 4122 version 4 UUID) into out. Errors: XU_ERR_INTERNAL. */
enum xu_err xu_cache_new_agent(char out[40]);

/* `account` names the account and where it connects ("jid host port tls"). A missing, foreign,
 * damaged or insecure file (not ours, writable by others) loads as all unknown. dir NULL:
 * no cache. */
void xu_cache_load(const char *dir, const char *account, struct xu_cache *out);
/* Replace the file atomically (mode 0600, directory 0700, created as needed).
 * Errors: XU_ERR_IO, XU_ERR_USAGE (name too long); message in errbuf. */
enum xu_err xu_cache_store(const char *dir, const char *account, const struct xu_cache *c,
                           char *errbuf, size_t errlen);
/* Another private file of the cache directory, <dir>/<name> (no '/', not starting with '.'),
 * replaced the same way. dir NULL: nothing. Errors: XU_ERR_IO, XU_ERR_USAGE. */
enum xu_err xu_cache_store_file(const char *dir, const char *name, const char *body, size_t n,
                                char *errbuf, size_t errlen);

/* ---------------------------------------------------------------- srv.c (RFC 2782, RFC 6120 §3.2,
 * XEP-0368) */

struct xu_srv {
	char *target; /* ASCII host name, no trailing dot */
	uint16_t port;
	uint16_t priority;
	uint16_t weight;
	bool direct_tls; /* from _xmpps-client */
};

/* Parse a raw DNS response holding SRV answers. A single record with target "." (or only
 * such records) yields n == 0 and *none = true (service decidedly not available); "."
 * records beside real ones are dropped, as are port-0 records and answers other than SRV/IN.
 * A non-zero RCODE is no records; with TC set, the complete records before the cut are kept.
 * At most 256 records.
 * Errors: XU_ERR_PROTO (malformed, *why), XU_ERR_NOMEM. */
enum xu_err xu_srv_parse(const unsigned char *msg, size_t len, bool direct_tls, struct xu_srv **out,
                         size_t *n, bool *none, const char **why);
/* Order per RFC 2782 (priority, then weighted random); rnd returns a uniform value in
 * [0, bound] inclusive. On equal priority direct_tls records come first (XEP-0368 allows
 * the preference). Stable for equal input and rnd. */
void xu_srv_order(struct xu_srv *r, size_t n, uint32_t (*rnd)(void *ctx, uint32_t bound),
                  void *ctx);
/* Query _xmpps-client._tcp and _xmpp-client._tcp for domain (ASCII) and merge them in the
 * order to try (XEP-0368). n == 0 with XU_OK: no records (fall back to the domain), unless
 * *none. localhost and IP literals are never queried. timeout_ms 0 means 10 s; the
 * resolver counts whole seconds, so a query may take 1 s per name server even when less
 * time was given.
 * Errors: XU_ERR_NOMEM (DNS failures are treated as "no records"). */
enum xu_err xu_srv_lookup(const char *domain, unsigned timeout_ms, struct xu_srv **out, size_t *n,
                          bool *none);
void xu_srv_free(struct xu_srv *r, size_t n);

/* ---------------------------------------------------------------- sm.c (XEP-0198 §4) */

/* The server's ack <a h='hs'/> when we have sent `sent` counted stanzas and it had confirmed
 * `confirmed` of them: *now_confirmed is the new count. h counts modulo 2^32, so the counts
 * are compared modulo 2^32 too. Errors: XU_ERR_PROTO (not an unsignedInt, or more than was
 * sent, or fewer than before: *why says which). */
enum xu_err xu_sm_ack(uint64_t sent, uint64_t confirmed, const char *hs, uint64_t *now_confirmed,
                      const char **why);

/* ---------------------------------------------------------------- util.c */

/* Random id of `bytes` random bytes, base64url without padding. Errors: XU_ERR_NOMEM, INTERNAL. */
enum xu_err xu_random_id(size_t bytes, char **out);
/* Make room for one more element in a growable array (*arr of *cap elements of `size` bytes,
 * n in use): doubles, starting at `first`. Errors: XU_ERR_NOMEM (the array is unchanged). */
enum xu_err xu_array_room(void **arr, size_t *cap, size_t n, size_t size, size_t first);
/* Decode one UTF-8 sequence strictly (RFC 3629 §4: no overlongs, no surrogates, nothing above
 * U+10FFFF): its length 1..4, or 0 when s (len > 0 bytes) does not start one. */
size_t xu_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp);
/* True when s is valid UTF-8 made only of characters XML 1.0 can carry. */
bool xu_utf8_xml_ok(const char *s, size_t len);

#endif
