"""The YAML editor: one test per behaviour of issue 2, each asserting the exact output text."""

from __future__ import annotations

import pytest

from updater.yamledit import Change, Found, Locator, YamlEditError, get_values, set_value, validate_value
from updater.yamledit._tree import has_c_parser

DIGEST = "sha256:" + "ab" * 32


def edit(text: str, key: str, value: str, **kwargs: object) -> str:
    new, _ = set_value(text, Locator(key=key, document=kwargs.pop("document", None)), value, **kwargs)  # type: ignore[arg-type]
    return new


def error(text: str, locator: Locator, value: str = "v2", **kwargs: object) -> str:
    with pytest.raises(YamlEditError) as info:
        set_value(text, locator, value, source="values.yaml", **kwargs)  # type: ignore[arg-type]
    return info.value.message


# ---- quote styles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value", "expected"),
    [
        ("v1", "v2", "v2"),
        ("'v1'", "v2", "'v2'"),
        ('"v1"', "v2", '"v2"'),
        ('""', "1.10", '"1.10"'),
        ("''", "1.10", "'1.10'"),
        ("v1", "1.10", '"1.10"'),
        ("v1", "2.10", '"2.10"'),
        ("v1", "1.2.3", "1.2.3"),
        ("v1", "v1.10", "v1.10"),
    ],
)
def test_quote_style_is_kept(raw: str, value: str, expected: str) -> None:
    text = f"image:\n  repository: nginx\n  tag: {raw}\n"
    assert edit(text, "image.tag", value) == f"image:\n  repository: nginx\n  tag: {expected}\n"


@pytest.mark.parametrize(
    "value",
    ["yes", "no", "on", "off", "y", "n", "Y", "true", "NULL", "null", "1_000", "0x1F", "0o17", "0123", "123",
     "1e3", "1E-3", "1.10", "10", "0", "1_2.5", "2024-01-01", "0b101"],
)  # fmt: skip
def test_plain_value_that_would_not_read_as_a_string_is_double_quoted(value: str) -> None:
    assert edit("tag: v1\n", "tag", value) == f'tag: "{value}"\n'


def test_plain_value_that_reads_as_a_string_stays_plain() -> None:
    for value in ("2b02899", "v1", "1.2.3", "stable-alpine", "1.0-rc1", "latest", "_x", "nan", "Inf", "yess"):
        assert edit("tag: v1\n", "tag", value) == f"tag: {value}\n"


# ---- bytes around the value --------------------------------------------------------------------------


def test_inline_comment_and_trailing_spaces_are_kept() -> None:
    text = "tag: v1   # the tag\t(tab)  \nnext: x  \n"
    assert edit(text, "tag", "v2") == "tag: v2   # the tag\t(tab)  \nnext: x  \n"


def test_crlf_line_endings_are_kept() -> None:
    text = "image:\r\n  tag: v1\r\n  pullPolicy: Always\r\n"
    assert edit(text, "image.tag", "v2") == "image:\r\n  tag: v2\r\n  pullPolicy: Always\r\n"


def test_bom_is_kept_and_positions_stay_right() -> None:
    text = "\ufeff# héllo\nimage:\n  tag: 'v1'  # ü\n"
    assert edit(text, "image.tag", "v2") == "\ufeff# héllo\nimage:\n  tag: 'v2'  # ü\n"


def test_no_final_newline() -> None:
    assert edit("a: 1\ntag: v1", "tag", "v2") == "a: 1\ntag: v2"


def test_non_ascii_text_and_very_long_lines_are_not_rewrapped() -> None:
    long = "x" * 5000
    text = f"description: {long} ünïcödé ✓\nimage: {{tag: v1}}\nnote: 日本語\n"
    assert (
        edit(text, "image.tag", "v2") == f"description: {long} ünïcödé ✓\nimage: {{tag: v2}}\nnote: 日本語\n"
    )


