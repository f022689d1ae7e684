#!/usr/bin/env python3
"""What an operator reads: a missing upstream, journald priorities.

xsmuxd with an upstream socket that does not exist logs, at warn level,
the upstream, the errno text and the next retry delay, with no C function
name; a client meanwhile gets EIO.  With $JOURNAL_STREAM naming its stderr
the lines carry "<N>" syslog priorities.  --log syslog is accepted,
--log anything else is refused; xsmux-stored takes --log too.
"""
import os
import select
import subprocess
import time

from opsutil import (BUILD, Tap, Workdir, XSMUXD, XS_ERROR, XS_READ, connect,
                     request, run, start_ready, stop)

STORED = os.path.join(BUILD, "server", "store", "xsmux-stored")
t = Tap()


def read_until(fd, needle, timeout=10.0):
    """Read fd until needle appears; returns everything read."""
    buf = b""
    deadline = time.monotonic() + timeout
    while needle.encode() not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    return buf.decode(errors="replace")


with Workdir() as wd:
    missing = wd.join("no-xenstored")
    for journal in (False, True):
        r, w = os.pipe()
        env = dict(os.environ)
        env.pop("JOURNAL_STREAM", None)
        if journal:
            st = os.fstat(w)
            env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        p = start_ready(wd, [XSMUXD, "--listen", wd.join("sock"),
                             "--upstream", "unix:" + missing],
                        stderr=w, env=env)
        os.close(w)
        out = read_until(r, "retrying in")
        line = next((l for l in out.splitlines() if "cannot reach" in l), "")
        tag = "journal" if journal else "stderr"
        t.check(("unix:" + missing) in line and
                "No such file or directory" in line and
                "retrying in 50 ms" in line,
                "%s: upstream, errno text and retry delay" % tag, out)
        t.check(line.startswith("<4>") if journal else
                line.startswith("xsmuxd[warn]: cannot reach"),
                "%s: warn level, no function name" % tag, line)
        c = connect(wd.join("sock"))
        typ, body = request(c, XS_READ, b"/x\0")
        t.check(typ == XS_ERROR and body == b"EIO\0",
                "%s: a client meanwhile gets EIO" % tag, body)
        c.close()
        t.check(stop(p) == 0, "%s: xsmuxd exits 0" % tag)
        os.close(r)

    rc, out = run([XSMUXD, "--log", "syslog", "--check-config"])
    t.check(rc == 0, "--log syslog is accepted", out)
    rc, out = run([XSMUXD, "--log", "journal", "--check-config"])
    t.check(rc == 2 and "use stderr or syslog" in out,
            "--log with another value is refused", out)
    rc, out = run([STORED, "--log", "bogus", "--listen", wd.join("s2")])
    t.check(rc == 2, "xsmux-stored refuses a bad --log", out)
    p = start_ready(wd, [STORED, "--log", "stderr", "--listen",
                         wd.join("s3")])
    t.check(stop(p) == 0, "xsmux-stored --log stderr runs")
t.done()
