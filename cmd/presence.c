/* presence.c: xmpp-presence: publish the account's presence, or read its contacts'.
 *
 * usage: xmpp-presence set [--show SHOW] [--status TEXT] [--priority N] [--to JID]... [--stay[=S]]
 *        xmpp-presence get [--wait S] [-f FMT] [JID...]
 *        xmpp-presence check [--wait S] [--print] JID      (exit 0 available, 1 not)
 * A presence lives as long as its connection: set confirms it (xu_conn_flush) and closes, or
 * with --stay holds it until the time is up or SIGINT/SIGTERM. get and check learn what the
 * server knows from the burst after our initial presence (RFC 6121 §4.2.2-4.2.3), taken as
 * complete once a ping sent after it is answered (RFC 6120 §10.1) and then no presence came
 * for a moment (servers whose contacts' sessions answer the probes themselves, as ejabberd,
 * answer the ping first), and last activity (XEP-0012) for contacts that are not available.
 * RFC 6121 §4, XEP-0012, XEP-0115, XEP-0199.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What get and check announce by default: a negative priority keeps the server from routing
 * messages to the bare JID, and from handing over offline messages, to a session that only
 * looks (RFC 6121 §8.5.2.1.1; XEP-0160 §3). */
#define PRESENCE_LOOK_PRIORITY (-1)
/* Exit status of check (not available) and of --wait when the time ran out. */
#define PRESENCE_NO 1
/* After the burst's ping is answered, presences may still be on their way (RFC 6121 §4.2.2
 * sets no order; ejabberd's contacts' sessions answer the probes after the ping): the burst
 * ends once none came for PRESENCE_SETTLE_MS, at most PRESENCE_SETTLE_MAX_MS after the ping,
 * or as soon as every contact asked for is available. */
#define PRESENCE_SETTLE_MS 250
#define PRESENCE_SETTLE_MAX_MS 2000
/* Silence after which a --stay connection probes the server, so a dead link ends the run; a
 * shorter --timeout shortens it too (a stopped server is then noticed within twice that). */
#define PRESENCE_KEEPALIVE_MS (60u * 1000)

static struct {
	char *show;
	char *status;
	int priority;
	const char **to;
	bool stay;
	long stay_s; /* 0: until a signal */
	bool stay_bad;
	int wait;
	char *format;
	char *color;
	int print;
} presence_opts;

/* --stay takes an optional value, which popt hands to a callback only. */
static void presence_stay_cb(poptContext con, enum poptCallbackReason reason,
                             const struct poptOption *opt, const char *arg, const void *data)
{
	char *end = NULL;

	presence_opts.stay = true;
	presence_opts.stay_s = 0;
	presence_opts.stay_bad = false;
	if (!arg)
		return;
	errno = 0;
	presence_opts.stay_s = strtol(arg, &end, 10);
	if (errno || end == arg || *end || presence_opts.stay_s <= 0 ||
	    presence_opts.stay_s > INT_MAX)
		presence_opts.stay_bad = true;
}

static struct poptOption presence_stay_table[] = {
    {NULL, 0, POPT_ARG_CALLBACK, (void *)presence_stay_cb, 0, NULL, NULL},
    {"stay", 0, POPT_ARG_STRING | POPT_ARGFLAG_OPTIONAL, NULL, 0,
     "set: stay online SECONDS (no value: until SIGINT or SIGTERM)", "SECONDS"},
    POPT_TABLEEND,
};

