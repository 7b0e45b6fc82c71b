/*
 * NAME
 *	check_cipher - unit tests for the cipher classification in tlsinfo.c
 *
 * SYNOPSIS
 *	check_cipher
 *
 * DESCRIPTION
 *	Check suite.  Unhappy paths first: names that must be unknown (empty,
 *	white space only, lists, keywords, signalling values, a 10 KiB
 *	string), class words that must not parse.  Then the whole cipher
 *	list of the linked OpenSSL, made here independently of tlsinfo
 *	(ALL:COMPLEMENTOFALL:@SECLEVEL=0 plus the five TLS 1.3 suites): its
 *	size is printed and must exceed 100, every suite must be found by its
 *	OpenSSL and by its IANA name and classify consistently.  Then the
 *	walk of tlsinfo's own index, table-driven known answers, the class
 *	rule on raw NIDs (for RC4, 3DES and DES, which Debian's libssl lacks),
 *	the class and enum names, and a concurrent first use.
 *
 *	Weak suites (RC4-SHA, DES-CBC3-SHA) are looked up and reported; when
 *	present they must be classified, when absent they must be unknown.
 *
 * DIAGNOSTICS
 *	Exit status 0 when every test passes, 1 otherwise.  Prints the size
 *	of the cipher list and of the index, and which weak suites exist.
 *
 * SEE ALSO
 *	tlsinfo.c, check_tlsinfo.c
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include "tlsinfo.h"

#define N_ELEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define N_THREADS	8
#define LONG_NAME_SIZE	(10 * 1024)

#define C_NULL		TLS_CIPHER_CLASS_NULL
#define C_RC4		TLS_CIPHER_CLASS_RC4
#define C_3DES		TLS_CIPHER_CLASS_3DES
#define C_DES		TLS_CIPHER_CLASS_DES
#define C_CBC		TLS_CIPHER_CLASS_CBC
#define C_MD5		TLS_CIPHER_CLASS_MD5
#define C_ANON		TLS_CIPHER_CLASS_ANON
#define C_PSK		TLS_CIPHER_CLASS_PSK
#define C_SRP		TLS_CIPHER_CLASS_SRP
#define C_EXPORT	TLS_CIPHER_CLASS_EXPORT

static const char *const unknown_names[] = {
	"RC4-XYZ", "", " ", " \t\r\n", "AES128-SHA:AES256-SHA",
	"AES128 SHA", "AES128-SHA-", "-AES128-SHA", "AES128_SHA", "ALL",
	"HIGH", "eNULL", "TLSv1.2", "TLS_FALLBACK_SCSV",
	"TLS_EMPTY_RENEGOTIATION_INFO_SCSV", "TLS_AES_128_GCM_SHA512",
	"ECDHE-RSA-AES256-GCM-SHA384\n\nX", "(NONE)", "unknown",
};

/* Expected classification of one name; exp_* compared when found. */
static const struct known {
	const char		*label;
	const char		*input;
	const char		*openssl_name;
	const char		*iana_name;
	int			 bits;
	bool			 has_fs;
	bool			 is_aead;
	bool			 is_tls13;
	enum tls_kx		 kx;
	enum tls_auth		 auth;
	unsigned		 classes;
	enum tls_version	 min_version;
} known[] = {
	{ "ECDHE-RSA AES256 GCM", "ECDHE-RSA-AES256-GCM-SHA384",
	  "ECDHE-RSA-AES256-GCM-SHA384",
	  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 256, true, true, false,
	  TLS_KX_ECDHE, TLS_AUTH_RSA, 0, TLS_VERSION_TLSV1_2 },
	{ "RSA AES128 CBC", "AES128-SHA", "AES128-SHA",
	  "TLS_RSA_WITH_AES_128_CBC_SHA", 128, false, false, false,
	  TLS_KX_RSA, TLS_AUTH_RSA, C_CBC, TLS_VERSION_SSLV3 },
	{ "IANA name of AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",
	  "AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA", 128, false, false,
	  false, TLS_KX_RSA, TLS_AUTH_RSA, C_CBC, TLS_VERSION_SSLV3 },
	{ "TLS 1.3 AES128 GCM", "TLS_AES_128_GCM_SHA256",
	  "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", 128, true,
	  true, true, TLS_KX_TLS13, TLS_AUTH_TLS13, 0, TLS_VERSION_TLSV1_3 },
	{ "TLS 1.3 AES256 GCM", "TLS_AES_256_GCM_SHA384",
	  "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", 256, true,
	  true, true, TLS_KX_TLS13, TLS_AUTH_TLS13, 0, TLS_VERSION_TLSV1_3 },
	{ "TLS 1.3 CHACHA20", "TLS_CHACHA20_POLY1305_SHA256",
	  "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
	  256, true, true, true, TLS_KX_TLS13, TLS_AUTH_TLS13, 0,
	  TLS_VERSION_TLSV1_3 },
	{ "TLS 1.3 CCM_8", "TLS_AES_128_CCM_8_SHA256",
	  "TLS_AES_128_CCM_8_SHA256", "TLS_AES_128_CCM_8_SHA256", 128, true,
	  true, true, TLS_KX_TLS13, TLS_AUTH_TLS13, 0, TLS_VERSION_TLSV1_3 },
	{ "ECDHE-ECDSA CHACHA20", "ECDHE-ECDSA-CHACHA20-POLY1305",
	  "ECDHE-ECDSA-CHACHA20-POLY1305",
	  "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 256, true, true,
	  false, TLS_KX_ECDHE, TLS_AUTH_ECDSA, 0, TLS_VERSION_TLSV1_2 },
	{ "DHE-RSA AES128 CBC", "DHE-RSA-AES128-SHA256",
	  "DHE-RSA-AES128-SHA256", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 128,
	  true, false, false, TLS_KX_DHE, TLS_AUTH_RSA, C_CBC,
	  TLS_VERSION_TLSV1_2 },
	{ "RSA AES256 GCM", "AES256-GCM-SHA384", "AES256-GCM-SHA384",
	  "TLS_RSA_WITH_AES_256_GCM_SHA384", 256, false, true, false,
	  TLS_KX_RSA, TLS_AUTH_RSA, 0, TLS_VERSION_TLSV1_2 },
	{ "RSA NULL SHA256", "NULL-SHA256", "NULL-SHA256",
	  "TLS_RSA_WITH_NULL_SHA256", 0, false, false, false, TLS_KX_RSA,
	  TLS_AUTH_RSA, C_NULL, TLS_VERSION_TLSV1_2 },
	{ "RSA NULL MD5", "NULL-MD5", "NULL-MD5", "TLS_RSA_WITH_NULL_MD5", 0,
	  false, false, false, TLS_KX_RSA, TLS_AUTH_RSA, C_NULL | C_MD5,
	  TLS_VERSION_SSLV3 },
	{ "anonymous DH", "ADH-AES128-SHA", "ADH-AES128-SHA",
	  "TLS_DH_anon_WITH_AES_128_CBC_SHA", 128, true, false, false,
	  TLS_KX_DHE, TLS_AUTH_NONE, C_ANON | C_CBC, TLS_VERSION_SSLV3 },
	{ "anonymous ECDH NULL", "AECDH-NULL-SHA", "AECDH-NULL-SHA",
	  "TLS_ECDH_anon_WITH_NULL_SHA", 0, true, false, false, TLS_KX_ECDHE,
	  TLS_AUTH_NONE, C_NULL | C_ANON, TLS_VERSION_TLSV1 },
	{ "plain PSK", "PSK-AES128-CBC-SHA", "PSK-AES128-CBC-SHA",
	  "TLS_PSK_WITH_AES_128_CBC_SHA", 128, false, false, false,
	  TLS_KX_PSK, TLS_AUTH_PSK, C_PSK | C_CBC, TLS_VERSION_SSLV3 },
	{ "ECDHE-PSK", "ECDHE-PSK-AES128-CBC-SHA256",
	  "ECDHE-PSK-AES128-CBC-SHA256",
	  "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256", 128, true, false, false,
	  TLS_KX_ECDHE_PSK, TLS_AUTH_PSK, C_PSK | C_CBC, TLS_VERSION_TLSV1 },
	{ "RSA-PSK GCM", "RSA-PSK-AES128-GCM-SHA256",
	  "RSA-PSK-AES128-GCM-SHA256", "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256",
	  128, false, true, false, TLS_KX_RSA_PSK, TLS_AUTH_RSA, C_PSK,
	  TLS_VERSION_TLSV1_2 },
	{ "SRP", "SRP-AES-128-CBC-SHA", "SRP-AES-128-CBC-SHA",
	  "TLS_SRP_SHA_WITH_AES_128_CBC_SHA", 128, false, false, false,
	  TLS_KX_SRP, TLS_AUTH_SRP, C_SRP | C_CBC, TLS_VERSION_SSLV3 },
	{ "CAMELLIA CBC", "CAMELLIA256-SHA", "CAMELLIA256-SHA",
	  "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA", 256, false, false, false,
	  TLS_KX_RSA, TLS_AUTH_RSA, C_CBC, TLS_VERSION_SSLV3 },
	{ "ARIA GCM is AEAD", "ECDHE-ARIA128-GCM-SHA256",
	  "ECDHE-ARIA128-GCM-SHA256",
	  "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256", 128, true, true, false,
	  TLS_KX_ECDHE, TLS_AUTH_RSA, 0, TLS_VERSION_TLSV1_2 },
	{ "CCM8", "AES128-CCM8", "AES128-CCM8", "TLS_RSA_WITH_AES_128_CCM_8",
	  128, false, true, false, TLS_KX_RSA, TLS_AUTH_RSA, 0,
	  TLS_VERSION_TLSV1_2 },
	{ "lower case", "ecdhe-rsa-aes256-gcm-sha384",
	  "ECDHE-RSA-AES256-GCM-SHA384",
	  "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 256, true, true, false,
	  TLS_KX_ECDHE, TLS_AUTH_RSA, 0, TLS_VERSION_TLSV1_2 },
	{ "lower case IANA", "tls_dhe_rsa_with_aes_128_cbc_sha256",
	  "DHE-RSA-AES128-SHA256", "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 128,
	  true, false, false, TLS_KX_DHE, TLS_AUTH_RSA, C_CBC,
	  TLS_VERSION_TLSV1_2 },
	{ "lower case TLS 1.3", "tls_aes_128_gcm_sha256",
	  "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", 128, true,
	  true, true, TLS_KX_TLS13, TLS_AUTH_TLS13, 0, TLS_VERSION_TLSV1_3 },
	{ "surrounding white space", " \tAES128-SHA\r\n", "AES128-SHA",
	  "TLS_RSA_WITH_AES_128_CBC_SHA", 128, false, false, false,
	  TLS_KX_RSA, TLS_AUTH_RSA, C_CBC, TLS_VERSION_SSLV3 },
};

