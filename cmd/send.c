/* send.c: xmpp-send: deliver messages and exit 0 only when the server has every one.
 *
 * usage: xmpp-send [OPTIONS] JID... [-m TEXT]
 * Body from -m, or all of stdin; --lines sends each stdin line as it arrives; --xml sends raw
 * stanzas from stdin. Delivery is confirmed by XEP-0198 acks or an XEP-0199 ping answered
 * after the last message (RFC 6120 §10.1: the server handles a stream in order).
 * A connection lost on the way is reopened within --timeout: the session resumed (XEP-0198
 * §5) or, on a new one, what the server had not confirmed sent again with the same ids.
 * On a terminal, --lines from a file shows its progress on stderr (cmd/progress.c).
 */
#include "common.h"
#include "lines.h"
#include "progress.h"
#include "rooms.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

/* Stdin as one message: the server's stanza limit bounds it far below this anyway. */
#define SEND_MAX_INPUT (16u * 1024 * 1024)
#define SEND_MAX_LINE (1024u * 1024)
/* Reconnecting after a loss: attempts within --timeout, the pause before each (doubling from
 * 250 ms to 2 s), and losses in a row without a confirmation in between before giving up. */
#define SEND_ATTEMPTS 8
#define SEND_BACKOFF_MS 250
#define SEND_BACKOFF_MAX_MS 2000
#define SEND_LOSSES 5
/* --lines with progress shown: confirm at least every 64 KiB of input (what a pipe hands on
 * in one read), so that "confirmed" moves while a large file goes out. */
#define SEND_PROGRESS_CHUNK (64u * 1024)

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

/* The connection and what it has not confirmed: each stanza handed to it is tagged with what
 * names it in a report (its line with --lines, else its place in the job), and the tags are
 * dropped once a flush confirms them all. Unconfirmed stanzas are always the latest ones. */
struct send_link {
	struct cmd_conn *cc;
	struct xu_conn *conn;
	const struct send_job *job;
	unsigned long *tag;
	size_t ntag;
	size_t tagcap;
	size_t total;    /* stanzas in the job (not --lines) */
	unsigned losses; /* reconnections since the last confirmation */
	/* --lines from a file on a terminal: the progress line. */
	bool progress;
	unsigned long sent_line; /* the last line handed to the connection */
	unsigned long done_line; /* every line up to it is confirmed */
	uint64_t size;           /* bytes of the file from where we started, 0: unknown */
	uint64_t bytes;          /* bytes of it read through sent_line (estimated) */
	uint64_t confirm_at;     /* bytes after which to confirm again */
};

static void send_tag(struct send_link *sl, unsigned long tag)
{
	if (sl->ntag == sl->tagcap) {
		sl->tagcap = sl->tagcap ? sl->tagcap * 2 : 64;
		sl->tag = cmd_xrealloc(sl->tag, sl->tagcap * sizeof(*sl->tag));
	}
	sl->tag[sl->ntag++] = tag;
}

