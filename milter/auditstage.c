/*
 * NAME
 *	auditstage - the audit stage: a memory-mapped ring of chained lines
 *
 * SYNOPSIS
 *	#include "auditstage.h"
 *
 * DESCRIPTION
 *	A stage file is a 4 KiB header and a ring of lines, allocated on
 *	disk when the file is made and mapped MAP_SHARED, so a line copied
 *	into it is in the page cache at once: it survives a crash of the
 *	process as a line written with write(2) does, without a system
 *	call.  The audit sink stages every chained line before it replies,
 *	appends the staged lines to the log in batches, and consumes them.
 *
 *	Ring: the data is [tail, head), or, once wrapped, [tail, end) and
 *	[0, head).  A line never wraps; one that does not fit before the
 *	ring's end goes to the front, and a 0x01 byte at end marks the
 *	wrap.  A NUL byte follows the last line (where there is room), so
 *	a scan after a crash stops where the data stops.  The header holds
 *	a magic, the version, the ring size and the tail offset, which
 *	audit_stage_consume() updates.
 *
 *	The file is locked with flock(2) while open: two daemons never
 *	share a stage.  Not thread-safe; the sink's lock covers every call.
 *
 * DIAGNOSTICS
 *	audit_stage_open() returns NULL with errno; audit_stage_put() -1
 *	with ENOBUFS when the ring is full.  Nothing is logged here.
 *
 * SEE ALSO
 *	auditsink.c (who stages, writes and recovers), doc/audit-format.md
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auditstage.h"

#define STAGE_MAGIC	AUDIT_STAGE_MAGIC
#define STAGE_VERSION	1
#define STAGE_HEADER	4096
#define MARK_END	'\0'	/* the data ends here */
#define MARK_WRAP	'\001'	/* the data goes on at the ring's front */

struct stage_header {
	char		magic[16];
	uint64_t	version;
	uint64_t	size;		/* ring bytes after the header */
	uint64_t	tail;		/* oldest line not known to be logged */
};

struct audit_stage {
	int			 fd;
	char			*path;
	unsigned char		*map;		/* header and ring */
	size_t			 map_size;
	struct stage_header	*hdr;
	char			*ring;
	size_t			 size;
	size_t			 tail, head, end;
	bool			 is_wrapped;
};

static int	stage_init(struct audit_stage *, size_t);
static int	stage_check(struct audit_stage *, off_t);
static int	map_ring(struct audit_stage *, size_t);
static void	set_tail(struct audit_stage *, size_t);
static unsigned long scan_segment(const struct audit_stage *, size_t, size_t,
		    bool (*)(void *, const char *, size_t), void *, int *);

