/* test_xml.c: the stream parser (lib/xml.c): events, restricted XML (RFC 6120 §11), limits,
 * chunking independence, the hostile-server vectors, xu_stanza_parse_list. */
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

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define NS_STREAM_DECL "xmlns:stream='http://etherx.jabber.org/streams'"
#define HDR                                                                                        \
	"<?xml version='1.0'?><stream:stream from='example.test' id='s1' version='1.0' "           \
	"xml:lang='en' xmlns='jabber:client' " NS_STREAM_DECL ">"
#define HDR_EV                                                                                     \
	"O<stream xmlns='http://etherx.jabber.org/streams' from='example.test' id='s1' "           \
	"version='1.0' xml:lang='en'/>\n"
#define SENTINEL "<presence from='sentinel@example.test/x'/>"

/* Inputs up to this size are split at every byte boundary; larger ones at a sample. */
#define SPLIT_ALL_MAX 4096
/* One byte at a time for at most this many bytes, then the rest in one piece. */
#define BYTEWISE_MAX (1024 * 1024)
#define LOG_MAX (64 * 1024)

/* ---------------------------------------------------------------- a recording run */

struct run {
	struct xu_xml *x;
	enum xu_err err;
	const char *cond;
	char msg[256];
	size_t opens, stanzas, closes;
	uint64_t digest;   /* FNV-1a over every event, however long the run */
	struct xu_buf log; /* the events, one a line, while under LOG_MAX */
	struct xu_stanza *first, *last;
	bool restart_on_proceed;
	bool handler_oom;
};

static void run_event(struct run *r, char kind, const struct xu_stanza *st)
{
	struct xu_buf b;
	size_t i;

	xu_buf_init(&b, 0);
	if (xu_buf_add(&b, &kind, 1) || (st && xu_stanza_write(st, XU_NS_CLIENT, &b) != XU_OK) ||
	    xu_buf_add(&b, "\n", 1)) {
		r->handler_oom = true;
		xu_buf_free(&b);
		return;
	}
	for (i = 0; i < b.len; i++) {
		r->digest ^= (unsigned char)b.data[i];
		r->digest *= 0x100000001b3ULL;
	}
	if (r->log.len + b.len <= LOG_MAX)
		xu_buf_add(&r->log, b.data, b.len);
	xu_buf_free(&b);
}

static enum xu_err run_open(void *ctx, const struct xu_stanza *hdr)
{
	struct run *r = ctx;

	r->opens++;
	run_event(r, 'O', hdr);
	return XU_OK;
}

static enum xu_err run_stanza(void *ctx, struct xu_stanza *st)
{
	struct run *r = ctx;

	r->stanzas++;
	run_event(r, 'S', st);
	if (!r->first) {
		r->first = st;
	} else {
		xu_stanza_free(r->last);
		r->last = st;
	}
	if (r->restart_on_proceed && strcmp(xu_stanza_name(st), "proceed") == 0)
		return xu_xml_restart(r->x);
	return XU_OK;
}

static enum xu_err run_close(void *ctx)
{
	struct run *r = ctx;

	r->closes++;
	run_event(r, 'C', NULL);
	return XU_OK;
}

static void run_init(struct run *r, const struct xu_xml_limits *lim)
{
	struct xu_xml_handlers h = {0};

	memset(r, 0, sizeof(*r));
	r->digest = 0xcbf29ce484222325ULL;
	xu_buf_init(&r->log, 0);
	h.ctx = r;
	h.open = run_open;
	h.stanza = run_stanza;
	h.close = run_close;
	assert_int_equal(xu_xml_new(&h, lim, &r->x), XU_OK);
}

static void run_done(struct run *r)
{
	xu_xml_free(r->x);
	xu_stanza_free(r->first);
	xu_stanza_free(r->last);
	xu_buf_free(&r->log);
	r->x = NULL;
}

static const char *run_log(const struct run *r)
{
	return r->log.data ? r->log.data : "";
}

static void run_feed(struct run *r, const char *in, size_t len)
{
	if (r->err)
		return;
	r->err = xu_xml_feed(r->x, in, len);
	if (r->err) {
		r->cond = xu_xml_condition(r->x);
		snprintf(r->msg, sizeof(r->msg), "%s", xu_xml_errmsg(r->x));
	}
}

enum feed_mode {
	FEED_WHOLE,
	FEED_SPLIT,    /* two pieces, cut at `at` */
	FEED_BYTEWISE, /* one byte at a time (up to BYTEWISE_MAX) */
};

static void run_input(struct run *r, const struct xu_xml_limits *lim, const char *in, size_t len,
                      enum feed_mode mode, size_t at)
{
	size_t i;

	run_init(r, lim);
	switch (mode) {
	case FEED_WHOLE:
		run_feed(r, in, len);
		break;
	case FEED_SPLIT:
		run_feed(r, in, at);
		run_feed(r, in + at, len - at);
		break;
	case FEED_BYTEWISE:
		for (i = 0; i < len && i < BYTEWISE_MAX && !r->err; i++)
			run_feed(r, in + i, 1);
		if (i < len)
			run_feed(r, in + i, len - i);
		break;
	}
}

static bool run_same(const struct run *a, const struct run *b)
{
	if (a->err != b->err || a->opens != b->opens || a->stanzas != b->stanzas ||
	    a->closes != b->closes || a->digest != b->digest || a->handler_oom || b->handler_oom)
		return false;
	if (!a->cond || !b->cond)
		return a->cond == b->cond;
	return strcmp(a->cond, b->cond) == 0 && strcmp(a->msg, b->msg) == 0;
}

static size_t split_count(size_t len)
{
	if (len <= SPLIT_ALL_MAX)
		return len ? len - 1 : 0;
	return len > 4 * 1024 * 1024 ? 2 : 64 + 15 + 64;
}

/* The k-th cut of a split run: every boundary for small inputs; for large ones the first 64,
 * 15 spread evenly and the last 64 (beyond 4 MiB: two cuts, at a third and two thirds). */
static size_t split_at(size_t len, size_t k)
{
	if (len <= SPLIT_ALL_MAX)
		return k + 1;
	if (len > 4 * 1024 * 1024)
		return len / 3 * (k + 1);
	if (k < 64)
		return k + 1;
	if (k < 64 + 15)
		return len / 16 * (k - 64 + 1);
	return len - 64 + (k - 64 - 15);
}

/*
 * Feed `in` whole into *whole (left for the caller to inspect and run_done), then split in two
 * at every boundary (or a sample) and one byte at a time: every way must give the same events
 * and the same verdict.
 */
