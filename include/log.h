/*
 * log.h - the one logging module: syslog and/or stderr
 *
 * Call sites never test whether a level is enabled; the logger decides.
 * log_msg() never appends errno text, log_errno() always does, so stale
 * errno text never appears.  Each call writes one line with one syscall;
 * safe from any thread.  Control bytes in the formatted text are escaped
 * (\n, \r, \xNN) so a line can never be split.
 */
#ifndef TLSPOLICY_LOG_H
#define TLSPOLICY_LOG_H

#include <stdbool.h>

struct strbuf;

/*
 * The levels, with their syslog priorities: error (LOG_ERR), warning
 * (LOG_WARNING: credential exposures among them), notice (LOG_NOTICE:
 * refusals), info (LOG_INFO: accepts), debug (LOG_DEBUG).
 */
enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/*
 * log_open - start logging as ident to syslog facility (LOG_MAIL, ...) when
 * use_syslog, and to stderr when use_stderr.  May be called again (reload).
 */
void	log_open(const char *ident, int facility, bool use_syslog,
	    bool use_stderr);

/*
 * log_open_file - also write every line to path (log-file), each with a
 * UTC time stamp, appended; with path NULL reopen the file opened before
 * (rotation), a no-op when there is none.  The file is opened without
 * following a link, by the calling user (after the privilege drop).
 * 0, or -1 with errno (the old file, if any, stays in use).
 */
int	log_open_file(const char *path);

/* log_set_debug - emit debug lines or not. */
void	log_set_debug(bool);

/* log_close - close syslog. */
void	log_close(void);

/* log_msg - one line at level. */
void	log_msg(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* log_errno - one line at level, ending in ": " and strerror(errno). */
void	log_errno(enum log_level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* log_text_fn - write the text of one line into sb; 0, or -1 with errno. */
typedef int	(*log_text_fn)(const void *arg, struct strbuf *sb);

/*
 * log_lazy - one line at level reading "<id>: <text>", where fn(arg, sb)
 * writes the text into sb (reset first); fn runs only when the line will
 * be written somewhere.  0, or -1 with fn's errno when fn failed (then
 * nothing is logged).  sb is the caller's, reused across calls.
 */
int	log_lazy(enum log_level, const char *id, log_text_fn fn,
	    const void *arg, struct strbuf *sb);

/* log_parse_facility - "mail", "local0".."local7", "daemon", "user"; -1 if unknown. */
int	log_parse_facility(const char *);

#endif /* TLSPOLICY_LOG_H */
