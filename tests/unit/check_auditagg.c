/*
 * check_auditagg - the report's aggregation as `--report-data` emits it:
 * a table of single lines, each with the event it must give (a record
 * counted under its member list, hour and values; a malformed line with
 * the report's reason; a line handed over as it is, bytes kept); a
 * day's records whose counts, refusals and exceptions the test adds up
 * itself; the lists bounded (50 malformed lines, 1000 exceptions) while
 * the counts go on; the period and listener filters; seal and policy
 * records in line order.
 */

#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditagg.h"
#include "auditfields.h"
#include "strbuf.h"

/* The mask bits of the counted members, in the report's FACTS order. */
enum { B_TYPE = 1, B_LISTENER = 2, B_PORT = 4, B_TLS = 8, B_VERSION = 16,
	B_CIPHER = 32, B_AUTH = 64, B_MAILS = 128, B_RULE = 256,
	B_OUTCOME = 512, B_EXPOSURE = 1024 };

#define T0	"\"v\":2,\"time\":\"2026-11-24T09:00:00.000Z\""

static struct strbuf	 events;	/* what was emitted, one per line */

/* collect - the emit function: append the event and a newline. */
static int
collect(void *arg, const char *json, size_t size)
{
	(void) arg;
	if (strbuf_append(&events, json, size) == -1 ||
	    strbuf_putc(&events, '\n') == -1)
		return -1;
	return 0;
}

/* run - aggregate the lines (one file) with opts; events in `events`. */
static void
run(const struct auditagg_opts *opts, const char *const *lines, size_t n)
{
	struct auditagg *a;
	struct auditfields af;

	strbuf_free(&events);
	strbuf_init(&events, (size_t)1 << 28);
	auditfields_init(&af);
	ck_assert_ptr_nonnull(a = auditagg_new(opts, collect, NULL));
	ck_assert_int_eq(auditagg_begin(a, 3), 0);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(lines[i]);
		bool is_parsed = auditfields_parse(&af, lines[i], len) == 0;

		ck_assert_int_eq(auditagg_line(a, lines[i], len, true,
		    is_parsed ? &af : NULL), 0);
	}
	ck_assert_int_eq(auditagg_end(a), 0);
	ck_assert(!auditagg_has_failed(a));
	auditagg_free(&a);
	ck_assert_ptr_null(a);
	auditfields_free(&af);
}

/* run1 - one line, no options. */
static void
run1(const char *line)
{
	struct auditagg_opts o = { .t_from = NULL };

	run(&o, &line, 1);
}

/* has - the events hold s. */
static void
has(const char *s)
{
	ck_assert_msg(strstr(strbuf_str(&events), s) != NULL,
	    "no %s in:\n%s", s, strbuf_str(&events));
}

/* count_of - how many events hold s. */
static size_t
count_of(const char *s)
{
	size_t n = 0;

	for (const char *p = strbuf_str(&events); (p = strstr(p, s)) != NULL;
	    p++)
		n++;
	return n;
}

static const struct {
	const char	*label;
	const char	*line;
	const char	*want;		/* in the events */
} one[] = {
	{ "a session counted by its members and hour",
	  "{" T0 ",\"type\":\"session\",\"listener\":\"mx\",\"daemon_port\":"
	  "\"25\",\"tls\":true,\"tls_version\":\"TLSv1.3\",\"mails\":1}",
	  "\"compact\":[[" "159,\"2026-11-24T09\",[\"session\",\"mx\",\"25\","
	  "true,\"TLSv1.3\",1],1]]" },
	{ "a member of the wrong type",
	  "{" T0 ",\"tls\":\"yes\"}",
	  "{\"bad\":[1,\"member tls is string, expected true/false\"]}" },
	{ "cipher_bits may be a number or a string",
	  "{" T0 ",\"cipher_bits\":true}",
	  "\"member cipher_bits is true/false, expected number or string\"" },
	{ "no time", "{\"v\":2,\"listener\":\"mx\"}", "\"no time\"" },
	{ "no format version",
	  "{\"time\":\"2026-11-24T09:00:00.000Z\"}",
	  "\"no format version (v)\"" },
	{ "a count below 0", "{" T0 ",\"mails\":-1}",
	  "\"member mails is out of range\"" },
	{ "a count above 32 bits", "{" T0 ",\"helos\":4294967296}",
	  "\"member helos is out of range\"" },
	{ "29 February of a common year",
	  "{\"v\":2,\"time\":\"2026-02-29T09:00:00.000Z\"}",
	  "\"time is not a calendar date\"" },
	{ "29 February of a leap year",
	  "{\"v\":2,\"time\":\"2028-02-29T09:00:00.000Z\"}",
	  "\"records\":1," },
	{ "month 13", "{\"v\":2,\"time\":\"2026-13-01T09:00:00.000Z\"}",
	  "\"time is not UTC RFC 3339 with milliseconds\"" },
	{ "no milliseconds", "{\"v\":2,\"time\":\"2026-11-01T09:00:00Z\"}",
	  "\"time is not UTC RFC 3339 with milliseconds\"" },
	{ "an escape: handed over as it is",
	  "{" T0 ",\"helo\":\"a\\u0041\"}",
	  "{\"raw\":1,\"text\":\"{" "\\\"v\\\":2," },
	{ "bytes that are not ASCII: as code points up to U+00FF",
	  "{" T0 ",\"helo\":\"\xc3\xa9\"}", "\\u00c3\\u00a9" },
	{ "a number with a fraction: handed over", "{" T0 ",\"mails\":1.0}",
	  "{\"raw\":1," },
	{ "a member named twice: handed over",
	  "{" T0 ",\"tls\":true,\"tls\":false}", "{\"raw\":1," },
	{ "not an object: handed over", "[1,2]", "{\"raw\":1," },
	{ "a seal without an epoch", "{" T0 ",\"type\":\"seal\"}",
	  "\"seal record without epoch\"" },
	{ "an epoch below 0", "{" T0 ",\"epoch\":-2}",
	  "\"member epoch is out of range\"" },
	{ "a seal", "{" T0 ",\"type\":\"seal\",\"reason\":\"stop\","
	  "\"epoch\":7}", "{\"seal\":[7,\"stop\"]}" },
	{ "a sealed record", "{" T0 ",\"epoch\":7}", "{\"sealed\":1}" },
	{ "a policy record",
	  "{" T0 ",\"type\":\"policy\",\"event\":\"start\",\"policy\":\"ab\","
	  "\"text\":\"x\"}",
	  "{\"policy\":[\"2026-11-24T09:00:00.000Z\",\"start\",\"ab\"],"
	  "\"text\":\"x\"}" },
};

