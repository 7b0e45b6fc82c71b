/*
 * NAME
 *	auditseal - forward-secure sealing: epoch keys, state, seal records
 *
 * SYNOPSIS
 *	#include "auditseal.h"
 *
 * DESCRIPTION
 *	The key schedule (K(e + 1) = HMAC-SHA256(K(e), "tlspolicy-milter
 *	evolve")), the sealing state file and the verification key in their
 *	text forms, and the seal record.  The daemon (setup.c, sealkeeper.c)
 *	evolves and stores keys through it, the verifier (auditverify.c)
 *	derives every epoch's key from the verification key through it, so
 *	both use one schedule.  Every temporary copy of a key is wiped with
 *	OPENSSL_cleanse before its memory is left; the caller wipes what it
 *	owns (auditseal_wipe).
 *
 *	The state file is replaced, never rewritten in place: a new file
 *	beside it (mode 0600), fsync, rename(2) over the old, fsync of the
 *	directory, so a crash leaves the old state or the new one.  A
 *	rename leaves the old file's blocks on the disk until the file
 *	system reuses them; the sealing promise is about what the milter
 *	keeps, not about forensic recovery of freed blocks (see
 *	tlspolicy-milter(8), SEALING).
 *
 * DIAGNOSTICS
 *	Functions return 0 (or a length), or -1 with errno or a reason in
 *	the caller's buffer.  Nothing is logged.
 *
 * SEE ALSO
 *	auditchain.c, auditsink.c, auditverify.c, sealkeeper.c;
 *	doc/audit-format.md
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "audit.h"
#include "auditchain.h"
#include "auditseal.h"
#include "strbuf.h"

static int	parse_hex_key(const char *, unsigned char *);
static int	parse_ll(const char *, const char *, long long, long long,
		    long long *);
static int	write_all(int, const char *, size_t);

int
auditseal_evolve(unsigned char *key)
{
	unsigned char next[EVP_MAX_MD_SIZE];
	size_t n = 0;
	int rc = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key,
	    AUDITSEAL_KEY_SIZE, (const unsigned char *)AUDITSEAL_EVOLVE,
	    sizeof(AUDITSEAL_EVOLVE) - 1, next, sizeof(next), &n) == NULL ||
	    n != AUDITSEAL_KEY_SIZE)
		rc = -1;
	else
		(void) memcpy(key, next, AUDITSEAL_KEY_SIZE);
	OPENSSL_cleanse(next, sizeof(next));
	return rc;
}

int
auditseal_advance(struct auditseal_state *st, long long epoch)
{
	while (st->epoch < epoch) {
		if (auditseal_evolve(st->key) == -1)
			return -1;
		st->epoch++;
	}
	return 0;
}

long long
auditseal_epoch_at(const struct auditseal_state *st, long long now)
{
	if (now < st->start || st->period <= 0)
		return 0;
	return (now - st->start) / st->period;
}

void
auditseal_wipe(struct auditseal_state *st)
{
	OPENSSL_cleanse(st, sizeof(*st));
}

int
auditseal_new(struct auditseal_state *st, long long start, long long period)
{
	st->start = start;
	st->period = period;
	st->epoch = 0;
	st->has_head = false;
	return RAND_priv_bytes(st->key, sizeof(st->key)) == 1 ? 0 : -1;
}

int
auditseal_format_state(const struct auditseal_state *st, char *buf,
    size_t size)
{
	char hex[AUDIT_HASH_HEX + 1];
	int n;

	if (auditchain_hex(st->key, AUDITSEAL_KEY_SIZE, hex) == -1)
		return -1;
	n = snprintf(buf, size, AUDITSEAL_STATE_MAGIC "\nstart %lld\n"
	    "period %lld\nepoch %lld\nkey %s\n%s%s%s", st->start, st->period,
	    st->epoch, hex, st->has_head ? "head " : "",
	    st->has_head ? st->head : "", st->has_head ? "\n" : "");
	OPENSSL_cleanse(hex, sizeof(hex));
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int
auditseal_parse_state(const char *text, size_t size,
    struct auditseal_state *st, char *why)
{
	char buf[AUDITSEAL_STATE_MAX + 1], *line, *save = NULL;
	int seen = 0, rc = 0;

	if (size > AUDITSEAL_STATE_MAX) {
		(void) snprintf(why, AUDITSEAL_WHY_MAX, "longer than %d bytes",
		    AUDITSEAL_STATE_MAX);
		return -1;
	}
	(void) memcpy(buf, text, size);
	buf[size] = '\0';
	line = strtok_r(buf, "\n", &save);
	if (line == NULL || strcmp(line, AUDITSEAL_STATE_MAGIC) != 0) {
		(void) snprintf(why, AUDITSEAL_WHY_MAX, "not a sealing state"
		    " (the first line is not \"%s\")", AUDITSEAL_STATE_MAGIC);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	while (rc == 0 && (line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (strncmp(line, "key ", 4) == 0) {
			rc = parse_hex_key(line + 4, st->key);
			seen |= 1;
		} else if (strncmp(line, "start ", 6) == 0) {
			rc = parse_ll(line + 6, "", 0, LLONG_MAX / 2,
			    &st->start);
			seen |= 2;
		} else if (strncmp(line, "period ", 7) == 0) {
			rc = parse_ll(line + 7, "", AUDITSEAL_PERIOD_MIN,
			    AUDITSEAL_PERIOD_MAX, &st->period);
			seen |= 4;
		} else if (strncmp(line, "head ", 5) == 0) {
			rc = strlen(line + 5) == AUDIT_HASH_HEX &&
			    auditchain_is_hex(line + 5, AUDIT_HASH_HEX) ?
			    0 : -1;
			if (rc == 0)
				(void) memcpy(st->head, line + 5,
				    AUDIT_HASH_HEX + 1);
			st->has_head = rc == 0;
		} else if (strncmp(line, "epoch ", 6) == 0) {
			rc = parse_ll(line + 6, "", 0, LLONG_MAX / 2,
			    &st->epoch);
			seen |= 8;
		} else
			rc = -1;
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc == -1 || seen != 15) {
		(void) snprintf(why, AUDITSEAL_WHY_MAX, "not a sealing state"
		    " (needs exactly the lines start, period, epoch and key)");
		return -1;
	}
	return 0;
}

int
auditseal_format_vk(const struct auditseal_state *st, char *buf, size_t size)
{
	char hex[AUDIT_HASH_HEX + 1];
	int n;

	if (st->epoch != 0 ||
	    auditchain_hex(st->key, AUDITSEAL_KEY_SIZE, hex) == -1)
		return -1;
	n = snprintf(buf, size, "%s/%lld/%lld", hex, st->start, st->period);
	OPENSSL_cleanse(hex, sizeof(hex));
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int
auditseal_parse_vk(const char *vk, struct auditseal_state *st)
{
	const char *p;

	st->has_head = false;
	if (strlen(vk) < AUDIT_HASH_HEX + 4 || vk[AUDIT_HASH_HEX] != '/' ||
	    (p = strchr(vk + AUDIT_HASH_HEX + 1, '/')) == NULL)
		return -1;
	st->epoch = 0;
	if (parse_hex_key(vk, st->key) == -1 ||
	    parse_ll(vk + AUDIT_HASH_HEX + 1, "/", 0, LLONG_MAX / 2,
	    &st->start) == -1 ||
	    parse_ll(p + 1, "", AUDITSEAL_PERIOD_MIN, AUDITSEAL_PERIOD_MAX,
	    &st->period) == -1)
		return -1;
	return 0;
}

int
auditseal_read_state(int dirfd, const char *name, struct auditseal_state *st,
    char *why)
{
	char buf[AUDITSEAL_STATE_MAX + 1];
	ssize_t n;
	size_t got = 0;
	int fd, rc;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		(void) snprintf(why, AUDITSEAL_WHY_MAX, "cannot open: %s",
		    strerror(errno));
		return -1;
	}
	while (got < sizeof(buf) &&
	    (n = read(fd, buf + got, sizeof(buf) - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void) snprintf(why, AUDITSEAL_WHY_MAX, "cannot read:"
			    " %s", strerror(errno));
			(void) close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	(void) close(fd);
	rc = auditseal_parse_state(buf, got, st, why);
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

int
auditseal_write_state(int dirfd, const char *name,
    const struct auditseal_state *st)
{
	char text[AUDITSEAL_STATE_MAX], *tmp;
	int fd, n, e = 0;

	if ((n = auditseal_format_state(st, text, sizeof(text))) == -1) {
		errno = EINVAL;
		return -1;
	}
	if (asprintf(&tmp, ".%s.new", name) == -1) {
		OPENSSL_cleanse(text, sizeof(text));
		errno = ENOMEM;
		return -1;
	}
	(void) unlinkat(dirfd, tmp, 0);		/* a crash's leftover */
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1 || write_all(fd, text, (size_t)n) == -1 ||
	    fsync(fd) == -1)
		e = errno;
	OPENSSL_cleanse(text, sizeof(text));
	if (fd != -1 && close(fd) == -1 && e == 0)
		e = errno;
	if (e == 0 && renameat(dirfd, tmp, dirfd, name) == -1)
		e = errno;
	if (e == 0 && fsync(dirfd) == -1)
		e = errno;
	if (e != 0 && fd != -1)
		(void) unlinkat(dirfd, tmp, 0);
	free(tmp);
	errno = e;
	return e == 0 ? 0 : -1;
}

