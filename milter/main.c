/*
 * NAME
 *	main - the command line and the daemon's top-level flow
 *
 * SYNOPSIS
 *	tlspolicy-milter [-fnRvVh] [-c file] [-p socket] [-u user[:group]]
 *	tlspolicy-milter --verify-audit [--key-file file] [--anchor hash] FILE...
 *	tlspolicy-milter --simulate [-c new.conf] [--json] FILE...
 *	tlspolicy-milter --setup-keys [--epoch seconds] --state file
 *
 * DESCRIPTION
 *	Reads the command line into struct options (options.h), hands the
 *	tools (--verify-audit, --simulate, --setup-keys) their arguments,
 *	loads the configuration (or the built-in policy) after checking
 *	that only root can change it, and then either prints the policy
 *	(-n) or serves: setup.c sets up as root and as the service user
 *	and detaches, the policy is recorded and installed, runloop.c runs
 *	libmilter in a thread of its own and handles signals (reload.c for
 *	SIGHUP) until a stop, and what is left is written: session records
 *	of the sessions still open, a seal, the queued audit records; the
 *	pid file is removed.
 *
 * DIAGNOSTICS
 *	Start-up failures print "tlspolicy-milter: ..." on stderr and exit
 *	with a sysexits(3) code: EX_USAGE, EX_CONFIG (bad config), EX_OSERR,
 *	EX_UNAVAILABLE (socket).  Reload and reopen outcomes are logged.
 *
 * SEE ALSO
 *	options.c, setup.c, runloop.c, reload.c, daemon.c, callbacks.c,
 *	conf.c, session.c, verifytool.c, simulate.c;
 *	tlspolicy-milter(8) SECURITY
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
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
#include "log.h"
#include "metrics.h"
#include "metricshttp.h"
#include "options.h"
#include "runloop.h"
#include "sealkeeper.h"
#include "session.h"
#include "setup.h"
#include "simulate.h"
#include "verifytool.h"

static int	parse_args(int, char **, struct options *);
static int	run(struct options *);
static void	usage(FILE *);
static int	serve(const struct options *, struct conf *);
static void	stop(const struct setup *, struct audit_sink *,
		    struct metrics_http **);

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
	if (options_absolute_config(opt) == -1)
		return EX_OSERR;
	if (options_check_config(opt, &derr) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s\n", derr.text);
		return EX_CONFIG;
	}
	if ((conf = options_load(opt, &err)) == NULL) {
		(void) conf_error_print(&err, "tlspolicy-milter: ", stderr);
		return EX_CONFIG;
	}
	if (opt->is_check_only) {
		rc = conf_print_with(conf, &opt->ov, stdout) == -1 ||
		    printf("ok\n") < 0 || fflush(stdout) == EOF ? EX_IOERR :
		    EX_OK;
		if (rc != EX_OK)
			fprintf(stderr, "tlspolicy-milter: cannot write the"
			    " policy: %s\n", strerror(errno));
		setup_warn_inet(conf_socket(conf, &opt->ov), true);
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
			opt->ov.userid = optarg;
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
			opt->ov.socket = optarg;
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

/*
 * serve - set up (setup.c: as root, then as the service user, detached),
 * record and install the policy, run libmilter and handle signals until a
 * stop (runloop.c), then write what is left.  Owns conf.
 */
static int
serve(const struct options *opt, struct conf *conf)
{
	struct setup su = SETUP_INIT;
	struct audit_sink *sink = NULL;
	struct metrics_http *metrics = NULL;
	int rc;

	runloop_block_signals();	/* before any thread starts */
	if ((rc = setup_start(opt, conf, &su, &sink, &metrics)) != 0) {
		conf_free(&conf);
		return rc;
	}
	log_msg(LOG_LEVEL_INFO, "starting: socket %s, config %s",
	    conf_socket(conf, &opt->ov), opt->config_path != NULL ?
	    opt->config_path : "built-in");
	metrics_config_loaded(conf, false);
	if (metrics != NULL && metrics_http_start(metrics) == -1)
		log_msg(LOG_LEVEL_ERROR, "cannot start the metrics endpoint");
	callbacks_record_policy(conf, &opt->ov, "start");
	session_conf_install(conf);
	/* a reload may open or move the audit log: sink may change */
	rc = runloop_run(opt, &sink, &su);
	stop(&su, sink, &metrics);
	setup_end(&su);
	return rc;
}

/*
 * stop - after libmilter stopped: the metrics endpoint, session records
 * of the sessions still open, a seal, and every queued record written.
 */
static void
stop(const struct setup *su, struct audit_sink *sink,
    struct metrics_http **metrics)
{
	metrics_http_stop(metrics);
	callbacks_close_open_sessions();	/* their session records */
	session_conf_shutdown();
	sealkeeper_seal(su->keeper, sink, "stop");
	/* no free: a worker may still write a record, and now writes it */
	if (sink != NULL && audit_sink_drain(sink) == -1)
		log_errno(LOG_LEVEL_ERROR, "%s: cannot write or sync the audit"
		    " log", audit_sink_path(sink));
	runloop_sync_audit(sink);	/* reports records a failed write lost */
}
