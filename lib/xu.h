/* xu.h: the public interface of libxu, the XMPP core shared by every xmpp-utils command. */
#ifndef XU_H
#define XU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Errors. Every fallible call returns one of these; XU_OK is 0. The detail (a message, the
 * server's condition) lives on the object the call was made on, or in a `why` out-parameter
 * (a static string) where there is no object yet. cmd/common.c maps them to exit codes.
 */
enum xu_err {
	XU_OK = 0,
	XU_ERR_USAGE,    /* a caller passed something meaningless (exit 64) */
	XU_ERR_DATA,     /* invalid input data: JID, XML, body (65) */
	XU_ERR_NOINPUT,  /* an input file is missing or unreadable (66) */
	XU_ERR_NOHOST,   /* host not found (68) */
	XU_ERR_REFUSED,  /* recipient or service refused: a stanza error (69) */
	XU_ERR_INTERNAL, /* a bug or an impossible state (70) */
	XU_ERR_NOMEM,    /* out of memory (70) */
	XU_ERR_IO,       /* local I/O error (74) */
	XU_ERR_TEMP,     /* connection refused or lost, not confirmed: try again (75) */
	XU_ERR_TIMEOUT,  /* a deadline passed (75) */
	XU_ERR_PROTO,    /* protocol violation by the server, or a stream error (76) */
	XU_ERR_AUTH,     /* authentication failed (77) */
	XU_ERR_TLS,      /* certificate rejected, TLS required but not available (77) */
	XU_ERR_CONFIG,   /* configuration error (78) */
};

/* A short English name for an error code ("timeout", "authentication failed"). */
const char *xu_err_str(enum xu_err err);
/* "GnuTLS 3.7.9, libxml2 2.9.14, ...": the libraries in use at run time, for --version. */
void xu_versions(char *buf, size_t len);

/* Namespaces used across the library and the commands. */
#define XU_NS_CLIENT "jabber:client"
#define XU_NS_STREAMS "http://etherx.jabber.org/streams"
#define XU_NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define XU_NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"
#define XU_NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define XU_NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define XU_NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define XU_NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define XU_NS_SM "urn:xmpp:sm:3"
#define XU_NS_PING "urn:xmpp:ping"
#define XU_NS_LIMITS "urn:xmpp:stream-limits:0"
#define XU_NS_SASL_CB "urn:xmpp:sasl-cb:0"
#define XU_NS_SASL2 "urn:xmpp:sasl:2"
#define XU_NS_BIND2 "urn:xmpp:bind:0"
#define XU_NS_FAST "urn:xmpp:fast:0"
#define XU_NS_XML "http://www.w3.org/XML/1998/namespace"

/* ---------------------------------------------------------------- JIDs (RFC 7622) */

/* A prepared, validated JID. Immutable once parsed. */
struct xu_jid;

/*
 * Parse and prepare `s` (UTF-8, NUL-terminated): localpart with PRECIS UsernameCaseMapped,
 * domainpart with IDNA2008 (U-labels, lower case, trailing dot stripped, IP literals kept),
 * resourcepart with OpaqueString; each part 1..1023 bytes after preparation.
 * Errors: XU_ERR_DATA (invalid, *why says which rule), XU_ERR_NOMEM.
 */
enum xu_err xu_jid_parse(const char *s, struct xu_jid **out, const char **why);
void xu_jid_free(struct xu_jid *jid);
/* Copy. Errors: XU_ERR_NOMEM. */
enum xu_err xu_jid_dup(const struct xu_jid *jid, struct xu_jid **out);
/* A copy without the resource. Errors: XU_ERR_NOMEM. */
enum xu_err xu_jid_to_bare(const struct xu_jid *jid, struct xu_jid **out);
/* Borrowed parts; local and resource are NULL when absent. */
const char *xu_jid_local(const struct xu_jid *jid);
const char *xu_jid_domain(const struct xu_jid *jid);
/* The domainpart as A-labels (ASCII), for DNS and certificate checks. */
const char *xu_jid_domain_ascii(const struct xu_jid *jid);
const char *xu_jid_resource(const struct xu_jid *jid);
/* The whole prepared JID, and the bare one (local@domain or domain). */
const char *xu_jid_full(const struct xu_jid *jid);
const char *xu_jid_bare(const struct xu_jid *jid);
/* Prepared comparison: true when equal (bare: resources ignored). */
bool xu_jid_equal(const struct xu_jid *a, const struct xu_jid *b);
bool xu_jid_bare_equal(const struct xu_jid *a, const struct xu_jid *b);

/* ---------------------------------------------------------------- stanzas (XML trees) */

/*
 * An XML element with its namespace, attributes and children (elements and text, in
 * document order). Produced by the stream parser or built by hand.
 */
struct xu_stanza;

/* New element `name` in namespace `ns` (NULL: inherits its parent's; top level: jabber:client).
 * NULL on out of memory. */
struct xu_stanza *xu_stanza_new(const char *name, const char *ns);
void xu_stanza_free(struct xu_stanza *st);
/* Deep copy; NULL on out of memory. */
struct xu_stanza *xu_stanza_copy(const struct xu_stanza *st);

