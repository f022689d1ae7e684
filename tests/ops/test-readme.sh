#!/bin/bash
# test-readme.sh BUILD_DIR SOURCE_DIR: run README.md's shell blocks.
#
# Every ```sh block right after a "<!-- readme-test -->" line runs, in
# order, with bash -euo pipefail, in a directory where build/ is this
# build and the rest is the source tree, with what `meson install` put
# in a temporary DESTDIR first on PATH, LD_LIBRARY_PATH and
# PKG_CONFIG_PATH (as "sudo meson install" would make them available).
# First xsmuxd is started on /tmp/xsmux/socket in front of the embedded
# store, as `.ci/dev run` starts it.  Blocks not marked need root, a Xen
# host or systemd as PID 1.  TAP output, one line per block.
set -u

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d /tmp/xsmux-readme-XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp" /tmp/xs /tmp/xsmux-example
}
trap cleanup EXIT INT TERM
. "$(dirname "$0")/tap.sh"

meson install -C "$build" --no-rebuild --destdir "$tmp/root" --quiet \
	>"$tmp/out" 2>&1
check $? "meson install into a DESTDIR"
opt() {
	meson introspect --buildoptions "$build" | python3 -c \
	    "import json,sys; print([o['value'] for o in json.load(sys.stdin) if o['name']=='$1'][0])"
}
prefix=$(opt prefix)
libdir=$(opt libdir)
case "$libdir" in /*) ;; *) libdir="$prefix/$libdir" ;; esac
export PATH="$tmp/root$prefix/bin:$tmp/root$prefix/sbin:$PATH"
export LD_LIBRARY_PATH="$tmp/root$libdir"
export PKG_CONFIG_PATH="$tmp/root$libdir/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$tmp/root"
unset XENSTORED_PATH XENSTORED_RUNDIR

mkdir "$tmp/work"
for f in "$src"/* "$src"/.ci; do
	[ "$(basename "$f")" = build ] || ln -s "$f" "$tmp/work/"
done
ln -s "$build" "$tmp/work/build"

# What `.ci/dev run` starts.
mkdir -p /tmp/xsmux
mkfifo "$tmp/ready"
"$build/server/xsmuxd" --listen /tmp/xsmux/socket --upstream embedded \
	--ready-fd 3 3>"$tmp/ready" 2>"$tmp/xsmuxd.log" &
pid=$!
read -r ready <"$tmp/ready"
cp "$tmp/xsmuxd.log" "$tmp/out"
[ "$ready" = ready ]
check $? "xsmuxd on /tmp/xsmux/socket, as .ci/dev run starts it"

awk -v dir="$tmp" '
	/^<!-- readme-test -->$/ { want = 1; next }
	want && /^```sh$/ { k++; f = sprintf("%s/block-%02d.sh", dir, k);
		printf "" > f; inblock = 1; want = 0; next }
	inblock && /^```$/ { inblock = 0; close(f); next }
	inblock { print >> f }
	{ want = 0 }
' "$src/README.md"
blocks=$(ls "$tmp"/block-*.sh 2>/dev/null | wc -l)
[ "$blocks" -ge 5 ] >"$tmp/out" 2>&1 || echo "only $blocks blocks" >"$tmp/out"
check $? "README.md has its marked shell blocks ($blocks)"
for b in "$tmp"/block-*.sh; do
	first=$(grep -v '^#' "$b" | head -n 1)
	(cd "$tmp/work" && timeout 60 bash -euo pipefail "$b") >"$tmp/out" 2>&1
	check $? "README block: $first"
done

tap_done
