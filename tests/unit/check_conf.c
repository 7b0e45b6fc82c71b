/*
 * check_conf - the config loader: every key valid and invalid, every error
 * with its file:line text, scopes, duplicates, inheritance of the global
 * keys, the built-in policy and its printout, and the sample config and
 * fixtures (found through $SRCDIR, default "."), the command line's
 * overrides and what a reload names.  Matching sessions to listeners:
 * check_listener.c.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 * Copyright (c) 2026 The tlspolicy-milter authors
 */

#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "facts.h"
#include "listener.h"
#include "policy.h"
#include "tlsinfo.h"

/* load - conf_load_string of a C string, named "t.conf". */
static struct conf *
load(const char *text, struct conf_error *err)
{
	return conf_load_string(text, strlen(text), "t.conf", err);
}

/* printed - conf_print into a new string (caller frees). */
static char *
printed(const struct conf *conf)
{
	char *out = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&out, &size);

	ck_assert_ptr_nonnull(fp);
	conf_print(conf, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return out;
}

/* srcpath - $SRCDIR/rel into buf. */
static const char *
srcpath(const char *rel, char *buf, size_t size)
{
	const char *srcdir = getenv("SRCDIR");

	(void) snprintf(buf, size, "%s/%s", srcdir != NULL ? srcdir : ".",
	    rel);
	return buf;
}

#define LISTENER_A	"[listener a]\nport 25\n"

