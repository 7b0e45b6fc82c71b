/*
 * NAME
 *	callbacks - the libmilter callbacks: macros -> facts -> decide -> reply
 *
 * SYNOPSIS
 *	#include "callbacks.h"
 *
 * DESCRIPTION
 *	Each callback turns the MTA's macros into facts, calls the core and
 *	turns the verdict into a milter reply.  Nothing else lives here.
 *
 *	negotiate  asks only for connect, HELO and MAIL (no RCPT, DATA,
 *	           headers, EOH, body or unknown commands), with no reply
 *	           expected at connect and HELO (the milter never refuses
 *	           there: a Postfix reject at connect or HELO would stick for
 *	           the whole session and refuse STARTTLS too), and requests
 *	           the macros it needs per stage with smfi_setsymlist.
 *	connect    creates the session (which takes a reference to the
 *	           current config) and reads listener and client facts.
 *	helo       refreshes TLS facts (the MTA re-runs HELO after STARTTLS)
 *	           and notes AUTH already present at the first TLS HELO
 *	           (Sendmail keeps a plaintext AUTH across STARTTLS).
 *	envfrom    refreshes TLS facts, reads AUTH facts and the queue id,
 *	           decides, records and replies.  Accepted transactions get
 *	           SMFIS_ACCEPT so the MTA skips the milter for the rest of
 *	           the message.  The record's buffer is freed once staged
 *	           and the facts are compacted (session_trim): the session
 *	           waits through the message with what it still needs.
 *	close      writes the session record (every session, also one that
 *	           never sent MAIL) and frees the session; at the stop,
 *	           callbacks_close_open_sessions() writes it for the sessions
 *	           the MTA left open.
 *
 *	All session state hangs off smfi_setpriv: one session's callbacks
 *	may run on different libmilter worker threads, one at a time, each
 *	holding the session's mutex (the stop, which writes the records of
 *	sessions still open, takes it too).
 *	Globals here are read-only after start-up, except the once-only
 *	warning flags, which are atomics.
 *
 * DIAGNOSTICS
 *	Internal failure (no session, allocation failure) answers MAIL with
 *	the configured failure-action, a decision record that cannot be
 *	written (disk full, file gone read-only) with audit-failure-action
 *	(both tempfail by default), never with an accept; either is logged
 *	at error level, the record failure with the file and errno.  A macro the
 *	policy needs but the MTA did not send is logged once per process at
 *	warning level with the line the admin must add.
 *
 * SEE ALSO
 *	facts.c, policy.c, conf.c, audit.c, session.c; smfi_setsymlist(3)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "audit.h"
#include "auditsink.h"
#include "callbacks.h"
#include "conf.h"
#include "facts.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "policyrec.h"
#include "session.h"
#include "strbuf.h"

/* Macros requested per stage (smfi_setsymlist). */
#define MACROS_CONNECT \
	"j _ v {daemon_name} {daemon_addr} {daemon_port} {if_addr} " \
	"{client_addr} {client_port}"
#define MACROS_TLS \
	"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} " \
	"{verify}"
#define MACROS_AUTH	"{auth_type} {auth_authen} {auth_ssf}"
#define MACROS_HELO	MACROS_TLS " " MACROS_AUTH
#define MACROS_ENVFROM	"i " MACROS_TLS " " MACROS_AUTH

/* libmilter takes char *, so the strings it is given live in arrays. */
static char	filter_name[] = PACKAGE_NAME;
static char	macros_connect[] = MACROS_CONNECT;
static char	macros_helo[] = MACROS_HELO;
static char	macros_envfrom[] = MACROS_ENVFROM;

/* The envelope sender as record-sender keeps it (NULL: not recorded). */
struct sender {
	const char	*address;
	const char	*domain;
	char		 text[FACTS_VALUE_MAX + 1];
	char		 lower[FACTS_VALUE_MAX + 1];	/* the domain */
};

static struct audit_sink *_Atomic audit_sink;	/* a reload may set it */
static atomic_flag		 warned_port = ATOMIC_FLAG_INIT;

static sfsistat	cb_negotiate(SMFICTX *, unsigned long, unsigned long,
		    unsigned long, unsigned long, unsigned long *,
		    unsigned long *, unsigned long *, unsigned long *);
