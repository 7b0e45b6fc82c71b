/*
 * daemon.h - process set-up that root does before the privilege drop:
 * trusted files, the unix socket's directory and owner, the pid file, the
 * service user, detaching
 *
 * Root acts on nothing by a path an untrusted user can influence.  A
 * config or key file is trusted only when it and every directory above it
 * can be changed by root alone (sshd's StrictModes); the unix socket lives
 * in a directory only root can write, so the socket file is chowned there
 * without a race; the pid file is opened with O_NOFOLLOW and checked on
 * its descriptor.  Files in directories the service user writes (the
 * audit log) are opened after the drop, as that user.
 *
 * No libmilter here: the socket itself is bound by the caller.  Errors go
 * to the caller's struct daemon_error as one line naming the path and why.
 * Not thread-safe: start-up only (and daemon_check_trusted at reload, from
 * the signal-handling thread).
 */
#ifndef TLSPOLICY_DAEMON_H
#define TLSPOLICY_DAEMON_H

#include <sys/types.h>

#include <stdbool.h>

#define DAEMON_ERROR_MAX	512

struct daemon_error {
	char	text[DAEMON_ERROR_MAX];	/* "PATH: why" */
};

/* The user the daemon drops to, resolved while root. */
struct daemon_user {
	char	name[64];	/* as given: "user" or "user:group" */
	uid_t	uid;
	gid_t	gid;		/* the group given, else the user's */
};

/*
 * daemon_check_trusted - path names a regular file that it and every
 * directory above it (on the path as given, whose links must be owned by
 * root or trusted_uid, and after resolving them) can be changed only by root
 * or by trusted_uid: owned by one of them and not writable by group or
 * others; a directory writable by others passes only when root owns it
 * and it has the sticky bit (like /tmp: nobody else can rename what root
 * put there).  what names the file in the message ("config file").
 * 0, or -1 with err filled: "PATH: mode 0664, owner uid 1000: ...".
 */
int	daemon_check_trusted(const char *path, const char *what,
	    uid_t trusted_uid, struct daemon_error *err);

/*
 * daemon_resolve_user - "user[:group]" to ids.  0, or -1 with err.
 */
int	daemon_resolve_user(const char *spec, struct daemon_user *out,
	    struct daemon_error *err);

/* daemon_resolve_group - a group name to its id.  0, or -1 with err. */
int	daemon_resolve_group(const char *name, gid_t *gid,
	    struct daemon_error *err);

/*
 * daemon_unix_path - the file of a "unix:PATH" or "local:PATH" socket
 * spec, else NULL (inet:, inet6:).  Borrowed from spec.
 */
const char *daemon_unix_path(const char *spec);

/*
 * daemon_socket_dir - before binding the unix socket at path: as root,
 * create its directory when missing (owner root, group gid, mode 0750),
 * and require it to be writable only by root (or root-owned and sticky).
 * Then remove a stale socket left by a dead milter: refuse when the path
 * is not a socket or another process listens on it.  Returns an open
 * descriptor of the directory for daemon_socket_own(), or -1 with err.
 * Not running as root: no directory checks (there is nothing to gain),
 * only the stale-socket check; returns AT_FDCWD-like -2 then.
 */
int	daemon_socket_dir(const char *path, gid_t gid, struct daemon_error *err);

/*
 * daemon_socket_own - after the bind: give the socket file at path owner
 * uid and group gid, relative to dirfd and without following a link
 * (the directory is root's, so the name cannot be swapped), then close
 * dirfd.  dirfd -2: nothing to do.  0, or -1 with err.
 */
int	daemon_socket_own(int dirfd, const char *path, uid_t uid, gid_t gid,
	    struct daemon_error *err);

/*
 * daemon_pid_open - open (create) the pid file without following a link
 * and without truncating; refuse anything but a regular file with one
 * link owned by us.  Returns the descriptor (write with daemon_pid_write
 * once the final pid is known), or -1 with err.
 */
int	daemon_pid_open(const char *path, struct daemon_error *err);

/* daemon_pid_write - truncate fd and write our pid.  0, or -1 with err. */
int	daemon_pid_write(int fd, const char *path, struct daemon_error *err);

/*
 * daemon_pid_remove - at exit: unlink path if it still is the file fd has
 * open (same device and inode), then close fd.  Quietly does nothing when
 * it is not ours or the directory does not let us.
 */
void	daemon_pid_remove(int fd, const char *path);

/*
 * daemon_drop - become user: setgroups to the one group, setgid, setuid,
 * then check that every id is the user's and root cannot be regained.
 * 0, or -1 with err.
 */
int	daemon_drop(const struct daemon_user *user, struct daemon_error *err);

/*
 * daemon_detach - fork (the parent exits 0), new session, chdir /, stdio
 * to /dev/null.  0 in the child, or -1 with err in the parent.
 */
int	daemon_detach(struct daemon_error *err);

#endif /* TLSPOLICY_DAEMON_H */
