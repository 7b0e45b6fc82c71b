/*
 * check_policy - the policy as a truth table.
 *
 * Every rule setting x plaintext/TLS x with/without AUTH x TLS version x
 * trusted/untrusted client is decided by policy_decide() and compared with
 * an oracle written independently below; then a table of key rows checks
 * exact replies, and policy_parse_reply() is checked on good and bad input.
 */

#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "netaddr.h"
#include "policy.h"
#include "tlsinfo.h"

static const char *const versions[] = { NULL, "TLSv9", "SSLv3", "TLSv1",
    "TLSv1.1", "TLSv1.2", "TLSv1.3" };
#define N_VERSIONS (sizeof(versions) / sizeof(versions[0]))

/* make_facts - a session: version NULL = plaintext. */
static void
make_facts(struct facts *f, const char *version, bool auth, const char *client)
{
	facts_init(f);
	ck_assert_int_eq(facts_set(f, FACT_CLIENT_ADDR, client), 0);
	if (version != NULL) {
		ck_assert_int_eq(facts_set(f, FACT_TLS_VERSION, version), 0);
		ck_assert_int_eq(facts_set(f, FACT_CIPHER, "X"), 0);
	}
	if (auth) {
		ck_assert_int_eq(facts_set(f, FACT_AUTH_TYPE, "PLAIN"), 0);
		ck_assert_int_eq(facts_set(f, FACT_AUTH_AUTHEN, "alice"), 0);
	}
}

/* add_trusted - 192.0.2.0/24 and 2001:db8::/32. */
static void
add_trusted(struct policy_rules *r)
{
	const char *blocks[] = { "192.0.2.0/24", "2001:db8::/32" };
	struct netaddr_block b;
	const char *why;

	for (size_t i = 0; i < 2; i++) {
		ck_assert_int_eq(netaddr_parse_block(blocks[i], &b, &why), 0);
		ck_assert_int_eq(netaddr_list_add(&r->trusted, &b), 0);
	}
}

/* oracle - the documented rule order, written out plainly. */
static enum policy_rule
oracle(bool req_tls, bool req_auth, bool auth_tls, int min, int vi, bool auth,
    bool trusted)
{
	bool tls = versions[vi] != NULL;
	/* index 1 is the unknown version; 2.. are SSLv3 .. TLSv1.3 */
	int rank = vi >= 2 ? vi : -1;

	if (trusted)
		return POLICY_RULE_NONE;
	if (auth_tls && auth && !tls)
		return POLICY_RULE_AUTH_REQUIRES_TLS;
	if (req_tls && !tls)
		return POLICY_RULE_REQUIRE_TLS;
	if (min > 0 && tls && rank < min)
		return POLICY_RULE_MIN_TLS_VERSION;
	if (req_auth && !auth)
		return POLICY_RULE_REQUIRE_AUTH;
	return POLICY_RULE_NONE;
}

