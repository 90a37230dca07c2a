"""Random Helm-like templates for the text editor's property test, with the oracle's own bookkeeping.

Each generated line knows what it is (an image line of the target repository, another image, a tag the
template fills in, an action, a comment) and where the bytes a tag edit may change stand, so the test
can compute the exact expected text without asking the editor.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

REPO = "haoict/send2ereader"
DIGESTS = ("sha256:" + "a" * 64, "sha256:" + "0123456789abcdef" * 4)
MARK = "  # updater: web"
OLD_TAGS = ("master-202401151230",) * 5 + ("develop-202401020304", "1.10")


@dataclass(frozen=True)
class Line:
    """One line without its newline; `suffix` is the span of `:TAG[@DIGEST]` on a target line."""

    text: str
    kind: str  # "target" (an image line of REPO), "tag" (a marked bare tag), "glued", "built", "other"
    suffix: tuple[int, int] | None = None
    old: str | None = None  # TAG[@DIGEST] of a target
    pinned: bool = False  # a target with a digest
    marked: bool = False  # ends with "# updater: web"


@st.composite
def target_lines(draw: st.DrawFn) -> Line:
    """An image line of REPO: quoted or not, after `image:`, in a list, or in an argument."""
    indent = " " * draw(st.integers(0, 12))
    registry = draw(st.sampled_from(["", "", "docker.io/", "index.docker.io/"]))
    tag = draw(st.sampled_from(OLD_TAGS))
    digest = draw(st.sampled_from([None] * 6 + [*DIGESTS]))
    quote = draw(st.sampled_from(["", "", '"', "'"]))
    shape = draw(st.sampled_from(["image: ", "- ", "- --image=", "value: "]))
    comment = draw(st.sampled_from(["", "", "  # keep", "  # see haoict/send2ereader-worker:1", MARK, MARK]))
    old = tag + (f"@{digest}" if digest else "")
    head = f"{indent}{shape}{quote}{registry}{REPO}"
    body = f":{old}"
    text = f"{head}{body}{quote}{comment}"
    span = (len(head), len(head) + len(body))
    return Line(text, "target", span, old, pinned=digest is not None, marked=comment == MARK)


@st.composite
def marked_tag_lines(draw: st.DrawFn) -> Line:
    """A bare tag marked for --marker: `tag: "v1"  # updater: web` (never an --image target)."""
    indent = " " * draw(st.integers(0, 12))
    quote = draw(st.sampled_from(["", '"', "'"]))
    tag = draw(st.sampled_from(OLD_TAGS))
    head = f"{indent}tag: {quote}"
    return Line(f"{head}{tag}{quote}{MARK}", "tag", (len(head), len(head) + len(tag)), tag, marked=True)


OTHER = st.sampled_from(
    [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "  name: {{ .Release.Name }}-send2ereader",
        "  labels:",
        '    {{- include "send2ereader.labels" . | nindent 4 }}',
        "  replicas: {{ .Values.replicaCount }}",
        "      {{- with .Values.resources }}",
        "          resources:",
        "            {{- toYaml . | nindent 12 }}",
        "      {{- end }}",
        "{{- if .Values.ingress.enabled }}",
        "{{ end }}",
        "{{/* pinned in values: haoict/send2ereader:never */}}",
        "{{- /* a comment over",
        "   two lines haoict/send2ereader:never */ -}}",
        '          imagePullPolicy: {{ .Values.pullPolicy | default "haoict/send2ereader:never" }}',
        '  note: {{ "}}" }} haoict/send2ereader-worker:1',
        "# image: haoict/send2ereader:commented-out",
        "          image: haoict/send2ereader-worker:1",
        "          image: other/send2ereader:1",
        "          image: ghcr.io/haoict/send2ereader:1",
        "          image: haoict/send2ereader",
        "  url: https://github.com/haoict/send2ereader",
        "",
    ]
)
GLUED = st.sampled_from(
    [
        "          image: haoict/send2ereader:{{ .Values.image.tag }}",
        '          image: "haoict/send2ereader:{{ .Values.image.tag | default .Chart.AppVersion }}"',
        "          image: haoict/send2ereader:master-{{ .Values.stamp }}",
    ]
)
BUILT = st.just('          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"')
NOT_YAML = st.sampled_from(["{{- if .Values.enabled }}", "{{- end }}", '{{- template "x" . }}'])


@st.composite
def templates(draw: st.DrawFn) -> list[Line]:
    """A list of lines: mostly template code and other images, some targets, rarely a templated tag.

    The two halves of the multi-line comment always come together, and one line that no YAML reader
    accepts is always there, so the file is read in text mode.
    """
    lines: list[Line] = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["other"] * 6 + ["target"] * 2 + ["glued", "built"]))
        if kind == "target":
            lines.append(draw(st.one_of(target_lines(), target_lines(), marked_tag_lines())))
        elif kind == "glued" and draw(st.integers(0, 3)) == 0:
            lines.append(Line(draw(GLUED), "glued"))
        elif kind == "built" and draw(st.integers(0, 3)) == 0:
            lines.append(Line(draw(BUILT), "built"))
        else:
            text = draw(OTHER)
            if text.startswith("{{- /* a comment"):
                lines.append(Line(text, "other"))
                text = "   two lines haoict/send2ereader:never */ -}}"
            elif text.startswith("   two lines"):
                continue
            lines.append(Line(text, "other"))
    lines.insert(draw(st.integers(0, len(lines))), Line(draw(NOT_YAML), "other"))
    return lines


def render(
    lines: list[Line], newline: str, final_newline: bool, *, marked: bool = False
) -> tuple[str, list[tuple[int, int]]]:
    """Return the text and the absolute span of the bytes an edit changes, line by line in order.

    Those are the image lines of REPO (their `:TAG[@DIGEST]`), or with `marked` the marked lines
    (a tag line's span is its tag inside the quotes).
    """
    text = ""
    spans: list[tuple[int, int]] = []
    for index, line in enumerate(lines):
        if line.suffix is not None and (line.marked if marked else line.kind == "target"):
            spans.append((len(text) + line.suffix[0], len(text) + line.suffix[1]))
        text += line.text
        if index < len(lines) - 1 or final_newline:
            text += newline
    return text, spans
