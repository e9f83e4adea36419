/* test_config.c: the configuration file parser, xmpp-utils.conf(5), against files on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "xu-int.h"

#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct tc_state {
	char dir[64];
	char path[128];
};

/* Remove a directory tree made by the tests (no symlinks are made, so none are followed). */
static void tc_rm(const char *path)
{
	struct dirent *e;
	struct stat st;
	char sub[512];
	DIR *d;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		d = opendir(path);
		for (e = d ? readdir(d) : NULL; e; e = readdir(d)) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			tc_rm(sub);
		}
		if (d)
			closedir(d);
	}
	remove(path);
}

static int tc_setup(void **state)
{
	struct tc_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	strcpy(s->dir, "/tmp/xu-test-config-XXXXXX");
	if (!mkdtemp(s->dir)) {
		free(s);
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s/config", s->dir);
	setenv("HOME", "/home/tester", 1);
	unsetenv("XDG_CONFIG_HOME");
	*state = s;
	return 0;
}

static int tc_teardown(void **state)
{
	struct tc_state *s = *state;

	tc_rm(s->dir);
	free(s);
	return 0;
}

static void tc_write(const char *path, const char *text, size_t len, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The expected message with every '@' replaced by the file's path, and "@@" by '@'. */
static void tc_expand(const char *pattern, const char *path, char *out, size_t outsz)
{
	size_t o = 0, plen = strlen(path);

	for (; *pattern && o + plen + 1 < outsz; pattern++) {
		if (pattern[0] == '@' && pattern[1] == '@') {
			out[o++] = *pattern++;
		} else if (*pattern == '@') {
			memcpy(out + o, path, plen);
			o += plen;
		} else {
			out[o++] = *pattern;
		}
	}
	out[o] = '\0';
}

/*
 * Load path and expect want, and the message pattern ('@' for the path) when given. The result
 * starts out as neither NULL nor a configuration, so a failure must really clear it.
 */
static void tc_load_expect(const char *label, const char *path, enum xu_err want,
                           const char *pattern)
{
	struct xu_config *cfg = (struct xu_config *)&cfg;
	char *msg = NULL, expect[512];
	enum xu_err err;

	err = xu_config_load(path, &cfg, &msg);
	if (pattern) {
		tc_expand(pattern, path, expect, sizeof(expect));
		if (err != want || !msg || strcmp(msg, expect) != 0)
			fail_msg("%sgot %d \"%s\", want %d \"%s\"", label, err,
			         msg ? msg : "(null)", want, expect);
	} else if (err != want) {
		fail_msg("%sgot %d \"%s\", want %d", label, err, msg ? msg : "(null)", want);
	}
	assert_true(cfg != (struct xu_config *)&cfg);
	assert_true((err == XU_OK) == (cfg != NULL));
	xu_config_free(cfg);
	free(msg);
}

/* The default file loads, with and without a place for a message, and its default account is
 * named name (NULL: there is none), with cafile when that is given. */
static void tc_default_is(const char *name, const char *cafile)
{
	struct xu_config *cfg;
	const struct xu_account *a;
	char *msg = (char *)&cfg;

	for (int k = 0; k < 2; k++) {
		cfg = NULL;
		assert_int_equal(xu_config_load(NULL, &cfg, k ? NULL : &msg), XU_OK);
		assert_null(msg);
		assert_non_null(cfg);
		a = xu_config_account(cfg, NULL);
		if (name)
			assert_string_equal(a ? a->name : "(none)", name);
		else
			assert_null(a);
		if (cafile)
			assert_string_equal(a->cafile, cafile);
		xu_config_free(cfg);
	}
}

/* ------------------------------------------------------------------ rejected files */

struct tc_err {
	const char *text;
	size_t len; /* 0: strlen(text) */
	mode_t mode;
	enum xu_err err;
	const char *msg; /* '@' stands for the path */
};

static const struct tc_err tc_errs[] = {
    {"[a]\nfoo = 1\n", 0, 0600, XU_ERR_CONFIG, "@:2: unknown key foo"},
    {"[a]\n\n# c\n  Jid = x\n", 0, 0600, XU_ERR_CONFIG, "@:4: unknown key Jid"},
    {"[a]\nj\001d = x\n", 0, 0600, XU_ERR_CONFIG, "@:2: unknown key j?d"},
    {"[a]\ninsecure = maybe\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: insecure: expected yes, no, true, false, on, off, 1 or 0"},
    {"[a]\ndirect-tls = 2\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: direct-tls: expected yes, no, true, false, on, off, 1 or 0"},
    {"[a]\nallow-plaintext = yess\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: allow-plaintext: expected yes, no, true, false, on, off, 1 or 0"},
    {"[a]\nport = 0\n", 0, 0600, XU_ERR_CONFIG, "@:2: port: expected a number from 1 to 65535"},
    {"[a]\nport = 65536\n", 0, 0600, XU_ERR_CONFIG, "@:2: port: expected a number from 1 to 65535"},
    {"[a]\nport = -1\n", 0, 0600, XU_ERR_CONFIG, "@:2: port: expected a number from 1 to 65535"},
    {"[a]\nport = +5222\n", 0, 0600, XU_ERR_CONFIG, "@:2: port: expected a number from 1 to 65535"},
    {"[a]\nport = 52 22\n", 0, 0600, XU_ERR_CONFIG, "@:2: port: expected a number from 1 to 65535"},
    {"[a]\nport = 99999999999999999999999\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: port: expected a number from 1 to 65535"},
    {"[a]\ntimeout = 0\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: timeout: expected seconds from 1 to 86400"},
    {"[a]\ntimeout = 86401\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: timeout: expected seconds from 1 to 86400"},
    {"[a]\ntimeout = 1.5\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: timeout: expected seconds from 1 to 86400"},
    {"[a]\njid = x@y\n\njid = z@y\n", 0, 0600, XU_ERR_CONFIG,
     "@:4: duplicate key jid (first on line 2)"},
    {"[a]\njid = x@y\n[b]\njid = x@y\nport = 1\nport = 2\n", 0, 0600, XU_ERR_CONFIG,
     "@:6: duplicate key port (first on line 5)"},
    {"[a]\n[b]\n# c\n[a]\n", 0, 0600, XU_ERR_CONFIG,
     "@:4: duplicate section [a] (first on line 1)"},
    {"\n\n[ a ]\n[a]\n", 0, 0600, XU_ERR_CONFIG, "@:4: duplicate section [a] (first on line 3)"},
    {"jid = x@y\n[a]\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: jid outside a section (only default may come before [name])"},
    {"# c\n\nhost = h\n", 0, 0600, XU_ERR_CONFIG,
     "@:3: host outside a section (only default may come before [name])"},
    {"[a]\ndefault = a\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: default must come before the first section"},
    {"default = a\ndefault = a\n[a]\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: duplicate key default (first on line 1)"},
    {"# x\ndefault = b\n[a]\n[c]\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: default account b has no [b] section"},
    {"default = a b\n[a]\n", 0, 0600, XU_ERR_CONFIG, "@:1: default: bad account name"},
    {"[a\n", 0, 0600, XU_ERR_CONFIG, "@:1: missing ] after section name"},
    {"[a] x\n", 0, 0600, XU_ERR_CONFIG, "@:1: unexpected text after ]"},
    {"[a b]\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: bad section name \"a b\" (no blanks, quotes, [ ] # = \\)"},
    {"[]\n", 0, 0600, XU_ERR_CONFIG, "@:1: bad section name \"\" (no blanks, quotes, [ ] # = \\)"},
    {"[a]\njid x@y\n", 0, 0600, XU_ERR_CONFIG, "@:2: expected key = value or [section]"},
    {"[a]\n= x\n", 0, 0600, XU_ERR_CONFIG, "@:2: expected key = value or [section]"},
    {"[a]\njid\n", 0, 0600, XU_ERR_CONFIG, "@:2: expected key = value or [section]"},
    {"[a]\npassword = \"abc\n", 0, 0600, XU_ERR_CONFIG, "@:2: missing closing quote"},
    {"[a]\npassword = \"abc\\\"\n", 0, 0600, XU_ERR_CONFIG, "@:2: missing closing quote"},
    {"[a]\npassword = \"a\\nb\"\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: bad escape in quoted value (only \\\" and \\\\)"},
    {"[a]\npassword = \"ab\" c\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: unexpected text after closing quote"},
    {"[a]\njid =\n", 0, 0600, XU_ERR_CONFIG, "@:2: empty value"},
    {"[a]\njid = \"\"\n", 0, 0600, XU_ERR_CONFIG, "@:2: empty value"},
    {"[a]\njid = # none\n", 0, 0600, XU_ERR_CONFIG, "@:2: empty value"},
    {"[a]\nmechanism = DIGEST-MD5\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: mechanism: unknown SASL mechanism"},
    {"[a]\npin = sha1:AAAA\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: pin: expected sha256: and 44 characters of base64"},
    {"[a]\npin = sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF=\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: pin: expected sha256: and 44 characters of base64"},
    {"[a]\npin = sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: pin: expected sha256: and 44 characters of base64"},
    {"[a]\npassword = x\npassword-command = pass y\n", 0, 0600, XU_ERR_CONFIG,
     "@:3: password-command: password already given on line 2 (only one of password, "
     "password-file, password-command)"},
    {"[a]\npassword-file = /p\n\npassword = x\n", 0, 0600, XU_ERR_CONFIG,
     "@:4: password: password-file already given on line 2 (only one of password, "
     "password-file, password-command)"},
    {"[a]\ncafile = ~root/ca.pem\n", 0, 0600, XU_ERR_CONFIG, "@:2: cafile: only ~/ is expanded"},
    {"[a]\npassword-file = ~\n", 0, 0600, XU_ERR_CONFIG, "@:2: password-file: only ~/ is expanded"},
    {"[a]\njid = x\0y\n", 12, 0600, XU_ERR_CONFIG, "@:2: NUL byte"},
    {"\0", 1, 0600, XU_ERR_CONFIG, "@:1: NUL byte"},
    /* The first error wins, even when a password makes the permissions wrong too. */
    {"[a]\npassword = x\nport = 0\n", 0, 0644, XU_ERR_CONFIG,
     "@:3: port: expected a number from 1 to 65535"},
    /* The permission rule: any group/other bit with a password. */
    {"[a]\npassword = secret\n", 0, 0644, XU_ERR_CONFIG,
     "@: holds a password but is readable by others (chmod 600 @)"},
    {"[a]\njid = a@b\n[b]\npassword = \"s e c\"\n", 0, 0640, XU_ERR_CONFIG,
     "@: holds a password but is readable by others (chmod 600 @)"},
    {"[a]\npassword = secret\n", 0, 0620, XU_ERR_CONFIG,
     "@: holds a password but is readable by others (chmod 600 @)"},
    {"[a]\npassword = secret\n", 0, 0601, XU_ERR_CONFIG,
     "@: holds a password but is readable by others (chmod 600 @)"},
    {"[a]\npassword = secret\n", 0, 0604, XU_ERR_CONFIG,
     "@: holds a password but is readable by others (chmod 600 @)"},
    {"[a]\npassword-command = pass x\n", 0, 0664, XU_ERR_CONFIG,
     "@: is writable by others and could name commands to run (chmod go-w @)"},
    {"[a]\njid = a@b\n", 0, 0646, XU_ERR_CONFIG,
     "@: is writable by others and could name commands to run (chmod go-w @)"},
    /* ---- sendxmpp / go-sendxmpp files (migration): the first significant line decides. */
    {"hello world\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: unknown syntax: expected [name] or key = value (xmpp-utils.conf), key: value or "
     "user@@server password (sendxmpp, go-sendxmpp)"},
    {"# c\n\n:x\n", 0, 0600, XU_ERR_CONFIG,
     "@:3: unknown syntax: expected [name] or key = value (xmpp-utils.conf), key: value or "
     "user@@server password (sendxmpp, go-sendxmpp)"},
    {"@example.org pw\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: unknown syntax: expected [name] or key = value (xmpp-utils.conf), key: value or "
     "user@@server password (sendxmpp, go-sendxmpp)"},
    {"username : a@b\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: unknown syntax: expected [name] or key = value (xmpp-utils.conf), key: value or "
     "user@@server password (sendxmpp, go-sendxmpp)"},
    /* "key: value" (sendxmpp >= 1.24, go-sendxmpp). */
    {"username: a@b\n# c\nfoo: bar\n", 0, 0600, XU_ERR_CONFIG,
     "@:3: unknown key foo (sendxmpp/go-sendxmpp: username, jserver, port, password, "
     "eval_password, component, resource, alias, tls)"},
    {"username: a@b\nUsername: c@d\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: unknown key Username (sendxmpp/go-sendxmpp: username, jserver, port, "
     "password, eval_password, component, resource, alias, tls)"},
    {"username: a@b\nusername: c@d\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: duplicate key username (first on line 1)"},
    {"username: a@b\nalice@example.org pw\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: expected key: value, the syntax of line 1"},
    {"\n  username: a@b\n[a]\n", 0, 0600, XU_ERR_CONFIG,
     "@:3: expected key: value, the syntax of line 2"},
    {"username: a@b\njid = a@b\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: expected key: value, the syntax of line 1"},
    {"username: a@b\nport: 0\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: port: expected a number from 1 to 65535"},
    {"port: 5222x\n", 0, 0600, XU_ERR_CONFIG, "@:1: port: expected a number from 1 to 65535"},
    {"username: a@b\npassword:\n", 0, 0600, XU_ERR_CONFIG, "@:2: empty value"},
    {"username: a@b\nalias:  \r\n", 0, 0600, XU_ERR_CONFIG, "@:2: empty value"},
    {"password: x\n\neval_password: pass y\n", 0, 0600, XU_ERR_CONFIG,
     "@:3: eval_password: password already given on line 1 (only one of them)"},
    {"eval_password: pass y\npassword: x\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: password: eval_password already given on line 1 (only one of them)"},
    {"# x\nusername: alice\npassword: x\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: username: no @@domain, and no jserver or component to take it from"},
    {"username: a@b\ncomponent: c.example\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: component: the username already has an @@domain"},
    {"username: a@b\npass\0word: x\n", 27, 0600, XU_ERR_CONFIG, "@:2: NUL byte"},
    /* sendxmpp's one account line. */
    {"a@b x\nc@d y\n", 0, 0600, XU_ERR_CONFIG,
     "@:2: a sendxmpp file has one account line, and it is line 1"},
    {"# me\na@b x\nusername: c@d\n", 0, 0600, XU_ERR_CONFIG,
     "@:3: a sendxmpp file has one account line, and it is line 2"},
    {"alice@example.org\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: expected user@@server password [component]"},
    {"alice@example.org pass word with blanks\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: expected user@@server password [component]"},
    {"alice@ pw\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: expected user@@server[;host][:port] password [component]"},
    {"alice@b@c pw\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: expected user@@server[;host][:port] password [component]"},
    {"alice@b;:5222 pw\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: expected user@@server[;host][:port] password [component]"},
    {"alice@b:5222;h pw\n", 0, 0600, XU_ERR_CONFIG,
     "@:1: expected user@@server[;host][:port] password [component]"},
    {"alice@b:99999 pw\n", 0, 0600, XU_ERR_CONFIG, "@:1: port: expected a number from 1 to 65535"},
    {"alice@b: pw\n", 0, 0600, XU_ERR_CONFIG, "@:1: port: expected a number from 1 to 65535"},
    {"alice@b:52x2 pw\n", 0, 0600, XU_ERR_CONFIG, "@:1: port: expected a number from 1 to 65535"},
    /* The same permission rules as our own files: the checks run on the imported account. */
    {"alice@example.org secret\n", 0, 0644, XU_ERR_CONFIG,
     "@: holds a password but is readable by others (chmod 600 @)"},
    {"username: alice@example.org\npassword: s e c\n", 0, 0640, XU_ERR_CONFIG,
     "@: holds a password but is readable by others (chmod 600 @)"},
    {"username: alice@example.org\neval_password: pass x\n", 0, 0620, XU_ERR_CONFIG,
     "@: is writable by others and could name commands to run (chmod go-w @)"},
    {"username: alice@example.org\nport: 0\npassword: x\n", 0, 0644, XU_ERR_CONFIG,
     "@:2: port: expected a number from 1 to 65535"},
};

static void test_errors(void **state)
{
	struct tc_state *s = *state;
	char label[32];
	size_t i;

	for (i = 0; i < sizeof(tc_errs) / sizeof(tc_errs[0]); i++) {
		const struct tc_err *c = &tc_errs[i];

		tc_write(s->path, c->text, c->len ? c->len : strlen(c->text), c->mode);
		snprintf(label, sizeof(label), "case %zu: ", i);
		tc_load_expect(label, s->path, c->err, c->msg);
	}
}

/* ------------------------------------------------------------------ accepted files */

struct tc_ok {
	const char *text;
	mode_t mode;
	const char *account; /* NULL: the default one */
	const char *field;   /* "name", "jid", ...: as the key is spelled in the file */
	const char *want;    /* "(none)": no such account; "(null)": unset string; ints as %d */
};

static const struct tc_ok tc_oks[] = {
    {"", 0600, NULL, "name", "(none)"},
    {"# only comments\n\n   # indented\n", 0600, NULL, "name", "(none)"},
    /* The only account is the default... */
    {"[solo]\njid = a@example.org\n", 0600, NULL, "name", "solo"},
    {"[solo]\njid = a@example.org\n", 0600, NULL, "jid", "a@example.org"},
    {"[solo]\njid = a@example.org\n", 0600, "solo", "jid", "a@example.org"},
    {"[solo]\njid = a@example.org\n", 0600, "other", "name", "(none)"},
    /* ...but of two, none is without `default`. */
    {"[a]\n[b]\n", 0600, NULL, "name", "(none)"},
    {"[a]\n[b]\n", 0600, "b", "name", "b"},
    {"default = b\n[a]\njid = a@x\n[b]\njid = b@x\n", 0600, NULL, "jid", "b@x"},
    {"  default=\"b\"  # q\n[a]\n[b]\n", 0600, NULL, "name", "b"},
    {"default = a\n[a]\n", 0600, NULL, "name", "a"},
    /* Defaults: everything unset. */
    {"[a]\n", 0600, "a", "jid", "(null)"},
    {"[a]\n", 0600, "a", "password", "(null)"},
    {"[a]\n", 0600, "a", "port", "-1"},
    {"[a]\n", 0600, "a", "direct-tls", "-1"},
    {"[a]\n", 0600, "a", "insecure", "-1"},
    {"[a]\n", 0600, "a", "allow-plaintext", "-1"},
    {"[a]\n", 0600, "a", "timeout", "-1"},
    {"[a]\n", 0600, "a", "mechanism", "(null)"},
    /* Values: trimmed, comments, quoting, escapes. */
    {"[a]\nhost = xmpp.example.org   # the server\n", 0600, "a", "host", "xmpp.example.org"},
    {"[a]\nhost=h#c\n", 0600, "a", "host", "h"},
    {"[a]\n\tresource \t=\t  cron job \t\n", 0600, "a", "resource", "cron job"},
    {"[a]\npassword-command = pass show xmpp/work\n", 0600, "a", "password-command",
     "pass show xmpp/work"},
    {"[a]\npassword = \"a#b \\\"c\\\" \\\\ d\"  # comment\n", 0600, "a", "password",
     "a#b \"c\" \\ d"},
    {"[a]\npassword = \" padded \"\n", 0600, "a", "password", " padded "},
    {"[a]\npassword = p\"q\\r\n", 0600, "a", "password", "p\"q\\r"},
    {"[a]\r\njid = a@b\r\n", 0600, "a", "jid", "a@b"},
    {"[a]\njid = a@b", 0600, "a", "jid", "a@b"},
    {"[ work ]  # comment\njid = w@x\n", 0600, "work", "jid", "w@x"},
    {"[alice@example.org]\n", 0600, "alice@example.org", "name", "alice@example.org"},
    /* Booleans. */
    {"[a]\ndirect-tls = yes\n", 0600, "a", "direct-tls", "1"},
    {"[a]\ndirect-tls = no\n", 0600, "a", "direct-tls", "0"},
    {"[a]\ninsecure = true\n", 0600, "a", "insecure", "1"},
    {"[a]\ninsecure = FALSE\n", 0600, "a", "insecure", "0"},
    {"[a]\nallow-plaintext = on\n", 0600, "a", "allow-plaintext", "1"},
    {"[a]\nallow-plaintext = Off\n", 0600, "a", "allow-plaintext", "0"},
    {"[a]\ninsecure = 1\n", 0600, "a", "insecure", "1"},
    {"[a]\ninsecure = \"0\"\n", 0600, "a", "insecure", "0"},
    /* Numbers at their bounds. */
    {"[a]\nport = 1\n", 0600, "a", "port", "1"},
    {"[a]\nport = 65535\n", 0600, "a", "port", "65535"},
    {"[a]\nport = 05222\n", 0600, "a", "port", "5222"},
    {"[a]\ntimeout = 1\n", 0600, "a", "timeout", "1"},
    {"[a]\ntimeout = 86400\n", 0600, "a", "timeout", "86400"},
    /* Mechanism names are upper-cased. */
    {"[a]\nmechanism = scram-sha-256-plus\n", 0600, "a", "mechanism", "SCRAM-SHA-256-PLUS"},
    {"[a]\nmechanism = PLAIN\n", 0600, "a", "mechanism", "PLAIN"},
    {"[a]\npin = sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n", 0600, "a", "pin",
     "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
    /* ~/ expansion with $HOME (set to /home/tester by the fixture). */
    {"[a]\ncafile = ~/ca.pem\n", 0600, "a", "cafile", "/home/tester/ca.pem"},
    {"[a]\npassword-file = \"~/.xmpp pass\"\n", 0600, "a", "password-file",
     "/home/tester/.xmpp pass"},
    {"[a]\ncafile = /etc/ssl/ca.pem\n", 0600, "a", "cafile", "/etc/ssl/ca.pem"},
    {"[a]\ncafile = a/~/b\n", 0600, "a", "cafile", "a/~/b"},
    /* Only `password` makes the permissions matter. */
    {"[a]\npassword = secret\n", 0600, "a", "password", "secret"},
    {"[a]\npassword = secret\n", 0400, "a", "password", "secret"},
    {"[a]\njid = a@b\npassword-command = pass x\n", 0644, "a", "password-command", "pass x"},
    {"[a]\npassword-file = /p\n", 0644, "a", "password-file", "/p"},
    {"[a]\njid = a@b\n", 0644, "a", "jid", "a@b"},
    /* The example of the command line specification. */
    {"# comment\ndefault = work              # the default account\n\n"
     "[work]\njid = alice@example.org\npassword-command = pass show xmpp/work\n"
     "host = xmpp.example.org\nport = 5222\ndirect-tls = no\ncafile = ~/ca.pem\n"
     "insecure = no\nallow-plaintext = no\nresource = cron\nmechanism = SCRAM-SHA-256\n"
     "timeout = 30\n\n[home]\njid = alice@home.example\npassword-file = ~/.xmpp-pass\n",
     0644, NULL, "timeout", "30"},
    /* The example of xmpp-utils.conf(5) (man/xmpp-utils.conf.5). */
    {"# The account used without -a.\ndefault = work\n\n[work]\njid = alice@example.org\n"
     "password-command = pass show xmpp/work\nhost = xmpp.example.org\nport = 5222\n"
     "direct-tls = no\ncafile = ~/ca.pem\nresource = cron\nmechanism = SCRAM-SHA-256\n"
     "timeout = 30\n\n[home]\njid = alice@home.example\n"
     "password = \"correct horse # battery\"\n",
     0600, "home", "password", "correct horse # battery"},
    /* ---- sendxmpp / go-sendxmpp files: one account, "sendxmpp", the default. */
    /* go-sendxmpp(5) FORMAT, every key. */
    {"username: alice@example.org\njserver: xmpp.example.org\nport: 5223\n"
     "eval_password: pass show xmpp/alice\nalias: bot\n",
     0644, NULL, "name", "sendxmpp"},
    {"username: alice@example.org\njserver: xmpp.example.org\nport: 5223\n"
     "eval_password: pass show xmpp/alice\nalias: bot\n",
     0644, "sendxmpp", "jid", "alice@example.org"},
    {"username: alice@example.org\njserver: xmpp.example.org\nport: 5223\n", 0600, NULL, "host",
     "xmpp.example.org"},
    {"username: alice@example.org\njserver: xmpp.example.org\nport: 5223\n", 0600, NULL, "port",
     "5223"},
    {"username: alice@example.org\neval_password: pass show xmpp/alice  \n", 0644, NULL,
     "password-command", "pass show xmpp/alice"},
    {"username: alice@example.org\neval_password: pass show xmpp/alice\n", 0644, NULL, "password",
     "(null)"},
    {"username: alice@example.org\nalias: bot\nresource: cron\n", 0644, NULL, "resource", "cron"},
    /* sendxmpp(1) CONFIGURATION FILE: a local part, completed with the component (the
     * JID's domain) and connecting to jserver. */
    {"username: lubomir.host\njserver: talk.google.com\npassword: my-secure-password\n"
     "component: gmail.com\n",
     0600, NULL, "jid", "lubomir.host@gmail.com"},
    {"username: lubomir.host\njserver: talk.google.com\npassword: my-secure-password\n"
     "component: gmail.com\n",
     0600, NULL, "host", "talk.google.com"},
    {"username: alice\njserver: example.org\ntls: 1\n", 0600, NULL, "jid", "alice@example.org"},
    {"username: alice\njserver: example.org\ntls: 1\n", 0600, NULL, "direct-tls", "-1"},
    /* Comments, blank lines, CRLF, no blank after the colon (sendxmpp allows it). */
    {"# go-sendxmpp\n\n   # indented\nusername:alice@example.org\n", 0600, NULL, "jid",
     "alice@example.org"},
    {"username: a@b\r\npassword: pw\r\n", 0600, NULL, "password", "pw"},
    {"username: a@b\r\npassword: pw\r\n", 0600, NULL, "jid", "a@b"},
    /* The password is the rest of the line, verbatim but for the blanks after the colon. */
    {"username: a@b\npassword:\tc0rrect horse # \"battery\" \\ staple  \n", 0600, NULL, "password",
     "c0rrect horse # \"battery\" \\ staple  "},
    {"password: =:@[x]\n", 0600, NULL, "password", "=:@[x]"},
    {"password: =:@[x]\n", 0600, NULL, "jid", "(null)"},
    {"password: x\ncomponent: c.example\n", 0600, NULL, "jid", "(null)"},
    /* sendxmpp's account line, and the variants of sendxmpp(1). */
    {"alice@example.org secret\n", 0600, NULL, "name", "sendxmpp"},
    {"alice@example.org secret\n", 0600, NULL, "jid", "alice@example.org"},
    {"alice@example.org secret\n", 0600, NULL, "password", "secret"},
    {"alice@example.org secret\n", 0600, NULL, "host", "(null)"},
    {"alice@example.org secret\n", 0600, NULL, "port", "-1"},
    {"# my account\n\talice@jabber.org  secret \r\n", 0600, NULL, "password", "secret"},
    {"alice@myjabberserver.com:1234 secret\n", 0600, NULL, "port", "1234"},
    {"alice@myjabberserver.com:1234 secret\n", 0600, NULL, "jid", "alice@myjabberserver.com"},
    {"alice@myjabberserver.com;foo.com secret\n", 0600, NULL, "jid", "alice@myjabberserver.com"},
    {"alice@myjabberserver.com;foo.com secret\n", 0600, NULL, "host", "foo.com"},
    {"alice@myjabberserver.com;foo.com:1234 secret\n", 0600, NULL, "host", "foo.com"},
    {"alice@myjabberserver.com;foo.com:1234 secret\n", 0600, NULL, "port", "1234"},
    /* A component is the JID's domain; the server is then where to connect. */
    {"lubomir.host@talk.google.com secret gmail.com\n", 0600, NULL, "jid",
     "lubomir.host@gmail.com"},
    {"lubomir.host@talk.google.com secret gmail.com\n", 0600, NULL, "host", "talk.google.com"},
    {"lubomir.host@talk.google.com secret gmail.com\n", 0600, NULL, "password", "secret"},
    /* No blanks in this password (sendxmpp's rule), anything else: '#' is no comment. */
    {"h#v.d-k@example.org p#\"'\\$x;y:z@w\n", 0600, NULL, "password", "p#\"'\\$x;y:z@w"},
    {"h#v.d-k@example.org p#\"'\\$x;y:z@w\n", 0600, NULL, "jid", "h#v.d-k@example.org"},
    /* The examples of xmpp-utils.conf(5) COMPATIBILITY. */
    {"# alice, through xmpp.example.org\nalice@example.org;xmpp.example.org:5222 secret\n", 0600,
     NULL, "host", "xmpp.example.org"},
    {"username: alice@example.org\njserver: xmpp.example.org\n"
     "eval_password: pass show xmpp/alice\n",
     0600, NULL, "password-command", "pass show xmpp/alice"},
    /* Our own format is still told apart by its first line. */
    {"default=a\n[a]\njid = a@b\n", 0600, NULL, "jid", "a@b"},
    {"# user@server password\n[a]\njid = a@b\n", 0600, NULL, "name", "a"},
};

static void tc_field(const struct xu_account *a, const char *field, char *out, size_t outsz)
{
	static const struct {
		const char *name;
		size_t off;
		bool is_int;
	} fields[] = {
	    {"name", offsetof(struct xu_account, name), false},
	    {"jid", offsetof(struct xu_account, jid), false},
	    {"password", offsetof(struct xu_account, password), false},
	    {"password-file", offsetof(struct xu_account, password_file), false},
	    {"password-command", offsetof(struct xu_account, password_command), false},
	    {"host", offsetof(struct xu_account, host), false},
	    {"port", offsetof(struct xu_account, port), true},
	    {"direct-tls", offsetof(struct xu_account, direct_tls), true},
	    {"cafile", offsetof(struct xu_account, cafile), false},
	    {"pin", offsetof(struct xu_account, pin), false},
	    {"insecure", offsetof(struct xu_account, insecure), true},
	    {"allow-plaintext", offsetof(struct xu_account, allow_plaintext), true},
	    {"resource", offsetof(struct xu_account, resource), false},
	    {"mechanism", offsetof(struct xu_account, mechanism), false},
	    {"timeout", offsetof(struct xu_account, timeout), true},
	};
	size_t i;

	if (!a) {
		snprintf(out, outsz, "(none)");
		return;
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const void *p = (const char *)a + fields[i].off;

		if (strcmp(fields[i].name, field) != 0)
			continue;
		if (fields[i].is_int)
			snprintf(out, outsz, "%d", *(const int *)p);
		else
			snprintf(out, outsz, "%s",
			         *(char *const *)p ? *(char *const *)p : "(null)");
		return;
	}
	fail_msg("no field %s", field);
}

static void test_accepted(void **state)
{
	struct tc_state *s = *state;
	struct xu_config *cfg;
	char got[512], *msg;
	enum xu_err err;
	size_t i;

	for (i = 0; i < sizeof(tc_oks) / sizeof(tc_oks[0]); i++) {
		const struct tc_ok *c = &tc_oks[i];

		tc_write(s->path, c->text, strlen(c->text), c->mode);
		msg = NULL;
		err = xu_config_load(s->path, &cfg, &msg);
		if (err != XU_OK)
			fail_msg("case %zu: error %d: %s", i, err, msg ? msg : "(null)");
		assert_null(msg);
		assert_non_null(cfg);
		tc_field(xu_config_account(cfg, c->account), c->field, got, sizeof(got));
		if (strcmp(got, c->want) != 0)
			fail_msg("case %zu: %s is \"%s\", want \"%s\"", i, c->field, got, c->want);
		xu_config_free(cfg);
	}
}

/* ------------------------------------------------------------------ sizes */

static void test_caps(void **state)
{
	struct tc_state *s = *state;
	size_t big = 1024 * 1024 + 1, i;
	char *text = malloc(big + 1);

	assert_non_null(text);
	/* A line of exactly 4096 bytes (newline not counted) is fine, 4097 is not. */
	memcpy(text, "[a]\njid = ", 10);
	memset(text + 10, 'x', 4096 - 6);
	text[4 + 4096] = '\n';
	tc_write(s->path, text, 4 + 4096 + 1, 0600);
	tc_load_expect("", s->path, XU_OK, NULL);
	memset(text + 10, 'x', 4097 - 6);
	text[4 + 4097] = '\n';
	tc_write(s->path, text, 4 + 4097 + 1, 0600);
	tc_load_expect("", s->path, XU_ERR_CONFIG, "@:2: line longer than 4096 bytes");
	/* Same without a final newline. */
	tc_write(s->path, text, 4 + 4097, 0600);
	tc_load_expect("", s->path, XU_ERR_CONFIG, "@:2: line longer than 4096 bytes");

	/* 1 MiB of comment lines is fine, one byte more is not. */
	for (i = 0; i < big; i++)
		text[i] = (i % 64 == 63) ? '\n' : '#';
	tc_write(s->path, text, big - 1, 0600);
	tc_load_expect("", s->path, XU_OK, NULL);
	tc_write(s->path, text, big, 0600);
	tc_load_expect("", s->path, XU_ERR_CONFIG, "@: larger than 1048576 bytes");
	free(text);
}

/* ------------------------------------------------------------------ paths and file types */

static void test_paths(void **state)
{
	struct tc_state *s = *state;
	char xdg[160], dir[200], file[240];

	/* An explicit path that does not exist: 66. */
	snprintf(file, sizeof(file), "%s/missing", s->dir);
	tc_load_expect("", file, XU_ERR_NOINPUT, "@: No such file or directory");
	snprintf(file, sizeof(file), "%s/config/below", s->dir);
	tc_write(s->path, "", 0, 0600);
	tc_load_expect("", file, XU_ERR_NOINPUT, "@: Not a directory");

	/* Not a regular file: a directory, a FIFO (which must not block). */
	tc_load_expect("", s->dir, XU_ERR_CONFIG, "@: not a regular file");
	snprintf(file, sizeof(file), "%s/fifo", s->dir);
	assert_int_equal(mkfifo(file, 0600), 0);
	tc_load_expect("", file, XU_ERR_CONFIG, "@: not a regular file");
	tc_load_expect("", "/dev/null", XU_ERR_CONFIG, "@: not a regular file");

	/* The default file, missing: an empty configuration, no error. */
	snprintf(xdg, sizeof(xdg), "%s/xdg", s->dir);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	tc_default_is(NULL, NULL);

	/* ...also when a file stands where a directory of the path should be. */
	setenv("XDG_CONFIG_HOME", s->path, 1);
	tc_default_is(NULL, NULL);
	setenv("XDG_CONFIG_HOME", xdg, 1);

	/* $XDG_CONFIG_HOME/xmpp-utils/config. */
	assert_int_equal(mkdir(xdg, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/xmpp-utils", xdg);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s/config", dir);
	tc_write(file, "[xdg]\njid = x@d\n", 16, 0600);
	tc_default_is("xdg", NULL);

	/* Errors in the default file are errors, with its path. */
	tc_write(file, "[xdg]\nbad = 1\n", 14, 0600);
	{
		struct xu_config *cfg = (struct xu_config *)&cfg;
		char *msg = NULL;

		assert_int_equal(xu_config_load(NULL, &cfg, &msg), XU_ERR_CONFIG);
		assert_null(cfg);
		tc_expand("@:2: unknown key bad", file, dir, sizeof(dir));
		assert_string_equal(msg, dir);
		free(msg);
	}

	/* A relative $XDG_CONFIG_HOME is ignored (XDG Base Directory spec): $HOME/.config. */
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	setenv("HOME", s->dir, 1);
	snprintf(dir, sizeof(dir), "%s/.config", s->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(dir, sizeof(dir), "%s/.config/xmpp-utils", s->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s/config", dir);
	tc_write(file, "[home]\ncafile = ~/ca\n", 21, 0600);
	snprintf(dir, sizeof(dir), "%s/ca", s->dir);
	tc_default_is("home", dir);
	unsetenv("XDG_CONFIG_HOME");
	tc_default_is("home", dir);

	/* No $HOME: no default file, and ~/ cannot be expanded. */
	unsetenv("HOME");
	tc_default_is(NULL, NULL);
	tc_write(s->path, "[a]\ncafile = ~/x\n", 17, 0600);
	tc_load_expect("", s->path, XU_ERR_CONFIG, "@:2: cafile: ~/ needs $HOME, which is not set");
	setenv("HOME", "/home/tester", 1);

	xu_config_free(NULL);
	assert_null(xu_config_account(NULL, NULL));
}

/* A password in a file someone else owns is refused even at mode 600 (needs root to set up). */
static void test_owner(void **state)
{
	struct tc_state *s = *state;

	if (geteuid() != 0)
		skip();
	tc_write(s->path, "[a]\npassword = x\n", 17, 0600);
	assert_int_equal(chown(s->path, 1, (gid_t)-1), 0);
	tc_load_expect("", s->path, XU_ERR_CONFIG,
	               "@: holds a password but is owned by uid 1, not by you");
	tc_write(s->path, "[a]\njid = x@y\n", 14, 0600);
	assert_int_equal(chown(s->path, 1, (gid_t)-1), 0);
	tc_load_expect("", s->path, XU_OK, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_errors, tc_setup, tc_teardown),
	    cmocka_unit_test_setup_teardown(test_accepted, tc_setup, tc_teardown),
	    cmocka_unit_test_setup_teardown(test_caps, tc_setup, tc_teardown),
	    cmocka_unit_test_setup_teardown(test_paths, tc_setup, tc_teardown),
	    cmocka_unit_test_setup_teardown(test_owner, tc_setup, tc_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
