/*
 * NAME
 *	auditagg - the report's per-record aggregation of audit lines
 *
 * SYNOPSIS
 *	#include "auditagg.h"
 *
 * DESCRIPTION
 *	The per-record half of tlspolicy-report(1), next to the verifier so
 *	that one pass over the files does both.  Each line either counts
 *	here or is handed over as it is ("raw"): a line counts here only
 *	when the report's own reader would see exactly what auditfields.c
 *	read, i.e. it is printable ASCII with no backslash, begins with
 *	"{", parsed as one flat object, and every number in it is a plain
 *	integer of at most 18 digits.  Its member list (names and JSON types)
 *	is checked once per distinct list, as the report does (a member of
 *	the wrong type, no "time", no "v", a member named twice: the last is
 *	handed over), and remembered with where the members the report uses
 *	are; then the values are checked (counts in range, the time a UTC
 *	RFC 3339 time with milliseconds on a calendar date).
 *
 *	A record that passes adds 1 to a count keyed by (its member list's
 *	counted members, its hour, their values): memory grows with
 *	listeners, hours and distinct values, never with records.  Records
 *	of the period and listeners asked for are counted; policy and seal
 *	records are reported whatever the period.  What the report lists in
 *	order (malformed lines, exceptions, exposures, policies, seals) is
 *	emitted in line order, as far as the report keeps it.
 *
 *	The aggregator owns all it allocates; strings given to it are
 *	borrowed for the call.  One thread at a time.
 *
 * DIAGNOSTICS
 *	-1 from a function: no memory, or the emit function failed; the
 *	aggregator is then sticky-failed.  Nothing is logged.
 *
 * SEE ALSO
 *	auditfields.c (the parse), verifytool.c (the pass over the files),
 *	report/tlspolicy-report (Tally, the state this produces)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditagg.h"
#include "auditfields.h"
#include "countmap.h"
#include "strbuf.h"

/* The members the aggregation reads; the first FACTS_N are counted by. */
enum mem {
	M_TYPE, M_LISTENER, M_DAEMON_PORT, M_TLS, M_TLS_VERSION, M_CIPHER,
	M_AUTH, M_MAILS, M_RULE, M_OUTCOME, M_EXPOSURE,
	M_TIME, M_V, M_EPOCH, M_REASON, M_POLICY, M_EVENT, M_TEXT,
	M_CLIENT_ADDR, M_AUTH_AUTHEN, M_HELO, M_HELOS,
	M_N
};
#define FACTS_N		(M_EXPOSURE + 1)

static const char *const mem_names[M_N] = {
	"type", "listener", "daemon_port", "tls", "tls_version", "cipher",
	"auth", "mails", "rule", "outcome", "exposure",
	"time", "v", "epoch", "reason", "policy", "event", "text",
	"client_addr", "auth_authen", "helo", "helos",
};

/* JSON types, as bits: what a member may be (the report's SCHEMA). */
enum { T_STR = 1, T_INT = 2, T_BOOL = 4, T_NULL = 8 };

static const struct {
	const char	*name;
	unsigned	 types;
} schema[] = {
	{ "v", T_INT }, { "time", T_STR }, { "session", T_STR },
	{ "type", T_STR }, { "started", T_STR }, { "queue_id", T_STR },
	{ "client_addr", T_STR }, { "client_port", T_STR },
	{ "listener", T_STR }, { "daemon_name", T_STR },
	{ "daemon_addr", T_STR }, { "daemon_port", T_STR },
	{ "tls", T_BOOL }, { "tls_version", T_STR }, { "cipher", T_STR },
	{ "cipher_bits", T_INT | T_STR }, { "cert_subject", T_STR },
	{ "cert_issuer", T_STR }, { "verify", T_STR }, { "auth", T_BOOL },
	{ "auth_type", T_STR }, { "auth_authen", T_STR }, { "rule", T_STR },
	{ "action", T_STR }, { "outcome", T_STR }, { "reply", T_STR },
	{ "mode", T_STR }, { "exposure", T_BOOL }, { "trusted", T_BOOL },
	{ "reason", T_STR }, { "helos", T_INT }, { "mails", T_INT },
	{ "mta_version", T_STR }, { "facts_problem", T_STR },
	{ "prev", T_STR }, { "hash", T_STR }, { "event", T_STR },
	{ "helo", T_STR }, { "auth_before_tls", T_BOOL },
	{ "sender", T_STR }, { "sender_domain", T_STR }, { "policy", T_STR },
	{ "text", T_STR }, { "closed_by", T_STR }, { "epoch", T_INT },
	{ "records", T_INT }, { "from", T_STR }, { "head", T_STR },
};

