"""One bounded HTTP exchange: a total deadline, a size cap, and redirects followed by hand.

A socket timeout bounds each read, not the request: a registry that trickles one byte a second, or
streams an endless body, never trips it. Here one watchdog thread shuts the connection's socket down
when the exchange's deadline passes (status line, headers, redirects and body included), which wakes
the read blocked on it; the body is read in chunks and refused as soon as it passes the cap. Redirects
are followed here, at most `MAX_REDIRECTS` hops, http(s) only, and the caller decides per hop which
headers (credentials) go to which origin.

The transport is urllib3 itself, not requests: `updater status` sends hundreds of small requests, and
requests spends about 1.8 ms of CPU on each (hooks, cookie jars, re-reading the environment) against
urllib3's 0.6 ms, on machines with two cores that the registry needs as well (benchmarks/status.py).
What requests took from the environment is read here once per origin, the same way: `HTTPS_PROXY`,
`HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (host suffixes, ports, CIDR blocks, `*`), credentials in the
proxy URL, and `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE` for the CAs to trust (certifi's bundle otherwise).

Caps, from the OCI distribution spec (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
"Client and registry implementations SHOULD expect to be able to support manifest pushes of at least
4 megabytes" ("Pushing Manifests"), so a manifest may be 4 MiB and no more. A tags page holds at most
`n` tags of at most 128 characters; registries that ignore `n` send every tag at once, so a page may
be 16 MiB (over 100,000 tags of the longest kind). An image config is JSON the size of a manifest's
order (history, labels, environment): 8 MiB. A token answer is a few KB of JWT: 1 MiB.
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import certifi
import urllib3
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
from urllib3.util.ssl_ import create_urllib3_context

from updater.infra import redact

MIB = 1024 * 1024
MANIFEST_LIMIT = 4 * MIB
TAGS_PAGE_LIMIT = 16 * MIB
CONFIG_LIMIT = 8 * MIB
TOKEN_LIMIT = 1 * MIB
REQUEST_DEADLINE = 30.0  # seconds for one exchange, capped by what the run's retry budget has left
MAX_REDIRECTS = 5
POOL_SIZE = 16  # connections kept per origin: more than the 8 requests status keeps in flight
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_local = threading.local()
Veto = Callable[[str, str], str | None]  # (from URL, to URL) -> why the redirect is refused, or None
Response = urllib3.BaseHTTPResponse


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: status, headers (case-insensitive), the whole body, the final URL."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    url: str


class TooSlow(Exception):
    """The exchange did not complete within its deadline (worth retrying: the peer may recover)."""


class Refused(Exception):
    """The answer breaks a bound (too large, too many or bad redirects): not worth repeating."""


class Failed(Exception):
    """The connection failed: `kind` is ConnectionError, SSLError or Timeout (worth retrying).

    `untrusted` holds why the peer's certificate was refused (not worth retrying: the CAs to trust
    or the name must change), else "".
    """

    def __init__(self, kind: str, untrusted: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.untrusted = untrusted


# --- the deadline -----------------------------------------------------------------------------------


class _Watch:
    """One exchange's deadline: shuts down the socket of the connection it uses once it passes."""

    def __init__(self, seconds: float) -> None:
        self.due = time.monotonic() + seconds
        self.fired = False
        self.done = False
        self.connection: urllib3.connection.HTTPConnection | None = None
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

    def adopt(self, connection: urllib3.connection.HTTPConnection) -> None:
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
    """One daemon thread for every deadline of the process (not a timer thread per request)."""

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


class _WatchedHTTP(urllib3.connection.HTTPConnection):
    """A connection that hands itself to the watch of the exchange using it."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        watch: _Watch | None = getattr(_local, "watch", None)
        if watch is not None:
            watch.adopt(self)
        super().request(*args, **kwargs)

    def connect(self) -> None:
        super().connect()
        watch: _Watch | None = getattr(_local, "watch", None)
        if watch is not None and watch.fired:  # the deadline passed while connecting
            watch.adopt(self)


class _WatchedHTTPS(_WatchedHTTP, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _WatchedHTTP


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPS


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


# --- the environment ---------------------------------------------------------------------------------


def proxy_for(url: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Return the proxy the environment names for `url` (as requests and curl read it), or None."""
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    proxies = _proxies(env)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or _bypassed(parts.hostname or "", parts.port, env):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _proxies(env: Mapping[str, str]) -> dict[str, str]:
    """`<scheme>_proxy` and `all_proxy` by scheme; a lower-case name wins over its upper-case twin."""
    found: dict[str, str] = {}
    for lower_case in (False, True):
        for name, value in env.items():
            if value and name.lower().endswith("_proxy") and name.islower() == lower_case:
                found[name.lower().removesuffix("_proxy")] = value
    found.pop("no", None)
    return found


