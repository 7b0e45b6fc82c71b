/*
 * verifytool.h - tlspolicy-milter --verify-audit: check audit files
 *
 * The command-line tool around auditverify.h: reads the files (plain or
 * gzip-compressed), orders them by the chain itself, requires the chain
 * to start at the anchor, checks that every decision names a policy
 * recorded earlier in the chain, and prints the result.
 */
#ifndef TLSPOLICY_VERIFYTOOL_H
#define TLSPOLICY_VERIFYTOOL_H

#include <stdio.h>

/*
 * verify_audit - the arguments after --verify-audit:
 * [--key-file FILE] [--anchor HASH] [--verification-key KEY]
 * [--expect-head HASH] [--report-data FILE [--no-verify] [--from T]
 * [--to T] [--listener NAME]...] FILE...  Prints
 * "OK: N records, anchor A, last L" (exit 0), or "FILE:LINE: why" for the
 * first problem (exit 1); warnings as "FILE:LINE: warning: why".  With
 * --report-data, the same pass writes tlspolicy-report's aggregate
 * (auditagg.h) to FILE.  Exit 2 when the key file cannot be read or the
 * aggregate cannot be written, EX_USAGE for bad arguments.  Starts and
 * joins one worker thread.
 */
int	verify_audit(int argc, char **argv);

/*
 * verifytool_open - a FILE * over path, gzip-compressed or plain (read
 * through zlib); close with fclose.  NULL with errno.
 */
FILE	*verifytool_open(const char *path);

/*
 * verifytool_order - the chain order of files (for tools that read a log
 * without its key, such as --simulate): each file's first "prev" and last
 * "hash" read without checking hashes; the milter's stage file skipped
 * with a warning on stderr (standard output may be a JSON document); the
 * chain starts at the file no other file leads to.  order[] gets the
 * indexes into paths in chain order (empty files anywhere), *n_order
 * their number.  0, or -1 after printing "FILE:LINE: why" (a file that
 * cannot be read: on stderr; a gap or a fork: on stdout).
 */
int	verifytool_order(char *const *paths, int n, int *order, int *n_order);

#endif /* TLSPOLICY_VERIFYTOOL_H */