struct audit_stage *
audit_stage_open(const char *path, size_t size)
{
	struct audit_stage *st;
	struct stat sb;
	int e;

	if (size < AUDIT_STAGE_MIN || size > AUDIT_STAGE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return NULL;
	if ((st->path = strdup(path)) == NULL) {
		free(st);
		return NULL;
	}
	st->map = MAP_FAILED;
	if ((st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1)
		goto fail;
	if (flock(st->fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			errno = EBUSY;
		goto fail;
	}
	if (fstat(st->fd, &sb) == -1)
		goto fail;
	if (!S_ISREG(sb.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((sb.st_size == 0 ? stage_init(st, size) :
	    stage_check(st, sb.st_size)) == -1)
		goto fail;
	return st;
fail:
	e = errno;
	audit_stage_close(&st);
	errno = e;
	return NULL;
}

const char *
audit_stage_path(const struct audit_stage *st)
{
	return st->path;
}

int
audit_stage_put(struct audit_stage *st, const char *line, size_t size)
{
	size_t at;

	if (!st->is_wrapped && st->tail == st->head && st->tail != 0) {
		st->head = 0;		/* empty: start at the front again */
		set_tail(st, 0);
	}
	if (!st->is_wrapped && st->head + size <= st->size)
		at = st->head;
	else if (!st->is_wrapped && size <= st->tail) {
		st->end = st->head;
		if (st->end < st->size)
			st->ring[st->end] = MARK_WRAP;
		st->is_wrapped = true;
		at = 0;
	} else if (st->is_wrapped && st->head + size <= st->tail)
		at = st->head;
	else {
		errno = ENOBUFS;
		return -1;
	}
	(void) memcpy(st->ring + at, line, size);
	st->head = at + size;
	if (st->head < (st->is_wrapped ? st->tail : st->size))
		st->ring[st->head] = MARK_END;
	return 0;
}

bool
audit_stage_fits(const struct audit_stage *st, size_t size)
{
	if (st->is_wrapped)
		return st->head + size <= st->tail;
	return st->tail == st->head ? size <= st->size :
	    st->head + size <= st->size || size <= st->tail;
}

size_t
audit_stage_used(const struct audit_stage *st)
{
	return st->is_wrapped ? st->end - st->tail + st->head :
	    st->head - st->tail;
}

size_t
audit_stage_capacity(const struct audit_stage *st)
{
	return st->size;
}

int
audit_stage_batch(const struct audit_stage *st, struct iovec iov[2],
    size_t *size)
{
	int n = 0;

	if (st->is_wrapped && st->end > st->tail)
		iov[n++] = (struct iovec){ st->ring + st->tail,
		    st->end - st->tail };
	if (st->is_wrapped && st->head > 0)
		iov[n++] = (struct iovec){ st->ring, st->head };
	if (!st->is_wrapped && st->head > st->tail)
		iov[n++] = (struct iovec){ st->ring + st->tail,
		    st->head - st->tail };
	*size = audit_stage_used(st);
	return n;
}

void
audit_stage_consume(struct audit_stage *st, size_t size)
{
	size_t t = st->tail;

	if (st->is_wrapped) {
		if (size < st->end - t) {
			set_tail(st, t + size);
			return;
		}
		size -= st->end - t;
		t = 0;
		st->is_wrapped = false;
	}
	t += size;
	if (t == st->head && t != 0) {	/* empty: the front again */
		st->head = t = 0;
		st->ring[0] = MARK_END;
	}
	set_tail(st, t);
}

void
audit_stage_drop(struct audit_stage *st)
{
	st->head = st->end = 0;
	st->is_wrapped = false;
	st->ring[0] = MARK_END;
	set_tail(st, 0);
}

unsigned long
audit_stage_scan(struct audit_stage *st,
    bool (*fn)(void *, const char *, size_t), void *arg)
{
	unsigned long n;
	int stop = 0;	/* 0: the data wraps on, 1: it ended, 2: fn stopped */

	n = scan_segment(st, st->tail, st->size, fn, arg, &stop);
	if (stop == 0 && st->tail > 0)
		n += scan_segment(st, 0, st->tail, fn, arg, &stop);
	return n;
}

void
audit_stage_close(struct audit_stage **stp)
{
	struct audit_stage *st = *stp;

	if (st == NULL)
		return;
	if (st->map != MAP_FAILED)
		(void) munmap(st->map, st->map_size);
	if (st->fd != -1)
		(void) close(st->fd);	/* releases the flock */
	free(st->path);
	free(st);
	*stp = NULL;
}

/* stage_init - a new stage file: allocate, map, write the header. */
static int
stage_init(struct audit_stage *st, size_t size)
{
	int e;

	st->map_size = STAGE_HEADER + size;
	if ((e = posix_fallocate(st->fd, 0, (off_t)st->map_size)) != 0) {
		(void) ftruncate(st->fd, 0);	/* leave no half-made stage */
		errno = e;
		return -1;
	}
	if (map_ring(st, size) == -1)
		return -1;
	(void) memcpy(st->hdr->magic, STAGE_MAGIC, sizeof(st->hdr->magic));
	st->hdr->version = STAGE_VERSION;
	st->hdr->size = size;
	st->ring[0] = MARK_END;
	set_tail(st, 0);
	return 0;
}

/* stage_check - an existing stage file: check the header, map, find the tail. */
static int
stage_check(struct audit_stage *st, off_t file_size)
{
	struct stage_header h;

	if (pread(st->fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, STAGE_MAGIC, sizeof(h.magic)) != 0 ||
	    h.version != STAGE_VERSION || h.size < AUDIT_STAGE_MIN ||
	    h.size > AUDIT_STAGE_MAX ||
	    file_size != (off_t)(STAGE_HEADER + h.size)) {
		errno = EINVAL;
		return -1;
	}
	if (map_ring(st, (size_t)h.size) == -1)
		return -1;
	st->tail = st->head = h.tail < h.size ? (size_t)h.tail : 0;
	return 0;
}

/*
 * map_ring - map the header and a ring of size bytes, every page now
 * (resident from the start, so no record pays a fault for it).
 */
static int
map_ring(struct audit_stage *st, size_t size)
{
	st->map_size = STAGE_HEADER + size;
	st->map = mmap(NULL, st->map_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_POPULATE, st->fd, 0);
	if (st->map == MAP_FAILED)
		return -1;
	st->hdr = (struct stage_header *)(void *)st->map;
	st->ring = (char *)st->map + STAGE_HEADER;
	st->size = size;
	return 0;
}

/* set_tail - the ring's tail, also in the header (for a scan after a crash). */
static void
set_tail(struct audit_stage *st, size_t t)
{
	st->tail = t;
	__atomic_store_n(&st->hdr->tail, (uint64_t)t, __ATOMIC_RELEASE);
}

/*
 * scan_segment - pass the lines of ring[from, to) to fn; *stop 1 when the
 * data ends (NUL, a torn line), 2 when fn says so, else 0 (wrap or the
 * segment's end).
 */
static unsigned long
scan_segment(const struct audit_stage *st, size_t from, size_t to,
    bool (*fn)(void *, const char *, size_t), void *arg, int *stop)
{
	unsigned long n = 0;
	const char *nl;

	while (from < to) {
		if (st->ring[from] == MARK_END) {
			*stop = 1;
			return n;
		}
		if (st->ring[from] == MARK_WRAP)
			return n;
		if ((nl = memchr(st->ring + from, '\n', to - from)) == NULL) {
			*stop = 1;
			return n;
		}
		n++;
		if (!fn(arg, st->ring + from, (size_t)(nl + 1 - st->ring) - from)) {
			*stop = 2;
			return n;
		}
		from = (size_t)(nl + 1 - st->ring);
	}
	return n;
}
