/*
 * fuzz_auditchain - the chained line read back: whatever bytes a log
 * holds, auditchain_parse() points inside the line at 64 lowercase hex
 * digits each, the verifier never reads outside what it was given, and a
 * line it accepts parses as a chained line whose hash it recomputes.
 * The input is a whole file (lines, fragments, binary) for
 * auditverify_file() and each of its lines for auditchain_parse().
 */
#include "config.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "auditchain.h"
#include "auditverify.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct auditchain_tail t;
	struct auditverify v;
	char hash[AUDIT_HASH_HEX + 1];
	unsigned long line;
	FILE *fp;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (auditchain_parse(p, (size_t)(nl - p), &t) == 0) {
			assert(t.prev >= p && t.hash + AUDIT_HASH_HEX <= nl);
			assert(auditchain_is_hex(t.prev, AUDIT_HASH_HEX));
			assert(auditchain_is_hex(t.hash, AUDIT_HASH_HEX));
			assert(t.hashed < (size_t)(nl - p));
			auditverify_init(&v, NULL, 0);
			if (auditverify_line(&v, p, (size_t)(nl - p), true) == 0) {
				assert(t.has_open);
				assert(auditchain_line_hash(NULL, 0, p, &t,
				    hash) == 0);
				assert(memcmp(hash, t.hash, AUDIT_HASH_HEX) == 0);
			}
		}
	}
	if (size > 0 && (fp = fmemopen((void *)data, size, "r")) != NULL) {
		auditverify_init(&v, (const unsigned char *)"k", 1);
		(void) auditverify_file(&v, fp, &line);
		(void) fclose(fp);
	}
	return 0;
}
