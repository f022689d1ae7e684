#!/usr/bin/env python3
"""xsmuxd under systemd-socket-activate with NOTIFY_SOCKET set.

systemd-socket-activate binds the socket and passes it in LISTEN_FDS, as
xsmuxd.socket does.  The test sees READY=1 on its own datagram socket,
then uses the passed socket; STATUS= says the upstream is connected;
SIGHUP gives RELOADING=1 then READY=1; SIGTERM gives STOPPING=1; and the
socket file, which systemd owns, is still there after xsmuxd exits.
"""
import os
import signal
import subprocess

from opsutil import (Tap, Workdir, XSMUXD, connect, notify_socket, stop,
                     wait_notify, xs_read, xs_write)

t = Tap()
with Workdir() as wd:
    sock = wd.join("socket")
    ns, npath = notify_socket(wd)
    # The child's environment is LISTEN_* and what -E names, nothing else.
    p = wd.spawn(["systemd-socket-activate", "-l", sock, "--fdname=client",
                  "-E", "NOTIFY_SOCKET=" + npath, XSMUXD,
                  "--control", wd.join("control"), "--upstream", "embedded", "--listen",
                  wd.join("ignored")])
    # systemd-socket-activate starts xsmuxd on the first connection.
    c = connect(sock)
    seen = wait_notify(ns, "READY=1")
    t.check(seen is not None, "READY=1 arrives on NOTIFY_SOCKET")
    t.check(seen is not None and any(
        l.startswith("STATUS=") and "upstream" in l for l in seen),
        "a STATUS= line names the upstream", seen)
    t.check(xs_write(c, "/ops/a", "b")[0] == 11, "WRITE through the socket")
    t.check(xs_read(c, "/ops/a") == "b", "READ it back")
    t.check(not os.path.exists(wd.join("ignored")),
            "--listen is ignored under socket activation")
    p.send_signal(signal.SIGHUP)
    seen = wait_notify(ns, "READY=1")
    t.check(seen is not None and "RELOADING=1" in seen,
            "SIGHUP: RELOADING=1 then READY=1", seen)
    t.check(xs_read(c, "/ops/a") == "b", "the client survives the reload")
    c.close()
    p.send_signal(signal.SIGTERM)
    seen = wait_notify(ns, "STOPPING=1")
    t.check(seen is not None, "SIGTERM: STOPPING=1")
    # The one SIGTERM is enough: wait for the exit (a second signal
    # would end a shutdown already under way).
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        rc = stop(p)
    t.check(rc == 0, "xsmuxd exits 0", rc)
    t.check(os.path.exists(sock), "the socket systemd passed is not unlinked")
t.done()
