"""A scripted hostile XMPP server (RFC 6120 c2s) on 127.0.0.1 for tests.

It speaks just enough of the protocol for a correct client to reach each phase: stream header
and features, STARTTLS or direct TLS (stdlib ssl, certificate from the integration harness's
test CA), SASL (SCRAM-SHA-1 and SCRAM-SHA-256 computed for real, PLAIN), bind, session,
XEP-0198 (enable, <r/> answered with <a h/> counting the client's stanzas), and IQ results
for what the commands ask (roster, disco, ping, MUC join and message reflection). Then it
sends a case's payload at the case's phase (tests/vectors/xml/README.md):

    stream   the payload is the server's first bytes after the client's stream header
    tls      the payload is the first bytes after the TLS handshake and the client's header
    session  the payload is sent right after bind (and SM enable) have been answered

Markers in payloads: @@REPEAT:<hex>:<n>@@ and @@SEQ:<hex fmt>:<n>@@ (sent lazily, in chunks,
so a 64 MiB payload costs no memory), @@AWAIT:<element>@@ (wait until the client sent that
element) and @@SCRIPT:<key>=<value>@@ (scripted behaviour; known: bind-result=<jid>).

Reusable for load tests:

    import hostile
    srv = hostile.Server(pki, on_session=lambda conn: conn.send_repeat(msg_bytes, 100000))
    srv.start(); ... srv.port ...; srv.stop()

on_session(conn) runs in the connection's thread once the session is established (instead of a
case payload); conn.send(bytes), conn.send_repeat(bytes, n, interval=0.0) and conn.sent_bytes
are there for it. srv.connections lists every accepted connection (received bytes, events).
"""

import base64
import hashlib
import hmac
import os
import re
import select
import socket
import ssl
import sys
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SRC_DIR = os.environ.get("XU_SRC_DIR") or os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC_DIR, "tests", "integration"))
import xuharness as xh  # noqa: E402  (PKI: the test CA and server certificate)

CORPUS = os.path.join(SRC_DIR, "tests", "vectors", "xml")
DOMAIN = "example.test"
LOOPBACK = "127.0.0.1"

NS_STREAM = "http://etherx.jabber.org/streams"
NS_CLIENT = "jabber:client"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session"
NS_SM = "urn:xmpp:sm:3"
NS_ROSTER = "jabber:iq:roster"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_MUC = "http://jabber.org/protocol/muc"

HEADER = ("<?xml version='1.0'?><stream:stream from='%s' id='%s' version='1.0' xml:lang='en' "
          "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")


class ClientGone(Exception):
    """The client closed the connection (or the server is stopping)."""


class Timeout(Exception):
    """The client sent nothing we waited for in time."""


# ---------------------------------------------------------------------------------------------
# The corpus


