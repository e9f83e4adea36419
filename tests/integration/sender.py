#!/usr/bin/python3
"""Independent XMPP sender for the integration tests (slixmpp): RFC 6120 client, RFC 6121 §5 messages.

Sends each --msg (a JSON object: to, body, and optionally type, subject, thread, id), then pings
its own server: the server handles one stream in order (RFC 6120 §10.1) and answers a bounce
while routing, so every error for our messages has arrived before the ping's answer. Waits
--grace seconds more, then prints each message error received as a JSON line on stdout:
{"id", "from", "type": "error", "condition", "error_type"}. Exit 0 when all that worked.
"""

import asyncio
import json
import os
import sys

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slixclient  # noqa: E402

NS = "{jabber:client}"
NS_STANZAS = "{urn:ietf:params:xml:ns:xmpp-stanzas}"


class Sender(slixclient.Client):
    name = "sender"

    def __init__(self, args, password):
        super().__init__(args, password)
        self.errors = []
        self.register_handler(Callback("xu message errors", MatchXPath(NS + "message"), self.on_message))

    def on_disconnected(self, _event):
        self.loop.stop()  # it disconnects itself once done, failures aside

    def on_message(self, msg):
        xml = msg.xml
        if xml.get("type") != "error":
            return
        err = xml.find(NS + "error")
        cond = None
        if err is not None:
            for c in err:
                if c.tag.startswith(NS_STANZAS) and c.tag != NS_STANZAS + "text":
                    cond = c.tag[len(NS_STANZAS):]
        self.errors.append({
            "id": xml.get("id"),
            "from": xml.get("from"),
            "type": "error",
            "condition": cond,
            "error_type": err.get("type") if err is not None else None,
        })


    async def session(self, _event):
        sslobj = self.transport.get_extra_info("ssl_object")
        if sslobj is None:
            self.fail("the stream is not encrypted")
            return
        names = [v for k, v in sslobj.getpeercert().get("subjectAltName", ()) if k == "DNS"]
        if self.args.server_name not in names:
            self.fail("certificate names %s, not %s" % (names, self.args.server_name))
            return
        for raw in self.args.msg:
            m = json.loads(raw)
            msg = self.make_message(mto=m["to"], mbody=m.get("body"), msubject=m.get("subject"),
                                    mtype=m.get("type", "chat"))
            if m.get("id"):
                msg["id"] = m["id"]
            if m.get("thread"):
                msg["thread"] = m["thread"]
            msg.send()
        try:
            await self.plugin["xep_0199"].send_ping(self.boundjid.domain, timeout=10)
        except Exception as e:  # noqa: BLE001
            self.fail("ping failed: %r" % (e,))
            return
        await asyncio.sleep(self.args.grace)
        for e in self.errors:
            print(json.dumps(e), flush=True)
        self.disconnect(wait=2)


def main():
    p = slixclient.arg_parser()
    p.add_argument("--msg", action="append", default=[], help="JSON: to, body, type, subject, thread, id")
    p.add_argument("--grace", type=float, default=0.0)
    args, password = slixclient.parse(p, 'sender')
    if password is None:
        return 2
    return slixclient.run(Sender(args, password), args)


if __name__ == "__main__":
    sys.exit(main())