static const struct {
	const char *label, *text, *error;	/* error: the exact message */
} bad[] = {
	/* keys */
	{ "unknown key with a hint", "requre-tls yes\n",
	    "t.conf:1: unknown key 'requre-tls' (did you mean 'require-tls'?)" },
	{ "underscore spelling", "[default]\nrequire_auth yes\n",
	    "t.conf:2: unknown key 'require_auth' (did you mean 'require-auth'?)" },
	{ "unknown key", "\n\nfrobnicate 3\n",
	    "t.conf:3: unknown key 'frobnicate'" },
	{ "unknown key echoed escaped", "k\x1b[2J v\n",
	    "t.conf:1: unknown key 'k\\x1b[2J'" },
	/* scopes */
	{ "section key globally", "require-tls yes\n",
	    "t.conf:1: key 'require-tls' is only allowed in a [listener] or"
	    " [default] section" },
	{ "port globally", "# c\nport 587\n",
	    "t.conf:2: key 'port' is only allowed in a [listener] section" },
	{ "name globally", "name MSA\n",
	    "t.conf:1: key 'name' is only allowed in a [listener] section" },
	{ "[default] with port", "[default]\nport 25\n",
	    "t.conf:2: key 'port' is only allowed in a [listener] section" },
	{ "[default] with name", "[default]\nname MTA\n",
	    "t.conf:2: key 'name' is only allowed in a [listener] section" },
	{ "[default] with match", "[default]\nmatch all\n",
	    "t.conf:2: key 'match' is only allowed in a [listener] section" },
	{ "global key in a listener", LISTENER_A "socket inet:1@h\n",
	    "t.conf:3: key 'socket' is only allowed before the first section" },
	{ "global key in [default]", "[default]\naudit-log /a\n",
	    "t.conf:2: key 'audit-log' is only allowed before the first section" },
	/* duplicates */
	{ "duplicate key", LISTENER_A "# x\nPORT 26\n",
	    "t.conf:4: key 'port' given twice, expected once per section (the"
	    " first is at line 2)" },
	{ "duplicate global key", "action report\nsyslog no\nAction reject\n",
	    "t.conf:3: key 'action' given twice, expected once per section (the"
	    " first is at line 1)" },
	{ "duplicate label", "[listener a]\nport 1\n[listener A]\nport 2\n",
	    "t.conf:3: found a second listener 'A', expected unique labels (the"
	    " first is at line 1)" },
	{ "second default", "[default]\n\n[default]\n",
	    "t.conf:3: found a second [default] section, expected at most one"
	    " (the first is at line 1)" },
	/* section headers */
	{ "misspelt header", "[listner a]\n",
	    "t.conf:1: found '[listner a]', expected [listener LABEL] or [default]" },
	{ "unclosed header", "[listener a\n",
	    "t.conf:1: found '[listener a', expected [listener LABEL] or [default]" },
	{ "header without label", "[listener]\n",
	    "t.conf:1: found '[listener]', expected [listener LABEL] or [default]" },
	{ "text after header", "[default] x\n",
	    "t.conf:1: found '[default] x', expected [listener LABEL] or [default]" },
	{ "bad label", "[listener a/b]\nport 1\n",
	    "t.conf:1: listener label: found 'a/b', expected 1 to 64 letters,"
	    " digits, '-', '_' or '.'" },
	{ "label with a space", "[listener a b]\nport 1\n",
	    "t.conf:1: listener label: found 'a b', expected 1 to 64 letters,"
	    " digits, '-', '_' or '.'" },
	{ "label default", "[listener Default]\nport 1\n",
	    "t.conf:1: listener label: found 'default', expected another name"
	    " ([default] is a section of its own)" },
	{ "listener without port or name", "[listener a]\nrequire-tls yes\n"
	    "[default]\n",
	    "t.conf:1: listener 'a' has neither port nor name, expected at least one" },
	{ "last listener without port or name", "\n[listener a]\n",
	    "t.conf:2: listener 'a' has neither port nor name, expected at least one" },
	/* values in general */
	{ "missing value", "syslog\n",
	    "t.conf:1: syslog: found no value, expected yes or no" },
	{ "empty quotes", "action \"\"\n",
	    "t.conf:1: action: found no value, expected reject, tempfail or report" },
	{ "unbalanced quote", "action \"reject\n",
	    "t.conf:1: action: found '\"reject', expected a closing double quote" },
	{ "control bytes escaped", "action \x01\x02x\n",
	    "t.conf:1: action: found '\\x01\\x02x', expected reject, tempfail or report" },
	{ "long value cut", "action aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    "t.conf:1: action: found 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...',"
	    " expected reject, tempfail or report" },
	/* every key, invalid */
	{ "socket port range", "socket inet:99999@127.0.0.1\n",
	    "t.conf:1: socket: found 'inet:99999@127.0.0.1', expected"
	    " inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH" },
	{ "socket without host", "socket inet:8895@\n",
	    "t.conf:1: socket: found 'inet:8895@', expected"
	    " inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH" },
	{ "socket without port", "socket inet6:@::1\n",
	    "t.conf:1: socket: found 'inet6:@::1', expected"
	    " inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH" },
	{ "socket relative path", "socket unix:run/m.sock\n",
	    "t.conf:1: socket: found 'unix:run/m.sock', expected"
	    " inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH" },
	{ "socket unknown kind", "socket tcp:8895\n",
	    "t.conf:1: socket: found 'tcp:8895', expected"
	    " inet:PORT@HOST, inet6:PORT@HOST, unix:/PATH or local:/PATH" },
	{ "relative pid-file", "pid-file run/m.pid\n",
	    "t.conf:1: pid-file: found 'run/m.pid', expected an absolute path" },
	{ "bad syslog", "syslog maybe\n",
	    "t.conf:1: syslog: found 'maybe', expected yes or no" },
	{ "bad facility", "syslog-facility kern\n",
	    "t.conf:1: syslog-facility: found 'kern', expected mail, daemon,"
	    " user, auth, authpriv or local0..local7" },
	{ "bad record-sender", "record-sender user\n",
	    "t.conf:1: record-sender: found 'user', expected none, domain or"
	    " address" },
	{ "record-sender in a section", LISTENER_A "record-sender none\n",
	    "t.conf:3: key 'record-sender' is only allowed before the first"
	    " section" },
	{ "bad userid", "userid mil ter\n",
	    "t.conf:1: userid: found 'mil ter', expected user or user:group" },
	{ "userid with empty group", "userid milter:\n",
	    "t.conf:1: userid: found 'milter:', expected user or user:group" },
	{ "socket-mode not octal", "socket-mode 0689\n",
	    "t.conf:1: socket-mode: found '0689', expected an octal mode 0000..0777" },
	{ "socket-mode too wide", "socket-mode 4755\n",
	    "t.conf:1: socket-mode: found '4755', expected an octal mode 0000..0777" },
	{ "min-cipher-bits too large", "[listener a]\nport 1\nmin-cipher-bits 20000\n",
	    "t.conf:3: min-cipher-bits: found '20000', expected a number of bits 0..16384" },
	{ "min-cipher-bits not a number", "[listener a]\nport 1\nmin-cipher-bits 128bit\n",
	    "t.conf:3: min-cipher-bits: found '128bit', expected a number of bits 0..16384" },
	{ "bad exempt user", "exempt-users alice\n",
	    "t.conf:1: exempt-users: found 'alice', expected user@domain or @domain values" },
	{ "bad allow-root", "allow-root sometimes\n",
	    "t.conf:1: allow-root: found 'sometimes', expected yes or no" },
	{ "relative audit-log", "audit-log audit.jsonl\n",
	    "t.conf:1: audit-log: found 'audit.jsonl', expected an absolute path" },
	{ "failure-action accept", "failure-action accept\n",
	    "t.conf:1: failure-action: found 'accept', expected tempfail or"
	    " reject (the milter never accepts mail it could not check)" },
	{ "failure-action report", "failure-action report\n",
	    "t.conf:1: failure-action: found 'report', expected tempfail or reject" },
	{ "bad request-macros", "request-macros 2\n",
	    "t.conf:1: request-macros: found '2', expected yes or no" },
	{ "bad log-debug", "log-debug verbose\n",
	    "t.conf:1: log-debug: found 'verbose', expected yes or no" },
	{ "bad action", "action bounce\n",
	    "t.conf:1: action: found 'bounce', expected reject, tempfail or report" },
	{ "bad CIDR prefix", "trusted-networks 10.0.0.0/33\n",
	    "t.conf:1: trusted-networks: found '10.0.0.0/33' (prefix out of"
	    " range 0..32), expected ADDRESS[/PREFIX]" },
	{ "bad CIDR address", "[default]\ntrusted-networks 127.0.0.1, localhost\n",
	    "t.conf:2: trusted-networks: found 'localhost' (not an IP address),"
	    " expected ADDRESS[/PREFIX]" },
	{ "none in a list", "trusted-networks ::1 none\n",
	    "t.conf:1: trusted-networks: found 'none' in a list, expected"
	    " 'none' alone" },
	{ "bad auth-requires-tls-action", "auth-requires-tls-action drop\n",
	    "t.conf:1: auth-requires-tls-action: found 'drop', expected reject,"
	    " tempfail or report" },
	{ "bad require-tls-action", LISTENER_A "require-tls-action accept\n",
	    "t.conf:3: require-tls-action: found 'accept', expected reject,"
	    " tempfail or report" },
	{ "bad min-tls-version-action", "min-tls-version-action x\n",
	    "t.conf:1: min-tls-version-action: found 'x', expected reject,"
	    " tempfail or report" },
	{ "bad require-auth-action", "[default]\nrequire-auth-action 1\n",
	    "t.conf:2: require-auth-action: found '1', expected reject,"
	    " tempfail or report" },
	{ "reply of the wrong class", "require-tls-reply 530 4.7.0 Text\n",
	    "t.conf:1: require-tls-reply: found '530 4.7.0 Text': expected an"
	    " enhanced status code 5.x.y after the reply code" },
	{ "4xx reply", "require-auth-reply 451 4.7.0 Later\n",
	    "t.conf:1: require-auth-reply: found '451 4.7.0 Later': reply code"
	    " must be 5xx; tempfail replies are derived as 451 4.x.y" },
	{ "reply without text", "auth-requires-tls-reply 538 5.7.11\n",
	    "t.conf:1: auth-requires-tls-reply: found '538 5.7.11': expected"
	    " text after the enhanced status code" },
	{ "reply without code", LISTENER_A "min-tls-version-reply Too old\n",
	    "t.conf:3: min-tls-version-reply: found 'Too old': expected a 5xx"
	    " reply code, a space, an enhanced code 5.x.y and text" },
	{ "port out of range", "[listener a]\nport 587, 70000\n",
	    "t.conf:2: port: found '70000', expected a port number 1..65535" },
	{ "port zero", "[listener a]\nport 0\n",
	    "t.conf:2: port: found '0', expected a port number 1..65535" },
	{ "port not a number", "[listener a]\nport smtp\n",
	    "t.conf:2: port: found 'smtp', expected a port number 1..65535" },
	{ "name with a quote", "[listener a]\nname MSA x\"y\n",
	    "t.conf:2: name: found 'x\"y', expected printable {daemon_name} values" },
	{ "bad match", LISTENER_A "match some\n",
	    "t.conf:3: match: found 'some', expected any or all" },
	{ "bad require-tls", LISTENER_A "require-tls maybe\n",
	    "t.conf:3: require-tls: found 'maybe', expected yes or no" },
	{ "bad require-auth", "[default]\nrequire-auth y\n",
	    "t.conf:2: require-auth: found 'y', expected yes or no" },
	{ "bad auth-requires-tls", "[default]\nauth-requires-tls never\n",
	    "t.conf:2: auth-requires-tls: found 'never', expected yes or no" },
	{ "bad version", LISTENER_A "min-tls-version TLSv9\n",
	    "t.conf:3: min-tls-version: found 'TLSv9', expected one of TLSv1,"
	    " TLSv1.1, TLSv1.2, TLSv1.3, none" },
};

