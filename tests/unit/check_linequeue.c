/*
 * check_linequeue - lines through the worker thread: 200,000 lines of
 * sizes from 0 to 300 bytes and a few of 5 MiB (longer than a block)
 * reach the worker in the order put, each whole and with its is_whole
 * flag; after linequeue_sync() every line put so far has arrived (the
 * count is read in the reader, with no lock, only after sync); a queue
 * freed right after puts still delivers them all.
 */

#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "linequeue.h"

#define N_LINES	200000
#define BIG	((size_t)5 << 20)

struct seen {
	unsigned long	 n;		/* lines arrived */
	bool		 is_bad;	/* one arrived wrong */
};

/* fill - the content of line i (size bytes), reproducible. */
static void
fill(char *buf, size_t size, unsigned long i)
{
	for (size_t k = 0; k < size; k++)
		buf[k] = (char)('a' + (i + k) % 26);
}

/* size_of - the size of line i: mostly short, every 50,000th 5 MiB. */
static size_t
size_of(unsigned long i)
{
	return i % 50000 == 7 ? BIG : i % 301;
}

/* check_line - the worker's each: line n arrives n-th and intact. */
static void
check_line(void *arg, const char *line, size_t size, bool is_whole)
{
	static char want[BIG];
	struct seen *s = arg;

	fill(want, size_of(s->n), s->n);
	if (size != size_of(s->n) || memcmp(line, want, size) != 0 ||
	    is_whole != (s->n % 3 != 0))
		s->is_bad = true;
	s->n++;
}

START_TEST(test_order)
{
	static char buf[BIG];
	struct seen s = { 0 };
	struct linequeue *q;

	ck_assert_ptr_nonnull(q = linequeue_new(check_line, &s));
	for (unsigned long i = 0; i < N_LINES; i++) {
		fill(buf, size_of(i), i);
		linequeue_put(q, buf, size_of(i), i % 3 != 0);
		if (i == N_LINES / 2) {
			linequeue_sync(q);
			ck_assert_uint_eq(s.n, i + 1);
		}
	}
	linequeue_free(&q);
	ck_assert_ptr_null(q);
	ck_assert_uint_eq(s.n, N_LINES);
	ck_assert(!s.is_bad);
	linequeue_free(&q);		/* NULL is fine */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("linequeue");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
