#!/bin/sh
# SPDX-License-Identifier: MIT
# fetch-xen.sh [DEST]: extract Debian's Xen 4.17 tools (the real C
# xenstored, test-xenstore, xenstore-control) into DEST, default
# /opt/xsmux/xen, for use as a test oracle.  The package is unpacked,
# never installed: installing it would want a hypervisor.
#
# Idempotent: an existing, complete extraction is left alone.
# Needs beforehand (apt-get update; apt-get install): libxenmisc4.17
# libxenstore4 libxenevtchn1 libxengnttab1 libxencall1
# libxenforeignmemory1 libxendevicemodel1 libxentoollog1 libxentoolcore1
# (and for the tests: xenstore-utils python3-pyxs).
set -eu

PKG=xen-utils-4.17
DEST=${1:-/opt/xsmux/xen}
BIN=usr/lib/xen-4.17/bin
TOOLS="xenstored test-xenstore xenstore-control"

die() {
	echo "fetch-xen: $*" >&2
	exit 1
}

# Each tool present and every shared library it needs found.
check() {
	for t in $TOOLS; do
		[ -x "$DEST/$BIN/$t" ] || return 1
		missing=$(ldd "$DEST/$BIN/$t" 2>&1 | grep 'not found' || true)
		if [ -n "$missing" ]; then
			echo "fetch-xen: $t: missing libraries:" >&2
			echo "$missing" >&2
			return 2
		fi
	done
	return 0
}

rc=0
check || rc=$?
if [ "$rc" -eq 0 ]; then
	echo "fetch-xen: $DEST already holds $(cat "$DEST/VERSION" 2>/dev/null ||
	    echo "$PKG"); nothing to do"
	exit 0
fi
[ "$rc" -eq 2 ] && die "install the Xen runtime libraries first:" \
	"apt-get install libxenmisc4.17 libxenstore4 libxenevtchn1" \
	"libxengnttab1 libxencall1 libxenforeignmemory1 libxendevicemodel1" \
	"libxentoollog1 libxentoolcore1"

command -v apt-get >/dev/null || die "apt-get not found (Debian only)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"	# apt's download user must be able to write here

echo "fetch-xen: downloading $PKG"
(cd "$tmp" && apt-get download -q "$PKG" >/dev/null 2>"$tmp/err") || {
	cat "$tmp/err" >&2
	die "apt-get download $PKG failed (run apt-get update first?)"
}
deb=$(ls "$tmp"/*.deb) || die "no .deb downloaded"
ver=$(dpkg-deb -f "$deb" Version)

echo "fetch-xen: extracting $PKG $ver into $DEST"
rm -rf "$DEST.new"
mkdir -p "$DEST.new"
dpkg-deb -x "$deb" "$DEST.new" || die "dpkg-deb -x failed"
echo "$PKG $ver" >"$DEST.new/VERSION"
rm -rf "$DEST"
mv "$DEST.new" "$DEST"

rc=0
check || rc=$?
[ "$rc" -eq 0 ] || die "extracted tools are incomplete or miss libraries" \
	"(apt-get install libxenmisc4.17 libxenstore4 libxenevtchn1" \
	"libxengnttab1 libxencall1 libxenforeignmemory1 libxendevicemodel1" \
	"libxentoollog1 libxentoolcore1)"
for t in $TOOLS; do
	echo "fetch-xen: $DEST/$BIN/$t"
done
