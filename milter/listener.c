/*
 * NAME
 *	listener - which [listener] section a session belongs to
 *
 * SYNOPSIS
 *	#include "listener.h"
 *
 * DESCRIPTION
 *	listener_match() compares the session's {daemon_port} and
 *	{daemon_name} facts with the port and name lists of the config's
 *	listeners: first by port in file order, then by name, else the
 *	[default] section.  Postfix sends {daemon_name} as the host name
 *	unless the admin sets milter_macro_daemon_name per service, which
 *	is why the port decides first.  The returned section is borrowed
 *	from the config, which the caller holds.
 *
 *	Pure: no I/O, no allocation, no libmilter; safe from any thread.
 *
 * DIAGNOSTICS
 *	None: every session has a section.  A missing {daemon_port} where
 *	a listener needs one is reported to the caller, which warns.
 *
 * SEE ALSO
 *	conf.c (the sections), facts.c, policy.c, callbacks.c, simulate.c
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <strings.h>

#include "conf.h"
#include "facts.h"
#include "listener.h"

static bool	port_is(const struct conf_listener *, const struct facts *);
static bool	name_is(const struct conf_listener *, const struct facts *);

const struct conf_listener *
listener_match(const struct conf *conf, const struct facts *f,
    bool *port_missing)
{
	const struct conf_listener *l;
	size_t i;

	*port_missing = listener_uses_ports(conf) && !facts_has_port(f);
	for (i = 0; i < conf->n_listeners; i++) {
		l = &conf->listeners[i];
		if (port_is(l, f) && (l->match == CONF_MATCH_ANY ||
		    l->n_names == 0 || name_is(l, f)))
			return l;
	}
	for (i = 0; i < conf->n_listeners; i++) {
		l = &conf->listeners[i];
		if (name_is(l, f) && (l->match == CONF_MATCH_ANY ||
		    l->n_ports == 0 || port_is(l, f)))
			return l;
	}
	return &conf->fallback;
}

bool
listener_uses_ports(const struct conf *conf)
{
	for (size_t i = 0; i < conf->n_listeners; i++)
		if (conf->listeners[i].n_ports > 0)
			return true;
	return false;
}

/* port_is - the listener lists the session's {daemon_port}. */
static bool
port_is(const struct conf_listener *l, const struct facts *f)
{
	if (!facts_has_port(f))
		return false;
	for (size_t i = 0; i < l->n_ports; i++)
		if (l->ports[i] == f->f[FACT_DAEMON_PORT].num)
			return true;
	return false;
}

/* name_is - the listener lists the session's {daemon_name}. */
static bool
name_is(const struct conf_listener *l, const struct facts *f)
{
	const struct fact *name = &f->f[FACT_DAEMON_NAME];

	if (name->state != FACT_OK || name->text == NULL)
		return false;
	for (size_t i = 0; i < l->n_names; i++)
		if (strcasecmp(l->names[i], name->text) == 0)
			return true;
	return false;
}
