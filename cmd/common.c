/* common.c: shared option table, account and password resolution, diagnostics, and the one
 * mapping from library errors to sysexits(3) exit codes. */
#include "common.h"
#include "progress.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <sysexits.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

struct cmd_common cmd_opts;
const char *cmd_prog = "xmpp-utils";

struct poptOption cmd_common_table[] = {
    {"jid", 'j', POPT_ARG_STRING, &cmd_opts.jid, CMD_STR, "account JID (or $XMPP_JID)", "JID"},
    {"account", 'a', POPT_ARG_STRING, &cmd_opts.account, CMD_STR, "account from the config file",
     "NAME"},
    {"password-file", 0, POPT_ARG_STRING, &cmd_opts.password_file, CMD_STR,
     "read the password from the first line of FILE", "FILE"},
    {"password-command", 0, POPT_ARG_STRING, &cmd_opts.password_command, CMD_STR,
     "take the password from the first line CMD prints", "CMD"},
    {"password-fd", 0, POPT_ARG_INT, &cmd_opts.password_fd, 0,
     "read the password from the first line of file descriptor N", "N"},
    {"host", 0, POPT_ARG_STRING, &cmd_opts.host, CMD_STR, "connect to HOST instead of DNS SRV",
     "HOST"},
    {"port", 'p', POPT_ARG_INT, &cmd_opts.port, 0, "port (default 5222, 5223 direct TLS)", "PORT"},
    {"direct-tls", 0, POPT_ARG_NONE, &cmd_opts.direct_tls, 0, "TLS from the first byte (XEP-0368)",
     NULL},
    {"cafile", 0, POPT_ARG_STRING, &cmd_opts.cafile, CMD_STR,
     "trust the CA certificates in FILE instead of the system's", "FILE"},
    {"pin", 0, POPT_ARG_STRING, &cmd_opts.pin, CMD_STR, "also require this public key pin",
     "sha256:BASE64"},
    {"insecure", 0, POPT_ARG_NONE, &cmd_opts.insecure, 0, "do not verify the server certificate",
     NULL},
    {"allow-plaintext", 0, POPT_ARG_NONE, &cmd_opts.allow_plaintext, 0,
     "accept a server that offers no STARTTLS", NULL},
    {"resource", 'r', POPT_ARG_STRING, &cmd_opts.resource, CMD_STR, "resource to bind", "RES"},
    {"timeout", 0, POPT_ARG_INT, &cmd_opts.timeout, 0, "deadline for each step (default 30)",
     "SECONDS"},
    {"mechanism", 0, POPT_ARG_STRING, &cmd_opts.mechanism, CMD_STR, "force a SASL mechanism",
     "MECH"},
    {"no-cache", 0, POPT_ARG_NONE, &cmd_opts.no_cache, 0,
     "neither read nor write the per-account cache", NULL},
    {"verbose", 'v', POPT_ARG_NONE, &cmd_opts.verbose, 0, "print connection steps", NULL},
    {"debug", 0, POPT_ARG_NONE, &cmd_opts.debug, 0, "print the XML trace (secrets redacted)", NULL},
    {"config", 'c', POPT_ARG_STRING, &cmd_opts.config, CMD_STR,
     "config file (default $XDG_CONFIG_HOME/xmpp-utils/config)", "FILE"},
    {"version", 'V', POPT_ARG_NONE, NULL, 'V', "print the version and exit", NULL},
    {"help", 'h', POPT_ARG_NONE, NULL, 'h', "show this help and exit", NULL},
    {"usage", 0, POPT_ARG_NONE, NULL, 'u', "show a short usage message and exit", NULL},
    POPT_TABLEEND,
};

