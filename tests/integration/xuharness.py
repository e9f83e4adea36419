"""Integration test harness: throwaway CA, private Prosody, slixmpp peers, PASS/FAIL lines (RFC 6120 c2s on 127.0.0.1).

Use from a test script:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import xuharness as xh

    @xh.needs("prosody", "slixmpp", "pki")   # else exit 125 "SKIP: prosody not installed"
    def main(t):
        xh.require_send()                      # exit 125 "SKIP: xmpp-send not built" if missing
        with xh.Prosody(t, users=("alice", "bob")) as srv:   # started now, stopped on exit
            with srv.receiver("bob") as bob:
                with t.case("plain"):          # prints PASS plain / FAIL plain: why
                    rc, out, err = srv.run_send(["bob@localhost", "-m", "hi"])
                    xh.expect_rc(rc, 0, err)
                    xh.expect_messages(bob.collect(1), [{"body": "hi", "from": "alice@localhost"}])

    xh.main(main)

Everything lives under one temporary directory per script (removed at exit unless
XU_IT_KEEP=1); every child process is stopped in a finally/atexit path and also gets
PR_SET_PDEATHSIG so nothing outlives a killed harness. Nothing listens or connects anywhere
but 127.0.0.1. Environment knobs: XU_BIN_DIR, XU_SRC_DIR, XU_IT_KEEP=1, XU_IT_DEBUG=1
(Prosody debug log + keep), XU_IT_WRAPPER (prefix for xmpp-send and xmpp-listen, e.g.
"valgrind -q").

For xmpp-listen: srv.peer(user, resource) is an interactive slixmpp client (peer.py: raw
stanzas, IQs, collected messages), srv.listener(args) runs xmpp-listen and splits its stdout
into records, lis.online(peer) waits until it answers a ping, srv.restart() stops Prosody and
starts it again on the same ports and data.
"""

import atexit
import base64
import contextlib
import ctypes
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import struct
import sys
import tempfile
import threading
import time

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
SRC_DIR = os.environ.get("XU_SRC_DIR") or os.path.dirname(os.path.dirname(HERE))
BIN_DIR = os.environ.get("XU_BIN_DIR") or os.path.join(SRC_DIR, "build")
DEBUG = os.environ.get("XU_IT_DEBUG") == "1"
KEEP = DEBUG or os.environ.get("XU_IT_KEEP") == "1"
DOMAIN = "localhost"
LOOPBACK = "127.0.0.1"
SEND = "xmpp-send"
LISTEN = "xmpp-listen"
PRESENCE = "xmpp-presence"
ROSTER = "xmpp-roster"
MUC = "xmpp-muc"

# Hosts every server certificate must cover (see /work/shared/notes/servers.md).
SERVER_NAMES = ["localhost", "conference.localhost", "upload.localhost", "example.test",
                "conference.example.test", "upload.example.test"]
SERVER_IPS = ["127.0.0.1", "::1"]


class SkipAll(Exception):
    """The whole script cannot run (exit 125)."""


class Skip(Exception):
    """One case cannot run here."""


class Fail(AssertionError):
    """One case failed; the message says why."""


def check(cond, why):
    if not cond:
        raise Fail(why)


# ---------------------------------------------------------------------------------------------
# Child processes

_PR_SET_PDEATHSIG = 1
try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - every Linux libc has prctl
    _LIBC = None


def _child_setup(new_session, deathsig=signal.SIGTERM):
    # Runs in the child between fork and exec: if the harness dies (even SIGKILL from a ctest
    # timeout) the kernel signals the child, so no server or client is left behind.
    def setup():
        if new_session:
            os.setsid()
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, int(deathsig), 0, 0, 0)
    return setup


def stop_process(proc, term_wait=5.0):
    """SIGTERM, wait up to term_wait, then SIGKILL. Safe to call twice."""
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=term_wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on right now (bind to port 0, then close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def tail(path, lines=25):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no %s)" % path


# ---------------------------------------------------------------------------------------------
# Test run: temp dir, results, cleanup


class Run:
    """One test script: its temp dir, its processes, its PASS/FAIL/SKIP counts."""

    def __init__(self, name):
        self.name = name
        self.root = tempfile.mkdtemp(prefix="xu-it-%s-" % name)
        os.chmod(self.root, 0o755)  # a non-root Prosody user may need to traverse it
        self.passed = self.failed = self.skipped = 0
        self._cleanups = []
        self._pki = None
        self._seq = 0
        self.started = time.monotonic()

    def mkdtemp(self, prefix):
        self._seq += 1
        d = os.path.join(self.root, "%s-%d" % (prefix, self._seq))
        os.makedirs(d, mode=0o700)
        return d

    def at_cleanup(self, fn):
        self._cleanups.append(fn)

    def pki(self):
        if self._pki is None:
            self._pki = PKI(os.path.join(self.root, "pki"))
        return self._pki

    def cleanup(self):
        while self._cleanups:
            fn = self._cleanups.pop()
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - cleanup must go on
                print("# cleanup: %r" % (e,), flush=True)
        if self.root is None:
            return
        if KEEP:
            print("# kept %s" % self.root, flush=True)
        else:
            shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    @contextlib.contextmanager
    def case(self, name):
        """with t.case("name"): ... prints PASS/FAIL/SKIP; a failure does not stop the script."""
        t0 = time.monotonic()
        try:
            yield
        except Skip as e:
            self.skipped += 1
            print("SKIP %s: %s" % (name, e), flush=True)
        except Fail as e:
            self.failed += 1
            print("FAIL %s: %s" % (name, _one_line(str(e))), flush=True)
            _print_detail(e)
        except SkipAll:
            raise
        except Exception as e:  # noqa: BLE001 - an unexpected error fails this case only
            self.failed += 1
            print("FAIL %s: %s: %s" % (name, type(e).__name__, _one_line(str(e))), flush=True)
            _print_detail(e)
        else:
            self.passed += 1
            print("PASS %s" % name, flush=True)
        took = time.monotonic() - t0
        if took > 2.0:
            print("# %s took %.1fs" % (name, took), flush=True)

    def note(self, text):
        """An informational line (not a result), prefixed with '# '."""
        for line in str(text).splitlines() or [""]:
            print("# " + line, flush=True)

    def summary(self):
        print("# %s: %.1fs" % (self.name, time.monotonic() - self.started), flush=True)
        print("%d passed, %d failed, %d skipped" % (self.passed, self.failed, self.skipped), flush=True)
        return 1 if self.failed else 0


def _one_line(s):
    first = s.strip().splitlines()[0] if s.strip() else ""
    return first[:400]


def _print_detail(e):
    lines = str(e).strip().splitlines()[1:]
    for line in lines[:40]:
        print("#   " + line, flush=True)


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


def write_results(name, section, rows, figures=()):
    """$XU_RESULTS_DIR/NAME.json for tests/RESULTS.md (nothing when XU_RESULTS_DIR is unset):
    rows = cases per group ({group, tried, passed, failed, skipped, note}), figures = measured
    numbers ({name, value, note})."""
    d = os.environ.get("XU_RESULTS_DIR")
    if not d:
        return None
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name + ".json")
    with open(path, "w") as f:
        json.dump({"section": section, "rows": list(rows), "figures": list(figures)}, f, indent=1)
        f.write("\n")
    return path


def _ejabberd_results(name, t, code, skipped_all=None):
    """Against ejabberd, each script's counts go to the "ejabberd" section (NAME-ejabberd.json)."""
    try:
        if os.environ.get("XU_IT_SERVER") != "ejabberd":
            return
        row = {"group": name, "tried": t.passed + t.failed + t.skipped, "passed": t.passed,
               "failed": t.failed, "skipped": t.skipped,
               "note": ("whole script skipped: %s" % skipped_all) if skipped_all else ""}
        write_results(name + "-ejabberd", "ejabberd", [row], [
            {"name": "%s wall time against ejabberd" % name, "value": "%.1f s" % (time.monotonic() - t.started),
             "note": "exit %d" % code}])
    except Exception as e:  # noqa: BLE001 - results are a by-product, never a failure
        print("# results not written: %r" % (e,), flush=True)


def main(fn, name=None):
    """Run fn(run) with cleanup and exit with 0 / 1 / 125."""
    name = name or os.path.basename(sys.argv[0])
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        need_tools = getattr(fn, "xu_needs", ())
        for tool in need_tools:
            require_tool(tool)
        t = Run(name)
    except SkipAll as e:
        print("SKIP: %s" % e, flush=True)
        sys.exit(125)
    atexit.register(t.cleanup)
    code = 1
    try:
        fn(t)
        code = t.summary()
    except SkipAll as e:
        if t.passed or t.failed:
            t.failed += 1
            print("FAIL %s: cannot go on: %s" % (name, e), flush=True)
            code = t.summary()
        else:
            print("SKIP: %s" % e, flush=True)
            code = 125
            _ejabberd_results(name, t, code, skipped_all=str(e))
    except SystemExit as e:
        print("FAIL %s: interrupted (%s)" % (name, e.code), flush=True)
        t.failed += 1
        code = t.summary()
    except BaseException as e:  # noqa: BLE001 - report, then clean up
        import traceback
        t.failed += 1
        print("FAIL %s: harness error: %s: %s" % (name, type(e).__name__, _one_line(str(e))), flush=True)
        for line in traceback.format_exc().splitlines():
            print("#   " + line, flush=True)
        code = t.summary()
    finally:
        t.cleanup()
    if code != 125:
        _ejabberd_results(name, t, code)
    sys.exit(code)


def require_tool(tool):
    if tool == "server":
        tool = server_kind()
    if tool == "ejabberd":
        if not os.access(EJABBERDCTL, os.X_OK) or not shutil.which("erl"):
            raise SkipAll("ejabberd not installed")
    elif tool == "prosody":
        if not shutil.which("prosody") or not shutil.which("prosodyctl"):
            raise SkipAll("prosody not installed")
    elif tool == "slixmpp":
        if not os.access(PY, os.X_OK):
            raise SkipAll("%s missing" % PY)
        r = subprocess.run([PY, "-c", "import slixmpp"], capture_output=True)
        if r.returncode != 0:
            raise SkipAll("slixmpp not importable by %s" % PY)
    elif tool in ("certtool", "pki"):
        if not shutil.which("certtool") and not shutil.which("openssl"):
            raise SkipAll("neither certtool (gnutls-bin) nor openssl installed")
    else:
        if not shutil.which(tool):
            raise SkipAll("%s not installed" % tool)


