/*
 * mload - a milter-protocol (v6) client: load generator, memory probe and
 * hostile-session driver for tlspolicy-milter and the null milter.
 *
 *   mload -s inet:PORT@127.0.0.1 [-c CONC] [-n SESSIONS] [-t SECONDS]
 *         [-p MILTER_PID] [-m load|hold|holdmail|hostile] [-k OPEN] [-r REJECT%]
 *
 * load     CONC threads play SESSIONS sessions (negotiate, macros, connect,
 *          HELO, MAIL, QUIT), as an MTA does: one milter connection per
 *          SMTP session.  Prints sessions/s, MAIL reply latency p50/p99
 *          (microseconds) and, with -p, the milter's CPU per 10k sessions.
 * hold     opens OPEN sessions up to HELO and keeps them open; with -p
 *          prints the milter's resident memory per open session.
 * holdmail the same, each held just after an accepted MAIL (TLS and
 *          AUTH), where real sessions spend their time (the message).
 * hostile  oversized, binary and malformed macro values, dropped
 *          connections, aborts and commands out of order; prints how many
 *          MAIL decisions the milter answered.
 *
 * Output is one line of key=value pairs.  Every loop is bounded by -n and
 * -t.  Only loopback sockets are accepted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NR_CONN		0x00001000UL
#define NR_HELO		0x00002000UL
#define NOCONNECT	0x00000001UL
#define NOHELO		0x00000002UL
#define OFFERED_PROT	(0x001FFFFFUL | 0x10000000UL | 0x20000000UL) /* + MDS_256K, MDS_1M */
#define OFFERED_ACT	0x000001FFUL

