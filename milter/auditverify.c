/*
 * NAME
 *	auditverify - check a hash-chained audit log
 *
 * SYNOPSIS
 *	#include "auditverify.h"
 *
 * DESCRIPTION
 *	Recomputes each record's hash exactly as the sink made it (the line
 *	without ,"hash":"H" and its newline, through audit_chain_hash()) and
 *	checks each record's "prev" against the hash of the record before.
 *	Lines are checked in this order, so the reason names the first
 *	problem: whole line, JSON, chain members, hash, link.  A small JSON
 *	checker (RFC 8259 grammar, nesting depth capped) tells a damaged
 *	line from a changed one.
 *
 * DIAGNOSTICS
 *	-1 with a reason in v->why; the caller adds file and line.
 *
 * SEE ALSO
 *	audit.c, main.c (--verify-audit); docs/audit-format.md
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auditverify.h"

#define DEPTH_MAX	32
#define PREV_MEMBER	",\"prev\":\""
#define HASH_MEMBER	",\"hash\":\""
/* ,"prev":"<hex>","hash":"<hex>"} */
#define TAIL_LEN	(2 * (sizeof(HASH_MEMBER) - 1 + AUDIT_HASH_HEX + 1) + 1)
#define NOT_CHAINED	"not a chained record (no \"v\":2, \"prev\" and" \
			" \"hash\" at the end)"

/* A cursor over the bytes of one JSON text. */
struct js {
	const char	*p;
	const char	*end;
};

static int	fail(struct auditverify *, const char *);
static int	recompute(struct auditverify *, const char *, size_t, char *);
static bool	is_hex(const char *, size_t);
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
}

int
auditverify_line(struct auditverify *v, const char *line, size_t size,
    bool is_whole)
{
	char hash[AUDIT_HASH_HEX + 1];
	const char *prev, *h;

	if (!is_whole)
		return fail(v, "truncated line (no newline at end of file)");
	if (!auditverify_is_json(line, size))
		return fail(v, "not JSON");
	if (size < TAIL_LEN + 7 || strncmp(line, "{\"v\":2,", 7) != 0)
		return fail(v, NOT_CHAINED);
	prev = line + size - TAIL_LEN;
	h = prev + sizeof(PREV_MEMBER) - 1 + AUDIT_HASH_HEX + 1;
	if (strncmp(prev, PREV_MEMBER, sizeof(PREV_MEMBER) - 1) != 0 ||
	    strncmp(h, HASH_MEMBER, sizeof(HASH_MEMBER) - 1) != 0 ||
	    !is_hex(prev + sizeof(PREV_MEMBER) - 1, AUDIT_HASH_HEX) ||
	    !is_hex(h + sizeof(HASH_MEMBER) - 1, AUDIT_HASH_HEX))
		return fail(v, NOT_CHAINED);
	prev += sizeof(PREV_MEMBER) - 1;
	h += sizeof(HASH_MEMBER) - 1;
	if (recompute(v, line, (size_t)(prev - line) + AUDIT_HASH_HEX + 1,
	    hash) == -1)
		return -1;
	if (memcmp(hash, h, AUDIT_HASH_HEX) != 0)
		return fail(v, "hash mismatch (record changed, or wrong key)");
	if (!v->has_head)
		memcpy(v->anchor, prev, AUDIT_HASH_HEX);
	else if (memcmp(v->head, prev, AUDIT_HASH_HEX) != 0)
		return fail(v, "broken link (\"prev\" is not the hash of the"
		    " record before: a record was removed, moved or inserted)");
	memcpy(v->head, hash, sizeof(v->head));
	v->has_head = true;
	v->n_records++;
	return 0;
}

int
auditverify_file(struct auditverify *v, FILE *fp, unsigned long *lineno)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	*lineno = 0;
	while (rc == 0 && (n = getline(&line, &cap, fp)) != -1) {
		bool is_whole = n > 0 && line[n - 1] == '\n';

		++*lineno;
		rc = auditverify_line(v, line, (size_t)n - (is_whole ? 1 : 0),
		    is_whole);
	}
	free(line);
	if (rc == 0 && ferror(fp)) {
		++*lineno;
		return fail(v, "read error");
	}
	return rc;
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

/* recompute - the hash of line[0..n) followed by "}". */
static int
recompute(struct auditverify *v, const char *line, size_t n, char *hash)
{
	char *text;
	int rc;

	if ((text = malloc(n + 1)) == NULL)
		return fail(v, "out of memory");
	memcpy(text, line, n);
	text[n] = '}';
	rc = audit_chain_hash(v->key, v->keylen, text, n + 1, hash);
	free(text);
	return rc == -1 ? fail(v, "cannot compute the hash (OpenSSL)") : 0;
}

/* is_hex - size lowercase hex digits. */
static bool
is_hex(const char *s, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* js_space - skip JSON white space. */
static void
js_space(struct js *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p) != NULL && *j->p != '\0')
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
		unsigned char c = (unsigned char)*j->p++;

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