def needs(*tools):
    """Decorator for the script's main: tools whose absence makes the script exit 125."""
    def deco(fn):
        fn.xu_needs = tools
        return fn
    return deco


def send_path():
    return os.path.join(BIN_DIR, SEND)


def require_send():
    p = send_path()
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        raise SkipAll("xmpp-send not built (no %s)" % p)
    return p


def listen_path():
    return os.path.join(BIN_DIR, LISTEN)


def roster_path():
    return os.path.join(BIN_DIR, ROSTER)


def muc_path():
    return os.path.join(BIN_DIR, MUC)


def require_muc():
    p = muc_path()
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        raise SkipAll("xmpp-muc not built (no %s)" % p)
    return p


def require_roster():
    p = roster_path()
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        raise SkipAll("xmpp-roster not built (no %s)" % p)
    return p


def require_listen():
    p = listen_path()
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        raise SkipAll("xmpp-listen not built (no %s)" % p)
    return p


def presence_path():
    return os.path.join(BIN_DIR, PRESENCE)


def require_presence():
    p = presence_path()
    if not (os.path.isfile(p) and os.access(p, os.X_OK)):
        raise SkipAll("xmpp-presence not built (no %s)" % p)
    return p


# ---------------------------------------------------------------------------------------------
# Certificates


class PKI:
    """A throwaway CA and server certificates (ECDSA P-256), made on first use and cached.

    cert(kind) -> (crt, key) for kind in:
      server      from the CA, for SERVER_NAMES and SERVER_IPS
      wrong_name  from the CA, for wrong.example only
      other_ca    from a second, unrelated CA, for the same names as server
      expired     from the CA, for the same names, valid 2020-01-01 .. 2021-01-01
    cert() returns None for "expired" when only openssl is available.
    """

    KINDS = ("server", "wrong_name", "other_ca", "expired")

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(self.dir, mode=0o755, exist_ok=True)
        self.tool = "certtool" if shutil.which("certtool") else "openssl"
        self._cache = {}

    @property
    def ca(self):
        """Path of the CA certificate clients must trust."""
        return self._ca("ca", "xmpp-utils test CA")[0]

    def cert(self, kind):
        if kind in self._cache:
            return self._cache[kind]
        if kind == "server":
            res = self._leaf("server", "ca", SERVER_NAMES, SERVER_IPS)
        elif kind == "wrong_name":
            res = self._leaf("wrong_name", "ca", ["wrong.example"], [])
        elif kind == "other_ca":
            res = self._leaf("other_ca", "ca2", SERVER_NAMES, SERVER_IPS)
        elif kind == "expired":
            res = self._leaf("expired", "ca", SERVER_NAMES, SERVER_IPS, expired=True)
        else:
            raise ValueError("unknown certificate kind %r" % kind)
        self._cache[kind] = res
        return res

    def pin(self, kind):
        """'sha256:BASE64' of the certificate's SubjectPublicKeyInfo (the --pin format)."""
        with open(self.cert(kind)[0]) as f:
            pem = f.read()
        der = base64.b64decode("".join(line for line in pem.splitlines() if line and not line.startswith("-----")))
        return "sha256:" + base64.b64encode(hashlib.sha256(spki_of(der)).digest()).decode()

    def _run(self, argv):
        r = subprocess.run(argv, cwd=self.dir, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (" ".join(argv[:2]), r.returncode, r.stderr[-800:]))

    def _key(self, name):
        path = os.path.join(self.dir, name + ".key")
        if self.tool == "certtool":
            self._run(["certtool", "--generate-privkey", "--key-type", "ecdsa", "--curve", "secp256r1",
                       "--no-text", "--outfile", path])
        else:
            self._run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                       "-out", path])
        # Prosody may run as its own user when not root: it must read the key.
        os.chmod(path, 0o644)
        return path

    def _ca(self, name, cn):
        if name in self._cache:
            return self._cache[name]
        key = self._key(name)
        crt = os.path.join(self.dir, name + ".crt")
        if self.tool == "certtool":
            tmpl = os.path.join(self.dir, name + ".tmpl")
            with open(tmpl, "w") as f:
                f.write('cn = "%s"\nca\ncert_signing_key\ncrl_signing_key\n'
                        'activation_date = "2019-01-01 00:00:00"\n'
                        'expiration_date = "2045-01-01 00:00:00"\n' % cn)
            self._run(["certtool", "--generate-self-signed", "--load-privkey", key, "--template", tmpl,
                       "--no-text", "--outfile", crt])
        else:
            self._run(["openssl", "req", "-x509", "-new", "-key", key, "-subj", "/CN=" + cn, "-days", "3650",
                       "-addext", "basicConstraints=critical,CA:TRUE",
                       "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", crt])
        self._cache[name] = (crt, key)
        return self._cache[name]

    def _leaf(self, name, ca_name, dns, ips, expired=False):
        ca_crt, ca_key = self._ca(ca_name, "xmpp-utils test CA" if ca_name == "ca" else "unrelated test CA")
        key = self._key(name)
        crt = os.path.join(self.dir, name + ".crt")
        if self.tool == "certtool":
            tmpl = os.path.join(self.dir, name + ".tmpl")
            with open(tmpl, "w") as f:
                f.write('cn = "%s"\n' % dns[0])
                for d in dns:
                    f.write('dns_name = "%s"\n' % d)
                for ip in ips:
                    f.write('ip_address = "%s"\n' % ip)
                f.write("tls_www_server\nsigning_key\n")
                if expired:
                    f.write('activation_date = "2020-01-01 00:00:00"\nexpiration_date = "2021-01-01 00:00:00"\n')
                else:
                    f.write('activation_date = "2020-01-01 00:00:00"\nexpiration_date = "2044-01-01 00:00:00"\n')
            self._run(["certtool", "--generate-certificate", "--load-privkey", key, "--load-ca-certificate", ca_crt,
                       "--load-ca-privkey", ca_key, "--template", tmpl, "--no-text", "--outfile", crt])
        else:
            if expired:
                return None
            csr = os.path.join(self.dir, name + ".csr")
            ext = os.path.join(self.dir, name + ".ext")
            with open(ext, "w") as f:
                san = ["DNS:" + d for d in dns] + ["IP:" + i for i in ips]
                f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                        "extendedKeyUsage=serverAuth\n" % ",".join(san))
            self._run(["openssl", "req", "-new", "-key", key, "-subj", "/CN=" + dns[0], "-out", csr])
            self._run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-set_serial",
                       str(int.from_bytes(os.urandom(8), "big")), "-days", "3650", "-extfile", ext, "-out", crt])
        return (crt, key)


def _der_tlv(buf, pos):
    """(tag, start of value, end of value) of the DER element at pos."""
    tag = buf[pos]
    n = buf[pos + 1]
    pos += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[pos:pos + k], "big")
        pos += k
    return tag, pos, pos + n


def spki_of(cert_der):
    """The DER SubjectPublicKeyInfo inside an X.509 certificate (RFC 5280 §4.1)."""
    _, cs, _ = _der_tlv(cert_der, 0)          # Certificate
    _, ts, te = _der_tlv(cert_der, cs)        # tbsCertificate
    pos = ts
    fields = []
    while pos < te:
        tag, vs, ve = _der_tlv(cert_der, pos)
        fields.append((tag, pos, ve))
        pos = ve
    if fields[0][0] == 0xA0:                  # [0] EXPLICIT version
        fields = fields[1:]
    # serial, signature, issuer, validity, subject, subjectPublicKeyInfo
    _, start, end = fields[5]
    return cert_der[start:end]


# ---------------------------------------------------------------------------------------------
# Prosody

# SASL2 (XEP-0388), Bind2 (XEP-0386) and FAST (XEP-0484) for Prosody 0.12: prosody-modules, plus
# the shims of prosody-sasl2/ that those modules need on 0.12.
SASL2_MODULES = ("xu_sasl2_compat", "sasl2", "sasl2_bind2", "sasl2_fast")
PROSODY_MODULE_DIR = "/usr/lib/prosody/modules"


def trace_sent(trace, pattern, prog=SEND):
    """Positions of the lines a command's --debug trace says it sent that match pattern."""
    return [m.start() for m in re.finditer(r"^%s: SEND .*%s" % (prog, pattern), trace, re.M)]


def trace_received(trace, pattern, prog=SEND):
    return [m.start() for m in re.finditer(r"^%s: RECV .*%s" % (prog, pattern), trace, re.M)]


def trace_first(positions, what, trace):
    """The first of positions (from trace_sent/trace_received); none fails, showing the trace."""
    check(positions, "no %s in the trace:\n%s" % (what, trace[-3000:]))
    return positions[0]


def sasl2_missing():
    """Why a Prosody here cannot offer SASL2 (None: it can)."""
    gone = ["mod_" + m for m in SASL2_MODULES[1:]
            if not os.path.exists("%s/mod_%s/mod_%s.lua" % (PROSODY_MODULE_DIR, m, m))]
    return "prosody-modules is not installed (no %s)" % ", ".join(gone) if gone else None


def sasl2_knobs():
    """The Prosody knobs (modules, config_extra) that make it offer SASL2, Bind2 and FAST."""
    return {"modules": SASL2_MODULES,
            "config_extra": 'plugin_paths = { "%s" }\n' % os.path.join(HERE, "prosody-sasl2")}


DEFAULT_MODULES = ["roster", "saslauth", "tls", "disco", "carbons", "pep", "private", "blocklist",
                   "vcard4", "vcard_legacy", "bookmarks", "version", "time", "ping", "mam", "smacks",
                   "lastactivity"]


def _lua_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def _lua_list(items):
    return "{ %s }" % ", ".join(_lua_str(i) if isinstance(i, str) else str(i) for i in items)


