/*
 * NAME
 *	sealkeeper - the sealing state of the daemon: start, epochs, seals
 *
 * SYNOPSIS
 *	#include "sealkeeper.h"
 *
 *	tlspolicy-milter --setup-keys [--epoch SECONDS] --state PATH
 *
 * DESCRIPTION
 *	Reads the sealing state (auditseal.h) as root at start, checked like
 *	a key file (root's, in directories only root can change, and not
 *	readable by group or others).  The service user cannot replace a
 *	file there, so when the daemon drops privileges a keeper process forked
 *	before the drop stays root: it holds the directory open and its own
 *	copy of the state, and answers one request, "epoch N", by evolving
 *	its copy to N and replacing the file (auditseal_write_state).  It
 *	refuses an epoch below its own or beyond the clock's epoch plus
 *	one, so a compromised service user can neither roll the state back
 *	nor make it loop; it reads nothing else, ignores the stop signals
 *	and exits when the daemon's end of the socket pair closes.  Without
 *	a privilege drop the daemon replaces the file itself.
 *
 *	The daemon's copy of the key is K(current epoch); at an epoch
 *	boundary (sealkeeper_tick, the main loop's one-second tick) the
 *	sink writes a seal record with the old key, writes and syncs it,
 *	then this module evolves the copy (the old key wiped), has the
 *	state replaced, and hands the new key to the sink.  Decisions wait
 *	for that step only (audit_sink_seal), never for the key work of
 *	another step.  Each seal's hash goes to syslog at notice level.
 *
 * DIAGNOSTICS
 *	Start-up problems go to stderr ("tlspolicy-milter: ..."); seals and
 *	failed epoch steps to the log.
 *
 * SEE ALSO
 *	auditseal.c, auditsink.c, daemon.c, setup.c; tlspolicy-milter(8) SEALING
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auditchain.h"
#include "auditseal.h"
#include "auditsink.h"
#include "daemon.h"
#include "log.h"
#include "sealkeeper.h"

/* A request to the keeper process: the epoch to store, the last seal's hash. */
struct request {
	long long	 epoch;
	char		 head[AUDIT_HASH_HEX];
	bool		 has_head;
};

/* sealkeeper_reopen's step after its seal. */
struct reopen {
	struct audit_sink	*sink;
	const char		*path;		/* retarget; NULL: reopen */
	bool			 has_run;
	int			 error;		/* of audit_sink_reopen */
};

/* After a failed epoch step, the next try this much later. */
#define RETRY_SECONDS	10

struct sealkeeper {
	char			*path;
	char			*name;		/* its name in its directory */
	int			 dirfd;
	struct auditseal_state	 st;		/* the daemon's: K(st.epoch) */
	long long		 in_sink;	/* the sink's epoch */
	long long		 target;	/* for evolve_step */
	const struct audit_sink_sealed *sealed;	/* for evolve_step */
	int			 keeper_fd;	/* -1: no keeper process */
	pid_t			 keeper_pid;
	time_t			 retry_at;
};

static int	store(struct sealkeeper *, long long);
static void	note_head(struct sealkeeper *,
		    const struct audit_sink_sealed *);
static int	evolve_step(void *, long long *, unsigned char *);
static int	reopen_step(void *, long long *, unsigned char *);
static int	move(const struct reopen *);
static void	keeper_main(int, int, const char *, struct auditseal_state *)
		    __attribute__((noreturn));
static void	log_seal(const char *, const struct audit_sink_sealed *);
static int	setup_args(int, char **, const char **, long long *);

