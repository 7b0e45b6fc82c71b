/*
 * NAME
 *	log - the one logging module: syslog and/or stderr
 *
 * SYNOPSIS
 *	#include "log.h"
 *
 * DESCRIPTION
 *	Formats a message, escapes control bytes (so a line can never be
 *	split or forged), and writes it to syslog(3) and/or stderr with one
 *	call each.  The logger decides whether a level is emitted; call
 *	sites never test flags.  log_errno() appends strerror(errno) taken
 *	before formatting; log_msg() never does.  Settings are plain
 *	atomics written at start-up and reload; formatting uses a buffer on
 *	the caller's stack, so every function is safe from any thread.
 *
 * DIAGNOSTICS
 *	Messages longer than LOG_LINE_MAX bytes end in "...[truncated]":
 *	these are logs, not records.  Failure to write is ignored: there is
 *	nowhere left to report it.
 *
 * SEE ALSO
 *	syslog(3), audit.c (records)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	8192

static atomic_bool	use_syslog;
static atomic_bool	use_stderr;
static atomic_bool	is_debug;
static char		log_ident[64] = "tlspolicy-milter";

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

static void	emit(enum log_level, const char *, const char *,
		    va_list) __attribute__((format(printf, 3, 0)));
static size_t	escape(char *, size_t, const char *);

void
log_open(const char *ident, int facility, bool syslog_on, bool stderr_on)
{
	(void) snprintf(log_ident, sizeof(log_ident), "%s", ident);
	if (atomic_load(&use_syslog))
		closelog();
	if (syslog_on)
		openlog(log_ident, LOG_PID | LOG_NDELAY, facility);
	atomic_store(&use_syslog, syslog_on);
	atomic_store(&use_stderr, stderr_on);
}

void
log_set_debug(bool on)
{
	atomic_store(&is_debug, on);
}

void
log_close(void)
{
	if (atomic_exchange(&use_syslog, false))
		closelog();
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, NULL, fmt, ap);
	va_end(ap);
}

void
log_errno(enum log_level level, const char *fmt, ...)
{
	const char *err = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	emit(level, err, fmt, ap);
	va_end(ap);
}

int
log_parse_facility(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].facility;
	return -1;
}

/* emit - format, escape and write one line. */
static void
emit(enum log_level level, const char *err, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info",
	    "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
	    LOG_DEBUG };
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX + 64];
	size_t n;
	int len;

	if (level == LOG_LEVEL_DEBUG && !atomic_load(&is_debug))
		return;
	if ((unsigned)level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_ERROR;
	len = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (len < 0)
		return;
	n = escape(line, LOG_LINE_MAX, raw);
	if ((size_t)len >= sizeof(raw) || n >= LOG_LINE_MAX - 1)
		n += (size_t)snprintf(line + n, sizeof(line) - n,
		    "...[truncated]");
	if (err != NULL)
		n += (size_t)snprintf(line + n, sizeof(line) - n, ": %s", err);
	if (atomic_load(&use_syslog))
		syslog(prio[level], "%s", line);
	if (atomic_load(&use_stderr)) {
		char out[sizeof(line) + 128];
		int m = snprintf(out, sizeof(out), "%s[%ld]: %s: %s\n",
		    log_ident, (long)getpid(), names[level], line);

		if (m > 0)
			(void) !write(STDERR_FILENO, out,
			    (size_t)m < sizeof(out) ? (size_t)m : sizeof(out) - 1);
	}
}

/* escape - copy s with \n, \r, \t and \xNN for control bytes; NUL-terminated. */
static size_t
escape(char *dst, size_t size, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	unsigned char c;

	for (; (c = (unsigned char)*s) != '\0' && n + 5 < size; s++) {
		if (c >= 0x20 && c != 0x7f) {
			dst[n++] = (char)c;
			continue;
		}
		dst[n++] = '\\';
		if (c == '\n')
			dst[n++] = 'n';
		else if (c == '\r')
			dst[n++] = 'r';
		else if (c == '\t')
			dst[n++] = 't';
		else {
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 0xf];
		}
	}
	dst[n] = '\0';
	return n;
}
