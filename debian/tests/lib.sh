# Shared by the tests in this directory (sourced, not run).
#
# start NAME CMD...   run CMD with --ready-fd 3 in the background, its
#                     output in $tmp/NAME.log, and wait (bounded, by the
#                     daemon's own "ready" line) until it listens
# fail MESSAGE        print MESSAGE and every daemon log, exit 1
# Daemons started are stopped when the test exits, however it exits.

tmp=${AUTOPKGTEST_TMP:-$(mktemp -d)}
pids=

stop_all() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -n "${AUTOPKGTEST_TMP:-}" ] || rm -rf "$tmp"
}
trap stop_all EXIT

fail() {
	echo "FAIL: $*"
	for l in "$tmp"/*.log; do
		[ -f "$l" ] && sed "s|^|$(basename "$l" .log): |" "$l"
	done
	exit 1
}

start() {
	local name=$1 line=
	shift
	rm -f "$tmp/$name.ready"
	mkfifo "$tmp/$name.ready"
	"$@" --ready-fd 3 3>"$tmp/$name.ready" >"$tmp/$name.log" 2>&1 &
	pids="$pids $!"
	read -r -t 10 line <"$tmp/$name.ready" || true
	[ "$line" = ready ] || fail "$name did not start: $*"
	echo "started $name: $*"
}
