/*
 * check_audit - decision and session records (audit.c): escaping, exact
 * record text in both forms, forging attempts, the record time.  The
 * sink, its stage and recovery have suites of their own.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "auditfix.h"
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

int
main(void)
{
	TCase *tc = tcase_create("core");

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
	return run_tcase("audit", tc);
}
