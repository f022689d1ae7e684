#!/usr/bin/env python3
"""GET /metrics, parsed by prometheus_client, follows real traffic.

xsmuxd (embedded upstream) with --metrics on a Unix socket and on
127.0.0.1: a client writes, reads a missing node, sets a watch, opens a
transaction; the counters and gauges move by exactly that; a policy
refusal counts under its rule; a client that leaves is a disconnect.
"""
import os
import socket
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from opsutil import (HDR, Tap, Workdir, XSMUXD, XS_READ, XS_TRANSACTION_START,
                     XS_WATCH, XS_WRITE, connect, http_get_unix, recv_msg,
                     request, start_ready, stop, xs_read, xs_write)

t = Tap()


def scrape(path):
    status, headers, body = http_get_unix(path)
    fams = {f.name: f for f in text_string_to_metric_families(body)}
    return status, headers, fams


def value(fams, family, sample=None, **labels):
    f = fams.get(family)
    for s in (f.samples if f else []):
        if (sample is None or s.name == sample) and all(
                s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


with Workdir() as wd:
    mpath = wd.join("metrics")
    policy = wd.join("policy.conf")
    open(policy, "w").write("[rule:reader]\nuid = 0\nallow = read watch "
                            "transaction\n")
    p = start_ready(wd, [XSMUXD, "--listen", wd.join("sock"), "--upstream",
                         "embedded", "--metrics", "unix:" + mpath])
    status, headers, fams = scrape(mpath)
    t.check(status == 200 and headers.get("Content-Type", "").startswith(
        "text/plain; version=0.0.4"), "GET /metrics: 200, text format 0.0.4")
    need = ["xsmux_requests", "xsmux_request_duration_seconds",
            "xsmux_denied", "xsmux_clients", "xsmux_client_connections",
            "xsmux_watches", "xsmux_upstream_watches", "xsmux_transactions",
            "xsmux_events", "xsmux_upstream_up",
            "xsmux_upstream_reconnects", "xsmux_queued_bytes",
            "xsmux_disconnects", "xsmux_build_info"]
    missing = [n for n in need if n not in fams]
    t.check(not missing, "every family parses", missing)
    t.check(value(fams, "xsmux_upstream_up") == 1, "upstream up")
    t.check(value(fams, "xsmux_clients") == 0, "no clients yet")

    c = connect(wd.join("sock"))
    for i in range(5):
        xs_write(c, "/m/%d" % i, "v")
    for i in range(3):
        xs_read(c, "/m/missing%d" % i)
    typ, body = request(c, XS_WATCH, b"/m\0tok\0", req_id=9)
    first = recv_msg(c)         # the watch's initial event
    typ_tx, body_tx = request(c, XS_TRANSACTION_START, b"\0", req_id=10)
    # The WRITE fires the watch: its event comes first, then the reply,
    # as from xenstored.
    ev = request(c, XS_WRITE, b"/m/0\0w")
    recv_msg(c)
    status, _, fams = scrape(mpath)
    t.check(value(fams, "xsmux_requests", "xsmux_requests_total",
                  op="WRITE", result="OK") == 6, "6 WRITEs OK")
    t.check(value(fams, "xsmux_requests", "xsmux_requests_total",
                  op="READ", result="ENOENT") == 3, "3 READs ENOENT")
    t.check(value(fams, "xsmux_request_duration_seconds",
                  "xsmux_request_duration_seconds_count",
                  **{"class": "read"}) == 3,
            "the read class's histogram counts the 3 READs")
    t.check(value(fams, "xsmux_request_duration_seconds",
                  "xsmux_request_duration_seconds_bucket",
                  **{"class": "write", "le": "+Inf"}) == 6,
            "the write class's +Inf bucket holds 6")
    t.check(value(fams, "xsmux_clients") == 1, "1 client")
    t.check(value(fams, "xsmux_client_connections",
                  "xsmux_client_connections_total") == 1, "1 connection")
    t.check(value(fams, "xsmux_watches") == 1, "1 watch")
    t.check(value(fams, "xsmux_upstream_watches") == 1, "1 upstream watch")
    t.check(value(fams, "xsmux_transactions") == 1, "1 transaction open")
    t.check(value(fams, "xsmux_events", "xsmux_events_total") == 2 and
            ev[0] == 15, "2 events delivered (initial + write)")
    c.close()
    # The disconnect is counted once xsmuxd has read the EOF: scrape
    # until it shows (bounded), each scrape a full loop turn later.
    deadline = time.monotonic() + 10
    while True:
        _, _, fams = scrape(mpath)
        if (value(fams, "xsmux_clients") == 0 or
                time.monotonic() > deadline):
            break
    t.check(value(fams, "xsmux_disconnects", "xsmux_disconnects_total",
                  reason="client_closed") == 1, "a disconnect: client_closed")
    t.check(value(fams, "xsmux_watches") == 0 and
            value(fams, "xsmux_transactions") == 0,
            "its watch and transaction are gone")
    t.check(stop(p) == 0, "xsmuxd exits 0")
    t.check(not os.path.exists(mpath), "the metrics socket is removed")

    # TCP, and a refusal counted under its rule.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    p = start_ready(wd, [XSMUXD, "--listen", wd.join("sock"), "--upstream",
                         "embedded", "--policy", policy, "--metrics",
                         "127.0.0.1:%d" % port])
    c = connect(wd.join("sock"))
    typ, body = xs_write(c, "/m/x", "v")
    t.check(body == b"EACCES\0", "the policy refuses the WRITE")
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=10) as r:
        fams = {f.name: f for f in
                text_string_to_metric_families(r.read().decode())}
    t.check(value(fams, "xsmux_denied", "xsmux_denied_total",
                  rule="reader") == 1, "xsmux_denied_total{rule=reader} 1")
    c.close()
    t.check(stop(p) == 0, "xsmuxd exits 0")
t.done()
