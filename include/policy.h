/*
 * policy.h - decide(): per-listener rules x session facts -> verdict
 *
 * The decision is a pure function: no I/O, no clock, no allocation, no
 * libmilter.  Rules are checked in a fixed, documented order and the first
 * failing rule decides:
 *
 *   1. auth-requires-tls        AUTH happened on a plaintext session  538 5.7.11
 *   2. require-tls              the session is plaintext               530 5.7.0
 *   3. min-tls-version          TLS older than the minimum (or unknown)
 *   4. min-cipher-bits          cipher strength below the minimum
 *   5. require-forward-secrecy  the cipher's key exchange is not ephemeral
 *   6. require-aead             the cipher is not an AEAD cipher
 *   7. forbid-ciphers           the cipher is in a forbidden class or
 *                               matches a forbidden name pattern
 *   8. require-client-cert      no client certificate the MTA verified, or
 *                               its issuer/subject does not match
 *   9. require-auth             the client did not authenticate        530 5.7.0
 *
 * Rules 3 to 8 judge TLS sessions only (require-tls covers plaintext), and
 * an unknown cipher fails every cipher rule that is on (fail closed).
 * A client in the listener's trusted networks, or authenticated as one of
 * its exempt users or domains, is exempt from all rules.
 * AUTH over plaintext is flagged as a credential exposure whatever the
 * outcome (also when exempt or in report mode), so it is always recorded.
 *
 * The reply of a failed rule is the configured one, else the built-in one
 * (min-tls-version names both versions: "TLSv1.1 is below the required
 * TLSv1.2").  With the tempfail action the same reply is sent as 451 with
 * enhanced class 4 ("451 4.7.0 ...", "451 4.7.11 ...").
 */
#ifndef TLSPOLICY_POLICY_H
#define TLSPOLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "facts.h"
#include "netaddr.h"
#include "tlsinfo.h"

/* Rules in decision order. */
enum policy_rule {
	POLICY_RULE_AUTH_REQUIRES_TLS = 0,
	POLICY_RULE_REQUIRE_TLS,
	POLICY_RULE_MIN_TLS_VERSION,
	POLICY_RULE_MIN_CIPHER_BITS,
	POLICY_RULE_REQUIRE_FORWARD_SECRECY,
	POLICY_RULE_REQUIRE_AEAD,
	POLICY_RULE_FORBID_CIPHERS,
	POLICY_RULE_REQUIRE_CLIENT_CERT,
	POLICY_RULE_REQUIRE_AUTH,
	POLICY_RULE_COUNT,
	POLICY_RULE_NONE = POLICY_RULE_COUNT	/* no rule failed */
};

enum policy_action {
	POLICY_ACTION_UNSET = 0,	/* inherit (config only) */
	POLICY_ACTION_REJECT,		/* 5xx at MAIL FROM */
	POLICY_ACTION_TEMPFAIL,		/* 4xx at MAIL FROM */
	POLICY_ACTION_REPORT,		/* record "would reject", let it through */
};

enum policy_outcome {
	POLICY_OUTCOME_ACCEPT = 0,	/* no rule failed, or exempt */
	POLICY_OUTCOME_REJECT,
	POLICY_OUTCOME_TEMPFAIL,
	POLICY_OUTCOME_WOULD_REJECT,	/* report mode: a rule failed */
};

#define POLICY_TEXT_MAX 256

struct policy_reply {
	unsigned	code;				/* 530 */
	char		xcode[16];			/* "5.7.0" */
	char		text[POLICY_TEXT_MAX];		/* "Authentication required" */
};

/* A list of owned strings (patterns, names). */
struct policy_list {
	char			**items;
	size_t			  n_items;
};

/* The rules of one listener.  Plain data, filled by conf.c. */
struct policy_rules {
	bool			require_tls;
	bool			require_auth;
	bool			auth_requires_tls;
	enum tls_version	min_tls_version;	/* NONE: no minimum */
	unsigned		min_cipher_bits;	/* 0: no minimum */
	bool			require_forward_secrecy;
	bool			require_aead;
	unsigned		forbid_classes;		/* TLS_CIPHER_CLASS_* bits */
	struct policy_list	forbid_names;		/* fnmatch patterns, no case */
	bool			require_client_cert;
	char			*client_cert_issuer;	/* fnmatch pattern or NULL */
	char			*client_cert_subject;	/* fnmatch pattern or NULL */
	struct policy_list	exempt_users;		/* "user@domain" or "@domain" */
	enum policy_action	action;			/* listener default */
	enum policy_action	rule_action[POLICY_RULE_COUNT]; /* UNSET: action */
	bool			has_reply[POLICY_RULE_COUNT];
	struct policy_reply	reply[POLICY_RULE_COUNT];	/* when has_reply */
	struct netaddr_list	trusted;		/* exempt clients */
};

struct policy_verdict {
	enum policy_outcome	outcome;
	enum policy_action	action;		/* of the failing rule; else the section's */
	enum policy_rule	rule;		/* NONE when nothing failed */
	bool			is_trusted;	/* exempt by trusted networks or user */
	bool			is_exposure;	/* AUTH on a plaintext session */
	struct policy_reply	reply;		/* what the client gets (or would get) */
	char			reason[POLICY_TEXT_MAX]; /* why, for the record; no network text */
};

/* policy_rules_init - all rules off, auth-requires-tls on, action reject. */
void	policy_rules_init(struct policy_rules *);

/* policy_list_add - append a copy of s; 0, or -1 (ENOMEM). */
int	policy_list_add(struct policy_list *, const char *);

/* policy_list_free - free the items; the list is empty afterwards. */
void	policy_list_free(struct policy_list *);

/* policy_rules_free - free the lists and patterns. */
void	policy_rules_free(struct policy_rules *);

/*
 * policy_decide - decide one transaction.  rules and facts are read only;
 * the verdict is filled completely.  Pure and thread-safe.
 */
void	policy_decide(const struct policy_rules *, const struct facts *,
	    struct policy_verdict *);

/* policy_default_reply - the built-in reply of a rule. */
const struct policy_reply *policy_default_reply(enum policy_rule);

/* policy_rule_name - config/record name: "require-tls", ...; "none". */
const char *policy_rule_name(enum policy_rule);

/* policy_action_name - "reject", "tempfail", "report"; "unset". */
const char *policy_action_name(enum policy_action);

/* policy_outcome_name - "accept", "reject", "tempfail", "would-reject". */
const char *policy_outcome_name(enum policy_outcome);

/*
 * policy_parse_reply - parse "530 5.7.0 Text" into a reply.  The code must
 * be 5xx (tempfail derives its 4xx), the enhanced code 5.x.y with x and y
 * at most 3 digits, the text non-empty printable ASCII.  Returns 0, or -1 with a static message in *why.
 */
int	policy_parse_reply(const char *, struct policy_reply *,
	    const char **why);

#endif /* TLSPOLICY_POLICY_H */
