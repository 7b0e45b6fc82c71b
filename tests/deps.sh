#!/bin/sh
# deps.sh - install the Debian packages the build, the demo and the tests
# need, when they are missing.  Sourced by tests/run-all.sh and tests/demo.sh;
# safe to run by hand: `sh tests/deps.sh`.
#
# Postfix is preseeded with "No configuration" so installing it neither
# writes /etc/postfix/main.cf nor starts a system instance: the tests run
# their own private instances.

TLSPOLICY_PACKAGES="gcc make autoconf automake libtool pkg-config m4 \
libmilter-dev libssl-dev zlib1g-dev check miltertest openssl \
postfix swaks libnet-ssleay-perl sasl2-bin libsasl2-modules \
jq python3 mandoc iproute2 procps valgrind systemd logrotate clang libclang-rt-14-dev chromium \
debhelper dpkg-dev fakeroot lintian git strace poppler-utils \
libmicrohttpd-dev prometheus"

deps_install() {
	missing=""
	for p in $TLSPOLICY_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages:$missing (run as root to install them)" >&2
		return 1
	fi
	echo "deps: installing:$missing"
	echo "postfix postfix/main_mailer_type select No configuration" |
	    debconf-set-selections
	apt-get update -q >/dev/null || { echo "deps: apt-get update failed" >&2; return 1; }
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing \
	    >/dev/null || { echo "deps: apt-get install failed" >&2; return 1; }
}

case "$0" in
*deps.sh) deps_install ;;
esac
