/*
 * auditsink.h - the audit file: hash-chained lines, group commit, rotation
 *
 * audit_sink_open() opens a file O_APPEND.  A record (an open JSON object
 * from audit_format_json_open() or audit_format_session_open()) is
 * chained under the sink's lock (the "prev" and "hash" members, audit.h)
 * and queued; writers write the queue in chain order, whole lines, one
 * writev(2) for all that is queued, outside the lock, so lines never
 * interleave and the file order is the chain order.  A failed write
 * fails every record chained so far and puts the chain head back.
 * audit_sink_reopen() reopens by path (log rotation); the chain goes on
 * across files.  All functions are thread-safe.
 */
#ifndef TLSPOLICY_AUDITSINK_H
#define TLSPOLICY_AUDITSINK_H

#include <stddef.h>

#include "strbuf.h"

/* When the sink calls fdatasync(2). */
enum audit_fsync {
	AUDIT_FSYNC_INTERVAL = 0,	/* in audit_sink_sync (the daemon: every second) */
	AUDIT_FSYNC_EVERY,		/* after every record, before the reply */
	AUDIT_FSYNC_NONE,		/* leave it to the kernel */
};

struct audit_sink;

/*
 * audit_sink_open - open path for appending (mode 0640, created if
 * needed).  The chain continues from the "hash" of the file's last
 * complete line, else starts at AUDIT_CHAIN_ANCHOR; a file that ends in
 * a torn line gets a newline before the next record.  Returns a new
 * sink, or NULL with errno.
 */
struct audit_sink *audit_sink_open(const char *path);

/*
 * audit_sink_write - write size bytes (after the lines queued before them,
 * unchained) and return once they are written; 0, or -1 with errno.
 */
int	audit_sink_write(struct audit_sink *, const char *, size_t size);

/*
 * audit_sink_write_chained - close the open record in sb with "prev" and
 * "hash", and return once its line is written (and fdatasync'd with fsync
 * every): by this caller, with everything queued before it in one
 * writev(2), or by a writer already at work (group commit).  0, or -1
 * with errno: then the record is not in the file.
 */
int	audit_sink_write_chained(struct audit_sink *, struct strbuf *sb);

/*
 * audit_sink_queue_chained - chain the open record in sb like
 * audit_sink_write_chained(), but return at once: the line goes to the
 * file with the next write, or audit_sink_sync(), reopen or close.  With
 * fsync every, or once draining, it waits like audit_sink_write_chained.
 * For records no reply waits on (the session record at close).  0, or -1
 * with errno.  A queued line a later write fails to write is dropped and
 * counted (audit_sink_take_lost).
 */
int	audit_sink_queue_chained(struct audit_sink *, struct strbuf *sb);

/*
 * audit_sink_drain - at shutdown: from now on queue nothing (a record a
 * late worker queues is written at once), then audit_sink_sync().
 */
int	audit_sink_drain(struct audit_sink *);

/* audit_sink_take_lost - queued lines dropped by failed writes since the last call. */
unsigned long audit_sink_take_lost(struct audit_sink *);

/* audit_sink_set_key - HMAC key for the chain (copied); 0, or -1 (EINVAL, ENOMEM). */
int	audit_sink_set_key(struct audit_sink *, const unsigned char *,
	    size_t size);

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

/* audit_sink_last_hash - copy the chain head (65 bytes) into hex. */
void	audit_sink_last_hash(struct audit_sink *, char *hex);

/*
 * audit_sink_reopen - write what is queued to the old file, sync it, and
 * reopen the same path; on failure the old fd stays.  0 or -1.
 */
int	audit_sink_reopen(struct audit_sink *);

/* audit_sink_close - write, sync, close and free; sets the pointer to NULL; NULL is fine. */
void	audit_sink_close(struct audit_sink **);

#endif /* TLSPOLICY_AUDITSINK_H */
