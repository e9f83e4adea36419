/* fuzz_record.c: libFuzzer target for received-stanza records (XEP-0203/0082 stamps, RFC 6121
 * fields) in text, JSON (RFC 8259) and one-line XML, with and without -0; and what the archive
 * sends (XEP-0313 results and <fin/>, XEP-0359 stanza ids), whose messages become records too;
 * and xmpp-presence's side: presence records, the presences heard, XEP-0012 answers. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_msg_keys[] = {"kind",    "timestamp", "delayed", "from",
                                            "to",      "type",      "id",      "body",
                                            "subject", "thread",    "room",    "nick"};
static const char *const fuzz_pres_keys[] = {"kind",   "timestamp", "delayed", "from",
                                             "to",     "type",      "id",      "show",
                                             "status", "priority",  "room",    "nick"};

static void fuzz_check(bool ok)
{
	if (!ok)
		abort();
}

/* Bidi controls and the line/paragraph separators. */
static bool fuzz_bidi(uint32_t cp)
{
	return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

/* len bytes, the last one LF, are one line of valid UTF-8 with nothing raw a terminal acts on
 * (in_names: U+061C may stand in an XML name, where no reference can replace it). */
static void fuzz_safe_line(const char *s, size_t len, bool in_names)
{
	size_t i = 0, l;
	uint32_t cp;

	fuzz_check(len > 0 && s[len - 1] == '\n' && strlen(s) == len);
	len--;
	while (i < len) {
		l = tu_utf8_decode(s + i, len - i, &cp);
		fuzz_check(l > 0);
		fuzz_check(cp >= 0x20 && !(cp >= 0x7F && cp <= 0x9F));
		fuzz_check(!fuzz_bidi(cp) || (in_names && cp == 0x061C));
		i += l;
	}
}

/* "YYYY-MM-DDTHH:MM:SS[.mmm]Z" by shape. */
static void fuzz_timestamp(const char *ts)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t n = strlen(ts), i;

	fuzz_check(n == 20 || n == 24);
	for (i = 0; i < n - 1; i++) {
		if (n == 20 && i == 19)
			break;
		if (shape[i] == 'd')
			fuzz_check(ts[i] >= '0' && ts[i] <= '9');
		else
			fuzz_check(ts[i] == shape[i]);
	}
	fuzz_check(ts[n - 1] == 'Z');
}

/* A JSON member is exactly want (NULL: null). Parsed text is valid UTF-8, so nothing may have
 * been replaced on the way. */
static void fuzz_json_is(const struct tu_json *v, const char *want)
{
	if (!want) {
		fuzz_check(v->type == TU_JSON_NULL);
		return;
	}
	fuzz_check(v->type == TU_JSON_STR && v->len == strlen(want) &&
	           memcmp(v->str, want, v->len) == 0);
}

static void fuzz_json(const struct xu_record *rec, const char *s, size_t len)
{
	bool pres = strcmp(rec->kind, "presence") == 0;
	const char *const *keys = pres ? fuzz_pres_keys : fuzz_msg_keys;
	const char *vals[12] = {rec->kind, rec->timestamp, NULL, rec->from, rec->to,   rec->type,
	                        rec->id,   NULL,           NULL, NULL,      rec->room, rec->nick};
	const char *p = s;
	struct tu_json o;
	long prio;
	size_t i;

	vals[7] = pres ? rec->show : rec->body;
	vals[8] = pres ? rec->status : rec->subject;
	vals[9] = pres ? NULL : rec->thread;
	fuzz_safe_line(s, len, false);
	fuzz_check(tu_json_parse(&p, &o));
	fuzz_check(strcmp(p, "\n") == 0 && o.type == TU_JSON_OBJ && o.n == 12);
	for (i = 0; i < 12; i++) {
		fuzz_check(strcmp(o.keys[i], keys[i]) == 0);
		if (i == 2) {
			fuzz_check(o.vals[i].type == (rec->delayed ? TU_JSON_TRUE : TU_JSON_FALSE));
		} else if (pres && i == 9) {
			fuzz_check(tu_json_long(&o, "priority", &prio) && prio == rec->priority);
			fuzz_check(prio >= -128 && prio <= 127);
		} else {
			fuzz_json_is(&o.vals[i], vals[i]);
		}
	}
	tu_json_free(&o);
}

/* The XML record parses back to the stanza. Standalone, an element may need namespace
 * declarations its ancestors carried, so the reparse gets room to spare. */
static void fuzz_xml(const struct xu_record *rec, const char *s, size_t len)
{
	struct xu_xml_limits big = {SIZE_MAX / 2, 64, 1024};
	struct xu_stanza *back = NULL;
	enum xu_err err;

	fuzz_safe_line(s, len, true);
	err = tu_stanza_reparse(s, len - 1, &big, &back);
	if (err != XU_ERR_NOMEM)
		fuzz_check(err == XU_OK && tu_stanza_equal(rec->stanza, back));
	xu_stanza_free(back);
}

