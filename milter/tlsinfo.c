/*
 * NAME
 *	tlsinfo - TLS versions and cipher suites as the MTAs report them
 *
 * SYNOPSIS
 *	#include "tlsinfo.h"
 *
 * DESCRIPTION
 *	Versions.  Maps the {tls_version} strings that Postfix and Sendmail
 *	take from OpenSSL (SSL_get_version: "SSLv3", "TLSv1", "TLSv1.2", ...)
 *	to an ordered enum, and back to a canonical name.  Matching is exact
 *	up to ASCII case: no white space, prefixes or suffixes are tolerated,
 *	so "TLSv1/SSLv3" (old Sendmail with OpenSSL 1.0, which reported the
 *	cipher's version) and "UNKNOWN" are TLS_VERSION_UNKNOWN.
 *
 *	Ciphers.  There is no cipher table here: the index is built once
 *	(pthread_once, on first use or tlsinfo_cipher_init) from the linked
 *	OpenSSL.  It holds every suite compiled into libssl, found by asking
 *	SSL_CIPHER_find for each of the 65536 code points (signalling values
 *	such as TLS_FALLBACK_SCSV, which have no protocol version, are left
 *	out), plus anything in the SSL_CTX list that search missed.  A suite
 *	is_available when it is in the list of an SSL_CTX with security level
 *	0, "ALL:COMPLEMENTOFALL:@SECLEVEL=0" and all five TLS 1.3 suites, that
 *	is, when this OpenSSL with its configured providers could negotiate
 *	it.  Unavailable suites (IDEA, SEED, GOST without their providers)
 *	are still classified, because the MTA may link another OpenSSL.  For
 *	each suite the names, code point, bits, protocol version, key
 *	exchange, authentication and AEAD flag are copied from OpenSSL into
 *	static arrays; the SSL and SSL_CTX are then freed.
 *
 *	Classification (see tlsinfo.h for the classes): forward secrecy is
 *	DHE, ECDHE, DHE-PSK, ECDHE-PSK key exchange or any TLS 1.3 suite
 *	(whether a TLS 1.3 resumption used psk_ke is not visible in the MTA's
 *	macros); RSA, PSK, RSA-PSK, SRP and GOST key exchange do not count.
 *	CBC is decided from the cipher's EVP mode.  EXPORT suites no longer
 *	exist in OpenSSL 3 and DES-56 is not export grade, so bits are not
 *	used: EXPORT is set only for an OpenSSL name starting with "EXP".
 *	Debian's libssl is built with OPENSSL_NO_WEAK_SSL_CIPHERS, so it has
 *	no RC4, 3DES or single-DES suites at all: those names are unknown
 *	there, and the classes are kept for policies and other builds.
 *
 *	Lookup accepts the OpenSSL name, the IANA name and the shared TLS 1.3
 *	name, ASCII case-insensitively, ignoring surrounding white space; it
 *	is a binary search in a sorted name index.  An unknown name is
 *	reported as such; it is not guessed from its spelling.  Callers
 *	should treat an unknown cipher as failing every cipher requirement.
 *
 *	Apart from building the index (OpenSSL reads its configuration file
 *	when the SSL_CTX is made) these are pure functions without I/O or
 *	allocation; the index and all returned strings are static storage,
 *	immutable after the build and safe to read from any thread.
 *
 * DIAGNOSTICS
 *	Nothing is logged.  tlsinfo_cipher_init returns -1 when OpenSSL
 *	cannot list its ciphers or the index overflows its static limits;
 *	the index is then empty and every name is unknown.  OpenSSL errors
 *	raised while building are popped from the thread's error queue.  An
 *	out-of-range enum value is reported as "unknown".
 *
 * SEE ALSO
 *	facts.c, policy.c; ciphers(1ssl), SSL_CIPHER_get_name(3ssl);
 *	RFC 8446, RFC 5246, RFC 8996, RFC 7465 (no RC4), RFC 9325
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include "tlsinfo.h"

#define N_ELEMS(a)		(sizeof(a) / sizeof((a)[0]))
#define CIPHERS_MAX		512	/* OpenSSL 3.0 compiles in ~175 */
#define NAME_POOL_SIZE		32768	/* both names of every suite */
#define CIPHER_NAME_MAX		128	/* longer input is never a name */

#define CIPHER_LIST		"ALL:COMPLEMENTOFALL:@SECLEVEL=0"
#define CIPHER_SUITES_TLS13	"TLS_AES_128_GCM_SHA256:" \
				"TLS_AES_256_GCM_SHA384:" \
				"TLS_CHACHA20_POLY1305_SHA256:" \
				"TLS_AES_128_CCM_SHA256:" \
				"TLS_AES_128_CCM_8_SHA256"

