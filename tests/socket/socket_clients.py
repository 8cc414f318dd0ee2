"""Python clients for the socket tests. Each function gets the port a node
announced and raises (assert) on any failure. Only 127.0.0.1 is used."""
import asyncio
import hashlib
import os
import random
import socket
import struct
import threading
import time

HOST = "127.0.0.1"


def _connect(port, timeout=20):
    s = socket.create_connection((HOST, port), timeout=timeout)
    return s


def _recv_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        c = s.recv(1)
        assert c, "connection closed before a full line: %r" % buf
        buf += c
    return buf[:-1].decode()


def _recv_all(s):
    chunks = []
    while True:
        c = s.recv(1 << 20)
        if not c:
            return b"".join(chunks)
        chunks.append(c)


# ---- skynet.socket (tests/socket/lua/socktest_main.lua) ----

def many_clients(port, n=1000, lines=3):
    async def one(i):
        r, w = await asyncio.open_connection(HOST, port)
        w.write(b"echo\n")
        for k in range(lines):
            msg = ("client %d line %d\n" % (i, k)).encode()
            w.write(msg)
            await w.drain()
            got = await r.readline()
            assert got == msg, (got, msg)
        w.close()
        await w.wait_closed()

    async def all_clients():
        # every client connects before any finishes: 1,000 concurrent sockets
        await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), 50)

    asyncio.run(all_clients())


def big_transfer(port, total=64 << 20):
    s = _connect(port, timeout=60)
    s.sendall(b"bigecho\n")
    block = os.urandom(1 << 20)
    sent_hash = hashlib.sha256()
    got_hash = hashlib.sha256()
    got = [0]

    def reader():
        while got[0] < total:
            c = s.recv(1 << 20)
            assert c, "closed after %d bytes" % got[0]
            got_hash.update(c)
            got[0] += len(c)

    t = threading.Thread(target=reader)
    t.start()
    for _ in range(total // len(block)):
        s.sendall(block)
        sent_hash.update(block)
    t.join(60)
    assert got[0] == total, got[0]
    assert got_hash.digest() == sent_hash.digest()
    s.shutdown(socket.SHUT_WR)
    assert s.recv(1) == b""  # the server closes after our EOF
    s.close()


def halfclose(port):
    # client half-closes: the server reads to EOF and can still answer
    s = _connect(port)
    payload = os.urandom(1 << 20)
    s.sendall(b"halfclose\n" + payload)
    s.shutdown(socket.SHUT_WR)
    assert _recv_line(s) == "len=%d" % len(payload)
    assert s.recv(1) == b""
    s.close()
    # server closes right after writing: everything arrives before EOF
    n = 16 << 20
    s = _connect(port)
    s.sendall(b"source %d\n" % n)
    data = _recv_all(s)
    assert len(data) == n and data == b"s" * n, len(data)
    s.close()


def slowread(port):
    n = 8 << 20
    s = _connect(port)
    s.sendall(b"slowread %d\n" % n)
    s.sendall(b"x" * n)  # a fast sender; the server pauses reading past 128 KiB
    assert _recv_line(s) == "ok %d" % n
    s.close()


def warning(port):
    n = 64 << 20
    s = _connect(port, timeout=60)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"warn %d\n" % n)
    time.sleep(1.0)  # let the server's backlog pass 1 MiB before we read
    got = 0
    while got < n:
        c = s.recv(min(1 << 20, n - got))
        assert c
        got += len(c)
    line = _recv_line(s)
    sizes = [int(x) for x in line.split()[1].split(",")]
    assert sizes[0] >= 1024, sizes
    assert sizes[-1] == 0, sizes
    s.close()


def all_socket(port):
    many_clients(port)
    big_transfer(port)
    halfclose(port)
    slowread(port)
    warning(port)


# ---- gates: 2-byte (or 4-byte) big-endian length packets, echoed back ----

def _pkt(body, header=2):
    return struct.pack(">H" if header == 2 else ">I", len(body)) + body


def _read_pkt(s, header=2):
    h = b""
    while len(h) < header:
        c = s.recv(header - len(h))
        assert c, "closed while reading a header"
        h += c
    n = struct.unpack(">H" if header == 2 else ">I", h)[0]
    body = b""
    while len(body) < n:
        c = s.recv(n - len(body))
        assert c, "closed inside a packet"
        body += c
    return body


