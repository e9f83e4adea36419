/* escape.c: safe printing of peer text (RFC 3629, RFC 8259 §7, UAX #9 bidi controls). */
#include "xu-int.h"

#include <stdlib.h>
#include <string.h>

static const char esc_hex_lower[] = "0123456789abcdef";
static const char esc_hex_upper[] = "0123456789ABCDEF";

/* The longest single escape is "\u{10FFFF}" (10 bytes) or LF plus the indent (5 bytes). */
#define ESC_MAX_ONE 16

/* Most text needs no escape at all: start a little above the input size. */
static enum xu_err esc_init(struct xu_buf *o, size_t len)
{
	xu_buf_init(o, 0);
	return xu_buf_reserve(o, len < SIZE_MAX / 2 ? len + len / 8 + 64 : SIZE_MAX / 2);
}

/* The caller has reserved ESC_MAX_ONE bytes. */
static void esc_put(struct xu_buf *o, const char *s, size_t n)
{
	memcpy(o->data + o->len, s, n);
	o->len += n;
}

static void esc_put_xhh(struct xu_buf *o, unsigned char b)
{
	char t[4] = {'\\', 'x', esc_hex_lower[b >> 4], esc_hex_lower[b & 0xF]};

	esc_put(o, t, sizeof(t));
}

/* \u{XXXX}: upper-case, as few digits as the code point needs (the vectors' form). */
static void esc_put_ubrace(struct xu_buf *o, uint32_t cp)
{
	char t[12];
	size_t n = 0;
	int shift = 20;

	t[n++] = '\\';
	t[n++] = 'u';
	t[n++] = '{';
	while (shift > 0 && ((cp >> shift) & 0xF) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		t[n++] = esc_hex_upper[(cp >> shift) & 0xF];
	t[n++] = '}';
	esc_put(o, t, n);
}

/* JSON \uXXXX, lower-case; only ever called for code points in the BMP. */
static void esc_put_json_u(struct xu_buf *o, uint32_t cp)
{
	char t[6] = {'\\',
	             'u',
	             esc_hex_lower[(cp >> 12) & 0xF],
	             esc_hex_lower[(cp >> 8) & 0xF],
	             esc_hex_lower[(cp >> 4) & 0xF],
	             esc_hex_lower[cp & 0xF]};

	esc_put(o, t, sizeof(t));
}

/* Characters that reorder or hide text on display, in every mode (UAX #9, C1, separators). */
static bool esc_dangerous(uint32_t cp)
{
	if (cp >= 0x80 && cp <= 0x9F)
		return true;
	switch (cp) {
	case 0x061C: /* ARABIC LETTER MARK */
	case 0x200E:
	case 0x200F:
	case 0x2028: /* LINE SEPARATOR: a line break to some terminals and editors */
	case 0x2029:
		return true;
	default:
		break;
	}
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Invisible characters that make two identifiers look alike. The policy's list (U+200B-D,
 * U+2060-4, U+FEFF, U+00AD, U+180E) plus the other Default_Ignorable_Code_Points that are
 * known spoofing tools (Hangul fillers, CGJ, Khmer inherent vowels, deprecated format
 * controls). Variation selectors and emoji tag characters are left alone: emoji need them.
 */
static bool esc_invisible(uint32_t cp)
{
	switch (cp) {
	case 0x00AD:
	case 0x034F:
	case 0x115F:
	case 0x1160:
	case 0x17B4:
	case 0x17B5:
	case 0x180E:
	case 0x3164:
	case 0xFEFF:
	case 0xFFA0:
		return true;
	default:
		break;
	}
	return (cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x206F) ||
	       (cp >= 0xFFF0 && cp <= 0xFFF8) || (cp >= 0x1BCA0 && cp <= 0x1BCA3) ||
	       (cp >= 0x1D173 && cp <= 0x1D17A);
}

static enum xu_err esc_control(struct xu_buf *o, unsigned char c, enum xu_esc_mode mode)
{
	enum xu_err err = xu_buf_reserve(o, ESC_MAX_ONE);

	if (err)
		return err;
	switch (c) {
	case '\\':
		esc_put(o, "\\\\", 2);
		break;
	case '\n':
		/* The indent keeps a continuation line from passing for a new record's header. */
		if (mode == XU_ESC_TERMINAL)
			esc_put(o, "\n    ", 5);
		else
			esc_put(o, "\\n", 2);
		break;
	case '\t':
		if (mode == XU_ESC_TERMINAL)
			esc_put(o, "\t", 1);
		else
			esc_put(o, "\\t", 2);
		break;
	case '\r':
		esc_put(o, "\\r", 2);
		break;
	default:
		esc_put_xhh(o, c);
		break;
	}
	return XU_OK;
}

enum xu_err xu_escape(const char *in, size_t len, enum xu_esc_mode mode, char **out)
{
	const unsigned char *s = (const unsigned char *)in;
	struct xu_buf o;
	size_t i = 0, run = 0;
	enum xu_err err;

	*out = NULL;
	if (!in && len)
		return XU_ERR_USAGE;
	err = esc_init(&o, len);
	if (err)
		return err;
	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t l;

		if (c >= 0x20 && c < 0x7F && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80) {
			l = xu_utf8_decode(s + i, len - i, &cp);
			if (l && !esc_dangerous(cp) &&
			    !(mode == XU_ESC_IDENT && esc_invisible(cp))) {
				i += l;
				continue;
			}
		} else {
			l = 1;
		}
		err = xu_buf_add(&o, s + run, i - run);
		if (!err)
			err = xu_buf_reserve(&o, ESC_MAX_ONE);
		if (err)
			goto err;
		if (c < 0x80)
			err = esc_control(&o, c, mode);
		else if (l == 0)
			esc_put_xhh(&o, c);
		else
			esc_put_ubrace(&o, cp);
		if (err)
			goto err;
		i += l ? l : 1;
		run = i;
	}
	err = xu_buf_add(&o, s + run, i - run);
	if (err)
		goto err;
	return xu_buf_take(&o, out, NULL);
err:
	xu_buf_free(&o);
	return err;
}

