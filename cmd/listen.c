/* listen.c: xmpp-listen: print (or hand to a command) every message that arrives, one record
 * each, for as long as it runs, reconnecting when the connection is lost.
 *
 * usage: xmpp-listen [OPTIONS]
 * Records: text (one escaped line), JSON Lines or one-line XML; --exec runs a command per
 * record (fields in XMPP_* variables, body on stdin), --reply sends its output back.
 * --state FILE: after a restart, what the account's archive got meanwhile comes first
 * (XEP-0313), and lost connections resume their session (XEP-0198) where the server allows;
 * on a terminal, that catch-up shows its progress on stderr (cmd/progress.c).
 * RFC 6120, RFC 6121 §4-5, XEP-0030, XEP-0092, XEP-0115, XEP-0184, XEP-0198, XEP-0199,
 * XEP-0203, XEP-0313, XEP-0359.
 */
#include "common.h"
#include "progress.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#define LISTEN_REPLY_MAX (64u * 1024)
#define LISTEN_BACKOFF_MAX_S 60
/* Silence after which the server is probed, so a dead link is noticed within minutes. */
#define LISTEN_KEEPALIVE_MS (60u * 1000)
/* Archive page size we ask for (servers may cap it lower: Prosody's default is 50). */
#define LISTEN_MAM_PAGE 100
/* What handling a record returns besides 0 and exit codes: --count reached (the record was
 * handled), or a record abandoned half-way because the run is ending (it was not). */
#define LISTEN_DONE (-1)
#define LISTEN_ABANDONED (-2)

static struct {
	char *format;
	char *color;
	int null;
	const char **from;
	const char **type;
	int presence;
	int all;
	int count;
	int timeout;
	int idle;
	char *exec;
	int reply;
	int priority;
	char *status;
	char *show;
	int carbons;
	int include_own;
	const char **room;
	char *room_password;
	char *state;
} listen_opts;

static struct poptOption listen_table[] = {
    {"format", 'f', POPT_ARG_STRING, &listen_opts.format, CMD_STR,
     "record format: text, json or xml (default text)", "FMT"},
    CMD_COLOR_OPTION(listen_opts.color),
    {"null", '0', POPT_ARG_NONE, &listen_opts.null, 0,
     "end records with NUL (text keeps bodies byte-exact)", NULL},
    {"from", 0, POPT_ARG_ARGV, &listen_opts.from, 0, "only messages from JID (repeatable)", "JID"},
    {"type", 't', POPT_ARG_ARGV, &listen_opts.type, 0,
     "only messages of TYPE: chat, normal, headline, groupchat, error (repeatable)", "TYPE"},
    {"presence", 0, POPT_ARG_NONE, &listen_opts.presence, 0, "also print presence changes", NULL},
    {"all", 0, POPT_ARG_NONE, &listen_opts.all, 0, "also messages without a body", NULL},
    {"count", 'n', POPT_ARG_INT, &listen_opts.count, 0, "exit 0 after N records", "N"},
    {"timeout", 0, POPT_ARG_INT, &listen_opts.timeout, 0,
     "exit 0 after SECONDS (default 0: run forever)", "SECONDS"},
    {"idle", 0, POPT_ARG_INT, &listen_opts.idle, 0, "exit 0 when nothing arrived for SECONDS",
     "SECONDS"},
    {"exec", 'e', POPT_ARG_STRING, &listen_opts.exec, CMD_STR,
     "run CMD for every record (body on stdin, fields in XMPP_*)", "CMD"},
    {"reply", 0, POPT_ARG_NONE, &listen_opts.reply, 0,
     "with --exec: send CMD's output back to the sender", NULL},
    {"priority", 0, POPT_ARG_INT, &listen_opts.priority, 0, "presence priority (default 0)", "N"},
    {"status", 0, POPT_ARG_STRING, &listen_opts.status, CMD_STR, "presence status text", "TEXT"},
    {"show", 0, POPT_ARG_STRING, &listen_opts.show, CMD_STR, "presence show: away, chat, dnd or xa",
     "SHOW"},
    {"room", 0, POPT_ARG_ARGV, &listen_opts.room, 0,
     "join ROOM (as NICK, default the account's localpart) and print its messages "
     "(repeatable)",
     "ROOM[/NICK]"},
    {"room-password", 0, POPT_ARG_STRING, &listen_opts.room_password, CMD_STR,
     "password for the rooms joined with --room", "PASSWORD"},
    {"carbons", 0, POPT_ARG_NONE, &listen_opts.carbons, 0,
     "also see messages to the account's other clients (XEP-0280)", NULL},
    {"include-own", 0, POPT_ARG_NONE, &listen_opts.include_own, 0,
     "with --carbons: also messages the account's other clients sent", NULL},
    {"state", 0, POPT_ARG_STRING, &listen_opts.state, CMD_STR,
     "checkpoint in FILE; at start, first what the archive got since (XEP-0313)", "FILE"},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, cmd_common_table, 0, "Connection options:", NULL},
    POPT_TABLEEND,
};

/* ---------------------------------------------------------------- filters */

struct listen_filter {
	struct xu_jid **from;
	size_t nfrom;
	const char *self; /* our full JID while connected */
};

static int listen_filter_init(struct listen_filter *f)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; listen_opts.from && listen_opts.from[i]; i++) {
		const char *why = NULL;
		struct xu_jid *j;
		enum xu_err err = xu_jid_parse(listen_opts.from[i], &j, &why);

		if (err)
			return cmd_fail(err, "invalid --from JID '%s': %s", listen_opts.from[i],
			                why ? why : xu_err_str(err));
		f->from = cmd_xrealloc(f->from, (f->nfrom + 1) * sizeof(*f->from));
		f->from[f->nfrom++] = j;
	}
	for (i = 0; listen_opts.type && listen_opts.type[i]; i++) {
		static const char *const types[] = {"chat", "normal", "headline", "groupchat",
		                                    "error"};
		size_t k;

		for (k = 0; k < 5 && strcmp(types[k], listen_opts.type[i]) != 0; k++)
			;
		if (k == 5)
			return cmd_fail(XU_ERR_USAGE, "--type must be chat, normal, headline, "
			                              "groupchat or error");
	}
	return 0;
}

