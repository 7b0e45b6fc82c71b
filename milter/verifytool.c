/*
 * NAME
 *	verifytool - tlspolicy-milter --verify-audit: check audit files
 *
 * SYNOPSIS
 *	#include "verifytool.h"
#include "verifytool_int.h"
 *
 *	tlspolicy-milter --verify-audit [--key-file FILE] [--anchor HASH]
 *	    [--verification-key KEY] [--expect-head HASH]
 *	    [--report-data FILE [--no-verify] [--from T] [--to T]
 *	    [--listener NAME]...] FILE...
 *
 * DESCRIPTION
 *	Checks each file on its own with auditverify.c (every line, its
 *	hash, its link to the line before), which gives each file's first
 *	"prev" and last "hash".  Then orders the files by the chain itself:
 *	the first file is the one whose first "prev" is the anchor (64 zeros,
 *	or --anchor HASH when older files were deleted), and each next file
 *	is the one whose first "prev" is the last "hash" of the file before.
 *	So the files may be given in any order (a shell glob: audit.jsonl*),
 *	and a missing file, a chain that does not start at the anchor, or two
 *	files that continue the same record (a fork) are named.  Empty files
 *	(a log just rotated) carry no records and fit anywhere; the
 *	milter's stage file, which such a glob also matches, is recognised
 *	by its first bytes and skipped with a warning.
 *
 *	Sealed logs (auditseal.h): with --verification-key each sealed
 *	record is checked under its epoch's key and the sealing rules are
 *	checked in each file (auditverify.c) and where files join
 *	(seal_junction); --expect-head names a hash (a seal's, from the
 *	syslog copy) that must be in the chain, which shows that no record
 *	up to it was cut off the end.
 *
 *	Files are read through zlib, which reads gzip-compressed files (as
 *	logrotate's compress makes them) and plain files alike.
 *
 *	Each file is read once: this thread checks each line, and a worker
 *	(linequeue.c) parses it once with auditfields for the policy check
 *	(every decision's fingerprint names a policy record before it; kept
 *	when the files were given in chain order, else made again in chain
 *	order) and, with --report-data FILE, for tlspolicy-report's
 *	aggregate (auditagg.c), written to FILE as JSON Lines.  After a
 *	problem the remaining lines and files are still read for the
 *	aggregate, unchecked.
 *
 *	The OK line names the anchor the chain starts from and its last
 *	hash: an auditor compares the last hash with a copy kept elsewhere to
 *	see that no records were cut off the end, and keeps it as the
 *	--anchor of the files that follow once these are deleted.
 *
 * DIAGNOSTICS
 *	On stdout: "OK: N records, anchor A, last L" and exit 0; else
 *	"FILE:LINE: why" for the first problem and exit 1 (LINE 0: the file
 *	cannot be read).  "FILE:LINE: warning: ..." for a torn fragment an
 *	older version left (skipped).  Usage errors on stderr, EX_USAGE; an
 *	unreadable key file, 2; an aggregate that cannot be written whole
 *	(--report-data), 2 with a message on stderr.
 *
 * SEE ALSO
 *	verifypolicy.c (the policy check), auditverify.c, auditchain.c,
 *	auditagg.c, linequeue.c, keyfile.c;
 *	doc/audit-format.md, tlspolicy-report(1)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <zlib.h>

#include "auditagg.h"
#include "auditchain.h"
#include "auditfields.h"
#include "auditseal.h"
#include "auditstage.h"
#include "auditverify.h"
#include "keyfile.h"
#include "linequeue.h"
#include "verifytool.h"
#include "verifytool_int.h"

/* The report options (--report-data FILE and what it counts). */
struct ropts {
	const char	*data;		/* where the aggregate goes, or NULL */
	bool		 is_unchecked;	/* --no-verify: aggregate only */
	const char	*t_from;
	const char	*t_to;
	char		**listeners;	/* borrowed strings, owned array */
	size_t		 n_listeners;
};

/* The sealing options of one run (--verification-key, --expect-head). */
struct vopts {
	struct auditseal_state	 vk;
	bool			 has_vk;
	char			 expect[AUDIT_HASH_HEX + 1];
	bool			 has_expect;
};

