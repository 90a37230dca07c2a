"""A registry that speaks the OCI distribution API (Docker Hub, GHCR, Artifact Registry, distribution).

The fewest requests the API allows: tags come in pages of up to 1000 following the `Link` header as
given (absolute or relative, with whatever opaque parameters the registry put there); a tag's digest
costs one HEAD (GET only when the registry does not send `Docker-Content-Digest`); a build time costs
the manifest (plus the platform's manifest for an index) and its config blob, each fetched once per
run and checked against its digest. Every answer is size-capped (`bounded`) and shape-checked
(`shapes`); a malformed one ends the run with one line naming the registry (exit 1).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from updater.domain.imageref import ImageRef
from updater.infra.errors import InputError, RemoteError
from updater.registry import auth, bounded, shapes
from updater.registry.base import RegistryOptions, RepositoryNotFound, TagInfo
from updater.registry.bounded import Answer
from updater.registry.http import Transport
from updater.registry.shapes import DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST

MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST))
PAGE_SIZE = 1000
_MAX_PAGES = 100_000
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?', re.IGNORECASE)
_TIME = re.compile(r"(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d+))?\s*(Z|z|[+-]\d\d:?\d\d)?")


def next_link(header: str | None) -> str | None:
    """Return the target of the rel="next" link in a `Link` header, or None."""
    if not header:
        return None
    match = _LINK_NEXT.search(header)
    return match.group(1) if match else None


def parse_time(text: object) -> datetime | None:
    """Return an aware datetime for an RFC 3339 time (nanoseconds allowed), or None when unparseable."""
    if not isinstance(text, str):
        return None
    match = _TIME.fullmatch(text.strip())
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}").replace(microsecond=micro)
    except ValueError:
        return None
    offset = timedelta()
    if zone and zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment.replace(tzinfo=timezone(offset)).astimezone(timezone.utc)


def pick_platform(index: dict[str, Any], platform: str) -> dict[str, Any] | None:
    """Return the index entry for `os/arch[/variant]`; arm64 matches arm64/v8 both ways."""
    os_name, _, rest = platform.partition("/")
    arch, _, variant = rest.partition("/")
    candidates = [
        dict(entry)
        for entry in index.get("manifests") or []
        if (entry.get("platform") or {}).get("os") == os_name
        and (entry.get("platform") or {}).get("architecture") == arch
    ]

    def variant_of(entry: dict[str, Any]) -> str:
        found = str(entry["platform"].get("variant") or "")
        return found or ("v8" if arch == "arm64" else "")

    if variant:
        exact = [entry for entry in candidates if variant_of(entry) == variant]
        return exact[0] if exact else None
    plain = [entry for entry in candidates if not entry["platform"].get("variant")]
    chosen = plain or candidates
    return chosen[0] if chosen else None


class OciRegistry:
    """One repository on a distribution-API registry; implements updater.registry.base.Registry."""

    def __init__(self, ref: ImageRef, options: RegistryOptions) -> None:
        if ref.layout is not None:
            raise InputError(f"{ref.name} is an OCI layout directory, not a registry image")
        self.ref = ref
        self.name = ref.name
        self.options = options
        self._http = Transport(
            ref.api_host,
            ref.registry,
            options.insecure_hosts,
            lambda: auth.credentials_for(ref.registry, options),
        )
        self._scope = f"repository:{ref.repository}:pull"
        self._path = f"/v2/{ref.repository}"
        self._digests: dict[str, str | None] = {}
        self._manifests: dict[str, dict[str, Any]] = {}
        self._created: dict[str, datetime | None] = {}

    @property
    def requests(self) -> int:
        """Registry requests that were not part of the auth dance (what the budgets count)."""
        return self._http.counts.registry

    @requests.setter
    def requests(self, value: int) -> None:
        self._http.counts.registry = value

    @property
    def auth_requests(self) -> int:
        """401 challenges answered and token requests made."""
        return self._http.counts.auth

    def forget(self) -> None:
        """Drop remembered tag -> digest answers, so that a --wait poll asks the registry again."""
        self._digests.clear()

    # --- tags -----------------------------------------------------------------------------------

    def list_tags(self) -> list[TagInfo]:
        """Return every tag of the repository, following `Link: <...>; rel="next"` to the last page.

        Raises RepositoryNotFound when the registry answers 404 (the spec's NAME_UNKNOWN).
        """
        url = f"{self._http.base}{quote(self._path)}/tags/list?n={PAGE_SIZE}"
        seen_urls: set[str] = set()
        tags: dict[str, None] = {}
        for _ in range(_MAX_PAGES):
            seen_urls.add(url)
            response = self._http.get(
                url, accept="application/json", scope=self._scope, limit=bounded.TAGS_PAGE_LIMIT
            )
            if response.status_code == 404:
                raise RepositoryNotFound(
                    f"{self.name} does not exist (registry {self.ref.registry} answered HTTP 404 to the "
                    "tags list): check the image name"
                )
            self._expect_ok(response.status_code, "list tags")
            with self._malformed():
                page = shapes.tags_page(shapes.load_json(response.content, "the tags list"))
            tags.update((tag, None) for tag in page)
            link = next_link(response.headers.get("Link"))
            if link is None:
                return [TagInfo(tag) for tag in tags]
            following = urljoin(url, link)
            if urlsplit(following).netloc != urlsplit(url).netloc:
                other = urlsplit(following).netloc
                raise RemoteError(f"registry {self.ref.registry}: tags list links to another host ({other})")
            if following in seen_urls:
                raise RemoteError(f"registry {self.ref.registry}: tags list pagination loops at {link}")
            url = following
        raise RemoteError(f"registry {self.ref.registry}: more than {_MAX_PAGES} pages of tags")

    # --- digests --------------------------------------------------------------------------------

    def digest(self, tag: str, *, read_manifest: bool = False) -> str | None:
        """Return the digest `tag` points to (one HEAD), or None when the tag does not exist.

        With `read_manifest` the manifest is fetched instead (one GET, which carries the digest), so a
        build time read next costs no second request for it.
        """
        if read_manifest:
            return self.manifest_by_tag(tag)
        if tag in self._digests:
            return self._digests[tag]
        url = self._manifest_url(tag)
        response = self._http.get(url, accept=MANIFEST_ACCEPT, scope=self._scope, head=True)
        found: str | None
        header = response.headers.get("Docker-Content-Digest")
        if response.status_code == 404:
            found = None
        elif response.status_code == 200 and header is not None:
            with self._malformed():
                found = shapes.digest(header, f"the Docker-Content-Digest of {tag}")
        else:
            # Some registries refuse HEAD or omit the digest header: GET and hash the bytes.
            found = self.manifest_by_tag(tag)
        self._digests[tag] = found
        return found

    def manifest_by_tag(self, tag: str) -> str | None:
        """Return the digest of `tag` by GETting its manifest (kept for `created`), or None when missing.

        One request where HEAD + GET would be two: the answer carries the digest, verified against the
        bytes as the spec requires of a client that uses the header.
        """
        if self._digests.get(tag) is not None and self._digests[tag] in self._manifests:
            return self._digests[tag]
        got = self._http.get(self._manifest_url(tag), accept=MANIFEST_ACCEPT, scope=self._scope)
        if got.status_code == 404:
            self._digests[tag] = None
            return None
        self._expect_ok(got.status_code, f"get manifest {tag}")
        header = got.headers.get("Docker-Content-Digest")
        if header is None:
            found = shapes.content_digest(got.content, "sha256")
        else:
            with self._malformed():
                found = shapes.digest(header, f"the Docker-Content-Digest of {tag}")
        assert found is not None
        self._manifests[found] = self._manifest_body(got, found)
        self._digests[tag] = found
        return found

    # --- build time -----------------------------------------------------------------------------

    def created(self, digest: str) -> datetime | None:
        """Return the config blob's `created` time (for an index: the selected platform's image)."""
        if digest in self._created:
            return self._created[digest]
        manifest = self._manifest(digest)
        if shapes.is_index(manifest):
            entry = pick_platform(manifest, self.options.platform)
            if entry is None:
                available = sorted(
                    "/".join(p for p in (plat.get("os"), plat.get("architecture"), plat.get("variant")) if p)
                    for plat in (e.get("platform") or {} for e in manifest["manifests"])
                )
                raise InputError(
                    f"{self.name}@{digest} has no {self.options.platform} image (it has: "
                    f"{', '.join(available) or 'none'}): pass --platform"
                )
            manifest = self._manifest(str(entry["digest"]))
            if shapes.is_index(manifest):
                raise RemoteError(f"registry {self.ref.registry}: {entry['digest']} is an index in an index")
        config_digest = manifest["config"]["digest"]
        response = self._http.get(
            f"{self._http.base}{quote(self._path)}/blobs/{config_digest}",
            scope=self._scope,
            limit=bounded.CONFIG_LIMIT,
        )
        self._expect_ok(response.status_code, f"get config blob {config_digest}")
        with self._malformed():
            config = shapes.config(
                self._verified_json(response.content, config_digest), f"blob {config_digest}"
            )
        when = parse_time(config.get("created"))
        self._created[digest] = when
        return when

    def _manifest(self, digest: str) -> dict[str, Any]:
        if digest not in self._manifests:
            response = self._http.get(self._manifest_url(digest), accept=MANIFEST_ACCEPT, scope=self._scope)
            self._expect_ok(response.status_code, f"get manifest {digest}")
            self._manifests[digest] = self._manifest_body(response, digest)
        return self._manifests[digest]

    def _manifest_body(self, response: Answer, digest: str) -> dict[str, Any]:
        """Return the manifest in `response`, checked against `digest` and the manifest shapes."""
        with self._malformed():
            value = self._verified_json(response.content, digest)
            return shapes.manifest(value, response.headers.get("Content-Type"), digest)

    def _verified_json(self, content: bytes, digest: str) -> Any:
        """Parse JSON content, refusing bytes that do not match the digest they were fetched by."""
        algorithm = digest.partition(":")[0]
        actual = shapes.content_digest(content, algorithm)
        if actual is not None and actual != digest:
            raise RemoteError(f"registry {self.ref.registry}: content of {digest} does not match its digest")
        return shapes.load_json(content, digest)

    @contextlib.contextmanager
    def _malformed(self) -> Iterator[None]:
        """Turn a Malformed answer into one line naming the registry (exit 1)."""
        try:
            yield
        except shapes.Malformed as exc:
            raise RemoteError(f"registry {self.ref.registry}: malformed answer: {exc}") from None

    def _manifest_url(self, reference: str) -> str:
        return f"{self._http.base}{quote(self._path)}/manifests/{quote(reference, safe=':')}"

    def _expect_ok(self, status: int, what: str) -> None:
        if status != 200:
            raise RemoteError(f"registry {self.ref.registry}: {what} failed (HTTP {status})")
