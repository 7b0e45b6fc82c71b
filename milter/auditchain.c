/*
 * NAME
 *	auditchain - the chained audit line: members, tail, hash, parse
 *
 * SYNOPSIS
 *	#include "auditchain.h"
 *
 * DESCRIPTION
 *	The one home of the line format of the audit file: how a record is
 *	closed with its "prev" and "hash" members (auditchain_close), how the
 *	end of a line is read back (auditchain_parse), and the chain hash
 *	(SHA-256, or HMAC-SHA256 with a key).  The writer, the stage
 *	recovery and the verifier use nothing else, so what is written is
 *	what is checked.
 *
 *	A hasher keeps its EVP contexts for reuse: the SHA-256 digest is
 *	fetched once per process (a read-only global after its first use),
 *	and an HMAC context is keyed once, then re-initialised with no key,
 *	which restarts it from the key's precomputed state.  A writer hashes
 *	a record's fields with its own hasher before it takes its chain lock
 *	(auditchain_begin) and only the tail under it (auditchain_close).
 *	A hasher is used by one thread at a time; the caller owns it.
 *
 * DIAGNOSTICS
 *	Functions return 0, or -1 (with errno where the header says so).
 *	Nothing is logged.
 *
 * SEE ALSO
 *	auditsink.c, auditrecover.c, auditverify.c; doc/audit-format.md
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "auditchain.h"
#include "strbuf.h"

struct auditchain_hasher {
	EVP_MD_CTX	*md;
	EVP_MAC_CTX	*mac;		/* HMAC-SHA256 keyed; NULL: SHA-256 */
};

/* SHA-256, fetched once for every hasher of the process. */
static EVP_MD		*sha256;
static pthread_once_t	 sha256_once = PTHREAD_ONCE_INIT;

static void	sha256_fetch(void);
static long long parse_epoch(const char *, const char *);
static int	close_line(struct auditchain_hasher *,
		    struct auditchain_hasher *, struct strbuf *, long long,
		    const char *, char *);

int
auditchain_parse(const char *line, size_t size, struct auditchain_tail *t)
{
	const char *prev, *hash;

	if (size < AUDITCHAIN_TAIL_LEN - 1)
		return -1;
	/* ,"prev":"<hex>","hash":"<hex>"} */
	prev = line + size - 1 - AUDITCHAIN_HASH_LEN - AUDITCHAIN_PREV_LEN;
	hash = prev + AUDITCHAIN_PREV_LEN;
	if (memcmp(prev, AUDITCHAIN_PREV, sizeof(AUDITCHAIN_PREV) - 1) != 0 ||
	    memcmp(hash, AUDITCHAIN_HASH, sizeof(AUDITCHAIN_HASH) - 1) != 0 ||
	    prev[AUDITCHAIN_PREV_LEN - 1] != '"' ||
	    hash[AUDITCHAIN_HASH_LEN - 1] != '"' || line[size - 1] != '}')
		return -1;
	t->prev = prev + sizeof(AUDITCHAIN_PREV) - 1;
	t->hash = hash + sizeof(AUDITCHAIN_HASH) - 1;
	if (!auditchain_is_hex(t->prev, AUDIT_HASH_HEX) ||
	    !auditchain_is_hex(t->hash, AUDIT_HASH_HEX))
		return -1;
	t->hashed = (size_t)(hash - line);
	t->epoch = parse_epoch(line, prev);
	t->is_seal = memmem(line, (size_t)(prev - line), AUDITCHAIN_SEAL_TYPE,
	    sizeof(AUDITCHAIN_SEAL_TYPE) - 1) != NULL;
	t->has_open = (size_t)(prev - line) >= sizeof(AUDITCHAIN_OPEN) &&
	    memcmp(line, AUDITCHAIN_OPEN ",", sizeof(AUDITCHAIN_OPEN)) == 0;
	return 0;
}

int
auditchain_hash(const unsigned char *key, size_t keylen, const char *data,
    size_t size, char *hex)
{
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
	return auditchain_hex(md, n, hex);
}

