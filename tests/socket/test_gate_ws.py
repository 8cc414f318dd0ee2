#!/usr/bin/env python3
"""The C gate's WebSocket mode (protocol=ws) against Python's websockets
(Debian python3-websockets) and raw sockets, on a real node.

usage: test_gate_ws.py SKIFF

The node runs lua/wsgate_echo.lua: two C gates in ws mode, "bin" (binary
frames, packets to the watchdog) and "text" (text frames, connections
forwarded to an agent), max_packet 1 MiB.  Checked:
 1. 300 clients at once (150 per gate), 20 messages each, text and binary:
    every echo exact, every open and close reported to the watchdog.
 2. fragmented messages (websockets sends an iterable as fragments), a
    65536-byte and a 300000-byte message both ways (2/4/10-byte headers).
 3. ping -> pong with the payload; a ping between two fragments of a message.
 4. close codes: the client's 4001 is echoed; the watchdog's kick with 4002
    reaches the client; "close" is reported for both.
 5. bad input closes only that connection, with a log line and a code:
    a message of max_packet bytes (1009), an unmasked frame (1002),
    invalid UTF-8 in a text frame (1007), reserved bits (1002), a bad
    handshake (HTTP 400, no "open" reported), a wrong version (426), an
    endless handshake (431), a handshake that stalls (closed after
    ws_handshake_timeout, 3 s here).  A client that stays connected meanwhile still
    gets its echoes, and the node runs on.
"""
import asyncio
import os
import re
import socket
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import harness  # noqa: E402

try:
    import websockets
except ImportError:
    print("test_gate_ws: FAIL: Python's websockets is missing: install the Debian package "
          "python3-websockets")
    sys.exit(1)

MAX = 1 << 20


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def gate_ports(node):
    """{"bin": port, "text": port} from the service's and the gates' log lines."""
    ports = {}
    for name in ("bin", "text"):
        handle = node.wait(r"WSGATE %s (:[0-9a-f]+)" % name).group(1)
        ports[name] = int(node.wait(r"\[%s\] gate: listen on 127\.0\.0\.1:(\d+)" % handle).group(1))
    return ports


def url(port):
    return "ws://127.0.0.1:%d/" % port


# ---- 1. many clients ----

async def one_client(port, i, text, port_is_bin):
    async with websockets.connect(url(port), max_size=None) as ws:
        for k in range(20):
            if text:
                msg = "client %d message %d %s" % (i, k, "é" * (k * 7))
            else:
                msg = os.urandom(1 + (i * 31 + k * 97) % 3000)
            await ws.send(msg)
            got = await ws.recv()
            if port_is_bin and isinstance(msg, str):
                msg = msg.encode()  # the bin gate answers in binary frames
            check(got == msg, "client %d message %d: echo differs" % (i, k))
    return i


async def many(ports):
    tasks = []
    for i in range(150):
        tasks.append(one_client(ports["bin"], i, i % 2 == 0, True))
        tasks.append(one_client(ports["text"], 1000 + i, True, False))
    done = await asyncio.gather(*tasks)
    check(len(done) == 300, "300 clients done")


# ---- 2 - 4. fragments, sizes, ping, close codes ----

async def features(ports):
    async with websockets.connect(url(ports["bin"]), max_size=None) as ws:
        await ws.send([b"frag-one ", b"frag-two ", b"frag-three"])
        check(await ws.recv() == b"frag-one frag-two frag-three", "fragmented binary message")
        for n in (125, 126, 65535, 65536, 300000):
            body = os.urandom(n)
            await ws.send(body)
            check(await ws.recv() == body, "a %d-byte message echoed" % n)
        await ws.send("big 300000")
        check(await ws.recv() == b"b" * 300000, "a 300000-byte message from the server")
        pong = await ws.ping(b"are you there")
        await asyncio.wait_for(pong, 5)
    async with websockets.connect(url(ports["text"]), max_size=None) as ws:
        await ws.send(["texté ", "in ", "parts"])
        check(await ws.recv() == "texté in parts", "fragmented text message as a text frame")
        await ws.close(4001, "bye now")
        check(ws.close_code == 4001, "the client's close code echoed: %r" % ws.close_code)
    async with websockets.connect(url(ports["text"])) as ws:
        await ws.send("kick 4002")
        try:
            await asyncio.wait_for(ws.recv(), 5)
            raise AssertionError("kick: a message instead of a close")
        except websockets.ConnectionClosed as e:
            check(e.rcvd is not None and e.rcvd.code == 4002, "kicked with 4002: %r" % e.rcvd)


