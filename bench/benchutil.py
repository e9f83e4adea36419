"""Shared by the benchmarks: where the build is (argv[1], default build/), the test harness on
the path, and timing one run of a command from a fresh process. Import it before xuharness."""
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(SRC, "build"))
os.environ["XU_BIN_DIR"] = BUILD
os.environ.setdefault("XU_SRC_DIR", SRC)


def int_arg(i, default):
    """Command-line argument i as an int, or default."""
    return int(sys.argv[i]) if len(sys.argv) > i else default


def one(argv, env):
    """Wall ms, CPU ms and peak RSS KiB of one run, measured by GNU time around exec (a fork
    of this Python process would report Python's own pages as the child's RSS)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "XUBENCH %U %S %M"] + argv, env=env,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = (time.monotonic() - t0) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    if r.returncode != 0:
        raise SystemExit("%s failed with %d: %s" % (os.path.basename(argv[0]), r.returncode, r.stderr.strip()))
    line = [x for x in r.stderr.splitlines() if x.startswith("XUBENCH ")][-1].split()
    return wall, cpu, int(line[3])
