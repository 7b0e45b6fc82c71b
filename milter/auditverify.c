/*
 * NAME
 *	auditverify - check a hash-chained audit log
 *
 * SYNOPSIS
 *	#include "auditverify.h"
 *
 * DESCRIPTION
 *	Recomputes each record's hash exactly as the sink made it (the line
 *	parsed and hashed by auditchain.c, the module the writer uses too)
 *	and checks each record's "prev" against the hash of the record
 *	before, or against the anchor for the first.  Lines are checked in
 *	this order, so the reason names the first problem: whole line, JSON,
 *	chain members, hash, link.  A small JSON checker (RFC 8259 grammar,
 *	nesting depth capped) tells a damaged line from a changed one.
 *
 *	A line that fails but is a proper prefix of the line after it is
 *	the fragment an older version left after a failed write (it wrote
 *	the whole line again after a newline): it carries nothing the next
 *	line does not, so it is reported through the warn callback, counted
 *	and skipped, and the check goes on.
 *
 * DIAGNOSTICS
 *	-1 with a reason in v->why; the caller adds file and line.
 *
 * SEE ALSO
 *	auditchain.c, verifytool.c (--verify-audit); doc/audit-format.md
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditchain.h"
#include "auditfields.h"
#include "auditverify.h"

#define DEPTH_MAX	32
#define NOT_CHAINED	"not a chained record (no \"v\":2, \"prev\" and" \
			" \"hash\" at the end)"

/* A cursor over the bytes of one JSON text. */
struct js {
	const char	*p;
	const char	*end;
};

