/* test_cache.c: the per-account cache (lib/cache.c): what is written is read back for the same
 * account only; a damaged, foreign, insecure or symlinked file reads as "unknown"; files are
 * private (0600 in a 0700 directory made on demand); the SASL2 / FAST entries (XEP-0388, 0484). */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#define ACCOUNT "alice@example.org 127.0.0.1 5222 starttls"

struct fixture {
	char root[64];
	char dir[128]; /* root/cache/xmpp-utils: two levels to create */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/xu-cache-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/cache/xmpp-utils", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void store(const struct fixture *f, const char *account, int sm)
{
	struct xu_cache c;

	memset(&c, 0, sizeof(c));
	c.sm = sm;
	char why[300] = "";

	if (xu_cache_store(f->dir, account, &c, why, sizeof(why)) != XU_OK)
		fail_msg("store: %s", why);
}

static int load_sm(const struct fixture *f, const char *account, bool *known)
{
	struct xu_cache c;

	xu_cache_load(f->dir, account, &c);
	*known = c.known;
	return c.sm;
}

/* The one file in the cache directory (there is only ever one in these tests). */
static void only_file(const struct fixture *f, char *path, size_t len)
{
	char cmd[300];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls '%s'", f->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(
	    fgets(path + snprintf(path, len, "%s/", f->dir), (int)(len - strlen(f->dir) - 1), p));
	path[strcspn(path, "\n")] = '\0';
	assert_null(fgets(cmd, sizeof(cmd), p));
	pclose(p);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp;

	unlink(path);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct xu_cache c;
	struct stat st;
	char path[300];
	bool known;

	assert_int_equal(load_sm(f, ACCOUNT, &known), -1);
	assert_false(known);
	store(f, ACCOUNT, 1);
	assert_int_equal(load_sm(f, ACCOUNT, &known), 1);
	assert_true(known);
	store(f, ACCOUNT, 0);
	assert_int_equal(load_sm(f, ACCOUNT, &known), 0);
	only_file(f, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* The file name does not give the account away. */
	assert_null(strstr(path, "alice"));
	/* No directory: no cache. */
	xu_cache_load(NULL, ACCOUNT, &c);
	assert_int_equal(c.sm, -1);
}

static void test_other_account(void **state)
{
	struct fixture *f = *state;
	bool known;

	store(f, ACCOUNT, 1);
	assert_int_equal(load_sm(f, "alice@example.org 127.0.0.1 5223 tls", &known), -1);
	assert_false(known);
	assert_int_equal(load_sm(f, "bob@example.org 127.0.0.1 5222 starttls", &known), -1);
}

/* A file under our name that is not what we wrote: unknown, whatever it says. */
static void test_untrusted_files(void **state)
{
	static const struct {
		const char *text;
		mode_t mode;
	} bad[] = {
	    {"garbage\nsm yes\n", 0600},
	    {"xmpp-utils cache 2\naccount " ACCOUNT "\nsm yes\n", 0600},
	    {"xmpp-utils cache 1\naccount mallory@example.org 127.0.0.1 5222 starttls\nsm yes\n",
	     0600},
	    {"xmpp-utils cache 1\nsm yes\n", 0600},
	    {"xmpp-utils cache 1\naccount " ACCOUNT "\nsm yes\n", 0620},
	    {"xmpp-utils cache 1\naccount " ACCOUNT "\nsm yes\n", 0666},
	    {"", 0600},
	};
	struct fixture *f = *state;
	char path[300];
	bool known;
	size_t i;

	store(f, ACCOUNT, 0);
	only_file(f, path, sizeof(path));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i].text, bad[i].mode);
		if (load_sm(f, ACCOUNT, &known) != -1 || known)
			fail_msg("case %zu believed", i);
	}
	/* The same text, private: believed (so the cases above fail for their one defect). */
	write_file(path, "xmpp-utils cache 1\naccount " ACCOUNT "\nsm yes\nfuture-key 1\n", 0600);
	assert_int_equal(load_sm(f, ACCOUNT, &known), 1);
}

