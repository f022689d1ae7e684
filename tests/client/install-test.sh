#!/bin/sh
# SPDX-License-Identifier: MIT
# install-test.sh BUILD_DIR SOURCE_DIR SANITIZE [STORED]
#
# SANITIZE is meson's b_sanitize ("none", "address,undefined", ...): a
# sanitized build's libraries need the example built the same way.
# meson install into a temporary DESTDIR, then check that pkg-config
# finds xsmux there, that the example program builds against the
# installed header and library (shared, and static), that the shared
# library exports only the public API, and that the example runs: it
# reports a connection failure with its own exit code, and with
# xsmux-stored (if built) it writes and reads through the library.
set -eu

build=$1
src=$2
sanitize=${3:-none}
stored=${4:-}
tmp=$(mktemp -d /tmp/xsmux-install-XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

fail() {
	echo "install-test: $*" >&2
	exit 1
}

meson install -C "$build" --no-rebuild --destdir "$tmp/root" --quiet ||
	fail "meson install failed"

pc=$(find "$tmp/root" -name xsmux.pc | head -n 1)
[ -n "$pc" ] || fail "no xsmux.pc installed"
export PKG_CONFIG_PATH="$(dirname "$pc")"
export PKG_CONFIG_SYSROOT_DIR="$tmp/root"
cflags=$(pkg-config --cflags xsmux) || fail "pkg-config --cflags"
libs=$(pkg-config --libs xsmux) || fail "pkg-config --libs"
echo "pkg-config: $cflags $libs"
[ "$(pkg-config --modversion xsmux)" = 0.1.0 ] || fail "version"

# pkgconf prefixes the sysroot to -I and -L, not to variables.
libdir=$(pkg-config --variable=libdir xsmux)
case $libdir in
"$tmp/root"/*) ;;
*) libdir="$tmp/root$libdir" ;;
esac
[ -e "$libdir/libxsmux.so.0" ] || fail "no libxsmux.so.0 in $libdir"
[ -e "$libdir/libxsmux.a" ] || fail "no libxsmux.a in $libdir"

# Only the public API is exported.
extra=$(nm -D --defined-only "$libdir/libxsmux.so.0" |
	awk '$3 !~ /^xsmux_/ && $3 != "XSMUX_0" { print $3 }')
[ -z "$extra" ] || fail "unexpected exported symbols: $extra"
# The static library's globals are prefixed too: the library's own, or
# the protocol library's inside it.
extra=$(nm -g --defined-only "$libdir/libxsmux.a" |
	awk 'NF == 3 && $3 !~ /^(xsmux_|xsp_)/ { print $3 }')
[ -z "$extra" ] || fail "unprefixed globals in libxsmux.a: $extra"

cc=${CC:-cc}
[ "$sanitize" = none ] || cc="$cc -fsanitize=$sanitize"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Werror -o "$tmp/example" \
	"$src/client-shim/examples/xsmux-example.c" $cflags $libs ||
	fail "the example does not build against the installed library"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Werror -o "$tmp/example-static" \
	"$src/client-shim/examples/xsmux-example.c" $cflags \
	"$libdir/libxsmux.a" $(pkg-config --static --libs-only-other xsmux) \
	-lpthread || fail "the example does not link statically"

rc=0
LD_LIBRARY_PATH=$libdir "$tmp/example" "$tmp/no-such-socket" || rc=$?
[ "$rc" -eq 3 ] || fail "example: exit $rc for a missing socket, want 3"

if [ -n "$stored" ] && [ -x "$stored" ]; then
	mkfifo "$tmp/ready"
	"$stored" --listen "$tmp/socket" --ready-fd 3 3>"$tmp/ready" &
	pid=$!
	read -r line <"$tmp/ready" || fail "xsmux-stored did not start"
	[ "$line" = ready ] || fail "xsmux-stored said $line"
	out=$(LD_LIBRARY_PATH=$libdir "$tmp/example" "$tmp/socket") ||
		fail "example against xsmux-stored failed: $out"
	echo "$out" | grep -qx 'greeting = hello' || fail "example said: $out"
	out=$("$tmp/example-static" "$tmp/socket") ||
		fail "static example failed: $out"
	echo "$out" | grep -qx 'child: greeting' || fail "static said: $out"
fi
echo "install-test: ok"
