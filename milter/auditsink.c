/*
 * NAME
 *	auditsink - the audit file: hash-chained lines, group commit, rotation
 *
 * SYNOPSIS
 *	#include "auditsink.h"
 *
 * DESCRIPTION
 *	The sink appends whole records to an O_APPEND file and reopens the
 *	file by path for rotation.  Records are hash-chained (format
 *	version 2, doc/audit-format.md, defined in auditchain.c): under the
 *	sink's mutex a record gets "prev" (the chain head) and "hash" and
 *	joins the queue of lines chained but not yet written, in chain order.
 *	The hash is begun before the mutex is taken, over the record's
 *	fields, with a hasher of the calling thread's own (made at its first
 *	record, freed at its exit); under the mutex only the "prev" member
 *	and the end are hashed, so the mutex covers a short tail of the hash
 *	and a copy, and a thread preempted while holding it stalls few.  The
 *	chain head survives reopen, so a rotated file's first record links
 *	to the last record of the file before it; at open, the head is read
 *	from the last line of an existing file.
 *
 *	The stage.  Every chained line is first copied into the stage
 *	(auditstage.c: a preallocated file beside the log, mapped shared),
 *	under the mutex; from then on it survives a crash of the process,
 *	as a line written with write(2) does.  The staged lines are the
 *	queue: a writer takes all of them and appends them to the log with
 *	one writev(2), outside the mutex, while others stage behind them;
 *	then they are consumed.  The file order is the chain order because
 *	one writer at a time writes the stage in order.
 *
 *	Batches.  With fsync interval or none a caller never waits for a
 *	write: its record is staged, and the writer thread (audit_sink_start)
 *	writes the stage BATCH_NS after the last write, or at once when
 *	BATCH_BYTES are staged; it sleeps while nothing is staged.  So no
 *	reply waits for a write(2), and under load one write(2) carries the
 *	records of many sessions.  Without the thread (before it is started,
 *	and after audit_sink_drain) a decision record writes the stage itself
 *	when no write is in progress and a batch is due; audit_sink_sync()
 *	(the daemon: every second), reopen and close write what is left.  At
 *	start, audit_sink_recover() appends to the log what an earlier
 *	process staged and did not write (auditrecover.c).
 *
 *	With fsync every, a caller waits until its line is written and
 *	fdatasync'd (group commit): the first waiter writes everything
 *	staged, the others sleep until it is done.
 *
 *	A failed write.  With fsync every it fails every record chained so
 *	far (they link to the lost ones): their callers get -1, lines nobody
 *	waited for are counted as lost, the stage is emptied and the head
 *	goes back to the last line on file.  Otherwise the staged lines
 *	stay (their replies are sent: they must reach the log) and the error
 *	sticks: until a write succeeds again (retried by the next decision,
 *	by the writer thread every RETRY_NS and by audit_sink_sync), a
 *	decision record is refused (-1, so the MTA gets
 *	audit-failure-action) and not chained.  Either way the log keeps no
 *	part of a line: a short write is cut off again (ftruncate to the end
 *	of the last whole line written; with fsync every, of the batch), and
 *	only if that fails does the next write begin with a newline.
 *
 *	fdatasync(2): with fsync every, by the caller that writes, after its
 *	write and before its waiters return; with interval, only in
 *	audit_sink_sync(), on a copy of the descriptor and outside the mutex.
 *
 *	This file chains, stages, seals, reopens and recovers; the writing
 *	of the stage (batches, the writer thread, group commit, a failed or
 *	torn write) is auditwrite.c's, sharing the state in auditsink_int.h.
 *
 *	All functions are thread-safe.  No allocation per record: waiters
 *	live on their callers' stacks, lines in the stage, hash contexts
 *	with their threads.
 *
 * DIAGNOSTICS
 *	Functions return 0, or -1 with errno (ENOMEM, EMSGSIZE from the
 *	strbuf; the write(2) or open(2) error).  Nothing is logged here;
 *	callers log.
 *
 * SEE ALSO
 *	audit.c (the records), auditchain.c (the line and its hash),
 *	auditwrite.c (the stage written), auditrecover.c (the stage at
 *	start), auditverify.c (the chain check), setup.c
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "audit.h"
#include "auditchain.h"
#include "auditrecover.h"
#include "auditseal.h"
#include "auditsink.h"
#include "auditsink_int.h"
#include "auditstage.h"
#include "metrics.h"
#include "strbuf.h"

/* The stage file's name: the log's with this suffix. */
#define STAGE_SUFFIX	".stage"

