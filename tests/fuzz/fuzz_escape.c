/* fuzz_escape.c: libFuzzer target for terminal/line/identifier and JSON (RFC 8259 §7) escaping. */
#include "testutil.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The properties are test_escape.c's (tests/unit/testutil.c): nothing unsafe comes out raw, and
 * the escapes decode back to the input exactly. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum xu_esc_mode modes[] = {XU_ESC_LINE, XU_ESC_TERMINAL, XU_ESC_IDENT};
	const char *in = (const char *)data;
	char *out = NULL;
	size_t m;

	for (m = 0; m < 3; m++) {
		if (xu_escape(in, size, modes[m], &out) != XU_OK)
			continue;
		if (tu_escape_problem(in, size, modes[m], out))
			abort();
		free(out);
	}
	if (xu_json_escape(in, size, &out) == XU_OK) {
		if (tu_json_escape_problem(in, size, out))
			abort();
		free(out);
	}
	return 0;
}
