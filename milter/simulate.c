/*
 * NAME
 *	simulate - tlspolicy-milter --simulate: replay recorded decisions
 *
 * SYNOPSIS
 *	#include "simulate.h"
 *
 *	tlspolicy-milter --simulate [-c NEW.conf] [--json] FILE...
 *
 * DESCRIPTION
 *	Orders the files by their chain (verifytool_order: any order, gzip
 *	too; no key needed, hashes are the verifier's business) and reads
 *	them line by line.  A "policy" record whose text has its
 *	fingerprint is remembered (without -c: read back into a config
 *	with policyrec_load); a decision record ("decision" or
 *	"credential-exposure") is replayed:
 *
 *	  facts    every fact the record carries, through facts_set() as
 *	           the milter read the macro (malformed values come back
 *	           malformed; facts_problem's "value of N bytes" marks a
 *	           fact oversize), and auth_before_tls;
 *	  config   -c NEW.conf, else the policy its "policy" fingerprint
 *	           names (a policy record earlier in the files);
 *	  decide   listener_match() and policy_decide(), as cb_envfrom does.
 *
 *	The replayed rule and outcome are compared with the recorded ones.
 *	A decision that lacks what the replay needs (no fingerprint and no
 *	-c, a fingerprint with no policy record before it, AUTH without
 *	auth_before_tls, no recorded rule or outcome) is not guessed: it is
 *	reported "FILE:LINE: cannot replay: FACT missing" and counted.
 *
 *	Per listener (the one the replay matched): decisions replayed,
 *	unchanged (same rule and outcome), newly refused (reject or
 *	tempfail now, accept or would-reject before; counted by rule),
 *	newly accepted (the reverse), newly would-reject, and other
 *	changes (another rule, or reject <-> tempfail).  For the newly
 *	refused: the clients (address and HELO name), users and sender
 *	domains with counts and first and last time.
 *
 *	Memory is flat in the log's size: one line, one record's facts and
 *	bounded tables.  Bounds: SIM_LISTENERS_MAX listener labels, each
 *	with three tables (clients, users, sender domains) of at most
 *	SIM_TABLE_MAX entries (a key is at most two values of
 *	FACTS_VALUE_MAX bytes); refusals of keys beyond a full table are
 *	counted as "untracked".  SIM_POLICIES_MAX distinct policies.
 *
 * DIAGNOSTICS
 *	File problems as "FILE:LINE: why" on stdout (exit 1); lines that
 *	are not records as "FILE:LINE: warning: ..." on stderr (skipped);
 *	a bad -c file on stderr (EX_CONFIG).
 *
 * SEE ALSO
 *	verifytool.c, auditfields.c, auditchain.c, policyrec.c, conf.c,
 *	policy.c; tlspolicy-milter(8) REPLAY
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "audit.h"
#include "auditchain.h"
#include "auditfields.h"
#include "conf.h"
#include "facts.h"
#include "listener.h"
#include "policy.h"
#include "policyrec.h"
#include "simulate.h"
#include "strbuf.h"
#include "tlsinfo.h"
#include "verifytool.h"

#define SIM_LISTENERS_MAX	256	/* listener labels tracked */
#define SIM_TABLE_MAX		4096	/* entries per table */
#define SIM_POLICIES_MAX	4096	/* distinct policies */
#define SIM_REASONS_MAX		16	/* kinds of "cannot replay" */
#define SIM_EXAMPLES_MAX	100	/* cannot-replay lines kept for JSON */
#define SIM_TEXT_SHOWN		20	/* table entries in the text output */
#define SIM_TIME_MAX		40

/* One key of a table: a client (address, HELO name), user or domain. */
struct tally {
	char		*key;		/* NULL: free slot */
	char		*key2;		/* the HELO name of a client, or NULL */
	unsigned long	 count;
	char		 first[SIM_TIME_MAX];
	char		 last[SIM_TIME_MAX];
};

