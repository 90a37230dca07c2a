"""HTTP/1.1 to registries on the standard library's http.client: pooled connections, proxies, deadlines.

Why not requests or urllib3: `updater status` sends hundreds of small requests to one registry, on
machines with two cores that the registry needs as well. The CPU a request costs, one at a time
(benchmarks/transport.py, 400 requests to Debian's registry): requests 1.1 ms, urllib3 0.44 ms,
http.client 0.23 ms; this module adds 0.1 ms. What they add, we do not use: one origin per
registry plus its token realm, GET, HEAD and a token POST, no cookies, no compression (none is asked
for), redirects followed by hand.
What requests read from the environment is read by `updater.registry.proxies`, once per origin.

A socket timeout bounds each read, not the request: a registry that trickles one byte a second, or
streams an endless body, never trips it. So one watchdog thread (for every exchange of the process,
not a timer thread each) shuts the connection's socket down when the exchange's deadline passes
(connect, TLS handshake, status line, headers, redirects and body included), which wakes the read
blocked on it; the body is read in chunks and refused as soon as it passes the cap. Redirects are
followed here, at most `MAX_REDIRECTS` hops, http(s) only, and the caller decides per hop which
headers (credentials) go to which origin.
"""

from __future__ import annotations

import base64
import contextlib
import heapq
import http.client
import itertools
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from updater.infra import redact
from updater.infra.errors import InputError
from updater.registry.bounded import MAX_REDIRECTS, Answer, Failed, Refused, TooSlow, size
from updater.registry.proxies import ca_locations, proxy_variable

POOL_SIZE = 16  # idle connections kept per origin: more than the 8 requests status keeps in flight
CONNECT_TIMEOUT = 10.0
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_local = threading.local()
Veto = Callable[[str, str], str | None]  # (from URL, to URL) -> why the redirect is refused, or None


# --- the deadline -----------------------------------------------------------------------------------


