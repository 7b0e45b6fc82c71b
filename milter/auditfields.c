/*
 * NAME
 *	auditfields - the members of one audit record (a flat JSON object)
 *
 * SYNOPSIS
 *	#include "auditfields.h"
 *
 * DESCRIPTION
 *	One pass over the line: keys and string values are unescaped into
 *	one buffer owned by the struct (at most the line's size plus a NUL
 *	per member), so a parse allocates only when a longer line comes.
 *	\u00NN becomes the byte NN: audit.c writes a control byte or a byte
 *	of invalid UTF-8 that way, so the original bytes come back; other
 *	\uXXXX (never written by audit.c) become UTF-8.  Not a general JSON
 *	reader: a value that is an object or array is skipped by bracket
 *	counting and kept as its text.
 *
 * DIAGNOSTICS
 *	-1 with errno EINVAL (not one object, too many members) or ENOMEM.
 *
 * SEE ALSO
 *	audit.c (the escaper), auditchain.c, simulate.c; RFC 8259
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auditfields.h"

static const char *skip_ws(const char *, const char *);
static const char *string(const char *, const char *, char **, size_t *);
static const char *other(const char *, const char *);
static int	hex4(const char *, unsigned *);
static char	*put_utf8(char *, unsigned);

void
auditfields_init(struct auditfields *af)
{
	memset(af, 0, sizeof(*af));
}

void
auditfields_free(struct auditfields *af)
{
	free(af->buf);
	af->buf = NULL;
	af->size = 0;
	af->n = 0;
}

int
auditfields_parse(struct auditfields *af, const char *line, size_t size)
{
	const char *p = line, *end = line + size, *v;
	char *o;
	struct auditfield *m;
	size_t need = size + AUDITFIELDS_MAX * 2 + 1;

	af->n = af->cursor = 0;
	if (af->size < need) {
		free(af->buf);
		if ((af->buf = malloc(need)) == NULL) {
			af->size = 0;
			errno = ENOMEM;
			return -1;
		}
		af->size = need;
	}
	o = af->buf;
	errno = EINVAL;
	if ((p = skip_ws(p, end)) == end || *p++ != '{')
		return -1;
	if ((p = skip_ws(p, end)) < end && *p == '}')
		return skip_ws(p + 1, end) == end ? 0 : -1;
	for (;;) {
		if (af->n == AUDITFIELDS_MAX)
			return -1;
		m = &af->f[af->n];
		if ((p = skip_ws(p, end)) == end || *p != '"')
			return -1;
		m->key = o;
		if ((p = string(p, end, &o, &m->key_len)) == NULL)
			return -1;
		if ((p = skip_ws(p, end)) == end || *p++ != ':')
			return -1;
		if ((p = skip_ws(p, end)) == end)
			return -1;
		m->value = o;
		if (*p == '"') {
			m->kind = AUDITFIELD_STRING;
			if ((p = string(p, end, &o, &m->len)) == NULL)
				return -1;
		} else {
			v = p;
			if (*p == '{' || *p == '[') {
				m->kind = AUDITFIELD_OTHER;
				p = other(p, end);
			} else {
				while (p < end && *p != ',' && *p != '}' &&
				    *p != ' ' && *p != '\t')
					p++;
				m->kind = AUDITFIELD_NUMBER;
				if (p - v == 4 && memcmp(v, "true", 4) == 0)
					m->kind = AUDITFIELD_TRUE;
				else if (p - v == 5 && memcmp(v, "false", 5) == 0)
					m->kind = AUDITFIELD_FALSE;
				else if (p - v == 4 && memcmp(v, "null", 4) == 0)
					m->kind = AUDITFIELD_NULL;
				else if (p == v || !(*v == '-' ||
				    (*v >= '0' && *v <= '9')))
					return -1;
			}
			if (p == NULL)
				return -1;
			m->len = (size_t)(p - v);
			(void) memcpy(o, v, m->len);
			o += m->len;
			*o++ = '\0';
		}
		af->n++;
		if ((p = skip_ws(p, end)) == end)
			return -1;
		if (*p == '}')
			break;
		if (*p++ != ',')
			return -1;
	}
	return skip_ws(p + 1, end) == end ? 0 : -1;
}

size_t
auditfields_plain_run(const char *p, size_t size)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
	uint64_t w, q, b;
	size_t i = 0;

	for (; i + 8 <= size; i += 8) {	/* eight bytes at a time */
		memcpy(&w, p + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
		    ((b - ones) & ~b)) & highs)
			break;		/* one of them is in these eight */
	}
	while (i < size && (unsigned char)p[i] >= 0x20 && p[i] != '"' &&
	    p[i] != '\\')
		i++;
	return i;
}

