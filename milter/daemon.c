/*
 * NAME
 *	daemon - what root does before the privilege drop, done so that no
 *	link or swap can redirect it
 *
 * SYNOPSIS
 *	#include "daemon.h"
 *
 * DESCRIPTION
 *	The threat model (tlspolicy-milter(8), SECURITY): root and the MTA
 *	are trusted; every other local user, the service user (after a
 *	compromise) and the network are not.  So root never acts on a path
 *	an untrusted user can influence:
 *
 *	  config and key files   trusted only when they and every directory
 *	                         above them can be changed by root alone
 *	                         (daemon_check_trusted), at start and reload
 *	  the unix socket        bound in a directory only root can write
 *	                         (created root:GROUP 0750 when missing), its
 *	                         owner set relative to that directory without
 *	                         following a link; its mode comes from the
 *	                         caller's umask at bind, never a chmod
 *	  the pid file           O_NOFOLLOW, no truncation before fstat says
 *	                         it is a regular file with one link owned by
 *	                         us; removed at exit only if it is still ours
 *
 *	The audit log and its stage are not here: they live in a directory
 *	the service user writes, so the caller opens them after daemon_drop,
 *	as that user.  Nothing here includes libmilter or logs; the caller
 *	reports.  Start-up only, one thread (daemon_check_trusted also at
 *	reload, from the one signal thread).
 *
 * DIAGNOSTICS
 *	Every failure fills the caller's struct daemon_error with one line
 *	naming the path and why, and returns -1; nothing is changed then.
 *
 * SEE ALSO
 *	setup.c; sshd_config(5) StrictModes; open(2) O_NOFOLLOW; fchownat(2)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

static int	fail(struct daemon_error *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	fail_errno(struct daemon_error *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static int	check_one(const char *, const struct stat *, uid_t, bool,
		    const char *, struct daemon_error *);
static int	check_above(char *, uid_t, const char *, struct daemon_error *);
static int	check_links(const char *, uid_t, bool, const char *,
		    struct daemon_error *);
static int	make_dir(const char *, gid_t, struct daemon_error *);
static int	clear_stale(int, const char *, const char *,
		    struct daemon_error *);
static const char *base_name(const char *);
static char	*dir_name(const char *);

int
daemon_check_trusted(const char *path, const char *what, uid_t trusted_uid,
    struct daemon_error *err)
{
	struct stat st;
	char *rp;
	int rc;

	if (check_links(path, trusted_uid, false, "directory above it",
	    err) == -1)
		return -1;
	if ((rp = realpath(path, NULL)) == NULL)
		return fail_errno(err, "%s: %s", path, what);
	if (stat(rp, &st) == -1) {
		rc = fail_errno(err, "%s: %s", path, what);
		free(rp);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		free(rp);
		return fail(err, "%s: %s is not a regular file", path, what);
	}
	rc = check_one(rp, &st, trusted_uid, false, what, err);
	if (rc == 0)
		rc = check_above(rp, trusted_uid, "directory above it", err);
	free(rp);
	return rc;
}

int
daemon_resolve_user(const char *spec, struct daemon_user *out,
    struct daemon_error *err)
{
	char name[sizeof(out->name)], *colon;
	struct passwd *pw;

	if (strlen(spec) >= sizeof(name))
		return fail(err, "userid %s: name too long", spec);
	(void) strcpy(name, spec);
	(void) strcpy(out->name, spec);
	if ((colon = strchr(name, ':')) != NULL)
		*colon++ = '\0';
	errno = 0;
	if ((pw = getpwnam(name)) == NULL)
		return fail(err, "userid %s: no such user", spec);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	if (colon != NULL && daemon_resolve_group(colon, &out->gid, err) == -1)
		return -1;
	return 0;
}

int
daemon_resolve_group(const char *name, gid_t *gid, struct daemon_error *err)
{
	struct group *gr;

	if ((gr = getgrnam(name)) == NULL)
		return fail(err, "group %s: no such group", name);
	*gid = gr->gr_gid;
	return 0;
}

const char *
daemon_unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

int
daemon_socket_dir(const char *path, gid_t gid, struct daemon_error *err)
{
	struct stat st;
	char *dir, *rp = NULL;
	int fd = -1;

	if (path[0] != '/')
		return fail(err, "%s: the socket path must be absolute", path);
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return fail(err, "%s: socket path too long", path);
	if (geteuid() != 0)
		return clear_stale(AT_FDCWD, path, path, err) == -1 ? -1 : -2;
	if ((dir = dir_name(path)) == NULL)
		return fail(err, "%s: out of memory", path);
	/* before anything is made: no link on the way another user could swap */
	if (check_links(dir, 0, true, "directory above the socket",
	    err) == -1)
		goto out;
	if (stat(dir, &st) == -1 && errno == ENOENT &&
	    make_dir(dir, gid, err) == -1)
		goto out;
	if ((rp = realpath(dir, NULL)) == NULL || stat(rp, &st) == -1) {
		(void) fail_errno(err, "%s: socket directory", dir);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		(void) fail(err, "%s: socket directory is not a directory", dir);
		goto out;
	}
	if (check_one(rp, &st, 0, true, "socket directory", err) == -1 ||
	    check_above(rp, 0, "directory above the socket", err) == -1)
		goto out;
	if ((fd = open(rp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		(void) fail_errno(err, "%s: socket directory", dir);
		goto out;
	}
	if (clear_stale(fd, base_name(path), path, err) == -1) {
		(void) close(fd);
		fd = -1;
	}
out:
	free(rp);
	free(dir);
	return fd;
}

int
daemon_socket_own(int dirfd, const char *path, uid_t uid, gid_t gid,
    struct daemon_error *err)
{
	const char *base = base_name(path);
	struct stat st;
	int rc = 0;

	if (dirfd == -2)
		return 0;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == -1)
		rc = fail_errno(err, "%s: socket", path);
	else if (!S_ISSOCK(st.st_mode))
		rc = fail(err, "%s: is no longer a socket", path);
	else if (fchownat(dirfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) == -1)
		rc = fail_errno(err, "%s: cannot set owner %ld:%ld", path,
		    (long)uid, (long)gid);
	(void) close(dirfd);
	return rc;
}

