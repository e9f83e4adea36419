/* test_scram.c: SCRAM client vs RFC 5802/7677/6070/7914/8265 vectors, XEP-0474, hostile servers. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VEC "tests/vectors/sasl/"

/* RFC 6070's 16,777,216-iteration row takes ~2 s natively but ~100 s under valgrind, where it
 * is skipped (valgrind ships this header; the 4096-iteration rows run the same code). */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define TEST_SLOW_OK (!RUNNING_ON_VALGRIND)
#endif
#endif
#ifndef TEST_SLOW_OK
#define TEST_SLOW_OK 1
#endif

/* ---------------------------------------------------------------- helpers */

static char *test_slurp(const char *path)
{
	char *text = tu_read_file(path, NULL);

	if (!text)
		fail_msg("cannot read %s (run from the repository root)", path);
	return text;
}

static void test_load(const char *path, struct tu_json *v)
{
	if (!tu_json_load(path, v))
		fail_msg("cannot read %s as JSON", path);
}

static const struct tu_json *test_get(const struct tu_json *o, const char *key)
{
	const struct tu_json *v = tu_json_get(o, key);

	if (!v)
		fail_msg("JSON key %s missing", key);
	return v;
}

static const char *test_str(const struct tu_json *o, const char *key)
{
	const char *v = tu_json_str(o, key);

	if (!v)
		fail_msg("JSON key %s missing or not a string", key);
	return v;
}

static unsigned char *test_unhex(const char *hex, size_t *len)
{
	char *out = tu_unhex(hex, strlen(hex), len);

	assert_non_null(out);
	return (unsigned char *)out;
}

/* ---------------------------------------------------------------- running an exchange */

struct test_lists {
	const char *const *mechs;
	size_t n_mechs;
	const char *const *cbs;
	size_t n_cbs;
};

static const char *test_xep_mechs[] = {"SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"};
static const char *test_xep_cbs[] = {"tls-server-end-point", "tls-exporter"};
static const char *test_sha1_only[] = {"SCRAM-SHA-1"};
static const char *test_unknown_cbs[] = {"unknown-x"};
static const char *test_all_mechs[] = {"SCRAM-SHA-256-PLUS", "SCRAM-SHA-1",
                                       "SCRAM-SHA-512",      "SCRAM-SHA-256",
                                       "SCRAM-SHA-1-PLUS",   "SCRAM-SHA-512-PLUS"};
static const char *test_all_cbs[] = {"tls-server-end-point", "tls-exporter", "tls-unique"};
static const char *test_two_mechs[] = {"SCRAM-SHA-256", "SCRAM-SHA-1"};

enum test_list_id { L_NONE, L_XEP, L_STRIPPED, L_UNKNOWN_CB, L_ALL, L_NOCB, L_EMPTYCB };

static const struct test_lists test_lists[] = {
    [L_NONE] = {NULL, 0, NULL, 0},
    /* what the server offered in the XEP-0474 example */
    [L_XEP] = {test_xep_mechs, 2, test_xep_cbs, 2},
    /* the same after a MITM removed -PLUS and the XEP-0440 list */
    [L_STRIPPED] = {test_sha1_only, 1, NULL, 0},
    [L_UNKNOWN_CB] = {test_xep_mechs, 2, test_unknown_cbs, 1},
    [L_ALL] = {test_all_mechs, 6, test_all_cbs, 3},
    [L_NOCB] = {test_two_mechs, 2, NULL, 0},
    /* an empty <sasl-channel-binding/>: 0x1F is still appended */
    [L_EMPTYCB] = {test_two_mechs, 2, test_all_cbs, 0},
};

static void test_set_lists(struct xu_scram_params *p, enum test_list_id id)
{
	p->offered_mechs = test_lists[id].mechs;
	p->n_offered_mechs = test_lists[id].n_mechs;
	p->offered_cbs = test_lists[id].cbs;
	p->n_offered_cbs = test_lists[id].n_cbs;
}

static enum xu_scram_hash test_hash(const char *name)
{
	if (!strcmp(name, "sha1"))
		return XU_SCRAM_SHA1;
	if (!strcmp(name, "sha256"))
		return XU_SCRAM_SHA256;
	assert_string_equal(name, "sha512");
	return XU_SCRAM_SHA512;
}

/* New object, client-first (checked against want_first when given). */
static struct xu_scram *test_start(const struct xu_scram_params *p, const char *want_first)
{
	struct xu_scram *s = NULL;
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(xu_scram_new(p, &s), XU_OK);
	assert_non_null(s);
	assert_int_equal(xu_scram_client_first(s, &out, &len), XU_OK);
	assert_int_equal(len, strlen(out));
	if (want_first)
		assert_string_equal(out, want_first);
	free(out);
	return s;
}

/* The RFC 5802 §5 exchange, the base of the hostile-server cases. */
#define RFC5802_NONCE "fyko+d2lbbFgONRv9qkxdawL"
#define RFC5802_FIRST "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
#define RFC5802_SIG "rmF9pqV8S7suAoZWja4dJRkFsKQ="

static void test_params_rfc5802(struct xu_scram_params *p)
{
	memset(p, 0, sizeof(*p));
	p->hash = XU_SCRAM_SHA1;
	p->authcid = "user";
	p->password = "pencil";
	p->nonce = RFC5802_NONCE;
}

/* ---------------------------------------------------------------- full exchanges */

