/* precis.c: PRECIS (RFC 8264 §9), RFC 8265 §3.3/§4.2 profiles, RFC 5892 App. A, RFC 5893 §2. */
#include "xu-int.h"

#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/*
 * Work is bounded: no profile shrinks a string by more than a factor of three (fullwidth
 * forms to ASCII), and every caller's limit (1023-byte JID parts, passwords) is far below.
 */
#define PRECIS_MAX_IN 65536

/* RFC 8264 §8 derived property values. ID_DIS is folded into FREE_PVAL: the caller's class
 * decides whether FREE_PVAL is acceptable. */
enum precis_prop {
	PRECIS_PVALID,
	PRECIS_FREE_PVAL,
	PRECIS_CONTEXTJ,
	PRECIS_CONTEXTO,
	PRECIS_DISALLOWED,
	PRECIS_UNASSIGNED,
};

enum precis_class {
	PRECIS_IDENTIFIER,
	PRECIS_FREEFORM,
};

/* RFC 5892 §2.6 Exceptions (F), applied first by RFC 8264 §9. */
static bool precis_exception(ucs4_t cp, enum precis_prop *prop)
{
	switch (cp) {
	case 0x00DF:
	case 0x03C2:
	case 0x06FD:
	case 0x06FE:
	case 0x0F0B:
	case 0x3007:
		*prop = PRECIS_PVALID;
		return true;
	case 0x00B7:
	case 0x0375:
	case 0x05F3:
	case 0x05F4:
	case 0x30FB:
		*prop = PRECIS_CONTEXTO;
		return true;
	case 0x0640:
	case 0x07FA:
	case 0x302E:
	case 0x302F:
	case 0x3031:
	case 0x3032:
	case 0x3033:
	case 0x3034:
	case 0x3035:
	case 0x303B:
		*prop = PRECIS_DISALLOWED;
		return true;
	default:
		break;
	}
	if ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06F0 && cp <= 0x06F9)) {
		*prop = PRECIS_CONTEXTO;
		return true;
	}
	return false;
}

/* Hangul_Syllable_Type L, V or T (HangulSyllableType.txt; these ranges are closed by Unicode
 * stability policy, and libunistring has no accessor for the property). */
static bool precis_old_hangul_jamo(ucs4_t cp)
{
	return (cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0xA960 && cp <= 0xA97C) ||
	       (cp >= 0xD7B0 && cp <= 0xD7C6) || (cp >= 0xD7CB && cp <= 0xD7FB);
}

/* HasCompat (RFC 8264 §9.17): toNFKC(cp) != cp. */
static bool precis_has_compat(ucs4_t cp)
{
	ucs4_t decomp[UC_DECOMPOSITION_MAX_LENGTH];
	uint32_t buf[32], *res;
	size_t n = sizeof(buf) / sizeof(buf[0]);
	int tag;
	bool differs;

	/* Without any decomposition a lone code point is its own NFKC. */
	if (uc_decomposition(cp, &tag, decomp) < 0)
		return false;
	/* A compatibility decomposition never recomposes to the original. */
	if (tag != UC_DECOMP_CANONICAL)
		return true;
	res = u32_normalize(UNINORM_NFKC, &cp, 1, buf, &n);
	if (!res)
		return true; /* out of memory: err on the strict side */
	differs = n != 1 || res[0] != cp;
	if (res != buf)
		free(res);
	return differs;
}

/* RFC 8264 §9: the derived property of one code point. */
static enum precis_prop precis_derived(ucs4_t cp)
{
	enum precis_prop prop;

