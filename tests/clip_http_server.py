#!/usr/bin/python3
"""A tiny Hugging Face look-alike for tests/test_clip_fetch.sh, on 127.0.0.1.

Serves ROOT/<repo>/<file> as /<repo>/resolve/main/<file>.  Files named
*.safetensors behave like Git LFS files: HEAD/GET of resolve/ answers 302 to
/cdn/<repo>/<file> with X-Linked-Size and X-Linked-Etag (the sha256), and
/cdn/ honours Range requests.  Options make it misbehave on purpose:
  --cut N        the first /cdn/ GET sends N bytes of the body, then drops
  --no-range     /cdn/ ignores Range (always 200, whole file)
  --bad-sha      X-Linked-Etag is a wrong digest
Writes its port to PORTFILE and one line per request to LOG; exits after
--lifetime seconds (default 120) so it can never outlive the test.
"""
import argparse
import hashlib
import http.server
import os
import threading

ap = argparse.ArgumentParser()
ap.add_argument("root")
ap.add_argument("portfile")
ap.add_argument("log")
ap.add_argument("--cut", type=int, default=0)
ap.add_argument("--no-range", action="store_true")
ap.add_argument("--bad-sha", action="store_true")
ap.add_argument("--lifetime", type=float, default=120)
A = ap.parse_args()
state = {"cut": A.cut}
lock = threading.Lock()


def log(line):
    with lock, open(A.log, "a") as f:
        f.write(line + "\n")


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def locate(self):
        p = self.path.split("?")[0]
        if p.startswith("/cdn/"):
            return "cdn", os.path.join(A.root, p[5:])
        parts = p.lstrip("/").split("/")
        if len(parts) >= 5 and parts[2] == "resolve":
            return "resolve", os.path.join(A.root, parts[0], parts[1], "/".join(parts[4:]))
        return None, None

    def send_plain(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        log(f"{self.command} {self.path} range={self.headers.get('Range', '-')}")
        kind, path = self.locate()
        if not kind or not os.path.isfile(path):
            return self.send_plain(404, b"Entry not found")
        data = open(path, "rb").read()
        if kind == "resolve" and path.endswith(".safetensors"):
            sha = hashlib.sha256(data).hexdigest()
            if A.bad_sha:
                sha = hashlib.sha256(data + b"x").hexdigest()
            self.send_response(302)
            self.send_header("Location", "/cdn/" + os.path.relpath(path, A.root))
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("X-Linked-Etag", f'"{sha}"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start = 0
        rng = self.headers.get("Range")
        if kind == "cdn" and rng and not A.no_range and rng.startswith("bytes="):
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
            if kind == "cdn":
                self.send_header("Accept-Ranges", "none" if A.no_range else "bytes")
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        with lock:
            cut = state["cut"] if kind == "cdn" else 0
            if cut:
                state["cut"] = 0
        if cut and cut < len(body):
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)

    do_GET = handle_any
    do_HEAD = handle_any


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(A.portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(A.portfile + ".tmp", A.portfile)
threading.Timer(A.lifetime, srv.shutdown).start()
srv.serve_forever()
