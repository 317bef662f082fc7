#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write malicious and malformed tarballs for the CLI tests (security.md 1.C).

    tarforge.py --list                      one line per case: NAME EXPECT DESCRIPTION
    tarforge.py CASE OUT [--victim DIR]     write the case to OUT ("-" = stdout)

EXPECT is "reject" (unpacking must fail and change nothing outside the layer),
"accept" (unpacking must succeed, and the victim must still be untouched) or
"load-reject" (a `docker save` style archive that `load` must refuse before
writing anything).  --victim is the absolute path of a directory the test
watches (default /victim); absolute symlinks point into it, relative ones
climb to a sibling named "victim" next to the layer root, and every case
targets a file named "hello" in it.

Headers are built byte by byte (not with tarfile) so that checksums, sizes
and names are exactly what each case needs."""

import argparse
import gzip
import io
import json
import shutil
import subprocess
import sys
import zlib

BLOCK = 512


def octal(value, width):
    return ("%0*o" % (width - 1, value)).encode() + b"\0"


def header(name, typeflag=b"0", size=0, mode=None, uid=0, gid=0, mtime=1600000000,
           link="", major=0, minor=0, size_field=None, bad_checksum=False):
    if mode is None:
        mode = 0o755 if typeflag == b"5" else 0o644
    name_b = name.encode() if isinstance(name, str) else name
    link_b = link.encode() if isinstance(link, str) else link
    h = bytearray(BLOCK)
    h[0:len(name_b[:100])] = name_b[:100]
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(uid, 8)
    h[116:124] = octal(gid, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(mtime, 12)
    h[156:157] = typeflag
    h[157:157 + len(link_b[:100])] = link_b[:100]
    h[257:265] = b"ustar\x0000"
    h[329:337] = octal(major, 8)
    h[337:345] = octal(minor, 8)
    h[148:156] = b" " * 8
    s = sum(h) + (1 if bad_checksum else 0)
    h[148:156] = ("%06o" % s).encode() + b"\0 "
    return bytes(h)


def pad(data):
    return data + b"\0" * ((BLOCK - len(data) % BLOCK) % BLOCK)


def entry(name, data=b"", **kw):
    if isinstance(data, str):
        data = data.encode()
    typeflag = kw.get("typeflag", b"0")
    size = len(data) if typeflag in (b"0", b"x", b"L", b"K") else 0
    return header(name, size=size, **kw) + pad(data)


def pax_record(key, value):
    if isinstance(value, str):
        value = value.encode()
    body = b" " + key.encode() + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n)) + len(body) != n:
        n = len(str(n)) + len(body)
    return str(n).encode() + body


def pax(records):
    data = b"".join(pax_record(k, v) for k, v in records)
    return header("././@PaxHeader", typeflag=b"x", size=len(data)) + pad(data)


def end():
    return b"\0" * (2 * BLOCK)


def tar(*entries):
    return b"".join(entries) + end()


def gz(data):
    return gzip.compress(data, mtime=0)


# ---- cases -------------------------------------------------------------------

CASES = {}


def case(name, expect, description):
    def register(fn):
        CASES[name] = (expect, description, fn)
        return fn
    return register


@case("dotdot", "reject", "regular file ../victim/x")
def _(v):
    return tar(entry("../victim/x", "pwned"))


@case("abs-dotdot", "reject", "regular file /../victim/x")
def _(v):
    return tar(entry("/../victim/x", "pwned"))


@case("bare-dotdot", "reject", "directory entry named ..")
def _(v):
    return tar(entry("..", typeflag=b"5"))


@case("inner-dotdot", "reject", "a/../../victim/x")
def _(v):
    return tar(entry("a/", typeflag=b"5"), entry("a/../../victim/x", "pwned"))


@case("sibling-prefix", "reject", "../dest-evil/secret (a sibling sharing the root's prefix)")
def _(v):
    return tar(entry("../dest-evil/secret", "pwned"))


@case("symlink-escape", "reject", "l -> ../victim, then l/file")
def _(v):
    return tar(entry("l", typeflag=b"2", link="../victim"), entry("l/file", "pwned"))


@case("symlink-abs-escape", "reject", "abs -> VICTIM, then abs/file")
def _(v):
    return tar(entry("abs", typeflag=b"2", link=v), entry("abs/file", "pwned"))


@case("escape-absolute-chain", "reject", "escape -> .., absolute -> VICTIM, escape/absolute/file")
def _(v):
    return tar(entry("escape", typeflag=b"2", link=".."),
               entry("absolute", typeflag=b"2", link=v),
               entry("escape/absolute/file", "pwned"))


@case("hardlink-escape", "reject", "hard link h -> ../victim/hello")
def _(v):
    return tar(entry("h", typeflag=b"1", link="../victim/hello"))


@case("hardlink-abs-escape", "reject", "hard link h -> /../victim/hello")
def _(v):
    return tar(entry("h", typeflag=b"1", link="/../victim/hello"))


@case("hardlink-dir", "reject", "hard link to a directory")
def _(v):
    return tar(entry("d/", typeflag=b"5"), entry("h", typeflag=b"1", link="d"))


@case("hardlink-through-symlink", "reject", "lnk -> VICTIM, hard link h -> lnk/hello")
def _(v):
    return tar(entry("lnk", typeflag=b"2", link=v), entry("h", typeflag=b"1", link="lnk/hello"))


@case("hardlink-to-outward-symlink", "accept",
      "sym -> VICTIM/hello, hard link hard -> sym (mode 4777), then a file named hard")
def _(v):
    return tar(entry("sym", typeflag=b"2", link=v + "/hello"),
               entry("hard", typeflag=b"1", link="sym", mode=0o4777),
               entry("hard", "overwrite?", mode=0o4777))


@case("link-then-file", "accept", "f, hard link h -> f, then a new file h (f must keep its content)")
def _(v):
    return tar(entry("f", "original"), entry("h", typeflag=b"1", link="f"), entry("h", "new"))


@case("chmod-through-symlink", "accept", "s -> VICTIM/hello, then s as a mode 4777 file, fifo and dir")
def _(v):
    return tar(entry("s", typeflag=b"2", link=v + "/hello"), entry("s", "x", mode=0o4777),
               entry("s2", typeflag=b"2", link="../victim/hello"), entry("s2", typeflag=b"6", mode=0o4777),
               entry("s3", typeflag=b"2", link=v), entry("s3/", typeflag=b"5", mode=0o4777))


@case("whiteout-under-symlink", "reject", "d -> VICTIM, then d/.wh.hello")
def _(v):
    return tar(entry("d", typeflag=b"2", link=v), entry("d/.wh.hello"))


@case("opaque-under-symlink", "reject", "d -> ../victim, then d/.wh..wh..opq")
def _(v):
    return tar(entry("d", typeflag=b"2", link="../victim"), entry("d/.wh..wh..opq"))


@case("whiteout-empty", "reject", "whiteout named .wh.")
def _(v):
    return tar(entry(".wh."))


@case("whiteout-dot", "reject", "whiteout named .wh..")
def _(v):
    return tar(entry(".wh.."))


@case("whiteout-dotdot", "reject", "whiteout named .wh...")
def _(v):
    return tar(entry(".wh..."))


@case("devices", "accept", "char device null 1:3, block device loop0 7:0, fifo")
def _(v):
    return tar(entry("dev/", typeflag=b"5"),
               entry("dev/null", typeflag=b"3", major=1, minor=3, mode=0o666),
               entry("dev/loop0", typeflag=b"4", major=7, minor=0, mode=0o660),
               entry("dev/fifo", typeflag=b"6", mode=0o600))


@case("kaniko-abs-hardlink", "accept", "etc/f, hard link h -> /etc/f (resolved inside the root)")
def _(v):
    return tar(entry("etc/f", "shared"), entry("h", typeflag=b"1", link="/etc/f"))


@case("abs-name", "accept", "/etc/abs is unpacked as etc/abs")
def _(v):
    return tar(entry("/etc/abs", "abs"))


@case("bad-checksum", "reject", "header checksum off by one")
def _(v):
    return tar(header("f", size=1, bad_checksum=True) + pad(b"x"))


@case("truncated-header", "reject", "archive cut inside the second header")
def _(v):
    return (entry("first", "ok") + entry("second", "x" * 600))[:BLOCK * 2 + 100]


@case("truncated-data", "reject", "archive cut inside a file's data")
def _(v):
    return (entry("first", "x" * 5000))[:BLOCK + 3000]


@case("negative-size", "reject", "base-256 negative size")
def _(v):
    return tar(header("neg", size_field=b"\xff" * 11 + b"\xfe"))


@case("huge-size", "reject", "8 GiB declared size without the data")
def _(v):
    return tar(header("huge", size_field=b"77777777777\0"))


@case("pax-huge-size", "reject", "PAX size record that overflows int64")
def _(v):
    return tar(pax([("size", "99999999999999999999999")]), header("f"))


@case("pax-malformed", "reject", "PAX record whose length runs past the header")
def _(v):
    data = b"5 a=\n999 path=x\n"
    return tar(header("././@PaxHeader", typeflag=b"x", size=len(data)) + pad(data), header("f"))


@case("pax-longname", "accept", "300-byte name and link target via PAX path/linkpath")
def _(v):
    name = "/".join(["p" * 99] * 3)
    return tar(pax([("path", name)]), entry("short", "pax"),
               pax([("linkpath", "t" * 300)]), entry("link", typeflag=b"2", link="x"))


@case("gnu-longname", "accept", "300-byte name and link target via GNU 'L'/'K'")
def _(v):
    name = "/".join(["g" * 99] * 3)
    return tar(entry("././@LongLink", name.encode() + b"\0", typeflag=b"L"), entry("short", "gnu"),
               entry("././@LongLink", b"t" * 300 + b"\0", typeflag=b"K"),
               entry("link", typeflag=b"2", link="x"))


@case("sparse", "reject", "GNU sparse entry (unsupported)")
def _(v):
    return tar(header("sparse", typeflag=b"S"))


@case("zero-block-then-header", "reject", "one zero block followed by another entry")
def _(v):
    return entry("f", "x") + b"\0" * BLOCK + entry("g", "y") + end()


@case("gzip-truncated", "reject", "gzip stream cut before its end")
def _(v):
    data = gz(tar(entry("f", bytes(range(256)) * 400)))
    return data[:len(data) // 2]


@case("gzip-trailing-garbage", "reject", "valid gzip member followed by junk")
def _(v):
    return gz(tar(entry("f", "x"))) + b"junk after the gzip member"


@case("gzip-multimember", "accept", "two gzip members (pigz style), split inside a header")
def _(v):
    t = tar(entry("a", "first"), entry("b", "second"))
    return gz(t[:700]) + gz(t[700:])


@case("zstd", "accept", "zstd-compressed layer (needs the zstd program)")
def _(v):
    if not shutil.which("zstd"):
        raise SystemExit("tarforge: the zstd case needs the zstd program")
    return subprocess.run(["zstd", "-q", "-c"], input=tar(entry("f", "zstd")), check=True,
                          stdout=subprocess.PIPE).stdout


@case("gzip-bomb", "accept", "1 GiB of zeros in one file, about 1 MiB of gzip (use a size cap to reject)")
def _(v):
    size = 1 << 30
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    out = io.BytesIO()
    out.write(c.compress(header("zeros", size=size)))
    chunk = b"\0" * (1 << 20)
    for _ in range(size // len(chunk)):
        out.write(c.compress(chunk))
    out.write(c.compress(end()))
    out.write(c.flush())
    return out.getvalue()


# `docker save` archives (CVE-2014-9358): IDs and paths used before validation.

def save_archive(manifest, repositories=None, extra=()):
    entries = [entry("manifest.json", json.dumps(manifest))]
    if repositories is not None:
        entries.append(entry("repositories", json.dumps(repositories)))
    entries.extend(extra)
    return tar(*entries)


@case("save-traversal-config", "load-reject", "manifest.json Config ../../../../tmp/x")
def _(v):
    return save_archive([{"Config": "../../../../tmp/x", "RepoTags": ["a:b"], "Layers": []}])


@case("save-traversal-layer", "load-reject", "manifest.json Layers entry ../../../../tmp/x/layer.tar")
def _(v):
    return save_archive([{"Config": "c.json", "RepoTags": ["a:b"], "Layers": ["../../../../tmp/x/layer.tar"]}],
                        extra=[entry("c.json", "{}")])


@case("save-bad-tag", "load-reject", "RepoTags entry with ../ in it")
def _(v):
    return save_archive([{"Config": "c.json", "RepoTags": ["../../evil:latest"], "Layers": []}],
                        extra=[entry("c.json", "{}")])


@case("save-short-id", "load-reject", "legacy repositories file naming a 63-character image id")
def _(v):
    return save_archive([{"Config": "c.json", "RepoTags": ["a:b"], "Layers": []}],
                        repositories={"a": {"b": "a" * 63}}, extra=[entry("c.json", "{}")])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="list the cases")
    ap.add_argument("--victim", default="/victim", help="absolute path of the watched victim directory")
    ap.add_argument("case", nargs="?")
    ap.add_argument("out", nargs="?")
    args = ap.parse_args()
    if args.list:
        for name, (expect, description, _) in CASES.items():
            print("%s\t%s\t%s" % (name, expect, description))
        return 0
    if not args.case or not args.out:
        ap.error("need CASE and OUT (or --list)")
    if args.case not in CASES:
        ap.error("unknown case %r; see --list" % args.case)
    if not args.victim.startswith("/"):
        ap.error("--victim must be absolute")
    data = CASES[args.case][2](args.victim.rstrip("/") or "/")
    if args.out == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(args.out, "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
