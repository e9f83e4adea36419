/* xml.c: the XMPP stream parser: a byte pre-scanner (limits, restricted XML) in front of libxml2's
 * SAX2 push parser, building stanza trees; RFC 6120 §4.2-4.3, §4.8, §4.9.3, §11; XEP-0478. */
#include "xu-int.h"

#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define XML_DEF_MAX_STANZA (256 * 1024)
#define XML_DEF_MAX_DEPTH 64
#define XML_DEF_MAX_ATTRS 64
#define XML_DECL_MAX 128

/*
 * The pre-scanner's states. It knows just enough XML to find where tags, attribute values,
 * CDATA sections and the XML declaration begin and end; libxml2 checks everything else.
 */
enum xu_xml_scan {
	XU_XS_START,     /* first byte of the stream: a BOM, or the prolog */
	XU_XS_BOM1,      /* after EF */
	XU_XS_BOM2,      /* after EF BB */
	XU_XS_TEXT,      /* character data, or whitespace between top-level elements */
	XU_XS_LT,        /* after '<' */
	XU_XS_PI,        /* after "<?": is it "<?xml "? */
	XU_XS_DECL,      /* inside the XML declaration */
	XU_XS_BANG,      /* after "<!": only "<![CDATA[" is allowed */
	XU_XS_CDATA,     /* inside a CDATA section */
	XU_XS_STAG_NAME, /* start tag: the element name */
	XU_XS_STAG,      /* start tag: between attributes */
	XU_XS_ATTR_NAME, /* start tag: an attribute name */
	XU_XS_ATTR_EQ,   /* start tag: before '=' */
	XU_XS_ATTR_Q,    /* start tag: before the opening quote */
	XU_XS_ATTR_VAL,  /* start tag: inside a quoted value */
	XU_XS_STAG_END,  /* start tag: after '/' */
	XU_XS_ETAG_NAME, /* end tag: the name */
	XU_XS_ETAG,      /* end tag: whitespace before '>' */
};

enum xu_xml_phase {
	XU_XP_PROLOG, /* before the stream element */
	XU_XP_STREAM, /* inside it */
	XU_XP_AFTER,  /* after </stream:stream> */
};

struct xu_xml {
	struct xu_xml_handlers h;
	struct xu_xml_limits lim;
	xmlParserCtxtPtr ctxt;

	/* pre-scanner */
	enum xu_xml_scan state;
	enum xu_xml_phase phase;
	unsigned depth; /* open elements, the stream element included */
	unsigned attrs; /* attributes of the current start tag */
	size_t unit;    /* bytes of the current top-level element (or header, declaration) */
	unsigned idx;   /* progress through "xml" / "[CDATA[" / "]]>" / an end tag name */
	uint64_t name;  /* hash of the tag name being read */
	uint64_t *open; /* hashes of the open elements' names, to match end tags */
	size_t open_cap;
	char quote;
	bool in_ref;           /* between '&' and ';' in text */
	bool at_start;         /* nothing but a BOM seen yet: an XML declaration may follow */
	struct xu_buf pending; /* the current unit's bytes so far (at most max_stanza) */
	char decl[XML_DECL_MAX];
	size_t decl_len;

	/* tree building, from the SAX callbacks */
	unsigned xdepth; /* libxml2's open elements, the stream element included */
	struct xu_stanza *root, *cur;

	/* outcome */
	enum xu_err err;
	const char *cond;
	const char *why;
	char msg[256];
	bool in_feed, restart_pending;
};

static void xml_fail(struct xu_xml *x, enum xu_err err, const char *cond, const char *why,
                     const char *detail)
{
	size_t i;

	/* The first failure counts; after a restart request the rest is the old stream's. */
	if (x->err || x->restart_pending)
		return;
	x->err = err;
	x->cond = cond;
	x->why = why;
	if (detail && *detail)
		snprintf(x->msg, sizeof(x->msg), "%s: %s", why, detail);
	else
		snprintf(x->msg, sizeof(x->msg), "%s", why);
	/* libxml2's messages quote peer data and end in a newline: keep it one plain line. */
	for (i = 0; x->msg[i]; i++)
		if ((unsigned char)x->msg[i] < 0x20 || x->msg[i] == 0x7F)
			x->msg[i] = ' ';
	while (i > 0 && x->msg[i - 1] == ' ')
		x->msg[--i] = '\0';
}

static void xml_nwf(struct xu_xml *x, const char *why)
{
	xml_fail(x, XU_ERR_PROTO, "not-well-formed", why, NULL);
}

