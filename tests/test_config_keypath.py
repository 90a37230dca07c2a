"""The key-path grammar of DESIGN.md, as the config validator reads it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from updater.domain.keypath import KeyPathError, format_key_path, parse_key_path


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("image.tag", ["image", "tag"]),
        ("containers[0].image", ["containers", 0, "image"]),
        ('"app.kubernetes.io/name"', ["app.kubernetes.io/name"]),
        ('jobs."my.job".image.tag', ["jobs", "my.job", "image", "tag"]),
        ('a."say \\"hi\\"".b', ["a", 'say "hi"', "b"]),
        ('a."back\\\\slash"', ["a", "back\\slash"]),
        ("matrix[1][2]", ["matrix", 1, 2]),
        ("[0].image", [0, "image"]),
        ('""', [""]),
        ('a."with space"', ["a", "with space"]),
        ("images.repositories.api", ["images", "repositories", "api"]),
    ],
)
def test_parse(text: str, segments: list[str | int]) -> None:
    assert parse_key_path(text) == segments


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty key path"),
        ("image..tag", "empty segment at column 7"),
        (".image", "empty segment at column 1"),
        ("image.", "key path ends with '.'"),
        ("image tag", "' ' at column 6 must be inside a double-quoted segment"),
        ('image."tag', "unterminated double quote at column 7"),
        ('a."x\\n"', 'only \\" and \\\\ escapes are allowed (column 5)'),
        ("a[x]", "expected [N] with a non-negative integer at column 2"),
        ("a[-1]", "expected [N] with a non-negative integer at column 2"),
        ("a[1", "expected [N] with a non-negative integer at column 2"),
        ("a.[0]", "'[' right after '.' at column 3: write key[N], not key.[N]"),
        ('"a"b', "expected '.' or '[' at column 4, found 'b'"),
        ("a]b", "']' at column 2 must be inside a double-quoted segment"),
        ('ab"c"', "'\"' at column 3 must be inside a double-quoted segment"),
    ],
)
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(KeyPathError) as caught:
        parse_key_path(text)
    assert str(caught.value) == message


segment = st.one_of(st.integers(min_value=0, max_value=10**6), st.text(max_size=12))


@given(st.lists(segment, min_size=1, max_size=6))
def test_format_then_parse_round_trips(segments: list[str | int]) -> None:
    assert parse_key_path(format_key_path(segments)) == segments
