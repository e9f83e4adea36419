/* fuzz_cache.c: libFuzzer target for the per-account cache file (lib/cache.c). The file is the
 * user's own, but a damaged or planted one must only ever read as hints within bounds: every
 * loaded value is checked, and what loads is written back and must load the same. */
#include "xu-int.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ACCOUNT "alice@example.org 127.0.0.1 5222 starttls"

static char fuzz_dir[64], fuzz_dir2[80], fuzz_file[64 + 1 + 256];

static void fuzz_cleanup(void)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
	if (system(cmd) != 0)
		return;
}

/* The file name the cache uses for FUZZ_ACCOUNT: the only file after one store. */
static void fuzz_find_file(void)
{
	struct xu_cache c;
	struct dirent *e;
	char why[300];
	DIR *d;

	memset(&c, 0, sizeof(c));
	if (xu_cache_store(fuzz_dir, FUZZ_ACCOUNT, &c, why, sizeof(why)) != XU_OK)
		abort();
	d = opendir(fuzz_dir);
	if (!d)
		abort();
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && strlen(e->d_name) == 32)
			snprintf(fuzz_file, sizeof(fuzz_file), "%s/%s", fuzz_dir, e->d_name);
	closedir(d);
	if (!fuzz_file[0])
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/xu-fuzz-cache-XXXXXX",
	         tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(fuzz_dir))
		abort();
	snprintf(fuzz_dir2, sizeof(fuzz_dir2), "%s/again", fuzz_dir);
	atexit(fuzz_cleanup);
	fuzz_find_file();
	return 0;
}

static bool fuzz_names_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	return n < cap && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                            "0123456789-_,") == n;
}

static void fuzz_check(const struct xu_cache *c)
{
	if (c->sm < -1 || c->sm > 1)
		abort();
	if (!c->known && (c->sm != -1 || c->has_scram || c->mechs[0] || c->cbs[0]))
		abort();
	if (c->has_scram &&
	    ((unsigned)c->scram.hash > XU_SCRAM_SHA512 || c->scram.iterations == 0 ||
	     c->scram.iterations > XU_SCRAM_MAX_ITERATIONS || c->scram.salt_len == 0 ||
	     c->scram.salt_len > sizeof(c->scram.salt)))
		abort();
	if (!fuzz_names_ok(c->mechs, sizeof(c->mechs)) || !fuzz_names_ok(c->cbs, sizeof(c->cbs)) ||
	    !fuzz_names_ok(c->sasl2, sizeof(c->sasl2)) ||
	    !fuzz_names_ok(c->fast_mech, sizeof(c->fast_mech)))
		abort();
	if (strnlen(c->agent, sizeof(c->agent)) != 0 && strnlen(c->agent, sizeof(c->agent)) != 36)
		abort();
	if (c->fast_mech[0] &&
	    (c->fast_len == 0 || c->fast_len > XU_CACHE_TOKEN_MAX || c->fast_expiry_ms <= 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xu_cache c, again;
	char why[300];
	int fd = open(fuzz_file, O_WRONLY | O_TRUNC);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	xu_cache_load(fuzz_dir, FUZZ_ACCOUNT, &c);
	fuzz_check(&c);
	if (!c.known)
		return 0;
	/* What was believed survives a round trip unchanged. */
	if (xu_cache_store(fuzz_dir2, FUZZ_ACCOUNT, &c, why, sizeof(why)) != XU_OK)
		abort();
	xu_cache_load(fuzz_dir2, FUZZ_ACCOUNT, &again);
	/* The SASL offer is written only whole (both parts). */
	if (!c.mechs[0] || !c.cbs[0])
		c.mechs[0] = c.cbs[0] = '\0';
	if (again.sm != c.sm || again.has_scram != c.has_scram ||
	    strcmp(again.mechs, c.mechs) != 0 || strcmp(again.cbs, c.cbs) != 0 ||
	    (c.has_scram && memcmp(&again.scram, &c.scram, sizeof(c.scram)) != 0) ||
	    strcmp(again.sasl2, c.sasl2) != 0 || strcmp(again.agent, c.agent) != 0 ||
	    strcmp(again.fast_mech, c.fast_mech) != 0)
		abort();
	if (c.fast_mech[0] &&
	    (again.fast_len != c.fast_len || again.fast_expiry_ms != c.fast_expiry_ms ||
	     memcmp(again.fast_token, c.fast_token, c.fast_len) != 0))
		abort();
	return 0;
}
