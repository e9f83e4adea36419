/* scram.c: SCRAM client: RFC 5802 §5 §7, RFC 7677, SHA-512, channel binding, XEP-0440, XEP-0474. */
#include "xu-int.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>

#define SCRAM_MAX_HASH 64     /* SHA-512 */
#define SCRAM_NONCE_BYTES 24  /* 192 bits of entropy, 32 base64 characters */
#define SCRAM_MAX_NONCE 256   /* a caller-given client nonce */
#define SCRAM_MAX_MSG 8192    /* server-first and server-final: real ones are ~150 bytes */
#define SCRAM_MAX_SALT 1024   /* decoded salt bytes */
#define SCRAM_MAX_CB 1024     /* channel-binding data bytes (tls-exporter: 32, SHA-512: 64) */
#define SCRAM_MAX_ERRTEXT 100 /* characters of a server's e= value kept for the message */

enum scram_state {
	SCRAM_NEW,
	SCRAM_FIRST_SENT,
	SCRAM_FINAL_SENT,
	SCRAM_DONE,
	SCRAM_FAILED,
};

struct xu_scram {
	enum xu_scram_hash hash;
	enum scram_state state;
	char *password;         /* OpaqueString-prepared; wiped once the keys are derived */
	char *gs2;              /* gs2-header, e.g. "n,," */
	unsigned char *cb_data; /* NULL without channel binding */
	size_t cb_len;
	char *cnonce;
	char *first_bare; /* client-first-message-bare, part of AuthMessage */
	char *expect_h;   /* XEP-0474 hash (base64) to find in server-first, or NULL */
	unsigned char server_sig[SCRAM_MAX_HASH];
	struct xu_scram_salted known; /* params.known, when given */
	bool has_known;
	struct xu_scram_salted salted; /* what the client-final used */
	bool has_salted;
	bool reused;
	const char *why; /* static message, or msg when it points there */
	char msg[SCRAM_MAX_ERRTEXT + 64];
};

static const char scram_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t scram_hash_len(enum xu_scram_hash h)
{
	switch (h) {
	case XU_SCRAM_SHA1:
		return 20;
	case XU_SCRAM_SHA256:
		return 32;
	case XU_SCRAM_SHA512:
		return 64;
	}
	return 0;
}

static gnutls_digest_algorithm_t scram_digest(enum xu_scram_hash h)
{
	switch (h) {
	case XU_SCRAM_SHA1:
		return GNUTLS_DIG_SHA1;
	case XU_SCRAM_SHA256:
		return GNUTLS_DIG_SHA256;
	case XU_SCRAM_SHA512:
		return GNUTLS_DIG_SHA512;
	}
	return GNUTLS_DIG_UNKNOWN;
}

static gnutls_mac_algorithm_t scram_mac(enum xu_scram_hash h)
{
	switch (h) {
	case XU_SCRAM_SHA1:
		return GNUTLS_MAC_SHA1;
	case XU_SCRAM_SHA256:
		return GNUTLS_MAC_SHA256;
	case XU_SCRAM_SHA512:
		return GNUTLS_MAC_SHA512;
	}
	return GNUTLS_MAC_UNKNOWN;
}

static enum xu_err scram_b64_add(struct xu_buf *b, const unsigned char *p, size_t n)
{
	char q[4];
	size_t i;
	enum xu_err err;

	for (i = 0; i + 3 <= n; i += 3) {
		q[0] = scram_b64_chars[p[i] >> 2];
		q[1] = scram_b64_chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		q[2] = scram_b64_chars[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)];
		q[3] = scram_b64_chars[p[i + 2] & 63];
		err = xu_buf_add(b, q, 4);
		if (err)
			return err;
	}
	if (n - i == 1) {
		q[0] = scram_b64_chars[p[i] >> 2];
		q[1] = scram_b64_chars[(p[i] & 3) << 4];
		q[2] = '=';
		q[3] = '=';
		return xu_buf_add(b, q, 4);
	}
	if (n - i == 2) {
		q[0] = scram_b64_chars[p[i] >> 2];
		q[1] = scram_b64_chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)];
		q[2] = scram_b64_chars[(p[i + 1] & 15) << 2];
		q[3] = '=';
		return xu_buf_add(b, q, 4);
	}
	return XU_OK;
}

