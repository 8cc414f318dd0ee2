#!/usr/bin/env python3
"""gen_split_corpus.py — writes the seed corpora of the two stream state
machine targets: gate (services/gate_split.c, script of fuzz_gate.c) and
cluster_parts (cluster/assembly.c, script of fuzz_cluster_parts.c).  Seeds are
valid conversations plus a few that break one rule each, so the fuzzer starts
with every branch of the protocol reached.  Run from anywhere; rewrites the
seed files it owns (seed-*), leaves what libFuzzer added."""
import os, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seedfiles import write  # noqa: E402

# --- gate: header byte, then events (fuzz_gate.c) ---
S, L = b'\0', b'\1'                      # 2- or 4-byte length headers, the gate's limit
def small(hdr4, k): return bytes([(k << 1) | hdr4])   # limit 512 * k
def read(c, b):                          # one read of up to 255 bytes
    assert len(b) < 256
    return bytes([(c << 2) | 0, len(b)]) + b
def bigread(c, b):                       # one read of up to 65535 bytes
    return bytes([(c << 2) | 1]) + struct.pack('>H', len(b)) + b
def close(c): return bytes([(c << 2) | 2])
def empty(c): return bytes([(c << 2) | 3])
def pkt_s(b): return struct.pack('>H', len(b)) + b
def pkt_l(b): return struct.pack('>I', len(b)) + b
def bytewise(c, b): return b''.join(read(c, b[k:k + 1]) for k in range(len(b)))

stream = pkt_s(b'hello') + pkt_s(b'') + pkt_s(b'world!')
write('gate', [
    S + read(0, stream),
    S + bytewise(0, stream) + empty(0),
    S + read(0, stream[:3]) + read(1, pkt_s(b'x')) + read(0, stream[3:]),
    S + read(0, pkt_s(b'a' * 40)[:20]) + close(0) + read(0, pkt_s(b'b')),
    S + bigread(2, pkt_s(b'y' * 600) + pkt_s(b'z')),
    S + read(0, pkt_s(b'')) + read(1, pkt_s(b'')) + read(2, pkt_s(b'')),
    L + read(0, pkt_l(b'long header') + pkt_l(b'')),
    L + bytewise(1, pkt_l(b'split')),
    L + read(0, struct.pack('>I', 0x1000000) + b'more') + read(0, pkt_l(b'x')) + close(0)
      + read(0, pkt_l(b'again')),
    L + read(2, struct.pack('>I', 0xffffff)[:4] + b'partial'),
    small(0, 1) + read(0, pkt_s(b'q' * 10)) + read(0, struct.pack('>H', 512) + b'x')
      + read(0, pkt_s(b'ignored')) + close(0) + read(0, pkt_s(b'ok')),
    small(1, 2) + read(1, pkt_l(b'small limit') + struct.pack('>I', 1023) + b'fits')
      + read(1, struct.pack('>I', 1024)),
])

# --- cluster_parts: two limit bytes, then events (fuzz_cluster_parts.c) ---
def limits(max_message, max_pending):    # max_message = 2*a, max_pending = 4*b
    return bytes([max_message // 2, max_pending // 4])
def begin(i, total, chunk, headroom=0, over=False, huge=False):
    b = (i << 1) | (headroom << 4) | (0x20 if over or huge else 0) | (0x40 if huge else 0)
    return bytes([b, total, len(chunk)]) + chunk
def part(i, chunk, last=False):
    return bytes([1 | (i << 1) | (0x10 if last else 0), len(chunk)]) + chunk

write('cluster_parts', [
    # one request, three frames
    limits(200, 800) + begin(1, 100, b'a' * 40) + part(1, b'b' * 30) + part(1, b'c' * 30, True),
    # a request and a response (status-byte headroom) interleaved
    limits(200, 800) + begin(1, 60, b'r' * 20) + begin(2, 50, b's' * 10, headroom=1)
      + part(2, b't' * 20) + part(1, b'u' * 40, True) + part(2, b'v' * 20, True),
    # whole in the first frame: an empty last part ends it
    limits(200, 800) + begin(3, 5, b'12345') + part(3, b'', True),
    # over max_message: discarded, still counted to the end
    limits(100, 400) + begin(4, 20, b'x' * 10, over=True) + part(4, b'y' * 100)
      + part(4, b'z' * 10, True),
    # max_pending: the second message does not fit, the link closes, a new one goes on
    limits(200, 300) + begin(1, 200, b'p') + begin(2, 200, b'q') + begin(1, 10, b'k' * 10)
      + part(1, b'', True),
    # protocol errors: unknown id, early last, id 0, overlong part, duplicate id
    limits(200, 800) + part(5, b'?') + begin(1, 10, b'ab') + part(1, b'cd', True)
      + begin(0, 10, b'') + begin(2, 4, b'ab') + part(2, b'cdef') + begin(6, 9, b'')
      + begin(6, 9, b''),
    # an absurd total (near 2^64)
    limits(200, 800) + begin(7, 3, b'abc', huge=True) + part(7, b'd' * 50),
])