static void fuzz_text(const struct xu_record *rec, const char *s, size_t len)
{
	fuzz_safe_line(s, len, false);
	fuzz_check(strncmp(s, rec->timestamp, strlen(rec->timestamp)) == 0);
}

/* -0: the body byte-exact just before the NUL, and the NUL the only one. */
static void fuzz_text_nul(const struct xu_record *rec, const char *s, size_t len)
{
	size_t b = rec->body ? strlen(rec->body) : 0;

	fuzz_check(len > 0 && s[len - 1] == '\0' && strlen(s) == len - 1);
	fuzz_check(len - 1 >= b && memcmp(s + len - 1 - b, rec->body ? rec->body : "", b) == 0);
}

/* Colour adds our SGR sequences around fields and nothing else: without them, the line is the
 * plain one, byte for byte. */
static void fuzz_color(const struct xu_record *rec)
{
	static const char *const sgr[] = {"\033[0m", "\033[1m", "\033[2m", "\033[32m", "\033[33m"};
	char *plain = NULL, *color = NULL, *r, *w;
	size_t plen, clen, i;

	if (xu_record_format(rec, XU_REC_TEXT, false, &plain, &plen) != XU_OK ||
	    xu_record_format(rec, XU_REC_TEXT_COLOR, false, &color, &clen) != XU_OK)
		goto out;
	for (r = w = color; *r;) {
		for (i = 0; i < sizeof(sgr) / sizeof(sgr[0]); i++)
			if (strncmp(r, sgr[i], strlen(sgr[i])) == 0)
				break;
		if (i < sizeof(sgr) / sizeof(sgr[0]))
			r += strlen(sgr[i]);
		else
			*w++ = *r++;
	}
	*w = '\0';
	fuzz_check(strcmp(color, plain) == 0);
out:
	free(plain);
	free(color);
}

static void fuzz_record(const struct xu_stanza *st, int64_t arrival)
{
	static const enum xu_rec_format fmts[] = {XU_REC_TEXT, XU_REC_JSON, XU_REC_XML};
	struct xu_record rec;
	enum xu_err err;
	char *out;
	size_t len, f;
	int nul;

	err = xu_record_from_stanza(st, arrival, &rec);
	if (err == XU_ERR_NOMEM)
		return;
	if (err) {
		const char *name = xu_stanza_name(st);

		fuzz_check(err == XU_ERR_DATA && rec.room == NULL);
		fuzz_check((strcmp(name, "message") != 0 && strcmp(name, "presence") != 0) ||
		           strcmp(xu_stanza_ns(st), XU_NS_CLIENT) != 0);
		return;
	}
	fuzz_timestamp(rec.timestamp);
	fuzz_check(rec.priority >= -128 && rec.priority <= 127);
	fuzz_check(!rec.nick || rec.room);
	for (f = 0; f < 3; f++) {
		for (nul = 0; nul < 2; nul++) {
			out = NULL;
			err = xu_record_format(&rec, fmts[f], nul, &out, &len);
			if (err == XU_ERR_NOMEM)
				continue;
			fuzz_check(err == XU_OK && out);
			if (nul && fmts[f] == XU_REC_TEXT)
				fuzz_text_nul(&rec, out, len);
			else if (nul)
				/* same bytes as with LF, but for the terminator */
				fuzz_check(len > 0 && out[len - 1] == '\0' &&
				           strlen(out) == len - 1);
			else if (fmts[f] == XU_REC_TEXT)
				fuzz_text(&rec, out, len);
			else if (fmts[f] == XU_REC_JSON)
				fuzz_json(&rec, out, len);
			else
				fuzz_xml(&rec, out, len);
			free(out);
		}
	}
	fuzz_color(&rec);
	xu_record_clear(&rec);
}

/* An optional "[-]DIGITS " prefix is the arrival time in Unix ms (0 without), so that seeds stay
 * readable XML. */
