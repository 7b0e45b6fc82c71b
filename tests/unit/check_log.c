/*
 * check_log - the logger: exact stderr lines, control-byte escaping, debug
 * suppression, errno text, truncation, facility names, and whole lines
 * under concurrent writers.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "strbuf.h"

/* capture - send stderr to a fresh temporary file; its fd (for reading). */
static int
capture(void)
{
	char path[] = "/tmp/check_log.XXXXXX";
	int fd;

	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_ne(dup2(fd, STDERR_FILENO), -1);
	ck_assert_int_ne(fcntl(STDERR_FILENO, F_SETFL, O_APPEND), -1);
	log_open("tlspolicy-milter", LOG_MAIL, false, true);
	log_set_debug(false);
	return fd;
}

/* captured - everything written to stderr so far; caller frees. */
static char *
captured(int fd)
{
	off_t size = lseek(fd, 0, SEEK_END);
	char *buf;

	ck_assert_int_ge(size, 0);
	ck_assert_ptr_nonnull(buf = malloc((size_t)size + 1));
	ck_assert_int_eq(pread(fd, buf, (size_t)size, 0), size);
	buf[size] = '\0';
	return buf;
}

/* expect - "tlspolicy-milter[PID]: " followed by rest. */
static void
expect(const char *got, const char *rest)
{
	char want[1024];

	(void) snprintf(want, sizeof(want), "tlspolicy-milter[%ld]: %s",
	    (long)getpid(), rest);
	ck_assert_str_eq(got, want);
}

static const struct {
	const char	*label;
	enum log_level	 level;
	const char	*in;
	const char	*out;
} lines[] = {
	{ "plain info", LOG_LEVEL_INFO, "session S.1 accepted",
	    "info: session S.1 accepted\n" },
	{ "error", LOG_LEVEL_ERROR, "x", "error: x\n" },
	{ "warning", LOG_LEVEL_WARNING, "x", "warning: x\n" },
	{ "LF cannot split", LOG_LEVEL_INFO, "user=a\nerror: forged",
	    "info: user=a\\nerror: forged\n" },
	{ "CR", LOG_LEVEL_INFO, "a\rb\r\n", "info: a\\rb\\r\\n\n" },
	{ "tab and controls", LOG_LEVEL_INFO, "\t\x01\x1b[31m\x1f",
	    "info: \\x09\\x01\\x1b[31m\\x1f\n" },
	{ "DEL", LOG_LEVEL_INFO, "a\x7f" "b", "info: a\\x7fb\n" },
	{ "UTF-8 and quotes pass", LOG_LEVEL_INFO, "caf\xc3\xa9 \"q\" \\",
	    "info: caf\xc3\xa9 \"q\" \\\n" },
	{ "bad level is error", (enum log_level)42, "x", "error: x\n" },
};

START_TEST(test_line)
{
	int fd = capture();
	char *got;

	log_msg(lines[_i].level, "%s", lines[_i].in);
	got = captured(fd);
	ck_assert_msg(strstr(got, "\n") == got + strlen(got) - 1,
	    "%s: not one line", lines[_i].label);
	expect(got, lines[_i].out);
	free(got);
	(void) close(fd);
}
END_TEST

START_TEST(test_debug)
{
	int fd = capture();
	char *got;

	log_msg(LOG_LEVEL_DEBUG, "hidden %d", 1);
	got = captured(fd);
	ck_assert_str_eq(got, "");
	free(got);
	log_set_debug(true);
	log_msg(LOG_LEVEL_DEBUG, "shown %d", 2);
	log_set_debug(false);
	log_msg(LOG_LEVEL_DEBUG, "hidden %d", 3);
	got = captured(fd);
	expect(got, "debug: shown 2\n");
	free(got);
	(void) close(fd);
}
END_TEST

START_TEST(test_errno)
{
	int fd = capture();
	char *got;

	errno = ENOENT;
	log_errno(LOG_LEVEL_ERROR, "open %s", "/x");
	ck_assert_int_eq(errno, ENOENT);
	errno = EACCES;
	log_msg(LOG_LEVEL_WARNING, "no errno text");
	ck_assert_int_eq(errno, EACCES);
	got = captured(fd);
	ck_assert_ptr_nonnull(strchr(got, '\n'));
	expect(strchr(got, '\n') + 1, "warning: no errno text\n");
	strchr(got, '\n')[1] = '\0';
	expect(got, "error: open /x: No such file or directory\n");
	free(got);
	(void) close(fd);
}
END_TEST

/* check_cut - one line, at most limit bytes, ending in the marker. */
static void
check_cut(const char *got, const char *tail)
{
	size_t len = strlen(got);

	ck_assert_ptr_eq(strchr(got, '\n'), got + len - 1);
	ck_assert_uint_le(len, 8192 + 100);
	ck_assert_uint_ge(len, 8192);
	ck_assert_str_eq(got + len - strlen(tail), tail);
}

