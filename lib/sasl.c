/* sasl.c: SASL in XMPP (RFC 6120 §6): mechanism choice, channel-binding type choice
 * (XEP-0440), base64 framing, and PLAIN (RFC 4616) over TLS only; SCRAM lives in scram.c. */
#include "conn-int.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct xu_sasl {
	const char *mech; /* static name from sasl_mechs, or the caller's HT-* */
	struct xu_scram *scram;
	bool plain;
	bool done;
	bool sasl2;
	bool ht;
	unsigned char ht_expect[32]; /* HT: the server's answer, HMAC(token, "Responder" || cb) */
};

/* Strongest first (RFC 7677 §2, XEP-0440); PLAIN last and only under TLS. */
static const struct sasl_mech {
	const char *name;
	enum xu_scram_hash hash;
	bool plus;
	bool scram;
} sasl_mechs[] = {
    {"SCRAM-SHA-512-PLUS", XU_SCRAM_SHA512, true, true},
    {"SCRAM-SHA-256-PLUS", XU_SCRAM_SHA256, true, true},
    {"SCRAM-SHA-1-PLUS", XU_SCRAM_SHA1, true, true},
    {"SCRAM-SHA-512", XU_SCRAM_SHA512, false, true},
    {"SCRAM-SHA-256", XU_SCRAM_SHA256, false, true},
    {"SCRAM-SHA-1", XU_SCRAM_SHA1, false, true},
    {"PLAIN", XU_SCRAM_SHA1, false, false},
};

#define SASL_MAX_OFFERED 32

/* Collect the text of <mechanism/> children (and XEP-0440 channel-binding types). */
static size_t sasl_list(const struct xu_stanza *parent, const char *child, const char *attr,
                        const char **out, size_t max)
{
	struct xu_stanza *c;
	size_t n = 0;

	if (!parent)
		return 0;
	for (c = xu_stanza_first(parent); c && n < max; c = xu_stanza_next(c)) {
		const char *v;

		if (strcmp(xu_stanza_name(c), child) != 0)
			continue;
		v = attr ? xu_stanza_attr(c, attr) : xu_stanza_text(c);
		if (v && *v)
			out[n++] = v;
	}
	return n;
}

static bool sasl_has(const char *const *list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return true;
	return false;
}

/* tls-exporter on TLS 1.3 (RFC 9266); on 1.2 tls-server-end-point, else tls-unique. Where the
 * server lists its types (XEP-0440), only those. A server that lists none leaves the type to
 * each version's standard: tls-unique on 1.2 (RFC 5929), tls-exporter on 1.3, but only when
 * `forced`: servers that predate XEP-0440 and still offer -PLUS on 1.3 (ejabberd 23.01) bind to
 * tls-unique, undefined there (RFC 8446 §C.5), and reject tls-exporter, so left to choose we
 * use no -PLUS on 1.3 without a list. NULL: no usable type. */
const char *xu_sasl_pick_cb(bool is13, bool forced, const char *const *cbs, size_t ncb)
{
	if (ncb == 0)
		return !is13 ? "tls-unique" : forced ? "tls-exporter" : NULL;
	if (is13 && sasl_has(cbs, ncb, "tls-exporter"))
		return "tls-exporter";
	if (sasl_has(cbs, ncb, "tls-server-end-point"))
		return "tls-server-end-point";
	if (!is13 && sasl_has(cbs, ncb, "tls-unique"))
		return "tls-unique";
	return NULL;
}

/* True when name is one of ours (for telling a typo from a mechanism the server lacks). */
static bool sasl_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sasl_mechs) / sizeof(sasl_mechs[0]); i++)
		if (strcasecmp(sasl_mechs[i].name, name) == 0)
			return true;
	return false;
}

static enum xu_err sasl_b64(const char *data, size_t len, struct xu_stanza *el)
{
	gnutls_datum_t in = {(unsigned char *)data, (unsigned)len}, out = {NULL, 0};
	enum xu_err err;

	if (len == 0)
		return xu_stanza_add_text(el, "=", 1); /* RFC 6120 §6.4.2: empty response */
	if (gnutls_base64_encode2(&in, &out) < 0)
		return XU_ERR_NOMEM;
	err = xu_stanza_add_text(el, (const char *)out.data, out.size);
	gnutls_memset(out.data, 0, out.size);
	gnutls_free(out.data);
	return err;
}