static void test_symlink_ignored(void **state)
{
	struct fixture *f = *state;
	char path[300], target[300], line[100];
	bool known;
	FILE *fp;

	store(f, ACCOUNT, 1);
	only_file(f, path, sizeof(path));
	snprintf(target, sizeof(target), "%s/elsewhere", f->root);
	assert_int_equal(rename(path, target), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(load_sm(f, ACCOUNT, &known), -1);
	/* Storing replaces the link itself, never writes through it. */
	store(f, ACCOUNT, 0);
	assert_int_equal(load_sm(f, ACCOUNT, &known), 0);
	/* The link's target still holds what was there before. */
	fp = fopen(target, "r");
	assert_non_null(fp);
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_non_null(fgets(line, sizeof(line), fp));
	assert_string_equal(line, "sm yes\n");
	fclose(fp);
}

/* A cache that cannot be written (here a file where the directory should be: that stops root
 * too) is an error for the caller to log, never a crash or a partial file. */
static void test_unwritable(void **state)
{
	struct fixture *f = *state;
	struct xu_cache c;
	char why[300] = "", parent[200];
	bool known;

	memset(&c, 0, sizeof(c));
	c.sm = 1;
	snprintf(parent, sizeof(parent), "%s/cache", f->root);
	write_file(parent, "not a directory\n", 0600);
	assert_int_equal(xu_cache_store(f->dir, ACCOUNT, &c, why, sizeof(why)), XU_ERR_IO);
	assert_non_null(strstr(why, "cache"));
	assert_int_equal(load_sm(f, ACCOUNT, &known), -1);
}

/* The salted password round-trips masked; the mask depends on the password; a malformed
 * scram line is dropped without losing the rest. */
static void test_scram_entry(void **state)
{
	struct fixture *f = *state;
	struct xu_cache c, back;
	struct xu_scram_salted plain;
	char path[300], why[300] = "";
	size_t i;

	memset(&c, 0, sizeof(c));
	c.sm = 1;
	c.has_scram = true;
	c.scram.hash = XU_SCRAM_SHA256;
	c.scram.iterations = 4096;
	c.scram.salt_len = 16;
	for (i = 0; i < 16; i++)
		c.scram.salt[i] = (unsigned char)(i * 17);
	for (i = 0; i < 32; i++)
		c.scram.key[i] = (unsigned char)(255 - i);
	plain = c.scram;
	assert_int_equal(xu_cache_mask(&c.scram, "pencil"), XU_OK);
	assert_memory_not_equal(c.scram.key, plain.key, 32);
	assert_int_equal(xu_cache_store(f->dir, ACCOUNT, &c, why, sizeof(why)), XU_OK);
	xu_cache_load(f->dir, ACCOUNT, &back);
	assert_true(back.has_scram);
	assert_int_equal(back.scram.hash, XU_SCRAM_SHA256);
	assert_int_equal(back.scram.iterations, 4096);
	assert_int_equal(back.scram.salt_len, 16);
	assert_memory_equal(back.scram.salt, plain.salt, 16);
	assert_memory_equal(back.scram.key, c.scram.key, 32);
	assert_int_equal(xu_cache_mask(&back.scram, "pencil"), XU_OK);
	assert_memory_equal(back.scram.key, plain.key, 32);
	back.scram = c.scram;
	assert_int_equal(xu_cache_mask(&back.scram, "pencil2"), XU_OK);
	assert_memory_not_equal(back.scram.key, plain.key, 32);

	only_file(f, path, sizeof(path));
	{
		static const char *const bad[] = {
		    "scram sha256 4096 16 00112233445566778899aabbccddeeff 00",
		    "scram md5 4096 1 00 0011223344556677889900112233445566778899",
		    "scram sha1 0 1 00 0011223344556677889900112233445566778899",
		    "scram sha1 4096 2 00 0011223344556677889900112233445566778899",
		    "scram sha1 4096 1 0G 0011223344556677889900112233445566778899",
		    "scram sha1 4096 1 00 0011223344556677889900112233445566778899 x",
		    "scram sha1 4096 1 00 0011223344556677889900112233445566778899AA",
		};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			char text[400];

			snprintf(text, sizeof(text),
			         "xmpp-utils cache 1\naccount " ACCOUNT "\n%s\nsm yes\n", bad[i]);
			write_file(path, text, 0600);
			xu_cache_load(f->dir, ACCOUNT, &back);
			if (back.has_scram)
				fail_msg("believed '%s'", bad[i]);
			assert_int_equal(back.sm, 1);
		}
		write_file(path,
		           "xmpp-utils cache 1\naccount " ACCOUNT
		           "\nscram sha1 4096 1 00 0011223344556677889900112233445566778899\n",
		           0600);
		xu_cache_load(f->dir, ACCOUNT, &back);
		assert_true(back.has_scram);
	}
}

