/*
 * setup.h - the daemon's start: as root, then as the service user
 *
 * What start-up resolves and opens while still root (the user, the
 * socket's group, the audit key, the sealing keeper, the pid file) is
 * kept in struct setup for the run: the signal loop and a reload read
 * it, and setup_end() removes the pid file at the stop.  Start-up and
 * the main thread only.
 */
#ifndef TLSPOLICY_SETUP_H
#define TLSPOLICY_SETUP_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "auditchain.h"
#include "auditsink.h"
#include "conf.h"
#include "daemon.h"
#include "metricshttp.h"
#include "options.h"
#include "sealkeeper.h"

/* What start-up resolved as root; pid_fd is kept to remove the file. */
struct setup {
	struct daemon_user	 user;
	bool			 is_dropping;	/* root with a userid */
	gid_t			 socket_gid;
	int			 pid_fd;	/* -1: no pid file */
	char			*pid_path;	/* owned; removed at exit */
	unsigned char		 key[AUDIT_KEY_MAX];
	size_t			 key_size;
	struct sealkeeper	*keeper;	/* audit-seal-state, or NULL */
};

/* The state before setup_start. */
#define SETUP_INIT	{ .pid_fd = -1 }

/*
 * setup_start - everything before libmilter runs, as root and then as
 * the service user, detached unless -f: su filled, *sinkp the audit
 * sink (NULL: no audit log), *metricsp the metrics endpoint (NULL: none;
 * opened, not started).  conf is borrowed.  0, or a sysexits(3) code
 * after a message on stderr.
 */
int	setup_start(const struct options *opt, const struct conf *conf,
	    struct setup *su, struct audit_sink **sinkp,
	    struct metrics_http **metricsp);

/*
 * setup_end - at the stop, after the last record: remove the pid file,
 * close the sealing keeper.  su is left as after SETUP_INIT.
 */
void	setup_end(struct setup *su);

/* setup_logging - syslog per the config; stderr in the foreground (-f). */
void	setup_logging(const struct conf *, const struct options *);

/*
 * setup_warn_inet - once: an inet socket lets any local user connect and
 * write records; on stderr for -n (to_stderr), in the log at start.
 */
void	setup_warn_inet(const char *socket, bool to_stderr);

#endif /* TLSPOLICY_SETUP_H */