struct table {
	struct tally	*slots;		/* 2 * SIM_TABLE_MAX, open addressing */
	size_t		 n;
	unsigned long	 untracked;	/* refusals of keys beyond SIM_TABLE_MAX */
};

struct lstats {
	char		*label;
	unsigned long	 replayed, unchanged, refused, accepted, would_reject,
			 other, moved;
	unsigned long	 by_rule[POLICY_RULE_COUNT + 1];
	struct table	 clients, users, domains;
};

struct policy_entry {
	char		 fp[AUDIT_HASH_HEX + 1];
	struct conf	*conf;		/* NULL: text not understood */
	char		 error[CONF_ERROR_MAX];
};

struct reason {
	char		 fact[64];
	unsigned long	 count;
};

struct example {
	const char	*path;
	unsigned long	 lineno;
	char		 fact[64];
};

struct sim {
	struct conf		*new_conf;	/* -c, or NULL */
	const char		*new_path;
	bool			 is_json;
	struct lstats		 ls[SIM_LISTENERS_MAX];
	size_t			 n_ls;
	unsigned long		 ls_untracked;	/* decisions beyond SIM_LISTENERS_MAX labels */
	struct policy_entry	*pol;
	size_t			 n_pol;
	size_t			 last_pol;
	unsigned long		 n_records, n_decisions, n_policies,
				 n_sessions, n_skipped, n_cannot;
	struct reason		 reasons[SIM_REASONS_MAX];
	size_t			 n_reasons;
	struct example		 ex[SIM_EXAMPLES_MAX];
	size_t			 n_ex;
	struct facts		 facts;
	struct auditfields	 af;
	const char		*path;
	unsigned long		 lineno;
};

static int	parse_args(int, char **, struct sim *, int *);
static int	read_file(struct sim *, const char *);
static void	one_line(struct sim *, const char *, size_t);
static void	policy_record(struct sim *);
static void	decision(struct sim *);
static int	rebuild_facts(struct sim *, const char **);
static const struct conf *conf_for(struct sim *, const char **);
static void	classify(struct sim *, const struct conf_listener *,
		    const struct policy_verdict *, const char *, const char *);
static void	cannot(struct sim *, const char *);
static const char *how(const char *);
static struct lstats *lstats_of(struct sim *, const char *);
static void	tally(struct table *, const char *, const char *,
		    const char *);
static bool	is_refused(const char *);
static void	print_text(struct sim *, int);
static void	print_json(struct sim *, int);
static void	json_str(const char *);
static void	json_table(const char *, const struct table *, const char *,
		    const char *);
static void	text_table(const char *, const struct table *);
static struct tally **sorted(const struct table *);
static int	by_count(const void *, const void *);
static void	free_sim(struct sim *);

int
simulate_main(int argc, char **argv)
{
	struct sim *sim;
	int *order = NULL, n_order = 0, first, rc;

	if ((sim = calloc(1, sizeof(*sim))) == NULL) {
		fprintf(stderr, "tlspolicy-milter: out of memory\n");
		return EX_OSERR;
	}
	if ((rc = parse_args(argc, argv, sim, &first)) != 0) {
		free_sim(sim);
		return rc;
	}
	(void) tlsinfo_cipher_init();	/* the cipher table decide() reads */
	facts_init(&sim->facts);
	auditfields_init(&sim->af);
	if ((order = calloc((size_t)(argc - first), sizeof(*order))) == NULL ||
	    verifytool_order(argv + first, argc - first, order, &n_order) == -1)
		rc = 1;
	for (int i = 0; rc == 0 && i < n_order; i++)
		rc = read_file(sim, argv[first + order[i]]);
	if (rc == 0) {
		if (sim->is_json)
			print_json(sim, n_order);
		else
			print_text(sim, n_order);
	}
	free(order);
	free_sim(sim);
	return rc;
}

