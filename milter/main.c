/*
 * NAME
 *	main - command line, config load, daemon setup, signals, smfi_main
 *
 * SYNOPSIS
 *	tlspolicy-milter [-fnvVh] [-c file] [-p socket]
 *	tlspolicy-milter --verify-audit [--key-file file] [--anchor hash] FILE...
 *	tlspolicy-milter --simulate [-c new.conf] [--json] FILE...
 *	tlspolicy-milter --setup-keys [--epoch seconds] --state file
 *
 * DESCRIPTION
 *	Loads the configuration (or the built-in policy) after checking that
 *	only root can change it, then, as root: binds the milter socket,
 *	opens the pid file and reads the audit key (daemon.c does each so
 *	that no link or swap redirects it); drops to userid; as that user,
 *	checks that it can read the config (reloads run as it) and opens the
 *	audit log; goes to the background unless -f; and runs libmilter's
 *	smfi_main() in a thread of its own.  Every start-up failure is
 *	printed on stderr before detaching.  The main thread
 *	waits for signals with sigwait(): libmilter's own signal thread
 *	would stop the milter on SIGHUP, so every signal is blocked before
 *	any thread starts and the main thread, which the kernel prefers for
 *	process signals, takes them all:
 *
 *	  SIGHUP          reload the config; on error keep the old one
 *	  SIGUSR1         reopen the audit log (log rotation); with
 *	                  sealing, a seal record ends the old file first
 *	  (every second)  fdatasync the audit log (audit-fsync interval);
 *	                  with sealing, at an epoch end: seal, evolve
 *	  SIGTERM SIGINT  stop: smfi_stop(), session records of the
 *	                  sessions still open, then exit (pid file removed)
 *	  SIGUSR2         private: milter_thread's "smfi_main returned";
 *	                  from any other process it is logged and ignored
 *
 * DIAGNOSTICS
 *	--verify-audit checks the hash chain of audit files (verifytool.c).
 *
 *	Start-up failures print "tlspolicy-milter: ..." on stderr and exit
 *	with a sysexits(3) code: EX_USAGE, EX_CONFIG (bad config), EX_OSERR,
 *	EX_UNAVAILABLE (socket).  Reload and reopen outcomes are logged.
 *
 * SEE ALSO
 *	daemon.c, callbacks.c, conf.c, session.c, verifytool.c;
 *	tlspolicy-milter(8) SECURITY
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
#include <limits.h>
#include <pthread.h>
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
#include "daemon.h"
#include "keyfile.h"
#include "log.h"
#include "metrics.h"
#include "metricshttp.h"
#include "sealkeeper.h"
#include "session.h"
#include "simulate.h"
#include "tlsinfo.h"
#include "verifytool.h"

struct options {
	char		*config_path;	/* absolute; NULL: built-in policy */
	const char	*socket;	/* -p, overrides the config */
	const char	*userid;	/* -u, overrides the config */
	uid_t		 trusted_uid;	/* who may own the config besides root */
	bool		 is_root_allowed; /* -R */
	bool		 is_foreground;
	bool		 is_check_only;
	bool		 is_verbose;
};

/* What start-up resolved while still root; pid_fd is kept to remove the file. */
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

static int	parse_args(int, char **, struct options *);
static int	run(struct options *);
static void	usage(FILE *);
static int	absolute_config(struct options *);
static void	log_more_errors(const struct conf_error *);
static int	check_config_file(const struct options *, struct daemon_error *);
static struct conf *load(const struct options *, struct conf_error *);
static int	apply_overrides(struct conf *, const struct options *);
static int	resolve_ids(const struct conf *, const struct options *,
		    struct setup *);
static void	warn_inet(const struct conf *, bool);
static void	start_logging(const struct conf *, const struct options *);
static int	open_socket(const struct conf *, const struct setup *);
static int	become_user(const struct conf *, const struct options *,
		    struct setup *, struct audit_sink **);
static void	*milter_thread(void *);
static void	handled_signals(sigset_t *);
static void	on_wake(int);
static int	set_wake_signal(void);
static int	join_milter(pthread_t);
static void	*stopper(void *);
static int	stop_milter(pthread_t);
static void	set_thread_stack(void);
static int	serve(const struct options *, struct conf *);
static int	run_loop(const struct options *, struct audit_sink **,
		    const struct setup *);
