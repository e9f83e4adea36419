/* fuzz_escape.c: libFuzzer target for terminal/line/identifier and JSON escaping. */
#include "xu-int.h"

#include <stdlib.h>
#include <string.h>

/* Strict UTF-8 decode of one character; 0 when invalid. */
static size_t fesc_dec(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xE0) == 0xC0) {
		len = 2;
		c = s[0] & 0x1F;
		min = 0x80;
	} else if ((s[0] & 0xF0) == 0xE0) {
		len = 3;
		c = s[0] & 0x0F;
		min = 0x800;
	} else if ((s[0] & 0xF8) == 0xF0) {
		len = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

static bool fesc_bidi(uint32_t cp)
{
	return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

static int fesc_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t fesc_utf8(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decode the escapes back and compare with the input: the escaping loses nothing. */
static void fesc_roundtrip(const char *s, enum xu_esc_mode mode, const uint8_t *in, size_t len)
{
	size_t slen = strlen(s), i = 0, n = 0;
	unsigned char *o = malloc(slen + 1);

	if (!o)
		return;
	while (i < slen) {
		char c = s[i];

		if (c == '\n') {
			if (mode != XU_ESC_TERMINAL || slen - i < 5 || memcmp(s + i + 1, "    ", 4))
				abort();
			o[n++] = '\n';
			i += 5;
		} else if (c != '\\') {
			o[n++] = (unsigned char)c;
			i++;
		} else if (i + 1 >= slen) {
			abort();
		} else if (s[i + 1] == '\\' || s[i + 1] == 'n' || s[i + 1] == 'r' ||
		           s[i + 1] == 't') {
			o[n++] = s[i + 1] == 'n'   ? '\n'
			         : s[i + 1] == 'r' ? '\r'
			         : s[i + 1] == 't' ? '\t'
			                           : '\\';
			i += 2;
		} else if (s[i + 1] == 'x') {
			if (i + 3 >= slen || fesc_hex(s[i + 2]) < 0 || fesc_hex(s[i + 3]) < 0)
				abort();
			o[n++] = (unsigned char)(fesc_hex(s[i + 2]) << 4 | fesc_hex(s[i + 3]));
			i += 4;
		} else if (s[i + 1] == 'u' && i + 2 < slen && s[i + 2] == '{') {
			uint32_t cp = 0;

			for (i += 3; i < slen && s[i] != '}'; i++) {
				if (fesc_hex(s[i]) < 0 || cp > 0x10FFFF)
					abort();
				cp = cp << 4 | (uint32_t)fesc_hex(s[i]);
			}
			if (i >= slen || cp > 0x10FFFF)
				abort();
			i++;
			n += fesc_utf8(cp, o + n);
		} else {
			abort();
		}
	}
	if (n != len || memcmp(o, in, len) != 0)
		abort();
	free(o);
}

static void fesc_check(const char *s, enum xu_esc_mode mode, bool json)
{
	size_t len = strlen(s), i = 0, l;
	uint32_t cp;

	while (i < len) {
		l = fesc_dec((const unsigned char *)s + i, len - i, &cp);
		if (l == 0)
			abort(); /* output is always valid UTF-8 */
		if (cp < 0x20 && (json || mode != XU_ESC_TERMINAL || (cp != '\n' && cp != '\t')))
			abort();
		if ((cp >= 0x7F && cp <= 0x9F) || fesc_bidi(cp))
			abort();
		if (!json && mode == XU_ESC_IDENT &&
		    ((cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) ||
		     cp == 0xFEFF || cp == 0xAD || cp == 0x180E))
			abort();
		i += l;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum xu_esc_mode modes[] = {XU_ESC_LINE, XU_ESC_TERMINAL, XU_ESC_IDENT};
	char *out = NULL;
	size_t m;

	for (m = 0; m < 3; m++) {
		if (xu_escape((const char *)data, size, modes[m], &out) != XU_OK)
			continue;
		fesc_check(out, modes[m], false);
		if (modes[m] != XU_ESC_TERMINAL && strchr(out, '\n'))
			abort();
		fesc_roundtrip(out, modes[m], data, size);
		free(out);
	}
	if (xu_json_escape((const char *)data, size, &out) == XU_OK) {
		fesc_check(out, XU_ESC_LINE, true);
		/* Unescaped quotes would end the JSON string early. */
		for (const char *p = strchr(out, '"'); p; p = strchr(p + 1, '"')) {
			size_t bs = 0;

			while (p - bs > out && p[-1 - (ptrdiff_t)bs] == '\\')
				bs++;
			if (bs % 2 == 0)
				abort();
		}
		free(out);
	}
	return 0;
}
