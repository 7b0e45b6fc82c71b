/*
 * callbacks.h - the libmilter callbacks: macros -> facts -> decide -> reply
 *
 * The glue between libmilter and the core.  setup.c registers the filter
 * description and hands over the audit sink; everything else happens in
 * the callbacks.
 */
#ifndef TLSPOLICY_CALLBACKS_H
#define TLSPOLICY_CALLBACKS_H

#include <libmilter/mfapi.h>

struct audit_sink;
struct conf;
struct conf_overrides;

/* callbacks_desc - the filter description for smfi_register(). */
struct smfiDesc *callbacks_desc(void);

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
