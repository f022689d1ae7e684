#!/usr/bin/python3
"""The xsmux tool beside the real xenstore-utils, on the same store.

Every command and option of xenstore-utils (read, write, rm, exists, list,
ls, chmod, watch) and xenstore-control is run twice, once with Debian's
tool and once with `xsmux CMD` (and once more with xsmux called as
xenstore-CMD, its multi-call mode); stdout, stderr (the program name
aside) and the exit code must be identical, byte for byte.  Commands that
change the store run on two copies of the same subtree, one per tool, and
the copies must end identical.  ls runs on a terminal of a chosen width
too, where xenstore-ls cuts its lines.

Targets: xsmux-stored directly, and xsmuxd in front of it.  Prints TAP.

    test_cli_compat.py BUILD_ROOT XEN_ROOT
"""

import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios

BUILD = os.path.abspath(sys.argv[1])
XEN = os.path.abspath(sys.argv[2])
XSMUX = os.path.join(BUILD, "client-shim/cli/xsmux")
STORED = os.path.join(BUILD, "server/store/xsmux-stored")
XSMUXD = os.path.join(BUILD, "server/xsmuxd")
CONTROL = os.path.join(XEN, "usr/lib/xen-4.17/bin/xenstore-control")
TOOLS = ["read", "write", "rm", "exists", "list", "ls", "chmod", "watch"]
BOUND = 20  # seconds any one command may take

results = []


def check(ok, name, detail=""):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), name))
    if not ok and detail:
        for line in detail.splitlines():
            print("#   " + line)
    sys.stdout.flush()


def need(path, why):
    """A missing input fails the run where the oracle is required (CI) and
    skips it, in one clear line, elsewhere (a package build offline)."""
    if path is not None and os.access(path, os.X_OK):
        return
    if os.environ.get("XSMUX_ORACLE", "auto") == "required":
        print("Bail out! missing %s (%s)" % (path, why))
        sys.exit(1)
    print("1..0 # SKIP missing %s (%s)" % (path, why))
    sys.exit(0)


def start(argv, sock):
    """A daemon, waited for through its --ready-fd."""
    r, w = os.pipe()
    p = subprocess.Popen(argv + ["--ready-fd", str(w)], pass_fds=[w],
                         stderr=subprocess.DEVNULL)
    os.close(w)
    ready, _, _ = select.select([r], [], [], BOUND)
    line = os.read(r, 64) if ready else b""
    os.close(r)
    if line != b"ready\n" or not os.path.exists(sock):
        p.kill()
        print("Bail out! %s did not start" % argv[0])
        sys.exit(1)
    return p


class Env:
    def __init__(self, sock, tmp):
        self.sock = sock
        self.env = dict(os.environ, XENSTORED_PATH=sock)
        self.env.pop("XSMUX_SOCKET", None)
        # xsmux under xenstore-utils' names, for the multi-call mode.
        self.mc = os.path.join(tmp, "mc")
        os.makedirs(self.mc, exist_ok=True)
        for t in TOOLS + ["control"]:
            link = os.path.join(self.mc, "xenstore-" + t)
            if not os.path.lexists(link):
                os.symlink(XSMUX, link)
        link = os.path.join(self.mc, "xenstore")
        if not os.path.lexists(link):
            os.symlink(XSMUX, link)

    def run(self, argv, stdin=None, env=None):
        p = subprocess.run(argv, env=env or self.env, capture_output=True,
                           timeout=BOUND, input=stdin)
        return p.stdout, p.stderr, p.returncode


def normalise(err, names):
    """stderr with the program's names replaced by one word."""
    for n in sorted(names, key=len, reverse=True):
        err = err.replace(n.encode(), b"PROG")
    return err


def real_argv(tool, args, how="multicall"):
    """xenstore-utils: xenstore-CMD, or `xenstore CMD` beside `xsmux CMD`."""
    if tool == "control":
        return [CONTROL] + args
    if how == "multicall":
        return ["xenstore-" + tool] + args
    return ["xenstore", tool] + args


