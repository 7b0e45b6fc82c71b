/*
 * NAME
 *	verifypolicy - the verifier's policy check: every decision names a
 *	policy record before it in the chain
 *
 * SYNOPSIS
 *	#include "verifytool_int.h"
 *
 * DESCRIPTION
 *	A policy record carries the effective policy's text and its
 *	fingerprint (policyrec.c); every decision record names the
 *	fingerprint in force.  Walking the lines in chain order, a policy
 *	record's text must hash to its fingerprint, and a decision's
 *	fingerprint must be one seen before it.  When the chain does not
 *	start at the zero anchor (older files were deleted), an unknown
 *	fingerprint is a warning: its record may lie in the files before.
 *
 *	verifytool.c feeds the lines of its one pass to verifypolicy_line
 *	when the files were given in chain order; otherwise
 *	verifypolicy_check reads them again in chain order.
 *
 * DIAGNOSTICS
 *	"FILE:LINE: why" for the first problem, "FILE:LINE: warning: ..."
 *	for a fingerprint whose record may be before the anchor.
 *
 * SEE ALSO
 *	verifytool.c, policyrec.c, auditfields.c; doc/audit-format.md
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
#include <sys/types.h>

#include "auditchain.h"
#include "auditfields.h"
#include "policyrec.h"
#include "verifytool.h"
#include "verifytool_int.h"

static int	check_policy_file(const struct vfile *, struct pcheck *);
static int	remember(char ***, size_t *, const char *);

/* verifypolicy_check - as in verifytool_int.h. */
int
verifypolicy_check(const struct vfile *files, int n, const char *anchor)
{
	struct pcheck pc = { .is_whole = strcmp(anchor, AUDIT_CHAIN_ANCHOR) ==
	    0, .out = stdout };
	const char *cur = anchor;
	int i;

	for (;;) {
		for (i = 0; i < n; i++)
			if (files[i].n_records > 0 &&
			    strcmp(files[i].first_prev, cur) == 0)
				break;
		if (i == n || check_policy_file(&files[i], &pc) == -1)
			break;
		cur = files[i].last;
	}
	verifypolicy_free(&pc);
	return pc.rc;
}

/* verifypolicy_free - forget the fingerprints known. */
void
verifypolicy_free(struct pcheck *pc)
{
	for (size_t k = 0; k < pc->n_known; k++)
		free(pc->known[k]);
	free(pc->known);
	pc->known = NULL;
	pc->n_known = 0;
}

/* remember - add fp to the known fingerprints; 0, or -1 (no memory). */
static int
remember(char ***known, size_t *n_known, const char *fp)
{
	char **grown;

	if ((grown = realloc(*known, (*n_known + 1) * sizeof(*grown))) == NULL)
		return -1;
	*known = grown;
	if ((grown[*n_known] = strdup(fp)) == NULL)
		return -1;
	(*n_known)++;
	return 0;
}

/* check_policy_file - one file's records against the policies known. */
static int
check_policy_file(const struct vfile *f, struct pcheck *pc)
{
	struct auditfields af;
	char *line = NULL;
	unsigned long lineno = 0;
	size_t cap = 0;
	ssize_t len;
	FILE *in;

	if ((in = verifytool_open(f->path)) == NULL) {
		printf("%s:0: cannot open: %s\n", f->path, strerror(errno));
		return pc->rc = -1;
	}
	auditfields_init(&af);
	while (pc->rc == 0 && (len = getline(&line, &cap, in)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			len--;
		if (auditfields_parse(&af, line, (size_t)len) == 0)
			(void) verifypolicy_line(pc, &af, f->path, lineno);
	}
	free(line);
	auditfields_free(&af);
	(void) fclose(in);
	return pc->rc;
}

/* verifypolicy_line - as in verifytool_int.h. */
bool
verifypolicy_line(struct pcheck *pc, struct auditfields *af, const char *path,
    unsigned long lineno)
{
	const char *type, *fp, *text;
	const struct auditfield *t;
	char hex[AUDIT_HASH_HEX + 1];
	size_t k;

	if ((type = auditfields_str(af, "type")) == NULL ||
	    (fp = auditfields_str(af, "policy")) == NULL)
		return false;	/* a torn fragment, or no policy named */
	if (pc->rc == -1)
		return true;
	if (strcmp(type, "policy") == 0) {
		t = auditfields_get(af, "text");
		text = t != NULL && t->kind == AUDITFIELD_STRING ? t->value :
		    NULL;
		if (text == NULL || policyrec_fingerprint(text, t->len, hex) ==
		    -1 || strcmp(hex, fp) != 0) {
			fprintf(pc->out, "%s:%lu: policy record: its text does"
			    " not have its fingerprint %s\n", path, lineno, fp);
			pc->rc = -1;
		} else if ((pc->rc = remember(&pc->known, &pc->n_known, fp)) ==
		    -1)
			fprintf(pc->out, "%s:%lu: out of memory\n", path, lineno);
		return true;
	}
	for (k = pc->n_known; k > 0; k--)
		if (strcmp(pc->known[k - 1], fp) == 0)
			break;
	if (k == 0 && pc->is_whole) {
		fprintf(pc->out, "%s:%lu: unknown policy fingerprint %s (no"
		    " policy record before it in the chain)\n", path, lineno,
		    fp);
		pc->rc = -1;
	} else if (k == 0) {
		/* its record may lie in the files before the anchor */
		fprintf(pc->out, "%s:%lu: warning: policy fingerprint %s: no"
		    " policy record after the anchor (it may be in the files"
		    " before it)\n", path, lineno, fp);
		pc->rc = remember(&pc->known, &pc->n_known, fp);
	}
	return true;
}

/* verifypolicy_in_given_order - as in verifytool_int.h. */
bool
verifypolicy_in_given_order(const struct vfile *files, int n,
    const char *anchor)
{
	const char *cur = anchor;

	for (int i = 0; i < n; i++) {
		if (files[i].n_records == 0) {
			if (files[i].n_policy_lines > 0)
				return false;
			continue;
		}
		if (strcmp(files[i].first_prev, cur) != 0)
			return false;
		cur = files[i].last;
	}
	return true;
}
