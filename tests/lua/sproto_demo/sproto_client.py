#!/usr/bin/env python3
"""A client of the sproto demo written without any sproto library: the sproto
wire format (struct encoding, 0-packing, the RPC package header) is coded
here from its description, so a passing run shows that a client built
independently of Skiff's codec talks to it.

usage: sproto_client.py PORT KEY VALUE [--garbage-first]
With --garbage-first, malformed packets go first (see Client.garbage).
Does: handshake, set KEY VALUE, get KEY (expects VALUE back), waits for a
heartbeat request from the server, quit, and waits for the server to close.
Prints CLIENT OK at the end; exits 1 with a reason otherwise.
"""
import socket
import struct
import sys
import time

# ---- the wire format ----

INTEGER, STRING, BOOLEAN = "integer", "string", "boolean"


def encode(fields, obj):
    """fields: [(name, tag, kind)] sorted by tag; obj: dict."""
    entries, data = [], []
    last = -1
    for name, tag, kind in fields:
        if obj.get(name) is None:
            continue
        v = obj[name]
        if tag > last + 1:
            entries.append((tag - last - 2) * 2 + 1)  # skip the absent tags
        if kind == BOOLEAN:
            entries.append(4 if v else 2)
        elif kind == INTEGER and 0 <= v < 0x7fff:
            entries.append((v + 1) * 2)
        elif kind == INTEGER:
            entries.append(0)
            if -2**31 <= v < 2**31:
                data.append(struct.pack("<Ii", 4, v))
            else:
                data.append(struct.pack("<Iq", 8, v))
        else:
            b = v.encode() if isinstance(v, str) else v
            entries.append(0)
            data.append(struct.pack("<I", len(b)) + b)
        last = tag
    return struct.pack("<H", len(entries)) + b"".join(struct.pack("<H", e) for e in entries) + b"".join(data)


def decode(fields, buf):
    """Returns (dict, bytes used); unknown tags are skipped."""
    bytag = {tag: (name, kind) for name, tag, kind in fields}
    (n,) = struct.unpack_from("<H", buf, 0)
    pos = 2 + 2 * n
    if pos > len(buf):
        raise ValueError("truncated header")
    out, tag = {}, -1
    for i in range(n):
        (e,) = struct.unpack_from("<H", buf, 2 + 2 * i)
        tag += 1
        if e & 1:
            tag += (e - 1) // 2
            continue
        name, kind = bytag.get(tag, (None, None))
        if e:
            value = e // 2 - 1
            if kind == BOOLEAN:
                value = value != 0
        else:
            (size,) = struct.unpack_from("<I", buf, pos)
            chunk = buf[pos + 4:pos + 4 + size]
            if len(chunk) != size:
                raise ValueError("truncated chunk")
            pos += 4 + size
            if kind == INTEGER:
                value = struct.unpack("<i" if size == 4 else "<q", chunk)[0]
            else:
                value = chunk.decode()
        if name is not None:
            out[name] = value
    return out, pos


