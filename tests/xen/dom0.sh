#!/bin/sh
# SPDX-License-Identifier: MIT
# dom0.sh: /init of the dom0 image.  Starts Xen's daemons, runs the dom0
# checks with xsmuxd in front of xenstored and of oxenstored, creates the
# PV guest (which runs domu.sh) and relays its results, then powers off.
WHERE=dom0
. /lib.sh
basics
mkdir -p /share
mount -t 9p -o trans=virtio,version=9p2000.L share /share || echo "no share"
X=/usr/lib/xen-4.17/bin
S=/run/xsmux/socket
AUDIT=/tmp/audit.jsonl

start_xenstored() {
	$X/xenstored --pid-file /run/xenstored.pid "$@"
	$X/xen-init-dom0 >/dev/null
}

# The checks that run in front of either daemon ($1 names it).
common_checks() {
	d=$1
	export XENSTORED_PATH=$S
	expect "$d write through the proxy" "" xenstore-write /local/domain/0/xt/a "v-$d"
	expect "$d read through the proxy" "v-$d" xenstore-read /local/domain/0/xt/a
	audited "$d write audited" '"op":"WRITE"' '"result":"OK"' '"path":"/local/domain/0/xt/a"'
	audited "$d read audited" '"op":"READ"' '"result":"OK"' '"path":"/local/domain/0/xt/a"'
	expect "$d relative read (dom0's home)" "v-$d" xenstore-read xt/a
	expect "$d ls" "a = \"v-$d\"" xenstore-ls /local/domain/0/xt
	expect "$d xsmux CLI read" "v-$d" xsmux --socket $S read /local/domain/0/xt/a
	expect "$d name of dom0" "Domain-0" xenstore-read /local/domain/0/name
	unset XENSTORED_PATH
	expect "$d preload shim, default path" "v-$d" \
	    env LD_PRELOAD=/opt/xsmux/lib/libxsmux-preload.so XSMUX_SOCKET=$S \
	    xenstore-read /local/domain/0/xt/a
	audited "$d preload read audited" '"op":"READ"' '"result":"OK"' '"path":"/local/domain/0/xt/a"'
}

start_xenstored
[ -S /run/xenstored/socket ] && pass "xenstored up" || fail "xenstored: no socket"
$X/xenconsoled --log=guest --log-dir=/tmp/console
mkdir -p /tmp/console
start_xsmuxd $S --upstream unix:/run/xenstored/socket --audit-log $AUDIT --audit all
common_checks xenstored

# The guest: xl create, its results on its console.
cat >/tmp/guest.cfg <<CFG
name = "guest"
kernel = "/share/vmlinux"
ramdisk = "/share/domu.cpio"
extra = "console=hvc0 rdinit=/init quiet panic=-1"
memory = 256
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
CFG
if $X/xl create /tmp/guest.cfg >/tmp/xl.log 2>&1; then
	pass "xl create"
	n=0
	while $X/xl list guest >/dev/null 2>&1 && [ $n -lt 600 ]; do
		sleep 1
		n=$((n + 1))
	done
	[ $n -lt 600 ] && pass "guest powered off" || fail "guest still running after 600 s"
	grep -aE '^(PASS|FAIL) ' /tmp/console/guest-guest.log | tr -d '\r'
else
	fail "xl create: $(cat /tmp/xl.log)"
fi
stop_xsmuxd
log_tail
echo XSMUX-XEN-DONE
poweroff -f
