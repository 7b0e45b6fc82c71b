#!/bin/sh
# fetch.sh - a private, never-installed Sendmail 8.17 for the tests.
#
#   sh tests/sendmail/fetch.sh [ROOT]
#
# Postfix and Sendmail conflict as Debian packages, so the Sendmail suite
# does not install Sendmail: it downloads sendmail-bin, sendmail-base,
# sendmail-cf and libwrap0 with `apt-get download` into a cache and unpacks
# them with `dpkg -x` into ROOT (default tests/sendmail/.cache/root; both
# are reused on later runs and ignored by git).  The private daemon copy
# loses its setgid bit, because for a setgid exec the loader ignores
# LD_LIBRARY_PATH and the binary needs the private libwrap.so.0.  m4 (to
# build the .cf) is installed with apt-get when missing.  Nothing under
# /etc or /usr is written except by that one apt-get install.
#
# Prints the root on success; exits non-zero with the reason otherwise.

set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${SENDMAIL_CACHE:=$here/.cache}"
root=${1:-$SENDMAIL_CACHE/root}
debs="$SENDMAIL_CACHE/debs"
PKGS="sendmail-bin sendmail-base sendmail-cf libwrap0"

die() {
	echo "fetch: $*" >&2
	exit 1
}

updated=no
apt_update() {
	[ "$updated" = yes ] && return 0
	apt-get update -q >/dev/null 2>&1 || die "apt-get update failed"
	updated=yes
}

if ! command -v m4 >/dev/null 2>&1; then
	[ "$(id -u)" = 0 ] || die "m4 is missing (apt-get install m4 as root)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q m4 >/dev/null 2>&1 ||
	    { apt_update; DEBIAN_FRONTEND=noninteractive apt-get install -y -q m4 >/dev/null 2>&1; } ||
	    die "apt-get install m4 failed"
fi

mkdir -p "$debs" || die "cannot create $debs"
for p in $PKGS; do
	ls "$debs/${p}_"*.deb >/dev/null 2>&1 && continue
	(cd "$debs" && apt-get download -q "$p" >/dev/null 2>&1) ||
	    { apt_update; (cd "$debs" && apt-get download -q "$p" >&2); } ||
	    die "apt-get download $p failed"
done

bin="$root/usr/libexec/sendmail/sendmail"
have_libwrap() {
	for f in "$1"/usr/lib/*/libwrap.so.0 "$1"/lib/*/libwrap.so.0; do
		[ -e "$f" ] && return 0
	done
	return 1
}
if [ ! -x "$bin" ] || [ ! -e "$root/usr/share/sendmail/cf/m4/cf.m4" ] || ! have_libwrap "$root"; then
	# unpack beside, then rename: a suite running at the same time never
	# sees a half-unpacked root
	new=$(mktemp -d "$root.new.XXXXXX") || die "cannot create a directory beside $root"
	for p in $PKGS; do
		dpkg -x "$debs/${p}_"*.deb "$new" || { rm -rf "$new"; die "dpkg -x $p failed"; }
	done
	chmod g-s,u-s "$new/usr/libexec/sendmail/sendmail"
	chmod 755 "$new"
	rm -rf "$root" && mv "$new" "$root" || die "cannot move $new to $root"
fi
[ -x "$bin" ] || die "no daemon at $bin after unpacking"
[ -e "$root/usr/share/sendmail/cf/m4/cf.m4" ] || die "no cf.m4 under $root"
# setgid mail: the loader would ignore LD_LIBRARY_PATH
[ ! -g "$bin" ] || chmod g-s,u-s "$bin" || die "chmod g-s $bin failed"
echo "$root"