def _bypassed(host: str, port: int | None, env: Mapping[str, str]) -> bool:
    """NO_PROXY: `*`, host names and their subdomains (`.example.com` or `example.com`), `host:port`, CIDR."""
    listed = env.get("no_proxy") or env.get("NO_PROXY") or ""
    host = host.lower().strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    for entry in (item.strip().lower() for item in listed.replace(" ", ",").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if entry_port and (not entry_port.isdigit() or int(entry_port) != port):
            continue
        if address is not None and "/" in name:
            with contextlib.suppress(ValueError):
                if address in ipaddress.ip_network(name, strict=False):
                    return True
            continue
        name = name.lstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False


def _ca_locations() -> dict[str, str]:
    """The CAs to trust: REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (a file or a directory), else certifi's."""
    named = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if named:
        return {"capath": named} if os.path.isdir(named) else {"cafile": named}
    return {"cafile": certifi.where()}


class Client:
    """Pooled HTTP/1.1 connections, straight or through the environment's proxy, read once per origin."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = dict(headers)
        self._lock = threading.Lock()
        self._routes: dict[tuple[str, str], urllib3.PoolManager] = {}
        self._managers: dict[str | None, urllib3.PoolManager] = {}
        self._tls: ssl.SSLContext | None = None

    def open(
        self, method: str, url: str, headers: Mapping[str, str], timeout: float, body: bytes | None = None
    ) -> Response:
        """Send one request, no redirects, no retries; the caller reads (and so releases) the answer.

        Raises Failed for a connection that cannot be made or breaks.
        """
        parts = urlsplit(url)
        manager = self._manager(parts.scheme, parts.netloc, url)
        sent = {**self._headers, **headers}
        try:
            return manager.urlopen(
                method,
                url,
                body=body,
                headers=sent,
                redirect=False,
                retries=False,
                preload_content=False,
                timeout=urllib3.Timeout(connect=min(10.0, timeout), read=timeout + 1.0),
            )
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _failure(exc) from None

    def _manager(self, scheme: str, netloc: str, url: str) -> urllib3.PoolManager:
        with self._lock:
            found = self._routes.get((scheme, netloc))
            if found is None:
                found = self._routes[(scheme, netloc)] = self._made(proxy_for(url))
            return found

    def _made(self, proxy: str | None) -> urllib3.PoolManager:
        made = self._managers.get(proxy)
        if made is not None:
            return made
        options: dict[str, Any] = {"maxsize": POOL_SIZE, "block": False, "ssl_context": self._context()}
        if proxy is None:
            made = urllib3.PoolManager(num_pools=10, **options)
        else:
            parts = urlsplit(proxy)
            if parts.scheme not in ("http", "https"):
                raise Refused(f"proxy {parts.scheme}://{parts.hostname} is not http(s): use an http(s) proxy")
            proxy_headers = {}
            if parts.username is not None:
                password = unquote(parts.password or "")
                redact.register(password)
                proxy_headers = urllib3.make_headers(proxy_basic_auth=f"{unquote(parts.username)}:{password}")
            bare = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
            made = urllib3.ProxyManager(bare, proxy_headers=proxy_headers, **options)
        made.pool_classes_by_scheme = _POOLS
        self._managers[proxy] = made
        return made

    def _context(self) -> ssl.SSLContext:
        if self._tls is None:
            context = create_urllib3_context()
            context.load_verify_locations(**_ca_locations())
            self._tls = context
        return self._tls


def _failure(exc: BaseException) -> Failed:
    reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason else exc
    if isinstance(reason, (urllib3.exceptions.SSLError, ssl.SSLError)):
        return Failed("SSLError", _untrusted(reason))
    if isinstance(reason, urllib3.exceptions.NewConnectionError):  # a subclass of ConnectTimeoutError
        return Failed("ConnectionError")
    if isinstance(reason, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return Failed("Timeout")
    return Failed("ConnectionError")


def _untrusted(error: BaseException) -> str:
    """OpenSSL's reason ("self-signed certificate", "Hostname mismatch, ...") for a refused certificate."""
    seen: BaseException | None = error
    for _ in range(5):  # urllib3 wraps ssl's error in its own, sometimes twice
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or "certificate verify failed")
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = inner or seen.__cause__ or seen.__context__
    return ""


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
        except (Failed, urllib3.exceptions.HTTPError, OSError) as exc:
            if watch.fired:
                raise TooSlow(too_slow) from None
            if isinstance(exc, Failed):
                raise
            raise _failure(exc) from None
    if watch.fired:  # a body delimited by the connection's end looks complete once the socket is shut
        raise TooSlow(too_slow)
    return answer


def _follow(send: Callable[[str], Response], url: str, limit: int, veto: Veto | None, head: bool) -> Answer:
    seen = 0
    while True:
        response = send(url)
        if response.status not in _REDIRECTS or veto is None:
            return Answer(response.status, response.headers, _body(response, limit, head), url)
        _discard(response)
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
            raise Refused(f"answer of {int(declared):,} bytes is over the {_size(limit)} limit")
        parts: list[bytes] = []
        total = 0
        for chunk in response.stream(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise Refused(f"answer is over the {_size(limit)} limit")
            parts.append(chunk)
        complete = True
        return b"".join(parts)
    finally:
        if not complete:
            response.close()  # the rest of the body is unread: this connection cannot serve another
        response.release_conn()


def _discard(response: Response) -> None:
    """Close a redirect's answer without reading its body (it may be endless)."""
    response.close()
    response.release_conn()


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit:,} bytes"
