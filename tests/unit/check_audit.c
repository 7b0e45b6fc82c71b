/*
 * check_audit - decision records: escaping, exact record text in both
 * forms, forging attempts, the record time, and the sink under concurrent
 * writers, rotation and a failed reopen.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "audit.h"
#include "auditsink.h"
#include "auditstage.h"
#include "facts.h"
#include "policy.h"
#include "strbuf.h"

/* The record keys in the documented order (audit.h). */
static const char *const keys[] = {
	"time", "session", "type", "queue_id", "client_addr", "client_port",
	"helo", "listener", "daemon_name", "daemon_port", "daemon_addr", "tls",
	"tls_version", "cipher", "cipher_bits", "cert_subject", "cert_issuer",
	"verify", "auth", "auth_type", "auth_authen", "auth_before_tls",
	"sender", "sender_domain", "rule", "action",
	"outcome", "reply", "mode", "exposure", "trusted", "reason",
	"policy", "mta_version", "facts_problem",
};
#define N_KEYS	(sizeof(keys) / sizeof(keys[0]))

/* The kv line's order: the verdict before every network-supplied value. */
static const char *const kv_keys[] = {
	"time", "session", "type", "rule", "action", "outcome", "reply",
	"mode", "exposure", "trusted", "reason", "queue_id", "client_addr",
	"client_port", "helo", "listener", "daemon_name", "daemon_port",
	"daemon_addr", "tls", "tls_version", "cipher", "cipher_bits",
	"cert_subject", "cert_issuer", "verify", "auth", "auth_type",
	"auth_authen", "auth_before_tls", "sender", "sender_domain", "policy",
	"mta_version", "facts_problem",
};
#define N_KV_KEYS	(sizeof(kv_keys) / sizeof(kv_keys[0]))

