/* testutil.c: helpers shared by the unit tests and the fuzz targets (UTF-8 per RFC 3629 §4, JSON
 * per RFC 8259, stanza equality, the output-escaping properties); see testutil.h. */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- UTF-8 and hex */

size_t tu_utf8_put(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * RFC 3629 §4's UTF8-2, UTF8-3 and UTF8-4 as byte ranges: the lead byte's, then the second
 * byte's (which rules out overlongs, surrogates and anything above U+10FFFF); later bytes are
 * always 80-BF. Written from the table rather than by decoding and range-checking, as lib/util.c
 * does, so that the two do not share a mistake.
 */
static const struct {
	unsigned char lead_lo, lead_hi, next_lo, next_hi;
	size_t len;
} tu_utf8_forms[] = {
    {0xC2, 0xDF, 0x80, 0xBF, 2}, {0xE0, 0xE0, 0xA0, 0xBF, 3}, {0xE1, 0xEC, 0x80, 0xBF, 3},
    {0xED, 0xED, 0x80, 0x9F, 3}, {0xEE, 0xEF, 0x80, 0xBF, 3}, {0xF0, 0xF0, 0x90, 0xBF, 4},
    {0xF1, 0xF3, 0x80, 0xBF, 4}, {0xF4, 0xF4, 0x80, 0x8F, 4},
};

size_t tu_utf8_decode(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, k, n;
	uint32_t c;

	if (len == 0)
		return 0;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	for (i = 0; i < sizeof(tu_utf8_forms) / sizeof(tu_utf8_forms[0]); i++) {
		if (u[0] < tu_utf8_forms[i].lead_lo || u[0] > tu_utf8_forms[i].lead_hi)
			continue;
		n = tu_utf8_forms[i].len;
		if (len < n || u[1] < tu_utf8_forms[i].next_lo || u[1] > tu_utf8_forms[i].next_hi)
			return 0;
		c = u[0] & (0x7Fu >> n);
		for (k = 1; k < n; k++) {
			if (k > 1 && (u[k] < 0x80 || u[k] > 0xBF))
				return 0;
			c = c << 6 | (u[k] & 0x3Fu);
		}
		*cp = c;
		return n;
	}
	return 0;
}

bool tu_utf8_valid(const char *s, size_t len)
{
	size_t i = 0, l;
	uint32_t cp;

	while (i < len) {
		l = tu_utf8_decode(s + i, len - i, &cp);
		if (l == 0)
			return false;
		i += l;
	}
	return true;
}

int tu_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool tu_hex_value(const char *p, size_t n, uint32_t *v)
{
	size_t i;
	int d;

	*v = 0;
	for (i = 0; i < n; i++) {
		d = tu_hex_digit(p[i]);
		if (d < 0)
			return false;
		*v = *v << 4 | (uint32_t)d;
	}
	return true;
}

char *tu_unhex(const char *hex, size_t hexlen, size_t *len)
{
	char *out;
	size_t i;
	uint32_t v;

	if (hexlen % 2)
		return NULL;
	out = malloc(hexlen / 2 + 1);
	if (!out)
		return NULL;
	for (i = 0; i < hexlen / 2; i++) {
		if (!tu_hex_value(hex + 2 * i, 2, &v)) {
			free(out);
			return NULL;
		}
		out[i] = (char)v;
	}
	out[hexlen / 2] = '\0';
	*len = hexlen / 2;
	return out;
}

/* The character a one-letter escape c stands for (from[i] for to[i]), or -1 when it is none. */
static int tu_escaped(char c, const char *from, const char *to)
{
	const char *at = c ? strchr(from, c) : NULL;

	return at ? (unsigned char)to[at - from] : -1;
}

/* ---------------------------------------------------------------- files */

char *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *grown;
	size_t n = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 65536;
			grown = realloc(buf, cap + 1);
			if (!grown)
				goto err;
			buf = grown;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	if (ferror(f))
		goto err;
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
err:
	free(buf);
	fclose(f);
	return NULL;
}

