/*
 * NAME
 *	reload - SIGHUP: a new config beside the running one
 *
 * SYNOPSIS
 *	#include "reload.h"
 *
 * DESCRIPTION
 *	reload_config() checks and loads the config file again (or takes
 *	the built-in policy), keeps the running values of the keys a reload
 *	does not apply (conf_keep_running), applies what it can (logging,
 *	debug, audit-fsync, a new audit-log path), records the policy and
 *	installs the new config; sessions already running keep the config
 *	they started with.  Any failure keeps the running config, whole.
 *	It logs what was applied and which changed keys need a restart;
 *	the command line's overrides stay in force and are never named.
 *
 *	Runs on the main thread (the signal loop) only.
 *
 * DIAGNOSTICS
 *	Everything is logged: "SIGHUP: reload refused, ..." with every error
 *	of the file, at error level; keys that need a restart at warning
 *	level; the outcome at info level.
 *
 * SEE ALSO
 *	runloop.c, conf_reload.c, session.c, sealkeeper.c;
 *	tlspolicy-milter(8) SIGNALS
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "auditsink.h"
#include "callbacks.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "options.h"
#include "reload.h"
#include "sealkeeper.h"
#include "session.h"
#include "setup.h"

static void	refuse(const char *);
static void	log_more_errors(const struct conf_error *);
static int	reload_audit(const struct conf *, struct conf *,
		    struct audit_sink **, const struct setup *);

void
reload_config(const struct options *opt, struct audit_sink **sinkp,
    const struct setup *su)
{
	char applied[512] = "", restart[512] = "";
	struct daemon_error derr;
	struct conf_error err;
	struct conf *conf, *old;

	if (options_check_config(opt, &derr) == -1) {
		refuse(derr.text);
		return;
	}
	if ((conf = options_load(opt, &err)) == NULL) {
		refuse(err.text);
		log_more_errors(&err);
		return;
	}
	old = session_conf_acquire();
	conf_diff(old, conf, &opt->ov, applied, sizeof(applied), restart,
	    sizeof(restart));	/* -p, -u stay in force: not named */
	if (conf_keep_running(conf, old, NULL) == -1 ||
	    reload_audit(old, conf, sinkp, su) == -1) {
		refuse(NULL);
		session_conf_release(&old);
		conf_free(&conf);
		return;
	}
	metrics_config_loaded(conf, true);
	if (conf->syslog != old->syslog ||
	    conf->syslog_facility != old->syslog_facility)
		setup_logging(conf, opt);
	log_set_debug(opt->is_verbose || conf->log_debug);
	if (*sinkp != NULL && conf->audit_fsync != old->audit_fsync)
		audit_sink_set_fsync(*sinkp, conf->audit_fsync);
	session_conf_release(&old);
	callbacks_record_policy(conf, &opt->ov, "reload");
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
		if (sealkeeper_retarget(su->keeper, *sinkp,
		    conf->audit_log) == 0)
			return 0;
		log_errno(LOG_LEVEL_ERROR, "SIGHUP: cannot move the audit log"
		    " to %s (it must be new or empty, with no stage file"
		    " beside it); still writing %s", conf->audit_log,
		    old->audit_log);
		return -1;
	}
	if (conf->audit_seal_state != NULL && su->keeper == NULL) {
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
	audit_sink_set_fsync(sink, conf->audit_fsync);
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

/* refuse - a reload refused: why (NULL: logged before), and counted. */
static void
refuse(const char *why)
{
	log_msg(LOG_LEVEL_ERROR, "SIGHUP: reload refused, the running"
	    " configuration stays%s%s", why != NULL ? ": " : "",
	    why != NULL ? why : "");
	metrics_config_failed();
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