async def oversize(port):
    async with websockets.connect(url(port), max_size=None) as ws:
        await ws.send(b"x" * (MAX - 1 - 9))  # under the cap: fine
        check(len(await ws.recv()) == MAX - 10, "a message under max_packet is echoed")
        await ws.send(b"x" * MAX)
        try:
            await asyncio.wait_for(ws.recv(), 10)
            raise AssertionError("oversize: an answer instead of a close")
        except websockets.ConnectionClosed as e:
            check(e.rcvd is not None and e.rcvd.code == 1009, "oversize closed with 1009: %r" % e.rcvd)


async def oversize_fragments(port):
    async with websockets.connect(url(port), max_size=None) as ws:
        await ws.send([b"y" * (MAX // 2), b"y" * (MAX // 2)])
        try:
            await asyncio.wait_for(ws.recv(), 10)
            raise AssertionError("oversize in fragments: an answer instead of a close")
        except websockets.ConnectionClosed as e:
            check(e.rcvd is not None and e.rcvd.code == 1009, "fragments over the cap: %r" % e.rcvd)


# ---- 5. raw sockets for what websockets will not send ----

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def raw_handshake(port, extra=b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\nSec-WebSocket-Version: 13\r\n" + extra + b"\r\n")
    resp = b""
    while b"\r\n\r\n" not in resp:
        chunk = s.recv(4096)
        check(chunk, "closed during the handshake")
        resp += chunk
    head, rest = resp.split(b"\r\n\r\n", 1)
    check(head.startswith(b"HTTP/1.1 101"), "101: %r" % head)
    # RFC 6455 §1.3's own example key and answer
    check(b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head, "accept key: %r" % head)
    return s, rest


def read_all(s):
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def frame(op, payload, fin=True, mask=True, rsv=0):
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    if n < 126:
        head = struct.pack(">BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        head = struct.pack(">BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        head = struct.pack(">BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def expect_close(port, data, code):
    s, rest = raw_handshake(port)
    s.sendall(data)
    got = rest + read_all(s)
    s.close()
    check(len(got) >= 4 and got[0] == 0x88, "a close frame: %r" % got[:16])
    check(struct.unpack(">H", got[2:4])[0] == code, "close code %d: %r" % (code, got[:40]))
    return got


def expect_http(port, request, status):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(request)
    got = read_all(s)
    s.close()
    check(got.startswith(b"HTTP/1.1 " + status), "HTTP %s: %r" % (status.decode(), got[:60]))


def hostile(node, port):
    mark = node.mark()
    # a ping between two fragments, then the rest: the pong comes, then the message
    s, rest = raw_handshake(port)
    s.sendall(frame(2, b"abc", fin=False) + frame(9, b"p!") + frame(0, b"def"))
    want = b"\x8a\x02p!" + b"\x82\x06abcdef"
    got = rest
    while len(got) < len(want):
        chunk = s.recv(4096)
        check(chunk, "closed before pong and echo")
        got += chunk
    check(got == want, "pong between fragments, then the whole message: %r" % got)
    # then a close frame with no code: answered with an empty close
    s.sendall(frame(8, b""))
    check(read_all(s) == b"\x88\x00", "an empty close is answered empty")
    s.close()

    expect_close(port, frame(2, b"hello", mask=False), 1002)
    node.wait(r"websocket connection \d+ \(\S+\) closed: unmasked frame from a client", after=mark)
    expect_close(port, frame(1, b"bad \xc3\x28 utf8"), 1007)
    node.wait(r"closed: text message is not UTF-8", after=mark)
    expect_close(port, frame(2, b"x", rsv=0x40), 1002)
    node.wait(r"closed: reserved bits set", after=mark)
    expect_close(port, frame(0, b"x"), 1002)
    node.wait(r"closed: continuation frame with no message open", after=mark)
    expect_close(port, frame(9, b"x" * 126), 1002)
    node.wait(r"closed: control frame over 125 bytes", after=mark)
    expect_close(port, frame(8, b"\x03\xed"), 1002)  # 1005 may not be sent
    node.wait(r"closed: close frame with an invalid status code", after=mark)
    # a frame announcing 2^40 bytes: refused on its header, nothing allocated
    expect_close(port, struct.pack(">BBQ", 0x82, 0xff, 1 << 40) + b"kkkk", 1009)
    node.wait(r"closed: message at or over the gate's max_packet", after=mark)

    opens_before = len(re.findall(r"WSGATE open", node.text()))
    expect_http(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"400")
    node.wait(r"closed: no Upgrade: websocket / Connection: upgrade", after=mark)
    expect_http(port, b"POST / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", b"400")
    expect_http(port, ("GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 8\r\n\r\n" % KEY).encode(), b"426")
    expect_http(port, b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n", b"400")
    expect_http(port, b"GET / HTTP/1.1\r\n" + b"X-Filler: " + b"f" * 9000 + b"\r\n\r\n", b"431")
    node.wait(r"closed: handshake request over 8192 bytes", after=mark)
    # a handshake that never ends: closed by the gate after ws_handshake_timeout (3 s here)
    s = socket.create_connection(("127.0.0.1", port), timeout=15)
    s.sendall(b"GET / HTTP/1.1\r\nHost: slow\r\n")
    t0 = time.monotonic()
    check(read_all(s) == b"", "a stalled handshake is closed without an answer")
    waited = time.monotonic() - t0
    s.close()
    node.wait(r"websocket connection \d+ \(\S+\) closed: no handshake within 3 s", after=mark)
    check(waited >= 2.5, "closed after the timeout, not at once (%.1f s)" % waited)
    check(len(re.findall(r"WSGATE open", node.text())) == opens_before,
          "a failed handshake is never reported as open")


async def survivor_check(port, ready, done):
    """A client connected through the hostile part: it still gets its echoes."""
    async with websockets.connect(url(port)) as ws:
        ready.set()
        n = 0
        while not done.is_set():
            await ws.send("still here %d" % n)
            check(await asyncio.wait_for(ws.recv(), 5) == b"still here %d" % n, "survivor echo")
            n += 1
            await asyncio.sleep(0.05)
        return n


async def run_hostile(node, ports):
    ready, done = asyncio.Event(), asyncio.Event()
    survivor = asyncio.ensure_future(survivor_check(ports["bin"], ready, done))
    await ready.wait()
    await asyncio.get_running_loop().run_in_executor(None, hostile, node, ports["bin"])
    await oversize(ports["bin"])
    await oversize_fragments(ports["text"])
    done.set()
    n = await survivor
    check(n > 0, "the survivor exchanged messages throughout")


def main(skiff):
    with tempfile.TemporaryDirectory(prefix="skiff-wsgate-") as tmp:
        cfg = harness.write_config(os.path.join(tmp, "config"), [
            "thread = 2", "harbor = 0", 'start = "wsgate_echo"', 'wsgate_hs_timeout = "3"',
            'luaservice = luaservice .. ";%s/lua/?.lua"' % HERE,
        ])
        node = harness.Node(skiff, cfg, cwd=tmp, log=os.path.join(tmp, "node.log"), name="wsgate")
        try:
            ports = gate_ports(node)
            asyncio.run(asyncio.wait_for(many(ports), 120))
            print("300 clients x 20 messages: every echo exact")
            asyncio.run(asyncio.wait_for(features(ports), 60))
            print("fragments, 2/4/10-byte headers, ping, close codes 4001 and 4002: ok")
            asyncio.run(asyncio.wait_for(run_hostile(node, ports), 90))
            print("bad frames and handshakes: closed with their codes and log lines; a client beside them unharmed")
            # the watchdog heard every open and every close
            deadline = 20
            while deadline > 0:
                text = node.text()
                opens = len(re.findall(r"WSGATE open", text))
                closes = len(re.findall(r"WSGATE close", text))
                if opens == closes:
                    break
                node.pause(0.2)
                deadline -= 0.2
            check(opens >= 300 + 4 and opens == closes, "opens %d, closes %d" % (opens, closes))
            check(node.proc.poll() is None, "node still running")
            check(harness.sanitizer_report(node.text()) is None, "sanitizer report in the log")
            check(not re.search(r"Segmentation|WSGATE FAIL", node.text()), "crash text in the log")
        except Exception:
            print(node.text()[-6000:])
            raise
        finally:
            node.kill()
    print("test_gate_ws: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
