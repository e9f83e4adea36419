/* send.c: xmpp-send: deliver messages and exit 0 only when the server has every one.
 *
 * usage: xmpp-send [OPTIONS] JID... [-m TEXT]
 * Body from -m, or all of stdin; --lines sends each stdin line as it arrives; --xml sends raw
 * stanzas from stdin. Delivery is confirmed by XEP-0198 acks or an XEP-0199 ping answered
 * after the last message (RFC 6120 §10.1: the server handles a stream in order).
 */
#include "common.h"
#include "lines.h"
#include "rooms.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

/* Stdin as one message: the server's stanza limit bounds it far below this anyway. */
#define SEND_MAX_INPUT (16u * 1024 * 1024)
#define SEND_MAX_LINE (1024u * 1024)

static struct {
	char *message;
	int lines;
	char *type;
	char *subject;
	char *thread;
	int xml;
	int dry_run;
} send_opts;

static struct poptOption send_table[] = {
    {"message", 'm', POPT_ARG_STRING, &send_opts.message, CMD_STR,
     "message text (default: read stdin)", "TEXT"},
    {"lines", 0, POPT_ARG_NONE, &send_opts.lines, 0,
     "send each line of stdin as its own message, as it arrives", NULL},
    {"type", 't', POPT_ARG_STRING, &send_opts.type, CMD_STR,
     "message type: chat, normal, headline, or groupchat to rooms (default chat)", "TYPE"},
    {"subject", 's', POPT_ARG_STRING, &send_opts.subject, CMD_STR, "message subject", "TEXT"},
    {"thread", 0, POPT_ARG_STRING, &send_opts.thread, CMD_STR, "thread identifier", "ID"},
    {"xml", 0, POPT_ARG_NONE, &send_opts.xml, 0,
     "stdin holds raw stanzas to send (checked before sending)", NULL},
    {"dry-run", 'n', POPT_ARG_NONE, &send_opts.dry_run, 0,
     "print the stanzas that would be sent, do not connect", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, cmd_common_table, 0, "Connection options:", NULL},
    POPT_TABLEEND,
};

struct send_job {
	struct xu_jid **to;
	size_t nto;
	struct xu_stanza **stanzas; /* prepared up front (not with --lines) */
	size_t nstanzas;
};

/* One stanza per line on stdout, terminal-safe (newlines in text are references). */
static int send_print(const struct xu_stanza *st)
{
	char *line = NULL;
	size_t len = 0;
	enum xu_err err = xu_fields_format(XU_REC_XML, st, NULL, NULL, 0, &line, &len);

	if (err)
		return cmd_fail(err, "cannot serialise a stanza: %s", xu_err_str(err));
	return cmd_put(XU_OK, line, len);
}

/* Build one message per recipient for body and append them to the job. */
static int send_build(struct send_job *job, const char *body, const char *where)
{
	size_t i;

	for (i = 0; i < job->nto; i++) {
		struct xu_stanza *m;
		const char *why = NULL;
		enum xu_err err;

		err = xu_message_new(job->to[i], send_opts.type, body, send_opts.subject,
		                     send_opts.thread, NULL, &m, &why);
		if (err)
			return cmd_fail(err, "%s%s%s", where, where[0] ? ": " : "",
			                why ? why : xu_err_str(err));
		job->stanzas =
		    cmd_xrealloc(job->stanzas, (job->nstanzas + 1) * sizeof(*job->stanzas));
		job->stanzas[job->nstanzas++] = m;
	}
	return 0;
}

static void send_job_free(struct send_job *job)
{
	size_t i;

	for (i = 0; i < job->nto; i++)
		xu_jid_free(job->to[i]);
	free(job->to);
	for (i = 0; i < job->nstanzas; i++)
		xu_stanza_free(job->stanzas[i]);
	free(job->stanzas);
}

static bool send_seen(const struct send_job *job, const struct xu_jid *j)
{
	size_t i;

	for (i = 0; i < job->nto; i++)
		if (xu_jid_equal(job->to[i], j))
			return true;
	return false;
}

static int send_recipients(poptContext pc, struct send_job *job)
{
	const char *arg;

	while ((arg = poptGetArg(pc)) != NULL) {
		const char *why = NULL;
		struct xu_jid *j;
		enum xu_err err = xu_jid_parse(arg, &j, &why);

		if (err)
			return cmd_fail(err, "invalid recipient JID '%s': %s", arg,
			                why ? why : xu_err_str(err));
		if (send_seen(job, j)) {
			/* The same JID twice (after preparation) means one message, not two. */
			xu_jid_free(j);
			continue;
		}
		job->to = cmd_xrealloc(job->to, (job->nto + 1) * sizeof(*job->to));
		job->to[job->nto++] = j;
	}
	return 0;
}

