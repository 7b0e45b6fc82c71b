/*
 * NAME
 *	check_tlsinfo - unit tests for tlsinfo.c
 *
 * SYNOPSIS
 *	check_tlsinfo
 *
 * DESCRIPTION
 *	Table-driven Check suite: version strings that must not parse (white
 *	space, old OpenSSL cipher versions, unknown versions) come first,
 *	then every accepted spelling, every enum name, is_known for every
 *	enum value, the order of the enum and the name round trip.
 *
 * DIAGNOSTICS
 *	Exit status 0 when every test passes, 1 otherwise.
 *
 * SEE ALSO
 *	tlsinfo.c
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "tlsinfo.h"

#define N_ELEMS(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char		*label;
	const char		*input;
	enum tls_version	 expect;
} parse_cases[] = {
	/* unhappy paths */
	{ "null", NULL, TLS_VERSION_NONE },
	{ "empty", "", TLS_VERSION_NONE },
	{ "future version", "TLSv1.4", TLS_VERSION_UNKNOWN },
	{ "old cipher version", "TLSv1/SSLv3", TLS_VERSION_UNKNOWN },
	{ "sendmail fallback", "UNKNOWN", TLS_VERSION_UNKNOWN },
	{ "openssl unknown", "unknown", TLS_VERSION_UNKNOWN },
	{ "leading space", " TLSv1.2", TLS_VERSION_UNKNOWN },
	{ "trailing space", "TLSv1.2 ", TLS_VERSION_UNKNOWN },
	{ "trailing newline", "TLSv1.2\n", TLS_VERSION_UNKNOWN },
	{ "missing minor", "TLSv1.", TLS_VERSION_UNKNOWN },
	{ "missing dot", "TLSv12", TLS_VERSION_UNKNOWN },
	{ "bare number", "1.2", TLS_VERSION_UNKNOWN },
	{ "no v", "TLS1.2", TLS_VERSION_UNKNOWN },
	{ "datagram", "DTLSv1.2", TLS_VERSION_UNKNOWN },
	{ "prefix only", "TLS", TLS_VERSION_UNKNOWN },
	{ "the word none", "none", TLS_VERSION_UNKNOWN },
	{ "TLSv1.0.0", "TLSv1.0.0", TLS_VERSION_UNKNOWN },
	/* happy paths */
	{ "SSLv2", "SSLv2", TLS_VERSION_SSLV2 },
	{ "SSLv3", "SSLv3", TLS_VERSION_SSLV3 },
	{ "TLSv1", "TLSv1", TLS_VERSION_TLSV1 },
	{ "TLSv1.0 alias", "TLSv1.0", TLS_VERSION_TLSV1 },
	{ "TLSv1.1", "TLSv1.1", TLS_VERSION_TLSV1_1 },
	{ "TLSv1.2", "TLSv1.2", TLS_VERSION_TLSV1_2 },
	{ "TLSv1.3", "TLSv1.3", TLS_VERSION_TLSV1_3 },
	{ "lower case", "tlsv1.3", TLS_VERSION_TLSV1_3 },
	{ "upper case", "TLSV1.2", TLS_VERSION_TLSV1_2 },
	{ "mixed case ssl", "sSlV3", TLS_VERSION_SSLV3 },
};

static const struct {
	enum tls_version	 v;
	const char		*name;
	bool			 is_known;
} enum_cases[] = {
	{ TLS_VERSION_NONE, "none", false },
	{ TLS_VERSION_UNKNOWN, "unknown", false },
	{ TLS_VERSION_SSLV2, "SSLv2", true },
	{ TLS_VERSION_SSLV3, "SSLv3", true },
	{ TLS_VERSION_TLSV1, "TLSv1", true },
	{ TLS_VERSION_TLSV1_1, "TLSv1.1", true },
	{ TLS_VERSION_TLSV1_2, "TLSv1.2", true },
	{ TLS_VERSION_TLSV1_3, "TLSv1.3", true },
	{ (enum tls_version)99, "unknown", false },
	{ (enum tls_version)-1, "unknown", false },
};

START_TEST(test_parse)
{
	enum tls_version got;

	got = tlsinfo_parse_version(parse_cases[_i].input);
	ck_assert_msg(got == parse_cases[_i].expect,
	    "%s: got %d, expected %d", parse_cases[_i].label, (int)got,
	    (int)parse_cases[_i].expect);
}
END_TEST

START_TEST(test_enum)
{
	ck_assert_str_eq(tlsinfo_version_name(enum_cases[_i].v),
	    enum_cases[_i].name);
	ck_assert_msg(tlsinfo_version_is_known(enum_cases[_i].v) ==
	    enum_cases[_i].is_known, "is_known(%s)", enum_cases[_i].name);
}
END_TEST

START_TEST(test_order)
{
	static const char *const ascending[] = {
		"SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3",
	};
	size_t i;

	for (i = 1; i < N_ELEMS(ascending); i++)
		ck_assert_int_lt(tlsinfo_parse_version(ascending[i - 1]),
		    tlsinfo_parse_version(ascending[i]));
	ck_assert_int_lt(TLS_VERSION_NONE, TLS_VERSION_UNKNOWN);
	ck_assert_int_lt(TLS_VERSION_UNKNOWN, TLS_VERSION_SSLV2);
	ck_assert_int_eq(tlsinfo_parse_version("TLSv1.0"),
	    tlsinfo_parse_version("TLSv1"));
}
END_TEST

START_TEST(test_round_trip)
{
	enum tls_version v;

	for (v = TLS_VERSION_SSLV2; v <= TLS_VERSION_TLSV1_3; v++)
		ck_assert_int_eq(tlsinfo_parse_version(
		    tlsinfo_version_name(v)), v);
	/* The names of the two non-versions must not parse as versions. */
	ck_assert(!tlsinfo_version_is_known(tlsinfo_parse_version(
	    tlsinfo_version_name(TLS_VERSION_NONE))));
	ck_assert(!tlsinfo_version_is_known(tlsinfo_parse_version(
	    tlsinfo_version_name(TLS_VERSION_UNKNOWN))));
}
END_TEST

static Suite *
tlsinfo_suite(void)
{
	Suite *s = suite_create("tlsinfo");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, (int)N_ELEMS(parse_cases));
	tcase_add_loop_test(tc, test_enum, 0, (int)N_ELEMS(enum_cases));
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(tlsinfo_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
