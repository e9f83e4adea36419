/* record.c: received messages and presences as one-line records (RFC 6121 §4.7, §5.2; XEP-0203
 * delayed delivery; XEP-0082 §3.3 DateTime; RFC 8259 JSON; XEP-0045 §7.2 room/nick). */
#include "xu-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_MS_PER_DAY INT64_C(86400000)

/* The span a four-digit year can print: 0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z. */
#define REC_MS_MIN INT64_C(-62167219200000)
#define REC_MS_MAX INT64_C(253402300799999)

/* ---------------------------------------------------------------- time */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), because
 * timegm() is not POSIX and mktime() depends on the local zone. */
static int64_t rec_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void rec_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool rec_leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned rec_days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && rec_leap(y) ? 29 : dim[m - 1];
}

/* Unix milliseconds (within REC_MS_MIN..REC_MS_MAX) as "YYYY-MM-DDTHH:MM:SS[.mmm]Z". */
static void rec_put_time(int64_t ms, bool with_ms, char out[32])
{
	int64_t days = ms / REC_MS_PER_DAY, rem = ms % REC_MS_PER_DAY, y;
	unsigned m, d, sec;

	if (rem < 0) {
		rem += REC_MS_PER_DAY;
		days--;
	}
	rec_civil_from_days(days, &y, &m, &d);
	sec = (unsigned)(rem / 1000);
	if (with_ms)
		snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)y, m, d,
		         sec / 3600, sec / 60 % 60, sec % 60, (unsigned)(rem % 1000));
	else
		snprintf(out, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y, m, d, sec / 3600,
		         sec / 60 % 60, sec % 60);
}

bool xu_utc_stamp(int64_t ms, bool with_ms, char out[32])
{
	if (ms < REC_MS_MIN || ms > REC_MS_MAX)
		return false;
	rec_put_time(ms, with_ms, out);
	return true;
}

/* Exactly n ASCII digits at s; their value into *v. */
static bool rec_digits(const char *s, size_t n, unsigned *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

/*
 * XEP-0082 §3.3 DateTime, CCYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm|-hh:mm), as Unix milliseconds
 * (fractions truncated); *frac tells whether fractional seconds were given. Strict: exact
 * field widths, real calendar days, no leap second or 24:00, offsets within XML Schema's
 * ±14:00, and a result a four-digit year can hold.
 */
static bool rec_parse_stamp(const char *s, int64_t *ms, bool *frac)
{
	unsigned y, mo, d, h, mi, sec, oh = 0, om = 0, fms = 0, scale = 100;
	int64_t t;
	int sign = 0;

	if (strlen(s) < 20)
		return false;
	if (!rec_digits(s, 4, &y) || s[4] != '-' || !rec_digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !rec_digits(s + 8, 2, &d) || s[10] != 'T' || !rec_digits(s + 11, 2, &h) ||
	    s[13] != ':' || !rec_digits(s + 14, 2, &mi) || s[16] != ':' ||
	    !rec_digits(s + 17, 2, &sec))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > rec_days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 59)
		return false;
	s += 19;
	*frac = *s == '.';
	if (*frac) {
		s++;
		if (*s < '0' || *s > '9')
			return false;
		/* Digits past the millisecond are truncated, however many there are. */
		for (; *s >= '0' && *s <= '9'; s++) {
			fms += (unsigned)(*s - '0') * scale;
			scale /= 10;
		}
	}
	if (*s == 'Z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '+' ? 1 : -1;
		if (!rec_digits(s + 1, 2, &oh) || s[3] != ':' || !rec_digits(s + 4, 2, &om))
			return false;
		if (oh > 14 || om > 59 || (oh == 14 && om != 0))
			return false;
		s += 6;
	} else {
		return false;
	}
	if (*s != '\0')
		return false;
	t = rec_days_from_civil(y, mo, d) * REC_MS_PER_DAY +
	    (int64_t)(h * 3600 + mi * 60 + sec) * 1000 + fms -
	    (int64_t)sign * (int64_t)(oh * 60 + om) * 60000;
	if (t < REC_MS_MIN || t > REC_MS_MAX)
		return false;
	*ms = t;
	return true;
}