/* JSON validator: every line an object, "v" first, known keys in order. */
#define VALIDATE "python3 -c '\n\
import json, sys\n\
order = sys.argv[1].split()\n\
for line in sys.stdin.buffer.read().split(b\"\\n\")[:-1]:\n\
    pairs = json.loads(line.decode(\"utf-8\"), object_pairs_hook=list)\n\
    ks = [k for k, _ in pairs]\n\
    assert ks[0] == \"v\", ks\n\
    idx = [order.index(k) for k in ks[1:]]\n\
    assert idx == sorted(set(idx)), ks\n\
' '%s'"

/* ---------------------------------------------------------------- */
/* escaping */

static const struct {
	const char *label, *in, *kv, *json;
} escapes[] = {
	{ "bare token", "a.b_c:d@e/f+g-h09", "a.b_c:d@e/f+g-h09",
	    "\"a.b_c:d@e/f+g-h09\"" },
	{ "space", "a b", "\"a b\"", "\"a b\"" },
	{ "equals", "k=v", "\"k=v\"", "\"k=v\"" },
	{ "empty", "", "\"\"", "\"\"" },
	{ "quote, backslash", "q\"b\\", "\"q\\\"b\\\\\"", "\"q\\\"b\\\\\"" },
	{ "CR LF tab", "cr\rlf\ntab\t", "\"cr\\rlf\\ntab\\t\"",
	    "\"cr\\rlf\\ntab\\t\"" },
	{ "controls, DEL", "\x01\x1f\x7f", "\"\\x01\\x1f\\x7f\"",
	    "\"\\u0001\\u001f\\u007f\"" },
	{ "UTF-8 2/3/4 bytes", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\"" },
	{ "U+0080 U+0800 U+10000", "\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80",
	    "\"\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80\"",
	    "\"\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80\"" },
	{ "U+D7FF U+E000 U+10FFFF", "\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf",
	    "\"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\"",
	    "\"\xed\x9f\xbf\xee\x80\x80\xf4\x8f\xbf\xbf\"" },
	{ "lone continuation", "\x80", "\"\\x80\"", "\"\\u0080\"" },
	{ "continuation run", "a\xbf\xbf", "\"a\\xbf\\xbf\"",
	    "\"a\\u00bf\\u00bf\"" },
	{ "overlong C0 AF", "\xc0\xaf", "\"\\xc0\\xaf\"",
	    "\"\\u00c0\\u00af\"" },
	{ "overlong C1 BF", "\xc1\xbf", "\"\\xc1\\xbf\"",
	    "\"\\u00c1\\u00bf\"" },
	{ "overlong E0 80 AF", "\xe0\x80\xaf", "\"\\xe0\\x80\\xaf\"",
	    "\"\\u00e0\\u0080\\u00af\"" },
	{ "overlong F0 8F BF BF", "\xf0\x8f\xbf\xbf",
	    "\"\\xf0\\x8f\\xbf\\xbf\"",
	    "\"\\u00f0\\u008f\\u00bf\\u00bf\"" },
	{ "surrogate ED A0 80", "\xed\xa0\x80", "\"\\xed\\xa0\\x80\"",
	    "\"\\u00ed\\u00a0\\u0080\"" },
	{ "surrogate ED BF BF", "\xed\xbf\xbf", "\"\\xed\\xbf\\xbf\"",
	    "\"\\u00ed\\u00bf\\u00bf\"" },
	{ "above U+10FFFF", "\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\"",
	    "\"\\u00f4\\u0090\\u0080\\u0080\"" },
	{ "F5 lead", "\xf5\x80\x80\x80", "\"\\xf5\\x80\\x80\\x80\"",
	    "\"\\u00f5\\u0080\\u0080\\u0080\"" },
	{ "FE FF", "\xfe\xff", "\"\\xfe\\xff\"", "\"\\u00fe\\u00ff\"" },
	{ "truncated 2 at end", "x\xc3", "\"x\\xc3\"", "\"x\\u00c3\"" },
	{ "truncated 3 at end", "end\xe2\x82", "\"end\\xe2\\x82\"",
	    "\"end\\u00e2\\u0082\"" },
	{ "truncated 4 at end", "\xf0\x9f\x94", "\"\\xf0\\x9f\\x94\"",
	    "\"\\u00f0\\u009f\\u0094\"" },
	{ "lead then ASCII", "\xc3" "A", "\"\\xc3A\"", "\"\\u00c3A\"" },
	{ "lead then quote", "\xc3\" x=y", "\"\\xc3\\\" x=y\"",
	    "\"\\u00c3\\\" x=y\"" },
	{ "invalid then valid", "\xff\xc3\xa9", "\"\\xff\xc3\xa9\"",
	    "\"\\u00ff\xc3\xa9\"" },
};

START_TEST(test_escape)
{
	struct strbuf sb;

	strbuf_init(&sb, 1024);
	ck_assert_int_eq(audit_escape_kv(&sb, escapes[_i].in,
	    strlen(escapes[_i].in)), 0);
	ck_assert_msg(strcmp(strbuf_str(&sb), escapes[_i].kv) == 0,
	    "%s: kv %s", escapes[_i].label, strbuf_str(&sb));
	strbuf_reset(&sb);
	ck_assert_int_eq(audit_escape_json(&sb, escapes[_i].in,
	    strlen(escapes[_i].in)), 0);
	ck_assert_msg(strcmp(strbuf_str(&sb), escapes[_i].json) == 0,
	    "%s: json %s", escapes[_i].label, strbuf_str(&sb));
	strbuf_free(&sb);
}
END_TEST

/* Every control byte 0x01..0x1f and DEL, alone and between letters. */
START_TEST(test_escape_controls)
{
	unsigned char c = _i == 0x20 ? 0x7f : (unsigned char)_i;
	char in[4] = { 'a', (char)c, 'b', '\0' }, kv[16], js[16];
	struct strbuf sb;

	if (c == '\n' || c == '\r' || c == '\t') {
		const char *e = c == '\n' ? "n" : c == '\r' ? "r" : "t";

		(void) snprintf(kv, sizeof(kv), "\"a\\%sb\"", e);
		(void) snprintf(js, sizeof(js), "\"a\\%sb\"", e);
	} else {
		(void) snprintf(kv, sizeof(kv), "\"a\\x%02xb\"", c);
		(void) snprintf(js, sizeof(js), "\"a\\u%04xb\"", c);
	}
	strbuf_init(&sb, 64);
	ck_assert_int_eq(audit_escape_kv(&sb, in, 3), 0);
	ck_assert_str_eq(strbuf_str(&sb), kv);
	strbuf_reset(&sb);
	ck_assert_int_eq(audit_escape_json(&sb, in, 3), 0);
	ck_assert_str_eq(strbuf_str(&sb), js);
	strbuf_free(&sb);
}
END_TEST

/* A NUL inside a counted value is escaped, not a terminator. */
START_TEST(test_escape_nul)
{
	struct strbuf sb;

	strbuf_init(&sb, 64);
	ck_assert_int_eq(audit_escape_kv(&sb, "a\0b", 3), 0);
	ck_assert_str_eq(strbuf_str(&sb), "\"a\\x00b\"");
	strbuf_reset(&sb);
	ck_assert_int_eq(audit_escape_json(&sb, "a\0b", 3), 0);
	ck_assert_str_eq(strbuf_str(&sb), "\"a\\u0000b\"");
	strbuf_free(&sb);
	/* the limit is an error, not a silent cut */
	strbuf_init(&sb, 8);
	ck_assert_int_eq(audit_escape_kv(&sb, "\n\n\n\n\n", 5), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	strbuf_free(&sb);
}
END_TEST

/*
 * Near the buffer's limit a value that fits is written exactly (the fast
 * path reserves room for the worst case, 6 bytes out per byte in), one
 * that does not fit is refused; values longer than one escaping chunk
 * (512 bytes) come out the same as short ones.
 */
START_TEST(test_escape_limit)
{
	static const char utf8[] = "caf\xc3\xa9";
	char in[1300], want[2 * 1300 + 3];
	struct strbuf sb;

	strbuf_init(&sb, 12);		/* "abcdefghij" quoted: 12 bytes */
	ck_assert_int_eq(audit_escape_json(&sb, "abcdefghij", 10), 0);
	ck_assert_str_eq(strbuf_str(&sb), "\"abcdefghij\"");
	strbuf_reset(&sb);
	ck_assert_int_eq(audit_escape_json(&sb, utf8, 5), 0);
	ck_assert_str_eq(strbuf_str(&sb), "\"caf\xc3\xa9\"");
	strbuf_reset(&sb);
	errno = 0;
	ck_assert_int_eq(audit_escape_json(&sb, "abcdefghijk", 11), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	strbuf_free(&sb);
	/* a chunk boundary inside a UTF-8 sequence and after an escape */
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = "ab\"c"[i % 4];
	(void) memcpy(in + 511, "\xc3\xa9", 2);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	ck_assert_int_eq(audit_escape_json(&sb, in, sizeof(in)), 0);
	want[0] = '"';
	for (size_t i = 0, n = 1; i < sizeof(in); i++) {
		if (in[i] == '"')
			want[n++] = '\\';
		want[n++] = in[i];
		want[n] = '"';
		want[n + 1] = '\0';
	}
	ck_assert_str_eq(strbuf_str(&sb), want);
	strbuf_free(&sb);
}
END_TEST

/* ---------------------------------------------------------------- */
/* a minimal key=value parser, to prove a line cannot be forged */

/* kv_value - parse one value at *pp into out (unescaped); -1 if bad. */
static int
kv_value(const char **pp, struct strbuf *out)
{
	const char *p = *pp, *bare = "._:@/+-";
	unsigned x;

	if (*p != '"') {
		for (; *p != '\0' && *p != ' '; p++) {
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' &&
			    *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    strchr(bare, *p) != NULL))
				return -1;
			(void) strbuf_putc(out, *p);
		}
		*pp = p;
		return out->len > 0 ? 0 : -1;
	}
	for (p++; *p != '"'; p++) {
		if (*p == '\0' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
		if (*p != '\\') {
			(void) strbuf_putc(out, *p);
			continue;
		}
		switch (*++p) {
		case '"': case '\\': (void) strbuf_putc(out, *p); break;
		case 'n': (void) strbuf_putc(out, '\n'); break;
		case 'r': (void) strbuf_putc(out, '\r'); break;
		case 't': (void) strbuf_putc(out, '\t'); break;
		case 'x':
			if (sscanf(p + 1, "%2x", &x) != 1)
				return -1;
			(void) strbuf_putc(out, (char)x);
			p += 2;
			break;
		default:
			return -1;
		}
	}
	*pp = p + 1;
	return 0;
}

/*
 * kv_parse - split a line into keys (checked against the documented order,
 * no repeats) and values; value of want_key into *got.  Number of pairs, or
 * -1 when the line is not well-formed.
 */
static int
kv_parse(const char *line, const char *want_key, struct strbuf *got)
{
	const char *p = line, *eq;
	size_t next = 0, k;
	int n = 0;
	struct strbuf v;

	strbuf_init(&v, AUDIT_RECORD_MAX);
	while (*p != '\0') {
		if (n > 0 && *p++ != ' ')
			goto bad;
		if ((eq = strchr(p, '=')) == NULL)
			goto bad;
		for (k = next; k < N_KV_KEYS; k++)
			if (strlen(kv_keys[k]) == (size_t)(eq - p) &&
			    strncmp(kv_keys[k], p, (size_t)(eq - p)) == 0)
				break;
		if (k == N_KV_KEYS)
			goto bad;	/* unknown, repeated or out of order */
		next = k + 1;
		p = eq + 1;
		strbuf_reset(&v);
		if (kv_value(&p, &v) == -1)
			goto bad;
		if (got != NULL && strcmp(kv_keys[k], want_key) == 0)
			(void) strbuf_append(got, v.data != NULL ? v.data : "",
			    v.len);
		n++;
	}
	strbuf_free(&v);
	return n;
bad:
	strbuf_free(&v);
	return -1;
}

/* json_valid - the lines in sb are valid JSON records (python3). */
static void
json_valid(const struct strbuf *sb)
{
	char cmd[2048], order[1024] = "";
	FILE *p;

	for (size_t i = 0; i < N_KEYS; i++)
		(void) snprintf(order + strlen(order), sizeof(order) -
		    strlen(order), "%s ", keys[i]);
	(void) snprintf(cmd, sizeof(cmd), VALIDATE, order);
	ck_assert_ptr_nonnull(p = popen(cmd, "w"));
	ck_assert_uint_eq(fwrite(strbuf_str(sb), 1, sb->len, p), sb->len);
	ck_assert_int_eq(pclose(p), 0);
}

/* ---------------------------------------------------------------- */
/* exact records */

struct fixture {
	struct audit_record	r;
	struct facts		f;
	struct policy_verdict	v;
};

/* base - record frame at 2026-11-24T09:10:58.123Z; verdict accept. */
static void
base(struct fixture *x)
{
	memset(x, 0, sizeof(*x));
	facts_init(&x->f);
	x->r.time.tv_sec = 1795511458;
	x->r.time.tv_nsec = 123456789;
	x->r.session_id = "S.1";
	x->r.listener = "submission";
	x->r.facts = &x->f;
	x->r.verdict = &x->v;
	x->r.action = POLICY_ACTION_REJECT;
	x->v.rule = POLICY_RULE_NONE;
	x->v.outcome = POLICY_OUTCOME_ACCEPT;
	(void) snprintf(x->v.reason, sizeof(x->v.reason), "all rules passed");
}

/* set - facts_set of name/value pairs, NULL-terminated. */
static void
set(struct fixture *x, ...)
{
	va_list ap;
	int id;

	va_start(ap, x);
	while ((id = va_arg(ap, int)) != -1)
		ck_assert_int_eq(facts_set(&x->f, (enum fact_id)id,
		    va_arg(ap, const char *)), 0);
	va_end(ap);
}

/* refuse - the verdict of a failed rule. */
static void
refuse(struct fixture *x, enum policy_outcome o, enum policy_rule rule,
    unsigned code, const char *xcode, const char *text)
{
	x->v.outcome = o;
	x->v.rule = rule;
	x->v.reply.code = code;
	(void) snprintf(x->v.reply.xcode, sizeof(x->v.reply.xcode), "%s",
	    xcode);
	(void) snprintf(x->v.reply.text, sizeof(x->v.reply.text), "%s", text);
	(void) snprintf(x->v.reason, sizeof(x->v.reason), "%s", text);
}

/* plaintext - Postfix submission without STARTTLS, refused. */
static void
plaintext(struct fixture *x)
{
	base(x);
	set(x, FACT_CLIENT_ADDR, "192.0.2.10", FACT_CLIENT_PORT, "40000",
	    FACT_DAEMON_NAME, "ORIGINATING", FACT_DAEMON_PORT, "587",
	    FACT_DAEMON_ADDR, "198.51.100.1", FACT_MTA_VERSION,
	    "Postfix 3.7.11", -1);
	refuse(x, POLICY_OUTCOME_REJECT, POLICY_RULE_REQUIRE_TLS, 530,
	    "5.7.0", "Must issue a STARTTLS command first");
	(void) snprintf(x->v.reason, sizeof(x->v.reason), "plaintext session");
}

/* tls_accept - Sendmail MSA, TLS 1.3 with a verified client cert, AUTH. */
static void
tls_accept(struct fixture *x)
{
	base(x);
	set(x, FACT_QUEUE_ID, "4Xyz12AbC", FACT_CLIENT_ADDR, "2001:db8::10",
	    FACT_CLIENT_PORT, "51000", FACT_DAEMON_NAME, "MSA",
	    FACT_DAEMON_PORT, "587", FACT_TLS_VERSION, "TLSv1.3",
	    FACT_CIPHER, "TLS_AES_256_GCM_SHA384", FACT_CIPHER_BITS, "256",
	    FACT_CERT_SUBJECT, "/C=DE/O=Example/CN=client.example.test",
	    FACT_CERT_ISSUER, "/CN=Example CA", FACT_VERIFY, "OK",
	    FACT_AUTH_TYPE, "PLAIN", FACT_AUTH_AUTHEN, "alice@example.test",
	    FACT_MTA_VERSION, "8.17.1.9", -1);
}

/* report - TLS 1.1 in report mode: would reject, lets it through. */
static void
report(struct fixture *x)
{
	base(x);
	set(x, FACT_CLIENT_ADDR, "192.0.2.10", FACT_CLIENT_PORT, "40001",
	    FACT_DAEMON_PORT, "587", FACT_TLS_VERSION, "TLSv1.1",
	    FACT_CIPHER, "ECDHE-RSA-AES128-SHA", FACT_CIPHER_BITS, "128", -1);
	refuse(x, POLICY_OUTCOME_WOULD_REJECT, POLICY_RULE_MIN_TLS_VERSION,
	    530, "5.7.0", "TLSv1.1 is below the required TLSv1.2");
	x->r.is_report_mode = true;
	x->r.action = POLICY_ACTION_REPORT;
}

/* broken - malformed version and bits, oversize subject, tempfail. */
static void
broken(struct fixture *x)
{
	static char big[70001];

	memset(big, 'A', 70000);
	base(x);
	set(x, FACT_DAEMON_PORT, "587", FACT_TLS_VERSION, "TLSv9",
	    FACT_CIPHER, "ECDHE-RSA-AES256-GCM-SHA384", FACT_CIPHER_BITS,
	    "12x", FACT_CERT_SUBJECT, big, -1);
	refuse(x, POLICY_OUTCOME_TEMPFAIL, POLICY_RULE_MIN_TLS_VERSION,
	    451, "4.7.0", "unknown TLS version is below the required TLSv1.2");
	x->r.action = POLICY_ACTION_TEMPFAIL;
}

/* exposure - plaintext AUTH, decided by the real policy_decide(). */
static void
exposure(struct fixture *x)
{
	struct policy_rules rules;

	base(x);
	x->r.time.tv_nsec = 999999999;
	set(x, FACT_CLIENT_ADDR, "192.0.2.10", FACT_CLIENT_PORT, "40000",
	    FACT_DAEMON_PORT, "587", FACT_AUTH_TYPE, "PLAIN",
	    FACT_AUTH_AUTHEN, "alice@example.test", -1);
	policy_rules_init(&rules);
	rules.require_tls = true;
	policy_decide(&rules, &x->f, &x->v);
	policy_rules_free(&rules);
}

#define T	"2026-11-24T09:10:58.123Z"
static const struct {
	const char	*label;
	void		(*make)(struct fixture *);
	const char	*kv, *json;
} records[] = {
	{ "plaintext reject on submission", plaintext,
	    "time=2026-11-24T09:10:58.123Z session=S.1 type=decision"
	    " rule=require-tls action=reject outcome=reject reply=\"530"
	    " 5.7.0 Must issue a STARTTLS command first\" mode=enforce"
	    " exposure=no trusted=no reason=\"plaintext session\""
	    " client_addr=192.0.2.10 client_port=40000"
	    " listener=submission daemon_name=ORIGINATING"
	    " daemon_port=587 daemon_addr=198.51.100.1 tls=no auth=no auth_before_tls=no"
	    " mta_version=\"Postfix 3.7.11\"",
	    "{\"v\":1,\"time\":\"" T "\",\"session\":\"S.1\","
	    "\"type\":\"decision\",\"client_addr\":\"192.0.2.10\","
	    "\"client_port\":\"40000\",\"listener\":\"submission\","
	    "\"daemon_name\":\"ORIGINATING\",\"daemon_port\":\"587\","
	    "\"daemon_addr\":\"198.51.100.1\",\"tls\":false,\"auth\":false,\"auth_before_tls\":false,"
	    "\"rule\":\"require-tls\",\"action\":\"reject\","
	    "\"outcome\":\"reject\",\"reply\":\"530 5.7.0 Must issue a"
	    " STARTTLS command first\",\"mode\":\"enforce\",\"exposure\":false,"
	    "\"trusted\":false,\"reason\":\"plaintext session\","
	    "\"mta_version\":\"Postfix 3.7.11\"}\n" },
	{ "TLS accept with client certificate", tls_accept,
	    "time=2026-11-24T09:10:58.123Z session=S.1 type=decision"
	    " rule=none outcome=accept mode=enforce exposure=no"
	    " trusted=no reason=\"all rules passed\" queue_id=4Xyz12AbC"
	    " client_addr=2001:db8::10 client_port=51000"
	    " listener=submission daemon_name=MSA daemon_port=587"
	    " tls=yes tls_version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384"
	    " cipher_bits=256"
	    " cert_subject=\"/C=DE/O=Example/CN=client.example.test\""
	    " cert_issuer=\"/CN=Example CA\" verify=OK auth=yes"
	    " auth_type=PLAIN auth_authen=alice@example.test auth_before_tls=no"
	    " mta_version=8.17.1.9",
	    "{\"v\":1,\"time\":\"" T "\",\"session\":\"S.1\","
	    "\"type\":\"decision\",\"queue_id\":\"4Xyz12AbC\","
	    "\"client_addr\":\"2001:db8::10\",\"client_port\":\"51000\","
	    "\"listener\":\"submission\",\"daemon_name\":\"MSA\","
	    "\"daemon_port\":\"587\",\"tls\":true,\"tls_version\":\"TLSv1.3\","
	    "\"cipher\":\"TLS_AES_256_GCM_SHA384\",\"cipher_bits\":256,"
	    "\"cert_subject\":\"/C=DE/O=Example/CN=client.example.test\","
	    "\"cert_issuer\":\"/CN=Example CA\",\"verify\":\"OK\","
	    "\"auth\":true,\"auth_type\":\"PLAIN\","
	    "\"auth_authen\":\"alice@example.test\",\"auth_before_tls\":false,\"rule\":\"none\","
	    "\"action\":\"reject\",\"outcome\":\"accept\",\"mode\":\"enforce\","
	    "\"exposure\":false,\"trusted\":false,"
	    "\"reason\":\"all rules passed\",\"mta_version\":\"8.17.1.9\"}\n" },
	{ "credential exposure (policy_decide)", exposure,
	    "time=2026-11-24T09:10:58.999Z session=S.1"
	    " type=credential-exposure rule=auth-requires-tls"
	    " action=reject outcome=reject reply=\"538 5.7.11 Encryption"
	    " required for requested authentication mechanism\""
	    " mode=enforce exposure=yes trusted=no reason=\"AUTH on a"
	    " plaintext session\" client_addr=192.0.2.10"
	    " client_port=40000 listener=submission daemon_port=587"
	    " tls=no auth=yes auth_type=PLAIN"
	    " auth_authen=alice@example.test auth_before_tls=no",
	    "{\"v\":1,\"time\":\"2026-11-24T09:10:58.999Z\","
	    "\"session\":\"S.1\","
	    "\"type\":\"credential-exposure\",\"client_addr\":\"192.0.2.10\","
	    "\"client_port\":\"40000\",\"listener\":\"submission\","
	    "\"daemon_port\":\"587\",\"tls\":false,\"auth\":true,"
	    "\"auth_type\":\"PLAIN\",\"auth_authen\":\"alice@example.test\",\"auth_before_tls\":false,"
	    "\"rule\":\"auth-requires-tls\",\"action\":\"reject\","
	    "\"outcome\":\"reject\",\"reply\":\"538 5.7.11 Encryption required"
	    " for requested authentication mechanism\",\"mode\":\"enforce\","
	    "\"exposure\":true,\"trusted\":false,"
	    "\"reason\":\"AUTH on a plaintext session\"}\n" },
	{ "report mode would-reject", report,
	    "time=2026-11-24T09:10:58.123Z session=S.1 type=decision"
	    " rule=min-tls-version action=report outcome=would-reject"
	    " reply=\"530 5.7.0 TLSv1.1 is below the required TLSv1.2\""
	    " mode=report exposure=no trusted=no reason=\"TLSv1.1 is"
	    " below the required TLSv1.2\" client_addr=192.0.2.10"
	    " client_port=40001 listener=submission daemon_port=587"
	    " tls=yes tls_version=TLSv1.1 cipher=ECDHE-RSA-AES128-SHA"
	    " cipher_bits=128 auth=no auth_before_tls=no",
	    "{\"v\":1,\"time\":\"" T "\",\"session\":\"S.1\","
	    "\"type\":\"decision\",\"client_addr\":\"192.0.2.10\","
	    "\"client_port\":\"40001\",\"listener\":\"submission\","
	    "\"daemon_port\":\"587\",\"tls\":true,\"tls_version\":\"TLSv1.1\","
	    "\"cipher\":\"ECDHE-RSA-AES128-SHA\",\"cipher_bits\":128,"
	    "\"auth\":false,\"auth_before_tls\":false,\"rule\":\"min-tls-version\","
	    "\"action\":\"report\",\"outcome\":\"would-reject\","
	    "\"reply\":\"530 5.7.0 TLSv1.1 is below the required TLSv1.2\","
	    "\"mode\":\"report\",\"exposure\":false,\"trusted\":false,"
	    "\"reason\":\"TLSv1.1 is below the required TLSv1.2\"}\n" },
	{ "malformed version and bits, oversize subject", broken,
	    "time=2026-11-24T09:10:58.123Z session=S.1 type=decision"
	    " rule=min-tls-version action=tempfail outcome=tempfail"
	    " reply=\"451 4.7.0 unknown TLS version is below the"
	    " required TLSv1.2\" mode=enforce exposure=no trusted=no"
	    " reason=\"unknown TLS version is below the required"
	    " TLSv1.2\" listener=submission daemon_port=587 tls=yes"
	    " tls_version=TLSv9 cipher=ECDHE-RSA-AES256-GCM-SHA384"
	    " cipher_bits=12x auth=no auth_before_tls=no facts_problem=\"tls_version:"
	    " unknown TLS version; cipher_bits: not a number"
	    " (0..65535); cert_subject: value of 70000 bytes exceeds"
	    " 2048\"",
	    "{\"v\":1,\"time\":\"" T "\",\"session\":\"S.1\","
	    "\"type\":\"decision\",\"listener\":\"submission\","
	    "\"daemon_port\":\"587\",\"tls\":true,\"tls_version\":\"TLSv9\","
	    "\"cipher\":\"ECDHE-RSA-AES256-GCM-SHA384\","
	    "\"cipher_bits\":\"12x\",\"auth\":false,\"auth_before_tls\":false,"
	    "\"rule\":\"min-tls-version\",\"action\":\"tempfail\","
	    "\"outcome\":\"tempfail\",\"reply\":\"451 4.7.0 unknown TLS"
	    " version is below the required TLSv1.2\",\"mode\":\"enforce\","
	    "\"exposure\":false,\"trusted\":false,\"reason\":\"unknown TLS"
	    " version is below the required TLSv1.2\",\"facts_problem\":"
	    "\"tls_version: unknown TLS version; cipher_bits: not a number"
	    " (0..65535); cert_subject: value of 70000 bytes exceeds"
	    " 2048\"}\n" },
};
#undef T

/*
 * Hostile macro values as long as the facts keep them (2048 bytes each,
 * escaped up to four times as long): the kv line outgrows the log's 8192
 * bytes, and the verdict still comes first, so the cut never takes the
 * rule, the outcome or the reply.
 */
START_TEST(test_kv_verdict_first)
{
	struct fixture x;
	struct strbuf sb;
	char junk[2049];
	const char *line, *reply;

	memset(junk, '\x01', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	plaintext(&x);
	set(&x, FACT_CERT_SUBJECT, junk, FACT_CERT_ISSUER, junk,
	    FACT_AUTH_AUTHEN, junk, FACT_AUTH_TYPE, "PLAIN", -1);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	ck_assert_int_eq(audit_format_kv(&x.r, &sb), 0);
	line = strbuf_str(&sb);
	ck_assert_uint_gt(strlen(line), 8192);
	reply = strstr(line, " reply=\"530 5.7.0 Must issue a STARTTLS"
	    " command first\"");
	ck_assert_ptr_nonnull(reply);
	ck_assert_ptr_nonnull(strstr(line, " rule=require-tls "));
	ck_assert_ptr_nonnull(strstr(line, " outcome=reject "));
	ck_assert_uint_lt((size_t)(reply - line), 300);
	ck_assert(reply < strstr(line, "auth_authen="));
	strbuf_free(&sb);
	facts_clear(&x.f);
}
END_TEST

START_TEST(test_record_exact)
{
	struct fixture x;
	struct strbuf sb;

	records[_i].make(&x);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	ck_assert_int_eq(audit_format_kv(&x.r, &sb), 0);
	ck_assert_msg(strcmp(strbuf_str(&sb), records[_i].kv) == 0,
	    "%s: kv\n got %s\nwant %s", records[_i].label, strbuf_str(&sb),
	    records[_i].kv);
	ck_assert_int_gt(kv_parse(strbuf_str(&sb), "", NULL), 0);
	strbuf_reset(&sb);
	ck_assert_int_eq(audit_format_json(&x.r, &sb), 0);
	ck_assert_msg(strcmp(strbuf_str(&sb), records[_i].json) == 0,
	    "%s: json\n got %s\nwant %s", records[_i].label, strbuf_str(&sb),
	    records[_i].json);
	json_valid(&sb);
	strbuf_free(&sb);
	facts_clear(&x.f);
}
END_TEST

/* A kv record appends to what the caller already has, with one space. */
START_TEST(test_record_prefix)
{
	struct fixture x;
	struct strbuf sb;

	plaintext(&x);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	ck_assert_int_eq(strbuf_puts(&sb, "S.1:"), 0);
	ck_assert_int_eq(audit_format_kv(&x.r, &sb), 0);
	ck_assert_int_eq(strncmp(strbuf_str(&sb), "S.1: time=", 10), 0);
	ck_assert_str_eq(audit_type_name(AUDIT_TYPE_DECISION), "decision");
	ck_assert_str_eq(audit_type_name(AUDIT_TYPE_EXPOSURE),
	    "credential-exposure");
	ck_assert_int_eq(audit_record_type(&x.r), AUDIT_TYPE_DECISION);
	/* a record over the limit fails, it is not cut */
	strbuf_free(&sb);
	strbuf_init(&sb, 100);
	ck_assert_int_eq(audit_format_json(&x.r, &sb), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	strbuf_free(&sb);
	facts_clear(&x.f);
}
END_TEST

/* The session record, key=value and the open JSON form for the chain. */
START_TEST(test_session_tls)
{
	struct audit_session as;
	struct fixture x;
	struct strbuf sb;

	tls_accept(&x);
	memset(&as, 0, sizeof(as));
	as.time = x.r.time;
	as.started.tv_sec = x.r.time.tv_sec - 61;
	as.session_id = "S.1";
	as.listener = "submission";
	as.facts = &x.f;
	as.n_helo = 2;
	as.n_mail = 1;
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	ck_assert_int_eq(audit_format_session_kv(&as, &sb), 0);
	ck_assert_str_eq(strbuf_str(&sb), "time=2026-11-24T09:10:58.123Z"
	    " session=S.1 type=session started=2026-11-24T09:09:57.000Z"
	    " client_addr=2001:db8::10 client_port=51000 listener=submission"
	    " daemon_name=MSA daemon_port=587 tls=yes tls_version=TLSv1.3"
	    " cipher=TLS_AES_256_GCM_SHA384 cipher_bits=256"
	    " cert_subject=\"/C=DE/O=Example/CN=client.example.test\""
	    " cert_issuer=\"/CN=Example CA\" verify=OK auth=yes"
	    " auth_type=PLAIN auth_authen=alice@example.test helos=2 mails=1"
	    " mta_version=8.17.1.9");
	strbuf_reset(&sb);
	ck_assert_int_eq(audit_format_session_open(&as, &sb), 0);
	ck_assert_str_eq(strbuf_str(&sb), "{\"v\":2,"
	    "\"time\":\"2026-11-24T09:10:58.123Z\",\"session\":\"S.1\","
	    "\"type\":\"session\",\"started\":\"2026-11-24T09:09:57.000Z\","
	    "\"client_addr\":\"2001:db8::10\",\"client_port\":\"51000\","
	    "\"listener\":\"submission\",\"daemon_name\":\"MSA\","
	    "\"daemon_port\":\"587\",\"tls\":true,\"tls_version\":\"TLSv1.3\","
	    "\"cipher\":\"TLS_AES_256_GCM_SHA384\",\"cipher_bits\":256,"
	    "\"cert_subject\":\"/C=DE/O=Example/CN=client.example.test\","
	    "\"cert_issuer\":\"/CN=Example CA\",\"verify\":\"OK\","
	    "\"auth\":true,\"auth_type\":\"PLAIN\","
	    "\"auth_authen\":\"alice@example.test\",\"helos\":2,\"mails\":1,"
	    "\"mta_version\":\"8.17.1.9\"");
	ck_assert_str_eq(audit_type_name(AUDIT_TYPE_SESSION), "session");
	/* the open decision record is the v1 record without its end */
	strbuf_reset(&sb);
	ck_assert_int_eq(audit_format_json_open(&x.r, &sb), 0);
	ck_assert_int_eq(strncmp(strbuf_str(&sb), "{\"v\":2,", 7), 0);
	ck_assert_int_eq(strncmp(strbuf_str(&sb) + 7, records[1].json + 7,
	    sb.len - 7), 0);
	ck_assert_str_eq(records[1].json + sb.len, "}\n");
	strbuf_free(&sb);
	facts_clear(&x.f);
}
END_TEST

/* ---------------------------------------------------------------- */
/* forging */

static const char *const forgeries[] = {
	"\" outcome=accept",
	"x outcome=accept",
	"x\" outcome=accept rule=none\r\n{\"v\":1,\"outcome\":\"accept\"}",
	"\n{\"v\":1,\"outcome\":\"accept\",\"rule\":\"none\"}",
	"\r\n",
	"a\\\" outcome=accept",
	"\\",
	"\xc3\" outcome=accept",
	"\xe2\x80\xa8\xe2\x80\xa9 \x1b[2K\x7f outcome=accept",
	"} {\"outcome\":\"accept\"",
};

/* The HELO name and the envelope sender are escaped as every network value. */
START_TEST(test_forging_helo_sender)
{
	static const char *const keys_set[] = { "helo", "sender",
	    "sender_domain" };
	struct strbuf sb, lines, got;
	struct fixture x;

	strbuf_init(&sb, AUDIT_RECORD_MAX);
	strbuf_init(&lines, 1 << 20);
	strbuf_init(&got, 4096);
	plaintext(&x);
	x.r.helo = x.r.sender = x.r.sender_domain = forgeries[_i];
	x.r.policy = "ab";
	ck_assert_int_eq(audit_format_kv(&x.r, &sb), 0);
	ck_assert_ptr_null(strpbrk(strbuf_str(&sb), "\r\n"));
	ck_assert_ptr_nonnull(strstr(strbuf_str(&sb), " outcome=reject "));
	for (size_t k = 0; k < 3; k++) {
		strbuf_reset(&got);
		ck_assert_msg(kv_parse(strbuf_str(&sb), keys_set[k], &got) > 0,
		    "%s", strbuf_str(&sb));
		ck_assert_str_eq(strbuf_str(&got), forgeries[_i]);
	}
	ck_assert_int_eq(audit_format_json(&x.r, &lines), 0);
	ck_assert_ptr_eq(memchr(lines.data, '\n', lines.len),
	    lines.data + lines.len - 1);
	json_valid(&lines);
	facts_clear(&x.f);
	strbuf_free(&sb);
	strbuf_free(&lines);
	strbuf_free(&got);
}
END_TEST

START_TEST(test_forging)
{
	static const enum fact_id where[] = { FACT_AUTH_AUTHEN,
	    FACT_CERT_SUBJECT, FACT_QUEUE_ID, FACT_DAEMON_NAME, FACT_VERIFY,
	    FACT_MTA_VERSION };
	struct strbuf sb, lines, got;
	struct fixture x;
	size_t at;

	strbuf_init(&sb, AUDIT_RECORD_MAX);
	strbuf_init(&lines, 1 << 20);
	strbuf_init(&got, 4096);
	for (size_t w = 0; w < sizeof(where) / sizeof(where[0]); w++) {
		plaintext(&x);
		set(&x, FACT_AUTH_TYPE, "PLAIN", -1);
		ck_assert_int_eq(facts_set(&x.f, where[w], forgeries[_i]), 0);
		strbuf_reset(&sb);
		ck_assert_int_eq(audit_format_kv(&x.r, &sb), 0);
		ck_assert_ptr_null(strpbrk(strbuf_str(&sb), "\r\n"));
		strbuf_reset(&got);
		ck_assert_msg(kv_parse(strbuf_str(&sb),
		    facts_id_name(where[w]), &got) > 0, "%s", strbuf_str(&sb));
		ck_assert_str_eq(strbuf_str(&got), forgeries[_i]);
		ck_assert_ptr_nonnull(strstr(strbuf_str(&sb),
		    " outcome=reject "));
		at = lines.len;
		ck_assert_int_eq(audit_format_json(&x.r, &lines), 0);
		ck_assert_ptr_eq(memchr(lines.data + at, '\n', lines.len - at),
		    lines.data + lines.len - 1);
		facts_clear(&x.f);
	}
	json_valid(&lines);
	strbuf_free(&sb);
	strbuf_free(&lines);
	strbuf_free(&got);
}
END_TEST

/* ---------------------------------------------------------------- */
/* time */

static const struct {
	time_t		 sec;
	long		 nsec;
	const char	*want;
} times[] = {
	{ 0, 0, "1970-01-01T00:00:00.000Z" },
	{ 0, 999999, "1970-01-01T00:00:00.000Z" },
	{ 0, 1000000, "1970-01-01T00:00:00.001Z" },
	{ 1795511458, 123456789, "2026-11-24T09:10:58.123Z" },
	{ 1795511458, 999999999, "2026-11-24T09:10:58.999Z" },
	{ 946684799, 999999999, "1999-12-31T23:59:59.999Z" },
	{ 951868799, 999000000, "2000-02-29T23:59:59.999Z" },
	{ 951868800, 0, "2000-03-01T00:00:00.000Z" },
	{ 1483228799, 999999999, "2016-12-31T23:59:59.999Z" },
	{ 1483228800, 0, "2017-01-01T00:00:00.000Z" },
	{ 2147483648, 500000000, "2038-01-19T03:14:08.500Z" },
	{ 4107542399, 999999999, "2100-02-28T23:59:59.999Z" },
	{ 4107542400, 0, "2100-03-01T00:00:00.000Z" },
};

START_TEST(test_time)
{
	struct timespec ts = { times[_i].sec, times[_i].nsec };
	char buf[32];

	ck_assert_ptr_eq(audit_format_time(&ts, buf, sizeof(buf)), buf);
	ck_assert_str_eq(buf, times[_i].want);
}
END_TEST

/* want_time - what gmtime_r(3) says of t, in the record's form. */
static void
want_time(long long t, char *want, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
	(void) snprintf(want, size, "%04d-%02d-%02dT%02d:%02d:%02d.000Z",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/*
 * The time is formatted by arithmetic, not gmtime_r(3): it must agree
 * with the C library on every day of the years 0..400 (the calendar
 * repeats every 400 years; one second of each day, a different one each
 * day), on 20,000 random seconds of years 0..9999, and fall back to the
 * epoch outside those years.
 */
START_TEST(test_time_vs_gmtime)
{
	const long long first = -62167219200LL, last = 253402300799LL;
	const long long era_end = first + (146097LL + 60) * 86400;
	struct timespec ts = { 0, 0 };
	char buf[32], want[64];
	long long t;
	unsigned seed = 1;

	for (t = first; t <= era_end; t += 86400 + 7) {
		ts.tv_sec = (time_t)t;
		want_time(t, want, sizeof(want));
		ck_assert_str_eq(audit_format_time(&ts, buf, sizeof(buf)), want);
	}
	for (int i = 0; i < 20000; i++) {
		t = first + (long long)((double)rand_r(&seed) / RAND_MAX *
		    (double)(last - first));
		ts.tv_sec = (time_t)t;
		want_time(t, want, sizeof(want));
		ck_assert_str_eq(audit_format_time(&ts, buf, sizeof(buf)), want);
	}
	ts.tv_sec = (time_t)first;
	ck_assert_str_eq(audit_format_time(&ts, buf, sizeof(buf)),
	    "0000-01-01T00:00:00.000Z");
	ts.tv_sec = (time_t)last;
	ck_assert_str_eq(audit_format_time(&ts, buf, sizeof(buf)),
	    "9999-12-31T23:59:59.000Z");
	ts.tv_sec = (time_t)(first - 1);
	ck_assert_str_eq(audit_format_time(&ts, buf, sizeof(buf)),
	    "1970-01-01T00:00:00.000Z");
	ts.tv_sec = (time_t)(last + 1);
	ck_assert_str_eq(audit_format_time(&ts, buf, sizeof(buf)),
	    "1970-01-01T00:00:00.000Z");
	ts.tv_sec = -1;
	ck_assert_str_eq(audit_format_time(&ts, buf, sizeof(buf)),
	    "1969-12-31T23:59:59.000Z");
}
END_TEST

/* ---------------------------------------------------------------- */
/* the sink */

#define N_WRITERS	8
#define N_LINES		500

struct writer {
	struct audit_sink	*sink;
	int			 id;
};

static void *
write_many(void *arg)
{
	struct writer *w = arg;
	char line[700];

	for (int i = 0; i < N_LINES; i++) {
		int n = snprintf(line, sizeof(line),
		    "{\"w\":%d,\"i\":%d,\"pad\":\"%0500d\"}\n", w->id, i, 0);

		if (audit_sink_write(w->sink, line, (size_t)n) == -1)
			return (void *)1;
	}
	return NULL;
}

/* read_back - every line whole, each (writer, i) exactly once. */
static void
read_back(const char *path)
{
	static bool seen[N_WRITERS][N_LINES];
	char line[800], want[800];
	int n = 0, w, i;
	FILE *fp;

	memset(seen, 0, sizeof(seen));
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while (fgets(line, sizeof(line), fp) != NULL) {
		ck_assert_msg(sscanf(line, "{\"w\":%d,\"i\":%d,", &w,
		    &i) == 2 &&
		    w >= 0 && w < N_WRITERS && i >= 0 && i < N_LINES &&
		    !seen[w][i], "torn or repeated line %d: %.40s", n, line);
		(void) snprintf(want, sizeof(want),
		    "{\"w\":%d,\"i\":%d,\"pad\":\"%0500d\"}\n", w, i, 0);
		ck_assert_msg(strcmp(line, want) == 0, "torn line %d", n);
		seen[w][i] = true;
		n++;
	}
	(void) fclose(fp);
	ck_assert_int_eq(n, N_WRITERS * N_LINES);
}

/* tmp_paths - a fresh directory with path "audit.jsonl" and moved ".1". */
static void
tmp_paths(char *dir, char *path, char *moved, size_t size)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void) snprintf(path, size, "%s/audit.jsonl", dir);
	(void) snprintf(moved, size, "%s/audit.jsonl.1", dir);
}

/* rm_dir - remove the stage files a test's sinks left, then dir. */
static void
rm_dir(const char *dir)
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *d;

	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".stage") != NULL) {
			ck_assert_int_lt(snprintf(p, sizeof(p), "%s/%.200s", dir,
			    de->d_name), (int)sizeof(p));
			ck_assert_int_eq(unlink(p), 0);
		}
	(void) closedir(d);
	ck_assert_int_eq(rmdir(dir), 0);
}

START_TEST(test_sink_threads)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64];
	struct writer w[N_WRITERS];
	pthread_t t[N_WRITERS];
	struct audit_sink *sink;
	struct stat st;
	void *rc;

	(void) umask(022);
	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_str_eq(audit_sink_path(sink), path);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	for (int i = 0; i < N_WRITERS; i++) {
		w[i] = (struct writer){ sink, i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, write_many, &w[i]),
		    0);
	}
	for (int i = 0; i < N_WRITERS; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rc), 0);
		ck_assert_ptr_null(rc);
	}
	read_back(path);
	audit_sink_close(&sink);
	ck_assert_ptr_null(sink);
	audit_sink_close(&sink);		/* NULL is fine */
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
	errno = 0;
	ck_assert_ptr_null(audit_sink_open("/nonexistent/dir/audit.jsonl"));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* last_line - the last line of path, into buf. */
