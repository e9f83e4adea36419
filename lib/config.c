/* config.c: the account configuration file, xmpp-utils.conf(5): a strict INI-like parser, and
 * readers for sendxmpp's and go-sendxmpp's files so --config can point at them (migration). */
#include "xu-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Caps: a config file is small; anything beyond these is a mistake (or /dev/zero). */
#define CONFIG_MAX_FILE (1024 * 1024)
#define CONFIG_MAX_LINE 4096
#define CONFIG_MAX_PORT 65535
#define CONFIG_MAX_TIMEOUT 86400

struct xu_config {
	struct xu_account *acct;
	size_t *acct_line; /* line of each section header, for "first on line N" */
	size_t n;
	size_t cap;
	char *default_name;
};

enum config_kind {
	CONFIG_STRING,
	CONFIG_SECRET, /* the password: the only key that triggers the permission rule */
	CONFIG_PATH,   /* ~/ expanded with $HOME */
	CONFIG_BOOL,
	CONFIG_PORT,
	CONFIG_TIMEOUT,
	CONFIG_MECH,
	CONFIG_PIN,
};

struct config_key {
	const char *name;
	enum config_kind kind;
	size_t off; /* of the char * or int member in struct xu_account */
};

static const struct config_key config_keys[] = {
    {"jid", CONFIG_STRING, offsetof(struct xu_account, jid)},
    {"password", CONFIG_SECRET, offsetof(struct xu_account, password)},
    {"password-file", CONFIG_PATH, offsetof(struct xu_account, password_file)},
    {"password-command", CONFIG_STRING, offsetof(struct xu_account, password_command)},
    {"host", CONFIG_STRING, offsetof(struct xu_account, host)},
    {"port", CONFIG_PORT, offsetof(struct xu_account, port)},
    {"direct-tls", CONFIG_BOOL, offsetof(struct xu_account, direct_tls)},
    {"cafile", CONFIG_PATH, offsetof(struct xu_account, cafile)},
    {"pin", CONFIG_PIN, offsetof(struct xu_account, pin)},
    {"insecure", CONFIG_BOOL, offsetof(struct xu_account, insecure)},
    {"allow-plaintext", CONFIG_BOOL, offsetof(struct xu_account, allow_plaintext)},
    {"resource", CONFIG_STRING, offsetof(struct xu_account, resource)},
    {"mechanism", CONFIG_MECH, offsetof(struct xu_account, mechanism)},
    {"timeout", CONFIG_TIMEOUT, offsetof(struct xu_account, timeout)},
};
#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

/* The mechanisms lib/sasl.c implements, strongest first (RFC 5802, 7677, 9266; RFC 4616). */
static const char *const config_mechs[] = {
    "SCRAM-SHA-512-PLUS",
    "SCRAM-SHA-512",
    "SCRAM-SHA-256-PLUS",
    "SCRAM-SHA-256",
    "SCRAM-SHA-1-PLUS",
    "SCRAM-SHA-1",
    "PLAIN",
};

/* The syntaxes a file may use; see config_detect for how one is chosen. */
enum config_format {
	CONFIG_FORMAT_NONE, /* no line but blanks and comments yet */
	CONFIG_FORMAT_OURS, /* xmpp-utils.conf(5) */
	CONFIG_FORMAT_KEYS, /* "key: value", sendxmpp >= 1.24 and go-sendxmpp */
	CONFIG_FORMAT_LINE, /* "user@server password [component]", sendxmpp */
};

/* The keys of sendxmpp's and go-sendxmpp's "key: value" files, in config_legacy_keys order. */
enum config_legacy_key {
	CONFIG_LEGACY_USERNAME,
	CONFIG_LEGACY_JSERVER,
	CONFIG_LEGACY_PORT,
	CONFIG_LEGACY_PASSWORD,
	CONFIG_LEGACY_EVAL_PASSWORD,
	CONFIG_LEGACY_COMPONENT,
	CONFIG_LEGACY_RESOURCE,
	CONFIG_LEGACY_ALIAS,
	CONFIG_LEGACY_TLS,
	CONFIG_LEGACY_NKEYS,
};

struct config_parse {
	const char *path;
	const char *home; /* NULL: ~/ cannot be expanded */
	size_t line;
	struct xu_config *cfg;
	bool in_section;
	size_t key_line[CONFIG_NKEYS]; /* where each key was set in the current section; 0: not */
	size_t default_line;
	enum config_format format;
	size_t format_line;                      /* the line that decided the format */
	size_t legacy_line[CONFIG_LEGACY_NKEYS]; /* as key_line, for the "key: value" format */
	char *component;                         /* sendxmpp's component, until the end */
	char *errmsg;
};