START_TEST(test_truth_table)
{
	const char *clients[] = { "198.51.100.7", "192.0.2.9", "2001:db8::1",
	    "2001:db9::1" };
	const bool client_trusted[] = { false, true, true, false };
	/* min index into versions: 0 = none, 4 = TLSv1.1 ... 6 = TLSv1.3 */
	const int mins[] = { 0, 3, 4, 5, 6 };
	unsigned n = 0;

	for (int bits = 0; bits < 8; bits++)
	for (size_t m = 0; m < 5; m++)
	for (size_t vi = 0; vi < N_VERSIONS; vi++)
	for (int auth = 0; auth < 2; auth++)
	for (size_t c = 0; c < 4; c++) {
		struct policy_rules r;
		struct policy_verdict v;
		struct facts f;
		enum policy_rule want;

		policy_rules_init(&r);
		r.require_tls = bits & 1;
		r.require_auth = (bits >> 1) & 1;
		r.auth_requires_tls = (bits >> 2) & 1;
		r.min_tls_version = mins[m] == 0 ? TLS_VERSION_NONE :
		    tlsinfo_parse_version(versions[mins[m]]);
		add_trusted(&r);
		make_facts(&f, versions[vi], auth, clients[c]);
		policy_decide(&r, &f, &v);
		want = oracle(r.require_tls, r.require_auth,
		    r.auth_requires_tls, mins[m], (int)vi, auth,
		    client_trusted[c]);
		ck_assert_msg(v.rule == want, "bits %d min %d version %s auth %d"
		    " client %s: rule %s, expected %s", bits, mins[m],
		    versions[vi] ? versions[vi] : "none", auth, clients[c],
		    policy_rule_name(v.rule), policy_rule_name(want));
		ck_assert_int_eq(v.outcome, want == POLICY_RULE_NONE ?
		    POLICY_OUTCOME_ACCEPT : POLICY_OUTCOME_REJECT);
		ck_assert_int_eq(v.is_trusted, client_trusted[c]);
		ck_assert_int_eq(v.is_exposure, auth && versions[vi] == NULL);
		ck_assert_int_eq(v.reply.code == 0, want == POLICY_RULE_NONE);
		facts_clear(&f);
		policy_rules_free(&r);
		n++;
	}
	ck_assert_uint_eq(n, 8 * 5 * N_VERSIONS * 2 * 4);
}
END_TEST

struct row {
	const char		*label;
	bool			 req_tls, req_auth;
	const char		*min;		/* NULL: none */
	enum policy_action	 action;
	const char		*version;	/* NULL: plaintext */
	bool			 auth;
	enum policy_rule	 rule;
	enum policy_outcome	 outcome;
	const char		*reply;		/* "530 5.7.0 text" or NULL */
};

static const struct row rows[] = {
	{ "submission plaintext no AUTH", true, true, "TLSv1.2",
	    POLICY_ACTION_REJECT, NULL, false, POLICY_RULE_REQUIRE_TLS,
	    POLICY_OUTCOME_REJECT, "530 5.7.0 Must issue a STARTTLS command first" },
	{ "submission plaintext AUTH", true, true, "TLSv1.2",
	    POLICY_ACTION_REJECT, NULL, true, POLICY_RULE_AUTH_REQUIRES_TLS,
	    POLICY_OUTCOME_REJECT,
	    "538 5.7.11 Encryption required for requested authentication mechanism" },
	{ "submission TLS no AUTH", true, true, "TLSv1.2", POLICY_ACTION_REJECT,
	    "TLSv1.3", false, POLICY_RULE_REQUIRE_AUTH, POLICY_OUTCOME_REJECT,
	    "530 5.7.0 Authentication required" },
	{ "submission TLS AUTH", true, true, "TLSv1.2", POLICY_ACTION_REJECT,
	    "TLSv1.2", true, POLICY_RULE_NONE, POLICY_OUTCOME_ACCEPT, NULL },
	{ "TLSv1.1 below TLSv1.2", true, true, "TLSv1.2", POLICY_ACTION_REJECT,
	    "TLSv1.1", true, POLICY_RULE_MIN_TLS_VERSION, POLICY_OUTCOME_REJECT,
	    "530 5.7.0 TLSv1.1 is below the required TLSv1.2" },
	{ "unknown version below TLSv1.2", false, false, "TLSv1.2",
	    POLICY_ACTION_REJECT, "TLSv9", false, POLICY_RULE_MIN_TLS_VERSION,
	    POLICY_OUTCOME_REJECT,
	    "530 5.7.0 unknown TLS version is below the required TLSv1.2" },
	{ "min version does not judge plaintext", false, false, "TLSv1.2",
	    POLICY_ACTION_REJECT, NULL, false, POLICY_RULE_NONE,
	    POLICY_OUTCOME_ACCEPT, NULL },
	{ "MX plaintext no AUTH", false, false, NULL, POLICY_ACTION_REJECT,
	    NULL, false, POLICY_RULE_NONE, POLICY_OUTCOME_ACCEPT, NULL },
	{ "MX plaintext AUTH", false, false, NULL, POLICY_ACTION_REJECT, NULL,
	    true, POLICY_RULE_AUTH_REQUIRES_TLS, POLICY_OUTCOME_REJECT,
	    "538 5.7.11 Encryption required for requested authentication mechanism" },
	{ "report mode", true, true, NULL, POLICY_ACTION_REPORT, NULL, false,
	    POLICY_RULE_REQUIRE_TLS, POLICY_OUTCOME_WOULD_REJECT,
	    "530 5.7.0 Must issue a STARTTLS command first" },
	{ "tempfail require-tls", true, false, NULL, POLICY_ACTION_TEMPFAIL,
	    NULL, false, POLICY_RULE_REQUIRE_TLS, POLICY_OUTCOME_TEMPFAIL,
	    "451 4.7.0 Must issue a STARTTLS command first" },
	{ "tempfail exposure", true, false, NULL, POLICY_ACTION_TEMPFAIL,
	    NULL, true, POLICY_RULE_AUTH_REQUIRES_TLS, POLICY_OUTCOME_TEMPFAIL,
	    "451 4.7.11 Encryption required for requested authentication mechanism" },
};

