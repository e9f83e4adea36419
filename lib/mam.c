/* mam.c: the account's message archive: XEP-0313 queries paged with XEP-0059 RSM, their
 * results (XEP-0297 forwarded, XEP-0203 delay), and XEP-0359 stanza ids. */
#include "xu-int.h"

#include <stdio.h>
#include <string.h>

/* <name>text</name> under st (text NULL: an empty element). */
static enum xu_err mam_text_child(struct xu_stanza *st, const char *name, const char *text)
{
	struct xu_stanza *c = xu_stanza_add_new(st, name, NULL);

	if (!c)
		return XU_ERR_NOMEM;
	return text ? xu_stanza_add_text(c, text, strlen(text)) : XU_OK;
}

enum xu_err xu_mam_query(const struct xu_mam_page *p, struct xu_stanza **out)
{
	struct xu_stanza *iq = xu_stanza_new("iq", XU_NS_CLIENT), *q, *x = NULL, *set;
	char max[16];
	enum xu_err err = XU_ERR_NOMEM;

	*out = NULL;
	q = iq ? xu_stanza_add_new(iq, "query", XU_NS_MAM) : NULL;
	if (!q || xu_stanza_set_attr(iq, "type", "set") ||
	    xu_stanza_set_attr(q, "queryid", p->queryid) ||
	    (p->to && xu_stanza_set_attr(iq, "to", p->to)))
		goto fail;
	if (p->start) {
		static const char *const var[] = {"start"};

		err = xu_form_submit_new(XU_NS_MAM, var, &p->start, 1, &x);
		if (err)
			goto fail;
		err = xu_stanza_add_child(q, x);
		if (err)
			goto fail;
		err = XU_ERR_NOMEM;
	}
	set = xu_stanza_add_new(q, "set", XU_NS_RSM);
	snprintf(max, sizeof(max), "%u", p->max ? p->max : 50);
	if (!set || mam_text_child(set, "max", max))
		goto fail;
	/* RSM §2.5: an empty <before/> asks for the last page, i.e. the newest items. */
	if ((p->after && mam_text_child(set, "after", p->after)) ||
	    (p->newest && mam_text_child(set, "before", NULL)))
		goto fail;
	*out = iq;
	return XU_OK;
fail:
	xu_stanza_free(iq);
	return err;
}

enum xu_err xu_mam_result(const struct xu_stanza *msg, const char *queryid, const struct xu_jid *me,
                          struct xu_stanza **item, const char **id)
{
	const struct xu_stanza *res, *fwd, *inner, *delay;
	const char *from = xu_stanza_attr(msg, "from");
	struct xu_jid *fj = NULL;
	struct xu_stanza *copy;
	const char *why;
	bool own;

	*item = NULL;
	*id = NULL;
	res = xu_stanza_child(msg, "result", XU_NS_MAM);
	if (!res || !xu_stanza_attr(res, "queryid") || !xu_stanza_attr(res, "id") ||
	    strcmp(xu_stanza_attr(res, "queryid"), queryid) != 0)
		return XU_OK;
	/* XEP-0313 §4.2: results come from the archive itself, our bare JID (or no 'from', which
	 * means our own account); anyone else is forging history. */
	if (from) {
		if (xu_jid_parse(from, &fj, &why) != XU_OK)
			return XU_OK;
		own = !xu_jid_resource(fj) && xu_jid_bare_equal(fj, me);
		xu_jid_free(fj);
		if (!own)
			return XU_OK;
	}
	fwd = xu_stanza_child(res, "forwarded", XU_NS_FORWARD);
	inner = fwd ? xu_stanza_child(fwd, "message", XU_NS_CLIENT) : NULL;
	if (!inner)
		return XU_OK;
	copy = xu_stanza_copy(inner);
	if (!copy)
		return XU_ERR_NOMEM;
	/* The archive's timestamp goes with the message, so it prints as delayed, at its time. */
	delay = xu_stanza_child(fwd, "delay", XU_NS_DELAY);
	if (delay && !xu_stanza_child(copy, "delay", XU_NS_DELAY)) {
		struct xu_stanza *d = xu_stanza_copy(delay);

		if (!d || xu_stanza_add_child(copy, d)) {
			xu_stanza_free(copy);
			return XU_ERR_NOMEM;
		}
	}
	*item = copy;
	*id = xu_stanza_attr(res, "id");
	return XU_OK;
}

enum xu_err xu_mam_fin(const struct xu_stanza *reply, bool *complete, const char **last, char *why,
                       size_t whylen)
{
	const char *type = xu_stanza_attr(reply, "type");
	const struct xu_stanza *fin, *set;
	const char *cp;

	*complete = false;
	*last = NULL;
	if (type && strcmp(type, "error") == 0) {
		snprintf(why, whylen, "%s",
		         xu_error_condition(xu_stanza_child(reply, "error", NULL), XU_NS_STANZAS));
		return XU_ERR_REFUSED;
	}
	fin = xu_stanza_child(reply, "fin", XU_NS_MAM);
	if (!type || strcmp(type, "result") != 0 || !fin) {
		snprintf(why, whylen, "the archive answered without <fin/>");
		return XU_ERR_PROTO;
	}
	cp = xu_stanza_attr(fin, "complete");
	*complete = cp && (strcmp(cp, "true") == 0 || strcmp(cp, "1") == 0);
	set = xu_stanza_child(fin, "set", XU_NS_RSM);
	*last = set ? xu_stanza_child_text(set, "last", NULL) : NULL;
	if (*last && !**last)
		*last = NULL;
	return XU_OK;
}

const char *xu_stanza_id_by(const struct xu_stanza *msg, const struct xu_jid *by)
{
	const struct xu_stanza *c;
	struct xu_jid *j = NULL;
	const char *why, *b, *id;
	bool match;

	for (c = xu_stanza_first(msg); c; c = xu_stanza_next(c)) {
		if (strcmp(xu_stanza_name(c), "stanza-id") != 0 ||
		    strcmp(xu_stanza_ns(c), XU_NS_SID) != 0)
			continue;
		b = xu_stanza_attr(c, "by");
		id = xu_stanza_attr(c, "id");
		if (!b || !id || !*id || xu_jid_parse(b, &j, &why) != XU_OK)
			continue;
		match = !xu_jid_resource(j) && xu_jid_bare_equal(j, by);
		xu_jid_free(j);
		if (match)
			return id;
	}
	return NULL;
}
