/*
 * auditrecover.h - at start, the stage's lines against the log's chain
 *
 * An earlier process may have staged lines (auditstage.h) that did not
 * reach the log.  auditrecover_run() appends to the log, in stage order,
 * those that continue its chain (each line's own hash checked), skips
 * those the log has, and copies the lines that do not continue a
 * non-empty log to STAGE.orphan, so nothing staged is ever dropped.
 * A log that ends in the start of the first line to append (a write cut
 * short by SIGKILL or a crash) gets the rest of that line, so the torn
 * line becomes whole instead of staying as a fragment.
 * Not thread-safe: the sink calls it under its lock, before any record.
 */
#ifndef TLSPOLICY_AUDITRECOVER_H
#define TLSPOLICY_AUDITRECOVER_H

#include <stdbool.h>

#include "auditchain.h"
#include "auditstage.h"

struct iovec;

/* The orphan file's name: the stage's with this suffix. */
#define AUDITRECOVER_ORPHAN_SUFFIX	".orphan"

struct auditrecover {
	int			 fd;		/* the log, O_APPEND (borrowed) */
	struct audit_stage	*stage;		/* borrowed */
	struct auditchain_hasher *hasher;	/* with the log's key (borrowed) */
	struct auditchain_hasher *sealer;	/* the epoch's key, or NULL */
	char			 head[AUDIT_HASH_HEX + 1]; /* in: the log's last
						 * hash; out: the new head */
	bool			 is_new_log;	/* in: the log is empty */
	bool			 needs_newline;	/* in/out: it ends in a torn line */
	const char		*torn;		/* in: that torn line's bytes, */
	size_t			 torn_len;	/* or NULL (not read) (borrowed) */
	unsigned long		 n_replayed;	/* out: lines appended */
	unsigned long		 n_orphans;	/* out: lines copied aside */
};

/*
 * auditrecover_run - as above; neither syncs the log nor drops the
 * stage's lines (the caller does, once this succeeded).  0, or -1 with
 * errno (a write failed: the stage keeps everything).
 */
int	auditrecover_run(struct auditrecover *);

/*
 * auditrecover_writev - write all of iov (more calls only if one is
 * short; iov is consumed), the bytes written in *done.  0, or -1 with
 * errno.  The sink writes its batches with it too.
 */
int	auditrecover_writev(int fd, struct iovec *iov, int iovcnt,
	    size_t *done);

#endif /* TLSPOLICY_AUDITRECOVER_H */
