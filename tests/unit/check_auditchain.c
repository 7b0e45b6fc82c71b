/*
 * check_auditchain - the chained line has one definition: what the
 * writer makes of every record type (decision, credential-exposure,
 * session, session closed by the stop), with and without a key, through
 * a hasher and through the sink, is what the verifier's parser reads
 * back (round trip); the split hash (fields first, tail later) equals
 * the one-call hash; a copied key hashes as the original; tails that are
 * not exactly the chain's are refused.
 */

#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auditchain.h"
#include "auditsink.h"
#include "auditverify.h"
#include "facts.h"
#include "policy.h"
#include "strbuf.h"

static const unsigned char key[] = "round trip key";

enum kind { KIND_DECISION, KIND_EXPOSURE, KIND_SESSION, KIND_SHUTDOWN, N_KIND };

static const char *const kind_type[N_KIND] = {
	"\"type\":\"decision\"", "\"type\":\"credential-exposure\"",
	"\"type\":\"session\"", "\"closed_by\":\"shutdown\"",
};

/* open_record - an open record of kind k, with hostile network values. */
static void
open_record(enum kind k, struct strbuf *sb)
{
	struct audit_record r = { 0 };
	struct audit_session as = { 0 };
	struct policy_rules rules;
	struct policy_verdict v;
	struct facts f;

	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_CLIENT_ADDR, "192.0.2.10"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "587"), 0);
	/* a user name that tries to close the record and forge a tail */
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_AUTHEN,
	    "x\",\"prev\":\"00\",\"hash\":\"11\"}\n\xff"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_AUTH_TYPE, "PLAIN"), 0);
	if (k != KIND_EXPOSURE) {
		ck_assert_int_eq(facts_set(&f, FACT_TLS_VERSION, "TLSv1.3"), 0);
		ck_assert_int_eq(facts_set(&f, FACT_CIPHER,
		    "TLS_AES_256_GCM_SHA384"), 0);
	}
	if (k == KIND_SESSION || k == KIND_SHUTDOWN) {
		as.time.tv_sec = 1795857058;
		as.started.tv_sec = 1795857050;
		as.session_id = "S.1";
		as.listener = "submission";
		as.facts = &f;
		as.n_helo = 2;
		as.n_mail = 1;
		as.is_shutdown = k == KIND_SHUTDOWN;
		ck_assert_int_eq(audit_format_session_open(&as, sb), 0);
	} else {
		policy_rules_init(&rules);
		rules.require_tls = true;
		policy_decide(&rules, &f, &v);
		policy_rules_free(&rules);
		ck_assert_int_eq(v.is_exposure, k == KIND_EXPOSURE);
		r.time.tv_sec = 1795857058;
		r.session_id = "S.1";
		r.listener = "submission";
		r.facts = &f;
		r.verdict = &v;
		r.action = POLICY_ACTION_REJECT;
		ck_assert_int_eq(audit_format_json_open(&r, sb), 0);
	}
	facts_clear(&f);
}

/* check_line - sb holds a closed line: parse it, its members, its hash. */
static void
check_line(const struct strbuf *sb, const char *prev, const char *hash,
    const unsigned char *k, size_t klen, enum kind kind)
{
	struct auditchain_tail t;
	char again[AUDIT_HASH_HEX + 1];
	size_t n = sb->len - 1;

	ck_assert_int_eq(sb->data[n], '\n');
	ck_assert_ptr_null(memchr(sb->data, '\n', n));
	ck_assert_int_eq(auditchain_parse(sb->data, n, &t), 0);
	ck_assert(t.has_open);
	ck_assert(memcmp(t.prev, prev, AUDIT_HASH_HEX) == 0);
	ck_assert(memcmp(t.hash, hash, AUDIT_HASH_HEX) == 0);
	ck_assert(auditverify_is_json(sb->data, n));
	ck_assert_ptr_nonnull(memmem(sb->data, n, kind_type[kind],
	    strlen(kind_type[kind])));
	/* M: the line without ,"hash":"H" and the newline */
	ck_assert_int_eq(auditchain_line_hash(k, klen, sb->data, &t, again), 0);
	ck_assert_str_eq(again, hash);
	{
		char *m = malloc(t.hashed + 1);

		ck_assert_ptr_nonnull(m);
		memcpy(m, sb->data, t.hashed);
		m[t.hashed] = '}';
		ck_assert_int_eq(auditchain_hash(k, klen, m, t.hashed + 1,
		    again), 0);
		free(m);
	}
	ck_assert_str_eq(again, hash);
}

