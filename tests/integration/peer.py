#!/usr/bin/python3
"""Interactive slixmpp client for the integration tests: the other side of xmpp-listen (RFC 6120 §8 stanzas, RFC 6121 §4-5, XEP-0199).

Logs in like receiver.py (certificate checked against the test CA and the expected name),
sends initial presence, then obeys one JSON command per line on stdin and answers each with
one JSON line on stdout, in order:

  {"op": "send", "xml": [STANZA, ...]}   send raw stanzas exactly as given (the test builds
                                         the XML, so a CR can travel as &#13;) -> {"ok": true}
  {"op": "sync"}                         ping our own server; it handles one stream in order
                                         (RFC 6120 §10.1), so everything sent before has been
                                         routed once the answer is back -> {"ok": true}
  {"op": "iq", "xml": IQ, "timeout": S}  send an <iq/> (with an id) and wait for the answer
                                         with that id -> {"type", "from", "id", "xml"} or {"timeout": true}
  {"op": "messages", "n": N, "timeout": S}
                                         the <message/>s received since the last call, once N
                                         are there or S seconds passed -> {"messages": [...]}
  {"op": "presences", "n": N, "timeout": S}
                                         the <presence/>s received since the last call, as
                                         "messages" -> {"presences": [{"from", "type", "show",
                                         "status", "priority", "xml"}, ...]}
  {"op": "strays"}                       answers (result/error) from other entities that no "iq"
                                         command waited for, since the last call -> {"iqs": [...]}
  {"op": "quit"}                         disconnect and exit (also on end of stdin)

A received message is {"from", "to", "type", "id", "body", "subject", "thread", "error", "xml"}.
Unanswered requests to us get slixmpp's own error answers; nothing else is done for them.
"""

import asyncio
import json
import os
import sys
import time

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath
from slixmpp.xmlstream.matcher.base import MatcherBase

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slixclient  # noqa: E402

NS = "{jabber:client}"
NS_STANZAS = "{urn:ietf:params:xml:ns:xmpp-stanzas}"


class MatchIqAnswer(MatcherBase):
    """<iq type='result'/> or type='error': requests stay with slixmpp, which answers them."""

    def match(self, xml):
        return xml.xml.tag == NS + "iq" and xml.xml.get("type") in ("result", "error")


