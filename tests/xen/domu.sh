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
expect "write own home" "" xenstore-write /local/domain/$me/data/x hello
expect "read own home" "hello" xenstore-read /local/domain/$me/data/x
audited "read audited" '"op":"READ"' '"result":"OK"' "\"path\":\"/local/domain/$me/data/x\""
expect "relative read" "hello" xenstore-read data/x
audited "relative read audited under the guest's home" '"op":"READ"' '"result":"OK"' \
    "\"path\":\"/local/domain/$me/data/x\""
expect "dom0's node refused" "xenstore-read: couldn't read path /local/domain/0/name" \
    xenstore-read /local/domain/0/name
audited "refusal audited" '"path":"/local/domain/0/name"' EACCES
stop_xsmuxd
log_tail
echo XSMUX-GUEST-DONE
poweroff -f