static void xml_restricted(struct xu_xml *x, const char *why)
{
	xml_fail(x, XU_ERR_PROTO, "restricted-xml", why, NULL);
}

static void xml_nomem(struct xu_xml *x)
{
	xml_fail(x, XU_ERR_NOMEM, "internal-server-error", "out of memory", NULL);
}

/* libxml2 2.9.14 checks CDATA sections loosely: an overlong "\xC0\xBC" (a '<' to a lax
 * decoder, the CVE-2022-22784 class) gets through. So everything that goes into a tree is
 * checked again. */
static void xml_bad_chars(struct xu_xml *x)
{
	xml_nwf(x, "invalid UTF-8 or character");
}

static bool xml_stopped(const struct xu_xml *x)
{
	return x->err || x->restart_pending;
}

/* ---------------------------------------------------------------- SAX callbacks */

/* With entity substitution off, libxml2 hands '&' inside attribute values (namespace names
 * included) over as "&#38;" (every other reference is resolved or is an error): undo that. */
static char *xml_attr_value(const xmlChar *v, const xmlChar *end)
{
	size_t n = (size_t)(end - v), i, o = 0;
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		if (v[i] == '&' && n - i >= 5 && memcmp(v + i, "&#38;", 5) == 0) {
			s[o++] = '&';
			i += 4;
		} else {
			s[o++] = (char)v[i];
		}
	}
	s[o] = '\0';
	return s;
}

/* Copy the attributes of a SAX2 start tag onto st: XML-namespace ones as "xml:lang",
 * other namespaced ones as "{uri}local". XU_ERR_DATA: not UTF-8 / XML characters. */
static enum xu_err xml_set_attrs(struct xu_stanza *st, int n, const xmlChar **a)
{
	char *name, *value;
	const char *local, *uri;
	enum xu_err err;
	int i;

	for (i = 0; i < n; i++, a += 5) {
		local = (const char *)a[0];
		uri = (const char *)a[2];
		if (!uri) {
			name = strdup(local);
		} else if (strcmp(uri, XU_NS_XML) == 0) {
			name = malloc(strlen(local) + 5);
			if (name)
				snprintf(name, strlen(local) + 5, "xml:%s", local);
		} else {
			char *u = xml_attr_value(a[2], a[2] + strlen(uri));
			size_t len = u ? strlen(u) + strlen(local) + 3 : 0;

			name = u ? malloc(len) : NULL;
			if (name)
				snprintf(name, len, "{%s}%s", u, local);
			free(u);
		}
		value = xml_attr_value(a[3], a[4]);
		if (name && value &&
		    (!xu_utf8_xml_ok(name, strlen(name)) || !xu_utf8_xml_ok(value, strlen(value))))
			err = XU_ERR_DATA;
		else
			err = name && value ? xu_stanza_set_attr(st, name, value) : XU_ERR_NOMEM;
		free(name);
		free(value);
		if (err)
			return err;
	}
	return XU_OK;
}

static void xml_open_stream(struct xu_xml *x, const char *local, const char *uri, int nb_ns,
                            const xmlChar **ns, int nb_attrs, const xmlChar **attrs)
{
	struct xu_stanza *hdr;
	const char *dflt = NULL;
	enum xu_err err;
	int i;

	if (!uri || strcmp(uri, XU_NS_STREAMS) != 0) {
		xml_fail(x, XU_ERR_PROTO, "invalid-namespace", "not an XMPP stream", NULL);
		return;
	}
	if (strcmp(local, "stream") != 0) {
		xml_fail(x, XU_ERR_PROTO, "bad-format", "not an XMPP stream", NULL);
		return;
	}
	for (i = 0; i < nb_ns; i++)
		if (!ns[2 * i])
			dflt = (const char *)ns[2 * i + 1];
	if (!dflt || strcmp(dflt, XU_NS_CLIENT) != 0) {
		xml_fail(x, XU_ERR_PROTO, "invalid-namespace",
		         "stream content is not jabber:client", NULL);
		return;
	}
	hdr = xu_stanza_new("stream", XU_NS_STREAMS);
	if (!hdr) {
		xml_nomem(x);
		return;
	}
	err = xml_set_attrs(hdr, nb_attrs, attrs);
	if (err == XU_ERR_DATA)
		xml_bad_chars(x);
	else if (err)
		xml_nomem(x);
	else if (x->h.open)
		err = x->h.open(x->h.ctx, hdr);
	xu_stanza_free(hdr);
	if (err)
		xml_fail(x, err, NULL, "stopped by the stream handler", NULL);
}