class _Server:
    """What every private server offers the tests: accounts (passwords), JIDs, the CA, our
    commands run against it, independent slixmpp clients. Subclasses (Prosody, Ejabberd) provide
    __init__ (host, port, tls_port, domain, run, pki, home, passwords, _receivers), start, stop,
    restart and register."""

    kind = "server"

    @property
    def ca(self):
        return self.pki.ca

    def jid(self, user):
        return "%s@%s" % (user, self.domain)

    def _probe(self):
        """None once a stream header on the c2s port is answered with </stream:features>."""
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0) as s:
                s.sendall(("<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' "
                           "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>" % self.domain).encode())
                buf = b""
                while b"</stream:features>" not in buf:
                    chunk = s.recv(4096)
                    if not chunk:
                        return "connection closed: %r" % buf[-200:]
                    buf += chunk
                    if len(buf) > 65536:
                        return "no features"
                self.features = buf.decode("utf-8", "replace")
                try:
                    s.sendall(b"</stream:stream>")
                except OSError:
                    pass
                return None
        except OSError as e:
            return str(e)


    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def log_tail(self, lines=25):
        return tail(self.log, lines)


    # -- xmpp-send

    def env(self, extra=None, user="alice", password=True):
        """A clean environment for a command under test: private HOME/XDG dirs, no XMPP_*."""
        return command_env(self.home, extra=extra,
                           password=self.passwords[user] if (password and user in self.passwords) else None)

    def command_argv(self, path, args, user="alice", direct_tls=False, conn=True):
        """argv for one of our commands against this server (conn=False: only args)."""
        argv = [path]
        if conn:
            argv += ["--jid", self.jid(user), "--host", self.host, "--cafile", self.ca,
                     "--port", str(self.tls_port if direct_tls else self.port)]
            if direct_tls:
                argv.append("--direct-tls")
        return _wrapped(argv + list(args))

    def _run_command(self, argv, env, stdin, timeout, user, password):
        return run_cmd(argv, env=self.env(env, user=user, password=password), stdin=stdin, timeout=timeout)

    def _popen_command(self, argv, env, user, password, default_stdin, **kw):
        kw.setdefault("stdin", default_stdin)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(argv, env=self.env(env, user=user, password=password), cwd=SRC_DIR,
                             preexec_fn=_child_setup(False, signal.SIGKILL), **kw)
        self.run.at_cleanup(lambda: stop_process(p, 2))
        return p

    def send_argv(self, args, user="alice", direct_tls=False, conn=True):
        return self.command_argv(send_path(), args, user=user, direct_tls=direct_tls, conn=conn)

    def run_send(self, args, env=None, stdin=None, timeout=60, user="alice", direct_tls=False, conn=True,
                 password=True):
        """Run xmpp-send as user against this server. Returns (rc, stdout, stderr) as text.

        The password goes through $XMPP_PASSWORD only (password=False leaves it out); env adds
        or overrides variables (a value of None removes one).
        """
        return self._run_command(self.send_argv(args, user=user, direct_tls=direct_tls, conn=conn),
                                 env, stdin, timeout, user, password)

    def popen_send(self, args, env=None, user="alice", direct_tls=False, conn=True, password=True, **kw):
        """xmpp-send as a running process (stdin/stdout/stderr pipes unless given), stopped at cleanup."""
        return self._popen_command(self.send_argv(args, user=user, direct_tls=direct_tls, conn=conn),
                                   env, user, password, subprocess.PIPE, **kw)

    # -- independent clients

    def receiver(self, user, **kw):
        r = Receiver(self, user, **kw)
        self._receivers.append(r)
        return r

    def slix_send(self, user, messages, grace=0.0, timeout=30, port=None):
        """Send messages (dicts: to, body, type, subject, thread, id) with slixmpp as user.

        Returns the message errors that came back (list of dicts: id, condition, error_type, ...).
        """
        argv = [PY, os.path.join(HERE, "sender.py"), "--jid", self.jid(user), "--password-env", "XU_SENDER_PW",
                "--host", self.host, "--port", str(port or self.port), "--ca", self.ca,
                "--server-name", self.domain, "--grace", str(grace)]
        for m in messages:
            argv += ["--msg", json.dumps(m)]
        env = dict(os.environ, XU_SENDER_PW=self.passwords[user])
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, preexec_fn=_child_setup(False, signal.SIGKILL))
        if r.returncode != 0:
            raise Fail("slixmpp sender failed (%d): %s" % (r.returncode, r.stderr.strip()[-600:]))
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def peer(self, user, resource=None, **kw):
        """An interactive slixmpp client (peer.py) for user, stopped with the server or at cleanup."""
        p = Peer(self, user, resource=resource, **kw)
        self._receivers.append(p)
        return p

    # -- xmpp-muc

    def run_muc(self, args, env=None, stdin=None, timeout=60, user="alice", conn=True, password=True):
        """Run xmpp-muc as user to its end: (rc, stdout, stderr)."""
        return self._run_command(self.command_argv(muc_path(), args, user=user, conn=conn),
                                 env, stdin, timeout, user, password)

    def popen_muc(self, args, env=None, user="alice", password=True, **kw):
        """xmpp-muc as a running process (stdout/stderr pipes), stopped at cleanup."""
        return self._popen_command(self.command_argv(muc_path(), args, user=user), env, user, password,
                                   subprocess.DEVNULL, **kw)

    # -- xmpp-roster

    def run_roster(self, args, env=None, stdin=None, timeout=60, user="alice", conn=True, password=True):
        """Run xmpp-roster as user to its end: (rc, stdout, stderr)."""
        return self._run_command(self.command_argv(roster_path(), args, user=user, conn=conn),
                                 env, stdin, timeout, user, password)

    # -- xmpp-listen

    def listen_argv(self, args, user="alice", direct_tls=False, conn=True):
        return self.command_argv(listen_path(), args, user=user, direct_tls=direct_tls, conn=conn)

    def run_listen(self, args, env=None, stdin=None, timeout=60, user="alice", direct_tls=False, conn=True,
                   password=True):
        """Run xmpp-listen to its end (give it --count, --timeout or --idle). (rc, stdout, stderr)."""
        return self._run_command(self.listen_argv(args, user=user, direct_tls=direct_tls, conn=conn),
                                 env, stdin, timeout, user, password)

    def popen_listen(self, args, env=None, user="alice", direct_tls=False, conn=True, password=True, **kw):
        """xmpp-listen as a running process (stdin from /dev/null, stdout/stderr pipes unless given)."""
        return self._popen_command(self.listen_argv(args, user=user, direct_tls=direct_tls, conn=conn),
                                   env, user, password, subprocess.DEVNULL, **kw)

    # -- xmpp-presence

    def presence_argv(self, args, user="alice", direct_tls=False, conn=True):
        return self.command_argv(presence_path(), args, user=user, direct_tls=direct_tls, conn=conn)

    def run_presence(self, args, env=None, stdin=None, timeout=60, user="alice", direct_tls=False, conn=True,
                     password=True):
        """Run xmpp-presence as user to its end. (rc, stdout, stderr)."""
        return self._run_command(self.presence_argv(args, user=user, direct_tls=direct_tls, conn=conn),
                                 env, stdin, timeout, user, password)

    def popen_presence(self, args, env=None, user="alice", direct_tls=False, conn=True, password=True, **kw):
        """xmpp-presence as a running process (stdin from /dev/null, stdout/stderr pipes unless given)."""
        return self._popen_command(self.presence_argv(args, user=user, direct_tls=direct_tls, conn=conn),
                                   env, user, password, subprocess.DEVNULL, **kw)

    def listener(self, args, user="alice", resource=None, sep=b"\n", **kw):
        """xmpp-listen -r RESOURCE ARGS as a Listener (records split on sep). The default resource
        is new for each listener, so one a failed case left running cannot replace the next."""
        if resource is None:
            self._listen_seq = getattr(self, "_listen_seq", 0) + 1
            resource = "listen-%d" % self._listen_seq
        return Listener(self, args, user=user, resource=resource, sep=sep, **kw)


