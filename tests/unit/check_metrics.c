/*
 * NAME
 *	check_metrics - unit tests for metrics.c
 *
 * SYNOPSIS
 *	check_metrics
 *
 * DESCRIPTION
 *	Check suite; each test runs in a process of its own (Check's fork
 *	mode), so the process-wide counters start at zero in every test.
 *	Counts against the exact sample lines of the exposition: sessions by
 *	listener, TLS, version and AUTH; decisions by rule and outcome;
 *	exposures per listener, zero for a listener of the config that saw
 *	none; the latency histogram's cumulative buckets, sum and count;
 *	audit counters and the stage gauges; reloads ok and failed and the
 *	last good load's time; missing macros by name; build info.  Unhappy
 *	paths: out-of-range enums, a label with a quote, a backslash and a
 *	newline (escaped), a label too long and labels past the table's
 *	size (both "_other"), an exposition past the buffer's limit (-1,
 *	EMSGSIZE).  Concurrency: threads counting at once lose no count.
 *	Every exposition is also checked for its shape: each sample's
 *	metric has HELP and TYPE lines before it, and every line ends in a
 *	newline.  The metrics-listen key: accepted and refused values.
 *
 * DIAGNOSTICS
 *	Exit status 0 when every test passes, 1 otherwise.
 *
 * SEE ALSO
 *	metrics.c, tests/metrics/run.sh (promtool and Prometheus)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "conf.h"
#include "metrics.h"
#include "policy.h"
#include "strbuf.h"
#include "tlsinfo.h"

#define N_ELEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define N_THREADS	4
#define N_PER_THREAD	100000

/* scrape - the whole exposition, checked for its shape; caller frees. */
static char *
scrape(void)
{
	struct strbuf sb;
	char *text, *line, *save = NULL, *copy, name[128];
	char typed[64][128];
	size_t n_typed = 0, i;

	strbuf_init(&sb, 1 << 20);
	ck_assert_int_eq(metrics_format(&sb), 0);
	ck_assert_ptr_nonnull(sb.data);
	ck_assert_msg(sb.len > 0 && sb.data[sb.len - 1] == '\n',
	    "exposition does not end in a newline");
	text = strdup(sb.data);
	copy = strdup(sb.data);
	strbuf_free(&sb);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "# TYPE %127s", name) == 1) {
			ck_assert_uint_lt(n_typed, N_ELEMS(typed));
			(void) snprintf(typed[n_typed++], sizeof(typed[0]), "%s",
			    name);
			continue;
		}
		if (line[0] == '#')
			continue;
		(void) sscanf(line, "%127[a-z_]", name);
		for (i = 0; i < n_typed; i++) {
			size_t len = strlen(typed[i]);

			if (strncmp(name, typed[i], len) == 0 &&
			    (name[len] == '\0' || strcmp(name + len, "_bucket") == 0 ||
			    strcmp(name + len, "_sum") == 0 ||
			    strcmp(name + len, "_count") == 0))
				break;
		}
		ck_assert_msg(i < n_typed, "sample without TYPE: %s", line);
	}
	free(copy);
	return text;
}

/* has_line - the exposition has exactly this line. */
static int
has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return 1;
	return 0;
}

#define ck_has(text, line) do { \
	if (!has_line((text), (line))) \
		(void) fprintf(stderr, "exposition:\n%s", (text)); \
	ck_assert_msg(has_line((text), (line)), "missing line: %s", (line)); \
} while (0)
#define ck_has_not(text, s) \
	ck_assert_msg(strstr((text), (s)) == NULL, "unexpected: %s", (s))

