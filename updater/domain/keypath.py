"""Key-path syntax (DESIGN.md): `image.tag`, `containers[0].image`, `jobs."my.job".image.tag`.

The config validator uses this to reject a bad key path before anything touches the network; the YAML
editor keeps its own internal parser, so this one only has to agree with the grammar.
"""

from __future__ import annotations

_QUOTE_NEEDED = frozenset('.[]" ')


class KeyPathError(ValueError):
    """A key path that does not follow the grammar; the message says where and why."""


def parse_key_path(text: str) -> list[str | int]:
    """Return the segments of `text`: strings for mapping keys, ints for `[N]` sequence indexes."""
    if not text:
        raise KeyPathError("empty key path")
    segments: list[str | int] = []
    pos = 0
    expect_segment = True  # at the start and after a dot a key (or an index) must follow
    while pos < len(text):
        char = text[pos]
        if char == "[":
            if expect_segment and segments:
                raise KeyPathError(f"'[' right after '.' at column {pos + 1}: write key[N], not key.[N]")
            pos = _parse_index(text, pos, segments)
            expect_segment = False
        elif char == ".":
            if expect_segment:
                raise KeyPathError(f"empty segment at column {pos + 1}")
            pos += 1
            expect_segment = True
        elif not expect_segment:
            raise KeyPathError(f"expected '.' or '[' at column {pos + 1}, found {char!r}")
        elif char == '"':
            pos = _parse_quoted(text, pos, segments)
            expect_segment = False
        else:
            start = pos
            while pos < len(text) and text[pos] not in _QUOTE_NEEDED:
                pos += 1
            if pos < len(text) and text[pos] in '" ]':
                raise KeyPathError(
                    f"{text[pos]!r} at column {pos + 1} must be inside a double-quoted segment"
                )
            segments.append(text[start:pos])
            expect_segment = False
    if expect_segment:
        raise KeyPathError("key path ends with '.'")
    return segments


def _parse_index(text: str, pos: int, segments: list[str | int]) -> int:
    """Append the index of `[N]` starting at `pos`; return the position after `]`."""
    end = text.find("]", pos)
    digits = text[pos + 1 : end] if end != -1 else ""
    if end == -1 or not digits.isascii() or not digits.isdigit():
        raise KeyPathError(f"expected [N] with a non-negative integer at column {pos + 1}")
    segments.append(int(digits))
    return end + 1


def _parse_quoted(text: str, pos: int, segments: list[str | int]) -> int:
    """Append the unescaped content of `"..."` starting at `pos`; return the position after it."""
    out: list[str] = []
    i = pos + 1
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 >= len(text) or text[i + 1] not in '"\\':
                raise KeyPathError(f'only \\" and \\\\ escapes are allowed (column {i + 1})')
            out.append(text[i + 1])
            i += 2
        elif char == '"':
            segments.append("".join(out))
            return i + 1
        else:
            out.append(char)
            i += 1
    raise KeyPathError(f"unterminated double quote at column {pos + 1}")


def format_key_path(segments: list[str | int]) -> str:
    """Return the canonical text of `segments`, quoting keys that need it (inverse of parse)."""
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
            continue
        if not segment or any(c in _QUOTE_NEEDED for c in segment):
            escaped = segment.replace("\\", "\\\\").replace('"', '\\"')
            segment = f'"{escaped}"'
        parts.append(segment if not parts else f".{segment}")
    return "".join(parts)
