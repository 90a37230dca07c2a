"""Key paths (DESIGN.md): `image.tag`, `containers[0].image`, `jobs."my.job".image.tag`."""

from __future__ import annotations

_NEEDS_QUOTES = frozenset('.[]" ')


def parse_key_path(text: str) -> list[str | int]:
    """Return the segments of a key path (str keys, int indexes); ValueError says what is wrong."""
    segments: list[str | int] = []
    pos, n = 0, len(text)
    if not text:
        raise ValueError("empty key path")
    while True:
        if pos < n and text[pos] == '"':
            pos += 1
            buf: list[str] = []
            while pos < n and text[pos] != '"':
                if text[pos] == "\\":
                    if pos + 1 >= n or text[pos + 1] not in '"\\':
                        raise ValueError(f'bad escape at column {pos + 1}: only \\" and \\\\ are allowed')
                    pos += 1
                buf.append(text[pos])
                pos += 1
            if pos >= n:
                raise ValueError("unterminated quoted segment")
            pos += 1
            segments.append("".join(buf))
        elif pos < n and text[pos] != "[":
            start = pos
            while pos < n and text[pos] not in _NEEDS_QUOTES:
                pos += 1
            if pos == start:
                raise ValueError(f"empty segment at column {pos + 1}")
            segments.append(text[start:pos])
        elif segments or pos >= n:  # a leading "[N]" indexes a root sequence; "a.[0]" is an error
            raise ValueError(f"expected a key at column {pos + 1}")
        while pos < n and text[pos] == "[":
            end = text.find("]", pos)
            digits = text[pos + 1 : end] if end > 0 else ""
            if not digits.isdigit():
                raise ValueError(f"bad index at column {pos + 1}: write [N] with N >= 0")
            segments.append(int(digits))
            pos = end + 1
        if pos >= n:
            return segments
        if text[pos] != ".":
            raise ValueError(
                f"expected '.' or '[' at column {pos + 1}; quote segments with special characters"
            )
        pos += 1
        if pos >= n:
            raise ValueError("key path ends with '.'")


def format_key_path(segments: list[str | int]) -> str:
    """Return the display form of a path, quoting segments that need it (inverse of parse_key_path)."""
    out: list[str] = []
    for seg in segments:
        if isinstance(seg, int):
            out.append(f"[{seg}]")
            continue
        if not seg or any(ch in _NEEDS_QUOTES for ch in seg):
            seg = '"' + seg.replace("\\", "\\\\").replace('"', '\\"') + '"'
        out.append("." + seg if out else seg)
    return "".join(out)
