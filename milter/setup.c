/*
 * NAME
 *	setup - the daemon's start: as root, then as the service user
 *
 * SYNOPSIS
 *	#include "setup.h"
 *
 * DESCRIPTION
 *	setup_start() does, in order, what must happen before libmilter
 *	runs.  As root: resolve the user to become (root as a target needs
 *	allow-root, like no userid at all) and the socket's group, read the
 *	audit key and the sealing state (each file trusted like the
 *	config), start logging, bind the milter socket and the metrics
 *	socket, open the pid file (daemon.c does each so that no link or
 *	swap redirects it).  Then drop to the service user, check that it
 *	can read the config (reloads run as it), open the log file and the
 *	audit log with its stage as that user, detach unless -f, write the
 *	pid, and start the audit writer thread.  The socket and user in
 *	force are the config's or the command line's (conf_socket,
 *	conf_userid).  setup_end() undoes what outlives the run: the pid
 *	file and the sealing keeper.
 *
 *	Start-up only, on the main thread.
 *
 * DIAGNOSTICS
 *	Every start-up failure is printed as "tlspolicy-milter: ..." on
 *	stderr before detaching and returned as a sysexits(3) code:
 *	EX_CONFIG, EX_NOPERM, EX_UNAVAILABLE (socket), EX_CANTCREAT,
 *	EX_OSERR.  An inet socket is warned about (setup_warn_inet).
 *
 * SEE ALSO
 *	daemon.c, main.c, runloop.c, sealkeeper.c, auditsink.c;
 *	tlspolicy-milter(8) SECURITY
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>


#include "auditsink.h"
#include "callbacks.h"
#include "conf.h"
#include "daemon.h"
#include "keyfile.h"
#include "log.h"
#include "metricshttp.h"
#include "options.h"
#include "sealkeeper.h"
#include "setup.h"
#include "tlsinfo.h"

static int	as_root(const struct options *, const struct conf *,
		    struct setup *, struct metrics_http **);
static int	resolve_ids(const struct conf *, const struct options *,
		    struct setup *);
static int	open_socket(const struct conf *, const char *,
		    const struct setup *);
static int	become_user(const struct conf *, const struct options *,
		    struct setup *, struct audit_sink **);
static struct audit_sink *open_audit(const struct conf *,
		    const struct setup *);
static void	set_thread_stack(void);

/*
 * The stack of every thread started from setup_start's end on
 * (libmilter's workers among them), instead of glibc's RLIMIT_STACK
 * default (8 MiB): a callback needs a few KiB, and glibc reuses the
 * stacks of exited threads up to 40 MiB, so libmilter's worker churn (a
 * worker quits when two are idle) maps no new stack.
 */
#define THREAD_STACK_SIZE	(512 * 1024)

int
setup_start(const struct options *opt, const struct conf *conf,
    struct setup *su, struct audit_sink **sinkp,
    struct metrics_http **metricsp)
{
	struct daemon_error derr;
	int rc;

	if ((rc = as_root(opt, conf, su, metricsp)) != 0 ||
	    (rc = become_user(conf, opt, su, sinkp)) != 0)
		return rc;
	if (!opt->is_foreground && daemon_detach(&derr) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s\n", derr.text);
		return EX_OSERR;
	}
	if (su->pid_fd != -1 && daemon_pid_write(su->pid_fd, conf->pid_file,
	    &derr) == -1)
		log_msg(LOG_LEVEL_ERROR, "%s", derr.text);
	callbacks_set_sink(*sinkp);
	set_thread_stack();
	if (*sinkp != NULL && audit_sink_start(*sinkp) == -1)
		log_errno(LOG_LEVEL_WARNING, "%s: cannot start the audit writer"
		    " thread; decisions write the log themselves",
		    audit_sink_path(*sinkp));
	return 0;
}

void
setup_end(struct setup *su)
{
	if (su->pid_fd != -1)
		daemon_pid_remove(su->pid_fd, su->pid_path);
	su->pid_fd = -1;
	free(su->pid_path);
	su->pid_path = NULL;
	sealkeeper_close(&su->keeper);
}

void
setup_logging(const struct conf *conf, const struct options *opt)
{
	log_open(PACKAGE_NAME, conf->syslog_facility, conf->syslog,
	    opt->is_foreground);
	log_set_debug(opt->is_verbose || conf->log_debug);
}

void
setup_warn_inet(const char *socket, bool to_stderr)
{
	static const char text[] = "socket %s: any local user can connect to"
	    " an inet socket and have decisions recorded in its name; use a"
	    " unix socket with socket-mode 0660 and socket-group set to the"
	    " MTA's group (see SECURITY in tlspolicy-milter(8))";

	if (daemon_unix_path(socket) != NULL)
		return;
	if (to_stderr)
		fprintf(stderr, "tlspolicy-milter: warning: ");
	if (to_stderr) {
		fprintf(stderr, text, socket);
		fputc('\n', stderr);
	} else {
		log_msg(LOG_LEVEL_WARNING, text, socket);
	}
}

