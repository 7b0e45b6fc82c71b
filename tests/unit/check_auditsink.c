/*
 * check_auditsink - the sink (auditsink.c): concurrent writers, rotation
 * and a failed reopen, the hash chain across threads, rotation and a
 * torn last line, keyed hashing per sink, the writer thread, a failing
 * write that loses nothing, group commit with fsync every.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "auditchain.h"
#include "auditfix.h"
#include "auditsink.h"
#include "facts.h"
#include "strbuf.h"

/* ---------------------------------------------------------------- */
/* the sink */

#define N_WRITERS	8
#define N_LINES		500

struct writer {
	struct audit_sink	*sink;
	int			 id;
};

static void *
write_many(void *arg)
{
	struct writer *w = arg;
	char line[700];

	for (int i = 0; i < N_LINES; i++) {
		int n = snprintf(line, sizeof(line),
		    "{\"w\":%d,\"i\":%d,\"pad\":\"%0500d\"}\n", w->id, i, 0);

		if (audit_sink_write(w->sink, line, (size_t)n) == -1)
			return (void *)1;
	}
	return NULL;
}

/* read_back - every line whole, each (writer, i) exactly once. */
static void
read_back(const char *path)
{
	static bool seen[N_WRITERS][N_LINES];
	char line[800], want[800];
	int n = 0, w, i;
	FILE *fp;

	memset(seen, 0, sizeof(seen));
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		ck_assert_msg(sscanf(line, "{\"w\":%d,\"i\":%d,", &w,
		    &i) == 2 &&
		    w >= 0 && w < N_WRITERS && i >= 0 && i < N_LINES &&
		    !seen[w][i], "torn or repeated line %d: %.40s", n, line);
		(void) snprintf(want, sizeof(want),
		    "{\"w\":%d,\"i\":%d,\"pad\":\"%0500d\"}\n", w, i, 0);
		ck_assert_msg(strcmp(line, want) == 0, "torn line %d", n);
		seen[w][i] = true;
		n++;
	}
	(void) fclose(fp);
	ck_assert_int_eq(n, N_WRITERS * N_LINES);
}

START_TEST(test_sink_threads)
{
	char dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
	struct writer w[N_WRITERS];
	pthread_t t[N_WRITERS];
	struct audit_sink *sink;
	struct stat st;
	void *rc;

	(void) umask(022);
	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_str_eq(audit_sink_path(sink), path);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	for (int i = 0; i < N_WRITERS; i++) {
		w[i] = (struct writer){ sink, i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, write_many, &w[i]),
		    0);
	}
	for (int i = 0; i < N_WRITERS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rc), 0);
		ck_assert_ptr_null(rc);
	}
	read_back(path);
	audit_sink_close(&sink);
	ck_assert_ptr_null(sink);
	audit_sink_close(&sink);		/* NULL is fine */
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
	errno = 0;
	ck_assert_ptr_null(audit_sink_open("/nonexistent/dir/audit.jsonl"));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* last_line - the last line of path, into buf. */
static void
last_line(const char *path, char *buf, size_t size, const char *want)
{
	char line[256] = "";
	FILE *fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while (fgets(buf, (int)size, fp) != NULL)
		(void) snprintf(line, sizeof(line), "%s", buf);
	(void) fclose(fp);
	ck_assert_str_eq(line, want);
}

START_TEST(test_sink_rotate)
{
	char dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX], buf[800];
	struct audit_sink *sink;

	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_write(sink, "first\n", 6), 0);
	/* rotation: rename, reopen, the next record goes to the new file */
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(audit_sink_write(sink, "old\n", 4), 0);
	ck_assert_int_eq(audit_sink_reopen(sink), 0);
	ck_assert_int_eq(audit_sink_write(sink, "new\n", 4), 0);
	last_line(path, buf, sizeof(buf), "new\n");
	last_line(moved, buf, sizeof(buf), "old\n");
	/* a failed reopen keeps the old file */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(moved), 0);
	rm_dir(dir);
	ck_assert_int_eq(audit_sink_reopen(sink), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(audit_sink_write(sink, "still\n", 6), 0);
	audit_sink_close(&sink);
}
END_TEST

/* ---------------------------------------------------------------- */
/* the hash chain, recomputed here with auditchain_hash() */

#define TORN		"{\"v\":2,\"torn"