static int scram_b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict RFC 4648 §4 decoding: whole quanta, padding only at the end, no whitespace, unused
 * bits zero, so that every value has exactly one encoding. False when invalid or over max. */
static bool scram_b64_decode(const char *s, size_t len, unsigned char *out, size_t max,
                             size_t *outlen)
{
	size_t i, o = 0, pad = 0;
	int v[4], k;

	if (len == 0 || len % 4 != 0)
		return false;
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	if (len / 4 * 3 - pad > max)
		return false;
	for (i = 0; i < len; i += 4) {
		bool last = i + 4 == len;

		for (k = 0; k < 4; k++) {
			if (last && k >= 4 - (int)pad) {
				v[k] = 0;
				continue;
			}
			v[k] = scram_b64_val(s[i + k]);
			if (v[k] < 0)
				return false;
		}
		out[o++] = (unsigned char)((v[0] << 2) | (v[1] >> 4));
		if (last && pad == 2) {
			if (v[1] & 15)
				return false;
			break;
		}
		out[o++] = (unsigned char)(((v[1] & 15) << 4) | (v[2] >> 2));
		if (last && pad == 1) {
			if (v[2] & 3)
				return false;
			break;
		}
		out[o++] = (unsigned char)(((v[2] & 3) << 6) | v[3]);
	}
	*outlen = o;
	return true;
}

/* RFC 5802 §7 "printable": what a nonce may contain. */
static bool scram_printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7E || c == ',')
			return false;
	}
	return len > 0;
}

static bool scram_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Split off the attribute "a=value" at *pos of msg; *pos moves past it and its comma. False
 * on a syntax error, including a trailing comma. */
static bool scram_attr(const char *msg, size_t len, size_t *pos, char *name, const char **val,
                       size_t *vlen)
{
	size_t i = *pos, start;

	if (len - i < 2 || !scram_alpha(msg[i]) || msg[i + 1] != '=')
		return false;
	*name = msg[i];
	start = i + 2;
	for (i = start; i < len && msg[i] != ','; i++)
		;
	*val = msg + start;
	*vlen = i - start;
	if (i < len) {
		i++;
		if (i == len)
			return false;
	}
	*pos = i;
	return true;
}

static enum xu_err scram_fail(struct xu_scram *s, enum xu_err err, const char *why)
{
	s->state = SCRAM_FAILED;
	s->why = why;
	return err;
}

/* A server's e= value, shown to the user: printable ASCII only, bounded. */
static enum xu_err scram_server_error(struct xu_scram *s, const char *val, size_t len)
{
	static const char prefix[] = "server rejected authentication: ";
	size_t i, o = sizeof(prefix) - 1;

	memcpy(s->msg, prefix, o);
	for (i = 0; i < len && i < SCRAM_MAX_ERRTEXT; i++) {
		unsigned char c = (unsigned char)val[i];

		s->msg[o++] = (c >= 0x20 && c <= 0x7E) ? (char)c : '?';
	}
	if (i < len) {
		memcpy(s->msg + o, "...", 3);
		o += 3;
	}
	if (len == 0) {
		memcpy(s->msg + o, "(empty)", 7);
		o += 7;
	}
	s->msg[o] = '\0';
	return scram_fail(s, XU_ERR_AUTH, s->msg);
}

static int scram_strcmp(const void *a, const void *b)
{
	/* strcmp compares as unsigned char: the "i;octet" collation XEP-0474 asks for. */
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Append the names sorted and joined by the record separator 0x1E (XEP-0474 §5.1). */
static enum xu_err scram_ssdp_list(struct xu_buf *b, const char *const *names, size_t n)
{
	const char **sorted;
	size_t i;
	enum xu_err err = XU_OK;

	if (n == 0)
		return XU_OK;
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted)
		return XU_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (!names[i]) {
			free(sorted);
			return XU_ERR_USAGE;
		}
		sorted[i] = names[i];
	}
	qsort(sorted, n, sizeof(*sorted), scram_strcmp);
	for (i = 0; i < n && !err; i++) {
		if (i > 0)
			err = xu_buf_add(b, "\x1e", 1);
		if (!err)
			err = xu_buf_adds(b, sorted[i]);
	}
	free(sorted);
	return err;
}

/* The h= value the server must send if nobody altered what it offered (XEP-0474 §5.1). A NULL
 * cb list means the server did not use XEP-0440, so no 0x1F part. */
