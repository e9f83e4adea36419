/* roster.c: xmpp-roster: the contact list, presence subscriptions and the blocklist from the
 * shell. Every change waits for the server's answer; a batch reports each failure.
 *
 * usage: xmpp-roster [OPTIONS] COMMAND [JID...]
 * On a terminal, import shows its progress on stderr (cmd/progress.c).
 * RFC 6121 §2 (roster), §3 (subscriptions), XEP-0191 (blocking).
 */
#include "common.h"
#include "progress.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROSTER_FILE_MAX (16u * 1024 * 1024)

static struct {
	char *format;
	char *color;
	const char **group;
	char *name;
	int subscribe;
	int prune;
	int dry_run;
} roster_opts;

static struct poptOption roster_table[] = {
    {"format", 'f', POPT_ARG_STRING, &roster_opts.format, CMD_STR,
     "output format: text, json or xml (default text; export: json)", "FMT"},
    CMD_COLOR_OPTION(roster_opts.color),
    {"group", 'g', POPT_ARG_ARGV, &roster_opts.group, 0,
     "list: only this group; add, set: put the contact in GROUP (repeatable)", "GROUP"},
    {"name", 0, POPT_ARG_STRING, &roster_opts.name, CMD_STR, "add, set: the contact's name",
     "NAME"},
    {"subscribe", 0, POPT_ARG_NONE, &roster_opts.subscribe, 0,
     "add: also ask for the contact's presence", NULL},
    {"prune", 0, POPT_ARG_NONE, &roster_opts.prune, 0,
     "import: remove contacts that are not in the file", NULL},
    {"dry-run", 'n', POPT_ARG_NONE, &roster_opts.dry_run, 0, "import: print the changes, make none",
     NULL},
    {NULL, 0, POPT_ARG_INCLUDE_TABLE, cmd_common_table, 0, "Connection options:", NULL},
    POPT_TABLEEND,
};

struct roster_run {
	struct xu_conn *conn;
	enum xu_rec_format fmt;
	const char *cmd;
	const char **args; /* the JIDs (or FILE) after the command */
	size_t nargs;
	int failed;            /* exit code of the first failure in a batch */
	const char *cache_dir; /* for the contacts' JIDs the completions offer; NULL: --no-cache */
};

/* ---------------------------------------------------------------- output */

/* A line made of up to three pieces (NULL: none), written at once. */
static int roster_line(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + (b ? strlen(b) : 0) + (c ? strlen(c) : 0);
	char *line = cmd_xmalloc(n + 2);
	int rc;

	snprintf(line, n + 2, "%s%s%s\n", a, b ? b : "", c ? c : "");
	rc = cmd_write(line, n + 1);
	free(line);
	return rc;
}

/* One contact as a text line (tab-separated: jid, name, subscription, ask, groups), a JSON
 * object or an <item/>. Peer-controlled strings are escaped. */
static int roster_print_item(const struct xu_roster_item *it, enum xu_rec_format fmt)
{
	struct xu_stanza *el = NULL;
	char *out = NULL;
	size_t len = 0;
	enum xu_err err;

	if (fmt == XU_REC_XML) {
		err = xu_roster_item_stanza(it, &el);
		if (!err)
			err = xu_fields_format(XU_REC_XML, el, NULL, NULL, 0, &out, &len);
		xu_stanza_free(el);
	} else {
		err = xu_roster_item_format(it, fmt, &out, &len);
	}
	return cmd_put(err, out, len);
}

/* ---------------------------------------------------------------- talking to the server */

/* Run an IQ; an error answer is reported as "cannot WHAT JID: condition" (exit 69). */
static int roster_iq(struct roster_run *r, struct xu_stanza *iq, const char *what, const char *jid,
                     struct xu_stanza **reply_out)
{
	struct xu_stanza *reply = NULL;
	const char *type;
	enum xu_err err;
	char why[400];

