/* roster.c: the contact list and presence subscriptions (RFC 6121 §2-3), the blocklist
 * (XEP-0191): requests to build and answers to read. */
#include "xu-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- items */

void xu_roster_item_clear(struct xu_roster_item *it)
{
	size_t i;

	free(it->jid);
	free(it->name);
	free(it->subscription);
	for (i = 0; i < it->ngroups; i++)
		free(it->groups[i]);
	free(it->groups);
	memset(it, 0, sizeof(*it));
}

void xu_roster_free(struct xu_roster *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		xu_roster_item_clear(&r->items[i]);
	free(r->items);
	free(r);
}

static bool roster_has_group(const struct xu_roster_item *it, const char *g)
{
	size_t i;

	for (i = 0; i < it->ngroups; i++)
		if (strcmp(it->groups[i], g) == 0)
			return true;
	return false;
}

enum xu_err xu_roster_item_add_group(struct xu_roster_item *it, const char *group)
{
	size_t at;
	char *g;

	if (roster_has_group(it, group))
		return XU_OK; /* RFC 6121 §2.1.2.5: a group is named once */
	if (xu_array_room((void **)&it->groups, &it->groups_cap, it->ngroups, sizeof(char *), 4))
		return XU_ERR_NOMEM;
	g = strdup(group);
	if (!g)
		return XU_ERR_NOMEM;
	/* Kept sorted, so that two items compare group by group. */
	for (at = it->ngroups; at > 0 && strcmp(it->groups[at - 1], g) > 0; at--)
		it->groups[at] = it->groups[at - 1];
	it->groups[at] = g;
	it->ngroups++;
	return XU_OK;
}

static int roster_item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct xu_roster_item *)a)->jid,
	              ((const struct xu_roster_item *)b)->jid);
}

/* One <item/> of a roster result, or NULL-jid when the server sent one we cannot use. */
static enum xu_err roster_item_parse(const struct xu_stanza *el, struct xu_roster_item *it)
{
	const char *jid = xu_stanza_attr(el, "jid"), *sub = xu_stanza_attr(el, "subscription");
	const char *name = xu_stanza_attr(el, "name"), *ask = xu_stanza_attr(el, "ask");
	const char *approved = xu_stanza_attr(el, "approved"), *why;
	struct xu_jid *j = NULL;
	struct xu_stanza *g;
	enum xu_err err;

	memset(it, 0, sizeof(*it));
	/* A contact is a bare JID (RFC 6121 §2.1.2.1); anything else is the server's mistake. */
	if (!jid || xu_jid_parse(jid, &j, &why) != XU_OK || xu_jid_resource(j)) {
		xu_jid_free(j);
		return XU_OK;
	}
	it->jid = strdup(xu_jid_bare(j));
	xu_jid_free(j);
	if (!sub || (strcmp(sub, "none") != 0 && strcmp(sub, "to") != 0 &&
	             strcmp(sub, "from") != 0 && strcmp(sub, "both") != 0))
		sub = "none";
	it->subscription = strdup(sub);
	it->name = name && *name ? strdup(name) : NULL;
	if (!it->jid || !it->subscription || (name && *name && !it->name))
		return XU_ERR_NOMEM;
	it->ask = ask && strcmp(ask, "subscribe") == 0;
	it->approved = approved && (strcmp(approved, "true") == 0 || strcmp(approved, "1") == 0);
	for (g = xu_stanza_first(el); g; g = xu_stanza_next(g)) {
		if (strcmp(xu_stanza_name(g), "group") != 0 || !*xu_stanza_text(g))
			continue;
		err = xu_roster_item_add_group(it, xu_stanza_text(g));
		if (err)
			return err;
	}
	return XU_OK;
}

enum xu_err xu_roster_parse(const struct xu_stanza *reply, struct xu_roster **out)
{
	return xu_roster_parse_query(xu_stanza_child(reply, "query", XU_NS_ROSTER), out);
}

enum xu_err xu_roster_parse_query(const struct xu_stanza *q, struct xu_roster **out)
{
	const struct xu_stanza *el;
	struct xu_roster *r = calloc(1, sizeof(*r));
	enum xu_err err = XU_OK;