def pack(buf):
    buf = buf + b"\0" * (-len(buf) % 8)
    out = bytearray()
    i = 0
    while i < len(buf):
        word = buf[i:i + 8]
        nz = [b for b in word if b]
        if len(nz) == 8:
            # a raw run: this word and the next ones with at least 6 non-zero bytes
            j = i + 8
            while j < len(buf) and (j - i) // 8 < 256 and sum(1 for b in buf[j:j + 8] if b) >= 6:
                j += 8
            out += bytes([0xff, (j - i) // 8 - 1]) + buf[i:j]
            i = j
            continue
        out.append(sum(1 << k for k, b in enumerate(word) if b))
        out += bytes(nz)
        i += 8
    return bytes(out)


def unpack(buf):
    out = bytearray()
    i = 0
    while i < len(buf):
        tag = buf[i]
        i += 1
        if tag == 0xff:
            n = (buf[i] + 1) * 8
            out += buf[i + 1:i + 1 + n]
            i += 1 + n
        else:
            for k in range(8):
                if tag >> k & 1:
                    out.append(buf[i])
                    i += 1
                else:
                    out.append(0)
    return bytes(out)


# ---- the demo's schemas (sp_proto.lua) ----

PACKAGE = [("type", 0, INTEGER), ("session", 1, INTEGER)]
C2S = {  # name: (tag, request fields, response fields)
    "handshake": (1, None, [("msg", 0, STRING)]),
    "get": (2, [("what", 0, STRING)], [("result", 0, STRING)]),
    "set": (3, [("what", 0, STRING), ("value", 1, STRING)], None),
    "quit": (4, None, None),
}
S2C = {1: "heartbeat"}


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buf = b""
        self.session = 0
        self.pending = {}  # session -> response fields

    def garbage(self):
        """Frames no sproto host accepts: not a packed stream, a packed
        header promising more than it holds, an unknown protocol tag, a
        truncated struct. The agent must drop each and keep serving."""
        for payload in (b"\xff\x05abc", pack(b"\x05\x00\x00\x00"), 
                        pack(encode(PACKAGE, {"type": 99, "session": 1000})),
                        pack(encode(PACKAGE, {"type": 2, "session": 1001}) + b"\x01\x00\x00\x00\x09")):
            self.sock.sendall(struct.pack(">H", len(payload)) + payload)

    def request(self, name, args=None):
        tag, req, resp = C2S[name]
        self.session += 1
        body = encode(PACKAGE, {"type": tag, "session": self.session})
        if req is not None:
            body += encode(req, args or {})
        self.pending[self.session] = resp
        payload = pack(body)
        self.sock.sendall(struct.pack(">H", len(payload)) + payload)
        return self.session

    def packet(self):
        """The next packet: ("REQUEST", name) or ("RESPONSE", session, content),
        or None when the server closed the connection."""
        while True:
            if len(self.buf) >= 2:
                (n,) = struct.unpack_from(">H", self.buf)
                if len(self.buf) >= 2 + n:
                    raw, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
                    break
            chunk = self.sock.recv(4096)
            if not chunk:
                return None
            self.buf += chunk
        bin = unpack(raw)
        header, used = decode(PACKAGE, bin)
        if "type" in header:
            return ("REQUEST", S2C[header["type"]])
        fields = self.pending.pop(header["session"])
        content = decode(fields, bin[used:])[0] if fields is not None else None
        return ("RESPONSE", header["session"], content)


def main():
    port, key, value = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    c = Client(port)
    deadline = time.monotonic() + 20
    responses, heartbeats = {}, 0
    if len(sys.argv) > 4 and sys.argv[4] == "--garbage-first":
        c.garbage()
    hs = c.request("handshake")
    st = c.request("set", {"what": key, "value": value})
    gt = None
    while time.monotonic() < deadline:
        p = c.packet()
        if p is None:
            print("FAIL: server closed early")
            return 1
        print("packet", p)
        if p[0] == "REQUEST":
            heartbeats += 1
        else:
            responses[p[1]] = p[2]
            if p[1] == st:
                gt = c.request("get", {"what": key})
        if gt in responses and heartbeats > 0:
            break
    if not responses.get(hs, {}).get("msg", "").startswith("Welcome to skynet"):
        print("FAIL: handshake answer", responses.get(hs))
        return 1
    if st not in responses or responses[st] is not None:
        print("FAIL: set answer", responses.get(st))
        return 1
    if responses.get(gt) != {"result": value}:
        print("FAIL: get answer", responses.get(gt))
        return 1
    if heartbeats == 0:
        print("FAIL: no heartbeat")
        return 1
    c.request("quit")
    while c.packet() is not None:
        if time.monotonic() > deadline:
            print("FAIL: the server did not close after quit")
            return 1
    print("CLIENT OK heartbeats=%d" % heartbeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
