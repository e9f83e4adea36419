/* password.c: where a command's password comes from: --password-file, --password-command,
 * --password-fd, $XMPP_PASSWORD, the account, and at last a prompt on the terminal. Never the
 * command line. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

/* Longest password line accepted from a file, a descriptor, a command or the terminal. */
#define CMD_PASSWORD_MAX 4096

/* First line of a buffer, without its line ending; wipes the rest. */
static char *cmd_first_line(char *buf, size_t len)
{
	size_t n = strcspn(buf, "\r\n");
	char *line;

	if (n > len)
		n = len;
	line = cmd_xmalloc(n + 1);
	memcpy(line, buf, n);
	line[n] = '\0';
	gnutls_memset(buf, 0, len);
	return line;
}

static int cmd_password_file(const char *path, char **out)
{
	char buf[CMD_PASSWORD_MAX + 1];
	ssize_t r;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cmd_fail(XU_ERR_NOINPUT, "cannot read password file %s: %s", path,
		                strerror(errno));
	while (len < CMD_PASSWORD_MAX) {
		r = read(fd, buf + len, CMD_PASSWORD_MAX - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return cmd_fail(XU_ERR_IO, "reading password file %s: %s", path,
			                strerror(errno));
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*out = cmd_first_line(buf, len);
	return 0;
}

/* One line from fd into buf (CMD_PASSWORD_MAX + 1), read a byte at a time so that nothing after
 * it is taken from a descriptor that carries more (a pipe shared with other data, a terminal).
 * Returns its length, or -1 with errno. */
static ssize_t cmd_read_line(int fd, char *buf)
{
	size_t len = 0;
	ssize_t r;

	while (len < CMD_PASSWORD_MAX) {
		r = read(fd, buf + len, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			gnutls_memset(buf, 0, len);
			return -1;
		}
		if (r == 0 || buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

static int cmd_password_fd(int fd, char **out)
{
	char buf[CMD_PASSWORD_MAX + 1];
	ssize_t len = cmd_read_line(fd, buf);

	if (len < 0)
		return cmd_fail(errno == EBADF ? XU_ERR_USAGE : XU_ERR_IO,
		                "cannot read the password from file descriptor %d: %s", fd,
		                strerror(errno));
	*out = cmd_first_line(buf, (size_t)len);
	return 0;
}

/* Read what a child writes to fd until EOF: the first max bytes into buf (*len), the rest
 * read and dropped, so that it never dies of SIGPIPE. False on a read error. */
static bool cmd_drain(int fd, char *buf, size_t max, size_t *len)
{
	char scratch[512];

	for (;;) {
		ssize_t r = *len < max ? read(fd, buf + *len, max - *len)
		                       : read(fd, scratch, sizeof(scratch));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			gnutls_memset(scratch, 0, sizeof(scratch));
			return r == 0;
		}
		if (*len < max)
			*len += (size_t)r;
	}
}

/* `sh -c cmd`, its standard output into out (max bytes) and its standard error into err (the
 * start of it, for the message when it fails: a password manager's reason, such as "not in
 * the password store", belongs in our one error line, not on a line of its own). Standard
 * error is read after standard output, so a command that fills the stderr pipe before closing
 * standard output is the one case that blocks: the pipe holds 64 KiB, more than any error.
 * Returns the wait status, or -1 with errno. */
static int cmd_run_captured(const char *cmd, char *out, size_t max, size_t *outlen, char *err,
                            size_t errmax)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, status = -1, saved;
	size_t elen = 0;
	pid_t pid;

	if (pipe(po) != 0 || pipe(pe) != 0)
		goto fail;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		if (dup2(po[1], STDOUT_FILENO) < 0 || dup2(pe[1], STDERR_FILENO) < 0)
			_exit(127);
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	*outlen = 0;
	cmd_drain(po[0], out, max, outlen);
	cmd_drain(pe[0], err, errmax - 1, &elen);
	err[elen] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
fail:
	saved = errno;
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	errno = saved;
	return status;
}

static int cmd_password_command(const char *cmd, char **out)
{
	char buf[CMD_PASSWORD_MAX + 1], err[512];
	size_t len = 0;
	int status = cmd_run_captured(cmd, buf, CMD_PASSWORD_MAX, &len, err, sizeof(err));
	const char *why = err + strspn(err, " \t\r\n");

	buf[len] = '\0';
	if (status == -1) {
		gnutls_memset(buf, 0, sizeof(buf));
		return cmd_fail(XU_ERR_CONFIG, "cannot run password command: %s", strerror(errno));
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		gnutls_memset(buf, 0, sizeof(buf));
		why = *why ? why : NULL;
		if (why)
			err[strcspn(err, "\r\n")] = '\0'; /* its first line */
		if (WIFEXITED(status))
			return cmd_fail(XU_ERR_CONFIG,
			                "password command failed (exit status %d)%s%s",
			                WEXITSTATUS(status), why ? ": " : "", why ? why : "");
		return cmd_fail(XU_ERR_CONFIG, "password command killed by signal %d%s%s",
		                WTERMSIG(status), why ? ": " : "", why ? why : "");
	}
	*out = cmd_first_line(buf, len);
	return 0;
}

/* XMPP_PASSWORD, taken out of the environment at once so that no child we start
 * (--password-command, --exec) inherits it. */
static char *cmd_env_password;

void cmd_take_env_password(void)
{
	const char *env = getenv("XMPP_PASSWORD");

	if (!env || cmd_env_password)
		return;
	cmd_env_password = cmd_xstrdup(env);
	gnutls_memset((char *)env, 0, strlen(env));
	unsetenv("XMPP_PASSWORD");
}

/* The terminal's settings while echo is off, for a signal that ends the prompt early. */
static struct termios cmd_tty_saved;
static int cmd_tty_fd = -1;

static void cmd_tty_restore(int sig)
{
	if (cmd_tty_fd >= 0)
		tcsetattr(cmd_tty_fd, TCSAFLUSH, &cmd_tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Nothing else gave a password and a person is at the terminal: ask on /dev/tty with echo off
 * (standard input may be the message body), as ssh and sudo do. */
static int cmd_password_prompt(const char *jid, char **out)
{
	char buf[CMD_PASSWORD_MAX + 1];
	struct termios quiet;
	struct sigaction sa, old_int, old_term, old_hup;
	ssize_t len;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);

	if (fd < 0 || tcgetattr(fd, &cmd_tty_saved) != 0) {
		if (fd >= 0)
			close(fd);
		return cmd_fail(XU_ERR_CONFIG, "no password, and no terminal to ask for one");
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = cmd_tty_restore;
	sigemptyset(&sa.sa_mask);
	cmd_tty_fd = fd;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
	quiet = cmd_tty_saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
	/* Echo off before the prompt shows: what is typed after seeing it is never echoed (and
	 * typeahead from before it is flushed, as getpass does). */
	tcsetattr(fd, TCSAFLUSH, &quiet);
	dprintf(fd, "Password for %s: ", jid);
	len = cmd_read_line(fd, buf);
	tcsetattr(fd, TCSAFLUSH, &cmd_tty_saved);
	dprintf(fd, "\n");
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	cmd_tty_fd = -1;
	close(fd);
	if (len < 0) /* a read error is no answer */
		buf[len = 0] = '\0';
	*out = cmd_first_line(buf, (size_t)len);
	if (!**out) {
		free(*out);
		*out = NULL;
		return cmd_fail(XU_ERR_CONFIG, "no password given");
	}
	return 0;
}

/* The first source given, as cmd_password documents; *from names it for a message. */
static int cmd_password_find(const struct xu_account *acct, const char *jid, char **out,
                             const char **from)
{
	const char *env = cmd_env_password;

	if (cmd_opts.password_file) {
		*from = "--password-file";
		return cmd_password_file(cmd_opts.password_file, out);
	}
	if (cmd_opts.password_command) {
		*from = "--password-command";
		return cmd_password_command(cmd_opts.password_command, out);
	}
	if (cmd_opts.password_fd >= 0) {
		*from = "--password-fd";
		return cmd_password_fd(cmd_opts.password_fd, out);
	}
	*from = "XMPP_PASSWORD";
	if (env) {
		*out = cmd_xstrdup(env);
		return 0;
	}
	if (acct && acct->password) {
		*from = "the account's password";
		*out = cmd_xstrdup(acct->password);
		return 0;
	}
	if (acct && acct->password_file) {
		*from = "the account's password-file";
		return cmd_password_file(acct->password_file, out);
	}
	if (acct && acct->password_command) {
		*from = "the account's password-command";
		return cmd_password_command(acct->password_command, out);
	}
	if (isatty(STDIN_FILENO))
		return cmd_password_prompt(jid, out);
	return cmd_fail(XU_ERR_CONFIG,
	                "no password: set XMPP_PASSWORD, --password-file, --password-command, "
	                "--password-fd or an account in the config file");
}

int cmd_password(const struct xu_account *acct, const char *jid, char **out)
{
	const char *from = NULL;
	int rc;

	*out = NULL;
	rc = cmd_password_find(acct, jid, out, &from);
	if (rc || !*out || **out)
		return rc;
	/* Nothing to log in with: a misconfiguration, said before any connection is made. */
	free(*out);
	*out = NULL;
	return cmd_fail(XU_ERR_CONFIG, "the password from %s is empty", from);
}

void cmd_password_forget(void)
{
	if (cmd_env_password) {
		gnutls_memset(cmd_env_password, 0, strlen(cmd_env_password));
		free(cmd_env_password);
		cmd_env_password = NULL;
	}
}
