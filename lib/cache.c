/* cache.c: what a server offered last time, one small file per account and server, so that a
 * one-shot command can send at once what the features would only confirm a round trip later.
 * Every entry is a hint: a missing, foreign or damaged file costs speed, never correctness. */
#include "xu-int.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "xmpp-utils cache 1"
#define CACHE_MAX_FILE 4096

/* Lowercase hex of n bytes into out (room for 2n + 1). */
static bool cache_hex(const unsigned char *data, size_t n, char *out, size_t len)
{
	gnutls_datum_t d = {(unsigned char *)data, (unsigned)n};

	return gnutls_hex_encode(&d, out, &len) == 0;
}

/* Exactly `want` bytes from a hex word (GnuTLS's decoder; the length is ours to check). */
static bool cache_unhex(const char *hex, unsigned char *out, size_t want)
{
	gnutls_datum_t d = {(unsigned char *)hex, (unsigned)strlen(hex)};
	size_t n = want;

	return d.size == 2 * want && gnutls_hex_decode(&d, out, &n) == 0 && n == want;
}

/* <dir>/<first 128 bits of SHA-256(account), hex>: the name says nothing of the account. */
static enum xu_err cache_path(const char *dir, const char *account, char *out, size_t len)
{
	unsigned char h[32];
	char hex[33];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, account, strlen(account), h) < 0 ||
	    !cache_hex(h, 16, hex, sizeof(hex)))
		return XU_ERR_INTERNAL;
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

static const char *const cache_hashes[] = {"sha1", "sha256", "sha512"};
static const size_t cache_hash_len[] = {20, 32, 64};

/* "scram HASH ITERATIONS SALTLEN SALTHEX KEYHEX" */
static bool cache_scram(struct xu_scram_salted *s, const char *val)
{
	char name[8], salt[2 * XU_SCRAM_MAX_SALT + 2], key[2 * sizeof(s->key) + 2];
	unsigned iter, h;
	size_t saltlen;
	int end = -1;

	if (sscanf(val, "%7s %u %zu %129s %129s%n", name, &iter, &saltlen, salt, key, &end) != 5 ||
	    end < 0 || val[end] || iter == 0 || iter > XU_SCRAM_MAX_ITERATIONS || saltlen == 0 ||
	    saltlen > sizeof(s->salt))
		return false;
	for (h = 0; h < 3 && strcmp(name, cache_hashes[h]) != 0; h++)
		;
	if (h == 3 || !cache_unhex(salt, s->salt, saltlen) ||
	    !cache_unhex(key, s->key, cache_hash_len[h]))
		return false;
	s->hash = (enum xu_scram_hash)h;
	s->iterations = iter;
	s->salt_len = saltlen;
	return true;
}

/* A SASL offer as xu_sasl_offer writes it: names of at most XU_SASL_NAME_MAX, commas, or "-";
 * fits in max. */
