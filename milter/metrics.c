/*
 * NAME
 *	metrics - live counters and their Prometheus text exposition
 *
 * SYNOPSIS
 *	#include "metrics.h"
 *
 * DESCRIPTION
 *	Process-wide counters, each a relaxed atomic: a count is one
 *	atomic add, with no lock and no allocation, so the callbacks count
 *	on the decision path without waiting for each other or for a
 *	scrape.  The counters of a listener live in a slot of a fixed table;
 *	a slot's label is written once, before the slot is published by a
 *	release store of the slot count, so finding a listener is a scan
 *	of the published slots without a lock (the config has a handful of
 *	listeners).  A label not yet in the table is added under a mutex
 *	(once per label and process: metrics_config_loaded adds a config's
 *	labels before its sessions count).  The table never shrinks: a
 *	listener a reload removed keeps its series, as Prometheus expects
 *	of a counter.
 *
 *	metrics_format() renders every counter in the text exposition
 *	format 0.0.4: HELP and TYPE lines, then samples.  Per-listener
 *	exposures are rendered for every known listener (zero included);
 *	sessions, decisions and missing macros only for label sets counted
 *	at least once.  Reads are relaxed: a scrape sees each counter at
 *	some moment during the scrape, and a histogram's _count equals its
 *	+Inf bucket.
 *
 *	Labels are bounded by the config and by fixed tables: listener
 *	labels (at most METRICS_LISTENERS_MAX, then "_other"), rule and
 *	outcome names, TLS version names, macro names, yes/no.  No client
 *	address, user name or other network text is ever a label.
 *
 * DIAGNOSTICS
 *	metrics_format() returns -1 with errno when the buffer cannot grow.
 *	Out-of-range enum values are counted as the last valid one (a rule
 *	as "none", a version as "unknown"); nothing is logged here.
 *
 * SEE ALSO
 *	metricshttp.c (the HTTP endpoint), callbacks.c, auditsink.c, main.c;
 *	https://prometheus.io/docs/instrumenting/exposition_formats/
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include "conf.h"
#include "facts.h"
#include "metrics.h"
#include "policy.h"
#include "strbuf.h"
#include "tlsinfo.h"

#define N_VERSIONS	(TLS_VERSION_TLSV1_3 + 1)
#define N_RULES		(POLICY_RULE_NONE + 1)
#define N_OUTCOMES	(POLICY_OUTCOME_WOULD_REJECT + 1)
#define N_BUCKETS	(sizeof(bucket_ns) / sizeof(bucket_ns[0]))

typedef _Atomic unsigned long long counter;

/* The counters of one listener label. */
struct slot {
	char	label[METRICS_LABEL_MAX + 1];	/* written before publication */
	counter	sessions[N_VERSIONS][2];	/* [tls_version][has_auth] */
	counter	decisions[N_RULES][N_OUTCOMES];
	counter	exposures;
};

/* Decision latency buckets: upper bounds in ns and as "le" labels. */
static const long long bucket_ns[] = {
	50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000,
	25000000, 50000000, 100000000, 250000000, 500000000, 1000000000,
};
static const char *const bucket_le[] = {
	"5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
	"0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
};

/* slots[METRICS_LISTENERS_MAX] is "_other". */
static struct slot	slots[METRICS_LISTENERS_MAX + 1] = {
	[METRICS_LISTENERS_MAX] = { .label = METRICS_OTHER_LABEL },
};
static _Atomic size_t	n_slots;
static pthread_mutex_t	slots_lock = PTHREAD_MUTEX_INITIALIZER;

static counter	latency[N_BUCKETS + 1];	/* the last: +Inf */
static counter	latency_sum_ns;
static counter	missing[FACT_COUNT];
static counter	audit_staged, audit_staged_bytes;
static counter	audit_written, audit_written_bytes, audit_failed;
static counter	stage_used, stage_capacity;
static counter	reloads_ok, reloads_failed;
static counter	last_load_ms;		/* CLOCK_REALTIME of the last good load */

static struct slot *find_slot(const char *);
static struct slot *add_slot(const char *);
static void	add(counter *, unsigned long long);
static unsigned long long get(counter *);
static int	put_head(struct strbuf *, const char *, const char *,
		    const char *);
static int	put_label(struct strbuf *, const char *, const char *,
		    bool);
static int	format_sessions(struct strbuf *, size_t);
static int	format_decisions(struct strbuf *, size_t);
static int	format_exposures(struct strbuf *, size_t);
static int	format_latency(struct strbuf *);
static int	format_audit(struct strbuf *);
static int	format_config(struct strbuf *);
static int	format_build(struct strbuf *);
static size_t	published(void);
static struct slot *slot_at(size_t, size_t);