const char *xu_stanza_name(const struct xu_stanza *st);
/* The element's namespace, resolved through its ancestors; never NULL. */
const char *xu_stanza_ns(const struct xu_stanza *st);
/* Attribute value or NULL. Attributes in the XML namespace are named "xml:lang" etc. */
const char *xu_stanza_attr(const struct xu_stanza *st, const char *name);
/* Set (or with value NULL remove) an attribute. Errors: XU_ERR_NOMEM. */
enum xu_err xu_stanza_set_attr(struct xu_stanza *st, const char *name, const char *value);
/* Number of attributes and the i-th one (borrowed), for iteration. */
size_t xu_stanza_attr_count(const struct xu_stanza *st);
void xu_stanza_attr_at(const struct xu_stanza *st, size_t i, const char **name, const char **value);

/* First child element matching name and ns (either may be NULL for "any"); NULL if none. */
struct xu_stanza *xu_stanza_child(const struct xu_stanza *st, const char *name, const char *ns);
/* Iteration over child elements (text nodes are skipped). */
struct xu_stanza *xu_stanza_first(const struct xu_stanza *st);
struct xu_stanza *xu_stanza_next(const struct xu_stanza *st);
struct xu_stanza *xu_stanza_parent(const struct xu_stanza *st);

/* Append `child` (ownership passes, also on error). Errors: XU_ERR_NOMEM, XU_ERR_USAGE. */
enum xu_err xu_stanza_add_child(struct xu_stanza *st, struct xu_stanza *child);
/* Create and append a child element; returns it (borrowed) or NULL on out of memory. */
struct xu_stanza *xu_stanza_add_new(struct xu_stanza *st, const char *name, const char *ns);
/* Append text (UTF-8, need not be NUL-terminated). Errors: XU_ERR_NOMEM. */
enum xu_err xu_stanza_add_text(struct xu_stanza *st, const char *text, size_t len);
/* The concatenated text children of the element (borrowed; "" when none). */
const char *xu_stanza_text(const struct xu_stanza *st);
/* Text of the first child `name` in `ns`, or NULL when there is no such child. */
const char *xu_stanza_child_text(const struct xu_stanza *st, const char *name, const char *ns);

/* Serialise as XML relative to the jabber:client default namespace; *out is malloc'ed and
 * NUL-terminated. Errors: XU_ERR_NOMEM, XU_ERR_DATA (a hand-built tree holding invalid UTF-8,
 * characters XML cannot carry, or bad names). */
enum xu_err xu_stanza_to_xml(const struct xu_stanza *st, char **out, size_t *len);

/* The same on one line, safe to print: in text and attribute values LF, CR, the other C0
 * controls, DEL, C1, bidi controls and U+2028/9 become character references, which parse
 * back to the same tree. Errors: as xu_stanza_to_xml. */
enum xu_err xu_stanza_to_line(const struct xu_stanza *st, char **out, size_t *len);

/*
 * Parse a sequence of top-level stanzas (e.g. the input of `xmpp-send --xml`) under the same
 * restricted-XML rules and limits as a stream. On success *out is a malloc'ed array of *n
 * stanzas (free each, then the array). Errors: XU_ERR_DATA (*why), XU_ERR_NOMEM.
 */
enum xu_err xu_stanza_parse_list(const char *data, size_t len, struct xu_stanza ***out, size_t *n,
                                 const char **why);

/* The condition of an error element (a stanza's <error/>, a stream error, a SASL failure):
 * the name of its child in `ns` other than <text/>, "undefined-condition" when none (or err
 * NULL). Borrowed. */
const char *xu_error_condition(const struct xu_stanza *err, const char *ns);
/* "condition (text)" of the same, the text escaped for one line. */
void xu_error_describe(const struct xu_stanza *err, const char *ns, char *buf, size_t len);

/* ---------------------------------------------------------------- messages */

/* Build <message to type id><subject/><thread/><body/></message>; subject and thread may be
 * NULL; type is "chat", "normal", "headline" or "groupchat"; id NULL picks a random one.
 * Errors: XU_ERR_NOMEM, XU_ERR_DATA (invalid UTF-8 or characters XML cannot carry). */
enum xu_err xu_message_new(const struct xu_jid *to, const char *type, const char *body,
                           const char *subject, const char *thread, const char *id,
                           struct xu_stanza **out, const char **why);

/* ---------------------------------------------------------------- JSON input (RFC 8259) */

enum xu_json_type {
	XU_JSON_NULL,
	XU_JSON_FALSE,
	XU_JSON_TRUE,
	XU_JSON_NUMBER,
	XU_JSON_STRING,
	XU_JSON_ARRAY,
	XU_JSON_OBJECT,
};

struct xu_json {
	enum xu_json_type type;
	char *str;             /* string (valid UTF-8, no NUL) or number as written */
	size_t len;            /* of str */
	char **keys;           /* object: member names, n of them */
	struct xu_json *items; /* array and object: the n values */
	size_t n;
};

/* Parse one value from s (len bytes), with white space around it; *used is how far it went (the
 * caller decides whether more may follow, e.g. JSON Lines). Strict: valid UTF-8, no NUL in
 * strings, depth at most 64. Errors: XU_ERR_DATA (*why), XU_ERR_NOMEM. */
enum xu_err xu_json_parse(const char *s, size_t len, size_t *used, struct xu_json *out,
                          const char **why);
void xu_json_free(struct xu_json *v);
/* An object's member (the first of that name), or NULL. */
const struct xu_json *xu_json_get(const struct xu_json *obj, const char *key);

/* ---------------------------------------------------------------- data forms, discovery */

#define XU_NS_DATA "jabber:x:data"
#define XU_NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define XU_NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

