/* progress.c: see progress.h. The line is "\r" + text + "\033[K" (erase to the end of the
 * line: a shorter line leaves nothing of a longer one), erased with "\r\033[K". */
#include "progress.h"
#include "common.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* At most ten redraws a second. */
#define PROGRESS_INTERVAL_NS 100000000LL
#define PROGRESS_WIDTH 80

static struct {
	bool on;
	bool shown;   /* a line is on the terminal now */
	bool drawn;   /* one was drawn since start (else the first update is due at once) */
	int64_t last; /* when the last line was drawn (ns, monotonic) */
} progress;

static int64_t progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Columns of the terminal on stderr (80 when it does not say). */
static size_t progress_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return PROGRESS_WIDTH;
}

/* All of buf[0..len) on stderr, unbuffered (a short write to a terminal is retried). */
static void progress_write(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(STDERR_FILENO, buf, len);

		if (w <= 0)
			return; /* nothing to be done about a broken terminal: the run goes on */
		buf += w;
		len -= (size_t)w;
	}
}

bool cmd_progress_start(void)
{
	progress.on = !cmd_opts.verbose && !cmd_opts.debug && isatty(STDERR_FILENO);
	progress.shown = false;
	progress.drawn = false;
	return progress.on;
}

bool cmd_progress_on(void)
{
	return progress.on;
}

bool cmd_progress_due(void)
{
	return progress.on &&
	       (!progress.drawn || progress_now() - progress.last >= PROGRESS_INTERVAL_NS);
}

void cmd_progress_update(bool force, const char *fmt, ...)
{
	char text[512], line[600];
	size_t width, n, i, cols;
	va_list ap;
	int k;

	if (!progress.on || (!force && !cmd_progress_due()))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	/* One column less than the width: a line that fills the last column wraps on some
	 * terminals, and "\r" would then go back to the wrong line. */
	width = progress_width();
	width = width > 1 ? width - 1 : 1;
	k = snprintf(line, sizeof(line), "\r%s: %s", cmd_prog, text);
	n = k < 0 ? 0 : (size_t)k < sizeof(line) ? (size_t)k : sizeof(line) - 1;
	/* Cut to the width in characters: UTF-8 continuation bytes take no column (the text is
	 * ours, plain ASCII in practice, but a JID may not be). */
	for (i = 1, cols = 0; i < n; i++) {
		if (((unsigned char)line[i] & 0xC0) == 0x80)
			continue;
		if (cols == width)
			break;
		cols++;
	}
	n = i;
	if (n + 3 >= sizeof(line))
		n = sizeof(line) - 4;
	memcpy(line + n, "\033[K", 3);
	n += 3;
	fflush(stderr);
	progress_write(line, n);
	progress.shown = true;
	progress.drawn = true;
	progress.last = progress_now();
}

void cmd_progress_clear(void)
{
	if (!progress.on || !progress.shown)
		return;
	progress_write("\r\033[K", 4);
	progress.shown = false;
}

void cmd_progress_end(void)
{
	cmd_progress_clear();
	progress.on = false;
}
