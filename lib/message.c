/* message.c: building <message/> stanzas (RFC 6121 §5.2). */
#include "xu-int.h"

#include <stdlib.h>
#include <string.h>

static enum xu_err message_child(struct xu_stanza *m, const char *name, const char *text,
                                 const char *what, const char **why)
{
	struct xu_stanza *c;

	if (!text)
		return XU_OK;
	if (!xu_utf8_xml_ok(text, strlen(text))) {
		*why = what;
		return XU_ERR_DATA;
	}
	c = xu_stanza_add_new(m, name, NULL);
	if (!c || xu_stanza_add_text(c, text, strlen(text)) != XU_OK)
		return XU_ERR_NOMEM;
	return XU_OK;
}

enum xu_err xu_message_new(const struct xu_jid *to, const char *type, const char *body,
                           const char *subject, const char *thread, const char *id,
                           struct xu_stanza **out, const char **why)
{
	struct xu_stanza *m;
	char *rid = NULL;
	enum xu_err err;
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = NULL;
	*out = NULL;
	if (type && strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0 &&
	    strcmp(type, "headline") != 0 && strcmp(type, "groupchat") != 0) {
		*why = "message type must be chat, normal, headline or groupchat";
		return XU_ERR_USAGE;
	}
	if (!id) {
		err = xu_random_id(12, &rid);
		if (err)
			return err;
		id = rid;
	}
	m = xu_stanza_new("message", XU_NS_CLIENT);
	err = XU_ERR_NOMEM;
	if (!m || xu_stanza_set_attr(m, "to", xu_jid_full(to)) ||
	    xu_stanza_set_attr(m, "type", type ? type : "chat") || xu_stanza_set_attr(m, "id", id))
		goto err;
	/* Subject and thread first: readers that stop at the body still see them. */
	err = message_child(m, "subject", subject,
	                    "subject is not valid UTF-8 or holds characters XML cannot carry", why);
	if (!err)
		err = message_child(
		    m, "thread", thread,
		    "thread is not valid UTF-8 or holds characters XML cannot carry", why);
	if (!err)
		err = message_child(m, "body", body,
		                    "body is not valid UTF-8 or holds characters XML cannot carry "
		                    "(control characters)",
		                    why);
	if (err)
		goto err;
	free(rid);
	*out = m;
	return XU_OK;
err:
	free(rid);
	xu_stanza_free(m);
	return err;
}
