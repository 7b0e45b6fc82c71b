/*
 * NAME
 *	check_facts - unit tests for facts.c
 *
 * SYNOPSIS
 *	check_facts
 *
 * DESCRIPTION
 *	Table-driven Check suite.  facts_set(): missing, empty, malformed
 *	and oversized values of every kind first, then valid ones, with the
 *	problem text of each (never containing the value).  The fact table:
 *	name, macro and group of every id, and assertions on misuse.
 *	facts_update() with a fake macro lookup that plays the stages of a
 *	Postfix session (connect, HELO without TLS, HELO after STARTTLS,
 *	MAIL with AUTH, a second MAIL without) and of a Sendmail session
 *	whose TLS macros first arrive at MAIL right after STARTTLS; TLS
 *	replacement rules, AUTH cleared per transaction, {if_addr} fallback,
 *	no reallocation for an unchanged value, allocation failure (through
 *	a replacement strdup() defined here).  facts_compact(): every value,
 *	state and number kept, the texts one after the other in one block,
 *	no work when nothing changed, a repack when texts were dropped, a
 *	failed copy after it keeping the packed value; which pointers it
 *	frees (free() wrapped at link time): the separate copies and the
 *	old pack, never a text in the pack.  Run under ASan for leaks.
 *
 * DIAGNOSTICS
 *	Exit status 0 when every test passes, 1 otherwise.
 *
 * SEE ALSO
 *	facts.c; the measured Postfix and Sendmail macro references
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <check.h>

#include "facts.h"

#define N_ELEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* A fake MTA: the macros of one stage, NULL-terminated. */
struct macro {
	const char	*name;
	const char	*value;
};

struct fake_mta {
	const struct macro	*stage;
	unsigned		 n_calls;
	unsigned		 n_if_addr;	/* lookups of {if_addr} */
	unsigned		 n_unknown;	/* names no fact reads */
};

static const char *const known_macros[] = {
	"{daemon_name}", "{daemon_addr}", "{if_addr}", "{daemon_port}",
	"{client_addr}", "{client_port}", "v", "{tls_version}", "{cipher}",
	"{cipher_bits}", "{cert_subject}", "{cert_issuer}", "{verify}",
	"{auth_type}", "{auth_authen}", "{auth_ssf}", "i",
};

static const struct {
	const char		*label;
	enum fact_id		 id;
	const char		*input;
	enum fact_state		 state;
	unsigned long		 num;
	const char		*problem;	/* facts_describe() */
} set_cases[] = {
	/* missing and empty values */
	{ "port null", FACT_DAEMON_PORT, NULL, FACT_ABSENT, 0, "" },
	{ "port empty", FACT_DAEMON_PORT, "", FACT_ABSENT, 0, "" },
	{ "addr empty", FACT_CLIENT_ADDR, "", FACT_ABSENT, 0, "" },
	{ "tls empty", FACT_TLS_VERSION, "", FACT_ABSENT, 0, "" },
	{ "text empty", FACT_CERT_SUBJECT, "", FACT_ABSENT, 0, "" },
	{ "queue id null", FACT_QUEUE_ID, NULL, FACT_ABSENT, 0, "" },
	/* malformed ports */
	{ "port zero", FACT_DAEMON_PORT, "0", FACT_MALFORMED, 0,
	    "not a port number (1..65535)" },
	{ "port 65536", FACT_DAEMON_PORT, "65536", FACT_MALFORMED, 0,
	    "not a port number (1..65535)" },
	{ "port negative", FACT_DAEMON_PORT, "-25", FACT_MALFORMED, 0,
	    "not a port number (1..65535)" },
	{ "port plus", FACT_DAEMON_PORT, "+25", FACT_MALFORMED, 0,
	    "not a port number (1..65535)" },
	{ "port leading space", FACT_DAEMON_PORT, " 25", FACT_MALFORMED, 0,
	    "not a port number (1..65535)" },
	{ "port trailing space", FACT_DAEMON_PORT, "25 ", FACT_MALFORMED, 0,
	    "not a port number (1..65535)" },
	{ "port hex", FACT_DAEMON_PORT, "0x19", FACT_MALFORMED, 0,
	    "not a port number (1..65535)" },
	{ "port inner space", FACT_DAEMON_PORT, "5 87", FACT_MALFORMED, 0,
	    "not a port number (1..65535)" },
	{ "port suffix", FACT_DAEMON_PORT, "587/tcp", FACT_MALFORMED, 0,
	    "not a port number (1..65535)" },
	{ "port service name", FACT_DAEMON_PORT, "submission",
	    FACT_MALFORMED, 0, "not a port number (1..65535)" },
	{ "port overflow", FACT_DAEMON_PORT, "18446744073709551617",
	    FACT_MALFORMED, 0, "not a port number (1..65535)" },
	{ "client port 65536", FACT_CLIENT_PORT, "65536", FACT_MALFORMED, 0,
	    "not a port number (0..65535)" },
	{ "client port negative", FACT_CLIENT_PORT, "-1", FACT_MALFORMED, 0,
	    "not a port number (0..65535)" },
	{ "bits negative", FACT_CIPHER_BITS, "-256", FACT_MALFORMED, 0,
	    "not a number (0..65535)" },
	{ "bits decimal point", FACT_CIPHER_BITS, "256.0", FACT_MALFORMED, 0,
	    "not a number (0..65535)" },
	{ "bits 65536", FACT_CIPHER_BITS, "65536", FACT_MALFORMED, 0,
	    "not a number (0..65535)" },
	{ "ssf word", FACT_AUTH_SSF, "none", FACT_MALFORMED, 0,
	    "not a number (0..65535)" },
	/* malformed addresses and versions */
	{ "client addr word", FACT_CLIENT_ADDR, "unknown", FACT_MALFORMED, 0,
	    "not an IP address" },
	{ "client addr with port", FACT_CLIENT_ADDR, "192.0.2.1:25",
	    FACT_MALFORMED, 0, "not an IP address" },
	{ "client addr injection", FACT_CLIENT_ADDR,
	    "1.2.3.4\r\nrule=accept", FACT_MALFORMED, 0,
	    "not an IP address" },
	{ "daemon addr word", FACT_DAEMON_ADDR, "localhost", FACT_MALFORMED,
	    0, "not an IP address" },
	{ "tls future", FACT_TLS_VERSION, "TLSv1.4", FACT_MALFORMED, 0,
	    "unknown TLS version" },
	{ "tls cipher version", FACT_TLS_VERSION, "TLSv1/SSLv3",
	    FACT_MALFORMED, 0, "unknown TLS version" },
	{ "tls sendmail unknown", FACT_TLS_VERSION, "UNKNOWN",
	    FACT_MALFORMED, 0, "unknown TLS version" },
	/* valid values */
	{ "port 1", FACT_DAEMON_PORT, "1", FACT_OK, 1, "" },
	{ "port 587", FACT_DAEMON_PORT, "587", FACT_OK, 587, "" },
	{ "port leading zeros", FACT_DAEMON_PORT, "00025", FACT_OK, 25, "" },
	{ "port 65535", FACT_DAEMON_PORT, "65535", FACT_OK, 65535, "" },
	{ "client port 0", FACT_CLIENT_PORT, "0", FACT_OK, 0, "" },
	{ "client port 65535", FACT_CLIENT_PORT, "65535", FACT_OK, 65535, "" },
	{ "bits 0", FACT_CIPHER_BITS, "0", FACT_OK, 0, "" },
	{ "bits 256", FACT_CIPHER_BITS, "256", FACT_OK, 256, "" },
	{ "ssf 0", FACT_AUTH_SSF, "0", FACT_OK, 0, "" },
	{ "client addr v4", FACT_CLIENT_ADDR, "192.0.2.1", FACT_OK, 0, "" },
	{ "client addr sendmail v6", FACT_CLIENT_ADDR, "IPv6:2001:db8::1",
	    FACT_OK, 0, "" },
	{ "daemon addr v6", FACT_DAEMON_ADDR, "::1", FACT_OK, 0, "" },
	{ "tls 1.3", FACT_TLS_VERSION, "TLSv1.3", FACT_OK, 0, "" },
	{ "tls 1.0 alias", FACT_TLS_VERSION, "TLSv1.0", FACT_OK, 0, "" },
	{ "text with spaces", FACT_DAEMON_NAME, "MSA TLS", FACT_OK, 0, "" },
	{ "text control bytes", FACT_AUTH_AUTHEN, "a\r\nb\"c", FACT_OK, 0,
	    "" },
	{ "cert xtext", FACT_CERT_SUBJECT,
	    "/O=Example+20Lab/CN=alice@example.test", FACT_OK, 0, "" },
	{ "verify", FACT_VERIFY, "NO", FACT_OK, 0, "" },
	{ "version", FACT_MTA_VERSION, "Postfix 3.7.11", FACT_OK, 0, "" },
};