static void listen_filter_free(struct listen_filter *f)
{
	size_t i;

	for (i = 0; i < f->nfrom; i++)
		xu_jid_free(f->from[i]);
	free(f->from);
}

/* --from: a bare JID matches every resource, a full JID only itself. */
static bool listen_from_ok(const struct listen_filter *f, const char *from)
{
	struct xu_jid *j = NULL;
	const char *why;
	bool ok = false;
	size_t i;

	if (f->nfrom == 0)
		return true;
	if (!from || xu_jid_parse(from, &j, &why) != XU_OK)
		return false;
	for (i = 0; i < f->nfrom && !ok; i++)
		ok = xu_jid_resource(f->from[i]) ? xu_jid_equal(f->from[i], j)
		                                 : xu_jid_bare_equal(f->from[i], j);
	xu_jid_free(j);
	return ok;
}

static bool listen_type_ok(const char *type)
{
	size_t i;

	if (!listen_opts.type)
		return true;
	for (i = 0; listen_opts.type[i]; i++)
		if (strcmp(listen_opts.type[i], type ? type : "normal") == 0)
			return true;
	return false;
}

/* Whether a received stanza becomes a record at all. */
static bool listen_wanted(const struct listen_filter *f, const struct xu_stanza *st)
{
	const char *name = xu_stanza_name(st);

	if (strcmp(name, "presence") == 0) {
		const char *type = xu_stanza_attr(st, "type");
		const char *from = xu_stanza_attr(st, "from");

		/* The server reflects our own presence back (RFC 6121 §4.2.2): not news. */
		if (from && f->self && strcmp(from, f->self) == 0)
			return false;

		/* Subscription requests and errors are not availability changes. */
		if (!listen_opts.presence || (type && strcmp(type, "unavailable") != 0))
			return false;
		return listen_from_ok(f, xu_stanza_attr(st, "from"));
	}
	if (strcmp(name, "message") != 0)
		return false;
	if (!listen_opts.all && !xu_stanza_child(st, "body", NULL))
		return false;
	return listen_type_ok(xu_stanza_attr(st, "type")) &&
	       listen_from_ok(f, xu_stanza_attr(st, "from"));
}

/* ---------------------------------------------------------------- output and --exec */

static int listen_print(const struct xu_record *rec, enum xu_rec_format fmt)
{
	char *out = NULL;
	size_t len = 0;
	enum xu_err err = xu_record_format(rec, fmt, listen_opts.null, &out, &len);

	return cmd_put(err, out, len);
}

static void listen_setenv(const char *name, const char *value)
{
	if (value)
		setenv(name, value, 1);
	else
		unsetenv(name);
}

/* In the child: the record's fields in the environment, then the command. */
static void listen_child(const struct xu_record *rec, int in_fd, int out_fd)
{
	/* Its own process group, so that a second stop signal reaches whatever it started. */
	setpgid(0, 0);
	dup2(in_fd, STDIN_FILENO);
	if (out_fd >= 0)
		dup2(out_fd, STDOUT_FILENO);
	listen_setenv("XMPP_KIND", rec->kind);
	listen_setenv("XMPP_FROM", rec->from);
	listen_setenv("XMPP_TO", rec->to);
	listen_setenv("XMPP_TYPE", rec->type);
	listen_setenv("XMPP_ID", rec->id);
	listen_setenv("XMPP_BODY", rec->body);
	listen_setenv("XMPP_SUBJECT", rec->subject);
	listen_setenv("XMPP_THREAD", rec->thread);
	listen_setenv("XMPP_TIMESTAMP", rec->timestamp);
	listen_setenv("XMPP_DELAYED", rec->delayed ? "1" : "0");
	listen_setenv("XMPP_ROOM", rec->room);
	listen_setenv("XMPP_NICK", rec->nick);
	listen_setenv("XMPP_SHOW", rec->show);
	listen_setenv("XMPP_STATUS", rec->status);
	execl("/bin/sh", "sh", "-c", listen_opts.exec, (char *)NULL);
	_exit(127);
}

struct listen_exec {
	pid_t pid;
	int in_fd;  /* body to the child, -1 once written */
	int out_fd; /* the child's stdout with --reply, else -1 */
	const char *body;
	size_t body_len, body_off;
	char *reply;
	size_t reply_len;
	int status;
	bool exited;
	bool stopped; /* we sent it SIGTERM: the run is ending */
};

/* One poll round while the command runs: feed its stdin, read its stdout, keep the XMPP
 * connection serviced (pings must still be answered), notice its exit. */
static void listen_exec_step(struct listen_exec *x, struct xu_conn *conn)
{
	struct pollfd p[4];
	int n = 0, ci = -1, ii = -1, oi = -1;
	ssize_t r;

	p[n].fd = cmd_signal_fd();
	p[n++].events = POLLIN;
	if (conn && xu_conn_fd(conn) >= 0) {
		ci = n;
		p[n].fd = xu_conn_fd(conn);
		p[n++].events = xu_conn_events(conn);
	}
	if (x->in_fd >= 0) {
		ii = n;
		p[n].fd = x->in_fd;
		p[n++].events = POLLOUT;
	}
	if (x->out_fd >= 0) {
		oi = n;
		p[n].fd = x->out_fd;
		p[n++].events = POLLIN;
	}
	if (poll(p, (nfds_t)n, conn ? xu_conn_timeout_ms(conn) : -1) < 0)
		return;
	if (ci >= 0 && (p[ci].revents || xu_conn_timeout_ms(conn) == 0))
		xu_conn_dispatch(conn, p[ci].revents); /* a failure surfaces after the command */
	if (ii >= 0 && p[ii].revents) {
		r = write(x->in_fd, x->body + x->body_off, x->body_len - x->body_off);
		if (r > 0)
			x->body_off += (size_t)r;
		if (r < 0 || x->body_off == x->body_len) {
			close(x->in_fd);
			x->in_fd = -1;
		}
	}
	if (oi >= 0 && p[oi].revents) {
		char buf[4096];

		r = read(x->out_fd, buf, sizeof(buf));
		if (r > 0 && x->reply_len < LISTEN_REPLY_MAX) {
			size_t take = (size_t)r;

			if (take > LISTEN_REPLY_MAX - x->reply_len)
				take = LISTEN_REPLY_MAX - x->reply_len;
			memcpy(x->reply + x->reply_len, buf, take);
			x->reply_len += take;
		}
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
			close(x->out_fd);
			x->out_fd = -1;
		}
	}
	if (p[0].revents)
		cmd_signals_drain();
	if (!x->exited && waitpid(x->pid, &x->status, WNOHANG) == x->pid)
		x->exited = true;
}