void
metrics_session(const char *listener, enum tls_version v, bool has_auth)
{
	struct slot *s = find_slot(listener);

	if ((unsigned)v >= N_VERSIONS)
		v = TLS_VERSION_UNKNOWN;
	add(&s->sessions[v][has_auth], 1);
}

void
metrics_decision(const char *listener, enum policy_rule rule,
    enum policy_outcome outcome, bool is_exposure, long long latency_ns)
{
	struct slot *s = find_slot(listener);
	size_t b;

	if ((unsigned)rule >= N_RULES)
		rule = POLICY_RULE_NONE;
	if ((unsigned)outcome >= N_OUTCOMES)
		outcome = POLICY_OUTCOME_REJECT;
	add(&s->decisions[rule][outcome], 1);
	if (is_exposure)
		add(&s->exposures, 1);
	if (latency_ns < 0)
		latency_ns = 0;
	for (b = 0; b < N_BUCKETS && latency_ns > bucket_ns[b]; b++)
		continue;
	add(&latency[b], 1);
	add(&latency_sum_ns, (unsigned long long)latency_ns);
}

void
metrics_missing_macro(enum fact_id id)
{
	if ((unsigned)id < FACT_COUNT)
		add(&missing[id], 1);
}

void
metrics_audit_staged(size_t size)
{
	add(&audit_staged, 1);
	add(&audit_staged_bytes, size);
}

void
metrics_audit_written(unsigned long n_lines, size_t size)
{
	add(&audit_written, n_lines);
	add(&audit_written_bytes, size);
}

void
metrics_audit_failed(void)
{
	add(&audit_failed, 1);
}

void
metrics_audit_stage(size_t used, size_t capacity)
{
	atomic_store_explicit(&stage_used, used, memory_order_relaxed);
	atomic_store_explicit(&stage_capacity, capacity, memory_order_relaxed);
}

void
metrics_config_loaded(const struct conf *conf, bool is_reload)
{
	struct timespec now;

	for (size_t i = 0; i < conf->n_listeners; i++)
		(void) find_slot(conf->listeners[i].label);
	(void) find_slot(conf->fallback.label);
	(void) clock_gettime(CLOCK_REALTIME, &now);
	atomic_store_explicit(&last_load_ms, (unsigned long long)now.tv_sec *
	    1000 + (unsigned long long)now.tv_nsec / 1000000,
	    memory_order_relaxed);
	if (is_reload)
		add(&reloads_ok, 1);
}

void
metrics_config_failed(void)
{
	add(&reloads_failed, 1);
}

int
metrics_format(struct strbuf *sb)
{
	size_t n = published();

	if (format_sessions(sb, n) == -1 || format_decisions(sb, n) == -1 ||
	    format_exposures(sb, n) == -1 || format_latency(sb) == -1 ||
	    format_audit(sb) == -1 || format_config(sb) == -1 ||
	    format_build(sb) == -1)
		return -1;
	return 0;
}

/* find_slot - the slot of label: a lock-free scan, else add_slot. */
static struct slot *
find_slot(const char *label)
{
	size_t n = atomic_load_explicit(&n_slots, memory_order_acquire);

	if (label == NULL)
		label = METRICS_OTHER_LABEL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(slots[i].label, label) == 0)
			return &slots[i];
	return add_slot(label);
}

/* add_slot - publish a slot for label, or "_other" when full or too long. */
static struct slot *
add_slot(const char *label)
{
	struct slot *s = &slots[METRICS_LISTENERS_MAX];
	size_t n, len = strlen(label);

	if (len > METRICS_LABEL_MAX || strcmp(label, METRICS_OTHER_LABEL) == 0)
		return s;
	(void) pthread_mutex_lock(&slots_lock);
	n = atomic_load_explicit(&n_slots, memory_order_relaxed);
	for (size_t i = 0; i < n; i++)
		if (strcmp(slots[i].label, label) == 0) {
			s = &slots[i];	/* another thread added it meanwhile */
			goto out;
		}
	if (n < METRICS_LISTENERS_MAX) {
		s = &slots[n];
		(void) memcpy(s->label, label, len + 1);
		atomic_store_explicit(&n_slots, n + 1, memory_order_release);
	}
out:
	(void) pthread_mutex_unlock(&slots_lock);
	return s;
}