class Prosody(_Server):
    """A private Prosody 0.12 on 127.0.0.1 high ports, everything under its own temp dir.

    Knobs: cert (a PKI kind: which certificate the server presents), tls (False: no STARTTLS
    offered at all and encryption not required), smacks (False: no XEP-0198), modules (extra
    modules to enable), without (default modules to leave out, e.g. "mam"),
    config_extra / host_extra (Lua appended to the global section /
    the VirtualHost), users ({name: password} registered before start), log_level ("debug":
    log every stanza, as XU_IT_DEBUG=1 does; Prosody refuses a second `log` in config_extra).
    Server-neutral knobs (Ejabberd takes the same): tls_version ("1.2" or "1.3": the only
    version offered, STARTTLS and direct TLS), muc (True: conference.localhost where users may
    create rooms; or {service: {"create": bool, "mam": bool}}), mam_max_results (page size cap
    of XEP-0313 queries).
    """

    kind = "prosody"

    def __init__(self, run, cert="server", tls=True, smacks=True, modules=(), config_extra="",
                 host_extra="", users=(), name="prosody", start=True, log_level=None, without=(),
                 tls_version=None, muc=None, mam_max_results=None):
        self.tls_version = tls_version
        self.muc = _muc_services(muc)
        self.mam_max_results = mam_max_results
        self.run = run
        self.pki = run.pki()
        self.cert_kind = cert
        self.tls = tls
        self.smacks = smacks
        self.modules = list(modules)
        self.without = set(without)  # default modules left out (e.g. "mam")
        self.config_extra = config_extra
        self.host_extra = host_extra
        self.log_level = log_level
        self.domain = DOMAIN
        self.host = LOOPBACK
        self.dir = run.mkdtemp(name)
        self.cfg = os.path.join(self.dir, "prosody.cfg.lua")
        self.log = os.path.join(self.dir, "prosody.log")
        self.out = os.path.join(self.dir, "prosody.out")
        self.pidfile = os.path.join(self.dir, "prosody.pid")
        self.data = os.path.join(self.dir, "data")
        self.certs = os.path.join(self.dir, "certs")
        self.home = os.path.join(self.dir, "home")  # HOME / XDG dirs for the commands under test
        self.port = free_port()
        self.tls_port = free_port()
        while self.tls_port == self.port:
            self.tls_port = free_port()
        self.passwords = {}
        self.proc = None
        self._receivers = []
        for d in (self.data, self.certs, self.home):
            os.makedirs(d, mode=0o755, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self._write_config()
        run.at_cleanup(self.stop)
        for u in users:
            self.register(u)
        if start:
            self.start()

    def _write_config(self):
        pair = self.pki.cert(self.cert_kind)
        if pair is None:
            raise Skip("cannot make a %s certificate with %s" % (self.cert_kind, self.pki.tool))
        crt, key = pair
        # Prosody also looks in the certificates directory by host name.
        shutil.copy(crt, os.path.join(self.certs, self.domain + ".crt"))
        shutil.copy(key, os.path.join(self.certs, self.domain + ".key"))
        modules = [m for m in DEFAULT_MODULES if (m != "smacks" or self.smacks) and (m != "tls" or self.tls)
                   and m not in self.without]
        modules += [m for m in self.modules if m not in modules]
        disabled = ["s2s"]
        if not self.smacks:
            disabled.append("smacks")
        if not self.tls:
            disabled.append("tls")
        protocol = ""
        if self.tls_version:
            protocol = " protocol = %s;" % _lua_str("tlsv" + self.tls_version.replace(".", "_"))
        ssl = "{ certificate = %s; key = %s;%s }" % (_lua_str(os.path.join(self.certs, self.domain + ".crt")),
                                                      _lua_str(os.path.join(self.certs, self.domain + ".key")),
                                                      protocol)
        extra = self.config_extra
        if self.mam_max_results:
            extra += "\nmax_archive_query_results = %d\n" % self.mam_max_results
        components = ""
        for service, opts in self.muc.items():
            components += "\nComponent %s \"muc\"\n    restrict_room_creation = %s\n" % (
                _lua_str(service), "false" if opts.get("create", True) else "true")
            if opts.get("mam"):
                components += "    modules_enabled = { \"muc_mam\" }\n"
        level = "debug" if DEBUG else (self.log_level or "info")
        lines = [
            "-- written by tests/integration/xuharness.py; a throwaway server",
            "pidfile = %s" % _lua_str(self.pidfile),
            "data_path = %s" % _lua_str(self.data),
            "certificates = %s" % _lua_str(self.certs),
            "log = { { levels = { min = %s }, to = \"file\", filename = %s } }" % (_lua_str(level), _lua_str(self.log)),
            "daemonize = false",
            "interfaces = { %s }" % _lua_str(LOOPBACK),
            "local_interfaces = { %s }" % _lua_str(LOOPBACK),
            "c2s_ports = { %d }" % self.port,
            "c2s_direct_tls_ports = { %d }" % self.tls_port,
            "s2s_ports = { }",
            "legacy_ssl_ports = { }",
            "http_ports = { }",
            "https_ports = { }",
            "http_interfaces = { %s }" % _lua_str(LOOPBACK),
            "https_interfaces = { %s }" % _lua_str(LOOPBACK),
            "component_ports = { }",
            "modules_enabled = %s" % _lua_list(modules),
            "modules_disabled = %s" % _lua_list(disabled),
            "run_as_root = true" if os.geteuid() == 0 else "-- not root",
            "c2s_require_encryption = %s" % ("true" if self.tls else "false"),
            "s2s_require_encryption = true",
            "allow_unencrypted_plain_auth = false",
            "authentication = \"internal_hashed\"",
            "storage = \"internal\"",
            "storage_archive_item_limit = 1000000",
            "default_archive_policy = true",
            "archive_expires_after = \"never\"",
            "c2s_stanza_size_limit = 1024 * 1024",
            "ssl = %s" % ssl,
            "c2s_direct_tls_ssl = %s" % ssl,
            extra,
            "",
            "VirtualHost %s" % _lua_str(self.domain),
            "    ssl = %s" % ssl,
            self.host_extra,
            components,
            "",
        ]
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines))

    # -- lifecycle

    def start(self, deadline=15.0, attempts=3):
        """Launch Prosody (new session, like setsid) and wait until it serves c2s on our ports.

        The ports were free when picked; if something took one meanwhile, Prosody logs the bind
        failure and runs on, so that is checked in its log and the start retried on new ports.
        """
        if self.proc is not None and self.proc.poll() is None:
            return
        for attempt in range(attempts):
            why = self._start_once(deadline)
            if why is None:
                return
            self.stop()
            if not why.startswith("port"):
                break
            self.port, self.tls_port = free_port(), free_port()
            self._write_config()
        raise RuntimeError("prosody did not start (%s); log tail:\n%s\n%s" % (why, tail(self.out), tail(self.log)))

    def _start_once(self, deadline):
        log_start = os.path.getsize(self.log) if os.path.exists(self.log) else 0
        out = open(self.out, "ab")
        try:
            self.proc = subprocess.Popen(["prosody", "--config", self.cfg, "-F"], stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=subprocess.STDOUT, cwd=self.dir,
                                         preexec_fn=_child_setup(True))
        finally:
            out.close()
        t_end = time.monotonic() + deadline
        why = "no answer"
        bound = False
        # One line per service, its addresses in any order (a subclass may add interfaces).
        want = [re.compile(r"Activated service '%s' on .*\[127\.0\.0\.1\]:%d\b" % (svc, port))
                for svc, port in (("c2s", self.port), ("c2s_direct_tls", self.tls_port))]
        while time.monotonic() < t_end:
            if self.proc.poll() is not None:
                return "exited with %s during start-up" % self.proc.returncode
            if not bound:
                try:
                    with open(self.log, "r", encoding="utf-8", errors="replace") as f:
                        f.seek(log_start)
                        log = f.read()
                except OSError:
                    log = ""
                if "Failed to open server port" in log or "Error binding" in log:
                    return "port taken: " + [line for line in log.splitlines() if "port" in line][-1][-200:]
                bound = all(w.search(log) for w in want)
                why = "ports not active yet"
            if bound:
                why = self._probe()
                if why is None:
                    return None
            time.sleep(0.02)
        return "not ready after %.0fs (%s)" % (deadline, why)

    def stop(self):
        for r in list(self._receivers):
            r.stop()
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None


    # -- accounts

    def register(self, *users, password=None):
        for user in users:
            pw = password or self.passwords.get(user) or "pw-%s-%s" % (user, secrets.token_hex(8))
            r = subprocess.run(["prosodyctl", "--config", self.cfg, "register", user, self.domain, pw],
                               capture_output=True, text=True, cwd=self.dir, stdin=subprocess.DEVNULL,
                               timeout=30)
            if r.returncode != 0:
                raise RuntimeError("prosodyctl register %s failed (%d): %s%s" % (
                    user, r.returncode, r.stdout[-400:], r.stderr[-400:]))
            self.passwords[user] = pw
        return self

    def client_closed_stream(self, full_jid, timeout=3.0):
        """None once the session that bound full_jid received the client's </stream:stream>
        (needs log_level="debug"), else why not (with its last log lines)."""
        t_end = time.monotonic() + timeout
        while True:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                log = f.read()
            ids = re.findall(r"^\S+ \S+ \S+ (c2s\w+)\s+debug\s+Resource bound: %s$" % re.escape(full_jid), log, re.M)
            if ids and "%s\tdebug\tReceived </stream:stream>" % ids[-1] in log:
                return None
            if time.monotonic() > t_end:
                break
            time.sleep(0.1)
        if not ids:
            return "no session bound %s in the Prosody log" % full_jid
        mine = [line for line in log.splitlines() if (" %s\t" % ids[-1]) in line][-4:]
        return "the session %s did not close its stream; its last log lines:\n%s" % (ids[-1], "\n".join(mine))

    def offline_xml(self, user):
        """The messages waiting in user's offline storage, as the text of Prosody's data files."""
        store = os.path.join(self.data, self.domain.replace(".", "%2e"), "offline")
        text = ""
        for f in sorted(os.listdir(store)) if os.path.isdir(store) else []:
            if f.startswith(user + "."):
                with open(os.path.join(store, f), encoding="utf-8", errors="replace") as fh:
                    text += fh.read()
        return text

    def restart(self, pause=0.0):
        """Stop Prosody (and the receivers and peers), then start it again on the same ports with
        the same data: accounts, rosters and offline messages survive."""
        self.stop()
        if pause:
            time.sleep(pause)
        why = self._start_once(15.0)
        if why is not None:
            self.stop()
            raise RuntimeError("prosody did not restart on ports %d/%d (%s); log tail:\n%s" % (
                self.port, self.tls_port, why, tail(self.log)))


def _muc_services(muc):
    """The muc knob as {service: {"create": bool, "mam": bool}}."""
    if not muc:
        return {}
    if muc is True:
        return {"conference." + DOMAIN: {}}
    if isinstance(muc, str):
        return {muc: {}}
    return {k: dict(v or {}) for k, v in dict(muc).items()}


# ---------------------------------------------------------------------------------------------
# ejabberd

EJABBERDCTL = "/usr/sbin/ejabberdctl"

# Prosody module names (what tests pass in without=) -> the ejabberd module that does the same.
EJABBERD_MODULES = {
    "roster": "mod_roster", "disco": "mod_disco", "carbons": "mod_carboncopy", "pep": "mod_pubsub",
    "private": "mod_private", "blocklist": "mod_blocking", "vcard4": "mod_vcard", "vcard_legacy": "mod_vcard",
    "version": "mod_version", "time": "mod_time", "ping": "mod_ping", "mam": "mod_mam",
    "smacks": "mod_stream_mgmt", "lastactivity": "mod_last", "offline": "mod_offline",
    "privacy": "mod_privacy", "caps": "mod_caps",
}

EJABBERD_DEFAULT_MODULES = {
    "mod_roster": {"versioning": True},
    "mod_disco": {},
    "mod_caps": {},
    "mod_carboncopy": {},
    "mod_pubsub": {"plugins": ["flat", "pep"]},
    "mod_private": {},
    "mod_blocking": {},
    "mod_privacy": {},
    "mod_vcard": {},
    "mod_version": {"show_os": False},
    "mod_time": {},
    "mod_ping": {},
    "mod_mam": {"default": "always", "db_type": "mnesia", "assume_mam_usage": True},
    "mod_stream_mgmt": {"resend_on_timeout": "if_offline"},
    "mod_last": {},
    "mod_offline": {"access_max_user_messages": "max_user_offline_messages"},
}


def _yaml(value, indent=0):
    """Just enough YAML for the ejabberd config (dicts, lists, strings, numbers, booleans)."""
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return " {}"
        out = ""
        for k, v in value.items():
            out += "\n%s%s:%s" % (pad, k, _yaml(v, indent + 1))
        return out
    if isinstance(value, (list, tuple)):
        if not value:
            return " []"
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            return " [%s]" % ", ".join(_yaml(v).strip() for v in value)
        out = ""
        for v in value:
            item = _yaml(v, indent + 1)
            out += "\n%s-%s" % (pad, item.replace("\n" + "  " * (indent + 1), "\n" + pad + "  ", 1)
                                if isinstance(v, dict) else item)
        return out
    if isinstance(value, bool):
        return " true" if value else " false"
    if isinstance(value, int):
        return " %d" % value
    return ' "%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"')