	if (reply_out)
		*reply_out = NULL;
	err = xu_conn_iq(r->conn, iq, &reply);
	if (err)
		return cmd_fail(err, "%s", xu_conn_errmsg(r->conn));
	type = xu_stanza_attr(reply, "type");
	if (!type || strcmp(type, "result") != 0) {
		xu_error_describe(xu_stanza_child(reply, "error", NULL), XU_NS_STANZAS, why,
		                  sizeof(why));
		xu_stanza_free(reply);
		return cmd_fail(XU_ERR_REFUSED, "cannot %s%s%s: %s", what, jid ? " " : "",
		                jid ? jid : "", why);
	}
	if (reply_out)
		*reply_out = reply;
	else
		xu_stanza_free(reply);
	return 0;
}

static int roster_fetch(struct roster_run *r, struct xu_roster **roster)
{
	struct xu_stanza *iq = NULL, *reply = NULL;
	enum xu_err err;
	int rc;

	*roster = NULL;
	err = xu_roster_get_iq(&iq);
	if (err)
		return cmd_fail(err, "out of memory");
	rc = roster_iq(r, iq, "read the roster", NULL, &reply);
	if (rc)
		return rc;
	err = xu_roster_parse(reply, roster);
	xu_stanza_free(reply);
	return err ? cmd_fail(err, "out of memory") : 0;
}

/* A roster set (or removal) of one contact; a failure is reported and remembered. */
static int roster_change(struct roster_run *r, const struct xu_roster_item *it, bool remove,
                         const char *what)
{
	struct xu_stanza *iq = NULL;
	enum xu_err err = xu_roster_set_iq(it, remove, &iq);
	int rc;

	if (err == XU_ERR_DATA)
		rc = cmd_fail(err,
		              "cannot %s %s: the name or a group holds characters XML cannot carry",
		              what, it->jid);
	else if (err)
		rc = cmd_fail(err, "out of memory");
	else
		rc = roster_iq(r, iq, what, it->jid, NULL);
	if (rc && !r->failed)
		r->failed = rc;
	return rc;
}

/* A subscription presence, confirmed by the server before we go on. */
static int roster_presence(struct roster_run *r, const char *jid, const char *type)
{
	struct xu_stanza *p = NULL;
	enum xu_err err = xu_subscription_new(jid, type, &p);

	if (!err)
		err = xu_conn_send(r->conn, p);
	if (!err)
		err = xu_conn_flush(r->conn);
	if (err)
		return cmd_fail(err, "%s to %s: %s", type, jid, xu_conn_errmsg(r->conn));
	return 0;
}

/* ---------------------------------------------------------------- arguments */

/* A contact argument, prepared: a bare JID that is not the account itself. */
static int roster_contact(struct roster_run *r, const char *arg, char **bare)
{
	struct xu_jid *j = NULL;
	const char *why = NULL;
	enum xu_err err = xu_jid_parse(arg, &j, &why);
	int rc = 0;

	*bare = NULL;
	if (err)
		rc = cmd_fail(err, "invalid JID '%s': %s", arg, why ? why : xu_err_str(err));
	else if (xu_jid_resource(j))
		rc = cmd_fail(XU_ERR_DATA, "%s: a contact is a bare JID (no /resource)", arg);
	else if (r->conn && xu_jid_bare_equal(j, xu_conn_jid(r->conn)))
		rc = cmd_fail(XU_ERR_DATA, "%s is this account itself", xu_jid_bare(j));
	else
		*bare = cmd_xstrdup(xu_jid_bare(j));
	xu_jid_free(j);
	return rc;
}

/* ---------------------------------------------------------------- commands */

static bool roster_in_group(const struct xu_roster_item *it)
{
	size_t i, k;

	if (!roster_opts.group || !roster_opts.group[0])
		return true;
	for (i = 0; roster_opts.group[i]; i++)
		for (k = 0; k < it->ngroups; k++)
			if (strcmp(it->groups[k], roster_opts.group[i]) == 0)
				return true;
	return false;
}

