/* presence.c: what contacts' presence says: the latest presence of each resource (RFC 6121
 * §4.4.2, §4.7), XEP-0115 caps nodes, XEP-0012 last activity, and one record per resource or
 * unavailable contact (text, RFC 8259 JSON, one-line XML with an XEP-0203 delay). */
#include "xu-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A resource heard from (full JID, available), or a contact's last word (bare, unavailable). */
struct presences_entry {
	struct xu_jid *jid;
	struct xu_stanza *st;
};

struct presences_list {
	struct presences_entry *e;
	size_t n, cap;
};

struct xu_presences {
	struct presences_list avail; /* in the order they became available */
	struct presences_list gone;  /* one per bare JID */
};

/* ---------------------------------------------------------------- one presence */

const char *xu_presence_caps_node(const struct xu_stanza *st)
{
	const struct xu_stanza *c = xu_stanza_child(st, "c", XU_NS_CAPS);
	const char *node = c ? xu_stanza_attr(c, "node") : NULL;

	return node && *node ? node : NULL;
}

enum xu_err xu_presence_info_from(const struct xu_stanza *st, struct xu_presence_info *info)
{
	const char *type = xu_stanza_attr(st, "type");
	struct xu_record rec;
	enum xu_err err;

	memset(info, 0, sizeof(*info));
	info->last_seen = -1;
	if (strcmp(xu_stanza_name(st), "presence") != 0 ||
	    (type && strcmp(type, "unavailable") != 0))
		return XU_ERR_DATA;
	/* The record's reading of show, status and priority, so both commands agree on them. */
	err = xu_record_from_stanza(st, 0, &rec);
	if (err)
		return err;
	info->jid = rec.from;
	info->available = !type;
	info->show = rec.show;
	info->status = rec.status;
	info->priority = rec.priority;
	info->caps_node = xu_presence_caps_node(st);
	info->stanza = st;
	xu_record_clear(&rec);
	return XU_OK;
}

/* ---------------------------------------------------------------- the presences heard */

enum xu_err xu_presences_new(struct xu_presences **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? XU_OK : XU_ERR_NOMEM;
}

static void presences_entry_clear(struct presences_entry *e)
{
	xu_jid_free(e->jid);
	xu_stanza_free(e->st);
	e->jid = NULL;
	e->st = NULL;
}

static void presences_list_free(struct presences_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		presences_entry_clear(&l->e[i]);
	free(l->e);
}

void xu_presences_free(struct xu_presences *ps)
{
	if (!ps)
		return;
	presences_list_free(&ps->avail);
	presences_list_free(&ps->gone);
	free(ps);
}

/* The index in l of the entry whose JID is jid (bare: compared as bare JIDs), or l->n. */
static size_t presences_find(const struct presences_list *l, const struct xu_jid *jid, bool bare)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (bare ? xu_jid_bare_equal(l->e[i].jid, jid) : xu_jid_equal(l->e[i].jid, jid))
			break;
	return i;
}

/* Keep a copy of st as what jid (taken) said last: in its entry, or a new one at the end
 * (none past XU_PRESENCES_MAX). */
static enum xu_err presences_put(struct presences_list *l, struct xu_jid *jid, bool bare,
                                 const struct xu_stanza *st)
{
	size_t i = presences_find(l, jid, bare);
	struct xu_stanza *copy;

	if (i == l->n && (l->n >= XU_PRESENCES_MAX ||
	                  xu_array_room((void **)&l->e, &l->cap, l->n, sizeof(*l->e), 16))) {
		xu_jid_free(jid);
		return l->n >= XU_PRESENCES_MAX ? XU_OK : XU_ERR_NOMEM;
	}
	copy = xu_stanza_copy(st);
	if (!copy) {
		xu_jid_free(jid);
		return XU_ERR_NOMEM;
	}
	if (i == l->n) {
		l->e[l->n].jid = jid;
		l->e[l->n++].st = copy;
		return XU_OK;
	}
	xu_jid_free(jid);
	xu_stanza_free(l->e[i].st);
	l->e[i].st = copy;
	return XU_OK;
}

/* RFC 6121 §4.5.3: unavailable from a full JID ends that resource; from a bare JID (a server
 * answering a probe for an offline contact) every resource of the contact. */
static enum xu_err presences_unavailable(struct xu_presences *ps, struct xu_jid *from,
                                         const struct xu_stanza *st)
{
	bool all = !xu_jid_resource(from);
	struct presences_list *l = &ps->avail;
	struct xu_jid *bare = NULL;
	enum xu_err err;
	size_t i, w;

	for (i = w = 0; i < l->n; i++) {
		if (all ? xu_jid_bare_equal(l->e[i].jid, from) : xu_jid_equal(l->e[i].jid, from))
			presences_entry_clear(&l->e[i]);
		else
			l->e[w++] = l->e[i];
	}
	l->n = w;
	err = xu_jid_to_bare(from, &bare);
	xu_jid_free(from);
	return err ? err : presences_put(&ps->gone, bare, true, st);
}

