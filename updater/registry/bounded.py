"""One bounded HTTP exchange: a total deadline, a size cap, and redirects followed by hand.

A socket timeout bounds each read, not the request: a registry that trickles one byte a second, or
streams an endless body, never trips it. Here a timer shuts the connection's socket down when the
exchange's deadline passes (status line, headers, redirects and body included), which wakes the read
blocked on it; the body is read in chunks and refused as soon as it passes the cap. Redirects are
followed here rather than by requests, which reads a redirect's whole body to recycle the
connection: at most `MAX_REDIRECTS` hops, http(s) only, and the caller decides per hop which headers
(credentials) go to which origin.

Caps, from the OCI distribution spec (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
"Client and registry implementations SHOULD expect to be able to support manifest pushes of at least
4 megabytes" ("Pushing Manifests"), so a manifest may be 4 MiB and no more. A tags page holds at most
`n` tags of at most 128 characters; registries that ignore `n` send every tag at once, so a page may
be 16 MiB (over 100,000 tags of the longest kind). An image config is JSON the size of a manifest's
order (history, labels, environment): 8 MiB. A token answer is a few KB of JWT: 1 MiB.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.connection
import urllib3.connectionpool
from requests.adapters import HTTPAdapter

MIB = 1024 * 1024
MANIFEST_LIMIT = 4 * MIB
TAGS_PAGE_LIMIT = 16 * MIB
CONFIG_LIMIT = 8 * MIB
TOKEN_LIMIT = 1 * MIB
REQUEST_DEADLINE = 30.0  # seconds for one exchange, capped by what the run's retry budget has left
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_local = threading.local()
Veto = Callable[[str, str], str | None]  # (from URL, to URL) -> why the redirect is refused, or None


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


class _Watch:
    """Shuts down the socket of the connection in use by this thread once `seconds` have passed."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self.connection: urllib3.connection.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            sock = self.connection.sock if self.connection is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def adopt(self, connection: urllib3.connection.HTTPConnection) -> None:
        with self._lock:
            self.connection = connection
        if self.fired:
            self._fire()

    def __enter__(self) -> _Watch:
        # A token fetched in the middle of a request has its own watch; the request's resumes after.
        self._outer: _Watch | None = getattr(_local, "watch", None)
        _local.watch = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _local.watch = self._outer


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


class _Adapter(HTTPAdapter):
    """requests' adapter with connections the deadline timer can reach (direct or through a proxy)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        return manager


class _Session(requests.Session):
    """A session that reads the proxy and CA settings of the environment once per origin.

    requests re-reads them on every request (`merge_environment_settings`: every variable of
    os.environ, twice), about 1 ms of CPU a request; a run's environment does not change, and status
    sends hundreds of requests to one registry.
    """

    def __init__(self) -> None:
        super().__init__()
        self._settings: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._settings_lock = threading.Lock()

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        parts = urlsplit(str(url))
        key = (parts.scheme, parts.netloc, tuple(sorted((proxies or {}).items())), stream, verify, cert)
        with self._settings_lock:
            found = self._settings.get(key)
        if found is None:
            found = dict(super().merge_environment_settings(url, proxies, stream, verify, cert))
            with self._settings_lock:
                self._settings[key] = found
        return {name: dict(value) if isinstance(value, dict) else value for name, value in found.items()}


def session() -> requests.Session:
    """Return a requests session whose exchanges `exchange` can bound in time."""
    made = _Session()
    adapter = _Adapter()
    made.mount("http://", adapter)
    made.mount("https://", adapter)
    return made


def exchange(
    send: Callable[[str], requests.Response],
    url: str,
    *,
    limit: int,
    deadline: float,
    redirects: Veto | None,
) -> Answer:
    """Return the answer `send(url)` leads to, within `deadline` seconds and `limit` body bytes.

    `send` makes one request (stream=True, no redirects). Redirects are followed when `redirects` is
    given; `redirects(old, new)` may veto a hop by returning why. Raises TooSlow past the deadline,
    Refused for an answer out of bounds, and requests' own exceptions for connection failures.
    """
    too_slow = f"no complete answer within {deadline:.1f}s"
    with _Watch(deadline) as watch:
        try:
            answer = _follow(send, url, limit, redirects)
        except (requests.RequestException, OSError):
            if watch.fired:
                raise TooSlow(too_slow) from None
            raise
    if watch.fired:  # a body delimited by the connection's end looks complete once the socket is shut
        raise TooSlow(too_slow)
    return answer


def _follow(send: Callable[[str], requests.Response], url: str, limit: int, veto: Veto | None) -> Answer:
    seen = 0
    while True:
        response = send(url)
        if response.status_code not in _REDIRECTS or veto is None:
            with response:
                return Answer(response.status_code, response.headers, _body(response, limit), url)
        response.close()
        location = response.headers.get("Location")
        seen += 1
        if not location:
            raise Refused(f"HTTP {response.status_code} redirect without a Location")
        target = urljoin(url, location)
        if urlsplit(target).scheme not in ("http", "https"):
            raise Refused(f"redirect to a {urlsplit(target).scheme or 'relative'} URL, not http(s)")
        if seen > MAX_REDIRECTS:
            raise Refused(f"more than {MAX_REDIRECTS} redirects")
        refusal = veto(url, target)
        if refusal is not None:
            raise Refused(refusal)
        url = target


def _body(response: requests.Response, limit: int) -> bytes:
    if response.request.method == "HEAD":
        for _ in response.iter_content(_CHUNK):  # nothing to read: marks it consumed, so the
            pass  # connection goes back to the pool instead of being closed (a new TLS handshake)
        return b""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused(f"answer of {int(declared):,} bytes is over the {_size(limit)} limit")
    parts: list[bytes] = []
    total = 0
    for chunk in response.iter_content(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise Refused(f"answer is over the {_size(limit)} limit")
        parts.append(chunk)
    return b"".join(parts)


def _size(limit: int) -> str:
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit:,} bytes"
