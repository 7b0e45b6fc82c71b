/*
 * conf.h - the configuration file: load, validate, print
 *
 * One file in the style milter admins know (opendkim.conf): "key value"
 * lines, keys case-insensitive, '#' comments, and sections:
 *
 *   socket inet:8895@127.0.0.1          # global keys first
 *   [listener submission]               # one section per listener
 *   port 587
 *   require-tls yes
 *   [default]                           # sessions no listener matches
 *
 * Loading yields a complete, validated, immutable struct conf, or an error
 * "file:line: found ..., expected ..." and nothing.  Unknown keys are
 * errors.  The config holds no reference count: session.c owns the
 * current-config pointer and the counting.  No libmilter.
 */
#ifndef TLSPOLICY_CONF_H
#define TLSPOLICY_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "auditfsync.h"
#include "policy.h"

#define CONF_DEFAULT_SOCKET	"inet:8895@127.0.0.1"
#define CONF_ERROR_MAX		512

/* record-sender values: what decision records keep of the envelope sender. */
#define CONF_SENDER_NONE	0	/* nothing */
#define CONF_SENDER_DOMAIN	1	/* its domain (default) */
#define CONF_SENDER_ADDRESS	2	/* the whole address */

enum conf_match {
	CONF_MATCH_ANY = 0,	/* port or name matches */
	CONF_MATCH_ALL,		/* every given criterion matches */
};

struct conf_listener {
	char			*label;		/* section name; "default" for [default] */
	unsigned		*ports;		/* owned; n_ports entries */
	size_t			 n_ports;
	char			**names;	/* owned; {daemon_name} values */
	size_t			 n_names;
	enum conf_match		 match;
	struct policy_rules	 rules;
	unsigned		 line;		/* where the section starts; 0 built in */
};

struct conf {
	char			*path;		/* file loaded; NULL for the built-in */
	char			*socket;	/* libmilter socket spec */
	char			*pid_file;	/* NULL: none */
	bool			 syslog;	/* decision lines to syslog */
	int			 syslog_facility; /* LOG_MAIL ... */
	char			*audit_log;	/* JSON Lines file; NULL: none */
	char			*log_file;	/* every log line too; NULL: none */
	char			*audit_key_file; /* HMAC key for the chain; NULL: none */
	char			*audit_seal_state; /* sealing state, or NULL */
	enum audit_fsync	 audit_fsync;	/* auditfsync.h */
	unsigned		 record_sender;	/* CONF_SENDER_* */
	enum policy_action	 audit_failure_action; /* record not written: tempfail|reject */
	enum policy_action	 failure_action; /* internal failure: tempfail|reject */
	bool			 request_macros; /* ask the MTA for macros (smfi_setsymlist) */
	bool			 log_debug;	/* debug lines */
	char			*userid;	/* "user[:group]" to run as; NULL: none */
	bool			 allow_root;	/* may keep running as root */
	unsigned		 socket_mode;	/* unix socket mode (default 0660) */
	char			*socket_group;	/* unix socket group; NULL: userid's */
	char			*metrics_listen; /* metrics HTTP socket; NULL: none */
	struct conf_listener	*listeners;	/* owned, file order */
	size_t			 n_listeners;
	struct conf_listener	 fallback;	/* [default] */
	char			 fingerprint[65]; /* SHA-256 (hex) of conf_print's
						 * text, set by the daemon before
						 * the config is installed (policyrec.h);
						 * "" when not set */
};

/*
 * Values from outside the file (the command line's -p and -u) that take
 * the place of the config's socket and userid.  A loaded config is never
 * changed by them: whoever needs the value in force asks conf_socket()
 * or conf_userid() with both.  A NULL member, or no struct: the config's.
 */
struct conf_overrides {
	const char	*socket;	/* -p */
	const char	*userid;	/* -u */
};

/* At most this many errors are reported per file; then the load stops. */
#define CONF_ERRORS_MAX		20