static const char	*sockspec;
static int		 n_conc = 20, reject_pct = 0;
static long		 n_sessions = 10000, max_seconds = 60;
static atomic_long	 next_session, done_sessions, errors, decisions;
static atomic_long	 n_accept, n_reject, n_tempfail;
static double		*lat_us;
static struct timespec	 t_start;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* set_timeouts - no read or write waits longer than 10 s: a hung milter is an error, not a hung test. */
static void
set_timeouts(int fd)
{
	struct timeval tv = { 10, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int
dial(void)
{
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd, one = 1;
	const char *at;

	if (strncmp(sockspec, "unix:", 5) == 0) {
		snprintf(un.sun_path, sizeof(un.sun_path), "%s", sockspec + 5);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			return -1;
		set_timeouts(fd);
		if (connect(fd, (void *)&un, sizeof(un)) == -1) {
			close(fd);
			return -1;
		}
		return fd;
	}
	at = strchr(sockspec, '@');
	in.sin_port = htons((uint16_t)atoi(sockspec + 5));
	if (at == NULL || inet_pton(AF_INET, at + 1, &in.sin_addr) != 1 ||
	    (ntohl(in.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "mload: only inet:PORT@127.x.y.z or unix:PATH\n");
		exit(2);
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timeouts(fd);
	if (connect(fd, (void *)&in, sizeof(in)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
write_all(int fd, const void *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0) {
			if (w == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

/* send_pkt - one milter packet: length, command, data. */
static int
send_pkt(int fd, char cmd, const void *data, size_t n)
{
	char hdr[5];
	uint32_t len = htonl((uint32_t)n + 1);

	memcpy(hdr, &len, 4);
	hdr[4] = cmd;
	if (write_all(fd, hdr, 5) == -1)
		return -1;
	return n > 0 ? write_all(fd, data, n) : 0;
}

static int
read_all(int fd, void *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p = (char *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

/* recv_pkt - one reply; its command, the data in buf (up to size). */
static int
recv_pkt(int fd, char *buf, size_t size, size_t *len)
{
	uint32_t n;
	char cmd;
	static char sink[65536];

	if (read_all(fd, &n, 4) == -1)
		return -1;
	n = ntohl(n);
	if (n == 0 || n > 1048576 || read_all(fd, &cmd, 1) == -1)
		return -1;
	n--;
	*len = n;
	if (n <= size)
		return read_all(fd, buf, n) == -1 ? -1 : cmd;
	while (n > 0) {
		size_t k = n < sizeof(sink) ? n : sizeof(sink);
		if (read_all(fd, sink, k) == -1)
			return -1;
		n -= (uint32_t)k;
	}
	return cmd;
}

struct sess {
	int		fd;
	unsigned long	prot;	/* what the milter asked for */
};

/* negotiate - offer everything; note the steps the milter skips. */
static int
negotiate(struct sess *s)
{
	uint32_t v[3] = { htonl(6), htonl(OFFERED_ACT), htonl(OFFERED_PROT) };
	char buf[4096];
	size_t len;

	if (send_pkt(s->fd, 'O', v, sizeof(v)) == -1 ||
	    recv_pkt(s->fd, buf, sizeof(buf), &len) != 'O' || len < 12)
		return -1;
	memcpy(&v, buf, 12);
	s->prot = ntohl(v[2]);
	return 0;
}

/* macros - a 'D' packet for stage with NUL-separated name/value pairs. */
static int
macros(struct sess *s, char stage, const char *const *kv, size_t n)
{
	char buf[200000];
	size_t off = 0;

	buf[off++] = stage;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(kv[i]) + 1;
		if (off + l > sizeof(buf))
			return -1;
		memcpy(buf + off, kv[i], l);
		off += l;
	}
	return send_pkt(s->fd, 'D', buf, off);
}

static int
expect_continue(struct sess *s, unsigned long nr)
{
	char buf[1024];
	size_t len;
	int c;

	if (s->prot & nr)
		return 0;
	c = recv_pkt(s->fd, buf, sizeof(buf), &len);
	return c == 'c' ? 0 : -1;
}

/* open_session - negotiate, connect, HELO; the connection stays open. */
static int
open_session(struct sess *s, const char *port, const char *const *cm, size_t ncm)
{
	static const char helo[] = "client.example";
	char conn[64];
	size_t n;
	uint16_t p = htons(40000);
	const char *const dflt[] = { "j", "mx.example.test", "{daemon_name}",
	    "submission", "{daemon_addr}", "127.0.0.1", "{daemon_port}", port,
	    "{client_addr}", "192.0.2.10", "{client_port}", "40000", "v",
	    "Postfix 3.7.11" };

	if ((s->fd = dial()) == -1 || negotiate(s) == -1)
		return -1;
	if (macros(s, 'C', cm ? cm : dflt, cm ? ncm : 14) == -1)
		return -1;
	n = (size_t)snprintf(conn, sizeof(conn), "client.example%c4", 0);
	memcpy(conn + n, &p, 2);
	n += 2;
	n += (size_t)snprintf(conn + n, sizeof(conn) - n, "192.0.2.10") + 1;
	if (!(s->prot & NOCONNECT) && (send_pkt(s->fd, 'C', conn, n) == -1 ||
	    expect_continue(s, NR_CONN) == -1))
		return -1;
	if (!(s->prot & NOHELO) && (send_pkt(s->fd, 'H', helo, sizeof(helo)) == -1 ||
	    expect_continue(s, NR_HELO) == -1))
		return -1;
	return 0;
}

/* mail - MAIL FROM with the given macros; the reply command. */
static int
mail(struct sess *s, const char *const *mm, size_t nmm)
{
	static const char from[] = "<alice@example.test>";
	char buf[4096];
	size_t len;
	int c;

	if (macros(s, 'M', mm, nmm) == -1 || send_pkt(s->fd, 'M', from, sizeof(from)) == -1)
		return -1;
	c = recv_pkt(s->fd, buf, sizeof(buf), &len);
	if (c == 'a' || c == 'c')
		atomic_fetch_add(&n_accept, 1);
	else if (c == 'y' && len > 0 && buf[0] == '4')
		atomic_fetch_add(&n_tempfail, 1);
	else if (c == 'y' || c == 'r')
		atomic_fetch_add(&n_reject, 1);
	else if (c == 't')
		atomic_fetch_add(&n_tempfail, 1);
	if (c > 0)
		atomic_fetch_add(&decisions, 1);
	return c;
}

static void
close_session(struct sess *s)
{
	if (s->fd >= 0) {
		(void) send_pkt(s->fd, 'Q', NULL, 0);
		close(s->fd);
		s->fd = -1;
	}
}

static const char *const tls_auth[] = { "{tls_version}", "TLSv1.3", "{cipher}",
    "TLS_AES_256_GCM_SHA384", "{cipher_bits}", "256", "{auth_type}", "PLAIN",
    "{auth_authen}", "alice@example.test" };

static void *
load_worker(void *arg)
{
	(void) arg;
	for (;;) {
		long i = atomic_fetch_add(&next_session, 1);
		struct sess s = { -1, 0 };
		double t0;
		int c;

		if (i >= n_sessions || now_s() - (t_start.tv_sec + t_start.tv_nsec / 1e9) > max_seconds)
			break;
		if (open_session(&s, "587", NULL, 0) == -1) {
			atomic_fetch_add(&errors, 1);
			if (s.fd >= 0)
				close(s.fd);
			continue;
		}
		t0 = now_s();
		c = mail(&s, tls_auth, (i % 100) < reject_pct ? 0 : 10);
		lat_us[i] = (now_s() - t0) * 1e6;
		if (c < 0)
			atomic_fetch_add(&errors, 1);
		close_session(&s);
		atomic_fetch_add(&done_sessions, 1);
	}
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* proc_cpu_ticks, proc_rss_kb - the milter's CPU time and resident size. */
static long
proc_cpu_ticks(long pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut = 0, st = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (pid <= 0 || (fp = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), fp) == NULL || (p = strrchr(buf, ')')) == NULL) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	/* fields after ')': state(3) ... utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

static long
proc_rss_kb(long pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if (pid <= 0 || (fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

static int run_hostile(void);

int
main(int argc, char **argv)
{
	const char *mode = "load";
	long pid = 0, n_hold = 1000;
	pthread_t *t;
	int c;

	while ((c = getopt(argc, argv, "s:c:n:t:p:m:k:r:")) != -1) {
		switch (c) {
		case 's': sockspec = optarg; break;
		case 'c': n_conc = atoi(optarg); break;
		case 'n': n_sessions = atol(optarg); break;
		case 't': max_seconds = atol(optarg); break;
		case 'p': pid = atol(optarg); break;
		case 'm': mode = optarg; break;
		case 'k': n_hold = atol(optarg); break;
		case 'r': reject_pct = atoi(optarg); break;
		default: return 2;
		}
	}
	if (sockspec == NULL || n_conc < 1 || n_conc > 1000 || n_sessions < 1 ||
	    n_sessions > 10000000 || n_hold < 1 || n_hold > 20000) {
		fprintf(stderr, "usage: mload -s SOCKET [-c 1..1000] [-n SESSIONS] [-t SECONDS] [-p PID] [-m load|hold|holdmail|hostile] [-k OPEN] [-r REJECT%%]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(mode, "hostile") == 0)
		return run_hostile();
	if (strcmp(mode, "hold") == 0 || strcmp(mode, "holdmail") == 0) {
		struct sess *s = calloc((size_t)n_hold, sizeof(*s));
		long before = proc_rss_kb(pid), after, opened = 0;
		bool at_mail = strcmp(mode, "holdmail") == 0;

		for (long i = 0; i < n_hold && now_s() - (t_start.tv_sec + t_start.tv_nsec / 1e9) < max_seconds; i++) {
			int r = 'c';

			s[i].fd = -1;
			if (open_session(&s[i], "587", NULL, 0) == 0 &&
			    (!at_mail || (r = mail(&s[i], tls_auth, 10)) == 'a' ||
			    r == 'c'))
				opened++;
		}
		usleep(300000);
		after = proc_rss_kb(pid);
		printf("open=%ld rss_before_kb=%ld rss_after_kb=%ld rss_per_session_bytes=%.0f\n",
		    opened, before, after, opened > 0 ? (after - before) * 1024.0 / opened : 0.0);
		for (long i = 0; i < n_hold; i++)
			close_session(&s[i]);
		free(s);
		return opened == n_hold ? 0 : 1;
	}
	lat_us = calloc((size_t)n_sessions, sizeof(*lat_us));
	t = calloc((size_t)n_conc, sizeof(*t));
	long cpu0 = proc_cpu_ticks(pid);
	double t0 = now_s();
	for (int i = 0; i < n_conc; i++)
		pthread_create(&t[i], NULL, load_worker, NULL);
	for (int i = 0; i < n_conc; i++)
		pthread_join(t[i], NULL);
	double el = now_s() - t0;
	long cpu1 = proc_cpu_ticks(pid), done = atomic_load(&done_sessions);
	qsort(lat_us, (size_t)done, sizeof(*lat_us), cmp_double);
	printf("sessions=%ld errors=%ld seconds=%.3f sessions_per_s=%.1f p50_us=%.1f p99_us=%.1f"
	    " cpu_ms_per_10k=%.1f accept=%ld reject=%ld tempfail=%ld\n",
	    done, atomic_load(&errors), el, done / el,
	    done ? lat_us[done / 2] : 0.0, done ? lat_us[(done * 99) / 100] : 0.0,
	    (cpu0 >= 0 && cpu1 >= 0 && done) ? (cpu1 - cpu0) * 1000.0 / sysconf(_SC_CLK_TCK) * 10000.0 / done : -1.0,
	    atomic_load(&n_accept), atomic_load(&n_reject), atomic_load(&n_tempfail));
	free(lat_us);
	free(t);
	return atomic_load(&errors) == 0 ? 0 : 1;
}

/*
 * run_hostile - sessions an attacker or a broken MTA could produce.  A
 * decision is counted for every MAIL reply; the caller compares the count
 * with the audit records.
 */
static int
run_hostile(void)
{
	static char big[65537];
	char bad[64];
	struct sess s;
	long rounds = n_sessions < 50 ? n_sessions : 50;

	memset(big, 'A', 65536);
	snprintf(bad, sizeof(bad), "%s", "x\"\r\n{\"outcome\":\"accept\"}\x01\x7f\xff\xc0\xaf");
	for (long r = 0; r < rounds; r++) {
		/* 1: 64 KiB subject and user */
		const char *const m1[] = { "{tls_version}", "TLSv1.3", "{cipher}", "X",
		    "{cipher_bits}", "128", "{cert_subject}", big, "{auth_type}", "PLAIN",
		    "{auth_authen}", big };
		/* 2: quotes, CR/LF, control bytes, invalid UTF-8 */
		const char *const m2[] = { "{tls_version}", "TLSv1.2", "{cipher}", bad,
		    "{cipher_bits}", bad, "{cert_subject}", bad, "{auth_type}", bad,
		    "{auth_authen}", bad };
		/* 3: unknown TLS version, no other macros */
		const char *const m3[] = { "{tls_version}", "SSLv9-xyz" };
		const char *const noconn[] = { "j", "x" };

		s.fd = -1;
		if (open_session(&s, "587", NULL, 0) == 0) mail(&s, m1, 12);
		close_session(&s);
		if (open_session(&s, "587", NULL, 0) == 0) mail(&s, m2, 12);
		close_session(&s);
		if (open_session(&s, "587", NULL, 0) == 0) mail(&s, m3, 2);
		close_session(&s);
		/* 4: no connect macros at all */
		if (open_session(&s, "587", noconn, 2) == 0) mail(&s, NULL, 0);
		close_session(&s);
		/* 5: dropped after negotiate, after connect, mid-packet */
		if ((s.fd = dial()) >= 0) { negotiate(&s); close(s.fd); }
		if (open_session(&s, "587", NULL, 0) == 0) close(s.fd);
		if ((s.fd = dial()) >= 0 && negotiate(&s) == 0) {
			uint32_t len = htonl(1000);
			(void) write_all(s.fd, &len, 4);
			(void) write_all(s.fd, "Mpartial", 8);
		}
		if (s.fd >= 0) close(s.fd);
		/* 6: abort storm, then MAIL again on the same connection */
		if (open_session(&s, "587", NULL, 0) == 0) {
			for (int i = 0; i < 20; i++)
				(void) send_pkt(s.fd, 'A', NULL, 0);
			mail(&s, tls_auth, 10);
		}
		close_session(&s);
		/* 7: out of order: MAIL before connect, unknown command byte */
		if ((s.fd = dial()) >= 0 && negotiate(&s) == 0) {
			(void) send_pkt(s.fd, 'M', "<x>", 4);
			(void) send_pkt(s.fd, 'Z', "??", 2);
		}
		if (s.fd >= 0) { close(s.fd); s.fd = -1; }
	}
	/* the milter must still decide normally */
	s.fd = -1;
	int ok = open_session(&s, "587", NULL, 0) == 0 && mail(&s, tls_auth, 10) > 0;
	close_session(&s);
	printf("rounds=%ld decisions=%ld accept=%ld reject=%ld tempfail=%ld still_deciding=%s\n",
	    rounds, atomic_load(&decisions), atomic_load(&n_accept), atomic_load(&n_reject),
	    atomic_load(&n_tempfail), ok ? "yes" : "no");
	return ok ? 0 : 1;
}
