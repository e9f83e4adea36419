/* test_record.c: received stanzas as text/JSON/XML records: XEP-0203 delay stamps (XEP-0082),
 * RFC 6121 message and presence fields, XEP-0045 room/nick, and the terminal-injection vectors. */
#include "testutil.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define TERM_CASES "tests/vectors/terminal/terminal-cases.jsonl"

/* 2026-11-24T23:20:01.123Z, the contract's example (computed independently with Python). */
#define ARRIVAL INT64_C(1795562401123)
#define ARRIVAL_TS "2026-11-24T23:20:01.123Z"

static const char *const tr_msg_keys[] = {"kind", "timestamp", "delayed", "from",   "to",   "type",
                                          "id",   "body",      "subject", "thread", "room", "nick"};
static const char *const tr_pres_keys[] = {"kind",   "timestamp", "delayed", "from",
                                           "to",     "type",      "id",      "show",
                                           "status", "priority",  "room",    "nick"};

/* ---------------------------------------------------------------- helpers */

/* The one stanza of xml, parsed as the stream parser would. */
static char *tr_format(const struct xu_record *rec, enum xu_rec_format fmt, bool nul, size_t *len)
{
	char *out = NULL;
	size_t n = 0;

	assert_int_equal(xu_record_format(rec, fmt, nul, &out, &n), XU_OK);
	assert_non_null(out);
	if (len)
		*len = n;
	return out;
}

/* Bidi controls and the line/paragraph separators: never raw on a terminal. */
static bool tr_bidi(uint32_t cp)
{
	return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

/* One record of len bytes (terminator included) is safe to print: valid UTF-8, one line ended
 * by the single LF, no raw C0, DEL, C1 or bidi control. */
static void tr_assert_one_safe_line(const char *s, size_t len, const char *what)
{
	size_t i = 0, l;
	uint32_t cp;

	if (len == 0 || s[len - 1] != '\n' || strlen(s) != len)
		fail_msg("%s: not one LF-terminated line without NUL: '%s'", what, s);
	len--;
	while (i < len) {
		l = tu_utf8_decode(s + i, len - i, &cp);
		if (l == 0)
			fail_msg("%s: invalid UTF-8 at byte %zu: '%s'", what, i, s);
		if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || tr_bidi(cp))
			fail_msg("%s: raw U+%04X at byte %zu: '%s'", what, (unsigned)cp, i, s);
		i += l;
	}
}

/* Parse one JSON record line: an object with exactly `keys`, in that order, each a string or
 * null except delayed (boolean) and priority (number). */
static void tr_json_load(const char *line, size_t len, bool presence, struct tu_json *o)
{
	const char *const *keys = presence ? tr_pres_keys : tr_msg_keys;
	const char *p = line;
	size_t i;

	tr_assert_one_safe_line(line, len, "json");
	if (!tu_json_parse(&p, o))
		fail_msg("not JSON: %s", line);
	assert_string_equal(p, "\n");
	assert_int_equal(o->type, TU_JSON_OBJ);
	assert_int_equal(o->n, 12);
	for (i = 0; i < 12; i++) {
		enum tu_json_type t = o->vals[i].type;

		assert_string_equal(o->keys[i], keys[i]);
		if (strcmp(keys[i], "delayed") == 0)
			assert_true(t == TU_JSON_TRUE || t == TU_JSON_FALSE);
		else if (strcmp(keys[i], "priority") == 0)
			assert_int_equal(t, TU_JSON_NUM);
		else
			assert_true(t == TU_JSON_STR || t == TU_JSON_NULL);
	}
}

/* JSON member key is the string want (NULL: is null). */
static void tr_json_expect(const struct tu_json *o, const char *key, const char *want)
{
	const struct tu_json *v = tu_json_get(o, key);

	assert_non_null(v);
	if (!want) {
		if (v->type != TU_JSON_NULL)
			fail_msg("\"%s\": want null, got type %d '%s'", key, (int)v->type,
			         v->str ? v->str : "");
		return;
	}
	if (v->type != TU_JSON_STR)
		fail_msg("\"%s\": want '%s', got type %d", key, want, (int)v->type);
	assert_int_equal(v->len, strlen(want));
	assert_memory_equal(v->str, want, v->len);
}

static void tr_xml_roundtrip(const struct xu_record *rec)
{
	size_t len, n = 0;
	char *out = tr_format(rec, XU_REC_XML, false, &len);
	struct xu_stanza **list = NULL;
	const char *why = NULL;

	tr_assert_one_safe_line(out, len, "xml");
	assert_int_equal(xu_stanza_parse_list(out, len, &list, &n, &why), XU_OK);
	assert_int_equal(n, 1);
	assert_true(tu_stanza_equal(list[0], rec->stanza));
	xu_stanza_free(list[0]);
	free(list);
	free(out);
}

/* ---------------------------------------------------------------- the terminal vectors */

/* Which record member a case's field lands in, and where its escaped form shows in text. */
static const char *tr_field_value(const struct xu_record *rec, const char *field)
{
	if (strcmp(field, "body") == 0)
		return rec->body;
	if (strcmp(field, "subject") == 0)
		return rec->subject;
	if (strcmp(field, "status") == 0)
		return rec->status;
	return NULL;
}