static void xml_sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                          const xmlChar *URI, int nb_namespaces, const xmlChar **namespaces,
                          int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct xu_xml *x = ctx;
	const char *local = (const char *)localname;
	struct xu_stanza *st;
	enum xu_err err;
	char *uri;

	if (xml_stopped(x))
		return;
	if (x->xdepth == 0) {
		x->xdepth++;
		xml_open_stream(x, local, (const char *)URI, nb_namespaces, namespaces,
		                nb_attributes, attributes);
		return;
	}
	uri = URI ? xml_attr_value(URI, URI + strlen((const char *)URI)) : strdup("");
	if (!uri) {
		xml_nomem(x);
		return;
	}
	if (!xu_utf8_xml_ok(uri, strlen(uri)) || !xu_utf8_xml_ok(local, strlen(local))) {
		free(uri);
		xml_bad_chars(x);
		return;
	}
	if (x->xdepth == 1) {
		st = xu_stanza_new(local, strcmp(uri, XU_NS_CLIENT) == 0 ? NULL : uri);
		x->root = st;
	} else {
		/* Store the namespace only where it changes, like a hand-built tree. */
		st = xu_stanza_add_new(x->cur, local,
		                       strcmp(uri, xu_stanza_ns(x->cur)) == 0 ? NULL : uri);
	}
	free(uri);
	if (!st) {
		xml_nomem(x);
		return;
	}
	x->cur = st;
	x->xdepth++;
	err = xml_set_attrs(st, nb_attributes, attributes);
	if (err == XU_ERR_DATA)
		xml_bad_chars(x);
	else if (err)
		xml_nomem(x);
}

static void xml_sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                        const xmlChar *URI)
{
	struct xu_xml *x = ctx;
	struct xu_stanza *st;
	enum xu_err err = XU_OK;

	if (xml_stopped(x) || x->xdepth == 0)
		return;
	x->xdepth--;
	if (x->xdepth == 0) {
		if (x->h.close)
			err = x->h.close(x->h.ctx);
		if (err)
			xml_fail(x, err, NULL, "stopped by the stream handler", NULL);
		return;
	}
	if (x->xdepth > 1) {
		x->cur = xu_stanza_parent(x->cur);
		return;
	}
	st = x->root;
	x->root = NULL;
	x->cur = NULL;
	if (x->h.stanza)
		err = x->h.stanza(x->h.ctx, st);
	else
		xu_stanza_free(st);
	if (err)
		xml_fail(x, err, NULL, "stopped by the stanza handler", NULL);
}

static void xml_sax_text(void *ctx, const xmlChar *ch, int len)
{
	struct xu_xml *x = ctx;

	if (xml_stopped(x) || len <= 0)
		return;
	if (!xu_utf8_xml_ok((const char *)ch, (size_t)len)) {
		xml_bad_chars(x);
		return;
	}
	if (x->xdepth < 2) {
		/* The scanner keeps stream-level whitespace from libxml2, so this is text. */
		xml_fail(x, XU_ERR_PROTO, "bad-format", "text outside of a stanza", NULL);
		return;
	}
	if (xu_stanza_add_text(x->cur, (const char *)ch, (size_t)len))
		xml_nomem(x);
}

/* The scanner stops all of these before libxml2 sees them; these handlers are the second
 * line (RFC 6120 §11.1). */
static void xml_sax_comment(void *ctx, const xmlChar *value)
{
	xml_restricted(ctx, "comments are not allowed");
}

static void xml_sax_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	xml_restricted(ctx, "processing instructions are not allowed");
}

static void xml_sax_subset(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                           const xmlChar *sys_id)
{
	xml_restricted(ctx, "DTDs are not allowed");
}

static void xml_sax_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *pub_id,
                                const xmlChar *sys_id, xmlChar *content)
{
	xml_restricted(ctx, "DTDs are not allowed");
}

static void xml_sax_reference(void *ctx, const xmlChar *name)
{
	xml_restricted(ctx, "entity references are not allowed");
}

static xmlEntityPtr xml_sax_get_entity(void *ctx, const xmlChar *name)
{
	return xmlGetPredefinedEntity(name);
}

static xmlEntityPtr xml_sax_get_pentity(void *ctx, const xmlChar *name)
{
	return NULL;
}

static xmlParserInputPtr xml_sax_resolve(void *ctx, const xmlChar *pub_id, const xmlChar *sys_id)
{
	xml_restricted(ctx, "external entities are not allowed");
	return NULL;
}

/* Any libxml2 error ends the stream, including the namespace errors it only reports as
 * XML_ERR_ERROR and then parses on. Warnings (a relative namespace URI, say) do not. */
