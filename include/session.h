/*
 * session.h - per-connection state and the current configuration
 *
 * The current config is one pointer behind a mutex.  A session takes a
 * reference at connect and keeps that config until it closes, so a reload
 * never changes the rules in the middle of a session; a replaced config is
 * freed when its last session closes.  Reference counts change only under
 * the same mutex.  Session state itself belongs to one libmilter context:
 * callbacks of one session run one at a time (possibly on different
 * threads), so it needs no lock.
 */
#ifndef TLSPOLICY_SESSION_H
#define TLSPOLICY_SESSION_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "conf.h"
#include "facts.h"

#define SESSION_ID_MAX 24

struct session {
	char		 id[SESSION_ID_MAX];	/* "<start time hex>.<counter>" */
	struct conf	*conf;			/* reference held until free */
	struct facts	 facts;
	struct timespec	 started;		/* wall clock at negotiate */
	char		*helo;			/* last HELO/EHLO name (owned), NULL
						 * when none or longer than
						 * FACTS_VALUE_MAX bytes */
	unsigned	 n_helo;		/* HELO callbacks seen */
	unsigned	 n_mail;		/* MAIL FROM decided */
	bool		 has_noreply;		/* MTA takes no reply at connect/HELO */
	bool		 has_failed;		/* an earlier stage ran out of memory */
	atomic_flag	 is_closed;		/* its session record is claimed */
	pthread_mutex_t	 lock;			/* held by its callback, or the stop */
	struct session	*open_prev;		/* the open sessions (session.c) */
	struct session	*open_next;
};

/*
 * session_conf_install - make conf the current config (ownership passes to
 * this module).  The previous one is freed once no session holds it.
 */
void	session_conf_install(struct conf *);

/* session_conf_acquire - a counted reference to the current config. */
struct conf *session_conf_acquire(void);

/* session_conf_release - drop a reference; sets the pointer to NULL. */
void	session_conf_release(struct conf **);

/* session_conf_shutdown - release the current config at exit. */
void	session_conf_shutdown(void);

/*
 * session_new - a session with a fresh id and a reference to the current
 * config.  NULL on allocation failure.
 */
struct session *session_new(void);

/*
 * session_trim - after a MAIL decision, before the message transfer where
 * a session spends its time: compact the facts (facts_compact), so an
 * open session holds what its session record and its next decisions
 * need in few allocations.  Nothing is lost: without memory for the
 * compact copy the facts stay as they were.
 */
void	session_trim(struct session *);

/*
 * session_free - release config reference and facts, forget the session
 * as open; sets pointer to NULL.
 */
void	session_free(struct session **);

/*
 * session_lock, session_unlock - hold the session while a callback (or
 * the stop) reads or changes it; NULL is fine.  Never hold it while
 * calling session_new() or session_free().
 */
void	session_lock(struct session *);
void	session_unlock(struct session *);

/*
 * session_claim_close - true exactly once per session: for the one caller
 * (the close callback, or the stop) that writes its session record.
 * Thread-safe.
 */
bool	session_claim_close(struct session *);

/*
 * session_foreach_open - call fn(s, arg) for every session not yet freed,
 * holding the lock of the list of open sessions (so none is freed
 * meanwhile; fn must not free one) and the session's own (so no callback
 * runs on it meanwhile).  For the stop.
 */
void	session_foreach_open(void (*fn)(struct session *, void *), void *arg);

#endif /* TLSPOLICY_SESSION_H */