class Ejabberd(_Server):
    """A private ejabberd 23.01 on 127.0.0.1 high ports, everything under its own temp dir.

    Config, Mnesia spool, logs, Erlang node name and cookie (HOME inside the temp dir) are its
    own; ERL_DIST_PORT in its ejabberdctl.cfg, so no epmd runs and nothing collides with another
    instance or the Debian service. A private copy of ejabberdctl with INSTALLUSER emptied runs
    the node as whoever runs the tests (root in CI). Accounts are registered over Erlang
    distribution by a hidden node, once the server runs (register() while it is stopped takes
    effect at the next start).

    Knobs, as Prosody where they map: cert, tls (False: no STARTTLS, plaintext allowed), smacks,
    without (Prosody module names, mapped to ejabberd's), users, name, start, tls_version,
    muc, mam_max_results (ignored: ejabberd caps pages itself), scram_hash ("sha1", "sha256",
    "sha512": the stored SCRAM hash, so the SCRAM variant offered). log_level ("debug") sets the
    log level.
    """

    kind = "ejabberd"

    def __init__(self, run, cert="server", tls=True, smacks=True, users=(), name="ejabberd", start=True,
                 without=(), tls_version=None, muc=None, mam_max_results=None, scram_hash="sha1",
                 log_level=None, modules=()):
        if not os.access(EJABBERDCTL, os.X_OK):
            raise SkipAll("ejabberd not installed")
        self.run = run
        self.pki = run.pki()
        self.cert_kind = cert
        self.tls = tls
        self.smacks = smacks
        self.without = set(without)
        self.tls_version = tls_version
        self.muc = _muc_services(muc)
        self.scram_hash = scram_hash
        self.log_level = log_level
        if modules:
            raise ValueError("Ejabberd: modules= takes Prosody module names; use without= or a neutral knob")
        self.domain = DOMAIN
        self.host = LOOPBACK
        self.dir = run.mkdtemp(name)
        self.cfgdir = os.path.join(self.dir, "etc")
        self.cfg = os.path.join(self.cfgdir, "ejabberd.yml")
        self.ctlcfg = os.path.join(self.cfgdir, "ejabberdctl.cfg")
        self.ctl = os.path.join(self.cfgdir, "ejabberdctl")
        self.spool = os.path.join(self.dir, "spool")
        self.logs = os.path.join(self.dir, "logs")
        self.log = os.path.join(self.logs, "ejabberd.log")
        self.out = os.path.join(self.dir, "ejabberd.out")
        self.erlhome = os.path.join(self.dir, "erlhome")
        self.home = os.path.join(self.dir, "home")  # HOME / XDG dirs for the commands under test
        self.node = "xu%s@localhost" % secrets.token_hex(4)
        self.cookie = secrets.token_hex(16)
        self._pick_ports()
        self.passwords = {}
        self._pending = []  # users to (re)register at the next start
        self._ran = False  # started before (a restart keeps the spool)
        self.proc = None
        self.features = None
        self._receivers = []
        for d in (self.cfgdir, self.spool, self.logs, self.erlhome, self.home):
            os.makedirs(d, mode=0o700, exist_ok=True)
        cookie = os.path.join(self.erlhome, ".erlang.cookie")
        with open(cookie, "w") as f:
            f.write(self.cookie)
        os.chmod(cookie, 0o400)
        with open(EJABBERDCTL) as f:
            ctl = f.read()
        # Run as whoever we are (no su to the ejabberd user), and exec the VM so that its pid is
        # our child's (stopped by pid, PR_SET_PDEATHSIG reaches it).
        ctl = re.sub(r"(?m)^INSTALLUSER=.*$", "INSTALLUSER=", ctl)
        ctl = ctl.replace('as_current_user) "$@" ;;', 'as_current_user) exec "$@" ;;')
        with open(self.ctl, "w") as f:
            f.write(ctl)
        os.chmod(self.ctl, 0o755)
        with open(os.path.join(self.cfgdir, "inetrc"), "w") as f:
            f.write('{lookup,["file","native"]}.\n{host,{127,0,0,1}, ["localhost"]}.\n')
        self._write_config()
        run.at_cleanup(self.kill)
        for u in users:
            self.register(u)
        if start:
            self.start()

    def _pick_ports(self):
        ports = set()
        while len(ports) < 3:
            ports.add(free_port())
        self.port, self.tls_port, self.dist_port = sorted(ports, key=lambda _: secrets.randbits(8))

    def _write_config(self, listen=True):
        pair = self.pki.cert(self.cert_kind)
        if pair is None:
            raise Skip("cannot make a %s certificate with %s" % (self.cert_kind, self.pki.tool))
        crt, key = pair
        pem = os.path.join(self.cfgdir, "server.pem")
        # The CA that issued this certificate (ejabberd checks the chain and the key match).
        issuer = self.pki._ca("ca2", "unrelated test CA")[0] if self.cert_kind == "other_ca" else self.pki.ca
        with open(pem, "w") as out:
            for path in (crt, key, issuer):
                with open(path) as f:
                    out.write(f.read())
        os.chmod(pem, 0o600)
        c2s = {"ip": LOOPBACK, "module": "ejabberd_c2s", "max_stanza_size": 1048576, "shaper": "none",
               "access": "c2s"}
        if self.tls_version:
            others = {"1.2": "no_tlsv1_3", "1.3": "no_tlsv1_2"}[self.tls_version]
            c2s["protocol_options"] = ["no_sslv3", "no_tlsv1", "no_tlsv1_1", others]
        starttls = dict(c2s, port=self.port)
        if self.tls:
            starttls.update(starttls=True, starttls_required=True)
        direct = dict(c2s, port=self.tls_port, tls=True)
        modules = {}
        dropped = {EJABBERD_MODULES.get(m, m) for m in self.without}
        if not self.smacks:
            dropped.add("mod_stream_mgmt")
        for mod, opts in EJABBERD_DEFAULT_MODULES.items():
            if mod not in dropped:
                modules[mod] = opts
        # MUC: every service always (conference.localhost when none is asked for). ejabberd has
        # one mod_muc per virtual host, so services with other options than the first get a
        # virtual host of their own (xu-mucN.localhost, never used to log in).
        groups = {}
        for service, opts in (self.muc or {"conference." + self.domain: {}}).items():
            key = (bool(opts.get("create", True)), bool(opts.get("mam", False)) and "mod_mam" in modules)
            groups.setdefault(key, []).append(service)
        host_config = {}
        vhosts = [self.domain]
        for i, ((create, mam), services) in enumerate(groups.items()):
            muc = {"hosts": services, "access_create": "muc_create" if create else "none",
                   "default_room_options": {}}
            if "mod_mam" in modules:
                muc["default_room_options"]["mam"] = mam
            vhost = self.domain if i == 0 else "xu-muc%d.%s" % (i, self.domain)
            if i:
                vhosts.append(vhost)
            # A host_config's modules replace the global ones: the whole set, with this mod_muc.
            host_config[vhost] = {"modules": dict(modules, mod_muc=muc)}
        config = {
            "hosts": vhosts,
            "loglevel": "debug" if (DEBUG or self.log_level == "debug") else "info",
            "log_rotate_count": 0,
            "certfiles": [pem],
            "listen": [starttls, direct] if listen else [],
            "s2s_access": "none",
            "auth_method": "internal",
            "auth_password_format": "scram",
            "auth_scram_hash": {"sha1": "sha", "sha256": "sha256", "sha512": "sha512"}[self.scram_hash],
            "acl": {"local": {"user_regexp": ""}, "loopback": {"ip": ["127.0.0.0/8", "::1/128"]}},
            "access_rules": {"local": {"allow": "local"}, "c2s": {"allow": "all"},
                             "muc_create": {"allow": "local"}, "register": {"deny": "all"}},
            "shaper_rules": {"c2s_shaper": "none", "max_user_offline_messages": 100000,
                             "max_user_sessions": 1000},
            "c2s_ciphers": "HIGH:!aNULL:!eNULL:!3DES:@STRENGTH",
            "modules": modules,
            "host_config": host_config,
        }
        with open(self.cfg, "w") as f:
            f.write("# written by tests/integration/xuharness.py; a throwaway server\n")
            f.write(_yaml(config).lstrip("\n") + "\n")
        with open(self.ctlcfg, "w") as f:
            f.write("ERLANG_NODE=%s\nERL_DIST_PORT=%d\nERL_OPTIONS=\"-env ERL_CRASH_DUMP_BYTES 0\"\n"
                    "EJABBERD_BYPASS_WARNINGS=true\n" % (self.node, self.dist_port))

    def _ctl_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ERL") and k != "HOME"}
        env["HOME"] = self.erlhome
        return env

    # -- lifecycle

    def start(self, deadline=30.0, attempts=3):
        """Launch ejabberd in the foreground (new session) and wait until it serves c2s on our
        ports; on a port taken meanwhile, again on new ports."""
        if self.proc is not None and self.proc.poll() is None:
            return
        for attempt in range(attempts):
            why = self._start_once(deadline)
            if why is None:
                return
            self.kill()
            if not why.startswith("port"):
                break
            self._pick_ports()
            self._write_config()
        raise RuntimeError("ejabberd did not start (%s); log tail:\n%s\n%s" % (why, tail(self.out), tail(self.log)))

    def _start_once(self, deadline):
        log_start = os.path.getsize(self.log) if os.path.exists(self.log) else 0
        # A restart with accounts changed meanwhile starts without c2s ports (see below).
        closed = bool(self._pending) and self._ran
        if closed:
            self._write_config(listen=False)
        self._ran = True
        out = open(self.out, "ab")
        try:
            self.proc = subprocess.Popen([self.ctl, "--config-dir", self.cfgdir, "--config", self.cfg,
                                          "--ctl-config", self.ctlcfg, "--logs", self.logs, "--spool", self.spool,
                                          "foreground"], stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, cwd=self.dir, env=self._ctl_env(),
                                         preexec_fn=_child_setup(True))
        finally:
            out.close()
        t_end = time.monotonic() + deadline
        why = "no answer"
        while time.monotonic() < t_end:
            if self.proc.poll() is not None:
                return "exited with %s during start-up" % self.proc.returncode
            try:
                with open(self.log, "r", encoding="utf-8", errors="replace") as f:
                    f.seek(log_start)
                    log = f.read()
            except OSError:
                log = ""
            if "eaddrinuse" in log:
                return "port taken: " + [line for line in log.splitlines() if "eaddrinuse" in line][-1][-200:]
            if " is started in the node " in log:
                if closed:
                    # Accounts changed while it was down: set them before any client can log in
                    # with what they were, then open the ports (config reload starts listeners).
                    why = self._register_pending()
                    if why is not None:
                        return why
                    self._write_config()
                    rc, out = self.erl("ok = rpc:call(N, ejabberd_config, reload, [])")
                    if rc != 0:
                        return "config reload failed: %s" % out[-400:]
                    closed = False
                why = self._probe()
                if why is None:
                    try:
                        socket.create_connection((self.host, self.tls_port), timeout=1.0).close()
                    except OSError as e:
                        why = "direct TLS port: %s" % e
                if why is None:
                    return self._register_pending()
            else:
                why = "not started yet"
            time.sleep(0.05)
        return "not ready after %.0fs (%s)" % (deadline, why)

    def stop(self):
        """Stop it the orderly way (SIGTERM: streams closed with system-shutdown, Mnesia
        flushed), as a restart needs; about 2 s."""
        for r in list(self._receivers):
            r.stop()
        if self.proc is not None:
            stop_process(self.proc, term_wait=20)
            self.proc = None

    def kill(self):
        """Stop it at once (SIGKILL): for the end of a script, where its data goes anyway."""
        for r in list(self._receivers):
            r.stop()
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def __exit__(self, *exc):
        self.kill()
        return False

    def restart(self, pause=0.0):
        """Stop ejabberd (and the receivers and peers), then start it again on the same ports
        with the same spool: accounts, rosters, archives and offline messages survive."""
        self.stop()
        if pause:
            time.sleep(pause)
        why = self._start_once(30.0)
        if why is not None:
            self.kill()
            raise RuntimeError("ejabberd did not restart on ports %d/%d (%s); log tail:\n%s" % (
                self.port, self.tls_port, why, tail(self.log)))

    # -- accounts

    def register(self, *users, password=None):
        """Create the accounts (or set a new password); while stopped, at the next start."""
        for user in users:
            pw = password or self.passwords.get(user) or "pw-%s-%s" % (user, secrets.token_hex(8))
            self.passwords[user] = pw
            if user not in self._pending:
                self._pending.append(user)
        if self.proc is not None and self.proc.poll() is None:
            why = self._register_pending()
            if why is not None:
                raise RuntimeError(why)
        return self

    def _register_pending(self):
        """Register self._pending through a hidden Erlang node; None, or why it failed."""
        if not self._pending:
            return None
        pairs = ",".join("{%s,%s}" % (_erl_bin(u), _erl_bin(self.passwords[u])) for u in self._pending)
        code = ("R = [case rpc:call(N, ejabberd_auth, try_register, [U, H, P]) of "
                "ok -> ok; {error, exists} -> rpc:call(N, ejabberd_auth, set_password, [U, H, P]); E -> E end "
                "|| {U, P} <- [%s]], case lists:all(fun(X) -> X =:= ok end, R) of true -> ok; "
                "false -> io:format(\"~p~n\", [R]), halt(1) end" % pairs)
        rc, out = self.erl(code)
        if rc != 0:
            return "registering %s failed (%d): %s" % (",".join(self._pending), rc, out[-600:])
        self._pending = []
        return None

    def erl(self, code, timeout=60):
        """Run Erlang expressions in a hidden node connected to the server (N is the server's
        node name, H the domain as a binary). (exit status, stdout + stderr)."""
        code = "N = '%s', H = %s, %s, halt(0)." % (self.node, _erl_bin(self.domain), code)
        argv = ["erl", "-sname", "xuctl%s@localhost" % secrets.token_hex(4), "-hidden", "-noinput",
                "-setcookie", self.cookie, "-erl_epmd_port", str(self.dist_port), "-start_epmd", "false",
                "-dist_listen", "false", "-eval", code]
        env = dict(self._ctl_env(), ERL_INETRC=os.path.join(self.cfgdir, "inetrc"))
        r = subprocess.run(argv, capture_output=True, text=True, cwd=self.dir, env=env,
                           stdin=subprocess.DEVNULL, timeout=timeout)
        return r.returncode, r.stdout + r.stderr

    def client_closed_stream(self, full_jid, timeout=3.0):
        """None once the c2s process that served full_jid received the client's
        </stream:stream> (needs log_level="debug"), else why not."""
        t_end = time.monotonic() + timeout
        while True:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                log = f.read()
            pids = re.findall(r"\] (<[\d.]+>)@ejabberd_c2s:process_terminated\S* \(\w+\|[^)]*\) Closing c2s session "
                              r"for %s:" % re.escape(full_jid), log)
            if pids and re.search(r"\] %s \(\w+\|[^)]*\) Received XML on stream = <<\".*</stream:stream>\">>"
                                  % re.escape(pids[-1]), log):
                return None
            if time.monotonic() > t_end:
                break
            time.sleep(0.1)
        if not pids:
            return "no closed c2s session for %s in the ejabberd log" % full_jid
        mine = [line for line in log.splitlines() if pids[-1] in line][-4:]
        return "the session %s did not close its stream; its last log lines:\n%s" % (pids[-1], "\n".join(mine))

    def offline_xml(self, user):
        """The messages waiting in user's offline storage, as XML text (one string)."""
        rc, out = self.erl("Els = rpc:call(N, mod_offline, get_offline_els, [%s, H]), "
                           "[io:format(\"~s~n\", [fxml:element_to_binary(xmpp:encode(E))]) || E <- Els]"
                           % _erl_bin(user))
        if rc != 0:
            raise RuntimeError("reading %s's offline messages failed: %s" % (user, out[-400:]))
        return out


