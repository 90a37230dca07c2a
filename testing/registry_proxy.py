"""A loopback proxy in front of the real registry: paginates tags/list, injects faults, counts requests.

Distribution 2.8 ignores `n` and `last` on `/v2/<name>/tags/list` and returns every tag at once, so the
proxy fetches the full list upstream and serves it in pages the way the distribution spec describes
(https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags): `n` results after
`last`, lexically ordered, with `Link: <...>; rel="next"`. The link is relative, absolute, or "opaque"
(a cursor parameter the client must echo unchanged, as some registries do). Everything else is forwarded
byte for byte. It also serves as an HTTP_PROXY (absolute-form request targets), which lets a test
reach it under a registry name that is not loopback, such as gcr.io. Faults (5xx, 429 with
Retry-After, connection resets, delays) are drawn from a seeded RNG. A `tamper` hook may replace any
answer with a `Reply` (testing/hostile_registry.py builds the lying and slow ones from it).
"""

from __future__ import annotations

import base64
import http.client
import json
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

_FORWARD_REQUEST = ("Authorization", "Accept", "Content-Type", "Range")
_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "date", "server"})


@dataclass
class Faults:
    """What goes wrong: `rate` of requests (of `kinds`, or all) get a fault drawn from `statuses`.

    `permanent` answers every matching request with that status instead; `first` fails just the first
    N matching requests (a deterministic schedule). `resets` adds connection resets to the mix; `delay`
    slows every forwarded request. `headers` are added to every fault answer (e.g. a challenge).
    """

    rate: float = 0.0
    statuses: tuple[int, ...] = (500, 502, 503, 429)
    retry_after: str | None = "1"
    resets: bool = False
    delay: float = 0.0
    permanent: int | None = None
    first: int = 0
    kinds: frozenset[str] | None = None
    seed: int = 1234
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Reply:
    """An answer the proxy sends instead of the upstream's: `body` may be an endless iterable.

    `pace` seconds pass between chunks (a trickle); with `whole` the status line and headers trickle
    too, byte by byte. An iterable body without a Content-Length header is delimited by closing the
    connection, as HTTP/1.1 allows.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes | Iterable[bytes] = b""
    pace: float = 0.0
    whole: bool = False


@dataclass(frozen=True)
class Exchange:
    """What the upstream answered to one request, as a `tamper` hook sees it."""

    kind: str
    method: str
    path: str
    query: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def request_kind(method: str, path: str) -> str:
    """Classify a distribution API request: ping, tags, manifest_head/get/put, blob, upload, other."""
    if path in ("/v2", "/v2/"):
        return "ping"
    if re.fullmatch(r"/v2/.+/tags/list", path):
        return "tags"
    if re.fullmatch(r"/v2/.+/manifests/[^/]+", path):
        return {"HEAD": "manifest_head", "GET": "manifest_get"}.get(method, "manifest_put")
    if re.fullmatch(r"/v2/.+/blobs/uploads/.*", path):
        return "upload"
    if re.fullmatch(r"/v2/.+/blobs/[^/]+", path):
        return "blob"
    return "other"


@dataclass
class RegistryProxy:
    """A running proxy; `counts` tallies requests by kind, `faults_served` the faults by status."""

    upstream: str
    page_size: int = 100
    max_page: int = 100
    link_style: str = "relative"  # relative | absolute | opaque
    faults: Faults = field(default_factory=Faults)
    url: str = ""
    host: str = ""
    counts: Counter[str] = field(default_factory=Counter)
    faults_served: Counter[str] = field(default_factory=Counter)
    log: list[tuple[str, str, int]] = field(default_factory=list)
    drop_headers: frozenset[str] = frozenset()  # response headers to withhold, lower-case
    link_override: str | None = None  # the target of every tags page's Link (another host, a loop)
    corrupt: frozenset[str] = frozenset()  # request kinds whose body is altered: a digest mismatch
    authorizations: list[str] = field(default_factory=list)  # Authorization headers received
    tamper: Callable[[Exchange], Reply | None] | None = None  # replaces an answer when it returns one
    _matched: int = 0
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def set_faults(self, faults: Faults) -> None:
        """Swap the fault plan (and reseed), e.g. between phases of a test."""
        with self._lock:
            self.faults = faults
            self._rng = random.Random(faults.seed)
            self._matched = 0

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.faults_served.clear()
            self.log.clear()

    def total(self, *kinds: str) -> int:
        """Requests received of these kinds (all kinds when none given)."""
        return sum(v for k, v in self.counts.items() if not kinds or k in kinds)

    def _draw_fault(self, kind: str) -> str | None:
        """Return "reset", a status code as text, or None for a normal answer."""
        with self._lock:
            plan = self.faults
            if plan.kinds is not None and kind not in plan.kinds:
                return None
            if plan.permanent is not None:
                return str(plan.permanent)
            choices = [str(s) for s in plan.statuses] + (["reset"] if plan.resets else [])
            if plan.first > 0:
                self._matched += 1
                return self._rng.choice(choices) if self._matched <= plan.first else None
            if plan.rate <= 0 or self._rng.random() >= plan.rate:
                return None
            return self._rng.choice(choices)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> RegistryProxy:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _cursor(last: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"last": last}).encode()).decode()


def _uncursor(token: str) -> str:
    value: str = json.loads(base64.urlsafe_b64decode(token.encode()))["last"]
    return value


def _handler(proxy: RegistryProxy) -> type[BaseHTTPRequestHandler]:
    upstream = urlsplit(proxy.upstream)
    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _connection(self) -> http.client.HTTPConnection:
            conn: http.client.HTTPConnection | None = getattr(local, "conn", None)
            if conn is None:
                conn = http.client.HTTPConnection(upstream.hostname or "127.0.0.1", upstream.port, timeout=60)
                local.conn = conn
            return conn

        def _upstream(
            self, method: str, path: str, body: bytes | None
        ) -> tuple[int, list[tuple[str, str]], bytes]:
            headers = {k: v for k in _FORWARD_REQUEST if (v := self.headers.get(k)) is not None}
            if body is not None:
                headers["Content-Length"] = str(len(body))
            for _attempt in range(2):  # a kept-alive upstream connection may have been closed
                conn = self._connection()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                    return response.status, response.getheaders(), data
                except (http.client.HTTPException, OSError):
                    conn.close()
                    local.conn = None
            # The upstream is gone (a test stopped its registry first): answer as a gateway would.
            return 502, [("Content-Type", "text/plain")], b"upstream registry unreachable"

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, head: bool = False) -> None:
            self.send_response(status)
            length_sent = False
            for name, value in headers:
                if name.lower() in _HOP or name.lower() in proxy.drop_headers:
                    continue
                if name.lower() == "content-length":
                    length_sent = True
                    value = value if head else str(len(body))
                self.send_header(name, value)
            if not length_sent:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _fault(self, fault: str) -> None:
            if fault == "reset":
                # SO_LINGER 0 makes close() send RST: the client sees "connection reset by peer".
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            status = int(fault)
            body = json.dumps({"errors": [{"code": "UNAVAILABLE", "message": f"injected {status}"}]}).encode()
            headers = [("Content-Type", "application/json"), *proxy.faults.headers]
            if status == 429 and proxy.faults.retry_after is not None:
                headers.append(("Retry-After", proxy.faults.retry_after))
            self._send(status, headers, body, head=self.command == "HEAD")

        def _handle(self) -> None:
            split = urlsplit(self.path)
            kind = request_kind(self.command, split.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            with proxy._lock:
                proxy.counts[kind] += 1
                if self.headers.get("Authorization"):
                    proxy.authorizations.append(self.headers["Authorization"])
            fault = proxy._draw_fault(kind)
            if fault is not None:
                with proxy._lock:
                    proxy.faults_served[fault] += 1
                    proxy.log.append((self.command, self.path, 0 if fault == "reset" else int(fault)))
                self._fault(fault)
                return
            if proxy.faults.delay:
                time.sleep(proxy.faults.delay)
            if kind == "tags" and self.command == "GET":
                status, headers, data = self._tags(split.path, parse_qs(split.query))
            else:
                # An absolute-form target (we are someone's HTTP_PROXY) goes upstream in origin form.
                target = split.path + (f"?{split.query}" if split.query else "")
                status, headers, data = self._upstream(self.command, target, body)
            if kind in proxy.corrupt and status == 200 and data:
                data = data + b" "  # still JSON, but no longer the bytes the digest names
            reply = None
            if proxy.tamper is not None:
                exchange = Exchange(kind, self.command, split.path, split.query, status, headers, data)
                reply = proxy.tamper(exchange)
            with proxy._lock:
                proxy.log.append((self.command, self.path, status if reply is None else reply.status))
            if reply is not None:
                self._reply(reply)
                return
            self._send(status, headers, data, head=self.command == "HEAD")

        def _reply(self, reply: Reply) -> None:
            """Write a tampered answer at its pace; stop quietly when the client hangs up."""
            names = {name.lower() for name, _ in reply.headers}
            headers = list(reply.headers)
            body: Iterable[bytes] = [reply.body] if isinstance(reply.body, bytes) else reply.body
            if isinstance(reply.body, bytes) and "content-length" not in names:
                headers.append(("Content-Length", str(len(reply.body))))
            if "content-length" not in names and not isinstance(reply.body, bytes):
                headers.append(("Connection", "close"))
                self.close_connection = True
            reason = self.responses.get(reply.status, ("",))[0]
            head = f"HTTP/1.1 {reply.status} {reason}\r\n"
            head += "".join(f"{name}: {value}\r\n" for name, value in headers) + "\r\n"
            chunks: Iterable[bytes] = body if self.command != "HEAD" else []
            try:
                if reply.whole and reply.pace:
                    for byte in head.encode("latin-1"):
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(reply.pace)
                else:
                    self.wfile.write(head.encode("latin-1"))
                for chunk in chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    if reply.pace:
                        time.sleep(reply.pace)
            except OSError:  # the client gave up: that is what the hostile answers are for
                self.close_connection = True

        def _tags(self, path: str, query: dict[str, list[str]]) -> tuple[int, list[tuple[str, str]], bytes]:
            status, headers, data = self._upstream("GET", path, None)
            if status != 200:
                return status, headers, data
            listing = json.loads(data)
            tags = sorted(listing.get("tags") or [])
            if proxy.link_style == "opaque":
                if "last" in query:
                    return 400, [("Content-Type", "application/json")], b'{"errors":[{"code":"PAGINATION"}]}'
                last = _uncursor(query["_state"][0]) if "_state" in query else None
            else:
                last = query["last"][0] if "last" in query else None
            n = int(query["n"][0]) if "n" in query else proxy.page_size
            n = max(1, min(n, proxy.max_page))
            start = 0
            if last is not None:
                start = next((i for i, t in enumerate(tags) if t > last), len(tags))
            page = tags[start : start + n]
            out = [("Content-Type", "application/json")]
            if start + n < len(tags) and page:
                params = {"n": str(n)}
                if proxy.link_style == "opaque":
                    params["_state"] = _cursor(page[-1])
                else:
                    params["last"] = page[-1]
                link = f"{quote(path)}?{urlencode(params)}"
                if proxy.link_style == "absolute":
                    link = f"{proxy.url}{link}"
                link = proxy.link_override or link
                out.append(("Link", f'<{link}>; rel="next"'))
            return 200, out, json.dumps({"name": listing.get("name"), "tags": page}).encode()

        def do_GET(self) -> None:
            self._handle()

        def do_HEAD(self) -> None:
            self._handle()

        def do_PUT(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_PATCH(self) -> None:
            self._handle()

        def do_DELETE(self) -> None:
            self._handle()

    return Handler


def start_proxy(
    upstream: str,
    *,
    page_size: int = 100,
    max_page: int | None = None,
    link_style: str = "relative",
    faults: Faults | None = None,
    drop_headers: tuple[str, ...] = (),
    link_override: str | None = None,
    corrupt: tuple[str, ...] = (),
    tamper: Callable[[Exchange], Reply | None] | None = None,
) -> RegistryProxy:
    """Start a proxy on 127.0.0.1 (a free port) for the registry at `upstream` (http://HOST:PORT)."""
    if link_style not in ("relative", "absolute", "opaque"):
        raise ValueError(f"link_style must be relative, absolute or opaque, not {link_style!r}")
    plan = faults or Faults()
    proxy = RegistryProxy(
        upstream=upstream.rstrip("/"),
        page_size=page_size,
        max_page=max_page or page_size,
        link_style=link_style,
        faults=plan,
        drop_headers=frozenset(h.lower() for h in drop_headers),
        link_override=link_override,
        corrupt=frozenset(corrupt),
        tamper=tamper,
        _rng=random.Random(plan.seed),
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(proxy))
    httpd.daemon_threads = True
    proxy._server = httpd
    proxy.host = f"127.0.0.1:{httpd.server_address[1]}"
    proxy.url = f"http://{proxy.host}"
    threading.Thread(target=httpd.serve_forever, name="registry-proxy", daemon=True).start()
    return proxy


class SilentServer:
    """A loopback TCP server that accepts connections, reads what is sent and never answers."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self.connections = 0
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="silent-server", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)  # kept open and unanswered until stop()

    def stop(self) -> None:
        self._closed.set()
        self._listener.close()
        for conn in self._held:
            conn.close()

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