/* The exit status table: every man page's EXIT STATUS section lists exactly these. */
static const struct cmd_exit {
	enum xu_err err;
	int ex;
	int code;
	const char *meaning;
} cmd_exits[] = {
    {XU_OK, EX_OK, 0, "success: the server confirmed every message"},
    {XU_ERR_USAGE, EX_USAGE, 64, "usage error: bad option or argument"},
    {XU_ERR_DATA, EX_DATAERR, 65, "bad input data: invalid JID, malformed XML, bad body"},
    {XU_ERR_NOINPUT, EX_NOINPUT, 66, "an input file is missing or unreadable"},
    {XU_ERR_NOHOST, EX_NOHOST, 68, "host not found"},
    {XU_ERR_REFUSED, EX_UNAVAILABLE, 69, "recipient or service refused (stanza error)"},
    {XU_ERR_INTERNAL, EX_SOFTWARE, 70, "internal error"},
    {XU_ERR_NOMEM, EX_SOFTWARE, 70, "internal error (out of memory)"},
    {XU_ERR_IO, EX_IOERR, 74, "I/O error"},
    {XU_ERR_TEMP, EX_TEMPFAIL, 75, "temporary failure: connection refused or lost"},
    {XU_ERR_TIMEOUT, EX_TEMPFAIL, 75, "temporary failure: timeout, not confirmed"},
    {XU_ERR_PROTO, EX_PROTOCOL, 76, "protocol violation by the server"},
    {XU_ERR_AUTH, EX_NOPERM, 77, "permission: authentication failed"},
    {XU_ERR_TLS, EX_NOPERM, 77, "permission: certificate rejected or TLS unavailable"},
    {XU_ERR_CONFIG, EX_CONFIG, 78, "configuration error"},
};

void cmd_rename_option(const char *from, const char *to, const char *descrip)
{
	struct poptOption *o;

	for (o = cmd_common_table; o->longName || o->shortName || o->arg; o++) {
		if (o->longName && strcmp(o->longName, from) == 0) {
			o->longName = to;
			o->descrip = descrip;
		}
	}
}

int cmd_exit_code(enum xu_err err)
{
	size_t i;

	for (i = 0; i < sizeof(cmd_exits) / sizeof(cmd_exits[0]); i++)
		if (cmd_exits[i].err == err)
			return cmd_exits[i].ex;
	return EX_SOFTWARE;
}

/* Print one diagnostic line; anything that came from the peer is escaped on the way. */
static void cmd_vprint(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void cmd_vprint(const char *prefix, const char *fmt, va_list ap)
{
	char msg[2048];
	char *esc = NULL;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (xu_escape(msg, strlen(msg), XU_ESC_LINE, &esc) != XU_OK)
		esc = NULL;
	cmd_progress_clear(); /* never glued to a progress line */
	fprintf(stderr, "%s: %s%s\n", cmd_prog, prefix, esc ? esc : msg);
	free(esc);
}

int cmd_fail(enum xu_err err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vprint("", fmt, ap);
	va_end(ap);
	return cmd_exit_code(err);
}

void cmd_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vprint("", fmt, ap);
	va_end(ap);
}

void cmd_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmd_vprint("warning: ", fmt, ap);
	va_end(ap);
}

void *cmd_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "%s: out of memory\n", cmd_prog);
		exit(EX_SOFTWARE);
	}
	return p;
}

void *cmd_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "%s: out of memory\n", cmd_prog);
		exit(EX_SOFTWARE);
	}
	return q;
}

char *cmd_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(cmd_xmalloc(n), s, n);
}

#define CMD_MAX_STROPTS 64

/* Every string option's storage in a table, through included tables. */
static size_t cmd_stropts(const struct poptOption *t, char **targets[], size_t n)
{
	for (; t->longName || t->shortName || t->argInfo || t->arg; t++) {
		unsigned type = t->argInfo & POPT_ARG_MASK;

		if (type == POPT_ARG_INCLUDE_TABLE && t->arg)
			n = cmd_stropts(t->arg, targets, n);
		else if (type == POPT_ARG_STRING && t->arg && n < CMD_MAX_STROPTS)
			targets[n++] = t->arg;
	}
	return n;
}

/* After popt stored a string option: free the value it replaced, if any. */
static void cmd_replaced(char **targets[], char *before[], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (*targets[i] != before[i]) {
			free(before[i]);
			before[i] = *targets[i];
		}
	}
}