enum xu_err xu_presences_add(struct xu_presences *ps, const struct xu_stanza *st)
{
	const char *type = xu_stanza_attr(st, "type"), *from = xu_stanza_attr(st, "from");
	struct xu_jid *jid = NULL;
	const char *why;
	enum xu_err err;

	if (strcmp(xu_stanza_name(st), "presence") != 0 ||
	    strcmp(xu_stanza_ns(st), XU_NS_CLIENT) != 0 || !from ||
	    (type && strcmp(type, "unavailable") != 0))
		return XU_OK;
	err = xu_jid_parse(from, &jid, &why);
	if (err)
		return err == XU_ERR_NOMEM ? err : XU_OK;
	return type ? presences_unavailable(ps, jid, st)
	            : presences_put(&ps->avail, jid, false, st);
}

size_t xu_presences_available(const struct xu_presences *ps, const struct xu_jid *jid,
                              struct xu_presence_info *out, size_t max)
{
	bool full = xu_jid_resource(jid) != NULL;
	size_t i, n = 0;

	for (i = 0; i < ps->avail.n; i++) {
		const struct presences_entry *e = &ps->avail.e[i];

		if (full ? !xu_jid_equal(e->jid, jid) : !xu_jid_bare_equal(e->jid, jid))
			continue;
		if (n < max && xu_presence_info_from(e->st, &out[n]) == XU_OK)
			out[n].jid = xu_jid_full(e->jid);
		n++;
	}
	return n;
}

void xu_presences_unavailable(const struct xu_presences *ps, const struct xu_jid *jid,
                              struct xu_presence_info *info)
{
	size_t i = presences_find(&ps->gone, jid, true);

	memset(info, 0, sizeof(*info));
	if (i < ps->gone.n)
		xu_presence_info_from(ps->gone.e[i].st, info);
	info->jid = xu_jid_full(jid);
	info->available = false;
	info->priority = 0;
	info->caps_node = NULL;
	info->last_seen = -1;
}

/* ---------------------------------------------------------------- last activity (XEP-0012) */

enum xu_err xu_last_query(const struct xu_jid *to, struct xu_stanza **out)
{
	struct xu_stanza *iq = xu_stanza_new("iq", XU_NS_CLIENT);

	*out = NULL;
	if (!iq || xu_stanza_set_attr(iq, "type", "get") ||
	    xu_stanza_set_attr(iq, "to", xu_jid_bare(to)) ||
	    !xu_stanza_add_new(iq, "query", XU_NS_LAST)) {
		xu_stanza_free(iq);
		return XU_ERR_NOMEM;
	}
	*out = iq;
	return XU_OK;
}

/* XEP-0012 §3: seconds is an xs:unsignedLong; more than a million years is no answer. */
static bool last_seconds(const char *s, uint64_t *v)
{
	*v = 0;
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || *v > UINT64_C(40000000000000) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	return true;
}

enum xu_err xu_last_parse(const struct xu_stanza *reply, uint64_t *seconds, const char **status,
                          char *why, size_t whylen)
{
	const char *type = xu_stanza_attr(reply, "type");
	const struct xu_stanza *q = xu_stanza_child(reply, "query", XU_NS_LAST);

	*seconds = 0;
	*status = NULL;
	if (type && strcmp(type, "error") == 0) {
		snprintf(why, whylen, "%s",
		         xu_error_condition(xu_stanza_child(reply, "error", NULL), XU_NS_STANZAS));
		return XU_ERR_REFUSED;
	}
	if (!type || strcmp(type, "result") != 0 || !q ||
	    !last_seconds(xu_stanza_attr(q, "seconds"), seconds)) {
		snprintf(why, whylen, "no valid last activity in the answer");
		return XU_ERR_PROTO;
	}
	if (*xu_stanza_text(q))
		*status = xu_stanza_text(q);
	return XU_OK;
}

/* ---------------------------------------------------------------- records */

/* Unix seconds (a last-seen time) as XEP-0082; false for none (negative) or out of range. */
static bool presence_time(int64_t t, char out[32])
{
	return t >= 0 && t <= INT64_MAX / 1000 && xu_utc_stamp(t * 1000, false, out);
}

/* " value" escaped, or " -" when absent. */
static enum xu_err presence_field(struct xu_buf *b, const char *value, enum xu_esc_mode mode)
{
	enum xu_err err = xu_buf_adds(b, value ? " " : " -");

	return err || !value ? err : xu_buf_add_escaped(b, value, mode);
}

static enum xu_err presence_text(const struct xu_presence_info *p, bool color, struct xu_buf *b)
{
	char when[32];
	/* Colour: the JID bold, "available" green, "unavailable" dim. */
	enum xu_err err = xu_buf_add_colored(b, color, XU_SGR_BOLD, p->jid, XU_ESC_IDENT);

