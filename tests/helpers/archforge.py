#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write malicious and malformed image archives (docker save / OCI layout) for
the CLI tests of `load`.

    archforge.py --list                      one line per case: NAME EXPECT DESCRIPTION
    archforge.py CASE OUT [--victim DIR]     write the case to OUT ("-" = stdout)

EXPECT is "load" (a well-formed archive that must load as forged:ok) or
"reject" (load must fail with a clear error and write nothing).  --victim is
an absolute directory the test watches; cases that point outside the archive
point into it, and the test puts a valid config.json and layer.tar there so
that following such a pointer would "work" and be noticed.

Archives are built with tarfile from one tiny layer (a file "hello"), so the
only thing wrong with each case is the thing it is named for."""

import argparse
import gzip
import hashlib
import io
import json
import sys
import tarfile

LAYER_FILES = {"hello": b"hello from the forged layer\n"}


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def layer_tar(files=None, extra=()):
    """An uncompressed layer tarball (deterministic)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in (files or LAYER_FILES).items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 1600000000
            t.addfile(ti, io.BytesIO(data))
        for ti, data in extra:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def config_for(diff_ids, **over):
    c = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2020-09-13T12:26:40Z",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + d for d in diff_ids]},
        "history": [{"created": "2020-09-13T12:26:40Z", "created_by": "archforge"}],
    }
    c.update(over)
    return json.dumps(c, separators=(",", ":")).encode()