static void
last_line(const char *path, char *buf, size_t size, const char *want)
{
	char line[256] = "";
	FILE *fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while (fgets(buf, (int)size, fp) != NULL)
		(void) snprintf(line, sizeof(line), "%s", buf);
	(void) fclose(fp);
	ck_assert_str_eq(line, want);
}

START_TEST(test_sink_rotate)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64], buf[800];
	struct audit_sink *sink;

	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_write(sink, "first\n", 6), 0);
	/* rotation: rename, reopen, the next record goes to the new file */
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(audit_sink_write(sink, "old\n", 4), 0);
	ck_assert_int_eq(audit_sink_reopen(sink), 0);
	ck_assert_int_eq(audit_sink_write(sink, "new\n", 4), 0);
	last_line(path, buf, sizeof(buf), "new\n");
	last_line(moved, buf, sizeof(buf), "old\n");
	/* a failed reopen keeps the old file */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(moved), 0);
	rm_dir(dir);
	ck_assert_int_eq(audit_sink_reopen(sink), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(audit_sink_write(sink, "still\n", 6), 0);
	audit_sink_close(&sink);
}
END_TEST

/* ---------------------------------------------------------------- */
/* the hash chain, recomputed here with auditchain_hash() */

#define PREV_MEMBER	",\"prev\":\""
#define HASH_MEMBER	",\"hash\":\""
#define TAIL_LEN	(sizeof(HASH_MEMBER) - 1 + AUDIT_HASH_HEX + 2)
#define TORN		"{\"v\":2,\"torn"