	if (precis_exception(cp, &prop))
		return prop;
	/* BackwardCompatible (§9.2) is empty. */
	if (uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Cn) &&
	    !uc_is_property_not_a_character(cp))
		return PRECIS_UNASSIGNED;
	if (cp >= 0x21 && cp <= 0x7E)
		return PRECIS_PVALID;
	if (uc_is_property_join_control(cp))
		return PRECIS_CONTEXTJ;
	if (precis_old_hangul_jamo(cp))
		return PRECIS_DISALLOWED;
	if (uc_is_property_default_ignorable_code_point(cp) || uc_is_property_not_a_character(cp))
		return PRECIS_DISALLOWED;
	if (uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Cc))
		return PRECIS_DISALLOWED;
	if (precis_has_compat(cp))
		return PRECIS_FREE_PVAL;
	if (uc_is_general_category_withtable(cp, UC_CATEGORY_MASK_Ll | UC_CATEGORY_MASK_Lu |
	                                             UC_CATEGORY_MASK_Lo | UC_CATEGORY_MASK_Nd |
	                                             UC_CATEGORY_MASK_Lm | UC_CATEGORY_MASK_Mn |
	                                             UC_CATEGORY_MASK_Mc))
		return PRECIS_PVALID;
	/* OtherLetterDigits, Spaces, Symbols, Punctuation (§9.10, §9.14-§9.16). */
	if (uc_is_general_category_withtable(
	        cp, UC_CATEGORY_MASK_Lt | UC_CATEGORY_MASK_Nl | UC_CATEGORY_MASK_No |
	                UC_CATEGORY_MASK_Me | UC_CATEGORY_MASK_Zs | UC_CATEGORY_MASK_Sm |
	                UC_CATEGORY_MASK_Sc | UC_CATEGORY_MASK_Sk | UC_CATEGORY_MASK_So |
	                UC_CATEGORY_MASK_Pc | UC_CATEGORY_MASK_Pd | UC_CATEGORY_MASK_Ps |
	                UC_CATEGORY_MASK_Pe | UC_CATEGORY_MASK_Pi | UC_CATEGORY_MASK_Pf |
	                UC_CATEGORY_MASK_Po))
		return PRECIS_FREE_PVAL;
	return PRECIS_DISALLOWED;
}

static bool precis_script_is(ucs4_t cp, const char *name)
{
	const uc_script_t *sc = uc_script(cp);

	return sc && strcmp(sc->name, name) == 0;
}

/* ZERO WIDTH NON-JOINER outside a virama context (RFC 5892 A.1): the joining types must
 * match (L|D) T* ZWNJ T* (R|D). */
static bool precis_zwnj_joins(const ucs4_t *s, size_t n, size_t i)
{
	size_t j;
	int jt;
	bool left = false, right = false;

	for (j = i; j > 0; j--) {
		jt = uc_joining_type(s[j - 1]);
		if (jt == UC_JOINING_TYPE_T)
			continue;
		left = jt == UC_JOINING_TYPE_L || jt == UC_JOINING_TYPE_D;
		break;
	}
	for (j = i + 1; j < n; j++) {
		jt = uc_joining_type(s[j]);
		if (jt == UC_JOINING_TYPE_T)
			continue;
		right = jt == UC_JOINING_TYPE_R || jt == UC_JOINING_TYPE_D;
		break;
	}
	return left && right;
}

/* RFC 5892 Appendix A: the CONTEXTJ and CONTEXTO rules for s[i]. */
static bool precis_context_ok(const ucs4_t *s, size_t n, size_t i)
{
	ucs4_t cp = s[i];
	size_t j;

	switch (cp) {
	case 0x200C:
		if (i > 0 && uc_combining_class(s[i - 1]) == UC_CCC_VR)
			return true;
		return precis_zwnj_joins(s, n, i);
	case 0x200D:
		return i > 0 && uc_combining_class(s[i - 1]) == UC_CCC_VR;
	case 0x00B7:
		return i > 0 && i + 1 < n && s[i - 1] == 0x6C && s[i + 1] == 0x6C;
	case 0x0375:
		return i + 1 < n && precis_script_is(s[i + 1], "Greek");
	case 0x05F3:
	case 0x05F4:
		return i > 0 && precis_script_is(s[i - 1], "Hebrew");
	case 0x30FB:
		for (j = 0; j < n; j++)
			if (precis_script_is(s[j], "Hiragana") ||
			    precis_script_is(s[j], "Katakana") || precis_script_is(s[j], "Han"))
				return true;
		return false;
	default:
		break;
	}
	if (cp >= 0x0660 && cp <= 0x0669) {
		for (j = 0; j < n; j++)
			if (s[j] >= 0x06F0 && s[j] <= 0x06F9)
				return false;
		return true;
	}
	if (cp >= 0x06F0 && cp <= 0x06F9) {
		for (j = 0; j < n; j++)
			if (s[j] >= 0x0660 && s[j] <= 0x0669)
				return false;
		return true;
	}
	return false;
}