/* Our SGR sequences out of a coloured line: what is left must be the plain line, so colour adds
 * nothing else and the peer's text cannot bring its own (escaping removed every ESC). */
static void tr_strip_sgr(char *s)
{
	static const char *const sgr[] = {"\033[0m", "\033[1m", "\033[2m", "\033[32m", "\033[33m"};
	char *w = s;
	size_t i;

	while (*s) {
		for (i = 0; i < sizeof(sgr) / sizeof(sgr[0]); i++)
			if (strncmp(s, sgr[i], strlen(sgr[i])) == 0)
				break;
		if (i < sizeof(sgr) / sizeof(sgr[0])) {
			s += strlen(sgr[i]);
			continue;
		}
		*w++ = *s++;
	}
	*w = '\0';
}

static void tr_assert_color_same(const struct xu_record *rec, const char *plain, const char *id)
{
	size_t len;
	char *out = tr_format(rec, XU_REC_TEXT_COLOR, false, &len);

	if (!strchr(out, '\033'))
		fail_msg("%s: no colour in '%s'", id, out);
	tr_strip_sgr(out);
	if (strcmp(out, plain) != 0)
		fail_msg("%s: coloured '%s' is not '%s' once uncoloured", id, out, plain);
	free(out);
}

/* The colours themselves: timestamp dim, sender bold; first field bold; presence and roster
 * JIDs bold, availability green or dim. */
static void test_color(void **state)
{
	struct xu_stanza *st = tu_parse("<message from='a@b.example/r' type='chat'><body>hi</body>"
	                                "</message>");
	const char *keys[] = {"jid", "name"}, *vals[] = {"room@muc.example", "Room"};
	struct xu_presence_info info;
	struct xu_roster_item it;
	char jid[] = "e@f.example";
	struct xu_record rec;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_OK);
	out = tr_format(&rec, XU_REC_TEXT_COLOR, false, &len);
	assert_string_equal(out,
	                    "\033[2m" ARRIVAL_TS "\033[0m \033[1ma@b.example/r\033[0m chat: hi\n");
	free(out);
	xu_record_clear(&rec);
	xu_stanza_free(st);
	assert_int_equal(xu_fields_format(XU_REC_TEXT_COLOR, NULL, keys, vals, 2, &out, &len),
	                 XU_OK);
	assert_string_equal(out, "\033[1mroom@muc.example\033[0m\tRoom\n");
	free(out);
	memset(&info, 0, sizeof(info));
	info.jid = "c@d.example/x";
	info.last_seen = -1;
	info.available = true;
	assert_int_equal(xu_presence_format(&info, XU_REC_TEXT_COLOR, &out, &len), XU_OK);
	assert_string_equal(out, "\033[1mc@d.example/x\033[0m \033[32mavailable\033[0m - 0 -\n");
	free(out);
	info.available = false;
	assert_int_equal(xu_presence_format(&info, XU_REC_TEXT, &out, &len), XU_OK);
	assert_string_equal(out, "c@d.example/x unavailable -\n");
	free(out);
	memset(&it, 0, sizeof(it));
	it.jid = jid;
	assert_int_equal(xu_roster_item_format(&it, XU_REC_TEXT_COLOR, &out, &len), XU_OK);
	assert_string_equal(out, "\033[1me@f.example\033[0m\t\tnone\t\t\n");
	free(out);
	assert_int_equal(xu_roster_item_format(&it, XU_REC_XML, &out, &len), XU_ERR_USAGE);
}

static void test_terminal_vectors(void **state)
{
	struct tu_json all;
	size_t i, with_payload = 0, checked = 0, refused = 0;

	(void)state;
	if (!tu_json_load_lines(TERM_CASES, &all))
		fail_msg("cannot read %s (run from the repository root)", TERM_CASES);
	assert_int_equal(all.n, 32);
	for (i = 0; i < all.n; i++) {
		const struct tu_json *c = &all.vals[i], *in = tu_json_get(c, "input");
		const char *id = tu_json_str(c, "id"), *field = tu_json_str(c, "field");
		const char *line = tu_json_str(c, "expected_line"), *payload;
		const char *value;
		struct xu_stanza *st;
		struct xu_record rec;
		struct tu_json o;
		size_t len;
		char *out;

		assert_true(id && field && line && in && in->type == TU_JSON_STR);
		payload = tu_json_str(c, "payload");
		if (!payload)
			continue;
		with_payload++;
		st = tu_parse(payload);
		if (strcmp(xu_stanza_name(st), "iq") == 0) {
			/* The roster-name case: not a record at all. */
			assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_ERR_DATA);
			xu_stanza_free(st);
			refused++;
			continue;
		}
		assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_OK);
		assert_string_equal(rec.timestamp, ARRIVAL_TS);

		out = tr_format(&rec, XU_REC_TEXT, false, &len);
		tr_assert_one_safe_line(out, len, id);
		tr_assert_color_same(&rec, out, id);
		if (strcmp(field, "error-text") == 0) {
			/* Error text is not part of a record; whatever else is shown stays safe. */
			assert_null(rec.body);
		} else if (!strstr(out, line)) {
			fail_msg("%s: '%s' does not contain '%s'", id, out, line);
		}
		free(out);

		out = tr_format(&rec, XU_REC_JSON, false, &len);
		tr_json_load(out, len, strcmp(rec.kind, "presence") == 0, &o);
		value = tr_field_value(&rec, field);
		if (value) {
			/* The escaped JSON decodes back to exactly what arrived. */
			assert_int_equal(in->len, strlen(value));
			assert_memory_equal(in->str, value, in->len);
			tr_json_expect(&o, field, value);
		} else if (strcmp(field, "nick") == 0) {
			/* PRECIS refuses these resources (controls, bidi, default ignorables), so
			 * the from is no JID: the room is from as given, the nick unknown, and the
			 * nick stays visible inside both. */
			assert_non_null(rec.from);
			assert_non_null(strstr(rec.from, in->str));
			tr_json_expect(&o, "from", rec.from);
			tr_json_expect(&o, "room", rec.from);
			tr_json_expect(&o, "nick", NULL);
		}
		tu_json_free(&o);
		free(out);

		if (strcmp(field, "body") == 0) {
			/* -0: the body byte-exact, NUL-terminated, nothing else changed. */
			out = tr_format(&rec, XU_REC_TEXT, true, &len);
			assert_int_equal(out[len - 1], '\0');
			assert_int_equal(strlen(out), len - 1);
			assert_true(len - 1 >= in->len);
			assert_memory_equal(out + len - 1 - in->len, in->str, in->len);
			free(out);
		}
		tr_xml_roundtrip(&rec);
		xu_record_clear(&rec);
		xu_stanza_free(st);
		checked++;
	}
	tu_json_free(&all);
	assert_int_equal(with_payload, 20);
	assert_int_equal(refused, 1);
	assert_int_equal(checked, 19);
}

