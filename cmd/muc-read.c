/* muc-read.c: what a room says about itself: info (disco#info and its room-info form), the
 * rooms of a service (disco#items, paged), the configuration form, the occupants, the subject,
 * the recent history. */
#include "muc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MUC_LIST_PAGE 100
#define MUC_HISTORY_DEFAULT 20

/* ---------------------------------------------------------------- info and list */

static const char *muc_form_value(const struct xu_form *f, const char *var)
{
	const struct xu_form_field *fl = xu_form_get(f, var);

	return fl && fl->nvalues ? fl->values[0] : NULL;
}

int muc_info(struct muc_run *r)
{
	static const char *const keys[] = {"jid", "name", "description", "occupants", "features"};
	struct xu_stanza *iq = NULL, *reply = NULL;
	struct xu_disco_info *d = NULL;
	char *feats;
	const char *vals[5];
	int rc;

	if (xu_disco_info_iq(xu_jid_bare(r->room), &iq))
		return cmd_fail(XU_ERR_NOMEM, "out of memory");
	rc = muc_iq(r, iq, "read", &reply);
	if (!rc && xu_disco_info_parse(reply, &d) != XU_OK)
		rc = cmd_fail(XU_ERR_PROTO, "%s answered disco#info without a <query/>",
		              xu_jid_bare(r->room));
	feats = rc ? NULL : cmd_join((const char *const *)d->features, d->nfeatures, " ");
	if (!rc) {
		vals[0] = xu_jid_bare(r->room);
		vals[1] = d->nids && *d->ids[0].name ? d->ids[0].name : NULL;
		vals[2] = muc_form_value(d->form, "muc#roominfo_description");
		vals[3] = muc_form_value(d->form, "muc#roominfo_occupants");
		vals[4] = feats;
		rc = muc_emit(r->fmt, xu_stanza_child(reply, "query", XU_NS_DISCO_INFO), keys, vals,
		              5);
	}
	free(feats);
	xu_disco_info_free(d);
	xu_stanza_free(reply);
	return rc;
}

int muc_list(struct muc_run *r)
{
	static const char *const keys[] = {"jid", "name"};
	char *after = NULL;
	int rc = 0, pages = 0;

	/* Paged (XEP-0059) until a page comes back without a next one; bounded, in case a
	 * service keeps answering with the same page. */
	do {
		struct xu_stanza *iq = NULL, *reply = NULL;
		struct xu_disco_item *items = NULL;
		const char *last = NULL;
		size_t n = 0, i;

		if (xu_disco_items_iq(xu_jid_bare(r->room), after, MUC_LIST_PAGE, &iq))
			rc = cmd_fail(XU_ERR_NOMEM, "out of memory");
		if (!rc)
			rc = muc_iq(r, iq, "list the rooms of", &reply);
		if (!rc && xu_disco_items_parse(reply, &items, &n, &last) != XU_OK)
			rc = cmd_fail(XU_ERR_PROTO, "%s answered disco#items without a <query/>",
			              xu_jid_bare(r->room));
		for (i = 0; !rc && i < n; i++) {
			const char *vals[2] = {items[i].jid, *items[i].name ? items[i].name : NULL};
			struct xu_stanza *el = xu_stanza_new("item", XU_NS_DISCO_ITEMS);

			if (!el || xu_stanza_set_attr(el, "jid", items[i].jid) ||
			    (vals[1] && xu_stanza_set_attr(el, "name", vals[1])))
				rc = cmd_fail(XU_ERR_NOMEM, "out of memory");
			else
				rc = muc_emit(r->fmt, el, keys, vals, 2);
			xu_stanza_free(el);
		}
		free(after);
		after = !rc && last && n ? cmd_xstrdup(last) : NULL;
		xu_disco_items_free(items, n);
		xu_stanza_free(reply);
	} while (!rc && after && ++pages < 1000);
	free(after);
	return rc;
}

/* ---------------------------------------------------------------- the configuration form */

