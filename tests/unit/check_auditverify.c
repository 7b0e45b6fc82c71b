/*
 * check_auditverify - the hash chain as the sink writes it and as
 * --verify-audit checks it: an untouched log across two rotations and a
 * restart verifies; an edited field, a deleted line, two swapped lines,
 * a truncated last line and a wrong HMAC key are each caught at the
 * right line, with the right reason; with an anchor set, deleting the
 * first lines is caught at line 1; a torn fragment an older version
 * left before the line it tore is warned about at its line and skipped;
 * a write the file size limit cuts short leaves no fragment in the log
 * (fsync interval and every), and the log verifies once writes work.
 */

#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auditsink.h"
#include "auditverify.h"
#include "facts.h"
#include "policy.h"
#include "strbuf.h"

#define N_LINES	12

static const unsigned char key[] = "lab secret";
static char	 dir[] = "/tmp/check_auditverify.XXXXXX";
static char	 path[3][112];		/* .2, .1, the live file: chain order */
static char	*lines[N_LINES];	/* all records, chain order */

/* write_one - one chained decision record for session id. */
static void
write_one(struct audit_sink *sink, int i)
{
	struct audit_record r = { 0 };
	struct policy_verdict v;
	struct policy_rules rules;
	struct facts f;
	struct strbuf sb;
	char id[16];

	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_CLIENT_ADDR, "192.0.2.10"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "587"), 0);
	policy_rules_init(&rules);
	rules.require_tls = i % 2 == 0;
	policy_decide(&rules, &f, &v);
	policy_rules_free(&rules);
	(void) snprintf(id, sizeof(id), "S.%d", i);
	r.time.tv_sec = 1795857058 + i;
	r.session_id = id;
	r.listener = "submission";
	r.facts = &f;
	r.verdict = &v;
	r.action = POLICY_ACTION_REJECT;
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	ck_assert_int_eq(audit_format_json_open(&r, &sb), 0);
	ck_assert_int_eq(audit_sink_write_chained(sink, &sb), 0);
	strbuf_free(&sb);
	facts_clear(&f);
}

/*
 * put_decision - a default-policy decision record through the sink, with
 * no ck_assert (safe under a file size limit, which Check's own message
 * file shares): the sink's result, or -2 when the record could not be made.
 */
static int
put_decision(struct audit_sink *sink, const char *id)
{
	struct audit_record r = { 0 };
	struct policy_verdict pv;
	struct policy_rules rules;
	struct strbuf sb;
	struct facts f;
	int rc = -2;

	facts_init(&f);
	policy_rules_init(&rules);
	policy_decide(&rules, &f, &pv);
	policy_rules_free(&rules);
	r.session_id = id;
	r.listener = "default";
	r.facts = &f;
	r.verdict = &pv;
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	if (audit_format_json_open(&r, &sb) == 0)
		rc = audit_sink_write_chained(sink, &sb);
	strbuf_free(&sb);
	facts_clear(&f);
	return rc;
}

/* write_log - 12 records: rotate after 4 and 8, restart the sink after 10. */
static void
write_log(void)
{
	struct audit_sink *sink;
	char live[96];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void) snprintf(live, sizeof(live), "%s/audit.jsonl", dir);
	for (int i = 0; i < 3; i++)
		(void) snprintf(path[i], sizeof(path[i]), "%s%s", live,
		    i == 0 ? ".2" : i == 1 ? ".1" : "");
	ck_assert_ptr_nonnull(sink = audit_sink_open(live));
	ck_assert_int_eq(audit_sink_set_key(sink, key, sizeof(key) - 1), 0);
	for (int i = 0; i < N_LINES; i++) {
		if (i == 4 || i == 8) {
			ck_assert_int_eq(rename(live, i == 4 ? path[0] : path[1]), 0);
			ck_assert_int_eq(audit_sink_reopen(sink), 0);
		}
		if (i == 10) {		/* a restart continues the chain */
			audit_sink_close(&sink);
			ck_assert_ptr_nonnull(sink = audit_sink_open(live));
			ck_assert_int_eq(audit_sink_set_key(sink, key,
			    sizeof(key) - 1), 0);
		}
		write_one(sink, i);
	}
	audit_sink_close(&sink);
}