#define AGENT "6ba7b810-9dad-41d1-80b4-00c04fd430c8"

/* The SASL2 offer, the user-agent id and a FAST token (mechanism, expiry, every byte value the
 * token may hold, up to XU_CACHE_TOKEN_MAX) come back as stored. */
static void test_fast_round_trip(void **state)
{
	static const struct {
		const char *mech;
		int64_t expiry;
		size_t len;
	} tokens[] = {
	    {"HT-SHA-256-EXPR", 1767225600123, XU_CACHE_TOKEN_MAX},
	    {"HT-SHA-256-NONE", 1, 1},
	    {"HT-SHA-256-UNIQ", INT64_MAX, 65},
	};
	struct fixture *f = *state;
	struct xu_cache c, back;
	char why[300] = "", path[300], *text;
	size_t i, k;

	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.sm = 1;
		snprintf(c.sasl2, sizeof(c.sasl2), "bind2,HT-SHA-256-EXPR,HT-SHA-256-NONE");
		assert_int_equal(xu_cache_new_agent(c.agent), XU_OK);
		snprintf(c.fast_mech, sizeof(c.fast_mech), "%s", tokens[i].mech);
		c.fast_expiry_ms = tokens[i].expiry;
		c.fast_len = tokens[i].len;
		for (k = 0; k < c.fast_len; k++)
			c.fast_token[k] = (unsigned char)(k * 7 + i);
		c.fast_token[0] = 0x00;
		c.fast_token[c.fast_len - 1] = 0xff;
		assert_int_equal(xu_cache_store(f->dir, ACCOUNT, &c, why, sizeof(why)), XU_OK);
		memset(&back, 0x5A, sizeof(back));
		xu_cache_load(f->dir, ACCOUNT, &back);
		assert_true(back.known);
		assert_int_equal(back.sm, 1);
		assert_string_equal(back.sasl2, c.sasl2);
		assert_string_equal(back.agent, c.agent);
		assert_string_equal(back.fast_mech, c.fast_mech);
		assert_true(back.fast_expiry_ms == c.fast_expiry_ms);
		assert_int_equal(back.fast_len, c.fast_len);
		assert_memory_equal(back.fast_token, c.fast_token, c.fast_len);
	}
	/* "-": SASL2 offered, nothing inline; no token: no fast line, and it loads as none. */
	memset(&c, 0, sizeof(c));
	c.sm = -1;
	snprintf(c.sasl2, sizeof(c.sasl2), "-");
	snprintf(c.agent, sizeof(c.agent), AGENT);
	snprintf(c.fast_mech, sizeof(c.fast_mech), "HT-SHA-256-NONE");
	c.fast_expiry_ms = 1767225600000;
	c.fast_len = 0; /* a mechanism without a token is no token */
	assert_int_equal(xu_cache_store(f->dir, ACCOUNT, &c, why, sizeof(why)), XU_OK);
	xu_cache_load(f->dir, ACCOUNT, &back);
	assert_string_equal(back.sasl2, "-");
	assert_string_equal(back.agent, AGENT);
	assert_string_equal(back.fast_mech, "");
	assert_int_equal(back.fast_len, 0);
	only_file(f, path, sizeof(path));
	text = tu_read_file(path, NULL);
	assert_non_null(text);
	assert_null(strstr(text, "\nfast "));
	free(text);
}

