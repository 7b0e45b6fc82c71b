/*
 * NAME
 *	log - the one logging module: syslog and/or stderr
 *
 * SYNOPSIS
 *	#include "log.h"
 *
 * DESCRIPTION
 *	Formats a message, escapes control bytes (\n, \r, \xNN for the
 *	others and DEL, so a line can never be split or forged), and writes
 *	it to syslog(3) and/or stderr with one call each.  The stderr line
 *	reads "ident[pid]: level: message" and a newline.  The logger
 *	decides whether a level is emitted; call sites never test flags.
 *	log_errno() appends strerror(errno) of the errno it was called
 *	with; log_msg() never does.  Neither changes errno.  log_lazy()
 *	has the caller's formatter write the text only when the line goes
 *	somewhere: a record's key=value line costs nothing with syslog off.
 *
 *	Settings are atomics written at start-up and reload.  The ident
 *	lives in one of two static buffers: a reload that changes it fills
 *	the other one, so syslog(3) never reads a buffer being rewritten.
 *	Formatting uses buffers on the caller's stack (about 17 KiB), so
 *	every function is safe from any thread.
 *
 * DIAGNOSTICS
 *	Messages whose escaped text exceeds LOG_LINE_MAX bytes are cut and
 *	end in "...[truncated]": these are logs, not records.  Failure to
 *	write is ignored: there is nowhere left to report it.
 *
 * SEE ALSO
 *	syslog(3), audit.c (records)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "strbuf.h"

#define LOG_LINE_MAX	8192		/* escaped message text */
#define LOG_IDENT_MAX	64
#define LOG_ERR_MAX	128		/* ": " and strerror text */
#define LOG_PREFIX_MAX	(LOG_IDENT_MAX + 48)
#define LOG_TRUNCATED	"...[truncated]"

static atomic_bool	use_syslog;
static atomic_bool	use_stderr;
static atomic_int	file_fd = -1;	/* log-file; reopened with dup2 */
static char		*file_path;	/* under open_lock */
static atomic_bool	is_debug;
static pthread_mutex_t	open_lock = PTHREAD_MUTEX_INITIALIZER;
static char		idents[2][LOG_IDENT_MAX] = { "tlspolicy-milter" };
static atomic_uint	ident_at;	/* which of idents is current */

