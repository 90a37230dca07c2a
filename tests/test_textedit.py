"""Text mode of the editor: Helm templates and other files that are not YAML, edited by scanning."""

from __future__ import annotations

import pytest

from testing.helmchart import DEPLOYMENT, IMAGE, TAG
from updater.yamledit import Locator, YamlEditError, _text, edit, find

NEW = "master-202402011200"
DIGEST = "sha256:" + "a" * 64
DIGEST2 = "sha256:" + "b" * 64
SRC = "templates/deployment.yaml"


def image(text: str, value: str = NEW, repo: str = IMAGE, **options: bool) -> str:
    result = edit(text, Locator(image=repo), value, source=SRC, **options)
    assert result.mode == "text"
    return result.text


def refusal(text: str, locator: Locator, value: str = NEW, **options: bool) -> str:
    with pytest.raises(YamlEditError) as info:
        edit(text, locator, value, source=SRC, **options)
    message = info.value.message
    assert "\n" not in message and message.startswith(SRC)
    assert "fix the file first" not in message
    return message


def test_the_chart_gets_the_new_tag_and_every_other_byte_stays() -> None:
    result = edit(DEPLOYMENT, Locator(image=IMAGE), NEW, source=SRC)
    assert result.text == DEPLOYMENT.replace(f"{IMAGE}:{TAG}", f"{IMAGE}:{NEW}")
    assert "haoict/send2ereader:latest" in result.text  # inside a {{/* */}} comment: never touched
    assert result.mode == "text" and "not YAML (line 4" in result.why
    assert [(c.line, c.old, c.new, c.changed) for c in result.changes] == [
        (21, TAG, NEW, True),
        (32, TAG, NEW, True),
    ]


def test_the_same_tag_is_already_up_to_date() -> None:
    result = edit(DEPLOYMENT, Locator(image=IMAGE), TAG, source=SRC)
    assert result.text == DEPLOYMENT and not any(c.changed for c in result.changes)


@pytest.mark.parametrize("written", ["docker.io/haoict/send2ereader", "index.docker.io/haoict/send2ereader"])
def test_repository_names_are_normalised_as_in_yaml_files(written: str) -> None:
    text = DEPLOYMENT.replace(f"image: {IMAGE}:", f"image: {written}:")
    assert image(text) == text.replace(f"{TAG}", NEW)
    assert image(text, repo=f"docker.io/{IMAGE}") == text.replace(f"{TAG}", NEW)


def test_official_images_match_with_and_without_library() -> None:
    text = "{{- if .Values.x }}\n- image: nginx:1.25\n- image: 'docker.io/library/nginx:1.25'\n{{- end }}\n"
    assert image(text, "1.27", repo="nginx") == text.replace("1.25", "1.27")


def test_other_repositories_and_look_alikes_are_left_alone() -> None:
    text = (
        "{{- if .Values.x }}\n"
        "a: haoict/send2ereader-worker:1\n"
        "b: other/send2ereader:1\n"
        "c: ghcr.io/haoict/send2ereader:1\n"
        "d: https://github.com/haoict/send2ereader\n"
        "e: haoict/send2ereader:v1\n"
        "{{- end }}\n"
    )
    assert image(text) == text.replace("send2ereader:v1", f"send2ereader:{NEW}")


def test_references_anywhere_a_reference_stands() -> None:
    text = (
        "{{- range .Values.jobs }}\n"
        "args: [--image=haoict/send2ereader:v1, 'haoict/send2ereader:v1']\n"
        "FROM haoict/send2ereader:v1 AS base\n"
        "{{- end }}\n"
    )
    assert image(text) == text.replace(":v1", f":{NEW}")


def test_comments_and_actions_are_never_edited() -> None:
    text = (
        "{{- if .Values.x }}\n"
        "# image: haoict/send2ereader:old\n"
        "image: haoict/send2ereader:v1  # was haoict/send2ereader:old\n"
        '{{ .Values.image | default "haoict/send2ereader:old" }}\n'
        "{{- /* haoict/send2ereader:old\n   over lines */ -}}\n"
        '{{ "}} haoict/send2ereader:old" }}\n'
        "{{- end }}\n"
    )
    assert image(text) == text.replace(":v1 ", f":{NEW} ")


def test_digest_pinned_reference_takes_tag_at_digest() -> None:
    text = f"{{{{- if .Values.x }}}}\nimage: haoict/send2ereader:v1@{DIGEST}\n{{{{- end }}}}\n"
    assert image(text, f"{NEW}@{DIGEST2}") == text.replace(f"v1@{DIGEST}", f"{NEW}@{DIGEST2}")
    assert image(text, DIGEST2) == text.replace(f":v1@{DIGEST}", f"@{DIGEST2}")
    message = refusal(text, Locator(image=IMAGE))
    assert message.startswith(f"{SRC}:2: ") and "pins a digest" in message and "TAG@sha256" in message