class Case:
    """One tests/vectors/xml/cases/<id>.case: header fields and the raw payload (markers kept)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        head, sep, payload = data.partition(b"\n#!payload\n")
        if not sep:
            raise ValueError("%s: no #!payload line" % path)
        self.fields = {}
        for line in head.decode("utf-8").splitlines():
            m = re.match(r"^#! (\w+): ?(.*)$", line)
            if m:
                self.fields[m.group(1)] = m.group(2)
        self.id = self.fields["id"]
        self.phase = self.fields["phase"]
        self.verdict = self.fields["verdict"]
        self.expect = self.fields.get("expect", "")
        self.payload = payload
        self.group = self.id[0]

    def actions(self):
        """The payload as a list of ("send", bytes) / ("repeat", bytes, n) / ("seq", fmt, n) /
        ("await", name) / ("script", key, value)."""
        return parse_markers(self.payload)

    def script(self, key):
        for a in self.actions():
            if a[0] == "script" and a[1] == key:
                return a[2]
        return None

    def __repr__(self):
        return "Case(%s)" % self.id


def parse_markers(payload):
    out = []
    pos = 0
    for m in re.finditer(rb"@@(REPEAT|SEQ|AWAIT|SCRIPT):(.*?)@@", payload, re.S):
        if m.start() > pos:
            out.append(("send", payload[pos:m.start()]))
        kind, arg = m.group(1), m.group(2)
        if kind in (b"REPEAT", b"SEQ"):
            hexpat, _, n = arg.rpartition(b":")
            out.append(("repeat" if kind == b"REPEAT" else "seq", bytes.fromhex(hexpat.decode()), int(n)))
        elif kind == b"AWAIT":
            out.append(("await", arg.decode()))
        else:
            key, _, value = arg.decode("utf-8").partition("=")
            out.append(("script", key, value))
        pos = m.end()
    if pos < len(payload):
        out.append(("send", payload[pos:]))
    return out


def load_corpus(directory=CORPUS):
    """Every case of the corpus, in INDEX.tsv order."""
    ids = []
    with open(os.path.join(directory, "INDEX.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            ids.append(line.split("\t", 1)[0])
    return [Case(os.path.join(directory, "cases", i + ".case")) for i in ids]


# ---------------------------------------------------------------------------------------------
# SCRAM (RFC 5802), the server side


def _h(name):
    return {"SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}[name]


def _attrs(msg):
    out = {}
    for part in msg.split(","):
        if len(part) >= 2 and part[1] == "=":
            out.setdefault(part[0], part[2:])
    return out


class ScramServer:
    """One SCRAM exchange; attack (a dict) replaces messages for the hostile cases."""

    def __init__(self, mech, password, attack=None, iterations=4096):
        self.hash = _h(mech.replace("-PLUS", ""))
        self.password = password
        self.attack = attack or {}
        self.salt = os.urandom(16)
        self.iterations = iterations
        self.snonce = base64.b64encode(os.urandom(18)).decode()
        self.client_first_bare = self.server_first = None
        self.cnonce = None

    def first(self, client_first):
        gs2, _, bare = client_first.partition(",")
        _, _, bare = bare.partition(",")  # authzid
        self.gs2 = client_first[:len(client_first) - len(bare)]
        self.client_first_bare = bare
        self.cnonce = _attrs(bare).get("r", "")
        self.user = _attrs(bare).get("n", "")
        self.server_first = "r=%s%s,s=%s,i=%d" % (self.cnonce, self.snonce, base64.b64encode(self.salt).decode(),
                                                  self.iterations)
        if "server_first" in self.attack:
            self.server_first = self.attack["server_first"].replace("<cnonce>", self.cnonce)
        return self.server_first

    def final(self, client_final):
        """(ok, server-final) for the client's final message."""
        a = _attrs(client_final)
        without_proof = client_final.rsplit(",p=", 1)[0]
        auth_msg = ",".join([self.client_first_bare, self.server_first, without_proof]).encode()
        # the attack cases that change server-first break the exchange on purpose
        fa = _attrs(self.server_first)
        salt = base64.b64decode(fa.get("s", "")) if fa.get("s") else self.salt
        try:
            iters = int(fa.get("i", self.iterations))
        except ValueError:
            iters = self.iterations
        if iters <= 0 or iters > 100000:
            iters = self.iterations
        sp = hashlib.pbkdf2_hmac(self.hash, self.password.encode(), salt, iters)
        ck = hmac.new(sp, b"Client Key", self.hash).digest()
        sk = hashlib.new(self.hash, ck).digest()
        csig = hmac.new(sk, auth_msg, self.hash).digest()
        try:
            proof = base64.b64decode(a.get("p", ""))
        except ValueError:
            return False, "e=invalid-encoding"
        ok = len(proof) == len(ck) and bytes(x ^ y for x, y in zip(ck, csig)) == proof
        ok = ok and a.get("r") == fa.get("r")
        try:
            ok = ok and base64.b64decode(a.get("c", "")).decode("utf-8", "replace") == self.gs2
        except ValueError:
            ok = False
        if not ok:
            return False, "e=invalid-proof"
        skey = hmac.new(sp, b"Server Key", self.hash).digest()
        ssig = hmac.new(skey, auth_msg, self.hash).digest()
        return True, "v=" + base64.b64encode(ssig).decode()


# ---------------------------------------------------------------------------------------------
# One connection


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _ns(tag):
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _attr_x(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;")
            .replace('"', "&quot;"))