/* ---------------------------------------------------------------- delay stamps */

struct tr_stamp {
	const char *stamp;
	const char *want; /* NULL: invalid, so the arrival time and not delayed */
};

static const struct tr_stamp tr_stamps[] = {
    /* XEP-0203 §4 and XEP-0082 §4 examples */
    {"2002-09-10T23:08:25Z", "2002-09-10T23:08:25Z"},
    {"1969-07-21T02:56:15Z", "1969-07-21T02:56:15Z"},
    {"1969-07-20T21:56:15-05:00", "1969-07-21T02:56:15Z"},
    {"2002-09-10T23:41:07.123Z", "2002-09-10T23:41:07.123Z"},
    /* fractions: padded, truncated (not rounded), any number of digits */
    {"2002-09-10T23:08:25.1Z", "2002-09-10T23:08:25.100Z"},
    {"2002-09-10T23:08:25.12Z", "2002-09-10T23:08:25.120Z"},
    {"2002-09-10T23:08:25.9999Z", "2002-09-10T23:08:25.999Z"},
    {"2002-09-10T23:08:25.123456789012345678901234567890Z", "2002-09-10T23:08:25.123Z"},
    {"2002-09-10T23:08:25.000Z", "2002-09-10T23:08:25.000Z"},
    {"1970-01-01T00:00:00.000+00:00", "1970-01-01T00:00:00.000Z"},
    {"1970-01-01T00:00:00-00:00", "1970-01-01T00:00:00Z"},
    /* offsets across days, months, years and February */
    {"2000-01-01T00:30:00+01:00", "1999-12-31T23:30:00Z"},
    {"1999-12-31T23:30:00.5-00:45", "2000-01-01T00:15:00.500Z"},
    {"2024-02-28T23:00:00-01:30", "2024-02-29T00:30:00Z"},
    {"2023-02-28T23:00:00-01:30", "2023-03-01T00:30:00Z"},
    {"2100-02-28T23:59:59-00:01", "2100-03-01T00:00:59Z"},
    {"2000-02-29T12:00:00Z", "2000-02-29T12:00:00Z"},
    {"2024-03-01T00:00:00+14:00", "2024-02-29T10:00:00Z"},
    {"2024-12-31T23:59:59.999-14:00", "2025-01-01T13:59:59.999Z"},
    {"1900-01-01T00:00:00+05:30", "1899-12-31T18:30:00Z"},
    {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
    {"0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"},
    {"9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"},
    {"9999-12-31T23:59:59+00:01", "9999-12-31T23:58:59Z"},
    /* outside what four digits can show */
    {"9999-12-31T23:59:59-00:01", NULL},
    {"0000-01-01T00:00:00+00:01", NULL},
    /* not XEP-0082 DateTime */
    {"", NULL},
    {"2002-09-10T23:08:25", NULL},
    {"2002-09-10", NULL},
    {"23:08:25Z", NULL},
    {"20020910T230825Z", NULL},
    {"2002-9-10T23:08:25Z", NULL},
    {"02002-09-10T23:08:25Z", NULL},
    {"+2002-09-10T23:08:25Z", NULL},
    {"-2002-09-10T23:08:25Z", NULL},
    {"2002-09-10 23:08:25Z", NULL},
    {"2002-09-10t23:08:25Z", NULL},
    {"2002-09-10T23:08:25z", NULL},
    {" 2002-09-10T23:08:25Z", NULL},
    {"2002-09-10T23:08:25Z ", NULL},
    {"2002-09-10T23:08:25ZZ", NULL},
    {"2002-09-10T23:08:25Z+00:00", NULL},
    {"2002-09-10T23:08Z", NULL},
    {"2002-00-10T23:08:25Z", NULL},
    {"2002-13-10T23:08:25Z", NULL},
    {"2002-09-00T23:08:25Z", NULL},
    {"2002-09-31T23:08:25Z", NULL},
    {"2023-02-29T00:00:00Z", NULL},
    {"2100-02-29T00:00:00Z", NULL},
    {"2002-09-10T24:00:00Z", NULL},
    {"2002-09-10T23:60:00Z", NULL},
    {"2002-09-10T23:59:60Z", NULL},
    {"2002-09-10T23:08:25.Z", NULL},
    {"2002-09-10T23:08:25,5Z", NULL},
    {"2002-09-10T23:08:25.12a3Z", NULL},
    {"2002-09-10T23:08:25+05", NULL},
    {"2002-09-10T23:08:25+0500", NULL},
    {"2002-09-10T23:08:25+5:00", NULL},
    {"2002-09-10T23:08:25+05:00:00", NULL},
    {"2002-09-10T23:08:25+15:00", NULL},
    {"2002-09-10T23:08:25+14:01", NULL},
    {"2002-09-10T23:08:25-05:60", NULL},
    {"2002-09-10T23:08:25 +05:00", NULL},
    {"2002-09-10T23:08:25\xe2\x88\x92"
     "05:00",
     NULL}, /* U+2212 MINUS SIGN */
    {"\xef\xbc\x92"
     "002-09-10T23:08:25Z",
     NULL},                                  /* fullwidth digit */
    {"2002-09-10T23:08:25.\xd9\xa1Z", NULL}, /* Arabic-Indic digit */
};

/* A message carrying one delay element with `stamp`. */
static struct xu_stanza *tr_delayed_message(const char *stamp)
{
	struct xu_stanza *st = xu_stanza_new("message", NULL), *d;

	assert_non_null(st);
	assert_int_equal(xu_stanza_set_attr(st, "from", "juliet@capulet.example/balcony"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(st, "type", "chat"), XU_OK);
	assert_non_null(xu_stanza_add_new(st, "body", NULL));
	assert_int_equal(xu_stanza_add_text(xu_stanza_child(st, "body", NULL), "hi", 2), XU_OK);
	d = xu_stanza_add_new(st, "delay", "urn:xmpp:delay");
	assert_non_null(d);
	assert_int_equal(xu_stanza_set_attr(d, "from", "capulet.example"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(d, "stamp", stamp), XU_OK);
	return st;
}

static void test_delay_stamps(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tr_stamps) / sizeof(tr_stamps[0]); i++) {
		const struct tr_stamp *t = &tr_stamps[i];
		struct xu_stanza *st = tr_delayed_message(t->stamp);
		struct xu_record rec;
		char want[128], *out;
		size_t len;
		struct tu_json o;

		assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_OK);
		if (strcmp(rec.timestamp, t->want ? t->want : ARRIVAL_TS) != 0 ||
		    rec.delayed != (t->want != NULL))
			fail_msg("stamp '%s': got %s delayed=%d, want %s", t->stamp, rec.timestamp,
			         (int)rec.delayed, t->want ? t->want : "the arrival time");
		out = tr_format(&rec, XU_REC_TEXT, false, &len);
		snprintf(want, sizeof(want), "%s juliet@capulet.example/balcony chat%s: hi\n",
		         t->want ? t->want : ARRIVAL_TS, t->want ? " (delayed)" : "");
		assert_string_equal(out, want);
		free(out);
		out = tr_format(&rec, XU_REC_JSON, false, &len);
		tr_json_load(out, len, false, &o);
		tr_json_expect(&o, "timestamp", rec.timestamp);
		assert_int_equal(tu_json_get(&o, "delayed")->type,
		                 t->want ? TU_JSON_TRUE : TU_JSON_FALSE);
		tu_json_free(&o);
		free(out);
		xu_record_clear(&rec);
		xu_stanza_free(st);
	}
}