static void run_all_ways(struct run *whole, const struct xu_xml_limits *lim, const char *in,
                         size_t len, const char *label)
{
	struct run r;
	size_t k, n = split_count(len), at;

	run_input(whole, lim, in, len, FEED_WHOLE, 0);
	for (k = 0; k < n; k++) {
		at = split_at(len, k);
		run_input(&r, lim, in, len, FEED_SPLIT, at);
		if (!run_same(whole, &r)) {
			print_error(
			    "%s: split at %zu: err %d/%d cond %s/%s stanzas %zu/%zu\n%s\n--\n%s\n",
			    label, at, whole->err, r.err, whole->cond ? whole->cond : "-",
			    r.cond ? r.cond : "-", whole->stanzas, r.stanzas, run_log(whole),
			    run_log(&r));
			run_done(&r);
			fail();
		}
		run_done(&r);
	}
	run_input(&r, lim, in, len, FEED_BYTEWISE, 0);
	if (!run_same(whole, &r)) {
		print_error("%s: bytewise: err %d/%d cond %s/%s (%s)\n", label, whole->err, r.err,
		            whole->cond ? whole->cond : "-", r.cond ? r.cond : "-", r.msg);
		run_done(&r);
		fail();
	}
	run_done(&r);
}

/* ---------------------------------------------------------------- table-driven streams */

struct stream_case {
	const char *name;
	const char *in;
	size_t len;         /* 0: strlen(in) */
	const char *cond;   /* NULL: accepted */
	const char *events; /* the expected event log */
};

#define BIN(s) s, sizeof(s) - 1