struct sealkeeper *
sealkeeper_open(const char *path, uid_t trusted_uid, struct daemon_error *err)
{
	char why[AUDITSEAL_WHY_MAX], *copy = NULL, *dir;
	struct sealkeeper *k;
	struct stat st;
	int fd;

	if (daemon_check_trusted(path, "audit seal state", trusted_uid,
	    err) == -1) {
		if (errno == ENOENT)
			(void) snprintf(err->text, sizeof(err->text), "%s: no"
			    " sealing state: make one with tlspolicy-milter"
			    " --setup-keys --state %s (a new chain of keys), or"
			    " restore the current one", path, path);
		return NULL;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->path = strdup(path)) == NULL || (copy = strdup(path)) == NULL ||
	    (k->name = strdup(basename(copy))) == NULL) {
		(void) snprintf(err->text, sizeof(err->text), "out of memory");
		goto fail;
	}
	k->keeper_fd = -1;
	(void) strcpy(copy, path);
	dir = dirname(copy);
	if ((k->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		(void) snprintf(err->text, sizeof(err->text), "%s: %s", dir,
		    strerror(errno));
		goto fail;
	}
	if ((fd = openat(k->dirfd, k->name, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		(void) snprintf(err->text, sizeof(err->text), "%s: %s", path,
		    strerror(errno));
		if (fd != -1)
			(void) close(fd);
		goto fail;
	}
	(void) close(fd);
	if ((st.st_mode & 077) != 0) {
		(void) snprintf(err->text, sizeof(err->text), "%s: audit seal"
		    " state is readable by group or others (mode %04o); it"
		    " holds the current sealing key: chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if (auditseal_read_state(k->dirfd, k->name, &k->st, why) == -1) {
		(void) snprintf(err->text, sizeof(err->text), "%s: %s", path,
		    why);
		goto fail;
	}
	k->in_sink = k->st.epoch;
	free(copy);
	return k;
fail:
	free(copy);
	sealkeeper_close(&k);
	return NULL;
}

int
sealkeeper_fork(struct sealkeeper *k, struct daemon_error *err)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		(void) snprintf(err->text, sizeof(err->text), "socketpair: %s",
		    strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		(void) snprintf(err->text, sizeof(err->text), "fork: %s",
		    strerror(errno));
		(void) close(sv[0]);
		(void) close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		(void) close(sv[0]);
		keeper_main(sv[1], k->dirfd, k->name, &k->st);
	}
	(void) close(sv[1]);
	k->keeper_fd = sv[0];
	k->keeper_pid = pid;
	return 0;
}

int
sealkeeper_arm(struct sealkeeper *k, struct audit_sink *sink)
{
	if (audit_sink_set_seal(sink, k->st.epoch, k->st.key,
	    sizeof(k->st.key)) == -1) {
		fprintf(stderr, "tlspolicy-milter: cannot key the audit sink:"
		    " %s\n", strerror(errno));
		return -1;
	}
	k->in_sink = k->st.epoch;
	return 0;
}

int
sealkeeper_start(struct sealkeeper *k, struct audit_sink *sink)
{
	struct audit_sink_sealed out = { 0 };
	struct audit_sink_tail t;
	bool is_unsealed;
	long long c;

	audit_sink_tail(sink, &t);
	if (t.epoch > k->st.epoch) {
		fprintf(stderr, "tlspolicy-milter: %s: the sealing state is at"
		    " epoch %lld, older than the last record of the audit log"
		    " %s (epoch %lld): it is an old copy or another state, and"
		    " continuing would hide that; restore the current state"
		    " (or start a new log with a new state)\n", k->path,
		    k->st.epoch, audit_sink_path(sink), t.epoch);
		return -1;
	}
	if (t.is_key_wrong) {
		fprintf(stderr, "tlspolicy-milter: %s: the key of the sealing"
		    " state (epoch %lld) does not make the hash of the last"
		    " record of the audit log %s: the state belongs to another"
		    " log, or was made anew (--setup-keys); restore the current"
		    " state (or start a new log with the new one)\n", k->path,
		    k->st.epoch, audit_sink_path(sink));
		return -1;
	}
	if (t.is_empty && k->st.has_head &&
	    audit_sink_set_head(sink, k->st.head) == 0)
		log_msg(LOG_LEVEL_INFO, "%s: a new file: the chain continues"
		    " from the last seal %s", audit_sink_path(sink),
		    k->st.head);
	c = auditseal_epoch_at(&k->st, (long long)time(NULL));
	is_unsealed = !t.is_empty && t.epoch >= 0 && !t.is_seal;
	if (!is_unsealed && c <= k->st.epoch)
		return 0;
	k->target = c > k->st.epoch ? c : k->st.epoch;
	k->sealed = &out;
	if (audit_sink_seal(sink, is_unsealed ? "recovery" : NULL, false,
	    c > k->st.epoch ? evolve_step : NULL, k, &out) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s: cannot %s: %s\n",
		    audit_sink_path(sink), out.hash[0] == '\0' && is_unsealed ?
		    "seal the records an earlier run left unsealed" :
		    "move the sealing state to the current epoch",
		    strerror(errno));
		k->sealed = NULL;
		return -1;
	}
	k->sealed = NULL;
	if (is_unsealed)
		log_seal("recovery", &out);
	k->in_sink = out.new_epoch;
	return 0;
}

void
sealkeeper_tick(struct sealkeeper *k, struct audit_sink *sink)
{
	struct audit_sink_sealed out = { 0 };
	time_t now = time(NULL);
	long long c;

	if (k == NULL || sink == NULL || now < k->retry_at)
		return;
	c = auditseal_epoch_at(&k->st, (long long)now);
	if (c <= k->in_sink)
		return;
	k->target = c;
	k->sealed = &out;
	if (audit_sink_seal(sink, "epoch-end", true, evolve_step, k,
	    &out) == -1) {
		log_errno(LOG_LEVEL_ERROR, "%s: audit sealing: cannot %s epoch"
		    " %lld (retried in %d s)", audit_sink_path(sink),
		    out.hash[0] == '\0' ? "seal" : "store the state of",
		    out.hash[0] == '\0' ? k->in_sink : c, RETRY_SECONDS);
		k->retry_at = now + RETRY_SECONDS;
	}
	if (out.hash[0] != '\0')
		log_seal("epoch-end", &out);
	k->in_sink = out.new_epoch;
	k->sealed = NULL;
}

void
sealkeeper_seal(struct sealkeeper *k, struct audit_sink *sink,
    const char *reason)
{
	struct audit_sink_sealed out = { 0 };

	if (k == NULL || sink == NULL)
		return;
	if (audit_sink_seal(sink, reason, true, NULL, NULL, &out) == -1)
		log_errno(LOG_LEVEL_ERROR, "%s: audit sealing: cannot write the"
		    " %s seal", audit_sink_path(sink), reason);
	if (out.hash[0] == '\0')
		return;
	log_seal(reason, &out);
	note_head(k, &out);	/* a log rotated while stopped continues here */
	if (store(k, k->st.epoch) == -1)
		log_errno(LOG_LEVEL_ERROR, "%s: audit sealing: cannot store the"
		    " head in the state", k->path);
}

int
sealkeeper_reopen(struct sealkeeper *k, struct audit_sink *sink)
{
	return sealkeeper_retarget(k, sink, NULL);
}

int
sealkeeper_retarget(struct sealkeeper *k, struct audit_sink *sink,
    const char *path)
{
	struct audit_sink_sealed out = { 0 };
	struct reopen ro = { .sink = sink, .path = path };
	int rc;

	if (k == NULL)
		return move(&ro);
	/* the seal ends the old file: the reopen runs before any record */
	if ((rc = audit_sink_seal(sink, "reopen", true, reopen_step, &ro,
	    &out)) == -1 && !ro.has_run)
		log_errno(LOG_LEVEL_ERROR, "%s: audit sealing: cannot write the"
		    " reopen seal", audit_sink_path(sink));
	if (out.hash[0] != '\0') {
		log_seal("reopen", &out);
		note_head(k, &out);
		if (store(k, k->st.epoch) == -1)
			log_errno(LOG_LEVEL_ERROR, "%s: audit sealing: cannot"
			    " store the head in the state", k->path);
	}
	if (!ro.has_run)
		return move(&ro);
	errno = ro.error;
	return ro.error == 0 ? 0 : -1;
}

void
sealkeeper_close(struct sealkeeper **kp)
{
	struct sealkeeper *k = *kp;

	if (k == NULL)
		return;
	if (k->keeper_fd != -1) {
		(void) close(k->keeper_fd);	/* the keeper process exits */
		(void) waitpid(k->keeper_pid, NULL, 0);
	}
	if (k->dirfd > 0)
		(void) close(k->dirfd);
	auditseal_wipe(&k->st);
	free(k->path);
	free(k->name);
	free(k);
	*kp = NULL;
}

int
sealkeeper_setup_command(int argc, char **argv)
{
	char vk[AUDITSEAL_VK_MAX], *copy, *dir, *name, *base;
	struct auditseal_state st;
	struct daemon_error err;
	const char *path = NULL;
	long long period = AUDITSEAL_PERIOD_DEFAULT;
	struct stat sb;
	int dirfd = -1, rc = EX_OK;

	if (setup_args(argc, argv, &path, &period) == -1) {
		fprintf(stderr, "usage: tlspolicy-milter --setup-keys [--epoch"
		    " seconds] --state file\n");
		return EX_USAGE;
	}
	if ((copy = strdup(path)) == NULL || (base = strdup(path)) == NULL) {
		free(copy);
		return EX_OSERR;
	}
	dir = dirname(copy);
	name = basename(base);
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s: %s (make the directory,"
		    " owned by root, mode 0700)\n", dir, strerror(errno));
		rc = EX_CANTCREAT;
		goto out;
	}
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		fprintf(stderr, "tlspolicy-milter: %s exists: a new state"
		    " starts a new chain of keys that the old verification key"
		    " does not verify; remove it first if that is what you"
		    " mean\n",
		    path);
		rc = EX_CANTCREAT;
		goto out;
	}
	if (auditseal_new(&st, (long long)time(NULL), period) == -1 ||
	    auditseal_format_vk(&st, vk, sizeof(vk)) == -1) {
		fprintf(stderr, "tlspolicy-milter: no random key (OpenSSL)\n");
		rc = EX_OSERR;
		goto out;
	}
	if (auditseal_write_state(dirfd, name, &st) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s: %s\n", path,
		    strerror(errno));
		rc = EX_CANTCREAT;
	} else if (daemon_check_trusted(path, "audit seal state", geteuid(),
	    &err) == -1) {
		fprintf(stderr, "tlspolicy-milter: %s (the milter would refuse"
		    " this state; removed)\n", err.text);
		(void) unlinkat(dirfd, name, 0);
		rc = EX_CANTCREAT;
	} else {
		printf("sealing state: %s (epochs of %lld s from %lld)\n"
		    "verification key: %s\n", path, st.period, st.start, vk);
		fprintf(stderr, "tlspolicy-milter: keep the verification key"
		    " off this host (it derives every epoch's key); it is not"
		    " stored anywhere and is not shown again\n");
	}