static enum xu_err config_fail(struct config_parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record "PATH:LINE: message" (only the first error counts). */
static enum xu_err config_fail(struct config_parse *p, const char *fmt, ...)
{
	struct xu_buf b;
	va_list ap;
	char msg[512];

	if (p->errmsg)
		return XU_ERR_CONFIG;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	xu_buf_init(&b, 0);
	if (p->line)
		xu_buf_addf(&b, "%s:%zu: %s", p->path, p->line, msg);
	else
		xu_buf_addf(&b, "%s: %s", p->path, msg);
	p->errmsg = b.data; /* NULL when out of memory: the caller still gets XU_ERR_CONFIG */
	return XU_ERR_CONFIG;
}

/* A printable copy of a name from the file for an error message (never of a value: a value
 * could be a password typed on the wrong line). */
static const char *config_show(const char *s, size_t len, char *out, size_t outsz)
{
	size_t i, o = 0;

	for (i = 0; i < len && o + 4 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

static void config_wipe(char *data, size_t len)
{
	if (data) {
		explicit_bzero(data, len);
		free(data);
	}
}

static bool config_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Section and account names: printable, no blanks nor characters the syntax uses, so they can
 * be typed after --account and completed by the shells. */
static bool config_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || strchr("[]#=\"\\'", c))
			return false;
	}
	return true;
}

static void config_account_clear(struct xu_account *a)
{
	size_t i;

	/* Every string is wiped, not only the password: password-command lines and host names
	 * are nobody's business either, and it costs nothing. */
	xu_secret_free(a->name);
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_keys[i].kind != CONFIG_BOOL && config_keys[i].kind != CONFIG_PORT &&
		    config_keys[i].kind != CONFIG_TIMEOUT)
			xu_secret_free(*(char **)((char *)a + config_keys[i].off));
	}
}

void xu_config_free(struct xu_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n; i++)
		config_account_clear(&cfg->acct[i]);
	free(cfg->acct);
	free(cfg->acct_line);
	free(cfg->default_name);
	free(cfg);
}

const struct xu_account *xu_config_account(const struct xu_config *cfg, const char *name)
{
	size_t i;

	if (!cfg)
		return NULL;
	if (!name) {
		if (cfg->default_name)
			name = cfg->default_name;
		else if (cfg->n == 1)
			return &cfg->acct[0];
		else
			return NULL;
	}
	for (i = 0; i < cfg->n; i++) {
		if (strcmp(cfg->acct[i].name, name) == 0)
			return &cfg->acct[i];
	}
	return NULL;
}

/* A new account `name` (nlen bytes) with every setting unset, begun on the current line. */
static enum xu_err config_account_add(struct config_parse *p, const char *name, size_t nlen,
                                      struct xu_account **out)
{
	struct xu_config *cfg = p->cfg;
	struct xu_account *a;

	if (cfg->n == cfg->cap) {
		/* Two arrays of one capacity: the second grows from a copy of the count. */
		size_t cap = cfg->cap;

		if (xu_array_room((void **)&cfg->acct_line, &cap, cfg->n, sizeof(size_t), 4) ||
		    xu_array_room((void **)&cfg->acct, &cfg->cap, cfg->n, sizeof(*cfg->acct), 4))
			return XU_ERR_NOMEM;
	}
	a = &cfg->acct[cfg->n];
	memset(a, 0, sizeof(*a));
	a->port = -1;
	a->direct_tls = -1;
	a->insecure = -1;
	a->allow_plaintext = -1;
	a->timeout = -1;
	a->name = strndup(name, nlen);
	if (!a->name)
		return XU_ERR_NOMEM;
	cfg->acct_line[cfg->n] = p->line;
	cfg->n++;
	*out = a;
	return XU_OK;
}

static enum xu_err config_section(struct config_parse *p, const char *s, size_t len)
{
	struct xu_config *cfg = p->cfg;
	struct xu_account *a;
	const char *end = memchr(s, ']', len);
	const char *name, *q;
	size_t nlen, i;
	char show[80];

	if (!end)
		return config_fail(p, "missing ] after section name");
	for (q = end + 1; q < s + len && config_is_space(*q); q++)
		;
	if (q < s + len && *q != '#')
		return config_fail(p, "unexpected text after ]");
	name = s + 1;
	while (name < end && config_is_space(*name))
		name++;
	nlen = (size_t)(end - name);
	while (nlen && config_is_space(name[nlen - 1]))
		nlen--;
	if (!config_name_ok(name, nlen))
		return config_fail(p, "bad section name \"%s\" (no blanks, quotes, [ ] # = \\)",
		                   config_show(name, nlen, show, sizeof(show)));
	for (i = 0; i < cfg->n; i++) {
		if (strlen(cfg->acct[i].name) == nlen && memcmp(cfg->acct[i].name, name, nlen) == 0)
			return config_fail(p, "duplicate section [%s] (first on line %zu)",
			                   cfg->acct[i].name, cfg->acct_line[i]);
	}
	if (config_account_add(p, name, nlen, &a))
		return XU_ERR_NOMEM;
	p->in_section = true;
	memset(p->key_line, 0, sizeof(p->key_line));
	return XU_OK;
}