	*out = NULL;
	if (!r)
		return XU_ERR_NOMEM;
	for (el = q ? xu_stanza_first(q) : NULL; el && !err; el = xu_stanza_next(el)) {
		if (strcmp(xu_stanza_name(el), "item") != 0 ||
		    strcmp(xu_stanza_ns(el), XU_NS_ROSTER) != 0)
			continue;
		if (xu_array_room((void **)&r->items, &r->cap, r->n, sizeof(*r->items), 16)) {
			err = XU_ERR_NOMEM;
			break;
		}
		err = roster_item_parse(el, &r->items[r->n]);
		if (r->items[r->n].jid || err)
			r->n++;
	}
	if (err) {
		xu_roster_free(r);
		return err;
	}
	xu_roster_sort(r);
	*out = r;
	return XU_OK;
}

void xu_roster_sort(struct xu_roster *r)
{
	size_t i, w;

	/* Stable, so that of a JID listed twice the first entry stays. */
	for (i = 1; i < r->n; i++) {
		struct xu_roster_item t = r->items[i];

		for (w = i; w > 0 && strcmp(r->items[w - 1].jid, t.jid) > 0; w--)
			r->items[w] = r->items[w - 1];
		r->items[w] = t;
	}
	for (i = w = 0; i < r->n; i++) {
		if (w && strcmp(r->items[w - 1].jid, r->items[i].jid) == 0)
			xu_roster_item_clear(&r->items[i]);
		else
			r->items[w++] = r->items[i];
	}
	r->n = w;
}

bool xu_roster_item_same(const struct xu_roster_item *a, const struct xu_roster_item *b)
{
	size_t i;

	if ((a->name == NULL) != (b->name == NULL) || (a->name && strcmp(a->name, b->name) != 0) ||
	    a->ngroups != b->ngroups)
		return false;
	for (i = 0; i < a->ngroups; i++)
		if (strcmp(a->groups[i], b->groups[i]) != 0)
			return false;
	return true;
}

const struct xu_roster_item *xu_roster_find(const struct xu_roster *r, const char *bare)
{
	struct xu_roster_item key;

	memset(&key, 0, sizeof(key));
	key.jid = (char *)bare;
	return r->n ? bsearch(&key, r->items, r->n, sizeof(key), roster_item_cmp) : NULL;
}

/* ---------------------------------------------------------------- output */

/* <group/> children of el for the item's groups. Errors: XU_ERR_NOMEM. */
static enum xu_err roster_add_groups(struct xu_stanza *el, const struct xu_roster_item *it)
{
	size_t i;

	for (i = 0; i < it->ngroups; i++) {
		struct xu_stanza *g = xu_stanza_add_new(el, "group", NULL);

		if (!g || xu_stanza_add_text(g, it->groups[i], strlen(it->groups[i])))
			return XU_ERR_NOMEM;
	}
	return XU_OK;
}

enum xu_err xu_roster_item_stanza(const struct xu_roster_item *it, struct xu_stanza **out)
{
	struct xu_stanza *el = xu_stanza_new("item", XU_NS_ROSTER);

	*out = NULL;
	if (!el || xu_stanza_set_attr(el, "jid", it->jid) ||
	    (it->name && xu_stanza_set_attr(el, "name", it->name)) ||
	    (it->subscription && xu_stanza_set_attr(el, "subscription", it->subscription)) ||
	    (it->ask && xu_stanza_set_attr(el, "ask", "subscribe")) ||
	    (it->approved && xu_stanza_set_attr(el, "approved", "true")))
		goto fail;
	if (roster_add_groups(el, it))
		goto fail;
	*out = el;
	return XU_OK;
fail:
	xu_stanza_free(el);
	return XU_ERR_NOMEM;
}

/* The groups, each written by add and separated by commas. */
static enum xu_err roster_groups(struct xu_buf *b, const struct xu_roster_item *it, bool json)
{
	enum xu_err err = XU_OK;
	size_t i;

	for (i = 0; !err && i < it->ngroups; i++) {
		err = i ? xu_buf_adds(b, ",") : XU_OK;
		if (!err)
			err = json ? xu_buf_add_json(b, it->groups[i])
			           : xu_buf_add_escaped(b, it->groups[i], XU_ESC_IDENT);
	}
	return err;
}

