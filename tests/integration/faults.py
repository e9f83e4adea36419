"""Fault injection for test-faults: relays that cut a connection at a chosen protocol step or
drip the server's bytes, grouped PASS/FAIL counts and the results JSON (tests/RESULTS.md).

Everything listens and connects on 127.0.0.1 only.
"""

import contextlib
import socket
import subprocess
import threading
import time

import xuharness as xh


class FaultRelay(xh.Relay):
    """A TCP relay from 127.0.0.1:port to a server port that breaks connections on purpose.

    cut_on: bytes; the first client->server chunk that, together with what came before,
    contains them makes the relay reset both sides instead of forwarding it (e.g. b"<auth").
    cut_on_chunk: N; reset at the client's N-th write instead (N=2 in direct TLS: the client's
    second flight, i.e. mid-handshake).
    cut_down_after: N; pass the server's first N bytes, then reset (N=200 in direct TLS: in the
    middle of the server's first handshake flight).
    drip: seconds; the server's bytes reach the client one byte per `drip` seconds.
    cut_times: how many connections are cut at most (None: every one that matches).
    accepted counts the connections made through it (to see retries).
    """

    def __init__(self, run, target_port, cut_on=None, cut_on_chunk=None, cut_down_after=None, drip=0.0,
                 cut_times=None):
        # set before the base class starts accepting
        self.cut_on = cut_on
        self.cut_on_chunk = cut_on_chunk
        self.cut_down_after = cut_down_after
        self.cut_times = cut_times
        self.drip = drip
        self.cuts = 0
        super().__init__(run, target_port)

    def _relay(self, c, u):
        threading.Thread(target=self._up, args=(c, u), daemon=True).start()
        threading.Thread(target=self._down, args=(u, c), daemon=True).start()

    def _cut_pair(self, a, b):
        with self._lock:
            self.cuts += 1
        self._reset(a)
        self._reset(b)

    def _up(self, c, u):
        seen = b""
        n = 0
        try:
            while True:
                data = c.recv(65536)
                if not data:
                    break
                n += 1
                seen = (seen + data)[-4096:]
                if ((self.cut_on is not None and self.cut_on in seen) or (self.cut_on_chunk == n)) and (
                        self.cut_times is None or self.cuts < self.cut_times):
                    self._cut_pair(c, u)
                    return
                u.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            u.shutdown(socket.SHUT_WR)

    def _down(self, u, c):
        try:
            while True:
                data = u.recv(65536)
                if not data:
                    break
                if self.cut_down_after is not None:
                    c.sendall(data[:self.cut_down_after])
                    if len(data) >= self.cut_down_after:
                        time.sleep(0.05)
                        self._cut_pair(u, c)
                        return
                    self.cut_down_after -= len(data)
                    continue
                if not self.drip:
                    c.sendall(data)
                    continue
                for i in range(len(data)):
                    c.sendall(data[i:i + 1])
                    time.sleep(self.drip)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            c.shutdown(socket.SHUT_WR)


def via(argv, port):
    """argv (from Prosody.command_argv) with its --port replaced."""
    argv = list(argv)
    i = argv.index("--port")
    argv[i + 1] = str(port)
    return argv


def timed(argv, env, stdin=b"", timeout=60):
    """Run argv to its end: (rc, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    rc, out, err = xh.run_cmd(argv, env=env, stdin=stdin, timeout=timeout)
    return rc, out, err, time.monotonic() - t0


def start(argv, env, stdin=subprocess.PIPE):
    """argv as a running process (stdin pipe, stdout/stderr to files read at the end)."""
    return subprocess.Popen(argv, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=xh.SRC_DIR, preexec_fn=xh._child_setup(False, xh.signal.SIGKILL))


class Groups:
    """PASS/FAIL per fault group (the rows of the results JSON) and measured figures."""

    def __init__(self, run):
        self.run = run
        self.rows = {}
        self.order = []
        self.figures = []

    @contextlib.contextmanager
    def case(self, group, name):
        if group not in self.rows:
            self.rows[group] = {"group": group, "tried": 0, "passed": 0, "failed": 0, "skipped": 0, "note": ""}
            self.order.append(group)
        row = self.rows[group]
        before = (self.run.passed, self.run.failed, self.run.skipped)
        with self.run.case(name):
            yield
        row["tried"] += 1
        row["passed"] += self.run.passed - before[0]
        row["failed"] += self.run.failed - before[1]
        row["skipped"] += self.run.skipped - before[2]

    def note(self, group, text):
        row = self.rows.get(group)
        if row is not None:
            row["note"] = (row["note"] + "; " if row["note"] else "") + text

    def figure(self, name, value, note=""):
        self.figures.append({"name": name, "value": str(value), "note": note})

    def write(self, script, section="faults"):
        """$XU_RESULTS_DIR/<script>.json when XU_RESULTS_DIR is set."""
        return xh.write_results(script, section, [self.rows[g] for g in self.order], self.figures)