/* One entry of the name index: a spelling and the suite it names. */
struct name_ref {
	const char	*name;
	size_t		 idx;
};

/* The index.  Written only by index_build, under pthread_once. */
static pthread_once_t		index_once = PTHREAD_ONCE_INIT;
static int			index_status = -1;
static struct tls_cipher_info	ciphers[CIPHERS_MAX];
static size_t			n_ciphers;
static struct name_ref		by_name[2 * CIPHERS_MAX];
static size_t			n_by_name;
static char			name_pool[NAME_POOL_SIZE];
static size_t			name_pool_used;

static const char *const class_names[] = {
	"NULL", "EXPORT", "RC4", "3DES", "DES", "CBC", "MD5", "ANON",
	"PSK", "SRP",
};

static void	index_build(void);
static int	index_fill(void);
static int	collect_compiled(SSL *, const STACK_OF(SSL_CIPHER) *);
static int	collect_missing(const STACK_OF(SSL_CIPHER) *);
static int	add_cipher(const SSL_CIPHER *, bool);
static bool	is_listed(const SSL_CIPHER *, const STACK_OF(SSL_CIPHER) *);
static bool	is_indexed(unsigned);
static const char *pool_dup(const char *);
static int	add_name(const char *, size_t);
static int	name_ref_cmp(const void *, const void *);
static enum tls_kx kx_from_nid(int);
static enum tls_auth auth_from_nid(int);
static bool	kx_is_forward_secret(enum tls_kx);
static bool	is_cbc_nid(int);
static bool	is_space(char);

/* Accepted spellings; several may map to one version. */
static const struct {
	const char		*name;
	enum tls_version	 version;
} version_names[] = {
	{ "SSLv2",	TLS_VERSION_SSLV2 },
	{ "SSLv3",	TLS_VERSION_SSLV3 },
	{ "TLSv1",	TLS_VERSION_TLSV1 },
	{ "TLSv1.0",	TLS_VERSION_TLSV1 },
	{ "TLSv1.1",	TLS_VERSION_TLSV1_1 },
	{ "TLSv1.2",	TLS_VERSION_TLSV1_2 },
	{ "TLSv1.3",	TLS_VERSION_TLSV1_3 },
};

enum tls_version
tlsinfo_parse_version(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0')
		return TLS_VERSION_NONE;
	for (i = 0; i < sizeof(version_names) / sizeof(version_names[0]); i++)
		if (strcasecmp(s, version_names[i].name) == 0)
			return version_names[i].version;
	return TLS_VERSION_UNKNOWN;
}

const char *
tlsinfo_version_name(enum tls_version v)
{
	switch (v) {
	case TLS_VERSION_NONE:
		return "none";
	case TLS_VERSION_UNKNOWN:
		return "unknown";
	case TLS_VERSION_SSLV2:
		return "SSLv2";
	case TLS_VERSION_SSLV3:
		return "SSLv3";
	case TLS_VERSION_TLSV1:
		return "TLSv1";
	case TLS_VERSION_TLSV1_1:
		return "TLSv1.1";
	case TLS_VERSION_TLSV1_2:
		return "TLSv1.2";
	case TLS_VERSION_TLSV1_3:
		return "TLSv1.3";
	}
	return "unknown";
}

bool
tlsinfo_version_is_known(enum tls_version v)
{
	return v >= TLS_VERSION_SSLV2 && v <= TLS_VERSION_TLSV1_3;
}

int
tlsinfo_cipher_init(void)
{
	if (pthread_once(&index_once, index_build) != 0)
		return -1;
	return index_status;
}

int
tlsinfo_cipher_lookup(const char *name, struct tls_cipher_info *out)
{
	char buf[CIPHER_NAME_MAX];
	struct name_ref key, *hit;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (name == NULL || tlsinfo_cipher_init() != 0)
		return -1;
	while (is_space(*name))
		name++;
	len = strlen(name);
	while (len > 0 && is_space(name[len - 1]))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	key.name = buf;
	key.idx = 0;
	hit = bsearch(&key, by_name, n_by_name, sizeof(by_name[0]),
	    name_ref_cmp);
	if (hit == NULL)
		return -1;
	*out = ciphers[hit->idx];
	return 0;
}

size_t
tlsinfo_cipher_count(void)
{
	(void) tlsinfo_cipher_init();
	return n_ciphers;
}

