/*
 * NAME
 *	main - command line, config load, daemon setup, signals, smfi_main
 *
 * SYNOPSIS
 *	tlspolicy-milter [-fnvVh] [-c file] [-p socket]
 *	tlspolicy-milter --verify-audit [--key-file file] [--anchor hash] FILE...
 *
 * DESCRIPTION
 *	Loads the configuration (or the built-in policy), opens the milter
 *	socket and the audit log, goes to the background unless -f, and runs
 *	libmilter's smfi_main() in a thread of its own.  The main thread
 *	waits for signals with sigwait(): libmilter's own signal thread
 *	would stop the milter on SIGHUP, so every signal is blocked before
 *	any thread starts and the main thread, which the kernel prefers for
 *	process signals, takes them all:
 *
 *	  SIGHUP          reload the config; on error keep the old one
 *	  SIGUSR1         reopen the audit log (log rotation)
 *	  (every second)  fdatasync the audit log (audit-fsync interval)
 *	  SIGTERM SIGINT  stop: smfi_stop(), then exit
 *
 * DIAGNOSTICS
 *	--verify-audit checks the hash chain of audit files (verifytool.c).
 *
 *	Start-up failures print "tlspolicy-milter: ..." on stderr and exit
 *	with a sysexits(3) code: EX_USAGE, EX_CONFIG (bad config), EX_OSERR,
 *	EX_UNAVAILABLE (socket).  Reload and reopen outcomes are logged.
 *
 * SEE ALSO
 *	callbacks.c, conf.c, session.c; tlspolicy-milter(8)
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
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "audit.h"
#include "auditsink.h"
#include "callbacks.h"
#include "conf.h"
#include "keyfile.h"
#include "log.h"
#include "session.h"
#include "tlsinfo.h"
#include "verifytool.h"

struct options {
	const char	*config_path;	/* NULL: built-in policy */
	const char	*socket;	/* -p, overrides the config */
	const char	*userid;	/* -u, overrides the config */
	bool		 is_root_allowed; /* -R */
	bool		 is_foreground;
	bool		 is_check_only;
	bool		 is_verbose;
};

static int	parse_args(int, char **, struct options *);
static void	usage(FILE *);
static struct conf *load(const struct options *, struct conf_error *);
static void	start_logging(const struct conf *, const struct options *);
static int	daemonize(void);
static int	clear_stale_socket(const char *);
static const char *unix_path(const char *);
static int	drop_privileges(const struct conf *, const char *,
		    const char *);
static int	write_pid_file(const char *);
static void	*milter_thread(void *);
static void	set_thread_stack(void);
static int	serve(const struct options *, struct audit_sink *);
static void	reload(const struct options *);
static bool	on_signal(const struct options *, struct audit_sink *, int);
static void	sync_audit(struct audit_sink *);
static struct audit_sink *open_audit(const struct conf *);

/* How long a stop waits for libmilter's threads before exiting anyway. */
#define STOP_WAIT_SECONDS	10

/*
 * The stack of every thread started from serve() on (libmilter's workers
 * among them), instead of glibc's RLIMIT_STACK default (8 MiB): a
 * callback needs a few KiB, and glibc reuses the stacks of exited threads
 * up to 40 MiB, so libmilter's worker churn (a worker quits when two are
 * idle) maps no new stack.
 */
#define THREAD_STACK_SIZE	(512 * 1024)

static volatile int milter_status;	/* smfi_main's result */

