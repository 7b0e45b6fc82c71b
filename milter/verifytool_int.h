/*
 * verifytool_int.h - private to verifytool.c and verifypolicy.c: what
 * the verifier knows of each file it was given, and the policy check
 *
 * Not a contract: nothing but milter/verifytool.c and
 * milter/verifypolicy.c includes this file.  verifytool.c checks each
 * file's chain, orders the files and runs the one pass; verifypolicy.c
 * checks that every decision's policy fingerprint names a policy record
 * before it in the chain.
 */
#ifndef TLSPOLICY_VERIFYTOOL_INT_H
#define TLSPOLICY_VERIFYTOOL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "auditchain.h"
#include "auditfields.h"

/* What sealing needs of a file to check where it joins the one before. */
struct vseal {
	long long	 first_epoch;	/* -1: unsealed (or empty) */
	long long	 last_epoch;
	bool		 is_last_seal;
	bool		 has_first_count;
	unsigned long	 first_count;	/* its first seal's "records" */
	unsigned long	 n_before_first; /* sealed records before that seal */
	unsigned long	 n_seals;
	unsigned long	 expect_at;	/* line of the expected head, 0: none */
};

/* One file given, after its own check. */
struct vfile {
	const char	*path;
	unsigned long	 n_records;
	char		 first_prev[AUDIT_HASH_HEX + 1];
	char		 last[AUDIT_HASH_HEX + 1];
	bool		 is_placed;	/* in the chain order */
	struct vseal	 seal;		/* sealing facts, for the junctions */
	unsigned long	 n_policy_lines; /* lines naming a policy */
};

/* The policy check of the lines so far (check_policies). */
struct pcheck {
	char		**known;	/* fingerprints of policy records */
	size_t		 n_known;
	bool		 is_whole;	/* the chain starts at the zero anchor */
	int		 rc;		/* -1 after the first problem */
	FILE		*out;		/* where problems and warnings go */
};

/*
 * verifypolicy_check - walk the files in chain order from anchor, each
 * read again, every line through verifypolicy_line.  0, or -1 after
 * "FILE:LINE: why" on stdout.
 */
int	verifypolicy_check(const struct vfile *, int n, const char *anchor);

/*
 * verifypolicy_line - a parsed line of path against the policies known:
 * a policy record's text must have its fingerprint, a decision's
 * fingerprint must name a policy record before it (a warning when the
 * chain does not start at the zero anchor).  Checks until the first
 * problem (pc->rc -1, printed to pc->out).  Whether the line names a
 * policy.
 */
bool	verifypolicy_line(struct pcheck *, struct auditfields *,
	    const char *path, unsigned long lineno);

/* verifypolicy_free - forget the fingerprints known. */
void	verifypolicy_free(struct pcheck *);

/*
 * verifypolicy_in_given_order - the files with records were given in
 * chain order (as verifypolicy_check walks them) and the others name no
 * policy.
 */
bool	verifypolicy_in_given_order(const struct vfile *, int n,
	    const char *anchor);

#endif /* TLSPOLICY_VERIFYTOOL_INT_H */
