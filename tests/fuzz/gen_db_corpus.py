#!/usr/bin/env python3
"""gen_db_corpus.py — writes the seed corpora of the database reply targets
(mysql, redis) into corpus/<target>/: valid server replies of each kind and a
few near misses, so the fuzzer starts behind the first checks.  Rewrites the
seed files it owns; what libFuzzer added stays."""
import os, struct, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seedfiles import write  # noqa: E402

# --- MySQL: packets are int<3> length, int<1> sequence, payload ---
def pkt(payload, seq=1): return struct.pack('<I', len(payload))[:3] + bytes([seq & 0xff]) + payload
def lenenc(n):
    if n < 0xfb: return bytes([n])
    if n < 1 << 16: return b'\xfc' + struct.pack('<H', n)
    if n < 1 << 24: return b'\xfd' + struct.pack('<I', n)[:3]
    return b'\xfe' + struct.pack('<Q', n)
def lstr(s): return lenenc(len(s)) + s
def ok(affected=0, insert=0, status=2, warnings=0, info=b''):
    return b'\0' + lenenc(affected) + lenenc(insert) + struct.pack('<HH', status, warnings) + info
def err(errno, state, msg): return b'\xff' + struct.pack('<H', errno) + b'#' + state + msg
def eof(status=2): return b'\xfe' + struct.pack('<HH', 0, status)
def col(name, typ, flags=0, decimals=0):
    return (lstr(b'def') + lstr(b'db') + lstr(b't') + lstr(b't') + lstr(name) + lstr(name)
            + b'\x0c' + struct.pack('<HIBHB', 45, 11, typ, flags, decimals) + b'\0\0')
def stream(*payloads): return b''.join(pkt(p, i + 1) for i, p in enumerate(payloads))
def resultset(cols, rows, status=2):
    return [lenenc(len(cols))] + cols + [eof()] + rows + [eof(status)]

types = [(b'ti', 1), (b'si', 2), (b'i', 3), (b'f', 4), (b'd', 5), (b'ts', 7), (b'bi', 8), (b'mi', 9),
         (b'dt', 10), (b'tm', 11), (b'dtm', 12, 0, 6), (b'yr', 13), (b'vc', 15), (b'dec', 0xf6), (b'bl', 0xfc)]
cols = [col(t[0], t[1], 0, t[3] if len(t) > 3 else 0) for t in types]
text_row = b''.join(lstr(v) for v in [b'-1', b'300', b'70000', b'1.5', b'2.25', b'2020-01-02 03:04:05',
                                       b'9223372036854775807', b'-5', b'2024-02-29', b'-838:59:59',
                                       b'1999-12-31 23:59:59.123456', b'2155', b'hello', b'12.50']) + b'\xfb'
nullmap = bytes(((len(cols) + 9) // 8))
bin_vals = (struct.pack('<bhi', -1, 300, 70000) + struct.pack('<fd', 1.5, 2.25)
            + b'\x07' + struct.pack('<HBBBBB', 2020, 1, 2, 3, 4, 5) + struct.pack('<q', 2**63 - 1)
            + struct.pack('<i', -5) + b'\x04' + struct.pack('<HBB', 2024, 2, 29)
            + b'\x0c' + struct.pack('<BIBBBI', 1, 34, 22, 59, 59, 999999)
            + b'\x0b' + struct.pack('<HBBBBBI', 1999, 12, 31, 23, 59, 59, 123456)
            + struct.pack('<H', 2155) + lstr(b'hello') + lstr(b'12.50') + lstr(b'\0\xff' * 10))
bin_row = b'\0' + nullmap + bin_vals
bin_null_row = b'\0' + b'\xfc' + b'\xff' * (len(nullmap) - 1)

mysql = []
for mode in (0, 1, 2):
    mysql += [
        bytes([mode]) + stream(ok(3, 1, 2, 0, b'Records: 3  Duplicates: 0  Warnings: 0')),
        bytes([mode]) + stream(err(1146, b'42S02', b"Table 'x' doesn't exist")),
        bytes([mode]) + stream(ok(0, 0, 0x0a)) + stream(ok(1, 7)),
    ]
mysql.append(bytes([0]) + stream(*resultset(cols, [text_row, text_row])))
mysql.append(bytes([0]) + stream(*resultset([col(b'a', 3)], [lstr(b'1')], status=0x0a)) + stream(ok(1)))
mysql.append(bytes([0]) + stream(*resultset([col(b'a', 3)], [lstr(b'1')], status=0x0a))
             + stream(err(1064, b'42000', b'syntax')))
mysql.append(bytes([1]) + stream(*resultset(cols, [bin_row, bin_null_row])))
mysql.append(bytes([2]) + stream(*resultset(cols, [bin_row])))
mysql.append(bytes([1]) + stream(*resultset([col(b'a', 3)], [b'\0\0' + struct.pack('<i', 5)], status=0x0a)) + stream(ok()))
# (packets of 16 MiB are left to test_mysql_auth: a seed that size would
# weigh down the repository and every run)
mysql.append(bytes([3]) + stream(struct.pack('<BIHHBH', 0, 1, 1, 2, 0, 0), col(b'?', 0xfd), eof(),
                                 col(b'a', 3), eof()))
mysql.append(bytes([3]) + stream(err(1064, b'42000', b'bad')))
mysql.append(bytes([4]) + b'\x0a10.11.6-MariaDB\0' + struct.pack('<I', 42) + b'abcdefgh\0'
             + struct.pack('<HBHHB', 0xf7fe, 45, 2, 0x81ff, 21) + b'\0' * 10 + b'ijklmnopqrst\0'
             + b'mysql_native_password\0')
mysql.append(bytes([4]) + b'\x0a8.0.36\0' + struct.pack('<I', 7) + b'abcdefgh\0'
             + struct.pack('<HBHHB', 0xffff, 255, 2, 0xdfff, 21) + b'\0' * 10 + b'ijklmnopqrst\0'
             + b'caching_sha2_password\0')
mysql.append(bytes([0]) + stream(lenenc(2)))  # truncated: no columns
write('mysql', mysql)

# --- Redis RESP2 ---
write('redis', [
    b'+OK\r\n', b'-ERR wrong type\r\n', b':12345\r\n', b':-9223372036854775808\r\n',
    b'$5\r\nhello\r\n', b'$-1\r\n', b'$0\r\n\r\n', b'*-1\r\n', b'*0\r\n',
    b'*3\r\n$3\r\nfoo\r\n:1\r\n*2\r\n+a\r\n-ERR inner\r\n',
    b'*2\r\n*1\r\n*1\r\n$1\r\nx\r\n$-1\r\n',
    b'+QUEUED\r\n+QUEUED\r\n*2\r\n$5\r\nhello\r\n$5\r\nworld\r\n',
    b'*3\r\n$7\r\nmessage\r\n$3\r\nfoo\r\n$3\r\nbar\r\n',
    b'*4\r\n$8\r\npmessage\r\n$7\r\nhello.*\r\n$7\r\nhello.a\r\n$1\r\nz\r\n',
    b'$10\r\nshort\r\n', b':notanumber\r\n', b'?what\r\n', b'*2\r\n:1\r\n',
])