def _gate_fragments(port, header):
    rnd = random.Random(1234)
    bodies = [os.urandom(rnd.randrange(0, 3000)) for _ in range(200)]
    bodies.append(b"x" * 65535)  # the largest 2-byte packet
    stream = b"".join(_pkt(b, header) for b in bodies)
    # random fragments
    s = _connect(port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = []

    def reader():
        for _ in bodies:
            got.append(_read_pkt(s, header))

    t = threading.Thread(target=reader)
    t.start()
    i = 0
    while i < len(stream):
        k = rnd.randrange(1, 700)
        s.sendall(stream[i:i + k])
        i += k
        if rnd.random() < 0.05:
            time.sleep(0.001)
    t.join(30)
    assert got == bodies, "random fragments: %d of %d packets right" % (
        sum(1 for a, b in zip(got, bodies) if a == b), len(bodies))
    s.close()
    # one byte at a time
    s = _connect(port)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    small = [b"one", b"", b"byte at a time", os.urandom(300)]
    for b in small:
        for ch in _pkt(b, header):
            s.sendall(bytes([ch]))
        assert _read_pkt(s, header) == b
    # a client that disconnects mid-packet: the gate drops it and carries on
    s2 = _connect(port)
    s2.sendall(_pkt(b"complete", header) + _pkt(b"never finished", header)[:7])
    assert _read_pkt(s2, header) == b"complete"
    s2.close()
    time.sleep(0.05)
    s.sendall(_pkt(b"still alive", header))
    assert _read_pkt(s, header) == b"still alive"
    s.close()


def gate_fragments(port):
    _gate_fragments(port, 2)


def gate_fragments_l(port):
    # 4-byte headers; a length of 16 MiB or more closes the connection
    _gate_fragments(port, 4)
    s = _connect(port)
    s.sendall(struct.pack(">I", 0x1000000) + b"abc")
    assert s.recv(1) == b"", "oversized length must close the connection"
    s.close()
    s = _connect(port)
    s.sendall(_pkt(b"after oversize", 4))
    assert _read_pkt(s, 4) == b"after oversize"
    s.close()


def gate_lua(port):
    _gate_fragments(port, 2)
    # a client the watchdog kicks: "kick" in the body closes it from the server
    s = _connect(port)
    s.sendall(_pkt(b"kick"))
    assert s.recv(1) == b""
    s.close()


# ---- benchmark: gate echo with many clients ----

def gate_bench(port, clients=100, seconds=3.0, size=64):
    lat = []
    count = [0]

    async def one():
        r, w = await asyncio.open_connection(HOST, port)
        body = os.urandom(size)
        pkt = _pkt(body)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            w.write(pkt)
            h = await r.readexactly(2)
            n = struct.unpack(">H", h)[0]
            got = await r.readexactly(n)
            lat.append(time.perf_counter() - t0)
            assert got == body
            count[0] += 1
        w.close()

    async def run():
        await asyncio.gather(*(one() for _ in range(clients)))

    t0 = time.monotonic()
    asyncio.run(run())
    dt = time.monotonic() - t0
    lat.sort()
    p50 = lat[len(lat) // 2] * 1000
    p99 = lat[int(len(lat) * 0.99)] * 1000
    print("BENCH gate echo: %d clients, %d-byte packets: %.0f packets/s, p50 %.2f ms, p99 %.2f ms"
          % (clients, size, count[0] / dt, p50, p99), flush=True)
    assert count[0] > 0


def gate_bench_env(port):
    clients, seconds, size = os.environ.get("GATE_BENCH", "100,5,64").split(",")
    gate_bench(port, int(clients), float(seconds), int(size))


def gate_bench_exe(port):
    """Run the C load generator named by GATE_BENCH_EXE (tests/bench/gate_echo_client.c)."""
    import subprocess
    clients, seconds, size = os.environ.get("GATE_BENCH", "100,5,64").split(",")
    p = subprocess.run([os.environ["GATE_BENCH_EXE"], str(port), clients, seconds, size],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=float(seconds) + 30)
    print(p.stdout.decode(errors="replace"), end="", flush=True)
    assert p.returncode == 0, "load generator failed"
