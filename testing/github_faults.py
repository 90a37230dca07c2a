"""Faults the loopback GitHub injects on demand (testing/github_server.py): 5xx, lost answers, and
GitHub's rate limit answers as documented ("Rate limits for the REST API": 403 or 429, with
Retry-After or x-ratelimit-reset, https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api;
GraphQL's primary limit is a 200 with a RATE_LIMITED error).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    """Fail the next `times` requests that match `target`.

    target: "graphql", "graphql:<text in the query>" (e.g. "graphql:createCommitOnBranch"), or
    "METHOD /path" (a prefix, e.g. "POST /repos/o/r/git/refs"). `after`: process the request first,
    then answer with the fault (the client cannot know whether its write landed).
    """

    target: str
    status: int = 502
    times: int = 1
    message: str = "Server Error"
    headers: dict[str, str] = field(default_factory=dict)
    after: bool = False
    body: dict[str, Any] | None = None  # the answer's JSON (default: GitHub's error shape with `message`)

    def answer(self) -> dict[str, Any]:
        return self.body or {"message": self.message, "documentation_url": "https://docs.github.com/rest"}

    def matches(self, method: str, path: str, body: str) -> bool:
        if self.target == "graphql":
            return path.endswith("/graphql")
        if self.target.startswith("graphql:"):
            return path.endswith("/graphql") and self.target[8:] in body
        return f"{method} {path}".startswith(self.target)


def secondary_rate_limit(target: str, retry_after: int = 1, times: int = 1) -> Fault:
    """GitHub's secondary rate limit: 403 with Retry-After."""
    msg = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    return Fault(target, 403, times, msg, {"Retry-After": str(retry_after)})


def graphql_rate_limit(reset_in: int = 1, times: int = 1) -> Fault:
    """GitHub GraphQL's primary rate limit: 200 with a RATE_LIMITED error and the reset headers."""
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + reset_in)}
    body = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded for user ID 1."}]}
    return Fault("graphql", 200, times, "rate limited", headers, body=body)


def primary_rate_limit(target: str, reset_in: int = 1, times: int = 1) -> Fault:
    """GitHub's primary rate limit: 403 with x-ratelimit-remaining 0 and the reset time."""
    headers = {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-limit": "5000",
        "x-ratelimit-reset": str(int(time.time()) + reset_in),
    }
    return Fault(target, 403, times, "API rate limit exceeded for installation ID 1.", headers)
