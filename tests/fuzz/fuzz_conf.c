/*
 * fuzz_conf - the config parser over arbitrary text: it must either load
 * a config or return an error naming "file:line:", never crash or leak.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_error err;
	struct conf *conf;

	conf = conf_load_string((const char *)data, size, "fuzz.conf", &err);
	if (conf == NULL) {
		if (strncmp(err.text, "fuzz.conf", 9) != 0)
			abort();	/* every error names the file */
		return 0;
	}
	conf_free(&conf);
	return 0;
}