/* A member list, checked once: why it is malformed, or where things are. */
struct shape {
	char		*why;		/* owned; NULL: a good shape */
	bool		 is_raw;	/* hand its records over (a name twice) */
	unsigned	 mask;		/* FACTS present, bit per enum mem */
	char		 mask_text[16];	/* "mask," */
	int		 pos[M_N];	/* index in the record, or -1 */
};

struct auditagg {
	struct auditagg_opts	 o;
	auditagg_emit_fn	 emit;
	void			*arg;
	bool			 has_failed;
	struct strbuf		 out;		/* the event being built */
	struct strbuf		 key;		/* a map key being built */
	struct countmap		 shapes;
	/* per file */
	unsigned long		 n_lines, n_records, n_outside, n_bad;
	unsigned long		 n_exposures, n_policies, n_sealed;
	struct countmap		 bad_why, compact, would, exceptions;
	char			 first[32], last[32];	/* "" until a record */
	char			*texts[AUDITAGG_KEEP_TEXTS];	/* fingerprints */
	size_t			 n_texts;
};

static int	line_raw(struct auditagg *, const char *, size_t);
static int	line_bad(struct auditagg *, const char *);
static bool	is_plain(const char *, size_t, struct auditfields *);
static bool	is_int(const char *, size_t, long long *);
static struct shape *shape_of(struct auditagg *, struct auditfields *);
static struct shape *shape_new(struct auditfields *);
static int	record(struct auditagg *, struct auditfields *,
		    const struct shape *);
static const char *values_why(struct auditfields *, const struct shape *);
static bool	is_time(const char *, size_t);
static int	sealing(struct auditagg *, struct auditfields *,
		    const struct shape *, bool *);
static int	policy(struct auditagg *, struct auditfields *,
		    const struct shape *);
static bool	is_counted(struct auditagg *, const char *, const char *);
static int	rare(struct auditagg *, struct auditfields *,
		    const struct shape *);
static const char *expected(unsigned);
static int	row(struct auditagg *, struct auditfields *,
		    const struct shape *, const char *, const char *);
static int	count_compact(struct auditagg *, struct auditfields *,
		    const struct shape *, const char *);
static int	flush_sealed(struct auditagg *);
static int	send(struct auditagg *);
static int	put_value(struct strbuf *, const struct auditfield *);
static int	put_str(struct strbuf *, const char *);
static const char *get(struct auditfields *, const struct shape *,
		    enum mem, const char *);
static int	dump(struct auditagg *, struct countmap *, const char *);
static void	shape_free(void *);
static void	file_reset(struct auditagg *);

struct auditagg *
auditagg_new(const struct auditagg_opts *opts, auditagg_emit_fn emit,
    void *arg)
{
	struct auditagg *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	a->o = *opts;
	a->emit = emit;
	a->arg = arg;
	strbuf_init(&a->out, (size_t)1 << 30);
	strbuf_init(&a->key, AUDITAGG_LINE_MAX);
	return a;
}

void
auditagg_free(struct auditagg **ap)
{
	struct auditagg *a = *ap;

	if (a == NULL)
		return;
	file_reset(a);
	countmap_free(&a->shapes, shape_free);
	strbuf_free(&a->out);
	strbuf_free(&a->key);
	free(a);
	*ap = NULL;
}

int
auditagg_begin(struct auditagg *a, unsigned long index)
{
	if (a->has_failed)
		return -1;
	file_reset(a);
	strbuf_reset(&a->out);
	return strbuf_printf(&a->out, "{\"file\":%lu}", index) == -1 ? -1 :
	    send(a);
}