static void *
chain_many(void *arg)
{
	struct audit_sink *sink = arg;
	struct fixture x;
	struct strbuf sb;
	void *rc = NULL;

	tls_accept(&x);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	for (int i = 0; i < 100 && rc == NULL; i++) {
		strbuf_reset(&sb);
		if (audit_format_json_open(&x.r, &sb) == -1 ||
		    audit_sink_write_chained(sink, &sb) == -1)
			rc = (void *)1;
	}
	strbuf_free(&sb);
	facts_clear(&x.f);
	return rc;
}

/* chain_run - n_threads x 100 chained records into sink. */
static void
chain_run(struct audit_sink *sink, int n_threads)
{
	pthread_t t[N_WRITERS];
	void *rc;

	for (int i = 0; i < n_threads; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, chain_many, sink),
		    0);
	for (int i = 0; i < n_threads; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rc), 0);
		ck_assert_ptr_null(rc);
	}
}

START_TEST(test_chain)
{
	char dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	char last[AUDIT_HASH_HEX + 1];
	struct audit_sink *sink;
	FILE *fp;

	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	audit_sink_set_fsync(sink, AUDIT_FSYNC_NONE);
	chain_run(sink, N_WRITERS);
	/* rotation: the new file's first record links to the old last one */
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(audit_sink_reopen(sink), 0);
	chain_run(sink, 2);
	audit_sink_close(&sink);
	/*
	 * a torn last line: a new sink continues from the last whole line,
	 * and its first record starts on a line of its own
	 */
	ck_assert_ptr_nonnull(fp = fopen(path, "a"));
	ck_assert_int_ge(fputs(TORN, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	chain_run(sink, 1);
	audit_sink_last_hash(sink, last);
	audit_sink_close(&sink);
	ck_assert_int_eq(check_chain(moved, head, NULL), N_WRITERS * 100);
	ck_assert_int_eq(check_chain(path, head, TORN), 300);
	ck_assert_str_eq(head, last);
	ck_assert_int_eq(unlink(moved), 0);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}
END_TEST

/* A reader at the other end of a FIFO: takes n_lines lines, then hangs up. */
struct fifo_reader {
	const char	*path;
	int		 n_lines;
	char		 got[4 * AUDIT_RECORD_MAX];
	size_t		 len;
};

static void *
read_fifo(void *arg)
{
	struct fifo_reader *r = arg;
	int fd, seen = 0;
	ssize_t n;

	if ((fd = open(r->path, O_RDONLY)) == -1)
		return (void *)1;
	while (seen < r->n_lines && r->len < sizeof(r->got) - 1 &&
	    (n = read(fd, r->got + r->len, 1)) == 1)
		seen += r->got[r->len++] == '\n';
	r->got[r->len] = '\0';
	(void) close(fd);
	return NULL;
}

/*
 * A write that fails (the reader of a FIFO went away: EPIPE) loses
 * nothing: the staged lines stay, a decision record is refused with the
 * write's error while writes fail, a session record is still staged, and
 * once the file is there again (reopen) every staged line reaches it, in
 * chain order, the chain unbroken.  A queued record reaches the file
 * only when something writes it.
 */
START_TEST(test_sink_write_fails)
{
	char dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR, *nl, *p;
	static struct fifo_reader r1, r2;
	int n = 0;
	struct audit_sink *sink;
	struct fixture x;
	pthread_t t;
	void *rc;

	(void) signal(SIGPIPE, SIG_IGN);
	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	r1.path = r2.path = path;
	r1.n_lines = 2;
	r2.n_lines = 3;
	ck_assert_int_eq(pthread_create(&t, NULL, read_fifo, &r1), 0);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	audit_sink_set_fsync(sink, AUDIT_FSYNC_NONE);	/* a FIFO has no disk */
	tls_accept(&x);
	ck_assert_int_eq(one_record(sink, &x, false), 0);
	ck_assert_int_eq(one_record(sink, &x, true), 0);	/* queued */
	ck_assert_int_eq(audit_sink_sync(sink), 0);		/* written */
	ck_assert_int_eq(pthread_join(t, &rc), 0);
	ck_assert_ptr_null(rc);
	ck_assert_int_eq(one_record(sink, &x, true), 0);	/* staged */
	errno = 0;
	ck_assert_int_eq(audit_sink_sync(sink), -1);		/* no reader */
	ck_assert_int_eq(errno, EPIPE);
	errno = 0;
	ck_assert_int_eq(one_record(sink, &x, false), -1);	/* refused */
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(one_record(sink, &x, true), 0);	/* staged */
	ck_assert_uint_eq(audit_sink_take_lost(sink), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, read_fifo, &r2), 0);
	ck_assert_int_eq(audit_sink_reopen(sink), 0);		/* writes both */
	ck_assert_int_eq(one_record(sink, &x, false), 0);
	audit_sink_close(&sink);				/* writes it */
	ck_assert_int_eq(pthread_join(t, &rc), 0);
	ck_assert_ptr_null(rc);
	facts_clear(&x.f);
	/* two lines to the first reader, three more, linked on, to the second */
	ck_assert_ptr_nonnull(nl = strchr(r1.got, '\n'));
	*nl = '\0';
	check_link(r1.got, (size_t)(nl - r1.got), head);
	ck_assert_int_eq(r1.got[r1.len - 1], '\n');
	r1.got[r1.len - 1] = '\0';
	check_link(nl + 1, strlen(nl + 1), head);
	for (p = r2.got; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		check_link(p, (size_t)(nl - p), head);
		n++;
	}
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}
END_TEST

/*
 * fsync every: many writers at once, each record written and synced
 * before its call returns (group commit shares the writes); the chain
 * follows file order.
 */
START_TEST(test_sink_group_every)
{
	char dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	struct audit_sink *sink;

	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	audit_sink_set_fsync(sink, AUDIT_FSYNC_EVERY);
	chain_run(sink, N_WRITERS);
	audit_sink_close(&sink);
	ck_assert_int_eq(check_chain(path, head, NULL), N_WRITERS * 100);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}
END_TEST

/*
 * The sink hashes on its own (no allocation per record): for keys shorter
 * than, as long as and longer than the SHA-256 block, each line's hash is
 * what auditchain_hash() (the verifier's EVP path) makes of it.
 */
static const size_t key_sizes[] = { 0, 1, 4, 63, 64, 65, 131, AUDIT_KEY_MAX };

/* keyed_run - 3 records in a new sink with a size-byte key, checked. */
static void
keyed_run(size_t size)
{
	char dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	char want[AUDIT_HASH_HEX + 1], *line = NULL, *tail;
	unsigned char key[AUDIT_KEY_MAX];
	size_t cap = 0;
	struct audit_sink *sink;
	struct fixture x;
	struct strbuf sb;
	ssize_t len;
	FILE *fp;
	int n = 0;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	audit_sink_set_fsync(sink, AUDIT_FSYNC_NONE);
	ck_assert_int_eq(audit_sink_set_key(sink, key, size), 0);
	tls_accept(&x);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	for (int i = 0; i < 3; i++) {
		strbuf_reset(&sb);
		ck_assert_int_eq(audit_format_json_open(&x.r, &sb), 0);
		ck_assert_int_eq(audit_sink_write_chained(sink, &sb), 0);
	}
	strbuf_free(&sb);
	facts_clear(&x.f);
	audit_sink_close(&sink);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while ((len = getline(&line, &cap, fp)) > 0) {
		line[--len] = '\0';
		ck_assert_uint_gt((size_t)len, TAIL_LEN);
		tail = line + len - TAIL_LEN;
		ck_assert_int_eq(strncmp(tail - AUDIT_HASH_HEX - 1, head,
		    AUDIT_HASH_HEX), 0);	/* "prev" links to the line before */
		tail[0] = '}';
		ck_assert_int_eq(auditchain_hash(size > 0 ? key : NULL, size,
		    line, (size_t)(tail - line) + 1, want), 0);
		ck_assert_int_eq(strncmp(tail + sizeof(HASH_MEMBER) - 1, want,
		    AUDIT_HASH_HEX), 0);
		(void) memcpy(head, want, sizeof(head));
		n++;
	}
	free(line);
	(void) fclose(fp);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}

START_TEST(test_sink_key)
{
	keyed_run(key_sizes[_i]);
}
END_TEST

/*
 * A thread hashes a record's fields with a context of its own, before
 * the sink's lock: one thread writing to sink after sink, each with
 * another key (or none), hashes each sink's records with that sink's key.
 */
START_TEST(test_sink_key_per_sink)
{
	for (size_t i = 0; i < sizeof(key_sizes) / sizeof(key_sizes[0]); i++)
		keyed_run(key_sizes[i]);
	for (size_t i = sizeof(key_sizes) / sizeof(key_sizes[0]); i-- > 0; )
		keyed_run(key_sizes[i]);
}
END_TEST

/* A key longer than AUDIT_KEY_MAX is refused and the old one kept. */
START_TEST(test_sink_key_too_long)
{
	char dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
	unsigned char key[AUDIT_KEY_MAX + 1] = { 0 };
	struct audit_sink *sink;

	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	errno = 0;
	ck_assert_int_eq(audit_sink_set_key(sink, key, sizeof(key)), -1);
	ck_assert_int_eq(errno, EINVAL);
	audit_sink_close(&sink);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}
END_TEST

/* A reader that starts late and takes n_lines lines, all into got. */
struct slow_reader {
	int		 fd;
	int		 n_lines;
	char		*got;
	size_t		 len, cap;
};

static void *
read_slowly(void *arg)
{
	struct slow_reader *r = arg;
	int seen = 0;
	ssize_t n;

	while (seen < r->n_lines && r->len < r->cap - 1 &&
	    (n = read(r->fd, r->got + r->len, 1)) == 1)
		seen += r->got[r->len++] == '\n';
	r->got[r->len] = '\0';
	return NULL;
}

/*
 * With the writer thread, a decision never waits for a write(2): the file
 * is a FIFO of one page nobody reads, so the writer blocks once it is
 * full, yet 40 decisions 12 ms apart (each one due to write, without
 * the thread) return at once.  Then a reader drains the FIFO: every
 * record arrives, in chain order, without any call that writes (no sync,
 * no close).  A second start is refused.
 */
#define N_DECISIONS	40

START_TEST(test_sink_writer)
{
	char dir[PATH_MAX], path[PATH_MAX], moved[PATH_MAX];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR, *nl, *p;
	struct slow_reader r = { .n_lines = N_DECISIONS };
	struct timespec t0, t1;
	struct audit_sink *sink;
	struct fixture x;
	pthread_t t;
	int n = 0;

	(void) signal(SIGPIPE, SIG_IGN);
	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_ne(r.fd = open(path, O_RDONLY | O_NONBLOCK), -1);
	ck_assert_int_ge(fcntl(r.fd, F_SETPIPE_SZ, 4096), 4096);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	audit_sink_set_fsync(sink, AUDIT_FSYNC_NONE);
	ck_assert_int_eq(audit_sink_start(sink), 0);
	errno = 0;
	ck_assert_int_eq(audit_sink_start(sink), -1);
	ck_assert_int_eq(errno, EBUSY);
	tls_accept(&x);
	(void) clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N_DECISIONS; i++) {
		ck_assert_int_eq(one_record(sink, &x, false), 0);
		(void) nanosleep(&(struct timespec){ 0, 12000000L }, NULL);
	}
	(void) clock_gettime(CLOCK_MONOTONIC, &t1);
	facts_clear(&x.f);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < 10, "decisions waited %lds",
	    (long)(t1.tv_sec - t0.tv_sec));
	ck_assert_int_eq(fcntl(r.fd, F_SETFL, 0), 0);	/* blocking reads */
	r.cap = (size_t)N_DECISIONS * AUDIT_RECORD_MAX;
	ck_assert_ptr_nonnull(r.got = malloc(r.cap));
	ck_assert_int_eq(pthread_create(&t, NULL, read_slowly, &r), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	for (p = r.got; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		check_link(p, (size_t)(nl - p), head);
		n++;
	}
	ck_assert_int_eq(n, N_DECISIONS);
	audit_sink_close(&sink);
	free(r.got);
	(void) close(r.fd);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}
END_TEST

int
main(void)
{
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sink_threads);
	tcase_add_test(tc, test_sink_rotate);
	tcase_add_test(tc, test_chain);
	tcase_add_loop_test(tc, test_sink_key, 0,
	    sizeof(key_sizes) / sizeof(key_sizes[0]));
	tcase_add_test(tc, test_sink_key_per_sink);
	tcase_add_test(tc, test_sink_key_too_long);
	tcase_add_test(tc, test_sink_writer);
	tcase_add_test(tc, test_sink_write_fails);
	tcase_add_test(tc, test_sink_group_every);
	return run_tcase("auditsink", tc);
}
