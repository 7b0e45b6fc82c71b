/*
 * listener.h - which [listener] section a session belongs to
 *
 * A session reached the MTA on one of its listeners; the MTA names it
 * with {daemon_port} and {daemon_name}.  This module picks the config's
 * section whose port or name lists match those facts, so the glue and
 * the simulator match alike.  Pure: no I/O, no allocation, no libmilter;
 * reads its arguments only and is safe from any number of threads.
 */
#ifndef TLSPOLICY_LISTENER_H
#define TLSPOLICY_LISTENER_H

#include <stdbool.h>

#include "conf.h"
#include "facts.h"

/*
 * listener_match - the listener whose rules apply to a session with
 * these facts; never NULL (falls back to the default section), borrowed
 * from conf.  Pass one, in file order: listeners with a port equal to
 * {daemon_port} (with match all, the name must match too).  Pass two:
 * listeners with a name equal to {daemon_name}, case-insensitively (with
 * match all, the port must match too, so a missing port never matches).
 * Nothing matched: the default section.  *port_missing is set when some
 * listener matches by port and the MTA sent no valid {daemon_port} (the
 * caller warns once).
 */
const struct conf_listener *listener_match(const struct conf *,
	    const struct facts *, bool *port_missing);

/* listener_uses_ports - some listener of conf matches by port. */
bool	listener_uses_ports(const struct conf *);

#endif /* TLSPOLICY_LISTENER_H */
