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
 *   time session type queue_id client_addr client_port helo listener
 *   daemon_name daemon_port daemon_addr tls tls_version cipher cipher_bits
 *   cert_subject cert_issuer verify auth auth_type auth_authen
 *   auth_before_tls sender sender_domain rule action outcome reply mode
 *   exposure trusted reason policy mta_version facts_problem
 * (the session record: time session type started, the connection's facts,
 * helo, helos mails closed_by mta_version facts_problem).  helo is the
 * last HELO/EHLO name; sender and sender_domain as record-sender says;
 * policy the fingerprint of the config that decided (policyrec.h).
 *
 * The audit file and its writer: auditsink.h.
 *
 * The hash chain (format version 2, doc/audit-format.md): the file
 * records are {"v":2,<fields>,"prev":"P","hash":"H"} and a newline; the
 * chained line, its members and its hash are defined in auditchain.h,
 * and the sink (auditsink.h) adds P and H; the chain order is the file
 * order.
 */
#ifndef TLSPOLICY_AUDIT_H
#define TLSPOLICY_AUDIT_H

#include <stdbool.h>
#include <time.h>

#include "auditchain.h"
#include "facts.h"
#include "policy.h"
#include "strbuf.h"

/* Longest record; longer records fail with EMSGSIZE (facts are capped well below). */
#define AUDIT_RECORD_MAX 65536

enum audit_type {
	AUDIT_TYPE_DECISION = 0,	/* "decision" */
	AUDIT_TYPE_EXPOSURE,		/* "credential-exposure": a decision where AUTH was plaintext */
	AUDIT_TYPE_SESSION,		/* "session": connect to close */
	AUDIT_TYPE_POLICY,		/* "policy": the policy in force */
};

/* One session, connect to close: the "session" record. */
struct audit_session {
	struct timespec		 time;		/* close */
	struct timespec		 started;	/* connect (negotiate) */
	const char		*session_id;	/* borrowed */
	const char		*listener;	/* matched section label */
	const struct facts	*facts;		/* borrowed: the last facts seen */
	const char		*helo;		/* last HELO/EHLO name, or NULL */
	unsigned		 n_helo;	/* HELO/EHLO seen */
	unsigned		 n_mail;	/* MAIL FROM decided */
	bool			 is_shutdown;	/* still open at the milter's stop:
						 * "closed_by":"shutdown" */
};

struct audit_record {
	struct timespec			 time;		/* UTC wall clock of the decision */
	const char			*session_id;	/* borrowed */
	const char			*listener;	/* matched section label */
	bool				 is_report_mode;/* outcome came from action report */
	const struct facts		*facts;		/* borrowed */
	const struct policy_verdict	*verdict;	/* borrowed */
	enum policy_action		 action;	/* action of the deciding rule (or the listener's) */
	const char			*helo;		/* last HELO/EHLO name, or NULL */
	const char			*sender;	/* envelope sender (record-sender
							 * address), or NULL */
	const char			*sender_domain;	/* its domain ("" for none), or NULL */
	const char			*policy;	/* fingerprint, or NULL */
};

/* The policy in force: the "policy" record, at start and every reload. */
struct audit_policy {
	struct timespec		 time;
	const char		*event;		/* "start" or "reload" */
	const char		*fingerprint;	/* hex SHA-256 of text */
	const char		*text;		/* conf_print's text */
	size_t			 size;		/* of text */
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

/*
 * audit_format_json_open - the JSON record for the file: "{\"v\":2" and
 * the fields, left open for audit_sink_write_chained().  As above.
 */
int	audit_format_json_open(const struct audit_record *, struct strbuf *out);

/* audit_format_session_kv - the session record as key=value (no newline). */
int	audit_format_session_kv(const struct audit_session *, struct strbuf *);

/* audit_format_session_open - the session record, open, as above. */
int	audit_format_session_open(const struct audit_session *,
	    struct strbuf *);

/*
 * audit_format_policy_open - the policy record, open, as above:
 * time type event policy text.
 */
int	audit_format_policy_open(const struct audit_policy *, struct strbuf *);

/* audit_escape_kv - append value double-quoted and escaped as above. */
int	audit_escape_kv(struct strbuf *, const char *, size_t size);

/* audit_escape_json - append value as a JSON string (with quotes). */
int	audit_escape_json(struct strbuf *, const char *, size_t size);

/* audit_format_time - "2026-11-24T09:10:58.123Z" into buf (>= 32 bytes). */
char	*audit_format_time(const struct timespec *, char *buf, size_t size);

#endif /* TLSPOLICY_AUDIT_H */
