/*
 * check_audit - decision records: escaping, exact record text in both
 * forms, forging attempts, and the sink under concurrent writers and
 * rotation.
 */

#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "facts.h"
#include "policy.h"
#include "strbuf.h"

static const struct {
	const char *in, *kv, *json;
} escapes[] = {
	{ "plain", "plain", "\"plain\"" },
	{ "a b", "\"a b\"", "\"a b\"" },
	{ "q\"b\\", "\"q\\\"b\\\\\"", "\"q\\\"b\\\\\"" },
	{ "cr\rlf\ntab\t", "\"cr\\rlf\\ntab\\t\"", "\"cr\\rlf\\ntab\\t\"" },
	{ "\x01\x1f\x7f", "\"\\x01\\x1f\\x7f\"", "\"\\u0001\\u001f\\u007f\"" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"" },
	{ "\x80", "\"\\x80\"", "\"\\u0080\"" },
	{ "\xc0\xaf", "\"\\xc0\\xaf\"", "\"\\u00c0\\u00af\"" },
	{ "\xed\xa0\x80", "\"\\xed\\xa0\\x80\"", "\"\\u00ed\\u00a0\\u0080\"" },
	{ "\xf5\x80\x80\x80", "\"\\xf5\\x80\\x80\\x80\"", "\"\\u00f5\\u0080\\u0080\\u0080\"" },
	{ "end\xe2\x82", "\"end\\xe2\\x82\"", "\"end\\u00e2\\u0082\"" },
	{ "k=v", "\"k=v\"", "\"k=v\"" },
	{ "", "\"\"", "\"\"" },
};

START_TEST(test_escape)
{
	struct strbuf sb;

	strbuf_init(&sb, 1024);
	ck_assert_int_eq(audit_escape_kv(&sb, escapes[_i].in,
	    strlen(escapes[_i].in)), 0);
	ck_assert_str_eq(strbuf_str(&sb), escapes[_i].kv);
	strbuf_reset(&sb);
	ck_assert_int_eq(audit_escape_json(&sb, escapes[_i].in,
	    strlen(escapes[_i].in)), 0);
	ck_assert_str_eq(strbuf_str(&sb), escapes[_i].json);
	strbuf_free(&sb);
}
END_TEST

/* record - a submission session refused for plaintext AUTH. */
static void
record(struct audit_record *r, struct facts *f, struct policy_verdict *v,
    const char *user)
{
	struct policy_rules rules;

	facts_init(f);
	ck_assert_int_eq(facts_set(f, FACT_CLIENT_ADDR, "192.0.2.10"), 0);
	ck_assert_int_eq(facts_set(f, FACT_CLIENT_PORT, "40000"), 0);
	ck_assert_int_eq(facts_set(f, FACT_DAEMON_PORT, "587"), 0);
	ck_assert_int_eq(facts_set(f, FACT_AUTH_TYPE, "PLAIN"), 0);
	ck_assert_int_eq(facts_set(f, FACT_AUTH_AUTHEN, user), 0);
	policy_rules_init(&rules);
	rules.require_tls = true;
	policy_decide(&rules, f, v);
	policy_rules_free(&rules);
	memset(r, 0, sizeof(*r));
	r->time.tv_sec = 1795857058;	/* 2026-11-28T09:10:58Z */
	r->time.tv_nsec = 999999999;
	r->session_id = "S.1";
	r->listener = "submission";
	r->facts = f;
	r->verdict = v;
	r->action = POLICY_ACTION_REJECT;
}

START_TEST(test_record_exact)
{
	struct audit_record r;
	struct facts f;
	struct policy_verdict v;
	struct strbuf sb;

	record(&r, &f, &v, "alice@example.test");
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	ck_assert_int_eq(audit_format_kv(&r, &sb), 0);
	ck_assert_str_eq(strbuf_str(&sb),
	    "time=2026-11-28T09:10:58.999Z session=S.1 type=credential-exposure"
	    " client_addr=192.0.2.10 client_port=40000 listener=submission"
	    " daemon_port=587 tls=no auth=yes auth_type=PLAIN"
	    " auth_authen=alice@example.test rule=auth-requires-tls action=reject"
	    " outcome=reject reply=\"538 5.7.11 Encryption required for requested"
	    " authentication mechanism\" mode=enforce exposure=yes trusted=no"
	    " reason=\"AUTH on a plaintext session\"");
	strbuf_reset(&sb);
	ck_assert_int_eq(audit_format_json(&r, &sb), 0);
	ck_assert_str_eq(strbuf_str(&sb),
	    "{\"v\":1,\"time\":\"2026-11-28T09:10:58.999Z\",\"session\":\"S.1\","
	    "\"type\":\"credential-exposure\",\"client_addr\":\"192.0.2.10\","
	    "\"client_port\":\"40000\",\"listener\":\"submission\","
	    "\"daemon_port\":\"587\",\"tls\":false,\"auth\":true,"
	    "\"auth_type\":\"PLAIN\",\"auth_authen\":\"alice@example.test\","
	    "\"rule\":\"auth-requires-tls\",\"action\":\"reject\","
	    "\"outcome\":\"reject\",\"reply\":\"538 5.7.11 Encryption required"
	    " for requested authentication mechanism\",\"mode\":\"enforce\","
	    "\"exposure\":true,\"trusted\":false,"
	    "\"reason\":\"AUTH on a plaintext session\"}\n");
	strbuf_free(&sb);
	facts_clear(&f);
}
END_TEST