/*
 * The value after '=': unquoted it runs to the end of the line or to a '#', trimmed; quoted
 * ("...") it may hold '#' and the escapes \" and \\, and only a comment may follow it.
 * *out is malloc'ed (wiped by the caller).
 */
static enum xu_err config_value(struct config_parse *p, const char *s, size_t len, char **out)
{
	const char *end = s + len;
	char *v;
	size_t o = 0;

	while (s < end && config_is_space(*s))
		s++;
	if (s < end && *s == '"') {
		v = calloc(1, len + 1); /* stays NUL-terminated for xu_secret_free */
		if (!v)
			return XU_ERR_NOMEM;
		for (s++; s < end && *s != '"'; s++) {
			if (*s == '\\') {
				if (s + 1 == end || (s[1] != '"' && s[1] != '\\')) {
					xu_secret_free(v);
					return config_fail(p, "bad escape in quoted value "
					                      "(only \\\" and \\\\)");
				}
				s++;
			}
			v[o++] = *s;
		}
		v[o] = '\0';
		if (s == end) {
			xu_secret_free(v);
			return config_fail(p, "missing closing quote");
		}
		for (s++; s < end && config_is_space(*s); s++)
			;
		if (s < end && *s != '#') {
			xu_secret_free(v);
			return config_fail(p, "unexpected text after closing quote");
		}
	} else {
		const char *hash = memchr(s, '#', (size_t)(end - s));

		if (hash)
			end = hash;
		while (end > s && config_is_space(end[-1]))
			end--;
		v = strndup(s, (size_t)(end - s));
		if (!v)
			return XU_ERR_NOMEM;
		o = (size_t)(end - s);
	}
	if (o == 0) {
		xu_secret_free(v);
		return config_fail(p, "empty value");
	}
	*out = v;
	return XU_OK;
}

static bool config_bool(const char *v, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return true;
		}
	}
	return false;
}

/* Decimal digits only (no sign, no blanks), min..max. */
static bool config_int(const char *v, long min, long max, int *out)
{
	long n = 0;

	if (!*v)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return false;
		n = n * 10 + (*v - '0');
		if (n > max)
			return false;
	}
	if (n < min)
		return false;
	*out = (int)n;
	return true;
}

/* "sha256:" and the base64 of 32 bytes: 43 characters and one '='. */
static bool config_pin_ok(const char *v)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	if (strncmp(v, "sha256:", 7) != 0)
		return false;
	v += 7;
	if (strlen(v) != 44 || v[43] != '=')
		return false;
	for (i = 0; i < 43; i++) {
		if (!strchr(b64, v[i]))
			return false;
	}
	/* The last character before '=' carries 4 bits; the 2 padding bits must be zero. */
	return ((strchr(b64, v[42]) - b64) & 3) == 0;
}

static enum xu_err config_set(struct config_parse *p, size_t k, char *v)
{
	const struct config_key *key = &config_keys[k];
	struct xu_account *a = &p->cfg->acct[p->cfg->n - 1];
	void *field = (char *)a + key->off;
	struct xu_buf b;
	enum xu_err err = XU_OK;
	size_t i;

	switch (key->kind) {
	case CONFIG_BOOL:
		if (!config_bool(v, field))
			err = config_fail(p, "%s: expected yes, no, true, false, on, off, 1 or 0",
			                  key->name);
		break;
	case CONFIG_PORT:
		if (!config_int(v, 1, CONFIG_MAX_PORT, field))
			err = config_fail(p, "%s: expected a number from 1 to %d", key->name,
			                  CONFIG_MAX_PORT);
		break;
	case CONFIG_TIMEOUT:
		if (!config_int(v, 1, CONFIG_MAX_TIMEOUT, field))
			err = config_fail(p, "%s: expected seconds from 1 to %d", key->name,
			                  CONFIG_MAX_TIMEOUT);
		break;
	case CONFIG_MECH:
		for (i = 0; i < sizeof(config_mechs) / sizeof(config_mechs[0]); i++) {
			if (strcasecmp(v, config_mechs[i]) == 0)
				break;
		}
		if (i == sizeof(config_mechs) / sizeof(config_mechs[0])) {
			err = config_fail(p, "%s: unknown SASL mechanism", key->name);
			break;
		}
		/* SASL mechanism names are upper case (RFC 4422 §3.1). */
		for (i = 0; v[i]; i++) {
			if (v[i] >= 'a' && v[i] <= 'z')
				v[i] = (char)(v[i] - 'a' + 'A');
		}
		*(char **)field = v;
		return XU_OK;
	case CONFIG_PIN:
		if (!config_pin_ok(v)) {
			err = config_fail(p, "%s: expected sha256: and 44 characters of base64",
			                  key->name);
			break;
		}
		*(char **)field = v;
		return XU_OK;
	case CONFIG_PATH:
		if (v[0] == '~' && v[1] != '/') {
			err = config_fail(p, "%s: only ~/ is expanded", key->name);
			break;
		}
		if (v[0] == '~') {
			if (!p->home || !*p->home) {
				err = config_fail(p, "%s: ~/ needs $HOME, which is not set",
				                  key->name);
				break;
			}
			xu_buf_init(&b, 0);
			err = xu_buf_adds(&b, p->home);
			if (!err)
				err = xu_buf_adds(&b, v + 1);
			if (err) {
				xu_buf_free(&b);
				err = XU_ERR_NOMEM;
				break;
			}
			xu_secret_free(v);
			*(char **)field = b.data;
			return XU_OK;
		}
		*(char **)field = v;
		return XU_OK;
	case CONFIG_STRING:
	case CONFIG_SECRET:
		*(char **)field = v;
		return XU_OK;
	}
	xu_secret_free(v);
	return err;
}

