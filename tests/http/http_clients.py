"""Outside clients for the tests in run_http.py: curl, raw sockets and
Python's websockets, each given the port a node announced and the node's
output lines (a list that keeps growing).  Every function raises on failure."""
import asyncio
import hashlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time

import harness  # noqa: E402  (tests/ is on the path: run_http.py puts it there)

HOST = "127.0.0.1"


def need(cond, what):
    if not cond:
        raise AssertionError(what)


def wait_log(lines, regex, timeout=10):
    """The first node line matching regex, waiting for it to appear."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for line in list(lines):
            if re.search(regex, line):
                return line
        time.sleep(0.05)
    raise AssertionError("no line /%s/ in the node's log" % regex)


def wait_count(lines, regex, n, timeout=10):
    """Wait until at least n node lines match regex."""
    end = time.monotonic() + timeout
    while True:
        got = sum(1 for line in list(lines) if re.search(regex, line))
        if got >= n:
            return got
        if time.monotonic() > end:
            raise AssertionError("%d log lines /%s/, expected %d" % (got, regex, n))
        time.sleep(0.05)


CURL_TLS = []  # extra curl arguments when the suite runs over https


def curl(*args, data=None):
    exe = shutil.which("curl")
    if not exe:
        raise AssertionError("curl is missing: install the Debian package curl")
    r = subprocess.run([exe, "-sS", "--max-time", "30"] + CURL_TLS + list(args), input=data,
                       capture_output=True, timeout=40)
    if r.returncode != 0:
        raise AssertionError("curl %s failed: %s" % (args, r.stderr.decode(errors="replace")))
    return r.stdout, r.stderr.decode(errors="replace")


# ---------------------------------------------------------------- httpd + curl

def curl_suite(port, lines, base=None):
    base = base or "http://%s:%d" % (HOST, port)
    # keep-alive: several URLs in one curl run share one connection
    out, err = curl("-v", base + "/pid", base + "/pid", base + "/echo?x=a%20b")
    need(err.count("Re-using existing connection") >= 2, "curl did not reuse the connection:\n" + err)
    text = out.decode().split("\n")
    need(text[0].isdigit() and text[0] == text[1], "two connections used: %r" % text[:2])
    need("q=a b" in out.decode() and "method=GET" in out.decode(), "echo answer: %r" % out)
    # HTTP/1.0 without keep-alive closes; HEAD has no body
    out, err = curl("-v", "--http1.0", base + "/pid")
    need("Closing connection" in err or "Connection #0 to host %s left intact" not in err,
         "HTTP/1.0 left the connection open")
    out, err = curl("-sI", base + "/big?n=1000")
    need(b"content-length: 1000" in out.lower() and out.endswith(b"\r\n\r\n"), "HEAD: %r" % out)
    out, _ = curl("-o", "/dev/null", "-w", "%{http_code}", base + "/nothing")
    need(out == b"404", "404 expected, got %r" % out)
    # chunked response
    out, err = curl("-v", base + "/chunked?n=50")
    need("transfer-encoding: chunked" in err.lower(), "not chunked: " + err)
    need(out.decode() == "".join("piece %d\n" % i for i in range(1, 51)), "chunked body: %r" % out[:80])
    with tempfile.TemporaryDirectory() as tmp:
        # chunked upload of 1 MiB
        path = os.path.join(tmp, "up")
        blob = os.urandom(1 << 20)
        with open(path, "wb") as f:
            f.write(blob)
        out, _ = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + path, base + "/echo")
        need(("length=%d" % len(blob)) in out.decode() and "te=chunked" in out.decode(), out.decode())
        need(("sum=%d" % (sum(blob) & 0xffffffff)) in out.decode(), "chunked upload checksum")
        # a 10 MiB body both ways (curl sends Expect: 100-continue for it)
        big = os.urandom(10 << 20)
        with open(path, "wb") as f:
            f.write(big)
        t0 = time.monotonic()
        out, err = curl("-v", "--data-binary", "@" + path, base + "/body")
        need(out == big, "10 MiB body came back different (%d bytes)" % len(out))
        need("100 Continue" in err, "no 100 Continue for the 10 MiB upload")
        need(time.monotonic() - t0 < 10, "10 MiB round trip took too long")
        out, _ = curl(base + "/big?n=%d" % (10 << 20))
        unit = b"0123456789abcdef"
        need(len(out) == 10 << 20 and out == unit * ((10 << 20) // 16), "10 MiB download")
    if base.startswith("https"):
        return
    # a pipelined pair on one socket: both answered, in order
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(b"GET /echo?x=1 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo?x=2 HTTP/1.1\r\nHost: t\r\n\r\n")
    got = b""
    while got.count(b"HTTP/1.1 200") < 2 or not got.endswith(b"te=nil\n"):
        piece = s.recv(65536)
        need(piece, "connection closed during pipelining: %r" % got)
        got += piece
    s.close()
    need(got.index(b"q=1") < got.index(b"q=2"), "pipelined answers out of order")


def curl_tls_suite(port, lines):
    """The curl suite over HTTPS (certificate checked against the test's own
    CA), then plain HTTP and garbage on the TLS port: refused, logged, and the
    server keeps serving."""
    CURL_TLS[:] = ["--cacert", os.environ["HTTPTEST_CERT"]]
    curl_suite(port, lines, "https://localhost:%d" % port)
    out, err = curl("-v", "https://localhost:%d/echo?x=tls" % port)
    need("SSL connection using TLSv1.3" in err or "SSL connection using TLSv1.2" in err, "no TLS in: " + err)
    for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", os.urandom(3000)):
        got = exchange(port, junk)
        need(not got.startswith(b"HTTP/1.1 200"), "plain bytes on the TLS port answered %r" % got[:40])
    wait_count(lines, r"httptest: tls handshake failed", 2)
    # a client that rejects our certificate (no CA given): the handshake fails on its side
    CURL_TLS[:] = []
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "https://localhost:%d/echo" % port],
                       capture_output=True, timeout=20)
    need(r.returncode != 0, "curl accepted a self-signed certificate without its CA")
    CURL_TLS[:] = ["--cacert", os.environ["HTTPTEST_CERT"]]
    out, _ = curl("https://localhost:%d/echo?x=after" % port)
    need(b"q=after" in out, "server not answering after bad TLS input")


# ---------------------------------------------------------------- hostile HTTP

BAD_REQUESTS = [
    (b"GARBAGE\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\nHost: a\r\n folded: line\r\n\r\n", b"400"),
    (b"GET / HTTP/3.0\r\nHost: a\r\n\r\n", b"505"),
    (b"POST /echo HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", b"400"),
    (b"POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", b"400"),
    (b"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n", b"400"),
    (b"POST /echo HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", b"400"),
    (b"POST /echo HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n", b"413"),
    (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"501"),
    (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400"),
    (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", b"400"),
    (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", b"400"),
    (b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", b"400"),
    (b"GET / HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70000 + b"\r\n\r\n", b"413"),
]


def exchange(port, data, timeout=10):
    """Send data, read until the server closes; returns what came back."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    try:
        s.sendall(data)
    except OSError:
        pass  # the server may close before all of a huge request is sent
    got = harness.recv_all(s)
    s.close()
    return got


