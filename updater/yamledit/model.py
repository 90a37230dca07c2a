"""The editor's public values: what to find (Locator), what changed (Change), what was read (Found)."""

from __future__ import annotations

from dataclasses import dataclass

from updater.infra.errors import InputError


@dataclass(frozen=True)
class Locator:
    """Where a value lives: a key path, an image repository, or a marker comment (one of them)."""

    key: str | None = None
    image: str | None = None
    marker: str | None = None
    document: int | None = None

    def describe(self) -> str:
        """Return the locator as the user wrote it, for messages."""
        if self.key is not None:
            return f"key {self.key}"
        if self.image is not None:
            return f"image {self.image}"
        return f"marker {self.marker}"


@dataclass(frozen=True)
class Change:
    """One scalar that was (or would be) edited; `old` is None for a null or missing value.

    `shared_with` names the edited key when this path only reads that scalar through an alias of a
    block around it (`b: *a` or `<<: *a`): its value changes with it, though its bytes do not.
    `retyped` marks an old value written plain that some reader does not take as a string (`1.10`
    is a float): setting the same text still changes the file, to quote it.
    """

    path: str
    document: int
    line: int
    old: str | None
    new: str
    retyped: bool = False
    shared_with: str | None = None  # set on a path that reads the edited scalar through an alias

    @property
    def changed(self) -> bool:
        return self.old != self.new or self.retyped


@dataclass(frozen=True)
class Found:
    """A located value, read without editing (status, promote, rollback)."""

    path: str
    document: int
    line: int
    value: str | None


class YamlEditError(InputError):
    """The file cannot be edited as asked; the message starts with "SOURCE:LINE: " where there is a line."""


class TooDeep(YamlEditError):
    """The file is YAML nested deeper than the editor reads: refused as such, never taken for text."""