static const struct {
	enum fact_id		 id;
	const char		*name;
	const char		*macro;
	enum facts_group	 group;
} id_cases[] = {
	{ FACT_DAEMON_NAME, "daemon_name", "{daemon_name}",
	    FACTS_GROUP_CONNECT },
	{ FACT_DAEMON_ADDR, "daemon_addr", "{daemon_addr}",
	    FACTS_GROUP_CONNECT },
	{ FACT_DAEMON_PORT, "daemon_port", "{daemon_port}",
	    FACTS_GROUP_CONNECT },
	{ FACT_CLIENT_ADDR, "client_addr", "{client_addr}",
	    FACTS_GROUP_CONNECT },
	{ FACT_CLIENT_PORT, "client_port", "{client_port}",
	    FACTS_GROUP_CONNECT },
	{ FACT_MTA_VERSION, "mta_version", "v", FACTS_GROUP_CONNECT },
	{ FACT_TLS_VERSION, "tls_version", "{tls_version}", FACTS_GROUP_TLS },
	{ FACT_CIPHER, "cipher", "{cipher}", FACTS_GROUP_TLS },
	{ FACT_CIPHER_BITS, "cipher_bits", "{cipher_bits}", FACTS_GROUP_TLS },
	{ FACT_CERT_SUBJECT, "cert_subject", "{cert_subject}",
	    FACTS_GROUP_TLS },
	{ FACT_CERT_ISSUER, "cert_issuer", "{cert_issuer}", FACTS_GROUP_TLS },
	{ FACT_VERIFY, "verify", "{verify}", FACTS_GROUP_TLS },
	{ FACT_AUTH_TYPE, "auth_type", "{auth_type}", FACTS_GROUP_AUTH },
	{ FACT_AUTH_AUTHEN, "auth_authen", "{auth_authen}",
	    FACTS_GROUP_AUTH },
	{ FACT_AUTH_SSF, "auth_ssf", "{auth_ssf}", FACTS_GROUP_AUTH },
	{ FACT_QUEUE_ID, "queue_id", "i", FACTS_GROUP_QUEUE },
};

/* Stages of a Postfix 3.7 session on a STARTTLS submission port. */
static const struct macro pf_connect[] = {
	{ "j", "mail.example.test" },
	{ "{daemon_name}", "mail.example.test" },
	{ "{daemon_addr}", "127.0.0.1" },
	{ "{daemon_port}", "587" },
	{ "{client_addr}", "192.0.2.7" },
	{ "{client_port}", "54321" },
	{ "v", "Postfix 3.7.11" },
	{ NULL, NULL },
};
static const struct macro pf_helo_plain[] = {
	{ NULL, NULL },
};
static const struct macro pf_helo_tls[] = {
	{ "{tls_version}", "TLSv1.3" },
	{ "{cipher}", "TLS_AES_256_GCM_SHA384" },
	{ "{cipher_bits}", "256" },
	{ NULL, NULL },
};
static const struct macro pf_mail_auth[] = {
	{ "{auth_type}", "PLAIN" },
	{ "{auth_authen}", "alice@example.test" },
	{ "{mail_addr}", "alice@example.test" },
	{ NULL, NULL },
};
static const struct macro pf_mail_noauth[] = {
	{ "{mail_addr}", "bob@example.test" },
	{ NULL, NULL },
};
static const struct macro pf_eom[] = {
	{ "i", "4Xyz1Q2abc" },
	{ NULL, NULL },
};

/* Stages of a Sendmail 8.17 session: MAIL right after STARTTLS. */
static const struct macro sm_connect[] = {
	{ "{daemon_name}", "MSA" },
	{ "{daemon_port}", "587" },
	{ "{daemon_addr}", "127.0.0.1" },
	{ "{client_addr}", "IPv6:2001:db8::7" },
	{ "{client_port}", "40000" },
	{ "i", "60OAb1Qx012345" },
	{ NULL, NULL },
};
static const struct macro sm_helo_plain[] = {
	{ "{daemon_name}", "MSA" },
	{ "{daemon_port}", "587" },
	{ "{tls_version}", "" },	/* defined but empty in plaintext */
	{ "{cipher}", "" },
	{ "{verify}", "" },
	{ "i", "60OAb1Qx012345" },
	{ NULL, NULL },
};
static const struct macro sm_mail_tls_auth[] = {
	{ "{daemon_name}", "MSA" },
	{ "{daemon_port}", "587" },
	{ "{tls_version}", "TLSv1.3" },
	{ "{cipher}", "TLS_AES_256_GCM_SHA384" },
	{ "{cipher_bits}", "256" },
	{ "{cert_subject}", "" },
	{ "{cert_issuer}", "" },
	{ "{verify}", "NO" },
	{ "{auth_type}", "PLAIN" },
	{ "{auth_authen}", "alice@example.test" },
	{ "{auth_ssf}", "0" },
	{ "i", "60OAb2Qx067890" },
	{ NULL, NULL },
};

