/*
 * check_conf - the config loader: every error with its file:line, the
 * inheritance of global keys, listener matching, the built-in policy, and
 * the sample config from contrib/ (found through $SRCDIR or "..").
 */

#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "facts.h"
#include "policy.h"

static struct conf *
load(const char *text, struct conf_error *err)
{
	return conf_load_string(text, strlen(text), "t.conf", err);
}

static const struct {
	const char *label, *text, *error;	/* error: exact message */
} bad[] = {
	{ "unknown key with a hint", "requre-tls yes\n",
	    "t.conf:1: unknown key 'requre-tls' (did you mean 'require-tls'?)" },
	{ "unknown key", "\n\nfrobnicate 3\n", "t.conf:3: unknown key 'frobnicate'" },
	{ "section key globally", "require-tls yes\n",
	    "t.conf:1: key 'require-tls' is only allowed in a [listener] or"
	    " [default] section" },
	{ "global key in a section", "[listener a]\nport 25\nsocket inet:1@h\n",
	    "t.conf:3: key 'socket' is only allowed before the first section" },
	{ "duplicate key", "[listener a]\nport 25\n# x\nPORT 26\n",
	    "t.conf:4: key 'port' given twice (first at line 2)" },
	{ "duplicate label", "[listener a]\nport 1\n[listener A]\nport 2\n",
	    "t.conf:3: listener 'A' already defined at line 1" },
	{ "second default", "[default]\n[default]\n",
	    "t.conf:2: second [default] section (the first is at line 1)" },
	{ "bad header", "[listner a]\n",
	    "t.conf:1: found '[listner a]', expected [listener LABEL] or [default]" },
	{ "unclosed header", "[listener a\n",
	    "t.conf:1: found '[listener a', expected [listener LABEL] or [default]" },
	{ "bad label", "[listener a/b]\nport 1\n",
	    "t.conf:1: listener label 'a/b': expected letters, digits, '-', '_' or '.'" },
	{ "listener without port or name", "[listener a]\nrequire-tls yes\n[default]\n",
	    "t.conf:1: listener 'a' has neither port nor name, expected at least one" },
	{ "default with port", "[default]\nport 25\n",
	    "t.conf:2: port: [default] applies to sessions no listener matches; it takes no port" },
	{ "port out of range", "[listener a]\nport 587, 70000\n",
	    "t.conf:2: port: found '70000', expected a port number 1..65535" },
	{ "port not a number", "[listener a]\nport smtp\n",
	    "t.conf:2: port: found 'smtp', expected a port number 1..65535" },
	{ "bad bool", "[listener a]\nport 1\nrequire-tls maybe\n",
	    "t.conf:3: require-tls: found 'maybe', expected yes or no" },
	{ "bad version", "[listener a]\nport 1\nmin-tls-version TLSv9\n",
	    "t.conf:3: min-tls-version: found 'TLSv9', expected one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, none" },
	{ "SSLv3 is no minimum", "[listener a]\nport 1\nmin-tls-version SSLv3\n",
	    "t.conf:3: min-tls-version: found 'SSLv3', expected one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, none" },
	{ "bad action", "action bounce\n",
	    "t.conf:1: action: found 'bounce', expected reject, tempfail or report" },
	{ "failure-action accept", "failure-action accept\n",
	    "t.conf:1: failure-action: found 'accept', expected tempfail or reject"
	    " (the milter never accepts mail it could not check)" },
	{ "bad CIDR", "trusted-networks 10.0.0.0/33\n",
	    "t.conf:1: trusted-networks: found '10.0.0.0/33': prefix out of range 0..32; expected ADDRESS[/PREFIX]" },
	{ "bad reply class", "require-tls-reply 530 4.7.0 Text\n",
	    "t.conf:1: require-tls-reply: found '530 4.7.0 Text': expected an enhanced status code 5.x.y after the reply code" },
	{ "4xx reply", "require-tls-reply 451 4.7.0 Later\n",
	    "t.conf:1: require-tls-reply: found '451 4.7.0 Later': reply code must be 5xx; tempfail replies are derived as 451 4.x.y" },
	{ "relative audit-log", "audit-log audit.jsonl\n",
	    "t.conf:1: audit-log: found 'audit.jsonl', expected an absolute path" },
	{ "bad socket", "socket inet:99999@127.0.0.1\n",
	    "t.conf:1: socket: found 'inet:99999@127.0.0.1', expected inet:PORT@HOST, inet6:PORT@HOST or unix:/PATH" },
	{ "bad facility", "syslog-facility kern\n",
	    "t.conf:1: syslog-facility: found 'kern', expected mail, daemon, user, auth, authpriv or local0..local7" },
	{ "missing value", "syslog\n", "t.conf:1: key 'syslog' has no value" },
	{ "bad match", "[listener a]\nport 1\nmatch some\n",
	    "t.conf:3: match: found 'some', expected any or all" },
	{ "control bytes are not echoed", "action \x01\x02x\n",
	    "t.conf:1: action: found '??x', expected reject, tempfail or report" },
};