START_TEST(test_forging)
{
	struct audit_record r;
	struct facts f;
	struct policy_verdict v;
	struct strbuf sb;
	char cmd[] = "python3 -c 'import json,sys; d=json.loads(sys.stdin.read());"
	    " sys.exit(0 if d[\"outcome\"]==\"reject\" and d[\"auth_authen\"]."
	    "startswith(\"x\\\" outcome\") else 1)'";
	FILE *p;

	record(&r, &f, &v, "x\" outcome=accept rule=none\r\n{\"v\":1,\"outcome\":\"accept\"}");
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	ck_assert_int_eq(audit_format_kv(&r, &sb), 0);
	ck_assert_ptr_null(strchr(strbuf_str(&sb), '\n'));
	ck_assert_ptr_null(strchr(strbuf_str(&sb), '\r'));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&sb),
	    "auth_authen=\"x\\\" outcome=accept rule=none\\r\\n{\\\"v\\\":1,"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&sb), " outcome=reject "));
	strbuf_reset(&sb);
	ck_assert_int_eq(audit_format_json(&r, &sb), 0);
	ck_assert_ptr_eq(strchr(strbuf_str(&sb), '\n'),
	    strbuf_str(&sb) + sb.len - 1);
	ck_assert_ptr_nonnull(p = popen(cmd, "w"));
	ck_assert_uint_eq(fwrite(strbuf_str(&sb), 1, sb.len, p), sb.len);
	ck_assert_int_eq(pclose(p), 0);
	strbuf_free(&sb);
	facts_clear(&f);
}
END_TEST

START_TEST(test_problems)
{
	struct audit_record r;
	struct facts f;
	struct policy_verdict v;
	struct strbuf sb;
	char *big = malloc(70001);

	memset(big, 'A', 70000);
	big[70000] = '\0';
	record(&r, &f, &v, "alice");
	ck_assert_int_eq(facts_set(&f, FACT_TLS_VERSION, "TLSv9"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_CERT_SUBJECT, big), 0);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	ck_assert_int_eq(audit_format_json(&r, &sb), 0);
	ck_assert_ptr_null(strstr(strbuf_str(&sb), "AAAA"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&sb), "\"tls_version\":\"TLSv9\""));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&sb), "\"facts_problem\":\"tls_version: "));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&sb), "cert_subject: "));
	strbuf_free(&sb);
	facts_clear(&f);
	free(big);
}
END_TEST

struct writer {
	struct audit_sink	*sink;
	int			 id;
};

static void *
write_many(void *arg)
{
	struct writer *w = arg;
	char line[600];

	for (int i = 0; i < 500; i++) {
		int n = snprintf(line, sizeof(line), "{\"w\":%d,\"i\":%d,\"pad\":\"%0500d\"}\n",
		    w->id, i, 0);
		if (audit_sink_write(w->sink, line, (size_t)n) == -1)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_sink)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64], line[700];
	struct audit_sink *sink;
	struct writer w[8];
	pthread_t t[8];
	void *rc;
	FILE *fp;
	int n = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void) snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	(void) snprintf(moved, sizeof(moved), "%s/audit.jsonl.1", dir);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	for (int i = 0; i < 8; i++) {
		w[i] = (struct writer){ sink, i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, write_many, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rc), 0);
		ck_assert_ptr_null(rc);
	}
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		ck_assert_msg(strlen(line) > 500 && line[0] == '{' &&
		    strcmp(line + strlen(line) - 2, "}\n") == 0, "torn line %d", n);
		n++;
	}
	(void) fclose(fp);
	ck_assert_int_eq(n, 4000);
	/* rotation: rename, reopen, the next record goes to the new file */
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(audit_sink_write(sink, "old\n", 4), 0);
	ck_assert_int_eq(audit_sink_reopen(sink), 0);
	ck_assert_int_eq(audit_sink_write(sink, "new\n", 4), 0);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));
	ck_assert_str_eq(line, "new\n");
	(void) fclose(fp);
	audit_sink_close(&sink);
	ck_assert_ptr_null(sink);
	(void) unlink(path);
	(void) unlink(moved);
	(void) rmdir(dir);
	ck_assert_ptr_null(audit_sink_open("/nonexistent/dir/audit.jsonl"));
}
END_TEST

START_TEST(test_time)
{
	char buf[40];
	struct timespec ts = { 0, 0 };

	ck_assert_str_eq(audit_format_time(&ts, buf, sizeof(buf)),
	    "1970-01-01T00:00:00.000Z");
	ts.tv_sec = 1795857058;
	ts.tv_nsec = 123456789;
	ck_assert_str_eq(audit_format_time(&ts, buf, sizeof(buf)),
	    "2026-11-28T09:10:58.123Z");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_escape, 0, sizeof(escapes) / sizeof(escapes[0]));
	tcase_add_test(tc, test_record_exact);
	tcase_add_test(tc, test_forging);
	tcase_add_test(tc, test_problems);
	tcase_add_test(tc, test_sink);
	tcase_add_test(tc, test_time);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
