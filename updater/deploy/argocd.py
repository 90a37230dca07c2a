"""The Argo CD API client: get (with refresh), list and sync Applications over HTTPS.

The calls and answers are those of Argo CD's published API description (assets/swagger.json:
ApplicationService_Get/List/Sync). Every GET goes through the one retry policy (`updater.retry`:
429/5xx and connection failures are transient, Retry-After honoured, per-attempt timeouts capped by
the run's budget). A sync is a POST that starts an operation: it is sent once, never repeated blindly;
the wait loop reads the app again and asks again only if no operation for our revision appeared.

Argo CD answers 403 "permission denied" both for an Application that does not exist and for one the
token may not read (server/application/application.go getAppEnforceRBAC), so the error says both.
The token comes from an environment variable, is sent only as a Bearer header, and is registered
with `updater.redact`: it never reaches argv, files, logs or output.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from updater import __version__
from updater.deploy.application import Application, ShapeError, parse, parse_list, printable
from updater.deploy.settings import Server
from updater.infra import redact, retry
from updater.infra.errors import InputError, RemoteError
from updater.infra.net import RETRYABLE, is_loopback

T = TypeVar("T")

log = logging.getLogger("updater.deploy")

MAX_APP_BYTES = 4 * 1024 * 1024
MAX_LIST_BYTES = 64 * 1024 * 1024


def check_url(url: str) -> str:
    """Return the API base URL; plain http only for a loopback host. Raises InputError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(
            f"deploy.server {printable(url)!r}: give an https:// URL such as https://argocd.example.com"
        )
    if parts.scheme == "http" and not is_loopback(parts.netloc):
        raise InputError(
            f"deploy.server {printable(url)!r}: plain http only to a loopback address; use https"
        )
    if parts.username or parts.password:
        raise InputError(
            "deploy.server: no credentials in the URL; put the token in the environment variable"
        )
    return url.rstrip("/")