char *tu_next_line(char **cursor)
{
	char *line, *nl;

	for (line = *cursor; *line; line = *cursor) {
		nl = strchr(line, '\n');
		if (nl) {
			*nl = '\0';
			*cursor = nl + 1;
		} else {
			*cursor = line + strlen(line);
		}
		if (line[0] != '\0' && line[0] != '#')
			return line;
	}
	return NULL;
}

/* ---------------------------------------------------------------- JSON */

/* Deeper than any vector needs, shallow enough that hostile nesting cannot exhaust the stack. */
#define TU_JSON_DEPTH 32

static const char *tu_json_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

bool tu_json_string(const char **pp, char **out, size_t *len)
{
	const char *p = *pp, *q;
	size_t n = 0;
	uint32_t cp, lo;
	char *o;
	int c;

	if (*p != '"')
		return false;
	/* Escapes never decode to more bytes than they take, so the raw length is enough. */
	for (q = p + 1; *q && *q != '"'; q++)
		if (*q == '\\' && q[1])
			q++;
	o = malloc((size_t)(q - p) + 1);
	if (!o)
		return false;
	for (p++; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			goto bad; /* a raw control character, or the end of the text */
		if (*p != '\\') {
			o[n++] = *p;
			continue;
		}
		p++;
		c = tu_escaped(*p, "\"\\/bfnrt", "\"\\/\b\f\n\r\t");
		if (c >= 0) {
			o[n++] = (char)c;
			continue;
		}
		if (*p != 'u' || !tu_hex_value(p + 1, 4, &cp) || (cp >= 0xDC00 && cp <= 0xDFFF))
			goto bad;
		p += 4;
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (p[1] != '\\' || p[2] != 'u' || !tu_hex_value(p + 3, 4, &lo) ||
			    lo < 0xDC00 || lo > 0xDFFF)
				goto bad;
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
			p += 6;
		}
		n += tu_utf8_put(cp, o + n);
	}
	o[n] = '\0';
	*out = o;
	*len = n;
	*pp = p + 1;
	return true;
bad:
	free(o);
	return false;
}

static bool tu_json_digits(const char **pp)
{
	const char *p = *pp;

	while (*p >= '0' && *p <= '9')
		p++;
	if (p == *pp)
		return false;
	*pp = p;
	return true;
}

/* RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, kept as written. */
static bool tu_json_number(const char **pp, struct tu_json *v)
{
	const char *p = *pp;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p < '1' || *p > '9' || !tu_json_digits(&p))
		return false;
	if (*p == '.') {
		p++;
		if (!tu_json_digits(&p))
			return false;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!tu_json_digits(&p))
			return false;
	}
	v->len = (size_t)(p - *pp);
	v->str = strndup(*pp, v->len);
	if (!v->str)
		return false;
	v->type = TU_JSON_NUM;
	*pp = p;
	return true;
}

static bool tu_json_value(const char **pp, struct tu_json *v, int depth);

/* An object or array; *pp at its opening bracket. */
static bool tu_json_container(const char **pp, struct tu_json *v, int depth)
{
	bool obj = **pp == '{';
	char close = obj ? '}' : ']', *key = NULL, **keys;
	const char *p = tu_json_ws(*pp + 1);
	struct tu_json *vals;
	size_t klen, i;

	if (depth >= TU_JSON_DEPTH)
		return false;
	v->type = obj ? TU_JSON_OBJ : TU_JSON_ARR;
	while (*p != close) {
		if (v->n > 0) {
			if (*p != ',')
				return false;
			p = tu_json_ws(p + 1);
		}
		if (obj) {
			if (!tu_json_string(&p, &key, &klen))
				return false;
			for (i = 0; i < v->n; i++)
				if (strcmp(v->keys[i], key) == 0)
					goto bad_key;
			p = tu_json_ws(p);
			if (*p != ':')
				goto bad_key;
			p++;
			keys = realloc(v->keys, (v->n + 1) * sizeof(*keys));
			if (!keys)
				goto bad_key;
			v->keys = keys;
		}
		vals = realloc(v->vals, (v->n + 1) * sizeof(*vals));
		if (!vals)
			goto bad_key;
		v->vals = vals;
		if (!tu_json_value(&p, &v->vals[v->n], depth + 1))
			goto bad_key;
		if (obj)
			v->keys[v->n] = key;
		key = NULL;
		v->n++;
		p = tu_json_ws(p);
	}
	*pp = p + 1;
	return true;
bad_key:
	free(key);
	return false;
}

