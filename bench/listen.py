#!/usr/bin/python3
"""Benchmark: how many messages per second `xmpp-listen --format json` takes from a flooding
sender, and its peak RSS meanwhile, against a private Prosody on loopback (flood() is also
used by bench/compare.py).

The listener's stdout goes to a file whose lines are counted (every message printed). The
sender is `xmpp-send --lines` on one connection (so the server, not process start-up, sets the
pace); xmpp-listen runs with --count N under GNU time and exits after the last.
The rate is N over the time from the first line written to the listener's exit, so it is
bounded by Prosody's routing as much as by the listener: the listener's own CPU time is
printed too. Targets: >= 1000 messages/s, peak RSS < 16 MiB.

usage: bench/listen.py [BUILD_DIR] [N]   (default build, 5000)
"""
import os
import subprocess
import sys
import time

import benchutil as bu  # sets up the paths: before xuharness
import xuharness as xh  # noqa: E402

count = bu.int_arg(2, 5000) if __name__ == "__main__" else 0

TARGET_RATE = 1000
TARGET_RSS_KIB = 16 * 1024


def flood(srv, count):
    """Flood bob@localhost/bench on srv with count messages and measure xmpp-listen taking them.

    Returns a dict: count, delivered (the JSON lines xmpp-listen printed), rate (messages/s),
    took (s), cpu (s), rss (KiB), rc (the listener's exit code), send_rc."""
    out = os.path.join(srv.run.mkdtemp("listen-out"), "out.jsonl")
    listen = [os.path.join(bu.BUILD, "xmpp-listen"), "--jid", "bob@localhost", "--host", srv.host,
              "--port", str(srv.port), "--cafile", srv.ca, "-f", "json", "-n", str(count),
              "-r", "bench"]
    lenv = srv.env(user="bob")
    with open(out, "wb") as fout:
        lp = subprocess.Popen(["/usr/bin/time", "-f", "XUBENCH %e %U %S %M"] + listen, env=lenv,
                              stdin=subprocess.DEVNULL, stdout=fout, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # bound and present before the flood (presence is confirmed by then)
    body = "flood message %06d with some text to make it a realistic size: <&> ünïcödé"
    data = "".join(body % i + "\n" for i in range(count))
    t0 = time.monotonic()
    rc, out_, err = srv.run_send(["--lines", "bob@localhost/bench"], stdin=data, timeout=600)
    if rc != 0:
        lp.kill()
        raise SystemExit("sender failed (%d): %s" % (rc, err))
    _, lerr = lp.communicate(timeout=600)
    took = time.monotonic() - t0
    line = [x for x in lerr.splitlines() if x.startswith("XUBENCH ")][-1].split()
    with open(out, "rb") as f:
        delivered = sum(1 for ln in f if ln.strip())
    return {"count": count, "delivered": delivered, "rate": count / took, "took": took,
            "cpu": float(line[2]) + float(line[3]), "rss": int(line[4]), "rc": lp.returncode,
            "send_rc": rc, "err": lerr.strip()[-300:]}


def main():
    run = xh.Run("bench-listen")
    try:
        srv = xh.Prosody(run, users=("alice", "bob"))
        r = flood(srv, count)
        if r["rc"] != 0:
            raise SystemExit("xmpp-listen failed (%d): %s" % (r["rc"], r["err"]))
        print("xmpp-listen --format json, %d messages flooded through Prosody (%d printed):"
              % (count, r["delivered"]))
        print("  %.0f messages/s end to end (%.2f s); listener CPU %.2f s (%.0f us/message)"
              % (r["rate"], r["took"], r["cpu"], r["cpu"] / count * 1e6))
        print("  listener peak RSS: %d KiB" % r["rss"])
        ok = r["rate"] >= TARGET_RATE and r["rss"] < TARGET_RSS_KIB and r["delivered"] == count
        print("targets (>= %d messages/s, RSS < %d KiB, all printed): %s" % (
            TARGET_RATE, TARGET_RSS_KIB, "met" if ok else "MISSED"))
        return 0 if ok else 1
    finally:
        run.cleanup()


if __name__ == "__main__":
    sys.exit(main())
