/*
 * check_listener - which [listener] a session belongs to: by port only,
 * by name only (case-insensitive), by both with match any and match all,
 * a missing or malformed {daemon_port} (reported, never guessed), and the
 * default section, built in or written, when nothing matches.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "facts.h"
#include "listener.h"

/* load - conf_load_string of a C string, named "t.conf"; must load. */
static struct conf *
load(const char *text)
{
	struct conf_error err;
	struct conf *conf = conf_load_string(text, strlen(text), "t.conf",
	    &err);

	ck_assert_msg(conf != NULL, "%s", err.text);
	return conf;
}

/* matched - the label listener_match picks for port and name (NULL: unsent). */
static const char *
matched(const struct conf *conf, const char *port, const char *name,
    bool *missing)
{
	struct facts f;
	const char *label;

	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, port), 0);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_NAME, name), 0);
	label = listener_match(conf, &f, missing)->label;
	facts_clear(&f);
	return label;
}

/*
 * The match table's configs: mixed (by port, by name, match all, name
 * only), names only, ports only.
 */
static const char mixed[] =
    "[listener sub]\nport 587 10587\nname submission MSA\n"
    "[listener both]\nport 2587\nname submission-all\nmatch all\n"
    "[listener named]\nname MTA\n";
static const char names[] =
    "[listener msa]\nname MSA\n[listener mta]\nname MTA\n";
static const char ports[] =
    "[listener sub]\nport 587\n[listener smtps]\nport 465\n";

static const struct {
	const char	*label, *conf;
	const char	*port, *name;	/* NULL: macro not sent */
	const char	*want;
	bool		 port_missing;
} matches[] = {
	{ "port", mixed, "587", "mx.example.test", "sub", false },
	{ "second port", mixed, "10587", NULL, "sub", false },
	{ "match all: port and name", mixed, "2587", "submission-all", "both",
	    false },
	{ "match all: name differs", mixed, "2587", "other", "default", false },
	{ "match all: port differs", mixed, "25", "submission-all", "default",
	    false },
	{ "match all: port missing", mixed, NULL, "submission-all", "default",
	    true },
	{ "name, case-insensitive", mixed, "9999", "msa", "sub", false },
	{ "name only listener", mixed, "25", "mta", "named", false },
	{ "name only, port missing", mixed, NULL, "MTA", "named", true },
	{ "port wins over name", mixed, "587", "MTA", "sub", false },
	{ "no match", mixed, "25", "mx.example.test", "default", false },
	{ "nothing sent", mixed, NULL, NULL, "default", true },
	{ "port missing, name matches", mixed, NULL, "submission", "sub",
	    true },
	{ "port malformed", mixed, "587/tcp", NULL, "default", true },
	{ "port out of range", mixed, "70000", "x", "default", true },
	{ "names only: name", names, NULL, "MTA", "mta", false },
	{ "names only: other", names, NULL, "other", "default", false },
	{ "ports only: port", ports, "465", "sub", "smtps", false },
	{ "ports only: a name never selects", ports, "25", "sub", "default",
	    false },
	{ "ports only: port missing", ports, NULL, "smtps", "default", true },
};

START_TEST(test_match)
{
	struct conf *conf = load(matches[_i].conf);
	bool missing = !matches[_i].port_missing;
	const char *got;

	ck_assert(listener_uses_ports(conf) == (matches[_i].conf != names));
	got = matched(conf, matches[_i].port, matches[_i].name, &missing);
	ck_assert_msg(strcmp(got, matches[_i].want) == 0, "%s: got %s",
	    matches[_i].label, got);
	ck_assert_msg(missing == matches[_i].port_missing, "%s: port_missing",
	    matches[_i].label);
	conf_free(&conf);
}
END_TEST

/*
 * The default section: the written [default] with its own rules, or
 * without one the built-in fallback (auth-requires-tls only); a config
 * with no listener at all sends every session there.
 */
START_TEST(test_match_default)
{
	struct conf *written = load("[listener sub]\nport 587\n"
	    "[default]\nrequire-auth yes\n");
	struct conf *implicit = load("[listener sub]\nport 587\n");
	struct conf *none = load("syslog no\n");
	const struct conf_listener *l;
	bool missing = true;
	struct facts f;

	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "25"), 0);
	l = listener_match(written, &f, &missing);
	ck_assert_ptr_eq(l, &written->fallback);
	ck_assert(l->rules.require_auth && !l->rules.require_tls);
	l = listener_match(implicit, &f, &missing);
	ck_assert_ptr_eq(l, &implicit->fallback);
	ck_assert_str_eq(l->label, "default");
	ck_assert(l->rules.auth_requires_tls && !l->rules.require_auth);
	ck_assert(!listener_uses_ports(none));
	ck_assert_ptr_eq(listener_match(none, &f, &missing), &none->fallback);
	ck_assert(!missing);
	facts_clear(&f);
	conf_free(&written);
	conf_free(&implicit);
	conf_free(&none);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("listener");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_match, 0,
	    sizeof(matches) / sizeof(matches[0]));
	tcase_add_test(tc, test_match_default);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