/* The threads' own hashers (thread_hasher), and the generations. */
static pthread_key_t		hasher_key;
static pthread_once_t		hasher_once = PTHREAD_ONCE_INIT;
static bool			has_hasher_key;
static _Atomic unsigned long	next_gen;

static int	put_record(struct audit_sink *, struct strbuf *, bool);
static int	chain_locked(struct audit_sink *, struct strbuf *,
		    struct hasher *);
static struct hasher *thread_hasher(struct audit_sink *);
static void	hasher_key_init(void);
static void	hasher_free(void *);
static void	read_head(struct audit_sink *);
static size_t	read_torn(const struct audit_sink *, char *, size_t);
static struct auditchain_hasher *keyed_hasher(const unsigned char *, size_t);
static void	sync_locked(struct audit_sink *);
static int	seal_locked(struct audit_sink *, const char *, bool,
		    struct audit_sink_sealed *);

struct audit_sink *
audit_sink_open(const char *path)
{
	struct audit_sink *s;
	pthread_condattr_t attr;
	char *stage_path;
	int e;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->path = strdup(path)) == NULL ||
	    (stage_path = malloc(strlen(path) + sizeof(STAGE_SUFFIX))) == NULL) {
		free(s->path);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	(void) strcpy(stpcpy(stage_path, path), STAGE_SUFFIX);
	s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	e = errno;
	if (s->fd != -1 && (s->stage = audit_stage_open(stage_path,
	    AUDIT_STAGE_SIZE)) == NULL)
		e = errno;
	free(stage_path);
	if (s->fd == -1 || s->stage == NULL ||
	    (s->own.ch = auditchain_hasher_new()) == NULL) {
		if (s->fd != -1 && s->stage != NULL)
			e = ENOMEM;
		audit_stage_close(&s->stage);
		if (s->fd != -1)
			(void) close(s->fd);
		free(s->path);
		free(s);
		errno = e;
		return NULL;
	}
	(void) pthread_mutex_init(&s->lock, NULL);
	(void) pthread_cond_init(&s->written, NULL);
	(void) pthread_cond_init(&s->sealed, NULL);
	s->epoch = -1;
	(void) clock_gettime(CLOCK_REALTIME, &s->since);
	(void) pthread_condattr_init(&attr);
	(void) pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	(void) pthread_cond_init(&s->wake, &attr);
	(void) pthread_condattr_destroy(&attr);
	s->own.gen = atomic_fetch_add(&next_gen, 1) + 1;
	atomic_store(&s->gen, s->own.gen);
	(void) memcpy(s->head, AUDIT_CHAIN_ANCHOR, sizeof(s->head));
	read_head(s);
	(void) memcpy(s->on_file, s->head, sizeof(s->on_file));
	return s;
}

int
audit_sink_write_chained(struct audit_sink *s, struct strbuf *sb)
{
	return put_record(s, sb, true);
}

int
audit_sink_queue_chained(struct audit_sink *s, struct strbuf *sb)
{
	return put_record(s, sb, false);
}

int
audit_sink_write(struct audit_sink *s, const char *p, size_t size)
{
	int rc = 0, e;

	(void) pthread_mutex_lock(&s->lock);
	while (rc == 0 && !audit_stage_fits(s->stage, size) &&
	    (s->n_queued > 0 || s->is_writing))
		rc = auditwrite_flush(s);
	if (rc == 0 && audit_stage_put(s->stage, p, size) == -1)
		rc = -1;
	if (rc == 0) {
		metrics_audit_staged(size);
		s->n_queued++;
		rc = auditwrite_wait(s, ++s->n_chained);
	}
	e = errno;
	(void) pthread_mutex_unlock(&s->lock);
	errno = e;
	return rc;
}

