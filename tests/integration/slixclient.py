"""What the test suite's slixmpp clients (receiver.py, sender.py, peer.py) share: options,
the password from the environment, certificate checks that stay on, and the run loop."""

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
