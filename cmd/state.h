/* state.h: a command's checkpoint file: which archived message (XEP-0359 stanza-id in the
 * account's archive) was handled last, replaced atomically so a crash cannot corrupt it. */
#ifndef XU_CMD_STATE_H
#define XU_CMD_STATE_H

#include <stdbool.h>

struct cmd_state {
	char *path;
	char *account; /* bare JID the checkpoint belongs to */
	char *id;      /* archive id of the last message handled, NULL: none yet */
	char *time;    /* its timestamp (XEP-0082), or when the checkpoint started; NULL: none */
	bool warned;   /* a failed save was reported (once per streak) */
};

/* Read `path` for `account`. A missing file is an empty checkpoint; a file that is not a
 * checkpoint, or belongs to another account, is refused. Returns 0 or an exit code (message
 * printed). */
int cmd_state_load(struct cmd_state *s, const char *path, const char *account);

/* Remember id (may be NULL) and time, then write the file: a temporary file beside it, mode
 * 0600, renamed over it. A failure is a warning: the old checkpoint stays, which can only
 * repeat messages, never skip them. */
void cmd_state_set(struct cmd_state *s, const char *id, const char *time);

void cmd_state_free(struct cmd_state *s);

#endif
