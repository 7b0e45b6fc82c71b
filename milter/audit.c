/*
 * NAME
 *	audit - decision records: the syslog line and the JSON audit line
 *
 * SYNOPSIS
 *	#include "audit.h"
 *
 * DESCRIPTION
 *	audit_format_kv() and audit_format_json() turn one decision into one
 *	line.  They are pure (the caller passes the time) and append to a
 *	strbuf owned by the caller.  Every value that came from the network
 *	goes through an escaper, so a record is exactly one line and a value
 *	can never close its quotes and forge a field:
 *
 *	  kv    a value made only of [A-Za-z0-9._:@/+-] is written bare,
 *	        anything else double-quoted with \" \\ \n \r \t and \xNN for
 *	        other control bytes, DEL and bytes that are not valid UTF-8;
 *	  JSON  RFC 8259 strings; invalid UTF-8 bytes become \u00NN (the
 *	        byte as U+0080..U+00FF), so the file is always valid UTF-8.
 *
 *	The audit sink appends whole records to a file with one write(2)
 *	each, under a mutex, and reopens the file by path for rotation.
 *	File records are hash-chained (format version 2): under the same
 *	mutex the sink appends "prev" (the chain head) and "hash" (SHA-256,
 *	or HMAC-SHA256 with a key, over the line without its "hash" member
 *	and newline, through EVP contexts the sink keeps), writes the line,
 *	and only then advances the head; a failed write puts the head back.
 *	A record no reply waits on (the session record) may be queued
 *	instead: it is chained at once and written, in chain order, in the
 *	same write(2) as the next record, or by audit_sink_sync().  The
 *	head survives reopen, so a rotated file's first record links to
 *	the last record of the file before it; at open, the head is read
 *	from the last line of an existing file.  See docs/audit-format.md.
 *
 *	fdatasync(2): with fsync every, after each write and before the
 *	caller replies, under the mutex; with interval, only in
 *	audit_sink_sync() (the daemon calls it every second), on a copy of
 *	the descriptor and outside the mutex, so a slow sync never holds up
 *	a decision.
 *
 * DIAGNOSTICS
 *	Functions return 0, or -1 with errno (ENOMEM, EMSGSIZE from the
 *	strbuf; the write(2) or open(2) error for the sink).  Nothing is
 *	logged here; callers log.
 *
 * SEE ALSO
 *	facts.c, policy.c, strbuf.c; RFC 8259, RFC 3339
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "facts.h"
#include "policy.h"
#include "strbuf.h"
#include "tlsinfo.h"

struct audit_sink {
	pthread_mutex_t		 lock;
	int			 fd;
	char			*path;
	char			 head[AUDIT_HASH_HEX + 1];	/* last hash chained */
	char			 written[AUDIT_HASH_HEX + 1];	/* last hash on file */
	struct strbuf		 pending;	/* queued lines, chained, not yet written */
	unsigned long		 n_pending;	/* lines in pending */
	unsigned long		 n_lost;	/* queued lines a failed write dropped */
	bool			 is_draining;	/* queue no more: write at once */
	size_t			 keylen;			/* 0: plain SHA-256 */
	EVP_MD			*md;		/* SHA-256, fetched once */
	EVP_MD_CTX		*mdctx;		/* reused by every record */
	EVP_MAC_CTX		*macctx;	/* HMAC-SHA256 keyed, when keylen > 0 */
	enum audit_fsync	 fsync;
	bool			 is_dirty;	/* written since the last fdatasync */
	bool			 needs_newline;	/* the file ends in a torn line */
};

/* The longest escape of one byte (\u00NN), and the bytes escaped per step. */
#define ESCAPE_MAX	6
#define ESCAPE_CHUNK	512

/* Queued lines written at the latest when they reach this size. */
#define PENDING_MAX	(64 * 1024)

/* The tail of a chained line: ,"hash":"<64 hex>"} */
#define HASH_MEMBER	",\"hash\":\""
#define HASH_TAIL_LEN	(sizeof(HASH_MEMBER) - 1 + AUDIT_HASH_HEX + 2)

/*
 * How a byte is written: bare in a kv value ([A-Za-z0-9._:@/+-]), as is
 * inside quotes (other printable ASCII but " and \\), or escaped (", \\,
 * control bytes, DEL and every byte >= 0x80, which is checked as UTF-8).
 */