int
audit_sink_sync(struct audit_sink *s)
{
	int rc = 0, e = 0, fd = -1;

	(void) pthread_mutex_lock(&s->lock);
	if (s->n_queued > 0 && auditwrite_flush(s) == -1) {
		e = errno;
		rc = -1;
	}
	if (s->is_dirty && s->fsync != AUDIT_FSYNC_NONE) {
		/*
		 * fdatasync(2) on a copy of the descriptor, outside the lock:
		 * a sync may take milliseconds, and decisions go on meanwhile
		 * (the copy stays valid should a reopen close the original).
		 */
		if ((fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			e = errno;
			rc = -1;
		} else
			s->is_dirty = false;
	}
	(void) pthread_mutex_unlock(&s->lock);
	if (fd != -1) {
		if (fdatasync(fd) == -1) {
			e = errno;
			rc = -1;
			(void) pthread_mutex_lock(&s->lock);
			s->is_dirty = true;	/* try again next time */
			(void) pthread_mutex_unlock(&s->lock);
		}
		(void) close(fd);
	}
	errno = e;
	return rc;
}

int
audit_sink_start(struct audit_sink *s)
{
	sigset_t all, old;
	int e;

	(void) sigfillset(&all);
	(void) pthread_sigmask(SIG_SETMASK, &all, &old);	/* none for it */
	(void) pthread_mutex_lock(&s->lock);
	if (s->has_writer)
		e = EBUSY;
	else {
		s->is_stopping = false;	/* a drained sink may start again */
		e = pthread_create(&s->writer, NULL, auditwrite_thread, s);
		s->has_writer = e == 0;
	}
	(void) pthread_mutex_unlock(&s->lock);
	(void) pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return e == 0 ? 0 : -1;
}

int
audit_sink_drain(struct audit_sink *s)
{
	(void) pthread_mutex_lock(&s->lock);
	s->is_draining = true;
	(void) pthread_mutex_unlock(&s->lock);
	auditwrite_stop(s);
	return audit_sink_sync(s);
}

unsigned long
audit_sink_take_lost(struct audit_sink *s)
{
	unsigned long n;

	(void) pthread_mutex_lock(&s->lock);
	n = s->n_lost;
	s->n_lost = 0;
	(void) pthread_mutex_unlock(&s->lock);
	return n;
}

int
audit_sink_set_key(struct audit_sink *s, const unsigned char *key, size_t size)
{
	struct auditchain_hasher *h, *old;

	if ((h = keyed_hasher(key, size)) == NULL)
		return -1;
	(void) pthread_mutex_lock(&s->lock);
	old = s->own.ch;
	s->own.ch = h;
	s->own.gen = atomic_fetch_add(&next_gen, 1) + 1;
	atomic_store(&s->gen, s->own.gen);	/* threads copy it anew */
	(void) pthread_mutex_unlock(&s->lock);
	auditchain_hasher_free(&old);
	return 0;
}

void
audit_sink_set_fsync(struct audit_sink *s, enum audit_fsync mode)
{
	(void) pthread_mutex_lock(&s->lock);
	s->fsync = mode;
	(void) pthread_mutex_unlock(&s->lock);
}

int
audit_sink_set_seal(struct audit_sink *s, long long epoch,
    const unsigned char *key, size_t size)
{
	struct auditchain_hasher *h;

	if ((h = keyed_hasher(key, size)) == NULL)
		return -1;
	(void) pthread_mutex_lock(&s->lock);
	auditchain_hasher_free(&s->sealer);
	s->sealer = h;
	s->epoch = epoch;
	(void) pthread_mutex_unlock(&s->lock);
	read_head(s);	/* before any record: the tail, checked with the key */
	return 0;
}

int
audit_sink_set_head(struct audit_sink *s, const char *hex)
{
	int rc = -1;

	(void) pthread_mutex_lock(&s->lock);
	if (s->tail.is_empty && s->n_chained == 0 &&
	    lseek(s->fd, 0, SEEK_END) == 0) {
		(void) memcpy(s->head, hex, AUDIT_HASH_HEX);
		(void) memcpy(s->on_file, hex, AUDIT_HASH_HEX);
		rc = 0;
	}
	(void) pthread_mutex_unlock(&s->lock);
	if (rc == -1)
		errno = EEXIST;
	return rc;
}

void
audit_sink_tail(struct audit_sink *s, struct audit_sink_tail *t)
{
	(void) pthread_mutex_lock(&s->lock);
	*t = s->tail;
	(void) pthread_mutex_unlock(&s->lock);
}

int
audit_sink_seal(struct audit_sink *s, const char *reason, bool has_count,
    audit_sink_evolve_fn evolve, void *arg, struct audit_sink_sealed *out)
{
	unsigned char key[32];
	long long epoch = -1;
	int rc = 0, e = 0;

	(void) pthread_mutex_lock(&s->lock);
	while (s->is_sealing)
		(void) pthread_cond_wait(&s->sealed, &s->lock);
	if (s->sealer == NULL) {
		(void) pthread_mutex_unlock(&s->lock);
		errno = EINVAL;
		return -1;
	}
	s->is_sealing = true;
	out->epoch = out->new_epoch = s->epoch;
	if (reason != NULL)
		rc = seal_locked(s, reason, has_count, out);
	if (rc == 0 && evolve != NULL) {
		(void) pthread_mutex_unlock(&s->lock);
		rc = evolve(arg, &epoch, key);
		(void) pthread_mutex_lock(&s->lock);
		if (rc == 0 && epoch < 0) {
			/* no new key: evolve did its own step (a reopen) */
		} else if (rc == 0 && auditchain_hasher_set_key(s->sealer, key,
		    sizeof(key)) == 0) {
			s->epoch = out->new_epoch = epoch;
		} else if (rc == 0) {
			errno = ENOMEM;
			rc = -1;
		}
		OPENSSL_cleanse(key, sizeof(key));
	}
	e = errno;
	s->is_sealing = false;
	(void) pthread_cond_broadcast(&s->sealed);
	(void) pthread_mutex_unlock(&s->lock);
	errno = e;
	return rc;
}

const char *
audit_sink_path(const struct audit_sink *s)
{
	return s->path;
}

const char *
audit_sink_stage_path(const struct audit_sink *s)
{
	return audit_stage_path(s->stage);
}

long
audit_sink_recover(struct audit_sink *s, unsigned long *n_orphans)
{
	struct auditrecover r = { .fd = s->fd, .stage = s->stage };
	char *torn = NULL;
	int e = 0;

	(void) pthread_mutex_lock(&s->lock);
	r.hasher = s->own.ch;
	r.sealer = s->sealer;
	(void) memcpy(r.head, s->head, sizeof(r.head));
	r.is_new_log = lseek(s->fd, 0, SEEK_END) == 0;
	r.needs_newline = s->needs_newline;
	if (r.needs_newline && (torn = malloc(AUDIT_RECORD_MAX +
	    AUDITCHAIN_TAIL_LEN)) != NULL) {	/* without it: a newline */
		r.torn = torn;
		r.torn_len = read_torn(s, torn, AUDIT_RECORD_MAX +
		    AUDITCHAIN_TAIL_LEN);
	}
	if (auditrecover_run(&r) == -1)
		e = errno;
	free(torn);
	s->needs_newline = r.needs_newline;
	if (e == 0 && r.n_replayed > 0 && s->fsync != AUDIT_FSYNC_NONE &&
	    fdatasync(s->fd) == -1)
		e = errno;
	if (e == 0) {
		audit_stage_drop(s->stage);
		(void) memcpy(s->head, r.head, sizeof(s->head));
		(void) memcpy(s->on_file, r.head, sizeof(s->on_file));
	}
	(void) pthread_mutex_unlock(&s->lock);
	if (e == 0 && r.n_replayed > 0)
		read_head(s);	/* the tail is a replayed line now */
	*n_orphans = r.n_orphans;
	errno = e;
	return e == 0 ? (long)r.n_replayed : -1;
}

void
audit_sink_last_hash(struct audit_sink *s, char *hex)
{
	(void) pthread_mutex_lock(&s->lock);
	(void) memcpy(hex, s->head, sizeof(s->head));
	(void) pthread_mutex_unlock(&s->lock);
}

int
audit_sink_reopen(struct audit_sink *s)
{
	int fd, old;

	fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	(void) pthread_mutex_lock(&s->lock);
	/* what is chained so far belongs to the old file (if it fails: the new) */
	if (s->n_queued > 0)
		(void) auditwrite_flush(s);
	while (s->is_writing)
		(void) pthread_cond_wait(&s->written, &s->lock);
	sync_locked(s);		/* the old file's records are on disk */
	old = s->fd;
	s->fd = fd;
	s->needs_newline = false;
	if (s->error != 0 && s->n_queued > 0)
		auditwrite_batch(s);	/* the new file may take what the old refused */
	(void) pthread_mutex_unlock(&s->lock);
	(void) close(old);
	return 0;
}

int
audit_sink_retarget(struct audit_sink *s, const char *path)
{
	struct audit_stage *stage, *old_stage;
	char *new_path, *stage_path;
	struct stat st;
	int fd, old, e;

	if ((new_path = strdup(path)) == NULL ||
	    (stage_path = malloc(strlen(path) + sizeof(STAGE_SUFFIX))) == NULL) {
		free(new_path);
		errno = ENOMEM;
		return -1;
	}
	(void) strcpy(stpcpy(stage_path, path), STAGE_SUFFIX);
	/* a stage there may hold records only a start recovers */
	e = lstat(stage_path, &st) == 0 ? EEXIST : errno != ENOENT ? errno : 0;
	if (e != 0)
		goto fail;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0640)) == -1) {
		e = errno;
		goto fail;
	}
	if (fstat(fd, &st) == -1)
		e = errno;
	else if (st.st_size != 0)
		e = ENOTEMPTY;
	else if ((stage = audit_stage_open(stage_path,
	    AUDIT_STAGE_SIZE)) == NULL)
		e = errno;
	if (e != 0) {
		(void) close(fd);
		goto fail;
	}
	free(stage_path);
	(void) pthread_mutex_lock(&s->lock);
	if (s->n_queued > 0)
		(void) auditwrite_flush(s);
	while (s->is_writing)
		(void) pthread_cond_wait(&s->written, &s->lock);
	sync_locked(s);
	if (s->n_queued > 0) {	/* the old file refuses: keep everything */
		(void) pthread_mutex_unlock(&s->lock);
		audit_stage_close(&stage);
		(void) close(fd);
		free(new_path);
		errno = EIO;
		return -1;
	}
	old = s->fd;
	old_stage = s->stage;
	s->fd = fd;
	s->stage = stage;
	s->path = new_path;	/* the old string stays: other threads log it */
	s->needs_newline = false;
	(void) pthread_mutex_unlock(&s->lock);
	(void) close(old);
	audit_stage_close(&old_stage);
	return 0;
