/* progress.h: one progress line on standard error for long work, only when standard error is
 * a terminal: redrawn in place at most ten times a second, cut to the terminal's width, erased
 * before any other output and at the end. Never anything in a pipe or a file, nor on stdout. */
#ifndef XU_CMD_PROGRESS_H
#define XU_CMD_PROGRESS_H

#include <stdbool.h>

/* Begin showing progress: true when standard error is a terminal (and neither --verbose nor
 * --debug writes there meanwhile); otherwise every other call does nothing. */
bool cmd_progress_start(void);
/* Whether cmd_progress_start said yes and cmd_progress_end has not come yet: callers skip the
 * work of formatting a line when it would not be shown. */
bool cmd_progress_on(void);
/* Whether cmd_progress_update would draw now (the first line, or 100 ms since the last): lets
 * a caller compute costly figures only then. */
bool cmd_progress_due(void);
/* The line (without the "prog: " prefix, which is added), drawn when due; `force` draws it
 * anyway (a final figure). */
void cmd_progress_update(bool force, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Erase the line if one is shown (before other output on the terminal: diagnostics, records
 * on a stdout that is the same terminal); the next update draws it again. */
void cmd_progress_clear(void);
/* Erase the line and stop. */
void cmd_progress_end(void);

#endif
