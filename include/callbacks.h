/*
 * callbacks.h - the libmilter callbacks: macros -> facts -> decide -> reply
 *
 * The glue between libmilter and the core, and the only module that
 * calls libmilter: setup.c opens the socket (callbacks_listen) and hands
 * over the audit sink, runloop.c runs and stops libmilter (callbacks_main,
 * callbacks_stop); everything else happens in the callbacks.
 */
#ifndef TLSPOLICY_CALLBACKS_H
#define TLSPOLICY_CALLBACKS_H

#include <stdbool.h>

struct audit_sink;
struct conf;
struct conf_overrides;

/*
 * callbacks_listen - register the filter and open its socket (libmilter's
 * spec: unix:PATH, inet:PORT@HOST, ...) with the caller's umask.  Whether
 * it listens.
 */
bool	callbacks_listen(const char *socket);

/* callbacks_main - serve until stopped (smfi_main); whether it ended well. */
bool	callbacks_main(void);

/*
 * callbacks_stop - ask libmilter to stop (smfi_stop): waits for its
 * listener's lock, held across its poll.
 */
void	callbacks_stop(void);

/*
 * callbacks_set_sink - where JSON records go (NULL: none).  Set before
 * smfi_main(), and by a reload that turns the audit log on (an atomic
 * store: sessions see it from their next record); the sink is borrowed
 * until the milter stops.
 */
void	callbacks_set_sink(struct audit_sink *);

/*
 * callbacks_record_policy - before conf is installed (at start, event
 * "start", and at a reload, "reload"): set its fingerprint (policyrec.h;
 * the policy as in force, with the command line's overrides ov) and
 * queue its "policy" record to the audit log, so every decision made
 * with it names a policy record earlier in the chain.  Logs the
 * fingerprint; a record that cannot be queued is logged at error level.
 */
void	callbacks_record_policy(struct conf *,
	    const struct conf_overrides *ov, const char *event);

/*
 * callbacks_close_open_sessions - at the stop, after smfi_main returned
 * and before the audit log's final flush: a session record, marked
 * "closed_by":"shutdown", for every session the MTA has not closed (their
 * close callback, should it still come, writes none).
 */
void	callbacks_close_open_sessions(void);

#endif /* TLSPOLICY_CALLBACKS_H */
