"""A recording proxy: forwards every request to the real server and appends
{"method","path","request","status","response"} to a JSONL file."""
import http.server, json, sys, urllib.request, urllib.error, threading

UPSTREAM = sys.argv[1]          # http://127.0.0.1:8089
PORT = int(sys.argv[2])         # 8090
LOG = sys.argv[3]
lock = threading.Lock()

class Handler(http.server.BaseHTTPRequestHandler):
    def _forward(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        req = urllib.request.Request(UPSTREAM + self.path, data=body, method=method)
        for name in ("Content-Type", "Authorization"):
            if self.headers.get(name):
                req.add_header(name, self.headers[name])
        try:
            with urllib.request.urlopen(req, timeout=900) as resp:
                status, payload, ctype = resp.status, resp.read(), resp.headers.get("Content-Type", "application/json")
        except urllib.error.HTTPError as error:
            status, payload, ctype = error.code, error.read(), error.headers.get("Content-Type", "application/json")
        with lock, open(LOG, "a") as log:
            log.write(json.dumps({
                "method": method, "path": self.path,
                "request": json.loads(body) if body else None,
                "status": status,
                "response": json.loads(payload) if payload[:1] in (b"{", b"[") else payload.decode("utf-8", "replace"),
            }, ensure_ascii=False) + "\n")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self):
        self._forward("POST")

    def do_GET(self):
        self._forward("GET")

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