START_TEST(test_errors)
{
	struct conf_error err;
	struct conf *conf = load(bad[_i].text, &err);

	if (conf != NULL)
		conf_free(&conf);
	ck_assert_msg(conf == NULL, "%s: loaded", bad[_i].label);
	ck_assert_str_eq(err.text, bad[_i].error);
}
END_TEST

/*
 * Valid values: the printout of the loaded config must contain want.
 * Sections "[listener a]\nport 25\n..." print as "listener a (line 1)".
 */
static const struct {
	const char *label, *text, *want;
} good[] = {
	{ "empty file", "", "socket inet:8895@127.0.0.1\n" },
	{ "socket inet6", "socket inet6:8895@::1\n", "socket inet6:8895@::1\n" },
	{ "socket unix", "socket unix:/run/m/m.sock\n", "socket unix:/run/m/m.sock\n" },
	{ "socket local", "socket local:/run/m.sock\n", "socket local:/run/m.sock\n" },
	{ "pid-file", "pid-file /run/m.pid\n", "pid-file /run/m.pid\n" },
	{ "syslog no", "syslog no\n", "syslog no\nsyslog-facility mail\n" },
	{ "syslog-facility", "syslog-facility LOCAL3\n",
	    "syslog yes\nsyslog-facility local3\n" },
	{ "audit-log", "audit-log /var/log/a.jsonl\n", "audit-log /var/log/a.jsonl\n" },
	{ "failure-action", "failure-action reject\n", "failure-action reject\n" },
	{ "record-sender none", "record-sender none\n", "record-sender none\n" },
	{ "record-sender address", "record-sender ADDRESS\n",
	    "record-sender address\n" },
	{ "request-macros", "request-macros off\n", "request-macros no\n" },
	{ "log-debug", "log-debug 1\n", "log-debug yes\n" },
	{ "bool spellings", "syslog TRUE\nrequest-macros On\nlog-debug false\n",
	    "request-macros yes\nlog-debug no\n" },
	{ "action", "action tempfail\n", "  action tempfail; trusted-networks none\n" },
	{ "trusted-networks", "trusted-networks 10.1.2.3/8,2001:db8::/32 ::1\n",
	    "trusted-networks 10.0.0.0/8, 2001:db8::/32, ::1/128\n" },
	{ "trusted-networks none", "[default]\ntrusted-networks NONE\n",
	    "trusted-networks none\n" },
	{ "auth-requires-tls-action", "auth-requires-tls-action report\n",
	    "  replies: 1 auth-requires-tls report \"538 5.7.11 Encryption"
	    " required for requested authentication mechanism\" (built in)\n" },
	{ "auth-requires-tls-reply", "auth-requires-tls-reply 538 5.7.11 No"
	    " AUTH in clear\n",
	    "  replies: 1 auth-requires-tls reject \"538 5.7.11 No AUTH in clear\"\n" },
	{ "require-tls-action tempfail", "require-tls-action tempfail\n"
	    LISTENER_A "require-tls yes\n",
	    "           2 require-tls tempfail \"451 4.7.0 Must issue a STARTTLS"
	    " command first\" (built in)\n" },
	{ "require-tls-reply with # and quotes", LISTENER_A "require-tls yes\n"
	    "require-tls-reply \"550 5.7.1 Use TLS, see #help\" # comment\n",
	    "           2 require-tls reject \"550 5.7.1 Use TLS, see #help\"\n" },
	{ "# inside a word", LISTENER_A "require-tls yes\n"
	    "require-tls-reply 530 5.7.0 Use TLS#now\n",
	    "2 require-tls reject \"530 5.7.0 Use TLS#now\"\n" },
	{ "min-tls-version-action", LISTENER_A "min-tls-version TLSv1.2\n"
	    "min-tls-version-action report\n",
	    "           3 min-tls-version report \"530 5.7.0 <version> is below"
	    " the required TLSv1.2\" (built in)\n" },
	{ "min-tls-version-reply", LISTENER_A "min-tls-version tlsv1.3\n"
	    "min-tls-version-reply 530 5.7.0 TLS 1.3 only\n",
	    "           3 min-tls-version reject \"530 5.7.0 TLS 1.3 only\"\n" },
	{ "require-auth-action", LISTENER_A "require-auth yes\n"
	    "require-auth-action tempfail\n",
	    "           9 require-auth tempfail \"451 4.7.0 Authentication"
	    " required\" (built in)\n" },
	{ "require-auth-reply", LISTENER_A "require-auth on\n"
	    "require-auth-reply 535 5.7.8 Log in first\n",
	    "           9 require-auth reject \"535 5.7.8 Log in first\"\n" },
	{ "port list", "[listener a]\nport 587, 10587 2587\n",
	    "listener a (line 1): port 587, 10587, 2587; name -; match any\n" },
	{ "name list", "[listener a]\nname submission,MSA\n",
	    "listener a (line 1): port -; name submission, MSA; match any\n" },
	{ "match all", LISTENER_A "name MTA\nmatch ALL\n",
	    "listener a (line 1): port 25; name MTA; match all\n" },
	{ "require-tls", LISTENER_A "require-tls yes\n",
	    "  require-tls yes; require-auth no; auth-requires-tls yes;"
	    " min-tls-version none\n" },
	{ "require-auth", "[default]\nrequire-auth yes\n",
	    "  require-tls no; require-auth yes; auth-requires-tls yes;"
	    " min-tls-version none\n" },
	{ "auth-requires-tls off", "[default]\nauth-requires-tls no\n",
	    "  replies: none (no rule is on)\n" },
	{ "min-tls-version SSLv3", LISTENER_A "min-tls-version SSLv3\n",
	    "auth-requires-tls yes; min-tls-version SSLv3\n" },
	{ "min-tls-version TLSv1.0", LISTENER_A "min-tls-version TLSv1.0\n",
	    "auth-requires-tls yes; min-tls-version TLSv1\n" },
	{ "min-tls-version none", LISTENER_A "min-tls-version none\n",
	    "auth-requires-tls yes; min-tls-version none\n" },
	{ "CRLF, tabs, case, blank and comment lines",
	    "# top\r\n\r\n\tSYSLOG-Facility\tdaemon  \r\n   # indented\r\n",
	    "syslog yes\nsyslog-facility daemon\n" },
	{ "no newline at the end", "log-debug yes", "log-debug yes\n" },
	{ "header with spaces and a comment", "[ listener  x.y_z-1 ] # c\nport 1\n",
	    "listener x.y_z-1 (line 1): port 1;" },
	{ "explicit [default]", "\n[default]\n", "\n[default] (line 2): sessions"
	    " no listener matches\n" },
	{ "implicit [default]", "", "\n[default] (built in): sessions no"
	    " listener matches\n" },
};