static struct poptOption presence_table[] = {
    {"show", 0, POPT_ARG_STRING, &presence_opts.show, CMD_STR,
     "set: presence show: away, chat, dnd or xa", "SHOW"},
    {"status", 0, POPT_ARG_STRING, &presence_opts.status, CMD_STR, "set: presence status text",
     "TEXT"},
    {"priority", 0, POPT_ARG_INT, &presence_opts.priority, 0,
     "presence priority (default 0 for set, -1 for get and check)", "N"},
    {"to", 0, POPT_ARG_ARGV, &presence_opts.to, 0,
     "set: directed presence to JID only, not to the contacts (repeatable)", "JID"},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, presence_stay_table, 0, NULL, NULL},
    {"wait", 0, POPT_ARG_INT, &presence_opts.wait, 0,
     "get, check: wait up to SECONDS for the contacts to come online", "SECONDS"},
    {"format", 'f', POPT_ARG_STRING, &presence_opts.format, CMD_STR,
     "get, check: record format: text, json or xml (default text)", "FMT"},
    CMD_COLOR_OPTION(presence_opts.color),
    {"print", 0, POPT_ARG_NONE, &presence_opts.print, 0, "check: also print what was found", NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, cmd_common_table, 0, "Connection options:", NULL},
    POPT_TABLEEND,
};

enum presence_verb {
	PRESENCE_SET,
	PRESENCE_GET,
	PRESENCE_CHECK,
};

struct presence_run {
	enum presence_verb verb;
	enum xu_rec_format fmt;
	struct xu_jid **jids; /* get and check: who; set: --to */
	size_t njids;
	struct cmd_conn cc;
	struct xu_conn *conn;
	struct xu_presences *heard;
	size_t nheard; /* presences taken into `heard` */
};

/* ---------------------------------------------------------------- the connection */

/* Reset the deadline of the next blocking step to --timeout. */
static void presence_step(struct presence_run *pr)
{
	xu_conn_set_timeout(pr->conn, pr->cc.opts.timeout_ms);
}

/* A failed connection: its message, then a bounded goodbye. */
static int presence_conn_fail(struct presence_run *pr, enum xu_err err)
{
	int rc = cmd_fail(err, "%s", xu_conn_errmsg(pr->conn));

	presence_step(pr);
	xu_conn_close(pr->conn);
	return rc;
}

/* Whether a presence is from one of the contacts asked for (so that what strangers send is
 * not kept), and not our own reflected back to us (RFC 6121 §4.2.2). */
static bool presence_wanted(const struct presence_run *pr, const char *from)
{
	struct xu_jid *j = NULL;
	const char *why;
	bool want = false;
	size_t i;

	if (pr->verb == PRESENCE_SET || !from || xu_jid_parse(from, &j, &why) != XU_OK)
		return false;
	if (!xu_jid_equal(j, xu_conn_jid(pr->conn)))
		for (i = 0; i < pr->njids && !want; i++)
			want = xu_jid_bare_equal(j, pr->jids[i]);
	xu_jid_free(j);
	return want;
}

/* Take what arrived: presences of the contacts are noted; a message here was routed to this
 * session and is not ours to show, so it is named rather than lost silently. */
static enum xu_err presence_drain(struct presence_run *pr)
{
	struct xu_stanza *st;
	enum xu_err err = XU_OK;

	while (!err && xu_conn_next(pr->conn, &st) == XU_OK && st) {
		const char *from = xu_stanza_attr(st, "from");

		if (strcmp(xu_stanza_name(st), "message") == 0)
			cmd_warn("a message from %s came to this session and is not shown "
			         "(a negative --priority keeps messages away)",
			         from ? from : "the server");
		else if (presence_wanted(pr, from)) {
			err = xu_presences_add(pr->heard, st);
			pr->nheard += !err;
		}
		xu_stanza_free(st);
	}
	return err;
}

/* One poll round on the connection and the signal pipe, at most until deadline (0: none). */
static enum xu_err presence_poll(struct presence_run *pr, int64_t deadline)
{
	struct pollfd p[2] = {{cmd_signal_fd(), POLLIN, 0},
	                      {xu_conn_fd(pr->conn), xu_conn_events(pr->conn), 0}};
	int wait = xu_conn_timeout_ms(pr->conn);
	if (deadline) {
		int64_t left = deadline - cmd_now_ms();

		left = left < 0 ? 0 : left > 3600000 ? 3600000 : left;
		if (wait < 0 || left < wait)
			wait = (int)left;
	}
	if (poll(p, 2, wait) < 0 && errno != EINTR)
		return XU_ERR_IO;
	if (p[0].revents)
		cmd_signals_drain();
	if (p[1].revents || xu_conn_timeout_ms(pr->conn) == 0)
		return xu_conn_dispatch(pr->conn, p[1].revents);
	return XU_OK;
}

