/*
 * NAME
 *	check_strbuf - unit tests for strbuf.c
 *
 * SYNOPSIS
 *	check_strbuf
 *
 * DESCRIPTION
 *	Table-driven Check suite.  Sequences of appends against a limit:
 *	the append that would pass the limit fails with EMSGSIZE and leaves
 *	the content as it was, the one that reaches the limit exactly
 *	succeeds; limit 0; embedded NUL bytes; printf through its small and
 *	its large path, both at and over the limit; reset keeping storage;
 *	free and reuse; growth over many reallocations.
 *
 * DIAGNOSTICS
 *	Exit status 0 when every test passes, 1 otherwise.
 *
 * SEE ALSO
 *	strbuf.c
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "strbuf.h"

#define N_ELEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_STEPS	4

static const struct {
	const char	*label;
	size_t		 limit;
	const char	*piece[MAX_STEPS];	/* NULL ends the sequence */
	int		 err[MAX_STEPS];	/* 0 or the errno */
	const char	*result;
} puts_cases[] = {
	/* unhappy paths */
	{ "limit 0 refuses a byte", 0, { "a" }, { EMSGSIZE }, "" },
	{ "one past limit", 3, { "abcd" }, { EMSGSIZE }, "" },
	{ "second piece passes limit", 5, { "abc", "def" }, { 0, EMSGSIZE },
	    "abc" },
	{ "failure keeps content, later fit works", 5,
	    { "abc", "defgh", "de" }, { 0, EMSGSIZE, 0 }, "abcde" },
	{ "full buffer refuses one more", 4, { "abcd", "e" },
	    { 0, EMSGSIZE }, "abcd" },
	/* happy paths */
	{ "limit 0 takes empty", 0, { "" }, { 0 }, "" },
	{ "exactly the limit", 3, { "abc" }, { 0 }, "abc" },
	{ "pieces up to the limit", 6, { "ab", "cd", "ef" }, { 0, 0, 0 },
	    "abcdef" },
	{ "empty pieces", 10, { "", "x", "" }, { 0, 0, 0 }, "x" },
	{ "large limit", 1 << 20, { "hello", ", ", "world" }, { 0, 0, 0 },
	    "hello, world" },
};

START_TEST(test_puts)
{
	struct strbuf sb;
	size_t k;
	int rc;

	strbuf_init(&sb, puts_cases[_i].limit);
	for (k = 0; k < MAX_STEPS && puts_cases[_i].piece[k] != NULL; k++) {
		errno = 0;
		rc = strbuf_puts(&sb, puts_cases[_i].piece[k]);
		if (puts_cases[_i].err[k] == 0) {
			ck_assert_msg(rc == 0, "%s: step %zu failed",
			    puts_cases[_i].label, k);
		} else {
			ck_assert_msg(rc == -1, "%s: step %zu succeeded",
			    puts_cases[_i].label, k);
			ck_assert_int_eq(errno, puts_cases[_i].err[k]);
		}
		ck_assert_uint_le(sb.len, sb.limit);
	}
	ck_assert_str_eq(strbuf_str(&sb), puts_cases[_i].result);
	ck_assert_uint_eq(sb.len, strlen(puts_cases[_i].result));
	if (sb.data != NULL)
		ck_assert_uint_le(sb.cap, sb.limit + 1);
	strbuf_free(&sb);
}
END_TEST

START_TEST(test_init_empty)
{
	struct strbuf sb;

	strbuf_init(&sb, 100);
	ck_assert_ptr_null(sb.data);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_uint_eq(sb.limit, 100);
	ck_assert_str_eq(strbuf_str(&sb), "");
	strbuf_reset(&sb);		/* reset of an empty buffer */
	ck_assert_ptr_null(sb.data);
	strbuf_free(&sb);		/* free of an empty buffer */
	ck_assert_ptr_null(sb.data);
}
END_TEST