int muc_config_show(struct muc_run *r)
{
	static const char *const keys[] = {"var", "type", "label", "value"};
	struct xu_stanza *iq = NULL, *reply = NULL, *x;
	struct xu_form *f = NULL;
	size_t i;
	int rc;

	if (xu_muc_owner_iq(r->room, NULL, &iq))
		return cmd_fail(XU_ERR_NOMEM, "out of memory");
	rc = muc_iq(r, iq, "read the configuration of", &reply);
	x = reply
	        ? xu_stanza_child(xu_stanza_child(reply, "query", XU_NS_MUC_OWNER), "x", XU_NS_DATA)
	        : NULL;
	if (!rc && xu_form_parse(x, &f) != XU_OK)
		rc = cmd_fail(XU_ERR_PROTO, "%s sent no configuration form", xu_jid_bare(r->room));
	for (i = 0; !rc && i < f->n; i++) {
		const struct xu_form_field *fl = &f->fields[i];
		char *v;
		const char *vals[4];

		if (!fl->var || (fl->type && strcmp(fl->type, "fixed") == 0))
			continue;
		if (r->fmt == XU_REC_XML) {
			rc = muc_emit(XU_REC_XML, x, NULL, NULL, 0); /* the whole form, once */
			break;
		}
		v = cmd_join((const char *const *)fl->values, fl->nvalues, "\n");
		vals[0] = fl->var;
		vals[1] = fl->type;
		vals[2] = fl->label;
		vals[3] = v;
		rc = muc_emit(r->fmt, NULL, keys, vals, 4);
		free(v);
	}
	xu_form_free(f);
	xu_stanza_free(reply);
	return rc;
}

/* ---------------------------------------------------------------- occupants */

struct muc_seen {
	struct xu_stanza **p;
	size_t n;
};

static void muc_occupant_seen(void *ctx, const struct xu_stanza *presence)
{
	struct muc_seen *s = ctx;
	struct xu_stanza *copy = xu_stanza_copy(presence);

	if (!copy)
		return;
	s->p = cmd_xrealloc(s->p, (s->n + 1) * sizeof(*s->p));
	s->p[s->n++] = copy;
}

int muc_occupants(struct muc_run *r)
{
	static const char *const keys[] = {"nick", "role", "affiliation", "jid"};
	struct xu_muc_join_opts o;
	struct muc_seen seen = {NULL, 0};
	struct xu_jid *self = NULL;
	size_t i;
	int rc;

	memset(&o, 0, sizeof(o));
	o.occupant = muc_occupant_seen;
	o.ctx = &seen;
	rc = muc_join(r, &o, &self);
	for (i = 0; i < seen.n; i++) {
		const struct xu_stanza *item =
		    xu_stanza_child(xu_stanza_child(seen.p[i], "x", XU_NS_MUC_USER), "item", NULL);
		const char *from = xu_stanza_attr(seen.p[i], "from"), *slash;
		const char *vals[4];

		slash = from ? strchr(from, '/') : NULL;
		vals[0] = slash ? slash + 1 : NULL;
		vals[1] = xu_stanza_attr(item, "role");
		vals[2] = xu_stanza_attr(item, "affiliation");
		vals[3] = xu_stanza_attr(item, "jid"); /* only where the room shows it */
		if (!rc)
			rc = muc_emit(r->fmt, seen.p[i], keys, vals, 4);
		xu_stanza_free(seen.p[i]);
	}
	free(seen.p);
	if (self)
		xu_muc_leave(r->conn, self);
	xu_jid_free(self);
	return rc;
}

/* ---------------------------------------------------------------- subject and history */

/* After our presence: history messages (with a delay), then the subject (XEP-0045 §7.2.15). */
struct muc_after {
	struct muc_run *r;
	struct xu_stanza *subject; /* the subject message, once it came */
	bool print_history;
	int rc;
};