def _erl_bin(s):
    """An Erlang UTF-8 binary literal."""
    return "<<\"%s\"/utf8>>" % s.replace("\\", "\\\\").replace('"', '\\"')


def server_kind():
    """Which server the integration scripts run against: env XU_IT_SERVER (prosody, ejabberd)."""
    kind = os.environ.get("XU_IT_SERVER", "prosody") or "prosody"
    if kind not in ("prosody", "ejabberd"):
        raise SkipAll("unknown XU_IT_SERVER %r (prosody or ejabberd)" % kind)
    return kind


def Server(run, **kw):  # noqa: N802 - a factory that reads like the classes it returns
    """Prosody or Ejabberd, as XU_IT_SERVER says (default prosody), with the same knobs.

    Prosody-only knobs (config_extra, host_extra, modules: Lua and module names) make an
    ejabberd run skip the whole script, since their meaning does not carry over.
    """
    if server_kind() == "ejabberd":
        for k in ("config_extra", "host_extra", "modules"):
            if kw.get(k):
                raise SkipAll("needs Prosody (%s=...)" % k)
            kw.pop(k, None)
        if "name" in kw:
            kw["name"] = kw["name"].replace("prosody", "ejabberd")
        return Ejabberd(run, **kw)
    kw.pop("scram_hash", None)
    return Prosody(run, **kw)


def only_prosody(why):
    """Skip the whole script on ejabberd (exit 125 with why)."""
    if server_kind() != "prosody":
        raise SkipAll("Prosody only: %s" % why)


def _wrapped(argv):
    wrapper = os.environ.get("XU_IT_WRAPPER", "")
    return shlex.split(wrapper) + argv if wrapper else argv


def command_env(home, extra=None, password=None):
    """Environment for a command under test: no XMPP_* from outside, private HOME and XDG dirs."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("XMPP_") and not k.startswith("XDG_") and k not in ("HOME",)}
    env["HOME"] = home
    env["XDG_CONFIG_HOME"] = os.path.join(home, ".config")
    env["XDG_CACHE_HOME"] = os.path.join(home, ".cache")
    env["LC_ALL"] = "C.UTF-8"
    if password is not None:
        env["XMPP_PASSWORD"] = password
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_cmd(argv, env=None, stdin=None, timeout=60):
    """Run argv from the repo root; stdin is str/bytes/None. Returns (rc, stdout, stderr) as text."""
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    try:
        r = subprocess.run(argv, env=env, input=stdin if stdin is not None else b"",
                           capture_output=True, timeout=timeout, cwd=SRC_DIR,
                           preexec_fn=_child_setup(False, signal.SIGKILL))
    except subprocess.TimeoutExpired as e:
        raise Fail("%s did not finish within %ss\nstderr: %s" % (
            os.path.basename(argv[0]), timeout, (e.stderr or b"").decode("utf-8", "replace")[-800:]))
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


def run_send(args, env=None, stdin=None, timeout=60, home=None):
    """xmpp-send with exactly args (no server options added), in a clean environment."""
    if home is None:
        home = tempfile.mkdtemp(prefix="xu-it-home-")
        try:
            return run_cmd(_wrapped([send_path()] + list(args)), env=command_env(home, env), stdin=stdin,
                           timeout=timeout)
        finally:
            shutil.rmtree(home, ignore_errors=True)
    return run_cmd(_wrapped([send_path()] + list(args)), env=command_env(home, env), stdin=stdin, timeout=timeout)


# ---------------------------------------------------------------------------------------------
# slixmpp receiver


def _stop_client(proc, quit_line):
    """Ask a slixmpp client process to quit on its stdin; kill it if it does not within 3 s."""
    if proc.poll() is None:
        try:
            proc.stdin.write(quit_line)
            proc.stdin.close()
        except (BrokenPipeError, ValueError, OSError):
            pass
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            stop_process(proc, 2)
    else:
        with contextlib.suppress(Exception):
            proc.stdin.close()


class Receiver:
    """bob's independent client: a slixmpp process writing each received message as JSON."""

    def __init__(self, server, user, resource=None, ready_timeout=15.0, cert_name=None):
        self.server = server
        self.user = user
        d = server.run.mkdtemp("recv-" + user)
        self.out = os.path.join(d, "messages.jsonl")
        self.ready_file = os.path.join(d, "ready")
        self.errlog = os.path.join(d, "receiver.err")
        self._offset = 0
        self._buf = b""
        self._pending = []  # records read but not yet returned
        self._barrier = 0
        open(self.out, "w").close()
        jid = server.jid(user) + ("/" + resource if resource else "")
        argv = [PY, os.path.join(HERE, "receiver.py"), "--jid", jid, "--password-env", "XU_RECEIVER_PW",
                "--host", server.host, "--port", str(server.port), "--ca", server.ca, "--out", self.out,
                "--ready-file", self.ready_file]
        if cert_name:
            argv += ["--server-name", cert_name]
        env = dict(os.environ, XU_RECEIVER_PW=server.passwords[user])
        err = open(self.errlog, "ab")
        try:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=err, stderr=subprocess.STDOUT,
                                         preexec_fn=_child_setup(False))
        finally:
            err.close()
        server.run.at_cleanup(self.stop)
        t_end = time.monotonic() + ready_timeout
        while not os.path.exists(self.ready_file):
            if self.proc.poll() is not None:
                raise ReceiverError("receiver for %s exited with %s: %s" % (
                    jid, self.proc.returncode, _why(self.errlog)))
            if time.monotonic() > t_end:
                self.stop()
                raise ReceiverError("receiver for %s not ready after %.0fs: %s" % (
                    jid, ready_timeout, _why(self.errlog)))
            time.sleep(0.02)
        with open(self.ready_file) as f:
            self.full_jid = f.read().strip()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _read(self):
        try:
            with open(self.out, "rb") as f:
                f.seek(self._offset)
                data = f.read()
        except OSError:
            return
        self._offset += len(data)
        self._buf += data
        *lines, self._buf = self._buf.split(b"\n")
        for line in lines:
            if line.strip():
                self._pending.append(json.loads(line.decode("utf-8")))

    def sync(self, timeout=10.0):
        """Every message the server routed to us before this call, not returned before.

        Sends ourselves a barrier message; the server keeps per-session order, so once it is
        back everything routed earlier has been written.
        """
        if self.proc.poll() is not None:
            raise Fail("receiver for %s died (%s): %s" % (self.user, self.proc.returncode, tail(self.errlog, 5)))
        self._barrier += 1
        tag = str(self._barrier)
        self.proc.stdin.write(("barrier %s\n" % tag).encode())
        self.proc.stdin.flush()
        t_end = time.monotonic() + timeout
        while True:
            self._read()
            for i, rec in enumerate(self._pending):
                if rec.get("barrier") == tag:
                    got = [r for r in self._pending[:i] if "barrier" not in r]
                    self._pending = self._pending[i + 1:]
                    return got
            if self.proc.poll() is not None:
                raise Fail("receiver for %s died (%s): %s" % (self.user, self.proc.returncode, tail(self.errlog, 5)))
            if time.monotonic() > t_end:
                raise Fail("receiver barrier %s not back after %.0fs" % (tag, timeout))
            time.sleep(0.01)

    def collect(self, expected, timeout=2.0):
        """Messages since the last call, once at least `expected` arrived (or the timeout passed).

        First a barrier: after a confirmed send everything must already be there. If not, keep
        waiting up to timeout so the failure message can say "late" rather than "lost".
        """
        got = self.sync()
        if len(got) >= expected:
            return got
        t_end = time.monotonic() + timeout
        late = []
        while time.monotonic() < t_end and len(got) + len(late) < expected:
            time.sleep(0.1)
            late += self.sync()
        if late:
            raise Fail("%d of %d message(s) had arrived when the send returned, %d more came later" % (
                len(got), expected, len(late)))
        return got

    def stop(self):
        if self.proc is not None:
            _stop_client(self.proc, b"quit\n")
        if self in self.server._receivers:
            self.server._receivers.remove(self)


