/*
 * tlsinfo.h - TLS versions and cipher suites as the MTAs report them
 *
 * Parses the {tls_version} strings of Postfix and Sendmail ("TLSv1.3",
 * "TLSv1", "SSLv3", ...) into an ordered enum.  Pure functions: no I/O, no
 * allocation; safe from any thread.
 *
 * Classifies the {cipher} names (OpenSSL or IANA spelling) using the cipher
 * table of the linked OpenSSL: key bits, key exchange, forward secrecy,
 * AEAD, TLS 1.3, and weakness classes.  The table is built once, on first
 * use, and is read-only afterwards; safe from any thread.
 */
#ifndef TLSPOLICY_TLSINFO_H
#define TLSPOLICY_TLSINFO_H

#include <stdbool.h>
#include <stddef.h>

/* Ordered: a larger known value is a newer protocol. */
enum tls_version {
	TLS_VERSION_NONE = 0,	/* plaintext session (no value) */
	TLS_VERSION_UNKNOWN,	/* a value we do not recognise */
	TLS_VERSION_SSLV2,
	TLS_VERSION_SSLV3,
	TLS_VERSION_TLSV1,
	TLS_VERSION_TLSV1_1,
	TLS_VERSION_TLSV1_2,
	TLS_VERSION_TLSV1_3,
};

/*
 * tlsinfo_parse_version - map an MTA's version string to the enum.
 * Accepts the OpenSSL names (SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2,
 * TLSv1.3), case-insensitively, and "TLSv1.0" as TLSv1.  NULL or "" give
 * TLS_VERSION_NONE; anything else TLS_VERSION_UNKNOWN.
 */
enum tls_version tlsinfo_parse_version(const char *);

/* tlsinfo_version_name - canonical name ("TLSv1.2"); "none", "unknown". Static storage. */
const char *tlsinfo_version_name(enum tls_version);

/* tlsinfo_version_is_known - true for SSLv2 .. TLSv1.3. */
bool	tlsinfo_version_is_known(enum tls_version);

/* Key exchange of a cipher suite (OpenSSL's Kx=). */
enum tls_kx {
	TLS_KX_UNKNOWN = 0,
	TLS_KX_RSA,		/* RSA key transport: no forward secrecy */
	TLS_KX_DHE,
	TLS_KX_ECDHE,
	TLS_KX_PSK,		/* plain pre-shared key: no forward secrecy */
	TLS_KX_RSA_PSK,		/* no forward secrecy */
	TLS_KX_DHE_PSK,
	TLS_KX_ECDHE_PSK,
	TLS_KX_SRP,		/* not counted as forward secrecy */
	TLS_KX_GOST,		/* GOST R 34.10 (VKO); not counted as FS */
	TLS_KX_TLS13,		/* TLS 1.3: (EC)DHE negotiated apart */
};

/* Authentication of a cipher suite (OpenSSL's Au=). */
enum tls_auth {
	TLS_AUTH_UNKNOWN = 0,
	TLS_AUTH_NONE,		/* anonymous: ADH-*, AECDH-* */
	TLS_AUTH_RSA,
	TLS_AUTH_ECDSA,
	TLS_AUTH_DSS,
	TLS_AUTH_PSK,
	TLS_AUTH_SRP,
	TLS_AUTH_GOST,
	TLS_AUTH_TLS13,		/* TLS 1.3: signature negotiated apart */
};

/*
 * Weakness classes, one bit each, for forbid-ciphers.  A suite may be in
 * several (AECDH-NULL-SHA is NULL and ANON).  Derived from the linked
 * OpenSSL's own data:
 *   NULL    no encryption (cipher NID_undef); bits are 0
 *   EXPORT  OpenSSL name starts with "EXP" (export suites were removed in
 *           OpenSSL 1.1.0; the class exists so a policy naming it parses)
 *   RC4     cipher RC4 or RC4-40
 *   3DES    cipher DES-EDE3-CBC (also CBC)
 *   DES     single DES-CBC (also CBC); not 3DES
 *   CBC     a non-AEAD block cipher in CBC mode (AES, CAMELLIA, SEED, IDEA,
 *           DES, 3DES ... with HMAC); never set on AEAD, RC4, NULL suites
 *   MD5     record MAC is HMAC-MD5
 *   ANON    no authentication of the server (aNULL): ADH-*, AECDH-*
 *   PSK     key exchange or authentication by pre-shared key
 *   SRP     key exchange by SRP
 */
#define TLS_CIPHER_CLASS_NULL	0x0001u
#define TLS_CIPHER_CLASS_EXPORT	0x0002u
#define TLS_CIPHER_CLASS_RC4	0x0004u
#define TLS_CIPHER_CLASS_3DES	0x0008u
#define TLS_CIPHER_CLASS_DES	0x0010u
#define TLS_CIPHER_CLASS_CBC	0x0020u
#define TLS_CIPHER_CLASS_MD5	0x0040u
#define TLS_CIPHER_CLASS_ANON	0x0080u
#define TLS_CIPHER_CLASS_PSK	0x0100u
#define TLS_CIPHER_CLASS_SRP	0x0200u
#define TLS_CIPHER_CLASS_ALL	0x03ffu