static void xml_sax_error(void *ctx, xmlErrorPtr e)
{
	struct xu_xml *x = ctx;
	const char *cond = "not-well-formed";

	if (!e || e->level == XML_ERR_WARNING)
		return;
	if (e->code == XML_ERR_UNSUPPORTED_ENCODING || e->domain == XML_FROM_I18N)
		cond = "unsupported-encoding";
	if (e->code == XML_ERR_NO_MEMORY)
		xml_nomem(x);
	else
		xml_fail(x, XU_ERR_PROTO, cond, "not well-formed XML", e->message);
}

static enum xu_err xml_ctxt_new(struct xu_xml *x)
{
	xmlSAXHandler sax;

	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = xml_sax_start;
	sax.endElementNs = xml_sax_end;
	sax.characters = xml_sax_text;
	sax.cdataBlock = xml_sax_text;
	sax.ignorableWhitespace = xml_sax_text;
	sax.comment = xml_sax_comment;
	sax.processingInstruction = xml_sax_pi;
	sax.internalSubset = xml_sax_subset;
	sax.externalSubset = xml_sax_subset;
	sax.entityDecl = xml_sax_entity_decl;
	sax.reference = xml_sax_reference;
	sax.getEntity = xml_sax_get_entity;
	sax.getParameterEntity = xml_sax_get_pentity;
	sax.resolveEntity = xml_sax_resolve;
	sax.serror = xml_sax_error;
	x->ctxt = xmlCreatePushParserCtxt(&sax, x, NULL, 0, NULL);
	if (!x->ctxt)
		return XU_ERR_NOMEM;
	/* No network, no DTD loading, no entity substitution; the declared encoding is ignored
	 * because the scanner only lets UTF-8 through. */
	xmlCtxtUseOptions(x->ctxt, XML_PARSE_NONET | XML_PARSE_IGNORE_ENC);
	return XU_OK;
}

/* ---------------------------------------------------------------- feeding libxml2 */

/* Hand a complete unit to libxml2. */
static void xml_flush(struct xu_xml *x)
{
	int rc;

	if (!x->pending.len || xml_stopped(x))
		return;
	if (x->pending.len > INT_MAX) {
		xml_fail(x, XU_ERR_PROTO, "policy-violation", "stanza too large", NULL);
		return;
	}
	rc = xmlParseChunk(x->ctxt, x->pending.data, (int)x->pending.len, 0);
	xu_buf_reset(&x->pending);
	if (!x->err && (rc != 0 || !x->ctxt->wellFormed))
		xml_nwf(x, "not well-formed XML");
}

/* ---------------------------------------------------------------- the pre-scanner */

static bool xml_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Bytes that can be part of a name; the rest of the name rules are libxml2's. */
static bool xml_name_byte(unsigned char c)
{
	return c > ' ' && c != '<' && c != '>' && c != '/' && c != '=' && c != '\'' && c != '"' &&
	       c != '&' && c != '!' && c != '?';
}

static uint64_t xml_hash(uint64_t h, unsigned char c)
{
	return (h ^ c) * 0x100000001b3ULL;
}

/* Check the XML declaration (XML 1.0 §2.8): version 1.0, encoding UTF-8 if any. */
static void xml_check_decl(struct xu_xml *x)
{
	const char *p = x->decl + 5, *end = x->decl + x->decl_len - 2, *name, *val;
	size_t nlen, vlen;
	char q;
	bool version = false;

	for (;;) {
		while (p < end && xml_space((unsigned char)*p))
			p++;
		if (p == end)
			break;
		name = p;
		while (p < end && *p >= 'a' && *p <= 'z')
			p++;
		nlen = (size_t)(p - name);
		while (p < end && xml_space((unsigned char)*p))
			p++;
		if (p == end || *p != '=')
			goto bad;
		p++;
		while (p < end && xml_space((unsigned char)*p))
			p++;
		if (p == end || (*p != '\'' && *p != '"'))
			goto bad;
		q = *p++;
		val = p;
		while (p < end && *p != q)
			p++;
		if (p == end)
			goto bad;
		vlen = (size_t)(p - val);
		p++;
		if (nlen == 7 && memcmp(name, "version", 7) == 0) {
			if (vlen != 3 || memcmp(val, "1.0", 3) != 0) {
				xml_nwf(x, "XML version other than 1.0");
				return;
			}
			version = true;
		} else if (nlen == 8 && memcmp(name, "encoding", 8) == 0) {
			if (vlen != 5 || strncasecmp(val, "UTF-8", 5) != 0) {
				xml_fail(x, XU_ERR_PROTO, "unsupported-encoding",
				         "encoding other than UTF-8", NULL);
				return;
			}
		} else if (nlen != 10 || memcmp(name, "standalone", 10) != 0) {
			goto bad;
		}
	}
	if (version)
		return;
bad:
	xml_nwf(x, "malformed XML declaration");
}

