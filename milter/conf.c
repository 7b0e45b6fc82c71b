/*
 * NAME
 *	conf - the configuration file: load, validate
 *
 * SYNOPSIS
 *	#include "conf.h"
 *	#include "conf_int.h"
 *
 * DESCRIPTION
 *	Reads a file of "key value" lines: keys case-insensitive, the value
 *	the rest of the line with surrounding whitespace and one pair of
 *	enclosing double quotes removed, '#' starting a comment at the start
 *	of a line or after whitespace (outside double quotes).  Global keys
 *	come first, then "[listener LABEL]" sections and at most one
 *	"[default]".
 *
 *	The loader is generic over one table (keys[]): every key with its
 *	type, its scope, the struct field it sets and a one-line
 *	description.  Each type has one small setter that validates the
 *	value.  The defaults of the global settings are one designated-
 *	initializer struct (defaults); the rules of every section start
 *	from policy_rules_init() plus the global values of the keys allowed
 *	in both places (action, trusted-networks, RULE-action, RULE-reply).
 *	Without a [default] section, sessions no listener matches get those
 *	global values with only auth-requires-tls on.
 *
 *	Loading yields a complete, validated config owned by the caller, or
 *	NULL and one error.  The config is immutable afterwards and may be
 *	read from any number of threads.  The setters of the value types
 *	live in conf_value.c (sharing conf_int.h), conf_print() in
 *	conf_print.c, what a reload applies in conf_reload.c, and matching
 *	sessions to listeners in listener.c.  No libmilter, no logging, no
 *	global state.
 *
 * DIAGNOSTICS
 *	Errors go to the caller's struct conf_error, always as
 *	"file:line: key: found 'value', expected ...".  Echoed values are
 *	cut at 60 bytes and control or non-ASCII bytes shown as \xNN.
 *	Allocation failure while loading is the error "out of memory";
 *	conf_builtin() exits the process instead (start-up only).
 *
 * SEE ALSO
 *	conf_value.c, conf_print.c, conf_reload.c, listener.c, policy.c
 *	(the rules), netaddr.c, tlsinfo.c, tlspolicy-milter.conf(5)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <sysexits.h>

#include "auditfsync.h"
#include "conf.h"
#include "conf_int.h"
#include "netaddr.h"
#include "policy.h"

#define LINE_MAX_BYTES	4096		/* longest line (bytes) */
#define FILE_MAX_BYTES	(1024 * 1024)	/* largest file */
#define LABEL_MAX	64		/* longest listener label */

#define CONF(f)		CONF_TARGET_CONF, offsetof(struct conf, f)
#define RULES(f)	CONF_TARGET_RULES, offsetof(struct policy_rules, f)
#define LISTENER(f)	CONF_TARGET_LISTENER, \
			offsetof(struct conf_listener, f)
#define ATLS		POLICY_RULE_AUTH_REQUIRES_TLS
#define RTLS		POLICY_RULE_REQUIRE_TLS
#define MINV		POLICY_RULE_MIN_TLS_VERSION
#define RAUTH		POLICY_RULE_REQUIRE_AUTH
#define MINB		POLICY_RULE_MIN_CIPHER_BITS
#define RFS		POLICY_RULE_REQUIRE_FORWARD_SECRECY
#define RAEAD		POLICY_RULE_REQUIRE_AEAD
#define FORB		POLICY_RULE_FORBID_CIPHERS
#define RCERT		POLICY_RULE_REQUIRE_CLIENT_CERT

/*
 * Every key: name, type, scope, field, rule, description.  One entry per
 * line; tests/unit/check_docs.sh reads the names from here.
 */
