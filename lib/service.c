/* service.c: what a good citizen answers: XEP-0030 disco#info, XEP-0092 version, XEP-0199
 * ping, roster pushes from the account itself (RFC 6121 §2.1.6), service-unavailable for the
 * rest (RFC 6120 §8.2.3); initial presence with XEP-0115 caps (RFC 6121 §4.2). */
#include "conn-int.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVICE_NODE "https://xmpp-utils.invalid"
#define XU_NS_VERSION "jabber:iq:version"

/* Sorted byte-wise, as the XEP-0115 §5.1 hash input wants them. */
static const char *const service_features[] = {
    XU_NS_CAPS, XU_NS_DISCO_INFO, XU_NS_VERSION, XU_NS_PING, "urn:xmpp:receipts",
};

/* XEP-0115 §5.1 verification string: identities then features, each followed by '<'. */
static enum xu_err service_caps_ver(char *out, size_t outlen)
{
	struct xu_buf b;
	unsigned char digest[20];
	gnutls_datum_t in = {digest, sizeof(digest)}, enc = {NULL, 0};
	size_t i;
	enum xu_err err;

	xu_buf_init(&b, 0);
	err = xu_buf_adds(&b, "client/bot//xmpp-utils<");
	for (i = 0; !err && i < sizeof(service_features) / sizeof(service_features[0]); i++)
		err = xu_buf_addf(&b, "%s<", service_features[i]);
	if (!err && gnutls_hash_fast(GNUTLS_DIG_SHA1, b.data, b.len, digest) < 0)
		err = XU_ERR_INTERNAL;
	xu_buf_free(&b);
	if (err)
		return err;
	if (gnutls_base64_encode2(&in, &enc) < 0)
		return XU_ERR_NOMEM;
	snprintf(out, outlen, "%.*s", (int)enc.size, (const char *)enc.data);
	gnutls_free(enc.data);
	return XU_OK;
}

static enum xu_err service_disco(struct xu_stanza *reply, const struct xu_stanza *query)
{
	struct xu_stanza *q, *id, *f;
	const char *node = xu_stanza_attr(query, "node");
	size_t i;

	q = xu_stanza_add_new(reply, "query", XU_NS_DISCO_INFO);
	if (!q || (node && xu_stanza_set_attr(q, "node", node)))
		return XU_ERR_NOMEM;
	id = xu_stanza_add_new(q, "identity", NULL);
	if (!id || xu_stanza_set_attr(id, "category", "client") ||
	    xu_stanza_set_attr(id, "type", "bot") || xu_stanza_set_attr(id, "name", "xmpp-utils"))
		return XU_ERR_NOMEM;
	for (i = 0; i < sizeof(service_features) / sizeof(service_features[0]); i++) {
		f = xu_stanza_add_new(q, "feature", NULL);
		if (!f || xu_stanza_set_attr(f, "var", service_features[i]))
			return XU_ERR_NOMEM;
	}
	return XU_OK;
}

static enum xu_err service_text_child(struct xu_stanza *parent, const char *name, const char *text)
{
	struct xu_stanza *c = xu_stanza_add_new(parent, name, NULL);

	if (!c)
		return XU_ERR_NOMEM;
	return xu_stanza_add_text(c, text, strlen(text));
}

static enum xu_err service_version(struct xu_stanza *reply)
{
	struct xu_stanza *q = xu_stanza_add_new(reply, "query", XU_NS_VERSION);
	enum xu_err err;

	if (!q)
		return XU_ERR_NOMEM;
	err = service_text_child(q, "name", "xmpp-utils");
	if (!err)
		err = service_text_child(q, "version", XU_VERSION);
	return err;
}

/* A roster push is only genuine from our own account (no from, or our bare JID). */
static bool service_from_self(const struct xu_stanza *iq, const struct xu_jid *me)
{
	const char *from = xu_stanza_attr(iq, "from");
	struct xu_jid *j = NULL;
	const char *why;
	bool self;

	if (!from)
		return true;
	if (xu_jid_parse(from, &j, &why) != XU_OK)
		return false;
	self = !xu_jid_resource(j) && xu_jid_bare_equal(j, me);
	xu_jid_free(j);
	return self;
}