/* One pass over a file: each line checked, policy-checked, aggregated. */
struct vpass {
	struct auditfields	 af;
	struct pcheck		 pc;	/* in the order the files are given */
	char			*pc_text; /* what pc printed, until placed */
	size_t			 pc_size;
	struct auditagg		*agg;	/* --report-data, or NULL */
	FILE			*agg_out;
	struct linequeue	*q;	/* lines to the worker (pass_line) */
	struct vfile		*f;	/* the file being read */
	unsigned long		 lineno;
	bool			 is_checking; /* policy lines to pc */
};

static int	parse_anchor(const char *, char *);
static int	verify_one(struct vfile *, const unsigned char *, size_t,
		    const struct vopts *, struct vpass *);
static void	read_only(struct vfile *, struct vpass *);
static int	report_option(const char *, const char *, struct ropts *);
static int	pass_init(struct vpass *, const struct ropts *, const char *);
static void	pass_line(void *, const char *, size_t, bool);
static int	pass_emit(void *, const char *, size_t);
static int	pass_done(struct vpass *);
static int	policies_placed(const struct vfile *, int, const char *,
		    struct vpass *);
static int	seal_option(const char *, const char *, struct vopts *);
static int	seal_junction(const struct vfile *, const struct vfile *);
static int	seal_report(const struct vfile *, int, const struct vopts *,
		    const char *);
static int	order_files(struct vfile *, int, const char *, char *,
		    unsigned long *);
static int	report_unplaced(struct vfile *, int, const char *,
		    const struct vfile *);
static struct vfile *follower(struct vfile *, int, const char *);
static bool	is_follower(const struct vfile *, int, const struct vfile *);
static void	warn_line(void *, unsigned long, const char *);
static bool	is_stage(const char *);
static FILE	*open_any(const char *);
static ssize_t	gz_read(void *, char *, size_t);
static int	gz_close(void *);
static int	scan_one(struct vfile *);

int
verify_audit(int argc, char **argv)
{
	unsigned char key[AUDIT_KEY_MAX] = { 0 };
	char anchor[AUDIT_HASH_HEX + 1] = AUDIT_CHAIN_ANCHOR;
	char last[AUDIT_HASH_HEX + 1];
	struct vfile *files;
	struct vopts vo = { .has_vk = false };
	struct ropts ro = { .data = NULL };
	struct vpass pass;
	unsigned long n_records = 0;
	size_t keylen = 0;
	int i = 0, n, rc = 0;

	if ((ro.listeners = calloc((size_t)argc + 1, sizeof(char *))) == NULL) {
		fprintf(stderr, "tlspolicy-milter: out of memory\n");
		return EX_OSERR;
	}
	for (; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--no-verify") == 0) {
			ro.is_unchecked = true;
			i--;
		} else if (strcmp(argv[i], "--key-file") == 0) {
			if (keyfile_read(argv[i + 1], key, &keylen) == -1)
				return free(ro.listeners), 2;
		} else if (strcmp(argv[i], "--anchor") == 0) {
			if (parse_anchor(argv[i + 1], anchor) == -1)
				return free(ro.listeners), EX_USAGE;
		} else if ((rc = seal_option(argv[i], argv[i + 1], &vo)) != 0 ||
		    (rc = report_option(argv[i], argv[i + 1], &ro)) != 0) {
			if (rc == -1)
				return free(ro.listeners), EX_USAGE;
			rc = 0;
		} else
			break;
	}
	if (i >= argc || strncmp(argv[i], "--", 2) == 0 ||
	    (ro.is_unchecked && ro.data == NULL)) {
		fprintf(stderr, "usage: tlspolicy-milter --verify-audit"
		    " [--key-file file] [--anchor hash]\n"
		    "    [--verification-key key] [--expect-head hash]\n"
		    "    [--report-data file [--no-verify] [--from time]"
		    " [--to time] [--listener name]...] FILE...\n");
		free(ro.listeners);
		return EX_USAGE;
	}
	n = argc - i;
	if ((files = calloc((size_t)n, sizeof(*files))) == NULL ||
	    pass_init(&pass, &ro, anchor) == -1) {
		fprintf(stderr, "tlspolicy-milter: out of memory or %s: %s\n",
		    ro.data != NULL ? ro.data : "-", strerror(errno));
		free(files);
		free(ro.listeners);
		return EX_OSERR;
	}
	for (int k = 0; k < n; k++) {
		files[k].path = argv[i + k];
		pass.f = &files[k];
		pass.lineno = 0;
		if (pass.agg != NULL && auditagg_begin(pass.agg,
		    (unsigned long)k) == -1)
			break;
		if (rc == 0 && !ro.is_unchecked)
			rc = verify_one(&files[k], keylen > 0 ? key : NULL,
			    keylen, &vo, &pass);
		else if (pass.agg != NULL)
			read_only(&files[k], &pass);
		if (pass.agg != NULL && auditagg_end(pass.agg) == -1)
			break;
	}
	if (rc == 0 && !ro.is_unchecked) {
		rc = order_files(files, n, anchor, last, &n_records);
		if (rc == 0)
			rc = policies_placed(files, n, anchor, &pass);
		if (rc == 0)
			rc = seal_report(files, n, &vo, last);
		if (rc == 0)
			printf("OK: %lu records, anchor %s, last %s\n",
			    n_records, anchor, last);
	}
	auditseal_wipe(&vo.vk);
	free(files);
	free(ro.listeners);
	if (pass_done(&pass) == -1)
		return 2;
	return rc == 0 ? 0 : 1;
}

