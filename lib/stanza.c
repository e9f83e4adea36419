/* stanza.c: XML element trees (build, query, serialise) and the only XML escaping; RFC 6120 §4.8,
 * §8, §11; XML 1.0 §2.2-2.4, §3.1; Namespaces in XML 1.0 §3-6. */
#include "xu-int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STANZA_NS_XMLNS "http://www.w3.org/2000/xmlns/"

struct stanza_attr {
	char *name;
	char *value;
};

/*
 * One node: an element, or a text node. A text node holds no bytes of its own: it is the
 * segment [off, off + len) of its parent's `text`, which keeps all direct text of the element
 * concatenated in document order. So xu_stanza_text() never allocates and adjacent text
 * nodes are simply one segment.
 */
struct xu_stanza {
	struct xu_stanza *parent;
	struct xu_stanza *next;     /* next sibling, element or text */
	struct xu_stanza *children; /* first child */
	struct xu_stanza *last;     /* last child */
	bool is_text;
	size_t off, len; /* text node: its segment of the parent's text */
	char *name;
	char *ns; /* NULL: the parent's (top level: jabber:client) */
	struct stanza_attr *attrs;
	size_t n_attrs, cap_attrs;
	char *text; /* element: direct text, NUL-terminated, or NULL */
	size_t text_len, text_cap;
};

/* Free a detached node and its subtree. */
static void stanza_free_tree(struct xu_stanza *st)
{
	struct xu_stanza *c, *next;
	size_t i;

	for (c = st->children; c; c = next) {
		next = c->next;
		stanza_free_tree(c);
	}
	for (i = 0; i < st->n_attrs; i++) {
		free(st->attrs[i].name);
		free(st->attrs[i].value);
	}
	free(st->attrs);
	free(st->name);
	free(st->ns);
	free(st->text);
	free(st);
}

struct xu_stanza *xu_stanza_new(const char *name, const char *ns)
{
	struct xu_stanza *st;

	if (!name)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->name = strdup(name);
	if (!st->name)
		goto err;
	if (ns) {
		st->ns = strdup(ns);
		if (!st->ns)
			goto err;
	}
	return st;
err:
	stanza_free_tree(st);
	return NULL;
}

/* Unlink st from its parent; text segments that become neighbours merge into one. */
static void stanza_detach(struct xu_stanza *st)
{
	struct xu_stanza *p = st->parent, *prev = NULL, *c;

	if (!p)
		return;
	for (c = p->children; c && c != st; c = c->next)
		prev = c;
	if (!c)
		return;
	if (prev)
		prev->next = st->next;
	else
		p->children = st->next;
	if (p->last == st)
		p->last = prev;
	if (prev && prev->is_text && prev->next && prev->next->is_text) {
		c = prev->next;
		prev->len += c->len;
		prev->next = c->next;
		if (p->last == c)
			p->last = prev;
		free(c);
	}
	st->parent = NULL;
	st->next = NULL;
}

void xu_stanza_free(struct xu_stanza *st)
{
	if (!st)
		return;
	stanza_detach(st);
	stanza_free_tree(st);
}

static void stanza_append(struct xu_stanza *p, struct xu_stanza *c)
{
	c->parent = p;
	c->next = NULL;
	if (p->last)
		p->last->next = c;
	else
		p->children = c;
	p->last = c;
}

/* Copy st (without its parent link); ns is the namespace the copy's root must carry. */
static struct xu_stanza *stanza_copy_tree(const struct xu_stanza *st, const char *ns)
{
	struct xu_stanza *cp, *k;
	const struct xu_stanza *c;
	size_t i;