/* Weak suites that a libssl may or may not have; classes when present. */
static const struct {
	const char	*name;
	int		 bits;
	unsigned	 classes;
} optional[] = {
	{ "DES-CBC3-SHA", 112, C_3DES | C_CBC },
	{ "TLS_RSA_WITH_3DES_EDE_CBC_SHA", 112, C_3DES | C_CBC },
	{ "RC4-SHA", 128, C_RC4 },
	{ "RC4-MD5", 128, C_RC4 | C_MD5 },
	{ "DES-CBC-SHA", 56, C_DES | C_CBC },
	{ "SEED-SHA", 128, C_CBC },
	{ "IDEA-CBC-SHA", 128, C_CBC },
};

/* The class rule on raw NIDs, for suites this libssl may lack. */
static const struct {
	const char	*label;
	int		 cipher, digest, kx, auth;
	bool		 is_aead;
	const char	*name;
	unsigned	 classes;
} by_nids[] = {
	{ "3DES", NID_des_ede3_cbc, NID_sha1, NID_kx_rsa, NID_auth_rsa,
	  false, "DES-CBC3-SHA", C_3DES | C_CBC },
	{ "RC4 MD5", NID_rc4, NID_md5, NID_kx_rsa, NID_auth_rsa, false,
	  "RC4-MD5", C_RC4 | C_MD5 },
	{ "single DES", NID_des_cbc, NID_sha1, NID_kx_dhe, NID_auth_rsa,
	  false, "EDH-RSA-DES-CBC-SHA", C_DES | C_CBC },
	{ "export RC4-40", NID_rc4_40, NID_md5, NID_kx_rsa, NID_auth_rsa,
	  false, "EXP-RC4-MD5", C_EXPORT | C_RC4 | C_MD5 },
	{ "export by name only", NID_des_cbc, NID_sha1, NID_kx_rsa,
	  NID_auth_rsa, false, "exp-des-cbc-sha", C_EXPORT | C_DES | C_CBC },
	{ "no name", NID_aes_128_cbc, NID_sha1, NID_kx_rsa, NID_auth_rsa,
	  false, NULL, C_CBC },
	{ "NULL anon", NID_undef, NID_sha1, NID_kx_ecdhe, NID_auth_null,
	  false, "AECDH-NULL-SHA", C_NULL | C_ANON },
	{ "AEAD GCM", NID_aes_256_gcm, NID_undef, NID_kx_ecdhe, NID_auth_rsa,
	  true, "ECDHE-RSA-AES256-GCM-SHA384", 0 },
	{ "AEAD flag wins over mode", NID_aes_128_cbc, NID_undef, NID_kx_any,
	  NID_auth_any, true, "X", 0 },
	{ "DHE-PSK", NID_camellia_128_cbc, NID_sha256, NID_kx_dhe_psk,
	  NID_auth_psk, false, "DHE-PSK-CAMELLIA128-SHA256", C_PSK | C_CBC },
	{ "SRP", NID_aes_256_cbc, NID_sha1, NID_kx_srp, NID_auth_rsa, false,
	  "SRP-RSA-AES-256-CBC-SHA", C_SRP | C_CBC },
	{ "GOST CNT", NID_gost89_cnt, NID_id_GostR3411_94, NID_kx_gost,
	  NID_auth_gost01, false, "GOST2001-GOST89-GOST89", 0 },
};

