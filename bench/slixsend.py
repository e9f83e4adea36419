#!/usr/bin/python3
"""A small slixmpp sender, the kind of script people write for cron: log in (STARTTLS, the
certificate checked against --ca and the JID's domain), send one message (--message) or one
message per line of stdin (--lines), ping the own server so every message has been handled
(RFC 6120 §10.1: one stream is processed in order), then close the stream. Exit 0 on success.

usage: slixsend.py --jid JID --host H --port P --ca CA.pem (--message TEXT | --lines) TO
The password comes from $XMPP_PASSWORD.
"""
import argparse
import os
import ssl
import sys

import slixmpp


class Send(slixmpp.ClientXMPP):
    def __init__(self, args, bodies):
        super().__init__(args.jid, os.environ["XMPP_PASSWORD"])
        self.to, self.bodies, self.rc = args.to, bodies, 1
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda _e: self.stop("authentication failed"))
        self.add_event_handler("connection_failed", lambda e: self.stop("connection failed: %s" % e))
        self.add_event_handler("disconnected", lambda _e: self.loop.stop())

    def stop(self, why):
        print("slixsend: %s" % why, file=sys.stderr)
        self.loop.stop()

    async def start(self, _event):
        for body in self.bodies:
            self.send_message(mto=self.to, mbody=body, mtype="chat")
        try:
            await self["xep_0199"].ping(self.boundjid.domain, timeout=60)
        except Exception as e:  # noqa: BLE001 - any failure is the run's failure
            self.stop("ping failed: %r" % (e,))
            return
        self.rc = 0
        self.disconnect()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--message")
    p.add_argument("--lines", action="store_true")
    p.add_argument("to")
    args = p.parse_args()
    bodies = [line.rstrip("\n") for line in sys.stdin] if args.lines else [args.message]
    x = Send(args, bodies)
    x.register_plugin("xep_0199")
    x.ca_certs = args.ca
    x.ssl_context = ssl.create_default_context()
    x.ssl_context.check_hostname = True
    domain = slixmpp.JID(args.jid).domain
    # slixmpp skips the name check for an IP address: pin it to the JID's domain.
    x.add_event_handler("connected", lambda _e: setattr(x, "default_domain", domain))
    x.connect(address=(args.host, args.port), force_starttls=True)
    x.loop.run_forever()
    return x.rc


if __name__ == "__main__":
    sys.exit(main())