/*
 * as_root - what root does: the ids and the audit key, logging, the
 * OpenSSL cipher table (it reads OpenSSL's config: before setuid), the
 * milter socket, the metrics socket and the pid file.  0 or an exit
 * status; messages on stderr.
 */
static int
as_root(const struct options *opt, const struct conf *conf,
    struct setup *su, struct metrics_http **metricsp)
{
	const char *socket = conf_socket(conf, &opt->ov);
	struct daemon_error derr;
	const char *why = "";
	int rc;

	if ((rc = resolve_ids(conf, opt, su)) != 0)
		return rc;
	setup_logging(conf, opt);
	setup_warn_inet(socket, false);
	if (tlsinfo_cipher_init() == -1)
		log_msg(LOG_LEVEL_WARNING, "OpenSSL's cipher table is not"
		    " available; every cipher counts as unknown");
	if ((rc = open_socket(conf, socket, su)) != 0)
		return rc;
	if (conf->metrics_listen != NULL && (*metricsp = metrics_http_open(
	    conf->metrics_listen, &why)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: metrics-listen %s: %s: %s\n",
		    conf->metrics_listen, why, strerror(errno));
		return EX_UNAVAILABLE;
	}
	if (conf->pid_file != NULL &&
	    ((su->pid_path = strdup(conf->pid_file)) == NULL ||
	    (su->pid_fd = daemon_pid_open(conf->pid_file, &derr)) == -1)) {
		fprintf(stderr, "tlspolicy-milter: %s\n", su->pid_path == NULL ?
		    "out of memory" : derr.text);
		free(su->pid_path);
		su->pid_path = NULL;
		return EX_CANTCREAT;
	}
	return 0;
}

/*
 * resolve_ids - as root: the user to become (root as a target needs
 * allow-root like no userid at all), the socket's group, and the audit
 * key (its file trusted like the config).  0 or an exit status.
 */
static int
resolve_ids(const struct conf *conf, const struct options *opt,
    struct setup *su)
{
	bool is_root = geteuid() == 0;
	bool may_be_root = conf->allow_root || opt->is_root_allowed;
	const char *userid = conf_userid(conf, &opt->ov);
	struct daemon_error err;

	su->socket_gid = getegid();
	if (is_root && userid != NULL) {
		if (daemon_resolve_user(userid, &su->user, &err) == -1)
			goto fail;
		su->is_dropping = true;
		su->socket_gid = su->user.gid;
	}
	if (is_root && !may_be_root && (!su->is_dropping || su->user.uid == 0)) {
		fprintf(stderr, "tlspolicy-milter: refusing to run as root: set"
		    " userid in the config (or -u user) to a user other than"
		    " root, or allow-root yes (-R)\n");
		return EX_CONFIG;
	}
	if (conf->socket_group != NULL &&
	    daemon_resolve_group(conf->socket_group, &su->socket_gid,
	    &err) == -1)
		goto fail;
	if (conf->audit_key_file != NULL) {
		if (daemon_check_trusted(conf->audit_key_file, "audit key file",
		    opt->trusted_uid, &err) == -1)
			goto fail;
		if (keyfile_read(conf->audit_key_file, su->key, &su->key_size) == -1)
			return EX_CONFIG;
	}
	if (conf->audit_seal_state != NULL && conf->audit_key_file != NULL) {
		fprintf(stderr, "tlspolicy-milter: audit-seal-state and"
		    " audit-key-file exclude each other (sealing keys the"
		    " chain itself; see SEALING in tlspolicy-milter(8))\n");
		return EX_CONFIG;
	}
	if (conf->audit_seal_state != NULL && conf->audit_log != NULL) {
		/* before other files are open: the keeper inherits none */
		if ((su->keeper = sealkeeper_open(conf->audit_seal_state,
		    opt->trusted_uid, &err)) == NULL ||
		    (su->is_dropping &&
		    sealkeeper_fork(su->keeper, &err) == -1))
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "tlspolicy-milter: %s\n", err.text);
	return EX_CONFIG;
}

/*
 * open_socket - bind the milter socket as root.  A unix socket gets its
 * mode from the umask at bind (never a chmod by path) and its owner and
 * group inside its root-only directory.  0 or an exit status.
 */
