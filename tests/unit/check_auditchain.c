/*
 * check_auditchain - the chained line has one definition: what the
 * writer makes of every record type (decision, credential-exposure,
 * session, session closed by the stop), with and without a key, through
 * a hasher and through the sink, is what the verifier's parser reads
 * back (round trip); the split hash (fields first, tail later) equals
 * the one-call hash; a copied key hashes as the original; tails that are
 * not exactly the chain's are refused; the one-call hash against the
 * SHA-256 and HMAC-SHA256 test vectors.  Sealing: the key schedule
 * against a known answer (computed independently), the state and the
 * verification key in text, the epoch member read back only where the
 * chain puts it, and a sealed sink across an epoch step read back by the
 * verifier with the verification key (and refused without it, or with
 * another).
 */

#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auditchain.h"
#include "auditseal.h"
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

/* K(3) from K(0) = 32 zero bytes, computed with Python's hmac module. */
#define K3_OF_ZERO \
	"e27d756bbbd397d09869bbf69c586a563d82cecb6b57b0855c870f93569b69cd"

START_TEST(test_seal_schedule)
{
	struct auditseal_state st = { .start = 100, .period = 900 }, back;
	char hex[AUDIT_HASH_HEX + 1], text[AUDITSEAL_STATE_MAX];
	char why[AUDITSEAL_WHY_MAX], vk[AUDITSEAL_VK_MAX];
	int n;

	ck_assert_int_eq(auditseal_format_vk(&st, vk, sizeof(vk)), 64 + 8);
	ck_assert_int_eq(auditseal_advance(&st, 3), 0);
	ck_assert_int_eq(auditchain_hex(st.key, 32, hex), 0);
	ck_assert_str_eq(hex, K3_OF_ZERO);
	ck_assert_int_eq(auditseal_format_vk(&st, vk, sizeof(vk)), -1);
	ck_assert_int_eq(auditseal_epoch_at(&st, 99), 0);
	ck_assert_int_eq(auditseal_epoch_at(&st, 100 + 900 * 7 + 899), 7);
	/* the state, and its head, in text and back */
	(void) memcpy(st.head, K3_OF_ZERO, sizeof(st.head));
	st.has_head = true;
	ck_assert_int_gt(n = auditseal_format_state(&st, text, sizeof(text)), 0);
	ck_assert_int_eq(auditseal_parse_state(text, (size_t)n, &back, why), 0);
	ck_assert_int_eq(back.epoch, 3);
	ck_assert_int_eq(back.period, 900);
	ck_assert_mem_eq(back.key, st.key, 32);
	ck_assert_str_eq(back.head, K3_OF_ZERO);
	ck_assert_int_eq(auditseal_parse_state("tlspolicy-milter-seal-state 1\n"
	    "start 1\nperiod 0\nepoch 0\nkey " K3_OF_ZERO "\n", 100, &back,
	    why), -1);	/* period 0 */
	ck_assert_int_eq(auditseal_parse_state("tlspolicy-milter-seal-state 1\n"
	    "start 1\nperiod 9\nkey " K3_OF_ZERO "\n", 78, &back, why), -1);
	ck_assert_int_eq(auditseal_parse_vk(K3_OF_ZERO "/5/60", &back), 0);
	ck_assert_int_eq(back.start, 5);
	ck_assert_int_eq(back.period, 60);
	ck_assert_int_eq(auditseal_parse_vk(K3_OF_ZERO "/5", &back), -1);
	ck_assert_int_eq(auditseal_parse_vk(K3_OF_ZERO "/5/0", &back), -1);
	ck_assert_int_eq(auditseal_parse_vk("abc/5/60", &back), -1);
}
END_TEST

/* The epoch is read only from a member that ends where "prev" begins. */
static const struct {
	const char	*label;
	const char	*fields;
	long long	 epoch;
	bool		 is_seal;
} epoch_cases[] = {
	{ "none", "{\"v\":2,\"n\":5", -1, false },
	{ "epoch 12", "{\"v\":2,\"epoch\":12", 12, false },
	{ "not last", "{\"v\":2,\"epoch\":12,\"n\":1", -1, false },
	{ "leading zero", "{\"v\":2,\"x\":1,\"epoch\":012", -1, false },
	{ "in a string", "{\"v\":2,\"x\":\"\\\",\\\"epoch\\\":7\"", -1, false },
	{ "seal", "{\"v\":2,\"type\":\"seal\",\"epoch\":0", 0, true },
	{ "seal in a string", "{\"v\":2,\"x\":\",\\\"type\\\":\\\"seal\\\",\","
	    "\"epoch\":1", 1, false },
};

START_TEST(test_epoch_parse)
{
	struct auditchain_tail t;
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), "%s,\"prev\":\"%s\",\"hash\":\"%s\"}",
	    epoch_cases[_i].fields, AUDIT_CHAIN_ANCHOR, AUDIT_CHAIN_ANCHOR);
	ck_assert_int_eq(auditchain_parse(line, (size_t)n, &t), 0);
	ck_assert_msg(t.epoch == epoch_cases[_i].epoch, "%s: epoch %lld",
	    epoch_cases[_i].label, t.epoch);
	ck_assert_msg(t.is_seal == epoch_cases[_i].is_seal, "%s: seal",
	    epoch_cases[_i].label);
}
END_TEST

