/*
 * NAME
 *	auditrecover - at start, append what an earlier process staged
 *
 * SYNOPSIS
 *	#include "auditrecover.h"
 *
 * DESCRIPTION
 *	Walks the stage's lines (auditstage.c) in ring order against the
 *	log's chain head.  A line is taken only when it parses as a chained
 *	line and carries its own hash (auditchain.c), so a line torn by a
 *	crash is never appended.  Until the line whose hash is the log's
 *	head is seen, lines are the log's already and are skipped; from
 *	there on each line must link to the one before it, and is appended.
 *	An empty log takes the stage's first valid line as its start (a
 *	rotated log's continuation).  When the stage has valid lines and
 *	none is the log's head (the log was replaced), every staged line is
 *	copied to the orphan file instead.
 *
 *	A torn line at the end of the log (the process died in the middle
 *	of a write) is most often the start of the first line to append:
 *	then only the rest of that line is written, and the line is whole.
 *	Any other torn line is kept and ended by a newline before the next
 *	line (the verifier warns about it and skips it).
 *
 *	The caller holds the sink's lock and owns everything passed in.
 *
 *	A line whose hash matches but which is not one JSON object (without
 *	a key anyone who can write the stage can make a hash match) stops
 *	the recovery with EBADMSG; the orphan file takes only JSON records,
 *	and is opened without following a link.
 *
 * DIAGNOSTICS
 *	-1 with the errno of the failed write(2) or open(2), or EBADMSG.  Nothing is
 *	logged; the caller counts and logs.
 *
 * SEE ALSO
 *	auditsink.c, auditstage.c, auditchain.c
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditchain.h"
#include "auditrecover.h"
#include "auditstage.h"
#include "auditverify.h"

/* One walk over the stage. */
struct walk {
	struct auditrecover	*r;
	bool			 is_linked;	/* the log's head was found */
	unsigned long		 n_valid;	/* well-formed lines seen */
	int			 error;		/* of a write */
	int			 orphan_fd;
};

static bool	recover_line(void *, const char *, size_t);
static int	append(struct auditrecover *, const char *, size_t);
static bool	orphan_line(void *, const char *, size_t);
static int	cut_back(int, size_t);
static int	write_orphans(struct walk *);

int
auditrecover_run(struct auditrecover *r)
{
	struct walk w = { .r = r, .orphan_fd = -1 };

	r->n_replayed = 0;
	r->n_orphans = 0;
	/* a new log: the stage's first line starts it (a rotated log's end) */
	w.is_linked = r->is_new_log;
	(void) audit_stage_scan(r->stage, recover_line, &w);
	if (w.error == 0 && !w.is_linked && w.n_valid > 0)
		(void) write_orphans(&w);
	errno = w.error;
	return w.error == 0 ? 0 : -1;
}

/*
 * recover_line - one staged line: skip it when the log has it, append it
 * when it links to the log's head (and its hash is right), stop at the
 * first that does not once linked.
 */
static bool
recover_line(void *arg, const char *line, size_t len)
{
	struct walk *w = arg;
	struct auditrecover *r = w->r;
	struct auditchain_tail t;
	char hash[AUDIT_HASH_HEX + 1];

	if (len < 2 || line[len - 1] != '\n' ||
	    auditchain_parse(line, len - 1, &t) == -1 ||
	    (t.epoch >= 0) != (r->sealer != NULL) ||
	    auditchain_begin(r->hasher, line, t.hashed) == -1 ||
	    (r->sealer != NULL ? auditchain_finish_sealed(r->hasher, r->sealer,
	    "}", 1, hash) : auditchain_finish(r->hasher, "}", 1, hash)) == -1 ||
	    memcmp(hash, t.hash, AUDIT_HASH_HEX) != 0)
		return !w->is_linked;	/* torn, or not ours */
	/*
	 * Without a key anyone who can write the stage can make a hash
	 * match: copy only lines that are records (one JSON object), so the
	 * log and the orphan file stay JSON Lines whatever the stage held.
	 */
	if (!t.has_open || !auditverify_is_json(line, len - 1)) {
		w->error = EBADMSG;
		return false;
	}
	w->n_valid++;
	if (!w->is_linked && memcmp(hash, r->head, AUDIT_HASH_HEX) == 0) {
		w->is_linked = true;	/* the log has it and all before it */
		return true;
	}
	if (w->is_linked && r->n_replayed == 0 && w->n_valid == 1)
		(void) memcpy(r->head, t.prev, AUDIT_HASH_HEX);	/* new log */
	if (memcmp(t.prev, r->head, AUDIT_HASH_HEX) != 0)
		return !w->is_linked;
	w->is_linked = true;
	if (append(r, line, len) == -1) {
		w->error = errno;
		return false;
	}
	(void) memcpy(r->head, hash, AUDIT_HASH_HEX);
	r->n_replayed++;
	return true;
}

