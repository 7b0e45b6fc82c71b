/*
 * NAME
 *	conf_print - the effective policy of a config, as "-n" shows it
 *
 * SYNOPSIS
 *	#include "conf.h"
 *
 * DESCRIPTION
 *	conf_print() writes the global settings, the fixed rule order and
 *	then one block per listener, in matching order, ending with
 *	[default]: what selects the listener, which rules are on, the
 *	action and trusted networks, and for every rule that is on the
 *	action and the reply a client gets (tempfail shown as 451 4.x.y, as
 *	policy.c sends it).  Blocks are separated by blank lines; a
 *	listener block starts with "listener LABEL", the default block with
 *	"[default]".  Everything is effective: inherited and built-in
 *	values are spelled out, not left implicit, and conf_print_with()
 *	shows the command line's overrides in place of the file's values.
 *
 *	Reads the config only; safe from any thread that holds it.
 *
 * DIAGNOSTICS
 *	Output errors are the caller's to check on the stream.
 *
 * SEE ALSO
 *	conf.c, policy.c, tlspolicy-milter(8) (option -n)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stdbool.h>
#include <stdio.h>

#include "auditfsync.h"
#include "conf.h"
#include "conf_int.h"
#include "log.h"
#include "netaddr.h"
#include "policy.h"
#include "tlsinfo.h"

static void	print_globals(const struct conf *,
		    const struct conf_overrides *, FILE *);
static void	print_global(const struct conf *,
		    const struct conf_overrides *, const struct conf_key *,
		    FILE *);
static const char *facility_name(int);
static void	print_listener(const struct conf_listener *, FILE *);
static void	print_selector(const struct conf_listener *, FILE *);
static void	print_trusted(const struct netaddr_list *, FILE *);
static void	print_replies(const struct policy_rules *, FILE *);
static bool	rule_is_on(const struct policy_rules *, enum policy_rule);
static void	print_tls_rules(const struct policy_rules *, FILE *);
static const char *yes_no(bool);

int
conf_print(const struct conf *conf, FILE *fp)
{
	return conf_print_with(conf, NULL, fp);
}

int
conf_print_with(const struct conf *conf, const struct conf_overrides *ov,
    FILE *fp)
{
	print_globals(conf, ov, fp);
	for (size_t i = 0; i < conf->n_listeners; i++)
		print_listener(&conf->listeners[i], fp);
	print_listener(&conf->fallback, fp);
	return ferror(fp) || fflush(fp) == EOF ? -1 : 0;
}

/*
 * print_globals - every global key with its effective value, one a line,
 * in the key table's order (so a new key is printed without a change
 * here), then the rule order and matching.
 */
static void
print_globals(const struct conf *conf, const struct conf_overrides *ov,
    FILE *fp)
{
	const struct conf_key *keys;
	size_t n_keys;

	fprintf(fp, "# effective policy of %s\n", conf->path != NULL ?
	    conf->path : "the built-in policy (no config file)");
	keys = conf_keys(&n_keys);
	for (size_t i = 0; i < n_keys; i++)
		if (keys[i].scope == CONF_SCOPE_GLOBAL &&
		    keys[i].target == CONF_TARGET_CONF)
			print_global(conf, ov, &keys[i], fp);
	fprintf(fp, "rule order:");
	for (int r = 0; r < POLICY_RULE_COUNT; r++)
		fprintf(fp, " %d %s%s", r + 1, policy_rule_name(r),
		    r + 1 < POLICY_RULE_COUNT ? "," : "");
	fprintf(fp, " (the first failing rule decides)\n");
	fprintf(fp, "matching: by {daemon_port} in file order, then by"
	    " {daemon_name}; otherwise [default]\n");
}