START_TEST(test_empty)
{
	char *t = scrape();
	static const char *const types[] = {
		"# TYPE tlspolicy_sessions_total counter",
		"# TYPE tlspolicy_decisions_total counter",
		"# TYPE tlspolicy_credential_exposures_total counter",
		"# TYPE tlspolicy_decision_duration_seconds histogram",
		"# TYPE tlspolicy_audit_records_written_total counter",
		"# TYPE tlspolicy_audit_records_staged_total counter",
		"# TYPE tlspolicy_audit_write_failures_total counter",
		"# TYPE tlspolicy_audit_written_bytes_total counter",
		"# TYPE tlspolicy_audit_stage_used_bytes gauge",
		"# TYPE tlspolicy_audit_stage_capacity_bytes gauge",
		"# TYPE tlspolicy_config_reloads_total counter",
		"# TYPE tlspolicy_config_last_reload_success_timestamp_seconds gauge",
		"# TYPE tlspolicy_missing_macro_total counter",
		"# TYPE tlspolicy_build_info gauge",
	};

	for (size_t i = 0; i < N_ELEMS(types); i++)
		ck_has(t, types[i]);
	ck_has_not(t, "tlspolicy_sessions_total{");
	ck_has_not(t, "tlspolicy_credential_exposures_total{");
	ck_has(t, "tlspolicy_decision_duration_seconds_count 0");
	ck_has(t, "tlspolicy_config_reloads_total{result=\"ok\"} 0");
	ck_has(t, "tlspolicy_config_reloads_total{result=\"failed\"} 0");
	ck_assert_ptr_nonnull(strstr(t, "tlspolicy_build_info{version=\""
	    PACKAGE_VERSION "\",openssl_version=\""));
	free(t);
}
END_TEST

START_TEST(test_sessions)
{
	char *t;

	for (int i = 0; i < 12; i++)
		metrics_session("submission", TLS_VERSION_TLSV1_3, true);
	metrics_session("submission", TLS_VERSION_TLSV1_2, false);
	metrics_session("mx", TLS_VERSION_NONE, false);
	metrics_session("mx", TLS_VERSION_NONE, true);
	metrics_session("mx", TLS_VERSION_UNKNOWN, false);
	metrics_session("mx", (enum tls_version)99, false);	/* as unknown */
	t = scrape();
	ck_has(t, "tlspolicy_sessions_total{listener=\"submission\",tls=\"yes\","
	    "tls_version=\"TLSv1.3\",auth=\"yes\"} 12");
	ck_has(t, "tlspolicy_sessions_total{listener=\"submission\",tls=\"yes\","
	    "tls_version=\"TLSv1.2\",auth=\"no\"} 1");
	ck_has(t, "tlspolicy_sessions_total{listener=\"mx\",tls=\"no\","
	    "tls_version=\"none\",auth=\"no\"} 1");
	ck_has(t, "tlspolicy_sessions_total{listener=\"mx\",tls=\"no\","
	    "tls_version=\"none\",auth=\"yes\"} 1");
	ck_has(t, "tlspolicy_sessions_total{listener=\"mx\",tls=\"yes\","
	    "tls_version=\"unknown\",auth=\"no\"} 2");
	ck_has_not(t, "auth=\"yes\"} 0");
	free(t);
}
END_TEST

START_TEST(test_decisions)
{
	char *t;

	metrics_decision("submission", POLICY_RULE_NONE, POLICY_OUTCOME_ACCEPT,
	    false, 1000);
	metrics_decision("submission", POLICY_RULE_REQUIRE_TLS,
	    POLICY_OUTCOME_REJECT, false, 1000);
	metrics_decision("submission", POLICY_RULE_REQUIRE_TLS,
	    POLICY_OUTCOME_REJECT, false, 1000);
	metrics_decision("mx", POLICY_RULE_AUTH_REQUIRES_TLS,
	    POLICY_OUTCOME_WOULD_REJECT, true, 1000);
	metrics_decision("mx", POLICY_RULE_AUTH_REQUIRES_TLS,
	    POLICY_OUTCOME_REJECT, true, 1000);
	metrics_decision("mx", POLICY_RULE_REQUIRE_AUTH,
	    POLICY_OUTCOME_TEMPFAIL, false, 1000);
	metrics_decision("mx", (enum policy_rule)77, POLICY_OUTCOME_ACCEPT,
	    false, 1000);
	t = scrape();
	ck_has(t, "tlspolicy_decisions_total{listener=\"submission\","
	    "rule=\"none\",outcome=\"accept\"} 1");
	ck_has(t, "tlspolicy_decisions_total{listener=\"submission\","
	    "rule=\"require-tls\",outcome=\"reject\"} 2");
	ck_has(t, "tlspolicy_decisions_total{listener=\"mx\","
	    "rule=\"auth-requires-tls\",outcome=\"would-reject\"} 1");
	ck_has(t, "tlspolicy_decisions_total{listener=\"mx\","
	    "rule=\"auth-requires-tls\",outcome=\"reject\"} 1");
	ck_has(t, "tlspolicy_decisions_total{listener=\"mx\","
	    "rule=\"require-auth\",outcome=\"tempfail\"} 1");
	ck_has(t, "tlspolicy_decisions_total{listener=\"mx\","
	    "rule=\"none\",outcome=\"accept\"} 1");
	ck_has(t, "tlspolicy_credential_exposures_total{listener=\"mx\"} 2");
	ck_has(t, "tlspolicy_credential_exposures_total{listener=\"submission\"} 0");
	ck_has(t, "tlspolicy_decision_duration_seconds_count 7");
	free(t);
}
END_TEST