/* RFC 8264 §10 (the string class check) after the profile's rules. */
static enum xu_err precis_class_check(const ucs4_t *s, size_t n, enum precis_class cls,
                                      const char **why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (precis_derived(s[i])) {
		case PRECIS_PVALID:
			continue;
		case PRECIS_FREE_PVAL:
			if (cls == PRECIS_FREEFORM)
				continue;
			*why = "character not allowed in an identifier";
			return XU_ERR_DATA;
		case PRECIS_CONTEXTJ:
		case PRECIS_CONTEXTO:
			if (precis_context_ok(s, n, i))
				continue;
			*why = "character not allowed in this context";
			return XU_ERR_DATA;
		case PRECIS_UNASSIGNED:
			*why = "unassigned code point";
			return XU_ERR_DATA;
		case PRECIS_DISALLOWED:
			*why = "disallowed character";
			return XU_ERR_DATA;
		}
	}
	return XU_OK;
}

static bool precis_bidi_allowed(int bc, bool rtl)
{
	switch (bc) {
	case UC_BIDI_EN:
	case UC_BIDI_ES:
	case UC_BIDI_CS:
	case UC_BIDI_ET:
	case UC_BIDI_ON:
	case UC_BIDI_BN:
	case UC_BIDI_NSM:
		return true;
	case UC_BIDI_L:
		return !rtl;
	case UC_BIDI_R:
	case UC_BIDI_AL:
	case UC_BIDI_AN:
		return rtl;
	default:
		return false;
	}
}

/* The Bidi Rule (RFC 5893 §2), which RFC 8265 §3.3 applies only to strings holding a
 * right-to-left character (R, AL or AN). */
static enum xu_err precis_bidi(const ucs4_t *s, size_t n, const char **why)
{
	size_t i;
	int bc, last = -1;
	bool rtl = false, any_rtl = false, en = false, an = false;

	for (i = 0; i < n; i++) {
		bc = uc_bidi_class(s[i]);
		if (bc == UC_BIDI_R || bc == UC_BIDI_AL || bc == UC_BIDI_AN)
			any_rtl = true;
	}
	if (!any_rtl || n == 0)
		return XU_OK;
	bc = uc_bidi_class(s[0]);
	if (bc == UC_BIDI_R || bc == UC_BIDI_AL)
		rtl = true;
	else if (bc != UC_BIDI_L)
		goto err;
	for (i = 0; i < n; i++) {
		bc = uc_bidi_class(s[i]);
		if (!precis_bidi_allowed(bc, rtl))
			goto err;
		en = en || bc == UC_BIDI_EN;
		an = an || bc == UC_BIDI_AN;
		if (bc != UC_BIDI_NSM)
			last = bc;
	}
	if (rtl && en && an)
		goto err;
	if (rtl && last != UC_BIDI_R && last != UC_BIDI_AL && last != UC_BIDI_EN &&
	    last != UC_BIDI_AN)
		goto err;
	if (!rtl && last != UC_BIDI_L && last != UC_BIDI_EN)
		goto err;
	return XU_OK;
err:
	*why = "violates the bidi rule";
	return XU_ERR_DATA;
}

static void precis_wipe_free(void *p, size_t bytes)
{
	if (!p)
		return;
	gnutls_memset(p, 0, bytes);
	free(p);
}

enum precis_profile {
	PRECIS_USERNAME_CASE_MAPPED,
	PRECIS_OPAQUE_STRING,
};

/* The mapping and normalization rules of RFC 8264 §7 (width, additional, case,
 * normalization), producing a new malloc'ed array. */
