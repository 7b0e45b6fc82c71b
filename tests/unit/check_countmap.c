/*
 * check_countmap - counts by key: 20,000 keys (the index grows several
 * times) each counted its own number of times come back with those
 * counts and in the order they first came; keys with NUL bytes and
 * keys that differ in one byte stay apart; values are freed by the
 * function given; a freed map is empty and usable.
 */

#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "countmap.h"

#define N_KEYS	20000

static int	n_freed;

/* free_value - count what countmap_free frees. */
static void
free_value(void *p)
{
	n_freed++;
	free(p);
}

START_TEST(test_counts_and_order)
{
	struct countmap m = { .e = NULL };
	char key[32];
	int len;

	for (int round = 0; round < 3; round++)
		for (int i = 0; i < N_KEYS; i++) {
			len = snprintf(key, sizeof(key), "key-%d", i);
			if (round <= i % 3)	/* key i: 1 + i % 3 times */
				ck_assert_ptr_nonnull(countmap_add(&m, key,
				    (size_t)len, 1));
		}
	ck_assert_uint_eq(m.n, N_KEYS);
	for (int i = 0; i < N_KEYS; i++) {
		len = snprintf(key, sizeof(key), "key-%d", i);
		ck_assert_str_eq(m.e[i].key, key);		/* first-seen order */
		ck_assert_uint_eq(m.e[i].n, 1 + (unsigned)i % 3);
		ck_assert_ptr_eq(countmap_find(&m, key, (size_t)len), &m.e[i]);
	}
	ck_assert_ptr_null(countmap_find(&m, "key-", 4));
	countmap_free(&m, NULL);
	ck_assert_uint_eq(m.n, 0);
	ck_assert_ptr_null(countmap_find(&m, "key-1", 5));
	ck_assert_ptr_nonnull(countmap_add(&m, "again", 5, 2));
	ck_assert_uint_eq(m.e[0].n, 2);
	countmap_free(&m, NULL);
}
END_TEST

START_TEST(test_bytes_and_values)
{
	struct countmap m = { .e = NULL };
	struct countmap_entry *e;

	ck_assert_ptr_nonnull(e = countmap_add(&m, "a\0b", 3, 1));
	ck_assert_ptr_null(e->value);
	ck_assert_ptr_nonnull(e->value = malloc(8));
	ck_assert_ptr_nonnull(e = countmap_add(&m, "a\0c", 3, 5));
	ck_assert_ptr_nonnull(e->value = malloc(8));
	ck_assert_ptr_nonnull(countmap_add(&m, "a", 1, 0));
	ck_assert_uint_eq(m.n, 3);
	ck_assert_uint_eq(countmap_find(&m, "a\0b", 3)->n, 1);
	ck_assert_uint_eq(countmap_find(&m, "a\0c", 3)->n, 5);
	ck_assert_uint_eq(countmap_find(&m, "a", 1)->n, 0);
	n_freed = 0;
	countmap_free(&m, free_value);
	ck_assert_int_eq(n_freed, 2);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("countmap");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_counts_and_order);
	tcase_add_test(tc, test_bytes_and_values);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