/* The offered mechanisms and channel-binding types in the XEP-0474 example's features. */
static void test_xep_example_lists(char ***mechs, size_t *nm, char ***cbs, size_t *nc)
{
	char *xml = test_slurp(VEC "xep-0474-v0.5.0-example.xml");
	const char *p;

	*mechs = NULL;
	*cbs = NULL;
	*nm = *nc = 0;
	for (p = strstr(xml, "<mechanism>"); p; p = strstr(p, "<mechanism>")) {
		const char *end;

		p += strlen("<mechanism>");
		end = strstr(p, "</mechanism>");
		assert_non_null(end);
		*mechs = realloc(*mechs, (*nm + 1) * sizeof(**mechs));
		assert_non_null(*mechs);
		(*mechs)[(*nm)++] = strndup(p, (size_t)(end - p));
	}
	for (p = strstr(xml, "<channel-binding type='"); p;
	     p = strstr(p, "<channel-binding type='")) {
		const char *end;

		p += strlen("<channel-binding type='");
		end = strchr(p, '\'');
		assert_non_null(end);
		*cbs = realloc(*cbs, (*nc + 1) * sizeof(**cbs));
		assert_non_null(*cbs);
		(*cbs)[(*nc)++] = strndup(p, (size_t)(end - p));
	}
	free(xml);
	assert_int_equal(*nm, 2);
	assert_int_equal(*nc, 2);
}