static enum xu_err precis_map(enum precis_profile prof, const ucs4_t *s, size_t n, ucs4_t **out,
                              size_t *outn)
{
	ucs4_t *tmp, *res;
	ucs4_t decomp[UC_DECOMPOSITION_MAX_LENGTH];
	size_t i, rn = 0;
	int tag;

	tmp = malloc((n ? n : 1) * sizeof(*tmp));
	if (!tmp)
		return XU_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		tmp[i] = s[i];
		if (prof == PRECIS_USERNAME_CASE_MAPPED) {
			/* RFC 8265 §3.3.1: fullwidth and halfwidth forms to their
			 * decomposition mappings; only those tagged <wide>/<narrow>. */
			if (uc_decomposition(s[i], &tag, decomp) == 1 &&
			    (tag == UC_DECOMP_WIDE || tag == UC_DECOMP_NARROW))
				tmp[i] = decomp[0];
		} else if (s[i] != 0x20 &&
		           uc_is_general_category_withtable(s[i], UC_CATEGORY_MASK_Zs)) {
			/* RFC 8265 §4.2.1: non-ASCII spaces to U+0020. */
			tmp[i] = 0x20;
		}
	}
	if (prof == PRECIS_USERNAME_CASE_MAPPED)
		res = u32_tolower(tmp, n, NULL, UNINORM_NFC, NULL, &rn);
	else
		res = u32_normalize(UNINORM_NFC, tmp, n, NULL, &rn);
	precis_wipe_free(tmp, (n ? n : 1) * sizeof(*tmp));
	if (!res)
		return XU_ERR_NOMEM;
	*out = res;
	*outn = rn;
	return XU_OK;
}

static enum xu_err precis_prepare(enum precis_profile prof, const char *in, size_t len, char **out,
                                  const char **why)
{
	ucs4_t *u = NULL, *m = NULL, *again = NULL;
	uint8_t *u8 = NULL;
	size_t n = 0, mn = 0, an = 0, u8n = 0;
	char *res;
	enum xu_err err;
	const char *dummy;

	if (!why)
		why = &dummy;
	*out = NULL;
	if (len > PRECIS_MAX_IN) {
		*why = "string too long";
		return XU_ERR_DATA;
	}
	if (len == 0) {
		*why = "empty string";
		return XU_ERR_DATA;
	}
	if (u8_check((const uint8_t *)in, len)) {
		*why = "not valid UTF-8";
		return XU_ERR_DATA;
	}
	u = u8_to_u32((const uint8_t *)in, len, NULL, &n);
	if (!u)
		return XU_ERR_NOMEM;
	err = precis_map(prof, u, n, &m, &mn);
	if (err)
		goto out;
	/* RFC 8264 §7: the rules must be idempotent; a profile result that changes when
	 * prepared again is refused rather than silently re-mapped. */
	err = precis_map(prof, m, mn, &again, &an);
	if (err)
		goto out;
	if (an != mn || memcmp(again, m, mn * sizeof(*m)) != 0) {
		*why = "preparation is not idempotent";
		err = XU_ERR_DATA;
		goto out;
	}
	if (mn == 0) {
		*why = "empty string";
		err = XU_ERR_DATA;
		goto out;
	}
	if (prof == PRECIS_USERNAME_CASE_MAPPED) {
		err = precis_bidi(m, mn, why);
		if (err)
			goto out;
	}
	err = precis_class_check(
	    m, mn, prof == PRECIS_USERNAME_CASE_MAPPED ? PRECIS_IDENTIFIER : PRECIS_FREEFORM, why);
	if (err)
		goto out;
	u8 = u32_to_u8(m, mn, NULL, &u8n);
	if (!u8) {
		err = XU_ERR_NOMEM;
		goto out;
	}
	res = malloc(u8n + 1);
	if (!res) {
		err = XU_ERR_NOMEM;
		goto out;
	}
	memcpy(res, u8, u8n);
	res[u8n] = '\0';
	*out = res;
out:
	precis_wipe_free(u, n * sizeof(*u));
	precis_wipe_free(m, mn * sizeof(*m));
	precis_wipe_free(again, an * sizeof(*again));
	precis_wipe_free(u8, u8n);
	return err;
}

enum xu_err xu_precis_username(const char *in, size_t len, char **out, const char **why)
{
	return precis_prepare(PRECIS_USERNAME_CASE_MAPPED, in, len, out, why);
}

enum xu_err xu_precis_opaque(const char *in, size_t len, char **out, const char **why)
{
	return precis_prepare(PRECIS_OPAQUE_STRING, in, len, out, why);
}
