/* muc-admin.c: changing rooms: create (with a configuration), config --set, destroy, invite,
 * kick, ban, role, affiliation (XEP-0045 §8-10, XEP-0249). Each waits for the room's answer. */
#include "muc.h"

#include <stdlib.h>
#include <string.h>

#define MUC_ROOMCONFIG "http://jabber.org/protocol/muc#roomconfig"

/* Friendly configuration keys and the muc#roomconfig fields they stand for (XEP-0045 §15.5.3). */
static const struct {
	const char *key, *var;
	bool boolean;
} muc_keys[] = {
    {"name", "muc#roomconfig_roomname", false},
    {"description", "muc#roomconfig_roomdesc", false},
    {"persistent", "muc#roomconfig_persistentroom", true},
    {"members-only", "muc#roomconfig_membersonly", true},
    {"moderated", "muc#roomconfig_moderatedroom", true},
    {"public", "muc#roomconfig_publicroom", true},
    {"password", "muc#roomconfig_roomsecret", false},
    {"max-users", "muc#roomconfig_maxusers", false},
    {"subject-change", "muc#roomconfig_changesubject", true},
};

struct muc_form {
	const char **vars, **vals;
	char **owned; /* values we made (booleans) */
	size_t n;
};

static void muc_form_add(struct muc_form *f, const char *var, const char *val, bool owned)
{
	f->vars = cmd_xrealloc(f->vars, (f->n + 1) * sizeof(*f->vars));
	f->vals = cmd_xrealloc(f->vals, (f->n + 1) * sizeof(*f->vals));
	f->owned = cmd_xrealloc(f->owned, (f->n + 1) * sizeof(*f->owned));
	f->vars[f->n] = var;
	f->vals[f->n] = val;
	f->owned[f->n] = owned ? (char *)val : NULL;
	f->n++;
}

static void muc_form_free(struct muc_form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->owned[i]);
	free(f->vars);
	free(f->vals);
	free(f->owned);
}

static bool muc_form_has(const struct muc_form *f, const char *var)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->vars[i], var) == 0)
			return true;
	return false;
}

/* KEY=VALUE pairs into form fields: a friendly key, or a muc#roomconfig_ field as it is. */
static int muc_form_from(struct muc_form *f, const char **pairs, const char *opt)
{
	size_t i, k;

	for (i = 0; pairs && pairs[i]; i++) {
		const char *eq = strchr(pairs[i], '='), *val;
		size_t klen;

		if (!eq || eq == pairs[i])
			return cmd_fail(XU_ERR_USAGE, "%s wants KEY=VALUE, not '%s'", opt,
			                pairs[i]);
		klen = (size_t)(eq - pairs[i]);
		val = eq + 1;
		for (k = 0; k < sizeof(muc_keys) / sizeof(muc_keys[0]); k++)
			if (strlen(muc_keys[k].key) == klen &&
			    strncmp(muc_keys[k].key, pairs[i], klen) == 0)
				break;
		if (k < sizeof(muc_keys) / sizeof(muc_keys[0])) {
			bool yes = !strcmp(val, "1") || !strcmp(val, "yes") || !strcmp(val, "true");
			bool no = !strcmp(val, "0") || !strcmp(val, "no") || !strcmp(val, "false");

			if (muc_keys[k].boolean && !yes && !no)
				return cmd_fail(XU_ERR_USAGE, "%s %s: yes or no, not '%s'", opt,
				                muc_keys[k].key, val);
			if (muc_keys[k].boolean)
				val = yes ? "1" : "0";
			muc_form_add(f, muc_keys[k].var, val, false);
			if (strcmp(muc_keys[k].key, "password") == 0)
				muc_form_add(f, "muc#roomconfig_passwordprotectedroom",
				             *val ? "1" : "0", false);
		} else if (strncmp(pairs[i], "muc#", 4) == 0) {
			char *var = cmd_xmalloc(klen + 1);

			memcpy(var, pairs[i], klen);
			var[klen] = '\0';
			muc_form_add(f, var, val, false);
			f->owned[f->n - 1] = var; /* freed with the form */
		} else {
			return cmd_fail(XU_ERR_USAGE,
			                "%s: unknown key '%.*s' (name, description, persistent, "
			                "members-only, moderated, public, password, max-users, "
			                "subject-change, or a muc#roomconfig_ field)",
			                opt, (int)klen, pairs[i]);
		}
	}
	return 0;
}

/* Submit the fields as the room's configuration (§10.2). */
static int muc_submit(struct muc_run *r, const struct muc_form *f)
{
	struct xu_stanza *x = NULL, *iq = NULL;
	enum xu_err err = xu_form_submit_new(MUC_ROOMCONFIG, f->vars, f->vals, f->n, &x);

	if (err)
		return cmd_fail(err, "%s",
		                err == XU_ERR_DATA ? "a configuration value holds "
		                                     "characters XML cannot carry"
		                                   : "out of memory");
	if (xu_muc_owner_iq(r->room, x, &iq))
		return cmd_fail(XU_ERR_NOMEM, "out of memory");
	return muc_iq(r, iq, "configure", NULL);
}