int
auditagg_line(struct auditagg *a, const char *line, size_t size,
    bool is_whole, struct auditfields *af)
{
	struct shape *s;

	if (a->has_failed)
		return -1;
	a->n_lines++;
	if (size > AUDITAGG_LINE_MAX)
		return line_bad(a, "line longer than 1048576 bytes");
	if (!is_whole)
		return line_bad(a, "truncated line (no newline at end of file)");
	if (af == NULL || !is_plain(line, size, af))
		return line_raw(a, line, size);
	if ((s = shape_of(a, af)) == NULL)
		return a->has_failed = true, -1;
	if (s->is_raw)
		return line_raw(a, line, size);
	if (s->why != NULL)
		return line_bad(a, s->why);
	return record(a, af, s);
}

bool
auditagg_has_failed(const struct auditagg *a)
{
	return a->has_failed;
}

int
auditagg_end(struct auditagg *a)
{
	if (a->has_failed || flush_sealed(a) == -1 ||
	    dump(a, &a->bad_why, "bad_why") == -1 ||
	    dump(a, &a->compact, "compact") == -1 ||
	    dump(a, &a->would, "would") == -1 ||
	    dump(a, &a->exceptions, "exceptions") == -1)
		return -1;
	strbuf_reset(&a->out);
	if (strbuf_printf(&a->out, "{\"end\":{\"lines\":%lu,\"records\":%lu,"
	    "\"outside\":%lu,\"bad\":%lu,\"exposures\":%lu,\"first\":",
	    a->n_lines, a->n_records, a->n_outside, a->n_bad,
	    a->n_exposures) == -1 ||
	    (a->first[0] != '\0' ? put_str(&a->out, a->first) :
	    strbuf_puts(&a->out, "null")) == -1 ||
	    strbuf_puts(&a->out, ",\"last\":") == -1 ||
	    (a->last[0] != '\0' ? put_str(&a->out, a->last) :
	    strbuf_puts(&a->out, "null")) == -1 ||
	    strbuf_puts(&a->out, "}}") == -1)
		return a->has_failed = true, -1;
	if (send(a) == -1)
		return -1;
	file_reset(a);
	return 0;
}

/* line_raw - hand the line over as it is: bytes as U+0000..U+00FF. */
static int
line_raw(struct auditagg *a, const char *line, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char *w;

	if (flush_sealed(a) == -1)
		return -1;
	strbuf_reset(&a->out);
	if (strbuf_printf(&a->out, "{\"raw\":%lu,\"text\":\"", a->n_lines) ==
	    -1 || (w = strbuf_space(&a->out, size * 6 + 2)) == NULL)
		return a->has_failed = true, -1;
	for (size_t i = 0; i < size; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			*w++ = (char)c;
		else if (c == '"' || c == '\\') {
			*w++ = '\\';
			*w++ = (char)c;
		} else {
			memcpy(w, "\\u00", 4);
			w[4] = hex[c >> 4];
			w[5] = hex[c & 15];
			w += 6;
		}
	}
	*w++ = '"';
	*w++ = '}';
	strbuf_commit(&a->out, (size_t)(w - (a->out.data + a->out.len)));
	return send(a);
}

/* line_bad - a malformed line: counted by why, the first ones listed. */
static int
line_bad(struct auditagg *a, const char *why)
{
	strbuf_reset(&a->key);
	if (put_str(&a->key, why) == -1 ||
	    countmap_add(&a->bad_why, a->key.data, a->key.len, 1) == NULL)
		return a->has_failed = true, -1;
	if (a->n_bad++ >= AUDITAGG_KEEP_BAD)
		return 0;
	strbuf_reset(&a->out);
	if (strbuf_printf(&a->out, "{\"bad\":[%lu,", a->n_lines) == -1 ||
	    put_str(&a->out, why) == -1 || strbuf_puts(&a->out, "]}") == -1)
		return a->has_failed = true, -1;
	return send(a);
}

/*
 * is_plain - the line reads the same to any JSON reader as it did to
 * auditfields: printable ASCII, no escape, an object from its first
 * byte, every number a plain integer.
 */
