/*
 * strbuf.h - growable byte buffers with an explicit size limit
 *
 * A strbuf grows on demand up to its limit.  Appending past the limit fails
 * with -1 and leaves the buffer as it was before the call, so a caller can
 * report "value too long" instead of silently truncating.  The buffer is
 * always NUL-terminated once anything has been appended.
 *
 * Thread-safety: a strbuf belongs to one thread at a time.
 */
#ifndef TLSPOLICY_STRBUF_H
#define TLSPOLICY_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char	*data;	/* owned; NULL until the first append */
	size_t	 len;	/* bytes in use, not counting the NUL */
	size_t	 cap;	/* bytes allocated */
	size_t	 limit;	/* largest len allowed */
};

/* strbuf_init - empty buffer that may grow to limit bytes; allocates nothing. */
void	strbuf_init(struct strbuf *, size_t limit);

/* strbuf_free - release the storage; the buffer may be reused after init. */
void	strbuf_free(struct strbuf *);

/* strbuf_reset - forget the content, keep the storage. */
void	strbuf_reset(struct strbuf *);

/*
 * strbuf_append - append size bytes.  Returns 0, or -1 with errno ENOMEM
 * (allocation failed) or EMSGSIZE (limit exceeded); on failure the content
 * is unchanged.
 */
int	strbuf_append(struct strbuf *, const void *, size_t size);

/*
 * strbuf_space - room for size more bytes: where to write them (borrowed
 * until the next call on sb), or NULL with errno (EMSGSIZE past the
 * limit, ENOMEM).  Write up to size bytes there, then strbuf_commit().
 */
char	*strbuf_space(struct strbuf *, size_t size);

/* strbuf_commit - add the n bytes written at strbuf_space() (n <= size). */
void	strbuf_commit(struct strbuf *, size_t n);

/* strbuf_puts - strbuf_append of a NUL-terminated string. */
int	strbuf_puts(struct strbuf *, const char *);

/* strbuf_putc - append one byte. */
int	strbuf_putc(struct strbuf *, char);

/* strbuf_printf - append formatted text; errors as strbuf_append. */
int	strbuf_printf(struct strbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* strbuf_str - the content as a C string ("" when empty); borrowed. */
const char *strbuf_str(const struct strbuf *);

#endif /* TLSPOLICY_STRBUF_H */