/* read_lines - every line of the three files, without newlines. */
static void
read_lines(void)
{
	char buf[AUDIT_RECORD_MAX];
	int n = 0;

	for (int i = 0; i < 3; i++) {
		FILE *fp = fopen(path[i], "r");

		ck_assert_ptr_nonnull(fp);
		while (fgets(buf, sizeof(buf), fp) != NULL) {
			ck_assert_int_lt(n, N_LINES);
			buf[strcspn(buf, "\n")] = '\0';
			ck_assert_ptr_nonnull(lines[n++] = strdup(buf));
		}
		(void) fclose(fp);
	}
	ck_assert_int_eq(n, N_LINES);
}

/* first_bad - feed lines (an edited copy); 1-based line of the failure, or 0. */
static int
first_bad(char **l, int n, const unsigned char *k, size_t klen, bool last_whole,
    const char *why)
{
	struct auditverify v;

	auditverify_init(&v, k, klen);
	for (int i = 0; i < n; i++)
		if (auditverify_line(&v, l[i], strlen(l[i]), i < n - 1 ||
		    last_whole) == -1) {
			ck_assert_msg(strstr(v.why, why) != NULL, "line %d: %s",
			    i + 1, v.why);
			return i + 1;
		}
	ck_assert_int_eq(v.n_records, (unsigned long)n);
	return 0;
}

static void
setup(void)
{
	write_log();
	read_lines();
}

static void
teardown(void)
{
	for (int i = 0; i < N_LINES; i++) {
		free(lines[i]);
		lines[i] = NULL;
	}
	for (int i = 0; i < 3; i++)
		(void) unlink(path[i]);
	(void) rmdir(dir);
	(void) strcpy(dir, "/tmp/check_auditverify.XXXXXX");
}

START_TEST(test_untouched)
{
	struct auditverify v;
	unsigned long line;
	FILE *fp;

	auditverify_init(&v, key, sizeof(key) - 1);
	for (int i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(fp = fopen(path[i], "r"));
		ck_assert_int_eq(auditverify_file(&v, fp, &line), 0);
		(void) fclose(fp);
	}
	ck_assert_uint_eq(v.n_records, N_LINES);
	ck_assert_str_eq(v.anchor, AUDIT_CHAIN_ANCHOR);
	ck_assert(strncmp(lines[4] + strlen(lines[4]) - 149, ",\"prev\":\"", 9) == 0);
	ck_assert_int_eq(first_bad(lines, N_LINES, key, sizeof(key) - 1, true,
	    ""), 0);
	ck_assert_int_eq(first_bad(lines, N_LINES, NULL, 0, true,
	    "hash mismatch"), 1);
	ck_assert_int_eq(first_bad(lines, N_LINES, (const unsigned char *)"x",
	    1, true, "hash mismatch"), 1);
}
END_TEST

START_TEST(test_edit)
{
	char *p = strstr(lines[6], "192.0.2.10");

	ck_assert_ptr_nonnull(p);
	p[9] = '1';		/* 192.0.2.11 */
	ck_assert_int_eq(first_bad(lines, N_LINES, key, sizeof(key) - 1, true,
	    "hash mismatch"), 7);
	(void) strcpy(lines[2], "{\"v\":2,");
	ck_assert_int_eq(first_bad(lines, N_LINES, key, sizeof(key) - 1, true,
	    "not JSON"), 3);
	(void) strcpy(lines[1], "{\"v\":1}");
	ck_assert_int_eq(first_bad(lines, N_LINES, key, sizeof(key) - 1, true,
	    "not a chained record"), 2);
}
END_TEST

START_TEST(test_delete)
{
	char *l[N_LINES];
	int n = 0;

	for (int i = 0; i < N_LINES; i++)
		if (i != 5)
			l[n++] = lines[i];
	ck_assert_int_eq(first_bad(l, n, key, sizeof(key) - 1, true,
	    "broken link"), 6);
}
END_TEST