int cmd_parse(int argc, const char **argv, const struct poptOption *table, const char *usage,
              poptContext *ctx)
{
	char **targets[CMD_MAX_STROPTS];
	char *before[CMD_MAX_STROPTS];
	size_t nstr, i;

	poptContext pc;
	int rc;

	cmd_opts.timeout = 30;
	cmd_opts.password_fd = -1;
	pc = poptGetContext(cmd_prog, argc, argv, table, 0);
	poptSetOtherOptionHelp(pc, usage);
	nstr = cmd_stropts(table, targets, 0);
	for (i = 0; i < nstr; i++)
		before[i] = *targets[i];
	while ((rc = poptGetNextOpt(pc)) > 0) {
		if (rc == CMD_STR) {
			cmd_replaced(targets, before, nstr);
			continue;
		}
		if (rc == 'V' || rc == 'h' || rc == 'u') {
			if (rc == 'V') {
				char libs[300];

				xu_versions(libs, sizeof(libs));
				printf("%s %s\n%s\n", cmd_prog, XU_VERSION, libs);
			} else if (rc == 'h')
				poptPrintHelp(pc, stdout, 0);
			else
				poptPrintUsage(pc, stdout, 0);
			poptFreeContext(pc);
			return -1;
		}
	}
	if (rc < -1) {
		fprintf(stderr, "%s: %s: %s (try --help)\n", cmd_prog,
		        poptBadOption(pc, POPT_BADOPTION_NOALIAS), poptStrerror(rc));
		poptFreeContext(pc);
		return EX_USAGE;
	}
	if (cmd_opts.password_fd < -1) {
		fprintf(stderr, "%s: --password-fd must be a file descriptor number\n", cmd_prog);
		poptFreeContext(pc);
		return EX_USAGE;
	}
	if (cmd_opts.timeout <= 0 || cmd_opts.timeout > 86400) {
		fprintf(stderr, "%s: --timeout must be 1..86400 seconds\n", cmd_prog);
		poptFreeContext(pc);
		return EX_USAGE;
	}
	if (cmd_opts.port < 0 || cmd_opts.port > 65535) {
		fprintf(stderr, "%s: --port must be 1..65535\n", cmd_prog);
		poptFreeContext(pc);
		return EX_USAGE;
	}
	*ctx = pc;
	return 0;
}

/* ---------------------------------------------------------------- accounts */

static const struct xu_account *cmd_find_account(const struct xu_config *cfg, const char *jid)
{
	const struct xu_account *a;
	struct xu_jid *want = NULL, *have = NULL;
	const char *why;
	bool same;

	if (cmd_opts.account)
		return xu_config_account(cfg, cmd_opts.account);
	a = xu_config_account(cfg, NULL);
	if (!jid || !a)
		return a;
	/* A JID from the command line or environment wins; the default account only lends
	 * its settings when it is the same account. */
	if (!a->jid || xu_jid_parse(jid, &want, &why) != XU_OK ||
	    xu_jid_parse(a->jid, &have, &why) != XU_OK) {
		xu_jid_free(want);
		return NULL;
	}
	same = xu_jid_bare_equal(want, have);
	xu_jid_free(want);
	xu_jid_free(have);
	return same ? a : NULL;
}

static void cmd_log(void *ctx, enum xu_log_level level, const char *msg)
{
	(void)ctx;
	if (level <= XU_LOG_WARN && strncmp(msg, "warning: ", 9) == 0)
		msg += 9;
	if (level <= XU_LOG_WARN)
		cmd_warn("%s", msg);
	else
		fprintf(stderr, "%s: %s\n", cmd_prog, msg);
}

/* $XDG_CACHE_HOME/xmpp-utils, else ~/.cache/xmpp-utils (XDG Base Directory: a relative
 * $XDG_CACHE_HOME is ignored). NULL with --no-cache or without a home. */
static char *cmd_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	const char *base = xdg && xdg[0] == '/' ? xdg : home && home[0] == '/' ? home : NULL;
	const char *sub = base == xdg ? "/xmpp-utils" : "/.cache/xmpp-utils";
	char *dir;

	if (cmd_opts.no_cache || !base)
		return NULL;
	dir = cmd_xmalloc(strlen(base) + strlen(sub) + 1);
	strcpy(dir, base);
	return strcat(dir, sub);
}

