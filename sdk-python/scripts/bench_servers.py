"""The benchmark's two servers, with the same handler.

    python bench_servers.py core      the handler behind the0's query server (query.run())
    python bench_servers.py stdlib    the handler behind a plain http.server.HTTPServer, the way the
                                      upstream Python SDK serves queries (one thread, HTTP/1.0)

Both listen on 127.0.0.1:$BENCH_PORT.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Dict
from urllib.parse import parse_qs, urlparse


def status(params_get: Any) -> Dict[str, Any]:
    """A trivial handler: what a bot's /status query typically returns."""
    return {"symbol": params_get("symbol", "BTC/USD"), "position": 0.5, "signals": 3, "active": True}


def serve_core(port: int) -> None:
    os.environ.update(BOT_TYPE="realtime", THE0_QUERY_HOST="127.0.0.1", THE0_QUERY_PORT=str(port))
    from the0 import query

    @query.handler("/status")
    def handle(req: query.QueryRequest) -> Dict[str, Any]:
        return status(req.get)

    query.run()


def serve_stdlib(port: int) -> None:
    """Upstream's shape: parse the path and query string, call the handler, write the envelope."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path != "/status":
                self.reply(404, {"status": "error", "error": f"No handler for path: {url.path}"})
                return
            try:
                self.reply(200, {"status": "ok", "data": status(params.get)})
            except Exception as exc:  # noqa: BLE001
                self.reply(500, {"status": "error", "error": str(exc)})

        def reply(self, code: int, body: Dict[str, Any]) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, format: str, *args: Any) -> None:
            pass

    HTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    port = int(os.environ.get("BENCH_PORT", "19476"))
    {"core": serve_core, "stdlib": serve_stdlib}[sys.argv[1]](port)