/* parse_args - [-c NEW.conf] [--json] FILE...; 0, or the exit status. */
static int
parse_args(int argc, char **argv, struct sim *sim, int *first)
{
	struct conf_error err;
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			sim->is_json = true;
		else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc &&
		    sim->new_path == NULL)
			sim->new_path = argv[++i];
		else
			break;
	}
	if (i >= argc || argv[i][0] == '-') {
		fprintf(stderr, "usage: tlspolicy-milter --simulate"
		    " [-c new.conf] [--json] FILE...\n");
		return EX_USAGE;
	}
	if (sim->new_path != NULL &&
	    (sim->new_conf = conf_load(sim->new_path, &err)) == NULL) {
		fprintf(stderr, "tlspolicy-milter: %s\n", err.text);
		return EX_CONFIG;
	}
	*first = i;
	return 0;
}

/* read_file - every line of one file; 1 after FILE:0: why. */
static int
read_file(struct sim *sim, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *in;
	int rc = 0;

	if ((in = verifytool_open(path)) == NULL) {
		printf("%s:0: cannot open: %s\n", path, strerror(errno));
		return 1;
	}
	sim->path = path;
	sim->lineno = 0;
	while ((len = getline(&line, &cap, in)) > 0) {
		sim->lineno++;
		if (line[len - 1] == '\n')
			len--;
		one_line(sim, line, (size_t)len);
	}
	if (ferror(in)) {
		printf("%s:%lu: read error\n", path, sim->lineno + 1);
		rc = 1;
	}
	free(line);
	(void) fclose(in);
	return rc;
}

/* one_line - a chained record: policy, decision or other (counted). */
static void
one_line(struct sim *sim, const char *line, size_t len)
{
	struct auditchain_tail tail;
	const char *type;

	if (auditchain_parse(line, len, &tail) == -1 || !tail.has_open ||
	    auditfields_parse(&sim->af, line, len) == -1 ||
	    (type = auditfields_str(&sim->af, "type")) == NULL) {
		sim->n_skipped++;
		fprintf(stderr, "%s:%lu: warning: not an audit record;"
		    " skipped\n", sim->path, sim->lineno);
		return;
	}
	sim->n_records++;
	if (strcmp(type, "policy") == 0)
		policy_record(sim);
	else if (strcmp(type, "decision") == 0 ||
	    strcmp(type, "credential-exposure") == 0)
		decision(sim);
	else if (strcmp(type, "session") == 0)
		sim->n_sessions++;
}

/* policy_record - remember a policy whose text has its fingerprint. */
static void
policy_record(struct sim *sim)
{
	const struct auditfield *t = auditfields_get(&sim->af, "text");
	const char *fp = auditfields_str(&sim->af, "policy");
	char hex[AUDIT_HASH_HEX + 1];
	struct policy_entry *e = NULL;
	struct conf_error err;

	sim->n_policies++;
	if (fp == NULL || t == NULL || t->kind != AUDITFIELD_STRING ||
	    policyrec_fingerprint(t->value, t->len, hex) == -1 ||
	    strcmp(hex, fp) != 0) {
		fprintf(stderr, "%s:%lu: warning: policy record whose text does"
		    " not have its fingerprint; ignored\n", sim->path,
		    sim->lineno);
		return;
	}
	if (sim->new_conf != NULL)
		return;		/* -c decides; recorded policies are not read */
	for (size_t i = 0; i < sim->n_pol; i++)
		if (strcmp(sim->pol[i].fp, fp) == 0)
			return;
	if (sim->n_pol == SIM_POLICIES_MAX || (sim->n_pol % 16 == 0 &&
	    (e = realloc(sim->pol, (sim->n_pol + 16) * sizeof(*e))) == NULL)) {
		fprintf(stderr, "%s:%lu: warning: more than %d policies, or no"
		    " memory; this one is not kept\n", sim->path, sim->lineno,
		    SIM_POLICIES_MAX);
		return;
	}
	if (e != NULL)
		sim->pol = e;
	e = &sim->pol[sim->n_pol++];
	memset(e, 0, sizeof(*e));
	(void) memcpy(e->fp, fp, AUDIT_HASH_HEX);
	if ((e->conf = policyrec_load(t->value, t->len, &err)) == NULL)
		(void) snprintf(e->error, sizeof(e->error), "%s", err.text);
}