static void test_free_list(char **l, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

/* Every exchange of scram-exchanges.json: client-first, client-final with its proof, and the
 * server signature; then the same with one character of the signature changed. */
static void test_exchanges(void **state)
{
	struct tu_json all, cbj;
	char **mechs, **cbs;
	size_t nm, nc, i;
	const char *fake_cb;

	(void)state;
	test_load(VEC "scram-exchanges.json", &all);
	test_load(VEC "channel-binding.json", &cbj);
	fake_cb = test_str(test_get(&cbj, "xep0474_fake_cb"), "cb_data");
	test_xep_example_lists(&mechs, &nm, &cbs, &nc);
	assert_int_equal(all.type, TU_JSON_ARR);
	assert_int_equal(all.n, 5);
	for (i = 0; i < all.n; i++) {
		const struct tu_json *e = &all.vals[i];
		const char *first = test_str(e, "client_first");
		const char *bare = test_str(e, "client_first_bare");
		const char *cfwp = test_str(e, "client_final_without_proof");
		const char *sfirst = test_str(e, "server_first");
		const char *sfinal = test_str(e, "server_final");
		const char *rattr, *ext;
		struct xu_scram_params p;
		struct xu_scram *s;
		char nonce[128], cbtype[64], want[512], *out = NULL, *bad;
		size_t outlen = 0, gs2len;
		int pass;

		print_message("exchange %s\n", test_str(e, "id"));
		memset(&p, 0, sizeof(p));
		p.hash = test_hash(test_str(e, "hash"));
		p.authcid = test_str(e, "username");
		p.password = test_str(e, "password");
		assert_non_null(strstr(bare, ",r="));
		snprintf(nonce, sizeof(nonce), "%s", strstr(bare, ",r=") + 3);
		p.nonce = nonce;
		gs2len = strlen(first) - strlen(bare);
		assert_string_equal(first + gs2len, bare);
		if (!strncmp(first, "p=", 2)) {
			assert_true(gs2len - 4 < sizeof(cbtype));
			memcpy(cbtype, first + 2, gs2len - 4);
			cbtype[gs2len - 4] = '\0';
			p.cb_type = cbtype;
			p.cb_data = (const unsigned char *)fake_cb;
			p.cb_len = strlen(fake_cb);
			/* This is the XEP-0474 example: check its h= against its features. */
			p.offered_mechs = (const char *const *)mechs;
			p.n_offered_mechs = nm;
			p.offered_cbs = (const char *const *)cbs;
			p.n_offered_cbs = nc;
			assert_non_null(strstr(sfirst, ",h="));
		}
		/* Anything after r= in client-final-without-proof is an extension (x= in the
		 * XEP-0474 example), covered by the proof. */
		rattr = strstr(cfwp, ",r=");
		assert_non_null(rattr);
		ext = strchr(rattr + 1, ',');
		ext = ext ? ext + 1 : NULL;

		for (pass = 0; pass < 2; pass++) {
			s = test_start(&p, first);
			assert_int_equal(xu_scram_client_final_ext(s, sfirst, strlen(sfirst), ext,
			                                           &out, &outlen),
			                 XU_OK);
			snprintf(want, sizeof(want), "%s,p=%s", cfwp, test_str(e, "proof"));
			assert_string_equal(out, want);
			assert_int_equal(outlen, strlen(want));
			free(out);
			if (pass == 0) {
				assert_int_equal(xu_scram_verify(s, sfinal, strlen(sfinal)), XU_OK);
				assert_string_equal(xu_scram_errmsg(s), "");
			} else {
				/* one base64 character of v= changed: a server without the key */
				bad = strdup(sfinal);
				assert_non_null(bad);
				bad[4] = bad[4] == 'A' ? 'B' : 'A';
				assert_int_equal(xu_scram_verify(s, bad, strlen(bad)), XU_ERR_AUTH);
				assert_string_equal(xu_scram_errmsg(s),
				                    "server signature invalid: it did not prove it "
				                    "knows the password");
				free(bad);
			}
			xu_scram_free(s);
		}
	}
	test_free_list(mechs, nm);
	test_free_list(cbs, nc);
	tu_json_free(&all);
	tu_json_free(&cbj);
}

/* ---------------------------------------------------------------- Hi() = PBKDF2 */

static void test_pbkdf2(void **state)
{
	char *text = test_slurp(VEC "pbkdf2-vectors.tsv");
	char *cursor = text, *line;
	size_t rows = 0;

	(void)state;
	for (line = tu_next_line(&cursor); line; line = tu_next_line(&cursor)) {
		char id[64], hash[16], pwhex[256], salthex[256], dkhex[256];
		unsigned iter, dklen;
		unsigned char *pw, *salt, *dk, out[128];
		size_t pwlen, saltlen, dkl;

		assert_int_equal(sscanf(line, "%63s %15s %255s %255s %u %u %255s", id, hash, pwhex,
		                        salthex, &iter, &dklen, dkhex),
		                 7);
		if (iter > 1000000 && !TEST_SLOW_OK) {
			print_message("pbkdf2 %s skipped under valgrind (%u iterations)\n", id,
			              iter);
			rows++;
			continue;
		}
		print_message("pbkdf2 %s (%u iterations)\n", id, iter);
		pw = test_unhex(pwhex, &pwlen);
		salt = test_unhex(salthex, &saltlen);
		dk = test_unhex(dkhex, &dkl);
		assert_int_equal(dkl, dklen);
		assert_true(dklen <= sizeof(out));
		assert_int_equal(
		    xu_scram_hi(test_hash(hash), pw, pwlen, salt, saltlen, iter, out, dklen),
		    XU_OK);
		assert_memory_equal(out, dk, dklen);
		free(pw);
		free(salt);
		free(dk);
		rows++;
	}
	assert_int_equal(rows, 8);
	assert_int_equal(xu_scram_hi(XU_SCRAM_SHA1, "p", 1, "s", 1, 0, (unsigned char[20]){0}, 20),
	                 XU_ERR_USAGE);
	free(text);
}

/* ---------------------------------------------------------------- password preparation */

/* Undo the \uXXXX escapes of the TSV. */
static char *test_unescape(const char *in)
{
	char *out = malloc(strlen(in) * 2 + 1), *o = out;
	uint32_t cp;

	assert_non_null(out);
	while (*in) {
		if (in[0] == '\\' && in[1] == 'u') {
			assert_true(tu_hex_value(in + 2, 4, &cp));
			o += tu_utf8_put(cp, o);
			in += 6;
		} else {
			*o++ = *in++;
		}
	}
	*o = '\0';
	return out;
}

/* The OpaqueString column through xu_precis_opaque, and through SCRAM itself: a password and
 * its prepared form give the same proof; an unpreparable one is refused. */
static void test_opaque(void **state)
{
	char *text = test_slurp(VEC "saslprep-opaquestring.tsv");
	char *cursor = text, *line;
	size_t rows = 0;

	(void)state;
	for (line = tu_next_line(&cursor); line; line = tu_next_line(&cursor)) {
		char *f[5], *p = line, *in, *want, *got = NULL, *fin[2] = {NULL, NULL};
		const char *why = NULL;
		struct xu_scram_params sp;
		struct xu_scram *s = NULL;
		size_t k, len;
		enum xu_err err;

		for (k = 0; k < 5; k++) {
			f[k] = p;
			p = strchr(p, '\t');
			if (k < 4) {
				assert_non_null(p);
				*p++ = '\0';
			}
		}
		print_message("opaque %s\n", f[0]);
		in = test_unescape(f[1]);
		want = test_unescape(f[3]);
		err = xu_precis_opaque(in, strlen(in), &got, &why);
		test_params_rfc5802(&sp);
		if (!strncmp(want, "ERR:", 4)) {
			assert_int_equal(err, XU_ERR_DATA);
			assert_non_null(why);
			sp.password = in;
			assert_int_equal(xu_scram_new(&sp, &s), XU_ERR_DATA);
			assert_null(s);
		} else {
			assert_int_equal(err, XU_OK);
			assert_string_equal(got, want);
			for (k = 0; k < 2; k++) {
				sp.password = k == 0 ? in : want;
				s = test_start(&sp, NULL);
				assert_int_equal(xu_scram_client_final(s, RFC5802_FIRST,
				                                       strlen(RFC5802_FIRST),
				                                       &fin[k], &len),
				                 XU_OK);
				xu_scram_free(s);
			}
			assert_string_equal(fin[0], fin[1]);
			free(fin[0]);
			free(fin[1]);
		}
		free(got);
		free(in);
		free(want);
		rows++;
	}
	assert_int_equal(rows, 14);
	free(text);
}

/* ---------------------------------------------------------------- remembered salted password */

/* RFC 5802 §5 once with PBKDF2, again with its salted password given (same client-final, and
 * reported reused), and with one for another salt, count or hash (not used: PBKDF2 again). */
static void test_known_salted(void **state)
{
	struct xu_scram_params p;
	struct xu_scram_salted got, known;
	struct xu_scram *s = NULL;
	char *first = NULL, *want, *fin = NULL;
	size_t len, i;
	bool reused = true;

	(void)state;
	test_params_rfc5802(&p);
	assert_int_equal(xu_scram_new(&p, &s), XU_OK);
	assert_false(xu_scram_salted(s, &got, &reused));
	assert_int_equal(xu_scram_client_first(s, &first, &len), XU_OK);
	free(first);
	assert_int_equal(
	    xu_scram_client_final(s, RFC5802_FIRST, strlen(RFC5802_FIRST), &want, &len), XU_OK);
	assert_true(xu_scram_salted(s, &got, &reused));
	assert_false(reused);
	assert_int_equal(got.iterations, 4096);
	assert_int_equal(got.salt_len, 12); /* QSXCR+Q6sek8bf92 */
	xu_scram_free(s);
	for (i = 0; i < 4; i++) {
		known = got;
		if (i == 1)
			known.salt[0] ^= 1;
		if (i == 2)
			known.iterations++;
		if (i == 3)
			known.hash = XU_SCRAM_SHA256;
		if (i > 0) /* a wrong key: used, it would change the proof */
			known.key[0] ^= 1;
		test_params_rfc5802(&p);
		p.known = &known;
		assert_int_equal(xu_scram_new(&p, &s), XU_OK);
		assert_int_equal(xu_scram_client_first(s, &first, &len), XU_OK);
		free(first);
		assert_int_equal(
		    xu_scram_client_final(s, RFC5802_FIRST, strlen(RFC5802_FIRST), &fin, &len),
		    XU_OK);
		assert_string_equal(fin, want);
		assert_true(xu_scram_salted(s, &got, &reused));
		assert_int_equal(reused, i == 0);
		free(fin);
		xu_scram_free(s);
	}
	free(want);
}

/* ---------------------------------------------------------------- channel binding */

/* client-final for params p against an RFC 5802-like server-first. */
static char *test_final_for(struct xu_scram_params *p, char **first)
{
	struct xu_scram *s = NULL;
	char sf[256], *out = NULL;
	size_t len;

	assert_int_equal(xu_scram_new(p, &s), XU_OK);
	assert_int_equal(xu_scram_client_first(s, first, &len), XU_OK);
	snprintf(sf, sizeof(sf), "r=%ssrv,s=QSXCR+Q6sek8bf92,i=4096", p->nonce);
	assert_int_equal(xu_scram_client_final(s, sf, strlen(sf), &out, &len), XU_OK);
	xu_scram_free(s);
	return out;
}

static void test_expect_gs2(struct xu_scram_params *p, const struct tu_json *g)
{
	char *first = NULL, *fin, want[512];

	fin = test_final_for(p, &first);
	assert_memory_equal(first, test_str(g, "gs2_header"), strlen(test_str(g, "gs2_header")));
	snprintf(want, sizeof(want), "c=%s,", test_str(g, "c"));
	assert_memory_equal(fin, want, strlen(want));
	free(first);
	free(fin);
}

static void test_channel_binding(void **state)
{
	struct tu_json cb;
	struct xu_scram_params p;
	const struct tu_json *g, *esc;
	unsigned char *data, rnd[32];
	char *first = NULL, *fin, want[512];
	gnutls_datum_t b64, raw;
	size_t len, i;

	(void)state;
	test_load(VEC "channel-binding.json", &cb);

	test_params_rfc5802(&p);
	test_expect_gs2(&p, test_get(&cb, "gs2_no_cb_client_does_not_support"));
	p.server_plus = true;
	test_expect_gs2(&p, test_get(&cb, "gs2_client_supports_server_did_not_advertise_plus"));
	/* gs2_with_authzid is not run: the contract has no authzid, an XMPP client authorizes
	 * as itself (RFC 6120 §6.3.8 lets it leave the authzid out). */

	esc = test_get(&cb, "saslname_escaping");
	assert_int_equal(esc->type, TU_JSON_ARR);
	assert_int_equal(esc->n, 3);
	for (i = 0; i < esc->n; i++) {
		test_params_rfc5802(&p);
		p.authcid = test_str(&esc->vals[i], "username");
		fin = test_final_for(&p, &first);
		snprintf(want, sizeof(want), "n,,n=%s,r=" RFC5802_NONCE,
		         test_str(&esc->vals[i], "encoded"));
		assert_string_equal(first, want);
		free(first);
		free(fin);
	}

	/* tls-server-end-point of an ecdsa-with-SHA512 certificate: the SHA-512 data gives the
	 * vector's c=; the (wrong) SHA-256 data must give something else. */
	g = test_get(&cb, "tls_server_end_point_libstrophe_cert");
	test_params_rfc5802(&p);
	p.cb_type = "tls-server-end-point";
	data = test_unhex(test_str(g, "cb_data_hex_sha512_CORRECT"), &len);
	p.cb_data = data;
	p.cb_len = len;
	test_expect_gs2(&p, g);
	free(data);
	data = test_unhex(test_str(g, "cb_data_hex_sha256_WRONG_for_this_cert"), &len);
	p.cb_data = data;
	p.cb_len = len;
	fin = test_final_for(&p, &first);
	snprintf(want, sizeof(want), "c=%s,", test_str(g, "c"));
	assert_true(strncmp(fin, want, strlen(want)) != 0);
	free(first);
	free(fin);
	free(data);

	/* tls-exporter: session-dependent, so c= must decode to the header then our 32 bytes. */
	g = test_get(&cb, "tls_exporter");
	assert_int_equal(gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)), 0);
	test_params_rfc5802(&p);
	p.cb_type = "tls-exporter";
	p.cb_data = rnd;
	p.cb_len = sizeof(rnd);
	fin = test_final_for(&p, &first);
	assert_memory_equal(first, test_str(g, "gs2_header"), strlen(test_str(g, "gs2_header")));
	b64.data = (unsigned char *)fin + 2;
	b64.size = (unsigned)(strchr(fin, ',') - fin - 2);
	assert_int_equal(gnutls_base64_decode2(&b64, &raw), 0);
	assert_int_equal(raw.size, strlen(test_str(g, "gs2_header")) + sizeof(rnd));
	assert_memory_equal(raw.data, test_str(g, "gs2_header"), strlen(test_str(g, "gs2_header")));
	assert_memory_equal(raw.data + raw.size - sizeof(rnd), rnd, sizeof(rnd));
	/* and the vector's header-only prefix is the same header */
	gnutls_free(raw.data);
	b64.data = (unsigned char *)test_str(g, "c_prefix_base64_of_header_only");
	b64.size = (unsigned)strlen((const char *)b64.data);
	assert_int_equal(gnutls_base64_decode2(&b64, &raw), 0);
	assert_memory_equal(raw.data, test_str(g, "gs2_header"), raw.size);
	gnutls_free(raw.data);
	free(first);
	free(fin);

	g = test_get(&cb, "xep0474_fake_cb");
	test_params_rfc5802(&p);
	p.cb_type = "tls-exporter";
	p.cb_data = (const unsigned char *)test_str(g, "cb_data");
	p.cb_len = strlen(test_str(g, "cb_data"));
	test_expect_gs2(&p, g);

	/* malformed channel-binding parameters are the caller's error */
	test_params_rfc5802(&p);
	p.cb_type = "tls-exporter";
	{
		struct xu_scram *s = NULL;

		assert_int_equal(xu_scram_new(&p, &s), XU_ERR_USAGE); /* no data */
		p.cb_data = rnd;
		p.cb_len = sizeof(rnd);
		p.cb_type = "tls,exporter";
		assert_int_equal(xu_scram_new(&p, &s), XU_ERR_USAGE);
		assert_null(s);
	}
	tu_json_free(&cb);
}