START_TEST(test_rows)
{
	const struct row *t = &rows[_i];
	struct policy_rules r;
	struct policy_verdict v;
	struct facts f;
	char got[512];

	policy_rules_init(&r);
	r.require_tls = t->req_tls;
	r.require_auth = t->req_auth;
	r.min_tls_version = t->min != NULL ? tlsinfo_parse_version(t->min) :
	    TLS_VERSION_NONE;
	r.action = t->action;
	make_facts(&f, t->version, t->auth, "198.51.100.7");
	policy_decide(&r, &f, &v);
	ck_assert_msg(v.rule == t->rule, "%s: rule %s", t->label,
	    policy_rule_name(v.rule));
	ck_assert_msg(v.outcome == t->outcome, "%s: outcome %s", t->label,
	    policy_outcome_name(v.outcome));
	(void) snprintf(got, sizeof(got), "%u %s %s", v.reply.code,
	    v.reply.xcode, v.reply.text);
	if (t->reply != NULL)
		ck_assert_str_eq(got, t->reply);
	else
		ck_assert_uint_eq(v.reply.code, 0);
	ck_assert_msg(v.reason[0] != '\0', "%s: no reason", t->label);
	facts_clear(&f);
	policy_rules_free(&r);
}
END_TEST

struct crow {
	const char		*label;
	const char		*cipher, *bits;
	unsigned		 min_bits;
	bool			 fs, aead;
	const char		*forbid;	/* class or pattern */
	enum policy_rule	 rule;
	const char		*text;		/* reply text, or NULL */
};

