/* state.c: the checkpoint file of xmpp-listen --state (see state.h).
 *
 * Format, one "key value" per line, '#' starts a comment:
 *   account alice@example.org
 *   id 2f4c...            (archive id, absent until a message was handled)
 *   time 2026-11-25T10:00:00Z
 */
#include "state.h"

#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_MAX_BYTES 8192
#define STATE_MAX_VALUE 1023

/* A value we are willing to keep: printable UTF-8 without controls, bounded. */
static bool state_value_ok(const char *v)
{
	size_t n = strlen(v);
	const unsigned char *p = (const unsigned char *)v;

	if (n == 0 || n > STATE_MAX_VALUE)
		return false;
	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static int state_write(const struct cmd_state *s);

static int state_parse(struct cmd_state *s, char *data, const char *account)
{
	char *line, *save = NULL, *v;
	unsigned lineno = 0;
	bool seen_account = false;

	for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (*line == '#' || *line == '\0')
			continue;
		v = strchr(line, ' ');
		if (!v || !state_value_ok(v + 1))
			return cmd_fail(XU_ERR_CONFIG, "%s:%u: not an xmpp-listen state file",
			                s->path, lineno);
		*v++ = '\0';
		if (strcmp(line, "account") == 0) {
			if (strcmp(v, account) != 0)
				return cmd_fail(XU_ERR_CONFIG,
				                "%s belongs to %s, not %s: use one state file per "
				                "account",
				                s->path, v, account);
			seen_account = true;
		} else if (strcmp(line, "id") == 0) {
			free(s->id);
			s->id = cmd_xstrdup(v);
		} else if (strcmp(line, "time") == 0) {
			free(s->time);
			s->time = cmd_xstrdup(v);
		} else {
			return cmd_fail(XU_ERR_CONFIG, "%s:%u: unknown key '%s'", s->path, lineno,
			                line);
		}
	}
	if (!seen_account)
		return cmd_fail(XU_ERR_CONFIG, "%s: not an xmpp-listen state file (no account)",
		                s->path);
	return 0;
}

int cmd_state_load(struct cmd_state *s, const char *path, const char *account)
{
	FILE *f;
	char *data;
	size_t n;
	int rc;

	memset(s, 0, sizeof(*s));
	s->path = cmd_xstrdup(path);
	s->account = cmd_xstrdup(account);
	f = fopen(path, "r");
	if (!f) {
		int e;

		if (errno != ENOENT)
			return cmd_fail(XU_ERR_NOINPUT, "cannot read %s: %s", path,
			                strerror(errno));
		/* Created now, so that a path we cannot write fails the start, not a message. */
		e = state_write(s);
		if (e)
			return cmd_fail(XU_ERR_IO, "cannot create the state file %s: %s", path,
			                strerror(e));
		return 0;
	}
	data = cmd_xmalloc(STATE_MAX_BYTES + 1);
	n = fread(data, 1, STATE_MAX_BYTES + 1, f);
	if (ferror(f)) {
		rc = cmd_fail(XU_ERR_IO, "cannot read %s: %s", path, strerror(errno));
	} else if (n > STATE_MAX_BYTES || memchr(data, '\0', n)) {
		rc = cmd_fail(XU_ERR_CONFIG, "%s: not an xmpp-listen state file", path);
	} else {
		data[n] = '\0';
		rc = state_parse(s, data, account);
	}
	free(data);
	fclose(f);
	return rc;
}

static int state_write(const struct cmd_state *s)
{
	size_t plen = strlen(s->path);
	char *tmp = cmd_xmalloc(plen + 8);
	FILE *f;
	int fd, e;

	memcpy(tmp, s->path, plen);
	memcpy(tmp + plen, ".XXXXXX", 8);
	fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0) {
		free(tmp);
		return errno;
	}
	f = fdopen(fd, "w");
	if (!f) {
		e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return e;
	}
	fprintf(f, "# xmpp-listen state: the last archived message handled\naccount %s\n",
	        s->account);
	if (s->id)
		fprintf(f, "id %s\n", s->id);
	if (s->time)
		fprintf(f, "time %s\n", s->time);
	e = fflush(f) == 0 && !ferror(f) ? 0 : (errno ? errno : EIO);
	if (fclose(f) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, s->path) != 0)
		e = errno;
	if (e) {
		unlink(tmp);
		free(tmp);
		return e;
	}
	free(tmp);
	return 0;
}

void cmd_state_set(struct cmd_state *s, const char *id, const char *time)
{
	int e;

	if (id && state_value_ok(id) && (!s->id || strcmp(s->id, id) != 0)) {
		free(s->id);
		s->id = cmd_xstrdup(id);
	}
	if (time && state_value_ok(time) && (!s->time || strcmp(s->time, time) != 0)) {
		free(s->time);
		s->time = cmd_xstrdup(time);
	}
	e = state_write(s);
	if (e && !s->warned)
		cmd_warn("cannot write the state file %s: %s (the old checkpoint stays)", s->path,
		         strerror(e));
	s->warned = e != 0;
}

void cmd_state_free(struct cmd_state *s)
{
	free(s->path);
	free(s->account);
	free(s->id);
	free(s->time);
	memset(s, 0, sizeof(*s));
}
