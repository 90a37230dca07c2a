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
from updater.registry.bounded import Answer, Failed


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


class _Lying(_Handler):
    """Declares a 2-byte body on /long and sends 6 (the rest is junk on the connection); declares 10 on
    /short, sends 2 and hangs up."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2" if self.path == "/long" else "10")
        self.end_headers()
        self.wfile.write(b"{}XXXX" if self.path == "/long" else b"{}")
        if self.path != "/long":
            self.close_connection = True


def test_bytes_past_the_declared_length_never_reach_the_next_answer() -> None:
    running = _Counting(("127.0.0.1", 0), _Lying)
    threading.Thread(target=running.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{running.server_address[1]}"
    client = transport.Client({})

    def get(path: str) -> Answer:
        return transport.exchange(
            lambda target: client.open("GET", target, {}, 10),
            base + path,
            limit=64,
            deadline=10,
            redirects=None,
        )

    try:
        for _ in range(3):
            assert get("/long").content == b"{}"  # the junk after it is not read as the next status line
        with pytest.raises(Failed, match="ConnectionError"):
            get("/short")  # cut short: a failure to retry, not a 2-byte answer
    finally:
        running.shutdown()
        running.server_close()
