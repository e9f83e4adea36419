/* jid.c: XMPP addresses (RFC 7622 §3), domainparts via IDNA2008 (RFC 5890-5892, UTS #46). */
#include "xu-int.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

/* Each part's limit after preparation (RFC 7622 §3.2-§3.4). */
#define JID_PART_MAX 1023
/* RFC 1034/1035: 255 octets on the wire, so 253 in text without the root dot. */
#define JID_DNS_NAME_MAX 253
#define JID_DNS_LABEL_MAX 63
/*
 * Input refused before any preparation: three parts of 1023 octets, each of which can shrink
 * at most fourfold under width mapping and NFC, plus the two separators. Only characters that
 * UTS #46 maps to nothing could make a longer input valid, and nobody needs that.
 */
#define JID_INPUT_MAX (3 * 4 * JID_PART_MAX + 2)

struct xu_jid {
	char *local;        /* NULL when absent */
	char *domain;       /* U-labels, lower case, or an IP literal */
	char *domain_ascii; /* A-labels */
	char *resource;     /* NULL when absent */
	char *full;
	char *bare;
};

void xu_jid_free(struct xu_jid *jid)
{
	if (!jid)
		return;
	free(jid->local);
	free(jid->domain);
	free(jid->domain_ascii);
	free(jid->resource);
	free(jid->full);
	free(jid->bare);
	free(jid);
}

static char *jid_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Turn a PRECIS reason into one that names the part; the strings are precis.c's. */
static const char *jid_precis_why(const char *why, bool local)
{
	static const struct {
		const char *precis, *local, *resource;
	} map[] = {
	    {"empty string", "empty localpart", "empty resourcepart"},
	    {"not valid UTF-8", "localpart is not valid UTF-8", "resourcepart is not valid UTF-8"},
	    {"disallowed character", "disallowed character in localpart",
	     "disallowed character in resourcepart"},
	    {"character not allowed in an identifier", "character not allowed in a localpart",
	     "character not allowed in a resourcepart"},
	    {"character not allowed in this context",
	     "character not allowed in this context in localpart",
	     "character not allowed in this context in resourcepart"},
	    {"unassigned code point", "unassigned code point in localpart",
	     "unassigned code point in resourcepart"},
	    {"violates the bidi rule", "localpart violates the bidi rule",
	     "resourcepart violates the bidi rule"},
	};
	size_t i;

	for (i = 0; why && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(why, map[i].precis) == 0)
			return local ? map[i].local : map[i].resource;
	return local ? "invalid localpart" : "invalid resourcepart";
}

/* Localpart: UsernameCaseMapped plus the characters of RFC 7622 §3.3.1, checked after
 * preparation because width mapping can produce them (U+FF1C to '<'). */
static enum xu_err jid_local(const char *s, size_t n, char **out, const char **why)
{
	enum xu_err err;
	const char *pwhy = NULL;

	err = xu_precis_username(s, n, out, &pwhy);
	if (err == XU_ERR_DATA) {
		*why = jid_precis_why(pwhy, true);
		return err;
	}
	if (err)
		return err;
	if (strpbrk(*out, "\"&'/:<>@")) {
		*why = "forbidden character in localpart";
		goto err;
	}
	if (strlen(*out) > JID_PART_MAX) {
		*why = "localpart longer than 1023 octets";
		goto err;
	}
	return XU_OK;
err:
	free(*out);
	*out = NULL;
	return XU_ERR_DATA;
}

static enum xu_err jid_resource(const char *s, size_t n, char **out, const char **why)
{
	enum xu_err err;
	const char *pwhy = NULL;

	err = xu_precis_opaque(s, n, out, &pwhy);
	if (err == XU_ERR_DATA) {
		*why = jid_precis_why(pwhy, false);
		return err;
	}
	if (err)
		return err;
	if (strlen(*out) > JID_PART_MAX) {
		free(*out);
		*out = NULL;
		*why = "resourcepart longer than 1023 octets";
		return XU_ERR_DATA;
	}
	return XU_OK;
}

