/*
 * check_auditrecover - recovery of the stage at start (auditrecover.c,
 * through audit_sink_recover): records staged by a process killed before
 * writing them are appended once, the chain goes on, a line torn by the
 * kill is completed; staged lines that do not continue the log go to the
 * .orphan file; a stage opens once.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "auditchain.h"
#include "auditfix.h"
#include "auditsink.h"
#include "facts.h"

/* count_lines - lines in path. */
static int
count_lines(const char *path)
{
	FILE *fp;
	int c, n = 0;

	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	(void) fclose(fp);
	return n;
}

/*
 * crash_child - in a child: open the sink, write one decision record
 * (written: the first write is due at once), stage three session
 * records, and die by SIGKILL before anything writes them.
 */
static void
crash_child(const char *path, struct fixture *x)
{
	unsigned long n_orphans;
	struct audit_sink *sink;
	pid_t pid;
	int i, st;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if ((sink = audit_sink_open(path)) == NULL ||
		    audit_sink_recover(sink, &n_orphans) != 0)
			_exit(2);
		audit_sink_set_fsync(sink, AUDIT_FSYNC_NONE);
		if (one_record(sink, x, false) != 0)
			_exit(3);
		for (i = 0; i < 3; i++)
			if (one_record(sink, x, true) != 0)
				_exit(4);
		(void) kill(getpid(), SIGKILL);
		_exit(5);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/*
 * A process killed with records staged and not written: the next start
 * appends exactly those (hash and link checked), the chain goes on from
 * the last of them, and a start after that appends nothing again.
 */
START_TEST(test_sink_recover)
{
	char dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	unsigned long n_orphans = 7;
	struct audit_sink *sink;
	struct fixture x;

	tmp_paths(dir, path, moved, sizeof(path));
	tls_accept(&x);
	crash_child(path, &x);
	ck_assert_int_eq(count_lines(path), 1);	/* the rest died staged */
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_recover(sink, &n_orphans), 3);
	ck_assert_uint_eq(n_orphans, 0);
	ck_assert_int_eq(one_record(sink, &x, false), 0);
	audit_sink_close(&sink);
	ck_assert_int_eq(check_chain(path, head, NULL), 5);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_recover(sink, &n_orphans), 0);
	audit_sink_close(&sink);
	ck_assert_int_eq(count_lines(path), 5);
	/* a log rotated to an empty file before the crash: they start it */
	crash_child(path, &x);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(close(open(path, O_WRONLY | O_CREAT, 0600)), 0);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_recover(sink, &n_orphans), 3);
	audit_sink_close(&sink);
	(void) memcpy(head, AUDIT_CHAIN_ANCHOR, sizeof(head));
	ck_assert_int_eq(check_chain(moved, head, NULL), 6);
	ck_assert_int_eq(check_chain(path, head, NULL), 3);
	facts_clear(&x.f);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(moved), 0);
	rm_dir(dir);
}
END_TEST

/* copy_file - from's bytes into a new file to. */
static void
copy_file(const char *from, const char *to)
{
	char buf[8192];
	FILE *in, *out;
	size_t n;

	ck_assert_ptr_nonnull(in = fopen(from, "r"));
	ck_assert_ptr_nonnull(out = fopen(to, "w"));
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	(void) fclose(in);
	ck_assert_int_eq(fclose(out), 0);
}

/* slurp - path's bytes (malloc'd, NUL added), the count in *len. */
static char *
slurp(const char *path, size_t *len)
{
	char *text = NULL;
	FILE *fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	ck_assert_int_eq(getdelim(&text, len, '\0', fp) > 0, 1);
	*len = strlen(text);
	(void) fclose(fp);
	return text;
}

/*
 * A process killed in the middle of writing a line leaves its start at
 * the end of the log: the next start writes the rest of that line, so
 * the log ends up byte for byte as if the write had been whole (no torn
 * fragment for the verifier to skip).  The model is a copy of the log
 * and stage recovered without the tear.
 */
START_TEST(test_sink_recover_torn)
{
	char dir[PATH_MAX], path[PATH_MAX], copy[PATH_MAX];
	char stage[PATH_MAX + 16], cstage[PATH_MAX + 16];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	char *want, *got, *second_end;
	size_t want_len, got_len, first_len;
	unsigned long n_orphans;
	struct audit_sink *sink;
	struct fixture x;
	FILE *fp;

	tmp_paths(dir, path, copy, sizeof(path));
	tls_accept(&x);
	crash_child(path, &x);		/* one line written, three staged */
	(void) snprintf(stage, sizeof(stage), "%s.stage", path);
	(void) snprintf(cstage, sizeof(cstage), "%s.stage", copy);
	copy_file(path, copy);
	copy_file(stage, cstage);
	ck_assert_ptr_nonnull(sink = audit_sink_open(copy));
	ck_assert_int_eq(audit_sink_recover(sink, &n_orphans), 3);
	audit_sink_close(&sink);
	want = slurp(copy, &want_len);
	got = slurp(path, &first_len);
	free(got);
	ck_assert_ptr_nonnull(second_end = strchr(want + first_len, '\n'));
	/* the tear: half of the first staged line reached the log */
	ck_assert_ptr_nonnull(fp = fopen(path, "a"));
	ck_assert_uint_eq(fwrite(want + first_len, 1,
	    (size_t)(second_end - (want + first_len)) / 2, fp),
	    (size_t)(second_end - (want + first_len)) / 2);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_recover(sink, &n_orphans), 3);
	ck_assert_uint_eq(n_orphans, 0);
	audit_sink_close(&sink);
	got = slurp(path, &got_len);
	ck_assert_uint_eq(got_len, want_len);
	ck_assert_str_eq(got, want);
	ck_assert_int_eq(check_chain(path, head, NULL), 4);
	free(got);
	free(want);
	facts_clear(&x.f);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(copy), 0);
	rm_dir(dir);
}
END_TEST

/*
 * Staged lines that do not continue the log (it was replaced by another
 * file) are neither appended nor dropped: copied to the .orphan file.
 * A second process cannot open the same stage.
 */
START_TEST(test_sink_orphans)
{
	char dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
	char orphans[PATH_MAX + 16];
	unsigned long n_orphans = 0;
	struct audit_sink *sink;
	struct fixture x;
	FILE *fp;

	tmp_paths(dir, path, moved, sizeof(path));
	tls_accept(&x);
	crash_child(path, &x);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_ge(fputs("{\"another\":\"log\"}\n", fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	errno = 0;
	ck_assert_ptr_null(audit_sink_open(path));	/* the stage is locked */
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_int_eq(audit_sink_recover(sink, &n_orphans), 0);
	ck_assert_uint_eq(n_orphans, 3);
	audit_sink_close(&sink);
	ck_assert_int_eq(count_lines(path), 1);
	(void) snprintf(orphans, sizeof(orphans), "%s.stage.orphan", path);
	ck_assert_int_eq(count_lines(orphans), 3);
	facts_clear(&x.f);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(moved), 0);
	rm_dir(dir);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sink_recover);
	tcase_add_test(tc, test_sink_recover_torn);
	tcase_add_test(tc, test_sink_orphans);
	return run_tcase("auditrecover", tc);
}
