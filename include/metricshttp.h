/*
 * metricshttp.h - the metrics endpoint: GET /metrics over HTTP
 *
 * A libmicrohttpd server on a thread of its own that answers GET (and
 * HEAD) /metrics with metrics_format()'s exposition, and nothing else:
 * 404 for other paths, 405 for other methods.  Bounded: at most
 * METRICS_HTTP_CONNECTIONS connections (METRICS_HTTP_PER_IP from one
 * address), METRICS_HTTP_TIMEOUT seconds of silence, and
 * METRICS_HTTP_MEMORY bytes per connection for the request (a longer
 * request line or header gets 431 and the connection is closed).
 *
 * Open binds the socket (before the daemon detaches and drops
 * privileges, so errors reach the terminal and low ports work); start
 * starts the thread (after the daemon's signal mask is set, which the
 * thread inherits).  Not for concurrent use: one caller opens, starts
 * and stops.
 */
#ifndef TLSPOLICY_METRICSHTTP_H
#define TLSPOLICY_METRICSHTTP_H

#define METRICS_HTTP_CONNECTIONS	32
#define METRICS_HTTP_PER_IP		8
#define METRICS_HTTP_TIMEOUT		10		/* seconds */
#define METRICS_HTTP_DEADLINE		15		/* seconds to a whole request */
#define METRICS_HTTP_MEMORY		(16 * 1024)	/* bytes per connection */
#define METRICS_HTTP_BODY_MAX		(4 * 1024 * 1024) /* largest exposition */

struct metrics_http;

/*
 * metrics_http_open - bind and listen on spec: inet:PORT@HOST,
 * inet6:PORT@HOST (HOST an address or a name), unix:PATH or local:PATH
 * (a stale socket file is replaced; any other file is not).  Returns a
 * new handle owned by the caller, or NULL with errno (and a reason in
 * why, static text).
 */
struct metrics_http *metrics_http_open(const char *spec, const char **why);

/* metrics_http_start - start serving; 0, or -1 (the socket stays open). */
int	metrics_http_start(struct metrics_http *);

/*
 * metrics_http_stop - stop the thread, close the socket (and remove a
 * unix socket file), free, and set the pointer to NULL; NULL is fine.
 */
void	metrics_http_stop(struct metrics_http **);

#endif /* TLSPOLICY_METRICSHTTP_H */