/* Each damaged line of a file otherwise good reads as that entry absent; the other entries
 * stay. The good lines alone load whole, so each case fails for its one defect. */
static void test_fast_damaged(void **state)
{
	static const char good_sasl2[] = "sasl2 bind2,HT-SHA-256-NONE";
	static const char good_agent[] = "agent " AGENT;
	static const char good_fast[] = "fast HT-SHA-256-NONE 1767225600000 00ff11";
	static const struct {
		const char *line;
		int which; /* 0 sasl2, 1 agent, 2 fast: the entry it damages */
	} bad[] = {
	    {"fast HT-SHA-256-NONE 1767225600000 0G11", 2},
	    {"fast HT-SHA-256-NONE 1767225600000 001", 2},
	    {"fast HT-SHA-256-NONE 1767225600000 00112", 2},
	    {"fast HT-SHA-256-NONE 1767225600000 ", 2},
	    {"fast HT-SHA-256-NONE 1767225600000", 2},
	    {"fast HT-SHA-256-NONE 1767225600000 0011 x", 2},
	    {"fast HT-SHA-256-NONE 0 0011", 2},
	    {"fast HT-SHA-256-NONE -1767225600000 0011", 2},
	    {"fast HT-SHA-256-NONE x 0011", 2},
	    {"fast HT<SHA-256-NONE 1767225600000 0011", 2},
	    {"fast HT-SHA-256-NONE\xc3\xa9 1767225600000 0011", 2},
	    {"fast HT-SHA-256-NONE/x 1767225600000 0011", 2},
	    {"fast HT-SHA-256-NONE-HT-SHA-256-NONE-XX 1767225600000 0011", 2},
	    {"fast 1767225600000 0011", 2},
	    {"fast HT-SHA-256-NONEABCDEFGHIJKLMNOP9 0011", 2}, /* 32-character name, no expiry */
	    {"fast HT-SHA-256-NONE 1767225600000abcd", 2},     /* the token glued to the expiry */
	    {"fast HT-SHA-256-NONE  1767225600000 0011", 2},
	    {"fast HT-SHA-256-NONE +1767225600000 0011", 2},
	    {"fast HT-SHA-256-NONE 99999999999999999999 0011", 2},
	    {"sasl2 "
	     "bind2,HT-SHA-256-NONEXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
	     0},
	    {"fast ", 2},
	    {"sasl2 bind2;HT-SHA-256-NONE", 0},
	    {"sasl2 bind2 HT-SHA-256-NONE", 0},
	    {"sasl2 <inline/>", 0},
	    {"sasl2 ", 0},
	    {"agent 6ba7b810-9dad-41d1-80b4-00c04fd430c", 1},
	    {"agent 6ba7b810-9dad-41d1-80b4-00c04fd430c88", 1},
	    {"agent 6BA7B810-9DAD-41D1-80B4-00C04FD430C8", 1},
	    {"agent 6ba7b810-9dad-41d1-80b4-00c04fd430cg", 1},
	    {"agent 6ba7b8109-dad-41d1-80b4-00c04fd430c8", 1},
	    {"agent 6ba7b8109dad41d180b400c04fd430c8", 1},
	    {"agent ", 1},
	};
	struct fixture *f = *state;
	struct xu_cache back;
	char path[300], text[1200], longline[600];
	size_t i, k;

	store(f, ACCOUNT, 1);
	only_file(f, path, sizeof(path));
	/* The lines alone; then each bad line in the place of its good one, or after it. */
	for (i = 0; i <= 2 * (sizeof(bad) / sizeof(bad[0])) + 4; i++) {
		const char *lines[3] = {good_sasl2, good_agent, good_fast}, *extra = "";
		const char *what = "all good";
		int which = -1;

		if (i == 0) {
			/* all good */
		} else if (i <= sizeof(bad) / sizeof(bad[0])) {
			which = bad[i - 1].which;
			what = lines[which] = bad[i - 1].line;
		} else if (i <= 2 * (sizeof(bad) / sizeof(bad[0]))) {
			/* After a good token, a damaged fast line withdraws it. */
			which = bad[i - 1 - sizeof(bad) / sizeof(bad[0])].which;
			if (which != 2)
				continue;
			what = extra = bad[i - 1 - sizeof(bad) / sizeof(bad[0])].line;
		} else {
			/* Too long: 193 bytes of token, a longer word than sscanf reads, a sasl2
			 * list of 128, and 192 bytes of token with junk glued in front. */
			static const size_t n[] = {2 * (XU_CACHE_TOKEN_MAX + 1), 400, 128, 384};
			size_t j = i - 1 - 2 * (sizeof(bad) / sizeof(bad[0]));

			which = j == 2 ? 0 : 2;
			k = (size_t)snprintf(longline, sizeof(longline),
			                     j == 2   ? "sasl2 "
			                     : j == 3 ? "fast HT-SHA-256-NONE 1767225600000 fast"
			                              : "fast HT-SHA-256-NONE 1767225600000 ");
			memset(longline + k, j == 2 ? 'a' : '0', n[j]);
			longline[k + n[j]] = '\0';
			what = lines[which] = longline;
		}
		snprintf(text, sizeof(text),
		         "xmpp-utils cache 1\naccount " ACCOUNT "\nsm yes\n%s\n%s\n%s\n%s\n",
		         lines[0], lines[1], lines[2], extra);
		write_file(path, text, 0600);
		memset(&back, 0x5A, sizeof(back));
		xu_cache_load(f->dir, ACCOUNT, &back);
		assert_true(back.known);
		assert_int_equal(back.sm, 1);
		if ((which == 0) != (back.sasl2[0] == '\0') ||
		    (which == 1) != (back.agent[0] == '\0') ||
		    (which == 2) != (back.fast_mech[0] == '\0'))
			fail_msg("case %zu (%s): sasl2 '%s', agent '%s', fast '%s'", i, what,
			         back.sasl2, back.agent, back.fast_mech);
		if (which != 0)
			assert_string_equal(back.sasl2, "bind2,HT-SHA-256-NONE");
		if (which != 1)
			assert_string_equal(back.agent, AGENT);
		if (which != 2) {
			assert_string_equal(back.fast_mech, "HT-SHA-256-NONE");
			assert_true(back.fast_expiry_ms == 1767225600000);
			assert_int_equal(back.fast_len, 3);
			assert_memory_equal(back.fast_token, "\x00\xff\x11", 3);
		}
	}
	/* The longest token there may be loads. */
	k = (size_t)snprintf(longline, sizeof(longline), "fast HT-SHA-256-NONE 1767225600000 ");
	memset(longline + k, 'f', 2 * XU_CACHE_TOKEN_MAX);
	longline[k + 2 * XU_CACHE_TOKEN_MAX] = '\0';
	snprintf(text, sizeof(text), "xmpp-utils cache 1\naccount " ACCOUNT "\n%s\n", longline);
	write_file(path, text, 0600);
	xu_cache_load(f->dir, ACCOUNT, &back);
	assert_string_equal(back.fast_mech, "HT-SHA-256-NONE");
	assert_int_equal(back.fast_len, XU_CACHE_TOKEN_MAX);
	for (k = 0; k < XU_CACHE_TOKEN_MAX; k++)
		assert_int_equal(back.fast_token[k], 0xff);
}