static bool
is_plain(const char *line, size_t size, struct auditfields *af)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones * 0x80;
	uint64_t w, b;
	size_t i = 0;

	if (size == 0 || line[0] != '{')
		return false;
	for (; i + 8 <= size; i += 8) {	/* eight bytes at a time */
		memcpy(&w, line + i, 8);
		b = w ^ (ones * '\\');
		if ((((w - ones * 0x20) & ~w) | (w | (w + ones)) |
		    ((b - ones) & ~b)) & highs)
			return false;	/* control, DEL, not ASCII, '\\' */
	}
	for (; i < size; i++)
		if ((unsigned char)line[i] < 0x20 ||
		    (unsigned char)line[i] > 0x7e || line[i] == '\\')
			return false;
	for (size_t k = 0; k < af->n; k++) {
		if (af->f[k].kind == AUDITFIELD_OTHER)
			return false;
		if (af->f[k].kind == AUDITFIELD_NUMBER &&
		    !is_int(af->f[k].value, af->f[k].len, NULL))
			return false;
	}
	return true;
}

/* is_int - -?(0|[1-9][0-9]*), at most 18 digits; its value in *v. */
static bool
is_int(const char *s, size_t len, long long *v)
{
	size_t i = s[0] == '-' ? 1 : 0, digits = len - i;
	long long n = 0;

	if (digits == 0 || digits > 18 || (s[i] == '0' && digits > 1))
		return false;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		n = n * 10 + (s[i] - '0');
	}
	if (v != NULL)
		*v = s[0] == '-' ? -n : n;
	return true;
}

/* shape_of - the remembered shape of the record's member list, or NULL. */
static struct shape *
shape_of(struct auditagg *a, struct auditfields *af)
{
	static const char kinds[] = "sntfzo";
	struct countmap_entry *e;

	size_t size = 0;
	char *w;

	for (size_t i = 0; i < af->n; i++)
		size += af->f[i].key_len + 2;
	strbuf_reset(&a->key);
	if ((w = strbuf_space(&a->key, size)) == NULL)
		return NULL;
	for (size_t i = 0; i < af->n; i++) {	/* name, NUL, its kind */
		memcpy(w, af->f[i].key, af->f[i].key_len + 1);
		w += af->f[i].key_len + 1;
		*w++ = kinds[af->f[i].kind];
	}
	strbuf_commit(&a->key, size);
	if ((e = countmap_find(&a->shapes, a->key.data, a->key.len)) != NULL)
		return e->value;
	if (a->shapes.n >= AUDITAGG_SHAPES_MAX)	/* as the report: forget */
		countmap_free(&a->shapes, shape_free);
	if ((e = countmap_add(&a->shapes, a->key.data, a->key.len, 1)) == NULL ||
	    (e->value = shape_new(af)) == NULL)
		return NULL;
	return e->value;
}