START_TEST(test_one)
{
	run1(one[_i].line);
	ck_assert_msg(strstr(strbuf_str(&events), one[_i].want) != NULL,
	    "%s: no %s in:\n%s", one[_i].label, one[_i].want,
	    strbuf_str(&events));
	has("{\"file\":3}\n");
	has("{\"end\":{\"lines\":1,");
}
END_TEST

/* A truncated last line and one over the limit are malformed here. */
START_TEST(test_lengths)
{
	struct auditagg_opts o = { .t_from = NULL };
	struct auditagg *a;
	char *big;

	strbuf_free(&events);
	strbuf_init(&events, 1 << 20);
	ck_assert_ptr_nonnull(big = malloc(AUDITAGG_LINE_MAX + 2));
	memset(big, ' ', AUDITAGG_LINE_MAX + 1);
	big[0] = '{';
	ck_assert_ptr_nonnull(a = auditagg_new(&o, collect, NULL));
	ck_assert_int_eq(auditagg_begin(a, 0), 0);
	ck_assert_int_eq(auditagg_line(a, big, AUDITAGG_LINE_MAX + 1, true,
	    NULL), 0);
	ck_assert_int_eq(auditagg_line(a, "{\"v\":2", 6, false, NULL), 0);
	ck_assert_int_eq(auditagg_end(a), 0);
	auditagg_free(&a);
	free(big);
	has("{\"bad\":[1,\"line longer than 1048576 bytes\"]}");
	has("{\"bad\":[2,\"truncated line (no newline at end of file)\"]}");
	has("\"lines\":2,\"records\":0,\"outside\":0,\"bad\":2,");
}
END_TEST

/*
 * A day of decisions on two listeners: every 7th refused, every 5th
 * (not refused) accepted in report mode, every 11th an exposure.  The
 * test counts what the report must show with its own loop.
 */
START_TEST(test_day)
{
	struct auditagg_opts o = { .t_from = NULL };
	static char buf[240][400];
	const char *lines[240];
	unsigned long refused = 0, would = 0, exposed = 0, exc[2] = { 0 };
	char want[160];

	for (int i = 0; i < 240; i++) {
		bool is_refused = i % 7 == 0, is_would = !is_refused && i % 5 == 0;
		bool is_exposed = i % 11 == 0;
		int l = i % 2;

		(void) snprintf(buf[i], sizeof(buf[i]), "{\"v\":2,\"time\":"
		    "\"2026-11-24T%02d:%02d:00.000Z\",\"type\":\"decision\","
		    "\"client_addr\":\"192.0.2.%d\",\"listener\":\"%s\","
		    "\"tls\":false,\"rule\":\"%s\",\"outcome\":\"%s\","
		    "\"exposure\":%s}", i / 10, i % 60, i % 3,
		    l ? "mx" : "submission",
		    is_refused || is_would ? "require-tls" : "none",
		    is_refused ? "reject" : is_would ? "would-reject" : "accept",
		    is_exposed ? "true" : "false");
		lines[i] = buf[i];
		refused += is_refused;
		would += is_would;
		exposed += is_exposed;
		if (is_exposed || is_would)
			exc[l]++;
	}
	run(&o, lines, 240);
	(void) snprintf(want, sizeof(want), "\"records\":240,\"outside\":0,"
	    "\"bad\":0,\"exposures\":%lu,\"first\":\"2026-11-24T00:00:00.000Z\","
	    "\"last\":\"2026-11-24T23:59:00.000Z\"", exposed);
	has(want);
	ck_assert_uint_eq(count_of("{\"exposure\":{"), exposed);
	ck_assert_uint_eq(count_of("{\"exception\":[\"mx\""), exc[1]);
	(void) snprintf(want, sizeof(want), "[\"submission\",%lu]", exc[0]);
	has(want);
	(void) snprintf(want, sizeof(want), "[\"mx\",%lu]", exc[1]);
	has(want);
	ck_assert_uint_gt(refused, 0);
	/* would: (client, user, listener, rule) -> n, summed by the test */
	{
		unsigned long sum = 0, n;
		const char *p = strbuf_str(&events);

		p = strstr(p, "{\"would\":");
		ck_assert_ptr_nonnull(p);
		while ((p = strstr(p, "\"require-tls\",")) != NULL) {
			n = strtoul(p + 14, NULL, 10);
			sum += n;
			p++;
		}
		ck_assert_uint_eq(sum, would);
	}
}
END_TEST

