/*
 * options.h - the command line's settings and the config file they name
 *
 * The command line is kept apart from the loaded config: a config is
 * immutable once loaded, and the command line's socket and user (-p, -u)
 * are overrides that take its place where they are used (conf_socket,
 * conf_userid).  Start-up and the signal-handling thread only.
 */
#ifndef TLSPOLICY_OPTIONS_H
#define TLSPOLICY_OPTIONS_H

#include <sys/types.h>

#include <stdbool.h>

#include "conf.h"
#include "daemon.h"

struct options {
	char			*config_path;	/* owned, absolute; NULL:
						 * the built-in policy */
	struct conf_overrides	 ov;		/* -p, -u */
	uid_t			 trusted_uid;	/* may own the config (and
						 * root) */
	bool			 is_root_allowed; /* -R */
	bool			 is_foreground;	/* -f */
	bool			 is_check_only;	/* -n */
	bool			 is_verbose;	/* -v */
};

/*
 * options_absolute_config - make -c absolute, so a reload after chdir("/")
 * reads the same file.  0, or -1 after a message on stderr.
 */
int	options_absolute_config(struct options *);

/*
 * options_check_config - the config file (if any) and every directory
 * above it can be changed only by root (or by trusted_uid): at start and
 * before every reload.  0, or -1 with err filled.
 */
int	options_check_config(const struct options *, struct daemon_error *err);

/*
 * options_load - the config file, or the built-in policy without -c.  A
 * new config owned by the caller (conf_free), or NULL with err filled.
 */
struct conf *options_load(const struct options *, struct conf_error *err);

#endif /* TLSPOLICY_OPTIONS_H */
