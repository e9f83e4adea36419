/* cache.c: what a server offered last time, one small file per account and server, so that a
 * one-shot command can send at once what the features would only confirm a round trip later.
 * Every entry is a hint: a missing, foreign or damaged file costs speed, never correctness. */
#include "xu-int.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "xmpp-utils cache 1"
#define CACHE_MAX_FILE 4096

/* <dir>/<first 128 bits of SHA-256(account), hex>: the name says nothing of the account. */
static enum xu_err cache_path(const char *dir, const char *account, char *out, size_t len)
{
	unsigned char h[32];
	char hex[33];
	int i;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, account, strlen(account), h) < 0)
		return XU_ERR_INTERNAL;
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	if ((size_t)snprintf(out, len, "%s/%s", dir, hex) >= len)
		return XU_ERR_USAGE;
	return XU_OK;
}

/* Only a regular file of ours that nobody else may write is believed. */
static bool cache_read(const char *path, char *buf, size_t len)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	            !(st.st_mode & (S_IWGRP | S_IWOTH))
	        ? read(fd, buf, len - 1)
	        : -1;
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

static void cache_line(struct xu_cache *c, const char *key, const char *val)
{
	if (strcmp(key, "sm") == 0)
		c->sm = strcmp(val, "yes") == 0 ? 1 : strcmp(val, "no") == 0 ? 0 : -1;
}

void xu_cache_load(const char *dir, const char *account, struct xu_cache *out)
{
	char path[4096], buf[CACHE_MAX_FILE], *line, *save = NULL;
	bool header = false, mine = false;

	memset(out, 0, sizeof(*out));
	out->sm = -1;
	if (!dir || cache_path(dir, account, path, sizeof(path)) != XU_OK ||
	    !cache_read(path, buf, sizeof(buf)))
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (!header) {
			header = strcmp(line, CACHE_MAGIC) == 0;
			if (!header)
				return;
			continue;
		}
		if (!sp)
			continue;
		*sp = '\0';
		if (strcmp(line, "account") == 0)
			mine = strcmp(sp + 1, account) == 0;
		else if (mine)
			cache_line(out, line, sp + 1);
	}
	if (!mine) {
		memset(out, 0, sizeof(*out));
		out->sm = -1;
		return;
	}
	out->known = true;
}

/* mkdir -p for the last two levels ($XDG_CACHE_HOME may not exist yet), private. */
static bool cache_mkdir(const char *dir)
{
	char parent[4096];
	char *slash;

	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return true;
	if (errno != ENOENT || snprintf(parent, sizeof(parent), "%s", dir) >= (int)sizeof(parent))
		return false;
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return false;
	*slash = '\0';
	if (mkdir(parent, 0700) != 0 && errno != EEXIST)
		return false;
	return mkdir(dir, 0700) == 0 || errno == EEXIST;
}

enum xu_err xu_cache_store(const char *dir, const char *account, const struct xu_cache *c,
                           char *errbuf, size_t errlen)
{
	char path[4096], tmp[4200], body[CACHE_MAX_FILE];
	int fd, n;
	bool ok;

	if (!dir)
		return XU_OK;
	if (cache_path(dir, account, path, sizeof(path)) != XU_OK) {
		snprintf(errbuf, errlen, "cache directory name too long");
		return XU_ERR_USAGE;
	}
	n = snprintf(body, sizeof(body), CACHE_MAGIC "\naccount %s\nsm %s\n", account,
	             c->sm == 1   ? "yes"
	             : c->sm == 0 ? "no"
	                          : "unknown");
	if (n < 0 || (size_t)n >= sizeof(body)) {
		snprintf(errbuf, errlen, "cache entry too long");
		return XU_ERR_USAGE;
	}
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	/* Written aside and renamed over: a reader never sees half a file. */
	fd = cache_mkdir(dir) ? mkstemp(tmp) : -1;
	if (fd < 0) {
		snprintf(errbuf, errlen, "cache %s: %s", dir, strerror(errno));
		return XU_ERR_IO;
	}
	ok = fchmod(fd, 0600) == 0 && write(fd, body, (size_t)n) == n;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(errbuf, errlen, "cache %s: %s", path, strerror(errno));
		unlink(tmp);
		return XU_ERR_IO;
	}
	return XU_OK;
}