def ours_argv(e, tool, args, how):
    if how == "multicall":
        return [os.path.join(e.mc, "xenstore-" + tool)] + args
    if how == "generic" and tool != "control":
        return [os.path.join(e.mc, "xenstore"), tool] + args
    return [XSMUX, tool] + args


def names_of(tool):
    real = shutil.which("xenstore-" + tool) or ""
    names = [CONTROL, real, XSMUX + " control", XSMUX, "xenstore-" + tool,
             "xenstore", "xsmux", "/usr/bin/PROG"]
    return [n for n in names if n]


def compare(e, tag, tool, args, how="subcommand", ours_args=None):
    """Run both; equal stdout, normalised stderr and exit code."""
    a = e.run(real_argv(tool, args, how))
    b = e.run(ours_argv(e, tool, ours_args or args, how))
    names = names_of(tool) + [os.path.join(e.mc, "xenstore-" + tool),
                              os.path.join(e.mc, "xenstore")]
    na = (a[0], normalise(a[1], names), a[2])
    nb = (b[0], normalise(b[1], names), b[2])
    check(na == nb, "%s: %s %s %s" % (tag, how, tool, " ".join(args)),
          "xenstore-utils: %r\nxsmux:          %r" % (na, nb))
    return a


def tree(e, top):
    out, err, rc = e.run(["xenstore-ls", "-f", "-p", top])
    return rc, out.replace(top.encode(), b"TOP"), \
        err.replace(top.encode(), b"TOP")


def compare_effect(e, tag, tool, setup, args, how="subcommand"):
    """Run each tool on its own copy of a subtree; the copies must end equal.

    setup and args use {T}, the copy's top path.
    """
    tops = {}
    outs = {}
    for who in ("real", "ours"):
        top = "/cmp/%s/%s/%d" % (tag, who, len(results))
        e.run(["xenstore-rm", top])
        for s in setup:
            e.run([x.replace("{T}", top) for x in s])
        a = [x.replace("{T}", top) for x in args]
        argv = real_argv(tool, a, how) if who == "real" else \
            ours_argv(e, tool, a, how)
        o, er, rc = e.run(argv)
        outs[who] = (o.replace(top.encode(), b"TOP"),
                     normalise(er, names_of(tool) + [
                         os.path.join(e.mc, "xenstore-" + tool),
                         os.path.join(e.mc, "xenstore")]).replace(
                         top.encode(), b"TOP"), rc)
        tops[who] = top
    label = "%s: %s %s %s" % (tag, how, tool, " ".join(args))
    check(outs["real"] == outs["ours"], label + " (output)",
          "xenstore-utils: %r\nxsmux:          %r" %
          (outs["real"], outs["ours"]))
    tr, to = tree(e, tops["real"]), tree(e, tops["ours"])
    check(tr == to, label + " (store)",
          "xenstore-utils: %r\nxsmux:          %r" % (tr, to))


