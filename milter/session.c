/*
 * NAME
 *	session - per-connection state and the current configuration
 *
 * SYNOPSIS
 *	#include "session.h"
 *
 * DESCRIPTION
 *	Holds the current configuration behind one mutex, with a reference
 *	count per configuration: a session acquires the config current at
 *	its start and releases it when it closes, so a reload never changes
 *	the rules in the middle of a session.  A replaced configuration is
 *	freed by whoever drops its last reference.  Counts change only under
 *	the mutex that guards the pointer.
 *
 *	Sessions are allocated at connect and freed at close by the glue;
 *	the caller owns the struct session.  Until it is freed a session is
 *	on a list of open sessions (its own mutex), so that the stop can
 *	write a session record for each session the MTA has not closed;
 *	session_claim_close() lets exactly one of the close callback and the
 *	stop write it.  A session's mutex is held by its callbacks and by
 *	the stop, so the stop never reads a session a callback is changing
 *	(libmilter's workers may still run when smfi_main has returned).
 *	Lock order: the list's mutex, then a session's.  Session ids are the process
 *	start time in hex and a counter, unique for the life of the process
 *	and across restarts one second apart.
 *
 * DIAGNOSTICS
 *	session_new() returns NULL on allocation failure; nothing is logged
 *	here.  Releasing a reference that was never taken is an assertion.
 *
 * SEE ALSO
 *	conf.c, callbacks.c, main.c (reload)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "conf.h"
#include "facts.h"
#include "session.h"

/* A config and the number of holders (the current pointer counts as one). */
struct conf_slot {
	struct conf		*conf;
	unsigned long		 refs;
	struct conf_slot	*next;
};

static pthread_mutex_t	 conf_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conf_slot	*slots;		/* current first, then retired ones in use */
static atomic_ulong	 n_sessions;
static time_t		 start_time;

/* Every session made and not yet freed, for the session records at stop. */
static pthread_mutex_t	 open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct session	*open_sessions;

static struct conf_slot	*slot_of(struct conf *);
static void		 slot_unref(struct conf_slot *);

void
session_conf_install(struct conf *conf)
{
	struct conf_slot *slot, *old;

	slot = calloc(1, sizeof(*slot));
	if (slot == NULL)
		abort();	/* start-up or reload path; cannot continue sanely */
	slot->conf = conf;
	slot->refs = 1;
	(void) pthread_mutex_lock(&conf_lock);
	if (start_time == 0)
		start_time = time(NULL);
	old = slots;
	slot->next = slots;
	slots = slot;
	if (old != NULL)
		slot_unref(old);	/* the current pointer's reference */
	(void) pthread_mutex_unlock(&conf_lock);
}

struct conf *
session_conf_acquire(void)
{
	struct conf *conf = NULL;

	(void) pthread_mutex_lock(&conf_lock);
	if (slots != NULL) {
		slots->refs++;
		conf = slots->conf;
	}
	(void) pthread_mutex_unlock(&conf_lock);
	return conf;
}

void
session_conf_release(struct conf **confp)
{
	struct conf_slot *slot;

	if (*confp == NULL)
		return;
	(void) pthread_mutex_lock(&conf_lock);
	slot = slot_of(*confp);
	assert(slot != NULL && slot->refs > 0);
	slot_unref(slot);
	(void) pthread_mutex_unlock(&conf_lock);
	*confp = NULL;
}

void
session_conf_shutdown(void)
{
	(void) pthread_mutex_lock(&conf_lock);
	if (slots != NULL && slots->refs > 0)
		slot_unref(slots);
	(void) pthread_mutex_unlock(&conf_lock);
}

struct session *
session_new(void)
{
	struct session *s;
	unsigned long n;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	n = atomic_fetch_add(&n_sessions, 1) + 1;
	(void) snprintf(s->id, sizeof(s->id), "%llX.%lu",
	    (unsigned long long)start_time, n);
	facts_init(&s->facts);
	s->conf = session_conf_acquire();
	atomic_flag_clear(&s->is_closed);
	(void) pthread_mutex_init(&s->lock, NULL);
	(void) pthread_mutex_lock(&open_lock);
	if ((s->open_next = open_sessions) != NULL)
		open_sessions->open_prev = s;
	open_sessions = s;
	(void) pthread_mutex_unlock(&open_lock);
	return s;
}

void
session_trim(struct session *s)
{
	(void) facts_compact(&s->facts);
}

void
session_free(struct session **sp)
{
	struct session *s = *sp;

	if (s == NULL)
		return;
	(void) pthread_mutex_lock(&open_lock);
	if (s->open_prev != NULL)
		s->open_prev->open_next = s->open_next;
	else
		open_sessions = s->open_next;
	if (s->open_next != NULL)
		s->open_next->open_prev = s->open_prev;
	(void) pthread_mutex_unlock(&open_lock);
	(void) pthread_mutex_destroy(&s->lock);
	facts_clear(&s->facts);
	free(s->helo);
	session_conf_release(&s->conf);
	free(s);
	*sp = NULL;
}

void
session_lock(struct session *s)
{
	if (s != NULL)
		(void) pthread_mutex_lock(&s->lock);
}

void
session_unlock(struct session *s)
{
	if (s != NULL)
		(void) pthread_mutex_unlock(&s->lock);
}

bool
session_claim_close(struct session *s)
{
	return !atomic_flag_test_and_set(&s->is_closed);
}

void
session_foreach_open(void (*fn)(struct session *, void *), void *arg)
{
	struct session *s;

	(void) pthread_mutex_lock(&open_lock);
	for (s = open_sessions; s != NULL; s = s->open_next) {
		(void) pthread_mutex_lock(&s->lock);
		fn(s, arg);
		(void) pthread_mutex_unlock(&s->lock);
	}
	(void) pthread_mutex_unlock(&open_lock);
}

/* slot_of - the slot holding conf; caller holds conf_lock. */
static struct conf_slot *
slot_of(struct conf *conf)
{
	struct conf_slot *slot;

	for (slot = slots; slot != NULL; slot = slot->next)
		if (slot->conf == conf && slot->refs > 0)
			return slot;
	return NULL;
}

/* slot_unref - drop one reference; free the slot and config at zero. */
static void
slot_unref(struct conf_slot *slot)
{
	struct conf_slot **pp;

	if (--slot->refs > 0)
		return;
	for (pp = &slots; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == slot) {
			*pp = slot->next;
			break;
		}
	}
	conf_free(&slot->conf);
	free(slot);
}