static const struct stream_case stream_cases[] = {
    {"header only", HDR, 0, NULL, HDR_EV},
    {"header and close", HDR "</stream:stream>", 0, NULL, HDR_EV "C\n"},
    {"self-closing header", "<stream:stream xmlns='jabber:client' " NS_STREAM_DECL "/>", 0, NULL,
     "O<stream xmlns='http://etherx.jabber.org/streams'/>\nC\n"},
    {"UTF-8 BOM and declaration",
     BIN("\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\" "
         "standalone='yes'?>\n<stream:stream xmlns='jabber:client' " NS_STREAM_DECL " to='b'>"),
     NULL, "O<stream xmlns='http://etherx.jabber.org/streams' to='b'/>\n"},
    {"whitespace in prolog, between stanzas and after close",
     "\n <stream:stream xmlns='jabber:client' " NS_STREAM_DECL "> \r\n\t<presence/>  "
     "<presence/>\n</stream:stream>\n ",
     0, NULL,
     "O<stream xmlns='http://etherx.jabber.org/streams'/>\nS<presence/>\nS<presence/>\nC\n"},
    {"message", HDR "<message to='a@b' type='chat'><body>hi &amp; bye</body></message>", 0, NULL,
     HDR_EV "S<message to='a@b' type='chat'><body>hi &amp; bye</body></message>\n"},
    {"child namespace", HDR "<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>", 0, NULL,
     HDR_EV "S<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>\n"},
    {"prefixed children",
     HDR "<iq xmlns:r='jabber:iq:roster'><r:query><r:item jid='x'/><item/></r:query></iq>", 0, NULL,
     HDR_EV "S<iq><query xmlns='jabber:iq:roster'><item jid='x'/><item "
            "xmlns='jabber:client'/></query></iq>\n"},
    {"prefixed top-level element", HDR "<c:message xmlns:c='jabber:client'/>", 0, NULL,
     HDR_EV "S<message/>\n"},
    {"top-level element in another namespace", HDR "<a xmlns='urn:xmpp:sm:3' h='1'/>", 0, NULL,
     HDR_EV "S<a xmlns='urn:xmpp:sm:3' h='1'/>\n"},
    {"stream prefix inside the stream",
     HDR "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>", 0,
     NULL,
     HDR_EV "S<features xmlns='http://etherx.jabber.org/streams'><bind "
            "xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></features>\n"},
    {"xml:lang", HDR "<message xml:lang='de'><body xml:lang='en'>x</body></message>", 0, NULL,
     HDR_EV "S<message xml:lang='de'><body xml:lang='en'>x</body></message>\n"},
    {"namespaced attribute", HDR "<message xmlns:p='urn:p' p:a='1' b='2'/>", 0, NULL,
     HDR_EV "S<message xmlns:ns0='urn:p' ns0:a='1' b='2'/>\n"},
    {"'&' in namespace names",
     HDR "<message><x xmlns='urn:a&amp;b' xmlns:p='urn:c&#38;d' p:y='&amp;'/></message>", 0, NULL,
     HDR_EV "S<message><x xmlns='urn:a&amp;b' xmlns:ns0='urn:c&amp;d' ns0:y='&amp;'/></message>\n"},
    {"no namespace", HDR "<message><x xmlns=''><y/></x></message>", 0, NULL,
     HDR_EV "S<message><x xmlns=''><y/></x></message>\n"},
    {"text merging: CDATA, entities, char refs",
     HDR "<message><body>a<![CDATA[b<c]]>d&amp;e&#x41;&#66;&lt;&gt;&quot;&apos;</body></message>",
     0, NULL, HDR_EV "S<message><body>ab&lt;cd&amp;eAB&lt;&gt;\"'</body></message>\n"},
    {"mixed content", HDR "<message><body>a<b/>c<i>d</i>e</body></message>", 0, NULL,
     HDR_EV "S<message><body>a<b/>c<i>d</i>e</body></message>\n"},
    {"attribute escapes", HDR "<message to='a&amp;b&lt;&#38;&quot;\"&gt;'/>", 0, NULL,
     HDR_EV "S<message to='a&amp;b&lt;&amp;&quot;&quot;&gt;'/>\n"},
    {"attribute whitespace", HDR "<message a='x&#10;y&#9;z&#13;' b='x\ny\tz'/>", 0, NULL,
     HDR_EV "S<message a='x&#10;y&#9;z&#13;' b='x y z'/>\n"},
    {"CR LF in text", HDR "<message><body>a\r\nb\rc&#13;</body></message>", 0, NULL,
     HDR_EV "S<message><body>a\nb\nc&#13;</body></message>\n"},
    {"empty element with end tag", HDR "<presence></presence><presence ></presence >", 0, NULL,
     HDR_EV "S<presence/>\nS<presence/>\n"},
    {"non-ASCII text and names",
     HDR "<message><body>\xC3\xA9\xE2\x82\xAC\xF0\x9D\x9C\x8D</body><\xC3\xA9l\xC3\xA9ment/>"
         "</message>",
     0, NULL,
     HDR_EV "S<message><body>\xC3\xA9\xE2\x82\xAC\xF0\x9D\x9C\x8D</body><\xC3\xA9l\xC3\xA9ment/>"
            "</message>\n"},
    {"relative namespace URI is only a warning", HDR "<message><x xmlns='rel'/></message>", 0, NULL,
     HDR_EV "S<message><x xmlns='rel'/></message>\n"},

    /* restricted XML (RFC 6120 §11.1) */
    {"DOCTYPE", "<?xml version='1.0'?><!DOCTYPE stream:stream>" HDR, 0, "restricted-xml", ""},
    {"internal subset", "<!DOCTYPE s [<!ENTITY x 'y'>]>" HDR, 0, "restricted-xml", ""},
    {"comment in prolog", "<!-- hi -->" HDR, 0, "restricted-xml", ""},
    {"comment between stanzas", HDR "<!-- hi --><presence/>", 0, "restricted-xml", HDR_EV},
    {"comment in a stanza", HDR "<message><!-- hi --></message>", 0, "restricted-xml", HDR_EV},
    {"ELEMENT declaration in a stanza", HDR "<message><!ELEMENT x ANY></message>", 0,
     "restricted-xml", HDR_EV},
    {"PI in prolog", "<?foo bar?>" HDR, 0, "restricted-xml", ""},
    {"PI in a stanza", HDR "<message><?foo bar?></message>", 0, "restricted-xml", HDR_EV},
    {"PI named like xml", HDR "<message><?xml-stylesheet href='a'?></message>", 0, "restricted-xml",
     HDR_EV},
    {"entity reference", HDR "<message><body>&foo;</body></message>", 0, "not-well-formed", HDR_EV},
    {"entity reference in attribute", HDR "<message to='&foo;'/>", 0, "not-well-formed", HDR_EV},
    {"latin1 encoding", "<?xml version='1.0' encoding='ISO-8859-1'?>" HDR, 0,
     "unsupported-encoding", ""},
    {"UTF-16LE BOM", BIN("\xFF\xFE<\0s\0"), "unsupported-encoding", ""},
    {"UTF-16BE BOM", BIN("\xFE\xFF\0<\0s"), "unsupported-encoding", ""},
    {"UTF-16BE without BOM", BIN("\0<\0s"), "unsupported-encoding", ""},
    {"broken BOM", BIN("\xEF\xBB<s/>"), "not-well-formed", ""},
    {"XML 1.1", "<?xml version='1.1'?>" HDR, 0, "not-well-formed", ""},
    {"declaration without version", "<?xml encoding='UTF-8'?>" HDR, 0, "not-well-formed", ""},
    {"declaration after whitespace", " <?xml version='1.0'?>" HDR, 0, "not-well-formed", ""},
    {"declaration after the header", HDR "<?xml version='1.0'?>", 0, "not-well-formed", HDR_EV},

    /* well-formedness and namespaces */
    {"stray end tag", HDR "</foo>", 0, "not-well-formed", HDR_EV},
    {"end tag before the stream", "</foo>", 0, "not-well-formed", ""},
    {"mismatched end tag", HDR "<message><body>hi</message>", 0, "not-well-formed", HDR_EV},
    {"unbound prefix", HDR "<foo:bar/>", 0, "not-well-formed", HDR_EV},
    {"unbound attribute prefix", HDR "<message foo:a='1'/>", 0, "not-well-formed", HDR_EV},
    {"duplicate attribute", HDR "<message a='1' a='2'/>", 0, "not-well-formed", HDR_EV},
    {"duplicate attribute via namespaces",
     HDR "<message xmlns:p='urn:x' xmlns:q='urn:x' p:a='1' q:a='2'/>", 0, "not-well-formed",
     HDR_EV},
    {"'<' in attribute value", HDR "<message a='<'/>", 0, "not-well-formed", HDR_EV},
    {"invalid UTF-8", HDR "<message><body>\xC3\x28</body></message>", 0, "not-well-formed", HDR_EV},
    {"overlong '<'", HDR "<message><body>\xC0\xBC</body></message>", 0, "not-well-formed", HDR_EV},
    {"truncated sequence before '<'", HDR "<message><body>\xE2\x82</body></message>", 0,
     "not-well-formed", HDR_EV},
    {"overlong '<' in CDATA",
     HDR "<message><body><![CDATA[a\xC0\xBC"
         "b]]></body></message>",
     0, "not-well-formed", HDR_EV},
    {"3-byte overlong '<' in CDATA", HDR "<message><body><![CDATA[\xE0\x80\xBC]]></body></message>",
     0, "not-well-formed", HDR_EV},
    {"surrogate in CDATA", HDR "<message><body><![CDATA[\xED\xA0\x80]]></body></message>", 0,
     "not-well-formed", HDR_EV},
    {"NUL in text", BIN(HDR "<message><body>a\0b</body></message>"), "not-well-formed", HDR_EV},
    {"NUL in attribute", BIN(HDR "<message to='a\0b'/>"), "not-well-formed", HDR_EV},
    {"char ref to ESC", HDR "<message><body>&#x1B;</body></message>", 0, "not-well-formed", HDR_EV},
    {"unterminated char ref", HDR "<message><body>&#x41</body></message>", 0, "not-well-formed",
     HDR_EV},
    {"missing space between attributes", HDR "<message a='1'b='2'/>", 0, "not-well-formed", HDR_EV},
    {"unquoted attribute", HDR "<message a=1/>", 0, "not-well-formed", HDR_EV},
    {"space after '<'", HDR "< message/>", 0, "not-well-formed", HDR_EV},
    {"text between stanzas", HDR "hello<presence/>", 0, "bad-format", HDR_EV},
    {"entity between stanzas", HDR "&amp;", 0, "bad-format", HDR_EV},
    {"CDATA between stanzas", HDR "<![CDATA[x]]>", 0, "bad-format", HDR_EV},
    {"text before the stream", "hello" HDR, 0, "not-well-formed", ""},
    {"element after the stream", HDR "</stream:stream><presence/>", 0, "not-well-formed",
     HDR_EV "C\n"},
    {"text after the stream", HDR "</stream:stream>x", 0, "not-well-formed", HDR_EV "C\n"},

    /* the stream element (RFC 6120 §4.8) */
    {"wrong stream namespace", "<stream:stream xmlns='jabber:client' xmlns:stream='urn:x'>", 0,
     "invalid-namespace", ""},
    {"jabber:server content namespace", "<stream:stream xmlns='jabber:server' " NS_STREAM_DECL ">",
     0, "invalid-namespace", ""},
    {"no content namespace", "<stream:stream " NS_STREAM_DECL ">", 0, "invalid-namespace", ""},
    {"stream element without prefix",
     "<stream xmlns='http://etherx.jabber.org/streams'><x/></stream>", 0, "invalid-namespace", ""},
    {"wrong stream element name", "<stream:strea xmlns='jabber:client' " NS_STREAM_DECL ">", 0,
     "bad-format", ""},
    {"a stanza instead of a stream", "<message xmlns='jabber:client'/>", 0, "invalid-namespace",
     ""},
};