static int roster_list(struct roster_run *r, bool export)
{
	struct xu_roster *roster = NULL;
	size_t i;
	int rc = roster_fetch(r, &roster);

	if (!rc && export && r->fmt == XU_REC_XML)
		rc = cmd_write("<query xmlns='jabber:iq:roster'>\n", 33);
	for (i = 0; !rc && i < roster->n; i++)
		if (export || roster_in_group(&roster->items[i]))
			rc = roster_print_item(&roster->items[i], r->fmt);
	if (!rc && export && r->fmt == XU_REC_XML)
		rc = cmd_write("</query>\n", 9);
	if (!rc) {
		char why[300];

		/* The whole roster, whatever was printed: a hint for tab completion, so a failure
		 * is a warning, not the command's. */
		if (xu_roster_cache_store(r->cache_dir, xu_jid_bare(xu_conn_jid(r->conn)), roster,
		                          why, sizeof(why)) != XU_OK)
			cmd_warn("warning: roster cache not written: %s", why);
	}
	xu_roster_free(roster);
	return rc;
}

/* add and set: the item as the options describe it, over what the roster has (set). */
static int roster_add_set(struct roster_run *r, bool add)
{
	struct xu_roster *roster = NULL;
	size_t i, k;
	int rc = 0;

	if (!add && !roster_opts.name && !roster_opts.group)
		return cmd_fail(XU_ERR_USAGE, "set: give --name and/or --group");
	if (!add)
		rc = roster_fetch(r, &roster);
	for (i = 0; !rc && i < r->nargs; i++) {
		struct xu_roster_item it;
		const struct xu_roster_item *old = NULL;
		char *bare = NULL;

		memset(&it, 0, sizeof(it));
		if (roster_contact(r, r->args[i], &bare) != 0) {
			r->failed = r->failed ? r->failed : cmd_exit_code(XU_ERR_DATA);
			continue;
		}
		if (!add && !(old = xu_roster_find(roster, bare))) {
			if (!r->failed)
				r->failed =
				    cmd_fail(XU_ERR_REFUSED, "%s is not in the roster", bare);
			else
				cmd_fail(XU_ERR_REFUSED, "%s is not in the roster", bare);
			free(bare);
			continue;
		}
		it.jid = bare;
		it.name = roster_opts.name ? roster_opts.name : old ? old->name : NULL;
		for (k = 0; roster_opts.group && roster_opts.group[k]; k++)
			if (xu_roster_item_add_group(&it, roster_opts.group[k]))
				return cmd_fail(XU_ERR_NOMEM, "out of memory");
		if (!roster_opts.group && old)
			for (k = 0; k < old->ngroups; k++)
				if (xu_roster_item_add_group(&it, old->groups[k]))
					return cmd_fail(XU_ERR_NOMEM, "out of memory");
		if (roster_change(r, &it, false, add ? "add" : "change") == 0 && add &&
		    roster_opts.subscribe && roster_presence(r, bare, "subscribe") != 0 &&
		    !r->failed)
			r->failed = cmd_exit_code(XU_ERR_REFUSED);
		for (k = 0; k < it.ngroups; k++)
			free(it.groups[k]);
		free(it.groups);
		free(bare);
	}
	xu_roster_free(roster);
	return rc ? rc : r->failed;
}

static int roster_remove(struct roster_run *r)
{
	size_t i;

	for (i = 0; i < r->nargs; i++) {
		struct xu_roster_item it;
		char *bare = NULL;

		memset(&it, 0, sizeof(it));
		if (roster_contact(r, r->args[i], &bare) != 0) {
			r->failed = r->failed ? r->failed : cmd_exit_code(XU_ERR_DATA);
			continue;
		}
		it.jid = bare;
		roster_change(r, &it, true, "remove");
		free(bare);
	}
	return r->failed;
}

/* subscribe, unsubscribe, approve (subscribed), deny (unsubscribed). */
static int roster_subscription(struct roster_run *r, const char *type)
{
	size_t i;

	for (i = 0; i < r->nargs; i++) {
		char *bare = NULL;
		int rc = roster_contact(r, r->args[i], &bare);

		if (!rc)
			rc = roster_presence(r, bare, type);
		if (rc && !r->failed)
			r->failed = rc;
		free(bare);
	}
	return r->failed;
}

