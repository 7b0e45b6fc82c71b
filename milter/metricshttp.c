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
 *	stack.  A request body is read and dropped.  A client that trickles
 *	a byte now and then is never idle; a watchdog thread shuts down
 *	every connection that has not sent a whole request within
 *	METRICS_HTTP_DEADLINE seconds of its connect or its last request
 *	(it checks that the descriptor still is that connection, by its
 *	local and peer names, before it touches it), and libmicrohttpd then
 *	closes it.
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
 *	metrics.c, setup.c; libmicrohttpd's manual; tlspolicy-milter(8)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "metrics.h"
#include "metricshttp.h"
#include "strbuf.h"

#define THREAD_STACK	(256 * 1024)

/* A connection the watchdog keeps an eye on. */
struct watch {
	bool			 in_use;
	bool			 is_cut;	/* shut down once already */
	int			 fd;
	struct sockaddr_storage	 peer;		/* to recognise the fd */
	socklen_t		 peer_len;
	time_t			 since;		/* connect or last request */
};

struct metrics_http {
	int		 fd;		/* listening; MHD's once started */
	char		*unix_path;	/* unix socket file, or NULL */
	struct sockaddr_storage self;	/* the listening socket's name */
	socklen_t	 self_len;
	struct MHD_Daemon *mhd;
	pthread_mutex_t	 lock;		/* watches, is_stopping */
	pthread_cond_t	 wake;
	pthread_t	 watchdog;
	bool		 has_watchdog;
	bool		 is_stopping;
	struct watch	 watches[METRICS_HTTP_CONNECTIONS];
};

static int	open_inet(const char *, int, const char **);
static int	open_unix(const char *, const char **);
static int	clear_stale(const char *);
static enum MHD_Result answer(void *, struct MHD_Connection *, const char *,
		    const char *, const char *, const char *, size_t *,
		    void **);
static enum MHD_Result reply(struct MHD_Connection *, unsigned, const char *,
		    size_t, enum MHD_ResponseMemoryMode);
static void	notify(void *, struct MHD_Connection *, void **,
		    enum MHD_ConnectionNotificationCode);
static void	*watchdog_main(void *);
static void	cut_late(struct metrics_http *, time_t);
static bool	is_same_socket(const struct metrics_http *,
		    const struct watch *);
static time_t	now_s(void);

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
	h->self_len = sizeof(h->self);
	(void) getsockname(h->fd, (struct sockaddr *)&h->self, &h->self_len);
	(void) pthread_mutex_init(&h->lock, NULL);
	(void) pthread_cond_init(&h->wake, NULL);
	return h;
}

int
metrics_http_start(struct metrics_http *h)
{
	h->mhd = MHD_start_daemon(MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD,
	    0, NULL, NULL, answer, h,
	    MHD_OPTION_NOTIFY_CONNECTION, notify, h,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->fd,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_HTTP_MEMORY,
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK,
	    MHD_OPTION_END);
	if (h->mhd == NULL)
		return -1;
	h->has_watchdog = pthread_create(&h->watchdog, NULL, watchdog_main,
	    h) == 0;
	return 0;
}

void
metrics_http_stop(struct metrics_http **hp)
{
	struct metrics_http *h = *hp;

	if (h == NULL)
		return;
	if (h->has_watchdog) {
		(void) pthread_mutex_lock(&h->lock);
		h->is_stopping = true;
		(void) pthread_cond_signal(&h->wake);
		(void) pthread_mutex_unlock(&h->lock);
		(void) pthread_join(h->watchdog, NULL);
	}
	if (h->mhd != NULL)
		MHD_stop_daemon(h->mhd);	/* closes the listening socket */
	else
		(void) close(h->fd);
	if (h->unix_path != NULL)
		(void) unlink(h->unix_path);
	free(h->unix_path);
	(void) pthread_cond_destroy(&h->wake);
	(void) pthread_mutex_destroy(&h->lock);
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
	struct metrics_http *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct strbuf sb;

	(void) version;
	(void) upload_data;
	if (*con_cls == NULL) {
		*con_cls = &seen;
		/* a whole request arrived: its connection's clock starts anew */
		ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (ci != NULL && ci->socket_context != NULL) {
			(void) pthread_mutex_lock(&h->lock);
			((struct watch *)ci->socket_context)->since = now_s();
			(void) pthread_mutex_unlock(&h->lock);
		}
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

/*
 * notify - libmicrohttpd's connection start and end: a watch per
 * connection (none when the table is full, which the connection limit
 * prevents).
 */
static void
notify(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct metrics_http *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct watch *w = *socket_context;

	(void) pthread_mutex_lock(&h->lock);
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (w != NULL)
			w->in_use = false;
		*socket_context = NULL;
	} else if ((ci = MHD_get_connection_info(c,
	    MHD_CONNECTION_INFO_CONNECTION_FD)) != NULL) {
		for (size_t i = 0; i < METRICS_HTTP_CONNECTIONS; i++) {
			if (h->watches[i].in_use)
				continue;
			w = &h->watches[i];
			*w = (struct watch){ .in_use = true,
			    .fd = ci->connect_fd, .since = now_s(),
			    .peer_len = sizeof(w->peer) };
			if (getpeername(w->fd, (struct sockaddr *)&w->peer,
			    &w->peer_len) == -1)
				w->peer_len = 0;
			*socket_context = w;
			break;
		}
	}
	(void) pthread_mutex_unlock(&h->lock);
}

/*
 * watchdog_main - once a second, shut down connections that have not
 * sent a whole request within METRICS_HTTP_DEADLINE seconds of their
 * connect or their last request (clients that trickle a byte now and
 * then, which the idle timeout never closes).  libmicrohttpd then sees
 * the connection end and closes it itself.
 */
static void *
watchdog_main(void *arg)
{
	struct metrics_http *h = arg;
	struct timespec at;

	(void) pthread_mutex_lock(&h->lock);
	while (!h->is_stopping) {
		(void) clock_gettime(CLOCK_REALTIME, &at);
		at.tv_sec++;
		(void) pthread_cond_timedwait(&h->wake, &h->lock, &at);
		cut_late(h, now_s());
	}
	(void) pthread_mutex_unlock(&h->lock);
	return NULL;
}

/* cut_late - shut down the connections past their deadline.  Lock held. */
static void
cut_late(struct metrics_http *h, time_t now)
{
	for (size_t i = 0; i < METRICS_HTTP_CONNECTIONS; i++) {
		struct watch *w = &h->watches[i];

		if (!w->in_use || w->is_cut ||
		    now - w->since <= METRICS_HTTP_DEADLINE ||
		    !is_same_socket(h, w))
			continue;
		(void) shutdown(w->fd, SHUT_RDWR);
		w->is_cut = true;
	}
}

/*
 * is_same_socket - the watch's descriptor is still that connection: a
 * socket accepted on our listening socket (same local name), from the
 * same peer.  Never touches a descriptor that was closed and reused.
 */
static bool
is_same_socket(const struct metrics_http *h, const struct watch *w)
{
	struct sockaddr_storage self, peer;
	socklen_t self_len = sizeof(self), peer_len = sizeof(peer);

	return getsockname(w->fd, (struct sockaddr *)&self, &self_len) == 0 &&
	    getpeername(w->fd, (struct sockaddr *)&peer, &peer_len) == 0 &&
	    self_len == h->self_len && memcmp(&self, &h->self, self_len) == 0 &&
	    peer_len == w->peer_len && memcmp(&peer, &w->peer, peer_len) == 0;
}

/* now_s - CLOCK_MONOTONIC seconds. */
static time_t
now_s(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}
