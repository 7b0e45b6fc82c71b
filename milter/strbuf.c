/*
 * NAME
 *	strbuf - growable byte buffers with an explicit size limit
 *
 * SYNOPSIS
 *	#include "strbuf.h"
 *
 * DESCRIPTION
 *	A buffer grows geometrically up to its limit.  Appending beyond the
 *	limit fails without changing the content, so callers report a
 *	too-long value instead of truncating it.  The caller owns the buffer
 *	and frees it with strbuf_free().  Not thread-safe; one owner at a
 *	time.
 *
 * DIAGNOSTICS
 *	Functions return 0, or -1 with errno ENOMEM or EMSGSIZE.  Nothing is
 *	logged.
 *
 * SEE ALSO
 *	audit.c (records are built in a strbuf)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static int	grow(struct strbuf *, size_t need);

void
strbuf_init(struct strbuf *sb, size_t limit)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->limit = limit;
}

void
strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->data != NULL)
		sb->data[0] = '\0';
}

int
strbuf_append(struct strbuf *sb, const void *p, size_t size)
{
	char *o;

	if ((o = strbuf_space(sb, size)) == NULL)
		return -1;
	if (size > 0)
		memcpy(o, p, size);
	strbuf_commit(sb, size);
	return 0;
}

char *
strbuf_space(struct strbuf *sb, size_t size)
{
	if (size > sb->limit - sb->len) {
		errno = EMSGSIZE;
		return NULL;
	}
	if (grow(sb, sb->len + size + 1) == -1)
		return NULL;
	return sb->data + sb->len;
}

void
strbuf_commit(struct strbuf *sb, size_t size)
{
	assert(sb->len + size < sb->cap);
	sb->len += size;
	sb->data[sb->len] = '\0';
}

int
strbuf_puts(struct strbuf *sb, const char *s)
{
	return strbuf_append(sb, s, strlen(s));
}

int
strbuf_putc(struct strbuf *sb, char c)
{
	return strbuf_append(sb, &c, 1);
}

int
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	char *big;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)n < sizeof(small))
		return strbuf_append(sb, small, (size_t)n);
	if ((size_t)n > sb->limit - sb->len) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((big = malloc((size_t)n + 1)) == NULL)
		return -1;
	va_start(ap, fmt);
	(void) vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rc = strbuf_append(sb, big, (size_t)n);
	free(big);
	return rc;
}

const char *
strbuf_str(const struct strbuf *sb)
{
	return sb->data != NULL ? sb->data : "";
}

/* grow - make room for need bytes (content plus NUL). */
static int
grow(struct strbuf *sb, size_t need)
{
	size_t cap;
	char *p;

	if (need <= sb->cap)
		return 0;
	cap = sb->cap > 0 ? sb->cap : 1024;	/* one allocation for a typical record */
	while (cap < need)
		cap *= 2;
	if (cap > sb->limit + 1)
		cap = sb->limit + 1;
	if ((p = realloc(sb->data, cap)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	sb->data = p;
	sb->cap = cap;
	return 0;
}