/* approve: subscribed answers a request, or pre-approves (RFC 6121 §3.4) where the server
 * says it can; without either, the server drops it, so say so instead of exiting 0. */
static int roster_approve(struct roster_run *r)
{
	struct xu_roster *roster = NULL;
	size_t i;
	int rc = roster_subscription(r, "subscribed");

	if (rc || xu_conn_feature(r->conn, "sub", "urn:xmpp:features:pre-approval"))
		return rc;
	rc = roster_fetch(r, &roster);
	for (i = 0; !rc && i < r->nargs; i++) {
		char *bare = NULL;
		const struct xu_roster_item *it;

		if (roster_contact(r, r->args[i], &bare) != 0)
			continue;
		it = xu_roster_find(roster, bare);
		if (!it || (strcmp(it->subscription, "from") != 0 &&
		            strcmp(it->subscription, "both") != 0 && !it->approved))
			rc = cmd_fail(XU_ERR_REFUSED,
			              "%s has not asked, and the server cannot pre-approve "
			              "(RFC 6121 §3.4): nothing was approved",
			              bare);
		free(bare);
	}
	xu_roster_free(roster);
	return rc;
}

/* pending: the subscription requests the server delivers once we are available (RFC 6121
 * §3.1.3), collected until a ping round trip after our presence. Priority -1: messages to the
 * bare JID are not routed to this short session. */
static int roster_pending(struct roster_run *r)
{
	struct xu_stanza *pres = NULL, *ping, *reply = NULL, *st;
	const char *why = NULL;
	enum xu_err err;
	int rc = 0;

	err = xu_presence_new(NULL, NULL, -1, &pres, &why);
	if (!err)
		err = xu_conn_send(r->conn, pres);
	ping = err ? NULL : xu_stanza_new("iq", XU_NS_CLIENT);
	if (!err && (!ping || xu_stanza_set_attr(ping, "type", "get") ||
	             xu_stanza_set_attr(ping, "to", xu_jid_domain(xu_conn_jid(r->conn))) ||
	             !xu_stanza_add_new(ping, "ping", XU_NS_PING)))
		err = XU_ERR_NOMEM;
	if (!err)
		err = xu_conn_iq(r->conn, ping, &reply);
	else
		xu_stanza_free(ping);
	xu_stanza_free(reply);
	if (err)
		return cmd_fail(err, "%s", xu_conn_errmsg(r->conn));
	while (!rc && xu_conn_next(r->conn, &st) == XU_OK && st) {
		const char *type = xu_stanza_attr(st, "type");
		struct xu_record rec;
		char *out = NULL;
		size_t len = 0;

		if (strcmp(xu_stanza_name(st), "presence") == 0 && type &&
		    strcmp(type, "subscribe") == 0 &&
		    xu_record_from_stanza(st, cmd_wall_ms(), &rec) == XU_OK) {
			err = xu_record_format(&rec, r->fmt, false, &out, &len);
			xu_record_clear(&rec);
			rc = cmd_put(err, out, len);
		}
		xu_stanza_free(st);
	}
	return rc;
}

static int roster_block(struct roster_run *r, bool block)
{
	size_t i;

	for (i = 0; i < r->nargs; i++) {
		struct xu_stanza *iq = NULL;
		struct xu_jid *j = NULL;
		const char *why = NULL;
		enum xu_err err = xu_jid_parse(r->args[i], &j, &why);
		int rc;

		/* XEP-0191 §3.2: any JID, a domain or a full JID too. */
		if (err) {
			rc = cmd_fail(err, "invalid JID '%s': %s", r->args[i],
			              why ? why : xu_err_str(err));
		} else {
			err = xu_block_iq(block, xu_jid_full(j), &iq);
			rc = err ? cmd_fail(err, "out of memory")
			         : roster_iq(r, iq, block ? "block" : "unblock", xu_jid_full(j),
			                     NULL);
		}
		xu_jid_free(j);
		if (rc && !r->failed)
			r->failed = rc;
	}
	return r->failed;
}

