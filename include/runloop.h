/*
 * runloop.h - libmilter in a thread of its own, signals on the main thread
 *
 * The daemon's main loop: smfi_main() runs in a thread, the main thread
 * takes every signal (reload, reopen, stop) and syncs the audit log every
 * second.  Main thread only.
 */
#ifndef TLSPOLICY_RUNLOOP_H
#define TLSPOLICY_RUNLOOP_H

#include "auditsink.h"
#include "options.h"
#include "setup.h"

/*
 * runloop_block_signals - block every signal runloop_run handles, and
 * ignore SIGPIPE: before any thread starts, so the threads inherit the
 * mask and no handled signal ends the process with its default action.
 */
void	runloop_block_signals(void);

/*
 * runloop_run - run libmilter until a stop signal or until smfi_main
 * returns; handle signals meanwhile.  *sinkp is the audit sink (NULL:
 * none); a reload may set it.  A sysexits(3) code: EX_OK, EX_OSERR,
 * EX_SOFTWARE.
 */
int	runloop_run(const struct options *opt, struct audit_sink **sinkp,
	    const struct setup *su);

/*
 * runloop_sync_audit - write the queued records of sink (NULL: nothing)
 * and fdatasync if records are pending; a failure and every record lost
 * to a failed write are logged at error level.
 */
void	runloop_sync_audit(struct audit_sink *sink);

#endif /* TLSPOLICY_RUNLOOP_H */