START_TEST(test_swap)
{
	char *t = lines[8];

	lines[8] = lines[9];
	lines[9] = t;
	ck_assert_int_eq(first_bad(lines, N_LINES, key, sizeof(key) - 1, true,
	    "broken link"), 9);
}
END_TEST

START_TEST(test_truncate)
{
	lines[N_LINES - 1][strlen(lines[N_LINES - 1]) / 2] = '\0';
	ck_assert_int_eq(first_bad(lines, N_LINES, key, sizeof(key) - 1, false,
	    "truncated line"), N_LINES);
	ck_assert_int_eq(first_bad(lines, N_LINES, key, sizeof(key) - 1, true,
	    "not JSON"), N_LINES);
}
END_TEST

START_TEST(test_json)
{
	static const char *good[] = { "{}", "[1,-2.5e+3,true,false,null]",
	    "{\"a\":{\"b\":[\"\\u00e9\\n\"]}}", " 0 " };
	static const char *bad[] = { "", "{", "{\"a\"}", "[1,]", "01", "\"\x01\"",
	    "{\"a\":1}x", "\"\\x\"", "tru" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(auditverify_is_json(good[i], strlen(good[i])), "%s",
		    good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!auditverify_is_json(bad[i], strlen(bad[i])), "%s",
		    bad[i]);
}
END_TEST

/* A chain required to start at the anchor: the first lines deleted. */
START_TEST(test_anchor)
{
	struct auditverify v;

	for (int cut = 0; cut < 4; cut++) {
		auditverify_init(&v, key, sizeof(key) - 1);
		auditverify_set_anchor(&v, AUDIT_CHAIN_ANCHOR);
		for (int i = cut; i < N_LINES; i++)
			if (auditverify_line(&v, lines[i], strlen(lines[i]),
			    true) == -1)
				break;
		if (cut == 0)
			ck_assert_uint_eq(v.n_records, N_LINES);
		else {
			ck_assert_uint_eq(v.n_records, 0);
			ck_assert_ptr_nonnull(strstr(v.why, "broken link (the"
			    " first \"prev\" is not the anchor"));
		}
	}
}
END_TEST

static unsigned long	 warned_at;
static char		 warned[AUDITVERIFY_WHY_MAX];

/* note_warning - the verifier's warn callback. */
static void
note_warning(void *arg, unsigned long lineno, const char *why)
{
	(void) arg;
	warned_at = lineno;
	(void) snprintf(warned, sizeof(warned), "%s", why);
}

/*
 * A log as an older version left it after a failed write: a fragment of
 * line 6, a newline, then line 6 whole.  Warned about at line 6, skipped.
 * A fragment that is not a prefix of the next line is an error.
 */
START_TEST(test_fragment)
{
	struct auditverify v;
	unsigned long line;
	char *text = NULL;
	size_t size = 0;
	FILE *fp;

	for (int round = 0; round < 2; round++) {
		ck_assert_ptr_nonnull(fp = open_memstream(&text, &size));
		for (int i = 0; i < N_LINES; i++) {
			if (i == 5)
				fprintf(fp, "%.*s\n", 129 + round, round == 0 ?
				    lines[5] : lines[7]);
			fprintf(fp, "%s\n", lines[i]);
		}
		(void) fclose(fp);
		ck_assert_ptr_nonnull(fp = fmemopen(text, size, "r"));
		auditverify_init(&v, key, sizeof(key) - 1);
		auditverify_set_anchor(&v, AUDIT_CHAIN_ANCHOR);
		v.warn = note_warning;
		warned_at = 0;
		if (round == 0) {
			ck_assert_msg(auditverify_file(&v, fp, &line) == 0,
			    "%lu: %s", line, v.why);
			ck_assert_uint_eq(v.n_records, N_LINES);
			ck_assert_uint_eq(v.n_fragments, 1);
			ck_assert_uint_eq(warned_at, 6);
			ck_assert_ptr_nonnull(strstr(warned, "torn fragment"));
		} else {
			ck_assert_int_eq(auditverify_file(&v, fp, &line), -1);
			ck_assert_uint_eq(line, 6);
			ck_assert_ptr_nonnull(strstr(v.why, "not JSON"));
			ck_assert_uint_eq(warned_at, 0);
		}
		(void) fclose(fp);
		free(text);
		text = NULL;
	}
}
END_TEST

/* file_size - st_size of path. */
static off_t
file_size(const char *p)
{
	struct stat st;

	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_size;
}

/* set_fsize_raw - the soft file size limit (RLIM_INFINITY: none); 0 or -1. */
static int
set_fsize_raw(rlim_t limit)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_FSIZE, &rl) == -1)
		return -1;
	rl.rlim_cur = limit;
	return setrlimit(RLIMIT_FSIZE, &rl);
}

