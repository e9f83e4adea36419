/* tls.c: GnuTLS client sessions: verification against the JID's domain (RFC 6120 §13.7.2,
 * RFC 6125), SPKI pins, ALPN for XEP-0368, channel binding (RFC 5929, RFC 9266). */
#include "conn-int.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct xu_tls {
	gnutls_session_t session;
	gnutls_certificate_credentials_t cred;
	char *domain; /* must outlive the session: GnuTLS keeps the pointer */
	unsigned char pin[32];
	bool has_pin;
	bool insecure;
	bool handshaken;
};

/* TLS 1.2 minimum; GnuTLS's NORMAL otherwise (RFC 7525). */
static const char tls_priority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

static void tls_set_err(char *errbuf, size_t errlen, const char *what, int ret)
{
	snprintf(errbuf, errlen, "%s: %s", what, gnutls_strerror(ret));
}

/* The connection went away (reset, or closed in the middle of a record: GnuTLS reports that
 * as a packet of unexpected length), rather than a TLS failure. */
static bool tls_is_lost(int ret)
{
	return ret == GNUTLS_E_PREMATURE_TERMINATION || ret == GNUTLS_E_PUSH_ERROR ||
	       ret == GNUTLS_E_PULL_ERROR || ret == GNUTLS_E_UNEXPECTED_PACKET_LENGTH;
}

/* A transport failure under GnuTLS: the socket's errno ("Connection reset by peer") says more
 * than "Error in the pull function". */
static void tls_set_lost(char *errbuf, size_t errlen, const char *what, int ret, int saved)
{
	if ((ret == GNUTLS_E_PULL_ERROR || ret == GNUTLS_E_PUSH_ERROR) && saved)
		snprintf(errbuf, errlen, "%s: %s", what, strerror(saved));
	else if (ret == GNUTLS_E_UNEXPECTED_PACKET_LENGTH)
		snprintf(errbuf, errlen, "%s: closed in the middle of a TLS record", what);
	else if (ret == GNUTLS_E_PREMATURE_TERMINATION)
		snprintf(errbuf, errlen, "%s: the server closed the connection without ending TLS",
		         what);
	else
		tls_set_err(errbuf, errlen, what, ret);
}

static enum xu_err tls_load_trust(struct xu_tls *t, const char *cafile, char *errbuf, size_t errlen)
{
	struct stat st;
	int ret;

	if (t->insecure && !cafile)
		return XU_OK;
	if (cafile) {
		if (stat(cafile, &st) != 0) {
			snprintf(errbuf, errlen, "cannot read CA file %s: %s", cafile,
			         strerror(errno));
			return XU_ERR_NOINPUT;
		}
		ret = gnutls_certificate_set_x509_trust_file(t->cred, cafile, GNUTLS_X509_FMT_PEM);
		if (ret <= 0) {
			snprintf(errbuf, errlen, "no usable CA certificate in %s%s%s", cafile,
			         ret < 0 ? ": " : "", ret < 0 ? gnutls_strerror(ret) : "");
			return XU_ERR_CONFIG;
		}
		return XU_OK;
	}
	ret = gnutls_certificate_set_x509_system_trust(t->cred);
	if (ret < 0) {
		tls_set_err(errbuf, errlen, "cannot load the system trust store", ret);
		return XU_ERR_TLS;
	}
	return XU_OK;
}

static bool tls_is_ip(const char *s)
{
	return strspn(s, "0123456789.") == strlen(s) || strchr(s, ':');
}

