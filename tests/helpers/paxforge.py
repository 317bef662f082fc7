#!/usr/bin/env python3
"""Hand-made tar headers that the tarfile module will not write: chained PAX
headers, sizes near INT64_MAX, PAX record lengths past 2**64, xattr floods.
Usage: paxforge.py CASE OUT.tar   (cases: --list)"""
import sys

def blk(name, typ=b"0", size=0):
    b = bytearray(512)
    b[:len(name)] = name
    b[100:108] = b"0000644\0"
    b[108:116] = b[116:124] = b"0000000\0"
    b[124:136] = b"%011o\0" % size if size < 8**11 else b"\x80" + size.to_bytes(11, "big")
    b[136:148] = b"00000000000\0"
    b[156:157] = typ
    b[257:265] = b"ustar\x0000"
    b[148:156] = b" " * 8
    b[148:156] = b"%06o\0 " % sum(b)
    return bytes(b)

def pad(d):
    return d + b"\0" * (-len(d) % 512)

def rec(k, v):
    body = b" %s=%s\n" % (k, v)
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n += 1
    return str(n).encode() + body

def pax(*kv, raw=None):
    d = raw if raw is not None else b"".join(rec(k, v) for k, v in kv)
    return blk(b"PaxHeaders/x", b"x", len(d)) + pad(d)

def reg(n, d):
    return blk(n, b"0", len(d)) + pad(d)

END = b"\0" * 1024

CASES = {
    # Only the last 'x' header counts: the entry is "good", never "evil".
    "pax-chain": lambda: pax((b"path", b"evil")) + pax((b"comment", b"x")) + reg(b"good", b"c\n") + END,
    # A size near INT64_MAX once overflowed the skip and hid the next entries.
    "size-overflow": lambda: pax((b"size", b"9223372036854775799")) + blk(b".wh.x") + reg(b"hidden", b"s\n") + END,
    # A record length of 2**64+31 wrapped to 31.
    "pax-length-overflow": lambda: pax(raw=b"18446744073709551647 path=evil\n") + reg(b"good", b"c\n") + END,
    # Thousands of xattrs on one entry (quadratic work before the cap).
    "xattr-flood": lambda: pax(*[(b"SCHILY.xattr.user.%05d" % i, b"") for i in range(5000)]) + reg(b"f", b"x") + END,
}

if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(CASES))
        sys.exit(0)
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        sys.exit(__doc__)
    with open(sys.argv[2], "wb") as f:
        f.write(CASES[sys.argv[1]]())
