/* fuzz_config.c: libFuzzer target for the configuration file parser, xmpp-utils.conf(5). */
#include "xu.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* xu_config_load reads a path, so each input is written to one scratch file (mode 0600 from
 * mkstemp, so files with a password are parsed to the end rather than refused). */
static char fuzz_path[64];
static int fuzz_fd = -1;

static void fuzz_cleanup(void)
{
	if (fuzz_fd >= 0)
		unlink(fuzz_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(fuzz_path, sizeof(fuzz_path), "%s/xu-fuzz-config-XXXXXX",
	         tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	fuzz_fd = mkstemp(fuzz_path);
	if (fuzz_fd < 0)
		abort();
	atexit(fuzz_cleanup);
	setenv("HOME", "/home/fuzz", 1);
	return 0;
}

static void fuzz_check_account(const struct xu_account *a)
{
	if (!a->name || !*a->name)
		abort();
	if (a->port != -1 && (a->port < 1 || a->port > 65535))
		abort();
	if (a->timeout != -1 && (a->timeout < 1 || a->timeout > 86400))
		abort();
	if (a->direct_tls < -1 || a->direct_tls > 1 || a->insecure < -1 || a->insecure > 1 ||
	    a->allow_plaintext < -1 || a->allow_plaintext > 1)
		abort();
	if ((a->password != NULL) + (a->password_file != NULL) + (a->password_command != NULL) > 1)
		abort();
	if (a->cafile && a->cafile[0] == '~')
		abort();
	/* Every string must be a NUL-terminated, non-empty, readable value. */
	if ((a->jid && !*a->jid) || (a->host && !*a->host) || (a->resource && !*a->resource) ||
	    (a->password && !*a->password) || (a->mechanism && !*a->mechanism) ||
	    (a->pin && strlen(a->pin) != 51))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xu_config *cfg = NULL;
	const struct xu_account *a;
	char *msg = NULL;
	enum xu_err err;

	if (ftruncate(fuzz_fd, 0) < 0 || pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
		abort();
	err = xu_config_load(fuzz_path, &cfg, &msg);
	if (err == XU_OK) {
		if (!cfg || msg)
			abort();
		a = xu_config_account(cfg, NULL);
		if (a) {
			fuzz_check_account(a);
			if (xu_config_account(cfg, a->name) != a)
				abort();
		}
	} else {
		/* Every error names the file. */
		if (cfg || !msg || strncmp(msg, fuzz_path, strlen(fuzz_path)) != 0)
			abort();
	}
	xu_config_free(cfg);
	free(msg);
	return 0;
}