fail:
	free(new_path);
	free(stage_path);
	errno = e;
	return -1;
}

void
audit_sink_close(struct audit_sink **sp)
{
	struct audit_sink *s = *sp;

	if (s == NULL)
		return;
	auditwrite_stop(s);
	(void) pthread_mutex_lock(&s->lock);
	if (s->n_queued > 0)
		(void) auditwrite_flush(s);
	while (s->is_writing)
		(void) pthread_cond_wait(&s->written, &s->lock);
	sync_locked(s);
	(void) pthread_mutex_unlock(&s->lock);
	(void) close(s->fd);
	(void) pthread_cond_destroy(&s->written);
	(void) pthread_cond_destroy(&s->sealed);
	(void) pthread_cond_destroy(&s->wake);
	auditchain_hasher_free(&s->sealer);
	(void) pthread_mutex_destroy(&s->lock);
	auditchain_hasher_free(&s->own.ch);
	audit_stage_close(&s->stage);	/* lines not written stay for the next start */
	free(s->path);
	free(s);
	*sp = NULL;
}

/*
 * put_record - chain and stage the open record in sb; with fsync every,
 * wait until its line is written; else write the stage when a batch is
 * due.  A decision record (is_waited) is refused while the last write
 * failed and a retry fails too.
 */
static int
put_record(struct audit_sink *s, struct strbuf *sb, bool is_waited)
{
	struct hasher *h = thread_hasher(s);
	bool is_every = s->fsync == AUDIT_FSYNC_EVERY;
	int rc = 0, e;

	/* the fields, outside the lock: under it only "prev" and the end */
	if (h != NULL && auditchain_begin(h->ch, sb->data, sb->len) == -1)
		h = NULL;
	(void) pthread_mutex_lock(&s->lock);
	while (s->is_sealing)	/* no record between a seal and the new key */
		(void) pthread_cond_wait(&s->sealed, &s->lock);
	if (is_waited && !is_every && s->error != 0 && !s->is_writing)
		auditwrite_batch(s);		/* retry: the disk may have room again */
	if (is_waited && !is_every && s->error != 0) {
		errno = s->error;
		rc = -1;
	}
	if (rc == 0)
		rc = chain_locked(s, sb, h);
	if (rc == 0 && is_every)
		rc = auditwrite_wait(s, s->n_chained);
	else if (rc == 0 && s->has_writer && !s->is_draining)
		auditwrite_wake(s);		/* it writes; the caller goes on */
	else if (rc == 0 && (is_waited || s->is_draining) && !s->is_writing &&
	    auditwrite_is_due(s))
		auditwrite_batch(s);		/* the record is staged whatever happens */
	e = errno;
	(void) pthread_mutex_unlock(&s->lock);
	errno = e;
	return rc;
}

