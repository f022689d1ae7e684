# SPDX-License-Identifier: MIT
# lib.sh: shared by dom0.sh and domu.sh inside the VM (busybox sh).
PATH=/opt/xsmux/bin:/bin:/sbin:/usr/bin:/usr/sbin
LD_LIBRARY_PATH=/opt/xsmux/lib
export PATH LD_LIBRARY_PATH

pass() { echo "PASS $WHERE $*" | tee -a /tmp/results; }
fail() { echo "FAIL $WHERE $*" | tee -a /tmp/results; }

# expect NAME WANT CMD...: CMD's output (stdout and stderr) is WANT.
expect() {
	_n=$1 _w=$2
	shift 2
	_g=$("$@" 2>&1)
	if [ "$_g" = "$_w" ]; then pass "$_n"; else fail "$_n: got '$_g', want '$_w'"; fi
}

# audited NAME PATTERN...: every pattern is on one line of the audit log
# (evidence that the request went through the proxy).
audited() {
	_n=$1
	shift
	_l=$(cat "$AUDIT")
	for _p in "$@"; do
		_l=$(echo "$_l" | grep -F -- "$_p")
	done
	if [ -n "$_l" ]; then pass "$_n"; else fail "$_n: no audit record with $*"; fi
}

# ok NAME CMD...: CMD succeeds.
ok() {
	_n=$1
	shift
	if _g=$("$@" 2>&1); then pass "$_n"; else fail "$_n: $_g"; fi
}

basics() {
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev
	mkdir -p /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmp /tmp
	mount -t tmpfs run /run
	mkdir -p /run/xenstored /run/xen /run/xsmux
	while read -r m; do
		insmod "/lib/modules/$m" || echo "insmod $m failed"
	done </lib/modules/order
	mount -t xenfs xenfs /proc/xen
}

# start_xsmuxd SOCKET ARGS...: xsmuxd in the background, once listening.
start_xsmuxd() {
	_s=$1
	shift
	rm -f /tmp/ready
	mkfifo /tmp/ready
	xsmuxd --listen "$_s" --mode 0666 --ready-fd 3 "$@" \
	    3>/tmp/ready 2>>/tmp/xsmuxd.log &
	XSMUXD_PID=$!
	read -r _r </tmp/ready
	[ "$_r" = ready ] || fail "xsmuxd did not start: $(tail -n 5 /tmp/xsmuxd.log)"
}

stop_xsmuxd() {
	kill "$XSMUXD_PID"
	wait "$XSMUXD_PID"
}

# On a failure, the end of xsmuxd's log on the console.
log_tail() {
	grep -q "^FAIL" /tmp/results 2>/dev/null || return 0
	tail -n 30 /tmp/xsmuxd.log | sed 's/^/LOG /'
}