static const struct crow crows[] = {
	{ "FS cipher passes FS", "ECDHE-RSA-AES256-GCM-SHA384", "256", 0, true,
	    true, NULL, POLICY_RULE_NONE, NULL },
	{ "RSA key exchange fails FS", "AES128-SHA", "128", 0, true, false,
	    NULL, POLICY_RULE_REQUIRE_FORWARD_SECRECY,
	    "Cipher AES128-SHA does not provide forward secrecy" },
	{ "IANA name is understood", "TLS_RSA_WITH_AES_128_CBC_SHA", "128", 0,
	    true, false, NULL, POLICY_RULE_REQUIRE_FORWARD_SECRECY,
	    "Cipher AES128-SHA does not provide forward secrecy" },
	{ "CBC fails AEAD", "ECDHE-RSA-AES128-SHA256", "128", 0, true, true,
	    NULL, POLICY_RULE_REQUIRE_AEAD,
	    "Cipher ECDHE-RSA-AES128-SHA256 is not an AEAD cipher" },
	{ "TLS 1.3 passes all", "TLS_AES_128_GCM_SHA256", "128", 128, true,
	    true, "CBC", POLICY_RULE_NONE, NULL },
	{ "bits below minimum", "TLS_AES_128_GCM_SHA256", "128", 256, false,
	    false, NULL, POLICY_RULE_MIN_CIPHER_BITS,
	    "Cipher strength of 128 bits is below the required 256" },
	{ "bits from OpenSSL when the MTA sent none", "AES256-GCM-SHA384", NULL,
	    256, false, false, NULL, POLICY_RULE_NONE, NULL },
	{ "forbidden class", "DHE-RSA-AES128-SHA256", "128", 0, false, false,
	    "CBC", POLICY_RULE_FORBID_CIPHERS,
	    "Cipher DHE-RSA-AES128-SHA256 is not allowed (CBC)" },
	{ "forbidden class ANON", "ADH-AES128-SHA", "128", 0, false, false,
	    "ANON", POLICY_RULE_FORBID_CIPHERS,
	    "Cipher ADH-AES128-SHA is not allowed (ANON)" },
	{ "forbidden name pattern", "ECDHE-RSA-CHACHA20-POLY1305", "256", 0,
	    false, false, "*chacha*", POLICY_RULE_FORBID_CIPHERS,
	    "Cipher ECDHE-RSA-CHACHA20-POLY1305 is not allowed (name)" },
	{ "unknown cipher fails closed, no echo", "RC4-EVIL\"x", "128", 0,
	    true, false, NULL, POLICY_RULE_REQUIRE_FORWARD_SECRECY,
	    "Cipher (unknown) does not provide forward secrecy" },
};

START_TEST(test_cipher_rules)
{
	const struct crow *t = &crows[_i];
	struct policy_rules r;
	struct policy_verdict v;
	struct facts f;
	unsigned bit;

	policy_rules_init(&r);
	r.min_cipher_bits = t->min_bits;
	r.require_forward_secrecy = t->fs;
	r.require_aead = t->aead;
	if (t->forbid != NULL) {
		if (tlsinfo_cipher_class_parse(t->forbid, &bit) == 0)
			r.forbid_classes = bit;
		else
			ck_assert_int_eq(policy_list_add(&r.forbid_names, t->forbid), 0);
	}
	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_TLS_VERSION, "TLSv1.2"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_CIPHER, t->cipher), 0);
	ck_assert_int_eq(facts_set(&f, FACT_CIPHER_BITS, t->bits), 0);
	policy_decide(&r, &f, &v);
	ck_assert_msg(v.rule == t->rule, "%s: rule %s", t->label,
	    policy_rule_name(v.rule));
	if (t->text != NULL)
		ck_assert_str_eq(v.reply.text, t->text);
	facts_clear(&f);
	policy_rules_free(&r);
}
END_TEST

static const struct {
	const char	*label, *verify, *subject, *issuer;
	const char	*want_issuer, *want_subject;
	bool		 fails;
} certs[] = {
	{ "Postfix: verified cert (subject sent)", NULL, "alice", "Lab CA",
	    NULL, NULL, false },
	{ "Postfix: no cert", NULL, NULL, NULL, NULL, NULL, true },
	{ "Sendmail: verify OK", "OK", "/CN=alice", "/CN=Lab+20CA", NULL,
	    NULL, false },
	{ "Sendmail: verify NO", "NO", "", "", NULL, NULL, true },
	{ "Sendmail: verify FAIL with subject", "FAIL", "/CN=x", "/CN=y", NULL,
	    NULL, true },
	{ "issuer pattern matches (xtext decoded)", "OK", "/CN=alice",
	    "/O=Example+20Lab/CN=Lab+20CA", "*Lab CA", NULL, false },
	{ "issuer pattern does not match", NULL, "alice", "Other CA",
	    "Lab CA", NULL, true },
	{ "subject pattern", NULL, "alice@example.test", "Lab CA", NULL,
	    "*@EXAMPLE.TEST", false },
	{ "subject pattern fails", NULL, "mallory@evil.test", "Lab CA", NULL,
	    "*@example.test", true },
};