static enum xu_err config_keyval(struct config_parse *p, const char *s, size_t len)
{
	const char *end = s + len, *q = s;
	char show[80];
	char *v = NULL;
	size_t klen, k, i;
	enum xu_err err;
	struct xu_account *a;
	int nsrc = 0;

	while (q < end && *q != '=' && !config_is_space(*q))
		q++;
	klen = (size_t)(q - s);
	while (q < end && config_is_space(*q))
		q++;
	if (q == end || *q != '=' || klen == 0)
		return config_fail(p, "expected key = value or [section]");
	q++;

	if (klen == 7 && memcmp(s, "default", 7) == 0) {
		if (p->in_section)
			return config_fail(p, "default must come before the first section");
		if (p->default_line)
			return config_fail(p, "duplicate key default (first on line %zu)",
			                   p->default_line);
		err = config_value(p, q, (size_t)(end - q), &v);
		if (err)
			return err;
		if (!config_name_ok(v, strlen(v))) {
			xu_secret_free(v);
			return config_fail(p, "default: bad account name");
		}
		p->cfg->default_name = v;
		p->default_line = p->line;
		return XU_OK;
	}
	for (k = 0; k < CONFIG_NKEYS; k++) {
		if (strlen(config_keys[k].name) == klen &&
		    memcmp(config_keys[k].name, s, klen) == 0)
			break;
	}
	if (k == CONFIG_NKEYS)
		return config_fail(p, "unknown key %s", config_show(s, klen, show, sizeof(show)));
	if (!p->in_section)
		return config_fail(p, "%s outside a section (only default may come before [name])",
		                   config_keys[k].name);
	if (p->key_line[k])
		return config_fail(p, "duplicate key %s (first on line %zu)", config_keys[k].name,
		                   p->key_line[k]);
	err = config_value(p, q, (size_t)(end - q), &v);
	if (err)
		return err;
	err = config_set(p, k, v);
	if (err)
		return err;
	p->key_line[k] = p->line;

	/* One password source per account: "first found wins" inside one section would make
	 * the file mean something other than what it looks like. */
	a = &p->cfg->acct[p->cfg->n - 1];
	nsrc = !!a->password + !!a->password_file + !!a->password_command;
	if (nsrc > 1) {
		for (i = 0; i < CONFIG_NKEYS; i++) {
			if (i != k && p->key_line[i] &&
			    (config_keys[i].off == offsetof(struct xu_account, password) ||
			     config_keys[i].off == offsetof(struct xu_account, password_file) ||
			     config_keys[i].off == offsetof(struct xu_account, password_command)))
				break;
		}
		return config_fail(p,
		                   "%s: %s already given on line %zu (only one of password, "
		                   "password-file, password-command)",
		                   config_keys[k].name, config_keys[i].name, p->key_line[i]);
	}
	return XU_OK;
}

/* ---------------------------------------------------------------- sendxmpp, go-sendxmpp */

/*
 * Migration: a file written for sendxmpp (Perl, 1.24: ~/.sendxmpprc) or go-sendxmpp (0.5:
 * ~/.config/go-sendxmpp/config) is read into one account named "sendxmpp", the default.
 * Both tools share the "key: value" syntax (sendxmpp since 1.24), and both read sendxmpp's
 * older "user@server password" line, so the syntax is told apart, not the tool.
 * Sources: sendxmpp(1) CONFIGURATION FILE and read_config_file() in sendxmpp 1.24;
 * go-sendxmpp(5) and parseConfig() in go-sendxmpp 0.5.6.
 */
#define CONFIG_LEGACY_NAME "sendxmpp"

static const char *const config_legacy_keys[CONFIG_LEGACY_NKEYS] = {
    "username",  "jserver",  "port",  "password", "eval_password",
    "component", "resource", "alias", "tls",
};