/* A data form (XEP-0004): its fields with their values, as received. */
struct xu_form_field {
	char *var, *type, *label; /* NULL when absent */
	char **values;
	size_t nvalues;
};
struct xu_form {
	struct xu_form_field *fields;
	size_t n;
};

/* Read <x xmlns='jabber:x:data'/>. Errors: XU_ERR_DATA (not a form), XU_ERR_NOMEM. */
enum xu_err xu_form_parse(const struct xu_stanza *x, struct xu_form **out);
void xu_form_free(struct xu_form *form);
/* The field named var, or NULL. */
const struct xu_form_field *xu_form_get(const struct xu_form *form, const char *var);
/* A submitted form: FORM_TYPE (unless NULL), then var=value for each of n pairs.
 * Errors: XU_ERR_DATA (characters XML cannot carry), XU_ERR_NOMEM. */
enum xu_err xu_form_submit_new(const char *form_type, const char *const *vars,
                               const char *const *values, size_t n, struct xu_stanza **out);

/* XEP-0030 disco#info: the request to `to`, and what the answer says. */
struct xu_disco_info {
	struct {
		char *category, *type, *name; /* "" when absent */
	} * ids;
	size_t nids;
	char **features;
	size_t nfeatures;
	struct xu_form *form; /* the first extension form (XEP-0128), or NULL */
};
enum xu_err xu_disco_info_iq(const char *to, struct xu_stanza **iq);
/* Errors: XU_ERR_PROTO (no <query/>), XU_ERR_NOMEM. */
enum xu_err xu_disco_info_parse(const struct xu_stanza *reply, struct xu_disco_info **out);
void xu_disco_info_free(struct xu_disco_info *info);
bool xu_disco_has_feature(const struct xu_disco_info *info, const char *var);

/* disco#items, paged (XEP-0059) when max > 0: after an RSM id. *last (borrowed from reply)
 * is where the next page starts, NULL when the answer was not paged.
 * Errors: XU_ERR_PROTO (no <query/>), XU_ERR_NOMEM. */
struct xu_disco_item {
	char *jid, *name; /* name "" when absent */
};
enum xu_err xu_disco_items_iq(const char *to, const char *after, unsigned max,
                              struct xu_stanza **iq);
enum xu_err xu_disco_items_parse(const struct xu_stanza *reply, struct xu_disco_item **items,
                                 size_t *n, const char **last);
void xu_disco_items_free(struct xu_disco_item *items, size_t n);

/* ---------------------------------------------------------------- chat rooms (XEP-0045) */

#define XU_NS_MUC "http://jabber.org/protocol/muc"
#define XU_NS_MUC_USER "http://jabber.org/protocol/muc#user"
#define XU_NS_MUC_OWNER "http://jabber.org/protocol/muc#owner"
#define XU_NS_MUC_ADMIN "http://jabber.org/protocol/muc#admin"

struct xu_conn; /* see "connections" below */

/* The join presence to room/nick, with a password, and asking for `history` messages of
 * history (-1: the room's default), only those since an XEP-0082 time (or NULL).
 * Errors: XU_ERR_NOMEM, XU_ERR_DATA (password or since). */
enum xu_err xu_muc_join_new(const struct xu_jid *occupant, const char *password, int history,
                            const char *since, struct xu_stanza **out);
/* Whether a presence carries muc#user status `code` ("110": ours, "201": created...). */
bool xu_muc_has_status(const struct xu_stanza *st, const char *code);
/* What a join or message error condition means in a room ("members only"), or NULL. */
const char *xu_muc_error_hint(const char *cond);

struct xu_muc_join_opts {
	const char *password; /* or NULL */
	bool no_rename;       /* fail on a nickname in use instead of trying nick-2 .. nick-9 */
	bool create;          /* the room must be new: we create it (201), else XU_ERR_REFUSED */
	int history;          /* messages of history to ask for (0: none, -1: the room's choice) */
	const char *since;    /* and only since this XEP-0082 time, or NULL */
	/* Called with each other occupant's presence the room sends before ours, or NULL. */
	void (*occupant)(void *ctx, const struct xu_stanza *presence);
	void *ctx;
};

/* Blocking, for one-shot use of a connection (what else arrives meanwhile is dropped): join
 * room as nick and wait for our own presence (status 110); *occupant is the JID we got (the
 * room may change the nick, 210). A room that did not exist, which the join created (201), is
 * left again and refused, unless opts->create (then an existing room is refused). What the
 * room sends after our presence (history, subject) stays queued for the caller.
 * Errors: XU_ERR_REFUSED (why: "registration-required (members only)"...), XU_ERR_NOHOST (no
 * such chat service), XU_ERR_TIMEOUT, XU_ERR_TEMP, XU_ERR_DATA, XU_ERR_NOMEM. */
enum xu_err xu_muc_join(struct xu_conn *conn, const struct xu_jid *room, const char *nick,
                        const struct xu_muc_join_opts *opts, struct xu_jid **occupant, char *why,
                        size_t whylen);
/* Blocking: send n groupchat messages (each with an id; ownership passes) and wait until the
 * room has reflected every one back to occupant (XEP-0045 §7.4), or refused one.
 * *confirmed says how many were reflected. Errors: as xu_muc_join, XU_ERR_USAGE (no id). */
enum xu_err xu_muc_send(struct xu_conn *conn, const struct xu_jid *occupant,
                        struct xu_stanza **msgs, size_t n, size_t *confirmed, char *why,
                        size_t whylen);