START_TEST(test_histogram)
{
	static const long long ns[] = {
		-5, 10000, 50000,	/* <= 5e-05 (a bound is inclusive) */
		50001, 99999,		/* <= 0.0001 */
		2000000,		/* <= 0.0025 */
		1000000000,		/* <= 1 */
		5000000000LL,		/* +Inf only */
	};
	char *t;

	for (size_t i = 0; i < N_ELEMS(ns); i++)
		metrics_decision("l", POLICY_RULE_NONE, POLICY_OUTCOME_ACCEPT,
		    false, ns[i]);
	t = scrape();
	ck_has(t, "tlspolicy_decision_duration_seconds_bucket{le=\"5e-05\"} 3");
	ck_has(t, "tlspolicy_decision_duration_seconds_bucket{le=\"0.0001\"} 5");
	ck_has(t, "tlspolicy_decision_duration_seconds_bucket{le=\"0.001\"} 5");
	ck_has(t, "tlspolicy_decision_duration_seconds_bucket{le=\"0.0025\"} 6");
	ck_has(t, "tlspolicy_decision_duration_seconds_bucket{le=\"0.5\"} 6");
	ck_has(t, "tlspolicy_decision_duration_seconds_bucket{le=\"1\"} 7");
	ck_has(t, "tlspolicy_decision_duration_seconds_bucket{le=\"+Inf\"} 8");
	ck_has(t, "tlspolicy_decision_duration_seconds_count 8");
	/* 10000+50000+50001+99999+2000000+1e9+5e9 ns, the negative as 0 */
	ck_has(t, "tlspolicy_decision_duration_seconds_sum 6.002210000");
	free(t);
}
END_TEST

START_TEST(test_audit)
{
	char *t;

	metrics_audit_staged(100);
	metrics_audit_staged(150);
	metrics_audit_written(2, 250);
	metrics_audit_failed();
	metrics_audit_stage(4096, 1048576);
	t = scrape();
	ck_has(t, "tlspolicy_audit_records_staged_total 2");
	ck_has(t, "tlspolicy_audit_staged_bytes_total 250");
	ck_has(t, "tlspolicy_audit_records_written_total 2");
	ck_has(t, "tlspolicy_audit_written_bytes_total 250");
	ck_has(t, "tlspolicy_audit_write_failures_total 1");
	ck_has(t, "tlspolicy_audit_stage_used_bytes 4096");
	ck_has(t, "tlspolicy_audit_stage_capacity_bytes 1048576");
	free(t);
}
END_TEST

