/*
 * auditverify.h - check a hash-chained audit log (format version 2)
 *
 * A verifier walks the lines of one or more audit files in chain order
 * (oldest rotated file first) and stops at the first line that breaks
 * the chain, saying why:
 *   "truncated line (no newline at end of file)"
 *   "not JSON"
 *   "not a chained record (no \"v\":2, \"prev\" and \"hash\" at the end)"
 *   "hash mismatch (record changed, or wrong key)"
 *   "broken link (\"prev\" is not the hash of the record before)"
 * Without auditverify_set_anchor() the first record's "prev" is taken
 * as the chain's anchor (v->anchor); with it, the first record must link
 * to that anchor.  A line that fails but is a proper prefix of the line
 * after it (an older version's torn write) is passed to v->warn, counted
 * and skipped.  The line format and the hash are auditchain.h's.  No
 * libmilter, no clock; the only I/O is reading the FILE * the caller
 * passes.
 */
#ifndef TLSPOLICY_AUDITVERIFY_H
#define TLSPOLICY_AUDITVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "auditchain.h"
#include "auditseal.h"

#define AUDITVERIFY_WHY_MAX	256

struct auditverify {
	const unsigned char	*key;		/* borrowed HMAC key; NULL: SHA-256 */
	size_t			 keylen;
	char			 head[AUDIT_HASH_HEX + 1]; /* hash of the last good record */
	char			 anchor[AUDIT_HASH_HEX + 1]; /* "prev" of the first */
	bool			 has_head;
	unsigned long		 n_records;	/* good records so far */
	unsigned long		 n_fragments;	/* torn fragments skipped */
	/* called for each fragment skipped (may be NULL) */
	void			(*warn)(void *arg, unsigned long lineno,
				    const char *why);
	void			*warn_arg;
	char			 why[AUDITVERIFY_WHY_MAX]; /* after a failure */

	/*
	 * Sealing (auditseal.h): with vk, a sealed record is checked under
	 * its epoch's key, derived from K(0); epochs never go back, a new
	 * epoch begins only right after a seal, no unsealed record follows
	 * a sealed one, and a seal's "head" and "records" are checked.
	 */
	const struct auditseal_state *vk;	/* borrowed; NULL: none given */
	struct auditseal_state	 cur;		/* the last key derived */
	bool			 has_cur;
	long long		 epoch;		/* of the last; -1 unsealed */
	long long		 first_epoch;	/* of the first record */
	bool			 is_last_seal;	/* the last record is a seal */
	unsigned long		 n_seals;
	unsigned long		 n_since_seal;	/* since the last seal */
	bool			 is_count_exact; /* ... counted from a seal */
	bool			 has_first_count; /* a seal with "records" */
	unsigned long		 first_count;	/* its "records" */
	unsigned long		 n_before_first; /* sealed ones before it */
	const char		*expect;	/* a hash to find, or NULL */
	unsigned long		 expect_at;	/* its record (1-based), or 0 */
};

/* auditverify_set_vk - check sealed records with vk (borrowed). */
void	auditverify_set_vk(struct auditverify *,
	    const struct auditseal_state *vk);

/* auditverify_done - wipe the derived key (after the last line). */
void	auditverify_done(struct auditverify *);

/* auditverify_init - an empty chain; key may be NULL (keylen 0). */
void	auditverify_init(struct auditverify *, const unsigned char *key,
	    size_t keylen);

/*
 * auditverify_set_anchor - the first record must have "prev" anchor (64
 * hex digits, AUDIT_CHAIN_ANCHOR for a log that starts here).
 */
void	auditverify_set_anchor(struct auditverify *, const char *anchor);

/*
 * auditverify_line - check the next line (without its newline; is_whole
 * false when the file ended before one).  0, or -1 with v->why set.
 */
int	auditverify_line(struct auditverify *, const char *line, size_t size,
	    bool is_whole);

/*
 * auditverify_file - every line of fp in order, torn fragments skipped
 * (with a warning).  0, or -1 with *lineno (1-based) and v->why set; a
 * read error is -1 with why "read error".
 */
int	auditverify_file(struct auditverify *, FILE *fp, unsigned long *lineno);

/* each - a line read (size bytes without its newline; is_whole: it had one). */
typedef void (*auditverify_each_fn)(void *arg, const char *line, size_t size,
	    bool is_whole);

/*
 * auditverify_stream - as auditverify_file(), and each line, checked or
 * not, is then given to each(arg) in order: reading goes on to the end
 * of the file after a failure (only checking stops), so one pass serves
 * another reader too.  v may be NULL: nothing is checked (-1 is then a
 * read error only).  0, or -1 with *lineno and v->why as there.
 */
int	auditverify_stream(struct auditverify *, FILE *fp, unsigned long *lineno,
	    auditverify_each_fn each, void *arg);

/* auditverify_is_json - the bytes are exactly one JSON value (RFC 8259). */
bool	auditverify_is_json(const char *, size_t size);

#endif /* TLSPOLICY_AUDITVERIFY_H */
