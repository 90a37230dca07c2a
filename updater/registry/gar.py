"""Google Artifact Registry through its own API (`google-cloud-artifact-registry`, REST transport).

One `list_docker_images` page carries up to 1,000 images with their tags, digest and upload time, so
`newest` and `digest` cost one request per page instead of one manifest and config blob per tag.
The build time is the upload time: reproducible builders stamp configs with 1970, while the upload
time is when CI pushed. Credentials are Application Default Credentials; for tests and private
endpoints `UPDATER_ARTIFACT_REGISTRY_ENDPOINT` points the client elsewhere (anonymous on loopback).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from updater.domain.imageref import ImageRef
from updater.infra import retry
from updater.infra.errors import InputError, RemoteError
from updater.registry.base import RegistryOptions, TagInfo

T = TypeVar("T")
ENDPOINT_ENV = "UPDATER_ARTIFACT_REGISTRY_ENDPOINT"
_SUFFIX = "-docker.pkg.dev"
_PAGE_SIZE = 1000  # the API's maximum
_TIMEOUT = 30.0


def _timeout() -> float:
    """Seconds one API call may take: 30, or less when the run's retry budget has less left."""
    return retry.timeout(read=_TIMEOUT)[1]


_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _why(exc: Any) -> str:
    """Return "CODE message" without the request URL the REST transport puts in front."""
    message = str(exc.message)
    if message.split(" ", 1)[0] in ("GET", "POST", "PUT", "PATCH", "DELETE") and ": " in message:
        message = message.split(": ", 1)[1]
    return f"{exc.code} {message}"


def _timestamp(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


class GarRegistry:
    """One image of an Artifact Registry Docker repository; `requests` counts API calls."""

    def __init__(self, ref: ImageRef, options: RegistryOptions) -> None:
        host, parts = ref.registry, ref.repository.split("/")
        if not host.endswith(_SUFFIX) or len(parts) < 3:
            raise InputError(
                f"{ref.name}: the Artifact Registry API needs "
                "LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE; use --api oci for other registries"
            )
        project, repository, package = parts[0], parts[1], "/".join(parts[2:])
        self.name = ref.name
        self.requests = 0
        self.parent = f"projects/{project}/locations/{host[: -len(_SUFFIX)]}/repositories/{repository}"
        # Resource names hold the package as one segment: "a/b" is written "a%2Fb".
        self.package = f"{self.parent}/packages/{quote(package, safe='')}"
        self._image_name = f"{self.parent}/dockerImages/{quote(package, safe='')}"
        self._uri_prefix = f"{host}/{project}/{repository}/{package}@"
        self._created: dict[str, datetime | None] = {}
        self._client: Any = None

    def client(self) -> Any:
        """Return the API client, created on first use (the library is heavy to import)."""
        if self._client is None:
            from google.api_core.client_options import ClientOptions
            from google.auth import exceptions as auth_exceptions
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import artifactregistry_v1

            endpoint = os.environ.get(ENDPOINT_ENV)
            credentials = None
            client_options = None
            if endpoint:
                client_options = ClientOptions(api_endpoint=endpoint)
                if urlsplit(endpoint if "//" in endpoint else f"//{endpoint}").hostname in _LOOPBACK:
                    credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            try:
                self._client = artifactregistry_v1.ArtifactRegistryClient(
                    credentials=credentials, transport="rest", client_options=client_options
                )
            except auth_exceptions.DefaultCredentialsError:
                raise InputError(
                    f"{self.name}: no Google credentials for the Artifact Registry API: run "
                    "`gcloud auth application-default login` or set GOOGLE_APPLICATION_CREDENTIALS"
                ) from None
        return self._client

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Return fn() under the retry policy; NotFound propagates, other failures become RemoteError."""
        import requests
        from google.api_core import exceptions as api

        transient = (
            api.TooManyRequests,
            api.InternalServerError,
            api.BadGateway,
            api.ServiceUnavailable,
            api.GatewayTimeout,
            api.DeadlineExceeded,
        )

        def once() -> T:
            self.requests += 1
            try:
                return fn()
            except transient as exc:
                response = getattr(exc, "response", None)
                after = retry.parse_retry_after(
                    response.headers.get("Retry-After") if response is not None else None
                )
                raise retry.Transient(_why(exc), after) from None
            except requests.RequestException as exc:
                raise retry.Transient(f"connection failed: {type(exc).__name__}") from None

        try:
            return retry.call(once)
        except retry.Transient as exc:
            raise RemoteError(f"{self.name}: Artifact Registry {what} failed after retries: {exc}") from None
        except (api.PermissionDenied, api.Unauthenticated, api.Forbidden, api.Unauthorized) as exc:
            raise RemoteError(
                f"{self.name}: Artifact Registry {what} refused ({_why(exc)}): the credentials "
                "need roles/artifactregistry.reader on the repository"
            ) from None
        except api.NotFound:
            raise
        except api.GoogleAPICallError as exc:
            raise RemoteError(f"{self.name}: Artifact Registry {what} failed: {_why(exc)}") from None

    def list_tags(self) -> list[TagInfo]:
        """Return every tag of this image with digest and upload time, from the repository's image pages."""
        from google.api_core import exceptions as api

        client, token, tags = self.client(), "", dict[str, TagInfo]()

        def list_page(token: str) -> Any:
            request = {"parent": self.parent, "page_size": _PAGE_SIZE, "page_token": token}
            return client.list_docker_images(request=request, retry=None, timeout=_timeout())

        while True:
            try:
                page = self._call("list images", functools.partial(list_page, token))
            except api.NotFound:
                raise InputError(
                    f"{self.name}: Artifact Registry repository {self.parent} not found: check the project, "
                    "location and repository in the image name"
                ) from None
            for image in page.docker_images:
                if not image.uri.startswith(self._uri_prefix):
                    continue  # another image of the same repository
                digest, created = image.uri[len(self._uri_prefix) :], _timestamp(image.upload_time)
                self._created[digest] = created
                for tag in image.tags:
                    tags[tag] = TagInfo(tag, digest, created)
            token = page.next_page_token
            if not token:
                return sorted(tags.values(), key=lambda info: info.tag)

    def digest(self, tag: str, *, read_manifest: bool = False) -> str | None:
        """Return the digest of the tag's version (one get_tag call), or None when it does not exist."""
        from google.api_core import exceptions as api

        client = self.client()
        name = f"{self.package}/tags/{quote(tag, safe='')}"
        try:
            found = self._call("get tag", lambda: client.get_tag(name=name, retry=None, timeout=_timeout()))
        except api.NotFound:
            return None
        version = str(found.version)
        return version.rsplit("/versions/", 1)[1] if "/versions/" in version else None

    def created(self, digest: str) -> datetime | None:
        """Return the upload time of the image (free after list_tags, else one get_docker_image call)."""
        from google.api_core import exceptions as api

        if digest not in self._created:
            client = self.client()
            name = f"{self._image_name}@{digest}"
            try:
                image = self._call(
                    "get image", lambda: client.get_docker_image(name=name, retry=None, timeout=_timeout())
                )
            except api.NotFound:
                return None
            self._created[digest] = _timestamp(image.upload_time)
        return self._created[digest]
