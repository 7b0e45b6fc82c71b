/*
 * fuzz_policy - decide() over arbitrary facts and rules.  The first bytes
 * choose the rules, the rest are fact values split at NUL bytes.  The
 * verdict must be consistent: an accept has no reply, a refusal has a
 * 4xx/5xx reply and a rule, the exposure flag matches the facts, and the
 * reply text never carries input bytes.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_rules r;
	struct policy_verdict v;
	struct facts f;
	char *copy, *p;
	int id;

	if (size < 3)
		return 0;
	policy_rules_init(&r);
	r.require_tls = data[0] & 1;
	r.require_auth = data[0] & 2;
	r.auth_requires_tls = data[0] & 4;
	r.action = (enum policy_action)(1 + (data[0] >> 3) % 3);
	r.min_tls_version = (enum tls_version)(data[1] % 8);
	if (r.min_tls_version == TLS_VERSION_UNKNOWN)
		r.min_tls_version = TLS_VERSION_NONE;
	r.rule_action[data[2] % POLICY_RULE_COUNT] =
	    (enum policy_action)((data[2] >> 4) % 4);
	if ((copy = malloc(size - 2)) == NULL)
		return 0;
	memcpy(copy, data + 3, size - 3);
	copy[size - 3] = '\0';
	facts_init(&f);
	for (p = copy, id = 0; id < FACT_COUNT && p < copy + size - 2; id++) {
		if (facts_set(&f, id, p) == -1)
			abort();
		p += strlen(p) + 1;
	}
	policy_decide(&r, &f, &v);
	if ((v.outcome == POLICY_OUTCOME_ACCEPT) != (v.rule == POLICY_RULE_NONE))
		abort();
	if (v.rule != POLICY_RULE_NONE && (v.reply.code < 400 ||
	    v.reply.code > 599 || v.reply.text[0] == '\0'))
		abort();
	if (v.is_exposure != (facts_has_auth(&f) && !facts_is_tls(&f)))
		abort();
	for (id = 0; id < FACT_COUNT; id++)
		if (f.f[id].text != NULL && strlen(f.f[id].text) > 12 &&
		    (strstr(v.reply.text, f.f[id].text) != NULL ||
		    strstr(v.reason, f.f[id].text) != NULL))
			abort();
	facts_clear(&f);
	policy_rules_free(&r);
	free(copy);
	return 0;
}
