/*
 * reload.h - SIGHUP: a new config beside the running one
 *
 * The daemon's reload: load and check the config file again, keep the
 * running one on any error, apply what a reload can apply, and install
 * the new config for the sessions that start from now on.  Main thread
 * (the signal loop) only.
 */
#ifndef TLSPOLICY_RELOAD_H
#define TLSPOLICY_RELOAD_H

#include "auditsink.h"
#include "options.h"
#include "setup.h"

/*
 * reload_config - reload the config named by opt.  *sinkp is the audit
 * sink (NULL: none); a reload that turns the audit log on sets it (the
 * caller keeps using *sinkp).  Outcomes are logged; nothing returned.
 */
void	reload_config(const struct options *opt, struct audit_sink **sinkp,
	    const struct setup *su);

#endif /* TLSPOLICY_RELOAD_H */