/* Which delay counts: the first urn:xmpp:delay one, even when it is unreadable. */
static void test_delay_choice(void **state)
{
	static const struct {
		const char *xml;
		const char *want; /* NULL: arrival */
	} rows[] = {
	    {"<message><body>x</body><delay xmlns='urn:xmpp:delay' stamp='2010-01-01T00:00:00Z'/>"
	     "<delay xmlns='urn:xmpp:delay' stamp='2011-01-01T00:00:00Z'/></message>",
	     "2010-01-01T00:00:00Z"},
	    {"<message><body>x</body><delay xmlns='urn:xmpp:delay' stamp='yesterday'/>"
	     "<delay xmlns='urn:xmpp:delay' stamp='2011-01-01T00:00:00Z'/></message>",
	     NULL},
	    {"<message><body>x</body><delay xmlns='urn:xmpp:delay'/></message>", NULL},
	    /* XEP-0091's legacy form is not XEP-0203 */
	    {"<message><body>x</body><x xmlns='jabber:x:delay' stamp='20020910T23:08:25'/>"
	     "</message>",
	     NULL},
	    {"<message><body>x</body><delay stamp='2010-01-01T00:00:00Z'/></message>", NULL},
	    {"<message><body>x</body><delay xmlns='urn:xmpp:delay' "
	     "stamp='2010-01-01T00:00:00Z'/></message>",
	     "2010-01-01T00:00:00Z"},
	    /* nested inside a forwarded message, it is not this message's delay */
	    {"<message><body>x</body><forwarded xmlns='urn:xmpp:forward:0'><delay "
	     "xmlns='urn:xmpp:delay' stamp='2010-01-01T00:00:00Z'/></forwarded></message>",
	     NULL},
	    /* presence may be delayed too (XEP-0203 §1) */
	    {"<presence><delay xmlns='urn:xmpp:delay' stamp='2010-01-01T00:00:00.5+01:00'/>"
	     "</presence>",
	     "2009-12-31T23:00:00.500Z"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct xu_stanza *st = tu_parse(rows[i].xml);
		struct xu_record rec;

		assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_OK);
		assert_string_equal(rec.timestamp, rows[i].want ? rows[i].want : ARRIVAL_TS);
		assert_int_equal(rec.delayed, rows[i].want != NULL);
		xu_record_clear(&rec);
		xu_stanza_free(st);
	}
}

