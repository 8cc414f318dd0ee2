"""A tiny authoritative DNS server for tests: A records from a dict the test
changes while it runs; any other name gets NXDOMAIN.  UDP on 127.0.0.1, port
picked by the OS.  Only what skynet.dns asks (one question, class IN)."""
import socket
import struct
import threading


class LocalDns:
    def __init__(self):
        self.records = {}          # lower-case name without the final dot -> "a.b.c.d"
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def set(self, name, ip):
        with self.lock:
            if ip is None:
                self.records.pop(name, None)
            else:
                self.records[name] = ip

    def close(self):
        self.sock.close()

    def _serve(self):
        while True:
            try:
                msg, peer = self.sock.recvfrom(2048)
            except OSError:
                return
            try:
                reply = self._answer(msg)
            except (struct.error, IndexError, UnicodeDecodeError):
                continue
            self.sock.sendto(reply, peer)

    def _answer(self, msg):
        qid, _flags, qd = struct.unpack(">HHH", msg[:6])
        pos, labels = 12, []
        while msg[pos]:
            n = msg[pos]
            labels.append(msg[pos + 1:pos + 1 + n].decode())
            pos += 1 + n
        pos += 1
        qtype, qclass = struct.unpack(">HH", msg[pos:pos + 4])
        question = msg[12:pos + 4]
        name = ".".join(labels).lower()
        with self.lock:
            self.queries += 1
            ip = self.records.get(name)
        if ip is None:
            return struct.pack(">HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question   # NXDOMAIN
        if qtype != 1:
            return struct.pack(">HHHHHH", qid, 0x8180, 1, 0, 0, 0) + question   # no AAAA
        rr = struct.pack(">HHHIH", 0xC00C, 1, 1, 1, 4) + socket.inet_aton(ip)
        return struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + rr