int muc_create(struct muc_run *r)
{
	struct xu_muc_join_opts o;
	struct muc_form f;
	struct xu_jid *self = NULL;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = muc_form_from(&f, muc_opts.config, "--config");
	/* A room outlives its creator's visit only when persistent: that is what create means,
	 * unless the configuration says otherwise. */
	if (!rc && !muc_form_has(&f, "muc#roomconfig_persistentroom"))
		muc_form_add(&f, "muc#roomconfig_persistentroom", "1", false);
	memset(&o, 0, sizeof(o));
	o.create = true;
	if (!rc)
		rc = muc_join(r, &o, &self);
	if (!rc)
		rc = muc_submit(r, &f); /* also unlocks it (§10.1.2) */
	if (self)
		xu_muc_leave(r->conn, self);
	xu_jid_free(self);
	muc_form_free(&f);
	return rc;
}

int muc_config_set(struct muc_run *r)
{
	struct muc_form f;
	int rc;

	memset(&f, 0, sizeof(f));
	rc = muc_form_from(&f, muc_opts.set, "--set");
	if (!rc)
		rc = muc_submit(r, &f);
	muc_form_free(&f);
	return rc;
}

int muc_destroy(struct muc_run *r)
{
	struct xu_stanza *iq = NULL;
	enum xu_err err = xu_muc_destroy_iq(r->room, muc_opts.reason, &iq);

	if (err)
		return cmd_fail(err, "%s",
		                err == XU_ERR_DATA ? "the reason holds characters XML "
		                                     "cannot carry"
		                                   : "out of memory");
	return muc_iq(r, iq, "destroy", NULL);
}

/* A mediated invitation comes from an occupant (§7.8.2): join, invite, leave. A direct one
 * (XEP-0249) goes to the invitee. Either is confirmed by the server, refusals reported. */
int muc_invite(struct muc_run *r)
{
	struct xu_muc_join_opts o;
	struct xu_jid *self = NULL, *who = NULL;
	struct xu_stanza *m = NULL;
	const char *why = NULL;
	enum xu_err err = xu_jid_parse(r->args[0], &who, &why);
	int rc = 0;

	if (err)
		return cmd_fail(err, "invalid JID '%s': %s", r->args[0],
		                why ? why : xu_err_str(err));
	memset(&o, 0, sizeof(o));
	if (!muc_opts.direct)
		rc = muc_join(r, &o, &self);
	if (!rc) {
		err = xu_muc_invite_new(r->room, xu_jid_full(who), muc_opts.reason, muc_opts.direct,
		                        &m);
		if (!err)
			err = xu_conn_send(r->conn, m);
		if (!err)
			err = xu_conn_flush(r->conn);
		if (err)
			rc = cmd_fail(err, "cannot invite %s to %s: %s", xu_jid_full(who),
			              xu_jid_bare(r->room),
			              err == XU_ERR_DATA
			                  ? "the reason holds characters XML cannot carry"
			                  : xu_conn_errmsg(r->conn));
	}
	if (self)
		xu_muc_leave(r->conn, self);
	xu_jid_free(self);
	xu_jid_free(who);
	return rc;
}

static bool muc_one_of(const char *v, const char *const *allowed)
{
	for (; *allowed; allowed++)
		if (strcmp(v, *allowed) == 0)
			return true;
	return false;
}

/* kick NICK, ban JID, role NICK ROLE, affiliation JID AFFILIATION: one muc#admin item. */
int muc_admin(struct muc_run *r)
{
	static const char *const roles[] = {"none", "visitor", "participant", "moderator", NULL};
	static const char *const affs[] = {"none", "outcast", "member", "admin", "owner", NULL};
	const char *nick = NULL, *jid = NULL, *role = NULL, *aff = NULL;
	struct xu_stanza *iq = NULL;
	struct xu_jid *j = NULL;
	const char *why = NULL;
	enum xu_err err;
	int rc;

	if (strcmp(r->cmd, "kick") == 0 || strcmp(r->cmd, "role") == 0) {
		nick = r->args[0];
		role = strcmp(r->cmd, "kick") == 0 ? "none" : r->args[1];
		if (!muc_one_of(role, roles))
			return cmd_fail(XU_ERR_USAGE,
			                "role: none, visitor, participant or moderator");
	} else {
		err = xu_jid_parse(r->args[0], &j, &why);
		if (err)
			return cmd_fail(err, "invalid JID '%s': %s", r->args[0],
			                why ? why : xu_err_str(err));
		jid = xu_jid_bare(j);
		aff = strcmp(r->cmd, "ban") == 0 ? "outcast" : r->args[1];
		if (!muc_one_of(aff, affs)) {
			xu_jid_free(j);
			return cmd_fail(XU_ERR_USAGE,
			                "affiliation: none, outcast, member, admin or owner");
		}
	}
	err = xu_muc_admin_iq(r->room, nick, jid, role, aff, muc_opts.reason, &iq);
	xu_jid_free(j);
	if (err)
		return cmd_fail(err, "%s",
		                err == XU_ERR_DATA ? "the reason holds characters XML "
		                                     "cannot carry"
		                                   : "out of memory");
	/* Roles are a moderator's to change, and a moderator is someone in the room (§8):
	 * join for kick and role; affiliations need only ours (§9-10). */
	if (role) {
		struct xu_muc_join_opts o;
		struct xu_jid *self = NULL;

		memset(&o, 0, sizeof(o));
		rc = muc_join(r, &o, &self);
		if (!rc)
			rc = muc_iq(r, iq, r->cmd, NULL);
		else
			xu_stanza_free(iq);
		if (self)
			xu_muc_leave(r->conn, self);
		xu_jid_free(self);
		return rc;
	}
	return muc_iq(r, iq, r->cmd, NULL);
}