class ArgoCD:
    """One Argo CD API server; `counts` holds the requests sent, by kind (get, refresh, list, sync)."""

    def __init__(self, server: Server, environ: Mapping[str, str]) -> None:
        self.base = check_url(server.url)
        self.label = urlsplit(self.base).netloc
        token = environ.get(server.token_env, "").strip()
        if not token:
            raise InputError(
                f"deploy: the Argo CD token variable {server.token_env} is not set: export an API token "
                "(argocd account generate-token) in it"
            )
        redact.register(token)
        self.token_env = server.token_env
        self.counts: Counter[str] = Counter()
        import requests  # lazy: with urllib3 its import costs every command ~80 ms; only deploy needs it

        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"updater/{__version__}"
        self._session.headers["Authorization"] = f"Bearer {token}"
        # Passed on every request: a session-level value loses to REQUESTS_CA_BUNDLE in the environment.
        self._verify: str | bool = server.ca_file if server.ca_file else not server.insecure

    def close(self) -> None:
        self._session.close()

    # --- the three calls --------------------------------------------------------------------------

    def get(self, name: str, *, namespace: str = "", project: str = "", refresh: bool = False) -> Application:
        """Return Application `name`; with `refresh`, Argo CD reconciles it first (?refresh=normal)."""
        params = _params(appNamespace=namespace, project=project, refresh="normal" if refresh else "")
        call = _Call("GET", _app_path(name), params, MAX_APP_BYTES, "refresh" if refresh else "get", name)
        doc = self._json(call)
        return self._shaped(lambda: parse(doc), f"application {name}")

    def applications(
        self, *, projects: Sequence[str] = (), selector: str = "", namespace: str = ""
    ) -> list[Application]:
        """Return the Applications the token may see, filtered by project(s), label selector, namespace."""
        params = [("projects", p) for p in projects] + _params(selector=selector, appNamespace=namespace)
        doc = self._json(_Call("GET", "/api/v1/applications", params, MAX_LIST_BYTES, "list"))
        return self._shaped(lambda: parse_list(doc), "the application list")

    def sync(self, name: str, revision: str, *, namespace: str = "", project: str = "") -> Application | None:
        """Ask Argo CD to sync `name` to `revision`; return the app, or None when the answer is lost or
        an operation already runs.

        Sent once, never retried here: after a lost answer (5xx, 429, a dropped connection) the POST may
        or may not have started the operation, so the caller reads the app to see, and asks again only
        if no operation for the revision appeared.
        """
        body: dict[str, Any] = {"name": name, "revision": revision}
        if namespace:
            body["appNamespace"] = namespace
        if project:
            body["project"] = project
        call = _Call("POST", _app_path(name) + "/sync", [], MAX_APP_BYTES, "sync", name, body)
        try:
            doc = self._attempt(call)
        except (_Conflict, retry.Transient) as exc:
            log.debug("sync %s: %s", name, exc or "another operation is already in progress")
            return None
        return self._shaped(lambda: parse(doc), f"application {name}")

    # --- transport ----------------------------------------------------------------------------------

    def _shaped(self, fn: Callable[[], T], what: str) -> T:
        try:
            return fn()
        except ShapeError as exc:
            raise RemoteError(f"Argo CD {self.label}: unexpected answer for {what}: {exc}") from None

    def _json(self, call: _Call) -> object:
        """Return the decoded answer to a GET, retried within the run's budget."""
        what = f"{call.method} {call.path}"
        try:
            return retry.call(lambda: self._attempt(call))
        except retry.BudgetSpent as exc:
            raise RemoteError(f"Argo CD {self.label}: {what} not sent: {exc}") from None
        except retry.Transient as exc:
            raise RemoteError(f"Argo CD {self.label}: {exc} for {what}, after retries") from None

    def _attempt(self, call: _Call) -> object:
        import requests  # loaded by __init__ already
        import urllib3  # loaded by requests

        method, path, cap, kind, app = call.method, call.path, call.cap, call.kind, call.app
        self.counts[kind] += 1
        try:
            with warnings.catch_warnings():
                if self._verify is False:  # the user chose deploy.insecure: say it once, in the docs
                    warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
                response = self._session.request(
                    method,
                    self.base + path,
                    params=call.params,
                    json=call.body,
                    timeout=retry.timeout(10.0, 60.0),
                    stream=True,
                    verify=self._verify,
                )
        except requests.exceptions.SSLError:
            raise RemoteError(
                f"Argo CD {self.label}: TLS verification failed: set deploy.ca-file to the server's CA "
                "(or deploy.insecure: true for a test server)"
            ) from None
        except requests.RequestException as exc:
            log.debug("%s %s -> %s", method, path, type(exc).__name__)
            raise retry.Transient(f"connection failed ({type(exc).__name__})") from None
        with response:
            data = response.raw.read(cap + 1, decode_content=True) or b""
        log.debug("%s %s -> HTTP %d", method, path, response.status_code)
        status = response.status_code
        if status in RETRYABLE:
            raise retry.Transient(
                f"HTTP {status}", retry.parse_retry_after(response.headers.get("Retry-After"))
            )
        if len(data) > cap:
            raise RemoteError(f"Argo CD {self.label}: the answer to {method} {path} exceeds {cap} bytes")
        message = _message(data)
        if status == 401:
            raise RemoteError(
                f"Argo CD {self.label}: authentication failed (HTTP 401: {message}): check the token in "
                f"{self.token_env}"
            )
        if status == 403:
            target = f"application {printable(app)!r}" if app else "the request"
            raise RemoteError(
                f"Argo CD {self.label}: permission denied for {target} (HTTP 403): it does not exist, or the "
                "token may not read (or sync) it; Argo CD answers both alike. Check the Application name in "
                "deploy and the token's RBAC"
            )
        if status == 404 and app:
            raise RemoteError(
                f"Argo CD {self.label}: application {printable(app)!r} not found (HTTP 404): {message}"
            )
        if status == 400 and kind == "sync" and "another operation is already in progress" in message:
            raise _Conflict()
        if status != 200:
            raise RemoteError(f"Argo CD {self.label}: HTTP {status} for {method} {path}: {message}")
        try:
            return json.loads(data)
        except ValueError:
            raise RemoteError(f"Argo CD {self.label}: the answer to {method} {path} is not JSON") from None


@dataclass(frozen=True)
class _Call:
    """One API request: what to send, the answer's size cap, and what to count and name it as."""

    method: str
    path: str
    params: list[tuple[str, str]]
    cap: int
    kind: str  # get, refresh, list, sync
    app: str = ""
    body: dict[str, Any] | None = None


def _app_path(name: str) -> str:
    return f"/api/v1/applications/{quote(name, safe='')}"


class _Conflict(Exception):
    """A sync was refused because an operation already runs."""


def _params(**values: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in values.items() if v]


def _message(data: bytes) -> str:
    """Return the `message` of a runtimeError body, printable and short, else a note that there is none."""
    try:
        doc = json.loads(data)
    except ValueError:
        return "no JSON error body"
    text = doc.get("message") or doc.get("error") if isinstance(doc, dict) else None
    return printable(text, 200) if isinstance(text, str) and text else "no message"