/* The calendar arithmetic against the C library's gmtime_r(), over the whole four-digit range,
 * both as arrival time and back through a delay stamp. */
static void test_time_against_gmtime(void **state)
{
	static const int64_t fixed[] = {0,
	                                -1,
	                                1,
	                                86399999,
	                                86400000,
	                                -86400000,
	                                951782400000,  /* 2000-02-29 */
	                                4107542400000, /* 2100-03-01 */
	                                INT64_C(-62167219200000),
	                                INT64_C(253402300799999)};
	uint64_t x = 0x9E3779B97F4A7C15u;
	size_t i;

	(void)state;
	for (i = 0; i < 20000 + sizeof(fixed) / sizeof(fixed[0]); i++) {
		int64_t ms, span = INT64_C(253402300799999) - INT64_C(-62167219200000) + 1;
		struct xu_stanza *st;
		struct xu_record rec, back;
		struct tm tm;
		time_t secs;
		char want[64];

		if (i < sizeof(fixed) / sizeof(fixed[0])) {
			ms = fixed[i];
		} else {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			ms = INT64_C(-62167219200000) + (int64_t)(x % (uint64_t)span);
		}
		secs = (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
		assert_non_null(gmtime_r(&secs, &tm));
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		         tm.tm_sec, (int)(ms - (int64_t)secs * 1000));
		st = tu_parse("<message/>");
		assert_int_equal(xu_record_from_stanza(st, ms, &rec), XU_OK);
		assert_false(rec.delayed);
		if (strcmp(rec.timestamp, want) != 0)
			fail_msg("ms %lld: got %s, want %s", (long long)ms, rec.timestamp, want);
		xu_stanza_free(st);

		/* and read back as a delay stamp */
		st = tr_delayed_message(rec.timestamp);
		assert_int_equal(xu_record_from_stanza(st, 0, &back), XU_OK);
		assert_true(back.delayed);
		assert_string_equal(back.timestamp, want);
		xu_record_clear(&back);
		xu_stanza_free(st);
		xu_record_clear(&rec);
	}
}

/* Arrival times past what four digits can show are clamped (our clock, not the peer's). */
static void test_arrival_clamped(void **state)
{
	struct xu_stanza *st = tu_parse("<message/>");
	struct xu_record rec;

	(void)state;
	assert_int_equal(xu_record_from_stanza(st, INT64_MAX, &rec), XU_OK);
	assert_string_equal(rec.timestamp, "9999-12-31T23:59:59.999Z");
	assert_int_equal(xu_record_from_stanza(st, INT64_MIN, &rec), XU_OK);
	assert_string_equal(rec.timestamp, "0000-01-01T00:00:00.000Z");
	xu_record_clear(&rec);
	xu_stanza_free(st);
}

/* ---------------------------------------------------------------- whole records */

struct tr_row {
	const char *xml;
	const char *text; /* the whole text record after the timestamp and a space */
	/* expected JSON strings in key order (body/subject/thread or show/status), "" for null */
	const char *from, *to, *type, *id, *a, *b, *c, *room, *nick;
	long priority; /* presence */
};

#define N_ NULL

