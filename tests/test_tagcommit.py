"""Reading the source commit out of a tag through its template, and spelling the same build elsewhere."""

from __future__ import annotations

import pytest

from updater.domain.tagcommit import CommitUnknown, commit_of, matches, render_for


@pytest.mark.parametrize(
    ("template", "tag", "expected"),
    [
        ("stage-{sha:8}-*", "stage-9be8f03c-1776072918", ("9be8f03c", False)),
        ("stage-{app}-{sha:7}", "stage-docs-1a2b3c4", ("1a2b3c4", False)),
        ("{env}-{sha}", "staging-1a2b3c4d5e", ("1a2b3c4d5e", True)),
        ("{branch}-{sha:8}-{run}", "main-1a2b3c4d-42", ("1a2b3c4d", False)),
        ("stage-{sha:8}-*", "stage-latest-1", None),  # not hex: written by hand
        ("stage-{sha:8}-*", "prod-9be8f03c-1", None),  # another family
        ("stage-{app}-{sha:7}", "stage-web-1a2b3c4", None),  # another app's build
        ("stage-*", "stage-9be8f03c", None),  # the template does not spell the commit
        (None, "stage-9be8f03c", None),
    ],
)
def test_commit_of(template: str | None, tag: str, expected: tuple[str, bool] | None) -> None:
    assert commit_of(template, tag, app="docs", env="staging") == expected


def test_render_for_fills_the_commit_and_leaves_run_and_branch_open() -> None:
    assert render_for("prod-{sha:8}-*", "9be8f03c", app="a", env="production") == "prod-9be8f03c-*"
    assert render_for("{app}-{env}-{sha:7}-{run}", "9be8f03c", app="a", env="p") == "a-p-9be8f03-*"
    assert render_for("prod-{sha}", "9be8f03c1d", app="a", env="p", complete=True) == "prod-9be8f03c1d"


def test_render_for_refuses_a_template_needing_more_of_the_commit_than_is_known() -> None:
    with pytest.raises(CommitUnknown, match="needs 40 hex digits of the commit; only 8 are known"):
        render_for("prod-{sha}", "9be8f03c", app="a", env="p")
    with pytest.raises(CommitUnknown, match="needs 12 hex digits"):
        render_for("prod-{sha:12}", "9be8f03c", app="a", env="p")


def test_matches_says_whether_a_tag_is_one_the_template_spells() -> None:
    assert matches("prod-{sha:8}-*", "prod-9be8f03c-1776072918", app="a", env="production")
    assert not matches("prod-{sha:8}-*", "stage-9be8f03c-1776072918", app="a", env="production")
    assert not matches("prod-{sha:8}", "prod-9be8f03c-1", app="a", env="production")