/* Every record type through a hasher: writer and parser agree. */
START_TEST(test_round_trip)
{
	const size_t klen = _i == 0 ? 0 : sizeof(key) - 1;
	struct auditchain_hasher *h = auditchain_hasher_new();
	struct auditverify v;
	char prev[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	char hash[AUDIT_HASH_HEX + 1];
	struct strbuf sb;

	ck_assert_ptr_nonnull(h);
	ck_assert_int_eq(auditchain_hasher_set_key(h, key, klen), 0);
	auditverify_init(&v, klen > 0 ? key : NULL, klen);
	auditverify_set_anchor(&v, AUDIT_CHAIN_ANCHOR);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	for (int k = 0; k < N_KIND; k++) {
		strbuf_reset(&sb);
		open_record((enum kind)k, &sb);
		ck_assert_int_eq(auditchain_begin(h, sb.data, sb.len), 0);
		ck_assert_int_eq(auditchain_close(h, &sb, prev, hash), 0);
		check_line(&sb, prev, hash, klen > 0 ? key : NULL, klen,
		    (enum kind)k);
		ck_assert_msg(auditverify_line(&v, sb.data, sb.len - 1, true) ==
		    0, "%s", v.why);
		memcpy(prev, hash, sizeof(prev));
	}
	ck_assert_uint_eq(v.n_records, N_KIND);
	ck_assert_str_eq(v.head, prev);
	strbuf_free(&sb);
	auditchain_hasher_free(&h);
	ck_assert_ptr_null(h);
}
END_TEST

/* Every record type through the sink, read back by the verifier. */
START_TEST(test_sink_round_trip)
{
	char dir[] = "/tmp/check_auditchain.XXXXXX", path[64], stage[72];
	char head[AUDIT_HASH_HEX + 1];
	struct audit_sink *sink;
	struct auditverify v;
	struct strbuf sb;
	unsigned long line;
	FILE *fp;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void) snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	(void) snprintf(stage, sizeof(stage), "%s.stage", path);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_set_key(sink, key, sizeof(key) - 1), 0);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	for (int k = 0; k < N_KIND; k++) {
		strbuf_reset(&sb);
		open_record((enum kind)k, &sb);
		ck_assert_int_eq(k % 2 == 0 ? audit_sink_write_chained(sink,
		    &sb) : audit_sink_queue_chained(sink, &sb), 0);
	}
	audit_sink_last_hash(sink, head);
	audit_sink_close(&sink);
	strbuf_free(&sb);
	auditverify_init(&v, key, sizeof(key) - 1);
	auditverify_set_anchor(&v, AUDIT_CHAIN_ANCHOR);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	ck_assert_msg(auditverify_file(&v, fp, &line) == 0, "%lu: %s", line,
	    v.why);
	(void) fclose(fp);
	ck_assert_uint_eq(v.n_records, N_KIND);
	ck_assert_str_eq(v.head, head);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(stage), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* The split hash, a copied key, and a key set back to none. */
START_TEST(test_hasher)
{
	static const char text[] = "{\"v\":2,\"a\":\"b\",\"prev\":\"x\"}";
	struct auditchain_hasher *a = auditchain_hasher_new(),
	    *b = auditchain_hasher_new();
	char one[AUDIT_HASH_HEX + 1], two[AUDIT_HASH_HEX + 1];
	const size_t n = sizeof(text) - 1;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	for (int round = 0; round < 2; round++) {
		const size_t klen = round == 0 ? 0 : sizeof(key) - 1;

		ck_assert_int_eq(auditchain_hasher_set_key(a, key, klen), 0);
		ck_assert_int_eq(auditchain_hasher_copy_key(b, a), 0);
		ck_assert_int_eq(auditchain_hash(key, klen, text, n, one), 0);
		for (size_t cut = 0; cut <= n; cut += 7) {
			ck_assert_int_eq(auditchain_begin(b, text, cut), 0);
			ck_assert_int_eq(auditchain_finish(b, text + cut,
			    n - cut, two), 0);
			ck_assert_str_eq(one, two);
		}
	}
	/* a key longer than allowed */
	ck_assert_int_eq(auditchain_hasher_set_key(a, key, AUDIT_KEY_MAX + 1),
	    -1);
	auditchain_hasher_free(&a);
	auditchain_hasher_free(&b);
	auditchain_hasher_free(&a);	/* NULL is fine */
}
END_TEST