enum char_class {
	CHAR_ESCAPE = 0,
	CHAR_QUOTED,
	CHAR_BARE,
};

static const unsigned char char_class[256] = {
	[' ' ... '!'] = CHAR_QUOTED, ['#' ... '*'] = CHAR_QUOTED,
	['+'] = CHAR_BARE, [','] = CHAR_QUOTED, ['-' ... ':'] = CHAR_BARE,
	[';' ... '?'] = CHAR_QUOTED, ['@' ... 'Z'] = CHAR_BARE,
	['['] = CHAR_QUOTED, [']' ... '^'] = CHAR_QUOTED, ['_'] = CHAR_BARE,
	['`'] = CHAR_QUOTED, ['a' ... 'z'] = CHAR_BARE,
	['{' ... '~'] = CHAR_QUOTED,
};

/* One output form: how a key, a string, a bool and a number are written. */
struct form {
	bool	is_json;
};

static int	put_key(struct strbuf *, const struct form *, const char *);
static int	put_str(struct strbuf *, const struct form *, const char *,
		    const char *);
static int	put_uint(struct strbuf *, const struct form *, const char *,
		    unsigned long);
static int	put_bool(struct strbuf *, const struct form *, const char *,
		    bool);
static int	put_fact(struct strbuf *, const struct form *,
		    const struct facts *, enum fact_id);
static int	put_facts(struct strbuf *, const struct form *,
		    const struct facts *, enum fact_id, enum fact_id);
static int	put_problems(struct strbuf *, const struct form *,
		    const struct facts *);
static int	format(const struct audit_record *, struct strbuf *,
		    const struct form *);
static int	format_session(const struct audit_session *, struct strbuf *,
		    const struct form *);
static void	read_head(struct audit_sink *);
static int	sink_hash(struct audit_sink *, const char *, size_t, char *);
static int	chain(struct audit_sink *, struct strbuf *, bool);
static int	put_locked(struct audit_sink *, const char *, size_t);
static void	sync_locked(struct audit_sink *);
static size_t	utf8_len(const unsigned char *, size_t);
static bool	is_bare(const char *, size_t);
static void	put_digits(char *, unsigned, int);
static int	escape_quoted(struct strbuf *, const char *, size_t, bool);
static size_t	escape_at(const unsigned char *, size_t, bool, char *,
		    size_t *);

enum audit_type
audit_record_type(const struct audit_record *r)
{
	return r->verdict->is_exposure ? AUDIT_TYPE_EXPOSURE :
	    AUDIT_TYPE_DECISION;
}

const char *
audit_type_name(enum audit_type t)
{
	if (t == AUDIT_TYPE_SESSION)
		return "session";
	return t == AUDIT_TYPE_EXPOSURE ? "credential-exposure" : "decision";
}

int
audit_format_kv(const struct audit_record *r, struct strbuf *out)
{
	const struct form kv = { .is_json = false };

	return format(r, out, &kv);
}

int
audit_format_json(const struct audit_record *r, struct strbuf *out)
{
	const struct form js = { .is_json = true };

	if (strbuf_puts(out, "{\"v\":1") == -1 || format(r, out, &js) == -1)
		return -1;
	return strbuf_puts(out, "}\n");
}

int
audit_format_json_open(const struct audit_record *r, struct strbuf *out)
{
	const struct form js = { .is_json = true };

	if (strbuf_puts(out, "{\"v\":2") == -1)
		return -1;
	return format(r, out, &js);
}

int
audit_format_session_kv(const struct audit_session *as, struct strbuf *out)
{
	const struct form kv = { .is_json = false };

	return format_session(as, out, &kv);
}

int
audit_format_session_open(const struct audit_session *as, struct strbuf *out)
{
	const struct form js = { .is_json = true };

	if (strbuf_puts(out, "{\"v\":2") == -1)
		return -1;
	return format_session(as, out, &js);
}

