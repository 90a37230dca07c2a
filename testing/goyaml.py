"""What Go's YAML reader (gopkg.in/yaml.v2, under sigs.k8s.io/yaml and so Helm) makes of a plain scalar.

A test oracle written from go-yaml v2's `resolve.go` (`resolve()`, `resolveTable`, `resolveMap`,
`yamlStyleFloat`, `parseTimestamp`) and the Go standard library it calls (`strconv.ParseInt`/`ParseUint`
with base 0, `strconv.ParseFloat`, `time.Parse`), as documented at https://pkg.go.dev/strconv and
https://pkg.go.dev/time. Independent of the editor's own quoting rule, which it checks.

The grammar, for a plain (untagged, unquoted) scalar `in`:
- the first byte picks a hint: `+`/`-` sign, a digit, one of `yYnNtTfFoO~` (map), `.`, or none (string);
  an empty scalar is null;
- a fixed map first: booleans y/yes/true/on and n/no/false/off (three casings each), null/~,
  `.nan`/`.inf` (three casings, `+`/`-` for inf), `<<`;
- sign or digit: a timestamp (`YYYY-M-D`, with `T`/`t`/space and a time), else ALL underscores are
  removed and the rest is tried as `ParseInt(s, 0, 64)` (sign, `0x`/`0o`/`0b` prefixes, a leading `0`
  means octal, within int64), `ParseUint(s, 0, 64)` (within uint64), then the float pattern
  `[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?` if `ParseFloat` does not overflow;
- `.`: `ParseFloat` of the scalar as written (underscores only between digits);
- anything else is a string.
"""

from __future__ import annotations

import calendar
import re

GO_MAP: dict[str, str] = {
    **dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], "bool"),
    **dict.fromkeys(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], "bool"),
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], "null"),
    **dict.fromkeys([".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF"], "float"),
    **dict.fromkeys(["+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF"], "float"),
    "<<": "merge",
}
_YAML_STYLE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+(_[0-9]+)*([eE][-+]?[0-9]+(_[0-9]+)*)?")
_DATE = r"(?P<y>[0-9]{4})-(?P<m>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
_TIME = r"(?P<H>[0-9]{1,2}):(?P<M>[0-9]{1,2}):(?P<S>[0-9]{1,2})(\.[0-9]+)?"
_TIMESTAMPS = [
    re.compile(_DATE + "[Tt]" + _TIME + r"(Z|[-+][0-9]{2}:[0-9]{2})"),  # 2006-1-2T15:4:5.999999999Z07:00
    re.compile(_DATE + " " + _TIME),  # 2006-1-2 15:4:5.999999999
    re.compile(_DATE),  # 2006-1-2
]
_DIGITS = {2: "01", 8: "01234567", 10: "0123456789", 16: "0123456789abcdefABCDEF"}


def parse_uint(s: str) -> int | None:
    """strconv.ParseUint(s, 0, 64) on text without underscores: the value, or None on any error."""
    if not s:
        return None
    base = 10
    if s[0] == "0":
        prefix = {"b": 2, "o": 8, "x": 16}.get(s[1:2].lower()) if len(s) >= 3 else None
        base, s = (prefix, s[2:]) if prefix else (8, s[1:])
    if any(c not in _DIGITS[base] for c in s):
        return None
    value = int(s, base) if s else 0
    return value if value < 2**64 else None


def parse_int(s: str) -> int | None:
    """strconv.ParseInt(s, 0, 64): an optional sign, then ParseUint's grammar, within int64."""
    negative = s[:1] == "-"
    magnitude = parse_uint(s[1:] if s[:1] in "+-" and s else s)
    if magnitude is None or magnitude > 2**63 - (0 if negative else 1):
        return None
    return -magnitude if negative else magnitude


def _finite(text: str) -> bool:
    """strconv.ParseFloat does not fail with ErrRange (an overflow to infinity)."""
    return float(text) not in (float("inf"), float("-inf"))


def _timestamp(s: str) -> bool:
    """go-yaml's parseTimestamp: four digits and `-`, then one of its time.Parse layouts, in range."""
    if not re.match(r"[0-9]{4}-", s):
        return False
    for layout in _TIMESTAMPS:
        found = layout.fullmatch(s)
        if not found:
            continue
        year, month, day = (int(found.group(g)) for g in "ymd")
        if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
            return False
        if found.groupdict().get("H") is not None:
            hour, minute, second = (int(found.group(g)) for g in "HMS")
            return hour < 24 and minute < 60 and second < 60
        return True
    return False


def kind(scalar: str) -> str:
    """Return what yaml.v2 decodes a plain scalar to: str, bool, null, int, float, timestamp or merge."""
    if scalar in GO_MAP:
        return GO_MAP[scalar]
    hint = scalar[:1]
    if hint == ".":
        return "float" if _DOT_FLOAT.fullmatch(scalar) else "str"
    if not hint or hint not in "+-0123456789":
        return "str"  # a letter hint (yYnNtTfFoO~) was only ever looked up in the map above
    if _timestamp(scalar):
        return "timestamp"
    plain = scalar.replace("_", "")
    if parse_int(plain) is not None or parse_uint(plain) is not None:
        return "int"
    if _YAML_STYLE_FLOAT.fullmatch(plain) and _finite(plain):
        return "float"
    # resolve.go's last tries, `0b`/`-0b` parsed in base 2, accept nothing base 0 did not already.
    return "str"