static void test_stream_cases(void **state)
{
	size_t i, len;
	struct run r;

	for (i = 0; i < sizeof(stream_cases) / sizeof(stream_cases[0]); i++) {
		const struct stream_case *c = &stream_cases[i];

		len = c->len ? c->len : strlen(c->in);
		run_all_ways(&r, NULL, c->in, len, c->name);
		if ((c->cond == NULL) != (r.err == XU_OK) ||
		    (c->cond &&
		     (r.err != XU_ERR_PROTO || !r.cond || strcmp(c->cond, r.cond) != 0)) ||
		    strcmp(c->events, run_log(&r)) != 0) {
			print_error(
			    "case '%s': err %d cond %s (%s), events:\n%s\nexpected %s:\n%s\n",
			    c->name, r.err, r.cond ? r.cond : "-", r.msg, run_log(&r),
			    c->cond ? c->cond : "accept", c->events);
			run_done(&r);
			fail();
		}
		if (c->cond)
			assert_true(r.msg[0] != '\0');
		run_done(&r);
	}
}

/* What the tree looks like, not only what it serialises to. */
static void test_tree_from_stream(void **state)
{
	static const char in[] = HDR "<message xml:lang='de' xmlns:p='urn:p' p:x='1' to='a'>"
	                             "<body>hi</body><p:q/><r xmlns='urn:r'><s/></r></message>";
	struct xu_stanza *st, *c;
	const char *n, *v;
	struct run r;

	run_all_ways(&r, NULL, in, sizeof(in) - 1, "tree");
	assert_int_equal(r.err, XU_OK);
	st = r.first;
	assert_non_null(st);
	assert_string_equal(xu_stanza_name(st), "message");
	assert_string_equal(xu_stanza_ns(st), XU_NS_CLIENT);
	assert_string_equal(xu_stanza_attr(st, "xml:lang"), "de");
	assert_string_equal(xu_stanza_attr(st, "{urn:p}x"), "1");
	assert_null(xu_stanza_attr(st, "xmlns:p"));
	assert_int_equal(xu_stanza_attr_count(st), 3);
	xu_stanza_attr_at(st, 2, &n, &v);
	assert_string_equal(n, "to");
	assert_string_equal(v, "a");
	assert_string_equal(xu_stanza_child_text(st, "body", XU_NS_CLIENT), "hi");
	c = xu_stanza_child(st, "q", NULL);
	assert_non_null(c);
	assert_string_equal(xu_stanza_ns(c), "urn:p");
	c = xu_stanza_child(st, "r", "urn:r");
	assert_non_null(c);
	assert_string_equal(xu_stanza_ns(xu_stanza_first(c)), "urn:r");
	assert_null(xu_stanza_parent(st));
	run_done(&r);
}

static void test_header_attrs(void **state)
{
	struct run r;
	struct xu_stanza *hdr;
	size_t i, n;
	char *out;

	/* The open handler's header is borrowed: check it through its serialisation. */
	run_all_ways(&r, NULL, HDR, strlen(HDR), "header");
	assert_int_equal(r.err, XU_OK);
	assert_int_equal(r.opens, 1);
	assert_string_equal(run_log(&r), HDR_EV);
	run_done(&r);
	/* Its attributes come out as parsed, and xml:lang under that name. */
	hdr = xu_stanza_new("stream", XU_NS_STREAMS);
	assert_int_equal(xu_stanza_set_attr(hdr, "from", "example.test"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(hdr, "id", "s1"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(hdr, "version", "1.0"), XU_OK);
	assert_int_equal(xu_stanza_set_attr(hdr, "xml:lang", "en"), XU_OK);
	assert_int_equal(xu_stanza_to_xml(hdr, &out, &n), XU_OK);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i], HDR_EV[i + 1]);
	free(out);
	xu_stanza_free(hdr);
}

/* ---------------------------------------------------------------- limits */

static char *make_stanza(size_t total, size_t *len)
{
	static const char head[] = "<message to='a@example.test'><body>";
	static const char tail[] = "</body></message>";
	size_t hl = strlen(HDR), n = total - (sizeof(head) - 1) - (sizeof(tail) - 1);
	char *s = malloc(hl + total + 1);

	assert_non_null(s);
	memcpy(s, HDR, hl);
	memcpy(s + hl, head, sizeof(head) - 1);
	memset(s + hl + sizeof(head) - 1, 'x', n);
	memcpy(s + hl + sizeof(head) - 1 + n, tail, sizeof(tail));
	*len = hl + total;
	return s;
}

static void test_stanza_size(void **state)
{
	static const struct {
		size_t size;
		bool ok;
	} cases[] = {
	    {100 * 1024, true},      {255 * 1024, true},  {256 * 1024, true},
	    {256 * 1024 + 1, false}, {257 * 1024, false},
	};
	struct run r;
	size_t i, len;
	char *s, label[64];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = make_stanza(cases[i].size, &len);
		snprintf(label, sizeof(label), "%zu-byte stanza", cases[i].size);
		run_all_ways(&r, NULL, s, len, label);
		if (cases[i].ok) {
			assert_int_equal(r.err, XU_OK);
			assert_int_equal(r.stanzas, 1);
			assert_int_equal(strlen(xu_stanza_child_text(r.first, "body", NULL)),
			                 cases[i].size - 52);
		} else {
			assert_int_equal(r.err, XU_ERR_PROTO);
			assert_string_equal(r.cond, "policy-violation");
			assert_int_equal(r.stanzas, 0);
		}
		run_done(&r);
		free(s);
	}
}

static void test_set_max_stanza(void **state)
{
	static const char one[] = "<message to='a'><body>0123456789</body></message>"; /* 49 */
	struct run r;
	size_t i;

	for (i = 0; i < 3; i++) {
		run_init(&r, NULL);
		run_feed(&r, HDR, strlen(HDR));
		/* XEP-0478: the server announced <max-bytes/>; the cap applies from now on. */
		xu_xml_set_max_stanza(r.x, 48 + i);
		run_feed(&r, one, strlen(one));
		if (i == 0) {
			assert_int_equal(r.err, XU_ERR_PROTO);
			assert_string_equal(r.cond, "policy-violation");
		} else {
			assert_int_equal(r.err, XU_OK);
			assert_int_equal(r.stanzas, 1);
		}
		run_done(&r);
	}
}

/* The stream header counts too: 16 MiB of attribute in the header is stopped at the cap. */
static void test_header_size(void **state)
{
	size_t n = 300 * 1024;
	char *s = malloc(n + 64);
	struct run r;

	assert_non_null(s);
	strcpy(s, "<stream:stream to='");
	memset(s + strlen(s), 'a', n);
	s[19 + n] = '\0';
	run_input(&r, NULL, s, strlen(s), FEED_WHOLE, 0);
	assert_int_equal(r.err, XU_ERR_PROTO);
	assert_string_equal(r.cond, "policy-violation");
	run_done(&r);
	free(s);
}

