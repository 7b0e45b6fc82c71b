/*
 * NAME
 *	conf_reload - what a reload (SIGHUP) applies of a new config
 *
 * SYNOPSIS
 *	#include "conf.h"
 *
 * DESCRIPTION
 *	A reload loads a whole new config beside the running one.  Some
 *	global keys take effect at once (the list reloadable[]); the others
 *	(socket, files opened as root, the user) keep their running value
 *	until a restart.  conf_diff() names the global keys whose values
 *	differ, split into those two kinds, so the daemon can say what it
 *	applied and what needs a restart; conf_keep_running() copies the
 *	running values of the keys a reload does not apply into the new
 *	config before it is installed, so the installed config says what
 *	is in force.  Both are generic over the key table (conf_keys()):
 *	one comparison and one copy per value type of a global key.
 *
 *	The running config is only read; the new one is written while no
 *	other thread holds it.  No libmilter, no I/O, no logging.
 *
 * DIAGNOSTICS
 *	conf_keep_running() returns -1 when out of memory.  A global key of
 *	a type neither compared nor copied here is our bug: abort().
 *
 * SEE ALSO
 *	conf.c (the key table), reload.c (SIGHUP), tlspolicy-milter(8) RELOAD
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditfsync.h"
#include "conf.h"
#include "conf_int.h"
#include "policy.h"

static bool	is_global(const struct conf_key *);
static bool	same_value(const struct conf *, const struct conf *,
		    const struct conf_key *);
static int	copy_value(struct conf *, const struct conf *,
		    const struct conf_key *);

/*
 * The global keys a reload applies; every other global key keeps its
 * running value until a restart (and a reload that changes it says so).
 */
static const char *const reloadable[] = {
	"syslog", "syslog-facility", "log-debug", "failure-action",
	"audit-failure-action", "request-macros", "audit-fsync", "audit-log",
	"record-sender",
};

bool
conf_key_is_reloadable(const char *name)
{
	for (size_t i = 0; i < sizeof(reloadable) / sizeof(reloadable[0]); i++)
		if (strcmp(reloadable[i], name) == 0)
			return true;
	return false;
}

void
conf_diff(const struct conf *a, const struct conf *b,
    const struct conf_overrides *ov, char *applied, size_t applied_size,
    char *restart, size_t restart_size)
{
	const struct conf_key *keys;
	char *out;
	size_t size, len, n_keys;

	applied[0] = restart[0] = '\0';
	keys = conf_keys(&n_keys);
	for (size_t i = 0; i < n_keys; i++) {
		if (!is_global(&keys[i]) || same_value(a, b, &keys[i]) ||
		    conf_override(ov, keys[i].name) != NULL)
			continue;
		out = conf_key_is_reloadable(keys[i].name) ? applied : restart;
		size = out == applied ? applied_size : restart_size;
		len = strlen(out);
		(void) snprintf(out + len, size - len, "%s%s", len > 0 ? ", " :
		    "", keys[i].name);
	}
}

int
conf_keep_running(struct conf *b, const struct conf *a, const char *name)
{
	const struct conf_key *keys;
	size_t n_keys;

	keys = conf_keys(&n_keys);
	for (size_t i = 0; i < n_keys; i++) {
		if (!is_global(&keys[i]) || (name != NULL ?
		    strcmp(keys[i].name, name) != 0 :
		    conf_key_is_reloadable(keys[i].name)))
			continue;
		if (copy_value(b, a, &keys[i]) == -1)
			return -1;
	}
	return 0;
}

/* is_global - k is a global key, a field of struct conf. */
static bool
is_global(const struct conf_key *k)
{
	return k->scope == CONF_SCOPE_GLOBAL && k->target == CONF_TARGET_CONF;
}

/* copy_value - key k of b takes a's value (strings duplicated). */
static int
copy_value(struct conf *b, const struct conf *a, const struct conf_key *k)
{
	char **to = (char **)(void *)((char *)b + k->offset);
	char *const *from = (char *const *)(const void *)((const char *)a +
	    k->offset);
	char *dup = NULL;

	switch (k->type) {
	case CONF_KEY_BOOL:
		*(bool *)(void *)to = *(const bool *)(const void *)from;
		return 0;
	case CONF_KEY_FACILITY:
		*(int *)(void *)to = *(const int *)(const void *)from;
		return 0;
	case CONF_KEY_FAILURE:
		*(enum policy_action *)(void *)to =
		    *(const enum policy_action *)(const void *)from;
		return 0;
	case CONF_KEY_FSYNC:
		*(enum audit_fsync *)(void *)to =
		    *(const enum audit_fsync *)(const void *)from;
		return 0;
	case CONF_KEY_MODE:
	case CONF_KEY_SENDER:
		*(unsigned *)(void *)to = *(const unsigned *)(const void *)from;
		return 0;
	case CONF_KEY_SOCKET:
	case CONF_KEY_PATH:
	case CONF_KEY_USER:
	case CONF_KEY_GROUP:
		if (*from != NULL && (dup = strdup(*from)) == NULL)
			return -1;
		free(*to);
		*to = dup;
		return 0;
	default:
		abort();	/* a global key of a type not copied here */
	}
}

/* same_value - key k has the same value in a and b. */
static bool
same_value(const struct conf *a, const struct conf *b, const struct conf_key *k)
{
	const void *x = (const char *)a + k->offset;
	const void *y = (const char *)b + k->offset;
	const char *s, *t;

	switch (k->type) {
	case CONF_KEY_BOOL:
		return *(const bool *)x == *(const bool *)y;
	case CONF_KEY_FACILITY:
		return *(const int *)x == *(const int *)y;
	case CONF_KEY_FAILURE:
		return *(const enum policy_action *)x ==
		    *(const enum policy_action *)y;
	case CONF_KEY_FSYNC:
		return *(const enum audit_fsync *)x ==
		    *(const enum audit_fsync *)y;
	case CONF_KEY_MODE:
	case CONF_KEY_SENDER:
		return *(const unsigned *)x == *(const unsigned *)y;
	case CONF_KEY_SOCKET:
	case CONF_KEY_PATH:
	case CONF_KEY_USER:
	case CONF_KEY_GROUP:
		s = *(char *const *)x;
		t = *(char *const *)y;
		return s == t || (s != NULL && t != NULL && strcmp(s, t) == 0);
	default:
		abort();	/* a global key of a type not compared here */
	}
}