/*
 * check_link - line (no newline) is {...,"prev":"P","hash":"H"} with P
 * equal to head and H the hash of the line without its hash member;
 * head becomes H.
 */
static void
check_link(char *line, size_t len, char *head)
{
	char hash[AUDIT_HASH_HEX + 1], *tail;
	size_t plen = sizeof(PREV_MEMBER) - 1 + AUDIT_HASH_HEX + 2;

	ck_assert_uint_gt(len, TAIL_LEN + plen);
	tail = line + len - TAIL_LEN;
	ck_assert_int_eq(strncmp(tail, HASH_MEMBER, sizeof(HASH_MEMBER) - 1),
	    0);
	ck_assert_str_eq(line + len - 2, "\"}");
	ck_assert_int_eq(strncmp(tail - plen + 1, PREV_MEMBER,
	    sizeof(PREV_MEMBER) - 1), 0);
	ck_assert_int_eq(strncmp(tail - AUDIT_HASH_HEX - 1, head,
	    AUDIT_HASH_HEX), 0);
	memcpy(hash, tail + sizeof(HASH_MEMBER) - 1, AUDIT_HASH_HEX);
	hash[AUDIT_HASH_HEX] = '\0';
	tail[0] = '}';
	ck_assert_int_eq(auditchain_hash(NULL, 0, line, (size_t)(tail - line)
	    + 1, head), 0);
	ck_assert_str_eq(head, hash);
}