/*
 * A write cut short after 100 bytes (RLIMIT_FSIZE, SIGXFSZ ignored): the
 * log is cut back to its last whole line; once the limit is lifted the
 * record is written whole and the log verifies with no fragment.
 */
START_TEST(test_torn_write)
{
	char tdir[] = "/tmp/check_torn.XXXXXX", log[64], stage[72];
	struct audit_sink *sink;
	struct auditverify v;
	unsigned long line;
	off_t before;
	struct stat st;
	int limited, lifted, put_rc, sync_rc, size_rc;
	FILE *fp;

	ck_assert(signal(SIGXFSZ, SIG_IGN) != SIG_ERR);
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	(void) snprintf(log, sizeof(log), "%s/audit.jsonl", tdir);
	(void) snprintf(stage, sizeof(stage), "%s.stage", log);
	ck_assert_ptr_nonnull(sink = audit_sink_open(log));
	ck_assert_int_eq(audit_sink_set_key(sink, key, sizeof(key) - 1), 0);
	audit_sink_set_fsync(sink, _i == 0 ? AUDIT_FSYNC_INTERVAL :
	    AUDIT_FSYNC_EVERY);
	write_one(sink, 0);
	ck_assert_int_eq(audit_sink_sync(sink), 0);
	before = file_size(log);
	ck_assert_int_gt(before, 0);
	/*
	 * While the limit holds, no ck_assert: Check's message file would hit
	 * it too.  The results are kept and checked once it is lifted.
	 */
	limited = set_fsize_raw((rlim_t)before + 100);
	put_rc = put_decision(sink, "S.torn");
	sync_rc = _i == 0 ? audit_sink_sync(sink) : 0;
	size_rc = stat(log, &st);
	lifted = set_fsize_raw(RLIM_INFINITY);
	ck_assert_int_eq(limited, 0);
	ck_assert_int_eq(lifted, 0);
	if (_i == 0) {		/* staged; the write fails, it stays staged */
		ck_assert_int_eq(put_rc, 0);
		ck_assert_int_eq(sync_rc, -1);
	} else {		/* the record fails with its write */
		ck_assert_int_eq(put_rc, -1);
	}
	ck_assert_int_eq(size_rc, 0);
	ck_assert_int_eq(st.st_size, before);	/* no fragment */
	if (_i == 0)
		ck_assert_int_eq(audit_sink_sync(sink), 0);
	write_one(sink, 2);
	audit_sink_close(&sink);
	auditverify_init(&v, key, sizeof(key) - 1);
	auditverify_set_anchor(&v, AUDIT_CHAIN_ANCHOR);
	ck_assert_ptr_nonnull(fp = fopen(log, "r"));
	ck_assert_msg(auditverify_file(&v, fp, &line) == 0, "%lu: %s", line,
	    v.why);
	(void) fclose(fp);
	ck_assert_uint_eq(v.n_records, _i == 0 ? 3 : 2);
	ck_assert_uint_eq(v.n_fragments, 0);
	ck_assert_int_eq(unlink(log), 0);
	ck_assert_int_eq(unlink(stage), 0);
	ck_assert_int_eq(rmdir(tdir), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("auditverify");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_untouched);
	tcase_add_test(tc, test_edit);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_swap);
	tcase_add_test(tc, test_truncate);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_anchor);
	tcase_add_test(tc, test_fragment);
	suite_add_tcase(s, tc);
	tc = tcase_create("torn");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_torn_write, 0, 2);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