/*
 * IP literals (RFC 7622 §3.2 via RFC 3986 §3.2.2): a dotted quad as is, IPv6 only inside
 * brackets. Both are rewritten in their canonical text form (RFC 5952 for IPv6) so that
 * equal addresses compare equal. Returns false when `d` is not an IP literal at all.
 */
static bool jid_ip(const char *d, size_t n, char **out, enum xu_err *err, const char **why)
{
	char tmp[INET6_ADDRSTRLEN + 2], text[INET6_ADDRSTRLEN];
	unsigned char addr[sizeof(struct in6_addr)];

	*err = XU_OK;
	*out = NULL;
	if (n > 0 && d[0] == '[') {
		if (n < 3 || d[n - 1] != ']' || n - 2 >= sizeof(tmp)) {
			*err = XU_ERR_DATA;
			*why = "invalid IPv6 literal in domainpart";
			return true;
		}
		memcpy(tmp, d + 1, n - 2);
		tmp[n - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, addr) != 1 ||
		    !inet_ntop(AF_INET6, addr, text, sizeof(text))) {
			*err = XU_ERR_DATA;
			*why = "invalid IPv6 literal in domainpart";
			return true;
		}
		*out = malloc(strlen(text) + 3);
		if (!*out) {
			*err = XU_ERR_NOMEM;
			return true;
		}
		(*out)[0] = '[';
		memcpy(*out + 1, text, strlen(text));
		memcpy(*out + 1 + strlen(text), "]", 2);
		return true;
	}
	if (n >= sizeof(tmp))
		return false;
	memcpy(tmp, d, n);
	tmp[n] = '\0';
	/* glibc's inet_pton takes exactly four decimal octets without leading zeros, which
	 * is RFC 3986's IPv4address. */
	if (inet_pton(AF_INET, tmp, addr) != 1 || !inet_ntop(AF_INET, addr, text, sizeof(text)))
		return false;
	*out = jid_strndup(text, strlen(text));
	if (!*out)
		*err = XU_ERR_NOMEM;
	return true;
}

/* Every label of the A-label form must be an LDH label of 1..63 octets (RFC 5890 §2.3.1,
 * RFC 1034 §3.1); libidn2 without STD3 rules lets other ASCII through. */
static bool jid_ldh_ok(const char *a, const char **why)
{
	size_t start = 0, i, len = strlen(a);
	char c;

	if (len == 0 || len > JID_DNS_NAME_MAX) {
		*why = "domainpart longer than 253 octets";
		return false;
	}
	for (i = 0; i <= len; i++) {
		c = a[i];
		if (c == '.' || c == '\0') {
			if (i == start) {
				*why = "empty label in domainpart";
				return false;
			}
			if (i - start > JID_DNS_LABEL_MAX) {
				*why = "domainpart label longer than 63 octets";
				return false;
			}
			if (a[start] == '-' || a[i - 1] == '-') {
				*why = "domainpart label starts or ends with a hyphen";
				return false;
			}
			start = i + 1;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
			*why = "character not allowed in domainpart";
			return false;
		}
	}
	return true;
}

static const char *jid_idn2_why(int rc)
{
	switch (rc) {
	case IDN2_TOO_BIG_LABEL:
		return "domainpart label longer than 63 octets";
	case IDN2_TOO_BIG_DOMAIN:
		return "domainpart longer than 253 octets";
	case IDN2_ENCODING_ERROR:
		return "domainpart is not valid UTF-8";
	case IDN2_DISALLOWED:
	case IDN2_NOT_NFC:
		return "character not allowed in domainpart";
	case IDN2_HYPHEN_STARTEND:
		return "domainpart label starts or ends with a hyphen";
	case IDN2_2HYPHEN:
		return "domainpart label has hyphens in the third and fourth positions";
	case IDN2_CONTEXTJ:
	case IDN2_CONTEXTO:
	case IDN2_CONTEXTJ_NO_RULE:
	case IDN2_CONTEXTO_NO_RULE:
		return "character not allowed in this context in domainpart";
	case IDN2_BIDI:
		return "domainpart violates the bidi rule";
	case IDN2_UNASSIGNED:
		return "unassigned code point in domainpart";
	default:
		return "invalid domainpart";
	}
}

