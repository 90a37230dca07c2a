"""Secrets registry: every token we learn is masked in everything we print or log."""

from __future__ import annotations

import re

_secrets: set[str] = set()
_MASK = "***"
# Shapes of credentials that must never be printed even if nobody registered them.
_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*(?:bearer|basic|token)\s+)\S+"),
    re.compile(r"(?i)((?:access_)?token[\"']?\s*[:=]\s*[\"']?)[^\"'\s&,}]+"),
    re.compile(r"(?i)(password[\"']?\s*[:=]\s*[\"']?)[^\"'\s&,}]+"),
    re.compile(r"\b(gh[pousr]_)[A-Za-z0-9]{20,}"),
    re.compile(r"(https?://[^/\s:@]+:)[^@\s/]+(@)"),
]


def register(secret: str | None) -> None:
    """Remember a secret so that `mask` hides it; short values are ignored (they would mask noise)."""
    if secret and len(secret) >= 6:
        _secrets.add(secret)


def mask(text: str) -> str:
    """Return text with every registered secret and every credential-shaped value replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    for pattern in _PATTERNS:
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + _MASK + m.group(2), text)
        else:
            text = pattern.sub(lambda m: m.group(1) + _MASK, text)
    return text


def secrets() -> frozenset[str]:
    """The registered secrets (for ::add-mask:: in GitHub Actions)."""
    return frozenset(_secrets)