static const struct {
	const char	*word;
	int		 rc;
	unsigned	 bit;
} class_words[] = {
	{ "", -1, 0 }, { " CBC", -1, 0 }, { "CBC ", -1, 0 },
	{ "RC5", -1, 0 }, { "AEAD", -1, 0 }, { "NULL,CBC", -1, 0 },
	{ "DES3", -1, 0 }, { "3des", 0, C_3DES }, { "NULL", 0, C_NULL },
	{ "null", 0, C_NULL }, { "eNULL", 0, C_NULL }, { "ANULL", 0, C_ANON },
	{ "anon", 0, C_ANON }, { "Export", 0, C_EXPORT }, { "rc4", 0, C_RC4 },
	{ "DES", 0, C_DES }, { "cbc", 0, C_CBC }, { "MD5", 0, C_MD5 },
	{ "psk", 0, C_PSK }, { "SRP", 0, C_SRP },
};

/* check_consistent - class invariants that hold for every suite */
static void
check_consistent(const struct tls_cipher_info *ci)
{
	const char *n = ci->openssl_name;

	ck_assert(ci->is_known);
	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_nonnull(ci->iana_name);
	ck_assert_msg((ci->classes & ~TLS_CIPHER_CLASS_ALL) == 0, "%s", n);
	ck_assert_msg(tlsinfo_version_is_known(ci->min_version), "%s", n);
	ck_assert_msg(ci->kx != TLS_KX_UNKNOWN, "%s: kx", n);
	/* OpenSSL has no auth NID for suites of both GOST generations. */
	ck_assert_msg(ci->auth != TLS_AUTH_UNKNOWN || ci->kx == TLS_KX_GOST,
	    "%s: auth", n);
	ck_assert_msg(!(ci->is_aead && (ci->classes & C_CBC)), "%s", n);
	if (ci->is_tls13)
		ck_assert_msg(ci->has_forward_secrecy && ci->is_aead &&
		    ci->classes == 0 && ci->kx == TLS_KX_TLS13, "%s", n);
	ck_assert_msg((ci->kx == TLS_KX_TLS13) == ci->is_tls13, "%s", n);
	if (ci->classes & C_NULL)
		ck_assert_msg(ci->bits == 0 && !ci->is_aead &&
		    !(ci->classes & C_CBC), "%s: NULL", n);
	else
		ck_assert_msg(ci->bits >= 56, "%s: %d bits", n, ci->bits);
	if (ci->classes & (C_3DES | C_DES))
		ck_assert_msg(ci->classes & C_CBC, "%s: DES not CBC", n);
	if (ci->classes & C_RC4)
		ck_assert_msg(!(ci->classes & C_CBC), "%s: RC4 CBC", n);
	if (!ci->is_aead && !(ci->classes & (C_NULL | C_RC4)) &&
	    ci->kx != TLS_KX_GOST)
		ck_assert_msg(ci->classes & C_CBC, "%s: not CBC", n);
	ck_assert_msg(ci->has_forward_secrecy == (ci->kx == TLS_KX_DHE ||
	    ci->kx == TLS_KX_ECDHE || ci->kx == TLS_KX_DHE_PSK ||
	    ci->kx == TLS_KX_ECDHE_PSK || ci->kx == TLS_KX_TLS13), "%s", n);
	ck_assert_msg(((ci->classes & C_ANON) != 0) ==
	    (ci->auth == TLS_AUTH_NONE), "%s: ANON", n);
}