/* The lists stop at their bounds; the counts do not. */
START_TEST(test_bounds)
{
	struct auditagg_opts o = { .t_from = NULL };
	const char **lines;
	const char *exc = "{" T0 ",\"listener\":\"mx\",\"rule\":\"require-tls\","
	    "\"outcome\":\"would-reject\"}";
	const char *bad = "{" T0 ",\"tls\":1}";
	size_t n = 1200 + 60;

	ck_assert_ptr_nonnull(lines = calloc(n, sizeof(*lines)));
	for (size_t i = 0; i < n; i++)
		lines[i] = i < 1200 ? exc : bad;
	run(&o, lines, n);
	free(lines);
	ck_assert_uint_eq(count_of("{\"exception\":"), AUDITAGG_KEEP_LIST);
	ck_assert_uint_eq(count_of("{\"bad\":"), AUDITAGG_KEEP_BAD);
	has("{\"exceptions\":[[\"mx\",1200]]}");
	has("{\"would\":[[\"-\",\"-\",\"mx\",\"require-tls\",1200]]}");
	has("{\"bad_why\":[[\"member tls is number, expected true/false\",60]]}");
	has("\"records\":1200,\"outside\":0,\"bad\":60,");
}
END_TEST

/* --from, --to and --listener: outside records are counted as such. */
START_TEST(test_filters)
{
	static char mx[] = "mx";
	char *only[] = { mx };
	struct auditagg_opts o = { .t_from = "2026-11-24T10:00:00.000Z",
	    .t_to = "2026-11-24T11:59:59.999Z", .listeners = only,
	    .n_listeners = 1 };
	const char *lines[] = {
		"{\"v\":2,\"time\":\"2026-11-24T09:59:59.999Z\",\"listener\":\"mx\"}",
		"{\"v\":2,\"time\":\"2026-11-24T10:00:00.000Z\",\"listener\":\"mx\"}",
		"{\"v\":2,\"time\":\"2026-11-24T11:59:59.999Z\"}",
		"{\"v\":2,\"time\":\"2026-11-24T11:59:59.999Z\",\"listener\":\"mx\"}",
		"{\"v\":2,\"time\":\"2026-11-24T12:00:00.000Z\",\"listener\":\"mx\","
		"\"type\":\"policy\",\"policy\":\"f\"}",
	};

	run(&o, lines, 5);
	has("\"records\":2,\"outside\":3,");
	has("\"first\":\"2026-11-24T10:00:00.000Z\","
	    "\"last\":\"2026-11-24T11:59:59.999Z\"");
	/* a policy record counts in force whatever the period */
	has("{\"policy\":[\"2026-11-24T12:00:00.000Z\",\"?\",\"f\"],"
	    "\"text\":\"\"}");
}
END_TEST

/* Seals and sealed records in line order: the coverage needs it. */
START_TEST(test_seal_order)
{
	const char *lines[] = {
		"{" T0 ",\"epoch\":1}", "{" T0 ",\"epoch\":1}",
		"{" T0 ",\"type\":\"seal\",\"epoch\":1}",
		"{" T0 ",\"epoch\":2}",
	};
	struct auditagg_opts o = { .t_from = NULL };

	run(&o, lines, 4);
	has("{\"sealed\":2}\n{\"seal\":[1,\"?\"]}\n");
	has("{\"sealed\":1}\n{\"compact\":");
	has("\"records\":3,");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("auditagg");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_one, 0, sizeof(one) / sizeof(one[0]));
	tcase_add_test(tc, test_lengths);
	tcase_add_test(tc, test_day);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_filters);
	tcase_add_test(tc, test_seal_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	strbuf_free(&events);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