/* A start tag is complete. */
static void xml_stag_end(struct xu_xml *x, bool empty)
{
	uint64_t *v;

	x->state = XU_XS_TEXT;
	if (empty) {
		if (x->phase == XU_XP_PROLOG)
			x->phase = XU_XP_AFTER;
		return;
	}
	/* Remember the name: the scanner must see a mismatched end tag itself, since libxml2
	 * only gets an element once the scanner thinks it is complete. */
	if (x->depth == x->open_cap) {
		v = realloc(x->open, (x->open_cap + 16) * sizeof(*v));
		if (!v) {
			xml_nomem(x);
			return;
		}
		x->open = v;
		x->open_cap += 16;
	}
	x->open[x->depth++] = x->name;
	x->phase = XU_XP_STREAM;
}

/* An end tag is complete. */
static void xml_etag_end(struct xu_xml *x)
{
	x->state = XU_XS_TEXT;
	if (x->open[--x->depth] != x->name) {
		xml_nwf(x, "mismatched end tag");
		return;
	}
	if (x->depth == 0)
		x->phase = XU_XP_AFTER;
}

static bool xml_stream_level(const struct xu_xml *x)
{
	return x->phase != XU_XP_STREAM || x->depth <= 1;
}

/*
 * Run one byte through the scanner. Returns whether the byte goes on to libxml2 (stream-level
 * whitespace and the BOM do not). Errors are recorded on x.
 */
