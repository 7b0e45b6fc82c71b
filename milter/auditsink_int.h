/*
 * auditsink_int.h - private to auditsink.c and auditwrite.c: the sink's
 * state and the writing of its stage
 *
 * Not a contract: nothing but milter/auditsink.c and milter/auditwrite.c
 * includes this file.  auditsink.c owns the sink (open, chain, seal,
 * reopen, close, the public audit_sink_* API); auditwrite.c writes what
 * is staged to the file: one writer at a time, the group commit of fsync
 * every, the writer thread's batches, a failed write kept for a retry or
 * failed, a torn line cut off.  Every function here is called with the
 * sink's lock held unless it says otherwise.
 */
#ifndef TLSPOLICY_AUDITSINK_INT_H
#define TLSPOLICY_AUDITSINK_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "auditchain.h"
#include "auditfsync.h"
#include "auditsink.h"
#include "auditstage.h"

/* Staged bytes, or time since the last write, at which a record writes. */
#define BATCH_BYTES	(64 * 1024)
#define BATCH_NS	10000000LL	/* 10 ms */

/* After a failed write, the writer thread tries again this much later. */
#define RETRY_NS	1000000000LL	/* 1 s */

/*
 * A hashing context (auditchain.h): the sink keeps one (recovery, and
 * records when a thread has none), and each thread that writes records
 * keeps its own, so the record's fields are hashed before the lock is
 * taken and under it only the "prev" member and the end are.  gen says
 * which sink and key its key state was copied from.
 */
struct hasher {
	struct auditchain_hasher *ch;
	unsigned long		 gen;
};

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
	pthread_cond_t		 wake;		/* for the writer thread */
	pthread_t		 writer;
	int			 fd;
	char			*path;
	char			 head[AUDIT_HASH_HEX + 1];	/* last hash chained */
	char			 on_file[AUDIT_HASH_HEX + 1];	/* last hash written */
	struct audit_stage	*stage;		/* chained, not yet written */
	unsigned long		 n_chained;	/* lines chained (their numbers) */
	unsigned long		 n_queued;	/* lines staged, not being written */
	unsigned long		 n_lost;	/* queued-only lines a failure dropped */
	struct waiter		*waiters;
	long long		 last_write;	/* CLOCK_MONOTONIC, ns */
	int			 error;		/* errno of the failed write, sticky */
	bool			 is_writing;	/* a writer is writing the stage */
	bool			 is_draining;	/* batch no more: write at once */
	bool			 has_writer;	/* the writer thread runs */
	bool			 is_writer_idle; /* it waits for a first record */
	bool			 is_stopping;	/* it is to return */
	bool			 is_dirty;	/* written since the last fdatasync */
	bool			 needs_newline;	/* the file ends in a torn line */
	enum audit_fsync	 fsync;
	struct hasher		 own;		/* keyed with the sink's key */
	_Atomic unsigned long	 gen;		/* of this sink and key */
	/* sealing (auditseal.h): own and the threads' hashers stay unkeyed */
	struct auditchain_hasher *sealer;	/* K(epoch), or NULL */
	long long		 epoch;
	bool			 is_sealing;	/* a seal is being written */
	pthread_cond_t		 sealed;	/* it is done */
	unsigned long		 n_since_seal;	/* records chained since */
	struct timespec		 since;		/* the last seal, or open */
	struct audit_sink_tail	 tail;		/* the file's last line */
};

/*
 * auditwrite_batch - become the writer: write what is staged outside the
 * lock, fdatasync if every, then consume it and settle the waiters (on
 * failure: keep the unwritten lines staged, or with fsync every fail
 * everything chained).  Lock held on entry and on return; !s->is_writing
 * on entry.
 */
void	auditwrite_batch(struct audit_sink *s);

/*
 * auditwrite_wait - until line seq is written (or failed): write the
 * queue when nobody else is, else sleep.  0, or -1 with errno.
 */
int	auditwrite_wait(struct audit_sink *s, unsigned long seq);

/*
 * auditwrite_flush - write what is queued now (waiting for a writer in
 * progress first).  0, or -1 with errno when a write failed.
 */
int	auditwrite_flush(struct audit_sink *s);

/* auditwrite_is_due - whether the stage is to be written now. */
bool	auditwrite_is_due(struct audit_sink *s);

/*
 * auditwrite_wake - after a record is staged: wake the writer thread when
 * it waits for a first record or BATCH_BYTES are staged (else its timer
 * runs).
 */
void	auditwrite_wake(struct audit_sink *s);

/*
 * auditwrite_thread - the writer thread's start routine (arg: the sink):
 * write the stage BATCH_NS after the last write (RETRY_NS after a failed
 * one), or at once when BATCH_BYTES are staged; sleep while nothing is
 * staged.  With fsync every the callers write (group commit) and it only
 * sleeps.  Takes the lock itself.
 */
void	*auditwrite_thread(void *arg);

/* auditwrite_stop - stop the writer thread and wait for it (lock not held). */
void	auditwrite_stop(struct audit_sink *s);

#endif /* TLSPOLICY_AUDITSINK_INT_H */