static enum xu_err scram_ssdp(struct xu_scram *s, const struct xu_scram_params *p)
{
	struct xu_buf in, out;
	unsigned char dig[SCRAM_MAX_HASH];
	enum xu_err err;

	xu_buf_init(&in, 0);
	xu_buf_init(&out, 0);
	err = scram_ssdp_list(&in, p->offered_mechs, p->n_offered_mechs);
	if (!err && p->offered_cbs) {
		err = xu_buf_add(&in, "\x1f", 1);
		if (!err)
			err = scram_ssdp_list(&in, p->offered_cbs, p->n_offered_cbs);
	}
	if (!err &&
	    gnutls_hash_fast(scram_digest(s->hash), in.data ? in.data : "", in.len, dig) < 0)
		err = XU_ERR_INTERNAL;
	if (!err)
		err = scram_b64_add(&out, dig, scram_hash_len(s->hash));
	if (!err)
		err = xu_buf_take(&out, &s->expect_h, NULL);
	xu_buf_free(&in);
	xu_buf_free(&out);
	return err;
}

/* RFC 5056 §7: cb-type names are 1*(ALPHA / DIGIT / "." / "-"). */
static bool scram_cb_name_ok(const char *t)
{
	size_t i;

	for (i = 0; t[i]; i++) {
		if (!scram_alpha(t[i]) && !(t[i] >= '0' && t[i] <= '9') && t[i] != '.' &&
		    t[i] != '-')
			return false;
	}
	return i > 0 && i <= 64;
}

/* gs2 header, client nonce and client-first-message-bare, from the params. */
static enum xu_err scram_setup(struct xu_scram *s, const struct xu_scram_params *p)
{
	struct xu_buf b;
	unsigned char rnd[SCRAM_NONCE_BYTES];
	const char *c;
	enum xu_err err;

	xu_buf_init(&b, 0);
	if (p->cb_type) {
		if (!scram_cb_name_ok(p->cb_type) || !p->cb_data || p->cb_len == 0 ||
		    p->cb_len > SCRAM_MAX_CB)
			return XU_ERR_USAGE;
		s->cb_data = malloc(p->cb_len);
		if (!s->cb_data)
			return XU_ERR_NOMEM;
		memcpy(s->cb_data, p->cb_data, p->cb_len);
		s->cb_len = p->cb_len;
		err = xu_buf_addf(&b, "p=%s,,", p->cb_type);
	} else {
		err = xu_buf_adds(&b, p->server_plus ? "y,," : "n,,");
	}
	if (!err)
		err = xu_buf_take(&b, &s->gs2, NULL);
	if (err)
		goto out;

	if (p->nonce) {
		if (!scram_printable(p->nonce, strlen(p->nonce)) ||
		    strlen(p->nonce) > SCRAM_MAX_NONCE)
			return XU_ERR_USAGE;
		err = xu_buf_adds(&b, p->nonce);
	} else {
		/* Base64 never yields ',', so the result is a valid nonce as it is. */
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
			return XU_ERR_INTERNAL;
		err = scram_b64_add(&b, rnd, sizeof(rnd));
	}
	if (!err)
		err = xu_buf_take(&b, &s->cnonce, NULL);
	if (err)
		goto out;

	/* saslname (RFC 5802 §5.1): ',' and '=' escaped. */
	err = xu_buf_adds(&b, "n=");
	for (c = p->authcid; *c && !err; c++) {
		if (*c == ',')
			err = xu_buf_adds(&b, "=2C");
		else if (*c == '=')
			err = xu_buf_adds(&b, "=3D");
		else
			err = xu_buf_add(&b, c, 1);
	}
	if (!err)
		err = xu_buf_addf(&b, ",r=%s", s->cnonce);
	if (!err)
		err = xu_buf_take(&b, &s->first_bare, NULL);
out:
	xu_buf_free(&b);
	return err;
}

enum xu_err xu_scram_new(const struct xu_scram_params *p, struct xu_scram **out)
{
	struct xu_scram *s;
	const char *why = NULL;
	enum xu_err err;

