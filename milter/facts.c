/*
 * NAME
 *	facts - MTA macro values turned into typed facts about one session
 *
 * SYNOPSIS
 *	#include "facts.h"
 *
 * DESCRIPTION
 *	One static table names, for every fact, its record key, the macro it
 *	is read from, its kind and its stage group.  facts_set() stores a
 *	copy of the raw value (at most FACTS_VALUE_MAX bytes) and parses it
 *	by kind:
 *
 *	text		any non-empty value is OK
 *	port		{daemon_port}: decimal 1..65535
 *	client port	{client_port}: decimal 0..65535
 *	bits		{cipher_bits}, {auth_ssf}: decimal 0..65535
 *	address		{daemon_addr}, {client_addr}: netaddr_parse()
 *	TLS version	{tls_version}: tlsinfo_parse_version()
 *
 *	Numbers are plain ASCII digits: no sign, space, or base prefix.  A
 *	NULL or empty value is FACT_ABSENT (Sendmail defines unset TLS and
 *	AUTH macros as ""); a longer one is FACT_OVERSIZE with no text; a
 *	value of the wrong form is FACT_MALFORMED and keeps its text for the
 *	record.  An unknown or oversized {tls_version} still means the
 *	session is encrypted: tls_version is then TLS_VERSION_UNKNOWN.
 *
 *	{daemon_addr} falls back to {if_addr} when absent or empty.
 *
 *	facts_update() reads one stage group through the caller's lookup
 *	function; see facts.h for the replacement rules.  A stage "carries"
 *	a TLS macro when at least one macro of the TLS group is non-empty.
 *	When the value equals the stored text the copy is kept, so calling
 *	this at every stage costs no allocation.
 *
 *	facts_compact() moves the texts into one block (the pack), each
 *	fact's bit in is_packed saying its text lives there; a text that
 *	is replaced or dropped is then only forgotten (its bytes stay in the
 *	pack until the next facts_compact() or facts_clear()), a text copied
 *	one by one is freed.  A session compacts after each decision: the
 *	values it waits with then cost one allocation instead of a dozen.
 *
 *	A struct facts owns its text copies until facts_clear().  Not
 *	thread-safe; the owning session serialises access.  The table and
 *	the strings returned by the facts_id_*() functions are static.
 *
 * DIAGNOSTICS
 *	facts_set() and facts_update() return -1 only when a copy cannot be
 *	allocated (errno ENOMEM); a fact whose copy failed keeps its old
 *	value, and an AUTH group that failed is left entirely absent.
 *	facts_compact() returns -1 when its block cannot be allocated and
 *	leaves the facts as they were.
 *	An out-of-range fact id or group, or a NULL lookup function, is a
 *	programming error and fails an assertion.  Nothing is logged.
 *
 * SEE ALSO
 *	netaddr.c, tlsinfo.c, callbacks.c, policy.c;
 *	Postfix MILTER_README, Sendmail cf/README (confMILTER_MACROS_*)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "netaddr.h"
#include "tlsinfo.h"

#define FACTS_IF_ADDR_MACRO	"{if_addr}"

enum fact_kind {
	KIND_TEXT = 0,
	KIND_PORT,		/* 1..65535 */
	KIND_CLIENT_PORT,	/* 0..65535 */
	KIND_BITS,		/* 0..65535 */
	KIND_ADDR,		/* IPv4 or IPv6 address */
	KIND_TLS_VERSION,
};

struct fact_spec {
	const char		*name;	/* record key */
	const char		*macro;	/* MTA macro name */
	enum fact_kind		 kind;
	enum facts_group	 group;
};

