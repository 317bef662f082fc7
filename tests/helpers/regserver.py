#!/usr/bin/env python3
"""Test servers beside a real docker-registry (tests/cli/registry-helpers.bash).

  regserver.py token PORTFILE KEY CERT USER:PASSWORD LOG
      A bearer-token endpoint for the registry's `auth: token` config: GET
      /token?service=S&scope=A&scope=B answers {"token": JWT} signed with KEY
      (RS256, the certificate in the x5c header).  Anonymous requests get
      pull access only; requests with USER:PASSWORD get what they ask for;
      wrong credentials get 401.  Each request's Authorization header (or
      "-") is appended to LOG.

  regserver.py proxy PORTFILE UPSTREAM MODE LOG [SECOND]
      A front for the registry at UPSTREAM ("127.0.0.1:5000") that passes
      requests on, appending "METHOD PATH AUTHORIZATION RANGE" to LOG, with
      MODE:
        cut       the first GET of a blob over 64 KiB sends half of it, then closes
        redirect  blob GETs are answered 307 to http://SECOND (another proxy)
        search    GET /v1/search?q=T&n=N answers from the catalog, with
                  descriptions and stars made up from the names
        plain     nothing else
The port chosen is written to PORTFILE once listening."""
import base64, hashlib, http.client, http.server, json, os, socketserver, sys, time, urllib.parse


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def log(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def make_jwt(key_pem, cert_pem, claims):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    key = serialization.load_pem_private_key(key_pem, None)
    cert = x509.load_pem_x509_certificate(cert_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    signing = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing + "." + b64url(sig)


def token_handler(key_pem, cert_pem, userpass, logfile):
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            auth = self.headers.get("Authorization")
            log(logfile, auth or "-")
            u = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(u.query)
            authed = False
            if auth:
                want = "Basic " + base64.b64encode(userpass.encode()).decode()
                if auth != want:
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"details":"incorrect username or password"}')
                    return
                authed = True
            access = []
            for s in q.get("scope", []):
                parts = s.split(":")
                if len(parts) < 3:
                    continue
                actions = parts[-1].split(",")
                if not authed:
                    actions = [a for a in actions if a == "pull"]
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": actions})
            now = int(time.time())
            claims = {"iss": "berth-test-issuer", "sub": userpass.split(":")[0] if authed else "",
                      "aud": q.get("service", [""])[0], "exp": now + 600, "nbf": now - 10, "iat": now,
                      "jti": hashlib.sha256(os.urandom(16)).hexdigest(), "access": access}
            body = json.dumps({"token": make_jwt(key_pem, cert_pem, claims), "expires_in": 600}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    return H


def proxy_handler(upstream, mode, logfile, second):
    state = {"cut": mode == "cut"}

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def forward(self, method):
            log(logfile, "%s %s %s %s" % (method, self.path, self.headers.get("Authorization") or "-",
                                          self.headers.get("Range") or "-"))
            is_blob = "/blobs/sha256:" in self.path and method == "GET"
            if mode == "redirect" and is_blob:
                self.send_response(307)
                self.send_header("Location", "http://%s%s" % (second, self.path))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if mode == "search" and self.path.startswith("/v1/search"):
                return self.search()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            conn = http.client.HTTPConnection(upstream)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
            conn.request(method, self.path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            self.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if method == "HEAD":
                return
            if is_blob and state["cut"] and r.status == 200 and len(data) > 65536:
                state["cut"] = False
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data)

        def search(self):
            q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            term, n = q.get("q", [""])[0], int(q.get("n", ["25"])[0])
            conn = http.client.HTTPConnection(upstream)
            conn.request("GET", "/v2/_catalog")
            repos = json.loads(conn.getresponse().read()).get("repositories") or []
            results = [{"name": r, "description": "The %s image, described at some length for truncation" % r,
                        "star_count": len(r), "is_official": r.startswith("library/"), "is_automated": False}
                       for r in repos if term in r][:n]
            body = json.dumps({"num_results": len(results), "query": term, "results": results}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.forward("GET")

        def do_HEAD(self):
            self.forward("HEAD")

        def do_PUT(self):
            self.forward("PUT")

        def do_POST(self):
            self.forward("POST")

        def do_PATCH(self):
            self.forward("PATCH")
    return H


def serve(handler, portfile):
    srv = Server(("127.0.0.1", 0), handler)
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, portfile)
    srv.serve_forever()


def main():
    kind, portfile = sys.argv[1], sys.argv[2]
    if kind == "token":
        key, cert, userpass, logfile = sys.argv[3:7]
        serve(token_handler(open(key, "rb").read(), open(cert, "rb").read(), userpass, logfile), portfile)
    elif kind == "proxy":
        upstream, mode, logfile = sys.argv[3:6]
        second = sys.argv[6] if len(sys.argv) > 6 else ""
        serve(proxy_handler(upstream, mode, logfile, second), portfile)
    else:
        sys.exit("unknown server kind " + kind)


if __name__ == "__main__":
    main()