int
main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct conf_error err;
	struct conf *conf;
	struct audit_sink *sink = NULL;
	int rc;

	if (argc > 1 && strcmp(argv[1], "--verify-audit") == 0)
		return verify_audit(argc - 2, argv + 2);
	if ((rc = parse_args(argc, argv, &opt)) != -1)
		return rc;
	if ((conf = load(&opt, &err)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: %s\n", err.text);
		return EX_CONFIG;
	}
	if (opt.is_check_only) {
		conf_print(conf, stdout);
		printf("ok\n");
		conf_free(&conf);
		return EX_OK;
	}
	if (opt.socket != NULL) {
		free(conf->socket);
		if ((conf->socket = strdup(opt.socket)) == NULL)
			return EX_OSERR;
	}
	if (opt.userid != NULL) {
		free(conf->userid);
		if ((conf->userid = strdup(opt.userid)) == NULL)
			return EX_OSERR;
	}
	if (geteuid() == 0 && conf->userid == NULL && !conf->allow_root &&
	    !opt.is_root_allowed) {
		fprintf(stderr, "tlspolicy-milter: refusing to run as root: set"
		    " userid in the config (or -u user), or allow-root yes (-R)\n");
		conf_free(&conf);
		return EX_CONFIG;
	}
	start_logging(conf, &opt);
	if (tlsinfo_cipher_init() == -1)	/* reads OpenSSL's config: before chroot/setuid */
		log_msg(LOG_LEVEL_WARNING, "OpenSSL's cipher table is not"
		    " available; every cipher counts as unknown");
	if (conf->audit_log != NULL && (sink = open_audit(conf)) == NULL) {
		conf_free(&conf);
		return EX_CANTCREAT;
	}
	session_conf_install(conf);
	rc = serve(&opt, sink);
	callbacks_close_open_sessions();	/* their session records */
	session_conf_shutdown();
	/* no free: a worker may still write a record, and now writes it */
	if (sink != NULL && audit_sink_drain(sink) == -1)
		log_errno(LOG_LEVEL_ERROR, "%s: cannot write or sync the audit"
		    " log", audit_sink_path(sink));
	sync_audit(sink);	/* reports records lost to a failed write */
	log_close();
	return rc;
}

/* parse_args - fill opt; -1 to go on, else the exit status. */
static int
parse_args(int argc, char **argv, struct options *opt)
{
	int c;

	while ((c = getopt(argc, argv, "c:p:u:fnRvVh")) != -1) {
		switch (c) {
		case 'u':
			opt->userid = optarg;
			break;
		case 'R':
			opt->is_root_allowed = true;
			break;
		case 'c':
			opt->config_path = optarg;
			break;
		case 'p':
			opt->socket = optarg;
			break;
		case 'f':
			opt->is_foreground = true;
			break;
		case 'n':
			opt->is_check_only = true;
			break;
		case 'v':
			opt->is_verbose = true;
			break;
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return EX_OK;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "tlspolicy-milter: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	return -1;
}

/* usage - the synopsis and options. */
static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: tlspolicy-milter [-fnRvVh] [-c file] [-p socket] [-u user[:group]]\n"
	    "  -c file    configuration file (default: the built-in policy)\n"
	    "  -p socket  milter socket: inet:PORT@HOST, inet6:PORT@HOST,\n"
	    "             unix:PATH (default " CONF_DEFAULT_SOCKET ")\n"
	    "  -u user[:group]  run as this user after start-up (config: userid)\n"
	    "  -R         allow running as root without -u (config: allow-root)\n"
	    "  -f         stay in the foreground, log to stderr too\n"
	    "  -n         check the configuration, print the policy, exit\n"
	    "  -v         log debug lines\n"
	    "  -V         print the version and exit\n"
	    "  -h         print this help and exit\n"
	    "       tlspolicy-milter --verify-audit [--key-file file] [--anchor hash] FILE...\n"
	    "  check the hash chain of audit files (any order, gzip too)\n");
}

/* load - the config file, or the built-in policy without -c. */
static struct conf *
load(const struct options *opt, struct conf_error *err)
{
	if (opt->config_path == NULL)
		return conf_builtin();
	return conf_load(opt->config_path, err);
}

