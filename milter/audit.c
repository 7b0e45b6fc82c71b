/*
 * NAME
 *	audit - decision records: the syslog line and the JSON audit line
 *
 * SYNOPSIS
 *	#include "audit.h"
#include "auditchain.h"
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
 *	audit_format_json_open() and audit_format_session_open() leave the
 *	record open for the chain members, which auditchain.c adds (the
 *	sink, auditsink.c, writes the chained lines).  See
 *	doc/audit-format.md.
 *
 * DIAGNOSTICS
 *	Functions return 0, or -1 with errno (ENOMEM, EMSGSIZE from the
 *	strbuf).  Nothing is logged here; callers log.
 *
 * SEE ALSO
 *	auditchain.c, auditsink.c, facts.c, policy.c, strbuf.c; RFC 8259, RFC 3339
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "facts.h"
#include "policy.h"
#include "strbuf.h"

/* The longest escape of one byte (\u00NN), and the bytes escaped per step. */
#define ESCAPE_MAX	6
#define ESCAPE_CHUNK	512

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
static int	put_opt(struct strbuf *, const struct form *, const char *,
		    const char *);
static int	put_fact(struct strbuf *, const struct form *,
		    const struct facts *, enum fact_id);
static int	put_facts(struct strbuf *, const struct form *,
		    const struct facts *, enum fact_id, enum fact_id);
static int	put_problems(struct strbuf *, const struct form *,
		    const struct facts *);
static int	format(const struct audit_record *, struct strbuf *,
		    const struct form *);
static int	put_verdict(const struct audit_record *, struct strbuf *,
		    const struct form *);
static int	format_session(const struct audit_session *, struct strbuf *,
		    const struct form *);
static size_t	utf8_len(const unsigned char *, size_t);
static bool	is_bare(const char *, size_t);
static void	put_digits(char *, unsigned, int);
static void	civil_date(long long, unsigned *, unsigned *, unsigned *);
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
	if (t == AUDIT_TYPE_POLICY)
		return "policy";
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

	if (strbuf_puts(out, AUDITCHAIN_OPEN) == -1)
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

	if (strbuf_puts(out, AUDITCHAIN_OPEN) == -1)
		return -1;
	return format_session(as, out, &js);
}

int
audit_format_policy_open(const struct audit_policy *p, struct strbuf *out)
{
	const struct form js = { .is_json = true };
	char when[40];
	int rc = 0;

	if (strbuf_puts(out, AUDITCHAIN_OPEN) == -1)
		return -1;
	rc |= put_str(out, &js, "time", audit_format_time(&p->time, when,
	    sizeof(when)));
	rc |= put_str(out, &js, "type", audit_type_name(AUDIT_TYPE_POLICY));
	rc |= put_str(out, &js, "event", p->event);
	rc |= put_str(out, &js, "policy", p->fingerprint);
	if (put_key(out, &js, "text") == -1 ||
	    audit_escape_json(out, p->text, p->size) == -1)
		rc = -1;
	return rc != 0 ? -1 : 0;
}

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: what four digits hold. */
#define TIME_FIRST	(-62167219200LL)
#define TIME_LAST	253402300799LL