START_TEST(test_truncate)
{
	int fd = capture();
	char *big = malloc(20001), *got;

	/* plain text longer than the line */
	memset(big, 'a', 20000);
	big[20000] = '\0';
	log_msg(LOG_LEVEL_INFO, "%s", big);
	got = captured(fd);
	check_cut(got, "aaa...[truncated]\n");
	free(got);
	(void) ftruncate(fd, 0);
	/* short text that grows past the limit when escaped */
	memset(big, '\x01', 3000);
	big[3000] = '\0';
	errno = 0;
	log_errno(LOG_LEVEL_ERROR, "%s", big);
	got = captured(fd);
	check_cut(got, "\\x01...[truncated]: Success\n");
	free(got);
	(void) ftruncate(fd, 0);
	/* exactly at the limit: not cut */
	memset(big, 'b', 8192);
	big[8192] = '\0';
	log_msg(LOG_LEVEL_INFO, "%s", big);
	got = captured(fd);
	ck_assert_ptr_null(strstr(got, "[truncated]"));
	ck_assert_str_eq(got + strlen(got) - 3, "bb\n");
	free(got);
	free(big);
	(void) close(fd);
}
END_TEST

static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "MAIL", LOG_MAIL }, { "daemon", LOG_DAEMON },
	{ "user", LOG_USER }, { "local0", LOG_LOCAL0 },
	{ "local7", LOG_LOCAL7 }, { "local8", -1 }, { "", -1 },
	{ "mail ", -1 }, { "kern", -1 },
};

START_TEST(test_facility)
{
	ck_assert_int_eq(log_parse_facility(facilities[_i].name),
	    facilities[_i].facility);
}
END_TEST

static void *
log_many(void *arg)
{
	long id = (long)arg;

	for (int i = 0; i < 500; i++)
		log_msg(LOG_LEVEL_INFO, "writer=%ld i=%d pad=%0300d", id, i, 0);
	return NULL;
}

START_TEST(test_threads)
{
	int fd = capture();
	pthread_t t[8];
	char *got, *line, *save = NULL;
	int n = 0;

	for (long i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, log_many,
		    (void *)i), 0);
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	got = captured(fd);
	for (line = strtok_r(got, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++)
		ck_assert_msg(strncmp(line, "tlspolicy-milter[", 17) == 0 &&
		    strlen(line) > 300 && line[strlen(line) - 1] == '0',
		    "torn line %d", n);
	ck_assert_int_eq(n, 4000);
	free(got);
	(void) close(fd);
}
END_TEST

START_TEST(test_reopen)
{
	int fd = capture();
	char *got;

	log_open("other-ident", LOG_LOCAL3, false, true);
	log_msg(LOG_LEVEL_INFO, "one");
	log_open("other-ident", LOG_LOCAL3, false, false);
	log_msg(LOG_LEVEL_INFO, "nowhere");
	log_close();
	got = captured(fd);
	ck_assert_str_eq(strchr(got, ':'), ": info: one\n");
	ck_assert_int_eq(strncmp(got, "other-ident[", 12), 0);
	free(got);
	(void) close(fd);
}
END_TEST

/* lazy_text - the formatter for log_lazy(): counts its calls. */
static int
lazy_text(const void *arg, struct strbuf *sb)
{
	int *calls = (int *)(uintptr_t)arg;

	(*calls)++;
	return *calls > 2 ? (errno = EMSGSIZE, -1) :
	    strbuf_puts(sb, "type=decision tls=yes");
}

/*
 * log_lazy() writes "<id>: <text>" like log_msg(), runs the formatter only
 * when the line goes somewhere, and reports the formatter's failure.
 */
START_TEST(test_lazy)
{
	int fd = capture(), calls = 0;
	struct strbuf sb;
	char *got;

	strbuf_init(&sb, 64);
	ck_assert_int_eq(log_lazy(LOG_LEVEL_INFO, "S.1", lazy_text, &calls,
	    &sb), 0);
	ck_assert_int_eq(calls, 1);
	ck_assert_int_eq(log_lazy(LOG_LEVEL_DEBUG, "S.2", lazy_text, &calls,
	    &sb), 0);
	ck_assert_int_eq(calls, 1);		/* debug is off: not formatted */
	log_open("tlspolicy-milter", LOG_MAIL, false, false);
	ck_assert_int_eq(log_lazy(LOG_LEVEL_INFO, "S.3", lazy_text, &calls,
	    &sb), 0);
	ck_assert_int_eq(calls, 1);		/* no sink: not formatted */
	log_open("tlspolicy-milter", LOG_MAIL, false, true);
	ck_assert_int_eq(log_lazy(LOG_LEVEL_WARNING, "S.4", lazy_text, &calls,
	    &sb), 0);
	errno = 0;
	ck_assert_int_eq(log_lazy(LOG_LEVEL_INFO, "S.5", lazy_text, &calls,
	    &sb), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	got = captured(fd);
	ck_assert_ptr_nonnull(strstr(got, "]: info: S.1: type=decision tls=yes\n"));
	ck_assert_ptr_nonnull(strstr(got, "]: warning: S.4: type=decision tls=yes\n"));
	ck_assert_ptr_null(strstr(got, "S.2"));
	ck_assert_ptr_null(strstr(got, "S.3"));
	ck_assert_ptr_null(strstr(got, "S.5"));
	free(got);
	strbuf_free(&sb);
	(void) close(fd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_line, 0, sizeof(lines) / sizeof(lines[0]));
	tcase_add_test(tc, test_debug);
	tcase_add_test(tc, test_errno);
	tcase_add_test(tc, test_truncate);
	tcase_add_loop_test(tc, test_facility, 0,
	    sizeof(facilities) / sizeof(facilities[0]));
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_lazy);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