/* ---------------------------------------------------------------- hostile servers */

enum neg_step {
	NEG_FIRST, /* input is server-first */
	NEG_FINAL, /* input is server-final after the RFC 5802 exchange */
	NEG_EARLY, /* input is server-final, but no server-first came before (<success/> at once) */
	NEG_NA,    /* not scram.c's business: see na */
};

struct neg_case {
	const char *id; /* id in scram-client-negative.jsonl, or our own "x-..." */
	enum neg_step step;
	const char *input; /* NULL: the file's server_sends, <cnonce> replaced */
	size_t len;        /* 0: strlen(input) */
	enum test_list_id lists;
	enum xu_scram_hash hash;
	enum xu_err expect;
	const char *msg; /* a substring of xu_scram_errmsg(), or NULL */
	const char *na;
};

#define SF_OK "r=<cnonce>srv,s=QSXCR+Q6sek8bf92,i=4096"
/* h= values computed with Python hashlib per XEP-0474 §5.1 over the named lists. */
#define H_XEP_SHA1 "G6k/rBLDqgOhRRaCuuatSDFkJ08="
#define H_UNKNOWN_SHA1 "HbOp8mJJxuYZMLXqlyKgmdokIRQ="
#define H_ALL_SHA256 "oouBsqR0aJzndq/0h4Axs0pKMghhk2qHkJEPI/9XE4I="
#define H_ALL_SHA512                                                                               \
	"/y0Bi1+0M9YwKih6MXHSnMEySJFROBYiYzjmaKWBg/5wZYUgppdNDztvUihTVJmsf8iMub2TQf14wd5hgX+TiQ=="
