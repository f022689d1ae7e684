#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The control socket and `xsmux clients|stats|reload`, with real clients.

xsmuxd (embedded upstream, a policy) with --control; connected: a real
xenstore-watch (one watch) and a raw connection holding a transaction.
`xsmux clients --json` lists both with their state, the plain form shows
the same in a table, `xsmux stats` counts what was done, `xsmux reload`
makes a changed policy take effect, and a non-root user is refused.
"""
import json
import os
import subprocess

from opsutil import (BUILD, Tap, Workdir, XSMUXD, XS_TRANSACTION_START,
                     connect, recv_msg, request, run, start_ready, stop,
                     xs_write)

XSMUX = os.path.join(BUILD, "client-shim", "cli", "xsmux")
t = Tap()


def xsmux(ctl, *args, **kw):
    return run([XSMUX, "--control", ctl] + list(args), **kw)


with Workdir() as wd:
    sock, ctl, policy = wd.join("sock"), wd.join("control"), wd.join("pol")
    open(policy, "w").write("[rule:admin]\nuid = 0\nallow = all\n")
    p = start_ready(wd, [XSMUXD, "--listen", sock, "--upstream", "embedded",
                         "--policy", policy, "--control", ctl])
    t.check(os.stat(ctl).st_mode & 0o777 == 0o600, "control socket is 0600")
    env = dict(os.environ, XENSTORED_PATH=sock)
    w = wd.spawn(["xenstore-watch", "/w"], env=env, stdout=subprocess.PIPE)
    first = w.stdout.readline()         # the initial event: watch is set
    t.check(first.strip() == b"/w", "xenstore-watch is watching", first)
    c = connect(sock)
    typ, tx = request(c, XS_TRANSACTION_START, b"\0", req_id=5)

    rc, out = xsmux(ctl, "--json", "clients")
    doc = json.loads(out) if rc == 0 else {"clients": []}
    cl = doc["clients"]
    t.check(rc == 0 and len(cl) == 2, "clients --json: 2 clients", out)
    watcher = next((x for x in cl if x["pid"] == w.pid), None)
    raw = next((x for x in cl if x["pid"] == os.getpid()), None)
    t.check(watcher is not None and watcher["watches"] == 1 and
            watcher["exe"].endswith("xenstore-watch") and
            watcher["listener"] == sock and watcher["rule"] == "admin" and
            watcher["uid"] == os.getuid(),
            "the watcher: pid, exe, listener, rule, 1 watch", watcher)
    t.check(raw is not None and raw["transactions"] == 1 and
            raw["watches"] == 0 and raw["inflight"] == 0 and
            raw["queued_bytes"] == 0 and raw["connected_since"] > 0,
            "the raw client: 1 transaction, nothing in flight", raw)

    rc, out = xsmux(ctl, "clients")
    lines = out.splitlines()
    t.check(rc == 0 and lines[0].split()[:5] ==
            ["ID", "UID", "GID", "PID", "EXE"] and len(lines) == 3 and
            any("xenstore-watch" in l and str(w.pid) in l for l in lines),
            "clients: a table with both", out)

    xs_write(c, "/w", "1")
    recv = w.stdout.readline()          # the watcher saw the write
    rc, out = xsmux(ctl, "stats")
    vals = dict(l.split(" ", 1) for l in out.splitlines())
    t.check(rc == 0 and vals.get("clients") == "2" and
            vals.get("requests.WRITE.OK") == "1" and
            vals.get("watches") == "1" and vals.get("transactions") == "1"
            and int(vals.get("events", "0")) >= 2,
            "stats: clients, requests, watches, transactions, events", out)
    rc, out = xsmux(ctl, "--json", "stats")
    t.check(rc == 0 and json.loads(out)["upstream_up"] is True,
            "stats --json parses", out)

    open(policy, "w").write("[rule:reader]\nuid = 0\nallow = read\n")
    rc, out = xsmux(ctl, "reload")
    t.check(rc == 0 and out.strip() == "reloaded", "reload", out)
    # Neither client has sent anything since: each is listed with the
    # new policy's rule, not a name from the one the reload freed.
    rc, out = xsmux(ctl, "--json", "clients")
    rules = [x["rule"] for x in json.loads(out)["clients"]] if rc == 0 \
        else []
    t.check(rules == ["reader", "reader"],
            "clients after a reload: the new policy's rule", out)
    typ, body = xs_write(c, "/w2", "x")
    t.check(body == b"EACCES\0", "the reloaded policy applies", body)

    rc, out = run(["setpriv", "--reuid", "65534", "--regid", "65534",
                   "--clear-groups", XSMUX, "--control", ctl, "stats"])
    t.check(rc == 3 and "Permission denied" in out,
            "a non-root user cannot use the control socket", out)
    rc, out = xsmux(wd.join("nothing"), "stats")
    t.check(rc == 3 and "is xsmuxd running?" in out,
            "no daemon: exit 3 and a hint", out)
    c.close()
    stop(w)
    t.check(stop(p) == 0, "xsmuxd exits 0")
    t.check(not os.path.exists(ctl), "the control socket is removed")
t.done()
