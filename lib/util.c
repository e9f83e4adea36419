/* util.c: error names, random ids, and the UTF-8 check for text we put into XML. */
#include "xu-int.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>

const char *xu_err_str(enum xu_err err)
{
	switch (err) {
	case XU_OK:
		return "success";
	case XU_ERR_USAGE:
		return "usage error";
	case XU_ERR_DATA:
		return "invalid data";
	case XU_ERR_NOINPUT:
		return "input missing";
	case XU_ERR_NOHOST:
		return "host not found";
	case XU_ERR_REFUSED:
		return "refused";
	case XU_ERR_INTERNAL:
		return "internal error";
	case XU_ERR_NOMEM:
		return "out of memory";
	case XU_ERR_IO:
		return "I/O error";
	case XU_ERR_TEMP:
		return "temporary failure";
	case XU_ERR_TIMEOUT:
		return "timeout";
	case XU_ERR_PROTO:
		return "protocol error";
	case XU_ERR_AUTH:
		return "authentication failed";
	case XU_ERR_TLS:
		return "TLS error";
	case XU_ERR_CONFIG:
		return "configuration error";
	}
	return "unknown error";
}

enum xu_err xu_random_id(size_t bytes, char **out)
{
	static const char b64url[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[64];
	char *s;
	size_t i, bits = 0, o = 0;
	unsigned acc = 0;

	if (bytes == 0 || bytes > sizeof(raw))
		return XU_ERR_INTERNAL;
	if (gnutls_rnd(GNUTLS_RND_NONCE, raw, bytes) < 0)
		return XU_ERR_INTERNAL;
	s = malloc(bytes * 2 + 1);
	if (!s)
		return XU_ERR_NOMEM;
	for (i = 0; i < bytes; i++) {
		acc = (acc << 8) | raw[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			s[o++] = b64url[(acc >> bits) & 63];
		}
	}
	if (bits)
		s[o++] = b64url[(acc << (6 - bits)) & 63];
	s[o] = '\0';
	*out = s;
	return XU_OK;
}

size_t xu_utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c = s[0];
	size_t n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

bool xu_utf8_xml_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t c;

	while (i < len) {
		n = xu_utf8_decode(p + i, len - i, &c);
		if (!n)
			return false;
		/* XML 1.0 Char production (§2.2). */
		if (c < 0x20 && c != 0x9 && c != 0xA && c != 0xD)
			return false;
		if (c == 0xFFFE || c == 0xFFFF)
			return false;
		i += n;
	}
	return true;
}

enum xu_err xu_array_room(void **arr, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t want;
	void *p;

	if (n < *cap)
		return XU_OK;
	want = *cap ? *cap * 2 : first;
	if (want < *cap || want > SIZE_MAX / size)
		return XU_ERR_NOMEM;
	p = realloc(*arr, want * size);
	if (!p)
		return XU_ERR_NOMEM;
	*arr = p;
	*cap = want;
	return XU_OK;
}
