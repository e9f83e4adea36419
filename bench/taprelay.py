#!/usr/bin/python3
"""A link with a fixed one-way delay between two network namespaces, for the benchmarks (the
kernel here has no netem). Creates a TAP device in each namespace (`ip netns` names) and
copies every Ethernet frame from one to the other after DELAY_MS, FIFO, nothing dropped or
reordered. The devices vanish when this process exits (SIGTERM or stdin closed).

usage: taprelay.py NS_A DEV_A NS_B DEV_B DELAY_MS      (run as root; prints "ready" when set up)
"""
import collections
import ctypes
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000

libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns %s" % path)
    finally:
        os.close(fd)


def tap(ns, name):
    """A TAP fd for device `name` created inside namespace `ns`."""
    setns("/run/netns/" + ns)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    ns_a, dev_a, ns_b, dev_b, delay = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]) / 1000
    home = "/proc/self/ns/net"
    own = os.open(home, os.O_RDONLY)
    a, b = tap(ns_a, dev_a), tap(ns_b, dev_b)
    if libc.setns(own, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns back")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    peer = {a: b, b: a}
    queue = {a: collections.deque(), b: collections.deque()}  # frames waiting to go out on fd
    print("ready", flush=True)
    while True:
        now = time.monotonic()
        due = [q[0][0] for q in queue.values() if q]
        timeout = max(0.0, min(due) - now) if due else None
        r, _, _ = select.select([a, b, 0], [], [], timeout)
        now = time.monotonic()
        for fd in r:
            if fd == 0:
                if not os.read(0, 4096):
                    return 0
                continue
            while True:
                try:
                    frame = os.read(fd, 65536)
                except BlockingIOError:
                    break
                queue[peer[fd]].append((now + delay, frame))
        for fd, q in queue.items():
            while q and q[0][0] <= now + 0.0002:
                try:
                    os.write(fd, q.popleft()[1])
                except OSError:
                    pass  # the device went down: the frame is lost, like on a wire


if __name__ == "__main__":
    sys.exit(main())