/*
 * Allocation failure: this strdup() replaces the C library's for the whole
 * program (facts.c copies values with strdup).  It fails once when
 * strdup_countdown reaches 0; -1 means never.
 */
static int strdup_countdown = -1;

char *
strdup(const char *s)
{
	size_t size = strlen(s) + 1;
	char *p;

	if (strdup_countdown == 0) {
		strdup_countdown = -1;
		errno = ENOMEM;
		return NULL;
	}
	if (strdup_countdown > 0)
		strdup_countdown--;
	if ((p = malloc(size)) != NULL)
		memcpy(p, s, size);
	return p;
}

/* fake_lookup - the fake MTA's smfi_getsymval. */
static const char *
fake_lookup(void *ctx, const char *name)
{
	struct fake_mta *mta = ctx;
	const struct macro *m;
	size_t i;

	mta->n_calls++;
	if (strcmp(name, "{if_addr}") == 0)
		mta->n_if_addr++;
	for (i = 0; i < N_ELEMS(known_macros); i++)
		if (strcmp(name, known_macros[i]) == 0)
			break;
	if (i == N_ELEMS(known_macros))
		mta->n_unknown++;
	for (m = mta->stage; m->name != NULL; m++)
		if (strcmp(m->name, name) == 0)
			return m->value;
	return NULL;
}

/* stage - run facts_update for group with the macros of one stage. */
static void
stage(struct facts *f, enum facts_group group, const struct macro *macros)
{
	struct fake_mta mta = { macros, 0, 0, 0 };

	ck_assert_int_eq(facts_update(f, group, fake_lookup, &mta), 0);
	ck_assert_uint_gt(mta.n_calls, 0);
	ck_assert_uint_eq(mta.n_unknown, 0);
}

/* assert_fact - state and text of one fact. */
static void
assert_fact(const struct facts *f, enum fact_id id, enum fact_state state,
    const char *text)
{
	ck_assert_msg(f->f[id].state == state, "%s: state %d, expected %d",
	    facts_id_name(id), (int)f->f[id].state, (int)state);
	if (text == NULL) {
		ck_assert_ptr_null(f->f[id].text);
		return;
	}
	ck_assert_ptr_nonnull(f->f[id].text);
	ck_assert_str_eq(f->f[id].text, text);
	ck_assert_uint_eq(f->f[id].size, strlen(text));
}

START_TEST(test_set)
{
	struct facts f;
	char buf[128];
	const char *in = set_cases[_i].input;

	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, set_cases[_i].id, in), 0);
	assert_fact(&f, set_cases[_i].id, set_cases[_i].state,
	    set_cases[_i].state == FACT_ABSENT ? NULL : in);
	if (set_cases[_i].state == FACT_OK)
		ck_assert_uint_eq(f.f[set_cases[_i].id].num, set_cases[_i].num);
	ck_assert_str_eq(facts_describe(&f, set_cases[_i].id, buf,
	    sizeof(buf)), set_cases[_i].problem);
	if (in != NULL && *in != '\0' && strlen(in) > 2)
		ck_assert_ptr_null(strstr(buf, in));
	facts_clear(&f);
	ck_assert_ptr_null(f.f[set_cases[_i].id].text);
}
END_TEST

START_TEST(test_set_derived)
{
	struct facts f;

	facts_init(&f);
	ck_assert_int_eq(f.tls_version, TLS_VERSION_NONE);
	ck_assert(!facts_is_tls(&f));

	ck_assert_int_eq(facts_set(&f, FACT_CLIENT_ADDR, "[192.0.2.9]"), 0);
	ck_assert_int_eq(f.client_addr.family, AF_INET);
	ck_assert_int_eq(f.client_addr.bytes[3], 9);
	ck_assert_int_eq(facts_set(&f, FACT_CLIENT_ADDR, "IPv6:::1"), 0);
	ck_assert_int_eq(f.client_addr.family, AF_INET6);
	ck_assert_int_eq(f.client_addr.bytes[15], 1);
	ck_assert_int_eq(facts_set(&f, FACT_CLIENT_ADDR, "bogus"), 0);
	ck_assert_int_eq(f.client_addr.family, 0);
	ck_assert_int_eq(facts_set(&f, FACT_CLIENT_ADDR, "192.0.2.9"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_CLIENT_ADDR, NULL), 0);
	ck_assert_int_eq(f.client_addr.family, 0);

	/* A daemon address is validated but never lands in client_addr. */
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_ADDR, "192.0.2.25"), 0);
	ck_assert_int_eq(f.client_addr.family, 0);

	ck_assert_int_eq(facts_set(&f, FACT_TLS_VERSION, "TLSv1.2"), 0);
	ck_assert_int_eq(f.tls_version, TLS_VERSION_TLSV1_2);
	ck_assert(facts_is_tls(&f));
	ck_assert_int_eq(facts_set(&f, FACT_TLS_VERSION, "TLSv9"), 0);
	ck_assert_int_eq(f.tls_version, TLS_VERSION_UNKNOWN);
	ck_assert(facts_is_tls(&f));	/* encrypted, version unknown */
	ck_assert_int_eq(facts_set(&f, FACT_TLS_VERSION, ""), 0);
	ck_assert_int_eq(f.tls_version, TLS_VERSION_NONE);
	ck_assert(!facts_is_tls(&f));

	/* A cipher alone also means TLS. */
	ck_assert_int_eq(facts_set(&f, FACT_CIPHER, "AES256-GCM-SHA384"), 0);
	ck_assert(facts_is_tls(&f));
	ck_assert_int_eq(f.tls_version, TLS_VERSION_NONE);

	/* Port: OK, then malformed, then absent. */
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "465"), 0);
	ck_assert(facts_has_port(&f));
	ck_assert_uint_eq(f.f[FACT_DAEMON_PORT].num, 465);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "465x"), 0);
	ck_assert(!facts_has_port(&f));
	ck_assert_uint_eq(f.f[FACT_DAEMON_PORT].num, 0);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, NULL), 0);
	ck_assert(!facts_has_port(&f));

	ck_assert(!facts_has_auth(&f));
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_AUTHEN, "alice"), 0);
	ck_assert(facts_has_auth(&f));
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_AUTHEN, NULL), 0);
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_TYPE, "LOGIN"), 0);
	ck_assert(facts_has_auth(&f));
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_SSF, "0"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_TYPE, NULL), 0);
	ck_assert(!facts_has_auth(&f));	/* auth_ssf alone is not AUTH */

	f.is_auth_before_tls = true;
	facts_clear(&f);
	ck_assert(!f.is_auth_before_tls);
	ck_assert(!facts_is_tls(&f));
}
END_TEST