/* shape_new - check a member list as the report's check_shape() does. */
static struct shape *
shape_new(struct auditfields *af)
{
	static const char *const type_names[] = { "string", "number",
	    "true/false", "true/false", "null" };
	static const unsigned type_bits[] = { T_STR, T_INT, T_BOOL, T_BOOL,
	    T_NULL };
	struct shape *s;
	char why[512];

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	for (int m = 0; m < M_N; m++)
		s->pos[m] = -1;
	why[0] = '\0';
	for (size_t i = 0; i < af->n; i++) {
		const struct auditfield *f = &af->f[i];

		for (size_t k = 0; k < i; k++)
			if (strcmp(af->f[k].key, f->key) == 0)
				s->is_raw = true;	/* a name twice */
		for (int m = 0; m < M_N; m++)
			if (strcmp(f->key, mem_names[m]) == 0) {
				s->pos[m] = (int)i;
				if (m < FACTS_N)
					s->mask |= 1U << m;
			}
		for (size_t k = 0; why[0] == '\0' &&
		    k < sizeof(schema) / sizeof(schema[0]); k++)
			if (strcmp(f->key, schema[k].name) == 0 &&
			    (schema[k].types & type_bits[f->kind]) == 0)
				(void) snprintf(why, sizeof(why), "member %s is"
				    " %s, expected %s", f->key,
				    type_names[f->kind], expected(schema[k].types));
	}
	(void) snprintf(s->mask_text, sizeof(s->mask_text), "%u,", s->mask);
	if (why[0] == '\0' && s->pos[M_TIME] == -1)
		(void) snprintf(why, sizeof(why), "no time");
	else if (why[0] == '\0' && s->pos[M_V] == -1)
		(void) snprintf(why, sizeof(why), "no format version (v)");
	if (why[0] != '\0' && (s->why = strdup(why)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

/* expected - the report's words for the JSON types a member may have. */
static const char *
expected(unsigned types)
{
	switch (types) {
	case T_INT:
		return "number";
	case T_BOOL:
		return "true/false";
	case T_INT | T_STR:
		return "number or string";
	default:
		return "string";
	}
}

/* record - a record of a good shape: check its values, count it. */
static int
record(struct auditagg *a, struct auditfields *af, const struct shape *s)
{
	const char *why, *t = af->f[s->pos[M_TIME]].value;
	bool is_seal = false;

	if ((why = values_why(af, s)) != NULL)
		return line_bad(a, why);
	if (sealing(a, af, s, &is_seal) == -1 || is_seal)
		return a->has_failed ? -1 : 0;
	if (strcmp(get(af, s, M_TYPE, ""), "policy") == 0 &&
	    policy(a, af, s) == -1)
		return -1;
	if (!is_counted(a, t, get(af, s, M_LISTENER, "default"))) {
		a->n_outside++;
		return 0;
	}
	a->n_records++;
	if (a->first[0] == '\0' || strcmp(t, a->first) < 0)
		(void) snprintf(a->first, sizeof(a->first), "%s", t);
	if (a->last[0] == '\0' || strcmp(t, a->last) > 0)
		(void) snprintf(a->last, sizeof(a->last), "%s", t);
	if (rare(a, af, s) == -1)
		return -1;
	return count_compact(a, af, s, t);
}

/* values_why - why the values of a record are malformed, or NULL. */
static const char *
values_why(struct auditfields *af, const struct shape *s)
{
	static const enum mem ranged[] = { M_MAILS, M_HELOS };
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31,
	    31, 30, 31, 30, 31 };
	const struct auditfield *t = &af->f[s->pos[M_TIME]];
	int pos[2] = { s->pos[ranged[0]], s->pos[ranged[1]] };
	int y, mo, d;
	long long v;

	if (pos[0] > pos[1]) {		/* in the record's order */
		int p = pos[0];

		pos[0] = pos[1];
		pos[1] = p;
	}
	for (int k = 0; k < 2; k++)
		if (pos[k] >= 0 && af->f[pos[k]].kind == AUDITFIELD_NUMBER &&
		    is_int(af->f[pos[k]].value, af->f[pos[k]].len, &v) &&
		    (v < 0 || v > 0xffffffffLL))
			return strcmp(af->f[pos[k]].key, "mails") == 0 ?
			    "member mails is out of range" :
			    "member helos is out of range";
	if (!is_time(t->value, t->len))
		return "time is not UTC RFC 3339 with milliseconds";
	y = atoi(t->value);
	mo = atoi(t->value + 5);
	d = atoi(t->value + 8);
	if (y < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 &&
	    (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0))))
		return "time is not a calendar date";
	return NULL;
}

/* is_time - YYYY-MM-DDTHH:MM:SS.mmmZ with months, days, hours in range. */
static bool
is_time(const char *t, size_t len)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	if (len != sizeof(pat) - 1)
		return false;
	for (size_t i = 0; i < len; i++)
		if (pat[i] == 'd' ? t[i] < '0' || t[i] > '9' : t[i] != pat[i])
			return false;
	return (t[5] == '0' ? t[6] != '0' : t[5] == '1' && t[6] <= '2') &&
	    (t[8] == '0' ? t[9] != '0' : t[8] < '3' || (t[8] == '3' &&
	    t[9] <= '1')) &&
	    (t[11] < '2' || (t[11] == '2' && t[12] <= '3')) &&
	    t[14] <= '5' && t[17] <= '5';
}

/*
 * sealing - a sealed record's part in the seal coverage: a seal is
 * emitted (*is_seal), a sealed record counted; a bad epoch or a seal
 * without one is malformed (*is_seal: nothing more to do).
 */
static int
sealing(struct auditagg *a, struct auditfields *af, const struct shape *s,
    bool *is_seal)
{
	bool is_seal_type = strcmp(get(af, s, M_TYPE, ""), "seal") == 0;
	long long epoch;

	if (s->pos[M_EPOCH] < 0) {
		if (!is_seal_type)
			return 0;
		*is_seal = true;
		return line_bad(a, "seal record without epoch");
	}
	(void) is_int(af->f[s->pos[M_EPOCH]].value,
	    af->f[s->pos[M_EPOCH]].len, &epoch);
	if (epoch < 0) {
		*is_seal = true;
		return line_bad(a, "member epoch is out of range");
	}
	if (!is_seal_type) {
		a->n_sealed++;
		return 0;
	}
	*is_seal = true;
	if (flush_sealed(a) == -1)
		return -1;
	strbuf_reset(&a->out);
	if (strbuf_printf(&a->out, "{\"seal\":[%lld,", epoch) == -1 ||
	    put_str(&a->out, get(af, s, M_REASON, "?")) == -1 ||
	    strbuf_puts(&a->out, "]}") == -1)
		return a->has_failed = true, -1;
	return send(a);
}