/* start_logging - syslog per the config; stderr in the foreground. */
static void
start_logging(const struct conf *conf, const struct options *opt)
{
	log_open(PACKAGE_NAME, conf->syslog_facility, conf->syslog,
	    opt->is_foreground);
	log_set_debug(opt->is_verbose || conf->log_debug);
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

/* serve - open the socket, detach, run smfi_main, handle signals. */
static int
serve(const struct options *opt, struct audit_sink *sink)
{
	struct conf *conf = session_conf_acquire();
	const struct timespec tick = { 1, 0 };
	struct timespec synced, now;
	sigset_t set;
	pthread_t tid;
	int sig;
	bool running = true;

	callbacks_set_sink(sink);
	if (clear_stale_socket(conf->socket) == -1) {
		session_conf_release(&conf);
		return EX_UNAVAILABLE;
	}
	if (smfi_setconn(conf->socket) != MI_SUCCESS ||
	    smfi_register(*callbacks_desc()) != MI_SUCCESS ||
	    smfi_opensocket(false) != MI_SUCCESS) {
		fprintf(stderr, "tlspolicy-milter: cannot listen on %s\n",
		    conf->socket);
		session_conf_release(&conf);
		return EX_UNAVAILABLE;
	}
	if (!opt->is_foreground && daemonize() == -1) {
		session_conf_release(&conf);
		return EX_OSERR;
	}
	if (conf->pid_file != NULL && write_pid_file(conf->pid_file) == -1)
		log_errno(LOG_LEVEL_WARNING, "cannot write pid file %s",
		    conf->pid_file);
	if (unix_path(conf->socket) != NULL && conf->socket_mode != 0 &&
	    chmod(unix_path(conf->socket), conf->socket_mode) == -1)
		log_errno(LOG_LEVEL_WARNING, "cannot set mode %04o on %s",
		    conf->socket_mode, unix_path(conf->socket));
	if (drop_privileges(conf, sink != NULL ? conf->audit_log : NULL,
	    sink != NULL ? audit_sink_stage_path(sink) : NULL) == -1) {
		session_conf_release(&conf);
		return EX_NOPERM;
	}
	set_thread_stack();
	if (sink != NULL && audit_sink_start(sink) == -1)
		log_errno(LOG_LEVEL_WARNING, "%s: cannot start the audit writer"
		    " thread; decisions write the log themselves",
		    audit_sink_path(sink));
	log_msg(LOG_LEVEL_INFO, "starting: socket %s, config %s", conf->socket,
	    opt->config_path != NULL ? opt->config_path : "built-in");
	session_conf_release(&conf);

	(void) sigemptyset(&set);
	(void) sigaddset(&set, SIGHUP);
	(void) sigaddset(&set, SIGUSR1);
	(void) sigaddset(&set, SIGUSR2);
	(void) sigaddset(&set, SIGTERM);
	(void) sigaddset(&set, SIGINT);
	(void) pthread_sigmask(SIG_BLOCK, &set, NULL);
	(void) signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&tid, NULL, milter_thread, NULL) != 0) {
		log_msg(LOG_LEVEL_ERROR, "cannot start the milter thread");
		return EX_OSERR;
	}
	(void) clock_gettime(CLOCK_MONOTONIC, &synced);
	while (running) {
		if ((sig = sigtimedwait(&set, NULL, &tick)) != -1)
			running = on_signal(opt, sink, sig);
		/* every second, also when signals keep arriving (SIGHUP storms) */
		(void) clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - synced.tv_sec >= 1 || sig == -1) {
			sync_audit(sink);
			synced = now;
		}
	}
	/*
	 * libmilter's worker pool can hang at shutdown (its controller
	 * destroys the pool mutex while workers still wait on it): wait a
	 * bounded time, then go on; main() writes the queued records.
	 */
	(void) clock_gettime(CLOCK_REALTIME, &now);
	now.tv_sec += STOP_WAIT_SECONDS;
	if (pthread_timedjoin_np(tid, NULL, &now) != 0) {
		log_msg(LOG_LEVEL_ERROR, "libmilter did not stop within %d s;"
		    " exiting without it", STOP_WAIT_SECONDS);
		return EX_SOFTWARE;
	}
	log_msg(LOG_LEVEL_INFO, "stopped");
	return milter_status == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}

