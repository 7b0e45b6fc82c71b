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
 *	version 2, docs/audit-format.md): under the sink's mutex a record
 *	gets "prev" (the chain head) and "hash" (SHA-256, or HMAC-SHA256 with
 *	a key, over the line without its "hash" member and newline, through
 *	EVP contexts the sink keeps) and joins the queue of lines chained but
 *	not yet written, in chain order.  The chain head survives reopen, so
 *	a rotated file's first record links to the last record of the file
 *	before it; at open, the head is read from the last line of an
 *	existing file.
 *
 *	Group commit.  A caller that must know its record is written (a
 *	decision, before the reply to the MTA) waits for it: if no write is
 *	in progress it becomes the writer, takes the whole queue and writes
 *	it with one writev(2), outside the mutex (others chain meanwhile into
 *	a second buffer); else it sleeps until the writer is done.  Under
 *	load one write(2) carries the records of many sessions, and no
 *	thread holds the mutex across a system call: only formatting the
 *	chain members and hashing happen under it.  The file order is the
 *	chain order because one writer at a time writes the queue in order.
 *	A record no reply waits on (the session record) is only queued: it
 *	goes with the next write, or with audit_sink_sync().
 *
 *	A failed write fails every record chained so far (they link to the
 *	lost ones): their callers get -1, queued-only lines are counted as
 *	lost, the head goes back to the last line on file, and a partly
 *	written line is ended with a newline before the next write.
 *
 *	fdatasync(2): with fsync every, by the writer after its write and
 *	before its waiters return; with interval, only in audit_sink_sync()
 *	(the daemon calls it every second), on a copy of the descriptor and
 *	outside the mutex.
 *
 *	All functions are thread-safe.  No allocation per record: the two
 *	queue buffers grow to the largest batch and stay; waiters live on
 *	their callers' stacks.
 *
 * DIAGNOSTICS
 *	Functions return 0, or -1 with errno (ENOMEM, EMSGSIZE from the
 *	strbuf; the write(2) or open(2) error).  Nothing is logged here;
 *	callers log.
 *
 * SEE ALSO
 *	audit.c (the records), auditverify.c (the chain check), main.c
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
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "audit.h"
#include "auditsink.h"
#include "strbuf.h"

/* Queued bytes past which a record waits for the queue to be written. */
#define QUEUE_MAX	(64 * 1024)

/* The tail of a chained line: ,"hash":"<64 hex>"} */
#define HASH_MEMBER	",\"hash\":\""
#define HASH_TAIL_LEN	(sizeof(HASH_MEMBER) - 1 + AUDIT_HASH_HEX + 2)

/* A caller waiting for its line: on its own stack, linked while it waits. */
struct waiter {
	unsigned long	 seq;		/* its line's number */
	bool		 is_done;
	int		 error;		/* 0, or the errno of the failed write */
	struct waiter	*next;
};

struct audit_sink {
	pthread_mutex_t		 lock;
	pthread_cond_t		 written;	/* a write finished */
	int			 fd;
	char			*path;
	char			 head[AUDIT_HASH_HEX + 1];	/* last hash chained */
	char			 on_file[AUDIT_HASH_HEX + 1];	/* last hash written */
	struct strbuf		 queue;		/* chained, not yet written */
	struct strbuf		 spare;		/* the writer's, swapped with queue */
	unsigned long		 n_chained;	/* lines chained (their numbers) */
	unsigned long		 n_queued;	/* lines in queue */
	unsigned long		 n_lost;	/* queued-only lines a failure dropped */
	struct waiter		*waiters;
	bool			 is_writing;	/* a writer has the spare buffer */
	bool			 is_draining;	/* queue no more: write at once */
	bool			 is_dirty;	/* written since the last fdatasync */
	bool			 needs_newline;	/* the file ends in a torn line */
	enum audit_fsync	 fsync;
	size_t			 keylen;	/* 0: plain SHA-256 */
	EVP_MD			*md;		/* SHA-256, fetched once */
	EVP_MD_CTX		*mdctx;		/* reused by every record */
	EVP_MAC_CTX		*macctx;	/* HMAC-SHA256 keyed, when keylen > 0 */
};