/* Send CMD's output back: to the sender, or to the room for group chat. */
static void listen_reply(struct xu_conn *conn, const struct xu_record *rec, char *text,
                         unsigned connect_ms)
{
	struct xu_jid *to = NULL;
	struct xu_stanza *m = NULL;
	const char *why = NULL, *type = rec->type ? rec->type : "normal";
	size_t len = strlen(text);
	enum xu_err err;

	if (len && text[len - 1] == '\n')
		text[--len] = '\0';
	if (!len || !conn)
		return;
	if (strcmp(type, "groupchat") != 0 && strcmp(type, "chat") != 0)
		type = "normal";
	err = xu_jid_parse(strcmp(type, "groupchat") == 0 && rec->room ? rec->room : rec->from, &to,
	                   &why);
	if (!err)
		err = xu_message_new(to, type, text, NULL, rec->thread, NULL, &m, &why);
	xu_jid_free(to);
	if (err) {
		cmd_warn("--reply: not sent: %s", why ? why : xu_err_str(err));
		return;
	}
	err = xu_conn_send(conn, m);
	if (!err) {
		xu_conn_set_timeout(conn, connect_ms);
		err = xu_conn_flush(conn);
	}
	if (err)
		cmd_warn("--reply to %s: %s", rec->from ? rec->from : "?", xu_conn_errmsg(conn));
}

static int listen_exec(struct xu_conn *conn, const struct xu_record *rec, unsigned connect_ms)
{
	struct listen_exec x;
	int in[2], out[2] = {-1, -1};

	memset(&x, 0, sizeof(x));
	if (pipe(in) != 0 || (listen_opts.reply && pipe(out) != 0))
		return cmd_fail(XU_ERR_IO, "pipe: %s", strerror(errno));
	fflush(NULL);
	x.pid = fork();
	if (x.pid < 0)
		return cmd_fail(XU_ERR_IO, "fork: %s", strerror(errno));
	if (x.pid == 0) {
		close(in[1]);
		if (out[0] >= 0)
			close(out[0]);
		listen_child(rec, in[0], out[1]);
	}
	close(in[0]);
	if (out[1] >= 0)
		close(out[1]);
	x.in_fd = in[1];
	fcntl(x.in_fd, F_SETFL, fcntl(x.in_fd, F_GETFL) | O_NONBLOCK);
	x.out_fd = out[0];
	x.body = rec->body ? rec->body : "";
	x.body_len = strlen(x.body);
	if (x.body_len == 0) {
		close(x.in_fd);
		x.in_fd = -1;
	}
	if (listen_opts.reply)
		x.reply = cmd_xmalloc(LISTEN_REPLY_MAX + 1);
	while (!x.exited || x.out_fd >= 0) {
		listen_exec_step(&x, conn);
		if (cmd_stops() >= 2 && !x.stopped) {
			kill(-x.pid, SIGTERM);
			x.stopped = true;
		}
	}
	if (x.in_fd >= 0)
		close(x.in_fd);
	if (x.stopped) {
		cmd_note(
		    "--exec stopped for message %s: it will be handled again at the next start",
		    rec->id ? rec->id : "(no id)");
		free(x.reply);
		return LISTEN_ABANDONED;
	}
	if (WIFEXITED(x.status) && WEXITSTATUS(x.status) != 0)
		cmd_note("--exec exited with %d for message %s", WEXITSTATUS(x.status),
		         rec->id ? rec->id : "(no id)");
	else if (WIFSIGNALED(x.status))
		cmd_note("--exec killed by signal %d for message %s", WTERMSIG(x.status),
		         rec->id ? rec->id : "(no id)");
	else if (listen_opts.reply && strcmp(rec->kind, "message") == 0) {
		x.reply[x.reply_len] = '\0';
		listen_reply(conn, rec, x.reply, connect_ms);
	}
	free(x.reply);
	return 0;
}

/* ---------------------------------------------------------------- the run */

/* A room joined with --room (XEP-0045 §7.2): our occupant JID, room@service/nick. */
struct listen_room {
	struct xu_jid *occupant;
	bool joined;
};

struct listen_run {
	struct listen_room *rooms;
	size_t nrooms;
	struct cmd_conn cc;
	struct listen_filter filter;
	enum xu_rec_format fmt;
	int64_t end_at;  /* --timeout, 0: none */
	int64_t idle_at; /* --idle, 0: none */
	long records;
	unsigned connect_ms;
	struct cmd_state state; /* --state */
	char *queryid;          /* the archive query running, NULL: none */
	bool catching_up;       /* live messages wait in `deferred` until the archive is read */
	bool catchup_pending;   /* a catch-up was cut short: run it again on the next session */
	struct xu_stanza **deferred;
	size_t ndeferred;
	size_t narchived; /* results of the catch-up running */
	unsigned npages;  /* archive pages it has read */
};