static bool xml_scan_byte(struct xu_xml *x, unsigned char c)
{
	static const char cdata[] = "[CDATA[";

	switch (x->state) {
	case XU_XS_START:
		if (c == 0xEF) {
			x->state = XU_XS_BOM1;
			return false;
		}
		if (c == 0xFE || c == 0xFF || c == 0x00) {
			xml_fail(x, XU_ERR_PROTO, "unsupported-encoding",
			         "encoding other than UTF-8", NULL);
			return false;
		}
		x->state = XU_XS_TEXT;
		return xml_scan_byte(x, c);
	case XU_XS_BOM1:
		if (c != 0xBB)
			xml_nwf(x, "invalid byte order mark");
		x->state = XU_XS_BOM2;
		return false;
	case XU_XS_BOM2:
		if (c != 0xBF)
			xml_nwf(x, "invalid byte order mark");
		x->state = XU_XS_TEXT;
		return false;
	case XU_XS_TEXT:
		if (xml_stream_level(x)) {
			if (xml_space(c)) {
				x->at_start = false;
				return false;
			}
			if (c != '<') {
				if (x->phase == XU_XP_STREAM && c >= 0x20)
					xml_fail(x, XU_ERR_PROTO, "bad-format",
					         "text outside of a stanza", NULL);
				else if (x->phase == XU_XP_AFTER)
					xml_nwf(x, "content after the end of the stream");
				else
					xml_nwf(x, "not well-formed XML");
				return false;
			}
			x->unit = 0;
			x->state = XU_XS_LT;
			return true;
		}
		if (x->in_ref && (xml_space(c) || c == '<' || c == '&' || c == '>' || c == '\'' ||
		                  c == '"' || c == 0)) {
			/* libxml2 would wait for the ';' for ever (until the cap). */
			xml_nwf(x, "unterminated reference");
			return false;
		}
		if (c == '<') {
			x->state = XU_XS_LT;
		} else if (c == '&') {
			x->in_ref = true;
		} else if (c == ';') {
			x->in_ref = false;
		} else if (c == 0) {
			xml_nwf(x, "NUL character");
			return false;
		}
		return true;
	case XU_XS_LT:
		x->in_ref = false;
		if (c == '?') {
			x->state = XU_XS_PI;
			x->idx = 0;
			return true;
		}
		x->at_start = false;
		if (c == '!') {
			x->state = XU_XS_BANG;
			x->idx = 0;
		} else if (c == '/') {
			if (x->phase == XU_XP_AFTER)
				xml_nwf(x, "content after the end of the stream");
			else if (x->phase != XU_XP_STREAM)
				xml_nwf(x, "end tag outside of the stream");
			x->state = XU_XS_ETAG_NAME;
			x->idx = 0;
			x->name = 0xcbf29ce484222325ULL;
		} else if (xml_name_byte(c)) {
			if (x->phase == XU_XP_AFTER)
				xml_nwf(x, "content after the end of the stream");
			else if (x->phase == XU_XP_STREAM && x->depth > x->lim.max_depth)
				xml_fail(x, XU_ERR_PROTO, "policy-violation",
				         "elements nested too deeply", NULL);
			x->state = XU_XS_STAG_NAME;
			x->attrs = 0;
			x->name = xml_hash(0xcbf29ce484222325ULL, c);
		} else {
			xml_nwf(x, "invalid tag");
		}
		return true;
	case XU_XS_PI:
		if (x->idx < 3) {
			if (c == (unsigned char)"xml"[x->idx])
				x->idx++;
			else
				xml_restricted(x, "processing instructions are not allowed");
			return true;
		}
		if (!xml_space(c)) {
			xml_restricted(x, "processing instructions are not allowed");
		} else if (!x->at_start) {
			xml_nwf(x, "XML declaration not at the start");
		} else {
			memcpy(x->decl, "<?xml", 5);
			x->decl[5] = (char)c;
			x->decl_len = 6;
			x->state = XU_XS_DECL;
		}
		x->at_start = false;
		return true;
	case XU_XS_DECL:
		if (x->decl_len == sizeof(x->decl)) {
			xml_nwf(x, "malformed XML declaration");
			return false;
		}
		x->decl[x->decl_len++] = (char)c;
		if (c == '>' && x->decl[x->decl_len - 2] == '?') {
			xml_check_decl(x);
			x->state = XU_XS_TEXT;
		}
		return true;
	case XU_XS_BANG:
		if (c != (unsigned char)cdata[x->idx]) {
			if (x->idx == 0 && c == '-')
				xml_restricted(x, "comments are not allowed");
			else if (x->idx == 0 && c == 'D')
				xml_restricted(x, "DTDs are not allowed");
			else
				xml_restricted(x, "markup declarations are not allowed");
			return false;
		}
		if (++x->idx < sizeof(cdata) - 1)
			return true;
		if (x->phase == XU_XP_STREAM && x->depth == 1)
			xml_fail(x, XU_ERR_PROTO, "bad-format", "text outside of a stanza", NULL);
		else if (xml_stream_level(x))
			xml_nwf(x, "CDATA section outside of the stream");
		x->state = XU_XS_CDATA;
		x->idx = 0;
		return true;
	case XU_XS_CDATA:
		if (c == '>' && x->idx >= 2) {
			x->state = XU_XS_TEXT;
		} else if (c == ']') {
			if (x->idx < 2)
				x->idx++;
		} else if (c == 0) {
			xml_nwf(x, "NUL character");
			return false;
		} else {
			x->idx = 0;
		}
		return true;
	case XU_XS_STAG_NAME:
	case XU_XS_STAG:
		if (c == '>') {
			xml_stag_end(x, false);
		} else if (c == '/') {
			x->state = XU_XS_STAG_END;
		} else if (xml_space(c)) {
			x->state = XU_XS_STAG;
		} else if (!xml_name_byte(c)) {
			xml_nwf(x, "invalid start tag");
		} else if (x->state == XU_XS_STAG) {
			if (++x->attrs > x->lim.max_attrs)
				xml_fail(x, XU_ERR_PROTO, "policy-violation", "too many attributes",
				         NULL);
			x->state = XU_XS_ATTR_NAME;
		} else {
			x->name = xml_hash(x->name, c);
		}
		return true;
	case XU_XS_ATTR_NAME:
	case XU_XS_ATTR_EQ:
		if (c == '=')
			x->state = XU_XS_ATTR_Q;
		else if (xml_space(c))
			x->state = XU_XS_ATTR_EQ;
		else if (x->state == XU_XS_ATTR_EQ || !xml_name_byte(c))
			xml_nwf(x, "invalid attribute");
		return true;
	case XU_XS_ATTR_Q:
		if (c == '\'' || c == '"') {
			x->quote = (char)c;
			x->state = XU_XS_ATTR_VAL;
		} else if (!xml_space(c)) {
			xml_nwf(x, "invalid attribute");
		}
		return true;
	case XU_XS_ATTR_VAL:
		if (c == (unsigned char)x->quote)
			x->state = XU_XS_STAG;
		else if (c == '<')
			xml_nwf(x, "'<' in an attribute value");
		else if (c == 0)
			xml_nwf(x, "NUL character");
		return true;
	case XU_XS_STAG_END:
		if (c == '>') {
			xml_stag_end(x, true);
		} else {
			xml_nwf(x, "invalid start tag");
		}
		return true;
	case XU_XS_ETAG_NAME:
	case XU_XS_ETAG:
		if (c == '>' && x->idx) {
			xml_etag_end(x);
		} else if (xml_space(c) && x->idx) {
			x->state = XU_XS_ETAG;
		} else if (x->state == XU_XS_ETAG || !xml_name_byte(c)) {
			xml_nwf(x, "invalid end tag");
		} else {
			x->idx = 1;
			x->name = xml_hash(x->name, c);
		}
		return true;
	}
	xml_fail(x, XU_ERR_INTERNAL, "internal-server-error", "parser state", NULL);
	return false;
}

