"""Which located values are not tags, and which nearby key holds the tag instead."""

from __future__ import annotations

import pytest

from updater.yamledit import not_a_tag, tag_holders

ANALYTICS = """images:
  repositories:
    api: eu.gcr.io/p/airqo-stage-analytics-api
  tag: stage-9be8f03c-1776072918
api:
  name: airqo-stage-analytics-api
  version: '2'
initContainer:
  image:
    tag: v1
"""


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("eu.gcr.io/p/app", "it contains '/'"),
        ("nginx:1.25", "it contains ':'"),
        ("v1 beta", "it contains a space"),
        ("-v1", "it is not an OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})"),
        ("stage-9be8f03c-1776072918", None),
        ("v1@sha256:" + "a" * 64, None),
        ("", None),
        (None, None),
    ],
)
def test_not_a_tag(value: str | None, reason: str | None) -> None:
    assert not_a_tag(value) == reason


def test_the_nearest_tag_key_comes_first() -> None:
    found = tag_holders(ANALYTICS, near="images.repositories.api")
    assert [(f.path, f.line, f.value) for f in found] == [("images.tag", 4, "stage-9be8f03c-1776072918")]
    # A top-level key is near everything; names that hold a tag by convention only.
    assert [f.path for f in tag_holders(ANALYTICS, near="repository")] == [
        "images.tag",
        "api.version",
        "initContainer.image.tag",
    ]
    assert tag_holders("a:\n  b: x/y\n", near="a.b") == []
