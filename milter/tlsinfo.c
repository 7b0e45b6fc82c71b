/*
 * NAME
 *	tlsinfo - TLS protocol versions as the MTAs report them
 *
 * SYNOPSIS
 *	#include "tlsinfo.h"
 *
 * DESCRIPTION
 *	Maps the {tls_version} strings that Postfix and Sendmail take from
 *	OpenSSL (SSL_get_version: "SSLv3", "TLSv1", "TLSv1.2", ...) to an
 *	ordered enum, and back to a canonical name.  Matching is exact up to
 *	ASCII case: no white space, prefixes or suffixes are tolerated, so
 *	"TLSv1/SSLv3" (old Sendmail with OpenSSL 1.0, which reported the
 *	cipher's version) and "UNKNOWN" are TLS_VERSION_UNKNOWN.
 *
 *	Cipher classification is not done here yet.
 *
 *	Pure functions: no I/O, no allocation, no global state; the names
 *	returned are static storage.  Safe from any thread.
 *
 * DIAGNOSTICS
 *	None.  An out-of-range enum value is reported as "unknown" and is
 *	not a known version.
 *
 * SEE ALSO
 *	facts.c, policy.c; RFC 8446, RFC 5246, RFC 8996
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stddef.h>
#include <strings.h>

#include "tlsinfo.h"

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