int
auditseal_format_seal_open(const struct auditseal_seal *seal,
    struct strbuf *out)
{
	char t[32];

	if (strbuf_puts(out, AUDITCHAIN_OPEN ",\"time\":\"") == -1 ||
	    strbuf_puts(out, audit_format_time(&seal->time, t,
	    sizeof(t))) == -1 ||
	    strbuf_puts(out, "\",\"type\":\"seal\",\"reason\":") == -1 ||
	    audit_escape_json(out, seal->reason, strlen(seal->reason)) == -1)
		return -1;
	if (seal->has_count && (strbuf_printf(out, ",\"records\":%lu,"
	    "\"from\":\"", seal->n_records) == -1 ||
	    strbuf_puts(out, audit_format_time(&seal->from, t,
	    sizeof(t))) == -1 || strbuf_putc(out, '"') == -1))
		return -1;
	if (strbuf_puts(out, ",\"head\":\"") == -1 ||
	    strbuf_append(out, seal->head, AUDIT_HASH_HEX) == -1 ||
	    strbuf_putc(out, '"') == -1)
		return -1;
	return 0;
}

/* parse_hex_key - 64 hex digits (either case), then the end or '/'. */
static int
parse_hex_key(const char *s, unsigned char *key)
{
	for (int i = 0; i < AUDITSEAL_KEY_SIZE; i++) {
		int v = 0;

		for (int k = 0; k < 2; k++) {
			char c = s[2 * i + k];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				v |= c - 'A' + 10;
			else
				return -1;
		}
		key[i] = (unsigned char)v;
	}
	return s[AUDIT_HASH_HEX] == '\0' || s[AUDIT_HASH_HEX] == '/' ? 0 : -1;
}

/*
 * parse_ll - a decimal number in [min, max] that ends at the end of s or
 * at a character of stop.  0, or -1.
 */
static int
parse_ll(const char *s, const char *stop, long long min, long long max,
    long long *out)
{
	long long v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (max - (*p - '0')) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (p == s || (*p != '\0' && strchr(stop, *p) == NULL) || v < min)
		return -1;
	*out = v;
	return 0;
}

/* write_all - all size bytes of buf; 0, or -1 with errno. */
static int
write_all(int fd, const char *buf, size_t size)
{
	ssize_t n;

	while (size > 0) {
		if ((n = write(fd, buf, size)) == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		buf += n;
		size -= (size_t)n;
	}
	return 0;
}