static bool tu_json_value(const char **pp, struct tu_json *v, int depth)
{
	const char *p = tu_json_ws(*pp);

	memset(v, 0, sizeof(*v));
	if (*p == '{' || *p == '[') {
		if (!tu_json_container(&p, v, depth))
			goto bad;
	} else if (*p == '"') {
		if (!tu_json_string(&p, &v->str, &v->len))
			return false;
		v->type = TU_JSON_STR;
	} else if (strncmp(p, "null", 4) == 0) {
		p += 4;
	} else if (strncmp(p, "true", 4) == 0) {
		v->type = TU_JSON_TRUE;
		p += 4;
	} else if (strncmp(p, "false", 5) == 0) {
		v->type = TU_JSON_FALSE;
		p += 5;
	} else if (!tu_json_number(&p, v)) {
		return false;
	}
	*pp = p;
	return true;
bad:
	tu_json_free(v);
	memset(v, 0, sizeof(*v));
	return false;
}

bool tu_json_parse(const char **pp, struct tu_json *v)
{
	return tu_json_value(pp, v, 0);
}

bool tu_json_load(const char *path, struct tu_json *v)
{
	size_t len;
	char *text = tu_read_file(path, &len);
	const char *p = text;
	bool ok;

	memset(v, 0, sizeof(*v));
	if (!text)
		return false;
	ok = tu_json_parse(&p, v);
	if (ok && tu_json_ws(p) != text + len) {
		tu_json_free(v);
		memset(v, 0, sizeof(*v));
		ok = false;
	}
	free(text);
	return ok;
}

bool tu_json_load_lines(const char *path, struct tu_json *v)
{
	char *text = tu_read_file(path, NULL), *cursor = text, *line, *nl;
	struct tu_json *vals;
	const char *p;

	memset(v, 0, sizeof(*v));
	v->type = TU_JSON_ARR;
	if (!text)
		return false;
	for (line = cursor; *line; line = cursor) {
		nl = strchr(line, '\n');
		cursor = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = '\0';
		if (!*line)
			continue;
		vals = realloc(v->vals, (v->n + 1) * sizeof(*vals));
		if (!vals)
			goto err;
		v->vals = vals;
		p = line;
		if (!tu_json_parse(&p, &v->vals[v->n]))
			goto err;
		v->n++;
		if (*tu_json_ws(p) != '\0')
			goto err; /* one value a line, nothing after it */
	}
	free(text);
	return true;
err:
	free(text);
	tu_json_free(v);
	memset(v, 0, sizeof(*v));
	return false;
}

void tu_json_free(struct tu_json *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		tu_json_free(&v->vals[i]);
	}
	free(v->keys);
	free(v->vals);
	free(v->str);
}

const struct tu_json *tu_json_get(const struct tu_json *o, const char *key)
{
	size_t i;

	if (!o || o->type != TU_JSON_OBJ)
		return NULL;
	for (i = 0; i < o->n; i++)
		if (strcmp(o->keys[i], key) == 0)
			return &o->vals[i];
	return NULL;
}

const char *tu_json_str(const struct tu_json *o, const char *key)
{
	const struct tu_json *v = tu_json_get(o, key);

	return v && v->type == TU_JSON_STR ? v->str : NULL;
}

bool tu_json_long(const struct tu_json *o, const char *key, long *v)
{
	const struct tu_json *n = tu_json_get(o, key);
	char *end;

	if (!n || n->type != TU_JSON_NUM)
		return false;
	errno = 0;
	*v = strtol(n->str, &end, 10);
	return errno == 0 && end == n->str + n->len;
}

