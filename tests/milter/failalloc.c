/*
 * failalloc - LD_PRELOAD shim for the failure-mode test: malloc, calloc
 * and realloc fail with ENOMEM for exactly FAILALLOC_SIZE bytes, so a test
 * can make one chosen allocation of the daemon fail (a macro value of
 * FAILALLOC_SIZE - 1 bytes) and leave all others alone.
 */
#include <errno.h>
#include <stdlib.h>

void	*__libc_malloc(size_t);
void	*__libc_calloc(size_t, size_t);
void	*__libc_realloc(void *, size_t);

static size_t
fail_size(void)
{
	static size_t n = (size_t)-1;

	if (n == (size_t)-1) {
		const char *s = getenv("FAILALLOC_SIZE");
		n = s != NULL ? (size_t)strtoul(s, NULL, 10) : 0;
	}
	return n;
}

void *
malloc(size_t n)
{
	if (n != 0 && n == fail_size()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}

void *
calloc(size_t k, size_t n)
{
	if (n != 0 && k * n == fail_size()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(k, n);
}

void *
realloc(void *p, size_t n)
{
	if (n != 0 && n == fail_size()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, n);
}
