#!/usr/bin/env bash
# libvmgenid as a VMM's build meets it (TAP): `meson install` into a DESTDIR,
# then the examples built from that copy with nothing but
# `pkg-config --cflags --libs libvmgenid` and run, and the shared library's
# exports checked: only the public, prefixed API.
#   BUILD  a configured and built Meson build directory (default: build)
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=$(cd "${BUILD:-build}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/dest

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
	[ -n "${2:-}" ] && [ -f "$2" ] && sed 's/^/# /' "$2"
}
check() { # check DESCRIPTION LOG COMMAND...
	local what=$1 log=$2
	shift 2
	if "$@" >"$log" 2>&1; then ok "$what"; else not_ok "$what" "$log"; fi
}

echo "1..14"
for t in pkg-config cc c++ nm readelf; do
	command -v $t >/dev/null || { echo "Bail out! $t not installed (scripts/deps.sh)"; exit 1; }
done

# 1: the install itself
if ! meson install -C "$build" --no-rebuild --destdir "$dest" >"$work/install.log" 2>&1; then
	not_ok "meson install into a DESTDIR" "$work/install.log"
	echo "Bail out! nothing installed"
	exit 1
fi
ok "meson install into a DESTDIR"

pc=$(find "$dest" -name libvmgenid.pc -path '*/pkgconfig/*' | head -n 1)
so=$(find "$dest" -name 'libvmgenid.so.0' | head -n 1)
a=$(find "$dest" -name 'libvmgenid.a' | head -n 1)
incdir=$(find "$dest" -type d -path '*/include/vmgenid' | head -n 1)

# 2: both libraries, the headers and the .pc are there; the .so.0 is a link
#    to the versioned file, and a link for the linker's -lvmgenid beside it
version=$(sed -n 's/.*"version": "\([^"]*\)".*/\1/p' "$build/meson-info/intro-projectinfo.json")
if [ -n "$pc" ] && [ -L "$so" ] && [ -f "$(dirname "$so")/libvmgenid.so.$version" ] &&
	[ -e "$(dirname "$so")/libvmgenid.so" ] && [ -n "$a" ] && [ -f "$incdir/vmgenid.h" ]; then
	ok "installed: libvmgenid.so.$version, .so.0, .so, .a, headers, libvmgenid.pc"
else
	find "$dest" -type f -o -type l >"$work/files"
	not_ok "installed: libvmgenid.so.$version, .so.0, .so, .a, headers, libvmgenid.pc" "$work/files"
	echo "Bail out! the library is not installed"
	exit 1
fi
libdir=$(dirname "$so")

# pkg-config sees only the DESTDIR copy: its search path is the .pc's
# directory alone, and the sysroot puts DESTDIR in front of every -I and -L.
pkgconf() {
	PKG_CONFIG_LIBDIR=$(dirname "$pc") PKG_CONFIG_PATH= PKG_CONFIG_SYSROOT_DIR=$dest \
		pkg-config "$@"
}

# 3: the .pc's version is the project's (meson.build, the one place it is set)
pcver=$(pkgconf --modversion libvmgenid 2>"$work/pcver.log")
if [ "$pcver" = "$version" ]; then
	ok "pkg-config --modversion libvmgenid is $version"
else
	echo "pkg-config said '$pcver'" >>"$work/pcver.log"
	not_ok "pkg-config --modversion libvmgenid is $version" "$work/pcver.log"
fi

flags=$(pkgconf --cflags --libs libvmgenid 2>"$work/flags.log")
case " $flags " in
*" -I$dest/"*" -L$dest/"*"-lvmgenid "*) ok "pkg-config --cflags --libs: $flags" ;;
*) echo "flags: $flags" >>"$work/flags.log"; not_ok "pkg-config --cflags --libs point into DESTDIR" "$work/flags.log" ;;
esac

# 5-6: the examples, built as a VMM's build would build them
# shellcheck disable=SC2086 # $flags is a word list
check "examples/embed.c builds with cc -Wall -Wextra -Werror and the .pc's flags" "$work/cc.log" \
	cc -std=c11 -Wall -Wextra -Werror -o "$work/embed_c" "$top/examples/embed.c" $flags
# shellcheck disable=SC2086
check "examples/embed.cpp builds with c++ -Wall -Wextra -Werror and the .pc's flags" "$work/cxx.log" \
	c++ -std=c++17 -Wall -Wextra -Werror -o "$work/embed_cpp" "$top/examples/embed.cpp" $flags

