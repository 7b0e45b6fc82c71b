/*
 * facts.h - MTA macro values turned into typed facts about one session
 *
 * The milter learns everything from the MTA's macros.  This module turns
 * the macros of one stage into facts: the raw value (kept for the record,
 * up to FACTS_VALUE_MAX bytes) and, where the fact is typed, the parsed
 * value.  Missing, empty, malformed and oversized values are facts too and
 * are never an error: only allocation failure is.
 *
 * Macros are read through a lookup callback, so this module never includes
 * libmilter.  No I/O, no clock.  A struct facts belongs to one session; the
 * session serialises access to it.
 */
#ifndef TLSPOLICY_FACTS_H
#define TLSPOLICY_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "tlsinfo.h"

/* Longest macro value kept; longer values are FACT_OVERSIZE. */
#define FACTS_VALUE_MAX 2048

enum fact_state {
	FACT_ABSENT = 0,	/* the MTA sent no value (or an empty one) */
	FACT_OK,		/* present and well-formed */
	FACT_MALFORMED,		/* present but not what the fact requires */
	FACT_OVERSIZE,		/* longer than FACTS_VALUE_MAX; text is NULL */
};

/* Every fact the milter knows; the order is the order of records. */
enum fact_id {
	FACT_DAEMON_NAME = 0,	/* {daemon_name} */
	FACT_DAEMON_ADDR,	/* {daemon_addr}, else {if_addr} */
	FACT_DAEMON_PORT,	/* {daemon_port}: 1..65535 */
	FACT_CLIENT_ADDR,	/* {client_addr}: an IP address */
	FACT_CLIENT_PORT,	/* {client_port}: 0..65535 */
	FACT_MTA_VERSION,	/* v: "Postfix 3.7.11", "8.17.1.9" */
	FACT_TLS_VERSION,	/* {tls_version}: see tlsinfo.h */
	FACT_CIPHER,		/* {cipher} */
	FACT_CIPHER_BITS,	/* {cipher_bits}: 0..65535 */
	FACT_CERT_SUBJECT,	/* {cert_subject} */
	FACT_CERT_ISSUER,	/* {cert_issuer} */
	FACT_VERIFY,		/* {verify}: OK, NO, FAIL, ... (Sendmail only) */
	FACT_AUTH_TYPE,		/* {auth_type}: SASL mechanism */
	FACT_AUTH_AUTHEN,	/* {auth_authen}: SASL user */
	FACT_AUTH_SSF,		/* {auth_ssf} (Sendmail only) */
	FACT_QUEUE_ID,		/* i */
	FACT_COUNT
};

/* The macro groups read together at one stage. */
enum facts_group {
	FACTS_GROUP_CONNECT = 0,	/* listener, client, MTA version */
	FACTS_GROUP_TLS,		/* tls_version .. verify */
	FACTS_GROUP_AUTH,		/* auth_*; cleared before reading */
	FACTS_GROUP_QUEUE,		/* i */
};

struct fact {
	char		*text;	/* copy of the value (the facts' own, alone
				 * or in their pack); NULL unless OK/MALFORMED */
	size_t		 size;	/* bytes the MTA sent (also when OVERSIZE) */
	unsigned	 num;	/* ports and bits (0..65535), when OK */
	enum fact_state	 state;
};

struct facts {
	struct fact		f[FACT_COUNT];
	char			*pack;		/* texts moved by facts_compact() */
	struct netaddr		client_addr;	/* valid when FACT_CLIENT_ADDR is OK */
	enum tls_version	tls_version;	/* NONE when FACT_TLS_VERSION is ABSENT */
	uint16_t		is_packed;	/* bit per fact: its text is in pack */
	uint16_t		pack_texts;	/* the bits when pack was made */
	bool			saw_plain_helo;	/* a HELO before TLS (facts_greeted) */
	bool			is_auth_before_tls; /* AUTH seen at the first HELO
						 * after TLS began, i.e. AUTH
						 * in plaintext (facts_greeted) */
};

/*
 * facts_lookup_fn - return the value of macro name ("{daemon_port}", "i")
 * or NULL when the MTA did not send it.  The string is borrowed until the
 * next call.
 */
typedef const char *(*facts_lookup_fn)(void *ctx, const char *name);

/* facts_init - all facts absent. */
void	facts_init(struct facts *);

/* facts_clear - free owned text and make all facts absent again. */
void	facts_clear(struct facts *);

/*
 * facts_compact - move every fact's text into one allocation of the sum of
 * their sizes, freeing the copies made one by one (and an earlier pack),
 * so a session that waits (during the message transfer) holds its facts
 * in one small block.  Every fact keeps its value, state and number; text
 * pointers change.  Later facts_set() calls work as before.  Does nothing
 * when the texts are already packed and none was dropped since.  Returns
 * 0, or -1 on allocation failure (errno ENOMEM; the facts are unchanged).
 */
int	facts_compact(struct facts *);

/*
 * facts_update - read the macros of group through lookup and update facts.
 *
 * CONNECT and QUEUE facts are replaced by what the MTA sends now.  TLS
 * facts are replaced only when this stage carries a TLS macro: an MTA that
 * lists TLS macros only for HELO leaves them in place for MAIL (a session
 * never leaves TLS).  AUTH facts are cleared first and then read (they
 * belong to one transaction).
 *
 * Returns 0, or -1 on allocation failure (facts of the group may then be
 * partly updated; the caller applies its failure action).
 */
int	facts_update(struct facts *, enum facts_group, facts_lookup_fn,
	    void *ctx);

/*
 * facts_set - set one fact from a raw value (NULL or "" make it absent),
 * parsing it by the fact's type.  0, or -1 on allocation failure.
 */
int	facts_set(struct facts *, enum fact_id, const char *value);

/*
 * facts_greeted - after a HELO's TLS and AUTH facts were read (was_tls:
 * the session was encrypted before they were): note a greeting in
 * plaintext, and mark AUTH that is already there at the first greeting
 * over TLS after one.  That is an AUTH done in plaintext that the MTA
 * carried across STARTTLS (Sendmail does): a credential exposure.
 */
void	facts_greeted(struct facts *, bool was_tls);

/* facts_is_tls - the session is encrypted (a TLS version or cipher is known). */
bool	facts_is_tls(const struct facts *);

/* facts_has_auth - the client authenticated (a SASL mechanism or user is known). */
bool	facts_has_auth(const struct facts *);

/* facts_has_port - {daemon_port} arrived and is a valid port. */
bool	facts_has_port(const struct facts *);

/* facts_id_name - record key of a fact ("daemon_port", "tls_version"). */
const char *facts_id_name(enum fact_id);

/* facts_id_macro - the macro the fact is read from ("{daemon_port}"). */
const char *facts_id_macro(enum fact_id);

/* facts_id_group - which stage group the fact belongs to. */
enum facts_group facts_id_group(enum fact_id);

/*
 * facts_describe - a short problem text for a MALFORMED or OVERSIZE fact
 * ("unknown TLS version", "not a port number", "value of 70000 bytes
 * exceeds 2048"), written into buf; "" for ABSENT and OK.  Never contains
 * the network value itself.  Returns buf.
 */
char	*facts_describe(const struct facts *, enum fact_id, char *buf,
	    size_t size);

#endif /* TLSPOLICY_FACTS_H */