# ---- empty values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", " v2"),
        (" ~", " v2"),
        (" null", " v2"),
        (' ""', ' "v2"'),
        (" ''", " 'v2'"),
        ("   # later", " v2   # later"),
    ],
)
def test_empty_values_are_filled_on_the_same_line(raw: str, expected: str) -> None:
    text = f"image:\n  tag:{raw}\n  pullPolicy: Always\n"
    new, changes = set_value(text, Locator(key="image.tag"), "v2")
    assert new == f"image:\n  tag:{expected}\n  pullPolicy: Always\n"
    assert changes[0].old in (None, "")


def test_empty_value_in_a_flow_mapping() -> None:
    assert edit("image: {repository: x, tag: }\n", "image.tag", "v2") == "image: {repository: x, tag: v2 }\n"


def test_empty_value_with_an_explicit_str_tag() -> None:
    assert edit("tag: !!str\nx: 1\n", "tag", "2.10") == 'tag: !!str "2.10"\nx: 1\n'


# ---- documents ---------------------------------------------------------------------------------------

MULTI = "%YAML 1.1\n---\nimage: {tag: a}\n...\n---\nimage:\n  tag: b\n---\nother: 1\n"


def test_document_picks_one_of_several() -> None:
    assert edit(MULTI, "image.tag", "v2", document=1) == MULTI.replace("tag: b", "tag: v2")
    assert edit(MULTI, "image.tag", "v2", document=0) == MULTI.replace("tag: a", "tag: v2")


def test_key_in_several_documents_needs_document() -> None:
    message = error(MULTI, Locator(key="image.tag"))
    assert (
        message == "values.yaml: image.tag is in documents 0 (line 3), 1 (line 7): pick one with --document N"
    )


def test_key_in_one_document_only_is_found_without_document() -> None:
    new, changes = set_value(MULTI, Locator(key="other"), "v2")
    assert new == MULTI.replace("other: 1", "other: v2")
    assert changes == [Change("other", 2, 9, "1", "v2")]


def test_document_out_of_range() -> None:
    assert (
        error(MULTI, Locator(key="a", document=3))
        == "values.yaml: --document 3 does not exist: the file has 3"
    )


# ---- collections and key paths -------------------------------------------------------------------------


def test_flow_mapping() -> None:
    text = "image: {repository: x, tag: 'v1', pullPolicy: Always}  # c\n"
    assert edit(text, "image.tag", "1.10") == "image: {repository: x, tag: '1.10', pullPolicy: Always}  # c\n"


def test_flow_mapping_plain_value_with_colon_is_quoted() -> None:
    text = "image: {name: 'x:v1', tag: v1}\n"
    assert edit(text, "image.tag", f"v2@{DIGEST}") == f"image: {{name: 'x:v1', tag: \"v2@{DIGEST}\"}}\n"


def test_sequences_indented_and_not() -> None:
    text = "a:\n- name: x\n  tag: v1\nb:\n  - name: y\n    tag: v1\n"
    assert edit(text, "a[0].tag", "v2") == "a:\n- name: x\n  tag: v2\nb:\n  - name: y\n    tag: v1\n"
    assert edit(text, "b[0].tag", "v2") == "a:\n- name: x\n  tag: v1\nb:\n  - name: y\n    tag: v2\n"


def test_quoted_key_path_segments() -> None:
    text = 'jobs:\n  my.job:\n    "app.kubernetes.io/name": x\n    image: {tag: v1}\n'
    text += '  "say \\"hi\\"": {tag: v1}\n'
    assert edit(text, 'jobs."my.job".image.tag', "v2") == text.replace("{tag: v1}\n  ", "{tag: v2}\n  ")
    assert edit(text, 'jobs."say \\"hi\\"".tag', "v2") == text[: -len("{tag: v1}\n")] + "{tag: v2}\n"


def test_root_sequence_and_nested_indexes() -> None:
    assert edit("- [a, b]\n- [c, v1]\n", "[1][1]", "v2") == "- [a, b]\n- [c, v2]\n"


# ---- image locator -----------------------------------------------------------------------------------

IMAGES = f"""\
app:
  image:
    repository: eu.gcr.io/p/app   # repo
    tag: "v1"
sidecar:
  image:
    registry: eu.gcr.io
    repository: p/app
    tag: v1
    digest: ""
containers:
  - name: app
    image: eu.gcr.io/p/app:v1
  - name: other
    image: 'eu.gcr.io/p/other:v1'
  - image: eu.gcr.io/p/app:v0@{DIGEST}
"""


