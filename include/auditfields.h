/*
 * auditfields.h - the members of one audit record (a flat JSON object)
 *
 * Reads a record line ({"v":2,"time":"...",...}) into its members: each
 * key and value, strings unescaped (\u00NN back to the byte NN, as the
 * escaper in audit.c wrote it), numbers, true, false and null as their
 * text.  Nested objects and arrays are taken as one value of kind
 * OTHER (their text).  For the tools that read logs (simulate.c, the
 * policy check of verifytool.c); the chain members themselves are
 * auditchain.h's.  No I/O; a struct auditfields belongs to one thread.
 */
#ifndef TLSPOLICY_AUDITFIELDS_H
#define TLSPOLICY_AUDITFIELDS_H

#include <stdbool.h>
#include <stddef.h>

#define AUDITFIELDS_MAX	64	/* members of one record */

enum auditfield_kind {
	AUDITFIELD_STRING = 0,
	AUDITFIELD_NUMBER,
	AUDITFIELD_TRUE,
	AUDITFIELD_FALSE,
	AUDITFIELD_NULL,
	AUDITFIELD_OTHER,	/* an object or array, as its text */
};

struct auditfield {
	const char		*key;	/* NUL-terminated, in the buffer */
	size_t			 key_len;
	const char		*value;	/* NUL-terminated, in the buffer */
	size_t			 len;	/* of value (it may hold NUL bytes) */
	enum auditfield_kind	 kind;
};

struct auditfields {
	struct auditfield	 f[AUDITFIELDS_MAX];
	size_t			 n;
	size_t			 cursor;	/* where the next get starts */
	char			*buf;		/* owned */
	size_t			 size;
};

/* auditfields_init - empty, no memory yet. */
void	auditfields_init(struct auditfields *);

/* auditfields_free - free the buffer. */
void	auditfields_free(struct auditfields *);

/*
 * auditfields_parse - the members of the JSON object in line (size
 * bytes, no newline).  Members are borrowed until the next parse.  0, or
 * -1 when the line is not one JSON object or has more than
 * AUDITFIELDS_MAX members (errno EINVAL), or no memory (ENOMEM).
 */
int	auditfields_parse(struct auditfields *, const char *line, size_t size);

/*
 * auditfields_get - the member named key, or NULL.  Fast when members
 * are asked for in the order of the record.
 */
const struct auditfield *auditfields_get(struct auditfields *,
	    const char *key);

/*
 * auditfields_plain_run - how many of the size bytes at p a JSON string
 * holds as they are (no '"', no backslash, no control byte): where a
 * string's reader must look next.  Pure; any thread.
 */
size_t	auditfields_plain_run(const char *p, size_t size);

/* auditfields_str - the string value of key, or NULL (absent, not a string). */
const char *auditfields_str(struct auditfields *, const char *key);

/* auditfields_bool - 1 for true, 0 for false, -1 absent or not a bool. */
int	auditfields_bool(struct auditfields *, const char *key);

#endif /* TLSPOLICY_AUDITFIELDS_H */