def test_a_digest_can_be_pinned_where_there_was_none() -> None:
    text = "{{- if .Values.x }}\nimage: haoict/send2ereader:v1\n{{- end }}\n"
    assert image(text, f"{NEW}@{DIGEST}") == text.replace(":v1", f":{NEW}@{DIGEST}")


def test_a_tag_the_template_fills_in_comes_from_values() -> None:
    text = DEPLOYMENT.replace(f'"{IMAGE}:{TAG}"', f'"{IMAGE}:{{{{ .Values.image.tag }}}}"')
    message = refusal(text, Locator(image=IMAGE))
    assert message.startswith(f"{SRC}:32: ")
    assert "the tag comes from values: target the values file" in message
    assert "{{ .Values.image.tag }}" in message


def test_an_image_built_from_values_is_reported_with_its_line() -> None:
    built = 'image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"'
    text = DEPLOYMENT.replace(f"image: {IMAGE}:{TAG}", built).replace(f'image: "{IMAGE}:{TAG}"', "x: 1")
    message = refusal(text, Locator(image=IMAGE))
    assert (
        message.startswith(f"{SRC}:21: ") and "the tag comes from values: target the values file" in message
    )


def test_different_tags_are_refused_with_their_lines_unless_all() -> None:
    text = DEPLOYMENT.replace(f'"{IMAGE}:{TAG}"', f'"{IMAGE}:develop-202401010000"')
    message = refusal(text, Locator(image=IMAGE))
    assert f"line 21 ({TAG}), line 32 (develop-202401010000)" in message and "--all" in message
    assert image(text, all_matches=True) == DEPLOYMENT.replace(TAG, NEW)


def test_a_key_path_on_a_template_says_to_use_image_or_marker() -> None:
    message = refusal(DEPLOYMENT, Locator(key="spec.template.spec.containers[0].image"))
    assert message.startswith(f"{SRC}:4: a template, not YAML (")
    assert "--image REPO or --marker NAME" in message


def test_a_broken_yaml_file_with_a_key_path_says_so() -> None:
    with pytest.raises(YamlEditError) as info:
        edit("a: [1\nb: 2\n", Locator(key="a"), "v2", source="values.yaml")
    message = info.value.message
    assert message.startswith("values.yaml:2: invalid YAML: ") and "fix the file" in message
    assert "--image REPO or --marker NAME" in message


def test_nothing_found_says_what_was_looked_for_and_the_mode() -> None:
    message = refusal(DEPLOYMENT, Locator(image="ghcr.io/org/app"))
    assert message == (
        f"{SRC}: no reference to ghcr.io/org/app found: looked for ghcr.io/org/app:TAG and "
        "ghcr.io/org/app:TAG@sha256:… outside template actions and # comments (text mode: not YAML at line 4)"
    )


def test_an_unclosed_action_is_refused() -> None:
    message = refusal("image: haoict/send2ereader:v1\n{{- if .Values.x\n", Locator(image=IMAGE))
    assert message.startswith(f"{SRC}:2: ") and "never closed" in message


def test_document_is_refused_in_text_mode() -> None:
    message = refusal(DEPLOYMENT, Locator(image=IMAGE, document=0))
    assert "--document applies to YAML files" in message


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_endings_bom_and_missing_final_newline_are_kept(newline: str) -> None:
    text = "\ufeff" + DEPLOYMENT.replace("\n", newline).rstrip(newline)
    assert image(text) == text.replace(TAG, NEW)


def test_a_yaml_file_keeps_the_structural_editor() -> None:
    text = "image:\n  repository: haoict/send2ereader\n  tag: v1\nsidecar: haoict/send2ereader:v1\n"
    result = edit(text, Locator(image=IMAGE), NEW, source="values.yaml")
    assert result.mode == "yaml" and result.text == text.replace("v1", NEW)
    assert [c.path for c in result.changes] == ["image.tag", "sidecar"]


def test_a_template_that_parses_as_yaml_still_reports_a_tag_from_values() -> None:
    text = "name: {{ .Release.Name }}\nimage: haoict/send2ereader:{{ .Values.image.tag }}\n"
    with pytest.raises(YamlEditError) as info:
        edit(text, Locator(image=IMAGE), NEW, source=SRC)
    assert info.value.message.startswith(f"{SRC}:2: ") and "the tag comes from values" in info.value.message