/* print_global - "key value" for one global key of struct conf (or ov). */
static void
print_global(const struct conf *conf, const struct conf_overrides *ov,
    const struct conf_key *k, FILE *fp)
{
	static const char *const fsync_names[AUDIT_FSYNC_COUNT] = {
		[AUDIT_FSYNC_INTERVAL] = "interval",
		[AUDIT_FSYNC_EVERY] = "every",
		[AUDIT_FSYNC_NONE] = "none",
	};
	const void *field = (const char *)conf + k->offset;
	const char *str;
	unsigned u;

	switch (k->type) {
	case CONF_KEY_BOOL:
		fprintf(fp, "%s %s\n", k->name, yes_no(*(const bool *)field));
		break;
	case CONF_KEY_FACILITY:
		fprintf(fp, "%s %s\n", k->name,
		    facility_name(*(const int *)field));
		break;
	case CONF_KEY_FAILURE:
		fprintf(fp, "%s %s\n", k->name, policy_action_name(
		    *(const enum policy_action *)field));
		break;
	case CONF_KEY_MODE:
		fprintf(fp, "%s %04o\n", k->name, *(const unsigned *)field);
		break;
	case CONF_KEY_FSYNC:
		u = *(const enum audit_fsync *)field;
		fprintf(fp, "%s %s\n", k->name, u < AUDIT_FSYNC_COUNT ?
		    fsync_names[u] : "?");
		break;
	case CONF_KEY_SENDER:
		u = *(const unsigned *)field;
		fprintf(fp, "%s %s\n", k->name, u == CONF_SENDER_NONE ? "none" :
		    u == CONF_SENDER_ADDRESS ? "address" : "domain");
		break;
	default:	/* the string types: socket, path, user, group */
		if ((str = conf_override(ov, k->name)) == NULL)
			str = *(char *const *)field;
		fprintf(fp, "%s %s\n", k->name, str != NULL ? str :
		    k->type == CONF_KEY_GROUP ? "none (the group of userid)" :
		    "none");
		break;
	}
}

