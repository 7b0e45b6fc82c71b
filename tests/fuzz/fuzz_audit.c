/*
 * fuzz_audit - record escaping: whatever a value holds, the kv form and
 * the JSON form are one line, contain no control byte, and the JSON form
 * is valid UTF-8 inside one pair of quotes.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "audit.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* valid_utf8 - strict UTF-8 (no overlongs, surrogates, > U+10FFFF). */
static bool
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i], len, cp;

		if (c < 0x80) { i++; continue; }
		if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
		else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
		else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
		else return false;
		if (i + len > n)
			return false;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static void
check_line(const struct strbuf *sb)
{
	for (size_t i = 0; i < sb->len; i++) {
		unsigned char c = (unsigned char)sb->data[i];

		if (c < 0x20 || c == 0x7f)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, 16 * size + 64);
	if (audit_escape_kv(&sb, (const char *)data, size) == -1)
		abort();
	check_line(&sb);
	strbuf_reset(&sb);
	if (audit_escape_json(&sb, (const char *)data, size) == -1)
		abort();
	check_line(&sb);
	if (sb.len < 2 || sb.data[0] != '"' || sb.data[sb.len - 1] != '"' ||
	    !valid_utf8((const unsigned char *)sb.data, sb.len))
		abort();
	/* no unescaped quote inside */
	for (size_t i = 1; i + 1 < sb.len; i++) {
		if (sb.data[i] == '\\')
			i++;
		else if (sb.data[i] == '"')
			abort();
	}
	strbuf_free(&sb);
	return 0;
}