/* parse_anchor - 64 hex digits (either case) as lowercase; -1 with a message. */
static int
parse_anchor(const char *arg, char *anchor)
{
	size_t i;

	for (i = 0; arg[i] != '\0' && i < AUDIT_HASH_HEX; i++)
		anchor[i] = (char)(arg[i] >= 'A' && arg[i] <= 'F' ?
		    arg[i] - 'A' + 'a' : arg[i]);
	anchor[AUDIT_HASH_HEX] = '\0';
	if (i != AUDIT_HASH_HEX || arg[i] != '\0' ||
	    !auditchain_is_hex(anchor, AUDIT_HASH_HEX)) {
		fprintf(stderr, "tlspolicy-milter: --anchor %s: not a hash"
		    " (64 hex digits)\n", arg);
		return -1;
	}
	return 0;
}

/*
 * verify_one - check one file on its own: its lines and links; note its
 * first "prev" and last "hash".  -1 after printing FILE:LINE: why.
 */
static int
verify_one(struct vfile *f, const unsigned char *key, size_t keylen,
    const struct vopts *vo, struct vpass *pass)
{
	struct auditverify v;
	unsigned long line;
	FILE *fp;
	int rc;

	if (is_stage(f->path)) {	/* a glob such as audit.jsonl* has it */
		printf("%s:0: warning: the milter's stage file, not a log (what"
		    " it holds reaches the log at the next start); skipped\n",
		    f->path);
		read_only(f, pass);
		return 0;
	}
	if ((fp = open_any(f->path)) == NULL) {
		printf("%s:0: cannot open: %s\n", f->path, strerror(errno));
		return -1;
	}
	auditverify_init(&v, key, keylen);
	if (vo->has_vk)
		auditverify_set_vk(&v, &vo->vk);
	if (vo->has_expect)
		v.expect = vo->expect;
	v.warn = warn_line;
	v.warn_arg = (void *)f->path;
	pass->is_checking = true;
	rc = auditverify_stream(&v, fp, &line, linequeue_put, pass->q);
	linequeue_sync(pass->q);
	pass->is_checking = false;
	auditverify_done(&v);
	(void) fclose(fp);
	if (rc == -1) {
		printf("%s:%lu: %s\n", f->path, line, v.why);
		return -1;
	}
	f->n_records = v.n_records;
	(void) memcpy(f->first_prev, v.anchor, sizeof(f->first_prev));
	(void) memcpy(f->last, v.head, sizeof(f->last));
	f->seal = (struct vseal){ .first_epoch = v.first_epoch,
	    .last_epoch = v.epoch, .is_last_seal = v.is_last_seal,
	    .has_first_count = v.has_first_count,
	    .first_count = v.first_count, .n_before_first = v.n_before_first,
	    .n_seals = v.n_seals, .expect_at = v.expect_at };
	return 0;
}

