/*
 * auditsink.h - the audit file: hash-chained lines, group commit, rotation
 *
 * audit_sink_open() opens a file O_APPEND and its stage, PATH.stage
 * (auditstage.h).  A record (an open JSON object from
 * audit_format_json_open() or audit_format_session_open()) is chained
 * under the sink's lock (the "prev" and "hash" members, audit.h) and
 * staged (the line format: auditchain.h), which makes it survive a crash
 * of the process; writers append
 * the stage to the file in chain order, whole lines, one writev(2) for
 * all that is staged, outside the lock, so lines never interleave and
 * the file order is the chain order.  audit_sink_reopen() reopens by
 * path (log rotation); the chain goes on across files.  All functions
 * are thread-safe.
 */
#ifndef TLSPOLICY_AUDITSINK_H
#define TLSPOLICY_AUDITSINK_H

#include <stdbool.h>
#include <stddef.h>

#include "auditchain.h"
#include "auditfsync.h"
#include "strbuf.h"

struct audit_sink;

/*
 * audit_sink_open - open path for appending (mode 0640, created if
 * needed) and the stage path.stage (created with AUDIT_STAGE_SIZE bytes
 * on disk, locked: EBUSY when another process has it).  The chain
 * continues from the "hash" of the file's last complete line, else
 * starts at AUDIT_CHAIN_ANCHOR; a file that ends in a torn line (a crash
 * of the machine) gets a newline before the next record.  A write that
 * fails part-way is cut off the file again, so the sink leaves no torn
 * line.  Call audit_sink_recover() before the
 * first record.  Returns a new sink, or NULL with errno.
 */
struct audit_sink *audit_sink_open(const char *path);

/*
 * audit_sink_recover - after audit_sink_set_key(), before any record:
 * append to the file the lines an earlier process staged and did not
 * write (those after the file's last line, each checked against the
 * chain and its hash), then fdatasync.  Staged lines that do not
 * continue a non-empty file's chain are copied to path.stage.orphan,
 * their number in *n_orphans.  Returns the number of lines appended, or
 * -1 with errno (then the stage keeps them all; do not go on).
 */
long	audit_sink_recover(struct audit_sink *, unsigned long *n_orphans);

/*
 * audit_sink_write - stage size bytes (after the lines staged before them,
 * unchained) and return once they are written; 0, or -1 with errno (with
 * fsync interval or none they stay staged for the next write).
 */
int	audit_sink_write(struct audit_sink *, const char *, size_t size);

/*
 * audit_sink_write_chained - for a record a reply waits on: close the
 * open record in sb with "prev" and "hash" and stage it; with fsync
 * every, return once its line is written and fdatasync'd (group commit),
 * else at once (the line reaches the file with the next batch, within a
 * second).  0, or -1 with errno: then the record is not chained (with
 * fsync every: not in the file).  While the last write failed, and a
 * retry fails too, it refuses at once with that write's errno.
 */
int	audit_sink_write_chained(struct audit_sink *, struct strbuf *sb);

/*
 * audit_sink_queue_chained - chain and stage the open record in sb like
 * audit_sink_write_chained(), also while writes fail (the line waits in
 * the stage).  With fsync every it waits like audit_sink_write_chained.
 * For records no reply waits on (the session record at close).  0, or -1
 * with errno (the stage is full and cannot be written).  With fsync
 * every, a queued line a later write fails to write is dropped and
 * counted (audit_sink_take_lost).
 */
int	audit_sink_queue_chained(struct audit_sink *, struct strbuf *sb);

/*
 * audit_sink_start - start the sink's writer thread (after any fork: a
 * thread does not survive one).  From then on, with fsync interval or
 * none, no caller writes: the thread writes the stage BATCH_NS (10 ms)
 * after the last write, or at once when 64 KiB are staged, so a reply
 * never waits for a write(2).  Without it a decision record writes the
 * stage when a batch is due.  0, or -1 with errno (EBUSY: started).
 */
int	audit_sink_start(struct audit_sink *);

/*
 * audit_sink_drain - at shutdown: stop the writer thread, from now on
 * batch nothing (a record a late worker stages is written at once), then
 * audit_sink_sync().
 */
int	audit_sink_drain(struct audit_sink *);

/* audit_sink_take_lost - queued lines dropped by failed writes since the last call. */
unsigned long audit_sink_take_lost(struct audit_sink *);

/* audit_sink_set_key - HMAC key for the chain (copied); 0, or -1 (EINVAL, ENOMEM). */
int	audit_sink_set_key(struct audit_sink *, const unsigned char *,
	    size_t size);