static void	reload(const struct options *, struct audit_sink **,
		    const struct setup *);
static int	reload_audit(const struct conf *, struct conf *,
		    struct audit_sink **, const struct setup *);
static bool	on_signal(const struct options *, struct audit_sink **,
		    const struct setup *, int);
static void	sync_audit(struct audit_sink *);
static enum audit_fsync fsync_mode(const struct conf *);
static struct audit_sink *open_audit(const struct conf *,
		    const struct setup *);

/* How long a stop waits for libmilter's threads before exiting anyway. */
#define STOP_WAIT_SECONDS	10

/* Sent to the thread in smfi_main to cut its listener's poll short. */
#define WAKE_SIGNAL		SIGURG

/*
 * The stack of every thread started from serve() on (libmilter's workers
 * among them), instead of glibc's RLIMIT_STACK default (8 MiB): a
 * callback needs a few KiB, and glibc reuses the stacks of exited threads
 * up to 40 MiB, so libmilter's worker churn (a worker quits when two are
 * idle) maps no new stack.
 */
#define THREAD_STACK_SIZE	(512 * 1024)

static volatile int milter_status;	/* smfi_main's result */

/* Audit sealing (sealkeeper.c): set at start-up, then main thread only. */
static struct sealkeeper *keeper;

int
main(int argc, char **argv)
{
	struct options opt = { 0 };
	int rc;

	if (argc > 1 && strcmp(argv[1], "--verify-audit") == 0)
		return verify_audit(argc - 2, argv + 2);
	if (argc > 1 && strcmp(argv[1], "--simulate") == 0)
		return simulate_main(argc - 2, argv + 2);
	if (argc > 1 && strcmp(argv[1], "--setup-keys") == 0)
		return sealkeeper_setup_command(argc - 2, argv + 2);
	if ((rc = parse_args(argc, argv, &opt)) == -1)
		rc = run(&opt);
	free(opt.config_path);
	return rc;
}

/* run - load and check the config, then -n, or serve: the exit status. */
static int
run(struct options *opt)
{
	struct daemon_error derr;
	struct conf_error err;
	struct conf *conf;
	int rc;

	opt->trusted_uid = geteuid();
	if (absolute_config(opt) == -1)
		return EX_OSERR;
	if (check_config_file(opt, &derr) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s\n", derr.text);
		return EX_CONFIG;
	}
	if ((conf = load(opt, &err)) == NULL) {
		(void) conf_error_print(&err, "tlspolicy-milter: ", stderr);
		return EX_CONFIG;
	}
	if (apply_overrides(conf, opt) == -1) {
		conf_free(&conf);
		return EX_OSERR;
	}
	if (opt->is_check_only) {
		rc = conf_print(conf, stdout) == -1 || printf("ok\n") < 0 ||
		    fflush(stdout) == EOF ? EX_IOERR : EX_OK;
		if (rc != EX_OK)
			fprintf(stderr, "tlspolicy-milter: cannot write the"
			    " policy: %s\n", strerror(errno));
		warn_inet(conf, true);
		conf_free(&conf);
		return rc;
	}
	rc = serve(opt, conf);	/* owns conf from here */
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
			free(opt->config_path);
			if ((opt->config_path = strdup(optarg)) == NULL)
				return EX_OSERR;
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
	    "  check the hash chain of audit files (any order, gzip too);\n"
	    "  --report-data file: also aggregate them for tlspolicy-report\n"
	    "       tlspolicy-milter --simulate [-c new.conf] [--json] FILE...\n"
	    "  replay the decisions of audit files with their policy or new.conf\n"
	    "       tlspolicy-milter --setup-keys [--epoch seconds] --state file\n"
	    "  make the audit sealing state; print the verification key once\n");
}

/* load - the config file, or the built-in policy without -c. */
static struct conf *
load(const struct options *opt, struct conf_error *err)
{
	if (opt->config_path == NULL)
		return conf_builtin();
	return conf_load(opt->config_path, err);
}