const struct tls_cipher_info *
tlsinfo_cipher_at(size_t i)
{
	if (i >= tlsinfo_cipher_count())
		return NULL;
	return &ciphers[i];
}

const char *
tlsinfo_cipher_class_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < N_ELEMS(class_names); i++)
		if (bit == 1u << i)
			return class_names[i];
	return NULL;
}

int
tlsinfo_cipher_class_parse(const char *s, unsigned *bit)
{
	size_t i;

	if (s == NULL)
		return -1;
	if (strcasecmp(s, "eNULL") == 0)
		s = "NULL";
	else if (strcasecmp(s, "aNULL") == 0)
		s = "ANON";
	for (i = 0; i < N_ELEMS(class_names); i++)
		if (strcasecmp(s, class_names[i]) == 0) {
			*bit = 1u << i;
			return 0;
		}
	return -1;
}

unsigned
tlsinfo_cipher_classify_nids(int cipher_nid, int digest_nid, int kx_nid,
    int auth_nid, bool is_aead, const char *openssl_name)
{
	unsigned classes = 0;

	if (cipher_nid == NID_undef)
		classes |= TLS_CIPHER_CLASS_NULL;
	if (openssl_name != NULL && strncasecmp(openssl_name, "EXP", 3) == 0)
		classes |= TLS_CIPHER_CLASS_EXPORT;
	if (cipher_nid == NID_rc4 || cipher_nid == NID_rc4_40)
		classes |= TLS_CIPHER_CLASS_RC4;
	if (cipher_nid == NID_des_ede3_cbc)
		classes |= TLS_CIPHER_CLASS_3DES;
	if (cipher_nid == NID_des_cbc)
		classes |= TLS_CIPHER_CLASS_DES;
	if (!is_aead && is_cbc_nid(cipher_nid))
		classes |= TLS_CIPHER_CLASS_CBC;
	if (digest_nid == NID_md5)
		classes |= TLS_CIPHER_CLASS_MD5;
	if (auth_nid == NID_auth_null)
		classes |= TLS_CIPHER_CLASS_ANON;
	if (kx_nid == NID_kx_psk || kx_nid == NID_kx_rsa_psk ||
	    kx_nid == NID_kx_dhe_psk || kx_nid == NID_kx_ecdhe_psk ||
	    auth_nid == NID_auth_psk)
		classes |= TLS_CIPHER_CLASS_PSK;
	if (kx_nid == NID_kx_srp)
		classes |= TLS_CIPHER_CLASS_SRP;
	return classes;
}

const char *
tlsinfo_kx_name(enum tls_kx kx)
{
	static const char *const names[] = {
		[TLS_KX_UNKNOWN] = "unknown",	[TLS_KX_RSA] = "RSA",
		[TLS_KX_DHE] = "DHE",		[TLS_KX_ECDHE] = "ECDHE",
		[TLS_KX_PSK] = "PSK",		[TLS_KX_RSA_PSK] = "RSAPSK",
		[TLS_KX_DHE_PSK] = "DHEPSK",	[TLS_KX_ECDHE_PSK] = "ECDHEPSK",
		[TLS_KX_SRP] = "SRP",		[TLS_KX_GOST] = "GOST",
		[TLS_KX_TLS13] = "TLS1.3",
	};

	if ((unsigned)kx >= N_ELEMS(names))
		return "unknown";
	return names[kx];
}

const char *
tlsinfo_auth_name(enum tls_auth auth)
{
	static const char *const names[] = {
		[TLS_AUTH_UNKNOWN] = "unknown",	[TLS_AUTH_NONE] = "none",
		[TLS_AUTH_RSA] = "RSA",		[TLS_AUTH_ECDSA] = "ECDSA",
		[TLS_AUTH_DSS] = "DSS",		[TLS_AUTH_PSK] = "PSK",
		[TLS_AUTH_SRP] = "SRP",		[TLS_AUTH_GOST] = "GOST",
		[TLS_AUTH_TLS13] = "TLS1.3",
	};

	if ((unsigned)auth >= N_ELEMS(names))
		return "unknown";
	return names[auth];
}

/* index_build - pthread_once routine: fill the index, or leave it empty */
static void
index_build(void)
{
	(void) ERR_set_mark();
	index_status = index_fill();
	(void) ERR_pop_to_mark();
	if (index_status != 0) {
		n_ciphers = 0;
		n_by_name = 0;
		return;
	}
	qsort(by_name, n_by_name, sizeof(by_name[0]), name_ref_cmp);
}

