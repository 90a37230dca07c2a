"""Start Debian's real `docker-registry` (CNCF distribution 2.8) on 127.0.0.1 and push images to it.

Images are pushed over plain HTTP from Python with the distribution API itself (blob upload POST + PUT,
manifest PUT), independently of updater's own client, so the client is tested against what a real
registry stores. `auth` is None (anonymous), "htpasswd" (bcrypt Basic) or "token" (a loopback token
server from testing/token_server.py signs the JWTs the registry's `auth.token` config verifies).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import requests

from testing.token_server import TokenServer, start_token_server

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


@dataclass
class RunningRegistry:
    """A registry process on 127.0.0.1; `username`/`password` are set when it requires auth."""

    host: str
    url: str
    workdir: Path
    process: subprocess.Popen[bytes]
    auth: str | None = None
    username: str | None = None
    password: str | None = None
    token_server: TokenServer | None = None

    @property
    def credentials(self) -> tuple[str, str] | None:
        if self.username is None or self.password is None:
            return None
        return (self.username, self.password)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.token_server is not None:
            self.token_server.stop()

    def __enter__(self) -> RunningRegistry:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _htpasswd_line(username: str, password: str) -> str:
    # apache2-utils' htpasswd writes the bcrypt hash distribution checks; cost 4 keeps tests fast.
    out = subprocess.run(
        ["htpasswd", "-nbB", "-C", "4", username, password], check=True, capture_output=True, text=True
    )
    return out.stdout.strip() + "\n"


def _config(workdir: Path, port: int, auth_block: str, identity: str, tls: str, storage: Path) -> Path:
    text = f"""version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:{port}
  secret: {secrets.token_hex(16)}
  headers:
    X-Updater-Registry: [{identity}]
{tls}{auth_block}"""
    path = workdir / "config.yml"
    path.write_text(text)
    return path


def start_registry(
    workdir: Path,
    auth: str | None = None,
    *,
    token_field: str = "token",
    token_service: str | None = None,
    allow_anonymous: bool = False,
    tls: tuple[Path, Path] | None = None,
    storage: Path | None = None,
) -> RunningRegistry:
    """Start `docker-registry serve` on a free loopback port and return it once /v2/ answers.

    `tls` (certificate, key) serves https instead of http; `storage` serves the images another
    registry holds (its `workdir / "data"`), e.g. a TLS registry for images pushed over plain http.
    """
    if shutil.which("docker-registry") is None:
        raise RuntimeError("docker-registry is not installed: run `make registry-bin` (Debian package)")
    workdir.mkdir(parents=True, exist_ok=True)
    username = password = None
    token_server = None
    auth_block = ""
    if auth == "htpasswd":
        username, password = "alice", "pw-" + secrets.token_hex(12)
        (workdir / "htpasswd").write_text(_htpasswd_line(username, password))
        auth_block = f"auth:\n  htpasswd:\n    realm: updater-test\n    path: {workdir / 'htpasswd'}\n"
    elif auth == "token":
        extra = {"service": token_service} if token_service else {}
        token_server = start_token_server(
            workdir / "token", field_name=token_field, allow_anonymous=allow_anonymous, **extra
        )
        username, password = token_server.username, token_server.password
        auth_block = (
            "auth:\n  token:\n"
            f"    realm: {token_server.realm}\n"
            f"    service: {token_server.service}\n"
            f"    issuer: {token_server.issuer}\n"
            f"    rootcertbundle: {token_server.cert_path}\n"
        )
    elif auth is not None:
        raise ValueError(f"auth must be None, 'htpasswd' or 'token', not {auth!r}")

    last_error = ""
    for _ in range(5):  # another test may grab the free port between our probe and the bind
        port = _free_port()
        # A header only this process sends: a stray registry that won the port race is not ours.
        identity = secrets.token_hex(8)
        tls_block = f"  tls:\n    certificate: {tls[0]}\n    key: {tls[1]}\n" if tls else ""
        config = _config(workdir, port, auth_block, identity, tls_block, storage or workdir / "data")
        log = open(workdir / "registry.log", "ab")  # noqa: SIM115 - handed to the child process
        process = subprocess.Popen(
            ["docker-registry", "serve", str(config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and process.poll() is None:
            try:
                # A TLS registry's certificate may name another host: only its header is checked.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # InsecureRequestWarning: known, see above
                    probe = requests.get(f"{url}/v2/", timeout=1, verify=False)
            except requests.RequestException:
                time.sleep(0.05)
                continue
            if probe.headers.get("X-Updater-Registry") != identity:
                break
            if probe.status_code in (200, 401):
                return RunningRegistry(
                    host=f"127.0.0.1:{port}",
                    url=url,
                    workdir=workdir,
                    process=process,
                    auth=auth,
                    username=username,
                    password=password,
                    token_server=token_server,
                )
        process.kill()
        process.wait()
        last_error = (workdir / "registry.log").read_text(errors="replace")[-2000:]
    if token_server is not None:
        token_server.stop()
    raise RuntimeError(f"docker-registry did not start: {last_error}")


# --- pushing -------------------------------------------------------------------------------------


class _Client:
    """Just enough of the distribution API to push: Basic, or Bearer after a 401 challenge."""

    def __init__(self, base: str, repository: str, auth: tuple[str, str] | None) -> None:
        self.base = base
        self.repository = repository
        self.auth = auth
        self.bearer: str | None = None
        self.local = threading.local()

    @property
    def session(self) -> requests.Session:
        session: requests.Session | None = getattr(self.local, "session", None)
        if session is None:
            session = requests.Session()
            self.local.session = session
        return session

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        url = urljoin(self.base, url)
        for _ in range(2):
            headers = dict(kwargs.pop("headers", None) or {})
            if self.bearer:
                headers["Authorization"] = f"Bearer {self.bearer}"
            auth = self.auth if self.bearer is None else None
            response = self.session.request(method, url, headers=headers, auth=auth, timeout=30, **kwargs)
            kwargs["headers"] = headers
            challenge = response.headers.get("WWW-Authenticate", "")
            if response.status_code == 401 and challenge.startswith("Bearer ") and self.auth:
                self.bearer = self._token(challenge)
                continue
            return response
        return response

    def _token(self, challenge: str) -> str:
        params = dict(
            part.split("=", 1)
            for part in challenge[len("Bearer ") :].replace('"', "").split(",")
            if "=" in part
        )
        query = {"service": params.get("service", ""), "scope": f"repository:{self.repository}:pull,push"}
        response = requests.get(params["realm"], params=query, auth=self.auth, timeout=30)
        response.raise_for_status()
        body = response.json()
        token: str = body.get("token") or body["access_token"]
        return token

    def put_blob(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = f"/v2/{self.repository}/blobs/{digest}"
        if self.request("HEAD", path).status_code == 200:
            return digest
        started = self.request("POST", f"/v2/{self.repository}/blobs/uploads/")
        _check(started, 202)
        location = urljoin(self.base, started.headers["Location"])
        sep = "&" if "?" in location else "?"
        done = self.request(
            "PUT",
            f"{location}{sep}digest={digest}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        _check(done, 201)
        return digest

    def put_manifest(self, reference: str, body: bytes, media_type: str) -> str:
        response = self.request(
            "PUT",
            f"/v2/{self.repository}/manifests/{reference}",
            data=body,
            headers={"Content-Type": media_type},
        )
        _check(response, 201)
        return "sha256:" + hashlib.sha256(body).hexdigest()


def _check(response: requests.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.url}: HTTP {response.status_code}: {response.text[:300]}"
        )


def _layer(seed: str) -> tuple[bytes, str]:
    """A real (tiny) gzipped tar layer and its diff_id."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        content = seed.encode()
        info = tarfile.TarInfo("etc/updater-test")
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), "sha256:" + hashlib.sha256(tar_bytes).hexdigest()


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _single(
    client: _Client, created: datetime, platform: str, seed: str, docker: bool
) -> tuple[bytes, str, dict[str, Any]]:
    """Push one image's blobs; return (manifest bytes, media type, platform dict)."""
    os_name, arch, *variant = platform.split("/")
    layer, diff_id = _layer(seed)
    config: dict[str, Any] = {
        "created": _iso(created),
        "architecture": arch,
        "os": os_name,
        "config": {"Labels": {"org.opencontainers.image.revision": seed}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    }
    if variant:
        config["variant"] = variant[0]
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_digest = client.put_blob(config_bytes)
    layer_digest = client.put_blob(layer)
    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": {
            "mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
            "digest": config_digest,
            "size": len(config_bytes),
        },
        "layers": [
            {"mediaType": DOCKER_LAYER if docker else OCI_LAYER, "digest": layer_digest, "size": len(layer)}
        ],
    }
    plat: dict[str, Any] = {"architecture": arch, "os": os_name}
    if variant:
        plat["variant"] = variant[0]
    return json.dumps(manifest, indent=2).encode(), str(manifest["mediaType"]), plat