/* decision - replay one decision record and classify it. */
static void
decision(struct sim *sim)
{
	const struct conf_listener *l;
	const struct conf *conf;
	struct policy_verdict v;
	const char *rule, *outcome, *missing = NULL, *label;
	bool port_missing;

	sim->n_decisions++;
	rule = auditfields_str(&sim->af, "rule");
	outcome = auditfields_str(&sim->af, "outcome");
	if (rule == NULL || outcome == NULL) {
		cannot(sim, rule == NULL ? "rule" : "outcome");
		return;
	}
	if ((conf = conf_for(sim, &missing)) == NULL) {
		cannot(sim, missing);
		return;
	}
	if (rebuild_facts(sim, &missing) == -1) {
		cannot(sim, missing);
		return;
	}
	l = listener_match(conf, &sim->facts, &port_missing);
	policy_decide(&l->rules, &sim->facts, &v);
	classify(sim, l, &v, rule, outcome);
	label = auditfields_str(&sim->af, "listener");
	if (label != NULL && strcmp(label, l->label) != 0) {
		struct lstats *ls = lstats_of(sim, l->label);

		if (ls != NULL)
			ls->moved++;
	}
}

/*
 * conf_for - the config to decide with: -c, else the recorded policy.
 * NULL with *missing naming what is missing.
 */
static const struct conf *
conf_for(struct sim *sim, const char **missing)
{
	const char *fp;
	size_t i;

	if (sim->new_conf != NULL)
		return sim->new_conf;
	if ((fp = auditfields_str(&sim->af, "policy")) == NULL) {
		*missing = "policy";
		return NULL;
	}
	if (sim->last_pol < sim->n_pol &&
	    strcmp(sim->pol[sim->last_pol].fp, fp) == 0)
		i = sim->last_pol;
	else {
		for (i = 0; i < sim->n_pol; i++)
			if (strcmp(sim->pol[i].fp, fp) == 0)
				break;
	}
	if (i == sim->n_pol) {
		*missing = "policy record";
		return NULL;
	}
	sim->last_pol = i;
	if (sim->pol[i].conf == NULL) {
		*missing = "policy text";	/* not understood */
		return NULL;
	}
	return sim->pol[i].conf;
}

/*
 * rebuild_facts - the record's facts into sim->facts, as the milter read
 * them.  0, or -1 with *missing.
 */
static int
rebuild_facts(struct sim *sim, const char **missing)
{
	const struct auditfield *m;
	const char *problem, *p;
	size_t klen;
	int b;

	facts_clear(&sim->facts);
	for (enum fact_id id = 0; id < FACT_COUNT; id++) {
		m = auditfields_get(&sim->af, facts_id_name(id));
		if (m == NULL || (m->kind != AUDITFIELD_STRING &&
		    m->kind != AUDITFIELD_NUMBER))
			continue;
		if (facts_set(&sim->facts, id, m->value) == -1) {
			*missing = "memory";
			return -1;
		}
	}
	/* "name: value of N bytes exceeds M; ...": the fact was oversize */
	if ((problem = auditfields_str(&sim->af, "facts_problem")) != NULL) {
		for (enum fact_id id = 0; id < FACT_COUNT; id++) {
			klen = strlen(facts_id_name(id));
			for (p = problem; (p = strstr(p, facts_id_name(id))) !=
			    NULL; p += klen) {
				if ((p == problem || p[-1] == ' ') &&
				    strncmp(p + klen, ": value of ", 11) == 0) {
					sim->facts.f[id].state = FACT_OVERSIZE;
					sim->facts.f[id].size = strtoul(p + klen +
					    11, NULL, 10);
				}
			}
		}
	}
	b = auditfields_bool(&sim->af, "auth_before_tls");
	if (b == -1 && facts_has_auth(&sim->facts)) {
		*missing = "auth_before_tls";
		return -1;
	}
	sim->facts.is_auth_before_tls = b == 1;
	return 0;
}

