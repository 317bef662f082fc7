#!/usr/bin/env python3
"""security.md's fakereg: a registry on 127.0.0.1 serving crafted documents,
logging every request with its Authorization header.

  fakereg.py image DIR
      Write a small valid image into DIR: blobs/<hex> (a gzip layer with
      /hello, its config) and manifests/latest (a docker schema2 manifest,
      its media type in manifests/latest.type).  Prints the manifest digest.
  fakereg.py serve PORTFILE DIR LOG [USER:PASSWORD]
      Serve DIR: GET/HEAD /v2/ , /v2/NAME/manifests/REF (DIR/manifests/REF,
      REF's ":" as "_"; Content-Type from REF.type) and /v2/NAME/blobs/DIGEST
      (DIR/blobs/HEX), anything else 404.  With USER:PASSWORD, requests
      without those basic credentials get 401 and a Basic challenge.  Each
      request appends "METHOD PATH AUTHORIZATION" (or "-") to LOG.  The port
      is written to PORTFILE once listening."""
import base64, gzip, hashlib, http.server, io, json, os, socketserver, sys, tarfile


def sha(b):
    return hashlib.sha256(b).hexdigest()


def make_image(d):
    os.makedirs(os.path.join(d, "blobs"), exist_ok=True)
    os.makedirs(os.path.join(d, "manifests"), exist_ok=True)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as t:
        data = b"hello from fakereg\n"
        ti = tarfile.TarInfo("hello")
        ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
        t.addfile(ti, io.BytesIO(data))
    tar = raw.getvalue()
    layer = gzip.compress(tar, mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/hello"]},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(tar)]},
                         "history": [{"created_by": "fakereg"}]}).encode()
    for b in (layer, config):
        open(os.path.join(d, "blobs", sha(b)), "wb").write(b)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": "sha256:" + sha(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": "sha256:" + sha(layer)}]}, indent=2).encode()
    open(os.path.join(d, "manifests", "latest"), "wb").write(manifest)
    open(os.path.join(d, "manifests", "latest.type"), "w").write(
        "application/vnd.docker.distribution.manifest.v2+json")
    print("sha256:" + sha(manifest))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(portfile, root, logpath, cred):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code, body=b"", ctype="application/json", extra=()):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            auth = self.headers.get("Authorization", "-")
            with open(logpath, "a") as f:
                f.write("%s %s %s\n" % (self.command, self.path, auth))
            if cred and auth != "Basic " + base64.b64encode(cred.encode()).decode():
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                                  extra=[("WWW-Authenticate", 'Basic realm="fakereg"')])
            parts = self.path.split("?")[0].split("/")
            if self.path.split("?")[0] in ("/v2", "/v2/"):
                return self.reply(200, b"{}")
            path = None
            if len(parts) >= 5 and parts[1] == "v2" and parts[-2] == "manifests":
                path = os.path.join(root, "manifests", parts[-1].replace(":", "_"))
            elif len(parts) >= 5 and parts[1] == "v2" and parts[-2] == "blobs" and parts[-1].startswith("sha256:"):
                path = os.path.join(root, "blobs", parts[-1][7:])
            if not path or "/" in os.path.relpath(path, root).split(os.sep, 1)[-1] or not os.path.isfile(path):
                return self.reply(404, b'{"errors":[{"code":"NOT_FOUND"}]}')
            body = open(path, "rb").read()
            ctype = "application/octet-stream"
            if parts[-2] == "manifests":
                ctype = open(path + ".type").read().strip() if os.path.exists(path + ".type") else \
                    "application/vnd.oci.image.manifest.v1+json"
            self.reply(200, body, ctype, [("Docker-Content-Digest", "sha256:" + sha(body))])

        do_HEAD = do_GET

    s = Server(("127.0.0.1", 0), H)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(s.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    s.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "image":
        make_image(sys.argv[2])
    elif sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None)
    else:
        sys.exit(__doc__)