/* The initial response: the text of <auth/>, or XEP-0388's <initial-response/> child. */
static enum xu_err sasl_initial(struct xu_sasl *s, struct xu_stanza *el, const char *data,
                                size_t len)
{
	if (s->sasl2) {
		el = xu_stanza_add_new(el, "initial-response", NULL);
		if (!el)
			return XU_ERR_NOMEM;
	}
	return sasl_b64(data, len, el);
}

/* Decode the base64 text of a challenge/success; "=" or nothing is empty. */
static enum xu_err sasl_unb64(const struct xu_stanza *el, char **out, size_t *len)
{
	const char *t = xu_stanza_text(el);
	gnutls_datum_t in, dec = {NULL, 0};

	*out = NULL;
	*len = 0;
	if (!*t || strcmp(t, "=") == 0) {
		*out = calloc(1, 1);
		return *out ? XU_OK : XU_ERR_NOMEM;
	}
	in.data = (unsigned char *)t;
	in.size = (unsigned)strlen(t);
	if (gnutls_base64_decode2(&in, &dec) < 0)
		return XU_ERR_PROTO;
	*out = malloc(dec.size + 1);
	if (!*out) {
		gnutls_free(dec.data);
		return XU_ERR_NOMEM;
	}
	memcpy(*out, dec.data, dec.size);
	(*out)[dec.size] = '\0';
	*len = dec.size;
	gnutls_free(dec.data);
	return XU_OK;
}

static const struct sasl_mech *sasl_choose(const struct xu_sasl_params *p,
                                           const char *const *offered, size_t n,
                                           const char *const *cbs, size_t ncb, char *errbuf,
                                           size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(sasl_mechs) / sizeof(sasl_mechs[0]); i++) {
		const struct sasl_mech *m = &sasl_mechs[i];

		if (p->force && strcasecmp(p->force, m->name) != 0)
			continue;
		if (!sasl_has(offered, n, m->name)) {
			if (p->force) {
				snprintf(errbuf, errlen,
				         "the server does not offer SASL mechanism %s", m->name);
				return NULL;
			}
			continue;
		}
		if (m->plus && !p->tls_session) {
			if (p->force) {
				snprintf(errbuf, errlen, "%s needs TLS for channel binding",
				         m->name);
				return NULL;
			}
			continue;
		}
		/* Left to choose, a -PLUS without a binding type both sides know is skipped. */
		if (m->plus && !p->force &&
		    !xu_sasl_pick_cb(xu_tls_is13(p->tls_session), false, cbs, ncb))
			continue;
		if (!m->scram && !p->tls) {
			snprintf(errbuf, errlen,
			         "refusing to send a PLAIN password over an unencrypted stream");
			if (p->force)
				return NULL;
			continue;
		}
		return m;
	}
	if (!errbuf[0])
		snprintf(errbuf, errlen, "no supported SASL mechanism offered by the server");
	return NULL;
}

bool xu_sasl_ht(const char *mech, const char **cb_type)
{
	static const char *const kinds[][2] = {{"HT-SHA-256-NONE", NULL},
	                                       {"HT-SHA-256-UNIQ", "tls-unique"},
	                                       {"HT-SHA-256-ENDP", "tls-server-end-point"},
	                                       {"HT-SHA-256-EXPR", "tls-exporter"}};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(mech, kinds[i][0]) == 0) {
			*cb_type = kinds[i][1];
			return true;
		}
	return false;
}

/* XEP-0484 §3.2: authcid NUL HMAC-SHA-256(token, "Initiator" || cb-data); the server proves it
 * holds the token too with HMAC-SHA-256(token, "Responder" || cb-data). */
static enum xu_err sasl_start_ht(const struct xu_sasl_params *p, struct xu_sasl *s,
                                 struct xu_stanza *el, char *errbuf, size_t errlen)
{
	const char *cb_type = NULL;
	unsigned char *cb = NULL, *msg;
	size_t cblen = 0, alen = strlen(p->authcid);
	char resp[512];
	enum xu_err err = XU_OK;