START_TEST(test_errors)
{
	struct conf_error err;
	struct conf *conf = load(bad[_i].text, &err);

	ck_assert_msg(conf == NULL, "%s: loaded", bad[_i].label);
	ck_assert_str_eq(err.text, bad[_i].error);
}
END_TEST

START_TEST(test_nul_and_long_lines)
{
	struct conf_error err;
	char *text = malloc(5000);

	ck_assert_ptr_null(conf_load_string("a\nb\0c\n", 6, "t.conf", &err));
	ck_assert_str_eq(err.text, "t.conf:2: NUL byte in the file, expected text");
	memset(text, 'x', 4999);
	text[4999] = '\0';
	ck_assert_ptr_null(load(text, &err));
	ck_assert_str_eq(err.text, "t.conf:1: line longer than 4096 bytes");
	free(text);
	ck_assert_ptr_null(conf_load("/nonexistent/t.conf", &err));
	ck_assert_str_eq(err.text, "/nonexistent/t.conf: cannot open: No such file or directory");
}
END_TEST

START_TEST(test_inheritance)
{
	struct conf_error err;
	struct conf *conf = load(
	    "# comment\n"
	    "Action report   # trailing comment\n"
	    "trusted-networks 127.0.0.1, ::1/128\n"
	    "require-tls-reply \"550 5.7.1 Use TLS, see #help\"\n"
	    "audit-log /var/log/a.jsonl\n"
	    "[listener sub]\n"
	    "port 587 10587\n"
	    "name submission\n"
	    "REQUIRE-TLS Yes\n"
	    "[listener strict]\n"
	    "port 2587\n"
	    "action reject\n"
	    "trusted-networks none\n"
	    "require-auth-action tempfail\n", &err);

	ck_assert_msg(conf != NULL, "%s", err.text);
	ck_assert_uint_eq(conf->n_listeners, 2);
	ck_assert_str_eq(conf->audit_log, "/var/log/a.jsonl");
	ck_assert_uint_eq(conf->listeners[0].n_ports, 2);
	ck_assert_uint_eq(conf->listeners[0].ports[1], 10587);
	ck_assert(conf->listeners[0].rules.require_tls);
	ck_assert(conf->listeners[0].rules.auth_requires_tls);
	ck_assert_int_eq(conf->listeners[0].rules.action, POLICY_ACTION_REPORT);
	ck_assert_uint_eq(conf->listeners[0].rules.trusted.n_blocks, 2);
	ck_assert(conf->listeners[0].rules.has_reply[POLICY_RULE_REQUIRE_TLS]);
	ck_assert_str_eq(conf->listeners[0].rules.reply[POLICY_RULE_REQUIRE_TLS].text,
	    "Use TLS, see #help");
	ck_assert_int_eq(conf->listeners[1].rules.action, POLICY_ACTION_REJECT);
	ck_assert_uint_eq(conf->listeners[1].rules.trusted.n_blocks, 0);
	ck_assert_int_eq(conf->listeners[1].rules.rule_action[POLICY_RULE_REQUIRE_AUTH],
	    POLICY_ACTION_TEMPFAIL);
	/* no [default] section: global defaults, auth-requires-tls on */
	ck_assert_str_eq(conf->fallback.label, "default");
	ck_assert(conf->fallback.rules.auth_requires_tls);
	ck_assert(!conf->fallback.rules.require_tls);
	ck_assert_int_eq(conf->fallback.rules.action, POLICY_ACTION_REPORT);
	ck_assert_uint_eq(conf->fallback.rules.trusted.n_blocks, 2);
	ck_assert(conf->syslog && conf->request_macros);
	ck_assert_int_eq(conf->failure_action, POLICY_ACTION_TEMPFAIL);
	conf_free(&conf);
	ck_assert_ptr_null(conf);
}
END_TEST