START_TEST(test_good)
{
	struct conf_error err;
	struct conf *conf = load(good[_i].text, &err);
	char *out;

	ck_assert_msg(conf != NULL, "%s: %s", good[_i].label, err.text);
	out = printed(conf);
	ck_assert_msg(strstr(out, good[_i].want) != NULL,
	    "%s: want \"%s\" in\n%s", good[_i].label, good[_i].want, out);
	free(out);
	conf_free(&conf);
	ck_assert_ptr_null(conf);
}
END_TEST

/*
 * Every error of a file is reported, each with its line, up to
 * CONF_ERRORS_MAX; then the load stops with a line saying so.
 */
START_TEST(test_every_error)
{
	struct conf_error err;
	char text[4096] = "";
	FILE *fp;
	char *out = NULL;
	size_t size = 0;

	ck_assert_ptr_null(load("bogus 1\nsyslog maybe\nsyslog yes\n"
	    "[listener x]\nport 99999\nrequire-tls perhaps\n", &err));
	ck_assert_uint_eq(err.n_errors, 6);
	ck_assert_str_eq(err.text, "t.conf:1: unknown key 'bogus'");
	ck_assert_str_eq(err.more,
	    "t.conf:2: syslog: found 'maybe', expected yes or no\n"
	    "t.conf:3: key 'syslog' given twice, expected once per section"
	    " (the first is at line 2)\n"
	    "t.conf:5: port: found '99999', expected a port number 1..65535\n"
	    "t.conf:6: require-tls: found 'perhaps', expected yes or no\n"
	    "t.conf:4: listener 'x' has neither port nor name, expected at"
	    " least one");
	ck_assert_ptr_nonnull(fp = open_memstream(&out, &size));
	ck_assert_int_eq(conf_error_print(&err, "x: ", fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_str_eq(out, "x: t.conf:1: unknown key 'bogus'\n"
	    "x: t.conf:2: syslog: found 'maybe', expected yes or no\n"
	    "x: t.conf:3: key 'syslog' given twice, expected once per section"
	    " (the first is at line 2)\n"
	    "x: t.conf:5: port: found '99999', expected a port number 1..65535\n"
	    "x: t.conf:6: require-tls: found 'perhaps', expected yes or no\n"
	    "x: t.conf:4: listener 'x' has neither port nor name, expected at"
	    " least one\n");
	free(out);
	for (int i = 0; i < CONF_ERRORS_MAX + 5; i++)
		(void) strcat(text, "nokey 1\n");
	ck_assert_ptr_null(load(text, &err));
	ck_assert_uint_eq(err.n_errors, CONF_ERRORS_MAX + 1);
	ck_assert_ptr_nonnull(strstr(err.more, "t.conf:20: more than 20"
	    " errors; stopped reading"));
}
END_TEST

START_TEST(test_nul_long_and_files)
{
	struct conf_error err;
	char text[5000], path[4096], want[4200];

	ck_assert_ptr_null(conf_load_string("a\nb\0c\n", 6, "t.conf", &err));
	ck_assert_str_eq(err.text, "t.conf:2: found a NUL byte, expected text");
	memset(text, ' ', 4097);
	memcpy(text + 4097, "\nsyslog yes\n", 13);
	ck_assert_ptr_null(load(text, &err));
	ck_assert_str_eq(err.text,
	    "t.conf:1: found a line of 4097 bytes, expected at most 4096");
	ck_assert_ptr_null(conf_load("/nonexistent/t.conf", &err));
	ck_assert_str_eq(err.text,
	    "/nonexistent/t.conf: cannot open: No such file or directory");
	ck_assert_ptr_null(conf_load(srcpath("data", path, sizeof(path)), &err));
	(void) snprintf(want, sizeof(want), "%s: cannot read: Is a directory",
	    path);
	ck_assert_str_eq(err.text, want);
	ck_assert_ptr_null(conf_load(srcpath("data/bad-version.conf", path,
	    sizeof(path)), &err));
	(void) snprintf(want, sizeof(want), "%s:9: min-tls-version: found"
	    " 'TLSv1.4', expected one of TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, none",
	    path);
	ck_assert_str_eq(err.text, want);
}
END_TEST

START_TEST(test_longest_line)
{
	struct conf_error err;
	struct conf *conf;
	char text[4100];

	memset(text, ' ', 4096);
	text[0] = '#';
	memcpy(text + 4096, "\n", 2);
	conf = load(text, &err);
	ck_assert_msg(conf != NULL, "%s", err.text);
	conf_free(&conf);
}
END_TEST

START_TEST(test_inheritance)
{
	struct conf_error err;
	struct conf *conf = load(
	    "Action report   # trailing comment\n"
	    "trusted-networks 127.0.0.1, ::1/128\n"
	    "require-tls-reply \"550 5.7.1 Use TLS, see #help\"\n"
	    "require-auth-action tempfail\n"
	    "[listener sub]\n"
	    "port 587 10587\n"
	    "REQUIRE-TLS Yes\n"
	    "[listener strict]\n"
	    "port 2587\n"
	    "action reject\n"
	    "trusted-networks none\n"
	    "require-tls-reply 530 5.7.0 Strict\n", &err);
	const struct policy_rules *sub, *strict, *dflt;

	ck_assert_msg(conf != NULL, "%s", err.text);
	ck_assert_uint_eq(conf->n_listeners, 2);
	sub = &conf->listeners[0].rules;
	strict = &conf->listeners[1].rules;
	dflt = &conf->fallback.rules;
	ck_assert(sub->require_tls && sub->auth_requires_tls);
	ck_assert_int_eq(sub->action, POLICY_ACTION_REPORT);
	ck_assert_uint_eq(sub->trusted.n_blocks, 2);
	ck_assert(sub->has_reply[POLICY_RULE_REQUIRE_TLS]);
	ck_assert_str_eq(sub->reply[POLICY_RULE_REQUIRE_TLS].text,
	    "Use TLS, see #help");
	ck_assert_int_eq(sub->rule_action[POLICY_RULE_REQUIRE_AUTH],
	    POLICY_ACTION_TEMPFAIL);
	ck_assert_int_eq(sub->rule_action[POLICY_RULE_REQUIRE_TLS],
	    POLICY_ACTION_UNSET);
	ck_assert(!sub->has_reply[POLICY_RULE_REQUIRE_AUTH]);
	ck_assert_int_eq(strict->action, POLICY_ACTION_REJECT);
	ck_assert_uint_eq(strict->trusted.n_blocks, 0);
	ck_assert_str_eq(strict->reply[POLICY_RULE_REQUIRE_TLS].text, "Strict");
	ck_assert_int_eq(strict->rule_action[POLICY_RULE_REQUIRE_AUTH],
	    POLICY_ACTION_TEMPFAIL);
	/* no [default] section: the global values, auth-requires-tls only */
	ck_assert_str_eq(conf->fallback.label, "default");
	ck_assert_uint_eq(conf->fallback.line, 0);
	ck_assert(dflt->auth_requires_tls && !dflt->require_tls &&
	    !dflt->require_auth);
	ck_assert_int_eq(dflt->min_tls_version, TLS_VERSION_NONE);
	ck_assert_int_eq(dflt->action, POLICY_ACTION_REPORT);
	ck_assert_uint_eq(dflt->trusted.n_blocks, 2);
	ck_assert(dflt->has_reply[POLICY_RULE_REQUIRE_TLS]);
	ck_assert_int_eq(dflt->reply[POLICY_RULE_REQUIRE_TLS].code, 550);
	ck_assert_str_eq(dflt->reply[POLICY_RULE_REQUIRE_TLS].xcode, "5.7.1");
	ck_assert(conf->syslog && conf->request_macros && !conf->log_debug);
	ck_assert_int_eq(conf->failure_action, POLICY_ACTION_TEMPFAIL);
	ck_assert_ptr_null(conf->path);
	conf_free(&conf);
	conf_free(&conf);
}
END_TEST

/* The exact -n output of the built-in policy: an interface admins read. */
static const char builtin_print[] =
    "# effective policy of the built-in policy (no config file)\n"
    "socket inet:8895@127.0.0.1\n"
    "pid-file none\n"
    "syslog yes\n"
    "syslog-facility mail\n"
    "audit-log none\n"
    "log-file none\n"
    "failure-action tempfail\n"
    "audit-key-file none\n"
    "audit-seal-state none\n"
    "audit-fsync interval\n"
    "record-sender domain\n"
    "audit-failure-action tempfail\n"
    "request-macros yes\n"
    "log-debug no\n"
    "userid none\n"
    "allow-root no\n"
    "socket-mode 0660\n"
    "socket-group none (the group of userid)\n"
    "metrics-listen none\n"
    "rule order: 1 auth-requires-tls, 2 require-tls, 3 min-tls-version,"
    " 4 min-cipher-bits, 5 require-forward-secrecy, 6 require-aead,"
    " 7 forbid-ciphers, 8 require-client-cert,"
    " 9 require-auth (the first failing rule decides)\n"
    "matching: by {daemon_port} in file order, then by {daemon_name};"
    " otherwise [default]\n"
    "\n"
    "listener submission (built in): port 587; name submission, MSA;"
    " match any\n"
    "  require-tls yes; require-auth yes; auth-requires-tls yes;"
    " min-tls-version TLSv1.2\n"
    "  action reject; trusted-networks none\n"
    "  replies: 1 auth-requires-tls reject \"538 5.7.11 Encryption required"
    " for requested authentication mechanism\" (built in)\n"
    "           2 require-tls reject \"530 5.7.0 Must issue a STARTTLS"
    " command first\" (built in)\n"
    "           3 min-tls-version reject \"530 5.7.0 <version> is below the"
    " required TLSv1.2\" (built in)\n"
    "           9 require-auth reject \"530 5.7.0 Authentication required\""
    " (built in)\n"
    "\n"
    "listener submissions (built in): port 465; name submissions, smtps,"
    " MSA-TLS; match any\n"
    "  require-tls yes; require-auth yes; auth-requires-tls yes;"
    " min-tls-version TLSv1.2\n"
    "  action reject; trusted-networks none\n"
    "  replies: 1 auth-requires-tls reject \"538 5.7.11 Encryption required"
    " for requested authentication mechanism\" (built in)\n"
    "           2 require-tls reject \"530 5.7.0 Must issue a STARTTLS"
    " command first\" (built in)\n"
    "           3 min-tls-version reject \"530 5.7.0 <version> is below the"
    " required TLSv1.2\" (built in)\n"
    "           9 require-auth reject \"530 5.7.0 Authentication required\""
    " (built in)\n"
    "\n"
    "[default] (built in): sessions no listener matches\n"
    "  require-tls no; require-auth no; auth-requires-tls yes;"
    " min-tls-version none\n"
    "  action reject; trusted-networks none\n"
    "  replies: 1 auth-requires-tls reject \"538 5.7.11 Encryption required"
    " for requested authentication mechanism\" (built in)\n";

START_TEST(test_builtin)
{
	struct conf *conf = conf_builtin();
	const struct conf_listener *l;
	struct facts f;
	bool missing;
	char *out;

	ck_assert_uint_eq(conf->n_listeners, 2);
	ck_assert_ptr_null(conf->path);
	ck_assert_ptr_null(conf->pid_file);
	ck_assert_ptr_null(conf->audit_log);
	ck_assert_uint_eq(conf->listeners[0].line, 0);
	facts_init(&f);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "587"), 0);
	l = listener_match(conf, &f, &missing);
	ck_assert_str_eq(l->label, "submission");
	ck_assert(l->rules.require_tls && l->rules.require_auth &&
	    l->rules.auth_requires_tls);
	ck_assert_int_eq(l->rules.min_tls_version, TLS_VERSION_TLSV1_2);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "465"), 0);
	ck_assert_str_eq(listener_match(conf, &f, &missing)->label,
	    "submissions");
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "10465"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_NAME, "smtps"), 0);
	ck_assert_str_eq(listener_match(conf, &f, &missing)->label,
	    "submissions");
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_NAME, "MSA"), 0);
	ck_assert_str_eq(listener_match(conf, &f, &missing)->label,
	    "submission");
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_PORT, "25"), 0);
	ck_assert_int_eq(facts_set(&f, FACT_DAEMON_NAME, "mx"), 0);
	l = listener_match(conf, &f, &missing);
	ck_assert_str_eq(l->label, "default");
	ck_assert(l->rules.auth_requires_tls && !l->rules.require_tls &&
	    !l->rules.require_auth);
	ck_assert_int_eq(l->rules.min_tls_version, TLS_VERSION_NONE);
	out = printed(conf);
	ck_assert_str_eq(out, builtin_print);
	free(out);
	facts_clear(&f);
	conf_free(&conf);
}
END_TEST

