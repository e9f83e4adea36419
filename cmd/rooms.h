/* rooms.h: sending to chat rooms the one way that cannot fail silently (xmpp-muc send and
 * xmpp-send --type groupchat): join, wait for our presence, send, wait for the reflection,
 * leave. */
#ifndef XU_CMD_ROOMS_H
#define XU_CMD_ROOMS_H

#include "common.h"

struct cmd_rooms {
	const char *nick; /* NULL: the account's localpart */
	struct xu_muc_join_opts join;
	const char *subject, *thread; /* or NULL */
};

/* Send body to each room (bare JIDs). Every room is tried; each failure is one line naming
 * the room, and the result is the exit code of the first (0 when every room reflected it). */
int cmd_rooms_send(struct xu_conn *conn, struct xu_jid *const *rooms, size_t n,
                   const struct cmd_rooms *r, const char *body);

/* --lines: join every room once, then send each line of stdin to each as it arrives, each
 * confirmed by the room's reflection. Returns as cmd_rooms_send. */
int cmd_rooms_lines(struct xu_conn *conn, struct xu_jid *const *rooms, size_t n,
                    const struct cmd_rooms *r, size_t max);

#endif
