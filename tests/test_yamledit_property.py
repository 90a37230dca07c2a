"""Property test: random documents and random valid tags give an exact edit or a clean refusal.

The oracle is independent of the editor: testing.yamlgen knows where it wrote every scalar, and the
result is loaded with ruamel's YAML 1.2 and YAML 1.1 loaders and compared with the original data.
"""

from __future__ import annotations

import copy
import os
from dataclasses import replace

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from testing import goyaml, yamlgen
from updater.domain.keypath import format_key_path
from updater.yamledit import Locator, YamlEditError, set_value
from updater.yamledit._scalar import TAG, plain_reads_as_string

# Keys that YAML 1.1 reads as booleans or null (y, on, no, ...) would make the loaded data's keys differ
# between versions; values files do not use them, and the editor matches keys as written.
KEYS = st.from_regex(r"[a-z][a-z0-9_]{0,6}(\.[a-z]{1,3})?", fullmatch=True).filter(
    lambda k: k not in {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
)
PLAIN = st.sampled_from(["v1", "1", "1.10", "yes", "true", "null", "~", "", "0x1F", "2024-01-01", "a-b", "ü"])
QUOTED = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
WORDS = st.lists(st.sampled_from(["alpha", "b2", "x-y", "über"]), min_size=2, max_size=3).map(" ".join)
BLOCK = st.sampled_from([("line one\nline two\n", "|"), ("x\n", "|"), ("folded text\n", ">")])
SCALARS = st.one_of(
    st.builds(yamlgen.Scalar, PLAIN, st.just("")),
    st.builds(yamlgen.Scalar, QUOTED, st.sampled_from(["'", '"'])),
    st.builds(yamlgen.Scalar, PLAIN.filter(bool), st.sampled_from(["", '"']), tagged=st.just(True)),
    st.builds(yamlgen.Scalar, WORDS, st.just("\n")),  # plain over several lines
    BLOCK.map(lambda vs: yamlgen.Scalar(*vs)),  # never a target
)
KEY_STYLES = st.sampled_from(["", "", "'", '"'])
# Tags made of what Go's number grammar is built from (digits, `_`, base letters, `.`, `e`, signs).
GO_NUMBERISH = st.from_regex(r"[0-9][0-9_xXoObBeEaf.+-]{0,8}", fullmatch=True).filter(TAG.fullmatch)
TAGS = st.one_of(
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,20}", fullmatch=True),
    GO_NUMBERISH,
    st.sampled_from(
        ["2.10", "1.10", "yes", "on", "0x1F", "1e3", "123", "0123", "1_000", "null", "y", "2024-01-01"]
    ),
)


def _map(children: st.SearchStrategy[yamlgen.Node]) -> st.SearchStrategy[yamlgen.Map]:
    items = st.lists(st.tuples(KEYS, children), min_size=1, max_size=4, unique_by=lambda kv: kv[0])
    return st.builds(yamlgen.Map, items.map(tuple), st.booleans(), key_style=KEY_STYLES)


def _seq(children: st.SearchStrategy[yamlgen.Node]) -> st.SearchStrategy[yamlgen.Seq]:
    return st.builds(yamlgen.Seq, st.lists(children, min_size=1, max_size=3).map(tuple), st.booleans())


NODES = st.recursive(SCALARS, lambda children: st.one_of(_map(children), _seq(children)), max_leaves=12)
ROOTS = st.builds(
    yamlgen.Map,
    st.lists(st.tuples(KEYS, NODES), min_size=1, max_size=4, unique_by=lambda kv: kv[0]).map(tuple),
    st.just(False),
    key_style=KEY_STYLES,
)
NULLS = ("", "~", "null")
LAYOUTS = st.builds(
    yamlgen.Layout,
    indent=st.sampled_from([2, 3, 4]),
    indent_sequences=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    final_newline=st.booleans(),
    comment_every=st.sampled_from([0, 1, 2, 3]),
    blank_every=st.sampled_from([0, 2, 5]),
)


def share(root: yamlgen.Map, pick: int) -> yamlgen.Map:
    """Anchor one top-level value (`&a1`) and alias it under a new last key (`zz_alias: *a1`)."""
    shareable = [
        i
        for i, (_, value) in enumerate(root.items)
        if not isinstance(value, yamlgen.Alias)
        and not (isinstance(value, yamlgen.Scalar) and (value.style in ("|", ">") or not value.value))
    ]
    if not shareable:
        return root
    items = list(root.items)
    index = shareable[pick % len(shareable)]
    key, value = items[index]
    assert not isinstance(value, yamlgen.Alias)
    items[index] = (key, replace(value, anchor="a1"))
    return replace(root, items=(*items, ("zz_alias", yamlgen.Alias("a1"))))  # KEYS are at most 7 chars