/*
 * AUTH before STARTTLS as the callbacks see it: each greeting's TLS and
 * AUTH facts, in order.  Sendmail carries a plaintext AUTH across
 * STARTTLS, so it shows at the first greeting over TLS.
 */
static const struct {
	const char	*label;
	const char	*greetings;	/* per HELO: p plaintext, t TLS; A with AUTH */
	bool		 want;
} greetings[] = {
	{ "plaintext EHLO, STARTTLS, EHLO, then AUTH", "p t", false },
	{ "AUTH in plaintext, STARTTLS, EHLO with it", "p tA", true },
	{ "AUTH in plaintext, no STARTTLS", "pA pA", false },
	{ "implicit TLS, AUTH, EHLO again", "t tA", false },
	{ "STARTTLS, EHLO, AUTH, EHLO again", "p t tA", false },
	{ "no greeting in plaintext, AUTH at the first", "tA", false },
	{ "two plaintext greetings, then TLS with AUTH", "p pA tA", true },
};

START_TEST(test_greeted)
{
	const char *g = greetings[_i].greetings;
	struct facts f;
	bool was_tls;

	facts_init(&f);
	for (; *g != '\0'; g++) {
		if (*g == ' ')
			continue;
		was_tls = facts_is_tls(&f);
		if (*g == 't')
			ck_assert_int_eq(facts_set(&f, FACT_TLS_VERSION,
			    "TLSv1.3"), 0);
		if (g[1] == 'A') {
			ck_assert_int_eq(facts_set(&f, FACT_AUTH_TYPE, "PLAIN"),
			    0);
			g++;
		}
		facts_greeted(&f, was_tls);
	}
	ck_assert_msg(f.is_auth_before_tls == greetings[_i].want, "%s",
	    greetings[_i].label);
	facts_clear(&f);
}
END_TEST

/* big_value - n bytes of 'x', NUL-terminated; caller frees. */
static char *
big_value(size_t n)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, 'x', n);
	s[n] = '\0';
	return s;
}

START_TEST(test_oversize)
{
	struct facts f;
	char buf[64];
	char *at_limit = big_value(FACTS_VALUE_MAX);
	char *over = big_value(FACTS_VALUE_MAX + 1);
	char *huge = big_value(70000);

	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_CERT_SUBJECT, at_limit), 0);
	assert_fact(&f, FACT_CERT_SUBJECT, FACT_OK, at_limit);
	ck_assert_int_eq(facts_set(&f, FACT_CERT_SUBJECT, over), 0);
	assert_fact(&f, FACT_CERT_SUBJECT, FACT_OVERSIZE, NULL);
	ck_assert_uint_eq(f.f[FACT_CERT_SUBJECT].size, FACTS_VALUE_MAX + 1);
	ck_assert_str_eq(facts_describe(&f, FACT_CERT_SUBJECT, buf,
	    sizeof(buf)), "value of 2049 bytes exceeds 2048");

	/* An oversized version or cipher is still an encrypted session. */
	ck_assert_int_eq(facts_set(&f, FACT_TLS_VERSION, huge), 0);
	assert_fact(&f, FACT_TLS_VERSION, FACT_OVERSIZE, NULL);
	ck_assert_uint_eq(f.f[FACT_TLS_VERSION].size, 70000);
	ck_assert_int_eq(f.tls_version, TLS_VERSION_UNKNOWN);
	ck_assert(facts_is_tls(&f));
	ck_assert_str_eq(facts_describe(&f, FACT_TLS_VERSION, buf,
	    sizeof(buf)), "value of 70000 bytes exceeds 2048");

	/* An oversized user is still an authenticated client. */
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_AUTHEN, huge), 0);
	ck_assert(facts_has_auth(&f));
	/* An oversized port is not a port; an oversized addr not an addr. */
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, over), 0);
	ck_assert(!facts_has_port(&f));
	ck_assert_int_eq(facts_set(&f, FACT_CLIENT_ADDR, "192.0.2.1"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_CLIENT_ADDR, over), 0);
	ck_assert_int_eq(f.client_addr.family, 0);

	/* Back to a normal value after an oversized one. */
	ck_assert_int_eq(facts_set(&f, FACT_CERT_SUBJECT, "CN=a"), 0);
	assert_fact(&f, FACT_CERT_SUBJECT, FACT_OK, "CN=a");
	facts_clear(&f);
	free(at_limit);
	free(over);
	free(huge);
}
END_TEST

START_TEST(test_describe_limits)
{
	struct facts f;
	char buf[8];

	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "x"), 0);
	/* Truncated, but always terminated and never past size. */
	ck_assert_str_eq(facts_describe(&f, FACT_DAEMON_PORT, buf,
	    sizeof(buf)), "not a p");
	memcpy(buf, "keep", 5);
	ck_assert_ptr_eq(facts_describe(&f, FACT_DAEMON_PORT, buf, 0), buf);
	ck_assert_str_eq(buf, "keep");
	ck_assert_str_eq(facts_describe(&f, FACT_QUEUE_ID, buf, sizeof(buf)),
	    "");
	facts_clear(&f);
}
END_TEST

START_TEST(test_ids)
{
	size_t j;

	ck_assert_uint_eq(N_ELEMS(id_cases), FACT_COUNT);
	ck_assert_int_eq(id_cases[_i].id, (enum fact_id)_i);
	ck_assert_str_eq(facts_id_name(id_cases[_i].id), id_cases[_i].name);
	ck_assert_str_eq(facts_id_macro(id_cases[_i].id),
	    id_cases[_i].macro);
	ck_assert_int_eq(facts_id_group(id_cases[_i].id),
	    id_cases[_i].group);
	for (j = 0; j < FACT_COUNT; j++)
		if (j != (size_t)_i)
			ck_assert_str_ne(facts_id_name((enum fact_id)j),
			    id_cases[_i].name);
}
END_TEST

START_TEST(test_bad_id_name)
{
	(void) facts_id_name(FACT_COUNT);
}
END_TEST

START_TEST(test_bad_id_set)
{
	struct facts f;

	facts_init(&f);
	(void) facts_set(&f, (enum fact_id)(FACT_COUNT + 3), "x");
}
END_TEST

START_TEST(test_bad_group)
{
	struct facts f;
	struct fake_mta mta = { pf_connect, 0, 0, 0 };

	facts_init(&f);
	(void) facts_update(&f, (enum facts_group)9, fake_lookup, &mta);
}
END_TEST