/* ---------------------------------------------------------------- stanzas */

bool tu_stanza_equal(const struct xu_stanza *a, const struct xu_stanza *b)
{
	const struct xu_stanza *x, *y;
	const char *an, *av, *bn, *bv;
	size_t i;

	if (strcmp(xu_stanza_name(a), xu_stanza_name(b)) != 0 ||
	    strcmp(xu_stanza_ns(a), xu_stanza_ns(b)) != 0 ||
	    strcmp(xu_stanza_text(a), xu_stanza_text(b)) != 0 ||
	    xu_stanza_attr_count(a) != xu_stanza_attr_count(b))
		return false;
	for (i = 0; i < xu_stanza_attr_count(a); i++) {
		xu_stanza_attr_at(a, i, &an, &av);
		xu_stanza_attr_at(b, i, &bn, &bv);
		if (strcmp(an, bn) != 0 || strcmp(av, bv) != 0)
			return false;
	}
	for (x = xu_stanza_first(a), y = xu_stanza_first(b); x && y;
	     x = xu_stanza_next(x), y = xu_stanza_next(y))
		if (!tu_stanza_equal(x, y))
			return false;
	return !x && !y;
}

struct tu_one {
	struct xu_stanza *st;
	size_t n;
};

static enum xu_err tu_collect(void *ctx, struct xu_stanza *st)
{
	struct tu_one *o = ctx;

	if (o->n++ == 0)
		o->st = st;
	else
		xu_stanza_free(st);
	return XU_OK;
}

enum xu_err tu_stanza_reparse(const char *xml, size_t len, const struct xu_xml_limits *lim,
                              struct xu_stanza **out)
{
	struct xu_xml_handlers h = {0};
	struct tu_one o = {NULL, 0};
	struct xu_xml *x;
	enum xu_err err;

	*out = NULL;
	h.ctx = &o;
	h.stanza = tu_collect;
	err = xu_xml_new(&h, lim, &x);
	if (err)
		return err;
	err = xu_xml_feed(x, TU_STREAM_HDR, strlen(TU_STREAM_HDR));
	if (!err)
		err = xu_xml_feed(x, xml, len);
	xu_xml_free(x);
	if (!err && o.n != 1)
		err = XU_ERR_DATA;
	if (err)
		xu_stanza_free(o.st);
	else
		*out = o.st;
	return err;
}

/* ---------------------------------------------------------------- output escaping */