	cp = xu_stanza_new(st->name, ns);
	if (!cp)
		return NULL;
	if (st->n_attrs) {
		cp->attrs = calloc(st->n_attrs, sizeof(*cp->attrs));
		if (!cp->attrs)
			goto err;
		cp->cap_attrs = st->n_attrs;
		for (i = 0; i < st->n_attrs; i++) {
			cp->attrs[i].name = strdup(st->attrs[i].name);
			cp->attrs[i].value = strdup(st->attrs[i].value);
			cp->n_attrs++;
			if (!cp->attrs[i].name || !cp->attrs[i].value)
				goto err;
		}
	}
	if (st->text) {
		cp->text = malloc(st->text_len + 1);
		if (!cp->text)
			goto err;
		memcpy(cp->text, st->text, st->text_len + 1);
		cp->text_len = st->text_len;
		cp->text_cap = st->text_len + 1;
	}
	for (c = st->children; c; c = c->next) {
		if (c->is_text) {
			k = calloc(1, sizeof(*k));
			if (!k)
				goto err;
			k->is_text = true;
			k->off = c->off;
			k->len = c->len;
		} else {
			k = stanza_copy_tree(c, c->ns);
			if (!k)
				goto err;
		}
		stanza_append(cp, k);
	}
	return cp;
err:
	stanza_free_tree(cp);
	return NULL;
}

struct xu_stanza *xu_stanza_copy(const struct xu_stanza *st)
{
	if (!st || st->is_text)
		return NULL;
	/* A detached copy cannot inherit: give it the namespace it had in place. */
	return stanza_copy_tree(st, st->ns || st->parent ? xu_stanza_ns(st) : NULL);
}

const char *xu_stanza_name(const struct xu_stanza *st)
{
	return st ? st->name : NULL;
}

const char *xu_stanza_ns(const struct xu_stanza *st)
{
	for (; st; st = st->parent)
		if (st->ns)
			return st->ns;
	return XU_NS_CLIENT;
}

const char *xu_stanza_attr(const struct xu_stanza *st, const char *name)
{
	size_t i;

	if (!st || !name)
		return NULL;
	for (i = 0; i < st->n_attrs; i++)
		if (strcmp(st->attrs[i].name, name) == 0)
			return st->attrs[i].value;
	return NULL;
}

/*
 * Attributes in a namespace other than XML's are named "{uri}local" (Clark notation), so
 * that a parsed tree serialises back to an equal one; "{XML ns}lang" is the same attribute as
 * "xml:lang" and is stored under that name.
 */
static char *stanza_attr_name(const char *name)
{
	static const char xml_clark[] = "{" XU_NS_XML "}";
	size_t n = sizeof(xml_clark) - 1;
	char *p;

	if (strncmp(name, xml_clark, n) != 0)
		return strdup(name);
	p = malloc(strlen(name + n) + 5);
	if (!p)
		return NULL;
	memcpy(p, "xml:", 4);
	strcpy(p + 4, name + n);
	return p;
}

enum xu_err xu_stanza_set_attr(struct xu_stanza *st, const char *name, const char *value)
{
	struct stanza_attr *a;
	char *n, *v = NULL;
	size_t i;

	if (!st || !name || st->is_text)
		return XU_ERR_USAGE;
	n = stanza_attr_name(name);
	if (!n)
		return XU_ERR_NOMEM;
	if (value) {
		v = strdup(value);
		if (!v) {
			free(n);
			return XU_ERR_NOMEM;
		}
	}
	for (i = 0; i < st->n_attrs; i++)
		if (strcmp(st->attrs[i].name, n) == 0)
			break;
	if (i < st->n_attrs) {
		free(n);
		free(st->attrs[i].value);
		if (v) {
			st->attrs[i].value = v;
			return XU_OK;
		}
		free(st->attrs[i].name);
		memmove(st->attrs + i, st->attrs + i + 1, (st->n_attrs - i - 1) * sizeof(*a));
		st->n_attrs--;
		return XU_OK;
	}
	if (!v) {
		free(n);
		return XU_OK;
	}
	if (st->n_attrs == st->cap_attrs) {
		size_t cap = st->cap_attrs ? st->cap_attrs * 2 : 4;

		a = realloc(st->attrs, cap * sizeof(*a));
		if (!a) {
			free(n);
			free(v);
			return XU_ERR_NOMEM;
		}
		st->attrs = a;
		st->cap_attrs = cap;
	}
	st->attrs[st->n_attrs].name = n;
	st->attrs[st->n_attrs].value = v;
	st->n_attrs++;
	return XU_OK;
}

