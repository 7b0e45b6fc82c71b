/*
 * NAME
 *	runloop - libmilter in a thread of its own, signals on the main thread
 *
 * SYNOPSIS
 *	#include "runloop.h"
 *
 * DESCRIPTION
 *	runloop_run() runs libmilter's smfi_main() in a thread of its own
 *	and waits for signals on the main thread with sigtimedwait():
 *	libmilter's own signal thread would stop the milter on SIGHUP, so
 *	every signal is blocked before any thread starts
 *	(runloop_block_signals) and the main thread, which the kernel
 *	prefers for process signals, takes them all:
 *
 *	  SIGHUP          reload the config; on error keep the old one
 *	  SIGUSR1         reopen the audit log (log rotation); with
 *	                  sealing, a seal record ends the old file first
 *	  (every second)  fdatasync the audit log (audit-fsync interval);
 *	                  with sealing, at an epoch end: seal, evolve
 *	  SIGTERM SIGINT  stop: smfi_stop(), then return
 *	  SIGUSR2         private: milter_thread's "smfi_main returned";
 *	                  from any other process it is logged and ignored
 *
 *	A stop wakes libmilter's listener out of its 5 s poll with
 *	WAKE_SIGNAL and waits for it at most STOP_WAIT_SECONDS.
 *
 * DIAGNOSTICS
 *	Reopen, sync and stop outcomes are logged.  runloop_run() returns
 *	a sysexits(3) code: EX_OK, EX_OSERR (no thread), EX_SOFTWARE
 *	(libmilter failed or did not stop in time).
 *
 * SEE ALSO
 *	main.c, reload.c, setup.c, sealkeeper.c; tlspolicy-milter(8) SIGNALS
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "auditsink.h"
#include "callbacks.h"
#include "log.h"
#include "options.h"
#include "reload.h"
#include "runloop.h"
#include "sealkeeper.h"
#include "setup.h"

static bool	on_signal(const struct options *, struct audit_sink **,
		    const struct setup *, int);
static void	handled_signals(sigset_t *);
static void	on_wake(int);
static int	set_wake_signal(void);
static void	*stopper(void *);
static int	stop_milter(pthread_t);
static int	join_milter(pthread_t);
static void	*milter_thread(void *);

/* How long a stop waits for libmilter's threads before exiting anyway. */
#define STOP_WAIT_SECONDS	10

/* Sent to the thread in smfi_main to cut its listener's poll short. */
#define WAKE_SIGNAL		SIGURG

static volatile bool milter_ok;	/* smfi_main ended well */

void
runloop_block_signals(void)
{
	sigset_t set;

	handled_signals(&set);
	(void) pthread_sigmask(SIG_BLOCK, &set, NULL);
	(void) signal(SIGPIPE, SIG_IGN);
}

int
runloop_run(const struct options *opt, struct audit_sink **sinkp,
    const struct setup *su)
{
	const struct timespec tick = { 1, 0 };
	struct timespec synced, now;
	siginfo_t si;
	sigset_t set;
	pthread_t tid;
	int sig;
	bool running = true;

	handled_signals(&set);	/* blocked since runloop_block_signals */
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
			sealkeeper_tick(su->keeper, *sinkp);
			runloop_sync_audit(*sinkp);
			synced = now;
		}
	}
	if (stop_milter(tid) == -1) {
		log_msg(LOG_LEVEL_ERROR, "libmilter did not stop within %d s;"
		    " exiting without it", STOP_WAIT_SECONDS);
		return EX_SOFTWARE;
	}
	log_msg(LOG_LEVEL_INFO, "stopped");
	return milter_ok ? EX_OK : EX_SOFTWARE;
}

void
runloop_sync_audit(struct audit_sink *sink)
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
 * and SIGINT and stops the milter on any of them.  It races runloop_run's
 * sigtimedwait for every such signal, and a SIGHUP it wins (while
 * runloop_run is busy with the one before: seen under load and under ASan)
 * ends the daemon instead of reloading it.  Here that thread never takes
 * a signal; it sleeps until the process exits, and runloop_run alone
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

/* on_signal - act on one signal; false to stop. */
static bool
on_signal(const struct options *opt, struct audit_sink **sinkp,
    const struct setup *su, int sig)
{
	struct audit_sink *sink = *sinkp;

	switch (sig) {
	case SIGHUP:
		reload_config(opt, sinkp, su);
		break;
	case SIGUSR1:
		if (log_open_file(NULL) == -1)
			log_errno(LOG_LEVEL_ERROR, "SIGUSR1: cannot reopen the"
			    " log file; still writing to the old one");
		if (sink == NULL)
			log_msg(LOG_LEVEL_INFO, "SIGUSR1: no audit log to reopen");
		else if (sealkeeper_reopen(su->keeper, sink) == -1)
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
		return false;	/* runloop_run stops libmilter */
	case SIGUSR2:	/* from milter_thread: smfi_main returned by itself */
		return false;
	}
	return true;
}

/* handled_signals - the signals runloop_run waits for. */
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
	callbacks_stop();
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
		callbacks_stop();	/* then it waits for the poll */
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
	milter_ok = callbacks_main();
	(void) kill(getpid(), SIGUSR2);
	return NULL;
}
