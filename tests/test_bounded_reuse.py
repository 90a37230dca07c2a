"""Bounded exchanges keep HTTP/1.1 connections alive: a HEAD must not cost a new TCP (TLS) connection.

A HEAD answer has no body, but requests only hands a connection back to its pool once the body was
read; closed instead, every `digest()` HEAD to a registry opened a new connection (and, over https, a
new TLS handshake).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from updater.registry import bounded


class _Counting(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        assert isinstance(self.server, _Counting)
        self.server.connections += 1

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()

    def do_HEAD(self) -> None:
        self._answer(b"{}")

    def do_GET(self) -> None:
        self._answer(b"{}")
        self.wfile.write(b"{}")


@pytest.fixture
def server() -> Iterator[_Counting]:
    running = _Counting(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


@pytest.mark.parametrize("method", ["HEAD", "GET"])
def test_one_connection_serves_every_exchange(server: _Counting, method: str) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/v2/app/manifests/v1"
    session = bounded.session()
    for _ in range(5):
        answer = bounded.exchange(
            lambda target: session.request(method, target, stream=True, allow_redirects=False),
            url,
            limit=1024,
            deadline=10,
            redirects=None,
        )
        assert answer.status_code == 200 and answer.content == (b"" if method == "HEAD" else b"{}")
    assert server.connections == 1