/*
 * check_chain - every line of path but skip links to the one before;
 * the number of links.
 */
static int
check_chain(const char *path, char *head, const char *skip)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int n = 0;
	FILE *fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while ((len = getline(&line, &cap, fp)) > 0) {
		ck_assert_int_eq(line[len - 1], '\n');
		line[--len] = '\0';
		if (skip != NULL && strcmp(line, skip) == 0)
			continue;
		ck_assert_int_eq(strncmp(line, "{\"v\":2,", 7), 0);
		check_link(line, (size_t)len, head);
		n++;
	}
	free(line);
	(void) fclose(fp);
	return n;
}

static void *
chain_many(void *arg)
{
	struct audit_sink *sink = arg;
	struct fixture x;
	struct strbuf sb;
	void *rc = NULL;

	tls_accept(&x);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	for (int i = 0; i < 100 && rc == NULL; i++) {
		strbuf_reset(&sb);
		if (audit_format_json_open(&x.r, &sb) == -1 ||
		    audit_sink_write_chained(sink, &sb) == -1)
			rc = (void *)1;
	}
	strbuf_free(&sb);
	facts_clear(&x.f);
	return rc;
}

/* chain_run - n_threads x 100 chained records into sink. */
static void
chain_run(struct audit_sink *sink, int n_threads)
{
	pthread_t t[N_WRITERS];
	void *rc;

	for (int i = 0; i < n_threads; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, chain_many, sink),
		    0);
	for (int i = 0; i < n_threads; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rc), 0);
		ck_assert_ptr_null(rc);
	}
}