int
audit_chain_hash(const unsigned char *key, size_t keylen, const char *data,
    size_t size, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t mlen = 0;

	if (keylen > 0) {
		if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen,
		    (const unsigned char *)data, size, md, sizeof(md),
		    &mlen) == NULL)
			return -1;
		n = (unsigned int)mlen;
	} else if (EVP_Digest(data, size, md, &n, EVP_sha256(), NULL) != 1)
		return -1;
	if (n * 2 != AUDIT_HASH_HEX)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[AUDIT_HASH_HEX] = '\0';
	return 0;
}

char *
audit_format_time(const struct timespec *ts, char *buf, size_t size)
{
	struct tm tm;
	char t[32];
	long ms = ts->tv_nsec / 1000000L;

	if (gmtime_r(&ts->tv_sec, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900) {
		(void) memset(&tm, 0, sizeof(tm));	/* 1970-01-01T00:00:00 */
		tm.tm_year = 70;
		tm.tm_mday = 1;
	}
	if (ms < 0 || ms > 999)
		ms = 0;
	/* "YYYY-MM-DDTHH:MM:SS.mmmZ", digit by digit: this runs per record */
	put_digits(t, (unsigned)tm.tm_year + 1900, 4);
	t[4] = '-';
	put_digits(t + 5, (unsigned)tm.tm_mon + 1, 2);
	t[7] = '-';
	put_digits(t + 8, (unsigned)tm.tm_mday, 2);
	t[10] = 'T';
	put_digits(t + 11, (unsigned)tm.tm_hour, 2);
	t[13] = ':';
	put_digits(t + 14, (unsigned)tm.tm_min, 2);
	t[16] = ':';
	put_digits(t + 17, (unsigned)tm.tm_sec, 2);
	t[19] = '.';
	put_digits(t + 20, (unsigned)ms, 3);
	t[23] = 'Z';
	t[24] = '\0';
	if (size > 0) {
		size_t n = size - 1 < 24 ? size - 1 : 24;

		(void) memcpy(buf, t, n);
		buf[n] = '\0';
	}
	return buf;
}

int
audit_escape_kv(struct strbuf *sb, const char *s, size_t size)
{
	if (size > 0 && is_bare(s, size))
		return strbuf_append(sb, s, size);
	return escape_quoted(sb, s, size, false);
}

int
audit_escape_json(struct strbuf *sb, const char *s, size_t size)
{
	return escape_quoted(sb, s, size, true);
}

/*
 * escape_quoted - s in double quotes: \" \\ \n \r \t, valid UTF-8 as is,
 * any other byte as \xNN (kv) or \u00NN (JSON).  Written straight into
 * the buffer, a chunk at a time with room for its worst case (6 bytes
 * out for a byte in); near the buffer's limit a piece at a time, so a
 * value that fits is never refused.
 */
static int
escape_quoted(struct strbuf *sb, const char *s, size_t size, bool is_json)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, used, w, end;
	char *o, one[ESCAPE_MAX];

	if (strbuf_putc(sb, '"') == -1)
		return -1;
	while (i < size) {
		end = size - i > ESCAPE_CHUNK ? i + ESCAPE_CHUNK : size;
		if ((o = strbuf_space(sb, (end - i) * ESCAPE_MAX)) == NULL) {
			w = escape_at(p + i, size - i, is_json, one, &used);
			if (strbuf_append(sb, one, w) == -1)
				return -1;
			i += used;
			continue;
		}
		for (w = 0; i < end; ) {
			if (char_class[p[i]] != CHAR_ESCAPE)
				o[w++] = (char)p[i++];
			else {
				w += escape_at(p + i, size - i, is_json, o + w,
				    &used);
				i += used;
			}
		}
		strbuf_commit(sb, w);
	}
	return strbuf_putc(sb, '"');
}

/*
 * escape_at - the byte at p (or the valid UTF-8 sequence it starts, of
 * avail bytes at most) as written in a quoted value, into o (room for
 * ESCAPE_MAX); the bytes taken in *used; returns the bytes written.
 */