bool xu_utc_parse(const char *stamp, int64_t *unix_ms)
{
	bool frac;

	return rec_parse_stamp(stamp, unix_ms, &frac);
}

/* ---------------------------------------------------------------- filling a record */

static bool rec_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* RFC 6121 §4.7.2.3: an xs:byte (whitespace collapsed, optional sign); anything else, or a
 * value outside -128..127, counts as absent, so 0. */
static int rec_priority(const char *s)
{
	int v = 0, sign = 1;
	bool any = false;

	if (!s)
		return 0;
	while (rec_xml_space(*s))
		s++;
	if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		s++;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > 128)
			return 0;
		any = true;
	}
	while (rec_xml_space(*s))
		s++;
	if (!any || *s != '\0' || (sign == 1 && v > 127))
		return 0;
	return sign * v;
}

/* XEP-0045 §7.2.3: a groupchat message comes from room@service/nick. A from that is no JID
 * is still shown, as the room, so that nothing the peer sent is hidden. */
static enum xu_err rec_room_nick(struct xu_record *rec)
{
	struct xu_jid *jid = NULL;
	const char *res;
	enum xu_err err;

	err = xu_jid_parse(rec->from, &jid, NULL);
	if (err == XU_ERR_NOMEM)
		return err;
	if (err) {
		rec->room = strdup(rec->from);
		return rec->room ? XU_OK : XU_ERR_NOMEM;
	}
	rec->room = strdup(xu_jid_bare(jid));
	res = xu_jid_resource(jid);
	if (res)
		rec->nick = strdup(res);
	err = !rec->room || (res && !rec->nick) ? XU_ERR_NOMEM : XU_OK;
	xu_jid_free(jid);
	return err;
}

enum xu_err xu_record_from_stanza(const struct xu_stanza *st, int64_t arrival_ms,
                                  struct xu_record *rec)
{
	const struct xu_stanza *delay;
	const char *name, *stamp;
	int64_t ms;
	bool frac = false, msg;
	enum xu_err err;

	if (!rec)
		return XU_ERR_USAGE;
	memset(rec, 0, sizeof(*rec));
	if (!st)
		return XU_ERR_USAGE;
	name = xu_stanza_name(st);
	if (strcmp(xu_stanza_ns(st), XU_NS_CLIENT) != 0)
		return XU_ERR_DATA;
	if (strcmp(name, "message") == 0)
		msg = true;
	else if (strcmp(name, "presence") == 0)
		msg = false;
	else
		return XU_ERR_DATA;
	rec->kind = msg ? "message" : "presence";
	rec->stanza = st;
	rec->from = xu_stanza_attr(st, "from");
	rec->to = xu_stanza_attr(st, "to");
	rec->type = xu_stanza_attr(st, "type");
	/* RFC 6121 §5.2.2: a message without a type is a normal message; say so, so that
	 * readers need not know the default. */
	if (!rec->type && strcmp(xu_stanza_name(st), "message") == 0)
		rec->type = "normal";
	rec->id = xu_stanza_attr(st, "id");

	/* XEP-0203 §3: only the first delay counts; a stamp we cannot read is no delay at all,
	 * rather than a guess. */
	delay = xu_stanza_child(st, "delay", XU_NS_DELAY);
	stamp = delay ? xu_stanza_attr(delay, "stamp") : NULL;
	if (stamp && rec_parse_stamp(stamp, &ms, &frac)) {
		rec->delayed = true;
		rec_put_time(ms, frac, rec->timestamp);
	} else {
		/* Our own clock: clamped only so that the year keeps four digits. */
		ms = arrival_ms < REC_MS_MIN ? REC_MS_MIN : arrival_ms;
		ms = ms > REC_MS_MAX ? REC_MS_MAX : ms;
		rec_put_time(ms, true, rec->timestamp);
	}

