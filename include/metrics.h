/*
 * metrics.h - live counters and their Prometheus text exposition
 *
 * Process-wide counters of sessions, decisions, credential exposures,
 * decision latency, audit writes and config reloads, and their rendering
 * in the Prometheus text exposition format (version 0.0.4).  Counting
 * never blocks and never allocates: every counter is a relaxed atomic,
 * and the listener a count belongs to is found by a lock-free scan of a
 * fixed table of labels.  Label values come only from the config
 * (listener labels), fixed tables (rule, outcome, TLS version, macro
 * names) or yes/no; never from the network.  At most METRICS_LISTENERS_MAX
 * listener labels are kept per process (reloads may add new ones); later
 * ones are counted under the label "_other".
 *
 * Every function is thread-safe.  No libmilter, no I/O (the HTTP server
 * is metricshttp.h).
 */
#ifndef TLSPOLICY_METRICS_H
#define TLSPOLICY_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include "facts.h"
#include "policy.h"
#include "strbuf.h"
#include "tlsinfo.h"

struct conf;

#define METRICS_LISTENERS_MAX	64	/* listener labels kept per process */
#define METRICS_LABEL_MAX	64	/* longest listener label kept */
#define METRICS_OTHER_LABEL	"_other"
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

/* metrics_session - one SMTP session ended on listener. */
void	metrics_session(const char *listener, enum tls_version, bool has_auth);

/*
 * metrics_decision - one MAIL decision on listener: its rule (NONE when
 * nothing failed), outcome, whether it was a credential exposure, and
 * the nanoseconds from MAIL callback entry to the reply.
 */
void	metrics_decision(const char *listener, enum policy_rule,
	    enum policy_outcome, bool is_exposure, long long latency_ns);

/* metrics_missing_macro - a macro the policy needs was not sent. */
void	metrics_missing_macro(enum fact_id);

/*
 * metrics_audit_staged, metrics_audit_written, metrics_audit_failed -
 * lines staged (size bytes), lines written to the log (size bytes), one
 * failed write.  metrics_audit_stage - the stage's fill (bytes staged
 * and not yet written, its capacity).
 */
void	metrics_audit_staged(size_t size);
void	metrics_audit_written(unsigned long n_lines, size_t size);
void	metrics_audit_failed(void);
void	metrics_audit_stage(size_t used, size_t capacity);

/*
 * metrics_config_loaded - conf is in force: its listener labels get
 * series (zero until counted) and the time of the last good load is now;
 * is_reload counts a good reload.  metrics_config_failed - a reload was
 * refused.
 */
void	metrics_config_loaded(const struct conf *, bool is_reload);
void	metrics_config_failed(void);

/*
 * metrics_format - append the whole exposition to sb.  0, or -1 with
 * errno as strbuf_append (ENOMEM, EMSGSIZE).
 */
int	metrics_format(struct strbuf *sb);

#endif /* TLSPOLICY_METRICS_H */
