"""The sample service: "Hello World" on /, a health path for the load balancer, port 8000.

Standard library only, writes nothing to disk (the task's root filesystem is read-only).
"""

from __future__ import annotations

import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = os.environ.get("APP_VERSION", "dev")
PAGES = {
    "/": ("text/html; charset=utf-8",
          f"<!doctype html><title>Hello World</title><pre>Hello World</pre>\n"
          f"<!-- version {VERSION} -->\n"),
    "/health": ("text/plain; charset=utf-8", "ok\n"),
    "/version": ("text/plain; charset=utf-8", f"{VERSION}\n"),
}


class Handler(BaseHTTPRequestHandler):
    server_version = "hello-world"

    def _answer(self, body: bool) -> None:
        content_type, text = PAGES.get(self.path.split("?", 1)[0],
                                       ("text/plain; charset=utf-8", None))
        payload = (text or "not found\n").encode()
        self.send_response(200 if text is not None else 404)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def log_message(self, format: str, *args) -> None:  # one line per request, to stdout
        print(f"{self.address_string()} {format % args}", flush=True)


def main() -> None:
    port = int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    # ECS stops a task with SIGTERM (the load balancer has drained it by then): exit cleanly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"hello-world {VERSION} listening on {port}", flush=True)
    with server:
        server.serve_forever()


if __name__ == "__main__":
    main()