enum xu_err xu_json_escape(const char *in, size_t len, char **out)
{
	const unsigned char *s = (const unsigned char *)in;
	struct xu_buf o;
	size_t i = 0, run = 0;
	enum xu_err err;

	*out = NULL;
	if (!in && len)
		return XU_ERR_USAGE;
	err = esc_init(&o, len);
	if (err)
		return err;
	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp = c;
		size_t l = 1;

		/* Beyond RFC 8259's minimum, DEL, C1, bidi controls and U+2028/9 are escaped too:
		 * the JSON may well be printed to a terminal. */
		if (c >= 0x20 && c < 0x7F && c != '\\' && c != '"') {
			i++;
			continue;
		}
		if (c >= 0x80) {
			l = xu_utf8_decode(s + i, len - i, &cp);
			if (l && !esc_dangerous(cp)) {
				i += l;
				continue;
			}
		}
		err = xu_buf_add(&o, s + run, i - run);
		if (!err)
			err = xu_buf_reserve(&o, ESC_MAX_ONE);
		if (err)
			goto err;
		if (l == 0) {
			/* Invalid UTF-8 cannot go into JSON text (RFC 8259 §8.1): U+FFFD per byte.
			 */
			esc_put(&o, "\xEF\xBF\xBD", 3);
			l = 1;
		} else if (c == '"') {
			esc_put(&o, "\\\"", 2);
		} else if (c == '\\') {
			esc_put(&o, "\\\\", 2);
		} else if (c == '\n') {
			esc_put(&o, "\\n", 2);
		} else if (c == '\r') {
			esc_put(&o, "\\r", 2);
		} else if (c == '\t') {
			esc_put(&o, "\\t", 2);
		} else if (c == '\b') {
			esc_put(&o, "\\b", 2);
		} else if (c == '\f') {
			esc_put(&o, "\\f", 2);
		} else {
			esc_put_json_u(&o, cp);
		}
		i += l;
		run = i;
	}
	err = xu_buf_add(&o, s + run, i - run);
	if (err)
		goto err;
	return xu_buf_take(&o, out, NULL);
err:
	xu_buf_free(&o);
	return err;
}

enum xu_err xu_buf_add_colored(struct xu_buf *b, bool color, enum xu_sgr s, const char *text,
                               enum xu_esc_mode mode)
{
	static const char *const sgr[] = {"\033[0m", "\033[1m", "\033[2m", "\033[32m", "\033[33m"};
	enum xu_err err = color ? xu_buf_adds(b, sgr[s]) : XU_OK;

	if (!err && text)
		err = xu_buf_add_escaped(b, text, mode);
	if (!err && color)
		err = xu_buf_adds(b, sgr[XU_SGR_RESET]);
	return err;
}

enum xu_err xu_buf_add_escaped(struct xu_buf *b, const char *s, enum xu_esc_mode mode)
{
	char *e = NULL;
	enum xu_err err = xu_escape(s, strlen(s), mode, &e);

	if (!err)
		err = xu_buf_adds(b, e);
	free(e);
	return err;
}

enum xu_err xu_buf_add_json(struct xu_buf *b, const char *s)
{
	char *e = NULL;
	enum xu_err err;

	if (!s)
		return xu_buf_adds(b, "null");
	err = xu_json_escape(s, strlen(s), &e);
	if (!err)
		err = xu_buf_addf(b, "\"%s\"", e);
	free(e);
	return err;
}