/* classify - compare with the record; count and tally. */
static void
classify(struct sim *sim, const struct conf_listener *l,
    const struct policy_verdict *v, const char *rule, const char *outcome)
{
	const char *now = policy_outcome_name(v->outcome);
	const char *time = auditfields_str(&sim->af, "time");
	const char *user, *domain, *addr, *helo;
	struct lstats *ls;
	bool was_refused = is_refused(outcome), is_now = is_refused(now);

	if ((ls = lstats_of(sim, l->label)) == NULL) {
		sim->ls_untracked++;
		return;
	}
	ls->replayed++;
	if (time == NULL)
		time = "";
	if (strcmp(rule, policy_rule_name(v->rule)) == 0 &&
	    strcmp(outcome, now) == 0)
		ls->unchanged++;
	else if (is_now && !was_refused) {
		ls->refused++;
		ls->by_rule[v->rule]++;
		addr = auditfields_str(&sim->af, "client_addr");
		helo = auditfields_str(&sim->af, "helo");
		user = auditfields_str(&sim->af, "auth_authen");
		domain = auditfields_str(&sim->af, "sender_domain");
		tally(&ls->clients, addr != NULL ? addr : "-",
		    helo != NULL ? helo : "-", time);
		if (user != NULL)
			tally(&ls->users, user, NULL, time);
		if (domain != NULL)
			tally(&ls->domains, domain[0] != '\0' ? domain : "<>",
			    NULL, time);
	} else if (was_refused && !is_now)
		ls->accepted++;
	else if (v->outcome == POLICY_OUTCOME_WOULD_REJECT &&
	    strcmp(outcome, "accept") == 0)
		ls->would_reject++;
	else
		ls->other++;
}

/* is_refused - the outcome refuses the transaction (reject, tempfail). */
static bool
is_refused(const char *outcome)
{
	return strcmp(outcome, "reject") == 0 ||
	    strcmp(outcome, "tempfail") == 0;
}

/* how - what is wrong with the fact: a policy text is not understood, the rest missing. */
static const char *
how(const char *fact)
{
	return strcmp(fact, "policy text") == 0 ? "not understood" : "missing";
}

/* cannot - a decision that cannot be replayed: say so, count it. */
static void
cannot(struct sim *sim, const char *fact)
{
	size_t i;

	sim->n_cannot++;
	for (i = 0; i < sim->n_reasons; i++)
		if (strcmp(sim->reasons[i].fact, fact) == 0)
			break;
	if (i == sim->n_reasons && i < SIM_REASONS_MAX) {
		(void) snprintf(sim->reasons[i].fact,
		    sizeof(sim->reasons[i].fact), "%s", fact);
		sim->n_reasons++;
	}
	if (i < sim->n_reasons)
		sim->reasons[i].count++;
	if (!sim->is_json) {
		printf("%s:%lu: cannot replay: %s %s\n", sim->path,
		    sim->lineno, fact, how(fact));
		return;
	}
	if (sim->n_ex < SIM_EXAMPLES_MAX) {
		sim->ex[sim->n_ex].path = sim->path;
		sim->ex[sim->n_ex].lineno = sim->lineno;
		(void) snprintf(sim->ex[sim->n_ex].fact,
		    sizeof(sim->ex[sim->n_ex].fact), "%s", fact);
		sim->n_ex++;
	}
}