/* same_listener - the two sections select and decide alike. */
static void
same_listener(const struct conf_listener *a, const struct conf_listener *b)
{
	const struct policy_rules *x = &a->rules, *y = &b->rules;

	ck_assert_str_eq(a->label, b->label);
	ck_assert_uint_eq(a->n_ports, b->n_ports);
	for (size_t i = 0; i < a->n_ports; i++)
		ck_assert_uint_eq(a->ports[i], b->ports[i]);
	ck_assert_uint_eq(a->n_names, b->n_names);
	for (size_t i = 0; i < a->n_names; i++)
		ck_assert_str_eq(a->names[i], b->names[i]);
	ck_assert_int_eq(a->match, b->match);
	ck_assert(x->require_tls == y->require_tls &&
	    x->require_auth == y->require_auth &&
	    x->auth_requires_tls == y->auth_requires_tls);
	ck_assert_int_eq(x->min_tls_version, y->min_tls_version);
	ck_assert_int_eq(x->action, y->action);
	ck_assert_mem_eq(x->rule_action, y->rule_action, sizeof(x->rule_action));
	ck_assert_mem_eq(x->has_reply, y->has_reply, sizeof(x->has_reply));
	ck_assert_uint_eq(x->trusted.n_blocks, y->trusted.n_blocks);
}