START_TEST(test_config)
{
	static const char text[] =
	    "[listener submission]\nport 587\n[listener mx]\nport 25\n";
	struct conf_error err;
	struct conf *conf = conf_load_string(text, sizeof(text) - 1, "t.conf",
	    &err);
	struct timespec before, after;
	char *t, *p;
	double at;

	ck_assert_msg(conf != NULL, "%s", err.text);
	(void) clock_gettime(CLOCK_REALTIME, &before);
	metrics_config_loaded(conf, false);	/* start: no reload */
	metrics_config_loaded(conf, true);
	metrics_config_loaded(conf, true);
	metrics_config_failed();
	(void) clock_gettime(CLOCK_REALTIME, &after);
	metrics_missing_macro(FACT_DAEMON_PORT);
	metrics_missing_macro(FACT_DAEMON_PORT);
	metrics_missing_macro((enum fact_id)-1);	/* ignored */
	metrics_missing_macro(FACT_COUNT);		/* ignored */
	t = scrape();
	ck_has(t, "tlspolicy_config_reloads_total{result=\"ok\"} 2");
	ck_has(t, "tlspolicy_config_reloads_total{result=\"failed\"} 1");
	ck_has(t, "tlspolicy_credential_exposures_total{listener=\"submission\"} 0");
	ck_has(t, "tlspolicy_credential_exposures_total{listener=\"mx\"} 0");
	ck_has(t, "tlspolicy_credential_exposures_total{listener=\"default\"} 0");
	ck_has(t, "tlspolicy_missing_macro_total{macro=\"daemon_port\"} 2");
	p = strstr(t, "\ntlspolicy_config_last_reload_success_timestamp_seconds ");
	ck_assert_ptr_nonnull(p);
	at = strtod(strchr(p + 1, ' ') + 1, NULL);
	ck_assert_msg(at >= (double)before.tv_sec && at <= (double)after.tv_sec
	    + 1, "last good load at %f, not in [%ld, %ld]", at,
	    (long)before.tv_sec, (long)after.tv_sec + 1);
	conf_free(&conf);
	free(t);
}
END_TEST

START_TEST(test_label_escape)
{
	char *t;

	metrics_session("a\"b\\c\nd", TLS_VERSION_NONE, false);
	t = scrape();
	ck_has(t, "tlspolicy_sessions_total{listener=\"a\\\"b\\\\c\\nd\","
	    "tls=\"no\",tls_version=\"none\",auth=\"no\"} 1");
	free(t);
}
END_TEST

