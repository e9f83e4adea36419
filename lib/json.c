/* json.c: a strict RFC 8259 reader for the files users hand us (xmpp-roster import): a tree of
 * values, bounded depth, valid UTF-8 only, no NUL inside strings (they become C strings). */
#include "xu-int.h"

#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

struct json_in {
	const char *p, *end;
	const char *why;
	unsigned depth;
};

static enum xu_err json_value(struct json_in *in, struct xu_json *v);

static enum xu_err json_bad(struct json_in *in, const char *why)
{
	if (!in->why)
		in->why = why;
	return XU_ERR_DATA;
}

static void json_ws(struct json_in *in)
{
	while (in->p < in->end &&
	       (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
		in->p++;
}

static int json_hex4(const char *p)
{
	int v = 0, i, d;

	for (i = 0; i < 4; i++) {
		char c = p[i];

		d = c >= '0' && c <= '9'   ? c - '0'
		    : c >= 'a' && c <= 'f' ? c - 'a' + 10
		    : c >= 'A' && c <= 'F' ? c - 'A' + 10
		                           : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static enum xu_err json_put_cp(struct xu_buf *b, uint32_t cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return xu_buf_add(b, u, n);
}

/* \uXXXX, with a surrogate pair as one character (RFC 8259 §7). */
static enum xu_err json_unicode(struct json_in *in, struct xu_buf *b)
{
	int hi, lo;
	uint32_t cp;

	if (in->end - in->p < 5 || (hi = json_hex4(in->p + 1)) < 0)
		return json_bad(in, "bad \\u escape");
	in->p += 5;
	cp = (uint32_t)hi;
	if (hi >= 0xDC00 && hi <= 0xDFFF)
		return json_bad(in, "lone low surrogate");
	if (hi >= 0xD800 && hi <= 0xDBFF) {
		if (in->end - in->p < 6 || in->p[0] != '\\' || in->p[1] != 'u' ||
		    (lo = json_hex4(in->p + 2)) < 0xDC00 || lo > 0xDFFF)
			return json_bad(in, "lone high surrogate");
		in->p += 6;
		cp = 0x10000 + (((uint32_t)hi - 0xD800) << 10) + ((uint32_t)lo - 0xDC00);
	}
	if (cp == 0)
		return json_bad(in, "NUL in a string");
	return json_put_cp(b, cp);
}

static enum xu_err json_string(struct json_in *in, char **out, size_t *outlen)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	struct xu_buf b;
	enum xu_err err = XU_OK;
	uint32_t cp;
	size_t l;

	xu_buf_init(&b, 0);
	in->p++; /* the opening quote */
	while (!err) {
		if (in->p >= in->end) {
			err = json_bad(in, "unterminated string");
		} else if (*in->p == '"') {
			in->p++;
			break;
		} else if (*in->p == '\\') {
			const char *k = in->p + 1 < in->end ? strchr(esc_in, in->p[1]) : NULL;

			if (in->p + 1 < in->end && in->p[1] == 'u') {
				in->p++;
				err = json_unicode(in, &b);
			} else if (!k || !in->p[1]) {
				err = json_bad(in, "bad escape");
			} else {
				err = xu_buf_add(&b, &esc_out[k - esc_in], 1);
				in->p += 2;
			}
		} else if ((unsigned char)*in->p < 0x20) {
			err = json_bad(in, "control character in a string");
		} else {
			l = xu_utf8_decode((const unsigned char *)in->p, (size_t)(in->end - in->p),
			                   &cp);
			if (!l || cp == 0)
				err = json_bad(in, "invalid UTF-8");
			else
				err = xu_buf_add(&b, in->p, l);
			in->p += l;
		}
	}
	if (!err)
		err = xu_buf_take(&b, out, outlen);
	xu_buf_free(&b);
	return err;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, kept as text. */
static enum xu_err json_number(struct json_in *in, struct xu_json *v)
{
	const char *s = in->p;
	size_t n;

	if (in->p < in->end && *in->p == '-')
		in->p++;
	if (in->p >= in->end || *in->p < '0' || *in->p > '9')
		return json_bad(in, "bad number");
	if (*in->p == '0')
		in->p++;
	else
		while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
			in->p++;
	if (in->p < in->end && *in->p == '.') {
		if (++in->p >= in->end || *in->p < '0' || *in->p > '9')
			return json_bad(in, "bad number");
		while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
			in->p++;
	}
	if (in->p < in->end && (*in->p == 'e' || *in->p == 'E')) {
		in->p++;
		if (in->p < in->end && (*in->p == '+' || *in->p == '-'))
			in->p++;
		if (in->p >= in->end || *in->p < '0' || *in->p > '9')
			return json_bad(in, "bad number");
		while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
			in->p++;
	}
	n = (size_t)(in->p - s);
	v->type = XU_JSON_NUMBER;
	v->str = strndup(s, n);
	v->len = n;
	return v->str ? XU_OK : XU_ERR_NOMEM;
}

static enum xu_err json_literal(struct json_in *in, struct xu_json *v, const char *word,
                                enum xu_json_type type)
{
	size_t n = strlen(word);

	if ((size_t)(in->end - in->p) < n || memcmp(in->p, word, n) != 0)
		return json_bad(in, "unexpected character");
	in->p += n;
	v->type = type;
	return XU_OK;
}

/* Arrays and objects: members after the opening bracket, up to `close`. */
static enum xu_err json_members(struct json_in *in, struct xu_json *v, char close)
{
	size_t cap = 0, kcap = 0;
	enum xu_err err;

	if (++in->depth > JSON_MAX_DEPTH)
		return json_bad(in, "nested too deeply");
	in->p++;
	json_ws(in);
	if (in->p < in->end && *in->p == close) {
		in->p++;
		in->depth--;
		return XU_OK;
	}
	for (;;) {
		if (xu_array_room((void **)&v->items, &cap, v->n, sizeof(*v->items), 4))
			return XU_ERR_NOMEM;
		memset(&v->items[v->n], 0, sizeof(*v->items));
		if (close == '}') {
			size_t klen;

			if (xu_array_room((void **)&v->keys, &kcap, v->n, sizeof(*v->keys), 4))
				return XU_ERR_NOMEM;
			v->keys[v->n] = NULL;
			json_ws(in);
			if (in->p >= in->end || *in->p != '"')
				return json_bad(in, "expected a member name");
			err = json_string(in, &v->keys[v->n], &klen);
			if (err)
				return err;
			json_ws(in);
			if (in->p >= in->end || *in->p != ':') {
				v->n++;
				return json_bad(in, "expected ':'");
			}
			in->p++;
		}
		err = json_value(in, &v->items[v->n]);
		v->n++;
		if (err)
			return err;
		json_ws(in);
		if (in->p < in->end && *in->p == ',') {
			in->p++;
			continue;
		}
		if (in->p < in->end && *in->p == close) {
			in->p++;
			in->depth--;
			return XU_OK;
		}
		return json_bad(in, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static enum xu_err json_value(struct json_in *in, struct xu_json *v)
{
	memset(v, 0, sizeof(*v));
	json_ws(in);
	if (in->p >= in->end)
		return json_bad(in, "unexpected end");
	switch (*in->p) {
	case '{':
		v->type = XU_JSON_OBJECT;
		return json_members(in, v, '}');
	case '[':
		v->type = XU_JSON_ARRAY;
		return json_members(in, v, ']');
	case '"':
		v->type = XU_JSON_STRING;
		return json_string(in, &v->str, &v->len);
	case 't':
		return json_literal(in, v, "true", XU_JSON_TRUE);
	case 'f':
		return json_literal(in, v, "false", XU_JSON_FALSE);
	case 'n':
		return json_literal(in, v, "null", XU_JSON_NULL);
	default:
		return json_number(in, v);
	}
}

enum xu_err xu_json_parse(const char *s, size_t len, size_t *used, struct xu_json *out,
                          const char **why)
{
	struct json_in in = {s, s + len, NULL, 0};
	enum xu_err err = json_value(&in, out);

	if (err) {
		xu_json_free(out);
		*why = in.why ? in.why : "out of memory";
		return err;
	}
	json_ws(&in);
	*used = (size_t)(in.p - s);
	*why = NULL;
	return XU_OK;
}

void xu_json_free(struct xu_json *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->n; i++) {
		xu_json_free(&v->items[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
	memset(v, 0, sizeof(*v));
}

const struct xu_json *xu_json_get(const struct xu_json *o, const char *key)
{
	size_t i;

	if (!o || o->type != XU_JSON_OBJECT)
		return NULL;
	for (i = 0; i < o->n; i++)
		if (o->keys[i] && strcmp(o->keys[i], key) == 0)
			return &o->items[i];
	return NULL;
}
