/*
 * auditseal.h - forward-secure sealing of the audit chain: epoch keys,
 * the sealing state, the verification key, the seal record
 *
 * Time is cut into epochs of period seconds from start (a Unix time):
 * epoch e covers [start + e * period, start + (e + 1) * period).  Each
 * epoch has its key, 32 bytes:
 *
 *   K(0)     random, made by --setup-keys
 *   K(e + 1) = HMAC-SHA256(K(e), "tlspolicy-milter evolve")
 *
 * The host keeps only the current epoch's key (the sealing state); the
 * auditor keeps K(0) with start and period (the verification key) and
 * derives every epoch's key from it.  HMAC is one-way, so whoever holds
 * K(e) cannot compute an earlier key, nor forge a record of an earlier
 * epoch.  A sealed line (auditchain.h) carries ,"epoch":e and is hashed
 * with K(e); a seal record closes a span of the chain (see
 * auditseal_format_seal_open).  doc/audit-format.md has the scheme.
 *
 * The state file (text, mode 0600, rewritten whole: a temporary file,
 * fsync, rename, fsync of the directory):
 *
 *   tlspolicy-milter-seal-state 1
 *   start <unix time>
 *   period <seconds>
 *   epoch <e>
 *   key <64 hex digits of K(e)>
 *   head <64 hex digits>        (optional: the hash of the last seal)
 *
 * The head lets a log rotated while the milter was stopped (a new, empty
 * file at start) continue the chain from the last seal.
 * The verification key, one word: <64 hex digits of K(0)>/<start>/<period>.
 *
 * Thread-safe: no state of its own.  Keys are wiped with OPENSSL_cleanse
 * wherever this module copies them.
 */
#ifndef TLSPOLICY_AUDITSEAL_H
#define TLSPOLICY_AUDITSEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "strbuf.h"

#define AUDITSEAL_KEY_SIZE	32
#define AUDITSEAL_EVOLVE	"tlspolicy-milter evolve"
#define AUDITSEAL_PERIOD_DEFAULT 900
#define AUDITSEAL_PERIOD_MIN	1
#define AUDITSEAL_PERIOD_MAX	(366LL * 86400)
#define AUDITSEAL_STATE_MAGIC	"tlspolicy-milter-seal-state 1"
#define AUDITSEAL_STATE_MAX	512	/* bytes of a state file */
#define AUDITSEAL_VK_MAX	128	/* bytes of a verification key */
#define AUDITSEAL_WHY_MAX	256

/* A key and the epoch it belongs to, with the epoch schedule. */
struct auditseal_state {
	long long	 start;		/* Unix time epoch 0 began */
	long long	 period;	/* seconds per epoch */
	long long	 epoch;
	unsigned char	 key[AUDITSEAL_KEY_SIZE];	/* K(epoch) */
	char		 head[64 + 1];	/* the last seal's hash, if has_head */
	bool		 has_head;
};

/* A seal record's facts (auditseal_format_seal_open). */
struct auditseal_seal {
	struct timespec	 time;		/* now */
	const char	*reason;	/* epoch-end, stop, reopen, recovery */
	unsigned long	 n_records;	/* records since the span began */
	bool		 has_count;	/* false: "recovery", count unknown */
	struct timespec	 from;		/* the span's beginning */
	const char	*head;		/* the chain head it closes (hex) */
};

/* auditseal_evolve - key = HMAC-SHA256(key, AUDITSEAL_EVOLVE); 0 or -1. */
int	auditseal_evolve(unsigned char *key);

/*
 * auditseal_advance - evolve st forward to epoch (>= st->epoch); the
 * keys in between are wiped.  0, or -1 (OpenSSL: st is left at the
 * epoch reached, which st names).
 */
int	auditseal_advance(struct auditseal_state *, long long epoch);

/* auditseal_epoch_at - the epoch of Unix time now (0 before start). */
long long auditseal_epoch_at(const struct auditseal_state *, long long now);

/* auditseal_wipe - OPENSSL_cleanse the whole state. */
void	auditseal_wipe(struct auditseal_state *);

/* auditseal_new - a fresh K(0) (RAND_bytes) for start and period.  0 or -1. */
int	auditseal_new(struct auditseal_state *, long long start,
	    long long period);

/* auditseal_format_state - the state file's text into buf; length or -1. */
int	auditseal_format_state(const struct auditseal_state *, char *buf,
	    size_t size);

/* auditseal_parse_state - the state file's text; 0, or -1 with why. */
int	auditseal_parse_state(const char *text, size_t size,
	    struct auditseal_state *, char *why);

/*
 * auditseal_format_vk - the verification key of st (epoch 0) into buf;
 * its length or -1.
 */
int	auditseal_format_vk(const struct auditseal_state *, char *buf,
	    size_t size);

/* auditseal_parse_vk - a verification key into st (epoch 0); 0, or -1. */
int	auditseal_parse_vk(const char *vk, struct auditseal_state *);

/*
 * auditseal_read_state - read and parse the state file at dirfd/name
 * (opened O_NOFOLLOW, at most AUDITSEAL_STATE_MAX bytes).  0, or -1 with
 * why ("cannot open: ...", "not a sealing state: ...").
 */
int	auditseal_read_state(int dirfd, const char *name,
	    struct auditseal_state *, char *why);

/*
 * auditseal_write_state - replace dirfd/name with st: write .name.new
 * (mode 0600, O_EXCL after removing a stale one), fsync, rename over
 * name, fsync the directory.  0, or -1 with errno.
 */
int	auditseal_write_state(int dirfd, const char *name,
	    const struct auditseal_state *);

/*
 * auditseal_format_seal_open - the seal record, open for the chain (as
 * audit_format_json_open):
 *   {"v":2,"time":T,"type":"seal","reason":R,"records":N,"from":F,
 *    "head":H
 * ("records" and "from" absent when !has_count).  0, or -1 with errno.
 */
int	auditseal_format_seal_open(const struct auditseal_seal *,
	    struct strbuf *);

#endif /* TLSPOLICY_AUDITSEAL_H */
