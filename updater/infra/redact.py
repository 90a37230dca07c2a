"""Secrets registry: every token we learn is masked in everything we print or log."""

from __future__ import annotations

import functools
import re
import unicodedata

_secrets: set[str] = set()
_MASK = "***"
# Credential *syntax*, for secrets nobody registered: header values, quoted JSON keys, URL userinfo and
# query parameters, and the token shapes GitHub, Google and JWTs use. Never English words after
# "token:" or "password:" (a hint such as "a classic token: the repo scope" must read as written).
_KEYS = (
    r"(?:access_token|refresh_token|id_token|identitytoken|registrytoken|token|password|passwd|secret"
    r"|client_secret|private_key|auth|authorization)"
)
# Compiled on first use (`_patterns`): `updater --help` imports this module and masks nothing.
_SOURCES = [
    # HTTP headers as logged: "Authorization: Bearer X", "Proxy-Authorization: Basic X", "Private-Token: X"
    r"(?i)(\bauthorization:\s*(?:bearer|basic|token)\s+)[^\s\"',}]+",
    r"(?i)(\b(?:private-token|x-api-key|x-goog-api-key|x-github-token):\s*)[^\s\"',}]+",
    # Quoted keys of JSON / Python dicts: {"token": "X"}, {'Authorization': 'token X'}
    r"(?i)([\"']" + _KEYS + r"[\"']\s*:\s*[\"'])[^\"']+",
    # URL query and form parameters: ?access_token=X&..., token=X
    r"(?im)((?:^|[?&;\s])" + _KEYS + r"=)[^&\s\"',;]+",
    # Known token shapes
    r"\b(gh[pousr]_)[A-Za-z0-9]{20,}",
    r"\b(github_pat_)[A-Za-z0-9_]{20,}",
    r"\b(ya29\.)[A-Za-z0-9_.\-]{10,}",
    r"\b(eyJ)[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+",
    r"(-----BEGIN [A-Z ]*PRIVATE KEY-----)[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----)",
    # URL userinfo: https://user:SECRET@host, https://TOKEN@host (a long user part is a token)
    r"(https?://[^/\s:@]+:)[^@\s/]+(@)",
    r"(https?://)[A-Za-z0-9_.\-]{20,}(@)",
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


@functools.cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(source) for source in _SOURCES)


def register(secret: str | None) -> None:
    """Remember a secret so that `mask` hides it; short values are ignored (they would mask noise)."""
    if secret and len(secret) >= 6:
        _secrets.add(secret)


def mask(text: str) -> str:
    """Return text with every registered secret and every credential-shaped value replaced."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, _MASK)
    for pattern in _patterns():
        if pattern.groups == 2:
            text = pattern.sub(lambda m: m.group(1) + _MASK + m.group(2), text)
        else:
            text = pattern.sub(lambda m: m.group(1) + _MASK, text)
    return text


def secrets() -> frozenset[str]:
    """The registered secrets (for ::add-mask:: in GitHub Actions)."""
    return frozenset(_secrets)