/* policy - a policy record: when which policy came into force, its text. */
static int
policy(struct auditagg *a, struct auditfields *af, const struct shape *s)
{
	const char *fp = get(af, s, M_POLICY, "?");
	bool is_new = a->n_texts < AUDITAGG_KEEP_TEXTS;

	for (size_t i = 0; is_new && i < a->n_texts; i++)
		is_new = strcmp(a->texts[i], fp) != 0;
	if (a->n_policies >= AUDITAGG_KEEP_LIST && !is_new)
		return 0;
	a->n_policies++;
	if (is_new && (a->texts[a->n_texts++] = strdup(fp)) == NULL)
		return a->has_failed = true, -1;
	strbuf_reset(&a->out);
	if (strbuf_puts(&a->out, "{\"policy\":[") == -1 ||
	    put_str(&a->out, af->f[s->pos[M_TIME]].value) == -1 ||
	    strbuf_putc(&a->out, ',') == -1 ||
	    put_str(&a->out, get(af, s, M_EVENT, "?")) == -1 ||
	    strbuf_putc(&a->out, ',') == -1 || put_str(&a->out, fp) == -1 ||
	    strbuf_puts(&a->out, "],\"text\":") == -1 ||
	    put_str(&a->out, get(af, s, M_TEXT, "")) == -1 ||
	    strbuf_putc(&a->out, '}') == -1)
		return a->has_failed = true, -1;
	return send(a);
}

/* is_counted - a record of the period and the listeners asked for. */
static bool
is_counted(struct auditagg *a, const char *t, const char *listener)
{
	size_t i;

	if ((a->o.t_from != NULL && strcmp(t, a->o.t_from) < 0) ||
	    (a->o.t_to != NULL && strcmp(t, a->o.t_to) > 0))
		return false;
	for (i = 0; i < a->o.n_listeners; i++)
		if (strcmp(a->o.listeners[i], listener) == 0)
			break;
	return a->o.n_listeners == 0 || i < a->o.n_listeners;
}

/*
 * rare - the report's slow path: exposures, report-mode refusals by
 * (client, user, listener, rule), exceptions per listener.
 */
static int
rare(struct auditagg *a, struct auditfields *af, const struct shape *s)
{
	const char *kind = get(af, s, M_TYPE, "decision");
	const char *rule = get(af, s, M_RULE, "?");
	const char *outcome = get(af, s, M_OUTCOME, "?");
	const char *name = get(af, s, M_LISTENER, "default");
	bool exposed = strcmp(kind, "credential-exposure") == 0 ||
	    (s->pos[M_EXPOSURE] >= 0 &&
	    af->f[s->pos[M_EXPOSURE]].kind == AUDITFIELD_TRUE);
	bool is_would = strcmp(outcome, "would-reject") == 0;
	bool is_plain_accept = strcmp(outcome, "accept") == 0 &&
	    s->pos[M_OUTCOME] >= 0 && strcmp(rule, "none") == 0 &&
	    s->pos[M_RULE] >= 0;

	if ((strcmp(kind, "decision") != 0 &&
	    strcmp(kind, "credential-exposure") != 0) ||
	    (!exposed && is_plain_accept) || (!exposed &&
	    (strcmp(outcome, "reject") == 0 ||
	    strcmp(outcome, "tempfail") == 0)))
		return 0;
	if (exposed && a->n_exposures++ < AUDITAGG_KEEP_LIST &&
	    row(a, af, s, NULL, "credential exposure") == -1)
		return -1;
	if (is_would) {
		strbuf_reset(&a->key);
		if (put_str(&a->key, get(af, s, M_CLIENT_ADDR, "-")) == -1 ||
		    strbuf_putc(&a->key, ',') == -1 ||
		    put_str(&a->key, get(af, s, M_AUTH_AUTHEN, "-")) == -1 ||
		    strbuf_putc(&a->key, ',') == -1 ||
		    put_str(&a->key, name) == -1 ||
		    strbuf_putc(&a->key, ',') == -1 ||
		    put_str(&a->key, rule) == -1 ||
		    countmap_add(&a->would, a->key.data, a->key.len, 1) == NULL)
			return a->has_failed = true, -1;
	}
	if (!exposed && !is_would && (strcmp(outcome, "accept") != 0 ||
	    strcmp(rule, "none") == 0 || strcmp(rule, "?") == 0))
		return 0;
	return row(a, af, s, name, exposed ? "credential exposure" :
	    is_would ? "mail let through (report mode)" : NULL);
}

