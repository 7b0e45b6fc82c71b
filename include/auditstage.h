/*
 * auditstage.h - the audit stage: a memory-mapped ring of chained lines
 *
 * The stage is a preallocated file beside the audit log, mapped shared.
 * A chained line is copied into it before the milter replies; the sink
 * appends the staged lines to the log in batches and then consumes them.
 * A line in the stage is in the page cache like a line written with
 * write(2): a crash of the process loses nothing, and the next start
 * appends to the log what the stage holds and the log does not.
 *
 * Lines are whole and never split at the ring's end: a line that does not
 * fit before the end starts again at the front, and a NUL byte marks where
 * the data ends.  The file's header keeps the offset of the oldest line
 * not yet known to be in the log.
 *
 * Not thread-safe: the sink calls these under its lock, except that the
 * iovecs of audit_stage_batch() may be read outside it while only
 * audit_stage_put() runs (which never touches staged bytes).
 */
#ifndef TLSPOLICY_AUDITSTAGE_H
#define TLSPOLICY_AUDITSTAGE_H

#include <sys/uio.h>

#include <stdbool.h>
#include <stddef.h>

/* A stage file's first bytes (16, no NUL): tells it from a log. */
#define AUDIT_STAGE_MAGIC	"tlspolicy-stage\n"

/* The ring's size in a new stage file (bytes, after a 4 KiB header). */
#define AUDIT_STAGE_SIZE	(1024 * 1024)
#define AUDIT_STAGE_MIN		(64 * 1024)
#define AUDIT_STAGE_MAX		(64 * 1024 * 1024)

struct audit_stage;

/*
 * audit_stage_open - open or create path (mode 0640), lock it (one daemon
 * per stage), and map it.  A new or empty file gets a ring of size bytes,
 * allocated on disk at once (posix_fallocate) so that staging a line can
 * never fail for want of space; an existing stage file keeps its size and
 * its lines (audit_stage_scan).  Returns a new stage, or NULL with errno:
 * EBUSY (another process has it), EINVAL (the file is not a stage file),
 * or the error of open(2), posix_fallocate(3) or mmap(2).
 */
struct audit_stage *audit_stage_open(const char *path, size_t size);

/* audit_stage_path - the stage file's path (owned by the stage). */
const char *audit_stage_path(const struct audit_stage *);

/*
 * audit_stage_put - copy a line (newline included) after the staged ones.
 * 0, or -1 with ENOBUFS when the ring has no room for it.
 */
int	audit_stage_put(struct audit_stage *, const char *, size_t size);

/* audit_stage_fits - whether a line of size bytes can be staged now. */
bool	audit_stage_fits(const struct audit_stage *, size_t size);

/* audit_stage_used - staged bytes not yet consumed. */
size_t	audit_stage_used(const struct audit_stage *);

/*
 * audit_stage_batch - the staged bytes in order, as 0, 1 or 2 iovecs (the
 * return value) in iov; *size gets their total.
 */
int	audit_stage_batch(const struct audit_stage *, struct iovec iov[2],
	    size_t *size);

/*
 * audit_stage_consume - the first size staged bytes are in the log: free
 * them and record the new oldest offset in the file's header.
 */
void	audit_stage_consume(struct audit_stage *, size_t size);

/* audit_stage_drop - forget every staged line (they are not to be logged). */
void	audit_stage_drop(struct audit_stage *);

/*
 * audit_stage_scan - at start, the lines an earlier process left: from
 * the header's oldest offset, in ring order, each complete line (newline
 * included) until the end of the data, passed to fn until it returns
 * false.  The lines stay; audit_stage_drop() once they are safe.  Returns
 * the number of lines passed.
 */
unsigned long audit_stage_scan(struct audit_stage *,
	    bool (*fn)(void *, const char *, size_t), void *arg);

/* audit_stage_close - unmap, unlock, close and free; sets the pointer to NULL; NULL is fine. */
void	audit_stage_close(struct audit_stage **);

#endif /* TLSPOLICY_AUDITSTAGE_H */
