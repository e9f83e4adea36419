/* disco.c: service discovery (XEP-0030): what an entity is and offers, what items it holds
 * (paged with XEP-0059 RSM), and the extension form it may attach (XEP-0128). */
#include "xu-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum xu_err disco_iq(const char *to, const char *ns, struct xu_stanza **iq,
                            struct xu_stanza **q)
{
	*iq = xu_stanza_new("iq", XU_NS_CLIENT);
	*q = *iq ? xu_stanza_add_new(*iq, "query", ns) : NULL;
	if (!*q || xu_stanza_set_attr(*iq, "type", "get") || xu_stanza_set_attr(*iq, "to", to)) {
		xu_stanza_free(*iq);
		*iq = NULL;
		return XU_ERR_NOMEM;
	}
	return XU_OK;
}

enum xu_err xu_disco_info_iq(const char *to, struct xu_stanza **iq)
{
	struct xu_stanza *q;

	return disco_iq(to, XU_NS_DISCO_INFO, iq, &q);
}

void xu_disco_info_free(struct xu_disco_info *d)
{
	size_t i;

	if (!d)
		return;
	for (i = 0; i < d->nfeatures; i++)
		free(d->features[i]);
	free(d->features);
	for (i = 0; i < d->nids; i++) {
		free(d->ids[i].category);
		free(d->ids[i].type);
		free(d->ids[i].name);
	}
	free(d->ids);
	xu_form_free(d->form);
	free(d);
}

static char *disco_dup(const char *s, bool *oom)
{
	char *d = strdup(s ? s : "");

	if (!d)
		*oom = true;
	return d;
}

static bool disco_add(struct xu_disco_info *d, const struct xu_stanza *c, size_t *fcap,
                      size_t *icap)
{
	bool oom = false;

	if (strcmp(xu_stanza_name(c), "feature") == 0 && xu_stanza_attr(c, "var")) {
		if (xu_array_room((void **)&d->features, fcap, d->nfeatures, sizeof(char *), 16))
			return false;
		d->features[d->nfeatures] = disco_dup(xu_stanza_attr(c, "var"), &oom);
		d->nfeatures += !oom;
	} else if (strcmp(xu_stanza_name(c), "identity") == 0) {
		if (xu_array_room((void **)&d->ids, icap, d->nids, sizeof(*d->ids), 2))
			return false;
		d->ids[d->nids].category = disco_dup(xu_stanza_attr(c, "category"), &oom);
		d->ids[d->nids].type = disco_dup(xu_stanza_attr(c, "type"), &oom);
		d->ids[d->nids].name = disco_dup(xu_stanza_attr(c, "name"), &oom);
		d->nids++;
	} else if (strcmp(xu_stanza_name(c), "x") == 0 && !d->form) {
		if (xu_form_parse(c, &d->form) == XU_ERR_NOMEM)
			return false;
	}
	return !oom;
}

enum xu_err xu_disco_info_parse(const struct xu_stanza *reply, struct xu_disco_info **out)
{
	const struct xu_stanza *q = xu_stanza_child(reply, "query", XU_NS_DISCO_INFO), *c;
	struct xu_disco_info *d;
	size_t fcap = 0, icap = 0;

	*out = NULL;
	if (!q)
		return XU_ERR_PROTO;
	d = calloc(1, sizeof(*d));
	if (!d)
		return XU_ERR_NOMEM;
	for (c = xu_stanza_first(q); c; c = xu_stanza_next(c)) {
		if (!disco_add(d, c, &fcap, &icap)) {
			xu_disco_info_free(d);
			return XU_ERR_NOMEM;
		}
	}
	*out = d;
	return XU_OK;
}

bool xu_disco_has_feature(const struct xu_disco_info *d, const char *var)
{
	size_t i;

	for (i = 0; i < d->nfeatures; i++)
		if (strcmp(d->features[i], var) == 0)
			return true;
	return false;
}

enum xu_err xu_disco_items_iq(const char *to, const char *after, unsigned max,
                              struct xu_stanza **iq)
{
	struct xu_stanza *q, *set, *m, *a;
	char n[16];
	enum xu_err err = disco_iq(to, XU_NS_DISCO_ITEMS, iq, &q);

	if (err || !max)
		return err;
	snprintf(n, sizeof(n), "%u", max);
	set = xu_stanza_add_new(q, "set", XU_NS_RSM);
	m = set ? xu_stanza_add_new(set, "max", NULL) : NULL;
	if (!m || xu_stanza_add_text(m, n, strlen(n)))
		goto fail;
	if (after) {
		a = xu_stanza_add_new(set, "after", NULL);
		if (!a || xu_stanza_add_text(a, after, strlen(after)))
			goto fail;
	}
	return XU_OK;
fail:
	xu_stanza_free(*iq);
	*iq = NULL;
	return XU_ERR_NOMEM;
}

void xu_disco_items_free(struct xu_disco_item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(items[i].jid);
		free(items[i].name);
	}
	free(items);
}

enum xu_err xu_disco_items_parse(const struct xu_stanza *reply, struct xu_disco_item **items,
                                 size_t *n, const char **last)
{
	const struct xu_stanza *q = xu_stanza_child(reply, "query", XU_NS_DISCO_ITEMS), *c;
	size_t cap = 0;
	bool oom = false;

	*items = NULL;
	*n = 0;
	*last = NULL;
	if (!q)
		return XU_ERR_PROTO;
	for (c = xu_stanza_first(q); c && !oom; c = xu_stanza_next(c)) {
		if (strcmp(xu_stanza_name(c), "item") != 0 || !xu_stanza_attr(c, "jid"))
			continue;
		if (xu_array_room((void **)items, &cap, *n, sizeof(**items), 16)) {
			oom = true;
			break;
		}
		(*items)[*n].jid = disco_dup(xu_stanza_attr(c, "jid"), &oom);
		(*items)[*n].name = disco_dup(xu_stanza_attr(c, "name"), &oom);
		(*n)++;
	}
	if (oom) {
		xu_disco_items_free(*items, *n);
		*items = NULL;
		*n = 0;
		return XU_ERR_NOMEM;
	}
	*last = xu_stanza_child_text(xu_stanza_child(q, "set", XU_NS_RSM), "last", NULL);
	if (*last && !**last)
		*last = NULL;
	return XU_OK;
}
