#!/bin/sh
# SPDX-License-Identifier: MIT
# dom0.sh: /init of the dom0 image.  Starts Xen's daemons, runs the dom0
# checks with xsmuxd in front of xenstored and of oxenstored, creates the
# PV guest (which runs domu.sh) and relays its results, then powers off.
WHERE=dom0
. /lib.sh
basics
mkdir -p /share
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 share /share ||
	echo "no share"
stamp() { echo "TIME $1 $(cut -d' ' -f1 /proc/uptime)"; }
stamp booted
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
	xsmux-xentest $S /local/domain/0 "dom0 $d"
	audited "$d raw client audited" '"op":"READ"' '"path":"/local/domain/0/data/xt/pipe"'
	audited "$d its transactions audited" '"op":"TRANSACTION_START"'
	unset XENSTORED_PATH
	XENSTORED_PATH=$S xenstore-write /local/domain/0/xt/pre "p-$d"
	expect "$d preload shim, default path" "p-$d" \
	    env LD_PRELOAD=/opt/xsmux/lib/libxsmux-preload.so XSMUX_SOCKET=$S \
	    xenstore-read /local/domain/0/xt/pre
	audited "$d preload read audited" '"op":"READ"' '"result":"OK"' \
	    '"path":"/local/domain/0/xt/pre"'
	# pyxs: read, write, a transaction, an error, a watch, through the
	# proxy as on the daemon's own socket
	python3 /pyxs-check.py /run/xenstored/socket /local/domain/0/xt/pyd >/tmp/py.direct 2>&1
	python3 /pyxs-check.py $S /local/domain/0/xt/pyp >/tmp/py.proxied 2>&1
	if cmp -s /tmp/py.direct /tmp/py.proxied && [ "$(grep -c . /tmp/py.proxied)" -eq 6 ]; then
		pass "$d pyxs as directly: $(tr '\n' ' ' </tmp/py.proxied)"
	else
		fail "$d pyxs: '$(tr '\n' ' ' </tmp/py.proxied)', directly '$(tr '\n' ' ' </tmp/py.direct)'"
	fi
	audited "$d pyxs audited" '"comm":"python3"' '"op":"WATCH"' '"result":"OK"' \
	    '"path":"/local/domain/0/xt/pyp/y"'
}

# libxsmux's domain calls through the proxy and directly ($2: the live
# guest's domid, or 0), in front of daemon $1.
domain_checks() {
	xsmux-xentest $S /local/domain/0 "dom0 $1" domains /run/xenstored/socket "$2"
	for op in IS_DOMAIN_INTRODUCED INTRODUCE RELEASE; do
		audited "$1 libxsmux $op audited" "\"op\":\"$op\"" '"uid":0'
	done
}

# What daemon $1 holds upstream: "W T", how many of its watches are on
# node $2 and how many transactions it has open.  xenstored: its memory
# report (the talloc tree of its connections, their watches and
# transactions, appended to the file); oxenstored: its CONTROL "watches"
# listing, and "-" for transactions (it lists none).
held() {
	if [ "$1" = xenstored ]; then
		rm -f /tmp/mem.txt
		$X/xenstore-control memreport /tmp/mem.txt >/dev/null
		echo "$(grep -c "^ *$2 " /tmp/mem.txt) $(grep -c "struct transaction " /tmp/mem.txt)"
	else
		echo "$($X/xenstore-control watches | grep -c " $2 ") -"
	fi
}

# xsmuxd restarted under live clients (in front of daemon $1, started
# with $XSARGS): a raw-protocol one (xsmux-xentest, which reconnects) and
# a libxsmux watcher (which is told the connection is lost: libxsmux does
# not reconnect).  The daemon must keep nothing of the old proxy's
# connection.
restart_checks() {
	d=$1
	rs=/local/domain/0/data/xt/rs
	rm -f /tmp/xt.ready
	mkfifo /tmp/xt.ready
	xsmux-xentest $S /local/domain/0 "dom0 $d" restart 3>/tmp/xt.ready &
	xtpid=$!
	read -r _r </tmp/xt.ready
	xsmux --socket $S watch $rs >/tmp/rsw.out 2>&1 &
	rwpid=$!
	n=0
	until [ -s /tmp/rsw.out ] || [ $n -ge 600 ]; do usleep 50000; n=$((n + 1)); done
	set -- $(held $d $rs)
	[ "$1" -ge 1 ] && { [ "$2" = - ] || [ "$2" -ge 1 ]; } &&
		pass "$d restart: upstream holds the proxy's watch and transaction ($1, $2)" ||
		fail "$d restart: before, upstream holds $1 watches of $rs, $2 transactions"
	stop_xsmuxd
	set -- $(held $d $rs)
	[ "$1" -eq 0 ] && { [ "$2" = - ] || [ "$2" -eq 0 ]; } &&
		pass "$d restart: nothing of the old proxy left upstream ($1, $2)" ||
		fail "$d restart: after, upstream holds $1 watches of $rs, $2 transactions"
	wait $rwpid
	rc=$?
	grep -q "connection to XenStore lost" /tmp/rsw.out && [ $rc -ne 0 ] &&
		pass "$d restart: libxsmux watcher told the connection is lost (status $rc)" ||
		fail "$d restart: libxsmux watcher: status $rc, $(cat /tmp/rsw.out)"
	: >$AUDIT
	start_xsmuxd $S $XSARGS
	wait $xtpid
	audited "$d restart: the reconnected client audited" '"op":"WATCH"' \
	    "\"path\":\"$rs\"" '"result":"OK"'
	# a round trip behind the UNWATCH its leaving made
	XENSTORED_PATH=$S xenstore-read $rs >/dev/null
	set -- $(held $d $rs)
	[ "$1" -eq 0 ] && pass "$d restart: its watch gone upstream after it left" ||
		fail "$d restart: $1 watches of $rs left upstream after the client"
}

