"""Editors for GitHub backend tests: pure functions of the bytes they read, like updater's own."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from updater.scm.base import PullRequestSpec, Reader

_TAG = re.compile(rb"(?m)^(\s*tag:[ \t]*)(\S+)")


def set_tag(text: bytes, tag: str) -> bytes:
    """Return a values file with its `tag:` scalar replaced, every other byte kept."""
    new, count = _TAG.subn(lambda m: m.group(1) + tag.encode(), text, count=1)
    if count != 1:
        raise ValueError("no tag: key")
    return new


def values(app: str, tag: str = "v1") -> bytes:
    return f"# {app}\nimage:\n  repository: registry.example/{app}\n  tag: {tag}  # pinned\n".encode()


def gitops_files(apps: int, env: str = "production") -> dict[str, bytes]:
    return {f"k8s/app{i:02d}/values-{env}.yaml": values(f"app{i:02d}") for i in range(apps)}


@dataclass(frozen=True)
class TagEditor:
    """Set the tag in each file; `paths` is the hint the GitHub backend uses to read them in one query."""

    tags: tuple[tuple[str, str], ...]

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(path for path, _ in self.tags)

    def __call__(self, read: Reader) -> dict[str, bytes]:
        out = {}
        for path, tag in self.tags:
            text = read(path)
            if text is None:
                raise FileNotFoundError(path)
            out[path] = set_tag(text, tag)
        return out


def bump(tags: dict[str, str]) -> TagEditor:
    return TagEditor(tuple(tags.items()))


def unhinted(editor: TagEditor) -> Callable[[Reader], dict[str, bytes]]:
    """The same edit without the paths hint (the backend must then read file by file)."""
    return lambda read: editor(read)


def pr_spec(head: str, title: str = "Bump app", **kwargs: object) -> PullRequestSpec:
    return PullRequestSpec(head=head, title=title, body=kwargs.pop("body", f"{title}\n"), **kwargs)  # type: ignore[arg-type]
