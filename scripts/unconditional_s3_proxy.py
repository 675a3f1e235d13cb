#!/usr/bin/env python3
"""An S3 endpoint that ignores conditional writes, as older MinIO and Ceph do: an HTTP proxy
in front of a real one (moto in the tests) that forwards every request unchanged except
that it drops the `If-None-Match` and `If-Match` headers. A second `If-None-Match: *`
create of a key then succeeds instead of failing with 412.

    unconditional_s3_proxy.py UPSTREAM_URL [--port P]

Listens on 127.0.0.1 (port 0: a free one), prints `listening on PORT` on stdout once it
accepts connections, and logs each dropped header to stderr. Exits when stdin closes, so
that a test that started it and died does not leave it running. Standard library only.

Dropping a header the client signed breaks its SigV4 signature; moto does not verify
signatures (a real S3 would refuse the request).
"""

import argparse
import http.client
import http.server
import sys
import threading
import urllib.parse

# Lower-case name (as HTTP/2-era clients send it) -> the name logged.
DROPPED = {"if-none-match": "If-None-Match", "if-match": "If-Match"}
# Hop-by-hop headers (RFC 9110 §7.6.1) and what this proxy recomputes.
NOT_FORWARDED = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade", "expect", "content-length",
}


def make_handler(upstream):
    class Handler(http.server.BaseHTTPRequestHandler):
        # Keep-alive for the client, which reuses connections; every response below has a
        # Content-Length.
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def read_body(self):
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                body = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        # Trailers, up to the empty line.
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return bytes(body)
                    body += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length", 0)))

        def forward(self):
            body = self.read_body()
            headers = {}
            for name, value in self.headers.items():
                lower = name.lower()
                if lower in DROPPED:
                    print(f"dropped {DROPPED[lower]}: {value} on {self.command} {self.path}",
                          file=sys.stderr, flush=True)
                elif lower not in NOT_FORWARDED:
                    headers[name] = value
            headers["Content-Length"] = str(len(body))
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status, resp.reason)
                for name, value in resp.getheaders():
                    lower = name.lower()
                    # A HEAD answer keeps the length of the body it does not carry.
                    if lower in NOT_FORWARDED and not (
                        lower == "content-length" and self.command == "HEAD"
                    ):
                        continue
                    self.send_header(name, value)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("upstream", help="e.g. http://127.0.0.1:5000")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()
    upstream = urllib.parse.urlsplit(args.upstream)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(upstream))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"listening on {server.server_address[1]}", flush=True)
    # Until whoever started it closes stdin (or dies).
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