/* Domainpart (RFC 7622 §3.2): trailing dot stripped first, then an IP literal or an IDN
 * through UTS #46 non-transitional mapping and IDNA2008 lookup checks. */
static enum xu_err jid_domain(const char *d, size_t n, char **uform, char **aform, const char **why)
{
	char *in = NULL, *a = NULL, *u = NULL;
	enum xu_err err;
	int rc;

	*uform = *aform = NULL;
	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0) {
		*why = "empty domainpart";
		return XU_ERR_DATA;
	}
	if (jid_ip(d, n, uform, &err, why)) {
		if (err)
			return err;
		*aform = jid_strndup(*uform, strlen(*uform));
		if (!*aform) {
			free(*uform);
			*uform = NULL;
			return XU_ERR_NOMEM;
		}
		return XU_OK;
	}
	in = jid_strndup(d, n);
	if (!in)
		return XU_ERR_NOMEM;
	rc = idn2_lookup_u8((const uint8_t *)in, (uint8_t **)&a, IDN2_NONTRANSITIONAL);
	free(in);
	if (rc == IDN2_MALLOC)
		return XU_ERR_NOMEM;
	if (rc != IDN2_OK) {
		*why = jid_idn2_why(rc);
		return XU_ERR_DATA;
	}
	if (!jid_ldh_ok(a, why)) {
		err = XU_ERR_DATA;
		goto err;
	}
	rc = idn2_to_unicode_8z8z(a, &u, 0);
	if (rc == IDN2_MALLOC) {
		err = XU_ERR_NOMEM;
		goto err;
	}
	if (rc != IDN2_OK) {
		*why = jid_idn2_why(rc);
		err = XU_ERR_DATA;
		goto err;
	}
	if (strlen(u) > JID_PART_MAX) {
		*why = "domainpart longer than 1023 octets";
		err = XU_ERR_DATA;
		goto err;
	}
	/* Hand over malloc()ed copies so that xu_jid_free() needs no idn2_free(). */
	*uform = jid_strndup(u, strlen(u));
	*aform = jid_strndup(a, strlen(a));
	idn2_free(u);
	idn2_free(a);
	if (!*uform || !*aform) {
		free(*uform);
		free(*aform);
		*uform = *aform = NULL;
		return XU_ERR_NOMEM;
	}
	return XU_OK;
err:
	idn2_free(u);
	idn2_free(a);
	return err;
}

/* Build the cached full and bare forms from the parts. */
static enum xu_err jid_strings(struct xu_jid *j)
{
	size_t ln = j->local ? strlen(j->local) + 1 : 0, dn = strlen(j->domain);
	size_t rn = j->resource ? strlen(j->resource) + 1 : 0;

	j->bare = malloc(ln + dn + 1);
	j->full = malloc(ln + dn + rn + 1);
	if (!j->bare || !j->full)
		return XU_ERR_NOMEM;
	if (j->local) {
		memcpy(j->bare, j->local, ln - 1);
		j->bare[ln - 1] = '@';
	}
	memcpy(j->bare + ln, j->domain, dn + 1);
	memcpy(j->full, j->bare, ln + dn);
	if (j->resource) {
		j->full[ln + dn] = '/';
		memcpy(j->full + ln + dn + 1, j->resource, rn);
	} else {
		j->full[ln + dn] = '\0';
	}
	return XU_OK;
}

/* RFC 7622 §3.1: the resourcepart starts at the first '/', the localpart ends at the first
 * '@' before it. */
enum xu_err xu_jid_parse(const char *s, struct xu_jid **out, const char **why)
{
	struct xu_jid *j = NULL;
	const char *slash, *at, *dom, *dummy;
	size_t len, dlen;
	enum xu_err err;