size_t xu_stanza_attr_count(const struct xu_stanza *st)
{
	return st ? st->n_attrs : 0;
}

void xu_stanza_attr_at(const struct xu_stanza *st, size_t i, const char **name, const char **value)
{
	const char *n = NULL, *v = NULL;

	if (st && i < st->n_attrs) {
		n = st->attrs[i].name;
		v = st->attrs[i].value;
	}
	if (name)
		*name = n;
	if (value)
		*value = v;
}

static struct xu_stanza *stanza_elem_from(struct xu_stanza *c)
{
	while (c && c->is_text)
		c = c->next;
	return c;
}

struct xu_stanza *xu_stanza_child(const struct xu_stanza *st, const char *name, const char *ns)
{
	struct xu_stanza *c;

	if (!st)
		return NULL;
	for (c = stanza_elem_from(st->children); c; c = stanza_elem_from(c->next)) {
		if (name && strcmp(c->name, name) != 0)
			continue;
		if (ns && strcmp(xu_stanza_ns(c), ns) != 0)
			continue;
		return c;
	}
	return NULL;
}

struct xu_stanza *xu_stanza_first(const struct xu_stanza *st)
{
	return st ? stanza_elem_from(st->children) : NULL;
}

struct xu_stanza *xu_stanza_next(const struct xu_stanza *st)
{
	return st ? stanza_elem_from(st->next) : NULL;
}

struct xu_stanza *xu_stanza_parent(const struct xu_stanza *st)
{
	return st ? st->parent : NULL;
}

enum xu_err xu_stanza_add_child(struct xu_stanza *st, struct xu_stanza *child)
{
	const struct xu_stanza *p;

	if (!child)
		return XU_ERR_USAGE;
	/* A child that already belongs somewhere (or would make a cycle) is not ours to free. */
	if (child->parent || child->is_text)
		return XU_ERR_USAGE;
	for (p = st; p; p = p->parent)
		if (p == child)
			return XU_ERR_USAGE;
	if (!st || st->is_text) {
		xu_stanza_free(child);
		return XU_ERR_USAGE;
	}
	stanza_append(st, child);
	return XU_OK;
}

struct xu_stanza *xu_stanza_add_new(struct xu_stanza *st, const char *name, const char *ns)
{
	struct xu_stanza *c;

	if (!st || st->is_text)
		return NULL;
	c = xu_stanza_new(name, ns);
	if (!c)
		return NULL;
	stanza_append(st, c);
	return c;
}

enum xu_err xu_stanza_add_text(struct xu_stanza *st, const char *text, size_t len)
{
	struct xu_stanza *t;
	char *p;

	if (!st || st->is_text || (!text && len))
		return XU_ERR_USAGE;
	if (!len)
		return XU_OK;
	if (len >= SIZE_MAX / 2 - st->text_len)
		return XU_ERR_NOMEM;
	if (st->text_len + len + 1 > st->text_cap) {
		size_t cap = st->text_cap ? st->text_cap : 32;

		while (cap < st->text_len + len + 1)
			cap *= 2;
		p = realloc(st->text, cap);
		if (!p)
			return XU_ERR_NOMEM;
		st->text = p;
		st->text_cap = cap;
	}
	if (st->last && st->last->is_text) {
		t = st->last;
	} else {
		t = calloc(1, sizeof(*t));
		if (!t)
			return XU_ERR_NOMEM;
		t->is_text = true;
		t->off = st->text_len;
		stanza_append(st, t);
	}
	memcpy(st->text + st->text_len, text, len);
	st->text_len += len;
	st->text[st->text_len] = '\0';
	t->len += len;
	return XU_OK;
}

const char *xu_stanza_text(const struct xu_stanza *st)
{
	return st && st->text ? st->text : "";
}

const char *xu_stanza_child_text(const struct xu_stanza *st, const char *name, const char *ns)
{
	const struct xu_stanza *c = xu_stanza_child(st, name, ns);

	return c ? xu_stanza_text(c) : NULL;
}