/* One blocked JID: a text line, {"jid":...} or <item jid/>. */
static int roster_print_blocked(const char *jid, enum xu_rec_format fmt)
{
	struct xu_stanza *el = NULL;
	char *esc = NULL;
	size_t len = 0;
	enum xu_err err;
	int rc;

	if (fmt == XU_REC_XML) {
		el = xu_stanza_new("item", XU_NS_BLOCKING);
		err = el ? xu_stanza_set_attr(el, "jid", jid) : XU_ERR_NOMEM;
		if (!err)
			err = xu_stanza_to_line(el, &esc, &len);
		xu_stanza_free(el);
	} else if (fmt == XU_REC_JSON) {
		err = xu_json_escape(jid, strlen(jid), &esc);
	} else {
		err = xu_escape(jid, strlen(jid), XU_ESC_IDENT, &esc);
	}
	if (err)
		return cmd_fail(err, "cannot format a JID");
	rc = fmt == XU_REC_JSON ? roster_line("{\"jid\":\"", esc, "\"}")
	                        : roster_line(esc, NULL, NULL);
	free(esc);
	return rc;
}

static int roster_blocked(struct roster_run *r)
{
	struct xu_stanza *iq = NULL, *reply = NULL;
	char **jids = NULL;
	size_t n = 0, i;
	enum xu_err err = xu_blocklist_get_iq(&iq);
	int rc;

	if (err)
		return cmd_fail(err, "out of memory");
	rc = roster_iq(r, iq, "read the blocklist", NULL, &reply);
	if (!rc && xu_blocklist_parse(reply, &jids, &n))
		rc = cmd_fail(XU_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if (!rc)
			rc = roster_print_blocked(jids[i], r->fmt);
		free(jids[i]);
	}
	free(jids);
	xu_stanza_free(reply);
	return rc;
}

/* ---------------------------------------------------------------- export and import */

static int roster_export(struct roster_run *r)
{
	if (!roster_opts.format)
		r->fmt = XU_REC_JSON;
	if (r->fmt == XU_REC_TEXT || r->fmt == XU_REC_TEXT_COLOR)
		return cmd_fail(XU_ERR_USAGE, "export writes json or xml");
	return roster_list(r, true);
}

/* One JSON object of an export: jid (required), name, groups; the rest is the server's to say. */
static int roster_json_item(const struct xu_json *o, unsigned n, struct xu_roster_item *it)
{
	const struct xu_json *jid = xu_json_get(o, "jid"), *name = xu_json_get(o, "name");
	const struct xu_json *groups = xu_json_get(o, "groups");
	size_t i;

	memset(it, 0, sizeof(*it));
	if (o->type != XU_JSON_OBJECT || !jid || jid->type != XU_JSON_STRING)
		return cmd_fail(XU_ERR_DATA, "contact %u: not an object with a \"jid\" string", n);
	if ((name && name->type != XU_JSON_STRING && name->type != XU_JSON_NULL) ||
	    (groups && groups->type != XU_JSON_ARRAY && groups->type != XU_JSON_NULL))
		return cmd_fail(XU_ERR_DATA,
		                "contact %u: \"name\" must be a string, \"groups\" a list", n);
	it->jid = cmd_xstrdup(jid->str);
	if (name && name->type == XU_JSON_STRING && *name->str)
		it->name = cmd_xstrdup(name->str);
	for (i = 0; groups && i < groups->n; i++) {
		if (groups->items[i].type != XU_JSON_STRING || !*groups->items[i].str)
			return cmd_fail(XU_ERR_DATA,
			                "contact %u: a group must be a non-empty string", n);
		if (xu_roster_item_add_group(it, groups->items[i].str))
			return cmd_fail(XU_ERR_NOMEM, "out of memory");
	}
	return 0;
}

