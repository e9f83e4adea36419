/* muc.c: multi-user chat rooms (XEP-0045) for one-shot use: join and wait for our own presence,
 * send and wait for the room to reflect each message, leave. A room message either arrives or
 * the caller learns exactly why not. */
#include "xu-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MUC_RENAMES 9 /* nick, then nick-2 .. nick-9 */

enum xu_err xu_muc_join_new(const struct xu_jid *occupant, const char *password, int history,
                            const char *since, struct xu_stanza **out)
{
	struct xu_stanza *p = xu_stanza_new("presence", XU_NS_CLIENT), *x;
	char n[16];

	*out = NULL;
	if ((password && !xu_utf8_xml_ok(password, strlen(password))) ||
	    (since && !xu_utf8_xml_ok(since, strlen(since)))) {
		xu_stanza_free(p);
		return XU_ERR_DATA;
	}
	x = p ? xu_stanza_add_new(p, "x", XU_NS_MUC) : NULL;
	if (!x || xu_stanza_set_attr(p, "to", xu_jid_full(occupant)))
		goto fail;
	if (history >= 0 || since) {
		struct xu_stanza *h = xu_stanza_add_new(x, "history", NULL);

		snprintf(n, sizeof(n), "%d", history);
		if (!h || (history >= 0 && xu_stanza_set_attr(h, "maxstanzas", n)) ||
		    (since && xu_stanza_set_attr(h, "since", since)))
			goto fail;
	}
	if (password) {
		struct xu_stanza *pw = xu_stanza_add_new(x, "password", NULL);

		if (!pw || xu_stanza_add_text(pw, password, strlen(password)))
			goto fail;
	}
	*out = p;
	return XU_OK;
fail:
	xu_stanza_free(p);
	return XU_ERR_NOMEM;
}

bool xu_muc_has_status(const struct xu_stanza *st, const char *code)
{
	const struct xu_stanza *x = xu_stanza_child(st, "x", XU_NS_MUC_USER), *c;

	for (c = x ? xu_stanza_first(x) : NULL; c; c = xu_stanza_next(c))
		if (strcmp(xu_stanza_name(c), "status") == 0 && xu_stanza_attr(c, "code") &&
		    strcmp(xu_stanza_attr(c, "code"), code) == 0)
			return true;
	return false;
}