/* ---------------------------------------------------------------- serialisation */

enum xu_err xu_xml_escape(struct xu_buf *b, const char *s, size_t len, bool for_attr)
{
	size_t i, run = 0;
	const char *rep;
	enum xu_err err;

	/* Whatever the builder let through, never put bytes on the wire XML cannot carry. */
	if (!xu_utf8_xml_ok(s, len))
		return XU_ERR_DATA;
	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '\r':
			/* A raw CR would come back as LF (XML 1.0 §2.11). */
			rep = "&#13;";
			break;
		case '\'':
			rep = for_attr ? "&apos;" : NULL;
			break;
		case '"':
			rep = for_attr ? "&quot;" : NULL;
			break;
		case '\t':
			/* Attribute-value normalisation (§3.3.3) would turn these into spaces. */
			rep = for_attr ? "&#9;" : NULL;
			break;
		case '\n':
			rep = for_attr ? "&#10;" : NULL;
			break;
		default:
			rep = NULL;
			break;
		}
		if (!rep)
			continue;
		err = xu_buf_add(b, s + run, i - run);
		if (!err)
			err = xu_buf_adds(b, rep);
		if (err)
			return err;
		run = i + 1;
	}
	return xu_buf_add(b, s + run, len - run);
}

/* XML 1.0 (fifth edition) §2.3 NameStartChar, without ':'. */
static bool stanza_name_start(uint32_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (c >= 'a' && c <= 'z') ||
	       (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) ||
	       (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) ||
	       (c >= 0x200C && c <= 0x200D) || (c >= 0x2070 && c <= 0x218F) ||
	       (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
	       (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD) ||
	       (c >= 0x10000 && c <= 0xEFFFF);
}

static bool stanza_name_char(uint32_t c)
{
	return stanza_name_start(c) || c == '-' || c == '.' || (c >= '0' && c <= '9') ||
	       c == 0xB7 || (c >= 0x300 && c <= 0x36F) || (c >= 0x203F && c <= 0x2040);
}

/* A Namespaces in XML NCName: what an unprefixed element or attribute name must be. */
static bool stanza_ncname(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	uint32_t c;
	bool first = true;

	if (len == 0 || !xu_utf8_xml_ok(s, len))
		return false;
	while (i < len) {
		i += xu_utf8_decode(p + i, len - i, &c);
		if (first ? !stanza_name_start(c) : !stanza_name_char(c))
			return false;
		first = false;
	}
	return true;
}

/*
 * A namespace name we can declare. A parser that checks URIs (libxml2 does, and we treat its
 * complaint as fatal) must take it back: so only the characters of an RFC 3986 URI
 * reference, %-escapes well formed (the structure, e.g. a single '#', is not checked; every
 * URI a parser accepted passes). XML and XMLNS's own names are reserved (Namespaces §3).
 */
static bool stanza_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool stanza_uri_ok(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (len - i < 3 || !stanza_hex(s[i + 1]) || !stanza_hex(s[i + 2]))
				return false;
			i += 2;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		             (c >= '0' && c <= '9') ||
		             (c && strchr("-._~:/?#[]@!$&'()*+,;=", c)))) {
			return false;
		}
	}
	return (len != strlen(XU_NS_XML) || memcmp(s, XU_NS_XML, len) != 0) &&
	       (len != strlen(STANZA_NS_XMLNS) || memcmp(s, STANZA_NS_XMLNS, len) != 0);
}

static bool stanza_ns_ok(const char *ns)
{
	return stanza_uri_ok(ns, strlen(ns));
}

/* For "{uri}local": where the uri ends, or NULL when name is not in that form. The last '}'
 * ends it: a URI may contain '}', a local name may not. */
static const char *stanza_clark_end(const char *name)
{
	return name[0] == '{' ? strrchr(name, '}') : NULL;
}

/* Write one attribute; namespaced ones ("{uri}local") use the prefix ns<j>, where j is the
 * first attribute with that URI, declared there (declarations may sit anywhere in a tag). */