/*
 * Lines that are not a chained line: no {"v":2, at the start (the tail
 * parses, has_open is false), or a tail not exactly
 * ,"prev":"<hex>","hash":"<hex>"}.
 */
#define ZEROS_63 \
	"000000000000000000000000000000000000000000000000000000000000000"
START_TEST(test_parse_refuses)
{
	static const struct {
		const char *head, *prev, *mid, *hash, *end;
	} bad[] = {
		{ "", "", "", "", "" },
		{ "{\"v\":2}", "", "", "", "" },
		{ "{\"v\":1,\"a\":1,\"prev\":\"", AUDIT_CHAIN_ANCHOR,
		    "\",\"hash\":\"", AUDIT_CHAIN_ANCHOR, "\"}" },
		{ "{\"v\":2,\"a\":1,\"hash\":\"", AUDIT_CHAIN_ANCHOR,
		    "\",\"prev\":\"", AUDIT_CHAIN_ANCHOR, "\"}" },
		{ "{\"v\":2,\"a\":1,\"prev\":\"", AUDIT_CHAIN_ANCHOR,
		    "\",\"hash\":\"", AUDIT_CHAIN_ANCHOR, "\" }" },
		{ "{\"v\":2,\"a\":1,\"prev\":\"", AUDIT_CHAIN_ANCHOR,
		    "\",\"hash\":\"", AUDIT_CHAIN_ANCHOR, "\"}x" },
		{ "{\"v\":2,\"a\":1,\"prev\":\"", AUDIT_CHAIN_ANCHOR,
		    "\",\"hash\":\"", AUDIT_CHAIN_ANCHOR "0", "\"}" },
		{ "{\"v\":2,\"a\":1,\"prev\":\"", "A" ZEROS_63,
		    "\",\"hash\":\"", AUDIT_CHAIN_ANCHOR, "\"}" },
		{ "{\"v\":2,\"a\":1,\"prev\":\"", AUDIT_CHAIN_ANCHOR,
		    "\",\"hash\":\"", "g" ZEROS_63, "\"}" },
		{ " {\"v\":2,\"a\":1,\"prev\":\"", AUDIT_CHAIN_ANCHOR,
		    "\",\"hash\":\"", AUDIT_CHAIN_ANCHOR, "\"}" },
		{ "{\"v\":2,\"a\":1,\"prev\":\"", AUDIT_CHAIN_ANCHOR,
		    "\",\"hash\":\"", AUDIT_CHAIN_ANCHOR, "\"}" },	/* good */
	};
	const size_t n_bad = sizeof(bad) / sizeof(bad[0]);
	struct auditchain_tail t;
	char line[512];
	int n;

	for (size_t i = 0; i < n_bad; i++) {
		n = snprintf(line, sizeof(line), "%s%s%s%s%s", bad[i].head,
		    bad[i].prev, bad[i].mid, bad[i].hash, bad[i].end);
		t.has_open = false;
		ck_assert_msg((auditchain_parse(line, (size_t)n, &t) == 0 &&
		    t.has_open) == (i + 1 == n_bad), "%s", line);
	}
	ck_assert_uint_eq(t.hashed, (size_t)n - AUDITCHAIN_HASH_LEN - 1);
	ck_assert_ptr_eq(t.prev, line + n - AUDITCHAIN_HASH_LEN - 2 -
	    AUDIT_HASH_HEX);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("auditchain");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_round_trip, 0, 2);
	tcase_add_test(tc, test_sink_round_trip);
	tcase_add_test(tc, test_hasher);
	tcase_add_test(tc, test_parse_refuses);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