def hostile_http(port, lines):
    for data, status in BAD_REQUESTS:
        got = exchange(port, data)
        need(got.startswith(b"HTTP/1.1 " + status), "for %r: expected %s, got %r" % (data[:60], status, got[:80]))
    wait_count(lines, r"httptest: bad request", len(BAD_REQUESTS))
    # a peer that vanishes mid-body, and one that trickles a header a byte at a time
    s = socket.create_connection((HOST, port))
    s.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
    s.close()
    s = socket.create_connection((HOST, port), timeout=10)
    for b in b"GET /echo?x=slow HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n":
        s.send(bytes([b]))
    got = harness.recv_all(s)
    need(b"q=slow" in got, "trickled request: %r" % got[:80])
    # the node still serves
    out, _ = curl("http://%s:%d/echo?x=alive" % (HOST, port))
    need(b"q=alive" in out, "server not answering after hostile input")


# ---------------------------------------------------------------- WebSocket server

def websockets_module():
    try:
        import websockets  # noqa: F401
        return websockets
    except ImportError:
        raise AssertionError("Python websockets is missing: install the Debian package python3-websockets")


def ws_suite(port, lines, scheme="ws"):
    websockets = websockets_module()
    url = "%s://%s:%d/chat?room=1" % (scheme, "localhost" if scheme == "wss" else HOST, port)
    kw = {}
    if scheme == "wss":
        import ssl
        kw["ssl"] = ssl.create_default_context(cafile=os.environ["HTTPTEST_CERT"])

    async def main():
        async with websockets.connect(url, subprotocols=["nope", "chat"],
                                      extra_headers={"X-Test": "hello"}, **kw) as ws:
            need(ws.subprotocol == "chat", "subprotocol %r" % ws.subprotocol)
            await ws.send("héllo text")
            need(await ws.recv() == "héllo text", "text echo")
            blob = bytes(range(256)) * 100
            await ws.send(blob)
            need(await ws.recv() == blob, "binary echo")
            await ws.send(["frag", "mented ", "message"])
            need(await ws.recv() == "fragmented message", "fragmented echo")
            await ws.send([b"\x00\x01", b"\x02"])
            need(await ws.recv() == b"\x00\x01\x02", "fragmented binary echo")
            await ws.send("frag please")
            need(await ws.recv() == "one-two-three", "server-fragmented message")
            waiter = await ws.ping(b"cli")
            await asyncio.wait_for(waiter, 5)
            await ws.send("ping please")
            need(await ws.recv() == "ping please", "echo after ping")
            big = "x" * (200 * 1024)
            await ws.send(big)
            need(await ws.recv() == big, "200 KiB echo")
            await ws.close(4001, "bye now")
            need(ws.close_code == 4001, "close code echoed: %r" % ws.close_code)
        wait_log(lines, r"ws handshake \d+ url=/chat\?room=1 x-test=hello proto=chat")
        wait_log(lines, r"ws ping \d+ cli")
        wait_log(lines, r"ws pong \d+ srv")
        wait_log(lines, r"ws close \d+ code=4001 reason=bye now")
        # the server closes on request, with its code
        async with websockets.connect(url, **kw) as ws:
            need(ws.subprotocol is None, "no subprotocol asked, none chosen")
            await ws.send("close please")
            try:
                await ws.recv()
                raise AssertionError("expected a close")
            except websockets.ConnectionClosed as e:
                need(e.rcvd and e.rcvd.code == 4002 and e.rcvd.reason == "as asked", "server close: %r" % e)
        # an oversize frame and an oversize fragmented message are refused with 1009
        for payload in ("y" * (300 * 1024), ["z" * (100 * 1024)] * 3):
            async with websockets.connect(url, max_size=None, **kw) as ws:
                await ws.send(payload)
                try:
                    await ws.recv()
                    raise AssertionError("oversize message was accepted")
                except websockets.ConnectionClosed as e:
                    need(e.rcvd and e.rcvd.code == 1009, "oversize close: %r" % e)
        wait_log(lines, r"websocket \d+ .*exceeds 262144.*close 1009")
        wait_log(lines, r"websocket \d+ .*message of more than 262144.*close 1009")

    asyncio.run(asyncio.wait_for(main(), 40))


