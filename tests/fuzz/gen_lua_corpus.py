#!/usr/bin/env python3
"""gen_lua_corpus.py — writes the seed corpora of the Lua-side fuzz targets
(seri, netpack, config, console, http) and of cluster_frames into corpus/<target>/
Seeds are valid inputs (and a few near misses), so the fuzzer starts behind
the first checks.  Run from anywhere; rewrites the seed files it owns."""
import os, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seedfiles import write  # noqa: E402

# --- skynet.pack format (lualib/lua-seri.c) ---
def tag(t, c=0): return bytes([t | (c << 3)])
def nil(): return tag(0)
def boolean(v): return tag(1, 1 if v else 0)
def integer(v):
    if v == 0: return tag(2, 0)
    if 0 < v < 256: return tag(2, 1) + bytes([v])
    if 0 < v < 65536: return tag(2, 2) + struct.pack('<H', v)
    if -2**31 <= v < 2**31: return tag(2, 4) + struct.pack('<i', v)
    return tag(2, 6) + struct.pack('<q', v)
def real(v): return tag(2, 8) + struct.pack('<d', v)
def string(s):
    if len(s) < 32: return tag(4, len(s)) + s
    if len(s) < 65536: return tag(5, 2) + struct.pack('<H', len(s)) + s
    return tag(5, 4) + struct.pack('<I', len(s)) + s
def table(arr, hashpart=()):
    out = tag(6, len(arr)) if len(arr) < 31 else tag(6, 31) + integer(len(arr))
    for v in arr: out += v
    for k, v in hashpart: out += k + v
    return out + nil()
def nest(depth):
    t = table([])
    for _ in range(depth): t = table([t])
    return t

write('seri', [
    b'',
    nil() + boolean(True) + boolean(False),
    integer(1) + integer(300) + integer(-5) + integer(2**40) + real(1.5) + real(float('nan')),
    string(b'hello') + string(b'x' * 40) + string(b'\0' * 3),
    table([integer(1), string(b'a')], [(string(b'k'), boolean(True)), (integer(10), real(2.5))]),
    table([integer(i) for i in range(40)]),
    nest(31), nest(33),
    tag(3) + b'\1\2\3\4\5\6\7\x08',
    table([], [(real(float('nan')), integer(1))]),
    tag(6, 31) + integer(100000) + nil(),          # claims more than it holds
    tag(5, 4) + struct.pack('<I', 0xffffffff) + b'ab',
    tag(2, 7), tag(7),
])

# --- netpack event scripts (fuzz_netpack.c) ---
def data(fd, b): return bytes([(fd << 2) | 0, len(b)]) + b
def close(fd): return bytes([(fd << 2) | 2])
def clear(): return bytes([3])
def pkt(b): return struct.pack('>H', len(b)) + b
write('netpack', [
    data(0, pkt(b'hello')),
    data(0, pkt(b'a') + pkt(b'bc') + pkt(b'')),
    data(1, pkt(b'split across')[:5]) + data(1, pkt(b'split across')[5:]),
    data(0, b'\x00') + data(2, pkt(b'other fd')) + data(0, b'\x03abc'),
    data(0, pkt(b'x' * 200)[:100]) + close(0) + data(0, pkt(b'after close')),
    data(1, b'\xff\xff' + b'y' * 60) + clear() + data(1, pkt(b'ok')),
    data(2, pkt(b'p' * 100) + pkt(b'q' * 100)),
])

# --- config texts (fuzz_config.c): mode byte, then text or entries ---
write('config', [
    b'\0thread = 4\nharbor = 0\nstart = "main"\n'.replace(b'"', b''),   # raw: no quotes allowed
    b'\0thread = 4\nharbor = 1 + 2\nlogger = nil\n',
    b'\0x = luaservice .. cpath\n',
    b'\0x = y .. z\n',
    b'\0x = 1 // 0\n',
    b'\0local a = 1\nb = a * 2\n-- comment\n',
    b'\0= = =\n',
    b'\1' + bytes([0x50]) + b'start' + bytes([4]) + b'main',
    b'\1' + bytes([0x37]) + b'abc' + bytes([0x39]) + b'tbl',
    b'\1' + bytes([0x1a]) + b'e' + bytes([0x1b]) + b'u',
    b'\1' + bytes([0x2d]) + b'in' + bytes([0x2e]) + b'in',
    b'\1' + bytes([0x30]) + b'a\0b' + bytes([3]) + b'\0\n\xff',
    b'\1' + bytes([0x04, 0x05, 0x06, 0x08, 0x0c]),
])

# --- console lines (fuzz_console.c) ---
write('console', [
    b'\1help', b'\1  list  ', b'\1json stat', b'\1call :0000000b "ping", 1',
    b'\1\tinject\t:8  x.lua\r\n', b'\1', b'\1 \x0b\x0c ',
    b'\0%41%42+c', b'\0%zz%4', b'\0%%%%41', b'\0a+b+%2F',
    # request heads for http_verdict (first byte 2): allowed, and one per refusal
    b'\2GET /list HTTP/1.1\nHost: 127.0.0.1:7000\nAuthorization: Bearer fuzz-token-0123456789abcdef',
    b'\2GET /json/kill/.x HTTP/1.1\nHost: localhost\nAuthorization: Bearer fuzz-token-0123456789abcdef',
    b'\2POST / HTTP/1.1\nHost: [::1]:7000\nOrigin: http://[::1]:7000\n'
    b'Authorization: bearer fuzz-token-0123456789abcdef\nContent-Type: application/x-skiff-command; a=b\n'
    b'Content-Length: 4',
    b'\2POST / HTTP/1.1\nHost: evil.test:7000\nOrigin: http://evil.test:7000\nContent-Type: text/plain',
    b'\2GET /list HTTP/1.0\nHost: skiff.test\nHost: evil.test\nAuthorization: Bearer x',
    b'\2OPTIONS / HTTP/1.1\nHost: 127.0.0.1\nOrigin: null',
    # the dashboard's files: no token, Host and Origin still checked, plain names only
    b'\2GET / HTTP/1.1\nHost: 127.0.0.1:7000',
    b'\2GET /ui/app.js?x=1 HTTP/1.1\nHost: localhost:7000\nOrigin: http://localhost:7000',
    b'\2GET /ui/../debug_console.lua HTTP/1.1\nHost: 127.0.0.1',
    b'\2GET /ui/app.js HTTP/1.1\nHost: evil.test\nOrigin: http://evil.test',
])