static char *make_nested(unsigned levels, size_t *len)
{
	struct xu_buf b;
	unsigned i;
	char *s;

	xu_buf_init(&b, 0);
	assert_int_equal(xu_buf_adds(&b, HDR), XU_OK);
	for (i = 0; i < levels; i++)
		assert_int_equal(xu_buf_adds(&b, i ? "<a>" : "<message>"), XU_OK);
	for (i = levels; i-- > 0;)
		assert_int_equal(xu_buf_adds(&b, i ? "</a>" : "</message>"), XU_OK);
	assert_int_equal(xu_buf_take(&b, &s, len), XU_OK);
	return s;
}

static void test_depth(void **state)
{
	struct xu_xml_limits lim = {256 * 1024, 5, 64};
	struct run r;
	size_t len;
	char *s;

	s = make_nested(64, &len);
	run_all_ways(&r, NULL, s, len, "depth 64");
	assert_int_equal(r.err, XU_OK);
	assert_int_equal(r.stanzas, 1);
	run_done(&r);
	free(s);

	s = make_nested(65, &len);
	run_all_ways(&r, NULL, s, len, "depth 65");
	assert_int_equal(r.err, XU_ERR_PROTO);
	assert_string_equal(r.cond, "policy-violation");
	run_done(&r);
	/* Zero limits mean the defaults, not "nothing allowed" or "no limit". */
	{
		struct xu_xml_limits zero = {0, 0, 0};

		run_input(&r, &zero, s, len, FEED_WHOLE, 0);
		assert_string_equal(r.cond, "policy-violation");
		run_done(&r);
		run_input(&r, &zero, BIN(HDR "<presence a='1'><x/></presence>"), FEED_WHOLE, 0);
		assert_int_equal(r.err, XU_OK);
		assert_int_equal(r.stanzas, 1);
		run_done(&r);
	}
	free(s);

	/* Custom limits, and an empty element counts as a level too. */
	run_input(&r, &lim, BIN(HDR "<a><b><c><d><e/></d></c></b></a>"), FEED_WHOLE, 0);
	assert_int_equal(r.err, XU_OK);
	run_done(&r);
	run_input(&r, &lim, BIN(HDR "<a><b><c><d><e><f/></e></d></c></b></a>"), FEED_WHOLE, 0);
	assert_string_equal(r.cond, "policy-violation");
	run_done(&r);
}