const struct auditfield *
auditfields_get(struct auditfields *af, const char *key)
{
	size_t len = strlen(key), i = af->cursor;

	for (size_t k = 0; k < af->n; k++, i++) {
		if (i == af->n)
			i = 0;
		if (af->f[i].key_len == len && af->f[i].key[0] == key[0] &&
		    memcmp(af->f[i].key, key, len) == 0) {
			af->cursor = i + 1 < af->n ? i + 1 : 0;
			return &af->f[i];
		}
	}
	return NULL;
}

const char *
auditfields_str(struct auditfields *af, const char *key)
{
	const struct auditfield *m = auditfields_get(af, key);

	return m != NULL && m->kind == AUDITFIELD_STRING ? m->value : NULL;
}

int
auditfields_bool(struct auditfields *af, const char *key)
{
	const struct auditfield *m = auditfields_get(af, key);

	if (m == NULL || (m->kind != AUDITFIELD_TRUE &&
	    m->kind != AUDITFIELD_FALSE))
		return -1;
	return m->kind == AUDITFIELD_TRUE;
}

/* skip_ws - past JSON whitespace. */
static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
	    *p == '\n'))
		p++;
	return p;
}

/*
 * string - the string at p (at its '"'), unescaped to *o with a NUL
 * after it; *o moves past the NUL; its length in *len.  The end of the
 * string in the line, or NULL.
 */
static const char *
string(const char *p, const char *end, char **o, size_t *len)
{
	char *w = *o;
	unsigned cp, lo;

	for (p++; p < end && *p != '"'; p++) {
		const char *run = p;

		p += auditfields_plain_run(p, (size_t)(end - p));
		if (p > run) {		/* a run of plain bytes at once */
			memcpy(w, run, (size_t)(p - run));
			w += p - run;
		}
		if (p == end || *p == '"')
			break;
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (++p == end)
			return NULL;
		switch (*p) {
		case '"': case '\\': case '/':
			*w++ = *p;
			break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u':
			if (end - p < 5 || hex4(p + 1, &cp) == -1)
				return NULL;
			p += 4;
			if (cp < 0x100) {	/* audit.c's form of a byte */
				*w++ = (char)cp;
				break;
			}
			if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 7 &&
			    p[1] == '\\' && p[2] == 'u' &&
			    hex4(p + 3, &lo) == 0 && lo >= 0xdc00 &&
			    lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			}
			w = put_utf8(w, cp);
			break;
		default:
			return NULL;
		}
	}
	if (p == end)
		return NULL;
	if (len != NULL)
		*len = (size_t)(w - *o);
	*w++ = '\0';
	*o = w;
	return p + 1;
}

/* other - past an object or array (strings inside respected), or NULL. */
static const char *
other(const char *p, const char *end)
{
	int depth = 0;
	bool in_string = false;

	for (; p < end; p++) {
		if (in_string) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_string = false;
		} else if (*p == '"')
			in_string = true;
		else if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
	}
	return NULL;
}

/* hex4 - four hex digits. */
static int
hex4(const char *p, unsigned *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*out <<= 4;
		if (c >= '0' && c <= '9')
			*out |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*out |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*out |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* put_utf8 - code point cp (>= 0x100) as UTF-8; the end. */
static char *
put_utf8(char *w, unsigned cp)
{
	if (cp < 0x800) {
		*w++ = (char)(0xc0 | (cp >> 6));
	} else if (cp < 0x10000) {
		*w++ = (char)(0xe0 | (cp >> 12));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
	} else {
		*w++ = (char)(0xf0 | (cp >> 18));
		*w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
	}
	*w++ = (char)(0x80 | (cp & 0x3f));
	return w;
}