class _Watch:
    """One exchange's deadline: shuts down the socket of the connection it uses once it passes."""

    def __init__(self, seconds: float) -> None:
        self.due = time.monotonic() + seconds
        self.fired = False
        self.done = False
        self.connection: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()

    def fire(self) -> None:
        # Under the lock: once the exchange is done its connection may serve another one.
        with self._lock:
            if self.done:
                return
            self.fired = True
            sock = self.connection.sock if self.connection is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)

    def adopt(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self.connection = connection
        if self.fired:
            self.fire()

    def __enter__(self) -> _Watch:
        # A token fetched in the middle of a request has its own watch; the request's resumes after.
        self._outer: _Watch | None = getattr(_local, "watch", None)
        _local.watch = self
        _WATCHDOG.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.done = True
        _local.watch = self._outer


class _Watchdog:
    """One daemon thread that fires every deadline of the process, soonest first."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._wake:
            heapq.heappush(self._due, (watch.due, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="updater-deadlines", daemon=True)
                self._thread.start()
            elif self._due[0][2] is watch:  # sooner than what the thread sleeps towards
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._due and self._due[0][2].done:
                    heapq.heappop(self._due)
                if not self._due:
                    self._wake.wait()
                    continue
                wait = self._due[0][0] - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                watch = heapq.heappop(self._due)[2]
            watch.fire()


_WATCHDOG = _Watchdog()


def _watch() -> _Watch | None:
    found: _Watch | None = getattr(_local, "watch", None)
    return found


# --- connections --------------------------------------------------------------------------------------


class _Plain(http.client.HTTPConnection):
    """A connection the exchange's watch can shut down, from its first socket on."""

    read_timeout = 31.0

    def connect(self) -> None:
        watch = _watch()

        def create(address: tuple[str, int], timeout: Any, source: Any = None) -> socket.socket:
            self.sock = socket.create_connection(address, timeout, source)
            if watch is not None:  # a trickling TLS handshake or proxy is bounded as well
                watch.adopt(self)
            return self.sock

        self._create_connection = create
        super().connect()  # `timeout` bounds connecting; reads get the longer read timeout after
        assert self.sock is not None
        self.sock.settimeout(self.read_timeout)


class _TLS(_Plain, http.client.HTTPSConnection):
    pass


@dataclass(frozen=True)
class _Route:
    """How an origin is reached: straight, through a CONNECT tunnel, or forwarded by a plain proxy."""

    scheme: str
    host: str
    port: int
    proxy: tuple[str, int] | None = None
    proxy_auth: tuple[tuple[str, str], ...] = ()

    @property
    def forwarded(self) -> bool:
        """A plain-http origin behind a proxy: the request names the absolute URL (RFC 9112 §3.2.2)."""
        return self.proxy is not None and self.scheme == "http"


class Headers(Mapping[str, str]):
    """An answer's header fields, case-insensitive; a repeated field's values joined (RFC 9110 §5.3)."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields: dict[str, str] = {}
        for name, value in fields:
            key = name.lower()
            self._fields[key] = f"{self._fields[key]}, {value}" if key in self._fields else value

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)


class Response:
    """An answer whose body is still on the wire; `release` or `close` ends it."""

    def __init__(
        self, raw: http.client.HTTPResponse, connection: _Plain, give_back: Callable[[], None]
    ) -> None:
        self.status = raw.status
        self.headers = Headers(raw.getheaders())
        self._raw = raw
        self._connection = connection
        self._give_back = give_back

    def read(self, amount: int | None = None) -> bytes:
        return self._raw.read(amount)

    def release(self) -> None:
        """Hand the connection back to the pool when the body was read to its end and the peer keeps
        it open (else a new exchange would read this one's leftovers); close it otherwise."""
        if self._raw.isclosed() and not self._raw.will_close:
            self._give_back()
        else:
            self.close()

    def close(self) -> None:
        self._raw.close()
        self._connection.close()


class Client:
    """Pooled keep-alive connections to the origins a registry sends us to (itself, its token realm)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], _Route] = {}
        self._idle: dict[_Route, list[_Plain]] = {}
        self._tls: ssl.SSLContext | None = None

    def open(
        self, method: str, url: str, headers: Mapping[str, str], timeout: float, body: bytes | None = None
    ) -> Response:
        """Send one request (no redirects, no retries) and return the answer once its headers are in.

        Raises Failed for a connection that cannot be made or breaks, InputError for a proxy in the
        environment that cannot be used.
        """
        parts = urlsplit(url)
        route = self._route(parts.scheme, parts.netloc, url)
        target = url if route.forwarded else (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = {**self._headers, **(dict(route.proxy_auth) if route.forwarded else {}), **headers}
        connection = self._take(route) or self._new(route)
        connection.timeout = min(CONNECT_TIMEOUT, timeout)
        connection.read_timeout = timeout + 1.0  # the deadline stops the exchange; this only backs it up
        if connection.sock is not None:
            connection.sock.settimeout(connection.read_timeout)
        watch = _watch()
        if watch is not None:
            watch.adopt(connection)
        try:
            connection.request(method, target, body=body, headers=sent)
            raw = connection.getresponse()
        except (http.client.HTTPException, OSError) as exc:
            # Also a kept connection the peer closed as we sent: the retry policy's to handle, as every
            # failure (one policy, with its pauses; the pool checks a connection before reusing it).
            connection.close()
            raise failure(exc) from None
        return Response(raw, connection, lambda: self._give(route, connection))

    def _route(self, scheme: str, netloc: str, url: str) -> _Route:
        with self._lock:
            found = self._routes.get((scheme, netloc))
        if found is not None:
            return found
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if scheme == "https" else 80)
        named = proxy_variable(url)
        found = _Route(scheme, host, port) if named is None else _proxied(scheme, host, port, *named)
        with self._lock:
            self._routes[(scheme, netloc)] = found
        return found

    def _new(self, route: _Route) -> _Plain:
        if route.proxy is None:
            if route.scheme == "https":
                return _TLS(route.host, route.port, context=self._context())
            return _Plain(route.host, route.port)
        if route.scheme == "https":
            tunnel = _TLS(*route.proxy, context=self._context())
            tunnel.set_tunnel(route.host, route.port, headers=dict(route.proxy_auth))
            return tunnel
        return _Plain(*route.proxy)

    def _take(self, route: _Route) -> _Plain | None:
        """An idle connection of the route that the peer has not closed meanwhile, or None."""
        while True:
            with self._lock:
                idle = self._idle.get(route)
                if not idle:
                    return None
                connection = idle.pop()
            if not _dropped(connection):
                return connection
            connection.close()

    def _give(self, route: _Route, connection: _Plain) -> None:
        with self._lock:
            idle = self._idle.setdefault(route, [])
            if len(idle) < POOL_SIZE:
                idle.append(connection)
                return
        connection.close()

    def _context(self) -> ssl.SSLContext:
        with self._lock:
            if self._tls is None:  # loaded once: reading a CA bundle costs ~20 ms
                self._tls = _trusting(ca_locations())
            return self._tls


def _trusting(where: Mapping[str, str]) -> ssl.SSLContext:
    """A TLS context trusting the CAs at `where`; InputError when they cannot be read as certificates."""
    try:
        return ssl.create_default_context(cafile=where.get("cafile"), capath=where.get("capath"))
    except (OSError, ssl.SSLError, ValueError) as exc:  # missing, unreadable, not PEM
        named = redact.printable(where.get("cafile") or where.get("capath") or "")
        raise InputError(
            f"CA bundle {named} (REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE) cannot be read as certificates "
            f"({redact.printable(exc.strerror or str(exc)) if isinstance(exc, OSError) else 'no PEM'}): "
            "point it at a PEM file of CA certificates"
        ) from None


def _proxied(scheme: str, host: str, port: int, variable: str, proxy: str) -> _Route:
    """The route through `proxy` (from the environment's `variable`), checked: InputError when unusable."""
    via = urlsplit(proxy)
    where = f"{variable}={redact.mask(redact.printable(proxy))}"
    try:
        proxy_port = via.port or 80
    except ValueError:
        proxy_port = 0
    if via.scheme != "http":
        raise InputError(
            f"{where}: registries are reached through http:// proxies (the tunnel carries the "
            f"registry's own TLS), not {redact.printable(via.scheme)}://: set {variable}=http://host:port"
        )
    if not via.hostname or not 0 < proxy_port < 65536:
        raise InputError(f"{where} is not a proxy URL: set {variable}=http://host:port")
    auth: tuple[tuple[str, str], ...] = ()
    if via.username is not None:
        password = unquote(via.password or "")
        redact.register(password)
        header = basic(unquote(via.username), password)
        redact.register(header.removeprefix("Basic "))
        auth = (("Proxy-Authorization", header),)
    return _Route(scheme, host, port, (via.hostname, proxy_port), auth)


def basic(user: str, password: str) -> str:
    """An `Authorization` (or `Proxy-Authorization`) value for HTTP Basic (RFC 7617)."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def _dropped(connection: _Plain) -> bool:
    """True when an idle connection is closed or has something to say (EOF, junk): not reusable."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def failure(exc: BaseException) -> Failed:
    """Name a connection failure; a refused certificate or proxy credentials are permanent."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return Failed("SSLError", str(exc.verify_message or "certificate verify failed"))
    if isinstance(exc, ssl.SSLError):
        return Failed("SSLError")
    if isinstance(exc, TimeoutError):
        return Failed("Timeout")
    text = str(exc)
    if text.startswith("Tunnel connection failed:"):  # http.client's words for a refused CONNECT
        status = text.partition(":")[2].strip()
        refused = status.startswith("407")
        return Failed("ProxyError", f"the proxy refused the tunnel ({status})" if refused else "")
    return Failed("ConnectionError")


# --- one exchange ------------------------------------------------------------------------------------


def exchange(
    send: Callable[[str], Response],
    url: str,
    *,
    limit: int,
    deadline: float,
    redirects: Veto | None,
    head: bool = False,
) -> Answer:
    """Return the answer `send(url)` leads to, within `deadline` seconds and `limit` body bytes.

    `send` makes one request (`Client.open`). Redirects are followed when `redirects` is given;
    `redirects(old, new)` may veto a hop by returning why. Raises TooSlow past the deadline, Refused
    for an answer out of bounds, and Failed for a connection that fails.
    """
    too_slow = f"no complete answer within {deadline:.1f}s"
    with _Watch(deadline) as watch:
        try:
            answer = _follow(send, url, limit, redirects, head)
        except (Failed, http.client.HTTPException, OSError) as exc:
            if watch.fired:
                raise TooSlow(too_slow) from None
            if isinstance(exc, Failed):
                raise
            raise failure(exc) from None
    if watch.fired:  # a body delimited by the connection's end looks complete once the socket is shut
        raise TooSlow(too_slow)
    return answer


def _follow(send: Callable[[str], Response], url: str, limit: int, veto: Veto | None, head: bool) -> Answer:
    seen = 0
    while True:
        response = send(url)
        if response.status not in _REDIRECTS or veto is None:
            return Answer(response.status, response.headers, _body(response, limit, head), url)
        response.close()  # never read a redirect's body: it may be endless
        location = response.headers.get("Location")
        seen += 1
        if not location:
            raise Refused(f"HTTP {response.status} redirect without a Location")
        target = urljoin(url, location)
        if urlsplit(target).scheme not in ("http", "https"):
            raise Refused(f"redirect to a {urlsplit(target).scheme or 'relative'} URL, not http(s)")
        if seen > MAX_REDIRECTS:
            raise Refused(f"more than {MAX_REDIRECTS} redirects")
        refusal = veto(url, target)
        if refusal is not None:
            raise Refused(refusal)
        url = target


def _body(response: Response, limit: int, head: bool) -> bytes:
    """Read the whole body within `limit`; the connection goes back to the pool only when it was read."""
    complete = False
    try:
        if head:
            response.read()  # nothing to read: marks it consumed
            complete = True
            return b""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Refused(f"answer of {int(declared):,} bytes is over the {size(limit)} limit")
        if declared.isdigit() and "chunked" not in response.headers.get("Transfer-Encoding", "").lower():
            # The declared size in one read: IncompleteRead when the peer sends fewer bytes, so a body
            # cut short is a failure to retry, never a shorter answer.
            whole = response.read()
            complete = True
            return whole
        parts: list[bytes] = []
        total = 0
        while chunk := response.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise Refused(f"answer is over the {size(limit)} limit")
            parts.append(chunk)
        complete = True
        return b"".join(parts)
    finally:
        if complete:
            response.release()
        else:
            response.close()  # the rest of the body is unread: this connection cannot serve another
