/* rooms.c: see rooms.h. */
#include "rooms.h"

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