/*
 * chain_locked - close the open record in sb with "prev" and "hash" and
 * queue the line (waiting first while the queue is full).  h has hashed
 * sb's fields (auditchain_begin), or is NULL: then the sink's own hasher hashes
 * them here.  The line's number is s->n_chained.  Lock held; 0, or -1
 * with errno.
 */
static int
chain_locked(struct audit_sink *s, struct strbuf *sb, struct hasher *h)
{
	char hash[AUDIT_HASH_HEX + 1];

	while (!audit_stage_fits(s->stage, sb->len + AUDITCHAIN_TAIL_LEN) &&
	    (s->n_queued > 0 || s->is_writing))
		if (auditwrite_flush(s) == -1)
			return -1;
	if (h == NULL && auditchain_begin((h = &s->own)->ch, sb->data,
	    sb->len) == -1) {
		errno = EIO;
		return -1;
	}
	if ((s->sealer != NULL ? auditchain_close_sealed(h->ch, s->sealer, sb,
	    s->epoch, s->head, hash) : auditchain_close(h->ch, sb, s->head,
	    hash)) == -1 ||
	    audit_stage_put(s->stage, sb->data, sb->len) == -1)
		return -1;
	(void) memcpy(s->head, hash, sizeof(s->head));
	s->n_queued++;
	s->n_chained++;
	s->n_since_seal++;
	metrics_audit_staged(sb->len);
	metrics_audit_stage(audit_stage_used(s->stage),
	    audit_stage_capacity(s->stage));
	return 0;
}