/* Blocking: set the room's subject (XEP-0045 §8.1) and wait until the room announces it, or
 * refuses (XU_ERR_REFUSED: why). Errors: also XU_ERR_DATA (text), XU_ERR_TIMEOUT. */
enum xu_err xu_muc_set_subject(struct xu_conn *conn, const struct xu_jid *occupant,
                               const char *text, char *why, size_t whylen);
/* Blocking: leave the room (unavailable presence, confirmed by the server). */
enum xu_err xu_muc_leave(struct xu_conn *conn, const struct xu_jid *occupant);

/* Requests to a room (no id yet). Errors: XU_ERR_NOMEM, XU_ERR_DATA (text XML cannot carry).
 * admin (§9, §8): set the role of nick, or the affiliation of jid, with a reason or NULL. */
enum xu_err xu_muc_admin_iq(const struct xu_jid *room, const char *nick, const char *jid,
                            const char *role, const char *affiliation, const char *reason,
                            struct xu_stanza **iq);
/* owner (§10): get the configuration form (form NULL), or submit one (ownership passes). */
enum xu_err xu_muc_owner_iq(const struct xu_jid *room, struct xu_stanza *form,
                            struct xu_stanza **iq);
/* owner (§10.9): destroy the room. */
enum xu_err xu_muc_destroy_iq(const struct xu_jid *room, const char *reason, struct xu_stanza **iq);
/* An invitation to room for `to`: mediated through the room (§7.8.2), or direct (XEP-0249). */
enum xu_err xu_muc_invite_new(const struct xu_jid *room, const char *to, const char *reason,
                              bool direct, struct xu_stanza **msg);

/* How commands print what they receive (records, roster items, presence): text lines, JSON
 * lines or XML stanzas, one per line. */
enum xu_rec_format {
	XU_REC_TEXT,
	XU_REC_JSON,
	XU_REC_XML,
	XU_REC_TEXT_COLOR, /* text, with SGR colours around the fields (for a terminal) */
};

/* ---------------------------------------------------------------- roster and blocklist */

#define XU_NS_ROSTER "jabber:iq:roster"
#define XU_NS_BLOCKING "urn:xmpp:blocking"

/* A contact (RFC 6121 §2.1.2). */
struct xu_roster_item {
	char *jid;          /* prepared bare JID */
	char *name;         /* NULL: none */
	char *subscription; /* "none", "to", "from" or "both" */
	bool ask;           /* our subscription request is pending */
	bool approved;      /* pre-approved (RFC 6121 §3.4) */
	char **groups;      /* each once, sorted */
	size_t ngroups, groups_cap;
};

struct xu_roster {
	struct xu_roster_item *items; /* sorted by jid, each once */
	size_t n, cap;
};

/* The roster of a <iq type='result'><query xmlns='jabber:iq:roster'/></iq>. Items that are no
 * bare JID are left out; unknown subscription values read as "none". Errors: XU_ERR_NOMEM. */
enum xu_err xu_roster_parse(const struct xu_stanza *reply, struct xu_roster **out);
/* The same from the <query/> element itself (an export file); NULL gives an empty roster. */
enum xu_err xu_roster_parse_query(const struct xu_stanza *query, struct xu_roster **out);
void xu_roster_free(struct xu_roster *roster);
/* An item as <item xmlns='jabber:iq:roster'/> with all its attributes and groups, or as one line
 * of text (tab-separated jid, name, subscription, ask, groups joined by commas; values escaped
 * for the terminal; fmt XU_REC_TEXT or XU_REC_TEXT_COLOR) or JSON (keys jid name subscription
 * ask approved groups), LF-terminated, *out malloc'ed. Errors: XU_ERR_NOMEM, XU_ERR_USAGE
 * (XU_REC_XML: that is xu_roster_item_stanza's). */
enum xu_err xu_roster_item_stanza(const struct xu_roster_item *item, struct xu_stanza **out);
enum xu_err xu_roster_item_format(const struct xu_roster_item *item, enum xu_rec_format fmt,
                                  char **out, size_t *len);
/* The contacts' bare JIDs, one per line, as <dir>/roster.<account's bare JID> (mode 0600; dir is
 * the cache directory, NULL: nothing): what the shell completions offer as JIDs.
 * Errors: XU_ERR_IO, XU_ERR_USAGE, XU_ERR_NOMEM; message in errbuf. */
enum xu_err xu_roster_cache_store(const char *dir, const char *account,
                                  const struct xu_roster *roster, char *errbuf, size_t errlen);
/* The item of a prepared bare JID, or NULL. */
const struct xu_roster_item *xu_roster_find(const struct xu_roster *roster, const char *bare);
/* Add a group to an item (once, kept sorted). Errors: XU_ERR_NOMEM. */
enum xu_err xu_roster_item_add_group(struct xu_roster_item *item, const char *group);
/* Free what an item holds. */
void xu_roster_item_clear(struct xu_roster_item *item);
/* Sort items by JID, keeping the first of a JID listed twice (after building one by hand). */
void xu_roster_sort(struct xu_roster *roster);
/* Same name and groups (what a roster set can change). */
bool xu_roster_item_same(const struct xu_roster_item *a, const struct xu_roster_item *b);

/* Requests (no id yet): the roster get; a roster set of item's jid, name and groups, or with
 * remove its removal (which also cancels both subscriptions, RFC 6121 §2.5.2).
 * Errors: XU_ERR_NOMEM, XU_ERR_DATA (a name or group with characters XML cannot carry). */
