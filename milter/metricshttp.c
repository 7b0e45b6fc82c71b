/*
 * NAME
 *	metricshttp - the metrics endpoint: GET /metrics over HTTP
 *
 * SYNOPSIS
 *	#include "metricshttp.h"
 *
 * DESCRIPTION
 *	The HTTP side of metrics.c, on libmicrohttpd: one internal polling
 *	thread (epoll where available) serves every connection, so a scrape
 *	never runs on a libmilter worker and a slow client never holds one.
 *	The decision path only adds to atomics; a scrape reads them and
 *	renders them into a buffer of its own, handed to libmicrohttpd,
 *	which frees it.  Nothing is written: GET and HEAD of /metrics are
 *	answered, every other path 404, every other method 405.
 *
 *	Bounds, all libmicrohttpd options: METRICS_HTTP_CONNECTIONS
 *	connections in all (more are closed at accept), METRICS_HTTP_PER_IP
 *	from one address, METRICS_HTTP_TIMEOUT seconds without progress
 *	closes a connection, METRICS_HTTP_MEMORY bytes per connection for
 *	the request line and headers (longer ones get 431), a small thread
 *	stack.  A request body is read and dropped.
 *
 *	The socket is made here (not by libmicrohttpd) so that it can be
 *	bound before the daemon detaches and drops privileges, and handed
 *	over with MHD_OPTION_LISTEN_SOCKET when the thread starts.
 *
 * DIAGNOSTICS
 *	metrics_http_open() returns NULL with errno and a static reason;
 *	metrics_http_start() -1.  A scrape that cannot be rendered (out of
 *	memory) gets 500.  libmicrohttpd's own messages are not printed.
 *
 * SEE ALSO
 *	metrics.c, main.c; libmicrohttpd's manual; tlspolicy-milter(8)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"
#include "metricshttp.h"
#include "strbuf.h"

#define THREAD_STACK	(256 * 1024)

struct metrics_http {
	int		 fd;		/* listening; MHD's once started */
	char		*unix_path;	/* unix socket file, or NULL */
	struct MHD_Daemon *mhd;
};

static int	open_inet(const char *, int, const char **);
static int	open_unix(const char *, const char **);
static int	clear_stale(const char *);
static enum MHD_Result answer(void *, struct MHD_Connection *, const char *,
		    const char *, const char *, const char *, size_t *,
		    void **);
static enum MHD_Result reply(struct MHD_Connection *, unsigned, const char *,
		    size_t, enum MHD_ResponseMemoryMode);

struct metrics_http *
metrics_http_open(const char *spec, const char **why)
{
	struct metrics_http *h;
	const char *path = NULL;
	int e;

	if ((h = calloc(1, sizeof(*h))) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	if (path != NULL) {
		if ((h->unix_path = strdup(path)) == NULL) {
			free(h);
			*why = "out of memory";
			errno = ENOMEM;
			return NULL;
		}
		h->fd = open_unix(path, why);
	} else if (strncmp(spec, "inet:", 5) == 0)
		h->fd = open_inet(spec + 5, AF_INET, why);
	else if (strncmp(spec, "inet6:", 6) == 0)
		h->fd = open_inet(spec + 6, AF_INET6, why);
	else {
		*why = "not inet:PORT@HOST, inet6:PORT@HOST or unix:PATH";
		errno = EINVAL;
		h->fd = -1;
	}
	if (h->fd == -1) {
		e = errno;
		free(h->unix_path);
		free(h);
		errno = e;
		return NULL;
	}
	return h;
}

int
metrics_http_start(struct metrics_http *h)
{
	h->mhd = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD,
	    0, NULL, NULL, answer, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_HTTP_MEMORY,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
	    MHD_OPTION_END);
	return h->mhd != NULL ? 0 : -1;
}

void
metrics_http_stop(struct metrics_http **hp)
{
	struct metrics_http *h = *hp;

	if (h == NULL)
		return;
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);	/* closes the listening socket */
	else
		(void) close(h->fd);
	if (h->unix_path != NULL)
		(void) unlink(h->unix_path);
	free(h->unix_path);
	free(h);
	*hp = NULL;
}

/* open_inet - PORT@HOST of family af, bound and listening; fd or -1. */
static int
open_inet(const char *spec, int af, const char **why)
{
	struct addrinfo hints = { .ai_family = af, .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV | AI_PASSIVE }, *res = NULL;
	char port[8];
	const char *at = strchr(spec, '@');
	int fd = -1, one = 1, e;

	if (at == NULL || at == spec || (size_t)(at - spec) >= sizeof(port) ||
	    at[1] == '\0') {
		*why = "expected PORT@HOST";
		errno = EINVAL;
		return -1;
	}
	(void) memcpy(port, spec, (size_t)(at - spec));
	port[at - spec] = '\0';
	if (getaddrinfo(at + 1, port, &hints, &res) != 0 || res == NULL) {
		*why = "cannot resolve the host";
		errno = EADDRNOTAVAIL;
		return -1;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
	    sizeof(one)) == -1) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) == -1 ||
	    listen(fd, 64) == -1) {
		e = errno;
		*why = "cannot listen";
		if (fd != -1)
			(void) close(fd);
		freeaddrinfo(res);
		errno = e;
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* open_unix - a unix socket at path, bound and listening; fd or -1. */
static int
open_unix(const char *path, const char **why)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		*why = "socket path too long";
		errno = ENAMETOOLONG;
		return -1;
	}
	(void) memcpy(sun.sun_path, path, strlen(path) + 1);
	if (clear_stale(path) == -1) {
		*why = "the path exists and is not a stale socket";
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 64) == -1) {
		e = errno;
		*why = "cannot listen";
		if (fd != -1)
			(void) close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* clear_stale - remove a socket file nobody listens on; 0, or -1. */
static int
clear_stale(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	(void) memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void) close(fd);
	if (rc == 0) {
		errno = EADDRINUSE;
		return -1;
	}
	return unlink(path);
}

/*
 * answer - libmicrohttpd's access handler: the first call of a request
 * only marks it, body chunks are dropped, the last call replies.
 */
static enum MHD_Result
answer(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	static int seen;
	static const char not_found[] = "only /metrics is served here\n";
	static const char not_allowed[] = "only GET and HEAD\n";
	struct strbuf sb;

	(void) cls;
	(void) version;
	(void) upload_data;
	if (*con_cls == NULL) {
		*con_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed,
		    sizeof(not_allowed) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics") != 0)
		return reply(c, MHD_HTTP_NOT_FOUND, not_found,
		    sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
	strbuf_init(&sb, METRICS_HTTP_BODY_MAX);
	if (metrics_format(&sb) == -1 || sb.data == NULL) {
		strbuf_free(&sb);
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "", 0,
		    MHD_RESPMEM_PERSISTENT);
	}
	return reply(c, MHD_HTTP_OK, sb.data, sb.len, MHD_RESPMEM_MUST_FREE);
}

/* reply - queue a response of text (freed by libmicrohttpd per mode). */
static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *text,
    size_t size, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(size, (void *)text, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free((void *)text);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
	    status == MHD_HTTP_OK ? METRICS_CONTENT_TYPE :
	    "text/plain; charset=utf-8") != MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") !=
	    MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}