START_TEST(test_client_cert)
{
	struct policy_rules r;
	struct policy_verdict v;
	struct facts f;

	policy_rules_init(&r);
	r.require_client_cert = true;
	r.client_cert_issuer = certs[_i].want_issuer ?
	    strdup(certs[_i].want_issuer) : NULL;
	r.client_cert_subject = certs[_i].want_subject ?
	    strdup(certs[_i].want_subject) : NULL;
	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_TLS_VERSION, "TLSv1.3"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_VERIFY, certs[_i].verify), 0);
	ck_assert_int_eq(facts_set(&f, FACT_CERT_SUBJECT, certs[_i].subject), 0);
	ck_assert_int_eq(facts_set(&f, FACT_CERT_ISSUER, certs[_i].issuer), 0);
	policy_decide(&r, &f, &v);
	ck_assert_msg((v.rule == POLICY_RULE_REQUIRE_CLIENT_CERT) ==
	    certs[_i].fails, "%s: rule %s", certs[_i].label,
	    policy_rule_name(v.rule));
	if (certs[_i].fails)
		ck_assert_str_eq(v.reply.text,
		    "A trusted client certificate is required");
	facts_clear(&f);
	policy_rules_free(&r);
}
END_TEST

START_TEST(test_exempt_users)
{
	struct policy_rules r;
	struct policy_verdict v;
	struct facts f;

	policy_rules_init(&r);
	r.require_tls = true;
	ck_assert_int_eq(policy_list_add(&r.exempt_users, "scanner@example.org"), 0);
	ck_assert_int_eq(policy_list_add(&r.exempt_users, "@partner.example"), 0);
	make_facts(&f, "TLSv1.3", false, "198.51.100.7");
	facts_clear(&f);
	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_TYPE, "PLAIN"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_AUTHEN, "SCANNER@example.org"), 0);
	policy_decide(&r, &f, &v);
	ck_assert_int_eq(v.outcome, POLICY_OUTCOME_ACCEPT);
	ck_assert(v.is_trusted && v.is_exposure);
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_AUTHEN, "bob@partner.example"), 0);
	policy_decide(&r, &f, &v);
	ck_assert(v.is_trusted);
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_AUTHEN, "bob@notpartner.example"), 0);
	policy_decide(&r, &f, &v);
	ck_assert(!v.is_trusted);
	ck_assert_int_eq(v.outcome, POLICY_OUTCOME_REJECT);
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_AUTHEN, "partner.example"), 0);
	policy_decide(&r, &f, &v);
	ck_assert(!v.is_trusted);
	facts_clear(&f);
	policy_rules_free(&r);
}
END_TEST