enum xu_err xu_roster_get_iq(struct xu_stanza **iq);
enum xu_err xu_roster_set_iq(const struct xu_roster_item *item, bool remove, struct xu_stanza **iq);
/* A subscription presence (RFC 6121 §3): type subscribe, subscribed, unsubscribe or
 * unsubscribed, to a bare JID. Errors: XU_ERR_USAGE (type), XU_ERR_NOMEM. */
enum xu_err xu_subscription_new(const char *to, const char *type, struct xu_stanza **out);

/* XEP-0191: the blocklist get, a block or unblock of one JID, and the JIDs of a blocklist
 * result (*jids malloc'ed, each too). Errors: XU_ERR_NOMEM. */
enum xu_err xu_blocklist_get_iq(struct xu_stanza **iq);
enum xu_err xu_block_iq(bool block, const char *jid, struct xu_stanza **iq);
enum xu_err xu_blocklist_parse(const struct xu_stanza *reply, char ***jids, size_t *n);

/* ---------------------------------------------------------------- the message archive */

#define XU_NS_MAM "urn:xmpp:mam:2"
#define XU_NS_RSM "http://jabber.org/protocol/rsm"
#define XU_NS_SID "urn:xmpp:sid:0"
#define XU_NS_FORWARD "urn:xmpp:forward:0"
#define XU_NS_DELAY "urn:xmpp:delay"

/* One page of an XEP-0313 query of the account's archive, paged with XEP-0059 RSM. */
struct xu_mam_page {
	const char *to;      /* whose archive: a room's JID, or NULL for the account's */
	const char *queryid; /* names the results (required) */
	const char *after;   /* archive id: only what came after it, or NULL */
	const char *start;   /* XEP-0082 time: only what came at or after it, or NULL */
	bool newest;         /* the newest `max` items only */
	unsigned max;        /* page size (0: 50); the server may send fewer */
};

/* The <iq type='set'/> for one page (no id yet). Errors: XU_ERR_NOMEM. */
enum xu_err xu_mam_query(const struct xu_mam_page *page, struct xu_stanza **iq);

/* When `msg` is a result of query `queryid` from the archive of `archive` (the account's own
 * JID, or a room's: from absent (our server) or that bare JID; anything else is ignored as
 * forged), *item is a copy of the archived message with the archive's XEP-0203 delay attached
 * and *id its archive id (borrowed from msg); else both NULL. Errors: XU_ERR_NOMEM. */
enum xu_err xu_mam_result(const struct xu_stanza *msg, const char *queryid, const struct xu_jid *me,
                          struct xu_stanza **item, const char **id);

/* The end of a page, from the query's answer: whether the archive has nothing more, and the
 * last id of the page (borrowed; NULL for an empty page). Errors: XU_ERR_REFUSED (an error
 * answer: its condition in why, e.g. "item-not-found"), XU_ERR_PROTO (no <fin/>). */
enum xu_err xu_mam_fin(const struct xu_stanza *reply, bool *complete, const char **last, char *why,
                       size_t whylen);

/* XEP-0359: the <stanza-id/> that `by` (compared as a bare JID) put on msg, or NULL. */
const char *xu_stanza_id_by(const struct xu_stanza *msg, const struct xu_jid *by);

/* ---------------------------------------------------------------- records (received stanzas) */

/* What a received message or presence says, for printing; strings borrowed from the stanza
 * unless noted, NULL when absent. */
struct xu_record {
	const char *kind;   /* "message" or "presence" */
	char timestamp[32]; /* UTC "YYYY-MM-DDTHH:MM:SS[.mmm]Z": XEP-0203 delay, else arrival */
	bool delayed;
	const char *from, *to, *type, *id;
	const char *body, *subject, *thread; /* messages */
	const char *show, *status;           /* presence */
	int priority;                        /* presence; 0 when absent */
	char *room, *nick; /* groupchat: bare JID of from and its resource (owned) */
	const struct xu_stanza *stanza;
};

/* Unix milliseconds as XEP-0082 UTC, "YYYY-MM-DDTHH:MM:SS[.mmm]Z"; false outside years
 * 0000..9999. */
bool xu_utc_stamp(int64_t unix_ms, bool with_ms, char out[32]);
/* The other way: a XEP-0082 DateTime (any offset) as Unix milliseconds; false when invalid. */
bool xu_utc_parse(const char *stamp, int64_t *unix_ms);

/* Fill rec from a <message/> or <presence/>; arrival_ms is the arrival time (Unix ms).
 * Errors: XU_ERR_DATA (not a message or presence), XU_ERR_NOMEM. */
enum xu_err xu_record_from_stanza(const struct xu_stanza *st, int64_t arrival_ms,
                                  struct xu_record *rec);
void xu_record_clear(struct xu_record *rec);
/* One record, terminated by LF (or NUL when nul; text then keeps body and subject byte-exact).
 * *out is malloc'ed. Errors: XU_ERR_NOMEM, XU_ERR_DATA. */
enum xu_err xu_record_format(const struct xu_record *rec, enum xu_rec_format fmt, bool nul,
                             char **out, size_t *len);

/* A record of named string fields (room info, occupants, form fields...): text is the values
 * separated by tabs, each escaped for one line (NULL: empty); JSON an object of the keys (NULL:
 * null); XML the stanza st on one line. LF-terminated, *out malloc'ed.
 * Errors: XU_ERR_NOMEM, XU_ERR_DATA, XU_ERR_USAGE (XML without st). */
enum xu_err xu_fields_format(enum xu_rec_format fmt, const struct xu_stanza *st,
                             const char *const *keys, const char *const *vals, size_t n, char **out,
                             size_t *len);