/*
 * The format of a file is decided by its first line that is neither blank nor a comment (s,
 * leading blanks removed). Take the word before the first blank, '=', ':' or '@':
 *   the line starts with '[', or the word is followed by blanks and '='  -> ours;
 *   the word is followed directly by ':'                                 -> "key: value";
 *   the word is followed directly by '@'                                 -> "user@server ...".
 * These cannot overlap: our first line is a [section] or "default = ..." (no key of ours has
 * ':' or '@'), both tools' keys are plain words glued to their ':', and sendxmpp's user names
 * ([.\w#-]+ in its parser) hold none of '=', ':', '@' or blanks. Anything else fits none, and
 * is an error on that line rather than a guess.
 */
static enum config_format config_detect(const char *s, size_t len)
{
	size_t i = 0, w;

	if (len && s[0] == '[')
		return CONFIG_FORMAT_OURS;
	while (i < len && !config_is_space(s[i]) && !strchr("=:@", s[i]))
		i++;
	w = i;
	if (w && i < len && s[i] == ':')
		return CONFIG_FORMAT_KEYS;
	if (w && i < len && s[i] == '@')
		return CONFIG_FORMAT_LINE;
	while (i < len && config_is_space(s[i]))
		i++;
	if (i < len && s[i] == '=')
		return CONFIG_FORMAT_OURS;
	return CONFIG_FORMAT_NONE;
}

/* The one account of a sendxmpp file, made on the line that decided the format. */
static enum xu_err config_legacy_account(struct config_parse *p, struct xu_account **out)
{
	if (p->cfg->n) {
		*out = &p->cfg->acct[0];
		return XU_OK;
	}
	return config_account_add(p, CONFIG_LEGACY_NAME, strlen(CONFIG_LEGACY_NAME), out);
}

/* *field = "user@domain" (user: ulen bytes). */
static enum xu_err config_legacy_jid(char **field, const char *user, size_t ulen,
                                     const char *domain)
{
	struct xu_buf b;

	xu_buf_init(&b, 0);
	if (xu_buf_addf(&b, "%.*s@%s", (int)ulen, user, domain)) {
		xu_buf_free(&b);
		return XU_ERR_NOMEM;
	}
	xu_secret_free(*field);
	*field = b.data;
	return XU_OK;
}

/* *field = a copy of s (len bytes); no value may be empty, as in our own format. */
static enum xu_err config_legacy_copy(struct config_parse *p, char **field, const char *s,
                                      size_t len)
{
	if (len == 0)
		return config_fail(p, "empty value");
	*field = strndup(s, len);
	return *field ? XU_OK : XU_ERR_NOMEM;
}

/*
 * One "key: value" line. Blanks after the ':' are skipped (sendxmpp skips any, go-sendxmpp
 * exactly one space); the password keeps the rest of the line verbatim, trailing blanks too,
 * because both tools send those bytes; other values are trimmed. Unlike both tools (the last
 * one wins) a key may appear once, as in our own format. An unknown key is an error:
 * go-sendxmpp refuses one too ("Couldn't parse config"), and a mistyped "pasword:" that
 * sendxmpp would silently drop is better reported.
 */
