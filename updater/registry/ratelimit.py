"""Pull rate limits (Docker Hub's): tell a quota answer apart from a passing overload.

Docker Hub answers a pull over the quota with 429 and an error TOOMANYREQUESTS "You have reached
your pull rate limit" (the code alone is what the OCI spec gives every 429), with headers
`ratelimit-limit: 100;w=21600` and `ratelimit-remaining: 0;w=21600` (pulls per rolling window of w
seconds) and `docker-ratelimit-source` (the IP or account counted). Its overall anti-abuse limit is
a plain 429. Documented at https://docs.docker.com/docker-hub/usage/pulls/ ("View pull rate and
limit"). Retrying a spent quota only spends the retry budget, so it ends the run at once with what
to do; a plain 429 stays transient and is retried, honouring Retry-After.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

_QUOTA = re.compile(r"^\s*(\d+)\s*(?:;\s*w\s*=\s*(\d+))?")
_MAX_BODY = 4096


def _quota(value: str | None) -> tuple[int, int | None] | None:
    """Return (count, window seconds) from a `ratelimit-*` header such as `100;w=21600`."""
    m = _QUOTA.match(value or "")
    if not m:
        return None
    return int(m[1]), int(m[2]) if m[2] else None


def _says_pull_limit(body: str) -> bool:
    """True when an error message names the pull rate limit (TOOMANYREQUESTS alone is any 429's code)."""
    try:
        data = json.loads(body[:_MAX_BODY])
    except ValueError:
        return False
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return False
    return any(
        isinstance(e, dict) and "pull rate limit" in str(e.get("message", "")).lower() for e in errors[:10]
    )


def pull_limit_message(
    headers: Mapping[str, str],
    body: str,
    *,
    retry_after: float | None = None,
    now: datetime | None = None,
) -> str | None:
    """Return why a 429 is a pull quota, spent, with when it frees up and what to do; None otherwise."""
    remaining = _quota(headers.get("ratelimit-remaining") or headers.get("RateLimit-Remaining"))
    limit = _quota(headers.get("ratelimit-limit") or headers.get("RateLimit-Limit"))
    spent = remaining is not None and remaining[0] == 0
    if not spent and not _says_pull_limit(body):
        return None
    now = now or datetime.now(timezone.utc)
    window = (limit or remaining or (0, None))[1]
    if retry_after is not None:
        when = f"retry after {(now + timedelta(seconds=retry_after)):%H:%M} UTC"
    elif window:
        hours = f"{window / 3600:g} h" if window >= 3600 else f"{window} s"
        when = (
            f"the quota frees up over a rolling {hours} window, fully by "
            f"{(now + timedelta(seconds=window)):%H:%M} UTC"
        )
    else:
        when = "retry later"
    quota = f" ({limit[0]} pulls per {window or '?'} s)" if limit else ""
    return (
        f"pull rate limit reached{quota}: {when}; pulls by a logged-in account get a higher limit "
        "(docker login, or --username with UPDATER_REGISTRY_PASSWORD)"
    )