static bool muc_after_until(struct xu_conn *conn, void *ctx)
{
	struct muc_after *a = ctx;
	struct xu_stanza *st;

	while (!a->subject && !a->rc && xu_conn_next(conn, &st) == XU_OK && st) {
		const char *type = xu_stanza_attr(st, "type");
		const char *from = xu_stanza_attr(st, "from");
		struct xu_jid *j = NULL;
		const char *why;
		bool room = from && xu_jid_parse(from, &j, &why) == XU_OK &&
		            xu_jid_bare_equal(j, a->r->room);

		xu_jid_free(j);
		if (room && strcmp(xu_stanza_name(st), "message") == 0 && type &&
		    strcmp(type, "groupchat") == 0) {
			if (xu_stanza_child(st, "subject", NULL) &&
			    !xu_stanza_child(st, "body", NULL)) {
				a->subject = st;
				continue;
			}
			if (a->print_history)
				a->rc = muc_print_message(a->r->fmt, st);
		}
		xu_stanza_free(st);
	}
	return a->subject || a->rc;
}

/* Join (asking for `history` messages), take what comes until the subject, leave. */
static int muc_until_subject(struct muc_run *r, int history, const char *since, bool print,
                             struct xu_stanza **subject)
{
	struct xu_muc_join_opts o;
	struct muc_after a = {r, NULL, print, 0};
	struct xu_jid *self = NULL;
	enum xu_err err;
	int rc;

	memset(&o, 0, sizeof(o));
	o.history = history;
	o.since = since;
	rc = muc_join(r, &o, &self);
	if (rc)
		return rc;
	err = xu_conn_wait(r->conn, muc_after_until, &a, "the room's subject");
	if (err && !a.rc)
		a.rc = cmd_fail(err, "%s", xu_conn_errmsg(r->conn));
	if (!a.rc)
		xu_muc_leave(r->conn, self);
	xu_jid_free(self);
	*subject = a.subject;
	return a.rc;
}

/* subject --set: announced by the room when accepted (XEP-0045 §8.1). */
static int muc_subject_set(struct muc_run *r)
{
	struct xu_muc_join_opts o;
	struct xu_jid *self = NULL;
	char why[600];
	enum xu_err err;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = muc_join(r, &o, &self);
	if (rc)
		return rc;
	err = xu_muc_set_subject(r->conn, self, muc_opts.set[0], why, sizeof(why));
	if (err)
		rc = cmd_fail(err, "%s did not take the subject: %s", xu_jid_bare(r->room), why);
	else
		xu_muc_leave(r->conn, self);
	xu_jid_free(self);
	return rc;
}

int muc_subject(struct muc_run *r)
{
	static const char *const keys[] = {"subject", "by"};
	struct xu_stanza *subject = NULL;
	const char *vals[2], *from, *slash;
	int rc;

	if (muc_opts.set)
		return muc_subject_set(r);
	rc = muc_until_subject(r, 0, NULL, false, &subject);
	if (!rc && subject) {
		from = xu_stanza_attr(subject, "from");
		slash = from ? strchr(from, '/') : NULL;
		vals[0] = xu_stanza_child_text(subject, "subject", NULL);
		vals[1] = slash ? slash + 1 : NULL;
		rc = muc_emit(r->fmt, subject, keys, vals, 2);
	}
	xu_stanza_free(subject);
	return rc;
}

/* A result of the room's archive as a record (it carries the archive's delay). */
static int muc_archived(struct muc_run *r, const char *qid, struct xu_stanza *st)
{
	struct xu_stanza *item = NULL;
	const char *aid = NULL;
	int rc = 0;

	if (xu_mam_result(st, qid, r->room, &item, &aid) != XU_OK)
		return cmd_fail(XU_ERR_NOMEM, "out of memory");
	if (item)
		rc = muc_print_message(r->fmt, item);
	xu_stanza_free(item);
	return rc;
}

/* The newest messages of the room's archive (XEP-0313): one page from the end, oldest first. */
static int muc_history_mam(struct muc_run *r, unsigned max)
{
	static const char qid[] = "xu-history";
	struct xu_mam_page page = {NULL, qid, NULL, NULL, true, max};
	struct xu_stanza *iq = NULL, *st;
	int rc;

	page.to = xu_jid_bare(r->room);
	page.start = muc_opts.since;
	if (xu_mam_query(&page, &iq))
		return cmd_fail(XU_ERR_NOMEM, "out of memory");
	rc = muc_iq(r, iq, "read the archive of", NULL);
	/* The results came before the answer, in order, and wait in the queue. */
	while (!rc && xu_conn_next(r->conn, &st) == XU_OK && st) {
		rc = muc_archived(r, qid, st);
		xu_stanza_free(st);
	}
	return rc;
}