	*out = NULL;
	if (!p || !p->authcid || !p->password || !*p->authcid || scram_hash_len(p->hash) == 0 ||
	    !xu_utf8_xml_ok(p->authcid, strlen(p->authcid)))
		return XU_ERR_USAGE;
	if (p->offered_mechs == NULL && p->offered_cbs != NULL)
		return XU_ERR_USAGE;
	s = calloc(1, sizeof(*s));
	if (!s)
		return XU_ERR_NOMEM;
	s->hash = p->hash;
	s->state = SCRAM_NEW;
	if (p->known && p->known->hash == p->hash) {
		s->known = *p->known;
		s->has_known = true;
	}
	s->why = "";
	err = xu_precis_opaque(p->password, strlen(p->password), &s->password, &why);
	if (err)
		goto err;
	err = scram_setup(s, p);
	if (err)
		goto err;
	if (p->offered_mechs) {
		err = scram_ssdp(s, p);
		if (err)
			goto err;
	}
	*out = s;
	return XU_OK;
err:
	xu_scram_free(s);
	return err;
}

void xu_scram_free(struct xu_scram *s)
{
	if (!s)
		return;
	xu_secret_free(s->password);
	free(s->gs2);
	free(s->cb_data);
	free(s->cnonce);
	free(s->first_bare);
	free(s->expect_h);
	gnutls_memset(s, 0, sizeof(*s));
	free(s);
}

const char *xu_scram_errmsg(const struct xu_scram *s)
{
	return s && s->why ? s->why : "";
}

enum xu_err xu_scram_hi(enum xu_scram_hash hash, const void *pw, size_t pw_len, const void *salt,
                        size_t salt_len, unsigned iterations, void *out, size_t out_len)
{
	gnutls_datum_t key = {(unsigned char *)pw, (unsigned)pw_len};
	gnutls_datum_t sd = {(unsigned char *)salt, (unsigned)salt_len};

	if (iterations == 0 || scram_hash_len(hash) == 0 || out_len == 0)
		return XU_ERR_USAGE;
	if (pw_len > SCRAM_MAX_MSG || salt_len > SCRAM_MAX_MSG)
		return XU_ERR_USAGE;
	if (gnutls_pbkdf2(scram_mac(hash), &key, &sd, iterations, out, out_len) < 0)
		return XU_ERR_INTERNAL;
	return XU_OK;
}

enum xu_err xu_scram_client_first(struct xu_scram *s, char **out, size_t *len)
{
	struct xu_buf b;
	enum xu_err err;

	if (s->state != SCRAM_NEW) {
		s->why = "SCRAM client-first requested twice";
		return XU_ERR_INTERNAL;
	}
	xu_buf_init(&b, 0);
	err = xu_buf_adds(&b, s->gs2);
	if (!err)
		err = xu_buf_adds(&b, s->first_bare);
	if (!err)
		err = xu_buf_take(&b, out, len);
	xu_buf_free(&b);
	if (err)
		return scram_fail(s, err, "out of memory");
	s->state = SCRAM_FIRST_SENT;
	return XU_OK;
}

struct scram_first {
	const char *nonce;
	size_t nonce_len;
	unsigned char salt[SCRAM_MAX_SALT];
	size_t salt_len;
	unsigned iterations;
};

_Static_assert(XU_SCRAM_MAX_ITERATIONS == 10000000u, "the error message below names the cap");

/* iteration-count = posit-number (RFC 5802 §7): no sign, no leading zero, within our cap. */
static bool scram_iterations(const char *v, size_t len, unsigned *out)
{
	unsigned long n = 0;
	size_t i;

	if (len == 0 || v[0] == '0')
		return false;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (unsigned long)(v[i] - '0');
		if (n > XU_SCRAM_MAX_ITERATIONS)
			return false;
	}
	*out = (unsigned)n;
	return true;
}

/* The next attribute of server-first, which must be `want`. */
static enum xu_err scram_expect(struct xu_scram *s, const char *m, size_t len, size_t *pos,
                                char want, const char **val, size_t *vlen, const char *lacks)
{
	char name;

	if (*pos >= len)
		return scram_fail(s, XU_ERR_PROTO, lacks);
	if (!scram_attr(m, len, pos, &name, val, vlen))
		return scram_fail(s, XU_ERR_PROTO, "malformed SCRAM server-first-message");
	if (name != want)
		return scram_fail(s, XU_ERR_PROTO, lacks);
	return XU_OK;
}