/*
 * row - an exception (name given) or an exposure (name NULL) row, as
 * the report's summary() has it; why NULL: the rule that failed.
 */
static int
row(struct auditagg *a, struct auditfields *af, const struct shape *s,
    const char *name, const char *why)
{
	const char *tls = s->pos[M_TLS] >= 0 &&
	    af->f[s->pos[M_TLS]].kind == AUDITFIELD_TRUE ?
	    get(af, s, M_TLS_VERSION, "-") : "plaintext";
	const char *rule = get(af, s, M_RULE, "?");
	struct countmap_entry *e = NULL;

	if (name != NULL) {
		strbuf_reset(&a->key);
		if (put_str(&a->key, name) == -1 ||
		    (e = countmap_add(&a->exceptions,
		    a->key.data, a->key.len, 1)) == NULL)
			return a->has_failed = true, -1;
		if (e->n > AUDITAGG_KEEP_LIST)
			return 0;
	}
	strbuf_reset(&a->out);
	if ((name != NULL ? strbuf_puts(&a->out, "{\"exception\":[") == -1 ||
	    put_str(&a->out, name) == -1 || strbuf_putc(&a->out, ',') == -1 :
	    strbuf_puts(&a->out, "{\"exposure\":") == -1) ||
	    strbuf_puts(&a->out, "{\"time\":") == -1 ||
	    put_str(&a->out, af->f[s->pos[M_TIME]].value) == -1 ||
	    strbuf_puts(&a->out, ",\"client\":") == -1 ||
	    put_str(&a->out, get(af, s, M_CLIENT_ADDR, "-")) == -1 ||
	    strbuf_puts(&a->out, ",\"helo\":") == -1 ||
	    put_str(&a->out, get(af, s, M_HELO, "-")) == -1 ||
	    strbuf_puts(&a->out, ",\"user\":") == -1 ||
	    put_str(&a->out, get(af, s, M_AUTH_AUTHEN, "-")) == -1 ||
	    strbuf_puts(&a->out, ",\"listener\":") == -1 ||
	    put_str(&a->out, get(af, s, M_LISTENER, "default")) == -1 ||
	    strbuf_puts(&a->out, ",\"rule\":") == -1 ||
	    put_str(&a->out, rule) == -1 ||
	    strbuf_puts(&a->out, ",\"outcome\":") == -1 ||
	    put_str(&a->out, get(af, s, M_OUTCOME, "?")) == -1 ||
	    strbuf_puts(&a->out, ",\"tls_version\":") == -1 ||
	    put_str(&a->out, tls) == -1 ||
	    (why != NULL ? strbuf_printf(&a->out, ",\"why\":\"%s\"}", why) :
	    strbuf_printf(&a->out, ",\"why\":\"mail accepted although rule"
	    " %s failed\"}", rule)) == -1 ||
	    strbuf_puts(&a->out, name != NULL ? "]}" : "}") == -1)
		return a->has_failed = true, -1;
	return send(a);
}