/* n attributes (or namespace declarations) on one message. */
static char *make_attrs(bool ns, unsigned n, size_t *len)
{
	struct xu_buf b;
	unsigned i;
	char *s;

	xu_buf_init(&b, 0);
	assert_int_equal(xu_buf_adds(&b, HDR "<message"), XU_OK);
	for (i = 0; i < n; i++)
		assert_int_equal(ns ? xu_buf_addf(&b, " xmlns:p%u='urn:%u'", i, i)
		                    : xu_buf_addf(&b, " a%u='x%u'", i, i),
		                 XU_OK);
	assert_int_equal(xu_buf_adds(&b, "/>"), XU_OK);
	assert_int_equal(xu_buf_take(&b, &s, len), XU_OK);
	return s;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_attrs(void **state)
{
	struct run r;
	size_t len;
	double t;
	char *s;

	s = make_attrs(false, 64, &len);
	run_all_ways(&r, NULL, s, len, "64 attributes");
	assert_int_equal(r.err, XU_OK);
	assert_int_equal(xu_stanza_attr_count(r.first), 64);
	run_done(&r);
	free(s);

	s = make_attrs(false, 65, &len);
	run_all_ways(&r, NULL, s, len, "65 attributes");
	assert_string_equal(r.cond, "policy-violation");
	run_done(&r);
	free(s);

	/* Namespace declarations count as attributes. */
	s = make_attrs(true, 65, &len);
	run_all_ways(&r, NULL, s, len, "65 namespace declarations");
	assert_string_equal(r.cond, "policy-violation");
	run_done(&r);
	free(s);

	/* 200,000 attributes cost libxml2 8.6 s; the scanner must stop them at once. */
	s = make_attrs(false, 200000, &len);
	t = now_s();
	run_input(&r, NULL, s, len, FEED_WHOLE, 0);
	t = now_s() - t;
	assert_string_equal(r.cond, "policy-violation");
	assert_true(t < 0.5);
	run_done(&r);
	free(s);
}

/* ---------------------------------------------------------------- restart, stickiness */

static void test_restart(void **state)
{
	static const char first[] = HDR "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
	                                "<injected/>\x16\x03\x01\x02";
	static const char second[] = HDR "<presence/>";
	struct run r;

	/* Restart from inside the stanza handler: the rest of that feed belongs to the old
	 * stream and is dropped (STARTTLS injection, CVE-2011-0411 class). */
	run_init(&r, NULL);
	r.restart_on_proceed = true;
	run_feed(&r, first, strlen(first));
	assert_int_equal(r.err, XU_OK);
	assert_int_equal(r.stanzas, 1);
	run_feed(&r, second, strlen(second));
	assert_int_equal(r.err, XU_OK);
	assert_int_equal(r.opens, 2);
	assert_int_equal(r.stanzas, 2);
	assert_string_equal(xu_stanza_name(r.last), "presence");
	run_done(&r);

	/* Restart from outside, in the middle of a stanza and after a failure. */
	run_init(&r, NULL);
	run_feed(&r, BIN(HDR "<message><body>half"));
	assert_int_equal(xu_xml_restart(r.x), XU_OK);
	run_feed(&r, BIN(HDR "<presence/>"));
	assert_int_equal(r.err, XU_OK);
	assert_int_equal(r.opens, 2);
	assert_int_equal(r.stanzas, 1);
	run_feed(&r, BIN("<!-- x -->"));
	assert_string_equal(r.cond, "restricted-xml");
	assert_int_equal(xu_xml_restart(r.x), XU_OK);
	assert_null(xu_xml_condition(r.x));
	assert_string_equal(xu_xml_errmsg(r.x), "");
	r.err = XU_OK;
	r.cond = NULL;
	/* A new stream may start with a declaration and BOM again. */
	run_feed(&r, BIN("\xEF\xBB\xBF" HDR "<presence/>"));
	assert_int_equal(r.err, XU_OK);
	assert_int_equal(r.opens, 3);
	assert_int_equal(r.stanzas, 2);
	run_done(&r);
}

static void test_sticky_failure(void **state)
{
	struct run r;
	enum xu_err err;

	run_init(&r, NULL);
	run_feed(&r, BIN(HDR "<message><?pi?>"));
	assert_int_equal(r.err, XU_ERR_PROTO);
	assert_string_equal(r.cond, "restricted-xml");
	err = xu_xml_feed(r.x, BIN("</message><presence/>"));
	assert_int_equal(err, XU_ERR_PROTO);
	assert_string_equal(xu_xml_condition(r.x), "restricted-xml");
	assert_int_equal(r.stanzas, 0);
	run_done(&r);
}

static enum xu_err refuse_stanza(void *ctx, struct xu_stanza *st)
{
	(*(int *)ctx)++;
	xu_stanza_free(st);
	return XU_ERR_REFUSED;
}

static void test_handler_error(void **state)
{
	struct xu_xml_handlers h = {0};
	struct xu_xml *x;
	int calls = 0;

	h.ctx = &calls;
	h.stanza = refuse_stanza;
	assert_int_equal(xu_xml_new(&h, NULL, &x), XU_OK);
	assert_int_equal(xu_xml_feed(x, BIN(HDR "<presence/><presence/>")), XU_ERR_REFUSED);
	assert_int_equal(xu_xml_feed(x, BIN("<presence/>")), XU_ERR_REFUSED);
	assert_int_equal(calls, 1);
	xu_xml_free(x);
	/* No handlers at all: stanzas are dropped, nothing leaks. */
	assert_int_equal(xu_xml_new(NULL, NULL, &x), XU_OK);
	assert_int_equal(xu_xml_feed(x, BIN(HDR "<presence/><message><body>x</body>")), XU_OK);
	assert_null(xu_xml_condition(x));
	xu_xml_free(x);
	xu_xml_free(NULL);
}

/* ---------------------------------------------------------------- the shared vectors */

struct vec_expect {
	const char *id;
	const char *cond;  /* the parser's verdict: NULL accepts */
	bool not_parser;   /* the case's reject-stream is another module's job */
	const char *first; /* accepted session cases: the first stanza, serialised */
};

static const struct vec_expect vec_expect[] = {
    {"a01-doctype-internal-subset", "restricted-xml", false, NULL},
    {"a02-doctype-external-system", "restricted-xml", false, NULL},
    {"a04-comment-inside-stanza", "restricted-xml", false, NULL},
    {"a05-pi-in-stream", "restricted-xml", false, NULL},
    {"a06-misplaced-xml-decl", "not-well-formed", false, NULL},
    {"a07-undefined-entity-ref", "not-well-formed", false, NULL},
    {"a09-numeric-char-ref", NULL, false,
     "<message from='a@example.test/r'><body>AB</body></message>"},
    {"a10-char-ref-nul", "not-well-formed", false, NULL},
    {"a11-char-ref-esc", "not-well-formed", false, NULL},
    {"a12-char-ref-surrogate", "not-well-formed", false, NULL},
    {"a14-cdata-section", NULL, false,
     "<message from='a@example.test/r'><body>&lt;b&gt;hi&lt;/b&gt;</body></message>"},
    {"a15-xml-1.1", "not-well-formed", false, NULL},
    {"a16-encoding-latin1", "unsupported-encoding", false, NULL},
    {"a17-utf16-stream", "unsupported-encoding", false, NULL},
    {"a19-xinclude", NULL, false,
     "<message from='a@example.test/r'><body>x</body><include "
     "xmlns='http://www.w3.org/2001/XInclude' href='file:///etc/passwd'/></message>"},
    {"b01-billion-laughs", "restricted-xml", false, NULL},
    {"b02-quadratic-blowup", "restricted-xml", false, NULL},
    {"b03-xxe-file", "restricted-xml", false, NULL},
    {"c01-huge-attribute", "policy-violation", false, NULL},
    {"c02-huge-text", "policy-violation", false, NULL},
    {"c03-deep-nesting", "policy-violation", false, NULL},
    {"c04-many-attributes", "policy-violation", false, NULL},
    {"c06-many-ns-decls", "policy-violation", false, NULL},
    {"c07-unterminated-tag-flood", "policy-violation", false, NULL},
    {"c08-stanza-flood", NULL, false, "<message from='a@example.test/r'><body>x</body></message>"},
    {"c09-whitespace-keepalive-forever", NULL, false, SENTINEL},
    {"d01-nul-in-text", "not-well-formed", false, NULL},
    {"d02-nul-in-attribute", "not-well-formed", false, NULL},
    {"d03-nul-between-stanzas", "not-well-formed", false, NULL},
    {"d05-truncated-multibyte-before-lt", "not-well-formed", false, NULL},
    {"d06-c1-controls", NULL, false,
     "<message from='a@example.test/r'><body>a\xC2\x85"
     "b\xC2\x9B"
     "31mred</body></message>"},
    {"d07-nonchar-fdd0", NULL, false,
     "<message from='a@example.test/r'><body>\xEF\xB7\x90</body></message>"},
    {"d08-uffff", "not-well-formed", false, NULL},
    {"e02-bad-content-ns", "invalid-namespace", false, NULL},
    {"e03-bad-stream-name", "bad-format", false, NULL},
    {"e04-bad-prefix", "not-well-formed", false, NULL},
    {"e05-no-version", NULL, true, NULL},
    {"e07-mismatched-end-tag", "not-well-formed", false, NULL},
    {"e08-stray-end-tag", "not-well-formed", false, NULL},
    {"e09-eof-mid-stanza", NULL, true, NULL},
    {"e10-eof-after-header", NULL, true, NULL},
    {"e12-top-level-text", "bad-format", false, NULL},
    {"e13-unbound-prefix-in-stanza", "not-well-formed", false, NULL},
    {"e14-duplicate-attribute", "not-well-formed", false, NULL},
    {"e15-duplicate-attr-via-ns", "not-well-formed", false, NULL},
    {"e17-stream-prefix-rebound-in-stanza", NULL, false,
     "<message from='a@example.test/r'><body>x</body><error xmlns='urn:evil'><conflict "
     "xmlns='jabber:client'/></error></message>"},
    {"i02-roster-push-own-bare", NULL, false,
     "<iq type='set' id='push2'><query xmlns='jabber:iq:roster'><item "
     "jid='nurse@example.test' subscription='none'/></query></iq>"},
    {"i06-message-no-from", NULL, false,
     "<message type='chat'><body>from the server</body></message>"},
    {"i07-multiple-bodies", NULL, false,
     "<message from='a@example.test/r' xml:lang='en'><body>hello</body><body "
     "xml:lang='de'>hallo</body><body xml:lang='en'>dup</body></message>"},
    {"i08-unknown-iq-get", NULL, false,
     "<iq type='get' id='q1' from='example.test'><query xmlns='urn:x-unknown'/></iq>"},
    {"j02-sm-ack-too-high", NULL, true, NULL},
    {"j03-sm-ack-negative", NULL, true, NULL},
    {"j04-sm-ack-overflow", NULL, true, NULL},
    {"j05-sm-ack-garbage", NULL, true, NULL},
    {"j07-sm-ack-wraparound", NULL, false, "<a xmlns='urn:xmpp:sm:3' h='4294967295'/>"},
};

/* Append `pat` n times, in large blocks (c02 is 64 MiB). */
static void add_repeat(struct xu_buf *b, const char *pat, size_t plen, size_t n)
{
	char block[65536];
	size_t per = plen ? sizeof(block) / plen : 0, i, k;

	assert_true(per > 0);
	for (i = 0; i < per; i++)
		memcpy(block + i * plen, pat, plen);
	for (i = 0; i < n; i += k) {
		k = n - i < per ? n - i : per;
		assert_int_equal(xu_buf_add(b, block, k * plen), XU_OK);
	}
}

/* "%d" in a SEQ format stands for the index. */
static void add_seq(struct xu_buf *b, const char *fmt, size_t flen, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < flen; j++) {
			if (fmt[j] == '%' && j + 1 < flen && fmt[j + 1] == 'd') {
				assert_int_equal(xu_buf_addf(b, "%zu", i), XU_OK);
				j++;
			} else {
				assert_int_equal(xu_buf_add(b, fmt + j, 1), XU_OK);
			}
		}
	}
}