/* Check server-first-message (RFC 5802 §5.1, §7; XEP-0474 §5.2) into f. */
static enum xu_err scram_parse_first(struct xu_scram *s, const char *m, size_t len,
                                     struct scram_first *f)
{
	size_t pos = 0, vlen, cn = strlen(s->cnonce);
	const char *val;
	char name;
	bool seen_h = false;
	enum xu_err err;

	if (len == 0)
		return scram_fail(s, XU_ERR_PROTO, "empty SCRAM server-first-message");
	if (len > SCRAM_MAX_MSG)
		return scram_fail(s, XU_ERR_PROTO, "SCRAM server-first-message too long");
	if (memchr(m, '\0', len))
		return scram_fail(s, XU_ERR_PROTO, "NUL byte in SCRAM server-first-message");
	if (!scram_attr(m, len, &pos, &name, &val, &vlen))
		return scram_fail(s, XU_ERR_PROTO, "malformed SCRAM server-first-message");
	if (name == 'm')
		return scram_fail(s, XU_ERR_PROTO,
		                  "server requires an unsupported SCRAM extension (m=)");
	if (name == 'e')
		return scram_server_error(s, val, vlen);
	if (name != 'r')
		return scram_fail(s, XU_ERR_PROTO, "SCRAM server-first-message lacks r= first");
	if (!scram_printable(val, vlen) || vlen < cn || memcmp(val, s->cnonce, cn) != 0)
		return scram_fail(s, XU_ERR_PROTO, "SCRAM server nonce does not extend ours");
	/* RFC 5802 only asks for the prefix; a server that adds nothing of its own gives no
	 * freshness on its side (GNU SASL accepts it, we do not). */
	if (vlen == cn)
		return scram_fail(s, XU_ERR_PROTO, "SCRAM server added no nonce of its own");
	f->nonce = val;
	f->nonce_len = vlen;

	err = scram_expect(s, m, len, &pos, 's', &val, &vlen,
	                   "SCRAM server-first-message lacks s= (salt)");
	if (err)
		return err;
	if (!scram_b64_decode(val, vlen, f->salt, sizeof(f->salt), &f->salt_len) ||
	    f->salt_len == 0)
		return scram_fail(s, XU_ERR_PROTO, "SCRAM salt is empty or not valid base64");

	err = scram_expect(s, m, len, &pos, 'i', &val, &vlen,
	                   "SCRAM server-first-message lacks i= (iteration count)");
	if (err)
		return err;
	if (!scram_iterations(val, vlen, &f->iterations))
		return scram_fail(s, XU_ERR_PROTO,
		                  "SCRAM iteration count is not a number in [1, 10000000]");

	while (pos < len) {
		if (!scram_attr(m, len, &pos, &name, &val, &vlen))
			return scram_fail(s, XU_ERR_PROTO,
			                  "malformed extension in SCRAM server-first-message");
		if (name == 'm')
			return scram_fail(s, XU_ERR_PROTO,
			                  "server requires an unsupported SCRAM extension (m=)");
		if (name == 'r' || name == 's' || name == 'i' || name == 'e' ||
		    (name == 'h' && seen_h))
			return scram_fail(s, XU_ERR_PROTO,
			                  "repeated attribute in SCRAM server-first-message");
		if (name != 'h')
			continue; /* unknown optional extensions are ignored (RFC 5802 §5.1) */
		seen_h = true;
		/* Without h= the server does not implement XEP-0474: nothing to check, and the
		 * proof covers server-first so a MITM cannot strip it unnoticed. */
		if (s->expect_h && (vlen != strlen(s->expect_h) || memcmp(val, s->expect_h, vlen)))
			return scram_fail(s, XU_ERR_PROTO,
			                  "possible downgrade attack: the server's SASL mechanism "
			                  "and channel-binding lists were altered in transit "
			                  "(XEP-0474 hash mismatch)");
	}
	return XU_OK;
}

/* "a=v" pairs joined by ',': what RFC 5802 §7 allows as extensions, minus our own letters. */
static bool scram_ext_ok(const char *ext)
{
	size_t pos = 0, len = strlen(ext), vlen;
	const char *val;
	char name;

	if (len == 0)
		return false;
	while (pos < len) {
		if (!scram_attr(ext, len, &pos, &name, &val, &vlen) || vlen == 0)
			return false;
		if (name == 'c' || name == 'r' || name == 'p')
			return false;
	}
	return true;
}

