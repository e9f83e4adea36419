#!/usr/bin/python3
"""Independent XMPP receiver for the integration tests (slixmpp): RFC 6120 client, RFC 6121 §5 messages.

Logs in with certificate verification against the test CA, checks the certificate names the
expected domain itself (slixmpp skips that for IP addresses), sends initial presence, then writes
every <message/> it receives as one JSON line to --out (flushed at once).

Control on stdin, one command per line:
  barrier ID   send ourselves a message; when it comes back write {"barrier": ID}. The server
               routes stanzas in order, so every message routed to us before the command has
               been written to --out once the barrier line appears.
  quit         disconnect and exit (also on end of stdin, so we never outlive the harness)
"""

import json
import os
import sys

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slixclient  # noqa: E402

NS = "{jabber:client}"
BARRIER_BODY = "xu-harness-barrier:"


class Receiver(slixclient.Client):
    name = "receiver"

    def __init__(self, args, password):
        super().__init__(args, password)
        self.out = open(args.out, "a", encoding="utf-8")
        self.register_handler(Callback("xu all messages", MatchXPath(NS + "message"), self.on_message))

    def write(self, record):
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.out.flush()

    def check_peer_name(self):
        # Python's check already ran when default_domain was set; this second look makes the
        # receiver's trust explicit and independent of slixmpp internals.
        sslobj = self.transport.get_extra_info("ssl_object") if self.transport else None
        if sslobj is None:
            return "the stream is not encrypted"
        cert = sslobj.getpeercert()
        names = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
        if self.args.server_name not in names:
            return "certificate names %s, not %s" % (names, self.args.server_name)
        return None


    async def session(self, _event):
        why = self.check_peer_name()
        if why:
            self.fail(why)
            return
        self.send_presence(ppriority=self.args.priority)
        # The server handles our stream in order, so the ping's answer means the presence is in.
        try:
            await self.plugin["xep_0199"].send_ping(self.boundjid.domain, timeout=10)
        except Exception as e:  # noqa: BLE001 - any failure here means "not ready"
            self.fail("ping after presence failed: %r" % (e,))
            return
        self.ready = True
        self.loop.add_reader(sys.stdin.fileno(), self.on_stdin)
        with open(self.args.ready_file + ".tmp", "w") as f:
            f.write(self.boundjid.full + "\n")
        os.rename(self.args.ready_file + ".tmp", self.args.ready_file)

    def on_stdin(self):
        try:
            self.command()
        except Exception as e:  # noqa: BLE001
            self.fail("control command failed: %r" % (e,))

    def command(self):
        line = sys.stdin.readline()
        if not line or line.strip() == "quit":
            self.loop.remove_reader(sys.stdin.fileno())
            self.disconnect(wait=2)
            return
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "barrier":
            self.send_message(mto=self.boundjid.full, mbody=BARRIER_BODY + arg, mtype="chat")

    def on_message(self, msg):
        xml = msg.xml
        body = slixclient.child_text(xml, "body")
        if body is not None and body.startswith(BARRIER_BODY) and str(msg["from"]) == self.boundjid.full:
            self.write({"barrier": body[len(BARRIER_BODY):]})
            return
        rec = {
            "from": xml.get("from"),
            "to": xml.get("to"),
            "type": xml.get("type", "normal"),
            "subject": slixclient.child_text(xml, "subject"),
            "body": body,
            "thread": slixclient.child_text(xml, "thread"),
            "id": xml.get("id"),
        }
        err = xml.find(NS + "error")
        if err is not None:
            rec["error"] = [c.tag.split("}")[-1] for c in err if not c.tag.endswith("}text")]
        self.write(rec)


def main():
    p = slixclient.arg_parser()
    p.add_argument("--out", required=True)
    p.add_argument("--ready-file", required=True)
    p.add_argument("--priority", type=int, default=0)
    args, password = slixclient.parse(p, 'receiver')
    if password is None:
        return 2
    return slixclient.run(Receiver(args, password), args)


if __name__ == "__main__":
    sys.exit(main())
