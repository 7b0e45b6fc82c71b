/*
 * NAME
 *	conf - the configuration file: load, validate, match, print
 *
 * SYNOPSIS
 *	#include "conf.h"
 *
 * DESCRIPTION
 *	Reads a file of "key value" lines (keys case-insensitive, '#'
 *	comments at the start of a line or after whitespace, optional double
 *	quotes around a value) with global keys first and then one section
 *	per listener ("[listener LABEL]") and an optional "[default]".  One
 *	table lists every key with its scope, its setter and a one-line
 *	description; one designated-initializer struct holds the defaults.
 *	A section starts from the global values of the keys that may appear
 *	in both places (action, trusted-networks, per-rule actions and
 *	replies), then its own keys override them.
 *
 *	Loading yields a complete, validated config owned by the caller, or
 *	NULL and an error "file:line: what was found, what was expected".
 *	The config is immutable afterwards and may be read from any thread.
 *	No libmilter, no logging.
 *
 * DIAGNOSTICS
 *	Errors go to the caller's struct conf_error.  conf_builtin() exits
 *	the process on allocation failure (start-up only).
 *
 * SEE ALSO
 *	policy.c (the rules), netaddr.c, tlspolicy-milter.conf(5)
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "conf.h"
#include "facts.h"
#include "log.h"
#include "netaddr.h"
#include "policy.h"
#include "tlsinfo.h"

#define LINE_MAX_BYTES	4096
#define FILE_MAX_BYTES	(1024 * 1024)

enum scope { SCOPE_GLOBAL = 1, SCOPE_SECTION = 2, SCOPE_BOTH = 3 };

struct loader {
	const char		*name;		/* file name for messages */
	unsigned		 line;
	struct conf		*conf;
	struct conf_listener	*section;	/* NULL: global part */
	struct policy_rules	 global;	/* section defaults */
	unsigned		*seen;		/* line of each key in this part */
	struct conf_error	*err;
};

struct key {
	const char	*name;
	enum scope	 scope;
	int		(*set)(struct loader *, const struct key *, const char *);
	int		 rule;		/* for per-rule keys */
	const char	*help;
};

static int	set_socket(struct loader *, const struct key *, const char *);
static int	set_path(struct loader *, const struct key *, const char *);
static int	set_global_bool(struct loader *, const struct key *, const char *);
static int	set_facility(struct loader *, const struct key *, const char *);
static int	set_failure(struct loader *, const struct key *, const char *);
static int	set_action(struct loader *, const struct key *, const char *);
static int	set_trusted(struct loader *, const struct key *, const char *);
static int	set_rule_action(struct loader *, const struct key *, const char *);
static int	set_rule_reply(struct loader *, const struct key *, const char *);
static int	set_ports(struct loader *, const struct key *, const char *);
static int	set_names(struct loader *, const struct key *, const char *);
static int	set_match(struct loader *, const struct key *, const char *);
static int	set_rule_bool(struct loader *, const struct key *, const char *);
static int	set_min_tls(struct loader *, const struct key *, const char *);

#define RULE_KEYS(r, n) \
	{ n "-action", SCOPE_BOTH, set_rule_action, r, \
	    "action of this rule: reject, tempfail or report" }, \
	{ n "-reply", SCOPE_BOTH, set_rule_reply, r, \
	    "reply of this rule: \"5xx 5.x.y text\"" }