/* read_only - a file's lines for the aggregate alone (nothing checked). */
static void
read_only(struct vfile *f, struct vpass *pass)
{
	unsigned long line;
	FILE *fp;

	if (pass->agg == NULL)
		return;
	if ((fp = open_any(f->path)) == NULL) {
		fprintf(stderr, "%s:0: cannot open: %s\n", f->path,
		    strerror(errno));
		return;
	}
	if (auditverify_stream(NULL, fp, &line, linequeue_put, pass->q) == -1)
		fprintf(stderr, "%s:%lu: read error\n", f->path, line);
	linequeue_sync(pass->q);
	(void) fclose(fp);
}

/*
 * order_files - chain the files from anchor: each next file's first
 * "prev" is the last hash of the one before.  Sets last and *n_records;
 * -1 after naming the file that breaks the chain.
 */
static int
order_files(struct vfile *files, int n, const char *anchor, char *last,
    unsigned long *n_records)
{
	const struct vfile *prev = NULL;
	struct vfile *f;

	for (int i = 0; i < n; i++) {
		if (files[i].n_records == 0)
			files[i].is_placed = true;	/* empty: fits anywhere */
		for (int k = 0; k < i; k++)
			if (files[i].n_records > 0 && files[k].n_records > 0 &&
			    strcmp(files[i].first_prev, files[k].first_prev) ==
			    0) {
				printf("%s:1: fork: %s also continues the record"
				    " %s (two logs mixed, or a file given"
				    " twice)\n", files[i].path, files[k].path,
				    files[i].first_prev);
				return -1;
			}
	}
	(void) memcpy(last, anchor, AUDIT_HASH_HEX + 1);
	while ((f = follower(files, n, last)) != NULL) {
		if (prev != NULL && seal_junction(prev, f) == -1)
			return -1;
		f->is_placed = true;
		*n_records += f->n_records;
		(void) memcpy(last, f->last, AUDIT_HASH_HEX + 1);
		prev = f;
	}
	return report_unplaced(files, n, anchor, prev);
}

/*
 * report_unplaced - a file the chain from the anchor does not reach: name
 * the first one no other file leads to (a chain's start).  0 when every
 * file is placed, else -1.
 */
static int
report_unplaced(struct vfile *files, int n, const char *anchor,
    const struct vfile *end)
{
	const struct vfile *f = NULL;

	for (int i = 0; i < n && f == NULL; i++)
		if (!files[i].is_placed && !is_follower(files, n, &files[i]))
			f = &files[i];
	if (f == NULL) {
		for (int i = 0; i < n && f == NULL; i++)
			if (!files[i].is_placed)
				f = &files[i];
	}
	if (f == NULL)
		return 0;
	if (end == NULL)
		printf("%s:1: broken link: the chain does not start at the"
		    " anchor %s (its first \"prev\" is %s): records or files"
		    " before it are missing; when older files were deleted,"
		    " give --anchor with the last hash of the newest of them\n",
		    f->path, anchor, f->first_prev);
	else
		printf("%s:1: broken link: its first \"prev\" %s is the last"
		    " hash of no file given (the chain from the anchor ends in"
		    " %s): a file or records between them are missing\n",
		    f->path, f->first_prev, end->path);
	return -1;
}

/* follower - the unplaced file whose first "prev" is hash, or NULL. */
static struct vfile *
follower(struct vfile *files, int n, const char *hash)
{
	for (int i = 0; i < n; i++)
		if (!files[i].is_placed && strcmp(files[i].first_prev, hash) == 0)
			return &files[i];
	return NULL;
}

/* is_follower - some other non-empty file ends where f begins. */
static bool
is_follower(const struct vfile *files, int n, const struct vfile *f)
{
	for (int i = 0; i < n; i++)
		if (&files[i] != f && files[i].n_records > 0 &&
		    strcmp(files[i].last, f->first_prev) == 0)
			return true;
	return false;
}

/* warn_line - FILE:LINE: warning: why, from the verifier. */
static void
warn_line(void *arg, unsigned long lineno, const char *why)
{
	printf("%s:%lu: warning: %s\n", (const char *)arg, lineno, why);
}

