/* lines.h: --lines: each line of standard input is a message, sent as it arrives, while the
 * connection is kept serviced (pings, acks, keepalive) however long stdin stays idle. */
#ifndef XU_CMD_LINES_H
#define XU_CMD_LINES_H

#include "common.h"

struct cmd_lines {
	struct xu_conn *conn; /* serviced while stdin is idle; NULL for a dry run */
	/* One non-empty line (NUL-terminated, without CR LF), `where` names it ("line 3").
	 * Returns 0, an exit code, or -1 after setting err (a connection failure). */
	int (*line)(struct cmd_lines *l, const char *text, const char *where);
	/* After the lines of one read, when there were any: as `line` (confirm them here). */
	int (*batch)(struct cmd_lines *l);
	/* The connection failed (err) while stdin was idle: reopen it (replacing conn) and
	 * return 0, or an exit code (message printed). NULL: cmd_lines returns -1. */
	int (*recover)(struct cmd_lines *l);
	void *ctx;
	enum xu_err err;      /* the connection's failure, when a -1 came back */
	unsigned long lineno; /* the line being handed on */
};

/* Read stdin to its end, lines at most max bytes. Returns 0, an exit code (message printed),
 * or -1 with l->err set: the connection failed (the caller says what was confirmed). */
int cmd_lines(struct cmd_lines *l, size_t max);

#endif