static const struct fact_spec fact_specs[FACT_COUNT] = {
	[FACT_DAEMON_NAME] = { "daemon_name", "{daemon_name}",
	    KIND_TEXT, FACTS_GROUP_CONNECT },
	[FACT_DAEMON_ADDR] = { "daemon_addr", "{daemon_addr}",
	    KIND_ADDR, FACTS_GROUP_CONNECT },
	[FACT_DAEMON_PORT] = { "daemon_port", "{daemon_port}",
	    KIND_PORT, FACTS_GROUP_CONNECT },
	[FACT_CLIENT_ADDR] = { "client_addr", "{client_addr}",
	    KIND_ADDR, FACTS_GROUP_CONNECT },
	[FACT_CLIENT_PORT] = { "client_port", "{client_port}",
	    KIND_CLIENT_PORT, FACTS_GROUP_CONNECT },
	[FACT_MTA_VERSION] = { "mta_version", "v",
	    KIND_TEXT, FACTS_GROUP_CONNECT },
	[FACT_TLS_VERSION] = { "tls_version", "{tls_version}",
	    KIND_TLS_VERSION, FACTS_GROUP_TLS },
	[FACT_CIPHER] = { "cipher", "{cipher}",
	    KIND_TEXT, FACTS_GROUP_TLS },
	[FACT_CIPHER_BITS] = { "cipher_bits", "{cipher_bits}",
	    KIND_BITS, FACTS_GROUP_TLS },
	[FACT_CERT_SUBJECT] = { "cert_subject", "{cert_subject}",
	    KIND_TEXT, FACTS_GROUP_TLS },
	[FACT_CERT_ISSUER] = { "cert_issuer", "{cert_issuer}",
	    KIND_TEXT, FACTS_GROUP_TLS },
	[FACT_VERIFY] = { "verify", "{verify}",
	    KIND_TEXT, FACTS_GROUP_TLS },
	[FACT_AUTH_TYPE] = { "auth_type", "{auth_type}",
	    KIND_TEXT, FACTS_GROUP_AUTH },
	[FACT_AUTH_AUTHEN] = { "auth_authen", "{auth_authen}",
	    KIND_TEXT, FACTS_GROUP_AUTH },
	[FACT_AUTH_SSF] = { "auth_ssf", "{auth_ssf}",
	    KIND_BITS, FACTS_GROUP_AUTH },
	[FACT_QUEUE_ID] = { "queue_id", "i",
	    KIND_TEXT, FACTS_GROUP_QUEUE },
};

_Static_assert(FACT_COUNT <= 16, "a bit per fact in is_packed");

static const struct fact_spec *spec_of(enum fact_id);
static void	text_drop(struct facts *, enum fact_id);
static void	fact_reset(struct facts *, enum fact_id);
static void	fact_parse(struct facts *, enum fact_id);
static void	fact_derive(struct facts *, enum fact_id);
static int	parse_number(const char *, unsigned min, unsigned max,
		    unsigned *);
static const char *lookup_fact(enum fact_id, facts_lookup_fn, void *ctx);
static void	group_reset(struct facts *, enum facts_group);
static const char *malformed_text(enum fact_kind);

void
facts_init(struct facts *f)
{
	size_t i;

	for (i = 0; i < FACT_COUNT; i++) {
		f->f[i].state = FACT_ABSENT;
		f->f[i].text = NULL;
		f->f[i].size = 0;
		f->f[i].num = 0;
	}
	f->pack = NULL;
	f->is_packed = 0;
	f->pack_texts = 0;
	memset(&f->client_addr, 0, sizeof(f->client_addr));
	f->tls_version = TLS_VERSION_NONE;
	f->saw_plain_helo = false;
	f->is_auth_before_tls = false;
}

void
facts_clear(struct facts *f)
{
	size_t i;

	for (i = 0; i < FACT_COUNT; i++)
		text_drop(f, (enum fact_id)i);
	free(f->pack);
	facts_init(f);
}