/* Every key: name, scope, setter, rule, description. */
static const struct key keys[] = {
	{ "socket", SCOPE_GLOBAL, set_socket, 0, "milter socket" },
	{ "pid-file", SCOPE_GLOBAL, set_path, 0, "pid file" },
	{ "syslog", SCOPE_GLOBAL, set_global_bool, 0, "decision lines to syslog" },
	{ "syslog-facility", SCOPE_GLOBAL, set_facility, 0, "syslog facility" },
	{ "audit-log", SCOPE_GLOBAL, set_path, 0, "JSON Lines audit file" },
	{ "failure-action", SCOPE_GLOBAL, set_failure, 0,
	    "answer on internal failure: tempfail or reject" },
	{ "request-macros", SCOPE_GLOBAL, set_global_bool, 0,
	    "ask the MTA for the needed macros" },
	{ "log-debug", SCOPE_GLOBAL, set_global_bool, 0, "log debug lines" },
	{ "action", SCOPE_BOTH, set_action, 0,
	    "what a failing rule does: reject, tempfail or report" },
	{ "trusted-networks", SCOPE_BOTH, set_trusted, 0,
	    "clients exempt from the rules (CIDR list)" },
	RULE_KEYS(POLICY_RULE_AUTH_REQUIRES_TLS, "auth-requires-tls"),
	RULE_KEYS(POLICY_RULE_REQUIRE_TLS, "require-tls"),
	RULE_KEYS(POLICY_RULE_MIN_TLS_VERSION, "min-tls-version"),
	RULE_KEYS(POLICY_RULE_REQUIRE_AUTH, "require-auth"),
	{ "port", SCOPE_SECTION, set_ports, 0, "listener ports ({daemon_port})" },
	{ "name", SCOPE_SECTION, set_names, 0, "listener names ({daemon_name})" },
	{ "match", SCOPE_SECTION, set_match, 0, "any or all of port and name" },
	{ "require-tls", SCOPE_SECTION, set_rule_bool,
	    POLICY_RULE_REQUIRE_TLS, "refuse plaintext MAIL" },
	{ "require-auth", SCOPE_SECTION, set_rule_bool,
	    POLICY_RULE_REQUIRE_AUTH, "refuse unauthenticated MAIL" },
	{ "auth-requires-tls", SCOPE_SECTION, set_rule_bool,
	    POLICY_RULE_AUTH_REQUIRES_TLS, "refuse AUTH on plaintext" },
	{ "min-tls-version", SCOPE_SECTION, set_min_tls,
	    POLICY_RULE_MIN_TLS_VERSION, "oldest TLS version accepted" },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* The defaults of the global settings. */
static const struct conf defaults = {
	.syslog = true,
	.syslog_facility = LOG_MAIL,
	.failure_action = POLICY_ACTION_TEMPFAIL,
	.request_macros = true,
	.log_debug = false,
};

static int	fail(struct loader *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static const char *shown(const char *, char *, size_t);
static int	parse(struct loader *, char *, size_t);
static int	parse_line(struct loader *, char *);
static int	start_section(struct loader *, char *);
static int	end_section(struct loader *);
static int	set_key(struct loader *, char *, char *);
static const struct key *find_key(const char *);
static const char *suggest(const char *);
static int	parse_bool(const char *, bool *);
static int	parse_action(const char *, enum policy_action *);
static int	copy_rules(struct policy_rules *, const struct policy_rules *);
static struct policy_rules *rules_of(struct loader *);
static char	*next_item(char **);
static struct conf *new_conf(void);
static bool	listener_port_is(const struct conf_listener *, const struct facts *);
static bool	listener_name_is(const struct conf_listener *, const struct facts *);
static void	print_listener(const struct conf_listener *, FILE *);
static void	free_listener(struct conf_listener *);

struct conf *
conf_load(const char *path, struct conf_error *err)
{
	FILE *fp;
	char *text;
	size_t size;
	struct conf *conf;

	if ((fp = fopen(path, "r")) == NULL) {
		(void) snprintf(err->text, sizeof(err->text), "%s: cannot open: %s",
		    path, strerror(errno));
		return NULL;
	}
	if ((text = malloc(FILE_MAX_BYTES + 1)) == NULL) {
		(void) fclose(fp);
		(void) snprintf(err->text, sizeof(err->text), "%s: out of memory",
		    path);
		return NULL;
	}
	size = fread(text, 1, FILE_MAX_BYTES + 1, fp);
	if (ferror(fp) || size > FILE_MAX_BYTES) {
		(void) snprintf(err->text, sizeof(err->text), "%s: %s", path,
		    ferror(fp) ? "read error" : "larger than 1 MiB");
		conf = NULL;
	} else
		conf = conf_load_string(text, size, path, err);
	(void) fclose(fp);
	free(text);
	if (conf != NULL && (conf->path = strdup(path)) == NULL) {
		conf_free(&conf);
		(void) snprintf(err->text, sizeof(err->text), "%s: out of memory",
		    path);
	}
	return conf;
}

struct conf *
conf_load_string(const char *text, size_t size, const char *name,
    struct conf_error *err)
{
	struct loader ld = { .name = name, .err = err };
	unsigned seen[N_KEYS] = { 0 };
	char *copy;
	int rc;

	err->text[0] = '\0';
	if ((ld.conf = new_conf()) == NULL || (copy = malloc(size + 1)) == NULL) {
		conf_free(&ld.conf);
		(void) snprintf(err->text, sizeof(err->text), "%s: out of memory",
		    name);
		return NULL;
	}
	memcpy(copy, text, size);
	copy[size] = '\0';
	ld.seen = seen;
	policy_rules_init(&ld.global);
	rc = parse(&ld, copy, size);
	free(copy);
	if (rc == 0 && ld.conf->fallback.label == NULL) {
		/* no [default]: the global rule defaults, auth-requires-tls on */
		char header[] = "[default]";

		ld.line = 0;
		rc = start_section(&ld, header);
	}
	policy_rules_free(&ld.global);
	if (rc == -1) {
		conf_free(&ld.conf);
		return NULL;
	}
	return ld.conf;
}

struct conf *
conf_builtin(void)
{
	static const char text[] =
	    "[listener submission]\n"
	    "port 587\nname submission MSA\n"
	    "require-tls yes\nrequire-auth yes\nmin-tls-version TLSv1.2\n"
	    "[listener submissions]\n"
	    "port 465\nname submissions smtps MSA-TLS\n"
	    "require-tls yes\nrequire-auth yes\nmin-tls-version TLSv1.2\n"
	    "[default]\nauth-requires-tls yes\n";
	struct conf_error err;
	struct conf *conf;

	conf = conf_load_string(text, sizeof(text) - 1, "built-in", &err);
	if (conf == NULL) {
		fprintf(stderr, "tlspolicy-milter: %s\n", err.text);
		exit(70);
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
	free(conf->audit_log);
	free(conf);
	*confp = NULL;
}

const struct conf_listener *
conf_match(const struct conf *conf, const struct facts *f, bool *port_missing)
{
	const struct conf_listener *l;
	size_t i;

	*port_missing = conf_uses_ports(conf) && !facts_has_port(f);
	for (i = 0; i < conf->n_listeners; i++) {
		l = &conf->listeners[i];
		if (listener_port_is(l, f) &&
		    (l->match == CONF_MATCH_ANY || l->n_names == 0 ||
		    listener_name_is(l, f)))
			return l;
	}
	for (i = 0; i < conf->n_listeners; i++) {
		l = &conf->listeners[i];
		if (listener_name_is(l, f) &&
		    (l->match == CONF_MATCH_ANY || l->n_ports == 0 ||
		    listener_port_is(l, f)))
			return l;
	}
	return &conf->fallback;
}

bool
conf_uses_ports(const struct conf *conf)
{
	for (size_t i = 0; i < conf->n_listeners; i++)
		if (conf->listeners[i].n_ports > 0)
			return true;
	return false;
}

void
conf_print(const struct conf *conf, FILE *fp)
{
	fprintf(fp, "config %s\n", conf->path != NULL ? conf->path :
	    "(built-in policy)");
	fprintf(fp, "socket %s\naudit-log %s\nsyslog %s\nfailure-action %s\n"
	    "request-macros %s\n", conf->socket,
	    conf->audit_log != NULL ? conf->audit_log : "none",
	    conf->syslog ? "yes" : "no",
	    policy_action_name(conf->failure_action),
	    conf->request_macros ? "yes" : "no");
	fprintf(fp, "rule order: 1 auth-requires-tls, 2 require-tls,"
	    " 3 min-tls-version, 4 require-auth (the first failing rule"
	    " decides)\n");
	for (size_t i = 0; i < conf->n_listeners; i++)
		print_listener(&conf->listeners[i], fp);
	print_listener(&conf->fallback, fp);
}

/* fail - format "file:line: ..." into the error; returns -1. */
static int
fail(struct loader *ld, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(ld->err->text, sizeof(ld->err->text), "%s:%u: ",
	    ld->name, ld->line);
	if (n < 0 || (size_t)n >= sizeof(ld->err->text))
		return -1;
	va_start(ap, fmt);
	(void) vsnprintf(ld->err->text + n, sizeof(ld->err->text) - (size_t)n,
	    fmt, ap);
	va_end(ap);
	return -1;
}

/* shown - a value fit to quote in a message: printable, at most 60 bytes. */
static const char *
shown(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s != '\0' && n + 4 < size && n < 60; s++)
		buf[n++] = isprint((unsigned char)*s) ? *s : '?';
	if (*s != '\0' && n + 4 < size) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* parse - every line of the text. */
static int
parse(struct loader *ld, char *text, size_t size)
{
	char *line = text, *nl;

	if (memchr(text, '\0', size) != NULL) {
		ld->line = 1;
		for (char *p = text; p < text + size && *p != '\0'; p++)
			if (*p == '\n')
				ld->line++;
		return fail(ld, "NUL byte in the file, expected text");
	}
	for (ld->line = 1; line != NULL && *line != '\0'; ld->line++) {
		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if (strlen(line) > LINE_MAX_BYTES)
			return fail(ld, "line longer than %d bytes", LINE_MAX_BYTES);
		if (parse_line(ld, line) == -1)
			return -1;
		line = nl != NULL ? nl + 1 : NULL;
	}
	return end_section(ld);
}

/* parse_line - comment, blank, section header or "key value". */
static int
parse_line(struct loader *ld, char *line)
{
	char *p, *key, *value, *end;
	bool in_quotes = false;

	for (p = line; *p != '\0'; p++) {
		if (*p == '"')
			in_quotes = !in_quotes;
		if (*p == '#' && !in_quotes &&
		    (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	}
	while (isspace((unsigned char)*line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*line == '\0')
		return 0;
	if (*line == '[')
		return start_section(ld, line);
	key = line;
	for (value = key; *value != '\0' && !isspace((unsigned char)*value);
	    value++)
		;
	if (*value != '\0')
		*value++ = '\0';
	while (isspace((unsigned char)*value))
		value++;
	end = value + strlen(value);
	if (end - value >= 2 && *value == '"' && end[-1] == '"') {
		end[-1] = '\0';
		value++;
	}
	return set_key(ld, key, value);
}

/* start_section - "[listener LABEL]" or "[default]". */
static int
start_section(struct loader *ld, char *line)
{
	struct conf *conf = ld->conf;
	struct conf_listener *l, *grown;
	char *label, *close, buf[80];

	if (end_section(ld) == -1)
		return -1;
	if ((close = strchr(line, ']')) == NULL || close[1] != '\0')
		return fail(ld, "found '%s', expected [listener LABEL] or"
		    " [default]", shown(line, buf, sizeof(buf)));
	*close = '\0';
	label = line + 1;
	while (isspace((unsigned char)*label))
		label++;
	if (strcasecmp(label, "default") == 0) {
		if (conf->fallback.label != NULL)
			return fail(ld, "second [default] section (the first is"
			    " at line %u)", conf->fallback.line);
		l = &conf->fallback;
	} else {
		if (strncasecmp(label, "listener", 8) != 0 ||
		    !isspace((unsigned char)label[8]))
			return fail(ld, "found '[%s]', expected [listener LABEL]"
			    " or [default]", shown(label, buf, sizeof(buf)));
		for (label += 8; isspace((unsigned char)*label); label++)
			;
		for (char *p = label; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && strchr("-_.", *p) == NULL)
				return fail(ld, "listener label '%s': expected"
				    " letters, digits, '-', '_' or '.'",
				    shown(label, buf, sizeof(buf)));
		for (size_t i = 0; i < conf->n_listeners; i++)
			if (strcasecmp(conf->listeners[i].label, label) == 0)
				return fail(ld, "listener '%s' already defined at"
				    " line %u", label, conf->listeners[i].line);
		grown = realloc(conf->listeners, (conf->n_listeners + 1) *
		    sizeof(*grown));
		if (grown == NULL)
			return fail(ld, "out of memory");
		conf->listeners = grown;
		l = &conf->listeners[conf->n_listeners++];
		memset(l, 0, sizeof(*l));
	}
	policy_rules_init(&l->rules);
	if ((l->label = strdup(label)) == NULL ||
	    copy_rules(&l->rules, &ld->global) == -1)
		return fail(ld, "out of memory");
	l->line = ld->line;
	ld->section = l;
	memset(ld->seen, 0, N_KEYS * sizeof(*ld->seen));
	return 0;
}

/* end_section - check the section just read is complete. */
static int
end_section(struct loader *ld)
{
	struct conf_listener *l = ld->section;
	unsigned line = ld->line;
	int rc = 0;

	if (l == NULL || l == &ld->conf->fallback)
		return 0;
	if (l->n_ports == 0 && l->n_names == 0) {
		ld->line = l->line;
		rc = fail(ld, "listener '%s' has neither port nor name, expected"
		    " at least one", l->label);
		ld->line = line;
	}
	return rc;
}

/* set_key - find the key, check scope and duplicates, call its setter. */
static int
set_key(struct loader *ld, char *name, char *value)
{
	const struct key *k;
	const char *hint;
	char buf[80];
	size_t i;

	if ((k = find_key(name)) == NULL) {
		hint = suggest(name);
		return fail(ld, "unknown key '%s'%s%s%s", shown(name, buf,
		    sizeof(buf)), hint != NULL ? " (did you mean '" : "",
		    hint != NULL ? hint : "", hint != NULL ? "'?)" : "");
	}
	if (ld->section == NULL && (k->scope & SCOPE_GLOBAL) == 0)
		return fail(ld, "key '%s' is only allowed in a [listener] or"
		    " [default] section", k->name);
	if (ld->section != NULL && (k->scope & SCOPE_SECTION) == 0)
		return fail(ld, "key '%s' is only allowed before the first"
		    " section", k->name);
	if (*value == '\0')
		return fail(ld, "key '%s' has no value", k->name);
	i = (size_t)(k - keys);
	if (ld->seen[i] != 0)
		return fail(ld, "key '%s' given twice (first at line %u)",
		    k->name, ld->seen[i]);
	ld->seen[i] = ld->line;
	return k->set(ld, k, value);
}

/* find_key - the table entry of name, case-insensitively. */
static const struct key *
find_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* suggest - a key within two edits of name, or NULL. */
static const char *
suggest(const char *name)
{
	size_t n = strlen(name);

	for (size_t k = 0; k < N_KEYS && n < 64; k++) {
		const char *c = keys[k].name;
		size_t m = strlen(c), d[65], prev, tmp;

		if (m > 64)
			continue;
		for (size_t j = 0; j <= m; j++)
			d[j] = j;
		for (size_t i = 1; i <= n; i++) {
			prev = d[0];
			d[0] = i;
			for (size_t j = 1; j <= m; j++) {
				tmp = d[j];
				d[j] = tolower((unsigned char)name[i - 1]) == c[j - 1] ?
				    prev : 1 + (prev < d[j - 1] ?
				    (prev < d[j] ? prev : d[j]) :
				    (d[j - 1] < d[j] ? d[j - 1] : d[j]));
				prev = tmp;
			}
		}
		if (d[m] <= 2)
			return c;
	}
	return NULL;
}

/* rules_of - the rules the current part sets: a section's or the global defaults. */
static struct policy_rules *
rules_of(struct loader *ld)
{
	return ld->section != NULL ? &ld->section->rules : &ld->global;
}

/* set_socket - inet:PORT@HOST, inet6:PORT@HOST, unix:/path, local:/path. */
static int
set_socket(struct loader *ld, const struct key *k, const char *v)
{
	char buf[80];
	const char *at;
	unsigned long port;
	char *end;

	if (strncmp(v, "unix:/", 6) == 0 || strncmp(v, "local:/", 7) == 0)
		goto ok;
	if (strncmp(v, "inet:", 5) == 0 || strncmp(v, "inet6:", 6) == 0) {
		at = strchr(v, ':') + 1;
		port = strtoul(at, &end, 10);
		if (isdigit((unsigned char)*at) && *end == '@' && end[1] != '\0' &&
		    port >= 1 && port <= 65535)
			goto ok;
	}
	return fail(ld, "%s: found '%s', expected inet:PORT@HOST,"
	    " inet6:PORT@HOST or unix:/PATH", k->name, shown(v, buf, sizeof(buf)));
ok:
	free(ld->conf->socket);
	if ((ld->conf->socket = strdup(v)) == NULL)
		return fail(ld, "out of memory");
	return 0;
}

/* set_path - an absolute path: pid-file, audit-log. */
static int
set_path(struct loader *ld, const struct key *k, const char *v)
{
	char buf[80], **field;

	if (*v != '/')
		return fail(ld, "%s: found '%s', expected an absolute path",
		    k->name, shown(v, buf, sizeof(buf)));
	field = strcmp(k->name, "pid-file") == 0 ? &ld->conf->pid_file :
	    &ld->conf->audit_log;
	if ((*field = strdup(v)) == NULL)
		return fail(ld, "out of memory");
	return 0;
}

/* set_global_bool - syslog, request-macros, log-debug. */
static int
set_global_bool(struct loader *ld, const struct key *k, const char *v)
{
	char buf[80];
	bool b;

	if (parse_bool(v, &b) == -1)
		return fail(ld, "%s: found '%s', expected yes or no", k->name,
		    shown(v, buf, sizeof(buf)));
	if (strcmp(k->name, "syslog") == 0)
		ld->conf->syslog = b;
	else if (strcmp(k->name, "request-macros") == 0)
		ld->conf->request_macros = b;
	else
		ld->conf->log_debug = b;
	return 0;
}

/* set_facility - a syslog facility name. */
static int
set_facility(struct loader *ld, const struct key *k, const char *v)
{
	char buf[80];
	int f = log_parse_facility(v);

	if (f == -1)
		return fail(ld, "%s: found '%s', expected mail, daemon, user,"
		    " auth, authpriv or local0..local7", k->name,
		    shown(v, buf, sizeof(buf)));
	ld->conf->syslog_facility = f;
	return 0;
}

/* set_failure - tempfail or reject; never accept. */
static int
set_failure(struct loader *ld, const struct key *k, const char *v)
{
	char buf[80];

	if (strcasecmp(v, "tempfail") == 0)
		ld->conf->failure_action = POLICY_ACTION_TEMPFAIL;
	else if (strcasecmp(v, "reject") == 0)
		ld->conf->failure_action = POLICY_ACTION_REJECT;
	else
		return fail(ld, "%s: found '%s', expected tempfail or reject (the"
		    " milter never accepts mail it could not check)", k->name,
		    shown(v, buf, sizeof(buf)));
	return 0;
}

/* set_action - the default action of a section (or of all sections). */
static int
set_action(struct loader *ld, const struct key *k, const char *v)
{
	char buf[80];

	if (parse_action(v, &rules_of(ld)->action) == -1)
		return fail(ld, "%s: found '%s', expected reject, tempfail or"
		    " report", k->name, shown(v, buf, sizeof(buf)));
	return 0;
}

/* set_trusted - a list of CIDR blocks, or none. */
static int
set_trusted(struct loader *ld, const struct key *k, const char *v)
{
	struct netaddr_list *list = &rules_of(ld)->trusted;
	struct netaddr_block b;
	char *copy, *rest, *item, buf[80];
	const char *why;
	int rc = 0;

	netaddr_list_free(list);
	if (strcasecmp(v, "none") == 0)
		return 0;
	if ((copy = strdup(v)) == NULL)
		return fail(ld, "out of memory");
	rest = copy;
	while (rc == 0 && (item = next_item(&rest)) != NULL) {
		if (netaddr_parse_block(item, &b, &why) == -1)
			rc = fail(ld, "%s: found '%s': %s; expected ADDRESS[/PREFIX]",
			    k->name, shown(item, buf, sizeof(buf)), why);
		else if (netaddr_list_add(list, &b) == -1)
			rc = fail(ld, "out of memory");
	}
	free(copy);
	return rc;
}

/* set_rule_action - RULE-action. */
static int
set_rule_action(struct loader *ld, const struct key *k, const char *v)
{
	char buf[80];

	if (parse_action(v, &rules_of(ld)->rule_action[k->rule]) == -1)
		return fail(ld, "%s: found '%s', expected reject, tempfail or"
		    " report", k->name, shown(v, buf, sizeof(buf)));
	return 0;
}

/* set_rule_reply - RULE-reply "5xx 5.x.y text". */
static int
set_rule_reply(struct loader *ld, const struct key *k, const char *v)
{
	struct policy_rules *r = rules_of(ld);
	const char *why;
	char buf[80];

	if (policy_parse_reply(v, &r->reply[k->rule], &why) == -1)
		return fail(ld, "%s: found '%s': %s", k->name,
		    shown(v, buf, sizeof(buf)), why);
	r->has_reply[k->rule] = true;
	return 0;
}

/* set_ports - one or more ports 1..65535. */
static int
set_ports(struct loader *ld, const struct key *k, const char *v)
{
	struct conf_listener *l = ld->section;
	char *copy, *rest, *item, *end, buf[80];
	unsigned long port;
	unsigned *grown;
	int rc = 0;

	if (l == &ld->conf->fallback)
		return fail(ld, "%s: [default] applies to sessions no listener"
		    " matches; it takes no port", k->name);
	if ((copy = strdup(v)) == NULL)
		return fail(ld, "out of memory");
	rest = copy;
	while (rc == 0 && (item = next_item(&rest)) != NULL) {
		errno = 0;
		port = strtoul(item, &end, 10);
		if (!isdigit((unsigned char)*item) || *end != '\0' ||
		    port < 1 || port > 65535 || errno != 0)
			rc = fail(ld, "%s: found '%s', expected a port number"
			    " 1..65535", k->name, shown(item, buf, sizeof(buf)));
		else if ((grown = realloc(l->ports, (l->n_ports + 1) *
		    sizeof(*grown))) == NULL)
			rc = fail(ld, "out of memory");
		else {
			l->ports = grown;
			l->ports[l->n_ports++] = (unsigned)port;
		}
	}
	free(copy);
	return rc;
}

/* set_names - one or more {daemon_name} values. */
static int
set_names(struct loader *ld, const struct key *k, const char *v)
{
	struct conf_listener *l = ld->section;
	char *copy, *rest, *item, **grown;
	int rc = 0;

	if (l == &ld->conf->fallback)
		return fail(ld, "%s: [default] applies to sessions no listener"
		    " matches; it takes no name", k->name);
	if ((copy = strdup(v)) == NULL)
		return fail(ld, "out of memory");
	rest = copy;
	while (rc == 0 && (item = next_item(&rest)) != NULL) {
		if ((grown = realloc(l->names, (l->n_names + 1) *
		    sizeof(*grown))) == NULL)
			rc = fail(ld, "out of memory");
		else if ((l->names = grown,
		    l->names[l->n_names] = strdup(item)) == NULL)
			rc = fail(ld, "out of memory");
		else
			l->n_names++;
	}
	free(copy);
	return rc;
}

/* set_match - any or all. */
static int
set_match(struct loader *ld, const struct key *k, const char *v)
{
	char buf[80];

	if (ld->section == &ld->conf->fallback)
		return fail(ld, "%s: [default] takes no match", k->name);
	if (strcasecmp(v, "any") == 0)
		ld->section->match = CONF_MATCH_ANY;
	else if (strcasecmp(v, "all") == 0)
		ld->section->match = CONF_MATCH_ALL;
	else
		return fail(ld, "%s: found '%s', expected any or all", k->name,
		    shown(v, buf, sizeof(buf)));
	return 0;
}

/* set_rule_bool - require-tls, require-auth, auth-requires-tls. */
static int
set_rule_bool(struct loader *ld, const struct key *k, const char *v)
{
	struct policy_rules *r = &ld->section->rules;
	char buf[80];
	bool b;

	if (parse_bool(v, &b) == -1)
		return fail(ld, "%s: found '%s', expected yes or no", k->name,
		    shown(v, buf, sizeof(buf)));
	if (k->rule == POLICY_RULE_REQUIRE_TLS)
		r->require_tls = b;
	else if (k->rule == POLICY_RULE_REQUIRE_AUTH)
		r->require_auth = b;
	else
		r->auth_requires_tls = b;
	return 0;
}

/* set_min_tls - TLSv1 .. TLSv1.3 or none. */
static int
set_min_tls(struct loader *ld, const struct key *k, const char *v)
{
	enum tls_version t = tlsinfo_parse_version(v);
	char buf[80];

	if (strcasecmp(v, "none") == 0)
		t = TLS_VERSION_NONE;
	else if (t < TLS_VERSION_TLSV1)
		return fail(ld, "%s: found '%s', expected one of TLSv1, TLSv1.1,"
		    " TLSv1.2, TLSv1.3, none", k->name, shown(v, buf, sizeof(buf)));
	ld->section->rules.min_tls_version = t;
	return 0;
}

/* parse_bool - yes/no, true/false, on/off, 1/0. */
static int
parse_bool(const char *v, bool *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -1;
}

/* parse_action - reject, tempfail, report. */
static int
parse_action(const char *v, enum policy_action *a)
{
	if (strcasecmp(v, "reject") == 0)
		*a = POLICY_ACTION_REJECT;
	else if (strcasecmp(v, "tempfail") == 0)
		*a = POLICY_ACTION_TEMPFAIL;
	else if (strcasecmp(v, "report") == 0)
		*a = POLICY_ACTION_REPORT;
	else
		return -1;
	return 0;
}

/* copy_rules - the inheritable parts of the global defaults into a section. */
static int
copy_rules(struct policy_rules *dst, const struct policy_rules *src)
{
	dst->action = src->action;
	memcpy(dst->rule_action, src->rule_action, sizeof(dst->rule_action));
	memcpy(dst->has_reply, src->has_reply, sizeof(dst->has_reply));
	memcpy(dst->reply, src->reply, sizeof(dst->reply));
	for (size_t i = 0; i < src->trusted.n_blocks; i++)
		if (netaddr_list_add(&dst->trusted, &src->trusted.blocks[i]) == -1)
			return -1;
	return 0;
}

/* next_item - the next comma- or space-separated item, or NULL. */
static char *
next_item(char **rest)
{
	char *p = *rest, *item;

	while (*p == ',' || isspace((unsigned char)*p))
		p++;
	if (*p == '\0')
		return NULL;
	item = p;
	while (*p != '\0' && *p != ',' && !isspace((unsigned char)*p))
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*rest = p;
	return item;
}

/* new_conf - the defaults. */
static struct conf *
new_conf(void)
{
	struct conf *conf = malloc(sizeof(*conf));

	if (conf == NULL)
		return NULL;
	*conf = defaults;
	policy_rules_init(&conf->fallback.rules);
	if ((conf->socket = strdup(CONF_DEFAULT_SOCKET)) == NULL) {
		free(conf);
		return NULL;
	}
	return conf;
}

/* listener_port_is - the listener lists the session's {daemon_port}. */
static bool
listener_port_is(const struct conf_listener *l, const struct facts *f)
{
	if (!facts_has_port(f))
		return false;
	for (size_t i = 0; i < l->n_ports; i++)
		if (l->ports[i] == f->f[FACT_DAEMON_PORT].num)
			return true;
	return false;
}

/* listener_name_is - the listener lists the session's {daemon_name}. */
static bool
listener_name_is(const struct conf_listener *l, const struct facts *f)
{
	const struct fact *name = &f->f[FACT_DAEMON_NAME];

	if (name->state != FACT_OK || name->text == NULL)
		return false;
	for (size_t i = 0; i < l->n_names; i++)
		if (strcasecmp(l->names[i], name->text) == 0)
			return true;
	return false;
}

/* print_listener - one section's effective policy. */
static void
print_listener(const struct conf_listener *l, FILE *fp)
{
	const struct policy_rules *r = &l->rules;
	char block[64];

	if (l->n_ports + l->n_names == 0)
		fprintf(fp, "\n[default] (sessions no listener matches)");
	else
		fprintf(fp, "\nlistener %s", l->label);
	if (l->line > 0)
		fprintf(fp, " (line %u)", l->line);
	fprintf(fp, "\n  match:");
	for (size_t i = 0; i < l->n_ports; i++)
		fprintf(fp, " port %u", l->ports[i]);
	for (size_t i = 0; i < l->n_names; i++)
		fprintf(fp, " name %s", l->names[i]);
	fprintf(fp, "%s\n", l->n_ports + l->n_names == 0 ? " -" :
	    l->match == CONF_MATCH_ALL ? " (all)" : " (any)");
	fprintf(fp, "  auth-requires-tls %s, require-tls %s, min-tls-version %s,"
	    " require-auth %s\n  action %s", r->auth_requires_tls ? "yes" : "no",
	    r->require_tls ? "yes" : "no", r->min_tls_version == TLS_VERSION_NONE ?
	    "none" : tlsinfo_version_name(r->min_tls_version),
	    r->require_auth ? "yes" : "no", policy_action_name(r->action));
	for (int i = 0; i < POLICY_RULE_COUNT; i++)
		if (r->rule_action[i] != POLICY_ACTION_UNSET)
			fprintf(fp, ", %s-action %s", policy_rule_name(i),
			    policy_action_name(r->rule_action[i]));
	fprintf(fp, "\n  trusted-networks");
	for (size_t i = 0; i < r->trusted.n_blocks; i++)
		fprintf(fp, " %s", netaddr_block_format(&r->trusted.blocks[i],
		    block, sizeof(block)));
	fprintf(fp, "%s\n", r->trusted.n_blocks == 0 ? " none" : "");
	for (int i = 0; i < POLICY_RULE_COUNT; i++)
		if (r->has_reply[i])
			fprintf(fp, "  %s-reply %u %s %s\n", policy_rule_name(i),
			    r->reply[i].code, r->reply[i].xcode, r->reply[i].text);
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
