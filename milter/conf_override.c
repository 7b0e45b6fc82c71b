/*
 * NAME
 *	conf_override - the command line's values in place of the config's
 *
 * SYNOPSIS
 *	#include "conf.h"
 *
 * DESCRIPTION
 *	The command line may name the socket (-p) and the user (-u).  They
 *	live in the daemon's options, never in a loaded config, which stays
 *	as the file says; the value in force is computed where it is used:
 *	conf_socket() and conf_userid() for the daemon, conf_override() for
 *	the generic walks over the key table (conf_print_with, conf_diff).
 *	Everything returned is borrowed from the overrides or the config.
 *
 *	Reads its arguments only: safe from any thread.
 *
 * DIAGNOSTICS
 *	None.
 *
 * SEE ALSO
 *	conf.c, conf_print.c, conf_reload.c, main.c, setup.c; tlspolicy-milter(8)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <stddef.h>
#include <string.h>

#include "conf.h"

const char *
conf_socket(const struct conf *conf, const struct conf_overrides *ov)
{
	const char *v = conf_override(ov, "socket");

	return v != NULL ? v : conf->socket;
}

const char *
conf_userid(const struct conf *conf, const struct conf_overrides *ov)
{
	const char *v = conf_override(ov, "userid");

	return v != NULL ? v : conf->userid;
}

const char *
conf_override(const struct conf_overrides *ov, const char *name)
{
	if (ov == NULL)
		return NULL;
	if (strcmp(name, "socket") == 0)
		return ov->socket;
	if (strcmp(name, "userid") == 0)
		return ov->userid;
	return NULL;
}
