#!/usr/bin/env bash
# The Debian packages, as a distribution would build and install them: make
# deb's build (in a copy of the tree, without the unit tests, which make check
# runs anyway), lintian without errors, the .debs unpacked into a scratch root
# with the files each should hold, the installed programs' --version, the
# library's soname and .pc, and every man page rendered by man without a
# warning.  TAP on stdout.
set -u
cd "$(dirname "$0")/../.."
repo=$PWD

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmgenid-test-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
root=$tmp/root

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
# check DESCRIPTION COMMAND...: one test line from a command's status.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

echo "1..26"
version=$(dpkg-parsechangelog -S Version)
meson_version=$(sed -n "s/^ *version: '\([^']*\)',.*/\1/p" meson.build | head -n 1)
check "debian/changelog's version ($version) is meson's project version ($meson_version)" \
	test "$version" = "$meson_version"

# The build works in a copy: the tree's state (changes included) must not move.
tree_state() { git -C "$repo" status --porcelain --ignored=matching 2>/dev/null; }
before=$(tree_state)
start=$(date +%s)
if ! DEB_BUILD_OPTIONS="nocheck noddebs" bash scripts/deb.sh "$out" >"$tmp/deb.out" 2>&1; then
	sed 's/^/# /' "$tmp/deb.out"
	not_ok "make deb's build (dpkg-buildpackage -b) succeeds"
	exit 1
fi
ok "make deb's build succeeds ($(($(date +%s) - start)) s)"
check "the build left the tree as it was" test "$(tree_state)" = "$before"

arch=$(dpkg-architecture -q DEB_HOST_ARCH)
ma=$(dpkg-architecture -q DEB_HOST_MULTIARCH)
debs=()
for p in genvm vmgenid libvmgenid0 libvmgenid-dev; do
	debs+=("$out/${p}_${version}_${arch}.deb")
done
all_files() { for f; do [ -f "$f" ] || { echo "# missing: $f"; return 1; }; done; }
check "four packages: genvm, vmgenid, libvmgenid0, libvmgenid-dev" all_files "${debs[@]}"

# Errors fail; warnings are shown.
lintian --tag-display-limit 0 "$out"/*.changes >"$tmp/lintian" 2>&1
sed 's/^/# lintian: /' "$tmp/lintian"
check "lintian reports no errors ($(grep -c '^W:' "$tmp/lintian") warnings)" \
	test "$(grep -c '^E:' "$tmp/lintian")" = 0

mkdir "$root"
for d in "${debs[@]}"; do
	dpkg-deb -x "$d" "$root" || not_ok "dpkg-deb -x $(basename "$d")"
done

# holds PACKAGE PATH...: each path is in that package's data.
holds() {
	local pkg=$1 list
	shift
	list=$(dpkg-deb -c "$out/${pkg}_${version}_${arch}.deb" | awk '{ print $6 }' | sed 's|^\./|/|')
	for f in "$@"; do
		grep -qx "$f" <<<"$list" || { echo "# $pkg lacks $f"; return 1; }
	done
}
check "genvm holds genvm, genvm-qmp, their man pages and the clones' network script" holds genvm \
	/usr/bin/genvm /usr/bin/genvm-qmp /usr/share/man/man1/genvm.1.gz /usr/share/man/man1/genvm-qmp.1.gz \
	/usr/share/doc/genvm/copyright /usr/share/doc/genvm/examples/clone-netns.sh
check "vmgenid holds the tool, vmgenid(8), the watch unit and the hooks directory" holds vmgenid \
	/usr/bin/vmgenid /usr/share/man/man8/vmgenid.8.gz /lib/systemd/system/vmgenid-watch.service \
	/etc/vmgenid/on-change.d/ /usr/share/doc/vmgenid/examples/on-change.d/50-reseed-random-seed \
	/usr/share/doc/vmgenid/examples/on-change.d/20-drain-hwrng
check "libvmgenid0 holds the shared library under its soname" holds libvmgenid0 \
	"/usr/lib/$ma/libvmgenid.so.0"
check "libvmgenid-dev holds headers, .so, .a, .pc and libvmgenid(3)" holds libvmgenid-dev \
	/usr/include/vmgenid/vmgenid.h "/usr/lib/$ma/libvmgenid.so" "/usr/lib/$ma/libvmgenid.a" \
	"/usr/lib/$ma/pkgconfig/libvmgenid.pc" /usr/share/man/man3/libvmgenid.3.gz

lib=$root/usr/lib/$ma
soname=$(readelf -d "$lib/libvmgenid.so.0" 2>/dev/null | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "the library's SONAME is libvmgenid.so.0 (found: ${soname:-none})" test "$soname" = libvmgenid.so.0
check "libvmgenid.so.0 and libvmgenid.so resolve to one file" \
	test -f "$lib/libvmgenid.so.0" -a "$(readlink -f "$lib/libvmgenid.so")" = "$(readlink -f "$lib/libvmgenid.so.0")"
shlibs=$(dpkg-deb -I "${debs[2]}" shlibs 2>/dev/null)
check "libvmgenid0's shlibs: $shlibs" test "$shlibs" = "libvmgenid 0 libvmgenid0 (>= $version)"
check "libvmgenid-dev depends on libvmgenid0 (= $version)" \
	grep -q "libvmgenid0 (= $version)" <<<"$(dpkg-deb -f "${debs[3]}" Depends)"
# The symbols file: dpkg-gensymbols compared the library with it (no
# warning in the build log), the package carries it, and the check it runs
# does fail when the library lacks a symbol the file lists (a removed one).
gensym_warnings=$(grep -c '^dpkg-gensymbols: warning' "$out/build.log")
grep '^dpkg-gensymbols' "$out/build.log" | sed 's/^/# /'
gensym_ran=$(grep -c 'dh_makeshlibs .*-c4' "$out/build.log")
check "dpkg-gensymbols -c4 checked libvmgenid0 against debian/libvmgenid0.symbols without a warning" \
	test "$gensym_warnings" = 0 -a "$gensym_ran" -gt 0
pkg_symbols=$(dpkg-deb -I "${debs[2]}" symbols 2>/dev/null)
check "libvmgenid0 carries the symbols file ($(grep -c '@VMGENID_0 ' <<<"$pkg_symbols") symbols, as debian/ lists them)" \
	test "$(grep '@VMGENID_0 ' <<<"$pkg_symbols" | sort)" = "$(grep '@VMGENID_0 ' debian/libvmgenid0.symbols | sort)"
mkdir -p "$tmp/gensym/debian"
cp debian/control debian/changelog "$tmp/gensym/debian/"
# gensym FILE: dpkg-gensymbols -c4, as the build runs it, on the packaged
# library with FILE as the reference.
gensym() {
	rm -f "$tmp/gensym/new"
	(cd "$tmp/gensym" && dpkg-gensymbols -plibvmgenid0 -v"$version" -c4 -I"$1" \
		-e"$root/usr/lib/$ma/libvmgenid.so.0" -O"$tmp/gensym/new") >"$tmp/gensym.out" 2>&1
}
# A symbol an earlier release had that the library lost; one it exports unlisted.
sed 's/^ vmgenid_guid_parse@VMGENID_0 .*/&\n vmgenid_gone@VMGENID_0 0.0.9/' debian/libvmgenid0.symbols \
	>"$tmp/removed.symbols"
