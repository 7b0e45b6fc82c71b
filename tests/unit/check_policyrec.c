/*
 * check_policyrec - the policy in the evidence: a policy text read back
 * (policyrec_load) prints the same policy again for every kind of rule,
 * action, reply, selector, pattern and list, for the sample config and
 * the suites' configs; its fingerprint is SHA-256; a text it does not
 * understand is an error with its line.  And auditfields: the members of
 * a record come back byte for byte from audit.c's escaping.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "auditfields.h"
#include "conf.h"
#include "policyrec.h"
#include "strbuf.h"

static const struct {
	const char *label, *text;
} configs[] = {
	{ "empty", "" },
	{ "built-in like", "[listener submission]\nport 587\nname submission, MSA\n"
	    "require-tls yes\nrequire-auth yes\nmin-tls-version TLSv1.2\n"
	    "[default]\nauth-requires-tls yes\n" },
	{ "globals inherited, no [default]", "action report\n"
	    "trusted-networks 10.0.0.0/8, 2001:db8::/32, 192.0.2.1\n"
	    "require-auth-reply \"550 5.7.1 Log in first; see #help\"\n"
	    "[listener a]\nport 25, 2525\nrequire-auth yes\n" },
	{ "tempfail with own replies", "[listener t]\nport 587\naction tempfail\n"
	    "require-tls yes\nrequire-tls-reply \"554 5.7.3 TLS \\\"now\\\"\"\n"
	    "require-auth yes\nrequire-auth-action reject\n"
	    "auth-requires-tls-action report\n" },
	{ "every cipher rule", "[listener c]\nname relay\nmatch all\nport 26\n"
	    "require-tls yes\nmin-tls-version TLSv1.3\nmin-cipher-bits 128\n"
	    "require-forward-secrecy yes\nrequire-aead yes\n"
	    "forbid-ciphers rc4, 3des, *CBC*, export\n"
	    "forbid-ciphers-action tempfail\n"
	    "min-cipher-bits-reply \"530 5.7.0 Too weak\"\n" },
	{ "client certificates", "[listener m]\nport 2465\n"
	    "require-client-cert yes\n"
	    "client-cert-issuer \"CN=Example CA; O=Ex, any\"\n"
	    "client-cert-subject *client*\n"
	    "exempt-users alice@example.test, @exempt.test\n"
	    "[default]\nauth-requires-tls no\nrequire-tls yes\n" },
	{ "issuer only", "[listener m]\nport 2465\nrequire-client-cert yes\n"
	    "client-cert-issuer CN=Only Issuer\n" },
	{ "no rule on", "[listener open]\nport 2525\nauth-requires-tls no\n" },
};

static const char *const files[] = {
	"contrib/tlspolicy-milter.conf",
	"tests/unit/data/postfix.conf",
	"tests/unit/data/sendmail.conf",
	"tests/unit/data/report.conf",
	"tests/scenarios/names.conf",
	"tests/scenarios/report.conf",
	"tests/scenarios/strength.conf",
	"tests/scenarios/tempfail.conf",
	"tests/scenarios/trusted.conf",
};

/*
 * blocks - the listener blocks of a policy text (from the first "\n\n"),
 * with each "(line N)" and "(built in)" selector origin dropped: the
 * part a decision depends on.  Caller frees.
 */