enum xu_err xu_service_answer(const struct xu_stanza *iq, const struct xu_jid *me,
                              struct xu_stanza **out)
{
	const char *type = xu_stanza_attr(iq, "type");
	const char *from = xu_stanza_attr(iq, "from");
	const char *id = xu_stanza_attr(iq, "id");
	struct xu_stanza *reply, *q = xu_stanza_first(iq), *e;
	const char *ns = q ? xu_stanza_ns(q) : "";
	const char *name = q ? xu_stanza_name(q) : "";
	bool get = type && strcmp(type, "get") == 0;
	bool set = type && strcmp(type, "set") == 0;
	enum xu_err err = XU_OK;
	bool ok = false;

	*out = NULL;
	if (!get && !set)
		return XU_OK; /* results and errors are never answered (RFC 6120 §8.2.3) */
	reply = xu_stanza_new("iq", XU_NS_CLIENT);
	if (!reply || (id && xu_stanza_set_attr(reply, "id", id)) ||
	    (from && xu_stanza_set_attr(reply, "to", from))) {
		err = XU_ERR_NOMEM;
		goto out;
	}
	if (get && strcmp(name, "ping") == 0 && strcmp(ns, XU_NS_PING) == 0) {
		ok = true;
	} else if (get && strcmp(name, "query") == 0 && strcmp(ns, XU_NS_DISCO_INFO) == 0) {
		ok = true;
		err = service_disco(reply, q);
	} else if (get && strcmp(name, "query") == 0 && strcmp(ns, XU_NS_VERSION) == 0) {
		ok = true;
		err = service_version(reply);
	} else if (set && strcmp(name, "query") == 0 && strcmp(ns, XU_NS_ROSTER) == 0 &&
	           service_from_self(iq, me)) {
		ok = true; /* we keep no roster: acknowledging is all a push needs */
	}
	if (err)
		goto out;
	if (xu_stanza_set_attr(reply, "type", ok ? "result" : "error")) {
		err = XU_ERR_NOMEM;
		goto out;
	}
	if (!ok) {
		e = xu_stanza_add_new(reply, "error", NULL);
		if (!e || xu_stanza_set_attr(e, "type", "cancel") ||
		    !xu_stanza_add_new(e, "service-unavailable", XU_NS_STANZAS)) {
			err = XU_ERR_NOMEM;
			goto out;
		}
	}
	*out = reply;
	return XU_OK;
out:
	xu_stanza_free(reply);
	return err;
}

enum xu_err xu_presence_new(const char *show, const char *status, int priority,
                            struct xu_stanza **out, const char **why)
{
	struct xu_stanza *p, *c;
	char prio[8], ver[64];
	enum xu_err err = XU_ERR_NOMEM;

	*out = NULL;
	if (show && strcmp(show, "away") != 0 && strcmp(show, "chat") != 0 &&
	    strcmp(show, "dnd") != 0 && strcmp(show, "xa") != 0) {
		*why = "show must be away, chat, dnd or xa";
		return XU_ERR_USAGE;
	}
	if (priority < -128 || priority > 127) {
		*why = "priority must be -128..127";
		return XU_ERR_USAGE;
	}
	if (status && !xu_utf8_xml_ok(status, strlen(status))) {
		*why = "status is not valid UTF-8 or holds characters XML cannot carry";
		return XU_ERR_DATA;
	}
	p = xu_stanza_new("presence", XU_NS_CLIENT);
	if (!p)
		return XU_ERR_NOMEM;
	if (show && service_text_child(p, "show", show))
		goto err;
	if (status && service_text_child(p, "status", status))
		goto err;
	snprintf(prio, sizeof(prio), "%d", priority);
	if (service_text_child(p, "priority", prio))
		goto err;
	err = service_caps_ver(ver, sizeof(ver));
	if (err)
		goto err;
	err = XU_ERR_NOMEM;
	c = xu_stanza_add_new(p, "c", XU_NS_CAPS);
	if (!c || xu_stanza_set_attr(c, "hash", "sha-1") ||
	    xu_stanza_set_attr(c, "node", SERVICE_NODE) || xu_stanza_set_attr(c, "ver", ver))
		goto err;
	*out = p;
	return XU_OK;
err:
	xu_stanza_free(p);
	return err;
}
