"""A loopback GitHub for tests: it follows GitHub's published REST and GraphQL API for the calls
updater makes, on top of a real bare git repository.

Why: github.com cannot be reached from tests, and a mock would only echo our assumptions. This
server runs the real PyGithub client against GitHub's semantics: a non-force ref update that is not a
fast-forward is a 422, `createCommitOnBranch` checks `expectedHeadOid` (git's own compare-and-swap
underneath), one open PR per head and base ("A pull request already exists"), "Reference already
exists" on creating an existing ref, auto-merge that fires when checks pass, merges that write a real
merge or squash commit. GraphQL requests are executed against a vendored subset of GitHub's official
schema, and every REST response is validated against GitHub's official OpenAPI schemas before it is
sent. It counts requests (REST and GraphQL separately) and injects faults on demand.

Rules GitHub documents and clients trip over are modelled too (each cited where it lives): preview
schema members exist only for requests whose Accept header names the preview (github_graphql.py),
`first` is required and at most 100 on every connection (github_nodes.py), an open PR whose head
becomes an ancestor of its base is closed as merged, merge state is UNKNOWN while GitHub computes it,
disallowed merge methods are refused (github_state.py), and `write_limit` is a secondary rate limit
that counts writes only (`_over_write_limit`).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from testing import github_openapi, github_rest
from testing.github_faults import Fault, secondary_rate_limit
from testing.github_graphql import execute
from testing.github_state import GitHubState, StateError, new_token


class GitHubServer:
    """The server and its knobs; use `start_github` to run one."""

    def __init__(self, root: Path, owner: str, name: str, files: dict[str, bytes], branch: str) -> None:
        self.state = GitHubState(root / f"{name}.git", owner, name, files, branch)
        self.tokens: set[str] = set()
        self.app_id: str | None = None
        self.app_public_key: str | None = None
        self.installation_id = 4242
        self.graphql_commit = True  # False: an older GHES without createCommitOnBranch
        self.faults: list[Fault] = []
        self.gates: list[tuple[Fault, threading.Barrier]] = []
        self.log: list[tuple[str, str, str]] = []  # (kind, method, path or GraphQL operation)
        self.paths: list[str] = []  # "METHOD /path" as requested (GHES: /api/v3/..., /api/graphql)
        self.validation_errors: list[str] = []
        self.accepts: list[str] = []  # the Accept header of each GraphQL request
        # A secondary rate limit on writes: at most N writes per `window` seconds, then 403 with
        # Retry-After (None: off). See `_over_write_limit`.
        self.write_limit: int | None = None
        self.write_window = 60.0
        self._writes: list[float] = []
        self.hooks: list[tuple[Fault, Callable[[], None]]] = []
        self.validated = 0
        self._lock = threading.Lock()
        self.httpd: ThreadingHTTPServer | None = None

    # --- what tests look at --------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def repo(self) -> Any:
        return self.state.repo

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "rest": sum(1 for k, *_ in self.log if k == "rest"),
                "graphql": sum(1 for k, *_ in self.log if k == "graphql"),
            }

    def reset_counts(self) -> None:
        with self._lock:
            self.log.clear()

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults.extend(faults)

    def gate(self, target: str, parties: int) -> None:
        """Hold the next `parties` requests matching `target` (as in Fault) until all have arrived,
        then let them go at once: the writes of concurrent runs that all read the same state."""
        with self._lock:
            self.gates.append((Fault(target, times=parties), threading.Barrier(parties, timeout=10)))

    def before(self, target: str, action: Callable[[], None]) -> None:
        """Run `action` once, just before handling the next request matching `target` (as in Fault):
        what another job does between two of our requests."""
        with self._lock:
            self.hooks.append((Fault(target), action))

    def _run_hooks(self, method: str, path: str, body: str) -> None:
        with self._lock:
            due = [(f, a) for f, a in self.hooks if f.times > 0 and f.matches(method, path, body)]
            for fault, _ in due:
                fault.times = 0
        for _, action in due:
            action()

    def read(self, branch: str, path: str) -> bytes | None:
        oid = self.state.ref_oid(branch)
        entry = self.state.repo.entry(oid, path) if oid else None
        return self.state.repo.blob(entry.oid) if entry else None

    # --- request plumbing ----------------------------------------------------------------------
    def _pass_gate(self, method: str, path: str, body: str) -> None:
        barrier = None
        with self._lock:
            for match, waiting in self.gates:
                if match.times > 0 and match.matches(method, path, body):
                    match.times -= 1
                    barrier = waiting
                    break
        if barrier is not None:
            barrier.wait()

    def _take_fault(self, method: str, path: str, body: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.times > 0 and fault.matches(method, path, body):
                    fault.times -= 1
                    return fault
        return None

    def _over_write_limit(self, method: str, is_graphql: bool, body: str) -> float | None:
        """Seconds to wait when this request is a write over `write_limit`, else None.

        GitHub's secondary limits weigh writes, not reads: "Calculating points for the secondary rate
        limit": a GraphQL request without mutations 1 point, with mutations 5; REST GET 1,
        POST/PATCH/PUT/DELETE 5; and "no more than 80 content-generating requests per minute"
        (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api). A request over
        the limit is refused (not performed) with 403 or 429 and Retry-After."""
        query = str((json.loads(body) if body else {}).get("query", "")) if is_graphql else ""
        write = method != "GET" and (not is_graphql or query.lstrip().startswith("mutation"))
        if self.write_limit is None or not write:
            return None
        with self._lock:
            now = time.monotonic()
            self._writes = [t for t in self._writes if now - t < self.write_window]
            if len(self._writes) >= self.write_limit:
                return max(1.0, self.write_window - (now - self._writes[0]))
            self._writes.append(now)
        return None

    def _record(self, kind: str, method: str, what: str) -> None:
        with self._lock:
            self.log.append((kind, method, what))


def _operation_name(query: str) -> str:
    fields = re.findall(
        r"\b(createRef|updateRef|deleteRef|createCommitOnBranch|createPullRequest|"
        r"updatePullRequest|closePullRequest|addComment|enablePullRequestAutoMerge)\(",
        query,
    )
    return ("mutation " + ",".join(fields)) if fields else "query"


class _Handler(BaseHTTPRequestHandler):
    server_version = "GitHub.com"
    gh: GitHubServer  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        merged = {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": "4999",
            "x-ratelimit-reset": str(int(time.time()) + 3600),
        }
        merged.update({k.lower(): v for k, v in (headers or {}).items()})
        for key, value in merged.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        gh = self.gh
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode() if length else ""
        requested = self.path.split("?", 1)[0]
        # github.com: REST at /, GraphQL at /graphql. GitHub Enterprise Server: REST under /api/v3,
        # GraphQL at /api/graphql (not /api/v3/graphql: that is a 404 there, and here).
        is_graphql = requested in ("/graphql", "/api/graphql")
        path = requested.removeprefix("/api/v3")
        with gh._lock:
            gh.paths.append(f"{method} {requested}")
        gh._record("graphql" if is_graphql else "rest", method, _operation_name(raw) if is_graphql else path)
        gh._pass_gate(method, path, raw)
        gh._run_hooks(method, path, raw)
        if is_graphql:
            with gh._lock:
                gh.accepts.append(self.headers.get("Accept", ""))
        wait = gh._over_write_limit(method, is_graphql, raw)
        if wait is not None:
            limited = secondary_rate_limit("", retry_after=math.ceil(wait))
            self._send(limited.status, limited.answer(), limited.headers)
            return
        fault = gh._take_fault(method, path, raw)
        if fault and not fault.after:
            self._send(fault.status, fault.answer(), fault.headers)
            return
        try:
            status, body, operation = self._dispatch(method, path, raw, is_graphql)
        except StateError as exc:
            status, body, operation = (
                exc.status,
                _error(exc.message, exc.status),
                self._operation(method, path),
            )
        except Exception as exc:
            gh.validation_errors.append(f"server error on {method} {path}: {exc!r}")
            status, body, operation = 500, {"message": f"loopback server error: {exc!r}"}, None
        if fault:  # the write happened; the client only sees the fault
            self._send(fault.status, fault.answer(), fault.headers)
            return
        if operation is not None:
            try:
                github_openapi.validate(operation, status, body)
                gh.validated += 1
            except Exception as exc:
                gh.validation_errors.append(f"{operation} {status}: {exc}".splitlines()[0][:300])
                status, body = 500, {"message": f"response failed OpenAPI validation: {operation} {status}"}
        self._send(status, body)

    # --- routing ------------------------------------------------------------------------------
    def _operation(self, method: str, path: str) -> str | None:
        prefix = f"/repos/{self.gh.state.full_name}"
        templates = {
            f"POST {prefix}/git/blobs": "POST /repos/{owner}/{repo}/git/blobs",
            f"POST {prefix}/git/trees": "POST /repos/{owner}/{repo}/git/trees",
            f"POST {prefix}/git/commits": "POST /repos/{owner}/{repo}/git/commits",
            f"POST {prefix}/git/refs": "POST /repos/{owner}/{repo}/git/refs",
            f"GET {prefix}/installation": "GET /repos/{owner}/{repo}/installation",
        }
        key = f"{method} {path}"
        if key in templates:
            return templates[key]
        patterns = [
            (rf"PATCH {prefix}/git/refs/.+", "PATCH /repos/{owner}/{repo}/git/refs/{ref}"),
            (rf"DELETE {prefix}/git/refs/.+", "DELETE /repos/{owner}/{repo}/git/refs/{ref}"),
            (rf"GET {prefix}/git/blobs/\w+", "GET /repos/{owner}/{repo}/git/blobs/{file_sha}"),
            (rf"PATCH {prefix}/issues/\d+", "PATCH /repos/{owner}/{repo}/issues/{issue_number}"),
            (
                rf"POST {prefix}/pulls/\d+/requested_reviewers",
                "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
            ),
            (rf"PUT {prefix}/pulls/\d+/merge", "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"),
            (
                r"POST /app/installations/\d+/access_tokens",
                "POST /app/installations/{installation_id}/access_tokens",
            ),
        ]
        return next((op for pattern, op in patterns if re.fullmatch(pattern, key)), None)

    def _dispatch(self, method: str, path: str, raw: str, is_graphql: bool) -> tuple[int, Any, str | None]:
        gh = self.gh
        payload = json.loads(raw) if raw else {}
        operation = self._operation(method, path)
        if path.startswith("/app/") or path.endswith("/installation"):
            if not self._app_jwt_ok():
                return 401, _error("A JSON web token could not be decoded", 401), None
        elif not self._token_ok():
            return 401, _error("Bad credentials", 401), None
        if is_graphql and method == "POST":
            query, variables = payload.get("query", ""), payload.get("variables")
            accept = self.headers.get("Accept", "")
            result = execute(gh.state, query, variables, gh.graphql_commit, accept)
            return 200, result, None
        if operation is None:
            return 404, _error("Not Found", 404), None

        return (*github_rest.handle(gh, operation, path, payload), operation)

    def _token_ok(self) -> bool:
        auth = self.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        return scheme.lower() in ("token", "bearer") and token in self.gh.tokens

    def _app_jwt_ok(self) -> bool:
        import jwt

        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or not self.gh.app_public_key:
            return False
        try:
            claims = jwt.decode(auth[7:], self.gh.app_public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            return False
        return str(claims.get("iss")) == str(self.gh.app_id)


def _error(message: str, status: int) -> dict[str, Any]:
    """GitHub's error body: message, documentation_url, and the status as a string."""
    return {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status)}


def new_app_key() -> tuple[str, str]:
    """A GitHub App's RSA key pair as PEM (private PKCS#8, public SPKI): what the App settings page gives
    the App, and what GitHub keeps to check the App's JWTs."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@contextmanager
def start_github(
    root: Path,
    files: dict[str, bytes],
    *,
    owner: str = "acme",
    name: str = "gitops",
    branch: str = "main",
    token: str | None = None,
) -> Iterator[GitHubServer]:
    """Run a loopback GitHub whose repository `owner/name` has `files` on `branch`; yields the server."""
    gh = GitHubServer(root, owner, name, files, branch)
    gh.tokens.add(token or new_token())
    handler = type("Handler", (_Handler,), {"gh": gh})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    gh.httpd = httpd
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield gh
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
