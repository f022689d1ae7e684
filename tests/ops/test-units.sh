#!/bin/sh
# test-units.sh BUILD_DIR: the systemd units as meson installs them.
#
# meson install into a temporary DESTDIR; every ExecStart= names a binary
# that was installed; `systemd-analyze verify` passes on every unit (with
# the paths moved under DESTDIR and MANPATH there, so Documentation= is
# checked against the installed man pages); `systemd-analyze security
# --offline=true` rates xsmuxd.service at most XSMUX_MAX_EXPOSURE (2.5);
# systemd-sysusers creates the xsmux group from the installed sysusers.d
# file.  TAP output.
set -u

build=$1
max=${XSMUX_MAX_EXPOSURE:-2.5}
tmp=$(mktemp -d /tmp/xsmux-units-XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/tap.sh"

meson install -C "$build" --no-rebuild --destdir "$tmp/root" --quiet \
	>"$tmp/out" 2>&1
check $? "meson install"
prefix=$(meson introspect --buildoptions "$build" |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
unitdir="$tmp/root$prefix/lib/systemd/system"

for u in xsmuxd.service xsmuxd.socket xsmux-stored.service; do
	test -f "$unitdir/$u"
	check $? "$u installed in $prefix/lib/systemd/system"
done

for u in xsmuxd.service xsmux-stored.service; do
	exe=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unitdir/$u")
	test -x "$tmp/root$exe" 2>"$tmp/out" || echo "$exe not installed" >"$tmp/out"
	check $? "$u runs $exe, which is installed"
done

mkdir "$tmp/units"
for f in "$unitdir"/*; do
	sed "s|$prefix/|$tmp/root$prefix/|g" "$f" >"$tmp/units/$(basename "$f")"
done
MANPATH="$tmp/root$prefix/share/man" systemd-analyze verify \
	"$tmp/units"/* >"$tmp/out" 2>&1
check $? "systemd-analyze verify: every unit"

systemd-analyze security --offline=true --root="$tmp/root" \
	xsmuxd.service >"$tmp/sec" 2>&1
score=$(sed -n 's/.*Overall exposure level for xsmuxd.service: \([0-9.]*\).*/\1/p' "$tmp/sec")
echo "# xsmuxd.service exposure: ${score:-none}"
cp "$tmp/sec" "$tmp/out"
[ -n "$score" ] && python3 -c "import sys; sys.exit(not float('$score') <= float('$max'))"
check $? "systemd-analyze security: xsmuxd.service at most $max"

systemd-analyze security --offline=true --root="$tmp/root" \
	xsmux-stored.service >"$tmp/sec" 2>&1
score=$(sed -n 's/.*Overall exposure level for xsmux-stored.service: \([0-9.]*\).*/\1/p' "$tmp/sec")
echo "# xsmux-stored.service exposure: ${score:-none}"
cp "$tmp/sec" "$tmp/out"
[ -n "$score" ] && python3 -c "import sys; sys.exit(not float('$score') <= float('$max'))"
check $? "systemd-analyze security: xsmux-stored.service at most $max"

mkdir -p "$tmp/sysroot/etc" "$tmp/sysroot/usr/lib/sysusers.d"
cp "$tmp/root$prefix/lib/sysusers.d/xsmux.conf" "$tmp/sysroot/usr/lib/sysusers.d/" 2>"$tmp/out"
systemd-sysusers --root="$tmp/sysroot" >>"$tmp/out" 2>&1 &&
	grep -q '^xsmux:' "$tmp/sysroot/etc/group" 2>>"$tmp/out"
check $? "systemd-sysusers creates the xsmux group"

tap_done