/*
 * append - write the line to the log: its rest, when the log ends in
 * its start (torn); after a newline, when the log ends in another torn
 * line.  0, or -1 with errno (no part of the line stays, unless cutting
 * it off failed too: then the log ends in a torn line).
 */
static int
append(struct auditrecover *r, const char *line, size_t len)
{
	struct iovec iov[2];
	size_t done = 0, skip = 0, nl;
	int iovcnt = 0, e;

	if (r->needs_newline && r->torn != NULL && r->torn_len > 0 &&
	    r->torn_len < len && memcmp(line, r->torn, r->torn_len) == 0)
		skip = r->torn_len;		/* complete the torn line */
	else if (r->needs_newline)
		iov[iovcnt++] = (struct iovec){ (void *)"\n", 1 };
	iov[iovcnt++] = (struct iovec){ (void *)(line + skip), len - skip };
	if (auditrecover_writev(r->fd, iov, iovcnt, &done) == 0) {
		r->needs_newline = false;
		r->torn = NULL;
		return 0;
	}
	e = errno;
	nl = iovcnt == 2 && done > 0;		/* the newline went out */
	r->needs_newline = r->needs_newline && nl == 0;
	if (cut_back(r->fd, done - nl) == -1)	/* no part of it stays */
		r->needs_newline = true;
	errno = e;
	return -1;
}

/* write_orphans - lines the log does not continue: kept aside, never dropped. */
static int
write_orphans(struct walk *w)
{
	const char *stage = audit_stage_path(w->r->stage);
	char *path;

	if ((path = malloc(strlen(stage) +
	    sizeof(AUDITRECOVER_ORPHAN_SUFFIX))) == NULL) {
		w->error = ENOMEM;
		return -1;
	}
	(void) strcpy(stpcpy(path, stage), AUDITRECOVER_ORPHAN_SUFFIX);
	w->orphan_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0640);
	free(path);
	if (w->orphan_fd == -1) {
		w->error = errno;
		return -1;
	}
	w->r->n_orphans = audit_stage_scan(w->r->stage, orphan_line, w);
	if ((fsync(w->orphan_fd) == -1 || close(w->orphan_fd) == -1) &&
	    w->error == 0)
		w->error = errno;
	return w->error == 0 ? 0 : -1;
}

/* orphan_line - copy one staged line aside. */
static bool
orphan_line(void *arg, const char *line, size_t len)
{
	struct walk *w = arg;
	struct iovec iov = { (void *)line, len };
	size_t done = 0;

	if (len < 2 || line[0] != '{' || line[len - 1] != '\n' ||
	    !auditverify_is_json(line, len - 1))
		return true;	/* torn: not copied (the first pass refused junk) */
	if (auditrecover_writev(w->orphan_fd, &iov, 1, &done) == -1) {
		w->error = errno;
		return false;
	}
	return true;
}

int
auditrecover_writev(int fd, struct iovec *iov, int iovcnt, size_t *done)
{
	ssize_t n;

	while (iovcnt > 0) {
		if ((n = writev(fd, iov, iovcnt)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		*done += (size_t)n;
		while (iovcnt > 0 && (size_t)n >= iov[0].iov_len) {
			n -= (ssize_t)iov[0].iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov[0].iov_base = (char *)iov[0].iov_base + n;
			iov[0].iov_len -= (size_t)n;
		}
	}
	return 0;
}

/*
 * cut_back - a failed write left size bytes of a line at the end of fd:
 * truncate them off (a later start writes the line whole).  0, or -1
 * (then the file ends in a torn line: the next write begins with a
 * newline).
 */
static int
cut_back(int fd, size_t size)
{
	struct stat st;

	if (size == 0)
		return 0;
	if (fstat(fd, &st) == -1 || st.st_size < (off_t)size)
		return -1;
	return ftruncate(fd, st.st_size - (off_t)size);
}