/* on_signal - act on one signal; false to stop. */
static bool
on_signal(const struct options *opt, struct audit_sink *sink, int sig)
{
	switch (sig) {
	case SIGHUP:
		reload(opt);
		break;
	case SIGUSR1:
		if (sink == NULL)
			log_msg(LOG_LEVEL_INFO, "SIGUSR1: no audit log to reopen");
		else if (audit_sink_reopen(sink) == -1)
			log_errno(LOG_LEVEL_ERROR, "SIGUSR1: cannot reopen the"
			    " audit log %s; still writing to the old file",
			    audit_sink_path(sink));
		else
			log_msg(LOG_LEVEL_INFO, "SIGUSR1: audit log reopened");
		break;
	case SIGTERM:
	case SIGINT:
		log_msg(LOG_LEVEL_INFO, "%s: stopping",
		    sig == SIGTERM ? "SIGTERM" : "SIGINT");
		(void) smfi_stop();
		return false;
	case SIGUSR2:	/* smfi_main returned by itself */
		return false;
	}
	return true;
}

/* sync_audit - write queued records, fdatasync if records are pending; loud. */
static void
sync_audit(struct audit_sink *sink)
{
	unsigned long lost;

	if (sink == NULL)
		return;
	if (audit_sink_sync(sink) == -1)
		log_errno(LOG_LEVEL_ERROR, "%s: cannot write or sync the audit"
		    " log", audit_sink_path(sink));
	if ((lost = audit_sink_take_lost(sink)) > 0)
		log_msg(LOG_LEVEL_ERROR, "%s: %lu queued session records NOT"
		    " WRITTEN (a write failed)", audit_sink_path(sink), lost);
}

/* milter_thread - run libmilter; tell the main thread when it returns. */
static void *
milter_thread(void *arg)
{
	(void) arg;
	milter_status = smfi_main();
	(void) kill(getpid(), SIGUSR2);
	return NULL;
}

/* reload - SIGHUP: a new config beside the old one; keep the old on error. */
static void
reload(const struct options *opt)
{
	struct conf_error err;
	struct conf *conf;

	if ((conf = load(opt, &err)) == NULL) {
		log_msg(LOG_LEVEL_ERROR, "SIGHUP: reload refused, the running"
		    " configuration stays: %s", err.text);
		return;
	}
	log_set_debug(opt->is_verbose || conf->log_debug);
	session_conf_install(conf);
	log_msg(LOG_LEVEL_INFO, "SIGHUP: configuration %s reloaded",
	    opt->config_path != NULL ? opt->config_path : "built-in");
}

/*
 * clear_stale_socket - for unix:/local: sockets, remove a socket file left
 * by a dead milter; refuse when the path is not a socket or when another
 * process still listens on it.
 */