/* JSON Lines (or one array) of contacts, as export writes them. */
static int roster_read_json(const char *data, size_t len, struct xu_roster *file)
{
	size_t off = 0, used, i;
	unsigned n = 0;
	int rc = 0;

	while (!rc && off < len) {
		struct xu_json v;
		const char *why = NULL;
		enum xu_err err = xu_json_parse(data + off, len - off, &used, &v, &why);

		if (err)
			return cmd_fail(err, "import: invalid JSON near byte %zu: %s", off,
			                why ? why : xu_err_str(err));
		off += used;
		for (i = 0; !rc && i < (v.type == XU_JSON_ARRAY ? v.n : 1); i++) {
			const struct xu_json *o = v.type == XU_JSON_ARRAY ? &v.items[i] : &v;

			file->items =
			    cmd_xrealloc(file->items, (file->n + 1) * sizeof(*file->items));
			rc = roster_json_item(o, ++n, &file->items[file->n++]);
		}
		xu_json_free(&v);
	}
	return rc;
}

/* <query xmlns='jabber:iq:roster'> as export -f xml writes it. */
static int roster_read_xml(const char *data, size_t len, struct xu_roster **file)
{
	struct xu_stanza **list = NULL;
	const char *why = NULL;
	size_t n = 0, i;
	enum xu_err err = xu_stanza_parse_list(data, len, &list, &n, &why);
	int rc = 0;

	if (err)
		return cmd_fail(err, "import: invalid XML: %s", why ? why : xu_err_str(err));
	if (n != 1 || strcmp(xu_stanza_name(list[0]), "query") != 0 ||
	    strcmp(xu_stanza_ns(list[0]), XU_NS_ROSTER) != 0)
		rc = cmd_fail(XU_ERR_DATA, "import: expected one <query xmlns='jabber:iq:roster'>");
	else if (xu_roster_parse_query(list[0], file))
		rc = cmd_fail(XU_ERR_NOMEM, "out of memory");
	for (i = 0; i < n; i++)
		xu_stanza_free(list[i]);
	free(list);
	return rc;
}

/* Every contact of the file prepared as a bare JID. Our own (an export of another account of
 * ours lists this one) is left out with a note: an account is not its own contact. */
static int roster_check_file(struct roster_run *r, struct xu_roster *file)
{
	size_t i, w = 0;

	for (i = 0; i < file->n; i++) {
		struct xu_roster_item *it = &file->items[i];
		struct xu_jid *j = NULL;
		const char *why = NULL;
		enum xu_err err = xu_jid_parse(it->jid, &j, &why);

		if (err || xu_jid_resource(j)) {
			xu_jid_free(j);
			return cmd_fail(XU_ERR_DATA, "import: '%s' is no bare JID%s%s", it->jid,
			                why ? ": " : "", why ? why : "");
		}
		if (xu_jid_bare_equal(j, xu_conn_jid(r->conn))) {
			cmd_note("import: leaving out %s, this account itself", xu_jid_bare(j));
			xu_roster_item_clear(it);
		} else {
			free(it->jid);
			it->jid = cmd_xstrdup(xu_jid_bare(j));
			file->items[w++] = *it;
		}
		xu_jid_free(j);
	}
	file->n = w;
	xu_roster_sort(file);
	return 0;
}

static int roster_load(struct roster_run *r, const char *path, struct xu_roster **file)
{
	char *data = NULL;
	size_t len = 0, i;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	int rc;

	*file = NULL;
	if (!f)
		return cmd_fail(XU_ERR_NOINPUT, "cannot read %s: %s", path, strerror(errno));
	rc = cmd_read_all(fileno(f), ROSTER_FILE_MAX, &data, &len, path);
	if (f != stdin)
		fclose(f);
	if (rc)
		return rc;
	for (i = 0; i < len && strchr(" \t\r\n", data[i]); i++)
		;
	if (i < len && data[i] == '<') {
		rc = roster_read_xml(data, len, file);
	} else {
		*file = calloc(1, sizeof(**file));
		rc = *file ? roster_read_json(data, len, *file)
		           : cmd_fail(XU_ERR_NOMEM, "out of memory");
	}
	free(data);
	return rc ? rc : roster_check_file(r, *file);
}

