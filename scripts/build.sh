#!/usr/bin/env bash
# Configure (once) and build a Meson build directory.
# usage: build.sh DIR [meson setup options...]
set -eu
dir=$1
shift
cd "$(dirname "$0")/.."
if [ ! -f "$dir/build.ninja" ]; then
	meson setup --werror "$dir" "$@" >"$dir.setup.log" 2>&1 || {
		cat "$dir.setup.log" >&2
		exit 1
	}
fi
ninja -C "$dir" >"$dir.ninja.log" 2>&1 || {
	cat "$dir.ninja.log" >&2
	exit 1
}
