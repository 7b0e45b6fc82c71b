/*
 * fuzz_facts - macro values to facts: the input is split at NUL bytes into
 * the values of the macros the milter reads, in table order, and fed
 * through every stage group twice, compacted after each pass (as a
 * session is after MAIL).  Facts must stay consistent: OVERSIZE has no
 * text, OK and MALFORMED have one, problem texts never hold input.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct input {
	const char	*values[FACT_COUNT];
};

static const char *
lookup(void *ctx, const char *name)
{
	struct input *in = ctx;

	for (int id = 0; id < FACT_COUNT; id++)
		if (strcmp(facts_id_macro(id), name) == 0)
			return in->values[id];
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { { 0 } };
	struct facts f;
	char *copy, *p, problem[256];
	int id = 0;

	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (p = copy; id < FACT_COUNT && p <= copy + size; id++) {
		in.values[id] = (*p == '\x01') ? NULL : p;	/* \1: absent */
		p += strlen(p) + 1;
	}
	facts_init(&f);
	for (int round = 0; round < 2; round++) {
		for (int g = FACTS_GROUP_CONNECT; g <= FACTS_GROUP_QUEUE; g++)
			if (facts_update(&f, g, lookup, &in) == -1)
				abort();
		if (facts_compact(&f) == -1)	/* as a session after MAIL */
			abort();
	}
	for (id = 0; id < FACT_COUNT; id++) {
		const struct fact *x = &f.f[id];

		if ((x->state == FACT_OVERSIZE || x->state == FACT_ABSENT) !=
		    (x->text == NULL))
			abort();
		(void) facts_describe(&f, id, problem, sizeof(problem));
		if (x->text != NULL && strlen(x->text) > 8 &&
		    strstr(problem, x->text) != NULL)
			abort();	/* a problem text echoes network input */
	}
	(void) facts_is_tls(&f);
	(void) facts_has_auth(&f);
	facts_clear(&f);
	free(copy);
	return 0;
}