/* SaltedPassword: the remembered one when it was made from the same salt and count, else
 * PBKDF2 (the expensive part of a login); kept for xu_scram_salted. */
static enum xu_err scram_salted_password(struct xu_scram *s, const struct scram_first *f,
                                         unsigned char *salted, size_t hl)
{
	enum xu_err err = XU_OK;

	s->reused = s->has_known && s->known.iterations == f->iterations &&
	            s->known.salt_len == f->salt_len &&
	            memcmp(s->known.salt, f->salt, f->salt_len) == 0;
	if (s->reused)
		memcpy(salted, s->known.key, hl);
	else
		err = xu_scram_hi(s->hash, s->password, strlen(s->password), f->salt, f->salt_len,
		                  f->iterations, salted, hl);
	if (err || f->salt_len > sizeof(s->salted.salt))
		return err;
	s->salted.hash = s->hash;
	s->salted.iterations = f->iterations;
	s->salted.salt_len = f->salt_len;
	memcpy(s->salted.salt, f->salt, f->salt_len);
	memcpy(s->salted.key, salted, hl);
	s->has_salted = true;
	return XU_OK;
}

bool xu_scram_salted(const struct xu_scram *s, struct xu_scram_salted *out, bool *reused)
{
	if (!s->has_salted)
		return false;
	if (out)
		*out = s->salted;
	*reused = s->reused;
	return true;
}

/* The keys of RFC 5802 §3 from the salted password; fills proof and s->server_sig. */
static enum xu_err scram_keys(struct xu_scram *s, const struct scram_first *f,
                              const struct xu_buf *auth, unsigned char *proof)
{
	unsigned char salted[SCRAM_MAX_HASH], ckey[SCRAM_MAX_HASH], stored[SCRAM_MAX_HASH];
	unsigned char csig[SCRAM_MAX_HASH], skey[SCRAM_MAX_HASH];
	gnutls_mac_algorithm_t mac = scram_mac(s->hash);
	size_t i, hl = scram_hash_len(s->hash);
	enum xu_err err;

	err = scram_salted_password(s, f, salted, hl);
	if (!err && (gnutls_hmac_fast(mac, salted, hl, "Client Key", 10, ckey) < 0 ||
	             gnutls_hash_fast(scram_digest(s->hash), ckey, hl, stored) < 0 ||
	             gnutls_hmac_fast(mac, stored, hl, auth->data, auth->len, csig) < 0 ||
	             gnutls_hmac_fast(mac, salted, hl, "Server Key", 10, skey) < 0 ||
	             gnutls_hmac_fast(mac, skey, hl, auth->data, auth->len, s->server_sig) < 0))
		err = XU_ERR_INTERNAL;
	if (!err) {
		for (i = 0; i < hl; i++)
			proof[i] = ckey[i] ^ csig[i];
	}
	gnutls_memset(salted, 0, sizeof(salted));
	gnutls_memset(ckey, 0, sizeof(ckey));
	gnutls_memset(stored, 0, sizeof(stored));
	gnutls_memset(csig, 0, sizeof(csig));
	gnutls_memset(skey, 0, sizeof(skey));
	return err;
}