START_TEST(test_chain)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	char last[AUDIT_HASH_HEX + 1];
	struct audit_sink *sink;
	FILE *fp;

	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	audit_sink_set_fsync(sink, AUDIT_FSYNC_NONE);
	chain_run(sink, N_WRITERS);
	/* rotation: the new file's first record links to the old last one */
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(audit_sink_reopen(sink), 0);
	chain_run(sink, 2);
	audit_sink_close(&sink);
	/*
	 * a torn last line: a new sink continues from the last whole line,
	 * and its first record starts on a line of its own
	 */
	ck_assert_ptr_nonnull(fp = fopen(path, "a"));
	ck_assert_int_ge(fputs(TORN, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	chain_run(sink, 1);
	audit_sink_last_hash(sink, last);
	audit_sink_close(&sink);
	ck_assert_int_eq(check_chain(moved, head, NULL), N_WRITERS * 100);
	ck_assert_int_eq(check_chain(path, head, TORN), 300);
	ck_assert_str_eq(head, last);
	ck_assert_int_eq(unlink(moved), 0);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}
END_TEST

/* one_record - format the fixture's record and chain it, now or queued. */
static int
one_record(struct audit_sink *sink, struct fixture *x, bool is_queued)
{
	struct strbuf sb;
	int rc;

	strbuf_init(&sb, AUDIT_RECORD_MAX);
	ck_assert_int_eq(audit_format_json_open(&x->r, &sb), 0);
	rc = is_queued ? audit_sink_queue_chained(sink, &sb) :
	    audit_sink_write_chained(sink, &sb);
	strbuf_free(&sb);
	return rc;
}

/* A reader at the other end of a FIFO: takes n_lines lines, then hangs up. */
struct fifo_reader {
	const char	*path;
	int		 n_lines;
	char		 got[4 * AUDIT_RECORD_MAX];
	size_t		 len;
};

static void *
read_fifo(void *arg)
{
	struct fifo_reader *r = arg;
	int fd, seen = 0;
	ssize_t n;

	if ((fd = open(r->path, O_RDONLY)) == -1)
		return (void *)1;
	while (seen < r->n_lines && r->len < sizeof(r->got) - 1 &&
	    (n = read(fd, r->got + r->len, 1)) == 1)
		seen += r->got[r->len++] == '\n';
	r->got[r->len] = '\0';
	(void) close(fd);
	return NULL;
}

/*
 * A write that fails (the reader of a FIFO went away: EPIPE) loses
 * nothing: the staged lines stay, a decision record is refused with the
 * write's error while writes fail, a session record is still staged, and
 * once the file is there again (reopen) every staged line reaches it, in
 * chain order, the chain unbroken.  A queued record reaches the file
 * only when something writes it.
 */
START_TEST(test_sink_write_fails)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR, *nl, *p;
	static struct fifo_reader r1, r2;
	int n = 0;
	struct audit_sink *sink;
	struct fixture x;
	pthread_t t;
	void *rc;

	(void) signal(SIGPIPE, SIG_IGN);
	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	r1.path = r2.path = path;
	r1.n_lines = 2;
	r2.n_lines = 3;
	ck_assert_int_eq(pthread_create(&t, NULL, read_fifo, &r1), 0);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	audit_sink_set_fsync(sink, AUDIT_FSYNC_NONE);	/* a FIFO has no disk */
	tls_accept(&x);
	ck_assert_int_eq(one_record(sink, &x, false), 0);
	ck_assert_int_eq(one_record(sink, &x, true), 0);	/* queued */
	ck_assert_int_eq(audit_sink_sync(sink), 0);		/* written */
	ck_assert_int_eq(pthread_join(t, &rc), 0);
	ck_assert_ptr_null(rc);
	ck_assert_int_eq(one_record(sink, &x, true), 0);	/* staged */
	errno = 0;
	ck_assert_int_eq(audit_sink_sync(sink), -1);		/* no reader */
	ck_assert_int_eq(errno, EPIPE);
	errno = 0;
	ck_assert_int_eq(one_record(sink, &x, false), -1);	/* refused */
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(one_record(sink, &x, true), 0);	/* staged */
	ck_assert_uint_eq(audit_sink_take_lost(sink), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, read_fifo, &r2), 0);
	ck_assert_int_eq(audit_sink_reopen(sink), 0);		/* writes both */
	ck_assert_int_eq(one_record(sink, &x, false), 0);
	audit_sink_close(&sink);				/* writes it */
	ck_assert_int_eq(pthread_join(t, &rc), 0);
	ck_assert_ptr_null(rc);
	facts_clear(&x.f);
	/* two lines to the first reader, three more, linked on, to the second */
	ck_assert_ptr_nonnull(nl = strchr(r1.got, '\n'));
	*nl = '\0';
	check_link(r1.got, (size_t)(nl - r1.got), head);
	ck_assert_int_eq(r1.got[r1.len - 1], '\n');
	r1.got[r1.len - 1] = '\0';
	check_link(nl + 1, strlen(nl + 1), head);
	for (p = r2.got; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		check_link(p, (size_t)(nl - p), head);
		n++;
	}
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}
END_TEST