/* index_fill - list OpenSSL's ciphers through a throw-away SSL_CTX */
static int
index_fill(void)
{
	const STACK_OF(SSL_CIPHER) *avail;
	SSL_CTX *ctx;
	SSL *ssl = NULL;
	int rc = -1;

	if ((ctx = SSL_CTX_new(TLS_method())) == NULL)
		return -1;
	SSL_CTX_set_security_level(ctx, 0);
	if (SSL_CTX_set_cipher_list(ctx, CIPHER_LIST) != 1 ||
	    SSL_CTX_set_ciphersuites(ctx, CIPHER_SUITES_TLS13) != 1)
		goto out;
	if ((ssl = SSL_new(ctx)) == NULL)
		goto out;
	if ((avail = SSL_CTX_get_ciphers(ctx)) == NULL)
		goto out;
	if (collect_compiled(ssl, avail) == 0 && collect_missing(avail) == 0)
		rc = 0;
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return rc;
}

/* collect_compiled - add every suite libssl knows, by code point order */
static int
collect_compiled(SSL *ssl, const STACK_OF(SSL_CIPHER) *avail)
{
	const SSL_CIPHER *c;
	unsigned char cp[2];
	unsigned id;

	for (id = 0; id <= 0xffff; id++) {
		cp[0] = (unsigned char)(id >> 8);
		cp[1] = (unsigned char)(id & 0xff);
		if ((c = SSL_CIPHER_find(ssl, cp)) == NULL)
			continue;
		if (!tlsinfo_version_is_known(tlsinfo_parse_version(
		    SSL_CIPHER_get_version(c))))
			continue;	/* a signalling value (SCSV) */
		if (add_cipher(c, is_listed(c, avail)) != 0)
			return -1;
	}
	return 0;
}

/* collect_missing - add listed suites that SSL_CIPHER_find did not return */
static int
collect_missing(const STACK_OF(SSL_CIPHER) *avail)
{
	const SSL_CIPHER *c;
	int i;

	for (i = 0; i < sk_SSL_CIPHER_num(avail); i++) {
		c = sk_SSL_CIPHER_value(avail, i);
		if (is_indexed(SSL_CIPHER_get_protocol_id(c)))
			continue;
		if (add_cipher(c, true) != 0)
			return -1;
	}
	return 0;
}

/* add_cipher - copy and classify one suite; index both of its names */
static int
add_cipher(const SSL_CIPHER *c, bool is_available)
{
	struct tls_cipher_info *ci;
	const char *std;
	int kx_nid, auth_nid;

	if (n_ciphers == CIPHERS_MAX)
		return -1;
	ci = &ciphers[n_ciphers];
	std = SSL_CIPHER_standard_name(c);
	ci->openssl_name = pool_dup(SSL_CIPHER_get_name(c));
	ci->iana_name = pool_dup(std != NULL ? std : "");
	if (ci->openssl_name == NULL || ci->iana_name == NULL)
		return -1;
	kx_nid = SSL_CIPHER_get_kx_nid(c);
	auth_nid = SSL_CIPHER_get_auth_nid(c);
	ci->id = SSL_CIPHER_get_protocol_id(c);
	ci->bits = SSL_CIPHER_get_bits(c, &ci->alg_bits);
	ci->min_version = tlsinfo_parse_version(SSL_CIPHER_get_version(c));
	ci->kx = kx_from_nid(kx_nid);
	ci->auth = auth_from_nid(auth_nid);
	ci->is_aead = SSL_CIPHER_is_aead(c) != 0;
	ci->is_tls13 = ci->min_version == TLS_VERSION_TLSV1_3;
	ci->has_forward_secrecy = ci->is_tls13 || kx_is_forward_secret(ci->kx);
	ci->classes = tlsinfo_cipher_classify_nids(SSL_CIPHER_get_cipher_nid(c),
	    SSL_CIPHER_get_digest_nid(c), kx_nid, auth_nid, ci->is_aead,
	    ci->openssl_name);
	ci->is_known = true;
	ci->is_available = is_available;
	if (add_name(ci->openssl_name, n_ciphers) != 0 ||
	    (*ci->iana_name != '\0' &&
	    strcasecmp(ci->iana_name, ci->openssl_name) != 0 &&
	    add_name(ci->iana_name, n_ciphers) != 0))
		return -1;
	n_ciphers++;
	return 0;
}