/*
 * thread_hasher - the calling thread's hasher for s: made on the first
 * record of a thread, its MAC context copied from the sink's again when
 * the sink or its key is another.  NULL when it cannot be had (then the
 * sink's own hashes under the lock).
 */
static struct hasher *
thread_hasher(struct audit_sink *s)
{
	struct hasher *h;
	int rc;

	(void) pthread_once(&hasher_once, hasher_key_init);
	if (!has_hasher_key)
		return NULL;
	if ((h = pthread_getspecific(hasher_key)) == NULL) {
		if ((h = calloc(1, sizeof(*h))) == NULL)
			return NULL;
		if ((h->ch = auditchain_hasher_new()) == NULL ||
		    pthread_setspecific(hasher_key, h) != 0) {
			hasher_free(h);
			return NULL;
		}
	}
	if (h->gen == atomic_load(&s->gen))
		return h;
	(void) pthread_mutex_lock(&s->lock);
	if ((rc = auditchain_hasher_copy_key(h->ch, s->own.ch)) == 0)
		h->gen = s->own.gen;
	(void) pthread_mutex_unlock(&s->lock);
	return rc == 0 ? h : NULL;
}

static void
hasher_key_init(void)
{
	has_hasher_key = pthread_key_create(&hasher_key, hasher_free) == 0;
}

/* hasher_free - a thread's hasher, at its exit. */
static void
hasher_free(void *p)
{
	struct hasher *h = p;

	auditchain_hasher_free(&h->ch);
	free(h);
}

/*
 * read_head - continue the chain of an existing file: the "hash" of its
 * last complete line; note a torn last line.
 */