static const char *find2(const char *p, const char *end, const char *pat)
{
	for (; p + 1 < end; p++)
		if (p[0] == pat[0] && p[1] == pat[1])
			return p;
	return NULL;
}

/*
 * Expand @@REPEAT@@ / @@SEQ@@; false for cases that need the scripted server. Under valgrind
 * the repeat counts of accepted cases are capped at `cap` (c08's million stanzas take
 * 80 s a run there); rejected ones are stopped early by the parser and keep theirs.
 * *last_n is the last count used.
 */
static bool expand_payload(const char *p, size_t len, struct xu_buf *out, size_t cap,
                           size_t *last_n)
{
	const char *end = p + len, *m, *c1, *c2, *close;
	char *pat;
	size_t plen, n;

	while (p < end) {
		m = find2(p, end, "@@");
		if (!m) {
			assert_int_equal(xu_buf_add(out, p, (size_t)(end - p)), XU_OK);
			break;
		}
		assert_int_equal(xu_buf_add(out, p, (size_t)(m - p)), XU_OK);
		close = find2(m + 2, end, "@@");
		assert_non_null(close);
		if (strncmp(m + 2, "AWAIT:", 6) == 0 || strncmp(m + 2, "SCRIPT:", 7) == 0)
			return false;
		c1 = memchr(m + 2, ':', (size_t)(close - m - 2));
		assert_non_null(c1);
		c2 = memchr(c1 + 1, ':', (size_t)(close - c1 - 1));
		assert_non_null(c2);
		pat = tu_unhex(c1 + 1, (size_t)(c2 - c1 - 1), &plen);
		assert_non_null(pat);
		n = strtoul(c2 + 1, NULL, 10);
		if (n > cap)
			n = cap;
		*last_n = n;
		if (strncmp(m + 2, "REPEAT:", 7) == 0)
			add_repeat(out, pat, plen, n);
		else if (strncmp(m + 2, "SEQ:", 4) == 0)
			add_seq(out, pat, plen, n);
		else
			fail_msg("unknown marker in payload");
		free(pat);
		p = close + 2;
	}
	return true;
}

struct vec_case {
	char phase[16];
	char verdict[32];
	struct xu_buf payload;
	size_t repeat; /* the last marker's count, as expanded */
};

static bool load_case(const char *id, struct vec_case *vc)
{
	char path[256], *file, *line, *nl, *body;
	size_t len;
	bool ok;

	snprintf(path, sizeof(path), "tests/vectors/xml/cases/%s.case", id);
	file = tu_read_file(path, &len);
	if (!file)
		fail_msg("cannot read %s", path);
	body = strstr(file, "\n#!payload\n");
	assert_non_null(body);
	vc->phase[0] = vc->verdict[0] = '\0';
	for (line = file; line < body + 1; line = nl + 1) {
		nl = strchr(line, '\n');
		sscanf(line, "#! phase: %15s", vc->phase);
		sscanf(line, "#! verdict: %31s", vc->verdict);
	}
	body += strlen("\n#!payload\n");
	xu_buf_init(&vc->payload, 0);
	if (strcmp(vc->phase, "session") == 0)
		assert_int_equal(xu_buf_adds(&vc->payload, HDR), XU_OK);
	vc->repeat = 0;
	ok = expand_payload(body, len - (size_t)(body - file), &vc->payload,
	                    RUNNING_ON_VALGRIND && strcmp(vc->verdict, "accept") == 0 ? 1000
	                                                                              : SIZE_MAX,
	                    &vc->repeat);
	free(file);
	return ok;
}

static const struct vec_expect *vec_lookup(const char *id)
{
	size_t i;

	for (i = 0; i < sizeof(vec_expect) / sizeof(vec_expect[0]); i++)
		if (strcmp(vec_expect[i].id, id) == 0)
			return &vec_expect[i];
	return NULL;
}

static void check_vector(const char *id)
{
	static const struct vec_expect k_accept = {NULL, NULL, false, NULL};
	static const struct vec_expect k_reject = {NULL, "not-well-formed", false, NULL};
	const struct vec_expect *e = vec_lookup(id);
	struct vec_case vc;
	struct run r;
	bool reject;
	double t;
	char *first = NULL;

	if (!load_case(id, &vc)) {
		/* @@AWAIT@@ / @@SCRIPT@@: needs the stub server (tests/server/). */
		xu_buf_free(&vc.payload);
		return;
	}
	reject = strcmp(vc.verdict, "reject-stream") == 0;
	/* Group k is uniform: Prosody's UTF-8 sequences, good ones accepted, the rest
	 * not well-formed. */
	if (!e && id[0] == 'k')
		e = reject ? &k_reject : &k_accept;
	if (!e)
		fail_msg("%s: no expectation in the test table", id);
	/* The table must agree with the case's own verdict. */
	if (!e->not_parser && reject != (e->cond != NULL))
		fail_msg("%s: verdict %s but table says %s", id, vc.verdict,
		         e->cond ? e->cond : "accept");
	/* Accepted stanza cases end with a sentinel: the parser must still be in step. */
	if (!e->cond && !e->not_parser && strcmp(vc.phase, "session") == 0)
		assert_int_equal(xu_buf_adds(&vc.payload, SENTINEL), XU_OK);
	t = now_s();
	run_all_ways(&r, NULL, vc.payload.data, vc.payload.len, id);
	t = now_s() - t;
	/* XU_TEST_TIMES=1 prints how long each case took (every way of feeding together). */
	if (getenv("XU_TEST_TIMES"))
		fprintf(stderr, "%s %.2f s\n", id, t);
	if (e->cond) {
		if (r.err != XU_ERR_PROTO || !r.cond || strcmp(r.cond, e->cond) != 0)
			fail_msg("%s: want %s, got err %d cond %s (%s)", id, e->cond, r.err,
			         r.cond ? r.cond : "-", r.msg);
		if (strcmp(vc.phase, "session") == 0)
			assert_int_equal(r.opens, 1);
	} else {
		if (r.err != XU_OK)
			fail_msg("%s: want accept, got err %d cond %s (%s)", id, r.err,
			         r.cond ? r.cond : "-", r.msg);
		if (!e->not_parser && strcmp(vc.phase, "session") == 0) {
			assert_non_null(r.last ? r.last : r.first);
			assert_int_equal(xu_stanza_to_xml(r.last ? r.last : r.first, &first, NULL),
			                 XU_OK);
			if (strcmp(first, SENTINEL) != 0)
				fail_msg("%s: last stanza is %s", id, first);
			free(first);
		}
		if (e->first) {
			assert_non_null(r.first);
			assert_int_equal(xu_stanza_to_xml(r.first, &first, NULL), XU_OK);
			if (strcmp(first, e->first) != 0)
				fail_msg("%s: first stanza\n%s\nwant\n%s", id, first, e->first);
			free(first);
		}
	}
	if (strcmp(id, "c08-stanza-flood") == 0) {
		assert_true(vc.repeat == 1000000 || RUNNING_ON_VALGRIND);
		assert_int_equal(r.stanzas, vc.repeat + 1);
	}
	/* c04: libxml2 alone spends 8.6 s on it; every way of feeding together stays fast. */
	if (strcmp(id, "c04-many-attributes") == 0 && t > 5.0)
		fail_msg("%s took %.1f s", id, t);
	run_done(&r);
	xu_buf_free(&vc.payload);
}

