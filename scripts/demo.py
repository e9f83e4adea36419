"""Demo driver: alice sends bob a message through a private Prosody; bob's slixmpp client shows it."""
import os
import shlex
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
import xuharness as xh  # noqa: E402


def main():
    run = xh.Run("demo")
    try:
        print("demo: starting a throwaway Prosody on 127.0.0.1 with its own CA ...", flush=True)
        srv = xh.Prosody(run, users=("alice", "bob"))
        print("demo: Prosody is up on 127.0.0.1:%d; accounts alice@localhost and bob@localhost"
              % srv.port, flush=True)
        bob = srv.receiver("bob")
        print("demo: bob is online (%s, an independent slixmpp client)" % bob.full_jid, flush=True)
        text = "Hello bob! Sent by xmpp-send at %s" % time.strftime("%H:%M:%S")
        args = ["-v", "bob@localhost", "-m", text]
        argv = srv.send_argv(args)
        print("\n$ XMPP_PASSWORD=... " + " ".join(shlex.quote(a) for a in argv), flush=True)
        t0 = time.monotonic()
        rc, out, err = srv.run_send(args)
        took = time.monotonic() - t0
        sys.stdout.write(err)
        print("xmpp-send exited with %d after %.0f ms" % (rc, took * 1000), flush=True)
        if rc != 0:
            return 1
        got = bob.collect(1, timeout=10)
        for m in got:
            print("\ndemo: bob received from %s (type %s): %s" % (m.get("from"), m.get("type"),
                                                                 m.get("body")), flush=True)
        return 0 if got and got[0].get("body") == text else 1
    finally:
        run.cleanup()


if __name__ == "__main__":
    sys.exit(main())
