#!/usr/bin/python3
"""Benchmark: `xmpp-roster list` of a 500-contact roster from a fresh process, against a private
Prosody on loopback (the roster is imported once with `xmpp-roster import`).

Reports wall time (median and 90th percentile over N runs), client CPU and peak RSS, for the
text and the JSON output. Target (checked here, never by a timed test): median under 100 ms.

usage: bench/roster.py [BUILD_DIR] [RUNS] [CONTACTS]   (default build, 30, 500)
"""
import json
import statistics
import sys

import benchutil as bu  # sets up the paths: before xuharness
import xuharness as xh  # noqa: E402

runs = bu.int_arg(2, 30)
contacts = bu.int_arg(3, 500)

TARGET_WALL_MS = 100


def main():
    run = xh.Run("bench")
    try:
        srv = xh.Prosody(run, users=("alice",))
        items = [{"jid": "contact%04d@example.org" % i, "name": "Contact %d" % i,
                  "groups": ["Group %d" % (i % 10)]} for i in range(contacts)]
        rc, out, err = srv.run_roster(["import", "-"], stdin="".join(json.dumps(i) + "\n" for i in items),
                                      timeout=300)
        if rc != 0 or len(out.splitlines()) != contacts:
            raise SystemExit("import failed (%d): %s" % (rc, err.strip()))
        env = srv.env()
        ok = True
        print("xmpp-roster list, %d contacts, loopback Prosody, %d runs:" % (contacts, runs))
        for fmt in ("text", "json"):
            argv = srv.command_argv(xh.roster_path(), ["list", "-f", fmt])
            for _ in range(3):
                bu.one(argv, env)
            samples = [bu.one(argv, env) for _ in range(runs)]
            walls = sorted(s[0] for s in samples)
            med = statistics.median(walls)
            print("  -f %s: wall median %.1f ms, p90 %.1f ms; client CPU median %.1f ms; peak RSS %d KiB" % (
                fmt, med, walls[int(len(walls) * 0.9) - 1], statistics.median(s[1] for s in samples),
                max(s[2] for s in samples)))
            ok = ok and med < TARGET_WALL_MS
        print("target (median < %d ms): %s" % (TARGET_WALL_MS, "met" if ok else "MISSED"))
        return 0 if ok else 1
    finally:
        run.cleanup()


if __name__ == "__main__":
    sys.exit(main())
