#!/bin/sh
# lab.sh - a private Postfix instance on loopback for the tests, the demo
# and the benchmark.
#
#   sh tests/postfix/lab.sh start DIR [--milter-port N | --milter-socket SPEC]
#       [--default-macros] [--chroot]
#   sh tests/postfix/lab.sh stop DIR
#
# or, sourced:  . tests/postfix/lab.sh; lab_start DIR MILTER
# [default-macros|""] [chroot]; ...; lab_stop DIR.  MILTER is a port on
# 127.0.0.1 or a socket spec for smtpd_milters (unix:PATH, inet:HOST:PORT).
#
# Everything lives under DIR: config (DIR/etc), queue, data, log
# (DIR/log/maillog, via the postlog service), certificate and SASL
# database.  /etc/postfix is only read (postfix-files); the system
# instance is never started.  chroot is off for every service unless
# "chroot": then the three smtpd listeners run chrooted in the queue
# directory DIR/queue, as in Debian's master.cf, with the files they need
# copied into it as Debian's postfix init script does (etc/services,
# etc/hosts, etc/localtime, etc/nsswitch.conf, ... and the SASL database
# at its own path below DIR/queue); a unix: milter path is then relative
# to DIR/queue (Postfix resolves a relative path against the queue
# directory, chrooted or not).  All mail goes to the discard transport,
# nothing listens on port 25, and three loopback listeners stand for the
# usual ports:
#
#   LAB_MX_PORT    (25)  MX: STARTTLS offered (security level may), AUTH
#                        offered in plaintext too, daemon name "mx"
#   LAB_SUB_PORT   (587) submission: STARTTLS offered, AUTH offered in
#                        plaintext too (smtpd_tls_auth_only = no) so the
#                        milter, not Postfix, must enforce; "submission"
#   LAB_SMTPS_PORT (465) submissions: implicit TLS (smtpd_tls_wrappermode),
#                        daemon name "submissions"
#
# The ports come from the environment; unset ones are picked when this
# file is sourced: free ports (no socket in any state) below the kernel's
# ephemeral range, so the lab never meets another instance.  Postfix sends
# the milter {daemon_port}, {client_addr} and {client_port} at connect;
# with "default-macros" it keeps its default milter_connect_macros (no
# {daemon_port}).  AUTH user: alice@example.test, password lab-password.
# DIR/lab.env records the ports; "start" prints it.
#
# Never probes a port with a TCP connect (that would be an SMTP session
# and a milter connect): listeners are checked with ss, and must belong
# to this instance's master.  On failure: the reason and the log tail on
# stderr, exit status 1.

set -u
# tests/lib/daemon.sh: run as a script, from beside this file; sourced,
# the caller sources it first.
case "${0##*/}" in
lab.sh) . "$(cd "$(dirname "$0")" && pwd)/../lib/daemon.sh" ;;
esac
command -v tl_free_port >/dev/null ||
    { echo "lab: source tests/lib/daemon.sh before lab.sh" >&2; exit 1; }
LAB_USER=alice
LAB_DOMAIN=example.test
LAB_PASSWORD=lab-password
LAB_LOGIN=$LAB_USER@$LAB_DOMAIN

lab_die() {
	echo "lab: $*" >&2
	exit 1
}

# lab_pick_ports - set LAB_MX_PORT, LAB_SUB_PORT, LAB_SMTPS_PORT unless
# set (tl_free_port), and count the given ones as taken.
lab_pick_ports() {
	for _v in LAB_MX_PORT LAB_SUB_PORT LAB_SMTPS_PORT; do
		eval "_p=\${$_v:-}"
		if [ -n "$_p" ]; then
			tl_take_port "$_p"
		else
			tl_free_port "$_v" >/dev/null || lab_die "no free port"
		fi
	done
	export LAB_MX_PORT LAB_SUB_PORT LAB_SMTPS_PORT
}

lab_write_config() {
	dir=$1 milter_port=$2 macros=$3 chroot=${4:-n}
	case "$milter_port" in
	*[!0-9]*) milter_spec=$milter_port ;;
	*) milter_spec=inet:127.0.0.1:$milter_port ;;
	esac
	mkdir -p "$dir/etc/sasl" "$dir/queue" "$dir/data" "$dir/log" "$dir/tls" "$dir/sasl" ||
	    lab_die "cannot create $dir"
	chmod 755 "$dir"
	# Postfix (user postfix) must be able to reach DIR: every parent too.
	_d=$dir
	while [ "$_d" != / ] && [ -n "$_d" ]; do
		su -s /bin/sh postfix -c "test -x '$_d'" 2>/dev/null ||
		    lab_die "user postfix cannot enter $_d (make it 0755)"
		_d=$(dirname "$_d")
	done
	chown postfix "$dir/data"
	if [ "$macros" = default-macros ]; then
		connect_macros="# milter_connect_macros: Postfix's default (no {daemon_port})"
	else
		connect_macros="milter_connect_macros = j {daemon_name} {daemon_addr} {daemon_port} {client_addr} {client_port} v _"
	fi
	cat >"$dir/etc/main.cf" <<CF