/* --room ROOM[/NICK]: the occupant JID to join as (nick defaults to our localpart). */
static int listen_rooms_init(struct listen_run *lr)
{
	struct xu_jid *me = NULL;
	const char *why = NULL;
	size_t i;

	for (i = 0; listen_opts.room && listen_opts.room[i]; i++) {
		struct xu_jid *j = NULL;
		enum xu_err err = xu_jid_parse(listen_opts.room[i], &j, &why);
		char occ[3100];

		if (!err && !xu_jid_local(j)) {
			err = XU_ERR_DATA;
			why = "a room JID has a localpart (room@service)";
		}
		if (!err && !xu_jid_resource(j) && !me)
			err = xu_jid_parse(lr->cc.opts.jid, &me, &why);
		if (err) {
			xu_jid_free(j);
			xu_jid_free(me);
			return cmd_fail(err, "invalid --room '%s': %s", listen_opts.room[i],
			                why ? why : xu_err_str(err));
		}
		snprintf(occ, sizeof(occ), "%s/%s", xu_jid_bare(j),
		         xu_jid_resource(j) ? xu_jid_resource(j) : xu_jid_local(me));
		xu_jid_free(j);
		lr->rooms = cmd_xrealloc(lr->rooms, (lr->nrooms + 1) * sizeof(*lr->rooms));
		lr->rooms[lr->nrooms].joined = false;
		err = xu_jid_parse(occ, &lr->rooms[lr->nrooms].occupant, &why);
		if (err) {
			xu_jid_free(me);
			return cmd_fail(err, "invalid nickname for --room '%s': %s",
			                listen_opts.room[i], why ? why : xu_err_str(err));
		}
		lr->nrooms++;
	}
	xu_jid_free(me);
	return 0;
}

static void listen_rooms_free(struct listen_run *lr)
{
	size_t i;

	for (i = 0; i < lr->nrooms; i++)
		xu_jid_free(lr->rooms[i].occupant);
	free(lr->rooms);
}

/* XEP-0045 §7.2.1: no history (the records are what arrives from now on), the room password
 * when given. */
static enum xu_err listen_join(struct xu_conn *conn, struct listen_room *r)
{
	struct xu_stanza *p = NULL;
	enum xu_err err = xu_muc_join_new(r->occupant, listen_opts.room_password, 0, NULL, &p);

	r->joined = false;
	return err ? err : xu_conn_send(conn, p);
}

/* The room of ours a stanza comes from (its bare JID matches), or NULL. */
static struct listen_room *listen_room_of(struct listen_run *lr, const char *from, bool *from_self)
{
	struct xu_jid *j = NULL;
	const char *why;
	size_t i;

	*from_self = false;
	if (!lr->nrooms || !from || xu_jid_parse(from, &j, &why) != XU_OK)
		return NULL;
	for (i = 0; i < lr->nrooms; i++) {
		if (xu_jid_bare_equal(j, lr->rooms[i].occupant)) {
			*from_self = xu_jid_equal(j, lr->rooms[i].occupant);
			xu_jid_free(j);
			return &lr->rooms[i];
		}
	}
	xu_jid_free(j);
	return NULL;
}

/* Our own presence in a room: joined (110), created and locked (201: accept the default
 * configuration, XEP-0045 §10.1.2), or refused. Returns 0 or an exit code. */
static int listen_room_presence(struct listen_room *r, struct xu_conn *conn,
                                const struct xu_stanza *st)
{
	const char *type = xu_stanza_attr(st, "type");
	const struct xu_stanza *err = xu_stanza_child(st, "error", NULL);
	char room[3100];

	snprintf(room, sizeof(room), "%s", xu_jid_bare(r->occupant));
	if (type && strcmp(type, "error") == 0) {
		const char *cond = xu_error_condition(err, XU_NS_STANZAS);
		const char *hint = xu_muc_error_hint(cond);

		return cmd_fail(XU_ERR_REFUSED, "cannot join %s as %s: %s%s%s%s", room,
		                xu_jid_resource(r->occupant), cond, hint ? " (" : "",
		                hint ? hint : "", hint ? ")" : "");
	}
	if (type && strcmp(type, "unavailable") == 0) {
		r->joined = false;
		return cmd_fail(XU_ERR_REFUSED, "left %s: removed from the room", room);
	}
	if (xu_muc_has_status(st, "201")) {
		struct xu_stanza *iq = xu_stanza_new("iq", XU_NS_CLIENT), *q, *x, *reply = NULL;

		q = iq ? xu_stanza_add_new(iq, "query", XU_NS_MUC_OWNER) : NULL;
		x = q ? xu_stanza_add_new(q, "x", "jabber:x:data") : NULL;
		if (!x || xu_stanza_set_attr(iq, "type", "set") ||
		    xu_stanza_set_attr(iq, "to", room) || xu_stanza_set_attr(x, "type", "submit")) {
			xu_stanza_free(iq);
			return cmd_fail(XU_ERR_NOMEM, "out of memory");
		}
		if (xu_conn_iq(conn, iq, &reply) == XU_OK && xu_stanza_attr(reply, "type") &&
		    strcmp(xu_stanza_attr(reply, "type"), "result") != 0)
			cmd_warn("created %s but could not unlock it", room);
		xu_stanza_free(reply);
	}
	if (!r->joined && xu_muc_has_status(st, "110")) {
		r->joined = true;
		if (cmd_opts.verbose || cmd_opts.debug)
			cmd_note("joined %s as %s", room, xu_jid_resource(r->occupant));
	}
	return 0;
}

#define LISTEN_NS_CARBONS "urn:xmpp:carbons:2"

/* XEP-0280 §6-7: the message a carbon carries (borrowed), NULL when st is no carbon. *sent is
 * true for a copy of what another client of ours sent. The library has already dropped
 * carbons that did not come from the account itself. */
static const struct xu_stanza *listen_carbon(const struct xu_stanza *st, bool *sent)
{
	const struct xu_stanza *c = xu_stanza_child(st, "received", LISTEN_NS_CARBONS);
	const struct xu_stanza *fwd;

	*sent = false;
	if (!c) {
		c = xu_stanza_child(st, "sent", LISTEN_NS_CARBONS);
		*sent = c != NULL;
	}
	if (!c)
		return NULL;
	fwd = xu_stanza_child(c, "forwarded", XU_NS_FORWARD);
	return fwd ? xu_stanza_child(fwd, "message", XU_NS_CLIENT) : NULL;
}

/* A message or presence that passed the routing: filter, record, print or run; then move the
 * checkpoint past it when it is in the account's archive (`aid`, known only with --state).
 * Returns 0, an exit code, LISTEN_DONE or LISTEN_ABANDONED. */