class Peer(slixclient.Client):
    name = "peer"

    def __init__(self, args, password):
        super().__init__(args, password)
        self.inbox = []
        self.inbox_event = asyncio.Event()
        self.presences = []
        self.presence_event = asyncio.Event()
        self.iq_waiters = {}
        self.stray_iqs = []
        self.stdin_buf = b""
        self.busy = False
        self.queue = []
        self.register_handler(Callback("xu peer messages", MatchXPath(NS + "message"), self.on_message))
        self.register_handler(Callback("xu peer presences", MatchXPath(NS + "presence"), self.on_presence))
        # Answers to the <iq/>s we sent raw: slixmpp's own Iq.send() is not used, so catch them here.
        self.register_handler(Callback("xu peer iq answers", MatchIqAnswer(None), self.on_iq))
        if args.manual_subscriptions:
            self.auto_authorize = None  # neither approve nor deny: leave it to the test
            self.auto_subscribe = False

    def on_disconnected(self, _event):
        if not self.ready and self.failed is None:
            self.fail("disconnected before the session started")
        else:
            print("peer: disconnected", file=sys.stderr, flush=True)
            self.loop.call_soon(self.loop.stop)

    def answer(self, obj):
        sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def on_message(self, msg):
        xml = msg.xml
        rec = {
            "from": xml.get("from"),
            "to": xml.get("to"),
            "type": xml.get("type", "normal"),
            "id": xml.get("id"),
            "body": slixclient.child_text(xml, "body"),
            "subject": slixclient.child_text(xml, "subject"),
            "thread": slixclient.child_text(xml, "thread"),
            "error": None,
            "xml": str(msg),
        }
        err = xml.find(NS + "error")
        if err is not None:
            rec["error"] = [c.tag[len(NS_STANZAS):] for c in err
                            if c.tag.startswith(NS_STANZAS) and c.tag != NS_STANZAS + "text"]
        self.inbox.append(rec)
        self.inbox_event.set()

    def on_presence(self, pres):
        xml = pres.xml
        self.presences.append({
            "from": xml.get("from"),
            "type": xml.get("type"),
            "show": slixclient.child_text(xml, "show"),
            "status": slixclient.child_text(xml, "status"),
            "priority": slixclient.child_text(xml, "priority"),
            "xml": str(pres),
        })
        self.presence_event.set()

    def on_iq(self, iq):
        xml = iq.xml
        if xml.get("type") not in ("result", "error"):
            return
        ans = {"type": xml.get("type"), "from": xml.get("from"), "id": xml.get("id"), "xml": str(iq)}
        fut = self.iq_waiters.pop(xml.get("id"), None)
        if fut is not None and not fut.done():
            fut.set_result(ans)
        elif xml.get("from") not in (None, self.boundjid.domain, self.boundjid.bare):
            self.stray_iqs.append(ans)


    async def session(self, _event):
        sslobj = self.transport.get_extra_info("ssl_object") if self.transport else None
        if sslobj is None:
            self.fail("the stream is not encrypted")
            return
        names = [v for k, v in sslobj.getpeercert().get("subjectAltName", ()) if k == "DNS"]
        if self.args.server_name not in names:
            self.fail("certificate names %s, not %s" % (names, self.args.server_name))
            return
        self.send_presence(ppriority=self.args.priority)
        await self.plugin["xep_0199"].send_ping(self.boundjid.domain, timeout=10)
        self.ready = True
        self.loop.add_reader(sys.stdin.fileno(), self.on_stdin)
        self.answer({"ready": self.boundjid.full})

    def on_stdin(self):
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:
            self.loop.remove_reader(sys.stdin.fileno())
            self.disconnect(wait=2)
            return
        self.stdin_buf += data
        *lines, self.stdin_buf = self.stdin_buf.split(b"\n")
        for line in lines:
            if line.strip():
                self.queue.append(json.loads(line.decode("utf-8")))
        if not self.busy:
            self.busy = True
            asyncio.ensure_future(self.run_queue())

    async def run_queue(self):
        try:
            while self.queue:
                cmd = self.queue.pop(0)
                try:
                    res = await self.command(cmd)
                except Exception as e:  # noqa: BLE001 - report it to the harness
                    res = {"exception": repr(e)}
                if res is not None:
                    self.answer(res)
        finally:
            self.busy = False

    async def collect(self, items, event, cmd):
        """Wait until items holds cmd["n"] entries or cmd["timeout"] seconds passed."""
        want = cmd.get("n", 0)
        t_end = time.monotonic() + cmd.get("timeout", 0)
        while len(items) < want:
            left = t_end - time.monotonic()
            if left <= 0:
                break
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), left)
            except asyncio.TimeoutError:
                break

    async def command(self, cmd):
        op = cmd.get("op")
        if op == "quit":
            self.queue.clear()
            self.loop.remove_reader(sys.stdin.fileno())
            self.disconnect(wait=2)
            return None
        if op == "send":
            for raw in cmd["xml"]:
                self.send_raw(raw)
            return {"ok": True}
        if op == "sync":
            await self.plugin["xep_0199"].send_ping(self.boundjid.domain, timeout=cmd.get("timeout", 10))
            return {"ok": True}
        if op == "iq":
            iq_id = cmd["id"]
            fut = self.loop.create_future()
            self.iq_waiters[iq_id] = fut
            self.send_raw(cmd["xml"])
            try:
                return await asyncio.wait_for(fut, cmd.get("timeout", 10))
            except asyncio.TimeoutError:
                self.iq_waiters.pop(iq_id, None)
                return {"timeout": True}
        if op == "messages":
            await self.collect(self.inbox, self.inbox_event, cmd)
            got, self.inbox = self.inbox, []
            return {"messages": got}
        if op == "presences":
            await self.collect(self.presences, self.presence_event, cmd)
            got, self.presences = self.presences, []
            return {"presences": got}
        if op == "strays":
            got, self.stray_iqs = self.stray_iqs, []
            return {"iqs": got}
        return {"exception": "unknown op %r" % (op,)}


def main():
    p = slixclient.arg_parser()
    p.add_argument("--priority", type=int, default=0)
    p.add_argument("--manual-subscriptions", action="store_true",
                   help="answer no subscription request by itself (slixmpp approves them by default)")
    args, password = slixclient.parse(p, 'peer')
    if password is None:
        return 2
    return slixclient.run(Peer(args, password), args)


if __name__ == "__main__":
    sys.exit(main())
