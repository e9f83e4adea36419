/* muc.c: xmpp-muc: chat rooms from the shell (XEP-0045, XEP-0249): options, the commands'
 * table, the shared helpers, and `send`, a room message confirmed by the room itself.
 *
 * usage: xmpp-muc [OPTIONS] COMMAND ROOM [ARG...]
 */
#include "muc.h"
#include "rooms.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MUC_MAX_INPUT (1024u * 1024)
#define MUC_MAX_LINE (1024u * 1024)

struct muc_options muc_opts;

static struct poptOption muc_table[] = {
    {"message", 'm', POPT_ARG_STRING, &muc_opts.message, CMD_STR,
     "send: message text (default: read stdin)", "TEXT"},
    {"lines", 0, POPT_ARG_NONE, &muc_opts.lines, 0,
     "send: each line of stdin is a message, sent as it arrives", NULL},
    {"nick", 0, POPT_ARG_STRING, &muc_opts.nick, CMD_STR,
     "nickname in the room (default: the account's localpart)", "NICK"},
    {"room-password", 0, POPT_ARG_STRING, &muc_opts.room_password, CMD_STR,
     "the room's password (better: $XMPP_ROOM_PASSWORD)", "PASSWORD"},
    {"no-rename", 0, POPT_ARG_NONE, &muc_opts.no_rename, 0,
     "fail when the nickname is in use instead of trying NICK-2 .. NICK-9", NULL},
    {"format", 'f', POPT_ARG_STRING, &muc_opts.format, CMD_STR,
     "output format: text, json or xml (default text)", "FMT"},
    CMD_COLOR_OPTION(muc_opts.color),
    {"config", 0, POPT_ARG_ARGV, &muc_opts.config, 0,
     "create: configure KEY=VALUE (name, description, persistent, members-only, password, "
     "moderated, public, max-users, or a muc#roomconfig_ field; repeatable)",
     "KEY=VALUE"},
    {"set", 0, POPT_ARG_ARGV, &muc_opts.set, 0,
     "config: change KEY=VALUE (repeatable); subject: the new subject", "VALUE"},
    {"reason", 0, POPT_ARG_STRING, &muc_opts.reason, CMD_STR,
     "invite, kick, ban, role, affiliation, destroy: the reason given", "TEXT"},
    {"direct", 0, POPT_ARG_NONE, &muc_opts.direct, 0,
     "invite: send the invitation directly to the invitee (XEP-0249)", NULL},
    {"max", 0, POPT_ARG_INT, &muc_opts.max, 0, "history: at most N messages (default 20)", "N"},
    {"since", 0, POPT_ARG_STRING, &muc_opts.since, CMD_STR,
     "history: only messages since TIME (XEP-0082, e.g. 2026-11-25T08:00:00Z)", "TIME"},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, cmd_common_table, 0, "Connection options:", NULL},
    POPT_TABLEEND,
};

/* ---------------------------------------------------------------- shared helpers */

int muc_emit(enum xu_rec_format fmt, const struct xu_stanza *st, const char *const *keys,
             const char *const *vals, size_t n)
{
	char *out = NULL;
	size_t len = 0;
	enum xu_err err = xu_fields_format(fmt, st, keys, vals, n, &out, &len);

	return cmd_put(err, out, len);
}

int muc_print_message(enum xu_rec_format fmt, const struct xu_stanza *st)
{
	struct xu_record rec;
	char *out = NULL;
	size_t len = 0;
	enum xu_err err;

	if (!xu_stanza_child(st, "body", NULL) ||
	    xu_record_from_stanza(st, cmd_wall_ms(), &rec) != XU_OK)
		return 0;
	err = xu_record_format(&rec, fmt, false, &out, &len);
	xu_record_clear(&rec);
	return cmd_put(err, out, len);
}

