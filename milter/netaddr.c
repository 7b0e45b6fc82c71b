/*
 * NAME
 *	netaddr - IPv4 and IPv6 addresses and CIDR lists
 *
 * SYNOPSIS
 *	#include "netaddr.h"
 *
 * DESCRIPTION
 *	Parses textual addresses with inet_pton(3).  Besides the plain forms
 *	("192.0.2.1", "2001:db8::1") it accepts an address in square
 *	brackets ("[192.0.2.1]", "[2001:db8::1]") and Sendmail's "IPv6:"
 *	prefix ("IPv6:2001:db8::1", also "[IPv6:2001:db8::1]"); after
 *	"IPv6:" only an IPv6 address is accepted.  Zone ids ("fe80::1%eth0"),
 *	host names and white space are not addresses.  Nothing is resolved.
 *
 *	A block is "ADDR" or "ADDR/PREFIX" with PREFIX in plain decimal;
 *	host bits below the prefix are cleared, not refused.
 *
 *	An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 blocks,
 *	and an IPv4 address matches an IPv6 block that holds its mapped
 *	form; the parsed address keeps the family it was written in.
 *
 *	The caller owns a list and frees it with netaddr_list_free().  A
 *	list that is no longer modified may be read by any number of
 *	threads; building it is not thread-safe.
 *
 * DIAGNOSTICS
 *	netaddr_parse() returns -1 for anything that is not an address.
 *	netaddr_parse_block() returns -1 with a static message in *why.
 *	netaddr_list_add() returns -1 with errno ENOMEM.  The format
 *	functions write "" when the result does not fit.  Nothing is logged.
 *
 * SEE ALSO
 *	conf.c (address lists in the configuration); RFC 4291, RFC 4632,
 *	RFC 5321 section 4.1.3 (address literals)
 *
 * LICENSE
 *	SPDX-License-Identifier: BSD-2-Clause
 *	Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "netaddr.h"

#define IPV6_TAG	"IPv6:"
#define IPV6_TAG_LEN	(sizeof(IPV6_TAG) - 1)

static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static int	parse_prefix(const char *, unsigned max, unsigned *);
static const char *prefix_error(const char *, unsigned max);
static void	clear_host_bits(uint8_t *, unsigned prefix);
static bool	prefix_equal(const uint8_t *, const uint8_t *, unsigned);
static bool	block_match(const struct netaddr_block *,
		    const struct netaddr *);

int
netaddr_parse(const char *s, struct netaddr *addr)
{
	char buf[INET6_ADDRSTRLEN + 1];
	const char *p;
	size_t len;
	bool v6only = false;

	if (s == NULL)
		return -1;
	p = s;
	len = strlen(s);
	if (len >= 2 && p[0] == '[' && p[len - 1] == ']') {
		p++;
		len -= 2;
	}
	if (len > IPV6_TAG_LEN && strncasecmp(p, IPV6_TAG, IPV6_TAG_LEN) == 0) {
		p += IPV6_TAG_LEN;
		len -= IPV6_TAG_LEN;
		v6only = true;
	}
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	memset(addr, 0, sizeof(*addr));
	if (!v6only && inet_pton(AF_INET, buf, addr->bytes) == 1) {
		addr->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, addr->bytes) == 1) {
		addr->family = AF_INET6;
		return 0;
	}
	memset(addr, 0, sizeof(*addr));
	return -1;
}

int
netaddr_parse_block(const char *s, struct netaddr_block *blk,
    const char **why)
{
	char buf[INET6_ADDRSTRLEN + IPV6_TAG_LEN + 3];
	const char *slash;
	size_t len;
	unsigned max;

	memset(blk, 0, sizeof(*blk));
	*why = "not an IP address";
	if (s == NULL)
		return -1;
	if ((slash = strrchr(s, '/')) == NULL)
		slash = s + strlen(s);
	len = (size_t)(slash - s);
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (netaddr_parse(buf, &blk->addr) == -1)
		return -1;
	max = blk->addr.family == AF_INET ? 32 : 128;
	blk->prefix = max;
	if (*slash == '/' && parse_prefix(slash + 1, max, &blk->prefix) == -1) {
		*why = prefix_error(slash + 1, max);
		memset(blk, 0, sizeof(*blk));
		return -1;
	}
	clear_host_bits(blk->addr.bytes, blk->prefix);
	*why = NULL;
	return 0;
}

int
netaddr_list_add(struct netaddr_list *list, const struct netaddr_block *blk)
{
	struct netaddr_block *p;
	size_t n = list->n_blocks, cap;

	/* Capacity is implicit: the next power of two >= n_blocks (min 8). */
	if (n == 0 || (n >= 8 && (n & (n - 1)) == 0)) {
		cap = n == 0 ? 8 : n * 2;
		if (cap > SIZE_MAX / sizeof(*p)) {
			errno = ENOMEM;
			return -1;
		}
		if ((p = realloc(list->blocks, cap * sizeof(*p))) == NULL) {
			errno = ENOMEM;
			return -1;
		}
		list->blocks = p;
	}
	list->blocks[n] = *blk;
	list->n_blocks = n + 1;
	return 0;
}

