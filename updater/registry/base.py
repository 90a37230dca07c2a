"""The contract every registry client (oci, gar, layout) implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from updater.infra.errors import InputError


@dataclass(frozen=True)
class TagInfo:
    """A tag; `digest` and `created` are filled when the listing itself gives them (Artifact Registry)."""

    tag: str
    digest: str | None = None
    created: datetime | None = None


class RepositoryNotFound(InputError):
    """The repository does not exist (yet): like a missing tag, "not yet" while waiting, else exit 2."""


@dataclass(frozen=True)
class RegistryOptions:
    insecure_hosts: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = None
    platform: str = "linux/amd64"
    api: str = "auto"  # auto | oci | artifact-registry
    docker_config: str | None = None  # directory holding config.json; default $DOCKER_CONFIG or ~/.docker


class Registry(Protocol):
    """One image repository in one registry."""

    name: str  # how messages name it, e.g. "127.0.0.1:5000/app"
    requests: int  # requests made so far (HTTP or API), for --json and the tests' budgets

    def list_tags(self) -> list[TagInfo]:
        """Return every tag of the repository (all pages)."""
        ...

    def digest(self, tag: str, *, read_manifest: bool = False) -> str | None:
        """Return the manifest digest the tag points to, or None when the tag does not exist.

        `read_manifest`: the caller reads the image's build time next; a registry that can answer both
        with one request (a manifest GET by tag carries the digest) fetches the manifest now.
        """
        ...

    def created(self, digest: str) -> datetime | None:
        """Return the image's build time (config blob `created`, for the selected platform)."""
        ...