static enum xu_err config_legacy_keyval(struct config_parse *p, const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len), *v;
	struct xu_account *a;
	char show[80], *tmp = NULL;
	size_t klen, k, vlen, i;
	enum xu_err err;

	if (len && s[len - 1] == '\r')
		len--;
	klen = colon ? (size_t)(colon - s) : 0;
	for (i = 0; i < klen && !config_is_space(s[i]); i++)
		;
	if (klen == 0 || i < klen)
		return config_fail(p, "expected key: value, the syntax of line %zu",
		                   p->format_line);
	for (k = 0; k < CONFIG_LEGACY_NKEYS; k++) {
		if (strlen(config_legacy_keys[k]) == klen &&
		    memcmp(config_legacy_keys[k], s, klen) == 0)
			break;
	}
	if (k == CONFIG_LEGACY_NKEYS)
		return config_fail(p,
		                   "unknown key %s (sendxmpp/go-sendxmpp: username, jserver, port, "
		                   "password, eval_password, component, resource, alias, tls)",
		                   config_show(s, klen, show, sizeof(show)));
	if (p->legacy_line[k])
		return config_fail(p, "duplicate key %s (first on line %zu)", config_legacy_keys[k],
		                   p->legacy_line[k]);
	for (v = colon + 1; v < s + len && config_is_space(*v); v++)
		;
	vlen = (size_t)(s + len - v);
	while (k != CONFIG_LEGACY_PASSWORD && vlen && config_is_space(v[vlen - 1]))
		vlen--;
	err = config_legacy_account(p, &a);
	if (err)
		return err;
	switch ((enum config_legacy_key)k) {
	case CONFIG_LEGACY_USERNAME:
		err = config_legacy_copy(p, &a->jid, v, vlen);
		break;
	case CONFIG_LEGACY_JSERVER:
		err = config_legacy_copy(p, &a->host, v, vlen);
		break;
	case CONFIG_LEGACY_PASSWORD:
		err = config_legacy_copy(p, &a->password, v, vlen);
		break;
	case CONFIG_LEGACY_EVAL_PASSWORD:
		err = config_legacy_copy(p, &a->password_command, v, vlen);
		break;
	case CONFIG_LEGACY_COMPONENT:
		err = config_legacy_copy(p, &p->component, v, vlen);
		break;
	case CONFIG_LEGACY_RESOURCE:
		err = config_legacy_copy(p, &a->resource, v, vlen);
		break;
	case CONFIG_LEGACY_PORT:
		err = config_legacy_copy(p, &tmp, v, vlen);
		if (!err && !config_int(tmp, 1, CONFIG_MAX_PORT, &a->port))
			err =
			    config_fail(p, "port: expected a number from 1 to %d", CONFIG_MAX_PORT);
		xu_secret_free(tmp);
		break;
	case CONFIG_LEGACY_ALIAS: /* a MUC nickname: xmpp-muc takes --nick instead */
	case CONFIG_LEGACY_TLS:   /* sendxmpp's STARTTLS switch: we always use TLS */
	case CONFIG_LEGACY_NKEYS:
		err = vlen ? XU_OK : config_fail(p, "empty value");
		break;
	}
	if (err)
		return err;
	p->legacy_line[k] = p->line;
	if (a->password && a->password_command) {
		i = k == CONFIG_LEGACY_PASSWORD ? CONFIG_LEGACY_EVAL_PASSWORD
		                                : CONFIG_LEGACY_PASSWORD;
		return config_fail(p, "%s: %s already given on line %zu (only one of them)",
		                   config_legacy_keys[k], config_legacy_keys[i], p->legacy_line[i]);
	}
	return XU_OK;
}

/*
 * After the last "key: value" line: a username without '@' is a local part, completed as
 * sendxmpp does with its component, else (both tools) with jserver.
 */
static enum xu_err config_legacy_keys_end(struct config_parse *p)
{
	struct xu_account *a = p->cfg->n ? &p->cfg->acct[0] : NULL;
	const char *domain = p->component ? p->component : a ? a->host : NULL;

	if (!a || !a->jid)
		return XU_OK; /* the JID comes from --jid or XMPP_JID; a component alone is moot */
	if (!strchr(a->jid, '@')) {
		if (!domain) {
			p->line = p->legacy_line[CONFIG_LEGACY_USERNAME];
			return config_fail(p, "username: no @domain, and no jserver or component "
			                      "to take it from");
		}
		return config_legacy_jid(&a->jid, a->jid, strlen(a->jid), domain);
	}
	if (p->component) {
		/* sendxmpp would name the component in the stream header and log in as
		 * "user@domain" there: no account of ours means that. */
		p->line = p->legacy_line[CONFIG_LEGACY_COMPONENT];
		return config_fail(p, "component: the username already has an @domain");
	}
	return XU_OK;
}

/*
 * sendxmpp's account line: "user@server[;host][:port] password [component]", fields split by
 * blanks, so the password has none (sendxmpp's own rule); '#' inside it is not a comment.
 * The JID is user@component when a component is given (sendxmpp names it in the stream
 * header, Net::XMPP's "domain portion of the JID") and the server is then where to connect;
 * else user@server, with host only from ";host".
 */
static enum xu_err config_legacy_line(struct config_parse *p, const char *s, size_t len)
{
	const char *f[4], *end = s + len, *at, *semi, *colon, *dend, *pend, *comp;
	size_t fl[4], n = 0, i;
	struct xu_account *a;
	char num[8], *dom = NULL;
	enum xu_err err;