grep -v '^ vmgenid_guid_parse@' debian/libvmgenid0.symbols >"$tmp/unlisted.symbols"
if gensym "$repo/debian/libvmgenid0.symbols" &&
	! gensym "$tmp/removed.symbols" && grep -q 'MISSING.*vmgenid_gone' "$tmp/gensym.out" &&
	! gensym "$tmp/unlisted.symbols" && grep -q '^+ vmgenid_guid_parse@' "$tmp/gensym.out"; then
	ok "dpkg-gensymbols -c4 passes the library against the file, fails a removed or an unlisted symbol"
else
	sed 's/^/# /' "$tmp/gensym.out" | head -n 20
	not_ok "dpkg-gensymbols -c4 passes the library against the file, fails a removed or an unlisted symbol"
fi

pc_version=$(PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$lib/pkgconfig pkg-config --modversion libvmgenid 2>&1)
check "pkg-config reads libvmgenid.pc in the scratch root: version $pc_version" test "$pc_version" = "$version"
check "the unit runs the installed tool" grep -qx 'ExecStart=/usr/bin/vmgenid watch' \
	"$root/lib/systemd/system/vmgenid-watch.service"

# The installed programs, run from the scratch root (its library first).
run() { LD_LIBRARY_PATH=$lib "$root/usr/bin/$1" --version 2>&1; }
got=$(run genvm)
check "installed genvm --version: ${got%%$'\n'*}" test "${got%%$'\n'*}" = "genvm version $version"
got=$(run genvm-qmp)
check "installed genvm-qmp --version: $got" test "$got" = "genvm-qmp version $version"
got=$(run vmgenid)
check "installed vmgenid --version: $got" test "$got" = "vmgenid $version"
check "the packaged vmgenid links the system's libraries (not static)" \
	bash -c "LD_LIBRARY_PATH='$lib' ldd '$root/usr/bin/vmgenid' | grep -q libjansson"

# man -l with warnings on: stderr must stay empty.
for page in man1/genvm.1 man1/genvm-qmp.1 man8/vmgenid.8 man3/libvmgenid.3; do
	MANWIDTH=80 man --warnings -l "$root/usr/share/man/$page.gz" >"$tmp/page" 2>"$tmp/warn"
	rc=$?
	sed 's/^/# /' "$tmp/warn"
	check "man -l $page renders without warnings ($(wc -l <"$tmp/page") lines)" \
		test "$rc" = 0 -a ! -s "$tmp/warn" -a -s "$tmp/page"
done
exit "$failed"