static int listen_emit(struct listen_run *lr, struct xu_conn *conn, const struct xu_stanza *st,
                       const char *aid)
{
	struct xu_record rec;
	bool want = listen_wanted(&lr->filter, st);
	enum xu_err err;
	int rc = 0;

	if (!want && !aid)
		return 0;
	err = xu_record_from_stanza(st, cmd_wall_ms(), &rec);
	if (err)
		return err == XU_ERR_NOMEM ? cmd_fail(err, "out of memory") : 0;
	if (want)
		rc = listen_opts.exec ? listen_exec(conn, &rec, lr->connect_ms)
		                      : listen_print(&rec, lr->fmt);
	/* Handled: after --exec returned (whatever its status, which is logged) or once on
	 * stdout. A crash before this point repeats the message at the next start. */
	if (!rc && aid)
		cmd_state_set(&lr->state, aid, rec.timestamp);
	xu_record_clear(&rec);
	if (rc || !want)
		return rc;
	lr->records++;
	if (listen_opts.count > 0 && lr->records >= listen_opts.count)
		return LISTEN_DONE;
	return 0;
}

static bool listen_is_account(const struct xu_conn *conn, const char *jid)
{
	struct xu_jid *j = NULL;
	const char *why;
	bool own;

	if (!jid || xu_jid_parse(jid, &j, &why) != XU_OK)
		return false;
	own = xu_jid_bare_equal(j, xu_conn_jid(conn));
	xu_jid_free(j);
	return own;
}

/* A live stanza. Returns as listen_emit. */
static int listen_handle(struct listen_run *lr, struct xu_conn *conn, struct xu_stanza *st)
{
	const struct xu_stanza *inner = NULL;
	const char *aid = NULL;
	struct listen_room *room;
	bool sent, self, msg = strcmp(xu_stanza_name(st), "message") == 0;

	room = listen_room_of(lr, xu_stanza_attr(st, "from"), &self);
	if (room && self && strcmp(xu_stanza_name(st), "presence") == 0)
		return listen_room_presence(room, conn, st);
	if (room && self && !listen_opts.include_own)
		return 0; /* the room echoing what we said */
	/* The archive id only matters for the checkpoint: no JID parsing per message without. */
	if (msg && listen_opts.state)
		aid = xu_stanza_id_by(st, xu_conn_jid(conn));
	if (msg)
		inner = listen_carbon(st, &sent);
	if (inner) {
		if (!aid && listen_opts.state)
			aid = xu_stanza_id_by(inner, xu_conn_jid(conn));
		if (!listen_opts.carbons || (sent && !listen_opts.include_own))
			inner = NULL;           /* not shown, but the checkpoint moves past it */
		st = (struct xu_stanza *)inner; /* only read from here on */
	} else if (xu_stanza_child(st, "sent", LISTEN_NS_CARBONS) ||
	           xu_stanza_child(st, "received", LISTEN_NS_CARBONS)) {
		st = NULL; /* a carbon without a message: nothing to show */
	}
	if (!st) {
		if (aid)
			cmd_state_set(&lr->state, aid, NULL);
		return 0;
	}
	return listen_emit(lr, conn, st, aid);
}

/* ---------------------------------------------------------------- the archive (--state) */

/* A message from the archive (a copy carrying the archive's delay). What the account itself
 * sent shows only with --include-own, like carbons; the checkpoint moves past it anyway. */
static int listen_archived(struct listen_run *lr, struct xu_conn *conn, const struct xu_stanza *m,
                           const char *aid)
{
	if (listen_is_account(conn, xu_stanza_attr(m, "from")) && !listen_opts.include_own) {
		cmd_state_set(&lr->state, aid, NULL);
		return 0;
	}
	cmd_progress_clear(); /* the record (or --exec's output) may go to the same terminal */
	return listen_emit(lr, conn, m, aid);
}

/* On a terminal: "catching up from the archive: 120 messages (3 pages)". */
static void listen_catchup_progress(const struct listen_run *lr)
{
	if (cmd_progress_due())
		cmd_progress_update(
		    false, "catching up from the archive: %zu message%s (%u page%s)", lr->narchived,
		    lr->narchived == 1 ? "" : "s", lr->npages, lr->npages == 1 ? "" : "s");
}

/* Take what arrived during an archive query: its results in order; live messages wait until
 * the archive is read (they are newer); the rest is handled now. */
static int listen_drain_query(struct listen_run *lr, struct xu_conn *conn)
{
	struct xu_stanza *st, *item;
	const char *aid;
	int rc = 0;

	while (!rc && xu_conn_next(conn, &st) == XU_OK && st) {
		if (xu_mam_result(st, lr->queryid, xu_conn_jid(conn), &item, &aid) != XU_OK) {
			rc = cmd_fail(XU_ERR_NOMEM, "out of memory");
		} else if (item) {
			/* The first query of a run only finds where the archive ends. */
			if (lr->catching_up)
				lr->narchived++;
			rc = lr->catching_up ? listen_archived(lr, conn, item, aid) : 0;
			xu_stanza_free(item);
			if (lr->catching_up)
				listen_catchup_progress(lr);
		} else if (lr->catching_up && strcmp(xu_stanza_name(st), "message") == 0) {
			lr->deferred =
			    cmd_xrealloc(lr->deferred, (lr->ndeferred + 1) * sizeof(*lr->deferred));
			lr->deferred[lr->ndeferred++] = st;
			st = NULL;
		} else {
			rc = listen_handle(lr, conn, st);
		}
		xu_stanza_free(st);
		if (rc == 0 || rc == LISTEN_DONE)
			xu_conn_handled(conn);
	}
	return rc;
}

/* The live messages held back during a complete catch-up. One the account's archive holds was
 * also among the results: the last page was asked for after it arrived (the server handles
 * one stream in order), so only the others are new. After an incomplete catch-up, all; also
 * after one that found nothing at all: ejabberd 23.01 answers an `after` id it does not know
 * with an empty, complete page, and the messages it then sends from offline storage, archive
 * ids and all, are new to us. */
static int listen_undefer(struct listen_run *lr, struct xu_conn *conn, bool complete)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < lr->ndeferred; i++) {
		struct xu_stanza *st = lr->deferred[i];

		if (!rc &&
		    (!complete || lr->narchived == 0 || !xu_stanza_id_by(st, xu_conn_jid(conn))))
			rc = listen_handle(lr, conn, st);
		xu_stanza_free(st);
	}
	free(lr->deferred);
	lr->deferred = NULL;
	lr->ndeferred = 0;
	return rc;
}

