#!/usr/bin/env python3
"""An independent Python lookup3 hashlittle (the switch-on-length form of lookup3.c),
used to produce the expected checksums for every length 0..24 in src/encode/lookup3_vectors.in.

Usage: python3 tests/py/lookup3_vectors.py > src/encode/lookup3_vectors.in
"""
M = 0xFFFFFFFF


def rot(x, k):
    return ((x << k) | (x >> (32 - k))) & M


def hashlittle(data: bytes, initval: int = 0) -> int:
    length = len(data)
    a = b = c = (0xDEADBEEF + length + initval) & M
    i = 0
    while length > 12:
        a = (a + (data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24)) & M
        b = (b + (data[i + 4] | data[i + 5] << 8 | data[i + 6] << 16 | data[i + 7] << 24)) & M
        c = (c + (data[i + 8] | data[i + 9] << 8 | data[i + 10] << 16 | data[i + 11] << 24)) & M
        a = (a - c) & M; a ^= rot(c, 4); c = (c + b) & M
        b = (b - a) & M; b ^= rot(a, 6); a = (a + c) & M
        c = (c - b) & M; c ^= rot(b, 8); b = (b + a) & M
        a = (a - c) & M; a ^= rot(c, 16); c = (c + b) & M
        b = (b - a) & M; b ^= rot(a, 19); a = (a + c) & M
        c = (c - b) & M; c ^= rot(b, 4); b = (b + a) & M
        length -= 12
        i += 12
    k = data[i:]
    # the fall-through switch of lookup3.c, byte by byte
    if length == 0:
        return c
    if length >= 12: c = (c + (k[11] << 24)) & M
    if length >= 11: c = (c + (k[10] << 16)) & M
    if length >= 10: c = (c + (k[9] << 8)) & M
    if length >= 9: c = (c + k[8]) & M
    if length >= 8: b = (b + (k[7] << 24)) & M
    if length >= 7: b = (b + (k[6] << 16)) & M
    if length >= 6: b = (b + (k[5] << 8)) & M
    if length >= 5: b = (b + k[4]) & M
    if length >= 4: a = (a + (k[3] << 24)) & M
    if length >= 3: a = (a + (k[2] << 16)) & M
    if length >= 2: a = (a + (k[1] << 8)) & M
    a = (a + k[0]) & M
    c ^= b; c = (c - rot(b, 14)) & M
    a ^= c; a = (a - rot(c, 11)) & M
    b ^= a; b = (b - rot(a, 25)) & M
    c ^= b; c = (c - rot(b, 16)) & M
    a ^= c; a = (a - rot(c, 4)) & M
    b ^= a; b = (b - rot(a, 14)) & M
    c ^= b; c = (c - rot(b, 24)) & M
    return c


if __name__ == "__main__":
    assert hashlittle(b"") == 0xDEADBEEF
    assert hashlittle(b"Four score and seven years ago") == 0x17770551
    assert hashlittle(b"Four score and seven years ago", 1) == 0xCD628161
    data = bytes(range(24))
    print("[" + ", ".join("0x%08x" % hashlittle(data[:n]) for n in range(25)) + "]")
