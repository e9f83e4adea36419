/* buf.c: growable byte buffer with a hard cap, for everything a peer can fill. */
#include "xu-int.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xu_buf_init(struct xu_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static enum xu_err buf_grow(struct xu_buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->max && need > b->max)
		return XU_ERR_PROTO;
	if (need + 1 <= b->cap)
		return XU_OK;
	cap = b->cap ? b->cap : 256;
	while (cap < need + 1) {
		if (cap > SIZE_MAX / 2)
			return XU_ERR_NOMEM;
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		return XU_ERR_NOMEM;
	b->data = p;
	b->cap = cap;
	return XU_OK;
}

enum xu_err xu_buf_add(struct xu_buf *b, const void *p, size_t n)
{
	enum xu_err err;

	if (n > SIZE_MAX - b->len - 1)
		return XU_ERR_NOMEM;
	err = buf_grow(b, b->len + n);
	if (err)
		return err;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return XU_OK;
}

enum xu_err xu_buf_reserve(struct xu_buf *b, size_t n)
{
	if (n > SIZE_MAX - b->len - 1)
		return XU_ERR_NOMEM;
	return buf_grow(b, b->len + n);
}

enum xu_err xu_buf_adds(struct xu_buf *b, const char *s)
{
	return xu_buf_add(b, s, strlen(s));
}

enum xu_err xu_buf_addf(struct xu_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	enum xu_err err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return XU_ERR_INTERNAL;
	err = buf_grow(b, b->len + (size_t)n);
	if (err)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return XU_OK;
}

void xu_buf_consume(struct xu_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void xu_buf_reset(struct xu_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

enum xu_err xu_buf_take(struct xu_buf *b, char **out, size_t *len)
{
	if (!b->data) {
		enum xu_err err = buf_grow(b, 0);

		if (err)
			return err;
		b->data[0] = '\0';
	}
	*out = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return XU_OK;
}

void xu_buf_free(struct xu_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void xu_buf_wipe_free(struct xu_buf *b)
{
	if (b->data)
		gnutls_memset(b->data, 0, b->cap);
	xu_buf_free(b);
}

void xu_secret_free(char *s)
{
	if (s) {
		gnutls_memset(s, 0, strlen(s));
		free(s);
	}
}