START_TEST(test_append_binary)
{
	static const char bytes[] = { 'a', '\0', 'b', '\n', '\r' };
	struct strbuf sb;

	strbuf_init(&sb, 8);
	ck_assert_int_eq(strbuf_append(&sb, bytes, sizeof(bytes)), 0);
	ck_assert_uint_eq(sb.len, sizeof(bytes));
	ck_assert(memcmp(sb.data, bytes, sizeof(bytes)) == 0);
	ck_assert_int_eq(sb.data[sb.len], '\0');
	ck_assert_int_eq(strbuf_append(&sb, NULL, 0), 0);
	ck_assert_uint_eq(sb.len, sizeof(bytes));
	errno = 0;
	ck_assert_int_eq(strbuf_append(&sb, bytes, 4), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(sb.len, sizeof(bytes));
	ck_assert(memcmp(sb.data, bytes, sizeof(bytes)) == 0);
	ck_assert_int_eq(strbuf_putc(&sb, 'x'), 0);
	ck_assert_int_eq(strbuf_putc(&sb, '\0'), 0);
	ck_assert_int_eq(strbuf_putc(&sb, 'y'), 0);
	ck_assert_uint_eq(sb.len, 8);
	ck_assert_int_eq(strbuf_putc(&sb, 'z'), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(sb.data[7], 'y');
	strbuf_free(&sb);
}
END_TEST

START_TEST(test_printf)
{
	struct strbuf sb;
	char *big;
	size_t i;

	strbuf_init(&sb, 1000);
	ck_assert_int_eq(strbuf_printf(&sb, "%s=%d;", "port", 587), 0);
	ck_assert_str_eq(strbuf_str(&sb), "port=587;");

	/* Large path: more than the 256-byte stack buffer. */
	big = malloc(600);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < 599; i++)
		big[i] = (char)('a' + i % 26);
	big[599] = '\0';
	ck_assert_int_eq(strbuf_printf(&sb, "[%s]", big), 0);
	ck_assert_uint_eq(sb.len, 9 + 601);
	ck_assert_int_eq(strncmp(sb.data + 9, "[abc", 4), 0);
	ck_assert_int_eq(sb.data[sb.len - 1], ']');

	/* Large path over the limit: refused, content unchanged. */
	errno = 0;
	ck_assert_int_eq(strbuf_printf(&sb, "%s", big), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(sb.len, 610);

	/* Small path over the limit. */
	strbuf_reset(&sb);
	ck_assert_int_eq(strbuf_printf(&sb, "%.*s", 595, big), 0);
	ck_assert_int_eq(strbuf_printf(&sb, "%0400d", 7), 0);
	ck_assert_uint_eq(sb.len, 995);
	errno = 0;
	ck_assert_int_eq(strbuf_printf(&sb, "%d", 123456), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_uint_eq(sb.len, 995);
	ck_assert_int_eq(strbuf_printf(&sb, "%d", 12345), 0);
	ck_assert_uint_eq(sb.len, 1000);
	ck_assert_str_eq(sb.data + 995, "12345");

	/* Large path exactly at the limit. */
	strbuf_reset(&sb);
	ck_assert_int_eq(strbuf_puts(&sb, "0123456789"), 0);
	free(big);
	big = malloc(991);
	ck_assert_ptr_nonnull(big);
	memset(big, 'q', 990);
	big[990] = '\0';
	ck_assert_int_eq(strbuf_printf(&sb, "%s", big), 0);
	ck_assert_uint_eq(sb.len, 1000);
	ck_assert_int_eq(sb.data[999], 'q');
	free(big);
	strbuf_free(&sb);
}
END_TEST

START_TEST(test_reset_free_reuse)
{
	struct strbuf sb;
	char *data;

	strbuf_init(&sb, 64);
	ck_assert_int_eq(strbuf_puts(&sb, "first"), 0);
	data = sb.data;
	strbuf_reset(&sb);
	ck_assert_ptr_eq(sb.data, data);	/* storage kept */
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_str_eq(strbuf_str(&sb), "");
	ck_assert_int_eq(strbuf_puts(&sb, "second"), 0);
	ck_assert_str_eq(strbuf_str(&sb), "second");
	strbuf_free(&sb);
	ck_assert_ptr_null(sb.data);
	ck_assert_uint_eq(sb.len, 0);
	ck_assert_uint_eq(sb.cap, 0);
	ck_assert_str_eq(strbuf_str(&sb), "");
	strbuf_init(&sb, 64);
	ck_assert_int_eq(strbuf_puts(&sb, "third"), 0);
	ck_assert_str_eq(strbuf_str(&sb), "third");
	strbuf_free(&sb);
}
END_TEST

START_TEST(test_growth)
{
	struct strbuf sb;
	size_t i;

	strbuf_init(&sb, 10000);
	for (i = 0; i < 10000; i++)
		ck_assert_int_eq(strbuf_putc(&sb, (char)('0' + i % 10)), 0);
	ck_assert_uint_eq(sb.len, 10000);
	ck_assert_uint_le(sb.cap, 10001);
	ck_assert_uint_eq(strlen(strbuf_str(&sb)), 10000);
	for (i = 0; i < 10000; i++)
		ck_assert_int_eq(sb.data[i], '0' + (int)(i % 10));
	ck_assert_int_eq(strbuf_putc(&sb, 'x'), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	strbuf_free(&sb);
}
END_TEST

/* strbuf_space and strbuf_commit: write in place, within the limit. */
START_TEST(test_space_commit)
{
	struct strbuf sb;
	char *p;

	strbuf_init(&sb, 8);
	ck_assert_int_eq(strbuf_puts(&sb, "ab"), 0);
	ck_assert_ptr_nonnull(p = strbuf_space(&sb, 6));
	(void) memcpy(p, "cd", 2);		/* fewer than reserved */
	strbuf_commit(&sb, 2);
	ck_assert_str_eq(strbuf_str(&sb), "abcd");
	ck_assert_uint_eq(sb.len, 4);
	errno = 0;
	ck_assert_ptr_null(strbuf_space(&sb, 5));	/* 4 + 5 > 8 */
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_str_eq(strbuf_str(&sb), "abcd");
	ck_assert_ptr_nonnull(strbuf_space(&sb, 4));
	strbuf_commit(&sb, 0);
	ck_assert_str_eq(strbuf_str(&sb), "abcd");
	strbuf_free(&sb);
}
END_TEST

static Suite *
strbuf_suite(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_puts, 0, (int)N_ELEMS(puts_cases));
	tcase_add_test(tc, test_init_empty);
	tcase_add_test(tc, test_append_binary);
	tcase_add_test(tc, test_printf);
	tcase_add_test(tc, test_reset_free_reuse);
	tcase_add_test(tc, test_growth);
	tcase_add_test(tc, test_space_commit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(strbuf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