static int	put_record(struct audit_sink *, struct strbuf *, bool);
static int	chain_locked(struct audit_sink *, struct strbuf *);
static int	wait_written(struct audit_sink *, unsigned long);
static int	flush_locked(struct audit_sink *);
static void	write_batch(struct audit_sink *);
static int	writev_all(int, struct iovec *, int, size_t *);
static void	finish_batch(struct audit_sink *, unsigned long, const char *,
		    unsigned long, int);
static int	sink_hash(struct audit_sink *, const char *, size_t, char *);
static void	read_head(struct audit_sink *);
static void	sync_locked(struct audit_sink *);

struct audit_sink *
audit_sink_open(const char *path)
{
	struct audit_sink *s;
	int e;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->path = strdup(path)) == NULL) {
		free(s);
		return NULL;
	}
	s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (s->fd == -1 || (s->md = EVP_MD_fetch(NULL, "SHA256", NULL)) ==
	    NULL || (s->mdctx = EVP_MD_CTX_new()) == NULL) {
		e = s->fd == -1 ? errno : ENOMEM;
		EVP_MD_free(s->md);
		if (s->fd != -1)
			(void) close(s->fd);
		free(s->path);
		free(s);
		errno = e;
		return NULL;
	}
	(void) pthread_mutex_init(&s->lock, NULL);
	(void) pthread_cond_init(&s->written, NULL);
	(void) memcpy(s->head, AUDIT_CHAIN_ANCHOR, sizeof(s->head));
	strbuf_init(&s->queue, QUEUE_MAX + AUDIT_RECORD_MAX);
	strbuf_init(&s->spare, QUEUE_MAX + AUDIT_RECORD_MAX);
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
	while (rc == 0 && s->queue.len + size > QUEUE_MAX && s->n_queued > 0)
		rc = flush_locked(s);
	if (rc == 0 && strbuf_append(&s->queue, p, size) == -1)
		rc = -1;
	if (rc == 0) {
		s->n_queued++;
		rc = wait_written(s, ++s->n_chained);
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
	if (s->n_queued > 0 && flush_locked(s) == -1) {
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
audit_sink_drain(struct audit_sink *s)
{
	(void) pthread_mutex_lock(&s->lock);
	s->is_draining = true;
	(void) pthread_mutex_unlock(&s->lock);
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
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx = NULL, *old;
	EVP_MAC *mac = NULL;

	if (size > AUDIT_KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (size > 0 && ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, size, params) != 1)) {
		EVP_MAC_CTX_free(ctx);
		EVP_MAC_free(mac);
		errno = ENOMEM;
		return -1;
	}
	EVP_MAC_free(mac);	/* the context keeps its own reference */
	(void) pthread_mutex_lock(&s->lock);
	old = s->macctx;
	s->macctx = ctx;
	s->keylen = size;
	(void) pthread_mutex_unlock(&s->lock);
	EVP_MAC_CTX_free(old);
	return 0;
}

void
audit_sink_set_fsync(struct audit_sink *s, enum audit_fsync mode)
{
	(void) pthread_mutex_lock(&s->lock);
	s->fsync = mode;
	(void) pthread_mutex_unlock(&s->lock);
}

const char *
audit_sink_path(const struct audit_sink *s)
{
	return s->path;
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
	if (s->n_queued > 0)	/* what is chained so far belongs to the old file */
		(void) flush_locked(s);
	while (s->is_writing)
		(void) pthread_cond_wait(&s->written, &s->lock);
	sync_locked(s);		/* the old file's records are on disk */
	old = s->fd;
	s->fd = fd;
	s->needs_newline = false;
	(void) pthread_mutex_unlock(&s->lock);
	(void) close(old);
	return 0;
}

void
audit_sink_close(struct audit_sink **sp)
{
	struct audit_sink *s = *sp;

	if (s == NULL)
		return;
	(void) pthread_mutex_lock(&s->lock);
	if (s->n_queued > 0)
		(void) flush_locked(s);
	while (s->is_writing)
		(void) pthread_cond_wait(&s->written, &s->lock);
	sync_locked(s);
	(void) pthread_mutex_unlock(&s->lock);
	(void) close(s->fd);
	(void) pthread_cond_destroy(&s->written);
	(void) pthread_mutex_destroy(&s->lock);
	EVP_MAC_CTX_free(s->macctx);
	EVP_MD_CTX_free(s->mdctx);
	EVP_MD_free(s->md);
	strbuf_free(&s->queue);
	strbuf_free(&s->spare);
	free(s->path);
	free(s);
	*sp = NULL;
}

/*
 * put_record - chain the open record in sb and, when is_waited (or fsync
 * is every, or the sink drains), wait until its line is written.
 */
static int
put_record(struct audit_sink *s, struct strbuf *sb, bool is_waited)
{
	int rc;

	(void) pthread_mutex_lock(&s->lock);
	rc = chain_locked(s, sb);
	if (rc == 0 && (is_waited || s->is_draining ||
	    s->fsync == AUDIT_FSYNC_EVERY))
		rc = wait_written(s, s->n_chained);
	(void) pthread_mutex_unlock(&s->lock);
	return rc;
}

/*
 * chain_locked - close the open record in sb with "prev" and "hash" and
 * queue the line (waiting first while the queue is full).  The line's
 * number is s->n_chained.  Lock held; 0, or -1 with errno.
 */
static int
chain_locked(struct audit_sink *s, struct strbuf *sb)
{
	char hash[AUDIT_HASH_HEX + 1], *o;
	size_t n = sizeof(",\"prev\":\"") - 1;

	while (s->queue.len + sb->len + 2 * HASH_TAIL_LEN > QUEUE_MAX &&
	    s->n_queued > 0)
		if (flush_locked(s) == -1)
			return -1;
	if ((o = strbuf_space(sb, n + AUDIT_HASH_HEX + 2)) == NULL)
		return -1;
	(void) memcpy(o, ",\"prev\":\"", n);
	(void) memcpy(o + n, s->head, AUDIT_HASH_HEX);
	(void) memcpy(o + n + AUDIT_HASH_HEX, "\"}", 2);
	strbuf_commit(sb, n + AUDIT_HASH_HEX + 2);
	if (sink_hash(s, sb->data, sb->len, hash) == -1) {
		errno = EIO;
		return -1;
	}
	sb->len--;		/* reopen the object after the hashed "}" */
	if (strbuf_append(sb, HASH_MEMBER, sizeof(HASH_MEMBER) - 1) == -1 ||
	    strbuf_append(sb, hash, AUDIT_HASH_HEX) == -1 ||
	    strbuf_append(sb, "\"}\n", 3) == -1 ||
	    strbuf_append(&s->queue, sb->data, sb->len) == -1)
		return -1;
	(void) memcpy(s->head, hash, sizeof(s->head));
	s->n_queued++;
	s->n_chained++;
	return 0;
}

/*
 * wait_written - until line seq is written (or failed): write the queue
 * when nobody else is, else sleep.  Lock held; 0, or -1 with errno.
 */
static int
wait_written(struct audit_sink *s, unsigned long seq)
{
	struct waiter w = { .seq = seq };

	w.next = s->waiters;
	s->waiters = &w;
	while (!w.is_done) {
		if (!s->is_writing && s->n_queued > 0)
			write_batch(s);
		else
			(void) pthread_cond_wait(&s->written, &s->lock);
	}
	errno = w.error;
	return w.error == 0 ? 0 : -1;
}

/*
 * flush_locked - write what is queued now (waiting for a writer in
 * progress first).  Lock held; 0, or -1 with errno when a write failed.
 */
static int
flush_locked(struct audit_sink *s)
{
	/* the lines up to now are queued, being written, or already settled */
	if (s->n_queued == 0 && !s->is_writing)
		return 0;
	return wait_written(s, s->n_chained);
}

/*
 * write_batch - become the writer: take the queue, write it outside the
 * lock, fdatasync if every, then settle the waiters.  Lock held on entry
 * and on return; !s->is_writing on entry.
 */
static void
write_batch(struct audit_sink *s)
{
	struct strbuf batch = s->queue;
	char head[AUDIT_HASH_HEX + 1];
	unsigned long last = s->n_chained, n_lines = s->n_queued;
	struct iovec iov[2];
	size_t done = 0;
	int iovcnt = 0, e = 0, fd = s->fd;
	bool is_every = s->fsync == AUDIT_FSYNC_EVERY;

	s->is_writing = true;
	s->queue = s->spare;		/* chaining goes on in the other buffer */
	strbuf_reset(&s->queue);
	s->n_queued = 0;
	(void) memcpy(head, s->head, sizeof(head));
	if (s->needs_newline)
		iov[iovcnt++] = (struct iovec){ (void *)"\n", 1 };
	iov[iovcnt++] = (struct iovec){ batch.data, batch.len };
	(void) pthread_mutex_unlock(&s->lock);
	if (writev_all(fd, iov, iovcnt, &done) == -1)
		e = errno;
	else if (is_every && fdatasync(fd) == -1)
		e = errno;	/* not known to be on disk: not written */
	(void) pthread_mutex_lock(&s->lock);
	s->spare = batch;
	s->is_writing = false;
	if (e == 0) {
		s->needs_newline = false;
		s->is_dirty = !is_every;
		finish_batch(s, last, head, n_lines, 0);
	} else {
		s->needs_newline = s->needs_newline || done > 0;
		finish_batch(s, s->n_chained, NULL, n_lines + s->n_queued, e);
	}
	(void) pthread_cond_broadcast(&s->written);
}

/*
 * finish_batch - lines up to last are settled: written (error 0; head is
 * the hash of the last one) or failed with error, n_lines of them, the
 * queue after them included.  Marks and unlinks their waiters; counts
 * failed lines nobody waited for as lost.  Lock held.
 */
static void
finish_batch(struct audit_sink *s, unsigned long last, const char *head,
    unsigned long n_lines, int error)
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
	if (error == 0) {
		if (head != NULL)
			(void) memcpy(s->on_file, head, sizeof(s->on_file));
		return;
	}
	/* everything chained so far links to a lost line: drop it too */
	(void) memcpy(s->head, s->on_file, sizeof(s->head));
	strbuf_reset(&s->queue);
	s->n_queued = 0;
	s->n_lost += n_lines > n_waited ? n_lines - n_waited : 0;
}