static enum xu_err stanza_write_attr(const struct xu_stanza *st, size_t i, struct xu_buf *b)
{
	const char *name = st->attrs[i].name, *end = stanza_clark_end(name), *e2;
	size_t j, ulen;
	enum xu_err err;

	if (end) {
		ulen = (size_t)(end - name - 1);
		if (ulen == 0 || !stanza_ncname(end + 1, strlen(end + 1)))
			return XU_ERR_DATA;
		for (j = 0; j < i; j++) {
			e2 = stanza_clark_end(st->attrs[j].name);
			if (e2 && (size_t)(e2 - st->attrs[j].name - 1) == ulen &&
			    memcmp(st->attrs[j].name + 1, name + 1, ulen) == 0)
				break;
		}
		if (j == i) {
			if (!stanza_uri_ok(name + 1, ulen))
				return XU_ERR_DATA;
			err = xu_buf_addf(b, " xmlns:ns%zu='", j);
			if (!err)
				err = xu_xml_escape(b, name + 1, ulen, true);
			if (!err)
				err = xu_buf_add(b, "'", 1);
			if (err)
				return err;
		}
		err = xu_buf_addf(b, " ns%zu:%s='", j, end + 1);
	} else if (strncmp(name, "xml:", 4) == 0) {
		if (!stanza_ncname(name + 4, strlen(name + 4)))
			return XU_ERR_DATA;
		err = xu_buf_addf(b, " %s='", name);
	} else {
		if (!stanza_ncname(name, strlen(name)) || strcmp(name, "xmlns") == 0)
			return XU_ERR_DATA;
		err = xu_buf_addf(b, " %s='", name);
	}
	if (!err)
		err = xu_xml_escape(b, st->attrs[i].value, strlen(st->attrs[i].value), true);
	if (!err)
		err = xu_buf_add(b, "'", 1);
	return err;
}

static enum xu_err stanza_write_el(const struct xu_stanza *st, const char *inherited,
                                   struct xu_buf *b)
{
	const struct xu_stanza *c;
	const char *ns = xu_stanza_ns(st), *prefix = "";
	size_t i, nlen;
	enum xu_err err;

	nlen = strlen(st->name);
	if (!stanza_ncname(st->name, nlen))
		return XU_ERR_DATA;
	if (strcmp(ns, XU_NS_XML) == 0) {
		/* Its namespace cannot be the default one, but its prefix is always bound
		 * (Namespaces in XML §3); the default stays what it was for the children. */
		prefix = "xml:";
		ns = inherited;
	} else if (!stanza_ns_ok(ns)) {
		return XU_ERR_DATA;
	}
	err = xu_buf_addf(b, "<%s", prefix);
	if (!err)
		err = xu_buf_add(b, st->name, nlen);
	if (!err && strcmp(ns, inherited) != 0) {
		err = xu_buf_adds(b, " xmlns='");
		if (!err)
			err = xu_xml_escape(b, ns, strlen(ns), true);
		if (!err)
			err = xu_buf_add(b, "'", 1);
	}
	for (i = 0; !err && i < st->n_attrs; i++)
		err = stanza_write_attr(st, i, b);
	if (err)
		return err;
	if (!st->children)
		return xu_buf_add(b, "/>", 2);
	err = xu_buf_add(b, ">", 1);
	for (c = st->children; !err && c; c = c->next) {
		if (c->is_text)
			err = xu_xml_escape(b, st->text + c->off, c->len, false);
		else
			err = stanza_write_el(c, ns, b);
	}
	if (!err)
		err = xu_buf_addf(b, "</%s", prefix);
	if (!err)
		err = xu_buf_add(b, st->name, nlen);
	if (!err)
		err = xu_buf_add(b, ">", 1);
	return err;
}

enum xu_err xu_stanza_write(const struct xu_stanza *st, const char *default_ns, struct xu_buf *b)
{
	size_t mark;
	enum xu_err err;

	if (!st || st->is_text || !b)
		return XU_ERR_USAGE;
	mark = b->len;
	err = stanza_write_el(st, default_ns ? default_ns : "", b);
	if (err) {
		/* Leave nothing half-written behind. */
		b->len = mark;
		if (b->data)
			b->data[mark] = '\0';
	}
	return err;
}