struct conf_error {
	char		text[CONF_ERROR_MAX];	/* the first: "file:line: ..." */
	char		more[CONF_ERROR_MAX * 4]; /* the others, one per line */
	unsigned	n_errors;		/* 0 or more; 1: only text */
};

/*
 * conf_load - read and validate path.  Returns a new config owned by the
 * caller (free with conf_free), or NULL with err filled: every error in
 * the file up to CONF_ERRORS_MAX, the first in err->text, the others in
 * err->more (see conf_error_print).
 */
struct conf *conf_load(const char *path, struct conf_error *err);

/*
 * conf_load_string - as conf_load, from text; name is used in messages in
 * place of the file name.  For tests and fuzzing.
 */
struct conf *conf_load_string(const char *text, size_t size, const char *name,
	    struct conf_error *err);

/*
 * conf_builtin - the built-in policy used without a config file
 * (RFC 8314 / RFC 6409):
 *   submission  port 587 or name submission/MSA: require-tls, require-auth,
 *               min-tls-version TLSv1.2
 *   submissions port 465 or name submissions/smtps/MSA-TLS: require-tls,
 *               require-auth, min-tls-version TLSv1.2
 *   default     auth-requires-tls only (25 and everything else)
 * Exits the process on allocation failure (start-up only).
 */
struct conf *conf_builtin(void);

/*
 * conf_error_print - every error of err, one per line, each line starting
 * with prefix.  0, or -1 when a write failed.
 */
int	conf_error_print(const struct conf_error *err, const char *prefix,
	    FILE *fp);

/*
 * conf_socket - the libmilter socket in force: ov's if it has one, else
 * conf's.  Borrowed from ov or conf.
 */
const char *conf_socket(const struct conf *, const struct conf_overrides *ov);

/*
 * conf_userid - the user[:group] to run as: ov's if it has one, else
 * conf's (NULL: none).  Borrowed from ov or conf.
 */
const char *conf_userid(const struct conf *, const struct conf_overrides *ov);

/*
 * conf_override - the value ov (NULL: none) puts in place of the global
 * key name ("socket", "userid"), or NULL when it leaves the key alone.
 */
const char *conf_override(const struct conf_overrides *ov, const char *name);

/*
 * conf_key_is_reloadable - a reload (SIGHUP) applies this global key;
 * otherwise its running value stays until a restart.
 */
bool	conf_key_is_reloadable(const char *name);

/*
 * conf_diff - the global keys whose values differ between the running
 * config a and the reloaded b, names joined by ", ": those a reload
 * applies into applied, those that need a restart into restart (cut to
 * the sizes given).  Keys ov (NULL: none) overrides are in force
 * whatever the files say, and are left out.
 */
void	conf_diff(const struct conf *a, const struct conf *b,
	    const struct conf_overrides *ov, char *applied,
	    size_t applied_size, char *restart, size_t restart_size);

/*
 * conf_keep_running - before a reloaded config b replaces the running a:
 * b takes a's value of the global key name, or with name NULL of every
 * global key a reload does not apply, so b says what is in force.  Only
 * for a config not yet shared.  0, or -1 when out of memory.
 */
int	conf_keep_running(struct conf *b, const struct conf *a,
	    const char *name);

/* conf_free - free a config and set the pointer to NULL; NULL is fine. */
void	conf_free(struct conf **);

/*
 * conf_print - every global key with its effective value and the
 * effective policy per listener, as "-n" shows it.  0, or -1 when a
 * write failed (a full disk, a closed pipe).
 */
int	conf_print(const struct conf *, FILE *);

/*
 * conf_print_with - as conf_print, with the values ov (NULL: none) puts
 * in place of the config's: what "-n -p ..." shows.
 */
int	conf_print_with(const struct conf *, const struct conf_overrides *ov,
	    FILE *);

#endif /* TLSPOLICY_CONF_H */
