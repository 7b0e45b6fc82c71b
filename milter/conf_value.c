/*
 * NAME
 *	conf_value - the config loader's value types: validate and store
 *
 * SYNOPSIS
 *	#include "conf_int.h"
 *
 * DESCRIPTION
 *	One setter per value type of the key table in conf.c (booleans,
 *	socket specs, absolute paths, syslog facilities, actions, CIDR
 *	lists, SMTP replies, port and name lists, match modes, TLS
 *	versions).  A setter validates the whole value before it stores
 *	anything but list items, and stores into the field the table names
 *	in the current part (the global part, a listener or [default]).
 *	Lists are separated by commas and/or whitespace.  Strings stored
 *	are owned by the config; conf_free() releases them.
 *
 *	Private to the loader: only conf.c calls these, through conf_types.
 *
 * DIAGNOSTICS
 *	A setter returns 0, or -1 with the loader's error set to
 *	"file:line: key: found 'value', expected ..." (or "out of memory").
 *
 * SEE ALSO
 *	conf.c, policy.c (policy_parse_reply), netaddr.c
 *	(netaddr_parse_block), tlsinfo.c, log.c (log_parse_facility)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auditfsync.h"
#include "conf.h"
#include "conf_int.h"
#include "log.h"
#include "netaddr.h"
#include "policy.h"
#include "tlsinfo.h"

static int	set_bool(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_socket(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_path(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_facility(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_failure(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_action(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_networks(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_reply(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_ports(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_names(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_match(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_version(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_user(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_group(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_mode(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_bits(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_ciphers(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_pattern(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_users(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_sender(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	set_fsync(struct conf_loader *, const struct conf_key *,
		    const char *, void *);
static int	parse_bool(const char *, bool *);
static int	parse_uint(const char *, int, unsigned long, unsigned *);
static int	parse_action(const char *, enum policy_action *);
static char	*next_item(char **);
static bool	is_printable(const char *);

const struct conf_type conf_types[CONF_KEY_TYPE_COUNT] = {
	[CONF_KEY_BOOL] = { set_bool, "yes or no" },
	[CONF_KEY_SOCKET] = { set_socket,
	    "inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH" },
	[CONF_KEY_PATH] = { set_path, "an absolute path" },
	[CONF_KEY_FACILITY] = { set_facility,
	    "mail, daemon, user, auth, authpriv or local0..local7" },
	[CONF_KEY_FAILURE] = { set_failure, "tempfail or reject" },
	[CONF_KEY_FSYNC] = { set_fsync, "every, interval or none" },
	[CONF_KEY_SENDER] = { set_sender, "none, domain or address" },
	[CONF_KEY_ACTION] = { set_action, "reject, tempfail or report" },
	[CONF_KEY_NETWORKS] = { set_networks,
	    "addresses or CIDR blocks ADDRESS[/PREFIX], or none" },
	[CONF_KEY_REPLY] = { set_reply, "a reply \"5xx 5.x.y text\"" },
	[CONF_KEY_PORTS] = { set_ports, "a port number 1..65535" },
	[CONF_KEY_NAMES] = { set_names, "{daemon_name} values" },
	[CONF_KEY_MATCH] = { set_match, "any or all" },
	[CONF_KEY_USER] = { set_user, "user or user:group" },
	[CONF_KEY_BITS] = { set_bits, "a number of bits 0..16384" },
	[CONF_KEY_CIPHERS] = { set_ciphers, "cipher classes (NULL, EXPORT,"
	    " RC4, 3DES, DES, CBC, MD5, ANON, PSK, SRP) or name patterns" },
	[CONF_KEY_PATTERN] = { set_pattern, "a printable pattern" },
	[CONF_KEY_USERS] = { set_users, "user@domain or @domain values" },
	[CONF_KEY_MODE] = { set_mode, "an octal mode 0000..0777" },
	[CONF_KEY_GROUP] = { set_group, "a group name of [A-Za-z0-9._-]" },
	[CONF_KEY_VERSION] = { set_version,
	    "one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, none" },
};

/* set_bool - CONF_KEY_BOOL. */
static int
set_bool(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	return parse_bool(v, field) == 0 ? 0 : conf_bad_value(ld, k, v);
}

