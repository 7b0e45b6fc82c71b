/*
 * simulate.h - tlspolicy-milter --simulate: replay recorded decisions
 *
 * Reads audit files (any order, gzip too), rebuilds each decision's
 * facts from its record and decides again: with the policy recorded for
 * that decision (its "policy" fingerprint names a policy record earlier
 * in the log), or with a new config given by -c.  Prints per listener
 * how many decisions were replayed, unchanged, newly refused (by rule)
 * and newly accepted, and which clients, users and sender domains would
 * newly be refused.  Streaming: memory does not grow with the log.
 */
#ifndef TLSPOLICY_SIMULATE_H
#define TLSPOLICY_SIMULATE_H

/*
 * simulate_main - the arguments after --simulate: [-c NEW.conf] [--json]
 * FILE...  Exit 0 when the files were read (whatever the differences),
 * 1 when a file cannot be read or ordered, EX_CONFIG for a bad -c file,
 * EX_USAGE for bad arguments.
 */
int	simulate_main(int argc, char **argv);

#endif /* TLSPOLICY_SIMULATE_H */
