"""HTTP facts every network adapter shares: which answers are worth retrying, which hosts are loopback."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

# 429 and the 5xx a proxy or an overloaded server sends: safe to retry a GET after them.
RETRYABLE = frozenset({429, 500, 502, 503, 504})


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses, with or without a port."""
    name = urlsplit(f"//{host}").hostname or host
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