static sfsistat	cb_connect(SMFICTX *, char *, _SOCK_ADDR *);
static sfsistat	cb_helo(SMFICTX *, char *);
static sfsistat	cb_envfrom(SMFICTX *, char **);
static sfsistat	cb_close(SMFICTX *);
static sfsistat	held_connect(SMFICTX *, char *, _SOCK_ADDR *);
static sfsistat	held_helo(SMFICTX *, char *);
static sfsistat	held_envfrom(SMFICTX *, char **);
static const char *lookup_macro(void *, const char *);
static int	set_client_from_sockaddr(struct facts *, const _SOCK_ADDR *);
static sfsistat	fail(SMFICTX *, const struct session *, const char *, bool);
static sfsistat	act(SMFICTX *, const struct policy_verdict *);
static void	set_reply(SMFICTX *, unsigned, const char *, const char *);
static int	record(struct session *, const struct conf_listener *,
		    const struct policy_verdict *, const struct sender *);
static int	set_helo(struct session *, const char *);
static void	sender_of(unsigned, const char *, struct sender *);
static int	write_audit(const char *, struct strbuf *, bool);
static void	record_session(struct session *, bool);
static void	close_at_stop(struct session *, void *);
static enum log_level decision_level(const struct policy_verdict *);
static int	record_kv(const void *, struct strbuf *);
static int	session_kv(const void *, struct strbuf *);
static void	warn_missing_port(const struct session *);
static long long since_ns(const struct timespec *);

static struct smfiDesc desc = {
	.xxfi_name = filter_name,
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_SETSYMLIST,
	.xxfi_connect = held_connect,
	.xxfi_helo = held_helo,
	.xxfi_envfrom = held_envfrom,
	.xxfi_close = cb_close,
	.xxfi_negotiate = cb_negotiate,
};

bool
callbacks_listen(const char *socket)
{
	/* smfi_setconn copies the spec; its prototype only lacks const */
	return smfi_setconn((char *)socket) == MI_SUCCESS &&
	    smfi_register(desc) == MI_SUCCESS &&
	    smfi_opensocket(false) == MI_SUCCESS;
}

bool
callbacks_main(void)
{
	return smfi_main() == MI_SUCCESS;
}

void
callbacks_stop(void)
{
	(void) smfi_stop();
}

void
callbacks_set_sink(struct audit_sink *sink)
{
	audit_sink = sink;
}

/* cb_negotiate - ask for the fewest steps and the macros we need. */
static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long skip = SMFIP_NORCPT | SMFIP_NOHDRS |
	    SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA |
	    SMFIP_NR_CONN | SMFIP_NR_HELO;
	struct session *s;

	(void) f2;
	(void) f3;
	if ((s = session_new()) == NULL || s->conf == NULL) {
		log_msg(LOG_LEVEL_ERROR, "negotiate: cannot create a session");
		session_free(&s);
		/* replies everywhere, so MAIL can answer the failure action */
		*pf0 = *pf2 = *pf3 = 0;
		*pf1 = f1 & skip & ~(SMFIP_NR_CONN | SMFIP_NR_HELO);
		return SMFIS_CONTINUE;
	}
	session_lock(s);	/* the stop may see it from now on */
	(void) smfi_setpriv(ctx, s);
	(void) clock_gettime(CLOCK_REALTIME, &s->started);
	*pf0 = 0;
	*pf1 = f1 & skip;
	*pf2 = 0;
	*pf3 = 0;
	if (s->conf->request_macros && (f0 & SMFIF_SETSYMLIST) != 0) {
		*pf0 = SMFIF_SETSYMLIST;
		if (smfi_setsymlist(ctx, SMFIM_CONNECT, macros_connect) !=
		    MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_HELO, macros_helo) != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVFROM, macros_envfrom) !=
		    MI_SUCCESS)
			log_msg(LOG_LEVEL_WARNING, "%s: smfi_setsymlist failed;"
			    " the MTA's own macro lists apply", s->id);
	}
	s->has_noreply = (f1 & SMFIP_NR_CONN) != 0;
	session_unlock(s);
	return SMFIS_CONTINUE;
}

/*
 * held_connect, held_helo, held_envfrom - the callback with the session
 * held (session_lock), so the stop never reads a session being changed.
 */
static sfsistat
held_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct session *s = smfi_getpriv(ctx);
	sfsistat r;

	session_lock(s);
	r = cb_connect(ctx, hostname, hostaddr);
	session_unlock(s);
	return r;
}