def test_image_locator_finds_every_shape_and_changes_only_tags() -> None:
    text = IMAGES.replace(f"  - image: eu.gcr.io/p/app:v0@{DIGEST}\n", "")
    new, changes = set_value(text, Locator(image="eu.gcr.io/p/app"), "v2")
    assert new == text.replace('tag: "v1"', 'tag: "v2"').replace("tag: v1", "tag: v2").replace(
        "image: eu.gcr.io/p/app:v1", "image: eu.gcr.io/p/app:v2"
    )
    assert [(c.path, c.line, c.old, c.new) for c in changes] == [
        ("app.image.tag", 4, "v1", "v2"),
        ("sidecar.image.tag", 9, "v1", "v2"),
        ("containers[0].image", 13, "v1", "v2"),
    ]


def test_image_reference_with_digest_refuses_a_bare_tag() -> None:
    message = error(IMAGES, Locator(image="eu.gcr.io/p/app"))
    assert message == (
        f"values.yaml:16: containers[2].image pins a digest (eu.gcr.io/p/app:v0@{DIGEST}): "
        "give TAG@sha256:DIGEST so the digest matches the new tag"
    )


def test_image_reference_with_digest_takes_tag_and_digest() -> None:
    new_digest = "sha256:" + "cd" * 32
    new, changes = set_value(IMAGES, Locator(image="eu.gcr.io/p/app"), f"v2@{new_digest}")
    assert f"  - image: eu.gcr.io/p/app:v2@{new_digest}\n" in new
    assert f'    tag: v2\n    digest: "{new_digest}"\n' in new  # the Bitnami digest sibling gets the digest
    assert f'    tag: "v2@{new_digest}"\n' in new  # no digest sibling: the pinned reference goes in tag
    assert len(changes) == 5


def test_tag_with_a_digest_sibling_set_refuses_a_bare_tag() -> None:
    text = f"image:\n  repository: x/app\n  tag: v1\n  digest: {DIGEST}\n"
    assert error(text, Locator(image="x/app")) == (
        "values.yaml:4: image.tag has a digest set next to it: "
        "give TAG@sha256:DIGEST so the digest is updated too"
    )


def test_digest_sibling_receives_the_digest_and_reports_its_own_path() -> None:
    text = "image:\n  repository: x/app\n  tag: v1\n  digest:\n"
    new, changes = set_value(text, Locator(image="x/app"), f"v2@{DIGEST}")
    assert new == f"image:\n  repository: x/app\n  tag: v2\n  digest: {DIGEST}\n"
    assert changes == [Change("image.tag", 0, 3, "v1", "v2"), Change("image.digest", 0, 4, None, DIGEST)]
    new, changes = set_value(new, Locator(image="x/app"), "sha256:" + "0" * 64)
    assert new == f"image:\n  repository: x/app\n  tag: v2\n  digest: sha256:{'0' * 64}\n"


@pytest.mark.parametrize(
    ("text", "locator", "value", "expected"),
    [
        ("digest: ''\n", Locator(key="digest"), DIGEST, f"digest: '{DIGEST}'\n"),
        (f"tag: {DIGEST}\n", Locator(key="tag"), "sha256:" + "0" * 64, f"tag: sha256:{'0' * 64}\n"),
        (f"tag: v1@{DIGEST}\n", Locator(key="tag"), f"v2@{DIGEST}", f"tag: v2@{DIGEST}\n"),
        ("image: x/app:v1\n", Locator(image="x/app"), DIGEST, f"image: x/app@{DIGEST}\n"),
        (
            "i: x/app:v1  # updater: a\n",
            Locator(marker="a"),
            f"v2@{DIGEST}",
            f"i: x/app:v2@{DIGEST}  # updater: a\n",
        ),
        (
            "i:\n  repository: x/app\n  tag: v1\n",
            Locator(image="x/app"),
            f"v2@{DIGEST}",
            f"i:\n  repository: x/app\n  tag: v2@{DIGEST}\n",
        ),
    ],
)
def test_digest_goes_where_the_place_holds_one(
    text: str, locator: Locator, value: str, expected: str
) -> None:
    assert set_value(text, locator, value, digest_anywhere=False)[0] == expected


