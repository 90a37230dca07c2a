"""Parse and format image references (`registry/repository:tag@digest`) with Docker's rules.

Docker normalises short names: `nginx` is `docker.io/library/nginx`, whose API lives at
`registry-1.docker.io`. A first path component is a registry only when it looks like a host (has a
`.` or a `:`, or is `localhost`); otherwise it is part of a Docker Hub repository. `oci:PATH[:TAG]`
names an OCI image layout directory instead of a registry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from updater.domain.grammar import TAG_GRAMMAR
from updater.infra.errors import InputError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})

# The grammar of github.com/distribution/reference, written out once.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_HOST_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_RE = re.compile(rf"(?:{_HOST_LABEL}(?:\.{_HOST_LABEL})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?")
_TAG_RE = TAG_GRAMMAR
_DIGEST_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_MAX_NAME = 255
_MAX_PORT = 65535


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference; `registry` is "" and `layout` a path for an OCI layout directory."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None
    layout: str | None = None

    @property
    def api_host(self) -> str:
        """The host that serves the distribution API (Docker Hub's differs from its name)."""
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def name(self) -> str:
        """The image without tag or digest, fully qualified (`oci:PATH` for a layout)."""
        if self.layout is not None:
            return f"oci:{self.layout}"
        return f"{self.registry}/{self.repository}"

    def with_tag(self, tag: str) -> ImageRef:
        """The same image at another tag (any digest is dropped: it belonged to the old tag)."""
        if not _TAG_RE.fullmatch(tag):
            raise InputError(f"invalid tag {tag!r}: use letters, digits, '_', '.' and '-' (at most 128)")
        return replace(self, tag=tag, digest=None)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse(text: str) -> ImageRef:
    """Return the normalised reference for `text`; raise InputError saying what is wrong."""
    raw = text.strip()
    if not raw:
        raise InputError("empty image reference: give e.g. 'nginx', 'ghcr.io/org/app:1.2' or 'oci:DIR'")
    if raw.startswith("oci:"):
        return _parse_layout(raw)

    rest, digest = _split_digest(raw)
    domain, remainder = _split_domain(rest)
    tag = None
    colon = remainder.rfind(":")
    if colon != -1:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise InputError(f"invalid tag {tag!r} in image {text!r}: use letters, digits, '_', '.' and '-'")

    if domain in _HUB_ALIASES:
        domain = DOCKER_HUB
        if "/" not in remainder:
            remainder = f"library/{remainder}"
    if not _DOMAIN_RE.fullmatch(domain):
        raise InputError(f"invalid registry host {domain!r} in image {text!r}")
    _check_port(domain, text)
    if remainder != remainder.lower():
        raise InputError(f"invalid image {text!r}: repository names must be lowercase")
    if not _PATH_RE.fullmatch(remainder):
        raise InputError(
            f"invalid repository {remainder!r} in image {text!r}: use lowercase letters, digits and "
            "separators ('.', '_', '__', '-') between '/'"
        )
    if len(domain) + 1 + len(remainder) > _MAX_NAME:
        raise InputError(f"invalid image {text!r}: the name is longer than {_MAX_NAME} characters")
    return ImageRef(registry=domain, repository=remainder, tag=tag, digest=digest)


def _check_port(domain: str, text: str) -> None:
    """Refuse a port no TCP connection can use (0, or above 65535): a typo, not a network failure."""
    _, sep, port = domain.rpartition(":")  # "[::1]" leaves "1]", not digits
    if sep and port.isdigit() and not 1 <= int(port) <= _MAX_PORT:
        raise InputError(
            f"invalid port {port} in image {text!r}: a registry port is between 1 and {_MAX_PORT}"
        )


def _split_digest(raw: str) -> tuple[str, str | None]:
    if "@" not in raw:
        return raw, None
    rest, digest = raw.split("@", 1)
    if not _DIGEST_RE.fullmatch(digest):
        raise InputError(
            f"invalid digest {digest!r} in image {raw!r}: expected e.g. 'sha256:' + 64 hex digits"
        )
    algorithm, hex_part = digest.split(":", 1)
    if algorithm == "sha256" and len(hex_part) != 64:
        raise InputError(f"invalid digest {digest!r} in image {raw!r}: sha256 takes 64 hex digits")
    if not rest:
        raise InputError(f"invalid image {raw!r}: a digest needs a repository in front of it")
    return rest, digest.lower() if algorithm == "sha256" else digest


def _split_domain(rest: str) -> tuple[str, str]:
    """Split off the registry the way Docker does: only a host-like first component is one."""
    first, sep, remainder = rest.partition("/")
    if not sep:
        return DOCKER_HUB, rest
    if "." in first or ":" in first or first == "localhost" or first != first.lower():
        if first != first.lower() and "." not in first and ":" not in first:
            # Docker treats an upper-case first component as a host; say plainly what went wrong.
            raise InputError(f"invalid image {rest!r}: repository names must be lowercase")
        return first, remainder
    return DOCKER_HUB, rest


def _parse_layout(raw: str) -> ImageRef:
    body = raw[len("oci:") :]
    path, tag = body, None
    # oci:PATH:TAG as skopeo writes it; a path's own colons are kept when the suffix is not a tag.
    head, sep, tail = body.rpartition(":")
    if sep and head and _TAG_RE.fullmatch(tail) and "/" not in tail:
        path, tag = head, tail
    if not path:
        raise InputError(f"invalid image {raw!r}: 'oci:' needs the path of an OCI layout directory")
    return ImageRef(registry="", repository="", tag=tag, layout=path)
