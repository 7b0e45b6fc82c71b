/*
 * NAME
 *	linequeue - lines handed from a reading thread to a worker thread
 *
 * SYNOPSIS
 *	#include "linequeue.h"
 *
 * DESCRIPTION
 *	A block holds lines as (size, is_whole, bytes) one after another.
 *	The reader fills its block (4 MiB); when the next line does not
 *	fit, the block is handed over (the reader waits while 4 are
 *	waiting for the worker, so a busy machine's scheduling delays are
 *	absorbed) and the reader goes on with a spare block the worker gave
 *	back, or a new one.  The worker takes a waiting block,
 *	gives its lines to each() without the lock, and gives it back as
 *	the spare.  A line longer than a block gets a block of its size.
 *	The lines reach each() in the order they were put.
 *
 *	Thread-safety: one reader calls put, sync and free; each() runs in
 *	the worker thread only.  The mutex guards the waiting block, the
 *	spare, the busy flag and the stop flag.
 *
 * DIAGNOSTICS
 *	linequeue_new() fails with errno; afterwards nothing fails: without
 *	memory for a block, lines are given to each() in the reader, in
 *	order.  A pthread call that fails on a valid mutex is our bug: abort.
 *
 * SEE ALSO
 *	verifytool.c (the pass of --verify-audit), auditagg.c
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "linequeue.h"

#define BLOCK_SIZE	((size_t)4 << 20)
#define DEPTH		4	/* blocks waiting at most */

struct block {
	char	*data;
	size_t	 len;		/* bytes in use */
	size_t	 cap;
};

struct linequeue {
	linequeue_each_fn	 each;
	void			*arg;
	pthread_t		 worker;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct block		 fill;		/* the reader's */
	struct block		 waiting[DEPTH]; /* handed over, oldest first */
	size_t			 n_waiting;
	struct block		 spare[DEPTH];	/* given back */
	size_t			 n_spare;
	bool			 is_busy;	/* the worker runs a block */
	bool			 is_stopping;
};

static void	*work(void *);
static void	run_block(struct linequeue *, const struct block *);
static void	hand_over(struct linequeue *);
static int	make_room(struct linequeue *, size_t);

struct linequeue *
linequeue_new(linequeue_each_fn each, void *arg)
{
	struct linequeue *q;
	int rc;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->each = each;
	q->arg = arg;
	(void) pthread_mutex_init(&q->mu, NULL);
	(void) pthread_cond_init(&q->cv, NULL);
	if ((rc = pthread_create(&q->worker, NULL, work, q)) != 0) {
		(void) pthread_cond_destroy(&q->cv);
		(void) pthread_mutex_destroy(&q->mu);
		free(q);
		errno = rc;
		return NULL;
	}
	return q;
}

void
linequeue_put(void *queue, const char *line, size_t size, bool is_whole)
{
	struct linequeue *q = queue;
	char *w;

	if (make_room(q, size) == -1) {	/* no memory: here, in order */
		linequeue_sync(q);
		q->each(q->arg, line, size, is_whole);
		return;
	}
	w = q->fill.data + q->fill.len;
	memcpy(w, &size, sizeof(size));
	w[sizeof(size)] = is_whole ? 1 : 0;
	memcpy(w + sizeof(size) + 1, line, size);
	q->fill.len += sizeof(size) + 1 + size;
}

void
linequeue_sync(struct linequeue *q)
{
	if (q->fill.len > 0)
		hand_over(q);
	(void) pthread_mutex_lock(&q->mu);
	while (q->n_waiting > 0 || q->is_busy)
		(void) pthread_cond_wait(&q->cv, &q->mu);
	(void) pthread_mutex_unlock(&q->mu);
}

void
linequeue_free(struct linequeue **qp)
{
	struct linequeue *q = *qp;

	if (q == NULL)
		return;
	linequeue_sync(q);
	(void) pthread_mutex_lock(&q->mu);
	q->is_stopping = true;
	(void) pthread_cond_broadcast(&q->cv);
	(void) pthread_mutex_unlock(&q->mu);
	(void) pthread_join(q->worker, NULL);
	(void) pthread_cond_destroy(&q->cv);
	(void) pthread_mutex_destroy(&q->mu);
	free(q->fill.data);
	while (q->n_spare > 0)
		free(q->spare[--q->n_spare].data);
	free(q);
	*qp = NULL;
}

/* work - the worker: run each block handed over until told to stop. */
static void *
work(void *arg)
{
	struct linequeue *q = arg;
	struct block b;

	(void) pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->n_waiting == 0 && !q->is_stopping)
			(void) pthread_cond_wait(&q->cv, &q->mu);
		if (q->n_waiting == 0)
			break;
		b = q->waiting[0];
		memmove(&q->waiting[0], &q->waiting[1],
		    --q->n_waiting * sizeof(b));
		q->is_busy = true;
		(void) pthread_cond_broadcast(&q->cv);
		(void) pthread_mutex_unlock(&q->mu);
		run_block(q, &b);
		(void) pthread_mutex_lock(&q->mu);
		if (q->n_spare < DEPTH) {
			b.len = 0;
			q->spare[q->n_spare++] = b;
		} else
			free(b.data);
		q->is_busy = false;
		(void) pthread_cond_broadcast(&q->cv);
	}
	(void) pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* run_block - each line of b to each(), in order. */
static void
run_block(struct linequeue *q, const struct block *b)
{
	size_t at = 0, size;

	while (at < b->len) {
		memcpy(&size, b->data + at, sizeof(size));
		q->each(q->arg, b->data + at + sizeof(size) + 1, size,
		    b->data[at + sizeof(size)] != 0);
		at += sizeof(size) + 1 + size;
	}
}

/* hand_over - the reader's block to the worker (after the one waiting). */
static void
hand_over(struct linequeue *q)
{
	(void) pthread_mutex_lock(&q->mu);
	while (q->n_waiting == DEPTH)
		(void) pthread_cond_wait(&q->cv, &q->mu);
	q->waiting[q->n_waiting++] = q->fill;
	q->fill = q->n_spare > 0 ? q->spare[--q->n_spare] :
	    (struct block){ .data = NULL };
	(void) pthread_cond_broadcast(&q->cv);
	(void) pthread_mutex_unlock(&q->mu);
}

/* make_room - room in the reader's block for a line of size; 0 or -1. */
static int
make_room(struct linequeue *q, size_t size)
{
	size_t need = sizeof(size) + 1 + size, cap;
	char *data;

	if (q->fill.data != NULL && q->fill.cap - q->fill.len >= need)
		return 0;
	if (q->fill.len > 0)
		hand_over(q);
	if (q->fill.data != NULL && q->fill.cap >= need)
		return 0;
	cap = need > BLOCK_SIZE ? need : BLOCK_SIZE;
	if ((data = malloc(cap)) == NULL)
		return -1;
	free(q->fill.data);
	q->fill = (struct block){ .data = data, .cap = cap };
	return 0;
}