# --- cluster frames (fuzz_cluster_frames.c): type byte, then protobuf ---
def varint(v):
    out = b''
    while True:
        b = v & 0x7f; v >>= 7
        if v: out += bytes([b | 0x80])
        else: return out + bytes([b])
def fv(n, v): return varint(n << 3) + varint(v)
def fb(n, b): return varint((n << 3) | 2) + varint(len(b)) + b
def f32(n, v): return varint((n << 3) | 5) + struct.pack('<I', v)
write('cluster_frames', [
    b'\0' + fv(1, 0) + fv(2, 7) + f32(3, 0x0100000b) + fb(8, b'payload'),
    b'\0' + fv(1, 1) + fb(4, b'@db') + fb(5, b'trace-tag') + fv(6, 100000) + fv(7, 3) + fb(8, b'x' * 64),
    b'\0' + fv(1, 2) + fb(4, b'.launcher'),
    b'\1' + fv(1, 7) + fv(2, 1) + fb(6, b'answer'),
    b'\1' + fv(1, 8) + fb(3, b'no such service') + fv(4, 70000) + fv(5, 9),
    b'\2' + fv(1, 3) + fv(2, 1) + fb(3, b'chunk'),
    b'\3' + fv(1, 65536),
    b'\0' + fb(4, b'a') + f32(3, 5),          # oneof set twice
    b'\1' + fv(99, 1) + fb(3, b'unknown field before'),
])

# --- msgserver script (fuzz_msgserver.c): opcode | fd << 3, operands ---
def op(kind, fd=0): return bytes([kind | (fd << 3)])
def txt(b): return bytes([len(b)]) + b
def signed(user, index, fd=0): return op(1, fd) + bytes([user, index + 128])
write('msgserver', [
    b'',
    signed(0, 1) + op(3) + txt(b'echo') + b'\0',
    # request, disconnect, reconnect with index + 1 and ask the same session again
    signed(0, 1) + op(4) + txt(b'echo') + b'\0' + op(6) + signed(0, 2, 1)
        + op(3, 1) + txt(b'fake') + b'\0' + op(5) + op(3, 1) + txt(b'again') + b'\1',
    signed(1, 5) + signed(1, 5, 1) + signed(1, 4, 2) + signed(1, 6, 2),
    op(0) + txt(b'dQ==@cw==#MQ==:1:AAAAAAAAAAA=') + op(0) + txt(b'no colons')
        + op(0) + txt(b'x:y:z') + op(0) + txt(b'dQ==@cw==#MQ==:1:!!'),
    signed(0, 1) + op(2) + txt(b'ab') + op(2) + txt(b'abcd') + op(2) + txt(b'hello\0\0\0\7'),
    signed(0, 1) + b''.join(op(3) + txt(b'm%d' % i) + bytes([i]) for i in range(12)),
    signed(0, 1) + op(4) + txt(b'p') + b'\2' + op(4) + txt(b'q') + b'\2' + op(5),
    signed(0, 1) + op(7) + op(3) + txt(b'after logout') + b'\3' + signed(0, 1),
])

# --- HTTP/WebSocket parsers (fuzz_http.c): byte 0 = mode | (step-1) << 2 ---
def wsf(op, payload, fin=True, key=None):
    b1 = (0x80 if fin else 0) | op
    m = 0x80 if key else 0
    n = len(payload)
    if n < 126: head = bytes([b1, m | n])
    elif n < 65536: head = bytes([b1, m | 126]) + struct.pack('>H', n)
    else: head = bytes([b1, m | 127]) + struct.pack('>Q', n)
    if not key: return head + payload
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))
K = b'\x11\x22\x33\x44'
def http(mode, step, text): return bytes([mode | ((step - 1) << 2)]) + text
write('http', [
    http(0, 64, b'GET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n'),
    http(0, 1, b'POST /p HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello'),
    http(0, 7, b'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n'),
    http(0, 64, b'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'),
    http(0, 3, b'GET / HTTP/1.1\r\nX: a\r\nX: b\r\nConnection: close, te\r\n\r\n'),
    http(1, 64, wsf(1, b'hello', key=K) + wsf(2, b'\0\1', key=K) + wsf(9, b'p', key=K)),
    http(1, 5, wsf(1, b'frag', False, K) + wsf(10, b'', key=K) + wsf(0, b'ment', key=K) + wsf(8, b'\x03\xe8bye', key=K)),
    http(1, 64, wsf(2, b'x' * 300, key=K) + wsf(8, b'', key=K)),
    http(2, 64, wsf(1, 'h\u00e9llo'.encode()) + wsf(2, b'y' * 70000) + wsf(8, b'\x0f\xa0')),
    http(2, 2, wsf(1, b'a', False) + wsf(0, b'b', False) + wsf(0, b'c')),
    http(3, 64, b'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'),
    http(3, 4, b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'),
    http(3, 64, b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'),
    http(3, 9, b'HTTP/1.0 200 OK\r\n\r\nuntil the end'),
])
