/*
 * linequeue.h - lines handed from a reading thread to a worker thread
 *
 * The reader copies each line into a block (4 MiB of lines); a full
 * block goes to one worker thread, which gives each of its lines, in
 * order, to the function the queue was made with.  At most 4 blocks
 * wait while the worker runs one and the reader fills one, so memory is
 * about 24 MiB at most (more only while a single line is longer),
 * whatever the number of lines.  So a pass over a file runs on two cores: the reader
 * checks, the worker counts.  One reader thread; each() runs only in the
 * worker and must not take locks the reader holds.
 */
#ifndef TLSPOLICY_LINEQUEUE_H
#define TLSPOLICY_LINEQUEUE_H

#include <stdbool.h>
#include <stddef.h>

/* each - a line (size bytes without its newline; is_whole: it had one). */
typedef void (*linequeue_each_fn)(void *arg, const char *line, size_t size,
	    bool is_whole);

struct linequeue;

/*
 * linequeue_new - a queue and its worker thread, calling each(arg) for
 * every line put.  Owned by the caller (linequeue_free).  NULL with
 * errno when no memory or no thread.
 */
struct linequeue *linequeue_new(linequeue_each_fn each, void *arg);

/*
 * linequeue_put - the next line, copied (linequeue_each_fn's
 * signature, so it can be a reader's callback: arg is the queue).  On
 * no memory the line is given to each() in this thread instead, after
 * the lines before it.
 */
void	linequeue_put(void *queue, const char *line, size_t size,
	    bool is_whole);

/* linequeue_sync - return when each() has had every line put so far. */
void	linequeue_sync(struct linequeue *);

/* linequeue_free - sync, stop the worker, free; NULL is fine. */
void	linequeue_free(struct linequeue **);

#endif /* TLSPOLICY_LINEQUEUE_H */