@pytest.mark.parametrize(
    ("text", "locator", "value", "message"),
    [
        ("tag: v1\n", Locator(key="tag"), DIGEST, f"values.yaml:1: tag holds 'v1', not a digest: {DIGEST}"),
        (
            "tag: v1\n",
            Locator(key="tag"),
            f"v2@{DIGEST}",
            "values.yaml:1: tag holds 'v1', not an image reference",
        ),
        (
            "tag: v1  # updater: a\n",
            Locator(marker="a"),
            DIGEST,
            "values.yaml:1: tag holds 'v1', not a digest",
        ),
        (
            "digest: ''\n",
            Locator(key="digest"),
            f"v2@{DIGEST}",
            "values.yaml:1: digest holds '', not an image",
        ),
        (
            "i:\n  repository: x/app\n  tag: v1\n",
            Locator(image="x/app"),
            DIGEST,
            "values.yaml:3: i.tag holds 'v1', not a",
        ),
    ],
)
def test_digest_is_refused_where_the_place_holds_a_tag(
    text: str, locator: Locator, value: str, message: str
) -> None:
    got = error(text, locator, value, digest_anywhere=False)
    assert got.startswith(message) and got.endswith(
        "fits only an image reference (--image, --marker), a digest: key or a value that already holds one; "
        "give a tag"
    )


def test_kustomization_images() -> None:
    text = (
        "images:\n- name: nginx\n  newTag: 1.1\n- name: old/app\n  newName: eu.gcr.io/p/app\n  newTag: v1\n"
    )
    assert set_value(text, Locator(image="nginx"), "1.25")[0] == text.replace("newTag: 1.1", 'newTag: "1.25"')
    assert set_value(text, Locator(image="eu.gcr.io/p/app"), "v2")[0] == text.replace(
        "newTag: v1", "newTag: v2"
    )


def test_docker_hub_names_match_their_short_form() -> None:
    text = "image: docker.io/library/nginx:1.1\n"
    assert set_value(text, Locator(image="nginx"), "v2")[0] == "image: docker.io/library/nginx:v2\n"


def test_image_not_found() -> None:
    assert error("a: 1\n", Locator(image="x/y")) == "values.yaml: no value found for image x/y"


def test_invalid_image_name() -> None:
    assert error("a: 1\n", Locator(image="Bad/Name")).startswith("--image: invalid image 'Bad/Name'")


# ---- markers -----------------------------------------------------------------------------------------


def test_updater_marker_comment() -> None:
    text = "a:\n  tag: v1 # updater: app\n  other: v1\nb: x/app:v1  # updater: app\n"
    new, changes = set_value(text, Locator(marker="app"), "v2")
    assert new == "a:\n  tag: v2 # updater: app\n  other: v1\nb: x/app:v2  # updater: app\n"
    assert [c.path for c in changes] == ["a.tag", "b"]


def test_flux_setter_comments() -> None:
    text = (
        'image: ghcr.io/x/app:v1 # {"$imagepolicy": "flux-system:app"}\n'
        'repo: ghcr.io/x/app # {"$imagepolicy": "flux-system:app:name"}\n'
        'tag: "v1" # {"$imagepolicy": "flux-system:app:tag"}\n'
    )
    expected = text.replace("app:v1", "app:v2").replace('"v1"', '"v2"')
    assert set_value(text, Locator(marker="flux-system:app"), "v2")[0] == expected
    only_tag = text.replace('"v1"', '"v2"')
    assert set_value(text, Locator(marker="flux-system:app:tag"), "v2")[0] == only_tag


def test_marked_image_without_a_tag_gets_one() -> None:
    text = 'a: ghcr.io/x/app # updater: app\nb: nginx # {"$imagepolicy": "ns:p"}\n'
    assert set_value(text, Locator(marker="app"), "v2")[0] == text.replace("app #", "app:v2 #")
    new, [change] = set_value(text, Locator(marker="ns:p"), "v2")
    assert new == text.replace("nginx #", "nginx:v2 #")
    assert (change.path, change.old, change.new) == ("b", None, "v2")
    bad = 'b: "not an image" # {"$imagepolicy": "ns:p"}\n'
    assert error(bad, Locator(marker="ns:p")) == (
        "values.yaml:1: the value marked ns:p is not an image reference: 'not an image'"
    )