/* Print a planned or made change: "add JID", "update JID", "remove JID". */
static int roster_report(const char *verb, const char *jid)
{
	char *esc = NULL;
	int rc;

	if (xu_escape(jid, strlen(jid), XU_ESC_IDENT, &esc))
		return cmd_fail(XU_ERR_NOMEM, "out of memory");
	cmd_progress_clear(); /* stdout may be the same terminal */
	rc = roster_line(verb, " ", esc);
	free(esc);
	return rc;
}

/* The plan's steps so far, for the progress line on a terminal. */
struct roster_tally {
	size_t total, done, failed;
};

/* "import: 12 of 40 changes applied" (", 1 failed"). */
static void roster_progress(const struct roster_tally *t)
{
	if (!cmd_progress_due())
		return;
	if (t->failed)
		cmd_progress_update(false, "import: %zu of %zu changes applied, %zu failed",
		                    t->done, t->total, t->failed);
	else
		cmd_progress_update(false, "import: %zu of %zu changes applied", t->done, t->total);
}

/* One step of the plan: reported, and made unless --dry-run. */
static int roster_step(struct roster_run *r, const char *verb, const struct xu_roster_item *it,
                       bool remove, struct roster_tally *t)
{
	int rc;

	if (roster_opts.dry_run)
		return roster_report(verb, it->jid);
	if (roster_change(r, it, remove, verb) != 0) {
		t->failed++;
		roster_progress(t);
		return 0; /* reported; the batch goes on */
	}
	rc = roster_report(verb, it->jid);
	t->done++;
	roster_progress(t);
	return rc;
}

/* What the file changes: contacts to add or update, with --prune those to remove. */
static size_t roster_plan_size(const struct xu_roster *file, const struct xu_roster *cur)
{
	size_t i, n = 0;

	for (i = 0; i < file->n; i++) {
		const struct xu_roster_item *old = xu_roster_find(cur, file->items[i].jid);

		if (!old || !xu_roster_item_same(old, &file->items[i]))
			n++;
	}
	for (i = 0; roster_opts.prune && i < cur->n; i++)
		if (!xu_roster_find(file, cur->items[i].jid))
			n++;
	return n;
}

static int roster_import(struct roster_run *r)
{
	struct xu_roster *file = NULL, *cur = NULL;
	struct roster_tally t = {0, 0, 0};
	size_t i;
	int rc;

	if (r->nargs != 1)
		return cmd_fail(XU_ERR_USAGE, "import takes one FILE (- for standard input)");
	rc = roster_load(r, r->args[0], &file);
	if (!rc)
		rc = roster_fetch(r, &cur);
	if (!rc && !roster_opts.dry_run && cmd_progress_start()) {
		t.total = roster_plan_size(file, cur);
		roster_progress(&t);
	}
	for (i = 0; !rc && i < file->n; i++) {
		const struct xu_roster_item *old = xu_roster_find(cur, file->items[i].jid);

		if (!old)
			rc = roster_step(r, "add", &file->items[i], false, &t);
		else if (!xu_roster_item_same(old, &file->items[i]))
			rc = roster_step(r, "update", &file->items[i], false, &t);
	}
	for (i = 0; !rc && roster_opts.prune && i < cur->n; i++)
		if (!xu_roster_find(file, cur->items[i].jid))
			rc = roster_step(r, "remove", &cur->items[i], true, &t);
	cmd_progress_end();
	xu_roster_free(file);
	xu_roster_free(cur);
	return rc ? rc : r->failed;
}

/* ---------------------------------------------------------------- the run */

static const struct {
	const char *name;
	int min_args, max_args; /* -1: any */
} roster_cmds[] = {
    {"list", 0, 0},       {"add", 1, -1},         {"remove", 1, -1},  {"set", 1, -1},
    {"subscribe", 1, -1}, {"unsubscribe", 1, -1}, {"approve", 1, -1}, {"deny", 1, -1},
    {"pending", 0, 0},    {"export", 0, 0},       {"import", 1, 1},   {"block", 1, -1},
    {"unblock", 1, -1},   {"blocked", 0, 0},
};

