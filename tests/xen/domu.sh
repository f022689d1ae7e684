#!/bin/sh
# SPDX-License-Identifier: MIT
# domu.sh: /init of the PV guest.  xsmuxd in front of the kernel's
# XenBus device, the checks, then power off.
WHERE=domU
. /lib.sh
basics
S=/run/xsmux/socket
AUDIT=/tmp/audit.jsonl
start_xsmuxd $S --upstream xenbus:/dev/xen/xenbus --audit-log $AUDIT --audit all
export XENSTORED_PATH=$S
me=$(xsmux --xenbus /dev/xen/xenbus read domid)
expect "domid learned" "1" grep -c "domid $me from the guest" /tmp/xsmuxd.log
echo "TIME guest-checks $(cut -d' ' -f1 /proc/uptime)"
expect "write own home" "" xenstore-write /local/domain/$me/data/x hello
expect "read own home" "hello" xenstore-read /local/domain/$me/data/x
audited "read audited" '"op":"READ"' '"result":"OK"' "\"path\":\"/local/domain/$me/data/x\""
xenstore-write /local/domain/$me/data/rel relative
expect "relative read" "relative" xenstore-read data/rel
audited "relative read audited under the guest's home" '"op":"READ"' '"result":"OK"' \
    "\"path\":\"/local/domain/$me/data/rel\""
expect "dom0's node refused" "xenstore-read: couldn't read path /local/domain/0/name" \
    xenstore-read /local/domain/0/name
audited "refusal audited" '"path":"/local/domain/0/name"' EACCES
xsmux-xentest $S /local/domain/$me domU
audited "raw client audited" '"op":"READ"' "\"path\":\"/local/domain/$me/data/xt/pipe\""
audited "its transactions audited" '"op":"TRANSACTION_START"'
audited "over-quota WATCH refused, audited" '"op":"WATCH"' '"result":"E2BIG"' \
    "\"path\":\"/local/domain/$me/data/q/"
expect "libxsmux on the device" "hello" xsmux --xenbus /dev/xen/xenbus read data/x
# The initial event says the watch is set; the write then fires the
# second.  Bounded: a lost event ends the watcher after 60 s.
timeout 60 xsmux --socket $S watch -n 2 /local/domain/$me/data/w >/tmp/w.out 2>&1 &
wpid=$!
n=0
until [ -s /tmp/w.out ] || [ $n -ge 600 ]; do usleep 50000; n=$((n + 1)); done
xenstore-write /local/domain/$me/data/w later
wait $wpid
expect "watch: initial and later event" "2" grep -c "/local/domain/$me/data/w" /tmp/w.out
audited "watch audited" '"op":"WATCH"' "\"path\":\"/local/domain/$me/data/w\""
unset XENSTORED_PATH
xenstore-write data/pre via-shim
expect "preload shim redirects the device" "via-shim" \
    env LD_PRELOAD=/opt/xsmux/lib/libxsmux-preload.so XSMUX_SOCKET=$S \
    xenstore-read /local/domain/$me/data/pre
audited "preload read audited" '"op":"READ"' '"result":"OK"' \
    "\"path\":\"/local/domain/$me/data/pre\""
stop_xsmuxd
: >$AUDIT
start_xsmuxd $S --upstream xenbus:/proc/xen/xenbus --audit-log $AUDIT --audit all --domid $me
export XENSTORED_PATH=$S
expect "/proc/xen/xenbus: read" "hello" xenstore-read data/x
audited "/proc/xen/xenbus: read audited" '"op":"READ"' '"result":"OK"' \
    "\"path\":\"/local/domain/$me/data/x\""
expect "--domid given is logged" "1" grep -c -- "--domid $me: relative paths" /tmp/xsmuxd.log
stop_xsmuxd
log_tail
echo XSMUX-GUEST-DONE
poweroff -f