int cmd_conn_setup(struct cmd_conn *cc)
{
	const struct xu_account *acct = NULL;
	const char *jid;
	char *errmsg = NULL;
	enum xu_err err;
	int rc;

	memset(cc, 0, sizeof(*cc));
	cmd_take_env_password();
	err = xu_config_load(cmd_opts.config, &cc->cfg, &errmsg);
	if (err) {
		rc = cmd_fail(err, "%s", errmsg ? errmsg : xu_err_str(err));
		free(errmsg);
		return rc;
	}
	jid = cmd_opts.jid ? cmd_opts.jid : getenv("XMPP_JID");
	acct = cmd_find_account(cc->cfg, jid);
	if (cmd_opts.account && !acct)
		return cmd_fail(XU_ERR_CONFIG, "no account '%s' in the config file",
		                cmd_opts.account);
	if (!jid && acct)
		jid = acct->jid;
	if (!jid)
		return cmd_fail(XU_ERR_USAGE, "no account: give --jid, set XMPP_JID, or configure "
		                              "an account (see xmpp-utils.conf(5))");
	rc = cmd_password(acct, jid, &cc->password);
	if (rc)
		return rc;
	cc->opts.jid = jid;
	cc->opts.password = cc->password;
	cc->opts.host = cmd_opts.host ? cmd_opts.host : acct ? acct->host : NULL;
	cc->opts.port = cmd_opts.port            ? (unsigned)cmd_opts.port
	                : acct && acct->port > 0 ? (unsigned)acct->port
	                                         : 0;
	cc->opts.direct_tls = cmd_opts.direct_tls || (acct && acct->direct_tls == 1);
	cc->opts.cafile = cmd_opts.cafile ? cmd_opts.cafile : acct ? acct->cafile : NULL;
	cc->opts.pin = cmd_opts.pin ? cmd_opts.pin : acct ? acct->pin : NULL;
	cc->opts.insecure = cmd_opts.insecure || (acct && acct->insecure == 1);
	cc->opts.allow_plaintext = cmd_opts.allow_plaintext || (acct && acct->allow_plaintext == 1);
	cc->opts.resource = cmd_opts.resource ? cmd_opts.resource : acct ? acct->resource : NULL;
	cc->opts.mechanism = cmd_opts.mechanism ? cmd_opts.mechanism
	                     : acct             ? acct->mechanism
	                                        : NULL;
	cc->opts.timeout_ms = (unsigned)cmd_opts.timeout * 1000u;
	if (acct && acct->timeout > 0 && cmd_opts.timeout == 30)
		cc->opts.timeout_ms = (unsigned)acct->timeout * 1000u;
	cc->cache_dir = cmd_cache_dir();
	cc->opts.cache_dir = cc->cache_dir;
	cc->opts.log = cmd_log;
	cc->opts.log_level = cmd_opts.debug     ? XU_LOG_DEBUG
	                     : cmd_opts.verbose ? XU_LOG_INFO
	                                        : XU_LOG_WARN;
	return 0;
}

void cmd_conn_free(struct cmd_conn *cc)
{
	cmd_password_forget();
	if (cc->password) {
		gnutls_memset(cc->password, 0, strlen(cc->password));
		free(cc->password);
	}
	xu_config_free(cc->cfg);
	free(cc->cache_dir);
	memset(cc, 0, sizeof(*cc));
}