class Conn:
    """The server's side of one client connection (runs in its own thread)."""

    def __init__(self, server, sock, number):
        self.server = server
        self.sock = sock
        self.number = number
        self.tls = False
        self.received = bytearray()  # every byte from the client, after TLS decryption (capped)
        self.events = []             # (what, detail) in order: "header", "starttls", "auth", ...
        self.sent_bytes = 0
        self.handled = 0             # XEP-0198: stanzas received from the client since <enable/>
        self.sm = False
        self.features_sent = False
        self.closed = False
        self.jid = None
        self.in_session = False
        self._elements = []
        self._parser = None
        self._depth = 0
        self._stack = []
        self.error = None

    # -- I/O

    def event(self, what, detail=""):
        self.events.append((what, detail))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise ClientGone("send: %s" % e)
        self.sent_bytes += len(data)

    def send_repeat(self, pattern, n, chunk=1 << 16, interval=0.0):
        """pattern n times, in chunks (interval: seconds to sleep between repetitions)."""
        if interval:
            for _ in range(n):
                self.send(pattern)
                time.sleep(interval)
            return
        per = max(1, chunk // max(1, len(pattern)))
        left = n
        while left > 0 and not self.server.stopping:
            k = min(per, left)
            self.send(pattern * k)
            left -= k
            self.poll_client()

    def poll_client(self):
        """In a session, answer what the client sent meanwhile (<r/> above all) without
        waiting: a real server goes on reading while it writes a flood."""
        if not self.in_session:
            return
        while True:
            if not (self.tls and self.sock.pending()):
                r, _, _ = select.select([self.sock], [], [], 0)
                if not r:
                    break
            self.recv_some(0)
        while self._elements:
            kind, el = self._elements.pop(0)
            if kind == "close":
                raise ClientGone("client closed the stream")
            if kind == "element":
                self.on_counted(el)
                self.handle(el)

    def send_seq(self, fmt, n, chunk=1 << 16):
        buf = bytearray()
        for i in range(n):
            buf += fmt.replace(b"%d", str(i).encode())
            if len(buf) >= chunk:
                self.send(bytes(buf))
                buf.clear()
                self.poll_client()
            if self.server.stopping:
                return
        if buf:
            self.send(bytes(buf))

    def reset_parser(self):
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._elements = []

    def _feed(self, data):
        if len(self.received) < (1 << 20):
            self.received += data[:(1 << 20) - len(self.received)]
        try:
            self._parser.feed(data)
            for ev, el in self._parser.read_events():
                if ev == "start":
                    self._depth += 1
                    if self._depth == 1:
                        self._root = el
                        self._elements.append(("header", el))
                else:
                    self._depth -= 1
                    if self._depth == 1:
                        self._elements.append(("element", el))
                        self._root.remove(el)  # memory stays flat on long streams
                    elif self._depth == 0:
                        self._elements.append(("close", None))
        except ET.ParseError as e:
            self.event("client-xml-error", str(e))
            raise ClientGone("client sent bad XML: %s" % e)

    def recv_some(self, timeout):
        if self.server.stopping:
            raise ClientGone("server stopping")
        if not (self.tls and self.sock.pending()):
            r, _, _ = select.select([self.sock], [], [], timeout)
            if not r:
                return
        try:
            data = self.sock.recv(65536)
        except ssl.SSLWantReadError:
            return
        except (OSError, ssl.SSLError) as e:
            raise ClientGone("recv: %s" % e)
        if not data:
            raise ClientGone("client closed the connection")
        if b"</stream:stream>" in data:
            self.event("client-close")
        self._feed(data)

    def next(self, timeout=None):
        """("header", el) / ("element", el) / ("close", None): the client's next item."""
        deadline = time.monotonic() + (timeout or self.server.step_timeout)
        while not self._elements:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            self.recv_some(min(left, 0.5) if left > 0.5 else left)
        item = self._elements.pop(0)
        if item[0] == "close":
            raise ClientGone("client closed the stream")
        return item

    def expect_header(self):
        kind, el = self.next()
        while kind != "header":
            kind, el = self.next()
        self.event("header", el.get("to", ""))
        return el

    def await_element(self, name, timeout=None):
        while True:
            kind, el = self.next(timeout)
            if kind == "element":
                self.on_counted(el)
                if _local(el.tag) == name:
                    return el
                self.event("element", _local(el.tag))

    def drain(self, timeout):
        """Read (and answer <r/>) until the client closes or timeout."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                kind, el = self.next(max(0.05, end - time.monotonic()))
            except (Timeout, ClientGone):
                return
            if kind == "element":
                self.event("element", _local(el.tag))
                if _local(el.tag) == "auth":
                    self.event("auth", el.get("mechanism", ""))

    def start_tls(self):
        ctx = self.server.ssl_context()
        self.sock.settimeout(self.server.step_timeout)
        try:
            self.sock = ctx.wrap_socket(self.sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            self.event("tls-failed", str(e))
            raise ClientGone("TLS handshake: %s" % e)
        self.sock.settimeout(None)
        self.tls = True
        self.event("tls", self.sock.version())
        self.reset_parser()

    # -- the normal protocol

    def features(self, stage):
        s = self.server
        f = "<stream:features>"
        if stage == "pre-auth":
            if not self.tls and s.offer_starttls:
                f += "<starttls xmlns='%s'>%s</starttls>" % (NS_TLS, "<required/>" if s.starttls_required else "")
            if self.tls or s.offer_auth_in_clear or not s.offer_starttls:
                f += "<mechanisms xmlns='%s'>%s</mechanisms>" % (
                    NS_SASL, "".join("<mechanism>%s</mechanism>" % m for m in s.mechanisms))
                f += s.extra_auth_features
        else:
            f += "<bind xmlns='%s'/>" % NS_BIND
            if s.session_feature:
                f += "<session xmlns='%s'>%s</session>" % (NS_SESSION, "" if s.session_required else "<optional/>")
            if s.offer_sm:
                f += "<sm xmlns='%s'/>" % NS_SM
        f += "</stream:features>"
        return f

    def open_stream(self):
        self.send(HEADER % (DOMAIN, "s%d" % self.number))

    def run(self):
        s = self.server
        case = s.case
        self.sock.settimeout(None)
        self.reset_parser()
        if s.direct_tls:
            self.start_tls()
        self.expect_header()
        if case is not None and case.phase == "stream":
            return self.run_payload(case)
        self.open_stream()
        if not self.tls:
            self.send(self.features("pre-auth"))
            self.features_sent = True
            if s.offer_starttls:
                el = self.await_element("starttls")
                self.event("starttls")
                self.send("<proceed xmlns='%s'/>" % NS_TLS)
                self.start_tls()
                self.expect_header()
                self.open_stream()
                if case is not None and case.phase == "tls":
                    return self.run_payload(case)
                self.send(self.features("pre-auth"))
            else:
                # no STARTTLS: a correct client refuses now; record whatever it sends
                self.drain(s.step_timeout)
                return
        else:
            if case is not None and case.phase == "tls":
                return self.run_payload(case)
            self.send(self.features("pre-auth"))
        if not self.log_in():
            return
        self.in_session = True
        if case is not None and case.phase == "session":
            self.run_payload(case)
        elif s.on_session is not None:
            s.on_session(self)
        self.serve(s.session_time)

    def log_in(self):
        """After the pre-auth features: SASL, the restarted stream, bind. False when the
        client did not authenticate."""
        if not self.authenticate():
            return False
        self.reset_parser()
        self.expect_header()
        self.open_stream()
        self.send(self.features("post-auth"))
        self.bind()
        return True

    def authenticate(self):
        s = self.server
        el = self.await_element("auth")
        mech = el.get("mechanism", "")
        self.event("auth", mech)
        if not self.tls and not s.allow_auth_in_clear:
            self.send("<failure xmlns='%s'><encryption-required/></failure>" % NS_SASL)
            return False
        data = el.text or ""
        try:
            raw = base64.b64decode(data) if data not in ("", "=") else b""
        except ValueError:
            raw = b""
        att = s.scram_attack or {}
        if att.get("xmpp"):
            self.send(att["xmpp"])
            self.drain(s.step_timeout)
            return False
        if mech == "PLAIN":
            parts = raw.split(b"\0")
            ok = len(parts) == 3 and parts[2].decode("utf-8", "replace") == s.password
            if not ok:
                self.send("<failure xmlns='%s'><not-authorized/></failure>" % NS_SASL)
                return False
            self.send("<success xmlns='%s'/>" % NS_SASL)
            self.event("authenticated", mech)
            return True
        if mech.startswith("SCRAM-"):
            sc = ScramServer(mech, s.password, att)
            first = sc.first(raw.decode("utf-8", "replace"))
            self.send("<challenge xmlns='%s'>%s</challenge>" % (NS_SASL, base64.b64encode(first.encode()).decode()))
            t0 = time.monotonic()
            try:
                el = self.await_element("response")
            except ClientGone:
                self.event("client-gave-up", "%.2f" % (time.monotonic() - t0))
                raise
            self.event("client-final")
            try:
                final = base64.b64decode(el.text or "").decode("utf-8", "replace")
            except ValueError:
                final = ""
            ok, server_final = sc.final(final)
            if "server_final" in att:
                server_final = att["server_final"]
                ok = True
            if not ok:
                self.send("<failure xmlns='%s'><not-authorized/></failure>" % NS_SASL)
                return False
            if server_final == "":
                self.send("<success xmlns='%s'/>" % NS_SASL)
            else:
                self.send("<success xmlns='%s'>%s</success>" % (
                    NS_SASL, base64.b64encode(server_final.encode()).decode()))
            self.event("success-sent", mech)
            # a client that refuses the server's proof closes now instead of restarting
            return True
        self.send("<failure xmlns='%s'><invalid-mechanism/></failure>" % NS_SASL)
        return False

    def bind(self):
        s = self.server
        pending = {"bind"}
        while pending:
            kind, el = self.next()
            if kind != "element":
                continue
            name = _local(el.tag)
            if name == "iq" and el.find("{%s}bind" % NS_BIND) is not None:
                res = el.findtext("{%s}bind/{%s}resource" % (NS_BIND, NS_BIND)) or "hostile"
                jid = (s.case.script("bind-result") if s.case is not None else None) or s.bind_jid \
                    or "%s@%s/%s" % (s.user, DOMAIN, res)
                self.jid = jid
                self.send("<iq type='result' id='%s'><bind xmlns='%s'><jid>%s</jid></bind></iq>" % (
                    _attr_x(el.get("id", "")), NS_BIND, _attr_x(jid)))
                self.event("bound", jid)
                pending.discard("bind")
                if s.offer_sm:
                    pending.add("maybe-enable")
            elif name == "iq" and el.find("{%s}session" % NS_SESSION) is not None:
                self.send("<iq type='result' id='%s'/>" % _attr_x(el.get("id", "")))
            elif name == "enable":
                self.sm = True
                self.handled = 0
                self.send("<enabled xmlns='%s' id='sm-%d'/>" % (NS_SM, self.number))
                self.event("sm-enabled")
                pending.discard("maybe-enable")
            else:
                self.handle(el)
                pending.discard("maybe-enable")

    def on_counted(self, el):
        if self.sm and _local(el.tag) in ("message", "presence", "iq") and _ns(el.tag) == NS_CLIENT:
            self.handled += 1

    def serve(self, duration):
        end = time.monotonic() + duration
        while time.monotonic() < end:
            try:
                kind, el = self.next(max(0.05, end - time.monotonic()))
            except Timeout:
                return
            if kind == "element":
                self.on_counted(el)
                self.handle(el)

    def handle(self, el):
        """Answer one stanza of the client's as a friendly server would."""
        s = self.server
        name = _local(el.tag)
        self.event("element", name)
        if name == "r":
            self.send("<a xmlns='%s' h='%d'/>" % (NS_SM, self.handled % (1 << 32)))
            return
        if name == "a":
            return
        me = self.jid or "%s@%s/hostile" % (s.user, DOMAIN)
        bare = me.split("/", 1)[0]
        if name == "iq":
            typ = el.get("type")
            if typ not in ("get", "set"):
                return
            iid = _attr_x(el.get("id", ""))
            to = el.get("to")
            frm = " from='%s'" % _attr_x(to) if to else ""
            child = list(el)[0] if len(el) else None
            cns = _ns(child.tag) if child is not None else ""
            if s.iq_hook is not None and s.iq_hook(self, el):
                return
            if cns == NS_ROSTER and typ == "get":
                items = "".join("<item jid='%s' name='%s' subscription='both'/>" % (j, n) for j, n in s.roster)
                body = "<query xmlns='%s'>%s</query>" % (NS_ROSTER, items)
            elif cns == NS_DISCO_INFO:
                if to and "@" in to:
                    body = ("<query xmlns='%s'><identity category='conference' type='text' name='Room'/>"
                            "<feature var='%s'/></query>" % (NS_DISCO_INFO, NS_MUC))
                else:
                    body = ("<query xmlns='%s'><identity category='server' type='im'/>"
                            "<feature var='urn:xmpp:carbons:2'/><feature var='urn:xmpp:ping'/></query>" %
                            NS_DISCO_INFO)
            elif cns == NS_DISCO_ITEMS:
                body = "<query xmlns='%s'/>" % NS_DISCO_ITEMS
            else:
                body = ""
            self.send("<iq type='result' id='%s'%s to='%s'>%s</iq>" % (iid, frm, _attr_x(me), body))
        elif name == "presence":
            to = el.get("to")
            if to and "/" in to and el.get("type") is None and el.find("{%s}x" % NS_MUC) is not None:
                self.nicks = getattr(self, "nicks", {})
                self.nicks[to.split("/", 1)[0]] = to.split("/", 1)[1]
                self.send("<presence from='%s' to='%s'><x xmlns='%s#user'><item affiliation='owner' "
                          "role='moderator' jid='%s'/><status code='110'/></x></presence>" % (
                              _attr_x(to), _attr_x(me), NS_MUC, _attr_x(me)))
                self.send("<message type='groupchat' from='%s' to='%s' id='subj'><subject/></message>" % (
                    _attr_x(to.split("/", 1)[0]), _attr_x(me)))
            elif to and "/" in to and el.get("type") == "unavailable":
                self.send("<presence type='unavailable' from='%s' to='%s'><x xmlns='%s#user'>"
                          "<item affiliation='owner' role='none'/><status code='110'/></x></presence>" % (
                              _attr_x(to), _attr_x(me), NS_MUC))
        elif name == "message":
            if el.get("type") == "groupchat" and el.get("to"):
                room = el.get("to").split("/", 1)[0]
                nick = getattr(self, "nicks", {}).get(room, "hostile")
                body = el.findtext("{%s}body" % NS_CLIENT) or ""
                self.send("<message type='groupchat' from='%s/%s' to='%s' id='%s'><body>%s</body></message>" % (
                    _attr_x(room), _attr_x(nick), _attr_x(me), _attr_x(el.get("id", "")), _attr_x(body)))
        del bare

    # -- the case payload

    def run_payload(self, case):
        self.event("payload-start", case.phase)
        proceed = False
        for a in case.actions():
            kind = a[0]
            if kind == "send":
                data = a[1]
                if self.server.iq_rewrite is not None:
                    data = self.server.iq_rewrite(self, data)
                self.send(data)
                if b"<proceed" in data:
                    proceed = data.split(b"<proceed", 1)[1].split(b">", 1)[1][:1] == b"<"
            elif kind == "repeat":
                self.send_repeat(a[1], a[2])
            elif kind == "seq":
                self.send_seq(a[1], a[2])
            elif kind == "await":
                self.await_element(a[1])
                self.event("awaited", a[1])
            elif kind == "script":
                if a[1] != "bind-result":
                    raise ValueError("%s: unknown @@SCRIPT %s@@" % (case.id, a[1]))
                if case.phase == "stream":
                    # the whole login is the script: run it normally with the scripted bind
                    self.server.case_stream_script = True
                    return self._scripted_login()
        self.event("payload-sent")
        if "TCP FIN" in case.expect:
            # the case is the end of the connection: close our side now
            self.sock.shutdown(socket.SHUT_RDWR)
            return
        if proceed:
            # plaintext after <proceed/> (STARTTLS injection): go on with TLS and record
            # whether the client acts on what was injected before the handshake
            self.start_tls()
            self.expect_header()
            self.open_stream()
            # wait a little: a client acting on the injected features would send <auth> now
            try:
                kind, el = self.next(0.5)
                if kind == "element" and _local(el.tag) == "auth":
                    self.event("auth-before-features", el.get("mechanism", ""))
                    self.event("auth", el.get("mechanism", ""))
                    return
            except Timeout:
                pass
            self.send(self.features("pre-auth"))
            if self.log_in():
                self.serve(self.server.session_time)
            return
        if case.phase == "session":
            self.serve(self.server.session_time)
        else:
            self.drain(self.server.session_time)

    def _scripted_login(self):
        s = self.server
        self.open_stream()
        self.send(self.features("pre-auth"))
        self.await_element("starttls")
        self.send("<proceed xmlns='%s'/>" % NS_TLS)
        self.start_tls()
        self.expect_header()
        self.open_stream()
        self.send(self.features("pre-auth"))
        if self.log_in():
            self.serve(s.session_time)


# ---------------------------------------------------------------------------------------------
# The server


class Server:
    """A hostile (or, with case=None, friendly) XMPP server on 127.0.0.1:<free port>.

    case: a Case to replay (None: a normal server; on_session(conn) then runs after bind).
    Knobs: direct_tls, offer_starttls, starttls_required, mechanisms, extra_auth_features,
    allow_auth_in_clear, offer_auth_in_clear, offer_sm, session_feature, session_required,
    scram_attack ({"server_first": ..., "server_final": ..., "xmpp": raw bytes after <auth>}),
    bind_jid, iq_hook(conn, iq) -> bool, iq_rewrite(conn, payload bytes) -> bytes,
    step_timeout (s the server waits for each client step), session_time (s it serves after
    the payload), user/password/roster.
    """

    def __init__(self, pki, case=None, direct_tls=False, offer_starttls=True, starttls_required=True,
                 mechanisms=("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"), extra_auth_features="",
                 allow_auth_in_clear=False, offer_auth_in_clear=False, offer_sm=True, session_feature=True,
                 session_required=False, scram_attack=None, bind_jid=None, on_session=None, iq_hook=None,
                 iq_rewrite=None, step_timeout=15.0, session_time=30.0, user="alice", password="hostile-pw",
                 roster=(("bob@example.test", "Bob"),)):
        self.pki = pki
        self.case = case
        self.direct_tls = direct_tls
        self.offer_starttls = offer_starttls
        self.starttls_required = starttls_required
        self.mechanisms = list(mechanisms)
        self.extra_auth_features = extra_auth_features
        self.allow_auth_in_clear = allow_auth_in_clear
        self.offer_auth_in_clear = offer_auth_in_clear
        self.offer_sm = offer_sm
        self.session_feature = session_feature
        self.session_required = session_required
        self.scram_attack = scram_attack
        self.bind_jid = bind_jid
        self.on_session = on_session
        self.iq_hook = iq_hook
        self.iq_rewrite = iq_rewrite
        self.step_timeout = step_timeout
        self.session_time = session_time
        self.user = user
        self.password = password
        self.roster = list(roster)
        self.connections = []
        self.errors = []
        self.stopping = False
        self.case_stream_script = False
        self._ctx = None
        self._lock = threading.Lock()
        self._threads = []
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((LOOPBACK, 0))
        self.port = self.lsock.getsockname()[1]
        self.host = LOOPBACK
        self._acceptor = None

    @property
    def ca(self):
        return self.pki.ca

    def ssl_context(self):
        if self._ctx is None:
            crt, key = self.pki.cert("server")
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(crt, key)
            self._ctx = ctx
        return self._ctx

    def start(self):
        self.ssl_context()
        self.lsock.listen(16)
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def _accept(self):
        n = 0
        while not self.stopping:
            try:
                sock, _ = self.lsock.accept()
            except OSError:
                return
            if self.stopping:
                sock.close()
                return
            n += 1
            conn = Conn(self, sock, n)
            with self._lock:
                self.connections.append(conn)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn):
        try:
            conn.run()
        except (ClientGone, Timeout) as e:
            conn.event("end", "%s: %s" % (type(e).__name__, e))
        except Exception as e:  # noqa: BLE001 - a harness bug: keep it for the report
            import traceback
            conn.error = "%s: %s" % (type(e).__name__, e)
            self.errors.append(traceback.format_exc())
        finally:
            conn.closed = True
            try:
                conn.sock.close()
            except OSError:
                pass

    def stop(self):
        self.stopping = True
        try:
            self.lsock.close()
        except OSError:
            pass
        with self._lock:
            conns = list(self.connections)
        for c in conns:
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in self._threads:
            t.join(2.0)

    # -- what happened (for the checks)

    def received(self):
        """Everything every client sent (decrypted), concatenated."""
        return b"".join(bytes(c.received) for c in self.connections)

    def events(self):
        return [e for c in self.connections for e in c.events]

    def got_auth(self):
        return any(e[0] == "auth" for e in self.events())


def main(argv):
    """python3 hostile.py CASE-ID: serve that case on a free port until interrupted (debugging)."""
    import tempfile
    case = Case(os.path.join(CORPUS, "cases", argv[1] + ".case")) if len(argv) > 1 else None
    d = tempfile.mkdtemp(prefix="xu-hostile-")
    pki = xh.PKI(d)
    srv = Server(pki, case=case, session_time=3600).start()
    print("listening on %s:%d (CA %s); try:\n  xmpp-send --jid alice@%s --host %s --port %d --cafile %s "
          "bob@%s -m hi   (XMPP_PASSWORD=%s)" % (srv.host, srv.port, pki.ca, DOMAIN, srv.host, srv.port, pki.ca,
                                                  DOMAIN, srv.password), flush=True)
    try:
        while True:
            time.sleep(1)
            for c in srv.connections:
                while c.events:
                    print("conn %d: %s" % (c.number, c.events.pop(0)), flush=True)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main(sys.argv)