/* lstats_of - the statistics of a listener label; NULL beyond the bound. */
static struct lstats *
lstats_of(struct sim *sim, const char *label)
{
	for (size_t i = 0; i < sim->n_ls; i++)
		if (strcmp(sim->ls[i].label, label) == 0)
			return &sim->ls[i];
	if (sim->n_ls == SIM_LISTENERS_MAX ||
	    (sim->ls[sim->n_ls].label = strdup(label)) == NULL)
		return NULL;
	return &sim->ls[sim->n_ls++];
}

/* hash - FNV-1a of key and key2. */
static uint64_t
hash(const char *key, const char *key2)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (; key2 != NULL && *key2 != '\0'; key2++)
		h = (h ^ (unsigned char)*key2) * 1099511628211ULL;
	return h;
}

/* tally - count one refusal of key (and key2) at time. */
static void
tally(struct table *t, const char *key, const char *key2, const char *time)
{
	const size_t cap = 2 * SIM_TABLE_MAX;
	struct tally *e;
	size_t i;

	if (t->slots == NULL && (t->slots = calloc(cap,
	    sizeof(*t->slots))) == NULL) {
		t->untracked++;
		return;
	}
	for (i = hash(key, key2) & (cap - 1); ; i = (i + 1) & (cap - 1)) {
		e = &t->slots[i];
		if (e->key == NULL)
			break;
		if (strcmp(e->key, key) == 0 && (key2 == NULL ||
		    strcmp(e->key2, key2) == 0))
			goto found;
	}
	if (t->n == SIM_TABLE_MAX || (e->key = strdup(key)) == NULL ||
	    (key2 != NULL && (e->key2 = strdup(key2)) == NULL)) {
		free(e->key);
		e->key = NULL;
		t->untracked++;
		return;
	}
	t->n++;
	(void) snprintf(e->first, sizeof(e->first), "%s", time);
	(void) snprintf(e->last, sizeof(e->last), "%s", time);
found:
	e->count++;
	if (strcmp(time, e->first) < 0)
		(void) snprintf(e->first, sizeof(e->first), "%s", time);
	if (strcmp(time, e->last) > 0)
		(void) snprintf(e->last, sizeof(e->last), "%s", time);
}

/* sorted - the entries of t, most refusals first (caller frees the array). */
static struct tally **
sorted(const struct table *t)
{
	struct tally **v;
	size_t n = 0;

	if ((v = calloc(t->n + 1, sizeof(*v))) == NULL)
		return NULL;
	for (size_t i = 0; t->slots != NULL && i < 2 * SIM_TABLE_MAX; i++)
		if (t->slots[i].key != NULL)
			v[n++] = &t->slots[i];
	qsort(v, n, sizeof(*v), by_count);
	return v;
}

/* by_count - more refusals first, then by key. */
static int
by_count(const void *a, const void *b)
{
	const struct tally *x = *(struct tally *const *)a;
	const struct tally *y = *(struct tally *const *)b;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if ((c = strcmp(x->key, y->key)) != 0 || x->key2 == NULL)
		return c;
	return strcmp(x->key2, y->key2);
}

/* totals - sums over listeners. */
static void
totals(const struct sim *sim, unsigned long *t)
{
	memset(t, 0, 7 * sizeof(*t));
	for (size_t i = 0; i < sim->n_ls; i++) {
		t[0] += sim->ls[i].replayed;
		t[1] += sim->ls[i].unchanged;
		t[2] += sim->ls[i].refused;
		t[3] += sim->ls[i].accepted;
		t[4] += sim->ls[i].would_reject;
		t[5] += sim->ls[i].other;
		t[6] += sim->ls[i].moved;
	}
}