int muc_iq(struct muc_run *r, struct xu_stanza *iq, const char *what, struct xu_stanza **reply)
{
	struct xu_stanza *ans = NULL;
	const char *type, *cond, *hint;
	char why[400];
	enum xu_err err = xu_conn_iq(r->conn, iq, &ans);

	if (reply)
		*reply = NULL;
	if (err)
		return cmd_fail(err, "%s", xu_conn_errmsg(r->conn));
	type = xu_stanza_attr(ans, "type");
	if (!type || strcmp(type, "result") != 0) {
		const struct xu_stanza *e = xu_stanza_child(ans, "error", NULL);
		int rc;

		cond = xu_error_condition(e, XU_NS_STANZAS);
		hint = xu_muc_error_hint(cond);
		xu_error_describe(e, XU_NS_STANZAS, why, sizeof(why));
		rc = cmd_fail(strcmp(cond, "remote-server-not-found") == 0 ? XU_ERR_NOHOST
		                                                           : XU_ERR_REFUSED,
		              "cannot %s %s: %s%s%s%s", what, xu_jid_bare(r->room), why,
		              hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
		xu_stanza_free(ans);
		return rc;
	}
	if (reply)
		*reply = ans;
	else
		xu_stanza_free(ans);
	return 0;
}

int muc_join(struct muc_run *r, struct xu_muc_join_opts *o, struct xu_jid **self)
{
	const char *nick = muc_opts.nick ? muc_opts.nick : xu_jid_local(xu_conn_jid(r->conn));
	char why[600];
	enum xu_err err;

	o->password = muc_opts.room_password;
	o->no_rename = muc_opts.no_rename;
	err = xu_muc_join(r->conn, r->room, nick, o, self, why, sizeof(why));
	if (err)
		return cmd_fail(err, "cannot %s %s: %s", o->create ? "create" : "join",
		                xu_jid_bare(r->room), why);
	return 0;
}

/* ---------------------------------------------------------------- send */

static int muc_send(struct muc_run *r)
{
	struct xu_jid **rooms = cmd_xmalloc((r->nargs + 1) * sizeof(*rooms));
	struct cmd_rooms cr;
	char *body = NULL;
	size_t n = 1, i;
	int rc = 0;

	rooms[0] = r->room;
	for (i = 0; !rc && i < r->nargs; i++) {
		const char *why = NULL;
		enum xu_err err = xu_jid_parse(r->args[i], &rooms[n], &why);

		if (!err && (!xu_jid_local(rooms[n]) || xu_jid_resource(rooms[n]))) {
			xu_jid_free(rooms[n]);
			err = XU_ERR_DATA;
			why = "a room is room@service (no /nick: see --nick)";
		}
		if (err)
			rc = cmd_fail(err, "invalid room '%s': %s", r->args[i],
			              why ? why : xu_err_str(err));
		else
			n++;
	}
	if (!rc && !muc_opts.lines)
		rc = cmd_body(muc_opts.message, MUC_MAX_INPUT, &body);
	if (!rc && !muc_opts.lines && !*body)
		rc = cmd_fail(XU_ERR_DATA, "empty message (nothing on stdin, or -m '')");
	if (!rc) {
		memset(&cr, 0, sizeof(cr));
		cr.nick = muc_opts.nick;
		cr.join.password = muc_opts.room_password;
		cr.join.no_rename = muc_opts.no_rename;
		rc = muc_opts.lines ? cmd_rooms_lines(r->conn, rooms, n, &cr, MUC_MAX_LINE)
		                    : cmd_rooms_send(r->conn, rooms, n, &cr, body);
	}
	for (i = 1; i < n; i++)
		xu_jid_free(rooms[i]);
	free(rooms);
	free(body);
	return rc;
}

/* ---------------------------------------------------------------- the commands */

static const struct muc_cmd {
	const char *name;
	int (*run)(struct muc_run *r);
	int min_args, max_args; /* after the room; -1: any */
	bool service;           /* the first argument is a chat service, not a room */
	bool queue;             /* reads what the room sends (joins) */
} muc_cmds[] = {
    {"send", muc_send, 0, -1, false, true},
    {"join", muc_stay, 0, 0, false, true},
    {"info", muc_info, 0, 0, false, false},
    {"list", muc_list, 0, 0, true, false},
    {"config", NULL, 0, 0, false, false}, /* show or --set */
    {"occupants", muc_occupants, 0, 0, false, true},
    {"subject", muc_subject, 0, 0, false, true},
    {"history", muc_history, 0, 0, false, true},
    {"create", muc_create, 0, 0, false, true},
    {"destroy", muc_destroy, 0, 0, false, false},
    {"invite", muc_invite, 1, 1, false, true},
    {"kick", muc_admin, 1, 1, false, true},
    {"ban", muc_admin, 1, 1, false, false},
    {"role", muc_admin, 2, 2, false, true},
    {"affiliation", muc_admin, 2, 2, false, false},
};

/* The command, its room (or service) and arguments, checked before connecting. */
static int muc_args(poptContext pc, struct muc_run *r, const struct muc_cmd **cmd)
{
	const char *arg, *room, *why = NULL;
	enum xu_err err;
	size_t i;

	r->cmd = poptGetArg(pc);
	if (!r->cmd)
		return cmd_fail(XU_ERR_USAGE, "no command given (try --help)");
	for (i = 0, *cmd = NULL; i < sizeof(muc_cmds) / sizeof(muc_cmds[0]); i++)
		if (strcmp(muc_cmds[i].name, r->cmd) == 0)
			*cmd = &muc_cmds[i];
	if (!*cmd)
		return cmd_fail(XU_ERR_USAGE, "unknown command '%s' (try --help)", r->cmd);
	room = poptGetArg(pc);
	if (!room)
		return cmd_fail(XU_ERR_USAGE, "%s: no %s given", r->cmd,
		                (*cmd)->service ? "chat service" : "room");
	while ((arg = poptGetArg(pc)) != NULL) {
		r->args = cmd_xrealloc(r->args, (r->nargs + 1) * sizeof(*r->args));
		r->args[r->nargs++] = arg;
	}
	if ((int)r->nargs < (*cmd)->min_args ||
	    ((*cmd)->max_args >= 0 && (int)r->nargs > (*cmd)->max_args))
		return cmd_fail(XU_ERR_USAGE, "%s: wrong number of arguments (try --help)", r->cmd);
	err = xu_jid_parse(room, &r->room, &why);
	if (!err && ((*cmd)->service ? xu_jid_local(r->room) != NULL : !xu_jid_local(r->room))) {
		err = XU_ERR_DATA;
		why = (*cmd)->service ? "a chat service is a domain (conference.example.org)"
		                      : "a room is room@service";
	}
	if (!err && xu_jid_resource(r->room)) {
		err = XU_ERR_DATA;
		why = "no /nick here: see --nick";
	}
	if (err)
		return cmd_fail(err, "invalid %s '%s': %s", (*cmd)->service ? "service" : "room",
		                room, why ? why : xu_err_str(err));
	return 0;
}

static int muc_run(poptContext pc)
{
	const struct muc_cmd *cmd = NULL;
	struct muc_run r;
	struct cmd_conn cc;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&cc, 0, sizeof(cc));
	if (!muc_opts.room_password && getenv("XMPP_ROOM_PASSWORD")) {
		/* Kept off argv, like the account password. */
		muc_opts.room_password = cmd_xstrdup(getenv("XMPP_ROOM_PASSWORD"));
		unsetenv("XMPP_ROOM_PASSWORD");
	}
	rc = cmd_format(muc_opts.format, muc_opts.color, &r.fmt);
	if (!rc)
		rc = muc_args(pc, &r, &cmd);
	if (!rc && muc_opts.max < 0)
		rc = cmd_fail(XU_ERR_USAGE, "--max must not be negative");
	if (!rc && muc_opts.lines && (strcmp(r.cmd, "send") != 0 || muc_opts.message))
		rc = cmd_fail(XU_ERR_USAGE, "--lines goes with send, without -m");
	if (!rc)
		rc = cmd_conn_setup(&cc);
	/* --lines and join may sit idle for days: probe a silent server after --timeout
	 * seconds, so a dead link ends the run. */
	if (!rc && (muc_opts.lines || strcmp(r.cmd, "join") == 0))
		cc.opts.keepalive_ms = cc.opts.timeout_ms;
	if (!rc) {
		cc.opts.queue_stanzas = cmd->queue;
		rc = cmd_connect(&cc, &r.conn);
	}
	if (!rc && cmd->run)
		rc = cmd->run(&r);
	else if (!rc)
		rc = muc_opts.set ? muc_config_set(&r) : muc_config_show(&r);
	if (r.conn) {
		xu_conn_set_timeout(r.conn, cc.opts.timeout_ms);
		if (xu_conn_close(r.conn) != XU_OK && !rc && cmd_opts.verbose)
			cmd_note("closing: %s", xu_conn_errmsg(r.conn));
	}
	xu_conn_free(r.conn);
	xu_jid_free(r.room);
	free(r.args);
	cmd_conn_free(&cc);
	return rc;
}

int main(int argc, const char **argv)
{
	poptContext pc;
	int rc;

	cmd_prog = "xmpp-muc";
	rc = cmd_parse(argc, argv, muc_table,
	               "COMMAND ROOM [ARG...]\n"
	               "  send ROOM... [-m TEXT]     join ROOM (until a signal)\n"
	               "  info | occupants | subject [--set TEXT] ROOM\n"
	               "  history ROOM [--max N]     list SERVICE\n"
	               "  create ROOM [--config K=V]...    config ROOM [--set K=V]...\n"
	               "  invite ROOM JID [--direct]       kick ROOM NICK    ban ROOM JID\n"
	               "  role ROOM NICK ROLE    affiliation ROOM JID AFFILIATION    destroy ROOM",
	               &pc);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = muc_run(pc);
	poptFreeContext(pc);
	return rc;
}