START_TEST(test_sample_is_builtin)
{
	struct conf *builtin = conf_builtin(), *sample;
	struct conf_error err;
	char path[4096];

	sample = conf_load(srcpath("../../contrib/tlspolicy-milter.conf", path,
	    sizeof(path)), &err);
	ck_assert_msg(sample != NULL, "%s", err.text);
	ck_assert_str_eq(sample->path, path);
	/* the deployment settings: an access-controlled socket, a pid file */
	ck_assert_str_eq(sample->socket,
	    "unix:/var/spool/postfix/tlspolicy-milter/tlspolicy-milter.sock");
	ck_assert_uint_eq(sample->socket_mode, 0660);
	ck_assert_str_eq(sample->socket_group, "postfix");
	ck_assert_str_eq(sample->userid, "tlspolicy-milter");
	ck_assert_str_eq(sample->pid_file,
	    "/run/tlspolicy-milter/tlspolicy-milter.pid");
	ck_assert_ptr_null(sample->audit_log);
	ck_assert(sample->syslog == builtin->syslog &&
	    sample->request_macros == builtin->request_macros &&
	    sample->log_debug == builtin->log_debug);
	ck_assert_int_eq(sample->syslog_facility, builtin->syslog_facility);
	ck_assert_int_eq(sample->failure_action, builtin->failure_action);
	ck_assert_uint_eq(sample->n_listeners, builtin->n_listeners);
	for (size_t i = 0; i < sample->n_listeners; i++)
		same_listener(&sample->listeners[i], &builtin->listeners[i]);
	same_listener(&sample->fallback, &builtin->fallback);
	ck_assert_uint_gt(sample->fallback.line, 0);
	conf_free(&sample);
	conf_free(&builtin);
}
END_TEST