static size_t
escape_at(const unsigned char *p, size_t avail, bool is_json, char *o,
    size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = p[0];
	size_t n;

	*used = 1;
	if (char_class[c] != CHAR_ESCAPE) {
		o[0] = (char)c;
		return 1;
	}
	if (c >= 0x80 && (n = utf8_len(p, avail)) > 0) {
		(void) memcpy(o, p, n);
		*used = n;
		return n;
	}
	o[0] = '\\';
	switch (c) {
	case '"':
	case '\\':
		o[1] = (char)c;
		return 2;
	case '\n':
		o[1] = 'n';
		return 2;
	case '\r':
		o[1] = 'r';
		return 2;
	case '\t':
		o[1] = 't';
		return 2;
	default:
		break;
	}
	if (!is_json) {
		o[1] = 'x';
		o[2] = hex[c >> 4];
		o[3] = hex[c & 0xf];
		return 4;
	}
	(void) memcpy(o + 1, "u00", 3);
	o[4] = hex[c >> 4];
	o[5] = hex[c & 0xf];
	return ESCAPE_MAX;
}

struct audit_sink *
audit_sink_open(const char *path)
{
	struct audit_sink *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->path = strdup(path)) == NULL) {
		free(s);
		return NULL;
	}
	s->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (s->fd == -1) {
		int e = errno;

		free(s->path);
		free(s);
		errno = e;
		return NULL;
	}
	if ((s->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (s->mdctx = EVP_MD_CTX_new()) == NULL) {
		EVP_MD_free(s->md);
		(void) close(s->fd);
		free(s->path);
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	(void) pthread_mutex_init(&s->lock, NULL);
	(void) memcpy(s->head, AUDIT_CHAIN_ANCHOR, sizeof(s->head));
	strbuf_init(&s->pending, PENDING_MAX);
	read_head(s);
	(void) memcpy(s->written, s->head, sizeof(s->written));
	return s;
}

int
audit_sink_write_chained(struct audit_sink *s, struct strbuf *sb)
{
	return chain(s, sb, true);
}

int
audit_sink_queue_chained(struct audit_sink *s, struct strbuf *sb)
{
	return chain(s, sb, false);
}

int
audit_sink_drain(struct audit_sink *s)
{
	(void) pthread_mutex_lock(&s->lock);
	s->is_draining = true;
	(void) pthread_mutex_unlock(&s->lock);
	return audit_sink_sync(s);
}

unsigned long
audit_sink_take_lost(struct audit_sink *s)
{
	unsigned long n;

	(void) pthread_mutex_lock(&s->lock);
	n = s->n_lost;
	s->n_lost = 0;
	(void) pthread_mutex_unlock(&s->lock);
	return n;
}

int
audit_sink_set_key(struct audit_sink *s, const unsigned char *key, size_t size)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx = NULL, *old;
	EVP_MAC *mac = NULL;

	if (size > AUDIT_KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (size > 0 && ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, size, params) != 1)) {
		EVP_MAC_CTX_free(ctx);
		EVP_MAC_free(mac);
		errno = ENOMEM;
		return -1;
	}
	EVP_MAC_free(mac);	/* the context keeps its own reference */
	(void) pthread_mutex_lock(&s->lock);
	old = s->macctx;
	s->macctx = ctx;
	s->keylen = size;
	(void) pthread_mutex_unlock(&s->lock);
	EVP_MAC_CTX_free(old);
	return 0;
}

void
audit_sink_set_fsync(struct audit_sink *s, enum audit_fsync mode)
{
	(void) pthread_mutex_lock(&s->lock);
	s->fsync = mode;
	(void) pthread_mutex_unlock(&s->lock);
}

int
audit_sink_sync(struct audit_sink *s)
{
	int rc = 0, e = 0, fd = -1;

	(void) pthread_mutex_lock(&s->lock);
	if (s->n_pending > 0 && put_locked(s, NULL, 0) == -1) {
		e = errno;
		rc = -1;
	}
	if (s->is_dirty && s->fsync != AUDIT_FSYNC_NONE) {
		/*
		 * fdatasync(2) on a copy of the descriptor, outside the lock:
		 * a sync may take milliseconds, and decisions go on meanwhile
		 * (the copy stays valid should a reopen close the original).
		 */
		if ((fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0)) == -1) {
			e = errno;
			rc = -1;
		} else
			s->is_dirty = false;
	}
	(void) pthread_mutex_unlock(&s->lock);
	if (fd != -1) {
		if (fdatasync(fd) == -1) {
			e = errno;
			rc = -1;
			(void) pthread_mutex_lock(&s->lock);
			s->is_dirty = true;	/* try again next time */
			(void) pthread_mutex_unlock(&s->lock);
		}
		(void) close(fd);
	}
	errno = e;
	return rc;
}

