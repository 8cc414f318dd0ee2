#!/usr/bin/env python3
"""gen_gate_ws_corpus.py — writes the seed corpus of the gate_ws target
(service-src/gate_ws.c, input format of fuzz_gate_ws.c): raw streams (a
handshake, good and bad frames) and round-trip scripts, so the fuzzer starts
with every branch of the handshake and the frame grammar reached.  Rewrites
the seed files it owns (seed-*), leaves what libFuzzer added."""
import os, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seedfiles import write  # noqa: E402


def mode(raw_open, cap_k):            # RAW: cap 64 * (1 + cap_k); handshake fed first or not
    return bytes([(cap_k << 2) | (2 if raw_open else 0)])


def trip(cap_k):                      # ROUND TRIP
    return bytes([(cap_k << 2) | 1])


def reads(b, size=255):               # the RAW stream cut in reads
    out = b''
    for k in range(0, len(b), size):
        part = b[k:k + size]
        out += bytes([len(part)]) + part
    return out or b'\0'


def frame(op, payload, fin=True, mask=True, rsv=0, key=b'\x11\x22\x33\x44'):
    b0 = (0x80 if fin else 0) | rsv | op
    n = len(payload)
    m = 0x80 if mask else 0
    if n < 126:
        h = struct.pack('>BB', b0, m | n)
    elif n < 65536:
        h = struct.pack('>BBH', b0, m | 126, n)
    else:
        h = struct.pack('>BBQ', b0, m | 127, n)
    if not mask:
        return h + payload
    return h + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


HS = (b'GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
      b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')

raw = [
    mode(False, 3) + reads(HS + frame(1, b'hello')),
    mode(False, 3) + reads(HS, 1) ,
    mode(False, 3) + reads(HS.replace(b'13', b'8')),
    mode(False, 3) + reads(b'GET / HTTP/1.1\r\n\r\n'),
    mode(False, 3) + reads(b'POST / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n'),
    mode(False, 3) + reads(HS.replace(b'dGhlIHNhbXBsZSBub25jZQ==', b'short')),
    mode(False, 3) + reads(b'GET / HTTP/1.1\r\nX: ' + b'f' * 600),
    mode(True, 3) + reads(frame(2, b'abc', fin=False) + frame(9, b'ping') + frame(0, b'def')),
    mode(True, 3) + reads(frame(1, b'caf\xc3\xa9') + frame(10, b'') + frame(8, b'\x03\xe8bye')),
    mode(True, 3) + reads(frame(8, b'')),
    mode(True, 3) + reads(frame(8, b'\x03')),
    mode(True, 3) + reads(frame(8, b'\x03\xed')),
    mode(True, 3) + reads(frame(8, b'\x0f\xa1\xff')),
    mode(True, 3) + reads(frame(2, b'x', mask=False)),
    mode(True, 3) + reads(frame(2, b'x', rsv=0x40)),
    mode(True, 3) + reads(frame(0, b'x')),
    mode(True, 3) + reads(frame(2, b'x', fin=False) + frame(1, b'y')),
    mode(True, 3) + reads(frame(3, b'x')),
    mode(True, 3) + reads(frame(11, b'x')),
    mode(True, 3) + reads(frame(9, b'x', fin=False)),
    mode(True, 3) + reads(frame(9, b'x' * 126)),
    mode(True, 3) + reads(frame(1, b'\xc3\x28')),
    mode(True, 3) + reads(frame(1, b'\xed\xa0\x80')),
    mode(True, 3) + reads(frame(1, b'\xf4\x90\x80\x80')),
    mode(True, 3) + reads(frame(2, b'z' * 300)),
    mode(True, 0) + reads(frame(2, b'z' * 100)),
    mode(True, 3) + reads(struct.pack('>BBQ', 0x82, 0xff, 1 << 63) + b'kkkk'),
    mode(True, 3) + reads(struct.pack('>BBQ', 0x82, 0xff, 1 << 40) + b'kkkk'),
    mode(True, 63) + reads(frame(2, b'w' * 70000)[:2000]),
    mode(True, 3) + reads(frame(2, b'') + frame(1, b'') + frame(0, b'', fin=True)),
]


def msg(op, payload, frags=1, ping=False, longer=False, key=b'\x01\x02\x03\x04'):
    assert len(payload) < 256
    flags = (frags - 1) | (4 if ping else 0) | (8 if longer else 0)
    return bytes([op, len(payload), flags]) + payload + key


trips = [
    trip(3) + msg(0, b'binary one') + msg(1, b'text one', 2) + msg(0, b'abc' * 20, 4, True),
    trip(3) + msg(1, b'', 1, True) + msg(0, b'\x00\xff' * 60, 3, False, True) + b'\x00\x05\x01\x07',
    trip(0) + msg(0, b'q' * 70) + msg(0, b'r' * 10),
    trip(0) + msg(0, b'q' * 20, 2, True, True),
    trip(63) + msg(0, bytes(range(200)), 4, True, True) * 3,
]
write('gate_ws', raw + trips)