enum xu_err xu_tls_new(int fd, const struct xu_tls_params *p, struct xu_tls **out, char *errbuf,
                       size_t errlen)
{
	struct xu_tls *t;
	enum xu_err err = XU_ERR_NOMEM;
	int ret;

	t = calloc(1, sizeof(*t));
	if (!t)
		return XU_ERR_NOMEM;
	t->insecure = p->insecure;
	if (p->pin) {
		memcpy(t->pin, p->pin, sizeof(t->pin));
		t->has_pin = true;
	}
	/* An IPv6 literal JID domain ([::1]) is checked against the certificate's IP SAN. */
	if (p->domain[0] == '[' && strlen(p->domain) > 2)
		t->domain = strndup(p->domain + 1, strlen(p->domain) - 2);
	else
		t->domain = strdup(p->domain);
	if (!t->domain)
		goto err;
	if (gnutls_certificate_allocate_credentials(&t->cred) < 0)
		goto err;
	err = tls_load_trust(t, p->cafile, errbuf, errlen);
	if (err)
		goto err;
	err = XU_ERR_TLS;
	/* NO_SIGNAL: a write to a connection the server already closed (close_notify after its
	 * </stream:stream>) is an error to handle, not a SIGPIPE that kills the command. */
	ret = gnutls_init(&t->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (ret < 0) {
		tls_set_err(errbuf, errlen, "TLS setup", ret);
		goto err;
	}
	ret = gnutls_priority_set_direct(t->session, tls_priority, NULL);
	if (ret >= 0)
		ret = gnutls_credentials_set(t->session, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (ret >= 0 && !tls_is_ip(t->domain))
		ret = gnutls_server_name_set(t->session, GNUTLS_NAME_DNS, t->domain,
		                             strlen(t->domain));
	if (ret >= 0 && p->alpn) {
		gnutls_datum_t proto = {(unsigned char *)"xmpp-client", 11};

		ret = gnutls_alpn_set_protocols(t->session, &proto, 1, 0);
	}
	if (ret < 0) {
		tls_set_err(errbuf, errlen, "TLS setup", ret);
		goto err;
	}
	/* The certificate must name the JID's domain, never the SRV target or --host
	 * (RFC 6120 §13.7.2.1): hostname checked by GnuTLS during the handshake. */
	if (!t->insecure)
		gnutls_session_set_verify_cert(t->session, t->domain, 0);
	gnutls_transport_set_int(t->session, fd);
	gnutls_handshake_set_timeout(t->session, 0);
	*out = t;
	return XU_OK;
err:
	xu_tls_free(t);
	return err;
}

void xu_tls_free(struct xu_tls *t)
{
	if (!t)
		return;
	if (t->session)
		gnutls_deinit(t->session);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t->domain);
	free(t);
}

/* Name the first reason a certificate was rejected, in words a user can act on. */
static void tls_explain(struct xu_tls *t, unsigned status, char *errbuf, size_t errlen)
{
	const char *why;

	if (status & GNUTLS_CERT_SIGNER_NOT_FOUND)
		why = "issuer is not trusted (unknown CA; see --cafile)";
	else if (status & GNUTLS_CERT_UNEXPECTED_OWNER)
		why = NULL;
	else if (status & GNUTLS_CERT_EXPIRED)
		why = "certificate has expired";
	else if (status & GNUTLS_CERT_NOT_ACTIVATED)
		why = "certificate is not yet valid";
	else if (status & GNUTLS_CERT_REVOKED)
		why = "certificate was revoked";
	else if (status & GNUTLS_CERT_INSECURE_ALGORITHM)
		why = "certificate uses an insecure algorithm";
	else if (status & GNUTLS_CERT_SIGNATURE_FAILURE)
		why = "certificate signature is invalid";
	else if (status & GNUTLS_CERT_SIGNER_NOT_CA)
		why = "issuer is not a CA";
	else
		why = "certificate not trusted";
	if (why)
		snprintf(errbuf, errlen, "TLS certificate rejected: %s", why);
	else
		snprintf(errbuf, errlen,
		         "TLS certificate rejected: name mismatch (certificate is not for %s)",
		         t->domain);
}

static enum xu_err tls_check_pin(struct xu_tls *t, char *errbuf, size_t errlen)
{
	const gnutls_datum_t *chain;
	unsigned int n = 0;
	gnutls_pubkey_t key = NULL;
	gnutls_datum_t spki = {NULL, 0};
	unsigned char digest[32];
	enum xu_err err = XU_ERR_TLS;

	chain = gnutls_certificate_get_peers(t->session, &n);
	if (!chain || n == 0) {
		snprintf(errbuf, errlen, "TLS: the server sent no certificate");
		return XU_ERR_TLS;
	}
	if (gnutls_pubkey_init(&key) < 0)
		return XU_ERR_NOMEM;
	if (gnutls_pubkey_import_x509_raw(key, &chain[0], GNUTLS_X509_FMT_DER, 0) < 0 ||
	    gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &spki) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, digest) < 0) {
		snprintf(errbuf, errlen, "TLS: cannot read the server's public key");
		goto out;
	}
	if (memcmp(digest, t->pin, sizeof(digest)) != 0) {
		snprintf(errbuf, errlen,
		         "TLS certificate rejected: public key does not match --pin");
		goto out;
	}
	err = XU_OK;
out:
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(key);
	return err;
}

enum xu_err xu_tls_handshake(struct xu_tls *t, bool *done, char *errbuf, size_t errlen)
{
	int ret, saved;

