/*
 * auditchain.h - the chained audit line: members, tail, hash, parse
 *
 * The one definition of a line of the audit file (format version 2,
 * doc/audit-format.md):
 *
 *   {"v":2,<fields>,"prev":"P","hash":"H"}\n
 *
 * H is the lowercase hex of SHA-256 (or HMAC-SHA256 with the key) of the
 * hashed text M = the line without ,"hash":"H" and without the newline,
 * i.e. {"v":2,<fields>,"prev":"P"}; P is the H of the line before it in
 * the chain, or AUDIT_CHAIN_ANCHOR for the first line ever.  The writer
 * (auditsink.c), the stage recovery (auditrecover.c) and the verifier
 * (auditverify.c) all format, parse and hash through this module.
 *
 * Hashing has two forms: auditchain_hash() (one call, for tests and
 * tools) and a hasher (EVP contexts kept for reuse: the SHA-256 digest is
 * fetched once per process, an HMAC context keeps the key's precomputed
 * state), which can hash a record's fields first (auditchain_begin) and
 * the tail later (auditchain_close), so a writer hashes the bulk of a
 * record before it takes its chain lock.  A hasher belongs to one thread
 * at a time; the one-call functions are thread-safe.  No I/O, no clock.
 */
#ifndef TLSPOLICY_AUDITCHAIN_H
#define TLSPOLICY_AUDITCHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Hex digits of a chain hash, and the "prev" of the first record ever. */
#define AUDIT_HASH_HEX		64
#define AUDIT_CHAIN_ANCHOR \
	"0000000000000000000000000000000000000000000000000000000000000000"

/* The longest HMAC key. */
#define AUDIT_KEY_MAX		1024

/* How a chained line begins, and its two chain members, in this order, last. */
#define AUDITCHAIN_OPEN		"{\"v\":2"
#define AUDITCHAIN_PREV		",\"prev\":\""
#define AUDITCHAIN_HASH		",\"hash\":\""

/* ,"prev":"<hex>" and ,"hash":"<hex>" */
#define AUDITCHAIN_PREV_LEN	(sizeof(AUDITCHAIN_PREV) - 1 + AUDIT_HASH_HEX + 1)
#define AUDITCHAIN_HASH_LEN	(sizeof(AUDITCHAIN_HASH) - 1 + AUDIT_HASH_HEX + 1)

/* What auditchain_close() adds to the fields: both members, "}" and "\n". */
#define AUDITCHAIN_TAIL_LEN	(AUDITCHAIN_PREV_LEN + AUDITCHAIN_HASH_LEN + 2)

/*
 * A sealed line (forward-secure sealing, auditseal.h) carries its epoch
 * as the member just before "prev": ...,"epoch":N,"prev":"P","hash":"H"}
 * (N decimal, at most AUDITCHAIN_EPOCH_DIGITS digits), and its hash is
 * keyed with that epoch's key.  A seal record has "type":"seal".
 */
#define AUDITCHAIN_EPOCH	",\"epoch\":"
#define AUDITCHAIN_EPOCH_DIGITS	15
#define AUDITCHAIN_SEAL_TYPE	",\"type\":\"seal\","

/* The chain members of one line, pointing into it. */
struct auditchain_tail {
	const char	*prev;		/* AUDIT_HASH_HEX hex digits */
	const char	*hash;		/* AUDIT_HASH_HEX hex digits */
	size_t		 hashed;	/* bytes of M before its final "}" */
	long long	 epoch;		/* its "epoch", or -1: not sealed */
	bool		 is_seal;	/* a "seal" record */
	bool		 has_open;	/* it begins with AUDITCHAIN_OPEN "," */
};

struct auditchain_hasher;

/*
 * auditchain_parse - the chain members of line (size bytes, without its
 * newline): it ends with ,"prev":"<hex>","hash":"<hex>"} (lowercase
 * hex); has_open says whether it also begins with AUDITCHAIN_OPEN ","
 * as a chained line must.  Does not check that the rest is JSON.  0, or
 * -1 when the line has no such end.  On a JSON line the epoch and
 * seal markers below are unambiguous (," never occurs inside a JSON
 * string): t->epoch is read from an "epoch" member right before "prev"
 * (else -1), t->is_seal from "type":"seal".
 */
int	auditchain_parse(const char *line, size_t size,
	    struct auditchain_tail *);

/*
 * auditchain_hash - hex SHA-256 of data (HMAC-SHA256 with key when
 * keylen > 0) into hex (AUDIT_HASH_HEX + 1 bytes).  0, or -1 (OpenSSL).
 */