/* ---------------------------------------------------------------- set */

static int presence_set(struct presence_run *pr)
{
	struct xu_stanza *pres = NULL;
	const char *why = NULL;
	int64_t deadline = 0;
	enum xu_err err = XU_OK;
	size_t i;

	/* RFC 6121 §4.6: directed presence goes to each --to, and the contacts hear nothing. */
	for (i = 0; i < (pr->njids ? pr->njids : 1) && !err; i++) {
		err = xu_presence_new(presence_opts.show, presence_opts.status,
		                      presence_opts.priority, &pres, &why);
		if (!err && pr->njids && xu_stanza_set_attr(pres, "to", xu_jid_full(pr->jids[i]))) {
			xu_stanza_free(pres);
			err = XU_ERR_NOMEM;
		}
		if (!err)
			err = xu_conn_send(pr->conn, pres);
	}
	if (!err)
		err = xu_conn_flush(pr->conn);
	if (err)
		return presence_conn_fail(pr, err);
	if (presence_opts.stay && presence_opts.stay_s)
		deadline = cmd_now_ms() + (int64_t)presence_opts.stay_s * 1000;
	while (presence_opts.stay && !cmd_stops() && !err &&
	       (!deadline || cmd_now_ms() < deadline)) {
		err = presence_drain(pr);
		if (!err)
			err = presence_poll(pr, deadline);
	}
	if (!err)
		err = presence_drain(pr);
	if (err)
		return presence_conn_fail(pr, err);
	presence_step(pr);
	err = xu_conn_close(pr->conn);
	return err ? cmd_fail(err, "%s", xu_conn_errmsg(pr->conn)) : 0;
}

/* ---------------------------------------------------------------- get and check */

/* Every contact of the roster, when get names none. */
static enum xu_err presence_roster(struct presence_run *pr)
{
	struct xu_stanza *iq = NULL, *reply = NULL;
	struct xu_roster *roster = NULL;
	const char *why;
	enum xu_err err;
	size_t i;

	err = xu_roster_get_iq(&iq);
	if (!err)
		err = xu_conn_iq(pr->conn, iq, &reply);
	if (!err)
		err = xu_roster_parse(reply, &roster);
	xu_stanza_free(reply);
	for (i = 0; !err && i < roster->n; i++) {
		pr->jids = cmd_xrealloc(pr->jids, (pr->njids + 1) * sizeof(*pr->jids));
		err = xu_jid_parse(roster->items[i].jid, &pr->jids[pr->njids], &why);
		if (!err)
			pr->njids++;
		else if (err != XU_ERR_NOMEM)
			err = XU_OK; /* xu_roster_parse keeps prepared JIDs only */
	}
	xu_roster_free(roster);
	return err;
}

static bool presence_all_available(const struct presence_run *pr);

/* The rest of the burst: presences until PRESENCE_SETTLE_MS pass without one (at most
 * PRESENCE_SETTLE_MAX_MS), or every contact asked for is available. */
static enum xu_err presence_settle(struct presence_run *pr)
{
	int64_t now = cmd_now_ms(), last = now, end = now + PRESENCE_SETTLE_MAX_MS;
	size_t seen = pr->nheard;
	enum xu_err err = XU_OK;