/* is_stage - the file begins as a stage file (auditstage.h) does. */
static bool
is_stage(const char *path)
{
	char magic[sizeof(AUDIT_STAGE_MAGIC) - 1];
	bool is = false;
	FILE *fp;

	if ((fp = fopen(path, "rb")) == NULL)
		return false;
	if (fread(magic, 1, sizeof(magic), fp) == sizeof(magic))
		is = memcmp(magic, AUDIT_STAGE_MAGIC, sizeof(magic)) == 0;
	(void) fclose(fp);
	return is;
}

/*
 * open_any - a FILE * over path through zlib: gzip-compressed files are
 * inflated, others read as they are.  NULL with errno.
 */
static FILE *
open_any(const char *path)
{
	static const cookie_io_functions_t io = {
		.read = gz_read,
		.close = gz_close,
	};
	gzFile gz;
	FILE *fp;

	errno = 0;
	if ((gz = gzopen(path, "rb")) == NULL) {
		if (errno == 0)
			errno = ENOMEM;
		return NULL;
	}
	if ((fp = fopencookie(gz, "r", io)) == NULL)
		(void) gzclose(gz);
	return fp;
}

/* gz_read - fopencookie's read: bytes, 0 at the end, -1 on an error. */
static ssize_t
gz_read(void *cookie, char *buf, size_t size)
{
	int n;

	if (size > (size_t)1 << 30)
		size = (size_t)1 << 30;
	if ((n = gzread(cookie, buf, (unsigned)size)) < 0) {
		errno = EIO;
		return -1;
	}
	return n;
}

/* gz_close - fopencookie's close. */
static int
gz_close(void *cookie)
{
	return gzclose(cookie) == Z_OK ? 0 : -1;
}

/*
 * The policy in the evidence: every decision's "policy" fingerprint must
 * name a "policy" record earlier in the chain (over the files in chain
 * order), and a policy record's text must have its fingerprint.
 */

/*
 * seal_option - --verification-key KEY or --expect-head HASH into vo: 1
 * when taken, 0 when opt is neither, -1 after a message (usage).
 */
static int
seal_option(const char *opt, const char *arg, struct vopts *vo)
{
	if (strcmp(opt, "--verification-key") == 0) {
		if (auditseal_parse_vk(arg, &vo->vk) == -1) {
			fprintf(stderr, "tlspolicy-milter: --verification-key:"
			    " not a verification key (64 hex digits/start/"
			    "period, as --setup-keys printed it)\n");
			return -1;
		}
		vo->has_vk = true;
		return 1;
	}
	if (strcmp(opt, "--expect-head") == 0) {
		if (parse_anchor(arg, vo->expect) == -1)
			return -1;
		vo->has_expect = true;
		return 1;
	}
	return 0;
}

/*
 * The one pass: each line read while a file is checked goes through
 * auditfields once, to the policy check (in the order the files are
 * given; kept when that is the chain's order, else done again in chain
 * order) and to the aggregate of --report-data.
 */

/* report_option - --report-data, --from, --to, --listener: 1 taken, 0 not. */
static int
report_option(const char *opt, const char *arg, struct ropts *ro)
{
	if (strcmp(opt, "--report-data") == 0)
		ro->data = arg;
	else if (strcmp(opt, "--from") == 0)
		ro->t_from = arg;
	else if (strcmp(opt, "--to") == 0)
		ro->t_to = arg;
	else if (strcmp(opt, "--listener") == 0)
		ro->listeners[ro->n_listeners++] = (char *)arg;
	else
		return 0;
	return 1;
}

