/*
 * NAME
 *	check_netaddr - unit tests for netaddr.c
 *
 * SYNOPSIS
 *	check_netaddr
 *
 * DESCRIPTION
 *	Table-driven Check suite.  Addresses that must be refused come first
 *	(partial, padded, zoned, host names, "IPv6:" before an IPv4
 *	address), then the accepted forms and their canonical text; blocks
 *	with every diagnostic text, host bits cleared, defaults /32 and
 *	/128; matching through IPv4-mapped IPv6 in both directions; lists
 *	that grow past several reallocations; formatting into buffers that
 *	are too small.
 *
 * DIAGNOSTICS
 *	Exit status 0 when every test passes, 1 otherwise.
 *
 * SEE ALSO
 *	netaddr.c
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include "netaddr.h"

#define N_ELEMS(a)	(sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*label;
	const char	*input;
	int		 family;	/* 0: must be refused */
	const char	*text;		/* netaddr_format() result */
} parse_cases[] = {
	/* unhappy paths */
	{ "empty", "", 0, NULL },
	{ "empty brackets", "[]", 0, NULL },
	{ "open bracket", "[", 0, NULL },
	{ "unbalanced left", "[192.0.2.1", 0, NULL },
	{ "unbalanced right", "192.0.2.1]", 0, NULL },
	{ "double brackets", "[[::1]]", 0, NULL },
	{ "three octets", "192.0.2", 0, NULL },
	{ "five octets", "192.0.2.1.5", 0, NULL },
	{ "octet too big", "256.0.0.1", 0, NULL },
	{ "leading zero octet", "01.2.3.4", 0, NULL },
	{ "hex octet", "0x1.2.3.4", 0, NULL },
	{ "leading space", " 192.0.2.1", 0, NULL },
	{ "trailing space", "192.0.2.1 ", 0, NULL },
	{ "trailing newline", "192.0.2.1\n", 0, NULL },
	{ "host name", "mail.example.test", 0, NULL },
	{ "postfix unknown", "unknown", 0, NULL },
	{ "cidr is not an address", "192.0.2.0/24", 0, NULL },
	{ "ipv6 tag with ipv4", "IPv6:192.0.2.1", 0, NULL },
	{ "ipv6 tag alone", "IPv6:", 0, NULL },
	{ "ipv6 tag in brackets alone", "[IPv6:]", 0, NULL },
	{ "zone id", "fe80::1%eth0", 0, NULL },
	{ "two double colons", "2001:db8::1::2", 0, NULL },
	{ "nine groups", "1:2:3:4:5:6:7:8:9", 0, NULL },
	{ "group too long", "2001:db8::12345", 0, NULL },
	{ "triple colon", "2001:db8:::1", 0, NULL },
	{ "too long", "0000:0000:0000:0000:0000:0000:0000:0000:0000:1", 0,
	    NULL },
	/* happy paths */
	{ "ipv4", "192.0.2.1", AF_INET, "192.0.2.1" },
	{ "ipv4 any", "0.0.0.0", AF_INET, "0.0.0.0" },
	{ "ipv4 broadcast", "255.255.255.255", AF_INET, "255.255.255.255" },
	{ "ipv4 in brackets", "[192.0.2.1]", AF_INET, "192.0.2.1" },
	{ "ipv6", "2001:db8::1", AF_INET6, "2001:db8::1" },
	{ "ipv6 long form", "2001:0db8:0:0:0:0:0:1", AF_INET6,
	    "2001:db8::1" },
	{ "ipv6 upper case", "2001:DB8::A", AF_INET6, "2001:db8::a" },
	{ "ipv6 unspecified", "::", AF_INET6, "::" },
	{ "ipv6 loopback", "::1", AF_INET6, "::1" },
	{ "ipv6 in brackets", "[2001:db8::1]", AF_INET6, "2001:db8::1" },
	{ "sendmail ipv6 tag", "IPv6:2001:db8::1", AF_INET6, "2001:db8::1" },
	{ "ipv6 tag lower case", "ipv6:2001:db8::1", AF_INET6,
	    "2001:db8::1" },
	{ "ipv6 tag loopback", "IPv6:::1", AF_INET6, "::1" },
	{ "address literal", "[IPv6:2001:db8::1]", AF_INET6, "2001:db8::1" },
	{ "ipv4-mapped", "::ffff:192.0.2.1", AF_INET6, "::ffff:192.0.2.1" },
	{ "ipv4-mapped tagged", "IPv6:::ffff:192.0.2.1", AF_INET6,
	    "::ffff:192.0.2.1" },
	{ "longest text", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
	    AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
};

static const struct {
	const char	*label;
	const char	*input;
	const char	*why;	/* NULL: must parse */
	const char	*text;	/* netaddr_block_format() result */
	unsigned	 prefix;
} block_cases[] = {
	/* unhappy paths */
	{ "empty", "", "not an IP address", NULL, 0 },
	{ "only a prefix", "/24", "not an IP address", NULL, 0 },
	{ "host name", "example.test/24", "not an IP address", NULL, 0 },
	{ "two prefixes", "192.0.2.0/24/8", "not an IP address", NULL, 0 },
	{ "bad address", "192.0.2/24", "not an IP address", NULL, 0 },
	{ "prefix in brackets", "[2001:db8::/32]", "not an IP address",
	    NULL, 0 },
	{ "ipv4 prefix 33", "192.0.2.0/33", "prefix out of range 0..32",
	    NULL, 0 },
	{ "ipv4 prefix 128", "192.0.2.0/128", "prefix out of range 0..32",
	    NULL, 0 },
	{ "ipv6 prefix 129", "2001:db8::/129", "prefix out of range 0..128",
	    NULL, 0 },
	{ "huge prefix", "192.0.2.0/99999999999999999999999",
	    "prefix out of range 0..32", NULL, 0 },
	{ "missing prefix", "192.0.2.0/", "missing prefix after /", NULL, 0 },
	{ "negative prefix", "192.0.2.0/-1",
	    "prefix is not a decimal number", NULL, 0 },
	{ "plus sign", "192.0.2.0/+8", "prefix is not a decimal number",
	    NULL, 0 },
	{ "space in prefix", "192.0.2.0/ 8",
	    "prefix is not a decimal number", NULL, 0 },
	{ "trailing space", "192.0.2.0/8 ",
	    "prefix is not a decimal number", NULL, 0 },
	{ "hex prefix", "192.0.2.0/0x10", "prefix is not a decimal number",
	    NULL, 0 },
	{ "dotted mask", "192.0.2.0/255.255.255.0",
	    "prefix is not a decimal number", NULL, 0 },
	/* happy paths */
	{ "ipv4 network", "192.0.2.0/24", NULL, "192.0.2.0/24", 24 },
	{ "ipv4 host bits cleared", "192.0.2.77/24", NULL, "192.0.2.0/24",
	    24 },
	{ "ipv4 odd prefix", "192.0.2.255/25", NULL, "192.0.2.128/25", 25 },
	{ "ipv4 prefix 1", "200.0.0.1/1", NULL, "128.0.0.0/1", 1 },
	{ "ipv4 bare host", "192.0.2.1", NULL, "192.0.2.1/32", 32 },
	{ "ipv4 all", "10.1.2.3/0", NULL, "0.0.0.0/0", 0 },
	{ "ipv4 leading zero prefix", "192.0.2.0/024", NULL, "192.0.2.0/24",
	    24 },
	{ "ipv4 bracketed", "[192.0.2.9]/31", NULL, "192.0.2.8/31", 31 },
	{ "ipv6 network", "2001:db8::/32", NULL, "2001:db8::/32", 32 },
	{ "ipv6 host bits cleared", "2001:db8:ffff::1/33", NULL,
	    "2001:db8:8000::/33", 33 },
	{ "ipv6 bare host", "2001:db8::1", NULL, "2001:db8::1/128", 128 },
	{ "ipv6 /127", "2001:db8::3/127", NULL, "2001:db8::2/127", 127 },
	{ "ipv6 all", "2001:db8::1/0", NULL, "::/0", 0 },
	{ "ipv6 bracketed", "[2001:db8::1]/64", NULL, "2001:db8::/64", 64 },
	{ "ipv6 tagged", "IPv6:2001:db8:1:2::1/48", NULL, "2001:db8:1::/48",
	    48 },
	{ "ipv4-mapped block", "::ffff:192.0.2.99/120", NULL,
	    "::ffff:192.0.2.0/120", 120 },
};

/* Blocks of the list used by test_match. */
static const char *const match_list[] = {
	"192.0.2.0/24",
	"10.0.0.0/8",
	"2001:db8::/32",
	"::ffff:198.51.100.0/120",
	"203.0.113.5",
};

static const struct {
	const char	*label;
	const char	*addr;
	bool		 match;
} match_cases[] = {
	/* unhappy paths */
	{ "ipv4 next network", "192.0.3.1", false },
	{ "ipv4 below network", "192.0.1.255", false },
	{ "ipv4 outside /8", "11.0.0.1", false },
	{ "bare host neighbour", "203.0.113.6", false },
	{ "ipv6 next /32", "2001:db9::1", false },
	{ "ipv6 below /32", "2001:db7:ffff::1", false },
	{ "ipv4-compatible is not mapped", "::192.0.2.1", false },
	{ "nat64 is not mapped", "64:ff9b::192.0.2.1", false },
	{ "mapped outside", "::ffff:192.0.3.1", false },
	{ "ffff in a global address", "2002::ffff:192.0.2.7", false },
	{ "ffff after a non-zero group", "::1:ffff:192.0.2.7", false },
	{ "ipv4 outside mapped block", "198.51.101.5", false },
	{ "mapped, in no block", "::ffff:32.1.13.184",
	    false },
	/* happy paths */
	{ "ipv4 first", "192.0.2.0", true },
	{ "ipv4 inside", "192.0.2.77", true },
	{ "ipv4 last", "192.0.2.255", true },
	{ "ipv4 in /8", "10.255.0.1", true },
	{ "bare host", "203.0.113.5", true },
	{ "ipv6 inside", "2001:db8:1::1", true },
	{ "ipv6 last", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "sendmail tagged ipv6", "IPv6:2001:db8::25", true },
	{ "mapped in ipv4 block", "::ffff:192.0.2.7", true },
	{ "mapped in /8", "::ffff:10.9.9.9", true },
	{ "tagged mapped", "IPv6:::ffff:192.0.2.7", true },
	{ "mapped host", "::ffff:203.0.113.5", true },
	{ "ipv4 in mapped block", "198.51.100.5", true },
	{ "mapped in mapped block", "::ffff:198.51.100.200", true },
};

START_TEST(test_parse)
{
	struct netaddr a;
	char buf[64];
	int rc;

	memset(&a, 0xa5, sizeof(a));
	rc = netaddr_parse(parse_cases[_i].input, &a);
	if (parse_cases[_i].family == 0) {
		ck_assert_msg(rc == -1, "%s: accepted", parse_cases[_i].label);
		return;
	}
	ck_assert_msg(rc == 0, "%s: refused", parse_cases[_i].label);
	ck_assert_int_eq(a.family, parse_cases[_i].family);
	ck_assert_str_eq(netaddr_format(&a, buf, sizeof(buf)),
	    parse_cases[_i].text);
	if (a.family == AF_INET) {
		static const uint8_t zero[12];

		ck_assert(memcmp(a.bytes + 4, zero, sizeof(zero)) == 0);
	}
}
END_TEST

START_TEST(test_parse_null)
{
	struct netaddr a;

	ck_assert_int_eq(netaddr_parse(NULL, &a), -1);
}
END_TEST

START_TEST(test_block)
{
	struct netaddr_block b;
	const char *why = "stale";
	char buf[80];
	int rc;

	rc = netaddr_parse_block(block_cases[_i].input, &b, &why);
	if (block_cases[_i].why != NULL) {
		ck_assert_msg(rc == -1, "%s: accepted", block_cases[_i].label);
		ck_assert_ptr_nonnull(why);
		ck_assert_str_eq(why, block_cases[_i].why);
		return;
	}
	ck_assert_msg(rc == 0, "%s: refused: %s", block_cases[_i].label,
	    why != NULL ? why : "(null)");
	ck_assert_ptr_null(why);
	ck_assert_uint_eq(b.prefix, block_cases[_i].prefix);
	ck_assert_str_eq(netaddr_block_format(&b, buf, sizeof(buf)),
	    block_cases[_i].text);
}
END_TEST

/* build_list - a list of the given blocks; fails the test on error. */
static void
build_list(struct netaddr_list *list, const char *const *blocks, size_t n)
{
	struct netaddr_block b;
	const char *why;
	size_t i;

	list->blocks = NULL;
	list->n_blocks = 0;
	for (i = 0; i < n; i++) {
		ck_assert_msg(netaddr_parse_block(blocks[i], &b, &why) == 0,
		    "%s: %s", blocks[i], why);
		ck_assert_int_eq(netaddr_list_add(list, &b), 0);
	}
	ck_assert_uint_eq(list->n_blocks, n);
}

START_TEST(test_match)
{
	struct netaddr_list list;
	struct netaddr a;

	build_list(&list, match_list, N_ELEMS(match_list));
	ck_assert_int_eq(netaddr_parse(match_cases[_i].addr, &a), 0);
	ck_assert_msg(netaddr_list_match(&list, &a) == match_cases[_i].match,
	    "%s: %s", match_cases[_i].label, match_cases[_i].addr);
	netaddr_list_free(&list);
}
END_TEST

START_TEST(test_match_edges)
{
	static const char *const v4all[] = { "0.0.0.0/0" };
	static const char *const v6all[] = { "::/0" };
	struct netaddr_list list = { NULL, 0 };
	struct netaddr unset, v4, v6, mapped;

	memset(&unset, 0, sizeof(unset));
	ck_assert_int_eq(netaddr_parse("192.0.2.1", &v4), 0);
	ck_assert_int_eq(netaddr_parse("2001:db8::1", &v6), 0);
	ck_assert_int_eq(netaddr_parse("::ffff:192.0.2.1", &mapped), 0);

	/* An empty list matches nothing; a NULL list neither. */
	ck_assert(!netaddr_list_match(&list, &v4));
	ck_assert(!netaddr_list_match(NULL, &v4));

	/* 0.0.0.0/0: every IPv4 and mapped address, no native IPv6. */
	build_list(&list, v4all, 1);
	ck_assert(netaddr_list_match(&list, &v4));
	ck_assert(netaddr_list_match(&list, &mapped));
	ck_assert(!netaddr_list_match(&list, &v6));
	ck_assert(!netaddr_list_match(&list, &unset));
	netaddr_list_free(&list);

	/* ::/0 holds every IPv6 address, the mapped ones included. */
	build_list(&list, v6all, 1);
	ck_assert(netaddr_list_match(&list, &v6));
	ck_assert(netaddr_list_match(&list, &mapped));
	ck_assert(netaddr_list_match(&list, &v4));
	ck_assert(!netaddr_list_match(&list, &unset));
	netaddr_list_free(&list);
	ck_assert_ptr_null(list.blocks);
	ck_assert_uint_eq(list.n_blocks, 0);
	netaddr_list_free(&list);	/* twice is harmless */

	/* A zeroed block (misuse) matches no address, not even unset. */
	{
		struct netaddr_block zero;

		memset(&zero, 0, sizeof(zero));
		ck_assert_int_eq(netaddr_list_add(&list, &zero), 0);
		ck_assert(!netaddr_list_match(&list, &unset));
		ck_assert(!netaddr_list_match(&list, &v4));
		netaddr_list_free(&list);
	}
}
END_TEST

START_TEST(test_list_growth)
{
	struct netaddr_list list = { NULL, 0 };
	struct netaddr_block b;
	struct netaddr a;
	char text[32];
	const char *why;
	size_t i;

	for (i = 0; i < 1000; i++) {
		(void) snprintf(text, sizeof(text), "10.%zu.%zu.0/24",
		    i / 256, i % 256);
		ck_assert_int_eq(netaddr_parse_block(text, &b, &why), 0);
		ck_assert_int_eq(netaddr_list_add(&list, &b), 0);
		ck_assert_uint_eq(list.n_blocks, i + 1);
	}
	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(list.blocks[i].addr.bytes[1], i / 256);
		ck_assert_int_eq(list.blocks[i].addr.bytes[2], i % 256);
	}
	ck_assert_int_eq(netaddr_parse("10.3.231.9", &a), 0);
	ck_assert(netaddr_list_match(&list, &a));	/* block 999 */
	ck_assert_int_eq(netaddr_parse("10.3.232.9", &a), 0);
	ck_assert(!netaddr_list_match(&list, &a));	/* block 1000 */
	netaddr_list_free(&list);
	ck_assert_ptr_null(list.blocks);
	ck_assert_uint_eq(list.n_blocks, 0);
}
END_TEST