def render_documents(
    roots: list[yamlgen.Map], layout: yamlgen.Layout, *, directives: bool = False
) -> yamlgen.Rendered:
    """Render each root as one document of a `---`-separated stream; spans are keyed (document, path).

    With `directives`, each document is `%YAML 1.1` + `---` + body + `...`.
    """
    out = yamlgen.Rendered("")
    for index, root in enumerate(roots):
        last = index == len(roots) - 1
        part = yamlgen.render(
            root,
            replace(
                layout,
                bom=layout.bom and index == 0,
                final_newline=layout.final_newline or not last or directives,
            ),
        )
        if directives:
            out.text += ("\ufeff" if part.text.startswith("\ufeff") else "") + "%YAML 1.1" + layout.newline
            out.text += "---" + layout.newline
            part.text = part.text.removeprefix("\ufeff")
            part.spans = (
                {path: (a - 1, b - 1) for path, (a, b) in part.spans.items()}
                if index == 0 and layout.bom
                else part.spans
            )
        elif index:
            out.text += "---" + layout.newline
        offset = len(out.text)
        out.text += part.text
        if directives:
            out.text += "..." + (layout.newline if layout.final_newline or not last else "")
        for path, (start, end) in part.spans.items():
            out.spans[(index, *path)] = (start + offset, end + offset)
    return out


@settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "2500")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    roots=st.lists(ROOTS, min_size=1, max_size=2),
    layout=LAYOUTS,
    tag=TAGS,
    shared=st.integers(min_value=-3, max_value=3),
    directives=st.booleans(),
    data=st.data(),
)
def test_random_documents_get_an_exact_edit_or_a_clean_error(
    roots: list[yamlgen.Map],
    layout: yamlgen.Layout,
    tag: str,
    shared: int,
    directives: bool,
    data: st.DataObject,
) -> None:
    if shared >= 0:
        roots = [share(roots[0], shared), *roots[1:]]
    rendered = render_documents(roots, layout, directives=directives)
    text = rendered.text
    assume(rendered.spans)  # every value a block scalar: nothing to target
    document, *rest = data.draw(st.sampled_from(sorted(rendered.spans, key=str)))
    path = tuple(rest)
    start, end = rendered.spans[(document, *path)]
    locator = Locator(key=format_key_path(list(path)), document=document if len(roots) > 1 else None)
    original = text
    try:
        new, changes = set_value(text, locator, tag, source="values.yaml")
    except YamlEditError as exc:
        # The only refusals expected here are of values that anchors share (without --allow-aliases).
        assert text == original
        assert shared >= 0, f"refused a plain edit of {format_key_path(list(path))}: {exc.message}\n{text}"
        assert "\n" not in exc.message and exc.message.startswith("values.yaml:"), exc.message
        event("refused: " + " ".join(exc.message.split()[2:5]))
        return
    event("edited" + (" (shared)" if shared >= 0 else ""))
    head, tail = text[:start], text[end:]
    assert new.startswith(head) and new.endswith(tail), "bytes outside the target scalar changed"
    middle = new[len(head) : len(new) - len(tail)]
    assert "\n" not in middle and "#" not in middle
    old_raw = text[start:end]
    if old_raw[:1] in ("'", '"'):
        assert middle == old_raw[0] + tag + old_raw[0], "quote style not kept"
    if middle == tag:  # written plain: Go (Helm) must read it back as the same string
        assert goyaml.kind(tag) == "str", f"{tag!r} written plain, Go reads a {goyaml.kind(tag)}"
    # An edit inside the anchored block also changes what `zz_alias: *a1` reads: listed, shared_with set.
    change, *through_alias = changes
    assert all(c.shared_with == change.path and c.path.startswith("zz_alias") for c in through_alias)
    assert shared >= 0 or not through_alias
    assert (change.new, change.document) == (tag, document)
    scalar = yamlgen.node_at(roots[document], path)
    assert isinstance(scalar, yamlgen.Scalar)
    written_quoted = scalar.value == "" and isinstance(path[-1], int)  # an empty item is written ''
    plain_null = scalar.style == "" and not scalar.tagged and scalar.value in NULLS and not written_quoted
    assert change.old == (None if plain_null else scalar.value)
    for version in ((1, 2), (1, 1)):
        expected = copy.deepcopy(yamlgen.load(text, version))
        node = expected[document]
        for seg in path[:-1]:
            node = node[seg]
        node[path[-1]] = tag
        assert yamlgen.load(new, version) == expected, f"YAML {version} data differs"