/* Where the run of bytes from i that needs no per-byte look ends: plain text, attribute
 * values and CDATA content up to the next byte that matters. */
static size_t xml_plain_run(const struct xu_xml *x, const unsigned char *p, size_t i, size_t len)
{
	unsigned char q = (unsigned char)x->quote;

	switch (x->state) {
	case XU_XS_TEXT:
		if (xml_stream_level(x) || x->in_ref)
			break;
		while (i < len && p[i] != '<' && p[i] != '&' && p[i] != 0)
			i++;
		break;
	case XU_XS_ATTR_VAL:
		while (i < len && p[i] != q && p[i] != '<' && p[i] != 0)
			i++;
		break;
	case XU_XS_CDATA:
		if (x->idx)
			break;
		while (i < len && p[i] != ']' && p[i] != 0)
			i++;
		break;
	default:
		break;
	}
	return i;
}

static void xml_too_large(struct xu_xml *x)
{
	xml_fail(x, XU_ERR_PROTO, "policy-violation", "stanza too large", NULL);
}

/*
 * Scan the bytes; accepted ones collect in x->pending, and each complete top-level unit (the
 * declaration, the stream header, a stanza, the closing tag) goes to libxml2 in one piece.
 * So libxml2 never sees a partial or oversized element, and sees the same pieces however
 * the bytes arrived.
 */
static enum xu_err xml_scan(struct xu_xml *x, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t i = 0, j, run = 0;
	bool keep;

	while (i < len && !xml_stopped(x)) {
		j = xml_plain_run(x, p, i, len);
		if (j > i) {
			if (x->unit > x->lim.max_stanza || j - i > x->lim.max_stanza - x->unit) {
				xml_too_large(x);
				break;
			}
			x->unit += j - i;
			i = j;
			continue;
		}
		keep = xml_scan_byte(x, p[i]);
		if (x->err)
			break;
		if (!keep) {
			if (i > run && xu_buf_add(&x->pending, data + run, i - run)) {
				xml_nomem(x);
				break;
			}
			run = i + 1;
		} else if (x->unit >= x->lim.max_stanza) {
			xml_too_large(x);
			break;
		} else {
			x->unit++;
		}
		i++;
		if (keep && x->state == XU_XS_TEXT && xml_stream_level(x)) {
			if (xu_buf_add(&x->pending, data + run, i - run)) {
				xml_nomem(x);
				break;
			}
			run = i;
			xml_flush(x);
			x->unit = 0;
		}
	}
	if (!xml_stopped(x) && i > run && xu_buf_add(&x->pending, data + run, i - run))
		xml_nomem(x);
	return x->err;
}

/* ---------------------------------------------------------------- public */

static void xml_reset_state(struct xu_xml *x)
{
	x->state = XU_XS_START;
	x->phase = XU_XP_PROLOG;
	x->depth = 0;
	x->attrs = 0;
	x->unit = 0;
	x->idx = 0;
	x->quote = 0;
	x->in_ref = false;
	x->at_start = true;
	xu_buf_reset(&x->pending);
	x->decl_len = 0;
	x->xdepth = 0;
	xu_stanza_free(x->root);
	x->root = NULL;
	x->cur = NULL;
	x->err = XU_OK;
	x->cond = NULL;
	x->why = NULL;
	x->msg[0] = '\0';
	x->restart_pending = false;
}

enum xu_err xu_xml_new(const struct xu_xml_handlers *h, const struct xu_xml_limits *limits,
                       struct xu_xml **out)
{
	struct xu_xml *x;
	enum xu_err err;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return XU_ERR_NOMEM;
	if (h)
		x->h = *h;
	if (limits)
		x->lim = *limits;
	/* A zero (or no limits at all) means the default, never "no limit". */
	if (!x->lim.max_stanza)
		x->lim.max_stanza = XML_DEF_MAX_STANZA;
	if (!x->lim.max_depth)
		x->lim.max_depth = XML_DEF_MAX_DEPTH;
	if (!x->lim.max_attrs)
		x->lim.max_attrs = XML_DEF_MAX_ATTRS;
	xu_buf_init(&x->pending, 0);
	xml_reset_state(x);
	xmlInitParser();
	err = xml_ctxt_new(x);
	if (err) {
		xu_xml_free(x);
		return err;
	}
	*out = x;
	return XU_OK;
}

