/* test_cache.c: the per-account cache (lib/cache.c): what is written is read back for the same
 * account only; a damaged, foreign, insecure or symlinked file reads as "unknown"; files are
 * private (0600 in a 0700 directory made on demand). */
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_account, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_untrusted_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlink_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scram_entry, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