/* facility_name - the config name of a syslog facility. */
static const char *
facility_name(int facility)
{
	static const char *const names[] = { "mail", "daemon", "user", "auth",
	    "authpriv", "local0", "local1", "local2", "local3", "local4",
	    "local5", "local6", "local7" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (log_parse_facility(names[i]) == facility)
			return names[i];
	return "unknown";
}

/* print_listener - one section's block. */
static void
print_listener(const struct conf_listener *l, FILE *fp)
{
	const struct policy_rules *r = &l->rules;

	print_selector(l, fp);
	fprintf(fp, "  require-tls %s; require-auth %s; auth-requires-tls %s;"
	    " min-tls-version %s\n", yes_no(r->require_tls),
	    yes_no(r->require_auth), yes_no(r->auth_requires_tls),
	    r->min_tls_version == TLS_VERSION_NONE ? "none" :
	    tlsinfo_version_name(r->min_tls_version));
	fprintf(fp, "  action %s; trusted-networks ",
	    policy_action_name(r->action));
	print_trusted(&r->trusted, fp);
	print_tls_rules(r, fp);
	print_replies(r, fp);
}

/* print_selector - the first line: label, origin and what selects it. */
static void
print_selector(const struct conf_listener *l, FILE *fp)
{
	bool is_default = l->n_ports == 0 && l->n_names == 0;

	if (is_default)
		fprintf(fp, "\n[default]");
	else
		fprintf(fp, "\nlistener %s", l->label);
	if (l->line > 0)
		fprintf(fp, " (line %u):", l->line);
	else
		fprintf(fp, " (built in):");
	if (is_default) {
		fprintf(fp, " sessions no listener matches\n");
		return;
	}
	fprintf(fp, " port ");
	for (size_t i = 0; i < l->n_ports; i++)
		fprintf(fp, "%s%u", i > 0 ? ", " : "", l->ports[i]);
	fprintf(fp, "%s; name ", l->n_ports == 0 ? "-" : "");
	for (size_t i = 0; i < l->n_names; i++)
		fprintf(fp, "%s%s", i > 0 ? ", " : "", l->names[i]);
	fprintf(fp, "%s; match %s\n", l->n_names == 0 ? "-" : "",
	    l->match == CONF_MATCH_ALL ? "all" : "any");
}

/* print_trusted - the CIDR list, or "none", and a newline. */
static void
print_trusted(const struct netaddr_list *list, FILE *fp)
{
	char block[80];

	for (size_t i = 0; i < list->n_blocks; i++)
		fprintf(fp, "%s%s", i > 0 ? ", " : "",
		    netaddr_block_format(&list->blocks[i], block,
		    sizeof(block)));
	fprintf(fp, "%s\n", list->n_blocks == 0 ? "none" : "");
}

/* print_replies - action and reply of every rule that is on. */
static void
print_replies(const struct policy_rules *r, FILE *fp)
{
	const struct policy_reply *reply;
	enum policy_action action;
	const char *lead = "  replies:";
	bool is_tempfail;

	for (int i = 0; i < POLICY_RULE_COUNT; i++) {
		if (!rule_is_on(r, i))
			continue;
		action = r->rule_action[i] != POLICY_ACTION_UNSET ?
		    r->rule_action[i] : r->action;
		reply = r->has_reply[i] ? &r->reply[i] :
		    policy_default_reply(i);
		is_tempfail = action == POLICY_ACTION_TEMPFAIL;
		fprintf(fp, "%s %d %s %s \"%u %s%s ", lead, i + 1,
		    policy_rule_name(i), policy_action_name(action),
		    is_tempfail ? 451 : reply->code, is_tempfail ? "4" : "",
		    reply->xcode + is_tempfail);
		if (i == POLICY_RULE_MIN_TLS_VERSION && !r->has_reply[i])
			fprintf(fp, "<version> is below the required %s",
			    tlsinfo_version_name(r->min_tls_version));
		else if (i == POLICY_RULE_MIN_CIPHER_BITS && !r->has_reply[i])
			fprintf(fp, "Cipher strength of <n> bits is below the"
			    " required %u", r->min_cipher_bits);
		else if (i > POLICY_RULE_MIN_CIPHER_BITS &&
		    i < POLICY_RULE_REQUIRE_CLIENT_CERT && !r->has_reply[i])
			fprintf(fp, "Cipher <name> %s", i ==
			    POLICY_RULE_REQUIRE_FORWARD_SECRECY ? "does not provide"
			    " forward secrecy" : i == POLICY_RULE_REQUIRE_AEAD ?
			    "is not an AEAD cipher" : "is not allowed (<class>)");
		else
			fprintf(fp, "%s", reply->text);
		fprintf(fp, "\"%s\n", r->has_reply[i] ? "" : " (built in)");
		lead = "          ";
	}
	if (lead[2] == 'r')
		fprintf(fp, "%s none (no rule is on)\n", lead);
}

/* rule_is_on - the listener checks this rule. */
static bool
rule_is_on(const struct policy_rules *r, enum policy_rule rule)
{
	switch (rule) {
	case POLICY_RULE_AUTH_REQUIRES_TLS:
		return r->auth_requires_tls;
	case POLICY_RULE_REQUIRE_TLS:
		return r->require_tls;
	case POLICY_RULE_MIN_TLS_VERSION:
		return r->min_tls_version != TLS_VERSION_NONE;
	case POLICY_RULE_MIN_CIPHER_BITS:
		return r->min_cipher_bits > 0;
	case POLICY_RULE_REQUIRE_FORWARD_SECRECY:
		return r->require_forward_secrecy;
	case POLICY_RULE_REQUIRE_AEAD:
		return r->require_aead;
	case POLICY_RULE_FORBID_CIPHERS:
		return r->forbid_classes != 0 || r->forbid_names.n_items > 0;
	case POLICY_RULE_REQUIRE_CLIENT_CERT:
		return r->require_client_cert;
	case POLICY_RULE_REQUIRE_AUTH:
		return r->require_auth;
	default:
		return false;
	}
}

/* print_tls_rules - the cipher and certificate rules, when any is on. */
static void
print_tls_rules(const struct policy_rules *r, FILE *fp)
{
	const char *name;

	if (!rule_is_on(r, POLICY_RULE_MIN_CIPHER_BITS) &&
	    !r->require_forward_secrecy && !r->require_aead &&
	    !rule_is_on(r, POLICY_RULE_FORBID_CIPHERS) &&
	    !r->require_client_cert && r->exempt_users.n_items == 0)
		return;
	fprintf(fp, "  min-cipher-bits %u; require-forward-secrecy %s;"
	    " require-aead %s; require-client-cert %s\n", r->min_cipher_bits,
	    yes_no(r->require_forward_secrecy), yes_no(r->require_aead),
	    yes_no(r->require_client_cert));
	fprintf(fp, "  forbid-ciphers");
	for (unsigned bit = 1; bit <= TLS_CIPHER_CLASS_ALL; bit <<= 1)
		if ((r->forbid_classes & bit) != 0 &&
		    (name = tlsinfo_cipher_class_name(bit)) != NULL)
			fprintf(fp, " %s", name);
	for (size_t i = 0; i < r->forbid_names.n_items; i++)
		fprintf(fp, " %s", r->forbid_names.items[i]);
	fprintf(fp, "%s\n", rule_is_on(r, POLICY_RULE_FORBID_CIPHERS) ? "" :
	    " none");
	if (r->client_cert_issuer != NULL || r->client_cert_subject != NULL)
		fprintf(fp, "  client-cert-issuer %s; client-cert-subject %s\n",
		    r->client_cert_issuer ? r->client_cert_issuer : "any",
		    r->client_cert_subject ? r->client_cert_subject : "any");
	if (r->exempt_users.n_items > 0) {
		fprintf(fp, "  exempt-users");
		for (size_t i = 0; i < r->exempt_users.n_items; i++)
			fprintf(fp, " %s", r->exempt_users.items[i]);
		fprintf(fp, "\n");
	}
}

/* yes_no - a bool as the config writes it. */
static const char *
yes_no(bool b)
{
	return b ? "yes" : "no";
}
