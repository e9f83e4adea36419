/* net.c: finding and reaching the server: SRV targets (RFC 6120 §3.2, XEP-0368), A/AAAA,
 * non-blocking connect under a deadline. */
#include "conn-int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t xu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* EAI_* codes are negative in glibc: NET_GAI_BASE - code keeps them above any errno. */
#define NET_GAI_BASE 100000

static void net_log(xu_log_fn *log, void *ctx, enum xu_log_level have, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void net_log(xu_log_fn *log, void *ctx, enum xu_log_level have, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log || have < XU_LOG_INFO)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log(ctx, XU_LOG_INFO, msg);
}

/* One connect attempt to one address; returns the fd or -1 with *err set. */
static int net_try(const struct addrinfo *ai, int64_t deadline, int *err)
{
	int fd, one = 1, soerr = 0;
	socklen_t len = sizeof(soerr);
	struct pollfd pfd;
	int64_t left;
	int r;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	/* Nagle plus the peer's delayed ACK costs ~40 ms per exchange; we write whole
	 * stanzas, so coalescing buys nothing. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		return -1;
	}
	for (;;) {
		left = deadline - xu_now_ms();
		if (left <= 0) {
			*err = ETIMEDOUT;
			close(fd);
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		r = poll(&pfd, 1, left > 1000000 ? 1000000 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = errno;
			close(fd);
			return -1;
		}
		if (r > 0)
			break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
		*err = soerr ? soerr : errno;
		close(fd);
		return -1;
	}
	return fd;
}

/* Try every address of host:port. Returns the fd, or -1 with *err (errno or EAI_ code as
 * negative number) and the address tried last in addrbuf. */
static int net_try_host(const char *host, uint16_t port, int64_t deadline, int *err, xu_log_fn *log,
                        void *log_ctx, enum xu_log_level level)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8], addr[128];
	const char *name = host;
	char unbracketed[64];
	int fd = -1, r;
	size_t n;

	/* A JID's IPv6 literal comes in brackets (RFC 7622 §3.2). */
	n = strlen(host);
	if (n > 2 && host[0] == '[' && host[n - 1] == ']' && n - 2 < sizeof(unbracketed)) {
		memcpy(unbracketed, host + 1, n - 2);
		unbracketed[n - 2] = '\0';
		name = unbracketed;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* No AI_ADDRCONFIG: it hides ::1 and 127.0.0.1 on hosts with loopback only. */
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	r = getaddrinfo(name, portstr, &hints, &res);
	if (r != 0) {
		/* Resolver failures travel as NET_GAI_BASE + EAI code, apart from errno. */
		*err = r == EAI_SYSTEM ? errno : NET_GAI_BASE - r;
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0,
		                NI_NUMERICHOST) != 0)
			snprintf(addr, sizeof(addr), "?");
		net_log(log, log_ctx, level, "connecting to %s (%s) port %u", host, addr,
		        (unsigned)port);
		fd = net_try(ai, deadline, err);
		if (fd < 0)
			net_log(log, log_ctx, level, "%s port %u: %s", addr, (unsigned)port,
			        strerror(*err));
		if (xu_now_ms() >= deadline)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

static enum xu_err net_fail(int err, const char *host, unsigned port, char *errbuf, size_t errlen)
{
	if (err > NET_GAI_BASE) {
		int eai = NET_GAI_BASE - err;

		snprintf(errbuf, errlen, "cannot resolve %s: %s", host, gai_strerror(eai));
		return eai == EAI_AGAIN ? XU_ERR_TEMP : XU_ERR_NOHOST;
	}
	if (err == ETIMEDOUT) {
		snprintf(errbuf, errlen, "connecting to %s port %u: timed out", host, port);
		return XU_ERR_TIMEOUT;
	}
	snprintf(errbuf, errlen, "connecting to %s port %u: %s", host, port, strerror(err));
	return XU_ERR_TEMP;
}

enum xu_err xu_net_connect(const char *domain_ascii, const char *host, unsigned port,
                           bool want_direct_tls, int64_t deadline, int *fd, bool *direct_tls,
                           char *errbuf, size_t errlen, xu_log_fn *log, void *log_ctx,
                           enum xu_log_level level)
{
	struct xu_srv *srv = NULL;
	size_t n = 0, i;
	bool none = false;
	int err = 0, last_err = 0;
	const char *last_host = domain_ascii;
	unsigned last_port = port;
	enum xu_err e;
	int64_t left;

	*fd = -1;
	if (host) {
		*direct_tls = want_direct_tls;
		last_port = port ? port : (want_direct_tls ? 5223 : 5222);
		*fd = net_try_host(host, (uint16_t)last_port, deadline, &err, log, log_ctx, level);
		return *fd >= 0 ? XU_OK : net_fail(err, host, last_port, errbuf, errlen);
	}
	left = deadline - xu_now_ms();
	e = xu_srv_lookup(domain_ascii, left > 0 ? (unsigned)left : 1, &srv, &n, &none);
	if (e)
		return e;
	if (none) {
		snprintf(errbuf, errlen, "%s: XMPP service is decidedly not available (SRV \".\")",
		         domain_ascii);
		return XU_ERR_NOHOST;
	}
	for (i = 0; i < n && *fd < 0; i++) {
		/* --direct-tls without --host: only the _xmpps-client targets qualify. */
		if (want_direct_tls && !srv[i].direct_tls)
			continue;
		net_log(log, log_ctx, level, "SRV: %s port %u%s", srv[i].target,
		        (unsigned)srv[i].port, srv[i].direct_tls ? " (direct TLS)" : "");
		*fd = net_try_host(srv[i].target, srv[i].port, deadline, &err, log, log_ctx, level);
		if (*fd >= 0)
			*direct_tls = srv[i].direct_tls;
		last_err = err;
		last_host = srv[i].target;
		last_port = srv[i].port;
		if (xu_now_ms() >= deadline)
			break;
	}
	if (*fd < 0 && (n == 0 || last_err == 0) && xu_now_ms() < deadline) {
		/* No SRV records: the domain itself on the default port (RFC 6120 §3.2.2). */
		*direct_tls = want_direct_tls;
		last_host = domain_ascii;
		last_port = port ? port : (want_direct_tls ? 5223 : 5222);
		*fd = net_try_host(domain_ascii, (uint16_t)last_port, deadline, &err, log, log_ctx,
		                   level);
		last_err = err;
	}
	if (*fd >= 0) {
		xu_srv_free(srv, n);
		return XU_OK;
	}
	if (last_err == 0)
		last_err = ETIMEDOUT;
	e = net_fail(last_err, last_host, last_port, errbuf, errlen);
	xu_srv_free(srv, n);
	return e;
}