static sfsistat
held_helo(SMFICTX *ctx, char *helohost)
{
	struct session *s = smfi_getpriv(ctx);
	sfsistat r;

	session_lock(s);
	r = cb_helo(ctx, helohost);
	session_unlock(s);
	return r;
}

static sfsistat
held_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = smfi_getpriv(ctx);
	sfsistat r;

	session_lock(s);
	r = cb_envfrom(ctx, argv);
	session_unlock(s);
	return r;
}

/* cb_connect - listener and client facts. */
static sfsistat
cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct session *s = smfi_getpriv(ctx);
	sfsistat next;

	(void) hostname;
	if (s == NULL) {
		/* negotiate failed or was skipped; MAIL applies the failure action */
		return SMFIS_CONTINUE;
	}
	next = s->has_noreply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
	if (facts_update(&s->facts, FACTS_GROUP_CONNECT, lookup_macro,
	    ctx) == -1 ||
	    set_client_from_sockaddr(&s->facts, hostaddr) == -1)
		s->has_failed = true;
	log_msg(LOG_LEVEL_DEBUG, "%s: connect", s->id);
	return next;
}

/* cb_helo - refresh TLS facts; notice AUTH carried into the first TLS HELO. */
static sfsistat
cb_helo(SMFICTX *ctx, char *helohost)
{
	struct session *s = smfi_getpriv(ctx);
	bool was_tls;

	if (s == NULL)
		return SMFIS_CONTINUE;
	was_tls = facts_is_tls(&s->facts);
	s->n_helo++;
	if (set_helo(s, helohost) == -1)
		s->has_failed = true;
	if (facts_update(&s->facts, FACTS_GROUP_TLS, lookup_macro, ctx) == -1 ||
	    facts_update(&s->facts, FACTS_GROUP_AUTH, lookup_macro, ctx) == -1)
		s->has_failed = true;
	facts_greeted(&s->facts, was_tls);
	return s->has_noreply ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* cb_envfrom - decide the transaction. */
static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct session *s = smfi_getpriv(ctx);
	const struct conf_listener *listener;
	struct policy_verdict verdict;
	struct sender sender;
	bool port_missing = false, is_recorded;
	struct timespec t0;

	(void) clock_gettime(CLOCK_MONOTONIC, &t0);
	if (s == NULL || s->conf == NULL)
		return fail(ctx, s, "no session state", false);
	if (s->has_failed)
		return fail(ctx, s, "session state incomplete (out of memory)",
		    false);
	if (facts_update(&s->facts, FACTS_GROUP_TLS, lookup_macro, ctx) == -1 ||
	    facts_update(&s->facts, FACTS_GROUP_AUTH, lookup_macro, ctx) == -1 ||
	    facts_update(&s->facts, FACTS_GROUP_QUEUE, lookup_macro, ctx) == -1)
		return fail(ctx, s, "out of memory reading macros", false);
	listener = listener_match(s->conf, &s->facts, &port_missing);
	if (port_missing) {
		warn_missing_port(s);
		metrics_missing_macro(FACT_DAEMON_PORT);
	}
	policy_decide(&listener->rules, &s->facts, &verdict);
	s->n_mail++;
	sender_of(s->conf->record_sender, argv != NULL ? argv[0] : NULL,
	    &sender);
	is_recorded = record(s, listener, &verdict, &sender) == 0;
	session_trim(s);	/* the session waits: message, or next MAIL */
	if (!is_recorded && verdict.outcome != POLICY_OUTCOME_REJECT)
		return fail(ctx, s, "decision record not written", true);
	metrics_decision(listener->label, verdict.rule, verdict.outcome,
	    verdict.is_exposure, since_ns(&t0));
	return act(ctx, &verdict);
}

/* cb_close - end of the SMTP session. */
static sfsistat
cb_close(SMFICTX *ctx)
{
	struct session *s = smfi_getpriv(ctx);

	if (s != NULL) {
		session_lock(s);
		log_msg(LOG_LEVEL_DEBUG, "%s: close after %u HELO, %u MAIL",
		    s->id, s->n_helo, s->n_mail);
		if (session_claim_close(s))	/* else the stop wrote it */
			record_session(s, false);
		session_unlock(s);	/* before session_free (lock order) */
		(void) smfi_setpriv(ctx, NULL);
		session_free(&s);
	}
	return SMFIS_CONTINUE;
}