static const struct tr_row tr_rows[] = {
    /* RFC 6121 §5.2 */
    {"<message from='juliet@example.com/balcony' to='romeo@example.net' type='chat' id='ktx72v49'"
     " xml:lang='en'><body>Art thou not Romeo, and a Montague?</body></message>",
     "juliet@example.com/balcony chat: Art thou not Romeo, and a Montague?\n",
     "juliet@example.com/balcony", "romeo@example.net", "chat", "ktx72v49",
     "Art thou not Romeo, and a Montague?", N_, N_, N_, N_, 0},
    /* subject and thread */
    {"<message from='a@b.example/r' type='normal'><subject>Re: plans</subject><thread>"
     "e0ffe42b28561960c6b12b944a092794b9683a38</thread><body>ok</body></message>",
     "a@b.example/r normal: [Re: plans] ok\n", "a@b.example/r", N_, "normal", N_, "ok", "Re: plans",
     "e0ffe42b28561960c6b12b944a092794b9683a38", N_, N_, 0},
    /* nothing at all: no type is normal (RFC 6121 §5.2.2), no from is the server */
    {"<message/>", "- normal: \n", N_, N_, N_, N_, N_, N_, N_, N_, N_, 0},
    /* a chat state: no body */
    {"<message from='a@b.example/r' type='chat'><active "
     "xmlns='http://jabber.org/protocol/chatstates'/></message>",
     "a@b.example/r chat: \n", "a@b.example/r", N_, "chat", N_, N_, N_, N_, N_, N_, 0},
    /* the first body; one in another namespace is not a body; empty body is a body */
    {"<message from='a@b.example'><body xmlns='urn:example:x'>no</body><body xml:lang='en'>"
     "first</body><body xml:lang='de'>zweite</body></message>",
     "a@b.example normal: first\n", "a@b.example", N_, N_, N_, "first", N_, N_, N_, N_, 0},
    {"<message from='a@b.example'><body/><subject></subject></message>",
     "a@b.example normal: [] \n", "a@b.example", N_, N_, N_, "", "", N_, N_, N_, 0},
    /* escaping in text: identifiers and lines */
    {"<message from='a@b.example/\xe2\x80\x8bx' type='chat'><subject>a&#10;b</subject>"
     "<body>one\ntwo\\ &#13;</body></message>",
     "a@b.example/\\u{200B}x chat: [a\\nb] one\\ntwo\\\\ \\r\n", "a@b.example/\xe2\x80\x8bx", N_,
     "chat", N_, "one\ntwo\\ \r", "a\nb", N_, N_, N_, 0},
    /* groupchat: room and nick, prepared (XEP-0045 §7.2.3) */
    {"<message from='Coven@Chat.Shakespeare.LIT/thirdwitch' type='groupchat' id='1'>"
     "<body>Harpier cries</body></message>",
     "Coven@Chat.Shakespeare.LIT/thirdwitch groupchat: Harpier cries\n",
     "Coven@Chat.Shakespeare.LIT/thirdwitch", N_, "groupchat", "1", "Harpier cries", N_, N_,
     "coven@chat.shakespeare.lit", "thirdwitch", 0},
    {"<message from='coven@chat.shakespeare.lit/Third Witch \xe2\x98\x95' type='groupchat'>"
     "<body>x</body></message>",
     "coven@chat.shakespeare.lit/Third Witch \xe2\x98\x95 groupchat: x\n",
     "coven@chat.shakespeare.lit/Third Witch \xe2\x98\x95", N_, "groupchat", N_, "x", N_, N_,
     "coven@chat.shakespeare.lit", "Third Witch \xe2\x98\x95", 0},
    /* the room itself (subject changes, room messages) */
    {"<message from='coven@chat.shakespeare.lit' type='groupchat'><subject>Fire Burn"
     "</subject></message>",
     "coven@chat.shakespeare.lit groupchat: [Fire Burn] \n", "coven@chat.shakespeare.lit", N_,
     "groupchat", N_, N_, "Fire Burn", N_, "coven@chat.shakespeare.lit", N_, 0},
    /* a from that is no JID is still the room, as given */
    {"<message from='a@@b' type='groupchat'><body>x</body></message>", "a@@b groupchat: x\n",
     "a@@b", N_, "groupchat", N_, "x", N_, N_, "a@@b", N_, 0},
    /* groupchat without from: nothing to split */
    {"<message type='groupchat'><body>x</body></message>", "- groupchat: x\n", N_, N_, "groupchat",
     N_, "x", N_, N_, N_, N_, 0},
    /* not groupchat: no room even from a MUC */
    {"<message from='coven@chat.shakespeare.lit/firstwitch' type='chat'><body>psst</body>"
     "</message>",
     "coven@chat.shakespeare.lit/firstwitch chat: psst\n", "coven@chat.shakespeare.lit/firstwitch",
     N_, "chat", N_, "psst", N_, N_, N_, N_, 0},
    /* error messages keep their type */
    {"<message from='b.example' type='error'><error type='cancel'><item-not-found "
     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>",
     "b.example error: \n", "b.example", N_, "error", N_, N_, N_, N_, N_, N_, 0},

    /* presence (RFC 6121 §4.7): type absent is available */
    {"<presence from='a@b.example/r'/>", "a@b.example/r presence available\n", "a@b.example/r", N_,
     N_, N_, N_, N_, N_, N_, N_, 0},
    {"<presence from='a@b.example/r' to='c@d.example' id='p1' xml:lang='en'><show>away</show>"
     "<status>Out to lunch</status><status xml:lang='de'>Essen</status><priority>5</priority>"
     "</presence>",
     "a@b.example/r presence available away: Out to lunch\n", "a@b.example/r", "c@d.example", N_,
     "p1", "away", "Out to lunch", N_, N_, N_, 5},
    {"<presence from='a@b.example/r' type='unavailable'><status>bye&#10;now</status>"
     "</presence>",
     "a@b.example/r presence unavailable: bye\\nnow\n", "a@b.example/r", N_, "unavailable", N_, N_,
     "bye\nnow", N_, N_, N_, 0},
    {"<presence from='a@b.example' type='subscribe'/>", "a@b.example presence subscribe\n",
     "a@b.example", N_, "subscribe", N_, N_, N_, N_, N_, N_, 0},
    {"<presence><show>dnd</show><status/></presence>", "- presence available dnd: \n", N_, N_, N_,
     N_, "dnd", "", N_, N_, N_, 0},
    /* presence from a room occupant is not groupchat: no room/nick */
    {"<presence from='coven@chat.shakespeare.lit/firstwitch'/>",
     "coven@chat.shakespeare.lit/firstwitch presence available\n",
     "coven@chat.shakespeare.lit/firstwitch", N_, N_, N_, N_, N_, N_, N_, N_, 0},
};

