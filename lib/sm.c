/* sm.c: XEP-0198 §4 acknowledgement arithmetic, apart from the connection so it can be tested on
 * its own (the wrap past 2^32 stanzas takes days to reach on a real stream). */
#include "xu-int.h"

#include <errno.h>
#include <stdlib.h>

enum xu_err xu_sm_ack(uint64_t sent, uint64_t confirmed, const char *hs, uint64_t *now_confirmed,
                      const char **why)
{
	unsigned long long h;
	uint32_t outstanding, unacked;
	char *end;

	/* strtoull takes a sign and leading space: an unsignedInt has neither. */
	if (!hs || *hs < '0' || *hs > '9') {
		*why = "not an unsignedInt";
		return XU_ERR_PROTO;
	}
	errno = 0;
	h = strtoull(hs, &end, 10);
	if (*end || errno || h > UINT32_MAX) {
		*why = "not an unsignedInt";
		return XU_ERR_PROTO;
	}
	outstanding = (uint32_t)(sent - confirmed);
	unacked = (uint32_t)((uint32_t)sent - (uint32_t)h);
	/* Past what we sent, or back before what it had confirmed: both wrap to unacked >
	 * outstanding. */
	if (unacked > outstanding) {
		*why = "handled count too high or going backwards";
		return XU_ERR_PROTO;
	}
	*now_confirmed = sent - unacked;
	return XU_OK;
}
