"""A loopback Argo CD API server: the calls updater makes, with Argo CD's answers, on 127.0.0.1.

It follows Argo CD's published API description (../shared/argocd/swagger.json, the file
assets/swagger.json of argoproj/argo-cd at commit 37ee009): every body it sends is validated against
the definition the description gives for that operation (testing/argocd_swagger.py), and a body that
does not validate is recorded in `invalid` and answered 500, so the tests fail loudly. The controller
behind it (testing/argocd_controller.py) reconciles a real bare git repository.

Routes (swagger operationIds):
- `GET /api/v1/applications` (ApplicationService_List): `projects`/`project` (repeatable), `selector`
  (label selector: `k=v`, `k!=v`, `k`, comma-joined), `appNamespace`, `name`; apps the token may not
  see are left out, never refused.
- `GET /api/v1/applications/{name}` (ApplicationService_Get): `refresh=normal|hard` reconciles first and
  answers with the refreshed app, as the real server waits for the controller's reconcile
  (server/application/application.go Get); `appNamespace`, `project`.
- `POST /api/v1/applications/{name}/sync` (ApplicationService_Sync): body applicationApplicationSyncRequest
  (validated too); needs the `sync` action.

Errors, as Argo CD's gRPC gateway writes them (a runtimeError body: `error`, `code` = gRPC code,
`message`):
- no token (neither `Authorization: Bearer` nor the `argocd.token` cookie): 401 "no session
  information" (server/server.go ErrNoSession); an unknown token: 401 "invalid session".
- an app that does not exist, or that the token may not see: 403 "permission denied", the same answer
  for both so that existence does not leak (server/application/application.go getAppEnforceRBAC; with
  a `project` given, a missing app the token could see answers 404 NotFound).
- a sync while an operation runs: 400 "another operation is already in progress" (FailedPrecondition).
- injected faults (`fail`): any status, with Retry-After, or a body that is not an Application; with
  `lost=True` the request is carried out first and only its answer is replaced (a lost answer).
Every request is counted by route (`counts`: list, get, refresh, sync) and logged (`requests`).
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema

from testing import argocd_swagger
from testing.argocd_controller import (
    DESTINATION,
    AppSpec,
    AppState,
    Controller,
    ImageSource,
    OperationInProgress,
    UnknownRevision,
    stamp,
)

__all__ = ["AppSpec", "ArgoCD", "Fault", "Grant", "ImageSource", "start_argocd"]

LIST = "/api/v1/applications"
GET = "/api/v1/applications/{name}"
SYNC = "/api/v1/applications/{name}/sync"
_APP_PATH = re.compile(r"^/api/v1/applications/([^/]+)(/sync)?$")
# gRPC codes the gateway writes in `code` (google.golang.org/grpc/codes).
_GRPC = {400: 9, 401: 16, 403: 7, 404: 5, 429: 8, 500: 13, 502: 14, 503: 14, 504: 4}


@dataclass(frozen=True)
class Grant:
    """What a token may do: see `apps` (None = every app) and sync them when `sync`."""

    apps: frozenset[str] | None = None
    sync: bool = True


@dataclass
class Fault:
    """Answer the next `times` requests of `route` (list/get/refresh/sync/any) with `status`."""

    route: str
    status: int
    times: int = 1
    retry_after: str | None = None
    body: bytes | None = None  # a raw body instead of the runtimeError (bad shapes, huge answers)
    lost: bool = False  # carry the request out, then answer with the fault: a lost answer


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ArgoCD:
    """A running loopback Argo CD: `url`, its `controller`, tokens, faults and what it saw."""

    url: str
    controller: Controller
    tokens: dict[str, Grant]
    faults: list[Fault] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    requests: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, route: str, status: int, times: int = 1, **kwargs: Any) -> None:
        with self.lock:
            self.faults.append(Fault(route, status, times, **kwargs))

    def total(self) -> int:
        return sum(self.counts.values())

    def _draw(self, route: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.route in (route, "any"):
                    fault.times -= 1
                    return fault
        return None


def render(controller: Controller, state: AppState) -> dict[str, Any]:
    """Return the v1alpha1Application document for `state`, empty fields left out as the gateway does."""
    spec = state.spec
    sources = controller.sources(spec)
    compared: dict[str, Any] = {"destination": {**DESTINATION, "namespace": spec.name}}
    sync: dict[str, Any] = {"status": state.sync_status, "comparedTo": compared}
    if spec.multi_source:
        compared["sources"] = sources
        sync["revisions"] = [state.compared, "1.2.3"]
    else:
        compared["source"] = sources[0]
        sync["revision"] = state.compared
    health: dict[str, Any] = {"status": state.health, "lastTransitionTime": stamp(state.health_since)}
    if state.health_message:
        health["message"] = state.health_message
    status: dict[str, Any] = {
        "sync": sync,
        "health": health,
        "history": state.history[-10:],
        "sourceType": "Helm",
        "resourceHealthSource": "appTree",
        "controllerNamespace": "argocd",
    }
    if state.live_images:
        status["summary"] = {"images": list(state.live_images)}
    if state.op_state is not None:
        status["operationState"] = state.op_state
    if state.reconciled is not None:
        status["reconciledAt"] = stamp(state.reconciled)
    app_spec: dict[str, Any] = {
        "project": spec.project,
        "destination": {**DESTINATION, "namespace": spec.name},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": spec.self_heal}} if spec.automated else {},
    }
    if spec.multi_source:
        app_spec["sources"] = sources
    else:
        app_spec["source"] = sources[0]
    doc: dict[str, Any] = {
        "metadata": {
            "name": spec.name,
            "namespace": spec.namespace,
            "uid": state.uid,
            "resourceVersion": str(state.version),
            "generation": 1,
            "creationTimestamp": stamp(state.created),
            "labels": dict(spec.labels),
        },
        "spec": app_spec,
        "status": status,
    }
    if state.operation is not None:
        initiated = {"automated": True} if state.operation.automated else {"username": "admin"}
        doc["operation"] = {"sync": {"revision": state.operation.revision}, "initiatedBy": initiated}
    return doc


def _selected(labels: dict[str, str], selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.split("=", 1)
            if labels.get(key.strip()) != value.strip().lstrip("="):
                return False
        elif term not in labels:
            return False
    return True


def _handler(server: ArgoCD) -> type[BaseHTTPRequestHandler]:
    controller = server.controller

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            match = _APP_PATH.match(parts.path)
            if method == "GET" and parts.path == LIST:
                route, template = "list", LIST
            elif method == "GET" and match and not match.group(2):
                route, template = ("refresh" if "refresh" in query else "get"), GET
            elif method == "POST" and match and match.group(2):
                route, template = "sync", SYNC
            else:
                self._send(404, {"error": "Not Found", "code": 5, "message": "Not Found"}, None)
                return
            with server.lock:
                server.counts[route] += 1
                server.requests.append(f"{method} {self.path}")
            fault = server._draw(route)
            if fault is not None and not fault.lost:
                self._fault(fault, method, template)
                return
            try:
                grant = self._grant()
                if route == "list":
                    body = self._list(query, grant)
                else:
                    state = self._app(unquote(match.group(1)) if match else "", query, grant)
                    if route == "refresh":
                        controller.refresh(state)
                    elif route == "sync":
                        self._sync(state, raw, grant)
                    body = render(
                        controller, controller.state(state.spec.namespace, state.spec.name) or state
                    )
            except _Refused as refused:
                message = str(refused)
                error = {"error": message, "code": _GRPC.get(refused.status, 2), "message": message}
                self._send(refused.status, error, (method, template))
                return
            if fault is not None:  # done, but the client never learns it
                self._fault(fault, method, template)
                return
            self._send(200, body, (method, template))

        def _grant(self) -> Grant:
            header = self.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else ""
            if not token:
                cookie = re.search(r"(?:^|;\s*)argocd\.token=([^;]+)", self.headers.get("Cookie", ""))
                token = cookie.group(1) if cookie else ""
            if not token:
                raise _Refused(401, "no session information")
            grant = server.tokens.get(token)
            if grant is None:
                raise _Refused(401, "invalid session: token signature is invalid")
            return grant

        def _list(self, query: dict[str, list[str]], grant: Grant) -> dict[str, Any]:
            projects = set(query.get("projects", []) + query.get("project", []))
            namespace = (query.get("appNamespace") or [""])[0]
            selector = (query.get("selector") or [""])[0]
            name = (query.get("name") or [""])[0]
            controller.advance()
            items = []
            with controller.lock:
                states = sorted(controller.apps.values(), key=lambda s: (s.spec.namespace, s.spec.name))
                for state in states:
                    spec = state.spec
                    if grant.apps is not None and spec.name not in grant.apps:
                        continue
                    if (projects and spec.project not in projects) or (
                        namespace and spec.namespace != namespace
                    ):
                        continue
                    if (name and spec.name != name) or not _selected(dict(spec.labels), selector):
                        continue
                    items.append(render(controller, state))
            body: dict[str, Any] = {"metadata": {"resourceVersion": str(controller.reconciles)}}
            if items:
                body["items"] = items
            return body

        def _app(self, name: str, query: dict[str, list[str]], grant: Grant) -> AppState:
            namespace = (query.get("appNamespace") or ["argocd"])[0] or "argocd"
            projects = query.get("project", []) + query.get("projects", [])
            if len(projects) > 1:
                raise _Refused(
                    400, "multiple projects specified - the get endpoint accepts either zero or one project"
                )
            state = controller.state(namespace, name)
            visible = grant.apps is None or name in grant.apps
            if projects:
                if not visible:
                    raise _Refused(403, "permission denied")
                if state is None or state.spec.project != projects[0]:
                    raise _Refused(404, f'applications.argoproj.io "{name}" not found')
            if state is None or not visible:
                raise _Refused(403, "permission denied")
            return state

        def _sync(self, state: AppState, raw: bytes, grant: Grant) -> None:
            try:
                request = json.loads(raw or b"{}")
                argocd_swagger.validate("applicationApplicationSyncRequest", request)
            except (ValueError, jsonschema.ValidationError) as exc:
                raise _Refused(400, f"invalid sync request: {str(exc).splitlines()[0]}") from None
            if not grant.sync:
                raise _Refused(403, "permission denied")
            try:
                controller.sync(state, str(request.get("revision") or ""))
            except OperationInProgress as exc:
                raise _Refused(400, str(exc)) from None
            except UnknownRevision as exc:
                raise _Refused(400, f"error resolving repo revision: {exc}") from None

        def _fault(self, fault: Fault, method: str, template: str) -> None:
            if fault.body is not None:
                self._raw(fault.status, fault.body, fault.retry_after)
                return
            message = "the server is currently unable to handle the request"
            body = {"error": message, "code": _GRPC.get(fault.status, 2), "message": message}
            self._send(fault.status, body, (method, template), fault.retry_after)

        def _send(
            self, status: int, body: Any, op: tuple[str, str] | None, retry_after: str | None = None
        ) -> None:
            if op is not None:
                name = argocd_swagger.response_definition(op[0], op[1], status)
                try:
                    argocd_swagger.validate(name, body)
                except jsonschema.ValidationError as exc:
                    with server.lock:
                        server.invalid.append(f"{op[0]} {op[1]} {status} {name}: {exc.message}")
                    status, body = 500, {"error": "invalid response", "code": 13, "message": exc.message}
            self._raw(status, json.dumps(body).encode(), retry_after)

        def _raw(self, status: int, data: bytes, retry_after: str | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def start_argocd(
    bare: Path,
    apps: list[AppSpec],
    tokens: dict[str, Grant] | None = None,
    tls: ssl.SSLContext | None = None,
    **controller_options: Any,
) -> Iterator[ArgoCD]:
    """Run a loopback Argo CD over bare repo `bare` on 127.0.0.1 until the block ends (HTTPS with `tls`)."""
    controller = Controller(bare, apps, **controller_options)
    server = ArgoCD(url="", controller=controller, tokens=dict(tokens or {"argocd-test-token": Grant()}))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    server.url = f"{'https' if tls else 'http'}://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    """Poll `predicate()` until true (tests of the controller's timing)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
