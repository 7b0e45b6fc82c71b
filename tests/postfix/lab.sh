#!/bin/sh
# lab.sh - a private Postfix instance on loopback for the tests and the demo.
#
#   sh tests/postfix/lab.sh start DIR MILTER_PORT [default-macros]
#   sh tests/postfix/lab.sh stop DIR
#
# Everything lives under DIR: config, queue, data, log, certificate and
# SASL database.  /etc/postfix is only read (postfix-files); no system
# instance is started.  chroot is off, every message goes to the discard
# transport, and three listeners stand for the usual ports:
#
#   LAB_MX_PORT   (25)  MX: STARTTLS offered, AUTH offered in plaintext too
#   LAB_SUB_PORT  (587) submission: STARTTLS offered, AUTH in plaintext too
#   LAB_SMTPS_PORT(465) submissions: implicit TLS (smtpd_tls_wrappermode)
#
# Each service sets milter_macro_daemon_name (mx, submission, submissions)
# so listeners can be matched by name as well as by port.  AUTH user:
# alice@example.test / lab-password.  With "default-macros" Postfix keeps
# its default milter_connect_macros (no {daemon_port}).

set -u
: "${LAB_MX_PORT:=10025}"
: "${LAB_SUB_PORT:=10587}"
: "${LAB_SMTPS_PORT:=10465}"
LAB_USER=alice
LAB_DOMAIN=example.test
LAB_PASSWORD=lab-password

lab_die() {
	echo "lab: $*" >&2
	exit 1
}

lab_write_config() {
	dir=$1 milter_port=$2 macros=$3
	mkdir -p "$dir/etc/sasl" "$dir/queue" "$dir/data" "$dir/log" "$dir/tls" "$dir/sasl"
	chmod 755 "$dir"
	chown postfix "$dir/data"
	if [ "$macros" = default-macros ]; then
		connect_macros=""
	else
		connect_macros="milter_connect_macros = j {daemon_name} {daemon_addr} {daemon_port} {client_addr} {client_port} v _"
	fi
	cat >"$dir/etc/main.cf" <<CF
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
local_recipient_maps =
alias_maps =
alias_database =
local_transport = discard:
default_transport = discard:
relay_transport = discard:
maillog_file = $dir/log/maillog
maillog_file_prefixes = $dir
smtpd_milters = inet:127.0.0.1:$milter_port
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
smtpd_tls_auth_only = no
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $dir/etc/sasl
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
CF
	cat >"$dir/etc/master.cf" <<CF
127.0.0.1:$LAB_MX_PORT inet n - n - - smtpd -o milter_macro_daemon_name=mx
127.0.0.1:$LAB_SUB_PORT inet n - n - - smtpd -o milter_macro_daemon_name=submission
127.0.0.1:$LAB_SMTPS_PORT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o milter_macro_daemon_name=submissions
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
}

lab_write_secrets() {
	dir=$1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mx.$LAB_DOMAIN" \
	    -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" >/dev/null 2>&1 ||
	    lab_die "openssl could not make the certificate"
	chmod 600 "$dir/tls/key.pem"
	printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN\n' \
	    "$dir/sasl/sasldb2" >"$dir/etc/sasl/smtpd.conf"
	echo "$LAB_PASSWORD" | saslpasswd2 -p -c -f "$dir/sasl/sasldb2" -u "$LAB_DOMAIN" "$LAB_USER" ||
	    lab_die "saslpasswd2 failed"
	chown root:postfix "$dir/sasl/sasldb2"
	chmod 640 "$dir/sasl/sasldb2"
}

lab_listening() {
	ss -ltnH "sport = :$1" 2>/dev/null | grep -q .
}

lab_start() {
	dir=$1 milter_port=$2 macros=${3:-}
	command -v postfix >/dev/null || lab_die "postfix is not installed"
	lab_write_config "$dir" "$milter_port" "$macros"
	lab_write_secrets "$dir"
	postfix -c "$dir/etc" check >"$dir/log/check.out" 2>&1 ||
	    { cat "$dir/log/check.out" >&2; lab_die "postfix check failed"; }
	postfix -c "$dir/etc" start >"$dir/log/start.out" 2>&1 ||
	    { cat "$dir/log/start.out" >&2; tail -n 20 "$dir/log/maillog" >&2 2>/dev/null
	      lab_die "Postfix did not start"; }
	i=0
	while ! { lab_listening "$LAB_MX_PORT" && lab_listening "$LAB_SUB_PORT" &&
	    lab_listening "$LAB_SMTPS_PORT"; }; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			tail -n 20 "$dir/log/maillog" >&2 2>/dev/null
			lab_die "Postfix listeners did not come up in 10 s"
		fi
		sleep 0.1
	done
}

lab_master_pid() {
	pidfile="$1/queue/pid/master.pid"
	[ -f "$pidfile" ] && tr -d ' \n' <"$pidfile"
}

lab_stop() {
	dir=$1
	pid=$(lab_master_pid "$dir" || true)
	[ -n "$pid" ] || return 0
	postfix -c "$dir/etc" stop >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
	i=0
	while kill -0 "$pid" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 100 ] && { kill -KILL "$pid" 2>/dev/null || true; break; }
		sleep 0.1
	done
	# the master's children exit with it; make sure none is left
	i=0
	while pgrep -P "$pid" >/dev/null 2>&1 && [ $i -lt 50 ]; do
		i=$((i + 1))
		sleep 0.1
	done
	! kill -0 "$pid" 2>/dev/null || lab_die "Postfix master $pid survived"
}

case "${0##*/}" in
lab.sh)
	set -e
	case "${1:-}" in
	start) lab_start "$2" "$3" "${4:-}" ;;
	stop) lab_stop "$2" ;;
	*) echo "usage: lab.sh start DIR MILTER_PORT [default-macros] | stop DIR" >&2; exit 64 ;;
	esac ;;
esac