static void listen_new_queryid(struct listen_run *lr)
{
	unsigned char r[6];
	char id[16];

	gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof(r));
	snprintf(id, sizeof(id), "xl%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5]);
	free(lr->queryid);
	lr->queryid = cmd_xstrdup(id);
}

/* One archive page: results handled as they are drained. Returns as listen_emit; *cerr gets
 * a connection error, *reply the query's answer. */
static int listen_query(struct listen_run *lr, struct xu_conn *conn, const struct xu_mam_page *page,
                        struct xu_stanza **reply, enum xu_err *cerr)
{
	struct xu_stanza *iq = NULL;
	enum xu_err err;

	*reply = NULL;
	err = xu_mam_query(page, &iq);
	if (err)
		return cmd_fail(err, "out of memory");
	err = xu_conn_iq(conn, iq, reply);
	if (err) {
		*cerr = err;
		return 0;
	}
	return listen_drain_query(lr, conn);
}

static enum xu_err listen_presence(struct xu_conn *conn)
{
	struct xu_stanza *pres = NULL;
	const char *why = NULL;
	enum xu_err err;

	err = xu_presence_new(listen_opts.show, listen_opts.status, listen_opts.priority, &pres,
	                      &why);
	if (!err)
		err = xu_conn_send(conn, pres);
	return err;
}

/* First run with --state: the checkpoint starts where the archive ends now. */
static int listen_baseline(struct listen_run *lr, struct xu_conn *conn, enum xu_err *cerr)
{
	struct xu_mam_page page = {NULL, NULL, NULL, NULL, true, 1};
	struct xu_stanza *reply = NULL;
	const char *last = NULL;
	bool complete;
	char why[128], now[32];
	int rc;

	listen_new_queryid(lr);
	page.queryid = lr->queryid;
	rc = listen_query(lr, conn, &page, &reply, cerr);
	if (!rc && !*cerr) {
		xu_utc_stamp(cmd_wall_ms(), false, now); /* a checkpoint without a message */
		if (xu_mam_fin(reply, &complete, &last, why, sizeof(why)) != XU_OK)
			cmd_warn("the server has no usable message archive (%s): --state cannot "
			         "catch up after a restart",
			         why);
		else if (!lr->state.id || last)
			cmd_state_set(&lr->state, last, now);
	}
	xu_stanza_free(reply);
	free(lr->queryid);
	lr->queryid = NULL;
	return rc;
}

/* XEP-0313 catch-up from the checkpoint, page by page (XEP-0059 RSM). The first page goes out
 * before our presence, so the server leaves offline storage alone (the archive has it all);
 * then presence, then pages until the archive says complete: that covers what arrived in
 * between. Live messages meanwhile wait in `deferred`. Returns as listen_emit. */
static int listen_catchup(struct listen_run *lr, struct xu_conn *conn, enum xu_err *cerr)
{
	struct xu_mam_page page;
	struct xu_stanza *reply = NULL;
	char *after = lr->state.id ? cmd_xstrdup(lr->state.id) : NULL, why[128];
	const char *last;
	bool complete = false, presence = false, by_time = false;
	enum xu_err err;
	int rc = 0;

	lr->catchup_pending = true;
	lr->catching_up = true;
	lr->narchived = 0;
	lr->npages = 0;
	listen_new_queryid(lr);
	cmd_progress_start();
	for (;;) {
		memset(&page, 0, sizeof(page));
		page.queryid = lr->queryid;
		page.max = LISTEN_MAM_PAGE;
		page.after = after;
		page.start = after ? NULL : lr->state.time;
		rc = listen_query(lr, conn, &page, &reply, cerr);
		if (rc || *cerr)
			break;
		lr->npages++;
		listen_catchup_progress(lr);
		err = xu_mam_fin(reply, &complete, &last, why, sizeof(why));
		if (err == XU_ERR_REFUSED && strcmp(why, "item-not-found") == 0 && after &&
		    lr->state.time && !by_time) {
			cmd_warn(
			    "the archive no longer has the checkpoint's message: catching up from "
			    "%s",
			    lr->state.time);
			free(after);
			after = NULL;
			by_time = true;
		} else if (err) {
			cmd_warn("cannot catch up from the archive (%s): messages that came while "
			         "xmpp-listen was away may be missing",
			         why);
			complete = false;
			lr->catchup_pending = false; /* retrying would fail the same way */
			break;
		} else if (last) {
			free(after);
			after = cmd_xstrdup(last);
		}
		xu_stanza_free(reply);
		reply = NULL;
		if (!presence && !err) {
			*cerr = listen_presence(conn);
			if (*cerr)
				break;
			presence = true;
			continue;
		}
		if (!err && (complete || !last))
			break;
	}
	xu_stanza_free(reply);
	free(after);
	free(lr->queryid);
	lr->queryid = NULL;
	lr->catching_up = false;
	cmd_progress_end();
	if (!rc && !*cerr && !presence)
		*cerr = listen_presence(conn);
	if (rc || *cerr) {
		/* Cut short: live messages it held are in the archive and come again with the next
		 * catch-up (lr->catchup_pending). */
		for (size_t i = 0; i < lr->ndeferred; i++)
			xu_stanza_free(lr->deferred[i]);
		lr->ndeferred = 0;
		return rc;
	}
	if (complete)
		lr->catchup_pending = false;
	return listen_undefer(lr, conn, complete);
}

/* XEP-0280 §4: ask the server for carbons. A refusal is a warning: messages to this client
 * still arrive. */
static enum xu_err listen_enable_carbons(struct xu_conn *conn)
{
	struct xu_stanza *iq = xu_stanza_new("iq", XU_NS_CLIENT), *reply = NULL;
	enum xu_err err;