const char *
audit_sink_path(const struct audit_sink *s)
{
	return s->path;
}

void
audit_sink_last_hash(struct audit_sink *s, char *hex)
{
	(void) pthread_mutex_lock(&s->lock);
	(void) memcpy(hex, s->head, sizeof(s->head));
	(void) pthread_mutex_unlock(&s->lock);
}

int
audit_sink_write(struct audit_sink *s, const char *p, size_t size)
{
	int rc, e;

	(void) pthread_mutex_lock(&s->lock);
	rc = put_locked(s, p, size);
	e = errno;
	(void) pthread_mutex_unlock(&s->lock);
	errno = e;
	return rc;
}

int
audit_sink_reopen(struct audit_sink *s)
{
	int fd, old;

	fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd == -1)
		return -1;
	(void) pthread_mutex_lock(&s->lock);
	if (s->n_pending > 0)	/* queued lines belong to the old file */
		(void) put_locked(s, NULL, 0);
	sync_locked(s);		/* the old file's records are on disk */
	old = s->fd;
	s->fd = fd;
	s->needs_newline = false;
	(void) pthread_mutex_unlock(&s->lock);
	(void) close(old);
	return 0;
}

void
audit_sink_close(struct audit_sink **sp)
{
	struct audit_sink *s = *sp;

	if (s == NULL)
		return;
	if (s->n_pending > 0)
		(void) put_locked(s, NULL, 0);
	if (s->is_dirty && s->fsync != AUDIT_FSYNC_NONE)
		(void) fdatasync(s->fd);
	(void) close(s->fd);
	(void) pthread_mutex_destroy(&s->lock);
	EVP_MAC_CTX_free(s->macctx);
	EVP_MD_CTX_free(s->mdctx);
	EVP_MD_free(s->md);
	strbuf_free(&s->pending);
	free(s->path);
	free(s);
	*sp = NULL;
}

/* format - the record's fields in the documented order. */
static int
format(const struct audit_record *r, struct strbuf *sb, const struct form *f)
{
	const struct policy_verdict *v = r->verdict;
	char when[40], reply[POLICY_TEXT_MAX + 32];
	int rc = 0;

	rc |= put_str(sb, f, "time", audit_format_time(&r->time, when,
	    sizeof(when)));
	rc |= put_str(sb, f, "session", r->session_id);
	rc |= put_str(sb, f, "type", audit_type_name(audit_record_type(r)));
	rc |= put_fact(sb, f, r->facts, FACT_QUEUE_ID);
	rc |= put_facts(sb, f, r->facts, FACT_CLIENT_ADDR, FACT_CLIENT_PORT);
	rc |= put_str(sb, f, "listener", r->listener);
	rc |= put_fact(sb, f, r->facts, FACT_DAEMON_NAME);
	rc |= put_fact(sb, f, r->facts, FACT_DAEMON_PORT);
	rc |= put_fact(sb, f, r->facts, FACT_DAEMON_ADDR);
	rc |= put_bool(sb, f, "tls", facts_is_tls(r->facts));
	rc |= put_facts(sb, f, r->facts, FACT_TLS_VERSION, FACT_VERIFY);
	rc |= put_bool(sb, f, "auth", facts_has_auth(r->facts));
	rc |= put_facts(sb, f, r->facts, FACT_AUTH_TYPE, FACT_AUTH_AUTHEN);
	rc |= put_str(sb, f, "rule", policy_rule_name(v->rule));
	rc |= put_str(sb, f, "action", policy_action_name(r->action));
	rc |= put_str(sb, f, "outcome", policy_outcome_name(v->outcome));
	if (v->reply.code != 0) {
		(void) snprintf(reply, sizeof(reply), "%u %s %s", v->reply.code,
		    v->reply.xcode, v->reply.text);
		rc |= put_str(sb, f, "reply", reply);
	}
	rc |= put_str(sb, f, "mode", r->is_report_mode ? "report" : "enforce");
	rc |= put_bool(sb, f, "exposure", v->is_exposure);
	rc |= put_bool(sb, f, "trusted", v->is_trusted);
	rc |= put_str(sb, f, "reason", v->reason);
	rc |= put_fact(sb, f, r->facts, FACT_MTA_VERSION);
	rc |= put_problems(sb, f, r->facts);
	return rc != 0 ? -1 : 0;
}