/* ---------------------------------------------------------------- presence, service discovery */

/* Initial presence (RFC 6121 §4.2) with XEP-0115 caps: show NULL or away/chat/dnd/xa, status
 * NULL or text, priority -128..127. Errors: XU_ERR_USAGE (*why), XU_ERR_DATA, XU_ERR_NOMEM. */
enum xu_err xu_presence_new(const char *show, const char *status, int priority,
                            struct xu_stanza **out, const char **why);

/* ---------------------------------------------------------------- contacts' presence */

#define XU_NS_CAPS "http://jabber.org/protocol/caps"
#define XU_NS_LAST "jabber:iq:last"

/* What is known of one available resource of a contact, or of a contact with none available.
 * Strings are borrowed (from the stanza, or the JID it was asked for), NULL when absent. */
struct xu_presence_info {
	const char *jid; /* the resource's full JID; the JID asked for when unavailable */
	bool available;
	const char *show; /* as sent: away, chat, dnd, xa */
	const char *status;
	int priority;          /* -128..127; 0 when absent or invalid (RFC 6121 §4.7.2.3) */
	const char *caps_node; /* XEP-0115 <c node=''/> */
	int64_t last_seen;     /* unavailable: Unix time it was last seen (XEP-0012); -1 unknown */
	const struct xu_stanza *stanza; /* the presence it comes from, or NULL */
};

/* Fill *info from a received available or unavailable <presence/> (info->jid is its from).
 * Errors: XU_ERR_DATA (not a presence, or one of another type: subscribe, probe, error...). */
enum xu_err xu_presence_info_from(const struct xu_stanza *st, struct xu_presence_info *info);
/* XEP-0115 §4: the node of the <c/> a presence carries, or NULL. */
const char *xu_presence_caps_node(const struct xu_stanza *st);

/* The presences heard on one connection: the latest of each resource (RFC 6121 §4.4.2). */
struct xu_presences;

/* Resources kept at most: anyone may send us presence, so what they can make us hold is capped. */
#define XU_PRESENCES_MAX 65536

/* Errors: XU_ERR_NOMEM. */
enum xu_err xu_presences_new(struct xu_presences **out);
void xu_presences_free(struct xu_presences *ps);
/* Take note of a received <presence/> (copied when kept). An available one replaces what its
 * resource said before; an unavailable one removes that resource, or, from a bare JID, every
 * resource of the contact, and is kept as the contact's last word. Other types, and presence
 * without a valid from, change nothing; past XU_PRESENCES_MAX new resources are ignored.
 * Errors: XU_ERR_NOMEM. */
enum xu_err xu_presences_add(struct xu_presences *ps, const struct xu_stanza *st);
/* The available resources that jid names (bare: all the contact's; full: that one), in the
 * order they became available: the first `max` into out; returns how many there are. */
size_t xu_presences_available(const struct xu_presences *ps, const struct xu_jid *jid,
                              struct xu_presence_info *out, size_t max);
/* A contact (or resource) without available resources: info for jid, with the status of the
 * last unavailable presence heard from its bare JID, if any, and last_seen -1. */
void xu_presences_unavailable(const struct xu_presences *ps, const struct xu_jid *jid,
                              struct xu_presence_info *info);

/* XEP-0012 §4: <iq type='get' to='BARE'><query xmlns='jabber:iq:last'/></iq> (no id yet).
 * Errors: XU_ERR_NOMEM. */
enum xu_err xu_last_query(const struct xu_jid *to, struct xu_stanza **iq);
/* Its answer: the seconds since the contact was last available, and the status it left with
 * (borrowed, NULL when none). Errors: XU_ERR_REFUSED (an error answer; the condition in why),
 * XU_ERR_PROTO (no <query/>, or no valid seconds). */
enum xu_err xu_last_parse(const struct xu_stanza *reply, uint64_t *seconds, const char **status,
                          char *why, size_t whylen);

/* One record, LF-terminated. text: "JID available SHOW PRIORITY NODE[: STATUS]" or "JID
 * unavailable LAST_SEEN[: STATUS]" ('-' for what is absent; peer text escaped); json: one object
 * with the keys jid available show status priority node last_seen (null when absent); xml: the
 * presence on one line (for an unavailable contact none was heard from, one made up; a known
 * last_seen as its XEP-0203 delay). *out is malloc'ed. Errors: XU_ERR_NOMEM, XU_ERR_USAGE. */
enum xu_err xu_presence_format(const struct xu_presence_info *p, enum xu_rec_format fmt, char **out,
                               size_t *len);

/* ---------------------------------------------------------------- output escaping */

enum xu_esc_mode {
	XU_ESC_LINE,     /* one record per line: LF, CR, TAB escaped as \n \r \t */
	XU_ESC_TERMINAL, /* human text: LF kept but continuation lines indented, TAB kept */
	XU_ESC_IDENT,    /* identifiers (nicks, names): also zero-width/default-ignorables */
};
/* Escape peer-controlled text for printing (controls, C1, bidi, U+2028/9, backslash).
 * Invalid UTF-8 bytes become \xHH. *out is malloc'ed, valid UTF-8.
 * Errors: XU_ERR_NOMEM, XU_ERR_USAGE (in NULL with len > 0). */
