"""What the test suite's slixmpp clients (receiver.py, sender.py, peer.py) share: options,
the password from the environment, certificate checks that stay on, failures that stop the run,
and the run loop."""

import argparse
import os
import ssl
import sys

import slixmpp

NS = "{jabber:client}"


def child_text(xml, name):
    """Text of the first jabber:client child `name`: None when absent, "" when empty."""
    el = xml.find(NS + name)
    if el is None:
        return None
    return el.text or ""


class Client(slixmpp.ClientXMPP):
    """A test client: any failure is recorded, said on stderr and stops the loop; session()
    (the subclass's) runs once the session starts, its exceptions being failures too."""

    name = "client"

    def __init__(self, args, password):
        super().__init__(args.jid, password)
        self.args = args
        self.failed = None
        self.ready = False  # set by session() once the client does its work
        self.add_event_handler("session_start", self.on_start)
        self.add_event_handler("failed_auth", lambda _e: self.fail("authentication failed"))
        self.add_event_handler("connection_failed", lambda e: self.fail("connection failed: %s" % e))
        self.add_event_handler("ssl_invalid_chain", lambda e: self.fail("certificate rejected: %s" % e))
        self.add_event_handler("disconnected", self.on_disconnected)

    def fail(self, why):
        if self.failed is None:
            self.failed = why
        print("%s: %s" % (self.name, why), file=sys.stderr, flush=True)
        self.loop.call_soon(self.loop.stop)

    def on_disconnected(self, _event):
        if not self.ready and self.failed is None:
            self.fail("disconnected before the session started")
        elif self.failed is None:
            self.loop.call_soon(self.loop.stop)

    async def on_start(self, event):
        try:
            await self.session(event)
        except Exception as e:  # noqa: BLE001 - slixmpp would only log it and hang on
            self.fail("session failed: %r" % (e,))

    async def session(self, _event):
        raise NotImplementedError


def arg_parser():
    """The options every client takes; callers add their own."""
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password-env", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--server-name", default=None, help="name the certificate must carry")
    return p


def parse(p, prog):
    """(args, password), or (args, None) after saying which variable is missing."""
    args = p.parse_args()
    if args.server_name is None:
        args.server_name = slixmpp.JID(args.jid).domain
    password = os.environ.get(args.password_env)
    if password is None:
        print("%s: $%s is not set" % (prog, args.password_env), file=sys.stderr)
    return args, password


def run(xmpp, args):
    """Connect with STARTTLS and full certificate checks against the test CA, run until the
    client stops the loop; 1 if it recorded a failure, else 0."""
    xmpp.register_plugin("xep_0199")
    xmpp.ca_certs = args.ca
    xmpp.ssl_context = ssl.create_default_context()
    xmpp.ssl_context.check_hostname = True
    xmpp.ssl_context.verify_mode = ssl.CERT_REQUIRED
    # slixmpp leaves default_domain empty for an IP address, which would skip the name check;
    # set it once the TCP connection stands (earlier it would make slixmpp resolve the name).
    xmpp.add_event_handler("connected", lambda _e: setattr(xmpp, "default_domain", args.server_name))
    xmpp.connect(address=(args.host, args.port), force_starttls=True)
    xmpp.loop.run_forever()
    return 1 if xmpp.failed else 0
