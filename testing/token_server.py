"""A loopback token server for the registry's `auth.token` mode (the Docker token protocol).

The real registry verifies what this server signs: a fresh RSA key and a self-signed certificate are
generated per server, the certificate is the registry's `rootcertbundle`, and every JWT carries it in its
`x5c` header, signed RS256 with PyJWT. GET /token?service=&scope= (Basic credentials, or anonymous pull
when allowed) and POST /token (OAuth2 `password` or `refresh_token` grant, for identity tokens; the
`jwt-bearer` grant of Google service accounts when `assertion_key` is set) follow
https://distribution.github.io/distribution/spec/auth/token/ and .../auth/oauth/.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from testing.tls import ca_certificate


@dataclass
class TokenServer:
    """A running token server; `counts` tallies requests by kind ("get", "post", "denied")."""

    url: str
    service: str
    issuer: str
    cert_path: Path
    username: str
    password: str
    identity_token: str
    field_name: str = "token"  # "token", "access_token" or "both": which JSON field carries the JWT
    expires_in: int = 300
    allow_anonymous: bool = False
    # A public key whose RS256 JWT assertions (the jwt-bearer grant Google service accounts use) earn tokens.
    assertion_key: Any = None
    counts: Counter[str] = field(default_factory=Counter)
    issued: list[str] = field(default_factory=list)
    queries: list[dict[str, list[str]]] = field(default_factory=list)  # each GET's query: service, scope
    _key: Any = None
    _x5c: str = ""
    _server: ThreadingHTTPServer | None = None

    @property
    def realm(self) -> str:
        return f"{self.url}/token"

    def sign(self, subject: str, access: list[dict[str, Any]]) -> str:
        """Return a JWT the registry accepts for `access` (a list of {type, name, actions})."""
        now = dt.datetime.now(dt.timezone.utc)
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.service,
            "exp": now + dt.timedelta(seconds=self.expires_in),
            "nbf": now - dt.timedelta(seconds=5),
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        token = jwt.encode(claims, self._key, algorithm="RS256", headers={"x5c": [self._x5c]})
        self.issued.append(token)
        return token

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _parse_scopes(values: list[str]) -> list[dict[str, Any]]:
    access = []
    for value in values:
        for scope in value.split(" "):
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind and name:
                access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
    return access


def _handler(server: TokenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _grant(self, subject: str | None, scopes: list[str]) -> None:
            if subject is None:
                server.counts["denied"] += 1
                self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                return
            access = _parse_scopes(scopes)
            if subject == "anonymous":
                for entry in access:
                    entry["actions"] = [a for a in entry["actions"] if a == "pull"]
            token = server.sign(subject, access)
            body: dict[str, Any] = {"expires_in": server.expires_in, "issued_at": _now_iso()}
            if server.field_name in ("token", "both"):
                body["token"] = token
            if server.field_name in ("access_token", "both"):
                body["access_token"] = token
            self._reply(200, body)

        def do_GET(self) -> None:
            server.counts["get"] += 1
            query = parse_qs(urlsplit(self.path).query)
            server.queries.append(query)
            subject: str | None = None
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic "):
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                if user == server.username and password == server.password:
                    subject = user
            elif server.allow_anonymous:
                subject = "anonymous"
            self._grant(subject, query.get("scope", []))

        def do_POST(self) -> None:
            server.counts["post"] += 1
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            grant = form.get("grant_type", [""])[0]
            subject: str | None = None
            if (grant == "refresh_token" and form.get("refresh_token", [""])[0] == server.identity_token) or (
                grant == "password"
                and form.get("username", [""])[0] == server.username
                and form.get("password", [""])[0] == server.password
            ):
                subject = server.username
            elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer" and server.assertion_key is not None:
                subject = _assertion_subject(server, form.get("assertion", [""])[0])
            self._grant(subject, form.get("scope", []))

    return Handler


def _assertion_subject(server: TokenServer, assertion: str) -> str | None:
    """The issuer of a valid RS256 assertion signed by `server.assertion_key`, else None."""
    try:
        claims = jwt.decode(
            assertion,
            server.assertion_key,
            algorithms=["RS256"],
            # google-auth always addresses its assertion to Google's endpoint.
            audience=[f"{server.url}/token", "https://oauth2.googleapis.com/token"],
        )
    except jwt.PyJWTError:
        return None
    return str(claims.get("iss"))


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_and_cert(workdir: Path) -> tuple[Any, str, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = ca_certificate(key, "updater-test-token-issuer", dt.timedelta(days=30))
    cert_path = workdir / "token-cert.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    return key, x5c, cert_path


def start_token_server(
    workdir: Path,
    *,
    username: str = "tokenuser",
    password: str | None = None,
    service: str = "updater-test-registry",
    issuer: str = "updater-test-issuer",
    field_name: str = "token",
    expires_in: int = 300,
    allow_anonymous: bool = False,
) -> TokenServer:
    """Start a token server on 127.0.0.1 (a free port) in a daemon thread and return it."""
    workdir.mkdir(parents=True, exist_ok=True)
    key, x5c, cert_path = _key_and_cert(workdir)
    server = TokenServer(
        url="",
        service=service,
        issuer=issuer,
        cert_path=cert_path,
        username=username,
        password=password or "pw-" + secrets.token_hex(12),
        identity_token="idt-" + secrets.token_hex(16),
        field_name=field_name,
        expires_in=expires_in,
        allow_anonymous=allow_anonymous,
    )
    server._key, server._x5c = key, x5c
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    httpd.daemon_threads = True
    server._server = httpd
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, name="token-server", daemon=True).start()
    return server