/*
 * Forward-secure sealing (auditseal.h).  audit_sink_set_seal() turns it
 * on before audit_sink_recover(): from then on every record carries the
 * sink's epoch and its hash is keyed with that epoch's key (which only
 * the sink's one sealer context holds; threads hash unkeyed, the key
 * finishes the hash under the lock).  Not with audit_sink_set_key().
 */

/* audit_sink_set_seal - seal with epoch and its key (copied); 0 or -1. */
int	audit_sink_set_seal(struct audit_sink *, long long epoch,
	    const unsigned char *key, size_t size);

/* What the file's last complete line was, at open or after recovery. */
struct audit_sink_tail {
	bool		 is_empty;	/* no complete line */
	long long	 epoch;		/* its epoch, -1: not sealed */
	bool		 is_seal;	/* a seal record */
	bool		 is_key_wrong;	/* of the sealing epoch, and its hash is
					 * not made by the sealing key */
};

/*
 * audit_sink_set_head - continue the chain from hex (64 digits) when the
 * file is empty and nothing was chained yet (a log rotated while the
 * milter was stopped); 0, or -1 (EEXIST) when not.
 */
int	audit_sink_set_head(struct audit_sink *, const char *hex);

/* audit_sink_tail - as above. */
void	audit_sink_tail(struct audit_sink *, struct audit_sink_tail *);

/*
 * The new epoch's key, for audit_sink_seal: called once the seal and all
 * before it are written and synced; fills *epoch and key (32 bytes) and
 * returns 0, or -1 to stay in the current epoch; 0 with *epoch -1 keeps
 * the key (the step was something else that must follow the seal before
 * any record, such as audit_sink_reopen).  Decisions wait for it (it
 * stores the state: a rename and an fsync).
 */
typedef int	(*audit_sink_evolve_fn)(void *arg, long long *epoch,
		    unsigned char *key);

/* What audit_sink_seal wrote. */
struct audit_sink_sealed {
	long long	 epoch;		/* the epoch sealed */
	unsigned long	 n_records;	/* records since the last seal */
	char		 head[AUDIT_HASH_HEX + 1];	/* the head it closes */
	char		 hash[AUDIT_HASH_HEX + 1];	/* the seal's */
	long long	 new_epoch;	/* after evolve (else epoch) */
};

/*
 * audit_sink_seal - with sealing on: chain a seal record (reason; with
 * has_count false "records" and "from" are left out: the span began in
 * an earlier process), write and sync everything up to it; then, with
 * evolve, switch to the key evolve gives.  reason NULL writes no seal
 * (evolve only).  Records wait meanwhile, so none lands between the seal
 * and the switch.  0, or -1 with errno (the write, or evolve's failure:
 * then the epoch stays).
 */
int	audit_sink_seal(struct audit_sink *, const char *reason, bool has_count,
	    audit_sink_evolve_fn evolve, void *arg,
	    struct audit_sink_sealed *out);

/* audit_sink_set_fsync - when to fdatasync(2). */
void	audit_sink_set_fsync(struct audit_sink *, enum audit_fsync);

/*
 * audit_sink_sync - write the queued lines, then fdatasync if records were
 * written since the last sync (and fsync is not none), outside the lock;
 * 0, or -1 with errno.
 */
int	audit_sink_sync(struct audit_sink *);

/* audit_sink_path - the file the sink appends to. */
const char *audit_sink_path(const struct audit_sink *);

/* audit_sink_stage_path - its stage file. */
const char *audit_sink_stage_path(const struct audit_sink *);

/* audit_sink_last_hash - copy the chain head (65 bytes) into hex. */
void	audit_sink_last_hash(struct audit_sink *, char *hex);

/*
 * audit_sink_reopen - write what is queued to the old file, sync it, and
 * reopen the same path; on failure the old fd stays.  0 or -1.
 */
int	audit_sink_reopen(struct audit_sink *);

/*
 * audit_sink_retarget - move the sink to another log file (a reload that
 * changes audit-log): write what is staged to the old file and sync it,
 * then go on in path, whose first record continues the chain.  path must
 * be empty or new (ENOTEMPTY), and no stage file may exist beside it
 * (EEXIST: only a start recovers one); if the old file refuses the staged
 * records, nothing moves (EIO).  0, or -1 with errno and the old file
 * still in use.  The stage and the log are opened by the caller's user.
 */
int	audit_sink_retarget(struct audit_sink *, const char *path);

/*
 * audit_sink_close - write, sync, close and free (what cannot be written
 * stays in the stage for audit_sink_recover); sets the pointer to NULL;
 * NULL is fine.
 */
void	audit_sink_close(struct audit_sink **);

#endif /* TLSPOLICY_AUDITSINK_H */