enum xu_err xu_stanza_to_xml(const struct xu_stanza *st, char **out, size_t *len)
{
	struct xu_buf b;
	enum xu_err err;

	xu_buf_init(&b, 0);
	err = xu_stanza_write(st, XU_NS_CLIENT, &b);
	if (!err)
		err = xu_buf_take(&b, out, len);
	xu_buf_free(&b);
	return err;
}

/* What must not reach a terminal raw (as in escape.c): C0 controls (LF and CR included, so that
 * a record is one line), DEL, C1, bidi controls (UAX #9) and the line/paragraph separators. */
static bool stanza_line_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
	       cp == 0x200F || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The stanza as XML on one line: in text and attribute values, LF, CR and the other
 * characters above become character references, which parse back to the same tree. The
 * serialiser quotes attributes with ' (and escapes it inside), never writes a raw '<' in text
 * and only ASCII in namespace names, so three states suffice to know where we are. Element
 * and attribute names are left alone: a reference there would be no XML (of the characters
 * above only U+061C can occur in a name).
 */
enum xu_err xu_stanza_to_line(const struct xu_stanza *st, char **out, size_t *outlen)
{
	struct xu_buf b;
	enum { LINE_TEXT, LINE_TAG, LINE_VALUE } where = LINE_TEXT;
	const unsigned char *x;
	char *xml = NULL;
	size_t len = 0, i = 0, run = 0, n;
	uint32_t cp;
	enum xu_err err;

	xu_buf_init(&b, 0);
	err = xu_stanza_to_xml(st, &xml, &len);
	x = (const unsigned char *)xml;
	while (!err && i < len) {
		n = xu_utf8_decode(x + i, len - i, &cp);
		if (n == 0) {
			/* The serialiser checked every string; this would be its bug. */
			err = XU_ERR_INTERNAL;
			break;
		}
		if (where == LINE_TEXT && cp == '<')
			where = LINE_TAG;
		else if (where == LINE_TAG && cp == '>')
			where = LINE_TEXT;
		else if (cp == '\'' && where != LINE_TEXT)
			where = where == LINE_TAG ? LINE_VALUE : LINE_TAG;
		if (where != LINE_TAG && stanza_line_unsafe(cp)) {
			err = xu_buf_add(&b, xml + run, i - run);
			if (!err)
				err = xu_buf_addf(&b, "&#%u;", (unsigned)cp);
			run = i + n;
		}
		i += n;
	}
	if (!err)
		err = xu_buf_add(&b, xml + run, len - run);
	free(xml);
	if (!err)
		err = xu_buf_take(&b, out, outlen);
	xu_buf_free(&b);
	return err;
}

/* ---------------------------------------------------------------- error elements */

const char *xu_error_condition(const struct xu_stanza *err, const char *ns)
{
	struct xu_stanza *c;
	const char *cond = "undefined-condition";

	for (c = err ? xu_stanza_first(err) : NULL; c; c = xu_stanza_next(c))
		if (strcmp(xu_stanza_ns(c), ns) == 0 && strcmp(xu_stanza_name(c), "text") != 0)
			cond = xu_stanza_name(c);
	return cond;
}

void xu_error_describe(const struct xu_stanza *err, const char *ns, char *buf, size_t len)
{
	const char *text = xu_stanza_child_text(err, "text", ns);
	char *esc = NULL;

	if (text && *text && xu_escape(text, strlen(text), XU_ESC_LINE, &esc) == XU_OK)
		snprintf(buf, len, "%s (%s)", xu_error_condition(err, ns), esc);
	else
		snprintf(buf, len, "%s", xu_error_condition(err, ns));
	free(esc);
}

enum xu_err xu_buf_add_stanza_line(struct xu_buf *b, const struct xu_stanza *st)
{
	char *line = NULL;
	size_t len = 0;
	enum xu_err err = xu_stanza_to_line(st, &line, &len);

	if (!err)
		err = xu_buf_add(b, line, len);
	free(line);
	return err;
}