/* check_round_trip - both names of a suite find the same entry */
static void
check_round_trip(const struct tls_cipher_info *ci)
{
	struct tls_cipher_info got;

	ck_assert_msg(tlsinfo_cipher_lookup(ci->openssl_name, &got) == 0,
	    "lookup %s", ci->openssl_name);
	ck_assert_uint_eq(got.id, ci->id);
	ck_assert_ptr_eq(got.openssl_name, ci->openssl_name);
	if (*ci->iana_name == '\0')
		return;
	ck_assert_msg(tlsinfo_cipher_lookup(ci->iana_name, &got) == 0,
	    "lookup %s", ci->iana_name);
	ck_assert_msg(got.id == ci->id, "%s -> %s", ci->iana_name,
	    got.openssl_name);
}

START_TEST(test_unknown)
{
	struct tls_cipher_info ci;

	memset(&ci, 0xa5, sizeof(ci));
	ck_assert_int_eq(tlsinfo_cipher_lookup(unknown_names[_i], &ci), -1);
	ck_assert(!ci.is_known);
	ck_assert_ptr_null(ci.openssl_name);
	ck_assert_int_eq(ci.bits, 0);
	ck_assert_uint_eq(ci.classes, 0);
	ck_assert(!ci.has_forward_secrecy);
}
END_TEST

