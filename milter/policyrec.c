/*
 * NAME
 *	policyrec - the policy in the evidence: its text and its fingerprint
 *
 * SYNOPSIS
 *	#include "policyrec.h"
 *
 * DESCRIPTION
 *	policyrec_text() captures conf_print()'s text (what "-n" prints) in
 *	memory; policyrec_fingerprint() is its SHA-256 (auditchain.c's
 *	hash); policyrec_set() stores the fingerprint in a config that is
 *	about to be installed.
 *
 *	policyrec_load() reads such a text back into a config, for the
 *	replay of recorded decisions (simulate.c).  It does not parse the
 *	policy on its own: it turns each line of the text into the config
 *	lines that mean it ("listener L (line 3): port 587; name -; match
 *	any" into "[listener L]", "port 587", "match any"; "require-tls yes;
 *	require-auth no" into one key a line; a reply line into RULE-action
 *	and, unless built in, RULE-reply) and loads them with
 *	conf_load_string(), so every value goes through the config's own
 *	setters.  Replies printed as tempfail ("451 4.7.0 ...") are read as
 *	530 5.7.0 with action tempfail, which decide() sends as the same
 *	451 4.7.0.  Global lines (socket, files, the rule order) are
 *	skipped: they take no part in a decision.  A line in a listener
 *	block that is not understood is an error, never skipped.
 *
 *	All functions are thread-safe; returned memory is the caller's.
 *
 * DIAGNOSTICS
 *	NULL or -1 with errno (ENOMEM, EIO from OpenSSL); policyrec_load
 *	fills the caller's conf_error ("policy:LINE: ...").
 *
 * SEE ALSO
 *	conf_print.c, conf.c, auditchain.c, simulate.c; doc/audit-format.md
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditchain.h"
#include "conf.h"
#include "policyrec.h"
#include "strbuf.h"

#define POLICYREC_MAX	(1024 * 1024)	/* the longest text read back */

static int	translate(const char *, size_t, struct strbuf *,
		    struct conf_error *);
static char	*text_with(const struct conf *, const struct conf_overrides *,
		    size_t *);
static int	block_line(char *, struct strbuf *);
static int	header(char *, struct strbuf *);
static int	pairs(char *, struct strbuf *);
static int	reply(char *, struct strbuf *);
static int	cert_patterns(char *, struct strbuf *);
static int	put_list(struct strbuf *, const char *, const char *);

char *
policyrec_text(const struct conf *conf, size_t *size)
{
	return text_with(conf, NULL, size);
}