START_TEST(test_null_lookup)
{
	struct facts f;

	facts_init(&f);
	(void) facts_update(&f, FACTS_GROUP_CONNECT, NULL, NULL);
}
END_TEST

/* Postfix: connect, HELO in plaintext, STARTTLS + HELO, MAIL, MAIL. */
START_TEST(test_postfix_session)
{
	struct facts f;

	facts_init(&f);
	stage(&f, FACTS_GROUP_CONNECT, pf_connect);
	assert_fact(&f, FACT_DAEMON_NAME, FACT_OK, "mail.example.test");
	assert_fact(&f, FACT_DAEMON_ADDR, FACT_OK, "127.0.0.1");
	assert_fact(&f, FACT_DAEMON_PORT, FACT_OK, "587");
	ck_assert_uint_eq(f.f[FACT_DAEMON_PORT].num, 587);
	ck_assert(facts_has_port(&f));
	assert_fact(&f, FACT_CLIENT_ADDR, FACT_OK, "192.0.2.7");
	ck_assert_int_eq(f.client_addr.family, AF_INET);
	ck_assert_uint_eq(f.f[FACT_CLIENT_PORT].num, 54321);
	assert_fact(&f, FACT_MTA_VERSION, FACT_OK, "Postfix 3.7.11");
	assert_fact(&f, FACT_TLS_VERSION, FACT_ABSENT, NULL);

	/* HELO #1, plaintext: no TLS macro at all. */
	stage(&f, FACTS_GROUP_TLS, pf_helo_plain);
	ck_assert(!facts_is_tls(&f));
	ck_assert_int_eq(f.tls_version, TLS_VERSION_NONE);

	/* STARTTLS, HELO #2 with TLS. */
	stage(&f, FACTS_GROUP_TLS, pf_helo_tls);
	ck_assert(facts_is_tls(&f));
	ck_assert_int_eq(f.tls_version, TLS_VERSION_TLSV1_3);
	assert_fact(&f, FACT_CIPHER, FACT_OK, "TLS_AES_256_GCM_SHA384");
	ck_assert_uint_eq(f.f[FACT_CIPHER_BITS].num, 256);
	assert_fact(&f, FACT_CERT_SUBJECT, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_VERIFY, FACT_ABSENT, NULL);

	/* MAIL with AUTH: Postfix lists no TLS macro for MAIL by default. */
	stage(&f, FACTS_GROUP_TLS, pf_mail_auth);
	stage(&f, FACTS_GROUP_AUTH, pf_mail_auth);
	stage(&f, FACTS_GROUP_QUEUE, pf_mail_auth);
	ck_assert(facts_is_tls(&f));
	ck_assert_int_eq(f.tls_version, TLS_VERSION_TLSV1_3);
	ck_assert(facts_has_auth(&f));
	assert_fact(&f, FACT_AUTH_TYPE, FACT_OK, "PLAIN");
	assert_fact(&f, FACT_AUTH_AUTHEN, FACT_OK, "alice@example.test");
	assert_fact(&f, FACT_AUTH_SSF, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_QUEUE_ID, FACT_ABSENT, NULL);

	/* The queue id arrives at end of message. */
	stage(&f, FACTS_GROUP_QUEUE, pf_eom);
	assert_fact(&f, FACT_QUEUE_ID, FACT_OK, "4Xyz1Q2abc");

	/* Next transaction without AUTH: AUTH facts are gone, TLS stays. */
	stage(&f, FACTS_GROUP_TLS, pf_mail_noauth);
	stage(&f, FACTS_GROUP_AUTH, pf_mail_noauth);
	stage(&f, FACTS_GROUP_QUEUE, pf_mail_noauth);
	ck_assert(!facts_has_auth(&f));
	assert_fact(&f, FACT_AUTH_TYPE, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_AUTH_AUTHEN, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_QUEUE_ID, FACT_ABSENT, NULL);
	ck_assert(facts_is_tls(&f));
	assert_fact(&f, FACT_CIPHER, FACT_OK, "TLS_AES_256_GCM_SHA384");
	assert_fact(&f, FACT_DAEMON_PORT, FACT_OK, "587");
	facts_clear(&f);
}
END_TEST

/* Sendmail: plaintext HELO, STARTTLS, MAIL at once (no second EHLO). */
START_TEST(test_sendmail_mail_after_starttls)
{
	struct facts f;

	facts_init(&f);
	stage(&f, FACTS_GROUP_CONNECT, sm_connect);
	stage(&f, FACTS_GROUP_QUEUE, sm_connect);
	assert_fact(&f, FACT_DAEMON_NAME, FACT_OK, "MSA");
	assert_fact(&f, FACT_CLIENT_ADDR, FACT_OK, "IPv6:2001:db8::7");
	ck_assert_int_eq(f.client_addr.family, AF_INET6);
	assert_fact(&f, FACT_MTA_VERSION, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_QUEUE_ID, FACT_OK, "60OAb1Qx012345");

	/* Plaintext HELO: TLS macros defined but empty are not TLS. */
	stage(&f, FACTS_GROUP_TLS, sm_helo_plain);
	stage(&f, FACTS_GROUP_AUTH, sm_helo_plain);
	ck_assert(!facts_is_tls(&f));
	ck_assert(!facts_has_auth(&f));
	assert_fact(&f, FACT_VERIFY, FACT_ABSENT, NULL);

	/* MAIL right after STARTTLS: TLS and AUTH arrive together. */
	stage(&f, FACTS_GROUP_TLS, sm_mail_tls_auth);
	stage(&f, FACTS_GROUP_AUTH, sm_mail_tls_auth);
	stage(&f, FACTS_GROUP_QUEUE, sm_mail_tls_auth);
	ck_assert(facts_is_tls(&f));
	ck_assert_int_eq(f.tls_version, TLS_VERSION_TLSV1_3);
	ck_assert_uint_eq(f.f[FACT_CIPHER_BITS].num, 256);
	assert_fact(&f, FACT_CERT_SUBJECT, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_CERT_ISSUER, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_VERIFY, FACT_OK, "NO");
	ck_assert(facts_has_auth(&f));
	assert_fact(&f, FACT_AUTH_SSF, FACT_OK, "0");
	ck_assert_uint_eq(f.f[FACT_AUTH_SSF].num, 0);
	assert_fact(&f, FACT_QUEUE_ID, FACT_OK, "60OAb2Qx067890");

	/* A later stage with empty TLS macros does not end TLS. */
	stage(&f, FACTS_GROUP_TLS, sm_helo_plain);
	ck_assert(facts_is_tls(&f));
	assert_fact(&f, FACT_VERIFY, FACT_OK, "NO");
	facts_clear(&f);
}
END_TEST

