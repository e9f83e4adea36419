/* muc.h: the parts of xmpp-muc (muc.c: options, dispatch, send; muc-read.c: what a room says
 * about itself; muc-admin.c: changing rooms). */
#ifndef XU_CMD_MUC_H
#define XU_CMD_MUC_H

#include "common.h"

extern struct muc_options {
	char *message;
	int lines;
	char *nick;
	char *room_password;
	int no_rename;
	char *format;
	char *color;
	char *reason;
	int direct;
	const char **config; /* create: key=value */
	const char **set;    /* config: key=value; subject: the text */
	int max;             /* history */
	char *since;         /* history */
} muc_opts;

struct muc_run {
	struct xu_conn *conn;
	enum xu_rec_format fmt;
	const char *cmd;
	struct xu_jid *room; /* the first argument (a room, or the service for list) */
	const char **args;   /* the arguments after it */
	size_t nargs;
};

/* One record: text (values tab-separated, escaped; NULL empty), JSON (keys; NULL null), or
 * the stanza on one line. Returns 0 or an exit code. */
int muc_emit(enum xu_rec_format fmt, const struct xu_stanza *st, const char *const *keys,
             const char *const *vals, size_t n);
/* A message with a body as a record like xmpp-listen's (others print nothing). Returns 0 or
 * an exit code. */
int muc_print_message(enum xu_rec_format fmt, const struct xu_stanza *st);
/* Run an IQ; an error answer is "cannot WHAT ROOM: condition (hint)" (exit 69). *reply may be
 * NULL. Returns 0 or an exit code. */
int muc_iq(struct muc_run *r, struct xu_stanza *iq, const char *what, struct xu_stanza **reply);
/* Join r->room with the options (nick, password, no-rename) and `o`'s own settings. */
int muc_join(struct muc_run *r, struct xu_muc_join_opts *o, struct xu_jid **self);

/* muc-read.c */
int muc_info(struct muc_run *r);
int muc_list(struct muc_run *r);
int muc_config_show(struct muc_run *r);
int muc_occupants(struct muc_run *r);
int muc_subject(struct muc_run *r);
int muc_history(struct muc_run *r);
int muc_stay(struct muc_run *r);

/* muc-admin.c */
int muc_create(struct muc_run *r);
int muc_config_set(struct muc_run *r);
int muc_destroy(struct muc_run *r);
int muc_invite(struct muc_run *r);
int muc_admin(struct muc_run *r);

#endif