void xu_xml_free(struct xu_xml *x)
{
	if (!x)
		return;
	if (x->ctxt)
		xmlFreeParserCtxt(x->ctxt);
	xu_stanza_free(x->root);
	xu_buf_free(&x->pending);
	free(x->open);
	free(x);
}

static enum xu_err xml_restart_now(struct xu_xml *x)
{
	if (x->ctxt)
		xmlFreeParserCtxt(x->ctxt);
	x->ctxt = NULL;
	xml_reset_state(x);
	if (xml_ctxt_new(x)) {
		xml_nomem(x);
		return XU_ERR_NOMEM;
	}
	return XU_OK;
}

enum xu_err xu_xml_restart(struct xu_xml *x)
{
	/* From inside a handler libxml2 is still running on the old context: finish the call
	 * first. What else that feed call carried belongs to the old stream and is dropped
	 * (after <proceed/> it would be plaintext injected before TLS). */
	if (x->in_feed) {
		x->restart_pending = true;
		return XU_OK;
	}
	return xml_restart_now(x);
}

enum xu_err xu_xml_feed(struct xu_xml *x, const char *data, size_t len)
{
	enum xu_err err;

	if (x->err)
		return x->err;
	if (!data && len)
		return XU_ERR_USAGE;
	x->in_feed = true;
	err = xml_scan(x, data, len);
	x->in_feed = false;
	if (x->restart_pending && !err)
		return xml_restart_now(x);
	return err;
}

void xu_xml_set_max_stanza(struct xu_xml *x, size_t max)
{
	x->lim.max_stanza = max ? max : XML_DEF_MAX_STANZA;
}

const char *xu_xml_condition(const struct xu_xml *x)
{
	return x->err ? x->cond : NULL;
}

const char *xu_xml_errmsg(const struct xu_xml *x)
{
	return x->err ? x->msg : "";
}

/* ---------------------------------------------------------------- stanza lists */

struct xml_list {
	struct xu_stanza **v;
	size_t n, cap;
	bool closed;
};

static enum xu_err xml_list_stanza(void *ctx, struct xu_stanza *st)
{
	struct xml_list *l = ctx;
	struct xu_stanza **v;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;

		v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			xu_stanza_free(st);
			return XU_ERR_NOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = st;
	return XU_OK;
}

static enum xu_err xml_list_close(void *ctx)
{
	((struct xml_list *)ctx)->closed = true;
	return XU_OK;
}

enum xu_err xu_stanza_parse_list(const char *data, size_t len, struct xu_stanza ***out, size_t *n,
                                 const char **why)
{
	static const char head[] =
	    "<stream:stream xmlns='" XU_NS_CLIENT "' xmlns:stream='" XU_NS_STREAMS "'>";
	static const char tail[] = "</stream:stream>";
	struct xml_list l = {0};
	struct xu_xml_handlers h = {0};
	struct xu_xml *x;
	enum xu_err err;
	size_t i;

	*out = NULL;
	*n = 0;
	*why = NULL;
	h.ctx = &l;
	h.stanza = xml_list_stanza;
	h.close = xml_list_close;
	err = xu_xml_new(&h, NULL, &x);
	if (err) {
		*why = "out of memory";
		return err;
	}
	err = xu_xml_feed(x, head, sizeof(head) - 1);
	if (!err)
		err = xu_xml_feed(x, data, len);
	if (!err)
		err = xu_xml_feed(x, tail, sizeof(tail) - 1);
	if (!err && !l.closed) {
		err = XU_ERR_DATA;
		*why = "unterminated XML";
	} else if (err == XU_ERR_PROTO) {
		err = XU_ERR_DATA;
		*why = x->why;
	} else if (err) {
		*why = err == XU_ERR_NOMEM || !x->why ? "out of memory" : x->why;
	}
	if (!err && !l.v) {
		l.v = malloc(sizeof(*l.v));
		if (!l.v) {
			err = XU_ERR_NOMEM;
			*why = "out of memory";
		}
	}
	xu_xml_free(x);
	if (err) {
		for (i = 0; i < l.n; i++)
			xu_stanza_free(l.v[i]);
		free(l.v);
		return err;
	}
	*out = l.v;
	*n = l.n;
	return XU_OK;
}