static void
read_head(struct audit_sink *s)
{
	char buf[AUDIT_RECORD_MAX + AUDITCHAIN_TAIL_LEN], *end, *nl;
	char hash[AUDIT_HASH_HEX + 1];
	struct auditchain_tail t;
	struct stat st;
	ssize_t n;
	off_t at;
	int fd;

	s->tail = (struct audit_sink_tail){ .is_empty = true, .epoch = -1 };
	if ((fd = open(s->path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == -1 || st.st_size == 0) {
		(void) close(fd);
		return;
	}
	at = st.st_size > (off_t)sizeof(buf) ? st.st_size - (off_t)sizeof(buf) : 0;
	n = pread(fd, buf, sizeof(buf), at);
	(void) close(fd);
	if (n <= 0)
		return;
	s->needs_newline = buf[n - 1] != '\n';
	if ((end = memrchr(buf, '\n', (size_t)n)) == NULL)
		return;
	nl = memrchr(buf, '\n', (size_t)(end - buf));
	nl = nl != NULL ? nl + 1 : buf;
	if (auditchain_parse(nl, (size_t)(end - nl), &t) == 0 && t.has_open) {
		(void) memcpy(s->head, t.hash, AUDIT_HASH_HEX);
		s->tail = (struct audit_sink_tail){ .epoch = t.epoch,
		    .is_seal = t.is_seal };
		/* sealing: does the epoch's key we hold make its hash? */
		if (s->sealer != NULL && t.epoch == s->epoch)
			s->tail.is_key_wrong =
			    auditchain_begin(s->own.ch, nl, t.hashed) == -1 ||
			    auditchain_finish_sealed(s->own.ch, s->sealer, "}",
			    1, hash) == -1 ||
			    memcmp(hash, t.hash, AUDIT_HASH_HEX) != 0;
	} else
		s->tail.is_empty = false;
}

/*
 * read_torn - the bytes after the last newline of the log (a line torn
 * by a crash) into buf; their length, 0 when there are none or they do
 * not fit.
 */
static size_t
read_torn(const struct audit_sink *s, char *buf, size_t size)
{
	struct stat st;
	const char *nl;
	ssize_t n = -1;
	off_t at = 0;
	int fd;

	if ((fd = open(s->path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		at = st.st_size > (off_t)size ? st.st_size - (off_t)size : 0;
		n = pread(fd, buf, size, at);
	}
	(void) close(fd);
	if (n <= 0 || buf[n - 1] == '\n')
		return 0;
	if ((nl = memrchr(buf, '\n', (size_t)n)) != NULL) {
		n -= nl + 1 - buf;
		(void) memmove(buf, nl + 1, (size_t)n);
	} else if (at > 0)
		return 0;			/* longer than any line */
	return (size_t)n;
}

/*
 * seal_locked - chain the seal record, then write and sync it with all
 * before it (s->is_sealing keeps other records out).  Lock held; 0, or
 * -1 with errno.
 */
static int
seal_locked(struct audit_sink *s, const char *reason, bool has_count,
    struct audit_sink_sealed *out)
{
	struct auditseal_seal seal = { .reason = reason,
	    .has_count = has_count, .from = s->since,
	    .n_records = s->n_since_seal, .head = s->head };
	struct strbuf sb;
	int rc, e = 0;

	(void) clock_gettime(CLOCK_REALTIME, &seal.time);
	(void) memcpy(out->head, s->head, sizeof(out->head));
	out->n_records = s->n_since_seal;
	strbuf_init(&sb, AUDIT_RECORD_MAX + AUDITCHAIN_TAIL_LEN);
	rc = auditseal_format_seal_open(&seal, &sb);
	if (rc == 0)
		rc = chain_locked(s, &sb, NULL);
	if (rc == 0) {
		(void) memcpy(out->hash, s->head, sizeof(out->hash));
		s->n_since_seal = 0;
		s->since = seal.time;
		rc = auditwrite_flush(s);
	}
	if (rc == 0 && s->is_dirty && s->fsync != AUDIT_FSYNC_NONE &&
	    fdatasync(s->fd) == -1)
		rc = -1;
	if (rc == 0)
		s->is_dirty = false;
	e = errno;
	strbuf_free(&sb);
	errno = e;
	return rc;
}

/* sync_locked - fdatasync if written since the last sync (lock held). */
static void
sync_locked(struct audit_sink *s)
{
	if (s->is_dirty && s->fsync != AUDIT_FSYNC_NONE &&
	    fdatasync(s->fd) == 0)
		s->is_dirty = false;
}

/* keyed_hasher - a new hasher with key; NULL with errno. */
static struct auditchain_hasher *
keyed_hasher(const unsigned char *key, size_t size)
{
	struct auditchain_hasher *h;

	if ((h = auditchain_hasher_new()) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (auditchain_hasher_set_key(h, key, size) == -1)
		auditchain_hasher_free(&h);	/* h is NULL now */
	return h;
}