	if (!xu_sasl_ht(p->token_mech, &cb_type) || alen + 33 > sizeof(resp) ||
	    (cb_type &&
	     (!p->tls_session || xu_tls_cb(p->tls_session, cb_type, &cb, &cblen) != XU_OK))) {
		snprintf(errbuf, errlen, "%s: cannot be used on this connection", p->token_mech);
		return XU_ERR_AUTH;
	}
	msg = malloc(cblen + 9);
	if (!msg) {
		free(cb);
		return XU_ERR_NOMEM;
	}
	if (cblen)
		memcpy(msg + 9, cb, cblen);
	memcpy(resp, p->authcid, alen + 1);
	memcpy(msg, "Initiator", 9);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, p->token, p->token_len, msg, cblen + 9,
	                     resp + alen + 1) < 0)
		err = XU_ERR_INTERNAL;
	memcpy(msg, "Responder", 9);
	if (!err && gnutls_hmac_fast(GNUTLS_MAC_SHA256, p->token, p->token_len, msg, cblen + 9,
	                             s->ht_expect) < 0)
		err = XU_ERR_INTERNAL;
	free(msg);
	free(cb);
	if (!err)
		err = sasl_initial(s, el, resp, alen + 33);
	gnutls_memset(resp, 0, sizeof(resp));
	s->ht = true;
	s->done = true; /* one step: the next thing is the outcome */
	return err;
}

enum xu_err xu_sasl_start(const struct xu_sasl_params *p, const struct xu_stanza *features,
                          struct xu_sasl **out, struct xu_stanza **auth, char *errbuf,
                          size_t errlen)
{
	const char *offered[SASL_MAX_OFFERED], *cbs[SASL_MAX_OFFERED];
	struct xu_stanza *mechs, *cbel, *el = NULL;
	const struct sasl_mech *m;
	struct xu_sasl *s;
	struct xu_scram_params sp;
	unsigned char *cbdata = NULL;
	size_t n, ncb, cblen = 0, i;
	char *first = NULL;
	size_t firstlen = 0;
	enum xu_err err;
	bool server_plus = false;

	errbuf[0] = '\0';
	mechs = p->sasl2 ? xu_stanza_child(features, "authentication", XU_NS_SASL2)
	                 : xu_stanza_child(features, "mechanisms", XU_NS_SASL);
	n = sasl_list(mechs, "mechanism", NULL, offered, SASL_MAX_OFFERED);
	cbel = xu_stanza_child(features, "sasl-channel-binding", XU_NS_SASL_CB);
	ncb = sasl_list(cbel, "channel-binding", "type", cbs, SASL_MAX_OFFERED);
	if (p->force && !sasl_known(p->force)) {
		snprintf(errbuf, errlen, "unknown SASL mechanism %s", p->force);
		return XU_ERR_USAGE;
	}
	m = p->token ? NULL : sasl_choose(p, offered, n, cbs, ncb, errbuf, errlen);
	if (!m && !p->token)
		return XU_ERR_AUTH;
	s = calloc(1, sizeof(*s));
	if (!s)
		return XU_ERR_NOMEM;
	s->mech = m ? m->name : p->token_mech;
	s->sasl2 = p->sasl2;
	el = p->sasl2 ? xu_stanza_new("authenticate", XU_NS_SASL2)
	              : xu_stanza_new("auth", XU_NS_SASL);
	if (!el || xu_stanza_set_attr(el, "mechanism", s->mech) != XU_OK) {
		err = XU_ERR_NOMEM;
		goto err;
	}
	if (!m) {
		err = sasl_start_ht(p, s, el, errbuf, errlen);
		if (err)
			goto err;
		*out = s;
		*auth = el;
		return XU_OK;
	}
	if (!m->scram) {
		struct xu_buf b;

		xu_buf_init(&b, 0);
		s->plain = true;
		err = xu_buf_add(&b, "", 1);
		if (!err)
			err = xu_buf_adds(&b, p->authcid);
		if (!err)
			err = xu_buf_add(&b, "", 1);
		if (!err)
			err = xu_buf_adds(&b, p->password);
		if (!err)
			err = sasl_initial(s, el, b.data, b.len);
		xu_buf_wipe_free(&b);
		if (err)
			goto err;
		*out = s;
		*auth = el;
		return XU_OK;
	}
	for (i = 0; i < n; i++)
		if (strlen(offered[i]) > 5 &&
		    strcmp(offered[i] + strlen(offered[i]) - 5, "-PLUS") == 0)
			server_plus = true;
	memset(&sp, 0, sizeof(sp));
	sp.hash = m->hash;
	sp.authcid = p->authcid;
	sp.password = p->password;
	/* RFC 5802 §6 gs2 flag: "y" says we could bind but the server offers no -PLUS, which
	 * lets a server that does support binding detect a stripped list. When the server
	 * offers -PLUS and we still use plain SCRAM (forced), "y" would be a lie it rightly
	 * rejects: say "n". Without TLS there is nothing to bind to: "n". */
	sp.server_plus = p->tls_session && !server_plus;
	if (m->plus) {
		sp.cb_type =
		    xu_sasl_pick_cb(xu_tls_is13(p->tls_session), p->force != NULL, cbs, ncb);
		if (!sp.cb_type ||
		    xu_tls_cb(p->tls_session, sp.cb_type, &cbdata, &cblen) != XU_OK) {
			snprintf(errbuf, errlen, "%s: no usable channel binding", m->name);
			err = XU_ERR_AUTH;
			goto err;
		}
		sp.cb_data = cbdata;
		sp.cb_len = cblen;
	}
	sp.known = p->known;
	sp.offered_mechs = offered;
	sp.n_offered_mechs = n;
	sp.offered_cbs = cbel ? cbs : NULL;
	sp.n_offered_cbs = ncb;
	err = xu_scram_new(&sp, &s->scram);
	free(cbdata);
	if (err) {
		snprintf(errbuf, errlen, "%s: cannot prepare the password", m->name);
		goto err;
	}
	err = xu_scram_client_first(s->scram, &first, &firstlen);
	if (!err)
		err = sasl_initial(s, el, first, firstlen);
	free(first);
	if (err)
		goto err;
	*out = s;
	*auth = el;
	return XU_OK;
err:
	xu_stanza_free(el);
	xu_sasl_free(s);
	return err;
}

