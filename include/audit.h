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
 *
 * The hash chain (format version 2, docs/audit-format.md): the file
 * records are {"v":2,<fields>,"prev":"P","hash":"H"} and a newline, where
 * H = hex SHA-256 (or HMAC-SHA256 with the key) of the line without
 * ,"hash":"H" and without the newline, and P = H of the record before it
 * in the chain (across rotated files), or AUDIT_CHAIN_ANCHOR for the
 * first record ever.  audit_sink_write_chained() adds P and H under the
 * sink's lock, so the chain order is the file order.
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
	AUDIT_TYPE_SESSION,		/* "session": connect to close */
};

/* Hex digits of a chain hash, and the "prev" of the first record ever. */
#define AUDIT_HASH_HEX		64
#define AUDIT_CHAIN_ANCHOR \
	"0000000000000000000000000000000000000000000000000000000000000000"
/* The longest key read from audit-key-file. */
#define AUDIT_KEY_MAX		1024

/* When the sink calls fdatasync(2). */
enum audit_fsync {
	AUDIT_FSYNC_INTERVAL = 0,	/* in audit_sink_sync (the daemon: every second) */
	AUDIT_FSYNC_EVERY,		/* after every record, before the reply */
	AUDIT_FSYNC_NONE,		/* leave it to the kernel */
};

/* One session, connect to close: the "session" record. */
struct audit_session {
	struct timespec		 time;		/* close */
	struct timespec		 started;	/* connect (negotiate) */
	const char		*session_id;	/* borrowed */
	const char		*listener;	/* matched section label */
	const struct facts	*facts;		/* borrowed: the last facts seen */
	unsigned		 n_helo;	/* HELO/EHLO seen */
	unsigned		 n_mail;	/* MAIL FROM decided */
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
 * audit_chain_hash - hex SHA-256 of data (HMAC-SHA256 when keylen > 0)
 * into hex (AUDIT_HASH_HEX + 1 bytes).  0, or -1 (OpenSSL failure).
 */
int	audit_chain_hash(const unsigned char *key, size_t keylen,
	    const char *data, size_t size, char *hex);

/* audit_escape_kv - append value double-quoted and escaped as above. */
int	audit_escape_kv(struct strbuf *, const char *, size_t size);

/* audit_escape_json - append value as a JSON string (with quotes). */
int	audit_escape_json(struct strbuf *, const char *, size_t size);

/* audit_format_time - "2026-11-24T09:10:58.123Z" into buf (>= 32 bytes). */
char	*audit_format_time(const struct timespec *, char *buf, size_t size);

struct audit_sink;

/*
 * audit_sink_open - open path for appending (mode 0640, created if
 * needed).  The chain continues from the "hash" of the file's last
 * complete line, else starts at AUDIT_CHAIN_ANCHOR; a file that ends in
 * a torn line gets a newline before the next record.  Returns a new
 * sink, or NULL with errno.
 */
struct audit_sink *audit_sink_open(const char *path);

/*
 * audit_sink_write - write size bytes (after the queued lines) with one
 * write(2); 0, or -1 with errno.
 */
int	audit_sink_write(struct audit_sink *, const char *, size_t size);

/*
 * audit_sink_write_chained - close the open record in sb with "prev" and
 * "hash" (see above), write it with one write(2) and fdatasync(2) as
 * configured, all under the sink's lock; the chain advances only when
 * the record was written whole.  0, or -1 with errno.
 */
int	audit_sink_write_chained(struct audit_sink *, struct strbuf *sb);

/*
 * audit_sink_queue_chained - chain the open record in sb like
 * audit_sink_write_chained(), but leave the line queued in the sink: it
 * is written, in chain order, together with the next record written, by
 * audit_sink_sync(), reopen or close, or at once when 64 KiB are queued
 * or fsync is every.  For records no reply waits on (the session record
 * at close): under load they cost no write(2) of their own.  0 once
 * queued (or written), or -1 with errno.  A queued line that a later
 * write fails to write is dropped and counted (audit_sink_take_lost).
 */
int	audit_sink_queue_chained(struct audit_sink *, struct strbuf *sb);

/*
 * audit_sink_drain - at shutdown: from now on queue nothing (a record a
 * late worker queues is written at once), then audit_sink_sync().
 */
int	audit_sink_drain(struct audit_sink *);

/* audit_sink_take_lost - queued lines dropped by failed writes since the last call. */
unsigned long audit_sink_take_lost(struct audit_sink *);

/* audit_sink_set_key - HMAC key for the chain (copied); 0, or -1 (EINVAL). */
int	audit_sink_set_key(struct audit_sink *, const unsigned char *,
	    size_t size);

/* audit_sink_set_fsync - when to fdatasync(2). */
void	audit_sink_set_fsync(struct audit_sink *, enum audit_fsync);

/*
 * audit_sink_sync - write the queued lines, then fdatasync if records were
 * written since the last sync (and fsync is not none); 0, or -1 with errno.
 */
int	audit_sink_sync(struct audit_sink *);

/* audit_sink_path - the file the sink appends to. */
const char *audit_sink_path(const struct audit_sink *);

/* audit_sink_last_hash - copy the chain head (65 bytes) into hex. */
void	audit_sink_last_hash(struct audit_sink *, char *hex);

/* audit_sink_reopen - reopen the same path; on failure the old fd stays. 0 or -1. */
int	audit_sink_reopen(struct audit_sink *);

/* audit_sink_close - close and free; sets the pointer to NULL; NULL is fine. */
void	audit_sink_close(struct audit_sink **);

#endif /* TLSPOLICY_AUDIT_H */
