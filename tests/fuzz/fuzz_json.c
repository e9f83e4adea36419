/* fuzz_json.c: libFuzzer target for the strict JSON reader of xmpp-roster import (RFC 8259):
 * never more than the input is taken, every string is valid UTF-8 without NUL, and parsing
 * again from where a value ended goes on (JSON Lines) without trouble. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

static void fuzz_walk(const struct xu_json *v, unsigned depth)
{
	size_t i;

	fuzz_check(depth <= 64);
	if (v->type == XU_JSON_STRING || v->type == XU_JSON_NUMBER)
		fuzz_check(v->str && strlen(v->str) == v->len && tu_utf8_valid(v->str, v->len));
	if (v->type == XU_JSON_NUMBER)
		fuzz_check(v->len > 0 && strspn(v->str, "-+.0123456789eE") == v->len);
	if (v->type != XU_JSON_ARRAY && v->type != XU_JSON_OBJECT)
		fuzz_check(v->n == 0);
	for (i = 0; i < v->n; i++) {
		if (v->type == XU_JSON_OBJECT)
			fuzz_check(v->keys[i] && tu_utf8_valid(v->keys[i], strlen(v->keys[i])));
		fuzz_walk(&v->items[i], depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t off = 0, used;
	int rounds = 0;

	while (off < size && rounds++ < 64) {
		struct xu_json v;
		const char *why = NULL;
		enum xu_err err = xu_json_parse(s + off, size - off, &used, &v, &why);

		if (err) {
			fuzz_check((err == XU_ERR_DATA && why) || err == XU_ERR_NOMEM);
			break;
		}
		fuzz_check(used > 0 && used <= size - off);
		fuzz_walk(&v, 0);
		xu_json_free(&v);
		off += used;
	}
	return 0;
}
