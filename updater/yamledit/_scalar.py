"""New values: the OCI tag grammar, and how to write a tag so every YAML reader sees a string."""

from __future__ import annotations

import re

from updater.yamledit.model import YamlEditError

TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
TAG_AT_DIGEST = re.compile(r"(?P<tag>[A-Za-z0-9_][A-Za-z0-9._-]{0,127})@(?P<digest>sha256:[a-f0-9]{64})")

# Scalars that some reader (YAML 1.1, YAML 1.2, or Go's yaml.v2 that Helm uses) does not take as a
# string. Deliberately wider than any one spec: quoting a string that did not need it is harmless.
_NOT_A_STRING = re.compile(
    r"""(?x)
    (?: y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF
      | null|Null|NULL|~|
      | [-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9_]+)?   # 1_000 0123 1.10 1e3 .5
      | [-+]?0[xX][0-9a-fA-F_]+ | [-+]?0[oO]?[0-7_]+ | [-+]?0[bB][01_]+      # 0x1F 0o17 017 0b101
      | [-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?                     # 1:20 sexagesimal
      | [-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)
      | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt\ ].*)?                          # dates, timestamps
      | <<|=
    )""",
)


def validate_value(value: str, *, allow_digest: bool) -> None:
    """Accept an OCI tag (or a `sha256:` digest / `tag@sha256:` reference when allowed), else raise.

    Checked before anything is read or written, so a value can never inject YAML.
    """
    if TAG.fullmatch(value):
        return
    if allow_digest and (DIGEST.fullmatch(value) or TAG_AT_DIGEST.fullmatch(value)):
        return
    what = "an OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})"
    if allow_digest:
        what += ", a sha256:<64 hex> digest or TAG@sha256:<64 hex>"
    raise YamlEditError(f"invalid value {value!r}: expected {what}")


# Go's yaml.v2 (sigs.k8s.io/yaml, hence Helm) removes EVERY underscore from a plain scalar that starts
# with a digit or a sign, then tries strconv.ParseInt/ParseUint with base 0 (0x, 0o, 0b prefixes, a
# leading 0 = octal) and its float pattern: `0_x1`, `0__o7`, `1e_-5` are numbers there. Matched on the
# underscore-free text; wider than Go (no range checks), which only ever adds quotes.
_GO_NUMBER = re.compile(
    r"""(?x)
    [-+]?(?: 0[xX][0-9a-fA-F]+ | 0[oO][0-7]+ | 0[bB][01]+
           | (?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)? )
    """
)


def plain_reads_as_string(value: str) -> bool:
    """True when `value` written plain reads back as the same string under YAML 1.1, 1.2 and Helm."""
    if not value or value[0] in "-?:,[]{}#&*!|>'\"%@`" or _NOT_A_STRING.fullmatch(value):
        return False
    return not (value[0] in "0123456789+." and _GO_NUMBER.fullmatch(value.replace("_", "")))


def render(value: str, style: str, *, flow: bool) -> str:
    """Return `value` written in quote style `style` ('' plain, "'" or '"'); plain falls back to "…".

    Values are validated tags or image references, so they never need escapes inside quotes.
    """
    if style == "'":
        return f"'{value}'"
    if style == '"':
        return f'"{value}"'
    if not plain_reads_as_string(value) or (flow and ":" in value):
        return f'"{value}"'
    return value
