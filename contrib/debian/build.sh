#!/bin/sh
# build.sh - build the Debian package from the dist tarball:
#
#   sh contrib/debian/build.sh TARBALL [OUTDIR]
#
# `make deb` runs it with the tarball `make dist` just made.  Unpacks
# TARBALL into a scratch directory, copies its contrib/debian/ to debian/,
# checks that debian/changelog names the tarball's version, runs
# `dpkg-buildpackage -us -uc -b` there (DEB_BUILD_OPTIONS passes through,
# e.g. nocheck) and moves tlspolicy-milter_VERSION_ARCH.deb (and the
# -dbgsym package, the .buildinfo and .changes) to OUTDIR (default: the current directory).
# Prints the path of the .deb.  Needs the Build-Depends of
# contrib/debian/control (dpkg-checkbuilddeps says which are missing).
set -eu
tarball=${1:?usage: build.sh TARBALL [OUTDIR]}
out=${2:-.}
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
out=$(cd "$out" && pwd)
name=$(basename "$tarball" .tar.gz)	# tlspolicy-milter-VERSION
version=${name#tlspolicy-milter-}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/tlspolicy-deb.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
tar -xzf "$tarball" -C "$scratch"
src="$scratch/$name"
[ -d "$src/contrib/debian" ] || { echo "build.sh: $tarball has no contrib/debian/" >&2; exit 1; }
cp -R "$src/contrib/debian" "$src/debian"
chmod +x "$src/debian/rules"
deb_version=$(cd "$src" && dpkg-parsechangelog -S Version)
if [ "$deb_version" != "$version" ]; then
	echo "build.sh: debian/changelog says $deb_version, the tarball is $version: add a changelog entry (contrib/debian/changelog)" >&2
	exit 1
fi
(cd "$src" && dpkg-checkbuilddeps) || { echo "build.sh: install the missing build dependencies" >&2; exit 1; }
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$scratch/build.log" 2>&1 ||
    { tail -n 40 "$scratch/build.log" >&2; echo "build.sh: dpkg-buildpackage failed" >&2; exit 1; }
arch=$(dpkg --print-architecture)
base="tlspolicy-milter_${version}_$arch"
mv "$scratch"/*_"${version}"_*.deb "$scratch/$base.buildinfo" "$scratch/$base.changes" "$out/"
echo "$out/$base.deb"
