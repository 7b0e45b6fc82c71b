/*
 * NAME
 *	auditwrite - the audit sink's stage written to its file
 *
 * SYNOPSIS
 *	#include "auditsink.h"
 *	#include "auditsink_int.h"
 *
 * DESCRIPTION
 *	The writing half of the sink (auditsink.c chains and stages the
 *	records).  One writer at a time takes every staged line and appends
 *	them to the log with one writev(2), outside the sink's lock, so
 *	lines never interleave and the file order is the chain order.
 *
 *	Batches: the writer thread (auditwrite_thread) writes the stage
 *	BATCH_NS after the last write, or at once when BATCH_BYTES are
 *	staged, and sleeps while nothing is staged; after a failed write
 *	it retries every RETRY_NS.  With fsync every, a caller waits until
 *	its line is written and fdatasync'd (group commit): the first
 *	waiter writes everything staged, the others sleep until it is done
 *	(auditwrite_wait).
 *
 *	A failed write.  With fsync every it fails every record chained so
 *	far (they link to the lost ones): their callers get -1, lines
 *	nobody waited for are counted as lost, the stage is emptied and the
 *	head goes back to the last line on file.  Otherwise the staged
 *	lines stay and the error sticks until a write succeeds again.
 *	Either way the log keeps no part of a line: a short write is cut
 *	off again (ftruncate to the end of the last whole line written;
 *	with fsync every, of the batch), and only if that fails does the
 *	next write begin with a newline.
 *
 *	Called with the sink's lock held (auditsink_int.h says which not);
 *	waiters live on their callers' stacks.  No allocation.
 *
 * DIAGNOSTICS
 *	A failed write is kept in the sink (s->error, errno of waiters) and
 *	counted in the metrics; nothing is logged here.
 *
 * SEE ALSO
 *	auditsink.c, auditstage.c, auditrecover.c (auditrecover_writev)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auditchain.h"
#include "auditfsync.h"
#include "auditrecover.h"
#include "auditsink.h"
#include "auditsink_int.h"
#include "auditstage.h"
#include "metrics.h"

static void	keep_batch(struct audit_sink *, int, struct iovec *, int,
		    size_t, unsigned long);
static void	cut_torn(struct audit_sink *, int, size_t);
static void	finish_batch(struct audit_sink *, unsigned long, const char *,
		    unsigned long, int);
static long long now_ns(void);

void
auditwrite_batch(struct audit_sink *s)
{
	char head[AUDIT_HASH_HEX + 1];
	unsigned long last = s->n_chained, n_lines = s->n_queued;
	struct iovec iov[3], batch[3];
	size_t size, done = 0;
	int iovcnt, e = 0, fd = s->fd;
	bool is_every = s->fsync == AUDIT_FSYNC_EVERY, had_newline;

	had_newline = s->needs_newline;
	iovcnt = had_newline;
	iov[0] = (struct iovec){ (void *)"\n", 1 };
	iovcnt += audit_stage_batch(s->stage, iov + iovcnt, &size);
	(void) memcpy(batch, iov, sizeof(batch));
	s->is_writing = true;
	s->n_queued = 0;
	(void) memcpy(head, s->head, sizeof(head));
	s->last_write = now_ns();
	(void) pthread_mutex_unlock(&s->lock);
	if (auditrecover_writev(fd, iov, iovcnt, &done) == -1)
		e = errno;
	else if (is_every && fdatasync(fd) == -1)
		e = errno;	/* not known to be on disk: not written */
	(void) pthread_mutex_lock(&s->lock);
	s->is_writing = false;
	if (e != 0)
		metrics_audit_failed();
	if (e == 0) {
		audit_stage_consume(s->stage, size);
		metrics_audit_written(n_lines, size);
		metrics_audit_stage(audit_stage_used(s->stage),
		    audit_stage_capacity(s->stage));
		s->needs_newline = false;
		s->is_dirty = !is_every;
		s->error = 0;
		finish_batch(s, last, head, 0, 0);
	} else if (is_every) {
		/* every line of the batch fails: none of it stays on file */
		if (had_newline && done > 0)
			s->needs_newline = false;
		cut_torn(s, fd, done - (had_newline && done > 0));
		finish_batch(s, s->n_chained, NULL, n_lines + s->n_queued, e);
	} else {
		s->error = e;
		if (had_newline && done > 0)
			s->needs_newline = false;
		keep_batch(s, fd, batch + had_newline, iovcnt - had_newline,
		    done > (size_t)had_newline ? done - had_newline : 0, n_lines);
		finish_batch(s, last, NULL, 0, e);
	}
	(void) pthread_cond_broadcast(&s->written);
	if (s->n_queued > 0 && s->has_writer)
		(void) pthread_cond_signal(&s->wake);	/* staged meanwhile */
}

/*
 * keep_batch - a write of the n_lines staged in iov to fd failed after
 * done bytes: consume the whole lines written, cut a torn one off the
 * file, keep the rest staged for the next write.  Lock held.
 */
static void
keep_batch(struct audit_sink *s, int fd, struct iovec *iov, int iovcnt,
    size_t done, unsigned long n_lines)
{
	size_t whole = 0, at = 0, n;
	unsigned long n_written = 0;
	const char *p, *nl;
	int i;

	for (i = 0; i < iovcnt && at < done; i++) {
		p = iov[i].iov_base;
		n = iov[i].iov_len < done - at ? iov[i].iov_len : done - at;
		for (nl = p; (nl = memchr(nl, '\n', n - (size_t)(nl - p))) !=
		    NULL; nl++) {
			whole = at + (size_t)(nl - p) + 1;
			n_written++;
		}
		at += n;
	}
	audit_stage_consume(s->stage, whole);
	cut_torn(s, fd, done - whole);
	s->n_queued += n_lines - n_written;
}