out:
	OPENSSL_cleanse(vk, sizeof(vk));
	auditseal_wipe(&st);
	if (dirfd != -1)
		(void) close(dirfd);
	free(copy);
	free(base);
	return rc;
}

/*
 * evolve_step - audit_sink_seal's evolve: the daemon's copy to
 * k->target (the old key wiped), the state replaced, the key out.
 */
static int
evolve_step(void *arg, long long *epoch, unsigned char *key)
{
	struct sealkeeper *k = arg;

	note_head(k, k->sealed);
	if (auditseal_advance(&k->st, k->target) == -1) {
		errno = EIO;
		return -1;
	}
	if (store(k, k->target) == -1)
		return -1;
	*epoch = k->st.epoch;
	(void) memcpy(key, k->st.key, sizeof(k->st.key));
	return 0;
}

/* note_head - the seal's hash becomes the state's head (if one was written). */
static void
note_head(struct sealkeeper *k, const struct audit_sink_sealed *out)
{
	if (out == NULL || out->hash[0] == '\0')
		return;
	(void) memcpy(k->st.head, out->hash, sizeof(k->st.head));
	k->st.has_head = true;
}

/* reopen_step - audit_sink_seal's step for a reopen: no new key. */
static int
reopen_step(void *arg, long long *epoch, unsigned char *key)
{
	struct reopen *ro = arg;

	(void) key;
	ro->has_run = true;
	ro->error = move(ro) == -1 ? errno : 0;
	*epoch = -1;
	return 0;
}

