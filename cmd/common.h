/* common.h: what every xmpp-utils command shares: options, account, password, diagnostics,
 * and the one table from library errors to exit codes. */
#ifndef XU_CMD_COMMON_H
#define XU_CMD_COMMON_H

#include "xu.h"

#include <popt.h>
#include <stdarg.h>

/* The connection options common to every command, filled by popt. */
struct cmd_common {
	char *jid;
	char *account;
	char *password_file;
	char *password_command;
	int password_fd; /* -1: none */
	char *host;
	int port;
	int direct_tls;
	char *cafile;
	char *pin;
	int insecure;
	int allow_plaintext;
	char *resource;
	int timeout;
	char *mechanism;
	int no_cache;
	int verbose;
	int debug;
	char *config;
};

/* The val of every POPT_ARG_STRING option: popt then hands control back after storing, and
 * cmd_parse frees the value a repeated option replaced (popt itself would leak it). */
#define CMD_STR 0x5354

extern struct cmd_common cmd_opts;
extern struct poptOption cmd_common_table[];
extern const char *cmd_prog;

/* password.c. Take $XMPP_PASSWORD out of the environment (no child inherits it). */
void cmd_take_env_password(void);
/* The password for jid: options, environment, account, else a prompt when standard input is a
 * terminal. Returns 0 with *out malloc'ed, or the exit code after saying why. */
int cmd_password(const struct xu_account *acct, const char *jid, char **out);
/* Wipe what cmd_take_env_password kept. */
void cmd_password_forget(void);

/* Everything a command needs to connect, resolved from options, environment and config. */
struct cmd_conn {
	struct xu_conn_opts opts;
	char *password;  /* wiped and freed by cmd_conn_free */
	char *cache_dir; /* $XDG_CACHE_HOME/xmpp-utils, NULL with --no-cache */
	struct xu_config *cfg;
};

/* Rename a shared option for one command (xmpp-listen's --timeout means the whole run). */
void cmd_rename_option(const char *from, const char *to, const char *descrip);

/* Exit code for a library error (the one mapping; man pages list the same table). */
int cmd_exit_code(enum xu_err err);

/* Print "prog: message" on stderr, return the exit code of err. */
int cmd_fail(enum xu_err err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "prog: message" on stderr (a notice, not a failure). */
void cmd_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "prog: warning: message" on stderr. */
void cmd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse argv with the command's table (which includes cmd_common_table). On success *ctx holds
 * the leftover arguments; on failure the exit code (64) is returned after the message; -1
 * means the run is complete (--version) and the command exits 0. The
 * caller frees *ctx with poptFreeContext. `usage` is the one-line synopsis after the name. */
int cmd_parse(int argc, const char **argv, const struct poptOption *table, const char *usage,
              poptContext *ctx);

/* Resolve account, JID, password and connection options. Returns 0 or an exit code (after
 * printing the message). */
int cmd_conn_setup(struct cmd_conn *cc);
void cmd_conn_free(struct cmd_conn *cc);

/* Open a connection with cc's options; 0 or an exit code (message printed). */
int cmd_connect(struct cmd_conn *cc, struct xu_conn **conn);

/* Stop signals for commands with their own poll() loop: SIGINT and SIGTERM are counted
 * (cmd_stops: 0, 1, 2 or more) and, with SIGCHLD when `child`, wake poll() through
 * cmd_signal_fd (readable until cmd_signals_drain). SIGPIPE is ignored: a closed stdout shows
 * as EPIPE on the write, reported in one line. Returns 0 or an exit code. */
int cmd_signals(bool child);
int cmd_signal_fd(void);
int cmd_stops(void);
void cmd_signals_drain(void);

/* Milliseconds: monotonic (deadlines) and Unix time (timestamps). */
int64_t cmd_now_ms(void);
int64_t cmd_wall_ms(void);

/* out[0..len) on stdout, flushed at once (records must not wait in a buffer). Returns 0, or
 * exit 74 with one line; a closed stdout (EPIPE) says so. */
int cmd_write(const char *out, size_t len);
/* What a formatter returned (err, and out of len bytes) on stdout; out is freed. Returns 0
 * or an exit code (message printed). */
int cmd_put(enum xu_err err, char *out, size_t len);

/* --color WHEN, next to --format in the tables of the commands that print records. */
#define CMD_COLOR_OPTION(var)                                                                      \
	{                                                                                          \
		"color", 0, POPT_ARG_STRING, &(var), CMD_STR,                                      \
		    "colour in text output: auto (on a terminal, unless $NO_COLOR is set), "       \
		    "always or never",                                                             \
		    "WHEN"                                                                         \
	}

/* --format: text (also when NULL), json or xml into *fmt; text becomes XU_REC_TEXT_COLOR when
 * --color (color) says so: always, or auto (NULL) with stdout a terminal, $NO_COLOR unset or
 * empty and $TERM not "dumb". Returns 0 or the usage exit code (message printed). */
int cmd_format(const char *name, const char *color, enum xu_rec_format *fmt);

/* A message body: `message` (-m) when given, else all of stdin (at most max bytes) without one
 * trailing newline (LF or CRLF), as $(...) would. Returns 0 or an exit code (message printed:
 * a NUL byte is bad data). */
int cmd_body(const char *message, size_t max, char **body);

/* Read all of a file descriptor (capped). Returns 0 or an exit code (message printed). */
int cmd_read_all(int fd, size_t max, char **out, size_t *len, const char *what);

/* The n strings joined with sep, malloc'ed (never NULL). */
char *cmd_join(const char *const *parts, size_t n, const char *sep);

void *cmd_xmalloc(size_t n);
void *cmd_xrealloc(void *p, size_t n);
char *cmd_xstrdup(const char *s);

#endif
