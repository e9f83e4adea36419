#!/usr/bin/python3
"""Side-by-side benchmark of xmpp-send against the tools people use, in one run, written to
bench/RESULTS.md (issue 7, item 1). A benchmark, not a test: it never fails a build.

One throwaway Prosody 0.12 (tests/integration/xuharness.py: test CA, accounts alice and bob),
an independent slixmpp receiver (bob) that checks every delivery, and:
  1. one message from a fresh process, RUNS times per tool, on loopback: wall time (median and
     spread), client CPU (user+sys of the process tree), peak RSS (GNU time's %M), exit codes,
     messages delivered; plus a "floor" program (bench/floor.c, built here) that only loads
     xmpp-send's libraries and the system trust store, then exits;
  2. BULK messages through each tool's bulk mode (xmpp-send --lines, go-sendxmpp -i,
     sendxmpp -i, the slixmpp script --lines): messages/s, CPU per message, delivered count;
  3. xmpp-listen consuming a flood (bench/listen.py's flood()): messages/s, peak RSS;
  4. the one-message runs again over a 50 ms round-trip link: two network namespaces joined by
     TAP devices and bench/taprelay.py holding every frame 25 ms each way, Prosody (and the
     receiver) in one, the clients in the other; one run per tool captured with tshark on the
     client's TAP device and its round trips counted (definition in RESULTS.md).
     Needs root (ip netns, /dev/net/tun); otherwise that table says why it is missing.

The "SASL2+FAST" variants of xmpp-send run against a second Prosody that also has
prosody-modules' SASL2, Bind2 and FAST (the harness's sasl2_knobs()); missing modules are noted.

Tools and how each trusts the test CA (certificate checks stay on for all of them):
  xmpp-send     --cafile CA
  go-sendxmpp   SSL_CERT_FILE=CA (Go's crypto/x509 reads it instead of the system store)
  sendxmpp      -t (STARTTLS) --tls-ca-path DIR (the CA in a private hashed directory)
  slixmpp       bench/slixsend.py: ca_certs=CA, host name pinned to the JID's domain

usage: sudo bench/compare.py [BUILD_DIR] [--runs N] [--rtt-runs N] [--bulk N] [--listen N]
                             [--link auto|netns|loopback|none] [--tools A,B] [--out FILE]
       (defaults: build, 20, 10, 10000, 10000, auto; --help lists the tools)
Without root (or without namespaces) the 50 ms part falls back to bench/tcpdelay.py, a delaying
TCP relay on loopback, and RESULTS.md says so.
"""
import argparse
import ctypes
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

ap = argparse.ArgumentParser(description="xmpp-send side by side with other XMPP senders")
ap.add_argument("build", nargs="?", default=None)
ap.add_argument("--runs", type=int, default=20, help="one-message runs per tool (loopback)")
ap.add_argument("--rtt-runs", type=int, default=10, help="one-message runs per tool over 50 ms")
ap.add_argument("--bulk", type=int, default=10000, help="messages in the bulk runs")
ap.add_argument("--listen", type=int, default=10000, help="messages in the xmpp-listen flood")
ap.add_argument("--link", choices=("auto", "netns", "loopback", "none"), default="auto",
                help="the 50 ms link: namespaces + TAP relay (needs root), the loopback TCP relay, "
                     "or none; auto: namespaces, else loopback")
ap.add_argument("--tools", default="xmpp-send,xmpp-send --no-cache,xmpp-send --direct-tls,xmpp-send SASL2+FAST,"
                "xmpp-send --direct-tls SASL2+FAST,go-sendxmpp,go-sendxmpp -t,sendxmpp,slixmpp",
                help="comma-separated, of: %(default)s")
ap.add_argument("--out", default=None, help="default bench/RESULTS.md")
ap.add_argument("--pcap-dir", default=None, help="keep each tool's capture of the 50 ms run there")
ARGS = ap.parse_args()
sys.argv = [sys.argv[0]] + ([ARGS.build] if ARGS.build else [])

import benchutil as bu  # noqa: E402 - sets up the paths: before xuharness
import listen as blisten  # noqa: E402
import xuharness as xh  # noqa: E402

OUT = ARGS.out or os.path.join(bu.HERE, "RESULTS.md")
SRV_IP, CLI_IP = "10.77.0.1", "10.77.0.2"  # only inside the two namespaces made here
DELAY_MS = 25  # each way
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)


