/*
 * auditfix - what the audit suites share (auditfix.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "auditchain.h"
#include "auditfix.h"
#include "auditsink.h"
#include "facts.h"
#include "policy.h"
#include "strbuf.h"

void
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

void
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

void
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

void
tmp_dir(char *dir, size_t size)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	ck_assert_int_lt(snprintf(dir, size, "%s/tlspolicy-check.XXXXXX", tmp),
	    (int)size);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

void
tmp_paths(char *dir, char *path, char *moved, size_t size)
{
	tmp_dir(dir, size);
	(void) snprintf(path, size, "%s/audit.jsonl", dir);
	(void) snprintf(moved, size, "%s/audit.jsonl.1", dir);
}

void
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

void
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

int
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

int
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

int
run_tcase(const char *suite, TCase *tc)
{
	Suite *s = suite_create(suite);
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