/* "the messages to a, b and 3 more" for the unconfirmed tail of a one-message job. */
static void send_name_recipients(const struct send_link *sl, size_t from, char *out, size_t len)
{
	size_t i, used = 0, shown = 0;

	out[0] = '\0';
	for (i = from; i < sl->ntag && shown < 3; i++, shown++) {
		size_t k = sl->tag[i] - 1;
		const char *to = k < sl->job->nto ? xu_jid_full(sl->job->to[k]) : "?";
		int n = snprintf(out + used, len - used, "%s%s", shown ? ", " : "", to);

		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
	if (i < sl->ntag)
		snprintf(out + used, len - used, " and %zu more", sl->ntag - i);
}

/* The run fails: say exactly which stanzas the server did not confirm, nothing silently. */
static int send_unconfirmed(struct send_link *sl, enum xu_err err, const char *why)
{
	uint64_t u = sl->conn ? xu_conn_unconfirmed(sl->conn) : 0;
	size_t from;
	unsigned long first, last;

	if (u > sl->ntag)
		u = sl->ntag;
	if (u == 0)
		return cmd_fail(err, "%s", why);
	from = sl->ntag - (size_t)u;
	first = sl->tag[from];
	last = sl->tag[sl->ntag - 1];
	if (send_opts.lines) {
		/* With several recipients the first line may be confirmed to some of them. */
		bool part = from > 0 && sl->tag[from - 1] == first;

		if (first == last)
			return cmd_fail(err,
			                "%s; line %lu not confirmed by the server%s (nothing "
			                "after it was sent)",
			                why, first, part ? " (to some recipients)" : "");
		if (part)
			return cmd_fail(err,
			                "%s; lines %lu-%lu not confirmed by the server (%llu "
			                "messages, line %lu only to some recipients; nothing "
			                "after line %lu was sent)",
			                why, first, last, (unsigned long long)u, first, last);
		return cmd_fail(err,
		                "%s; lines %lu-%lu not confirmed by the server (%llu "
		                "messages; nothing after line %lu was sent)",
		                why, first, last, (unsigned long long)u, last);
	}
	if (send_opts.xml) {
		if (first == last)
			return cmd_fail(err, "%s; stanza %lu of %zu not confirmed by the server",
			                why, first, sl->total);
		return cmd_fail(err, "%s; stanzas %lu-%lu of %zu not confirmed by the server", why,
		                first, last, sl->total);
	}
	{
		char names[400];

		send_name_recipients(sl, from, names, sizeof(names));
		return cmd_fail(
		    err, "%s; %llu of %zu message%s not confirmed by the server (to %s)", why,
		    (unsigned long long)u, sl->total, sl->total == 1 ? "" : "s", names);
	}
}

/* Before reconnect attempt n (from 1): 250 ms doubling to 2 s. */
static int64_t send_backoff_ms(unsigned n)
{
	int64_t ms = SEND_BACKOFF_MS;

	while (--n > 0 && ms < SEND_BACKOFF_MAX_MS)
		ms *= 2;
	return ms < SEND_BACKOFF_MAX_MS ? ms : SEND_BACKOFF_MAX_MS;
}

/* The connection was lost (err): reconnect within --timeout, in a few attempts with backoff.
 * xu_conn_open resumes the session (XEP-0198 §5) or, on a new one, sends again what the server
 * had not confirmed, with the same ids (resend_unacked). Returns 0 with sl->conn working, or
 * the exit code after saying which stanzas were not confirmed. */
static int send_recover(struct send_link *sl, enum xu_err err)
{
	struct xu_conn *next;
	char lost[520], why[1100];
	int64_t deadline = cmd_now_ms() + (int64_t)cmd_opts.timeout * 1000;
	unsigned attempt;
	uint64_t resent;

	snprintf(lost, sizeof(lost), "%s", xu_conn_errmsg(sl->conn));
	snprintf(why, sizeof(why), "%s", lost);
	if (err != XU_ERR_TEMP)
		return send_unconfirmed(sl, err, why);
	if (sl->losses++ >= SEND_LOSSES) {
		snprintf(why, sizeof(why), "%s (lost %u times in a row without a confirmation)",
		         lost, sl->losses);
		return send_unconfirmed(sl, err, why);
	}
	if (cmd_opts.verbose)
		cmd_note("connection lost: %s; reconnecting", lost);
	for (attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
		int64_t left = deadline - cmd_now_ms(), pause = send_backoff_ms(attempt);

		if (attempt > 1 && pause >= left)
			break;
		if (attempt > 1)
			poll(NULL, 0, (int)pause);
		left = deadline - cmd_now_ms();
		if (left < 1)
			break;
		sl->cc->opts.timeout_ms = (unsigned)left;
		next = NULL;
		err = xu_conn_new(&sl->cc->opts, &next);
		if (!err)
			err = xu_conn_resume_from(next, sl->conn);
		if (err) {
			snprintf(why, sizeof(why), "%s; reconnecting failed: %s", lost,
			         next ? xu_conn_errmsg(next) : xu_err_str(err));
			xu_conn_free(next);
			return send_unconfirmed(sl, err, why);
		}
		xu_conn_free(sl->conn);
		sl->conn = next;
		err = xu_conn_open(next);
		if (!err)
			break;
		snprintf(why, sizeof(why), "%s; reconnecting failed: %s", lost,
		         xu_conn_errmsg(next));
		if (cmd_opts.verbose)
			cmd_note("reconnecting: %s", xu_conn_errmsg(next));
		if (err != XU_ERR_TEMP)
			break;
	}
	sl->cc->opts.timeout_ms = (unsigned)cmd_opts.timeout * 1000u;
	if (err || attempt > SEND_ATTEMPTS) {
		if (!err)
			err = XU_ERR_TEMP;
		if (strcmp(why, lost) == 0)
			snprintf(why, sizeof(why), "%s; not back within %d s", lost,
			         cmd_opts.timeout);
		return send_unconfirmed(sl, err, why);
	}
	xu_conn_set_timeout(sl->conn, (unsigned)cmd_opts.timeout * 1000u);
	resent = xu_conn_resent(sl->conn);
	if (resent)
		cmd_warn("%s; resent %llu unconfirmed message%s after "
		         "reconnecting (%s)",
		         lost, (unsigned long long)resent, resent == 1 ? "" : "s",
		         xu_conn_resumed(sl->conn) ? "session resumed"
		                                   : "new session: they may arrive twice");
	else if (cmd_opts.verbose)
		cmd_note("reconnected (%s)",
		         xu_conn_resumed(sl->conn) ? "session resumed" : "new session");
	return 0;
}

/* Hand one stanza (ownership passes) to the connection, reconnecting when it is lost; tag
 * names it in a report. Once the connection counted it, it keeps a copy to send again. Every
 * loss is recovered from where it shows, so the connection takes each stanza it is handed; one
 * it did not take (never sent) must not pass for recovered. */
static int send_one(struct send_link *sl, struct xu_stanza *st, unsigned long tag)
{
	uint64_t before = xu_conn_unconfirmed(sl->conn);
	enum xu_err err = xu_conn_send(sl->conn, st);

	if (xu_conn_unconfirmed(sl->conn) > before)
		send_tag(sl, tag);
	else if (!err || err == XU_ERR_TEMP)
		err = XU_ERR_INTERNAL;
	return err ? send_recover(sl, err) : 0;
}

/* Wait until the server confirmed everything sent, reconnecting (and so sending again) when
 * the connection is lost. */
static int send_confirm(struct send_link *sl)
{
	for (;;) {
		enum xu_err err;
		int rc;

		xu_conn_set_timeout(sl->conn, (unsigned)cmd_opts.timeout * 1000u);
		err = xu_conn_flush(sl->conn);
		if (!err) {
			sl->losses = 0;
			sl->ntag = 0;
			sl->done_line = sl->sent_line;
			return 0;
		}
		if (err == XU_ERR_REFUSED)
			return cmd_fail(err, "%s", xu_conn_errmsg(sl->conn));
		rc = send_recover(sl, err);
		if (rc)
			return rc;
	}
}

static int send_finish(struct send_link *sl, int rc)
{
	enum xu_err err;

	if (rc) {
		xu_conn_close(sl->conn);
		return rc;
	}
	xu_conn_set_timeout(sl->conn, (unsigned)cmd_opts.timeout * 1000u);
	err = xu_conn_close(sl->conn);
	return err ? cmd_fail(err, "%s", xu_conn_errmsg(sl->conn)) : 0;
}

static int send_all(struct send_link *sl, struct send_job *job)
{
	size_t i;
	int rc = 0;

	sl->total = job->nstanzas;
	for (i = 0; i < job->nstanzas; i++) {
		struct xu_stanza *st = job->stanzas[i];

		job->stanzas[i] = NULL;
		if (!rc)
			rc = send_one(sl, st, (unsigned long)i + 1);
		else
			xu_stanza_free(st);
	}
	if (!rc)
		rc = send_confirm(sl);
	return send_finish(sl, rc);
}

/* --lines: "4200 of ~10000 lines sent, 4100 confirmed (42%)", the total estimated from the
 * file's size and the bytes read so far; counts alone when the size is unknown. Confirmed: the
 * lines before the first one the server has not confirmed (to every recipient). */
static void send_progress(struct send_link *sl)
{
	unsigned long done = sl->sent_line;
	uint64_t u, total;

	if (!sl->progress || !cmd_progress_due())
		return;
	u = sl->conn ? xu_conn_unconfirmed(sl->conn) : 0;
	if (u > sl->ntag)
		u = sl->ntag;
	if (u > 0)
		done = sl->tag[sl->ntag - (size_t)u] - 1;
	if (done < sl->done_line)
		done = sl->done_line;
	if (sl->size == 0 || sl->bytes == 0) {
		cmd_progress_update(false, "%lu lines sent, %lu confirmed", sl->sent_line, done);
		return;
	}
	total = (uint64_t)((double)sl->sent_line * (double)sl->size / (double)sl->bytes + 0.5);
	if (total < sl->sent_line)
		total = sl->sent_line;
	cmd_progress_update(false, "%lu of ~%llu lines sent, %lu confirmed (%u%%)", sl->sent_line,
	                    (unsigned long long)total, done,
	                    (unsigned)((uint64_t)sl->sent_line * 100 / (total ? total : 1)));
}

/* --lines with stdin a regular file and stderr a terminal: show progress. */
static void send_progress_start(struct send_link *sl)
{
	struct stat st;
	off_t at;

	if (fstat(STDIN_FILENO, &st) != 0 || !S_ISREG(st.st_mode) || !cmd_progress_start())
		return;
	sl->progress = true;
	at = lseek(STDIN_FILENO, 0, SEEK_CUR);
	if (st.st_size > 0 && at >= 0 && at < st.st_size)
		sl->size = (uint64_t)(st.st_size - at);
	sl->confirm_at = SEND_PROGRESS_CHUNK;
}

/* --lines, one line: a message to each recipient, sent (or printed for --dry-run). */
static int send_line(struct cmd_lines *l, const char *text, const char *where)
{
	struct send_link *sl = l->ctx;
	struct send_job *job = (struct send_job *)sl->job;
	size_t k;
	int rc = send_build(job, text, where);

	if (sl->progress) {
		/* The line and its newline, and one byte for each empty line skipped before it
		 * (a CR LF file counts a little short: the total is an estimate). */
		sl->bytes += strlen(text) + 1 + (l->lineno - sl->sent_line - 1);
		sl->sent_line = l->lineno;
	}

	for (k = 0; !rc && k < job->nstanzas; k++) {
		struct xu_stanza *st = job->stanzas[k];

		job->stanzas[k] = NULL;
		if (!l->conn) {
			rc = send_print(st);
			xu_stanza_free(st);
		} else {
			rc = send_one(sl, st, l->lineno);
			l->conn = sl->conn;
		}
	}
	for (; k < job->nstanzas; k++) {
		xu_stanza_free(job->stanzas[k]);
		job->stanzas[k] = NULL;
	}
	job->nstanzas = 0;
	if (!rc && sl->progress && sl->bytes >= sl->confirm_at) {
		sl->confirm_at = sl->bytes + SEND_PROGRESS_CHUNK;
		rc = send_confirm(sl);
		l->conn = sl->conn;
	}
	if (!rc)
		send_progress(sl);
	return rc;
}

/* --lines: each batch of lines read together is confirmed before reading on. */
static int send_batch(struct cmd_lines *l)
{
	struct send_link *sl = l->ctx;
	int rc;

	if (!l->conn)
		return 0;
	rc = send_confirm(sl);
	l->conn = sl->conn;
	if (!rc)
		send_progress(sl);
	return rc;
}

/* --lines: the connection failed while stdin was idle. */
static int send_lines_recover(struct cmd_lines *l)
{
	struct send_link *sl = l->ctx;
	int rc = send_recover(sl, l->err);

	l->conn = sl->conn;
	return rc;
}

/* --lines: stdin and the connection in one poll() loop (cmd/lines.c), so the server's pings
 * and acks are answered while stdin is idle for days. Lines not read yet stay in stdin (or
 * our buffer) while the connection is reopened. */
static int send_lines(struct send_link *sl)
{
	struct cmd_lines l = {sl->conn, send_line, send_batch, send_lines_recover, sl, XU_OK, 0};
	int rc;

	if (sl->conn)
		send_progress_start(sl);
	rc = cmd_lines(&l, SEND_MAX_LINE);
	if (!sl->conn)
		return rc > 0 ? rc : 0;
	if (rc < 0)
		rc = send_unconfirmed(sl, l.err ? l.err : XU_ERR_TEMP, xu_conn_errmsg(sl->conn));
	if (!rc)
		rc = send_confirm(sl);
	rc = send_finish(sl, rc);
	cmd_progress_end();
	return rc;
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
	struct send_link sl;
	struct cmd_conn cc;
	struct xu_conn *conn = NULL;
	char *body = NULL;
	size_t i;
	int rc;

	memset(&job, 0, sizeof(job));
	memset(&cc, 0, sizeof(cc));
	memset(&sl, 0, sizeof(sl));
	sl.job = &job;
	sl.cc = &cc;
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
			rc = send_lines(&sl);
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
	/* A lost connection is reopened: resumed, or what was not confirmed sent again. */
	cc.opts.resumable = !send_groupchat();
	cc.opts.resend_unacked = !send_groupchat();
	/* One batch of messages: binding, stream management, the messages and the request for
	 * confirmation go in one flight after authentication. */
	cc.opts.pipeline = !send_opts.lines && !send_groupchat();
	if (!rc)
		rc = cmd_connect(&cc, &conn);
	if (rc)
		goto out;
	sl.conn = conn;
	if (send_groupchat())
		rc = send_rooms(conn, &job, body);
	else
		rc = send_opts.lines ? send_lines(&sl) : send_all(&sl, &job);
	conn = sl.conn ? sl.conn : conn;
out:
	free(sl.tag);
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