/* pass_init - ready to read; -1 with errno (no memory, cannot open). */
static int
pass_init(struct vpass *p, const struct ropts *ro, const char *anchor)
{
	struct auditagg_opts ao = { .t_from = ro->t_from, .t_to = ro->t_to,
	    .listeners = ro->listeners, .n_listeners = ro->n_listeners };

	memset(p, 0, sizeof(*p));
	auditfields_init(&p->af);
	p->pc.is_whole = strcmp(anchor, AUDIT_CHAIN_ANCHOR) == 0;
	if ((p->pc.out = open_memstream(&p->pc_text, &p->pc_size)) == NULL ||
	    (p->q = linequeue_new(pass_line, p)) == NULL)
		return -1;
	if (ro->data == NULL)
		return 0;
	if ((p->agg_out = fopen(ro->data, "w")) == NULL)
		return -1;
	if ((p->agg = auditagg_new(&ao, pass_emit, p->agg_out)) == NULL)
		return -1;
	return 0;
}

/* pass_line - auditverify_stream's each: one line of the file p->f. */
static void
pass_line(void *arg, const char *line, size_t size, bool is_whole)
{
	struct vpass *p = arg;
	bool is_parsed = auditfields_parse(&p->af, line, size) == 0;

	p->lineno++;
	if (is_parsed && p->is_checking &&
	    verifypolicy_line(&p->pc, &p->af, p->f->path, p->lineno))
		p->f->n_policy_lines++;
	if (p->agg != NULL)
		(void) auditagg_line(p->agg, line, size, is_whole,
		    is_parsed ? &p->af : NULL);
}

/* pass_emit - an aggregate event as one line of the --report-data file. */
static int
pass_emit(void *arg, const char *json, size_t size)
{
	FILE *fp = arg;

	if (fwrite(json, 1, size, fp) != size || putc('\n', fp) == EOF)
		return -1;
	return 0;
}

/* pass_done - free; -1 when the aggregate could not be written whole. */
static int
pass_done(struct vpass *p)
{
	int rc = 0;

	linequeue_free(&p->q);
	auditfields_free(&p->af);
	verifypolicy_free(&p->pc);
	if (p->pc.out != NULL)
		(void) fclose(p->pc.out);
	free(p->pc_text);
	if (p->agg_out != NULL) {
		if (auditagg_has_failed(p->agg) || ferror(p->agg_out) ||
		    fclose(p->agg_out) == EOF) {
			fprintf(stderr, "tlspolicy-milter: --report-data: cannot"
			    " write the aggregate\n");
			rc = -1;
		}
	}
	auditagg_free(&p->agg);
	return rc;
}

/*
 * policies_placed - the policy check in chain order: the one made while
 * reading when the files were given in chain order, else a second pass.
 */
static int
policies_placed(const struct vfile *files, int n, const char *anchor,
    struct vpass *p)
{
	if (!verifypolicy_in_given_order(files, n, anchor))
		return verifypolicy_check(files, n, anchor);
	(void) fflush(p->pc.out);
	if (p->pc_size > 0)
		(void) fwrite(p->pc_text, 1, p->pc_size, stdout);
	return p->pc.rc;
}

FILE *
verifytool_open(const char *path)
{
	return open_any(path);
}

int
verifytool_order(char *const *paths, int n, int *order, int *n_order)
{
	char last[AUDIT_HASH_HEX + 1], anchor[AUDIT_HASH_HEX + 1] = "";
	unsigned long n_records = 0;
	struct vfile *files;
	bool *is_stage_file;
	const char *cur;
	int rc = 0, i;

	*n_order = 0;
	if (n == 1 && !is_stage(paths[0])) {	/* one file: nothing to order */
		order[(*n_order)++] = 0;
		return 0;
	}
	files = calloc((size_t)n, sizeof(*files));
	is_stage_file = calloc((size_t)n, sizeof(*is_stage_file));
	if (files == NULL || is_stage_file == NULL) {
		free(files);
		free(is_stage_file);
		fprintf(stderr, "-:0: out of memory\n");
		return -1;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		files[i].path = paths[i];
		if ((is_stage_file[i] = is_stage(paths[i])))
			fprintf(stderr, "%s:0: warning: the milter's stage"
			    " file, not a log; skipped\n", paths[i]);
		else
			rc = scan_one(&files[i]);
	}
	for (i = 0; rc == 0 && i < n && anchor[0] == '\0'; i++)
		if (files[i].n_records > 0 && !is_follower(files, n, &files[i]))
			(void) memcpy(anchor, files[i].first_prev, sizeof(anchor));
	if (rc == 0 && anchor[0] != '\0')
		rc = order_files(files, n, anchor, last, &n_records);
	for (cur = anchor; rc == 0 && cur[0] != '\0'; ) {
		for (i = 0; i < n; i++)
			if (files[i].n_records > 0 &&
			    strcmp(files[i].first_prev, cur) == 0)
				break;
		if (i == n)
			break;
		order[(*n_order)++] = i;
		cur = files[i].last;
	}
	for (i = 0; rc == 0 && i < n; i++)
		if (files[i].n_records == 0 && !is_stage_file[i])
			order[(*n_order)++] = i;
	free(files);
	free(is_stage_file);
	return rc;
}

