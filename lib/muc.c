/* muc.c: multi-user chat rooms (XEP-0045) for one-shot use: join and wait for our own presence,
 * send and wait for the room to reflect each message, leave. A room message either arrives or
 * the caller learns exactly why not. */
#include "xu-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MUC_RENAMES 9 /* nick, then nick-2 .. nick-9 */

enum xu_err xu_muc_join_new(const struct xu_jid *occupant, const char *password, int history,
                            struct xu_stanza **out)
{
	struct xu_stanza *p = xu_stanza_new("presence", XU_NS_CLIENT), *x;
	char n[16];

	*out = NULL;
	if (password && !xu_utf8_xml_ok(password, strlen(password))) {
		xu_stanza_free(p);
		return XU_ERR_DATA;
	}
	x = p ? xu_stanza_add_new(p, "x", XU_NS_MUC) : NULL;
	if (!x || xu_stanza_set_attr(p, "to", xu_jid_full(occupant)))
		goto fail;
	if (history >= 0) {
		struct xu_stanza *h = xu_stanza_add_new(x, "history", NULL);

		snprintf(n, sizeof(n), "%d", history);
		if (!h || xu_stanza_set_attr(h, "maxstanzas", n))
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
	struct xu_jid *self;  /* our occupant JID once joined */
	bool created, failed; /* 201; a presence error */
	bool conflict;        /* the error was <conflict/>: another nickname may do */
	enum xu_err err;
	char *why;
	size_t whylen;
};

static bool muc_join_until(struct xu_conn *conn, void *ctx)
{
	struct muc_join *mj = ctx;
	struct xu_stanza *st;
	struct xu_jid *j;

	while (!mj->self && !mj->failed && xu_conn_next(conn, &st) == XU_OK && st) {
		const char *type = xu_stanza_attr(st, "type");

		if (strcmp(xu_stanza_name(st), "presence") == 0 &&
		    muc_from_room(st, mj->room, &j)) {
			if (type && strcmp(type, "error") == 0) {
				mj->failed = true;
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
				xu_jid_free(j);
			}
		}
		/* Other occupants, history, the subject: not what a one-shot command is for. */
		xu_stanza_free(st);
	}
	return mj->self || mj->failed;
}

/* One join attempt as occupant; no history (a one-shot command does not read it). */
static enum xu_err muc_join_once(struct xu_conn *conn, const struct xu_jid *occupant,
                                 const char *password, struct muc_join *mj)
{
	struct xu_stanza *p = NULL;
	enum xu_err err = xu_muc_join_new(occupant, password, 0, &p);

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
		struct muc_join mj = {room, NULL, false, false, false, XU_OK, why, whylen};
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
		err = muc_join_once(conn, want, o->password, &mj);
		xu_jid_free(want);
		if (err == XU_ERR_DATA) {
			snprintf(why, whylen, "the password holds characters XML cannot carry");
			return err;
		}
		if (err) {
			snprintf(why, whylen, "%s", xu_conn_errmsg(conn));
			return err;
		}
		if (mj.self && mj.created) {
			/* We just made it: sending is no way to create rooms (xmpp-muc create is).
			 */
			xu_muc_leave(conn, mj.self);
			xu_jid_free(mj.self);
			snprintf(why, whylen, "no such room (the service would have created it)");
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
	const char *last;
	size_t i;

	/* The room's error for one of ours: the connection takes those it can match. */
	if (!ms->err && xu_conn_refused(conn, &last) > ms->refused) {
		ms->err = XU_ERR_REFUSED;
		snprintf(ms->why, ms->whylen, "%s", last);
	}
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