int
auditchain_line_hash(const unsigned char *key, size_t keylen,
    const char *line, const struct auditchain_tail *t, char *hex)
{
	char *text;
	int rc;

	if ((text = malloc(t->hashed + 1)) == NULL)
		return -1;
	(void) memcpy(text, line, t->hashed);
	text[t->hashed] = '}';
	rc = auditchain_hash(key, keylen, text, t->hashed + 1, hex);
	free(text);
	return rc;
}

int
auditchain_hex(const unsigned char *md, unsigned int size, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	if (size * 2 != AUDIT_HASH_HEX)
		return -1;
	for (unsigned int i = 0; i < size; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[AUDIT_HASH_HEX] = '\0';
	return 0;
}

bool
auditchain_is_hex(const char *s, size_t size)
{
	unsigned bad = 0;

	for (size_t i = 0; i < size; i++) {	/* no branch per digit */
		unsigned c = (unsigned char)s[i];

		bad |= (c - '0' > 9) & (c - 'a' > 5);
	}
	return bad == 0;
}

struct auditchain_hasher *
auditchain_hasher_new(void)
{
	struct auditchain_hasher *h;

	(void) pthread_once(&sha256_once, sha256_fetch);
	if (sha256 == NULL || (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->md = EVP_MD_CTX_new()) == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

int
auditchain_hasher_set_key(struct auditchain_hasher *h,
    const unsigned char *key, size_t keylen)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC_CTX *ctx = NULL;
	EVP_MAC *mac = NULL;

	if (keylen > AUDIT_KEY_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (keylen > 0 && ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(mac)) == NULL ||
	    EVP_MAC_init(ctx, key, keylen, params) != 1)) {
		EVP_MAC_CTX_free(ctx);
		EVP_MAC_free(mac);
		errno = ENOMEM;
		return -1;
	}
	EVP_MAC_free(mac);	/* the context keeps its own reference */
	EVP_MAC_CTX_free(h->mac);
	h->mac = ctx;
	return 0;
}

int
auditchain_hasher_copy_key(struct auditchain_hasher *dst,
    const struct auditchain_hasher *src)
{
	EVP_MAC_CTX *mac = NULL;

	if (src->mac != NULL && (mac = EVP_MAC_CTX_dup(src->mac)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	EVP_MAC_CTX_free(dst->mac);
	dst->mac = mac;
	return 0;
}

void
auditchain_hasher_free(struct auditchain_hasher **hp)
{
	struct auditchain_hasher *h = *hp;

	if (h == NULL)
		return;
	EVP_MAC_CTX_free(h->mac);
	EVP_MD_CTX_free(h->md);
	free(h);
	*hp = NULL;
}

int
auditchain_begin(struct auditchain_hasher *h, const char *data, size_t size)
{
	if (h->mac != NULL)	/* no key: from the key's precomputed state */
		return EVP_MAC_init(h->mac, NULL, 0, NULL) == 1 &&
		    EVP_MAC_update(h->mac, (const unsigned char *)data,
		    size) == 1 ? 0 : -1;
	return EVP_DigestInit_ex2(h->md, sha256, NULL) == 1 &&
	    EVP_DigestUpdate(h->md, data, size) == 1 ? 0 : -1;
}

int
auditchain_finish(struct auditchain_hasher *h, const char *data, size_t size,
    char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t mlen = 0;

	if (h->mac != NULL) {
		if ((size > 0 && EVP_MAC_update(h->mac,
		    (const unsigned char *)data, size) != 1) ||
		    EVP_MAC_final(h->mac, md, &mlen, sizeof(md)) != 1)
			return -1;
		n = (unsigned int)mlen;
	} else if ((size > 0 && EVP_DigestUpdate(h->md, data, size) != 1) ||
	    EVP_DigestFinal_ex(h->md, md, &n) != 1)
		return -1;
	return auditchain_hex(md, n, hex);
}

int
auditchain_close(struct auditchain_hasher *h, struct strbuf *sb,
    const char *prev, char *hex)
{
	return auditchain_close_epoch(h, sb, -1, prev, hex);
}

int
auditchain_close_epoch(struct auditchain_hasher *h, struct strbuf *sb,
    long long epoch, const char *prev, char *hex)
{
	return close_line(h, NULL, sb, epoch, prev, hex);
}

int
auditchain_close_sealed(struct auditchain_hasher *h,
    struct auditchain_hasher *sealer, struct strbuf *sb, long long epoch,
    const char *prev, char *hex)
{
	return close_line(h, sealer, sb, epoch, prev, hex);
}

int
auditchain_finish_sealed(struct auditchain_hasher *h,
    struct auditchain_hasher *sealer, const char *data, size_t size,
    char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	size_t mlen = 0;

	if (h->mac != NULL || sealer->mac == NULL ||
	    (size > 0 && EVP_DigestUpdate(h->md, data, size) != 1) ||
	    EVP_DigestFinal_ex(h->md, md, &n) != 1 ||
	    EVP_MAC_init(sealer->mac, NULL, 0, NULL) != 1 ||
	    EVP_MAC_update(sealer->mac, md, n) != 1 ||
	    EVP_MAC_final(sealer->mac, mac, &mlen, sizeof(mac)) != 1)
		return -1;
	return auditchain_hex(mac, (unsigned int)mlen, hex);
}

int
auditchain_sealed_line_hash(const unsigned char *key, size_t keylen,
    const char *line, const struct auditchain_tail *t, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *ctx;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, line, t->hashed) == 1 &&
	    EVP_DigestUpdate(ctx, "}", 1) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &n) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	return auditchain_hash(key, keylen, (const char *)md, n, hex);
}

/*
 * close_line - auditchain_close_epoch(), and with sealer (not NULL) the
 * hash finished by auditchain_finish_sealed().
 */
static int
close_line(struct auditchain_hasher *h, struct auditchain_hasher *sealer,
    struct strbuf *sb, long long epoch, const char *prev, char *hex)
{
	const size_t n = sizeof(AUDITCHAIN_PREV) - 1;
	size_t fields = sb->len;
	char *o;

	if (epoch >= 0 && strbuf_printf(sb, AUDITCHAIN_EPOCH "%lld",
	    epoch) == -1)
		return -1;
	if ((o = strbuf_space(sb, AUDITCHAIN_PREV_LEN + 1)) == NULL)
		return -1;
	(void) memcpy(o, AUDITCHAIN_PREV, n);
	(void) memcpy(o + n, prev, AUDIT_HASH_HEX);
	(void) memcpy(o + n + AUDIT_HASH_HEX, "\"}", 2);
	strbuf_commit(sb, AUDITCHAIN_PREV_LEN + 1);
	if ((sealer != NULL ? auditchain_finish_sealed(h, sealer,
	    sb->data + fields, sb->len - fields, hex) :
	    auditchain_finish(h, sb->data + fields, sb->len - fields,
	    hex)) == -1) {
		sb->len = fields;
		errno = EIO;
		return -1;
	}
	sb->len--;		/* reopen the object after the hashed "}" */
	if (strbuf_append(sb, AUDITCHAIN_HASH, sizeof(AUDITCHAIN_HASH) - 1) ==
	    -1 || strbuf_append(sb, hex, AUDIT_HASH_HEX) == -1 ||
	    strbuf_append(sb, "\"}\n", 3) == -1)
		return -1;
	return 0;
}

/*
 * parse_epoch - the number of an "epoch" member that ends at prev (the
 * ,"prev" of line), or -1 when there is none.
 */
static long long
parse_epoch(const char *line, const char *prev)
{
	const size_t n = sizeof(AUDITCHAIN_EPOCH) - 1;
	const char *p = prev;
	long long epoch = 0;

	while (p > line && p[-1] >= '0' && p[-1] <= '9' &&
	    prev - p < AUDITCHAIN_EPOCH_DIGITS)
		p--;
	if (p == prev || (size_t)(p - line) < n ||
	    memcmp(p - n, AUDITCHAIN_EPOCH, n) != 0 ||
	    (p[0] == '0' && prev - p > 1))
		return -1;
	for (; p < prev; p++)
		epoch = epoch * 10 + (*p - '0');
	return epoch;
}

/* sha256_fetch - the digest every hasher uses, once. */
static void
sha256_fetch(void)
{
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}