/*
 * set_helo - keep the HELO/EHLO name (the last one counts); a name longer
 * than FACTS_VALUE_MAX bytes is not kept.  0, or -1 (no memory).
 */
static int
set_helo(struct session *s, const char *name)
{
	char *copy = NULL;

	if (name != NULL && *name != '\0' &&
	    strlen(name) <= FACTS_VALUE_MAX && (copy = strdup(name)) == NULL)
		return -1;
	free(s->helo);
	s->helo = copy;
	return 0;
}

/*
 * sender_of - the envelope sender (MAIL FROM's first argument, angle
 * brackets removed) as record-sender keeps it: none, its domain (after
 * the last '@', lower case; "" for the null sender or a bare local part)
 * or the address and its domain.  A sender longer than FACTS_VALUE_MAX
 * bytes is not kept.
 */
static void
sender_of(unsigned mode, const char *arg, struct sender *out)
{
	size_t len, n;
	const char *at;

	out->address = out->domain = NULL;
	if (mode == CONF_SENDER_NONE || arg == NULL)
		return;
	len = strlen(arg);
	if (len >= 2 && arg[0] == '<' && arg[len - 1] == '>') {
		arg++;
		len -= 2;
	}
	if (len > FACTS_VALUE_MAX)
		return;
	(void) memcpy(out->text, arg, len);
	out->text[len] = '\0';
	at = strrchr(out->text, '@');
	for (n = 0; at != NULL && at[n + 1] != '\0'; n++)
		out->lower[n] = (char)(at[n + 1] >= 'A' && at[n + 1] <= 'Z' ?
		    at[n + 1] - 'A' + 'a' : at[n + 1]);
	out->lower[n] = '\0';
	out->domain = out->lower;
	if (mode == CONF_SENDER_ADDRESS)
		out->address = out->text;
}

/* lookup_macro - facts_lookup_fn over smfi_getsymval. */
static const char *
lookup_macro(void *ctx, const char *name)
{
	return smfi_getsymval(ctx, (char *)name);
}

/* set_client_from_sockaddr - client address/port when the macros are absent. */
static int
set_client_from_sockaddr(struct facts *f, const _SOCK_ADDR *sa)
{
	char addr[INET6_ADDRSTRLEN], port[8];
	const void *bytes;
	unsigned p;

	if (sa == NULL || (f->f[FACT_CLIENT_ADDR].state != FACT_ABSENT &&
	    f->f[FACT_CLIENT_PORT].state != FACT_ABSENT))
		return 0;	/* the macros said it all */
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		bytes = &in->sin_addr;
		p = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		bytes = &in6->sin6_addr;
		p = ntohs(in6->sin6_port);
	} else
		return 0;
	if (inet_ntop(sa->sa_family, bytes, addr, sizeof(addr)) == NULL)
		return 0;
	(void) snprintf(port, sizeof(port), "%u", p);
	if (f->f[FACT_CLIENT_ADDR].state == FACT_ABSENT &&
	    facts_set(f, FACT_CLIENT_ADDR, addr) == -1)
		return -1;
	if (f->f[FACT_CLIENT_PORT].state == FACT_ABSENT && p != 0 &&
	    facts_set(f, FACT_CLIENT_PORT, port) == -1)
		return -1;
	return 0;
}

/*
 * fail - answer MAIL with the failure action (audit-failure-action when
 * is_audit: the record was not written); never accept.
 */
static sfsistat
fail(SMFICTX *ctx, const struct session *s, const char *why, bool is_audit)
{
	bool reject = s != NULL && s->conf != NULL && (is_audit ?
	    s->conf->audit_failure_action : s->conf->failure_action) ==
	    POLICY_ACTION_REJECT;

	log_msg(LOG_LEVEL_ERROR, "%s: internal failure: %s; answering %s",
	    s != NULL ? s->id : "-", why, reject ? "reject" : "tempfail");
	if (reject) {
		set_reply(ctx, 550, "5.3.0",
		    "Policy check failed (internal error)");
		return SMFIS_REJECT;
	}
	set_reply(ctx, 451, "4.3.0",
	    "Policy check failed temporarily, try again later");
	return SMFIS_TEMPFAIL;
}

