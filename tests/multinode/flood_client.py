#!/usr/bin/env python3
"""A flood of idle TCP connections, as an attacker without a key would open.

    flood_client.py HOST PORT FIRST_SOURCE NSOURCES COUNT SECONDS

Keeps COUNT connections to HOST:PORT open or opening for SECONDS, bound to
the source addresses 127.0.0.FIRST_SOURCE .. +NSOURCES-1 in turn (all
loopback), never sending a byte; a connection the server closes is replaced
at once.  Prints one line of JSON at the end: opened, closed_by_server,
failed (connect refused at once), held (open at the end), peak."""
import errno
import json
import resource
import select
import socket
import sys
import time

IP_BIND_ADDRESS_NO_PORT = 24


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    first, nsrc, count, seconds = (int(a) for a in sys.argv[3:7])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 64
    if hard < want:
        print("flood_client: FAIL: needs %d descriptors, hard limit is %d" % (want, hard))
        sys.exit(2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    ep = select.epoll()
    socks = {}
    st = {"opened": 0, "closed_by_server": 0, "failed": 0, "peak": 0}
    nth = 0

    def open_one():
        nonlocal nth
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind(("127.0.0.%d" % (first + nth % nsrc), 0))
        nth += 1
        rc = s.connect_ex((host, port))
        if rc not in (0, errno.EINPROGRESS):
            st["failed"] += 1
            s.close()
            return False
        ep.register(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
        socks[s.fileno()] = s
        st["opened"] += 1
        return True

    end = time.time() + seconds
    while time.time() < end:
        while len(socks) < count and open_one():
            pass
        st["peak"] = max(st["peak"], len(socks))
        for fd, _ in ep.poll(0.05, 4096):
            s = socks.pop(fd)
            ep.unregister(fd)
            s.close()
            st["closed_by_server"] += 1
    st["held"] = len(socks)
    for s in socks.values():
        s.close()
    print(json.dumps(st))


if __name__ == "__main__":
    main()
