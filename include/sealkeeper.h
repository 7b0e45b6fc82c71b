/*
 * sealkeeper.h - the daemon's side of forward-secure sealing: the state
 * file, who rewrites it, and the seals at epoch ends, stop and reopen
 *
 * The state file (auditseal.h) must be owned by root in a directory only
 * root can change (daemon_check_trusted).  It is read as root at start;
 * after the privilege drop the service user cannot replace it, so when
 * the daemon drops privileges a small keeper process forked before the
 * drop stays root, holds the directory open and the state in memory, and
 * does one thing: on "epoch N" from the daemon (over a socket pair) it
 * evolves its copy to N (never backwards, never past the clock's epoch
 * plus one) and replaces the file.  Without a drop the daemon writes the
 * file itself.  The daemon's copy of the key is handed to the sink and
 * wiped at every step.
 *
 * Also --setup-keys (sealkeeper_setup_command).  Start-up functions are
 * not thread-safe; sealkeeper_tick and sealkeeper_seal run on the main
 * thread.
 */
#ifndef TLSPOLICY_SEALKEEPER_H
#define TLSPOLICY_SEALKEEPER_H

#include <sys/types.h>

#include "auditsink.h"
#include "daemon.h"

struct sealkeeper;

/*
 * sealkeeper_open - as root, before the drop: check path like a key file
 * (trusted_uid as for the config), open its directory, read the state.
 * A new keeper (free with sealkeeper_close), or NULL with err (a missing
 * state: "run tlspolicy-milter --setup-keys").
 */
struct sealkeeper *sealkeeper_open(const char *path, uid_t trusted_uid,
	    struct daemon_error *err);

/*
 * sealkeeper_fork - before the drop and before any other file is
 * opened: fork the root keeper process that will rewrite the state.  0, or -1
 * with err.
 */
int	sealkeeper_fork(struct sealkeeper *, struct daemon_error *err);

/*
 * sealkeeper_arm - after audit_sink_open, before audit_sink_recover: the
 * sink seals with the state's epoch and key.  0, or -1 after a message on
 * stderr.
 */
int	sealkeeper_arm(struct sealkeeper *, struct audit_sink *);

/*
 * sealkeeper_start - after the sink is open and recovered: refuse a
 * state older than the log's last epoch; seal what an earlier process
 * left unsealed (reason "recovery"); move to the clock's epoch; turn
 * sealing on in the sink.  0, or -1 after a message on stderr.
 */
int	sealkeeper_start(struct sealkeeper *, struct audit_sink *);

/*
 * sealkeeper_tick - every second: at an epoch boundary, seal the epoch
 * ("epoch-end") and evolve to the clock's epoch.  Logs.
 */
void	sealkeeper_tick(struct sealkeeper *, struct audit_sink *);

/* sealkeeper_seal - a seal now (reason "stop", "reopen"); logs. */
void	sealkeeper_seal(struct sealkeeper *, struct audit_sink *,
	    const char *reason);

/*
 * sealkeeper_reopen - SIGUSR1: a "reopen" seal ends the old file, then
 * audit_sink_reopen() before any other record (without sealing, k NULL:
 * only the reopen).  audit_sink_reopen's result; the seal's failure is
 * logged.
 */
int	sealkeeper_reopen(struct sealkeeper *, struct audit_sink *);

/*
 * sealkeeper_retarget - a reload that moves audit-log: as
 * sealkeeper_reopen, with audit_sink_retarget(sink, path).
 */
int	sealkeeper_retarget(struct sealkeeper *, struct audit_sink *,
	    const char *path);

/*
 * sealkeeper_close - wipe, stop the keeper process; sets the pointer to
 * NULL; NULL is fine.
 */
void	sealkeeper_close(struct sealkeeper **);

/*
 * sealkeeper_setup_command - tlspolicy-milter --setup-keys [--epoch
 * SECONDS] --state PATH (argv after --setup-keys): make the state and
 * print the verification key.  The exit status.
 */
int	sealkeeper_setup_command(int argc, char **argv);

#endif /* TLSPOLICY_SEALKEEPER_H */