/* writev_all - all of iov, more calls only if short; bytes out in *done. */
static int
writev_all(int fd, struct iovec *iov, int iovcnt, size_t *done)
{
	ssize_t n;

	while (iovcnt > 0) {
		n = writev(fd, iov, iovcnt);
		if (n == -1 && errno == EINTR)
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
 * sink_hash - the chain hash of data as hex, as audit_chain_hash() makes
 * it, with the sink's own EVP contexts (no fetch, no context per record;
 * lock held).  0, or -1.
 */
static int
sink_hash(struct audit_sink *s, const char *data, size_t size, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t mlen = 0;

	if (s->keylen > 0) {
		if (EVP_MAC_init(s->macctx, NULL, 0, NULL) != 1 ||
		    EVP_MAC_update(s->macctx, (const unsigned char *)data,
		    size) != 1 ||
		    EVP_MAC_final(s->macctx, md, &mlen, sizeof(md)) != 1)
			return -1;
		n = (unsigned int)mlen;
	} else if (EVP_DigestInit_ex2(s->mdctx, s->md, NULL) != 1 ||
	    EVP_DigestUpdate(s->mdctx, data, size) != 1 ||
	    EVP_DigestFinal_ex(s->mdctx, md, &n) != 1)
		return -1;
	return audit_hash_hex(md, n, hex);
}

/*
 * read_head - continue the chain of an existing file: the "hash" of its
 * last complete line; note a torn last line.
 */
static void
read_head(struct audit_sink *s)
{
	char buf[AUDIT_RECORD_MAX + 2], *end, *nl;
	struct stat st;
	ssize_t n;
	off_t at;
	int fd;

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
	*end = '\0';
	nl = memrchr(buf, '\n', (size_t)(end - buf));
	nl = nl != NULL ? nl + 1 : buf;
	if ((size_t)(end - nl) > HASH_TAIL_LEN &&
	    strncmp(end - HASH_TAIL_LEN, HASH_MEMBER, sizeof(HASH_MEMBER) - 1) == 0 &&
	    strcmp(end - 2, "\"}") == 0)
		(void) memcpy(s->head, end - HASH_TAIL_LEN + sizeof(HASH_MEMBER) - 1,
		    AUDIT_HASH_HEX);
}

/* sync_locked - fdatasync if written since the last sync (lock held). */
static void
sync_locked(struct audit_sink *s)
{
	if (s->is_dirty && s->fsync != AUDIT_FSYNC_NONE &&
	    fdatasync(s->fd) == 0)
		s->is_dirty = false;
}