/*
 * What the linked OpenSSL knows about one cipher suite.  The strings are
 * static storage owned by tlsinfo (never NULL for a known suite; iana_name
 * is "" where OpenSSL has no IANA name, e.g. some GOST suites).  For an
 * unknown name every field is zero/false/NULL and is_known is false.
 */
struct tls_cipher_info {
	/* "ECDHE-RSA-AES256-GCM-SHA384" */
	const char		*openssl_name;
	/* "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" */
	const char		*iana_name;
	unsigned		 id;		/* IANA code point, 0..0xffff */
	/* Strength bits (3DES: 112), as in the MTAs' {cipher_bits}. */
	int			 bits;
	int			 alg_bits;	/* key size: 3DES 168 */
	enum tls_version	 min_version;	/* oldest protocol for it */
	enum tls_kx		 kx;
	enum tls_auth		 auth;		/* UNKNOWN for some GOST */
	unsigned		 classes;	/* TLS_CIPHER_CLASS_* bits */
	bool			 is_known;
	/* In ALL:COMPLEMENTOFALL:@SECLEVEL=0 or the TLS 1.3 suites of the
	 * linked OpenSSL with its configured providers. */
	bool			 is_available;
	/* DHE, ECDHE, DHE-PSK, ECDHE-PSK key exchange, or TLS 1.3. */
	bool			 has_forward_secrecy;
	bool			 is_aead;	/* GCM, CCM, CHACHA20 */
	bool			 is_tls13;
};

/*
 * tlsinfo_cipher_init - build the cipher index now (it is otherwise built
 * on first use).  Call it at start-up, before chroot and privilege drop:
 * creating the SSL_CTX makes OpenSSL read its configuration file once.
 * Returns 0, or -1 if OpenSSL could not list its ciphers (then the index
 * is empty and every lookup answers "unknown").  Idempotent; thread-safe.
 */
int	tlsinfo_cipher_init(void);

/*
 * tlsinfo_cipher_lookup - classify the cipher named by an MTA.
 * Accepts the OpenSSL name, the IANA name, and for TLS 1.3 the one shared
 * name, in any ASCII case, with surrounding white space ignored.  Fills
 * *out (never NULL) and returns 0; for NULL, empty, over-long or unknown
 * names clears *out (is_known false) and returns -1.  No allocation;
 * thread-safe.
 */
int	tlsinfo_cipher_lookup(const char *, struct tls_cipher_info *);

/*
 * tlsinfo_cipher_count, tlsinfo_cipher_at - walk the index: every suite
 * compiled into the linked OpenSSL (see is_available), ordered by IANA
 * code point.  tlsinfo_cipher_at returns NULL if i >= count; the pointer
 * is borrowed for the life of the process.  Thread-safe.
 */
size_t	tlsinfo_cipher_count(void);
const struct tls_cipher_info *tlsinfo_cipher_at(size_t);

/*
 * tlsinfo_cipher_class_name - "NULL", "EXPORT", "RC4", "3DES", "DES",
 * "CBC", "MD5", "ANON", "PSK", "SRP" for one TLS_CIPHER_CLASS_* bit; NULL
 * for 0, several bits or an unknown bit.  Static storage.
 */
const char *tlsinfo_cipher_class_name(unsigned);

/*
 * tlsinfo_cipher_class_parse - the inverse, ASCII case-insensitive; also
 * accepts OpenSSL's "eNULL" for NULL and "aNULL" for ANON.  Returns 0 and
 * sets *bit, or -1 (NULL, empty or unknown word; *bit untouched).
 */
int	tlsinfo_cipher_class_parse(const char *, unsigned *);

/*
 * tlsinfo_cipher_classify_nids - the class rule itself, on OpenSSL NIDs
 * (SSL_CIPHER_get_cipher_nid, _get_digest_nid, _get_kx_nid, _get_auth_nid)
 * and the OpenSSL name (may be NULL).  Exposed so the rule can be tested
 * for suites the linked OpenSSL lacks (Debian builds without RC4/3DES
 * suites).  Pure.
 */
unsigned tlsinfo_cipher_classify_nids(int cipher_nid, int digest_nid,
	    int kx_nid, int auth_nid, bool is_aead, const char *openssl_name);

/*
 * tlsinfo_kx_name, tlsinfo_auth_name - "ECDHE", "RSA", "TLS1.3", "none"
 * (anonymous auth); "unknown" for UNKNOWN or out-of-range values.  Static.
 */
const char *tlsinfo_kx_name(enum tls_kx);
const char *tlsinfo_auth_name(enum tls_auth);

#endif /* TLSPOLICY_TLSINFO_H */