static int	fail(struct auditverify *, const char *);
static int	failf(struct auditverify *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	failf_keep(struct auditverify *, long long);
static int	link_line(struct auditverify *, const struct auditchain_tail *,
		    const char *);
static int	sealed_line(struct auditverify *, const char *,
		    const struct auditchain_tail *);
static int	check_seal(struct auditverify *, const char *,
		    const struct auditchain_tail *);
static bool	is_fragment(const char *, size_t, const char *, size_t);
static int	check_line(struct auditverify *, const char *, size_t, bool,
		    const char *, ssize_t, unsigned long);
static bool	js_value(struct js *, int);
static bool	js_object(struct js *, int);
static bool	js_array(struct js *, int);
static bool	js_string(struct js *);
static bool	js_number(struct js *);
static bool	js_word(struct js *, const char *);
static void	js_space(struct js *);

void
auditverify_init(struct auditverify *v, const unsigned char *key,
    size_t keylen)
{
	memset(v, 0, sizeof(*v));
	v->key = key;
	v->keylen = key != NULL ? keylen : 0;
	v->epoch = -1;
	v->first_epoch = -1;
}

void
auditverify_set_vk(struct auditverify *v, const struct auditseal_state *vk)
{
	v->vk = vk;
}

void
auditverify_done(struct auditverify *v)
{
	auditseal_wipe(&v->cur);
	v->has_cur = false;
}

void
auditverify_set_anchor(struct auditverify *v, const char *anchor)
{
	memcpy(v->anchor, anchor, AUDIT_HASH_HEX);
	memcpy(v->head, anchor, AUDIT_HASH_HEX);
	v->has_head = true;
}

int
auditverify_line(struct auditverify *v, const char *line, size_t size,
    bool is_whole)
{
	struct auditchain_tail t;
	char hash[AUDIT_HASH_HEX + 1];

	if (!is_whole)
		return fail(v, "truncated line (no newline at end of file)");
	if (!auditverify_is_json(line, size))
		return fail(v, "not JSON");
	if (auditchain_parse(line, size, &t) == -1 || !t.has_open)
		return fail(v, NOT_CHAINED);
	if (t.epoch >= 0)
		return sealed_line(v, line, &t);
	if (v->epoch >= 0)
		return fail(v, "unsealed record after sealed ones (sealing is"
		    " never turned off: the record was forged or moved)");
	if (auditchain_line_hash(v->key, v->keylen, line, &t, hash) == -1)
		return fail(v, "cannot compute the hash (OpenSSL, or out of"
		    " memory)");
	if (memcmp(hash, t.hash, AUDIT_HASH_HEX) != 0)
		return fail(v, "hash mismatch (record changed, or wrong key)");
	return link_line(v, &t, hash);
}

/* link_line - a record whose hash is right: check and move the link. */
static int
link_line(struct auditverify *v, const struct auditchain_tail *t,
    const char *hash)
{
	if (!v->has_head)
		memcpy(v->anchor, t->prev, AUDIT_HASH_HEX);
	else if (memcmp(v->head, t->prev, AUDIT_HASH_HEX) != 0)
		return fail(v, v->n_records == 0 ? "broken link (the first"
		    " \"prev\" is not the anchor: records before it were"
		    " removed)" : "broken link (\"prev\" is not the hash of"
		    " the record before: a record was removed, moved or"
		    " inserted)");
	memcpy(v->head, hash, AUDIT_HASH_HEX);
	v->head[AUDIT_HASH_HEX] = '\0';
	v->has_head = true;
	v->n_records++;
	if (v->expect != NULL && memcmp(v->expect, hash, AUDIT_HASH_HEX) == 0)
		v->expect_at = v->n_records;
	return 0;
}

/*
 * sealed_line - a record with an epoch: its hash under that epoch's key,
 * the link, then the epoch rules and, for a seal, its members.
 */
static int
sealed_line(struct auditverify *v, const char *line,
    const struct auditchain_tail *t)
{
	char hash[AUDIT_HASH_HEX + 1];
	bool is_first = v->n_records == 0;

	if (v->vk == NULL)
		return failf(v, "epoch %lld: a sealed record: give the"
		    " verification key (--verification-key)", t->epoch);
	if (!v->has_cur || v->cur.epoch > t->epoch) {
		v->cur = *v->vk;	/* K(0) */
		v->has_cur = true;
	}
	if (auditseal_advance(&v->cur, t->epoch) == -1 ||
	    auditchain_sealed_line_hash(v->cur.key, sizeof(v->cur.key), line,
	    t, hash) == -1)
		return fail(v, "cannot compute the hash (OpenSSL, or out of"
		    " memory)");
	if (memcmp(hash, t->hash, AUDIT_HASH_HEX) != 0)
		return failf(v, "epoch %lld: hash mismatch (record changed, or"
		    " not sealed with this epoch's key)", t->epoch);
	if (link_line(v, t, hash) == -1)
		return failf_keep(v, t->epoch);
	if (v->epoch >= 0 && t->epoch < v->epoch)
		return failf(v, "epoch %lld: epochs go back (the record before"
		    " is of epoch %lld)", t->epoch, v->epoch);
	if (v->epoch >= 0 && t->epoch > v->epoch && !v->is_last_seal)
		return failf(v, "epoch %lld: a new epoch without a seal of"
		    " epoch %lld before it (records of that epoch were"
		    " removed, or replaced with a later key)", t->epoch,
		    v->epoch);
	if (is_first)
		v->first_epoch = t->epoch;
	v->epoch = t->epoch;
	v->is_last_seal = t->is_seal;
	if (!t->is_seal) {
		v->n_since_seal++;
		return 0;
	}
	return check_seal(v, line, t);
}

/*
 * check_seal - a seal's "head" is its "prev", its "records" the count
 * since the seal before.
 */
static int
check_seal(struct auditverify *v, const char *line,
    const struct auditchain_tail *t)
{
	static const char head[] = ",\"head\":\"";
	static const char records[] = ",\"records\":";
	const char *h, *r;
	unsigned long n = 0;

	h = memmem(line, (size_t)(t->prev - line), head, sizeof(head) - 1);
	if (h == NULL || memcmp(h + sizeof(head) - 1, t->prev,
	    AUDIT_HASH_HEX) != 0)
		return failf(v, "epoch %lld: a seal whose \"head\" is not the"
		    " hash of the record before it", t->epoch);
	v->n_seals++;
	r = memmem(line, (size_t)(t->prev - line), records,
	    sizeof(records) - 1);
	if (r != NULL) {
		for (r += sizeof(records) - 1; *r >= '0' && *r <= '9'; r++)
			n = n * 10 + (unsigned long)(*r - '0');
		if (v->is_count_exact ? n != v->n_since_seal :
		    n < v->n_since_seal)
			return failf(v, "epoch %lld: the seal counts %lu"
			    " records since the seal before, the log has %lu"
			    " there", t->epoch, n, v->n_since_seal);
		if (!v->has_first_count && !v->is_count_exact) {
			v->has_first_count = true;
			v->first_count = n;
			v->n_before_first = v->n_since_seal;
		}
	}
	v->n_since_seal = 0;
	v->is_count_exact = true;
	return 0;
}

int
auditverify_file(struct auditverify *v, FILE *fp, unsigned long *lineno)
{
	return auditverify_stream(v, fp, lineno, NULL, NULL);
}

int
auditverify_stream(struct auditverify *v, FILE *fp, unsigned long *lineno,
    auditverify_each_fn each, void *arg)
{
	char *line = NULL, *next = NULL, *t;
	size_t cap = 0, ncap = 0, tcap;
	ssize_t n, nn = 0;
	unsigned long at = 0;
	int rc = 0;

	*lineno = 0;
	if ((n = getline(&line, &cap, fp)) != -1)
		nn = getline(&next, &ncap, fp);
	while ((rc == 0 || each != NULL) && n != -1) {
		bool is_whole = n > 0 && line[n - 1] == '\n';
		size_t size = (size_t)n - (is_whole ? 1 : 0);

		at++;
		if (rc == 0 && v != NULL) {
			*lineno = at;
			rc = check_line(v, line, size, is_whole, next, nn, at);
		}
		if (each != NULL)
			each(arg, line, size, is_whole);
		t = line;		/* the next line becomes this one */
		line = next;
		next = t;
		tcap = cap;
		cap = ncap;
		ncap = tcap;
		n = nn;
		if (n != -1)
			nn = getline(&next, &ncap, fp);
	}
	free(line);
	free(next);
	if (rc == 0 && ferror(fp)) {
		*lineno = at + 1;
		return v != NULL ? fail(v, "read error") : -1;
	}
	return rc;
}

/*
 * check_line - verify one line (size bytes, no newline) whose successor
 * is next (next_size bytes with its newline, -1: none); a torn fragment
 * of the next line is skipped with a warning.  0 or -1.
 */
static int
check_line(struct auditverify *v, const char *line, size_t size,
    bool is_whole, const char *next, ssize_t next_size, unsigned long at)
{
	if (auditverify_line(v, line, size, is_whole) == 0)
		return 0;
	if (next_size == -1 || !is_whole ||
	    !is_fragment(line, size, next, (size_t)next_size))
		return -1;
	v->n_fragments++;
	if (v->warn != NULL)
		v->warn(v->warn_arg, at, "torn fragment of the next line (an"
		    " older version's failed write), skipped");
	return 0;
}

bool
auditverify_is_json(const char *s, size_t size)
{
	struct js j = { s, s + size };

	if (!js_value(&j, 0))
		return false;
	js_space(&j);
	return j.p == j.end;
}

/* fail - set the reason; -1. */
static int
fail(struct auditverify *v, const char *why)
{
	(void) snprintf(v->why, sizeof(v->why), "%s", why);
	return -1;
}

/* failf - set a formatted reason; -1. */
static int
failf(struct auditverify *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* failf_keep - prefix the reason set by link_line with the epoch; -1. */
static int
failf_keep(struct auditverify *v, long long epoch)
{
	char why[AUDITVERIFY_WHY_MAX];

	(void) memcpy(why, v->why, sizeof(why));
	return failf(v, "epoch %lld: %s", epoch, why);
}

/*
 * is_fragment - a line of size bytes (non-empty, without its newline) is
 * a proper prefix of the next line (next_size bytes, newline included).
 */
static bool
is_fragment(const char *line, size_t size, const char *next,
    size_t next_size)
{
	return size > 0 && size + 1 < next_size &&
	    memcmp(line, next, size) == 0;
}

/* js_space - skip JSON white space. */
static void
js_space(struct js *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

/* js_value - any JSON value. */
static bool
js_value(struct js *j, int depth)
{
	js_space(j);
	if (j->p >= j->end || depth > DEPTH_MAX)
		return false;
	switch (*j->p) {
	case '{':
		return js_object(j, depth + 1);
	case '[':
		return js_array(j, depth + 1);
	case '"':
		return js_string(j);
	case 't':
		return js_word(j, "true");
	case 'f':
		return js_word(j, "false");
	case 'n':
		return js_word(j, "null");
	default:
		return js_number(j);
	}
}

/* js_object - { "k": value, ... } */
static bool
js_object(struct js *j, int depth)
{
	j->p++;
	js_space(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return true;
	}
	for (;;) {
		js_space(j);
		if (j->p >= j->end || *j->p != '"' || !js_string(j))
			return false;
		js_space(j);
		if (j->p >= j->end || *j->p++ != ':' || !js_value(j, depth))
			return false;
		js_space(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == '}') {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

/* js_array - [ value, ... ] */
static bool
js_array(struct js *j, int depth)
{
	j->p++;
	js_space(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return true;
	}
	for (;;) {
		if (!js_value(j, depth))
			return false;
		js_space(j);
		if (j->p >= j->end)
			return false;
		if (*j->p == ']') {
			j->p++;
			return true;
		}
		if (*j->p++ != ',')
			return false;
	}
}

/* js_string - "..." with the RFC 8259 escapes; no raw control bytes. */
static bool
js_string(struct js *j)
{
	j->p++;
	while (j->p < j->end) {
		unsigned char c;

		/* the common case: plain bytes */
		j->p += auditfields_plain_run(j->p, (size_t)(j->end - j->p));
		if (j->p == j->end)
			return false;
		c = (unsigned char)*j->p++;
		if (c == '"')
			return true;
		if (c < 0x20)
			return false;
		if (c != '\\')
			continue;
		if (j->p >= j->end)
			return false;
		c = (unsigned char)*j->p++;
		if (c == 'u') {
			if (j->end - j->p < 4)
				return false;
			for (int i = 0; i < 4; i++, j->p++)
				if (strchr("0123456789abcdefABCDEF", *j->p) == NULL ||
				    *j->p == '\0')
					return false;
		} else if (strchr("\"\\/bfnrt", c) == NULL || c == '\0')
			return false;
	}
	return false;
}

/* js_number - -?int frac? exp? */
static bool
js_number(struct js *j)
{
	const char *start;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	start = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	if (j->p == start || (*start == '0' && j->p - start > 1))
		return false;
	if (j->p < j->end && *j->p == '.') {
		start = ++j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == start)
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		start = j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == start)
			return false;
	}
	return true;
}

/* js_word - a literal. */
static bool
js_word(struct js *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0)
		return false;
	j->p += n;
	return true;
}