static int send_xml_input(struct send_job *job)
{
	char *data;
	size_t len;
	const char *why = NULL;
	enum xu_err err;
	int rc;

	rc = cmd_read_all(STDIN_FILENO, SEND_MAX_INPUT, &data, &len, "standard input");
	if (rc)
		return rc;
	err = xu_stanza_parse_list(data, len, &job->stanzas, &job->nstanzas, &why);
	free(data);
	if (err)
		return cmd_fail(err, "--xml input: %s", why ? why : xu_err_str(err));
	if (job->nstanzas == 0)
		return cmd_fail(XU_ERR_DATA, "--xml input holds no stanza");
	return 0;
}

/* Report how far we got when the run fails: nothing is lost silently. */
static int send_failed(struct xu_conn *conn, enum xu_err err)
{
	uint64_t sent = xu_conn_sent(conn), ok = xu_conn_confirmed(conn);

	if (sent > ok && err != XU_ERR_REFUSED)
		return cmd_fail(err, "%s (%llu of %llu stanzas confirmed by the server)",
		                xu_conn_errmsg(conn), (unsigned long long)ok,
		                (unsigned long long)sent);
	return cmd_fail(err, "%s", xu_conn_errmsg(conn));
}

static int send_all(struct xu_conn *conn, struct send_job *job)
{
	enum xu_err err = XU_OK;
	size_t i;

	for (i = 0; i < job->nstanzas && !err; i++) {
		err = xu_conn_send(conn, job->stanzas[i]);
		job->stanzas[i] = NULL;
	}
	if (!err)
		err = xu_conn_flush(conn);
	if (err) {
		int rc = send_failed(conn, err);

		xu_conn_close(conn);
		return rc;
	}
	err = xu_conn_close(conn);
	if (err)
		return cmd_fail(err, "%s", xu_conn_errmsg(conn));
	return 0;
}

/* --lines, one line: a message to each recipient, sent (or printed for --dry-run). */
static int send_line(struct cmd_lines *l, const char *text, const char *where)
{
	struct send_job *job = l->ctx;
	size_t k;
	int rc = send_build(job, text, where);

	for (k = 0; !rc && k < job->nstanzas; k++) {
		struct xu_stanza *st = job->stanzas[k];

		job->stanzas[k] = NULL;
		if (!l->conn) {
			rc = send_print(st);
			xu_stanza_free(st);
		} else if ((l->err = xu_conn_send(l->conn, st)) != XU_OK) {
			rc = -1;
		}
	}
	for (; k < job->nstanzas; k++) {
		xu_stanza_free(job->stanzas[k]);
		job->stanzas[k] = NULL;
	}
	job->nstanzas = 0;
	return rc;
}

/* --lines: each batch of lines read together is confirmed before reading on. */
static int send_batch(struct cmd_lines *l)
{
	if (!l->conn)
		return 0;
	xu_conn_set_timeout(l->conn, (unsigned)cmd_opts.timeout * 1000u);
	l->err = xu_conn_flush(l->conn);
	return l->err ? -1 : 0;
}

/* --lines: stdin and the connection in one poll() loop (cmd/lines.c), so the server's pings
 * and acks are answered while stdin is idle for days. */
static int send_lines(struct xu_conn *conn, struct send_job *job)
{
	struct cmd_lines l = {conn, send_line, send_batch, job, XU_OK};
	enum xu_err err;
	int rc = cmd_lines(&l, SEND_MAX_LINE);

	if (!conn)
		return rc > 0 ? rc : 0;
	if (rc < 0) {
		rc = send_failed(conn, l.err ? l.err : XU_ERR_TEMP);
		xu_conn_close(conn);
		return rc;
	}
	if (rc) {
		xu_conn_close(conn);
		return rc;
	}
	xu_conn_set_timeout(conn, (unsigned)cmd_opts.timeout * 1000u);
	err = xu_conn_close(conn);
	return err ? cmd_fail(err, "%s", xu_conn_errmsg(conn)) : 0;
}

/* --type groupchat: the recipients are rooms, joined first so that nothing is dropped. */
static bool send_groupchat(void)
{
	return send_opts.type && strcmp(send_opts.type, "groupchat") == 0;
}