	if (!err)
		err = xu_buf_adds(b, " ");
	if (!err)
		err = xu_buf_add_colored(b, color, p->available ? XU_SGR_GREEN : XU_SGR_DIM,
		                         p->available ? "available" : "unavailable", XU_ESC_IDENT);
	if (err)
		return err;
	if (p->available) {
		err = presence_field(b, p->show, XU_ESC_IDENT);
		if (!err)
			err = xu_buf_addf(b, " %d", p->priority);
		if (!err)
			err = presence_field(b, p->caps_node, XU_ESC_IDENT);
	} else {
		err = presence_field(b, presence_time(p->last_seen, when) ? when : NULL,
		                     XU_ESC_IDENT);
	}
	if (!err && p->status) {
		err = xu_buf_adds(b, ":");
		if (!err)
			err = presence_field(b, p->status, XU_ESC_LINE);
	}
	return err;
}

/* ,"key":"value" or ,"key":null (first: without the comma). */
static enum xu_err presence_json_str(struct xu_buf *b, const char *key, const char *value,
                                     bool first)
{
	enum xu_err err = xu_buf_addf(b, "%s\"%s\":", first ? "" : ",", key);

	return err ? err : xu_buf_add_json(b, value);
}

static enum xu_err presence_json(const struct xu_presence_info *p, struct xu_buf *b)
{
	char when[32];
	bool seen = !p->available && presence_time(p->last_seen, when);
	enum xu_err err;

	err = xu_buf_adds(b, "{");
	if (!err)
		err = presence_json_str(b, "jid", p->jid, true);
	if (!err)
		err = xu_buf_addf(b, ",\"available\":%s", p->available ? "true" : "false");
	if (!err)
		err = presence_json_str(b, "show", p->show, false);
	if (!err)
		err = presence_json_str(b, "status", p->status, false);
	if (!err && p->available)
		err = xu_buf_addf(b, ",\"priority\":%d", p->priority);
	else if (!err)
		err = xu_buf_adds(b, ",\"priority\":null");
	if (!err)
		err = presence_json_str(b, "node", p->caps_node, false);
	if (!err)
		err = presence_json_str(b, "last_seen", seen ? when : NULL, false);
	if (!err)
		err = xu_buf_adds(b, "}");
	return err;
}

/* The presence to print as XML for an unavailable contact: what it said, or made up, with
 * the status last activity gave and the time it was last seen. */
static struct xu_stanza *presence_unavailable_xml(const struct xu_presence_info *p)
{
	struct xu_stanza *st = p->stanza ? xu_stanza_copy(p->stanza) : NULL, *c;
	char when[32];

	if (!p->stanza) {
		st = xu_stanza_new("presence", XU_NS_CLIENT);
		if (!st || xu_stanza_set_attr(st, "from", p->jid) ||
		    xu_stanza_set_attr(st, "type", "unavailable"))
			goto fail;
	}
	if (!st)
		return NULL;
	if (p->status && !xu_stanza_child(st, "status", XU_NS_CLIENT)) {
		c = xu_stanza_add_new(st, "status", NULL);
		if (!c || xu_stanza_add_text(c, p->status, strlen(p->status)))
			goto fail;
	}
	if (presence_time(p->last_seen, when) && !xu_stanza_child(st, "delay", XU_NS_DELAY)) {
		c = xu_stanza_add_new(st, "delay", XU_NS_DELAY);
		if (!c || xu_stanza_set_attr(c, "stamp", when))
			goto fail;
	}
	return st;
fail:
	xu_stanza_free(st);
	return NULL;
}

static enum xu_err presence_xml(const struct xu_presence_info *p, struct xu_buf *b)
{
	struct xu_stanza *made = NULL;
	enum xu_err err;

	if (p->available && !p->stanza)
		return XU_ERR_USAGE;
	if (!p->available) {
		made = presence_unavailable_xml(p);
		if (!made)
			return XU_ERR_NOMEM;
	}
	err = xu_buf_add_stanza_line(b, made ? made : p->stanza);
	xu_stanza_free(made);
	return err;
}

enum xu_err xu_presence_format(const struct xu_presence_info *p, enum xu_rec_format fmt, char **out,
                               size_t *len)
{
	struct xu_buf b;
	enum xu_err err;

	if (!p || !p->jid || !out)
		return XU_ERR_USAGE;
	*out = NULL;
	if (len)
		*len = 0;
	xu_buf_init(&b, 0);
	if (fmt == XU_REC_TEXT || fmt == XU_REC_TEXT_COLOR)
		err = presence_text(p, fmt == XU_REC_TEXT_COLOR, &b);
	else if (fmt == XU_REC_JSON)
		err = presence_json(p, &b);
	else if (fmt == XU_REC_XML)
		err = presence_xml(p, &b);
	else
		err = XU_ERR_USAGE;
	if (!err)
		err = xu_buf_add(&b, "\n", 1);
	if (!err)
		err = xu_buf_take(&b, out, len);
	xu_buf_free(&b);
	return err;
}