/* is_listed - is the suite in the SSL_CTX's cipher list? */
static bool
is_listed(const SSL_CIPHER *c, const STACK_OF(SSL_CIPHER) *avail)
{
	uint16_t id = SSL_CIPHER_get_protocol_id(c);
	int i;

	for (i = 0; i < sk_SSL_CIPHER_num(avail); i++)
		if (SSL_CIPHER_get_protocol_id(sk_SSL_CIPHER_value(avail, i)) ==
		    id)
			return true;
	return false;
}

/* is_indexed - is a suite with this code point in the index already? */
static bool
is_indexed(unsigned id)
{
	size_t i;

	for (i = 0; i < n_ciphers; i++)
		if (ciphers[i].id == id)
			return true;
	return false;
}

/* pool_dup - copy a name into the static name pool; NULL when full */
static const char *
pool_dup(const char *s)
{
	size_t size;
	char *p;

	if (s == NULL)
		return NULL;
	size = strlen(s) + 1;
	if (size > CIPHER_NAME_MAX || size > sizeof(name_pool) - name_pool_used)
		return NULL;
	p = name_pool + name_pool_used;
	memcpy(p, s, size);
	name_pool_used += size;
	return p;
}

/* add_name - append a spelling to the (not yet sorted) name index */
static int
add_name(const char *name, size_t idx)
{
	if (n_by_name == N_ELEMS(by_name))
		return -1;
	by_name[n_by_name].name = name;
	by_name[n_by_name].idx = idx;
	n_by_name++;
	return 0;
}

/* name_ref_cmp - qsort/bsearch order: ASCII case-insensitive name */
static int
name_ref_cmp(const void *a, const void *b)
{
	const struct name_ref *x = a, *y = b;

	return strcasecmp(x->name, y->name);
}

/* kx_from_nid - OpenSSL key exchange NID to our enum */
static enum tls_kx
kx_from_nid(int nid)
{
	switch (nid) {
	case NID_kx_rsa:
		return TLS_KX_RSA;
	case NID_kx_dhe:
		return TLS_KX_DHE;
	case NID_kx_ecdhe:
		return TLS_KX_ECDHE;
	case NID_kx_psk:
		return TLS_KX_PSK;
	case NID_kx_rsa_psk:
		return TLS_KX_RSA_PSK;
	case NID_kx_dhe_psk:
		return TLS_KX_DHE_PSK;
	case NID_kx_ecdhe_psk:
		return TLS_KX_ECDHE_PSK;
	case NID_kx_srp:
		return TLS_KX_SRP;
	case NID_kx_gost:
	case NID_kx_gost18:
		return TLS_KX_GOST;
	case NID_kx_any:
		return TLS_KX_TLS13;
	}
	return TLS_KX_UNKNOWN;
}

/* auth_from_nid - OpenSSL authentication NID to our enum */
static enum tls_auth
auth_from_nid(int nid)
{
	switch (nid) {
	case NID_auth_null:
		return TLS_AUTH_NONE;
	case NID_auth_rsa:
		return TLS_AUTH_RSA;
	case NID_auth_ecdsa:
		return TLS_AUTH_ECDSA;
	case NID_auth_dss:
		return TLS_AUTH_DSS;
	case NID_auth_psk:
		return TLS_AUTH_PSK;
	case NID_auth_srp:
		return TLS_AUTH_SRP;
	case NID_auth_gost01:
	case NID_auth_gost12:
		return TLS_AUTH_GOST;
	case NID_auth_any:
		return TLS_AUTH_TLS13;
	}
	return TLS_AUTH_UNKNOWN;
}

/* kx_is_forward_secret - ephemeral (EC)DH key exchange, with or without PSK */
static bool
kx_is_forward_secret(enum tls_kx kx)
{
	return kx == TLS_KX_DHE || kx == TLS_KX_ECDHE ||
	    kx == TLS_KX_DHE_PSK || kx == TLS_KX_ECDHE_PSK ||
	    kx == TLS_KX_TLS13;
}

/* is_cbc_nid - is the cipher a block cipher in CBC mode? */
static bool
is_cbc_nid(int nid)
{
	const EVP_CIPHER *evp;
	const char *sn;

	if (nid == NID_undef)
		return false;
	if ((evp = EVP_get_cipherbynid(nid)) != NULL)
		return EVP_CIPHER_get_mode(evp) == EVP_CIPH_CBC_MODE;
	/* Not in this libcrypto's legacy table: go by the object's name. */
	sn = OBJ_nid2sn(nid);
	return sn != NULL && strstr(sn, "CBC") != NULL;
}

/* is_space - ASCII white space, independent of the locale */
static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}