START_TEST(test_unknown_null_and_long)
{
	struct tls_cipher_info ci;
	char *big;

	ck_assert_int_eq(tlsinfo_cipher_lookup(NULL, &ci), -1);
	ck_assert(!ci.is_known);
	big = malloc(LONG_NAME_SIZE + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'A', LONG_NAME_SIZE);
	big[LONG_NAME_SIZE] = '\0';
	ck_assert_int_eq(tlsinfo_cipher_lookup(big, &ci), -1);
	/* Long white space around a real name is still only white space. */
	memset(big, ' ', LONG_NAME_SIZE);
	memcpy(big + LONG_NAME_SIZE / 2, "AES128-SHA", 10);
	ck_assert_int_eq(tlsinfo_cipher_lookup(big, &ci), 0);
	ck_assert_str_eq(ci.openssl_name, "AES128-SHA");
	/* A name-like word just over the limit is unknown, not cut short. */
	memcpy(big, "AES128-SHA", 10);
	memset(big + 10, 'A', 200);
	big[210] = '\0';
	ck_assert_int_eq(tlsinfo_cipher_lookup(big, &ci), -1);
	free(big);
}
END_TEST

START_TEST(test_openssl_list)
{
	const STACK_OF(SSL_CIPHER) *sk;
	const SSL_CIPHER *c;
	struct tls_cipher_info ci;
	SSL_CTX *ctx;
	int i, n;

	ctx = SSL_CTX_new(TLS_method());
	ck_assert_ptr_nonnull(ctx);
	SSL_CTX_set_security_level(ctx, 0);
	ck_assert_int_eq(SSL_CTX_set_cipher_list(ctx,
	    "ALL:COMPLEMENTOFALL:@SECLEVEL=0"), 1);
	ck_assert_int_eq(SSL_CTX_set_ciphersuites(ctx,
	    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
	    "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:"
	    "TLS_AES_128_CCM_8_SHA256"), 1);
	sk = SSL_CTX_get_ciphers(ctx);
	n = sk_SSL_CIPHER_num(sk);
	printf("check_cipher: %s lists %d suites "
	    "(ALL:COMPLEMENTOFALL:@SECLEVEL=0 + TLS 1.3)\n",
	    OpenSSL_version(OPENSSL_VERSION), n);
	ck_assert_int_gt(n, 100);
	for (i = 0; i < n; i++) {
		c = sk_SSL_CIPHER_value(sk, i);
		ck_assert_msg(tlsinfo_cipher_lookup(SSL_CIPHER_get_name(c),
		    &ci) == 0, "unknown: %s", SSL_CIPHER_get_name(c));
		ck_assert_uint_eq(ci.id, SSL_CIPHER_get_protocol_id(c));
		ck_assert_msg(ci.is_available, "%s", ci.openssl_name);
		ck_assert_int_eq(ci.bits, SSL_CIPHER_get_bits(c, NULL));
		ck_assert_int_eq(ci.is_aead, SSL_CIPHER_is_aead(c) != 0);
		check_consistent(&ci);
		check_round_trip(&ci);
	}
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(test_index_walk)
{
	const struct tls_cipher_info *ci;
	size_t i, n, n_available = 0;

	ck_assert_int_eq(tlsinfo_cipher_init(), 0);
	n = tlsinfo_cipher_count();
	ck_assert_uint_gt(n, 100);
	for (i = 0; i < n; i++) {
		ci = tlsinfo_cipher_at(i);
		ck_assert_ptr_nonnull(ci);
		if (i > 0)
			ck_assert_uint_lt(tlsinfo_cipher_at(i - 1)->id, ci->id);
		check_consistent(ci);
		check_round_trip(ci);
		n_available += ci->is_available;
	}
	ck_assert_ptr_null(tlsinfo_cipher_at(n));
	ck_assert_ptr_null(tlsinfo_cipher_at((size_t)-1));
	printf("check_cipher: index holds %zu suites, %zu available\n", n,
	    n_available);
}
END_TEST

START_TEST(test_known)
{
	const struct known *k = &known[_i];
	struct tls_cipher_info ci;

	ck_assert_msg(tlsinfo_cipher_lookup(k->input, &ci) == 0, "%s",
	    k->label);
	ck_assert_str_eq(ci.openssl_name, k->openssl_name);
	ck_assert_str_eq(ci.iana_name, k->iana_name);
	ck_assert_msg(ci.bits == k->bits, "%s: bits %d", k->label, ci.bits);
	ck_assert_msg(ci.has_forward_secrecy == k->has_fs, "%s: FS", k->label);
	ck_assert_msg(ci.is_aead == k->is_aead, "%s: AEAD", k->label);
	ck_assert_msg(ci.is_tls13 == k->is_tls13, "%s: TLS13", k->label);
	ck_assert_msg(ci.kx == k->kx, "%s: kx %s", k->label,
	    tlsinfo_kx_name(ci.kx));
	ck_assert_msg(ci.auth == k->auth, "%s: auth %s", k->label,
	    tlsinfo_auth_name(ci.auth));
	ck_assert_msg(ci.classes == k->classes, "%s: classes %#x", k->label,
	    ci.classes);
	ck_assert_msg(ci.min_version == k->min_version, "%s: version %s",
	    k->label, tlsinfo_version_name(ci.min_version));
	ck_assert(ci.is_known && ci.is_available);
}
END_TEST

START_TEST(test_optional)
{
	struct tls_cipher_info ci;
	int rc;

	rc = tlsinfo_cipher_lookup(optional[_i].name, &ci);
	printf("check_cipher: %s is %s\n", optional[_i].name, rc != 0 ?
	    "not in this libssl" : ci.is_available ? "available" :
	    "compiled in, not available");
	if (rc != 0) {
		ck_assert(!ci.is_known);
		return;
	}
	ck_assert_int_eq(ci.bits, optional[_i].bits);
	ck_assert_uint_eq(ci.classes, optional[_i].classes);
	ck_assert(!ci.has_forward_secrecy && !ci.is_aead);
}
END_TEST

START_TEST(test_by_nids)
{
	unsigned got;

	got = tlsinfo_cipher_classify_nids(by_nids[_i].cipher,
	    by_nids[_i].digest, by_nids[_i].kx, by_nids[_i].auth,
	    by_nids[_i].is_aead, by_nids[_i].name);
	ck_assert_msg(got == by_nids[_i].classes, "%s: %#x, expected %#x",
	    by_nids[_i].label, got, by_nids[_i].classes);
}
END_TEST

START_TEST(test_class_words)
{
	unsigned bit = 0xdead;
	int rc;

	rc = tlsinfo_cipher_class_parse(class_words[_i].word, &bit);
	ck_assert_msg(rc == class_words[_i].rc, "\"%s\"", class_words[_i].word);
	ck_assert_uint_eq(bit, rc == 0 ? class_words[_i].bit : 0xdead);
}
END_TEST

START_TEST(test_class_names)
{
	unsigned bit, parsed, all = 0;

	ck_assert_int_eq(tlsinfo_cipher_class_parse(NULL, &parsed), -1);
	ck_assert_ptr_null(tlsinfo_cipher_class_name(0));
	ck_assert_ptr_null(tlsinfo_cipher_class_name(C_CBC | C_3DES));
	ck_assert_ptr_null(tlsinfo_cipher_class_name(
	    (TLS_CIPHER_CLASS_ALL + 1u) << 1));
	ck_assert_str_eq(tlsinfo_cipher_class_name(C_3DES), "3DES");
	ck_assert_str_eq(tlsinfo_cipher_class_name(C_ANON), "ANON");
	for (bit = 1; bit != 0; bit <<= 1) {
		if (tlsinfo_cipher_class_name(bit) == NULL) {
			ck_assert_uint_eq(bit & TLS_CIPHER_CLASS_ALL, 0);
			continue;
		}
		ck_assert_int_eq(tlsinfo_cipher_class_parse(
		    tlsinfo_cipher_class_name(bit), &parsed), 0);
		ck_assert_uint_eq(parsed, bit);
		all |= bit;
	}
	ck_assert_uint_eq(all, TLS_CIPHER_CLASS_ALL);
}
END_TEST

START_TEST(test_enum_names)
{
	ck_assert_str_eq(tlsinfo_kx_name(TLS_KX_ECDHE), "ECDHE");
	ck_assert_str_eq(tlsinfo_kx_name(TLS_KX_TLS13), "TLS1.3");
	ck_assert_str_eq(tlsinfo_kx_name(TLS_KX_UNKNOWN), "unknown");
	ck_assert_str_eq(tlsinfo_kx_name((enum tls_kx)99), "unknown");
	ck_assert_str_eq(tlsinfo_kx_name((enum tls_kx)-1), "unknown");
	ck_assert_str_eq(tlsinfo_auth_name(TLS_AUTH_NONE), "none");
	ck_assert_str_eq(tlsinfo_auth_name(TLS_AUTH_ECDSA), "ECDSA");
	ck_assert_str_eq(tlsinfo_auth_name((enum tls_auth)99), "unknown");
}
END_TEST

/* first_use - thread body: look a suite up while the index may be built */
static void *
first_use(void *arg)
{
	struct tls_cipher_info ci;

	(void) arg;
	if (tlsinfo_cipher_lookup("ECDHE-RSA-AES128-GCM-SHA256", &ci) != 0 ||
	    !ci.has_forward_secrecy)
		return (void *)"lookup failed";
	return NULL;
}

START_TEST(test_concurrent_first_use)
{
	pthread_t t[N_THREADS];
	void *res;
	size_t i;

	for (i = 0; i < N_THREADS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, first_use, NULL),
		    0);
	for (i = 0; i < N_THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &res), 0);
		ck_assert_msg(res == NULL, "thread %zu: %s", i, (char *)res);
	}
}
END_TEST

static Suite *
cipher_suite(void)
{
	Suite *s = suite_create("cipher");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_unknown, 0, (int)N_ELEMS(unknown_names));
	tcase_add_test(tc, test_unknown_null_and_long);
	tcase_add_loop_test(tc, test_class_words, 0, (int)N_ELEMS(class_words));
	tcase_add_test(tc, test_concurrent_first_use);
	tcase_add_test(tc, test_openssl_list);
	tcase_add_test(tc, test_index_walk);
	tcase_add_loop_test(tc, test_known, 0, (int)N_ELEMS(known));
	tcase_add_loop_test(tc, test_optional, 0, (int)N_ELEMS(optional));
	tcase_add_loop_test(tc, test_by_nids, 0, (int)N_ELEMS(by_nids));
	tcase_add_test(tc, test_class_names);
	tcase_add_test(tc, test_enum_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(cipher_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	OPENSSL_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
