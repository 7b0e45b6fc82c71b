/*
 * NAME
 *	keyfile - read the audit HMAC key file
 *
 * SYNOPSIS
 *	#include "keyfile.h"
 *
 * DESCRIPTION
 *	keyfile_read() reads the key for the audit chain's HMAC: the file's
 *	bytes without one trailing newline, 1 to AUDIT_KEY_MAX bytes.  The
 *	caller owns the buffer.  Used by the daemon (setup.c) and the
 *	verifier tool (verifytool.c), so both read a key the same way.
 *
 * DIAGNOSTICS
 *	-1 after "tlspolicy-milter: PATH: ..." on stderr.
 *
 * SEE ALSO
 *	setup.c, verifytool.c, auditchain.c
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auditchain.h"
#include "keyfile.h"

int
keyfile_read(const char *path, unsigned char *key, size_t *size)
{
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "tlspolicy-milter: %s: cannot read audit key: %s\n",
		    path, strerror(errno));
		return -1;
	}
	n = fread(key, 1, AUDIT_KEY_MAX, fp);
	if (n > 0 && key[n - 1] == '\n')
		n--;
	if (ferror(fp) || n == 0 || fgetc(fp) != EOF) {
		(void) fclose(fp);
		fprintf(stderr, "tlspolicy-milter: %s: audit key must be 1..%d"
		    " bytes\n", path, AUDIT_KEY_MAX);
		return -1;
	}
	(void) fclose(fp);
	*size = n;
	return 0;
}