START_TEST(test_label_bounds)
{
	char label[METRICS_LABEL_MAX + 2], *t;

	memset(label, 'x', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';	/* one byte too long */
	metrics_session(label, TLS_VERSION_NONE, false);
	metrics_session(NULL, TLS_VERSION_NONE, false);
	for (int i = 0; i < METRICS_LISTENERS_MAX + 10; i++) {
		char name[16];

		(void) snprintf(name, sizeof(name), "l%d", i);
		metrics_decision(name, POLICY_RULE_NONE, POLICY_OUTCOME_ACCEPT,
		    false, 0);
	}
	t = scrape();
	ck_has(t, "tlspolicy_sessions_total{listener=\"_other\",tls=\"no\","
	    "tls_version=\"none\",auth=\"no\"} 2");
	ck_has(t, "tlspolicy_decisions_total{listener=\"l63\",rule=\"none\","
	    "outcome=\"accept\"} 1");
	ck_has_not(t, "listener=\"l64\"");
	ck_has(t, "tlspolicy_decisions_total{listener=\"_other\",rule=\"none\","
	    "outcome=\"accept\"} 10");
	ck_has_not(t, "xxxxxxxx");
	free(t);
}
END_TEST

START_TEST(test_limit)
{
	struct strbuf sb;

	metrics_session("submission", TLS_VERSION_TLSV1_3, true);
	strbuf_init(&sb, 512);
	errno = 0;
	ck_assert_int_eq(metrics_format(&sb), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	strbuf_free(&sb);
}
END_TEST

static void *
count_many(void *arg)
{
	const char *label = arg;

	for (int i = 0; i < N_PER_THREAD; i++) {
		metrics_decision(label, POLICY_RULE_REQUIRE_TLS,
		    POLICY_OUTCOME_REJECT, i % 2 == 0, 1000);
		metrics_session(label, TLS_VERSION_TLSV1_2, false);
	}
	return NULL;
}

START_TEST(test_threads)
{
	static char a[] = "a", b[] = "b";
	char *const labels[N_THREADS] = { a, b, a, b };
	pthread_t tid[N_THREADS];
	char want[256], *t;

	for (int i = 0; i < N_THREADS; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, count_many,
		    labels[i]), 0);
	for (int i = 0; i < N_THREADS; i++)
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
	t = scrape();
	(void) snprintf(want, sizeof(want), "tlspolicy_decisions_total{listener="
	    "\"a\",rule=\"require-tls\",outcome=\"reject\"} %d",
	    2 * N_PER_THREAD);
	ck_has(t, want);
	(void) snprintf(want, sizeof(want), "tlspolicy_credential_exposures_total"
	    "{listener=\"b\"} %d", N_PER_THREAD);
	ck_has(t, want);
	(void) snprintf(want, sizeof(want), "tlspolicy_sessions_total{listener="
	    "\"b\",tls=\"yes\",tls_version=\"TLSv1.2\",auth=\"no\"} %d",
	    2 * N_PER_THREAD);
	ck_has(t, want);
	(void) snprintf(want, sizeof(want),
	    "tlspolicy_decision_duration_seconds_count %d",
	    N_THREADS * N_PER_THREAD);
	ck_has(t, want);
	free(t);
}
END_TEST

static const struct {
	const char	*label;
	const char	*text;
	const char	*value;		/* accepted: the value kept */
	const char	*error;		/* refused: how the error starts */
} listen_cases[] = {
	{ "inet", "metrics-listen inet:9871@127.0.0.1\n",
	    "inet:9871@127.0.0.1", NULL },
	{ "inet6", "metrics-listen inet6:9871@::1\n", "inet6:9871@::1", NULL },
	{ "unix", "metrics-listen unix:/run/tlspolicy/metrics.sock\n",
	    "unix:/run/tlspolicy/metrics.sock", NULL },
	{ "no port", "metrics-listen inet:@127.0.0.1\n", NULL,
	    "t.conf:1: metrics-listen: found 'inet:@127.0.0.1'" },
	{ "port 0", "metrics-listen inet:0@127.0.0.1\n", NULL,
	    "t.conf:1: metrics-listen: found 'inet:0@127.0.0.1'" },
	{ "relative unix path", "metrics-listen unix:metrics.sock\n", NULL,
	    "t.conf:1: metrics-listen: found 'unix:metrics.sock'" },
	{ "http url", "metrics-listen http://127.0.0.1:9871/\n", NULL,
	    "t.conf:1: metrics-listen: found 'http://127.0.0.1:9871/'" },
	{ "in a section", "[listener a]\nport 25\nmetrics-listen inet:1@h\n",
	    NULL, "t.conf:3: key 'metrics-listen' is only allowed" },
};

START_TEST(test_conf_key)
{
	struct conf_error err;
	struct conf *conf;

	conf = conf_load_string(listen_cases[_i].text,
	    strlen(listen_cases[_i].text), "t.conf", &err);
	if (listen_cases[_i].value != NULL) {
		ck_assert_msg(conf != NULL, "%s: %s", listen_cases[_i].label,
		    err.text);
		ck_assert_str_eq(conf->metrics_listen, listen_cases[_i].value);
	} else {
		ck_assert_msg(conf == NULL, "%s: accepted", listen_cases[_i].label);
		ck_assert_msg(strncmp(err.text, listen_cases[_i].error,
		    strlen(listen_cases[_i].error)) == 0, "%s: got '%s'",
		    listen_cases[_i].label, err.text);
	}
	conf_free(&conf);
}
END_TEST

START_TEST(test_conf_default_off)
{
	struct conf_error err;
	struct conf *conf = conf_load_string("", 0, "t.conf", &err);

	ck_assert_ptr_nonnull(conf);
	ck_assert_ptr_null(conf->metrics_listen);
	conf_free(&conf);
	conf = conf_builtin();
	ck_assert_ptr_null(conf->metrics_listen);
	conf_free(&conf);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_sessions);
	tcase_add_test(tc, test_decisions);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_audit);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_label_escape);
	tcase_add_test(tc, test_label_bounds);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_threads);
	tcase_add_loop_test(tc, test_conf_key, 0, (int)N_ELEMS(listen_cases));
	tcase_add_test(tc, test_conf_default_off);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