/* set_socket - inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH, local:/PATH. */
static int
set_socket(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	char **socket = field, *end;
	const char *p = NULL;
	unsigned long port;

	if (strncmp(v, "unix:/", 6) == 0 || strncmp(v, "local:/", 7) == 0) {
		if (strchr(v, ':')[2] == '\0' || !is_printable(v))
			return conf_bad_value(ld, k, v);
	} else {
		if (strncmp(v, "inet:", 5) == 0)
			p = v + 5;
		else if (strncmp(v, "inet6:", 6) == 0)
			p = v + 6;
		if (p == NULL || !isdigit((unsigned char)*p))
			return conf_bad_value(ld, k, v);
		errno = 0;
		port = strtoul(p, &end, 10);
		if (errno != 0 || port < 1 || port > 65535 || *end != '@' ||
		    end[1] == '\0' || strpbrk(end, " \t") != NULL ||
		    !is_printable(end))
			return conf_bad_value(ld, k, v);
	}
	free(*socket);
	if ((*socket = strdup(v)) == NULL)
		return conf_fail(ld, "out of memory");
	return 0;
}

/* set_path - CONF_KEY_PATH: an absolute path of printable characters. */
static int
set_path(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	char **path = field;

	if (*v != '/' || !is_printable(v))
		return conf_bad_value(ld, k, v);
	if ((*path = strdup(v)) == NULL)
		return conf_fail(ld, "out of memory");
	return 0;
}