static void test_records(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(tr_rows) / sizeof(tr_rows[0]); i++) {
		const struct tr_row *r = &tr_rows[i];
		struct xu_stanza *st = tu_parse(r->xml);
		bool pres = strcmp(xu_stanza_name(st), "presence") == 0;
		struct xu_record rec;
		struct tu_json o;
		char want[512], *out;
		size_t len;
		long prio;

		assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_OK);
		assert_ptr_equal(rec.stanza, st);
		assert_string_equal(rec.kind, pres ? "presence" : "message");
		out = tr_format(&rec, XU_REC_TEXT, false, &len);
		snprintf(want, sizeof(want), "%s %s", ARRIVAL_TS, r->text);
		if (strcmp(out, want) != 0)
			fail_msg("row %zu:\n got  '%s'\n want '%s'", i, out, want);
		tr_assert_one_safe_line(out, len, "text");
		free(out);

		out = tr_format(&rec, XU_REC_JSON, false, &len);
		tr_json_load(out, len, pres, &o);
		tr_json_expect(&o, "kind", pres ? "presence" : "message");
		tr_json_expect(&o, "timestamp", ARRIVAL_TS);
		assert_int_equal(tu_json_get(&o, "delayed")->type, TU_JSON_FALSE);
		tr_json_expect(&o, "from", r->from);
		tr_json_expect(&o, "to", r->to);
		/* A message without a type is reported as normal (RFC 6121 §5.2.2). */
		tr_json_expect(&o, "type", r->type || pres ? r->type : "normal");
		tr_json_expect(&o, "id", r->id);
		tr_json_expect(&o, pres ? "show" : "body", r->a);
		tr_json_expect(&o, pres ? "status" : "subject", r->b);
		if (pres) {
			assert_true(tu_json_long(&o, "priority", &prio));
			assert_int_equal(prio, r->priority);
			assert_int_equal(rec.priority, r->priority);
		} else {
			tr_json_expect(&o, "thread", r->c);
		}
		tr_json_expect(&o, "room", r->room);
		tr_json_expect(&o, "nick", r->nick);
		tu_json_free(&o);
		free(out);

		tr_xml_roundtrip(&rec);
		xu_record_clear(&rec);
		assert_null(rec.room);
		xu_stanza_free(st);
	}
}

/* RFC 6121 §4.7.2.3: priority is an xs:byte; anything else is treated as absent. */
static void test_presence_priority(void **state)
{
	static const struct {
		const char *text;
		int want;
	} rows[] = {
	    {"0", 0},        {"1", 1},
	    {"127", 127},    {"-128", -128},
	    {"-1", -1},      {"+3", 3},
	    {" 7 ", 7},      {"\n-5\t", -5},
	    {"007", 7},      {"-0", 0},
	    {"128", 0},      {"-129", 0},
	    {"1000", 0},     {"99999999999999999999", 0},
	    {"", 0},         {" ", 0},
	    {"abc", 0},      {"1e2", 0},
	    {"0x10", 0},     {"5.0", 0},
	    {"+-5", 0},      {"--5", 0},
	    {"- 5", 0},      {"5 5", 0},
	    {"\xd9\xa5", 0}, /* Arabic-Indic five */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct xu_stanza *st = xu_stanza_new("presence", NULL), *p;
		struct xu_record rec;
		struct tu_json o;
		char *out;
		size_t len;
		long prio;

		assert_non_null(st);
		p = xu_stanza_add_new(st, "priority", NULL);
		assert_non_null(p);
		assert_int_equal(xu_stanza_add_text(p, rows[i].text, strlen(rows[i].text)), XU_OK);
		assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_OK);
		if (rec.priority != rows[i].want)
			fail_msg("priority '%s': got %d, want %d", rows[i].text, rec.priority,
			         rows[i].want);
		out = tr_format(&rec, XU_REC_JSON, false, &len);
		tr_json_load(out, len, true, &o);
		assert_true(tu_json_long(&o, "priority", &prio));
		assert_int_equal(prio, rows[i].want);
		tu_json_free(&o);
		free(out);
		xu_record_clear(&rec);
		xu_stanza_free(st);
	}
}