	if (msg) {
		rec->body = xu_stanza_child_text(st, "body", XU_NS_CLIENT);
		rec->subject = xu_stanza_child_text(st, "subject", XU_NS_CLIENT);
		rec->thread = xu_stanza_child_text(st, "thread", XU_NS_CLIENT);
		if (rec->type && rec->from && strcmp(rec->type, "groupchat") == 0) {
			err = rec_room_nick(rec);
			if (err) {
				xu_record_clear(rec);
				return err;
			}
		}
	} else {
		rec->show = xu_stanza_child_text(st, "show", XU_NS_CLIENT);
		rec->status = xu_stanza_child_text(st, "status", XU_NS_CLIENT);
		rec->priority = rec_priority(xu_stanza_child_text(st, "priority", XU_NS_CLIENT));
	}
	return XU_OK;
}

void xu_record_clear(struct xu_record *rec)
{
	if (!rec)
		return;
	free(rec->room);
	free(rec->nick);
	memset(rec, 0, sizeof(*rec));
}

/* ---------------------------------------------------------------- formatting */

/* Text lines, to be read by people and by `cut`/`awk`: fields are escaped so that a record is
 * one line whatever the peer sent; with nul, body and subject go out byte-exact instead. */
static enum xu_err rec_text(const struct xu_record *rec, bool nul, bool color, struct xu_buf *b)
{
	enum xu_esc_mode line = XU_ESC_LINE;
	bool msg = strcmp(rec->kind, "message") == 0;
	enum xu_err err;

	/* Colour: the timestamp dim, the sender bold; the rest as it is. Our timestamp is
	 * ASCII, left as it is by escaping. */
	err = xu_buf_add_colored(b, color, XU_SGR_DIM, rec->timestamp, XU_ESC_IDENT);
	if (!err)
		err = xu_buf_adds(b, " ");
	/* "-" cannot be a JID (RFC 5892 forbids a leading hyphen), so it cannot be mistaken
	 * for a sender. */
	if (!err)
		err = xu_buf_add_colored(b, color, XU_SGR_BOLD, rec->from ? rec->from : "-",
		                         XU_ESC_IDENT);
	if (err)
		return err;
	if (!msg) {
		err = xu_buf_adds(b, " presence ");
		if (!err)
			err = rec->type ? xu_buf_add_escaped(b, rec->type, XU_ESC_IDENT)
			                : xu_buf_adds(b, "available");
		if (!err && rec->show) {
			err = xu_buf_adds(b, " ");
			if (!err)
				err = xu_buf_add_escaped(b, rec->show, XU_ESC_IDENT);
		}
		if (!err && rec->status) {
			err = xu_buf_adds(b, ": ");
			if (!err)
				err = xu_buf_add_escaped(b, rec->status, line);
		}
		return err;
	}
	err = xu_buf_adds(b, " ");
	/* RFC 6121 §5.2.2: no type means normal. */
	if (!err)
		err = rec->type ? xu_buf_add_escaped(b, rec->type, XU_ESC_IDENT)
		                : xu_buf_adds(b, "normal");
	if (!err && rec->delayed)
		err = xu_buf_adds(b, " (delayed)");
	if (!err)
		err = xu_buf_adds(b, ": ");
	if (!err && rec->subject) {
		err = xu_buf_adds(b, "[");
		if (!err)
			err = nul ? xu_buf_adds(b, rec->subject)
			          : xu_buf_add_escaped(b, rec->subject, line);
		if (!err)
			err = xu_buf_adds(b, "] ");
	}
	if (!err && rec->body)
		err = nul ? xu_buf_adds(b, rec->body) : xu_buf_add_escaped(b, rec->body, line);
	return err;
}

/* ,"key":"value" or ,"key":null; keys are ours and need no escaping. */
static enum xu_err rec_json_str(struct xu_buf *b, const char *key, const char *value)
{
	enum xu_err err = xu_buf_addf(b, ",\"%s\":", key);

	return err ? err : xu_buf_add_json(b, value);
}

static enum xu_err rec_json(const struct xu_record *rec, struct xu_buf *b)
{
	bool msg = strcmp(rec->kind, "message") == 0;
	enum xu_err err;