/* print_text - the summary for people. */
static void
print_text(struct sim *sim, int n_files)
{
	unsigned long t[7];

	totals(sim, t);
	printf("simulated with %s%s\n", sim->new_path != NULL ?
	    "the policy of " : "the policy recorded for each decision",
	    sim->new_path != NULL ? sim->new_path : "");
	printf("read %d files, %lu records: %lu decisions, %lu policy"
	    " records, %lu session records; %lu lines skipped\n", n_files,
	    sim->n_records, sim->n_decisions, sim->n_policies,
	    sim->n_sessions, sim->n_skipped);
	printf("total: replayed %lu, unchanged %lu, newly refused %lu, newly"
	    " accepted %lu, newly would-reject %lu, other changes %lu,"
	    " cannot replay %lu\n", t[0], t[1], t[2], t[3], t[4], t[5],
	    sim->n_cannot);
	for (size_t i = 0; i < sim->n_reasons; i++)
		printf("cannot replay: %s %s: %lu decisions\n",
		    sim->reasons[i].fact, how(sim->reasons[i].fact),
		    sim->reasons[i].count);
	for (size_t i = 0; i < sim->n_ls; i++) {
		const struct lstats *ls = &sim->ls[i];

		printf("\nlistener %s: replayed %lu, unchanged %lu, newly"
		    " refused %lu, newly accepted %lu, newly would-reject %lu,"
		    " other changes %lu", ls->label, ls->replayed,
		    ls->unchanged, ls->refused, ls->accepted,
		    ls->would_reject, ls->other);
		if (ls->moved > 0)
			printf(" (%lu recorded under another listener)",
			    ls->moved);
		printf("\n");
		if (ls->refused == 0)
			continue;
		printf("  newly refused by rule:");
		for (int r = 0; r <= POLICY_RULE_COUNT; r++)
			if (ls->by_rule[r] > 0)
				printf(" %s %lu", policy_rule_name(r),
				    ls->by_rule[r]);
		printf("\n");
		text_table("clients (address, HELO name)", &ls->clients);
		text_table("users", &ls->users);
		text_table("sender domains", &ls->domains);
	}
}

/* text_table - the first SIM_TEXT_SHOWN entries of a table. */
static void
text_table(const char *what, const struct table *t)
{
	struct tally **v;
	size_t i;

	if (t->n == 0 && t->untracked == 0)
		return;
	printf("  %s newly refused: %zu\n", what, t->n);
	if ((v = sorted(t)) == NULL)
		return;
	for (i = 0; i < t->n && i < SIM_TEXT_SHOWN; i++)
		printf("    %s%s%s: %lu (first %s, last %s)\n", v[i]->key,
		    v[i]->key2 != NULL ? " helo=" : "",
		    v[i]->key2 != NULL ? v[i]->key2 : "", v[i]->count,
		    v[i]->first, v[i]->last);
	if (t->n > SIM_TEXT_SHOWN)
		printf("    ... and %zu more (--json lists all)\n",
		    t->n - SIM_TEXT_SHOWN);
	if (t->untracked > 0)
		printf("    %lu refusals of keys beyond the table's %d\n",
		    t->untracked, SIM_TABLE_MAX);
	free(v);
}