/* text_with - conf_print_with's text into a new string (see policyrec_text). */
static char *
text_with(const struct conf *conf, const struct conf_overrides *ov,
    size_t *size)
{
	char *text = NULL;
	FILE *fp;

	if ((fp = open_memstream(&text, size)) == NULL)
		return NULL;
	if (conf_print_with(conf, ov, fp) == -1) {
		(void) fclose(fp);
		free(text);
		errno = ENOMEM;
		return NULL;
	}
	if (fclose(fp) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

int
policyrec_fingerprint(const char *text, size_t size, char *hex)
{
	if (auditchain_hash(NULL, 0, text, size, hex) == -1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

char *
policyrec_set(struct conf *conf, const struct conf_overrides *ov,
    size_t *size)
{
	char *text;

	if ((text = text_with(conf, ov, size)) == NULL)
		return NULL;
	if (policyrec_fingerprint(text, *size, conf->fingerprint) == -1) {
		free(text);
		return NULL;
	}
	return text;
}

struct conf *
policyrec_load(const char *text, size_t size, struct conf_error *err)
{
	struct strbuf sb;
	struct conf *conf = NULL;

	strbuf_init(&sb, 4 * POLICYREC_MAX);
	if (size > POLICYREC_MAX)
		(void) snprintf(err->text, sizeof(err->text), "policy:0: text"
		    " of %zu bytes is longer than %d", size, POLICYREC_MAX);
	else if (translate(text, size, &sb, err) == 0)
		conf = conf_load_string(strbuf_str(&sb), sb.len,
		    "policy (as a config)", err);
	strbuf_free(&sb);
	return conf;
}

/*
 * translate - the config lines the policy text means, into sb.  The text
 * before the first block (global settings) is skipped.  0, or -1 with err.
 */
static int
translate(const char *text, size_t size, struct strbuf *sb,
    struct conf_error *err)
{
	bool in_block = false;
	unsigned lineno = 0;
	size_t i = 0, end;
	char *line;
	int rc = 0;

	while (rc == 0 && i < size) {
		for (end = i; end < size && text[end] != '\n'; end++)
			continue;
		lineno++;
		if ((line = strndup(text + i, end - i)) == NULL) {
			(void) snprintf(err->text, sizeof(err->text),
			    "policy:%u: out of memory", lineno);
			return -1;
		}
		if (strncmp(line, "listener ", 9) == 0 ||
		    strncmp(line, "[default]", 9) == 0) {
			in_block = true;
			rc = header(line, sb);
		} else if (in_block && line[0] != '\0')
			rc = block_line(line, sb);
		if (rc == -1)
			(void) snprintf(err->text, sizeof(err->text),
			    "policy:%u: not understood: %.200s", lineno, line);
		free(line);
		i = end + 1;
	}
	if (rc == 0 && !in_block) {
		(void) snprintf(err->text, sizeof(err->text),
		    "policy:%u: no listener block", lineno);
		rc = -1;
	}
	return rc;
}

/*
 * header - "listener L (line N): port 25, 2525; name -; match any" or
 * "[default] (...): sessions no listener matches".
 */
static int
header(char *line, struct strbuf *sb)
{
	char *label, *sel, *ports, *names, *match;

	if (line[0] == '[')
		return strbuf_puts(sb, "[default]\n");
	label = line + 9;
	if ((sel = strstr(label, " (")) == NULL)
		return -1;
	*sel++ = '\0';
	if ((sel = strstr(sel, "): port ")) == NULL)
		return -1;
	ports = sel + 8;
	if ((names = strstr(ports, "; name ")) == NULL)
		return -1;
	*names = '\0';
	names += 7;
	if ((match = strstr(names, "; match ")) == NULL)
		return -1;
	*match = '\0';
	match += 8;
	if (strbuf_puts(sb, "[listener ") == -1 || strbuf_puts(sb, label) ==
	    -1 || strbuf_puts(sb, "]\n") == -1)
		return -1;
	if (put_list(sb, "port", ports) == -1 ||
	    put_list(sb, "name", names) == -1)
		return -1;
	return put_list(sb, "match", match);
}

/* put_list - "key value\n" unless value is "-". */
static int
put_list(struct strbuf *sb, const char *key, const char *value)
{
	if (strcmp(value, "-") == 0)
		return 0;
	if (strbuf_puts(sb, key) == -1 || strbuf_putc(sb, ' ') == -1 ||
	    strbuf_puts(sb, value) == -1)
		return -1;
	return strbuf_putc(sb, '\n');
}

/* block_line - one indented line of a listener block. */
static int
block_line(char *line, struct strbuf *sb)
{
	char *p = line;

	while (*p == ' ')
		p++;
	if (p == line)
		return -1;
	if (strncmp(p, "replies: ", 9) == 0)
		p += 9;
	if (*p >= '1' && *p <= '9')
		return reply(p, sb);
	if (strcmp(p, "none (no rule is on)") == 0 ||
	    strcmp(p, "forbid-ciphers none") == 0)
		return 0;
	if (strncmp(p, "client-cert-issuer ", 19) == 0)
		return cert_patterns(p, sb);
	if (strncmp(p, "forbid-ciphers ", 15) == 0 ||
	    strncmp(p, "exempt-users ", 13) == 0)
		return strbuf_printf(sb, "%s\n", p);
	return pairs(p, sb);
}

/* pairs - "key value; key value" as one line each. */
static int
pairs(char *p, struct strbuf *sb)
{
	char *next;

	for (; p != NULL; p = next) {
		if ((next = strstr(p, "; ")) != NULL) {
			*next = '\0';
			next += 2;
		}
		if (strchr(p, ' ') == NULL || strbuf_puts(sb, p) == -1 ||
		    strbuf_putc(sb, '\n') == -1)
			return -1;
	}
	return 0;
}

/*
 * reply - "N RULE ACTION \"CODE X.Y.Z TEXT\"" and " (built in)" or
 * nothing: RULE-action and, when configured, RULE-reply.
 */
static int
reply(char *p, struct strbuf *sb)
{
	char *rule, *action, *quoted, *end;
	bool is_builtin;
	size_t len;

	if ((rule = strchr(p, ' ')) == NULL)
		return -1;
	rule++;
	if ((action = strchr(rule, ' ')) == NULL)
		return -1;
	*action++ = '\0';
	if ((quoted = strchr(action, ' ')) == NULL || quoted[1] != '"')
		return -1;
	*quoted = '\0';
	quoted += 2;
	len = strlen(quoted);
	is_builtin = len > 12 && strcmp(quoted + len - 12, "\" (built in)") == 0;
	end = is_builtin ? quoted + len - 12 : quoted + len - 1;
	if (end < quoted || *end != '"')
		return -1;
	*end = '\0';
	if (strbuf_printf(sb, "%s-action %s\n", rule, action) == -1)
		return -1;
	if (is_builtin)
		return 0;
	if (strncmp(quoted, "451 4.", 6) == 0)	/* tempfail's form of 5xx 5. */
		return strbuf_printf(sb, "%s-reply \"530 5.%s\"\n", rule,
		    quoted + 6);
	return strbuf_printf(sb, "%s-reply \"%s\"\n", rule, quoted);
}

/* cert_patterns - "client-cert-issuer A; client-cert-subject B" ("any": none). */
static int
cert_patterns(char *p, struct strbuf *sb)
{
	char *issuer = p + 19, *subject = NULL, *s;

	for (s = issuer; (s = strstr(s, "; client-cert-subject ")) != NULL;
	    s++)
		subject = s;
	if (subject == NULL)
		return -1;
	*subject = '\0';
	subject += 22;
	if (strcmp(issuer, "any") != 0 &&
	    strbuf_printf(sb, "client-cert-issuer \"%s\"\n", issuer) == -1)
		return -1;
	if (strcmp(subject, "any") != 0 &&
	    strbuf_printf(sb, "client-cert-subject \"%s\"\n", subject) == -1)
		return -1;
	return 0;
}
