/*
 * netaddr.h - IPv4 and IPv6 addresses and CIDR lists
 *
 * Parses textual addresses ("192.0.2.1", "2001:db8::1", "[2001:db8::1]",
 * "IPv6:2001:db8::1" as Sendmail writes them) and CIDR blocks
 * ("192.0.2.0/24", "2001:db8::/32", a bare address meaning /32 or /128).
 * An IPv4-mapped IPv6 address (::ffff:192.0.2.1) matches IPv4 blocks.
 * No I/O, no DNS.  A list is immutable once built and may be read from any
 * number of threads.
 */
#ifndef TLSPOLICY_NETADDR_H
#define TLSPOLICY_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netaddr {
	int	family;		/* AF_INET or AF_INET6; 0 when unset */
	uint8_t	bytes[16];	/* network order; IPv4 uses the first 4 */
};

struct netaddr_block {
	struct netaddr	addr;	/* host bits cleared */
	unsigned	prefix;	/* 0..32 or 0..128 */
};

struct netaddr_list {
	struct netaddr_block	*blocks;	/* owned */
	size_t			 n_blocks;
};

/* netaddr_parse - parse one address; 0, or -1 when it is not an address. */
int	netaddr_parse(const char *, struct netaddr *);

/*
 * netaddr_parse_block - parse "ADDR[/PREFIX]".  Returns 0, or -1 and a
 * static message in *why ("prefix 33 out of range 0..32", ...).
 */
int	netaddr_parse_block(const char *, struct netaddr_block *,
	    const char **why);

/* netaddr_list_add - append a block; 0, or -1 (ENOMEM). */
int	netaddr_list_add(struct netaddr_list *, const struct netaddr_block *);

/* netaddr_list_free - free the blocks; the list is empty afterwards. */
void	netaddr_list_free(struct netaddr_list *);

/* netaddr_list_match - true when addr lies in any block of the list. */
bool	netaddr_list_match(const struct netaddr_list *, const struct netaddr *);

/* netaddr_format - "192.0.2.1" / "2001:db8::1" into buf; returns buf. */
char	*netaddr_format(const struct netaddr *, char *buf, size_t size);

/* netaddr_block_format - "192.0.2.0/24" into buf; returns buf. */
char	*netaddr_block_format(const struct netaddr_block *, char *buf,
	    size_t size);

#endif /* TLSPOLICY_NETADDR_H */