/* move - reopen the log, or retarget it to ro->path. */
static int
move(const struct reopen *ro)
{
	if (ro->path == NULL)
		return audit_sink_reopen(ro->sink);
	return audit_sink_retarget(ro->sink, ro->path);
}

/* store - have the state file say epoch (by the keeper, or here); 0 or -1. */
static int
store(struct sealkeeper *k, long long epoch)
{
	struct request rq = { .epoch = epoch, .has_head = k->st.has_head };
	ssize_t n;
	int e;

	if (k->keeper_fd == -1)
		return auditseal_write_state(k->dirfd, k->name, &k->st);
	(void) memcpy(rq.head, k->st.head, sizeof(rq.head));
	do
		n = send(k->keeper_fd, &rq, sizeof(rq), MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(rq))
		return -1;
	do
		n = recv(k->keeper_fd, &e, sizeof(e), MSG_WAITALL);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(e)) {
		errno = n == 0 ? EPIPE : errno;
		return -1;
	}
	errno = e;
	return e == 0 ? 0 : -1;
}

/*
 * keeper_main - the root keeper process: only the socket and the directory
 * open; on "epoch N" evolve to N and replace the state; exit at EOF.
 */
static void
keeper_main(int fd, int dirfd, const char *name, struct auditseal_state *st)
{
	static const int ignored[] = { SIGHUP, SIGINT, SIGTERM, SIGUSR1,
	    SIGUSR2, SIGPIPE };
	struct request rq;
	long long now;
	int devnull, e, lo, hi;

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		(void) signal(ignored[i], SIG_IGN);
	if ((devnull = open("/dev/null", O_RDWR)) != -1) {
		(void) dup2(devnull, 0);
		(void) dup2(devnull, 1);
		(void) dup2(devnull, 2);
	}
	lo = fd < dirfd ? fd : dirfd;
	hi = fd < dirfd ? dirfd : fd;
	if (lo < 3)
		_exit(1);
	/* nothing open but the socket and the directory */
	if (lo > 3)
		(void) close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		(void) close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	(void) close_range((unsigned)hi + 1, ~0U, 0);
	for (;;) {
		ssize_t n = recv(fd, &rq, sizeof(rq), MSG_WAITALL);

		if (n == -1 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(rq))
			break;
		now = auditseal_epoch_at(st, (long long)time(NULL));
		e = 0;
		if (rq.epoch < st->epoch || rq.epoch > now + 1 ||
		    (rq.has_head &&
		    !auditchain_is_hex(rq.head, AUDIT_HASH_HEX)))
			e = EINVAL;
		else if (auditseal_advance(st, rq.epoch) == -1)
			e = EIO;
		if (e == 0 && rq.has_head) {
			(void) memcpy(st->head, rq.head, AUDIT_HASH_HEX);
			st->head[AUDIT_HASH_HEX] = '\0';
			st->has_head = true;
		}
		if (e == 0 && auditseal_write_state(dirfd, name, st) == -1)
			e = errno;
		if (send(fd, &e, sizeof(e), MSG_NOSIGNAL) != (ssize_t)sizeof(e))
			break;
	}
	auditseal_wipe(st);
	_exit(0);
}

