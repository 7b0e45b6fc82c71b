/*
 * check_session - the reference-counted config swap (session.c): a session
 * keeps the config it started with across reloads, a new one gets the new
 * config, a config is freed when its last holder lets go (under ASan a
 * use after free or a leak fails the suite), and holders on several
 * threads racing reloads always see a whole config.  session_trim()
 * after a decision leaves the facts in one block with their values.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "session.h"

/* named - a config whose socket names it, to tell configs apart. */
static struct conf *
named(const char *name)
{
	struct conf_error err;
	char text[128];
	struct conf *conf;

	(void) snprintf(text, sizeof(text), "socket inet:%s@127.0.0.1\n", name);
	conf = conf_load_string(text, strlen(text), "t.conf", &err);
	ck_assert_msg(conf != NULL, "%s", err.text);
	return conf;
}

START_TEST(test_session_keeps_its_config)
{
	struct session *before, *after;
	struct conf *held;

	session_conf_install(named("1001"));
	ck_assert_ptr_nonnull(before = session_new());
	ck_assert_str_eq(before->conf->socket, "inet:1001@127.0.0.1");
	session_conf_install(named("1002"));	/* a reload */
	ck_assert_ptr_nonnull(after = session_new());
	ck_assert_str_eq(after->conf->socket, "inet:1002@127.0.0.1");
	/* the session in flight still reads the config it started with */
	ck_assert_str_eq(before->conf->socket, "inet:1001@127.0.0.1");
	held = session_conf_acquire();
	ck_assert_str_eq(held->socket, "inet:1002@127.0.0.1");
	session_conf_release(&held);
	ck_assert_ptr_null(held);
	session_free(&before);		/* frees 1001: its last holder */
	ck_assert_ptr_null(before);
	session_conf_install(named("1003"));
	ck_assert_str_eq(after->conf->socket, "inet:1002@127.0.0.1");
	session_free(&after);		/* frees 1002 */
	session_conf_shutdown();	/* frees 1003 */
}
END_TEST

static volatile int stop_holders;

/* holder - acquire, read, release in a loop until told to stop. */
static void *
holder(void *arg)
{
	unsigned long *n = arg;
	struct conf *conf;

	while (!stop_holders) {
		conf = session_conf_acquire();
		if (conf == NULL || strncmp(conf->socket, "inet:", 5) != 0)
			return (void *)1;
		session_conf_release(&conf);
		(*n)++;
	}
	return NULL;
}

START_TEST(test_reloads_race_holders)
{
	pthread_t t[4];
	unsigned long n[4] = { 0 };
	char name[16];
	void *rc;

	session_conf_install(named("2000"));
	stop_holders = 0;
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, holder, &n[i]), 0);
	for (int i = 1; i <= 300; i++) {	/* bounded: 300 reloads */
		(void) snprintf(name, sizeof(name), "%d", 2000 + i);
		session_conf_install(named(name));
	}
	stop_holders = 1;
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rc), 0);
		ck_assert_ptr_null(rc);
	}
	session_conf_shutdown();
}
END_TEST

/* session_trim: after a decision the facts wait in one block, unchanged. */
START_TEST(test_trim_compacts_facts)
{
	struct session *s;
	struct facts *f;

	session_conf_install(named("3000"));
	ck_assert_ptr_nonnull(s = session_new());
	f = &s->facts;
	ck_assert_int_eq(facts_set(f, FACT_DAEMON_PORT, "587"), 0);
	ck_assert_int_eq(facts_set(f, FACT_TLS_VERSION, "TLSv1.3"), 0);
	ck_assert_int_eq(facts_set(f, FACT_AUTH_AUTHEN, "alice"), 0);
	session_trim(s);
	ck_assert_ptr_eq(f->f[FACT_DAEMON_PORT].text, f->pack);
	ck_assert_ptr_eq(f->f[FACT_TLS_VERSION].text, f->pack + 4);
	ck_assert_ptr_eq(f->f[FACT_AUTH_AUTHEN].text, f->pack + 12);
	ck_assert_str_eq(f->f[FACT_DAEMON_PORT].text, "587");
	ck_assert_uint_eq(f->f[FACT_DAEMON_PORT].num, 587);
	ck_assert_str_eq(f->f[FACT_TLS_VERSION].text, "TLSv1.3");
	ck_assert_int_eq(f->tls_version, TLS_VERSION_TLSV1_3);
	ck_assert_str_eq(f->f[FACT_AUTH_AUTHEN].text, "alice");
	ck_assert(facts_has_auth(f));
	session_free(&s);	/* the pack too (ASan) */
	session_conf_shutdown();
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_session_keeps_its_config);
	tcase_add_test(tc, test_reloads_race_holders);
	tcase_add_test(tc, test_trim_compacts_facts);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