static const struct {
	const char	*name;
	int		 facility;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

static bool	wants(enum log_level);
static void	emit(enum log_level, const char *, const char *,
		    va_list) __attribute__((format(printf, 3, 0)));
static void	emit_text(enum log_level, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static size_t	escape(char *, size_t, const char *, bool *);
static size_t	put(char *, size_t, size_t, const char *);
static void	write_file(int, const char *, size_t);

void
log_open(const char *ident, int facility, bool syslog_on, bool stderr_on)
{
	unsigned at;

	(void) pthread_mutex_lock(&open_lock);
	at = atomic_load(&ident_at);
	if (strncmp(idents[at], ident, LOG_IDENT_MAX - 1) != 0) {
		at ^= 1;
		(void) snprintf(idents[at], sizeof(idents[at]), "%s", ident);
		atomic_store(&ident_at, at);
	}
	if (atomic_load(&use_syslog))
		closelog();
	if (syslog_on)
		openlog(idents[at], LOG_PID | LOG_NDELAY, facility);
	atomic_store(&use_syslog, syslog_on);
	atomic_store(&use_stderr, stderr_on);
	(void) pthread_mutex_unlock(&open_lock);
}

int
log_open_file(const char *path)
{
	char *copy = NULL;
	int fd, old, rc = 0;

	if (path != NULL && (copy = strdup(path)) == NULL)
		return -1;
	(void) pthread_mutex_lock(&open_lock);
	if (path == NULL && (path = file_path) == NULL) {
		(void) pthread_mutex_unlock(&open_lock);
		return 0;	/* no log file to reopen */
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0640);
	if (fd == -1) {
		rc = -1;
	} else if ((old = atomic_load(&file_fd)) == -1) {
		atomic_store(&file_fd, fd);	/* the number from now on */
	} else {
		/* the same number, atomically: a writer never sees it closed */
		if (dup3(fd, old, O_CLOEXEC) == -1)
			rc = -1;
		(void) close(fd);
	}
	if (rc == 0 && copy != NULL) {
		free(file_path);
		file_path = copy;
		copy = NULL;
	}
	(void) pthread_mutex_unlock(&open_lock);
	free(copy);
	return rc;
}

void
log_set_debug(bool on)
{
	atomic_store(&is_debug, on);
}

void
log_close(void)
{
	(void) pthread_mutex_lock(&open_lock);
	if (atomic_exchange(&use_syslog, false))
		closelog();
	(void) pthread_mutex_unlock(&open_lock);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	emit(level, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_errno(enum log_level level, const char *fmt, ...)
{
	int saved = errno;
	char buf[LOG_ERR_MAX];
	const char *err;
	va_list ap;

	err = strerror_r(saved, buf, sizeof(buf));
	va_start(ap, fmt);
	emit(level, err != NULL ? err : "unknown error", fmt, ap);
	va_end(ap);
	errno = saved;
}

int
log_lazy(enum log_level level, const char *id, log_text_fn fn,
    const void *arg, struct strbuf *sb)
{
	int saved = errno;

	if (!wants(level))
		return 0;
	strbuf_reset(sb);
	if (fn(arg, sb) == -1)
		return -1;	/* errno from fn */
	emit_text(level, "%s: %s", id, strbuf_str(sb));
	errno = saved;
	return 0;
}

int
log_parse_facility(const char *name)
{
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].facility;
	return -1;
}

/* wants - would a line at level be written anywhere? */
static bool
wants(enum log_level level)
{
	if (level == LOG_LEVEL_DEBUG && !atomic_load(&is_debug))
		return false;
	return atomic_load(&use_syslog) || atomic_load(&use_stderr) ||
	    atomic_load(&file_fd) != -1;
}

/* emit_text - emit() with its own arguments, no errno text. */
static void
emit_text(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, NULL, fmt, ap);
	va_end(ap);
}

/*
 * emit - format, escape and write one line.  out holds the stderr prefix,
 * the message, the truncation marker, the errno text and the newline;
 * syslog gets the part after the prefix.
 */
static void
emit(enum log_level level, const char *err, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "notice",
	    "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE,
	    LOG_INFO, LOG_DEBUG };
	char raw[LOG_LINE_MAX + 1];
	char out[LOG_PREFIX_MAX + LOG_LINE_MAX + sizeof(LOG_TRUNCATED) +
	    LOG_ERR_MAX + 2];
	size_t n, start;
	bool is_cut, to_syslog, to_stderr;
	int len;

	if ((unsigned)level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_ERROR;
	if (!wants(level) || (len = vsnprintf(raw, sizeof(raw), fmt, ap)) < 0)
		return;
	to_syslog = atomic_load(&use_syslog);	/* one reading for this line */
	to_stderr = atomic_load(&use_stderr);
	is_cut = (size_t)len >= sizeof(raw);
	n = 0;
	if (to_stderr)		/* syslog(3) adds its own prefix */
		n = (size_t)snprintf(out, LOG_PREFIX_MAX, "%s[%ld]: %s: ",
		    idents[atomic_load(&ident_at)], (long)getpid(),
		    names[level]);
	start = n = n < LOG_PREFIX_MAX ? n : LOG_PREFIX_MAX - 1;
	n += escape(out + n, LOG_LINE_MAX + 1, raw, &is_cut);
	if (is_cut)
		n = put(out, sizeof(out), n, LOG_TRUNCATED);
	if (err != NULL) {
		n = put(out, sizeof(out), n, ": ");
		n = put(out, sizeof(out), n, err);
	}
	if (to_syslog)
		syslog(prio[level], "%s", out + start);
	if (to_stderr || atomic_load(&file_fd) != -1) {
		n = put(out, sizeof(out), n, "\n");
		if (to_stderr)
			(void) !write(STDERR_FILENO, out, n);
		write_file(level, out + start, n - start);
	}
}

/*
 * write_file - the line (without the stderr prefix) to log-file, after a
 * time stamp, the ident, the pid and the level: one write(2), so lines of
 * different threads never interleave.
 */
static void
write_file(int level, const char *line, size_t size)
{
	static const char *const names[] = { "error", "warning", "notice",
	    "info", "debug" };
	char head[LOG_PREFIX_MAX + 64];
	struct iovec iov[2];
	struct timespec now;
	struct tm tm;
	int fd = atomic_load(&file_fd), n;

	if (fd == -1)
		return;
	(void) clock_gettime(CLOCK_REALTIME, &now);
	(void) gmtime_r(&now.tv_sec, &tm);
	n = snprintf(head, sizeof(head), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ"
	    " %s[%ld]: %s: ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000,
	    idents[atomic_load(&ident_at)], (long)getpid(), names[level]);
	if (n < 0 || (size_t)n >= sizeof(head))
		return;
	iov[0] = (struct iovec){ head, (size_t)n };
	iov[1] = (struct iovec){ (void *)line, size };
	(void) !writev(fd, iov, 2);
}

/*
 * escape - copy s into dst (size bytes, NUL included) with \n, \r and
 * \xNN for other control bytes and DEL; set *is_cut when s did not fit.
 * Returns the bytes written, without the NUL.
 */
static size_t
escape(char *dst, size_t size, const char *s, bool *is_cut)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0, need;
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0'; s++) {
		need = c >= 0x20 && c != 0x7f ? 1 :
		    c == '\n' || c == '\r' ? 2 : 4;
		if (n + need >= size) {
			*is_cut = true;
			break;
		}
		if (need == 1) {
			dst[n++] = (char)c;
			continue;
		}
		dst[n++] = '\\';
		if (need == 2)
			dst[n++] = c == '\n' ? 'n' : 'r';
		else {
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 0xf];
		}
	}
	dst[n] = '\0';
	return n;
}

/* put - append s at buf + n as far as it fits (NUL kept); the new length. */
static size_t
put(char *buf, size_t size, size_t n, const char *s)
{
	size_t len = strlen(s);

	if (n >= size)
		return size - 1;
	if (len > size - n - 1)
		len = size - n - 1;
	memcpy(buf + n, s, len);
	buf[n + len] = '\0';
	return n + len;
}