static bool cache_names(const char *v, size_t max)
{
	size_t n = strlen(v), i, run = 0;

	if (n == 0 || n >= max ||
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_,") != n)
		return false;
	for (i = 0; i < n; i++) {
		run = v[i] == ',' ? 0 : run + 1;
		if (run > XU_SASL_NAME_MAX)
			return false;
	}
	return true;
}

/* "fast MECHANISM EXPIRY-MS TOKENHEX" (the token masked): exactly three fields. */
static bool cache_fast(struct xu_cache *c, const char *val)
{
	const char *sp1 = strchr(val, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	char mech[sizeof(c->fast_mech)], *end;
	long long expiry;
	size_t mlen, n;

	if (!sp2 || strchr(sp2 + 1, ' ') || (mlen = (size_t)(sp1 - val)) >= sizeof(mech) ||
	    !strchr("0123456789", sp1[1]))
		return false;
	memcpy(mech, val, mlen);
	mech[mlen] = '\0';
	errno = 0;
	expiry = strtoll(sp1 + 1, &end, 10);
	if (!cache_names(mech, sizeof(mech)) || end != sp2 || errno || expiry <= 0)
		return false;
	n = strlen(sp2 + 1) / 2;
	if (n == 0 || n > XU_CACHE_TOKEN_MAX || !cache_unhex(sp2 + 1, c->fast_token, n))
		return false;
	memcpy(c->fast_mech, mech, sizeof(mech));
	c->fast_expiry_ms = expiry;
	c->fast_len = n;
	return true;
}

/* A UUID as xu_cache_new_agent writes it. */
static bool cache_agent(const char *v)
{
	size_t i;

	if (strlen(v) != 36)
		return false;
	for (i = 0; i < 36; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? v[i] != '-'
		                                              : !strchr("0123456789abcdef", v[i]))
			return false;
	return true;
}

static void cache_line(struct xu_cache *c, const char *key, const char *val)
{
	if (strcmp(key, "sm") == 0)
		c->sm = strcmp(val, "yes") == 0 ? 1 : strcmp(val, "no") == 0 ? 0 : -1;
	else if (strcmp(key, "scram") == 0)
		c->has_scram = cache_scram(&c->scram, val);
	else if (strcmp(key, "mechs") == 0 && cache_names(val, sizeof(c->mechs)))
		snprintf(c->mechs, sizeof(c->mechs), "%s", val);
	else if (strcmp(key, "cbs") == 0 && cache_names(val, sizeof(c->cbs)))
		snprintf(c->cbs, sizeof(c->cbs), "%s", val);
	else if (strcmp(key, "sasl2") == 0 && cache_names(val, sizeof(c->sasl2)))
		snprintf(c->sasl2, sizeof(c->sasl2), "%s", val);
	else if (strcmp(key, "agent") == 0 && cache_agent(val))
		snprintf(c->agent, sizeof(c->agent), "%s", val);
	else if (strcmp(key, "fast") == 0 && !cache_fast(c, val))
		c->fast_mech[0] = '\0';
}

/* XOR up to 64 bytes of buf with HMAC-SHA-512(password, msg). */
static enum xu_err cache_xor(unsigned char *buf, size_t len, const char *password, const void *msg,
                             size_t mlen)
{
	unsigned char mask[64];
	size_t i;

	if (gnutls_hmac_fast(GNUTLS_MAC_SHA512, password, strlen(password), msg, mlen, mask) < 0)
		return XU_ERR_INTERNAL;
	for (i = 0; i < len && i < sizeof(mask); i++)
		buf[i] ^= mask[i];
	gnutls_memset(mask, 0, sizeof(mask));
	return XU_OK;
}

enum xu_err xu_cache_mask(struct xu_scram_salted *s, const char *password)
{
	unsigned char msg[32 + XU_SCRAM_MAX_SALT];
	size_t n;

	n = (size_t)snprintf((char *)msg, 32, "xmpp-utils %d %u ", (int)s->hash, s->iterations);
	memcpy(msg + n, s->salt, s->salt_len);
	return cache_xor(s->key, sizeof(s->key), password, msg, n + s->salt_len);
}

enum xu_err xu_cache_mask_token(unsigned char *token, size_t len, const char *password,
                                const char *agent)
{
	char msg[96];
	size_t i;

	/* One HMAC block per 64 bytes, each labelled with its index. */
	for (i = 0; i < len; i += 64) {
		int n = snprintf(msg, sizeof(msg), "xmpp-utils fast %s %zu", agent, i / 64);

		if (n < 0 || (size_t)n >= sizeof(msg) ||
		    cache_xor(token + i, len - i, password, msg, (size_t)n))
			return XU_ERR_INTERNAL;
	}
	return XU_OK;
}

enum xu_err xu_cache_new_agent(char out[40])
{
	unsigned char r[16];
	char hex[33];

	if (gnutls_rnd(GNUTLS_RND_NONCE, r, sizeof(r)) < 0)
		return XU_ERR_INTERNAL;
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	if (!cache_hex(r, sizeof(r), hex, sizeof(hex)))
		return XU_ERR_INTERNAL;
	snprintf(out, 40, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	return XU_OK;
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

/* The file's text; NULL when out of memory. */
static char *cache_text(const char *account, const struct xu_cache *c, size_t *len)
{
	struct xu_buf b;
	char *out = NULL, salt[2 * XU_SCRAM_MAX_SALT + 1], key[2 * sizeof(c->scram.key) + 1],
	     tok[2 * XU_CACHE_TOKEN_MAX + 1];
	bool scram = c->has_scram && (unsigned)c->scram.hash < 3 &&
	             cache_hex(c->scram.salt, c->scram.salt_len, salt, sizeof(salt)) &&
	             cache_hex(c->scram.key, cache_hash_len[c->scram.hash], key, sizeof(key));
	enum xu_err err;

	xu_buf_init(&b, CACHE_MAX_FILE - 1);
	err = xu_buf_addf(&b, CACHE_MAGIC "\naccount %s\nsm %s\n", account,
	                  c->sm == 1   ? "yes"
	                  : c->sm == 0 ? "no"
	                               : "unknown");
	if (!err && scram)
		err = xu_buf_addf(&b, "scram %s %u %zu %s %s\n", cache_hashes[c->scram.hash],
		                  c->scram.iterations, c->scram.salt_len, salt, key);
	gnutls_memset(key, 0, sizeof(key));
	if (!err && c->mechs[0] && c->cbs[0])
		err = xu_buf_addf(&b, "mechs %s\ncbs %s\n", c->mechs, c->cbs);
	if (!err && c->sasl2[0])
		err = xu_buf_addf(&b, "sasl2 %s\n", c->sasl2);
	if (!err && c->agent[0])
		err = xu_buf_addf(&b, "agent %s\n", c->agent);
	if (!err && c->fast_mech[0] && c->fast_len && c->fast_len <= XU_CACHE_TOKEN_MAX &&
	    cache_hex(c->fast_token, c->fast_len, tok, sizeof(tok)))
		err = xu_buf_addf(&b, "fast %s %lld %s\n", c->fast_mech,
		                  (long long)c->fast_expiry_ms, tok);
	gnutls_memset(tok, 0, sizeof(tok));
	if (!err)
		err = xu_buf_take(&b, &out, len);
	xu_buf_wipe_free(&b);
	return err ? NULL : out;
}

/* path's content replaced by body (n bytes): written aside (mode 0600, directory 0700, made as
 * needed) and renamed over, so that a reader never sees half a file. */
static enum xu_err cache_replace(const char *dir, const char *path, const char *body, size_t n,
                                 char *errbuf, size_t errlen)
{
	char tmp[4200];
	int fd;
	bool ok;

	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = cache_mkdir(dir) ? mkstemp(tmp) : -1;
	if (fd < 0) {
		snprintf(errbuf, errlen, "cache %s: %s", dir, strerror(errno));
		return XU_ERR_IO;
	}
	ok = fchmod(fd, 0600) == 0 && write(fd, body, n) == (ssize_t)n;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		snprintf(errbuf, errlen, "cache %s: %s", path, strerror(errno));
		unlink(tmp);
		return XU_ERR_IO;
	}
	return XU_OK;
}

enum xu_err xu_cache_store(const char *dir, const char *account, const struct xu_cache *c,
                           char *errbuf, size_t errlen)
{
	char path[4096], *body;
	size_t n;
	enum xu_err err;

	if (!dir)
		return XU_OK;
	if (cache_path(dir, account, path, sizeof(path)) != XU_OK) {
		snprintf(errbuf, errlen, "cache directory name too long");
		return XU_ERR_USAGE;
	}
	body = cache_text(account, c, &n);
	if (!body) {
		snprintf(errbuf, errlen, "cache entry too long");
		return XU_ERR_USAGE;
	}
	err = cache_replace(dir, path, body, n, errbuf, errlen);
	xu_secret_free(body);
	return err;
}

enum xu_err xu_cache_store_file(const char *dir, const char *name, const char *body, size_t n,
                                char *errbuf, size_t errlen)
{
	char path[4096];

	if (!dir)
		return XU_OK;
	if (!*name || name[0] == '.' || strchr(name, '/') ||
	    snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		snprintf(errbuf, errlen, "cache file name not usable");
		return XU_ERR_USAGE;
	}
	return cache_replace(dir, path, body, n, errbuf, errlen);
}