enum xu_err xu_scram_client_final_ext(struct xu_scram *s, const char *server_first, size_t len,
                                      const char *ext, char **out, size_t *outlen)
{
	struct scram_first f;
	struct xu_buf cbind, msg, auth;
	unsigned char proof[SCRAM_MAX_HASH];
	enum xu_err err;

	if (s->state != SCRAM_FIRST_SENT) {
		s->why = "SCRAM client-final requested out of order";
		return XU_ERR_INTERNAL;
	}
	if (ext && !scram_ext_ok(ext)) {
		s->why = "malformed SCRAM client-final extension";
		return XU_ERR_USAGE;
	}
	err = scram_parse_first(s, server_first, len, &f);
	if (err)
		return err;

	xu_buf_init(&cbind, 0);
	xu_buf_init(&msg, 0);
	xu_buf_init(&auth, 0);
	/* c= carries the gs2 header, then the channel-binding data when p= (RFC 5802 §7). */
	err = xu_buf_adds(&cbind, s->gs2);
	if (!err && s->cb_data)
		err = xu_buf_add(&cbind, s->cb_data, s->cb_len);
	if (!err)
		err = xu_buf_adds(&msg, "c=");
	if (!err)
		err = scram_b64_add(&msg, (const unsigned char *)cbind.data, cbind.len);
	if (!err)
		err = xu_buf_adds(&msg, ",r=");
	if (!err)
		err = xu_buf_add(&msg, f.nonce, f.nonce_len);
	if (!err && ext)
		err = xu_buf_addf(&msg, ",%s", ext);
	/* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
	if (!err)
		err = xu_buf_addf(&auth, "%s,", s->first_bare);
	if (!err)
		err = xu_buf_add(&auth, server_first, len);
	if (!err)
		err = xu_buf_add(&auth, ",", 1);
	if (!err)
		err = xu_buf_add(&auth, msg.data, msg.len);
	if (!err)
		err = scram_keys(s, &f, &auth, proof);
	if (!err)
		err = xu_buf_adds(&msg, ",p=");
	if (!err)
		err = scram_b64_add(&msg, proof, scram_hash_len(s->hash));
	if (!err)
		err = xu_buf_take(&msg, out, outlen);
	gnutls_memset(proof, 0, sizeof(proof));
	gnutls_memset(&f, 0, sizeof(f));
	/* The password is not needed any more: only the server signature is kept. */
	xu_secret_free(s->password);
	s->password = NULL;
	xu_buf_wipe_free(&cbind);
	xu_buf_wipe_free(&msg);
	xu_buf_free(&auth);
	if (err)
		return scram_fail(
		    s, err, err == XU_ERR_NOMEM ? "out of memory" : "SCRAM key derivation failed");
	s->state = SCRAM_FINAL_SENT;
	return XU_OK;
}

enum xu_err xu_scram_client_final(struct xu_scram *s, const char *server_first, size_t len,
                                  char **out, size_t *outlen)
{
	return xu_scram_client_final_ext(s, server_first, len, NULL, out, outlen);
}

/* A server that cannot prove it knows the password failed mutual authentication (XU_ERR_AUTH,
 * as a wrong password does: it may be an impostor); a malformed message is XU_ERR_PROTO. */
enum xu_err xu_scram_verify(struct xu_scram *s, const char *server_final, size_t len)
{
	unsigned char sig[SCRAM_MAX_HASH];
	size_t pos = 0, vlen, siglen, hl = scram_hash_len(s->hash);
	const char *val;
	char name;

	if (s->state == SCRAM_NEW || s->state == SCRAM_FIRST_SENT)
		/* <success/> before the server ever saw our proof: it proved nothing. */
		return scram_fail(s, XU_ERR_AUTH,
		                  "server ended SCRAM before the exchange finished");
	if (s->state != SCRAM_FINAL_SENT) {
		s->why = "SCRAM verification requested out of order";
		return XU_ERR_INTERNAL;
	}
	if (len == 0)
		return scram_fail(s, XU_ERR_AUTH,
		                  "server sent no SCRAM server signature (v=): it did not prove "
		                  "it knows the password");
	if (len > SCRAM_MAX_MSG)
		return scram_fail(s, XU_ERR_PROTO, "SCRAM server-final-message too long");
	if (memchr(server_final, '\0', len))
		return scram_fail(s, XU_ERR_PROTO, "NUL byte in SCRAM server-final-message");
	if (!scram_attr(server_final, len, &pos, &name, &val, &vlen))
		return scram_fail(s, XU_ERR_PROTO, "malformed SCRAM server-final-message");
	if (name == 'e')
		return scram_server_error(s, val, vlen);
	if (name != 'v')
		return scram_fail(s, XU_ERR_AUTH,
		                  "server sent no SCRAM server signature (v=): it did not prove "
		                  "it knows the password");
	while (pos < len) {
		const char *xval;
		size_t xlen;
		char xname;

		if (!scram_attr(server_final, len, &pos, &xname, &xval, &xlen))
			return scram_fail(s, XU_ERR_PROTO, "malformed SCRAM server-final-message");
	}
	if (!scram_b64_decode(val, vlen, sig, sizeof(sig), &siglen) || siglen != hl ||
	    gnutls_memcmp(sig, s->server_sig, hl) != 0)
		return scram_fail(
		    s, XU_ERR_AUTH,
		    "server signature invalid: it did not prove it knows the password");
	s->state = SCRAM_DONE;
	s->why = "";
	return XU_OK;
}