/* A stage carrying TLS macros replaces the TLS group, it does not merge. */
START_TEST(test_tls_replaced)
{
	static const struct macro with_cert[] = {
		{ "{tls_version}", "TLSv1.2" },
		{ "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384" },
		{ "{cipher_bits}", "256" },
		{ "{cert_subject}", "CN=client" },
		{ "{cert_issuer}", "CN=ca" },
		{ NULL, NULL },
	};
	static const struct macro only_version[] = {
		{ "{tls_version}", "TLSv1/SSLv3" },
		{ NULL, NULL },
	};
	static const struct macro only_subject[] = {
		{ "{cert_subject}", "CN=other" },
		{ NULL, NULL },
	};
	struct facts f;
	char buf[64];

	facts_init(&f);
	stage(&f, FACTS_GROUP_TLS, with_cert);
	assert_fact(&f, FACT_CERT_SUBJECT, FACT_OK, "CN=client");
	ck_assert_int_eq(f.tls_version, TLS_VERSION_TLSV1_2);

	stage(&f, FACTS_GROUP_TLS, only_version);
	assert_fact(&f, FACT_TLS_VERSION, FACT_MALFORMED, "TLSv1/SSLv3");
	ck_assert_int_eq(f.tls_version, TLS_VERSION_UNKNOWN);
	ck_assert(facts_is_tls(&f));
	ck_assert_str_eq(facts_describe(&f, FACT_TLS_VERSION, buf,
	    sizeof(buf)), "unknown TLS version");
	assert_fact(&f, FACT_CIPHER, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_CIPHER_BITS, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_CERT_SUBJECT, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_CERT_ISSUER, FACT_ABSENT, NULL);

	/* Any TLS macro counts as "this stage carries TLS". */
	stage(&f, FACTS_GROUP_TLS, only_subject);
	assert_fact(&f, FACT_CERT_SUBJECT, FACT_OK, "CN=other");
	assert_fact(&f, FACT_TLS_VERSION, FACT_ABSENT, NULL);
	ck_assert(!facts_is_tls(&f));
	facts_clear(&f);
}
END_TEST

/* CONNECT facts are replaced: a macro missing now is absent now. */
START_TEST(test_connect_replaced)
{
	static const struct macro no_port[] = {
		{ "{daemon_name}", "mail.example.test" },
		{ "{client_addr}", "not-an-address" },
		{ NULL, NULL },
	};
	struct facts f;

	facts_init(&f);
	stage(&f, FACTS_GROUP_CONNECT, pf_connect);
	ck_assert(facts_has_port(&f));
	stage(&f, FACTS_GROUP_CONNECT, no_port);
	ck_assert(!facts_has_port(&f));
	assert_fact(&f, FACT_DAEMON_PORT, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_DAEMON_ADDR, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_CLIENT_ADDR, FACT_MALFORMED, "not-an-address");
	ck_assert_int_eq(f.client_addr.family, 0);
	assert_fact(&f, FACT_MTA_VERSION, FACT_ABSENT, NULL);
	facts_clear(&f);
}
END_TEST

/* {daemon_addr} falls back to {if_addr}, and only when it is missing. */
START_TEST(test_daemon_addr_fallback)
{
	static const struct macro if_only[] = {
		{ "{if_addr}", "192.0.2.25" },
		{ NULL, NULL },
	};
	static const struct macro empty_daemon[] = {
		{ "{daemon_addr}", "" },
		{ "{if_addr}", "2001:db8::25" },
		{ NULL, NULL },
	};
	static const struct macro both[] = {
		{ "{daemon_addr}", "127.0.0.1" },
		{ "{if_addr}", "192.0.2.25" },
		{ NULL, NULL },
	};
	struct fake_mta mta = { if_only, 0, 0, 0 };
	struct facts f;

	facts_init(&f);
	ck_assert_int_eq(facts_update(&f, FACTS_GROUP_CONNECT, fake_lookup,
	    &mta), 0);
	assert_fact(&f, FACT_DAEMON_ADDR, FACT_OK, "192.0.2.25");
	ck_assert_uint_eq(mta.n_if_addr, 1);

	mta.stage = empty_daemon;
	ck_assert_int_eq(facts_update(&f, FACTS_GROUP_CONNECT, fake_lookup,
	    &mta), 0);
	assert_fact(&f, FACT_DAEMON_ADDR, FACT_OK, "2001:db8::25");

	mta.stage = both;
	mta.n_if_addr = 0;
	ck_assert_int_eq(facts_update(&f, FACTS_GROUP_CONNECT, fake_lookup,
	    &mta), 0);
	assert_fact(&f, FACT_DAEMON_ADDR, FACT_OK, "127.0.0.1");
	ck_assert_uint_eq(mta.n_if_addr, 0);

	mta.stage = pf_helo_plain;
	ck_assert_int_eq(facts_update(&f, FACTS_GROUP_CONNECT, fake_lookup,
	    &mta), 0);
	assert_fact(&f, FACT_DAEMON_ADDR, FACT_ABSENT, NULL);
	facts_clear(&f);
}
END_TEST

/* An unchanged value keeps its copy: no allocation per stage. */
START_TEST(test_no_realloc)
{
	const char *before[FACT_COUNT];
	struct facts f;
	size_t i;

	facts_init(&f);
	stage(&f, FACTS_GROUP_CONNECT, sm_connect);
	stage(&f, FACTS_GROUP_TLS, sm_mail_tls_auth);
	stage(&f, FACTS_GROUP_AUTH, sm_mail_tls_auth);
	for (i = 0; i < FACT_COUNT; i++)
		before[i] = f.f[i].text;
	/*
	 * The old copy is still allocated when a new one would be made, so
	 * an unchanged pointer proves that no copy was made.
	 */
	stage(&f, FACTS_GROUP_CONNECT, sm_connect);
	stage(&f, FACTS_GROUP_TLS, sm_mail_tls_auth);
	stage(&f, FACTS_GROUP_AUTH, sm_mail_tls_auth);
	for (i = 0; i < FACT_COUNT; i++)
		ck_assert_msg(f.f[i].text == before[i], "%s was copied again",
		    facts_id_name((enum fact_id)i));
	ck_assert_ptr_nonnull(before[FACT_AUTH_AUTHEN]);
	ck_assert_ptr_nonnull(before[FACT_TLS_VERSION]);

	/* A changed value is copied. */
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_AUTHEN, "bob"), 0);
	ck_assert_ptr_ne(f.f[FACT_AUTH_AUTHEN].text, before[FACT_AUTH_AUTHEN]);
	assert_fact(&f, FACT_AUTH_AUTHEN, FACT_OK, "bob");

	/* Same text, still parsed again: a malformed port stays malformed. */
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "x"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "x"), 0);
	assert_fact(&f, FACT_DAEMON_PORT, FACT_MALFORMED, "x");
	facts_clear(&f);
}
END_TEST