	while (!err && !cmd_stops() && !presence_all_available(pr)) {
		int64_t quiet = last + PRESENCE_SETTLE_MS, until = quiet < end ? quiet : end;

		if (cmd_now_ms() >= until)
			break;
		err = presence_poll(pr, until);
		if (!err)
			err = presence_drain(pr);
		if (pr->nheard != seen) {
			seen = pr->nheard;
			last = cmd_now_ms();
		}
	}
	return err;
}

/* Initial presence, then a ping: once it is answered the server has sent what it knows of
 * the local contacts as far as it handles probes in order (RFC 6120 §10.1); then what its
 * contacts' sessions still send (presence_settle). */
static enum xu_err presence_burst(struct presence_run *pr)
{
	struct xu_stanza *pres = NULL, *ping, *reply = NULL;
	const char *why = NULL;
	enum xu_err err;

	err = xu_presence_new(NULL, NULL, presence_opts.priority, &pres, &why);
	if (!err)
		err = xu_conn_send(pr->conn, pres);
	if (err)
		return err;
	ping = xu_stanza_new("iq", XU_NS_CLIENT);
	if (!ping || xu_stanza_set_attr(ping, "type", "get") ||
	    xu_stanza_set_attr(ping, "to", xu_jid_domain(xu_conn_jid(pr->conn))) ||
	    !xu_stanza_add_new(ping, "ping", XU_NS_PING)) {
		xu_stanza_free(ping);
		return XU_ERR_NOMEM;
	}
	err = xu_conn_iq(pr->conn, ping, &reply);
	xu_stanza_free(reply);
	if (!err)
		err = presence_drain(pr);
	if (!err)
		err = presence_settle(pr);
	return err;
}

static bool presence_all_available(const struct presence_run *pr)
{
	size_t i;

	for (i = 0; i < pr->njids; i++)
		if (!xu_presences_available(pr->heard, pr->jids[i], NULL, 0))
			return false;
	return true;
}

/* --wait: until every contact asked for is available, the time is up, or a signal. */
static enum xu_err presence_wait(struct presence_run *pr, bool *all)
{
	int64_t deadline = cmd_now_ms() + (int64_t)presence_opts.wait * 1000;
	enum xu_err err = XU_OK;

	while (!err && !(*all = presence_all_available(pr)) && !cmd_stops() &&
	       cmd_now_ms() < deadline) {
		err = presence_poll(pr, deadline);
		if (!err)
			err = presence_drain(pr);
	}
	return err;
}

static int presence_print(const struct xu_presence_info *info, enum xu_rec_format fmt)
{
	char *out = NULL;
	size_t len = 0;
	enum xu_err err = xu_presence_format(info, fmt, &out, &len);

	return cmd_put(err, out, len);
}

/* An unavailable contact's record, with when it was last seen where the server says. A server
 * that answers 0 seconds for an offline contact knows nothing (Prosody, for a contact it has
 * not seen leave since it started), so 0 reads as unknown. */
static int presence_print_gone(struct presence_run *pr, const struct xu_jid *jid, enum xu_err *cerr)
{
	struct xu_presence_info info;
	struct xu_stanza *iq = NULL, *reply = NULL;
	const char *status = NULL;
	uint64_t seconds = 0;
	int64_t now;
	char why[128];
	int rc;

	xu_presences_unavailable(pr->heard, jid, &info);
	*cerr = xu_last_query(jid, &iq);
	if (!*cerr) {
		presence_step(pr);
		*cerr = xu_conn_iq(pr->conn, iq, &reply);
	}
	if (*cerr)
		return 0;
	now = cmd_wall_ms() / 1000;
	if (xu_last_parse(reply, &seconds, &status, why, sizeof(why)) == XU_OK && seconds > 0 &&
	    seconds <= (uint64_t)now)
		info.last_seen = now - (int64_t)seconds;
	if (!info.status)
		info.status = status;
	rc = presence_print(&info, pr->fmt);
	xu_stanza_free(reply);
	return rc;
}

