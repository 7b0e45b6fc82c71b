/*
 * conf_int.h - private to the conf*.c modules: the key table's types
 * and the loader state
 *
 * Not a contract: nothing but milter/conf*.c includes this file.  conf.c
 * owns the key table and the parser; conf_value.c holds one setter per
 * value type, which validates a value and stores it in the field the
 * table names; conf_print.c and conf_reload.c walk the table.  Setters
 * report errors with conf_fail()/conf_bad_value() and return -1.  No
 * libmilter, no I/O.
 */
#ifndef TLSPOLICY_CONF_INT_H
#define TLSPOLICY_CONF_INT_H

#include <stddef.h>

#include "conf.h"
#include "policy.h"

#define CONF_SHOWN_MAX	256	/* a value echoed in a message */

/* What a value must look like; each type has one setter. */
enum conf_key_type {
	CONF_KEY_BOOL = 0,	/* yes/no, true/false, on/off, 1/0 */
	CONF_KEY_SOCKET,	/* libmilter socket spec */
	CONF_KEY_PATH,		/* absolute path */
	CONF_KEY_FACILITY,	/* syslog facility name */
	CONF_KEY_FAILURE,	/* tempfail | reject */
	CONF_KEY_ACTION,	/* reject | tempfail | report */
	CONF_KEY_NETWORKS,	/* CIDR list or none */
	CONF_KEY_REPLY,		/* "5xx 5.x.y text" */
	CONF_KEY_PORTS,		/* list of 1..65535 */
	CONF_KEY_NAMES,		/* list of {daemon_name} values */
	CONF_KEY_MATCH,		/* any | all */
	CONF_KEY_VERSION,	/* TLS version or none */
	CONF_KEY_USER,		/* user[:group] */
	CONF_KEY_MODE,		/* octal file mode 0..0777 */
	CONF_KEY_GROUP,		/* a group name */
	CONF_KEY_BITS,		/* cipher bits 0..16384 */
	CONF_KEY_CIPHERS,	/* cipher classes and name patterns */
	CONF_KEY_PATTERN,	/* one fnmatch pattern */
	CONF_KEY_USERS,		/* user@domain and @domain list */
	CONF_KEY_FSYNC,		/* every | interval | none */
	CONF_KEY_SENDER,	/* none | domain | address */
	CONF_KEY_TYPE_COUNT
};

/* Where a key may appear (bits). */
enum conf_scope {
	CONF_SCOPE_GLOBAL = 1 << 0,	/* before the first section */
	CONF_SCOPE_DEFAULT = 1 << 1,	/* in [default] */
	CONF_SCOPE_LISTENER = 1 << 2,	/* in [listener LABEL] */
	CONF_SCOPE_SECTION = CONF_SCOPE_DEFAULT | CONF_SCOPE_LISTENER,
	CONF_SCOPE_BOTH = CONF_SCOPE_GLOBAL | CONF_SCOPE_SECTION,
};

/* Which struct a key's offset is in. */
enum conf_target {
	CONF_TARGET_CONF = 0,	/* struct conf */
	CONF_TARGET_RULES,	/* the current part's policy_rules */
	CONF_TARGET_LISTENER,	/* the current section */
};

/* One entry of the key table. */
struct conf_key {
	const char		*name;
	enum conf_key_type	 type;
	unsigned		 scope;	/* enum conf_scope bits */
	enum conf_target	 target;
	size_t			 offset; /* of the field in the target */
	int			 rule;	/* RULE-reply: which; or -1 */
	const char		*help;
};

/* The state of one load. */
struct conf_loader {
	const char		*name;	/* file name for messages */
	unsigned		 line;
	struct conf		*conf;
	struct conf_listener	*section; /* NULL: the global part */
	struct policy_rules	 global; /* defaults of the sections */
	unsigned		*seen;	/* line of each key in the part */
	struct conf_error	*err;
};

/*
 * conf_setter_fn - validate value v of key k and store it in field (the
 * table's field in the current part).  0, or -1 with the error set.
 */
typedef int (*conf_setter_fn)(struct conf_loader *, const struct conf_key *,
    const char *v, void *field);

/* Per value type: the setter and what a value must look like. */
struct conf_type {
	conf_setter_fn	 set;
	const char	*expected;	/* "yes or no" */
};

extern const struct conf_type conf_types[CONF_KEY_TYPE_COUNT];

/* conf_fail - "file:line: " and the message into the error; returns -1. */
int	conf_fail(struct conf_loader *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* conf_bad_value - "key: found 'v', expected <type's expected>"; -1. */
int	conf_bad_value(struct conf_loader *, const struct conf_key *,
	    const char *v);

/* conf_shown - v fit to quote (cut, control bytes as \xNN) in buf. */
const char *conf_shown(const char *v, char *buf, size_t size);

/* conf_keys - the key table (every key, in file-documentation order). */
const struct conf_key *conf_keys(size_t *n);

#endif /* TLSPOLICY_CONF_INT_H */