/* act - the verdict as a milter reply. */
static sfsistat
act(SMFICTX *ctx, const struct policy_verdict *v)
{
	if (v->outcome != POLICY_OUTCOME_REJECT &&
	    v->outcome != POLICY_OUTCOME_TEMPFAIL)
		return SMFIS_ACCEPT;
	set_reply(ctx, v->reply.code, v->reply.xcode, v->reply.text);
	return v->outcome == POLICY_OUTCOME_REJECT ? SMFIS_REJECT :
	    SMFIS_TEMPFAIL;
}

/* set_reply - smfi_setreply with writable copies and '%' doubled. */
static void
set_reply(SMFICTX *ctx, unsigned code, const char *xcode, const char *text)
{
	char rcode[8], xc[16], msg[2 * POLICY_TEXT_MAX];
	size_t n = 0;

	(void) snprintf(rcode, sizeof(rcode), "%u", code);
	(void) snprintf(xc, sizeof(xc), "%s", xcode);
	for (; *text != '\0' && n + 2 < sizeof(msg); text++) {
		if (*text == '%')	/* a lone % makes libmilter drop the text */
			msg[n++] = '%';
		msg[n++] = *text;
	}
	msg[n] = '\0';
	if (smfi_setreply(ctx, rcode, xc, msg) != MI_SUCCESS)
		log_msg(LOG_LEVEL_ERROR, "smfi_setreply(%s %s) failed; the MTA"
		    " sends its default reply", rcode, xc);
}

/* record - the syslog line and, when configured, the JSON line. */
static int
record(struct session *s, const struct conf_listener *l,
    const struct policy_verdict *v, const struct sender *sender)
{
	struct audit_record r = {
		.session_id = s->id,
		.listener = l->label,
		.facts = &s->facts,
		.verdict = v,
		.helo = s->helo,
		.sender = sender->address,
		.sender_domain = sender->domain,
		.policy = s->conf->fingerprint[0] != '\0' ?
		    s->conf->fingerprint : NULL,
	};
	struct strbuf sb;
	int rc = 0;

	(void) clock_gettime(CLOCK_REALTIME, &r.time);
	r.action = v->action;	/* decided by policy_decide, not here */
	r.is_report_mode = r.action == POLICY_ACTION_REPORT;
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	if (log_lazy(decision_level(v), s->id, record_kv, &r, &sb) == -1) {
		log_errno(LOG_LEVEL_ERROR, "%s: cannot format record", s->id);
		rc = -1;
	}
	if (audit_sink != NULL) {
		strbuf_reset(&sb);
		if (audit_format_json_open(&r, &sb) == -1 ||
		    write_audit(s->id, &sb, v->outcome ==
		    POLICY_OUTCOME_REJECT) == -1)
			rc = -1;
	}
	strbuf_free(&sb);	/* staged: the session waits without it */
	return rc;
}

/*
 * write_audit - chain and write an open JSON record; loud on failure.  A
 * reject needs no record before its reply: queued, it waits in the stage
 * while writes fail, and reaches the log once they work again.
 */
static int
write_audit(const char *id, struct strbuf *sb, bool is_reject)
{
	if ((is_reject ? audit_sink_queue_chained(audit_sink, sb) :
	    audit_sink_write_chained(audit_sink, sb)) == 0)
		return 0;
	log_errno(LOG_LEVEL_ERROR, "%s: audit record NOT WRITTEN to %s", id,
	    audit_sink_path(audit_sink));
	return -1;
}

/*
 * record_session - the session record at close (or at the stop, for a
 * session still open: is_shutdown): syslog and audit file.
 */
static void
record_session(struct session *s, bool is_shutdown)
{
	struct audit_session as = {
		.started = s->started,
		.session_id = s->id,
		.listener = "default",
		.facts = &s->facts,
		.helo = s->helo,
		.n_helo = s->n_helo,
		.n_mail = s->n_mail,
		.is_shutdown = is_shutdown,
	};
	struct strbuf sb;
	bool port_missing;

	(void) clock_gettime(CLOCK_REALTIME, &as.time);
	if (s->conf != NULL)
		as.listener = listener_match(s->conf, &s->facts,
		    &port_missing)->label;
	metrics_session(as.listener, s->facts.tls_version,
	    facts_has_auth(&s->facts));
	strbuf_init(&sb, AUDIT_RECORD_MAX);
	if (log_lazy(LOG_LEVEL_INFO, s->id, session_kv, &as, &sb) == -1)
		log_errno(LOG_LEVEL_ERROR, "%s: cannot format session record",
		    s->id);
	strbuf_reset(&sb);
	/* no reply waits on it: queued, written with the next record */
	if (audit_sink != NULL && (audit_format_session_open(&as, &sb) == -1 ||
	    audit_sink_queue_chained(audit_sink, &sb) == -1))
		log_errno(LOG_LEVEL_ERROR, "%s: session record NOT WRITTEN to %s",
		    s->id, audit_sink_path(audit_sink));
	strbuf_free(&sb);
}

