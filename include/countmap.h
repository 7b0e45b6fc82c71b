/*
 * countmap.h - counts by byte-string key, in the order keys first came
 *
 * A hash map from keys (any bytes) to a count and an optional value,
 * whose entries are kept in the order they were made, so that a dump of
 * the map is deterministic (the report renders ties in that order).
 * Memory grows with the distinct keys only.  No I/O; one thread at a
 * time.
 */
#ifndef TLSPOLICY_COUNTMAP_H
#define TLSPOLICY_COUNTMAP_H

#include <stddef.h>
#include <stdint.h>

struct countmap_entry {
	char		*key;		/* owned, NUL-terminated */
	size_t		 len;
	uint64_t	 hash;
	unsigned long	 n;		/* the count */
	void		*value;		/* the caller's; freed by countmap_free */
};

/* Zero-initialised: empty.  e[0..n-1] in the order they were made. */
struct countmap {
	struct countmap_entry	*e;
	size_t			 n;
	size_t			*idx;	/* cap slots: entry + 1, 0 empty */
	size_t			 cap;	/* a power of two, or 0 */
};

/*
 * countmap_add - add n to the count of key (len bytes); a new key starts
 * at 0 with value NULL.  The entry (borrowed until the next add or free),
 * or NULL when out of memory (the map is unchanged).
 */
struct countmap_entry *countmap_add(struct countmap *, const char *key,
	    size_t len, unsigned long n);

/* countmap_find - the entry of key, or NULL. */
struct countmap_entry *countmap_find(struct countmap *, const char *key,
	    size_t len);

/*
 * countmap_free - free every key and, with free_value, every value; the
 * map is empty (and usable) after.
 */
void	countmap_free(struct countmap *, void (*free_value)(void *));

#endif /* TLSPOLICY_COUNTMAP_H */
