/* fuzz_srv.c: libFuzzer target for the DNS SRV answer parser and RFC 2782 ordering. */
#include "xu-int.h"

#include <stdlib.h>
#include <string.h>

static uint32_t fsrv_rnd(void *ctx, uint32_t bound)
{
	uint32_t *s = ctx;

	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	/* Sometimes out of range on purpose: the orderer must clamp. */
	if ((*s & 0xFF) == 0)
		return *s;
	return (uint32_t)((uint64_t)*s * ((uint64_t)bound + 1) >> 32);
}

static void fsrv_check_target(const char *t)
{
	size_t len = strlen(t), i, label = 0;

	if (len == 0 || len > 253)
		abort();
	for (i = 0; i < len; i++) {
		char c = t[i];

		if (c == '.') {
			if (label == 0)
				abort();
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			abort();
		if (++label > 63)
			abort();
	}
	if (label == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xu_srv *r = NULL;
	size_t n = 0, i;
	bool none = false;
	const char *why = NULL;
	uint32_t seed = 2166136261u;
	enum xu_err err;

	err = xu_srv_parse(data, size, size & 1, &r, &n, &none, &why);
	if (!why)
		abort();
	if (err != XU_OK) {
		if ((err != XU_ERR_PROTO && err != XU_ERR_NOMEM) || r || n || none || !why[0])
			abort();
		return 0;
	}
	if ((n == 0) != (r == NULL) || (none && n) || n > 256)
		abort();
	for (i = 0; i < n; i++) {
		fsrv_check_target(r[i].target);
		if (r[i].port == 0 || r[i].direct_tls != (bool)(size & 1))
			abort();
	}
	for (i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 16777619u;
	if (!seed)
		seed = 1;
	xu_srv_order(r, n, fsrv_rnd, &seed);
	for (i = 1; i < n; i++) {
		if (r[i - 1].priority > r[i].priority)
			abort();
	}
	xu_srv_free(r, n);
	return 0;
}
