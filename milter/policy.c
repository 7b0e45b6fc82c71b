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
#include <fnmatch.h>
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
	[POLICY_RULE_MIN_CIPHER_BITS] = { 530, "5.7.0",
	    "Cipher strength is below the required minimum" },
	[POLICY_RULE_REQUIRE_FORWARD_SECRECY] = { 530, "5.7.0",
	    "Cipher does not provide forward secrecy" },
	[POLICY_RULE_REQUIRE_AEAD] = { 530, "5.7.0",
	    "Cipher is not an AEAD cipher" },
	[POLICY_RULE_FORBID_CIPHERS] = { 530, "5.7.0",
	    "Cipher is not allowed" },
	[POLICY_RULE_REQUIRE_CLIENT_CERT] = { 530, "5.7.0",
	    "A trusted client certificate is required" },
	[POLICY_RULE_REQUIRE_AUTH] = { 530, "5.7.0",
	    "Authentication required" },
};

static const char *const rule_names[POLICY_RULE_COUNT + 1] = {
	[POLICY_RULE_AUTH_REQUIRES_TLS] = "auth-requires-tls",
	[POLICY_RULE_REQUIRE_TLS] = "require-tls",
	[POLICY_RULE_MIN_TLS_VERSION] = "min-tls-version",
	[POLICY_RULE_MIN_CIPHER_BITS] = "min-cipher-bits",
	[POLICY_RULE_REQUIRE_FORWARD_SECRECY] = "require-forward-secrecy",
	[POLICY_RULE_REQUIRE_AEAD] = "require-aead",
	[POLICY_RULE_FORBID_CIPHERS] = "forbid-ciphers",
	[POLICY_RULE_REQUIRE_CLIENT_CERT] = "require-client-cert",
	[POLICY_RULE_REQUIRE_AUTH] = "require-auth",
	[POLICY_RULE_NONE] = "none",
};

static bool	rule_fails(const struct policy_rules *, const struct facts *,
		    enum policy_rule, const struct tls_cipher_info *);
static void	set_reply(const struct policy_rules *, const struct facts *,
		    enum policy_rule, const struct tls_cipher_info *,
		    struct policy_verdict *);
static void	set_reason(const struct policy_rules *, const struct facts *,
		    enum policy_rule, const struct tls_cipher_info *,
		    struct policy_verdict *);
static int	parse_xcode(const char *, size_t *, const char **);
static bool	cipher_fails(const struct policy_rules *, const struct facts *,
		    enum policy_rule, const struct tls_cipher_info *);
static unsigned	cipher_bits(const struct facts *, const struct tls_cipher_info *);
static bool	forbidden(const struct policy_rules *, const struct facts *,
		    const struct tls_cipher_info *, const char **);
static bool	cert_fails(const struct policy_rules *, const struct facts *);
static bool	matches(const char *, const char *, bool);
static bool	is_exempt_user(const struct policy_rules *, const struct facts *);
static const char *cipher_name(const struct tls_cipher_info *);

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
	policy_list_free(&r->forbid_names);
	policy_list_free(&r->exempt_users);
	free(r->client_cert_issuer);
	free(r->client_cert_subject);
	r->client_cert_issuer = r->client_cert_subject = NULL;
}