/* format_session - the session record's fields in the documented order. */
static int
format_session(const struct audit_session *as, struct strbuf *sb,
    const struct form *f)
{
	char when[40], start[40];
	int rc = 0;

	rc |= put_str(sb, f, "time", audit_format_time(&as->time, when,
	    sizeof(when)));
	rc |= put_str(sb, f, "session", as->session_id);
	rc |= put_str(sb, f, "type", audit_type_name(AUDIT_TYPE_SESSION));
	rc |= put_str(sb, f, "started", audit_format_time(&as->started, start,
	    sizeof(start)));
	rc |= put_facts(sb, f, as->facts, FACT_CLIENT_ADDR, FACT_CLIENT_PORT);
	rc |= put_str(sb, f, "listener", as->listener);
	rc |= put_fact(sb, f, as->facts, FACT_DAEMON_NAME);
	rc |= put_fact(sb, f, as->facts, FACT_DAEMON_PORT);
	rc |= put_fact(sb, f, as->facts, FACT_DAEMON_ADDR);
	rc |= put_bool(sb, f, "tls", facts_is_tls(as->facts));
	rc |= put_facts(sb, f, as->facts, FACT_TLS_VERSION, FACT_VERIFY);
	rc |= put_bool(sb, f, "auth", facts_has_auth(as->facts));
	rc |= put_facts(sb, f, as->facts, FACT_AUTH_TYPE, FACT_AUTH_AUTHEN);
	rc |= put_uint(sb, f, "helos", as->n_helo);
	rc |= put_uint(sb, f, "mails", as->n_mail);
	rc |= put_fact(sb, f, as->facts, FACT_MTA_VERSION);
	rc |= put_problems(sb, f, as->facts);
	return rc != 0 ? -1 : 0;
}

/*
 * read_head - continue the chain of an existing file: the "hash" of its
 * last complete line; note a torn last line.
 */