#define H_NOCB_SHA256 "0/NIECGLXv63MqTb7NyUI9Tqxi40YVZyx61umRrH924="
#define H_EMPTYCB_SHA256 "5JyB+q2RhLBcxFYRGsjJgEHnbBGu29x7jgu/3+4yt9w="
#define DOWNGRADE "downgrade attack"

static const struct neg_case neg_cases[] = {
    /* From scram-client-negative.jsonl. */
    {"scram-neg-01", NEG_FIRST, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "(m=)", NULL},
    {"scram-neg-02", NEG_FIRST, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO,
     "does not extend ours", NULL},
    /* GNU SASL accepts an equal nonce; we require a server part. */
    {"scram-neg-03", NEG_FIRST, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "no nonce of its own",
     NULL},
    {"scram-neg-04", NEG_FIRST, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "iteration", NULL},
    {"scram-neg-05", NEG_FIRST, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "iteration", NULL},
    {"scram-neg-06", NEG_FIRST, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "10000000", NULL},
    {"scram-neg-07", NEG_FIRST, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "lacks s=", NULL},
    {"scram-neg-08", NEG_FIRST, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "salt", NULL},
    /* e= is not in server-first's grammar, but a server refusing the user says so: shown
     * (sanitised) as an authentication failure. */
    {"scram-neg-09", NEG_FIRST, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_AUTH,
     "server rejected authentication: other-error", NULL},
    /* h= is checked when the offered lists are known, ignored otherwise (x-h-*). */
    {"scram-neg-10", NEG_FIRST, NULL, 0, L_XEP, XU_SCRAM_SHA1, XU_OK, NULL, NULL},
    {"scram-neg-11", NEG_FIRST, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_OK, NULL, NULL},
    /* the RFC 6120 §9.1 exchange's (valid SHA-1) signature, for another AuthMessage */
    {"scram-neg-12", NEG_FINAL, "v=pNNDFVEQxuXxCoSEiW8GEZ+1RSo=", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_AUTH, "server signature invalid", NULL},
    {"scram-neg-13", NEG_FINAL, "", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_AUTH, "(v=)", NULL},
    {"scram-neg-14", NEG_FINAL, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_AUTH,
     "server rejected authentication: invalid-proof", NULL},
    {"scram-neg-15", NEG_EARLY, "", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_AUTH,
     "before the exchange finished", NULL},
    /* XMPP-layer cases as scram.c sees them: undecodable or '=' challenges reach us as
     * garbage or as an empty server-first. */
    {"scram-neg-16", NEG_FIRST, "not base64!", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "malformed",
     NULL},
    {"scram-neg-17", NEG_FIRST, "", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "empty", NULL},
    /* the <failure/> text lives in sasl.c; here the same hostile text in e= */
    {"scram-neg-18", NEG_FINAL, "e=Wrong \x1b[31mpassword", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_AUTH,
     "server rejected authentication: Wrong ?[31mpassword", NULL},
    {"scram-neg-19", NEG_NA, NULL, 0, L_NONE, XU_SCRAM_SHA1, XU_OK, NULL,
     "mechanism choice (sasl.c): PLAIN is never offered to scram.c"},
    /* XEP-0474 rule 6: gs2 "n" and rely on h=; the real server offered tls-exporter etc. */
    {"scram-neg-20", NEG_FIRST, SF_OK ",h=" H_XEP_SHA1, 0, L_UNKNOWN_CB, XU_SCRAM_SHA1,
     XU_ERR_PROTO, DOWNGRADE, NULL},

    /* Our own. */
    {"x-neg-20-legit", NEG_FIRST, SF_OK ",h=" H_UNKNOWN_SHA1, 0, L_UNKNOWN_CB, XU_SCRAM_SHA1, XU_OK,
     NULL, NULL},
    {"x-h-ignored", NEG_FIRST, SF_OK ",h=" H_XEP_SHA1, 0, L_NONE, XU_SCRAM_SHA1, XU_OK, NULL, NULL},
    {"x-h-stripped", NEG_FIRST, SF_OK ",h=" H_XEP_SHA1, 0, L_STRIPPED, XU_SCRAM_SHA1, XU_ERR_PROTO,
     DOWNGRADE, NULL},
    /* a server without XEP-0474: nothing to check (stripping h= breaks the proof anyway) */
    {"x-h-absent", NEG_FIRST, SF_OK, 0, L_XEP, XU_SCRAM_SHA1, XU_OK, NULL, NULL},
    {"x-h-repeated", NEG_FIRST, SF_OK ",h=" H_XEP_SHA1 ",h=" H_XEP_SHA1, 0, L_XEP, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "repeated", NULL},
    {"x-h-empty", NEG_FIRST, SF_OK ",h=", 0, L_XEP, XU_SCRAM_SHA1, XU_ERR_PROTO, DOWNGRADE, NULL},
    {"x-h-sha256", NEG_FIRST, SF_OK ",h=" H_ALL_SHA256, 0, L_ALL, XU_SCRAM_SHA256, XU_OK, NULL,
     NULL},
    {"x-h-sha512", NEG_FIRST, SF_OK ",h=" H_ALL_SHA512, 0, L_ALL, XU_SCRAM_SHA512, XU_OK, NULL,
     NULL},
    {"x-h-sha512-wrong-hash", NEG_FIRST, SF_OK ",h=" H_ALL_SHA256, 0, L_ALL, XU_SCRAM_SHA512,
     XU_ERR_PROTO, DOWNGRADE, NULL},
    {"x-h-no-xep0440", NEG_FIRST, SF_OK ",h=" H_NOCB_SHA256, 0, L_NOCB, XU_SCRAM_SHA256, XU_OK,
     NULL, NULL},
    {"x-h-empty-cb-list", NEG_FIRST, SF_OK ",h=" H_EMPTYCB_SHA256, 0, L_EMPTYCB, XU_SCRAM_SHA256,
     XU_OK, NULL, NULL},
    {"x-h-cb-list-missing", NEG_FIRST, SF_OK ",h=" H_EMPTYCB_SHA256, 0, L_NOCB, XU_SCRAM_SHA256,
     XU_ERR_PROTO, DOWNGRADE, NULL},
    {"x-i-leading-zero", NEG_FIRST, "r=<cnonce>srv,s=QSXCR+Q6sek8bf92,i=04096", 0, L_NONE,
     XU_SCRAM_SHA1, XU_ERR_PROTO, "iteration", NULL},
    {"x-i-over-cap", NEG_FIRST, "r=<cnonce>srv,s=QSXCR+Q6sek8bf92,i=10000001", 0, L_NONE,
     XU_SCRAM_SHA1, XU_ERR_PROTO, "iteration", NULL},
    {"x-i-overflow", NEG_FIRST, "r=<cnonce>srv,s=QSXCR+Q6sek8bf92,i=18446744073709551617", 0,
     L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "iteration", NULL},
    {"x-i-plus", NEG_FIRST, "r=<cnonce>srv,s=QSXCR+Q6sek8bf92,i=+4096", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "iteration", NULL},
    {"x-i-junk", NEG_FIRST, "r=<cnonce>srv,s=QSXCR+Q6sek8bf92,i=4096x", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "iteration", NULL},
    {"x-i-empty", NEG_FIRST, "r=<cnonce>srv,s=QSXCR+Q6sek8bf92,i=", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "iteration", NULL},
    {"x-i-missing", NEG_FIRST, "r=<cnonce>srv,s=QSXCR+Q6sek8bf92", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "lacks i=", NULL},
    {"x-i-one", NEG_FIRST, "r=<cnonce>srv,s=QSXCR+Q6sek8bf92,i=1", 0, L_NONE, XU_SCRAM_SHA1, XU_OK,
     NULL, NULL},
    {"x-order", NEG_FIRST, "s=QSXCR+Q6sek8bf92,r=<cnonce>srv,i=4096", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "lacks r=", NULL},
    {"x-salt-length", NEG_FIRST, "r=<cnonce>srv,s=QSXCR+Q6sek8bf9,i=4096", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "salt", NULL},
    {"x-salt-noncanonical", NEG_FIRST, "r=<cnonce>srv,s=QR==,i=4096", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "salt", NULL},
    {"x-salt-space", NEG_FIRST, "r=<cnonce>srv,s=QSXC R+Q6sek8bf9,i=4096", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "salt", NULL},
    {"x-salt-padding-only", NEG_FIRST, "r=<cnonce>srv,s====,i=4096", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "salt", NULL},
    {"x-salt-inner-padding", NEG_FIRST, "r=<cnonce>srv,s=QQ==QQ==,i=4096", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "salt", NULL},
    {"x-salt-one-byte", NEG_FIRST, "r=<cnonce>srv,s=QQ==,i=4096", 0, L_NONE, XU_SCRAM_SHA1, XU_OK,
     NULL, NULL},
    {"x-nonce-control", NEG_FIRST, "r=<cnonce>s\x7frv,s=QSXCR+Q6sek8bf92,i=4096", 0, L_NONE,
     XU_SCRAM_SHA1, XU_ERR_PROTO, "nonce", NULL},
    {"x-nonce-shorter", NEG_FIRST, "r=fyko,s=QSXCR+Q6sek8bf92,i=4096", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "nonce", NULL},
    {"x-nul", NEG_FIRST, "r=<cnonce>srv,s=QSXCR+Q6sek8bf92,i=4096,x=a\0b",
     sizeof("r=<cnonce>srv,s=QSXCR+Q6sek8bf92,i=4096,x=a\0b") - 1, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "NUL", NULL},
    {"x-trailing-comma", NEG_FIRST, SF_OK ",", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "malformed",
     NULL},
    {"x-empty-attr", NEG_FIRST, SF_OK ",,x=1", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "malformed",
     NULL},
    {"x-repeated-r", NEG_FIRST, SF_OK ",r=<cnonce>other", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO,
     "repeated", NULL},
    {"x-late-m", NEG_FIRST, SF_OK ",m=x", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_PROTO, "(m=)", NULL},
    {"x-first-e-sanitised", NEG_FIRST, "e=unknown\nuser\x7f\xc3\xa9", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_AUTH, "server rejected authentication: unknown?user???", NULL},
    {"x-final-extension", NEG_FINAL, "v=" RFC5802_SIG ",x=later", 0, L_NONE, XU_SCRAM_SHA1, XU_OK,
     NULL, NULL},
    {"x-final-trailing-comma", NEG_FINAL, "v=" RFC5802_SIG ",", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_PROTO, "malformed", NULL},
    {"x-final-v-empty", NEG_FINAL, "v=", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_AUTH,
     "server signature invalid", NULL},
    {"x-final-v-short", NEG_FINAL, "v=rmF9pqV8S7suAoZWja4dJRkF", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_AUTH, "server signature invalid", NULL},
    {"x-final-v-longer", NEG_FINAL, "v=rmF9pqV8S7suAoZWja4dJRkFsKQAAAA=", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_AUTH, "server signature invalid", NULL},
    {"x-final-v-not-b64", NEG_FINAL, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ", 0, L_NONE, XU_SCRAM_SHA1,
     XU_ERR_AUTH, "server signature invalid", NULL},
    {"x-final-other-attr", NEG_FINAL, "x=1,v=" RFC5802_SIG, 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_AUTH,
     "(v=)", NULL},
    {"x-final-e-empty", NEG_FINAL, "e=", 0, L_NONE, XU_SCRAM_SHA1, XU_ERR_AUTH, "(empty)", NULL},
    {"x-final-e-long", NEG_FINAL,
     "e=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     0, L_NONE, XU_SCRAM_SHA1, XU_ERR_AUTH, "aaaa...", NULL},
    {"x-final-nul", NEG_FINAL, "v=" RFC5802_SIG "\0", sizeof("v=" RFC5802_SIG), L_NONE,
     XU_SCRAM_SHA1, XU_ERR_PROTO, "NUL", NULL},
};

/* "<cnonce>" in s replaced by our nonce. */
static char *test_subst(const char *s, size_t len, size_t *outlen)
{
	static const char tag[] = "<cnonce>";
	char *out = malloc(len * 3 + 1), *o = out;
	size_t i = 0;

	assert_non_null(out);
	while (i < len) {
		if (len - i >= sizeof(tag) - 1 && !memcmp(s + i, tag, sizeof(tag) - 1)) {
			memcpy(o, RFC5802_NONCE, sizeof(RFC5802_NONCE) - 1);
			o += sizeof(RFC5802_NONCE) - 1;
			i += sizeof(tag) - 1;
		} else {
			*o++ = s[i++];
		}
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

static void test_neg_run(const struct neg_case *c, const char *from_file)
{
	struct xu_scram_params p;
	struct xu_scram *s;
	const char *src = c->input ? c->input : from_file;
	char *in, *out = NULL;
	size_t len, outlen;
	enum xu_err err = XU_ERR_INTERNAL;

	print_message("negative %s\n", c->id);
	assert_non_null(src);
	in = test_subst(src, c->len ? c->len : strlen(src), &len);
	test_params_rfc5802(&p);
	p.hash = c->hash;
	test_set_lists(&p, c->lists);
	s = test_start(&p, NULL);
	switch (c->step) {
	case NEG_FIRST:
		err = xu_scram_client_final(s, in, len, &out, &outlen);
		if (!err) {
			assert_non_null(out);
			assert_int_equal(strncmp(out, "c=biws,r=" RFC5802_NONCE, 33), 0);
		} else {
			assert_null(out);
		}
		break;
	case NEG_FINAL:
		assert_int_equal(
		    xu_scram_client_final(s, RFC5802_FIRST, strlen(RFC5802_FIRST), &out, &outlen),
		    XU_OK);
		err = xu_scram_verify(s, in, len);
		break;
	case NEG_EARLY:
		err = xu_scram_verify(s, in, len);
		break;
	default:
		fail();
	}
	assert_int_equal(err, c->expect);
	if (c->msg)
		assert_non_null(strstr(xu_scram_errmsg(s), c->msg));
	if (err) {
		const unsigned char *m = (const unsigned char *)xu_scram_errmsg(s);

		for (; *m; m++)
			assert_true(*m >= 0x20 && *m < 0x7F);
		/* a failed exchange stays failed */
		assert_int_not_equal(xu_scram_verify(s, "v=" RFC5802_SIG, 30), XU_OK);
	}
	free(out);
	free(in);
	xu_scram_free(s);
}

/* Every line of scram-client-negative.jsonl has a row with the behaviour we chose, then our
 * own cases. */
static void test_negative(void **state)
{
	struct tu_json all;
	size_t k, i, from_file = 0;

	(void)state;
	if (!tu_json_load_lines(VEC "scram-client-negative.jsonl", &all))
		fail_msg("cannot read scram-client-negative.jsonl as JSON Lines");
	for (k = 0; k < all.n; k++) {
		const struct tu_json *j = &all.vals[k];
		const char *id = test_str(j, "id");
		const struct neg_case *c = NULL;

		for (i = 0; i < sizeof(neg_cases) / sizeof(neg_cases[0]); i++) {
			if (!strcmp(neg_cases[i].id, id))
				c = &neg_cases[i];
		}
		if (!c)
			fail_msg("no behaviour chosen for %s", id);
		if (c->step == NEG_NA)
			print_message("negative %s: n/a here, %s\n", id, c->na);
		else
			test_neg_run(c, test_str(j, "server_sends"));
		from_file++;
	}
	tu_json_free(&all);
	assert_int_equal(from_file, 20);
	for (i = 0; i < sizeof(neg_cases) / sizeof(neg_cases[0]); i++) {
		if (!strncmp(neg_cases[i].id, "x-", 2))
			test_neg_run(&neg_cases[i], NULL);
	}
}

/* ---------------------------------------------------------------- state and limits */

static void test_order_and_limits(void **state)
{
	struct xu_scram_params p;
	struct xu_scram *s = NULL, *t = NULL;
	char *out = NULL, *big;
	size_t len;

	(void)state;
	test_params_rfc5802(&p);
	assert_int_equal(xu_scram_new(&p, &s), XU_OK);
	/* client-final before client-first is the caller's bug */
	assert_int_equal(xu_scram_client_final(s, RFC5802_FIRST, strlen(RFC5802_FIRST), &out, &len),
	                 XU_ERR_INTERNAL);
	assert_int_equal(xu_scram_client_first(s, &out, &len), XU_OK);
	free(out);
	out = NULL;
	assert_int_equal(xu_scram_client_first(s, &out, &len), XU_ERR_INTERNAL);
	assert_null(out);
	assert_int_equal(xu_scram_client_final(s, RFC5802_FIRST, strlen(RFC5802_FIRST), &out, &len),
	                 XU_OK);
	free(out);
	assert_int_equal(xu_scram_verify(s, "v=" RFC5802_SIG, 30), XU_OK);
	assert_int_equal(xu_scram_verify(s, "v=" RFC5802_SIG, 30), XU_ERR_INTERNAL);
	xu_scram_free(s);

	/* an oversized server-first is refused before it is looked at */
	big = malloc(9000);
	assert_non_null(big);
	memset(big, 'a', 9000);
	memcpy(big, "r=" RFC5802_NONCE "srv,s=QSXCR+Q6sek8bf92,i=4096,x=", 54);
	s = test_start(&p, NULL);
	out = NULL;
	assert_int_equal(xu_scram_client_final(s, big, 9000, &out, &len), XU_ERR_PROTO);
	assert_non_null(strstr(xu_scram_errmsg(s), "too long"));
	assert_null(out);
	xu_scram_free(s);
	free(big);

	/* client-final extensions must be well-formed and not ours */
	s = test_start(&p, NULL);
	assert_int_equal(
	    xu_scram_client_final_ext(s, RFC5802_FIRST, strlen(RFC5802_FIRST), "p=xx", &out, &len),
	    XU_ERR_USAGE);
	assert_int_equal(
	    xu_scram_client_final_ext(s, RFC5802_FIRST, strlen(RFC5802_FIRST), "x=1,", &out, &len),
	    XU_ERR_USAGE);
	xu_scram_free(s);

	/* bad parameters */
	p.nonce = "a,b";
	assert_int_equal(xu_scram_new(&p, &t), XU_ERR_USAGE);
	p.nonce = "";
	assert_int_equal(xu_scram_new(&p, &t), XU_ERR_USAGE);
	test_params_rfc5802(&p);
	p.authcid = "";
	assert_int_equal(xu_scram_new(&p, &t), XU_ERR_USAGE);
	p.authcid = "bad\xff";
	assert_int_equal(xu_scram_new(&p, &t), XU_ERR_USAGE);
	test_params_rfc5802(&p);
	p.offered_cbs = test_xep_cbs;
	p.n_offered_cbs = 2;
	assert_int_equal(xu_scram_new(&p, &t), XU_ERR_USAGE);
	assert_null(t);
	xu_scram_free(NULL);
}

/* Without a fixed nonce: 24 random bytes as 32 base64 characters, different every time. */
static void test_random_nonce(void **state)
{
	struct xu_scram_params p;
	struct xu_scram *s;
	char *first[2];
	size_t len, k, i;

	(void)state;
	test_params_rfc5802(&p);
	p.nonce = NULL;
	for (k = 0; k < 2; k++) {
		assert_int_equal(xu_scram_new(&p, &s), XU_OK);
		assert_int_equal(xu_scram_client_first(s, &first[k], &len), XU_OK);
		assert_int_equal(len, strlen("n,,n=user,r=") + 32);
		assert_memory_equal(first[k], "n,,n=user,r=", 12);
		for (i = 12; i < len; i++)
			assert_non_null(
			    strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			           "0123456789+/",
			           first[k][i]));
		xu_scram_free(s);
	}
	assert_string_not_equal(first[0], first[1]);
	free(first[0]);
	free(first[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exchanges),    cmocka_unit_test(test_pbkdf2),
	    cmocka_unit_test(test_opaque),       cmocka_unit_test(test_channel_binding),
	    cmocka_unit_test(test_negative),     cmocka_unit_test(test_order_and_limits),
	    cmocka_unit_test(test_random_nonce), cmocka_unit_test(test_known_salted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