/*
 * fsync every: many writers at once, each record written and synced
 * before its call returns (group commit shares the writes); the chain
 * follows file order.
 */
START_TEST(test_sink_group_every)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	struct audit_sink *sink;

	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	audit_sink_set_fsync(sink, AUDIT_FSYNC_EVERY);
	chain_run(sink, N_WRITERS);
	audit_sink_close(&sink);
	ck_assert_int_eq(check_chain(path, head, NULL), N_WRITERS * 100);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}
END_TEST

/* count_lines - lines in path. */
static int
count_lines(const char *path)
{
	FILE *fp;
	int c, n = 0;

	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while ((c = fgetc(fp)) != EOF)
		n += c == '\n';
	(void) fclose(fp);
	return n;
}

/*
 * crash_child - in a child: open the sink, write one decision record
 * (written: the first write is due at once), stage three session
 * records, and die by SIGKILL before anything writes them.
 */
static void
crash_child(const char *path, struct fixture *x)
{
	unsigned long n_orphans;
	struct audit_sink *sink;
	pid_t pid;
	int i, st;

	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if ((sink = audit_sink_open(path)) == NULL ||
		    audit_sink_recover(sink, &n_orphans) != 0)
			_exit(2);
		audit_sink_set_fsync(sink, AUDIT_FSYNC_NONE);
		if (one_record(sink, x, false) != 0)
			_exit(3);
		for (i = 0; i < 3; i++)
			if (one_record(sink, x, true) != 0)
				_exit(4);
		(void) kill(getpid(), SIGKILL);
		_exit(5);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/*
 * A process killed with records staged and not written: the next start
 * appends exactly those (hash and link checked), the chain goes on from
 * the last of them, and a start after that appends nothing again.
 */
START_TEST(test_sink_recover)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	unsigned long n_orphans = 7;
	struct audit_sink *sink;
	struct fixture x;

	tmp_paths(dir, path, moved, sizeof(path));
	tls_accept(&x);
	crash_child(path, &x);
	ck_assert_int_eq(count_lines(path), 1);	/* the rest died staged */
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_recover(sink, &n_orphans), 3);
	ck_assert_uint_eq(n_orphans, 0);
	ck_assert_int_eq(one_record(sink, &x, false), 0);
	audit_sink_close(&sink);
	ck_assert_int_eq(check_chain(path, head, NULL), 5);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_recover(sink, &n_orphans), 0);
	audit_sink_close(&sink);
	ck_assert_int_eq(count_lines(path), 5);
	/* a log rotated to an empty file before the crash: they start it */
	crash_child(path, &x);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_int_eq(close(open(path, O_WRONLY | O_CREAT, 0600)), 0);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	ck_assert_int_eq(audit_sink_recover(sink, &n_orphans), 3);
	audit_sink_close(&sink);
	(void) memcpy(head, AUDIT_CHAIN_ANCHOR, sizeof(head));
	ck_assert_int_eq(check_chain(moved, head, NULL), 6);
	ck_assert_int_eq(check_chain(path, head, NULL), 3);
	facts_clear(&x.f);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(moved), 0);
	rm_dir(dir);
}
END_TEST

/*
 * Staged lines that do not continue the log (it was replaced by another
 * file) are neither appended nor dropped: copied to the .orphan file.
 * A second process cannot open the same stage.
 */
START_TEST(test_sink_orphans)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64];
	char orphans[80];
	unsigned long n_orphans = 0;
	struct audit_sink *sink;
	struct fixture x;
	FILE *fp;

	tmp_paths(dir, path, moved, sizeof(path));
	tls_accept(&x);
	crash_child(path, &x);
	ck_assert_int_eq(rename(path, moved), 0);
	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	ck_assert_int_ge(fputs("{\"another\":\"log\"}\n", fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	errno = 0;
	ck_assert_ptr_null(audit_sink_open(path));	/* the stage is locked */
	ck_assert_int_eq(errno, EBUSY);
	ck_assert_int_eq(audit_sink_recover(sink, &n_orphans), 0);
	ck_assert_uint_eq(n_orphans, 3);
	audit_sink_close(&sink);
	ck_assert_int_eq(count_lines(path), 1);
	(void) snprintf(orphans, sizeof(orphans), "%s.stage.orphan", path);
	ck_assert_int_eq(count_lines(orphans), 3);
	facts_clear(&x.f);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(unlink(moved), 0);
	rm_dir(dir);
}
END_TEST

/* count_line - a scan callback: count lines, check they come in order. */
static bool
count_line(void *arg, const char *line, size_t len)
{
	int *next = arg;

	ck_assert_int_eq(len, 1000);
	ck_assert_int_eq(atoi(line), (*next)++);
	return true;
}

/*
 * The ring: full at its size, a line that does not fit at the end goes
 * to the front, a batch is then two iovecs in order, and a stage opened
 * again hands back the lines not consumed, in order.
 */
START_TEST(test_stage_ring)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], line[1000];
	struct audit_stage *st;
	struct iovec iov[2];
	size_t size;
	int i, next = 10;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void) snprintf(path, sizeof(path), "%s/s.stage", dir);
	ck_assert_ptr_nonnull(st = audit_stage_open(path, AUDIT_STAGE_MIN));
	(void) memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < 65; i++) {
		(void) snprintf(line, 8, "%06d", i);
		line[6] = ' ';
		ck_assert_int_eq(audit_stage_put(st, line, sizeof(line)), 0);
	}
	errno = 0;
	ck_assert_int_eq(audit_stage_put(st, line, sizeof(line)), -1);
	ck_assert_int_eq(errno, ENOBUFS);
	ck_assert_uint_eq(audit_stage_used(st), 65000);
	audit_stage_consume(st, 10000);
	(void) snprintf(line, 8, "%06d", 65);
	line[6] = ' ';
	ck_assert_int_eq(audit_stage_put(st, line, sizeof(line)), 0);
	ck_assert_int_eq(audit_stage_batch(st, iov, &size), 2);
	ck_assert_uint_eq(size, 56000);
	ck_assert_uint_eq(iov[0].iov_len, 55000);
	ck_assert_int_eq(atoi(iov[0].iov_base), 10);
	ck_assert_int_eq(atoi(iov[1].iov_base), 65);
	audit_stage_close(&st);
	ck_assert_ptr_nonnull(st = audit_stage_open(path, AUDIT_STAGE_SIZE));
	ck_assert_uint_eq(audit_stage_scan(st, count_line, &next), 56);
	ck_assert_int_eq(next, 66);
	audit_stage_drop(st);
	ck_assert_uint_eq(audit_stage_scan(st, count_line, &next), 0);
	audit_stage_close(&st);
	ck_assert_int_eq(truncate(path, 100), 0);	/* not a stage any more */
	errno = 0;
	ck_assert_ptr_null(audit_stage_open(path, AUDIT_STAGE_MIN));
	ck_assert_int_eq(errno, EINVAL);
	rm_dir(dir);
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
	unsigned char key[131];
	char hex[AUDIT_HASH_HEX + 1];
	const unsigned char *k = (const unsigned char *)vectors[_i].key;

	if (k == NULL) {
		(void) memset(key, 0xaa, sizeof(key));
		k = key;
	}
	ck_assert_int_eq(auditchain_hash(k, vectors[_i].keylen,
	    vectors[_i].data, strlen(vectors[_i].data), hex), 0);
	ck_assert_msg(strcmp(hex, vectors[_i].hex) == 0, "%s: %s",
	    vectors[_i].label, hex);
}
END_TEST