def archive(members):
    """members: list of (name, bytes) for files, (name, ("symlink", target)) for links."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1600000000
            if isinstance(data, tuple) and data[0] == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data[1]
                t.addfile(ti)
            elif isinstance(data, tuple) and data[0] == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            else:
                ti.size = len(data)
                ti.mode = 0o644
                t.addfile(ti, io.BytesIO(data))
    return out.getvalue()


def docker_archive(layer=None, config=None, manifest=None, extra=(), drop=()):
    """A docker save archive; manifest entries may be overridden per field."""
    layer = layer if layer is not None else layer_tar()
    config = config if config is not None else config_for([sha256(layer)])
    cfg_name = sha256(config) + ".json"
    layer_name = sha256(layer) + "/layer.tar"
    entry = {"Config": cfg_name, "RepoTags": ["forged:ok"], "Layers": [layer_name]}
    entry.update(manifest or {})
    members = [(cfg_name, config), (sha256(layer) + "/", ("dir",)), (layer_name, layer),
               ("manifest.json", json.dumps([entry]).encode())]
    members = [m for m in members if m[0] not in drop] + list(extra)
    return archive(members)


def oci_archive(layer=None, config=None, manifest_digest=None, index_extra=None, blobs_override=None,
                ref="forged:ok"):
    layer = layer if layer is not None else layer_tar()
    config = config if config is not None else config_for([sha256(layer)])
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + sha256(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": "sha256:" + sha256(layer), "size": len(layer)}],
    }, separators=(",", ":")).encode()
    desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest or "sha256:" + sha256(manifest), "size": len(manifest),
            "annotations": {"io.containerd.image.name": "docker.io/library/" + ref,
                            "org.opencontainers.image.ref.name": ref.split(":")[-1]}}
    desc.update(index_extra or {})
    index = json.dumps({"schemaVersion": 2, "manifests": [desc]}).encode()
    blobs = {sha256(b): b for b in (config, layer, manifest)}
    blobs.update(blobs_override or {})
    members = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index),
               ("blobs/", ("dir",)), ("blobs/sha256/", ("dir",))]
    members += [("blobs/sha256/" + k, v) for k, v in sorted(blobs.items())]
    return archive(members)


# ---- cases -------------------------------------------------------------------

CASES = {}


def case(name, expect, description):
    def register(fn):
        CASES[name] = (expect, description, fn)
        return fn
    return register


@case("valid", "load", "a well-formed docker archive: forged:ok")
def _(v):
    return docker_archive()


@case("valid-oci", "load", "a well-formed OCI archive: forged:ok")
def _(v):
    return oci_archive()


@case("config-dotdot", "reject", "manifest.json Config ../../x")
def _(v):
    return docker_archive(manifest={"Config": "../../x"})


@case("layer-dotdot", "reject", "manifest.json Layers [../../x]")
def _(v):
    return docker_archive(manifest={"Layers": ["../../x"]})


@case("config-abs", "reject", "manifest.json Config is VICTIM/config.json (absolute, a valid config there)")
def _(v):
    return docker_archive(manifest={"Config": v + "/config.json"})


@case("layer-abs", "reject", "manifest.json Layers [VICTIM/layer.tar] (absolute, a valid layer there)")
def _(v):
    return docker_archive(manifest={"Layers": [v + "/layer.tar"]})


@case("config-symlink", "reject", "the Config member is a symlink to VICTIM/config.json")
def _(v):
    return docker_archive(manifest={"Config": "cfg.json"}, extra=[("cfg.json", ("symlink", v + "/config.json"))])


@case("layer-symlink", "reject", "the layer member is a symlink to VICTIM/layer.tar")
def _(v):
    return docker_archive(manifest={"Layers": ["l/layer.tar"]},
                          extra=[("l/", ("dir",)), ("l/layer.tar", ("symlink", v + "/layer.tar"))])


@case("diffid-mismatch", "reject", "the layer's digest is not the config's diff_id")
def _(v):
    other = layer_tar({"hello": b"something else\n"})
    return docker_archive(layer=layer_tar(), config=config_for([sha256(other)]))


@case("layer-count-mismatch", "reject", "the config has two diff_ids, the manifest one layer")
def _(v):
    layer = layer_tar()
    return docker_archive(layer=layer, config=config_for([sha256(layer), sha256(layer_tar({"b": b"b"}))]))


@case("evil-tag", "reject", "RepoTags [../evil:latest]")
def _(v):
    return docker_archive(manifest={"RepoTags": ["../evil:latest"]})


@case("uppercase-tag", "reject", "RepoTags [Evil:latest]")
def _(v):
    return docker_archive(manifest={"RepoTags": ["Evil:latest"]})


@case("missing-layer", "reject", "the manifest names a layer the archive lacks")
def _(v):
    layer = layer_tar()
    return docker_archive(layer=layer, drop=(sha256(layer) + "/layer.tar",))


@case("missing-config", "reject", "the manifest names a config the archive lacks")
def _(v):
    layer = layer_tar()
    config = config_for([sha256(layer)])
    return docker_archive(layer=layer, config=config, drop=(sha256(config) + ".json",))


@case("manifest-not-json", "reject", "manifest.json is not JSON")
def _(v):
    return archive([("manifest.json", b"[{this is not json")])


@case("manifest-wrong-type", "reject", "manifest.json is a JSON object, not an array")
def _(v):
    return archive([("manifest.json", b'{"Config": "x"}')])


@case("config-not-json", "reject", "the config is not JSON")
def _(v):
    layer = layer_tar()
    return docker_archive(layer=layer, config=b"not json at all")


@case("layer-traversal", "reject", "a layer with ../victim/x in it")
def _(v):
    ti = tarfile.TarInfo("../victim/x")
    ti.size = 5
    layer = layer_tar(extra=[(ti, b"pwned")])
    return docker_archive(layer=layer)


@case("layer-truncated-gzip", "reject", "a gzip layer cut in half")
def _(v):
    layer = layer_tar({"big": bytes(range(256)) * 400})
    gz = gzip.compress(layer, mtime=0)
    return docker_archive(layer=gz[: len(gz) // 2], config=config_for([sha256(layer)]))


@case("no-manifest", "reject", "a tarball with neither manifest.json nor index.json")
def _(v):
    return archive([("hello", b"just a file\n")])


@case("truncated", "reject", "a well-formed archive cut in half")
def _(v):
    data = docker_archive()
    return data[: len(data) // 2]


@case("oci-digest-dotdot", "reject", "index.json names manifest sha256:../../../x")
def _(v):
    return oci_archive(manifest_digest="sha256:../../../../x")


@case("oci-digest-short", "reject", "index.json names a 63-hex-digit manifest digest")
def _(v):
    return oci_archive(manifest_digest="sha256:" + "a" * 63)


@case("oci-blob-tampered", "reject", "an OCI config blob whose content does not match its digest")
def _(v):
    layer = layer_tar()
    config = config_for([sha256(layer)])
    return oci_archive(layer=layer, config=config,
                       blobs_override={sha256(config): config.replace(b"/hello", b"/pwned")})


@case("oci-bad-ref", "reject", "the index names the image ../evil:latest")
def _(v):
    return oci_archive(ref="../evil:latest")


def victim_files(v):
    """What the test places in the victim directory: a valid config and layer."""
    layer = layer_tar()
    return {"config.json": config_for([sha256(layer)]), "layer.tar": layer}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="list the cases")
    ap.add_argument("--victim", default="/victim", help="absolute path of the watched victim directory")
    ap.add_argument("--victim-files", action="store_true",
                    help="write the victim's bait files (config.json, layer.tar) into --victim")
    ap.add_argument("case", nargs="?")
    ap.add_argument("out", nargs="?")
    args = ap.parse_args()
    if args.list:
        for name, (expect, description, _) in CASES.items():
            print("%s\t%s\t%s" % (name, expect, description))
        return 0
    if not args.victim.startswith("/"):
        ap.error("--victim must be absolute")
    victim = args.victim.rstrip("/") or "/"
    if args.victim_files:
        for name, data in victim_files(victim).items():
            with open(victim + "/" + name, "wb") as f:
                f.write(data)
        return 0
    if not args.case or not args.out:
        ap.error("need CASE and OUT (or --list)")
    if args.case not in CASES:
        ap.error("unknown case %r; see --list" % args.case)
    data = CASES[args.case][2](victim)
    if args.out == "-":
        sys.stdout.buffer.write(data)
    else:
        with open(args.out, "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