# A private lab instance made by tests/postfix/lab.sh; nothing here is
# shared with the system's Postfix.
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
myhostname = mx.$LAB_DOMAIN
mydomain = $LAB_DOMAIN
myorigin = $LAB_DOMAIN
mydestination = $LAB_DOMAIN, localhost
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtputf8_enable = no
biff = no
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_client_port_logging = yes
local_recipient_maps =
alias_maps =
alias_database =
# every message is thrown away after it was queued
local_transport = discard:lab
default_transport = discard:lab
relay_transport = discard:lab
virtual_transport = discard:lab
maillog_file = $dir/log/maillog
maillog_file_prefixes = $dir
smtpd_milters = $milter_spec
milter_default_action = tempfail
milter_command_timeout = 10s
$connect_macros
smtpd_tls_cert_file = $dir/tls/cert.pem
smtpd_tls_key_file = $dir/tls/key.pem
smtpd_tls_security_level = may
smtpd_tls_protocols = >=TLSv1
smtpd_tls_mandatory_protocols = >=TLSv1
smtpd_tls_ciphers = low
tls_low_cipherlist = DEFAULT:@SECLEVEL=0
smtpd_tls_ask_ccert = yes
smtpd_tls_CAfile = $dir/tls/ca.pem
smtpd_tls_auth_only = no
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $dir/etc/sasl
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
CF
	cat >"$dir/etc/master.cf" <<CF
# 25 (MX), 587 (submission) and 465 (submissions), on high loopback ports
127.0.0.1:$LAB_MX_PORT inet n - $chroot - - smtpd -o milter_macro_daemon_name=mx
127.0.0.1:$LAB_SUB_PORT inet n - $chroot - - smtpd -o milter_macro_daemon_name=submission
127.0.0.1:$LAB_SMTPS_PORT inet n - $chroot - - smtpd -o smtpd_tls_wrappermode=yes -o milter_macro_daemon_name=submissions
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
	cat >"$dir/lab.env" <<ENV
LAB_MX_PORT=$LAB_MX_PORT
LAB_SUB_PORT=$LAB_SUB_PORT
LAB_SMTPS_PORT=$LAB_SMTPS_PORT
LAB_MILTER_PORT=$milter_port
LAB_MILTER=$milter_spec
LAB_CHROOT=$chroot
LAB_LOGIN=$LAB_LOGIN
LAB_PASSWORD=$LAB_PASSWORD
ENV
}

lab_write_secrets() {
	dir=$1
	# A lab CA signs the server's certificate and a client certificate
	# (CN=alice@example.test) for the require-client-cert scenarios.
	{ openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/O=Example Lab/CN=Lab CA" \
	    -keyout "$dir/tls/ca.key" -out "$dir/tls/ca.pem" &&
	  openssl req -newkey rsa:2048 -nodes -subj "/CN=mx.$LAB_DOMAIN" \
	    -keyout "$dir/tls/key.pem" -out "$dir/tls/server.csr" &&
	  openssl x509 -req -days 2 -in "$dir/tls/server.csr" -CA "$dir/tls/ca.pem" \
	    -CAkey "$dir/tls/ca.key" -CAcreateserial -out "$dir/tls/cert.pem" &&
	  openssl req -newkey rsa:2048 -nodes -subj "/O=Example Lab/CN=alice@$LAB_DOMAIN" \
	    -keyout "$dir/tls/client.key" -out "$dir/tls/client.csr" &&
	  openssl x509 -req -days 2 -in "$dir/tls/client.csr" -CA "$dir/tls/ca.pem" \
	    -CAkey "$dir/tls/ca.key" -CAcreateserial -out "$dir/tls/client.pem"; } \
	    >"$dir/log/openssl.out" 2>&1 ||
	    { cat "$dir/log/openssl.out" >&2; lab_die "openssl could not make the certificates"; }
	chmod 600 "$dir/tls/key.pem" "$dir/tls/ca.key" "$dir/tls/client.key"
	printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN\n' \
	    "$dir/sasl/sasldb2" >"$dir/etc/sasl/smtpd.conf"
	echo "$LAB_PASSWORD" | saslpasswd2 -p -c -f "$dir/sasl/sasldb2" -u "$LAB_DOMAIN" "$LAB_USER" ||
	    lab_die "saslpasswd2 failed"
	chown root:postfix "$dir/sasl/sasldb2"
	chmod 640 "$dir/sasl/sasldb2"
}