	*done = false;
	errno = 0;
	ret = gnutls_handshake(t->session);
	saved = errno;
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED ||
	    (ret < 0 && !gnutls_error_is_fatal(ret)))
		return XU_OK;
	if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		tls_explain(t, gnutls_session_get_verify_cert_status(t->session), errbuf, errlen);
		return XU_ERR_TLS;
	}
	if (tls_is_lost(ret)) {
		tls_set_lost(errbuf, errlen, "TLS handshake: connection lost", ret, saved);
		return XU_ERR_TEMP;
	}
	if (ret < 0) {
		tls_set_err(errbuf, errlen, "TLS handshake failed", ret);
		return XU_ERR_TLS;
	}
	if (t->has_pin && tls_check_pin(t, errbuf, errlen) != XU_OK)
		return XU_ERR_TLS;
	t->handshaken = true;
	*done = true;
	return XU_OK;
}

short xu_tls_events(const struct xu_tls *t)
{
	return gnutls_record_get_direction(t->session) ? POLLOUT : POLLIN;
}

enum xu_err xu_tls_read(struct xu_tls *t, void *buf, size_t cap, size_t *n, char *errbuf,
                        size_t errlen)
{
	ssize_t r;
	int saved;

	errno = 0;
	r = gnutls_record_recv(t->session, buf, cap);
	saved = errno;

	*n = 0;
	if (r > 0) {
		*n = (size_t)r;
		return XU_OK;
	}
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return XU_OK;
	if (r == 0) {
		snprintf(errbuf, errlen, "the server closed the connection");
		return XU_ERR_TEMP;
	}
	if (r == GNUTLS_E_REHANDSHAKE || (r < 0 && !gnutls_error_is_fatal((int)r)))
		return XU_OK;
	tls_set_lost(errbuf, errlen, "connection lost", (int)r, saved);
	return XU_ERR_TEMP;
}

enum xu_err xu_tls_write(struct xu_tls *t, const void *buf, size_t len, size_t *n, char *errbuf,
                         size_t errlen)
{
	ssize_t r;
	int saved;

	errno = 0;
	r = gnutls_record_send(t->session, buf, len);
	saved = errno;

	*n = 0;
	if (r >= 0) {
		*n = (size_t)r;
		return XU_OK;
	}
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
		return XU_OK;
	tls_set_lost(errbuf, errlen, "connection lost", (int)r, saved);
	return XU_ERR_TEMP;
}

size_t xu_tls_pending(const struct xu_tls *t)
{
	return gnutls_record_check_pending(t->session);
}

void xu_tls_bye(struct xu_tls *t)
{
	/* One try: the socket is non-blocking, and the stream is already closed cleanly. */
	gnutls_bye(t->session, GNUTLS_SHUT_WR);
}

const char *xu_tls_version(const struct xu_tls *t)
{
	const char *v = gnutls_protocol_get_name(gnutls_protocol_get_version(t->session));

	return v ? v : "unknown";
}

bool xu_tls_is13(const struct xu_tls *t)
{
	return gnutls_protocol_get_version(t->session) == GNUTLS_TLS1_3;
}

enum xu_err xu_tls_cb(struct xu_tls *t, const char *type, unsigned char **data, size_t *len)
{
	gnutls_channel_binding_t cbtype;
	gnutls_datum_t cb = {NULL, 0};

	if (strcmp(type, "tls-exporter") == 0)
		cbtype = GNUTLS_CB_TLS_EXPORTER;
	else if (strcmp(type, "tls-server-end-point") == 0)
		cbtype = GNUTLS_CB_TLS_SERVER_END_POINT;
	else if (strcmp(type, "tls-unique") == 0)
		cbtype = GNUTLS_CB_TLS_UNIQUE;
	else
		return XU_ERR_TLS;
	/* tls-unique is undefined for TLS 1.3 (RFC 8446 §C.5); tls-exporter needs 1.3 or EMS. */
	if (cbtype == GNUTLS_CB_TLS_UNIQUE && xu_tls_is13(t))
		return XU_ERR_TLS;
	if (gnutls_session_channel_binding(t->session, cbtype, &cb) < 0)
		return XU_ERR_TLS;
	*data = malloc(cb.size ? cb.size : 1);
	if (!*data) {
		gnutls_free(cb.data);
		return XU_ERR_NOMEM;
	}
	memcpy(*data, cb.data, cb.size);
	*len = cb.size;
	gnutls_free(cb.data);
	return XU_OK;
}