static char *
blocks(const char *text)
{
	const char *p = strstr(text, "\n\n");
	char *out, *o;

	ck_assert_ptr_nonnull(p);
	out = o = malloc(strlen(p) + 1);
	ck_assert_ptr_nonnull(out);
	while (*p != '\0') {
		if (strncmp(p, " (line ", 7) == 0 || strncmp(p, " (built in):",
		    12) == 0) {
			p = strchr(p, ')') + 1;
			continue;
		}
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* round_trip - conf's text, read back, prints the same blocks. */
static void
round_trip(const char *label, struct conf *c1)
{
	struct conf_error err;
	struct conf *c2;
	char *t1, *t2, *b1, *b2;
	size_t s1, s2;

	t1 = policyrec_text(c1, &s1);
	ck_assert_ptr_nonnull(t1);
	c2 = policyrec_load(t1, s1, &err);
	ck_assert_msg(c2 != NULL, "%s: %s\n%s", label, err.text, t1);
	t2 = policyrec_text(c2, &s2);
	ck_assert_ptr_nonnull(t2);
	b1 = blocks(t1);
	b2 = blocks(t2);
	ck_assert_msg(strcmp(b1, b2) == 0, "%s: read back differs:\n%s\n---\n%s",
	    label, b1, b2);
	free(b1);
	free(b2);
	free(t1);
	free(t2);
	conf_free(&c2);
}

START_TEST(test_round_trip)
{
	struct conf_error err;
	struct conf *c;

	c = conf_load_string(configs[_i].text, strlen(configs[_i].text),
	    "t.conf", &err);
	ck_assert_msg(c != NULL, "%s: %s", configs[_i].label, err.text);
	round_trip(configs[_i].label, c);
	conf_free(&c);
}
END_TEST

START_TEST(test_round_trip_files)
{
	const char *top = getenv("TOP_SRCDIR");
	char path[4096];
	struct conf_error err;
	struct conf *c;

	(void) snprintf(path, sizeof(path), "%s/%s", top != NULL ? top : "../..",
	    files[_i]);
	c = conf_load(path, &err);
	ck_assert_msg(c != NULL, "%s", err.text);
	round_trip(files[_i], c);
	conf_free(&c);
}
END_TEST

START_TEST(test_builtin_and_fingerprint)
{
	struct conf *c = conf_builtin();
	char hex[65], *text;
	size_t size;

	round_trip("built-in", c);
	ck_assert_int_eq(policyrec_fingerprint("abc", 3, hex), 0);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	text = policyrec_set(c, NULL, &size);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(policyrec_fingerprint(text, size, hex), 0);
	ck_assert_str_eq(c->fingerprint, hex);
	free(text);
	conf_free(&c);
}
END_TEST

static const struct {
	const char *text, *error;
} unknown[] = {
	{ "# globals only\nsocket x\n", "policy:2: no listener block" },
	{ "\nlistener a (line 1): port 25; name -; match any\n  bogus\n",
	    "policy:3: not understood:   bogus" },
	{ "\nlistener a: port 25\n", "policy:2: not understood: listener a:" },
	{ "\n[default] (built in): sessions no listener matches\n"
	    "  replies: 1 auth-requires-tls reject 538\n",
	    "policy:3: not understood" },
};

START_TEST(test_not_understood)
{
	struct conf_error err;
	struct conf *c;

	c = policyrec_load(unknown[_i].text, strlen(unknown[_i].text), &err);
	ck_assert_ptr_null(c);
	ck_assert_msg(strncmp(err.text, unknown[_i].error,
	    strlen(unknown[_i].error)) == 0, "got '%s', want '%s'", err.text,
	    unknown[_i].error);
}
END_TEST

/* Values as audit.c escapes them come back byte for byte. */
static const struct {
	const char *bytes;
	size_t size;
} values[] = {
	{ "plain", 5 },
	{ "quote\" back\\slash", 17 },
	{ "ctl\r\n\t\x01\x1f\x7f", 9 },
	{ "bad utf8 \xff\xc3(\x80", 14 },
	{ "utf8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 14 },
	{ "", 0 },
};

START_TEST(test_fields_round_trip)
{
	struct auditfields af;
	const struct auditfield *m;
	struct strbuf sb;

	strbuf_init(&sb, 4096);
	ck_assert_int_eq(strbuf_puts(&sb, "{\"v\":2,\"n\":-12, \"b\":true,"
	    "\"f\":false,\"z\":null,\"o\":{\"x\":[1,\"}\"]},\"val\":"), 0);
	ck_assert_int_eq(audit_escape_json(&sb, values[_i].bytes,
	    values[_i].size), 0);
	ck_assert_int_eq(strbuf_puts(&sb, "}"), 0);
	auditfields_init(&af);
	ck_assert_int_eq(auditfields_parse(&af, sb.data, sb.len), 0);
	ck_assert_uint_eq(af.n, 7);
	m = auditfields_get(&af, "val");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->kind, AUDITFIELD_STRING);
	ck_assert_uint_eq(m->len, values[_i].size);
	ck_assert(memcmp(m->value, values[_i].bytes, m->len) == 0);
	ck_assert_str_eq(auditfields_get(&af, "n")->value, "-12");
	ck_assert_int_eq(auditfields_get(&af, "n")->kind, AUDITFIELD_NUMBER);
	ck_assert_int_eq(auditfields_bool(&af, "b"), 1);
	ck_assert_int_eq(auditfields_bool(&af, "f"), 0);
	ck_assert_int_eq(auditfields_bool(&af, "z"), -1);
	ck_assert_int_eq(auditfields_get(&af, "o")->kind, AUDITFIELD_OTHER);
	ck_assert_str_eq(auditfields_get(&af, "o")->value, "{\"x\":[1,\"}\"]}");
	ck_assert_ptr_null(auditfields_get(&af, "missing"));
	ck_assert_ptr_null(auditfields_str(&af, "n"));
	auditfields_free(&af);
	strbuf_free(&sb);
}
END_TEST

static const char *const not_records[] = {
	"", "[]", "{", "{\"a\":1", "{\"a\":1}x", "{\"a\" 1}", "{\"a\":\"x}",
	"{\"a\":\"\\q\"}", "{\"a\":\"\x01\"}", "{\"a\":tru}", "{a:1}",
	"{\"a\":1,}",
};

START_TEST(test_fields_refuse)
{
	struct auditfields af;
	const char *s = not_records[_i];

	auditfields_init(&af);
	ck_assert_msg(auditfields_parse(&af, s, strlen(s)) == -1,
	    "accepted '%s'", s);
	auditfields_free(&af);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policyrec");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_round_trip, 0,
	    sizeof(configs) / sizeof(configs[0]));
	tcase_add_loop_test(tc, test_round_trip_files, 0,
	    sizeof(files) / sizeof(files[0]));
	tcase_add_test(tc, test_builtin_and_fingerprint);
	tcase_add_loop_test(tc, test_not_understood, 0,
	    sizeof(unknown) / sizeof(unknown[0]));
	tcase_add_loop_test(tc, test_fields_round_trip, 0,
	    sizeof(values) / sizeof(values[0]));
	tcase_add_loop_test(tc, test_fields_refuse, 0,
	    sizeof(not_records) / sizeof(not_records[0]));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
