"""A real git smart-HTTP server on 127.0.0.1: `git http-backend` (CGI) behind HTTP Basic auth.

git's own server side (https://git-scm.com/docs/git-http-backend) serves fetch and push for the
repositories under GIT_PROJECT_ROOT; push (receive-pack) is enabled because REMOTE_USER is set for
authenticated requests, as the documentation describes. Requests without the expected
`Authorization: Basic` header get 401 with a `WWW-Authenticate` challenge, like any protected
server. Every Authorization header received is recorded, so tests can see how credentials travelled.
"""

from __future__ import annotations

import base64
import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar


class _Handler(http.server.BaseHTTPRequestHandler):
    root: ClassVar[Path]
    expected: ClassVar[str]
    seen: ClassVar[list[str | None]]

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        header = self.headers.get("Authorization")
        self.seen.append(header)
        body = self._body() if self.command == "POST" else b""
        scheme, _, credentials = (header or "").partition(" ")
        if scheme.lower() != "basic" or credentials.strip() != self.expected:  # RFC 7235: any case
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": "bob",
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        result = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve(root: Path, user: str, password: str) -> Iterator[tuple[str, list[str | None]]]:
    """Serve the bare repositories under `root`; yield the base URL and the Authorization headers seen."""
    handler = type(
        "Handler",
        (_Handler,),
        {"root": root, "expected": base64.b64encode(f"{user}:{password}".encode()).decode(), "seen": []},
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler.seen
    finally:
        httpd.shutdown()
        httpd.server_close()