void
callbacks_record_policy(struct conf *conf, const struct conf_overrides *ov,
    const char *event)
{
	struct audit_policy p = { .event = event };
	struct audit_sink *sink;
	struct strbuf sb;
	char *text;

	if ((text = policyrec_set(conf, ov, &p.size)) == NULL) {
		log_errno(LOG_LEVEL_ERROR, "%s: cannot take the policy's"
		    " fingerprint; its decisions name none", event);
		return;
	}
	log_msg(LOG_LEVEL_INFO, "policy %s: fingerprint %s", event,
	    conf->fingerprint);
	if ((sink = audit_sink) != NULL) {
		(void) clock_gettime(CLOCK_REALTIME, &p.time);
		p.fingerprint = conf->fingerprint;
		p.text = text;
		strbuf_init(&sb, AUDIT_RECORD_MAX);
		if (audit_format_policy_open(&p, &sb) == -1 ||
		    audit_sink_queue_chained(sink, &sb) == -1)
			log_errno(LOG_LEVEL_ERROR, "policy record NOT WRITTEN"
			    " to %s", audit_sink_path(sink));
		strbuf_free(&sb);
	}
	free(text);
}

void
callbacks_close_open_sessions(void)
{
	session_foreach_open(close_at_stop, NULL);
}

/* close_at_stop - the session record of a session the MTA left open. */
static void
close_at_stop(struct session *s, void *arg)
{
	(void) arg;
	if (session_claim_close(s))
		record_session(s, true);
}

/*
 * decision_level - the syslog priority of a decision line: a credential
 * exposure is a security event (warning), a refusal or would-refuse is
 * notice, an accept is info, so admins can route them by priority.
 */
static enum log_level
decision_level(const struct policy_verdict *v)
{
	if (v->is_exposure)
		return LOG_LEVEL_WARNING;
	return v->outcome == POLICY_OUTCOME_ACCEPT ? LOG_LEVEL_INFO :
	    LOG_LEVEL_NOTICE;
}

/* record_kv, session_kv - the key=value texts, for log_lazy(). */
static int
record_kv(const void *r, struct strbuf *sb)
{
	return audit_format_kv(r, sb);
}

static int
session_kv(const void *as, struct strbuf *sb)
{
	return audit_format_session_kv(as, sb);
}

/* warn_missing_port - once per process: which macro, which line to add. */
static void
warn_missing_port(const struct session *s)
{
	const struct fact *v = &s->facts.f[FACT_MTA_VERSION];
	bool is_postfix = v->text != NULL && strncmp(v->text, "Postfix", 7) == 0;

	if (atomic_flag_test_and_set(&warned_port))
		return;
	log_msg(LOG_LEVEL_WARNING, "%s: the MTA sent no {daemon_port} at"
	    " connect, so listeners cannot be matched by port and the"
	    " [default] policy applies; %s%s%s", s->id,
	    is_postfix ? "" : "Sendmail: add to the .mc file: "
	    "define(`confMILTER_MACROS_CONNECT', `j, _, {daemon_name}, "
	    "{daemon_addr}, {daemon_port}, {client_addr}, {client_port}')dnl",
	    is_postfix ? "" : "; ",
	    "Postfix: set in main.cf: milter_connect_macros = j {daemon_name}"
	    " {daemon_addr} {daemon_port} {client_addr} {client_port} v _");
}

/* since_ns - nanoseconds from t0 (CLOCK_MONOTONIC) to now. */
static long long
since_ns(const struct timespec *t0)
{
	struct timespec now;

	(void) clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000000000LL +
	    (now.tv_nsec - t0->tv_nsec);
}
