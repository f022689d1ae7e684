# tap.sh: TAP lines for the shell tests; source it after setting $tmp.
# check STATUS NAME: "ok N - NAME", or "not ok" with $tmp/out as comments
# (then emptied).  tap_done: the plan, and the exit status.
n=0
failed=0
check() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
		[ -s "$tmp/out" ] && sed 's/^/# /' "$tmp/out"
	fi
	: >"$tmp/out"
}
tap_done() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
