"""opsutil: what the operations tests share.

TAP output for meson, a raw XenStore wire client, a temporary directory
that is removed even on failure, and processes that are always stopped.
"""
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("XSMUX_BUILD_ROOT", "build")
SOURCE = os.environ.get("XSMUX_SOURCE_ROOT", ".")
XSMUXD = os.path.join(BUILD, "server", "xsmuxd")

XS_READ, XS_WRITE, XS_ERROR = 2, 11, 16
HDR = struct.Struct("<IIII")


class Tap:
    """Collects ok/not ok lines; prints the plan at the end.  An uncaught
    exception is reported as a failed test with its traceback."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        sys.excepthook = self._excepthook

    def _excepthook(self, typ, value, tb):
        import traceback
        self.check(False, "no exception", "".join(
            traceback.format_exception(typ, value, tb)))
        self.done()

    def check(self, cond, name, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            if detail:
                for line in str(detail).splitlines():
                    print("# " + line)
        sys.stdout.flush()
        return cond

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


class Workdir:
    """A temporary directory, removed on exit, and processes it stops."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="xsmux-ops-")
        self.procs = []

    def __enter__(self):
        return self

    def __exit__(self, typ, value, tb):
        for p in self.procs:
            stop(p)
        log = self.join("stderr.log")
        if typ is not None and os.path.exists(log):
            print("# the daemons' standard error:")
            for line in open(log, errors="replace").read().splitlines():
                print("#   " + line)
        shutil.rmtree(self.path, ignore_errors=True)

    def join(self, name):
        return os.path.join(self.path, name)

    def spawn(self, argv, **kw):
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", open(self.join("stderr.log"), "ab"))
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p


def stop(p, timeout=10):
    """SIGTERM, then SIGKILL; returns the exit status."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return p.returncode


def connect(path, timeout=10.0):
    """Connect to a Unix socket, retrying while it does not exist yet."""
    deadline = time.monotonic() + timeout
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed")
        buf += chunk
    return buf


def request(s, op, body, req_id=1, tx_id=0):
    """Send one request, return (type, payload) of its reply."""
    s.sendall(HDR.pack(op, req_id, tx_id, len(body)) + body)
    typ, rid, _tx, ln = HDR.unpack(recv_exact(s, HDR.size))
    return typ, recv_exact(s, ln)


def xs_write(s, path, value):
    return request(s, XS_WRITE, path.encode() + b"\0" + value.encode())


def xs_read(s, path):
    typ, body = request(s, XS_READ, path.encode() + b"\0")
    return None if typ == XS_ERROR else body.decode()


def notify_socket(wd):
    """A datagram socket to stand in for systemd's NOTIFY_SOCKET."""
    path = wd.join("notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    return s, path


def wait_notify(s, key, timeout=10.0):
    """Read notifications until one holds key (e.g. "READY=1"); returns
    every line read, or None on timeout."""
    seen = []
    s.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            return None
        seen.extend(msg.split("\n"))
        if key in seen:
            return seen
    return None


def start_ready(wd, argv, **kw):
    """Start a daemon with --ready-fd; returns it once it said ready."""
    r, w = os.pipe()
    p = wd.spawn(argv + ["--ready-fd", str(w)], pass_fds=(w,), **kw)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        line = f.readline()
    if line != b"ready\n":
        stop(p)
        raise RuntimeError("%s: not ready (status %s)" % (argv[0], p.poll()))
    return p


def run(argv, **kw):
    """Run to completion; returns (status, stdout + stderr)."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30, **kw)
    return p.returncode, p.stdout.decode(errors="replace")

XS_WATCH, XS_TRANSACTION_START, XS_WATCH_EVENT = 4, 6, 15


def http_get_unix(path, url="/metrics"):
    """GET url over a Unix socket; returns (status, headers, body)."""
    import http.client

    class Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(10)
            self.sock.connect(path)

    c = Conn("localhost")
    c.request("GET", url)
    r = c.getresponse()
    body = r.read().decode()
    c.close()
    return r.status, dict(r.getheaders()), body


def recv_msg(s):
    """One whole message: (type, req_id, payload)."""
    typ, rid, _tx, ln = HDR.unpack(recv_exact(s, HDR.size))
    return typ, rid, recv_exact(s, ln)
