/* muc.c: xmpp-muc: chat rooms from the shell (XEP-0045). This release has `send`: a room
 * message that is confirmed by the room itself, or an exit status that says why not.
 *
 * usage: xmpp-muc [OPTIONS] send ROOM... [-m TEXT]
 */
#include "common.h"
#include "rooms.h"

#include <stdlib.h>
#include <string.h>

#define MUC_MAX_INPUT (1024u * 1024)

static struct {
	char *message;
	char *nick;
	char *room_password;
	int no_rename;
} muc_opts;

static struct poptOption muc_table[] = {
    {"message", 'm', POPT_ARG_STRING, &muc_opts.message, CMD_STR,
     "send: message text (default: read stdin)", "TEXT"},
    {"nick", 0, POPT_ARG_STRING, &muc_opts.nick, CMD_STR,
     "nickname in the room (default: the account's localpart)", "NICK"},
    {"room-password", 0, POPT_ARG_STRING, &muc_opts.room_password, CMD_STR,
     "the room's password (better: $XMPP_ROOM_PASSWORD)", "PASSWORD"},
    {"no-rename", 0, POPT_ARG_NONE, &muc_opts.no_rename, 0,
     "fail when the nickname is in use instead of trying NICK-2 .. NICK-9", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, cmd_common_table, 0, "Connection options:", NULL},
    POPT_TABLEEND,
};

/* The rooms after the command: bare JIDs with a localpart (room@service). */
static int muc_rooms(poptContext pc, struct xu_jid ***rooms, size_t *n)
{
	const char *arg;

	while ((arg = poptGetArg(pc)) != NULL) {
		struct xu_jid *j = NULL;
		const char *why = NULL;
		enum xu_err err = xu_jid_parse(arg, &j, &why);

		if (!err && (!xu_jid_local(j) || xu_jid_resource(j))) {
			xu_jid_free(j);
			return cmd_fail(XU_ERR_DATA,
			                "%s: a room is room@service (no /nick: see --nick)", arg);
		}
		if (err)
			return cmd_fail(err, "invalid room '%s': %s", arg,
			                why ? why : xu_err_str(err));
		*rooms = cmd_xrealloc(*rooms, (*n + 1) * sizeof(**rooms));
		(*rooms)[(*n)++] = j;
	}
	if (!*n)
		return cmd_fail(XU_ERR_USAGE, "send: no room given (xmpp-muc send ROOM -m TEXT)");
	return 0;
}

static int muc_run(poptContext pc)
{
	const char *cmd = poptGetArg(pc);
	struct xu_jid **rooms = NULL;
	struct cmd_rooms r;
	struct cmd_conn cc;
	struct xu_conn *conn = NULL;
	char *body = NULL;
	size_t n = 0, i;
	int rc;

	memset(&cc, 0, sizeof(cc));
	memset(&r, 0, sizeof(r));
	if (!cmd)
		return cmd_fail(XU_ERR_USAGE, "no command given (try --help)");
	if (strcmp(cmd, "send") != 0)
		return cmd_fail(XU_ERR_USAGE, "unknown command '%s' (this release has: send)", cmd);
	if (!muc_opts.room_password && getenv("XMPP_ROOM_PASSWORD")) {
		/* Kept off argv, like the account password. */
		muc_opts.room_password = cmd_xstrdup(getenv("XMPP_ROOM_PASSWORD"));
		unsetenv("XMPP_ROOM_PASSWORD");
	}
	rc = muc_rooms(pc, &rooms, &n);
	if (!rc)
		rc = cmd_body(muc_opts.message, MUC_MAX_INPUT, &body);
	if (!rc && !*body)
		rc = cmd_fail(XU_ERR_DATA, "empty message (nothing on stdin, or -m '')");
	if (!rc)
		rc = cmd_conn_setup(&cc);
	if (!rc) {
		cc.opts.queue_stanzas = true;
		rc = cmd_connect(&cc, &conn);
	}
	if (!rc) {
		r.nick = muc_opts.nick;
		r.join.password = muc_opts.room_password;
		r.join.no_rename = muc_opts.no_rename;
		rc = cmd_rooms_send(conn, rooms, n, &r, body);
		if (xu_conn_close(conn) != XU_OK && !rc && cmd_opts.verbose)
			cmd_note("closing: %s", xu_conn_errmsg(conn));
	}
	xu_conn_free(conn);
	cmd_conn_free(&cc);
	for (i = 0; i < n; i++)
		xu_jid_free(rooms[i]);
	free(rooms);
	free(body);
	return rc;
}

int main(int argc, const char **argv)
{
	poptContext pc;
	int rc;

	cmd_prog = "xmpp-muc";
	rc = cmd_parse(argc, argv, muc_table, "send ROOM... [-m TEXT]", &pc);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = muc_run(pc);
	poptFreeContext(pc);
	return rc;
}