	if (!iq || xu_stanza_set_attr(iq, "type", "set") ||
	    !xu_stanza_add_new(iq, "enable", LISTEN_NS_CARBONS)) {
		xu_stanza_free(iq);
		return XU_ERR_NOMEM;
	}
	err = xu_conn_iq(conn, iq, &reply);
	if (!err && (!xu_stanza_attr(reply, "type") ||
	             strcmp(xu_stanza_attr(reply, "type"), "result") != 0))
		cmd_warn("the server refused carbons (XEP-0280): only messages to this client "
		         "are seen");
	xu_stanza_free(reply);
	return err;
}

/* Connect (resuming the session of *conn, the lost connection, where the server allows), then
 * for a new session: catch up from the archive (--state) with our presence in the middle, or
 * just presence; carbons; rooms. Returns 0, an exit code (message printed), or as
 * listen_emit; a connection error goes to *cerr (the failed connection stays in
 * *conn, to resume from next time). */
static int listen_connect(struct listen_run *lr, struct xu_conn **conn, enum xu_err *cerr)
{
	struct xu_conn *old = *conn;
	enum xu_err err;
	bool carbons = false;
	int rc = 0;

	*cerr = XU_OK;
	*conn = NULL;
	lr->cc.opts.timeout_ms = lr->connect_ms;
	err = xu_conn_new(&lr->cc.opts, conn);
	if (!err)
		err = xu_conn_resume_from(*conn, old);
	xu_conn_free(old);
	if (!err)
		err = xu_conn_open(*conn);
	if (!err)
		lr->filter.self = xu_jid_full(xu_conn_jid(*conn));
	if (!err && xu_conn_resumed(*conn)) {
		if (cmd_opts.verbose)
			cmd_note("resumed the session as %s", xu_jid_full(xu_conn_jid(*conn)));
		if (lr->catchup_pending)
			rc = listen_catchup(lr, *conn, &err);
		*cerr = err;
		return rc;
	}
	if (!err && listen_opts.state && (lr->state.id || lr->state.time)) {
		rc = listen_catchup(lr, *conn, &err);
	} else if (!err) {
		/* Carbons before presence: once others see us online, the copies flow (a peer
		 * that waits for our presence must not race the enable). The catch-up keeps them
		 * for after, where its paging decides what is new. */
		if (listen_opts.carbons)
			err = listen_enable_carbons(*conn);
		carbons = listen_opts.carbons;
		if (!err)
			err = listen_presence(*conn);
	}
	if (!rc && !err)
		err = xu_conn_flush(*conn);
	if (!rc && !err && listen_opts.state && !lr->state.id && !lr->state.time)
		rc = listen_baseline(lr, *conn, &err);
	if (!rc && !err && listen_opts.carbons && !carbons)
		err = listen_enable_carbons(*conn);
	for (size_t i = 0; !rc && !err && i < lr->nrooms; i++)
		err = listen_join(*conn, &lr->rooms[i]);
	*cerr = err;
	if (rc || err)
		return rc;
	if (cmd_opts.verbose)
		fprintf(stderr, "%s: listening as %s\n", cmd_prog, xu_jid_full(xu_conn_jid(*conn)));
	return 0;
}

/* Errors that retrying cannot fix end the run; the rest are a lost connection. */
static bool listen_fatal(enum xu_err err)
{
	return err == XU_ERR_AUTH || err == XU_ERR_TLS || err == XU_ERR_CONFIG ||
	       err == XU_ERR_USAGE || err == XU_ERR_DATA || err == XU_ERR_NOMEM ||
	       err == XU_ERR_NOINPUT || err == XU_ERR_NOHOST || err == XU_ERR_REFUSED;
}

/* Milliseconds until the next deadline of ours (or -1), bounded by the connection's. */
static int listen_wait_ms(const struct listen_run *lr, int conn_ms, int64_t extra_at)
{
	int64_t now = cmd_now_ms(), at = 0, w;
	int64_t cands[3] = {lr->end_at, lr->idle_at, extra_at};
	int i;

	for (i = 0; i < 3; i++)
		if (cands[i] && (!at || cands[i] < at))
			at = cands[i];
	if (!at)
		return conn_ms;
	w = at > now ? at - now : 0;
	if (conn_ms >= 0 && conn_ms < w)
		return conn_ms;
	return w > 3600000 ? 3600000 : (int)w;
}

/* Sleep before reconnecting: 1 s doubling to 60 s, with +-25 % jitter so many listeners
 * restarting with a server do not come back at the same instant. */
static int64_t listen_backoff_ms(unsigned attempt)
{
	uint32_t r = 0;
	int64_t base = 1000;

	while (attempt-- > 0 && base < LISTEN_BACKOFF_MAX_S * 1000)
		base *= 2;
	if (base > LISTEN_BACKOFF_MAX_S * 1000)
		base = LISTEN_BACKOFF_MAX_S * 1000;
	gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r));
	return base * 3 / 4 + (int64_t)(r % (uint32_t)(base / 2 + 1));
}

/* After a failed connection attempt: fatal errors end the run (exit code), the rest retry
 * after a backoff. Returns 0 to go on. */
static int listen_retry(struct listen_run *lr, struct xu_conn *conn, enum xu_err err, bool first,
                        unsigned *attempt, int64_t *retry_at)
{
	const char *msg = conn ? xu_conn_errmsg(conn) : xu_err_str(err);

	if (first || listen_fatal(err))
		return cmd_fail(err, "%s", msg);
	*retry_at = cmd_now_ms() + listen_backoff_ms((*attempt)++);
	/* One warning per loss: the retries only with -v. */
	if (*attempt == 1)
		cmd_warn("connection lost: %s; reconnecting in %.1f s", msg,
		         (double)(*retry_at - cmd_now_ms()) / 1000.0);
	else if (cmd_opts.verbose)
		cmd_note("reconnecting failed: %s", msg);
	return 0;
}

/* Handle every stanza the connection holds. Also before each poll(): blocking helpers (a
 * flush, an IQ) leave what arrived meanwhile queued, and poll() would not wake up for it. */
static int listen_drain(struct listen_run *lr, struct xu_conn *conn)
{
	struct xu_stanza *st;
	int rc = 0;

	while (!rc && xu_conn_next(conn, &st) == XU_OK && st) {
		if (lr->idle_at)
			lr->idle_at = cmd_now_ms() + (int64_t)listen_opts.idle * 1000;
		rc = listen_handle(lr, conn, st);
		xu_stanza_free(st);
		if (rc == 0 || rc == LISTEN_DONE)
			xu_conn_handled(conn);
	}
	return rc;
}