/* -0: NUL ends every format; text keeps body and subject raw, identifiers stay escaped. */
static void test_nul_mode(void **state)
{
	static const char body[] = "line one\nline two\ttab\\ \r\xe2\x80\xae end";
	struct xu_stanza *st =
	    tu_parse("<message from='a@b.example/\xe2\x80\xae' type='chat'><subject>s\nt</subject>"
	             "<body>line one\nline two\ttab\\ &#13;\xe2\x80\xae end</body></message>");
	struct xu_record rec;
	char want[256], *out;
	size_t len;
	const char *p;
	struct tu_json o;

	(void)state;
	assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_OK);
	assert_string_equal(rec.body, body);

	out = tr_format(&rec, XU_REC_TEXT, true, &len);
	snprintf(want, sizeof(want), "%s a@b.example/\\u{202E} chat: [s\nt] %s", ARRIVAL_TS, body);
	assert_int_equal(len, strlen(want) + 1);
	assert_memory_equal(out, want, len); /* the NUL included */
	free(out);

	/* the same without -0 is one escaped line */
	out = tr_format(&rec, XU_REC_TEXT, false, &len);
	tr_assert_one_safe_line(out, len, "text");
	assert_non_null(strstr(out, "line one\\nline two\\ttab\\\\ \\r\\u{202E} end\n"));
	free(out);

	out = tr_format(&rec, XU_REC_JSON, true, &len);
	assert_int_equal(out[len - 1], '\0');
	assert_int_equal(strlen(out), len - 1);
	p = out;
	assert_true(tu_json_parse(&p, &o));
	assert_ptr_equal(p, out + len - 1);
	tr_json_expect(&o, "body", body);
	tr_json_expect(&o, "subject", "s\nt");
	tu_json_free(&o);
	free(out);

	out = tr_format(&rec, XU_REC_XML, true, &len);
	assert_int_equal(out[len - 1], '\0');
	assert_int_equal(strlen(out), len - 1);
	assert_null(strchr(out, '\n'));
	assert_null(strchr(out, '\r'));
	assert_non_null(strstr(out, "line one&#10;line two"));
	free(out);

	xu_record_clear(&rec);
	xu_stanza_free(st);
}

/* XML records: one line, terminal-safe, and they parse back to the stanza as received. */
static void test_xml_one_line(void **state)
{
	struct xu_stanza *st =
	    tu_parse("<message from='a@b.example/\xe2\x80\xae' type='chat' id='x&#10;y'>\n  "
	             "<body>a\nb\r\nc&#13;d"
	             "\xc2\x9b\x7f</body>"
	             "\n  <x xmlns='urn:example:x' a='1&#9;2'>t\tu</x>\n</message>");
	struct xu_record rec;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_OK);
	out = tr_format(&rec, XU_REC_XML, false, &len);
	assert_int_equal(len, strlen(out));
	assert_int_equal(out[len - 1], '\n');
	assert_null(memchr(out, '\n', len - 1));
	assert_null(strchr(out, '\r'));
	tr_assert_one_safe_line(out, len, "xml");
	assert_non_null(strstr(out, "<body>a&#10;b&#10;c&#13;d&#155;&#127;</body>"));
	assert_non_null(strstr(out, " from='a@b.example/&#8238;'"));
	assert_non_null(strstr(out, " id='x&#10;y'"));
	assert_non_null(strstr(out, " a='1&#9;2'>t&#9;u</x>"));
	free(out);
	tr_xml_roundtrip(&rec);
	xu_record_clear(&rec);
	xu_stanza_free(st);
}

/* Only message and presence in jabber:client are records. */
static void test_not_records(void **state)
{
	static const char *const rows[] = {
	    "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
	    "<message xmlns='jabber:server'><body>x</body></message>",
	    "<presence xmlns='urn:example:p'/>",
	    "<Message><body>x</body></Message>",
	    "<r xmlns='urn:xmpp:sm:3'/>",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct xu_stanza *st = tu_parse(rows[i]);
		struct xu_record rec;

		assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_ERR_DATA);
		assert_null(rec.room);
		xu_record_clear(&rec);
		xu_stanza_free(st);
	}
}

/* A hand-built tree XML cannot carry: the XML record fails, text and JSON still work. */
static void test_unserialisable(void **state)
{
	struct xu_stanza *st = xu_stanza_new("message", NULL), *b;
	struct xu_record rec;
	char *out = NULL;
	size_t len;

	(void)state;
	assert_non_null(st);
	b = xu_stanza_add_new(st, "body", NULL);
	assert_non_null(b);
	assert_int_equal(xu_stanza_add_text(b, "bad \x1b[2J \xff", 10), XU_OK);
	assert_int_equal(xu_record_from_stanza(st, ARRIVAL, &rec), XU_OK);
	assert_int_equal(xu_record_format(&rec, XU_REC_XML, false, &out, &len), XU_ERR_DATA);
	assert_null(out);
	out = tr_format(&rec, XU_REC_TEXT, false, &len);
	tr_assert_one_safe_line(out, len, "text");
	assert_non_null(strstr(out, "bad \\x1b[2J \\xff\n"));
	free(out);
	out = tr_format(&rec, XU_REC_JSON, false, &len);
	tr_assert_one_safe_line(out, len, "json");
	assert_non_null(strstr(out, "\"body\":\"bad \\u001b[2J \xef\xbf\xbd\""));
	free(out);
	xu_record_clear(&rec);
	xu_stanza_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_terminal_vectors),  cmocka_unit_test(test_delay_stamps),
	    cmocka_unit_test(test_delay_choice),      cmocka_unit_test(test_time_against_gmtime),
	    cmocka_unit_test(test_arrival_clamped),   cmocka_unit_test(test_records),
	    cmocka_unit_test(test_presence_priority), cmocka_unit_test(test_nul_mode),
	    cmocka_unit_test(test_xml_one_line),      cmocka_unit_test(test_not_records),
	    cmocka_unit_test(test_unserialisable),    cmocka_unit_test(test_color),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
