"""Property test of text mode: random Helm-like templates give an exact edit or a one-line refusal.

The oracle is independent of the editor: testing.templategen knows which lines reference the image,
where their `:TAG[@DIGEST]` stands, and which lines have the template fill the tag in. Examples:
TEXTEDIT_EXAMPLES (default 300, a few seconds); a long run sets it higher (e.g. 5000).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from testing import templategen
from updater.yamledit import Locator, YamlEditError, edit

DIGEST = "sha256:" + "f" * 64
VALUES = st.one_of(
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,20}", fullmatch=True),
    st.sampled_from(["master-202402011200", "master-202401151230", "1.10", "yes", "0x1F"]),
    st.sampled_from([f"master-202402011200@{DIGEST}", DIGEST]),
)
IMAGES = st.sampled_from(
    [templategen.REPO, f"docker.io/{templategen.REPO}", f"index.docker.io/{templategen.REPO}"]
)


def expected_refusal(lines: list[templategen.Line], value: str, all_matches: bool) -> str | None:
    """Return a phrase the refusal must contain, or None when the edit must succeed."""
    targets = [line for line in lines if line.kind == "target"]
    if any(line.kind == "glued" for line in lines):
        return "the tag comes from values"
    if not targets:
        if any("default" in line.text and "send2ereader:never" in line.text for line in lines):
            return "stands only inside a template action"
        if any(line.kind == "built" for line in lines):
            return "the tag comes from values"
        return "no reference to"
    if len({line.old for line in targets}) > 1 and not all_matches:
        return "referenced with different tags"
    if "@" not in value and not value.startswith("sha256:") and any(line.pinned for line in targets):
        return "pins a digest"
    return None


EXAMPLES = int(os.environ.get("TEXTEDIT_EXAMPLES", "300"))
LAYOUT = {
    "lines": templategen.templates(),
    "newline": st.sampled_from(["\n", "\r\n"]),
    "final_newline": st.booleans(),
}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    **LAYOUT,
    value=VALUES,
    image=IMAGES,
    all_matches=st.booleans(),
)
def test_random_templates_get_an_exact_edit_or_a_one_line_refusal(
    lines: list[templategen.Line],
    newline: str,
    final_newline: bool,
    value: str,
    image: str,
    all_matches: bool,
) -> None:
    text, spans = templategen.render(lines, newline, final_newline)
    refusal = expected_refusal(lines, value, all_matches)
    locator = Locator(image=image)
    try:
        result = edit(text, locator, value, source="templates/deployment.yaml", all_matches=all_matches)
    except YamlEditError as exc:
        assert refusal is not None, f"refused an edit it should make: {exc.message}\n{text}"
        assert refusal in exc.message, f"expected {refusal!r}, got: {exc.message}"
        assert "\n" not in exc.message and exc.message.startswith("templates/deployment.yaml")
        assert "fix the file first" not in exc.message
        event(f"refused: {refusal}")
        return
    assert refusal is None, f"edited where it should refuse ({refusal}):\n{text}"
    assert result.mode == "text"
    suffix = f"@{value}" if value.startswith("sha256:") else f":{value}"
    expected = text
    for start, end in reversed(spans):
        expected = expected[:start] + suffix + expected[end:]
    assert result.text == expected
    assert [c.line for c in result.changes] == [text.count("\n", 0, start) + 1 for start, _ in spans]
    assert all(c.new == value for c in result.changes)
    event(f"edited {len(spans)} reference(s)" + (" with --all" if all_matches else ""))


MARKER_VALUES = st.one_of(
    st.from_regex(r"v[0-9a-z._-]{0,12}", fullmatch=True),
    st.sampled_from([f"v2@{DIGEST}", DIGEST]),
)


@settings(max_examples=EXAMPLES // 2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(**LAYOUT, value=MARKER_VALUES)
def test_random_templates_with_markers_get_an_exact_edit_or_a_one_line_refusal(
    lines: list[templategen.Line], newline: str, final_newline: bool, value: str
) -> None:
    text, spans = templategen.render(lines, newline, final_newline, marked=True)
    marked = [line for line in lines if line.marked]
    refusal = None
    if not marked:
        refusal = "no line marked"
    elif "@" not in value and not value.startswith("sha256:") and any(line.pinned for line in marked):
        refusal = "pins a digest"
    try:
        result = edit(text, Locator(marker="web"), value, source="templates/deployment.yaml")
    except YamlEditError as exc:
        assert refusal is not None and refusal in exc.message, exc.message
        assert "\n" not in exc.message and exc.message.startswith("templates/deployment.yaml")
        event(f"refused: {refusal}")
        return
    assert refusal is None, f"edited where it should refuse ({refusal}):\n{text}"
    assert result.mode == "text"
    expected = text
    for (start, end), line in reversed(list(zip(spans, marked, strict=True))):
        new = value if line.kind == "tag" else f"@{value}" if value.startswith("sha256:") else f":{value}"
        expected = expected[:start] + new + expected[end:]
    assert result.text == expected
    assert [c.line for c in result.changes] == [text.count("\n", 0, start) + 1 for start, _ in spans]
    event(f"edited {len(spans)} marked line(s)")
