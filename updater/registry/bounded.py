"""The bounds of one registry exchange, and how an exchange can end short of an answer.

Caps, from the OCI distribution spec (https://github.com/opencontainers/distribution-spec/blob/main/spec.md):
"Client and registry implementations SHOULD expect to be able to support manifest pushes of at least
4 megabytes" ("Pushing Manifests"), so a manifest may be 4 MiB and no more. A tags page holds at most
`n` tags of at most 128 characters; registries that ignore `n` send every tag at once, so a page may
be 16 MiB (over 100,000 tags of the longest kind). An image config is JSON the size of a manifest's
order (history, labels, environment): 8 MiB. A token answer is a few KB of JWT: 1 MiB.
The exchange itself is `updater.registry.transport.exchange`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

MIB = 1024 * 1024
MANIFEST_LIMIT = 4 * MIB
TAGS_PAGE_LIMIT = 16 * MIB
CONFIG_LIMIT = 8 * MIB
TOKEN_LIMIT = 1 * MIB
REQUEST_DEADLINE = 30.0  # seconds for one exchange, capped by what the run's retry budget has left
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: status, headers (case-insensitive), the whole body, the final URL."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes
    url: str


class TooSlow(Exception):
    """The exchange did not complete within its deadline (worth retrying: the peer may recover)."""


class Refused(Exception):
    """The answer breaks a bound (too large, too many or bad redirects): not worth repeating."""


class Failed(Exception):
    """The connection failed: `kind` is ConnectionError, SSLError, Timeout or ProxyError.

    Worth retrying, unless `permanent` says why not: a certificate no trusted CA signed (or for
    another name), or a proxy that refuses our credentials; a new attempt would meet the same answer.
    """

    def __init__(self, kind: str, permanent: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.permanent = permanent


def size(limit: int) -> str:
    """`limit` for a message: "4 MiB", or "1,500 bytes"."""
    return f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit:,} bytes"