def on_tty(e, argv, cols):
    """Run argv with stdout on a terminal cols wide; what it printed."""
    mfd, sfd = pty.openpty()
    fcntl.ioctl(sfd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    attrs = termios.tcgetattr(sfd)
    attrs[1] &= ~termios.OPOST  # no NL -> CR NL
    termios.tcsetattr(sfd, termios.TCSANOW, attrs)
    p = subprocess.Popen(argv, env=e.env, stdout=sfd,
                         stderr=subprocess.DEVNULL)
    os.close(sfd)
    out = b""
    while True:
        r, _, _ = select.select([mfd], [], [], BOUND)
        if not r:
            break
        try:
            chunk = os.read(mfd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(mfd)
    rc = p.wait(timeout=BOUND)
    return out, rc


def read_line(f):
    r, _, _ = select.select([f], [], [], BOUND)
    return f.readline() if r else b"<nothing within the bound>"


def watch_pair(e, tag, how):
    """Both watchers see the initial event, then one change, identically."""
    e.run(["xenstore-write", "/cmp/w/node", "0"])
    procs = [subprocess.Popen(real_argv("watch", ["-n", "3", "/cmp/w"]),
                              env=e.env, stdout=subprocess.PIPE),
             subprocess.Popen(ours_argv(e, "watch", ["-n", "3", "/cmp/w"],
                                        how),
                              env=e.env, stdout=subprocess.PIPE)]
    try:
        first = [read_line(p.stdout) for p in procs]
        e.run(["xenstore-write", "/cmp/w/node", "1"])
        e.run(["xenstore-rm", "/cmp/w/node"])
        rest = [p.stdout.read() for p in procs]
        rcs = [p.wait(timeout=BOUND) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    got = [(first[i], rest[i], rcs[i]) for i in range(2)]
    check(got[0] == got[1] and got[0][0] == b"/cmp/w\n",
          "%s: %s watch -n 3 (initial event, write, rm)" % (tag, how),
          "xenstore-utils: %r\nxsmux:          %r" % tuple(got))


def populate(e):
    e.run(["xenstore-rm", "/t"])
    vals = [("/t/a", "1"), ("/t/a/b", "x\\ty"), ("/t/c", "caf\\xc3\\xa9"),
            ("/t/d", "bin\\x01\\\\q\\r\\001"), ("/t/e", "v" * 120),
            ("/t/deep/er/and/deeper/still/more/levels/of/nodes/here/now/x",
             "y" * 50),
            ("/t/" + "n" * 90, "long name")]
    for p, v in vals:
        e.run(["xenstore-write", p, v])
    e.run(["xenstore-chmod", "/t/c", "b0", "r5", "w7"])
    # A directory too big for one DIRECTORY reply, in one write.
    args = []
    for i in range(300):
        args += ["/big/child-with-a-long-name-%04d" % i, str(i)]
    e.run(["xenstore-write"] + args)


def suite(e, tag):
    populate(e)
    for how in ("subcommand", "multicall", "generic"):
        compare(e, tag, "read", ["/t/a", "/t/c", "/t/d"], how)
        compare(e, tag, "read", ["-p", "/t/a", "/t/c"], how)
        compare(e, tag, "read", ["-R", "/t/d", "/t/c"], how)
        compare(e, tag, "read", ["-p", "-R", "-s", "/t/a"], how)
        compare(e, tag, "read", ["/t/a", "/missing", "/t/c"], how)
        compare(e, tag, "read", ["/t/a", "--prefix", "--raw"], how)
        compare(e, tag, "read", ["-h"], how)
        compare(e, tag, "read", [], how)
        compare(e, tag, "read", ["-t", "/t/a"], how)
        compare(e, tag, "read", ["--", "/t/a"], how)
        compare(e, tag, "ls", ["/t"], how)
        compare(e, tag, "ls", ["-p", "/t"], how)
        compare(e, tag, "ls", ["-f", "/t"], how)
        compare(e, tag, "ls", ["-f", "-p", "/t"], how)
        compare(e, tag, "ls", ["--flat", "--prefix", "/t/a"], how)
        compare(e, tag, "ls", ["/missing"], how)
        compare(e, tag, "ls", ["/big"], how)
        compare(e, tag, "ls", ["-R", "/t"], how)
        compare(e, tag, "list", ["/t"], how)
        compare(e, tag, "list", ["-p", "/t", "/t/a"], how)
        compare(e, tag, "list", ["/big"], how)
        compare(e, tag, "list", ["/t", "/missing"], how)
        compare(e, tag, "list", [], how)
        compare(e, tag, "exists", ["/t", "/t/a"], how)
        compare(e, tag, "exists", ["/t", "/missing"], how)
        compare(e, tag, "exists", ["-p", "/t"], how)
        compare(e, tag, "exists", ["-s", "/t"], how)
        compare(e, tag, "write", ["/t/x"], how)
        compare(e, tag, "write", ["-h"], how)
        compare(e, tag, "rm", ["-p", "/t/x"], how)
        compare(e, tag, "chmod", ["-h"], how)
        compare(e, tag, "chmod", ["/t/c", "q5"], how)
        compare(e, tag, "watch", [], how)
        compare(e, tag, "watch", ["-n", "1", "/t/a"], how)
        compare(e, tag, "watch", ["-n", "0", "/t/a"], how)
        compare(e, tag, "watch", ["-p", "/t/a"], how)
        watch_pair(e, tag, how)

        compare_effect(e, tag, "write", [],
                       ["{T}/a", "1", "{T}/b", "tab\\there\\x41\\101\\"],
                       how)
        compare_effect(e, tag, "write", [], ["-R", "{T}/r", "raw\\t\\x41"],
                       how)
        compare_effect(e, tag, "write", [], ["{T}/only"], how)
        compare_effect(e, tag, "rm", [["xenstore-write", "{T}/a/b/c", "1"]],
                       ["{T}/a/b"], how)
        compare_effect(e, tag, "rm", [["xenstore-write", "{T}/a/b/c", "1"]],
                       ["-t", "{T}/a/b/c"], how)
        compare_effect(e, tag, "rm",
                       [["xenstore-write", "{T}/a/b/c", "1", "{T}/a", "v"]],
                       ["--tidy", "{T}/a/b/c"], how)
        compare_effect(e, tag, "rm",
                       [["xenstore-write", "{T}/a/b/c", "1", "{T}/a/s",
                         ""]], ["-t", "{T}/a/b/c"], how)
        compare_effect(e, tag, "rm", [["xenstore-write", "{T}/a", "1"]],
                       ["{T}/a", "{T}/missing/deeper"], how)
        compare_effect(e, tag, "chmod", [["xenstore-write", "{T}/a/b", "1"]],
                       ["{T}/a", "b0", "r5"], how)
        compare_effect(e, tag, "chmod",
                       [["xenstore-write", "{T}/a/b/c", "1", "{T}/a/d", ""]],
                       ["-r", "{T}/a", "n0", "w3"], how)
        compare_effect(e, tag, "chmod", [["xenstore-write", "{T}/a/b/c", "1"]],
                       ["-u", "{T}/a/b/c", "r0"], how)
        compare_effect(e, tag, "chmod", [["xenstore-write", "{T}/a/b/c", "1"]],
                       ["--upto", "--recurse", "{T}/a/b", "b0", "r9"], how)
        compare_effect(e, tag, "chmod", [["xenstore-write", "{T}/a", "1"]],
                       ["{T}/a", "r-1"], how)
        compare_effect(e, tag, "chmod", [["xenstore-write", "{T}/a", "1"]],
                       ["{T}/a", "b0", "x3"], how)
        compare_effect(e, tag, "chmod", [], ["{T}/missing", "b0"], how)

    for cmd in (["help"], ["quota"], ["quota", "0"], ["bogus"], [],
                ["print", "hello"]):
        compare(e, tag, "control", cmd)
        compare(e, tag, "control", cmd, "multicall")

    # ls on terminals of several widths, where xenstore-ls cuts lines.
    for cols in (100, 40, 12, 3):
        for opts in ([], ["-p"], ["-f"]):
            a = on_tty(e, ["xenstore-ls"] + opts + ["/t"], cols)
            b = on_tty(e, [XSMUX, "ls"] + opts + ["/t"], cols)
            check(a == b and a[1] == 0 and len(a[0]) > 0,
                  "%s: ls %s on a %d-column terminal" %
                  (tag, " ".join(opts), cols),
                  "xenstore-utils: %r\nxsmux:          %r" % (a, b))


def json_and_options(e, tag):
    """What xenstore-utils does not have: --json, strict options, targets."""
    e.run(["xenstore-write", "/j/u", "caf\\xc3\\xa9", "/j/b", "\\xff\\xfe",
           "/j/q", "a\"b\\\\c\\n"])
    out, _, rc = e.run([XSMUX, "--json", "read", "/j/u", "/j/b", "/j/q"])
    want = '{"/j/u": "caf\u00e9", "/j/b": {"value_b64": "//4="}, ' \
        '"/j/q": "a\\"b\\\\c\\n"}\n'
    check(rc == 0 and out == want.encode(),
          "%s: --json read keeps UTF-8, gives other bytes in base64" % tag,
          "%r %r" % (rc, out))
    out, _, rc = e.run([XSMUX, "--json", "ls", "/j"])
    check(rc == 0 and b'"value": "caf\xc3\xa9"' in out and
          b'"value_b64": "//4="' in out,
          "%s: --json ls: value or value_b64" % tag, "%r" % out)
    out, err, rc = e.run([XSMUX, "read", "-z", "/j/u"])
    check(rc == 1 and out == b"" and b"Usage:" in err,
          "%s: an unknown option is an error with the usage line" % tag,
          "%r %r %r" % (rc, out, err))
    out, err, rc = e.run([XSMUX, "rm", "-p", "/j/u"])
    check(rc == 1 and b"Usage:" in err and
          e.run(["xenstore-exists", "/j/u"])[2] == 0,
          "%s: an option the command does not take is an error" % tag,
          "%r %r" % (rc, err))
    bad = dict(e.env, XENSTORED_PATH="/nonexistent/socket")
    out, err, rc = e.run([XSMUX, "read", "/j/u"],
                         env=dict(bad, XSMUX_SOCKET=e.sock))
    check(rc == 0 and out == b"caf\\xc3\\xa9\n",
          "%s: XSMUX_SOCKET before XENSTORED_PATH" % tag, "%r %r" % (rc, err))
    out, err, rc = e.run([XSMUX, "--socket", e.sock, "read", "/j/u"],
                         env=dict(bad, XSMUX_SOCKET="/nonexistent/socket"))
    check(rc == 0, "%s: --socket before XSMUX_SOCKET" % tag, "%r" % err)
    rundir = os.path.dirname(e.sock)
    env = dict(os.environ, XENSTORED_RUNDIR=rundir)
    env.pop("XENSTORED_PATH", None)
    env.pop("XSMUX_SOCKET", None)
    if os.path.basename(e.sock) == "socket":
        out, err, rc = e.run([XSMUX, "read", "/j/u"], env=env)
        check(rc == 0, "%s: XENSTORED_RUNDIR/socket" % tag, "%r" % err)
    out, err, rc = e.run([XSMUX, "read", "/j/u"],
                         env=dict(bad, XSMUX_SOCKET=""))
    check(rc == 1 and b"/nonexistent/socket" in err,
          "%s: cannot connect: exit 1 and the path" % tag, "%r %r" % (rc, err))


def main():
    for p in (XSMUX, STORED, XSMUXD):
        if not os.access(p, os.X_OK):
            print("Bail out! %s not built" % p)
            return 1
    need(CONTROL, "tests/oracle/fetch-xen.sh extracts it")
    for t in TOOLS:
        need(shutil.which("xenstore-" + t) or "xenstore-" + t,
             "package xenstore-utils")
    tmp = tempfile.mkdtemp(prefix="xsmux-cli-compat-")
    procs = []
    try:
        ssock = os.path.join(tmp, "store", "socket")
        os.makedirs(os.path.dirname(ssock))
        procs.append(start([STORED, "--listen", ssock], ssock))
        suite(Env(ssock, tmp), "store")
        json_and_options(Env(ssock, tmp), "store")
        psock = os.path.join(tmp, "proxy", "socket")
        os.makedirs(os.path.dirname(psock))
        procs.append(start([XSMUXD, "--listen", psock, "--upstream",
                            "unix:" + ssock], psock))
        suite(Env(psock, tmp), "proxy")
        json_and_options(Env(psock, tmp), "proxy")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=BOUND)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("1..%d" % len(results))
    failed = results.count(False)
    print("# %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