static const struct conf_key keys[] = {
	{ "socket", CONF_KEY_SOCKET, CONF_SCOPE_GLOBAL,
	    CONF(socket), -1, "libmilter socket the MTA connects to" },
	{ "pid-file", CONF_KEY_PATH, CONF_SCOPE_GLOBAL,
	    CONF(pid_file), -1, "file that receives the process id" },
	{ "syslog", CONF_KEY_BOOL, CONF_SCOPE_GLOBAL,
	    CONF(syslog), -1, "write decision lines to syslog" },
	{ "syslog-facility", CONF_KEY_FACILITY, CONF_SCOPE_GLOBAL,
	    CONF(syslog_facility), -1, "syslog facility" },
	{ "audit-log", CONF_KEY_PATH, CONF_SCOPE_GLOBAL,
	    CONF(audit_log), -1, "JSON Lines audit file" },
	{ "log-file", CONF_KEY_PATH, CONF_SCOPE_GLOBAL,
	    CONF(log_file), -1, "file that receives every log line too" },
	{ "failure-action", CONF_KEY_FAILURE, CONF_SCOPE_GLOBAL,
	    CONF(failure_action), -1, "answer when the milter itself fails" },
	{ "audit-key-file", CONF_KEY_PATH, CONF_SCOPE_GLOBAL,
	    CONF(audit_key_file), -1, "HMAC key for the audit hash chain" },
	{ "audit-seal-state", CONF_KEY_PATH, CONF_SCOPE_GLOBAL,
	    CONF(audit_seal_state), -1,
	    "forward-secure sealing state (--setup-keys)" },
	{ "audit-fsync", CONF_KEY_FSYNC, CONF_SCOPE_GLOBAL,
	    CONF(audit_fsync), -1, "when audit records are synced to disk" },
	{ "record-sender", CONF_KEY_SENDER, CONF_SCOPE_GLOBAL,
	    CONF(record_sender), -1,
	    "envelope sender in decision records: none, domain or address" },
	{ "audit-failure-action", CONF_KEY_FAILURE, CONF_SCOPE_GLOBAL,
	    CONF(audit_failure_action), -1,
	    "answer when a decision record cannot be written" },
	{ "request-macros", CONF_KEY_BOOL, CONF_SCOPE_GLOBAL,
	    CONF(request_macros), -1, "ask the MTA for the needed macros" },
	{ "log-debug", CONF_KEY_BOOL, CONF_SCOPE_GLOBAL,
	    CONF(log_debug), -1, "log debug lines" },
	{ "userid", CONF_KEY_USER, CONF_SCOPE_GLOBAL,
	    CONF(userid), -1, "user[:group] to run as after start-up" },
	{ "allow-root", CONF_KEY_BOOL, CONF_SCOPE_GLOBAL,
	    CONF(allow_root), -1, "keep running as root without userid" },
	{ "socket-mode", CONF_KEY_MODE, CONF_SCOPE_GLOBAL,
	    CONF(socket_mode), -1, "mode of a unix socket (octal)" },
	{ "socket-group", CONF_KEY_GROUP, CONF_SCOPE_GLOBAL,
	    CONF(socket_group), -1, "group of a unix socket (the MTA's)" },
	{ "metrics-listen", CONF_KEY_SOCKET, CONF_SCOPE_GLOBAL,
	    CONF(metrics_listen), -1, "socket of the Prometheus /metrics endpoint" },
	{ "action", CONF_KEY_ACTION, CONF_SCOPE_BOTH,
	    RULES(action), -1, "what a failing rule does" },
	{ "trusted-networks", CONF_KEY_NETWORKS, CONF_SCOPE_BOTH,
	    RULES(trusted), -1, "clients exempt from all rules" },
	{ "auth-requires-tls-action", CONF_KEY_ACTION, CONF_SCOPE_BOTH,
	    RULES(rule_action[ATLS]), ATLS, "action of auth-requires-tls" },
	{ "auth-requires-tls-reply", CONF_KEY_REPLY, CONF_SCOPE_BOTH,
	    RULES(reply[ATLS]), ATLS, "reply of auth-requires-tls" },
	{ "require-tls-action", CONF_KEY_ACTION, CONF_SCOPE_BOTH,
	    RULES(rule_action[RTLS]), RTLS, "action of require-tls" },
	{ "require-tls-reply", CONF_KEY_REPLY, CONF_SCOPE_BOTH,
	    RULES(reply[RTLS]), RTLS, "reply of require-tls" },
	{ "min-tls-version-action", CONF_KEY_ACTION, CONF_SCOPE_BOTH,
	    RULES(rule_action[MINV]), MINV, "action of min-tls-version" },
	{ "min-tls-version-reply", CONF_KEY_REPLY, CONF_SCOPE_BOTH,
	    RULES(reply[MINV]), MINV, "reply of min-tls-version" },
	{ "exempt-users", CONF_KEY_USERS, CONF_SCOPE_BOTH,
	    RULES(exempt_users), -1, "AUTH users or @domains exempt from all rules" },
	{ "min-cipher-bits-action", CONF_KEY_ACTION, CONF_SCOPE_BOTH,
	    RULES(rule_action[MINB]), MINB, "action of min-cipher-bits" },
	{ "min-cipher-bits-reply", CONF_KEY_REPLY, CONF_SCOPE_BOTH,
	    RULES(reply[MINB]), MINB, "reply of min-cipher-bits" },
	{ "require-forward-secrecy-action", CONF_KEY_ACTION, CONF_SCOPE_BOTH,
	    RULES(rule_action[RFS]), RFS, "action of require-forward-secrecy" },
	{ "require-forward-secrecy-reply", CONF_KEY_REPLY, CONF_SCOPE_BOTH,
	    RULES(reply[RFS]), RFS, "reply of require-forward-secrecy" },
	{ "require-aead-action", CONF_KEY_ACTION, CONF_SCOPE_BOTH,
	    RULES(rule_action[RAEAD]), RAEAD, "action of require-aead" },
	{ "require-aead-reply", CONF_KEY_REPLY, CONF_SCOPE_BOTH,
	    RULES(reply[RAEAD]), RAEAD, "reply of require-aead" },
	{ "forbid-ciphers-action", CONF_KEY_ACTION, CONF_SCOPE_BOTH,
	    RULES(rule_action[FORB]), FORB, "action of forbid-ciphers" },
	{ "forbid-ciphers-reply", CONF_KEY_REPLY, CONF_SCOPE_BOTH,
	    RULES(reply[FORB]), FORB, "reply of forbid-ciphers" },
	{ "require-client-cert-action", CONF_KEY_ACTION, CONF_SCOPE_BOTH,
	    RULES(rule_action[RCERT]), RCERT, "action of require-client-cert" },
	{ "require-client-cert-reply", CONF_KEY_REPLY, CONF_SCOPE_BOTH,
	    RULES(reply[RCERT]), RCERT, "reply of require-client-cert" },
	{ "require-auth-action", CONF_KEY_ACTION, CONF_SCOPE_BOTH,
	    RULES(rule_action[RAUTH]), RAUTH, "action of require-auth" },
	{ "require-auth-reply", CONF_KEY_REPLY, CONF_SCOPE_BOTH,
	    RULES(reply[RAUTH]), RAUTH, "reply of require-auth" },
	{ "port", CONF_KEY_PORTS, CONF_SCOPE_LISTENER,
	    LISTENER(ports), -1, "{daemon_port} values of the listener" },
	{ "name", CONF_KEY_NAMES, CONF_SCOPE_LISTENER,
	    LISTENER(names), -1, "{daemon_name} values of the listener" },
	{ "match", CONF_KEY_MATCH, CONF_SCOPE_LISTENER,
	    LISTENER(match), -1, "port or name suffices (any), or all must" },
	{ "require-tls", CONF_KEY_BOOL, CONF_SCOPE_SECTION,
	    RULES(require_tls), -1, "refuse MAIL on a plaintext session" },
	{ "require-auth", CONF_KEY_BOOL, CONF_SCOPE_SECTION,
	    RULES(require_auth), -1, "refuse MAIL without AUTH" },
	{ "auth-requires-tls", CONF_KEY_BOOL, CONF_SCOPE_SECTION,
	    RULES(auth_requires_tls), -1, "refuse MAIL after plaintext AUTH" },
	{ "min-tls-version", CONF_KEY_VERSION, CONF_SCOPE_SECTION,
	    RULES(min_tls_version), -1, "oldest TLS version accepted" },
	{ "min-cipher-bits", CONF_KEY_BITS, CONF_SCOPE_SECTION,
	    RULES(min_cipher_bits), -1, "weakest cipher strength accepted" },
	{ "require-forward-secrecy", CONF_KEY_BOOL, CONF_SCOPE_SECTION,
	    RULES(require_forward_secrecy), -1, "refuse ciphers without FS" },
	{ "require-aead", CONF_KEY_BOOL, CONF_SCOPE_SECTION,
	    RULES(require_aead), -1, "refuse ciphers that are not AEAD" },
	{ "forbid-ciphers", CONF_KEY_CIPHERS, CONF_SCOPE_SECTION,
	    RULES(forbid_classes), -1, "cipher classes and name patterns refused" },
	{ "require-client-cert", CONF_KEY_BOOL, CONF_SCOPE_SECTION,
	    RULES(require_client_cert), -1, "refuse without a verified client certificate" },
	{ "client-cert-issuer", CONF_KEY_PATTERN, CONF_SCOPE_SECTION,
	    RULES(client_cert_issuer), -1, "pattern the certificate issuer must match" },
	{ "client-cert-subject", CONF_KEY_PATTERN, CONF_SCOPE_SECTION,
	    RULES(client_cert_subject), -1, "pattern the certificate subject must match" },
};
#define N_KEYS	(sizeof(keys) / sizeof(keys[0]))

