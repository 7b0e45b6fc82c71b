/*
 * NAME
 *	countmap - counts by byte-string key, in the order keys first came
 *
 * SYNOPSIS
 *	#include "countmap.h"
 *
 * DESCRIPTION
 *	Open addressing with linear probing over an index of slots; the
 *	entries themselves live in an array in the order they were made,
 *	which the index points into, so growing moves no key and a dump is
 *	in first-seen order.  The index is kept at most three quarters
 *	full.  The hash mixes eight bytes at a time.  Owns its keys; values
 *	are the caller's until countmap_free() is given their free function.
 *	One thread at a time.
 *
 * DIAGNOSTICS
 *	countmap_add() returns NULL when out of memory; nothing is logged.
 *
 * SEE ALSO
 *	auditagg.c (the report's counts)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "countmap.h"

static uint64_t	hash(const char *, size_t);
static int	grow(struct countmap *);

struct countmap_entry *
countmap_find(struct countmap *m, const char *key, size_t len)
{
	uint64_t h = hash(key, len);
	struct countmap_entry *e;

	if (m->cap == 0)
		return NULL;
	for (size_t i = h & (m->cap - 1); m->idx[i] != 0;
	    i = (i + 1) & (m->cap - 1)) {
		e = &m->e[m->idx[i] - 1];
		if (e->hash == h && e->len == len &&
		    memcmp(e->key, key, len) == 0)
			return e;
	}
	return NULL;
}

struct countmap_entry *
countmap_add(struct countmap *m, const char *key, size_t len,
    unsigned long n)
{
	struct countmap_entry *e;
	size_t i;

	if ((e = countmap_find(m, key, len)) != NULL) {
		e->n += n;
		return e;
	}
	if (grow(m) == -1)
		return NULL;
	e = &m->e[m->n];
	if ((e->key = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	e->len = len;
	e->hash = hash(key, len);
	e->n = n;
	e->value = NULL;
	for (i = e->hash & (m->cap - 1); m->idx[i] != 0;
	    i = (i + 1) & (m->cap - 1))
		;
	m->idx[i] = ++m->n;
	return e;
}

void
countmap_free(struct countmap *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].key);
		if (free_value != NULL && m->e[i].value != NULL)
			free_value(m->e[i].value);
	}
	free(m->e);
	free(m->idx);
	*m = (struct countmap){ .e = NULL };
}

/* grow - room for one more entry; 0, or -1 (no memory). */
static int
grow(struct countmap *m)
{
	size_t cap = m->cap != 0 ? m->cap * 2 : 64, *idx, i;
	struct countmap_entry *e;

	if (m->n + 1 <= m->cap / 4 * 3)
		return 0;
	if ((e = realloc(m->e, cap / 4 * 3 * sizeof(*e))) == NULL)
		return -1;
	m->e = e;
	if ((idx = calloc(cap, sizeof(*idx))) == NULL)
		return -1;
	for (size_t k = 0; k < m->n; k++) {
		for (i = m->e[k].hash & (cap - 1); idx[i] != 0;
		    i = (i + 1) & (cap - 1))
			;
		idx[i] = k + 1;
	}
	free(m->idx);
	m->idx = idx;
	m->cap = cap;
	return 0;
}

/* hash - of the key, eight bytes at a time (a multiply-xorshift mix). */
static uint64_t
hash(const char *key, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, key + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (w = 0; i < len; i++)
		w = (w << 8) | (unsigned char)key[i];
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}