def push_image(
    url_or_host: str,
    repository: str,
    tags: list[str],
    *,
    created: datetime,
    platforms: list[str] | None = None,
    auth: tuple[str, str] | None = None,
    docker: bool = False,
    seed: str | None = None,
    workers: int = 8,
) -> str:
    """Push an image under every tag and return its manifest (or index) digest.

    `platforms` pushes a multi-arch index (OCI, or a Docker manifest list when `docker`) whose i-th
    platform's config says `created + i minutes`. `seed` makes the content (and so the digest) unique;
    by default it is derived from repository and created time. Many tags are PUT in parallel.
    """
    base = url_or_host if "://" in url_or_host else f"http://{url_or_host}"
    client = _Client(base, repository, auth)
    seed = seed or f"{repository}@{_iso(created)}"
    if not platforms:
        body, media_type, _ = _single(client, created, "linux/amd64", seed, docker)
    else:
        entries = []
        for i, platform in enumerate(platforms):
            child, child_type, plat = _single(client, created + timedelta(minutes=i), platform, seed, docker)
            digest = client.put_manifest("sha256:" + hashlib.sha256(child).hexdigest(), child, child_type)
            entries.append({"mediaType": child_type, "digest": digest, "size": len(child), "platform": plat})
        media_type = DOCKER_LIST if docker else OCI_INDEX
        body = json.dumps(
            {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}, indent=2
        ).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if not tags:
        return client.put_manifest(digest, body, media_type)
    client.put_manifest(tags[0], body, media_type)
    if len(tags) > 1:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            list(pool.map(lambda tag: client.put_manifest(tag, body, media_type), tags[1:]))
    return digest