/* log_more_errors - the errors of a refused reload after the first. */
static void
log_more_errors(const struct conf_error *err)
{
	const char *p = err->more, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		log_msg(LOG_LEVEL_ERROR, "SIGHUP: also: %.*s", nl != NULL ?
		    (int)(nl - p) : (int)strlen(p), p);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* absolute_config - make -c absolute, so a reload after chdir("/") reads it. */
static int
absolute_config(struct options *opt)
{
	char cwd[PATH_MAX], *abs;

	if (opt->config_path == NULL || opt->config_path[0] == '/')
		return 0;
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: getcwd: %s\n", strerror(errno));
		return -1;
	}
	if (asprintf(&abs, "%s/%s", cwd, opt->config_path) == -1)
		return -1;
	free(opt->config_path);
	opt->config_path = abs;
	return 0;
}

/*
 * check_config_file - the config file (if any) and every directory above
 * it can be changed only by root (or by the user who started us): at
 * start and before every reload.
 */
static int
check_config_file(const struct options *opt, struct daemon_error *err)
{
	if (opt->config_path == NULL)
		return 0;
	return daemon_check_trusted(opt->config_path, "config file",
	    opt->trusted_uid, err);
}

/* apply_overrides - -p and -u replace the config's socket and userid. */
static int
apply_overrides(struct conf *conf, const struct options *opt)
{
	if (opt->socket != NULL) {
		free(conf->socket);
		if ((conf->socket = strdup(opt->socket)) == NULL)
			return -1;
	}
	if (opt->userid != NULL) {
		free(conf->userid);
		if ((conf->userid = strdup(opt->userid)) == NULL)
			return -1;
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
	struct daemon_error err;

	su->socket_gid = getegid();
	if (is_root && conf->userid != NULL) {
		if (daemon_resolve_user(conf->userid, &su->user, &err) == -1)
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
 * warn_inet - once: an inet socket lets any local user connect and write
 * records; on stderr for -n, in the log at start.
 */
static void
warn_inet(const struct conf *conf, bool to_stderr)
{
	static const char text[] = "socket %s: any local user can connect to"
	    " an inet socket and have decisions recorded in its name; use a"
	    " unix socket with socket-mode 0660 and socket-group set to the"
	    " MTA's group (see SECURITY in tlspolicy-milter(8))";

	if (daemon_unix_path(conf->socket) != NULL)
		return;
	if (to_stderr)
		fprintf(stderr, "tlspolicy-milter: warning: ");
	if (to_stderr) {
		fprintf(stderr, text, conf->socket);
		fputc('\n', stderr);
	} else {
		log_msg(LOG_LEVEL_WARNING, text, conf->socket);
	}
}

/*
 * open_socket - bind the milter socket as root.  A unix socket gets its
 * mode from the umask at bind (never a chmod by path) and its owner and
 * group inside its root-only directory.  0 or an exit status.
 */
static int
open_socket(const struct conf *conf, const struct setup *su)
{
	const char *path = daemon_unix_path(conf->socket);
	struct daemon_error err;
	int dirfd = -2, ok;
	mode_t old;

	if (path != NULL &&
	    (dirfd = daemon_socket_dir(path, su->socket_gid, &err)) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s\n", err.text);
		return EX_UNAVAILABLE;
	}
	old = umask(~conf->socket_mode & 0777);
	ok = smfi_setconn(conf->socket) == MI_SUCCESS &&
	    smfi_register(*callbacks_desc()) == MI_SUCCESS &&
	    smfi_opensocket(false) == MI_SUCCESS;
	(void) umask(old);
	if (!ok) {
		fprintf(stderr, "tlspolicy-milter: cannot listen on %s\n",
		    conf->socket);
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

/*
 * serve - set up as root (socket, pid file), drop to the service user,
 * open the audit log as that user, detach, then run libmilter and handle
 * signals.  Every start-up failure is printed on stderr before detaching.
 */
static int
serve(const struct options *opt, struct conf *conf)
{
	struct setup su = { .pid_fd = -1 };
	struct audit_sink *sink = NULL;
	struct metrics_http *metrics = NULL;
	struct daemon_error derr;
	const char *why = "";
	sigset_t set;
	int rc;

	/*
	 * Before any thread starts (the audit writer, libmilter's): every
	 * handled signal blocked, so only run_loop's sigtimedwait takes them
	 * and none can end the process with its default action meanwhile.
	 */
	handled_signals(&set);
	(void) pthread_sigmask(SIG_BLOCK, &set, NULL);
	(void) signal(SIGPIPE, SIG_IGN);

	if ((rc = resolve_ids(conf, opt, &su)) != 0) {
		conf_free(&conf);
		return rc;
	}
	start_logging(conf, opt);
	warn_inet(conf, false);
	if (tlsinfo_cipher_init() == -1)	/* reads OpenSSL's config: before setuid */
		log_msg(LOG_LEVEL_WARNING, "OpenSSL's cipher table is not"
		    " available; every cipher counts as unknown");
	if ((rc = open_socket(conf, &su)) != 0) {
		conf_free(&conf);
		return rc;
	}
	if (conf->metrics_listen != NULL && (metrics = metrics_http_open(
	    conf->metrics_listen, &why)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: metrics-listen %s: %s: %s\n",
		    conf->metrics_listen, why, strerror(errno));
		conf_free(&conf);
		return EX_UNAVAILABLE;
	}
	if (conf->pid_file != NULL &&
	    ((su.pid_path = strdup(conf->pid_file)) == NULL ||
	    (su.pid_fd = daemon_pid_open(conf->pid_file, &derr)) == -1)) {
		fprintf(stderr, "tlspolicy-milter: %s\n", su.pid_path == NULL ?
		    "out of memory" : derr.text);
		free(su.pid_path);
		conf_free(&conf);
		return EX_CANTCREAT;
	}
	if ((rc = become_user(conf, opt, &su, &sink)) != 0) {
		conf_free(&conf);
		return rc;
	}
	if (!opt->is_foreground && daemon_detach(&derr) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s\n", derr.text);
		return EX_OSERR;
	}
	if (su.pid_fd != -1 && daemon_pid_write(su.pid_fd, conf->pid_file,
	    &derr) == -1)
		log_msg(LOG_LEVEL_ERROR, "%s", derr.text);
	keeper = su.keeper;
	callbacks_set_sink(sink);
	set_thread_stack();
	if (sink != NULL && audit_sink_start(sink) == -1)
		log_errno(LOG_LEVEL_WARNING, "%s: cannot start the audit writer"
		    " thread; decisions write the log themselves",
		    audit_sink_path(sink));
	log_msg(LOG_LEVEL_INFO, "starting: socket %s, config %s", conf->socket,
	    opt->config_path != NULL ? opt->config_path : "built-in");
	metrics_config_loaded(conf, false);
	if (metrics != NULL && metrics_http_start(metrics) == -1)
		log_msg(LOG_LEVEL_ERROR, "cannot start the metrics endpoint");
	callbacks_record_policy(conf, "start");
	session_conf_install(conf);
	rc = run_loop(opt, &sink, &su);	/* a reload may open or move the log */
	metrics_http_stop(&metrics);
	callbacks_close_open_sessions();	/* their session records */
	session_conf_shutdown();
	sealkeeper_seal(keeper, sink, "stop");
	/* no free: a worker may still write a record, and now writes it */
	if (sink != NULL && audit_sink_drain(sink) == -1)
		log_errno(LOG_LEVEL_ERROR, "%s: cannot write or sync the audit"
		    " log", audit_sink_path(sink));
	sync_audit(sink);	/* reports records lost to a failed write */
	if (su.pid_fd != -1)
		daemon_pid_remove(su.pid_fd, su.pid_path);
	free(su.pid_path);
	sealkeeper_close(&keeper);
	return rc;
}

/* run_loop - run smfi_main in a thread; handle signals until it stops. */
static int
run_loop(const struct options *opt, struct audit_sink **sinkp,
    const struct setup *su)
{
	const struct timespec tick = { 1, 0 };
	struct timespec synced, now;
	siginfo_t si;
	sigset_t set;
	pthread_t tid;
	int sig;
	bool running = true;

	handled_signals(&set);	/* blocked since serve() began */
	if (set_wake_signal() == -1)
		log_errno(LOG_LEVEL_WARNING, "cannot set up the stop wake-up;"
		    " a stop may wait for libmilter's 5 s poll");
	if (pthread_create(&tid, NULL, milter_thread, NULL) != 0) {
		log_msg(LOG_LEVEL_ERROR, "cannot start the milter thread");
		return EX_OSERR;
	}
	(void) clock_gettime(CLOCK_MONOTONIC, &synced);
	while (running) {
		if ((sig = sigtimedwait(&set, &si, &tick)) == SIGUSR2 &&
		    si.si_pid != getpid()) {
			/* private: only milter_thread may send it */
			log_msg(LOG_LEVEL_WARNING, "SIGUSR2 from pid %ld"
			    " ignored (it has no meaning)", (long)si.si_pid);
			continue;
		}
		if (sig != -1)
			running = on_signal(opt, sinkp, su, sig);
		/* every second, also when signals keep arriving (SIGHUP storms) */
		(void) clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - synced.tv_sec >= 1 || sig == -1) {
			sealkeeper_tick(keeper, *sinkp);
			sync_audit(*sinkp);
			synced = now;
		}
	}
	if (stop_milter(tid) == -1) {
		log_msg(LOG_LEVEL_ERROR, "libmilter did not stop within %d s;"
		    " exiting without it", STOP_WAIT_SECONDS);
		return EX_SOFTWARE;
	}
	log_msg(LOG_LEVEL_INFO, "stopped");
	return milter_status == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}

/* on_signal - act on one signal; false to stop. */
static bool
on_signal(const struct options *opt, struct audit_sink **sinkp,
    const struct setup *su, int sig)
{
	struct audit_sink *sink = *sinkp;

	switch (sig) {
	case SIGHUP:
		reload(opt, sinkp, su);
		break;
	case SIGUSR1:
		if (log_open_file(NULL) == -1)
			log_errno(LOG_LEVEL_ERROR, "SIGUSR1: cannot reopen the"
			    " log file; still writing to the old one");
		if (sink == NULL)
			log_msg(LOG_LEVEL_INFO, "SIGUSR1: no audit log to reopen");
		else if (sealkeeper_reopen(keeper, sink) == -1)
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
		return false;	/* run_loop stops libmilter */
	case SIGUSR2:	/* from milter_thread: smfi_main returned by itself */
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

/*
 * sigwait - takes the C library's place for libmilter, its only caller:
 * smfi_main starts a signal thread that sigwait()s for SIGHUP, SIGTERM
 * and SIGINT and stops the milter on any of them.  It races run_loop's
 * sigtimedwait for every such signal, and a SIGHUP it wins (while
 * run_loop is busy with the one before: seen under load and under ASan)
 * ends the daemon instead of reloading it.  Here that thread never takes
 * a signal; it sleeps until the process exits, and run_loop alone
 * handles signals.  Nothing else in the process calls sigwait().
 */
int
sigwait(const sigset_t *set, int *sig)
{
	(void) set;
	(void) sig;
	for (;;)
		(void) pause();
}

/* handled_signals - the signals run_loop waits for. */
static void
handled_signals(sigset_t *set)
{
	(void) sigemptyset(set);
	(void) sigaddset(set, SIGHUP);
	(void) sigaddset(set, SIGUSR1);
	(void) sigaddset(set, SIGUSR2);
	(void) sigaddset(set, SIGTERM);
	(void) sigaddset(set, SIGINT);
}

/* on_wake - WAKE_SIGNAL's handler: nothing; the point is poll's EINTR. */
static void
on_wake(int sig)
{
	(void) sig;
}

/*
 * set_wake_signal - WAKE_SIGNAL interrupts libmilter's listener poll (a
 * 5 s timeout) so a stop is seen at once: a no-op handler without
 * SA_RESTART, blocked in every thread but the one running smfi_main.
 * SIGURG's default action is to ignore, so one sent from outside is
 * harmless.  0, or -1 with errno.
 */
static int
set_wake_signal(void)
{
	struct sigaction sa = { .sa_handler = on_wake };
	sigset_t wake;

	(void) sigemptyset(&sa.sa_mask);
	(void) sigemptyset(&wake);
	(void) sigaddset(&wake, WAKE_SIGNAL);
	if (pthread_sigmask(SIG_BLOCK, &wake, NULL) != 0)
		return -1;
	return sigaction(WAKE_SIGNAL, &sa, NULL);
}

/* stopper - smfi_stop(), which waits for the listener's lock. */
static void *
stopper(void *arg)
{
	(void) arg;
	(void) smfi_stop();
	return NULL;
}

/*
 * stop_milter - stop libmilter (a no-op when smfi_main already returned):
 * smfi_stop() takes a lock libmilter's listener holds across its 5 s
 * poll, so it runs in a thread of its own while join_milter wakes the
 * listener.  0, or -1 when libmilter did not stop in time.
 */
static int
stop_milter(pthread_t tid)
{
	pthread_t st;
	bool has_stopper;
	int rc;

	has_stopper = pthread_create(&st, NULL, stopper, NULL) == 0;
	if (!has_stopper)
		(void) smfi_stop();	/* then it waits for the poll */
	rc = join_milter(tid);
	if (has_stopper && rc == 0)
		(void) pthread_join(st, NULL);
	return rc;
}

/*
 * join_milter - while smfi_stop() runs: wake the listener every 50 ms (a wake
 * that lands between its stop check and its poll is lost) until its
 * thread ends, at most STOP_WAIT_SECONDS.  0, or -1 on timeout.
 * libmilter's worker pool can hang at shutdown (its controller destroys
 * the pool mutex while workers still wait on it): then the caller goes
 * on without it and writes the queued records.
 */
static int
join_milter(pthread_t tid)
{
	struct timespec end, next;

	(void) clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += STOP_WAIT_SECONDS;
	for (;;) {
		(void) pthread_kill(tid, WAKE_SIGNAL);
		(void) clock_gettime(CLOCK_REALTIME, &next);
		next.tv_nsec += 50 * 1000 * 1000;
		if (next.tv_nsec >= 1000 * 1000 * 1000) {
			next.tv_sec++;
			next.tv_nsec -= 1000 * 1000 * 1000;
		}
		if (pthread_timedjoin_np(tid, NULL, &next) == 0)
			return 0;
		if (next.tv_sec > end.tv_sec || (next.tv_sec == end.tv_sec &&
		    next.tv_nsec >= end.tv_nsec))
			return -1;
	}
}

/* milter_thread - run libmilter; tell the main thread when it returns. */
static void *
milter_thread(void *arg)
{
	sigset_t wake;

	(void) arg;
	(void) sigemptyset(&wake);
	(void) sigaddset(&wake, WAKE_SIGNAL);
	(void) pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	milter_status = smfi_main();
	(void) kill(getpid(), SIGUSR2);
	return NULL;
}

/* reload - SIGHUP: a new config beside the old one; keep the old on error. */
static void
reload(const struct options *opt, struct audit_sink **sinkp,
    const struct setup *su)
{
	char applied[512] = "", restart[512] = "";
	struct daemon_error derr;
	struct conf_error err;
	struct conf *conf, *old;

	if (check_config_file(opt, &derr) == -1) {
		log_msg(LOG_LEVEL_ERROR, "SIGHUP: reload refused, the running"
		    " configuration stays: %s", derr.text);
		metrics_config_failed();
		return;
	}
	if ((conf = load(opt, &err)) == NULL) {
		log_msg(LOG_LEVEL_ERROR, "SIGHUP: reload refused, the running"
		    " configuration stays: %s", err.text);
		log_more_errors(&err);
		metrics_config_failed();
		return;
	}
	old = session_conf_acquire();
	if (apply_overrides(conf, opt) == 0)	/* -p, -u: as at start */
		conf_diff(old, conf, applied, sizeof(applied), restart,
		    sizeof(restart));
	if (conf_keep_running(conf, old, NULL) == -1 ||
	    reload_audit(old, conf, sinkp, su) == -1) {
		log_msg(LOG_LEVEL_ERROR, "SIGHUP: reload refused, the running"
		    " configuration stays");
		session_conf_release(&old);
		conf_free(&conf);
		metrics_config_failed();
		return;
	}
	metrics_config_loaded(conf, true);
	if (conf->syslog != old->syslog ||
	    conf->syslog_facility != old->syslog_facility)
		start_logging(conf, opt);
	log_set_debug(opt->is_verbose || conf->log_debug);
	if (*sinkp != NULL && conf->audit_fsync != old->audit_fsync)
		audit_sink_set_fsync(*sinkp, fsync_mode(conf));
	session_conf_release(&old);
	callbacks_record_policy(conf, "reload");
	session_conf_install(conf);
	if (restart[0] != '\0')
		log_msg(LOG_LEVEL_WARNING, "SIGHUP: %s changed in %s but %s a"
		    " restart; the running value stays until then", restart,
		    opt->config_path != NULL ? opt->config_path : "built-in",
		    strchr(restart, ',') != NULL ? "need" : "needs");
	log_msg(LOG_LEVEL_INFO, "SIGHUP: configuration %s reloaded;"
	    " applied: %s", opt->config_path != NULL ? opt->config_path :
	    "built-in", applied[0] != '\0' ? applied : "the listeners'"
	    " policies (no global key changed)");
}

/*
 * reload_audit - a reload that changes audit-log: a log turned on is
 * opened (as this user, with the key read at start), a new path is
 * continued from the chain's head (audit_sink_retarget); turning it off
 * needs a restart (conf keeps the running path, and says so).  -1 after
 * logging why: then the whole reload is refused, for an audit log that
 * is not on must never look turned on.
 */
static int
reload_audit(const struct conf *old, struct conf *conf,
    struct audit_sink **sinkp, const struct setup *su)
{
	struct audit_sink *sink;
	unsigned long n_orphans;

	if (conf->audit_log == NULL && old->audit_log != NULL) {
		log_msg(LOG_LEVEL_WARNING, "SIGHUP: turning audit-log off needs"
		    " a restart; still writing %s", old->audit_log);
		return conf_keep_running(conf, old, "audit-log");
	}
	if (conf->audit_log == NULL || (old->audit_log != NULL &&
	    strcmp(conf->audit_log, old->audit_log) == 0))
		return 0;
	if (*sinkp != NULL) {
		/* with sealing, a seal ends the old file first */
		if (sealkeeper_retarget(keeper, *sinkp, conf->audit_log) == 0)
			return 0;
		log_errno(LOG_LEVEL_ERROR, "SIGHUP: cannot move the audit log"
		    " to %s (it must be new or empty, with no stage file"
		    " beside it); still writing %s", conf->audit_log,
		    old->audit_log);
		return -1;
	}
	if (conf->audit_seal_state != NULL && keeper == NULL) {
		log_msg(LOG_LEVEL_ERROR, "SIGHUP: audit-log with an"
		    " audit-seal-state the milter did not read at start (root"
		    " reads it) needs a restart");
		return -1;
	}
	if (conf->audit_key_file != NULL && su->key_size == 0) {
		log_msg(LOG_LEVEL_ERROR, "SIGHUP: audit-log with an"
		    " audit-key-file the milter did not read at start (root"
		    " reads it) needs a restart");
		return -1;
	}
	if ((sink = audit_sink_open(conf->audit_log)) == NULL ||
	    audit_sink_set_key(sink, su->key, su->key_size) == -1 ||
	    audit_sink_recover(sink, &n_orphans) == -1) {
		log_errno(LOG_LEVEL_ERROR, "SIGHUP: cannot open the audit log"
		    " %s or its stage", conf->audit_log);
		audit_sink_close(&sink);
		return -1;
	}
	audit_sink_set_fsync(sink, fsync_mode(conf));
	if (audit_sink_start(sink) == -1)
		log_errno(LOG_LEVEL_WARNING, "%s: cannot start the audit writer"
		    " thread; decisions write the log themselves",
		    audit_sink_path(sink));
	callbacks_set_sink(sink);
	*sinkp = sink;
	log_msg(LOG_LEVEL_INFO, "SIGHUP: audit log %s opened",
	    conf->audit_log);
	return 0;
}

/* fsync_mode - the sink's mode for the config's audit-fsync. */
static enum audit_fsync
fsync_mode(const struct conf *conf)
{
	static const enum audit_fsync modes[] = {
		[CONF_FSYNC_INTERVAL] = AUDIT_FSYNC_INTERVAL,
		[CONF_FSYNC_EVERY] = AUDIT_FSYNC_EVERY,
		[CONF_FSYNC_NONE] = AUDIT_FSYNC_NONE,
	};

	return conf->audit_fsync < sizeof(modes) / sizeof(modes[0]) ?
	    modes[conf->audit_fsync] : AUDIT_FSYNC_INTERVAL;
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
	audit_sink_set_fsync(sink, fsync_mode(conf));
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