enum xu_err xu_escape(const char *in, size_t len, enum xu_esc_mode mode, char **out);
/* JSON string contents (without the quotes), RFC 8259: quote, backslash and controls escaped,
 * and DEL, C1, bidi controls and U+2028/9 as \uXXXX too; other non-ASCII stays UTF-8;
 * invalid UTF-8 bytes become U+FFFD. Errors: XU_ERR_NOMEM, XU_ERR_USAGE (as above). */
enum xu_err xu_json_escape(const char *in, size_t len, char **out);

/* ---------------------------------------------------------------- configuration */

/* One account of the configuration file; absent values are NULL / -1. */
struct xu_account {
	char *name;
	char *jid;
	char *password;
	char *password_file;
	char *password_command;
	char *host;
	int port;       /* -1: unset */
	int direct_tls; /* -1: unset, 0, 1 */
	char *cafile;
	char *pin;
	int insecure;        /* -1, 0, 1 */
	int allow_plaintext; /* -1, 0, 1 */
	char *resource;
	char *mechanism;
	int timeout; /* seconds, -1: unset */
};

struct xu_config;

/*
 * Load `path`, or with NULL the default $XDG_CONFIG_HOME/xmpp-utils/config (~/.config/...).
 * A sendxmpp or go-sendxmpp file is read too (format detected from its first significant line,
 * xmpp-utils.conf(5) COMPATIBILITY): its one account, named "sendxmpp", is the default.
 * A missing default file is not an error (an empty config results); a missing explicit path
 * is XU_ERR_NOINPUT. A file readable or writable by others that holds a password is refused
 * (XU_ERR_CONFIG). On error *errmsg (malloc'ed) says what and where ("file:line: ...").
 * Errors: XU_ERR_NOINPUT, XU_ERR_CONFIG, XU_ERR_IO, XU_ERR_NOMEM.
 */
enum xu_err xu_config_load(const char *path, struct xu_config **out, char **errmsg);
void xu_config_free(struct xu_config *cfg);
/* The account `name`, or with NULL the default one (the `default` key, or the only account).
 * NULL when there is none. Borrowed. */
const struct xu_account *xu_config_account(const struct xu_config *cfg, const char *name);

/* ---------------------------------------------------------------- connections */

enum xu_log_level {
	XU_LOG_ERROR = 0,
	XU_LOG_WARN = 1,
	XU_LOG_INFO = 2,  /* connection steps (-v) */
	XU_LOG_DEBUG = 3, /* the XML trace, secrets redacted (--debug) */
};

typedef void xu_log_fn(void *ctx, enum xu_log_level level, const char *msg);

struct xu_conn_opts {
	const char *jid;       /* account JID (bare or full) */
	const char *password;  /* copied and wiped on free */
	const char *host;      /* NULL: DNS SRV, then the domain */
	unsigned port;         /* 0: default (5222, or 5223 with direct_tls) */
	bool direct_tls;       /* XEP-0368: TLS from the first byte */
	const char *cafile;    /* NULL: system trust store */
	const char *pin;       /* "sha256:BASE64" SPKI pin, or NULL */
	bool insecure;         /* skip certificate verification (warns) */
	bool allow_plaintext;  /* accept a server without STARTTLS */
	const char *resource;  /* NULL: server-chosen */
	const char *mechanism; /* force a SASL mechanism, or NULL */
	unsigned timeout_ms;   /* deadline for each blocking helper (0: 30 s) */
	xu_log_fn *log;
	void *log_ctx;
	enum xu_log_level log_level;
	/* Long-lived connections (xmpp-listen): after this long without traffic, probe the
	 * server (XEP-0198 <r/> or XEP-0199 ping); no answer within timeout_ms is a lost
	 * connection. 0: never. */
	unsigned keepalive_ms;
	/* Keep received messages and presences for xu_conn_next (else they are dropped). */
	bool queue_stanzas;
	/* Answer XEP-0184 receipt requests on received messages. */
	bool answer_receipts;
	/* Ask for a resumable XEP-0198 session (see xu_conn_resume_from). */
	bool resumable;
	/* Keep a copy of each stanza of xu_conn_send until the server confirms it (also without
	 * stream management); a connection opened with xu_conn_resume_from that cannot resume
	 * (or had nothing to resume) sends those again, ids unchanged, as soon as its new session
	 * is bound (see xu_conn_resent). */
	bool resend_unacked;
	/* One-shot use, fewest round trips: xu_conn_open returns once authenticated, with the
	 * resource binding on its way behind the stream restart; what is sent from then on goes
	 * in the same flight (the server handles a stream in order, RFC 6120 §10.1). With a
	 * cache_dir that knows the server, the SASL <auth/> goes with the stream header and
	 * binding (and <enable/>) with the restart header; without, the features decide. A
	 * connection opened with xu_conn_resume_from does not pipeline. */
	bool pipeline;
	/* Directory of per-account hints (what the server offered last time, the SCRAM key; see
	 * FILES in xmpp-send(1)), read at xu_conn_open and rewritten when they change. NULL:
	 * none. */
	const char *cache_dir;
};

struct xu_conn;

/* Validate options and allocate. Nothing is sent. On failure other than XU_ERR_NOMEM *out is
 * still set, so that xu_conn_errmsg() can say why; free it.
 * Errors: XU_ERR_DATA (bad JID), XU_ERR_USAGE (bad pin, port), XU_ERR_NOMEM. */
enum xu_err xu_conn_new(const struct xu_conn_opts *opts, struct xu_conn **out);
void xu_conn_free(struct xu_conn *conn);
/* What the last failure was, in one line (never NULL). */
const char *xu_conn_errmsg(const struct xu_conn *conn);
/* The bound full JID once open; NULL before. */
const struct xu_jid *xu_conn_jid(const struct xu_conn *conn);

