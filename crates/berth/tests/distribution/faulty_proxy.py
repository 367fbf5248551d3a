"""A proxy in front of a registry that breaks blob downloads, for the pull tests' faults.

usage: faulty_proxy.py PORT UPSTREAM_PORT MODE LOG
  drop-once: the first GET of each blob sends half its body and closes the connection
  corrupt:   every layer-sized blob body (over 4 KiB) has one byte changed
Every request line (and its Range header) is appended to LOG.
"""
import http.client
import http.server
import socketserver
import sys

PORT, UPSTREAM, MODE, LOG = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
dropped = set()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        with open(LOG, "a") as log:
            log.write(f"{self.command} {self.path} range={self.headers.get('Range')}\n")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        up = http.client.HTTPConnection("127.0.0.1", UPSTREAM)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
        up.request(self.command, self.path, body=body, headers=headers)
        resp = up.getresponse()
        data = resp.read()
        blob = self.command == "GET" and "/blobs/sha256:" in self.path and resp.status in (200, 206)
        if blob and MODE == "corrupt" and len(data) > 4096:
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1 :]
        cut = blob and MODE == "drop-once" and self.path not in dropped and len(data) > 1
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection"):
                self.send_header(k, v)
        self.end_headers()
        if cut:
            dropped.add(self.path)
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = forward


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
