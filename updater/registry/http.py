"""The HTTP transport for the distribution API: scheme, the 401 challenge flow, retries, counting.

One `Transport` per registry host. A request goes out anonymously (or with what an earlier challenge
taught us), and a 401 answer's `WWW-Authenticate` says what to do: Basic sends the credentials, Bearer
fetches a token from the realm for the request's scope (https://distribution.github.io/distribution/spec/auth/token/,
OAuth2 refresh-token grant for docker identity tokens) and caches it per scope until it expires.
Every round trip goes through `updater.infra.retry` (all requests here are GET/HEAD or token requests, safe
to repeat); 429 and 5xx answers and connection failures are transient, honouring Retry-After.
Every exchange is bounded (`updater.registry.bounded`): a total deadline of at most 30 s, capped by
what the run's retry budget has left, and a size cap chosen by the caller for what it asks for.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from updater import __version__
from updater.infra import redact, retry
from updater.infra.errors import RemoteError
from updater.infra.net import RETRYABLE, is_loopback
from updater.registry import bounded, shapes, transport
from updater.registry.bounded import Answer
from updater.registry.ratelimit import pull_limit_message

log = logging.getLogger("updater.registry")

IDENTITY_TOKEN_USER = "<token>"  # docker's marker: the "password" is an OAuth2 refresh token
_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


@dataclass(frozen=True)
class Challenge:
    """A parsed `WWW-Authenticate` header: scheme ("basic" or "bearer") and its parameters."""

    scheme: str
    params: Mapping[str, str] = field(default_factory=dict)


def parse_challenge(header: str) -> Challenge | None:
    """Return the challenge in a `WWW-Authenticate` value (quoted values may hold commas), or None."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _PARAM.match(rest, pos)
        if match is None or match.end() == pos:
            break
        quoted, bare = match.group(2), match.group(3)
        params[match.group(1).lower()] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        pos = match.end()
    return Challenge(scheme.lower(), params)


def scheme_for(host: str, insecure_hosts: tuple[str, ...]) -> str:
    """Plain HTTP only for loopback hosts or hosts the user named with --insecure-registry."""
    return "http" if is_loopback(host) or host in insecure_hosts else "https"


@dataclass
class Counts:
    """Requests made: `registry` (answered without an auth challenge) and `auth` (challenges, tokens)."""

    registry: int = 0
    auth: int = 0