static void test_vectors(void **state)
{
	char *index, *cursor, *line, id[128], phase[32], verdict[64];
	size_t n = 0;

	index = tu_read_file("tests/vectors/xml/INDEX.tsv", NULL);
	assert_non_null(index);
	cursor = index;
	for (line = tu_next_line(&cursor); line; line = tu_next_line(&cursor)) {
		assert_int_equal(sscanf(line, "%127[^\t]\t%31[^\t]\t%63[^\t]", id, phase, verdict),
		                 3);
		if ((strcmp(phase, "stream") != 0 && strcmp(phase, "session") != 0) ||
		    (strcmp(verdict, "accept") != 0 && strcmp(verdict, "reject-stream") != 0))
			continue;
		n++;
		/* XU_TEST_VECTOR=<id> replays just that case (debugging). */
		if (getenv("XU_TEST_VECTOR") && strcmp(getenv("XU_TEST_VECTOR"), id) != 0)
			continue;
		check_vector(id);
	}
	free(index);
	assert_int_equal(n, 107);
}

/* ---------------------------------------------------------------- xu_stanza_parse_list */

static void test_parse_list(void **state)
{
	static const struct {
		const char *in;
		size_t n;          /* stanzas on success */
		const char *why;   /* NULL: success */
		const char *first; /* serialised first stanza */
	} cases[] = {
	    {"", 0, NULL, NULL},
	    {" \n", 0, NULL, NULL},
	    {"<message to='a@b'><body>hi</body></message>\n<presence/>\n", 2, NULL,
	     "<message to='a@b'><body>hi</body></message>"},
	    {"<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>", 1, NULL,
	     "<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>"},
	    {"<message xmlns='jabber:client'/>", 1, NULL, "<message/>"},
	    {"<message><!-- c --></message>", 0, "comments are not allowed", NULL},
	    {"<?xml version='1.0'?><message/>", 0, "XML declaration not at the start", NULL},
	    {"<?pi?><message/>", 0, "processing instructions are not allowed", NULL},
	    {"<!DOCTYPE x><message/>", 0, "DTDs are not allowed", NULL},
	    {"<message>", 0, "mismatched end tag", NULL},
	    {"<message><body>x</message>", 0, "mismatched end tag", NULL},
	    {"<message to='", 0, "'<' in an attribute value", NULL},
	    {"<message><![CDATA[", 0, "unterminated XML", NULL},
	    {"hello", 0, "text outside of a stanza", NULL},
	    {"<message/></stream:stream><presence/>", 0, "content after the end of the stream",
	     NULL},
	    {"</stream:stream>", 0, "content after the end of the stream", NULL},
	    {"<message>&nbsp;</message>", 0, "not well-formed XML", NULL},
	    {"<x:message/>", 0, "not well-formed XML", NULL},
	};
	struct xu_stanza **v;
	const char *why;
	size_t i, j, n;
	enum xu_err err;
	char *out;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err = xu_stanza_parse_list(cases[i].in, strlen(cases[i].in), &v, &n, &why);
		if (!cases[i].why) {
			if (err != XU_OK)
				fail_msg("'%s': %s", cases[i].in, why);
			assert_non_null(v);
			assert_int_equal(n, cases[i].n);
			if (cases[i].first) {
				assert_int_equal(xu_stanza_to_xml(v[0], &out, NULL), XU_OK);
				assert_string_equal(out, cases[i].first);
				free(out);
			}
			for (j = 0; j < n; j++)
				xu_stanza_free(v[j]);
			free(v);
		} else {
			assert_int_equal(err, XU_ERR_DATA);
			assert_null(v);
			assert_int_equal(n, 0);
			if (strcmp(why, cases[i].why) != 0)
				fail_msg("'%s': why '%s', want '%s'", cases[i].in, why,
				         cases[i].why);
		}
	}
}

static void test_parse_list_limits(void **state)
{
	struct xu_stanza **v = NULL;
	const char *why;
	size_t n, len, hl = strlen(HDR);
	char *s;

	s = make_stanza(257 * 1024, &len);
	assert_int_equal(xu_stanza_parse_list(s + hl, len - hl, &v, &n, &why), XU_ERR_DATA);
	assert_string_equal(why, "stanza too large");
	free(s);
	s = make_nested(65, &len);
	assert_int_equal(xu_stanza_parse_list(s + hl, len - hl, &v, &n, &why), XU_ERR_DATA);
	assert_string_equal(why, "elements nested too deeply");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stream_cases),   cmocka_unit_test(test_tree_from_stream),
	    cmocka_unit_test(test_header_attrs),   cmocka_unit_test(test_stanza_size),
	    cmocka_unit_test(test_set_max_stanza), cmocka_unit_test(test_header_size),
	    cmocka_unit_test(test_depth),          cmocka_unit_test(test_attrs),
	    cmocka_unit_test(test_restart),        cmocka_unit_test(test_sticky_failure),
	    cmocka_unit_test(test_handler_error),  cmocka_unit_test(test_vectors),
	    cmocka_unit_test(test_parse_list),     cmocka_unit_test(test_parse_list_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