/* Allocation failure keeps the old value; a failed AUTH read leaves none. */
START_TEST(test_enomem)
{
	static const struct macro bob[] = {
		{ "{auth_type}", "LOGIN" },
		{ "{auth_authen}", "bob@example.test" },
		{ NULL, NULL },
	};
	struct fake_mta mta = { bob, 0, 0, 0 };
	struct facts f;

	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "587"), 0);
	strdup_countdown = 0;
	errno = 0;
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "465"), -1);
	ck_assert_int_eq(errno, ENOMEM);
	assert_fact(&f, FACT_DAEMON_PORT, FACT_OK, "587");
	ck_assert_uint_eq(f.f[FACT_DAEMON_PORT].num, 587);

	/* An unchanged value needs no copy, so it cannot fail. */
	strdup_countdown = 0;
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "587"), 0);
	strdup_countdown = -1;

	/* AUTH of an earlier transaction, then the copy of the user fails. */
	stage(&f, FACTS_GROUP_AUTH, pf_mail_auth);
	ck_assert(facts_has_auth(&f));
	strdup_countdown = 1;	/* "LOGIN" copied, "bob@..." fails */
	ck_assert_int_eq(facts_update(&f, FACTS_GROUP_AUTH, fake_lookup,
	    &mta), -1);
	strdup_countdown = -1;
	ck_assert(!facts_has_auth(&f));
	assert_fact(&f, FACT_AUTH_TYPE, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_AUTH_AUTHEN, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_AUTH_SSF, FACT_ABSENT, NULL);

	/* The same read works once memory is back. */
	ck_assert_int_eq(facts_update(&f, FACTS_GROUP_AUTH, fake_lookup,
	    &mta), 0);
	assert_fact(&f, FACT_AUTH_AUTHEN, FACT_OK, "bob@example.test");
	facts_clear(&f);
}
END_TEST

/*
 * What compacting frees: free() is wrapped at link time (-Wl,--wrap=free,
 * tests/unit/Makefile.am), and while is_watching every pointer freed is
 * noted in order.
 */
void	__real_free(void *);
void	__wrap_free(void *);

static const void	*freed[64];
static size_t		 n_freed;
static bool		 is_watching;

void
__wrap_free(void *p)
{
	if (is_watching && p != NULL && n_freed < N_ELEMS(freed))
		freed[n_freed++] = p;
	__real_free(p);
}

/* was_freed - p was freed while watching. */
static bool
was_freed(const void *p)
{
	for (size_t i = 0; i < n_freed; i++)
		if (freed[i] == p)
			return true;
	return false;
}

/*
 * compact - facts_compact(), noting what it frees; the old texts (and
 * the old pack) in old[] beforehand.
 */
static int
compact(struct facts *f, const char *old[FACT_COUNT], const char **old_pack)
{
	int rc;

	for (size_t i = 0; i < FACT_COUNT; i++)
		old[i] = f->f[i].text;
	*old_pack = f->pack;
	n_freed = 0;
	is_watching = true;
	rc = facts_compact(f);
	is_watching = false;
	return rc;
}

/* A copy of every fact, to compare after facts_compact(). */
struct snapshot {
	enum fact_state	 state[FACT_COUNT];
	size_t		 size[FACT_COUNT];
	unsigned	 num[FACT_COUNT];
	char		 text[FACT_COUNT][64];	/* "" when NULL */
	bool		 has_text[FACT_COUNT];
};

static void
snap(const struct facts *f, struct snapshot *sn)
{
	for (size_t i = 0; i < FACT_COUNT; i++) {
		sn->state[i] = f->f[i].state;
		sn->size[i] = f->f[i].size;
		sn->num[i] = f->f[i].num;
		sn->has_text[i] = f->f[i].text != NULL;
		(void) snprintf(sn->text[i], sizeof(sn->text[i]), "%s",
		    f->f[i].text != NULL ? f->f[i].text : "");
	}
}

/* assert_same - every fact has the value, state, size and number it had. */
static void
assert_same(const struct facts *f, const struct snapshot *sn)
{
	for (size_t i = 0; i < FACT_COUNT; i++) {
		const char *name = facts_id_name((enum fact_id)i);

		ck_assert_msg(f->f[i].state == sn->state[i], "%s: state", name);
		ck_assert_msg(f->f[i].size == sn->size[i], "%s: size", name);
		ck_assert_msg(f->f[i].num == sn->num[i], "%s: num", name);
		ck_assert_msg((f->f[i].text != NULL) == sn->has_text[i],
		    "%s: text present", name);
		if (sn->has_text[i])
			ck_assert_str_eq(f->f[i].text, sn->text[i]);
	}
}

/*
 * assert_packed - every text lies in the pack, one after the other in
 * table order, and the pack holds nothing else; returns how many.
 */
static size_t
assert_packed(const struct facts *f)
{
	const char *next = f->pack;
	size_t n = 0;

	for (size_t i = 0; i < FACT_COUNT; i++) {
		if (f->f[i].text == NULL)
			continue;
		ck_assert_msg(f->f[i].text == next, "%s: not at its place in"
		    " the pack", facts_id_name((enum fact_id)i));
		next += strlen(next) + 1;
		n++;
	}
	ck_assert_uint_eq(f->is_packed, f->pack_texts);
	return n;
}

/*
 * After a decision: the texts move into one block, values unchanged; the
 * copies they were in, and an earlier pack, are freed, nothing else.
 */