/* The token's mask: its own inverse, a function of the password and of the user-agent id, one
 * HMAC-SHA-512(password, "xmpp-utils fast AGENT INDEX") block per 64 bytes (computed here with
 * GnuTLS directly). */
static void test_mask_token(void **state)
{
	unsigned char orig[XU_CACHE_TOKEN_MAX], tok[XU_CACHE_TOKEN_MAX], other[XU_CACHE_TOKEN_MAX];
	unsigned char want[64];
	char label[96];
	size_t i, len, b;

	(void)state;
	for (i = 0; i < sizeof(orig); i++)
		orig[i] = (unsigned char)(i * 13 + 5);
	for (len = 1; len <= XU_CACHE_TOKEN_MAX; len += len < 70 ? 1 : 61) {
		memcpy(tok, orig, len);
		assert_int_equal(xu_cache_mask_token(tok, len, "pencil", AGENT), XU_OK);
		assert_memory_not_equal(tok, orig, len < 4 ? len : 4);
		if (len > 64)
			assert_memory_not_equal(tok + 64, orig + 64, len - 64 < 4 ? len - 64 : 4);
		memcpy(other, tok, len);
		assert_int_equal(xu_cache_mask_token(other, len, "pencil", AGENT), XU_OK);
		assert_memory_equal(other, orig, len);
		memcpy(other, orig, len);
		assert_int_equal(xu_cache_mask_token(other, len, "pencil2", AGENT), XU_OK);
		assert_memory_not_equal(other, tok, len);
		memcpy(other, orig, len);
		assert_int_equal(xu_cache_mask_token(other, len, "pencil",
		                                     "6ba7b810-9dad-41d1-80b4-00c04fd430c9"),
		                 XU_OK);
		assert_memory_not_equal(other, tok, len);
	}
	/* Zeros show the mask itself: each block its own, none repeated. */
	memset(tok, 0, sizeof(tok));
	assert_int_equal(xu_cache_mask_token(tok, sizeof(tok), "pencil", AGENT), XU_OK);
	for (b = 0; b * 64 < sizeof(tok); b++) {
		snprintf(label, sizeof(label), "xmpp-utils fast %s %zu", AGENT, b);
		assert_int_equal(
		    gnutls_hmac_fast(GNUTLS_MAC_SHA512, "pencil", 6, label, strlen(label), want),
		    0);
		assert_memory_equal(tok + 64 * b, want, 64);
		if (b > 0)
			assert_memory_not_equal(tok + 64 * b, tok, 64);
	}
	/* Nothing to mask: nothing touched. */
	assert_int_equal(xu_cache_mask_token(tok, 0, "pencil", AGENT), XU_OK);
}

/* RFC 4122 §4.4 version 4 UUIDs, lowercase (RFC 4122 §3: output as lowercase), each new. */
static void test_new_agent(void **state)
{
	char seen[64][40];
	size_t i, k;

	(void)state;
	for (i = 0; i < 64; i++) {
		char *a = seen[i];

		memset(a, 'Z', 40);
		assert_int_equal(xu_cache_new_agent(a), XU_OK);
		assert_int_equal(strlen(a), 36);
		for (k = 0; k < 36; k++)
			if (k == 8 || k == 13 || k == 18 || k == 23
			        ? a[k] != '-'
			        : !strchr("0123456789abcdef", a[k]))
				fail_msg("not a lowercase UUID: %s", a);
		if (a[14] != '4')
			fail_msg("version nibble %c: %s", a[14], a);
		if (!strchr("89ab", a[19]))
			fail_msg("variant nibble %c: %s", a[19], a);
		for (k = 0; k < i; k++)
			assert_string_not_equal(seen[k], a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_account, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untrusted_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scram_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fast_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fast_damaged, setup, teardown),
	    cmocka_unit_test(test_mask_token),
	    cmocka_unit_test(test_new_agent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