/* The records of one contact (or resource): each available resource, else one unavailable. */
static int presence_print_jid(struct presence_run *pr, const struct xu_jid *jid, bool best_only,
                              enum xu_err *cerr)
{
	struct xu_presence_info *infos;
	size_t n = xu_presences_available(pr->heard, jid, NULL, 0), i, best = 0;
	int rc = 0;

	if (n == 0)
		return presence_print_gone(pr, jid, cerr);
	infos = cmd_xmalloc(n * sizeof(*infos));
	xu_presences_available(pr->heard, jid, infos, n);
	for (i = 1; i < n; i++)
		if (infos[i].priority > infos[best].priority)
			best = i;
	for (i = 0; i < n && !rc; i++)
		if (!best_only || i == best)
			rc = presence_print(&infos[i], pr->fmt);
	free(infos);
	return rc;
}

static int presence_look(struct presence_run *pr)
{
	bool all = true;
	enum xu_err err = XU_OK;
	size_t i;
	int rc = 0;

	if (pr->njids == 0)
		err = presence_roster(pr);
	if (!err)
		err = presence_burst(pr);
	if (!err && presence_opts.wait)
		err = presence_wait(pr, &all);
	if (!err && !presence_opts.wait)
		all = presence_all_available(pr);
	for (i = 0; !err && !rc && i < pr->njids; i++) {
		if (pr->verb == PRESENCE_GET)
			rc = presence_print_jid(pr, pr->jids[i], false, &err);
		else if (presence_opts.print)
			rc = presence_print_jid(pr, pr->jids[i], true, &err);
	}
	if (err)
		return presence_conn_fail(pr, err);
	presence_step(pr);
	err = xu_conn_close(pr->conn);
	if (rc)
		return rc;
	if (err)
		return cmd_fail(err, "%s", xu_conn_errmsg(pr->conn));
	if (pr->verb == PRESENCE_CHECK || presence_opts.wait)
		return all ? 0 : PRESENCE_NO;
	return 0;
}

/* ---------------------------------------------------------------- usage */

static int presence_verb(const char *arg, enum presence_verb *verb)
{
	if (arg && strcmp(arg, "set") == 0)
		*verb = PRESENCE_SET;
	else if (arg && strcmp(arg, "get") == 0)
		*verb = PRESENCE_GET;
	else if (arg && strcmp(arg, "check") == 0)
		*verb = PRESENCE_CHECK;
	else
		return cmd_fail(XU_ERR_USAGE, "%s%s%s (usage: xmpp-presence set|get|check ...)",
		                arg ? "unknown command '" : "no command", arg ? arg : "",
		                arg ? "'" : "");
	return 0;
}

static int presence_add_jid(struct presence_run *pr, const char *s, const char *what)
{
	const char *why = NULL;
	struct xu_jid *j;
	enum xu_err err = xu_jid_parse(s, &j, &why);

	if (err)
		return cmd_fail(err, "invalid %s '%s': %s", what, s, why ? why : xu_err_str(err));
	pr->jids = cmd_xrealloc(pr->jids, (pr->njids + 1) * sizeof(*pr->jids));
	pr->jids[pr->njids++] = j;
	return 0;
}

/* Options that belong to another command than the one given. */
static int presence_misplaced(const struct presence_run *pr)
{
	bool set = pr->verb == PRESENCE_SET;

	if (!set &&
	    (presence_opts.show || presence_opts.status || presence_opts.to || presence_opts.stay))
		return cmd_fail(XU_ERR_USAGE, "--show, --status, --to and --stay go with set");
	if (set && (presence_opts.wait || presence_opts.format || presence_opts.print))
		return cmd_fail(XU_ERR_USAGE, "--wait, --format and --print go with get or check");
	if (pr->verb == PRESENCE_GET && presence_opts.print)
		return cmd_fail(XU_ERR_USAGE, "--print goes with check");
	return 0;
}

