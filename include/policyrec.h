/*
 * policyrec.h - the policy in the evidence: its text and its fingerprint
 *
 * The policy in force is the text "-n" prints (conf_print); its
 * fingerprint is the lowercase hex SHA-256 of that text.  The daemon
 * writes a "policy" record (audit.h) with both at start and at every
 * successful reload, and every decision record names the fingerprint of
 * the config that decided it ("policy"), so a decision can be replayed
 * from the log alone (simulate.h).  No libmilter, no clock.
 */
#ifndef TLSPOLICY_POLICYREC_H
#define TLSPOLICY_POLICYREC_H

#include <stddef.h>

#include "conf.h"

/*
 * policyrec_text - conf_print's text of conf, owned by the caller (free
 * it), its length in *size.  NULL with errno on failure.
 */
char	*policyrec_text(const struct conf *, size_t *size);

/*
 * policyrec_fingerprint - hex SHA-256 of size bytes of text into hex
 * (AUDIT_HASH_HEX + 1 bytes).  0, or -1 (OpenSSL).
 */
int	policyrec_fingerprint(const char *text, size_t size, char *hex);

/*
 * policyrec_set - compute conf's text, with the values ov (NULL: none)
 * puts in place of the config's (conf_print_with), and set
 * conf->fingerprint (before the config is installed, while it is not
 * shared); the text is returned as by policyrec_text.  NULL with errno
 * on failure.
 */
char	*policyrec_set(struct conf *, const struct conf_overrides *ov,
	    size_t *size);

/*
 * policyrec_load - a config whose policy is what text (a policy record's
 * text: conf_print's output) describes: the listeners, their selectors,
 * rules, actions, replies, trusted networks, exempt users, cipher and
 * certificate rules.  Global settings (socket, files) are not restored:
 * they do not take part in decisions.  Owned by the caller (conf_free);
 * NULL with err ("policy:LINE: ...") when a line is not understood.
 */
struct conf *policyrec_load(const char *text, size_t size,
	    struct conf_error *err);

#endif /* TLSPOLICY_POLICYREC_H */