	if (p->cfg->n)
		return config_fail(p, "a sendxmpp file has one account line, and it is line %zu",
		                   p->format_line);
	while (n < 4) {
		while (s < end && config_is_space(*s))
			s++;
		if (s == end)
			break;
		f[n] = s;
		while (s < end && !config_is_space(*s))
			s++;
		fl[n] = (size_t)(s - f[n]);
		n++;
	}
	if (n < 2 || n > 3)
		return config_fail(p, "expected user@server password [component]");
	pend = f[0] + fl[0];
	at = memchr(f[0], '@', fl[0]);
	if (!at) /* not on the line that chose this format: config_detect saw an '@' there */
		return config_fail(p, "expected user@server password [component]");
	semi = memchr(at, ';', (size_t)(pend - at));
	colon = memchr(at, ':', (size_t)(pend - at));
	dend = semi ? semi : colon ? colon : pend;
	if (at == f[0] || dend == at + 1 || memchr(at + 1, '@', (size_t)(pend - at - 1)) ||
	    (semi && colon && colon < semi) || (semi && (colon ? colon : pend) == semi + 1))
		return config_fail(p, "expected user@server[;host][:port] password [component]");
	err = config_legacy_account(p, &a);
	if (err)
		return err;
	if (colon) {
		i = (size_t)(pend - colon - 1);
		memcpy(num, colon + 1, i < sizeof(num) ? i : sizeof(num) - 1);
		num[i < sizeof(num) ? i : sizeof(num) - 1] = '\0';
		if (i >= sizeof(num) || !config_int(num, 1, CONFIG_MAX_PORT, &a->port))
			return config_fail(p, "port: expected a number from 1 to %d",
			                   CONFIG_MAX_PORT);
	}
	comp = n == 3 ? f[2] : NULL;
	if (semi)
		err = config_legacy_copy(p, &a->host, semi + 1,
		                         (size_t)((colon ? colon : pend) - semi - 1));
	else if (comp)
		err = config_legacy_copy(p, &a->host, at + 1, (size_t)(dend - at - 1));
	if (!err)
		err = config_legacy_copy(p, &dom, comp ? comp : at + 1,
		                         comp ? fl[2] : (size_t)(dend - at - 1));
	if (!err)
		err = config_legacy_jid(&a->jid, f[0], (size_t)(at - f[0]), dom);
	if (!err)
		err = config_legacy_copy(p, &a->password, f[1], fl[1]);
	xu_secret_free(dom);
	return err;
}

/* ---------------------------------------------------------------- parsing, all formats */

/* One line that is neither blank nor a comment (s: leading blanks removed). */
static enum xu_err config_line(struct config_parse *p, const char *s, size_t len)
{
	if (p->format == CONFIG_FORMAT_NONE) {
		p->format = config_detect(s, len);
		p->format_line = p->line;
		if (p->format == CONFIG_FORMAT_NONE)
			return config_fail(p,
			                   "unknown syntax: expected [name] or key = value "
			                   "(xmpp-utils.conf), key: value or user@server password "
			                   "(sendxmpp, go-sendxmpp)");
	}
	switch (p->format) {
	case CONFIG_FORMAT_KEYS:
		return config_legacy_keyval(p, s, len);
	case CONFIG_FORMAT_LINE:
		return config_legacy_line(p, s, len);
	case CONFIG_FORMAT_OURS:
	case CONFIG_FORMAT_NONE:
		break;
	}
	if (*s == '[')
		return config_section(p, s, len);
	return config_keyval(p, s, len);
}

/* After the last line: what can only be checked once the whole file has been read. */
static enum xu_err config_end(struct config_parse *p)
{
	size_t i;

	if (p->format == CONFIG_FORMAT_KEYS)
		return config_legacy_keys_end(p);
	if (p->cfg->default_name) {
		for (i = 0; i < p->cfg->n; i++) {
			if (strcmp(p->cfg->acct[i].name, p->cfg->default_name) == 0)
				return XU_OK;
		}
		p->line = p->default_line;
		return config_fail(p, "default account %s has no [%s] section",
		                   p->cfg->default_name, p->cfg->default_name);
	}
	return XU_OK;
}

static enum xu_err config_parse_data(struct config_parse *p, const char *data, size_t len)
{
	const char *s = data, *end = data + len;
	enum xu_err err;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl ? nl : end;
		size_t llen = (size_t)(eol - s);

		p->line++;
		if (llen > CONFIG_MAX_LINE)
			return config_fail(p, "line longer than %d bytes", CONFIG_MAX_LINE);
		if (memchr(s, '\0', llen))
			return config_fail(p, "NUL byte");
		while (s < eol && config_is_space(*s))
			s++;
		if (s < eol && *s != '#') {
			err = config_line(p, s, (size_t)(eol - s));
			if (err)
				return err;
		}
		s = nl ? nl + 1 : end;
	}
	return config_end(p);
}

/* $XDG_CONFIG_HOME/xmpp-utils/config (absolute only, as the XDG spec says), else
 * $HOME/.config/xmpp-utils/config. NULL with XU_OK when neither is set. */
static enum xu_err config_default_path(char **out)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	struct xu_buf b;
	enum xu_err err;

	*out = NULL;
	xu_buf_init(&b, 0);
	if (xdg && xdg[0] == '/')
		err = xu_buf_addf(&b, "%s/xmpp-utils/config", xdg);
	else if (home && *home)
		err = xu_buf_addf(&b, "%s/.config/xmpp-utils/config", home);
	else
		return XU_OK;
	if (err) {
		xu_buf_free(&b);
		return err;
	}
	*out = b.data;
	return XU_OK;
}

/* Read the whole file from fd (at most CONFIG_MAX_FILE bytes) into *out, NUL-terminated.
 * The buffer is grown by hand so no stale copy of a password is left behind by realloc. */
