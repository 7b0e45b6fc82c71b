/*
 * auditfix.h - what the audit suites share: a record with its facts and
 * verdict, a scratch directory for a sink, and the chain recomputed
 * from a file (check_audit, check_auditsink, check_auditrecover,
 * check_auditstage).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#ifndef TLSPOLICY_AUDITFIX_H
#define TLSPOLICY_AUDITFIX_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

#include "audit.h"
#include "facts.h"
#include "policy.h"

struct audit_sink;

/* A record, the facts and the verdict it points to. */
struct fixture {
	struct audit_record	r;
	struct facts		f;
	struct policy_verdict	v;
};

/* base - record frame at 2026-11-24T09:10:58.123Z; verdict accept. */
void	base(struct fixture *);
/* set - facts_set of (enum fact_id, value) pairs, ended by -1. */
void	set(struct fixture *, ...);
/* tls_accept - Sendmail MSA, TLS 1.3 with a verified client cert, AUTH. */
void	tls_accept(struct fixture *);

/* tmp_dir - a new directory in $TMPDIR (default /tmp), into dir. */
void	tmp_dir(char *dir, size_t size);
/* tmp_paths - tmp_dir, with path "audit.jsonl" and moved ".1" in it. */
void	tmp_paths(char *dir, char *path, char *moved, size_t size);
/* rm_dir - remove the stage files a test's sinks left, then dir. */
void	rm_dir(const char *dir);

/* The chained line's tail, recomputed here with auditchain_hash(). */
#define PREV_MEMBER	",\"prev\":\""
#define HASH_MEMBER	",\"hash\":\""
#define TAIL_LEN	(sizeof(HASH_MEMBER) - 1 + AUDIT_HASH_HEX + 2)

/*
 * check_link - line (no newline) is {...,"prev":"P","hash":"H"} with P
 * equal to head and H the hash of the line without its hash member;
 * head becomes H.
 */
void	check_link(char *line, size_t len, char *head);
/* check_chain - every line of path but skip links to the one before; the
 * number of links. */
int	check_chain(const char *path, char *head, const char *skip);
/* one_record - format the fixture's record and chain it, now or queued. */
int	one_record(struct audit_sink *, struct fixture *, bool is_queued);

/* run_tcase - tc in a suite of that name, run; the exit status. */
int	run_tcase(const char *suite, TCase *tc);

#endif