/* log_seal - the seal's line at notice level (the copy off the host). */
static void
log_seal(const char *reason, const struct audit_sink_sealed *out)
{
	if (strcmp(reason, "recovery") == 0)
		log_msg(LOG_LEVEL_NOTICE, "audit seal: epoch=%lld reason=%s"
		    " head=%s seal=%s", out->epoch, reason, out->head,
		    out->hash);
	else
		log_msg(LOG_LEVEL_NOTICE, "audit seal: epoch=%lld reason=%s"
		    " records=%lu head=%s seal=%s", out->epoch, reason,
		    out->n_records, out->head, out->hash);
}

/* setup_args - --epoch SECONDS and --state PATH; -1 on a usage error. */
static int
setup_args(int argc, char **argv, const char **path, long long *period)
{
	char *end;

	for (int i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			return -1;
		if (strcmp(argv[i], "--state") == 0)
			*path = argv[i + 1];
		else if (strcmp(argv[i], "--epoch") == 0) {
			errno = 0;
			*period = strtoll(argv[i + 1], &end, 10);
			if (errno != 0 || *end != '\0' ||
			    *period < AUDITSEAL_PERIOD_MIN ||
			    *period > AUDITSEAL_PERIOD_MAX)
				return -1;
		} else
			return -1;
	}
	return *path != NULL ? 0 : -1;
}
