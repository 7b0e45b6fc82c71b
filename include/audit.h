/*
 * audit.h - decision records: the syslog line and the JSON audit line
 *
 * One record per decision.  audit_format_kv() and audit_format_json() are
 * pure: they format a record into a buffer and read no clock (the caller
 * passes the time).  Every value that came from the network is escaped so
 * a record is always exactly one line and no value can forge a field:
 * in key=value lines values are double-quoted with \" \\ \r \n \t and
 * \xNN for other control bytes, bytes >= 0x80 that are not valid UTF-8,
 * and DEL; in JSON, strings follow RFC 8259 (\", \\, \n, \r, \t, \u00XX,
 * and invalid UTF-8 bytes as \u00XX of the byte (U+0080..U+00FF), so the
 * output is always valid UTF-8).
 *
 * Record keys, in this order (absent facts are omitted; JSON adds "v":1):
 *   time session type queue_id client_addr client_port listener
 *   daemon_name daemon_port daemon_addr tls tls_version cipher cipher_bits
 *   cert_subject cert_issuer verify auth auth_type auth_authen rule action
 *   outcome reply mode exposure trusted reason mta_version facts_problem
 *
 * The audit file: audit_sink_open() opens a file O_APPEND; each record is
 * written whole with one write(2) under the sink's lock, so lines never
 * interleave.  audit_sink_reopen() reopens by path (log rotation).
 */
#ifndef TLSPOLICY_AUDIT_H
#define TLSPOLICY_AUDIT_H

#include <stdbool.h>
#include <time.h>

#include "facts.h"
#include "policy.h"
#include "strbuf.h"

/* Longest record; longer records fail with EMSGSIZE (facts are capped well below). */
#define AUDIT_RECORD_MAX 65536

enum audit_type {
	AUDIT_TYPE_DECISION = 0,	/* "decision" */
	AUDIT_TYPE_EXPOSURE,		/* "credential-exposure": a decision where AUTH was plaintext */
};

struct audit_record {
	struct timespec			 time;		/* UTC wall clock of the decision */
	const char			*session_id;	/* borrowed */
	const char			*listener;	/* matched section label */
	bool				 is_report_mode;/* outcome came from action report */
	const struct facts		*facts;		/* borrowed */
	const struct policy_verdict	*verdict;	/* borrowed */
	enum policy_action		 action;	/* action of the deciding rule (or the listener's) */
};

/* audit_record_type - EXPOSURE when the verdict flags one, else DECISION. */
enum audit_type audit_record_type(const struct audit_record *);

/* audit_type_name - "decision", "credential-exposure". */
const char *audit_type_name(enum audit_type);

/*
 * audit_format_kv - append the syslog form (key=value ..., no newline) to
 * out.  0, or -1 with errno (ENOMEM, EMSGSIZE).
 */
int	audit_format_kv(const struct audit_record *, struct strbuf *out);

/* audit_format_json - append one JSON object and "\n" to out.  As above. */
int	audit_format_json(const struct audit_record *, struct strbuf *out);

/* audit_escape_kv - append value double-quoted and escaped as above. */
int	audit_escape_kv(struct strbuf *, const char *, size_t size);

/* audit_escape_json - append value as a JSON string (with quotes). */
int	audit_escape_json(struct strbuf *, const char *, size_t size);

/* audit_format_time - "2026-11-24T09:10:58.123Z" into buf (>= 32 bytes). */
char	*audit_format_time(const struct timespec *, char *buf, size_t size);

struct audit_sink;

/*
 * audit_sink_open - open path for appending (mode 0640, created if
 * needed).  Returns a new sink, or NULL with errno.
 */
struct audit_sink *audit_sink_open(const char *path);

/* audit_sink_write - write size bytes with one write(2); 0, or -1 with errno. */
int	audit_sink_write(struct audit_sink *, const char *, size_t size);

/* audit_sink_reopen - reopen the same path; on failure the old fd stays. 0 or -1. */
int	audit_sink_reopen(struct audit_sink *);

/* audit_sink_close - close and free; sets the pointer to NULL; NULL is fine. */
void	audit_sink_close(struct audit_sink **);

#endif /* TLSPOLICY_AUDIT_H */