static void
read_head(struct audit_sink *s)
{
	char buf[AUDIT_RECORD_MAX + 2], *end, *nl;
	struct stat st;
	ssize_t n;
	off_t at;
	int fd;

	if ((fd = open(s->path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == -1 || st.st_size == 0) {
		(void) close(fd);
		return;
	}
	at = st.st_size > (off_t)sizeof(buf) ? st.st_size - (off_t)sizeof(buf) : 0;
	n = pread(fd, buf, sizeof(buf), at);
	(void) close(fd);
	if (n <= 0)
		return;
	s->needs_newline = buf[n - 1] != '\n';
	if ((end = memrchr(buf, '\n', (size_t)n)) == NULL)
		return;
	*end = '\0';
	nl = memrchr(buf, '\n', (size_t)(end - buf));
	nl = nl != NULL ? nl + 1 : buf;
	if ((size_t)(end - nl) > HASH_TAIL_LEN &&
	    strncmp(end - HASH_TAIL_LEN, HASH_MEMBER, sizeof(HASH_MEMBER) - 1) == 0 &&
	    strcmp(end - 2, "\"}") == 0)
		(void) memcpy(s->head, end - HASH_TAIL_LEN + sizeof(HASH_MEMBER) - 1,
		    AUDIT_HASH_HEX);
}

/*
 * sink_hash - the chain hash of data as hex, as audit_chain_hash() makes
 * it, with the sink's own EVP contexts (no fetch, no context per record;
 * lock held).  0, or -1.
 */
static int
sink_hash(struct audit_sink *s, const char *data, size_t size, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t mlen = 0;

	if (s->keylen > 0) {
		if (EVP_MAC_init(s->macctx, NULL, 0, NULL) != 1 ||
		    EVP_MAC_update(s->macctx, (const unsigned char *)data,
		    size) != 1 ||
		    EVP_MAC_final(s->macctx, md, &mlen, sizeof(md)) != 1)
			return -1;
		n = (unsigned int)mlen;
	} else if (EVP_DigestInit_ex2(s->mdctx, s->md, NULL) != 1 ||
	    EVP_DigestUpdate(s->mdctx, data, size) != 1 ||
	    EVP_DigestFinal_ex(s->mdctx, md, &n) != 1)
		return -1;
	if (n * 2 != AUDIT_HASH_HEX)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[AUDIT_HASH_HEX] = '\0';
	return 0;
}

/*
 * chain - close the open record in sb with "prev" and "hash" and write it
 * now (is_now) or queue it for the next write; lock taken here.  A queued
 * line is written now anyway when fsync is every or the queue is full.
 */
static int
chain(struct audit_sink *s, struct strbuf *sb, bool is_now)
{
	char hash[AUDIT_HASH_HEX + 1];
	int rc = -1, e = 0;

	(void) pthread_mutex_lock(&s->lock);
	if (strbuf_printf(sb, ",\"prev\":\"%s\"}", s->head) == -1 ||
	    sink_hash(s, sb->data, sb->len, hash) == -1)
		e = errno != 0 ? errno : EIO;
	else {
		sb->len--;		/* reopen the object after the hashed "}" */
		if (strbuf_append(sb, HASH_MEMBER, sizeof(HASH_MEMBER) - 1) ==
		    -1 || strbuf_append(sb, hash, AUDIT_HASH_HEX) == -1 ||
		    strbuf_append(sb, "\"}\n", 3) == -1)
			e = errno;
		else if (!is_now && s->fsync != AUDIT_FSYNC_EVERY &&
		    !s->is_draining && strbuf_append(&s->pending, sb->data, sb->len) == 0) {
			(void) memcpy(s->head, hash, sizeof(s->head));
			s->n_pending++;
			rc = 0;
		} else {
			(void) memcpy(s->head, hash, sizeof(s->head));
			if (put_locked(s, sb->data, sb->len) == 0)
				rc = 0;
			else
				e = errno;
		}
	}
	(void) pthread_mutex_unlock(&s->lock);
	errno = e;
	return rc;
}

/*
 * put_locked - write the queued lines and then size bytes at p (NULL: only
 * the queue) with one writev(2), more only if short; fdatasync as
 * configured.  On failure the chain head goes back to the last line on
 * file, the queue is dropped (counted in n_lost) and a partial line is
 * ended before the next write.  Lock held; 0, or -1 with errno.
 */
static int
put_locked(struct audit_sink *s, const char *p, size_t size)
{
	struct iovec iov[3];
	size_t total = 0, done = 0;
	ssize_t n;
	int iovcnt = 0, e;

	if (s->needs_newline)
		iov[iovcnt++] = (struct iovec){ (void *)"\n", 1 };
	if (s->n_pending > 0)
		iov[iovcnt++] = (struct iovec){ s->pending.data, s->pending.len };
	if (size > 0)
		iov[iovcnt++] = (struct iovec){ (void *)p, size };
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	while (done < total) {
		struct iovec rest[3];
		size_t skip = done;
		int k = 0;

		for (int i = 0; i < iovcnt; i++) {	/* what is still to go */
			if (skip >= iov[i].iov_len) {
				skip -= iov[i].iov_len;
				continue;
			}
			rest[k].iov_base = (char *)iov[i].iov_base + skip;
			rest[k++].iov_len = iov[i].iov_len - skip;
			skip = 0;
		}
		n = writev(s->fd, rest, k);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n == 0 ? EIO : errno;
			s->needs_newline = s->needs_newline || done > 0;
			(void) memcpy(s->head, s->written, sizeof(s->head));
			s->n_lost += s->n_pending;
			s->n_pending = 0;
			strbuf_reset(&s->pending);
			errno = e;
			return -1;
		}
		done += (size_t)n;
	}
	s->needs_newline = false;
	(void) memcpy(s->written, s->head, sizeof(s->written));
	s->n_pending = 0;
	strbuf_reset(&s->pending);
	s->is_dirty = true;
	if (s->fsync == AUDIT_FSYNC_EVERY)	/* on disk before the reply */
		sync_locked(s);
	return 0;
}

/* sync_locked - fdatasync if written since the last sync (lock held). */
static void
sync_locked(struct audit_sink *s)
{
	if (s->is_dirty && s->fsync != AUDIT_FSYNC_NONE &&
	    fdatasync(s->fd) == 0)
		s->is_dirty = false;
}

/* put_key - the separator and the key (no printf: this runs per field). */
static int
put_key(struct strbuf *sb, const struct form *f, const char *key)
{
	size_t len = strlen(key), n = 0;
	char *o;

	if ((o = strbuf_space(sb, len + 4)) == NULL)
		return -1;
	if (f->is_json) {		/* ,"key": */
		o[n++] = ',';
		o[n++] = '"';
	} else if (sb->len > 0 && sb->data[sb->len - 1] != ' ')
		o[n++] = ' ';		/* key= */
	(void) memcpy(o + n, key, len);
	n += len;
	if (f->is_json)
		o[n++] = '"';
	o[n++] = f->is_json ? ':' : '=';
	strbuf_commit(sb, n);
	return 0;
}

/* put_uint - key and a decimal number. */
static int
put_uint(struct strbuf *sb, const struct form *f, const char *key,
    unsigned long v)
{
	char d[24];
	size_t n = sizeof(d);

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return put_key(sb, f, key) | strbuf_append(sb, d + n, sizeof(d) - n);
}

/* put_str - key and escaped string value. */
static int
put_str(struct strbuf *sb, const struct form *f, const char *key,
    const char *value)
{
	if (put_key(sb, f, key) == -1)
		return -1;
	return f->is_json ? audit_escape_json(sb, value, strlen(value)) :
	    audit_escape_kv(sb, value, strlen(value));
}

/* put_bool - key and yes/no (kv) or true/false (JSON). */
static int
put_bool(struct strbuf *sb, const struct form *f, const char *key, bool b)
{
	if (put_key(sb, f, key) == -1)
		return -1;
	if (f->is_json)
		return strbuf_puts(sb, b ? "true" : "false");
	return strbuf_puts(sb, b ? "yes" : "no");
}

/* put_fact - one fact with text; numbers bare in JSON when well-formed. */
static int
put_fact(struct strbuf *sb, const struct form *f, const struct facts *fs,
    enum fact_id id)
{
	const struct fact *x = &fs->f[id];

	if (x->text == NULL)
		return 0;
	if (f->is_json && id == FACT_CIPHER_BITS && x->state == FACT_OK)
		return put_uint(sb, f, facts_id_name(id), x->num);
	return put_str(sb, f, facts_id_name(id), x->text);
}

/* put_facts - facts first..last in table order. */
static int
put_facts(struct strbuf *sb, const struct form *f, const struct facts *fs,
    enum fact_id first, enum fact_id last)
{
	int rc = 0;

	for (enum fact_id id = first; id <= last; id++)
		rc |= put_fact(sb, f, fs, id);
	return rc;
}

/* put_problems - "key: problem; ..." for malformed and oversize facts. */
static int
put_problems(struct strbuf *sb, const struct form *f, const struct facts *fs)
{
	char all[2048], one[160];	/* 16 facts x under 100 bytes */
	size_t n = 0;

	all[0] = '\0';
	for (enum fact_id id = 0; id < FACT_COUNT; id++) {
		if (fs->f[id].state != FACT_MALFORMED &&
		    fs->f[id].state != FACT_OVERSIZE)
			continue;
		(void) facts_describe(fs, id, one, sizeof(one));
		n += (size_t)snprintf(all + n, n < sizeof(all) ?
		    sizeof(all) - n : 0, "%s%s: %s", n > 0 ? "; " : "",
		    facts_id_name(id), one);
		if (n >= sizeof(all))
			break;
	}
	if (all[0] == '\0')
		return 0;
	return put_str(sb, f, "facts_problem", all);
}

/* utf8_len - length of a valid UTF-8 sequence at p (lead >= 0x80), else 0. */
static size_t
utf8_len(const unsigned char *p, size_t avail)
{
	size_t n, i;
	unsigned long cp;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* is_bare - may the value be written without quotes in a kv line? */
static bool
is_bare(const char *s, size_t size)
{
	for (size_t i = 0; i < size; i++)
		if (char_class[(unsigned char)s[i]] != CHAR_BARE)
			return false;
	return true;
}

/* put_digits - v as exactly width decimal digits (leading zeros). */
static void
put_digits(char *p, unsigned v, int width)
{
	while (width-- > 0) {
		p[width] = (char)('0' + v % 10);
		v /= 10;
	}
}
