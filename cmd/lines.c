/* lines.c: see lines.h. */
#include "lines.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Hand on each complete line of buf[0..*len) (the last one too at eof), keep the partial
 * tail. *any says whether a line was handed on. */
static int lines_chunk(struct cmd_lines *l, char *buf, size_t *len, bool eof, unsigned long *lineno,
                       bool *any)
{
	size_t start = 0, i, n;
	int rc;

	for (i = 0; i <= *len; i++) {
		if (i < *len && buf[i] != '\n')
			continue;
		if (i == *len && (!eof || i == start))
			break;
		n = i - start;
		if (n > 0 && buf[start + n - 1] == '\r')
			n--;
		buf[start + n] = '\0';
		(*lineno)++;
		if (n > 0) {
			char where[48];

			if (memchr(buf + start, '\0', n))
				return cmd_fail(XU_ERR_DATA, "line %lu holds a NUL byte", *lineno);
			snprintf(where, sizeof(where), "line %lu", *lineno);
			l->lineno = *lineno;
			rc = l->line(l, buf + start, where);
			if (rc)
				return rc;
			*any = true;
		}
		start = i + 1;
	}
	if (start > *len)
		start = *len;
	memmove(buf, buf + start, *len - start);
	*len -= start;
	return 0;
}

int cmd_lines(struct cmd_lines *l, size_t max)
{
	char *buf = cmd_xmalloc(max + 1);
	size_t len = 0;
	unsigned long lineno = 0;
	bool eof = false, any = false;
	int rc = 0;

	l->err = XU_OK;
	while (!eof && !rc) {
		struct pollfd pfd[2] = {{STDIN_FILENO, POLLIN, 0}, {-1, 0, 0}};
		ssize_t r;
		int nfd = 1;

		if (l->conn) {
			pfd[1].fd = xu_conn_fd(l->conn);
			pfd[1].events = xu_conn_events(l->conn);
			nfd = 2;
		}
		if (poll(pfd, (nfds_t)nfd, l->conn ? xu_conn_timeout_ms(l->conn) : -1) < 0) {
			if (errno != EINTR)
				rc = cmd_fail(XU_ERR_IO, "poll: %s", strerror(errno));
			continue;
		}
		if (l->conn && (pfd[1].revents || xu_conn_timeout_ms(l->conn) == 0)) {
			l->err = xu_conn_dispatch(l->conn, pfd[1].revents);
			if (l->err) {
				rc = l->recover ? l->recover(l) : -1;
				if (rc)
					break;
				continue;
			}
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (len == max) {
			rc = cmd_fail(XU_ERR_DATA, "line %lu is longer than %zu bytes", lineno + 1,
			              max);
			break;
		}
		r = read(STDIN_FILENO, buf + len, max - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = cmd_fail(XU_ERR_IO, "reading standard input: %s", strerror(errno));
			break;
		}
		eof = r == 0;
		len += (size_t)r;
		rc = lines_chunk(l, buf, &len, eof, &lineno, &any);
		if (!rc && any && l->batch)
			rc = l->batch(l);
		any = false;
	}
	free(buf);
	return rc;
}