START_TEST(test_compact)
{
	const char *old[FACT_COUNT], *old_pack, *pack;
	struct fake_mta noauth = { pf_mail_noauth, 0, 0, 0 };
	struct snapshot sn;
	struct facts f;
	size_t i, n;
	int rc;

	facts_init(&f);
	stage(&f, FACTS_GROUP_CONNECT, pf_connect);
	stage(&f, FACTS_GROUP_TLS, pf_helo_tls);
	ck_assert_int_eq(facts_set(&f, FACT_CERT_SUBJECT, "CN=x\"\r\n"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_CLIENT_PORT, "70000"), 0);
	stage(&f, FACTS_GROUP_AUTH, pf_mail_auth);
	stage(&f, FACTS_GROUP_QUEUE, pf_eom);
	ck_assert_ptr_null(f.pack);
	snap(&f, &sn);
	ck_assert_int_eq(compact(&f, old, &old_pack), 0);
	ck_assert_ptr_nonnull(f.pack);
	assert_same(&f, &sn);
	/* connect 6, TLS 4, AUTH 2, queue id: 13 texts, no copy left over */
	ck_assert_uint_eq(assert_packed(&f), 13);
	for (i = 0, n = 0; i < FACT_COUNT; i++)
		if (old[i] != NULL) {
			ck_assert_msg(was_freed(old[i]), "%s: copy not freed",
			    facts_id_name((enum fact_id)i));
			n++;
		}
	ck_assert_uint_eq(n_freed, n);
	ck_assert(!was_freed(f.pack));
	ck_assert_int_eq(f.tls_version, TLS_VERSION_TLSV1_3);
	ck_assert_int_eq(f.client_addr.family, AF_INET);
	ck_assert(facts_is_tls(&f) && facts_has_auth(&f));

	/* nothing changed: nothing to do, the same pack, nothing freed */
	pack = f.pack;
	ck_assert_int_eq(compact(&f, old, &old_pack), 0);
	ck_assert_ptr_eq(f.pack, pack);
	ck_assert_uint_eq(n_freed, 0);

	/* an unchanged value stays in the pack; a new one is a copy */
	stage(&f, FACTS_GROUP_CONNECT, pf_connect);	/* client port 54321 */
	ck_assert_ptr_eq(f.f[FACT_DAEMON_NAME].text, pack);
	ck_assert_uint_eq(f.is_packed & (1u << FACT_CLIENT_PORT), 0);
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_AUTHEN, "bob"), 0);
	assert_fact(&f, FACT_AUTH_AUTHEN, FACT_OK, "bob");
	ck_assert_uint_eq(f.is_packed & (1u << FACT_AUTH_AUTHEN), 0);
	snap(&f, &sn);
	ck_assert_int_eq(compact(&f, old, &old_pack), 0);
	assert_same(&f, &sn);
	ck_assert_uint_eq(assert_packed(&f), 13);
	ck_assert_uint_eq(n_freed, 3);	/* the two copies, the old pack */
	ck_assert(was_freed(old[FACT_CLIENT_PORT]));
	ck_assert(was_freed(old[FACT_AUTH_AUTHEN]));
	ck_assert(was_freed(old_pack));

	/* the next MAIL without AUTH drops texts of the pack: none freed */
	n_freed = 0;
	is_watching = true;	/* no ck_assert meanwhile: Check frees too */
	rc = facts_update(&f, FACTS_GROUP_AUTH, fake_lookup, &noauth) |
	    facts_update(&f, FACTS_GROUP_QUEUE, fake_lookup, &noauth);
	is_watching = false;
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(n_freed, 0);
	assert_fact(&f, FACT_AUTH_TYPE, FACT_ABSENT, NULL);
	assert_fact(&f, FACT_QUEUE_ID, FACT_ABSENT, NULL);
	/* compacting again leaves them out and frees the old pack only */
	snap(&f, &sn);
	ck_assert_int_eq(compact(&f, old, &old_pack), 0);
	assert_same(&f, &sn);
	ck_assert_uint_eq(assert_packed(&f), 10);
	ck_assert_uint_eq(n_freed, 1);
	ck_assert(was_freed(old_pack));

	/* a copy that fails keeps the packed value */
	pack = f.f[FACT_CIPHER].text;
	strdup_countdown = 0;
	ck_assert_int_eq(facts_set(&f, FACT_CIPHER, "AES128-SHA"), -1);
	strdup_countdown = -1;
	ck_assert_ptr_eq(f.f[FACT_CIPHER].text, pack);
	assert_fact(&f, FACT_CIPHER, FACT_OK, "TLS_AES_256_GCM_SHA384");

	/* clearing frees the pack and no text in it one by one */
	n_freed = 0;
	is_watching = true;
	pack = f.pack;
	facts_clear(&f);
	is_watching = false;
	ck_assert_uint_eq(n_freed, 1);
	ck_assert(was_freed(pack));
	ck_assert_ptr_null(f.pack);
	ck_assert_uint_eq(f.is_packed | f.pack_texts, 0);
}
END_TEST

/* No text at all: no pack; a pack whose texts all went is freed. */
START_TEST(test_compact_empty)
{
	const char *old[FACT_COUNT], *old_pack;
	struct facts f;

	facts_init(&f);
	ck_assert_int_eq(facts_compact(&f), 0);
	ck_assert_ptr_null(f.pack);
	ck_assert_int_eq(facts_set(&f, FACT_QUEUE_ID, "Q1"), 0);
	ck_assert_int_eq(facts_compact(&f), 0);
	ck_assert_ptr_nonnull(f.pack);
	ck_assert_str_eq(f.f[FACT_QUEUE_ID].text, "Q1");
	ck_assert_int_eq(facts_set(&f, FACT_QUEUE_ID, NULL), 0);
	ck_assert_int_eq(compact(&f, old, &old_pack), 0);
	ck_assert_ptr_null(f.pack);
	ck_assert_uint_eq(f.is_packed | f.pack_texts, 0);
	ck_assert_uint_eq(n_freed, 1);
	ck_assert(was_freed(old_pack));
	facts_clear(&f);
}
END_TEST

static Suite *
facts_suite(void)
{
	Suite *s = suite_create("facts");
	TCase *tc = tcase_create("set");
	TCase *tu = tcase_create("update");
	TCase *ta = tcase_create("misuse");

	tcase_add_loop_test(tc, test_set, 0, (int)N_ELEMS(set_cases));
	tcase_add_loop_test(tc, test_greeted, 0,
	    sizeof(greetings) / sizeof(greetings[0]));
	tcase_add_test(tc, test_set_derived);
	tcase_add_test(tc, test_oversize);
	tcase_add_test(tc, test_describe_limits);
	tcase_add_loop_test(tc, test_ids, 0, (int)N_ELEMS(id_cases));
	suite_add_tcase(s, tc);

	tcase_add_test(tu, test_postfix_session);
	tcase_add_test(tu, test_sendmail_mail_after_starttls);
	tcase_add_test(tu, test_tls_replaced);
	tcase_add_test(tu, test_connect_replaced);
	tcase_add_test(tu, test_daemon_addr_fallback);
	tcase_add_test(tu, test_no_realloc);
	tcase_add_test(tu, test_enomem);
	tcase_add_test(tu, test_compact);
	tcase_add_test(tu, test_compact_empty);
	suite_add_tcase(s, tu);

	tcase_add_test_raise_signal(ta, test_bad_id_name, SIGABRT);
	tcase_add_test_raise_signal(ta, test_bad_id_set, SIGABRT);
	tcase_add_test_raise_signal(ta, test_bad_group, SIGABRT);
	tcase_add_test_raise_signal(ta, test_null_lookup, SIGABRT);
	suite_add_tcase(s, ta);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(facts_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