int cmd_connect(struct cmd_conn *cc, struct xu_conn **conn)
{
	enum xu_err err;

	err = xu_conn_new(&cc->opts, conn);
	if (err) {
		int rc = cmd_fail(err, "%s", *conn ? xu_conn_errmsg(*conn) : xu_err_str(err));

		xu_conn_free(*conn);
		*conn = NULL;
		return rc;
	}
	err = xu_conn_open(*conn);
	if (err) {
		int rc = cmd_fail(err, "%s", xu_conn_errmsg(*conn));

		xu_conn_free(*conn);
		*conn = NULL;
		return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- signals and clocks */

static int cmd_sigpipe[2] = {-1, -1};
static volatile sig_atomic_t cmd_stop_count;

static void cmd_on_signal(int sig)
{
	int saved = errno;
	char c = (char)sig;

	if ((sig == SIGINT || sig == SIGTERM) && cmd_stop_count < 2)
		cmd_stop_count++;
	if (write(cmd_sigpipe[1], &c, 1) < 0) {
		/* full pipe: a wake-up is already pending */
	}
	errno = saved;
}

int cmd_signals(bool child)
{
	struct sigaction sa;
	int i;

	if (pipe(cmd_sigpipe) != 0)
		return cmd_fail(XU_ERR_IO, "pipe: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		fcntl(cmd_sigpipe[i], F_SETFL, fcntl(cmd_sigpipe[i], F_GETFL) | O_NONBLOCK);
		fcntl(cmd_sigpipe[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cmd_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (child)
		sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

int cmd_signal_fd(void)
{
	return cmd_sigpipe[0];
}

int cmd_stops(void)
{
	return cmd_stop_count;
}

void cmd_signals_drain(void)
{
	char buf[64];

	while (read(cmd_sigpipe[0], buf, sizeof(buf)) > 0)
		;
}

int64_t cmd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cmd_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- output */

int cmd_write(const char *out, size_t len)
{
	if (fwrite(out, 1, len, stdout) == len && fflush(stdout) == 0)
		return 0;
	if (errno == EPIPE)
		return cmd_fail(XU_ERR_IO, "standard output was closed; stopping");
	return cmd_fail(XU_ERR_IO, "writing standard output: %s", strerror(errno));
}

int cmd_put(enum xu_err err, char *out, size_t len)
{
	int rc = err ? cmd_fail(err, "cannot format a record: %s", xu_err_str(err))
	             : cmd_write(out, len);

	free(out);
	return rc;
}

/* https://no-color.org: a non-empty $NO_COLOR turns colour off unless asked for by name. */
static bool cmd_color_on(const char *when)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (when && strcmp(when, "always") == 0)
		return true;
	if (when && strcmp(when, "never") == 0)
		return false;
	return isatty(STDOUT_FILENO) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
}

int cmd_format(const char *name, const char *color, enum xu_rec_format *fmt)
{
	if (!name || strcmp(name, "text") == 0)
		*fmt = XU_REC_TEXT;
	else if (strcmp(name, "json") == 0)
		*fmt = XU_REC_JSON;
	else if (strcmp(name, "xml") == 0)
		*fmt = XU_REC_XML;
	else
		return cmd_fail(XU_ERR_USAGE, "--format must be text, json or xml");
	if (color && strcmp(color, "auto") != 0 && strcmp(color, "always") != 0 &&
	    strcmp(color, "never") != 0)
		return cmd_fail(XU_ERR_USAGE, "--color must be auto, always or never");
	if (*fmt == XU_REC_TEXT && cmd_color_on(color))
		*fmt = XU_REC_TEXT_COLOR;
	return 0;
}

char *cmd_join(const char *const *parts, size_t n, const char *sep)
{
	size_t len = 1, i, at = 0;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(parts[i]) + (i ? strlen(sep) : 0);
	s = cmd_xmalloc(len);
	for (i = 0; i < n; i++) {
		if (i) {
			memcpy(s + at, sep, strlen(sep));
			at += strlen(sep);
		}
		memcpy(s + at, parts[i], strlen(parts[i]));
		at += strlen(parts[i]);
	}
	s[at] = '\0';
	return s;
}

int cmd_body(const char *message, size_t max, char **body)
{
	size_t len;
	int rc;

	if (message) {
		*body = cmd_xstrdup(message);
		return 0;
	}
	rc = cmd_read_all(STDIN_FILENO, max, body, &len, "standard input");
	if (rc)
		return rc;
	if (len > 0 && (*body)[len - 1] == '\n')
		(*body)[--len] = '\0';
	if (len > 0 && (*body)[len - 1] == '\r')
		(*body)[--len] = '\0';
	if (strlen(*body) != len) {
		free(*body);
		*body = NULL;
		return cmd_fail(XU_ERR_DATA, "standard input holds a NUL byte");
	}
	return 0;
}

int cmd_read_all(int fd, size_t max, char **out, size_t *len, const char *what)
{
	size_t cap = 4096, n = 0;
	char *buf = cmd_xmalloc(cap + 1);
	ssize_t r;

	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				free(buf);
				return cmd_fail(XU_ERR_DATA, "%s is larger than %zu bytes", what,
				                max);
			}
			cap = cap * 2 > max ? max : cap * 2;
			buf = cmd_xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return cmd_fail(XU_ERR_IO, "reading %s: %s", what, strerror(errno));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