/* The defaults of the global settings (socket: CONF_DEFAULT_SOCKET). */
static const struct conf defaults = {
	.path = NULL,
	.socket = NULL,
	.pid_file = NULL,
	.syslog = true,
	.syslog_facility = LOG_MAIL,
	.audit_log = NULL,
	.failure_action = POLICY_ACTION_TEMPFAIL,
	.audit_fsync = AUDIT_FSYNC_INTERVAL,
	.record_sender = CONF_SENDER_DOMAIN,
	.audit_failure_action = POLICY_ACTION_TEMPFAIL,
	.request_macros = true,
	.log_debug = false,
	.socket_mode = 0660,
	.socket_group = NULL,
	.listeners = NULL,
	.n_listeners = 0,
};

static int	read_file(FILE *, char **, size_t *, const char *,
		    struct conf_error *);
static int	parse(struct conf_loader *, char *, size_t);
static int	parse_line(struct conf_loader *, char *);
static void	strip_comment(char *);
static char	*trim(char *);
static int	start_section(struct conf_loader *, char *);
static int	open_listener(struct conf_loader *, const char *);
static int	open_default(struct conf_loader *, unsigned);
static int	init_section(struct conf_loader *, struct conf_listener *,
		    const char *);
static int	end_section(struct conf_loader *);
static int	set_key(struct conf_loader *, const char *, char *);
static int	scope_error(struct conf_loader *, const struct conf_key *);
static int	unquote(struct conf_loader *, const struct conf_key *,
		    char **);