static enum xu_err roster_json(struct xu_buf *b, const struct xu_roster_item *it)
{
	enum xu_err err = xu_buf_adds(b, "{\"jid\":");

	err = err ? err : xu_buf_add_json(b, it->jid);
	err = err ? err : xu_buf_adds(b, ",\"name\":");
	err = err ? err : xu_buf_add_json(b, it->name);
	err = err ? err : xu_buf_adds(b, ",\"subscription\":");
	err = err ? err : xu_buf_add_json(b, it->subscription ? it->subscription : "none");
	err = err ? err
	          : xu_buf_addf(b, ",\"ask\":%s,\"approved\":%s,\"groups\":[",
	                        it->ask ? "true" : "false", it->approved ? "true" : "false");
	err = err ? err : roster_groups(b, it, true);
	return err ? err : xu_buf_adds(b, "]}\n");
}

static enum xu_err roster_text(struct xu_buf *b, const struct xu_roster_item *it, bool color)
{
	/* Colour: the JID bold. */
	enum xu_err err = xu_buf_add_colored(b, color, XU_SGR_BOLD, it->jid, XU_ESC_IDENT);

	err = err ? err : xu_buf_adds(b, "\t");
	err = err ? err : xu_buf_add_escaped(b, it->name ? it->name : "", XU_ESC_IDENT);
	err = err ? err
	          : xu_buf_addf(b, "\t%s\t%s\t", it->subscription ? it->subscription : "none",
	                        it->ask ? "subscribe" : "");
	err = err ? err : roster_groups(b, it, false);
	return err ? err : xu_buf_adds(b, "\n");
}

/* Text: jid, name, subscription, ask ("subscribe" or empty), groups joined by ',', separated
 * by tabs (escaped values cannot hold one). JSON: fixed keys, null or false when absent. */
enum xu_err xu_roster_item_format(const struct xu_roster_item *it, enum xu_rec_format fmt,
                                  char **out, size_t *len)
{
	struct xu_buf b;
	enum xu_err err;

	if (fmt == XU_REC_XML)
		return XU_ERR_USAGE;
	xu_buf_init(&b, 0);
	err = fmt == XU_REC_JSON ? roster_json(&b, it)
	                         : roster_text(&b, it, fmt == XU_REC_TEXT_COLOR);
	if (!err)
		err = xu_buf_take(&b, out, len);
	xu_buf_free(&b);
	return err;
}

enum xu_err xu_roster_cache_store(const char *dir, const char *account,
                                  const struct xu_roster *roster, char *errbuf, size_t errlen)
{
	char name[1100];
	struct xu_buf b;
	enum xu_err err = XU_OK;
	size_t i;

	if (!dir)
		return XU_OK;
	if (snprintf(name, sizeof(name), "roster.%s", account) >= (int)sizeof(name)) {
		snprintf(errbuf, errlen, "account name too long");
		return XU_ERR_USAGE;
	}
	xu_buf_init(&b, 0);
	/* Prepared bare JIDs hold no blank, newline or '/', so one per line is unambiguous. */
	for (i = 0; !err && roster && i < roster->n; i++)
		err = xu_buf_addf(&b, "%s\n", roster->items[i].jid);
	if (err)
		snprintf(errbuf, errlen, "out of memory");
	else
		err = xu_cache_store_file(dir, name, b.data ? b.data : "", b.len, errbuf, errlen);
	xu_buf_free(&b);
	return err;
}

/* ---------------------------------------------------------------- requests */

static struct xu_stanza *roster_iq(const char *type, const char *child, const char *ns,
                                   struct xu_stanza **q)
{
	struct xu_stanza *iq = xu_stanza_new("iq", XU_NS_CLIENT);

	*q = iq ? xu_stanza_add_new(iq, child, ns) : NULL;
	if (!*q || xu_stanza_set_attr(iq, "type", type)) {
		xu_stanza_free(iq);
		return NULL;
	}
	return iq;
}

enum xu_err xu_roster_get_iq(struct xu_stanza **out)
{
	struct xu_stanza *q;