START_TEST(test_format_limits)
{
	struct netaddr a, unset;
	struct netaddr_block b;
	const char *why;
	char buf[64];

	memset(&unset, 0, sizeof(unset));
	ck_assert_str_eq(netaddr_format(&unset, buf, sizeof(buf)), "");

	ck_assert_int_eq(netaddr_parse("192.0.2.1", &a), 0);
	/* "192.0.2.1" needs 10 bytes with its NUL. */
	ck_assert_str_eq(netaddr_format(&a, buf, 10), "192.0.2.1");
	ck_assert_str_eq(netaddr_format(&a, buf, 9), "");
	memcpy(buf, "xyz", 4);
	ck_assert_ptr_eq(netaddr_format(&a, buf, 0), buf);
	ck_assert_str_eq(buf, "xyz");

	ck_assert_int_eq(netaddr_parse_block("192.0.2.0/24", &b, &why), 0);
	/* "192.0.2.0/24" needs 13 bytes: never a truncated prefix. */
	ck_assert_str_eq(netaddr_block_format(&b, buf, 13), "192.0.2.0/24");
	ck_assert_str_eq(netaddr_block_format(&b, buf, 12), "");
	ck_assert_str_eq(netaddr_block_format(&b, buf, 10), "");
	ck_assert_str_eq(netaddr_block_format(&b, buf, 5), "");
	memcpy(buf, "xyz", 4);
	ck_assert_ptr_eq(netaddr_block_format(&b, buf, 0), buf);
	ck_assert_str_eq(buf, "xyz");
}
END_TEST

static Suite *
netaddr_suite(void)
{
	Suite *s = suite_create("netaddr");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse, 0, (int)N_ELEMS(parse_cases));
	tcase_add_test(tc, test_parse_null);
	tcase_add_loop_test(tc, test_block, 0, (int)N_ELEMS(block_cases));
	tcase_add_loop_test(tc, test_match, 0, (int)N_ELEMS(match_cases));
	tcase_add_test(tc, test_match_edges);
	tcase_add_test(tc, test_list_growth);
	tcase_add_test(tc, test_format_limits);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(netaddr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