const char *xu_muc_error_hint(const char *cond)
{
	static const struct {
		const char *cond, *hint;
	} hints[] = {
	    {"conflict", "nickname in use"},
	    {"not-authorized", "password required or wrong"},
	    {"registration-required", "members only"},
	    {"forbidden", "banned, or not allowed"},
	    {"item-not-found", "no such room, or it is locked"},
	    {"not-allowed", "not allowed here: creating this room, or reaching that service"},
	    {"not-acceptable", "the nickname must be the reserved one"},
	    {"service-unavailable", "the room is full or unavailable"},
	    {"remote-server-not-found", "no such chat service"},
	    {"remote-server-timeout", "the chat service does not answer"},
	};
	size_t i;

	for (i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (strcmp(hints[i].cond, cond) == 0)
			return hints[i].hint;
	return NULL;
}

/* ---------------------------------------------------------------- waiting for the room */

/* Whether from is the room itself or one of its occupants. */
static bool muc_from_room(const struct xu_stanza *st, const struct xu_jid *room, struct xu_jid **j)
{
	const char *from = xu_stanza_attr(st, "from"), *why;

	*j = NULL;
	if (!from || xu_jid_parse(from, j, &why) != XU_OK)
		return false;
	if (xu_jid_bare_equal(*j, room))
		return true;
	xu_jid_free(*j);
	*j = NULL;
	return false;
}

/* "condition (hint)" of an error stanza, and the error to report it as. */
static enum xu_err muc_refusal(const struct xu_stanza *st, char *why, size_t whylen)
{
	const struct xu_stanza *e = xu_stanza_child(st, "error", NULL);
	const char *cond = xu_error_condition(e, XU_NS_STANZAS), *hint = xu_muc_error_hint(cond);
	char text[300];

	xu_error_describe(e, XU_NS_STANZAS, text, sizeof(text));
	snprintf(why, whylen, "%s%s%s%s", text, hint ? " (" : "", hint ? hint : "",
	         hint ? ")" : "");
	if (strcmp(cond, "remote-server-not-found") == 0)
		return XU_ERR_NOHOST;
	if (strcmp(cond, "remote-server-timeout") == 0)
		return XU_ERR_TEMP;
	return XU_ERR_REFUSED;
}

struct muc_join {
	const struct xu_jid *room;
	const struct xu_muc_join_opts *o;
	struct xu_jid *self; /* our occupant JID once joined */
	bool created;        /* 201 */
	bool conflict;       /* the error was <conflict/>: another nickname may do */
	enum xu_err err;     /* a presence error, refusing us */
	char *why;
	size_t whylen;
};

static bool muc_join_until(struct xu_conn *conn, void *ctx)
{
	struct muc_join *mj = ctx;
	struct xu_stanza *st;
	struct xu_jid *j;

	while (!mj->self && !mj->err && xu_conn_next(conn, &st) == XU_OK && st) {
		const char *type = xu_stanza_attr(st, "type");

		if (strcmp(xu_stanza_name(st), "presence") == 0 &&
		    muc_from_room(st, mj->room, &j)) {
			if (type && strcmp(type, "error") == 0) {
				mj->err = muc_refusal(st, mj->why, mj->whylen);
				mj->conflict =
				    strcmp(xu_error_condition(xu_stanza_child(st, "error", NULL),
				                              XU_NS_STANZAS),
				           "conflict") == 0;
				xu_jid_free(j);
			} else if ((!type || strcmp(type, "unavailable") != 0) &&
			           xu_muc_has_status(st, "110")) {
				/* Our own presence, under the nick the room gave us (210). */
				mj->self = j;
				mj->created = xu_muc_has_status(st, "201");
			} else {
				if ((!type || strcmp(type, "unavailable") != 0) && mj->o->occupant)
					mj->o->occupant(mj->o->ctx, st);
				xu_jid_free(j);
			}
		}
		/* Anything else before our presence is not what a one-shot command is for. */
		xu_stanza_free(st);
	}
	return mj->self || mj->err;
}

/* One join attempt as occupant. */
static enum xu_err muc_join_once(struct xu_conn *conn, const struct xu_jid *occupant,
                                 struct muc_join *mj)
{
	struct xu_stanza *p = NULL;
	enum xu_err err =
	    xu_muc_join_new(occupant, mj->o->password, mj->o->history, mj->o->since, &p);

	if (err)
		return err;
	err = xu_conn_send(conn, p);
	if (!err)
		err = xu_conn_wait(conn, muc_join_until, mj, "the room to let us in");
	return err;
}

enum xu_err xu_muc_join(struct xu_conn *conn, const struct xu_jid *room, const char *nick,
                        const struct xu_muc_join_opts *o, struct xu_jid **occupant, char *why,
                        size_t whylen)
{
	char occ[3100];
	const char *jwhy = NULL;
	enum xu_err err = XU_OK;
	int attempt;

	*occupant = NULL;
	for (attempt = 1; attempt <= MUC_RENAMES; attempt++) {
		struct muc_join mj = {room, o, NULL, false, false, XU_OK, why, whylen};
		struct xu_jid *want = NULL;

		if (attempt == 1)
			snprintf(occ, sizeof(occ), "%s/%s", xu_jid_bare(room), nick);
		else
			snprintf(occ, sizeof(occ), "%s/%s-%d", xu_jid_bare(room), nick, attempt);
		err = xu_jid_parse(occ, &want, &jwhy);
		if (err) {
			snprintf(why, whylen, "invalid nickname '%s': %s", nick, jwhy);
			return err;
		}
		err = muc_join_once(conn, want, &mj);
		xu_jid_free(want);
		if (err == XU_ERR_DATA) {
			snprintf(why, whylen, "the password holds characters XML cannot carry");
			return err;
		}
		if (err) {
			snprintf(why, whylen, "%s", xu_conn_errmsg(conn));
			return err;
		}
		if (mj.self && mj.created != o->create) {
			/* Sending is no way to create rooms, and creating no way to take one over.
			 */
			xu_muc_leave(conn, mj.self);
			xu_jid_free(mj.self);
			snprintf(why, whylen, "%s",
			         o->create ? "the room exists already"
			                   : "no such room (the service would have created it)");
			return XU_ERR_REFUSED;
		}
		if (mj.self) {
			*occupant = mj.self;
			return XU_OK;
		}
		if (o->no_rename || !mj.conflict)
			return mj.err;
	}
	return XU_ERR_REFUSED; /* every nickname taken: why says conflict */
}

/* ---------------------------------------------------------------- sending */

/* The room's error for one of ours: the connection takes those it can match to what we sent
 * (by id), so a refusal shows as its count going past where it was before we sent. */
static void muc_refused(struct xu_conn *conn, unsigned before, enum xu_err *err, char *why,
                        size_t whylen)
{
	const char *last;

	if (!*err && xu_conn_refused(conn, &last) > before) {
		*err = XU_ERR_REFUSED;
		snprintf(why, whylen, "%s", last);
	}
}

struct muc_send {
	const struct xu_jid *self;
	unsigned refused; /* the connection's count of refusals before we sent */
	char **ids;
	size_t n, confirmed;
	bool *seen;
	enum xu_err err;
	char *why;
	size_t whylen;
};

static bool muc_send_until(struct xu_conn *conn, void *ctx)
{
	struct muc_send *ms = ctx;
	struct xu_stanza *st;
	size_t i;

	muc_refused(conn, ms->refused, &ms->err, ms->why, ms->whylen);
	while (!ms->err && ms->confirmed < ms->n && xu_conn_next(conn, &st) == XU_OK && st) {
		const char *id = xu_stanza_attr(st, "id"), *type = xu_stanza_attr(st, "type");
		struct xu_jid *j = NULL;
		bool ours = strcmp(xu_stanza_name(st), "message") == 0 && id &&
		            muc_from_room(st, ms->self, &j);

		for (i = 0; ours && i < ms->n; i++) {
			if (ms->seen[i] || strcmp(ms->ids[i], id) != 0)
				continue;
			if (type && strcmp(type, "error") == 0) {
				ms->err = muc_refusal(st, ms->why, ms->whylen);
			} else if (type && strcmp(type, "groupchat") == 0 &&
			           xu_jid_equal(j, ms->self)) {
				ms->seen[i] = true; /* reflected: the room has it (XEP-0045 §7.4) */
				ms->confirmed++;
			}
			break;
		}
		xu_jid_free(j);
		xu_stanza_free(st);
	}
	return ms->err || ms->confirmed == ms->n;
}

enum xu_err xu_muc_send(struct xu_conn *conn, const struct xu_jid *occupant,
                        struct xu_stanza **msgs, size_t n, size_t *confirmed, char *why,
                        size_t whylen)
{
	struct muc_send ms = {occupant, xu_conn_refused(conn, NULL), NULL, 0, 0, NULL, XU_OK, why,
	                      whylen};
	enum xu_err err = XU_OK;
	size_t i;

	*confirmed = 0;
	ms.ids = calloc(n ? n : 1, sizeof(*ms.ids));
	ms.seen = calloc(n ? n : 1, sizeof(*ms.seen));
	if (!ms.ids || !ms.seen)
		err = XU_ERR_NOMEM;
	for (i = 0; !err && i < n; i++) {
		ms.ids[i] =
		    xu_stanza_attr(msgs[i], "id") ? strdup(xu_stanza_attr(msgs[i], "id")) : NULL;
		if (!ms.ids[i]) {
			err = XU_ERR_USAGE; /* an id is how the reflection is known */
			break;
		}
		ms.n++;
		err = xu_conn_send(conn, msgs[i]);
		msgs[i] = NULL;
	}
	for (; i < n; i++) {
		xu_stanza_free(msgs[i]);
		msgs[i] = NULL;
	}
	if (!err)
		err = xu_conn_wait(conn, muc_send_until, &ms, "the room to reflect our messages");
	if (err && !ms.err)
		snprintf(why, whylen, "%s",
		         err == XU_ERR_NOMEM   ? "out of memory"
		         : err == XU_ERR_USAGE ? "a message without an id"
		                               : xu_conn_errmsg(conn));
	if (!err)
		err = ms.err;
	*confirmed = ms.confirmed;
	for (i = 0; i < ms.n; i++)
		free(ms.ids[i]);
	free(ms.ids);
	free(ms.seen);
	return err;
}

/* ---------------------------------------------------------------- the subject */

struct muc_subject {
	const struct xu_jid *self;
	const char *text;
	unsigned refused;
	bool done;
	enum xu_err err;
	char *why;
	size_t whylen;
};

/* The room announces a new subject to everyone, us included, from our occupant JID; servers
 * need not keep our id on it (Prosody does not), so the text is what is matched. */
static bool muc_subject_until(struct xu_conn *conn, void *ctx)
{
	struct muc_subject *sj = ctx;
	struct xu_stanza *st;

	muc_refused(conn, sj->refused, &sj->err, sj->why, sj->whylen);
	while (!sj->err && !sj->done && xu_conn_next(conn, &st) == XU_OK && st) {
		const char *subject = xu_stanza_child_text(st, "subject", NULL);
		const char *type = xu_stanza_attr(st, "type");
		struct xu_jid *j = NULL;

		if (strcmp(xu_stanza_name(st), "message") == 0 && type &&
		    strcmp(type, "groupchat") == 0 && subject && strcmp(subject, sj->text) == 0 &&
		    !xu_stanza_child(st, "body", NULL) && muc_from_room(st, sj->self, &j) &&
		    xu_jid_equal(j, sj->self))
			sj->done = true;
		xu_jid_free(j);
		xu_stanza_free(st);
	}
	return sj->err || sj->done;
}

enum xu_err xu_muc_set_subject(struct xu_conn *conn, const struct xu_jid *occupant,
                               const char *text, char *why, size_t whylen)
{
	struct muc_subject sj = {occupant, text,  xu_conn_refused(conn, NULL), false, XU_OK,
	                         why,      whylen};
	struct xu_jid *room = NULL;
	struct xu_stanza *m = NULL;
	const char *mwhy = NULL;
	enum xu_err err = xu_jid_to_bare(occupant, &room);

	if (!err)
		err = xu_message_new(room, "groupchat", NULL, text, NULL, NULL, &m, &mwhy);
	xu_jid_free(room);
	if (err) {
		snprintf(why, whylen, "%s", mwhy ? mwhy : xu_err_str(err));
		return err;
	}
	err = xu_conn_send(conn, m);
	if (!err)
		err =
		    xu_conn_wait(conn, muc_subject_until, &sj, "the room to announce the subject");
	if (err && !sj.err)
		snprintf(why, whylen, "%s", xu_conn_errmsg(conn));
	return err ? err : sj.err;
}

/* ---------------------------------------------------------------- leaving */

enum xu_err xu_muc_leave(struct xu_conn *conn, const struct xu_jid *occupant)
{
	struct xu_stanza *p = xu_stanza_new("presence", XU_NS_CLIENT);
	enum xu_err err;

	if (!p || xu_stanza_set_attr(p, "to", xu_jid_full(occupant)) ||
	    xu_stanza_set_attr(p, "type", "unavailable")) {
		xu_stanza_free(p);
		return XU_ERR_NOMEM;
	}
	/* XEP-0045 §7.14. The server confirming it is enough: the room's own unavailable
	 * presence for us may come after we are gone. */
	err = xu_conn_send(conn, p);
	return err ? err : xu_conn_flush(conn);
}

/* ---------------------------------------------------------------- administration */

static struct xu_stanza *muc_iq(const struct xu_jid *room, const char *type, const char *ns,
                                struct xu_stanza **q)
{
	struct xu_stanza *iq = xu_stanza_new("iq", XU_NS_CLIENT);

	*q = iq ? xu_stanza_add_new(iq, "query", ns) : NULL;
	if (!*q || xu_stanza_set_attr(iq, "type", type) ||
	    xu_stanza_set_attr(iq, "to", xu_jid_bare(room))) {
		xu_stanza_free(iq);
		return NULL;
	}
	return iq;
}

/* <reason>text</reason> under el, when text is given and XML can carry it. */
static enum xu_err muc_reason(struct xu_stanza *el, const char *text)
{
	struct xu_stanza *r;

	if (!text)
		return XU_OK;
	if (!xu_utf8_xml_ok(text, strlen(text)))
		return XU_ERR_DATA;
	r = xu_stanza_add_new(el, "reason", NULL);
	return r ? xu_stanza_add_text(r, text, strlen(text)) : XU_ERR_NOMEM;
}

enum xu_err xu_muc_admin_iq(const struct xu_jid *room, const char *nick, const char *jid,
                            const char *role, const char *affiliation, const char *reason,
                            struct xu_stanza **out)
{
	struct xu_stanza *q, *iq = muc_iq(room, "set", XU_NS_MUC_ADMIN, &q), *item;
	enum xu_err err = XU_ERR_NOMEM;

	*out = NULL;
	item = iq ? xu_stanza_add_new(q, "item", NULL) : NULL;
	if (item && !(nick && xu_stanza_set_attr(item, "nick", nick)) &&
	    !(jid && xu_stanza_set_attr(item, "jid", jid)) &&
	    !(role && xu_stanza_set_attr(item, "role", role)) &&
	    !(affiliation && xu_stanza_set_attr(item, "affiliation", affiliation)))
		err = muc_reason(item, reason);
	if (err) {
		xu_stanza_free(iq);
		return err;
	}
	*out = iq;
	return XU_OK;
}

enum xu_err xu_muc_owner_iq(const struct xu_jid *room, struct xu_stanza *form,
                            struct xu_stanza **out)
{
	struct xu_stanza *q, *iq = muc_iq(room, form ? "set" : "get", XU_NS_MUC_OWNER, &q);

	*out = NULL;
	if (!iq || (form && xu_stanza_add_child(q, form))) {
		if (!iq)
			xu_stanza_free(form);
		xu_stanza_free(iq);
		return XU_ERR_NOMEM;
	}
	*out = iq;
	return XU_OK;
}

enum xu_err xu_muc_destroy_iq(const struct xu_jid *room, const char *reason, struct xu_stanza **out)
{
	struct xu_stanza *q, *iq = muc_iq(room, "set", XU_NS_MUC_OWNER, &q), *d;
	enum xu_err err;

	*out = NULL;
	d = iq ? xu_stanza_add_new(q, "destroy", NULL) : NULL;
	err = d ? muc_reason(d, reason) : XU_ERR_NOMEM;
	if (err) {
		xu_stanza_free(iq);
		return err;
	}
	*out = iq;
	return XU_OK;
}

enum xu_err xu_muc_invite_new(const struct xu_jid *room, const char *to, const char *reason,
                              bool direct, struct xu_stanza **out)
{
	struct xu_stanza *m = xu_stanza_new("message", XU_NS_CLIENT), *x, *inv;
	enum xu_err err = XU_ERR_NOMEM;

	*out = NULL;
	if (reason && !xu_utf8_xml_ok(reason, strlen(reason))) {
		xu_stanza_free(m);
		return XU_ERR_DATA;
	}
	if (!m)
		return XU_ERR_NOMEM;
	if (direct) {
		/* XEP-0249: to the invitee, naming the room. */
		x = xu_stanza_add_new(m, "x", "jabber:x:conference");
		if (x && !xu_stanza_set_attr(m, "to", to) &&
		    !xu_stanza_set_attr(x, "jid", xu_jid_bare(room)) &&
		    !(reason && xu_stanza_set_attr(x, "reason", reason)))
			err = XU_OK;
	} else {
		/* XEP-0045 §7.8.2: to the room, which passes it on. */
		x = xu_stanza_add_new(m, "x", XU_NS_MUC_USER);
		inv = x ? xu_stanza_add_new(x, "invite", NULL) : NULL;
		if (inv && !xu_stanza_set_attr(m, "to", xu_jid_bare(room)) &&
		    !xu_stanza_set_attr(inv, "to", to))
			err = muc_reason(inv, reason);
	}
	if (err) {
		xu_stanza_free(m);
		return err;
	}
	*out = m;
	return XU_OK;
}
