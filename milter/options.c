/*
 * NAME
 *	options - the command line's settings and the config file they name
 *
 * SYNOPSIS
 *	#include "options.h"
 *
 * DESCRIPTION
 *	What the command line says lives in struct options (main.c fills
 *	it), apart from any loaded config: the config file's path, the
 *	overrides of the socket and the user (-p, -u), the uid trusted
 *	besides root, the switches.  This module makes the path absolute
 *	(a reload runs after chdir("/")), checks that only root (or the
 *	trusted uid) can change the file, and loads it, or the built-in
 *	policy without -c: the same steps at start and at every reload.
 *
 *	Start-up and the signal-handling thread only.
 *
 * DIAGNOSTICS
 *	options_absolute_config() prints its failure on stderr; the others
 *	fill the caller's error struct.
 *
 * SEE ALSO
 *	main.c, reload.c, conf.c, daemon.c (daemon_check_trusted)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "options.h"

int
options_absolute_config(struct options *opt)
{
	char cwd[PATH_MAX], *abs;

	if (opt->config_path == NULL || opt->config_path[0] == '/')
		return 0;
	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: getcwd: %s\n", strerror(errno));
		return -1;
	}
	if (asprintf(&abs, "%s/%s", cwd, opt->config_path) == -1)
		return -1;
	free(opt->config_path);
	opt->config_path = abs;
	return 0;
}

int
options_check_config(const struct options *opt, struct daemon_error *err)
{
	if (opt->config_path == NULL)
		return 0;
	return daemon_check_trusted(opt->config_path, "config file",
	    opt->trusted_uid, err);
}

struct conf *
options_load(const struct options *opt, struct conf_error *err)
{
	if (opt->config_path == NULL)
		return conf_builtin();
	return conf_load(opt->config_path, err);
}