int muc_history(struct muc_run *r)
{
	unsigned max = muc_opts.max ? (unsigned)muc_opts.max : MUC_HISTORY_DEFAULT;
	struct xu_stanza *iq = NULL, *reply = NULL, *subject = NULL;
	struct xu_disco_info *d = NULL;
	bool mam = false;
	int rc;

	/* The room's archive where it has one; else what it sends when we join. */
	if (xu_disco_info_iq(xu_jid_bare(r->room), &iq))
		return cmd_fail(XU_ERR_NOMEM, "out of memory");
	rc = muc_iq(r, iq, "read", &reply);
	if (!rc && xu_disco_info_parse(reply, &d) == XU_OK)
		mam = xu_disco_has_feature(d, XU_NS_MAM);
	xu_disco_info_free(d);
	xu_stanza_free(reply);
	if (rc)
		return rc;
	if (cmd_opts.verbose)
		cmd_note("history of %s: %s", xu_jid_bare(r->room),
		         mam ? "from its archive (XEP-0313)" : "what it sends when we join");
	if (mam)
		return muc_history_mam(r, max);
	rc = muc_until_subject(r, (int)max, muc_opts.since, true, &subject);
	xu_stanza_free(subject);
	return rc;
}

/* ---------------------------------------------------------------- join: stay and listen */

/* One stanza while we stay: the room's messages as records (not our own echo), and the
 * room telling us we are out. Returns 0, an exit code, or -1 when removed. */
static int muc_stay_stanza(struct muc_run *r, const struct xu_jid *self, struct xu_stanza *st)
{
	const char *from = xu_stanza_attr(st, "from"), *type = xu_stanza_attr(st, "type"), *why;
	struct xu_jid *j = NULL;
	int rc = 0;

	if (!from || xu_jid_parse(from, &j, &why) != XU_OK || !xu_jid_bare_equal(j, r->room)) {
		xu_jid_free(j);
		return 0;
	}
	if (strcmp(xu_stanza_name(st), "presence") == 0) {
		if (xu_jid_equal(j, self) && type && strcmp(type, "unavailable") == 0)
			rc = cmd_fail(XU_ERR_REFUSED, "removed from %s", xu_jid_bare(r->room));
	} else if (strcmp(xu_stanza_name(st), "message") == 0 && !xu_jid_equal(j, self)) {
		rc = muc_print_message(r->fmt, st);
	}
	xu_jid_free(j);
	return rc;
}

int muc_stay(struct muc_run *r)
{
	struct xu_muc_join_opts o;
	struct xu_jid *self = NULL;
	struct xu_stanza *st;
	enum xu_err err = XU_OK;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = cmd_signals(false);
	if (!rc)
		rc = muc_join(r, &o, &self);
	if (!rc && cmd_opts.verbose)
		cmd_note("in %s as %s; SIGINT or SIGTERM to leave", xu_jid_bare(r->room),
		         xu_jid_resource(self));
	while (!rc && !err && !cmd_stops()) {
		struct pollfd p[2] = {{cmd_signal_fd(), POLLIN, 0},
		                      {xu_conn_fd(r->conn), xu_conn_events(r->conn), 0}};

		while (!rc && xu_conn_next(r->conn, &st) == XU_OK && st) {
			rc = muc_stay_stanza(r, self, st);
			xu_stanza_free(st);
			if (!rc)
				xu_conn_handled(r->conn);
		}
		if (rc)
			break;
		if (poll(p, 2, xu_conn_timeout_ms(r->conn)) < 0 && errno != EINTR) {
			rc = cmd_fail(XU_ERR_IO, "poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents)
			cmd_signals_drain();
		err = xu_conn_dispatch(r->conn, p[1].revents);
	}
	if (!rc && err)
		rc = cmd_fail(err, "%s", xu_conn_errmsg(r->conn));
	if (!rc && self)
		xu_muc_leave(r->conn, self);
	xu_jid_free(self);
	return rc;
}