int
daemon_pid_open(const char *path, struct daemon_error *err)
{
	struct stat st;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0644);
	if (fd == -1)
		return fail_errno(err, "%s: pid file", path);
	if (fstat(fd, &st) == -1) {
		(void) fail_errno(err, "%s: pid file", path);
	} else if (!S_ISREG(st.st_mode)) {
		(void) fail(err, "%s: pid file is not a regular file", path);
	} else if (st.st_nlink != 1) {
		(void) fail(err, "%s: pid file has %lu links; remove it",
		    path, (unsigned long)st.st_nlink);
	} else if (st.st_uid != geteuid()) {
		(void) fail(err, "%s: pid file is owned by uid %ld, not by"
		    " uid %ld; remove it", path, (long)st.st_uid,
		    (long)geteuid());
	} else {
		return fd;
	}
	(void) close(fd);
	return -1;
}

int
daemon_pid_write(int fd, const char *path, struct daemon_error *err)
{
	char line[32];
	int n;

	n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, line, (size_t)n, 0) != n)
		return fail_errno(err, "%s: cannot write the pid file", path);
	return 0;
}

void
daemon_pid_remove(int fd, const char *path)
{
	struct stat mine, now;

	if (fd < 0)
		return;
	if (fstat(fd, &mine) == 0 && lstat(path, &now) == 0 &&
	    mine.st_dev == now.st_dev && mine.st_ino == now.st_ino)
		(void) unlink(path);
	(void) close(fd);
}

int
daemon_drop(const struct daemon_user *user, struct daemon_error *err)
{
	if (setgroups(1, &user->gid) == -1 || setgid(user->gid) == -1 ||
	    setuid(user->uid) == -1)
		return fail_errno(err, "cannot become %s", user->name);
	if (getuid() != user->uid || geteuid() != user->uid ||
	    getgid() != user->gid || getegid() != user->gid ||
	    (user->uid != 0 && setuid(0) != -1))
		return fail(err, "privileges not dropped to %s", user->name);
	return 0;
}

int
daemon_detach(struct daemon_error *err)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) == -1)
		return fail_errno(err, "fork");
	if (pid != 0)
		_exit(0);
	if (setsid() == -1 || chdir("/") == -1)
		return fail_errno(err, "setsid or chdir /");
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1) {
		(void) dup2(fd, STDIN_FILENO);
		(void) dup2(fd, STDOUT_FILENO);
		(void) dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			(void) close(fd);
	}
	return 0;
}

/* fail - fill err; -1. */
static int
fail(struct daemon_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return -1;
}

/* fail_errno - fill err with ": strerror(errno)" appended; -1. */
static int
fail_errno(struct daemon_error *err, const char *fmt, ...)
{
	int e = errno;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	n = strlen(err->text);
	(void) snprintf(err->text + n, sizeof(err->text) - n, ": %s",
	    strerror(e));
	return -1;
}

/*
 * check_one - st (of path) is owned by root or trusted and not writable by
 * group or others; a directory may be writable by others when root owns
 * it and it is sticky.
 */
