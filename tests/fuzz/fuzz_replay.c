/*
 * fuzz_replay - what --simulate reads from a log it cannot trust: a
 * record's members (auditfields) and a policy record's text read back
 * into a config (policyrec_load).  Either works or fails cleanly: a
 * parsed member lies inside the buffer, a text not understood gives an
 * error naming "policy", a text that loads prints again and loads again.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auditfields.h"
#include "conf.h"
#include "policyrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auditfields af;
	struct conf_error err;
	struct conf *conf, *again;
	char *text;
	size_t n;

	auditfields_init(&af);
	if (auditfields_parse(&af, (const char *)data, size) == 0) {
		for (size_t i = 0; i < af.n; i++)
			if (af.f[i].value < af.buf ||
			    af.f[i].value + af.f[i].len >= af.buf + af.size)
				abort();
		(void) auditfields_get(&af, "type");
	}
	auditfields_free(&af);
	if ((conf = policyrec_load((const char *)data, size, &err)) == NULL) {
		if (strncmp(err.text, "policy", 6) != 0)
			abort();
		return 0;
	}
	if ((text = policyrec_text(conf, &n)) == NULL)
		abort();
	if ((again = policyrec_load(text, n, &err)) == NULL)
		abort();	/* what it printed must read back */
	conf_free(&again);
	free(text);
	conf_free(&conf);
	return 0;
}