enum xu_err xu_sasl_challenge(struct xu_sasl *s, const struct xu_stanza *challenge,
                              struct xu_stanza **reply, char *errbuf, size_t errlen)
{
	struct xu_stanza *el;
	char *in = NULL, *out = NULL;
	size_t inlen, outlen = 0;
	enum xu_err err;

	if (!s->scram || s->done) {
		snprintf(errbuf, errlen, "unexpected SASL challenge for %s", s->mech);
		return XU_ERR_PROTO;
	}
	err = sasl_unb64(challenge, &in, &inlen);
	if (err) {
		snprintf(errbuf, errlen, "SASL challenge is not valid base64");
		return err;
	}
	err = xu_scram_client_final(s->scram, in, inlen, &out, &outlen);
	free(in);
	if (err) {
		snprintf(errbuf, errlen, "%s: %s", s->mech, xu_scram_errmsg(s->scram));
		return err;
	}
	s->done = true;
	el = xu_stanza_new("response", s->sasl2 ? XU_NS_SASL2 : XU_NS_SASL);
	err = el ? sasl_b64(out, outlen, el) : XU_ERR_NOMEM;
	if (out) {
		gnutls_memset(out, 0, outlen);
		free(out);
	}
	if (err) {
		xu_stanza_free(el);
		return err;
	}
	*reply = el;
	return XU_OK;
}

enum xu_err xu_sasl_success(struct xu_sasl *s, const struct xu_stanza *success, char *errbuf,
                            size_t errlen)
{
	char *data = NULL;
	size_t len;
	enum xu_err err;

	if (s->plain)
		return XU_OK;
	if (s->sasl2) /* XEP-0388: the outcome data is a child, not the text */
		success = xu_stanza_child(success, "additional-data", NULL);
	if (!s->done) {
		/* Success before our proof: the server never checked us (CVE-class downgrade). */
		snprintf(errbuf, errlen, "%s: server reported success before authentication",
		         s->mech);
		return XU_ERR_AUTH;
	}
	if (!success) {
		snprintf(errbuf, errlen, "%s: the server's success carries no proof", s->mech);
		return XU_ERR_AUTH;
	}
	err = sasl_unb64(success, &data, &len);
	if (err) {
		snprintf(errbuf, errlen, "SASL success data is not valid base64");
		return err;
	}
	if (s->ht) {
		bool ok = len == sizeof(s->ht_expect) &&
		          gnutls_memcmp(data, s->ht_expect, sizeof(s->ht_expect)) == 0;

		free(data);
		if (!ok)
			snprintf(errbuf, errlen, "%s: the server does not hold our token", s->mech);
		return ok ? XU_OK : XU_ERR_AUTH;
	}
	err = xu_scram_verify(s->scram, data, len);
	free(data);
	if (err)
		snprintf(errbuf, errlen, "%s: %s", s->mech, xu_scram_errmsg(s->scram));
	return err;
}

