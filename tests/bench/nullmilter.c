/*
 * nullmilter - the floor for benchmarks: a libmilter milter that accepts
 * everything and asks for the same protocol steps as tlspolicy-milter
 * (connect, HELO, MAIL; no reply at connect and HELO), with a
 * per-connection allocation and smfi_getsymval calls like a real policy
 * milter makes, but no policy, no records.
 *
 *   nullmilter -p inet:PORT@127.0.0.1
 *
 * It runs in a session of its own, as tlspolicy-milter does once it has
 * daemonized: with the kernel's scheduler autogroups, each session is
 * one scheduling group, so both milters share the CPU with the load
 * generator alike.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

struct state {
	unsigned	n;
};

static char name[] = "nullmilter";

static sfsistat
negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
    unsigned long f3, unsigned long *p0, unsigned long *p1, unsigned long *p2,
    unsigned long *p3)
{
	(void) f0; (void) f2; (void) f3;
	*p0 = 0;
	*p1 = f1 & (SMFIP_NORCPT | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY |
	    SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NR_CONN | SMFIP_NR_HELO);
	*p2 = *p3 = 0;
	(void) smfi_setpriv(ctx, calloc(1, sizeof(struct state)));
	return SMFIS_CONTINUE;
}

static sfsistat
connect_cb(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void) host; (void) sa;
	(void) smfi_getsymval(ctx, (char *)"{daemon_port}");
	return SMFIS_NOREPLY;
}

static sfsistat
helo_cb(SMFICTX *ctx, char *helo)
{
	(void) helo;
	(void) smfi_getsymval(ctx, (char *)"{tls_version}");
	return SMFIS_NOREPLY;
}

static sfsistat
mail_cb(SMFICTX *ctx, char **argv)
{
	struct state *s = smfi_getpriv(ctx);

	(void) argv;
	(void) smfi_getsymval(ctx, (char *)"{auth_authen}");
	if (s != NULL)
		s->n++;
	return SMFIS_ACCEPT;
}

static sfsistat
close_cb(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	(void) smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

int
main(int argc, char **argv)
{
	struct smfiDesc d = {
		.xxfi_name = name, .xxfi_version = SMFI_VERSION,
		.xxfi_connect = connect_cb, .xxfi_helo = helo_cb,
		.xxfi_envfrom = mail_cb, .xxfi_close = close_cb,
		.xxfi_negotiate = negotiate,
	};
	int c;

	while ((c = getopt(argc, argv, "p:")) != -1)
		if (c == 'p' && smfi_setconn(optarg) != MI_SUCCESS)
			return 1;
	if (smfi_register(d) != MI_SUCCESS || smfi_opensocket(true) != MI_SUCCESS)
		return 1;
	(void) setsid();	/* fails only for a group leader: then already apart */
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