start_xenstored
[ -S /run/xenstored/socket ] && pass "xenstored up" || fail "xenstored: no socket"
$X/xenconsoled --log=guest --log-dir=/tmp/console
mkdir -p /tmp/console
cat >/tmp/policy.conf <<POL
[rule:root]
uid = 0
allow = all, control

[rule:agent]
uid = xsagent
allow = read, write, watch, transaction
read = /local/domain/1
write = /local/domain/1/data
POL
XSARGS="--upstream unix:/run/xenstored/socket --audit-log $AUDIT --audit all --policy /tmp/policy.conf"
start_xsmuxd $S $XSARGS
common_checks xenstored
stamp dom0-checks

# The guest: xl create, its results on its console.
cat >/tmp/guest.cfg <<CFG
name = "guest"
kernel = "/boot/vmlinux"
ramdisk = "/boot/domu.cpio"
extra = "console=hvc0 rdinit=/init quiet panic=-1"
memory = 128
vcpus = 1
on_poweroff = "destroy"
on_crash = "destroy"
CFG
XENSTORED_PATH=$S xenstore-watch @introduceDomain @releaseDomain >/tmp/dom.events 2>&1 &
wpid=$!
if $X/xl create /tmp/guest.cfg >/tmp/xl.log 2>&1; then
	pass "xl create"
	stamp created
	XENSTORED_PATH=$S expect "guest's name through the proxy" guest \
	    xenstore-read /local/domain/1/name
	expect "restricted uid: guest's subtree" guest \
	    su -s /bin/sh xsagent -c "XENSTORED_PATH=$S xenstore-read /local/domain/1/name"
	expect "restricted uid: dom0's node refused" \
	    "xenstore-read: couldn't read path /local/domain/0/name" \
	    su -s /bin/sh xsagent -c "XENSTORED_PATH=$S xenstore-read /local/domain/0/name"
	audited "restricted uid: refusal audited" '"uid":1000' \
	    '"path":"/local/domain/0/name"' EACCES
	domain_checks xenstored "$($X/xl domid guest)"
	n=0
	while $X/xl list guest >/dev/null 2>&1 && [ $n -lt 300 ]; do
		sleep 1
		n=$((n + 1))
	done
	if [ $n -lt 300 ]; then
		pass "guest powered off"
	else
		fail "guest still running after 300 s"
		$X/xl destroy guest
		tail -n 20 /tmp/console/guest-guest.log | sed 's/^/LOG guest: /'
	fi
	stamp guest-gone
	grep -aE '^(PASS|FAIL|TIME|LOG) ' /tmp/console/guest-guest.log | tr -d '\r'
	XENSTORED_PATH=$S expect "guest's home removed" \
	    "xenstore-read: couldn't read path /local/domain/1/name" \
	    xenstore-read /local/domain/1/name
else
	fail "xl create: $(cat /tmp/xl.log)"
fi
kill $wpid
ev=$(tr '\n' ' ' </tmp/dom.events)
case "$ev" in
*@introduceDomain*@introduceDomain*@releaseDomain*)
	pass "watch of @introduceDomain/@releaseDomain through the proxy: $ev" ;;
*)	fail "domain events through the proxy: '$ev'" ;;
esac
audited "domain watch audited" '"op":"WATCH"' '"path":"@releaseDomain"'
restart_checks xenstored
stop_xsmuxd

# oxenstored, with no domain left but dom0.
kill "$(cat /run/xenstored.pid)"
n=0
while [ -S /run/xenstored/socket ] && [ $n -lt 50 ]; do usleep 100000; n=$((n + 1)); done
rm -f /run/xenstored/socket /run/xenstored/socket_ro
$X/oxenstored --pid-file /run/xenstored.pid
$X/xen-init-dom0 >/dev/null
[ -S /run/xenstored/socket ] && pass "oxenstored up" || fail "oxenstored: no socket"
: >$AUDIT
XSARGS="--audit-log $AUDIT --audit all"
start_xsmuxd $S $XSARGS
common_checks oxenstored
domain_checks oxenstored 0
restart_checks oxenstored
grep -q "upstream unix:/var/run/xenstored/socket\|upstream unix:/run/xenstored/socket" /tmp/xsmuxd.log &&
	pass "default upstream resolution" || fail "default upstream: $(grep upstream /tmp/xsmuxd.log | tail -n 2)"
stop_xsmuxd
stamp done
log_tail
cp /tmp/*.log /tmp/*.jsonl /tmp/console/* /share/ 2>/dev/null
echo XSMUX-XEN-DONE
poweroff -f