static int presence_check_values(struct presence_run *pr)
{
	struct xu_stanza *pres = NULL;
	const char *why = NULL;
	enum xu_err err;

	if (presence_opts.stay_bad)
		return cmd_fail(XU_ERR_USAGE, "--stay takes a number of seconds above 0");
	if (presence_opts.wait < 0)
		return cmd_fail(XU_ERR_USAGE, "--wait must not be negative");
	if (cmd_format(presence_opts.format, presence_opts.color, &pr->fmt))
		return cmd_exit_code(XU_ERR_USAGE);
	if (presence_opts.priority == INT_MIN)
		presence_opts.priority = pr->verb == PRESENCE_SET ? 0 : PRESENCE_LOOK_PRIORITY;
	/* A typo in the presence is a usage error before anything connects. */
	err = xu_presence_new(presence_opts.show, presence_opts.status, presence_opts.priority,
	                      &pres, &why);
	xu_stanza_free(pres);
	return err ? cmd_fail(err, "%s", why ? why : xu_err_str(err)) : 0;
}

static int presence_args(poptContext pc, struct presence_run *pr)
{
	const char *arg;
	size_t i;
	int rc;

	rc = presence_verb(poptGetArg(pc), &pr->verb);
	if (!rc)
		rc = presence_misplaced(pr);
	if (!rc)
		rc = presence_check_values(pr);
	if (rc)
		return rc;
	if (pr->verb == PRESENCE_SET && poptPeekArg(pc))
		return cmd_fail(XU_ERR_USAGE, "unexpected argument '%s' (set sends to --to JID)",
		                poptPeekArg(pc));
	while (!rc && (arg = poptGetArg(pc)) != NULL)
		rc = presence_add_jid(pr, arg, "JID");
	for (i = 0; !rc && presence_opts.to && presence_opts.to[i]; i++)
		rc = presence_add_jid(pr, presence_opts.to[i], "--to JID");
	if (rc)
		return rc;
	if (pr->verb == PRESENCE_CHECK && pr->njids != 1)
		return cmd_fail(XU_ERR_USAGE,
		                "check takes one JID (usage: xmpp-presence check JID)");
	if (presence_opts.wait && pr->njids == 0)
		return cmd_fail(XU_ERR_USAGE, "--wait needs the JIDs to wait for");
	return 0;
}

static int presence_run(poptContext pc)
{
	struct presence_run pr;
	size_t i;
	int rc;

	memset(&pr, 0, sizeof(pr));
	rc = presence_args(pc, &pr);
	if (!rc)
		rc = cmd_signals(false);
	if (!rc)
		rc = cmd_conn_setup(&pr.cc);
	if (rc)
		goto out;
	pr.cc.opts.queue_stanzas = true;
	if (presence_opts.stay)
		pr.cc.opts.keepalive_ms = pr.cc.opts.timeout_ms < PRESENCE_KEEPALIVE_MS
		                              ? pr.cc.opts.timeout_ms
		                              : PRESENCE_KEEPALIVE_MS;
	if (xu_presences_new(&pr.heard) != XU_OK) {
		rc = cmd_fail(XU_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = cmd_connect(&pr.cc, &pr.conn);
	if (rc)
		goto out;
	rc = pr.verb == PRESENCE_SET ? presence_set(&pr) : presence_look(&pr);
out:
	xu_conn_free(pr.conn);
	xu_presences_free(pr.heard);
	cmd_conn_free(&pr.cc);
	for (i = 0; i < pr.njids; i++)
		xu_jid_free(pr.jids[i]);
	free(pr.jids);
	return rc;
}

int main(int argc, const char **argv)
{
	poptContext pc;
	int rc;

	cmd_prog = "xmpp-presence";
	presence_opts.priority = INT_MIN; /* not given: each command has its default */
	rc = cmd_parse(argc, argv, presence_table,
	               "set|get|check [OPTIONS] [JID...]  (check: exit 0 available, 1 not)", &pc);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = presence_run(pc);
	poptFreeContext(pc);
	return rc;
}