	if (!why)
		why = &dummy;
	if (!out)
		return XU_ERR_USAGE;
	*out = NULL;
	if (!s) {
		*why = "no JID given";
		return XU_ERR_USAGE;
	}
	len = strlen(s);
	if (len == 0) {
		*why = "empty JID";
		return XU_ERR_DATA;
	}
	if (len > JID_INPUT_MAX) {
		*why = "JID too long";
		return XU_ERR_DATA;
	}
	if (u8_check((const uint8_t *)s, len)) {
		*why = "JID is not valid UTF-8";
		return XU_ERR_DATA;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return XU_ERR_NOMEM;
	slash = memchr(s, '/', len);
	if (slash) {
		if (slash + 1 == s + len) {
			*why = "empty resourcepart";
			err = XU_ERR_DATA;
			goto err;
		}
	} else {
		slash = s + len;
	}
	at = memchr(s, '@', (size_t)(slash - s));
	dom = at ? at + 1 : s;
	dlen = (size_t)(slash - dom);
	if (at) {
		if (at == s) {
			*why = "empty localpart";
			err = XU_ERR_DATA;
			goto err;
		}
		err = jid_local(s, (size_t)(at - s), &j->local, why);
		if (err)
			goto err;
	}
	err = jid_domain(dom, dlen, &j->domain, &j->domain_ascii, why);
	if (err)
		goto err;
	if (*slash == '/') {
		err = jid_resource(slash + 1, len - (size_t)(slash + 1 - s), &j->resource, why);
		if (err)
			goto err;
	}
	err = jid_strings(j);
	if (err)
		goto err;
	*out = j;
	return XU_OK;
err:
	xu_jid_free(j);
	return err;
}

static enum xu_err jid_copy(const struct xu_jid *src, bool with_resource, struct xu_jid **out)
{
	struct xu_jid *j;

	*out = NULL;
	if (!src)
		return XU_ERR_USAGE;
	j = calloc(1, sizeof(*j));
	if (!j)
		return XU_ERR_NOMEM;
	if (src->local) {
		j->local = jid_strndup(src->local, strlen(src->local));
		if (!j->local)
			goto err;
	}
	j->domain = jid_strndup(src->domain, strlen(src->domain));
	j->domain_ascii = jid_strndup(src->domain_ascii, strlen(src->domain_ascii));
	if (!j->domain || !j->domain_ascii)
		goto err;
	if (with_resource && src->resource) {
		j->resource = jid_strndup(src->resource, strlen(src->resource));
		if (!j->resource)
			goto err;
	}
	if (jid_strings(j))
		goto err;
	*out = j;
	return XU_OK;
err:
	xu_jid_free(j);
	return XU_ERR_NOMEM;
}

enum xu_err xu_jid_dup(const struct xu_jid *jid, struct xu_jid **out)
{
	return jid_copy(jid, true, out);
}

enum xu_err xu_jid_to_bare(const struct xu_jid *jid, struct xu_jid **out)
{
	return jid_copy(jid, false, out);
}

const char *xu_jid_local(const struct xu_jid *jid)
{
	return jid ? jid->local : NULL;
}

const char *xu_jid_domain(const struct xu_jid *jid)
{
	return jid ? jid->domain : NULL;
}

const char *xu_jid_domain_ascii(const struct xu_jid *jid)
{
	return jid ? jid->domain_ascii : NULL;
}

const char *xu_jid_resource(const struct xu_jid *jid)
{
	return jid ? jid->resource : NULL;
}

const char *xu_jid_full(const struct xu_jid *jid)
{
	return jid ? jid->full : NULL;
}

const char *xu_jid_bare(const struct xu_jid *jid)
{
	return jid ? jid->bare : NULL;
}

static bool jid_streq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* RFC 7622 §3.2.3, §3.3, §3.4: prepared parts compare octet for octet. */
bool xu_jid_bare_equal(const struct xu_jid *a, const struct xu_jid *b)
{
	if (!a || !b)
		return a == b;
	return jid_streq(a->local, b->local) && jid_streq(a->domain, b->domain);
}

bool xu_jid_equal(const struct xu_jid *a, const struct xu_jid *b)
{
	if (!a || !b)
		return a == b;
	return xu_jid_bare_equal(a, b) && jid_streq(a->resource, b->resource);
}