def test_marker_inside_a_value_is_not_a_marker() -> None:
    assert (
        error("a: 'x # updater: app'\n", Locator(marker="app"))
        == "values.yaml: no value found for marker app"
    )


# ---- anchors and merge keys --------------------------------------------------------------------------

ANCHORS = "base:\n  tag: &t v1\nother:\n  tag: *t\nthird: *t\n"


def test_aliased_target_is_refused_naming_alias_lines() -> None:
    assert error(ANCHORS, Locator(key="base.tag")) == (
        "values.yaml:2: base.tag is shared through &t, used as an alias at lines 4, 5: "
        "edit a copy, or pass --allow-aliases to change every use"
    )


def test_allow_aliases_edits_the_anchored_value() -> None:
    new, _ = set_value(ANCHORS, Locator(key="base.tag"), "v2", allow_aliases=True)
    assert new == ANCHORS.replace("&t v1", "&t v2")


def test_path_through_an_alias_is_refused_naming_the_definition() -> None:
    assert error(ANCHORS, Locator(key="other.tag")) == (
        "values.yaml:4: other.tag is the alias *t, defined at line 2: "
        "edit it there, or pass --allow-aliases to change every use"
    )


def test_edit_inside_an_anchored_block_reports_every_path_that_reads_it() -> None:
    text = (
        "a: &x\n  img:\n    tag: v1\nb: *x\nc:\n  <<: *x\nd:\n  <<: *x\n  img: own\ne: [*x]\n"
        "s: &s v1\nt: *s\n"
    )
    new, changes = set_value(text, Locator(key="a.img.tag"), "v2")
    assert new == text.replace("tag: v1", "tag: v2")
    assert changes == [
        Change("a.img.tag", 0, 3, "v1", "v2"),
        Change("b.img.tag", 0, 4, "v1", "v2", shared_with="a.img.tag"),
        Change("c.img.tag", 0, 6, "v1", "v2", shared_with="a.img.tag"),  # d overrides img: not listed
        Change("e[0].img.tag", 0, 10, "v1", "v2", shared_with="a.img.tag"),
    ]
    _, changes = set_value(text, Locator(key="s"), "v2", allow_aliases=True)
    assert changes == [Change("s", 0, 11, "v1", "v2"), Change("t", 0, 12, "v1", "v2", shared_with="s")]


def test_value_inherited_through_merge_key_is_refused() -> None:
    text = "defaults: &d\n  tag: v1\napp:\n  <<: *d\n  name: app\n"
    assert error(text, Locator(key="app.tag")) == (
        "values.yaml:4: app.tag is inherited through '<<' from line 2: "
        "change it there, or add the key here with --create"
    )


# ---- --create ----------------------------------------------------------------------------------------


def test_create_adds_the_key_with_sibling_indentation() -> None:
    text = "image:\n    repository: x  # r\n    pullPolicy: Always\nnext: 1\n"
    new, changes = set_value(text, Locator(key="image.tag"), "1.10", create=True)
    assert new == 'image:\n    repository: x  # r\n    pullPolicy: Always\n    tag: "1.10"\nnext: 1\n'
    assert changes == [Change("image.tag", 0, 4, None, "1.10")]


def test_create_after_a_nested_block_and_without_final_newline() -> None:
    text = "image:\r\n  repository: x\r\n  extra:\r\n    a: 1"
    assert (
        edit(text, "image.tag", "v2", create=True)
        == "image:\r\n  repository: x\r\n  extra:\r\n    a: 1\r\n  tag: v2"
    )


def test_create_with_missing_parent_is_an_error() -> None:
    message = error("image:\n  repository: x\n", Locator(key="image.sub.tag"), create=True)
    assert message == "values.yaml:2: image has no key 'sub'; it has: repository"