def wss_suite(port, lines):
    ws_suite(port, lines, "wss")
    # plain WebSocket bytes on the wss port: the TLS handshake fails, logged
    got = exchange(port, b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\n\r\n")
    need(not got.startswith(b"HTTP/1.1 101"), "plain handshake accepted on the wss port")
    wait_log(lines, r"ws accept failed: .*tls: handshake failed")


def ws_frame(op, payload, fin=True, mask=True, rsv=0):
    b1 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    if n < 126:
        head = bytes([b1, (0x80 if mask else 0) | n])
    elif n < 65536:
        head = bytes([b1, (0x80 if mask else 0) | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([b1, (0x80 if mask else 0) | 127]) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def ws_raw_handshake(port, headers=b""):
    s = socket.create_connection((HOST, port), timeout=10)
    key = b"dGhlIHNhbXBsZSBub25jZQ=="
    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n" + headers + b"\r\n")
    got = b""
    while b"\r\n\r\n" not in got:
        piece = s.recv(4096)
        need(piece, "closed during the handshake")
        got += piece
    head, rest = got.split(b"\r\n\r\n", 1)
    return s, head, rest


def read_until_close(s, rest):
    got = harness.recv_all(s, rest)
    s.close()
    return got


BAD_FRAMES = [
    ("unmasked client frame", ws_frame(1, b"hi", mask=False), 1002),
    ("reserved bit", ws_frame(1, b"hi", rsv=0x40), 1002),
    ("unknown opcode", ws_frame(3, b"hi"), 1002),
    ("fragmented ping", ws_frame(9, b"hi", fin=False), 1002),
    ("long ping", ws_frame(9, b"p" * 126), 1002),
    ("continuation first", ws_frame(0, b"hi"), 1002),
    ("text inside fragments", ws_frame(1, b"a", fin=False) + ws_frame(1, b"b"), 1002),
    ("bad utf-8", ws_frame(1, b"\xff\xfe"), 1007),
    ("bad utf-8 across fragments", ws_frame(1, b"\xe2\x82", fin=False) + ws_frame(0, b"\x28"), 1007),
    ("1-byte close", ws_frame(8, b"\x03"), 1002),
    ("close code 1005", ws_frame(8, b"\x03\xed"), 1002),
    ("close code 999", ws_frame(8, b"\x03\xe7"), 1002),
    ("huge length", bytes([0x81, 0xff]) + (2 ** 63 + 5).to_bytes(8, "big") + b"abcd", 1002),
    ("length over the limit", bytes([0x82, 0xff]) + (1 << 40).to_bytes(8, "big") + b"abcd", 1009),
]


def hostile_ws(port, lines):
    import struct
    # sanity: the accept key of RFC 6455 §1.3's example
    s, head, rest = ws_raw_handshake(port)
    need(head.startswith(b"HTTP/1.1 101"), "handshake: %r" % head)
    need(b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head, "accept key: %r" % head)
    s.sendall(ws_frame(1, b"ok?"))
    got = rest
    while len(got) < 5:
        got += s.recv(100)
    need(got[:5] == b"\x81\x03ok?", "echo frame %r" % got)
    s.close()
    for name, frame, code in BAD_FRAMES:
        s, head, rest = ws_raw_handshake(port)
        need(head.startswith(b"HTTP/1.1 101"), name + ": handshake")
        s.sendall(frame)
        got = read_until_close(s, rest)
        need(len(got) >= 4 and got[0] == 0x88, "%s: no close frame: %r" % (name, got[:20]))
        need(struct.unpack(">H", got[2:4])[0] == code, "%s: close code %r, expected %d" % (name, got[2:4], code))
    # bad handshakes get an HTTP error and a closed connection
    for extra, status in ((b"Sec-WebSocket-Version: 8\r\n", b"426"),):
        s = socket.create_connection((HOST, port), timeout=10)
        s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" + extra + b"\r\n")
        got = read_until_close(s, b"")
        need(got.startswith(b"HTTP/1.1 " + status), "bad version: %r" % got[:60])
    for req in (b"GET / HTTP/1.1\r\nHost: t\r\n\r\n",
                b"GET / HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
                b"\x16\x03\x01\x00\xa5garbage\r\n\r\n"):
        got = exchange(port, req)
        need(re.match(rb"HTTP/1.1 4\d\d", got), "bad handshake answered %r" % got[:60])
    wait_count(lines, r"websocket \d+ .*(close 10\d\d|handshake refused)", len(BAD_FRAMES) + 4)
    # and the server still echoes
    ws_suite_quick(port)


def ws_suite_quick(port):
    websockets = websockets_module()

    async def main():
        async with websockets.connect("ws://%s:%d/" % (HOST, port)) as ws:
            await ws.send("still here")
            need(await ws.recv() == "still here", "echo after hostile input")
    asyncio.run(asyncio.wait_for(main(), 10))


# ---------------------------------------------------------------- the examples

def simpleweb(port, lines):
    out, _ = curl("-H", "X-Demo: 7", "--data-binary", "the body", "http://%s:%d/some/path?a=1&b=two" % (HOST, port))
    text = out.decode()
    for want in ("host: 127.0.0.1:%d" % port, "path: /some/path", "query: a= 1", "query: b= two",
                 "-----header----", "x-demo = 7", "-----body----\nthe body"):
        need(want in text, "simpleweb answer lacks %r:\n%s" % (want, text))
    # an oversize body (limit 8192) is answered 413 by the example
    out, _ = curl("-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "x" * 9000,
                  "http://%s:%d/" % (HOST, port))
    need(out == b"413", "simpleweb body limit: %r" % out)
    wait_log(lines, r"connected, pass it to agent :[0-9a-f]{8}")


def simplewebsocket(port, lines):
    websockets = websockets_module()
    # the example's own client service echoes through the server
    wait_log(lines, r">: hello world!", 15)
    wait_log(lines, r"<: hello world!", 15)
    wait_log(lines, r"ws ping from: \d+", 15)

    async def main():
        async with websockets.connect("ws://%s:%d/test_websocket" % (HOST, port)) as ws:
            await ws.send("from python")
            need(await ws.recv() == "from python", "example echo")
            await ws.close(1000, "done")
    asyncio.run(asyncio.wait_for(main(), 10))
    wait_log(lines, r"ws close from: \d+\s+1000\s+done")
    wait_log(lines, r"----header-----")