START_TEST(test_overrides)
{
	struct policy_rules r;
	struct policy_verdict v;
	struct facts f;
	const char *why;

	policy_rules_init(&r);
	r.require_tls = true;
	r.action = POLICY_ACTION_REPORT;
	r.rule_action[POLICY_RULE_AUTH_REQUIRES_TLS] = POLICY_ACTION_REJECT;
	ck_assert_int_eq(policy_parse_reply("550 5.7.1 Use port 465 with TLS",
	    &r.reply[POLICY_RULE_REQUIRE_TLS], &why), 0);
	r.has_reply[POLICY_RULE_REQUIRE_TLS] = true;

	make_facts(&f, NULL, false, "198.51.100.7");
	policy_decide(&r, &f, &v);
	ck_assert_int_eq(v.outcome, POLICY_OUTCOME_WOULD_REJECT);
	ck_assert_uint_eq(v.reply.code, 550);
	ck_assert_str_eq(v.reply.xcode, "5.7.1");
	ck_assert_str_eq(v.reply.text, "Use port 465 with TLS");
	facts_clear(&f);

	make_facts(&f, NULL, true, "198.51.100.7");
	policy_decide(&r, &f, &v);
	ck_assert_int_eq(v.outcome, POLICY_OUTCOME_REJECT);
	ck_assert_int_eq(v.rule, POLICY_RULE_AUTH_REQUIRES_TLS);
	facts_clear(&f);

	/* Sendmail: AUTH seen at the first HELO after STARTTLS */
	make_facts(&f, "TLSv1.3", true, "198.51.100.7");
	f.is_auth_before_tls = true;
	policy_decide(&r, &f, &v);
	ck_assert_int_eq(v.rule, POLICY_RULE_AUTH_REQUIRES_TLS);
	ck_assert(v.is_exposure);
	ck_assert_str_eq(v.reason, "AUTH before STARTTLS");
	facts_clear(&f);
	policy_rules_free(&r);
}
END_TEST

static const struct {
	const char	*in;
	int		 rc;
	const char	*why;	/* substring */
} replies[] = {
	{ "", -1, "expected a 5xx" },
	{ "530", -1, "expected a 5xx" },
	{ "451 4.7.0 Try later", -1, "must be 5xx" },
	{ "250 2.0.0 Ok", -1, "expected a 5xx" },
	{ "53x 5.7.0 Text", -1, "expected a 5xx" },
	{ "530 4.7.0 Text", -1, "enhanced status code" },
	{ "530 5.7 Text", -1, "enhanced status code" },
	{ "530 5.7.1234 Text", -1, "enhanced status code" },
	{ "530 5..0 Text", -1, "enhanced status code" },
	{ "530 5.7.0", -1, "expected text" },
	{ "530 5.7.0 ", -1, "expected text" },
	{ "530 5.7.0 bad\x01text", -1, "printable" },
	{ "530 5.7.0 caf\xc3\xa9", -1, "printable" },
	{ "530 5.7.0 Must use TLS", 0, NULL },
	{ "554 5.7.11 100% encrypted, #1", 0, NULL },
};

START_TEST(test_parse_reply)
{
	struct policy_reply r;
	const char *why = NULL;
	int rc = policy_parse_reply(replies[_i].in, &r, &why);

	ck_assert_msg(rc == replies[_i].rc, "'%s': rc %d", replies[_i].in, rc);
	if (rc == -1)
		ck_assert_msg(why != NULL && strstr(why, replies[_i].why) != NULL,
		    "'%s': why '%s'", replies[_i].in, why ? why : "(null)");
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(policy_rule_name(POLICY_RULE_REQUIRE_TLS), "require-tls");
	ck_assert_str_eq(policy_rule_name(POLICY_RULE_NONE), "none");
	ck_assert_str_eq(policy_action_name(POLICY_ACTION_REPORT), "report");
	ck_assert_str_eq(policy_outcome_name(POLICY_OUTCOME_WOULD_REJECT),
	    "would-reject");
	ck_assert_ptr_null(policy_default_reply(POLICY_RULE_NONE));
	ck_assert_uint_eq(policy_default_reply(POLICY_RULE_REQUIRE_AUTH)->code, 530);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_truth_table);
	tcase_add_loop_test(tc, test_rows, 0, sizeof(rows) / sizeof(rows[0]));
	tcase_add_test(tc, test_overrides);
	tcase_add_loop_test(tc, test_cipher_rules, 0, sizeof(crows) / sizeof(crows[0]));
	tcase_add_loop_test(tc, test_client_cert, 0, sizeof(certs) / sizeof(certs[0]));
	tcase_add_test(tc, test_exempt_users);
	tcase_add_loop_test(tc, test_parse_reply, 0,
	    sizeof(replies) / sizeof(replies[0]));
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