static int
open_socket(const struct conf *conf, const char *socket,
    const struct setup *su)
{
	const char *path = daemon_unix_path(socket);
	struct daemon_error err;
	int dirfd = -2, ok;
	mode_t old;

	if (path != NULL &&
	    (dirfd = daemon_socket_dir(path, su->socket_gid, &err)) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s\n", err.text);
		return EX_UNAVAILABLE;
	}
	old = umask(~conf->socket_mode & 0777);
	ok = callbacks_listen(socket);
	(void) umask(old);
	if (!ok) {
		fprintf(stderr, "tlspolicy-milter: cannot listen on %s\n",
		    socket);
		if (dirfd >= 0)
			(void) close(dirfd);
		return EX_UNAVAILABLE;
	}
	if (path != NULL && daemon_socket_own(dirfd, path, su->is_dropping ?
	    su->user.uid : geteuid(), su->socket_gid, &err) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s\n", err.text);
		return EX_UNAVAILABLE;
	}
	return 0;
}

/*
 * become_user - drop to the service user, check that it can read the
 * config (a reload runs as that user), then open the audit log and its
 * stage as that user.  0 or an exit status; messages on stderr.
 */
static int
become_user(const struct conf *conf, const struct options *opt,
    struct setup *su, struct audit_sink **sink)
{
	struct daemon_error err;
	int fd;

	if (su->is_dropping) {
		if (daemon_drop(&su->user, &err) == -1) {
			fprintf(stderr, "tlspolicy-milter: %s\n", err.text);
			return EX_NOPERM;
		}
		log_msg(LOG_LEVEL_INFO, "running as %s (uid %ld, gid %ld)",
		    su->user.name, (long)su->user.uid, (long)su->user.gid);
	}
	if (opt->config_path != NULL) {
		if ((fd = open(opt->config_path, O_RDONLY | O_CLOEXEC)) == -1) {
			fprintf(stderr, "tlspolicy-milter: %s: the config file"
			    " is not readable by uid %ld (%s), so a reload"
			    " (SIGHUP) would fail; make it readable (mode"
			    " 0644)\n", opt->config_path, (long)geteuid(),
			    strerror(errno));
			return EX_CONFIG;
		}
		(void) close(fd);
	}
	if (conf->log_file != NULL && log_open_file(conf->log_file) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s: cannot open the log file"
		    " as uid %ld: %s\n", conf->log_file, (long)geteuid(),
		    strerror(errno));
		return EX_CANTCREAT;
	}
	if (conf->audit_log != NULL && (*sink = open_audit(conf, su)) == NULL)
		return EX_CANTCREAT;
	if (su->keeper != NULL && sealkeeper_start(su->keeper, *sink) == -1)
		return EX_CONFIG;
	return 0;
}

/*
 * open_audit - the audit sink with its key and fsync policy, or NULL after
 * a message on stderr.  Runs as the service user: the log's directory is
 * that user's, so nothing it plants there can redirect root.
 */
static struct audit_sink *
open_audit(const struct conf *conf, const struct setup *su)
{
	unsigned long n_orphans = 0;
	struct audit_sink *sink;
	long n;

	if ((sink = audit_sink_open(conf->audit_log)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: %s: cannot open audit log or"
		    " its stage file %s.stage: %s\n", conf->audit_log,
		    conf->audit_log, errno == EBUSY ? "the stage file is in use"
		    " by another process" : errno == EINVAL ? "not a stage file"
		    " (move it away)" : strerror(errno));
		return NULL;
	}
	(void) audit_sink_set_key(sink, su->key, su->key_size);
	if (su->keeper != NULL && sealkeeper_arm(su->keeper, sink) == -1) {
		audit_sink_close(&sink);
		return NULL;
	}
	audit_sink_set_fsync(sink, conf->audit_fsync);
	if ((n = audit_sink_recover(sink, &n_orphans)) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s: cannot append the records"
		    " staged in %s: %s (they stay there)\n", conf->audit_log,
		    audit_sink_stage_path(sink), errno == EBADMSG ? "a staged"
		    " line with a valid chain tail is not a JSON record, so the"
		    " stage was not written by this milter; move it away and"
		    " keep it as evidence" : strerror(errno));
		audit_sink_close(&sink);
		return NULL;
	}
	if (n > 0)
		log_msg(LOG_LEVEL_WARNING, "%s: %ld records an earlier run"
		    " staged and did not write appended from %s",
		    conf->audit_log, n, audit_sink_stage_path(sink));
	if (n_orphans > 0)
		log_msg(LOG_LEVEL_WARNING, "%s: %lu records in %s do not"
		    " continue this log's chain; copied to %s.orphan",
		    conf->audit_log, n_orphans, audit_sink_stage_path(sink),
		    audit_sink_stage_path(sink));
	return sink;
}

/* set_thread_stack - THREAD_STACK_SIZE for the threads started from now. */
static void
set_thread_stack(void)
{
	pthread_attr_t attr;

	if (pthread_attr_init(&attr) != 0)
		return;
	if (pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE) != 0 ||
	    pthread_setattr_default_np(&attr) != 0)
		log_msg(LOG_LEVEL_WARNING, "cannot set the thread stack size;"
		    " threads get the default");
	(void) pthread_attr_destroy(&attr);
}