int	auditchain_hash(const unsigned char *key, size_t keylen,
	    const char *data, size_t size, char *hex);

/*
 * auditchain_line_hash - the hash a parsed line should carry (of M, as
 * above) into hex.  0, or -1 (OpenSSL, or no memory).
 */
int	auditchain_line_hash(const unsigned char *key, size_t keylen,
	    const char *line, const struct auditchain_tail *, char *hex);

/* auditchain_hex - a 32-byte digest as 64 lowercase hex digits and a NUL. */
int	auditchain_hex(const unsigned char *md, unsigned int size, char *hex);

/* auditchain_is_hex - size lowercase hex digits. */
bool	auditchain_is_hex(const char *, size_t size);

/*
 * auditchain_hasher_new - a SHA-256 hasher (owned by the caller: free
 * with auditchain_hasher_free).  NULL when OpenSSL cannot make one.
 */
struct auditchain_hasher *auditchain_hasher_new(void);

/*
 * auditchain_hasher_set_key - hash with HMAC-SHA256 and key (its state is
 * precomputed once); keylen 0 goes back to SHA-256.  0, or -1 (EINVAL:
 * longer than AUDIT_KEY_MAX; ENOMEM).
 */
int	auditchain_hasher_set_key(struct auditchain_hasher *,
	    const unsigned char *key, size_t keylen);

/*
 * auditchain_hasher_copy_key - make dst hash as src does (its key state
 * duplicated, no key bytes needed).  0, or -1 (ENOMEM).  src is only read.
 */
int	auditchain_hasher_copy_key(struct auditchain_hasher *dst,
	    const struct auditchain_hasher *src);

/* auditchain_hasher_free - free; sets the pointer to NULL; NULL is fine. */
void	auditchain_hasher_free(struct auditchain_hasher **);

/* auditchain_begin - start a hash with size bytes (a record's fields); 0 or -1. */
int	auditchain_begin(struct auditchain_hasher *, const char *, size_t size);

/*
 * auditchain_finish - hash size more bytes and end: hex gets the hash.
 * 0, or -1.
 */
int	auditchain_finish(struct auditchain_hasher *, const char *, size_t size,
	    char *hex);

/*
 * auditchain_close - sb holds an open record ("{\"v\":2" and its fields,
 * from audit_format_*_open), all of it hashed by auditchain_begin() on h:
 * append ,"prev":"<prev>" and finish the hash over the text through the
 * closing "}", then append ,"hash":"<hash>"} and a newline; hex gets the
 * hash.  0, or -1 with errno (ENOMEM, EMSGSIZE from the strbuf; EIO from
 * OpenSSL).
 */
int	auditchain_close(struct auditchain_hasher *, struct strbuf *sb,
	    const char *prev, char *hex);

/*
 * auditchain_close_epoch - as auditchain_close(), with ,"epoch":N before
 * "prev" when epoch >= 0 (a sealed line: h keyed with epoch's key).
 */
int	auditchain_close_epoch(struct auditchain_hasher *, struct strbuf *sb,
	    long long epoch, const char *prev, char *hex);

/*
 * Sealed lines (auditseal.h): H = hex of HMAC-SHA256(K(e), SHA-256(M)),
 * the 32-byte binary digest of M keyed with the line's epoch key.  The
 * digest is a plain hasher's (no key: it may run in any thread before
 * the chain lock); only the short HMAC over it needs the key, so the
 * key lives in one "sealer" hasher (auditchain_hasher_set_key) alone.
 */

/*
 * auditchain_finish_sealed - as auditchain_finish() on the plain hasher
 * h, then the HMAC of its digest with sealer's key into hex.  0, or -1.
 */
int	auditchain_finish_sealed(struct auditchain_hasher *h,
	    struct auditchain_hasher *sealer, const char *, size_t size,
	    char *hex);

/*
 * auditchain_close_sealed - auditchain_close_epoch() for a sealed line:
 * h (plain) has hashed sb's fields; the hash is finished with sealer.
 */
int	auditchain_close_sealed(struct auditchain_hasher *h,
	    struct auditchain_hasher *sealer, struct strbuf *sb,
	    long long epoch, const char *prev, char *hex);

/*
 * auditchain_sealed_line_hash - the hash a parsed sealed line should
 * carry under key (keylen bytes: its epoch's key) into hex.  0, or -1.
 */
int	auditchain_sealed_line_hash(const unsigned char *key, size_t keylen,
	    const char *line, const struct auditchain_tail *, char *hex);

#endif /* TLSPOLICY_AUDITCHAIN_H */