int
policy_list_add(struct policy_list *l, const char *s)
{
	char **grown, *copy;

	if ((copy = strdup(s)) == NULL)
		return -1;
	grown = realloc(l->items, (l->n_items + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(copy);
		return -1;
	}
	l->items = grown;
	l->items[l->n_items++] = copy;
	return 0;
}

void
policy_list_free(struct policy_list *l)
{
	for (size_t i = 0; i < l->n_items; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n_items = 0;
}

void
policy_decide(const struct policy_rules *r, const struct facts *f,
    struct policy_verdict *v)
{
	const struct fact *addr = &f->f[FACT_CLIENT_ADDR];
	struct tls_cipher_info ci;
	enum policy_rule rule;
	enum policy_action action;

	memset(v, 0, sizeof(*v));
	v->rule = POLICY_RULE_NONE;
	v->outcome = POLICY_OUTCOME_ACCEPT;
	v->action = r->action;
	v->is_exposure = facts_has_auth(f) &&
	    (!facts_is_tls(f) || f->is_auth_before_tls);
	if (addr->state == FACT_OK &&
	    netaddr_list_match(&r->trusted, &f->client_addr)) {
		v->is_trusted = true;
		(void) snprintf(v->reason, sizeof(v->reason),
		    "client in trusted-networks");
		return;
	}
	if (is_exempt_user(r, f)) {
		v->is_trusted = true;
		(void) snprintf(v->reason, sizeof(v->reason),
		    "authenticated user in exempt-users");
		return;
	}
	if (f->f[FACT_CIPHER].text != NULL)
		(void) tlsinfo_cipher_lookup(f->f[FACT_CIPHER].text, &ci);
	else
		memset(&ci, 0, sizeof(ci));	/* is_known false */
	for (rule = 0; rule < POLICY_RULE_COUNT; rule++)
		if (rule_fails(r, f, rule, &ci))
			break;
	if (rule == POLICY_RULE_COUNT) {
		(void) snprintf(v->reason, sizeof(v->reason), "all rules passed");
		return;
	}
	v->rule = rule;
	set_reply(r, f, rule, &ci, v);
	set_reason(r, f, rule, &ci, v);
	action = r->rule_action[rule] != POLICY_ACTION_UNSET ?
	    r->rule_action[rule] : r->action;
	v->action = action;
	switch (action) {
	case POLICY_ACTION_REPORT:
		v->outcome = POLICY_OUTCOME_WOULD_REJECT;
		break;
	case POLICY_ACTION_TEMPFAIL:
		v->outcome = POLICY_OUTCOME_TEMPFAIL;
		v->reply.code = 451;
		if (v->reply.xcode[0] == '5')
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
	if (s[4 + xlen] != ' ' || s[5 + xlen] == '\0' || s[5 + xlen] == ' ') {
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
    enum policy_rule rule, const struct tls_cipher_info *ci)
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
	case POLICY_RULE_MIN_CIPHER_BITS:
	case POLICY_RULE_REQUIRE_FORWARD_SECRECY:
	case POLICY_RULE_REQUIRE_AEAD:
	case POLICY_RULE_FORBID_CIPHERS:
		return is_tls && cipher_fails(r, f, rule, ci);
	case POLICY_RULE_REQUIRE_CLIENT_CERT:
		return is_tls && r->require_client_cert && cert_fails(r, f);
	case POLICY_RULE_REQUIRE_AUTH:
		return r->require_auth && !has_auth;
	default:
		return false;
	}
}

/* cipher_fails - the cipher rules; an unknown cipher fails each one that is on. */
static bool
cipher_fails(const struct policy_rules *r, const struct facts *f,
    enum policy_rule rule, const struct tls_cipher_info *ci)
{
	const char *why;

	switch (rule) {
	case POLICY_RULE_MIN_CIPHER_BITS:
		return r->min_cipher_bits > 0 &&
		    cipher_bits(f, ci) < r->min_cipher_bits;
	case POLICY_RULE_REQUIRE_FORWARD_SECRECY:
		return r->require_forward_secrecy &&
		    (!ci->is_known || !ci->has_forward_secrecy);
	case POLICY_RULE_REQUIRE_AEAD:
		return r->require_aead && (!ci->is_known || !ci->is_aead);
	default:
		return forbidden(r, f, ci, &why);
	}
}

/* cipher_bits - the MTA's {cipher_bits}, else OpenSSL's; 0 when unknown. */
static unsigned
cipher_bits(const struct facts *f, const struct tls_cipher_info *ci)
{
	if (f->f[FACT_CIPHER_BITS].state == FACT_OK)
		return (unsigned)f->f[FACT_CIPHER_BITS].num;
	return ci->is_known && ci->bits > 0 ? (unsigned)ci->bits : 0;
}

/*
 * forbidden - the cipher is in a forbidden class or matches a forbidden
 * name pattern; *why is the class name or "name".  With forbid rules on,
 * an unknown cipher is forbidden ("unknown").
 */
static bool
forbidden(const struct policy_rules *r, const struct facts *f,
    const struct tls_cipher_info *ci, const char **why)
{
	unsigned hit;

	if (r->forbid_classes == 0 && r->forbid_names.n_items == 0)
		return false;
	if (!ci->is_known) {
		*why = "unknown";
		return true;
	}
	if ((hit = ci->classes & r->forbid_classes) != 0) {
		hit &= ~(hit - 1);	/* the lowest class bit */
		*why = tlsinfo_cipher_class_name(hit);
		return true;
	}
	for (size_t i = 0; i < r->forbid_names.n_items; i++) {
		if (matches(r->forbid_names.items[i], ci->openssl_name, false) ||
		    matches(r->forbid_names.items[i], ci->iana_name, false) ||
		    matches(r->forbid_names.items[i], f->f[FACT_CIPHER].text,
		    false)) {
			*why = "name";
			return true;
		}
	}
	return false;
}

/*
 * cert_fails - no client certificate the MTA verified, or one whose issuer
 * or subject does not match.  Sendmail says {verify}=OK; Postfix sends
 * {cert_subject} only for a verified certificate and no {verify}.
 */
static bool
cert_fails(const struct policy_rules *r, const struct facts *f)
{
	const struct fact *verify = &f->f[FACT_VERIFY];
	const struct fact *subject = &f->f[FACT_CERT_SUBJECT];
	const struct fact *issuer = &f->f[FACT_CERT_ISSUER];
	bool is_sendmail = verify->state != FACT_ABSENT;
	bool is_verified = is_sendmail ?
	    (verify->text != NULL && strcmp(verify->text, "OK") == 0) :
	    subject->state == FACT_OK;

	if (!is_verified)
		return true;
	if (r->client_cert_issuer != NULL && !matches(r->client_cert_issuer,
	    issuer->text, is_sendmail))
		return true;
	return r->client_cert_subject != NULL &&
	    !matches(r->client_cert_subject, subject->text, is_sendmail);
}

/*
 * matches - fnmatch without case; with is_xtext the value is Sendmail's
 * xtext ("+20" for a space) and is decoded first.  NULL never matches.
 */
static bool
matches(const char *pattern, const char *value, bool is_xtext)
{
	char decoded[FACTS_VALUE_MAX + 1];
	size_t n = 0;

	if (value == NULL)
		return false;
	if (is_xtext) {
		for (; *value != '\0' && n < sizeof(decoded) - 1; value++) {
			if (value[0] == '+' && isxdigit((unsigned char)value[1]) &&
			    isxdigit((unsigned char)value[2])) {
				char hex[3] = { value[1], value[2], '\0' };

				decoded[n++] = (char)strtol(hex, NULL, 16);
				value += 2;
			} else
				decoded[n++] = *value;
		}
		decoded[n] = '\0';
		value = decoded;
	}
	return fnmatch(pattern, value, FNM_CASEFOLD) == 0;
}

/* is_exempt_user - AUTH user equals an exempt "user@domain" or ends in "@domain". */
static bool
is_exempt_user(const struct policy_rules *r, const struct facts *f)
{
	const char *user = f->f[FACT_AUTH_AUTHEN].text, *e;
	size_t ul, el;

	if (user == NULL || f->f[FACT_AUTH_AUTHEN].state != FACT_OK)
		return false;
	ul = strlen(user);
	for (size_t i = 0; i < r->exempt_users.n_items; i++) {
		e = r->exempt_users.items[i];
		el = strlen(e);
		if (e[0] == '@' ? (ul > el && strcasecmp(user + ul - el, e) == 0) :
		    strcasecmp(user, e) == 0)
			return true;
	}
	return false;
}

/* cipher_name - OpenSSL's name of a known cipher; never network text. */
static const char *
cipher_name(const struct tls_cipher_info *ci)
{
	return ci->is_known ? ci->openssl_name : "(unknown)";
}

/* set_reply - the configured reply, else the built-in one. */
static void
set_reply(const struct policy_rules *r, const struct facts *f,
    enum policy_rule rule, const struct tls_cipher_info *ci,
    struct policy_verdict *v)
{
	if (r->has_reply[rule]) {
		v->reply = r->reply[rule];
		return;
	}
	v->reply = default_replies[rule];
	switch (rule) {
	case POLICY_RULE_MIN_TLS_VERSION:
	case POLICY_RULE_MIN_CIPHER_BITS:
	case POLICY_RULE_REQUIRE_FORWARD_SECRECY:
	case POLICY_RULE_REQUIRE_AEAD:
	case POLICY_RULE_FORBID_CIPHERS:
		/* the reply names the weakness, as the reason does */
		set_reason(r, f, rule, ci, v);
		(void) snprintf(v->reply.text, sizeof(v->reply.text), "%s",
		    v->reason);
		break;
	default:
		break;
	}
}

/* set_reason - why the rule failed, for the record; no network text. */
static void
set_reason(const struct policy_rules *r, const struct facts *f,
    enum policy_rule rule, const struct tls_cipher_info *ci,
    struct policy_verdict *v)
{
	const char *text, *why = "name";

	switch (rule) {
	case POLICY_RULE_AUTH_REQUIRES_TLS:
		text = f->is_auth_before_tls && facts_is_tls(f) ?
		    "AUTH before STARTTLS" : "AUTH on a plaintext session";
		break;
	case POLICY_RULE_REQUIRE_TLS:
		text = "plaintext session";
		break;
	case POLICY_RULE_MIN_TLS_VERSION:
		(void) snprintf(v->reason, sizeof(v->reason),
		    "%s is below the required %s",
		    tlsinfo_version_is_known(f->tls_version) ?
		    tlsinfo_version_name(f->tls_version) : "unknown TLS version",
		    tlsinfo_version_name(r->min_tls_version));
		return;
	case POLICY_RULE_MIN_CIPHER_BITS:
		(void) snprintf(v->reason, sizeof(v->reason), "Cipher strength"
		    " of %u bits is below the required %u", cipher_bits(f, ci),
		    r->min_cipher_bits);
		return;
	case POLICY_RULE_REQUIRE_FORWARD_SECRECY:
		(void) snprintf(v->reason, sizeof(v->reason), "Cipher %s does"
		    " not provide forward secrecy", cipher_name(ci));
		return;
	case POLICY_RULE_REQUIRE_AEAD:
		(void) snprintf(v->reason, sizeof(v->reason), "Cipher %s is not"
		    " an AEAD cipher", cipher_name(ci));
		return;
	case POLICY_RULE_FORBID_CIPHERS:
		(void) forbidden(r, f, ci, &why);
		(void) snprintf(v->reason, sizeof(v->reason), "Cipher %s is not"
		    " allowed (%s)", cipher_name(ci), why);
		return;
	case POLICY_RULE_REQUIRE_CLIENT_CERT:
		text = "no trusted client certificate, or issuer or subject"
		    " not accepted";
		break;
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