/*
 * The sink hashes on its own (no allocation per record): for keys shorter
 * than, as long as and longer than the SHA-256 block, each line's hash is
 * what auditchain_hash() (the verifier's EVP path) makes of it.
 */
static const size_t key_sizes[] = { 0, 1, 4, 63, 64, 65, 131, AUDIT_KEY_MAX };

/* keyed_run - 3 records in a new sink with a size-byte key, checked. */
static void
keyed_run(size_t size)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	char want[AUDIT_HASH_HEX + 1], *line = NULL, *tail;
	unsigned char key[AUDIT_KEY_MAX];
	size_t cap = 0;
	struct audit_sink *sink;
	struct fixture x;
	struct strbuf sb;
	ssize_t len;
	FILE *fp;
	int n = 0;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	audit_sink_set_fsync(sink, AUDIT_FSYNC_NONE);
	ck_assert_int_eq(audit_sink_set_key(sink, key, size), 0);
	tls_accept(&x);
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	for (int i = 0; i < 3; i++) {
		strbuf_reset(&sb);
		ck_assert_int_eq(audit_format_json_open(&x.r, &sb), 0);
		ck_assert_int_eq(audit_sink_write_chained(sink, &sb), 0);
	}
	strbuf_free(&sb);
	facts_clear(&x.f);
	audit_sink_close(&sink);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	while ((len = getline(&line, &cap, fp)) > 0) {
		line[--len] = '\0';
		ck_assert_uint_gt((size_t)len, TAIL_LEN);
		tail = line + len - TAIL_LEN;
		ck_assert_int_eq(strncmp(tail - AUDIT_HASH_HEX - 1, head,
		    AUDIT_HASH_HEX), 0);	/* "prev" links to the line before */
		tail[0] = '}';
		ck_assert_int_eq(auditchain_hash(size > 0 ? key : NULL, size,
		    line, (size_t)(tail - line) + 1, want), 0);
		ck_assert_int_eq(strncmp(tail + sizeof(HASH_MEMBER) - 1, want,
		    AUDIT_HASH_HEX), 0);
		(void) memcpy(head, want, sizeof(head));
		n++;
	}
	free(line);
	(void) fclose(fp);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}

START_TEST(test_sink_key)
{
	keyed_run(key_sizes[_i]);
}
END_TEST

/*
 * A thread hashes a record's fields with a context of its own, before
 * the sink's lock: one thread writing to sink after sink, each with
 * another key (or none), hashes each sink's records with that sink's key.
 */
START_TEST(test_sink_key_per_sink)
{
	for (size_t i = 0; i < sizeof(key_sizes) / sizeof(key_sizes[0]); i++)
		keyed_run(key_sizes[i]);
	for (size_t i = sizeof(key_sizes) / sizeof(key_sizes[0]); i-- > 0; )
		keyed_run(key_sizes[i]);
}
END_TEST

/* A key longer than AUDIT_KEY_MAX is refused and the old one kept. */
START_TEST(test_sink_key_too_long)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64];
	unsigned char key[AUDIT_KEY_MAX + 1] = { 0 };
	struct audit_sink *sink;

	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	errno = 0;
	ck_assert_int_eq(audit_sink_set_key(sink, key, sizeof(key)), -1);
	ck_assert_int_eq(errno, EINVAL);
	audit_sink_close(&sink);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}
END_TEST

/* A reader that starts late and takes n_lines lines, all into got. */
struct slow_reader {
	int		 fd;
	int		 n_lines;
	char		*got;
	size_t		 len, cap;
};

static void *
read_slowly(void *arg)
{
	struct slow_reader *r = arg;
	int seen = 0;
	ssize_t n;

	while (seen < r->n_lines && r->len < r->cap - 1 &&
	    (n = read(r->fd, r->got + r->len, 1)) == 1)
		seen += r->got[r->len++] == '\n';
	r->got[r->len] = '\0';
	return NULL;
}

/*
 * With the writer thread, a decision never waits for a write(2): the file
 * is a FIFO of one page nobody reads, so the writer blocks once it is
 * full, yet 40 decisions 12 ms apart (each one due to write, without
 * the thread) return at once.  Then a reader drains the FIFO: every
 * record arrives, in chain order, without any call that writes (no sync,
 * no close).  A second start is refused.
 */
#define N_DECISIONS	40

START_TEST(test_sink_writer)
{
	char dir[] = "/tmp/check_audit.XXXXXX", path[64], moved[64];
	char head[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR, *nl, *p;
	struct slow_reader r = { .n_lines = N_DECISIONS };
	struct timespec t0, t1;
	struct audit_sink *sink;
	struct fixture x;
	pthread_t t;
	int n = 0;

	(void) signal(SIGPIPE, SIG_IGN);
	tmp_paths(dir, path, moved, sizeof(path));
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_ne(r.fd = open(path, O_RDONLY | O_NONBLOCK), -1);
	ck_assert_int_ge(fcntl(r.fd, F_SETPIPE_SZ, 4096), 4096);
	ck_assert_ptr_nonnull(sink = audit_sink_open(path));
	audit_sink_set_fsync(sink, AUDIT_FSYNC_NONE);
	ck_assert_int_eq(audit_sink_start(sink), 0);
	errno = 0;
	ck_assert_int_eq(audit_sink_start(sink), -1);
	ck_assert_int_eq(errno, EBUSY);
	tls_accept(&x);
	(void) clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N_DECISIONS; i++) {
		ck_assert_int_eq(one_record(sink, &x, false), 0);
		(void) nanosleep(&(struct timespec){ 0, 12000000L }, NULL);
	}
	(void) clock_gettime(CLOCK_MONOTONIC, &t1);
	facts_clear(&x.f);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < 10, "decisions waited %lds",
	    (long)(t1.tv_sec - t0.tv_sec));
	ck_assert_int_eq(fcntl(r.fd, F_SETFL, 0), 0);	/* blocking reads */
	r.cap = (size_t)N_DECISIONS * AUDIT_RECORD_MAX;
	ck_assert_ptr_nonnull(r.got = malloc(r.cap));
	ck_assert_int_eq(pthread_create(&t, NULL, read_slowly, &r), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	for (p = r.got; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		check_link(p, (size_t)(nl - p), head);
		n++;
	}
	ck_assert_int_eq(n, N_DECISIONS);
	audit_sink_close(&sink);
	free(r.got);
	(void) close(r.fd);
	ck_assert_int_eq(unlink(path), 0);
	rm_dir(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_escape, 0,
	    sizeof(escapes) / sizeof(escapes[0]));
	tcase_add_loop_test(tc, test_escape_controls, 1, 0x21);
	tcase_add_test(tc, test_escape_nul);
	tcase_add_test(tc, test_escape_limit);
	tcase_add_test(tc, test_kv_verdict_first);
	tcase_add_loop_test(tc, test_record_exact, 0,
	    sizeof(records) / sizeof(records[0]));
	tcase_add_test(tc, test_record_prefix);
	tcase_add_test(tc, test_session_tls);
	tcase_add_loop_test(tc, test_forging_helo_sender, 0,
	    sizeof(forgeries) / sizeof(forgeries[0]));
	tcase_add_loop_test(tc, test_forging, 0,
	    sizeof(forgeries) / sizeof(forgeries[0]));
	tcase_add_loop_test(tc, test_time, 0, sizeof(times) / sizeof(times[0]));
	tcase_add_test(tc, test_time_vs_gmtime);
	tcase_add_test(tc, test_sink_threads);
	tcase_add_test(tc, test_sink_rotate);
	tcase_add_test(tc, test_chain);
	tcase_add_loop_test(tc, test_hash_vectors, 0,
	    sizeof(vectors) / sizeof(vectors[0]));
	tcase_add_loop_test(tc, test_sink_key, 0,
	    sizeof(key_sizes) / sizeof(key_sizes[0]));
	tcase_add_test(tc, test_sink_key_per_sink);
	tcase_add_test(tc, test_sink_key_too_long);
	tcase_add_test(tc, test_sink_writer);
	tcase_add_test(tc, test_sink_write_fails);
	tcase_add_test(tc, test_sink_group_every);
	tcase_add_test(tc, test_sink_recover);
	tcase_add_test(tc, test_sink_orphans);
	tcase_add_test(tc, test_stage_ring);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