static int listen_loop(struct listen_run *lr)
{
	struct xu_conn *conn = NULL;
	unsigned attempt = 0;
	int64_t retry_at = 0;
	bool up = false; /* conn is open (else it is the lost one, kept to resume from) */
	enum xu_err err;
	int rc;

	rc = listen_connect(lr, &conn, &err);
	if (!rc && err)
		rc = listen_retry(lr, conn, err, true, &attempt, &retry_at);
	up = !rc;
	while (!rc && !cmd_stops()) {
		struct pollfd p[2] = {{cmd_signal_fd(), POLLIN, 0}, {-1, 0, 0}};
		int64_t now = cmd_now_ms();

		if (lr->end_at && now >= lr->end_at)
			break;
		if (lr->idle_at && now >= lr->idle_at)
			break;
		if (!up && now >= retry_at) {
			rc = listen_connect(lr, &conn, &err);
			if (rc)
				break;
			if (err) {
				rc = listen_retry(lr, conn, err, false, &attempt, &retry_at);
				continue;
			}
			up = true;
			attempt = 0;
		}
		if (up) {
			rc = listen_drain(lr, conn);
			if (rc)
				break;
			p[1].fd = xu_conn_fd(conn);
			p[1].events = xu_conn_events(conn);
		}
		if (poll(p, 2,
		         listen_wait_ms(lr, up ? xu_conn_timeout_ms(conn) : -1,
		                        up ? 0 : retry_at)) < 0 &&
		    errno != EINTR) {
			rc = cmd_fail(XU_ERR_IO, "poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents)
			cmd_signals_drain();
		if (!up)
			continue;
		err = xu_conn_dispatch(conn, p[1].revents);
		rc = listen_drain(lr, conn);
		if (rc)
			break;
		if (err) {
			lr->filter.self = NULL;
			up = false;
			rc = listen_retry(lr, conn, err, false, &attempt, &retry_at);
		}
	}
	if (conn && up) {
		xu_conn_set_timeout(conn, lr->connect_ms);
		xu_conn_close(conn);
	}
	xu_conn_free(conn);
	return rc < 0 ? 0 : rc;
}

static int listen_run(void)
{
	struct listen_run lr;
	int rc;

	memset(&lr, 0, sizeof(lr));
	rc = cmd_format(listen_opts.format, listen_opts.color, &lr.fmt);
	if (rc)
		return rc;
	if (listen_opts.reply && !listen_opts.exec)
		return cmd_fail(XU_ERR_USAGE, "--reply needs --exec");
	if (listen_opts.include_own && !listen_opts.carbons)
		return cmd_fail(XU_ERR_USAGE, "--include-own needs --carbons");
	if (listen_opts.count < 0 || listen_opts.timeout < 0 || listen_opts.idle < 0)
		return cmd_fail(XU_ERR_USAGE, "--count, --timeout and --idle must not be negative");
	{
		/* Check the presence options before connecting: a typo is a usage error. */
		struct xu_stanza *pres = NULL;
		const char *why = NULL;
		enum xu_err err = xu_presence_new(listen_opts.show, listen_opts.status,
		                                  listen_opts.priority, &pres, &why);

		xu_stanza_free(pres);
		if (err)
			return cmd_fail(err, "%s", why ? why : xu_err_str(err));
	}
	rc = listen_filter_init(&lr.filter);
	if (!rc)
		rc = cmd_signals(true);
	if (!rc)
		rc = cmd_conn_setup(&lr.cc);
	if (!rc)
		rc = listen_rooms_init(&lr);
	if (!rc && !listen_opts.room_password && getenv("XMPP_ROOM_PASSWORD")) {
		/* Kept off argv and out of --exec's environment, like the account password. */
		listen_opts.room_password = cmd_xstrdup(getenv("XMPP_ROOM_PASSWORD"));
		unsetenv("XMPP_ROOM_PASSWORD");
	}
	if (rc)
		goto out;
	lr.connect_ms = lr.cc.opts.timeout_ms;
	lr.cc.opts.keepalive_ms = LISTEN_KEEPALIVE_MS;
	lr.cc.opts.queue_stanzas = true;
	lr.cc.opts.answer_receipts = true;
	lr.cc.opts.resumable = true;
	if (listen_opts.state) {
		struct xu_jid *me = NULL;
		const char *why = NULL;
		enum xu_err err = xu_jid_parse(lr.cc.opts.jid, &me, &why);

		if (err)
			rc = cmd_fail(err, "invalid account JID: %s", why ? why : xu_err_str(err));
		else
			rc = cmd_state_load(&lr.state, listen_opts.state, xu_jid_bare(me));
		xu_jid_free(me);
		if (rc)
			goto out;
	}
	if (listen_opts.timeout)
		lr.end_at = cmd_now_ms() + (int64_t)listen_opts.timeout * 1000;
	if (listen_opts.idle)
		lr.idle_at = cmd_now_ms() + (int64_t)listen_opts.idle * 1000;
	rc = listen_loop(&lr);
out:
	listen_rooms_free(&lr);
	cmd_state_free(&lr.state);
	listen_filter_free(&lr.filter);
	cmd_conn_free(&lr.cc);
	return rc;
}

int main(int argc, const char **argv)
{
	poptContext pc;
	int rc;

	cmd_prog = "xmpp-listen";
	/* Here --timeout bounds the whole run (as the command's own option); the shared
	 * per-step deadline is --connect-timeout. */
	cmd_rename_option("timeout", "connect-timeout",
	                  "deadline for connecting and logging in (default 30)");
	rc = cmd_parse(argc, argv, listen_table, "", &pc);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (poptPeekArg(pc)) {
		rc = cmd_fail(XU_ERR_USAGE, "unexpected argument '%s' (try --help)",
		              poptPeekArg(pc));
		poptFreeContext(pc);
		return rc;
	}
	rc = listen_run();
	poptFreeContext(pc);
	return rc;
}
