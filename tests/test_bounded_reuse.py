"""Bounded exchanges keep HTTP/1.1 connections alive: a HEAD must not cost a new TCP (TLS) connection.

A connection goes back to its pool only once the answer's body was read; a HEAD answer has no body,
and when it was closed instead, every `digest()` HEAD to a registry opened a new connection (and, over
https, a new TLS handshake). With eight requests in flight (status), the pool must also keep eight.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from updater.registry import transport


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
    client = transport.Client({})
    for _ in range(5):
        answer = transport.exchange(
            lambda target: client.open(method, target, {}, 10),
            url,
            limit=1024,
            deadline=10,
            redirects=None,
            head=method == "HEAD",
        )
        assert answer.status_code == 200 and answer.content == (b"" if method == "HEAD" else b"{}")
    assert server.connections == 1


def test_eight_parallel_exchanges_keep_their_connections(server: _Counting) -> None:
    url = f"http://127.0.0.1:{server.server_address[1]}/v2/app/blobs/sha256:0"
    client = transport.Client({})
    barrier = threading.Barrier(8)

    def fetch(_: int) -> None:
        barrier.wait()  # all eight in flight together, on eight connections
        for _ in range(10):
            transport.exchange(
                lambda target: client.open("GET", target, {}, 10), url, limit=64, deadline=10, redirects=None
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(fetch, range(8)))
    assert server.connections <= 8


class _ClosesSecond(BaseHTTPRequestHandler):
    """Answers the first request of a connection; reads the second, then hangs up without a word."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.served = 0

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        assert isinstance(self.server, _Counting)
        self.server.connections += 1 if self.served == 0 else 0
        if self.served == 1:
            self.close_connection = True
            return
        self.served += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")


def test_a_kept_connection_the_peer_closes_as_we_send_is_replaced_at_once() -> None:
    # The race keep-alive has: the registry closes an idle connection just as our GET goes out. Nothing
    # was answered, so a GET is sent once more on a new connection, not failed (nor retried after a pause).
    running = _Counting(("127.0.0.1", 0), _ClosesSecond)
    threading.Thread(target=running.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{running.server_address[1]}/v2/app/manifests/v1"
        client = transport.Client({})
        for _ in range(2):
            answer = transport.exchange(
                lambda target: client.open("GET", target, {}, 10), url, limit=64, deadline=10, redirects=None
            )
            assert (answer.status_code, answer.content) == (200, b"{}")
        assert running.connections == 2
    finally:
        running.shutdown()
        running.server_close()