class Transport:
    """HTTP to one registry host with auth, retries and counting; `label` names it in errors."""

    def __init__(
        self,
        host: str,
        label: str,
        insecure_hosts: tuple[str, ...],
        credentials: Callable[[], tuple[str, str] | None],
    ) -> None:
        self.host = host
        self.label = label
        self.insecure_hosts = insecure_hosts
        self.base = f"{scheme_for(host, insecure_hosts)}://{host}"
        self.counts = Counts()
        self._credentials_fn = credentials
        self._credentials: tuple[str, str] | None = None
        self._credentials_loaded = False
        self._client = transport.Client({"User-Agent": f"updater/{__version__}"})
        self._basic = False
        self._bearer: Challenge | None = None
        self._tokens: dict[str, tuple[str, float]] = {}

    # --- public -------------------------------------------------------------------------------

    def get(
        self,
        url: str,
        accept: str | None = None,
        scope: str = "",
        head: bool = False,
        limit: int = bounded.MANIFEST_LIMIT,
    ) -> Answer:
        """Return the final answer to GET (or HEAD) `url`, after auth, redirects and retries.

        The body may hold at most `limit` bytes. Raises RemoteError when the registry keeps failing
        past the retry budget, refuses auth or breaks a bound; other statuses (200, 404, ...) are the
        caller's to interpret.
        """
        method = "HEAD" if head else "GET"
        headers = {"Accept": accept} if accept else {}
        started = time.monotonic()
        attempts = 0

        def attempt() -> Answer:
            nonlocal attempts
            attempts += 1
            return self._attempt(method, url, headers, scope, limit)

        try:
            return retry.call(attempt)
        except retry.BudgetSpent as exc:
            raise RemoteError(
                f"registry {self.label}: {method} {urlsplit(url).path} not sent: {exc}"
            ) from None
        except retry.Transient as exc:
            elapsed = time.monotonic() - started
            raise RemoteError(
                f"registry {self.label}: {exc} for {method} {urlsplit(url).path}; "
                f"gave up after {attempts} attempts in {elapsed:.1f}s"
            ) from None

    # --- one attempt ----------------------------------------------------------------------------

    def _attempt(self, method: str, url: str, headers: dict[str, str], scope: str, limit: int) -> Answer:
        response = self._send(method, url, headers, scope, limit)
        if response.status_code == 401:
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            self.counts.auth += 1
            self.counts.registry -= 1  # the challenged round trip is part of the auth dance
            self._learn(challenge, scope, rejected=self._has_auth(scope))
            response = self._send(method, url, headers, scope, limit)
            if response.status_code == 401:
                raise RemoteError(
                    f"registry {self.label}: authentication failed (HTTP 401) for {method} "
                    f"{urlsplit(url).path}: check `docker login {self.label}` or --username/--password"
                )
        if response.status_code == 403:
            raise RemoteError(
                f"registry {self.label}: access denied (HTTP 403) for {method} {urlsplit(url).path}: "
                "the credentials lack pull access to this repository"
            )
        if response.status_code == 429:
            quota = pull_limit_message(
                response.headers,
                response.content[:4096].decode("utf-8", "replace"),
                retry_after=retry.parse_retry_after(response.headers.get("Retry-After")),
            )
            if quota:
                raise RemoteError(f"registry {self.label}: {quota}")
        _raise_if_transient(response)
        return response

    def _send(self, method: str, url: str, headers: dict[str, str], scope: str, limit: int) -> Answer:
        def one(hop: str) -> transport.Response:
            request_headers = dict(headers)
            # Credentials go to the registry's own origin only, never to where a redirect points.
            auth_header = self._auth_header(scope) if _same_origin(hop, self.base) else None
            if auth_header:
                request_headers["Authorization"] = auth_header
            self.counts.registry += 1
            try:
                response = self._client.open(method, hop, request_headers, self._deadline())
            except bounded.Failed as exc:
                log.debug("%s %s -> %s", method, hop, exc.kind)
                raise
            log.debug("%s %s -> HTTP %d", method, hop, response.status)
            return response

        return self._bounded(one, url, limit, f"{method} {urlsplit(url).path}", head=method == "HEAD")

    def _bounded(
        self,
        send: Callable[[str], transport.Response],
        url: str,
        limit: int,
        what: str,
        follow: bool = True,
        head: bool = False,
    ) -> Answer:
        """Run one exchange within the deadline and cap; map its failures to Transient / RemoteError."""
        try:
            veto = self._redirect_veto if follow else None
            return transport.exchange(
                send, url, limit=limit, deadline=self._deadline(), redirects=veto, head=head
            )
        except bounded.TooSlow as exc:
            log.debug("%s -> %s", what, exc)
            raise retry.Transient(str(exc)) from None
        except bounded.Refused as exc:
            raise RemoteError(f"registry {self.label}: {what}: {exc}") from None
        except bounded.Failed as exc:
            if exc.permanent and exc.kind == "SSLError":
                raise RemoteError(
                    f"registry {self.label}: {what}: TLS certificate not trusted "
                    f"({redact.printable(exc.permanent)}): set REQUESTS_CA_BUNDLE to the CA bundle that "
                    "signed it (or --insecure-registry for a registry without TLS)"
                ) from None
            if exc.permanent:
                raise RemoteError(
                    f"registry {self.label}: {what}: {redact.printable(exc.permanent)}: put the proxy's "
                    "user name and password in the user-info part of the HTTPS_PROXY URL"
                ) from None
            raise retry.Transient(f"connection failed ({exc.kind})") from None

    def _redirect_veto(self, old: str, new: str) -> str | None:
        """Refuse a redirect from https to plain http, unless the target may be plain (loopback, insecure)."""
        target = urlsplit(new)
        plain_ok = is_loopback(target.netloc) or target.netloc in self.insecure_hosts
        if urlsplit(old).scheme == "https" and target.scheme == "http" and not plain_ok:
            return f"redirect from https to plain http ({target.netloc}) refused"
        return None

    def _deadline(self) -> float:
        # The exchange's deadline is what stops a silent or slow peer (one message for both); the
        # socket's read timeout (`transport.Client.open`) only backs it up, so it is a little longer.
        return min(bounded.REQUEST_DEADLINE, max(0.5, retry.remaining()))

    # --- auth -----------------------------------------------------------------------------------

    def _creds(self) -> tuple[str, str] | None:
        if not self._credentials_loaded:
            self._credentials = self._credentials_fn()
            self._credentials_loaded = True
            if self._credentials is not None:
                redact.register(self._credentials[1])
        return self._credentials

    def _has_auth(self, scope: str) -> bool:
        return self._basic or (self._bearer is not None and scope in self._tokens)

    def _auth_header(self, scope: str) -> str | None:
        if self._bearer is not None:
            token = self._token(scope)
            return f"Bearer {token}"
        if self._basic:
            creds = self._creds()
            if creds is not None:
                return transport.basic(*creds)
        return None

    def _learn(self, challenge: Challenge | None, scope: str, rejected: bool) -> None:
        """Adopt what a 401 challenge asks for; a second 401 with the same auth is a refusal."""
        if challenge is None or challenge.scheme not in ("basic", "bearer"):
            raise RemoteError(f"registry {self.label}: HTTP 401 without a usable WWW-Authenticate challenge")
        if challenge.scheme == "basic":
            if self._creds() is None:
                raise RemoteError(
                    f"registry {self.label}: authentication required (HTTP 401): run `docker login "
                    f"{self.label}` or pass --username/--password"
                )
            if rejected:
                raise RemoteError(f"registry {self.label}: credentials rejected (HTTP 401): check them")
            self._basic = True
            return
        if "realm" not in challenge.params:
            raise RemoteError(f"registry {self.label}: HTTP 401 Bearer challenge without a realm")
        if rejected:
            self._tokens.pop(scope, None)
        self._bearer = challenge

    def _token(self, scope: str) -> str:
        cached = self._tokens.get(scope)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        assert self._bearer is not None
        token, lifetime = self._fetch_token(self._bearer, scope)
        # Spec: tokens live at least 60 s when expires_in is absent; renew a little early.
        self._tokens[scope] = (token, time.monotonic() + max(1.0, lifetime - 10))
        return token

    def _fetch_token(self, challenge: Challenge, scope: str) -> tuple[str, float]:
        realm = challenge.params["realm"]
        service = challenge.params.get("service", "")
        realm_host = urlsplit(realm).netloc
        creds = self._creds()
        if (
            creds is not None
            and urlsplit(realm).scheme != "https"
            and not (is_loopback(realm_host) or realm_host in self.insecure_hosts)
        ):
            raise RemoteError(
                f"registry {self.label}: refusing to send credentials to a plain-HTTP token realm {realm}"
            )
        self.counts.auth += 1
        refresh = creds is not None and creds[0] == IDENTITY_TOKEN_USER

        def one(hop: str) -> transport.Response:
            if refresh:
                assert creds is not None
                form = {
                    "grant_type": "refresh_token",
                    "refresh_token": creds[1],
                    "service": service,
                    "scope": scope,
                    "client_id": "updater",
                }
                form_type = {"Content-Type": "application/x-www-form-urlencoded"}
                body = urlencode(form).encode()
                return self._client.open("POST", hop, form_type, self._deadline(), body=body)
            params = {"service": service, "scope": scope} if scope else {"service": service}
            query = urlencode(params)
            target = f"{hop}{'&' if urlsplit(hop).query else '?'}{query}"
            basic = {"Authorization": transport.basic(*creds)} if creds is not None else {}
            return self._client.open("GET", target, basic, self._deadline())

        # A token answer is never followed elsewhere: the credentials went to the realm only.
        response = self._bounded(one, realm, bounded.TOKEN_LIMIT, f"token server {realm_host}", follow=False)
        log.debug("token %s scope=%s -> HTTP %d", realm, scope, response.status_code)
        _raise_if_transient(response, what=f"token server {realm_host}")
        if response.status_code != 200:
            raise RemoteError(
                f"registry {self.label}: token server {realm_host} refused {scope or 'access'} "
                f"(HTTP {response.status_code}): check `docker login {self.label}` or --username/--password"
            )
        token: object = None
        lifetime = 60.0
        try:
            body = shapes.load_json(response.content, "the token answer")
            if isinstance(body, dict):
                token = body.get("token") or body.get("access_token")
                lifetime = float(body.get("expires_in") or 60)
        except (shapes.Malformed, ValueError, TypeError):
            token = None
        if not isinstance(token, str) or not token:
            raise RemoteError(f"registry {self.label}: token server {realm_host} sent no token")
        redact.register(token)
        return token, lifetime


def _raise_if_transient(response: Answer, what: str = "") -> None:
    if response.status_code in RETRYABLE:
        prefix = f"{what} answered " if what else ""
        raise retry.Transient(
            f"{prefix}HTTP {response.status_code}",
            retry.parse_retry_after(response.headers.get("Retry-After")),
        )


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)