# lab_chroot_files DIR - what chrooted smtpd needs inside DIR/queue, as
# Debian's postfix init script copies it: name service and time zone
# files, and the SASL database at the path smtpd.conf names (the SASL
# library reads smtpd.conf before the chroot, the database after it).
lab_chroot_files() {
	dir=$1
	case "$dir" in /*) ;; *) lab_die "a chrooted lab needs an absolute DIR, not $dir" ;; esac
	mkdir -p "$dir/queue/etc" "$dir/queue$dir/sasl" || lab_die "cannot populate the chroot"
	for _f in services hosts localtime nsswitch.conf host.conf resolv.conf; do
		[ -e "/etc/$_f" ] || continue
		cp -L "/etc/$_f" "$dir/queue/etc/$_f" || lab_die "cannot copy /etc/$_f into the chroot"
	done
	cp -p "$dir/sasl/sasldb2" "$dir/queue$dir/sasl/sasldb2" ||
	    lab_die "cannot copy the SASL database into the chroot"
}

# lab_listening PORT [PID] - something (process PID, if given) listens on
# 127.0.0.1:PORT.  Looks with ss; never connects.
lab_listening() {
	if [ -n "${2:-}" ]; then
		tl_listening "$1" "$2"
	else
		ss -ltnH "sport = :$1" 2>/dev/null | grep -q .
	fi
}

# lab_wait_log DIR PATTERN - wait up to 10 s for an extended regexp in
# the instance's log.
lab_wait_log() {
	_i=0
	until grep -Eq "$2" "$1/log/maillog" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		sleep 0.1
	done
}

# lab_session_check DIR CPORT QUEUED REPLY - the instance's log of the
# session from client port CPORT agrees: the message queued and delivered
# to the discard transport (QUEUED yes) or not, refused at MAIL FROM with
# REPLY ("250" or "-": not refused there).  Prints why not, or nothing:
# the Postfix suites' mta_log_check (tests/scenarios/lib.sh).
lab_session_check() {
	_dir=$1
	shift
	_pat="\[127\.0\.0\.1\]:$1"
	lab_wait_log "$_dir" "smtpd\[[0-9]+\]: disconnect from [^ ]*$_pat " ||
	    { echo "Postfix logged no end of the session from port $1"; return; }
	_qid=$(grep -E "smtpd\[[0-9]+\]: [0-9A-F]+: client=[^ ]*$_pat(,|\$)" "$_dir/log/maillog" |
	    sed 's/.*: \([0-9A-F]*\): client=.*/\1/')
	if [ "$2" = yes ]; then
		[ -n "$_qid" ] || { echo "Postfix logged no queue file for port $1"; return; }
		lab_wait_log "$_dir" "discard\[[0-9]+\]: $_qid: to=<bob@example.test>,.* status=sent " ||
		    { echo "Postfix did not deliver $_qid to the discard transport"; return; }
		return
	fi
	[ -z "$_qid" ] || { echo "Postfix queued the message as $_qid"; return; }
	case "$3" in
	250*|-) ;;
	*) grep -Eq "NOQUEUE: milter-reject: MAIL from [^ ]*$_pat: $3 " "$_dir/log/maillog" ||
	    echo "Postfix logged no 'milter-reject: MAIL from ...:$1: $3'" ;;
	esac
}

lab_master_pid() {
	_pf="$1/queue/pid/master.pid"
	[ -f "$_pf" ] && tr -d ' \n' <"$_pf"
}

# lab_log_tail DIR - the last lines of the instance's log, on stderr.
lab_log_tail() {
	echo "lab: last lines of $1/log/maillog:" >&2
	tail -n 25 "$1/log/maillog" >&2 2>/dev/null || echo "  (no log)" >&2
}