class ReceiverError(RuntimeError):
    pass


def _why(errlog):
    """The receiver's own 'receiver: ...' lines, else the log tail."""
    text = tail(errlog, 200)
    mine = [line for line in text.splitlines() if line.startswith("receiver: ")]
    return "; ".join(mine[-3:]) if mine else text.strip()[-600:]


# ---------------------------------------------------------------------------------------------
# Assertions


def expect_rc(rc, want, stderr="", stdout=""):
    wants = want if isinstance(want, (tuple, list, set)) else (want,)
    if rc not in wants:
        raise Fail("exit status %s, expected %s\nstderr: %s%s" % (
            rc, " or ".join(map(str, wants)), stderr.strip()[-1500:],
            ("\nstdout: " + stdout.strip()[-500:]) if stdout.strip() else ""))


def expect_one_error_line(stderr, prog=SEND):
    """Exactly one line on stderr, starting with 'PROG: '. Returns it."""
    lines = stderr.splitlines()
    check(len(lines) == 1 and stderr.endswith("\n"),
          "expected exactly one line on stderr, got %d:\n%s" % (len(lines), stderr.strip()[-1500:]))
    check(lines[0].startswith(prog + ": "), "stderr line does not start with %r: %r" % (prog + ": ", lines[0]))
    return lines[0]


def bare(jid):
    return (jid or "").split("/", 1)[0]


def expect_messages(got, want):
    """got: receiver records; want: list of dicts of fields that must match, in order, exactly once.

    A want field of "type": "normal" also accepts a missing type attribute (the receiver reports
    that as "normal" already); "from" is compared as a bare JID.
    """
    def show(recs):
        return "\n".join(json.dumps({k: (v[:80] + "...(%d chars)" % len(v) if isinstance(v, str) and len(v) > 80
                                         else v) for k, v in r.items()}, ensure_ascii=False) for r in recs[:20])
    check(len(got) == len(want), "%d message(s) arrived, expected %d\ngot:\n%s" % (len(got), len(want), show(got)))
    for i, (g, w) in enumerate(zip(got, want)):
        for k, v in w.items():
            gv = bare(g.get(k)) if k == "from" else g.get(k)
            if gv != v:
                if isinstance(v, str) and isinstance(gv, str) and len(v) > 80:
                    diff = next((j for j in range(min(len(v), len(gv))) if v[j] != gv[j]), min(len(v), len(gv)))
                    raise Fail("message %d: %s differs at char %d (got %d chars, want %d)" % (
                        i, k, diff, len(gv), len(v)))
                raise Fail("message %d: %s is %r, expected %r\ngot:\n%s" % (i, k, gv, v, show(got)))


def b64_variants(secret):
    """Base64 strings that appear in any base64 text containing `secret` (all 3 alignments)."""
    raw = secret.encode("utf-8")
    out = set()
    for pad in range(3):
        enc = base64.b64encode(b"\0" * pad + raw).decode()
        # drop the characters influenced by the padding bytes and the unstable tail
        start = (pad * 4 + 2) // 3
        core = enc[start + 1:len(enc) - 4]
        if len(core) >= 6:
            out.add(core)
    return out


SCRAM_ATTR = re.compile(rb"(^|,)(n|r|s|i|c|p|v|e)=")


def decoded_sasl_payloads(text):
    """Base64 runs in text that decode to something that looks like SASL (SCRAM or PLAIN)."""
    found = []
    for m in re.finditer(r"[A-Za-z0-9+/]{12,}={0,2}", text):
        s = m.group(0)
        try:
            raw = base64.b64decode(s + "=" * (-len(s) % 4), validate=True)
        except Exception:  # noqa: BLE001
            continue
        if SCRAM_ATTR.search(raw) or raw.count(b"\0") >= 2:
            found.append((s, raw))
    return found


# ---------------------------------------------------------------------------------------------
# xmpp-listen: the interactive peer, the command's output, the reference escaping


class Peer:
    """An interactive slixmpp client (peer.py): sends raw stanzas, IQs, collects messages.

    peer.jid is its full JID. Every call waits for peer.py's answer (one JSON line each).
    """

    def __init__(self, server, user, resource=None, ready_timeout=15.0, priority=0, manual_subscriptions=False):
        self.server = server
        self.user = user
        d = server.run.mkdtemp("peer-" + user)
        self.errlog = os.path.join(d, "peer.err")
        jid = server.jid(user) + ("/" + resource if resource else "")
        argv = [PY, os.path.join(HERE, "peer.py"), "--jid", jid, "--password-env", "XU_PEER_PW",
                "--host", server.host, "--port", str(server.port), "--ca", server.ca,
                "--server-name", server.domain, "--priority", str(priority)]
        if manual_subscriptions:
            argv.append("--manual-subscriptions")
        env = dict(os.environ, XU_PEER_PW=server.passwords[user])
        err = open(self.errlog, "ab")
        try:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=err, preexec_fn=_child_setup(False))
        finally:
            err.close()
        self._lines = _LineReader(self.proc.stdout)
        server.run.at_cleanup(self.stop)
        first = self._answer(ready_timeout, "ready")
        self.jid = first["ready"]
        self._seq = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _answer(self, timeout, what):
        line = self._lines.get(timeout)
        if line is None:
            dead = self.proc.poll()
            raise Fail("peer %s: no answer to %s within %.0fs%s: %s" % (
                self.user, what, timeout, "" if dead is None else " (exited %s)" % dead,
                _why(self.errlog).replace("receiver: ", "")))
        rec = json.loads(line.decode("utf-8"))
        if "exception" in rec:
            raise Fail("peer %s: %s failed: %s" % (self.user, what, rec["exception"]))
        return rec

    def _cmd(self, cmd, timeout):
        if self.proc.poll() is not None:
            raise Fail("peer %s died (%s): %s" % (self.user, self.proc.returncode, tail(self.errlog, 5)))
        try:
            self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as e:
            raise Fail("peer %s: cannot send %s: %s (%s)" % (self.user, cmd["op"], e, tail(self.errlog, 5)))
        return self._answer(timeout + 5, cmd["op"])

    def next_id(self, prefix="xu"):
        self._seq += 1
        return "%s-%s-%d" % (prefix, self.user, self._seq)

    def send(self, *stanzas):
        """Send raw XML stanzas, in order."""
        self._cmd({"op": "send", "xml": list(stanzas)}, 10)

    def sync(self):
        """Everything sent before has been routed by the server (RFC 6120 §10.1 in-order handling)."""
        self._cmd({"op": "sync"}, 10)

    def iq(self, xml, iq_id, timeout=10.0):
        """Send an <iq/> with id iq_id; its answer {type, from, xml} or None after timeout."""
        res = self._cmd({"op": "iq", "xml": xml, "id": iq_id, "timeout": timeout}, timeout)
        return None if res.get("timeout") else res

    def messages(self, n=0, timeout=0.0):
        """The messages received since the last call, once n are there or timeout passed."""
        return self._cmd({"op": "messages", "n": n, "timeout": timeout}, timeout)["messages"]

    def stray_iqs(self):
        """IQ answers from other clients that no iq() call waited for, since the last call."""
        return self._cmd({"op": "strays"}, 5)["iqs"]

    def presences(self, n=0, timeout=0.0):
        """The presences received since the last call (from type show status priority xml), once
        n are there or timeout passed."""
        return self._cmd({"op": "presences", "n": n, "timeout": timeout}, timeout)["presences"]

    def stop(self):
        if self.proc is not None:
            _stop_client(self.proc, b'{"op": "quit"}\n')
        if self in self.server._receivers:
            self.server._receivers.remove(self)


class _LineReader:
    """Lines of a pipe, read by a thread, handed out one at a time with a timeout."""

    def __init__(self, pipe):
        import queue
        self._q = queue.Queue()
        self._t = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self._t.start()

    def _pump(self, pipe):
        for line in iter(pipe.readline, b""):
            self._q.put(line)
        self._q.put(None)

    def get(self, timeout):
        import queue
        try:
            line = self._q.get(timeout=timeout)
        except queue.Empty:
            return None
        if line is None:
            self._q.put(None)  # stays at the end for later callers
        return line