int
facts_set(struct facts *f, enum fact_id id, const char *value)
{
	struct fact *fact;
	size_t len;
	char *copy;

	(void) spec_of(id);
	fact = &f->f[id];
	if (value == NULL || *value == '\0') {
		fact_reset(f, id);
		return 0;
	}
	if ((len = strlen(value)) > FACTS_VALUE_MAX) {
		fact_reset(f, id);
		fact->state = FACT_OVERSIZE;
		fact->size = len;
		fact_derive(f, id);
		return 0;
	}
	if (fact->text == NULL || strcmp(fact->text, value) != 0) {
		if ((copy = strdup(value)) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		text_drop(f, id);
		fact->text = copy;
	}
	fact->size = len;
	fact_parse(f, id);
	return 0;
}

int
facts_compact(struct facts *f)
{
	uint16_t texts = 0;
	size_t i, size = 0, n;
	char *pack = NULL, *o;

	for (i = 0; i < FACT_COUNT; i++) {
		if (f->f[i].text == NULL)
			continue;
		texts |= (uint16_t)(1u << i);
		size += strlen(f->f[i].text) + 1;
	}
	if (texts == f->is_packed && texts == f->pack_texts)
		return 0;	/* packed, and nothing dropped since */
	if (size > 0 && (pack = malloc(size)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (i = 0, o = pack; i < FACT_COUNT; i++) {
		if (f->f[i].text == NULL)
			continue;
		n = strlen(f->f[i].text) + 1;
		(void) memcpy(o, f->f[i].text, n);
		text_drop(f, (enum fact_id)i);
		f->f[i].text = o;
		o += n;
	}
	free(f->pack);
	f->pack = pack;
	f->is_packed = f->pack_texts = texts;
	return 0;
}

int
facts_update(struct facts *f, enum facts_group group, facts_lookup_fn lookup,
    void *ctx)
{
	const char *value[FACT_COUNT];
	bool is_present = false;
	size_t i;

	assert((unsigned)group <= FACTS_GROUP_QUEUE);
	assert(lookup != NULL);
	for (i = 0; i < FACT_COUNT; i++) {	/* each macro looked up once */
		if (fact_specs[i].group != group)
			continue;
		value[i] = lookup_fact((enum fact_id)i, lookup, ctx);
		is_present |= value[i] != NULL && *value[i] != '\0';
	}
	if (group == FACTS_GROUP_TLS && !is_present)
		return 0;
	for (i = 0; i < FACT_COUNT; i++) {
		if (fact_specs[i].group != group)
			continue;
		if (facts_set(f, (enum fact_id)i, value[i]) == -1) {
			if (group == FACTS_GROUP_AUTH)
				group_reset(f, group);
			return -1;
		}
	}
	return 0;
}

void
facts_greeted(struct facts *f, bool was_tls)
{
	if (!facts_is_tls(f))
		f->saw_plain_helo = true;
	else if (!was_tls && f->saw_plain_helo && facts_has_auth(f))
		f->is_auth_before_tls = true;
}

bool
facts_is_tls(const struct facts *f)
{
	return f->f[FACT_TLS_VERSION].state != FACT_ABSENT ||
	    f->f[FACT_CIPHER].state != FACT_ABSENT;
}

bool
facts_has_auth(const struct facts *f)
{
	return f->f[FACT_AUTH_TYPE].state != FACT_ABSENT ||
	    f->f[FACT_AUTH_AUTHEN].state != FACT_ABSENT;
}

bool
facts_has_port(const struct facts *f)
{
	return f->f[FACT_DAEMON_PORT].state == FACT_OK;
}

const char *
facts_id_name(enum fact_id id)
{
	return spec_of(id)->name;
}

const char *
facts_id_macro(enum fact_id id)
{
	return spec_of(id)->macro;
}

enum facts_group
facts_id_group(enum fact_id id)
{
	return spec_of(id)->group;
}

char *
facts_describe(const struct facts *f, enum fact_id id, char *buf,
    size_t size)
{
	const struct fact_spec *spec = spec_of(id);
	const struct fact *fact = &f->f[id];
	int n;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	switch (fact->state) {
	case FACT_OVERSIZE:
		n = snprintf(buf, size, "value of %zu bytes exceeds %d",
		    fact->size, FACTS_VALUE_MAX);
		break;
	case FACT_MALFORMED:
		n = snprintf(buf, size, "%s", malformed_text(spec->kind));
		break;
	case FACT_ABSENT:
	case FACT_OK:
	default:
		n = 0;
		break;
	}
	if (n < 0)
		buf[0] = '\0';
	return buf;
}

/* spec_of - the table entry of id; asserts that id is valid. */
static const struct fact_spec *
spec_of(enum fact_id id)
{
	assert((unsigned)id < FACT_COUNT);
	return &fact_specs[id];
}

/*
 * text_drop - let go of a fact's text: free a copy of its own, forget one
 * in the pack.  The text is NULL afterwards.
 */
static void
text_drop(struct facts *f, enum fact_id id)
{
	uint16_t bit = (uint16_t)(1u << id);

	if ((f->is_packed & bit) != 0)
		f->is_packed &= (uint16_t)~bit;
	else
		free(f->f[id].text);
	f->f[id].text = NULL;
}

/* fact_reset - free the text and make the fact absent. */
static void
fact_reset(struct facts *f, enum fact_id id)
{
	struct fact *fact = &f->f[id];

	text_drop(f, id);
	fact->state = FACT_ABSENT;
	fact->size = 0;
	fact->num = 0;
	fact_derive(f, id);
}

/* fact_parse - set state and num of a fact whose text is present. */
static void
fact_parse(struct facts *f, enum fact_id id)
{
	struct fact *fact = &f->f[id];
	struct netaddr addr;
	int rc = 0;

	fact->num = 0;
	switch (spec_of(id)->kind) {
	case KIND_TEXT:
		break;
	case KIND_PORT:
		rc = parse_number(fact->text, 1, 65535, &fact->num);
		break;
	case KIND_CLIENT_PORT:
	case KIND_BITS:
		rc = parse_number(fact->text, 0, 65535, &fact->num);
		break;
	case KIND_ADDR:
		rc = netaddr_parse(fact->text, &addr);
		break;
	case KIND_TLS_VERSION:
		rc = tlsinfo_version_is_known(
		    tlsinfo_parse_version(fact->text)) ? 0 : -1;
		break;
	}
	fact->state = rc == 0 ? FACT_OK : FACT_MALFORMED;
	fact_derive(f, id);
}

/* fact_derive - update the parsed copies in struct facts after a change. */
static void
fact_derive(struct facts *f, enum fact_id id)
{
	const struct fact *fact = &f->f[id];

	if (id == FACT_TLS_VERSION) {
		if (fact->state == FACT_ABSENT)
			f->tls_version = TLS_VERSION_NONE;
		else if (fact->state == FACT_OK)
			f->tls_version = tlsinfo_parse_version(fact->text);
		else
			f->tls_version = TLS_VERSION_UNKNOWN;
	} else if (id == FACT_CLIENT_ADDR) {
		if (fact->state != FACT_OK ||
		    netaddr_parse(fact->text, &f->client_addr) == -1)
			memset(&f->client_addr, 0, sizeof(f->client_addr));
	}
}

/* parse_number - plain decimal digits within min..max; 0 or -1. */
static int
parse_number(const char *s, unsigned min, unsigned max, unsigned *num)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*num = (unsigned)v;
	return 0;
}

/* lookup_fact - the macro value of id, with {daemon_addr}'s fallback. */
static const char *
lookup_fact(enum fact_id id, facts_lookup_fn lookup, void *ctx)
{
	const char *v;

	v = lookup(ctx, spec_of(id)->macro);
	if (id == FACT_DAEMON_ADDR && (v == NULL || *v == '\0'))
		v = lookup(ctx, FACTS_IF_ADDR_MACRO);
	return v;
}

/* group_reset - make every fact of group absent. */
static void
group_reset(struct facts *f, enum facts_group group)
{
	size_t i;

	for (i = 0; i < FACT_COUNT; i++)
		if (fact_specs[i].group == group)
			fact_reset(f, (enum fact_id)i);
}

/* malformed_text - what a malformed value of kind is not. */
static const char *
malformed_text(enum fact_kind kind)
{
	switch (kind) {
	case KIND_PORT:
		return "not a port number (1..65535)";
	case KIND_CLIENT_PORT:
		return "not a port number (0..65535)";
	case KIND_BITS:
		return "not a number (0..65535)";
	case KIND_ADDR:
		return "not an IP address";
	case KIND_TLS_VERSION:
		return "unknown TLS version";
	case KIND_TEXT:
	default:
		return "malformed value";
	}
}
