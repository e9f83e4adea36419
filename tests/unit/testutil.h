/* testutil.h: helpers shared by the unit tests and the fuzz targets: UTF-8 (RFC 3629), hex, files,
 * a strict JSON reader (RFC 8259), stanza tree equality and the output-escaping properties. */
#ifndef XU_TESTUTIL_H
#define XU_TESTUTIL_H

/* No cmocka in here, so the fuzz targets can link it too: failures come back as values (NULL,
 * false or a reason) for the caller to assert on, or to abort on. */

#include "xu-int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- UTF-8 and hex */

/* Encode cp (at most U+10FFFF) as UTF-8 into out (room for 4 bytes); returns the length. */
size_t tu_utf8_put(uint32_t cp, char *out);
/* Strict decode by RFC 3629 §4 byte ranges (not xu_utf8_decode's): the length, 0 when invalid. */
size_t tu_utf8_decode(const char *s, size_t len, uint32_t *cp);
/* True when all len bytes of s are valid UTF-8 (by tu_utf8_decode). */
bool tu_utf8_valid(const char *s, size_t len);
/* The value of hex digit c (either case), or -1. */
int tu_hex_digit(char c);
/* The value of the n (at most 8) hex digits at p into *v; false when one of them is not hex. */
bool tu_hex_value(const char *p, size_t n, uint32_t *v);
/* hexlen hex digits as malloc'ed bytes (NUL-terminated, *len of them); NULL if not hex or odd. */
char *tu_unhex(const char *hex, size_t hexlen, size_t *len);

/* ---------------------------------------------------------------- files */

/* A whole file, malloc'ed and NUL-terminated, *len bytes (len may be NULL); NULL if unreadable. */
char *tu_read_file(const char *path, size_t *len);
/* Next line at *cursor, neither empty nor a '#' comment, NUL-terminated in place; NULL at end. */
char *tu_next_line(char **cursor);

/* ---------------------------------------------------------------- JSON */

enum tu_json_type {
	TU_JSON_NULL,
	TU_JSON_FALSE,
	TU_JSON_TRUE,
	TU_JSON_NUM,
	TU_JSON_STR,
	TU_JSON_ARR,
	TU_JSON_OBJ,
};

/* One parsed JSON value; tu_json_free releases what it holds. */
struct tu_json {
	enum tu_json_type type;
	char *str;            /* TU_JSON_STR decoded (may hold NULs), TU_JSON_NUM as written */
	size_t len;           /* of str */
	char **keys;          /* TU_JSON_OBJ: the n member names */
	struct tu_json *vals; /* TU_JSON_OBJ, TU_JSON_ARR: the n values */
	size_t n;
};

/* Strictly decode the JSON string (RFC 8259 §7) at *pp into malloc'ed *out, *pp past it. */
bool tu_json_string(const char **pp, char **out, size_t *len);
/* Parse one JSON value at *pp into v, *pp past it; false (nothing to free) when malformed. */
bool tu_json_parse(const char **pp, struct tu_json *v);
/* A file holding one JSON value; false when unreadable or malformed. */
bool tu_json_load(const char *path, struct tu_json *v);
/* A JSON Lines file as one array, an element a line; false when unreadable or malformed. */
bool tu_json_load_lines(const char *path, struct tu_json *v);
/* Free what v holds (v itself is the caller's). */
void tu_json_free(struct tu_json *v);
/* Member key of object o; NULL when absent or o is not an object. */
const struct tu_json *tu_json_get(const struct tu_json *o, const char *key);
/* Member key of object o when it is a string; NULL otherwise. */
const char *tu_json_str(const struct tu_json *o, const char *key);
/* Member key of object o when it is a whole number that fits a long, into *v; false otherwise. */
bool tu_json_long(const struct tu_json *o, const char *key, long *v);

/* ---------------------------------------------------------------- stanzas */

/* Equal through the public API: name, namespace, attributes in order, text, children. */
bool tu_stanza_equal(const struct xu_stanza *a, const struct xu_stanza *b);
/* The one stanza xml holds, parsed as xmpp-send --xml input is; NULL (and *why) otherwise. */
struct xu_stanza *tu_stanza_one(const char *xml, const char **why);
/* The same for test tables written by hand: a fixture that does not parse aborts the test. */
struct xu_stanza *tu_parse(const char *xml);
/* A stream header (version 1.0, xml:lang en, jabber:client): what tu_stanza_reparse feeds first. */
#define TU_STREAM_HDR                                                                              \
	"<?xml version='1.0'?><stream:stream to='example.test' version='1.0' xml:lang='en' "       \
	"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
/* Parse xml as the stream parser does (lim); XU_OK when it is exactly one stanza, into *out. */
enum xu_err tu_stanza_reparse(const char *xml, size_t len, const struct xu_xml_limits *lim,
                              struct xu_stanza **out);

/* ---------------------------------------------------------------- output escaping */

/* The first thing in s that must never reach a terminal raw in mode (json: any control); or NULL.
 */
const char *tu_unsafe_output(const char *s, size_t len, enum xu_esc_mode mode, bool json);
/* What is wrong with out = xu_escape(in, len, mode) (unsafe, or loses data); NULL if nothing. */
const char *tu_escape_problem(const char *in, size_t len, enum xu_esc_mode mode, const char *out);
/* What is wrong with out = xu_json_escape(in, len) (unsafe, or loses data); NULL if nothing. */
const char *tu_json_escape_problem(const char *in, size_t len, const char *out);

#endif