lab_start() {
	dir=$1 milter_port=$2 macros=${3:-} chroot=n
	[ "${4:-}" = chroot ] && chroot=y
	command -v postfix >/dev/null || lab_die "postfix is not installed"
	command -v saslpasswd2 >/dev/null || lab_die "saslpasswd2 (sasl2-bin) is not installed"
	[ -z "$(lab_master_pid "$dir" 2>/dev/null)" ] || lab_die "$dir already holds a started lab"
	lab_pick_ports
	for _p in "$LAB_MX_PORT" "$LAB_SUB_PORT" "$LAB_SMTPS_PORT"; do
		lab_listening "$_p" && lab_die "port $_p is taken: $(ss -ltnpH "sport = :$_p")"
	done
	lab_write_config "$dir" "$milter_port" "$macros" "$chroot"
	lab_write_secrets "$dir"
	[ "$chroot" = n ] || lab_chroot_files "$dir"
	postfix -c "$dir/etc" check >"$dir/log/check.out" 2>&1 ||
	    { cat "$dir/log/check.out" >&2; lab_die "postfix check failed"; }
	if ! postfix -c "$dir/etc" start >"$dir/log/start.out" 2>&1; then
		cat "$dir/log/start.out" >&2
		lab_log_tail "$dir"
		lab_die "Postfix did not start"
	fi
	_i=0
	while :; do
		_m=$(lab_master_pid "$dir" 2>/dev/null || true)
		if [ -n "$_m" ] && lab_listening "$LAB_MX_PORT" "$_m" &&
		    lab_listening "$LAB_SUB_PORT" "$_m" && lab_listening "$LAB_SMTPS_PORT" "$_m"; then
			break
		fi
		_i=$((_i + 1))
		if [ $_i -gt 100 ] || { [ -n "$_m" ] && ! kill -0 "$_m" 2>/dev/null; }; then
			lab_log_tail "$dir"
			(lab_stop "$dir") || true
			lab_die "the listeners of this Postfix ($LAB_MX_PORT $LAB_SUB_PORT $LAB_SMTPS_PORT, master ${_m:-none}) did not come up"
		fi
		sleep 0.1
	done
}

# lab_stop DIR - stop the instance; fail if its master or any of its
# children (found by the PID in master.pid) survives.
lab_stop() {
	dir=$1
	_m=$(lab_master_pid "$dir" 2>/dev/null || true)
	[ -n "$_m" ] || return 0
	if ! kill -0 "$_m" 2>/dev/null; then
		rm -f "$dir/queue/pid/master.pid"
		return 0
	fi
	# master.pid could be stale and name some other process: make sure
	# it is a Postfix master working in this queue directory.
	[ "$(readlink "/proc/$_m/cwd" 2>/dev/null)" = "$(cd "$dir/queue" && pwd -P)" ] ||
	    lab_die "master.pid names $_m, which is not this lab's master"
	_kids=$(pgrep -P "$_m" | tr '\n' ' ')
	postfix -c "$dir/etc" stop >"$dir/log/stop.out" 2>&1 || kill -TERM "$_m" 2>/dev/null || true
	_i=0
	_left="$_m $_kids"
	while [ $_i -lt 100 ]; do
		_alive=""
		for _p in $_left; do
			kill -0 "$_p" 2>/dev/null && _alive="$_alive $_p"
		done
		_left=$_alive
		[ -z "$_left" ] && break
		_i=$((_i + 1))
		sleep 0.1
	done
	if [ -n "$_left" ]; then
		for _p in $_left; do kill -KILL "$_p" 2>/dev/null || true; done
		lab_die "Postfix processes survived 'postfix stop' (killed):$_left"
	fi
	rm -f "$dir/queue/pid/master.pid"
}

case "${0##*/}" in
lab.sh)
	set -e
	cmd=${1:-} dir=${2:-}
	[ -n "$dir" ] || { echo "usage: lab.sh start DIR [--milter-port N | --milter-socket SPEC] [--default-macros] [--chroot] | stop DIR" >&2; exit 64; }
	shift 2
	case "$cmd" in
	start)
		mport=8895 macros="" chroot=""
		while [ $# -gt 0 ]; do
			case "$1" in
			--milter-port|--milter-socket) mport=$2; shift ;;
			--default-macros|default-macros) macros=default-macros ;;
			--chroot) chroot=chroot ;;
			[0-9]*) mport=$1 ;;
			*) echo "lab.sh: unknown option $1" >&2; exit 64 ;;
			esac
			shift
		done
		mkdir -p "$dir"
		dir=$(cd "$dir" && pwd)
		lab_start "$dir" "$mport" "$macros" "$chroot"
		cat "$dir/lab.env" ;;
	stop) lab_stop "$dir" ;;
	*) echo "usage: lab.sh start DIR [--milter-port N | --milter-socket SPEC] [--default-macros] [--chroot] | stop DIR" >&2; exit 64 ;;
	esac ;;
*)
	# sourced: pick the ports now, so the caller knows them
	lab_pick_ports ;;
esac