/* To rooms: join, send, wait for the room's reflection, leave (cmd/rooms.c). */
static int send_rooms(struct xu_conn *conn, struct send_job *job, const char *body)
{
	struct cmd_rooms r;
	char *pw = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	if (getenv("XMPP_ROOM_PASSWORD")) {
		pw = cmd_xstrdup(getenv("XMPP_ROOM_PASSWORD"));
		unsetenv("XMPP_ROOM_PASSWORD");
	}
	r.join.password = pw;
	r.subject = send_opts.subject;
	r.thread = send_opts.thread;
	rc = send_opts.lines ? cmd_rooms_lines(conn, job->to, job->nto, &r, SEND_MAX_LINE)
	                     : cmd_rooms_send(conn, job->to, job->nto, &r, body);
	if (xu_conn_close(conn) != XU_OK && !rc && cmd_opts.verbose)
		cmd_note("closing: %s", xu_conn_errmsg(conn));
	free(pw);
	return rc;
}

static int send_check_usage(struct send_job *job)
{
	if (send_opts.xml && (job->nto || send_opts.message || send_opts.lines ||
	                      send_opts.subject || send_opts.thread || send_opts.type))
		return cmd_fail(XU_ERR_USAGE, "--xml takes the stanzas from stdin: no JIDs, -m, "
		                              "--lines, --type, --subject or --thread");
	if (!send_opts.xml && job->nto == 0)
		return cmd_fail(XU_ERR_USAGE, "no recipient (usage: xmpp-send [OPTIONS] JID... "
		                              "[-m TEXT])");
	if (send_opts.lines && send_opts.message)
		return cmd_fail(XU_ERR_USAGE, "--lines reads stdin: it does not go with -m");
	if (send_opts.type && strcmp(send_opts.type, "chat") != 0 &&
	    strcmp(send_opts.type, "normal") != 0 && strcmp(send_opts.type, "headline") != 0 &&
	    strcmp(send_opts.type, "groupchat") != 0)
		return cmd_fail(XU_ERR_USAGE, "--type must be chat, normal, headline or groupchat");
	for (size_t i = 0; send_groupchat() && i < job->nto; i++)
		if (!xu_jid_local(job->to[i]) || xu_jid_resource(job->to[i]))
			return cmd_fail(XU_ERR_DATA, "%s: a room is room@service",
			                xu_jid_full(job->to[i]));
	return 0;
}

static int send_run(poptContext pc)
{
	struct send_job job;
	struct cmd_conn cc;
	struct xu_conn *conn = NULL;
	char *body = NULL;
	size_t i;
	int rc;

	memset(&job, 0, sizeof(job));
	memset(&cc, 0, sizeof(cc));
	rc = send_recipients(pc, &job);
	if (!rc)
		rc = send_check_usage(&job);
	if (rc)
		goto out;
	if (send_opts.xml) {
		rc = send_xml_input(&job);
	} else if (!send_opts.lines) {
		rc = cmd_body(send_opts.message, SEND_MAX_INPUT, &body);
		if (!rc && !*body)
			rc = cmd_fail(XU_ERR_DATA, "empty message (nothing on stdin, or -m '')");
		if (!rc)
			rc = send_build(&job, body, "");
	}
	if (rc)
		goto out;
	if (send_opts.dry_run) {
		if (send_opts.lines) {
			rc = send_lines(NULL, &job);
			goto out;
		}
		for (i = 0; i < job.nstanzas && !rc; i++)
			rc = send_print(job.stanzas[i]);
		goto out;
	}
	rc = cmd_conn_setup(&cc);
	/* --lines may sit idle for days: probe a silent server after --timeout seconds, so a
	 * dead link ends the run (75) within twice that rather than at the next line. */
	if (send_opts.lines)
		cc.opts.keepalive_ms = cc.opts.timeout_ms;
	cc.opts.queue_stanzas = send_groupchat();
	if (!rc)
		rc = cmd_connect(&cc, &conn);
	if (rc)
		goto out;
	if (send_groupchat())
		rc = send_rooms(conn, &job, body);
	else
		rc = send_opts.lines ? send_lines(conn, &job) : send_all(conn, &job);
out:
	xu_conn_free(conn);
	cmd_conn_free(&cc);
	send_job_free(&job);
	free(body);
	return rc;
}

int main(int argc, const char **argv)
{
	poptContext pc;
	int rc;

	cmd_prog = "xmpp-send";
	rc = cmd_parse(argc, argv, send_table, "JID... [-m TEXT]  (body from -m, or stdin)", &pc);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = send_run(pc);
	poptFreeContext(pc);
	return rc;
}
