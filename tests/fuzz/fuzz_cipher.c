/*
 * fuzz_cipher - cipher lookup and class parsing over arbitrary names: a
 * lookup either finds a consistent entry (AEAD never CBC, TLS 1.3 always
 * forward secret, the OpenSSL name finds the same entry) or says unknown
 * with the output cleared; never a crash.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlsinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_cipher_info a, b;
	char *name;
	unsigned bit;

	if ((name = malloc(size + 1)) == NULL)
		return 0;
	memcpy(name, data, size);
	name[size] = '\0';
	if (tlsinfo_cipher_lookup(name, &a) == 0) {
		if (!a.is_known || (a.is_aead && (a.classes & TLS_CIPHER_CLASS_CBC)) ||
		    (a.is_tls13 && !a.has_forward_secrecy))
			abort();
		if (tlsinfo_cipher_lookup(a.openssl_name, &b) != 0 ||
		    strcmp(a.openssl_name, b.openssl_name) != 0)
			abort();
	} else if (a.is_known)
		abort();
	if (tlsinfo_cipher_class_parse(name, &bit) == 0 &&
	    tlsinfo_cipher_class_name(bit) == NULL)
		abort();
	(void) tlsinfo_parse_version(name);
	free(name);
	return 0;
}
