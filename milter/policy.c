/*
 * NAME
 *	policy - decide(): per-listener rules x session facts -> verdict
 *
 * SYNOPSIS
 *	#include "policy.h"
 *
 * DESCRIPTION
 *	policy_decide() checks the rules of one listener against the facts
 *	of one session in the fixed order documented in policy.h and fills
 *	a verdict: outcome, deciding rule, the reply the client gets (or
 *	would get in report mode) and a reason for the record.  It is a
 *	pure function: no I/O, no clock, no allocation, no libmilter; it
 *	reads its arguments only and is safe from any number of threads.
 *	Replies and reasons never contain text that came from the network.
 *
 * DIAGNOSTICS
 *	None: every combination of facts has a verdict.  policy_parse_reply
 *	returns -1 with a static explanation.
 *
 * SEE ALSO
 *	facts.c, conf.c; RFC 3207, RFC 4954, RFC 6409, RFC 8314
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "netaddr.h"
#include "policy.h"
#include "tlsinfo.h"

static const struct policy_reply default_replies[POLICY_RULE_COUNT] = {
	[POLICY_RULE_AUTH_REQUIRES_TLS] = { 538, "5.7.11",
	    "Encryption required for requested authentication mechanism" },
	[POLICY_RULE_REQUIRE_TLS] = { 530, "5.7.0",
	    "Must issue a STARTTLS command first" },
	[POLICY_RULE_MIN_TLS_VERSION] = { 530, "5.7.0",
	    "TLS version is below the required minimum" },
	[POLICY_RULE_REQUIRE_AUTH] = { 530, "5.7.0",
	    "Authentication required" },
};

static const char *const rule_names[POLICY_RULE_COUNT + 1] = {
	[POLICY_RULE_AUTH_REQUIRES_TLS] = "auth-requires-tls",
	[POLICY_RULE_REQUIRE_TLS] = "require-tls",
	[POLICY_RULE_MIN_TLS_VERSION] = "min-tls-version",
	[POLICY_RULE_REQUIRE_AUTH] = "require-auth",
	[POLICY_RULE_NONE] = "none",
};

static bool	rule_fails(const struct policy_rules *, const struct facts *,
		    enum policy_rule);
static void	set_reply(const struct policy_rules *, const struct facts *,
		    enum policy_rule, struct policy_verdict *);
static void	set_reason(const struct policy_rules *, const struct facts *,
		    enum policy_rule, struct policy_verdict *);
static int	parse_xcode(const char *, size_t *, const char **);

void
policy_rules_init(struct policy_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->auth_requires_tls = true;
	r->min_tls_version = TLS_VERSION_NONE;
	r->action = POLICY_ACTION_REJECT;
}

void
policy_rules_free(struct policy_rules *r)
{
	netaddr_list_free(&r->trusted);
}

void
policy_decide(const struct policy_rules *r, const struct facts *f,
    struct policy_verdict *v)
{
	const struct fact *addr = &f->f[FACT_CLIENT_ADDR];
	enum policy_rule rule;
	enum policy_action action;

	memset(v, 0, sizeof(*v));
	v->rule = POLICY_RULE_NONE;
	v->outcome = POLICY_OUTCOME_ACCEPT;
	v->is_exposure = facts_has_auth(f) &&
	    (!facts_is_tls(f) || f->is_auth_before_tls);
	if (addr->state == FACT_OK &&
	    netaddr_list_match(&r->trusted, &f->client_addr)) {
		v->is_trusted = true;
		(void) snprintf(v->reason, sizeof(v->reason),
		    "client in trusted-networks");
		return;
	}
	for (rule = 0; rule < POLICY_RULE_COUNT; rule++)
		if (rule_fails(r, f, rule))
			break;
	if (rule == POLICY_RULE_COUNT) {
		(void) snprintf(v->reason, sizeof(v->reason), "all rules passed");
		return;
	}
	v->rule = rule;
	set_reply(r, f, rule, v);
	set_reason(r, f, rule, v);
	action = r->rule_action[rule] != POLICY_ACTION_UNSET ?
	    r->rule_action[rule] : r->action;
	switch (action) {
	case POLICY_ACTION_REPORT:
		v->outcome = POLICY_OUTCOME_WOULD_REJECT;
		break;
	case POLICY_ACTION_TEMPFAIL:
		v->outcome = POLICY_OUTCOME_TEMPFAIL;
		v->reply.code = 451;
		v->reply.xcode[0] = '4';
		break;
	default:
		v->outcome = POLICY_OUTCOME_REJECT;
		break;
	}
}

const struct policy_reply *
policy_default_reply(enum policy_rule rule)
{
	if (rule >= POLICY_RULE_COUNT)
		return NULL;
	return &default_replies[rule];
}

const char *
policy_rule_name(enum policy_rule rule)
{
	if ((unsigned)rule > POLICY_RULE_NONE)
		return "invalid";
	return rule_names[rule];
}

const char *
policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_ACTION_REJECT:
		return "reject";
	case POLICY_ACTION_TEMPFAIL:
		return "tempfail";
	case POLICY_ACTION_REPORT:
		return "report";
	default:
		return "unset";
	}
}

const char *
policy_outcome_name(enum policy_outcome o)
{
	switch (o) {
	case POLICY_OUTCOME_REJECT:
		return "reject";
	case POLICY_OUTCOME_TEMPFAIL:
		return "tempfail";
	case POLICY_OUTCOME_WOULD_REJECT:
		return "would-reject";
	default:
		return "accept";
	}
}

int
policy_parse_reply(const char *s, struct policy_reply *out,
    const char **why)
{
	size_t xlen, tlen;
	const char *text;

	if (strlen(s) < 4 || s[0] != '5' || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || s[3] != ' ') {
		*why = (s[0] == '4') ? "reply code must be 5xx; tempfail"
		    " replies are derived as 451 4.x.y" :
		    "expected a 5xx reply code, a space, an enhanced code"
		    " 5.x.y and text";
		return -1;
	}
	if (parse_xcode(s + 4, &xlen, why) == -1)
		return -1;
	if (s[4 + xlen] != ' ' || s[5 + xlen] == '\0') {
		*why = "expected text after the enhanced status code";
		return -1;
	}
	text = s + 5 + xlen;
	if ((tlen = strlen(text)) >= POLICY_TEXT_MAX) {
		*why = "reply text longer than 255 bytes";
		return -1;
	}
	for (size_t i = 0; i < tlen; i++) {
		if (text[i] < 0x20 || text[i] > 0x7e) {
			*why = "reply text must be printable ASCII";
			return -1;
		}
	}
	out->code = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 +
	    (s[2] - '0'));
	memcpy(out->xcode, s + 4, xlen);
	out->xcode[xlen] = '\0';
	memcpy(out->text, text, tlen + 1);
	return 0;
}

/* rule_fails - does this rule refuse the session? */
static bool
rule_fails(const struct policy_rules *r, const struct facts *f,
    enum policy_rule rule)
{
	bool is_tls = facts_is_tls(f), has_auth = facts_has_auth(f);