/*
 * cut_torn - the last size bytes of fd are part of a line a failed write
 * tore: truncate the file back to the end of the last whole line, so no
 * fragment stays in the log (the line is written whole by the retry).
 * When the file cannot be cut, the next write starts with a newline.
 * Only the writer appends to fd (is_writing was held).  Lock held.
 */
static void
cut_torn(struct audit_sink *s, int fd, size_t size)
{
	struct stat st;

	if (size == 0)
		return;
	if (fstat(fd, &st) == -1 || st.st_size < (off_t)size ||
	    ftruncate(fd, st.st_size - (off_t)size) == -1)
		s->needs_newline = true;
}

/*
 * finish_batch - lines up to last are settled: written (error 0; head is
 * the hash of the last one) or failed with error.  Marks and unlinks
 * their waiters.  n_dropped > 0 (fsync every): those lines, the staged
 * ones after them included, are dropped, the head goes back to the last
 * line on file, and dropped lines nobody waited for count as lost.  Lock
 * held.
 */
static void
finish_batch(struct audit_sink *s, unsigned long last, const char *head,
    unsigned long n_dropped, int error)
{
	struct waiter **pp = &s->waiters, *w;
	unsigned long n_waited = 0;

	while ((w = *pp) != NULL) {
		if (w->seq > last) {
			pp = &w->next;
			continue;
		}
		w->is_done = true;
		w->error = error;
		n_waited++;
		*pp = w->next;
	}
	if (head != NULL)
		(void) memcpy(s->on_file, head, sizeof(s->on_file));
	if (n_dropped == 0)
		return;
	/* everything chained so far links to a lost line: drop it too */
	(void) memcpy(s->head, s->on_file, sizeof(s->head));
	audit_stage_drop(s->stage);
	s->n_queued = 0;
	s->n_lost += n_dropped > n_waited ? n_dropped - n_waited : 0;
	s->n_since_seal -= n_dropped < s->n_since_seal ? n_dropped :
	    s->n_since_seal;
}

int
auditwrite_wait(struct audit_sink *s, unsigned long seq)
{
	struct waiter w = { .seq = seq };

	w.next = s->waiters;
	s->waiters = &w;
	while (!w.is_done) {
		if (!s->is_writing && s->n_queued > 0)
			auditwrite_batch(s);
		else
			(void) pthread_cond_wait(&s->written, &s->lock);
	}
	errno = w.error;
	return w.error == 0 ? 0 : -1;
}

int
auditwrite_flush(struct audit_sink *s)
{
	/* the lines up to now are queued, being written, or already settled */
	if (s->n_queued == 0 && !s->is_writing)
		return 0;
	return auditwrite_wait(s, s->n_chained);
}

bool
auditwrite_is_due(struct audit_sink *s)
{
	if (s->is_draining || audit_stage_used(s->stage) >= BATCH_BYTES)
		return true;
	return now_ns() - s->last_write >= BATCH_NS;
}

void
auditwrite_wake(struct audit_sink *s)
{
	if (s->is_writer_idle || audit_stage_used(s->stage) >= BATCH_BYTES) {
		s->is_writer_idle = false;
		(void) pthread_cond_signal(&s->wake);
	}
}

void *
auditwrite_thread(void *arg)
{
	struct audit_sink *s = arg;
	struct timespec due;
	long long at;

	(void) pthread_mutex_lock(&s->lock);
	while (!s->is_stopping) {
		if (s->n_queued == 0 || s->is_writing ||
		    s->fsync == AUDIT_FSYNC_EVERY) {
			s->is_writer_idle = true;
			(void) pthread_cond_wait(&s->wake, &s->lock);
			s->is_writer_idle = false;
			continue;
		}
		at = s->last_write + (s->error != 0 ? RETRY_NS : BATCH_NS);
		if (audit_stage_used(s->stage) < BATCH_BYTES && now_ns() < at) {
			due.tv_sec = (time_t)(at / 1000000000LL);
			due.tv_nsec = (long)(at % 1000000000LL);
			if (pthread_cond_timedwait(&s->wake, &s->lock, &due) !=
			    ETIMEDOUT)
				continue;	/* woken: look again */
			if (s->is_stopping || s->n_queued == 0 || s->is_writing)
				continue;
		}
		auditwrite_batch(s);
	}
	(void) pthread_mutex_unlock(&s->lock);
	return NULL;
}

void
auditwrite_stop(struct audit_sink *s)
{
	bool had;

	(void) pthread_mutex_lock(&s->lock);
	had = s->has_writer;
	s->is_stopping = true;
	(void) pthread_cond_signal(&s->wake);
	(void) pthread_mutex_unlock(&s->lock);
	if (had)
		(void) pthread_join(s->writer, NULL);
	(void) pthread_mutex_lock(&s->lock);
	s->has_writer = false;
	(void) pthread_mutex_unlock(&s->lock);
}

/* now_ns - CLOCK_MONOTONIC in nanoseconds. */
static long long
now_ns(void)
{
	struct timespec now;

	(void) clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000000000LL + now.tv_nsec;
}