static int
clear_stale_socket(const char *spec)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = unix_path(spec);
	struct stat st;
	int fd, rc;

	if (path == NULL)
		return 0;
	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr, "tlspolicy-milter: %s exists and is not a socket;"
		    " not removing it\n", path);
		return -1;
	}
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void) close(fd);
	if (rc == 0) {
		fprintf(stderr, "tlspolicy-milter: another process listens on %s\n",
		    path);
		return -1;
	}
	if (unlink(path) == -1) {
		fprintf(stderr, "tlspolicy-milter: cannot remove stale socket %s:"
		    " %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* unix_path - the file of a unix:/local: socket spec, else NULL. */
static const char *
unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/*
 * drop_privileges - become conf->userid ("user[:group]"): hand the unix
 * socket, the audit log and its stage to that user, then setgroups,
 * setgid, setuid, and verify that root cannot be regained.  Nothing to do
 * without userid or when not running as root.
 */
static int
drop_privileges(const struct conf *conf, const char *audit, const char *stage)
{
	char name[64], *colon;
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (conf->userid == NULL || geteuid() != 0)
		return 0;
	(void) snprintf(name, sizeof(name), "%s", conf->userid);
	if ((colon = strchr(name, ':')) != NULL)
		*colon++ = '\0';
	if ((pw = getpwnam(name)) == NULL) {
		log_msg(LOG_LEVEL_ERROR, "userid %s: no such user", name);
		return -1;
	}
	gid = pw->pw_gid;
	if (colon != NULL) {
		if ((gr = getgrnam(colon)) == NULL) {
			log_msg(LOG_LEVEL_ERROR, "userid %s: no such group %s",
			    conf->userid, colon);
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (unix_path(conf->socket) != NULL &&
	    chown(unix_path(conf->socket), pw->pw_uid, gid) == -1)
		log_errno(LOG_LEVEL_WARNING, "cannot give %s to %s",
		    unix_path(conf->socket), conf->userid);
	if (audit != NULL && chown(audit, pw->pw_uid, gid) == -1)
		log_errno(LOG_LEVEL_WARNING, "cannot give %s to %s", audit,
		    conf->userid);
	if (stage != NULL && chown(stage, pw->pw_uid, gid) == -1)
		log_errno(LOG_LEVEL_WARNING, "cannot give %s to %s", stage,
		    conf->userid);
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 ||
	    setuid(pw->pw_uid) == -1) {
		log_errno(LOG_LEVEL_ERROR, "cannot become %s", conf->userid);
		return -1;
	}
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != gid || getegid() != gid ||
	    (pw->pw_uid != 0 && setuid(0) != -1)) {
		log_msg(LOG_LEVEL_ERROR, "privileges not dropped to %s",
		    conf->userid);
		return -1;
	}
	log_msg(LOG_LEVEL_INFO, "running as %s (uid %ld, gid %ld)",
	    conf->userid, (long)pw->pw_uid, (long)gid);
	return 0;
}

/* daemonize - fork, new session, stdio to /dev/null. */
static int
daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1) {
		fprintf(stderr, "tlspolicy-milter: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid != 0)
		_exit(EX_OK);
	if (setsid() == -1 || chdir("/") == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void) dup2(fd, STDIN_FILENO);
		(void) dup2(fd, STDOUT_FILENO);
		(void) dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			(void) close(fd);
	}
	return 0;
}

/* open_audit - the audit sink with its key and fsync policy, or NULL. */
static struct audit_sink *
open_audit(const struct conf *conf)
{
	static const enum audit_fsync modes[] = {
		[CONF_FSYNC_INTERVAL] = AUDIT_FSYNC_INTERVAL,
		[CONF_FSYNC_EVERY] = AUDIT_FSYNC_EVERY,
		[CONF_FSYNC_NONE] = AUDIT_FSYNC_NONE,
	};
	unsigned char key[AUDIT_KEY_MAX] = { 0 };
	unsigned long n_orphans = 0;
	size_t keylen = 0;
	struct audit_sink *sink;
	long n;

	if (conf->audit_key_file != NULL &&
	    keyfile_read(conf->audit_key_file, key, &keylen) == -1)
		return NULL;
	if ((sink = audit_sink_open(conf->audit_log)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: %s: cannot open audit log or"
		    " its stage file %s.stage: %s\n", conf->audit_log,
		    conf->audit_log, errno == EBUSY ? "the stage file is in use"
		    " by another process" : errno == EINVAL ? "not a stage file"
		    " (move it away)" : strerror(errno));
		return NULL;
	}
	(void) audit_sink_set_key(sink, key, keylen);
	audit_sink_set_fsync(sink, conf->audit_fsync < 3 ?
	    modes[conf->audit_fsync] : AUDIT_FSYNC_INTERVAL);
	if ((n = audit_sink_recover(sink, &n_orphans)) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s: cannot append the records"
		    " staged in %s: %s (they stay there)\n", conf->audit_log,
		    audit_sink_stage_path(sink), strerror(errno));
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

/* write_pid_file - our pid, one line. */
static int
write_pid_file(const char *path)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL)
		return -1;
	fprintf(fp, "%ld\n", (long)getpid());
	return fclose(fp) == 0 ? 0 : -1;
}