# 7-8: each runs against the installed shared library and prints what the
# guest sees at boot, after a clone and after a GUID change
run_example() { # run_example NAME
	local name=$1 out=$work/$1.out
	if [ ! -x "$work/$name" ]; then
		not_ok "$name runs and prints tests/install/$name.expected" "$work/cc.log"
		return
	fi
	if ! readelf -d "$work/$name" | grep -q 'NEEDED.*\[libvmgenid\.so\.0\]'; then
		readelf -d "$work/$name" >"$out"
		not_ok "$name runs and prints tests/install/$name.expected (linked to libvmgenid.so.0)" "$out"
		return
	fi
	LD_LIBRARY_PATH=$libdir "$work/$name" >"$out" 2>&1
	local rc=$?
	if [ $rc -eq 0 ] && diff -u "$here/$name.expected" "$out" >"$work/$name.diff"; then
		ok "$name runs on libvmgenid.so.0 and prints tests/install/$name.expected"
	else
		echo "exit $rc" >>"$work/$name.diff"
		not_ok "$name runs on libvmgenid.so.0 and prints tests/install/$name.expected" "$work/$name.diff"
	fi
}
run_example embed_c
run_example embed_cpp

# 9: the loader resolves libvmgenid.so.0 to the DESTDIR copy, not another one
if LD_LIBRARY_PATH=$libdir ldd "$work/embed_c" 2>&1 | grep -q "libvmgenid.so.0 => $libdir/libvmgenid.so.0"; then
	ok "embed_c loads $libdir/libvmgenid.so.0"
else
	LD_LIBRARY_PATH=$libdir ldd "$work/embed_c" >"$work/ldd" 2>&1
	not_ok "embed_c loads $libdir/libvmgenid.so.0" "$work/ldd"
fi

# 10: the static library serves the same program
cflags=$(pkgconf --cflags libvmgenid)
# shellcheck disable=SC2086
if cc -std=c11 -Wall -Wextra -Werror -o "$work/embed_static" "$top/examples/embed.c" $cflags "$a" \
	>"$work/static.log" 2>&1 && ! readelf -d "$work/embed_static" | grep -q libvmgenid &&
	"$work/embed_static" >"$work/static.out" 2>&1 && diff -u "$here/embed_c.expected" "$work/static.out" >>"$work/static.log"; then
	ok "embed.c linked with libvmgenid.a prints the same"
else
	not_ok "embed.c linked with libvmgenid.a prints the same" "$work/static.log"
fi

# 11: soname
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = libvmgenid.so.0 ]; then ok "SONAME is libvmgenid.so.0"
else echo "SONAME: '$soname'" >"$work/soname"; not_ok "SONAME is libvmgenid.so.0" "$work/soname"; fi

# 12: nm -D: every defined name is vmgenid_* (versioned VMGENID_0) or the
#     version node itself; any other name fails
nm -D --defined-only "$so" >"$work/nm" 2>&1
awk '{ name = $NF; sub(/@.*/, "", name)
	if ($(NF-1) == "A" && name ~ /^VMGENID_[0-9.]+$/) next
	if (name !~ /^vmgenid_[a-z0-9_]+$/) print "not the prefixed API: " $0 }' "$work/nm" >"$work/bad"
total=$(awk '$(NF-1) != "A"' "$work/nm" | wc -l)
if [ -s "$work/nm" ] && [ ! -s "$work/bad" ] && [ "$total" -gt 0 ]; then
	ok "nm -D --defined-only: all $total names are vmgenid_*"
else
	not_ok "nm -D --defined-only: only vmgenid_* names" "$work/bad"
fi

# 13: each of them is declared in an installed header: nothing internal leaks
#     out under the prefix
awk '$(NF-1) != "A" { name = $NF; sub(/@.*/, "", name); print name }' "$work/nm" |
	while read -r name; do
		grep -qw "$name" "$incdir"/*.h || echo "exported but in no public header: $name"
	done >"$work/undeclared"
if [ ! -s "$work/undeclared" ]; then ok "every exported name is declared in include/vmgenid"
else not_ok "every exported name is declared in include/vmgenid" "$work/undeclared"; fi

# 14: every installed header compiles on its own after <syslog.h>, as C and
#     as C++, with the .pc's flags
: >"$work/headers.log"
nheaders=0
for h in "$incdir"/*.h; do
	nheaders=$((nheaders + 1))
	inc="vmgenid/$(basename "$h")"
	printf '#include <syslog.h>\n#include <%s>\nint main(void) { return LOG_ERR == 3 ? 0 : 1; }\n' "$inc" >"$work/h.c"
	cp "$work/h.c" "$work/h.cpp"
	# shellcheck disable=SC2086
	cc -std=c11 -Wall -Wextra -Werror -pedantic $cflags -c "$work/h.c" -o "$work/h.o" \
		>>"$work/headers.log" 2>&1 || echo "C: $inc" >>"$work/headers.log"
	# shellcheck disable=SC2086
	c++ -std=c++11 -Wall -Wextra -Werror $cflags -c "$work/h.cpp" -o "$work/h.o" \
		>>"$work/headers.log" 2>&1 || echo "C++: $inc" >>"$work/headers.log"
done
if [ "$nheaders" -gt 0 ] && [ ! -s "$work/headers.log" ]; then
	ok "each of the $nheaders installed headers compiles after <syslog.h> in C and C++"
else
	not_ok "each installed header compiles after <syslog.h> in C and C++" "$work/headers.log"
fi
[ "$fails" -eq 0 ]
