/*
 * auditagg.h - the report's per-record aggregation of audit lines
 *
 * Counts the lines of audit files the way tlspolicy-report(1) does, so
 * that one pass of `tlspolicy-milter --verify-audit --report-data FILE`
 * both checks the chain and aggregates; the report only merges and
 * renders.  The state handed over is the report's own per-file state
 * (its Tally): counts keyed by (member list, hour, the few members the
 * report counts by), malformed lines by reason, report-mode refusals by
 * (client, user, listener, rule), exceptions per listener; and, in line
 * order, the events whose order matters (the first malformed lines, the
 * first exceptions and exposures, policy and seal records).
 *
 * A line is classified here only when its meaning is certain: printable
 * ASCII without escapes, one flat JSON object whose numbers are plain
 * integers, no member named twice.  Any other line (an escape, UTF-8, a
 * control byte, a float, a nested value, text that is not JSON) is
 * handed over as it is, in its place, for the report to classify with
 * its own reader, so such lines count exactly as they always did.
 *
 * Output is JSON Lines, one event per call of the emit function:
 *   {"file":I}                      the lines of file I follow
 *   {"bad":[LINE,"why"]}            a malformed line (the first 50)
 *   {"raw":LINE,"text":"..."}       a line to classify (bytes as
 *                                   code points U+0000..U+00FF)
 *   {"exception":["listener",{row}]} {"exposure":{row}}   (first 1000)
 *   {"policy":["time","event","fp"],"text":"..."}  a policy record
 *   {"seal":[EPOCH,"reason"]}       a seal record
 *   {"sealed":N}                    N sealed records since the last event
 *   {"end":{...}}                   the file's counts (doc/tlspolicy-report.1)
 * No I/O but through the emit function; no clock.  An auditagg belongs
 * to one thread.
 */
#ifndef TLSPOLICY_AUDITAGG_H
#define TLSPOLICY_AUDITAGG_H

#include <stdbool.h>
#include <stddef.h>

#include "auditfields.h"

#define AUDITAGG_LINE_MAX	(1UL << 20)	/* longer: malformed */
#define AUDITAGG_KEEP_BAD	50		/* malformed lines listed */
#define AUDITAGG_KEEP_LIST	1000		/* rows listed per kind */
#define AUDITAGG_KEEP_TEXTS	100		/* policy texts kept */
#define AUDITAGG_SHAPES_MAX	4096		/* member lists remembered */

/* The report's period and listeners; borrowed for the aggregator's life. */
struct auditagg_opts {
	const char	*t_from;	/* records before it: outside; NULL */
	const char	*t_to;		/* records after it: outside; NULL */
	char *const	*listeners;	/* only these (n_listeners > 0) */
	size_t		 n_listeners;
};

/* emit - one event (size bytes of JSON, no newline); 0, or -1 to fail. */
typedef int (*auditagg_emit_fn)(void *arg, const char *json, size_t size);

struct auditagg;

/*
 * auditagg_new - an aggregator over opts, emitting through emit(arg).
 * Owned by the caller (auditagg_free).  NULL when out of memory.
 */
struct auditagg *auditagg_new(const struct auditagg_opts *opts,
	    auditagg_emit_fn emit, void *arg);

/* auditagg_free - free; sets the pointer to NULL; NULL is fine. */
void	auditagg_free(struct auditagg **);

/* auditagg_begin - the lines of file number index follow; 0 or -1. */
int	auditagg_begin(struct auditagg *, unsigned long index);

/*
 * auditagg_line - the next line: size bytes without its newline;
 * is_whole false when the file ended before a newline.  af is the line
 * as auditfields_parse() read it, or NULL when that failed (or was not
 * tried).  0, or -1 (no memory, or emit failed): the aggregator is then
 * unusable but for auditagg_free().
 */
int	auditagg_line(struct auditagg *, const char *line, size_t size,
	    bool is_whole, struct auditfields *af);

/* auditagg_has_failed - a call failed (no memory, emit); all later fail. */
bool	auditagg_has_failed(const struct auditagg *);

/* auditagg_end - emit the file's counts and start afresh; 0 or -1. */
int	auditagg_end(struct auditagg *);

#endif /* TLSPOLICY_AUDITAGG_H */