/* print_json - the same as one JSON object (docs: tlspolicy-milter(8)). */
static void
print_json(struct sim *sim, int n_files)
{
	unsigned long t[7];

	totals(sim, t);
	printf("{\"policy\":");
	json_str(sim->new_path != NULL ? sim->new_path : "recorded");
	printf(",\"files\":%d,\"records\":%lu,\"decisions\":%lu,"
	    "\"policy_records\":%lu,\"session_records\":%lu,"
	    "\"skipped_lines\":%lu,\"replayed\":%lu,\"unchanged\":%lu,"
	    "\"newly_refused\":%lu,\"newly_accepted\":%lu,"
	    "\"newly_would_reject\":%lu,\"other_changes\":%lu,"
	    "\"cannot_replay\":{\"count\":%lu,\"by_fact\":{", n_files,
	    sim->n_records, sim->n_decisions, sim->n_policies,
	    sim->n_sessions, sim->n_skipped, t[0], t[1], t[2], t[3], t[4],
	    t[5], sim->n_cannot);
	for (size_t i = 0; i < sim->n_reasons; i++) {
		printf("%s", i > 0 ? "," : "");
		json_str(sim->reasons[i].fact);
		printf(":%lu", sim->reasons[i].count);
	}
	printf("},\"examples\":[");
	for (size_t i = 0; i < sim->n_ex; i++) {
		printf("%s{\"file\":", i > 0 ? "," : "");
		json_str(sim->ex[i].path);
		printf(",\"line\":%lu,\"fact\":", sim->ex[i].lineno);
		json_str(sim->ex[i].fact);
		printf("}");
	}
	printf("]},\"listeners\":[");
	for (size_t i = 0; i < sim->n_ls; i++) {
		const struct lstats *ls = &sim->ls[i];
		bool any = false;

		printf("%s{\"listener\":", i > 0 ? "," : "");
		json_str(ls->label);
		printf(",\"replayed\":%lu,\"unchanged\":%lu,\"newly_refused\":"
		    "%lu,\"newly_accepted\":%lu,\"newly_would_reject\":%lu,"
		    "\"other_changes\":%lu,\"recorded_elsewhere\":%lu,"
		    "\"newly_refused_by_rule\":{", ls->replayed, ls->unchanged,
		    ls->refused, ls->accepted, ls->would_reject, ls->other,
		    ls->moved);
		for (int r = 0; r <= POLICY_RULE_COUNT; r++)
			if (ls->by_rule[r] > 0) {
				printf("%s\"%s\":%lu", any ? "," : "",
				    policy_rule_name(r), ls->by_rule[r]);
				any = true;
			}
		printf("}");
		json_table("clients", &ls->clients, "address", "helo");
		json_table("users", &ls->users, "user", NULL);
		json_table("sender_domains", &ls->domains, "domain", NULL);
		printf("}");
	}
	printf("]}\n");
}

/* json_table - ,"NAME":[{...},...],"NAME_untracked":N */
static void
json_table(const char *name, const struct table *t, const char *key,
    const char *key2)
{
	struct tally **v = sorted(t);

	printf(",\"%s\":[", name);
	for (size_t i = 0; v != NULL && i < t->n; i++) {
		printf("%s{\"%s\":", i > 0 ? "," : "", key);
		json_str(v[i]->key);
		if (key2 != NULL) {
			printf(",\"%s\":", key2);
			json_str(v[i]->key2);
		}
		printf(",\"count\":%lu,\"first\":", v[i]->count);
		json_str(v[i]->first);
		printf(",\"last\":");
		json_str(v[i]->last);
		printf("}");
	}
	printf("],\"%s_untracked\":%lu", name, t->untracked);
	free(v);
}

/* json_str - a JSON string, escaped as audit records are. */
static void
json_str(const char *s)
{
	struct strbuf sb;

	strbuf_init(&sb, 8 * FACTS_VALUE_MAX + 64);
	if (audit_escape_json(&sb, s, strlen(s)) == 0)
		fwrite(sb.data, 1, sb.len, stdout);
	else
		printf("null");
	strbuf_free(&sb);
}

/* free_table - its keys and slots. */
static void
free_table(struct table *t)
{
	for (size_t i = 0; t->slots != NULL && i < 2 * SIM_TABLE_MAX; i++) {
		free(t->slots[i].key);
		free(t->slots[i].key2);
	}
	free(t->slots);
}

static void
free_sim(struct sim *sim)
{
	for (size_t i = 0; i < sim->n_ls; i++) {
		free(sim->ls[i].label);
		free_table(&sim->ls[i].clients);
		free_table(&sim->ls[i].users);
		free_table(&sim->ls[i].domains);
	}
	for (size_t i = 0; i < sim->n_pol; i++)
		conf_free(&sim->pol[i].conf);
	free(sim->pol);
	conf_free(&sim->new_conf);
	facts_clear(&sim->facts);
	auditfields_free(&sim->af);
	free(sim);
}