static const struct {
	const char	*label, *port, *name;
	const char	*want;
	bool		 port_missing;
} matches[] = {
	{ "port", "587", "mx.example.test", "sub", false },
	{ "second port", "10587", NULL, "sub", false },
	{ "port before name", "2587", "submission", "both", false },
	{ "name, case-insensitive", "9999", "MSA", "sub", false },
	{ "match all needs both", "2587", "other", "default", false },
	{ "no match", "25", "mx.example.test", "default", false },
	{ "port missing: default", NULL, "mx.example.test", "default", true },
	{ "port missing, name still matches", NULL, "msa", "sub", true },
	{ "port malformed", "587/tcp", NULL, "default", true },
};

START_TEST(test_match)
{
	struct conf_error err;
	struct conf *conf = load("[listener sub]\nport 587 10587\nname submission MSA\n"
	    "[listener both]\nport 2587\nname submission\nmatch all\n", &err);
	struct facts f;
	bool missing = false;
	const struct conf_listener *l;

	ck_assert_msg(conf != NULL, "%s", err.text);
	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, matches[_i].port), 0);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_NAME, matches[_i].name), 0);
	l = conf_match(conf, &f, &missing);
	ck_assert_msg(strcmp(l->label, matches[_i].want) == 0, "%s: got %s",
	    matches[_i].label, l->label);
	ck_assert_int_eq(missing, matches[_i].port_missing);
	facts_clear(&f);
	conf_free(&conf);
}
END_TEST

START_TEST(test_builtin)
{
	struct conf *conf = conf_builtin();
	const struct conf_listener *l;
	struct facts f;
	bool missing;

	ck_assert_uint_eq(conf->n_listeners, 2);
	ck_assert_str_eq(conf->socket, CONF_DEFAULT_SOCKET);
	ck_assert_ptr_null(conf->audit_log);
	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "587"), 0);
	l = conf_match(conf, &f, &missing);
	ck_assert_str_eq(l->label, "submission");
	ck_assert(l->rules.require_tls && l->rules.require_auth);
	ck_assert_int_eq(l->rules.min_tls_version, TLS_VERSION_TLSV1_2);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "465"), 0);
	ck_assert_str_eq(conf_match(conf, &f, &missing)->label, "submissions");
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "25"), 0);
	l = conf_match(conf, &f, &missing);
	ck_assert_str_eq(l->label, "default");
	ck_assert(l->rules.auth_requires_tls && !l->rules.require_tls &&
	    !l->rules.require_auth);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "10465"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_NAME, "MSA-TLS"), 0);
	ck_assert_str_eq(conf_match(conf, &f, &missing)->label, "submissions");
	facts_clear(&f);
	conf_free(&conf);
}
END_TEST

START_TEST(test_sample)
{
	const char *srcdir = getenv("SRCDIR");
	char path[4096];
	struct conf_error err;
	struct conf *conf;

	(void) snprintf(path, sizeof(path), "%s/../../contrib/tlspolicy-milter.conf",
	    srcdir != NULL ? srcdir : ".");
	conf = conf_load(path, &err);
	ck_assert_msg(conf != NULL, "%s", err.text);
	ck_assert_uint_ge(conf->n_listeners, 2);
	conf_free(&conf);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_errors, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_nul_and_long_lines);
	tcase_add_test(tc, test_inheritance);
	tcase_add_loop_test(tc, test_match, 0, sizeof(matches) / sizeof(matches[0]));
	tcase_add_test(tc, test_builtin);
	tcase_add_test(tc, test_sample);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