/* Bidi controls (ALM, LRM, RLM, LRE..RLO, LRI..PDI) and the line and paragraph separators. */
static bool tu_bidi(uint32_t cp)
{
	return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

/* Invisible in an identifier: zero-width and word joiners, invisible operators, BOM, SHY, MVS. */
static bool tu_invisible(uint32_t cp)
{
	return (cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xFEFF ||
	       cp == 0xAD || cp == 0x180E;
}

/* The terminal-injection vectors' "must": no C0 (bar LF and TAB in terminal mode), DEL, C1 or bidi
 * control, nor in identifiers an invisible character, and valid UTF-8 throughout. */
const char *tu_unsafe_output(const char *s, size_t len, enum xu_esc_mode mode, bool json)
{
	size_t i = 0, l;
	uint32_t cp;

	while (i < len) {
		l = tu_utf8_decode(s + i, len - i, &cp);
		if (l == 0)
			return "output is not valid UTF-8";
		if (cp < 0x20 && (json || mode != XU_ESC_TERMINAL || (cp != '\n' && cp != '\t')))
			return "raw control character";
		if (cp >= 0x7F && cp <= 0x9F)
			return "raw DEL or C1 control";
		if (tu_bidi(cp))
			return "raw bidi control or line separator";
		if (!json && mode == XU_ESC_IDENT && tu_invisible(cp))
			return "raw invisible character in an identifier";
		i += l;
	}
	return NULL;
}

/* Undo xu_escape (TERMINAL's four-space indent after LF included) into malloc'ed *out; false on a
 * malformed escape, or on one the escaper never writes (\u{} of a surrogate, empty or over 6
 * digits). */
static bool tu_unescape(const char *s, size_t len, enum xu_esc_mode mode, char **out, size_t *olen)
{
	size_t i = 0, n = 0, digits;
	const char *close;
	uint32_t cp;
	int c;
	char *o = malloc(len + 1); /* every escape is longer than what it stands for */

	if (!o)
		return false;
	while (i < len) {
		if (s[i] == '\n') {
			if (mode != XU_ESC_TERMINAL || len - i < 5 ||
			    memcmp(s + i + 1, "    ", 4) != 0)
				goto bad;
			o[n++] = '\n';
			i += 5;
			continue;
		}
		if (s[i] != '\\') {
			o[n++] = s[i++];
			continue;
		}
		c = i + 1 < len ? tu_escaped(s[i + 1], "\\nrt", "\\\n\r\t") : -1;
		if (c >= 0) {
			o[n++] = (char)c;
			i += 2;
		} else if (len - i >= 4 && s[i + 1] == 'x' && tu_hex_value(s + i + 2, 2, &cp)) {
			o[n++] = (char)cp;
			i += 4;
		} else if (len - i >= 3 && s[i + 1] == 'u' && s[i + 2] == '{') {
			close = memchr(s + i + 3, '}', len - i - 3);
			digits = close ? (size_t)(close - (s + i + 3)) : 0;
			if (digits < 1 || digits > 6 || !tu_hex_value(s + i + 3, digits, &cp) ||
			    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
				goto bad;
			n += tu_utf8_put(cp, o + n);
			i += 3 + digits + 1;
		} else {
			goto bad;
		}
	}
	o[n] = '\0';
	*out = o;
	*olen = n;
	return true;
bad:
	free(o);
	return false;
}

const char *tu_escape_problem(const char *in, size_t len, enum xu_esc_mode mode, const char *out)
{
	size_t olen = strlen(out), blen;
	const char *why = tu_unsafe_output(out, olen, mode, false);
	char *back;

	if (why)
		return why;
	if (!tu_unescape(out, olen, mode, &back, &blen))
		return "malformed escape (or out of memory)";
	if (blen != len || memcmp(back, in, len) != 0)
		why = "escapes do not decode back to the input";
	free(back);
	return why;
}

const char *tu_json_escape_problem(const char *in, size_t len, const char *out)
{
	size_t olen = strlen(out), blen;
	const char *why = tu_unsafe_output(out, olen, XU_ESC_LINE, true), *p;
	char *quoted, *back;

	if (why)
		return why;
	quoted = malloc(olen + 3);
	if (!quoted)
		return "out of memory";
	quoted[0] = '"';
	memcpy(quoted + 1, out, olen);
	quoted[olen + 1] = '"';
	quoted[olen + 2] = '\0';
	p = quoted;
	if (!tu_json_string(&p, &back, &blen)) {
		why = "not the body of a JSON string";
	} else {
		if (*p != '\0')
			why = "an unescaped quote ends the JSON string early";
		else if (tu_utf8_valid(in, len) && (blen != len || memcmp(back, in, len) != 0))
			why = "does not decode back to the input";
		free(back);
	}
	free(quoted);
	return why;
}

struct xu_stanza *tu_stanza_one(const char *xml, const char **why)
{
	struct xu_stanza **list = NULL, *st = NULL;
	size_t n = 0, i;

	*why = NULL;
	if (xu_stanza_parse_list(xml, strlen(xml), &list, &n, why) != XU_OK)
		return NULL;
	if (n == 1)
		st = list[0];
	else
		for (i = 0; i < n; i++)
			xu_stanza_free(list[i]);
	if (n != 1)
		*why = "not exactly one stanza";
	free(list);
	return st;
}

struct xu_stanza *tu_parse(const char *xml)
{
	const char *why = NULL;
	struct xu_stanza *st = tu_stanza_one(xml, &why);

	if (!st) {
		fprintf(stderr, "test fixture does not parse (%s): %s\n", why ? why : "?", xml);
		abort();
	}
	return st;
}