char *
audit_format_time(const struct timespec *ts, char *buf, size_t size)
{
	long long sec = (long long)ts->tv_sec, days;
	unsigned year, month, mday, rem;
	char t[32];
	long ms = ts->tv_nsec / 1000000L;

	if (sec < TIME_FIRST || sec > TIME_LAST)
		sec = 0;		/* 1970-01-01T00:00:00 */
	days = (sec >= 0 ? sec : sec - 86399) / 86400;
	rem = (unsigned)(sec - days * 86400);
	civil_date(days, &year, &month, &mday);
	if (ms < 0 || ms > 999)
		ms = 0;
	/* "YYYY-MM-DDTHH:MM:SS.mmmZ", digit by digit: this runs per record */
	put_digits(t, year, 4);
	t[4] = '-';
	put_digits(t + 5, month, 2);
	t[7] = '-';
	put_digits(t + 8, mday, 2);
	t[10] = 'T';
	put_digits(t + 11, rem / 3600, 2);
	t[13] = ':';
	put_digits(t + 14, rem / 60 % 60, 2);
	t[16] = ':';
	put_digits(t + 17, rem % 60, 2);
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

/* format - the record's fields in the documented order. */
static int
format(const struct audit_record *r, struct strbuf *sb, const struct form *f)
{
	char when[40];
	int rc = 0;

	rc |= put_str(sb, f, "time", audit_format_time(&r->time, when,
	    sizeof(when)));
	rc |= put_str(sb, f, "session", r->session_id);
	rc |= put_str(sb, f, "type", audit_type_name(audit_record_type(r)));
	/*
	 * The kv line (syslog) puts the verdict before every value the
	 * network supplied, so a line cut at its limit never loses the
	 * rule, the outcome or the reply.
	 */
	if (!f->is_json)
		rc |= put_verdict(r, sb, f);
	rc |= put_fact(sb, f, r->facts, FACT_QUEUE_ID);
	rc |= put_facts(sb, f, r->facts, FACT_CLIENT_ADDR, FACT_CLIENT_PORT);
	rc |= put_opt(sb, f, "helo", r->helo);
	rc |= put_str(sb, f, "listener", r->listener);
	rc |= put_fact(sb, f, r->facts, FACT_DAEMON_NAME);
	rc |= put_fact(sb, f, r->facts, FACT_DAEMON_PORT);
	rc |= put_fact(sb, f, r->facts, FACT_DAEMON_ADDR);
	rc |= put_bool(sb, f, "tls", facts_is_tls(r->facts));
	rc |= put_facts(sb, f, r->facts, FACT_TLS_VERSION, FACT_VERIFY);
	rc |= put_bool(sb, f, "auth", facts_has_auth(r->facts));
	rc |= put_facts(sb, f, r->facts, FACT_AUTH_TYPE, FACT_AUTH_AUTHEN);
	rc |= put_bool(sb, f, "auth_before_tls", r->facts->is_auth_before_tls);
	rc |= put_opt(sb, f, "sender", r->sender);
	rc |= put_opt(sb, f, "sender_domain", r->sender_domain);
	if (f->is_json)
		rc |= put_verdict(r, sb, f);
	rc |= put_opt(sb, f, "policy", r->policy);
	rc |= put_fact(sb, f, r->facts, FACT_MTA_VERSION);
	rc |= put_problems(sb, f, r->facts);
	return rc != 0 ? -1 : 0;
}

/*
 * put_verdict - rule, action, outcome, reply, mode, exposure, trusted,
 * reason.  The kv line leaves out the action of an accept (it is the
 * listener's action for failing rules, which did not apply).
 */
static int
put_verdict(const struct audit_record *r, struct strbuf *sb,
    const struct form *f)
{
	const struct policy_verdict *v = r->verdict;
	char reply[POLICY_TEXT_MAX + 32];
	int rc = 0;

	rc |= put_str(sb, f, "rule", policy_rule_name(v->rule));
	if (f->is_json || v->outcome != POLICY_OUTCOME_ACCEPT)
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
	return rc;
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
	rc |= put_opt(sb, f, "helo", as->helo);
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
	if (as->is_shutdown)
		rc |= put_str(sb, f, "closed_by", "shutdown");
	rc |= put_fact(sb, f, as->facts, FACT_MTA_VERSION);
	rc |= put_problems(sb, f, as->facts);
	return rc != 0 ? -1 : 0;
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

/* put_opt - key and escaped string value, nothing when value is NULL. */
static int
put_opt(struct strbuf *sb, const struct form *f, const char *key,
    const char *value)
{
	return value == NULL ? 0 : put_str(sb, f, key, value);
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

/*
 * civil_date - the proleptic Gregorian date of the day days after
 * 1970-01-01, by eras of 400 years (146097 days) counted from 0000-03-01,
 * so that February 29 ends a year.  Arithmetic instead of gmtime_r(3),
 * which takes the C library's time zone lock on every call: this runs
 * for every record, on every thread.  The day lies within years 0..9999.
 */
static void
civil_date(long long days, unsigned *year, unsigned *month, unsigned *mday)
{
	long long z = days + 719468;	/* days since 0000-03-01 */
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);	/* day of the era */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;	/* month from March: 0..11 */

	*mday = doy - (153 * mp + 2) / 5 + 1;
	*month = mp < 10 ? mp + 3 : mp - 9;
	*year = (unsigned)(era * 400 + yoe + (*month <= 2));	/* 0..9999 */
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