# ---- refusals ----------------------------------------------------------------------------------------


def test_block_scalar_target_is_refused() -> None:
    assert error("tag: |\n  v1\n", Locator(key="tag")) == (
        "values.yaml:1: tag is a block scalar (|): write it as a plain value first"
    )


@pytest.mark.parametrize("value", ["v1\nevil: true", "a b", "x#y", "-v", ".x", "", "a" * 129, "v1}", "'q'"])
def test_invalid_values_are_refused_before_anything_is_read(value: str) -> None:
    with pytest.raises(YamlEditError, match="invalid value"):
        set_value("not: [valid yaml", Locator(key="tag"), value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tag:\tv1\n", "tag:\tv2\n"),
        ("a: 1\ntag: v1\t# c\n", "a: 1\ntag: v2\t# c\n"),
        ("a:\n  tag: \t'v1' \t\n  b:\t[x,\ty]\t\n", "a:\n  tag: \t'v2' \t\n  b:\t[x,\ty]\t\n"),
        ("tag:\t\t\r\nb: 1\r\n", "tag: v2\t\t\r\nb: 1\r\n"),
    ],
)
def test_tabs_as_separators_are_edited(text: str, expected: str) -> None:
    # Valid YAML that libyaml reads and ruamel's pure-Python scanner refuses: with or without the C
    # parser, the file is read with those tabs taken as the blanks they are, and edited in place.
    assert edit(text, "a.tag" if text.startswith("a:\n") else "tag", "v2") == expected


def test_file_one_reader_cannot_read_is_refused_as_a_reader_limitation() -> None:
    # A tab inside a plain value (`b\tc`): libyaml reads it, ruamel's pure-Python scanner does not.
    message = error("a: b\tc\ntag: v1\n", Locator(key="tag"))
    if has_c_parser():
        assert message == (
            "values.yaml:2: YAML 1.2 (ruamel.yaml) cannot read this file: found character '\\t' that "
            "cannot start any token at line 1, which YAML 1.1 (libyaml) reads: a limitation of one reader, "
            "not necessarily invalid YAML; every edit is verified with both, so nothing was written: "
            "write that line another way"
        )
    else:
        assert message == (
            "values.yaml:1: ruamel.yaml's pure-Python reader cannot read a tab here (found character "
            "'\\t' that cannot start any token), which YAML may allow: install ruamel.yaml.clib, or "
            "write the line without the tab"
        )


def test_empty_file_and_undefined_alias() -> None:
    assert error("# only a comment\n", Locator(key="tag")) == "values.yaml: holds no YAML document"
    assert error("tag: *x\n", Locator(key="tag")) == "values.yaml:1: alias *x is not defined"


def test_invalid_yaml() -> None:
    assert error("a: 1\nb: [x\nc: 2\n", Locator(key="a")).startswith("values.yaml:3: invalid YAML: ")


def test_missing_key_suggests_nearest_keys() -> None:
    text = "image:\n  repository: x\n  tag: v1\n  tags: []\n"
    assert error(text, Locator(key="image.tga")) == (
        "values.yaml:2: image has no key 'tga'; did you mean tag, tags? (or pass --create to add it)"
    )


def test_mapping_where_a_scalar_is_expected() -> None:
    assert error("image:\n  tag: v1\n", Locator(key="image")) == (
        "values.yaml:2: image is a mapping where a scalar is expected: give the full key path"
    )


def test_scalar_where_a_mapping_is_expected() -> None:
    assert error("image: x\n", Locator(key="image.tag")) == (
        "values.yaml:1: image is a scalar, not a mapping (key 'tag')"
    )


def test_bad_key_path() -> None:
    assert (
        error("a: 1\n", Locator(key='a."b'))
        == "invalid key path 'a.\"b': unterminated double quote at column 3"
    )


def test_same_text_that_did_not_read_as_a_string_is_quoted_and_reported_changed() -> None:
    new, [change] = set_value("tag: 1.10\n", Locator(key="tag"), "1.10")
    assert new == 'tag: "1.10"\n'
    assert change == Change("tag", 0, 1, "1.10", "1.10", retyped=True) and change.changed


