/*
 * tlsinfo.h - TLS protocol versions as the MTAs report them
 *
 * Parses the {tls_version} strings of Postfix and Sendmail ("TLSv1.3",
 * "TLSv1", "SSLv3", ...) into an ordered enum.  Pure functions: no I/O, no
 * allocation; safe from any thread.
 */
#ifndef TLSPOLICY_TLSINFO_H
#define TLSPOLICY_TLSINFO_H

#include <stdbool.h>

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

#endif /* TLSPOLICY_TLSINFO_H */