class _Pump:
    """All bytes of a pipe, collected by a thread."""

    def __init__(self, pipe):
        self.data = bytearray()
        self.cond = threading.Condition()
        self.closed = False
        self._t = threading.Thread(target=self._pump, args=(pipe,), daemon=True)
        self._t.start()

    def _pump(self, pipe):
        while True:
            try:
                chunk = os.read(pipe.fileno(), 65536)
            except OSError:
                chunk = b""
            with self.cond:
                if not chunk:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.data += chunk
                self.cond.notify_all()

    def join(self, timeout=5.0):
        self._t.join(timeout)


class Relay:
    """A TCP relay from 127.0.0.1:port to a server port, to break connections the way a network
    does. cut() resets every connection through it (the client sees a reset, the server an
    EOF); while blocked, new connections are accepted and reset at once. delay (seconds) holds
    every chunk that long in each direction, a crude slow link."""

    def __init__(self, run, target_port, host=LOOPBACK, delay=0.0):
        self.target = (host, target_port)
        self.delay = delay
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, 0))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.host = host
        self.blocked = False
        self.accepted = 0
        self.refused = 0  # connections reset at once while blocked
        self._lock = threading.Lock()
        self._socks = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()
        run.at_cleanup(self.close)

    @staticmethod
    def _reset(sock):
        # shutdown() first: close() alone would not wake the pump thread blocked in recv(),
        # and the kernel keeps the socket open for it.
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def _accept(self):
        while not self._closed:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            if self.blocked:
                self._reset(c)
                with self._lock:
                    self.refused += 1
                continue
            try:
                u = socket.create_connection(self.target, timeout=5)
            except OSError:
                self._reset(c)
                continue
            u.settimeout(None)
            with self._lock:
                self.accepted += 1
                self._socks += [c, u]
            self._relay(c, u)

    def _relay(self, c, u):
        """Carry one connection: client socket c, server socket u (a subclass may break it)."""
        threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
        threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if self.delay:
                    time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def cut(self):
        """Reset every connection through the relay now."""
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            self._reset(s)

    def close(self):
        self._closed = True
        self.cut()
        try:
            self.lsock.close()
        except OSError:
            pass


class Listener:
    """xmpp-listen running against a server: its records (split on sep), stderr and exit.

    listener.jid is the full JID it binds (-r resource). online(peer) waits until it answers
    an XEP-0199 ping, i.e. it has bound its resource and handles stanzas.
    """

    def __init__(self, server, args, user="alice", resource="listen", sep=b"\n", env=None, password=True):
        self.server = server
        self.sep = sep
        self.jid = server.jid(user) + ("/" + resource if resource else "")
        argv = (["-r", resource] if resource else []) + list(args)
        self.started = time.monotonic()
        self.proc = server.popen_listen(argv, env=env, user=user, password=password)
        self._out = _Pump(self.proc.stdout)
        self._err = _Pump(self.proc.stderr)
        self._taken = 0  # bytes of stdout handed out as records
        self.rc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def stderr(self):
        with self._err.cond:
            return bytes(self._err.data).decode("utf-8", "replace")

    @property
    def stdout(self):
        with self._out.cond:
            return bytes(self._out.data)

    def _detail(self):
        return "stderr: %s\nunread stdout: %r" % (self.stderr.strip()[-1500:], self.stdout[self._taken:][-600:])

    def online(self, peer, timeout=20.0):
        """Wait until the listener answers peer's pings; returns the seconds it took."""
        t0 = time.monotonic()
        t_end = t0 + timeout
        last = None
        while time.monotonic() < t_end:
            if self.proc.poll() is not None:
                raise Fail("xmpp-listen exited with %s before it was online\n%s" % (self.proc.returncode,
                                                                                      self._detail()))
            iq_id = peer.next_id("online")
            last = peer.iq("<iq type='get' id='%s' to='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % (
                iq_id, xattr(self.jid)), iq_id, timeout=3)
            if last is not None and last["type"] == "result":
                return time.monotonic() - t0
            time.sleep(0.1)
        raise Fail("xmpp-listen not online after %.0fs (last ping answer: %s)\n%s" % (
            timeout, last and last["xml"][:300], self._detail()))

    def _complete(self):
        with self._out.cond:
            data = bytes(self._out.data[self._taken:])
        return data.split(self.sep)[:-1]

    def records(self, n, timeout=10.0):
        """The next n records (bytes, without the separator); Fail if they do not come in time."""
        t_end = time.monotonic() + timeout
        with self._out.cond:
            while True:
                recs = bytes(self._out.data[self._taken:]).split(self.sep)[:-1]
                if len(recs) >= n or self._out.closed:
                    break
                left = t_end - time.monotonic()
                if left <= 0:
                    break
                self._out.cond.wait(min(left, 0.2))
        if len(recs) < n:
            raise Fail("%d of %d record(s) came within %.0fs%s\n%s" % (
                len(recs), n, timeout, " (stdout closed, exit %s)" % self.proc.poll() if self._out.closed else "",
                self._detail()))
        got = recs[:n]
        self._taken += sum(len(r) + len(self.sep) for r in got)
        return got

    def pending(self):
        """Complete records not handed out yet (and hands them out)."""
        got = self._complete()
        self._taken += sum(len(r) + len(self.sep) for r in got)
        return got

    def texts(self, n, timeout=10.0):
        return [r.decode("utf-8") for r in self.records(n, timeout)]

    def wait(self, timeout):
        """Exit status within timeout, else Fail (the process is left running)."""
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail("xmpp-listen still running after %.1fs\n%s" % (timeout, self._detail()))
        self._out.join()
        self._err.join()
        return self.rc

    def signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self):
        stop_process(self.proc, 2)
        self._out.join(1)
        self._err.join(1)


def xesc(text):
    """XML character data / attribute value, with CR, LF and TAB as references so they survive
    the receiver's line-end and attribute normalisation (XML 1.0 §2.11, §3.3.3)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
            .replace("'", "&apos;").replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;"))


def xattr(text):
    return xesc(text)


def message_xml(to, body=None, mtype="chat", mid=None, subject=None, thread=None, extra=""):
    """A <message/> as raw XML; mtype None leaves the type attribute out (RFC 6121 §5.2.2 normal)."""
    attrs = " to='%s'" % xattr(to)
    if mtype is not None:
        attrs += " type='%s'" % mtype
    if mid is not None:
        attrs += " id='%s'" % xattr(mid)
    inner = ""
    if subject is not None:
        inner += "<subject>%s</subject>" % xesc(subject)
    if body is not None:
        inner += "<body>%s</body>" % xesc(body)
    if thread is not None:
        inner += "<thread>%s</thread>" % xesc(thread)
    return "<message%s>%s%s</message>" % (attrs, inner, extra)


# Characters escaped as \u{X} by XU_ESC_LINE / XU_ESC_IDENT (tests/vectors/terminal/README.md).
_ESC_U = set(range(0x80, 0xA0)) | {0x061C, 0x200E, 0x200F, 0x2028, 0x2029} | set(range(0x202A, 0x202F)) \
    | set(range(0x2066, 0x206A))
_ESC_IDENT_EXTRA = {0x200B, 0x200C, 0x200D, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF, 0x00AD, 0x180E}


def esc_line(text, ident=False):
    """Reference model of xu_escape(XU_ESC_LINE) (ident=True: XU_ESC_IDENT), for expected output."""
    out = []
    for ch in text:
        c = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif c < 0x20 or c == 0x7F:
            out.append("\\x%02x" % c)
        elif c in _ESC_U or (ident and c in _ESC_IDENT_EXTRA):
            out.append("\\u{%X}" % c)
        else:
            out.append(ch)
    return "".join(out)


def terminal_vectors():
    """The cases of tests/vectors/terminal/terminal-cases.jsonl."""
    path = os.path.join(SRC_DIR, "tests", "vectors", "terminal", "terminal-cases.jsonl")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# Raw characters no printed record may carry (the "must" of the terminal vectors).
UNSAFE_RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f\x80-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                        "\u2066-\u2069]")

TEXT_RECORD = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z) (.*)$", re.S)

JSON_MESSAGE_KEYS = ["kind", "timestamp", "delayed", "from", "to", "type", "id", "body", "subject", "thread",
                     "room", "nick"]
JSON_PRESENCE_KEYS = ["kind", "timestamp", "delayed", "from", "to", "type", "id", "show", "status", "priority",
                      "room", "nick"]


def utc_now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


def check_arrival_stamp(stamp, slack=120):
    """An arrival time 'YYYY-MM-DDTHH:MM:SS.mmmZ' within slack seconds of now."""
    import calendar
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}Z$", stamp or "")
    check(m is not None, "timestamp %r is not YYYY-MM-DDTHH:MM:SS.mmmZ" % (stamp,))
    t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    check(abs(t - time.time()) < slack, "timestamp %r is not the arrival time (now %s)" % (stamp, utc_now_iso()))


def parse_json_record(raw, keys=None):
    """A JSON record (bytes): one line, valid UTF-8, no raw unsafe characters, keys in order."""
    text = raw.decode("utf-8")  # UnicodeDecodeError fails the case: records must be valid UTF-8
    check("\n" not in text, "JSON record spans lines: %r" % text[:200])
    bad = UNSAFE_RAW.search(text)
    check(bad is None, "JSON record carries raw U+%04X: %r" % (ord(bad.group(0)), text[:200]) if bad else "")
    rec = json.loads(text)
    check(isinstance(rec, dict), "JSON record is not an object: %r" % text[:200])
    if keys is None:
        keys = JSON_PRESENCE_KEYS if rec.get("kind") == "presence" else JSON_MESSAGE_KEYS
    check(list(rec.keys()) == keys, "JSON keys %s, expected %s" % (list(rec.keys()), keys))
    return rec


def parse_xml_record(raw):
    """An xml record (bytes): one line; the parsed element with namespaces stripped from tags."""
    import xml.etree.ElementTree as ET
    text = raw.decode("utf-8")
    check("\n" not in text and "\r" not in text, "XML record has a raw line end: %r" % text[:200])
    try:
        el = ET.fromstring(text)
    except ET.ParseError as e:
        raise Fail("XML record is not well-formed (%s): %r" % (e, text[:300]))
    for e in el.iter():
        if isinstance(e.tag, str) and "}" in e.tag:
            e.tag = e.tag.split("}", 1)[1]
    return el


def expect_fields(rec, want, what="record"):
    for k, v in want.items():
        check(rec.get(k) == v, "%s: %s is %r, expected %r" % (what, k, rec.get(k), v))
