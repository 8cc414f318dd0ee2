#!/usr/bin/env python3
"""gen_names_corpus.py — writes the seeds of fuzz_names (see fuzz_names.c for
the input format): registrations, announces, withdraws, queries and leaves by
several nodes, the attacks of tests/multinode/test_attack.py among them
(another node's handle, handle 0, squatting a departed node's name, its owner
taking it back).  Protobuf is encoded here by hand, field by field."""
import struct

import seedfiles


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def ld(field, payload):               # length-delimited field
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def binding(name, handle):
    return ld(1, name.encode()) + varint(2 << 3 | 5) + struct.pack("<I", handle)


def register(name, handle):
    return ld(1, binding(name, handle))


def announce(*pairs):
    return ld(1, b"127.0.0.1:2526") + b"".join(ld(2, binding(n, h)) for n, h in pairs)


def withdraw(name, handle):
    return ld(1, binding(name, handle))


def query(name):
    return ld(1, name.encode())


def op(code, node, frame=None):
    out = bytes([code, node])
    if frame is not None:
        out += struct.pack("<H", len(frame)) + frame
    return out


REG, ANN, WD, LEFT, Q = 0, 1, 2, 3, 4

seeds = [
    # plain life: register, query, withdraw
    op(REG, 2, register("SVC", 0x02000010)) + op(Q, 3, query("SVC")) +
    op(WD, 2, withdraw("SVC", 0x02000010)) + op(Q, 3, query("SVC")),
    # first registration wins
    op(REG, 2, register("DB", 0x02000011)) + op(REG, 3, register("DB", 0x03000012)),
    # another node's handle, handle 0, node 0
    op(REG, 9, register("EVIL1", 0x02000006)) + op(REG, 9, register("EVIL0", 0)) +
    op(REG, 0, register("ZERO", 0x00000001)),
    # squatting a departed node's name; the owner gets it back
    op(ANN, 3, announce(("NODE3", 0x03000006), ("GAME", 0x03000007))) + op(LEFT, 3) +
    op(Q, 2, query("NODE3")) + op(REG, 9, register("NODE3", 0x09000005)) +
    op(ANN, 3, announce(("NODE3", 0x0300000a))) + op(Q, 2, query("NODE3")),
    # withdraw by a node that does not own it; of a reserved name
    op(REG, 2, register("X", 0x02000001)) + op(WD, 3, withdraw("X", 0x02000001)) +
    op(LEFT, 2) + op(WD, 2, withdraw("X", 0x02000001)) + op(WD, 2, withdraw("X", 0)),
    # names at the limits: 15 bytes, 16 bytes, empty
    op(REG, 4, register("A" * 15, 0x04000001)) + op(REG, 4, register("B" * 16, 0x04000002)) +
    op(REG, 4, register("", 0x04000003)),
    # an announce mixing good and bad bindings
    op(ANN, 5, announce(("OK5", 0x05000001), ("BAD", 0x06000001), ("NUL", 0),
                        ("OK5", 0x05000002))),
]
seedfiles.write("names", seeds)
print("%d seeds" % len(seeds))