	err = xu_buf_addf(b, "{\"kind\":\"%s\"", msg ? "message" : "presence");
	if (!err)
		err = rec_json_str(b, "timestamp", rec->timestamp);
	if (!err)
		err = xu_buf_addf(b, ",\"delayed\":%s", rec->delayed ? "true" : "false");
	if (!err)
		err = rec_json_str(b, "from", rec->from);
	if (!err)
		err = rec_json_str(b, "to", rec->to);
	if (!err)
		err = rec_json_str(b, "type", rec->type);
	if (!err)
		err = rec_json_str(b, "id", rec->id);
	if (msg) {
		if (!err)
			err = rec_json_str(b, "body", rec->body);
		if (!err)
			err = rec_json_str(b, "subject", rec->subject);
		if (!err)
			err = rec_json_str(b, "thread", rec->thread);
	} else {
		if (!err)
			err = rec_json_str(b, "show", rec->show);
		if (!err)
			err = rec_json_str(b, "status", rec->status);
		if (!err)
			err = xu_buf_addf(b, ",\"priority\":%d", rec->priority);
	}
	if (!err)
		err = rec_json_str(b, "room", rec->room);
	if (!err)
		err = rec_json_str(b, "nick", rec->nick);
	if (!err)
		err = xu_buf_adds(b, "}");
	return err;
}

/* The stanza as XML on one line, safe for a terminal (stanza.c). */
static enum xu_err rec_xml(const struct xu_record *rec, struct xu_buf *b)
{
	return rec->stanza ? xu_buf_add_stanza_line(b, rec->stanza) : XU_ERR_USAGE;
}

enum xu_err xu_record_format(const struct xu_record *rec, enum xu_rec_format fmt, bool nul,
                             char **out, size_t *len)
{
	struct xu_buf b;
	enum xu_err err;

	if (!rec || !rec->kind || !out)
		return XU_ERR_USAGE;
	*out = NULL;
	if (len)
		*len = 0;
	xu_buf_init(&b, 0);
	switch (fmt) {
	case XU_REC_TEXT:
	case XU_REC_TEXT_COLOR:
		err = rec_text(rec, nul, fmt == XU_REC_TEXT_COLOR, &b);
		break;
	case XU_REC_JSON:
		err = rec_json(rec, &b);
		break;
	case XU_REC_XML:
		err = rec_xml(rec, &b);
		break;
	default:
		err = XU_ERR_USAGE;
		break;
	}
	/* The terminator is part of the record: with nul, the returned length counts the NUL. */
	if (!err)
		err = xu_buf_add(&b, nul ? "" : "\n", 1);
	if (!err)
		err = xu_buf_take(&b, out, len);
	xu_buf_free(&b);
	return err;
}

/* ---------------------------------------------------------------- named fields */

/* Colour: the first field (what the line is about) bold. */
static enum xu_err rec_field(struct xu_buf *b, const char *v, enum xu_rec_format fmt, bool first)
{
	if (fmt == XU_REC_JSON)
		return xu_buf_add_json(b, v);
	return xu_buf_add_colored(b, first && fmt == XU_REC_TEXT_COLOR, XU_SGR_BOLD, v,
	                          XU_ESC_LINE);
}

enum xu_err xu_fields_format(enum xu_rec_format fmt, const struct xu_stanza *st,
                             const char *const *keys, const char *const *vals, size_t n, char **out,
                             size_t *len)
{
	struct xu_buf b;
	enum xu_err err = XU_OK;
	size_t i;

	xu_buf_init(&b, 0);
	if (fmt == XU_REC_XML) {
		err = st ? xu_buf_add_stanza_line(&b, st) : XU_ERR_USAGE;
	} else {
		if (fmt == XU_REC_JSON)
			err = xu_buf_adds(&b, "{");
		for (i = 0; !err && i < n; i++) {
			if (i)
				err = xu_buf_adds(&b, fmt == XU_REC_JSON ? "," : "\t");
			if (!err && fmt == XU_REC_JSON)
				err = xu_buf_addf(&b, "\"%s\":", keys[i]);
			if (!err)
				err = rec_field(&b, vals[i], fmt, i == 0);
		}
		if (!err && fmt == XU_REC_JSON)
			err = xu_buf_adds(&b, "}");
	}
	if (!err)
		err = xu_buf_adds(&b, "\n");
	if (!err)
		err = xu_buf_take(&b, out, len);
	xu_buf_free(&b);
	return err;
}
