"""A loopback server for the Artifact Registry v1 REST paths updater calls.

It follows the published v1 REST API (https://cloud.google.com/artifact-registry/docs/reference/rest):
`GET v1/{parent=projects/*/locations/*/repositories/*}/dockerImages` (pageSize, opaque pageToken),
`GET v1/{name=.../dockerImages/*}`, `GET v1/{parent=.../packages/*}/tags` and `GET v1/{name=.../tags/*}`,
with Google's JSON error body (`{"error": {"code", "message", "status"}}`). Responses are built with the
client library's own message types and `to_json`, so the real client parses exactly what it would
from Google. Tests point the real client at it with AnonymousCredentials and `api_endpoint`; the server
counts requests by method and can answer the next requests with injected faults.

Images added under a Container Registry host (`eu.gcr.io/PROJECT/IMAGE`) are stored as Artifact
Registry serves them in a "gcr.io repository": repository named after the host (`eu.gcr.io`) in the
matching multi-region (`gcr.io`, `us.gcr.io` -> us; `eu.gcr.io` -> europe; `asia.gcr.io` -> asia), per
https://cloud.google.com/artifact-registry/docs/transition/gcr-repositories ("gcr.io domain support");
their `uri` keeps the gcr.io host that users pull from.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from google.cloud.artifactregistry_v1 import types

_REPO = r"projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/repositories/(?P<repo>[^/]+)"
_ROUTES = [
    ("list_images", re.compile(rf"^/v1/{_REPO}/dockerImages$")),
    ("get_image", re.compile(rf"^/v1/{_REPO}/dockerImages/(?P<image>[^/]+)$")),
    ("list_tags", re.compile(rf"^/v1/{_REPO}/packages/(?P<package>[^/]+)/tags$")),
    ("get_tag", re.compile(rf"^/v1/{_REPO}/packages/(?P<package>[^/]+)/tags/(?P<tag>[^/]+)$")),
]
GCR_LOCATIONS = {"gcr.io": "us", "us.gcr.io": "us", "eu.gcr.io": "europe", "asia.gcr.io": "asia"}
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED"}


@dataclass
class StoredImage:
    location: str
    project: str
    repository: str
    package: str
    digest: str
    tags: list[str]
    upload_time: datetime
    build_time: datetime | None = None

    @property
    def repo_name(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/repositories/{self.repository}"

    def message(self) -> types.DockerImage:
        pkg = self.package.replace("/", "%2F")
        if self.repository in GCR_LOCATIONS:  # a gcr.io repository: pulled as HOST/PROJECT/IMAGE
            uri = f"{self.repository}/{self.project}/{self.package}@{self.digest}"
        else:
            host = f"{self.location}-docker.pkg.dev"
            uri = f"{host}/{self.project}/{self.repository}/{self.package}@{self.digest}"
        return types.DockerImage(
            name=f"{self.repo_name}/dockerImages/{pkg}@{self.digest}",
            uri=uri,
            tags=list(self.tags),
            image_size_bytes=1234,
            upload_time=self.upload_time,
            build_time=self.build_time,
            update_time=self.upload_time,
            media_type="application/vnd.oci.image.manifest.v1+json",
        )


@dataclass
class GarServer:
    """The running server: add images, read `counts`, queue `faults` ((status, retry_after) pairs)."""

    images: list[StoredImage] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    faults: list[tuple[int, int | None]] = field(default_factory=list)
    max_page: int = 1000  # the real API's cap; tests lower it to force pagination
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    httpd: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self.httpd is not None
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add_image(
        self,
        image: str,
        tags: list[str],
        upload_time: datetime,
        *,
        build_time: datetime | None = None,
        digest: str | None = None,
    ) -> str:
        """Store an image given as LOCATION-docker.pkg.dev/PROJECT/REPO/PACKAGE (or a gcr.io host's
        HOST/PROJECT/PACKAGE, in the host's gcr.io repository); return its digest.

        A tag already on another image of the package moves, as in Artifact Registry.
        """
        host = image.split("/", 1)[0]
        if host in GCR_LOCATIONS:
            _, project, package = image.split("/", 2)
            location, repository = GCR_LOCATIONS[host], host
        else:
            host, project, repository, package = image.split("/", 3)
            location = host.removesuffix("-docker.pkg.dev")
        digest = digest or "sha256:" + hashlib.sha256(f"{image}{tags}{upload_time}".encode()).hexdigest()
        with self.lock:
            for other in self.images:
                if (other.project, other.repository, other.package) == (project, repository, package):
                    other.tags = [t for t in other.tags if t not in tags]
            self.images.append(
                StoredImage(
                    location, project, repository, package, digest, list(tags), upload_time, build_time
                )
            )
        return digest

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()

    def __enter__(self) -> GarServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling -------------------------------------------------------------------------
    def handle(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, dict[str, str]]:
        found = [(method, m) for method, pattern in _ROUTES if (m := pattern.match(path))]
        if not found:
            return _error(404, f"no such method: {path}")
        method, m = found[0]
        with self.lock:
            self.counts[method] = self.counts.get(method, 0) + 1
            self.paths.append(path)
            if self.faults:
                status, after = self.faults.pop(0)
                headers = {"Retry-After": str(after)} if after is not None else {}
                return (*_error(status, "injected fault")[:2], headers)
            # The path is decoded once into the resource name, whose package segment is itself
            # percent-encoded ("team%2Fdocs"): decode that too to get the package.
            groups = {k: unquote(unquote(v)) for k, v in m.groupdict().items()}
            repo_images = [
                i
                for i in self.images
                if (i.project, i.location, i.repository)
                == (groups["project"], groups["location"], groups["repo"])
            ]
            if not repo_images and method == "list_images":
                return _error(404, f"Requested entity was not found: repository {groups['repo']}")
            return getattr(self, "_" + method)(groups, repo_images, query)

    def _page(self, items: list[Any], query: dict[str, list[str]]) -> tuple[list[Any], str]:
        size = min(int((query.get("pageSize") or ["0"])[0]) or 50, self.max_page)
        token = (query.get("pageToken") or [""])[0]
        start = int(base64.urlsafe_b64decode(token).decode().split(":")[1]) if token else 0
        end = start + size
        next_token = base64.urlsafe_b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
        return items[start:end], next_token

    def _list_images(self, g: dict[str, str], images: list[StoredImage], q: dict[str, list[str]]) -> Any:
        page, token = self._page(images, q)
        response = types.ListDockerImagesResponse(
            docker_images=[i.message() for i in page], next_page_token=token
        )
        return 200, types.ListDockerImagesResponse.to_json(response), {}

    def _get_image(self, g: dict[str, str], images: list[StoredImage], q: dict[str, list[str]]) -> Any:
        package, _, digest = g["image"].partition("@")
        for image in images:
            if (image.package, image.digest) == (package, digest):
                return 200, types.DockerImage.to_json(image.message()), {}
        return _error(404, f"Requested entity was not found: dockerImages/{g['image']}")

    def _tags(self, g: dict[str, str], images: list[StoredImage]) -> list[types.Tag]:
        base = f"projects/{g['project']}/locations/{g['location']}/repositories/{g['repo']}/packages/"
        pkg = g["package"].replace("/", "%2F")
        return [
            types.Tag(name=f"{base}{pkg}/tags/{tag}", version=f"{base}{pkg}/versions/{image.digest}")
            for image in images
            if image.package == g["package"]
            for tag in image.tags
        ]

    def _list_tags(self, g: dict[str, str], images: list[StoredImage], q: dict[str, list[str]]) -> Any:
        page, token = self._page(self._tags(g, images), q)
        return (
            200,
            types.ListTagsResponse.to_json(types.ListTagsResponse(tags=page, next_page_token=token)),
            {},
        )

    def _get_tag(self, g: dict[str, str], images: list[StoredImage], q: dict[str, list[str]]) -> Any:
        for tag in self._tags(g, images):
            if tag.name.rsplit("/", 1)[1] == g["tag"]:
                return 200, types.Tag.to_json(tag), {}
        return _error(404, f"Requested entity was not found: tags/{g['tag']}")


def _error(status: int, message: str) -> tuple[int, str, dict[str, str]]:
    body = {"error": {"code": status, "message": message, "status": _STATUS.get(status, "UNAVAILABLE")}}
    return status, json.dumps(body), {}


def start_gar_server() -> GarServer:
    """Start the server on 127.0.0.1 with a free port; stop it with .stop() or a `with` block."""
    server = GarServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            status, body, headers = server.handle(url.path, parse_qs(url.query))
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.httpd.serve_forever, daemon=True).start()
    return server