	switch (rule) {
	case POLICY_RULE_AUTH_REQUIRES_TLS:
		return r->auth_requires_tls && has_auth &&
		    (!is_tls || f->is_auth_before_tls);
	case POLICY_RULE_REQUIRE_TLS:
		return r->require_tls && !is_tls;
	case POLICY_RULE_MIN_TLS_VERSION:
		return r->min_tls_version != TLS_VERSION_NONE && is_tls &&
		    (!tlsinfo_version_is_known(f->tls_version) ||
		    f->tls_version < r->min_tls_version);
	case POLICY_RULE_REQUIRE_AUTH:
		return r->require_auth && !has_auth;
	default:
		return false;
	}
}

/* set_reply - the configured reply, else the built-in one. */
static void
set_reply(const struct policy_rules *r, const struct facts *f,
    enum policy_rule rule, struct policy_verdict *v)
{
	const char *found;

	if (r->has_reply[rule]) {
		v->reply = r->reply[rule];
		return;
	}
	v->reply = default_replies[rule];
	if (rule != POLICY_RULE_MIN_TLS_VERSION)
		return;
	found = tlsinfo_version_is_known(f->tls_version) ?
	    tlsinfo_version_name(f->tls_version) : "unknown TLS version";
	(void) snprintf(v->reply.text, sizeof(v->reply.text),
	    "%s is below the required %s", found,
	    tlsinfo_version_name(r->min_tls_version));
}

/* set_reason - why the rule failed, for the record; no network text. */
static void
set_reason(const struct policy_rules *r, const struct facts *f,
    enum policy_rule rule, struct policy_verdict *v)
{
	const char *text;

	switch (rule) {
	case POLICY_RULE_AUTH_REQUIRES_TLS:
		text = f->is_auth_before_tls && facts_is_tls(f) ?
		    "AUTH before STARTTLS" : "AUTH on a plaintext session";
		break;
	case POLICY_RULE_REQUIRE_TLS:
		text = "plaintext session";
		break;
	case POLICY_RULE_MIN_TLS_VERSION:
		(void) snprintf(v->reason, sizeof(v->reason), "%s below %s",
		    tlsinfo_version_is_known(f->tls_version) ?
		    tlsinfo_version_name(f->tls_version) : "unknown TLS version",
		    tlsinfo_version_name(r->min_tls_version));
		return;
	default:
		text = "no AUTH";
		break;
	}
	(void) snprintf(v->reason, sizeof(v->reason), "%s", text);
}

/* parse_xcode - "5.D.D" with 1..3 digit parts; its length in *len. */
static int
parse_xcode(const char *s, size_t *len, const char **why)
{
	size_t i = 0;
	int part, digits;

	*why = "expected an enhanced status code 5.x.y after the reply code";
	if (s[0] != '5' || s[1] != '.')
		return -1;
	i = 2;
	for (part = 0; part < 2; part++) {
		for (digits = 0; isdigit((unsigned char)s[i]); digits++)
			i++;
		if (digits < 1 || digits > 3)
			return -1;
		if (part == 0 && s[i++] != '.')
			return -1;
	}
	*len = i;
	return 0;
}
