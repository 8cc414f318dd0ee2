"""Outside servers for run_http.py, each started on a free 127.0.0.1 port in
a thread of the runner: Python's http.server, a websockets echo server and a
tiny UDP DNS responder.  Each function takes the test's temp folder and
returns (config lines for the node, stop function)."""
import asyncio
import http.server
import os
import socket
import struct
import threading
import time


# ---------------------------------------------------------------- http.server

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n)

    def do_GET(self):
        path = self.path
        if path == "/hello":
            self.reply(200, b"hello from python", [("X-Peer", "python")])
        elif path == "/port":
            # the client's port: the same twice means a kept-alive connection
            self.reply(200, str(self.client_address[1]).encode())
        elif path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Sum")
            self.end_headers()
            for i in range(1, 6):
                piece = ("part %d;" % i).encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                time.sleep(0.02)
            self.wfile.write(b"0\r\nX-Sum: 5\r\n\r\n")
        elif path.startswith("/big"):
            self.reply(200, b"0123456789" * 300000)
        elif path == "/slow":
            time.sleep(3)
            self.reply(200, b"late")
        elif path == "/redirect":
            self.reply(302, b"", [("Location", "/hello")])
        elif path == "/close":
            # no length: the body runs to the end of the connection
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the end")
            self.close_connection = True
        else:
            self.reply(404, b"no")

    do_HEAD = do_GET

    def do_POST(self):
        body = self.read_body()
        info = "%s|%s|%s|%d|" % (self.path, self.headers.get("Content-Type"),
                                 self.headers.get("Transfer-Encoding"), len(body))
        self.reply(200, info.encode() + body)

    do_PUT = do_POST


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def tls_context(tmp):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem"))
    return ctx


def http_server(tmp, tls=False):
    srv = Server(("127.0.0.1", 0), Handler)
    if tls:
        srv.socket = tls_context(tmp).wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_address[1]

    def stop():
        srv.shutdown()
        srv.server_close()
    return ['httptest_peer_port = "%d"' % port], stop


def https_server(tmp):
    """http_server behind TLS (the runner's --tls certificate)."""
    return http_server(tmp, tls=True)


# ---------------------------------------------------------------- websockets

def wss_server(tmp):
    """ws_server behind TLS (the runner's --tls certificate)."""
    return ws_server(tmp, tls=True)


def ws_server(tmp, tls=False):
    try:
        import websockets
    except ImportError:
        raise SystemExit("Python websockets is missing: install the Debian package python3-websockets")
    ready = threading.Event()
    box = {}

    async def echo(ws, path):
        box["path"] = path
        box["xhdr"] = ws.request_headers.get("X-Client")
        async for msg in ws:
            if msg == "close please":
                await ws.close(4003, "peer says bye")
                return
            if msg == "frag please":
                await ws.send(["py-", "frag-", "ments"])
                continue
            if msg == "ping please":
                await ws.ping(b"from-py")
            if msg == "path?":
                await ws.send("%s %s" % (box["path"], box["xhdr"]))
                continue
            await ws.send(msg)

    def run():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        async def main():
            async with websockets.serve(echo, "127.0.0.1", 0, subprotocols=["chat", "other"],
                                        max_size=None, ssl=tls_context(tmp) if tls else None) as srv:
                box["port"] = srv.sockets[0].getsockname()[1]
                box["loop"] = loop
                box["stop"] = loop.create_future()
                ready.set()
                await box["stop"]
        loop.run_until_complete(main())

    t = threading.Thread(target=run, daemon=True)
    t.start()
    ready.wait(10)

    def stop():
        box["loop"].call_soon_threadsafe(box["stop"].set_result, None)
        t.join(5)
    return ['httptest_peer_port = "%d"' % box["port"]], stop


# ---------------------------------------------------------------- DNS

def encode_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def dns_server(tmp):
    """Answers (RFC 1035, compressed names):
      a.test       A 10.0.0.1, 10.0.0.2 (TTL 60); AAAA fd00::1
      alias.test   CNAME a.test + A 10.0.0.1
      count.test   A 10.0.0.<queries seen so far>, TTL 0
      missing.test NXDOMAIN
      silent.test  no answer at all
      stray.test   a reply with a wrong id (to be dropped), then nothing
      loop.test    an answer whose compressed name points at itself
      trunc.test   a reply cut short in its answer"""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    state = {"queries": 0, "stop": False}

    def answer(q):
        tid, flags, qd = struct.unpack(">HHH", q[:6])
        pos = 12
        labels = []
        while q[pos]:
            labels.append(q[pos + 1:pos + 1 + q[pos]].decode())
            pos += 1 + q[pos]
        qtype, qclass = struct.unpack(">HH", q[pos + 1:pos + 5])
        question = q[12:pos + 5]
        name = ".".join(labels)
        state["queries"] += 1
        rrs = []
        rcode = 0
        ptr = b"\xc0\x0c"  # the name of the question
        if name == "a.test" and qtype == 1:
            rrs = [ptr + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([10, 0, 0, 1]),
                   ptr + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([10, 0, 0, 2])]
        elif name == "a.test" and qtype == 28:
            rrs = [ptr + struct.pack(">HHIH", 28, 1, 60, 16) + bytes([0xfd] + [0] * 14 + [1])]
        elif name == "alias.test":
            target = encode_name("a.test")
            off = 12 + len(question) + 12  # where the CNAME's rdata lands
            rrs = [ptr + struct.pack(">HHIH", 5, 1, 60, len(target)) + target,
                   struct.pack(">H", 0xc000 | off) + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([10, 0, 0, 1])]
        elif name == "count.test":
            rrs = [ptr + struct.pack(">HHIH", 1, 1, 0, 4) + bytes([10, 0, 0, state["queries"] & 255])]
        elif name == "missing.test":
            rcode = 3
        elif name == "silent.test":
            return None
        elif name == "stray.test":
            tid ^= 0x5555
        elif name == "loop.test":
            # an answer whose name points at itself
            off = 12 + len(question)
            rrs = [struct.pack(">H", 0xc000 | off) + struct.pack(">HHIH", 1, 1, 60, 4) + bytes(4)]
        elif name == "trunc.test":
            rrs = [ptr + struct.pack(">HHIH", 1, 1, 60, 4) + bytes(4)]
            head = struct.pack(">HHHHHH", tid, 0x8180, 1, 1, 0, 0)
            return (head + question + rrs[0])[:-3]
        head = struct.pack(">HHHHHH", tid, 0x8180 | rcode, 1, len(rrs), 0, 0)
        return head + question + b"".join(rrs)

    def run():
        sock.settimeout(0.2)
        while not state["stop"]:
            try:
                q, addr = sock.recvfrom(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            r = answer(q)
            if r:
                sock.sendto(r, addr)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    hosts = os.path.join(tmp, "hosts")
    with open(hosts, "w") as f:
        f.write("# a hosts file of the test\n10.9.9.9   fromhosts.test  other.test # comment\n"
                "fd00::9 fromhosts.test\n")

    def stop():
        state["stop"] = True
        t.join(2)
        sock.close()
    return ['httptest_peer_port = "%d"' % port, 'httptest_hosts = "%s"' % hosts], stop