def test_unchanged_value_leaves_text_identical() -> None:
    text = "tag: 'v1'  # c\n"
    new, changes = set_value(text, Locator(key="tag"), "v1")
    assert new is text
    assert changes == [Change("tag", 0, 1, "v1", "v1")] and not changes[0].changed


# ---- reading ---------------------------------------------------------------------------------------


def test_get_values() -> None:
    assert get_values(IMAGES, Locator(image="eu.gcr.io/p/app")) == [
        Found("app.image.tag", 0, 4, "v1"),
        Found("sidecar.image.tag", 0, 9, "v1"),
        Found("containers[0].image", 0, 13, "v1"),
        Found("containers[2].image", 0, 16, f"v0@{DIGEST}"),
    ]
    assert get_values("tag: ~\n", Locator(key="tag")) == [Found("tag", 0, 1, None)]


def test_validate_value() -> None:
    validate_value("v1.2_3-x", allow_digest=False)
    validate_value(DIGEST, allow_digest=True)
    validate_value(f"v1@{DIGEST}", allow_digest=True)
    with pytest.raises(YamlEditError, match="invalid value"):
        validate_value(f"v1@{DIGEST}", allow_digest=False)


# ---- verification ------------------------------------------------------------------------------------
# No input found makes a splice fail verification (the splice quotes what would not read back), so the
# comparison that guards every write is tested directly: each kind of changed stream gives a reason.

VERIFIED = "a: 1\ntag: v1\nlist: [x, y]\n"


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ("a: 1\ntag: v2\nlist: [x, y]\n", None),
        ("a: 1\ntag: 'v2'  # quoted\nlist: [x, y]\n", None),
        ("a: 2\ntag: v2\nlist: [x, y]\n", "YAML {r} reads other data than before"),
        ("a: '1'\ntag: v2\nlist: [x, y]\n", "YAML {r} reads other data than before"),
        ("a: 1\ntag: v3\nlist: [x, y]\n", "YAML {r} reads 'v3', not 'v2'"),
        ("a: 1\ntag: [v2]\nlist: [x, y]\n", "YAML {r} reads a different structure"),
        ("a: 1\ntag: v2\nlist: [x, y, z]\n", "YAML {r} reads a different structure"),
        ("a: 1\ntag: &n v2\nlist: [x, y]\n", "YAML {r} reads the target with another anchor or tag"),
        ("a: 1\ntag: !!str v2\nlist: [x, y]\n", "YAML {r} reads the target with another anchor or tag"),
        ("a: 1\ntag: v2\nlist: [x, y\n", "YAML {r} cannot read the result: "),
    ],
)
def test_verification_gives_a_reason_for_every_changed_stream(new: str, reason: str | None) -> None:
    from updater.yamledit._edit import _compare, _reading_name, _Target
    from updater.yamledit._tree import event_key, has_c_parser, parse_events

    base = [event_key(e) for e in parse_events(VERIFIED, parser="1.2")]
    target = next(i for i, e in enumerate(base) if e[-1] == "v1")
    expected: list[object] = [*base[:target], _Target(base[target], "v2"), *base[target + 1 :]]
    for reading in ("c", "1.2", "1.1") if has_c_parser() else ("1.2", "1.1"):
        got = _compare(new, reading, expected)  # type: ignore[arg-type]
        if reason is None:
            assert got is None
        else:
            assert got is not None and got.startswith(reason.format(r=_reading_name(reading))), got


def test_verification_refuses_a_plain_value_that_would_not_read_as_a_string() -> None:
    from updater.yamledit._edit import _compare, _Target
    from updater.yamledit._tree import event_key, parse_events

    base = [event_key(e) for e in parse_events("tag: v1\n", parser="1.2")]
    target = next(i for i, e in enumerate(base) if e[-1] == "v1")
    expected: list[object] = [*base[:target], _Target(base[target], "1.10"), *base[target + 1 :]]
    assert _compare("tag: 1.10\n", "1.2", expected) == "'1.10' would not read as a string"  # type: ignore[arg-type]
    assert _compare('tag: "1.10"\n', "1.2", expected) is None  # type: ignore[arg-type]
