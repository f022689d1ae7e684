#!/usr/bin/env python3
"""xsmuxd's configuration file: keys, precedence, --check-config.

Every key the shipped deploy/xsmuxd.conf documents (commented or not) is
accepted; values in the file take effect; a flag on the command line
overrides the file; --check-config reports a bad key with the file and
line, and validates the policy the file names.
"""
import os
import re

from opsutil import (SOURCE, Tap, Workdir, XSMUXD, connect, run,
                     start_ready, stop, xs_read, xs_write)

t = Tap()
shipped = os.path.join(SOURCE, "deploy", "xsmuxd.conf")

with Workdir() as wd:
    policy = wd.join("policy.conf")
    open(policy, "w").write("[rule:root]\nuid = 0\nallow = all\n"
                            "read = /\nwrite = /\n")
    # Every documented key, uncommented, with paths moved into wd.
    text = open(shipped).read()
    text = re.sub(r"^#(\w[\w-]* = )", r"\1", text, flags=re.M)
    text = text.replace("/run/xsmux/socket", wd.join("sock"))
    text = text.replace("/var/log/xsmux/audit.jsonl", wd.join("audit"))
    text = text.replace("/etc/xsmux/policy.conf", policy)
    text = text.replace("group = xsmux", "group = %d" % os.getgid())
    text = text.replace("upstream = unix:/run/xenstored/socket",
                        "upstream = embedded")
    every = wd.join("every.conf")
    open(every, "w").write(text)
    rc, out = run([XSMUXD, "--config", every, "--check-config"])
    t.check(rc == 0 and "every.conf: OK" in out,
            "every key deploy/xsmuxd.conf documents is accepted", out)
    t.check("policy.conf: OK" in out,
            "--check-config validates the policy the file names", out)

    rc, out = run([XSMUXD, "--config", shipped, "--check-config"])
    t.check(rc == 0, "the shipped xsmuxd.conf passes --check-config", out)

    bad = wd.join("bad.conf")
    open(bad, "w").write("[xsmuxd]\nlisten = /x\nmax-inflihgt = 3\n")
    rc, out = run([XSMUXD, "--config", bad, "--check-config"])
    t.check(rc == 1 and "bad.conf:3: max-inflihgt: unknown key" in out,
            "an unknown key: file, line and key, exit 1", out)
    open(bad, "w").write("max-inflight = lots\n")
    rc, out = run([XSMUXD, "--config", bad, "--check-config"])
    t.check(rc == 1 and "bad.conf:1: max-inflight: lots: not a number"
            in out, "a bad value: file, line and reason", out)
    open(bad, "w").write("[proxy]\nlisten = /x\n")
    rc, out = run([XSMUXD, "--config", bad, "--check-config"])
    t.check(rc == 1 and "unknown section" in out, "an unknown section", out)
    open(bad, "w").write("ready-fd = 3\n")
    rc, out = run([XSMUXD, "--config", bad, "--check-config"])
    t.check(rc == 1 and "only on the command line" in out,
            "a command-line-only option is refused in the file", out)
    badpol = wd.join("bad.policy")
    open(badpol, "w").write("[rule:x]\nfrobnicate = yes\n")
    open(bad, "w").write("policy = %s\n" % badpol)
    rc, out = run([XSMUXD, "--config", bad, "--check-config"])
    t.check(rc == 1, "--check-config fails on the named policy's error", out)

    # Values from the file take effect; flags override them.
    conf = wd.join("xsmuxd.conf")
    open(conf, "w").write("[xsmuxd]\nupstream = embedded\nlisten = %s\n"
                          "max-inflight = 1\n" % wd.join("from-file"))
    p = start_ready(wd, [XSMUXD, "--config", conf])
    c = connect(wd.join("from-file"))
    t.check(xs_write(c, "/cfg", "1")[0] == 11, "the file's listen is used")
    c.close()
    t.check(stop(p) == 0, "xsmuxd exits 0")
    p = start_ready(wd, [XSMUXD, "--config", conf, "--listen",
                         wd.join("from-argv")])
    t.check(os.path.exists(wd.join("from-argv")) and
            not os.path.exists(wd.join("from-file")),
            "--listen on the command line replaces the file's")
    c = connect(wd.join("from-argv"))
    t.check(xs_write(c, "/cfg", "2")[0] == 11, "and serves")
    c.close()
    stop(p)
    rc, out = run([XSMUXD, "--config", wd.join("missing.conf")])
    t.check(rc == 1 and "missing.conf" in out,
            "a missing file is an error naming it", out)
t.done()