/* The examples of tlspolicy-milter.conf(5), as fixtures. */
static const struct {
	const char	*file;
	size_t		 n_listeners;
	const char	*want;	/* in the printout */
} fixtures[] = {
	{ "data/postfix.conf", 2, "listener submissions (line " },
	{ "data/sendmail.conf", 2, "listener msa (line " },
	{ "data/report.conf", 1, "  replies: 1 auth-requires-tls reject" },
};

START_TEST(test_fixtures)
{
	struct conf_error err;
	struct conf *conf;
	char path[4096], *out;

	conf = conf_load(srcpath(fixtures[_i].file, path, sizeof(path)), &err);
	ck_assert_msg(conf != NULL, "%s", err.text);
	ck_assert_uint_eq(conf->n_listeners, fixtures[_i].n_listeners);
	out = printed(conf);
	ck_assert_msg(strstr(out, fixtures[_i].want) != NULL, "%s: %s",
	    fixtures[_i].file, out);
	free(out);
	conf_free(&conf);
}
END_TEST

/*
 * The command line's -p and -u (struct conf_overrides) take the place of
 * the file's socket and userid where they are in force, without changing
 * the loaded config: -n prints them, and a reload that changes the file's
 * socket or userid does not warn about keys the command line holds.
 */
START_TEST(test_overrides)
{
	const struct conf_overrides ov = { .socket = "unix:/run/m/m.sock",
	    .userid = "milter" };
	struct conf_error err;
	struct conf *a = load("socket inet:1@127.0.0.1\nuserid nobody\n",
	    &err);
	struct conf *b = load("socket inet:2@127.0.0.1\nuserid daemon\n"
	    "socket-mode 0600\nlog-debug yes\n", &err);
	char applied[128], restart[128], *out = NULL;
	size_t size = 0;
	FILE *fp;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(conf_socket(a, &ov), "unix:/run/m/m.sock");
	ck_assert_str_eq(conf_userid(a, &ov), "milter");
	ck_assert_str_eq(conf_socket(a, NULL), "inet:1@127.0.0.1");
	ck_assert_str_eq(conf_userid(a, NULL), "nobody");
	ck_assert_str_eq(a->socket, "inet:1@127.0.0.1");	/* unchanged */
	ck_assert_ptr_nonnull(fp = open_memstream(&out, &size));
	ck_assert_int_eq(conf_print_with(a, &ov, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(strstr(out, "\nsocket unix:/run/m/m.sock\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nuserid milter\n"));
	free(out);
	out = printed(a);
	ck_assert_ptr_nonnull(strstr(out, "\nsocket inet:1@127.0.0.1\n"));
	free(out);
	conf_diff(a, b, NULL, applied, sizeof(applied), restart,
	    sizeof(restart));
	ck_assert_str_eq(applied, "log-debug");
	ck_assert_str_eq(restart, "socket, userid, socket-mode");
	conf_diff(a, b, &ov, applied, sizeof(applied), restart,
	    sizeof(restart));
	ck_assert_str_eq(applied, "log-debug");
	ck_assert_str_eq(restart, "socket-mode");
	conf_free(&a);
	conf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_errors, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_loop_test(tc, test_good, 0, sizeof(good) / sizeof(good[0]));
	tcase_add_test(tc, test_every_error);
	tcase_add_test(tc, test_nul_long_and_files);
	tcase_add_test(tc, test_longest_line);
	tcase_add_test(tc, test_inheritance);
	tcase_add_test(tc, test_builtin);
	tcase_add_test(tc, test_overrides);
	tcase_add_test(tc, test_sample_is_builtin);
	tcase_add_loop_test(tc, test_fixtures, 0,
	    sizeof(fixtures) / sizeof(fixtures[0]));
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