static void	*field_of(struct conf_loader *, const struct conf_key *);
static const struct conf_key *find_key(const char *);
static const char *suggest(const char *);
static size_t	edit_distance(const char *, const char *);
static int	inherit(struct policy_rules *, const struct policy_rules *);
static struct conf *new_conf(void);
static void	free_listener(struct conf_listener *);

struct conf *
conf_load(const char *path, struct conf_error *err)
{
	struct conf *conf;
	FILE *fp;
	char *text;
	size_t size;

	err->text[0] = '\0';
	err->more[0] = '\0';
	err->n_errors = 0;
	if ((fp = fopen(path, "r")) == NULL) {
		(void) snprintf(err->text, sizeof(err->text),
		    "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (read_file(fp, &text, &size, path, err) == -1) {
		(void) fclose(fp);
		return NULL;
	}
	(void) fclose(fp);
	conf = conf_load_string(text, size, path, err);
	free(text);
	if (conf != NULL && (conf->path = strdup(path)) == NULL) {
		conf_free(&conf);
		(void) snprintf(err->text, sizeof(err->text),
		    "%s: out of memory", path);
	}
	return conf;
}

struct conf *
conf_load_string(const char *text, size_t size, const char *name,
    struct conf_error *err)
{
	struct conf_loader ld;
	unsigned seen[N_KEYS];
	char *copy;
	int rc;

	memset(&ld, 0, sizeof(ld));
	ld.name = name;
	ld.err = err;
	ld.seen = seen;
	memset(seen, 0, sizeof(seen));
	err->text[0] = '\0';
	err->more[0] = '\0';
	err->n_errors = 0;
	if ((ld.conf = new_conf()) == NULL ||
	    (copy = malloc(size + 1)) == NULL) {
		conf_free(&ld.conf);
		(void) snprintf(err->text, sizeof(err->text),
		    "%s: out of memory", name);
		return NULL;
	}
	memcpy(copy, text, size);
	copy[size] = '\0';
	policy_rules_init(&ld.global);
	rc = parse(&ld, copy, size);
	free(copy);
	policy_rules_free(&ld.global);
	if (rc == -1)
		conf_free(&ld.conf);
	return ld.conf;
}

struct conf *
conf_builtin(void)
{
	static const char text[] =
	    "[listener submission]\n"
	    "port 587\n"
	    "name submission, MSA\n"
	    "require-tls yes\n"
	    "require-auth yes\n"
	    "min-tls-version TLSv1.2\n"
	    "[listener submissions]\n"
	    "port 465\n"
	    "name submissions, smtps, MSA-TLS\n"
	    "require-tls yes\n"
	    "require-auth yes\n"
	    "min-tls-version TLSv1.2\n"
	    "[default]\n"
	    "auth-requires-tls yes\n";
	struct conf_error err;
	struct conf *conf;

	conf = conf_load_string(text, sizeof(text) - 1, "built-in", &err);
	if (conf == NULL) {
		(void) fprintf(stderr, "tlspolicy-milter: %s\n", err.text);
		exit(EX_OSERR);
	}
	for (size_t i = 0; i < conf->n_listeners; i++)
		conf->listeners[i].line = 0;
	conf->fallback.line = 0;
	return conf;
}

void
conf_free(struct conf **confp)
{
	struct conf *conf = *confp;

	if (conf == NULL)
		return;
	for (size_t i = 0; i < conf->n_listeners; i++)
		free_listener(&conf->listeners[i]);
	free(conf->listeners);
	free_listener(&conf->fallback);
	free(conf->path);
	free(conf->socket);
	free(conf->pid_file);
	free(conf->userid);
	free(conf->socket_group);
	free(conf->log_file);
	free(conf->audit_log);
	free(conf->audit_key_file);
	free(conf->audit_seal_state);
	free(conf->metrics_listen);
	free(conf);
	*confp = NULL;
}

/* conf_fail - format "file:line: ..." into the error; returns -1. */
int
conf_fail(struct conf_loader *ld, const char *fmt, ...)
{
	char *text = ld->err->text;
	size_t size = sizeof(ld->err->text), used;
	va_list ap;
	int n;

	if (ld->err->n_errors++ > 0) {	/* the others go to more, one a line */
		used = strlen(ld->err->more);
		if (used + 2 >= sizeof(ld->err->more))
			return -1;
		text = ld->err->more + used;
		size = sizeof(ld->err->more) - used;
		if (used > 0) {
			*text++ = '\n';
			*text = '\0';
			size--;
		}
	}
	n = snprintf(text, size, "%s:%u: ", ld->name, ld->line);
	if (n < 0 || (size_t)n >= size)
		return -1;
	va_start(ap, fmt);
	(void) vsnprintf(text + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

const struct conf_key *
conf_keys(size_t *n)
{
	*n = N_KEYS;
	return keys;
}

int
conf_error_print(const struct conf_error *err, const char *prefix, FILE *fp)
{
	const char *p = err->more, *nl;

	if (fprintf(fp, "%s%s\n", prefix, err->text) < 0)
		return -1;
	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (fprintf(fp, "%s%.*s\n", prefix, nl != NULL ?
		    (int)(nl - p) : (int)strlen(p), p) < 0)
			return -1;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

/* conf_bad_value - "key: found 'value', expected <what the type wants>". */
int
conf_bad_value(struct conf_loader *ld, const struct conf_key *k, const char *v)
{
	char buf[CONF_SHOWN_MAX];

	return conf_fail(ld, "%s: found '%s', expected %s", k->name,
	    conf_shown(v, buf, sizeof(buf)), conf_types[k->type].expected);
}

/* conf_shown - v fit to quote: at most 60 bytes, control and 8-bit as \xNN. */
const char *
conf_shown(const char *v, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0, i;

	for (i = 0; v[i] != '\0' && i < 60 && n + 8 < size; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c >= 0x20 && c < 0x7f) {
			buf[n++] = (char)c;
			continue;
		}
		buf[n++] = '\\';
		buf[n++] = 'x';
		buf[n++] = hex[c >> 4];
		buf[n++] = hex[c & 0xf];
	}
	if (v[i] != '\0') {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* read_file - the whole file into a new buffer, at most FILE_MAX_BYTES. */
static int
read_file(FILE *fp, char **text, size_t *size, const char *path,
    struct conf_error *err)
{
	if ((*text = malloc(FILE_MAX_BYTES + 1)) == NULL) {
		(void) snprintf(err->text, sizeof(err->text),
		    "%s: out of memory", path);
		return -1;
	}
	errno = 0;
	*size = fread(*text, 1, FILE_MAX_BYTES + 1, fp);
	if (ferror(fp))
		(void) snprintf(err->text, sizeof(err->text),
		    "%s: cannot read: %s", path, strerror(errno));
	else if (*size > FILE_MAX_BYTES)
		(void) snprintf(err->text, sizeof(err->text),
		    "%s: file larger than 1 MiB, expected a config file",
		    path);
	else
		return 0;
	free(*text);
	*text = NULL;
	return -1;
}

/* parse - every line of the text, then the end checks. */
static int
parse(struct conf_loader *ld, char *text, size_t size)
{
	char *line = text, *nl, *nul;

	if ((nul = memchr(text, '\0', size)) != NULL) {
		ld->line = 1;
		for (char *p = text; p < nul; p++)
			ld->line += *p == '\n';
		return conf_fail(ld, "found a NUL byte, expected text");
	}
	/* every error is reported (up to CONF_ERRORS_MAX), each with its line */
	for (ld->line = 1; *line != '\0'; ld->line++) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (strlen(line) > LINE_MAX_BYTES)
			(void) conf_fail(ld, "found a line of %zu bytes,"
			    " expected at most %d", strlen(line),
			    LINE_MAX_BYTES);
		else
			(void) parse_line(ld, line);
		if (ld->err->n_errors >= CONF_ERRORS_MAX) {
			(void) conf_fail(ld, "more than %d errors; stopped"
			    " reading", CONF_ERRORS_MAX);
			return -1;
		}
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	if (end_section(ld) == -1 || ld->err->n_errors > 0)
		return -1;
	return ld->conf->fallback.label != NULL ? 0 : open_default(ld, 0);
}

/* parse_line - blank, comment, section header or "key value". */
static int
parse_line(struct conf_loader *ld, char *line)
{
	char *key, *value;

	strip_comment(line);
	line = trim(line);
	if (*line == '\0')
		return 0;
	if (*line == '[')
		return start_section(ld, line);
	key = line;
	value = key;
	while (*value != '\0' && !isspace((unsigned char)*value))
		value++;
	if (*value != '\0')
		*value++ = '\0';
	return set_key(ld, key, trim(value));
}

/* strip_comment - cut at a '#' that starts the line or follows whitespace. */
static void
strip_comment(char *line)
{
	bool in_quotes = false;

	for (char *p = line; *p != '\0'; p++) {
		if (*p == '"')
			in_quotes = !in_quotes;
		else if (*p == '#' && !in_quotes &&
		    (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

/* trim - skip leading whitespace and cut trailing whitespace. */
static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* start_section - "[listener LABEL]" or "[default]". */
static int
start_section(struct conf_loader *ld, char *line)
{
	char buf[CONF_SHOWN_MAX], *inner, *end = line + strlen(line);

	if (end_section(ld) == -1)
		return -1;
	(void) conf_shown(line, buf, sizeof(buf));
	if (end[-1] != ']' || end - line < 2)
		return conf_fail(ld, "found '%s', expected [listener LABEL] or"
		    " [default]", buf);
	end[-1] = '\0';
	inner = trim(line + 1);
	if (strcasecmp(inner, "default") == 0)
		return open_default(ld, ld->line);
	if (strncasecmp(inner, "listener", 8) != 0 ||
	    !isspace((unsigned char)inner[8]))
		return conf_fail(ld, "found '%s', expected [listener LABEL] or"
		    " [default]", buf);
	return open_listener(ld, trim(inner + 8));
}

/* open_listener - a new [listener LABEL] section. */
static int
open_listener(struct conf_loader *ld, const char *label)
{
	struct conf *conf = ld->conf;
	struct conf_listener *grown;
	char buf[CONF_SHOWN_MAX];
	size_t len = strlen(label);

	if (len == 0 || len > LABEL_MAX ||
	    strspn(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") != len)
		return conf_fail(ld, "listener label: found '%s', expected"
		    " 1 to %d letters, digits, '-', '_' or '.'",
		    conf_shown(label, buf, sizeof(buf)), LABEL_MAX);
	if (strcasecmp(label, "default") == 0)
		return conf_fail(ld, "listener label: found 'default', expected"
		    " another name ([default] is a section of its own)");
	for (size_t i = 0; i < conf->n_listeners; i++)
		if (strcasecmp(conf->listeners[i].label, label) == 0)
			return conf_fail(ld, "found a second listener '%s',"
			    " expected unique labels (the first is at line"
			    " %u)", label, conf->listeners[i].line);
	grown = realloc(conf->listeners, (conf->n_listeners + 1) *
	    sizeof(*grown));
	if (grown == NULL)
		return conf_fail(ld, "out of memory");
	conf->listeners = grown;
	ld->section = &conf->listeners[conf->n_listeners++];
	return init_section(ld, ld->section, label);
}

/* open_default - the [default] section; line 0 when there is none. */
static int
open_default(struct conf_loader *ld, unsigned line)
{
	struct conf_listener *l = &ld->conf->fallback;

	if (l->label != NULL)
		return conf_fail(ld, "found a second [default] section,"
		    " expected at most one (the first is at line %u)",
		    l->line);
	ld->line = line;
	ld->section = l;
	return init_section(ld, l, "default");
}

/* init_section - a section's start: built-in rules plus the global values. */
static int
init_section(struct conf_loader *ld, struct conf_listener *l, const char *label)
{
	memset(l, 0, sizeof(*l));
	l->match = CONF_MATCH_ANY;
	l->line = ld->line;
	policy_rules_init(&l->rules);
	memset(ld->seen, 0, N_KEYS * sizeof(*ld->seen));
	if ((l->label = strdup(label)) == NULL ||
	    inherit(&l->rules, &ld->global) == -1)
		return conf_fail(ld, "out of memory");
	return 0;
}

/* end_section - check that the section just read is complete. */
static int
end_section(struct conf_loader *ld)
{
	struct conf_listener *l = ld->section;

	if (l == NULL || l == &ld->conf->fallback ||
	    l->n_ports > 0 || l->n_names > 0)
		return 0;
	ld->line = l->line;
	return conf_fail(ld, "listener '%s' has neither port nor name, expected"
	    " at least one", l->label);
}

/* set_key - find the key, check scope, duplicates and value, set it. */
static int
set_key(struct conf_loader *ld, const char *name, char *value)
{
	const struct conf_key *k;
	const char *hint;
	char buf[CONF_SHOWN_MAX];
	size_t i;

	if ((k = find_key(name)) == NULL) {
		hint = suggest(name);
		return conf_fail(ld, "unknown key '%s'%s%s%s",
		    conf_shown(name, buf, sizeof(buf)),
		    hint != NULL ? " (did you mean '" : "",
		    hint != NULL ? hint : "", hint != NULL ? "'?)" : "");
	}
	if (scope_error(ld, k) == -1)
		return -1;
	i = (size_t)(k - keys);
	if (ld->seen[i] != 0)
		return conf_fail(ld, "key '%s' given twice, expected once per"
		    " section (the first is at line %u)", k->name, ld->seen[i]);
	ld->seen[i] = ld->line;
	if (unquote(ld, k, &value) == -1)
		return -1;
	if (*value == '\0')
		return conf_fail(ld, "%s: found no value, expected %s", k->name,
		    conf_types[k->type].expected);
	return conf_types[k->type].set(ld, k, value, field_of(ld, k));
}

/* scope_error - -1 with a message when k may not appear here. */
static int
scope_error(struct conf_loader *ld, const struct conf_key *k)
{
	unsigned here;

	if (ld->section == NULL)
		here = CONF_SCOPE_GLOBAL;
	else if (ld->section == &ld->conf->fallback)
		here = CONF_SCOPE_DEFAULT;
	else
		here = CONF_SCOPE_LISTENER;
	if ((k->scope & here) != 0)
		return 0;
	if (k->scope == CONF_SCOPE_GLOBAL)
		return conf_fail(ld, "key '%s' is only allowed before the first"
		    " section", k->name);
	if (k->scope == CONF_SCOPE_LISTENER)
		return conf_fail(ld, "key '%s' is only allowed in a [listener]"
		    " section", k->name);
	return conf_fail(ld, "key '%s' is only allowed in a [listener] or"
	    " [default] section", k->name);
}

/* unquote - remove one pair of double quotes around the whole value. */
static int
unquote(struct conf_loader *ld, const struct conf_key *k, char **value)
{
	char *v = *value, buf[CONF_SHOWN_MAX];
	size_t len = strlen(v);

	if (len == 0 || v[0] != '"')
		return 0;
	if (len < 2 || v[len - 1] != '"')
		return conf_fail(ld, "%s: found '%s', expected a closing double"
		    " quote", k->name, conf_shown(v, buf, sizeof(buf)));
	v[len - 1] = '\0';
	*value = trim(v + 1);
	return 0;
}

/* field_of - where k's value goes in the current part. */
static void *
field_of(struct conf_loader *ld, const struct conf_key *k)
{
	char *base;

	switch (k->target) {
	case CONF_TARGET_CONF:
		base = (char *)ld->conf;
		break;
	case CONF_TARGET_RULES:
		base = (char *)(ld->section != NULL ? &ld->section->rules :
		    &ld->global);
		break;
	default:
		base = (char *)ld->section;
		break;
	}
	return base + k->offset;
}

/* find_key - the table entry of name, case-insensitively. */
static const struct conf_key *
find_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* suggest - the key nearest to name, within two edits; NULL if none. */
static const char *
suggest(const char *name)
{
	const char *best = NULL;
	size_t d, best_d = 3;

	for (size_t i = 0; i < N_KEYS; i++) {
		d = edit_distance(name, keys[i].name);
		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	return best;
}

/* edit_distance - Levenshtein distance, case-insensitive; large if long. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b), d[65], prev, tmp, best;

	if (n > 64 || m > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= m; j++)
		d[j] = j;
	for (size_t i = 1; i <= n; i++) {
		prev = d[0];
		d[0] = i;
		for (size_t j = 1; j <= m; j++) {
			tmp = d[j];
			best = prev + (tolower((unsigned char)a[i - 1]) !=
			    tolower((unsigned char)b[j - 1]));
			if (d[j] + 1 < best)
				best = d[j] + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			d[j] = best;
			prev = tmp;
		}
	}
	return d[m];
}

/* inherit - the global values of the keys allowed in both places. */
static int
inherit(struct policy_rules *dst, const struct policy_rules *src)
{
	dst->action = src->action;
	memcpy(dst->rule_action, src->rule_action, sizeof(dst->rule_action));
	memcpy(dst->has_reply, src->has_reply, sizeof(dst->has_reply));
	memcpy(dst->reply, src->reply, sizeof(dst->reply));
	for (size_t i = 0; i < src->trusted.n_blocks; i++)
		if (netaddr_list_add(&dst->trusted,
		    &src->trusted.blocks[i]) == -1)
			return -1;
	for (size_t i = 0; i < src->exempt_users.n_items; i++)
		if (policy_list_add(&dst->exempt_users,
		    src->exempt_users.items[i]) == -1)
			return -1;
	return 0;
}

/* new_conf - the defaults. */
static struct conf *
new_conf(void)
{
	struct conf *conf = malloc(sizeof(*conf));

	if (conf == NULL)
		return NULL;
	*conf = defaults;
	if ((conf->socket = strdup(CONF_DEFAULT_SOCKET)) == NULL) {
		free(conf);
		return NULL;
	}
	return conf;
}

/* free_listener - a section's storage. */
static void
free_listener(struct conf_listener *l)
{
	free(l->label);
	free(l->ports);
	for (size_t i = 0; i < l->n_names; i++)
		free(l->names[i]);
	free(l->names);
	policy_rules_free(&l->rules);
}