void
netaddr_list_free(struct netaddr_list *list)
{
	free(list->blocks);
	list->blocks = NULL;
	list->n_blocks = 0;
}

bool
netaddr_list_match(const struct netaddr_list *list,
    const struct netaddr *addr)
{
	size_t i;

	if (list == NULL || addr == NULL)
		return false;
	for (i = 0; i < list->n_blocks; i++)
		if (block_match(&list->blocks[i], addr))
			return true;
	return false;
}

char *
netaddr_format(const struct netaddr *addr, char *buf, size_t size)
{
	socklen_t n;

	if (size == 0)
		return buf;
	n = size < INET6_ADDRSTRLEN ? (socklen_t)size : INET6_ADDRSTRLEN;
	if ((addr->family != AF_INET && addr->family != AF_INET6) ||
	    inet_ntop(addr->family, addr->bytes, buf, n) == NULL)
		buf[0] = '\0';
	return buf;
}

char *
netaddr_block_format(const struct netaddr_block *blk, char *buf, size_t size)
{
	size_t len;
	int n;

	if (size == 0)
		return buf;
	(void) netaddr_format(&blk->addr, buf, size);
	len = strlen(buf);
	if (len == 0)
		return buf;
	n = snprintf(buf + len, size - len, "/%u", blk->prefix);
	if (n < 0 || (size_t)n >= size - len)
		buf[0] = '\0';
	return buf;
}

/* parse_prefix - plain decimal 0..max; 0 or -1. */
static int
parse_prefix(const char *s, unsigned max, unsigned *prefix)
{
	unsigned v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -1;
	}
	*prefix = v;
	return 0;
}

/* prefix_error - why parse_prefix refused s. */
static const char *
prefix_error(const char *s, unsigned max)
{
	if (*s == '\0')
		return "missing prefix after /";
	if (strspn(s, "0123456789") != strlen(s))
		return "prefix is not a decimal number";
	return max == 32 ? "prefix out of range 0..32" :
	    "prefix out of range 0..128";
}

/* clear_host_bits - zero every bit of a 16-byte address below prefix. */
static void
clear_host_bits(uint8_t *bytes, unsigned prefix)
{
	unsigned i;

	for (i = 0; i < 16; i++) {
		if (prefix >= 8 * (i + 1))
			continue;
		if (prefix <= 8 * i)
			bytes[i] = 0;
		else
			bytes[i] &= (uint8_t)(0xff << (8 - (prefix - 8 * i)));
	}
}

/* prefix_equal - the first prefix bits of a and b are the same. */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	uint8_t mask;

	if (full > 0 && memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* block_match - addr lies in blk, looking through IPv4-mapped IPv6. */
static bool
block_match(const struct netaddr_block *blk, const struct netaddr *addr)
{
	uint8_t mapped[16];

	if (addr->family != AF_INET && addr->family != AF_INET6)
		return false;
	if (blk->addr.family == addr->family)
		return prefix_equal(blk->addr.bytes, addr->bytes, blk->prefix);
	if (blk->addr.family == AF_INET && addr->family == AF_INET6) {
		if (memcmp(addr->bytes, v4mapped_prefix, 12) != 0)
			return false;
		return prefix_equal(blk->addr.bytes, addr->bytes + 12,
		    blk->prefix);
	}
	if (blk->addr.family == AF_INET6 && addr->family == AF_INET) {
		memcpy(mapped, v4mapped_prefix, 12);
		memcpy(mapped + 12, addr->bytes, 4);
		return prefix_equal(blk->addr.bytes, mapped, blk->prefix);
	}
	return false;
}
