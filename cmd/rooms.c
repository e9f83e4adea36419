/* rooms.c: see rooms.h. */
#include "rooms.h"

#include "lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One room: join, send, confirm, leave. Returns 0 or an exit code (message printed). */
static int rooms_one(struct xu_conn *conn, const struct xu_jid *room, const struct cmd_rooms *r,
                     const char *body)
{
	const char *nick = r->nick ? r->nick : xu_jid_local(xu_conn_jid(conn));
	struct xu_jid *self = NULL;
	struct xu_stanza *m = NULL;
	const char *mwhy = NULL;
	char why[600];
	size_t confirmed = 0;
	enum xu_err err;

	err = xu_muc_join(conn, room, nick, &r->join, &self, why, sizeof(why));
	if (err)
		return cmd_fail(err, "cannot join %s: %s", xu_jid_bare(room), why);
	if (cmd_opts.verbose)
		cmd_note("joined %s as %s", xu_jid_bare(room), xu_jid_resource(self));
	err = xu_message_new(room, "groupchat", body, r->subject, r->thread, NULL, &m, &mwhy);
	if (err) {
		xu_muc_leave(conn, self);
		xu_jid_free(self);
		return cmd_fail(err, "%s", mwhy ? mwhy : xu_err_str(err));
	}
	err = xu_muc_send(conn, self, &m, 1, &confirmed, why, sizeof(why));
	if (err) {
		xu_jid_free(self);
		return cmd_fail(err, "%s did not take the message: %s", xu_jid_bare(room), why);
	}
	err = xu_muc_leave(conn, self);
	xu_jid_free(self);
	/* Reflected means delivered; leaving is a courtesy whose failure loses nothing. */
	if (err && cmd_opts.verbose)
		cmd_note("leaving %s: %s", xu_jid_bare(room), xu_conn_errmsg(conn));
	return 0;
}

int cmd_rooms_send(struct xu_conn *conn, struct xu_jid *const *rooms, size_t n,
                   const struct cmd_rooms *r, const char *body)
{
	int first = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int rc = rooms_one(conn, rooms[i], r, body);

		if (rc && !first)
			first = rc;
		/* A room's refusal leaves the connection fit for the next room; anything else
		 * (lost, timed out, protocol) does not. */
		if (rc && rc != cmd_exit_code(XU_ERR_REFUSED) && rc != cmd_exit_code(XU_ERR_DATA) &&
		    rc != cmd_exit_code(XU_ERR_NOHOST))
			break;
	}
	return first;
}

/* --lines to rooms: every room joined once, then each line sent to each and confirmed by its
 * reflection before the next; a room that fails is reported and dropped, the others go on. */
struct rooms_lines {
	struct xu_jid **self; /* our occupant JID in each room, NULL once it failed */
	struct xu_jid *const *rooms;
	size_t n;
	const struct cmd_rooms *r;
	int first; /* exit code of the first failure */
};

static int rooms_line(struct cmd_lines *l, const char *text, const char *where)
{
	struct rooms_lines *rl = l->ctx;
	size_t i, confirmed;
	char why[600];

	for (i = 0; i < rl->n; i++) {
		struct xu_stanza *m = NULL;
		const char *mwhy = NULL;
		enum xu_err err;
		int rc;

		if (!rl->self[i])
			continue;
		err = xu_message_new(rl->rooms[i], "groupchat", text, rl->r->subject, rl->r->thread,
		                     NULL, &m, &mwhy);
		if (err)
			return cmd_fail(err, "%s: %s", where, mwhy ? mwhy : xu_err_str(err));
		err = xu_muc_send(l->conn, rl->self[i], &m, 1, &confirmed, why, sizeof(why));
		if (!err)
			continue;
		rc = cmd_fail(err, "%s did not take %s: %s", xu_jid_bare(rl->rooms[i]), where, why);
		if (!rl->first)
			rl->first = rc;
		/* The connection failed: that one line says it all. */
		if (err != XU_ERR_REFUSED)
			return rc;
		xu_jid_free(rl->self[i]);
		rl->self[i] = NULL;
	}
	return 0;
}

int cmd_rooms_lines(struct xu_conn *conn, struct xu_jid *const *rooms, size_t n,
                    const struct cmd_rooms *r, size_t max)
{
	struct rooms_lines rl = {NULL, rooms, n, r, 0};
	struct cmd_lines l = {conn, rooms_line, NULL, NULL, &rl, XU_OK, 0};
	const char *nick = r->nick ? r->nick : xu_jid_local(xu_conn_jid(conn));
	char why[600];
	size_t i;
	int rc = 0;

	rl.self = cmd_xmalloc((n ? n : 1) * sizeof(*rl.self));
	for (i = 0; i < n; i++) {
		enum xu_err err =
		    xu_muc_join(conn, rooms[i], nick, &r->join, &rl.self[i], why, sizeof(why));

		if (err) {
			rc = cmd_fail(err, "cannot join %s: %s", xu_jid_bare(rooms[i]), why);
			rl.first = rl.first ? rl.first : rc;
			rl.self[i] = NULL;
		}
	}
	for (i = 0; i < n && !rl.self[i]; i++)
		;
	if (i == n) { /* no room took us: nothing to read stdin for */
		free(rl.self);
		return rl.first;
	}
	rc = cmd_lines(&l, max);
	if (rc < 0)
		rc = cmd_fail(l.err, "%s", xu_conn_errmsg(conn));
	for (i = 0; i < n; i++) {
		if (rl.self[i] && rc >= 0)
			xu_muc_leave(conn, rl.self[i]);
		xu_jid_free(rl.self[i]);
	}
	free(rl.self);
	return rl.first ? rl.first : rc;
}
