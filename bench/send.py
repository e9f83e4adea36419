#!/usr/bin/python3
"""Benchmark: one xmpp-send from a fresh process against a private Prosody on loopback.

Reports wall time (median and 90th percentile over N runs), the process's CPU time and its
peak RSS (getrusage of the child). Targets (checked here, never by a timed test): median wall
time under 50 ms on loopback, peak RSS under 12 MiB (about 9 MiB of it is the shared
libraries' pages: GnuTLS with nettle/gmp/p11-kit, libxml2 with ICU; the heap peaks near 300 KiB).

usage: bench/send.py [BUILD_DIR] [RUNS]   (default build, 50)
"""
import statistics
import sys

import benchutil as bu  # sets up the paths: before xuharness
import xuharness as xh  # noqa: E402

runs = bu.int_arg(2, 50)

TARGET_WALL_MS = 50
TARGET_RSS_KIB = 12 * 1024


def main():
    run = xh.Run("bench")
    try:
        srv = xh.Prosody(run, users=("alice", "bob"))
        argv = srv.send_argv(["bob@localhost", "-m", "benchmark message"])
        env = srv.env()
        for _ in range(3):  # warm up Prosody's caches and the page cache
            bu.one(argv, env)
        samples = [bu.one(argv, env) for _ in range(runs)]
        walls = sorted(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        rss = max(s[2] for s in samples)
        p90 = walls[int(len(walls) * 0.9) - 1]
        med = statistics.median(walls)
        print("xmpp-send, one message, loopback Prosody, %d runs:" % runs)
        print("  wall (including GNU time's own exec): median %.1f ms, p90 %.1f ms, min %.1f ms" % (med, p90, walls[0]))
        print("  client CPU (user+sys): median %.1f ms" % cpu)
        print("  peak RSS: %d KiB" % rss)
        ok = med < TARGET_WALL_MS and rss < TARGET_RSS_KIB
        print("targets (median < %d ms, RSS < %d KiB): %s" % (TARGET_WALL_MS, TARGET_RSS_KIB,
                                                             "met" if ok else "MISSED"))
        return 0 if ok else 1
    finally:
        run.cleanup()


if __name__ == "__main__":
    sys.exit(main())
