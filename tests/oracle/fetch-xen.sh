#!/bin/sh
# SPDX-License-Identifier: MIT
# fetch-xen.sh [DEST]: extract Debian's Xen 4.17 tools (the real C
# xenstored, oxenstored, test-xenstore, xenstore-control) and
# oxenstored's configuration file (from xen-utils-common) into DEST,
# default /opt/xsmux/xen, for use as test oracles.  The packages are
# unpacked, never installed: installing them would want a hypervisor.
#
# Idempotent: an existing, complete extraction is left alone.
# Needs beforehand (apt-get update; apt-get install): libxenmisc4.17
# libxenstore4 libxenevtchn1 libxengnttab1 libxencall1
# libxenforeignmemory1 libxendevicemodel1 libxentoollog1 libxentoolcore1
# (and for the tests: xenstore-utils python3-pyxs).
set -eu

PKG=xen-utils-4.17
PKGS="$PKG xen-utils-common"
DEST=${1:-/opt/xsmux/xen}
BIN=usr/lib/xen-4.17/bin
TOOLS="xenstored oxenstored test-xenstore xenstore-control"
FILES="etc/xen/oxenstored.conf"

die() {
	echo "fetch-xen: $*" >&2
	exit 1
}

# Each tool and file present and every shared library a tool needs found.
check() {
	for f in $FILES; do
		[ -f "$DEST/$f" ] || return 1
	done
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

echo "fetch-xen: downloading $PKGS"
(cd "$tmp" && apt-get download -q $PKGS >/dev/null 2>"$tmp/err") || {
	cat "$tmp/err" >&2
	die "apt-get download $PKGS failed (run apt-get update first?)"
}
deb=$(ls "$tmp/${PKG}_"*.deb) || die "no $PKG .deb downloaded"
ver=$(dpkg-deb -f "$deb" Version)

echo "fetch-xen: extracting $PKGS ($ver) into $DEST"
rm -rf "$DEST.new"
mkdir -p "$DEST.new"
for d in "$tmp"/*.deb; do
	dpkg-deb -x "$d" "$DEST.new" || die "dpkg-deb -x $d failed"
done
echo "$PKG $ver" >"$DEST.new/VERSION"
# Two renames, so that tests running meanwhile see DEST gone only briefly.
rm -rf "$DEST.old"
[ ! -e "$DEST" ] || mv "$DEST" "$DEST.old"
mv "$DEST.new" "$DEST"
rm -rf "$DEST.old"

rc=0
check || rc=$?
[ "$rc" -eq 0 ] || die "extracted tools are incomplete or miss libraries" \
	"(apt-get install libxenmisc4.17 libxenstore4 libxenevtchn1" \
	"libxengnttab1 libxencall1 libxenforeignmemory1 libxendevicemodel1" \
	"libxentoollog1 libxentoolcore1)"
for t in $TOOLS; do
	echo "fetch-xen: $DEST/$BIN/$t"
done
for f in $FILES; do
	echo "fetch-xen: $DEST/$f"
done
