/*
 * verifytool.h - tlspolicy-milter --verify-audit: check audit files
 *
 * The command-line tool around auditverify.h: reads the files (plain or
 * gzip-compressed), orders them by the chain itself, requires the chain
 * to start at the anchor, and prints the result.
 */
#ifndef TLSPOLICY_VERIFYTOOL_H
#define TLSPOLICY_VERIFYTOOL_H

/*
 * verify_audit - the arguments after --verify-audit:
 * [--key-file FILE] [--anchor HASH] FILE...  Prints
 * "OK: N records, anchor A, last L" (exit 0), or "FILE:LINE: why" for the
 * first problem (exit 1); warnings as "FILE:LINE: warning: why".  Exit 2
 * when the key file cannot be read, EX_USAGE for bad arguments.
 */
int	verify_audit(int argc, char **argv);

#endif /* TLSPOLICY_VERIFYTOOL_H */