static int64_t fuzz_arrival(const uint8_t **data, size_t *size)
{
	const uint8_t *p = *data, *end = *data + *size;
	uint64_t v = 0;
	bool neg = false;
	size_t digits = 0;

	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	for (; p < end && *p >= '0' && *p <= '9' && digits < 19; p++, digits++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (digits == 0 || p == end || *p != ' ')
		return 0;
	*size -= (size_t)(p + 1 - *data);
	*data = p + 1;
	if (v > (uint64_t)INT64_MAX)
		return neg ? INT64_MIN : INT64_MAX;
	return neg ? -(int64_t)v : (int64_t)v;
}

/* The archive's side: a result of query "q" for the account becomes a message record like any;
 * a page end and stanza ids come back well-formed or not at all. */
static void fuzz_archive(const struct xu_stanza *st, const struct xu_jid *me, int64_t arrival)
{
	struct xu_stanza *item = NULL;
	const char *id = NULL, *last = NULL, *sid;
	bool complete;
	char why[64];
	enum xu_err err;

	err = xu_mam_result(st, "q", me, &item, &id);
	fuzz_check(err == XU_OK || err == XU_ERR_NOMEM);
	fuzz_check(!item == !id);
	if (item) {
		fuzz_check(*id && strcmp(xu_stanza_name(item), "message") == 0 &&
		           strcmp(xu_stanza_ns(item), XU_NS_CLIENT) == 0);
		fuzz_record(item, arrival);
		xu_stanza_free(item);
	}
	err = xu_mam_fin(st, &complete, &last, why, sizeof(why));
	fuzz_check(err == XU_OK || err == XU_ERR_REFUSED || err == XU_ERR_PROTO);
	fuzz_check(err == XU_OK || (!complete && !last && why[0]));
	fuzz_check(!last || *last);
	sid = xu_stanza_id_by(st, me);
	fuzz_check(!sid || *sid);
}

/* A presence becomes records that are one safe line each, kept or not; an XEP-0012 answer is
 * read or refused with a reason. */
static void fuzz_presence(const struct xu_stanza *st, struct xu_presences *ps,
                          const struct xu_jid *me)
{
	static const enum xu_rec_format fmts[] = {XU_REC_TEXT, XU_REC_JSON, XU_REC_XML};
	struct xu_presence_info info;
	const char *status = NULL;
	uint64_t seconds;
	char why[64] = "", *out;
	enum xu_err err;
	size_t len, f;

	err = xu_presences_add(ps, st);
	fuzz_check(err == XU_OK || err == XU_ERR_NOMEM);
	xu_presences_available(ps, me, NULL, 0);
	err = xu_last_parse(st, &seconds, &status, why, sizeof(why));
	fuzz_check(err == XU_OK || ((err == XU_ERR_REFUSED || err == XU_ERR_PROTO) && why[0]));
	if (xu_presence_info_from(st, &info) != XU_OK)
		return;
	if (!info.jid)
		info.jid = "-";
	info.last_seen = (int64_t)seconds;
	for (f = 0; f < 3; f++) {
		out = NULL;
		err = xu_presence_format(&info, fmts[f], &out, &len);
		if (err == XU_ERR_NOMEM)
			continue;
		fuzz_check(err == XU_OK && out);
		fuzz_safe_line(out, len, fmts[f] == XU_REC_XML);
		free(out);
	}
}

/* What rooms and services say about themselves (disco#info and #items, data forms, roster
 * results): parsed without trouble, and what comes out is well formed. */
static void fuzz_discovery(const struct xu_stanza *st)
{
	struct xu_disco_info *d = NULL;
	struct xu_disco_item *items = NULL;
	struct xu_form *f = NULL;
	struct xu_roster *r = NULL;
	const char *last = NULL;
	size_t n = 0, i;

	if (xu_disco_info_parse(st, &d) == XU_OK) {
		for (i = 0; i < d->nfeatures; i++)
			fuzz_check(d->features[i] != NULL);
		xu_disco_info_free(d);
	}
	if (xu_disco_items_parse(st, &items, &n, &last) == XU_OK) {
		for (i = 0; i < n; i++)
			fuzz_check(items[i].jid && items[i].name);
		fuzz_check(!last || *last);
		xu_disco_items_free(items, n);
	}
	if (xu_form_parse(st, &f) == XU_OK) {
		for (i = 0; i < f->n; i++)
			fuzz_check(f->fields[i].nvalues == 0 || f->fields[i].values != NULL);
		xu_form_free(f);
	}
	if (xu_roster_parse(st, &r) == XU_OK) {
		for (i = 0; i + 1 < r->n; i++)
			fuzz_check(strcmp(r->items[i].jid, r->items[i + 1].jid) < 0);
		xu_roster_free(r);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xu_jid *me;
	struct xu_presences *ps = NULL;
	struct xu_stanza **list = NULL;
	const char *why = NULL;
	int64_t arrival = fuzz_arrival(&data, &size);
	size_t n = 0, i;

	if (!me && xu_jid_parse("juliet@capulet.lit/balcony", &me, &why) != XU_OK)
		abort();
	if (xu_stanza_parse_list((const char *)data, size, &list, &n, &why) != XU_OK)
		return 0;
	if (xu_presences_new(&ps) != XU_OK)
		abort();
	for (i = 0; i < n; i++) {
		fuzz_record(list[i], arrival);
		fuzz_archive(list[i], me, arrival);
		fuzz_discovery(list[i]);
		fuzz_presence(list[i], ps, me);
		xu_stanza_free(list[i]);
	}
	xu_presences_free(ps);
	free(list);
	return 0;
}
