"""Secrets registry: every token we learn is masked in everything we print or log."""

from __future__ import annotations

import re
import unicodedata

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


_UNPRINTABLE = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """Return `text` with every control, format and line-separator character written as an escape.

    Untrusted text (config keys, values files, registry answers, CI inputs) reaches messages, logs
    and the GitHub Actions log, where a newline followed by `::error::` is a workflow command and an
    escape sequence rewrites the terminal. Escaped, such text stays on the line it was printed on.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        code = ord(char)
        if char in _NAMED:
            out.append(_NAMED[char])
        elif char.isprintable() or unicodedata.category(char) not in _UNPRINTABLE:
            out.append(char)  # other spaces (NBSP, ...) cannot break a line
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


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