BULK_REPOSITORY = "bulk/app"
BULK_TAGS = 10_000
_bulk: BulkRegistry | None = None


@dataclass(frozen=True)
class BulkRegistry:
    """A shared anonymous registry whose `repository` really holds `tags` (10,000), all on `digest`."""

    registry: RunningRegistry
    repository: str
    tags: tuple[str, ...]
    digest: str
    created: datetime


def bulk_registry() -> BulkRegistry:
    """Return the process-wide 10,000-tag registry, pushing it on first use (~20 s) and stopping it at exit.

    Tags are `build-0000` ... `build-9999` on one image (created 2026-01-01T00:00:00Z), each PUT
    through the real API. Tests may push more images into other repositories of the same registry.
    """
    global _bulk
    if _bulk is None:
        import atexit
        import tempfile

        # tmpfs when there is one: 10,000 tags are ~60,000 small files to write and later delete.
        shm = Path("/dev/shm")
        parent = str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None
        workdir = Path(tempfile.mkdtemp(prefix="updater-bulk-registry-", dir=parent))
        running = start_registry(workdir)
        atexit.register(shutil.rmtree, workdir, True)
        atexit.register(running.stop)
        created = datetime(2026, 1, 1, tzinfo=timezone.utc)
        tags = tuple(iter_tags("build-", BULK_TAGS))
        digest = push_image(running.url, BULK_REPOSITORY, list(tags), created=created)
        _bulk = BulkRegistry(running, BULK_REPOSITORY, tags, digest, created)
    return _bulk


def iter_tags(prefix: str, count: int) -> Iterator[str]:
    """Tags `prefix0000`, `prefix0001`, ... (zero-padded so lexical order is numeric order)."""
    width = max(4, len(str(count - 1)))
    for i in range(count):
        yield f"{prefix}{i:0{width}d}"


__all__ = [
    "DOCKER_LIST",
    "DOCKER_MANIFEST",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "BulkRegistry",
    "RunningRegistry",
    "bulk_registry",
    "iter_tags",
    "push_image",
    "start_registry",
]
