/* sasl2.c: what XEP-0388 (SASL2) carries besides SASL itself: the inline features a server
 * offers with it (Bind2, XEP-0386; FAST, XEP-0484), what we add to <authenticate/> (user agent,
 * bind and token requests), and what a <success/> says (the JID, the bound resource, a new
 * token). The SASL exchange proper is sasl.c's. */
#include "conn-int.h"

#include <stdio.h>
#include <string.h>

bool xu_sasl2_offer(const struct xu_stanza *features, struct xu_sasl2_offer *o)
{
	const struct xu_stanza *auth = xu_stanza_child(features, "authentication", XU_NS_SASL2);
	const struct xu_stanza *inl = auth ? xu_stanza_child(auth, "inline", NULL) : NULL;
	const struct xu_stanza *fast = inl ? xu_stanza_child(inl, "fast", XU_NS_FAST) : NULL;
	const struct xu_stanza *m;

	memset(o, 0, sizeof(*o));
	if (!auth)
		return false;
	o->bind2 = inl && xu_stanza_child(inl, "bind", XU_NS_BIND2);
	for (m = fast ? xu_stanza_first(fast) : NULL; m && o->nfast < XU_SASL2_MAX_FAST;
	     m = xu_stanza_next(m)) {
		const char *cb;

		/* Only what we can compute; the rest is as if not offered. */
		if (strcmp(xu_stanza_name(m), "mechanism") == 0 &&
		    xu_sasl_ht(xu_stanza_text(m), &cb))
			o->fast[o->nfast++] = xu_stanza_text(m);
	}
	return true;
}

bool xu_sasl2_offers_fast(const struct xu_sasl2_offer *o, const char *mech)
{
	size_t i;

	for (i = 0; i < o->nfast; i++)
		if (strcmp(o->fast[i], mech) == 0)
			return true;
	return false;
}

bool xu_sasl2_inline(const struct xu_stanza *features, char *out, size_t len)
{
	struct xu_sasl2_offer o;
	size_t used = 0, i;

	if (len < 2)
		return false;
	out[0] = '\0';
	if (!xu_sasl2_offer(features, &o))
		return true;
	if (o.bind2)
		used = (size_t)snprintf(out, len, "bind2");
	for (i = 0; i < o.nfast && used < len; i++)
		used +=
		    (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "", o.fast[i]);
	if (!used)
		snprintf(out, len, "-");
	return used < len;
}

enum xu_err xu_sasl2_inline_add(struct xu_stanza *features, const char *list)
{
	struct xu_stanza *auth = xu_stanza_child(features, "authentication", XU_NS_SASL2);
	struct xu_stanza *inl = auth ? xu_stanza_add_new(auth, "inline", NULL) : NULL;
	struct xu_stanza *fast = NULL, *el;
	char item[XU_SASL_NAME_MAX + 1];

	if (!inl)
		return XU_ERR_NOMEM;
	while (*list) {
		size_t k = strcspn(list, ",");

		/* Longer than any name we know: not one of ours. */
		k = k < sizeof(item) ? k : 0;
		memcpy(item, list, k);
		item[k] = '\0';
		list += strcspn(list, ",");
		list += *list == ',';
		if (strcmp(item, "bind2") == 0) {
			if (!xu_stanza_add_new(inl, "bind", XU_NS_BIND2))
				return XU_ERR_NOMEM;
		} else if (strncmp(item, "HT-", 3) == 0) {
			if (!fast && !(fast = xu_stanza_add_new(inl, "fast", XU_NS_FAST)))
				return XU_ERR_NOMEM;
			el = xu_stanza_add_new(fast, "mechanism", NULL);
			if (!el || xu_stanza_add_text(el, item, k))
				return XU_ERR_NOMEM;
		}
	}
	return XU_OK;
}

static enum xu_err sasl2_text_child(struct xu_stanza *parent, const char *name, const char *ns,
                                    const char *text)
{
	struct xu_stanza *el = xu_stanza_add_new(parent, name, ns);

	return el ? xu_stanza_add_text(el, text, strlen(text)) : XU_ERR_NOMEM;
}

enum xu_err xu_sasl2_request(struct xu_stanza *auth, const struct xu_sasl2_request *r)
{
	struct xu_stanza *el;
	enum xu_err err = XU_OK;

	if (r->agent) {
		el = xu_stanza_add_new(auth, "user-agent", NULL);
		err = el ? xu_stanza_set_attr(el, "id", r->agent) : XU_ERR_NOMEM;
		if (!err)
			err = sasl2_text_child(el, "software", NULL, "xmpp-utils");
	}
	if (!err && r->bind_tag) {
		el = xu_stanza_add_new(auth, "bind", XU_NS_BIND2);
		err = el ? sasl2_text_child(el, "tag", NULL, r->bind_tag) : XU_ERR_NOMEM;
	}
	if (!err && r->token_mech) {
		el = xu_stanza_add_new(auth, "request-token", XU_NS_FAST);
		err = el ? xu_stanza_set_attr(el, "mechanism", r->token_mech) : XU_ERR_NOMEM;
	}
	if (!err && r->fast)
		err = xu_stanza_add_new(auth, "fast", XU_NS_FAST) ? XU_OK : XU_ERR_NOMEM;
	return err;
}

void xu_sasl2_outcome(const struct xu_stanza *success, struct xu_sasl2_outcome *o)
{
	const struct xu_stanza *tok = xu_stanza_child(success, "token", XU_NS_FAST);

	memset(o, 0, sizeof(*o));
	o->authzid = xu_stanza_child_text(success, "authorization-identifier", NULL);
	o->bound = xu_stanza_child(success, "bound", XU_NS_BIND2) != NULL;
	o->bind_failed = xu_stanza_child(success, "failed", XU_NS_BIND2);
	if (tok) {
		o->token = xu_stanza_attr(tok, "token");
		o->expiry = xu_stanza_attr(tok, "expiry");
	}
}