/* name1,name2,... of the children (text, or attribute attr), in the server's order. */
static bool sasl_join(const struct xu_stanza *parent, const char *child, const char *attr,
                      char *out, size_t len)
{
	const char *items[SASL_MAX_OFFERED];
	size_t n = sasl_list(parent, child, attr, items, SASL_MAX_OFFERED), i, used = 0;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t k = strlen(items[i]);

		/* RFC 4422 §3.1 names (and XEP-0440 types): letters, digits, '-' and '_'. */
		if (k == 0 || k > XU_SASL_NAME_MAX ||
		    strspn(items[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                     "0123456789-_") != k ||
		    used + k + 2 > len)
			return false;
		if (used)
			out[used++] = ',';
		memcpy(out + used, items[i], k + 1);
		used += k;
	}
	return n > 0 || attr;
}

bool xu_sasl_offer(const struct xu_stanza *features, char *mechs, size_t mlen, char *cbs,
                   size_t clen)
{
	const struct xu_stanza *cbel =
	    xu_stanza_child(features, "sasl-channel-binding", XU_NS_SASL_CB);
	const struct xu_stanza *list = xu_stanza_child(features, "authentication", XU_NS_SASL2);

	/* With SASL2 offered, its list is the one we use. */
	if (!list)
		list = xu_stanza_child(features, "mechanisms", XU_NS_SASL);
	if (!sasl_join(list, "mechanism", NULL, mechs, mlen))
		return false;
	if (!cbel) {
		snprintf(cbs, clen, "-");
		return clen > 1;
	}
	return sasl_join(cbel, "channel-binding", "type", cbs, clen);
}

/* Add one child per comma-separated item: <name>item</name>, or <name attr='item'/>. */
static bool sasl_split(struct xu_stanza *parent, const char *name, const char *attr,
                       const char *list)
{
	char item[XU_SASL_NAME_MAX + 1];

	while (*list) {
		size_t k = strcspn(list, ",");
		struct xu_stanza *el = xu_stanza_add_new(parent, name, NULL);

		if (!el || k >= sizeof(item))
			return false;
		memcpy(item, list, k);
		item[k] = '\0';
		if (attr ? xu_stanza_set_attr(el, attr, item) : xu_stanza_add_text(el, item, k))
			return false;
		list += k + (list[k] == ',');
	}
	return true;
}

struct xu_stanza *xu_sasl_offer_features(const char *mechs, const char *cbs, bool sasl2)
{
	struct xu_stanza *f = xu_stanza_new("features", XU_NS_STREAMS), *m, *cb = NULL;

	m = !f      ? NULL
	    : sasl2 ? xu_stanza_add_new(f, "authentication", XU_NS_SASL2)
	            : xu_stanza_add_new(f, "mechanisms", XU_NS_SASL);
	if (m && strcmp(cbs, "-") != 0)
		cb = xu_stanza_add_new(f, "sasl-channel-binding", XU_NS_SASL_CB);
	if (!m || !sasl_split(m, "mechanism", NULL, mechs) ||
	    (strcmp(cbs, "-") != 0 && (!cb || !sasl_split(cb, "channel-binding", "type", cbs)))) {
		xu_stanza_free(f);
		return NULL;
	}
	return f;
}

const char *xu_sasl_mechanism(const struct xu_sasl *s)
{
	return s->mech;
}

bool xu_sasl_salted(const struct xu_sasl *s, struct xu_scram_salted *out, bool *reused)
{
	return s->scram && xu_scram_salted(s->scram, out, reused);
}

void xu_sasl_free(struct xu_sasl *s)
{
	if (!s)
		return;
	xu_scram_free(s->scram);
	free(s);
}