def test_a_dockerfile_is_text() -> None:
    text = "FROM haoict/send2ereader:v1\nRUN true\n"
    result = edit(text, Locator(image=IMAGE), NEW, source="Dockerfile")
    assert result.mode == "text" and result.text == text.replace("v1", NEW)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("tag: v1 # updater: web", f"tag: {NEW} # updater: web"),
        ("tag: 'v1'  # updater: web", f"tag: '{NEW}'  # updater: web"),
        ('{tag: "v1"}  # updater: web', f'{{tag: "{NEW}"}}  # updater: web'),
        ("tag: v1 # updater: web", f"tag: {NEW} # updater: web"),
        ("image: haoict/send2ereader:v1 # updater: web", f"image: haoict/send2ereader:{NEW} # updater: web"),
        (
            'image: haoict/send2ereader # {"$imagepolicy": "flux:web"}',
            f'image: haoict/send2ereader:{NEW} # {{"$imagepolicy": "flux:web"}}',
        ),
        ('tag: v1 # {"$imagepolicy": "flux:web:tag"}', f'tag: {NEW} # {{"$imagepolicy": "flux:web:tag"}}'),
    ],
)
def test_markers_find_the_marked_value_as_in_yaml_files(line: str, expected: str) -> None:
    text = f"{{{{- if .Values.x }}}}\n{line}\n# tag: v0 # updater: web\n{{{{- end }}}}\n"
    marker = "flux:web" if "imagepolicy" in line else "web"
    result = edit(text, Locator(marker=marker), NEW, source=SRC)
    assert result.mode == "text" and result.text == text.replace(line, expected)
    assert [c.line for c in result.changes] == [2]


def test_a_plain_marked_tag_that_would_not_read_as_a_string_is_quoted() -> None:
    text = "{{- if .Values.x }}\ntag: v1 # updater: web\n{{- end }}\n"
    assert edit(text, Locator(marker="web"), "1.10", source=SRC).text == text.replace("v1", '"1.10"')


def test_a_marked_value_from_values_is_refused() -> None:
    text = "{{- if .Values.x }}\ntag: {{ .Values.tag }} # updater: web\n{{- end }}\n"
    message = refusal(text, Locator(marker="web"))
    assert message.startswith(f"{SRC}:2: ") and "the tag comes from values" in message


def test_a_digest_for_a_marked_plain_tag_is_refused_by_set() -> None:
    text = "{{- if .Values.x }}\ntag: v1 # updater: web\n{{- end }}\n"
    message = refusal(text, Locator(marker="web"), f"{NEW}@{DIGEST}", digest_anywhere=False)
    assert "give a tag" in message


def test_find_reads_the_tags_in_text_mode() -> None:
    looked = find(DEPLOYMENT, Locator(image=IMAGE), source=SRC)
    assert looked.mode == "text"
    assert [(f.line, f.value) for f in looked.found] == [(21, TAG), (32, TAG)]


def test_the_rescan_refuses_a_splice_that_touched_more_than_the_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    real = _text._reference_splice

    def greedy(*args: object, **kwargs: object) -> object:  # eats the newline after the tag
        splice = real(*args, **kwargs)  # type: ignore[arg-type]
        return _text._Splice(splice.start, splice.end + 1, splice.text, splice.change)

    monkeypatch.setattr(_text, "_reference_splice", greedy)
    message = refusal(DEPLOYMENT, Locator(image=IMAGE))
    assert message.startswith(f"{SRC}:21: the text edit of {IMAGE} did not verify (")
    assert "nothing was written" in message


def test_escaped_braces_defines_and_raw_strings_are_actions() -> None:
    text = (
        "{{- /* labels */}}\n"
        '{{- define "app.labels" -}}\n'
        "tier: web\n"
        "{{- end -}}\n"
        'summary: Volume {{ "{{" }} $labels.volume {{ "}}" }} image haoict/send2ereader:v1\n'
        "query: {{ `raw }} string` }}\n"
        "image: haoict/send2ereader:v1\n"
    )
    assert image(text) == text.replace(":v1", f":{NEW}")


def test_a_registry_the_template_fills_in_is_refused() -> None:
    text = "{{- if .Values.x }}\nimage: {{ .Values.registry }}/haoict/send2ereader:v1\n{{- end }}\n"
    message = refusal(text, Locator(image=IMAGE))
    assert message.startswith(f"{SRC}:2: ") and "registry or name the template fills in" in message
    assert "'{{ .Values.registry }}/haoict/send2ereader:v1'" in message


def test_a_hash_inside_quotes_is_not_a_comment() -> None:
    text = (
        "{{- if .Values.x }}\n"
        'args: ["--color", "a #fff", haoict/send2ereader:v1]\n'
        "note: 'it''s #1' # updater: web\n"
        "tag: \"v1\"  # was 'x #y' # updater: web\n"
        "{{- end }}\n"
    )
    assert image(text) == text.replace("send2ereader:v1", f"send2ereader:{NEW}")
    # The marked value is the whole quoted string; the `tag:` line's first comment is not the marker.
    marked = edit(text, Locator(marker="web"), NEW, source=SRC).text
    assert marked == text.replace("'it''s #1'", f"'{NEW}'")