/* add, get - relaxed atomic add and load. */
static void
add(counter *c, unsigned long long n)
{
	(void) atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static unsigned long long
get(counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* published - the slots to render: the published ones and "_other". */
static size_t
published(void)
{
	return atomic_load_explicit(&n_slots, memory_order_acquire) + 1;
}

/* slot_at - slot i of the n published(): the last one is "_other". */
static struct slot *
slot_at(size_t n, size_t i)
{
	return i + 1 < n ? &slots[i] : &slots[METRICS_LISTENERS_MAX];
}

/* put_head - the HELP and TYPE lines of a metric. */
static int
put_head(struct strbuf *sb, const char *name, const char *type,
    const char *help)
{
	return strbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

/*
 * put_label - name="value" with the exposition format's escapes
 * (backslash, double quote, newline), preceded by a comma unless first.
 */
static int
put_label(struct strbuf *sb, const char *name, const char *value,
    bool is_first)
{
	int rc = strbuf_printf(sb, "%s%s=\"", is_first ? "" : ",", name);

	for (; rc == 0 && *value != '\0'; value++) {
		if (*value == '\\' || *value == '"')
			rc = strbuf_putc(sb, '\\') || strbuf_putc(sb, *value);
		else if (*value == '\n')
			rc = strbuf_puts(sb, "\\n");
		else
			rc = strbuf_putc(sb, *value);
	}
	return rc == 0 ? strbuf_putc(sb, '"') : -1;
}

/* format_sessions - tlspolicy_sessions_total, counted label sets only. */
static int
format_sessions(struct strbuf *sb, size_t n)
{
	static const char name[] = "tlspolicy_sessions_total";
	unsigned long long c;
	int rc;

	rc = put_head(sb, name, "counter", "SMTP sessions ended, by listener,"
	    " TLS, TLS version and AUTH.");
	for (size_t i = 0; rc == 0 && i < n * N_VERSIONS * 2; i++) {
		struct slot *s = slot_at(n, i / (N_VERSIONS * 2));
		int v = (int)(i / 2 % N_VERSIONS), a = (int)(i % 2);

		if ((c = get(&s->sessions[v][a])) == 0)
			continue;
		rc = strbuf_printf(sb, "%s{", name) ||
		    put_label(sb, "listener", s->label, true) ||
		    put_label(sb, "tls", v == TLS_VERSION_NONE ? "no" : "yes",
		    false) ||
		    put_label(sb, "tls_version", tlsinfo_version_name(v),
		    false) ||
		    put_label(sb, "auth", a ? "yes" : "no", false) ||
		    strbuf_printf(sb, "} %llu\n", c);
	}
	return rc == 0 ? 0 : -1;
}

/* format_decisions - tlspolicy_decisions_total, counted label sets only. */
static int
format_decisions(struct strbuf *sb, size_t n)
{
	static const char name[] = "tlspolicy_decisions_total";
	unsigned long long c;
	int rc;

	rc = put_head(sb, name, "counter", "MAIL FROM decisions, by listener,"
	    " deciding rule (none: no rule failed) and outcome.");
	for (size_t i = 0; rc == 0 && i < n * N_RULES * N_OUTCOMES; i++) {
		struct slot *s = slot_at(n, i / (N_RULES * N_OUTCOMES));
		int r = (int)(i / N_OUTCOMES % N_RULES);
		int o = (int)(i % N_OUTCOMES);

		if ((c = get(&s->decisions[r][o])) == 0)
			continue;
		rc = strbuf_printf(sb, "%s{", name) ||
		    put_label(sb, "listener", s->label, true) ||
		    put_label(sb, "rule", policy_rule_name(r), false) ||
		    put_label(sb, "outcome", policy_outcome_name(o), false) ||
		    strbuf_printf(sb, "} %llu\n", c);
	}
	return rc == 0 ? 0 : -1;
}

/* format_exposures - every known listener, zero included. */
static int
format_exposures(struct strbuf *sb, size_t n)
{
	static const char name[] = "tlspolicy_credential_exposures_total";
	unsigned long long c;
	int rc;

	rc = put_head(sb, name, "counter", "Decisions on sessions that sent"
	    " AUTH credentials over plaintext, by listener.");
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct slot *s = slot_at(n, i);

		if ((c = get(&s->exposures)) == 0 && i + 1 == n)
			continue;	/* "_other", unused */
		rc = strbuf_printf(sb, "%s{", name) ||
		    put_label(sb, "listener", s->label, true) ||
		    strbuf_printf(sb, "} %llu\n", c);
	}
	return rc == 0 ? 0 : -1;
}

/* format_latency - the histogram, cumulative buckets. */
static int
format_latency(struct strbuf *sb)
{
	static const char name[] = "tlspolicy_decision_duration_seconds";
	unsigned long long total = 0, sum = get(&latency_sum_ns);
	int rc;

	rc = put_head(sb, name, "histogram", "Time from the MAIL callback's"
	    " entry to its reply.");
	for (size_t b = 0; rc == 0 && b <= N_BUCKETS; b++) {
		total += get(&latency[b]);
		rc = strbuf_printf(sb, "%s_bucket{le=\"%s\"} %llu\n", name,
		    b < N_BUCKETS ? bucket_le[b] : "+Inf", total);
	}
	if (rc == 0)
		rc = strbuf_printf(sb, "%s_sum %llu.%09llu\n%s_count %llu\n",
		    name, sum / 1000000000, sum % 1000000000, name, total);
	return rc;
}

/* format_audit - records, bytes, failures, the stage. */
static int
format_audit(struct strbuf *sb)
{
	static const struct {
		const char	*name, *type, *help;
		counter		*c;
	} m[] = {
		{ "tlspolicy_audit_records_staged_total", "counter",
		    "Audit records chained and staged.", &audit_staged },
		{ "tlspolicy_audit_staged_bytes_total", "counter",
		    "Bytes of audit records staged.", &audit_staged_bytes },
		{ "tlspolicy_audit_records_written_total", "counter",
		    "Audit records written to the audit log.", &audit_written },
		{ "tlspolicy_audit_written_bytes_total", "counter",
		    "Bytes written to the audit log.", &audit_written_bytes },
		{ "tlspolicy_audit_write_failures_total", "counter",
		    "Failed writes of the audit log.", &audit_failed },
		{ "tlspolicy_audit_stage_used_bytes", "gauge",
		    "Bytes staged and not yet written to the audit log.",
		    &stage_used },
		{ "tlspolicy_audit_stage_capacity_bytes", "gauge",
		    "Size of the stage's ring (0: no audit log).",
		    &stage_capacity },
	};
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(m) / sizeof(m[0]); i++)
		rc = put_head(sb, m[i].name, m[i].type, m[i].help) ||
		    strbuf_printf(sb, "%s %llu\n", m[i].name, get(m[i].c));
	return rc == 0 ? 0 : -1;
}

/* format_config - reloads, the last good load, missing macros. */
static int
format_config(struct strbuf *sb)
{
	static const char reloads[] = "tlspolicy_config_reloads_total";
	static const char last[] =
	    "tlspolicy_config_last_reload_success_timestamp_seconds";
	static const char miss[] = "tlspolicy_missing_macro_total";
	unsigned long long ms = get(&last_load_ms), c;
	int rc;

	rc = put_head(sb, reloads, "counter", "Configuration reloads (SIGHUP),"
	    " by result.") ||
	    strbuf_printf(sb, "%s{result=\"ok\"} %llu\n%s{result=\"failed\"}"
	    " %llu\n", reloads, get(&reloads_ok), reloads, get(&reloads_failed)) ||
	    put_head(sb, last, "gauge", "When the configuration in force was"
	    " loaded (start or reload), seconds since the epoch.") ||
	    strbuf_printf(sb, "%s %llu.%03llu\n", last, ms / 1000, ms % 1000) ||
	    put_head(sb, miss, "counter", "Decisions made without a macro the"
	    " policy needs, by macro.");
	for (int id = 0; rc == 0 && id < FACT_COUNT; id++) {
		if ((c = get(&missing[id])) == 0)
			continue;
		rc = strbuf_printf(sb, "%s{", miss) ||
		    put_label(sb, "macro", facts_id_name(id), true) ||
		    strbuf_printf(sb, "} %llu\n", c);
	}
	return rc == 0 ? 0 : -1;
}

/* format_build - the info gauge: our version, OpenSSL's in use. */
static int
format_build(struct strbuf *sb)
{
	static const char name[] = "tlspolicy_build_info";
#ifdef OPENSSL_VERSION_STRING
	const char *ossl = OpenSSL_version(OPENSSL_VERSION_STRING);
#else
	const char *ossl = OPENSSL_VERSION_TEXT;
#endif

	return put_head(sb, name, "gauge", "Version of tlspolicy-milter and of"
	    " the OpenSSL library in use; always 1.") ||
	    strbuf_printf(sb, "%s{", name) ||
	    put_label(sb, "version", PACKAGE_VERSION, true) ||
	    put_label(sb, "openssl_version", ossl, false) ||
	    strbuf_puts(sb, "} 1\n") ? -1 : 0;
}