	*out = roster_iq("get", "query", XU_NS_ROSTER, &q);
	return *out ? XU_OK : XU_ERR_NOMEM;
}

enum xu_err xu_roster_set_iq(const struct xu_roster_item *it, bool remove, struct xu_stanza **out)
{
	struct xu_stanza *q, *item, *iq = roster_iq("set", "query", XU_NS_ROSTER, &q);
	size_t i;

	*out = NULL;
	/* Names and groups come from users: what XML cannot carry is refused here, not by the
	 * serialiser half-way through a connection. */
	for (i = 0; i < it->ngroups; i++)
		if (!xu_utf8_xml_ok(it->groups[i], strlen(it->groups[i])))
			break;
	if (i < it->ngroups || (it->name && !xu_utf8_xml_ok(it->name, strlen(it->name)))) {
		xu_stanza_free(iq);
		return XU_ERR_DATA;
	}
	item = iq ? xu_stanza_add_new(q, "item", NULL) : NULL;
	if (!item || xu_stanza_set_attr(item, "jid", it->jid))
		goto fail;
	/* RFC 6121 §2.5.2: removal names the item only. */
	if (remove) {
		if (xu_stanza_set_attr(item, "subscription", "remove"))
			goto fail;
		*out = iq;
		return XU_OK;
	}
	if (it->name && xu_stanza_set_attr(item, "name", it->name))
		goto fail;
	if (roster_add_groups(item, it))
		goto fail;
	*out = iq;
	return XU_OK;
fail:
	xu_stanza_free(iq);
	return XU_ERR_NOMEM;
}

enum xu_err xu_subscription_new(const char *to, const char *type, struct xu_stanza **out)
{
	struct xu_stanza *p;

	*out = NULL;
	if (strcmp(type, "subscribe") != 0 && strcmp(type, "subscribed") != 0 &&
	    strcmp(type, "unsubscribe") != 0 && strcmp(type, "unsubscribed") != 0)
		return XU_ERR_USAGE;
	p = xu_stanza_new("presence", XU_NS_CLIENT);
	if (!p || xu_stanza_set_attr(p, "to", to) || xu_stanza_set_attr(p, "type", type)) {
		xu_stanza_free(p);
		return XU_ERR_NOMEM;
	}
	*out = p;
	return XU_OK;
}

/* ---------------------------------------------------------------- the blocklist (XEP-0191) */

enum xu_err xu_blocklist_get_iq(struct xu_stanza **out)
{
	struct xu_stanza *q;

	*out = roster_iq("get", "blocklist", XU_NS_BLOCKING, &q);
	return *out ? XU_OK : XU_ERR_NOMEM;
}

enum xu_err xu_block_iq(bool block, const char *jid, struct xu_stanza **out)
{
	struct xu_stanza *q, *item,
	    *iq = roster_iq("set", block ? "block" : "unblock", XU_NS_BLOCKING, &q);

	*out = NULL;
	item = iq ? xu_stanza_add_new(q, "item", NULL) : NULL;
	if (!item || xu_stanza_set_attr(item, "jid", jid)) {
		xu_stanza_free(iq);
		return XU_ERR_NOMEM;
	}
	*out = iq;
	return XU_OK;
}

enum xu_err xu_blocklist_parse(const struct xu_stanza *reply, char ***jids, size_t *n)
{
	const struct xu_stanza *bl = xu_stanza_child(reply, "blocklist", XU_NS_BLOCKING), *it;
	size_t cap = 0;
	char **v = NULL;

	*jids = NULL;
	*n = 0;
	for (it = bl ? xu_stanza_first(bl) : NULL; it; it = xu_stanza_next(it)) {
		const char *j = xu_stanza_attr(it, "jid");

		if (strcmp(xu_stanza_name(it), "item") != 0 || !j || !*j)
			continue;
		if (xu_array_room((void **)&v, &cap, *n, sizeof(*v), 16) || !(v[*n] = strdup(j))) {
			while (*n > 0)
				free(v[--*n]);
			free(v);
			return XU_ERR_NOMEM;
		}
		(*n)++;
	}
	*jids = v;
	return XU_OK;
}
