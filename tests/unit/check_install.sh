#!/bin/sh
# check_install.sh - `make install DESTDIR=...` installs what the docs
# name and `make uninstall DESTDIR=...` takes back everything it made:
#   1. into an empty DESTDIR: the daemon, the report, the man pages, the
#      sample config and the other examples, the Postfix and Sendmail
#      snippets and the audit format are installed; every path under
#      docdir the installed man pages name exists; after uninstall
#      DESTDIR is empty again (no file, no directory; any left is listed);
#   2. into a DESTDIR that already has some of the directories (bindir
#      with a file of someone else's, an empty man8 directory), as a
#      system has: after uninstall the tree is exactly as before, those
#      directories included.
# Runs make in the top build directory (TOP_BUILDDIR); BINDIR, MANDIR and
# DOCDIR are the configured directories (tests/unit/Makefile.am passes
# them).  Prints "N passed, N failed"; exit 1 on any failure.
#
# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The tlspolicy-milter authors
set -u
build=${TOP_BUILDDIR:?TOP_BUILDDIR is the top build directory}
bindir=${BINDIR:?} mandir=${MANDIR:?} docdir=${DOCDIR:?}
passed=0
failed=0
w=$(mktemp -d "${TMPDIR:-/tmp}/check_install.XXXXXX")
trap 'rm -rf "$w"' EXIT

pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# run_make TARGET DESTDIR - make TARGET in the top build directory; not
# under the jobserver of a make check that runs this script.
run_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -C "$build" \
	    "$1" DESTDIR="$2" >"$w/make-$1.log" 2>&1 ||
	    { echo "make $1 failed:"; tail -n 20 "$w/make-$1.log"; return 1; }
}

# tree DIR - every path below DIR, relative, sorted.
tree() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort)
}

# 1. An empty DESTDIR.
d="$w/empty root"
mkdir "$d"
if run_make install "$d"; then
	missing=""
	for f in "$bindir/tlspolicy-report" "$mandir/man8/tlspolicy-milter.8" \
	    "$mandir/man5/tlspolicy-milter.conf.5" "$mandir/man1/tlspolicy-report.1" \
	    "$docdir/audit-format.md" "$docdir/examples/tlspolicy-milter.conf" \
	    "$docdir/examples/tlspolicy-milter.service" \
	    "$docdir/examples/tlspolicy-milter.logrotate" \
	    "$docdir/examples/postfix/main.cf" "$docdir/examples/postfix/master.cf" \
	    "$docdir/examples/sendmail/tlspolicy-milter.mc"; do
		[ -f "$d$f" ] || missing="$missing $f"
	done
	find "$d" -name tlspolicy-milter -type f -perm -u+x | grep -q . ||
	    missing="$missing (the daemon, sbin/tlspolicy-milter)"
	if [ -z "$missing" ]; then pass "make install installs the daemon, the man pages, the examples, the MTA snippets and the audit format"
	else fail "make install did not install:$missing"; fi

	# The installed man pages name installed files only.
	bad=""
	for m in "$d$mandir/man8/tlspolicy-milter.8" "$d$mandir/man5/tlspolicy-milter.conf.5"; do
		[ -f "$m" ] || continue
		for p in $(grep -o "$docdir/[^ ]*" "$m" | sed 's/[.,;:)]*$//' | sort -u); do
			[ -e "$d$p" ] || bad="$bad $p"
		done
	done
	n=$(cat "$d$mandir/man8/tlspolicy-milter.8" "$d$mandir/man5/tlspolicy-milter.conf.5" 2>/dev/null |
	    grep -c "$docdir/")
	if [ -z "$bad" ] && [ "$n" -ge 5 ]; then pass "the installed man pages name $n installed paths under $docdir, all present"
	else fail "the installed man pages name paths under $docdir that are not installed:${bad:- (found only $n)}"; fi

	if run_make uninstall "$d"; then
		left=$(tree "$d")
		if [ -z "$left" ]; then pass "make uninstall leaves an empty DESTDIR"
		else fail "make uninstall left in DESTDIR:"; echo "$left" | sed 's/^/    /'; fi
	else
		fail "make uninstall (empty DESTDIR)"
	fi
else
	fail "make install (empty DESTDIR)"
fi

# 2. A DESTDIR with some of the directories already there.
d="$w/system root"
mkdir -p "$d$bindir" "$d$mandir/man8"
echo "not ours" >"$d$bindir/other-tool"
tree "$d" >"$w/before"
if run_make install "$d" && run_make uninstall "$d"; then
	tree "$d" >"$w/after"
	if cmp -s "$w/before" "$w/after"; then pass "make uninstall keeps the directories that were there before (and removes what it made)"
	else fail "make uninstall did not restore the tree:"; diff "$w/before" "$w/after" | sed 's/^/    /'; fi
	[ -f "$d$bindir/other-tool" ] || fail "make uninstall removed a file it did not install"
else
	fail "make install/uninstall (DESTDIR with system directories)"
fi
[ ! -f "$build/install-dirs.list" ] || { fail "install-dirs.list left in the build directory"; cat "$build/install-dirs.list"; }

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