/* evolve_to_4 - audit_sink_seal's evolve: K(4) from the state in arg. */
static int
evolve_to_4(void *arg, long long *epoch, unsigned char *k)
{
	struct auditseal_state *st = arg;

	ck_assert_int_eq(auditseal_advance(st, 4), 0);
	*epoch = 4;
	(void) memcpy(k, st->key, 32);
	return 0;
}

/* A sealed sink across an epoch step, read back with the verification key. */
START_TEST(test_sealed_sink)
{
	char dir[] = "/tmp/check_auditchain.XXXXXX", path[64], stage[72];
	struct auditseal_state vk = { .start = 0, .period = 60 }, st, other;
	struct audit_sink_sealed out = { 0 };
	struct audit_sink *sink;
	struct auditverify v;
	struct strbuf sb;
	unsigned long line;
	FILE *fp;

	memset(vk.key, 7, sizeof(vk.key));
	st = vk;
	ck_assert_int_eq(auditseal_advance(&st, 3), 0);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void) snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	(void) snprintf(stage, sizeof(stage), "%s.stage", path);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_set_seal(sink, st.epoch, st.key, 32), 0);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	for (int k = 0; k < 2 * N_KIND; k++) {
		if (k == N_KIND)
			ck_assert_int_eq(audit_sink_seal(sink, "epoch-end", true,
			    evolve_to_4, &st, &out), 0);
		strbuf_reset(&sb);
		open_record((enum kind)(k % N_KIND), &sb);
		ck_assert_int_eq(audit_sink_write_chained(sink, &sb), 0);
	}
	ck_assert_int_eq(out.epoch, 3);
	ck_assert_int_eq(out.new_epoch, 4);
	ck_assert_uint_eq(out.n_records, N_KIND);
	ck_assert_int_eq(audit_sink_seal(sink, "stop", true, NULL, NULL,
	    &out), 0);
	audit_sink_close(&sink);
	strbuf_free(&sb);
	auditverify_init(&v, NULL, 0);
	auditverify_set_vk(&v, &vk);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	ck_assert_msg(auditverify_file(&v, fp, &line) == 0, "%lu: %s", line,
	    v.why);
	ck_assert_uint_eq(v.n_records, 2 * N_KIND + 2);
	ck_assert_uint_eq(v.n_seals, 2);
	ck_assert_int_eq(v.epoch, 4);
	ck_assert_str_eq(v.head, out.hash);
	auditverify_done(&v);
	/* without the verification key, and with another one */
	rewind(fp);
	auditverify_init(&v, NULL, 0);
	ck_assert_int_eq(auditverify_file(&v, fp, &line), -1);
	ck_assert_uint_eq(line, 1);
	ck_assert_ptr_nonnull(strstr(v.why, "verification key"));
	other = vk;
	other.key[0] ^= 1;
	rewind(fp);
	auditverify_init(&v, NULL, 0);
	auditverify_set_vk(&v, &other);
	ck_assert_int_eq(auditverify_file(&v, fp, &line), -1);
	ck_assert_msg(strstr(v.why, "epoch 3: hash mismatch") != NULL, "%s",
	    v.why);
	auditverify_done(&v);
	(void) fclose(fp);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(stage), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* RFC 4231 test cases 2 and 6 (HMAC-SHA256) and FIPS 180-2 "abc". */
static const struct {
	const char	*label;
	const char	*key;
	size_t		 keylen;
	const char	*data;
	const char	*hex;
} vectors[] = {
	{ "SHA-256 abc", "", 0, "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "RFC 4231 case 2", "Jefe", 4, "what do ya want for nothing?",
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "RFC 4231 case 6 (131-byte key)", NULL, 131,
	  "Test Using Larger Than Block-Size Key - Hash Key First",
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
};

START_TEST(test_hash_vectors)
{
	unsigned char long_key[131];
	char hex[AUDIT_HASH_HEX + 1];
	const unsigned char *k = (const unsigned char *)vectors[_i].key;

	if (k == NULL) {
		(void) memset(long_key, 0xaa, sizeof(long_key));
		k = long_key;
	}
	ck_assert_int_eq(auditchain_hash(k, vectors[_i].keylen,
	    vectors[_i].data, strlen(vectors[_i].data), hex), 0);
	ck_assert_msg(strcmp(hex, vectors[_i].hex) == 0, "%s: %s",
	    vectors[_i].label, hex);
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
	tcase_add_test(tc, test_seal_schedule);
	tcase_add_loop_test(tc, test_epoch_parse, 0,
	    sizeof(epoch_cases) / sizeof(epoch_cases[0]));
	tcase_add_test(tc, test_sealed_sink);
	tcase_add_loop_test(tc, test_hash_vectors, 0,
	    sizeof(vectors) / sizeof(vectors[0]));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