def sh(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# ---------------------------------------------------------------------------------------------
# the tools


class Target:
    """Where the clients connect: the server's address and port as seen from the clients."""

    def __init__(self, srv, host, port=None, tls_port=None):
        self.srv, self.host = srv, host
        self.port, self.tls_port = port or srv.port, tls_port or srv.tls_port


class Tool:
    name = "?"
    trust = ""
    bulk_mode = None
    confirms = "?"  # what its exit 0 says about the messages
    sasl2 = False  # measured against a Prosody offering SASL2, Bind2 and FAST (prosody-modules)

    def version(self):
        return "?"

    def port(self, tgt):
        """The server port this tool connects to."""
        return tgt.port

    def one(self, tgt, body, home):
        """(argv, env, stdin bytes) for sending body to bob from a fresh process."""
        raise NotImplementedError

    def bulk(self, tgt, home):
        """(argv, env) reading one message per stdin line, or None."""
        return None


class XmppSend(Tool):
    name = "xmpp-send"
    trust = "`--cafile` CA"
    bulk_mode = "`--lines`"
    confirms = "the server acknowledged every message (XEP-0198)"

    def version(self):
        return sh([xh.send_path(), "--version"]).stdout.strip().split()[-1]

    tls = []  # extra options for the transport

    def _argv(self, tgt, args):
        return [xh.send_path(), "--jid", "alice@localhost", "--host", tgt.host, "--port",
                str(self.port(tgt))] + self.tls + ["--cafile", tgt.srv.ca] + args

    def one(self, tgt, body, home):
        return self._argv(tgt, ["-m", body, "bob@localhost"]), tgt.srv.env(), None

    def bulk(self, tgt, home):
        return self._argv(tgt, ["--lines", "bob@localhost"]), tgt.srv.env()


class XmppSendDirect(XmppSend):
    name = "xmpp-send --direct-tls"
    bulk_mode = None

    tls = ["--direct-tls"]

    def port(self, tgt):
        return tgt.tls_port

    def bulk(self, tgt, home):
        return None


class XmppSendCold(XmppSend):
    """Every run a first contact: no per-account cache (what the server offers, SCRAM key)."""
    name = "xmpp-send --no-cache"
    bulk_mode = None

    tls = ["--no-cache"]

    def bulk(self, tgt, home):
        return None


class XmppSendFast(XmppSend):
    """Against a Prosody with SASL2: after the warm-up's SCRAM login, every run logs in with the
    cached FAST token, sent with the stream header."""
    name = "xmpp-send SASL2+FAST"
    bulk_mode = None
    sasl2 = True

    def bulk(self, tgt, home):
        return None


class XmppSendFastDirect(XmppSendDirect):
    name = "xmpp-send --direct-tls SASL2+FAST"
    sasl2 = True


class GoSendxmpp(Tool):
    name = "go-sendxmpp"
    trust = "`SSL_CERT_FILE=`CA (Go reads it instead of the system store)"
    bulk_mode = "`-i` (interactive: one message per stdin line)"
    confirms = "nothing: it writes and closes"

    def version(self):
        out = sh(["dpkg-query", "-W", "-f", "${Version}", "go-sendxmpp"]).stdout.strip()
        return out or sh(["go-sendxmpp", "--version"]).stdout.split("\n")[0]

    def _base(self, tgt, home):
        cfg = os.path.join(home, "go-sendxmpprc")
        with open(cfg, "w") as f:
            f.write("username: alice@localhost\npassword: %s\n" % tgt.srv.passwords["alice"])
        os.chmod(cfg, 0o600)
        env = tgt.srv.env(password=False)
        env["SSL_CERT_FILE"] = tgt.srv.ca
        return ["go-sendxmpp", "-f", cfg, "-j", "%s:%d" % (tgt.host, tgt.port)], env

    def one(self, tgt, body, home):
        argv, env = self._base(tgt, home)
        return argv + ["bob@localhost"], env, (body + "\n").encode()

    def bulk(self, tgt, home):
        argv, env = self._base(tgt, home)
        return argv + ["-i", "bob@localhost"], env


class GoSendxmppDirect(GoSendxmpp):
    name = "go-sendxmpp -t"
    bulk_mode = None

    def port(self, tgt):
        return tgt.tls_port

    def _base(self, tgt, home):
        argv, env = super()._base(tgt, home)
        return argv[:-2] + ["-t", "-j", "%s:%d" % (tgt.host, tgt.tls_port)], env

    def bulk(self, tgt, home):
        return None


class Sendxmpp(Tool):
    name = "sendxmpp"
    trust = "`-t --tls-ca-path` DIR (the CA, hashed)"
    bulk_mode = "`-i` (interactive: one message per stdin line)"
    confirms = "nothing: it writes, closes, then sleeps"

    def version(self):
        return sh(["dpkg-query", "-W", "-f", "${Version}", "sendxmpp"]).stdout.strip()

    def _base(self, tgt, home):
        cadir = os.path.join(home, "sendxmpp-ca")
        if not os.path.isdir(cadir):
            os.makedirs(cadir)
            shutil.copy(tgt.srv.ca, os.path.join(cadir, "ca.pem"))
            r = sh(["openssl", "rehash", cadir])
            if r.returncode != 0:
                raise SystemExit("openssl rehash failed: %s" % r.stderr)
        cfg = os.path.join(home, "sendxmpprc")
        with open(cfg, "w") as f:
            f.write("username: alice\njserver: %s\nport: %d\npassword: %s\ncomponent: localhost\n"
                    % (tgt.host, tgt.port, tgt.srv.passwords["alice"]))
        os.chmod(cfg, 0o600)
        return ["sendxmpp", "-f", cfg, "-t", "-a", cadir], tgt.srv.env(password=False)

    def one(self, tgt, body, home):
        argv, env = self._base(tgt, home)
        return argv + ["bob@localhost"], env, (body + "\n").encode()

    def bulk(self, tgt, home):
        argv, env = self._base(tgt, home)
        return argv + ["-i", "bob@localhost"], env


class Slix(Tool):
    name = "slixmpp"
    trust = "`ca_certs=`CA, name pinned to the JID's domain"
    bulk_mode = "`--lines` (bench/slixsend.py)"
    confirms = "the server answered a ping sent after the last message"

    def version(self):
        return sh([xh.PY, "-c", "import slixmpp; print(slixmpp.__version__)"]).stdout.strip()

    def _argv(self, tgt):
        return [xh.PY, os.path.join(bu.HERE, "slixsend.py"), "--jid", "alice@localhost", "--host", tgt.host,
                "--port", str(tgt.port), "--ca", tgt.srv.ca]

    def one(self, tgt, body, home):
        return self._argv(tgt) + ["--message", body, "bob@localhost"], tgt.srv.env(), None

    def bulk(self, tgt, home):
        return self._argv(tgt) + ["--lines", "bob@localhost"], tgt.srv.env()


TOOLS = {t.name: t for t in (XmppSend(), XmppSendCold(), XmppSendDirect(), XmppSendFast(), XmppSendFastDirect(),
                             GoSendxmpp(), GoSendxmppDirect(), Sendxmpp(), Slix())}


# ---------------------------------------------------------------------------------------------
# measuring


def timed(argv, env, stdin=None, netns=None, timeout=900):
    """One run under GNU time: wall ms (fork to exit, as seen from here), CPU ms (user+sys of
    the whole process tree, from getrusage of the children), peak RSS KiB (GNU time's %M: the
    largest process of the tree), exit code. netns: an fd of the namespace to run it in."""
    def pre():
        if netns is not None:
            setns(netns)
    if isinstance(stdin, bytes):
        path = os.path.join(WORK, "stdin")
        with open(path, "wb") as f:
            f.write(stdin)
        stdin = path
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    before = __import__("resource").getrusage(__import__("resource").RUSAGE_CHILDREN)
    t0 = time.monotonic()
    try:
        r = subprocess.run(["/usr/bin/time", "-f", "XUBENCH %e %U %S %M"] + argv, env=env, stdin=fin,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout,
                           preexec_fn=pre, cwd=WORK)
        rc, err = r.returncode, r.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        rc, err = "timeout", (e.stderr or b"").decode("utf-8", "replace")
    wall = (time.monotonic() - t0) * 1000
    after = __import__("resource").getrusage(__import__("resource").RUSAGE_CHILDREN)
    if fin is not subprocess.DEVNULL:
        fin.close()
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    m = [x for x in err.splitlines() if x.startswith("XUBENCH ")]
    rss = int(m[-1].split()[4]) if m else 0
    if m and rc != "timeout":
        # GNU time exits with the command's status; "Command exited with non-zero status N"
        pass
    lines = [x for x in err.splitlines() if not x.startswith("XUBENCH ") and not x.startswith("Command exited with")]
    perl = [x for x in lines if "Use of uninitialized value" in x or x.endswith(".pm line %s." % x.split()[-1][:-1])]
    msg = "\n".join(x for x in lines if x not in perl)
    if perl:  # sendxmpp's XML::Stream warns on every run
        msg = ("%d Perl warnings (Use of uninitialized value in XML/Stream.pm) " % len(perl)) + msg
    return {"wall": wall, "cpu": cpu, "rss": rss, "rc": rc, "err": msg.strip()[-300:]}


def spread(walls):
    w = sorted(walls)
    if not w:
        return {}
    p90 = w[max(0, int(round(len(w) * 0.9)) - 1)]
    return {"median": statistics.median(w), "min": w[0], "p90": p90, "max": w[-1]}


def delivered(receiver, bodies, timeout=300):
    """How many of bodies the receiver got (each body unique), waiting up to timeout."""
    want = set(bodies)
    got = set()
    t_end = time.monotonic() + timeout
    while True:
        try:
            for m in receiver.sync(timeout=max(10, t_end - time.monotonic())):
                body = (m.get("body") or "").strip()  # sendxmpp keeps the line's newline
                if body in want:
                    got.add(body)
        except xh.Fail as e:
            print("# receiver: %s" % e, flush=True)
            break
        if len(got) == len(want) or time.monotonic() > t_end:
            break
        time.sleep(0.5)  # a tool that exits before the server routed everything: late ones
    return len(got)


def one_message_runs(tool, tgt, receiver, runs, tag, netns=None, capture=None):
    home = tgt.srv.run.mkdtemp("home-" + tool.name)
    samples, bodies = [], []
    for i in range(2):  # warm-up: page cache, Prosody's caches (not counted, not checked)
        argv, env, stdin = tool.one(tgt, "warm-up %s %d" % (tool.name, i), home)
        timed(argv, env, stdin, netns=netns)
    for i in range(runs):
        body = "%s %s one %d" % (tag, tool.name, i)
        bodies.append(body)
        argv, env, stdin = tool.one(tgt, body, home)
        samples.append(timed(argv, env, stdin, netns=netns))
    res = {"runs": runs, "samples": samples, "delivered": delivered(receiver, bodies, 60),
           "rcs": sorted(set(str(s["rc"]) for s in samples)),
           "wall": spread([s["wall"] for s in samples]),
           "cpu": statistics.median(s["cpu"] for s in samples),
           "rss": max(s["rss"] for s in samples),
           "errs": sorted(set(s["err"] for s in samples if s["err"]))[:3]}
    if capture is not None:
        body = "%s %s captured" % (tag, tool.name)
        argv, env, stdin = tool.one(tgt, body, home)
        res["capture"] = capture(lambda: timed(argv, env, stdin, netns=netns))
        res["capture"]["delivered"] = delivered(receiver, [body], 30)
    return res


def bulk_run(tool, tgt, receiver, n, tag):
    made = tool.bulk(tgt, tgt.srv.run.mkdtemp("home-bulk-" + tool.name))
    if made is None:
        return None
    argv, env = made
    bodies = ["%s %s bulk %05d: a line of text of a realistic length for a notification" % (tag, tool.name, i)
              for i in range(n)]
    path = os.path.join(WORK, "bulk-%s.txt" % tool.name)
    with open(path, "w") as f:
        f.write("".join(b + "\n" for b in bodies))
    s = timed(argv, env, path, timeout=1800)
    s["n"] = n
    s["delivered"] = delivered(receiver, bodies, 300)
    return s


# ---------------------------------------------------------------------------------------------
# the 50 ms link


class Link:
    """Two namespaces (server side, client side) joined by taprelay.py with DELAY_MS each way."""

    kind = "netns"
    device = "xbt1"

    def __init__(self):
        for ns in sh(["ip", "netns", "list"]).stdout.split("\n"):
            m = re.match(r"(xubench-[sc]-(\d+))\b", ns)
            if m and not os.path.exists("/proc/" + m.group(2)):
                sh(["ip", "netns", "del", m.group(1)])  # left by a run that was killed
        sfx = str(os.getpid())
        self.ns_s, self.ns_c = "xubench-s-" + sfx, "xubench-c-" + sfx
        self.relay = None
        self.made = []
        self.root_fd = os.open("/proc/self/ns/net", os.O_RDONLY)
        for ns in (self.ns_s, self.ns_c):
            r = sh(["ip", "netns", "add", ns])
            if r.returncode != 0:
                raise RuntimeError("ip netns add: %s" % r.stderr.strip())
            self.made.append(ns)
        self.relay = subprocess.Popen([xh.PY, os.path.join(bu.HERE, "taprelay.py"), self.ns_s, "xbt0", self.ns_c,
                                       "xbt1", str(DELAY_MS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True)
        line = self.relay.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError("taprelay: %s" % (self.relay.stderr.read().strip()[-300:] or "did not start"))
        for ns, dev, ip in ((self.ns_s, "xbt0", SRV_IP), (self.ns_c, "xbt1", CLI_IP)):
            for cmd in (["link", "set", "lo", "up"], ["addr", "add", ip + "/24", "dev", dev],
                        ["link", "set", dev, "up"]):
                r = sh(["ip", "-n", ns] + cmd)
                if r.returncode != 0:
                    raise RuntimeError("ip -n %s %s: %s" % (ns, " ".join(cmd), r.stderr.strip()))
        self.s_fd = os.open("/run/netns/" + self.ns_s, os.O_RDONLY)
        self.c_fd = os.open("/run/netns/" + self.ns_c, os.O_RDONLY)

    def server(self, run, sasl2=False):
        """A Prosody on the server side and the Target the clients use. This process enters
        the server's namespace (Prosody, its readiness probe, the receiver live there) until
        leave()."""
        setns(self.s_fd)
        srv = server(run, extra_ip=SRV_IP, sasl2=sasl2)
        return srv, Target(srv, SRV_IP)

    def leave(self):
        setns(self.root_fd)

    def describe(self):
        return ("Two network namespaces joined by TAP devices and bench/taprelay.py, which holds every Ethernet "
                "frame %d ms in each direction (the kernel has no netem); Prosody and the receiver in one "
                "namespace (%s), the clients in the other (%s)." % (DELAY_MS, SRV_IP, CLI_IP))

    def connect_ms(self, tgt, n=5):
        """TCP connect times from the client side to the server (1 RTT each on a real link), ms."""
        code = ("import socket,time\nfor i in range(%d):\n t=time.monotonic()\n"
                " s=socket.create_connection((%r,%d),timeout=5)\n print((time.monotonic()-t)*1000)\n"
                " s.close()\n" % (n + 1, tgt.host, tgt.port))
        r = subprocess.run([xh.PY, "-c", code], capture_output=True, text=True, preexec_fn=self._pre)
        vals = [float(x) for x in r.stdout.split()]
        return vals[1:]  # the first includes ARP

    def _pre(self):
        if self.c_fd is not None:
            setns(self.c_fd)

    def capture(self, port, pcap):
        """A function that runs fn() while tshark captures the c2s port on the client's device,
        then counts its round trips."""
        def cap(fn):
            tp = subprocess.Popen(["tshark", "-q", "-i", self.device, "-f", "tcp port %d" % port, "-w", pcap],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  preexec_fn=self._pre, text=True)
            t_end = time.monotonic() + 15
            buf = ""
            while "Capturing on" not in buf and time.monotonic() < t_end and tp.poll() is None:
                buf += tp.stderr.readline()
            time.sleep(0.3)
            s = fn()
            time.sleep(0.5)
            tp.send_signal(signal.SIGINT)
            try:
                tp.wait(10)
            except subprocess.TimeoutExpired:
                tp.kill()
            if os.path.exists(pcap):
                s.update(count_turns(pcap, port))
                if ARGS.pcap_dir:
                    os.makedirs(ARGS.pcap_dir, exist_ok=True)
                    shutil.copy(pcap, ARGS.pcap_dir)
            else:
                s["capture_error"] = buf.strip()[-200:] or "tshark wrote nothing"
            return s
        return cap

    def close(self):
        if self.relay is not None:
            try:
                self.relay.stdin.close()
                self.relay.wait(5)
            except Exception:  # noqa: BLE001
                self.relay.kill()
        for ns in self.made:
            sh(["ip", "netns", "del", ns])


class LoopLink(Link):
    """The fallback without namespaces: bench/tcpdelay.py on loopback in front of each c2s port."""

    kind = "loopback relay"
    device = "lo"

    def __init__(self, why):
        self.c_fd = None
        self.relays = []
        self.why = why

    def server(self, run, sasl2=False):
        srv = server(run, sasl2=sasl2)
        ports = []
        for target in (srv.port, srv.tls_port):
            port = xh.free_port()
            p = subprocess.Popen([xh.PY, os.path.join(bu.HERE, "tcpdelay.py"), str(port), str(target), str(DELAY_MS)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            self.relays.append(p)
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("tcpdelay.py did not start")
            ports.append(port)
        return srv, Target(srv, srv.host, ports[0], ports[1])

    def leave(self):
        pass

    def describe(self):
        return ("**Not a real link**: network namespaces could not be made (%s), so bench/tcpdelay.py on loopback "
                "relays each connection with %d ms in each direction. The relay answers the client's TCP handshake "
                "at once: that round trip is neither paid nor counted below, and wall times are about 50 ms "
                "shorter than on a real link." % (self.why, DELAY_MS))

    def close(self):
        for p in self.relays:
            p.terminate()
            p.wait(5)


def count_turns(pcap, port):
    """Round trips of one run, from its capture on the client side.

    A segment counts when it carries payload or SYN; consecutive counted segments in the same
    direction form a flight. A round trip is a client flight answered by a server flight: the
    number of times the direction turns from client to server, when the server's flight comes at
    least most of a link round trip after the client's last segment (one that comes sooner was
    sent before the client's could reach the server: the two crossed, as the TLS close_notify
    alerts of both sides do at the end). Pure ACKs and FINs are left out: no one waits for them."""
    r = sh(["tshark", "-r", pcap, "-T", "fields", "-e", "frame.time_relative", "-e", "tcp.srcport",
            "-e", "tcp.len", "-e", "tcp.flags.syn", "-e", "tcp.flags.fin"])
    flights, timeline = [], []
    first = last = None
    segs = 0
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) < 5 or not f[1]:
            continue
        t, src, ln, syn = float(f[0]), int(f[1]), int(f[2] or 0), f[3] in ("1", "True")
        if ln == 0 and not syn:
            continue
        segs += 1
        side = "s" if src == port else "c"
        if first is None:
            first = t
        last = t
        if not flights or flights[-1] != side:
            flights.append(side)
            timeline.append([side, (t - first) * 1000, 0, (t - first) * 1000])
        timeline[-1][2] += ln
        timeline[-1][3] = (t - first) * 1000  # the flight's last segment
    turns = sum(1 for a, b in zip(timeline, timeline[1:])
                if a[0] == "c" and b[0] == "s" and b[1] - a[3] >= 0.8 * 2 * DELAY_MS)
    return {"turns": turns, "flights": "".join(flights), "segments": segs,
            "timeline": " ".join("%s%.0f:%s" % (sd, tm, ("SYN" if i < 2 and not n else n))
                                 for i, (sd, tm, n, _) in enumerate(timeline)),
            "wire_ms": ((last - first) * 1000) if first is not None else None}


# ---------------------------------------------------------------------------------------------
# the run


def build_floor():
    exe = os.path.join(WORK, "floor")
    pc = sh(["pkg-config", "--cflags", "--libs", "gnutls", "libidn2", "libxml-2.0", "popt"])
    r = sh(["cc", "-O2", "-o", exe, os.path.join(bu.HERE, "floor.c")] + pc.stdout.split())
    if r.returncode != 0:
        raise SystemExit("cannot build the floor program: %s" % r.stderr)
    return exe


def machine():
    cpu = "?"
    for line in sh(["lscpu"]).stdout.splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "mem": sh(["free", "-g"]).stdout.split("\n")[1].split()[1] + " GiB",
            "os": (open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "?")}


def versions(tools):
    v = {t.name: t.version() for t in tools if " " not in t.name}
    v["Prosody"] = sh(["dpkg-query", "-W", "-f", "${Version}", "prosody"]).stdout.strip()
    for lib, pkg in (("GnuTLS", "gnutls"), ("libxml2", "libxml-2.0")):
        v[lib] = sh(["pkg-config", "--modversion", pkg]).stdout.strip()
    v["tshark"] = sh(["dpkg-query", "-W", "-f", "${Version}", "tshark"]).stdout.strip()
    return v


class LinkProsody(xh.Prosody):
    """The harness's Prosody, also listening on the server's address on the emulated link
    (Prosody 0.12 chokes on a second `interfaces` line, so the written one is changed)."""

    def _write_config(self):
        super()._write_config()
        with open(self.cfg) as f:
            cfg = f.read()
        cfg, n = re.subn(r'^interfaces = \{ "127\.0\.0\.1" \}$', 'interfaces = { "127.0.0.1", "%s" }' % SRV_IP,
                         cfg, count=1, flags=re.M)
        if n != 1:
            raise RuntimeError("no interfaces line in the Prosody config")
        with open(self.cfg, "w") as f:
            f.write(cfg)


def server(run, extra_ip=None, sasl2=False):
    """sasl2: with prosody-modules' SASL2, Bind2 and FAST (the harness's knobs)."""
    return (LinkProsody if extra_ip else xh.Prosody)(run, users=("alice", "bob"),
                                                    **(xh.sasl2_knobs() if sasl2 else {}))


def summary(what, r):
    if r is None:
        print("#   %s: none" % what, flush=True)
        return
    if "samples" in r:
        print("#   %s: wall median %.1f ms, cpu %.1f ms, rss %d KiB, rc %s, delivered %d of %d%s%s" % (
            what, r["wall"]["median"], r["cpu"], r["rss"], ",".join(r["rcs"]), r["delivered"], r["runs"],
            (" capture %r" % {k: r["capture"].get(k) for k in ("turns", "flights", "wire_ms", "rc", "delivered")})
            if r.get("capture") else "", (" errs %r" % r["errs"]) if r["errs"] else ""), flush=True)
    else:
        print("#   %s: %r" % (what, {k: v for k, v in r.items() if k != "samples"}), flush=True)


def main():
    global WORK
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (namespaces, servers) first
    tools = [TOOLS[n] for n in ARGS.tools.split(",")]
    run = xh.Run("bench-compare")
    WORK = run.mkdtemp("work")
    R = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_start": loadavg(),
         "machine": machine(), "versions": versions(tools), "args": vars(ARGS), "one": {}, "bulk": {},
         "rtt": {}, "notes": []}
    tag = "cmp%d" % os.getpid()
    link = None
    try:
        # the server certificate also names the server's address on the emulated link
        pki = run.pki()
        pki._cache["server"] = pki._leaf("server", "ca", xh.SERVER_NAMES, xh.SERVER_IPS + [SRV_IP])
        srv = server(run)
        tgt = Target(srv, srv.host)
        rcv = srv.receiver("bob")
        floor = build_floor()
        print("# floor program", flush=True)
        R["floors"] = {}
        for what, argv in (("system trust store", [floor]), ("CA file, as --cafile", [floor, srv.ca])):
            fl = [timed(argv, srv.env()) for _ in range(ARGS.runs + 2)][2:]
            R["floors"][what] = {"wall": spread([s["wall"] for s in fl]), "runs": len(fl),
                                 "cpu": statistics.median(s["cpu"] for s in fl),
                                 "rss": max(s["rss"] for s in fl), "rcs": sorted(set(str(s["rc"]) for s in fl))}
            summary("floor, " + what, R["floors"][what])
        for t in [t for t in tools if not t.sasl2]:
            print("# one message, loopback: %s" % t.name, flush=True)
            R["one"][t.name] = one_message_runs(t, tgt, rcv, ARGS.runs, tag)
            summary(t.name, R["one"][t.name])
        fast = [t for t in tools if t.sasl2]
        if fast and xh.sasl2_missing():
            R["notes"].append("Not measured: %s: %s." % (", ".join(t.name for t in fast), xh.sasl2_missing()))
            fast = []
        if fast:
            srv2 = server(run, sasl2=True)
            rcv2 = srv2.receiver("bob")
            for t in fast:
                print("# one message, loopback: %s" % t.name, flush=True)
                R["one"][t.name] = one_message_runs(t, Target(srv2, srv2.host), rcv2, ARGS.runs, tag)
                summary(t.name, R["one"][t.name])
            rcv2.stop()
            srv2.stop()
        for t in [t for t in tools if t.bulk_mode] if ARGS.bulk else ():
            print("# bulk %d: %s" % (ARGS.bulk, t.name), flush=True)
            R["bulk"][t.name] = bulk_run(t, tgt, rcv, ARGS.bulk, tag)
            summary(t.name, R["bulk"][t.name])
        rcv.stop()
        if ARGS.listen:
            print("# xmpp-listen flood %d" % ARGS.listen, flush=True)
            R["listen"] = blisten.flood(srv, ARGS.listen)
            summary("xmpp-listen", R["listen"])
        srv.stop()
        R["load_mid"] = loadavg()
        why = None
        if ARGS.link == "none":
            R["rtt_missing"] = "skipped (--link none)"
        elif ARGS.link == "loopback":
            why = "--link loopback"
        elif os.geteuid() != 0:
            why = "not root"
        else:
            try:
                link = Link()
            except (RuntimeError, OSError) as e:
                why = str(e)
        if link is None and why is not None:
            if ARGS.link == "netns":
                R["rtt_missing"] = "cannot make the namespaces and the TAP link: %s" % why
            else:
                link = LoopLink(why)
        if link is not None:
            try:
                for sasl2 in (False, True):
                    group = [t for t in tools if t.sasl2 == sasl2 and (not sasl2 or t.name in R["one"])]
                    if not group:
                        continue
                    srv2, tgt2 = link.server(run, sasl2=sasl2)
                    rcv2 = srv2.receiver("bob")
                    R["link"] = link.describe()
                    R.setdefault("link_connect_ms", link.connect_ms(tgt2))
                    for t in group:
                        print("# one message, 50 ms RTT: %s" % t.name, flush=True)
                        cap = link.capture(t.port(tgt2), os.path.join(WORK, "%s.pcap" % re.sub(r"\W", "", t.name)))
                        R["rtt"][t.name] = one_message_runs(t, tgt2, rcv2, ARGS.rtt_runs, tag + "rtt",
                                                            netns=link.c_fd, capture=cap)
                        summary(t.name, R["rtt"][t.name])
                    rcv2.stop()
                    srv2.stop()
            finally:
                link.leave()
        R["load_end"] = loadavg()
        R["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        write_md(R, tools)
        print("# wrote %s" % OUT)
    finally:
        if link is not None:
            link.close()
        run.cleanup()


# ---------------------------------------------------------------------------------------------
# the report


def ms(v):
    return "%.0f ms" % v if v >= 100 else "%.1f ms" % v


def write_md(R, tools):
    m, v = R["machine"], R["versions"]
    L = []
    a = L.append
    a("# Benchmarks: xmpp-send side by side")
    a("")
    a("Generated by `sudo bench/compare.py BUILD_DIR` (%s to %s); do not edit by hand." % (R["started"], R["finished"]))
    a("Options: %d one-message runs per tool on loopback, %d over the 50 ms link, %d messages in bulk, "
      "%d in the listen flood." % (ARGS.runs, ARGS.rtt_runs, ARGS.bulk, ARGS.listen))
    a("")
    a("Machine: %s, %d cores, %s, Linux %s, Debian %s. Load average (1, 5, 15 min) at the start %s, after "
      "the loopback part %s, at the end %s: a load near or above the core count means the figures were "
      "taken on a busy machine." % (m["cpu"], m["cores"], m["mem"], m["kernel"], m["os"], R["load_start"],
                                    R.get("load_mid", "?"), R["load_end"]))
    a("")
    a("Versions: " + ", ".join("%s %s" % (k, val) for k, val in v.items()) + ".")
    a("")
    a("Server: Prosody from tests/integration/xuharness.py (STARTTLS required, SCRAM-SHA-1, XEP-0198, MAM "
      "on), one throwaway instance per part; an independent slixmpp receiver (bob) counts every message "
      "(each body unique). The `SASL2+FAST` rows use a second instance that also runs prosody-modules' "
      "mod_sasl2, mod_sasl2_bind2 and mod_sasl2_fast (with tests/integration/prosody-sasl2's shims for 0.12); "
      "their first warm-up run logs in with SCRAM and gets a FAST token, every measured run uses it. "
      "Certificate checks stay on for every tool:")
    a("")
    for n in R["notes"]:
        a(n)
        a("")
    for t in tools:
        a("- %s: %s" % (t.name, t.trust))
    a("")
    a("## One message from a fresh process, loopback")
    a("")
    a("Wall: fork to exit as seen by the benchmark, GNU time's own exec included (about 1 ms, the same in "
      "every row; median, min to p90 over the runs, after 2 warm-up runs). "
      "CPU: user+sys of the process tree (median). RSS: peak resident set of the largest process (GNU "
      "time `%M`, max). The floor program (bench/floor.c) only loads xmpp-send's libraries (libxml2, "
      "GnuTLS, libidn2, popt), initialises them and loads the system trust store (first row) or, as "
      "`xmpp-send --cafile` does instead, the test CA file (second row), then exits.")
    a("")
    a("| tool | wall median | wall min – p90 | client CPU | peak RSS | exit codes | delivered |")
    a("|---|---|---|---|---|---|---|")
    for what, fl in R.get("floors", {}).items():
        a("| floor program, %s | %s | %s – %s | %.1f ms | %d KiB | %s | – |" % (
            what, ms(fl["wall"]["median"]), ms(fl["wall"]["min"]), ms(fl["wall"]["p90"]), fl["cpu"], fl["rss"],
            ",".join(fl["rcs"])))
    for t in tools:
        r = R["one"].get(t.name)
        if not r:
            continue
        a("| %s | %s | %s – %s | %.1f ms | %d KiB | %s | %d of %d |" % (
            t.name, ms(r["wall"]["median"]), ms(r["wall"]["min"]), ms(r["wall"]["p90"]), r["cpu"], r["rss"],
            ",".join(r["rcs"]), r["delivered"], r["runs"]))
    a("")
    a("## %d messages in one process" % ARGS.bulk)
    a("")
    a("Each tool's bulk mode reads one message per line of stdin. Rate: messages over the process's wall "
      "time (login included); CPU per message: the process tree's user+sys over the messages, and the same "
      "less the tool's median CPU for one message (login and start-up) from the first table. What exit 0 "
      "tells about the messages differs: " + "; ".join("%s: %s" % (t.name, t.confirms) for t in tools
                                                       if t.bulk_mode) + ". A tool that confirms nothing "
      "is done when its last write returns; the server may still be working through them.")
    a("")
    a("| tool | mode | wall | messages/s | CPU total | CPU per message | same, login excluded | peak RSS | "
      "exit code | delivered |")
    a("|---|---|---|---|---|---|---|---|---|---|")
    for t in [t for t in tools if t.bulk_mode]:
        b = R["bulk"].get(t.name)
        if not b:
            a("| %s | none | | | | | | | |" % t.name)
            continue
        one = R["one"].get(t.name)
        a("| %s | %s | %.2f s | %.0f | %.2f s | %.1f µs | %s | %d KiB | %s | %d of %d |" % (
            t.name, t.bulk_mode, b["wall"] / 1000, b["n"] / (b["wall"] / 1000), b["cpu"] / 1000,
            b["cpu"] * 1000 / b["n"], ("%.1f µs" % ((b["cpu"] - one["cpu"]) * 1000 / b["n"])) if one else "?",
            b["rss"], b["rc"], b["delivered"], b["n"]))
    a("")
    lr = R.get("listen")
    if lr:
        a("## xmpp-listen under a flood")
        a("")
        a("`xmpp-send --lines` floods %d messages to `xmpp-listen -f json -n %d` (stdout to a file whose "
          "lines are counted); rate from the first line sent to the listener's exit (bounded by Prosody's "
          "routing too), listener CPU and peak RSS from GNU time." % (lr["count"], lr["count"]))
        a("")
        a("| messages | printed | messages/s | listener CPU | CPU per message | peak RSS | exit code |")
        a("|---|---|---|---|---|---|---|")
        a("| %d | %d | %.0f | %.2f s | %.1f µs | %d KiB | %s |" % (
            lr["count"], lr["delivered"], lr["rate"], lr["cpu"], lr["cpu"] * 1e6 / lr["count"], lr["rss"], lr["rc"]))
        a("")
    a("## One message from a fresh process over a 50 ms round trip")
    a("")
    if R.get("rtt_missing"):
        a("Not measured: %s." % R["rtt_missing"])
    else:
        c = R.get("link_connect_ms") or []
        a("%s TCP connect time measured across the link: %s (median of %d)." % (
            R["link"], ms(statistics.median(c)) if c else "?", len(c)))
        a("")
        a("Round trips are counted from a tshark capture of one more run per tool on the client's device: "
          "segments carrying payload or SYN, grouped into flights by direction; a round trip is a client "
          "flight answered by a server flight (the turns from client to server; a server flight that arrives "
          "sooner than 0.8 of the link's round trip after the client's last segment crossed it and answers "
          "nothing, like the two sides' TLS close_notify alerts at the end). Pure ACKs and FINs are "
          "left out (nobody waits for them). Wire time: first to last counted segment of that run; wire time "
          "over the link's round trip (%d ms) shows what the waiting cost: more than the round trips counted "
          "means stalls inside a flight, such as Prosody's second write of a reply held by Nagle's algorithm "
          "until the client's ACK of the first comes back (one more round trip that this count does not "
          "see)." % (2 * DELAY_MS))
        a("")
        a("| tool | wall median | wall min – p90 | client CPU | round trips | wire time | wire time / RTT | "
          "flights (c/s) | exit codes | delivered |")
        a("|---|---|---|---|---|---|---|---|---|---|")
        for t in tools:
            r = R["rtt"].get(t.name)
            if not r:
                continue
            cp = r.get("capture", {})
            a("| %s | %s | %s – %s | %.1f ms | %s | %s | %s | `%s` | %s | %d of %d |" % (
                t.name, ms(r["wall"]["median"]), ms(r["wall"]["min"]), ms(r["wall"]["p90"]), r["cpu"],
                cp.get("turns", "?"), ms(cp["wire_ms"]) if cp.get("wire_ms") is not None else "?",
                "%.1f" % (cp["wire_ms"] / (2 * DELAY_MS)) if cp.get("wire_ms") is not None else "?",
                cp.get("flights", ""), ",".join(r["rcs"] + ([str(cp.get("rc"))] if cp else [])),
                r["delivered"] + cp.get("delivered", 0), r["runs"] + (1 if cp else 0)))
        a("")
        a("Flights of the captured run (side, ms since the SYN, payload bytes; c = client, s = server):")
        a("")
        for t in tools:
            cp = R["rtt"].get(t.name, {}).get("capture")
            if cp:
                a("- %s: `%s`" % (t.name, cp.get("timeline", "")))
    a("")
    a("## Issue 7's targets, against this run")
    a("")
    for line in targets(R):
        a("- " + line)
    a("")
    a("## What the remaining round trips are")
    a("")
    a("xmpp-send pipelines what the server's answers cannot change: `<starttls/>` with the first header; "
      "with the per-account cache (the `xmpp-send` rows; `--no-cache` is a first contact every time), the "
      "SCRAM `<auth/>` with the header after the TLS handshake, and the restart header, bind, `<enable/>`, "
      "the messages and `<r/>` in one flight after `<success/>`. What is left, flight by flight in the "
      "timelines above:")
    a("")
    a("- TCP (1), TLS 1.3 (1), header and `<auth/>` → features and challenge (1), client-final → success "
      "(1), the pipelined flight → bind result, `<enabled/>`, `<a/>` (1): the design's 5 for direct TLS; "
      "STARTTLS adds 1 (header and `<starttls/>` → features and `<proceed/>`).")
    a("- **Closing (1 more)**: `</stream:stream>` goes out only after the server's `<a/>`, and the run waits "
      "for the server's closing tag. Sending it in the same flight as `<r/>` saves this round trip against "
      "Prosody, but ejabberd routes error bounces (and ping answers) through other processes: with the close "
      "pipelined, the 'no such user' error never came back and xmpp-send exited 0 instead of 69 "
      "(tests/integration/test-send-failures caught it). Reporting refusals is worth the round trip.")
    a("- **Prosody's Nagle stall (1 more, not counted as a turn)**: after the TLS handshake OpenSSL sends a "
      "small NewSessionTicket record first; Prosody's stream header and features then wait in its kernel "
      "for the client's ACK of that segment (Nagle's algorithm, left on by Prosody 0.12), a full round trip "
      "on this link. The client cannot avoid it: disabling tickets on our side "
      "(GnuTLS `GNUTLS_NO_TICKETS`) does not stop OpenSSL from sending one, and the ticket is of no use "
      "for resumption either (`gnutls-cli --resume` against this Prosody gets a full handshake).")
    a("- **SASL2 + Bind2 + FAST** (XEP-0388/0386/0484, the `SASL2+FAST` rows): with a cached token, the "
      "`<authenticate/>` (the token's HMAC, Bind2 and the user-agent id) goes with the header after the TLS "
      "handshake and comes back as `<success/>` with the bound JID and the new features in one turn; "
      "`<enable/>`, the messages and `<r/>` follow: TCP, TLS, authenticate, messages: 4 for direct TLS, 5 "
      "with STARTTLS, plus the closing turn.")
    errs = [(t, r["errs"]) for t, r in list(R["one"].items()) + list(R["rtt"].items()) if r.get("errs")]
    if errs:
        a("")
        a("## Messages on stderr (first few distinct)")
        a("")
        for t, e in errs:
            for x in e:
                a("- %s: `%s`" % (t, x.replace("\n", " ")[:200]))
    a("")
    with open(OUT, "w") as f:
        f.write("\n".join(L))


def targets(R):
    out = []
    one, rtt, bulk = R["one"], R["rtt"], R["bulk"]
    fl = R.get("floors", {}).get("CA file, as --cafile")
    xs = one.get("xmpp-send")
    go = one.get("go-sendxmpp")

    def verdict(ok):
        return "**met**" if ok else "**not met**"
    if xs and go:
        q = xs["wall"]["median"] / go["wall"]["median"]
        out.append("Loopback wall under a third of go-sendxmpp's: %s / %s = %.2f: %s" % (
            ms(xs["wall"]["median"]), ms(go["wall"]["median"]), q, verdict(q < 1 / 3)))
    if xs:
        others = [(n, r) for n, r in one.items() if not n.startswith("xmpp-send")]
        if others:
            ok = all(xs["cpu"] < r["cpu"] and xs["rss"] < r["rss"] for _, r in others)
            out.append("Client CPU and peak RSS below every other tool's: %.1f ms, %d KiB vs %s: %s" % (
                xs["cpu"], xs["rss"], ", ".join("%s %.1f ms, %d KiB" % (n, r["cpu"], r["rss"]) for n, r in others),
                verdict(ok)))
        if fl:
            qc, qr = xs["cpu"] / max(fl["cpu"], 0.001), xs["rss"] / max(fl["rss"], 1)
            out.append("Within 1.5 times the floor that loads a CA file as xmpp-send --cafile does: CPU %.2f×, "
                       "RSS %.2f×: %s" % (qc, qr, verdict(qc <= 1.5 and qr <= 1.5)))
            cold = one.get("xmpp-send --no-cache")
            if cold:
                out.append("The same on a first contact (`--no-cache`: PBKDF2 runs, nothing pipelined from the "
                           "cache): CPU %.2f×, RSS %.2f×: %s" % (
                               cold["cpu"] / max(fl["cpu"], 0.001), cold["rss"] / max(fl["rss"], 1),
                               verdict(cold["cpu"] <= 1.5 * fl["cpu"] and cold["rss"] <= 1.5 * fl["rss"])))
    xr, gr = rtt.get("xmpp-send"), rtt.get("go-sendxmpp")
    for name, floor_rt, what in (("xmpp-send", 6, "SCRAM, STARTTLS"), ("xmpp-send --direct-tls", 5, "SCRAM"),
                                 ("xmpp-send SASL2+FAST", 5, "STARTTLS"),
                                 ("xmpp-send --direct-tls SASL2+FAST", 4, "direct TLS")):
        r = rtt.get(name)
        if r:
            turns = r.get("capture", {}).get("turns")
            out.append("50 ms RTT, %s (%s): at most %d round trips, the closing turn included: %s measured "
                       "(%s to the server's acknowledgement, then the closing turn xmpp-send spends to hear "
                       "late refusals, see below): %s" % (
                           name, what, floor_rt, turns, turns - 1 if turns else "?",
                           verdict(turns is not None and turns <= floor_rt)))
    if xr:
        if gr:
            q = xr["wall"]["median"] / gr["wall"]["median"]
            out.append("50 ms RTT wall under half of go-sendxmpp's: %s / %s = %.2f: %s" % (
                ms(xr["wall"]["median"]), ms(gr["wall"]["median"]), q, verdict(q < 0.5)))
    xb = bulk.get("xmpp-send")
    if xb:
        mine = xb["n"] / (xb["wall"] / 1000)
        for what, cond in (("that delivered all", lambda b: True),
                           ("that delivered all with exit 0", lambda b: str(b["rc"]) == "0")):
            rates = {n: b["n"] / (b["wall"] / 1000) for n, b in bulk.items()
                     if b and not n.startswith("xmpp-send") and b["delivered"] == b["n"] and cond(b)}
            if rates:
                best = max(rates.items(), key=lambda kv: kv[1])
                out.append("%d messages at least the rate of the fastest other tool %s (%s, %.0f/s): %.0f/s: %s"
                           % (xb["n"], what, best[0], best[1], mine, verdict(mine >= best[1])))
        us = xb["cpu"] * 1000 / xb["n"]
        out.append("Client CPU under 10 µs per message in bulk: %.1f µs (login included): %s" % (us, verdict(us < 10)))
        if xs:
            us = (xb["cpu"] - xs["cpu"]) * 1000 / xb["n"]
            out.append("The same, login excluded (less one message's CPU): %.1f µs: %s" % (us, verdict(us < 10)))
        out.append("Every bulk message delivered by xmpp-send: %d of %d: %s" % (
            xb["delivered"], xb["n"], verdict(xb["delivered"] == xb["n"])))
    lost = []
    for part, res in (("loopback", one), ("50 ms", rtt)):
        for n, r in res.items():
            want = r["runs"] + (1 if r.get("capture") else 0)
            got = r["delivered"] + (r.get("capture", {}).get("delivered", 0))
            rcs = set(r["rcs"]) | ({str(r["capture"]["rc"])} if r.get("capture") else set())
            if got != want or rcs != {"0"}:
                lost.append("%s %s: %d of %d delivered, exit codes %s" % (n, part, got, want, ",".join(sorted(rcs))))
    for n, b in bulk.items():
        if b and (b["delivered"] != b["n"] or str(b["rc"]) != "0"):
            lost.append("%s bulk: %d of %d delivered, exit code %s" % (n, b["delivered"], b["n"], b["rc"]))
    out.append("Nothing lost, exit 0 everywhere: %s" % ("yes" if not lost else "no: " + "; ".join(lost)))
    return out


WORK = None

if __name__ == "__main__":
    sys.exit(main())