/* set_user - CONF_KEY_USER: user[:group], names of [A-Za-z0-9._-]. */
static int
set_user(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	char **user = field;
	size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-");

	if (n == 0 || n > 32 || (v[n] != '\0' && (v[n] != ':' ||
	    v[n + 1] == '\0' || strspn(v + n + 1, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != strlen(v + n + 1))))
		return conf_bad_value(ld, k, v);
	if ((*user = strdup(v)) == NULL)
		return conf_fail(ld, "out of memory");
	return 0;
}

/* set_group - CONF_KEY_GROUP: a name of [A-Za-z0-9._-], 1..32 bytes. */
static int
set_group(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	char **group = field;
	size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-");

	if (n == 0 || n > 32 || v[n] != '\0')
		return conf_bad_value(ld, k, v);
	free(*group);
	if ((*group = strdup(v)) == NULL)
		return conf_fail(ld, "out of memory");
	return 0;
}

/* set_bits - CONF_KEY_BITS: decimal 0..16384. */
static int
set_bits(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	if (parse_uint(v, 10, 16384, field) == -1)
		return conf_bad_value(ld, k, v);
	return 0;
}

/* parse_uint - digits of base (8 or 10) only, value at most max. */
static int
parse_uint(const char *v, int base, unsigned long max, unsigned *out)
{
	unsigned long n;
	char *end;

	if (*v < '0' || *v > (base == 8 ? '7' : '9') || strlen(v) > 6)
		return -1;
	n = strtoul(v, &end, base);
	if (*end != '\0' || n > max)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/*
 * set_ciphers - CONF_KEY_CIPHERS: each item a class name (a class bit in
 * forbid_classes) or else a name pattern (forbid_names of the same rules).
 */
static int
set_ciphers(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	unsigned *classes = field, bit;
	struct policy_rules *r = (struct policy_rules *)(void *)((char *)field -
	    offsetof(struct policy_rules, forbid_classes));
	char *copy, *rest, *item;
	int rc = 0;

	if ((copy = strdup(v)) == NULL)
		return conf_fail(ld, "out of memory");
	rest = copy;
	while (rc == 0 && (item = next_item(&rest)) != NULL) {
		if (tlsinfo_cipher_class_parse(item, &bit) == 0)
			*classes |= bit;
		else if (!is_printable(item) || strlen(item) > 128)
			rc = conf_bad_value(ld, k, item);
		else if (policy_list_add(&r->forbid_names, item) == -1)
			rc = conf_fail(ld, "out of memory");
	}
	free(copy);
	return rc;
}

/* set_pattern - CONF_KEY_PATTERN: the whole value, printable. */
static int
set_pattern(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	char **pattern = field;

	if (!is_printable(v) || strlen(v) > 512)
		return conf_bad_value(ld, k, v);
	if ((*pattern = strdup(v)) == NULL)
		return conf_fail(ld, "out of memory");
	return 0;
}

/* set_users - CONF_KEY_USERS: "user@domain" or "@domain" items. */
static int
set_users(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	struct policy_list *users = field;
	char *copy, *rest, *item;
	int rc = 0;

	policy_list_free(users);	/* a section replaces the global list */
	if ((copy = strdup(v)) == NULL)
		return conf_fail(ld, "out of memory");
	rest = copy;
	while (rc == 0 && (item = next_item(&rest)) != NULL) {
		const char *at = strchr(item, '@');

		if (at == NULL || at[1] == '\0' || strchr(at + 1, '@') != NULL ||
		    !is_printable(item))
			rc = conf_bad_value(ld, k, item);
		else if (policy_list_add(users, item) == -1)
			rc = conf_fail(ld, "out of memory");
	}
	free(copy);
	return rc;
}

/* set_mode - CONF_KEY_MODE: octal digits, at most 0777. */
static int
set_mode(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	if (parse_uint(v, 8, 0777, field) == -1)
		return conf_bad_value(ld, k, v);
	return 0;
}

/* set_facility - CONF_KEY_FACILITY, by log_parse_facility(). */
static int
set_facility(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	int facility = log_parse_facility(v);

	if (facility == -1)
		return conf_bad_value(ld, k, v);
	*(int *)field = facility;
	return 0;
}

/* set_failure - CONF_KEY_FAILURE: tempfail or reject, never accept. */
static int
set_failure(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	enum policy_action *a = field;

	if (strcasecmp(v, "tempfail") == 0)
		*a = POLICY_ACTION_TEMPFAIL;
	else if (strcasecmp(v, "reject") == 0)
		*a = POLICY_ACTION_REJECT;
	else if (strcasecmp(v, "accept") == 0)
		return conf_fail(ld, "%s: found 'accept', expected tempfail or"
		    " reject (the milter never accepts mail it could not"
		    " check)", k->name);
	else
		return conf_bad_value(ld, k, v);
	return 0;
}

/* set_fsync - CONF_KEY_FSYNC: every, interval or none. */
static int
set_fsync(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	enum audit_fsync *mode = field;

	if (strcasecmp(v, "interval") == 0)
		*mode = AUDIT_FSYNC_INTERVAL;
	else if (strcasecmp(v, "every") == 0)
		*mode = AUDIT_FSYNC_EVERY;
	else if (strcasecmp(v, "none") == 0)
		*mode = AUDIT_FSYNC_NONE;
	else
		return conf_bad_value(ld, k, v);
	return 0;
}

/* set_sender - CONF_KEY_SENDER: none, domain or address. */
static int
set_sender(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	unsigned *mode = field;

	if (strcasecmp(v, "none") == 0)
		*mode = CONF_SENDER_NONE;
	else if (strcasecmp(v, "domain") == 0)
		*mode = CONF_SENDER_DOMAIN;
	else if (strcasecmp(v, "address") == 0)
		*mode = CONF_SENDER_ADDRESS;
	else
		return conf_bad_value(ld, k, v);
	return 0;
}

/* set_action - CONF_KEY_ACTION: a section's or one rule's action. */
static int
set_action(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	return parse_action(v, field) == 0 ? 0 : conf_bad_value(ld, k, v);
}

/* set_networks - CONF_KEY_NETWORKS: replaces the inherited list. */
static int
set_networks(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	struct netaddr_list *list = field;
	struct netaddr_block b;
	char *copy, *rest, *item, buf[CONF_SHOWN_MAX];
	const char *why;
	int rc = 0;

	netaddr_list_free(list);
	if (strcasecmp(v, "none") == 0)
		return 0;
	if ((copy = strdup(v)) == NULL)
		return conf_fail(ld, "out of memory");
	rest = copy;
	while (rc == 0 && (item = next_item(&rest)) != NULL) {
		if (strcasecmp(item, "none") == 0)
			rc = conf_fail(ld, "%s: found 'none' in a list,"
			    " expected 'none' alone", k->name);
		else if (netaddr_parse_block(item, &b, &why) == -1)
			rc = conf_fail(ld, "%s: found '%s' (%s), expected"
			    " ADDRESS[/PREFIX]", k->name,
			    conf_shown(item, buf, sizeof(buf)), why);
		else if (netaddr_list_add(list, &b) == -1)
			rc = conf_fail(ld, "out of memory");
	}
	free(copy);
	return rc;
}

/* set_reply - CONF_KEY_REPLY, by policy_parse_reply(). */
static int
set_reply(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	struct policy_rules *r = ld->section != NULL ? &ld->section->rules :
	    &ld->global;
	const char *why;
	char buf[CONF_SHOWN_MAX];

	if (policy_parse_reply(v, field, &why) == -1)
		return conf_fail(ld, "%s: found '%s': %s", k->name,
		    conf_shown(v, buf, sizeof(buf)), why);
	r->has_reply[k->rule] = true;
	return 0;
}

/* set_ports - CONF_KEY_PORTS: one or more ports 1..65535. */
static int
set_ports(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	struct conf_listener *l = ld->section;
	char *copy, *rest, *item, *end;
	unsigned long port;
	unsigned *grown;
	int rc = 0;

	(void) field;
	if ((copy = strdup(v)) == NULL)
		return conf_fail(ld, "out of memory");
	rest = copy;
	while (rc == 0 && (item = next_item(&rest)) != NULL) {
		errno = 0;
		port = strtoul(item, &end, 10);
		if (!isdigit((unsigned char)*item) || *end != '\0' ||
		    errno != 0 || port < 1 || port > 65535)
			rc = conf_bad_value(ld, k, item);
		else if ((grown = realloc(l->ports, (l->n_ports + 1) *
		    sizeof(*grown))) == NULL)
			rc = conf_fail(ld, "out of memory");
		else {
			l->ports = grown;
			l->ports[l->n_ports++] = (unsigned)port;
		}
	}
	free(copy);
	return rc;
}

/* set_names - CONF_KEY_NAMES: one or more {daemon_name} values. */
static int
set_names(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	struct conf_listener *l = ld->section;
	char *copy, *rest, *item, **grown, buf[CONF_SHOWN_MAX];
	int rc = 0;

	(void) field;
	if ((copy = strdup(v)) == NULL)
		return conf_fail(ld, "out of memory");
	rest = copy;
	while (rc == 0 && (item = next_item(&rest)) != NULL) {
		if (!is_printable(item) || strchr(item, '"') != NULL)
			rc = conf_fail(ld, "%s: found '%s', expected printable"
			    " {daemon_name} values", k->name,
			    conf_shown(item, buf, sizeof(buf)));
		else if ((grown = realloc(l->names, (l->n_names + 1) *
		    sizeof(*grown))) == NULL)
			rc = conf_fail(ld, "out of memory");
		else if ((l->names = grown,
		    grown[l->n_names] = strdup(item)) == NULL)
			rc = conf_fail(ld, "out of memory");
		else
			l->n_names++;
	}
	free(copy);
	return rc;
}

/* set_match - CONF_KEY_MATCH: any or all. */
static int
set_match(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	enum conf_match *m = field;

	if (strcasecmp(v, "any") == 0)
		*m = CONF_MATCH_ANY;
	else if (strcasecmp(v, "all") == 0)
		*m = CONF_MATCH_ALL;
	else
		return conf_bad_value(ld, k, v);
	return 0;
}

/* set_version - CONF_KEY_VERSION: a known TLS (or SSL) version, or none. */
static int
set_version(struct conf_loader *ld, const struct conf_key *k, const char *v,
    void *field)
{
	enum tls_version t;

	if (strcasecmp(v, "none") == 0)
		t = TLS_VERSION_NONE;
	else if (!tlsinfo_version_is_known(t = tlsinfo_parse_version(v)))
		return conf_bad_value(ld, k, v);
	*(enum tls_version *)field = t;
	return 0;
}

/* parse_bool - yes/no, true/false, on/off, 1/0. */
static int
parse_bool(const char *v, bool *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
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

/* next_item - the next comma- or whitespace-separated item, or NULL. */
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

/* is_printable - only printable ASCII. */
static bool
is_printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