static int
check_one(const char *path, const struct stat *st, uid_t trusted,
    bool is_dir, const char *what, struct daemon_error *err)
{
	bool owner_ok = st->st_uid == 0 || st->st_uid == trusted;
	bool sticky_root = is_dir && st->st_uid == 0 &&
	    (st->st_mode & S_ISVTX) != 0;

	if (owner_ok && ((st->st_mode & (S_IWGRP | S_IWOTH)) == 0 ||
	    sticky_root))
		return 0;
	return fail(err, "%s: %s is owned by uid %ld with mode %04o: a user"
	    " other than root could change it; it must be owned by root and"
	    " not writable by group or others", path, what,
	    (long)st->st_uid, (unsigned)(st->st_mode & 07777));
}

/* check_above - every directory above the resolved path rp passes check_one. */
static int
check_above(char *rp, uid_t trusted, const char *what,
    struct daemon_error *err)
{
	char *copy, *slash;
	struct stat st;
	int rc = 0;

	if ((copy = strdup(rp)) == NULL)
		return fail(err, "%s: out of memory", rp);
	while (rc == 0 && (slash = strrchr(copy, '/')) != NULL) {
		if (slash == copy)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(copy, &st) == -1)
			rc = fail_errno(err, "%s", copy);
		else
			rc = check_one(copy, &st, trusted, true, what, err);
		if (slash == copy)
			break;
	}
	free(copy);
	return rc;
}

/*
 * check_links - the path as given, before links are resolved: every
 * directory on it passes check_one and every link on it is owned by root
 * or trusted, so nobody else can point it elsewhere (realpath alone would
 * check only where a link points today).  With may_be_missing the last
 * component may not exist yet.  what names a directory in the message.
 */
static int
check_links(const char *path, uid_t trusted, bool may_be_missing,
    const char *what, struct daemon_error *err)
{
	char *copy, *slash;
	struct stat st;
	int rc = 0;

	if (path[0] != '/')
		return fail(err, "%s: must be an absolute path", path);
	if ((copy = strdup(path)) == NULL)
		return fail(err, "%s: out of memory", path);
	for (slash = copy; rc == 0 && slash != NULL; ) {
		slash = strchr(slash + 1, '/');
		if (slash != NULL)
			*slash = '\0';
		if (lstat(copy, &st) == -1) {
			if (!(errno == ENOENT && slash == NULL && may_be_missing))
				rc = fail_errno(err, "%s", copy);
		} else if (S_ISLNK(st.st_mode)) {
			if (st.st_uid != 0 && st.st_uid != trusted)
				rc = fail(err, "%s: a link owned by uid %ld: a"
				    " user other than root could point it"
				    " elsewhere", copy, (long)st.st_uid);
		} else if (S_ISDIR(st.st_mode)) {
			rc = check_one(copy, &st, trusted, true, what, err);
		}
		if (slash != NULL)
			*slash = '/';
	}
	free(copy);
	return rc;
}

/* make_dir - create dir as root:gid 0750 (its parent must exist). */
static int
make_dir(const char *dir, gid_t gid, struct daemon_error *err)
{
	int fd;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return fail_errno(err, "%s: cannot create the socket directory",
		    dir);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return fail_errno(err, "%s: socket directory", dir);
	if (fchown(fd, 0, gid) == -1 || fchmod(fd, 0750) == -1) {
		(void) fail_errno(err, "%s: socket directory", dir);
		(void) close(fd);
		return -1;
	}
	(void) close(fd);
	return 0;
}

/*
 * clear_stale - name (relative to dirfd) may hold a socket left by a dead
 * milter: remove it; refuse a file that is not a socket, or a socket some
 * process listens on.
 */
static int
clear_stale(int dirfd, const char *name, const char *path,
    struct daemon_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT ? 0 : fail_errno(err, "%s", path);
	if (!S_ISSOCK(st.st_mode))
		return fail(err, "%s exists and is not a socket; not removing"
		    " it", path);
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return fail_errno(err, "%s: socket", path);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	(void) close(fd);
	if (rc == 0)
		return fail(err, "another process listens on %s", path);
	if (unlinkat(dirfd, name, 0) == -1)
		return fail_errno(err, "cannot remove stale socket %s", path);
	return 0;
}

/* base_name - the last component of path (borrowed). */
static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* dir_name - a new string: path without its last component ("/" for "/x"). */
static char *
dir_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 0 : slash == path ? 1 : (size_t)(slash - path);
	char *d;

	if (slash == NULL)
		return strdup(".");
	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, path, n);
	d[n] = '\0';
	return d;
}