static int roster_dispatch(struct roster_run *r)
{
	const char *c = r->cmd;

	if (strcmp(c, "list") == 0)
		return roster_list(r, false);
	if (strcmp(c, "add") == 0 || strcmp(c, "set") == 0)
		return roster_add_set(r, strcmp(c, "add") == 0);
	if (strcmp(c, "remove") == 0)
		return roster_remove(r);
	if (strcmp(c, "subscribe") == 0 || strcmp(c, "unsubscribe") == 0)
		return roster_subscription(r, c);
	if (strcmp(c, "approve") == 0)
		return roster_approve(r);
	if (strcmp(c, "deny") == 0)
		return roster_subscription(r, "unsubscribed");
	if (strcmp(c, "pending") == 0)
		return roster_pending(r);
	if (strcmp(c, "export") == 0)
		return roster_export(r);
	if (strcmp(c, "import") == 0)
		return roster_import(r);
	if (strcmp(c, "block") == 0 || strcmp(c, "unblock") == 0)
		return roster_block(r, strcmp(c, "block") == 0);
	return roster_blocked(r);
}

/* The command and its arguments, checked before connecting: a typo is a usage error. */
static int roster_args(struct roster_run *r, poptContext pc)
{
	const char *arg;
	size_t i;

	r->cmd = poptGetArg(pc);
	if (!r->cmd)
		return cmd_fail(XU_ERR_USAGE, "no command given (try --help)");
	while ((arg = poptGetArg(pc)) != NULL) {
		r->args = cmd_xrealloc(r->args, (r->nargs + 1) * sizeof(*r->args));
		r->args[r->nargs++] = arg;
	}
	for (i = 0; i < sizeof(roster_cmds) / sizeof(roster_cmds[0]); i++) {
		if (strcmp(roster_cmds[i].name, r->cmd) != 0)
			continue;
		if ((int)r->nargs < roster_cmds[i].min_args ||
		    (roster_cmds[i].max_args >= 0 && (int)r->nargs > roster_cmds[i].max_args))
			return cmd_fail(XU_ERR_USAGE, "%s: %s", r->cmd,
			                roster_cmds[i].max_args == 0   ? "takes no argument"
			                : roster_cmds[i].max_args == 1 ? "takes one FILE"
			                                               : "needs at least one JID");
		return 0;
	}
	return cmd_fail(XU_ERR_USAGE, "unknown command '%s' (try --help)", r->cmd);
}

static int roster_run(poptContext pc)
{
	struct roster_run r;
	struct cmd_conn cc;
	int rc;

	memset(&r, 0, sizeof(r));
	memset(&cc, 0, sizeof(cc));
	rc = cmd_format(roster_opts.format, roster_opts.color, &r.fmt);
	if (!rc)
		rc = roster_args(&r, pc);
	if (!rc)
		rc = cmd_conn_setup(&cc);
	if (!rc) {
		r.cache_dir = cc.cache_dir;
		cc.opts.queue_stanzas = strcmp(r.cmd, "pending") == 0;
		rc = cmd_connect(&cc, &r.conn);
	}
	if (!rc)
		rc = roster_dispatch(&r);
	if (r.conn) {
		enum xu_err err = xu_conn_close(r.conn);

		if (!rc && err)
			rc = cmd_fail(err, "%s", xu_conn_errmsg(r.conn));
		xu_conn_free(r.conn);
	}
	free(r.args);
	cmd_conn_free(&cc);
	return rc;
}

int main(int argc, const char **argv)
{
	poptContext pc;
	int rc;

	cmd_prog = "xmpp-roster";
	rc = cmd_parse(argc, argv, roster_table,
	               "COMMAND [JID...]\n"
	               "  list | export | blocked | pending\n"
	               "  add | remove | set | subscribe | unsubscribe | approve | deny JID...\n"
	               "  block | unblock JID...\n"
	               "  import FILE",
	               &pc);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = roster_run(pc);
	poptFreeContext(pc);
	return rc;
}
