"""A forward HTTP proxy on 127.0.0.1, as corporate networks put between CI and registries.

It speaks what clients send to a proxy named in `HTTPS_PROXY` / `HTTP_PROXY`: `CONNECT host:port`
for https targets (then relays the TLS bytes untouched, so the client verifies the registry's own
certificate), and absolute-form requests (`GET http://host/v2/...`) for plain-http targets
(RFC 9110 §9.3.6 and RFC 9112 §3.2.2). Target host names are looked up in `routes`, not in DNS: a
test can give a loopback registry a real-looking name. With `credentials`, a request without the
matching `Proxy-Authorization: Basic ...` gets 407 (RFC 9110 §11.7.1). Every request is recorded.
"""

from __future__ import annotations

import base64
import http.client
import select
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Seen:
    """One request the proxy received: method, target (host:port or absolute URL), whether authorized."""

    method: str
    target: str
    authorized: bool


@dataclass
class ForwardProxy:
    """A running proxy: `url` to put in HTTPS_PROXY (without credentials), what it `seen`."""

    url: str
    seen: list[Seen] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: Mapping[str, tuple[str, int]]
    credentials: str | None
    record: ForwardProxy


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _admitted(self, target: str) -> bool:
        expected = self.server.credentials
        given = self.headers.get("Proxy-Authorization", "")
        ok = expected is None or given == "Basic " + base64.b64encode(expected.encode()).decode()
        self.server.record.seen.append(Seen(self.command, target, ok and expected is not None))
        if not ok:
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
            self.send_header("Content-Length", "0")
            self.end_headers()
        return ok

    def _route(self, host_port: str) -> tuple[str, int] | None:
        found = self.server.routes.get(host_port.lower())
        if found is None:
            self.send_error(502, f"no route to {host_port}")
        return found

    def do_CONNECT(self) -> None:
        if not self._admitted(self.path) or (route := self._route(self.path)) is None:
            return
        upstream = socket.create_connection(route, timeout=10)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        _relay(self.connection, upstream)

    def _forward(self) -> None:
        parts = urlsplit(self.path)
        host_port = f"{parts.hostname}:{parts.port or 80}"
        if not self._admitted(self.path) or (route := self._route(host_port)) is None:
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "host")}
        upstream = http.client.HTTPConnection(*route, timeout=10)
        upstream.request(self.command, parts.path + (f"?{parts.query}" if parts.query else ""), body, headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        upstream.close()

    do_GET = do_HEAD = do_POST = _forward


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    with upstream:
        while True:
            ready, _, _ = select.select([client, upstream], [], [], 30)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)


@contextmanager
def start_forward_proxy(
    routes: Mapping[str, tuple[str, int]], credentials: str | None = None
) -> Iterator[ForwardProxy]:
    """Run a proxy that reaches `routes` ("name:port" -> loopback address); `credentials` is "user:pw"."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes = {name.lower(): target for name, target in routes.items()}
    server.credentials = credentials
    server.record = ForwardProxy(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.record
    finally:
        server.shutdown()
        server.server_close()
