#!/usr/bin/env bash
# make deb: build the Debian packages (genvm, vmgenid, libvmgenid0,
# libvmgenid-dev) with dpkg-buildpackage, in a copy of this tree under a
# temporary directory so that the tree itself gains no build files.
#
# usage: deb.sh [OUT]   the .debs, .changes and .buildinfo go to OUT
#                       (default build-deb/); the build's log is OUT/build.log
# DEB_BUILD_OPTIONS is passed on (nocheck: no unit tests in the package build).
set -eu
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-build-deb}")
version=$(dpkg-parsechangelog -S Version)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmgenid-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/vmgenid-$version
mkdir "$src"

# What a commit of this tree would hold: tracked files and new ones that are
# not ignored (never build directories or caches).  Without git: all of it
# but those.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$src"
else
	tar --exclude='./build*' --exclude=./.cache -cf - . | tar -xf - -C "$src"
fi

mkdir -p "$out"
export DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
	exit 1
fi
for f in "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo; do
	mv "$f" "$out/"
done
echo "deb: $(cd "$out" && ls ./*_"$version"_*.deb | sed 's|^\./||' | tr '\n' ' ')in $out"