/* count_compact - add 1 to (counted members, hour, their values). */
static int
count_compact(struct auditagg *a, struct auditfields *af,
    const struct shape *s, const char *t)
{
	bool is_first = true;

	strbuf_reset(&a->key);
	if (strbuf_append(&a->key, s->mask_text, strlen(s->mask_text)) == -1 ||
	    strbuf_putc(&a->key, '"') == -1 || strbuf_append(&a->key, t, 13) ==
	    -1 || strbuf_append(&a->key, "\",[", 3) == -1)
		return a->has_failed = true, -1;
	for (int m = 0; m < FACTS_N; m++) {
		if (s->pos[m] < 0)
			continue;
		if ((!is_first && strbuf_putc(&a->key, ',') == -1) ||
		    put_value(&a->key, &af->f[s->pos[m]]) == -1)
			return a->has_failed = true, -1;
		is_first = false;
	}
	if (strbuf_putc(&a->key, ']') == -1 ||
	    countmap_add(&a->compact, a->key.data, a->key.len, 1) == NULL)
		return a->has_failed = true, -1;
	return 0;
}

/* flush_sealed - emit the sealed records counted since the last event. */
static int
flush_sealed(struct auditagg *a)
{
	if (a->n_sealed == 0)
		return 0;
	strbuf_reset(&a->out);
	if (strbuf_printf(&a->out, "{\"sealed\":%lu}", a->n_sealed) == -1)
		return a->has_failed = true, -1;
	a->n_sealed = 0;
	return send(a);
}

/* send - emit the event built in a->out. */
static int
send(struct auditagg *a)
{
	if (a->emit(a->arg, a->out.data, a->out.len) == -1)
		return a->has_failed = true, -1;
	return 0;
}

/* put_value - a member's value as JSON (a plain line's: no escaping). */
static int
put_value(struct strbuf *sb, const struct auditfield *f)
{
	switch (f->kind) {
	case AUDITFIELD_STRING:
		return put_str(sb, f->value);
	case AUDITFIELD_TRUE:
		return strbuf_puts(sb, "true");
	case AUDITFIELD_FALSE:
		return strbuf_puts(sb, "false");
	case AUDITFIELD_NULL:
		return strbuf_puts(sb, "null");
	default:
		return strbuf_append(sb, f->value, f->len);
	}
}

/* put_str - "s": s is from a plain line or ours (nothing to escape). */
static int
put_str(struct strbuf *sb, const char *s)
{
	if (strbuf_putc(sb, '"') == -1 || strbuf_puts(sb, s) == -1)
		return -1;
	return strbuf_putc(sb, '"');
}

/* get - the string value of member m, or dflt (absent; not a string). */
static const char *
get(struct auditfields *af, const struct shape *s, enum mem m,
    const char *dflt)
{
	if (s->pos[m] < 0 || af->f[s->pos[m]].kind != AUDITFIELD_STRING)
		return dflt;
	return af->f[s->pos[m]].value;
}

/*
 * dump - the entries of map as {"NAME":[[KEY,N],...]} events of at most
 * 1000 entries each (KEY: JSON text, or JSON values separated by commas).
 */
static int
dump(struct auditagg *a, struct countmap *m, const char *name)
{
	size_t i = 0, in_event = 0;

	while (i < m->n) {
		strbuf_reset(&a->out);
		if (strbuf_printf(&a->out, "{\"%s\":[", name) == -1)
			return a->has_failed = true, -1;
		for (in_event = 0; i < m->n && in_event < 1000; i++) {
			if (strbuf_puts(&a->out, in_event++ > 0 ? ",[" : "[") ==
			    -1 || strbuf_append(&a->out, m->e[i].key,
			    m->e[i].len) == -1 || strbuf_printf(&a->out,
			    ",%lu]", m->e[i].n) == -1)
				return a->has_failed = true, -1;
		}
		if (strbuf_puts(&a->out, "]}") == -1)
			return a->has_failed = true, -1;
		if (in_event > 0 && send(a) == -1)
			return -1;
	}
	return 0;
}

/* shape_free - countmap_free's function for the shapes. */
static void
shape_free(void *p)
{
	struct shape *s = p;

	free(s->why);
	free(s);
}

/* file_reset - forget the counts of a file. */
static void
file_reset(struct auditagg *a)
{
	countmap_free(&a->bad_why, NULL);
	countmap_free(&a->compact, NULL);
	countmap_free(&a->would, NULL);
	countmap_free(&a->exceptions, NULL);
	for (size_t i = 0; i < a->n_texts; i++)
		free(a->texts[i]);
	a->n_texts = 0;
	a->n_lines = a->n_records = a->n_outside = a->n_bad = 0;
	a->n_exposures = a->n_policies = a->n_sealed = 0;
	a->first[0] = a->last[0] = '\0';
}
