/*
 * fuzz_auditagg - the report's aggregation over whatever bytes a log
 * holds: every event it emits is one JSON value (what the report reads
 * with json.loads), a line handed over keeps every byte (its escaped
 * text is never shorter than the line), the lines counted at the end
 * are the lines given, and nothing is read outside the input.  The input
 * is a whole file; its lines go through auditfields_parse() first, as in
 * `tlspolicy-milter --verify-audit --report-data`.
 */
#include "config.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auditagg.h"
#include "auditfields.h"
#include "auditverify.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static unsigned long	 n_ended;	/* "lines" of the end event */

/* check - the emit function: one JSON value; note the end's line count. */
static int
check(void *arg, const char *json, size_t size)
{
	const char *end = "{\"end\":{\"lines\":";

	(void) arg;
	assert(auditverify_is_json(json, size));
	if (size > strlen(end) && memcmp(json, end, strlen(end)) == 0)
		n_ended = strtoul(json + strlen(end), NULL, 10);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char mx[] = "mx";
	char *only[] = { mx };
	struct auditagg_opts o = { .t_from = "2026-11-24T00:00:00.000Z",
	    .t_to = "2026-11-25T00:00:00.000Z", .listeners = only,
	    .n_listeners = size % 2 };
	const char *p = (const char *)data, *end = p + size, *nl;
	struct auditfields af;
	struct auditagg *a;
	unsigned long n = 0;

	auditfields_init(&af);
	a = auditagg_new(&o, check, NULL);
	assert(a != NULL);
	assert(auditagg_begin(a, 0) == 0);
	for (; p < end; p = nl + 1, n++) {
		bool is_whole = true;
		int parsed;

		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL) {
			nl = end;
			is_whole = false;
		}
		parsed = auditfields_parse(&af, p, (size_t)(nl - p));
		assert(auditagg_line(a, p, (size_t)(nl - p), is_whole,
		    parsed == 0 ? &af : NULL) == 0);
	}
	n_ended = ~0UL;
	assert(auditagg_end(a) == 0);
	assert(n_ended == n);
	auditagg_free(&a);
	auditfields_free(&af);
	return 0;
}