/*
 * scan_one - a file's first "prev", last "hash" and number of chained
 * lines, without checking hashes (no key).  -1 after FILE:0: why.
 */
static int
scan_one(struct vfile *f)
{
	struct auditchain_tail t;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *in;

	if ((in = open_any(f->path)) == NULL) {
		fprintf(stderr, "%s:0: cannot open: %s\n", f->path,
		    strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, in)) > 0) {
		if (line[len - 1] == '\n')
			len--;
		if (auditchain_parse(line, (size_t)len, &t) == -1 ||
		    !t.has_open)
			continue;
		if (f->n_records++ == 0)
			(void) memcpy(f->first_prev, t.prev, AUDIT_HASH_HEX);
		(void) memcpy(f->last, t.hash, AUDIT_HASH_HEX);
	}
	free(line);
	(void) fclose(in);
	return 0;
}

/*
 * seal_junction - next continues prev's chain: the sealing rules across
 * the file boundary (epochs do not go back, a new epoch only after a
 * seal, nothing unsealed after a sealed record, and next's first seal
 * counts exactly when prev ended with a seal).  -1 after naming it.
 */
static int
seal_junction(const struct vfile *prev, const struct vfile *next)
{
	const struct vseal *p = &prev->seal, *q = &next->seal;

	if (prev->n_records == 0 || next->n_records == 0 || p->last_epoch < 0)
		return 0;
	if (q->first_epoch < 0)
		printf("%s:1: unsealed record after the sealed ones of %s"
		    " (sealing is never turned off: forged or moved)\n",
		    next->path, prev->path);
	else if (q->first_epoch < p->last_epoch)
		printf("%s:1: epoch %lld: epochs go back (%s ends in epoch"
		    " %lld)\n", next->path, q->first_epoch, prev->path,
		    p->last_epoch);
	else if (q->first_epoch > p->last_epoch && !p->is_last_seal)
		printf("%s:1: epoch %lld: a new epoch without a seal of epoch"
		    " %lld before it (%s does not end in one)\n", next->path,
		    q->first_epoch, p->last_epoch, prev->path);
	else if (p->is_last_seal && q->has_first_count &&
	    q->first_count != q->n_before_first)
		printf("%s: epoch %lld: its first seal counts %lu records, the"
		    " file has %lu before it\n", next->path, q->first_epoch,
		    q->first_count, q->n_before_first);
	else
		return 0;
	return -1;
}

/*
 * seal_report - with --expect-head: the hash must be some record's of
 * the chain; with --verification-key: a line on the seals.  0, or -1
 * after the reason.
 */
static int
seal_report(const struct vfile *files, int n, const struct vopts *vo,
    const char *last)
{
	unsigned long n_seals = 0;
	const struct vfile *at = NULL;
	long long epoch = -1;

	for (int i = 0; i < n; i++) {
		n_seals += files[i].seal.n_seals;
		if (files[i].seal.expect_at > 0)
			at = &files[i];
		if (files[i].seal.last_epoch > epoch)
			epoch = files[i].seal.last_epoch;
	}
	if (vo->has_expect && at == NULL) {
		printf("expected head %s is not in the chain (it ends at %s):"
		    " records after the last one kept were cut off, or the"
		    " head is another log's\n", vo->expect, last);
		return -1;
	}
	if (vo->has_expect)
		printf("expected head: record %lu of %s\n", at->seal.expect_at,
		    at->path);
	if (vo->has_vk)
		printf("sealed: %lu seals, last epoch %lld\n", n_seals, epoch);
	return 0;
}