/* Reset the deadline of the blocking helpers to now + ms. */
void xu_conn_set_timeout(struct xu_conn *conn, unsigned ms);

/* Blocking: resolve, connect, TLS, authenticate, bind, enable stream management.
 * Errors: every network, TLS, SASL and protocol error. */
enum xu_err xu_conn_open(struct xu_conn *conn);

/* Queue a stanza (ownership passes, also on error); it is tracked until the server confirms
 * it. Errors: XU_ERR_NOMEM, XU_ERR_TEMP (connection not open). */
enum xu_err xu_conn_send(struct xu_conn *conn, struct xu_stanza *st);

/* Blocking: until the server has confirmed every stanza sent so far (XEP-0198 <a/>, or an
 * XEP-0199 ping answered after them). A stanza error for one of them fails with
 * XU_ERR_REFUSED and names the recipient and condition. */
enum xu_err xu_conn_flush(struct xu_conn *conn);

/* Blocking: </stream:stream>, then a bounded wait for the server's. Never fails the run once
 * everything is confirmed; returns the first error seen. */
enum xu_err xu_conn_close(struct xu_conn *conn);

/* Take the next received <message/> or <presence/> (with queue_stanzas); *st is NULL when
 * there is none. Ownership passes. Carbons and roster pushes from anyone but the account
 * itself never get here (RFC 6121 §2.1.6, XEP-0280 §11). At most a bounded number are kept:
 * while the queue is full the connection stops reading.
 * The stanza counts as handled (the XEP-0198 h the server sees, so the server forgets it) only
 * once the caller says so with xu_conn_handled or comes back for the next one: a stanza the
 * caller dies holding is redelivered. */
enum xu_err xu_conn_next(struct xu_conn *conn, struct xu_stanza **st);
void xu_conn_handled(struct xu_conn *conn);

/* Carry a lost session over to a new connection, before xu_conn_open: with `resumable` and a
 * server that granted resumption, xu_conn_open resumes `old`'s session (XEP-0198 §5): the
 * server redelivers what we had not handled and we send again what it had not acknowledged.
 * When the server refuses, xu_conn_open starts a new session instead (with resend_unacked,
 * sending again what `old` left unconfirmed). `old` may itself be a failed attempt to resume
 * or reconnect: what it carried passes on. Call after everything taken from `old` is handled;
 * `old` is only to be freed afterwards.
 * Errors: XU_ERR_USAGE (conn already opened). */
enum xu_err xu_conn_resume_from(struct xu_conn *conn, struct xu_conn *old);
/* Whether the server offered stream feature <name xmlns=ns/> after authentication (e.g.
 * RFC 6121 §3.4 pre-approval: "sub", "urn:xmpp:features:pre-approval"). */
bool xu_conn_feature(const struct xu_conn *conn, const char *name, const char *ns);
/* Whether xu_conn_open resumed a session (presence, carbons and rooms carry on) rather than
 * starting a new one. */
bool xu_conn_resumed(const struct xu_conn *conn);

/* Blocking: send an <iq/> (ownership passes; an id is added when missing) and wait for its
 * result or error, which *reply receives (free it). Errors: XU_ERR_TEMP, XU_ERR_TIMEOUT,
 * XU_ERR_NOMEM; an error reply is XU_OK with type='error' in *reply. */
enum xu_err xu_conn_iq(struct xu_conn *conn, struct xu_stanza *iq, struct xu_stanza **reply);

/* Blocking: poll() + dispatch until until(conn, ctx) returns true, an error, or the deadline
 * (XU_ERR_TIMEOUT, "waiting for WHAT"). `until` runs before each round and may take received
 * stanzas with xu_conn_next; it must, for the queue's bound to let reading go on. */
typedef bool xu_conn_until_fn(struct xu_conn *conn, void *ctx);
enum xu_err xu_conn_wait(struct xu_conn *conn, xu_conn_until_fn *until, void *ctx,
                         const char *what);

/* How many stanzas we sent came back as errors so far, and the latest one's "message to X
 * refused: condition (text)" (borrowed; NULL when none). */
unsigned xu_conn_refused(const struct xu_conn *conn, const char **last);

/* Number of stanzas sent and confirmed so far. */
uint64_t xu_conn_sent(const struct xu_conn *conn);
uint64_t xu_conn_confirmed(const struct xu_conn *conn);
/* Stanzas of xu_conn_send not confirmed yet (they are the latest ones sent), including those
 * carried over by xu_conn_resume_from and not yet confirmed on this connection. */
uint64_t xu_conn_unconfirmed(const struct xu_conn *conn);
/* Stanzas of xu_conn_send that xu_conn_open sent again: what a resumed session had not
 * acknowledged, or (resend_unacked) everything unconfirmed, on a new session; the latter may
 * reach their recipients twice (the server may have routed them before it died). */
uint64_t xu_conn_resent(const struct xu_conn *conn);

/* The non-blocking core, for callers with their own poll() loop. */
int xu_conn_fd(const struct xu_conn *conn);
short xu_conn_events(const struct xu_conn *conn);
/* Milliseconds until dispatch must run even without events; 0 when data is already
 * buffered; -1 for none. */
int xu_conn_timeout_ms(const struct xu_conn *conn);
enum xu_err xu_conn_dispatch(struct xu_conn *conn, short revents);

#endif