static enum xu_err config_read(struct config_parse *p, int fd, size_t hint, char **out,
                               size_t *outlen)
{
	size_t cap = (hint < CONFIG_MAX_FILE ? hint : CONFIG_MAX_FILE) + 2, len = 0;
	char *buf = malloc(cap), *nbuf;
	ssize_t n;

	if (!buf)
		return XU_ERR_NOMEM;
	for (;;) {
		if (len + 1 == cap) {
			if (len > CONFIG_MAX_FILE)
				break;
			nbuf =
			    malloc(cap * 2 < CONFIG_MAX_FILE + 2 ? cap * 2 : CONFIG_MAX_FILE + 2);
			if (!nbuf)
				goto nomem;
			memcpy(nbuf, buf, len);
			explicit_bzero(buf, cap);
			free(buf);
			buf = nbuf;
			cap = cap * 2 < CONFIG_MAX_FILE + 2 ? cap * 2 : CONFIG_MAX_FILE + 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			explicit_bzero(buf, cap);
			free(buf);
			config_fail(p, "%s", strerror(e));
			return XU_ERR_IO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_MAX_FILE) {
		explicit_bzero(buf, cap);
		free(buf);
		return config_fail(p, "larger than %d bytes", CONFIG_MAX_FILE);
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return XU_OK;
nomem:
	explicit_bzero(buf, cap);
	free(buf);
	return XU_ERR_NOMEM;
}

/* Open, check and parse p->path into p->cfg. A missing default file leaves it empty. */
static enum xu_err config_load_file(struct config_parse *p, bool is_default)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0, i;
	bool has_password = false;
	enum xu_err err;
	int fd, flags, e;

	/* O_NONBLOCK: a FIFO planted at the path must not hang us before fstat rejects it. */
	fd = open(p->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		if (is_default && (e == ENOENT || e == ENOTDIR))
			return XU_OK;
		config_fail(p, "%s", strerror(e));
		if (e == ENOENT || e == ENOTDIR || e == EACCES || e == EPERM || e == ELOOP ||
		    e == ENAMETOOLONG)
			return XU_ERR_NOINPUT;
		return XU_ERR_IO;
	}
	/* Check the file we opened, not the name: no window between stat and open. */
	if (fstat(fd, &st) < 0) {
		e = errno;
		err = XU_ERR_IO;
		config_fail(p, "%s", strerror(e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = config_fail(p, "not a regular file");
		goto out;
	}
	if (st.st_size > CONFIG_MAX_FILE) {
		err = config_fail(p, "larger than %d bytes", CONFIG_MAX_FILE);
		goto out;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	err = config_read(p, fd, (size_t)st.st_size, &data, &len);
	if (err)
		goto out;
	err = config_parse_data(p, data, len);
	if (err)
		goto out;

	/* Like ssh and msmtp: a password in a file others can read, or one someone else could
	 * have written, is refused rather than used. */
	for (i = 0; i < p->cfg->n; i++)
		has_password = has_password || p->cfg->acct[i].password;
	p->line = 0;
	if (has_password && st.st_uid != geteuid())
		err = config_fail(p, "holds a password but is owned by uid %lu, not by you",
		                  (unsigned long)st.st_uid);
	else if (has_password && (st.st_mode & 077))
		err = config_fail(p, "holds a password but is readable by others (chmod 600 %s)",
		                  p->path);
	else if (st.st_mode & 022)
		/* Whoever can write it can name a password-command for us to run (ssh's rule). */
		err = config_fail(p,
		                  "is writable by others and could name commands to run (chmod "
		                  "go-w %s)",
		                  p->path);
out:
	close(fd);
	config_wipe(data, len);
	return err;
}

enum xu_err xu_config_load(const char *path, struct xu_config **out, char **errmsg)
{
	struct config_parse p;
	char *defpath = NULL;
	enum xu_err err = XU_OK;

	*out = NULL;
	if (errmsg)
		*errmsg = NULL;
	memset(&p, 0, sizeof(p));
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (!p.cfg)
		return XU_ERR_NOMEM;
	p.home = getenv("HOME");
	p.path = path;
	if (!path) {
		err = config_default_path(&defpath);
		p.path = defpath;
	}
	/* No explicit path and neither $XDG_CONFIG_HOME nor $HOME: an empty configuration. */
	if (!err && p.path)
		err = config_load_file(&p, !path);
	if (err == XU_ERR_NOMEM) {
		free(p.errmsg);
		p.errmsg = strdup("out of memory");
	}
	if (err) {
		xu_config_free(p.cfg);
		p.cfg = NULL;
	}
	xu_secret_free(p.component);
	if (errmsg)
		*errmsg = p.errmsg;
	else
		free(p.errmsg);
	free(defpath);
	*out = p.cfg;
	return err;
}
