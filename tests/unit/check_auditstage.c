/*
 * check_auditstage - the memory-mapped stage (auditstage.c): a ring that
 * wraps, batches of two iovecs, lines handed back on reopening, a file
 * that is not a stage refused.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "auditfix.h"
#include "auditstage.h"

/* count_line - a scan callback: count lines, check they come in order. */
static bool
count_line(void *arg, const char *line, size_t len)
{
	int *next = arg;

	ck_assert_int_eq(len, 1000);
	ck_assert_int_eq(atoi(line), (*next)++);
	return true;
}

/*
 * The ring: full at its size, a line that does not fit at the end goes
 * to the front, a batch is then two iovecs in order, and a stage opened
 * again hands back the lines not consumed, in order.
 */
START_TEST(test_stage_ring)
{
	char dir[PATH_MAX], path[PATH_MAX], line[1000];
	struct audit_stage *st;
	struct iovec iov[2];
	size_t size;
	int i, next = 10;

	tmp_dir(dir, sizeof(dir));
	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/s.stage", dir),
	    (int)sizeof(path));
	ck_assert_ptr_nonnull(st = audit_stage_open(path, AUDIT_STAGE_MIN));
	(void) memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < 65; i++) {
		(void) snprintf(line, 8, "%06d", i);
		line[6] = ' ';
		ck_assert_int_eq(audit_stage_put(st, line, sizeof(line)), 0);
	}
	errno = 0;
	ck_assert_int_eq(audit_stage_put(st, line, sizeof(line)), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(audit_stage_used(st), 65000);
	audit_stage_consume(st, 10000);
	(void) snprintf(line, 8, "%06d", 65);
	line[6] = ' ';
	ck_assert_int_eq(audit_stage_put(st, line, sizeof(line)), 0);
	ck_assert_int_eq(audit_stage_batch(st, iov, &size), 2);
	ck_assert_uint_eq(size, 56000);
	ck_assert_uint_eq(iov[0].iov_len, 55000);
	ck_assert_int_eq(atoi(iov[0].iov_base), 10);
	ck_assert_int_eq(atoi(iov[1].iov_base), 65);
	audit_stage_close(&st);
	ck_assert_ptr_nonnull(st = audit_stage_open(path, AUDIT_STAGE_SIZE));
	ck_assert_uint_eq(audit_stage_scan(st, count_line, &next), 56);
	ck_assert_int_eq(next, 66);
	audit_stage_drop(st);
	ck_assert_uint_eq(audit_stage_scan(st, count_line, &next), 0);
	audit_stage_close(&st);
	ck_assert_int_eq(truncate(path, 100), 0);	/* not a stage any more */
	errno = 0;
	ck_assert_ptr_null(audit_stage_open(path, AUDIT_STAGE_MIN));
	ck_assert_int_eq(errno, EINVAL);
	rm_dir(dir);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stage_ring);
	return run_tcase("auditstage", tc);
}