# Go's grammar as a table: (plain scalar, what gopkg.in/yaml.v2 decodes it to). The first rows are go-yaml
# v2's own decode_test.go expectations; the rest follow from resolve.go removing every `_` before
# strconv.ParseInt/ParseUint(s, 0, 64) (0x, 0o, 0b prefixes; leading 0 = octal) and its float pattern.
GO_GRAMMAR = [
    ("10", "int"), ("0b10", "int"), ("0xA", "int"), ("4294967296", "int"), ("-10", "int"),
    ("0.1", "float"), (".1", "float"), (".Inf", "float"), ("-.Inf", "float"), ("-.1", "float"),
    ("6.8523e+5", "float"), ("685.230_15e+03", "float"), ("685_230.15", "float"), ("-.inf", "float"),
    ("y", "bool"), ("NO", "bool"), ("True", "bool"), ("on", "bool"), ("off", "bool"),
    ("685230", "int"), ("+685_230", "int"), ("02472256", "int"), ("0x_0A_74_AE", "int"),
    ("0b1010_0111_0100_1010_1110", "int"), ("-0b101010", "int"), ("9223372036854775807", "int"),
    ("9223372036854775808", "int"), ("18446744073709551615", "int"), ("18446744073709551616", "float"),
    ("null", "null"), ("~", "null"), ("", "null"), ("2015-01-01", "timestamp"), ("<<", "merge"),
    ("-b_c", "str"), ("+b_c", "str"), ("50cent_of_dollar", "str"), ("3s", "str"), ("hi", "str"),
    # underscores removed before the base prefix is looked at (issue 10)
    ("0_x1", "int"), ("0_b10", "int"), ("0__o7", "int"), ("0_X1f", "int"), ("0_O7", "int"),
    ("1_e_5", "float"), ("1e_-5", "float"), ("1_._5", "float"), ("1__", "int"), ("0_", "int"),
    # a leading 0 is octal: 09 is no int, but the float pattern takes it
    ("09", "float"), ("0o8", "str"), ("0x", "str"), ("0b", "str"), ("0b2", "str"), ("0xg", "str"),
    ("0x1_ffff_ffff_ffff_ffff", "str"),  # overflows uint64, and no float pattern: a string
    ("1e999", "str"),  # ParseFloat overflows (ErrRange): a string
    ("1.2.3", "str"), ("2024-02-30", "str"), ("2024-1-2", "timestamp"), ("_1", "str"), ("yes_", "str"),
    ("Yes", "bool"), ("YES", "bool"), ("yES", "str"), ("ON", "bool"), ("oN", "str"), ("nULL", "str"),
]  # fmt: skip


def test_the_go_oracle_follows_go_yaml_v2s_grammar() -> None:
    assert [(v, goyaml.kind(v)) for v, _ in GO_GRAMMAR] == GO_GRAMMAR


def _underscore_family() -> list[str]:
    """Tags of the issue's family: a 0, underscores, a base letter, underscores, digits (`0__o7`)."""
    runs = ("", "_", "__")
    return [
        f"0{a}{letter}{b}{digits}"
        for a in runs
        for letter in "xXoObB"
        for b in runs
        for digits in ("1", "10", "7", "1f", "1_0")
    ]


def test_every_tag_of_the_underscore_family_that_go_reads_as_a_number_is_quoted() -> None:
    numbers = 0
    for tag in _underscore_family():
        new, _ = set_value("image:\n  tag: v0\n", Locator(key="image.tag"), tag, source="v.yaml")
        written = new.removeprefix("image:\n  tag: ").removesuffix("\n")
        if goyaml.kind(tag) != "str":
            numbers += 1
            assert written == f'"{tag}"', f"{tag!r}: Go reads a {goyaml.kind(tag)}, written {written}"
        assert written in (tag, f'"{tag}"')
    assert numbers > 100  # the family is mostly numbers to Go: the test has teeth


def test_no_short_tag_that_go_reads_as_a_non_string_is_left_plain() -> None:
    """Every tag of up to 4 characters over Go's number alphabet, checked against the oracle."""
    alphabet = "017_9aefxXoObB.-+"
    tags = [""]
    for _ in range(4):
        tags = [t + c for t in tags for c in alphabet]
        for tag in tags:
            if TAG.fullmatch(tag) and goyaml.kind(tag) != "str":
                assert not plain_reads_as_string(tag), f"{tag!r} is a Go {goyaml.kind(tag)}"
