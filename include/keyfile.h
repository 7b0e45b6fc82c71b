/*
 * keyfile.h - the audit HMAC key file
 *
 * Read by the daemon at start (audit-key-file) and by --verify-audit
 * (--key-file).  Thread-safe (no state).
 */
#ifndef TLSPOLICY_KEYFILE_H
#define TLSPOLICY_KEYFILE_H

#include <stddef.h>

/*
 * keyfile_read - the HMAC key: the file's bytes without one trailing
 * newline, 1..AUDIT_KEY_MAX bytes, into key (AUDIT_KEY_MAX bytes), its
 * length in *size.  0, or -1 with a message on stderr.
 */
int	keyfile_read(const char *path, unsigned char *key, size_t *size);

#endif /* TLSPOLICY_KEYFILE_H */
